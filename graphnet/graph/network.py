"""The mutable network: a weighted directed graph that is also a weight matrix.

A :class:`GraphNetwork` keeps its structure in a ``networkx.DiGraph`` and is immutable:
every operation that changes something returns a new network, validated before it is
returned (nothing is ever half-built).

Conventions (binding for execution and operators):

* Node labels are the integers ``0..n-1`` and that order **is** the matrix order.
* ``W[i, j]`` is the weight of the edge ``i -> j`` (row = from, column = to). No edge
  means ``W[i, j] == 0``; an edge of weight exactly 0 is never stored.
* Each node has a ``role`` (``input``, ``hidden``, ``output``), a ``bias``, an
  ``activation`` (``tanh``, ``sigmoid``, ``relu``, ``identity``) and a unique ``name``.
  Input nodes have no incoming edges; their bias is 0 and their activation is stored as
  ``identity`` (both are ignored by execution). Data column ``k`` feeds the ``k``-th input
  node in node order (``net.inputs[k]``); output column ``k`` is ``net.outputs[k]``.
* The graph attribute ``mode`` is ``feedforward`` (the graph must be acyclic, a self-loop
  is a cycle) or ``recurrent`` (cycles allowed).

The seed's own 5x5 0/1 table is :func:`seed_table`; :meth:`GraphNetwork.seed_example`
turns it into a network.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping

import networkx as nx
import numpy as np

from graphnet.fileio import atomic_write
from graphnet.errors import CycleError, DataError, GraphError, InputError, InputTypeError
from graphnet.rng import make_rng

__all__ = [
    "GraphNetwork",
    "ROLES",
    "ACTIVATIONS",
    "MODES",
    "NODE_LINK_FORMAT",
    "NODE_LINK_VERSION",
    "GRAPHML_FORMAT",
    "layered_blocks",
    "seed_table",
]

ROLES = ("input", "hidden", "output")
ACTIVATIONS = ("tanh", "sigmoid", "relu", "identity")
MODES = ("feedforward", "recurrent")
NODE_LINK_FORMAT = "graphnet.node_link"
NODE_LINK_VERSION = 1
GRAPHML_FORMAT = "graphnet.graphml"

_PREFIX = {"input": "x", "hidden": "h", "output": "y"}
_DEFAULT_ACTIVATION = {"input": "identity", "hidden": "tanh", "output": "identity"}
_NODE_KEYS = ("role", "bias", "activation", "name")
_INDEX_RE = re.compile(r"0|[1-9][0-9]*", re.ASCII)

# The table at the end of the seed document, read as "row = from".
_SEED_TABLE = (
    (0, 1, 0, 0, 1),
    (1, 0, 1, 0, 0),
    (0, 0, 0, 1, 0),
    (0, 0, 0, 0, 0),
    (0, 0, 0, 1, 0),
)


# ----------------------------------------------------------------------------------------
# validation: the one gate every network passes through
# ----------------------------------------------------------------------------------------


def _is_real(x) -> bool:
    """True for a real number that is not a bool."""
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _is_int(x) -> bool:
    """True for an integer that is not a bool."""
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def _validate(graph) -> nx.DiGraph:
    """Check ``graph`` against every network invariant; return its canonical copy."""
    if not isinstance(graph, nx.DiGraph):
        raise InputTypeError(f"graph: expected a networkx.DiGraph, got {type(graph).__name__}")
    if graph.is_multigraph():
        raise GraphError("graph: a network cannot have parallel edges; got a MultiDiGraph")

    n = graph.number_of_nodes()
    for v in graph.nodes:
        if not _is_int(v):
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
        if not _is_real(bias) or not math.isfinite(bias):
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

    edges = []
    adj = graph.adj
    for u in range(n):
        for v, data in sorted(adj[u].items(), key=lambda item: int(item[0])):
            v = int(v)
            if "weight" not in data:
                raise GraphError(f"edge {u} -> {v} has no 'weight'")
            w = data["weight"]
            if type(w) is not float and not _is_real(w):  # fast path for plain floats
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
            edges.append((u, v, float(w)))

    g = nx.DiGraph(mode=mode)
    for i, a in enumerate(attrs):
        g.add_node(i, **a)
    g.add_weighted_edges_from(edges)

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


def _as_matrix(W, name: str = "W") -> np.ndarray:
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


def _as_vector(b, n: int, name: str) -> np.ndarray:
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


def _as_list(seq, n: int, name: str) -> list:
    """A list of exactly n entries (one per node)."""
    if isinstance(seq, (str, bytes)) or not hasattr(seq, "__iter__"):
        raise InputTypeError(f"{name}: expected a sequence of {n} entries, got {seq!r}")
    items = list(seq)
    if len(items) != n:
        raise GraphError(f"{name}: expected {n} entries (one per node), got {len(items)}")
    return items


def _activation_list(value, n: int, name: str) -> list:
    """A str (same for every node) or a per-node sequence, checked against ACTIVATIONS."""
    items = [value] * n if isinstance(value, str) else _as_list(value, n, name)
    for k, a in enumerate(items):
        if not (isinstance(a, str) and a in ACTIVATIONS):
            where = name if isinstance(value, str) else f"{name}[{k}]"
            raise GraphError(f"{where}: unknown activation {a!r}; expected one of {ACTIVATIONS}")
    return items


def _index_list(seq, n: int, name: str) -> list[int]:
    """Distinct node indices in range(n)."""
    if isinstance(seq, (str, bytes)) or not hasattr(seq, "__iter__"):
        raise InputTypeError(f"{name}: expected a sequence of node indices, got {seq!r}")
    out: list[int] = []
    for v in seq:
        if not _is_int(v):
            raise InputTypeError(f"{name}: expected node indices (ints), got {v!r}")
        if not 0 <= v < n:
            raise GraphError(f"{name}: node index {v} out of range for a network of {n} nodes")
        if int(v) in out:
            raise GraphError(f"{name}: node {int(v)} is listed twice")
        out.append(int(v))
    return out


def _check_count(value, name: str, minimum: int) -> int:
    if not _is_int(value):
        raise InputTypeError(f"{name}: expected an int >= {minimum}, got {value!r}")
    if value < minimum:
        raise InputError(f"{name}: expected an int >= {minimum}, got {value}")
    return int(value)


def _check_mode(mode, where: str) -> str:
    if not (isinstance(mode, str) and mode in MODES):
        raise InputError(f"{where}: mode must be 'feedforward' or 'recurrent', got {mode!r}")
    return mode


def _check_sizes(sizes, where: str) -> list[int]:
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__iter__"):
        raise InputTypeError(f"{where}: sizes must be a sequence of ints, got {sizes!r}")
    sizes = list(sizes)
    if len(sizes) < 2:
        raise InputError(f"{where}: sizes needs at least 2 layers (inputs, outputs), got {sizes}")
    for s in sizes:
        if not _is_int(s) or s < 1:
            raise InputError(f"{where}: every layer size must be an int >= 1, got {sizes}")
    return [int(s) for s in sizes]


def _nonzero_draw(draw, size) -> np.ndarray:
    """Draw weights; redraw any that are exactly 0 (0 would mean 'no edge')."""
    w = draw(size)
    while np.any(w == 0):  # probability ~0; kept so an edge never silently vanishes
        zero = w == 0
        w[zero] = draw(int(zero.sum()))
    return w


def _closure(A: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Boolean mask of the nodes reachable from ``start`` along A (A[i, j]: i -> j)."""
    reach = start.copy()
    while True:
        new = reach | A[reach].any(axis=0)
        if (new == reach).all():
            return reach
        reach = new


