"""Operators that rewrite a network's graph: the seed's A-N and the lab's extras.

The seed's last section: "使用 点 改图, 使用 图 训练" -- use the operators to change the
graph, use the graph to train. Every operator is a plain function, the network first and
keyword arguments after; it returns a **new** :class:`~graphnet.graph.network.GraphNetwork`
and never touches its input. ``W[i, j]`` is the weight of the edge ``i -> j`` (row =
from, column = to); the promise each operator keeps is its
:class:`~graphnet.graph.contracts.Contract`, proved in :mod:`graphnet.graph.proofs`.

====== =================== ================================ =========================
letter name                W' =                             keeps
====== =================== ================================ =========================
A      threshold           W * (abs(W) > a)                 nothing promised
B      swap_columns        W with columns i, j swapped      rank; det negated
C      add_scaled_column   column dst += k * column src     rank, det
D      swap_rows           W with rows i, j swapped         rank; det negated
F      add_scaled_row      row dst += k * row src           rank, det
H      permute_nodes       P W P^T (new a = old perm[a])    det, rank, spectrum, function
H      swap_nodes          permute_nodes, a transposition   det, rank, spectrum, function
N      assign              W[i, j] = value                  nothing promised
====== =================== ================================ =========================

Extras for a topology lab: :func:`add_edge`, :func:`split_edge` (NEAT's add-node),
:func:`remove_node`, :func:`regrow` and :func:`prune_smallest` (SET's regrow and prune).

Decisions (binding for the lab)
-------------------------------
* **The scale is called ``k``** (``add_scaled_row(net, src, dst, k)``), as in
  :data:`graphnet.graph.symbolic.OPERATOR_ARGS`, so a record's arguments feed
  :func:`graphnet.graph.symbolic.apply_symbolic` unchanged.
* **H convention**: new node ``a`` is old node ``perm[a]``, ``W'[a, b] = W[perm[a],
  perm[b]]``, and every node attribute (role, bias, activation, name) moves with its
  node. Data column ``k`` feeds the ``k``-th input *in node order*, so a permutation that
  reorders the inputs among themselves (or the outputs) reorders the data (output)
  columns: the function is kept **up to that reordering**, which :func:`io_order`
  returns, and kept exactly when ``perm`` keeps the relative order of the inputs and of
  the outputs (what :func:`sample` draws by default).
* **Self-pairs**: B and D with ``i == j`` and C and F with ``src == dst`` are refused
  (a swap with itself does not negate det; adding ``k`` times a line to itself scales it
  by ``1 + k`` and multiplies det by ``1 + k``). ``swap_nodes(net, i, i)`` is allowed:
  it is the identity permutation, which keeps H's contract.
* **Safety and repair**: a result with an edge into an input node (both modes) or a cycle
  (feedforward mode) is refused with :class:`~graphnet.errors.OperatorError` naming the
  edge(s), the network untouched. With ``repair=True`` the offending edges are dropped
  instead: every edge into an input, then -- feedforward only -- the edges the operation
  *created* (non-zero in W', zero in W) are added back one at a time in row-major order
  and an edge is dropped when it would close a cycle with the edges kept so far. The
  edges W and W' share form a sub-graph of the acyclic W, so this always ends acyclic,
  and the dropped set is minimal: restoring any one dropped edge closes a cycle.
  :func:`apply` reports the dropped edges in its record.
"""

from __future__ import annotations

import inspect
import math
import numbers
from dataclasses import dataclass
from typing import Callable, NamedTuple

import networkx as nx
import numpy as np

from graphnet.errors import InputError, InputTypeError, OperatorError
from graphnet.graph.contracts import CONTRACTS, LETTERS, Contract
from graphnet.graph.network import ACTIVATIONS, GraphNetwork
from graphnet.rng import make_rng

__all__ = [
    "threshold",
    "swap_columns",
    "add_scaled_column",
    "swap_rows",
    "add_scaled_row",
    "swap_nodes",
    "permute_nodes",
    "io_order",
    "IOOrder",
    "assign",
    "add_edge",
    "split_edge",
    "remove_node",
    "regrow",
    "prune_smallest",
    "OperatorSpec",
    "OPERATORS",
    "get_operator",
    "Applied",
    "apply",
    "apply_random",
    "MAX_WEIGHT",
]

_ROLE_RANK = {"input": 0, "hidden": 1, "output": 2}


# ----------------------------------------------------------------------------------------
# argument checks
# ----------------------------------------------------------------------------------------


def _is_int(x) -> bool:
    """True for integers (numpy's too), False for bool."""
    return isinstance(x, numbers.Integral) and not isinstance(x, (bool, np.bool_))


def _check_net(net, where: str) -> None:
    """Refuse anything that is not a GraphNetwork."""
    if not isinstance(net, GraphNetwork):
        raise InputTypeError(f"{where}: net must be a GraphNetwork, got {type(net).__name__}")


def _index(x, n: int, where: str, arg: str, what: str) -> int:
    """One row, column or node index in range(n)."""
    if not _is_int(x):
        raise InputTypeError(
            f"{where}: {arg}: expected an int {what} index, got {type(x).__name__} {x!r}"
        )
    if not 0 <= x < n:
        size = f"a {n}x{n} matrix" if what in ("row", "column") else f"a network of {n} nodes"
        raise InputError(f"{where}: {arg}: {what} {int(x)} out of range for {size}")
    return int(x)


def _finite(x, where: str, arg: str) -> float:
    """A finite real number (not a bool) as a float."""
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Real):
        raise InputTypeError(
            f"{where}: {arg}: expected a finite real number, got {type(x).__name__} {x!r}"
        )
    x = float(x)
    if not math.isfinite(x):
        raise InputError(f"{where}: {arg}: expected a finite number, got {x!r}")
    return x


def _count(x, where: str, arg: str) -> int:
    """A non-negative int."""
    if not _is_int(x):
        raise InputTypeError(f"{where}: {arg}: expected an int >= 0, got {type(x).__name__} {x!r}")
    if x < 0:
        raise InputError(f"{where}: {arg}: expected an int >= 0, got {int(x)}")
    return int(x)


def _perm(perm, n: int, where: str) -> list:
    """A permutation of range(n) as a list of ints."""
    if isinstance(perm, (str, bytes)) or not hasattr(perm, "__iter__"):
        raise InputTypeError(
            f"{where}: perm: expected a sequence of {n} ints, got {type(perm).__name__} {perm!r}"
        )
    p = list(perm)
    for x in p:
        if not _is_int(x):
            raise InputTypeError(f"{where}: perm: expected ints, got {type(x).__name__} {x!r}")
    p = [int(x) for x in p]
    if len(p) != n:
        raise InputError(
            f"{where}: perm: expected a permutation of range({n}) (length {n}), got length {len(p)}"
        )
    if sorted(p) != list(range(n)):
        missing = sorted(set(range(n)) - set(p))
        raise InputError(
            f"{where}: perm: expected a permutation of range({n}), got {p} "
            f"({missing[0]} is missing)"
        )
    return p


