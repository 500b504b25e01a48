"""End-to-end runs: the run directory format, resume, workers, refusals, if-better, the CLI."""

import csv
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from graphnet.cli import main
from graphnet.errors import InputError
from graphnet.graph.network import GraphNetwork
from graphnet.lab import rundir as rd
from graphnet.lab.config import load_config, parse_config, with_overrides
from graphnet.lab.defaults import default_config
from graphnet.lab.runner import run_experiment
from graphnet.lab.summary import column_stats, mean_std, summary_table

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir))
EXPERIMENTS = os.path.join(ROOT, "experiments")

DIGITS_TINY = """
name = "tiny"
seeds = [0, 1]
rounds = 2
[data]
dataset = "digits"
max_train = 120
max_test = 60
[network]
hidden = [16]
[train]
epochs = 2
[[mutation.schedule]]
op = "A"
a = {quantile = 0.3}
[[mutation.schedule]]
op = "H"
every = 2
[[mutation.schedule]]
op = "F"
p = 0.5
k = [-0.05, 0.05]
[baselines]
models = ["fixed-graph", "set", "mlp", "cnn"]
"""

XOR_SMALL = """
name = "xor-small"
seeds = [0]
rounds = 2
[data]
dataset = "xor"
[network]
sizes = [2, 4, 2]
[train]
epochs = 150
batch_size = 4
[mutation]
accept = "if-better"
[[mutation.schedule]]
op = "A"
a = 100.0
[baselines]
models = ["fixed-graph"]
"""


def digits_tiny(**overrides):
    cfg = parse_config(DIGITS_TINY, source="tiny.toml")
    return with_overrides(cfg, overrides) if overrides else cfg


def rows_without_time(run_dir):
    """metrics.csv as lists of cells, the time column dropped (the one column that varies)."""
    with open(os.path.join(run_dir, "metrics.csv"), newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][-1] == "time"
    return [r[:-1] for r in rows]


def text(path):
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def same_run(a, b, cfg):
    """Two run directories hold the same results (time aside), file by file."""
    assert rows_without_time(a) == rows_without_time(b)
    assert text(os.path.join(a, "history.jsonl")) == text(os.path.join(b, "history.jsonl"))
    ra, rb = rd.RunDir(a), rd.RunDir(b)
    for seed in cfg.seeds:
        for model in cfg.models:
            for r in range(cfg.rounds + 1):
                if model in ("graph", "fixed-graph", "set"):
                    assert text(ra.snapshot(model, seed, r)) == text(rb.snapshot(model, seed, r))
                ca, cb = rd.read_npz(ra.checkpoint(model, seed, r)), rd.read_npz(rb.checkpoint(model, seed, r))
                assert ca.keys() == cb.keys()
                assert all(np.array_equal(ca[k], cb[k]) for k in ca)


# ----------------------------------------------------------------------------- the format


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    cfg = digits_tiny()
    out = tmp_path_factory.mktemp("runs") / "tiny"
    result = run_experiment(cfg, out, workers=1, progress=False, plots=False)
    return cfg, str(out), result


def test_small_run_writes_every_file(tiny_run):
    cfg, out, result = tiny_run
    assert result.complete and result.path == out
    run = rd.RunDir(out)
    for name in ("config.toml", "config.source.toml", "state.json", "metrics.csv",
                 "history.jsonl", "summary.md"):
        assert os.path.isfile(os.path.join(out, name)), name
    assert text(run.config_source) == DIGITS_TINY
    assert parse_config(text(run.config)).values == cfg.values
    state = json.loads(text(run.state))
    assert state == {"version": 1, "complete": True,
                     "jobs": {f"{s}/{m}": 2 for s in (0, 1) for m in cfg.models}}
    for seed in cfg.seeds:
        for model in cfg.models:
            for r in range(3):
                assert os.path.isfile(run.checkpoint(model, seed, r))
                snap = run.snapshot(model, seed, r)
                assert os.path.isfile(snap) == (model in ("graph", "fixed-graph", "set"))
    assert not any(name.startswith(".tmp") for _, _, files in os.walk(out) for name in files)


