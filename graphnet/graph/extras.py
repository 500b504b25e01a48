"""The lab's extra topology moves: NEAT's add-edge and add-node, node removal, SET's prune and regrow.

Like the seed's operators (:mod:`graphnet.graph.operators`) each is a plain function, the
network first, that returns a **new** network and passes the same gate
(:mod:`graphnet.graph.gate`); none takes ``repair``: add_edge refuses an edge that is not
allowed, and the others never create one (regrow draws only allowed positions). Fixed
edges follow the rule of :mod:`graphnet.graph.gate`: added edges are trainable, the halves of
a split fixed edge are both fixed, removing a node takes its edges' flags with them.
"""

from __future__ import annotations

import math

import numpy as np

from graphnet._checks import is_int
from graphnet.errors import InputError, OperatorError
from graphnet.graph.gate import _allowed, _check_net, _count, _finish, _finite, _index
from graphnet.graph.network import ACTIVATIONS, GraphNetwork
from graphnet.rng import make_rng

__all__ = ["add_edge", "split_edge", "remove_node", "regrow", "prune_smallest", "prune_per_layer",
           "layer_groups"]


def _default_scale(net: GraphNetwork) -> float:
    """0.1 times the root mean square of the existing weights (0.1 without edges)."""
    W = net.matrix()
    w = W[W != 0]
    return 0.1 * float(np.sqrt(np.mean(w * w))) if w.size else 0.1


def _nonzero_normal(rng: np.random.Generator, scale: float, size: int) -> np.ndarray:
    """Normal(0, scale) draws, any exact 0 redrawn (0 would mean 'no edge')."""
    w = rng.normal(0.0, scale, size=size)
    while np.any(w == 0):
        zero = w == 0
        w[zero] = rng.normal(0.0, scale, size=int(zero.sum()))
    return w


# ----------------------------------------------------------------------------------------
# implementations: (net, **args, repair) -> (new net, dropped edges, normalised args)
# ----------------------------------------------------------------------------------------


def _add_edge(net, i, j, weight, *, repair=False):
    where = "add_edge"
    _check_net(net, where)
    n = net.n_nodes
    i = _index(i, n, where, "i", "node")
    j = _index(j, n, where, "j", "node")
    weight = _finite(weight, where, "weight")
    if weight == 0:
        raise InputError(
            f"{where}: weight: expected a non-zero finite number, got {weight!r} "
            f"(an edge of weight 0 is no edge)"
        )
    W1 = net.matrix()
    if W1[i, j] != 0:
        raise OperatorError(
            f"{where}: the edge {i} -> {j} already exists (weight {float(W1[i, j])!r}); "
            f"use assign to change a weight",
            edges=[(i, j)],
        )
    W1[i, j] = weight
    new, dropped = _finish(net, W1, where, False)
    return new, dropped, {"i": i, "j": j, "weight": weight}


def _split_activation(net, activation, where):
    if activation is None:
        hidden = {net.activations[h] for h in net.hidden}
        return hidden.pop() if len(hidden) == 1 else "tanh"
    if not (isinstance(activation, str) and activation in ACTIVATIONS):
        raise InputError(
            f"{where}: activation: expected None or one of {ACTIVATIONS}, got {activation!r}"
        )
    return activation


def _split_edge(net, i, j, *, activation=None, repair=False):
    where = "split_edge"
    _check_net(net, where)
    n = net.n_nodes
    i = _index(i, n, where, "i", "node")
    j = _index(j, n, where, "j", "node")
    act = _split_activation(net, activation, where)
    W = net.matrix()
    w = float(W[i, j])
    if w == 0:
        raise OperatorError(f"{where}: there is no edge {i} -> {j} to split", edges=[(i, j)])
    names = set(net.names)
    c = net.n_hidden
    while f"h{c}" in names:
        c += 1
    W1 = np.zeros((n + 1, n + 1))
    W1[:n, :n] = W
    W1[i, j] = 0.0
    W1[i, n] = 1.0  # i -> new, weight 1
    W1[n, j] = w  # new -> j, the old weight
    F = np.zeros((n + 1, n + 1), dtype=bool)
    F[:n, :n] = net.fixed_mask()
    F[i, n] = F[n, j] = F[i, j]  # both halves of a fixed edge are fixed
    F[i, j] = False
    new = net.replace(
        W=W1,
        fixed=F,
        biases=np.append(net.biases(), 0.0),
        roles=[*net.roles, "hidden"],
        activations=[*net.activations, act],
        names=[*net.names, f"h{c}"],
    )
    return new, (), {"i": i, "j": j, "activation": act}


