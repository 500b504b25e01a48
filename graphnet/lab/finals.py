"""The final result of a (model, seed): which metrics row a run's statistics start from.

A round ends at its last epoch (:func:`round_ends`); the *final* network of a (model, seed)
is the last round that was kept (``accepted != 0``): under ``if-better`` a rejected round is
not the network kept (:func:`final_rows`). :mod:`graphnet.lab.summary` (tables),
:mod:`graphnet.lab.stats` (intervals and paired tests) and the plots all read it here.
"""

from __future__ import annotations

__all__ = ["round_ends", "final_rows"]


def round_ends(metrics) -> dict:
    """``{(model, seed, round): the row with the largest epoch of that round}``.

    Examples
    --------
    >>> rows = [dict(seed=0, model="mlp", round=0, epoch=e) for e in (1, 2)]
    >>> round_ends(rows)[("mlp", 0, 0)]["epoch"]
    2
    """
    ends = {}
    for r in metrics:
        key = (r["model"], r["seed"], r["round"])
        if key not in ends or r["epoch"] >= ends[key]["epoch"]:
            ends[key] = r
    return ends


def final_rows(metrics) -> dict:
    """``{(model, seed): last-epoch row of the last kept round}``.

    Examples
    --------
    >>> rows = [dict(seed=0, model="graph", round=0, epoch=1, test_accuracy=0.8, accepted=1),
    ...         dict(seed=0, model="graph", round=1, epoch=1, test_accuracy=0.7, accepted=0)]
    >>> final_rows(rows)[("graph", 0)]["round"]
    0
    """
    out = {}
    for (model, seed, rnd), row in sorted(round_ends(metrics).items(), key=lambda kv: kv[0][2]):
        if row.get("test_accuracy") is None or row.get("accepted") == 0:
            continue
        out[(model, seed)] = row
    return out
