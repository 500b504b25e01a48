"""A network round after round: a grid of its drawings, or an animated GIF with its matrix.

All panels and frames share one weight scale (the largest ``|w|`` over the rounds); a round
rejected by the if-better policy is marked, and shows the test accuracy of the network kept.
"""

from __future__ import annotations

import numpy as np
from matplotlib.animation import FuncAnimation, PillowWriter
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from graphnet.errors import InputError
from graphnet.fileio import atomic_write
from graphnet.lab.plots.common import _check_snapshots, _grid, _pick, _save, _wmax
from graphnet.lab.plots.graph import _draw_graph, _graph_legend_handles
from graphnet.lab.plots.matrix import _MATRIX_CMAP, _draw_matrix, node_order
from graphnet.lab.finals import round_ends

__all__ = ["plot_evolution", "animate_evolution"]

def _round_info(metrics_rows, where):
    """{round: (test accuracy of the kept network, accepted)} for one (model, seed).

    After a rejected round the snapshot holds the network kept from an earlier round, so its
    test accuracy is that round's, not the rejected attempt's.
    """
    if metrics_rows is None:
        return {}
    keys = {(r.get("model"), r.get("seed")) for r in metrics_rows}
    if len(keys) > 1:
        raise InputError(f"{where}: metrics_rows must be the rows of one model and seed, "
                         f"got {len(keys)} (model, seed) pairs")
    info, kept = {}, None
    for (_, _, rnd), row in sorted(round_ends(metrics_rows).items(), key=lambda kv: kv[0][2]):
        accepted = row.get("accepted")
        if accepted != 0:
            kept = row.get("test_accuracy")
        info[rnd] = (kept, accepted)
    return info


def _round_title(r, net, info):
    acc, accepted = info.get(r, (None, None))
    parts = [f"round {r}", f"{net.n_edges} edges"]
    if acc is not None:
        parts.append(f"test acc {acc:.3f}")
    text = " · ".join(parts)
    if accepted == 0:
        text += " (mutation rejected)"
    return text


