"""Speed of graph execution (:mod:`graphnet.graph.execute`) against reference implementations.

Two families of networks, batch 256, float32 by default:

``mlp30``
    The graph of a 64-128-10 tanh MLP (``GraphNetwork.layered``) thinned to 30 % of its
    edges (a seeded random mask).
``dag100``, ``dag500``, ``dag2000``
    Deep random DAGs of N nodes (16 inputs, 8 outputs, tanh hidden nodes, identity
    outputs): the nodes in a random order, each non-input node taking 3 random
    predecessors among the 20 nodes before it, labels shuffled. Depth comes out near N/4,
    a few nodes per level (see :func:`deep_dag`).
``dense500``, ``dense2000``
    Dense-ish random DAGs (issue 12): 64 inputs and N computed tanh nodes, node j linked
    from each earlier node with probability p_j ~ U(0.10, 0.20), the last 10 the outputs
    (:func:`naive_levels.dense_dag`; N = 2000: ~317,000 edges, ~470 levels).

Implementations (``forward`` = outputs of a batch; ``fwd+bwd`` = forward, then backward of
a fixed ``delta`` = dE/d(outputs) down to the parameter gradients and dE/dx):

``plan``
    :class:`graphnet.graph.execute.GraphLayer` (the compiled level plan; ``output``, then
    ``backpropagate``).
``node_loop``
    :class:`NodeLoop`: a per-node numpy loop over the topological order, vectorised over
    the batch (node-major values, ``H[v] = act(w_v @ H[preds] + b_v)``; backward node by
    node in reverse).
``per_sample``
    :class:`PerSample`: evaluation the way neat-python's ``FeedForwardNetwork.activate``
    does it, a Python loop over samples and, inside, over nodes (``sum(w * value)`` over
    each node's incoming links). Forward only (neat-python has no backward). It is slow,
    so it runs on fewer samples and its time is scaled linearly to the batch (the table
    says so).
``torch``
    (dense-ish cases: the naive level plan above run by torch, in place, backward written
    out, see :func:`run_torch_naive`.) The same level plan in PyTorch (one block product per level over the same source rows
    the plan chose, autograd for backward; the values kept as one tensor per level, never
    written in place, so autograd stays linear), when torch is installed. It runs in a
    separate process (``python bench_graph.py --torch-worker IN OUT``) with
    ``torch.set_num_threads`` set to ``--threads`` so that torch's OpenMP pool and numpy's
    OpenBLAS pool never share a process.
``naive_levels`` (dense-ish cases only)
    :class:`naive_levels.NaiveLevels`: the 30-line numpy level plan, nodes renumbered by
    depth, one dense masked product ``tanh(WT[s:e, :s] @ A[:s] + b)`` per level, backward
    likewise. The node loop and per-sample evaluation are not run on these cases.
``dense_mlp`` (``mlp30`` only)
    graphnet's core ``Dense(64, 128, tanh)`` + ``Dense(128, 10)`` on the *unthinned*
    weights: the dense MLP the thinned graph is compared with.

Before timing, every reference is checked against the plan (outputs, and gradients where
it has a backward); the max abs differences are printed.

Aims (printed with the figures): ``mlp30`` within 1.2x of the dense MLP; on the DAGs the
plan faster than torch's level plan at every N, >= 100x faster than per-sample evaluation,
and >= 2x faster than the per-node loop at 2000 nodes; on the dense-ish DAGs the plan at
most 0.6x the naive level plan and at most 0.5x torch's level plan, forward and fwd+bwd.
For the dense-ish cases the peak memory (tracemalloc) of compiling the plan and of one
forward + backward is reported too.

``--calibrate OUT.json`` measures the constants of the plan compiler's cost model on this
machine instead (:func:`graphnet.graph._calibrate.measure`) and writes them; point
``GRAPHNET_COST_FILE`` at the file to make the compiler use them.

Timing: the in-process implementations of a case are timed in alternation, 5 rounds each
timing every implementation (so that a drift of the machine's speed hits them alike);
per round, untimed warm-up calls (at least 0.04 s of them), then ``repeats / 5`` calls
timed one by one with the garbage collector off. Median and minimum over all rounds are
reported; ratios use the minima. Torch is timed in its own process (warm-up, then the
repeats). ``bg load`` is the CPU time other processes used meanwhile (from /proc/stat), in
CPUs: on a shared machine, figures taken under load are noisy. Threads: ``--threads N`` (default 2) sets the BLAS variables before numpy is
imported (as a script) and limits the pools with threadpoolctl around the timed loops.

Usage (from the repository root)::

    python benchmarks/bench_graph.py                  # full run
    python benchmarks/bench_graph.py --quick          # smoke run, a few seconds
    python benchmarks/bench_graph.py --json out.json  # also write the results
    python benchmarks/bench_graph.py --cases dense500,dense2000
    python benchmarks/bench_graph.py --calibrate cost.json
"""

from __future__ import annotations

import os
import sys

try:
    from benchmarks import harness, naive_levels
except ImportError:  # run as a script, or loaded by file path: harness.py is beside this file
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import harness
    import naive_levels

if __name__ == "__main__":
    # BLAS reads these once, when numpy is first imported: they must be set before that.
    harness.set_thread_env(sys.argv[1:])

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import tracemalloc  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from graphnet.core.layers import Dense  # noqa: E402
from graphnet.graph import _plan  # noqa: E402
from graphnet.graph.execute import GraphLayer, Plan  # noqa: E402
from graphnet.graph.generators import layered_blocks  # noqa: E402
from graphnet.graph.network import GraphNetwork  # noqa: E402
from graphnet.rng import make_rng  # noqa: E402

__all__ = [
    "CASES",
    "thinned_mlp",
    "deep_dag",
    "make_case",
    "NodeLoop",
    "PerSample",
    "export_plan",
    "run_export_numpy",
    "time_calls",
    "time_interleaved",
    "torch_available",
    "run_torch",
    "bench_case",
    "format_table",
    "check_aims",
    "main",
]

_DEFAULT_THREADS = harness.DEFAULT_THREADS
torch_available = harness.torch_available   # a module name, so that tests can patch it

_BATCH = 256
_WARM_S = 0.2     # warm-up lasts at least this long (clock ramp-up after an idle wait)
_IMPLS = ("plan", "node_loop", "per_sample", "torch", "dense_mlp", "naive_levels")

