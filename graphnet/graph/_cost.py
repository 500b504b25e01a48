"""The cost model of the plan compiler: which form a level takes, how edge lists are bucketed.

Estimates in nanoseconds of a level's forward + backward under each form
(:mod:`graphnet.graph._plan`); only their ratios matter. Every form computes the same
function, so the model changes speed only, never results.
"""

from __future__ import annotations

import numpy as np

__all__ = ["buckets", "ell_cost", "block_cost", "choose_form"]

# The cost model that picks a level's form. Figures in nanoseconds, measured with numpy +
# OpenBLAS on one core of an x86-64 machine at the nominal batch; only their ratios matter.
_NOMINAL_BATCH = 256
_CALL_NS = 1500.0     # fixed cost of one numpy call from Python
_MM_NS = 0.06         # one multiply-add of a dense (BLAS) block product
_GATHER_NS = 0.7      # one element gathered by fancy indexing
_BMM_NS = 0.5         # one element of a batched (ELL) product
_EW_NS = 0.4          # one element of an elementwise operation


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


def ell_cost(fw_degrees, bw_degrees) -> float:
    """Estimated forward + backward cost (ns) of the edge-list form of a level."""
    B = _NOMINAL_BATCH
    cost = 0.0
    for g, d in buckets(fw_degrees):
        cost += 4 * _CALL_NS + len(g) * d * B * (_GATHER_NS + 2 * _BMM_NS)
    if len(bw_degrees):
        for g, d in buckets(bw_degrees):
            cost += 5 * _CALL_NS + len(g) * d * B * (_GATHER_NS + _BMM_NS) \
                + len(g) * B * (3 * _GATHER_NS + _EW_NS)
    return cost


def block_cost(m: int, cols: int, *, gather: bool) -> float:
    """Estimated forward + backward cost (ns) of a dense block product (m x cols)."""
    B = _NOMINAL_BATCH
    cost = 4 * _CALL_NS + 3 * m * cols * B * _MM_NS + cols * B * _EW_NS
    if gather:  # H[S] forward; dH[S] += ... backward (a take, an add and a put)
        cost += 4 * _CALL_NS + 4 * cols * B * _GATHER_NS
    return cost


def choose_form(form: str, m: int, range_cols: int, gather_cols, fw_deg, bw_deg) -> str:
    """The form of a level of ``m`` nodes: ``"range"``, ``"gather"`` or ``"edge"``.

    ``form``: ``auto`` (the cheapest), ``dense`` (the cheaper block form), or a form to
    force (``gather`` without a gather form, ``gather_cols`` None, is a range).
    ``range_cols``, ``gather_cols``: columns of the range and the gathered block;
    ``fw_deg``, ``bw_deg``: in-degrees (+ 1, the bias) and out-degrees within the level.
    """
    costs = {"range": block_cost(m, range_cols, gather=False)}
    if gather_cols is not None:
        costs["gather"] = block_cost(m, gather_cols, gather=True)
    if form == "edge":
        return "edge"
    if form in costs:
        return form
    choice = min(costs, key=costs.get)
    if form == "auto" and ell_cost(fw_deg, bw_deg) < costs[choice]:
        choice = "edge"
    return choice
