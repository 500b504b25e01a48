"""The plan compiler: a GraphNetwork's levels -> a :class:`Program` of named level records.

Used by :mod:`graphnet.graph.execute`; the kernels that run a program are in
:mod:`graphnet.graph._kernels`. A level is compiled to one of three equivalent forms:

``range`` (:class:`RangeLevel`, :class:`RangeXLevel`)
    a dense block product ``W[S, L]^T @ H[r0:r1]`` over a contiguous range of rows of
    the node-major value array (no copy; a layered MLP's levels are exactly this);
``gather`` (:class:`GatherLevel`)
    a dense block product over the gathered source rows ``H[S]`` (small, dense-ish
    blocks: deep graphs with a few nodes per level);
``edge`` (:class:`EdgeLevel`)
    an edge list: the level's in-edges padded per destination (ELLPACK layout, nodes
    bucketed by in-degree), ``H[src]`` gathered, multiplied by the weights and summed
    per destination with one batched product per bucket; backward scatters with the
    same layout grouped by source. Work ~ number of edges (sparse, wide levels).
``csr`` (:class:`~graphnet.graph._csr.CsrLevel`)
    a sparse (CSR) times dense product ``M @ H[:n_src]``, backward its transpose, work ~
    number of edges at compiled-loop speed; the weight gradients of consecutive csr
    levels come from one wide dense product (dense-ish DAGs: many sources per node).

Layout. The values live in a node-major array ``H`` of shape ``(rows, batch)``: the inputs,
a row holding the constant 1, then (feedforward) each level followed by its own constant
row (recurrent: all non-input nodes). Biases are weights on edges from a constant row, so
a level's sources and one constant row form one contiguous range and the bias costs no
extra operation. The parameter vector is ``(w, b, 0)``; the compiler records where each
parameter sits in the dense blocks (``block_pos``/``block_param``), in the edge-list
tables (``ell_param``) and in the csr values (``csr_param``), so that a forward pass scatters the parameters in with a few
``Fill`` operations and a backward pass gathers the gradients out with two index arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from graphnet.graph._cost import buckets, choose_form
from graphnet.graph._csr import CsrLevel, build_csr_level, group_csr_levels
from graphnet.graph._plancheck import FORMS, STRATEGIES, check_params, check_strategy

__all__ = ["STRATEGIES", "FORMS", "check_strategy", "check_params", "ACT_CODES", "ActRun",
           "RangeLevel", "RangeXLevel", "GatherLevel", "EdgeBucket", "SourceBucket", "EdgeLevel",
           "Writes", "Fill", "Program", "compile_program"]


#: The activation code of each activation name, as the kernels read it.
ACT_CODES = {"identity": 0, "tanh": 1, "sigmoid": 2, "relu": 3}

_record = dataclass(frozen=True, slots=True, eq=False)


# ----------------------------------------------------------------------------------------
# the records
# ----------------------------------------------------------------------------------------


@_record
class ActRun:
    """Rows ``first .. stop - 1`` of a level share the activation ``code`` (not identity)."""

    first: int
    stop: int
    code: int


@_record
class RangeLevel:
    """``H[a:z] = act(block @ H[r0:r1])``: a dense block over a contiguous range of rows.

    The block, of shape ``(z - a, r1 - r0)``, starts at ``block`` in the block buffer; the
    range ends with a constant-1 row, whose column holds the biases.
    """

    a: int
    z: int
    acts: tuple          # of ActRun
    r0: int
    r1: int
    block: int

    @property
    def cols(self) -> int:
        """Columns of the block: the source rows, the constant row included."""
        return self.r1 - self.r0


@_record
class RangeXLevel:
    """A range level whose first ``n_x`` source rows are the inputs, read from the batch.

    ``H[a:z] = act(block_x @ x[:, r0:r0 + n_x].T + block_h @ H[r0 + n_x:r1])`` with no
    transposed copy of ``x``. The block is laid out as ``block_x`` (z - a, n_x), then
    ``block_h`` (z - a, r1 - r0 - n_x), from ``block`` in the block buffer.
    """

    a: int
    z: int
    acts: tuple          # of ActRun
    r0: int
    r1: int
    block: int
    n_x: int

    @property
    def cols(self) -> int:
        """Columns of the whole block (``n_x`` input columns, then the rows of ``H``)."""
        return self.r1 - self.r0


@_record
class GatherLevel:
    """``H[a:z] = act(block @ H[sources])``: a dense block over gathered source rows.

    ``sources[0]`` is a constant-1 row (its column holds the biases). The block, of shape
    ``(z - a, len(sources))``, starts at ``block`` in the block buffer.
    """

    a: int
    z: int
    acts: tuple          # of ActRun
    sources: np.ndarray
    block: int

    @property
    def cols(self) -> int:
        """Columns of the block: the gathered rows."""
        return len(self.sources)


@_record
class EdgeBucket:
    """Forward edge-list bucket: rows ``a .. z - 1`` (``z - a`` nodes), in-degree padded to ``d``.

    ``src`` (``(z - a) * d``,) holds the source row of each slot (the bias slot and pads: a
    constant row); the weights are ``ell[w_off : w_off + (z - a) * d]`` (pads: 0).
    """

    a: int
    z: int
    src: np.ndarray
    d: int
    w_off: int


@_record
class SourceBucket:
    """Backward edge-list bucket: the level's edges grouped by source, ``d`` per source.

    ``src`` (U,) the source rows; ``dst`` (U * d,) the destination row of each slot (pads:
    any row of the level, with weight 0); the weights are ``bw_weights[w_off : w_off + U *
    d]``, gathered from the forward table through ``Program.bw_pos``.
    """

    src: np.ndarray
    dst: np.ndarray
    d: int
    w_off: int


@_record
class EdgeLevel:
    """``H[a:z] = act(sum over the in-edges)`` as an edge list (ELLPACK), work ~ edges.

    Forward: per bucket of nodes of similar in-degree, ``H[src]`` gathered and multiplied
    by the weights. Backward: the same by source (``bw``), a gather and a product again.
    """

    a: int
    z: int
    acts: tuple          # of ActRun
    fw: tuple            # of EdgeBucket
    bw: tuple            # of SourceBucket


@_record
class Writes:
    """Backward of one level: its contribution to dE/dx columns (``x``) or to dE/dH source
    rows (``h``) is the first one, so it is written with ``out=`` rather than added."""

    x: bool
    h: bool


@_record
class Fill:
    """Scatter a parameter vector into a table: ``table[pos] = vals`` (or ``vals[idx]``).

    ``table``: ``"block"``, ``"ell"`` or ``"csr"``; ``source``: ``"w"`` (edge weights) or ``"b"``
    (biases); ``idx`` None when the values go in whole, in order.
    """

    table: str
    pos: np.ndarray
    source: str
    idx: np.ndarray | None


@dataclass(eq=False)
class Program:
    """A compiled plan: the level records and the index maps of the parameters."""

    levels: tuple               # one record per level, forward order
    kinds: tuple                # "range", "gather", "edge" or "csr" per level (recurrent:
                                # "dense" for a range)
    n_rows: int                 # rows of H
    rows: np.ndarray            # (n_nodes,) the row of each node
    one_rows: np.ndarray        # the constant-1 rows
    out_rows: np.ndarray        # the rows of the outputs ...
    out_slice: slice | None     # ... as a slice when they are contiguous
    x_rows: bool                # inputs copied into H's first rows (else read from x)
    n_block: int                # size of the block buffer
    block_pos: np.ndarray       # block entry block_pos[k] holds parameter block_param[k]
    block_param: np.ndarray
    ell_param: np.ndarray       # parameter of each edge-list entry (pads and a trailing
                                # entry: the always-0 parameter)
    csr_param: np.ndarray       # parameter of each csr entry
    csr_groups: tuple           # of CsrGroup: the csr weight gradients (feedforward)
    bw_pos: np.ndarray          # forward edge-list entry of each backward entry
    grad_pos_w: np.ndarray      # where each edge weight's gradient sits in the
    grad_pos_b: np.ndarray      # (block, edge-list, csr) gradient buffer; and each bias's
    fills: tuple                # of Fill: the parameter vectors into the tables
    n_terms: int                # multiply-adds per sample of one forward step
    writes: tuple | None        # Writes per level (feedforward); None (recurrent)
    zero_runs: list             # row ranges of dH that backward zeros first


# ----------------------------------------------------------------------------------------
# compiling the levels
# ----------------------------------------------------------------------------------------


def _runs(codes, start: int) -> tuple:
    """Maximal runs of equal activation codes as ActRun records, identity dropped."""
    runs, k, m = [], 0, len(codes)
    while k < m:
        j = k
        while j < m and codes[j] == codes[k]:
            j += 1
        if codes[k] != 0:
            runs.append(ActRun(first=start + k, stop=start + j, code=int(codes[k])))
        k = j
    return tuple(runs)


class _Builder:
    """Collects the parameter maps of a plan while its levels are compiled."""

    def __init__(self, zero: int):
        self.zero = zero                 # index of the always-0 slot of the parameter vector
        self.bpos, self.bpidx = [], []   # dense block entry -> parameter index
        self.spans = {}                  # block offset -> its (first, stop) in bpos
        self.n_block = 0
        self.fidx = []                   # ELL forward entry -> parameter index (pads: zero)
        self.bwpos = []                  # ELL backward entry -> ELL forward entry (pads: -1)
        self.cidx = []                   # csr entry -> parameter index

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
    the constant row ``one``); a bucket of k nodes with padded degree d holds a (k, d)
    table of source rows and of weights (pads: source ``one``, weight 0). Backward: the
    real edges grouped by source the same way, so that the scatter to the sources is
    again a gather and a batched product, with no repeated index.

    Returns (EdgeLevel, activation order of the nodes).
    """
    nodes = np.asarray(nodes)
    deg = np.array([len(in_lists[v][0]) + 1 for v in nodes])
    row = a
    groups = []                                        # (first row, members, padded degree)
    for g, d in buckets(deg):
        members = nodes[g]
        members = members[np.lexsort((members, codes[members]))]
        row_of[members] = row + np.arange(len(members))
        groups.append((row, members, d))
        row += len(members)
    fw, entries = [], []                               # entries: (source node, dst row, slot)
    for first, members, d in groups:
        k = len(members)
        pidx = np.full((k, d), b.zero, dtype=np.int64)
        srcn = np.full((k, d), -1, dtype=np.int64)
        for i, v in enumerate(members):
            srcs, eids = in_lists[v]
            pidx[i, 0] = bparam[v]
            pidx[i, 1:1 + len(eids)] = eids
            srcn[i, 1:1 + len(srcs)] = srcs
        woff = len(b.fidx)
        b.fidx.extend(pidx.ravel().tolist())
        # every source node has its row now: sources precede the level (or are in it, for
        # the recurrent step, whose rows were assigned above)
        rows = np.where(srcn >= 0, row_of[np.maximum(srcn, 0)], one).astype(np.intp)
        fw.append(EdgeBucket(a=first, z=first + k, src=rows.ravel(), d=d, w_off=woff))
        for i, v in enumerate(members):
            for j, u in enumerate(in_lists[v][0]):
                entries.append((int(u), first + i, woff + i * d + 1 + j))
    bw = []
    if entries:
        src_rows = np.array([row_of[u] for u, _, _ in entries])
        dst_rows = np.array([r for _, r, _ in entries])
        pos = np.array([p for _, _, p in entries])
        order = np.argsort(src_rows, kind="stable")
        src_rows, dst_rows, pos = src_rows[order], dst_rows[order], pos[order]
        usrc, starts, counts = np.unique(src_rows, return_index=True, return_counts=True)
        for g, d in buckets(counts):
            U = len(g)
            drow = np.full((U, d), a, dtype=np.intp)      # pads read any row, weight 0
            fpos = np.full((U, d), -1, dtype=np.int64)
            for i, s in enumerate(g):
                c, st = counts[s], starts[s]
                drow[i, :c] = dst_rows[st:st + c]
                fpos[i, :c] = pos[st:st + c]
            off = len(b.bwpos)
            b.bwpos.extend(fpos.ravel().tolist())
            bw.append(SourceBucket(src=usrc[g].astype(np.intp), dst=drow.ravel(), d=d, w_off=off))
    order = np.concatenate([members for _, members, _ in groups])
    acts = _runs(codes[order], a)
    return EdgeLevel(a=a, z=a + len(nodes), acts=acts, fw=tuple(fw), bw=tuple(bw))