# name -> how to build it; "n" nodes for the DAGs
CASES = {
    "mlp30": {"kind": "mlp", "sizes": (64, 128, 10), "keep": 0.3},
    "dag100": {"kind": "dag", "n": 100},
    "dag500": {"kind": "dag", "n": 500},
    "dag2000": {"kind": "dag", "n": 2000},
    "dense500": {"kind": "dense", "n": 500},
    "dense2000": {"kind": "dense", "n": 2000},
}


# ------------------------------------------------------------------------------ networks

def thinned_mlp(sizes=(64, 128, 10), keep=0.3, *, seed=0):
    """The graph of a tanh MLP with a random ``keep`` fraction of its edges (seeded).

    Returns
    -------
    (GraphNetwork, GraphNetwork)
        The thinned network and the full one it came from.

    Examples
    --------
    >>> thin, full = thinned_mlp((4, 6, 2), 0.5, seed=0)
    >>> full.n_edges, thin.n_edges
    (36, 18)
    """
    rng = make_rng(seed)
    full = GraphNetwork.layered(list(sizes), seed=rng)
    W = full.matrix()
    src, dst = np.nonzero(W)
    k = int(round(keep * src.size))
    pick = rng.choice(src.size, size=k, replace=False)
    mask = np.zeros_like(W, dtype=bool)
    mask[src[pick], dst[pick]] = True
    return full.replace(W=np.where(mask, W, 0.0)), full


def deep_dag(n, *, seed=0, n_inputs=16, n_outputs=8, k=3, window=20):
    """A deep random DAG: nodes in a random order, each takes ``k`` predecessors at random
    among the ``window`` nodes before it; weights N(0, 1/k), biases N(0, 0.1).

    The first ``n_inputs`` nodes of the order are the inputs, the last ``n_outputs`` the
    outputs (identity); the others are tanh. Node labels are a random permutation, so the
    numbering is not topological. Depth is about ``n / 4`` for the defaults.

    Examples
    --------
    >>> net = deep_dag(100, seed=0)
    >>> net.n_nodes, net.n_inputs, net.n_outputs, net.n_edges
    (100, 16, 8, 252)
    >>> 15 <= len(net.levels()) <= 40
    True
    """
    rng = make_rng(seed)
    perm = rng.permutation(n)
    W = np.zeros((n, n))
    for p in range(n_inputs, n):
        lo = max(0, p - window)
        preds = rng.choice(np.arange(lo, p), size=min(k, p - lo), replace=False)
        W[perm[preds], perm[p]] = rng.normal(0.0, 1.0 / math.sqrt(len(preds)), len(preds))
    b = rng.normal(0.0, 0.1, n)
    b[perm[:n_inputs]] = 0.0
    return GraphNetwork.from_matrix(W, inputs=perm[:n_inputs], outputs=perm[n - n_outputs:],
                                    biases=b)


def make_case(name, spec, *, seed=0, batch=_BATCH, dtype=np.float32):
    """Build a case: networks, batch ``x``, fixed ``delta``.

    Returns
    -------
    dict
        ``name``, ``net`` (the network timed), ``full`` (mlp: the unthinned one, else
        None), ``x`` (batch, n_inputs), ``delta`` (batch, n_outputs).

    Examples
    --------
    >>> c = make_case("toy", {"kind": "dag", "n": 30}, batch=4)
    >>> c["x"].shape, c["delta"].shape, c["x"].dtype
    ((4, 16), (4, 8), dtype('float32'))
    """
    if spec["kind"] == "mlp":
        net, full = thinned_mlp(spec["sizes"], spec["keep"], seed=seed)
    elif spec["kind"] == "dag":
        net, full = deep_dag(spec["n"], seed=seed), None
    elif spec["kind"] == "dense":
        net, full = naive_levels.dense_dag(spec["n"], seed=seed), None
    else:
        raise ValueError(f"make_case: unknown kind {spec['kind']!r}")
    rng = make_rng(seed + 1)
    x = rng.normal(size=(batch, net.n_inputs)).astype(dtype)
    delta = rng.normal(size=(batch, net.n_outputs)).astype(dtype)
    return {"name": name, "spec": spec, "net": net, "full": full, "x": x, "delta": delta}


# ----------------------------------------------------------------------------- references

_PY_ACT = {
    "identity": lambda z: z,
    "tanh": math.tanh,
    "sigmoid": lambda z: (1.0 / (1.0 + math.exp(-z)) if z >= 0
                          else math.exp(z) / (1.0 + math.exp(z))),
    "relu": lambda z: z if z > 0.0 else 0.0,
}


def _np_act(name, z):
    if name == "tanh":
        return np.tanh(z)
    if name == "sigmoid":
        return 0.5 + 0.5 * np.tanh(0.5 * z)
    if name == "relu":
        return np.maximum(z, 0)
    return z


def _np_dact(name, o):
    if name == "tanh":
        return 1 - o * o
    if name == "sigmoid":
        return o * (1 - o)
    if name == "relu":
        return (o > 0).astype(o.dtype)
    return None


def _topological(net):
    """Non-input nodes in an order where every edge goes forward (by depth, then index)."""
    d = net.depths()
    order = np.argsort(d, kind="stable")
    return [int(v) for v in order if net.roles[v] != "input"]


class NodeLoop:
    """Per-node numpy loop over the topological order, vectorised over the batch.

    Parameters
    ----------
    net : GraphNetwork (feedforward)
    w, b : ndarray
        Edge weights in ``net.edges()`` order and biases of the non-input nodes, as in
        :class:`GraphLayer` ``params``.

    Examples
    --------
    >>> net = deep_dag(40, seed=1)
    >>> layer = GraphLayer(net)
    >>> loop = NodeLoop(net, layer.params["w"], layer.params["b"])
    >>> x = np.ones((3, 16))
    >>> bool(np.allclose(loop.forward(x), layer.output(x)))
    True
    """

    def __init__(self, net, w, b):
        src, dst = np.nonzero(net.matrix())
        non = [v for v in range(net.n_nodes) if net.roles[v] != "input"]
        bias = dict(zip(non, b))
        self.inputs, self.outputs = net.inputs, net.outputs
        self.n = net.n_nodes
        self.nodes = []
        for v in _topological(net):
            e = np.flatnonzero(dst == v)
            self.nodes.append((v, src[e], w[e].copy(), e, float(bias[v]), net.activations[v]))
        self.bias_index = {v: k for k, v in enumerate(non)}
        self.n_edges = src.size
        self.dtype = w.dtype
        self.H = None

    def forward(self, x):
        """Outputs (batch, n_outputs); keeps the values for :meth:`backward`."""
        H = np.zeros((self.n, x.shape[0]), dtype=self.dtype)      # node-major
        H[self.inputs] = x.T
        for v, preds, wv, _, bv, act in self.nodes:
            H[v] = _np_act(act, wv @ H[preds] + bv)
        self.H = H
        return H[self.outputs].T.copy()

    def backward(self, delta):
        """(dx, gw, gb) for dE/d(outputs) = ``delta``, after :meth:`forward`."""
        H = self.H
        dH = np.zeros_like(H)
        dH[self.outputs] = delta.T
        gw = np.zeros(self.n_edges, dtype=self.dtype)
        gb = np.zeros(len(self.bias_index), dtype=self.dtype)
        for v, preds, wv, e, _, act in reversed(self.nodes):
            d = _np_dact(act, H[v])
            dz = dH[v] if d is None else dH[v] * d
            gw[e] = H[preds] @ dz
            gb[self.bias_index[v]] = dz.sum()
            dH[preds] += np.outer(wv, dz)
        return dH[self.inputs].T.copy(), gw, gb


