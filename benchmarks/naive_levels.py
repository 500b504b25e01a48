"""The dense-ish random DAG of issue 12 and its naive numpy level plan (bench_graph.py).

``dense_dag``
    64 inputs and N computed nodes in a topological order; computed node j links each
    earlier node (inputs included) with probability p_j ~ U(0.10, 0.20), at least one;
    weights N(0, 1) / sqrt(fan-in), biases N(0, 0.1^2), tanh everywhere, the last 10
    nodes the outputs. At N = 2000: about 317,000 edges and 450-470 depth levels.
``NaiveLevels``
    The 30-line numpy level plan the issue measures against: nodes renumbered by depth,
    one dense masked product ``tanh(WT[s:e, :s] @ A[:s] + b)`` per level; backward the
    same products transposed, the weight gradient a dense block per level
    (``dz @ A[:s].T``) whose entries at the edges are the gradients.
"""

from __future__ import annotations

import math

import numpy as np

from graphnet.graph.network import GraphNetwork
from graphnet.rng import make_rng

__all__ = ["dense_dag", "NaiveLevels"]


def dense_dag(n, *, seed=0, n_inputs=64, n_outputs=10, p=(0.10, 0.20), activation="tanh"):
    """The dense-ish random DAG: ``n`` computed nodes after ``n_inputs`` inputs (see above).

    ``p``: the range of p_j; ``activation``: of every non-input node (a str, or one per
    node as :meth:`GraphNetwork.from_matrix` takes it).

    Examples
    --------
    >>> net = dense_dag(50, seed=0)
    >>> net.n_nodes, net.n_inputs, net.n_outputs
    (114, 64, 10)
    >>> bool(0.08 < net.n_edges / sum(range(64, 114)) < 0.22)
    True
    """
    rng = make_rng(seed)
    total = n_inputs + n
    W = np.zeros((total, total))
    b = np.zeros(total)
    for j in range(n_inputs, total):
        pick = rng.random(j) < rng.uniform(*p)
        if not pick.any():
            pick[rng.integers(j)] = True
        src = np.flatnonzero(pick)
        W[src, j] = rng.normal(0.0, 1.0, src.size) / math.sqrt(src.size)
        b[j] = rng.normal(0.0, 0.1)
    return GraphNetwork.from_matrix(W, inputs=np.arange(n_inputs),
                                    outputs=np.arange(total - n_outputs, total), biases=b,
                                    activation=activation, output_activation=activation)


class NaiveLevels:
    """The naive numpy level plan of a feedforward network whose levels are all tanh.

    Parameters
    ----------
    net : GraphNetwork
    w, b : ndarray
        Edge weights in ``net.edges()`` order, biases of the non-input nodes ascending
        (:class:`~graphnet.graph.execute.GraphLayer` ``params``); their dtype is used.

    Examples
    --------
    >>> from graphnet.graph.execute import GraphLayer
    >>> net = dense_dag(40, seed=1)
    >>> layer = GraphLayer(net)
    >>> naive = NaiveLevels(net, layer.params["w"], layer.params["b"])
    >>> x = np.ones((3, 64))
    >>> bool(np.allclose(naive.forward(x), layer.output(x)))
    True
    """

    def __init__(self, net, w, b):
        if any(a != "tanh" for a, r in zip(net.activations, net.roles) if r != "input"):
            raise ValueError("NaiveLevels: every non-input node must be tanh")
        levels = net.levels()
        order = np.concatenate([net.inputs, *levels])        # renumbered by depth
        pos = np.empty(net.n_nodes, dtype=np.int64)
        pos[order] = np.arange(net.n_nodes)
        src, dst = np.nonzero(net.matrix())                    # net.edges() order
        self.e_dst, self.e_src = pos[dst], pos[src]
        self.WT = np.zeros((net.n_nodes, net.n_nodes), dtype=w.dtype)
        self.WT[self.e_dst, self.e_src] = w                   # row = to, column = from
        non = np.flatnonzero(np.asarray(net.roles) != "input")
        self.bias_pos = pos[non]
        self.b = np.zeros((net.n_nodes, 1), dtype=w.dtype)
        self.b[self.bias_pos, 0] = b
        sizes = np.cumsum([net.n_inputs] + [len(lv) for lv in levels])
        self.bounds = list(zip(sizes[:-1].tolist(), sizes[1:].tolist()))
        self.n_inputs, self.out_pos = net.n_inputs, pos[net.outputs]
        self.A = self.dA = self.gWT = None

    def forward(self, x):
        """Outputs (batch, n_outputs); keeps the values for :meth:`backward`."""
        WT, b = self.WT, self.b
        if self.A is None or self.A.shape[1] != x.shape[0]:
            self.A = np.zeros((WT.shape[0], x.shape[0]), dtype=WT.dtype)
        A = self.A
        A[:self.n_inputs] = x.T
        for s, e in self.bounds:
            A[s:e] = np.tanh(WT[s:e, :s] @ A[:s] + b[s:e])
        return A[self.out_pos].T.copy()

    def backward(self, delta):
        """(dx, gw, gb) for dE/d(outputs) = ``delta``, after :meth:`forward`."""
        A, WT = self.A, self.WT
        if self.gWT is None or self.dA.shape != A.shape:
            self.dA, self.gWT = np.empty_like(A), np.zeros_like(WT)
        dA, gWT = self.dA, self.gWT
        dA.fill(0)
        dA[self.out_pos] = delta.T
        gb = np.empty(WT.shape[0], dtype=WT.dtype)
        for s, e in reversed(self.bounds):
            dz = dA[s:e] * (1 - A[s:e] * A[s:e])              # tanh' = 1 - a^2
            gWT[s:e, :s] = dz @ A[:s].T
            gb[s:e] = dz.sum(axis=1)
            dA[:s] += WT[s:e, :s].T @ dz
        return (dA[:self.n_inputs].T.copy(), gWT[self.e_dst, self.e_src],
                gb[self.bias_pos])


