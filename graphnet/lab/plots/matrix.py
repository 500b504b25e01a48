"""One fixed node order for the weight matrices of a run, so that rounds compare at a glance.

An H move (:func:`graphnet.graph.operators.permute_nodes`, ``swap_nodes``) relabels the nodes:
``W -> P W P^T`` with every node's role, bias, activation and *name* moving along. Drawn in each
round's own node order, the matrix after an H move looks like noise although the network is
the same. Node names are the identities that survive H (and every other operator: removed nodes
take their name with them, added nodes get a fresh one), so every round is drawn in one order
of names: the first round's node order, then the nodes that appear later in the order they
appear. A node absent from a round keeps its row and column there, blank (NaN).

The order is made by pure functions on networks (:func:`node_order`,
:func:`ordered_matrix`, :func:`ordered_roles`, :func:`matrix_ticks`); :func:`plot_matrices`
draws the heatmaps in it.
"""

from __future__ import annotations

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import Normalize, to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from graphnet.errors import InputError
from graphnet.lab.plots.common import _ROLE_COLORS, _check_snapshots, _grid, _pick, _save, _wmax

__all__ = ["node_order", "ordered_matrix", "ordered_roles", "matrix_ticks", "plot_matrices"]

MAX_NAMED_TICKS = 40  # up to this many nodes, every row and column is labelled with its name
_SPARSE_TICKS = 8  # otherwise about this many labelled positions, role-block edges first
_MATRIX_CMAP = "RdBu"  # red below 0, white at 0, blue above: same signs as the graph edges
_ABSENT_COLOR = "#9e9e9e"  # matrix rows and columns of a node absent from that round


def node_order(snapshots) -> tuple:
    """Node names in one order for all rounds: the first network's, then newcomers.

    Parameters
    ----------
    snapshots : sequence of GraphNetwork
        One network per round, in round order.

    Returns
    -------
    tuple of str
        Every name that occurs in any round once: the first network's node order, then the
        names that appear in later rounds in order of first appearance (within a round, in
        that round's node order).

    Examples
    --------
    >>> from graphnet.graph.network import GraphNetwork
    >>> from graphnet.graph.extras import split_edge
    >>> from graphnet.graph.operators import swap_nodes
    >>> net = GraphNetwork.from_matrix([[0, 2.0, 0], [0, 0, 3.0], [0, 0, 0]],
    ...                                inputs=[0], outputs=[2])
    >>> later = split_edge(swap_nodes(net, 1, 2), 2, 1)  # h0 <-> y0, then h1 on h0 -> y0
    >>> later.names, node_order([net, later])
    (('x0', 'y0', 'h0', 'h1'), ('x0', 'h0', 'y0', 'h1'))
    """
    order = {}
    for net in snapshots:
        for name in net.names:
            order.setdefault(name, len(order))
    return tuple(order)


def ordered_matrix(net, order) -> np.ndarray:
    """``W`` of ``net`` with rows and columns in ``order`` (NaN for nodes ``net`` lacks).

    Parameters
    ----------
    net : GraphNetwork
    order : sequence of str
        Node names, e.g. from :func:`node_order`; must include every name of ``net``.

    Returns
    -------
    ndarray of shape (len(order), len(order))
        ``M[a, b] = W[i, j]`` where node ``i`` is named ``order[a]`` and ``j`` ``order[b]``;
        rows and columns of names that ``net`` does not hold are NaN.

    Raises
    ------
    InputError
        ``net`` has a node whose name is not in ``order``.

    Examples
    --------
    >>> from graphnet.graph.network import GraphNetwork
    >>> from graphnet.graph.operators import swap_nodes
    >>> net = GraphNetwork.from_matrix([[0, 2.0, 0], [0, 0, 3.0], [0, 0, 0]],
    ...                                inputs=[0], outputs=[2])
    >>> swapped = swap_nodes(net, 1, 2)
    >>> bool((ordered_matrix(swapped, net.names) == net.matrix()).all())
    True
    >>> ordered_matrix(net, ("x0", "gone", "h0", "y0"))
    array([[ 0., nan,  2.,  0.],
           [nan, nan, nan, nan],
           [ 0., nan,  0.,  3.],
           [ 0., nan,  0.,  0.]])
    """
    pos = {name: a for a, name in enumerate(order)}
    missing = [name for name in net.names if name not in pos]
    if missing:
        raise InputError(f"ordered_matrix: order lacks the node(s) {missing[:5]} of the network; "
                         f"expected every name of net.names")
    rows = np.array([pos[name] for name in net.names], dtype=int)
    out = np.full((len(order), len(order)), np.nan)
    out[np.ix_(rows, rows)] = net.matrix()  # out[pos(i), pos(j)] = W[i, j]
    return out


def ordered_roles(net, order) -> list:
    """The role of each name of ``order`` in ``net`` (None where ``net`` has no such node).

    Examples
    --------
    >>> from graphnet.graph.network import GraphNetwork
    >>> net = GraphNetwork.from_matrix([[0, 2.0], [0, 0]], inputs=[0], outputs=[1])
    >>> ordered_roles(net, ("y0", "h9", "x0"))
    ['output', None, 'input']
    """
    role = dict(zip(net.names, net.roles))
    return [role.get(name) for name in order]


