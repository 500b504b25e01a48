"""graphnet search: XOR from a minimal start, determinism, resume, bad configs, directory safety."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from graphnet.cli import main
from graphnet.errors import ConfigError, InputError
from graphnet.graph.network import GraphNetwork
from graphnet.lab.config import parse_config
from graphnet.lab.search import run_search
from graphnet.lab.searchdir import read_generations, read_lineage, read_marker, read_results
from graphnet.lab.selection import crowding_distance, nondominated_fronts, rank_order

XOR = """
name = "xor_test"
seeds = [0, 1, 2]
[data]
dataset = "xor"
scale = "symmetric"
[network]
start = "minimal"
[train]
batch_size = 4
lr = 0.1
[[mutation.schedule]]
op = "split_edge"
p = 0.5
[[mutation.schedule]]
op = "add_edge"
p = 0.5
[search]
population = 10
generations = 30
epochs = 30
stop_metric = "train_accuracy"
fitness_threshold = 1.0
"""


def _config(tmp_path, text=XOR, name="xor.toml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def _with(text, **search):
    """XOR's text with some [search] keys replaced or added."""
    lines = [ln for ln in text.splitlines() if ln.split(" = ")[0] not in search]
    return "\n".join(lines) + "\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in search.items())


def _run(cfg, out, **kw):
    return run_search(cfg, out, progress=False, plots=False, **kw)


def _no_wall(rows):
    return [{k: v for k, v in r.items() if k != "wall_s"} for r in rows]


def _tree(path, folder):
    out = {}
    for root, _, files in os.walk(os.path.join(path, folder)):
        for f in files:
            p = os.path.join(root, f)
            with open(p) as fh:
                out[os.path.relpath(p, path)] = fh.read()
    return out


def _same_search(a, b):
    assert read_lineage(a) == read_lineage(b)
    assert _no_wall(read_results(a)) == _no_wall(read_results(b))
    assert _no_wall(read_generations(a)) == _no_wall(read_generations(b))
    assert _tree(a, "snapshots") == _tree(b, "snapshots")


# ----------------------------------------------------------------------------- the search


def test_xor_is_solved_from_a_minimal_start_by_growing_hidden_nodes(tmp_path):
    res = _run(_config(tmp_path), tmp_path / "s")
    assert res.complete
    rows = read_results(res.path)
    assert [r["seed"] for r in rows] == [0, 1, 2]
    assert all(r["solved"] == 1 and r["best_val_accuracy"] == 1.0 for r in rows)
    assert all(r["best_hidden"] >= 1 for r in rows)   # the minimal start has none
    assert all(r["evaluations"] < 200 for r in rows)
    best = GraphNetwork.from_node_link(os.path.join(res.path, "snapshots", "seed0", "best.json"))
    assert best.n_hidden == rows[0]["best_hidden"] and best.n_edges == rows[0]["best_edges"]
    marker = read_marker(res.path)
    assert marker["kind"] == "search" and marker["complete"] is True
    assert marker["seeds"] == {str(r["seed"]): r["generations"] for r in rows}


def test_lineage_records_every_network_with_its_parent_and_operators(tmp_path):
    res = _run(_config(tmp_path), tmp_path / "s", seeds=[0])
    rows = read_lineage(res.path)
    assert len(rows) == read_results(res.path)[0]["evaluations"]
    ids = {r["id"] for r in rows}
    assert len(ids) == len(rows)
    assert all(r["parent"] is None for r in rows if r["generation"] == 0)
    children = [r for r in rows if r["generation"] > 0]
    assert children and all(r["parent"] in ids for r in children)
    assert {op["name"] for r in children for op in r["ops"]} <= {"split_edge", "add_edge"}
    assert any(r["ops"] for r in children) and any(r["selected"] for r in children)
    # the best's lineage, from a start network to the best, each the parent of the next
    folder = os.path.join(res.path, "snapshots", "seed0", "lineage")
    best_id = read_results(res.path)[0]["best_id"]
    by_id = {r["id"]: r for r in rows}
    chain, ident = [], best_id
    while ident is not None:
        chain.append(ident)
        ident = by_id[ident]["parent"]
    assert sorted(os.listdir(folder)) == sorted(f"{i}.json" for i in chain)
    assert by_id[chain[-1]]["generation"] == 0


