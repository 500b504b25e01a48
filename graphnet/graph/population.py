"""A whole population of networks as one plan: compiled once, trained together, split back.

:func:`compile_population` takes P networks (feedforward or recurrent, any sizes) and
compiles their **disjoint union** into one :class:`~graphnet.graph.execute.Plan` per group
of networks that run alike (one group for the feedforward networks, one per number of
recurrent steps). One forward and one backward of the union then serve all P networks:
the fixed cost per numpy call is paid once per population, not once per network.

The data rule
    All networks read the **same batch** ``X`` of width ``D``: network ``k``'s ``j``-th
    input node (``net.inputs[j]``, node order) reads data column ``j``, so a network with
    ``n_k`` inputs reads the first ``n_k`` columns, and ``D`` must be at least the largest
    ``n_k``. In a union the input nodes are shared: union input ``j`` feeds every
    network's ``j``-th input (input nodes have no in-edges and no parameters, so sharing
    them changes no network's function or gradient).

The outputs and the losses
    Every network has the same number ``K`` of output nodes (one per class, or per target
    column). :meth:`Population.forward` gives an array of shape ``(batch, P, K)``; with
    ``softmax=True`` (the default) each network's outputs go through its own softmax, as in
    :func:`~graphnet.graph.execute.graph_model`, else they are the raw output values, as in
    ``Sequential([GraphLayer(net)])``. Network ``k``'s loss is the batch mean of its own
    loss; the population's objective is their sum, so the gradient in network ``k``'s
    parameters is exactly the gradient of network ``k``'s own loss.

Exactness
    The union is disjoint, so each network's values, gradients and (with graphnet's
    optimizers, which are elementwise) its updates and optimizer state are those of
    training it alone. They agree bit for bit where the union plan sums a node's in-edges
    in the same order as the network's own plan, and to rounding (1e-15 relative per
    operation) where a level form of the union sums in another order; the suite checks
    1e-12 after several optimizer steps, feedforward and recurrent, float64.

Cost
    No union :class:`GraphNetwork` is built: the union is laid out from the members' edge
    arrays (numpy, no networkx) and compiled straight into a plan, so compiling costs
    what compiling the members' own plans costs minus their per-plan overhead (measured:
    0.6x for 64 digits-sized graphs, 0.15x for 150 XOR-sized ones; the rest is the plan
    compiler's per-edge work), and memory stays proportional to the edges plus nodes x
    batch (no ``n x n`` matrix of the union). A training step costs one plan run per
    union instead of one per network. :meth:`Population.networks` rebuilds each trained
    network from its arrays without re-validating it (only its weights changed).
    The union building, the member bookkeeping and the split back are
    :mod:`graphnet.graph._union`.

:mod:`graphnet.graph.population_fit` trains a population the way
:func:`graphnet.train.fit` trains one model (same batches for the same seed) and evaluates
it per network.
"""

from __future__ import annotations

import numpy as np

from graphnet._checks import check_dtype, is_int
from graphnet.core import activations as acts
from graphnet.core.losses import CrossEntropy, SquaredError, as_targets, get_loss
from graphnet.errors import InputError, InputTypeError
from graphnet.graph._union import build_group, check_nets, chunks, gc_paused, member_network
from graphnet.graph.network import GraphNetwork

__all__ = ["Population", "compile_population", "per_network_loss"]


