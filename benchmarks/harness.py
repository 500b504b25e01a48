"""The timing harness shared by ``bench_core.py`` and ``bench_graph.py``.

Threads, background load, timed loops, the torch worker process, JSON helpers. numpy is
*not* imported at the top of this module: a script imports it, sets the BLAS thread
variables (:func:`set_thread_env`), and only then imports numpy (BLAS reads them once,
when numpy loads). The functions that need numpy import it themselves.

The torch worker: the parent (:func:`run_worker`) writes arrays and a JSON ``config`` to
IN and runs ``python <script> --threads N --torch-worker IN OUT``; the child reads them
(:func:`read_worker_input`), imports torch (:func:`import_torch`; exit status
:data:`NO_TORCH` when it cannot) and writes arrays and a JSON ``timing`` to OUT
(:func:`write_worker_output`).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

__all__ = [
    "DEFAULT_THREADS",
    "THREAD_VARS",
    "BUSY",
    "RETRIES",
    "NO_TORCH",
    "threads_from_argv",
    "set_thread_env",
    "thread_limit",
    "wait_for_idle",
    "warm_up",
    "timed_calls",
    "timed_loop",
    "least_disturbed",
    "torch_available",
    "import_torch",
    "read_worker_input",
    "write_worker_output",
    "run_worker",
    "environment",
    "json_default",
    "add_common_options",
    "check_counts",
]

DEFAULT_THREADS = 2
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
BUSY = 0.25       # other processes' CPUs above which a timed loop counts as disturbed
RETRIES = 3       # with wait_idle, a disturbed loop is re-timed up to this many more times
NO_TORCH = 3      # the torch worker's exit status when torch cannot be imported


# ----------------------------------------------------------------------------- threads

def threads_from_argv(argv) -> int:
    """``--threads N`` read from the raw argv, before argparse and before numpy loads.

    Parameters
    ----------
    argv : list of str
        The arguments after the program name.

    Returns
    -------
    int
        N (at least 1), or :data:`DEFAULT_THREADS` when absent or not an integer
        (argparse reports a bad value later).

    Examples
    --------
    >>> threads_from_argv(["--quick", "--threads", "4"]), threads_from_argv(["--threads=0"])
    (4, 1)
    >>> threads_from_argv(["--threads", "x"]) == DEFAULT_THREADS
    True
    """
    for k, arg in enumerate(argv):
        try:
            if arg == "--threads" and k + 1 < len(argv):
                return max(1, int(argv[k + 1]))
            if arg.startswith("--threads="):
                return max(1, int(arg.split("=", 1)[1]))
        except ValueError:
            return DEFAULT_THREADS  # argparse reports the bad value later
    return DEFAULT_THREADS


def set_thread_env(argv, environ=None) -> int:
    """Set every variable of :data:`THREAD_VARS` to ``--threads`` from ``argv``.

    Call it before numpy is imported: BLAS reads these variables once, when it loads.

    Parameters
    ----------
    argv : list of str
    environ : dict, optional
        Where to set them (default ``os.environ``).

    Returns
    -------
    int
        The thread count set.

    Examples
    --------
    >>> env = {}
    >>> set_thread_env(["--threads", "3"], env), env["OMP_NUM_THREADS"]
    (3, '3')
    """
    environ = os.environ if environ is None else environ
    n = threads_from_argv(argv)
    for var in THREAD_VARS:
        environ[var] = str(n)
    return n


@contextlib.contextmanager
def thread_limit(threads):
    """Limit the BLAS/OpenMP pools of this process with threadpoolctl, if installed.

    Parameters
    ----------
    threads : int or None
        None: no limit.

    Examples
    --------
    >>> with thread_limit(1):
    ...     n = sum(range(3))
    >>> n
    3
    """
    if threads is None:
        yield
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:   # the environment variables set at start-up are then all we have
        yield
        return
    with threadpool_limits(limits=int(threads)):
        yield


# ------------------------------------------------------------------- background load

def _proc_stat():
    """``(busy, steal)`` CPU seconds of the whole machine from /proc/stat, or None."""
    try:
        with open("/proc/stat") as fh:
            fields = fh.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu":
        return None
    v = [int(f) for f in fields[1:]]
    hz = os.sysconf("SC_CLK_TCK")
    busy = v[0] + v[1] + v[2] + v[5] + v[6]       # user nice system irq softirq
    steal = v[7] if len(v) > 7 else 0
    return busy / hz, steal / hz


def _own_cpu() -> float:
    """CPU seconds used by this process and its waited-for children."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def wait_for_idle(max_wait, *, threshold=0.15, window=0.5):
    """Sleep until other processes use less than ``threshold`` CPUs over ``window`` seconds.

    Parameters
    ----------
    max_wait : float
        Give up after this many seconds.
    threshold : float
    window : float

    Returns
    -------
    (float, float or None)
        Seconds waited and the last load seen (``(0.0, None)`` without /proc/stat).

    Examples
    --------
    >>> waited, load = wait_for_idle(0.0, window=0.01)
    >>> waited < 1.0
    True
    """
    start = time.perf_counter()
    load = None
    while True:
        s0, o0, w0 = _proc_stat(), _own_cpu(), time.perf_counter()
        if s0 is None:
            return 0.0, None
        time.sleep(window)
        s1, o1, w1 = _proc_stat(), _own_cpu(), time.perf_counter()
        load = max(0.0, (s1[0] - s0[0]) - (o1 - o0)) / (w1 - w0)
        if load < threshold or w1 - start >= max_wait:
            return w1 - start, load


