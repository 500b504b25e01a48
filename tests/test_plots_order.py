"""Plots that compare at a glance: one node order for every round's matrix, same-size models
kept apart in the comparison, accuracy axes zoomed to the data.

Everything is read back through public matplotlib accessors (``AxesImage.get_array``, tick
labels, ``Axes.containers``, ``get_ylim``).
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from graphnet.graph.network import GraphNetwork
from graphnet.graph.extras import remove_node, split_edge
from graphnet.graph.operators import permute_nodes, swap_nodes, threshold
from graphnet.lab.plots import (
    animate_evolution,
    plot_comparison,
    plot_learning_curves,
    plot_matrices,
    plot_rounds,
)
from graphnet.rng import make_rng


def _matrices(fig):
    """The heatmap array of each matrix panel, in panel order."""
    return [np.asarray(ax.images[0].get_array(), dtype=float) for ax in fig.axes if ax.images]


def _ticks(fig, k):
    ax = [ax for ax in fig.axes if ax.images][k]
    return ([t.get_text() for t in ax.get_xticklabels()],
            [t.get_text() for t in ax.get_yticklabels()])


def _h_move(net, seed):
    """A random node permutation that moves most nodes (H)."""
    perm = make_rng(seed).permutation(net.n_nodes)
    assert (perm != np.arange(net.n_nodes)).sum() > net.n_nodes // 2
    return permute_nodes(net, perm.tolist())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matrix_after_h_is_the_same_picture(seed):
    net = GraphNetwork.layered([4, 5, 3], seed=seed)
    moved = _h_move(net, seed)
    assert not np.array_equal(moved.matrix(), net.matrix())  # H did reorder W
    fig = plot_matrices([net, moved, swap_nodes(moved, 0, net.n_nodes - 1)])
    first, after_h, after_swap = _matrices(fig)
    np.testing.assert_array_equal(first, net.matrix())
    np.testing.assert_array_equal(after_h, first)
    np.testing.assert_array_equal(after_swap, first)
    for k in range(3):  # every panel labelled with the start network's names, in its order
        assert _ticks(fig, k) == (list(net.names), list(net.names))


def test_matrix_after_h_then_a_changes_only_the_cut_cells():
    net = GraphNetwork.layered([4, 5, 3], seed=3)
    moved = _h_move(net, 3)
    W = net.matrix()
    a = float(np.quantile(np.abs(W[W != 0]), 0.4))
    cut = threshold(moved, a)  # A: edges with |w| <= a go
    first, after_h, after_a = _matrices(plot_matrices([net, moved, cut]))
    np.testing.assert_array_equal(after_h, first)
    np.testing.assert_array_equal(after_a, np.where(np.abs(W) > a, W, 0.0))
    changed = after_a != after_h
    assert changed.sum() == np.count_nonzero((W != 0) & (np.abs(W) <= a)) > 0


def test_matrix_nodes_added_go_last_and_removed_ones_are_blank():
    net = GraphNetwork.layered([2, 2, 1], seed=0)  # x0 x1 h0 h1 y0
    grown = split_edge(swap_nodes(net, 2, 3), 2, 4)  # h1 (now at 2) -> y0 becomes h1 -> h2 -> y0
    shrunk = remove_node(grown, grown.names.index("h0"))
    fig = plot_matrices([net, grown, shrunk])
    first, second, third = _matrices(fig)
    order = ["x0", "x1", "h0", "h1", "y0", "h2"]
    for k in range(3):
        assert _ticks(fig, k) == (order, order)
    assert first.shape == second.shape == third.shape == (6, 6)
    # round 0 has no h2 yet: its last row and column are blank
    assert np.isnan(first[5]).all() and np.isnan(first[:, 5]).all()
    np.testing.assert_array_equal(first[:5, :5], net.matrix())
    # the split edge h1 -> y0 is now h1 -> h2 (weight 1) -> y0 (the old weight)
    w = net.matrix()[3, 4]
    assert (second[3, 4], second[3, 5], second[5, 4]) == (0.0, 1.0, w)
    # h0 removed: its row and column blank, every other cell as in round 1
    assert np.isnan(third[2]).all() and np.isnan(third[:, 2]).all()
    keep = [0, 1, 3, 4, 5]
    np.testing.assert_array_equal(third[np.ix_(keep, keep)], second[np.ix_(keep, keep)])


def test_gif_frames_after_h_show_the_same_matrix(tmp_path):
    net = GraphNetwork.layered([4, 5, 3], seed=0)
    moved = _h_move(net, 0)
    out = animate_evolution([net, moved, threshold(moved, 0.5)], tmp_path / "e.gif", dpi=40)
    frames = []
    with Image.open(out) as im:
        for k in range(im.n_frames):
            im.seek(k)
            frames.append(np.asarray(im.convert("RGB")).astype(int))
    h, w, _ = frames[0].shape
    # the matrix panel and its colour bar (right 40 %), below the frame title; each GIF frame
    # has its own palette, so colours match only up to quantisation
    diff = [np.abs(f - frames[0])[int(0.12 * h):int(0.9 * h), int(0.6 * w):].max(axis=2)
            for f in frames[1:]]
    assert (diff[0] > 60).sum() == 0  # H only: the same picture
    assert (diff[1] > 60).sum() > 100  # A removed edges: cells turned white


# ----------------------------------------------------------------------------------------
# same-size models in the comparison
# ----------------------------------------------------------------------------------------


def _final_rows(models):
    """Metrics rows, one round, two seeds: ``models`` is ((name, params, accuracy), ...)."""
    return [dict(seed=s, model=m, round=0, epoch=1, params=p, test_accuracy=a)
            for s in (0, 1) for m, p, a in models]


def _points(ax):
    """{model: (x, y)} of the mean markers (the errorbar containers, labelled by model)."""
    out = {}
    for c in ax.containers:
        x, y = c.lines[0].get_data()
        out[c.get_label()] = (float(x[0]), float(y[0]))
    return out


@pytest.mark.parametrize("params", [(4810, 4810), (4810, 4830)])  # equal, and within 1 %
def test_same_size_models_are_set_apart(params):
    rows = _final_rows([("graph", 2952, 0.93), ("fixed-graph", params[0], 0.95),
                        ("mlp", params[1], 0.95), ("cnn", 9000, 0.97)])
    fig = plot_comparison(rows)
    ax = fig.axes[0]
    pts = _points(ax)
    (xf, yf), (xm, ym) = pts["fixed-graph"], pts["mlp"]
    assert yf == ym == 0.95
    # drawn apart: more than a marker's width (8 points) on screen, yet near the true size
    fig.draw_without_rendering()
    px = ax.transData.transform([(xf, yf), (xm, ym)])[:, 0]
    assert abs(px[1] - px[0]) > 8 * fig.dpi / 72
    assert 0.9 < xf / params[0] < 1.0 < xm / params[1] < 1.1
    assert pts["graph"][0] == 2952 and pts["cnn"][0] == 9000  # the others stay in place
    texts = {t.get_text().split(" · ")[0]: t.get_text() for t in ax.texts}
    assert f"{params[0]:,} params" in texts["fixed-graph"]
    assert f"{params[1]:,} params" in texts["mlp"]
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [
        "graph", "fixed-graph", "mlp", "cnn"]
    # sizes 1.9 % apart are not the same size: drawn where they are
    rows = _final_rows([("fixed-graph", 4810, 0.95), ("mlp", 4900, 0.95)])
    pts = _points(plot_comparison(rows).axes[0])
    assert (pts["fixed-graph"][0], pts["mlp"][0]) == (4810, 4900)


# ----------------------------------------------------------------------------------------
# accuracy axes zoom to the data
# ----------------------------------------------------------------------------------------


def _curve_rows(accuracies):
    """One model, two seeds with the same values, one epoch per accuracy (rounds 0 and 1)."""
    return [dict(seed=s, model="graph", round=e // 2, epoch=e % 2 + 1, loss=1.0 / (e + 1),
                 accuracy=a, test_accuracy=a, edges=10, params=20)
            for s in (0, 1) for e, a in enumerate(accuracies)]


@pytest.mark.parametrize("accuracies, limits", [
    ([0.6, 0.7, 0.8, 0.9], (0.576, 0.924)),  # margin 8 % of the span
    ([0.9, 0.95, 0.98, 1.0], (0.88, 1.0)),  # margin at least 0.02; never above 1
    ([1.0, 1.0, 1.0, 1.0], (0.98, 1.0)),  # all equal: a 0.02 margin
    ([0.5, 0.5, 0.5, 0.5], (0.48, 0.52)),
])
def test_learning_curve_accuracy_axis_zooms(accuracies, limits):
    fig = plot_learning_curves(_curve_rows(accuracies))
    acc = [ax for ax in fig.axes if ax.get_title() == "accuracy"][0]
    assert acc.get_ylim() == pytest.approx(limits)


def test_rounds_and_comparison_accuracy_axes_zoom():
    rows = _curve_rows([0.8, 0.9, 0.9, 1.0])  # round ends: 0.9 and 1.0
    fig = plot_rounds(rows)
    acc = [ax for ax in fig.axes if ax.get_title().startswith("test accuracy")][0]
    assert acc.get_ylim() == pytest.approx((0.88, 1.0))
    fig = plot_comparison(_final_rows([("mlp", 650, 1.0), ("cnn", 9000, 0.9)]))
    assert fig.axes[0].get_ylim() == pytest.approx((0.88, 1.0))