def per_network_loss(p, y, loss, *, softmax=True, delta=True) -> tuple:
    """Each network's batch-mean loss and, optionally, dE/d(raw outputs) of their sum.

    Parameters
    ----------
    p : ndarray of shape (batch, P, K)
        Outputs: probabilities with ``softmax``, else raw values.
    y : ndarray of shape (batch,) of labels, or (batch, K)
    loss : Loss
    softmax : bool
        Whether ``p`` came out of a softmax: the delta is then taken below it (fused with
        the cross-entropy as ``(p - t) / batch``, as ``Sequential`` does).
    delta : bool
        False skips the delta (None is returned in its place).

    Returns
    -------
    values : ndarray of shape (P,)
    delta : ndarray of shape (batch, P, K) or None

    Examples
    --------
    >>> p = np.full((2, 3, 2), 0.5)
    >>> values, d = per_network_loss(p, np.array([0, 1]), get_loss("cross_entropy"))
    >>> values.round(6), d[:, 0]
    (array([0.693147, 0.693147, 0.693147]), array([[-0.25,  0.25],
           [ 0.25, -0.25]]))
    """
    B = p.shape[0]
    T = as_targets(y, p[:, 0, :])[:, None, :]               # (B, 1, K), one-hot for labels
    fused = False
    d = None
    # the formulas of CrossEntropy and SquaredError, elementwise over all networks at once
    if isinstance(loss, CrossEntropy):
        values = -np.sum(T * np.log(np.clip(p, loss.eps, None)), axis=(0, 2)) / B
        if delta:
            fused = softmax
            d = (p - T) / B if fused else -T / np.clip(p, loss.eps, None) / B
    elif isinstance(loss, SquaredError):
        values = 0.5 * np.sum((T - p) ** 2, axis=(0, 2)) / B
        if delta:
            d = (p - T) / B
    else:                                                   # any other Loss, one by one
        P = p.shape[1]
        values = np.array([loss(p[:, k], y) for k in range(P)])
        if delta:
            d = np.stack([loss.delta(p[:, k], y) for k in range(P)], axis=1)
    if delta and softmax and not fused:                     # the Softmax layer's backward
        d = p * (d - (d * p).sum(axis=2, keepdims=True))
    return values, d


