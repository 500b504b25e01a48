"""The disjoint union of a population's networks, built from their arrays, and where each
network lives in it.

:func:`build_group` compiles networks that run alike (same mode, same recurrent steps) into
one plan of their disjoint union, the input nodes shared (union input ``j`` feeds every
network's ``j``-th input), and records each network's place in the union's parameter
vectors as a :class:`Member`. Used by :mod:`graphnet.graph.population`.

No union :class:`GraphNetwork` is built: the members are valid networks already, so the
union is laid out straight from their edge arrays (numpy, no networkx, no ``n x n``
matrix of the union) and compiled by :func:`graphnet.graph._plan.compile_program` into a
:class:`UnionPlan`. The layout makes every member one contiguous run of each vector:

* union nodes: the shared inputs ``0 .. m - 1``, then member after member its non-input
  nodes in its own node order;
* union edges (the weight vector): member after member its edges in ``net.edges()``
  order; union biases: member after member its non-input nodes ascending.

So member ``c``'s weights, biases and gradients are slices, laid out exactly as
:class:`~graphnet.graph.execute.GraphLayer`'s, and splitting a trained network back is a
slice plus :func:`member_network` (a trusted rebuild that skips re-validation).
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from graphnet._checks import check_steps, is_int
from graphnet.errors import InputError, InputTypeError
from graphnet.graph._plan import check_strategy, compile_program
from graphnet.graph._validate import canonical_graph
from graphnet.graph.analysis import levels as depth_levels
from graphnet.graph.execute import Plan
from graphnet.graph.network import GraphNetwork

__all__ = ["Member", "Group", "UnionPlan", "union_depths", "build_group", "member_network",
           "gc_paused", "chunks", "check_nets"]


@dataclass
class Member:
    """Where one network lives inside its group's union plan, and its own edge arrays.

    Attributes
    ----------
    index : int
        The network's position in the population.
    edge_pos : slice
        Its edges' run in the union's weight vector (``net.edges()`` order).
    trainable : ndarray of bool, shape (n_edges,)
        False at the network's fixed edges.
    bias_pos : slice
        Its non-input nodes' run (ascending) in the union's bias vector.
    w_pos : slice
        Its trainable edges' run in the group's parameter ``w``.
    src, dst : ndarray of int, shape (n_edges,)
        Its edges, in its own node numbers, ``net.edges()`` order.
    w0 : ndarray of float64, shape (n_edges,)
        Its own edge weights (the fixed ones stay these).
    others : ndarray of int
        Its non-input nodes, ascending (the order of its biases).
    """

    index: int
    edge_pos: slice
    trainable: np.ndarray
    bias_pos: slice
    w_pos: slice
    src: np.ndarray
    dst: np.ndarray
    w0: np.ndarray
    others: np.ndarray


@dataclass
class Group:
    """Networks that run alike, compiled as one union plan.

    Attributes
    ----------
    plan : UnionPlan
        The plan of the union.
    members : list of Member
        In population order; member ``c``'s outputs are union output columns
        ``c*K .. (c+1)*K - 1``.
    indices : ndarray of int
        ``[m.index for m in members]``.
    n_inputs : int
        Data columns the group reads (the largest ``n_inputs`` of its networks).
    w_all : ndarray of shape (union edges,)
        Every union edge weight; the fixed ones are constants.
    train : ndarray of int or None
        Positions of the trainable union edges (None: all are).
    w, b : ndarray
        The parameters: trainable union edge weights and union biases.
    gw, gb : ndarray or None
        Their gradients, from the last backward.
    zero_w, zero_b : ndarray of int or None
        Positions in ``w`` and ``b`` of the frozen networks' parameters (kept at 0).
    """

    plan: Plan
    members: list
    indices: np.ndarray
    n_inputs: int
    w_all: np.ndarray
    train: np.ndarray | None
    w: np.ndarray
    b: np.ndarray
    gw: np.ndarray | None = None
    gb: np.ndarray | None = None
    zero_w: np.ndarray | None = None
    zero_b: np.ndarray | None = None


@dataclass(frozen=True, eq=False)
class _Union:
    """The union's structure as the plan compiler reads a network (duck-typed)."""

    n_nodes: int
    n_inputs: int
    mode: str
    activations: tuple
    inputs: np.ndarray
    outputs: np.ndarray
    level_list: list

    def levels(self) -> list:
        """The non-input nodes grouped by depth (feedforward)."""
        return self.level_list


