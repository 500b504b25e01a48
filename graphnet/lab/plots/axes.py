"""Axis limits and positions that keep the metrics figures readable at a glance.

Two small rules, kept apart from the drawing of the figures:

* an accuracy axis zooms to the data instead of spanning ``[0, 1]`` (or overshooting 1), with a
  floor on the margin so that equal values do not fill the axis with noise;
* models whose parameter counts coincide (an MLP and the same graph never mutated, both 4,810)
  are dodged sideways on a log axis, so that neither hides the other.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["accuracy_limits", "dodge_factors"]

ACCURACY_MARGIN = 0.02  # the least margin around accuracies: 2 percentage points
SAME_SIZE = 0.01  # parameter counts within 1 % of each other count as the same size


def accuracy_limits(low, high) -> tuple:
    """Y limits for an accuracy axis whose data span ``[low, high]``.

    ``[low - m, high + m]`` with ``m`` 8 % of the span but at least 0.02, clipped to
    ``[0, 1]``; ``(0, 1)`` when there is no finite data.

    Parameters
    ----------
    low, high : float
        The smallest and largest value drawn (bands and error bars included).

    Returns
    -------
    tuple of float
        ``(bottom, top)``.

    Examples
    --------
    >>> accuracy_limits(0.5, 0.9)
    (0.468, 0.932)
    >>> accuracy_limits(1.0, 1.0)  # all equal: a small margin, never above 1
    (0.98, 1.0)
    >>> accuracy_limits(float("inf"), float("-inf"))  # nothing drawn
    (0.0, 1.0)
    """
    if not (math.isfinite(low) and math.isfinite(high)) or low > high:
        return 0.0, 1.0
    low, high = min(max(low, 0.0), 1.0), min(max(high, 0.0), 1.0)
    m = max(0.08 * (high - low), ACCURACY_MARGIN)
    return float(round(max(0.0, low - m), 12)), float(round(min(1.0, high + m), 12))


def dodge_factors(sizes) -> dict:
    """Multiplicative x offsets (log axis) that set apart models of (nearly) the same size.

    Models whose sizes lie within 1 % of each other form a group (chained in ascending size);
    the members of a group of ``g`` are spread evenly around their place, ``step`` decades
    apart, where ``step`` is 5 % of the decades that all sizes span (at least half a decade),
    so the gap stays a similar fraction of the axis whatever its range.

    Parameters
    ----------
    sizes : dict
        ``{model: size}`` with positive finite sizes, in the models' drawing order.

    Returns
    -------
    dict
        ``{model: factor}``; 1.0 for a model without a same-size neighbour. Within a group the
        order is that of ``sizes``.

    Examples
    --------
    >>> f = dodge_factors({"graph": 2952, "fixed-graph": 4810, "mlp": 4810})
    >>> f["graph"], f["fixed-graph"] < 1 < f["mlp"], round(f["mlp"] / f["fixed-graph"], 4)
    (1.0, True, 1.0593)
    """
    models = list(sizes)
    out = {m: 1.0 for m in models}
    if len(models) < 2:
        return out
    logs = {m: math.log10(sizes[m]) for m in models}
    span = max(np.ptp(list(logs.values())), 0.5)
    step = 0.05 * span
    ranked = sorted(models, key=lambda m: sizes[m])
    groups, group = [], [ranked[0]]
    for prev, m in zip(ranked, ranked[1:]):
        if sizes[m] - sizes[prev] <= SAME_SIZE * sizes[m]:
            group.append(m)
        else:
            groups.append(group)
            group = [m]
    groups.append(group)
    for group in groups:
        if len(group) < 2:
            continue
        group = sorted(group, key=models.index)
        for k, m in enumerate(group):
            out[m] = 10.0 ** (step * (k - (len(group) - 1) / 2))
    return out


def _zoom_accuracy(*axes):
    """Set the y limits of accuracy axes (shared or not) to their data, see accuracy_limits."""
    low = min((ax.dataLim.y0 for ax in axes), default=math.inf)
    high = max((ax.dataLim.y1 for ax in axes), default=-math.inf)
    for ax in axes:
        ax.set_ylim(*accuracy_limits(low, high))