def _compile_level(b, nodes, a, row_of, in_lists, bparam, codes, close, one, n_rows,
                   recurrent, form):
    """Choose the form of one level, assign its rows, record its index arrays.

    ``form``: ``auto`` (cheapest by the cost model), ``dense`` (cheapest block form),
    or one of ``range``, ``gather``, ``edge`` (a ``gather`` level without sources and
    any recurrent block are ranges). Returns (level record, kind).
    """
    nodes = np.asarray(nodes)
    m = len(nodes)
    all_src = np.concatenate([in_lists[v][0] for v in nodes])
    fw_deg = np.array([len(in_lists[v][0]) for v in nodes]) + 1
    bw_deg = np.unique(all_src, return_counts=True)[1] if all_src.size else np.zeros(0)
    gather_cols = None                             # no gather form: recurrent, or no sources
    if recurrent:
        r0, r1 = 0, n_rows
    else:
        src_rows = np.unique(row_of[all_src]) if all_src.size else np.zeros(0, np.int64)
        if src_rows.size:
            r0, r1 = int(src_rows[0]), int(close[src_rows[-1]]) + 1
            gather_cols = src_rows.size + 1
        else:
            r0, r1 = one, one + 1
    choice = choose_form(form, m, r1 - r0, gather_cols, fw_deg, bw_deg, grad_cols=r1 - r0)

    if choice == "edge":
        return _compile_edge_level(b, nodes, a, row_of, in_lists, bparam, codes, one), "edge"

    members = nodes[np.lexsort((nodes, codes[nodes]))]
    row_of[members] = a + np.arange(m)
    acts = _runs(codes[members], a)
    if choice == "csr":          # the bias: an entry at the constant row before the level
        lv, params = build_csr_level(a, members, row_of, in_lists, bparam,
                                     one if recurrent else a - 1, len(b.cidx), acts)
        b.cidx.extend(params.tolist())
        return lv, "csr"
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
        return GatherLevel(a=a, z=a + m, acts=acts, sources=S, block=off), "gather"
    return RangeLevel(a=a, z=a + m, acts=acts, r0=r0, r1=r1, block=off), "range"