# ----------------------------------------------------------------------------------------
# the safety gate: edges into inputs, cycles in feedforward mode
# ----------------------------------------------------------------------------------------


def _offending(net: GraphNetwork, W1: np.ndarray, where: str) -> tuple[list, str | None]:
    """The edges of W1 that repair drops (sorted) and a message naming the first problem."""
    n = net.n_nodes
    W0 = net.matrix()
    present = W1 != 0
    into_input = np.zeros((n, n), dtype=bool)
    into_input[:, net.inputs] = True
    bad_in = present & into_input
    dropped = [(int(u), int(v)) for u, v in np.argwhere(bad_in)]
    msg = None
    if dropped:
        u, v = dropped[0]
        msg = f"{where}: result has an edge {u} -> {v} into input node {v} ({net.names[v]!r})"
    if net.mode == "feedforward":
        keep = present & ~bad_in
        new = [(int(u), int(v)) for u, v in np.argwhere(keep & (W0 == 0))]
        if new:
            g = nx.DiGraph()
            g.add_nodes_from(range(n))
            g.add_edges_from((int(u), int(v)) for u, v in np.argwhere(keep & (W0 != 0)))
            everything = g.copy()
            everything.add_edges_from(new)
            if not nx.is_directed_acyclic_graph(everything):
                # the shared edges are a sub-graph of the acyclic W: add the new ones back
                # in row-major order, dropping each that would close a cycle
                for u, v in new:
                    if u == v:
                        path = [u]
                    elif nx.has_path(g, v, u):
                        path = nx.shortest_path(g, v, u)
                    else:
                        g.add_edge(u, v)
                        continue
                    dropped.append((u, v))
                    if msg is None:
                        cycle = " -> ".join(str(x) for x in [u, *path])
                        msg = f"{where}: result creates the cycle {cycle} in a feedforward network"
    return sorted(dropped), msg


#: The largest weight an operator may produce: sqrt of the float64 maximum (about 1.3e154).
#: A larger weight is finite on its own but not in training (its square, and the gradients
#: it scales, overflow), so it is refused like inf. (Biases need no check: no operator scales
#: them, and GraphNetwork refuses a non-finite one.)
MAX_WEIGHT = math.sqrt(np.finfo(np.float64).max)


def _finish(net: GraphNetwork, W1: np.ndarray, where: str, repair: bool):
    """Refuse (or repair) a raw result W1; return (new network, dropped (u, v, w) edges)."""
    with np.errstate(invalid="ignore"):  # nan compares False: caught by isfinite
        bad = ~np.isfinite(W1) | (np.abs(W1) > MAX_WEIGHT)
    if bad.any():
        i, j = (int(x) for x in np.argwhere(bad)[0])
        w = float(W1[i, j])
        what = ("a non-finite weight", "(overflow)") if not math.isfinite(w) else \
            ("a weight too large to train", f"(above {MAX_WEIGHT:.3g}: its square overflows)")
        raise OperatorError(
            f"{where}: result has {what[0]} W[{i}, {j}] = {w!r} {what[1]}; "
            f"the network is unchanged",
            edges=[(i, j)],
        )
    edges, msg = _offending(net, W1, where)
    if edges and not repair:
        if len(edges) == 1:
            tail = "; repair=True would drop it"
        else:
            listed = ", ".join(f"{u} -> {v}" for u, v in edges)
            tail = f"; repair=True would drop these {len(edges)} edges: {listed}"
        raise OperatorError(msg + tail, edges=edges)
    dropped = tuple((u, v, float(W1[u, v])) for u, v in edges)
    if edges:
        W1 = W1.copy()
        rows, cols = zip(*edges)
        W1[list(rows), list(cols)] = 0.0
    return net.replace(W=W1), dropped


def _is_clean(net: GraphNetwork, W1: np.ndarray) -> bool:
    """Whether W1 passes the safety gate as it is (no repair needed)."""
    return bool(np.isfinite(W1).all()) and not _offending(net, W1, "")[0]


def _topological_position(net: GraphNetwork) -> np.ndarray:
    """Position of each node in a topological order: inputs first, then hidden, outputs."""
    g = nx.DiGraph()
    g.add_nodes_from(range(net.n_nodes))
    g.add_edges_from((u, v) for u, v, _ in net.edges())
    roles = net.roles
    order = nx.lexicographical_topological_sort(g, key=lambda v: (_ROLE_RANK[roles[v]], v))
    pos = np.empty(net.n_nodes, dtype=np.intp)
    pos[list(order)] = np.arange(net.n_nodes)
    return pos


def _allowed(net: GraphNetwork) -> np.ndarray:
    """Mask of the positions (u, v) where edges may sit together without breaking the net.

    Never into an input; in feedforward mode only forward in a fixed topological order
    (inputs first), so any set of such edges stays acyclic.
    """
    n = net.n_nodes
    ok = np.ones((n, n), dtype=bool)
    ok[:, net.inputs] = False
    if net.mode == "feedforward":
        pos = _topological_position(net)
        ok &= pos[:, None] < pos[None, :]
    return ok


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
# raw matrix results (shared by the operators and the samplers)
# ----------------------------------------------------------------------------------------


def _raw_swap_columns(W, i, j):
    W1 = W.copy()
    W1[:, [i, j]] = W[:, [j, i]]
    return W1


def _raw_swap_rows(W, i, j):
    W1 = W.copy()
    W1[[i, j], :] = W[[j, i], :]
    return W1


def _raw_add_scaled_column(W, src, dst, k):
    W1 = W.copy()
    with np.errstate(over="ignore", invalid="ignore"):
        W1[:, dst] = W[:, dst] + k * W[:, src]
    return W1


def _raw_add_scaled_row(W, src, dst, k):
    W1 = W.copy()
    with np.errstate(over="ignore", invalid="ignore"):
        W1[dst, :] = W[dst, :] + k * W[src, :]
    return W1


# ----------------------------------------------------------------------------------------
# implementations: (net, **args, repair) -> (new net, dropped edges, normalised args)
# ----------------------------------------------------------------------------------------


def _threshold(net, a, *, repair=False):
    where = "threshold"
    _check_net(net, where)
    a = _finite(a, where, "a")
    if a < 0:
        raise InputError(f"{where}: a: expected a finite number >= 0, got {a!r}")
    W = net.matrix()
    W[np.abs(W) <= a] = 0.0
    return net.replace(W=W), (), {"a": a}


