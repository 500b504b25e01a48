"""Tests for graphnet.lab.plots: reading run directories and drawing their figures.

The run directories here are fakes written exactly to the lab spec's format (config.toml,
metrics.csv, history.jsonl, state.json, snapshots/<model>/seed<S>/round<RRR>.json); pruning is
simulated by zeroing the smallest weights with ``GraphNetwork.with_params``.
"""

from __future__ import annotations

import csv
import json
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from PIL import Image

from graphnet.cli import main
from graphnet.errors import DataError, InputError, InputTypeError
from graphnet.graph.network import GraphNetwork
from graphnet.lab import rundir as rd
from graphnet.lab.plots import (
    compare_runs,
    graph_layout,
    load_run,
    plot_comparison,
    plot_evolution,
    plot_graph,
    plot_learning_curves,
    plot_matrices,
    plot_rounds,
    plot_run,
    animate_evolution,
)
from graphnet.lab.rundir import METRICS_COLUMNS
from graphnet.lab.summary import final_results
from graphnet.rng import make_rng

DPI = 30
CONFIG = """\
name = "fake"

[data]
name = "digits"

[train]
epochs = 4
lr = 0.01

[rounds]
count = {rounds}
policy = "if-better"
"""


# ----------------------------------------------------------------------------------------
# a fake run directory, written to the spec's format
# ----------------------------------------------------------------------------------------


def _prune(net, fraction, rng):
    """'Train' (jitter the weights), then zero the smallest ``fraction`` of the edges."""
    W = net.matrix()
    mask = W != 0
    W = np.where(mask, W * (1 + 0.2 * rng.standard_normal(W.shape)), 0.0)
    mags = np.abs(W[mask])
    k = int(fraction * mags.size)
    if k:
        cut = np.sort(mags)[k - 1]
        W[np.abs(W) <= cut] = 0.0
    return net.with_params(W, net.biases())


def _fmt(v):
    return "" if v is None else str(v)