# -------------------------------------------------------------------------- timed loops

def warm_up(fn, calls, seconds=0.0) -> int:
    """Untimed ``fn()`` calls: at least ``calls``, and when ``calls`` > 0 at least ``seconds``.

    Returns
    -------
    int
        The number of calls made.

    Examples
    --------
    >>> warm_up(lambda: None, 3), warm_up(lambda: None, 0, 1.0)
    (3, 0)
    """
    t_end = time.perf_counter() + seconds
    k = 0
    while k < calls or (calls and time.perf_counter() < t_end):
        fn()
        k += 1
    return k


def timed_calls(fn, n):
    """``n`` calls of ``fn()``, each timed by ``time.perf_counter``, garbage collector off.

    Returns
    -------
    seconds : list of float
        One time per call.
    other : float or None
        CPU seconds that *other* processes used meanwhile (None without /proc/stat).
    steal : float or None
        Hypervisor steal meanwhile, in CPU seconds.
    wall : float
        Wall-clock seconds of the whole loop.

    Examples
    --------
    >>> seconds, other, steal, wall = timed_calls(lambda: None, 3)
    >>> len(seconds), sum(seconds) <= wall
    (3, True)
    """
    times = []
    gc_was_on = gc.isenabled()
    gc.collect()
    gc.disable()
    stat0, own0, wall0 = _proc_stat(), _own_cpu(), time.perf_counter()
    try:
        for _ in range(n):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
    finally:
        if gc_was_on:
            gc.enable()
    stat1, own1, wall1 = _proc_stat(), _own_cpu(), time.perf_counter()
    other = steal = None
    if stat0 is not None and stat1 is not None:
        other = max(0.0, (stat1[0] - stat0[0]) - (own1 - own0))
        steal = stat1[1] - stat0[1]
    return times, other, steal, wall1 - wall0


def timed_loop(fn, warmup, repeats, threads, *, warm_s=0.0) -> dict:
    """One warm-up (:func:`warm_up`) plus one timed loop (:func:`timed_calls`).

    Parameters
    ----------
    fn : callable
    warmup : int
        Untimed calls; with ``warm_s`` > 0 and ``warmup`` > 0 they go on for ``warm_s``
        seconds at least.
    repeats : int
        Timed calls.
    threads : int or None
        Limit of the BLAS pools while warming up and timing (:func:`thread_limit`).

    Returns
    -------
    dict
        ``ms_median``, ``ms_min``, ``ms_all`` (list), ``repeats``, ``warmup``,
        ``bg_load`` (CPUs' worth of time other processes used meanwhile; None off Linux)
        and ``steal`` (likewise for hypervisor steal).

    Examples
    --------
    >>> r = timed_loop(lambda: None, 1, 3, None)
    >>> len(r["ms_all"]), r["ms_min"] <= r["ms_median"]
    (3, True)
    """
    import numpy as np

    with thread_limit(threads):
        warm_up(fn, warmup, warm_s)
        times, other, steal, wall = timed_calls(fn, repeats)
    bg = st = None
    if other is not None and wall > 0:
        bg, st = other / wall, steal / wall
    ms = [1e3 * s for s in times]
    return {"ms_median": float(np.median(ms)), "ms_min": float(min(ms)), "ms_all": ms,
            "repeats": repeats, "warmup": warmup, "bg_load": bg, "steal": st}


