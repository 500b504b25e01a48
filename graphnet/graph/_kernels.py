"""The numeric kernels of a compiled plan: buffers, prebuilt views, forward and backward.

A :class:`Workspace` holds the buffers of one (batch size, dtype) and, per level of a
:class:`~graphnet.graph._plan.Program`, one forward and one backward *step*: a small record
of views into those buffers, so that the hot loops (:func:`run_forward`,
:func:`run_backward`) only call numpy. The kernels dispatch on the step's type.

Shapes: ``H`` is ``(rows, batch)`` (node-major); ``x`` and ``dx`` are ``(batch, n_inputs)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from graphnet.graph._csr import CsrLevel, sparse_kernels
from graphnet.graph._plan import EdgeLevel, GatherLevel, RangeLevel, RangeXLevel, Writes

_step = dataclass(frozen=True, slots=True, eq=False)

# activation codes (graphnet.graph._plan.ACT_CODES)
_TANH, _SIGMOID, _RELU = 1, 2, 3


# ----------------------------------------------------------------------------------------
# forward steps
# ----------------------------------------------------------------------------------------


@_step
class RangeFw:
    """``out = block @ src`` (src: a range of rows of ``H``), then the activations."""

    block: np.ndarray        # (m, cols)
    src: np.ndarray          # (cols, batch)
    out: np.ndarray          # (m, batch)
    acts: tuple              # of (view, code)


@_step
class RangeXFw:
    """``out = block_x @ x[:, cols_x].T + block_h @ rest`` (rest None: ``+ block_h``, the bias)."""

    block_x: np.ndarray      # (m, n_x)
    cols_x: slice            # the input columns read from x
    block_h: np.ndarray      # (m, cols - n_x)
    rest: np.ndarray | None  # (cols - n_x, batch), or None when it is only the bias row
    out: np.ndarray
    acts: tuple


@_step
class GatherFw:
    """``Hs = H[sources]``, ``out = block @ Hs``; Hs is saved for backward."""

    block: np.ndarray        # (m, len(sources))
    sources: np.ndarray
    H: np.ndarray
    out: np.ndarray
    acts: tuple


@_step
class EdgeFwBucket:
    """``out = w @ H[src].reshape(shape)``: ``sum_j w[i, j] H[src[i, j]]``."""

    w: np.ndarray            # (k, 1, d)
    src: np.ndarray          # (k * d,) rows of H
    shape: tuple             # (k, d, batch)
    out: np.ndarray          # (k, 1, batch)


@_step
class EdgeFw:
    """Edge-list level: its buckets, over ``H``; the gathered tables are saved for backward."""

    buckets: tuple           # of EdgeFwBucket
    H: np.ndarray
    acts: tuple


@_step
class CsrFw:
    """``out = M @ src`` (M: csr, ``m`` rows; src: the first ``n_src`` rows of ``H``)."""

    m: int
    n_src: int
    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray         # (nnz,) a view of the csr buffer
    src: np.ndarray          # (n_src, batch)
    out: np.ndarray          # (m, batch)
    acts: tuple


# ----------------------------------------------------------------------------------------
# backward steps (dacts: (dE/d(out) view, out view, code) per run of activations)
# ----------------------------------------------------------------------------------------


@_step
class RangeBw:
    """``gblock (+)= dz @ srcT``; ``dsrc (+)= blockT @ dz`` (written when ``write_h``)."""

    dz: np.ndarray           # (m, batch)
    dacts: tuple
    gblock: np.ndarray       # (m, cols)
    srcT: np.ndarray         # (batch, cols)
    blockT: np.ndarray       # (cols, m)
    dsrc: np.ndarray         # (cols, batch)
    write_h: bool


@_step
class RangeXBw:
    """``gblock_x = dz @ x[:, cols_x]``; ``dx[:, cols_x] (+)= dz.T @ block_x``; the rest as
    RangeBw (``srcT_h``: ones and ``dsrc_h`` None when the rest is only the bias row)."""

    dz: np.ndarray
    dacts: tuple
    gblock_x: np.ndarray     # (m, n_x)
    cols_x: slice
    block_x: np.ndarray      # (m, n_x)
    write_x: bool
    gblock_h: np.ndarray     # (m, cols - n_x), or (m,) for only the bias
    srcT_h: np.ndarray       # (batch, cols - n_x), or the ones (batch,)
    blockT_h: np.ndarray | None
    dsrc_h: np.ndarray | None
    write_h: bool


@_step
class GatherBw:
    """``gblock = dz @ Hs.T`` (Hs saved by forward); ``dH[sources] += blockT @ dz``."""

    dz: np.ndarray
    dacts: tuple
    gblock: np.ndarray
    sources: np.ndarray
    blockT: np.ndarray
    dH: np.ndarray


@_step
class EdgeGrad:
    """Per forward bucket: ``gw (+)= g @ dz3`` with g the saved (k, d, batch) table."""

    dz3: np.ndarray          # (k, batch, 1)
    gw: np.ndarray           # (k, d, 1)


@_step
class EdgeScatter:
    """Per source bucket: ``dH[src] += (w @ dz[dst].reshape(shape)).reshape(shape_src)``."""

    dst: np.ndarray          # (U * d,) rows of dz
    shape: tuple             # (U, d, batch)
    w: np.ndarray            # (U, 1, d)
    src: np.ndarray          # (U,)
    shape_src: tuple         # (U, batch)


@_step
class EdgeBw:
    """Edge-list level backward: gradients per forward bucket, then scatters by source."""

    dz: np.ndarray
    dacts: tuple
    grads: tuple             # of EdgeGrad
    scatters: tuple          # of EdgeScatter
    dcur: np.ndarray         # dE/dH of this pass (read by the scatters)
    dprev: np.ndarray        # dE/dH written by the scatters


@_step
class CsrGrad:
    """``G = dz @ srcT``; the csr gradient entries ``gcsr (+)= G.flat[idx]``."""

    dz: np.ndarray           # (rows, batch)
    srcT: np.ndarray         # (batch, cols)
    G: np.ndarray            # (rows, cols), scratch
    idx: np.ndarray
    gcsr: np.ndarray         # (n,) a view of the gradient buffer


@_step
class CsrBw:
    """``dsrc += M^T @ dz`` (the transpose of the forward product); then ``grad``, the weight
    gradient of the level itself (recurrent), or (feedforward) of the group of levels
    this level opens (None if it opens none), while its rows are still in cache."""

    dz: np.ndarray
    dacts: tuple
    m: int
    n_src: int
    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    dsrc: np.ndarray         # (n_src, batch)
    grad: CsrGrad | None


_NO_WRITES = Writes(False, False)


class Cache:
    """What ``Plan.forward`` hands to ``Plan.backward``: the pass ``gen`` of ``work``."""

    __slots__ = ("plan", "work", "gen", "x", "params")

    def __init__(self, plan, work, gen, x, params):
        self.plan, self.work, self.gen, self.x, self.params = plan, work, gen, x, params


class Workspace:
    """Buffers and prebuilt steps for one (batch size, dtype) of a plan.

    ``gen`` counts the forward passes run in these buffers; a cache from an older pass is
    recomputed before its backward (correct, just slower).
    """

    def __init__(self, prog, n_inputs: int, steps: int, recurrent: bool, B: int, dt):
        self.prog, self.n_inputs, self.steps, self.recurrent = prog, n_inputs, steps, recurrent
        self.B, self.dt, self.gen = B, dt, 0
        R, nin, T = prog.n_rows, n_inputs, steps
        n_ell = len(prog.ell_param)
        self.blocks = np.zeros(prog.n_block, dtype=dt)
        self.ellw = np.zeros(n_ell, dtype=dt)
        n_csr = len(prog.csr_param)
        self.gall = np.zeros(prog.n_block + n_ell + n_csr, dtype=dt)
        self.gblocks = self.gall[:prog.n_block]                 # dE/d(block entries)
        self.gellw = self.gall[prog.n_block:prog.n_block + n_ell]   # dE/d(ELL entries)
        self.gcsr = self.gall[prog.n_block + n_ell:]            # dE/d(csr entries)
        self.csrw = np.zeros(n_csr, dtype=dt)
        self.bwts = np.zeros(len(prog.bw_pos), dtype=dt)
        self.tables = {"block": self.blocks, "ell": self.ellw, "csr": self.csrw}
        self.ones = np.ones(B, dtype=dt)
        csr = [lv for lv in prog.levels if isinstance(lv, CsrLevel)]
        areas = [(g.q - g.p) * (g.c1 - g.c0) for g in prog.csr_groups]
        areas += [(lv.z - lv.a) * (R - lv.c0) for lv in csr] if recurrent else []
        self.G = np.zeros(max(areas, default=0), dtype=dt)      # scratch of the csr grads
        self.groups = {g.p: g for g in prog.csr_groups}         # by their first row
        if recurrent:
            self.Hs = np.zeros((T + 1, R, B), dtype=dt)       # H_0 .. H_T
            self.Hs[:, prog.one_rows] = 1
            self.D = np.zeros((2, R, B), dtype=dt)            # dE/dH_t, dE/dH_{t-1}
            self.dx = np.zeros((nin, B), dtype=dt)
            self.x_view = self.Hs[:, :nin]                    # inputs held at every step
            last = self.Hs[T]
            pairs = [(self.Hs[t], self.Hs[t + 1]) for t in range(T)]
            self.fw = [self._fw(lv, Hin, Hout) for lv in prog.levels for Hin, Hout in pairs]
            self.bw = {t: [self._bw(lv, self.Hs[t - 1], self.Hs[t], self.D[t % 2],
                                    self.D[(t - 1) % 2], _NO_WRITES)
                           for lv in prog.levels]
                       for t in range(1, T + 1)}
            self.dcur_T = self.D[T % 2]
        else:
            self.H = np.zeros((R, B), dtype=dt)               # node-major values
            self.H[prog.one_rows] = 1                         # never written by a level
            self.dH = np.zeros((R, B), dtype=dt)
            self.x_view = self.H[:nin] if prog.x_rows else None
            last = self.H
            self.fw = [self._fw(lv, self.H, self.H) for lv in prog.levels]
            self.bw = [self._bw(lv, self.H, self.H, self.dH, self.dH, wr)
                       for lv, wr in zip(prog.levels, prog.writes)]
            self.dH_zero = [self.dH[a:z] for a, z in prog.zero_runs]
            self.dx_view = self.dH[:nin]
            self.dout_view = self.dH[prog.out_slice] if prog.out_slice is not None else None
        self.saved = [None] * len(self.fw)
        self.out_view = last[prog.out_slice] if prog.out_slice is not None else None
        self.last = last

    def forward(self, x, w, b) -> None:
        """Forward pass of ``x`` (batch, n_inputs) with parameters ``w``, ``b``."""
        self.gen += 1
        for fill in self.prog.fills:                         # scatter w, b into the tables
            vals = w if fill.source == "w" else b
            table = self.tables[fill.table]
            table[fill.pos] = vals if fill.idx is None else vals[fill.idx]
        if self.x_view is not None:
            self.x_view[...] = x.T                            # (n_inputs, batch) rows of H
        if self.recurrent:
            self.Hs[0, self.n_inputs + 1:] = 0               # H_0: non-inputs start at 0
        run_forward(self.fw, self.saved, x)

    def outputs(self) -> np.ndarray:
        """The outputs of the last forward pass, (batch, n_outputs), as a new array."""
        if self.out_view is not None:
            return self.out_view.T.copy()                     # never a view of the buffers
        return np.ascontiguousarray(self.last[self.prog.out_rows].T)

    def backward(self, x, delta, input_grad: bool) -> tuple:
        """Backward of ``delta`` (batch, n_outputs) through the last forward pass of ``x``.

        Returns (dx or None, gw, gb): dx a new array, gw and gb gathered from the gradient
        buffer (new arrays).
        """
        prog, B, nin = self.prog, self.B, self.n_inputs
        np.take(self.ellw, prog.bw_pos, out=self.bwts)
        if not self.recurrent:
            for v in self.dH_zero:                            # rows no step writes first
                v.fill(0)
            if self.dout_view is not None:
                self.dout_view[...] = delta.T
            else:
                self.dH[prog.out_rows] = delta.T
            dx = np.zeros((B, nin), dtype=self.dt) if input_grad else None
            run_backward(zip(reversed(self.bw), reversed(self.saved)), x, dx, False)
            if prog.x_rows and input_grad:
                dx += self.dx_view.T
        else:
            self.gall.fill(0)
            self.dx.fill(0)
            self.dcur_T.fill(0)
            self.dcur_T[prog.out_rows] = delta.T
            for t in range(self.steps, 0, -1):
                dprev = self.D[(t - 1) % 2]
                dprev.fill(0)
                run_backward(zip(self.bw[t], self.saved[t - 1:t]), None, None, True)
                if input_grad:
                    self.dx += dprev[:nin]                    # the inputs are read every step
            dx = self.dx.T.copy() if input_grad else None
        return dx, self.gall[prog.grad_pos_w], self.gall[prog.grad_pos_b]

    def _csr_grad(self, dz, srcT, idx, off, stop) -> CsrGrad:
        """The gradient step of csr entries ``off .. stop - 1`` from ``dz @ srcT``."""
        G = self.G[:dz.shape[0] * srcT.shape[1]].reshape(dz.shape[0], srcT.shape[1])
        return CsrGrad(dz=dz, srcT=srcT, G=G, idx=idx, gcsr=self.gcsr[off:stop])

    def _block(self, buf, off: int, m: int, cols: int) -> np.ndarray:
        """The (m, cols) view of a block at ``off`` in ``buf`` (blocks or their gradients)."""
        return buf[off:off + m * cols].reshape(m, cols)

    def _fw(self, lv, Hin, Hout):
        """The forward step of level ``lv``, reading ``Hin`` and writing ``Hout``."""
        a, z = lv.a, lv.z
        m = z - a
        acts = tuple((Hout[r.first:r.stop], r.code) for r in lv.acts)
        if isinstance(lv, RangeLevel):
            return RangeFw(block=self._block(self.blocks, lv.block, m, lv.cols),
                           src=Hin[lv.r0:lv.r1], out=Hout[a:z], acts=acts)
        if isinstance(lv, RangeXLevel):
            ni, n_h = lv.n_x, lv.cols - lv.n_x
            return RangeXFw(block_x=self._block(self.blocks, lv.block, m, ni),
                            cols_x=slice(lv.r0, lv.r0 + ni),
                            block_h=self._block(self.blocks, lv.block + m * ni, m, n_h),
                            rest=None if n_h == 1 else Hin[lv.r0 + ni:lv.r1],
                            out=Hout[a:z], acts=acts)
        if isinstance(lv, CsrLevel):
            return CsrFw(m=m, n_src=lv.n_src, indptr=lv.indptr, indices=lv.indices,
                         data=self.csrw[lv.off:lv.off + lv.nnz], src=Hin[:lv.n_src],
                         out=Hout[a:z], acts=acts)
        if isinstance(lv, GatherLevel):
            return GatherFw(block=self._block(self.blocks, lv.block, m, lv.cols),
                            sources=lv.sources, H=Hin, out=Hout[a:z], acts=acts)
        assert isinstance(lv, EdgeLevel)
        buckets = []
        for bk in lv.fw:
            k = bk.z - bk.a
            w = self.ellw[bk.w_off:bk.w_off + k * bk.d].reshape(k, 1, bk.d)
            buckets.append(EdgeFwBucket(w=w, src=bk.src, shape=(k, bk.d, self.B),
                                        out=Hout[bk.a:bk.z, None]))
        return EdgeFw(buckets=tuple(buckets), H=Hin, acts=acts)

    def _bw(self, lv, Hin, Hout, dcur, dprev, writes):
        """The backward step of level ``lv``: dE/d(Hout) in ``dcur``, dE/d(Hin) to ``dprev``."""
        a, z = lv.a, lv.z
        m = z - a
        dacts = tuple((dcur[r.first:r.stop], Hout[r.first:r.stop], r.code) for r in lv.acts)
        dz = dcur[a:z]
        if isinstance(lv, RangeLevel):
            return RangeBw(dz=dz, dacts=dacts,
                           gblock=self._block(self.gblocks, lv.block, m, lv.cols),
                           srcT=Hin[lv.r0:lv.r1].T,
                           blockT=self._block(self.blocks, lv.block, m, lv.cols).T,
                           dsrc=dprev[lv.r0:lv.r1], write_h=writes.h)
        if isinstance(lv, RangeXLevel):
            r0, r1, ni = lv.r0, lv.r1, lv.n_x
            n_h, off_h = lv.cols - ni, lv.block + m * ni
            blk_h = self._block(self.blocks, off_h, m, n_h)
            gblk_h = self._block(self.gblocks, off_h, m, n_h)
            if n_h == 1:                                       # only the bias row
                rest = dict(gblock_h=gblk_h[:, 0], srcT_h=self.ones, blockT_h=None,
                            dsrc_h=None, write_h=False)
            else:
                rest = dict(gblock_h=gblk_h, srcT_h=Hin[r0 + ni:r1].T, blockT_h=blk_h.T,
                            dsrc_h=dprev[r0 + ni:r1], write_h=writes.h)
            return RangeXBw(dz=dz, dacts=dacts,
                            gblock_x=self._block(self.gblocks, lv.block, m, ni),
                            cols_x=slice(r0, r0 + ni),
                            block_x=self._block(self.blocks, lv.block, m, ni),
                            write_x=writes.x, **rest)
        if isinstance(lv, CsrLevel):
            grad = None
            g = self.groups.get(a)
            if g is not None:        # the group's first level: its rows' dz are all known
                grad = self._csr_grad(dprev[g.p:g.q], Hin[g.c0:g.c1].T, g.idx, g.off, g.stop)
            if self.recurrent:
                rows = np.repeat(np.arange(m), np.diff(lv.indptr))
                idx = rows * (self.prog.n_rows - lv.c0) + lv.indices - lv.c0
                grad = self._csr_grad(dz, Hin[lv.c0:].T, idx, lv.off, lv.off + lv.nnz)
            return CsrBw(dz=dz, dacts=dacts, m=m, n_src=lv.n_src, indptr=lv.indptr,
                         indices=lv.indices, data=self.csrw[lv.off:lv.off + lv.nnz],
                         dsrc=dprev[:lv.n_src], grad=grad)
        if isinstance(lv, GatherLevel):
            return GatherBw(dz=dz, dacts=dacts,
                            gblock=self._block(self.gblocks, lv.block, m, lv.cols),
                            sources=lv.sources,
                            blockT=self._block(self.blocks, lv.block, m, lv.cols).T, dH=dprev)
        assert isinstance(lv, EdgeLevel)
        grads = []
        for bk in lv.fw:
            k = bk.z - bk.a
            grads.append(EdgeGrad(dz3=dcur[bk.a:bk.z, :, None],
                                  gw=self.gellw[bk.w_off:bk.w_off + k * bk.d].reshape(k, bk.d, 1)))
        scatters = []
        for bk in lv.bw:
            U = len(bk.src)
            w = self.bwts[bk.w_off:bk.w_off + U * bk.d].reshape(U, 1, bk.d)
            scatters.append(EdgeScatter(dst=bk.dst, shape=(U, bk.d, self.B), w=w, src=bk.src,
                                        shape_src=(U, self.B)))
        return EdgeBw(dz=dz, dacts=dacts, grads=tuple(grads), scatters=tuple(scatters),
                      dcur=dcur, dprev=dprev)


# ----------------------------------------------------------------------------------------
# the kernels
# ----------------------------------------------------------------------------------------


def _apply_acts(acts):
    """In place: the activation of each run of rows."""
    for v, code in acts:
        if code == _TANH:
            np.tanh(v, out=v)
        elif code == _RELU:
            np.maximum(v, 0, out=v)
        else:  # sigmoid(x) = (1 + tanh(x / 2)) / 2: no overflow, no branch
            v *= 0.5
            np.tanh(v, out=v)
            v *= 0.5
            v += 0.5


def _apply_dacts(dacts):
    """In place: dE/d(pre) = dE/d(out) * act'(out), the derivative written through the output."""
    for g, o, code in dacts:
        if code == _TANH:                    # tanh' = 1 - o^2
            t = o * o
            np.subtract(1, t, out=t)
            g *= t
        elif code == _RELU:                  # relu' = [o > 0]
            np.multiply(g, o > 0, out=g)
        else:                                # sigmoid' = o (1 - o)
            t = 1 - o
            t *= o
            g *= t