def write_fake_run(path, *, seeds=(0, 1), rounds=3, models=("graph", "fixed-graph", "mlp"),
                   mode="feedforward", sizes=(4, 8, 3), rejected=((1, 2),)):
    """Write a run directory; return {(model, seed): [nets]} and the metrics rows written.

    ``rejected`` lists (seed, round) pairs of the graph model whose mutation was rejected.
    """
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "config.toml"), "w") as fh:
        fh.write(CONFIG.format(rounds=rounds))
    rows, history, nets_out = [], [], {}
    n_in, n_hid, n_out = sizes
    for seed in seeds:
        rng = make_rng(seed)
        for model in models:
            graphy = model in ("graph", "fixed-graph", "set")
            n_rounds = rounds + 1 if graphy else 1
            if graphy:
                net = GraphNetwork.random(n_in, n_hid, n_out, 0.6, seed=seed, mode=mode)
                nets = []
            for rnd in range(n_rounds):
                if graphy:
                    before = net.n_edges
                    fraction = {"graph": 0.25, "set": 0.1}.get(model, 0.0) if rnd else 0.0
                    attempt = _prune(net, fraction, rng)
                    # like the runner: a rejected round's rows describe the attempt, its
                    # snapshot holds the network kept
                    if not (model == "graph" and (seed, rnd) in rejected):
                        net = attempt
                    nets.append(net)
                    if model == "graph" and rnd:
                        history.append({"seed": seed, "model": model, "round": rnd,
                                        "name": "prune_smallest", "letter": "",
                                        "args": {"fraction": 0.25},
                                        "dropped_edges": before - attempt.n_edges,
                                        "edges_before": before, "edges_after": attempt.n_edges,
                                        "accepted": (seed, rnd) not in rejected})
                epochs = 4 if rnd == 0 else 2
                for ep in range(1, epochs + 1):
                    t = rnd * 2 + ep
                    acc = 1 - 0.5 / t - 0.02 * seed - 0.03 * models.index(model)
                    last = ep == epochs
                    edges = attempt.n_edges if graphy else None
                    params = (attempt.n_edges + n_hid + n_out) if graphy else 1000
                    accepted = None
                    if last:
                        accepted = 0 if (model == "graph" and (seed, rnd) in rejected) else 1
                    rows.append({
                        "seed": seed, "model": model, "round": rnd, "epoch": ep,
                        "loss": round(1.0 / t + 0.05 * seed + 0.1 * models.index(model), 6),
                        "accuracy": round(acc, 6),
                        "val_loss": round(1.2 / t, 6), "val_accuracy": round(acc - 0.03, 6),
                        "test_loss": round(1.1 / t, 6) if last else None,
                        "test_accuracy": round(acc - 0.04, 6) if last else None,
                        "edges": edges, "nodes": net.n_nodes if graphy else None,
                        "params": params, "det": 0.0 if graphy else None,
                        "rank": 5 if graphy else None, "accepted": accepted, "time": 0.01,
                    })
            if graphy:
                d = os.path.join(path, "snapshots", model, f"seed{seed}")
                os.makedirs(d, exist_ok=True)
                for rnd, n in enumerate(nets):
                    n.to_node_link(os.path.join(d, f"round{rnd:03d}.json"))
                nets_out[(model, seed)] = nets
    with open(os.path.join(path, "metrics.csv"), "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(METRICS_COLUMNS)
        for r in rows:
            w.writerow([_fmt(r[c]) for c in METRICS_COLUMNS])
    with open(os.path.join(path, "history.jsonl"), "w") as fh:
        for h in history:
            fh.write(json.dumps(h) + "\n")
    with open(os.path.join(path, "state.json"), "w") as fh:
        json.dump({"version": 1, "complete": True, "jobs": {}}, fh)
    return nets_out, rows


@pytest.fixture
def fake_run(tmp_path):
    path = tmp_path / "run_a"
    nets, rows = write_fake_run(path)
    return path, nets, rows


def _png_ok(path):
    assert os.path.getsize(path) > 0
    with Image.open(path) as im:
        im.verify()
    with Image.open(path) as im:
        assert im.format == "PNG"
        return im.size


# ----------------------------------------------------------------------------------------
# reading
# ----------------------------------------------------------------------------------------


def test_load_run_reads_every_file(fake_run):
    path, nets, rows = fake_run
    run = load_run(path)
    assert run.config["rounds"]["count"] == 3 and run.config["data"]["name"] == "digits"
    assert run.state == {"version": 1, "complete": True, "jobs": {}}
    assert run.models == ["graph", "fixed-graph", "mlp"]
    assert run.seeds == [0, 1]
    # every cell typed back to what was written; empty cells are None
    assert run.metrics == rows
    assert type(run.metrics[0]["seed"]) is int and type(run.metrics[0]["loss"]) is float
    assert len(run.history) == 2 * 3  # graph, 2 seeds x rounds 1..3
    assert {h["round"] for h in run.history} == {1, 2, 3}
    assert sorted(run.snapshots) == sorted(nets)
    for key, expected in nets.items():
        assert run.snapshots[key] == expected
        assert run.snapshots.rounds(key) == list(range(len(expected)))
    assert run.rows("mlp", 1) == [r for r in rows if r["model"] == "mlp" and r["seed"] == 1]


def test_snapshots_are_read_lazily(fake_run):
    path, nets, _ = fake_run
    run = load_run(path)  # snapshots not read yet: a broken file only fails on access
    bad = path / "snapshots" / "graph" / "seed1" / "round002.json"
    bad.write_text("{not json")
    assert len(run.snapshots[("graph", 0)]) == 4
    with pytest.raises(DataError, match=r"round002\.json: not valid JSON"):
        run.snapshots[("graph", 1)]


def test_snapshot_gap_is_named(fake_run):
    path, _, _ = fake_run
    (path / "snapshots" / "graph" / "seed0" / "round001.json").unlink()
    run = load_run(path)
    with pytest.raises(DataError, match=r"seed0: .*without a gap; missing round001\.json"):
        run.snapshots[("graph", 0)]


def test_load_run_not_a_run(tmp_path):
    with pytest.raises(DataError, match=r"missing config\.toml, metrics\.csv"):
        load_run(tmp_path)
    (tmp_path / "config.toml").write_text("a = 1\n")
    with pytest.raises(DataError, match=r"not a run directory: missing metrics\.csv$"):
        load_run(tmp_path)
    with pytest.raises(DataError, match=r"no such directory"):
        load_run(tmp_path / "nope")
    with pytest.raises(DataError, match=r"config\.toml: not a run directory \(a file\)"):
        load_run(tmp_path / "config.toml")
    with pytest.raises(InputTypeError, match="run_dir must be a path"):
        load_run(3)


def test_load_run_bad_files(fake_run):
    path, _, _ = fake_run
    (path / "history.jsonl").write_text('{"a": 1}\n[oops\n')
    with pytest.raises(DataError, match=r"history\.jsonl: line 2 is not valid JSON"):
        load_run(path)
    (path / "history.jsonl").unlink()
    assert load_run(path).history == []  # optional file
    (path / "config.toml").write_text("name = \n")
    with pytest.raises(DataError, match=r"config\.toml: not valid TOML"):
        load_run(path)


def _write_csv(path, header, *lines):
    path.write_text("\n".join([",".join(header), *lines]) + "\n")
    return path


def test_read_metrics_errors(tmp_path):
    f = tmp_path / "metrics.csv"
    _write_csv(f, [c for c in METRICS_COLUMNS if c not in ("det", "time")])
    with pytest.raises(DataError, match=r"missing column\(s\) det, time"):
        rd.read_metrics(f, exact_header=False)
    good = "0,mlp,0,1,0.5,0.8,,,,,,,650,,,,0.1"
    _write_csv(f, METRICS_COLUMNS, good, good.replace("0.5", "abc"))
    with pytest.raises(DataError, match=r"line 3, column 'loss': expected a number, got 'abc'"):
        rd.read_metrics(f, exact_header=False)
    _write_csv(f, METRICS_COLUMNS, good.replace(",650,", ",6.5,"))
    with pytest.raises(DataError, match=r"line 2, column 'params': expected an integer"):
        rd.read_metrics(f, exact_header=False)
    _write_csv(f, METRICS_COLUMNS, good + ",7")
    with pytest.raises(DataError, match=r"line 2 has 18 fields, expected 17"):
        rd.read_metrics(f, exact_header=False)
    _write_csv(f, METRICS_COLUMNS, "," + good[2:])
    with pytest.raises(DataError, match=r"line 2: column 'seed' is empty"):
        rd.read_metrics(f, exact_header=False)
    f.write_text("")
    with pytest.raises(DataError, match="empty file"):
        rd.read_metrics(f, exact_header=False)


def test_read_metrics_types_and_extra_columns(tmp_path):
    header = [*reversed(METRICS_COLUMNS), "note"]
    values = {"time": "0.25", "rank": "3.0", "loss": "0.75", "epoch": "4", "round": "1",
              "model": "graph", "seed": "2", "note": "hello"}
    f = _write_csv(tmp_path / "m.csv", header, ",".join(values.get(c, "") for c in header))
    (row,) = rd.read_metrics(f, exact_header=False)
    assert row["seed"] == 2 and row["model"] == "graph" and row["round"] == 1 and row["epoch"] == 4
    assert row["loss"] == 0.75 and row["time"] == 0.25 and row["rank"] == 3
    assert row["accepted"] is None and row["note"] == "hello"


# ----------------------------------------------------------------------------------------
# layout and one graph
# ----------------------------------------------------------------------------------------


def test_layout_layered_exact():
    pos = graph_layout(GraphNetwork.layered([2, 3, 1], seed=0))
    expected = [[0, 0.75], [0, 0.25], [1, 5 / 6], [1, 0.5], [1, 1 / 6], [2, 0.5]]
    np.testing.assert_allclose(pos, expected)


def test_layout_staggers_graphs_with_skipping_edges():
    n = 6  # a chain 0 -> 1 -> ... -> 5: one node per column, centred
    W = np.diag(np.ones(n - 1), k=1)
    chain = graph_layout(GraphNetwork.from_matrix(W, [0], [n - 1]))
    np.testing.assert_allclose(chain, np.c_[np.arange(n), np.full(n, 0.5)])
    W[0, 3] = 1.0  # an edge over columns 1 and 2: every column but the inputs' is shifted
    pos = graph_layout(GraphNetwork.from_matrix(W, [0], [n - 1]))
    golden = (np.sqrt(5) - 1) / 2
    expected_y = [0.5] + [0.5 + 0.8 * ((c * golden) % 1 - 0.5) for c in range(1, n)]
    np.testing.assert_allclose(pos, np.c_[np.arange(n), expected_y])


def _bfs(net):
    """Independent BFS distance from the inputs over the dense matrix (-1 = unreachable)."""
    A = net.matrix() != 0
    dist = np.full(net.n_nodes, -1)
    dist[net.inputs] = 0
    frontier, d = set(net.inputs.tolist()), 0
    while frontier:
        d += 1
        nxt = {int(j) for i in frontier for j in np.flatnonzero(A[i]) if dist[j] < 0}
        for j in nxt:
            dist[j] = d
        frontier = nxt
    return dist


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 5), st.integers(0, 25), st.integers(1, 3), st.floats(0.05, 1.0),
       st.integers(0, 2**31), st.sampled_from(["feedforward", "recurrent"]))
