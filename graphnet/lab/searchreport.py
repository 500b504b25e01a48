"""``summary.md`` of a search: what was searched, what each seed found, and against what.

Read from the search directory alone (:mod:`graphnet.lab.searchdata`). The sections:

* what was searched: the data, the start, the ``[search]`` section as written in the resolved
  config (population, generations or budget, objective, selection, stop rule, schedule),
  training per candidate, the seeds;
* one row per seed (``results.csv``) and the solved count;
* over seeds, mean ± std (sample std, ``ddof=1``; 0 for one seed, as everywhere in the lab):
  evaluated networks (all seeds, and the solved ones), wall time, the winners' hidden nodes
  and edges, their validation and test accuracy;
* the best network per seed: its id, how many generations of ancestors it has, the
  operators along its lineage;
* "against the fixed-topology baselines": when run directories of ``graphnet run`` are given
  (the ``baselines`` argument, or a ``baselines = [...]`` list in the ``[search]`` section
  where the config has one), each of their models' final test accuracy and
  weights (mean ± std over seeds, :func:`graphnet.lab.summary.summary_table`) beside the
  search's winners;
* links to the figures of :func:`graphnet.lab.plots.search.plot_search` (``plots/``).
"""

from __future__ import annotations

import math
import os
from collections import Counter
from pathlib import Path

from graphnet.errors import DataError
from graphnet.fileio import atomic_write_text
from graphnet.lab import rundir as rd
from graphnet.lab.searchdata import SearchData, load_search, op_names, run_together
from graphnet.lab.summary import mean_std, summary_table
from graphnet.lab.sweepfile import value_text

__all__ = ["write_search_summary", "search_markdown", "search_stats", "baseline_rows",
           "baseline_dirs", "figure_names", "featured_seeds"]

_OP_SHOWN = 12  # operators listed along one lineage before "..."


def figure_names(data: SearchData, seeds=None) -> list:
    """The figures :func:`graphnet.lab.plots.search.plot_search` draws, with captions.

    ``front.png`` and ``fitness.png`` for the whole search, and for each seed in ``seeds``
    (default: the seed whose best network has the highest validation accuracy, then the
    fewest edges) its best network's lineage: ``evolution_seed<S>.png``,
    ``matrices_seed<S>.png`` and ``lineage_seed<S>.png``.

    Returns
    -------
    list of (str, str)
        (file name under ``plots/``, caption).
    """
    names = [("front.png", "Pareto front per generation: validation score against edges"),
             ("fitness.png", "best and median fitness over evaluated networks, per seed")]
    for s in (featured_seeds(data) if seeds is None else seeds):
        names += [(f"evolution_seed{s}.png", f"seed {s}: the best network along its lineage"),
                  (f"matrices_seed{s}.png", f"seed {s}: its weight matrices along the lineage"),
                  (f"lineage_seed{s}.png", f"seed {s}: the lineage tree (ancestors and their "
                                           "siblings)")]
    return names


def featured_seeds(data: SearchData) -> list:
    """The seed whose best network is drawn by default (best validation accuracy, then fewest
    edges, then the lowest seed); empty when there are no results."""
    def key(r):
        acc = r.get("best_val_accuracy")
        acc = -math.inf if acc is None or not math.isfinite(acc) else acc
        return (-acc, r.get("best_edges") or 0, r["seed"])
    return [min(data.results, key=key)["seed"]] if data.results else []


def _num(v) -> float:
    return math.nan if v is None or isinstance(v, str) else float(v)


