"""Final test accuracy against size: the models of one run, and several runs side by side.

The *final* result of a (model, seed) is the last round whose row has a test accuracy and was
not rejected (``accepted != 0``): under the if-better policy a rejected mutation is not the
network that is kept. Models of the same size are set apart sideways
(:func:`graphnet.lab.plots.axes.dodge_factors`).
"""

from __future__ import annotations

import math
import os

import numpy as np
from matplotlib.figure import Figure

from graphnet.errors import InputError
from graphnet.lab.plots.axes import _zoom_accuracy, dodge_factors
from graphnet.lab.plots.common import (_MODEL_MARKERS, _check_rows, _model_colors, _models, _num,
                                       _save)
from graphnet.lab.plots.rundata import RunData, _as_run
from graphnet.lab.summary import column_stats, final_results

__all__ = ["plot_comparison", "compare_runs"]

def _label_offsets(points, step=11.0):
    """Vertical label offsets (points) that keep labels of nearby points apart.

    ``points`` are (log10 params, accuracy); two labels clash when their points are within
    8% of the x span and 6% of the y span; a clashing label moves down one ``step`` at a time.
    """
    if not points:
        return []
    p = np.array(points, dtype=float)
    span = np.maximum(np.ptp(p, axis=0), [1.0, 0.05])
    taken, out = [], []
    for x, y in p:
        level = 0
        while any(abs(x - tx) < 0.08 * span[0] and abs(y - ty) < 0.06 * span[1] and lv == level
                  for tx, ty, lv in taken):
            level += 1
        taken.append((x, y, level))
        out.append(4.0 - step * 2 * level)
    return out


def _draw_comparison(ax, finals, colors):
    """Accuracy against parameters on ``ax``: seeds as dots, mean with std bars, labelled.

    Models of the same size (within 1 %) are dodged sideways (:func:`dodge_factors`); their
    labels give the true parameter count.
    """
    drawn = {}
    for model, results in finals.items():
        params = np.array([_num(d["params"]) for d in results])
        acc = np.array([d["test_accuracy"] for d in results], dtype=float)
        ok = np.isfinite(params) & (params > 0)
        if ok.any():
            drawn[model] = (params[ok], acc[ok])
    shift = dodge_factors({m: float(np.mean(p)) for m, (p, _) in drawn.items()})
    labels = []
    for model, (params, acc) in drawn.items():
        mean, std, _, _, _ = column_stats(np.column_stack([params, acc]))
        x = params * shift[model]  # drawn position; params itself goes into the label
        ax.scatter(x, acc, s=14, color=colors[model], alpha=0.35, lw=0, zorder=2)
        xerr = None
        if params.min() != params.max():
            xerr = [[(mean[0] - params.min()) * shift[model]],
                    [(params.max() - mean[0]) * shift[model]]]
        ax.errorbar([mean[0] * shift[model]], [mean[1]], yerr=[std[1]], xerr=xerr,
                    color=colors[model], marker=_MODEL_MARKERS.get(model, "v"), ms=8, mfc="none",
                    mew=1.8, capsize=4, lw=1.4, zorder=3, label=model)
        labels.append((model, mean[0] * shift[model], mean[1], mean[0]))
    offsets = _label_offsets([(math.log10(x), y) for _, x, y, _ in labels])
    for (model, x, y, p), dy in zip(labels, offsets):
        left = shift[model] < 1  # dodged to the left: label on the left, clear of its twin
        ax.annotate(f"{model} · {p:,.0f} params\n{y:.3f}", (x, y), xytext=(-7 if left else 7, dy),
                    textcoords="offset points", fontsize=7, color=colors[model],
                    ha="right" if left else "left", va="bottom" if dy > 0 else "top")
    ax.set_xscale("log")
    ax.set_xlabel("parameters (log scale)")
    ax.set_ylabel("test accuracy (final round)")
    ax.grid(alpha=0.25, which="both")
    ax.margins(x=0.25)
    _zoom_accuracy(ax)
    if not ax.lines:
        ax.text(0.5, 0.5, "no completed round yet", ha="center", va="center",
                transform=ax.transAxes, color="0.4")


def _model_legend(fig, axes):
    """One figure legend with every model drawn on ``axes``, in drawing order."""
    found = {}
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            found.setdefault(lab, h)
    if found:
        fig.legend(list(found.values()), list(found), loc="outside right upper", fontsize=8,
                   frameon=False, title="model", title_fontsize=8)