def test_layout_invariants(n_in, n_hid, n_out, density, seed, mode):
    net = GraphNetwork.random(n_in, n_hid, n_out, density, seed, mode=mode)
    # prune a few edges so that recurrent graphs may have unreachable nodes
    W = net.matrix()
    W[np.abs(W) < np.quantile(np.abs(W[W != 0]), 0.3)] = 0
    net = net.with_params(W, net.biases())
    pos = graph_layout(net)
    if mode == "feedforward":
        assert (pos[:, 0] == net.depths()).all()
    else:
        dist = _bfs(net)
        last = dist.max() + 1
        assert (pos[:, 0] == np.where(dist < 0, last, dist)).all()
    assert (pos[net.inputs, 0] == 0).all()
    for c in np.unique(pos[:, 0]):
        ys = pos[pos[:, 0] == c, 1]
        assert ((ys > 0) & (ys < 1)).all()
        gaps = -np.diff(ys)  # node order, top to bottom, evenly spaced
        assert (gaps > 0).all() and np.allclose(gaps, 1 / len(ys))


def _edge_collection(fig):
    (lc,) = [c for c in fig.axes[0].collections if c.get_gid() == "edges"]
    return lc


def test_plot_graph_lines_encode_sign_and_magnitude(tmp_path):
    net = GraphNetwork.random(6, 20, 3, 0.5, seed=4)
    w = np.array([w for _, _, w in net.edges()])
    fig = plot_graph(net, arrows=False, path=tmp_path / "g.png", dpi=DPI)
    signs = {h.get_label(): h.get_color() for h in fig.axes[0].get_legend().legend_handles}
    assert isinstance(fig, Figure)
    _png_ok(tmp_path / "g.png")
    lc = _edge_collection(fig)
    assert len(lc.get_segments()) == net.n_edges
    rgb = lc.get_colors()[:, :3]
    blue, red = np.array(to_rgba(signs["w > 0"])[:3]), np.array(to_rgba(signs["w < 0"])[:3])
    assert (rgb == blue).all(axis=1).sum() == (w > 0).sum()
    assert (rgb == red).all(axis=1).sum() == (w < 0).sum()
    # width ~ |w| / max|w| (with a 0.15 floor), drawn weakest first
    lw_max = 3.0 if net.n_edges <= 100 else 2.0
    expected = np.maximum(lw_max * np.sort(np.abs(w)) / np.abs(w).max(), 0.15)
    np.testing.assert_allclose(lc.get_linewidths(), expected)
    alpha = lc.get_colors()[:, 3]
    assert (np.diff(alpha) >= 0).all() and alpha[-1] > alpha[0]
    # nodes where the layout puts them, coloured by role
    (nodes,) = [c for c in fig.axes[0].collections if c.get_gid() == "nodes"]
    np.testing.assert_allclose(nodes.get_offsets(), graph_layout(net))
    # a shared wmax twice as large halves every width (above the floor)
    lc2 = _edge_collection(plot_graph(net, arrows=False, wmax=2 * np.abs(w).max()))
    np.testing.assert_allclose(lc2.get_linewidths(), np.maximum(expected / 2, 0.15))