def search_stats(data: SearchData) -> dict:
    """The over-seeds figures of a search: counts, and (mean, std) pairs.

    Keys: ``seeds``, ``solved``; (mean, std) of ``evaluations``, ``evaluations_solved``
    (solved seeds only), ``wall_s``, ``wall_s_solved``, ``hidden``, ``edges``,
    ``val_accuracy``, ``test_accuracy`` (the winners: each seed's best network); and
    ``wall_total`` (the sum of the seeds' wall times).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> rows = [dict(seed=0, solved=True, evaluations=100, wall_s=1.0, best_hidden=1,
    ...              best_edges=5, best_val_accuracy=1.0, best_test_accuracy=1.0),
    ...         dict(seed=1, solved=False, evaluations=300, wall_s=3.0, best_hidden=3,
    ...              best_edges=9, best_val_accuracy=0.75, best_test_accuracy=0.75)]
    >>> data = SimpleNamespace(results=rows, solved=lambda r: r["solved"])
    >>> st = search_stats(data)
    >>> st["solved"], st["evaluations"], st["evaluations_solved"], st["wall_total"]
    (1, (200.0, 141.4213562373095), (100.0, 0.0), 4.0)
    """
    rows = data.results
    solved = [r for r in rows if data.solved(r)]

    def ms(rs, key):
        return mean_std([_num(r.get(key)) for r in rs])
    return {
        "seeds": len(rows), "solved": len(solved),
        "evaluations": ms(rows, "evaluations"), "evaluations_solved": ms(solved, "evaluations"),
        "wall_s": ms(rows, "wall_s"), "wall_s_solved": ms(solved, "wall_s"),
        "wall_total": float(sum(_num(r.get("wall_s")) for r in rows)),
        "hidden": ms(rows, "best_hidden"), "edges": ms(rows, "best_edges"),
        "val_accuracy": ms(rows, "best_val_accuracy"),
        "test_accuracy": ms(rows, "best_test_accuracy"),
    }


def _pm(pair, digits=1, pct=False) -> str:
    mean, std = pair
    if not math.isfinite(mean):
        return "-"
    k = 100.0 if pct else 1.0
    return f"{k * mean:,.{digits}f} ± {k * std:,.{digits}f}" + (" %" if pct else "")


def _cell(v, digits=None, pct=False) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if pct:
        return f"{100 * float(v):.2f} %"
    if digits is not None:
        return f"{float(v):,.{digits}f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def baseline_dirs(data: SearchData, baselines=None) -> list:
    """The run directories whose models the summary compares with, as paths.

    ``baselines`` when given; else the ``[search]`` section's ``baselines`` list when the
    config has one (a path relative to the current directory, else to the search
    directory's parent); else none.

    Raises
    ------
    DataError
        A named directory is not a run directory (no ``config.toml`` and ``metrics.csv``).
    """
    if baselines is None:
        named = data.config.get("search", {}).get("baselines") or []
        named = [named] if isinstance(named, str) else list(named)
        out = []
        for p in named:
            p = Path(p)
            if not p.is_absolute() and not p.exists():
                p = data.path.parent / p
            out.append(p)
    else:
        out = [Path(p) for p in ([baselines] if isinstance(baselines, (str, os.PathLike))
                                 else baselines)]
    for p in out:
        if not ((p / "config.toml").is_file() and (p / "metrics.csv").is_file()):
            raise DataError(f"baselines: {p} is not a run directory of graphnet run "
                            "(expected config.toml and metrics.csv)")
    return out


def baseline_rows(run_dirs) -> list:
    """Per run directory and model: the final test accuracy and size, over seeds.

    Parameters
    ----------
    run_dirs : list of str or os.PathLike
        Run directories written by ``graphnet run``.

    Returns
    -------
    list of dict
        ``source`` (the run directory's name), and :func:`graphnet.lab.summary.summary_table`'s
        keys: ``model``, ``n_seeds``, ``params`` and ``edges`` (means), ``accuracy``,
        ``accuracy_std``.
    """
    rows = []
    for d in run_dirs:
        for t in summary_table(rd.read_metrics(d, exact_header=False)):
            rows.append({"source": Path(d).name, **t})
    return rows


def _searched(data: SearchData) -> list:
    """The "what was searched" paragraph and the [search] keys."""
    cfg = data.config
    net, tr, dat = cfg.get("network", {}), cfg.get("train", {}), cfg.get("data", {})
    search = cfg.get("search", {})
    start = search.get("start", net.get("start", "-"))
    training = ", ".join(f"{k} {value_text(tr[k])}" for k in
                         ("epochs", "optimizer", "lr", "batch_size") if k in tr)
    shape = net.get("sizes") or net.get("hidden") if start == "layered" else None
    lines = [f"Data `{dat.get('dataset', '-')}`; start `{start}`"
             + (f" {value_text(shape)}" if shape else "")
             + (f" ({net['mode']})" if "mode" in net else "")
             + (f"; training per candidate: {training}" if training else "")
             + f"; seeds {value_text(sorted(data.seeds))}."
             + (" The search did not complete: the figures are those written so far."
                if not data.marker.get("complete", True) else ""), ""]
    if search:
        lines += ["| [search] key | value |", "| --- | --- |"]
        for key, value in search.items():
            if key == "baselines":
                continue
            lines.append(f"| {key} | `{value_text(value)}` |")
        lines.append("")
    schedule = cfg.get("mutation", {}).get("schedule") or []
    if schedule:
        lines += ["Variation (`[[mutation.schedule]]`, one draw per child): "
                  + "; ".join(_entry_text(e) for e in schedule) + ".", ""]
    return lines