class PerSample:
    """neat-python's ``FeedForwardNetwork.activate``, one sample at a time, plain Python.

    ``node_evals`` holds ``(node, activation, bias, links)`` in topological order; for
    each sample, each node sums ``value[i] * w`` over its links, adds the bias and applies
    the activation, as neat-python does (its ``response`` is 1 here).

    Examples
    --------
    >>> net = deep_dag(40, seed=1)
    >>> layer = GraphLayer(net)
    >>> ps = PerSample(net, layer.params["w"], layer.params["b"])
    >>> x = np.ones((2, 16))
    >>> bool(np.allclose(ps.forward(x), layer.output(x)))
    True
    """

    def __init__(self, net, w, b):
        src, dst = np.nonzero(net.matrix())
        non = [v for v in range(net.n_nodes) if net.roles[v] != "input"]
        bias = dict(zip(non, b.tolist()))
        wl = w.tolist()
        links = {v: [] for v in non}
        for e, (u, v) in enumerate(zip(src.tolist(), dst.tolist())):
            links[v].append((u, wl[e]))
        self.input_nodes = net.inputs.tolist()
        self.output_nodes = net.outputs.tolist()
        self.node_evals = [(v, _PY_ACT[net.activations[v]], bias[v], links[v])
                           for v in _topological(net)]

    def activate(self, inputs):
        """One sample: list of input values -> list of output values."""
        values = {}
        for k, v in zip(self.input_nodes, inputs):
            values[k] = v
        for node, act_func, bias, links in self.node_evals:
            node_inputs = []
            for i, w in links:
                node_inputs.append(values[i] * w)
            s = sum(node_inputs)
            values[node] = act_func(bias + s)
        return [values[i] for i in self.output_nodes]

    def forward(self, x):
        """A batch, one sample after the other."""
        return np.array([self.activate(row) for row in x.tolist()], dtype=x.dtype)


# --------------------------------------------------------------- the plan, exported