def test_metrics_columns_and_rows(tiny_run):
    cfg, out, _ = tiny_run
    with open(os.path.join(out, "metrics.csv"), newline="") as fh:
        header = fh.readline().strip()
    assert header == ("seed,model,round,epoch,loss,accuracy,val_loss,val_accuracy,test_loss,"
                      "test_accuracy,edges,nodes,params,det,rank,accepted,time")
    rows = rd.read_metrics(out)
    models = list(cfg.models)
    assert len(rows) == 2 * len(models) * 3 * 2          # seeds x models x rounds x epochs
    keys = [(r["seed"], models.index(r["model"]), r["round"], r["epoch"]) for r in rows]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    for r in rows:
        last = r["epoch"] == 2
        assert (r["test_accuracy"] is not None) == last and (r["test_loss"] is not None) == last
        assert (r["accepted"] is not None) == last
        assert r["loss"] > 0 and 0 <= r["accuracy"] <= 1 and r["val_loss"] > 0
        assert r["params"] > 0 and r["time"] >= 0
        graph = r["model"] in ("graph", "fixed-graph", "set")
        for c in ("edges", "nodes", "det", "rank"):
            assert (r[c] is not None) == graph, (r["model"], c)
        if graph:
            assert r["det"] == 0.0          # feedforward: W is nilpotent
            assert r["nodes"] == 64 + 16 + 10
            assert r["params"] == r["edges"] + 16 + 10
    mlp = [r for r in rows if r["model"] == "mlp"]
    assert {r["params"] for r in mlp} == {64 * 64 + 64 + 64 * 10 + 10}   # mlp_hidden [64]


def test_structure_over_rounds(tiny_run):
    cfg, out, _ = tiny_run
    rows = [r for r in rd.read_metrics(out) if r["epoch"] == 2]
    by = {(r["model"], r["seed"], r["round"]): r for r in rows}
    full = 64 * 16 + 16 * 10
    for seed in cfg.seeds:
        assert [by[("fixed-graph", seed, k)]["edges"] for k in range(3)] == [full] * 3
        graph = [by[("graph", seed, k)]["edges"] for k in range(3)]
        assert graph[0] == full and graph[2] < graph[1] < full       # pruned 30 % a round
        set_edges = [by[("set", seed, k)]["edges"] for k in range(3)]
        assert set_edges == [full] * 3                                # SET keeps the count
    # the graph family shares its start and round 0 training: identical round 0 rows
    metrics = rows_without_time(out)
    for seed in ("0", "1"):
        r0 = {m: [r[2:] for r in metrics[1:] if r[0] == seed and r[1] == m and r[2] == "0"]
              for m in ("graph", "fixed-graph", "set")}
        assert r0["graph"] == r0["fixed-graph"] == r0["set"] and r0["graph"]
        assert r0["graph"] != [r[2:] for r in metrics[1:] if r[0] == seed and r[1] == "mlp"
                               and r[2] == "0"]