def test_plot_graph_arrows_for_small_graphs():
    net = GraphNetwork.seed_example()  # 7 edges, recurrent, no self-loop
    fig = plot_graph(net)
    arrows = [p for p in fig.axes[0].patches if p.get_gid() == "edge"]
    assert len(arrows) == 7
    assert not [c for c in fig.axes[0].collections if c.get_gid() == "edges"]
    assert fig.axes[0].get_legend() is not None
    big = GraphNetwork.random(20, 40, 5, 0.5, seed=0)
    assert not [p for p in plot_graph(big).axes[0].patches if p.get_gid() == "edge"]


def test_plot_graph_self_loops_and_empty_graph():
    W = np.zeros((4, 4))
    W[0, 1], W[1, 1], W[1, 2], W[2, 2], W[2, 3] = 1.0, -0.5, 0.7, 0.2, 1.0
    net = GraphNetwork.from_matrix(W, [0], [3], mode="recurrent")
    ax = plot_graph(net).axes[0]
    assert len([p for p in ax.patches if p.get_gid() == "edge"]) == 3
    (loops,) = [c for c in ax.collections if c.get_gid() == "edges"]
    assert len(loops.get_segments()) == 2
    bare = GraphNetwork.from_matrix(np.zeros((3, 3)), [0], [2])
    ax = plot_graph(bare).axes[0]
    assert not [p for p in ax.patches if p.get_gid() == "edge"]


def test_plot_graph_on_given_axes_and_errors():
    fig = Figure()
    ax = fig.add_subplot()
    assert plot_graph(GraphNetwork.layered([2, 2], seed=0), ax, title="t") is fig
    assert ax.get_title() == "t" and ax.get_legend() is None
    with pytest.raises(InputTypeError, match="expected a GraphNetwork, got ndarray"):
        plot_graph(np.eye(3))


# ----------------------------------------------------------------------------------------
# sequences of networks
# ----------------------------------------------------------------------------------------


