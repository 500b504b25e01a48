"""The engine that runs rounds: in this process, or on Dask distributed.

A run's work is a set of round tasks (:func:`graphnet.lab.jobs.run_round`): pure functions
of a job, a round and the last round's carry. The client (:mod:`graphnet.lab.runner`)
submits each job's next round when its last one is back, and writes every result itself;
an engine only runs tasks:

:class:`LocalEngine` (``--workers 1``)
    Runs each task in this process when asked for results, the highest priority first; no
    cluster at all.
:class:`DaskEngine` (``--workers K`` with K > 1, or ``--scheduler ADDRESS``)
    Submits the tasks to Dask distributed: an embedded ``LocalCluster`` of K single-threaded
    worker processes on 127.0.0.1 (closed with the run), or a running cluster started with
    ``dask scheduler`` and ``dask worker`` (``--nthreads 1`` is advised; a task limits BLAS to
    one thread either way). A worker that dies mid-task (killed, out of memory) loses only
    that round: the scheduler runs it again on another worker from the same carry, and the
    result is the same bits. A task that has killed more workers than Dask's
    ``distributed.scheduler.allowed-failures`` (3) fails the run with a message naming the
    job and round; ``--resume`` continues from the rounds written.

Progress: a task reports its start and every epoch (:meth:`distributed.Worker.log_event` on
the topic :data:`TOPIC`, tagged with the engine's token so runs sharing a scheduler do not
mix), and its worker's address comes back with its result.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import queue
import threading
import time
import uuid

from graphnet.errors import GraphnetError, InputError
from graphnet.lab.jobs import run_round

__all__ = ["LocalEngine", "DaskEngine", "TaskFailed", "TOPIC", "open_engine"]

#: The Dask event topic of round progress.
TOPIC = "graphnet-progress"


def _connect_timeout() -> float:
    """Seconds to reach an external scheduler and see a worker: ``GRAPHNET_CONNECT_TIMEOUT``,
    default 10."""
    import os

    try:
        return max(0.1, float(os.environ.get("GRAPHNET_CONNECT_TIMEOUT", "10")))
    except ValueError:
        return 10.0


class TaskFailed(GraphnetError, RuntimeError):
    """A round was lost with the workers that ran it (killed, out of memory)."""


class LocalEngine:
    """Round tasks run in this process, one at a time, the highest priority first.

    Parameters
    ----------
    report : callable, optional
        ``report(ident, kind, data)`` for the tasks' progress events.

    Examples
    --------
    >>> engine = LocalEngine()
    >>> a = engine.submit("a", lambda: 1, priority=0)
    >>> b = engine.submit("b", lambda: 2, priority=5)
    >>> [(ident, value) for ident, value, error in engine.wait()]  # the higher priority first
    [('b', 2)]
    """

    name = "in-process"

    def __init__(self, report=None):
        self.report = report or (lambda ident, kind, data: None)
        self._heap: list = []
        self._order = itertools.count()

    def submit(self, ident, fn, *args, priority=0):
        """Queue ``fn(*args)`` under ``ident``."""
        heapq.heappush(self._heap, (-priority, next(self._order), ident, fn, args))
        return ident

    def submit_round(self, ident, job, r, carry, priority=0):
        """Queue round ``r`` of ``job`` (:func:`graphnet.lab.jobs.run_round`)."""

        def report(kind, key, **data):
            self.report(ident, kind, data)

        def task():
            report("start", job.key, round=r, worker="local")
            return run_round(job, r, carry, report)

        return self.submit(ident, task, priority=priority)

    @property
    def pending(self) -> int:
        """Tasks not yet returned."""
        return len(self._heap)

    def wait(self, timeout=None) -> list:
        """Run the next task: ``[(ident, result, error)]`` (empty when none is queued)."""
        if not self._heap:
            return []
        _, _, ident, fn, args = heapq.heappop(self._heap)
        try:
            return [(ident, fn(*args), None)]
        except Exception as exc:  # the client reports it and cancels the rest
            return [(ident, None, exc)]

    def events(self) -> list:
        """Progress events arrive through ``report`` directly: none are queued."""
        return []

    def cancel(self) -> None:
        """Forget the queued tasks."""
        self._heap.clear()

    def close(self) -> None:
        self.cancel()


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters
_malloc_tuned = False


def _tune_malloc() -> None:
    """Let numpy's temporaries come from the heap again in a Dask worker process.

    A Dask nanny starts its workers with ``MALLOC_TRIM_THRESHOLD_=65536``, which turns off
    glibc's dynamic mmap threshold: every array over 128 KiB is then a fresh ``mmap`` and
    its pages are faulted in anew, which made training 3-5x slower in a worker than in the
    client (a digits CNN round: 1.5 s against 0.4 s). Once per process, this sets the mmap
    threshold to 32 MiB and the trim threshold to 128 MiB (``mallopt``); elsewhere than glibc
    it does nothing.
    """
    global _malloc_tuned
    if _malloc_tuned:
        return
    _malloc_tuned = True
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, 32 << 20)
        libc.mallopt(_M_TRIM_THRESHOLD, 128 << 20)
    except (OSError, AttributeError):
        pass


def _call(fn, *args):
    """A task on a Dask worker: ``fn(*args)``, with the worker's malloc tuned first."""
    _tune_malloc()
    return fn(*args)