def least_disturbed(run_once, *, wait_idle=0.0, wait=wait_for_idle):
    """Run ``run_once()`` once, or, with ``wait_idle`` > 0, up to ``1 + RETRIES`` times.

    With ``wait_idle`` > 0, each attempt first waits (``wait(wait_idle)``, by default
    :func:`wait_for_idle`) for the machine to go quiet, and a further attempt is made only
    while the loop's ``bg_load`` exceeds :data:`BUSY`.

    Parameters
    ----------
    run_once : callable
        Returns a dict with a ``bg_load`` (float or None), such as :func:`timed_loop`'s.
    wait_idle : float
        Seconds to wait at most, per attempt.
    wait : callable
        ``wait(max_wait) -> (seconds waited, load)``.

    Returns
    -------
    best : dict
        The least disturbed result, with ``attempts`` (its attempt number) added.
    waited : float
        Seconds spent waiting in all.

    Examples
    --------
    >>> loads = iter([0.9, 0.1])
    >>> best, waited = least_disturbed(lambda: {"bg_load": next(loads)}, wait_idle=5,
    ...                                wait=lambda s: (1.0, 0.0))
    >>> best, waited
    ({'bg_load': 0.1, 'attempts': 2}, 2.0)
    """
    best, waited = None, 0.0
    for attempt in range(1, (RETRIES + 2) if wait_idle > 0 else 2):
        if wait_idle > 0:
            waited += wait(wait_idle)[0]
        r = run_once()
        r["attempts"] = attempt
        if best is None or (r["bg_load"] or 0.0) < (best["bg_load"] or 0.0):
            best = r
        if (r["bg_load"] or 0.0) <= BUSY:
            break
    return best, waited


# -------------------------------------------------------------------------- torch worker

def torch_available() -> bool:
    """Whether ``import torch`` can be attempted (found on the path; not imported here).

    Examples
    --------
    >>> isinstance(torch_available(), bool)
    True
    """
    return importlib.util.find_spec("torch") is not None


def import_torch(threads):
    """Worker side: import torch and set its threads, or report why it cannot be imported.

    Sets ``torch.set_num_threads(threads)`` and, where still allowed,
    ``torch.set_num_interop_threads(1)``.

    Returns
    -------
    module or None
        None (the reason printed on stderr; the worker should exit with :data:`NO_TORCH`)
        when the import fails.

    Examples
    --------
    >>> torch = import_torch(1)  # doctest: +SKIP
    """
    try:
        import torch
    except Exception as exc:  # noqa: BLE001 -- any import failure means "skip torch"
        print(f"torch not importable: {type(exc).__name__}: {exc}", file=sys.stderr)
        return None
    torch.set_num_threads(int(threads))
    with contextlib.suppress(RuntimeError):   # only allowed before any parallel work
        torch.set_num_interop_threads(1)
    return torch


def read_worker_input(in_path):
    """Worker side: the arrays and the decoded ``config`` that :func:`run_worker` wrote.

    Returns
    -------
    data : numpy NpzFile
    config : dict

    Examples
    --------
    >>> import numpy as np, os, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = os.path.join(tmp, "in.npz")
    ...     np.savez(path, x=np.zeros(2), config=np.array('{"threads": 1}'))
    ...     data, cfg = read_worker_input(path)
    ...     print(cfg, data["x"].shape)
    {'threads': 1} (2,)
    """
    import numpy as np

    data = np.load(in_path, allow_pickle=False)
    return data, json.loads(str(data["config"]))


def write_worker_output(out_path, arrays, timing) -> None:
    """Worker side: write ``arrays`` and ``timing`` (JSON-able dict) for :func:`run_worker`.

    Examples
    --------
    >>> import numpy as np, os, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = os.path.join(tmp, "out.npz")
    ...     write_worker_output(path, {"y": np.ones(2)}, {"ms_min": 1.0})
    ...     with np.load(path) as out:
    ...         print(sorted(out.files), str(out["timing"]))
    ['timing', 'y'] {"ms_min": 1.0}
    """
    import numpy as np

    np.savez(out_path, **arrays, timing=np.array(json.dumps(timing)))