# ------------------------------------------------------------------- the same plan in torch

def worker_arrays(naive, x, delta) -> dict:
    """What the torch worker needs to run ``naive``'s level plan (see :func:`torch_worker`)."""
    return {"WT": naive.WT, "b": naive.b, "bounds": np.array(naive.bounds, dtype=np.int64),
            "out_pos": naive.out_pos, "e_dst": naive.e_dst, "e_src": naive.e_src,
            "bias_pos": naive.bias_pos, "x": x, "delta": delta}


def torch_worker(torch, data, cfg, time_calls) -> tuple:
    """The naive level plan in torch, in place, backward written out (no autograd).

    ``torch.tanh(torch.addmm(b, WT[s:e, :s], A[:s]))`` per level into one preallocated
    ``A``, then the transposed products in reverse, under ``torch.inference_mode``: torch's
    kernels on the very plan :class:`NaiveLevels` runs. Returns (arrays of the check: y,
    dx, gw, gb; timing dict).
    """
    t = {k: torch.from_numpy(np.ascontiguousarray(data[k]))
         for k in ("WT", "b", "x", "delta", "out_pos", "e_dst", "e_src", "bias_pos")}
    WT, b, x, delta = t["WT"], t["b"], t["x"], t["delta"]
    bounds = [tuple(r) for r in data["bounds"].tolist()]
    nin, n, B = x.shape[1], WT.shape[0], x.shape[0]
    A = torch.zeros(n, B, dtype=WT.dtype)
    dA, gWT, gb = torch.zeros_like(A), torch.zeros_like(WT), torch.zeros(n, dtype=WT.dtype)

    def fwd():
        A[:nin] = x.T
        for s, e in bounds:
            torch.tanh(torch.addmm(b[s:e], WT[s:e, :s], A[:s]), out=A[s:e])
        return A[t["out_pos"]].T

    def bwd():
        dA.zero_()
        dA[t["out_pos"]] = delta.T
        for s, e in reversed(bounds):
            dz = dA[s:e] * (1 - A[s:e] * A[s:e])              # tanh' = 1 - a^2
            gWT[s:e, :s] = dz @ A[:s].T
            gb[s:e] = dz.sum(dim=1)
            dA[:s].addmm_(WT[s:e, :s].T, dz)
        return dA[:nin].T, gWT[t["e_dst"], t["e_src"]], gb[t["bias_pos"]]

    with torch.inference_mode():
        y = fwd().clone()
        dx, gw, gbias = bwd()
        result = {"y": y.numpy(), "dx": dx.numpy(), "gw": gw.numpy(), "gb": gbias.numpy()}

        def fwd_bwd():
            fwd()
            bwd()

        kw = {"warmup": cfg["warmup"], "repeats": cfg["repeats"], "wait_idle": cfg["wait_idle"]}
        timing = {"forward": time_calls(fwd, **kw), "fwd_bwd": time_calls(fwd_bwd, **kw),
                  "torch_version": torch.__version__, "torch_threads": torch.get_num_threads()}
    return result, timing