def test_snapshots_match_metrics_and_history(tiny_run):
    cfg, out, _ = tiny_run
    run = rd.RunDir(out)
    ends = {(r["model"], r["seed"], r["round"]): r for r in rd.read_metrics(out) if r["epoch"] == 2}
    for (model, seed, r), row in ends.items():
        if model in ("graph", "fixed-graph", "set"):
            net = GraphNetwork.from_node_link(run.snapshot(model, seed, r))
            assert net.n_edges == row["edges"] and net.n_nodes == row["nodes"]
            assert int(np.linalg.matrix_rank(net.matrix())) == row["rank"]
    history = rd.read_history(out)
    assert history and all(tuple(h) == rd.HISTORY_KEYS for h in history)
    assert {h["model"] for h in history} == {"graph", "set"}
    assert all(h["round"] >= 1 and h["accepted"] is True and h["error"] is None for h in history)
    names = {h["name"] for h in history if h["model"] == "graph"}
    assert {"threshold", "permute_nodes"} <= names
    assert {h["name"] for h in history if h["model"] == "set"} == {"prune_smallest", "regrow"}
    # a round's records chain: each one starts where the previous left the network
    for seed in cfg.seeds:
        for r in (1, 2):
            recs = [h for h in history if (h["model"], h["seed"], h["round"]) == ("graph", seed, r)]
            assert recs[0]["edges_before"] == ends[("graph", seed, r - 1)]["edges"]
            for a, b in zip(recs, recs[1:]):
                assert b["edges_before"] == a["edges_after"]
            assert recs[-1]["edges_after"] == ends[("graph", seed, r)]["edges"]


def test_mean_std_is_the_sample_statistics_bit_for_bit():
    """summary.md's mean +- std: numpy's mean and std(ddof=1), 0 for one seed, nan for none."""
    rng = np.random.default_rng(0)
    for n in range(1, 40):
        v = rng.normal(size=n) * 10.0 ** rng.integers(-3, 4)
        assert mean_std(list(v)) == (float(v.mean()), float(v.std(ddof=1)) if n > 1 else 0.0)
    assert all(np.isnan(mean_std([])))


def test_column_stats_skips_missing_values_per_column():
    v = np.array([[1.0, np.nan, 2.0], [3.0, np.nan, np.nan], [5.0, np.nan, 4.0]])
    mean, std, lo, hi, n = column_stats(v)
    assert n.tolist() == [3, 0, 2]
    assert (mean[0], std[0]) == mean_std([1.0, 3.0, 5.0])
    assert (mean[2], std[2]) == mean_std([2.0, 4.0])
    assert np.isnan([mean[1], std[1], lo[1], hi[1]]).all()
    assert (lo[0], hi[0], lo[2], hi[2]) == (1.0, 5.0, 2.0, 4.0)


def test_summary_lists_every_model(tiny_run):
    cfg, out, result = tiny_run
    summary = text(os.path.join(out, "summary.md"))
    for model in cfg.models:
        assert f"| {model} |" in summary
    assert "test accuracy (mean ± std)" in summary and "| graph | threshold | A |" in summary
    assert [t["model"] for t in result.table] == list(cfg.models)
    finals = {(r["model"], r["seed"]): r for r in rd.read_metrics(out)
              if r["round"] == 2 and r["epoch"] == 2}
    for t in result.table:
        accs = [finals[(t["model"], s)]["test_accuracy"] for s in (0, 1)]
        assert t["accuracy"] == pytest.approx(np.mean(accs))
        assert t["accuracy_std"] == pytest.approx(np.std(accs, ddof=1))


def test_plots_are_drawn_and_linked(tmp_path):
    pytest.importorskip("graphnet.lab.plots")
    cfg = digits_tiny(seeds=[0], rounds=1, baselines={"models": ["mlp"]})
    run_experiment(cfg, tmp_path / "p", progress=False)
    plots = set(os.listdir(tmp_path / "p" / "plots"))
    assert {"learning_curves.png", "rounds.png", "comparison.png", "evolution_seed0.png"} <= plots
    summary = text(tmp_path / "p" / "summary.md")
    assert "(plots/comparison.png)" in summary and "(plots/evolution_seed0.png)" in summary


# ----------------------------------------------------------------------------- determinism


def test_workers_2_equals_workers_1(tmp_path, tiny_run):
    cfg, out1, _ = tiny_run
    run_experiment(cfg, tmp_path / "w2", workers=2, progress=False, plots=False)
    same_run(out1, str(tmp_path / "w2"), cfg)


