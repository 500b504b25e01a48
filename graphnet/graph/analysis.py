"""What a network's structure says: depths and levels, reachability, cycles, a summary.

Plain functions on a network's ``networkx.DiGraph`` (``net.graph``, or the store a
:class:`~graphnet.graph.network.GraphNetwork` passes in): nodes ``0..n-1`` with a
``role`` and a ``name``, the graph attribute ``mode``. ``GraphNetwork``'s methods of the
same names (``net.depths()``, ``net.unreachable()``, ``net.summary()`` ...) call these.
Problems are reported, not hidden: unreachable nodes, dead ends and cycles each have a
function and a line in :func:`summary`.
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from graphnet._checks import is_int
from graphnet.errors import GraphError, InputError, InputTypeError

__all__ = ["depths", "levels", "unreachable", "dead_ends", "sinks", "cycles", "summary"]


def _roles(g: nx.DiGraph) -> list:
    """Role of each node, in node order."""
    return [g.nodes[v]["role"] for v in range(g.number_of_nodes())]


def depths(g: nx.DiGraph) -> np.ndarray:
    """Depth of every node: inputs 0, others 1 + the largest depth of a predecessor.

    A non-input node without predecessors gets depth 1. Execution runs the nodes
    of one depth as one matrix product.

    Parameters
    ----------
    g : networkx.DiGraph
        A network's graph (``net.graph``).

    Returns
    -------
    ndarray of int, shape (n,)

    Raises
    ------
    GraphError
        If the network is recurrent (depth needs an acyclic graph).

    Examples
    --------
    >>> from graphnet.graph.network import GraphNetwork
    >>> depths(GraphNetwork.layered([2, 3, 1], seed=0).graph)
    array([0, 0, 1, 1, 1, 2])
    """
    if g.graph["mode"] != "feedforward":
        raise GraphError("depths: only defined in feedforward mode; this network is recurrent")
    roles = _roles(g)
    d = np.zeros(len(roles), dtype=np.intp)
    for v in nx.topological_sort(g):
        if roles[v] != "input":
            d[v] = 1 + max((d[p] for p in g.predecessors(v)), default=0)
    return d


def levels(d: np.ndarray) -> list:
    """The non-input nodes grouped by depth: ``levels(d)[k]`` holds depth ``k + 1``.

    Parameters
    ----------
    d : ndarray of int, shape (n,)
        The depths, as :func:`depths` returns them.

    Returns
    -------
    list of ndarray of int
        Ascending depth, indices ascending within a level; no level is empty.

    Examples
    --------
    >>> [lv.tolist() for lv in levels(np.array([0, 0, 1, 1, 1, 2]))]
    [[2, 3, 4], [5]]
    """
    return [np.flatnonzero(d == k) for k in range(1, int(d.max()) + 1)]


def _reach(g: nx.DiGraph, start, *, reverse: bool) -> set:
    """Nodes reachable from ``start`` (along edges, or against them)."""
    step = g.predecessors if reverse else g.successors
    seen = set(int(s) for s in start)
    stack = list(seen)
    while stack:
        for w in step(stack.pop()):
            if w not in seen:
                seen.add(w)
                stack.append(w)
    return seen


def unreachable(g: nx.DiGraph) -> np.ndarray:
    """Non-input nodes that no input reaches (their value never depends on data).

    Parameters
    ----------
    g : networkx.DiGraph
        A network's graph (``net.graph``).

    Returns
    -------
    ndarray of int
        Ascending node indices.

    Examples
    --------
    >>> from graphnet.graph.network import GraphNetwork
    >>> W = [[0, 0, 1.0], [0, 0, 1.0], [0, 0, 0]]  # node 1 hidden, no in-edge
    >>> unreachable(GraphNetwork.from_matrix(W, [0], [2]).graph)
    array([1])
    """
    roles = _roles(g)
    seen = _reach(g, [v for v, r in enumerate(roles) if r == "input"], reverse=False)
    return np.array([v for v in range(len(roles)) if v not in seen], dtype=np.intp)


def dead_ends(g: nx.DiGraph) -> np.ndarray:
    """Non-output nodes (inputs included) that reach no output.

    Parameters
    ----------
    g : networkx.DiGraph
        A network's graph (``net.graph``).

    Returns
    -------
    ndarray of int
        Ascending node indices.

    Examples
    --------
    >>> from graphnet.graph.network import GraphNetwork
    >>> W = [[0, 1.0, 1.0], [0, 0, 0], [0, 0, 0]]  # node 1 hidden, no out-edge
    >>> dead_ends(GraphNetwork.from_matrix(W, [0], [2]).graph)
    array([1])
    """
    roles = _roles(g)
    seen = _reach(g, [v for v, r in enumerate(roles) if r == "output"], reverse=True)
    return np.array([v for v in range(len(roles)) if v not in seen], dtype=np.intp)


def sinks(g: nx.DiGraph) -> np.ndarray:
    """Nodes with no outgoing edge, any role.

    Parameters
    ----------
    g : networkx.DiGraph
        A network's graph (``net.graph``).

    Returns
    -------
    ndarray of int
        Ascending node indices.

    Examples
    --------
    >>> from graphnet.graph.network import GraphNetwork
    >>> sinks(GraphNetwork.seed_example().graph)
    array([3])
    """
    out = g.out_degree
    return np.array([v for v in range(g.number_of_nodes()) if out[v] == 0], dtype=np.intp)


def cycles(g: nx.DiGraph, limit=20) -> list:
    """Simple cycles as node lists, at most ``limit`` of them.

    Each cycle starts at its smallest node; the list is sorted by (length, nodes).
    A self-loop is ``[i]``. Feedforward networks have none.

    Parameters
    ----------
    g : networkx.DiGraph
        A network's graph (``net.graph``).
    limit : int >= 0

    Returns
    -------
    list of list of int

    Raises
    ------
    InputTypeError, InputError
        ``limit`` is not an int, or negative.

    Examples
    --------
    >>> from graphnet.graph.network import GraphNetwork
    >>> cycles(GraphNetwork.seed_example().graph)
    [[0, 1]]
    """
    if not is_int(limit):
        raise InputTypeError(f"cycles: limit must be an int, got {limit!r}")
    if limit < 0:
        raise InputError(f"cycles: limit must be >= 0, got {limit}")
    if g.graph["mode"] == "feedforward" or limit == 0:
        return []
    found = []
    for c in nx.simple_cycles(g):
        k = c.index(min(c))
        found.append([int(v) for v in c[k:] + c[:k]])
        if len(found) >= limit:
            break
    return sorted(found, key=lambda c: (len(c), c))


def _describe(g: nx.DiGraph, nodes) -> str:
    """'none' or '2 ('h0'), 5 ('y1')'."""
    if len(nodes) == 0:
        return "none"
    return ", ".join(f"{int(v)} ({g.nodes[int(v)]['name']!r})" for v in nodes)


def summary(g: nx.DiGraph) -> str:
    """A multi-line report: mode, counts, edges, density, depth, and the problems.

    Unreachable nodes, dead ends and cycles each get a line: reported, not hidden.

    Parameters
    ----------
    g : networkx.DiGraph
        A network's graph (``net.graph``).

    Returns
    -------
    str

    Examples
    --------
    >>> from graphnet.graph.network import GraphNetwork
    >>> print(summary(GraphNetwork.seed_example().graph))
    GraphNetwork (recurrent)
    nodes: 6 (inputs 1, hidden 4, outputs 1)
    edges: 7 (density 0.194 of the 36 entries of W)
    parameters: 12
    unreachable: none
    dead ends: none
    cycles: 1: [0, 1]
    """
    n = g.number_of_nodes()
    mode = g.graph["mode"]
    roles = _roles(g)
    n_inputs = roles.count("input")
    n_edges = g.number_of_edges()
    fixed = [(u, v) for u, v, t in g.edges(data="trainable", default=True) if t is False]
    lines = [
        f"GraphNetwork ({mode})",
        f"nodes: {n} (inputs {n_inputs}, hidden {roles.count('hidden')}, "
        f"outputs {roles.count('output')})",
        f"edges: {n_edges} (density {n_edges / (n * n):.3g} of the "
        f"{n * n} entries of W)",
        f"parameters: {n_edges - len(fixed) + n - n_inputs}",
    ]
    if fixed:  # weights training never changes: not parameters
        more = ", ..." if len(fixed) > 10 else ""
        lines.append(f"fixed edges: {len(fixed)} (never trained): "
                     + ", ".join(f"{u} -> {v}" for u, v in fixed[:10]) + more)
    if mode == "feedforward":
        lines.append(f"depth: {int(depths(g).max())}")
    lines.append(f"unreachable: {_describe(g, unreachable(g))}")
    lines.append(f"dead ends: {_describe(g, dead_ends(g))}")
    if mode == "feedforward":
        lines.append("cycles: none (feedforward)")
    else:
        limit = 20
        cyc = cycles(g, limit=limit)
        if not cyc:
            lines.append("cycles: none")
        else:
            more = f" (first {limit})" if len(cyc) == limit else ""
            lines.append(f"cycles: {len(cyc)}{more}: " + ", ".join(str(c) for c in cyc))
    return "\n".join(lines)