def test_plot_evolution_titles_and_scale(fake_run, tmp_path):
    path, nets, rows = fake_run
    snaps = nets[("graph", 1)]
    seed_rows = [r for r in rows if r["model"] == "graph" and r["seed"] == 1]
    fig = plot_evolution(snaps, seed_rows, path=tmp_path / "e.png", dpi=DPI)
    _png_ok(tmp_path / "e.png")
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == len(snaps)
    for rnd, (ax, net) in enumerate(zip(axes, snaps)):
        # the fake rejects seed 1, round 2: its panel shows the network kept from round 1
        kept = 1 if rnd == 2 else rnd
        (end,) = [r for r in seed_rows if r["round"] == kept and r["test_accuracy"] is not None]
        title = ax.get_title()
        assert title.startswith(f"round {rnd} · {net.n_edges} edges · "
                                f"test acc {end['test_accuracy']:.3f}")
        assert title.endswith("(mutation rejected)") == (rnd == 2)
    wmax = max(np.abs(n.matrix()).max() for n in snaps)
    top = max(_lc_or_arrows_max_width(ax) for ax in axes)
    assert top == pytest.approx(3.0)  # the strongest edge of the figure at full width
    assert f"{wmax:.3g}" in fig.get_suptitle()


def _lc_or_arrows_max_width(ax):
    widths = [p.get_linewidth() for p in ax.patches if p.get_gid() == "edge"]
    widths += [w for c in ax.collections if c.get_gid() == "edges" for w in c.get_linewidths()]
    return max(widths)


def test_plot_evolution_many_rounds_and_errors():
    nets = [GraphNetwork.layered([2, 2], seed=s) for s in range(45)]
    fig = plot_evolution(nets)
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert len(titles) == 30
    assert titles[0].startswith("round 0 ") and titles[-1].startswith("round 44 ")
    assert "(30 of 45 rounds)" in fig.get_suptitle()
    with pytest.raises(InputError, match="snapshots is empty"):
        plot_evolution([])
    with pytest.raises(InputTypeError, match=r"snapshots\[1\] is a str"):
        plot_evolution([nets[0], "x"])
    rows = [dict(seed=s, model="graph", round=0, epoch=1, test_accuracy=0.5) for s in (0, 1)]
    with pytest.raises(InputError, match=r"one model and seed, got 2"):
        plot_evolution(nets[:1], rows)
    with pytest.raises(InputError, match="rounds has 1 entries, snapshots 2"):
        plot_evolution(nets[:2], rounds=[0])


def test_plot_matrices_shared_symmetric_scale(fake_run, tmp_path):
    _, nets, _ = fake_run
    snaps = nets[("graph", 0)]
    fig = plot_matrices(snaps, path=tmp_path / "m.png", dpi=DPI)
    _png_ok(tmp_path / "m.png")
    images = [im for ax in fig.axes for im in ax.images if im.get_gid() == "matrix"]
    assert len(images) == len(snaps)
    m = max(np.abs(n.matrix()).max() for n in snaps)
    for im, net in zip(images, snaps):
        np.testing.assert_array_equal(im.get_array(), net.matrix())
        assert (im.norm.vmin, im.norm.vmax) == (-m, m)
        assert im.get_cmap().name == "RdBu"
    assert [ax.get_title() for ax in fig.axes if ax.images][:2] == [
        f"round 0 · {snaps[0].n_edges} edges", f"round 1 · {snaps[1].n_edges} edges"]
    assert any(ax.get_label() == "<colorbar>" for ax in fig.axes)
    # every node named up to 40 nodes; beyond, a few names at role-block starts and between
    small = plot_matrices([GraphNetwork.layered([2, 1], seed=0)]).axes[0]
    assert [t.get_text() for t in small.get_xticklabels()] == ["x0", "x1", "y0"]
    mid = GraphNetwork.random(10, 10, 2, 0.3, seed=0)
    ax = plot_matrices([mid]).axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == list(mid.names)
    big = GraphNetwork.layered([30, 20, 5], seed=0)
    ax = plot_matrices([big]).axes[0]
    ticks = [int(t) for t in ax.get_xticks()]
    assert 5 <= len(ticks) <= 12 and {0, 30, 50, 54} <= set(ticks)
    assert [t.get_text() for t in ax.get_xticklabels()] == [big.names[t] for t in ticks]