def plot_evolution(snapshots, metrics_rows=None, *, rounds=None, title=None, path=None, dpi=100):
    """A grid of the network after each round, all on one weight scale.

    Parameters
    ----------
    snapshots : list of GraphNetwork
        One network per round (``snapshots[k]`` is round ``rounds[k]``).
    metrics_rows : list of dict, optional
        The metrics rows of this model and seed; gives each panel the test accuracy of the
        network shown. A round rejected by the if-better policy is marked; its snapshot is the
        network kept, so its panel shows the kept round's accuracy, not the attempt's.
    rounds : sequence of int, optional
        Round numbers (default ``0, 1, ...``).
    title : str, optional
        Figure title.
    path : str or os.PathLike, optional
        Save there (atomically).
    dpi : int

    Returns
    -------
    matplotlib.figure.Figure
        At most 30 panels: a longer run shows 30 evenly spaced rounds, first and last included.

    Raises
    ------
    InputError
        Empty snapshots, ``rounds`` of another length, rows of several (model, seed) pairs.

    Examples
    --------
    >>> from graphnet.graph.network import GraphNetwork
    >>> nets = [GraphNetwork.layered([2, 3, 1], seed=s) for s in range(3)]
    >>> rows = [dict(seed=0, model="graph", round=r, epoch=1, test_accuracy=0.5 + r / 10)
    ...         for r in range(3)]
    >>> fig = plot_evolution(nets, rows)
    >>> [ax.get_title() for ax in fig.axes][-1]
    'round 2 · 9 edges · test acc 0.700'
    """
    _check_snapshots(snapshots, "plot_evolution")
    rounds = list(range(len(snapshots))) if rounds is None else list(rounds)
    if len(rounds) != len(snapshots):
        raise InputError(f"plot_evolution: rounds has {len(rounds)} entries, "
                         f"snapshots {len(snapshots)}")
    info = _round_info(metrics_rows, "plot_evolution")
    shown = _pick(len(snapshots))
    nrows, ncols = _grid(len(shown))
    fig = Figure(figsize=(max(3.3 * ncols, 6.6), 2.6 * nrows + 0.9), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    wmax = _wmax(snapshots)
    for ax, k in zip(axes, shown):
        _draw_graph(ax, snapshots[k], wmax=wmax, title=_round_title(rounds[k], snapshots[k], info))
    for ax in axes[len(shown):]:
        ax.set_visible(False)
    fig.legend(handles=_graph_legend_handles(any(s.n_fixed for s in snapshots)),
               loc="outside lower center", ncol=6, fontsize=7, frameon=False)
    note = "" if len(shown) == len(snapshots) else f" ({len(shown)} of {len(snapshots)} rounds)"
    fig.suptitle((title or "network after each round") + note
                 + f"\nedge width and alpha ~ |w|, full at |w| = {wmax:.3g}", fontsize=9)
    return _save(fig, path, dpi)


def animate_evolution(snapshots, path, *, metrics_rows=None, rounds=None, title=None, fps=1.0,
                      dpi=80):
    """Write an animated GIF: per round, the graph (left) and its weight matrix (right).

    Parameters
    ----------
    snapshots : list of GraphNetwork
        One frame per network.
    path : str or os.PathLike
        The GIF (written atomically).
    metrics_rows : list of dict, optional
        Rows of this model and seed, for the test accuracy in each frame's title.
    rounds : sequence of int, optional
    title : str, optional
        Prefix of every frame's title.
    fps : float
        Frames per second (default 1).
    dpi : int

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> import os, tempfile
    >>> from PIL import Image
    >>> from graphnet.graph.network import GraphNetwork
    >>> nets = [GraphNetwork.layered([2, 3, 1], seed=s) for s in range(3)]
    >>> out = animate_evolution(nets, os.path.join(tempfile.mkdtemp(), "evo.gif"), dpi=30)
    >>> Image.open(out).n_frames
    3
    """
    _check_snapshots(snapshots, "animate_evolution")
    if path is None:
        raise InputError("animate_evolution: path is required (where to write the GIF)")
    rounds = list(range(len(snapshots))) if rounds is None else list(rounds)
    if len(rounds) != len(snapshots):
        raise InputError(f"animate_evolution: rounds has {len(rounds)} entries, "
                         f"snapshots {len(snapshots)}")
    if not (isinstance(fps, (int, float)) and fps > 0):
        raise InputError(f"animate_evolution: fps must be a positive number, got {fps!r}")
    info = _round_info(metrics_rows, "animate_evolution")
    fig = Figure(figsize=(10.0, 4.4), layout="constrained")
    ax_g, ax_m = fig.subplots(1, 2, width_ratios=[1.35, 1.0])
    wmax = _wmax(snapshots)
    norm = Normalize(vmin=-wmax, vmax=wmax)
    order = node_order(snapshots)  # every frame's matrix in one node order
    fig.colorbar(ScalarMappable(norm=norm, cmap=_MATRIX_CMAP), ax=ax_m, shrink=0.8,
                 label="weight w[i, j]")
    fig.legend(handles=_graph_legend_handles(any(s.n_fixed for s in snapshots)),
               loc="outside lower center", ncol=6, fontsize=7, frameon=False)

    def draw(k):
        ax_g.clear()
        ax_m.clear()
        _draw_graph(ax_g, snapshots[k], wmax=wmax)
        _draw_matrix(ax_m, snapshots[k], norm, order=order)
        fig.suptitle(((title + ": ") if title else "")
                     + _round_title(rounds[k], snapshots[k], info), fontsize=10)
        return []

    # lay the figure out once, on the first frame, and keep it: constrained layout on every
    # frame would cost more than the drawing and make the panels jump between frames
    draw(0)
    fig.draw_without_rendering()
    fig.set_layout_engine("none")
    anim = FuncAnimation(fig, draw, frames=len(snapshots), init_func=lambda: [], blit=False,
                         repeat=False)
    return atomic_write(path, lambda tmp: anim.save(tmp, writer=PillowWriter(fps=fps), dpi=dpi))