def run_forward(fw, saved, x):
    """Run forward steps in order; ``x`` is the batch; ``saved[i]``: what step i keeps."""
    for i, st in enumerate(fw):
        kind = type(st)
        if kind is RangeFw:
            np.matmul(st.block, st.src, out=st.out)           # W[S, L]^T @ H[r0:r1]
        elif kind is RangeXFw:                                # inputs read from x itself
            out = st.out
            np.matmul(st.block_x, x[:, st.cols_x].T, out=out)
            if st.rest is None:
                out += st.block_h                             # + b
            else:
                out += st.block_h @ st.rest
        elif kind is CsrFw:
            st.out.fill(0)                                    # M @ H[:n_src], M sparse
            sparse_kernels()[0](st.m, st.n_src, st.out.shape[1], st.indptr, st.indices,
                                st.data, st.src, st.out)
        elif kind is GatherFw:
            Hs = st.H[st.sources]                             # (|S|, batch)
            np.matmul(st.block, Hs, out=st.out)
            saved[i] = Hs
        else:
            H, gs = st.H, []
            for bk in st.buckets:
                g = H[bk.src].reshape(bk.shape)               # (k, d, batch)
                np.matmul(bk.w, g, out=bk.out)                # sum_j w[i, j] H[src[i, j]]
                gs.append(g)
            saved[i] = gs
        if st.acts:
            _apply_acts(st.acts)