def seed_table() -> np.ndarray:
    """The 5x5 0/1 table at the end of the seed document (rows = from).

    Returns
    -------
    ndarray of int64, shape (5, 5)
        ``T[i, j] == 1`` means an edge ``i -> j``. Node 3 is a sink; 0 -> 1 -> 0 is a cycle.

    Examples
    --------
    >>> seed_table()
    array([[0, 1, 0, 0, 1],
           [1, 0, 1, 0, 0],
           [0, 0, 0, 1, 0],
           [0, 0, 0, 0, 0],
           [0, 0, 0, 1, 0]])
    """
    return np.array(_SEED_TABLE, dtype=np.int64)


# ----------------------------------------------------------------------------------------
# the network
# ----------------------------------------------------------------------------------------


class GraphNetwork:
    """An immutable network whose store is a ``networkx.DiGraph``.

    Parameters
    ----------
    graph : networkx.DiGraph
        Node labels must already be the integers ``0..n-1`` (they are not relabelled; the
        insertion order does not matter, node ``i`` becomes matrix row ``i``). Each node
        needs ``role``; ``bias`` defaults to 0.0, ``activation`` to ``tanh`` for hidden and
        ``identity`` for input and output nodes, ``name`` to ``x0..``/``h0..``/``y0..``
        numbered by node order within the role. Each edge needs a non-zero finite
        ``weight``. ``graph.graph["mode"]`` defaults to ``feedforward``. Other
        attributes are not kept. The graph is copied: changing it later does not change
        the network.

    Raises
    ------
    InputTypeError
        If ``graph`` is not a ``networkx.DiGraph``.
    GraphError
        If any invariant fails (see the module docstring); the message names it.
    CycleError
        If the mode is ``feedforward`` and the graph has a cycle; ``.cycle`` lists its
        edges.

    Examples
    --------
    >>> import networkx as nx
    >>> g = nx.DiGraph(mode="feedforward")
    >>> g.add_node(0, role="input")
    >>> g.add_node(1, role="output", bias=0.5)
    >>> g.add_edge(0, 1, weight=2.0)
    >>> net = GraphNetwork(g)
    >>> net
    GraphNetwork(mode='feedforward', inputs=1, hidden=0, outputs=1, edges=1)
    >>> net.names, net.matrix().tolist()
    (('x0', 'y0'), [[0.0, 2.0], [0.0, 0.0]])
    """

    def __init__(self, graph: nx.DiGraph):
        g = _validate(graph)
        n = g.number_of_nodes()
        nodes = g.nodes
        self._g = g
        self._n = n
        self._mode = g.graph["mode"]
        self._roles = tuple(nodes[i]["role"] for i in range(n))
        self._activations = tuple(nodes[i]["activation"] for i in range(n))
        self._names = tuple(nodes[i]["name"] for i in range(n))
        b = np.array([nodes[i]["bias"] for i in range(n)], dtype=np.float64)
        W = np.zeros((n, n), dtype=np.float64)
        for u, v, w in g.edges(data="weight"):
            W[u, v] = w
        b.setflags(write=False)
        W.setflags(write=False)
        self._b = b
        self._W = W
        roles = np.array(self._roles)
        self._inputs = np.flatnonzero(roles == "input")
        self._hidden = np.flatnonzero(roles == "hidden")
        self._outputs = np.flatnonzero(roles == "output")
        self._depths = None

    # ------------------------------------------------------------------ constructors

    @classmethod
    def from_graph(cls, graph: nx.DiGraph) -> "GraphNetwork":
        """Alias of ``GraphNetwork(graph)``.

        Parameters
        ----------
        graph : networkx.DiGraph
            See :class:`GraphNetwork`.

        Returns
        -------
        GraphNetwork

        Raises
        ------
        GraphError, CycleError, InputTypeError
            As :class:`GraphNetwork`.

        Examples
        --------
        >>> net = GraphNetwork.seed_example()
        >>> GraphNetwork.from_graph(net.graph) == net
        True
        """
        return cls(graph)

    @classmethod
    def _from_arrays(cls, W, roles, biases, activations, names, mode) -> "GraphNetwork":
        """Build the DiGraph from checked arrays and pass it through validation."""
        n = W.shape[0]
        g = nx.DiGraph(mode=mode)
        for i in range(n):
            attrs = {"role": roles[i], "bias": biases[i], "activation": activations[i]}
            if names is not None:
                attrs["name"] = names[i]
            g.add_node(i, **attrs)
        rows, cols = np.nonzero(W)  # row-major: edges come out sorted
        g.add_weighted_edges_from(zip(rows.tolist(), cols.tolist(), W[rows, cols].tolist()))
        return cls(g)

    @classmethod
    def from_matrix(
        cls,
        W,
        inputs,
        outputs,
        *,
        biases=None,
        activation="tanh",
        output_activation="identity",
        mode="feedforward",
        names=None,
    ) -> "GraphNetwork":
        """Build a network from its weight matrix.

        Parameters
        ----------
        W : array_like of shape (n, n)
            ``W[i, j]`` is the weight of the edge ``i -> j``; 0 means no edge.
        inputs, outputs : sequence of int
            Node indices of the input and output nodes (disjoint, in range, no
            duplicates). Every other node is hidden. The order given does not matter:
            the network's inputs are in node order (``net.inputs``).
        biases : array_like of shape (n,), optional
            Default zeros. Entries at input nodes must be 0.
        activation : str or sequence of n str
            Activation of the hidden nodes; a sequence gives one per node and is read at
            the hidden positions only.
        output_activation : str or sequence of n str
            Activation of the output nodes; a sequence is read at the output positions
            only (so one full per-node list may be passed as both arguments).
        mode : {"feedforward", "recurrent"}
        names : sequence of n str, optional
            Default ``x0..`` inputs, ``h0..`` hidden, ``y0..`` outputs.

        Returns
        -------
        GraphNetwork

        Raises
        ------
        GraphError
            Non-square or non-finite W (``"W[2, 3] is nan"``), an index out of range or
            listed twice, inputs and outputs overlapping, no inputs or outputs, an edge
            into an input, a wrong-length list, an unknown activation, duplicate names.
        CycleError
            ``feedforward`` mode and W has a cycle.
        InputTypeError
            W is not numeric; inputs/outputs are not sequences of ints.

        Examples
        --------
        >>> W = [[0, 0, 0.5], [0, 0, -1.0], [0, 0, 0]]
        >>> net = GraphNetwork.from_matrix(W, inputs=[0, 1], outputs=[2])
        >>> net.roles, net.names, net.n_edges
        (('input', 'input', 'output'), ('x0', 'x1', 'y0'), 2)
        >>> GraphNetwork.from_matrix([[0, 1], [float("nan"), 0]], [0], [1])
        Traceback (most recent call last):
        ...
        graphnet.errors.GraphError: W[1, 0] is nan
        """
        W = _as_matrix(W, "W")
        n = W.shape[0]
        inputs = _index_list(inputs, n, "inputs")
        outputs = _index_list(outputs, n, "outputs")
        both = sorted(set(inputs) & set(outputs))
        if both:
            raise GraphError(f"inputs and outputs overlap at node {both[0]}")
        roles = ["hidden"] * n
        for i in inputs:
            roles[i] = "input"
        for i in outputs:
            roles[i] = "output"
        hidden_acts = _activation_list(activation, n, "activation")
        output_acts = _activation_list(output_activation, n, "output_activation")
        acts = [
            "identity" if r == "input" else (output_acts[i] if r == "output" else hidden_acts[i])
            for i, r in enumerate(roles)
        ]
        b = np.zeros(n) if biases is None else _as_vector(biases, n, "biases")
        if names is not None:
            names = _as_list(names, n, "names")
        mode = _check_mode(mode, "from_matrix")
        return cls._from_arrays(W, roles, b.tolist(), acts, names, mode)

    @classmethod
    def random(
        cls,
        n_inputs,
        n_hidden,
        n_outputs,
        density,
        seed,
        *,
        mode="feedforward",
        activation="tanh",
        output_activation="identity",
    ) -> "GraphNetwork":
        """A random network with no dead node.

        Node order: inputs, hidden, outputs. Each allowed edge is present with
        probability ``density``; then edges are added at random until every non-input
        node is reached from an input and every non-output node reaches an output.

        * ``feedforward``: edge ``i -> j`` allowed only if ``i < j`` and ``j`` is not an
          input (a random DAG). Repair: a hidden/output node without an in-edge gets one
          from a random earlier node; an input/hidden node without an out-edge gets one
          to a random later non-input node.
        * ``recurrent``: any edge not into an input is allowed, self-loops and cycles
          included. Repair: the first unreached node gets an edge from a random reached
          node, until all are reached; then the first non-output node that reaches no
          output gets an edge to a random non-input node that does.

        Weights of node ``j``'s in-edges ~ Normal(0, 1/sqrt(fan_in_j)) (std), biases 0.

        Parameters
        ----------
        n_inputs, n_outputs : int >= 1
        n_hidden : int >= 0
        density : float in (0, 1]
        seed : int or numpy.random.Generator
            All randomness comes from it: the same seed gives the identical network,
            bit for bit.
        mode : {"feedforward", "recurrent"}
        activation, output_activation : str or sequence
            As :meth:`from_matrix`.

        Returns
        -------
        GraphNetwork

        Raises
        ------
        InputError
            A count below its minimum, density outside (0, 1], unknown mode.
        InputTypeError
            A count that is not an int, a seed that is neither int nor Generator.

        Examples
        --------
        >>> net = GraphNetwork.random(2, 3, 1, 0.5, seed=0)
        >>> net.n_nodes, net.mode, net.roles[:3]
        (6, 'feedforward', ('input', 'input', 'hidden'))
        >>> net == GraphNetwork.random(2, 3, 1, 0.5, seed=0)
        True
        >>> len(net.unreachable()), len(net.dead_ends())
        (0, 0)
        """
        n_inputs = _check_count(n_inputs, "n_inputs", 1)
        n_hidden = _check_count(n_hidden, "n_hidden", 0)
        n_outputs = _check_count(n_outputs, "n_outputs", 1)
        if not _is_real(density) or not (0 < density <= 1):
            raise InputError(f"density: expected a number in (0, 1], got {density!r}")
        mode = _check_mode(mode, "random")
        rng = make_rng(seed)
        n = n_inputs + n_hidden + n_outputs
        is_input = np.arange(n) < n_inputs
        is_output = np.arange(n) >= n - n_outputs

        allowed = np.ones((n, n), dtype=bool)
        allowed[:, is_input] = False
        if mode == "feedforward":
            allowed &= np.triu(np.ones((n, n), dtype=bool), k=1)
        A = (rng.random((n, n)) < density) & allowed

        if mode == "feedforward":
            for j in range(n_inputs, n):
                if not A[:, j].any():
                    A[int(rng.integers(0, j)), j] = True
            for i in range(n - n_outputs):
                if not A[i, :].any():
                    A[i, int(rng.integers(max(i + 1, n_inputs), n))] = True
        else:
            while True:
                reach = _closure(A, is_input)
                missing = np.flatnonzero(~reach)
                if missing.size == 0:
                    break
                A[int(rng.choice(np.flatnonzero(reach))), missing[0]] = True
            while True:
                co = _closure(A.T, is_output)
                missing = np.flatnonzero(~co)
                if missing.size == 0:
                    break
                A[missing[0], int(rng.choice(np.flatnonzero(co & ~is_input)))] = True

        W = np.zeros((n, n))
        for j in range(n):
            rows = np.flatnonzero(A[:, j])
            if rows.size:
                std = 1.0 / math.sqrt(rows.size)
                W[rows, j] = _nonzero_draw(lambda k: rng.normal(0.0, std, size=k), rows.size)
        return cls.from_matrix(
            W,
            inputs=range(n_inputs),
            outputs=range(n - n_outputs, n),
            activation=activation,
            output_activation=output_activation,
            mode=mode,
        )

    @classmethod
    def layered(cls, sizes, seed, *, activation="tanh", output_activation="identity"):
        """The graph of an ordinary fully connected MLP.

        Nodes are numbered layer by layer; every node of layer ``k`` has an edge to every
        node of layer ``k + 1``. Weights are Xavier-uniform, in
        ``+-sqrt(6 / (sizes[k] + sizes[k+1]))``, drawn one block of shape
        ``(sizes[k], sizes[k+1])`` per layer from the same Generator (the draw a
        ``Dense(sizes[k], sizes[k+1], init="xavier")`` makes); biases 0.

        Parameters
        ----------
        sizes : sequence of int >= 1, at least 2
            Layer sizes: inputs, hidden layers..., outputs.
        seed : int or numpy.random.Generator
        activation, output_activation : str or sequence
            As :meth:`from_matrix`.

        Returns
        -------
        GraphNetwork
            Feedforward. Use :func:`layered_blocks` to get the per-layer (W_k, b_k).

        Raises
        ------
        InputError
            Fewer than 2 sizes or a size below 1.

        Examples
        --------
        >>> net = GraphNetwork.layered([2, 4, 1], seed=0)
        >>> net.n_nodes, net.n_edges, [len(level) for level in net.levels()]
        (7, 12, [4, 1])
        """
        sizes = _check_sizes(sizes, "layered")
        rng = make_rng(seed)
        n = sum(sizes)
        offsets = np.concatenate([[0], np.cumsum(sizes)])
        W = np.zeros((n, n))
        for k in range(len(sizes) - 1):
            a, b = sizes[k], sizes[k + 1]
            limit = math.sqrt(6.0 / (a + b))
            block = _nonzero_draw(lambda size: rng.uniform(-limit, limit, size=size), (a, b))
            W[offsets[k] : offsets[k + 1], offsets[k + 1] : offsets[k + 2]] = block
        return cls.from_matrix(
            W,
            inputs=range(sizes[0]),
            outputs=range(n - sizes[-1], n),
            activation=activation,
            output_activation=output_activation,
        )

    @classmethod
    def seed_example(cls, *, mode="recurrent") -> "GraphNetwork":
        """The seed's 5x5 table as a network, plus one input node.

        Nodes 0..4 are the table's (row = from): node 3, the sink, is the output
        ``s3``; nodes 0, 1, 2, 4 are hidden ``s0 s1 s2 s4``. Node 5 is the input ``x0``
        with an edge 5 -> 0 of weight 1.0 so that data can enter. Table entries become
        weights 1.0; hidden activation tanh, output identity, biases 0.

        Parameters
        ----------
        mode : {"recurrent", "feedforward"}
            The table has the cycle 0 -> 1 -> 0, so ``feedforward`` raises.

        Returns
        -------
        GraphNetwork

        Raises
        ------
        CycleError
            In ``feedforward`` mode, naming 0 -> 1 -> 0.

        Examples
        --------
        >>> net = GraphNetwork.seed_example()
        >>> bool((net.matrix()[:5, :5] == seed_table()).all()), net.cycles()
        (True, [[0, 1]])
        >>> GraphNetwork.seed_example(mode="feedforward")
        Traceback (most recent call last):
        ...
        graphnet.errors.CycleError: feedforward network has a cycle 0 -> 1 -> 0
        """
        W = np.zeros((6, 6))
        W[:5, :5] = seed_table()
        W[5, 0] = 1.0
        return cls.from_matrix(
            W,
            inputs=[5],
            outputs=[3],
            mode=mode,
            names=["s0", "s1", "s2", "s3", "s4", "x0"],
        )

    # ------------------------------------------------------------------ views

    @property
    def n_nodes(self) -> int:
        """Number of nodes ``n`` (W is n x n).

        Examples
        --------
        >>> GraphNetwork.seed_example().n_nodes
        6
        """
        return self._n

    @property
    def n_edges(self) -> int:
        """Number of edges (non-zero entries of W).

        Examples
        --------
        >>> GraphNetwork.seed_example().n_edges
        7
        """
        return self._g.number_of_edges()

    @property
    def n_inputs(self) -> int:
        """Number of input nodes.

        Examples
        --------
        >>> GraphNetwork.layered([3, 2], seed=0).n_inputs
        3
        """
        return int(self._inputs.size)

    @property
    def n_hidden(self) -> int:
        """Number of hidden nodes.

        Examples
        --------
        >>> GraphNetwork.seed_example().n_hidden
        4
        """
        return int(self._hidden.size)

    @property
    def n_outputs(self) -> int:
        """Number of output nodes.

        Examples
        --------
        >>> GraphNetwork.layered([3, 2], seed=0).n_outputs
        2
        """
        return int(self._outputs.size)

    @property
    def n_params(self) -> int:
        """Trainable parameters: one per edge plus one bias per non-input node.

        Examples
        --------
        >>> GraphNetwork.layered([2, 3, 1], seed=0).n_params  # (6 + 3) + (3 + 1)
        13
        """
        return self.n_edges + self._n - self.n_inputs

    @property
    def mode(self) -> str:
        """``"feedforward"`` or ``"recurrent"``.

        Examples
        --------
        >>> GraphNetwork.seed_example().mode
        'recurrent'
        """
        return self._mode

    @property
    def roles(self) -> tuple:
        """Role of each node, in node order.

        Examples
        --------
        >>> GraphNetwork.layered([1, 1, 1], seed=0).roles
        ('input', 'hidden', 'output')
        """
        return self._roles

    @property
    def activations(self) -> tuple:
        """Activation of each node (inputs: ``identity``), in node order.

        Examples
        --------
        >>> GraphNetwork.layered([1, 1, 1], seed=0).activations
        ('identity', 'tanh', 'identity')
        """
        return self._activations

    @property
    def names(self) -> tuple:
        """Name of each node, in node order.

        Examples
        --------
        >>> GraphNetwork.seed_example().names
        ('s0', 's1', 's2', 's3', 's4', 'x0')
        """
        return self._names

    @property
    def inputs(self) -> np.ndarray:
        """Indices of the input nodes, ascending (a copy).

        Examples
        --------
        >>> GraphNetwork.seed_example().inputs
        array([5])
        """
        return self._inputs.copy()

    @property
    def hidden(self) -> np.ndarray:
        """Indices of the hidden nodes, ascending (a copy).

        Examples
        --------
        >>> GraphNetwork.seed_example().hidden
        array([0, 1, 2, 4])
        """
        return self._hidden.copy()

    @property
    def outputs(self) -> np.ndarray:
        """Indices of the output nodes, ascending (a copy).

        Examples
        --------
        >>> GraphNetwork.seed_example().outputs
        array([3])
        """
        return self._outputs.copy()

    def matrix(self) -> np.ndarray:
        """The weight matrix, a fresh float64 copy.

        Returns
        -------
        ndarray of shape (n, n)
            ``W[i, j]`` is the weight of the edge ``i -> j``; 0 means no edge.

        Examples
        --------
        >>> net = GraphNetwork.from_matrix([[0, 3.0], [0, 0]], [0], [1])
        >>> W = net.matrix(); W[0, 1] = 9.0
        >>> net.matrix()[0, 1]
        np.float64(3.0)
        """
        return self._W.copy()

    def biases(self) -> np.ndarray:
        """The biases, a fresh float64 copy of shape (n,) (0 at input nodes).

        Examples
        --------
        >>> GraphNetwork.from_matrix([[0, 1.0], [0, 0]], [0], [1], biases=[0, 0.5]).biases()
        array([0. , 0.5])
        """
        return self._b.copy()

    def edges(self) -> list:
        """All edges as ``(i, j, w)``, sorted by ``(i, j)``.

        Examples
        --------
        >>> GraphNetwork.from_matrix([[0, 0, 2.0], [0, 0, -1.0], [0, 0, 0]], [0, 1], [2]).edges()
        [(0, 2, 2.0), (1, 2, -1.0)]
        """
        return [(u, v, w) for u, v, w in self._g.edges(data="weight")]

    @property
    def graph(self) -> nx.DiGraph:
        """A frozen copy of the DiGraph (changing it cannot change the network).

        Examples
        --------
        >>> g = GraphNetwork.seed_example().graph
        >>> g.nodes[3]["name"], g.edges[5, 0]["weight"], g.graph["mode"]
        ('s3', 1.0, 'recurrent')
        >>> nx.is_frozen(g)
        True
        """
        return nx.freeze(self._g.copy())

    def depths(self) -> np.ndarray:
        """Depth of every node: inputs 0, others 1 + the largest depth of a predecessor.

        A non-input node without predecessors gets depth 1. Execution runs the nodes
        of one depth as one matrix product.

        Returns
        -------
        ndarray of int, shape (n,)

        Raises
        ------
        GraphError
            If the network is recurrent (depth needs an acyclic graph).

        Examples
        --------
        >>> GraphNetwork.layered([2, 3, 1], seed=0).depths()
        array([0, 0, 1, 1, 1, 2])
        """
        if self._mode != "feedforward":
            raise GraphError("depths: only defined in feedforward mode; this network is recurrent")
        if self._depths is None:
            d = np.zeros(self._n, dtype=np.intp)
            for v in nx.topological_sort(self._g):
                if self._roles[v] != "input":
                    d[v] = 1 + max((d[p] for p in self._g.predecessors(v)), default=0)
            d.setflags(write=False)
            self._depths = d
        return self._depths.copy()

    def levels(self) -> list:
        """The non-input nodes grouped by depth: ``levels()[k]`` holds depth ``k + 1``.

        Returns
        -------
        list of ndarray of int
            Ascending depth, indices ascending within a level; no level is empty.

        Raises
        ------
        GraphError
            If the network is recurrent.

        Examples
        --------
        >>> [lv.tolist() for lv in GraphNetwork.layered([2, 3, 1], seed=0).levels()]
        [[2, 3, 4], [5]]
        """
        d = self.depths()
        return [np.flatnonzero(d == k) for k in range(1, int(d.max()) + 1)]

    def _reach(self, start, *, reverse: bool) -> set:
        """Nodes reachable from ``start`` (along edges, or against them)."""
        step = self._g.predecessors if reverse else self._g.successors
        seen = set(int(s) for s in start)
        stack = list(seen)
        while stack:
            for w in step(stack.pop()):
                if w not in seen:
                    seen.add(w)
                    stack.append(w)
        return seen

    def unreachable(self) -> np.ndarray:
        """Non-input nodes that no input reaches (their value never depends on data).

        Examples
        --------
        >>> W = [[0, 0, 1.0], [0, 0, 1.0], [0, 0, 0]]  # node 1 hidden, no in-edge
        >>> GraphNetwork.from_matrix(W, [0], [2]).unreachable()
        array([1])
        """
        seen = self._reach(self._inputs, reverse=False)
        return np.array([v for v in range(self._n) if v not in seen], dtype=np.intp)

    def dead_ends(self) -> np.ndarray:
        """Non-output nodes (inputs included) that reach no output.

        Examples
        --------
        >>> W = [[0, 1.0, 1.0], [0, 0, 0], [0, 0, 0]]  # node 1 hidden, no out-edge
        >>> GraphNetwork.from_matrix(W, [0], [2]).dead_ends()
        array([1])
        """
        seen = self._reach(self._outputs, reverse=True)
        return np.array([v for v in range(self._n) if v not in seen], dtype=np.intp)

    def sinks(self) -> np.ndarray:
        """Nodes with no outgoing edge, any role.

        Examples
        --------
        >>> GraphNetwork.seed_example().sinks()
        array([3])
        """
        out = self._g.out_degree
        return np.array([v for v in range(self._n) if out[v] == 0], dtype=np.intp)

    def cycles(self, limit=20) -> list:
        """Simple cycles as node lists, at most ``limit`` of them.

        Each cycle starts at its smallest node; the list is sorted by (length, nodes).
        A self-loop is ``[i]``. Feedforward networks have none.

        Parameters
        ----------
        limit : int >= 0

        Returns
        -------
        list of list of int

        Examples
        --------
        >>> GraphNetwork.seed_example().cycles()
        [[0, 1]]
        """
        if not _is_int(limit):
            raise InputTypeError(f"cycles: limit must be an int, got {limit!r}")
        if limit < 0:
            raise InputError(f"cycles: limit must be >= 0, got {limit}")
        if self._mode == "feedforward" or limit == 0:
            return []
        found = []
        for c in nx.simple_cycles(self._g):
            k = c.index(min(c))
            found.append([int(v) for v in c[k:] + c[:k]])
            if len(found) >= limit:
                break
        return sorted(found, key=lambda c: (len(c), c))

    def _describe(self, nodes) -> str:
        """'none' or '2 ('h0'), 5 ('y1')'."""
        if len(nodes) == 0:
            return "none"
        return ", ".join(f"{int(v)} ({self._names[v]!r})" for v in nodes)

    def summary(self) -> str:
        """A multi-line report: mode, counts, edges, density, depth, and the problems.

        Unreachable nodes, dead ends and cycles each get a line: reported, not hidden.

        Examples
        --------
        >>> print(GraphNetwork.seed_example().summary())
        GraphNetwork (recurrent)
        nodes: 6 (inputs 1, hidden 4, outputs 1)
        edges: 7 (density 0.194 of the 36 entries of W)
        parameters: 12
        unreachable: none
        dead ends: none
        cycles: 1: [0, 1]
        """
        n = self._n
        lines = [
            f"GraphNetwork ({self._mode})",
            f"nodes: {n} (inputs {self.n_inputs}, hidden {self.n_hidden}, "
            f"outputs {self.n_outputs})",
            f"edges: {self.n_edges} (density {self.n_edges / (n * n):.3g} of the "
            f"{n * n} entries of W)",
            f"parameters: {self.n_params}",
        ]
        if self._mode == "feedforward":
            lines.append(f"depth: {int(self.depths().max())}")
        lines.append(f"unreachable: {self._describe(self.unreachable())}")
        lines.append(f"dead ends: {self._describe(self.dead_ends())}")
        if self._mode == "feedforward":
            lines.append("cycles: none (feedforward)")
        else:
            limit = 20
            cyc = self.cycles(limit=limit)
            if not cyc:
                lines.append("cycles: none")
            else:
                more = f" (first {limit})" if len(cyc) == limit else ""
                lines.append(f"cycles: {len(cyc)}{more}: " + ", ".join(str(c) for c in cyc))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(mode={self._mode!r}, inputs={self.n_inputs}, "
            f"hidden={self.n_hidden}, outputs={self.n_outputs}, edges={self.n_edges})"
        )

    def __eq__(self, other) -> bool:
        if not isinstance(other, GraphNetwork):
            return NotImplemented
        return (
            self._n == other._n
            and self._mode == other._mode
            and self._roles == other._roles
            and self._activations == other._activations
            and self._names == other._names
            and bool(np.array_equal(self._b, other._b))
            and bool(np.array_equal(self._W, other._W))
        )

    def __hash__(self) -> int:
        return hash(
            (self._mode, self._roles, self._activations, self._names,
             tuple(self._b.tolist()), tuple(self.edges()))
        )

    # ------------------------------------------------------------------ derivation

    def replace(self, *, W=None, biases=None, roles=None, activations=None, names=None,
                mode=None) -> "GraphNetwork":
        """A new network with some parts replaced; the rest is taken from this one.

        This is the primitive the operators build on (a node permutation is
        ``replace`` with permuted W and attribute lists). Everything is validated
        before the new network is returned; this network never changes.

        Parameters
        ----------
        W : array_like of shape (m, m), optional
            New weight matrix (0 = no edge). If ``m != n``, pass every per-node list.
        biases : array_like of shape (m,), optional
            Entries at input nodes must be 0.
        roles, activations, names : sequence of m str, optional
            Per-node lists. Activations of input nodes are ignored (stored ``identity``).
            Names are kept as they are unless given (also when roles change).
        mode : {"feedforward", "recurrent"}, optional

        Returns
        -------
        GraphNetwork

        Raises
        ------
        GraphError, CycleError
            As :meth:`from_matrix`, e.g. a permutation that puts an edge into an input.

        Examples
        --------
        >>> net = GraphNetwork.seed_example()
        >>> p = [5, 0, 1, 2, 3, 4]  # new node k is old node p[k]
        >>> moved = net.replace(W=net.matrix()[np.ix_(p, p)], biases=net.biases()[p],
        ...                     roles=[net.roles[i] for i in p],
        ...                     activations=[net.activations[i] for i in p],
        ...                     names=[net.names[i] for i in p])
        >>> moved.names[:2], moved.cycles()
        (('x0', 's0'), [[1, 2]])
        >>> net.replace(mode="feedforward")
        Traceback (most recent call last):
        ...
        graphnet.errors.CycleError: feedforward network has a cycle 0 -> 1 -> 0
        """
        W = self._W.copy() if W is None else _as_matrix(W, "W")
        m = W.shape[0]
        roles = list(self._roles) if roles is None else roles
        roles = _as_list(roles, m, "roles")
        b = self._b if biases is None else biases
        b = _as_vector(b, m, "biases")
        acts = _activation_list(
            list(self._activations) if activations is None else activations, m, "activations"
        )
        names = _as_list(list(self._names) if names is None else names, m, "names")
        mode = self._mode if mode is None else _check_mode(mode, "replace")
        return type(self)._from_arrays(W, roles, b.tolist(), acts, names, mode)

    def with_params(self, W, b) -> "GraphNetwork":
        """Write trained weights and biases back into the same structure.

        Training never creates an edge: ``W`` must be 0 wherever this network has no
        edge. An edge whose weight became exactly 0 is dropped.

        Parameters
        ----------
        W : array_like of shape (n, n)
        b : array_like of shape (n,)
            Entries at input nodes must be 0 (input biases are ignored).

        Returns
        -------
        GraphNetwork

        Raises
        ------
        GraphError
            Wrong shape, a non-finite entry, a non-zero weight where there is no edge
            (naming the first one in row-major order), a non-zero input bias.

        Examples
        --------
        >>> net = GraphNetwork.from_matrix([[0, 1.0], [0, 0]], [0], [1])
        >>> net.with_params([[0, 0.25], [0, 0]], [0, 0.1]).edges()
        [(0, 1, 0.25)]
        >>> net.with_params([[0, 0.25], [0.5, 0]], [0, 0.1])
        Traceback (most recent call last):
        ...
        graphnet.errors.GraphError: with_params: W[1, 0] = 0.5 but there is no edge 1 -> 0; training never creates an edge
        """
        n = self._n
        W = _as_matrix(W, "W")
        if W.shape != (n, n):
            raise GraphError(f"with_params: W must have shape ({n}, {n}), got {W.shape}")
        new = (W != 0) & (self._W == 0)
        if new.any():
            i, j = (int(x) for x in np.argwhere(new)[0])
            raise GraphError(
                f"with_params: W[{i}, {j}] = {float(W[i, j])!r} but there is no edge "
                f"{i} -> {j}; training never creates an edge"
            )
        b = _as_vector(b, n, "b")
        for i in self._inputs:
            if b[i] != 0:
                raise GraphError(
                    f"with_params: b[{i}] = {float(b[i])!r} but node {i} ({self._names[i]!r}) "
                    f"is an input; input biases must be 0"
                )
        return self.replace(W=W, biases=b)

    def copy(self) -> "GraphNetwork":
        """An equal network with its own graph.

        Examples
        --------
        >>> net = GraphNetwork.seed_example()
        >>> other = net.copy()
        >>> other == net, other is net
        (True, False)
        """
        return type(self)(self._g)

    # ------------------------------------------------------------------ serialisation

    def to_node_link(self, path=None) -> dict:
        """The network as a node-link dict, optionally written as JSON.

        The dict is networkx's node-link shape (``nodes``, ``links``) plus ``format``
        and ``version`` keys. Floats round-trip exactly through JSON.

        Parameters
        ----------
        path : str or os.PathLike, optional
            If given, the JSON is written atomically (temp file in the same directory,
            then ``os.replace``).

        Returns
        -------
        dict

        Examples
        --------
        >>> d = GraphNetwork.seed_example().to_node_link()
        >>> d["format"], d["version"], d["graph"], d["nodes"][3]
        ('graphnet.node_link', 1, {'mode': 'recurrent'}, {'id': 3, 'role': 'output', 'bias': 0.0, 'activation': 'identity', 'name': 's3'})
        >>> d["links"][0]
        {'source': 0, 'target': 1, 'weight': 1.0}
        """
        nodes = self._g.nodes
        data = {
            "format": NODE_LINK_FORMAT,
            "version": NODE_LINK_VERSION,
            "directed": True,
            "multigraph": False,
            "graph": {"mode": self._mode},
            "nodes": [{"id": i, **{k: nodes[i][k] for k in _NODE_KEYS}} for i in range(self._n)],
            "links": [{"source": u, "target": v, "weight": w} for u, v, w in self.edges()],
        }
        if path is not None:
            text = json.dumps(data, indent=1, allow_nan=False, ensure_ascii=False)

            def write(tmp):
                with open(tmp, "w", encoding="utf-8") as fh:
                    fh.write(text)
                    fh.flush()
                    os.fsync(fh.fileno())

            atomic_write(path, write)
        return data

    @classmethod
    def from_node_link(cls, data_or_path) -> "GraphNetwork":
        """Load a network written by :meth:`to_node_link` (a dict or a JSON file).

        Parameters
        ----------
        data_or_path : dict or str or os.PathLike

        Returns
        -------
        GraphNetwork

        Raises
        ------
        DataError
            Not JSON, wrong ``format`` or ``version``, missing keys, links to unlisted
            nodes, repeated nodes or links.
        GraphError
            Well-formed data describing an invalid network.
        InputTypeError
            ``data_or_path`` is neither a mapping nor a path.

        Examples
        --------
        >>> net = GraphNetwork.random(2, 2, 1, 0.5, seed=1)
        >>> GraphNetwork.from_node_link(net.to_node_link()) == net
        True
        >>> GraphNetwork.from_node_link({"format": "other"})
        Traceback (most recent call last):
        ...
        graphnet.errors.DataError: node-link data: 'format' must be 'graphnet.node_link', got 'other'
        """
        if isinstance(data_or_path, (str, os.PathLike)):
            src = os.fspath(data_or_path)
            with open(src, encoding="utf-8") as fh:
                text = fh.read()
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                raise DataError(f"{src}: not valid JSON ({exc})") from exc
        elif isinstance(data_or_path, Mapping):
            src, data = "node-link data", data_or_path
        else:
            raise InputTypeError(
                f"from_node_link: expected a dict or a path, got {type(data_or_path).__name__}"
            )
        if not isinstance(data, Mapping):
            raise DataError(f"{src}: expected a JSON object, got {type(data).__name__}")
        fmt = data.get("format")
        if fmt != NODE_LINK_FORMAT:
            raise DataError(f"{src}: 'format' must be {NODE_LINK_FORMAT!r}, got {fmt!r}")
        version = data.get("version")
        if not _is_int(version) or version != NODE_LINK_VERSION:
            raise DataError(f"{src}: unsupported version {version!r}; expected {NODE_LINK_VERSION}")
        for key, kind in (("graph", Mapping), ("nodes", list), ("links", list)):
            if not isinstance(data.get(key), kind):
                raise DataError(f"{src}: {key!r} missing or not a {kind.__name__}")
        if "mode" not in data["graph"]:
            raise DataError(f"{src}: 'graph' has no 'mode'")

        g = nx.DiGraph(mode=data["graph"]["mode"])
        for k, node in enumerate(data["nodes"]):
            if not isinstance(node, Mapping):
                raise DataError(f"{src}: nodes[{k}] is not an object")
            missing = [key for key in ("id",) + _NODE_KEYS if key not in node]
            if missing:
                raise DataError(f"{src}: nodes[{k}] has no {missing[0]!r}")
            i = node["id"]
            if not _is_int(i):
                raise DataError(f"{src}: nodes[{k}] has id {i!r}; expected an int")
            if i in g:
                raise DataError(f"{src}: node id {i} appears twice")
            g.add_node(i, **{key: node[key] for key in _NODE_KEYS})
        for k, link in enumerate(data["links"]):
            if not isinstance(link, Mapping):
                raise DataError(f"{src}: links[{k}] is not an object")
            missing = [key for key in ("source", "target", "weight") if key not in link]
            if missing:
                raise DataError(f"{src}: links[{k}] has no {missing[0]!r}")
            u, v = link["source"], link["target"]
            for end in (u, v):
                if not _is_int(end) or end not in g:
                    raise DataError(f"{src}: links[{k}] refers to node {end!r}, which is not listed")
            if g.has_edge(u, v):
                raise DataError(f"{src}: link {u} -> {v} appears twice")
            g.add_edge(u, v, weight=link["weight"])
        return cls(g)

    def to_graphml(self, path) -> None:
        """Write the network as GraphML (atomically), via ``networkx.write_graphml``.

        Node ids are the indices as strings; attributes ``role``, ``bias``,
        ``activation``, ``name``, edge ``weight``, graph ``mode``, ``format``,
        ``version``. Floats round-trip exactly.

        Parameters
        ----------
        path : str or os.PathLike

        Examples
        --------
        >>> import os, tempfile
        >>> net = GraphNetwork.seed_example()
        >>> with tempfile.TemporaryDirectory() as d:
        ...     p = os.path.join(d, "net.graphml")
        ...     net.to_graphml(p)
        ...     GraphNetwork.from_graphml(p) == net
        True
        """
        g = self._g.copy()
        g.graph["format"] = GRAPHML_FORMAT
        g.graph["version"] = NODE_LINK_VERSION
        atomic_write(path, lambda tmp: nx.write_graphml(g, tmp))

    @classmethod
    def from_graphml(cls, path) -> "GraphNetwork":
        """Load a network written by :meth:`to_graphml`.

        Node ids must be the strings ``"0".."n-1"``; they become ints. Every node needs
        ``role``, ``bias``, ``activation``, ``name``; every edge ``weight``; the graph
        ``mode``.

        Parameters
        ----------
        path : str or os.PathLike

        Returns
        -------
        GraphNetwork

        Raises
        ------
        DataError
            Unreadable GraphML, undirected, a missing attribute, a foreign ``format``.
        GraphError
            Node ids that are not 0..n-1, or an invalid network.

        Examples
        --------
        >>> import os, tempfile
        >>> net = GraphNetwork.layered([2, 2, 1], seed=0)
        >>> with tempfile.TemporaryDirectory() as d:
        ...     p = os.path.join(d, "net.graphml")
        ...     net.to_graphml(p)
        ...     GraphNetwork.from_graphml(p).matrix().tolist() == net.matrix().tolist()
        True
        """
        src = os.fspath(path)
        if not os.path.exists(src):
            raise FileNotFoundError(src)
        try:
            h = nx.read_graphml(src)
        except (ElementTree.ParseError, nx.NetworkXError, KeyError, ValueError) as exc:
            raise DataError(f"{src}: not a readable GraphML file ({exc})") from exc
        if not h.is_directed() or h.is_multigraph():
            raise DataError(f"{src}: expected a directed graph without parallel edges")
        fmt = h.graph.get("format", GRAPHML_FORMAT)
        if fmt != GRAPHML_FORMAT:
            raise DataError(f"{src}: 'format' must be {GRAPHML_FORMAT!r}, got {fmt!r}")
        version = h.graph.get("version", NODE_LINK_VERSION)
        if version != NODE_LINK_VERSION:
            raise DataError(f"{src}: unsupported version {version!r}; expected {NODE_LINK_VERSION}")
        if "mode" not in h.graph:
            raise DataError(f"{src}: the graph has no 'mode'")

        index = {}
        for v in h.nodes:
            if not (isinstance(v, str) and _INDEX_RE.fullmatch(v)):
                raise GraphError(f"{src}: GraphML node id {v!r} is not a node index 0..n-1")
            index[v] = int(v)
        g = nx.DiGraph(mode=h.graph["mode"])
        for v in sorted(h.nodes, key=index.__getitem__):
            data = h.nodes[v]
            missing = [key for key in _NODE_KEYS if key not in data]
            if missing:
                raise DataError(f"{src}: node {v} has no {missing[0]!r}")
            g.add_node(index[v], **{key: data[key] for key in _NODE_KEYS})
        for u, v, data in h.edges(data=True):
            if "weight" not in data:
                raise DataError(f"{src}: edge {u} -> {v} has no 'weight'")
            g.add_edge(index[u], index[v], weight=data["weight"])
        return cls(g)


