"""Every figure of a run, drawn from its run directory into ``RUN/plots/``."""

from __future__ import annotations

from graphnet.errors import DataError
from graphnet.lab.plots.common import _saved
from graphnet.lab.plots.comparison import plot_comparison
from graphnet.lab.plots.curves import plot_learning_curves, plot_rounds
from graphnet.lab.plots.evolution import animate_evolution, plot_evolution
from graphnet.lab.plots.lottery import is_lottery, plot_lottery
from graphnet.lab.plots.matrix import plot_matrices
from graphnet.lab.plots.rundata import _as_run

__all__ = ["plot_run"]

# Models whose snapshots get evolution / matrix / GIF figures, and their file-name stems.
_EVOLVING = {"graph": "", "set": "set_"}


def plot_run(run_dir, *, dpi=100, gif=True) -> list:
    """Draw every figure of a run into ``RUN/plots/`` and return the written paths.

    Files (each written atomically: a temp file in ``plots/``, then ``os.replace``):

    * ``learning_curves.png``, ``rounds.png``, ``comparison.png``;
    * ``lottery.png`` for a run that rewinds or has ``random-prune`` (:mod:`.lottery`);
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
