"""Network graphs built for you: from a matrix, random, layered (an MLP's), the seed's example.

Generators in the networkx sense: each checks its arguments, draws every weight from the
one Generator its ``seed`` gives (the same seed gives the identical graph, bit for bit) and
returns a ``networkx.DiGraph`` with the node attributes a network needs, built through
:func:`from_matrix`. ``GraphNetwork(g)`` validates such a graph; the classmethods
``GraphNetwork.from_matrix``, ``.random``, ``.layered`` and ``.seed_example`` are exactly
``GraphNetwork(generator(...))``. :func:`layered_blocks` reads a layered network back as the
``(W_k, b_k)`` of Dense layers.
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np

from graphnet._checks import is_int, is_real
from graphnet.errors import GraphError, InputError, InputTypeError
from graphnet.graph._validate import (
    activation_list,
    as_list,
    as_matrix,
    as_vector,
    check_mode,
    graph_from_arrays,
    index_list,
)
from graphnet.rng import make_rng

__all__ = ["from_matrix", "random", "layered", "seed_example", "seed_table", "layered_blocks"]

# The views layered_blocks reads; a GraphNetwork has them all.
_NET_VIEWS = ("n_nodes", "inputs", "outputs", "edges", "matrix", "biases")

# The table at the end of the seed document, read as "row = from".
_SEED_TABLE = (
    (0, 1, 0, 0, 1),
    (1, 0, 1, 0, 0),
    (0, 0, 0, 1, 0),
    (0, 0, 0, 0, 0),
    (0, 0, 0, 1, 0),
)


def _check_count(value, name: str, minimum: int) -> int:
    if not is_int(value):
        raise InputTypeError(f"{name}: expected an int >= {minimum}, got {value!r}")
    if value < minimum:
        raise InputError(f"{name}: expected an int >= {minimum}, got {value}")
    return int(value)



def _check_sizes(sizes, where: str) -> list[int]:
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__iter__"):
        raise InputTypeError(f"{where}: sizes must be a sequence of ints, got {sizes!r}")
    sizes = list(sizes)
    if len(sizes) < 2:
        raise InputError(f"{where}: sizes needs at least 2 layers (inputs, outputs), got {sizes}")
    for s in sizes:
        if not is_int(s) or s < 1:
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


def from_matrix(
    W,
    inputs,
    outputs,
    *,
    biases=None,
    activation="tanh",
    output_activation="identity",
    mode="feedforward",
    names=None,
) -> nx.DiGraph:
    """The graph of a network given by its weight matrix.

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
    networkx.DiGraph
        Not yet validated: ``GraphNetwork(g)`` checks the rest (``GraphNetwork.from_matrix``
        does both).

    Raises
    ------
    GraphError
        Non-square or non-finite W (``"W[2, 3] is nan"``), an index out of range or
        listed twice, inputs and outputs overlapping, a wrong-length list, an unknown
        activation. ``GraphNetwork(g)`` then refuses no inputs or outputs, an edge into
        an input, duplicate names.
    CycleError
        From ``GraphNetwork(g)``: ``feedforward`` mode and W has a cycle.
    InputTypeError
        W is not numeric; inputs/outputs are not sequences of ints.

    Examples
    --------
    >>> W = [[0, 0, 0.5], [0, 0, -1.0], [0, 0, 0]]
    >>> g = from_matrix(W, inputs=[0, 1], outputs=[2])
    >>> [g.nodes[i]["role"] for i in g], list(g.edges(data="weight"))
    (['input', 'input', 'output'], [(0, 2, 0.5), (1, 2, -1.0)])
    >>> from_matrix([[0, 1], [float("nan"), 0]], [0], [1])
    Traceback (most recent call last):
    ...
    graphnet.errors.GraphError: W[1, 0] is nan
    """
    W = as_matrix(W, "W")
    n = W.shape[0]
    inputs = index_list(inputs, n, "inputs")
    outputs = index_list(outputs, n, "outputs")
    both = sorted(set(inputs) & set(outputs))
    if both:
        raise GraphError(f"inputs and outputs overlap at node {both[0]}")
    roles = ["hidden"] * n
    for i in inputs:
        roles[i] = "input"
    for i in outputs:
        roles[i] = "output"
    hidden_acts = activation_list(activation, n, "activation")
    output_acts = activation_list(output_activation, n, "output_activation")
    acts = [
        "identity" if r == "input" else (output_acts[i] if r == "output" else hidden_acts[i])
        for i, r in enumerate(roles)
    ]
    b = np.zeros(n) if biases is None else as_vector(biases, n, "biases")
    if names is not None:
        names = as_list(names, n, "names")
    mode = check_mode(mode, "from_matrix")
    return graph_from_arrays(W, roles, b.tolist(), acts, names, mode)


def random(
    n_inputs,
    n_hidden,
    n_outputs,
    density,
    seed,
    *,
    mode="feedforward",
    activation="tanh",
    output_activation="identity",
) -> nx.DiGraph:
    """The graph of a random network with no dead node.

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
        As :func:`from_matrix`.

    Returns
    -------
    networkx.DiGraph
        A valid network's graph (``GraphNetwork.random`` wraps it).

    Raises
    ------
    InputError
        A count below its minimum, density outside (0, 1], unknown mode.
    InputTypeError
        A count that is not an int, a seed that is neither int nor Generator.

    Examples
    --------
    >>> g = random(2, 3, 1, 0.5, seed=0)
    >>> g.number_of_nodes(), g.graph["mode"], [g.nodes[i]["role"] for i in range(3)]
    (6, 'feedforward', ['input', 'input', 'hidden'])
    >>> list(g.edges(data="weight")) == list(random(2, 3, 1, 0.5, seed=0).edges(data="weight"))
    True
    >>> from graphnet.graph.analysis import dead_ends, unreachable
    >>> len(unreachable(g)), len(dead_ends(g))
    (0, 0)
    """
    n_inputs = _check_count(n_inputs, "n_inputs", 1)
    n_hidden = _check_count(n_hidden, "n_hidden", 0)
    n_outputs = _check_count(n_outputs, "n_outputs", 1)
    if not is_real(density) or not (0 < density <= 1):
        raise InputError(f"density: expected a number in (0, 1], got {density!r}")
    mode = check_mode(mode, "random")
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
    return from_matrix(
        W,
        inputs=range(n_inputs),
        outputs=range(n - n_outputs, n),
        activation=activation,
        output_activation=output_activation,
        mode=mode,
    )


def layered(sizes, seed, *, activation="tanh", output_activation="identity") -> nx.DiGraph:
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
        As :func:`from_matrix`.

    Returns
    -------
    networkx.DiGraph
        A valid feedforward network's graph (``GraphNetwork.layered`` wraps it). Use
        :func:`layered_blocks` on the network to get the per-layer (W_k, b_k).

    Raises
    ------
    InputError
        Fewer than 2 sizes or a size below 1.

    Examples
    --------
    >>> g = layered([2, 4, 1], seed=0)
    >>> g.number_of_nodes(), g.number_of_edges()
    (7, 12)
    >>> from graphnet.graph.analysis import depths, levels
    >>> [len(level) for level in levels(depths(g))]
    [4, 1]
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
    return from_matrix(
        W,
        inputs=range(sizes[0]),
        outputs=range(n - sizes[-1], n),
        activation=activation,
        output_activation=output_activation,
    )


def seed_example(*, mode="recurrent") -> nx.DiGraph:
    """The seed's 5x5 table as a network's graph, plus one input node.

    Nodes 0..4 are the table's (row = from): node 3, the sink, is the output
    ``s3``; nodes 0, 1, 2, 4 are hidden ``s0 s1 s2 s4``. Node 5 is the input ``x0``
    with an edge 5 -> 0 of weight 1.0 so that data can enter. Table entries become
    weights 1.0; hidden activation tanh, output identity, biases 0.

    Parameters
    ----------
    mode : {"recurrent", "feedforward"}
        The table has the cycle 0 -> 1 -> 0, so ``GraphNetwork`` refuses the
        ``feedforward`` graph.

    Returns
    -------
    networkx.DiGraph
        Not yet validated (``GraphNetwork.seed_example`` wraps it).

    Raises
    ------
    CycleError
        From ``GraphNetwork(g)`` in ``feedforward`` mode, naming 0 -> 1 -> 0.

    Examples
    --------
    >>> g = seed_example()
    >>> bool((nx.to_numpy_array(g, nodelist=range(6))[:5, :5] == seed_table()).all())
    True
    >>> from graphnet.graph.network import GraphNetwork
    >>> GraphNetwork(seed_example(mode="feedforward"))
    Traceback (most recent call last):
    ...
    graphnet.errors.CycleError: feedforward network has a cycle 0 -> 1 -> 0
    """
    W = np.zeros((6, 6))
    W[:5, :5] = seed_table()
    W[5, 0] = 1.0
    return from_matrix(
        W,
        inputs=[5],
        outputs=[3],
        mode=mode,
        names=["s0", "s1", "s2", "s3", "s4", "x0"],
    )



def layered_blocks(net, sizes) -> list:
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
    InputTypeError
        If ``net`` is not a GraphNetwork (has not its views).
    GraphError
        If ``sizes`` does not add up to ``n``, the roles do not match the first and last
        layers, or an edge does not go from a layer to the next.

    Examples
    --------
    >>> from graphnet.graph.network import GraphNetwork
    >>> net = GraphNetwork.layered([2, 3, 1], seed=0)
    >>> [(W.shape, b.shape) for W, b in layered_blocks(net, [2, 3, 1])]
    [((2, 3), (3,)), ((3, 1), (1,))]
    """
    if not all(hasattr(net, view) for view in _NET_VIEWS):  # duck-typed: this module sits below network.py
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