def matrix_ticks(order, roles) -> list:
    """Positions to label along a matrix axis of ``len(order)`` nodes.

    Every position when there are at most 40 nodes; otherwise the first node of each block of
    one role (when there are at most 6 blocks), the last node, and evenly spaced positions
    (about 8 over the axis) that are not too close to those.

    Parameters
    ----------
    order : sequence of str
    roles : sequence of str or None
        The role at each position (None: absent).

    Returns
    -------
    list of int
        Ascending positions.

    Examples
    --------
    >>> matrix_ticks(["a", "b", "c"], ["input", "hidden", "output"])
    [0, 1, 2]
    >>> roles = ["input"] * 50 + ["hidden"] * 20 + ["output"] * 5
    >>> matrix_ticks([f"n{k}" for k in range(75)], roles)
    [0, 11, 21, 32, 42, 50, 63, 70, 74]
    """
    n = len(order)
    if n <= MAX_NAMED_TICKS:
        return list(range(n))
    edges = {0, n - 1}
    starts = [a for a in range(1, n) if roles[a] != roles[a - 1]]
    if len(starts) <= 6:
        edges.update(starts)
    gap = n / (2 * _SPARSE_TICKS)
    for a in np.linspace(0, n - 1, _SPARSE_TICKS).round().astype(int).tolist():
        if all(abs(a - b) >= gap for b in edges):
            edges.add(a)
    return sorted(edges)


def _role_strip(roles):
    """RGBA per position; transparent where the node is absent (role None)."""
    return np.array([to_rgba(_ROLE_COLORS[r]) if r is not None else (0, 0, 0, 0)
                     for r in roles])


def _draw_matrix(ax, net, norm, *, order=None, title=None):
    """Heatmap of W in ``order`` (node names; default the net's own) with role strips.

    Rows and columns of names the network lacks are blank (NaN, drawn in the "bad" grey);
    the cells of fixed edges carry a small black cross (gid ``"fixed"``).
    """
    order = net.names if order is None else tuple(order)
    W = ordered_matrix(net, order)  # (n, n) in the fixed order
    roles = ordered_roles(net, order)
    n = len(order)
    cmap = colormaps[_MATRIX_CMAP].with_extremes(bad=_ABSENT_COLOR)
    im = ax.imshow(W, cmap=cmap, norm=norm, interpolation="nearest")
    im.set_gid("matrix")
    if net.n_fixed:
        at = {name: a for a, name in enumerate(order)}
        rows, cols = np.nonzero(net.fixed_mask())
        marks = ax.scatter([at[net.names[j]] for j in cols], [at[net.names[i]] for i in rows],
                           marker="x", c="black", linewidths=0.6, zorder=2,
                           s=float(np.clip((100.0 / n) ** 2, 1.0, 120.0)))  # ~ half a cell
        marks.set_gid("fixed")
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


def _role_legend_handles(absent=False, fixed=False):
    handles = [Line2D([], [], ls="", marker="s", ms=6, mfc=c, mec="none", label=f"{r} node")
               for r, c in _ROLE_COLORS.items()]
    if absent:
        handles.append(Line2D([], [], ls="", marker="s", ms=6, mfc=_ABSENT_COLOR, mec="none",
                              label="node absent in that round"))
    if fixed:
        handles.append(Line2D([], [], ls="", marker="x", ms=5, mec="black", mew=0.8,
                              label="fixed edge"))
    return handles


def plot_matrices(snapshots, *, rounds=None, title=None, path=None, dpi=100):
    """The weight matrix ``W`` (row = from, column = to) after each round, as heatmaps.

    One diverging colormap centred on 0 (red < 0 < blue, white = no edge) and one symmetric
    colour scale ``[-m, m]`` for all panels, ``m`` the largest ``|w|`` over all rounds. A strip
    of role colours runs along the rows (left) and the columns (top); contiguous role blocks are
    outlined; node names label every row and column up to 40 nodes, else a few (role-block
    starts and evenly spaced ones).

    Every panel is drawn in **one node order** (:func:`node_order`):
    the first shown round's nodes, by name, then nodes that appear later (``split_edge``) in
    their order of appearance. Names move with their nodes under H (``permute_nodes``,
    ``swap_nodes``), so a round that only reordered the nodes draws the same picture as the
    round before; a node absent from a round (removed, or not yet added) leaves a blank grey
    row and column there. The cell of a fixed edge (``trainable = False``) is marked with a
    small black cross.

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
    >>> from graphnet.graph.network import GraphNetwork
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
    >>> skip = nets[0].replace(fixed=nets[0].matrix() != 0)   # every edge fixed
    >>> marks = [c for c in plot_matrices([skip]).axes[0].collections if c.get_gid() == "fixed"]
    >>> len(marks[0].get_offsets()) == skip.n_edges
    True
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
    fixed = any(snapshots[k].n_fixed for k in shown)
    fig.legend(handles=_role_legend_handles(absent, fixed), loc="outside lower center",
               ncol=4 if absent and not fixed else 3, fontsize=7, frameon=False)
    note = "" if len(shown) == len(snapshots) else f" ({len(shown)} of {len(snapshots)} rounds)"
    fig.suptitle((title or "weight matrix after each round") + note, fontsize=9)
    return _save(fig, path, dpi)
