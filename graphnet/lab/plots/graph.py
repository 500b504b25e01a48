"""One network drawn: nodes laid out by depth, edges coloured by sign and sized by weight.

Feedforward: x = depth, the nodes of one depth spread evenly on y; recurrent: x = shortest
distance from an input, unreachable nodes in a last column. Edges are blue for positive and red
for negative weights, width proportional to ``|w|`` (scaled to the largest ``|w|`` of the
figure), alpha by magnitude, dashed when the edge is fixed (``trainable = False``: a weight
training never changes); nodes are coloured by role, hollow when no input reaches them or
they reach no output.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch
from matplotlib.ticker import MaxNLocator

from graphnet.errors import InputTypeError
from graphnet.graph.network import GraphNetwork
from graphnet.lab.plots.common import _NEG_COLOR, _POS_COLOR, _ROLE_COLORS, _save

__all__ = ["graph_layout", "plot_graph"]

_GOLDEN = (math.sqrt(5) - 1) / 2


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


def _graph_legend_handles(fixed=False):
    """Role, reachability and sign entries; with ``fixed``, a dashed "fixed edge" one too."""
    roles = [Line2D([], [], ls="", marker="o", ms=6, mfc=c, mec="#404040", mew=0.6, label=r)
             for r, c in _ROLE_COLORS.items()]
    inactive = Line2D([], [], ls="", marker="o", ms=6, mfc="white", mec="#404040", mew=0.8,
                      label="no path in/out")
    signs = [Line2D([], [], color=_POS_COLOR, lw=2, label="w > 0"),
             Line2D([], [], color=_NEG_COLOR, lw=2, label="w < 0")]
    if fixed:
        signs.append(Line2D([], [], color="#404040", lw=1.5, ls="--", label="fixed edge"))
    return roles + [inactive] + signs


def _draw_graph(ax, net, *, title=None, wmax=None, arrows=None, labels=None):
    """Draw ``net`` on ``ax`` (the body of :func:`plot_graph`)."""
    pos = graph_layout(net)
    edges = net.edges()
    weights = np.array([w for _, _, w in edges], dtype=float)
    F = net.fixed_mask()
    styles = ["--" if F[u, v] else "-" for u, v, _ in edges]  # fixed edges dashed
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
                            linewidths=widths[lined], linestyles=[styles[k] for k in lined],
                            capstyle="round", zorder=1)
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
            color=colors[k], linewidth=widths[k], linestyle=styles[k], zorder=1)
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
        Add the role / sign legend (default: when a new figure is made); it has a
        "fixed edge" entry when ``net`` has fixed edges, which are drawn dashed.
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
    >>> skip = net.replace(fixed=net.matrix() != 0)  # every edge fixed: all dashed
    >>> {p.get_linestyle() for p in plot_graph(skip).axes[0].patches if p.get_gid() == "edge"}
    {'--'}
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
        ax.legend(handles=_graph_legend_handles(net.n_fixed > 0), fontsize=6, loc="upper left",
                  bbox_to_anchor=(1.0, 1.0), frameon=False)
    return _save(fig, path, dpi)
