"""What every figure shares: colours and markers, checks of their inputs, panel grids, saving.

Statistics over seeds come from :mod:`graphnet.lab.summary` (``column_stats``: mean, sample
standard deviation with ``ddof=1``, min, max, count).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from graphnet.errors import InputError, InputTypeError
from graphnet.fileio import atomic_write
from graphnet.graph.network import GraphNetwork
from graphnet.lab.summary import _nan_none as _num  # None -> nan; its home is the statistics

_MODEL_COLORS = {
    "graph": "tab:blue",
    "fixed-graph": "tab:orange",
    "set": "tab:green",
    "mlp": "tab:red",
    "cnn": "tab:purple",
}
_SPARE_COLORS = ("tab:brown", "tab:pink", "tab:olive", "tab:cyan", "tab:gray")
# distinct hollow markers keep coinciding points apart (fixed-graph and mlp often coincide)
_MODEL_MARKERS = {"graph": "o", "fixed-graph": "s", "set": "^", "mlp": "D", "cnn": "P"}
_ROLE_COLORS = {"input": "#1b9e77", "hidden": "#d0d0d0", "output": "#e6ab02"}
_POS_COLOR = "#2166ac"  # blue: positive weight
_NEG_COLOR = "#b2182b"  # red: negative weight
_MAX_PANELS = 30


def _model_colors(models) -> dict:
    """A fixed colour per known model, spare colours for the rest."""
    spare = iter(_SPARE_COLORS * 4)
    return {m: _MODEL_COLORS.get(m) or next(spare) for m in models}


def _models(metrics) -> list:
    return list(dict.fromkeys(r["model"] for r in metrics))


def _check_rows(metrics, where):
    if not isinstance(metrics, (list, tuple)):
        raise InputTypeError(f"{where}: metrics must be a list of row dicts, "
                             f"got {type(metrics).__name__}")
    if not metrics:
        raise InputError(f"{where}: metrics is empty; nothing to plot")
    for key in ("seed", "model", "round", "epoch"):
        if key not in metrics[0]:
            raise InputError(f"{where}: metrics rows need a {key!r} key; got keys "
                             f"{sorted(metrics[0])}")


def _check_snapshots(snapshots, where):
    if isinstance(snapshots, GraphNetwork) or not isinstance(snapshots, (list, tuple)):
        raise InputTypeError(f"{where}: snapshots must be a list of GraphNetwork, "
                             f"got {type(snapshots).__name__}")
    if not snapshots:
        raise InputError(f"{where}: snapshots is empty; expected one network per round")
    for k, net in enumerate(snapshots):
        if not isinstance(net, GraphNetwork):
            raise InputTypeError(f"{where}: snapshots[{k}] is a {type(net).__name__}, "
                                 f"expected a GraphNetwork")


def _pick(n, limit=_MAX_PANELS):
    """Indices of at most ``limit`` evenly spaced items, first and last included."""
    if n <= limit:
        return list(range(n))
    return sorted(set(np.linspace(0, n - 1, limit).round().astype(int).tolist()))


def _grid(n):
    """(rows, columns) for n panels: few empty cells, wider grids for many panels."""
    if n <= 4:
        return 1, n
    choices = (4, 3) if n <= 12 else (6, 5)
    ncols = min(choices, key=lambda c: (-n) % c)  # fewest empty cells; ties: the wider
    return math.ceil(n / ncols), ncols


def _wmax(snapshots):
    m = max((float(np.abs(net.matrix()).max()) for net in snapshots), default=0.0)
    return m if m > 0 else 1.0


def _save(fig, path, dpi):
    """Save ``fig`` atomically if a path is given; return the figure."""
    if path is not None:
        fmt = Path(path).suffix.lstrip(".").lower() or "png"
        atomic_write(path, lambda tmp: fig.savefig(tmp, format=fmt, dpi=dpi))
    return fig


def _saved(fig, path, dpi):
    _save(fig, path, dpi)
    return Path(path)