class UnionPlan(Plan):
    """The :class:`~graphnet.graph.execute.Plan` of a disjoint union, compiled from arrays.

    It runs forward and backward exactly as a plan of the union network would (the
    methods are Plan's); it has no ``net`` and no structure reports (``unreachable``,
    ``dead_ends``, ``sinks`` and ``cycles`` are None: each member's own plan has them).
    It sets what ``Plan.__init__`` sets, from arrays: a field added there belongs here too
    (every population test runs this plan).
    """

    def __init__(self, union: _Union, src, dst, w0, b0, trainable, *, steps, strategy):
        self.net = None
        self.mode = union.mode
        self.steps = int(steps)
        self.strategy = strategy
        self.n_nodes = union.n_nodes
        self.n_inputs = union.n_inputs
        self.n_outputs = int(union.outputs.size)
        self.inputs, self.outputs = union.inputs, union.outputs
        self.unreachable = self.dead_ends = self.sinks = self.cycles = None
        self.edge_src, self.edge_dst = src, dst
        self.n_edges = int(src.size)
        self.bias_nodes = np.arange(union.n_inputs, union.n_nodes)
        self.n_params = self.n_edges + int(self.bias_nodes.size)
        self.trainable = trainable
        self._fixed = np.flatnonzero(~trainable)
        self._w0, self._b0 = w0, b0
        recurrent = self.mode == "recurrent"
        self.levels = [self.bias_nodes.copy()] if recurrent else union.levels()
        forms = strategy if isinstance(strategy, tuple) else (strategy,) * len(self.levels)
        self._prog = compile_program(union, src, dst, self.bias_nodes, self.levels, forms)
        self.kinds = self._prog.kinds
        self.rows = self._prog.rows
        self.n_terms = self._prog.n_terms
        self._works = {}


def union_depths(n, n_inputs, src, dst) -> np.ndarray:
    """Depth of every node of a DAG given by its edges, as :func:`graphnet.graph.analysis.depths`.

    Nodes ``0 .. n_inputs - 1`` are the inputs (depth 0); any other node has depth 1 + the
    largest depth of a predecessor (1 without one). Kahn's order in whole generations:
    one numpy pass over the edges not yet used per depth, no networkx.

    Examples
    --------
    >>> union_depths(5, 1, np.array([0, 1, 0]), np.array([1, 2, 3])).tolist()
    [0, 1, 2, 1, 1]
    """
    d = np.ones(n, dtype=np.intp)
    d[:n_inputs] = 0
    indeg = np.bincount(dst, minlength=n)
    s, t = np.asarray(src), np.asarray(dst)
    while s.size:
        sel = indeg[s] == 0                         # edges whose source is final
        assert sel.any(), "union_depths: a cycle"
        np.maximum.at(d, t[sel], d[s[sel]] + 1)
        indeg -= np.bincount(t[sel], minlength=n)
        s, t = s[~sel], t[~sel]
    return d


def build_group(nets, indices, mode, steps, dtype, strategy) -> Group:
    """One union plan for ``nets[indices]``, its parameters and its members."""
    m = max(nets[k].n_inputs for k in indices)
    offset, e_off, w_off = m, 0, 0
    acts = ["identity"] * m
    parts, members = [], []
    for k in indices:
        net = nets[k]
        W = net.matrix()                            # the member's own n_k x n_k, not the union's
        src, dst = np.nonzero(W)                    # row-major: net.edges() order
        train = ~net.fixed_mask()[src, dst]
        inputs = net.inputs
        others = np.setdiff1d(np.arange(net.n_nodes), inputs)
        idx = np.empty(net.n_nodes, dtype=np.intp)
        idx[inputs] = np.arange(inputs.size)
        idx[others] = offset + np.arange(others.size)
        n_train = int(train.sum())
        members.append(Member(
            index=int(k), edge_pos=slice(e_off, e_off + src.size), trainable=train,
            bias_pos=slice(offset - m, offset - m + others.size),
            w_pos=slice(w_off, w_off + n_train), src=src, dst=dst, w0=W[src, dst],
            others=others))
        acts.extend(net.activations[i] for i in others)
        parts.append((idx[src], idx[dst], idx[net.outputs], net.biases()[others]))
        offset += others.size
        e_off += src.size
        w_off += n_train
    src, dst, outputs, b0 = (np.concatenate([p[j] for p in parts]) for j in range(4))
    w0 = np.concatenate([mem.w0 for mem in members])
    trainable = np.concatenate([mem.trainable for mem in members])
    if mode == "feedforward":
        levels = depth_levels(union_depths(offset, m, src, dst))
    else:
        levels = [np.arange(m, offset)]
    union = _Union(n_nodes=offset, n_inputs=m, mode=mode, activations=tuple(acts),
                   inputs=np.arange(m), outputs=outputs, level_list=levels)
    strategy = check_strategy(union, strategy, "compile_population")
    plan = UnionPlan(union, src, dst, w0, b0, trainable, steps=steps, strategy=strategy)
    train = None if trainable.all() else np.flatnonzero(trainable)
    w_all, b = plan.initial_params(dtype)
    w = w_all if train is None else w_all[train]
    return Group(plan=plan, members=members, indices=np.asarray(indices, dtype=np.int64),
                 n_inputs=m, w_all=w_all, train=train, w=w, b=b)


