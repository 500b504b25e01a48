"""Compiled execution of a :class:`~graphnet.graph.network.GraphNetwork`: forward and backward.

:func:`compile_plan` turns a network into a :class:`Plan` once; the plan then runs batches
forward and backward with a fixed sequence of array operations whose cost is proportional
to the number of edges (never ``n**2`` per level). :class:`GraphLayer` puts a plan inside a
:class:`~graphnet.core.model.Sequential` with the core layers' contract.

Conventions (those of :mod:`graphnet.graph.network`): ``W[i, j]`` is the edge ``i -> j``;
data column ``k`` feeds node ``net.inputs[k]``; output column ``k`` is the raw value of node
``net.outputs[k]`` (a softmax is a separate layer).

Feedforward mode
    The non-input nodes are grouped by depth (``net.levels()``); each level ``L`` is
    ``H[L] = act(sum over the in-edges of L + b[L])`` and backward runs the levels in
    reverse. Each level is compiled to one of four equivalent forms, chosen by a cost
    model from the level's shape (``strategy="auto"``; :mod:`graphnet.graph._plan` has the
    details): ``range``, a dense block product over a contiguous range of rows (a layered
    MLP's levels are exactly this); ``gather``, a dense block over gathered source rows
    (deep graphs with a few nodes per level); ``edge``, an edge list (ELLPACK) whose work
    is ~ the number of edges (sparse, wide levels); ``csr``, a sparse (scipy CSR) times
    dense product, work ~ the edges at compiled speed (dense-ish DAGs).

    Gradients exist only for existing edges: the weight parameter is the vector of edge
    weights, in ``net.edges()`` order; training never creates an edge. A fixed edge
    (``trainable = False``) gets the gradient exactly 0, and :class:`GraphLayer` keeps it
    out of its parameters altogether, so no optimizer (weight decay included) moves it.

Recurrent mode
    All non-input nodes update together for ``T = steps`` steps with the input nodes held
    at the data: ``H_0`` = inputs placed, others 0; ``H_{t+1}[non-inputs] =
    act(H_t @ W + b)[non-inputs]``; the outputs are ``H_T[outputs]``. Backward is
    backpropagation through time over the cached ``H_0 .. H_T``. One step is a dense
    product, the edge-list or the csr form, whichever the cost model finds cheaper.

Nodes that no input reaches still compute (``act(b)`` in feedforward mode); the plan
records ``unreachable``, ``dead_ends``, ``sinks`` and ``cycles`` so callers can report them.

The plain reference, ``H[:, L] = act(H @ W[:, L] + b[L])`` level by level on dense
matrices, is :mod:`graphnet.graph.reference`; the plans are tested against it. The compiler
(:mod:`graphnet.graph._plan`) turns the levels into named records, one type per form, and
lays out the values (``Plan.rows`` gives each node's row); the kernels
(:mod:`graphnet.graph._kernels`) run them. Outputs and gradients are always new arrays.
"""

from __future__ import annotations

import numpy as np

from graphnet._checks import check_batch, check_dtype, check_steps
from graphnet.core.layers import Layer, Softmax
from graphnet.core.model import Sequential
from graphnet.errors import InputError, InputTypeError
from graphnet.graph._kernels import Cache, Workspace
from graphnet.graph._plan import STRATEGIES, check_params, check_strategy, compile_program
from graphnet.graph.network import GraphNetwork

__all__ = ["Plan", "compile_plan", "GraphLayer", "forward", "graph_model", "STRATEGIES"]


# ----------------------------------------------------------------------------------------
# the plan
# ----------------------------------------------------------------------------------------

_MAX_WORKSPACES = 3


