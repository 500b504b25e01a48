"""A search directory read back: summary.md's figures checked by hand, every figure drawn.

The directory is synthetic, in the formats ``graphnet search`` writes (search.json,
config.toml, results.csv, generations.csv, lineage.jsonl, snapshots/), so these tests do not
run a search and take about a second.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from graphnet.errors import DataError
from graphnet.graph.extras import add_edge, split_edge
from graphnet.graph.network import GraphNetwork
from graphnet.lab import rundir as rd
from graphnet.lab.config import load_config
from graphnet.lab.plots.search import lineage_tree, plot_fitness, plot_front, plot_search
from graphnet.lab.searchdata import load_search, pareto_front
from graphnet.lab.searchreport import search_stats, write_search_summary

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"

CONFIG = """name = "xor_grow_test"
description = "a made-up search"
seeds = [0, 1]

[data]
dataset = "xor"

[network]
start = "minimal"

[train]
epochs = 50
optimizer = "adam"

[mutation]
repair = true

[[mutation.schedule]]
op = "split_edge"
p = 0.5

[[mutation.schedule]]
op = "N"
value_max = 1.0

[search]
population = 4
generations = 3
selection = "pareto"
objective = "val_accuracy"
stop_metric = "train_accuracy"
fitness_threshold = 1.0
"""

RESULTS = ("seed,solved,generations,evaluations,wall_s,best_val_accuracy,best_test_accuracy,"
           "best_edges,best_hidden,extra\n"
           "1,0,3,13,2.5,0.75,0.5,4,1,x\n"
           "0,1,2,7,1.5,1.0,1.0,4,1,y\n")


def _op(name, letter=None, **args):
    return {"name": name, "letter": letter, "args": args}


def _minimal(w0, w1):
    return GraphNetwork.from_matrix(np.array([[0, 0, w0], [0, 0, w1], [0, 0, 0.0]]),
                                    inputs=[0, 1], outputs=[2])


def _seed_networks(seed):
    """(id, parent, generation, ops, val_accuracy, network) of one seed's lineage."""
    a = _minimal(1.0, -1.0)
    b = _minimal(0.5, 0.5)
    a1 = split_edge(a, 0, 2)                                 # 3 edges, 1 hidden
    a2 = _minimal(0.1, 0.5)
    best = add_edge(a1, 1, 3, 0.5)                           # 4 edges, 1 hidden
    pruned = GraphNetwork.from_matrix(np.array([[0, 0, 1.0], [0, 0, 0], [0, 0, 0.0]]),
                                      inputs=[0, 1], outputs=[2])  # 1 edge
    acc_best = 1.0 if seed == 0 else 0.75
    return [
        ("g0-0", None, 0, [], 0.5, a),
        ("g0-1", None, 0, [], 0.25, b),
        ("g1-0", "g0-0", 1, [_op("split_edge", i=0, j=2)], 0.75, a1),
        ("g1-1", "g0-0", 1, [_op("threshold", "A", a=0.9)], 0.5, pruned),
        ("g1-2", "g0-1", 1, [_op("assign", "N", i=0, j=2, value=0.1)], 0.5, a2),
        ("g2-0", "g1-0", 2, [_op("add_edge", i=1, j=3), _op("assign", "N", i=1, j=3, value=0.5)],
         acc_best, best),
        ("g2-1", "g1-1", 2, [_op("assign", "N", i=0, j=2, value=0.3)], 0.5, pruned),
    ]


def make_search(root, *, baseline=True):
    """A complete two-seed search directory under ``root``; returns its path."""
    d = root / "search"
    d.mkdir()
    (d / "search.json").write_text(json.dumps(
        {"version": 1, "kind": "search", "complete": True, "seeds": {"0": 2, "1": 3}}))
    (d / "config.toml").write_text(CONFIG)
    (d / "results.csv").write_text(RESULTS)
    gens = ["seed,generation,evaluations,best,median,front_size,best_edges,median_edges,wall_s"]
    gens += ["0,0,4,0.5,0.375,2,2,2,0.5", "0,1,7,0.75,0.5,3,3,2,1.0", "0,2,7,1.0,0.5,3,4,2,1.5",
             "1,0,4,0.5,0.375,2,2,2,0.8", "1,1,7,0.75,0.5,3,3,2,1.6", "1,2,10,0.75,0.5,3,4,2,2.0",
             "1,3,13,0.75,0.5,3,4,2,2.5"]
    (d / "generations.csv").write_text("\n".join(gens) + "\n")
    lines = []
    for seed in (0, 1):
        snap = d / "snapshots" / f"seed{seed}"
        (snap / "lineage").mkdir(parents=True)
        for ident, parent, gen, ops, acc, net in _seed_networks(seed):
            lines.append(json.dumps({
                "seed": seed, "generation": gen, "id": ident, "parent": parent, "ops": ops,
                "fitness": acc, "val_accuracy": acc, "val_loss": 1.0 - acc,
                "edges": net.n_edges, "hidden": net.n_hidden, "selected": gen < 2,
                "new_key": 1}))
            if ident in ("g0-0", "g1-0", "g2-0"):
                net.to_node_link(snap / "lineage" / f"{ident}.json")
            if ident == "g2-0":
                net.to_node_link(snap / "best.json")
    (d / "lineage.jsonl").write_text("\n".join(lines) + "\n")
    if baseline:
        run = root / "digits_mlp"
        run.mkdir()
        (run / "config.toml").write_text('name = "digits_mlp"\n')
        rows = []
        for seed, acc in ((0, 0.6), (1, 0.8)):
            row = dict.fromkeys(rd.METRICS_COLUMNS)
            row.update(seed=seed, model="mlp", round=0, epoch=1, test_accuracy=acc, params=100,
                       accepted=1, time=0.1)
            rows.append(row)
        (run / "metrics.csv").write_text(rd.metrics_csv(rows))
    return d


