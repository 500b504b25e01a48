"""Figures of a lab run, drawn from the run directory alone.

Everything here takes data (a :class:`RunData`, metrics rows, a list of networks) and returns
a ``matplotlib.figure.Figure``; nothing reads globals. Figures are built with
``matplotlib.figure.Figure`` directly, never through pyplot, so no backend is needed, no figure
is registered anywhere and nothing has to be closed.

What the figures show (see :func:`plot_run` for the files):

* a network (:func:`plot_graph`): nodes laid out by depth (feedforward: x = depth, the nodes of
  one depth spread evenly on y; recurrent: x = shortest distance from an input, unreachable nodes
  in a last column), edges blue for positive and red for negative weights, width proportional to
  ``|w|`` (scaled to the largest ``|w|`` of the figure), alpha by magnitude; nodes coloured by
  role, hollow when no input reaches them or they reach no output;
* its weight matrix (:func:`plot_matrices`): ``W[i, j]`` (row = from, column = to) with a
  diverging colormap centred on 0 and one symmetric scale for all panels, a role strip along the
  rows and the columns;
* learning curves, per-round edges and test accuracy, and accuracy against parameter count.

"Mean +- std over seeds" uses the sample standard deviation (``ddof=1``; 0 for a single seed).
The *final* result of a (model, seed) is the last round whose row has a test accuracy and was not
rejected (``accepted != 0``): under the if-better policy a rejected mutation is not the network
that is kept.
"""

from __future__ import annotations

import json
import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from matplotlib.animation import FuncAnimation, PillowWriter
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection
from matplotlib import colormaps
from matplotlib.colors import Normalize, to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch
from matplotlib.ticker import MaxNLocator

from graphnet.errors import DataError, InputError, InputTypeError
from graphnet.fileio import atomic_write
from graphnet.lab import rundir as rd
from graphnet.lab.plot_axes import accuracy_limits, dodge_factors
from graphnet.lab.plot_matrix import (MAX_NAMED_TICKS, matrix_ticks, node_order, ordered_matrix,
                                      ordered_roles)
from graphnet.lab.summary import final_rows, round_ends
from graphnet.graph.network import GraphNetwork

__all__ = [
    "METRIC_COLUMNS",
    "RunData",
    "SnapshotStore",
    "load_run",
    "read_metrics",
    "final_results",
    "graph_layout",
    "plot_graph",
    "plot_evolution",
    "plot_matrices",
    "animate_evolution",
    "plot_learning_curves",
    "plot_rounds",
    "plot_comparison",
    "plot_run",
    "compare_runs",
]

METRIC_COLUMNS = rd.METRICS_COLUMNS

# Models whose snapshots get evolution / matrix / GIF figures, and their file-name stems.
_EVOLVING = {"graph": "", "set": "set_"}

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
_MATRIX_CMAP = "RdBu"  # red below 0, white at 0, blue above: same signs as the graph edges
_ABSENT_COLOR = "#9e9e9e"  # matrix rows and columns of a node absent from that round
_MAX_PANELS = 30
_GOLDEN = (math.sqrt(5) - 1) / 2


# ----------------------------------------------------------------------------------------
# reading a run directory
# ----------------------------------------------------------------------------------------


def read_metrics(path) -> list:
    """Read a run's ``metrics.csv`` into a list of typed rows.

    Parameters
    ----------
    path : str or os.PathLike
        A CSV file with at least the columns of :data:`METRIC_COLUMNS` (any order; extra
        columns are kept as numbers, or strings when not numeric).

    Returns
    -------
    list of dict
        One dict per row, keys = column names. ``seed round epoch edges nodes params rank
        accepted`` are ``int``, ``model`` is ``str``, the others ``float``; an empty cell is
        ``None``.

    Raises
    ------
    DataError
        Missing file, missing columns (all named), a row of the wrong length, a cell that is not
        a number where one is expected (naming line and column).

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "metrics.csv")
    >>> with open(path, "w") as fh:
    ...     _ = fh.write(",".join(METRIC_COLUMNS) + "\\n0,mlp,0,1,0.5,0.8,,,,,,,650,,,,0.1\\n")
    >>> row = read_metrics(path)[0]
    >>> row["model"], row["epoch"], row["loss"], row["test_accuracy"], row["params"]
    ('mlp', 1, 0.5, None, 650)
    """
    return rd.read_metrics(path, exact_header=False)


