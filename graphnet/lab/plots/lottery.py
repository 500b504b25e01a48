"""The lottery curve: test accuracy against the fraction of the weights remaining.

One line per model with an edge count, one point per round: x = the round's edges over
the model's round-0 edges (mean over seeds, log scale, falling to the right as in the
lottery-ticket papers), y = the round's final test accuracy, mean +- std over seeds. A
model that is never pruned (``fixed-graph``) is a dashed level at its last round.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from graphnet.lab.plots.axes import _zoom_accuracy
from graphnet.lab.plots.common import _check_rows, _model_colors, _models, _num, _save
from graphnet.lab.summary import column_stats, round_ends

__all__ = ["lottery_points", "plot_lottery", "is_lottery"]


def lottery_points(metrics) -> dict:
    """Per model with an edge count: (rounds, fraction remaining, accuracy mean, std, seeds).

    Parameters
    ----------
    metrics : list of dict
        Metrics rows (``seed model round epoch edges test_accuracy``).

    Returns
    -------
    dict
        model -> dict of ndarray of shape (rounds,): ``round``, ``fraction`` (mean over
        seeds of edges / round-0 edges), ``mean``, ``std`` (ddof 1) and ``n`` of the test
        accuracy at the round's last epoch.

    Examples
    --------
    >>> rows = [dict(seed=s, model="graph", round=r, epoch=1, edges=100 - 20 * r,
    ...              test_accuracy=0.5 + 0.1 * s) for s in (0, 1) for r in range(3)]
    >>> p = lottery_points(rows)["graph"]
    >>> p["fraction"].tolist(), p["mean"].round(2).tolist()
    ([1.0, 0.8, 0.6], [0.55, 0.55, 0.55])
    """
    _check_rows(metrics, "lottery_points")
    ends = round_ends(metrics)
    out = {}
    for model in _models(metrics):
        seeds = sorted({s for (m, s, _) in ends if m == model})
        rounds = sorted({r for (m, _, r) in ends if m == model})
        edges = np.array([[_num(ends[(model, s, r)].get("edges")) if (model, s, r) in ends
                           else np.nan for r in rounds] for s in seeds])
        if not np.isfinite(edges).any() or rounds[0] != 0:
            continue
        acc = np.array([[_num(ends[(model, s, r)].get("test_accuracy")) if (model, s, r) in ends
                         else np.nan for r in rounds] for s in seeds])
        fraction, _, _, _, _ = column_stats(edges / edges[:, :1])
        mean, std, _, _, n = column_stats(acc)
        out[model] = {"round": np.array(rounds), "fraction": fraction, "mean": mean, "std": std,
                      "n": n}
    return out


def is_lottery(config: dict, models) -> bool:
    """Whether a run is a lottery experiment: it rewinds, or it has the random-prune baseline.

    Examples
    --------
    >>> is_lottery({"mutation": {"rewind": "init"}}, ["graph"]), is_lottery({}, ["graph"])
    (True, False)
    """
    return config.get("mutation", {}).get("rewind", "none") != "none" or "random-prune" in models


def plot_lottery(metrics, *, title=None, path=None, dpi=100):
    """Test accuracy against the fraction of the weights remaining, per model (see the module).

    Parameters
    ----------
    metrics : list of dict
        Metrics rows (``seed model round epoch edges test_accuracy``).
    title : str, optional
    path : str or os.PathLike, optional
    dpi : int

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> rows = [dict(seed=s, model=m, round=r, epoch=1, edges=100 - (20 * r if m != "dense" else 0),
    ...              test_accuracy=0.6) for s in (0, 1) for m in ("graph", "dense")
    ...         for r in range(3)]
    >>> fig = plot_lottery(rows)
    >>> [line.get_label() for line in fig.axes[0].get_lines()]
    ['graph', 'dense (round 2, unpruned)']
    >>> fig.axes[0].lines[0].get_xdata().tolist()
    [100.0, 80.0, 60.0]
    """
    points = lottery_points(metrics)
    colors = _model_colors(_models(metrics))
    fig = Figure(figsize=(7.0, 4.4), layout="constrained")
    ax = fig.subplots()
    for model, p in points.items():
        ok = p["n"] > 0
        if np.all(p["fraction"][ok] == 1):  # never pruned: its last round as a level
            k = np.flatnonzero(ok)[-1]
            ax.axhline(p["mean"][k], color=colors[model], ls="--", lw=1.3,
                       label=f"{model} (round {p['round'][k]}, unpruned)")
            continue
        x = 100 * p["fraction"][ok]
        ax.plot(x, p["mean"][ok], color=colors[model], marker="o", ms=4, lw=1.4, label=model)
        ax.fill_between(x, (p["mean"] - p["std"])[ok], (p["mean"] + p["std"])[ok],
                        color=colors[model], alpha=0.15, lw=0)
    ax.set_xscale("log")
    ax.invert_xaxis()  # pruning runs to the right
    ticks = [t for t in (100, 80, 64, 51.2, 41, 32.8, 26.2, 21, 16.8, 13.4, 10.7, 5, 2, 1)
             if points and min(100 * np.nanmin(p["fraction"]) for p in points.values()) <= 1.01 * t]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.minorticks_off()
    ax.margins(x=0.04)
    ax.set_xlabel("weights remaining (% of round 0)")
    ax.set_ylabel("test accuracy (last epoch of the round)")
    ax.grid(alpha=0.25)
    _zoom_accuracy(ax)
    ax.legend(fontsize=8, frameon=False)
    n_seeds = len({r["seed"] for r in metrics})
    fig.suptitle((title or "lottery curve") + f"; mean ± std over {n_seeds} seed(s)",
                 fontsize=10)
    return _save(fig, path, dpi)