class Population:
    """P networks compiled as disjoint unions; see :func:`compile_population`.

    Attributes
    ----------
    nets : tuple of GraphNetwork
        The networks as given (never modified; :meth:`networks` gives trained copies).
    n_networks : int
        P.
    n_inputs : int
        The data width the population needs: the largest ``n_inputs`` of its networks.
    n_outputs : int
        K, every network's number of outputs.
    steps : tuple of int
        Each network's ``T`` (used by the recurrent ones only).
    dtype : numpy.dtype
        Of the parameters and the computation.
    softmax : bool
        Whether each network's outputs go through its own softmax.
    groups : list of Group
        One union plan per group: the feedforward networks, and the recurrent ones of
        each number of steps (each cut in unions of at most ``max_nodes`` nodes).
    last_output : ndarray of shape (batch, P, K) or None
        The outputs of the last :meth:`loss_and_backward`.

    Examples
    --------
    >>> nets = [GraphNetwork.random(2, h, 2, 0.6, seed=h) for h in (1, 3, 5)]
    >>> pop = compile_population(nets)
    >>> pop
    Population(networks=3, groups=1, inputs=2, outputs=2, union nodes=17, edges=45)
    >>> pop.forward(np.ones((4, 2))).shape      # (batch, P, K)
    (4, 3, 2)
    """

    def __init__(self, nets, *, steps=5, dtype=np.float64, softmax=True, strategy="auto",
                 max_nodes=4096):
        where = "compile_population"
        self.nets, steps = check_nets(nets, steps, where)
        if not is_int(max_nodes) or max_nodes < 1:
            raise InputError(f"{where}: max_nodes must be an int >= 1, got {max_nodes!r}")
        self.nets = tuple(self.nets)
        self.dtype = check_dtype(dtype, where)
        self.softmax = bool(softmax)
        self.steps = tuple(steps)
        self.n_networks = len(self.nets)
        self.n_inputs = max(net.n_inputs for net in self.nets)
        self.n_outputs = self.nets[0].n_outputs
        keys = {}
        for k, net in enumerate(self.nets):
            key = ("feedforward", 1) if net.mode == "feedforward" else ("recurrent", steps[k])
            keys.setdefault(key, []).append(k)
        with gc_paused():
            self.groups = [build_group(self.nets, idx, mode, s, self.dtype, strategy)
                           for (mode, s), all_idx in keys.items()
                           for idx in chunks(self.nets, all_idx, max_nodes)]
        self._where = {}                                    # network -> (group, member)
        for g in self.groups:
            for c, mem in enumerate(g.members):
                self._where[mem.index] = (g, c)
        self._caches = None
        self._frozen = {}                                   # network -> its last params
        self.last_output = None

    # ------------------------------------------------------------------ execution

    def _check_x(self, X, where):
        if not isinstance(X, np.ndarray):
            X = np.asarray(X)
        if X.dtype.kind not in "fiu":
            raise InputTypeError(f"{where}: X must be a real numeric array, got dtype {X.dtype}")
        if X.ndim != 2 or X.shape[0] == 0:
            raise InputError(f"{where}: X must be a non-empty 2-D batch (batch, features), "
                             f"got shape {X.shape}")
        if X.shape[1] < self.n_inputs:
            k = next(k for k, net in enumerate(self.nets) if net.n_inputs > X.shape[1])
            raise InputError(f"{where}: X has {X.shape[1]} columns but nets[{k}] reads "
                             f"{self.nets[k].n_inputs} (network k reads the first n_inputs "
                             f"columns; the population needs {self.n_inputs})")
        return X

    def _run(self, X, where):
        """Raw outputs (batch, P, K) of every group; keeps the caches for backward."""
        X = self._check_x(X, where)
        B, P, K = X.shape[0], self.n_networks, self.n_outputs
        caches, out = [], None
        for g in self.groups:
            if g.train is not None:
                g.w_all[g.train] = g.w
            y, cache = g.plan.forward(X[:, :g.n_inputs], g.w_all, g.b)
            caches.append(cache)
            y = y.reshape(B, len(g.members), K)
            if len(self.groups) == 1:
                out = y
            else:
                if out is None:
                    out = np.empty((B, P, K), dtype=self.dtype)
                out[:, g.indices] = y
        self._caches = caches
        return out

    def forward(self, X) -> np.ndarray:
        """Every network's outputs for the batch ``X``.

        Parameters
        ----------
        X : ndarray of shape (batch, D), D >= n_inputs
            Network ``k`` reads the first ``nets[k].n_inputs`` columns.

        Returns
        -------
        ndarray of shape (batch, P, K)
            Probabilities (``softmax=True``) or raw output values, in ``dtype``.

        Raises
        ------
        InputError
            ``X`` not a non-empty 2-D batch, or narrower than a network's inputs.
        InputTypeError
            ``X`` not numeric.

        Examples
        --------
        >>> pop = compile_population([GraphNetwork.random(3, 2, 2, 0.7, seed=0)])
        >>> pop.forward(np.ones((2, 2)))
        Traceback (most recent call last):
        ...
        graphnet.errors.InputError: Population.forward: X has 2 columns but nets[0] reads 3 (network k reads the first n_inputs columns; the population needs 3)
        """
        o = self._run(X, "Population.forward")
        return acts.softmax(o, axis=2) if self.softmax else o

    def loss_and_backward(self, X, y, loss="cross_entropy") -> np.ndarray:
        """Forward, each network's loss, and backward of their sum; see :meth:`params_and_grads`.

        Parameters
        ----------
        X : ndarray of shape (batch, D)
        y : ndarray of shape (batch,) of integer labels, or of shape (batch, K)
            The same targets for every network.
        loss : str or Loss

        Returns
        -------
        ndarray of shape (P,)
            Network ``k``'s batch-mean loss (what ``graph_model(nets[k])`` would give).

        Examples
        --------
        >>> pop = compile_population([GraphNetwork.random(2, 3, 2, 0.6, seed=s) for s in (0, 1)])
        >>> values = pop.loss_and_backward(np.ones((4, 2)), np.array([0, 1, 1, 0]))
        >>> values.shape, len(pop.params_and_grads())
        ((2,), 2)
        """
        loss = get_loss(loss)
        o = self._run(X, "Population.loss_and_backward")
        p = acts.softmax(o, axis=2) if self.softmax else o
        self.last_output = p
        values, delta = per_network_loss(p, y, loss, softmax=self.softmax)
        self._backward(delta)
        return values

    def _backward(self, delta):
        B = delta.shape[0]
        for g, cache in zip(self.groups, self._caches):
            d = delta if len(self.groups) == 1 else delta[:, g.indices]
            _, gw, gb = g.plan.backward(cache, d.reshape(B, -1), input_grad=False)
            g.gw = gw if g.train is None else gw[g.train]
            g.gb = gb

    def params_and_grads(self) -> list:
        """``(param, grad)`` pairs for an optimizer: two per group, the same arrays each step.

        Examples
        --------
        >>> pop = compile_population([GraphNetwork.layered([2, 2], seed=0)])
        >>> pop.params_and_grads()
        Traceback (most recent call last):
        ...
        graphnet.errors.InputError: Population.params_and_grads: run loss_and_backward first
        """
        if any(g.gw is None for g in self.groups):
            raise InputError("Population.params_and_grads: run loss_and_backward first")
        return [pair for g in self.groups for pair in ((g.w, g.gw), (g.b, g.gb))]

    # ------------------------------------------------------------------ per network

    def network_params(self, k) -> tuple:
        """Network ``k``'s current parameters, laid out as :class:`GraphLayer`'s.

        Returns
        -------
        w : ndarray
            The weights of its trainable edges, ``nets[k].edges()`` order.
        b : ndarray
            The biases of its non-input nodes, ascending.

        Examples
        --------
        >>> net = GraphNetwork.from_matrix([[0, 2.0], [0, 0]], [0], [1], biases=[0, 0.5])
        >>> compile_population([net]).network_params(0)
        (array([2.]), array([0.5]))
        """
        k = self._check_index(k, "Population.network_params")
        if k in self._frozen:
            w, b = self._frozen[k]
            return w.copy(), b.copy()
        g, c = self._where[k]
        mem = g.members[c]
        return g.w[mem.w_pos].copy(), g.b[mem.bias_pos].copy()

    def network_grads(self, k) -> tuple:
        """Network ``k``'s gradients from the last backward, laid out as :meth:`network_params`.

        Examples
        --------
        >>> pop = compile_population([GraphNetwork.layered([2, 2], seed=0)])
        >>> _ = pop.loss_and_backward(np.ones((3, 2)), np.array([0, 1, 0]))
        >>> [g.shape for g in pop.network_grads(0)]
        [(4,), (2,)]
        """
        k = self._check_index(k, "Population.network_grads")
        g, c = self._where[k]
        if g.gw is None:
            raise InputError("Population.network_grads: run loss_and_backward first")
        mem = g.members[c]
        return g.gw[mem.w_pos].copy(), g.gb[mem.bias_pos].copy()

    def network(self, k) -> GraphNetwork:
        """Network ``k`` with its trained weights and biases (as ``GraphLayer.to_network``).

        Same nodes, names, roles, activations, mode and fixed edges; an edge whose weight
        became exactly 0 is dropped.

        Examples
        --------
        >>> net = GraphNetwork.random(2, 3, 1, 0.7, seed=0)
        >>> compile_population([net]).network(0) == net
        True
        """
        k = self._check_index(k, "Population.network")
        g, c = self._where[k]
        return member_network(self.nets[k], g.members[c], *self.network_params(k))

    def networks(self) -> list:
        """All P networks with their trained parameters, in population order.

        Examples
        --------
        >>> nets = [GraphNetwork.random(2, 2, 1, 0.8, seed=s) for s in range(3)]
        >>> compile_population(nets).networks() == nets
        True
        """
        with gc_paused():
            return [self.network(k) for k in range(self.n_networks)]

    def freeze(self, k) -> None:
        """Stop training network ``k``: keep its current parameters, zero it in the union.

        For a network that diverged: its values no longer reach the others through the
        union's shared blocks (``0 * inf`` is NaN), and :meth:`network_params` and
        :meth:`network` give the parameters it had when frozen. Call
        :meth:`after_step` after every optimizer step to keep it at zero.

        Examples
        --------
        >>> pop = compile_population([GraphNetwork.layered([2, 1], seed=s) for s in (0, 1)])
        >>> pop.freeze(1); pop.frozen
        (1,)
        >>> pop.forward(np.ones((1, 2)))[0, 1]    # a zeroed network: identity output 0
        array([1.])
        """
        k = self._check_index(k, "Population.freeze")
        if k in self._frozen:
            return
        self._frozen[k] = self.network_params(k)
        g, c = self._where[k]
        mem = g.members[c]
        g.w_all[mem.edge_pos] = 0
        g.w[mem.w_pos] = 0
        g.b[mem.bias_pos] = 0
        frozen = [m for m in g.members if m.index in self._frozen]
        g.zero_w = np.concatenate([np.arange(m.w_pos.start, m.w_pos.stop) for m in frozen])
        g.zero_b = np.concatenate([np.arange(m.bias_pos.start, m.bias_pos.stop)
                                   for m in frozen])

    def finite_networks(self) -> np.ndarray:
        """Per network: whether the last backward's outputs and gradients are all finite.

        Examples
        --------
        >>> pop = compile_population([GraphNetwork.layered([2, 2], seed=s) for s in (0, 1)])
        >>> _ = pop.loss_and_backward(np.ones((3, 2)), np.array([0, 1, 0]))
        >>> pop.finite_networks()
        array([ True,  True])
        """
        if self.last_output is None or any(g.gw is None for g in self.groups):
            raise InputError("Population.finite_networks: run loss_and_backward first")
        o = self.last_output
        ok = np.ones(self.n_networks, bool) if np.isfinite(o).all() else \
            np.isfinite(o).all(axis=(0, 2))
        for g in self.groups:
            if np.isfinite(g.gw).all() and np.isfinite(g.gb).all():
                continue
            for m in g.members:                             # rare: find the networks
                ok[m.index] &= bool(np.isfinite(g.gw[m.w_pos]).all()
                                    and np.isfinite(g.gb[m.bias_pos]).all())
        return ok

    @property
    def frozen(self) -> tuple:
        """The frozen networks, ascending."""
        return tuple(sorted(self._frozen))

    def after_step(self) -> None:
        """Put the frozen networks' parameters back to 0 after an optimizer step."""
        for g in self.groups:
            if g.zero_w is not None:
                g.w[g.zero_w] = 0
                g.b[g.zero_b] = 0

    def _check_index(self, k, where):
        if not is_int(k) or not 0 <= k < self.n_networks:
            raise InputError(f"{where}: k must be an int in [0, {self.n_networks}), got {k!r}")
        return int(k)

    def __repr__(self):
        nodes = sum(g.plan.n_nodes for g in self.groups)
        edges = sum(g.plan.n_edges for g in self.groups)
        return (f"Population(networks={self.n_networks}, groups={len(self.groups)}, "
                f"inputs={self.n_inputs}, outputs={self.n_outputs}, union nodes={nodes}, "
                f"edges={edges})")