def export_plan(plan: Plan, w, b) -> dict:
    """The plan's level program as plain arrays, for an independent executor (torch).

    Uses the plan's compiled program (``plan._prog``, :mod:`graphnet.graph._plan`'s level
    records): benchmark tooling, not API.
    Each level becomes one block product ``H[a:z] = act(block @ H[sources])`` where
    ``sources`` is a row range (``range`` levels, and ``csr`` levels: the rows they read)
    or a row list (``gather`` levels; an ``edge`` level is exported as a gather block over
    its distinct sources). ``rows, cols,
    param`` say which parameter (index into ``concat(w, b)``) sits where in the block.

    Returns
    -------
    dict
        ``R`` (rows of H), ``n_inputs``, ``one_rows``, ``out_rows``, ``n_params``,
        ``levels``: list of dicts ``kind`` ("range" or "gather"), ``a``, ``z``, ``r0``,
        ``r1`` (range) or ``S`` (gather), ``rows``, ``cols``, ``param``, ``shape``,
        ``acts`` [(a_i, z_i, name)].

    Examples
    --------
    >>> net = deep_dag(40, seed=1)
    >>> layer = GraphLayer(net)
    >>> spec = export_plan(layer.plan, layer.params["w"], layer.params["b"])
    >>> x = np.ones((3, 16))
    >>> bool(np.allclose(run_export_numpy(spec, x, layer.params["w"], layer.params["b"]),
    ...                  layer.output(x)))
    True
    """
    if plan.mode != "feedforward":
        raise ValueError("export_plan: feedforward plans only")
    prog = plan._prog
    names = {v: k for k, v in _plan.ACT_CODES.items()}
    n_param = plan.n_params
    bpos, bpidx = prog.block_pos, prog.block_param
    levels = []
    for lv in prog.levels:
        a, z = lv.a, lv.z
        m = z - a
        act_list = [(int(r.first), int(r.stop), names[r.code]) for r in lv.acts]
        if isinstance(lv, (_plan.RangeLevel, _plan.RangeXLevel, _plan.GatherLevel)):
            off, cols = lv.block, lv.cols
            sel = (bpos >= off) & (bpos < off + m * cols)
            q, p = bpos[sel] - off, bpidx[sel]
            if isinstance(lv, _plan.RangeXLevel):             # laid out as (m, n_x), (m, rest)
                ni = lv.n_x
                first = q < m * ni
                r = np.where(first, q // ni, (q - m * ni) // (cols - ni))
                c = np.where(first, q % ni, ni + (q - m * ni) % (cols - ni))
            else:
                r, c = q // cols, q % cols
            lv_out = {"a": a, "z": z, "rows": r, "cols": c, "param": p, "shape": (m, cols),
                      "acts": act_list}
            if isinstance(lv, _plan.GatherLevel):
                lv_out.update(kind="gather", S=np.asarray(lv.sources))
            else:
                lv_out.update(kind="range", r0=int(lv.r0), r1=int(lv.r1))
        elif isinstance(lv, _plan.CsrLevel):                  # csr -> range over rows read
            rows = np.repeat(np.arange(m), np.diff(lv.indptr))
            lv_out = {"kind": "range", "a": a, "z": z, "r0": lv.c0, "r1": lv.n_src,
                      "rows": rows, "cols": lv.indices - lv.c0,
                      "param": prog.csr_param[lv.off:lv.off + lv.nnz],
                      "shape": (m, lv.n_src - lv.c0), "acts": act_list}
        else:                                                  # edge -> gather over sources
            rows, srcs, params = [], [], []
            for bk in lv.fw:
                k = bk.z - bk.a
                pidx = prog.ell_param[bk.w_off:bk.w_off + k * bk.d]
                real = pidx != n_param
                ii = np.repeat(np.arange(k), bk.d) + (bk.a - a)
                rows.append(ii[real])
                srcs.append(bk.src[real])
                params.append(pidx[real])
            rows, srcs, params = map(np.concatenate, (rows, srcs, params))
            S, c = np.unique(srcs, return_inverse=True)
            lv_out = {"kind": "gather", "a": a, "z": z, "S": S, "rows": rows, "cols": c,
                      "param": params, "shape": (m, len(S)), "acts": act_list}
        levels.append(lv_out)
    return {"R": prog.n_rows, "n_inputs": plan.n_inputs, "one_rows": prog.one_rows,
            "out_rows": prog.out_rows, "n_params": n_param, "levels": levels}


def run_export_numpy(spec, x, w, b):
    """Forward of an exported plan in plain numpy (what the torch worker does in torch).

    Examples
    --------
    >>> thin, _ = thinned_mlp((4, 6, 2), 0.5, seed=0)
    >>> layer = GraphLayer(thin)
    >>> spec = export_plan(layer.plan, layer.params["w"], layer.params["b"])
    >>> x = np.ones((2, 4))
    >>> bool(np.allclose(run_export_numpy(spec, x, layer.params["w"], layer.params["b"]),
    ...                  layer.output(x)))
    True
    """
    theta = np.concatenate([w, b])
    H = np.zeros((spec["R"], x.shape[0]))
    H[spec["one_rows"]] = 1.0
    H[:spec["n_inputs"]] = x.T
    for lv in spec["levels"]:
        blk = np.zeros(lv["shape"])
        blk[lv["rows"], lv["cols"]] = theta[lv["param"]]
        src = H[lv["r0"]:lv["r1"]] if lv["kind"] == "range" else H[lv["S"]]
        H[lv["a"]:lv["z"]] = blk @ src
        for a_i, z_i, act in lv["acts"]:
            H[a_i:z_i] = _np_act(act, H[a_i:z_i])
    return H[spec["out_rows"]].T


# ------------------------------------------------------------------------------ timing

def time_calls(fn, *, warmup=3, repeats=20, threads=None, wait_idle=0.0) -> dict:
    """Time ``fn()``: ``warmup`` untimed calls (at least 0.2 s of them when ``warmup`` > 0),
    then ``repeats`` timed one by one.

    With ``wait_idle`` > 0, first wait up to that many seconds for the other processes on
    the machine to go quiet, and re-time (up to 3 times) a loop during which they used
    more than 0.25 CPUs; the least disturbed attempt is kept.

    Returns
    -------
    dict
        ``ms_median``, ``ms_min``, ``repeats``, ``bg_load`` (CPUs' worth of time other
        processes used meanwhile; None off Linux), ``attempts``.

    Examples
    --------
    >>> r = time_calls(lambda: None, warmup=1, repeats=3)
    >>> r["repeats"], r["ms_min"] <= r["ms_median"]
    (3, True)
    """
    if repeats < 1 or warmup < 0:
        raise ValueError(f"time_calls: need repeats >= 1 and warmup >= 0, got {repeats}, {warmup}")
    best, _ = harness.least_disturbed(lambda: _time_once(fn, warmup, repeats, threads),
                                      wait_idle=wait_idle)
    return best


def _time_once(fn, warmup, repeats, threads) -> dict:
    """One timed loop (see :func:`time_calls`), its warm-up at least ``_WARM_S`` long."""
    r = harness.timed_loop(fn, warmup, repeats, threads, warm_s=_WARM_S)
    return {k: r[k] for k in ("ms_median", "ms_min", "repeats", "bg_load")}


# ------------------------------------------------------------------------------- torch

def _torch_worker(in_path, out_path) -> int:
    """The ``--torch-worker`` process: build the level plan in torch, check, time."""
    data, cfg = harness.read_worker_input(in_path)
    torch = harness.import_torch(cfg["threads"])
    if torch is None:
        return harness.NO_TORCH
    if cfg.get("mode") == "naive_levels":
        result, timing = naive_levels.torch_worker(torch, data, cfg, time_calls)
        harness.write_worker_output(out_path, result, timing)
        return 0
    tdt = {"float32": torch.float32, "float64": torch.float64}[cfg["dtype"]]
    theta = np.concatenate([data["w"], data["b"]])
    acts = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu}
    levels, blocks = [], []
    for k, lv in enumerate(cfg["levels"]):
        blk = np.zeros(lv["shape"], dtype=theta.dtype)
        rows, cols, param = data[f"L{k}_rows"], data[f"L{k}_cols"], data[f"L{k}_param"]
        blk[rows, cols] = theta[param]
        B = torch.tensor(blk, dtype=tdt, requires_grad=True)
        blocks.append(B)
        src = (torch.arange(lv["r0"], lv["r1"]) if lv["kind"] == "range"
               else torch.from_numpy(data[f"L{k}_S"].astype(np.int64)))
        runs = [(a_i, z_i, acts[n]) for a_i, z_i, n in lv["acts"]]
        levels.append((lv["a"], lv["z"], src, B, runs))
    x = torch.from_numpy(data["x"])
    delta = torch.from_numpy(data["delta"])
    out_rows = data["out_rows"].astype(np.int64)
    R, nin = int(cfg["R"]), int(cfg["n_inputs"])
    # The values live in pieces (inputs, then each level followed by its constant-1 row),
    # never written in place: in-place writes into one big H would make autograd copy
    # the whole gradient of H at every level (quadratic). A level's sources are the
    # concatenation of the pieces its row range overlaps (narrowed), then, for a gather
    # level, an index_select.
    starts = [0, nin] + [v for lv in cfg["levels"] for v in (lv["a"], lv["z"])]
    starts = np.array(starts + [R])

    def cover(r0, r1):
        """(piece, offset, length) triples covering rows r0..r1-1."""
        out, r = [], r0
        while r < r1:
            p = int(np.searchsorted(starts, r, side="right") - 1)
            end = min(r1, int(starts[p + 1]))
            out.append((p, r - int(starts[p]), end - r))
            r = end
        return out

    plans = []
    for a, z, src, blk, act_runs in levels:
        if src.numel() and bool((src[1:] - src[:-1] == 1).all()):     # a range
            plans.append((cover(int(src[0]), int(src[-1]) + 1), None, blk, act_runs, a))
        else:
            lo, hi = int(src.min()), int(src.max()) + 1
            plans.append((cover(lo, hi), src - lo, blk, act_runs, a))
    out_cover = [(r, cover(int(r), int(r) + 1)[0]) for r in out_rows]

    def run(xt):
        ones = torch.ones(1, xt.shape[0], dtype=tdt)
        pieces = [xt.T, ones]
        for parts, idx, blk, act_runs, a in plans:
            srcs = [pieces[p].narrow(0, o, n) for p, o, n in parts]
            Hs = srcs[0] if len(srcs) == 1 else torch.cat(srcs, 0)
            if idx is not None:
                Hs = Hs.index_select(0, idx)
            pre = blk @ Hs                                          # (m, batch)
            if act_runs:
                segs, r = [], 0
                for a_i, z_i, f in act_runs:
                    if a_i - a > r:
                        segs.append(pre[r:a_i - a])
                    segs.append(f(pre[a_i - a:z_i - a]))
                    r = z_i - a
                if r < pre.shape[0]:
                    segs.append(pre[r:])
                pre = segs[0] if len(segs) == 1 else torch.cat(segs, 0)
            pieces += [pre, ones]
        return torch.cat([pieces[p].narrow(0, o, 1) for _, (p, o, _n) in out_cover], 0).T

    # the check: outputs, dE/dx and the block gradients of one pass
    xg = x.clone().requires_grad_(True)
    y = run(xg)
    (y * delta).sum().backward()
    result = {"y": y.detach().numpy(), "dx": xg.grad.numpy()}
    for k, blk in enumerate(blocks):
        result[f"g{k}"] = blk.grad.numpy()

    def fwd():
        with torch.no_grad():
            run(x)

    def fwd_bwd():
        for blk in blocks:
            blk.grad = None
        xg = x.clone().requires_grad_(True)
        (run(xg) * delta).sum().backward()

    kw = {"warmup": cfg["warmup"], "repeats": cfg["repeats"], "wait_idle": cfg["wait_idle"]}
    timing = {"forward": time_calls(fwd, **kw), "fwd_bwd": time_calls(fwd_bwd, **kw),
              "torch_version": torch.__version__, "torch_threads": torch.get_num_threads()}
    harness.write_worker_output(out_path, result, timing)
    return 0


