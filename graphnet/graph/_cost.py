"""The cost model of the plan compiler: which form a level takes, how edge lists are bucketed.

Estimates in nanoseconds of a level's forward + backward under each form
(:mod:`graphnet.graph._plan`); only their ratios matter. Every form computes the same
function, so the model changes speed only, never results.

The constants are measured, not guessed: :func:`graphnet.graph._calibrate.measure` times
the kernels the forms really run (``python benchmarks/bench_graph.py --calibrate OUT``
writes them as JSON and prints them). :data:`DEFAULTS` holds the figures measured that way
on the reference machine (2 cores of an AMD EPYC (Zen 4, AVX-512), numpy 2.4 + OpenBLAS
0.3.31 on one thread, scipy 1.17, batch 256, float32: the median of 7 calibrations, on
2026-12-01). A JSON file named by the environment variable ``GRAPHNET_COST_FILE`` (as
written by the calibration) overrides them for the process.
"""

from __future__ import annotations

import json
import os

import numpy as np

__all__ = ["DEFAULTS", "constants", "buckets", "ell_cost", "block_cost", "csr_cost",
           "choose_form"]

_NOMINAL_BATCH = 256

#: ns per operation; only ratios matter. ``call``: fixed cost of one numpy call from
#: Python; a dense (BLAS) block product of a level, ``m x cols`` times ``cols x batch``,
#: costs ``cols x batch x (read + m x mm)`` (``read``: streaming one source element;
#: ``mm``: one multiply-add); ``mm_wide``: one multiply-add of a wide product (the csr
#: form's gradient over several levels);
#: ``gather``: one element gathered by fancy indexing; ``bmm``: one element of a batched
#: (ELL) product; ``ew``: one element of an elementwise operation; ``csr``: one
#: multiply-add of a sparse (CSR) times dense product; ``csr_call``: fixed cost of one.
DEFAULTS = {"call": 1200.0, "mm": 0.0194, "read": 0.115, "mm_wide": 0.0215, "gather": 0.135,
            "bmm": 0.0636, "ew": 0.0917, "csr": 0.146, "csr_call": 1020.0}

_loaded = None
_CSR_MARGIN = 0.8


def constants() -> dict:
    """The cost constants in use: :data:`DEFAULTS`, overridden by ``GRAPHNET_COST_FILE``.

    A file that cannot be read or holds no numbers for known keys is ignored (the cost
    model only changes speed, never results).
    """
    global _loaded
    if _loaded is None:
        c = dict(DEFAULTS)
        path = os.environ.get("GRAPHNET_COST_FILE")
        if path:
            try:
                data = json.loads(open(path, encoding="utf-8").read())
                data = data.get("constants", data)
                c.update({k: float(v) for k, v in data.items()
                          if k in DEFAULTS and isinstance(v, (int, float)) and v > 0})
            except (OSError, ValueError, AttributeError):
                pass
        _loaded = c
    return _loaded


def buckets(degrees) -> list:
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
    c = constants()
    per_el = _NOMINAL_BATCH * (2 * c["gather"] + 2 * c["bmm"])
    merged = True
    while merged and len(out) > 1:
        merged = False
        for k in range(len(out) - 1):
            (ga, da), (gb, db) = out[k], out[k + 1]
            d = max(da, db)
            extra = (len(ga) * (d - da) + len(gb) * (d - db)) * per_el
            if extra < 4 * c["call"]:
                out[k:k + 2] = [(np.concatenate([ga, gb]), d)]
                merged = True
                break
    return out


def ell_cost(fw_degrees, bw_degrees) -> float:
    """Estimated forward + backward cost (ns) of the edge-list form of a level."""
    B, c = _NOMINAL_BATCH, constants()
    cost = 0.0
    for g, d in buckets(fw_degrees):
        cost += 4 * c["call"] + len(g) * d * B * (c["gather"] + 2 * c["bmm"])
    if len(bw_degrees):
        for g, d in buckets(bw_degrees):
            cost += 5 * c["call"] + len(g) * d * B * (c["gather"] + c["bmm"]) \
                + len(g) * B * (3 * c["gather"] + c["ew"])
    return cost


def block_cost(m: int, cols: int, *, gather: bool) -> float:
    """Estimated forward + backward cost (ns) of a dense block product (m x cols)."""
    B, c = _NOMINAL_BATCH, constants()
    cost = 4 * c["call"] + 3 * cols * B * (c["read"] + m * c["mm"]) + cols * B * c["ew"]
    if gather:  # H[S] forward; dH[S] += ... backward (a take, an add and a put)
        cost += 4 * c["call"] + 4 * cols * B * c["gather"]
    return cost


def csr_cost(m: int, nnz: int, grad_cols: int) -> float:
    """Estimated forward + backward cost (ns) of the csr form of a level.

    ``nnz`` entries (edges and biases) in a sparse product forward and in its transpose
    backward; the weight gradient is a share of a wide dense product, ``m x grad_cols``.
    """
    B, c = _NOMINAL_BATCH, constants()
    return (2 * c["csr_call"] + 3 * c["call"] + 2 * nnz * B * c["csr"]
            + m * grad_cols * B * c["mm_wide"] + 3 * m * B * c["ew"])


def choose_form(form: str, m: int, range_cols: int, gather_cols, fw_deg, bw_deg,
                grad_cols=None) -> str:
    """The form of a level of ``m`` nodes: ``"range"``, ``"gather"``, ``"edge"`` or ``"csr"``.

    ``form``: ``auto`` (the cheapest), ``dense`` (the cheaper block form), or a form to
    force (``gather`` without a gather form, ``gather_cols`` None, is a range).
    ``range_cols``, ``gather_cols``: columns of the range and the gathered block;
    ``fw_deg``, ``bw_deg``: in-degrees (+ 1, the bias) and out-degrees within the level;
    ``grad_cols``: columns of the csr form's gradient product (None: no csr form).
    """
    costs = {"range": block_cost(m, range_cols, gather=False)}
    if gather_cols is not None:
        costs["gather"] = block_cost(m, gather_cols, gather=True)
    if form in ("edge", "csr"):
        return form
    if form in costs:
        return form
    choice = min(costs, key=costs.get)
    if form == "auto":
        costs["edge"] = ell_cost(fw_deg, bw_deg)
        if grad_cols is not None:   # csr must win clearly: its estimate is the least sure
            costs["csr"] = csr_cost(m, int(np.sum(fw_deg)), grad_cols) / _CSR_MARGIN
        choice = min(costs, key=costs.get)
    return choice