def _swap_lines(net, i, j, repair, where, what):
    _check_net(net, where)
    n = net.n_nodes
    i = _index(i, n, where, "i", what)
    j = _index(j, n, where, "j", what)
    if i == j:
        raise InputError(
            f"{where}: i and j are both {i}; a {what} swapped with itself is no swap and "
            f"would not negate det (pass two different {what}s)"
        )
    raw = _raw_swap_columns if what == "column" else _raw_swap_rows
    new, dropped = _finish(net, raw(net.matrix(), i, j), where, repair)
    return new, dropped, {"i": i, "j": j}


def _swap_columns(net, i, j, *, repair=False):
    return _swap_lines(net, i, j, repair, "swap_columns", "column")


def _swap_rows(net, i, j, *, repair=False):
    return _swap_lines(net, i, j, repair, "swap_rows", "row")


def _add_scaled_line(net, src, dst, k, repair, where, what):
    _check_net(net, where)
    n = net.n_nodes
    src = _index(src, n, where, "src", what)
    dst = _index(dst, n, where, "dst", what)
    k = _finite(k, where, "k")
    if src == dst:
        raise InputError(
            f"{where}: src and dst are both {src}; adding k times a {what} to itself scales "
            f"it by 1 + k and multiplies det by 1 + k (pass two different {what}s)"
        )
    raw = _raw_add_scaled_column if what == "column" else _raw_add_scaled_row
    new, dropped = _finish(net, raw(net.matrix(), src, dst, k), where, repair)
    return new, dropped, {"src": src, "dst": dst, "k": k}


def _add_scaled_column(net, src, dst, k, *, repair=False):
    return _add_scaled_line(net, src, dst, k, repair, "add_scaled_column", "column")


def _add_scaled_row(net, src, dst, k, *, repair=False):
    return _add_scaled_line(net, src, dst, k, repair, "add_scaled_row", "row")


def _relabel(net, p):
    """The network with new node a = old node p[a], attributes moving along."""
    W = net.matrix()
    new = net.replace(
        W=W[np.ix_(p, p)],  # W'[a, b] = W[p[a], p[b]]
        biases=net.biases()[p],
        roles=[net.roles[x] for x in p],
        activations=[net.activations[x] for x in p],
        names=[net.names[x] for x in p],
    )
    return new


def _permute_nodes(net, perm, *, repair=False):
    where = "permute_nodes"
    _check_net(net, where)
    p = _perm(perm, net.n_nodes, where)
    return _relabel(net, p), (), {"perm": p}


def _swap_nodes(net, i, j, *, repair=False):
    where = "swap_nodes"
    _check_net(net, where)
    n = net.n_nodes
    i = _index(i, n, where, "i", "node")
    j = _index(j, n, where, "j", "node")
    p = list(range(n))
    p[i], p[j] = p[j], p[i]
    return _relabel(net, p), (), {"i": i, "j": j}


