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
    reverse. Each level is compiled to one of three equivalent forms, chosen by a cost
    model from the level's shape (``strategy="auto"``):

    ``range``
        a dense block product ``W[S, L]^T @ H[r0:r1]`` over a contiguous range of rows of
        the node-major value array (no copy; a layered MLP's levels are exactly this);
    ``gather``
        a dense block product over the gathered source rows ``H[S]`` (small, dense-ish
        blocks: deep graphs with a few nodes per level);
    ``edge``
        an edge list: the level's in-edges padded per destination (ELLPACK layout, nodes
        bucketed by in-degree), ``H[src]`` gathered, multiplied by the weights and summed
        per destination with one batched product per bucket; backward scatters with the
        same layout grouped by source. Work ~ number of edges (sparse, wide levels).

    Gradients exist only for existing edges: the weight parameter is the vector of edge
    weights, in ``net.edges()`` order; training never creates an edge.

Recurrent mode
    All non-input nodes update together for ``T = steps`` steps with the input nodes held
    at the data: ``H_0`` = inputs placed, others 0; ``H_{t+1}[non-inputs] =
    act(H_t @ W + b)[non-inputs]``; the outputs are ``H_T[outputs]``. Backward is
    backpropagation through time over the cached ``H_0 .. H_T``. One step is a dense
    product or the edge-list form, whichever the cost model finds cheaper.

Nodes that no input reaches still compute (``act(b)`` in feedforward mode); the plan
records ``unreachable``, ``dead_ends``, ``sinks`` and ``cycles`` so callers can report them.