def compile_population(nets, *, steps=5, dtype=np.float64, softmax=True, strategy="auto",
                       max_nodes=4096) -> Population:
    """Compile P networks into one plan per group, their disjoint union.

    Parameters
    ----------
    nets : sequence of GraphNetwork
        Feedforward or recurrent, any sizes, the same number K of outputs. Network ``k``
        reads the first ``nets[k].n_inputs`` columns of the data.
    steps : int or sequence of int
        ``T`` of the recurrent networks (one for all, or one per network); recurrent
        networks with the same ``T`` share a union plan. Ignored for feedforward ones.
    dtype : float32 or float64
        Of the parameters and the computation.
    softmax : bool
        Put each network's outputs through its own softmax (as ``graph_model``); False
        keeps the raw outputs (as ``Sequential([GraphLayer(net)])``, for regression).
    strategy : str
        As :func:`~graphnet.graph.execute.compile_plan`, for every union plan.
    max_nodes : int >= 1
        A group whose union would have more non-input nodes is cut, in population order,
        into several unions of at most this many (a network larger than that gets its
        own), at the price of one more plan run per step for each further union. Memory
        does not need it (it grows with the edges); it bounds the block of a level forced
        dense (``strategy="dense"`` or ``"range"``), which grows with the union's nodes.

    Returns
    -------
    Population

    Raises
    ------
    InputError
        An empty population, networks with different numbers of outputs, a bad ``steps``.
    InputTypeError
        ``nets`` not a sequence, or an item that is not a GraphNetwork.

    Examples
    --------
    >>> ff = GraphNetwork.random(2, 3, 2, 0.6, seed=0)
    >>> rec = GraphNetwork.random(2, 3, 2, 0.6, seed=1, mode="recurrent")
    >>> pop = compile_population([ff, rec, ff], steps=3)
    >>> [g.indices.tolist() for g in pop.groups]
    [[0, 2], [1]]
    >>> compile_population([])
    Traceback (most recent call last):
    ...
    graphnet.errors.InputError: compile_population: nets is empty; a population needs at least one network
    >>> compile_population([ff, "net"])
    Traceback (most recent call last):
    ...
    graphnet.errors.InputTypeError: compile_population: nets[1] must be a GraphNetwork, got str
    """
    return Population(nets, steps=steps, dtype=dtype, softmax=softmax, strategy=strategy,
                      max_nodes=max_nodes)