def run_torch(spec, w, b, x, delta, *, warmup=3, repeats=20, threads=_DEFAULT_THREADS,
              wait_idle=0.0, timeout=900.0):
    """Check and time the exported level plan in torch, in a subprocess.

    Returns
    -------
    result : dict or None
        ``forward`` and ``fwd_bwd`` timings, ``y``, ``dx``, ``gw``, ``gb`` (mapped back to
        the parameter vector), ``torch_version``; None when torch is missing or failed.
    message : str
        Why torch was skipped ("" when it ran).
    """
    if not torch_available():
        return None, "torch is not installed: torch column skipped"
    cfg = {"threads": int(threads), "warmup": int(warmup), "repeats": int(repeats),
           "wait_idle": float(wait_idle),
           "dtype": str(np.dtype(x.dtype)), "R": int(spec["R"]), "n_inputs": spec["n_inputs"],
           "levels": [{k: (list(v) if k == "shape" else v) for k, v in lv.items()
                       if k in ("kind", "a", "z", "r0", "r1", "shape", "acts")}
                      for lv in spec["levels"]]}
    arrays = {"x": x, "delta": delta, "w": w, "b": b, "one_rows": spec["one_rows"],
              "out_rows": spec["out_rows"]}
    for k, lv in enumerate(spec["levels"]):
        arrays[f"L{k}_rows"], arrays[f"L{k}_cols"] = lv["rows"], lv["cols"]
        arrays[f"L{k}_param"] = lv["param"]
        if lv["kind"] == "gather":
            arrays[f"L{k}_S"] = lv["S"]
    out, msg = harness.run_worker(__file__, arrays, cfg, threads=threads, timeout=timeout,
                                  prefix="bench_graph_")
    if out is None:
        return None, msg
    res = out["timing"]
    g = np.zeros(spec["n_params"], dtype=np.float64)
    for k, lv in enumerate(spec["levels"]):
        g[lv["param"]] = out[f"g{k}"][lv["rows"], lv["cols"]]
    res.update(y=out["y"], dx=out["dx"], gw=g[:w.size], gb=g[w.size:])
    return res, ""


def run_torch_naive(naive, w, b, x, delta, *, warmup=3, repeats=20, threads=_DEFAULT_THREADS,
                    wait_idle=0.0, timeout=900.0):
    """As :func:`run_torch`, for the naive level plan (:class:`naive_levels.NaiveLevels`)
    run by torch: the dense-ish cases' torch column (an autograd level plan over pieces of
    ``H``, as :func:`run_torch` builds, copies every earlier row at every level there)."""
    if not torch_available():
        return None, "torch is not installed: torch column skipped"
    cfg = {"mode": "naive_levels", "threads": int(threads), "warmup": int(warmup),
           "repeats": int(repeats), "wait_idle": float(wait_idle)}
    out, msg = harness.run_worker(__file__, naive_levels.worker_arrays(naive, x, delta), cfg,
                                  threads=threads, timeout=timeout, prefix="bench_graph_")
    if out is None:
        return None, msg
    res = out["timing"]
    res.update(y=out["y"], dx=out["dx"], gw=out["gw"], gb=out["gb"])
    return res, ""


# ---------------------------------------------------------------------------- one case

def _maxdiff(a, b) -> float:
    return float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))))