def test_same_seed_same_search_and_another_seed_another(tmp_path):
    cfg = _config(tmp_path)
    a = _run(cfg, tmp_path / "a", seeds=[4])
    b = _run(cfg, tmp_path / "b", seeds=[4])
    c = _run(cfg, tmp_path / "c", seeds=[5])
    _same_search(a.path, b.path)
    strip = [{k: v for k, v in r.items() if k != "seed"} for r in read_lineage(c.path)]
    assert strip != [{k: v for k, v in r.items() if k != "seed"} for r in read_lineage(a.path)]


def test_resume_after_stop_after_generation_ends_as_the_uninterrupted_search(tmp_path):
    cfg = _config(tmp_path, _with(XOR, fitness_threshold=0.05, stop_metric="train_loss"))
    whole = _run(cfg, tmp_path / "whole")
    part = _run(cfg, tmp_path / "part", stop_after_generation=1)
    assert not part.complete
    marker = read_marker(part.path)
    assert marker["complete"] is False and set(marker["seeds"].values()) == {1}
    again = _run(cfg, tmp_path / "part", resume=True)
    assert again.complete
    _same_search(whole.path, again.path)


def test_budget_caps_the_evaluated_networks_and_pareto_keeps_a_front(tmp_path):
    text = _with(XOR, budget=25, selection="pareto")
    text = "\n".join(ln for ln in text.splitlines()
                     if not ln.startswith(("fitness_threshold", "stop_metric")))
    res = _run(_config(tmp_path, text), tmp_path / "s", seeds=[0])
    row = read_results(res.path)[0]
    assert row["evaluations"] == 25 and row["solved"] == 0 and row["generations"] == 2
    gens = read_generations(res.path)
    assert [g["evaluations"] for g in gens] == [10, 20, 25]
    front = os.listdir(os.path.join(res.path, "snapshots", "seed0", "front"))
    assert len(front) == gens[-1]["front_size"] >= 1


def test_the_population_plan_trains_each_candidate_as_its_own_plan_would(tmp_path):
    together = _run(_config(tmp_path), tmp_path / "plan", seeds=[1])
    alone = _run(_config(tmp_path, _with(XOR, plan=False), "alone.toml"), tmp_path / "alone",
                 seeds=[1])
    a, b = read_lineage(together.path), read_lineage(alone.path)
    def shape(rows):  # drawn weights may differ in the last bits (a scale of the weights)
        return [(r["id"], r["parent"], [op["name"] for op in r["ops"]], r["edges"]) for r in rows]

    assert shape(a) == shape(b)
    np.testing.assert_allclose([r["val_loss"] for r in a], [r["val_loss"] for r in b],
                               rtol=1e-9)


@pytest.mark.slow
def test_workers_1_and_2_give_the_same_search(tmp_path):
    cfg = _config(tmp_path, _with(XOR, chunk=4))  # 3 chunks a generation
    one = _run(cfg, tmp_path / "one", seeds=[0, 1])
    two = _run(cfg, tmp_path / "two", seeds=[0, 1], workers=2)
    _same_search(one.path, two.path)


@pytest.mark.slow
def test_resume_after_a_killed_process_ends_as_the_uninterrupted_search(tmp_path):
    cfg = _config(tmp_path, _with(XOR, fitness_threshold=0.0, stop_metric="train_loss",
                                  generations=10, epochs=60))  # never met: 10 generations
    seeds = ["--seeds", "0,1"]
    whole = tmp_path / "whole"
    assert main(["search", cfg, "--out", str(whole), "--no-plots", "--no-progress", *seeds]) == 0
    killed = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "graphnet", "search", cfg, "--out",
                             str(killed), "--no-plots", "--no-progress", *seeds],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if any(g >= 2 for g in read_marker(killed).get("seeds", {}).values()):
            break
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert read_marker(killed)["complete"] is False
    assert main(["search", cfg, "--out", str(killed), "--resume", "--no-plots",
                 "--no-progress", *seeds]) == 0
    _same_search(str(whole), str(killed))


# ----------------------------------------------------------------------------- bad configs