def layered_blocks(net: GraphNetwork, sizes) -> list:
    """The per-layer ``(W_k, b_k)`` of a layered network, as Dense layers hold them.

    Dense computes ``y = act(x @ W_k + b_k)`` with ``W_k`` of shape
    ``(sizes[k], sizes[k+1])``; here ``W_k = W[layer k, layer k+1]`` and ``b_k`` the
    biases of layer ``k + 1``.

    Parameters
    ----------
    net : GraphNetwork
        Nodes numbered layer by layer, inputs = the first layer, outputs = the last,
        and edges only from a layer to the next.
    sizes : sequence of int

    Returns
    -------
    list of (ndarray of shape (sizes[k], sizes[k+1]), ndarray of shape (sizes[k+1],))
        Copies, ``len(sizes) - 1`` of them.

    Raises
    ------
    GraphError
        If ``sizes`` does not add up to ``n``, the roles do not match the first and last
        layers, or an edge does not go from a layer to the next.

    Examples
    --------
    >>> net = GraphNetwork.layered([2, 3, 1], seed=0)
    >>> [(W.shape, b.shape) for W, b in layered_blocks(net, [2, 3, 1])]
    [((2, 3), (3,)), ((3, 1), (1,))]
    """
    if not isinstance(net, GraphNetwork):
        raise InputTypeError(f"layered_blocks: net must be a GraphNetwork, got {type(net).__name__}")
    sizes = _check_sizes(sizes, "layered_blocks")
    n = net.n_nodes
    if sum(sizes) != n:
        raise GraphError(
            f"layered_blocks: sizes {sizes} add up to {sum(sizes)}, but the network has {n} nodes"
        )
    if net.inputs.tolist() != list(range(sizes[0])):
        raise GraphError(
            f"layered_blocks: the inputs must be nodes 0..{sizes[0] - 1}, got {net.inputs.tolist()}"
        )
    if net.outputs.tolist() != list(range(n - sizes[-1], n)):
        raise GraphError(
            f"layered_blocks: the outputs must be nodes {n - sizes[-1]}..{n - 1}, "
            f"got {net.outputs.tolist()}"
        )
    layer = np.repeat(np.arange(len(sizes)), sizes)
    for u, v, _ in net.edges():
        if layer[v] != layer[u] + 1:
            raise GraphError(
                f"layered_blocks: edge {u} -> {v} goes from layer {layer[u]} to layer "
                f"{layer[v]}, not to the next layer"
            )
    W, b = net.matrix(), net.biases()
    off = np.concatenate([[0], np.cumsum(sizes)])
    return [
        (W[off[k] : off[k + 1], off[k + 1] : off[k + 2]].copy(), b[off[k + 1] : off[k + 2]].copy())
        for k in range(len(sizes) - 1)
    ]