def test_summary_numbers_are_those_computed_by_hand(tmp_path):
    d = make_search(tmp_path)
    text = write_search_summary(d, baselines=[tmp_path / "digits_mlp"])
    assert (d / "summary.md").read_text() == text
    assert text.startswith("# xor_grow_test (search)\n")
    assert "**Solved: 1 of 2 seeds.**" in text
    # per-seed rows in seed order, whatever the file's order
    assert text.index("| 0 | yes | 2 | 7 | 1.50 | 100.00 % | 100.00 % | 4 | 1 |") < \
        text.index("| 1 | no | 3 | 13 | 2.50 | 75.00 % | 50.00 % | 4 | 1 |")
    # evaluations 7, 13: mean 10, sample std sqrt(18) = 4.24; solved: 7 alone, std 0
    assert "| evaluated networks | 10 ± 4 | 7 ± 0 |" in text
    # wall 1.5, 2.5: 2.00 ± 0.71; total 4.00 s
    assert "| wall time per seed (s) | 2.00 ± 0.71 | 1.50 ± 0.00 |" in text
    assert "Total wall time over the seeds: 4.00 s." in text
    assert "| winners' hidden nodes | 1.0 ± 0.0 | |" in text
    assert "| winners' test accuracy | 75.00 ± 35.36 % | |" in text
    # what was searched: the [search] keys and the schedule
    assert "| population | `4` |" in text and "| selection | `\"pareto\"` |" in text
    assert "`split_edge` (p 0.5); `N` (value_max 1.0)" in text
    # the best per seed: its snapshot, 2 generations of ancestors, the ops along the way
    assert ("| 0 | [g2-0](snapshots/seed0/best.json) | 2 | 6 | split_edge, add_edge, N "
            "(split_edge x1, add_edge x1, N x1) |") in text
    # repeats along a lineage run together
    lines = (d / "lineage.jsonl").read_text().replace(  # seed 0's g2-0: add_edge twice
        '"ops": [{"name": "add_edge"', '"ops": [{"name": "add_edge", "letter": null, '
        '"args": {}}, {"name": "add_edge"', 1)
    (d / "lineage.jsonl").write_text(lines)
    assert ("| split_edge, add_edge x2, N (add_edge x2, split_edge x1, N x1) |"
            in write_search_summary(d))
    # the baseline run: mlp 0.6 and 0.8 -> 70.00 ± 14.14 %, 100 parameters; the winners'
    # edges 4, 4 and parameters 6 (4 edges + the biases of h0 and y0) per seed
    assert "| search: best per seed | 4 ± 0 | 6 ± 0 | 75.00 ± 35.36 % | 2 |" in text
    assert "| digits_mlp: mlp | - | 100 | 70.00 ± 14.14 % | 2 |" in text


def test_summary_without_baselines_or_figures_says_so(tmp_path):
    d = make_search(tmp_path, baseline=False)
    text = write_search_summary(d)
    assert "fixed-topology baselines" not in text
    assert "`plots/front.png` (not drawn;" in text
    plot_search(d)  # rewrites the summary already there: its figures are now shown
    text = (d / "summary.md").read_text()
    assert "![Pareto front per generation" in text and "(plots/lineage_seed0.png)" in text
    assert "not drawn" not in text


def test_baselines_named_in_the_search_section_are_read(tmp_path):
    d = make_search(tmp_path)
    (d / "config.toml").write_text(CONFIG + 'baselines = ["digits_mlp"]\n')  # beside SEARCH
    text = write_search_summary(d)
    assert "| digits_mlp: mlp | - | 100 | 70.00 ± 14.14 % | 2 |" in text
    assert "| baselines |" not in text


def test_without_a_stop_rule_nothing_is_called_solved(tmp_path):
    d = make_search(tmp_path, baseline=False)
    (d / "config.toml").write_text(CONFIG.replace("fitness_threshold = 1.0\n", ""))
    text = write_search_summary(d)
    assert "Solved:" not in text and "No stop rule" in text
    assert "| 0 | - | 2 | 7 | 1.50 |" in text