def plot_comparison(metrics, *, title=None, path=None, dpi=100):
    """Final test accuracy against parameter count, one point per model (log x).

    Small dots are the seeds; the large point is the mean with a std bar over seeds (and a
    horizontal bar spanning the seeds' parameter counts when they differ, as for the mutated
    graph); each point is labelled with its model, mean parameter count and mean accuracy, and
    a legend lists every model. Models whose parameter counts coincide within 1 % (an MLP and
    the same graph never mutated) are set a little apart sideways so that neither hides the
    other; their labels keep the true count. The accuracy axis zooms to the data (at most 1).
    "Final" is the kept network's last round (:func:`graphnet.lab.summary.final_results`).

    Parameters
    ----------
    metrics : list of dict
    title : str, optional
    path : str or os.PathLike, optional
    dpi : int

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> rows = [dict(seed=s, model=m, round=0, epoch=1, params=p, test_accuracy=a + s / 100)
    ...         for s in (0, 1) for m, p, a in (("mlp", 650, 0.9), ("cnn", 9000, 0.95))]
    >>> fig = plot_comparison(rows)
    >>> fig.axes[0].get_xscale(), sorted(t.get_text().split()[0] for t in fig.axes[0].texts)
    ('log', ['cnn', 'mlp'])
    >>> [t.get_text() for t in fig.legends[0].get_texts()]
    ['mlp', 'cnn']
    """
    _check_rows(metrics, "plot_comparison")
    fig = Figure(figsize=(6.5, 4.5), layout="constrained")
    ax = fig.add_subplot()
    _draw_comparison(ax, final_results(metrics), _model_colors(_models(metrics)))
    _model_legend(fig, [ax])
    n_seeds = len({r["seed"] for r in metrics})
    ax.set_title((title or "test accuracy against size")
                 + f"\nmean ± std over {n_seeds} seed(s); dots = seeds", fontsize=9)
    return _save(fig, path, dpi)


def _labels(runs):
    names = [r.path.resolve().name for r in runs]
    if len(set(names)) == len(names):
        return names
    return [str(r.path) for r in runs]


def compare_runs(run_dirs, out=None, *, dpi=100) -> str:
    """Compare runs side by side; return a Markdown table of their final results.

    Parameters
    ----------
    run_dirs : sequence of str or os.PathLike or RunData
        At least one run.
    out : str or os.PathLike, optional
        Where to write the figure (one panel per run: test accuracy against parameters per
        model, log x, one y scale for all panels zoomed to the data, same-size models set
        apart as in :func:`plot_comparison`, one legend of every model). None: no figure.
    dpi : int

    Returns
    -------
    str
        A Markdown table ``| run | model | seeds | params | test accuracy |``, one line per run
        and model with a finished round; params is the mean over seeds (with the range when
        the seeds differ), accuracy ``mean ± std`` over seeds.

    Raises
    ------
    InputError
        No run given.
    DataError
        A path that is not a run directory (naming it and what is missing).

    Examples
    --------
    >>> compare_runs([])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    graphnet.errors.InputError: compare_runs: run_dirs is empty; expected at least one run ...
    """
    if isinstance(run_dirs, (str, os.PathLike, RunData)):
        run_dirs = [run_dirs]
    run_dirs = list(run_dirs)
    if not run_dirs:
        raise InputError("compare_runs: run_dirs is empty; expected at least one run directory")
    runs = [_as_run(d) for d in run_dirs]
    labels = _labels(runs)
    models = list(dict.fromkeys(m for run in runs for m in run.models))
    colors = _model_colors(models)
    lines = ["| run | model | seeds | params | test accuracy |", "| --- | --- | --- | --- | --- |"]
    finals = []
    for label, run in zip(labels, runs):
        fin = final_results(run.metrics)
        finals.append(fin)
        for model, results in fin.items():
            params = [d["params"] for d in results if d["params"] is not None]
            acc = np.array([[d["test_accuracy"]] for d in results], dtype=float)
            mean, std, _, _, n = column_stats(acc)
            if params:
                p = f"{np.mean(params):,.1f}".removesuffix(".0")
                if min(params) != max(params):
                    p += f" ({min(params):,}-{max(params):,})"
            else:
                p = "-"
            lines.append(f"| {label} | {model} | {int(n[0])} | {p} | "
                         f"{mean[0]:.4f} ± {std[0]:.4f} |")
    if out is not None:
        fig = Figure(figsize=(4.6 * len(runs) + 0.4, 4.4), layout="constrained")
        axes = np.atleast_1d(fig.subplots(1, len(runs), sharey=True, squeeze=False)).ravel()
        for ax, label, fin in zip(axes, labels, finals):
            _draw_comparison(ax, fin, colors)
            ax.set_title(label, fontsize=9)
        _zoom_accuracy(*axes)  # one y scale over all panels
        _model_legend(fig, axes)
        for ax in axes[1:]:
            ax.set_ylabel("")
        fig.suptitle("final test accuracy against parameters; mean ± std over seeds, dots = "
                     "seeds", fontsize=10)
        _save(fig, out, dpi)
    return "\n".join(lines)