def test_animate_evolution_gif(fake_run, tmp_path):
    _, nets, rows = fake_run
    snaps = nets[("graph", 0)]
    out_dir = tmp_path / "gifs"
    out = animate_evolution(snaps, out_dir / "a.gif", dpi=DPI,
                            metrics_rows=[r for r in rows if r["model"] == "graph"
                                          and r["seed"] == 0])
    assert out == out_dir / "a.gif"
    with Image.open(out) as im:
        assert im.format == "GIF" and im.n_frames == len(snaps)
        assert im.info["duration"] == 1000  # 1 frame per second
    assert [p.name for p in out_dir.iterdir()] == ["a.gif"]  # no temp file left
    with pytest.raises(InputError, match="fps must be a positive number"):
        animate_evolution(snaps, tmp_path / "b.gif", fps=0)


# ----------------------------------------------------------------------------------------
# metrics figures
# ----------------------------------------------------------------------------------------


def test_learning_curves_mean_and_round_lines(fake_run, tmp_path):
    _, _, rows = fake_run
    fig = plot_learning_curves(rows, path=tmp_path / "lc.png", dpi=DPI)
    _png_ok(tmp_path / "lc.png")
    ax_loss, ax_acc = fig.axes[:2]
    for ax, col, label in ((ax_loss, "loss", "graph train"), (ax_acc, "val_accuracy",
                                                              "fixed-graph val")):
        (line,) = [ln for ln in ax.lines if ln.get_label() == label]
        model = label.split()[0]
        per_seed = [[r[col] for r in sorted((r for r in rows if r["model"] == model
                                             and r["seed"] == s),
                                            key=lambda r: (r["round"], r["epoch"]))]
                    for s in (0, 1)]
        np.testing.assert_allclose(line.get_ydata(), np.mean(per_seed, axis=0))
        np.testing.assert_array_equal(line.get_xdata(), np.arange(1, 11))  # 4 + 3 x 2 epochs
    mlp = [ln for ln in ax_loss.lines if ln.get_label() == "mlp train"][0]
    assert len(mlp.get_xdata()) == 4
    boundaries = sorted(ln.get_xdata()[0] for ln in ax_loss.lines
                        if ln.get_label().startswith("_") and len(set(ln.get_xdata())) == 1)
    assert boundaries == [4.5, 6.5, 8.5]
    assert len(ax_loss.collections) == 6  # min-max bands: 3 models x train/val


def test_plot_rounds_values(fake_run, tmp_path):
    _, _, rows = fake_run
    fig = plot_rounds(rows, path=tmp_path / "r.png", dpi=DPI)
    _png_ok(tmp_path / "r.png")
    ax_e, ax_a = fig.axes[:2]
    ends = {(r["model"], r["seed"], r["round"]): r for r in rows if r["test_accuracy"] is not None}
    graph_edges = [np.mean([ends[("graph", s, k)]["edges"] for s in (0, 1)]) for k in range(4)]
    graph_acc = [np.mean([ends[("graph", s, k)]["test_accuracy"] for s in (0, 1)])
                 for k in range(4)]
    bars_e = {c.get_label(): c for c in ax_e.containers}
    bars_a = {c.get_label(): c for c in ax_a.containers}
    np.testing.assert_allclose(bars_e["graph"].lines[0].get_ydata(), graph_edges)
    np.testing.assert_allclose(bars_a["graph"].lines[0].get_ydata(), graph_acc)
    # rounds on x, the models dodged sideways by less than a tenth of a round
    x = bars_a["graph"].lines[0].get_xdata()
    assert np.abs(x - np.arange(4)).max() < 0.1
    assert list(bars_e) == ["graph", "fixed-graph"]  # no edges for a dense baseline
    (mlp,) = [ln for ln in ax_a.lines if ln.get_label() == "mlp (round 0 only)"]
    assert mlp.get_ydata()[0] == pytest.approx(
        np.mean([ends[("mlp", s, 0)]["test_accuracy"] for s in (0, 1)]))
    # std over seeds as error bars (sample std)
    seg = bars_a["graph"].lines[2][0].get_segments()
    expected_std = [np.std([ends[("graph", s, k)]["test_accuracy"] for s in (0, 1)], ddof=1)
                    for k in range(4)]
    np.testing.assert_allclose([(s[1, 1] - s[0, 1]) / 2 for s in seg], expected_std)


