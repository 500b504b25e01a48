"""Every figure of a run, drawn from its run directory into ``RUN/plots/``."""

from __future__ import annotations

from graphnet.errors import DataError
from graphnet.lab.plots.common import _saved
from graphnet.lab.plots.comparison import plot_comparison
from graphnet.lab.plots.curves import plot_learning_curves, plot_rounds
from graphnet.lab.plots.evolution import animate_evolution, plot_evolution
from graphnet.graph.network import GraphNetwork
from graphnet.lab.plots.lottery import plot_lottery, plot_winning_mask
from graphnet.lab.plots.matrix import plot_matrices
from graphnet.lab.plots.rundata import _as_run
from graphnet.lab.summary import is_lottery

__all__ = ["plot_run"]

# Models whose snapshots get evolution / matrix / GIF figures, and their file-name stems.
_EVOLVING = {"graph": "", "set": "set_"}


def plot_run(run_dir, *, dpi=100, gif=True) -> list:
    """Draw every figure of a run into ``RUN/plots/`` and return the written paths.

    Files (each written atomically: a temp file in ``plots/``, then ``os.replace``):

    * ``learning_curves.png``, ``rounds.png``, ``comparison.png``;
    * ``lottery.png`` for a run that rewinds or has ``random-prune`` (:mod:`.lottery`), and
      ``lottery_mask_seed<S>.png``: the first layer's mask of the ``graph`` model's last round
      for its first seed, against ``random-prune``'s of the same seed and round when present;
    * per seed of the ``graph`` model: ``evolution_seed<S>.png``, ``matrix_seed<S>.png`` and
      ``evolution_seed<S>.gif``; the same for ``set`` as ``evolution_set_seed<S>.png``,
      ``matrix_set_seed<S>.png``, ``evolution_set_seed<S>.gif``.

    Parameters
    ----------
    run_dir : str or os.PathLike or RunData
    dpi : int
        Resolution of the PNGs (the GIF uses 80% of it).
    gif : bool
        Also write the GIFs (the slowest part).

    Returns
    -------
    list of pathlib.Path

    Raises
    ------
    DataError
        Not a run directory (naming what is missing), a malformed file, or no metrics rows yet.

    Examples
    --------
    >>> import tempfile
    >>> plot_run(tempfile.mkdtemp())  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    graphnet.errors.DataError: ...: not a run directory: missing config.toml, metrics.csv
    """
    run = _as_run(run_dir)
    if not run.metrics:
        raise DataError(f"{run.path / 'metrics.csv'}: no rows yet; nothing to plot")
    out = run.path / "plots"
    if out.exists() and not out.is_dir():
        raise DataError(f"{out}: exists and is not a folder; the figures go into "
                        f"{run.path}/plots/ (move that file away)")
    out.mkdir(exist_ok=True)
    name = run.path.resolve().name
    written = [
        _saved(plot_learning_curves(run.metrics, title=f"{name}: learning curves"),
               out / "learning_curves.png", dpi),
        _saved(plot_rounds(run.metrics, title=f"{name}: per round"), out / "rounds.png", dpi),
        _saved(plot_comparison(run.metrics, title=f"{name}: test accuracy against size"),
               out / "comparison.png", dpi),
    ]
    if is_lottery(run.config, run.models):
        written.append(_saved(plot_lottery(run.metrics, title=f"{name}: lottery curve"),
                              out / "lottery.png", dpi))
        written += _winning_mask(run, out, name, dpi)
    for model, stem in _EVOLVING.items():
        for (m, seed) in run.snapshots:
            if m != model:
                continue
            nets = run.snapshots[(m, seed)]
            rows = run.rows(model, seed) or None
            label = f"{name}: {model}, seed {seed}"
            written.append(_saved(plot_evolution(nets, rows, title=label),
                                  out / f"evolution_{stem}seed{seed}.png", dpi))
            written.append(_saved(plot_matrices(nets, title=label),
                                  out / f"matrix_{stem}seed{seed}.png", dpi))
            if gif:
                written.append(animate_evolution(nets, out / f"evolution_{stem}seed{seed}.gif",
                                                 metrics_rows=rows, title=label,
                                                 dpi=max(20, int(dpi * 0.8))))
    return written


def _winning_mask(run, out, name, dpi) -> list:
    """``lottery_mask_seed<S>.png`` for the graph model's first seed (last round), if any."""
    seeds = sorted(s for (m, s) in run.snapshots if m == "graph")
    if not seeds:
        return []
    seed = seeds[0]
    last = run.snapshots.rounds(("graph", seed))[-1]
    net = _snapshot(run, "graph", seed, last)
    ref = None
    if ("random-prune", seed) in run.snapshots:
        ref = _snapshot(run, "random-prune", seed, run.snapshots.rounds(("random-prune", seed))[-1])
    fig = plot_winning_mask(net, reference=ref,
                            title=f"{name}: graph, seed {seed}, round {last}, first layer")
    return [_saved(fig, out / f"lottery_mask_seed{seed}.png", dpi)]


def _snapshot(run, model, seed, rnd):
    """One snapshot read from disk (not the whole list of rounds)."""
    return GraphNetwork.from_node_link(
        run.path / "snapshots" / model / f"seed{seed}" / f"round{rnd:03d}.json")
