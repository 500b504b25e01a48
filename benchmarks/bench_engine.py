"""The engine's cost: a run and a sweep with --workers 1, 2 and an external 2-worker cluster.

Three measurements, each a median over alternating repeats (the machine is shared: the
ratios, taken in the same run, are what to quote):

``default``
    The built-in default experiment (digits, 5 seeds x 4 models, 5 rounds), figures off,
    with ``--workers 1`` (in this process), ``--workers 2`` (an embedded LocalCluster,
    its start-up included) and an external cluster (``dask scheduler`` + 2 ``dask worker
    --nthreads 1`` started once, before the timings, as a user would).
``overhead``
    The engine's cost per round task: 5 seeds x 2 models x 21 rounds of 1 epoch on XOR (210
    tasks of about a millisecond of training). (wall time - cluster start-up) / tasks, for the
    in-process engine and an embedded 2-worker cluster.
``sweep``
    A 4-point sweep (2 x 2: rate x rounds) of a small digits experiment, 3 seeds, with 1 and 2
    workers: how a sweep scales with workers.

Usage: ``python benchmarks/bench_engine.py [--repeats N] [--json PATH] [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TINY = """
name = "overhead"
seeds = [0, 1, 2, 3, 4]
rounds = 20
[data]
dataset = "xor"
[train]
epochs = 1
[baselines]
models = ["mlp"]
"""

SWEEP = """
name = "sweep"
seeds = [0, 1, 2]
rounds = 2
[data]
dataset = "digits"
[network]
hidden = [32]
[train]
epochs = {epochs}
[[mutation.schedule]]
op = "A"
a = {{ quantile = 0.2 }}
[baselines]
models = ["fixed-graph", "mlp"]
[sweep.axes]
"mutation.schedule.0.a.quantile" = [0.1, 0.3]
rounds = [1, 2]
"""


def _dask(*args, env):
    exe = shutil.which("dask")
    command = [exe, *args] if exe else [sys.executable, "-m", "dask", *args]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=env, start_new_session=True)


class ExternalCluster:
    """``dask scheduler`` and two ``dask worker --nthreads 1`` on 127.0.0.1."""

    def __init__(self, where: Path):
        env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
        file = where / "scheduler.json"
        self.procs = [_dask("scheduler", "--host", "127.0.0.1", "--port", "0",
                            "--no-dashboard", "--scheduler-file", str(file), env=env)]
        deadline = time.monotonic() + 60
        while not file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        for _ in range(2):
            self.procs.append(_dask("worker", "--scheduler-file", str(file), "--nthreads", "1",
                                    "--no-dashboard", "--host", "127.0.0.1",
                                    "--local-directory", str(where), env=env))
        from distributed import Client

        with Client(scheduler_file=str(file), timeout=30, set_as_default=False) as client:
            client.wait_for_workers(2, timeout=60)
            self.address = client.scheduler.address

    def close(self):
        for p in self.procs:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except OSError:
                pass
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def bench_default(tmp: Path, repeats: int, cluster: ExternalCluster | None, quick: bool) -> dict:
    from graphnet.lab.config import with_overrides
    from graphnet.lab.defaults import default_config
    from graphnet.lab.runner import run_experiment

    cfg = default_config()
    if quick:
        cfg = with_overrides(cfg, {"seeds": [0], "rounds": 1, "train": {"epochs": 1}})
    variants = {"workers 1": {"workers": 1}, "workers 2": {"workers": 2}}
    if cluster is not None:
        variants["external 2"] = {"scheduler": cluster.address}
    times = {k: [] for k in variants}
    for rep in range(repeats):
        for name, kw in variants.items():
            out = tmp / f"default-{name.replace(' ', '')}-{rep}"
            times[name].append(_timed(lambda: run_experiment(cfg, out, plots=False,
                                                             progress=False, **kw)))
    return _table(times, "workers 1")


def bench_overhead(tmp: Path, repeats: int) -> dict:
    from graphnet.lab.config import parse_config
    from graphnet.lab.engine import DaskEngine
    from graphnet.lab.runner import run_experiment

    cfg = parse_config(TINY)
    tasks = len(cfg.seeds) * len(cfg.models) * (cfg.rounds + 1)
    local, dask, start = [], [], []
    for rep in range(repeats):
        local.append(_timed(lambda: run_experiment(cfg, tmp / f"o1-{rep}", workers=1,
                                                   plots=False, progress=False)))
        start.append(_timed(lambda: DaskEngine(workers=2).close()))
        dask.append(_timed(lambda: run_experiment(cfg, tmp / f"o2-{rep}", workers=2,
                                                  plots=False, progress=False)))
    s = statistics.median(start)
    return {"tasks": tasks,
            "local_ms_per_task": 1e3 * statistics.median(local) / tasks,
            "dask_ms_per_task": 1e3 * (statistics.median(dask) - s) / tasks,
            "cluster_start_and_close_s": s}


def bench_sweep(tmp: Path, repeats: int, quick: bool) -> dict:
    from graphnet.lab.sweep import run_sweep
    from graphnet.lab.sweepfile import load_sweep

    path = tmp / "sweep.toml"
    path.write_text(SWEEP.format(epochs=1 if quick else 10))
    sweep = load_sweep(path)
    times = {"workers 1": [], "workers 2": []}
    for rep in range(repeats):
        for w in (1, 2):
            out = tmp / f"sweep-w{w}-{rep}"
            times[f"workers {w}"].append(_timed(lambda: run_sweep(
                sweep, out, workers=w, progress=False, plots=False)))
    return _table(times, "workers 1")


def _table(times: dict, ref: str) -> dict:
    med = {k: statistics.median(v) for k, v in times.items()}
    return {k: {"median_s": med[k], "ratio": med[k] / med[ref], "all_s": times[k]}
            for k in times}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", metavar="PATH")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (a smoke test)")
    parser.add_argument("--no-external", action="store_true",
                        help="skip the external cluster")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    os.environ.setdefault("MPLBACKEND", "Agg")
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench_engine_") as d:
        tmp = Path(d)
        cluster = None if args.no_external else ExternalCluster(tmp)
        try:
            results["default"] = bench_default(tmp, args.repeats, cluster, args.quick)
        finally:
            if cluster is not None:
                cluster.close()
        results["overhead"] = bench_overhead(tmp, args.repeats)
        results["sweep"] = bench_sweep(tmp, args.repeats, args.quick)
    print(f"default experiment (figures off), medians of {args.repeats}:")
    for k, v in results["default"].items():
        print(f"  {k:<11} {v['median_s']:7.2f} s   x{v['ratio']:.2f} of --workers 1")
    o = results["overhead"]
    print(f"engine overhead: {o['tasks']} round tasks of 1 XOR epoch: in-process "
          f"{o['local_ms_per_task']:.1f} ms/task, 2-worker cluster {o['dask_ms_per_task']:.1f} "
          f"ms/task after a {o['cluster_start_and_close_s']:.1f} s start-up and close")
    print("sweep 2 x 2 points x 3 seeds x 3 models:")
    for k, v in results["sweep"].items():
        print(f"  {k:<11} {v['median_s']:7.2f} s   x{v['ratio']:.2f} of --workers 1")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
