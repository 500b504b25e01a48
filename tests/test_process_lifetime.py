"""Process lifetime of `graphnet run`: no orphaned workers, SIGTERM and Ctrl-C end cleanly.

Real processes: a run with 2 workers (an embedded Dask cluster, whose worker processes are
the client's children) is started, and once rounds are written the client gets SIGKILL,
SIGTERM or SIGINT. Every worker must be gone within seconds.
"""

import glob
import os
import signal
import subprocess
import sys
import time

import pytest

from graphnet.lab import rundir as rd

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir))

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc")]


def xor_config(path, rounds):
    path.write_text(f"""
name = "xor-life"
seeds = [0, 1]
rounds = {rounds}
[data]
dataset = "xor"
[network]
sizes = [2, 4, 2]
[train]
epochs = 300
[baselines]
models = ["mlp"]
""")
    return path


def start_run(cfg, out, *extra):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
               MPLBACKEND="Agg")
    return subprocess.Popen([sys.executable, "-m", "graphnet", "run", str(cfg), "--out", str(out),
                             "--workers", "2", "--no-progress", "--no-plots", *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                            start_new_session=True)


def children(pid):
    """The pids of a process's children (every thread's list)."""
    kids = set()
    for path in glob.glob(f"/proc/{pid}/task/*/children"):
        try:
            with open(path) as fh:
                kids.update(int(k) for k in fh.read().split())
        except OSError:
            pass
    return kids


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"    # a zombie is dead
    except OSError:
        return False


def worker_processes(pid):
    """The Dask worker processes a client started (spawned: ``spawn_main`` in their command)."""
    found = set()
    for kid in children(pid):
        try:
            with open(f"/proc/{kid}/cmdline", "rb") as fh:
                if b"spawn_main" in fh.read():
                    found.add(kid)
        except OSError:
            pass
    return found


def wait_until_working(proc, out, n_workers=2, timeout=120):
    """Wait until a round's part file is written and the cluster's workers are there."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read().decode()
        parts = glob.glob(os.path.join(out, "parts", "*", "*", "round*.json"))
        workers = worker_processes(proc.pid)
        if parts and len(workers) >= n_workers:
            return workers
        time.sleep(0.02)
    pytest.fail("the run did not start its workers")


def test_the_workers_are_the_clients_children_and_run_the_rounds(tmp_path):
    # what the tests below rely on: --workers 2 starts two worker processes under the client
    cfg = xor_config(tmp_path / "long.toml", rounds=400)
    proc = start_run(cfg, tmp_path / "run")
    workers = set()
    try:
        workers = wait_until_working(proc, tmp_path / "run")
        assert len(workers) == 2, workers
    finally:
        cleanup(proc, workers)


def gone_within(pids, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not any(alive(p) for p in pids):
            return True
        time.sleep(0.05)
    return False


def cleanup(proc, pids):
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    proc.wait()
    proc.stderr.close()


def test_sigkill_on_the_parent_ends_its_workers(tmp_path):
    cfg = xor_config(tmp_path / "long.toml", rounds=400)
    proc = start_run(cfg, tmp_path / "run")
    workers = set()
    try:
        workers = wait_until_working(proc, tmp_path / "run")
        os.kill(proc.pid, signal.SIGKILL)                  # the parent only
        proc.wait(timeout=10)
        assert gone_within(workers, 5), [p for p in workers if alive(p)]
    finally:
        cleanup(proc, workers)


def test_sigterm_ends_workers_and_the_run_resumes(tmp_path):
    cfg = xor_config(tmp_path / "mid.toml", rounds=8)
    out = tmp_path / "run"
    proc = start_run(cfg, out)
    workers = set()
    try:
        workers = wait_until_working(proc, out)
        os.kill(proc.pid, signal.SIGTERM)
        assert gone_within(workers, 5), [p for p in workers if alive(p)]
        assert proc.wait(timeout=10) == 143
        err = proc.stderr.read().decode()
        assert "terminated; continue with:" in err and "--resume" in err, err
    finally:
        cleanup(proc, workers)
    state = rd.read_state(out)
    assert state["complete"] is False
    again = start_run(cfg, out, "--resume")
    try:
        assert again.wait(timeout=300) == 0, again.stderr.read().decode()
    finally:
        cleanup(again, set())
    assert rd.read_state(out)["complete"] is True
    assert {r["round"] for r in rd.read_metrics(out)} == set(range(9))


def test_ctrl_c_says_how_to_continue(tmp_path):
    cfg = xor_config(tmp_path / "long.toml", rounds=400)
    out = tmp_path / "run"
    proc = start_run(cfg, out)
    workers = set()
    try:
        workers = wait_until_working(proc, out)
        os.killpg(proc.pid, signal.SIGINT)                 # as a terminal sends it: the group
        assert proc.wait(timeout=10) == 130
        err = proc.stderr.read().decode()
        assert f"interrupted; continue with: graphnet run {cfg} --out {out} --workers 2 " \
               f"--no-plots --resume" in err, err
        assert "Traceback" not in err, err
        assert gone_within(workers, 5)
    finally:
        cleanup(proc, workers)
    assert rd.RunDir(out).is_run() and rd.read_state(out)["complete"] is False


def test_a_second_run_on_the_same_directory_is_refused_with_the_pid(tmp_path):
    cfg = xor_config(tmp_path / "long.toml", rounds=400)
    out = tmp_path / "run"
    first = start_run(cfg, out)
    workers = set()
    try:
        workers = wait_until_working(first, out)
        config = (out / "config.toml").read_bytes()
        for flag in ("--force", "--resume"):
            second = subprocess.run([sys.executable, "-m", "graphnet", "run", str(cfg), "--out",
                                     str(out), flag, "--no-progress", "--no-plots"],
                                    capture_output=True, text=True, timeout=60,
                                    env=dict(os.environ, PYTHONPATH=ROOT))
            assert second.returncode == 2, second.stderr
            assert f"{out} is in use by another graphnet run (pid {first.pid})" in second.stderr
        assert first.poll() is None                        # the first one runs on, intact
        assert (out / "config.toml").read_bytes() == config
        assert glob.glob(os.path.join(out, "parts", "*", "*", "round*.json"))
    finally:
        cleanup(first, workers)


def test_a_failed_job_stops_the_run_and_leaves_no_worker(tmp_path):
    # one job diverges at once (a huge rate); the others' running rounds are written, the
    # client reports the failure and exits 2, its cluster closed, and the run resumes
    cfg = tmp_path / "fail.toml"
    cfg.write_text(xor_config(tmp_path / "x.toml", rounds=3).read_text()
                   .replace("epochs = 300", "epochs = 300\nlr = 1e6"))
    out = tmp_path / "run"
    proc = start_run(cfg, out)
    workers = set()
    try:
        deadline = time.monotonic() + 60
        while not workers and proc.poll() is None and time.monotonic() < deadline:
            workers = worker_processes(proc.pid)
            time.sleep(0.02)
        assert proc.wait(timeout=120) == 2
        err = proc.stderr.read().decode()
        assert "diverged" in err and "graph round 0" in err, err
        assert gone_within(workers, 5), [p for p in workers if alive(p)]
    finally:
        cleanup(proc, workers)
    assert rd.RunDir(out).is_run() and rd.read_state(out)["complete"] is False


def test_the_resume_command_keeps_yes(tmp_path, monkeypatch, capsys):
    # a plan confirmed with --yes is checked again on resume: the hint must keep --yes
    from graphnet.cli import main
    from graphnet.lab import runner

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "run_experiment", interrupted)
    cfg = xor_config(tmp_path / "big.toml", rounds=2)
    out = tmp_path / "run"
    assert main(["run", str(cfg), "--out", str(out), "--yes", "--no-progress"]) == 130
    err = capsys.readouterr().err
    assert f"continue with: graphnet run {cfg} --out {out} --yes --resume" in err, err