def test_resume_after_stop_equals_uninterrupted(tmp_path, tiny_run):
    cfg, out1, _ = tiny_run
    out = tmp_path / "stopped"
    partial = run_experiment(cfg, out, stop_after_round=0, progress=False, plots=False)
    assert not partial.complete
    state = json.loads(text(out / "state.json"))
    assert state["complete"] is False and set(state["jobs"].values()) == {0}
    assert {r["round"] for r in rd.read_metrics(out)} == {0}
    assert not (out / "summary.md").exists()
    # leftovers of a round killed half-way (no part file) must not count
    run = rd.RunDir(out)
    os.makedirs(os.path.dirname(run.snapshot("graph", 0, 1)), exist_ok=True)
    with open(run.snapshot("graph", 0, 1), "w") as fh:
        fh.write("{half a file")
    again = run_experiment(cfg, out, resume=True, workers=2, progress=False, plots=False)
    assert again.complete
    same_run(out1, str(out), cfg)
    assert json.loads(text(out / "state.json"))["complete"] is True


def test_seeds_give_different_results(tiny_run):
    _, out, _ = tiny_run
    rows = rd.read_metrics(out)
    loss = {s: [r["loss"] for r in rows if r["seed"] == s and r["model"] == "graph"] for s in (0, 1)}
    assert loss[0] != loss[1]


def test_sigkill_between_rounds_then_resume(tmp_path):
    # two jobs on two workers, many short rounds: kill once both have finished round 1
    cfg_path = tmp_path / "kill.toml"
    cfg_path.write_text(DIGITS_TINY.replace("rounds = 2", "rounds = 40")
                        .replace("seeds = [0, 1]", "seeds = [0]")
                        .replace("epochs = 2", "epochs = 1")
                        .replace('models = ["fixed-graph", "set", "mlp", "cnn"]', 'models = ["mlp"]'))
    cfg = load_config(cfg_path)
    killed = tmp_path / "killed"
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-m", "graphnet", "run", str(cfg_path), "--out",
                             str(killed), "--workers", "2", "--no-progress", "--no-plots"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            state = rd.read_state(killed) if (killed / "state.json").exists() else None
            if state and len(state["jobs"]) == 2 and min(state["jobs"].values()) >= 1:
                break
            assert proc.poll() is None, proc.stderr.read().decode()
            time.sleep(0.01)
        else:
            pytest.fail("the run did not reach round 1")
        os.killpg(proc.pid, signal.SIGKILL)        # the whole process group: workers too
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        proc.stderr.close()
    state = rd.read_state(killed)
    assert state["complete"] is False and min(state["jobs"].values()) < cfg.rounds
    assert not (killed / "summary.md").exists()
    assert main(["run", str(cfg_path), "--out", str(killed), "--resume", "--workers", "1",
                 "--no-progress", "--no-plots"]) == 0
    run_experiment(cfg, tmp_path / "whole", workers=2, progress=False, plots=False)
    same_run(str(tmp_path / "whole"), str(killed), cfg)


# ----------------------------------------------------------------------------- refusals


def test_existing_dir_is_refused_then_forced(tmp_path):
    cfg = parse_config(XOR_SMALL.replace("epochs = 150", "epochs = 2"), source="x.toml")
    out = tmp_path / "x"
    run_experiment(cfg, out, progress=False, plots=False)
    before = rows_without_time(out)
    with pytest.raises(InputError, match=r"the run directory .*x already exists; pass --resume "
                                         r"to continue it or --force"):
        run_experiment(cfg, out, progress=False, plots=False)
    assert rows_without_time(out) == before            # untouched
    (out / "plots").mkdir()
    (out / "plots" / "old.png").write_text("old")          # a run's own file: forced away
    run_experiment(cfg, out, force=True, progress=False, plots=False)
    assert not (out / "plots").exists() and rows_without_time(out) == before
    other = with_overrides(cfg, {"train": {"epochs": 3}})
    with pytest.raises(InputError, match="differs from the config given"):
        run_experiment(other, out, resume=True, progress=False, plots=False)
    with pytest.raises(InputError, match="exclude each other"):
        run_experiment(cfg, out, resume=True, force=True)
    # resuming a complete run changes nothing
    assert run_experiment(cfg, out, resume=True, progress=False, plots=False).complete
    assert rows_without_time(out) == before


