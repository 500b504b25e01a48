"""How many BLAS threads a computation should use, and the context that applies it.

A second BLAS thread pays only on large matrix products. On small ones (every model of
graphnet's quick benchmarks) a 2-thread call gains little on an idle machine and loses a
lot on a busy one: each call waits for a core that another process holds. Measured on the
2-core reference machine (OpenBLAS 0.3, float64): a digits CNN epoch, whose largest product
is about 2e6 flops, took 32-37 ms idle with either 1 or 2 threads, but beside one busy
process 123-163 ms with 2 threads against 34-40 ms with 1. With other work on the machine
(load 5-6), MLP epochs whose largest product is 2.6e7 or 4.1e8 flops were 1.3x and 1.5x
slower on 2 threads, 8.2e8 even, and 1.6e9-6.6e9 flops 1.3-1.4x faster. Hence
:data:`CROSSOVER_FLOPS`.

The thread count can change the last bits of a large product (OpenBLAS partitions it
differently), so the choice depends only on the work's size and the cores this process
may use, never on the machine's load: the same command on the same machine gives the same
bits. ``graphnet run`` keeps every job on one thread whatever the size (results must not
depend on ``--workers``).
"""

from __future__ import annotations

import math
import os
from contextlib import nullcontext

from graphnet.errors import InputError

__all__ = ["CROSSOVER_FLOPS", "available_cores", "blas_threads", "model_flops", "limit_blas",
           "blas_thread_count"]

#: Matrix products below this many flops (2 m k n) run on one BLAS thread.
CROSSOVER_FLOPS = 1e9


def available_cores() -> int:
    """The number of cores this process may run on (its CPU affinity where known).

    Examples
    --------
    >>> available_cores() >= 1
    True
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


def blas_threads(flops, *, cores=None) -> int:
    """BLAS threads for matrix products of ``flops`` floating point operations each.

    Parameters
    ----------
    flops : float
        The largest matrix product of the work, ``2 m k n`` (see :func:`model_flops`).
    cores : int, optional
        Default :func:`available_cores`.

    Returns
    -------
    int
        1 below :data:`CROSSOVER_FLOPS`, else ``min(2, cores)``; never decreasing in ``flops``.

    Raises
    ------
    InputError
        ``flops`` not a finite number >= 0, or ``cores`` not an int >= 1.

    Examples
    --------
    >>> blas_threads(2e6, cores=2), blas_threads(5e9, cores=2), blas_threads(5e9, cores=1)
    (1, 2, 1)
    """
    if isinstance(flops, bool) or not isinstance(flops, (int, float)) or not (
            math.isfinite(flops) and flops >= 0):
        raise InputError(f"blas_threads: flops must be a finite number >= 0, got {flops!r}")
    if cores is None:
        cores = available_cores()
    if isinstance(cores, bool) or not isinstance(cores, int) or cores < 1:
        raise InputError(f"blas_threads: cores must be an int >= 1, got {cores!r}")
    return 1 if flops < CROSSOVER_FLOPS else min(2, cores)


def model_flops(model, input_shape, batch_size) -> int:
    """The largest matrix product of one training step of ``model``, in flops.

    Each layer with parameters is taken as one product of its weights with the batch, at
    every spatial position of its output (a convolution by im2col): ``2 * batch * n_params
    * positions``. Layers without ``output_shape`` end the walk (their size is unknown).

    Parameters
    ----------
    model : Sequential
        Anything with ``layers`` whose items have ``n_params`` and ``output_shape``.
    input_shape : tuple of int
        One sample's shape (no batch axis).
    batch_size : int

    Returns
    -------
    int

    Examples
    --------
    >>> from graphnet.models import build
    >>> model_flops(build("mlp", (64,), 10), (64,), 32)  # Dense 64 -> 64: 2 * 32 * 4160
    266240
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise InputError(f"model_flops: batch_size must be an int >= 1, got {batch_size!r}")
    shape, largest = tuple(input_shape), 0
    for layer in getattr(model, "layers", ()):
        if not hasattr(layer, "output_shape"):
            break
        shape = tuple(layer.output_shape(shape))
        positions = math.prod(shape[1:]) if len(shape) > 1 else 1  # (c, h, w): h * w
        largest = max(largest, 2 * batch_size * int(layer.n_params) * positions)
    return largest


def limit_blas(threads: int):
    """A context that runs BLAS (and OpenMP) on ``threads`` threads (threadpoolctl).

    Without threadpoolctl (scikit-learn brings it) the context does nothing.

    Examples
    --------
    >>> with limit_blas(1):
    ...     blas_thread_count() in (None, 1)
    True
    """
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise InputError(f"limit_blas: threads must be an int >= 1, got {threads!r}")
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - scikit-learn brings it
        return nullcontext()
    return threadpool_limits(limits=threads)


def blas_thread_count() -> int | None:
    """The threads the loaded BLAS libraries use now (the largest); ``None`` if unknown.

    Examples
    --------
    >>> n = blas_thread_count()
    >>> n is None or n >= 1
    True
    """
    try:
        from threadpoolctl import threadpool_info
    except ImportError:  # pragma: no cover
        return None
    counts = [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]
    return max(counts) if counts else None
