"""graphnet sweep: sweep files, the sweep directory, resume, safety and the CLI."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from graphnet.cli import main
from graphnet.errors import ConfigError, InputError
from graphnet.lab.config import with_overrides
from graphnet.lab.lock import RunLock
from graphnet.lab.runner import run_experiment
from graphnet.lab.stats import interval
from graphnet.lab.sweep import axis_curves, read_results, run_sweep
from graphnet.lab.sweepfile import load_sweep, parse_sweep

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"

# XOR, a 2-4-2 graph pruned by A's quantile, against the same graph unpruned: 2 x 2 points
# x 3 seeds, a few seconds in all
BASE = """\
seeds = [0, 1, 2]
rounds = 1
[data]
dataset = "xor"
[network]
hidden = [4]
[train]
epochs = 3
[[mutation.schedule]]
op = "A"
a = { quantile = 0.2 }
"""
AXES = """\
[sweep.axes]
"mutation.schedule.0.a.quantile" = [0.1, 0.5]
"train.lr" = [0.05, 0.2]
"""


def _write(folder: Path, text: str, name: str = "s.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _table(path: Path, drop=("time",)) -> list:
    """A CSV file's rows as lists, without the ``drop`` columns (wall time differs)."""
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    keep = [k for k, name in enumerate(rows[0]) if name not in drop]
    return [[row[k] for k in keep] for row in rows]


def _same_results(a: Path, b: Path, points) -> None:
    """Two sweep directories hold the same results: results.csv, every point's metrics
    (time aside) and history."""
    assert (a / "results.csv").read_bytes() == (b / "results.csv").read_bytes()
    for p in points:
        assert _table(a / "points" / p / "metrics.csv") == _table(b / "points" / p / "metrics.csv")
        assert ((a / "points" / p / "history.jsonl").read_bytes()
                == (b / "points" / p / "history.jsonl").read_bytes())


@pytest.fixture(scope="module")
def done(tmp_path_factory):
    """One uninterrupted 2 x 2 x 3 sweep, figure included; the reference of the module."""
    folder = tmp_path_factory.mktemp("sweep")
    path = _write(folder, BASE + AXES)
    result = run_sweep(path, folder / "out", progress=False, plots=True)
    return path, result


# ----------------------------------------------------------------------------- end to end


