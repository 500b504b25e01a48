"""A sweep's figure: the final test accuracy against each swept axis, one line per model.

The curves come from :func:`graphnet.lab.sweep.axis_curves` (per axis value, the interval
over seeds of :func:`graphnet.lab.stats.interval`); this module only draws them.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from graphnet.errors import InputError
from graphnet.lab.plots.axes import _zoom_accuracy
from graphnet.lab.plots.common import _MODEL_MARKERS, _model_colors, _save

__all__ = ["plot_sweep"]


def plot_sweep(curves, path=None, *, title: str = "", caption: str = "", dpi: int = 100):
    """Draw the metric against each swept axis: mean line and confidence band per model.

    Parameters
    ----------
    curves : list of dict
        One per axis, as :func:`graphnet.lab.sweep.axis_curves` returns: ``axis``,
        ``labels``, ``x`` (floats or None: evenly spaced, labelled), ``models``
        ``{model: [Interval per value]}`` (``mean``, ``low``, ``high`` as fractions).
    path : str or os.PathLike, optional
        Where to save the figure (written atomically); None: only return it.
    title, caption : str
        Above and below the panels.
    dpi : int

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    InputError
        ``curves`` is empty.

    Examples
    --------
    >>> from graphnet.lab.stats import interval
    >>> curves = [{"axis": "rounds", "labels": ["1", "2"], "x": [1.0, 2.0],
    ...            "models": {"graph": [interval([0.8, 0.9]), interval([0.85, 0.95])]}}]
    >>> fig = plot_sweep(curves, caption="mean over 2 seeds")
    >>> [ax.get_xlabel() for ax in fig.axes]
    ['rounds']
    """
    if not curves:
        raise InputError("plot_sweep: curves is empty; a sweep has at least one axis")
    models = list(dict.fromkeys(m for c in curves for m in c["models"]))
    colors = _model_colors(models)
    n = len(curves)
    fig = Figure(figsize=(4.2 * n + 0.6, 3.8), layout="constrained")
    axes = fig.subplots(1, n, sharey=True, squeeze=False)[0]
    for ax, curve in zip(axes, curves):
        x = (np.asarray(curve["x"], dtype=float) if curve["x"] is not None
             else np.arange(len(curve["labels"]), dtype=float))
        for model, ivs in curve["models"].items():
            mean = np.array([iv.mean for iv in ivs], dtype=float)
            low = np.array([iv.low for iv in ivs], dtype=float)
            high = np.array([iv.high for iv in ivs], dtype=float)
            ax.plot(x, mean, marker=_MODEL_MARKERS.get(model, "o"), mfc="none",
                    color=colors[model], label=model)
            band = np.isfinite(low) & np.isfinite(high)
            if band.any():
                ax.fill_between(x, np.where(band, low, mean), np.where(band, high, mean),
                                color=colors[model],
                                alpha=0.15, linewidth=0)
        ax.set_xticks(x, curve["labels"])
        if curve["x"] is not None and _log_spaced(x):
            ax.set_xscale("log")
            ax.set_xticks(x, curve["labels"])
            ax.minorticks_off()
        ax.set_xlabel(curve["axis"])
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("final test accuracy")
    axes[0].yaxis.set_major_formatter(PercentFormatter(1.0))
    _zoom_accuracy(*axes)
    axes[-1].legend(fontsize="small")
    if title:
        fig.suptitle(title)
    if caption:
        fig.supxlabel(caption, fontsize="small")  # constrained layout keeps room for it
    return _save(fig, path, dpi)


def _log_spaced(x) -> bool:
    """Whether positive values spanning at least a factor 10 read better on a log axis."""
    return len(x) > 2 and bool(np.all(x > 0)) and x.max() / x.min() >= 10 and not math.isclose(
        np.diff(x).std(), 0.0, abs_tol=1e-12)