def _entry_text(entry) -> str:
    """One schedule entry as ``op (key value, ...)``."""
    if not isinstance(entry, dict):
        return value_text(entry)
    rest = ", ".join(f"{k} {value_text(v)}" for k, v in entry.items() if k != "op")
    return f"`{entry.get('op', '?')}`" + (f" ({rest})" if rest else "")


def _ops_text(chain) -> str:
    """The operators along a lineage in order, repeats run together, then the totals:
    ``split_edge, add_edge x2, N (add_edge x2, split_edge x1, N x1)``."""
    ops = [op for r in chain[1:] for op in op_names(r)]
    if not ops:
        return "-"
    counts = Counter(ops)
    return (f"{run_together(ops, _OP_SHOWN)} "
            f"({', '.join(f'{k} x{v}' for k, v in counts.most_common())})")


def _best_rows(data: SearchData) -> list:
    lines = ["| seed | best network | generations of ancestors | parameters | operators along "
             "its lineage |", "| --- | --- | --- | --- | --- |"]
    for s in data.seeds:
        chain = data.chain(s)
        best = data.best_id(s)
        net = data.network(s)
        params = _cell(net.n_params) if net is not None else "-"
        link = (f"[{best}](snapshots/seed{s}/best.json)"
                if (data.snapshot_dir(s) / "best.json").is_file() else (best or "-"))
        lines.append(f"| {s} | {link} | {max(len(chain) - 1, 0)} | {params} | "
                     f"{_ops_text(chain)} |")
    return lines


def _baseline_section(data: SearchData, stats: dict, rows: list) -> list:
    lines = ["## Against the fixed-topology baselines", "",
             "| model | weights (edges) | parameters | test accuracy (mean ± std) | seeds |",
             "| --- | --- | --- | --- | --- |"]
    params = [n.n_params for n in (data.network(s) for s in data.seeds) if n is not None]
    p_ms = mean_std(params) if params else (math.nan, math.nan)
    lines.append(f"| search: best per seed | {_pm(stats['edges'], 0)} | {_pm(p_ms, 0)} | "
                 f"{_pm(stats['test_accuracy'], 2, pct=True)} | {stats['seeds']} |")
    for r in rows:
        edges = "-" if r["edges"] is None else f"{r['edges']:,.0f}"
        lines.append(f"| {r['source']}: {r['model']} | {edges} | {_cell(r['params'], 0)} | "
                     f"{_pm((r['accuracy'], r['accuracy_std']), 2, pct=True)} | "
                     f"{r['n_seeds']} |")
    lines += ["", "Baselines: each model's final network per seed (the last kept round; for a "
              "pruning run, the pruned network), test accuracy mean ± std over its seeds. The "
              "search's row: each seed's best network (selected on validation data), its test "
              "accuracy reported, never used.", ""]
    return lines


