"""Selection of a search: rank a population, keep the best, draw parents by tournament.

Pure functions of arrays, no networks: :func:`rank_order` orders candidates best first,
either lexicographically on one objective (``"tournament"``: the objective, then the
validation loss, then fewer edges) or NSGA-II style (``"pareto"``: non-dominated fronts of
(objective, edges), then crowding distance, the most isolated first, then the same
lexicographic key). Survival (:func:`survivors`) keeps the first ``n`` of that order over
parents and children together (elitism: the best never gets lost), and :func:`tournament`
draws each parent as the best of ``size`` candidates drawn uniformly.
Every objective is turned into a value to minimise (:func:`minimise`); NaN (a network that
diverged) is worst, and on no front before a network that did not diverge.
"""

from __future__ import annotations

import numpy as np

__all__ = ["minimise", "nondominated_fronts", "crowding_distance", "rank_order", "survivors",
           "tournament"]


def minimise(values, maximise: bool) -> np.ndarray:
    """``values`` as numbers to minimise: negated when larger is better; NaN becomes +inf.

    Examples
    --------
    >>> minimise([0.5, float("nan")], maximise=True).tolist()
    [-0.5, inf]
    """
    v = np.asarray(values, dtype=float)
    v = -v if maximise else v.copy()
    v[np.isnan(v)] = np.inf
    return v


def nondominated_fronts(F) -> list:
    """The non-dominated fronts of points ``F`` (n, m), every column minimised.

    Point ``a`` dominates ``b`` when it is no worse in every column and better in one.

    Returns
    -------
    list of ndarray of int
        Front 0 (dominated by none), front 1 (only by front 0), ...; indices ascending.

    Examples
    --------
    >>> F = np.array([[1, 5], [2, 2], [3, 3], [5, 1], [4, 4]])
    >>> [f.tolist() for f in nondominated_fronts(F)]
    [[0, 1, 3], [2], [4]]
    """
    F = np.asarray(F, dtype=float)
    le = (F[:, None, :] <= F[None, :, :]).all(axis=2)
    lt = (F[:, None, :] < F[None, :, :]).any(axis=2)
    dom = le & lt  # dom[a, b]: a dominates b
    count = dom.sum(axis=0)
    fronts, left = [], np.ones(len(F), dtype=bool)
    while left.any():
        front = np.flatnonzero(left & (count == 0))
        fronts.append(front)
        left[front] = False
        count = count - dom[front].sum(axis=0)
        count[~left] = -1
    return fronts


def crowding_distance(F) -> np.ndarray:
    """NSGA-II's crowding distance of the points of one front (n, m): larger is lonelier.

    The extremes of every column get infinity; the others the sum over columns of the
    gap between their neighbours, divided by the column's range.

    Examples
    --------
    >>> crowding_distance(np.array([[1., 5.], [2., 2.], [5., 1.]])).tolist()
    [inf, 2.0, inf]
    """
    F = np.asarray(F, dtype=float)
    n, m = F.shape
    d = np.zeros(n)
    if n <= 2:
        return np.full(n, np.inf)
    for j in range(m):
        col = np.where(np.isfinite(F[:, j]), F[:, j], np.finfo(float).max)
        order = np.argsort(col, kind="stable")
        span = col[order[-1]] - col[order[0]]
        d[order[0]] = d[order[-1]] = np.inf
        if span > 0:
            d[order[1:-1]] += (col[order[2:]] - col[order[:-2]]) / span
    return d


def rank_order(objective, loss, edges, kind: str) -> np.ndarray:
    """The candidates' indices, best first.

    Parameters
    ----------
    objective : array of shape (n,)
        To minimise (:func:`minimise`).
    loss : array of shape (n,)
        The validation loss (the first tie-break).
    edges : array of shape (n,)
    kind : {"tournament", "pareto"}
        One objective, or NSGA-II on (objective, edges).

    Examples
    --------
    >>> obj, loss, edges = [-1.0, -1.0, -0.5, -0.75], [0.2, 0.1, 0.3, 0.4], [9, 9, 2, 4]
    >>> rank_order(obj, loss, edges, "tournament").tolist()
    [1, 0, 3, 2]
    >>> rank_order(obj, loss, edges, "pareto").tolist()   # one front; 3 is the least isolated
    [1, 0, 2, 3]
    """
    obj = np.asarray(objective, dtype=float)
    loss = np.where(np.isnan(loss), np.inf, np.asarray(loss, dtype=float))
    edges = np.asarray(edges, dtype=float)
    idx = np.arange(len(obj))
    if kind == "tournament":
        return np.lexsort((idx, edges, loss, obj))
    F = np.column_stack([obj, np.where(np.isfinite(obj), edges, np.inf)])  # diverged: last
    front_of, crowd = np.zeros(len(obj)), np.zeros(len(obj))
    for r, front in enumerate(nondominated_fronts(F)):
        front_of[front] = r
        crowd[front] = crowding_distance(F[front])
    return np.lexsort((idx, edges, loss, obj, -crowd, front_of))


def survivors(objective, loss, edges, kind: str, n: int) -> np.ndarray:
    """The ``n`` best candidates (:func:`rank_order`), best first.

    Examples
    --------
    >>> survivors([-1.0, -0.5, -0.75], [0.1, 0.3, 0.2], [5, 3, 4], "tournament", 2).tolist()
    [0, 2]
    """
    return rank_order(objective, loss, edges, kind)[:n]


def tournament(rng, n_pool: int, size: int, count: int) -> np.ndarray:
    """Draw ``count`` parents from a pool ranked best first (index 0 is the best).

    Each parent is the best (smallest index) of ``size`` pool positions drawn uniformly
    with replacement from ``rng``.

    Examples
    --------
    >>> tournament(np.random.default_rng(0), 10, 3, 5).tolist()
    [5, 0, 0, 6, 5]
    """
    return rng.integers(0, n_pool, size=(count, size)).min(axis=1)
