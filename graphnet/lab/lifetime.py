"""Process lifetime of a run: workers die with their parent, SIGTERM ends a run cleanly.

A pool worker must not outlive the run that started it (it would keep writing into the
run directory and hold the terminal's pipes). Each worker asks the kernel to kill it when
its parent dies (Linux ``prctl(PR_SET_PDEATHSIG, SIGKILL)``) and, everywhere, watches its
parent pid from a daemon thread. The parent turns SIGTERM into :class:`Terminated` (a
``KeyboardInterrupt``) for the length of the run, so the same cleanup as Ctrl-C runs: the
pool is shut down, its workers terminated, the completed rounds merged, the run resumable.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from contextlib import contextmanager

__all__ = ["Terminated", "terminate_on_sigterm", "watch_parent", "pool_processes", "stop_processes"]

_PR_SET_PDEATHSIG = 1


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived during a run (a ``KeyboardInterrupt``, so Ctrl-C's cleanup runs)."""


def _raise_terminated(signum, frame):
    raise Terminated(f"signal {signum}")


@contextmanager
def terminate_on_sigterm():
    """Within the block, SIGTERM raises :class:`Terminated` (main thread only; else a no-op).

    Examples
    --------
    >>> with terminate_on_sigterm():
    ...     try:
    ...         os.kill(os.getpid(), signal.SIGTERM)
    ...         time.sleep(5)
    ...     except Terminated:
    ...         print("terminated")
    terminated
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def watch_parent(parent_pid: int, interval: float = 0.5) -> None:
    """Make this process end when ``parent_pid`` (its parent) dies.

    Linux: the kernel sends SIGKILL at the parent's death (``PR_SET_PDEATHSIG``). Any
    system: a daemon thread checks every ``interval`` seconds that the parent is still
    ``parent_pid`` and calls ``os._exit`` when it is not (an orphan is adopted by another
    process). Call it in a worker's initializer; SIGTERM gets its default action back
    (a forked worker inherits the parent's handler) and SIGINT is ignored (Ctrl-C reaches
    the whole process group; the parent stops the workers itself).

    Examples
    --------
    >>> watch_parent(os.getppid(), interval=60)   # the parent is alive: nothing happens
    """
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError, ValueError):  # not Linux: the thread below suffices
        pass
    if os.getppid() != parent_pid:  # died before prctl took effect
        os._exit(1)

    def watch():
        while True:
            time.sleep(interval)
            if os.getppid() != parent_pid:
                os._exit(1)

    threading.Thread(target=watch, name="graphnet-parent-watch", daemon=True).start()


def pool_processes(pool) -> list:
    """A ProcessPoolExecutor's workers, with any started but not yet recorded by the pool.

    Ctrl-C can land inside ``submit`` between a worker's start and its record; that worker
    is still one of this process's children, and it must be stopped with the others.
    """
    return list({*(pool._processes or {}).values(), *multiprocessing.active_children()})


def stop_processes(processes, timeout: float = 5.0) -> None:
    """Terminate processes (``multiprocessing.Process``), then kill any still alive.

    Examples
    --------
    >>> stop_processes([])
    """
    processes = [p for p in processes if p.is_alive()]
    for p in processes:
        p.terminate()
    deadline = time.monotonic() + timeout
    for p in processes:
        p.join(max(0.0, deadline - time.monotonic()))
    for p in processes:
        if p.is_alive():
            p.kill()
            p.join(1.0)