def test_a_run_written_before_a_key_existed_resumes(tmp_path):
    # a run of an older graphnet has no [mutation] on_disconnected in its config.toml
    cfg = parse_config(XOR_SMALL.replace("epochs = 150", "epochs = 2"), source="x.toml")
    out = tmp_path / "x"
    run_experiment(cfg, out, stop_after_round=0, progress=False, plots=False)
    before = rows_without_time(out)
    config_toml = out / "config.toml"
    text = config_toml.read_text()
    assert 'on_disconnected = "warn"\n' in text
    config_toml.write_text(text.replace('on_disconnected = "warn"\n', ""))
    res = run_experiment(cfg, out, resume=True, progress=False, plots=False)
    after = rows_without_time(out)
    assert res.complete and len(after) > len(before)
    assert all(row in after for row in before)     # round 0 kept, the rest trained
    # a real difference is still refused
    config_toml.write_text(text.replace('on_disconnected = "warn"', 'on_disconnected = "stop"'))
    with pytest.raises(InputError, match="differs from the config given"):
        run_experiment(cfg, out, resume=True, progress=False, plots=False)


def test_if_better_rolls_back(tmp_path):
    cfg = parse_config(XOR_SMALL, source="xor-small.toml")
    run_experiment(cfg, tmp_path / "ib", progress=False, plots=False)
    ends = {(r["model"], r["round"]): r for r in rd.read_metrics(tmp_path / "ib") if r["epoch"] == 150}
    # A with a = 100 removes every edge: the output is constant, the validation loss worse
    assert [ends[("graph", k)]["accepted"] for k in range(3)] == [1, 0, 0]
    assert [ends[("graph", k)]["edges"] for k in range(3)] == [16, 0, 0]
    assert ends[("graph", 1)]["val_loss"] > ends[("graph", 0)]["val_loss"]
    run = rd.RunDir(tmp_path / "ib")
    kept = [GraphNetwork.from_node_link(run.snapshot("graph", 0, k)) for k in range(3)]
    assert kept[0] == kept[1] == kept[2] and kept[0].n_edges == 16   # rolled back each time
    history = rd.read_history(tmp_path / "ib")
    assert [(h["round"], h["accepted"], h["edges_after"]) for h in history] == [(1, False, 0),
                                                                              (2, False, 0)]
    assert "| graph | threshold | A | 2 | 0 | 0 |" in text(tmp_path / "ib" / "summary.md")
    # the same schedule under "always" keeps the empty network
    always = with_overrides(cfg, {"mutation": {"accept": "always"}})
    run_experiment(always, tmp_path / "al", progress=False, plots=False)
    ends = {(r["model"], r["round"]): r for r in rd.read_metrics(tmp_path / "al") if r["epoch"] == 150}
    assert [ends[("graph", k)]["edges"] for k in range(3)] == [16, 0, 0]
    assert [ends[("graph", k)]["accepted"] for k in range(3)] == [1, 1, 1]


# ----------------------------------------------------------------------------- the command


def test_cli_run_and_refusals(tmp_path, capsys):
    p = tmp_path / "c.toml"
    p.write_text(XOR_SMALL.replace("epochs = 150", "epochs = 2").replace("seeds = [0]",
                                                                           "seeds = [0, 1, 2]"))
    out = tmp_path / "c"
    assert main(["run", str(p), "--out", str(out), "--workers", "1", "--seeds", "1,2",
                 "--no-progress", "--no-plots"]) == 0
    printed = capsys.readouterr().out
    assert f"-> {out}" in printed and "| graph |" in printed and "| fixed-graph |" in printed
    assert {r["seed"] for r in rd.read_metrics(out)} == {1, 2}
    assert main(["run", str(p), "--out", str(out), "--no-progress"]) == 2
    assert "already exists" in capsys.readouterr().err
    p.write_text("[train]\nepochs = -3\n")
    assert main(["run", str(p), "--out", str(tmp_path / "d")]) == 2
    err = capsys.readouterr().err
    assert f"{p}: [train] epochs: expected an integer >= 1, got -3" in err
    assert not (tmp_path / "d").exists()
    with pytest.raises(SystemExit):
        main(["run", str(p), "--resume", "--force"])
    with pytest.raises(SystemExit):
        main(["run", "--seeds", "a,b"])