def test_sweep_end_to_end_writes_points_results_summary_and_figure(done):
    path, res = done
    out = Path(res.path)
    assert res.complete and not res.already_complete
    assert sorted(os.listdir(out)) == [".lock", "base.toml", "plots", "points", "points.csv",
                                       "results.csv", "summary.md", "sweep.json", "sweep.toml"]
    assert (out / "sweep.toml").read_text() == path.read_text()
    assert json.loads((out / "sweep.json").read_text())["complete"] is True
    assert (out / "points.csv").read_text().splitlines() == [
        "point,mutation.schedule.0.a.quantile,train.lr,run",
        "p000,0.1,0.05,points/p000", "p001,0.1,0.2,points/p001",
        "p002,0.5,0.05,points/p002", "p003,0.5,0.2,points/p003"]
    rows = read_results(out)
    assert len(rows) == 4 * 3 * 2
    assert list(rows[0]) == ["point", "mutation.schedule.0.a.quantile", "train.lr", "seed",
                             "model", "round", "test_accuracy", "params", "edges"]
    assert {(r["point"], r["seed"], r["model"]) for r in rows} == {
        (f"p00{k}", str(s), m) for k in range(4) for s in range(3)
        for m in ("graph", "fixed-graph")}
    assert all(r["round"] == "1" for r in rows)
    # every point is a normal run directory whose config is the base with the point's values
    for k, (q, lr) in enumerate([(0.1, 0.05), (0.1, 0.2), (0.5, 0.05), (0.5, 0.2)]):
        cfg = res.sweep.points[k].config
        assert cfg["train"]["lr"] == lr
        assert cfg["mutation"]["schedule"][0]["a"] == {"quantile": q}
        assert (out / "points" / f"p00{k}" / "state.json").exists()
    summary = (out / "summary.md").read_text()
    assert "## Final test accuracy per point" in summary
    assert "95 % CI (%)" in summary and "reference (fixed-graph)" in summary
    assert summary.count("| graph | 3 |") == 4
    # the last column is the final network's edges: pruning at quantile 0.5 shows
    edges = {line.split(" | ")[3]: int(line.split(" | ")[-1].rstrip(" |"))
             for line in summary.splitlines() if line.startswith("| p002 |")}
    assert edges["graph"] < edges["fixed-graph"]
    assert "each value averaged over the other axes per seed first" in summary
    assert (out / "plots" / "sweep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_point_is_the_run_of_its_config(done, tmp_path):
    """p002 (quantile 0.5, lr 0.05) gives the bits of that experiment run on its own."""
    _, res = done
    point = res.sweep.points[2]
    cfg = with_overrides(res.sweep.base, {"train": {"lr": 0.05}, "mutation": {"schedule": [
        {"op": "A", "a": {"quantile": 0.5}}]}})
    alone = run_experiment(cfg, tmp_path / "alone", progress=False, plots=False)
    assert point.config.values | {"name": "x"} == cfg.values | {"name": "x"}
    assert (_table(Path(alone.path) / "metrics.csv")
            == _table(Path(res.path) / "points" / "p002" / "metrics.csv"))


def test_axis_curves_average_the_other_axes_per_seed_first():
    sw = parse_sweep(BASE + AXES)
    acc = {("p000", 0): 0.5, ("p001", 0): 1.0, ("p002", 0): 0.25, ("p003", 0): 0.75,
           ("p000", 1): 0.5, ("p001", 1): 0.5, ("p002", 1): 0.5, ("p003", 1): 1.0}
    rows = [{"point": p, "seed": s, "model": "graph", "test_accuracy": a}
            for (p, s), a in acc.items()]
    quantile, lr = axis_curves(sw, rows)
    assert quantile["axis"] == "mutation.schedule.0.a.quantile"
    assert quantile["labels"] == ["0.1", "0.5"] and quantile["x"] == [0.1, 0.5]
    # quantile 0.1 is p000 and p001: seed 0 (0.5 + 1.0) / 2, seed 1 (0.5 + 0.5) / 2
    assert quantile["models"]["graph"][0] == interval([0.75, 0.5])
    assert quantile["models"]["graph"][1] == interval([0.5, 0.75])
    # lr 0.2 is p001 and p003
    assert lr["models"]["graph"][1] == interval([0.875, 0.75])


# ----------------------------------------------------------------------------- resume


def test_resume_after_an_interruption_gives_the_same_results(done, tmp_path):
    path, ref = done
    out = tmp_path / "out"
    first = run_sweep(path, out, progress=False, plots=False, stop_after_round=0)
    assert not first.complete and not (out / "results.csv").exists()
    assert json.loads((out / "sweep.json").read_text())["complete"] is False
    again = run_sweep(path, out, progress=False, plots=False, resume=True)
    assert again.complete
    _same_results(Path(ref.path), out, [p.id for p in ref.sweep.points])
    # complete: a second resume runs and writes nothing
    before = (out / "results.csv").stat().st_mtime_ns
    third = run_sweep(path, out, progress=False, plots=False, resume=True)
    assert third.already_complete and (out / "results.csv").stat().st_mtime_ns == before
    assert third.results == again.results and third.table == again.table
    # a result file removed by hand is written again
    (out / "summary.md").unlink()
    fourth = run_sweep(path, out, progress=False, plots=False, resume=True)
    assert not fourth.already_complete and (out / "summary.md").exists()


@pytest.mark.slow
def test_sweep_killed_mid_run_resumes_to_the_same_results_via_the_cli(done, tmp_path):
    path, ref = done
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "graphnet", "sweep", str(path), "--out", str(out),
           "--workers", "1", "--no-progress", "--no-plots"]
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    # kill once a round of some point is written (its checkpoint), mid-sweep
    while not list(out.glob("points/*/checkpoints/**/*.npz")) and time.monotonic() < deadline:
        time.sleep(0.02)
    still_running = proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    assert still_running, "the sweep ended before it could be killed"
    assert json.loads((out / "sweep.json").read_text())["complete"] is False
    again = subprocess.run(cmd + ["--resume"], env=env, capture_output=True, text=True,
                           timeout=120)
    assert again.returncode == 0, again.stderr
    assert "| p003 | 0.5 | 0.2 | fixed-graph | 3 |" in again.stdout
    assert f"sweep directory: {out}" in again.stdout
    _same_results(Path(ref.path), out, [p.id for p in ref.sweep.points])
    # the finished directory is not touched again without a flag
    refused = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2
    assert "graphnet sweep: error: sweep: the sweep directory" in refused.stderr
    assert "pass --resume to continue it or --force" in refused.stderr


# ----------------------------------------------------------------------------- zip mode


def test_zip_pairs_the_axes_and_prints_the_points(tmp_path, capsys):
    path = _write(tmp_path, BASE + '[sweep]\nmode = "zip"\n' + AXES.replace("[sweep.axes]\n", "")
                  .replace('"mutation', '[sweep.axes]\n"mutation'))
    sw = load_sweep(path)
    assert sw.mode == "zip" and sw.shape == (2,)
    assert [p.values for p in sw.points] == [
        {"mutation.schedule.0.a.quantile": 0.1, "train.lr": 0.05},
        {"mutation.schedule.0.a.quantile": 0.5, "train.lr": 0.2}]
    assert main(["sweep", str(path), "--print-points", "--out", str(tmp_path / "o")]) == 0
    shown = capsys.readouterr().out
    assert "zip of 2 = 2 points x 3 seeds x 2 models (graph, fixed-graph)" in shown
    assert f"| p001 | 0.5 | 0.2 | {tmp_path / 'o' / 'points' / 'p001'} |" in shown
    assert not (tmp_path / "o").exists()