def test_final_results_skips_rejected_rounds(fake_run):
    _, _, rows = fake_run
    edited = [dict(r) for r in rows]
    for r in edited:  # reject seed 0's last round too
        if (r["model"], r["seed"], r["round"]) == ("graph", 0, 3) and r["accepted"] is not None:
            r["accepted"] = 0
    fin = final_results(edited)
    assert list(fin) == ["graph", "fixed-graph", "mlp"]
    assert [(d["seed"], d["round"]) for d in fin["graph"]] == [(0, 2), (1, 3)]
    assert [(d["seed"], d["round"]) for d in fin["mlp"]] == [(0, 0), (1, 0)]
    expected = [r for r in rows if r["model"] == "graph" and r["seed"] == 0 and r["round"] == 2
                and r["test_accuracy"] is not None][0]
    assert fin["graph"][0]["test_accuracy"] == expected["test_accuracy"]
    assert fin["graph"][0]["params"] == expected["params"]
    unfinished = [r for r in rows if r["test_accuracy"] is None]
    assert final_results(unfinished) == {}


def test_plot_comparison(fake_run, tmp_path):
    _, _, rows = fake_run
    fig = plot_comparison(rows, path=tmp_path / "c.png", dpi=DPI)
    _png_ok(tmp_path / "c.png")
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    fin = final_results(rows)
    for model, results in fin.items():
        (bar,) = [c for c in ax.containers if c.get_label() == model]
        x, y = bar.lines[0].get_data()
        assert y[0] == pytest.approx(np.mean([d["test_accuracy"] for d in results]))
        assert x[0] == pytest.approx(np.mean([d["params"] for d in results]))
    labels = sorted(t.get_text().split("\n")[0] for t in ax.texts)
    assert labels == sorted(f"{m} · {np.mean([d['params'] for d in fin[m]]):,.0f} params"
                            for m in fin)
    empty = plot_comparison([dict(seed=0, model="mlp", round=0, epoch=1, test_accuracy=None)])
    assert "no completed round yet" in [t.get_text() for t in empty.axes[0].texts]
    with pytest.raises(InputError, match="metrics is empty"):
        plot_comparison([])


def test_comparison_labels_do_not_collide():
    # three models drawn on (nearly) one point, a fourth far away: the three labels are moved
    # apart vertically, the lone one keeps the first label's offset
    rows = [dict(seed=0, model=m, round=0, epoch=1, params=p, test_accuracy=a)
            for m, p, a in (("a", 100, 0.9), ("b", 100, 0.9), ("c", 102, 0.901),
                            ("d", 10_000, 0.5))]
    texts = plot_comparison(rows).axes[0].texts
    assert [t.get_text().split(" ")[0] for t in texts] == ["a", "b", "c", "d"]
    offsets = [t.xyann[1] for t in texts]
    assert len(set(offsets[:3])) == 3 and offsets[3] == offsets[0]


# ----------------------------------------------------------------------------------------
# whole runs
# ----------------------------------------------------------------------------------------


def _expected_files(seeds, models, gif=True):
    names = ["learning_curves.png", "rounds.png", "comparison.png"]
    for model, stem in (("graph", ""), ("set", "set_")):
        if model in models:
            for s in seeds:
                names += [f"evolution_{stem}seed{s}.png", f"matrix_{stem}seed{s}.png"]
                names += [f"evolution_{stem}seed{s}.gif"] if gif else []
    return names


def _check_written(path, written, nets):
    assert all(p.parent == path / "plots" for p in written)
    assert sorted(p.name for p in (path / "plots").iterdir()) == sorted(p.name for p in written)
    for p in written:
        if p.suffix == ".png":
            _png_ok(p)
        else:
            with Image.open(p) as im:
                assert im.format == "GIF" and im.n_frames == len(next(iter(nets.values())))


def test_plot_run_writes_everything(tmp_path):
    path = tmp_path / "run"
    nets, _ = write_fake_run(path, seeds=(0, 3), rounds=2, sizes=(2, 3, 2),
                             models=("graph", "set", "fixed-graph", "mlp"))
    written = plot_run(path, dpi=DPI, gif=False)
    assert [p.name for p in written] == _expected_files((0, 3), ("graph", "set"), gif=False)
    _check_written(path, written, nets)


def test_plot_run_gifs(tmp_path):
    path = tmp_path / "run"
    nets, _ = write_fake_run(path, seeds=(2,), rounds=2, sizes=(2, 3, 2),
                             models=("set", "graph", "mlp"))
    written = plot_run(load_run(path), dpi=DPI)  # a RunData works as well as a path
    assert [p.name for p in written] == _expected_files((2,), ("graph", "set"))
    _check_written(path, written, nets)