class Plan:
    """The execution of a :class:`GraphNetwork`, compiled once (see :func:`compile_plan`).

    A plan holds index arrays and reusable buffers; the parameters are passed in, so one
    plan serves every set of weights on the same structure. It never changes the network.

    Attributes
    ----------
    net : GraphNetwork
        The network compiled (immutable).
    mode : {"feedforward", "recurrent"}
    steps : int
        ``T`` of recurrent mode (kept, unused, in feedforward mode).
    strategy : str or tuple of str
        As given to :func:`compile_plan`.
    n_nodes, n_inputs, n_outputs, n_edges, n_params : int
    inputs, outputs : ndarray of int
        Node indices; data column ``k`` feeds ``inputs[k]``, output column ``k`` is
        ``outputs[k]``.
    edge_src, edge_dst : ndarray of int, shape (n_edges,)
        The edges in ``net.edges()`` order: the order of the weight vector.
    trainable : ndarray of bool, shape (n_edges,)
        False at the fixed edges, whose gradient is always exactly 0.
    bias_nodes : ndarray of int, shape (n_nodes - n_inputs,)
        The non-input nodes, ascending: the order of the bias vector.
    levels : list of ndarray of int
        Feedforward: ``net.levels()``; recurrent: one level, all non-input nodes.
    kinds : tuple of str
        The compiled form of each level: ``"range"``, ``"gather"``, ``"edge"`` or
        ``"csr"`` (recurrent: ``"dense"``, ``"edge"`` or ``"csr"``).
    n_terms : int
        Multiply-adds per sample of one forward step: dense block entries (explicit
        zeros included), edge-list entries (padding included) and csr entries. A measure
        of work that stays proportional to ``n_edges + n_nodes`` for sparse, deep graphs.
    rows : ndarray of int, shape (n_nodes,)
        The row of each node in the node-major value array (the other rows hold the
        constant 1 that multiplies the biases).
    unreachable, dead_ends, sinks : ndarray of int
        As the network's methods of the same names.
    cycles : list of list of int
        ``net.cycles()`` (at most 20).

    Examples
    --------
    >>> net = GraphNetwork.layered([2, 3, 1], seed=0)
    >>> plan = compile_plan(net)
    >>> plan
    Plan(mode='feedforward', nodes=6, edges=9, levels=2, kinds={'range': 2})
    >>> y, cache = plan.forward(np.ones((4, 2)))
    >>> y.shape
    (4, 1)
    >>> dx, gw, gb = plan.backward(cache, np.ones((4, 1)))
    >>> dx.shape, gw.shape, gb.shape
    ((4, 2), (9,), (4,))
    """

    def __init__(self, net: GraphNetwork, *, steps: int = 5, strategy: str = "auto"):
        if not isinstance(net, GraphNetwork):
            raise InputTypeError(f"compile_plan: net must be a GraphNetwork, got "
                                 f"{type(net).__name__}")
        check_steps(steps, "compile_plan")
        strategy = check_strategy(net, strategy, "compile_plan")
        self.net = net
        self.mode = net.mode
        self.steps = int(steps)
        self.strategy = strategy
        self.n_nodes = n = net.n_nodes
        self.n_inputs = net.n_inputs
        self.n_outputs = net.n_outputs
        self.inputs = net.inputs
        self.outputs = net.outputs
        self.unreachable = net.unreachable()
        self.dead_ends = net.dead_ends()
        self.sinks = net.sinks()
        self.cycles = net.cycles()

        W = net.matrix()
        src, dst = np.nonzero(W)                    # row-major = net.edges() order
        self.edge_src, self.edge_dst = src, dst
        self.n_edges = E = int(src.size)
        is_input = np.zeros(n, dtype=bool)
        is_input[self.inputs] = True
        self.bias_nodes = np.flatnonzero(~is_input)
        self.n_params = E + int(self.bias_nodes.size)
        self.trainable = ~net.fixed_mask()[src, dst]
        self._fixed = np.flatnonzero(~self.trainable)
        self._w0 = W[src, dst]
        self._b0 = net.biases()[self.bias_nodes]
        recurrent = self.mode == "recurrent"
        self.levels = [self.bias_nodes.copy()] if recurrent else net.levels()
        forms = strategy if isinstance(strategy, tuple) else (strategy,) * len(self.levels)
        self._prog = compile_program(net, src, dst, self.bias_nodes, self.levels, forms)
        self.kinds = self._prog.kinds
        self.rows = self._prog.rows
        self.n_terms = self._prog.n_terms
        self._works = {}

    # ------------------------------------------------------------------ parameters

    def initial_params(self, dtype=np.float64) -> tuple:
        """The network's own edge weights and biases, as new arrays.

        Parameters
        ----------
        dtype : float32 or float64

        Returns
        -------
        w : ndarray of shape (n_edges,)
            In ``net.edges()`` order.
        b : ndarray of shape (n_nodes - n_inputs,)
            Biases of ``bias_nodes`` (the non-input nodes, ascending).

        Examples
        --------
        >>> net = GraphNetwork.from_matrix([[0, 2.0], [0, 0]], [0], [1], biases=[0, 0.5])
        >>> compile_plan(net).initial_params()
        (array([2.]), array([0.5]))
        """
        dt = check_dtype(dtype, "Plan.initial_params")
        return self._w0.astype(dt), self._b0.astype(dt)

    def _check_params(self, w, b, x, where):
        if w is None and b is None:
            dt = x.dtype if x.dtype in (np.float32, np.float64) else np.dtype(np.float64)
            return self._w0.astype(dt), self._b0.astype(dt)
        return check_params(w, b, self.n_edges, self.n_params - self.n_edges, where)

    # ------------------------------------------------------------------ execution

    def _work(self, B, dt) -> Workspace:
        key = (B, dt.str)
        ws = self._works.pop(key, None)
        if ws is None:
            ws = Workspace(self._prog, self.n_inputs, self.steps, self.mode == "recurrent", B,
                           dt)
            while len(self._works) >= _MAX_WORKSPACES:
                self._works.pop(next(iter(self._works)))      # least recently used
        self._works[key] = ws
        return ws

    def forward(self, x, w=None, b=None, *, _where="Plan.forward"):
        """Run a batch forward; keep what backward needs.

        Parameters
        ----------
        x : ndarray of shape (batch, n_inputs)
        w : ndarray of shape (n_edges,), optional
            Edge weights in ``net.edges()`` order. With ``b``; default the network's own
            (in ``x``'s dtype if that is float32, else float64).
        b : ndarray of shape (n_nodes - n_inputs,), optional
            Biases of ``bias_nodes``. Same dtype as ``w``; ``x`` is cast to it.

        Returns
        -------
        y : ndarray of shape (batch, n_outputs)
            The raw output node values (a new array).
        cache : object
            Pass it to :meth:`backward`.

        Raises
        ------
        InputError
            ``x`` not 2-D, of the wrong width or empty; ``w`` or ``b`` of the wrong shape.
        InputTypeError
            Non-numeric ``x``; ``w``, ``b`` not float32/float64 arrays of one dtype.

        Examples
        --------
        >>> net = GraphNetwork.from_matrix([[0, 2.0], [0, 0]], [0], [1], biases=[0, 0.5])
        >>> y, _ = compile_plan(net).forward(np.array([[1.0], [2.0]]))
        >>> y   # identity output: 2 x + 0.5
        array([[2.5],
               [4.5]])
        """
        x = check_batch(x, self.n_inputs, _where)
        w, b = self._check_params(w, b, x, _where)
        if x.dtype != w.dtype:
            x = x.astype(w.dtype)                             # computed in the params' dtype
        ws = self._work(x.shape[0], w.dtype)
        ws.forward(x, w, b)
        return ws.outputs(), Cache(self, ws, ws.gen, x, (w.copy(), b.copy()))

    def __call__(self, x, w=None, b=None):
        """``forward(x, w, b)[0]``: the outputs only.

        Examples
        --------
        >>> plan = compile_plan(GraphNetwork.seed_example(), steps=3)
        >>> plan(np.ones((2, 1))).shape
        (2, 1)
        """
        return self.forward(x, w, b, _where="Plan")[0]

    def backward(self, cache, delta, *, input_grad=True, _where="Plan.backward"):
        """Backpropagate ``delta`` = dE/d(outputs) through a forward pass.

        Parameters
        ----------
        cache : object
            From :meth:`forward` of this plan; it may be used more than once. If the
            plan has run forward on a batch of the same size since, the cached pass is
            recomputed first (correct, slower).
        delta : ndarray of shape (batch, n_outputs)
        input_grad : bool
            False skips dE/d(x) (for a bottom layer); ``dx`` is then None.

        Returns
        -------
        dx : ndarray of shape (batch, n_inputs) or None
            dE/d(x).
        gw : ndarray of shape (n_edges,)
            dE/d(edge weights), ``net.edges()`` order; exactly 0 at the fixed edges.
        gb : ndarray of shape (n_nodes - n_inputs,)
            dE/d(biases of ``bias_nodes``).

        Raises
        ------
        InputError
            ``delta`` of the wrong shape, or a cache that is not from this plan.
        InputTypeError
            ``delta`` not numeric.

        Examples
        --------
        >>> net = GraphNetwork.from_matrix([[0, 2.0], [0, 0]], [0], [1], biases=[0, 0.5])
        >>> plan = compile_plan(net)
        >>> _, cache = plan.forward(np.array([[1.0], [2.0]]))
        >>> plan.backward(cache, np.ones((2, 1)))
        (array([[2.],
               [2.]]), array([3.]), array([2.]))
        """
        if not (isinstance(cache, Cache) and cache.plan is self):
            raise InputError(f"{_where}: cache is not from this plan's forward")
        ws = cache.work
        B = ws.B
        if not isinstance(delta, np.ndarray):
            delta = np.asarray(delta)
        if not (np.issubdtype(delta.dtype, np.floating) or np.issubdtype(delta.dtype, np.integer)):
            raise InputTypeError(f"{_where}: delta must be a real numeric array, got dtype "
                                 f"{delta.dtype}")
        if delta.shape != (B, self.n_outputs):
            raise InputError(f"{_where}: delta has shape {delta.shape}, expected "
                             f"{(B, self.n_outputs)} (the shape of the last output)")
        if cache.gen != ws.gen:                               # buffers reused since: redo
            ws.forward(cache.x, *cache.params)
            cache.gen = ws.gen
        dx, gw, gb = ws.backward(cache.x, delta, input_grad)
        if self._fixed.size:
            gw[self._fixed] = 0                               # a fixed edge never learns
        return dx, gw, gb

    # ------------------------------------------------------------------ reports

    def summary(self) -> str:
        """A short report: mode, sizes, the forms of the levels, and the problems.

        Examples
        --------
        >>> print(compile_plan(GraphNetwork.seed_example(), steps=4).summary())
        Plan (recurrent, T=4, strategy 'auto')
        nodes: 6 (inputs 1, outputs 1), edges: 7, parameters: 12
        levels: 1 (dense: 1)
        unreachable: none
        dead ends: none
        sinks: [3]
        cycles: [[0, 1]]
        """
        head = (f"Plan ({self.mode}, T={self.steps}, strategy {self.strategy!r})"
                if self.mode == "recurrent" else f"Plan (feedforward, strategy {self.strategy!r})")
        forms = ", ".join(f"{k}: {v}" for k, v in sorted(self._kind_counts().items()))

        def show(a):
            return "none" if len(a) == 0 else str([int(v) for v in a])

        return "\n".join([
            head,
            f"nodes: {self.n_nodes} (inputs {self.n_inputs}, outputs {self.n_outputs}), "
            f"edges: {self.n_edges}, parameters: {self.n_params}",
            f"levels: {len(self.kinds)} ({forms})",
            f"unreachable: {show(self.unreachable)}",
            f"dead ends: {show(self.dead_ends)}",
            f"sinks: {show(self.sinks)}",
            f"cycles: {self.cycles if self.cycles else 'none'}",
        ])

    def _kind_counts(self) -> dict:
        counts = {}
        for k in self.kinds:
            counts[k] = counts.get(k, 0) + 1
        return counts

    def __repr__(self):
        extra = f", steps={self.steps}" if self.mode == "recurrent" else ""
        return (f"Plan(mode={self.mode!r}, nodes={self.n_nodes}, edges={self.n_edges}"
                f"{extra}, levels={len(self.kinds)}, kinds={self._kind_counts()})")