def _assign(net, i, j, value, *, repair=False):
    where = "assign"
    _check_net(net, where)
    n = net.n_nodes
    i = _index(i, n, where, "i", "row")
    j = _index(j, n, where, "j", "column")
    value = _finite(value, where, "value")
    W1 = net.matrix()
    W1[i, j] = value
    new, dropped = _finish(net, W1, where, repair)
    return new, dropped, {"i": i, "j": j, "value": value}


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
    new = net.replace(
        W=W1,
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
    record_seed = int(seed) if _is_int(seed) else None
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


# ----------------------------------------------------------------------------------------
# the public operators
# ----------------------------------------------------------------------------------------

def threshold(net: GraphNetwork, a) -> GraphNetwork:
    """A: keep only the edges with ``abs(w) > a`` (the seed: "only weights greater than A").

    Invariant: none (``CONTRACTS["threshold"]``: det, rank, spectrum and function may all
    change). The result never has a new edge, so it is always a valid network.

    Parameters
    ----------
    net : GraphNetwork
    a : float
        Finite, ``a >= 0``. An edge with ``abs(w) == a`` is removed.

    Returns
    -------
    GraphNetwork

    Raises
    ------
    InputError
        ``a`` negative or not finite.
    InputTypeError
        ``a`` not a real number, ``net`` not a network.

    Examples
    --------
    >>> W = [[0, 0, 2.0, 0], [0, 0, 0.5, -1.0], [0, 0, 0, 3.0], [0, 0, 0, 0]]
    >>> net = GraphNetwork.from_matrix(W, inputs=[0, 1], outputs=[3])
    >>> threshold(net, 1.0).edges()
    [(0, 2, 2.0), (2, 3, 3.0)]
    >>> threshold(net, -1)
    Traceback (most recent call last):
    ...
    graphnet.errors.InputError: threshold: a: expected a finite number >= 0, got -1.0
    """
    return _threshold(net, a)[0]


def swap_columns(net: GraphNetwork, i, j, *, repair: bool = False) -> GraphNetwork:
    """B: swap columns ``i`` and ``j`` of W: nodes ``i`` and ``j`` exchange their in-edges.

    Invariant (``CONTRACTS["swap_columns"]``): W' = W P_ij, so the rank is kept and det is
    negated. The function is not kept.

    Parameters
    ----------
    net : GraphNetwork
    i, j : int
        Two different column indices.
    repair : bool, default False
        Drop the edges that would enter an input or (feedforward) close a cycle instead of
        refusing; see the module notes for the rule. :func:`apply` reports them.

    Returns
    -------
    GraphNetwork

    Raises
    ------
    InputError
        An index out of range, ``i == j`` (a swap with itself does not negate det).
    OperatorError
        Without ``repair``: the result has an edge into an input or, in feedforward mode,
        a cycle; ``.edges`` lists the edges repair would drop.

    Examples
    --------
    >>> W = [[0, 0, 2.0, 0], [0, 0, 0.5, -1.0], [0, 0, 0, 3.0], [0, 0, 0, 0]]
    >>> net = GraphNetwork.from_matrix(W, inputs=[0, 1], outputs=[3])
    >>> rec = net.replace(mode="recurrent")
    >>> swap_columns(rec, 2, 3).edges()  # 2 gets 3's in-edges and 3 gets 2's
    [(0, 3, 2.0), (1, 2, -1.0), (1, 3, 0.5), (2, 2, 3.0)]
    >>> swap_columns(net, 2, 3)
    Traceback (most recent call last):
    ...
    graphnet.errors.OperatorError: swap_columns: result creates the cycle 2 -> 2 in a feedforward network; repair=True would drop it
    >>> swap_columns(net, 0, 2)
    Traceback (most recent call last):
    ...
    graphnet.errors.OperatorError: swap_columns: result has an edge 0 -> 0 into input node 0 ('x0'); repair=True would drop these 2 edges: 0 -> 0, 1 -> 0
    """
    return _swap_columns(net, i, j, repair=repair)[0]


def add_scaled_column(net: GraphNetwork, src, dst, k, *, repair: bool = False) -> GraphNetwork:
    """C: column ``dst`` += ``k`` * column ``src``: node ``dst`` gains ``k`` times src's in-edges.

    Invariant (``CONTRACTS["add_scaled_column"]``): W' = W (I + k e_src e_dst^T), a shear
    with det 1, so det and rank are kept. The spectrum and the function are not.

    Parameters
    ----------
    net : GraphNetwork
    src, dst : int
        Two different column indices.
    k : float
        Finite (0 leaves W as it is). An entry that cancels to exactly 0 removes its edge.
    repair : bool, default False
        As :func:`swap_columns`.

    Returns
    -------
    GraphNetwork

    Raises
    ------
    InputError
        An index out of range, ``src == dst`` (that would multiply det by 1 + k), a
        non-finite ``k``.
    OperatorError
        Without ``repair``: an edge into an input, or a cycle in feedforward mode; also a
        result with a weight that is not finite or above :data:`MAX_WEIGHT`.

    Examples
    --------
    >>> W = [[0, 0, 2.0, 0], [0, 0, 0.5, -1.0], [0, 0, 0, 3.0], [0, 0, 0, 0]]
    >>> net = GraphNetwork.from_matrix(W, inputs=[0, 1], outputs=[3])
    >>> add_scaled_column(net, 2, 3, 2.0).edges()  # 0 -> 3 appears, 1 -> 3 cancels
    [(0, 2, 2.0), (0, 3, 4.0), (1, 2, 0.5), (2, 3, 3.0)]
    >>> add_scaled_column(net, 3, 3, 2.0)
    Traceback (most recent call last):
    ...
    graphnet.errors.InputError: add_scaled_column: src and dst are both 3; adding k times a column to itself scales it by 1 + k and multiplies det by 1 + k (pass two different columns)
    """
    return _add_scaled_column(net, src, dst, k, repair=repair)[0]


def swap_rows(net: GraphNetwork, i, j, *, repair: bool = False) -> GraphNetwork:
    """D: swap rows ``i`` and ``j`` of W: nodes ``i`` and ``j`` exchange their out-edges.

    Invariant (``CONTRACTS["swap_rows"]``): W' = P_ij W, so the rank is kept and det is
    negated. The function is not kept.

    Parameters
    ----------
    net : GraphNetwork
    i, j : int
        Two different row indices.
    repair : bool, default False
        As :func:`swap_columns`.

    Returns
    -------
    GraphNetwork

    Raises
    ------
    InputError
        An index out of range, ``i == j``.
    OperatorError
        Without ``repair``: a cycle in feedforward mode (rows never move an edge into an
        input column, which is empty in every row).

    Examples
    --------
    >>> W = [[0, 0, 2.0, 0], [0, 0, 0.5, -1.0], [0, 0, 0, 3.0], [0, 0, 0, 0]]
    >>> net = GraphNetwork.from_matrix(W, inputs=[0, 1], outputs=[3])
    >>> swap_rows(net, 0, 1).edges()
    [(0, 2, 0.5), (0, 3, -1.0), (1, 2, 2.0), (2, 3, 3.0)]
    >>> swap_rows(net, 0, 2, repair=True).edges()  # 2 -> 2 would be a self-loop: dropped
    [(0, 3, 3.0), (1, 2, 0.5), (1, 3, -1.0)]
    >>> swap_rows(net, 7, 0)
    Traceback (most recent call last):
    ...
    graphnet.errors.InputError: swap_rows: i: row 7 out of range for a 4x4 matrix
    """
    return _swap_rows(net, i, j, repair=repair)[0]


def add_scaled_row(net: GraphNetwork, src, dst, k, *, repair: bool = False) -> GraphNetwork:
    """F: row ``dst`` += ``k`` * row ``src``: node ``dst`` gains ``k`` times src's out-edges.

    Invariant (``CONTRACTS["add_scaled_row"]``): W' = (I + k e_dst e_src^T) W, a shear
    with det 1, so det and rank are kept. The spectrum and the function are not.

    Parameters
    ----------
    net : GraphNetwork
    src, dst : int
        Two different row indices.
    k : float
        Finite. An entry that cancels to exactly 0 removes its edge.
    repair : bool, default False
        As :func:`swap_columns`.

    Returns
    -------
    GraphNetwork

    Raises
    ------
    InputError
        An index out of range, ``src == dst`` (that would multiply det by 1 + k), a
        non-finite ``k``.
    OperatorError
        Without ``repair``: a cycle in feedforward mode; a result with a weight that is not
        finite or above :data:`MAX_WEIGHT` (always refused, never repaired).

    Examples
    --------
    >>> W = [[0, 0, 2.0, 0], [0, 0, 0.5, -1.0], [0, 0, 0, 3.0], [0, 0, 0, 0]]
    >>> net = GraphNetwork.from_matrix(W, inputs=[0, 1], outputs=[3])
    >>> add_scaled_row(net, 2, 0, 0.5).edges()  # 0 -> 3 gains 0.5 * 3.0
    [(0, 2, 2.0), (0, 3, 1.5), (1, 2, 0.5), (1, 3, -1.0), (2, 3, 3.0)]
    >>> add_scaled_row(net, 0, 2, 1.0)
    Traceback (most recent call last):
    ...
    graphnet.errors.OperatorError: add_scaled_row: result creates the cycle 2 -> 2 in a feedforward network; repair=True would drop it
    >>> add_scaled_row(net, 0, 1, float("nan"))
    Traceback (most recent call last):
    ...
    graphnet.errors.InputError: add_scaled_row: k: expected a finite number, got nan
    >>> add_scaled_row(net, 2, 0, 1e300)
    Traceback (most recent call last):
    ...
    graphnet.errors.OperatorError: add_scaled_row: result has a weight too large to train W[0, 3] = 3e+300 (above 1.34e+154: its square overflows); the network is unchanged
    """
    return _add_scaled_row(net, src, dst, k, repair=repair)[0]


def permute_nodes(net: GraphNetwork, perm) -> GraphNetwork:
    """H: relabel the nodes: new node ``a`` is old node ``perm[a]``.

    ``W'[a, b] = W[perm[a], perm[b]]`` (W' = P W P^T with ``P[a, perm[a]] = 1``, the
    convention of :mod:`graphnet.graph.symbolic`), and the role, bias, activation and name
    of each node move with it. The graph is the same one relabelled, so cycles and edges
    into inputs cannot appear and no repair is ever needed.

    Invariant (``CONTRACTS["permute_nodes"]``): a similarity, so det, rank and the
    spectrum are kept, and the network computes the same function **up to the order of
    its columns**: data column ``k`` feeds the ``k``-th input in node order, so if
    ``perm`` changes the relative order of the inputs (or outputs) the data (output)
    columns are permuted; :func:`io_order` says how. With the relative order of inputs
    and of outputs kept, the function is kept exactly.

    Parameters
    ----------
    net : GraphNetwork
    perm : sequence of int
        A permutation of ``range(net.n_nodes)``.

    Returns
    -------
    GraphNetwork

    Raises
    ------
    InputError
        ``perm`` has the wrong length or is not a permutation.
    InputTypeError
        ``perm`` is not a sequence of ints.

    Examples
    --------
    >>> W = [[0, 0, 2.0, 0], [0, 0, 0.5, -1.0], [0, 0, 0, 3.0], [0, 0, 0, 0]]
    >>> net = GraphNetwork.from_matrix(W, inputs=[0, 1], outputs=[3])
    >>> moved = permute_nodes(net, [2, 0, 3, 1])  # new 0 = old 2 (h0), new 1 = old 0 (x0), ...
    >>> moved.names, moved.roles
    (('h0', 'x0', 'y0', 'x1'), ('hidden', 'input', 'output', 'input'))
    >>> moved.edges()  # old 0 -> 2 (2.0) is now 1 -> 0
    [(0, 2, 3.0), (1, 0, 2.0), (3, 0, 0.5), (3, 2, -1.0)]
    >>> permute_nodes(net, [0, 1, 1, 2])
    Traceback (most recent call last):
    ...
    graphnet.errors.InputError: permute_nodes: perm: expected a permutation of range(4), got [0, 1, 1, 2] (3 is missing)
    """
    return _permute_nodes(net, perm)[0]


def swap_nodes(net: GraphNetwork, i, j) -> GraphNetwork:
    """H with a transposition: nodes ``i`` and ``j`` exchange places in the node order.

    The same as ``permute_nodes(net, perm)`` with ``perm`` the identity with entries
    ``i`` and ``j`` exchanged. ``i == j`` is allowed: the identity permutation, which
    keeps H's contract (unlike B and D, whose self-swap would not negate det).

    Invariant (``CONTRACTS["swap_nodes"]``): as :func:`permute_nodes`: det, rank,
    spectrum and the function (up to :func:`io_order`'s column order) are kept.

    Parameters
    ----------
    net : GraphNetwork
    i, j : int
        Node indices.

    Returns
    -------
    GraphNetwork

    Raises
    ------
    InputError
        An index out of range.

    Examples
    --------
    >>> W = [[0, 0, 2.0, 0], [0, 0, 0.5, -1.0], [0, 0, 0, 3.0], [0, 0, 0, 0]]
    >>> net = GraphNetwork.from_matrix(W, inputs=[0, 1], outputs=[3])
    >>> swapped = swap_nodes(net, 2, 3)
    >>> swapped.names, swapped.edges()
    (('x0', 'x1', 'y0', 'h0'), [(0, 3, 2.0), (1, 2, -1.0), (1, 3, 0.5), (3, 2, 3.0)])
    >>> swap_nodes(net, 1, 1) == net
    True
    """
    return _swap_nodes(net, i, j)[0]


class IOOrder(NamedTuple):
    """Column orders after a node permutation (see :func:`io_order`)."""

    inputs: np.ndarray
    outputs: np.ndarray


def io_order(net: GraphNetwork, perm) -> IOOrder:
    """How :func:`permute_nodes` reorders the data and output columns.

    With ``new = permute_nodes(net, perm)`` and ``order = io_order(net, perm)``, for any
    data ``X`` of shape (batch, n_inputs): ``new`` applied to ``X[:, order.inputs]``
    gives ``net``'s output on ``X`` in the columns ``order.outputs``, i.e.
    ``f_new(X[:, order.inputs]) == f_net(X)[:, order.outputs]``. Both are the identity
    exactly when ``perm`` keeps the relative order of the inputs and of the outputs.

    Parameters
    ----------
    net : GraphNetwork
    perm : sequence of int
        A permutation of ``range(net.n_nodes)`` (new node ``a`` = old node ``perm[a]``).

    Returns
    -------
    IOOrder
        ``inputs``: int array of shape (n_inputs,), ``inputs[k]`` = the old data column
        that feeds the new network's ``k``-th input; ``outputs``: int array of shape
        (n_outputs,), ``outputs[m]`` = the old output column that the new ``m``-th
        output reproduces.

    Raises
    ------
    InputError, InputTypeError
        As :func:`permute_nodes`.

    Examples
    --------
    >>> W = [[0, 0, 2.0, 0], [0, 0, 0.5, -1.0], [0, 0, 0, 3.0], [0, 0, 0, 0]]
    >>> net = GraphNetwork.from_matrix(W, inputs=[0, 1], outputs=[3])
    >>> io_order(net, [1, 0, 2, 3])  # the two inputs swapped
    IOOrder(inputs=array([1, 0]), outputs=array([0]))
    >>> io_order(net, [0, 3, 1, 2])  # inputs keep their order
    IOOrder(inputs=array([0, 1]), outputs=array([0]))
    """
    where = "io_order"
    _check_net(net, where)
    p = _perm(perm, net.n_nodes, where)
    columns = {}
    for role, nodes in (("input", net.inputs), ("output", net.outputs)):
        number = {int(v): c for c, v in enumerate(nodes)}  # old node -> old column
        columns[role] = np.array(
            [number[p[a]] for a in range(len(p)) if net.roles[p[a]] == role], dtype=np.intp
        )
    return IOOrder(columns["input"], columns["output"])


def assign(net: GraphNetwork, i, j, value, *, repair: bool = False) -> GraphNetwork:
    """N: set ``W[i, j] = value`` (the seed: "assign a weight"); 0 removes the edge.

    Invariant: none (``CONTRACTS["assign"]``: det changes by (value - w_ij) times the
    (i, j) cofactor).

    Parameters
    ----------
    net : GraphNetwork
    i, j : int
        Row (from) and column (to).
    value : float
        Finite.
    repair : bool, default False
        An edge that would enter an input or close a cycle is dropped (the result is the
        network unchanged but for the dropped edge) instead of refused.

    Returns
    -------
    GraphNetwork

    Raises
    ------
    InputError
        An index out of range, a non-finite value.
    OperatorError
        Without ``repair``: an edge into an input, or a cycle (a self-loop included) in
        feedforward mode; a ``value`` above :data:`MAX_WEIGHT`.

    Examples
    --------
    >>> W = [[0, 0, 2.0, 0], [0, 0, 0.5, -1.0], [0, 0, 0, 3.0], [0, 0, 0, 0]]
    >>> net = GraphNetwork.from_matrix(W, inputs=[0, 1], outputs=[3])
    >>> assign(net, 0, 3, 0.25).edges()
    [(0, 2, 2.0), (0, 3, 0.25), (1, 2, 0.5), (1, 3, -1.0), (2, 3, 3.0)]
    >>> assign(net, 2, 3, 0).n_edges  # 0 removes the edge
    3
    >>> assign(net, 3, 2, 1.0)
    Traceback (most recent call last):
    ...
    graphnet.errors.OperatorError: assign: result creates the cycle 3 -> 2 -> 3 in a feedforward network; repair=True would drop it
    >>> assign(net, 3, 0, 1.0)
    Traceback (most recent call last):
    ...
    graphnet.errors.OperatorError: assign: result has an edge 3 -> 0 into input node 0 ('x0'); repair=True would drop it
    """
    return _assign(net, i, j, value, repair=repair)[0]


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


# ----------------------------------------------------------------------------------------
# samplers: random legal arguments for mutation schedules
# ----------------------------------------------------------------------------------------


def _draw_pair(rng, n, i=None, j=None, distinct=True):
    """Two node indices (distinct if asked); fixed ones are kept."""
    if i is None:
        i = int(rng.integers(n))
    if j is None:
        if distinct and n > 1:
            j = int(rng.integers(n - 1))
            j += j >= i
        else:
            j = int(rng.integers(n))
    return i, j


def _check_tries(tries, where):
    if not _is_int(tries) or tries < 1:
        raise InputError(f"{where}: tries: expected an int >= 1, got {tries!r}")
    return int(tries)


def _uniform(rng, bound, where, arg):
    """Uniform(-bound, bound) with bound >= 0 finite."""
    bound = _finite(bound, where, arg)
    if bound < 0:
        raise InputError(f"{where}: {arg}: expected a finite number >= 0, got {bound!r}")
    return float(rng.uniform(-bound, bound))


def _sample_threshold(net, rng, *, a=None, a_range=(0.0, 0.1)):
    if a is not None:
        return {"a": a}
    try:
        lo, hi = (_finite(x, "sample threshold", "a_range") for x in a_range)
    except TypeError:
        raise InputTypeError(f"sample threshold: a_range: expected (lo, hi), got {a_range!r}")
    if not 0 <= lo <= hi:
        raise InputError(f"sample threshold: a_range: expected 0 <= lo <= hi, got {a_range!r}")
    return {"a": float(rng.uniform(lo, hi))}


def _sample_swap(raw, name):
    def sample(net, rng, *, i=None, j=None, tries=10):
        tries = _check_tries(tries, f"sample {name}")
        W = net.matrix()
        for _ in range(tries):
            a, b = _draw_pair(rng, net.n_nodes, i, j)
            if a == b or (i is not None and j is not None):
                break
            if _is_clean(net, raw(W, a, b)):
                break
        return {"i": a, "j": b}

    return sample


def _sample_add_scaled(raw, name):
    def sample(net, rng, *, src=None, dst=None, k=None, k_max=1.0, tries=10):
        tries = _check_tries(tries, f"sample {name}")
        if k is None:
            k = _uniform(rng, k_max, f"sample {name}", "k_max")
        W = net.matrix()
        for _ in range(tries):
            s, d = _draw_pair(rng, net.n_nodes, src, dst)
            if s == d or (src is not None and dst is not None):
                break
            if _is_clean(net, raw(W, s, d, 1.0)):
                break
        return {"src": s, "dst": d, "k": k}

    return sample


def _keep_io(net, p) -> bool:
    order = io_order(net, p)
    return bool(
        (order.inputs == np.arange(order.inputs.size)).all()
        and (order.outputs == np.arange(order.outputs.size)).all()
    )


def _sample_permute(net, rng, *, keep_io_order=True):
    p = rng.permutation(net.n_nodes)
    if keep_io_order:
        # put the inputs (outputs) back in their old relative order at the drawn places
        for nodes in (net.inputs, net.outputs):
            at = np.flatnonzero(np.isin(p, nodes))
            p[at] = nodes
    return {"perm": [int(x) for x in p]}


def _sample_swap_nodes(net, rng, *, i=None, j=None, keep_io_order=True, tries=10):
    tries = _check_tries(tries, "sample swap_nodes")
    n = net.n_nodes
    for _ in range(tries):
        a, b = _draw_pair(rng, n, i, j)
        p = list(range(n))
        p[a], p[b] = p[b], p[a]
        if not keep_io_order or _keep_io(net, p) or (i is not None and j is not None):
            return {"i": a, "j": b}
    return {"i": a, "j": a}  # no order-keeping pair found: the identity keeps it


def _sample_assign(net, rng, *, i=None, j=None, value=None, value_max=1.0):
    if value is None:
        value = _uniform(rng, value_max, "sample assign", "value_max")
    n = net.n_nodes
    ok = _allowed(net)
    if i is not None:
        ok[np.arange(n) != i, :] = False
    if j is not None:
        ok[:, np.arange(n) != j] = False
    cells = np.flatnonzero(ok)
    if cells.size:
        a, b = divmod(int(rng.choice(cells)), n)
    else:  # nothing legal under the constraints: let the operator refuse or repair
        a, b = _draw_pair(rng, n, i, j, distinct=False)
    return {"i": int(a), "j": int(b), "value": value}


def _sample_add_edge(net, rng, *, weight=None, scale=None):
    free = np.flatnonzero(_allowed(net) & (net.matrix() == 0))
    if free.size == 0:
        raise OperatorError("sample add_edge: no empty position where an edge is allowed")
    a, b = divmod(int(rng.choice(free)), net.n_nodes)
    if weight is None:
        s = _default_scale(net) if scale is None else _finite(scale, "sample add_edge", "scale")
        weight = float(_nonzero_normal(rng, s, 1)[0])
    return {"i": int(a), "j": int(b), "weight": weight}


def _sample_split_edge(net, rng, *, activation=None):
    edges = net.edges()
    if not edges:
        raise OperatorError("sample split_edge: the network has no edge to split")
    u, v, _ = edges[int(rng.integers(len(edges)))]
    return {"i": u, "j": v, "activation": activation}


def _sample_remove_node(net, rng):
    hidden = net.hidden
    if hidden.size == 0:
        raise OperatorError("sample remove_node: the network has no hidden node to remove")
    return {"node": int(hidden[int(rng.integers(hidden.size))])}


def _sample_regrow(net, rng, *, n=1, scale=None):
    n = _count(n, "sample regrow", "n")
    free = int((_allowed(net) & (net.matrix() == 0)).sum())
    return {"n": min(n, free), "seed": int(rng.integers(2**63 - 1)), "scale": scale}


def _sample_prune(net, rng, *, fraction=0.1, fraction_range=None):
    if fraction_range is not None:
        lo, hi = (_finite(x, "sample prune_smallest", "fraction_range") for x in fraction_range)
        if not 0 <= lo <= hi <= 1:
            raise InputError(
                f"sample prune_smallest: fraction_range: expected 0 <= lo <= hi <= 1, "
                f"got {fraction_range!r}"
            )
        return {"fraction": float(rng.uniform(lo, hi))}
    return {"fraction": fraction}


def _make_sampler(name: str, draw: Callable) -> Callable:
    """Wrap a draw function: check the network, the Generator and the range keywords."""
    params = list(inspect.signature(draw).parameters.values())[2:]
    keys = [p.name for p in params]

    def sample(net, rng, **ranges) -> dict:
        where = f"sample {name}"
        _check_net(net, where)
        rng = make_rng(rng, name=f"{where}: rng")
        unknown = [key for key in ranges if key not in keys]
        if unknown:
            raise InputError(f"{where}: unknown range {unknown[0]!r}; expected one of {keys}")
        return draw(net, rng, **ranges)

    sample.keywords = tuple(keys)  # the accepted range keywords, for config checkers
    sample.defaults = {p.name: p.default for p in params}  # and their defaults (types)
    sample.__name__ = f"sample_{name}"
    sample.__qualname__ = sample.__name__
    sample.__doc__ = (
        f"Draw random arguments for {name}; keywords: {', '.join(keys) if keys else 'none'}."
    )
    return sample


# ----------------------------------------------------------------------------------------
# registry
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OperatorSpec:
    """One operator in the registry.

    Attributes
    ----------
    name : str
        Canonical name (a key of :data:`OPERATORS`).
    letter : str or None
        The seed's letter (``"A"``..``"N"``; both H operators have ``"H"``), None for the
        lab's extras.
    func : callable
        The operator, ``func(net, **args)``.
    contract : Contract
        What it keeps (:mod:`graphnet.graph.contracts`).
    sample : callable
        ``sample(net, rng, **ranges) -> dict`` of arguments for ``func``, drawn from the
        Generator (or int seed) ``rng``; ranges by operator:

        - threshold: ``a`` (fixed) or ``a_range=(0.0, 0.1)``: a ~ Uniform(lo, hi);
        - swap_columns, swap_rows: ``i``, ``j`` (fixed), ``tries=10``;
        - add_scaled_column, add_scaled_row: ``src``, ``dst``, ``k`` (fixed),
          ``k_max=1.0`` (k ~ Uniform(-k_max, k_max)), ``tries=10``;
        - permute_nodes: ``keep_io_order=True``; swap_nodes: ``i``, ``j``,
          ``keep_io_order=True``, ``tries=10``;
        - assign: ``i``, ``j``, ``value`` (fixed), ``value_max=1.0``;
        - add_edge: ``weight`` (fixed), ``scale`` (as :func:`regrow`);
        - split_edge: ``activation``; remove_node: none;
        - regrow: ``n=1`` (capped at the free positions), ``scale``; the seed is drawn;
        - prune_smallest: ``fraction=0.1`` or ``fraction_range=(lo, hi)``.

        Index pairs of B, C, D, F are redrawn (up to ``tries`` times) until the result
        needs no repair; assign and add_edge draw only allowed positions; the default
        H draws keep the relative order of inputs and outputs, so the function is kept
        exactly. What is still illegal is left to ``repair``. ``sample.keywords`` is
        the tuple of accepted keywords; an unknown one raises InputError.

    Examples
    --------
    >>> spec = OPERATORS["add_scaled_row"]
    >>> spec.letter, spec.contract.det
    ('F', 'unchanged')
    >>> net = GraphNetwork.random(2, 2, 1, 0.5, seed=0)
    >>> sorted(spec.sample(net, 0))
    ['dst', 'k', 'src']
    >>> spec.sample.keywords
    ('src', 'dst', 'k', 'k_max', 'tries')
    """

    name: str
    letter: str | None
    func: Callable
    contract: Contract
    sample: Callable


_IMPLS = {
    "threshold": (threshold, _threshold, _sample_threshold),
    "swap_columns": (swap_columns, _swap_columns, _sample_swap(_raw_swap_columns, "swap_columns")),
    "add_scaled_column": (
        add_scaled_column,
        _add_scaled_column,
        _sample_add_scaled(_raw_add_scaled_column, "add_scaled_column"),
    ),
    "swap_rows": (swap_rows, _swap_rows, _sample_swap(_raw_swap_rows, "swap_rows")),
    "add_scaled_row": (
        add_scaled_row,
        _add_scaled_row,
        _sample_add_scaled(_raw_add_scaled_row, "add_scaled_row"),
    ),
    "permute_nodes": (permute_nodes, _permute_nodes, _sample_permute),
    "swap_nodes": (swap_nodes, _swap_nodes, _sample_swap_nodes),
    "assign": (assign, _assign, _sample_assign),
    "add_edge": (add_edge, _add_edge, _sample_add_edge),
    "split_edge": (split_edge, _split_edge, _sample_split_edge),
    "remove_node": (remove_node, _remove_node, _sample_remove_node),
    "regrow": (regrow, _regrow, _sample_regrow),
    "prune_smallest": (prune_smallest, _prune_smallest, _sample_prune),
}

_LETTER_OF = {name: letter for letter, name in LETTERS.items()}
_LETTER_OF["swap_nodes"] = "H"

#: The registry: canonical name -> OperatorSpec (the seed's letters via :func:`get_operator`).
OPERATORS: dict[str, OperatorSpec] = {
    name: OperatorSpec(
        name=name,
        letter=_LETTER_OF.get(name),
        func=func,
        contract=CONTRACTS[name],
        sample=_make_sampler(name, draw),
    )
    for name, (func, _, draw) in _IMPLS.items()
}

# the arguments each operator takes (besides net and repair), and which take repair
_ARGS = {
    name: tuple(
        (p.name, p.default is inspect.Parameter.empty)
        for p in list(inspect.signature(spec.func).parameters.values())[1:]
        if p.name != "repair"
    )
    for name, spec in OPERATORS.items()
}
_REPAIRABLE = {
    name for name, spec in OPERATORS.items()
    if "repair" in inspect.signature(spec.func).parameters
}


def get_operator(name) -> OperatorSpec:
    """Look an operator up by canonical name or by the seed's letter.

    Parameters
    ----------
    name : str
        A key of :data:`OPERATORS` or one of ``A B C D F H N`` (H is
        ``permute_nodes``).

    Returns
    -------
    OperatorSpec

    Raises
    ------
    InputError
        An unknown name; the message lists the valid names and letters.
    InputTypeError
        ``name`` is not a string.

    Examples
    --------
    >>> get_operator("F").name
    'add_scaled_row'
    >>> get_operator("add_scaled_row") is get_operator("F")
    True
    >>> get_operator("E")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    graphnet.errors.InputError: get_operator: unknown operator 'E'; expected one of ['threshold', ...] or a letter in ['A', 'B', 'C', 'D', 'F', 'H', 'N']
    """
    if not isinstance(name, str):
        raise InputTypeError(
            f"get_operator: name: expected str, got {type(name).__name__} {name!r}"
        )
    if name in OPERATORS:
        return OPERATORS[name]
    if name in LETTERS:
        return OPERATORS[LETTERS[name]]
    raise InputError(
        f"get_operator: unknown operator {name!r}; expected one of {list(OPERATORS)} "
        f"or a letter in {sorted(LETTERS)}"
    )


# ----------------------------------------------------------------------------------------
# records for the lab's history
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Applied:
    """What one operator application did, for the lab's history.

    Attributes
    ----------
    name : str
        Canonical operator name.
    letter : str or None
        The seed's letter, None for the extras.
    args : dict
        The arguments as applied, normalised to plain ints, floats, str, lists (defaults
        resolved, e.g. split_edge's activation and regrow's scale), so that
        ``apply(net, rec.name, repair=True, **rec.args)`` replays it.
    dropped_edges : tuple of (int, int, float)
        The edges ``repair`` dropped, with the weight the operation would have given.
    edges_before, edges_after : int
        Edge counts of the input and the result.

    Examples
    --------
    >>> rec = Applied("assign", "N", {"i": 0, "j": 1, "value": 0.5}, (), 3, 4)
    >>> rec.to_dict()["args"]
    {'i': 0, 'j': 1, 'value': 0.5}
    >>> Applied.from_dict(rec.to_dict()) == rec
    True
    """

    name: str
    letter: str | None
    args: dict
    dropped_edges: tuple
    edges_before: int
    edges_after: int

    def to_dict(self) -> dict:
        """The record as a JSON-able dict (dropped edges as ``[u, v, w]`` lists).

        Examples
        --------
        >>> import json
        >>> rec = Applied("swap_rows", "D", {"i": 0, "j": 2}, ((2, 2, 2.0),), 4, 3)
        >>> d = rec.to_dict()
        >>> d["dropped_edges"], d["edges_before"], d["edges_after"]
        ([[2, 2, 2.0]], 4, 3)
        >>> json.loads(json.dumps(d)) == d
        True
        """
        return {
            "name": self.name,
            "letter": self.letter,
            "args": {k: list(v) if isinstance(v, (list, tuple)) else v
                     for k, v in self.args.items()},
            "dropped_edges": [[u, v, w] for u, v, w in self.dropped_edges],
            "edges_before": self.edges_before,
            "edges_after": self.edges_after,
        }

    @classmethod
    def from_dict(cls, data) -> "Applied":
        """Rebuild a record from :meth:`to_dict`'s output (e.g. after JSON).

        Raises
        ------
        InputError
            A key is missing or the operator is unknown.

        Examples
        --------
        >>> Applied.from_dict({"name": "threshold", "letter": "A", "args": {"a": 0.1},
        ...                    "dropped_edges": [], "edges_before": 5, "edges_after": 4}).args
        {'a': 0.1}
        """
        keys = ("name", "letter", "args", "dropped_edges", "edges_before", "edges_after")
        missing = [k for k in keys if k not in data]
        if missing:
            raise InputError(
                f"Applied.from_dict: missing key {missing[0]!r}; expected {list(keys)}"
            )
        get_operator(data["name"])
        return cls(
            name=data["name"],
            letter=data["letter"],
            args=dict(data["args"]),
            dropped_edges=tuple((int(u), int(v), float(w)) for u, v, w in data["dropped_edges"]),
            edges_before=int(data["edges_before"]),
            edges_after=int(data["edges_after"]),
        )


def apply(net: GraphNetwork, op, *, repair: bool = False, **args):
    """Apply an operator by name or letter and record what it did.

    Parameters
    ----------
    net : GraphNetwork
    op : str or OperatorSpec
        Canonical name or the seed's letter.
    repair : bool, default False
        Passed to the operators that take it (B, C, D, F, N); the others never create a
        forbidden edge (A, H, split_edge, remove_node, regrow, prune_smallest) or always
        refuse one (add_edge).
    **args
        The operator's arguments by keyword (``k`` for C and F). regrow needs an int
        ``seed`` here, so that the record replays.

    Returns
    -------
    (GraphNetwork, Applied)

    Raises
    ------
    InputError
        Unknown operator, missing or unexpected arguments; and whatever the operator
        raises (:class:`~graphnet.errors.OperatorError` for an illegal result).

    Examples
    --------
    >>> W = [[0, 0, 2.0, 0], [0, 0, 0.5, -1.0], [0, 0, 0, 3.0], [0, 0, 0, 0]]
    >>> net = GraphNetwork.from_matrix(W, inputs=[0, 1], outputs=[3])
    >>> new, rec = apply(net, "D", i=0, j=2, repair=True)
    >>> rec
    Applied(name='swap_rows', letter='D', args={'i': 0, 'j': 2}, dropped_edges=((2, 2, 2.0),), edges_before=4, edges_after=3)
    >>> apply(net, "F", src=0, dst=1)
    Traceback (most recent call last):
    ...
    graphnet.errors.InputError: apply: add_scaled_row takes ['src', 'dst', 'k']; missing ['k'], unexpected []
    """
    spec = op if isinstance(op, OperatorSpec) else get_operator(op)
    _check_net(net, "apply")
    params = _ARGS[spec.name]
    names = [p for p, _ in params]
    missing = [p for p, required in params if required and p not in args]
    unexpected = [a for a in args if a not in names]
    if missing or unexpected:
        raise InputError(
            f"apply: {spec.name} takes {names}; missing {missing}, unexpected {unexpected}"
        )
    if spec.name == "regrow" and not _is_int(args.get("seed")):
        raise InputTypeError(
            f"apply: regrow: seed must be an int so that the record replays, got "
            f"{type(args.get('seed')).__name__}"
        )
    impl = _IMPLS[spec.name][1]
    new, dropped, norm = impl(net, repair=bool(repair) and spec.name in _REPAIRABLE, **args)
    record = Applied(spec.name, spec.letter, norm, tuple(dropped), net.n_edges, new.n_edges)
    return new, record


def apply_random(net: GraphNetwork, op, rng, *, repair: bool = True, **ranges):
    """Apply an operator with arguments drawn by its :attr:`OperatorSpec.sample`.

    Parameters
    ----------
    net : GraphNetwork
    op : str or OperatorSpec
        Canonical name or the seed's letter.
    rng : int or numpy.random.Generator
        All randomness; the same seed gives the same record and network.
    repair : bool, default True
        As :func:`apply`: what the sampler could not avoid is repaired.
    **ranges
        The sampler's keywords (see :class:`OperatorSpec`).

    Returns
    -------
    (GraphNetwork, Applied)

    Examples
    --------
    >>> net = GraphNetwork.random(2, 3, 1, 0.6, seed=0)
    >>> new, rec = apply_random(net, "F", 7, k_max=0.5)
    >>> rec.name, abs(rec.args["k"]) <= 0.5
    ('add_scaled_row', True)
    >>> apply_random(net, "F", 7, k_max=0.5) == (new, rec)
    True
    """
    spec = op if isinstance(op, OperatorSpec) else get_operator(op)
    args = spec.sample(net, rng, **ranges)
    return apply(net, spec, repair=repair, **args)