def test_plot_run_is_atomic(fake_run, monkeypatch):
    path, _, _ = fake_run
    plots_dir = path / "plots"
    plots_dir.mkdir()
    (plots_dir / "learning_curves.png").write_bytes(b"old")

    def boom(self, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(Figure, "savefig", boom)
    with pytest.raises(OSError, match="disk full"):
        plot_run(path, dpi=DPI, gif=False)
    assert [p.name for p in plots_dir.iterdir()] == ["learning_curves.png"]
    assert (plots_dir / "learning_curves.png").read_bytes() == b"old"


def test_plot_run_without_rows_or_graph(tmp_path):
    path = tmp_path / "run"
    write_fake_run(path, models=("mlp",))
    assert [p.name for p in plot_run(path, dpi=DPI)] == _expected_files((0, 1), ())
    (path / "metrics.csv").write_text(",".join(METRICS_COLUMNS) + "\n")
    with pytest.raises(DataError, match=r"metrics\.csv: no rows yet"):
        plot_run(path)


def test_recurrent_run(tmp_path):
    path = tmp_path / "rec"
    write_fake_run(path, seeds=(0,), rounds=1, models=("graph",), mode="recurrent")
    written = plot_run(path, dpi=DPI, gif=False)
    assert [p.name for p in written] == [n for n in _expected_files((0,), ("graph",))
                                         if not n.endswith(".gif")]


def test_compare_runs_table_and_figure(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    _, rows_a = write_fake_run(a, models=("graph", "mlp"))
    write_fake_run(b, seeds=(0,), models=("graph", "fixed-graph", "cnn"))
    table = compare_runs([a, b], tmp_path / "cmp.png", dpi=DPI)
    _png_ok(tmp_path / "cmp.png")
    lines = table.splitlines()
    assert lines[0] == "| run | model | seeds | params | test accuracy |"
    body = [line.split(" | ") for line in lines[2:]]
    assert [(c[0].strip("| "), c[1]) for c in body] == [
        ("a", "graph"), ("a", "mlp"), ("b", "graph"), ("b", "fixed-graph"), ("b", "cnn")]
    acc = [r["test_accuracy"] for r in rows_a if r["model"] == "mlp" and r["test_accuracy"]]
    assert body[1][2:] == ["2", "1,000", f"{np.mean(acc):.4f} ± {np.std(acc, ddof=1):.4f} |"]
    assert body[2][2] == "1" and body[2][4].endswith("± 0.0000 |")  # one seed: std 0


def test_compare_runs_same_names_and_errors(tmp_path):
    a, b = tmp_path / "x" / "run", tmp_path / "y" / "run"
    write_fake_run(a, models=("mlp",))
    write_fake_run(b, models=("mlp",))
    table = compare_runs([a, b])
    assert f"| {a} | mlp |" in table and f"| {b} | mlp |" in table
    with pytest.raises(DataError, match=r"not a run directory: missing config\.toml"):
        compare_runs([a, tmp_path])
    with pytest.raises(InputError, match="run_dirs is empty"):
        compare_runs([])


# ----------------------------------------------------------------------------------------
# command line
# ----------------------------------------------------------------------------------------


def test_cli_plot(tmp_path, capsys):
    path = tmp_path / "run"
    write_fake_run(path, seeds=(0,), rounds=1, sizes=(2, 3, 2))
    assert main(["plot", str(path), "--dpi", str(DPI), "--no-gif"]) == 0
    out = capsys.readouterr().out.split()
    assert [os.path.basename(p) for p in out] == [
        n for n in _expected_files((0,), ("graph",)) if not n.endswith(".gif")]
    assert all(os.path.getsize(p) > 0 for p in out)


def test_cli_plot_bad_dir(tmp_path, capsys):
    assert main(["plot", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "graphnet plot: error:" in err and "missing config.toml, metrics.csv" in err
    assert main(["plot", str(tmp_path / "missing")]) == 2


def test_cli_plot_refuses_a_plots_file(tmp_path, capsys):
    path = tmp_path / "run"
    write_fake_run(path, seeds=(0,), rounds=1, sizes=(2, 3, 2))
    (path / "plots").write_text("mine\n")
    assert main(["plot", str(path), "--no-gif"]) == 2
    err = capsys.readouterr().err
    assert "graphnet plot: error:" in err and "is not a folder" in err, err
    assert (path / "plots").read_text() == "mine\n"


def test_cli_compare(tmp_path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    write_fake_run(a, models=("graph", "mlp"), seeds=(0,), rounds=1)
    write_fake_run(b, models=("mlp",), seeds=(0,))
    out_png = tmp_path / "fig" / "cmp.png"
    assert main(["compare", str(a), str(b), "--out", str(out_png), "--dpi", str(DPI)]) == 0
    out = capsys.readouterr().out
    assert "| a | graph |" in out and "| a | mlp |" in out and "| b | mlp |" in out
    assert out.strip().endswith(f"written: {out_png}")
    _png_ok(out_png)
    assert main(["compare", str(a), str(tmp_path / "nope")]) == 2
    assert "no such directory" in capsys.readouterr().err