def _read_history(path) -> list:
    """history.jsonl as a list of dicts (absent file: empty list)."""
    if not path.is_file():
        return []
    records = []
    with open(path, encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"{path}: line {line_no} is not valid JSON ({exc})") from exc
            if not isinstance(record, dict):
                raise DataError(f"{path}: line {line_no} is not a JSON object")
            records.append(record)
    return records


_SEED_DIR = re.compile(r"seed(\d+)")
_ROUND_FILE = re.compile(r"round(\d+)\.json")


class SnapshotStore(Mapping):
    """The snapshots of a run, ``{(model, seed): [GraphNetwork of round 0, 1, ...]}``, lazily.

    The directory is scanned when the store is made; a (model, seed)'s networks are read on
    first access and kept. Round files must run 0, 1, ..., k without a gap.

    Parameters
    ----------
    root : str or os.PathLike
        ``RUN/snapshots`` (``<model>/seed<S>/round<RRR>.json`` below it). Need not exist.

    Examples
    --------
    >>> import os, tempfile
    >>> root = tempfile.mkdtemp()
    >>> os.makedirs(os.path.join(root, "graph", "seed0"))
    >>> _ = GraphNetwork.seed_example().to_node_link(os.path.join(root, "graph", "seed0",
    ...                                                           "round000.json"))
    >>> store = SnapshotStore(root)
    >>> list(store), store.rounds(("graph", 0)), store[("graph", 0)][0].n_edges
    ([('graph', 0)], [0], 7)
    """

    def __init__(self, root):
        self._root = Path(root)
        self._files = {}
        self._cache = {}
        if not self._root.is_dir():
            return
        for model_dir in sorted(p for p in self._root.iterdir() if p.is_dir()):
            for seed_dir in model_dir.iterdir():
                match = _SEED_DIR.fullmatch(seed_dir.name)
                if not (match and seed_dir.is_dir()):
                    continue
                files = {}
                for f in seed_dir.iterdir():
                    m = _ROUND_FILE.fullmatch(f.name)
                    if m:
                        files[int(m.group(1))] = f
                if files:
                    key = (model_dir.name, int(match.group(1)))
                    self._files[key] = dict(sorted(files.items()))
        self._files = dict(sorted(self._files.items()))

    def __getitem__(self, key):
        if key not in self._files:
            raise KeyError(key)
        if key not in self._cache:
            files = self._files[key]
            rounds = list(files)
            if rounds != list(range(len(rounds))):
                gaps = sorted(set(range(rounds[-1] + 1)) - set(rounds))
                model, seed = key
                raise DataError(
                    f"{self._root / model / f'seed{seed}'}: snapshot rounds must run 0..k "
                    f"without a gap; missing round{gaps[0]:03d}.json")
            self._cache[key] = [GraphNetwork.from_node_link(f) for f in files.values()]
        return self._cache[key]

    def __iter__(self):
        return iter(self._files)

    def __len__(self):
        return len(self._files)

    def rounds(self, key) -> list:
        """The round numbers on disk for ``key``, ascending."""
        return list(self._files[key])

    def __repr__(self):
        return f"SnapshotStore({str(self._root)!r}, keys={list(self._files)})"


@dataclass
class RunData:
    """A run directory, parsed: see :func:`load_run`.

    Examples
    --------
    >>> rows = [dict(seed=s, model=m, round=0, epoch=1) for s in (1, 0) for m in ("mlp", "cnn")]
    >>> run = RunData(Path("run"), {}, rows, [], SnapshotStore("run/snapshots"))
    >>> run.models, run.seeds, run.rows("cnn", 0)
    (['mlp', 'cnn'], [0, 1], [{'seed': 0, 'model': 'cnn', 'round': 0, 'epoch': 1}])
    """

    path: Path
    config: dict = field(repr=False)
    metrics: list = field(repr=False)
    history: list = field(repr=False)
    snapshots: SnapshotStore = field(repr=False)
    state: dict | None = field(default=None, repr=False)

    @property
    def models(self) -> list:
        """Model names in the order they first appear in metrics.csv (the config's order)."""
        return list(dict.fromkeys(r["model"] for r in self.metrics))

    @property
    def seeds(self) -> list:
        """The seeds in metrics.csv, ascending."""
        return sorted({r["seed"] for r in self.metrics})

    def rows(self, model=None, seed=None) -> list:
        """The metrics rows of one model and/or seed (all when both are None)."""
        return [r for r in self.metrics
                if (model is None or r["model"] == model) and (seed is None or r["seed"] == seed)]