def _remove_node(net, node, *, repair=False):
    where = "remove_node"
    _check_net(net, where)
    n = net.n_nodes
    k = _index(node, n, where, "node", "node")
    role = net.roles[k]
    if role != "hidden":
        raise OperatorError(
            f"{where}: node {k} ({net.names[k]!r}) is an {role}; only hidden nodes can be removed"
        )
    keep = [x for x in range(n) if x != k]
    W = net.matrix()
    new = net.replace(
        W=W[np.ix_(keep, keep)],
        fixed=net.fixed_mask()[np.ix_(keep, keep)],
        biases=net.biases()[keep],
        roles=[net.roles[x] for x in keep],
        activations=[net.activations[x] for x in keep],
        names=[net.names[x] for x in keep],
    )
    return new, (), {"node": k}


def _regrow(net, n, seed, *, scale=None, repair=False):
    where = "regrow"
    _check_net(net, where)
    n = _count(n, where, "n")
    rng = make_rng(seed, name=f"{where}: seed")
    if scale is None:
        scale = _default_scale(net)
    else:
        scale = _finite(scale, where, "scale")
        if scale <= 0:
            raise InputError(f"{where}: scale: expected a finite number > 0, got {scale!r}")
    W = net.matrix()
    free = np.flatnonzero(_allowed(net) & (W == 0))  # row-major positions
    if n > free.size:
        raise OperatorError(
            f"{where}: asked for {n} new edges but only {free.size} empty positions are "
            f"allowed (none into an input"
            + (", none against the topological order)" if net.mode == "feedforward" else ")")
        )
    chosen = np.sort(rng.choice(free, size=n, replace=False)) if n else free[:0]
    w = _nonzero_normal(rng, scale, n)
    rows, cols = np.divmod(chosen, net.n_nodes)
    W[rows, cols] = w
    new, dropped = _finish(net, W, where, False)
    record_seed = int(seed) if is_int(seed) else None
    return new, dropped, {"n": n, "seed": record_seed, "scale": scale}


def _prune_smallest(net, fraction, *, repair=False):
    where = "prune_smallest"
    _check_net(net, where)
    fraction = _finite(fraction, where, "fraction")
    if not 0 <= fraction <= 1:
        raise InputError(f"{where}: fraction: expected a number in [0, 1], got {fraction!r}")
    edges = net.edges()  # row-major
    count = math.floor(fraction * len(edges) + 1e-9)
    W = net.matrix()
    if count:
        order = np.argsort(np.abs([w for _, _, w in edges]), kind="stable")[:count]
        for e in order:
            u, v, _ = edges[e]
            W[u, v] = 0.0
    return net.replace(W=W), (), {"fraction": fraction}


def _prune_per_layer(net, fraction, *, repair=False):
    where = "prune_per_layer"
    _check_net(net, where)
    fraction = _finite(fraction, where, "fraction")
    if not 0 <= fraction <= 1:
        raise InputError(f"{where}: fraction: expected a number in [0, 1], got {fraction!r}")
    W = net.matrix()
    # each group as prune_smallest on its own; fixed edges are no weights of a mask
    for edges in layer_groups(net, trainable=True).values():
        count = math.floor(fraction * len(edges) + 1e-9)
        if count:
            order = np.argsort(np.abs([W[u, v] for u, v in edges]), kind="stable")[:count]
            for e in order:
                W[edges[e]] = 0.0
    return net.replace(W=W), (), {"fraction": fraction}


# ----------------------------------------------------------------------------------------
# the public operators
# ----------------------------------------------------------------------------------------


def add_edge(net: GraphNetwork, i, j, weight) -> GraphNetwork:
    """Add the edge ``i -> j`` with ``weight`` where there is none.

    Invariant: none (``CONTRACTS["add_edge"]``). Unlike :func:`assign`, it refuses to
    overwrite an existing edge and has no repair: an edge that is not allowed is an
    error.

    Parameters
    ----------
    net : GraphNetwork
    i, j : int
        From and to.
    weight : float
        Finite and non-zero.

    Returns
    -------
    GraphNetwork

    Raises
    ------
    InputError
        An index out of range, a zero or non-finite weight.
    OperatorError
        The edge exists already, enters an input, or (feedforward) closes a cycle; a
        ``weight`` above :data:`MAX_WEIGHT`.

    Examples
    --------
    >>> W = [[0, 0, 2.0, 0], [0, 0, 0.5, -1.0], [0, 0, 0, 3.0], [0, 0, 0, 0]]
    >>> net = GraphNetwork.from_matrix(W, inputs=[0, 1], outputs=[3])
    >>> add_edge(net, 0, 3, 0.5).n_edges
    5
    >>> add_edge(net, 0, 2, 0.5)
    Traceback (most recent call last):
    ...
    graphnet.errors.OperatorError: add_edge: the edge 0 -> 2 already exists (weight 2.0); use assign to change a weight
    """
    return _add_edge(net, i, j, weight)[0]