def _dask_task(token: str, ident: str, job, r: int, carry):
    """A round on a Dask worker: progress as events, the worker's address in the result."""
    from distributed import get_worker

    _tune_malloc()
    worker = get_worker()
    address = worker.address

    def report(kind, key, **data):
        try:
            worker.log_event(TOPIC, {"token": token, "ident": ident, "kind": kind,
                                     "worker": address, **data})
        except Exception:  # progress is best effort: never fail a round for it
            pass

    report("start", job.key, round=r)
    return run_round(job, r, carry, report, worker=address)


def _watch_client(pid: int):
    """A Dask worker plugin: the worker process exits when the client that started it dies.

    Applied to the workers of an embedded cluster only (their parent is the client); SIGINT
    is ignored there (Ctrl-C reaches the whole process group: the client stops them).
    """
    from distributed.diagnostics.plugin import WorkerPlugin

    class WatchClient(WorkerPlugin):
        name = "graphnet-watch-client"

        def setup(self, worker=None):
            import os
            import signal

            from graphnet.lab.lifetime import watch_parent

            if os.getppid() == pid:
                try:
                    signal.signal(signal.SIGINT, signal.SIG_IGN)
                except ValueError:  # not the main thread
                    pass
                watch_parent(pid, interval=0.25)

    return WatchClient()


def _worker_version():
    import graphnet
    return graphnet.__version__