def load_run(run_dir) -> RunData:
    """Read a run directory written by the lab runner.

    Parameters
    ----------
    run_dir : str or os.PathLike
        Must hold ``config.toml`` and ``metrics.csv``; ``history.jsonl``, ``state.json`` and
        ``snapshots/`` are read when present.

    Returns
    -------
    RunData
        ``path``, ``config`` (dict from TOML), ``metrics`` (see :func:`read_metrics`),
        ``history`` (list of dicts), ``snapshots`` (:class:`SnapshotStore`, read lazily),
        ``state`` (dict or None); ``models``, ``seeds`` and ``rows(model, seed)`` to select.

    Raises
    ------
    DataError
        Not a directory, or not a run (naming the missing files); a malformed file.

    Examples
    --------
    >>> import tempfile
    >>> load_run(tempfile.mkdtemp())  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    graphnet.errors.DataError: ...: not a run directory: missing config.toml, metrics.csv
    """
    if not isinstance(run_dir, (str, os.PathLike)):
        raise InputTypeError(f"load_run: run_dir must be a path, got {type(run_dir).__name__}")
    path = Path(run_dir)
    if not path.is_dir():
        what = "a file" if path.exists() else "no such directory"
        raise DataError(f"{path}: not a run directory ({what})")
    missing = [name for name in ("config.toml", "metrics.csv") if not (path / name).is_file()]
    if missing:
        raise DataError(f"{path}: not a run directory: missing {', '.join(missing)}")
    try:
        with open(path / "config.toml", "rb") as fh:
            config = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"{path / 'config.toml'}: not valid TOML ({exc})") from exc
    state = None
    if (path / "state.json").is_file():
        try:
            state = json.loads((path / "state.json").read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise DataError(f"{path / 'state.json'}: not valid JSON ({exc})") from exc
    return RunData(
        path=path,
        config=config,
        metrics=read_metrics(path / "metrics.csv"),
        history=_read_history(path / "history.jsonl"),
        snapshots=SnapshotStore(path / "snapshots"),
        state=state,
    )


# ----------------------------------------------------------------------------------------
# metrics helpers
# ----------------------------------------------------------------------------------------


def _model_colors(models) -> dict:
    """A fixed colour per known model, spare colours for the rest."""
    spare = iter(_SPARE_COLORS * 4)
    return {m: _MODEL_COLORS.get(m) or next(spare) for m in models}


def _models(metrics) -> list:
    return list(dict.fromkeys(r["model"] for r in metrics))


def _num(value) -> float:
    """None -> nan, else float."""
    return math.nan if value is None else float(value)


def _stats(values):
    """Column statistics of a 2-D array with nan for missing: mean, std (ddof=1), min, max, n.

    A column without a finite value gives nan everywhere (no warning).
    """
    v = np.asarray(values, dtype=float)
    ok = np.isfinite(v)
    n = ok.sum(axis=0)
    safe = np.where(ok, v, 0.0)
    mean = np.divide(safe.sum(axis=0), n, out=np.full(v.shape[1], np.nan), where=n > 0)
    dev = np.where(ok, v - mean, 0.0)
    var = np.divide((dev ** 2).sum(axis=0), n - 1, out=np.zeros(v.shape[1]), where=n > 1)
    std = np.where(n > 0, np.sqrt(var), np.nan)
    lo = np.where(n > 0, np.where(ok, v, np.inf).min(axis=0), np.nan)
    hi = np.where(n > 0, np.where(ok, v, -np.inf).max(axis=0), np.nan)
    return mean, std, lo, hi, n


def final_results(metrics) -> dict:
    """The final result of every (model, seed): the kept network's last round.

    Parameters
    ----------
    metrics : list of dict
        Metrics rows (at least ``seed model round epoch test_accuracy``; ``params``,
        ``accepted``, ``edges`` are used when present).

    Returns
    -------
    dict
        ``{model: [{"seed", "round", "params", "test_accuracy", "edges"}, ...]}``, models in
        order of appearance, seeds ascending. Per (model, seed) the last round whose last-epoch
        row has a test accuracy and ``accepted != 0``; a (model, seed) without such a round is
        left out.

    Examples
    --------
    >>> rows = [dict(seed=0, model="graph", round=0, epoch=1, test_accuracy=0.8, params=90),
    ...         dict(seed=0, model="graph", round=1, epoch=1, test_accuracy=0.9, params=70,
    ...              accepted=1),
    ...         dict(seed=0, model="graph", round=2, epoch=1, test_accuracy=0.7, params=50,
    ...              accepted=0)]
    >>> final_results(rows)["graph"][0]["round"], final_results(rows)["graph"][0]["params"]
    (1, 70)
    """
    best = {key: {"seed": row["seed"], "round": row["round"], "params": row.get("params"),
                  "test_accuracy": row["test_accuracy"], "edges": row.get("edges")}
            for key, row in final_rows(metrics).items()}
    out = {}
    for model in _models(metrics):
        found = sorted((v for (m, _), v in best.items() if m == model), key=lambda d: d["seed"])
        if found:
            out[model] = found
    return out


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


# ----------------------------------------------------------------------------------------
# saving
# ----------------------------------------------------------------------------------------


def _save(fig, path, dpi):
    """Save ``fig`` atomically if a path is given; return the figure."""
    if path is not None:
        fmt = Path(path).suffix.lstrip(".").lower() or "png"
        atomic_write(path, lambda tmp: fig.savefig(tmp, format=fmt, dpi=dpi))
    return fig


# ----------------------------------------------------------------------------------------
# one network
# ----------------------------------------------------------------------------------------


def _check_net(net, where):
    if not isinstance(net, GraphNetwork):
        raise InputTypeError(f"{where}: expected a GraphNetwork, got {type(net).__name__}")


def _columns(net) -> np.ndarray:
    """The x column of each node: depth (feedforward) or BFS distance from an input."""
    if net.mode == "feedforward":
        return net.depths().astype(int)
    n = net.n_nodes
    col = np.full(n, -1, dtype=int)
    col[net.inputs] = 0
    frontier = list(net.inputs)
    succ = [[] for _ in range(n)]
    for u, v, _ in net.edges():
        succ[u].append(v)
    d = 0
    while frontier:
        d += 1
        nxt = []
        for u in frontier:
            for v in succ[u]:
                if col[v] < 0:
                    col[v] = d
                    nxt.append(v)
        frontier = nxt
    col[col < 0] = col.max() + 1
    return col


def graph_layout(net) -> np.ndarray:
    """Node positions for :func:`plot_graph`: x = column, y spread evenly in (0, 1).

    Feedforward: the column is the node's depth (``net.depths()``). Recurrent: the shortest-path
    distance from any input; nodes no input reaches share one last column. The ``m`` nodes of a
    column, in node order, get ``y = 1 - (k + 0.5) / m`` (top to bottom). When an edge skips a
    column (it would be drawn through the nodes between), column ``c > 0`` is shifted by
    ``0.8 * (frac(c * 0.618...) - 0.5) / m``, less than half a gap, so that the small levels
    of a deep graph do not all sit on the line of such an edge.

    Parameters
    ----------
    net : GraphNetwork

    Returns
    -------
    ndarray of float, shape (n, 2)

    Examples
    --------
    >>> graph_layout(GraphNetwork.layered([2, 1], seed=0)).tolist()
    [[0.0, 0.75], [0.0, 0.25], [1.0, 0.5]]
    >>> graph_layout(GraphNetwork.seed_example())[:, 0].tolist()  # s0..s4, x0
    [1.0, 2.0, 3.0, 3.0, 2.0, 0.0]
    """
    _check_net(net, "graph_layout")
    col = _columns(net)
    pos = np.zeros((net.n_nodes, 2))
    pos[:, 0] = col
    # an edge that skips columns is drawn straight through the columns between; centred
    # small levels would put nodes right on it, so such graphs get their columns staggered
    stagger = any(col[v] - col[u] > 1 for u, v, _ in net.edges())
    for c in np.unique(col):
        members = np.flatnonzero(col == c)
        m = len(members)
        pos[members, 1] = 1.0 - (np.arange(m) + 0.5) / m
        if stagger and c > 0:
            # a golden-ratio step never repeats, and less than half a gap keeps the spacing
            pos[members, 1] += 0.8 * ((c * _GOLDEN) % 1.0 - 0.5) / m
    return pos


def _edge_paths(net, pos):
    """Polylines of every edge: straight when it goes right, a bent curve otherwise."""
    span_x = max(1.0, float(np.ptp(pos[:, 0])))
    t = np.linspace(0.0, 1.0, 12)[:, None]
    paths = []
    for u, v, _ in net.edges():
        a, b = pos[u], pos[v]
        if u == v:  # a small loop above the node
            ang = np.linspace(-0.5 * np.pi, 1.5 * np.pi, 16)
            r = np.array([0.03 * (span_x + 0.9), 0.04])  # ~3.5% of the axes each way
            centre = a + np.array([0.0, r[1]])
            paths.append(centre + np.c_[np.cos(ang), np.sin(ang)] * r)
        elif b[0] > a[0]:
            paths.append(np.array([a, b]))
        else:  # backwards or within a column: quadratic Bezier bent to the left of travel
            scale = np.array([span_x, 1.0])
            an, bn = a / scale, b / scale
            d = bn - an
            ctrl = (an + bn) / 2 + 0.3 * np.array([-d[1], d[0]])
            curve = (1 - t) ** 2 * an + 2 * (1 - t) * t * ctrl + t ** 2 * bn
            paths.append(curve * scale)
    return paths


def _edge_style(weights, wmax, n_edges):
    """RGBA colours and line widths: colour by sign, width and alpha by |w| / wmax."""
    if n_edges <= 100:
        lw_max, a_min, a_max = 3.0, 0.35, 0.95
    elif n_edges <= 1000:
        lw_max, a_min, a_max = 2.0, 0.08, 0.8
    else:  # a hairball: let the strong edges stand out
        lw_max, a_min, a_max = 1.2, 0.04, 0.7
    rel = np.clip(np.abs(weights) / wmax, 0.0, 1.0) if wmax > 0 else np.zeros(len(weights))
    colors = np.array([to_rgba(_POS_COLOR if w > 0 else _NEG_COLOR) for w in weights])
    colors = colors.reshape(-1, 4)
    colors[:, 3] = a_min + (a_max - a_min) * rel
    widths = np.maximum(lw_max * rel, 0.15)
    return colors, widths


def _node_size(n):
    return float(np.clip(2400.0 / max(n, 1), 10.0, 220.0))


def _graph_legend_handles():
    roles = [Line2D([], [], ls="", marker="o", ms=6, mfc=c, mec="#404040", mew=0.6, label=r)
             for r, c in _ROLE_COLORS.items()]
    inactive = Line2D([], [], ls="", marker="o", ms=6, mfc="white", mec="#404040", mew=0.8,
                      label="no path in/out")
    signs = [Line2D([], [], color=_POS_COLOR, lw=2, label="w > 0"),
             Line2D([], [], color=_NEG_COLOR, lw=2, label="w < 0")]
    return roles + [inactive] + signs


def _draw_graph(ax, net, *, title=None, wmax=None, arrows=None, labels=None):
    """Draw ``net`` on ``ax`` (the body of :func:`plot_graph`)."""
    pos = graph_layout(net)
    edges = net.edges()
    weights = np.array([w for _, _, w in edges], dtype=float)
    if wmax is None:
        wmax = float(np.abs(weights).max()) if len(weights) else 1.0
    n, n_edges = net.n_nodes, len(edges)
    if arrows is None:
        arrows = n_edges <= 60 and n <= 30
    if labels is None:
        labels = n <= 16
    size = 300.0 if labels else _node_size(n)
    colors, widths = _edge_style(weights, wmax, n_edges)
    order = np.argsort(np.abs(weights), kind="stable")  # strong edges drawn last, on top
    paths = _edge_paths(net, pos)

    loops = [k for k in order if edges[k][0] == edges[k][1]]
    straight = [k for k in order if edges[k][0] != edges[k][1]] if arrows else []
    lined = loops if arrows else list(order)
    if lined:
        lc = LineCollection([paths[k] for k in lined], colors=colors[lined],
                            linewidths=widths[lined], capstyle="round", zorder=1)
        lc.set_gid("edges")
        ax.add_collection(lc, autolim=False)
    radius = math.sqrt(size) / 2 + 1.5  # points
    for k in straight:
        u, v, _ = edges[k]
        bent = pos[v][0] <= pos[u][0]
        patch = FancyArrowPatch(
            posA=tuple(pos[u]), posB=tuple(pos[v]), arrowstyle="-|>",
            connectionstyle=f"arc3,rad={0.3 if bent else 0.0}",
            mutation_scale=7 + 2 * widths[k], shrinkA=radius, shrinkB=radius,
            color=colors[k], linewidth=widths[k], zorder=1)
        patch.set_gid("edge")
        ax.add_patch(patch)

    inactive = np.zeros(n, dtype=bool)
    inactive[net.unreachable()] = True
    inactive[net.dead_ends()] = True
    role_rgba = np.array([to_rgba(_ROLE_COLORS[r]) for r in net.roles]).reshape(-1, 4)
    face = np.where(inactive[:, None], np.array(to_rgba("white")), role_rgba)
    edgec = np.where(inactive[:, None], role_rgba * [0.6, 0.6, 0.6, 1], to_rgba("#404040"))
    sc = ax.scatter(pos[:, 0], pos[:, 1], s=size, c=face, edgecolors=edgec,
                    linewidths=np.where(inactive, 1.2, 0.5), zorder=3)
    sc.set_gid("nodes")
    if labels:
        for i, name in enumerate(net.names):
            ax.text(pos[i, 0], pos[i, 1], name, ha="center", va="center", fontsize=6, zorder=4)

    x_max = float(pos[:, 0].max()) if n else 0.0
    ax.set_xlim(-0.45, x_max + 0.45)
    ax.set_ylim(-0.03, 1.07)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.set_yticks([])
    if x_max <= 12:
        ax.set_xticks(range(int(x_max) + 1))
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=8))
    ax.tick_params(axis="x", labelsize=6, length=2, pad=1)
    if net.mode == "feedforward":
        ax.set_xlabel("depth", fontsize=7, labelpad=1)
    else:
        unreached = len(net.unreachable()) > 0
        ax.set_xlabel("distance from an input" + (" (last: unreachable)" if unreached else ""),
                      fontsize=7, labelpad=1)
    if title is not None:
        ax.set_title(title, fontsize=8)
    return ax