Layout. The values live in a node-major array ``H`` of shape ``(rows, batch)``: the inputs,
a row holding the constant 1, then (feedforward) each level followed by its own constant
row (recurrent: all non-input nodes). Biases are weights on edges from a constant row, so
a level's sources and one constant row form one contiguous range and the bias costs no
extra operation (``Plan.rows`` gives each node's row). A ``range`` level that reads
inputs reads them straight from the batch ``x`` (no transposed copy) unless another form
needs the inputs as rows. Buffers and their per-level views are built once per (batch
size, dtype) and reused, so the hot loops only call numpy; outputs and gradients are
always returned as new arrays.
"""

from __future__ import annotations

import numbers

import numpy as np

from graphnet.core.layers import Layer, Softmax
from graphnet.core.model import Sequential
from graphnet.errors import InputError, InputTypeError
from graphnet.graph.network import GraphNetwork

__all__ = ["Plan", "compile_plan", "GraphLayer", "forward", "graph_model", "STRATEGIES"]

STRATEGIES = ("auto", "dense", "edge", "range", "gather")
_FORMS = ("range", "gather", "edge")

_ACT_CODES = {"identity": 0, "tanh": 1, "sigmoid": 2, "relu": 3}
_RANGE, _GATHER, _EDGE, _RANGE_X = 0, 1, 2, 3

# The cost model that picks a level's form. Figures in nanoseconds, measured with numpy +
# OpenBLAS on one core of an x86-64 machine at the nominal batch; only their ratios matter.
_NOMINAL_BATCH = 256
_CALL_NS = 1500.0     # fixed cost of one numpy call from Python
_MM_NS = 0.06         # one multiply-add of a dense (BLAS) block product
_GATHER_NS = 0.7      # one element gathered by fancy indexing
_BMM_NS = 0.5         # one element of a batched (ELL) product
_EW_NS = 0.4          # one element of an elementwise operation


def _is_int(x) -> bool:
    """True for an integer that is not a bool."""
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def _check_dtype(dtype, where: str) -> np.dtype:
    """float32 or float64, else InputTypeError."""
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise InputTypeError(f"{where}: dtype must be float32 or float64, got {dtype!r}") from exc
    if dt.type not in (np.float32, np.float64):
        raise InputTypeError(f"{where}: dtype must be float32 or float64, got {dt}")
    return dt


# ----------------------------------------------------------------------------------------
# compile-time helpers
# ----------------------------------------------------------------------------------------


def _buckets(degrees) -> list:
    """Split items by degree into buckets, each padded to its largest degree.

    Powers of two first (padding at most doubles the work), then adjacent buckets are
    merged while one call fewer saves more than the extra padding costs.

    Returns a list of (item indices, padded degree), ascending degree.
    """
    degrees = np.asarray(degrees)
    order = np.argsort(degrees, kind="stable")
    cls = np.ceil(np.log2(np.maximum(degrees[order], 1))).astype(np.int64)
    out = [(order[cls == c], 0) for c in np.unique(cls)]
    out = [(g, int(degrees[g].max())) for g, _ in out]
    per_el = _NOMINAL_BATCH * (2 * _GATHER_NS + 2 * _BMM_NS)
    merged = True
    while merged and len(out) > 1:
        merged = False
        for k in range(len(out) - 1):
            (ga, da), (gb, db) = out[k], out[k + 1]
            d = max(da, db)
            extra = (len(ga) * (d - da) + len(gb) * (d - db)) * per_el
            if extra < 4 * _CALL_NS:
                out[k:k + 2] = [(np.concatenate([ga, gb]), d)]
                merged = True
                break
    return out


def _runs(codes, start: int) -> tuple:
    """Maximal runs of equal activation codes as (first row, stop row, code), identity dropped."""
    runs, k, m = [], 0, len(codes)
    while k < m:
        j = k
        while j < m and codes[j] == codes[k]:
            j += 1
        if codes[k] != 0:
            runs.append((start + k, start + j, int(codes[k])))
        k = j
    return tuple(runs)


def _ell_cost(fw_degrees, bw_degrees) -> float:
    """Estimated forward + backward cost (ns) of the edge-list form of a level."""
    B = _NOMINAL_BATCH
    cost = 0.0
    for g, d in _buckets(fw_degrees):
        cost += 4 * _CALL_NS + len(g) * d * B * (_GATHER_NS + 2 * _BMM_NS)
    if len(bw_degrees):
        for g, d in _buckets(bw_degrees):
            cost += 5 * _CALL_NS + len(g) * d * B * (_GATHER_NS + _BMM_NS) \
                + len(g) * B * (3 * _GATHER_NS + _EW_NS)
    return cost


def _block_cost(m: int, cols: int, *, gather: bool) -> float:
    """Estimated forward + backward cost (ns) of a dense block product (m x cols)."""
    B = _NOMINAL_BATCH
    cost = 4 * _CALL_NS + 3 * m * cols * B * _MM_NS + cols * B * _EW_NS
    if gather:  # H[S] forward; dH[S] += ... backward (a take, an add and a put)
        cost += 4 * _CALL_NS + 4 * cols * B * _GATHER_NS
    return cost


class _Builder:
    """Collects the parameter maps of a plan while its levels are compiled."""

    def __init__(self, zero: int):
        self.zero = zero                 # index of the always-0 slot of the parameter vector
        self.bpos, self.bpidx = [], []   # dense block entry -> parameter index
        self.spans = {}                  # block offset -> its (first, stop) in bpos
        self.n_block = 0
        self.fidx = []                   # ELL forward entry -> parameter index (pads: zero)
        self.bwpos = []                  # ELL backward entry -> ELL forward entry (pads: -1)

    def add_block(self, m: int, cols: int, entries) -> int:
        """Reserve an m x cols block; entries are (row, col, parameter index)."""
        off = self.n_block
        start = len(self.bpos)
        for r, c, p in entries:
            self.bpos.append(off + r * cols + c)
            self.bpidx.append(p)
        self.spans[off] = (start, len(self.bpos))
        self.n_block += m * cols
        return off

    def split_block(self, off: int, m: int, cols: int, ni: int) -> None:
        """Re-lay an m x cols block as an m x ni block followed by an m x (cols - ni) one."""
        start, end = self.spans[off]
        for k in range(start, end):
            r, c = divmod(self.bpos[k] - off, cols)
            self.bpos[k] = (off + r * ni + c if c < ni
                            else off + m * ni + r * (cols - ni) + c - ni)


def _compile_edge_level(b: _Builder, nodes, a, row_of, in_lists, bparam, codes, one):
    """Rows and ELL index arrays of an edge-list level; assigns ``row_of`` of its nodes.

    Forward: the level's nodes are bucketed by in-degree (+ 1 for the bias, an edge from
    the constant row ``one``); bucket ``(k nodes, padded degree d)`` holds a (k, d) table
    of source rows and of weights (pads: source ``one``, weight 0). Backward: the real
    edges grouped by source the same way, so that the scatter to the sources is again a
    gather and a batched product, with no repeated index.
    """
    nodes = np.asarray(nodes)
    deg = np.array([len(in_lists[v][0]) + 1 for v in nodes])
    row = a
    fw, entries = [], []
    for g, d in _buckets(deg):
        members = nodes[g]
        members = members[np.lexsort((members, codes[members]))]
        k = len(members)
        row_of[members] = row + np.arange(k)
        fw.append([row, row + k, members, k, d])
        row += k
    fw_out = []
    for a_b, z_b, members, k, d in fw:
        pidx = np.full((k, d), b.zero, dtype=np.int64)
        srcn = np.full((k, d), -1, dtype=np.int64)
        for i, v in enumerate(members):
            srcs, eids = in_lists[v]
            pidx[i, 0] = bparam[v]
            pidx[i, 1:1 + len(eids)] = eids
            srcn[i, 1:1 + len(srcs)] = srcs
        woff = len(b.fidx)
        b.fidx.extend(pidx.ravel().tolist())
        fw_out.append((a_b, z_b, srcn, k, d, woff))
        for i, v in enumerate(members):
            for j, u in enumerate(in_lists[v][0]):
                entries.append((int(u), a_b + i, woff + i * d + 1 + j))
    order = np.concatenate([m for _, _, m, _, _ in fw])
    return fw_out, entries, order


def _finish_edge_level(b: _Builder, fw_out, entries, row_of, a, one):
    """Resolve the source rows of the forward buckets; build the by-source buckets."""
    fw = []
    for a_b, z_b, srcn, k, d, woff in fw_out:
        rows = np.where(srcn >= 0, row_of[np.maximum(srcn, 0)], one).astype(np.intp)
        fw.append((a_b, z_b, rows.ravel(), k, d, woff))
    bw = []
    if entries:
        src_rows = np.array([row_of[u] for u, _, _ in entries])
        dst_rows = np.array([r for _, r, _ in entries])
        pos = np.array([p for _, _, p in entries])
        order = np.argsort(src_rows, kind="stable")
        src_rows, dst_rows, pos = src_rows[order], dst_rows[order], pos[order]
        usrc, starts, counts = np.unique(src_rows, return_index=True, return_counts=True)
        for g, d in _buckets(counts):
            U = len(g)
            drow = np.full((U, d), a, dtype=np.intp)      # pads read any row, weight 0
            fpos = np.full((U, d), -1, dtype=np.int64)
            for i, s in enumerate(g):
                c, st = counts[s], starts[s]
                drow[i, :c] = dst_rows[st:st + c]
                fpos[i, :c] = pos[st:st + c]
            off = len(b.bwpos)
            b.bwpos.extend(fpos.ravel().tolist())
            bw.append((usrc[g].astype(np.intp), drow.ravel(), U, d, off))
    return tuple(fw), tuple(bw)


class _Cache:
    """What :meth:`Plan.forward` hands to :meth:`Plan.backward`."""

    __slots__ = ("plan", "work", "gen", "x", "params")

    def __init__(self, plan, work, gen, x, params):
        self.plan, self.work, self.gen, self.x, self.params = plan, work, gen, x, params


class _Work:
    """Buffers and prebuilt views for one (batch size, dtype): the hot loops only call numpy.

    ``gen`` counts the forward passes run in these buffers; a cache from an older pass is
    recomputed before its backward (correct, just slower).
    """

    def __init__(self, plan, B: int, dt):
        self.B, self.dt, self.gen = B, dt, 0
        R, nin, T = plan._R, plan.n_inputs, plan.steps
        self.blocks = np.zeros(plan._n_block, dtype=dt)
        self.ellw = np.zeros(len(plan._fidx), dtype=dt)
        self.gall = np.zeros(plan._n_block + len(plan._fidx), dtype=dt)
        self.gblocks = self.gall[:plan._n_block]                # dE/d(block entries)
        self.gellw = self.gall[plan._n_block:]                  # dE/d(ELL entries)
        self.bwts = np.zeros(len(plan._bwpos), dtype=dt)
        self.ones = np.ones(B, dtype=dt)
        recurrent = plan.mode == "recurrent"
        if recurrent:
            self.Hs = np.zeros((T + 1, R, B), dtype=dt)       # H_0 .. H_T
            self.Hs[:, plan._one_rows] = 1
            self.D = np.zeros((2, R, B), dtype=dt)            # dE/dH_t, dE/dH_{t-1}
            self.dx = np.zeros((nin, B), dtype=dt)
            self.x_view = self.Hs[:, :nin]                    # inputs held at every step
            last = self.Hs[T]
            pairs = [(self.Hs[t], self.Hs[t + 1]) for t in range(T)]
            self.fw = [self._fw(plan, st, Hin, Hout) for st in plan._steps for Hin, Hout in pairs]
            self.bw = {t: [self._bw(plan, st, self.Hs[t - 1], self.Hs[t], self.D[t % 2],
                                    self.D[(t - 1) % 2], True, (False, False))
                           for st in plan._steps]
                       for t in range(1, T + 1)}
            self.dcur_T = self.D[T % 2]
        else:
            self.H = np.zeros((R, B), dtype=dt)               # node-major values
            self.H[plan._one_rows] = 1                        # never written by a level
            self.dH = np.zeros((R, B), dtype=dt)
            self.x_view = self.H[:nin] if plan._need_xT else None
            last = self.H
            self.fw = [self._fw(plan, st, self.H, self.H) for st in plan._steps]
            self.bw = [self._bw(plan, st, self.H, self.H, self.dH, self.dH, False, fl)
                       for st, fl in zip(plan._steps, plan._assign)]
            self.dH_zero = [self.dH[a:z] for a, z in plan._zero_runs]
            self.dx_view = self.dH[:nin]
            self.dout_view = self.dH[plan._out_slice] if plan._out_slice is not None else None
        self.saved = [None] * len(self.fw)
        self.out_view = last[plan._out_slice] if plan._out_slice is not None else None
        self.last = last

    def _fw(self, plan, step, Hin, Hout):
        kind, a, z, acts, data = step
        act_views = tuple((Hout[a_i:z_i], code) for a_i, z_i, code in acts)
        if kind == _RANGE:
            r0, r1, boff, cols = data
            blk = self.blocks[boff:boff + (z - a) * cols].reshape(z - a, cols)
            return (_RANGE, blk, Hin[r0:r1], Hout[a:z], act_views, Hin)
        if kind == _RANGE_X:
            r0, r1, boff, cols, ni = data
            m = z - a
            blk_in = self.blocks[boff:boff + m * ni].reshape(m, ni)
            blk_h = self.blocks[boff + m * ni:boff + m * cols].reshape(m, cols - ni)
            rest = None if cols - ni == 1 else Hin[r0 + ni:r1]   # None: only the bias row
            return (_RANGE_X, blk_in, slice(r0, r0 + ni), Hout[a:z], act_views, (blk_h, rest))
        if kind == _GATHER:
            S, boff, cols = data
            blk = self.blocks[boff:boff + (z - a) * cols].reshape(z - a, cols)
            return (_GATHER, blk, S, Hout[a:z], act_views, Hin)
        buckets = tuple((self.ellw[woff:woff + k * d].reshape(k, 1, d), src, (k, d, self.B),
                         Hout[a_b:z_b, None])
                        for a_b, z_b, src, k, d, woff in data[0])
        return (_EDGE, buckets, None, None, act_views, Hin)

    def _bw(self, plan, step, Hin, Hout, dcur, dprev, acc, assign):
        """Backward views of one level. ``assign`` = (write dE/dx columns, write dE/dH
        source rows) instead of adding: the first contribution to them (see Plan)."""
        kind, a, z, acts, data = step
        dacts = tuple((dcur[a_i:z_i], Hout[a_i:z_i], code) for a_i, z_i, code in acts)
        dz = dcur[a:z]
        if kind == _RANGE:
            r0, r1, boff, cols = data
            n = (z - a) * cols
            blk = self.blocks[boff:boff + n].reshape(z - a, cols)
            gblk = self.gblocks[boff:boff + n].reshape(z - a, cols)
            return (_RANGE, dz, dacts, gblk, Hin[r0:r1].T, blk.T, dprev[r0:r1], assign[1])
        if kind == _RANGE_X:
            r0, r1, boff, cols, ni = data
            m = z - a
            n_in = m * ni
            blk_in = self.blocks[boff:boff + n_in].reshape(m, ni)
            gblk_in = self.gblocks[boff:boff + n_in].reshape(m, ni)
            blk_h = self.blocks[boff + n_in:boff + m * cols].reshape(m, cols - ni)
            gblk_h = self.gblocks[boff + n_in:boff + m * cols].reshape(m, cols - ni)
            if cols - ni == 1:                                 # only the bias row
                rest = (gblk_h[:, 0], self.ones, None, None, False)
            else:
                rest = (gblk_h, Hin[r0 + ni:r1].T, blk_h.T, dprev[r0 + ni:r1], assign[1])
            return (_RANGE_X, dz, dacts, gblk_in, slice(r0, r0 + ni), blk_in, rest, assign[0])
        if kind == _GATHER:
            S, boff, cols = data
            n = (z - a) * cols
            blk = self.blocks[boff:boff + n].reshape(z - a, cols)
            gblk = self.gblocks[boff:boff + n].reshape(z - a, cols)
            return (_GATHER, dz, dacts, gblk, S, blk.T, dprev, False)
        fw, bw = data
        fwv = tuple((dcur[a_b:z_b, :, None], self.gellw[woff:woff + k * d].reshape(k, d, 1))
                    for a_b, z_b, src, k, d, woff in fw)
        bwv = tuple((drow, (U, d, self.B), self.bwts[off:off + U * d].reshape(U, 1, d), usrc,
                     (U, self.B))
                    for usrc, drow, U, d, off in bw)
        return (_EDGE, dz, dacts, fwv, bwv, dcur, dprev, False)


def _apply_acts(acts):
    """In place: the activation of each run of rows."""
    for v, code in acts:
        if code == 1:
            np.tanh(v, out=v)
        elif code == 3:
            np.maximum(v, 0, out=v)
        else:  # sigmoid(x) = (1 + tanh(x / 2)) / 2: no overflow, no branch
            v *= 0.5
            np.tanh(v, out=v)
            v *= 0.5
            v += 0.5


def _apply_dacts(dacts):
    """In place: dE/d(pre) = dE/d(out) * act'(out), the derivative written through the output."""
    for g, o, code in dacts:
        if code == 1:                        # tanh' = 1 - o^2
            t = o * o
            np.subtract(1, t, out=t)
            g *= t
        elif code == 3:                      # relu' = [o > 0]
            np.multiply(g, o > 0, out=g)
        else:                                # sigmoid' = o (1 - o)
            t = 1 - o
            t *= o
            g *= t