class DaskEngine:
    """Round tasks on Dask distributed: an embedded LocalCluster, or a running scheduler.

    Parameters
    ----------
    workers : int, optional
        Start an embedded ``LocalCluster`` of this many single-threaded worker processes.
    scheduler : str, optional
        Instead, the address of a running scheduler (``tcp://host:8786``).
    report : callable, optional
        ``report(ident, kind, data)`` for progress events (called from :meth:`events`).

    Raises
    ------
    InputError
        The scheduler cannot be reached, has no worker within the timeout, or its workers
        run another graphnet version (named).
    """

    name = "dask"

    def __init__(self, *, workers=None, scheduler=None, report=None):
        from distributed import Client, LocalCluster

        self.report = report or (lambda ident, kind, data: None)
        self.token = uuid.uuid4().hex
        self._events: queue.Queue = queue.Queue()
        self._futures: dict = {}  # future -> ident
        self._ready = threading.Event()  # set when a future finishes
        self.cluster = None
        if scheduler is not None:
            self.name = f"dask scheduler {scheduler}"
            try:
                self.client = Client(scheduler, timeout=_connect_timeout(),
                                     set_as_default=False)
            except (OSError, TimeoutError) as exc:
                raise InputError(f"run: cannot reach the Dask scheduler at {scheduler!r}: "
                                 f"{exc}") from None
            self._check_workers(scheduler)
        else:
            self.name = f"{workers} Dask workers (LocalCluster)"
            self.cluster = LocalCluster(n_workers=workers, threads_per_worker=1,
                                        processes=True, host="127.0.0.1",
                                        dashboard_address="127.0.0.1:0",
                                        silence_logs=logging.ERROR)
            self.client = Client(self.cluster, set_as_default=False)
            import os

            self.client.register_plugin(_watch_client(os.getpid()))
        self.client.subscribe_topic(TOPIC, self._on_event)

    def _check_workers(self, scheduler):
        try:
            self.client.wait_for_workers(1, timeout=_connect_timeout())
        except TimeoutError:
            self.close()
            raise InputError(f"run: the Dask scheduler at {scheduler!r} has no worker "
                             f"(start one with: dask worker {scheduler} --nthreads 1)") from None
        import graphnet

        versions = self.client.run(_worker_version)
        other = {w: v for w, v in versions.items() if v != graphnet.__version__}
        if other:
            self.close()
            named = ", ".join(f"{w} has {v}" for w, v in sorted(other.items()))
            raise InputError(f"run: the Dask workers must run graphnet "
                             f"{graphnet.__version__} like this client: {named}")

    def _on_event(self, event):
        _, msg = event
        if isinstance(msg, dict) and msg.get("token") == self.token:
            self._events.put(msg)

    def submit_round(self, ident, job, r, carry, priority=0):
        """Submit round ``r`` of ``job``; higher ``priority`` starts first."""
        return self._track(ident, self.client.submit(
            _dask_task, self.token, ident, job, r, carry,
            key=f"graphnet-round-{self.token[:8]}-{ident}-r{r}", priority=priority,
            pure=False))

    def submit(self, ident, fn, *args, priority=0):
        """Submit ``fn(*args)`` under ``ident`` (a module-level function the workers can
        import); its result comes back from :meth:`wait`. A task killed with its worker is
        run again on another, so ``fn`` must be a pure function of its arguments."""
        return self._track(ident, self.client.submit(
            _call, fn, *args, key=f"graphnet-task-{self.token[:8]}-{ident}",
            priority=priority, pure=False))

    def _track(self, ident, future):
        self._futures[future] = ident
        future.add_done_callback(lambda _: self._ready.set())
        return future

    @property
    def pending(self) -> int:
        return len(self._futures)

    def wait(self, timeout=0.1) -> list:
        """The tasks that finished within ``timeout`` s: ``[(ident, result, error)]``."""
        if not self._futures:
            return []
        self._ready.clear()
        done = [f for f in self._futures if f.done()]
        if not done:
            self._ready.wait(timeout)
            done = [f for f in self._futures if f.done()]
        out = []
        for future in done:
            ident = self._futures.pop(future)
            if future.status == "finished":
                out.append((ident, future.result(), None))
            else:
                out.append((ident, None, self._error(future)))
            future.release()
        return out

    @staticmethod
    def _error(future):
        from distributed.scheduler import KilledWorker

        try:
            exc = future.exception()
        except Exception as other:  # cancelled
            return TaskFailed(f"the task was cancelled ({type(other).__name__})")
        if isinstance(exc, KilledWorker):
            return TaskFailed("the task was lost with every worker that ran it (killed, or out "
                              "of memory; Dask's allowed-failures reached)")
        return exc

    def events(self) -> list:
        """Progress events that arrived since the last call, reported as well."""
        out = []
        while True:
            try:
                msg = self._events.get_nowait()
            except queue.Empty:
                return out
            out.append(msg)
            data = {k: v for k, v in msg.items() if k not in ("token", "ident", "kind")}
            self.report(msg["ident"], msg["kind"], data)

    def cancel(self) -> None:
        """Cancel every task not yet returned."""
        if self._futures:
            try:
                self.client.cancel(list(self._futures), force=True)
            except Exception:
                pass
        self._futures.clear()

    def close(self) -> None:
        """Cancel what is left, disconnect, and stop an embedded cluster's workers."""
        self.cancel()
        try:
            self.client.unsubscribe_topic(TOPIC)
        except Exception:
            pass
        started = time.monotonic()
        try:
            self.client.close(timeout=5)
        except Exception:
            pass
        if self.cluster is not None:
            try:
                self.cluster.close(timeout=max(1.0, 10 - (time.monotonic() - started)))
            except Exception:
                pass


def open_engine(*, workers: int = 1, scheduler: str | None = None, report=None):
    """The engine for ``--workers`` / ``--scheduler``.

    Parameters
    ----------
    workers : int
        1: :class:`LocalEngine`; K > 1: :class:`DaskEngine` with an embedded cluster.
    scheduler : str, optional
        A running scheduler's address (``tcp://host:port``); ``workers`` is then ignored.
    report : callable, optional

    Examples
    --------
    >>> open_engine(workers=1).name
    'in-process'
    >>> open_engine(scheduler="")
    Traceback (most recent call last):
    ...
    graphnet.errors.InputError: run: --scheduler must be an address like tcp://10.0.0.5:8786, got ''
    """
    if scheduler is not None:
        if not isinstance(scheduler, str) or not scheduler.strip() or " " in scheduler.strip():
            raise InputError(f"run: --scheduler must be an address like tcp://10.0.0.5:8786, "
                             f"got {scheduler!r}")
        return DaskEngine(scheduler=scheduler.strip(), report=report)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InputError(f"run: workers must be an int >= 1, got {workers!r}")
    if workers == 1:
        return LocalEngine(report)
    return DaskEngine(workers=workers, report=report)