def _reads_input_rows(level, n_inputs: int) -> bool:
    """True if a gather or edge level reads some input as a row of ``H``."""
    if isinstance(level, GatherLevel):
        return bool((level.sources < n_inputs).any())
    if isinstance(level, EdgeLevel):
        return any((bk.src < n_inputs).any() for bk in level.fw)
    if isinstance(level, CsrLevel):
        return level.c0 < n_inputs
    return False


def _plan_writes(levels, n_rows, n_inputs, out_rows, x_rows):
    """Which backward writes can overwrite instead of add, and which rows need zeros.

    Walking the levels in backward order: a contribution to rows (or input columns)
    that nothing has written yet is written with ``out=``; rows a step reads or adds
    to before any write are zeroed when backward starts. Returns (writes, zero runs).
    """
    init = np.zeros(n_rows, dtype=bool)
    init[out_rows] = True
    xinit = np.zeros(n_inputs, dtype=bool)
    zero = np.zeros(n_rows, dtype=bool)

    def touch(rows):                  # rows read or added to: zero them if unwritten
        zero[rows] |= ~init[rows]
        init[rows] = True

    flags = [None] * len(levels)
    for k in range(len(levels) - 1, -1, -1):
        lv = levels[k]
        touch(slice(lv.a, lv.z))                               # dz of the level is read
        fx = fh = False
        if isinstance(lv, RangeLevel):
            fh = not init[lv.r0:lv.r1].any()
            init[lv.r0:lv.r1] |= fh
            touch(slice(lv.r0, lv.r1))
        elif isinstance(lv, RangeXLevel):
            r0, r1, ni = lv.r0, lv.r1, lv.n_x
            fx = not xinit[r0:r0 + ni].any()
            xinit[r0:r0 + ni] = True
            if lv.cols - ni > 1:
                fh = not init[r0 + ni:r1].any()
                init[r0 + ni:r1] |= fh
                touch(slice(r0 + ni, r1))
        elif isinstance(lv, GatherLevel):
            touch(lv.sources)
        elif isinstance(lv, CsrLevel):
            touch(np.unique(lv.indices))
        else:
            for bk in lv.bw:
                touch(bk.src)
        flags[k] = Writes(x=fx, h=fh)
    if x_rows:
        touch(slice(0, n_inputs))
    runs, r = [], 0
    while r < n_rows:
        if zero[r]:
            q = r
            while q < n_rows and zero[q]:
                q += 1
            runs.append((r, q))
            r = q
        else:
            r += 1
    return tuple(flags), runs


