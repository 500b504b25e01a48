"""Plots that compare at a glance: one node order for every round's matrix, same-size models
kept apart in the comparison, accuracy axes zoomed to the data.

Everything is read back through public matplotlib accessors (``AxesImage.get_array``, tick
labels, ``Axes.containers``, ``get_ylim``).
"""

from __future__ import annotations

import numpy as np
import pytest

from graphnet.graph.network import GraphNetwork
from graphnet.graph.operators import permute_nodes, remove_node, split_edge, swap_nodes, threshold
from graphnet.lab.plots import (
    compare_runs,
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
    grown = split_edge(swap_nodes(net, 2, 3), 2, 4)  # h1 -> y0 (h1 now at 2) becomes h1 -> h2 -> y0
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