def compile_plan(net, *, steps=5, strategy="auto") -> Plan:
    """Compile the execution of a network once.

    Parameters
    ----------
    net : GraphNetwork
    steps : int >= 1
        ``T``, the number of synchronous updates in recurrent mode (ignored in
        feedforward mode).
    strategy : {"auto", "dense", "edge", "range", "gather", "csr"} or sequence of str
        How each level is computed: ``auto`` picks per level by a cost model (block
        density, shape, number of calls); ``dense`` the cheaper block product (range or
        gathered sources); ``edge``, ``range``, ``gather``, ``csr`` force that form (a
        level with no sources, and the recurrent step, have no gather form: they use a
        range). A sequence gives one form per level (recurrent: one entry). Every choice
        computes the same function; it only changes the speed.

    Returns
    -------
    Plan

    Raises
    ------
    InputTypeError
        ``net`` not a GraphNetwork; ``steps`` not an int.
    InputError
        ``steps`` < 1; an unknown ``strategy``.

    Examples
    --------
    >>> plan = compile_plan(GraphNetwork.seed_example(), steps=3)
    >>> plan.mode, plan.kinds, plan.sinks.tolist(), plan.cycles
    ('recurrent', ('dense',), [3], [[0, 1]])
    >>> compile_plan(GraphNetwork.seed_example(), steps=0)
    Traceback (most recent call last):
    ...
    graphnet.errors.InputError: compile_plan: steps must be an int >= 1, got 0
    """
    return Plan(net, steps=steps, strategy=strategy)