def test_a_bare_dotted_key_is_the_same_axis_and_grid_order_is_the_files(tmp_path):
    sw = parse_sweep(BASE + '[sweep.axes]\ntrain.epochs = [1, 2]\nrounds = [0, 1, 2]\n')
    assert [a.key for a in sw.axes] == ["train.epochs", "rounds"] and sw.shape == (2, 3)
    assert [(p.config["train"]["epochs"], p.config.rounds) for p in sw.points] == [
        (1, 0), (1, 1), (1, 2), (2, 0), (2, 1), (2, 2)]


# ----------------------------------------------------------------------------- bad sweeps


BAD = [
    ('"train.lrr" = [0.1]', r'\[sweep.axes\] "train.lrr" = 0.1: \[train\] lrr: unknown key'),
    ('"train.lr" = [0.1, "fast"]',
     r'"train.lr" = "fast": \[train\] lr: expected a positive number'),
    ('"network.hidden" = [[4], [0]]', r'"network.hidden" = \[0\]: \[network\] hidden\[0\]'),
    ('"mutation.schedule.2.p" = [0.5]',
     r'"mutation.schedule.2.p" = 0.5: index 2 out of range: mutation.schedule has 1 entry'),
    ('"mutation.schedule.p" = [0.5]', r"mutation.schedule is a list, not a table"),
    ('"train.lr" = []', r'"train.lr": the axis has no values'),
    ('"train.lr" = 0.1', r'"train.lr": expected a list of values, got 0.1'),
    ('"train.lr" = [0.1]\ntrain.lr = [0.2]',
     r'"train.lr": the same key as the axis "train.lr"'),
    ('"mutation.schedule.0" = [{op = "H"}]\n"mutation.schedule.0.p" = [0.5]',
     r'"mutation.schedule.0.p": nested keys as the axis "mutation.schedule.0"'),
    ("seeds = [[0], [1]]", r'"seeds": seeds is not an axis'),
    # each value is fine alone, the two together are not: the point is named
    ('"data.validation" = [0.0]\n"mutation.accept" = ["if-better"]',
     r'point p000 \(data.validation = 0.0, mutation.accept = "if-better"\): '
     r'\[data\] validation: '),
]


@pytest.mark.parametrize("axes, message", BAD, ids=[
    "unknown-key", "wrong-type", "bad-list-value", "index-out-of-range", "key-into-a-list",
    "no-values", "not-a-list", "same-key-twice", "nested-keys", "seeds-axis", "invalid-point"])
def test_a_bad_axis_is_named_before_anything_is_written(tmp_path, capsys, axes, message):
    path = _write(tmp_path, BASE + "[sweep.axes]\n" + axes + "\n")
    with pytest.raises(ConfigError, match=message):
        load_sweep(path)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"graphnet sweep: error: {path}: ")
    assert not out.exists()