def search_markdown(data: SearchData, *, baselines=None) -> str:
    """The text of ``summary.md`` for a search (see the module docstring for its sections).

    Parameters
    ----------
    data : SearchData
    baselines : list of path, optional
        Run directories to compare with (default: :func:`baseline_dirs`).

    Returns
    -------
    str
    """
    cfg = data.config
    stats = search_stats(data)
    name = cfg.get("name") or data.path.name
    lines = [f"# {name} (search)", ""]
    if cfg.get("description"):
        lines += [cfg["description"], ""]
    lines += ["## What was searched", ""] + _searched(data)
    lines += ["## Results per seed", "",
              "| seed | solved | generations | evaluations | wall (s) | best val accuracy | "
              "best test accuracy | edges | hidden |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    rule = "fitness_threshold" in cfg.get("search", {})  # else nothing can be solved
    for r in data.results:
        lines.append(
            f"| {r['seed']} | {_cell(data.solved(r)) if rule else '-'} | "
            f"{_cell(r.get('generations'))} | "
            f"{_cell(r.get('evaluations'))} | {_cell(_num(r.get('wall_s')), 2)} | "
            f"{_cell(r.get('best_val_accuracy'), pct=True)} | "
            f"{_cell(r.get('best_test_accuracy'), pct=True)} | {_cell(r.get('best_edges'))} | "
            f"{_cell(r.get('best_hidden'))} |")
    solved = (f"**Solved: {stats['solved']} of {stats['seeds']} seeds.**" if rule else
              "No stop rule (`[search] fitness_threshold`): every seed ran its generations.")
    lines += ["", solved, "",
              "## Over seeds (mean ± std)", "",
              "| figure | all seeds | solved seeds |", "| --- | --- | --- |",
              f"| evaluated networks | {_pm(stats['evaluations'], 0)} | "
              f"{_pm(stats['evaluations_solved'], 0)} |",
              f"| wall time per seed (s) | {_pm(stats['wall_s'], 2)} | "
              f"{_pm(stats['wall_s_solved'], 2)} |",
              f"| winners' hidden nodes | {_pm(stats['hidden'], 1)} | |",
              f"| winners' edges | {_pm(stats['edges'], 1)} | |",
              f"| winners' validation accuracy | {_pm(stats['val_accuracy'], 2, pct=True)} | |",
              f"| winners' test accuracy | {_pm(stats['test_accuracy'], 2, pct=True)} | |",
              "", f"Total wall time over the seeds: {stats['wall_total']:.2f} s. Std: sample "
              "standard deviation over seeds (0 for one seed). A winner is a seed's best "
              "network, chosen on validation data.", "",
              "## Best network per seed", ""] + _best_rows(data) + [""]
    rows = baseline_rows(baseline_dirs(data, baselines))
    if rows:
        lines += _baseline_section(data, stats, rows)
    lines += ["## Figures", ""]
    plots = data.path / "plots"
    for fname, caption in figure_names(data):
        if (plots / fname).is_file():
            lines += [f"![{caption}](plots/{fname})", ""]
        else:
            lines.append(f"- {caption}: `plots/{fname}` (not drawn; "
                         "`graphnet.lab.plots.search.plot_search` draws it)")
    return "\n".join(lines).rstrip("\n") + "\n"


def write_search_summary(path, *, baselines=None) -> str:
    """Write ``SEARCH/summary.md`` from the search directory alone; return its text.

    Parameters
    ----------
    path : str or os.PathLike
        A search directory (``search.json`` of kind "search", ``config.toml``,
        ``results.csv``, ``generations.csv``, ``lineage.jsonl``, ``snapshots/``).
    baselines : list of str or os.PathLike, optional
        Run directories of ``graphnet run`` to set the search against (default: the
        ``[search]`` section's ``baselines``, if any; none: no comparison section).

    Returns
    -------
    str
        The Markdown written.

    Raises
    ------
    DataError
        Not a search directory, a malformed file, a baseline that is not a run directory.

    Examples
    --------
    >>> import json, tempfile
    >>> from pathlib import Path
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "search.json").write_text(json.dumps(
    ...     {"version": 1, "kind": "search", "complete": True, "seeds": {"0": 2}}))
    >>> _ = (d / "config.toml").write_text('name = "x"\\n[data]\\ndataset = "xor"\\n'
    ...                                    '[search]\\npopulation = 4\\nfitness_threshold = 1.0\\n')
    >>> _ = (d / "results.csv").write_text(
    ...     "seed,solved,generations,evaluations,wall_s,best_val_accuracy,"
    ...     "best_test_accuracy,best_edges,best_hidden\\n0,1,2,12,0.5,1.0,1.0,5,1\\n")
    >>> _ = (d / "generations.csv").write_text("seed,generation,evaluations,best,median\\n"
    ...                                        "0,0,4,0.5,0.5\\n0,1,8,0.75,0.5\\n")
    >>> text = write_search_summary(d)
    >>> text.splitlines()[0], "**Solved: 1 of 1 seeds.**" in text
    ('# x (search)', True)
    """
    data = path if isinstance(path, SearchData) else load_search(path)
    text = search_markdown(data, baselines=baselines)
    atomic_write_text(data.path / "summary.md", text)
    return text