def split_edge(net: GraphNetwork, i, j, *, activation=None) -> GraphNetwork:
    """NEAT's add-node: the edge ``i -> j`` becomes ``i -> new`` (weight 1) and ``new -> j``.

    The new node is hidden, appended at the end of the node order (index ``n``), with
    bias 0, the old weight on its out-edge and a fresh name ``h<c>``; every other node
    keeps its index. The graph stays acyclic and no edge enters an input.

    Invariant: none (``CONTRACTS["split_edge"]``: W grows by a row and a column). With
    ``activation="identity"`` a feedforward network computes exactly the same function
    (``identity(1 * x + 0) * w = x * w``).

    Parameters
    ----------
    net : GraphNetwork
    i, j : int
        An existing edge.
    activation : str, optional
        The new node's activation. Default: the hidden nodes' activation if they all
        share one, else ``"tanh"``.

    Returns
    -------
    GraphNetwork

    Raises
    ------
    InputError
        An index out of range, an unknown activation.
    OperatorError
        There is no edge ``i -> j``.

    Examples
    --------
    >>> W = [[0, 0, 2.0, 0], [0, 0, 0.5, -1.0], [0, 0, 0, 3.0], [0, 0, 0, 0]]
    >>> net = GraphNetwork.from_matrix(W, inputs=[0, 1], outputs=[3])
    >>> split = split_edge(net, 1, 3)
    >>> split.names, split.activations[4], split.edges()
    (('x0', 'x1', 'h0', 'y0', 'h1'), 'tanh', [(0, 2, 2.0), (1, 2, 0.5), (1, 4, 1.0), (2, 3, 3.0), (4, 3, -1.0)])
    >>> split_edge(net, 0, 3)
    Traceback (most recent call last):
    ...
    graphnet.errors.OperatorError: split_edge: there is no edge 0 -> 3 to split
    """
    return _split_edge(net, i, j, activation=activation)[0]


def remove_node(net: GraphNetwork, node) -> GraphNetwork:
    """Remove hidden node ``node`` and its edges; the other nodes keep their order.

    Nodes after ``node`` move down by one index. Invariant: none
    (``CONTRACTS["remove_node"]``: W loses row and column ``node``).

    Parameters
    ----------
    net : GraphNetwork
    node : int
        A hidden node.

    Returns
    -------
    GraphNetwork

    Raises
    ------
    InputError
        ``node`` out of range.
    OperatorError
        ``node`` is an input or an output.

    Examples
    --------
    >>> W = [[0, 0, 2.0, 0], [0, 0, 0.5, -1.0], [0, 0, 0, 3.0], [0, 0, 0, 0]]
    >>> net = GraphNetwork.from_matrix(W, inputs=[0, 1], outputs=[3])
    >>> smaller = remove_node(net, 2)
    >>> smaller.names, smaller.edges()
    (('x0', 'x1', 'y0'), [(1, 2, -1.0)])
    >>> remove_node(net, 3)
    Traceback (most recent call last):
    ...
    graphnet.errors.OperatorError: remove_node: node 3 ('y0') is an output; only hidden nodes can be removed
    """
    return _remove_node(net, node)[0]


def regrow(net: GraphNetwork, n, seed, *, scale=None) -> GraphNetwork:
    """SET's regrow step: add ``n`` new edges at random empty positions, small weights.

    Positions are drawn uniformly, without replacement, among the empty entries of W
    that are allowed: never into an input; in feedforward mode only forward in one fixed
    topological order of the current graph (inputs first, then hidden, then outputs
    where the edges leave a choice, ties by index), so the result is acyclic whatever is
    drawn. Weights ~ Normal(0, scale), an exact 0 redrawn.

    Invariant: none (``CONTRACTS["regrow"]``).

    Parameters
    ----------
    net : GraphNetwork
    n : int >= 0
        Number of new edges.
    seed : int or numpy.random.Generator
        The only source of randomness: the same seed gives the same result.
    scale : float > 0, optional
        Standard deviation of the new weights. Default: 0.1 times the root mean square
        of the existing weights (0.1 if there are none), small next to trained ones.

    Returns
    -------
    GraphNetwork

    Raises
    ------
    InputError
        ``n < 0``, ``scale <= 0`` or not finite.
    OperatorError
        Fewer than ``n`` allowed empty positions.

    Examples
    --------
    >>> W = [[0, 0, 2.0, 0], [0, 0, 0.5, -1.0], [0, 0, 0, 3.0], [0, 0, 0, 0]]
    >>> net = GraphNetwork.from_matrix(W, inputs=[0, 1], outputs=[3])
    >>> grown = regrow(net, 1, seed=0)
    >>> grown.n_edges, grown == regrow(net, 1, seed=0)
    (5, True)
    >>> regrow(net, 2, seed=0)  # only 0 -> 3 is free in this order
    Traceback (most recent call last):
    ...
    graphnet.errors.OperatorError: regrow: asked for 2 new edges but only 1 empty positions are allowed (none into an input, none against the topological order)
    """
    return _regrow(net, n, seed, scale=scale)[0]