def plot_graph(net, ax=None, *, title=None, wmax=None, arrows=None, legend=None, path=None,
               dpi=100):
    """Draw one network: nodes by depth, edges coloured by sign and sized by weight.

    Parameters
    ----------
    net : GraphNetwork
    ax : matplotlib Axes, optional
        Draw here; default a new figure with one axes.
    title : str, optional
    wmax : float, optional
        The ``|w|`` drawn at full width and alpha (default: the largest ``|w|`` of ``net``);
        pass the maximum over several networks to compare them on one scale.
    arrows : bool, optional
        Draw arrow heads (one patch per edge). Default: only for small graphs (at most 60 edges
        and 30 nodes); otherwise all edges are one ``LineCollection``.
    legend : bool, optional
        Add the role / sign legend (default: when a new figure is made).
    path : str or os.PathLike, optional
        Save the figure there (atomically; format from the suffix).
    dpi : int

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> net = GraphNetwork.layered([3, 4, 2], seed=0)
    >>> fig = plot_graph(net, title="MLP 3-4-2")
    >>> ax = fig.axes[0]
    >>> ax.get_title(), sum(p.get_gid() == "edge" for p in ax.patches)
    ('MLP 3-4-2', 20)
    """
    _check_net(net, "plot_graph")
    if ax is None:
        fig = Figure(figsize=(6.0, 4.0), layout="constrained")
        ax = fig.add_subplot()
        legend = True if legend is None else legend
    else:
        fig = ax.figure
    _draw_graph(ax, net, title=title, wmax=wmax, arrows=arrows)
    if legend:
        ax.legend(handles=_graph_legend_handles(), fontsize=6, loc="upper left",
                  bbox_to_anchor=(1.0, 1.0), frameon=False)
    return _save(fig, path, dpi)


