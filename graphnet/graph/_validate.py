"""The network invariants: the vocabulary, the one gate every network passes through, and
the argument checks of the array constructors.

:func:`validate` checks a ``networkx.DiGraph`` against every invariant listed in
:mod:`graphnet.graph.network` and returns its canonical copy; ``GraphNetwork`` calls it on
every graph it stores, so no invalid network is ever built. The ``as_*`` helpers turn the
arrays and lists given to ``GraphNetwork.from_matrix`` / ``replace`` / ``with_params`` into
checked copies, naming the argument in every error.

An edge carries ``weight`` and, optionally, ``trainable`` (a bool, default true): a fixed
edge (``trainable = false``) is one whose weight training never changes, e.g. a residual
connection. The canonical graph stores the key only on fixed edges.
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np

from graphnet._checks import is_int, is_real
from graphnet.core import activations as acts
from graphnet.errors import CycleError, GraphError, InputError, InputTypeError

__all__ = [
    "ROLES",
    "ACTIVATIONS",
    "MODES",
    "validate",
    "as_matrix",
    "as_vector",
    "as_list",
    "activation_list",
    "index_list",
    "check_mode",
    "graph_from_arrays",
    "canonical_graph",
    "fixed_from",
    "mark_fixed",
    "trained_params",
]

ROLES = ("input", "hidden", "output")
# the core's one list of activation names, in its order: ("tanh", "sigmoid", "relu", "identity")
ACTIVATIONS = tuple(acts.ACTIVATIONS)
MODES = ("feedforward", "recurrent")

_PREFIX = {"input": "x", "hidden": "h", "output": "y"}
_DEFAULT_ACTIVATION = {"input": "identity", "hidden": "tanh", "output": "identity"}


# ----------------------------------------------------------------------------------------
# validation: the one gate every network passes through
# ----------------------------------------------------------------------------------------


def validate(graph) -> nx.DiGraph:
    """Check ``graph`` against every network invariant; return its canonical copy."""
    if not isinstance(graph, nx.DiGraph):
        raise InputTypeError(f"graph: expected a networkx.DiGraph, got {type(graph).__name__}")
    if graph.is_multigraph():
        raise GraphError("graph: a network cannot have parallel edges; got a MultiDiGraph")

    n = graph.number_of_nodes()
    for v in graph.nodes:
        if not is_int(v):
            raise GraphError(
                f"node labels must be the integers 0..{n - 1}; got the label {v!r} "
                f"({type(v).__name__})"
            )
    if set(int(v) for v in graph.nodes) != set(range(n)):
        wrong = sorted(int(v) for v in graph.nodes if not 0 <= int(v) < n)
        raise GraphError(
            f"node labels must be the integers 0..{n - 1}; got {wrong[:5]} out of that range"
        )

    mode = graph.graph.get("mode", "feedforward")
    if not (isinstance(mode, str) and mode in MODES):
        raise GraphError(f"mode: expected 'feedforward' or 'recurrent', got {mode!r}")

    nodes = graph.nodes
    roles = []
    for i in range(n):
        if "role" not in nodes[i]:
            raise GraphError(f"node {i} has no 'role'; expected one of {ROLES}")
        role = nodes[i]["role"]
        if not (isinstance(role, str) and role in ROLES):
            raise GraphError(f"node {i}: unknown role {role!r}; expected one of {ROLES}")
        roles.append(role)
    if "input" not in roles:
        raise GraphError("network has no input node; at least one is required")
    if "output" not in roles:
        raise GraphError("network has no output node; at least one is required")

    counters = dict.fromkeys(ROLES, 0)
    seen_names: dict[str, int] = {}
    attrs = []
    for i, role in enumerate(roles):
        data = nodes[i]
        name = data.get("name", f"{_PREFIX[role]}{counters[role]}")
        counters[role] += 1
        if not isinstance(name, str) or not name:
            raise GraphError(f"node {i}: name must be a non-empty str, got {name!r}")
        if name in seen_names:
            raise GraphError(f"duplicate node name {name!r} (nodes {seen_names[name]} and {i})")
        seen_names[name] = i
        act = data.get("activation", _DEFAULT_ACTIVATION[role])
        if not (isinstance(act, str) and act in ACTIVATIONS):
            raise GraphError(
                f"node {i} ({name!r}): unknown activation {act!r}; expected one of {ACTIVATIONS}"
            )
        bias = data.get("bias", 0.0)
        if not is_real(bias) or not math.isfinite(bias):
            raise GraphError(
                f"node {i} ({name!r}): bias must be a finite real number, got {bias!r}"
            )
        if role == "input":
            if bias != 0:
                raise GraphError(
                    f"input node {i} ({name!r}) has bias {float(bias)!r}; an input node's "
                    f"bias must be 0 (it is ignored)"
                )
            # an input's activation is ignored by execution: stored as identity
            bias, act = 0.0, "identity"
        attrs.append({"role": role, "bias": float(bias), "activation": act, "name": name})

    edges, fixed = [], []
    adj = graph.adj
    for u in range(n):
        for v, data in sorted(adj[u].items(), key=lambda item: int(item[0])):
            v = int(v)
            if "weight" not in data:
                raise GraphError(f"edge {u} -> {v} has no 'weight'")
            w = data["weight"]
            if type(w) is not float and not is_real(w):  # fast path for plain floats
                raise GraphError(
                    f"edge {u} -> {v}: weight must be a finite real number, got {w!r}"
                )
            if not math.isfinite(w):
                raise GraphError(
                    f"edge {u} -> {v}: weight must be a finite real number, got {w!r}"
                )
            if w == 0:
                raise GraphError(
                    f"edge {u} -> {v} has weight 0; absent edges are not stored "
                    f"(W[{u}, {v}] == 0 means no edge)"
                )
            if roles[v] == "input":
                raise GraphError(
                    f"edge {u} -> {v} enters input node {v} ({attrs[v]['name']!r})"
                )
            trainable = data.get("trainable", True)
            if not isinstance(trainable, (bool, np.bool_)):
                raise GraphError(
                    f"edge {u} -> {v}: trainable must be a bool, got {trainable!r}"
                )
            edges.append((u, v, float(w)))
            if not trainable:
                fixed.append((u, v))

    g = nx.DiGraph(mode=mode)
    for i, a in enumerate(attrs):
        g.add_node(i, **a)
    g.add_weighted_edges_from(edges)
    for u, v in fixed:  # stored only where false: an edge without the key is trainable
        g.edges[u, v]["trainable"] = False

    if mode == "feedforward" and not nx.is_directed_acyclic_graph(g):
        cycle = _first_cycle(g)
        path = " -> ".join(str(v) for v in [cycle[0][0]] + [e[1] for e in cycle])
        raise CycleError(f"feedforward network has a cycle {path}", cycle=cycle)
    return g


def _first_cycle(g: nx.DiGraph) -> list:
    """Edges of one cycle, found from the smallest node that lies on a cycle."""
    # nx.find_cycle on the whole graph can be slow on large DAG-like parts; searching
    # only the strongly connected component keeps it linear.
    comps = [
        c for c in nx.strongly_connected_components(g)
        if len(c) > 1 or g.has_edge(next(iter(c)), next(iter(c)))
    ]
    comp = min(comps, key=min)
    cycle = nx.find_cycle(g.subgraph(comp), source=min(comp))
    return [(int(e[0]), int(e[1])) for e in cycle]


# ----------------------------------------------------------------------------------------
# argument helpers for the array constructors
# ----------------------------------------------------------------------------------------


def as_matrix(W, name: str = "W") -> np.ndarray:
    """A float64 copy of a square, finite matrix, or GraphError/InputTypeError."""
    try:
        A = np.asarray(W)
    except ValueError as exc:
        raise GraphError(f"{name} must be a square matrix; could not read it ({exc})") from exc
    if A.dtype.kind not in "biuf":
        raise InputTypeError(f"{name}: expected a real numeric matrix, got dtype {A.dtype}")
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise GraphError(f"{name} must be a square matrix, got shape {A.shape}")
    A = A.astype(np.float64)  # always a copy
    bad = ~np.isfinite(A)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise GraphError(f"{name}[{i}, {j}] is {float(A[i, j])!r}")
    return A


def as_vector(b, n: int, name: str) -> np.ndarray:
    """A float64 copy of a finite vector of length n."""
    try:
        v = np.asarray(b)
    except ValueError as exc:
        raise GraphError(f"{name}: expected {n} numbers (one per node); ({exc})") from exc
    if v.dtype.kind not in "biuf":
        raise InputTypeError(f"{name}: expected real numbers, got dtype {v.dtype}")
    if v.ndim != 1 or v.shape[0] != n:
        raise GraphError(f"{name}: expected {n} entries (one per node), got shape {v.shape}")
    v = v.astype(np.float64)
    bad = ~np.isfinite(v)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise GraphError(f"{name}[{i}] is {float(v[i])!r}")
    return v


def as_list(seq, n: int, name: str) -> list:
    """A list of exactly n entries (one per node)."""
    if isinstance(seq, (str, bytes)) or not hasattr(seq, "__iter__"):
        raise InputTypeError(f"{name}: expected a sequence of {n} entries, got {seq!r}")
    items = list(seq)
    if len(items) != n:
        raise GraphError(f"{name}: expected {n} entries (one per node), got {len(items)}")
    return items


def activation_list(value, n: int, name: str) -> list:
    """A str (same for every node) or a per-node sequence, checked against ACTIVATIONS."""
    items = [value] * n if isinstance(value, str) else as_list(value, n, name)
    for k, a in enumerate(items):
        if not (isinstance(a, str) and a in ACTIVATIONS):
            where = name if isinstance(value, str) else f"{name}[{k}]"
            raise GraphError(f"{where}: unknown activation {a!r}; expected one of {ACTIVATIONS}")
    return items


def index_list(seq, n: int, name: str) -> list[int]:
    """Distinct node indices in range(n)."""
    if isinstance(seq, (str, bytes)) or not hasattr(seq, "__iter__"):
        raise InputTypeError(f"{name}: expected a sequence of node indices, got {seq!r}")
    out: list[int] = []
    for v in seq:
        if not is_int(v):
            raise InputTypeError(f"{name}: expected node indices (ints), got {v!r}")
        if not 0 <= v < n:
            raise GraphError(f"{name}: node index {v} out of range for a network of {n} nodes")
        if int(v) in out:
            raise GraphError(f"{name}: node {int(v)} is listed twice")
        out.append(int(v))
    return out


def check_mode(mode, where: str) -> str:
    """``mode`` if it is one of MODES, else InputError naming ``where``."""
    if not (isinstance(mode, str) and mode in MODES):
        raise InputError(f"{where}: mode must be 'feedforward' or 'recurrent', got {mode!r}")
    return mode


def graph_from_arrays(W, roles, biases, activations, names, mode, fixed=None) -> nx.DiGraph:
    """The DiGraph of checked arrays (edges row-major, ``fixed``: a checked mask or None);
    GraphNetwork validates it."""
    n = W.shape[0]
    g = nx.DiGraph(mode=mode)
    for i in range(n):
        attrs = {"role": roles[i], "bias": biases[i], "activation": activations[i]}
        if names is not None:
            attrs["name"] = names[i]
        g.add_node(i, **attrs)
    rows, cols = np.nonzero(W)  # row-major: edges come out sorted
    g.add_weighted_edges_from(zip(rows.tolist(), cols.tolist(), W[rows, cols].tolist()))
    if fixed is not None:
        mark_fixed(g, fixed)
    return g


def canonical_graph(roles, biases, activations, names, mode, src, dst, w, fixed) -> nx.DiGraph:
    """The canonical DiGraph of parts that are valid already, built without checks.

    The trusted fast path for a network rebuilt from a valid one with new weights (a
    population's trained networks): ``GraphNetwork(canonical_graph(...), _valid=True)``
    skips :func:`validate`, so the caller guarantees every invariant: a valid network's
    roles, activations (inputs ``identity``), unique names and mode; finite float biases,
    0 at the inputs; edges ``src -> dst`` sorted by ``(src, dst)``, finite non-zero
    weights ``w``, none into an input, acyclic in feedforward mode; ``fixed`` a bool per
    edge. The result equals what :func:`validate` returns for the same network.

    Examples
    --------
    >>> g = canonical_graph(("input", "output"), [0.0, 0.5], ("identity", "identity"),
    ...                     ("x0", "y0"), "feedforward", [0], [1], [2.0], [False])
    >>> list(g.edges(data=True)), g.nodes[1]["bias"]
    ([(0, 1, {'weight': 2.0})], 0.5)
    """
    g = nx.DiGraph(mode=mode)
    g.add_nodes_from((i, {"role": r, "bias": float(b), "activation": a, "name": nm})
                     for i, (r, b, a, nm) in enumerate(zip(roles, biases, activations, names)))
    succ, pred = g._succ, g._pred          # networkx's adjacency dicts: one data dict per edge
    for u, v, x, f in zip(np.asarray(src).tolist(), np.asarray(dst).tolist(),
                          np.asarray(w, dtype=np.float64).tolist(), np.asarray(fixed).tolist()):
        d = {"weight": x, "trainable": False} if f else {"weight": x}
        succ[u][v] = d
        pred[v][u] = d
    return g


def mark_fixed(g: nx.DiGraph, fixed: np.ndarray) -> None:
    """Set ``trainable = False`` on the edges of ``g`` where the checked mask is True."""
    for u, v in np.argwhere(fixed).tolist():
        g.edges[u, v]["trainable"] = False


def fixed_from(fixed, W, where: str, keep=None) -> np.ndarray:
    """``fixed`` as a bool (n, n) copy that is True only at edges of ``W`` (non-zero entries).

    A fixed edge is an edge whose weight training never changes (``trainable = false``);
    a True where ``W`` has no edge is an error, not silently dropped. ``fixed`` None: the
    mask ``keep`` (a network's, of any size) where the same ``(i, j)`` is an edge of ``W``.
    """
    if fixed is None:
        m, k = W.shape[0], min(W.shape[0], keep.shape[0])
        F = np.zeros((m, m), dtype=bool)
        F[:k, :k] = keep[:k, :k] & (W[:k, :k] != 0)
        return F
    try:
        F = np.asarray(fixed)
    except ValueError as exc:
        raise GraphError(f"{where}: fixed must be a boolean matrix; could not read it ({exc})") \
            from exc
    if F.dtype != np.bool_:
        raise InputTypeError(f"{where}: fixed: expected a boolean matrix (True = fixed edge), "
                             f"got dtype {F.dtype}")
    if F.shape != W.shape:
        raise GraphError(f"{where}: fixed must have the shape of W {W.shape}, got {F.shape}")
    stray = F & (W == 0)
    if stray.any():
        i, j = (int(x) for x in np.argwhere(stray)[0])
        raise GraphError(f"{where}: fixed[{i}, {j}] is True but W[{i}, {j}] == 0; only an "
                         f"edge can be fixed")
    return F.copy()


def trained_params(W, b, W0, fixed, inputs, names) -> tuple:
    """Checked copies of trained ``W``, ``b`` for a network with weights ``W0`` (``with_params``).

    Training never creates an edge (``W`` is 0 where ``W0`` is), never moves a fixed edge
    (``W == W0`` where ``fixed``), and input biases stay 0; GraphError names the first entry
    in row-major order that breaks a rule.
    """
    n = W0.shape[0]
    W = as_matrix(W, "W")
    if W.shape != (n, n):
        raise GraphError(f"with_params: W must have shape ({n}, {n}), got {W.shape}")
    new = (W != 0) & (W0 == 0)
    if new.any():
        i, j = (int(x) for x in np.argwhere(new)[0])
        raise GraphError(
            f"with_params: W[{i}, {j}] = {float(W[i, j])!r} but there is no edge "
            f"{i} -> {j}; training never creates an edge"
        )
    moved = fixed & (W != W0)
    if moved.any():
        i, j = (int(x) for x in np.argwhere(moved)[0])
        raise GraphError(
            f"with_params: W[{i}, {j}] = {float(W[i, j])!r} but the edge {i} -> {j} is fixed "
            f"at {float(W0[i, j])!r}; training never changes a fixed edge"
        )
    b = as_vector(b, n, "b")
    for i in inputs:
        if b[i] != 0:
            raise GraphError(
                f"with_params: b[{i}] = {float(b[i])!r} but node {i} ({names[i]!r}) "
                f"is an input; input biases must be 0"
            )
    return W, b