def test_named_baseline_that_is_not_a_run_is_refused(tmp_path):
    d = make_search(tmp_path, baseline=False)
    with pytest.raises(DataError, match=r"baselines: .*nowhere is not a run directory"):
        write_search_summary(d, baselines=[tmp_path / "nowhere"])


def test_not_a_search_directory(tmp_path):
    with pytest.raises(DataError, match="not a search directory"):
        write_search_summary(tmp_path)
    (tmp_path / "search.json").write_text('{"kind": "sweep"}')
    with pytest.raises(DataError, match='expected kind "search"'):
        load_search(tmp_path)


def test_results_missing_a_column_is_named(tmp_path):
    d = make_search(tmp_path)
    (d / "results.csv").write_text("seed,solved\n0,True\n")
    with pytest.raises(DataError, match=r"results.csv: missing column\(s\) generations"):
        load_search(d)


def test_stats_and_chain(tmp_path):
    data = load_search(make_search(tmp_path))
    st = search_stats(data)
    assert st["solved"] == 1 and st["evaluations"] == pytest.approx((10.0, 18 ** 0.5))
    assert [r["id"] for r in data.chain(0)] == ["g0-0", "g1-0", "g2-0"]
    assert data.best_id(1) == "g2-0"


def test_pareto_front_by_hand():
    assert pareto_front([0.5, 0.25, 0.75, 0.5, 0.5, 1.0, 0.5], [2, 2, 3, 1, 2, 4, 1]) == [3, 2, 5]
    assert pareto_front([None, 0.5], [1, 2]) == [1]
    assert pareto_front([0.2, 0.1], [1, 1], maximize=False) == [1]


def test_every_figure_is_drawn_and_not_blank(tmp_path):
    d = make_search(tmp_path)
    files = plot_search(d)
    assert sorted(f.name for f in files) == sorted(
        ["front.png", "fitness.png", "evolution_seed0.png", "matrices_seed0.png",
         "lineage_seed0.png"])
    for f in files:
        img = np.asarray(Image.open(f).convert("L"))
        assert img.shape[0] > 100 and img.std() > 5, f.name  # something drawn, not one colour


def test_front_and_fitness_draw_the_recorded_values(tmp_path):
    data = load_search(make_search(tmp_path))
    ax = plot_front(data, seeds=[0]).axes[0]
    last = ax.lines[-1]  # the front after the last generation: (1, .5), (3, .75), (4, 1)
    assert last.get_xdata().tolist() == [1, 3, 4]
    assert last.get_ydata().tolist() == [0.5, 0.75, 1.0]
    ax = plot_fitness(data).axes[0]
    assert ax.lines[0].get_xdata().tolist() == [4, 7, 7]        # seed 0: best
    assert ax.lines[0].get_ydata().tolist() == [0.5, 0.75, 1.0]
    assert ax.lines[3].get_ydata().tolist() == [0.375, 0.5, 0.5, 0.5]  # seed 1: median


def test_lineage_tree_holds_the_ancestors_and_their_siblings(tmp_path):
    g = lineage_tree(load_search(make_search(tmp_path)), 0)
    assert sorted(g.nodes) == ["g0-0", "g1-0", "g1-1", "g2-0"]
    assert sorted(n for n in g if g.nodes[n]["on_path"]) == ["g0-0", "g1-0", "g2-0"]
    assert g.edges["g1-0", "g2-0"]["ops"] == "add_edge, N"
    assert g.edges["g0-0", "g1-1"]["ops"] == "A"


@pytest.mark.parametrize("name, start, ops", [
    ("xor_grow", "minimal", ["split_edge", "add_edge", "threshold", "assign"]),
    ("digits_search", "minimal", ["split_edge", "add_edge", "threshold", "assign"]),
    pytest.param("mnist1d_search", "layered",  # its check dry-runs the schedule on 275k edges
                 ["prune_per_layer", "prune_smallest", "regrow", "split_edge", "assign"],
                 marks=pytest.mark.slow)])
def test_ready_search_configs_load(name, start, ops):
    cfg = load_config(EXPERIMENTS / f"{name}.toml")
    assert cfg.name == name and cfg["network"]["start"] == start
    assert [e["op"] for e in cfg["mutation"]["schedule"]] == ops
    assert cfg["search"]["selection"] == "pareto" and cfg["search"]["objective"] == "val_accuracy"
    if name == "xor_grow":  # NEAT's benchmark: 20 seeds, stop when all four points are right
        assert len(cfg["seeds"]) == 20 and cfg["search"]["population"] <= 150
        assert (cfg["search"]["stop_metric"], cfg["search"]["fitness_threshold"]) == \
            ("train_accuracy", 1.0)


def test_search_example_runs(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("search_example",
                                                  EXPERIMENTS / "search_example.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    res = mod.main(str(tmp_path / "ex"), tiny=True)
    out = capsys.readouterr().out
    assert res.complete and "solved 2 of 2 seeds" in out
    assert "generation 0: " in out and "(start)" in out
    assert (tmp_path / "ex" / "summary.md").is_file()