# ----------------------------------------------------------------------------------------
# a sequence of networks
# ----------------------------------------------------------------------------------------


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


def _round_title(r, net, info):
    acc, accepted = info.get(r, (None, None))
    parts = [f"round {r}", f"{net.n_edges} edges"]
    if acc is not None:
        parts.append(f"test acc {acc:.3f}")
    text = " · ".join(parts)
    if accepted == 0:
        text += " (mutation rejected)"
    return text


def _wmax(snapshots):
    m = max((float(np.abs(net.matrix()).max()) for net in snapshots), default=0.0)
    return m if m > 0 else 1.0


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
    fig.legend(handles=_graph_legend_handles(), loc="outside lower center", ncol=6, fontsize=7,
               frameon=False)
    note = "" if len(shown) == len(snapshots) else f" ({len(shown)} of {len(snapshots)} rounds)"
    fig.suptitle((title or "network after each round") + note
                 + f"\nedge width and alpha ~ |w|, full at |w| = {wmax:.3g}", fontsize=9)
    return _save(fig, path, dpi)


def _role_strip(roles):
    """RGBA per position; transparent where the node is absent (role None)."""
    return np.array([to_rgba(_ROLE_COLORS[r]) if r is not None else (0, 0, 0, 0)
                     for r in roles])