def run_backward(bw, x, dx, acc):
    """Run backward steps, each with what its forward saved, in the order given.

    ``bw``: pairs (step, saved), already reversed for feedforward. ``x``, ``dx`` (batch,
    n_inputs): the batch and its gradient (None: not wanted), for the levels that read
    the inputs straight from ``x``. ``acc``: add the parameter gradients (recurrent
    steps) instead of writing them. A step's ``write_*`` flags: its contribution to the
    sources is the first one, so it is written rather than added.
    """
    for st, sv in bw:
        if st.dacts:
            _apply_dacts(st.dacts)
        kind = type(st)
        dz = st.dz
        if kind is RangeBw:
            if acc:                                           # (np.add: the records are frozen)
                np.add(st.gblock, dz @ st.srcT, out=st.gblock)
            else:
                np.matmul(dz, st.srcT, out=st.gblock)         # dE/dW = dz @ H[r0:r1]^T
            if st.write_h:
                np.matmul(st.blockT, dz, out=st.dsrc)         # dE/dH[r0:r1] = W @ dz
            else:
                np.add(st.dsrc, st.blockT @ dz, out=st.dsrc)
        elif kind is RangeXBw:
            np.matmul(dz, x[:, st.cols_x], out=st.gblock_x)   # dE/dW_in = dz @ x
            if dx is None:
                pass                                          # no input gradient wanted
            elif st.write_x:
                np.matmul(dz.T, st.block_x, out=dx[:, st.cols_x])   # dE/dx = dz^T W_in^T
            else:
                dx[:, st.cols_x] += dz.T @ st.block_x
            np.matmul(dz, st.srcT_h, out=st.gblock_h)         # srcT_h: ones when only the bias
            if st.dsrc_h is not None:
                if st.write_h:
                    np.matmul(st.blockT_h, dz, out=st.dsrc_h)
                else:
                    np.add(st.dsrc_h, st.blockT_h @ dz, out=st.dsrc_h)
        elif kind is CsrBw:                                   # dE/dH[:n_src] += M^T @ dz
            sparse_kernels()[1](st.n_src, st.m, dz.shape[1], st.indptr, st.indices, st.data,
                                dz, st.dsrc)
            if st.grad is not None:
                _run_csr_grad(st.grad, acc)
        elif kind is GatherBw:
            np.matmul(dz, sv.T, out=st.gblock)
            st.dH[st.sources] += st.blockT @ dz
        else:
            for gr, g in zip(st.grads, sv):
                if acc:
                    np.add(gr.gw, np.matmul(g, gr.dz3), out=gr.gw)
                else:
                    np.matmul(g, gr.dz3, out=gr.gw)           # dE/dw[i, j] = dz[i] . H[src[i, j]]
            dcur, dprev = st.dcur, st.dprev
            for sc in st.scatters:
                # each source: sum over its out-edges in the level of w * dz[dst]
                dprev[sc.src] += np.matmul(sc.w, dcur[sc.dst].reshape(sc.shape)).reshape(
                    sc.shape_src)


def _run_csr_grad(g, acc):
    """``G = dz @ srcT`` (dense), then the csr entries' gradients picked from it."""
    np.matmul(g.dz, g.srcT, out=g.G)                          # dE/dM[i, j] = dz[i] . H[j]
    if acc:
        np.add(g.gcsr, g.G.reshape(-1)[g.idx], out=g.gcsr)
    else:
        np.take(g.G.reshape(-1), g.idx, out=g.gcsr)