@pytest.mark.parametrize("text, message", [
    (BASE, r"no \[sweep\] table"),
    (BASE + '[sweep]\nmode = "cube"\n' + AXES, r'\[sweep\] mode: expected "grid" or "zip"'),
    (BASE + '[sweep]\nmode = "zip"\n[sweep.axes]\nrounds = [0, 1]\n"train.lr" = [0.1]\n',
     r"differ in length: rounds has 2, train.lr has 1"),
    (BASE + '[sweep]\nbase = "missing.toml"\n' + AXES, r"missing.toml: no such base experiment"),
    (BASE + "[sweep]\naxis = 1\n" + AXES, r"\[sweep\] axis: unknown key in \[sweep\]"),
    (BASE + "[sweep]\n", r"\[sweep\] axes: expected a table of dotted keys"),
])
def test_a_bad_sweep_table_is_refused(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_sweep(text)


def test_the_base_file_is_read_relative_to_the_sweep_and_overridden_by_it(tmp_path):
    (tmp_path / "exp").mkdir()
    _write(tmp_path / "exp", BASE, "base.toml")
    path = _write(tmp_path, 'name = "mine"\n[train]\nepochs = 1\n[sweep]\n'
                            'base = "exp/base.toml"\n' + AXES)
    sw = load_sweep(path, seeds=[4, 5])
    assert sw.name == "mine" and sw.base.seeds == (4, 5)
    assert sw.base["train"]["epochs"] == 1 and sw.base["network"]["sizes"] == [2, 4, 2]
    assert [p.config.name for p in sw.points][:2] == ["mine-p000", "mine-p001"]


def test_the_sweep_experiments_load_and_print_their_points(capsys):
    for name, points in (("sweep_prune.toml", 9), ("sweep_prune_mnist1d.toml", 9)):
        assert main(["sweep", str(EXPERIMENTS / name), "--print-points"]) == 0
        shown = capsys.readouterr().out
        assert f"= {points} points x" in shown and "(graph, fixed-graph, mlp" in shown
        assert shown.count("| p0") == points


# ----------------------------------------------------------------------------- safety


TINY = BASE.replace("seeds = [0, 1, 2]", "seeds = [0]").replace("rounds = 1", "rounds = 0") \
    + '[sweep.axes]\n"train.lr" = [0.05, 0.2]\n'


def test_force_and_resume_refuse_what_is_not_the_sweeps_own(tmp_path):
    path = _write(tmp_path, TINY)
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep")
    for flags in ({"force": True}, {"resume": True}, {}):
        with pytest.raises(InputError, match="not a graphnet sweep .*notes.txt"):
            run_sweep(path, foreign, progress=False, plots=False, **flags)
    assert sorted(os.listdir(foreign)) == ["notes.txt"]
    # a run directory is not a sweep
    run = tmp_path / "run"
    run_experiment(load_sweep(path).points[0].config, run, progress=False, plots=False)
    with pytest.raises(InputError, match=r"--resume refused: .* \(no sweep.json\)"):
        run_sweep(path, run, resume=True, progress=False, plots=False)
    # never the current directory or a parent
    with pytest.raises(InputError, match="current directory or one of its parents"):
        run_sweep(path, os.getcwd(), force=True, progress=False, plots=False)


def test_force_deletes_only_the_sweeps_own_entries(tmp_path):
    path = _write(tmp_path, TINY)
    out = tmp_path / "out"
    first = run_sweep(path, out, progress=False, plots=False)
    with pytest.raises(InputError, match="already exists; pass --resume to continue it"):
        run_sweep(path, out, progress=False, plots=False)
    for extra in (out / "points" / "p001" / "notes.txt", out / "points" / "mine",
                  out / "plots" / "draft.txt"):
        extra.parent.mkdir(exist_ok=True)
        extra.write_text("keep")
        with pytest.raises(InputError, match=f"does not write: .*{extra.relative_to(out)}"):
            run_sweep(path, out, force=True, progress=False, plots=False)
        assert extra.read_text() == "keep" and (out / "results.csv").exists()
        extra.unlink()
    (out / "points" / "p001" / "metrics.csv").write_text("stale")
    again = run_sweep(path, out, force=True, progress=False, plots=False)
    assert again.complete and not again.already_complete
    assert again.results == first.results
    assert (out / "points" / "p001" / "metrics.csv").read_text() != "stale"


def test_resume_refuses_a_changed_sweep(tmp_path):
    path = _write(tmp_path, TINY)
    out = tmp_path / "out"
    run_sweep(path, out, progress=False, plots=False, stop_after_round=0)
    # a comment changes nothing
    _write(tmp_path, "# a note\n" + TINY)
    assert run_sweep(path, out, resume=True, progress=False, plots=False).complete
    _write(tmp_path, TINY.replace("[0.05, 0.2]", "[0.05, 0.3]"))
    with pytest.raises(InputError, match="made from another sweep: the sweep file differs"):
        run_sweep(path, out, resume=True, progress=False, plots=False)
    _write(tmp_path, TINY)
    with pytest.raises(InputError, match="the resolved base experiment differs"):
        run_sweep(load_sweep(path, seeds=[1]), out, resume=True, progress=False, plots=False)


def test_a_sweep_in_use_is_refused(tmp_path):
    path = _write(tmp_path, TINY)
    out = tmp_path / "out"
    out.mkdir()
    with RunLock(out):
        with pytest.raises(InputError, match=r"in use by another graphnet run \(pid"):
            run_sweep(path, out, progress=False, plots=False)
    assert os.listdir(out) == [".lock"]


def test_sweep_figure_draws_a_categorical_axis(tmp_path):
    from graphnet.lab.plots.sweep import plot_sweep

    curves = [{"axis": "network.hidden", "labels": ["[4]", "[8, 8]"], "x": None,
               "models": {"graph": [interval([0.5, 0.7]), interval([0.9])],
                          "mlp": [interval([0.6, 0.6]), interval([np.nan])]}}]
    fig = plot_sweep(curves, tmp_path / "f.png", caption="one point per value")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["[4]", "[8, 8]"]
    assert [line.get_label() for line in ax.get_lines()] == ["graph", "mlp"]
    assert (tmp_path / "f.png").stat().st_size > 1000
    with pytest.raises(InputError, match="curves is empty"):
        plot_sweep([])