def _draw_matrix(ax, net, norm, *, order=None, title=None):
    """Heatmap of W in ``order`` (node names; default the net's own) with role strips.

    Rows and columns of names the network lacks are blank (NaN, drawn in the "bad" grey).
    """
    order = net.names if order is None else tuple(order)
    W = ordered_matrix(net, order)  # (n, n) in the fixed order
    roles = ordered_roles(net, order)
    n = len(order)
    cmap = colormaps[_MATRIX_CMAP].with_extremes(bad=_ABSENT_COLOR)
    im = ax.imshow(W, cmap=cmap, norm=norm, interpolation="nearest")
    im.set_gid("matrix")
    strip = _role_strip(roles)
    s = max(0.4, 0.035 * n)  # strip thickness, in cells
    gap = 0.35 * s
    lo = -0.5 - gap
    ax.imshow(strip[:, None, :], extent=(lo - s, lo, n - 0.5, -0.5), interpolation="nearest")
    ax.imshow(strip[None, :, :], extent=(-0.5, n - 0.5, lo, lo - s), interpolation="nearest")
    present = [r for r in roles if r is not None]
    blocks = sum(present[k] != present[k - 1] for k in range(1, len(present)))
    if blocks <= 6:  # contiguous role blocks: outline them
        changes = [a + 0.5 for a in range(n - 1)
                   if roles[a] is not None and roles[a + 1] is not None
                   and roles[a] != roles[a + 1]]
        for c in changes:
            ax.plot([-0.5, n - 0.5], [c, c], color="0.45", lw=0.6)
            ax.plot([c, c], [-0.5, n - 0.5], color="0.45", lw=0.6)
    ax.set_xlim(lo - s, n - 0.5)
    ax.set_ylim(n - 0.5, lo - s)
    ticks = matrix_ticks(order, roles)
    size = 6 if n <= 16 else 4.5 if n <= MAX_NAMED_TICKS else 5
    ax.set_xticks(ticks, [order[a] for a in ticks], rotation=90, fontsize=size)
    ax.set_yticks(ticks, [order[a] for a in ticks], fontsize=size)
    ax.tick_params(length=0 if n <= MAX_NAMED_TICKS else 2, pad=1)
    ax.set_xlabel("to (column j)", fontsize=7, labelpad=2)
    ax.set_ylabel("from (row i)", fontsize=7, labelpad=2)
    for spine in ax.spines.values():
        spine.set_visible(False)
    if title is not None:
        ax.set_title(title, fontsize=8)
    return im