def member_network(net, mem, w, b) -> GraphNetwork:
    """``net`` with the trained weights ``w`` (its trainable edges) and biases ``b``.

    What ``net.with_params(W, b)`` gives (same nodes, names, roles, activations, mode and
    fixed edges; an edge whose weight became exactly 0 is dropped), built from the edge
    arrays without re-validation: only the weights changed, and they are checked finite
    here (a non-finite one goes through ``with_params``, which raises its GraphError).
    """
    full_w = mem.w0.copy()
    full_w[mem.trainable] = w
    full_b = np.zeros(net.n_nodes)
    full_b[mem.others] = b
    if not (np.isfinite(full_w).all() and np.isfinite(full_b).all()):
        W = np.zeros((net.n_nodes, net.n_nodes))
        W[mem.src, mem.dst] = full_w
        return net.with_params(W, full_b)
    keep = full_w != 0
    g = canonical_graph(net.roles, full_b.tolist(), net.activations, net.names, net.mode,
                        mem.src[keep], mem.dst[keep], full_w[keep], ~mem.trainable[keep])
    return GraphNetwork(g, _valid=True)


@contextmanager
def gc_paused():
    """Pause Python's cyclic garbage collector (if it runs) while a block builds many objects.

    Compiling a union and rebuilding its networks allocate tens of thousands of small
    lists, tuples and dicts (networkx stores a dict per edge); each few hundred
    allocations would start a collection that walks them again (measured: 20-50 % of
    those phases). Nothing is lost: the collector runs as usual afterwards.

    Examples
    --------
    >>> with gc_paused():
    ...     gc.isenabled()
    False
    >>> gc.isenabled()
    True
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def chunks(nets, indices, max_nodes):
    """``indices`` cut into consecutive runs whose unions have at most ``max_nodes`` nodes."""
    out, run, size = [], [], 0
    for k in indices:
        extra = nets[k].n_nodes - nets[k].n_inputs
        if run and size + extra > max_nodes:
            out.append(run)
            run, size = [], 0
        run.append(k)
        size += extra
    out.append(run)
    return out


def check_nets(nets, steps, where):
    """The networks as a list and their steps, one per network; raise on bad input."""
    if isinstance(nets, GraphNetwork) or not hasattr(nets, "__iter__"):
        raise InputTypeError(f"{where}: nets must be a sequence of GraphNetwork, got "
                             f"{type(nets).__name__}")
    nets = list(nets)
    if not nets:
        raise InputError(f"{where}: nets is empty; a population needs at least one network")
    for k, net in enumerate(nets):
        if not isinstance(net, GraphNetwork):
            raise InputTypeError(f"{where}: nets[{k}] must be a GraphNetwork, got "
                                 f"{type(net).__name__}")
    K = nets[0].n_outputs
    for k, net in enumerate(nets):
        if net.n_outputs != K:
            raise InputError(f"{where}: every network needs the same number of outputs "
                             f"(one per class or target); nets[0] has {K}, nets[{k}] has "
                             f"{net.n_outputs}")
    if is_int(steps):
        steps = [steps] * len(nets)
    elif isinstance(steps, (str, bytes)) or not hasattr(steps, "__iter__"):
        raise InputTypeError(f"{where}: steps must be an int or a sequence of ints, got "
                             f"{steps!r}")
    steps = list(steps)
    if len(steps) != len(nets):
        raise InputError(f"{where}: steps has {len(steps)} entries for {len(nets)} networks")
    for s in steps:
        check_steps(s, where)
    return nets, [int(s) for s in steps]
