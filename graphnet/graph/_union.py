"""The disjoint union of a population's networks, and where each network lives in it.

:func:`build_group` compiles networks that run alike (same mode, same recurrent steps) into
one :class:`~graphnet.graph.execute.Plan` of their disjoint union, the input nodes shared
(union input ``j`` feeds every network's ``j``-th input), and records each network's
positions in the union's parameter vectors as a :class:`Member`. Used by
:mod:`graphnet.graph.population`.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

from graphnet._checks import check_steps, is_int
from graphnet.errors import InputError, InputTypeError
from graphnet.graph.execute import Plan, compile_plan
from graphnet.graph.network import GraphNetwork

__all__ = ["Member", "Group", "build_group", "chunks", "check_nets"]


@dataclass
class Member:
    """Where one network lives inside its group's union plan.

    Attributes
    ----------
    index : int
        The network's position in the population.
    edge_pos : ndarray of int, shape (n_edges,)
        For each of the network's edges (``net.edges()`` order), its position in the
        union's weight vector.
    trainable : ndarray of bool, shape (n_edges,)
        False at the network's fixed edges.
    bias_pos : ndarray of int, shape (n_nodes - n_inputs,)
        For each non-input node (ascending), its position in the union's bias vector.
    w_pos : ndarray of int
        For each trainable edge, its position in the group's parameter ``w``.
    """

    index: int
    edge_pos: np.ndarray
    trainable: np.ndarray
    bias_pos: np.ndarray
    w_pos: np.ndarray


@dataclass
class Group:
    """Networks that run alike, compiled as one union plan.

    Attributes
    ----------
    plan : Plan
        The plan of the union network.
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


def _union(nets, indices, mode):
    """The disjoint union of ``nets`` (inputs shared) and each network's node map."""
    m = max(nets[k].n_inputs for k in indices)
    g = nx.DiGraph(mode=mode)
    g.add_nodes_from((j, {"role": "input", "name": f"x{j}"}) for j in range(m))
    maps, offset = [], m
    for k in indices:
        net = nets[k]
        idx = np.empty(net.n_nodes, dtype=np.int64)
        idx[net.inputs] = np.arange(net.n_inputs)
        others = np.setdiff1d(np.arange(net.n_nodes), net.inputs)
        idx[others] = offset + np.arange(others.size)
        offset += others.size
        roles, acts_, names, b = net.roles, net.activations, net.names, net.biases()
        g.add_nodes_from((int(idx[i]), {"role": roles[i], "activation": acts_[i],
                                        "bias": float(b[i]), "name": f"p{k}.{names[i]}"})
                         for i in others)
        W, fixed = net.matrix(), net.fixed_mask()
        src, dst = np.nonzero(W)
        fx = fixed[src, dst]
        g.add_edges_from((u, v, {"weight": w, "trainable": False} if f else {"weight": w})
                         for u, v, w, f in zip(idx[src].tolist(), idx[dst].tolist(),
                                               W[src, dst].tolist(), fx.tolist()))
        maps.append((idx, src, dst, fx, others))
    return GraphNetwork(g), m, maps


def build_group(nets, indices, mode, steps, dtype, strategy) -> Group:
    """One union plan for ``nets[indices]``, its parameters and its members."""
    union, m, maps = _union(nets, indices, mode)
    plan = compile_plan(union, steps=steps, strategy=strategy)
    n = plan.n_nodes
    keys = plan.edge_src * n + plan.edge_dst                 # ascending: net.edges() order
    train = None if plan.trainable.all() else np.flatnonzero(plan.trainable)
    members = []
    for k, (idx, src, dst, fixed, others) in zip(indices, maps):
        pos = np.searchsorted(keys, idx[src] * n + idx[dst])
        bpos = np.searchsorted(plan.bias_nodes, idx[others])
        assert np.array_equal(keys[pos], idx[src] * n + idx[dst])
        wpos = pos[~fixed] if train is None else np.searchsorted(train, pos[~fixed])
        members.append(Member(index=int(k), edge_pos=pos, trainable=~fixed, bias_pos=bpos,
                              w_pos=wpos))
    K = nets[indices[0]].n_outputs
    cols = np.concatenate([np.searchsorted(plan.outputs, mp[0][nets[k].outputs])
                           for k, mp in zip(indices, maps)])
    assert np.array_equal(cols, np.arange(len(indices) * K)), "outputs not in member order"
    w_all, b = plan.initial_params(dtype)
    w = w_all if train is None else w_all[train]
    return Group(plan=plan, members=members, indices=np.asarray(indices, dtype=np.int64),
                 n_inputs=m, w_all=w_all, train=train, w=w, b=b)


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
