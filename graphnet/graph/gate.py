"""The gate every operator passes: its arguments on the way in, its result on the way out.

On the way in, the argument checks every operator shares (a network, an index in range,
a finite number, a count, a permutation), with messages that name the operator and the
argument. On the way out, the safety gate: a result with an edge into an input node (both
modes) or a cycle (feedforward mode) is refused with :class:`~graphnet.errors.OperatorError`
naming the edge(s), the network untouched, or repaired (the rule below), and a
non-finite or too large weight is always refused. The samplers use the same gate to draw
arguments that need no repair (:func:`_is_clean`, :func:`_allowed`).

The repair rule: with ``repair=True`` the offending edges are dropped instead of refusing:
every edge into an input, then -- feedforward only -- the edges the operation *created*
(non-zero in W', zero in W) are added back one at a time in row-major order and an edge is
dropped when it would close a cycle with the edges kept so far. The edges W and W' share
form a sub-graph of the acyclic W, so this always ends acyclic, and the dropped set is
minimal: restoring any one dropped edge closes a cycle.
:func:`graphnet.graph.registry.apply` reports the dropped edges in its record.

The fixed-edge rule (every operator, the seed's and the extras): a fixed edge (``trainable =
False``, a weight training never changes) is structure like any other edge, and its flag
belongs to its entry of W. A move that carries entries elsewhere carries the flag along
(B, D: the swapped columns or rows; H: the relabelled nodes; remove_node; split_edge, whose
two halves both take it). A move that changes weights in place keeps the flag of each edge
whose weight it changes (C, F; N, which may also assign a fixed edge: the caller's explicit
act); A and prune_smallest remove small fixed edges like the others. An edge an operator
creates (C, F or N on an empty entry, add_edge, regrow) is trainable, and an edge removed
(weight 0, or dropped by repair) takes its flag with it.
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np

from graphnet._checks import is_int, is_real
from graphnet.errors import InputError, InputTypeError, OperatorError
from graphnet.graph.network import GraphNetwork

__all__ = ["MAX_WEIGHT"]

_ROLE_RANK = {"input": 0, "hidden": 1, "output": 2}


# ----------------------------------------------------------------------------------------
# argument checks
# ----------------------------------------------------------------------------------------


def _check_net(net, where: str) -> None:
    """Refuse anything that is not a GraphNetwork."""
    if not isinstance(net, GraphNetwork):
        raise InputTypeError(f"{where}: net must be a GraphNetwork, got {type(net).__name__}")


def _index(x, n: int, where: str, arg: str, what: str) -> int:
    """One row, column or node index in range(n)."""
    if not is_int(x):
        raise InputTypeError(
            f"{where}: {arg}: expected an int {what} index, got {type(x).__name__} {x!r}"
        )
    if not 0 <= x < n:
        size = f"a {n}x{n} matrix" if what in ("row", "column") else f"a network of {n} nodes"
        raise InputError(f"{where}: {arg}: {what} {int(x)} out of range for {size}")
    return int(x)


def _finite(x, where: str, arg: str) -> float:
    """A finite real number (not a bool) as a float."""
    if not is_real(x):
        raise InputTypeError(
            f"{where}: {arg}: expected a finite real number, got {type(x).__name__} {x!r}"
        )
    x = float(x)
    if not math.isfinite(x):
        raise InputError(f"{where}: {arg}: expected a finite number, got {x!r}")
    return x


def _count(x, where: str, arg: str) -> int:
    """A non-negative int."""
    if not is_int(x):
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
        if not is_int(x):
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


def _finish(net: GraphNetwork, W1: np.ndarray, where: str, repair: bool, fixed=None):
    """Refuse (or repair) a raw result W1; return (new network, dropped (u, v, w) edges).

    ``fixed``: the fixed-edge mask carried along with W1 (default: kept in place)."""
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
    return net.replace(W=W1, fixed=None if fixed is None else fixed & (W1 != 0)), dropped


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