def time_interleaved(fns, *, warmup=3, repeats=20, rounds=5, threads=None, wait_idle=0.0,
                     per_round=None) -> dict:
    """Time several callables in alternation: ``rounds`` rounds, each timing every one.

    A slow drift of the machine's speed (other jobs, clock changes) then affects all of
    them alike, which is what their ratios need. In each round each callable gets a
    warm-up (``warmup`` calls, at least 0.2 s / ``rounds``) and ``ceil(repeats / rounds)``
    timed calls (``per_round[name]`` overrides the count).

    Returns
    -------
    dict
        name -> ``ms_median``, ``ms_min``, ``repeats``, ``bg_load`` (as :func:`time_calls`).

    Examples
    --------
    >>> r = time_interleaved({"a": lambda: None, "b": lambda: None}, warmup=0, repeats=4,
    ...                      rounds=2)
    >>> sorted(r), r["a"]["repeats"]
    (['a', 'b'], 4)
    """
    if repeats < 1 or warmup < 0 or rounds < 1:
        raise ValueError(f"time_interleaved: need repeats, rounds >= 1 and warmup >= 0, got "
                         f"{repeats}, {rounds}, {warmup}")
    per_round = per_round or {}
    n_default = -(-repeats // rounds)
    times = {k: [] for k in fns}
    other = dict.fromkeys(fns, 0.0)
    wall = dict.fromkeys(fns, 0.0)
    with harness.thread_limit(threads):
        for _ in range(rounds):
            if wait_idle > 0:
                harness.wait_for_idle(wait_idle)
            for name, fn in fns.items():
                harness.warm_up(fn, warmup, _WARM_S / rounds)
                ts, bg_cpu, _, w = harness.timed_calls(fn, per_round.get(name, n_default))
                times[name] += ts
                if bg_cpu is not None:
                    other[name] += bg_cpu
                    wall[name] += w
    out = {}
    for name, ts in times.items():
        ms = [1e3 * t for t in ts]
        out[name] = {"ms_median": float(np.median(ms)), "ms_min": float(min(ms)),
                     "repeats": len(ms),
                     "bg_load": other[name] / wall[name] if wall[name] > 0 else None}
    return out


def bench_case(case, *, impls=_IMPLS, warmup=3, repeats=20, rounds=5, per_sample_n=16,
               per_sample_repeats=1, threads=_DEFAULT_THREADS, wait_idle=0.0, log=print) -> dict:
    """Check and time every implementation on one case (see :func:`make_case`).

    The in-process implementations are timed interleaved (:func:`time_interleaved`);
    torch runs in its own process afterwards.

    Returns
    -------
    dict
        ``case``, ``nodes``, ``edges``, ``depth``, ``kinds`` (forms the plan chose),
        ``batch``, ``results`` (one dict per implementation: ``impl``, ``forward`` and
        ``fwd_bwd`` timings (None where not applicable), ``scale``, ``timed_batch``,
        ``ratio_forward`` / ``ratio_fwd_bwd`` = its minimum time / the plan's), ``checks``
        (max abs differences against the plan), ``skipped`` (impl -> reason).
    """
    net, x, delta = case["net"], case["x"], case["delta"]
    dt = x.dtype
    B = x.shape[0]
    densish = case["spec"]["kind"] == "dense"
    memory = _peak_memory(net, x, delta) if densish else None
    layer = GraphLayer(net, dtype=dt)
    w, b = layer.params["w"], layer.params["b"]
    y_plan = layer.output(x)
    dx_plan = layer.backpropagate(delta)
    gw_plan, gb_plan = layer.grads["w"].copy(), layer.grads["b"].copy()
    out = {"case": case["name"], "spec": case["spec"], "nodes": net.n_nodes, "edges": net.n_edges,
           "depth": len(net.levels()), "kinds": dict(layer.plan._kind_counts()), "batch": B,
           "dtype": str(np.dtype(dt)), "results": [], "checks": {}, "skipped": {}}
    if memory is not None:
        out["memory"] = memory
        log(f"  peak memory (tracemalloc): compile {memory['compile_mb']:.1f} MB, "
            f"forward + backward {memory['run_mb']:.1f} MB")
    if densish:
        for impl in ("node_loop", "per_sample"):
            if impl in impls:
                out["skipped"][impl] = "not run on the dense-ish cases"
        impls = [i for i in impls if i not in ("node_loop", "per_sample")]
    fns, meta, per_round = {}, [], {}

    def fb_plan():
        layer.output(x)
        layer.backpropagate(delta)

    fns["plan/fwd"], fns["plan/fb"] = (lambda: layer.output(x)), fb_plan
    meta.append(("plan", {}))

    if "dense_mlp" in impls and case.get("full") is not None:
        sizes = list(case["spec"]["sizes"])
        dense = []
        for k, (Wk, bk) in enumerate(layered_blocks(case["full"], sizes)):
            last = k == len(sizes) - 2
            d = Dense(sizes[k], sizes[k + 1], activation="identity" if last else "tanh", dtype=dt)
            d.params["W"][...] = Wk
            d.params["b"][...] = bk
            dense.append(d)

        def fwd_dense():
            h = x
            for d in dense:
                h = d.output(h)
            return h

        def fb_dense():
            fwd_dense()
            g = delta
            for d in reversed(dense):
                g = d.backpropagate(g)

        fns["dense_mlp/fwd"], fns["dense_mlp/fb"] = fwd_dense, fb_dense
        meta.append(("dense_mlp", {"note": "unthinned weights"}))

    refs = {"naive_levels": lambda: naive_levels.NaiveLevels(net, w, b) if densish else None,
            "node_loop": lambda: NodeLoop(net, w, b)}
    for impl, make in refs.items():                       # forward() and backward() each
        ref = make() if impl in impls else None
        if ref is None:
            continue
        y = ref.forward(x)
        dx, gw, gb = ref.backward(delta)
        out["checks"][impl] = max(_maxdiff(y, y_plan), _maxdiff(dx, dx_plan),
                                  _maxdiff(gw, gw_plan), _maxdiff(gb, gb_plan))

        def fb_ref(ref=ref):
            ref.forward(x)
            ref.backward(delta)

        fns[f"{impl}/fwd"], fns[f"{impl}/fb"] = (lambda ref=ref: ref.forward(x)), fb_ref
        meta.append((impl, {}))

    n_ps = min(per_sample_n, B)
    if "per_sample" in impls:
        ps = PerSample(net, w, b)
        xs = x[:n_ps]
        out["checks"]["per_sample"] = _maxdiff(ps.forward(xs), y_plan[:n_ps])
        fns["per_sample/fwd"] = lambda: ps.forward(xs)
        per_round["per_sample/fwd"] = max(1, -(-per_sample_repeats // rounds))
        meta.append(("per_sample", {}))

    timed = time_interleaved(fns, warmup=warmup, repeats=repeats, rounds=rounds,
                             threads=threads, wait_idle=wait_idle, per_round=per_round)
    for impl, extra in meta:
        r = {"impl": impl, "forward": timed[f"{impl}/fwd"], "fwd_bwd": timed.get(f"{impl}/fb"),
             "scale": 1.0, "timed_batch": B, "batch": B, **extra}
        if impl == "per_sample":                             # scaled to the batch
            scale = B / n_ps
            t = r["forward"]
            r.update(scale=scale, timed_batch=n_ps,
                     forward={**t, "ms_median": t["ms_median"] * scale,
                              "ms_min": t["ms_min"] * scale})
        out["results"].append(r)

    if "torch" in impls:
        run = run_torch_naive if densish else run_torch
        arg = naive_levels.NaiveLevels(net, w, b) if densish else export_plan(layer.plan, w, b)
        res, why = run(arg, w, b, x, delta, warmup=warmup, repeats=repeats,
                       threads=threads, wait_idle=wait_idle)
        if res is None:
            out["skipped"]["torch"] = why
            log(f"  torch skipped: {why}")
        else:
            out["checks"]["torch"] = max(_maxdiff(res["y"], y_plan), _maxdiff(res["dx"], dx_plan),
                                         _maxdiff(res["gw"], gw_plan), _maxdiff(res["gb"], gb_plan))
            out["results"].append({
                "impl": "torch", "forward": res["forward"], "fwd_bwd": res["fwd_bwd"],
                "scale": 1.0, "timed_batch": B, "batch": B,
                "torch_version": res["torch_version"], "torch_threads": res["torch_threads"]})

    base = out["results"][0]
    for r in out["results"]:
        for key in ("forward", "fwd_bwd"):
            r[f"ratio_{key}"] = (r[key]["ms_min"] / base[key]["ms_min"]
                                 if r[key] is not None else None)
    for impl, diff in out["checks"].items():
        log(f"  check {impl} vs plan: max abs diff {diff:.2e}")
    return out


def _peak_memory(net, x, delta) -> dict:
    """Peak traced memory (MB) of compiling ``net``'s plan, and of one forward + backward."""
    tracemalloc.start()
    try:
        layer = GraphLayer(net, dtype=x.dtype)
        compile_mb = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        layer.output(x)
        layer.backpropagate(delta)
        run_mb = (tracemalloc.get_traced_memory()[1] - base) / 2**20
    finally:
        tracemalloc.stop()
    return {"compile_mb": compile_mb, "run_mb": run_mb, "edges": net.n_edges,
            "nodes_x_batch": net.n_nodes * x.shape[0]}


# ----------------------------------------------------------------------------- reports

def format_table(outs) -> str:
    """The results: case, implementation, ms (min and median), ratio to the plan, load.

    Ratios use the minimum times (the least disturbed runs).

    Examples
    --------
    >>> t = {"ms_median": 2.0, "ms_min": 1.5, "repeats": 3, "bg_load": 0.0}
    >>> r = {"impl": "plan", "forward": t, "fwd_bwd": t, "scale": 1.0, "timed_batch": 4,
    ...      "batch": 4, "ratio_forward": 1.0, "ratio_fwd_bwd": 1.0}
    >>> print(format_table([{"case": "c", "results": [r]}]))  # doctest: +NORMALIZE_WHITESPACE
    case  impl  fwd ms (min)  fwd ms (med)  fwd+bwd ms (min)  fwd+bwd ms (med)  fwd / plan  fwd+bwd / plan  bg load  note
    c     plan  1.500         2.000         1.500             2.000             1.00x       1.00x           0.00
    """
    header = ["case", "impl", "fwd ms (min)", "fwd ms (med)", "fwd+bwd ms (min)",
              "fwd+bwd ms (med)", "fwd / plan", "fwd+bwd / plan", "bg load", "note"]
    rows = []
    for out in outs:
        for r in out["results"]:
            f, fb = r["forward"], r["fwd_bwd"]
            note = r.get("note", "")
            if r["timed_batch"] != r["batch"]:
                note = (note + "; " if note else "") + \
                    f"timed on {r['timed_batch']} samples, scaled x{r['scale']:g}"
            if fb is None:
                note = (note + "; " if note else "") + "forward only"
            loads = [t["bg_load"] for t in (f, fb) if t is not None and t["bg_load"] is not None]
            rows.append([
                out["case"], r["impl"], f"{f['ms_min']:.3f}", f"{f['ms_median']:.3f}",
                f"{fb['ms_min']:.3f}" if fb else "-", f"{fb['ms_median']:.3f}" if fb else "-",
                f"{r['ratio_forward']:.2f}x", f"{r['ratio_fwd_bwd']:.2f}x" if fb else "-",
                f"{max(loads):.2f}" if loads else "-", note])
    widths = [max(len(h), *(len(row[k]) for row in rows)) if rows else len(h)
              for k, h in enumerate(header)]
    lines = ["  ".join(h.ljust(wd) for h, wd in zip(header, widths)).rstrip()]
    lines += ["  ".join(c.ljust(wd) for c, wd in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines)


def check_aims(outs) -> list:
    """The aims as (description, measured, met) triples (None where not measured).

    Examples
    --------
    >>> t = {"ms_min": 1.0, "ms_median": 1.0, "repeats": 1, "bg_load": None}
    >>> plan = {"impl": "plan", "forward": t, "fwd_bwd": t, "ratio_forward": 1.0,
    ...         "ratio_fwd_bwd": 1.0}
    >>> dense = dict(plan, impl="dense_mlp", ratio_forward=0.9, ratio_fwd_bwd=0.95)
    >>> [(a, round(m, 2), ok) for a, m, ok in check_aims([{"case": "mlp30", "results": [plan, dense]}])]
    [('mlp30: plan / dense MLP, forward <= 1.2', 1.11, True), ('mlp30: plan / dense MLP, fwd+bwd <= 1.2', 1.05, True)]
    """
    aims = []
    for out in outs:
        res = {r["impl"]: r for r in out["results"]}
        name = out["case"]
        if "dense_mlp" in res:
            for key, label in (("forward", "forward"), ("fwd_bwd", "fwd+bwd")):
                m = 1.0 / res["dense_mlp"][f"ratio_{key}"]
                aims.append((f"{name}: plan / dense MLP, {label} <= 1.2", m, m <= 1.2))
        if out.get("spec", {}).get("kind") == "dense":
            for ref, label, bound in (("naive_levels", "naive level plan", 0.6),
                                      ("torch", "torch level plan", 0.5)):
                for key, what in (("forward", "forward"), ("fwd_bwd", "fwd+bwd")):
                    if ref in res:
                        m = 1.0 / res[ref][f"ratio_{key}"]
                        aims.append((f"{name}: plan / {label}, {what} <= {bound}", m,
                                     m <= bound))
            continue
        if not name.startswith("dag"):
            continue
        if "torch" in res:
            for key, label in (("forward", "forward"), ("fwd_bwd", "fwd+bwd")):
                m = res["torch"][f"ratio_{key}"]
                aims.append((f"{name}: torch level plan / plan, {label} > 1", m, m > 1.0))
        if "per_sample" in res:
            m = res["per_sample"]["ratio_forward"]
            aims.append((f"{name}: per-sample / plan, forward >= 100", m, m >= 100.0))
        if "node_loop" in res and out.get("nodes", 0) >= 2000:
            for key, label in (("forward", "forward"), ("fwd_bwd", "fwd+bwd")):
                m = res["node_loop"][f"ratio_{key}"]
                aims.append((f"{name}: node loop / plan, {label} >= 2", m, m >= 2.0))
    return aims


def _calibrate(args) -> int:
    """``--calibrate OUT``: measure the cost constants (median of 5), write and print them."""
    from graphnet.graph._calibrate import measure
    from graphnet.graph._cost import DEFAULTS

    runs = [measure(quick=args.quick, batch=args.batch, seed=args.seed, threads=1)
            for _ in range(1 if args.quick else 5)]
    consts = {k: float(np.median([r[k] for r in runs])) for k in runs[0]}
    print("cost model constants (ns; median of %d calibrations, 1 BLAS thread):" % len(runs))
    for k, v in consts.items():
        print(f"  {k:9s} {v:12.4f}   (shipped default {DEFAULTS[k]:g})")
    payload = {"constants": consts, "runs": runs,
               "environment": harness.environment(args.threads)}
    Path(args.calibrate).write_text(json.dumps(payload, indent=1,
                                               default=harness.json_default))
    print(f"written to {args.calibrate}; use it with GRAPHNET_COST_FILE={args.calibrate}")
    return 0


def _parse_args(argv):
    p = argparse.ArgumentParser(
        prog="bench_graph.py",
        description="Time graphnet's compiled graph execution (forward, forward+backward) "
                    "against a per-node loop, per-sample evaluation, torch and a dense MLP.")
    p.add_argument("--cases", default=",".join(CASES),
                   help=f"comma-separated, from {list(CASES)} (default: all)")
    p.add_argument("--impls", default=",".join(_IMPLS),
                   help=f"comma-separated, from {list(_IMPLS)} (default: all)")
    p.add_argument("--no-torch", action="store_true", help="skip the torch column")
    p.add_argument("--threads", type=int, default=_DEFAULT_THREADS,
                   help="BLAS/OpenMP threads for numpy and torch (default 2)")
    p.add_argument("--batch", type=int, default=_BATCH)
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    p.add_argument("--warmup", type=int, default=None, help="untimed calls (default 5)")
    p.add_argument("--repeats", type=int, default=None, help="timed calls (default 50)")
    p.add_argument("--per-sample-n", type=int, default=None,
                   help="samples for per-sample evaluation (default 32; scaled to the batch)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true",
                   help="smoke run: 1 warm-up, 3 repeats, per-sample on 4 samples")
    p.add_argument("--calibrate", metavar="OUT", default=None,
                   help="measure the cost model's constants on this machine, write them to "
                        "OUT (JSON; GRAPHNET_COST_FILE=OUT makes the plan compiler use "
                        "them) and stop")
    harness.add_common_options(p)
    args = p.parse_args(argv)
    if args.threads < 1:
        p.error(f"--threads must be at least 1, got {args.threads}")
    cases = [c for c in args.cases.split(",") if c]
    bad = [c for c in cases if c not in CASES]
    if bad or not cases:
        p.error(f"--cases: unknown {bad}; choose from {list(CASES)}")
    impls = [i for i in args.impls.split(",") if i]
    bad = [i for i in impls if i not in _IMPLS]
    if bad or "plan" not in impls:
        p.error(f"--impls: unknown {bad} or no 'plan'; choose from {list(_IMPLS)}")
    if args.no_torch:
        impls = [i for i in impls if i != "torch"]
    args.cases, args.impls = cases, impls
    harness.check_counts(p, args, ("warmup", "repeats", "per_sample_n", "batch"))
    return args


def main(argv=None) -> int:
    """Command-line entry point; returns the exit status.

    Examples
    --------
    >>> main(["--quick", "--cases", "dag100", "--impls", "plan,node_loop"])  # doctest: +ELLIPSIS
    graphnet graph-execution benchmark...
    0
    """
    args = _parse_args(sys.argv[1:] if argv is None else argv)
    if args.torch_worker:
        return _torch_worker(*args.torch_worker)
    if args.calibrate:
        return _calibrate(args)
    quick = args.quick
    warmup = args.warmup if args.warmup is not None else (1 if quick else 5)
    repeats = args.repeats if args.repeats is not None else (3 if quick else 50)
    per_n = args.per_sample_n or (4 if quick else 32)
    dtype = np.dtype(args.dtype)
    env = harness.environment(args.threads)
    print(f"graphnet graph-execution benchmark: batch {args.batch}, {args.dtype}, "
          f"{args.threads} thread(s); numpy {env['numpy']}, python {env['python']}, "
          f"{env['cpu_count']} CPUs")
    outs = []
    for name in args.cases:
        case = make_case(name, CASES[name], seed=args.seed, batch=args.batch, dtype=dtype)
        net = case["net"]
        print(f"\n{name}: {net.n_nodes} nodes, {net.n_edges} edges, depth {len(net.levels())}")
        out = bench_case(case, impls=args.impls, warmup=warmup, repeats=repeats,
                         rounds=1 if quick else 5, per_sample_n=per_n,
                         per_sample_repeats=1 if quick else 5,
                         threads=args.threads, wait_idle=args.wait_idle)
        print(f"  plan forms: {out['kinds']}")
        outs.append(out)
    print()
    print(format_table(outs))
    aims = check_aims(outs)
    if aims:
        print("\naims:")
        for text, measured, ok in aims:
            print(f"  {'met    ' if ok else 'NOT met'}  {text}: {measured:.2f}")
    torch_r = next((r for o in outs for r in o["results"] if r["impl"] == "torch"), None)
    if torch_r:
        print(f"torch {torch_r['torch_version']}, {torch_r['torch_threads']} threads")
    if args.json:
        payload = {"environment": env, "settings": {"batch": args.batch, "dtype": args.dtype,
                                                    "warmup": warmup, "repeats": repeats,
                                                    "per_sample_n": per_n, "seed": args.seed,
                                                    "wait_idle": args.wait_idle},
                   "cases": outs,
                   "aims": [{"aim": a, "measured": m, "met": ok} for a, m, ok in aims]}
        Path(args.json).write_text(json.dumps(payload, indent=1, default=harness.json_default))
        print(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