def forward(net, X, *, steps=5) -> np.ndarray:
    """The outputs of ``net`` (its own weights) for a batch ``X``.

    Parameters
    ----------
    net : GraphNetwork
    X : array_like of shape (batch, n_inputs)
    steps : int
        ``T`` in recurrent mode.

    Returns
    -------
    ndarray of shape (batch, n_outputs)

    Examples
    --------
    >>> net = GraphNetwork.from_matrix([[0, 0, 1.0], [0, 0, -1.0], [0, 0, 0]], [0, 1], [2])
    >>> forward(net, [[3.0, 1.0]])
    array([[2.]])
    """
    return compile_plan(net, steps=steps)(X)


# ----------------------------------------------------------------------------------------
# the layer
# ----------------------------------------------------------------------------------------


class GraphLayer(Layer):
    """A GraphNetwork as a layer of :class:`~graphnet.core.model.Sequential`.

    Parameters
    ----------
    net : GraphNetwork
        The structure and the initial weights (copied into ``params``).
    steps : int
        ``T`` in recurrent mode.
    dtype : float32 or float64
        Of the parameters, the computation and the outputs.
    strategy : str or sequence of str
        As :func:`compile_plan`.

    Attributes
    ----------
    params : dict
        ``"w"``: the weights of the trainable edges, in ``net.edges()`` order (the fixed
        edges are constants of the layer, never parameters); ``"b"``: the biases of the
        non-input nodes (ascending node order), shape (n_nodes - n_inputs,).
    grads : dict
        Same keys, set by :meth:`backpropagate`.
    net : GraphNetwork
        The network the layer was built from (never modified; see :meth:`to_network`).
    plan : Plan

    Examples
    --------
    >>> net = GraphNetwork.random(2, 3, 2, 0.6, seed=0)
    >>> layer = GraphLayer(net)
    >>> y = layer.output(np.ones((5, 2)))
    >>> y.shape, layer.backpropagate(np.ones_like(y)).shape
    ((5, 2), (5, 2))
    >>> sorted(layer.grads), layer.n_params == net.n_params
    (['b', 'w'], True)
    """

    def __init__(self, net, *, steps=5, dtype=np.float64, strategy="auto"):
        super().__init__()
        self.dtype = check_dtype(dtype, "GraphLayer")
        self.plan = compile_plan(net, steps=steps, strategy=strategy)
        self.net = net
        w, b = self.plan.initial_params(self.dtype)
        # with fixed edges: the full weight vector, the trainable ones written in per pass
        self._train = None if self.plan.trainable.all() else np.flatnonzero(self.plan.trainable)
        self._w_all = w
        self.params["w"] = w if self._train is None else w[self._train]
        self.params["b"] = b

    @property
    def steps(self) -> int:
        """``T`` of recurrent mode."""
        return self.plan.steps

    def output_shape(self, input_shape):
        """``(n_outputs,)`` for ``input_shape == (n_inputs,)``.

        Examples
        --------
        >>> GraphLayer(GraphNetwork.layered([3, 2], seed=0)).output_shape((3,))
        (2,)
        """
        if tuple(input_shape) != (self.plan.n_inputs,):
            raise InputError(f"GraphLayer.output_shape: the network takes ({self.plan.n_inputs},) "
                             f"per sample, got {tuple(input_shape)}")
        return (self.plan.n_outputs,)

    def output(self, x):
        """Forward pass: ``x`` (batch, n_inputs) -> (batch, n_outputs), in ``dtype``.

        Examples
        --------
        >>> layer = GraphLayer(GraphNetwork.layered([2, 2], seed=0), dtype=np.float32)
        >>> layer.output(np.ones((3, 2))).dtype
        dtype('float32')
        """
        w = self.params["w"]
        if self._train is not None:
            self._w_all[self._train] = w
            w = self._w_all
        y, self._cache = self.plan.forward(x, w, self.params["b"], _where="GraphLayer.output")
        return y

    def backpropagate(self, delta, *, input_grad=True):
        """Backward pass: dE/d(output) -> dE/d(input); sets ``grads["w"]``, ``grads["b"]``.

        With ``input_grad=False`` (the bottom layer of a model) dE/d(input) is not
        computed and None is returned.

        Examples
        --------
        >>> layer = GraphLayer(GraphNetwork.layered([2, 2], seed=0))
        >>> layer.backpropagate(np.ones((1, 2)))
        Traceback (most recent call last):
        ...
        graphnet.errors.InputError: GraphLayer.backpropagate: call output() first
        """
        cache = self._need_cache()
        dx, gw, gb = self.plan.backward(cache, delta, input_grad=input_grad,
                                        _where="GraphLayer.backpropagate")
        self.grads["w"] = gw if self._train is None else gw[self._train]
        self.grads["b"] = gb
        return dx

    def to_network(self) -> GraphNetwork:
        """The network with the trained weights and biases (same structure).

        Returns ``net.with_params(W, b)`` (input biases 0; the fixed edges with the
        network's own float64 weights); an edge whose weight became exactly 0 is dropped.

        Examples
        --------
        >>> net = GraphNetwork.layered([2, 1], seed=0)
        >>> layer = GraphLayer(net)
        >>> layer.params["w"][:] = [0.5, -0.25]
        >>> layer.to_network().edges()
        [(0, 2, 0.5), (1, 2, -0.25)]
        """
        n = self.plan.n_nodes
        W = np.zeros((n, n))
        w = self.params["w"]
        if self._train is not None:
            w, fw = self.plan.initial_params()[0], w
            w[self._train] = fw
        W[self.plan.edge_src, self.plan.edge_dst] = w
        b = np.zeros(n)
        b[self.plan.bias_nodes] = self.params["b"]
        return self.net.with_params(W, b)

    def __repr__(self):
        p = self.plan
        extra = f", steps={p.steps}" if p.mode == "recurrent" else ""
        return (f"GraphLayer({p.mode}, inputs={p.n_inputs}, outputs={p.n_outputs}, "
                f"nodes={p.n_nodes}, edges={p.n_edges}{extra})")


def graph_model(net, *, front=None, steps=5, dtype=np.float64, strategy="auto") -> Sequential:
    """``Sequential([*front, GraphLayer(net), Softmax()])``: a graph head for classification.

    Parameters
    ----------
    net : GraphNetwork
        One output node per class.
    front : sequence of layers, optional
        E.g. ``[Conv2D(...), Pool2D(...), Flatten()]``; its output width must be
        ``net.n_inputs``.
    steps, dtype, strategy
        As :class:`GraphLayer`.

    Returns
    -------
    Sequential

    Examples
    --------
    >>> model = graph_model(GraphNetwork.random(2, 4, 2, 0.5, seed=0))
    >>> model.forward(np.zeros((3, 2))).sum(axis=1)
    array([1., 1., 1.])
    """
    if front is None:
        front = []
    if isinstance(front, (str, bytes)) or not hasattr(front, "__iter__"):
        raise InputTypeError(f"graph_model: front must be a sequence of layers, got {front!r}")
    return Sequential([*front, GraphLayer(net, steps=steps, dtype=dtype, strategy=strategy),
                       Softmax()])
