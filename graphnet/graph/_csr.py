"""The csr form of a level: a sparse (CSR) times dense product, work ~ the level's in-edges.

Used by the plan compiler (:mod:`graphnet.graph._plan`) and its kernels
(:mod:`graphnet.graph._kernels`). A csr level ``H[a:z] = act(M @ H[:n_src])`` holds its
in-edges, and its biases as edges from a constant-1 row, as one CSR matrix ``M``
(``z - a`` rows, column = source row of ``H``). Forward is one sparse product, backward
its transpose (``dH[:n_src] += M^T @ dz``), both in scipy's compiled loops whose work is
``nnz x batch`` multiply-adds. The weight gradient, ``dz[i] . H[j]`` at the entries of
``M``, is taken from a dense product over several consecutive csr levels at once
(:class:`CsrGroup`, run after the backward sweep): a wide product runs at BLAS speed, so
on dense-ish levels it is cheaper than a per-edge sampled product.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["CsrLevel", "CsrGroup", "build_csr_level", "group_csr_levels", "sparse_kernels"]

_record = dataclass(frozen=True, slots=True, eq=False)

# A group's dense gradient product may cover at most this much more than its levels'
# own blocks (m x sources); and a group stops growing at this many rows.
_GROUP_SLACK = 1.5
_GROUP_ROWS = 512


@_record
class CsrLevel:
    """``H[a:z] = act(M @ H[:n_src])`` with ``M`` in CSR form, ``z - a`` rows.

    ``indptr`` (z - a + 1,) and ``indices`` (nnz,) (int32; ``indices`` are rows of ``H``,
    the bias an entry at a constant-1 row) ; the values are ``csr[off : off + nnz]`` of the
    workspace's csr buffer. ``c0``: the smallest row read.
    """

    a: int
    z: int
    acts: tuple          # of ActRun
    indptr: np.ndarray
    indices: np.ndarray
    off: int
    n_src: int
    c0: int

    @property
    def nnz(self) -> int:
        """Stored entries: the edges and the biases."""
        return int(self.indptr[-1])


@_record
class CsrGroup:
    """Weight gradient of consecutive csr levels (rows ``p .. q - 1``, sources ``c0 .. c1 - 1``).

    ``G = dH[p:q] @ H[c0:c1].T`` (dense, (q - p, c1 - c0)), then the gradient of csr entry
    ``off + k`` is ``G.flat[idx[k]]`` for ``k < stop - off``.
    """

    p: int
    q: int
    c0: int
    c1: int
    off: int
    stop: int
    idx: np.ndarray


def build_csr_level(a, members, row_of, in_lists, bparam, bias_row, off, acts):
    """A :class:`CsrLevel` for ``members`` (in row order from ``a``); their rows are set.

    ``bias_row``: a constant-1 row before the level; ``off``: where its entries start in
    the csr buffer. Returns (level, parameter index of each entry).
    """
    indptr = [0]
    cols, params = [], []
    for v in members:
        srcs, eids = in_lists[v]
        rows = row_of[srcs]
        order = np.argsort(np.append(rows, bias_row), kind="stable")
        cols.append(np.append(rows, bias_row)[order])
        params.append(np.append(eids, bparam[v])[order])
        indptr.append(indptr[-1] + len(srcs) + 1)
    indices = np.concatenate(cols).astype(np.int32)
    assert (indices >= 0).all()
    n_src = int(indices.max()) + 1
    lv = CsrLevel(a=a, z=a + len(members), acts=acts, indptr=np.array(indptr, dtype=np.int32),
                  indices=indices, off=off, n_src=n_src, c0=int(indices.min()))
    return lv, np.concatenate(params).astype(np.int64)


def _group(levels) -> CsrGroup:
    """One :class:`CsrGroup` over consecutive csr levels (rows contiguous but for the
    constant rows between them, whose gradient rows are computed and never read)."""
    p, q = levels[0].a, levels[-1].z
    c0 = min(lv.c0 for lv in levels)
    c1 = max(lv.n_src for lv in levels)
    width = c1 - c0
    idx = []
    for lv in levels:
        rows = np.repeat(np.arange(lv.a, lv.z), np.diff(lv.indptr))
        idx.append((rows - p) * width + (lv.indices.astype(np.int64) - c0))
    return CsrGroup(p=p, q=q, c0=c0, c1=c1, off=levels[0].off,
                    stop=levels[-1].off + levels[-1].nnz, idx=np.concatenate(idx))


def group_csr_levels(levels) -> tuple:
    """Runs of consecutive csr levels (``None`` in ``levels`` breaks a run) as CsrGroups.

    A run grows while its dense product stays within ``_GROUP_SLACK`` of the sum of its
    levels' own blocks and under ``_GROUP_ROWS`` rows.
    """
    groups, run, own = [], [], 0
    for lv in list(levels) + [None]:
        if lv is not None and run:
            p, q = run[0].a, lv.z
            c0, c1 = min(run[0].c0, lv.c0), max(max(r.n_src for r in run), lv.n_src)
            area = (q - p) * (c1 - c0)
            mine = (lv.z - lv.a) * (lv.n_src - lv.c0)
            if area <= _GROUP_SLACK * (own + mine) and q - p <= _GROUP_ROWS \
                    and lv.off == run[-1].off + run[-1].nnz:
                run.append(lv)
                own += mine
                continue
        if run:
            groups.append(_group(run))
        run = [lv] if lv is not None else []
        own = (lv.z - lv.a) * (lv.n_src - lv.c0) if lv is not None else 0
    return tuple(groups)


_KERNELS = None


def sparse_kernels():
    """(csr_matvecs, csc_matvecs): ``Y += A @ X`` for A in CSR, resp. CSC, form.

    scipy's compiled loops (its private ``_sparsetools``, which ``csr_matrix @`` calls)
    write into ``Y`` in place; if they are missing, the same through the public API.
    """
    global _KERNELS
    if _KERNELS is None:
        try:
            from scipy.sparse._sparsetools import csc_matvecs, csr_matvecs
        except ImportError:                                   # pragma: no cover
            from scipy.sparse import csc_matrix, csr_matrix

            def csr_matvecs(n_row, n_col, n_vecs, ap, aj, ax, x, y):
                y += csr_matrix((ax, aj, ap), shape=(n_row, n_col)) @ x[:n_col]

            def csc_matvecs(n_row, n_col, n_vecs, ap, ai, ax, x, y):
                y[:n_row] += csc_matrix((ax, ai, ap), shape=(n_row, n_col)) @ x
        _KERNELS = (csr_matvecs, csc_matvecs)
    return _KERNELS
