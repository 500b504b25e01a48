"""The lottery curve: test accuracy against the fraction of the weights remaining.

One line per model with an edge count, one point per round: x = the round's edges over
the model's round-0 edges (mean over seeds, log scale, falling to the right as in the
lottery-ticket papers), y = the round's final test accuracy, mean +- std over seeds. A
model that is never pruned (``fixed-graph``) is a dashed level at its last round.

The winning mask (:func:`plot_winning_mask`): the first layer's kept edges, inputs by
depth-1 nodes, and whether the kept inputs of a unit sit close together (local connectivity).
The statistics (:func:`lottery_points`, :func:`is_lottery`) live in :mod:`graphnet.lab.summary`.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from graphnet.errors import InputTypeError
from graphnet.graph.network import GraphNetwork
from graphnet.lab.plots.axes import _zoom_accuracy
from graphnet.lab.plots.common import _check_rows, _model_colors, _models, _save
from graphnet.lab.summary import lottery_points
from graphnet.rng import make_rng

__all__ = ["plot_lottery", "first_layer_mask", "mask_spread", "plot_winning_mask"]


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
    _check_rows(metrics, "plot_lottery")
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


def first_layer_mask(net) -> np.ndarray:
    """Edges kept from the inputs (rows, input order) to the depth-1 nodes (columns, node order).

    Examples
    --------
    >>> net = GraphNetwork.layered([3, 2, 1], seed=0)
    >>> first_layer_mask(net).astype(int).tolist()
    [[1, 1], [1, 1], [1, 1]]
    """
    if not isinstance(net, GraphNetwork):
        raise InputTypeError(f"first_layer_mask: net must be a GraphNetwork, "
                             f"got {type(net).__name__}")
    hidden = np.flatnonzero((net.depths() == 1) & (net.roles != "input"))
    assert hidden.size > 0, "a network has outputs, and the shallowest non-input is at depth 1"
    return net.matrix()[np.ix_(net.inputs, hidden)] != 0  # (n_inputs, n_first)


def mask_spread(mask, *, draws=200, seed=0) -> tuple:
    """Mean std of the kept input positions per unit, and its expectation for a random mask.

    Units (columns) with fewer than two kept inputs are left out. The random expectation keeps
    each unit's count ``k`` and draws ``k`` of the ``N`` positions uniformly without
    replacement, ``draws`` times per unit (the mean std is below ``sqrt(E var) =
    sqrt((N**2 - 1) / 12 * (k - 1) / k * N / (N - 1))``, which would overstate a random
    mask's spread for small ``k``).

    Parameters
    ----------
    mask : array_like of bool, shape (n_inputs, n_units)
    draws : int
        Random masks per unit for the expectation.
    seed : int or numpy.random.Generator
        For the draws (:func:`graphnet.rng.make_rng`): same seed, same number.

    Returns
    -------
    (spread, random_spread) : tuple of float
        nan, nan when no unit keeps two inputs.

    Examples
    --------
    >>> mask = np.zeros((10, 2), dtype=bool)
    >>> mask[[0, 1], 0] = mask[[8, 9], 1] = True
    >>> spread, random_spread = mask_spread(mask)
    >>> spread, 1.5 < random_spread < 2.0  # E|a - b| / 2 over pairs of 0..9: 11 / 6
    (0.5, True)
    """
    M = np.asarray(mask, dtype=bool)  # (n_inputs, n_units)
    N = M.shape[0]
    k = M.sum(axis=0)
    use = np.flatnonzero(k >= 2)
    if use.size == 0:
        return float("nan"), float("nan")
    pos = np.arange(N, dtype=float)
    spread = float(np.mean([pos[M[:, j]].std() for j in use]))
    rng = make_rng(seed)
    keys = rng.random((draws, N)).argsort(axis=1)  # (draws, N): random permutations of 0..N-1
    expected = {int(c): float(np.mean(keys[:, :c].std(axis=1))) for c in np.unique(k[use])}
    return spread, float(np.mean([expected[int(c)] for c in k[use]]))


def plot_winning_mask(net, *, reference=None, title=None, path=None, dpi=100):
    """The first layer's mask, and the kept input positions per unit sorted by their centre.

    Left: a binary image, rows = inputs in input order, columns = the depth-1 nodes in node
    order, dark = edge kept. Right: per unit (sorted by the mean position of its kept inputs)
    the positions of its kept inputs; local connectivity shows as a narrow diagonal band. The
    title gives the mean spread (std of kept positions per unit) against a random mask's:
    ``reference``'s spread when given (e.g. the random-prune model's network at the same
    round), else a random mask's with the same count per unit (:func:`mask_spread`).

    Parameters
    ----------
    net : GraphNetwork
    reference : GraphNetwork, optional
        A random mask of the same density, for the spread to compare with.
    title : str, optional
    path : str or os.PathLike, optional
    dpi : int

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    InputTypeError
        ``net`` or ``reference`` is not a GraphNetwork.

    Examples
    --------
    >>> net = GraphNetwork.layered([6, 4, 2], seed=0)
    >>> fig = plot_winning_mask(net)
    >>> fig.axes[0].images[0].get_array().shape
    (6, 4)
    """
    mask = first_layer_mask(net)
    if reference is not None and not isinstance(reference, GraphNetwork):
        raise InputTypeError(f"plot_winning_mask: reference must be a GraphNetwork or None, "
                             f"got {type(reference).__name__}")
    spread, same_counts = mask_spread(mask)
    expected, source = same_counts, "random mask"
    if reference is not None:
        expected, source = mask_spread(first_layer_mask(reference))[0], "random-prune"
    n_in, n_units = mask.shape
    fig = Figure(figsize=(10.0, 4.2), layout="constrained")
    ax, ax2 = fig.subplots(1, 2)
    ax.imshow(mask.astype(float), cmap="Greys", vmin=0, vmax=1, aspect="auto",
              interpolation="nearest")
    ax.set_xlabel(f"first hidden layer ({n_units} nodes, node order)")
    ax.set_ylabel(f"input ({n_in}, input order)")
    ax.set_title(f"kept: {int(mask.sum())} of {mask.size} ({100 * mask.mean():.1f} %)",
                 fontsize=9)
    k = mask.sum(axis=0)
    live = np.flatnonzero(k > 0)
    centre = (np.arange(n_in) @ mask[:, live]) / k[live]
    order = live[np.argsort(centre, kind="stable")]
    for x, j in enumerate(order):
        rows = np.flatnonzero(mask[:, j])
        ax2.plot(np.full(rows.size, x), rows, "s", color="k", ms=1.5, mew=0)
    ax2.set_xlim(-0.5, max(len(order), 1) - 0.5)
    ax2.set_ylim(n_in - 0.5, -0.5)
    ax2.set_xlabel("units with a kept input, sorted by the centre of their kept inputs")
    ax2.set_ylabel("kept input position")
    ax2.set_title(f"spread (std of kept positions) {spread:.2f}; random, same counts "
                  f"{same_counts:.2f}", fontsize=8)
    fig.suptitle((title or "winning mask, first layer")
                 + f"; spread {spread:.2f} vs {expected:.2f} ({source})", fontsize=10)
    return _save(fig, path, dpi)