@pytest.mark.parametrize("keys, match", [
    ({"population": 0}, r"\[search\] population: expected an integer >= 1, got 0"),
    ({"objective": "accuracy"}, r"\[search\] objective: expected one of 'val_accuracy', "
                                r"'val_loss', got 'accuracy'"),
    ({"fitness_threshold": 1.5}, r"\[search\] fitness_threshold: expected a number in \[0, 1\] "
                                 r"\(an accuracy; train_accuracy can never exceed 1\), got 1.5"),
    ({"stop_metric": "test_accuracy"}, r"\[search\] stop_metric: expected one of"),
    ({"fitness_threshold": -0.1, "stop_metric": "val_loss"},
     r"\[search\] fitness_threshold: expected a number >= 0 \(a loss"),
    ({"selection": "roulette"}, r"\[search\] selection: expected one of 'tournament', 'pareto'"),
    ({"budget": 5}, r"\[search\] budget: expected 0 \(no limit\) or at least population = 10"),
    ({"popsize": 3}, r"\[search\] popsize: unknown key in \[search\]"),
])
def test_bad_search_configs_name_the_key(tmp_path, capsys, keys, match):
    cfg = _config(tmp_path, _with(XOR, **keys))
    with pytest.raises(ConfigError, match=match):
        _run(cfg, tmp_path / "s")
    assert not os.path.exists(tmp_path / "s")
    assert main(["search", cfg, "--out", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("graphnet search: error: ") and "xor.toml: [search]" in err


def test_a_search_needs_a_schedule_and_validation_data(tmp_path):
    no_schedule = XOR.split("[[mutation.schedule]]")[0] + "[search]\npopulation = 4\n"
    with pytest.raises(ConfigError, match=r"\[mutation\] schedule: a search varies"):
        parse_config(no_schedule)
    with pytest.raises(ConfigError, match=r"\[data\] validation: a search selects on "
                                          r"validation data"):
        parse_config(XOR.replace('scale = "symmetric"', 'scale = "symmetric"\nvalidation = 0'))


def test_search_section_and_minimal_start_resolve_and_a_run_without_search_is_unchanged():
    cfg = parse_config(XOR)
    assert cfg["search"]["population"] == 10 and cfg["search"]["epochs"] == 30
    assert cfg["network"]["start"] == "minimal" and cfg["network"]["mode"] == "feedforward"
    assert parse_config(cfg.to_toml()).values == cfg.values
    plain = parse_config(XOR.split("[search]")[0])
    assert "search" not in plain.values and "[search]" not in plain.to_toml()


# ----------------------------------------------------------------------------- the directory


def test_force_and_resume_touch_only_a_search(tmp_path, capsys):
    cfg = _config(tmp_path, _with(XOR, generations=1))
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep")
    for flag in ("--force", "--resume"):
        assert main(["search", cfg, "--out", str(foreign), flag, "--seeds", "0"]) == 2
        assert "not a graphnet search (no search.json)" in capsys.readouterr().err
    assert (foreign / "notes.txt").read_text() == "keep"
    out = tmp_path / "s"
    assert main(["search", cfg, "--out", str(out), "--seeds", "0", "--no-plots"]) == 0
    assert main(["search", cfg, "--out", str(out), "--seeds", "0"]) == 2
    assert "pass --resume to continue it or --force" in capsys.readouterr().err
    changed = _config(tmp_path, _with(XOR, generations=1, epochs=7), "changed.toml")
    with pytest.raises(InputError, match="was made from another config"):
        _run(changed, out, seeds=[0], resume=True)
    (out / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="--force refused: .* notes.txt"):
        _run(cfg, out, seeds=[0], force=True)
    os.remove(out / "notes.txt")
    res = _run(changed, out, seeds=[0], force=True)
    assert res.complete and read_results(out)[0]["seed"] == 0


# ----------------------------------------------------------------------------- selection


def _brute_fronts(F):
    F = np.asarray(F, float)
    left, fronts = set(range(len(F))), []
    while left:
        front = sorted(a for a in left if not any(
            (F[b] <= F[a]).all() and (F[b] < F[a]).any() for b in left))
        fronts.append(front)
        left -= set(front)
    return fronts


def test_nondominated_fronts_match_a_brute_force_and_crowding_marks_the_extremes():
    rng = np.random.default_rng(0)
    for _ in range(20):
        F = rng.integers(0, 5, size=(int(rng.integers(1, 15)), 2)).astype(float)
        assert [f.tolist() for f in nondominated_fronts(F)] == _brute_fronts(F)
    d = crowding_distance(np.array([[0.0, 4.0], [1.0, 2.0], [3.0, 1.0], [4.0, 0.0]]))
    assert np.isinf(d[[0, 3]]).all() and d[1] == 3 / 4 + 3 / 4


def test_rank_order_puts_diverged_networks_last_and_pareto_prefers_the_first_front():
    obj = np.array([-0.5, np.inf, -1.0, -0.75])
    loss = np.array([0.3, np.nan, 0.1, 0.2])
    edges = np.array([4, 2, 9, 12])
    assert rank_order(obj, loss, edges, "tournament").tolist() == [2, 3, 0, 1]
    pareto = rank_order(obj, loss, edges, "pareto").tolist()
    assert set(pareto[:2]) == {0, 2} and pareto[-1] in (1, 3)