# ----------------------------------------------------------------------------- ready configs

TINY = {"rounds": 1, "seeds": [0], "train": {"epochs": 2}}


@pytest.mark.parametrize("name", ["xor", "digits", "pruning", "seed_example"])
def test_ready_configs_run_at_tiny_size(name, tmp_path):
    cfg = load_config(os.path.join(EXPERIMENTS, f"{name}.toml"))
    overrides = dict(TINY)
    if cfg["data"]["dataset"] == "digits":
        overrides["data"] = {"max_train": 100, "max_test": 50}
    result = run_experiment(with_overrides(cfg, overrides), tmp_path / name, progress=False,
                            plots=False)
    assert result.complete and [t["model"] for t in result.table] == list(cfg.models)


def test_default_config_at_tiny_size(tmp_path):
    cfg = with_overrides(default_config(), {**TINY, "data": {"max_train": 100, "max_test": 50}})
    result = run_experiment(cfg, tmp_path / "d", workers=2, progress=False, plots=False)
    summary = text(tmp_path / "d" / "summary.md")
    for model in ("graph", "fixed-graph", "mlp", "cnn"):
        assert f"| {model} |" in summary
    assert not (tmp_path / "d" / "config.source.toml").exists()      # built in: no source
    assert result.complete


def test_api_example_runs(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("api_example",
                                                  os.path.join(EXPERIMENTS, "api_example.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(str(tmp_path / "api"), tiny=True)
    printed = capsys.readouterr().out
    assert "| graph |" in printed and "| mlp |" in printed
    assert rd.read_state(tmp_path / "api")["complete"] is True


@pytest.mark.slow
def test_default_run_under_five_minutes(tmp_path, capsys):
    start = time.perf_counter()
    assert main(["run", "--out", str(tmp_path / "default"), "--workers", "2",
                 "--no-progress"]) == 0
    elapsed = time.perf_counter() - start
    assert elapsed < 300, elapsed
    table = {t["model"]: t for t in summary_table(rd.read_metrics(tmp_path / "default"))}
    assert set(table) == {"graph", "fixed-graph", "mlp", "cnn"}
    printed = capsys.readouterr().out
    for model in table:
        assert f"| {model} |" in printed
    # the pruned graph keeps at most half of the MLP's weights
    mlp_weights = 64 * 64 + 64 * 10
    assert table["graph"]["edges"] <= mlp_weights / 2


@pytest.mark.slow
@pytest.mark.parametrize("name", ["xor", "digits", "pruning", "seed_example"])
def test_ready_configs_at_full_size(name, tmp_path):
    cfg = load_config(os.path.join(EXPERIMENTS, f"{name}.toml"))
    result = run_experiment(cfg, tmp_path / name, workers=2, progress=False, plots=False)
    assert result.complete and [t["model"] for t in result.table] == list(cfg.models)
    assert all(t["n_seeds"] == len(cfg.seeds) for t in result.table)
    if name == "pruning":   # a rising threshold only ever removes edges
        ends = [r for r in rd.read_metrics(tmp_path / name) if r["model"] == "graph"
                and r["epoch"] == cfg["train"]["epochs"]]
        for seed in cfg.seeds:
            edges = [r["edges"] for r in ends if r["seed"] == seed]
            assert edges == sorted(edges, reverse=True) and edges[-1] < edges[0]
