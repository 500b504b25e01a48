"""Metrics over time: learning curves per cumulative epoch, and edges and accuracy per round.

Lines are means over seeds (learning curves: band = min-max over seeds; rounds: error bar =
sample standard deviation), one colour per model, the mutated graph drawn on top.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from graphnet.lab.plots.axes import _zoom_accuracy
from graphnet.lab.plots.common import _check_rows, _model_colors, _models, _num, _save
from graphnet.lab.finals import round_ends
from graphnet.lab.summary import column_stats

__all__ = ["plot_learning_curves", "plot_rounds"]

def _curves(metrics, model):
    """Per seed, the rows of ``model`` in (round, epoch) order; and the round boundaries."""
    by_seed = {}
    for r in metrics:
        if r["model"] == model:
            by_seed.setdefault(r["seed"], []).append(r)
    for rows in by_seed.values():
        rows.sort(key=lambda r: (r["round"], r["epoch"]))
    return dict(sorted(by_seed.items()))


def _boundaries(metrics):
    """Cumulative-epoch positions between rounds, of "graph" or else the model with most rounds."""
    counts = {m: len({r["round"] for r in metrics if r["model"] == m}) for m in _models(metrics)}
    best = max(counts, key=lambda m: (counts[m], m == "graph"))  # first of the largest
    if counts[best] < 2:
        return [], None
    rows = next(iter(_curves(metrics, best).values()))
    return [k + 0.5 for k in range(1, len(rows)) if rows[k]["round"] != rows[k - 1]["round"]], best


def plot_learning_curves(metrics, *, title=None, path=None, dpi=100):
    """Loss and accuracy per cumulative epoch, train and validation, one colour per model.

    Each line is the mean over seeds at that epoch (epochs counted across rounds), the shaded
    band the min-max over seeds. Faint vertical lines mark the round boundaries (of the model
    with the most rounds). The loss axis turns logarithmic when the losses span more than a
    factor 20; the accuracy axis zooms to the data (bands included), never above 1
    (:func:`graphnet.lab.plots.axes.accuracy_limits`).

    Parameters
    ----------
    metrics : list of dict
        Metrics rows (``seed model round epoch loss accuracy``; ``val_loss val_accuracy`` drawn
        dashed when present).
    title : str, optional
    path : str or os.PathLike, optional
    dpi : int

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> rows = [dict(seed=s, model="mlp", round=0, epoch=e, loss=1 / e + s, accuracy=e / 4)
    ...         for s in (0, 1) for e in (1, 2, 3)]
    >>> fig = plot_learning_curves(rows)
    >>> line = [l for l in fig.axes[0].lines if l.get_label() == "mlp train"][0]
    >>> line.get_ydata().tolist()  # mean over seeds 0 and 1
    [1.5, 1.0, 0.8333333333333333]
    """
    _check_rows(metrics, "plot_learning_curves")
    models = _models(metrics)
    colors = _model_colors(models)
    fig = Figure(figsize=(11.0, 4.2), layout="constrained")
    ax_loss, ax_acc = fig.subplots(1, 2, sharex=True)
    has_val = False
    for model in models:
        seeds = _curves(metrics, model)
        length = max(len(rows) for rows in seeds.values())
        x = np.arange(1, length + 1)
        for ax, key in ((ax_loss, "loss"), (ax_acc, "accuracy")):
            for prefix, style, band in (("", "-", 0.18), ("val_", "--", 0.08)):
                col = prefix + key
                v = np.full((len(seeds), length), np.nan)
                for i, rows in enumerate(seeds.values()):
                    v[i, : len(rows)] = [_num(r.get(col)) for r in rows]
                mean, _, lo, hi, n = column_stats(v)
                if not (n > 0).any():
                    continue
                has_val |= prefix == "val_"
                label = f"{model} {'val' if prefix else 'train'}"
                # the mutated graph is what the run is about: draw it on top
                ax.plot(x, mean, style, color=colors[model], lw=1.4, label=label,
                        zorder=3 if model == "graph" else 2)
                if len(seeds) > 1:
                    ax.fill_between(x, lo, hi, color=colors[model], alpha=band, lw=0)
    bounds, source = _boundaries(metrics)
    low, high = ax_loss.dataLim.y0, ax_loss.dataLim.y1
    if np.isfinite([low, high]).all() and low > 0 and high / low > 20:
        ax_loss.set_yscale("log")  # losses spanning decades: the late epochs stay readable
    for ax, name in ((ax_loss, "loss"), (ax_acc, "accuracy")):
        for b in bounds:
            ax.axvline(b, color="0.6", lw=0.6, alpha=0.5, zorder=0)
        ax.set_xlabel("epoch (cumulative over rounds)")
        ax.set_ylabel(name)
        ax.grid(alpha=0.25)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax_loss.set_title("loss")
    ax_acc.set_title("accuracy")
    _zoom_accuracy(ax_acc)
    handles = [Line2D([], [], color=colors[m], lw=2, label=m) for m in models]
    handles.append(Line2D([], [], color="0.3", ls="-", label="train"))
    if has_val:
        handles.append(Line2D([], [], color="0.3", ls="--", label="validation"))
    if bounds:
        handles.append(Line2D([], [], color="0.6", lw=0.8, label=f"round boundary ({source})"))
    fig.legend(handles=handles, loc="outside right center", fontsize=8, frameon=False)
    seeds_all = sorted({r["seed"] for r in metrics})
    fig.suptitle((title or "learning curves")
                 + f"; mean over {len(seeds_all)} seed(s), band = min-max", fontsize=10)
    return _save(fig, path, dpi)


def plot_rounds(metrics, *, title=None, path=None, dpi=100):
    """Edges and test accuracy after each round, per model: mean +- std over seeds.

    A model trained in round 0 only (a baseline) is a dashed horizontal line (its band = std)
    across the accuracy panel. Models without an edge count (mlp, cnn) are left out of the edge
    panel. Rounds rejected by the if-better policy are still drawn: they are what was measured.
    The accuracy axis zooms to the data (error bars included), never above 1.

    Parameters
    ----------
    metrics : list of dict
        Metrics rows (``seed model round epoch test_accuracy``; ``edges`` when present).
    title : str, optional
    path : str or os.PathLike, optional
    dpi : int

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> rows = [dict(seed=s, model="graph", round=r, epoch=1, edges=10 - r - s,
    ...              test_accuracy=0.5) for s in (0, 1) for r in range(3)]
    >>> fig = plot_rounds(rows)
    >>> fig.axes[0].lines[0].get_ydata().tolist()  # mean edges per round
    [9.5, 8.5, 7.5]
    """
    _check_rows(metrics, "plot_rounds")
    models = _models(metrics)
    colors = _model_colors(models)
    ends = round_ends(metrics)
    fig = Figure(figsize=(11.0, 4.2), layout="constrained")
    ax_e, ax_a = fig.subplots(1, 2, sharex=True)
    all_rounds = sorted({rnd for (_, _, rnd) in ends})
    multi = [m for m in models if len({rnd for (mm, _, rnd) in ends if mm == m}) > 1]
    for model in models:
        seeds = sorted({s for (m, s, _) in ends if m == model})
        rounds = sorted({rnd for (m, _, rnd) in ends if m == model})
        for ax, key in ((ax_e, "edges"), (ax_a, "test_accuracy")):
            v = np.array([[_num(ends[(model, s, rnd)].get(key)) if (model, s, rnd) in ends
                           else np.nan for rnd in rounds] for s in seeds])
            mean, std, _, _, n = column_stats(v)
            if not (n > 0).any():
                continue
            if len(rounds) == 1 and len(all_rounds) > 1:
                ax.axhline(mean[0], color=colors[model], ls="--", lw=1.3,
                           label=f"{model} (round {rounds[0]} only)")
                ax.axhspan(mean[0] - std[0], mean[0] + std[0], color=colors[model], alpha=0.1,
                           lw=0)
            else:
                ok = n > 0
                # dodge the models sideways a little so that their error bars do not overlap
                dodge = 0.06 * (multi.index(model) - (len(multi) - 1) / 2) if model in multi else 0
                x = np.array(rounds)[ok] + dodge
                ax.errorbar(x, mean[ok], yerr=std[ok], color=colors[model], marker="o", ms=4,
                            capsize=3, lw=1.4, label=model)
    ax_e.set_title("edges at the end of each round")
    ax_e.set_ylabel("edges")
    ax_a.set_title("test accuracy at the end of each round")
    ax_a.set_ylabel("test accuracy")
    for ax in (ax_e, ax_a):
        ax.set_xlabel("round")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.25)
    _zoom_accuracy(ax_a)
    if not ax_e.lines:
        ax_e.text(0.5, 0.5, "no graph model in this run", ha="center", va="center",
                  transform=ax_e.transAxes, color="0.4")
    found = {}
    for ax in (ax_a, ax_e):
        for h, lab in zip(*ax.get_legend_handles_labels()):
            found.setdefault(lab.split(" (")[0], (h, lab))
    handles = [found[m] for m in models if m in found]
    fig.legend([h for h, _ in handles], [lab for _, lab in handles], loc="outside right center",
               fontsize=8, frameon=False)
    n_seeds = len({r["seed"] for r in metrics})
    fig.suptitle((title or "per round") + f"; mean ± std over {n_seeds} seed(s)", fontsize=10)
    return _save(fig, path, dpi)
