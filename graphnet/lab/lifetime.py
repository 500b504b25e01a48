"""Process lifetime of a run: workers die with their parent, SIGTERM ends a run cleanly.

A worker of an embedded cluster must not outlive the run that started it (it would hold
memory, CPU and the terminal's pipes). Each watches its parent, the client, from a daemon
thread (:func:`watch_parent`). The client turns SIGTERM into :class:`Terminated` (a
``KeyboardInterrupt``) for the length of the run, so the same cleanup as Ctrl-C runs: the
engine's tasks are cancelled and its cluster closed, the completed rounds merged, the run
resumable.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from contextlib import contextmanager

__all__ = ["Terminated", "terminate_on_sigterm", "watch_parent"]

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

    A daemon thread checks every ``interval`` seconds that the parent is still
    ``parent_pid`` and calls ``os._exit`` when it is not (an orphan is adopted by another
    process). The engine installs it in the worker processes of an embedded Dask cluster
    (:mod:`graphnet.lab.engine`), whose parent is the client: a client killed with SIGKILL
    leaves no worker behind for longer than ``interval``.

    Examples
    --------
    >>> watch_parent(os.getppid(), interval=60)   # the parent is alive: nothing happens
    """
    if os.getppid() != parent_pid:  # died already
        os._exit(1)

    def watch():
        while True:
            time.sleep(interval)
            if os.getppid() != parent_pid:
                os._exit(1)

    threading.Thread(target=watch, name="graphnet-parent-watch", daemon=True).start()
