"""A search's figures, drawn from its directory alone (:mod:`graphnet.lab.searchdata`).

* :func:`plot_front` -- per seed, the Pareto front after each generation: validation accuracy
  (or loss) against edges, over every network evaluated up to that generation, one step line
  per generation coloured by generation, all evaluated networks in grey behind;
* :func:`plot_fitness` -- per seed, the best and the median fitness of each generation
  against the evaluated networks so far (``generations.csv``);
* :func:`plot_lineage_tree` -- the best network's ancestors and their siblings (every other
  child of an ancestor) as a tree: x = generation, the ancestors' path drawn bold with the
  operators that made each step, nodes coloured by validation accuracy;
* the best network along its lineage: the lab's :func:`~graphnet.lab.plots.plot_evolution`
  and :func:`~graphnet.lab.plots.plot_matrices` over ``snapshots/seed<S>/lineage/`` (a
  panel's "round" is the generation of that ancestor).

:func:`plot_search` writes them all under ``SEARCH/plots/`` (the names are
:func:`graphnet.lab.searchreport.figure_names`').
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
from matplotlib import colormaps
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, StrMethodFormatter

from graphnet.errors import InputError
from graphnet.lab.plots.common import _grid, _pick, _save, _saved
from graphnet.lab.plots.evolution import plot_evolution
from graphnet.lab.plots.matrix import plot_matrices
from graphnet.lab.searchdata import (SearchData, load_search, op_names, pareto_front,
                                     run_together)
from graphnet.lab.searchreport import figure_names, write_search_summary

__all__ = ["plot_front", "plot_fitness", "plot_lineage_tree", "lineage_tree", "plot_search"]

_MAX_SEED_PANELS = 6
_MAX_FRONTS = 12  # generations drawn per panel (evenly spaced, first and last included)
_SEED_CMAP = "tab20"


def _as_search(search) -> SearchData:
    return search if isinstance(search, SearchData) else load_search(search)


def _metric(data: SearchData, metric):
    if metric is None:
        objective = str(data.config.get("search", {}).get("objective", ""))
        metric = "val_loss" if "loss" in objective else "val_accuracy"
    if metric not in ("val_accuracy", "val_loss"):
        raise InputError(f"plot_front: metric must be 'val_accuracy' or 'val_loss', "
                         f"got {metric!r}")
    return metric


def plot_front(search, *, metric=None, seeds=None, path=None, dpi=100):
    """The Pareto front after each generation, per seed: validation score against edges.

    Parameters
    ----------
    search : SearchData or path
    metric : {"val_accuracy", "val_loss"}, optional
        Default: ``val_loss`` when the ``[search]`` objective names a loss, else accuracy.
    seeds : list of int, optional
        Seeds to draw (default: up to 6, evenly spaced over the search's seeds).
    path : str or os.PathLike, optional
    dpi : int

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    InputError
        An unknown metric, or no evaluated network for the seeds asked.
    """
    data = _as_search(search)
    metric = _metric(data, metric)
    all_seeds = sorted({r["seed"] for r in data.lineage})
    if seeds is None:
        seeds = [all_seeds[k] for k in _pick(len(all_seeds), _MAX_SEED_PANELS)]
    seeds = [s for s in seeds if data.rows(s)]
    if not seeds:
        raise InputError(f"plot_front: {data.path}: no evaluated network in lineage.jsonl")
    last = max(r["generation"] for r in data.lineage)
    norm = Normalize(vmin=0, vmax=max(last, 1))
    cmap = colormaps["viridis"]
    nrows, ncols = _grid(len(seeds))
    fig = Figure(figsize=(max(3.6 * ncols, 5.0), 3.0 * nrows + 0.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    for ax, s in zip(axes, seeds):
        rows = data.rows(s)
        score = np.array([_f(r.get(metric)) for r in rows])
        edges = np.array([_f(r.get("edges")) for r in rows])
        gens = np.array([r["generation"] for r in rows])
        ax.scatter(edges, score, s=6, color="#c8c8c8", zorder=1, label="evaluated")
        shown = sorted(set(np.unique(gens)[_pick(len(np.unique(gens)), _MAX_FRONTS)].tolist()))
        for g in shown:
            upto = np.flatnonzero(gens <= g)
            front = upto[pareto_front(score[upto], edges[upto], maximize=metric ==
                                      "val_accuracy")]
            ax.step(edges[front], score[front], where="post", marker="o", ms=3,
                    color=cmap(norm(g)), lw=1.2, zorder=2)
        ax.set_title(f"seed {s}", fontsize=9)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
        ax.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
        ax.set_xlabel("edges")
        ax.set_ylabel("validation " + ("accuracy" if metric == "val_accuracy" else "loss"))
        ax.grid(alpha=0.3)
    for ax in axes[len(seeds):]:
        ax.set_visible(False)
    fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=axes[:len(seeds)].tolist(),
                 label="generation", shrink=0.8)
    fig.suptitle("Pareto front after each generation\n(every network evaluated so far; grey: "
                 "all evaluated)", fontsize=9)
    return _save(fig, path, dpi)


def _f(v) -> float:
    return math.nan if v is None else float(v)


def plot_fitness(search, *, path=None, dpi=100):
    """Best (solid) and median (dashed) fitness per generation against evaluated networks.

    One colour per seed, from ``generations.csv``.

    Parameters
    ----------
    search : SearchData or path
    path : str or os.PathLike, optional
    dpi : int

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    InputError
        ``generations.csv`` has no row.
    """
    data = _as_search(search)
    seeds = sorted({r["seed"] for r in data.generations})
    if not seeds:
        raise InputError(f"plot_fitness: {data.path}: generations.csv has no row")
    fig = Figure(figsize=(7.0, 4.2), layout="constrained")
    ax = fig.add_subplot()
    cmap = colormaps[_SEED_CMAP]
    for k, s in enumerate(seeds):
        rows = data.generation_rows(s)
        x = [_f(r["evaluations"]) for r in rows]
        color = cmap(k % cmap.N)
        ax.plot(x, [_f(r["best"]) for r in rows], color=color, lw=1.4,
                label=f"seed {s}" if len(seeds) <= 10 else None)
        ax.plot(x, [_f(r["median"]) for r in rows], color=color, lw=1.0, ls="--", alpha=0.7)
    objective = data.config.get("search", {}).get("objective")
    ax.set_xlabel("networks evaluated")
    ax.set_ylabel("fitness" + (f" ({objective})" if isinstance(objective, str) else ""))
    ax.grid(alpha=0.3)
    if len(seeds) <= 10:
        ax.legend(fontsize="small", ncol=2)
    ax.set_title(f"best (solid) and median (dashed) per generation, {len(seeds)} seed(s)",
                 fontsize=10)
    return _save(fig, path, dpi)


def lineage_tree(search, seed) -> nx.DiGraph:
    """The best network's ancestors and their siblings, as a DiGraph parent -> child.

    The siblings of an ancestor are the other children of its parent (the other networks of
    generation 0 are left out: they share no parent).

    Node ids are the lineage ids; each node carries its lineage row's ``generation``,
    ``val_accuracy``, ``edges`` and ``on_path`` (an ancestor of the best, or the best);
    each edge its child's ``ops`` (letters or names, repeats run together: ``add_edge x8, A``).

    Parameters
    ----------
    search : SearchData or path
    seed : int

    Returns
    -------
    networkx.DiGraph

    Raises
    ------
    InputError
        No recorded best network for ``seed``.
    """
    data = _as_search(search)
    chain = data.chain(seed)
    if not chain:
        raise InputError(f"lineage_tree: {data.path}: no lineage recorded for seed {seed}")
    on_path = {str(r["id"]) for r in chain}
    parents = on_path - {str(chain[-1]["id"])}  # the best's own children are not drawn
    g = nx.DiGraph()

    def add(r):
        g.add_node(str(r["id"]), generation=r["generation"], val_accuracy=r.get("val_accuracy"),
                   edges=r.get("edges"), on_path=str(r["id"]) in on_path)
    for r in chain:
        add(r)
    for r in data.rows(seed):
        parent = None if r.get("parent") is None else str(r["parent"])
        if parent in parents:
            add(r)
            g.add_edge(parent, str(r["id"]), ops=run_together(op_names(r)))
    return g


def _tree_layout(g) -> dict:
    """x = generation; the nodes of one generation spread evenly on y, the path's in the
    middle, the others in id order around it."""
    by_gen = {}
    for n, a in g.nodes(data=True):
        by_gen.setdefault(a["generation"], []).append(n)
    pos = {}
    for gen, nodes in by_gen.items():
        nodes.sort(key=lambda n: (g.nodes[n]["on_path"], n))
        rest = [n for n in nodes if not g.nodes[n]["on_path"]]
        mid = len(rest) // 2
        order = rest[:mid] + [n for n in nodes if g.nodes[n]["on_path"]] + rest[mid:]
        m = len(order)
        for k, n in enumerate(order):
            pos[n] = (float(gen), 1.0 - (k + 0.5) / m)
    return pos


def plot_lineage_tree(search, seed, *, path=None, dpi=100):
    """The lineage of the best network of ``seed`` as a tree (see :func:`lineage_tree`).

    Ancestors and the best are drawn large, joined by a bold line labelled with the
    operators of each step; their siblings small; colour = validation accuracy (over the
    tree's own range).

    Parameters
    ----------
    search : SearchData or path
    seed : int
    path : str or os.PathLike, optional
    dpi : int

    Returns
    -------
    matplotlib.figure.Figure
    """
    data = _as_search(search)
    g = lineage_tree(data, seed)
    pos = _tree_layout(g)
    n_gen = len({a["generation"] for _, a in g.nodes(data=True)})
    fig = Figure(figsize=(min(max(4.0, 1.1 * n_gen + 2.0), 16.0), 4.6), layout="constrained")
    ax = fig.add_subplot()
    accs = [a for a in (_f(g.nodes[n]["val_accuracy"]) for n in g) if math.isfinite(a)]
    lo, hi = (min(accs), max(accs)) if accs else (0.0, 1.0)
    norm = Normalize(vmin=lo, vmax=hi if hi > lo else lo + 1e-9)  # the tree's own range
    cmap = colormaps["viridis"]
    for u, v, a in g.edges(data=True):
        bold = g.nodes[u]["on_path"] and g.nodes[v]["on_path"]
        (x0, y0), (x1, y1) = pos[u], pos[v]
        ax.plot([x0, x1], [y0, y1], color="#b2182b" if bold else "#bdbdbd",
                lw=2.2 if bold else 0.6, zorder=2 if bold else 1)
        if bold and a["ops"]:
            ax.annotate(a["ops"], ((x0 + x1) / 2, (y0 + y1) / 2), fontsize=7, ha="center",
                        va="bottom", color="#b2182b", zorder=4,
                        bbox={"fc": "white", "ec": "none", "alpha": 0.75, "pad": 0.5})
    for small in (True, False):
        nodes = [n for n in g.nodes if g.nodes[n]["on_path"] != small]
        if not nodes:
            continue
        acc = [_f(g.nodes[n]["val_accuracy"]) for n in nodes]
        ax.scatter([pos[n][0] for n in nodes], [pos[n][1] for n in nodes],
                   c=[cmap(norm(a)) if math.isfinite(a) else "white" for a in acc],
                   s=14 if small else 70, edgecolors="#404040", linewidths=0.4 if small else 0.9,
                   zorder=3)
    best = str(data.best_id(seed))
    for n in [best] if best in g else []:
        ax.annotate(f"best {n}\n{g.nodes[n]['edges']} edges", pos[n], xytext=(6, 6),
                    textcoords="offset points", fontsize=7)
    fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, label="validation accuracy",
                 shrink=0.8)
    ax.set_xlabel("generation")
    ax.set_yticks([])
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(f"seed {seed}: lineage of the best network ({len(g)} networks)\n"
                 "ancestors in bold with the operators of each step, their siblings in grey",
                 fontsize=9)
    return _save(fig, path, dpi)


def _lineage_networks(data: SearchData, seed):
    """The snapshots along the best's lineage, with their generations (missing ones skipped)."""
    nets, gens = [], []
    for r in data.chain(seed):
        net = data.network(seed, r["id"])
        if net is not None:
            nets.append(net)
            gens.append(r["generation"])
    if not nets:
        best = data.network(seed)
        if best is not None:
            nets, gens = [best], [data.result(seed).get("generations") or 0]
    return nets, gens


def plot_search(path, *, seeds=None, dpi=100) -> list:
    """Draw every figure of a search into ``SEARCH/plots/``; return the files written.

    ``front.png`` (:func:`plot_front`), ``fitness.png`` (:func:`plot_fitness`) and, for each
    seed in ``seeds`` (default: the seed whose best network has the highest validation
    accuracy, then the fewest edges), ``evolution_seed<S>.png`` and ``matrices_seed<S>.png``
    (the lab's evolution grid and weight matrices over the lineage snapshots) and
    ``lineage_seed<S>.png`` (:func:`plot_lineage_tree`). A figure without data (no lineage
    snapshots, say) is left out. A ``summary.md`` already there is written again, so that
    its Figures section shows the images.

    Parameters
    ----------
    path : str or os.PathLike
        A search directory.
    seeds : list of int, optional
    dpi : int

    Returns
    -------
    list of pathlib.Path

    Raises
    ------
    DataError
        Not a search directory, or a malformed file.
    """
    data = load_search(path)
    out = data.path / "plots"
    out.mkdir(exist_ok=True)
    written = []
    names = dict(figure_names(data, seeds))
    if data.lineage:
        written.append(_saved(plot_front(data), out / "front.png", dpi))
    if data.generations:
        written.append(_saved(plot_fitness(data), out / "fitness.png", dpi))
    for s in [int(n[len("evolution_seed"):-4]) for n in names if n.startswith("evolution_seed")]:
        nets, gens = _lineage_networks(data, s)
        if nets:
            title = f"seed {s}: the best network along its lineage (round = generation)"
            written.append(_saved(plot_evolution(nets, rounds=gens, title=title),
                                  out / f"evolution_seed{s}.png", dpi))
            written.append(_saved(plot_matrices(nets, rounds=gens, title=title),
                                  out / f"matrices_seed{s}.png", dpi))
        if data.chain(s):
            written.append(_saved(plot_lineage_tree(data, s), out / f"lineage_seed{s}.png", dpi))
    if (data.path / "summary.md").is_file():  # its Figures section now links the images
        write_search_summary(data)
    return written