def _role_legend_handles(absent=False):
    handles = [Line2D([], [], ls="", marker="s", ms=6, mfc=c, mec="none", label=f"{r} node")
               for r, c in _ROLE_COLORS.items()]
    if absent:
        handles.append(Line2D([], [], ls="", marker="s", ms=6, mfc=_ABSENT_COLOR, mec="none",
                              label="node absent in that round"))
    return handles


def plot_matrices(snapshots, *, rounds=None, title=None, path=None, dpi=100):
    """The weight matrix ``W`` (row = from, column = to) after each round, as heatmaps.

    One diverging colormap centred on 0 (red < 0 < blue, white = no edge) and one symmetric
    colour scale ``[-m, m]`` for all panels, ``m`` the largest ``|w|`` over all rounds. A strip
    of role colours runs along the rows (left) and the columns (top); contiguous role blocks are
    outlined; node names label every row and column up to 40 nodes, else a few (role-block
    starts and evenly spaced ones).

    Every panel is drawn in **one node order** (:func:`graphnet.lab.plot_matrix.node_order`):
    the first shown round's nodes, by name, then nodes that appear later (``split_edge``) in
    their order of appearance. Names move with their nodes under H (``permute_nodes``,
    ``swap_nodes``), so a round that only reordered the nodes draws the same picture as the
    round before; a node absent from a round (removed, or not yet added) leaves a blank grey
    row and column there.

    Parameters
    ----------
    snapshots : list of GraphNetwork
    rounds : sequence of int, optional
        Round numbers (default ``0, 1, ...``).
    title : str, optional
    path : str or os.PathLike, optional
    dpi : int

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> nets = [GraphNetwork.layered([2, 3, 1], seed=s) for s in range(2)]
    >>> fig = plot_matrices(nets)
    >>> im = [a for a in fig.axes[0].images if a.get_gid() == "matrix"][0]
    >>> bool((im.get_array() == nets[0].matrix()).all()), im.norm.vmin == -im.norm.vmax
    (True, True)
    >>> from graphnet.graph.operators import swap_nodes
    >>> fig = plot_matrices([nets[0], swap_nodes(nets[0], 2, 4)])  # H alone: same picture
    >>> a, b = (ax.images[0].get_array() for ax in fig.axes[:2])
    >>> bool((a == b).all()), [t.get_text() for t in fig.axes[1].get_xticklabels()]
    (True, ['x0', 'x1', 'h0', 'h1', 'h2', 'y0'])
    """
    _check_snapshots(snapshots, "plot_matrices")
    rounds = list(range(len(snapshots))) if rounds is None else list(rounds)
    if len(rounds) != len(snapshots):
        raise InputError(f"plot_matrices: rounds has {len(rounds)} entries, "
                         f"snapshots {len(snapshots)}")
    shown = _pick(len(snapshots))
    nrows, ncols = _grid(len(shown))
    fig = Figure(figsize=(2.9 * ncols + 0.8, 2.9 * nrows + 0.7), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    m = _wmax(snapshots)
    norm = Normalize(vmin=-m, vmax=m)
    order = node_order([snapshots[k] for k in shown])  # one order for all panels
    im = None
    for ax, k in zip(axes, shown):
        net = snapshots[k]
        im = _draw_matrix(ax, net, norm, order=order,
                          title=f"round {rounds[k]} · {net.n_edges} edges")
    for ax in axes[len(shown):]:
        ax.set_visible(False)
    fig.colorbar(im, ax=axes[: len(shown)].tolist(), shrink=0.8, label="weight w[i, j]")
    absent = any(snapshots[k].n_nodes < len(order) for k in shown)
    fig.legend(handles=_role_legend_handles(absent), loc="outside lower center",
               ncol=4 if absent else 3, fontsize=7, frameon=False)
    note = "" if len(shown) == len(snapshots) else f" ({len(shown)} of {len(snapshots)} rounds)"
    fig.suptitle((title or "weight matrix after each round") + note, fontsize=9)
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
    fig.legend(handles=_graph_legend_handles(), loc="outside lower center", ncol=6, fontsize=7,
               frameon=False)

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


# ----------------------------------------------------------------------------------------
# metrics figures
# ----------------------------------------------------------------------------------------


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
    (:func:`graphnet.lab.plot_axes.accuracy_limits`).

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
                mean, _, lo, hi, n = _stats(v)
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
            mean, std, _, _, n = _stats(v)
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
        mean, std, _, _, _ = _stats(np.column_stack([params, acc]))
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


def _zoom_accuracy(*axes):
    """Set the y limits of accuracy axes (shared or not) to their data, see accuracy_limits."""
    low = min((ax.dataLim.y0 for ax in axes), default=math.inf)
    high = max((ax.dataLim.y1 for ax in axes), default=-math.inf)
    for ax in axes:
        ax.set_ylim(*accuracy_limits(low, high))


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
    "Final" is the kept network's last round (see :func:`final_results`).

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


# ----------------------------------------------------------------------------------------
# a whole run, several runs
# ----------------------------------------------------------------------------------------


def _as_run(run):
    return run if isinstance(run, RunData) else load_run(run)


def plot_run(run_dir, *, dpi=100, gif=True) -> list:
    """Draw every figure of a run into ``RUN/plots/`` and return the written paths.

    Files (each written atomically: a temp file in ``plots/``, then ``os.replace``):

    * ``learning_curves.png``, ``rounds.png``, ``comparison.png``;
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


def _saved(fig, path, dpi):
    _save(fig, path, dpi)
    return Path(path)


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
            mean, std, _, _, n = _stats(acc)
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