def compile_program(net, src, dst, bias_nodes, levels, forms) -> Program:
    """Compile the levels of ``net`` into a :class:`Program`.

    ``src``, ``dst``: the edges in ``net.edges()`` order (the weight vector's order);
    ``bias_nodes``: the non-input nodes, ascending (the bias vector's order); ``levels``:
    the node lists (recurrent: one, all non-input nodes); ``forms``: the form asked for
    each level (see ``_compile_level``).
    """
    n, nin = net.n_nodes, net.n_inputs
    E, n_non = int(src.size), int(bias_nodes.size)
    n_params = E + n_non
    recurrent = net.mode == "recurrent"
    bparam = np.full(n, -1, dtype=np.int64)
    bparam[bias_nodes] = E + np.arange(n_non)
    codes = np.array([ACT_CODES[a] for a in net.activations], dtype=np.int64)
    order = np.lexsort((src, dst))                          # in-edges grouped by target
    indptr = np.concatenate([[0], np.cumsum(np.bincount(dst, minlength=n))])
    in_lists = [(src[order[indptr[v]:indptr[v + 1]]], order[indptr[v]:indptr[v + 1]])
                for v in range(n)]

    # rows: the inputs, a constant-1 row, then each level followed by a constant-1 row
    # (feedforward), so a level's sources and one constant row form one contiguous range
    row_of = np.full(n, -1, dtype=np.int64)
    row_of[net.inputs] = np.arange(nin)
    one = nin
    n_rows = n + 1 + (0 if recurrent else len(levels))
    close = np.full(n_rows, -1, dtype=np.int64)   # row -> the constant row closing its block
    close[:nin + 1] = one
    one_rows = [one]
    b = _Builder(n_params)
    records, kinds = [], []
    a = nin + 1
    for nodes, form in zip(levels, forms):
        rec, kind = _compile_level(b, nodes, a, row_of, in_lists, bparam, codes, close, one,
                                   n_rows, recurrent, form)
        records.append(rec)
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
    x_rows = recurrent or any(_reads_input_rows(lv, nin) for lv in records)
    if not x_rows:
        for k, lv in enumerate(records):
            if isinstance(lv, RangeLevel) and lv.r0 < nin:
                b.split_block(lv.block, lv.z - lv.a, lv.cols, nin - lv.r0)
                records[k] = RangeXLevel(a=lv.a, z=lv.z, acts=lv.acts, r0=lv.r0, r1=lv.r1,
                                         block=lv.block, n_x=nin - lv.r0)
    if recurrent:
        kinds = ["dense" if k == "range" else k for k in kinds]
    out_rows = row_of[net.outputs].astype(np.intp)
    o0, n_out = int(out_rows[0]), len(out_rows)
    out_slice = (slice(o0, o0 + n_out) if np.array_equal(out_rows, np.arange(o0, o0 + n_out))
                 else None)
    # parameter maps: parameter vector (w, b, 0) -> blocks and ELL tables, and back
    bpos = np.array(b.bpos, dtype=np.intp)
    bpidx = np.array(b.bpidx, dtype=np.intp)
    fidx = np.array(b.fidx + [b.zero], dtype=np.intp)      # + a trailing 0 entry
    real = fidx != b.zero
    fpos_real = np.flatnonzero(real)
    fidx_real = fidx[real]
    cidx = np.array(b.cidx, dtype=np.intp)
    bwpos = np.array(b.bwpos, dtype=np.intp)
    bwpos[bwpos < 0] = len(fidx) - 1
    gpos = np.full(n_params + 1, -1, dtype=np.intp)          # parameter -> gradient entry
    gpos[bpidx] = bpos
    gpos[fidx_real] = b.n_block + fpos_real
    gpos[cidx] = b.n_block + len(fidx) + np.arange(len(cidx))
    assert (gpos[:-1] >= 0).all()
    # forward fills: parameter -> its one slot in the block or ELL tables, as at most
    # four scatters (a plain scatter when every edge, or every bias, is in one table)
    fills = []
    for table, pos_all, idx_all in (("block", bpos, bpidx), ("ell", fpos_real, fidx_real),
                                    ("csr", np.arange(len(cidx)), cidx)):
        for source, lo, hi in (("w", 0, E), ("b", E, E + n_non)):
            sel = (idx_all >= lo) & (idx_all < hi)
            if not sel.any():
                continue
            order = np.argsort(idx_all[sel], kind="stable")
            pos, idx = pos_all[sel][order], idx_all[sel][order] - lo
            whole = np.array_equal(idx, np.arange(hi - lo))
            fills.append(Fill(table=table, pos=pos, source=source, idx=None if whole else idx))
    records = tuple(records)
    if recurrent:
        writes, zero_runs = None, [(0, n_rows)]
    else:
        writes, zero_runs = _plan_writes(records, n_rows, nin, out_rows, x_rows)
    return Program(levels=records, kinds=tuple(kinds), n_rows=n_rows, rows=row_of,
                   one_rows=np.array(one_rows, dtype=np.intp), out_rows=out_rows,
                   out_slice=out_slice, x_rows=x_rows, n_block=b.n_block, block_pos=bpos,
                   block_param=bpidx, ell_param=fidx, csr_param=cidx,
                   csr_groups=() if recurrent else group_csr_levels(
                       [lv if isinstance(lv, CsrLevel) else None for lv in records]),
                   bw_pos=bwpos, grad_pos_w=gpos[:E], grad_pos_b=gpos[E:-1],
                   fills=tuple(fills), n_terms=b.n_block + len(fidx) - 1 + len(cidx),
                   writes=writes, zero_runs=zero_runs)