def run_worker(script, arrays, config, *, threads, timeout, prefix="bench_"):
    """Parent side: run ``python script --threads N --torch-worker IN OUT`` and read OUT.

    The child gets :data:`THREAD_VARS` set to ``threads`` and the repository root (the
    parent of ``script``'s folder) first on ``PYTHONPATH``, so that torch's OpenMP pool and
    numpy's BLAS pool never share one process.

    Parameters
    ----------
    script : str or Path
        The benchmark script (its ``__file__``).
    arrays : dict of str to ndarray
        Written to IN, with ``config`` (JSON) added.
    config : dict
        JSON-able settings for the worker.
    threads : int
    timeout : float
        Seconds before the worker is given up.
    prefix : str
        Prefix of the temporary folder.

    Returns
    -------
    out : dict or None
        The worker's arrays, with ``timing`` decoded from JSON; None when the worker
        failed, timed out or could not import torch.
    message : str
        Why ``out`` is None, ending in "torch column skipped" where torch was skipped
        ("" when the worker ran).

    Examples
    --------
    A worker that cannot start (here, no such script) is reported, not raised:

    >>> out, msg = run_worker("/no/such/bench.py", {}, {}, threads=1, timeout=60)
    >>> out, msg.splitlines()[0]
    (None, 'torch worker failed (exit 2):')
    """
    import numpy as np

    script = Path(script).resolve()
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        in_path, out_path = Path(tmp) / "in.npz", Path(tmp) / "out.npz"
        np.savez(in_path, **arrays, config=np.array(json.dumps(config)))
        env = dict(os.environ)
        for var in THREAD_VARS:
            env[var] = str(threads)
        env["PYTHONPATH"] = str(script.parents[1]) + os.pathsep + env.get("PYTHONPATH", "")
        cmd = [sys.executable, str(script), "--threads", str(threads),
               "--torch-worker", str(in_path), str(out_path)]
        try:
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return None, f"torch worker timed out after {timeout:.0f} s: torch column skipped"
        if proc.returncode == NO_TORCH:
            return None, proc.stderr.strip().splitlines()[-1] + ": torch column skipped"
        if proc.returncode != 0:
            tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
            return None, f"torch worker failed (exit {proc.returncode}):\n{tail}"
        with np.load(out_path, allow_pickle=False) as npz:
            out = {name: npz[name] for name in npz.files}
    out["timing"] = json.loads(str(out["timing"]))
    return out, ""


# --------------------------------------------------------------------------- reporting

def environment(threads, *, pools=False) -> dict:
    """Versions, CPU count, threads and load average, for the JSON output.

    Parameters
    ----------
    threads : int
    pools : bool
        Also record ``thread_env`` (the :data:`THREAD_VARS`) and ``threadpools`` (the BLAS
        pools as threadpoolctl sees them under :func:`thread_limit`).

    Examples
    --------
    >>> env = environment(2)
    >>> env["threads"], "numpy" in env, "threadpools" in env
    (2, True, False)
    """
    import numpy as np

    env = {"python": platform.python_version(), "numpy": np.__version__,
           "platform": platform.platform(), "cpu_count": os.cpu_count(), "threads": threads}
    if pools:
        env["thread_env"] = {v: os.environ.get(v) for v in THREAD_VARS}
        try:
            from threadpoolctl import threadpool_info
            with thread_limit(threads):
                env["threadpools"] = [{k: i.get(k) for k in ("internal_api", "num_threads",
                                                              "version", "threading_layer",
                                                              "architecture")}
                                      for i in threadpool_info()]
        except ImportError:
            env["threadpools"] = "threadpoolctl not installed"
    try:
        env["loadavg_before"] = os.getloadavg()
    except OSError:
        pass
    return env


def json_default(obj):
    """``default`` for :func:`json.dumps`: numpy scalars and arrays as Python values.

    Raises
    ------
    TypeError
        For anything else.

    Examples
    --------
    >>> import numpy as np
    >>> json.dumps({"a": np.float32(0.5), "b": np.arange(2)}, default=json_default)
    '{"a": 0.5, "b": [0, 1]}'
    """
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, tuple):
        return list(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def add_common_options(parser) -> None:
    """Add ``--wait-idle``, ``--json`` and the hidden ``--torch-worker IN OUT`` to ``parser``.

    Examples
    --------
    >>> p = argparse.ArgumentParser()
    >>> add_common_options(p)
    >>> p.parse_args(["--wait-idle", "5"]).wait_idle
    5.0
    """
    parser.add_argument("--wait-idle", type=float, default=0.0, metavar="SECONDS",
                        help="before each timed loop, wait up to SECONDS for other processes "
                             "to use < 0.15 CPUs, and re-time (up to 3 times) a loop "
                             "disturbed by more than 0.25 CPUs of them (default 0: neither)")
    parser.add_argument("--json", metavar="PATH", help="write the results as JSON")
    parser.add_argument("--torch-worker", nargs=2, metavar=("IN", "OUT"), help=argparse.SUPPRESS)


def check_counts(parser, args, names) -> None:
    """Reject, through ``parser.error``, a count option below 0 (``warmup``) or 1 (others).

    Parameters
    ----------
    parser : argparse.ArgumentParser
    args : argparse.Namespace
    names : sequence of str
        Attribute names of ``args``; None values (option not given) pass.

    Raises
    ------
    SystemExit
        From ``parser.error``, naming the option and the value.

    Examples
    --------
    >>> p = argparse.ArgumentParser()
    >>> check_counts(p, argparse.Namespace(warmup=0, repeats=None), ("warmup", "repeats"))
    >>> check_counts(p, argparse.Namespace(repeats=0), ("repeats",))
    Traceback (most recent call last):
    SystemExit: 2
    """
    for name in names:
        value = getattr(args, name)
        if value is not None and value < (0 if name == "warmup" else 1):
            parser.error(f"--{name.replace('_', '-')}: got {value}")
