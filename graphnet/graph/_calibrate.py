"""Measure the constants of the plan compiler's cost model (:mod:`graphnet.graph._cost`).

Each constant is timed on the operation the plan's kernels really run, at the nominal
batch (256) and in float32, as the median of several timed calls: the cost of a numpy call,
a dense block product split into its read and multiply-add parts, a wide dense product,
a row gather, a batched (ELL) product, an elementwise operation and scipy's sparse (CSR)
product with its fixed cost. ``python benchmarks/bench_graph.py --calibrate OUT.json``
runs :func:`measure` and writes the result; ``GRAPHNET_COST_FILE=OUT.json`` makes the
compiler use it, and the figures of the reference machine are :data:`_cost.DEFAULTS`.
"""

from __future__ import annotations

import time

import numpy as np

from graphnet.graph._cost import DEFAULTS
from graphnet.graph._csr import sparse_kernels
from graphnet.rng import make_rng

__all__ = ["measure"]


def _median_ns(fn, repeats: int) -> float:
    """Median wall time of ``fn()`` in ns over ``repeats`` calls, after two warm-ups."""
    fn()
    fn()
    ts = []
    for _ in range(repeats):
        t = time.perf_counter_ns()
        fn()
        ts.append(time.perf_counter_ns() - t)
    return float(np.median(ts))


def measure(*, repeats: int = 21, batch: int = 256, seed: int = 0, quick: bool = False,
            threads: int | None = 1) -> dict:
    """Time the cost model's operations on this machine; returns the constants (ns).

    Parameters
    ----------
    repeats : int
        Timed calls per operation (the median is kept).
    batch : int
        Columns of the value arrays (the cost model's nominal batch is 256).
    seed : int
        Of the random operands.
    quick : bool
        Small operands and 3 repeats: a smoke run (the figures are rough).
    threads : int or None
        BLAS threads while timing (threadpoolctl); None leaves the pools alone. One
        thread by default: the figures of a shared machine are steadier so.

    Returns
    -------
    dict
        The keys of :data:`graphnet.graph._cost.DEFAULTS`, each a positive float.

    Examples
    --------
    >>> c = measure(quick=True, threads=1)
    >>> sorted(c) == sorted(DEFAULTS) and all(v > 0 for v in c.values())
    True
    """
    if threads is None:
        return _measure(repeats, batch, seed, quick)
    from threadpoolctl import threadpool_limits
    with threadpool_limits(threads):
        return _measure(repeats, batch, seed, quick)


def _measure(repeats, batch, seed, quick) -> dict:
    """The timings of :func:`measure`, in the thread setting it chose."""
    rng = make_rng(seed)
    r = 3 if quick else repeats
    B = 32 if quick else batch
    cols = 128 if quick else 1024
    f32 = np.float32
    H = rng.normal(size=(cols, B)).astype(f32)
    tiny = np.ones(1, f32)
    call = _median_ns(lambda: np.multiply(tiny, tiny, out=tiny), r * 20) or 1.0

    def block(m):                                  # (m, cols) @ (cols, B), as a range level
        W = rng.normal(size=(m, cols)).astype(f32)
        out = np.empty((m, B), f32)
        return max(_median_ns(lambda: np.matmul(W, H, out=out), r) - call, 1.0)

    # t(m) = cols B (read + m mm): a least-squares line through blocks of 1 .. 64 rows
    ms = np.array([1, 2, 4, 8, 16, 32, 64])
    ts = np.array([block(int(m)) for m in ms]) / (cols * B)
    mm, read = np.polyfit(ms, ts, 1)
    m_hi = 64
    D = rng.normal(size=(4 * m_hi, B)).astype(f32)
    G = np.empty((4 * m_hi, cols), f32)
    wide = _median_ns(lambda: np.matmul(D, H.T, out=G), r) - call
    idx = rng.integers(0, cols, size=cols)
    gather = (_median_ns(lambda: H[idx], r) - call) / (cols * B)
    k, d = 64, 8
    w3 = rng.normal(size=(k, 1, d)).astype(f32)
    g3 = rng.normal(size=(k, d, B)).astype(f32)
    o3 = np.empty((k, 1, B), f32)
    bmm = (_median_ns(lambda: np.matmul(w3, g3, out=o3), r) - call) / (k * d * B)
    ew = (_median_ns(lambda: np.multiply(H, H, out=G.reshape(-1)[:cols * B].reshape(cols, B)),
                     r) - call) / (cols * B)
    csr_mv = sparse_kernels()[0]
    mask = rng.random((m_hi, cols)) < 0.15
    indptr = np.concatenate([[0], np.cumsum(mask.sum(1))]).astype(np.int32)
    indices = np.nonzero(mask)[1].astype(np.int32)
    data = rng.normal(size=indices.size).astype(f32)
    out = np.zeros((m_hi, B), f32)
    t_csr = _median_ns(lambda: csr_mv(m_hi, cols, B, indptr, indices, data, H, out), r)
    one = np.zeros((1, B), f32)
    ip1, ix1, d1 = np.array([0, 1], np.int32), np.array([0], np.int32), np.ones(1, f32)
    csr_call = _median_ns(lambda: csr_mv(1, cols, B, ip1, ix1, d1, H, one), r * 20)
    csr = max(t_csr - csr_call, 1.0) / (indices.size * B)
    measured = {"call": call, "mm": mm, "read": read,
                "mm_wide": wide / (4 * m_hi * cols * B), "gather": gather, "bmm": bmm,
                "ew": ew, "csr": csr, "csr_call": csr_call}
    floor = 1e-4                                   # a timer too coarse never gives 0
    return {key: round(max(float(measured[key]), floor), 5) for key in DEFAULTS}