def _run_forward(fw, saved, x):
    """Run prebuilt forward steps (see :class:`_Work`) in order; ``x`` is the batch."""
    for i, (kind, p1, p2, out, acts, Hin) in enumerate(fw):
        if kind == _RANGE:
            np.matmul(p1, p2, out=out)                        # W[S, L]^T @ H[r0:r1]
        elif kind == _RANGE_X:                                # inputs read from x itself
            np.matmul(p1, x[:, p2].T, out=out)
            blk_h, rest = Hin
            if rest is None:
                out += blk_h                                  # + b
            else:
                out += blk_h @ rest
        elif kind == _GATHER:
            Hs = Hin[p2]                                      # (|S|, batch)
            np.matmul(p1, Hs, out=out)
            saved[i] = Hs
        else:
            gs = []
            for wv, src, shape, outv in p1:
                g = Hin[src].reshape(shape)                   # (k, d, batch)
                np.matmul(wv, g, out=outv)                    # sum_j w[i, j] H[src[i, j]]
                gs.append(g)
            saved[i] = gs
        if acts:
            _apply_acts(acts)


def _run_backward(bw, x, dx, acc):
    """Run prebuilt backward steps in the order given (already reversed for feedforward).

    ``x``, ``dx`` (batch, n_inputs): the batch and its gradient (None: not wanted), for
    the levels that read the inputs straight from ``x``. ``acc``: add the parameter
    gradients (recurrent steps) instead of writing them. A step's ``assign`` flag: its
    contribution to the sources is the first one, so it is written rather than added.
    """
    for (kind, dz, dacts, p1, p2, p3, p4, assign), sv in bw:
        if dacts:
            _apply_dacts(dacts)
        if kind == _RANGE:
            if acc:
                p1 += dz @ p2
            else:
                np.matmul(dz, p2, out=p1)                     # dE/dW = dz @ H[r0:r1]^T
            if assign:
                np.matmul(p3, dz, out=p4)                     # dE/dH[r0:r1] = W @ dz
            else:
                p4 += p3 @ dz
        elif kind == _RANGE_X:
            np.matmul(dz, x[:, p2], out=p1)                   # dE/dW_in = dz @ x
            if dx is None:
                pass                                          # no input gradient wanted
            elif assign:
                np.matmul(dz.T, p3, out=dx[:, p2])            # dE/dx = dz^T W_in^T
            else:
                dx[:, p2] += dz.T @ p3
            g_h, HT, blkT, dsrc, assign_h = p4
            np.matmul(dz, HT, out=g_h)                        # HT: ones when only the bias
            if dsrc is not None:
                if assign_h:
                    np.matmul(blkT, dz, out=dsrc)
                else:
                    dsrc += blkT @ dz
        elif kind == _GATHER:
            np.matmul(dz, sv.T, out=p1)
            p4[p2] += p3 @ dz
        else:
            for (dz3, gv), g in zip(p1, sv):
                if acc:
                    gv += np.matmul(g, dz3)
                else:
                    np.matmul(g, dz3, out=gv)                 # dE/dw[i, j] = dz[i] . H[src[i, j]]
            for drow, shape, wv, usrc, shape2 in p2:
                # each source: sum over its out-edges in the level of w * dz[dst]
                p4[usrc] += np.matmul(wv, p3[drow].reshape(shape)).reshape(shape2)


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
    bias_nodes : ndarray of int, shape (n_nodes - n_inputs,)
        The non-input nodes, ascending: the order of the bias vector.
    levels : list of ndarray of int
        Feedforward: ``net.levels()``; recurrent: one level, all non-input nodes.
    kinds : tuple of str
        The compiled form of each level: ``"range"``, ``"gather"`` or ``"edge"``
        (recurrent: ``"dense"`` or ``"edge"``).
    n_terms : int
        Multiply-adds per sample of one forward step: dense block entries (explicit
        zeros included) plus edge-list entries (padding included). A measure of work
        that stays proportional to ``n_edges + n_nodes`` for sparse, deep graphs.
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
        if not _is_int(steps):
            raise InputTypeError(f"compile_plan: steps must be an int >= 1, got {steps!r}")
        if steps < 1:
            raise InputError(f"compile_plan: steps must be an int >= 1, got {steps}")
        if isinstance(strategy, str):
            if strategy not in STRATEGIES:
                raise InputError(f"compile_plan: strategy must be one of {STRATEGIES} or a "
                                 f"sequence of {_FORMS} (one per level), got {strategy!r}")
        elif isinstance(strategy, (list, tuple)):
            strategy = tuple(strategy)
            bad = [f for f in strategy if not (isinstance(f, str) and f in _FORMS)]
            if bad:
                raise InputError(f"compile_plan: a per-level strategy must name one of {_FORMS} "
                                 f"per level, got {bad[0]!r}")
            n_levels = 1 if net.mode == "recurrent" else len(net.levels())
            if len(strategy) != n_levels:
                raise InputError(f"compile_plan: a per-level strategy needs one entry per level "
                                 f"({n_levels}), got {len(strategy)}")
        else:
            raise InputTypeError(f"compile_plan: strategy must be a str or a sequence of str, "
                                 f"got {type(strategy).__name__}")
        self.net = net
        self.mode = net.mode
        self.steps = int(steps)
        self.strategy = strategy
        n = net.n_nodes
        self.n_nodes = n
        self.n_inputs = nin = net.n_inputs
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
        n_non = int(self.bias_nodes.size)
        self.n_params = E + n_non
        self._w0 = W[src, dst]
        self._b0 = net.biases()[self.bias_nodes]
        bparam = np.full(n, -1, dtype=np.int64)
        bparam[self.bias_nodes] = E + np.arange(n_non)
        codes = np.array([_ACT_CODES[a] for a in net.activations], dtype=np.int64)
        order = np.lexsort((src, dst))                          # in-edges grouped by target
        indptr = np.concatenate([[0], np.cumsum(np.bincount(dst, minlength=n))])
        in_lists = [(src[order[indptr[v]:indptr[v + 1]]], order[indptr[v]:indptr[v + 1]])
                    for v in range(n)]

        # rows: the inputs, a constant-1 row, then each level followed by a constant-1 row
        # (feedforward), so a level's sources and one constant row form one contiguous range
        recurrent = self.mode == "recurrent"
        self.levels = [self.bias_nodes.copy()] if recurrent else net.levels()
        row_of = np.full(n, -1, dtype=np.int64)
        row_of[self.inputs] = np.arange(nin)
        one = nin
        n_rows = n + 1 + (0 if recurrent else len(self.levels))
        self._R = n_rows
        close = np.full(n_rows, -1, dtype=np.int64)   # row -> the constant row closing its block
        close[:nin + 1] = one
        one_rows = [one]
        b = _Builder(self.n_params)
        steps_out, kinds = [], []
        a = nin + 1
        forms = strategy if isinstance(strategy, tuple) else (strategy,) * len(self.levels)
        for nodes, form in zip(self.levels, forms):
            step, kind = self._compile_level(b, nodes, a, row_of, in_lists, bparam, codes,
                                             close, one, recurrent, form)
            steps_out.append(step)
            kinds.append(kind)
            z = a + len(nodes)
            if not recurrent:
                close[a:z + 1] = z
                one_rows.append(z)
                z += 1
            a = z
        assert a == n_rows and (row_of >= 0).all()
        # A range level that reads inputs can read them from x itself (batch-major, no
        # transposed copy) unless some other form needs the inputs as rows of H.
        self._need_xT = recurrent or any(
            (st[0] == _GATHER and (st[4][0] < nin).any())
            or (st[0] == _EDGE and any((bk[2] < nin).any() for bk in st[4][0]))
            for st in steps_out)
        if not self._need_xT:
            for k, st in enumerate(steps_out):
                kind, a_l, z_l, acts, data = st
                if kind == _RANGE and data[0] < nin:
                    r0, r1, off, cols = data
                    b.split_block(off, z_l - a_l, cols, nin - r0)
                    steps_out[k] = (_RANGE_X, a_l, z_l, acts, (r0, r1, off, cols, nin - r0))
        self._steps = tuple(steps_out)
        self.kinds = tuple(("dense" if k == "range" else k) if recurrent else k for k in kinds)
        self.rows = row_of
        self._one_rows = np.array(one_rows, dtype=np.intp)
        self._out_rows = row_of[self.outputs].astype(np.intp)
        o0 = int(self._out_rows[0])
        self._out_slice = (slice(o0, o0 + self.n_outputs)
                           if np.array_equal(self._out_rows, np.arange(o0, o0 + self.n_outputs))
                           else None)
        # parameter maps: parameter vector (w, b, 0) -> blocks and ELL tables, and back
        self._n_block = b.n_block
        self._bpos = np.array(b.bpos, dtype=np.intp)
        self._bpidx = np.array(b.bpidx, dtype=np.intp)
        self._fidx = np.array(b.fidx + [b.zero], dtype=np.intp)   # + a trailing 0 entry
        real = self._fidx != b.zero
        self._fpos_real = np.flatnonzero(real)
        self._fidx_real = self._fidx[real]
        bwpos = np.array(b.bwpos, dtype=np.intp)
        bwpos[bwpos < 0] = len(self._fidx) - 1
        self._bwpos = bwpos
        gpos = np.full(self.n_params + 1, -1, dtype=np.intp)  # parameter -> gradient entry
        gpos[self._bpidx] = self._bpos
        gpos[self._fidx_real] = self._n_block + self._fpos_real
        assert (gpos[:-1] >= 0).all()
        self._gpos_w, self._gpos_b = gpos[:E], gpos[E:-1]
        # forward fills: parameter -> its one slot in the block or ELL tables, as at most
        # four scatters (a plain scatter when every edge, or every bias, is in one table)
        fills = []
        for buf, pos_all, idx_all in ((0, self._bpos, self._bpidx),
                                      (1, self._fpos_real, self._fidx_real)):
            for src, lo, hi in ((0, 0, E), (1, E, E + n_non)):
                sel = (idx_all >= lo) & (idx_all < hi)
                if not sel.any():
                    continue
                order = np.argsort(idx_all[sel], kind="stable")
                pos, idx = pos_all[sel][order], idx_all[sel][order] - lo
                fills.append((buf, pos, src, None if np.array_equal(idx, np.arange(hi - lo))
                              else idx))
        self._fills = tuple(fills)
        self.n_terms = self._n_block + len(self._fidx) - 1
        self._plan_backward_writes()
        self._works = {}

    # ------------------------------------------------------------------ compilation

    def _compile_level(self, b, nodes, a, row_of, in_lists, bparam, codes, close, one,
                       recurrent, form):
        """Choose the form of one level, assign its rows, record its index arrays.

        ``form``: ``auto`` (cheapest by the cost model), ``dense`` (cheapest block form),
        or one of ``range``, ``gather``, ``edge`` (a ``gather`` level without sources and
        any recurrent block are ranges).
        """
        nodes = np.asarray(nodes)
        m = len(nodes)
        all_src = np.concatenate([in_lists[v][0] for v in nodes])
        fw_deg = np.array([len(in_lists[v][0]) for v in nodes]) + 1
        bw_deg = np.unique(all_src, return_counts=True)[1] if all_src.size else np.zeros(0)
        costs = {}
        if recurrent:
            r0, r1 = 0, self._R
            costs["range"] = _block_cost(m, r1 - r0, gather=False)
        else:
            src_rows = np.unique(row_of[all_src]) if all_src.size else np.zeros(0, np.int64)
            if src_rows.size:
                r0, r1 = int(src_rows[0]), int(close[src_rows[-1]]) + 1
            else:
                r0, r1 = one, one + 1
            costs["range"] = _block_cost(m, r1 - r0, gather=False)
            if src_rows.size:
                costs["gather"] = _block_cost(m, src_rows.size + 1, gather=True)
        if form == "edge":
            choice = "edge"
        elif form in costs:
            choice = form
        else:
            choice = min(costs, key=costs.get)
            if form == "auto" and _ell_cost(fw_deg, bw_deg) < costs[choice]:
                choice = "edge"

        if choice == "edge":
            fw, entries, order = _compile_edge_level(b, nodes, a, row_of, in_lists, bparam,
                                                     codes, one)
            fw, bw = _finish_edge_level(b, fw, entries, row_of, a, one)
            return (_EDGE, a, a + m, _runs(codes[order], a), (fw, bw)), "edge"

        members = nodes[np.lexsort((nodes, codes[nodes]))]
        row_of[members] = a + np.arange(m)
        acts = _runs(codes[members], a)
        if choice == "gather":
            S = np.concatenate([[one], src_rows]).astype(np.intp)
            col_of = {int(r): c for c, r in enumerate(S)}
            cols = len(S)
        else:
            col_of = None
            cols = r1 - r0
        entries = []
        for i, v in enumerate(members):
            srcs, eids = in_lists[v]
            rows = row_of[srcs]
            if col_of is not None:
                entries.extend((i, col_of[int(r)], int(e)) for r, e in zip(rows, eids))
                entries.append((i, 0, int(bparam[v])))
            else:
                entries.extend((i, int(r) - r0, int(e)) for r, e in zip(rows, eids))
                entries.append((i, one - r0 if recurrent else int(close[r1 - 1]) - r0,
                                int(bparam[v])))
        off = b.add_block(m, cols, entries)
        if choice == "gather":
            return (_GATHER, a, a + m, acts, (S, off, cols)), "gather"
        return (_RANGE, a, a + m, acts, (r0, r1, off, cols)), "range"

    def _plan_backward_writes(self):
        """Which backward writes can overwrite instead of add, and which rows need zeros.

        Walking the levels in backward order: a contribution to rows (or input columns)
        that nothing has written yet is written with ``out=``; rows a step reads or adds
        to before any write are zeroed when backward starts (``_zero_runs``).
        """
        if self.mode == "recurrent":
            self._assign, self._zero_runs = None, [(0, self._R)]
            return
        nin = self.n_inputs
        init = np.zeros(self._R, dtype=bool)
        init[self._out_rows] = True
        xinit = np.zeros(nin, dtype=bool)
        zero = np.zeros(self._R, dtype=bool)

        def touch(rows):                  # rows read or added to: zero them if unwritten
            zero[rows] |= ~init[rows]
            init[rows] = True

        flags = [None] * len(self._steps)
        for k in range(len(self._steps) - 1, -1, -1):
            kind, a, z, acts, data = self._steps[k]
            touch(slice(a, z))                                 # dz of the level is read
            fx = fh = False
            if kind == _RANGE:
                r0, r1 = data[0], data[1]
                fh = not init[r0:r1].any()
                init[r0:r1] |= fh
                touch(slice(r0, r1))
            elif kind == _RANGE_X:
                r0, r1, _, cols, ni = data
                fx = not xinit[r0:r0 + ni].any()
                xinit[r0:r0 + ni] = True
                if cols - ni > 1:
                    fh = not init[r0 + ni:r1].any()
                    init[r0 + ni:r1] |= fh
                    touch(slice(r0 + ni, r1))
            elif kind == _GATHER:
                touch(data[0])
            else:
                for usrc, *_ in data[1]:
                    touch(usrc)
            flags[k] = (fx, fh)
        if self._need_xT:
            touch(slice(0, nin))
        self._assign = flags
        runs, r = [], 0
        while r < self._R:
            if zero[r]:
                q = r
                while q < self._R and zero[q]:
                    q += 1
                runs.append((r, q))
                r = q
            else:
                r += 1
        self._zero_runs = runs

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
        dt = _check_dtype(dtype, "Plan.initial_params")
        return self._w0.astype(dt), self._b0.astype(dt)

    def _check_params(self, w, b, x, where):
        if w is None and b is None:
            dt = x.dtype if x.dtype in (np.float32, np.float64) else np.dtype(np.float64)
            return self._w0.astype(dt), self._b0.astype(dt)
        if w is None or b is None:
            raise InputError(f"{where}: pass both w and b, or neither (the network's own)")
        for name, arr, size in (("w", w, self.n_edges), ("b", b, self.n_params - self.n_edges)):
            if not isinstance(arr, np.ndarray) or arr.dtype.type not in (np.float32, np.float64):
                got = f"dtype {arr.dtype}" if isinstance(arr, np.ndarray) else type(arr).__name__
                raise InputTypeError(f"{where}: {name} must be a float32 or float64 ndarray, "
                                     f"got {got}")
            if arr.shape != (size,):
                raise InputError(f"{where}: {name} must have shape ({size},), got {arr.shape}")
        if w.dtype != b.dtype:
            raise InputTypeError(f"{where}: w and b must share a dtype, got {w.dtype} and "
                                 f"{b.dtype}")
        return w, b

    def _check_x(self, x, where):
        if not isinstance(x, np.ndarray):
            x = np.asarray(x)
        if x.dtype.kind not in "fiu":                          # real floats and integers
            raise InputTypeError(f"{where}: x must be a real numeric array, got dtype {x.dtype}")
        if x.ndim != 2:
            raise InputError(f"{where}: x must be 2-D (batch, {self.n_inputs}), got shape "
                             f"{x.shape}")
        if x.shape[1] != self.n_inputs:
            raise InputError(f"{where}: x has {x.shape[1]} columns, the network has "
                             f"{self.n_inputs} inputs")
        if x.shape[0] == 0:
            raise InputError(f"{where}: x is an empty batch (shape {x.shape})")
        return x

    # ------------------------------------------------------------------ execution

    def _work(self, B, dt) -> _Work:
        key = (B, dt.str)
        ws = self._works.pop(key, None)
        if ws is None:
            ws = _Work(self, B, dt)
            while len(self._works) >= _MAX_WORKSPACES:
                self._works.pop(next(iter(self._works)))      # least recently used
        self._works[key] = ws
        return ws

    def _run(self, ws, x, w, b):
        """Forward pass of ``x`` with parameters ``w``, ``b`` in the buffers of ``ws``."""
        ws.gen += 1
        for table, pos, src, idx in self._fills:             # scatter w, b into the tables
            vals = w if src == 0 else b
            (ws.blocks if table == 0 else ws.ellw)[pos] = vals if idx is None else vals[idx]
        if ws.x_view is not None:
            ws.x_view[...] = x.T                              # (n_inputs, batch) rows of H
        if self.mode == "recurrent":
            ws.Hs[0, self.n_inputs + 1:] = 0                 # H_0: non-inputs start at 0
        _run_forward(ws.fw, ws.saved, x)

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
        x = self._check_x(x, _where)
        w, b = self._check_params(w, b, x, _where)
        if x.dtype != w.dtype:
            x = x.astype(w.dtype)                             # computed in the params' dtype
        ws = self._work(x.shape[0], w.dtype)
        self._run(ws, x, w, b)
        if ws.out_view is not None:
            y = ws.out_view.T.copy()                          # never a view of the buffers
        else:
            y = np.ascontiguousarray(ws.last[self._out_rows].T)
        return y, _Cache(self, ws, ws.gen, x, (w.copy(), b.copy()))

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
            dE/d(edge weights), ``net.edges()`` order.
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
        if not (isinstance(cache, _Cache) and cache.plan is self):
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
            self._run(ws, cache.x, *cache.params)
            cache.gen = ws.gen
        np.take(ws.ellw, self._bwpos, out=ws.bwts)
        if self.mode == "feedforward":
            for v in ws.dH_zero:                              # rows no step writes first
                v.fill(0)
            if ws.dout_view is not None:
                ws.dout_view[...] = delta.T
            else:
                ws.dH[self._out_rows] = delta.T
            dx = np.zeros((B, self.n_inputs), dtype=ws.dt) if input_grad else None
            _run_backward(zip(reversed(ws.bw), reversed(ws.saved)), cache.x, dx, False)
            if self._need_xT and input_grad:
                dx += ws.dx_view.T
        else:
            ws.gblocks.fill(0)
            ws.gellw.fill(0)
            ws.dx.fill(0)
            ws.dcur_T.fill(0)
            ws.dcur_T[self._out_rows] = delta.T
            nin, T = self.n_inputs, self.steps
            for t in range(T, 0, -1):
                dprev = ws.D[(t - 1) % 2]
                dprev.fill(0)
                _run_backward(zip(ws.bw[t], ws.saved[t - 1:t]), None, None, True)
                if input_grad:
                    ws.dx += dprev[:nin]                      # the inputs are read every step
            dx = ws.dx.T.copy() if input_grad else None
        return dx, ws.gall[self._gpos_w], ws.gall[self._gpos_b]

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
    strategy : {"auto", "dense", "edge", "range", "gather"} or sequence of str
        How each level is computed: ``auto`` picks per level by a cost model (block
        density, shape, number of calls); ``dense`` the cheaper block product (range or
        gathered sources); ``edge``, ``range``, ``gather`` force that form (a level with
        no sources, and the recurrent step, have no gather form: they use a range). A
        sequence gives one of ``range``, ``gather``, ``edge`` per level (recurrent: one
        entry). Every choice computes the same function; it only changes the speed.

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
        ``"w"``: the edge weights, shape (n_edges,), in ``net.edges()`` order;
        ``"b"``: the biases of the non-input nodes (ascending node order), shape
        (n_nodes - n_inputs,).
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
        self.dtype = _check_dtype(dtype, "GraphLayer")
        self.plan = compile_plan(net, steps=steps, strategy=strategy)
        self.net = net
        w, b = self.plan.initial_params(self.dtype)
        self.params["w"] = w
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
        y, self._cache = self.plan.forward(x, self.params["w"], self.params["b"],
                                           _where="GraphLayer.output")
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
        self.grads["w"] = gw
        self.grads["b"] = gb
        return dx

    def to_network(self) -> GraphNetwork:
        """The network with the trained weights and biases (same structure).

        Returns ``net.with_params(W, b)`` (input biases 0); an edge whose weight became
        exactly 0 is dropped by the network.

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
        W[self.plan.edge_src, self.plan.edge_dst] = self.params["w"]
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
