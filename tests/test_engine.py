"""The Dask engine with real processes: an external cluster, a worker killed mid-round.

A real ``dask scheduler`` and two ``dask worker`` processes are started on 127.0.0.1 for
this module (and torn down after it); ``graphnet run --scheduler`` submits a small
experiment to them, and its run directory must be byte-identical (the ``time`` column
aside) to the same run with ``--workers 1`` in one process.
"""

import filecmp
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from graphnet.lab import rundir as rd

distributed = pytest.importorskip("distributed")

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir))
ENV = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
           MPLBACKEND="Agg", OMP_NUM_THREADS="1")

pytestmark = pytest.mark.slow


def _dask(*args):
    """``dask ...`` as a subprocess (the console script, else ``python -m distributed.cli``)."""
    exe = shutil.which("dask")
    command = [exe, *args] if exe else [sys.executable, "-m", "dask", *args]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=ENV, start_new_session=True)


def _stop(procs):
    for p in procs:
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except OSError:
            pass
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A scheduler and two single-threaded workers on 127.0.0.1: (address, client)."""
    where = tmp_path_factory.mktemp("cluster")
    scheduler_file = where / "scheduler.json"
    procs = [_dask("scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                   "--scheduler-file", str(scheduler_file))]
    client = None
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert scheduler_file.exists(), "the scheduler did not start"
        for _ in range(2):
            procs.append(_dask("worker", "--scheduler-file", str(scheduler_file), "--nthreads",
                               "1", "--nworkers", "1", "--no-dashboard", "--host", "127.0.0.1",
                               "--local-directory", str(where)))
        client = distributed.Client(scheduler_file=str(scheduler_file), timeout=30,
                                    set_as_default=False)
        client.wait_for_workers(2, timeout=60)
        yield client.scheduler.address, client
    finally:
        if client is not None:
            client.close()
        _stop(procs)


def _config(path, rounds=2, epochs=40, seeds="[0, 1]", models='["fixed-graph", "mlp"]'):
    path.write_text(f"""
name = "engine"
seeds = {seeds}
rounds = {rounds}
[data]
dataset = "xor"
[network]
sizes = [2, 4, 2]
[train]
epochs = {epochs}
[mutation]
rewind = "init"
[[mutation.schedule]]
op = "A"
a = {{ quantile = 0.2 }}
[baselines]
models = {models}
""")
    return path


def _run(cfg, out, *engine, check=True):
    proc = subprocess.run([sys.executable, "-m", "graphnet", "run", str(cfg), "--out", str(out),
                           "--no-progress", "--no-plots", *engine], capture_output=True,
                          text=True, env=ENV, timeout=600)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def _same_run(a, b):
    """Byte-identical run directories but for the time column and the state's timing."""
    strip = [{k: v for k, v in row.items() if k != "time"} for row in rd.read_metrics(a)]
    assert strip == [{k: v for k, v in row.items() if k != "time"}
                     for row in rd.read_metrics(b)]
    assert (a / "history.jsonl").read_bytes() == (b / "history.jsonl").read_bytes()
    for folder in ("snapshots", "checkpoints"):
        cmp = filecmp.dircmp(a / folder, b / folder)
        stack = [cmp]
        while stack:
            c = stack.pop()
            assert not c.left_only and not c.right_only, (c.left, c.left_only, c.right_only)
            _, mismatch, errors = filecmp.cmpfiles(c.left, c.right, c.common_files,
                                                   shallow=False)
            assert not mismatch and not errors, (c.left, mismatch, errors)
            stack.extend(c.subdirs.values())
    assert rd.read_state(a) == rd.read_state(b)


def test_an_external_cluster_gives_the_same_run_as_one_process(tmp_path, cluster):
    address, _ = cluster
    cfg = _config(tmp_path / "e.toml")
    _run(cfg, tmp_path / "local", "--workers", "1")
    proc = _run(cfg, tmp_path / "remote", "--scheduler", address)
    assert f"on the Dask scheduler {address}" in proc.stdout, proc.stdout
    _same_run(tmp_path / "local", tmp_path / "remote")
    assert rd.read_state(tmp_path / "remote")["complete"] is True
    assert (tmp_path / "remote" / "snapshots" / "graph" / "seed0" / "rewind.json").exists()


def test_a_worker_killed_mid_round_is_retried_with_the_same_result(tmp_path, cluster):
    address, client = cluster
    # rounds of about a second: the kill lands in one
    cfg = _config(tmp_path / "k.toml", rounds=2, epochs=1500, seeds="[0]", models='["mlp"]')
    _run(cfg, tmp_path / "local", "--workers", "1")
    run = subprocess.Popen([sys.executable, "-m", "graphnet", "run", str(cfg), "--out",
                            str(tmp_path / "remote"), "--no-progress", "--no-plots",
                            "--scheduler", address], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, env=ENV, start_new_session=True)
    killed = None
    try:
        deadline = time.monotonic() + 120
        while killed is None and time.monotonic() < deadline and run.poll() is None:
            busy = [w for w, keys in client.processing().items()
                    if any("graphnet-round" in str(k) for k in keys)]
            if busy and list((tmp_path / "remote").glob("parts/*/*/round*.json")):
                pid = client.run(os.getpid, workers=busy[:1])[busy[0]]
                os.kill(pid, signal.SIGKILL)  # the worker process itself, mid-round
                killed = pid
            time.sleep(0.05)
        assert killed is not None, "no round was running on a worker"
        out, err = run.communicate(timeout=600)
        assert run.returncode == 0, err
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()
    _same_run(tmp_path / "local", tmp_path / "remote")
    client.wait_for_workers(2, timeout=60)  # the nanny restarts the worker for the next test


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path):
    cfg = _config(tmp_path / "u.toml")
    env = dict(ENV, GRAPHNET_CONNECT_TIMEOUT="2")
    proc = subprocess.run([sys.executable, "-m", "graphnet", "run", str(cfg), "--out",
                           str(tmp_path / "r"), "--scheduler", "tcp://127.0.0.1:9"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "cannot reach the Dask scheduler at 'tcp://127.0.0.1:9'" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


def test_workers_and_scheduler_are_exclusive(tmp_path):
    cfg = _config(tmp_path / "x.toml")
    proc = subprocess.run([sys.executable, "-m", "graphnet", "run", str(cfg), "--workers", "2",
                           "--scheduler", "tcp://127.0.0.1:8786"], capture_output=True,
                          text=True, env=ENV, timeout=120)
    assert proc.returncode == 2 and "not allowed with argument" in proc.stderr, proc.stderr