def prune_smallest(net: GraphNetwork, fraction) -> GraphNetwork:
    """SET's prune step: remove the ``floor(fraction * n_edges)`` edges of smallest ``abs(w)``.

    Ties are broken by row-major order (``(i, j)`` ascending). Never adds an edge.
    Invariant: none (a threshold at a quantile of ``abs(w)``).

    Parameters
    ----------
    net : GraphNetwork
    fraction : float in [0, 1]

    Returns
    -------
    GraphNetwork

    Raises
    ------
    InputError
        ``fraction`` outside [0, 1] or not finite.

    Examples
    --------
    >>> W = [[0, 0, 2.0, 0], [0, 0, 0.5, -1.0], [0, 0, 0, 3.0], [0, 0, 0, 0]]
    >>> net = GraphNetwork.from_matrix(W, inputs=[0, 1], outputs=[3])
    >>> prune_smallest(net, 0.5).edges()  # 4 edges: the 2 smallest (0.5, -1.0) go
    [(0, 2, 2.0), (2, 3, 3.0)]
    """
    return _prune_smallest(net, fraction)[0]


def layer_groups(net: GraphNetwork, *, trainable: bool = False) -> dict:
    """The edges grouped by layer: ``(source depth, destination depth) -> [(i, j), ...]``.

    Depths are :meth:`GraphNetwork.depths` (inputs 0); each group's edges are in
    row-major order and the groups in ascending key order. A recurrent network, where
    depth is not defined, is one group under the key ``(0, 0)``.

    Parameters
    ----------
    net : GraphNetwork
    trainable : bool
        Only the trainable edges (no fixed ones; a group of fixed edges only is left out).

    Returns
    -------
    dict of (int, int) -> list of (int, int)

    Examples
    --------
    >>> net = GraphNetwork.layered([2, 2, 1], seed=0)
    >>> layer_groups(net)
    {(0, 1): [(0, 2), (0, 3), (1, 2), (1, 3)], (1, 2): [(2, 4), (3, 4)]}
    """
    _check_net(net, "layer_groups")
    d = net.depths() if net.mode == "feedforward" else np.zeros(net.n_nodes, dtype=np.intp)
    fixed = net.fixed_mask() if trainable else None
    groups: dict = {}
    for u, v, _ in net.edges():
        if trainable and fixed[u, v]:
            continue
        groups.setdefault((int(d[u]), int(d[v])), []).append((u, v))
    return dict(sorted(groups.items()))


def prune_per_layer(net: GraphNetwork, fraction) -> GraphNetwork:
    """Per-layer magnitude pruning: :func:`prune_smallest` within each layer group.

    The edges are grouped by (source depth, destination depth) (:func:`layer_groups`)
    and in each group the ``floor(fraction * group size)`` edges of smallest ``abs(w)``
    are removed, ties broken by row-major order: the lottery-ticket papers' per-layer
    masks. Unlike the other operators it leaves fixed edges alone: they are no weights
    of a mask (a residual's weight-1 skip stays whole) and count in no group. A
    recurrent network is one group. Never adds an edge.
    Invariant: none (a threshold at a quantile of ``abs(w)`` in each group).

    Parameters
    ----------
    net : GraphNetwork
    fraction : float in [0, 1]

    Returns
    -------
    GraphNetwork

    Raises
    ------
    InputError
        ``fraction`` outside [0, 1] or not finite.

    Examples
    --------
    >>> W = np.zeros((5, 5))
    >>> W[0, 2], W[1, 2], W[0, 3], W[1, 3], W[2, 4], W[3, 4] = 1, -4, 3, 2, 6, -5
    >>> net = GraphNetwork.from_matrix(W, inputs=[0, 1], outputs=[4])
    >>> [(u, v) for u, v, _ in prune_per_layer(net, 0.5).edges()]  # 2 of 4, then 1 of 2
    [(0, 3), (1, 2), (2, 4)]
    >>> [(u, v) for u, v, _ in prune_smallest(net, 0.5).edges()]  # 3 of 6, globally
    [(1, 2), (2, 4), (3, 4)]
    """
    return _prune_per_layer(net, fraction)[0]
