"""One fixed node order for the weight matrices of a run, so that rounds compare at a glance.

An H move (:func:`graphnet.graph.operators.permute_nodes`, ``swap_nodes``) relabels the nodes:
``W -> P W P^T`` with every node's role, bias, activation and *name* moving along. Drawn in each
round's own node order, the matrix after an H move looks like noise although the network is
the same. Node names are the identities that survive H (and every other operator: removed nodes
take their name with them, added nodes get a fresh one), so every round is drawn in one order
of names: the first round's node order, then the nodes that appear later in the order they
appear. A node absent from a round keeps its row and column there, blank (NaN).

Pure functions on networks; drawing stays in :mod:`graphnet.lab.plots`.
"""

from __future__ import annotations

import numpy as np

from graphnet.errors import InputError

__all__ = ["node_order", "ordered_matrix", "ordered_roles", "matrix_ticks"]

MAX_NAMED_TICKS = 40  # up to this many nodes, every row and column is labelled with its name
_SPARSE_TICKS = 8  # otherwise about this many labelled positions, role-block edges first


def node_order(snapshots) -> tuple:
    """Node names in one order for all rounds: the first network's, then newcomers.

    Parameters
    ----------
    snapshots : sequence of GraphNetwork
        One network per round, in round order.

    Returns
    -------
    tuple of str
        Every name that occurs in any round once: the first network's node order, then the
        names that appear in later rounds in order of first appearance (within a round, in
        that round's node order).

    Examples
    --------
    >>> from graphnet.graph.network import GraphNetwork
    >>> from graphnet.graph.operators import swap_nodes, split_edge
    >>> net = GraphNetwork.from_matrix([[0, 2.0, 0], [0, 0, 3.0], [0, 0, 0]],
    ...                                inputs=[0], outputs=[2])
    >>> later = split_edge(swap_nodes(net, 1, 2), 2, 1)  # h0 <-> y0, then h1 on h0 -> y0
    >>> later.names, node_order([net, later])
    (('x0', 'y0', 'h0', 'h1'), ('x0', 'h0', 'y0', 'h1'))
    """
    order = {}
    for net in snapshots:
        for name in net.names:
            order.setdefault(name, len(order))
    return tuple(order)


def ordered_matrix(net, order) -> np.ndarray:
    """``W`` of ``net`` with rows and columns in ``order`` (NaN for nodes ``net`` lacks).

    Parameters
    ----------
    net : GraphNetwork
    order : sequence of str
        Node names, e.g. from :func:`node_order`; must include every name of ``net``.

    Returns
    -------
    ndarray of shape (len(order), len(order))
        ``M[a, b] = W[i, j]`` where node ``i`` is named ``order[a]`` and ``j`` ``order[b]``;
        rows and columns of names that ``net`` does not hold are NaN.

    Raises
    ------
    InputError
        ``net`` has a node whose name is not in ``order``.

    Examples
    --------
    >>> from graphnet.graph.network import GraphNetwork
    >>> from graphnet.graph.operators import swap_nodes
    >>> net = GraphNetwork.from_matrix([[0, 2.0, 0], [0, 0, 3.0], [0, 0, 0]],
    ...                                inputs=[0], outputs=[2])
    >>> swapped = swap_nodes(net, 1, 2)
    >>> bool((ordered_matrix(swapped, net.names) == net.matrix()).all())
    True
    >>> ordered_matrix(net, ("x0", "gone", "h0", "y0"))
    array([[ 0., nan,  2.,  0.],
           [nan, nan, nan, nan],
           [ 0., nan,  0.,  3.],
           [ 0., nan,  0.,  0.]])
    """
    pos = {name: a for a, name in enumerate(order)}
    missing = [name for name in net.names if name not in pos]
    if missing:
        raise InputError(f"ordered_matrix: order lacks the node(s) {missing[:5]} of the network; "
                         f"expected every name of net.names")
    rows = np.array([pos[name] for name in net.names], dtype=int)
    out = np.full((len(order), len(order)), np.nan)
    out[np.ix_(rows, rows)] = net.matrix()  # out[pos(i), pos(j)] = W[i, j]
    return out


def ordered_roles(net, order) -> list:
    """The role of each name of ``order`` in ``net`` (None where ``net`` has no such node).

    Examples
    --------
    >>> from graphnet.graph.network import GraphNetwork
    >>> net = GraphNetwork.from_matrix([[0, 2.0], [0, 0]], inputs=[0], outputs=[1])
    >>> ordered_roles(net, ("y0", "h9", "x0"))
    ['output', None, 'input']
    """
    role = dict(zip(net.names, net.roles))
    return [role.get(name) for name in order]


def matrix_ticks(order, roles) -> list:
    """Positions to label along a matrix axis of ``len(order)`` nodes.

    Every position when there are at most 40 nodes; otherwise the first node of each block of
    one role (when there are at most 6 blocks), the last node, and evenly spaced positions
    (about 8 over the axis) that are not too close to those.

    Parameters
    ----------
    order : sequence of str
    roles : sequence of str or None
        The role at each position (None: absent).

    Returns
    -------
    list of int
        Ascending positions.

    Examples
    --------
    >>> matrix_ticks(["a", "b", "c"], ["input", "hidden", "output"])
    [0, 1, 2]
    >>> roles = ["input"] * 50 + ["hidden"] * 20 + ["output"] * 5
    >>> matrix_ticks([f"n{k}" for k in range(75)], roles)
    [0, 11, 21, 32, 42, 50, 63, 70, 74]
    """
    n = len(order)
    if n <= MAX_NAMED_TICKS:
        return list(range(n))
    edges = {0, n - 1}
    starts = [a for a in range(1, n) if roles[a] != roles[a - 1]]
    if len(starts) <= 6:
        edges.update(starts)
    gap = n / (2 * _SPARSE_TICKS)
    for a in np.linspace(0, n - 1, _SPARSE_TICKS).round().astype(int).tolist():
        if all(abs(a - b) >= gap for b in edges):
            edges.add(a)
    return sorted(edges)
