"""Sweeps: one experiment over a grid (or zip) of settings, every point a run directory.

:func:`run_sweep` runs a :class:`~graphnet.lab.sweepfile.Sweep` (see
:mod:`graphnet.lab.sweepfile` for the file) into a sweep directory::

    SWEEP/
      sweep.json     the marker (graphnet.lab.ownership): version, name, complete
      sweep.toml     the sweep file as written
      base.toml      the resolved base experiment (base file + the sweep's own keys + --seeds)
      points.csv     point, the value of each axis, run directory
      points/p000/   one normal run directory per point (graphnet plot / compare read it)
      results.csv    one row per point, seed and model: axis values, final round, final test
                     accuracy, params, edges
      summary.md     per point and model: mean, std, CI over seeds, the paired comparison
                     with the reference model and its verdict (graphnet.lab.stats)
      plots/sweep.png  the final test accuracy against each axis, one line per model

All points' jobs go to the engine together (:func:`graphnet.lab.runner.run_many`). The
sweep holds its lock for its whole life, resumes as a whole (``resume``: every point
continues from its last completed round, a missing point starts), refuses a changed sweep
on resume, and ``force`` deletes only a sweep's own entries
(:func:`graphnet.lab.ownership.check_sweep`).
"""

from __future__ import annotations

import csv
import io
import json
import os
import time
import tomllib
from dataclasses import dataclass, field

import numpy as np

from graphnet.errors import InputError
from graphnet.fileio import atomic_write_text
from graphnet.lab import ownership
from graphnet.lab.budget import check_plan
from graphnet.lab.lifetime import terminate_on_sigterm
from graphnet.lab.lock import RunLock
from graphnet.lab.rundir import format_value, read_metrics
from graphnet.lab.runner import run_many
from graphnet.lab.stats import compare_models, interval, row_cells
from graphnet.lab.summary import final_results
from graphnet.lab.sweepfile import Sweep, load_sweep, value_text

__all__ = ["run_sweep", "SweepResult", "points_csv", "points_table", "read_results",
           "axis_curves", "sweep_out", "RESULT_COLUMNS"]

#: Columns of results.csv around the axes: ``point``, then one per axis, then these.
RESULT_COLUMNS = ("seed", "model", "round", "test_accuracy", "params", "edges")


@dataclass
class SweepResult:
    """What :func:`run_sweep` did.

    Attributes
    ----------
    path : str
        The sweep directory.
    complete : bool
        Every point's run is complete (results.csv and summary.md are written).
    sweep : Sweep
    results : list of dict
        The rows of results.csv (empty while incomplete).
    elapsed : float
        Wall time of this call, seconds.
    already_complete : bool
        A resumed sweep that was complete already: nothing was run, written or drawn.
    table : str
        The Markdown table of summary.md (per point and model; "" while incomplete).
    """

    path: str
    complete: bool
    sweep: Sweep
    results: list = field(default_factory=list)
    elapsed: float = 0.0
    already_complete: bool = False
    table: str = ""


def sweep_out(sweep: Sweep, out=None) -> str:
    """The sweep's directory: ``out``, else the sweep file's ``out``, else ``runs/<name>``.

    Examples
    --------
    >>> from graphnet.lab.sweepfile import parse_sweep
    >>> sw = parse_sweep('[data]\\ndataset = "xor"\\n[sweep.axes]\\nrounds = [1]', name="s")
    >>> sweep_out(sw), sweep_out(sw, "here")
    ('runs/s', 'here')
    """
    return os.fspath(out) if out is not None else (sweep.out or os.path.join("runs", sweep.name))


def points_csv(sweep: Sweep) -> str:
    """The points table: point, one column per axis (values as JSON), run directory.

    Examples
    --------
    >>> from graphnet.lab.sweepfile import parse_sweep
    >>> sw = parse_sweep('[data]\\ndataset = "xor"\\n[sweep.axes]\\n'
    ...                  '"network.hidden" = [[4], [8]]')
    >>> print(points_csv(sw), end="")
    point,network.hidden,run
    p000,[4],points/p000
    p001,[8],points/p001
    """
    rows = [["point", *(a.key for a in sweep.axes), "run"]]
    rows += [[p.id, *(value_text(p.values[a.key]) for a in sweep.axes),
              f"{ownership.SWEEP_POINTS}/{p.id}"] for p in sweep.points]
    return _csv(rows)


def points_table(sweep: Sweep, out=None) -> str:
    """The points as a Markdown table (``graphnet sweep --print-points``).

    Examples
    --------
    >>> from graphnet.lab.sweepfile import parse_sweep
    >>> sw = parse_sweep('[data]\\ndataset = "xor"\\n[sweep.axes]\\nrounds = [1, 2]', name="s")
    >>> print(points_table(sw))
    | point | rounds | run directory |
    | --- | --- | --- |
    | p000 | 1 | runs/s/points/p000 |
    | p001 | 2 | runs/s/points/p001 |
    """
    root = sweep_out(sweep, out)
    lines = ["| point | " + " | ".join(a.key for a in sweep.axes) + " | run directory |",
             "|" + " --- |" * (len(sweep.axes) + 2)]
    lines += [f"| {p.id} | " + " | ".join(value_text(p.values[a.key]) for a in sweep.axes)
              + f" | {os.path.join(root, ownership.SWEEP_POINTS, p.id)} |" for p in sweep.points]
    return "\n".join(lines)


def _csv(rows) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def run_sweep(sweep, out=None, *, workers=1, scheduler=None, resume=False, force=False,
              progress=None, stop_after_round=None, plots=True, point_plots=False,
              yes=False) -> SweepResult:
    """Run every point of a sweep into its own run directory under the sweep directory.

    Parameters
    ----------
    sweep : Sweep or str or os.PathLike
        A checked sweep (:func:`graphnet.lab.sweepfile.load_sweep`) or a sweep file.
    out : str or os.PathLike, optional
        The sweep directory (:func:`sweep_out`).
    workers, scheduler
        The engine (:func:`graphnet.lab.runner.run_many`): ``workers`` processes, or a
        running Dask scheduler's address. Results do not depend on them.
    resume : bool
        Continue an interrupted sweep: only a graphnet sweep made from the same sweep file,
        resolved base and points; each point continues from its last completed round.
    force : bool
        Delete the sweep's own entries (never anything else, never the current directory
        or a parent) and start over.
    progress : bool, optional
        Live output on stderr, as ``graphnet run``'s (job labels start with the point).
    stop_after_round : int, optional
        Stop every job after this round (simulates an interruption).
    plots : bool
        Draw ``plots/sweep.png`` when the sweep completes.
    point_plots : bool
        Also draw every point's run figures (``graphnet plot SWEEP/points/p000`` later).
    yes : bool
        Run even points whose plan is over the limits of
        :func:`graphnet.lab.budget.check_plan`.

    Returns
    -------
    SweepResult

    Raises
    ------
    ConfigError
        A bad sweep file (:func:`~graphnet.lab.sweepfile.load_sweep`), or a point over the
        plan's limits without ``yes``; before anything is written.
    InputError
        The directory exists without ``resume``/``force``, is not a sweep, holds foreign
        entries (``force``), is in use, or was made from another sweep (``resume``).
    KeyboardInterrupt
        Ctrl-C or SIGTERM: what is written so far stays; ``resume`` continues.

    Examples
    --------
    >>> import tempfile
    >>> from graphnet.lab.sweepfile import parse_sweep
    >>> sw = parse_sweep('seeds = [0, 1]\\nrounds = 0\\n[data]\\ndataset = "xor"\\n'
    ...                  '[train]\\nepochs = 1\\n[sweep.axes]\\n"train.lr" = [0.05, 0.1]')
    >>> with tempfile.TemporaryDirectory() as d:
    ...     res = run_sweep(sw, os.path.join(d, "sw"), progress=False, plots=False)
    ...     names = " ".join(sorted(os.listdir(res.path)))
    >>> res.complete, len(res.results), names
    (True, 8, '.lock base.toml points points.csv results.csv summary.md sweep.json sweep.toml')
    """
    t0 = time.perf_counter()
    if isinstance(sweep, (str, os.PathLike)):
        sweep = load_sweep(sweep)
    if not isinstance(sweep, Sweep):
        raise InputError(f"run_sweep: sweep must be a Sweep or a path, got "
                         f"{type(sweep).__name__}")
    for p in sweep.points:  # an absurd point is refused before the directory exists
        check_plan(p.config.values, len(p.config.models), yes=yes)
    path = sweep_out(sweep, out)
    ownership.check_sweep(path, resume=resume, force=force)  # before anything is written
    os.makedirs(path, exist_ok=True)
    with RunLock(path), terminate_on_sigterm():
        resuming = _prepare(path, sweep, resume=resume, force=force)
        was_complete = (resuming and _read_marker(path).get("complete") is True
                        and all(os.path.exists(os.path.join(path, name))
                                for name in ("results.csv", "summary.md")))
        items = [(p.config, os.path.join(path, ownership.SWEEP_POINTS, p.id), p.id)
                 for p in sweep.points]
        runs = run_many(items, workers=workers, scheduler=scheduler, resume=True,
                        progress=progress, stop_after_round=stop_after_round,
                        plots=point_plots, yes=yes)
        complete = all(r.complete for r in runs)
        if not complete:
            _write_marker(path, sweep, complete=False)
            return SweepResult(path, False, sweep, [], time.perf_counter() - t0)
        metrics = {p.id: read_metrics(r.path) for p, r in zip(sweep.points, runs)}
        results = _result_rows(sweep, metrics)
        if was_complete and all(r.already_complete for r in runs):  # nothing to write
            return SweepResult(path, True, sweep, results, time.perf_counter() - t0,
                               already_complete=True, table=_results_table(sweep, metrics)[0])
        atomic_write_text(os.path.join(path, "results.csv"), _results_csv(sweep, results))
        summary = _summary_markdown(sweep, metrics, figure=plots)
        atomic_write_text(os.path.join(path, "summary.md"), summary)
        if plots:
            os.makedirs(os.path.join(path, "plots"), exist_ok=True)
            from graphnet.lab.plots.sweep import plot_sweep  # matplotlib only when drawing

            plot_sweep(axis_curves(sweep, results), os.path.join(path, "plots", "sweep.png"),
                       title=f"{sweep.name}: final test accuracy", caption=_caption(sweep))
        _write_marker(path, sweep, complete=True)
    return SweepResult(path, True, sweep, results, time.perf_counter() - t0,
                       table=_results_table(sweep, metrics)[0])


# ----------------------------------------------------------------------------- the directory


def _prepare(path: str, sweep: Sweep, *, resume: bool, force: bool) -> bool:
    """Holding the lock: check again, then force (delete our own), resume (same sweep?) or
    start (marker first); True when resuming existing work."""
    ownership.check_sweep(path, resume=resume, force=force)
    if ownership.is_sweep(path):
        if resume:
            _check_same_sweep(path, sweep)
            ownership.remove_temporaries(path)
            return True
        if force:
            ownership.remove_own_sweep(path)
    _write_marker(path, sweep, complete=False)
    atomic_write_text(os.path.join(path, "sweep.toml"), sweep.text)
    atomic_write_text(os.path.join(path, "base.toml"), sweep.base.to_toml())
    atomic_write_text(os.path.join(path, "points.csv"), points_csv(sweep))
    return False


def _read_marker(path: str) -> dict:
    try:
        with open(os.path.join(path, "sweep.json"), encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return {}


def _write_marker(path: str, sweep: Sweep, *, complete: bool) -> None:
    state = {"version": ownership.SWEEP_VERSION, "name": sweep.name, "mode": sweep.mode,
             "points": len(sweep.points), "complete": complete}
    atomic_write_text(os.path.join(path, "sweep.json"), json.dumps(state, indent=1) + "\n")


def _stored(path: str, name: str) -> str | None:
    try:
        with open(os.path.join(path, name), encoding="utf-8") as fh:
            return fh.read()
    except FileNotFoundError:
        return None


def _check_same_sweep(path: str, sweep: Sweep) -> None:
    """Refuse to resume with another sweep file, base experiment or set of points."""
    stored = _stored(path, "sweep.toml")
    differs = None
    try:
        same_file = stored is None or tomllib.loads(stored) == tomllib.loads(sweep.text)
    except tomllib.TOMLDecodeError:
        same_file = False
    base = _stored(path, "base.toml")
    points = _stored(path, "points.csv")
    if not same_file:
        differs = "the sweep file differs from its sweep.toml"
    elif base is not None and not sweep.base.matches(base):
        differs = ("the resolved base experiment differs from its base.toml (the base file "
                   "or --seeds changed)")
    elif points is not None and points != points_csv(sweep):
        differs = "its points (points.csv) differ"
    if differs:
        raise InputError(f"sweep: --resume refused: {path} was made from another sweep: "
                         f"{differs}; resume needs the same sweep (use --force to start over "
                         f"or choose another --out)")


# ----------------------------------------------------------------------------- results


def _result_rows(sweep: Sweep, metrics: dict) -> list:
    """The rows of results.csv: per point, seed and model, the final round's result.

    ``metrics`` maps a point id to its run's metrics rows. Rows are ordered by point, seed,
    then model (the point's config order).
    """
    rows = []
    for p in sweep.points:
        finals = final_results(metrics[p.id])
        order = {m: k for k, m in enumerate(p.config.models)}
        found = [(d["seed"], order.get(m, len(order)), m, d) for m, ds in finals.items()
                 for d in ds]
        for seed, _, model, d in sorted(found, key=lambda t: t[:2]):
            rows.append({"point": p.id, **{a.key: p.values[a.key] for a in sweep.axes},
                         "seed": seed, "model": model, "round": d["round"],
                         "test_accuracy": d["test_accuracy"], "params": d["params"],
                         "edges": d["edges"]})
    return rows


def _results_csv(sweep: Sweep, rows) -> str:
    """results.csv's text: ``point``, the axes (values as JSON), RESULT_COLUMNS."""
    keys = [a.key for a in sweep.axes]
    out = [["point", *keys, *RESULT_COLUMNS]]
    out += [[r["point"], *(value_text(r[k]) for k in keys),
             *(format_value(r[c]) for c in RESULT_COLUMNS)] for r in rows]
    return _csv(out)


def read_results(path) -> list:
    """The rows of a sweep's results.csv as written (strings), one dict per row.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     with open(os.path.join(d, "results.csv"), "w") as fh:
    ...         _ = fh.write("point,rounds,seed,model,round,test_accuracy,params,edges\\n"
    ...                      "p000,1,0,mlp,1,0.75,26,\\n")
    ...     read_results(d)[0]["test_accuracy"]
    '0.75'
    """
    with open(os.path.join(os.fspath(path), "results.csv"), encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _summary_markdown(sweep: Sweep, metrics: dict, *, figure: bool = True) -> str:
    """summary.md of a sweep: what was swept, and per point and model the statistics.

    Per point, :func:`graphnet.lab.stats.compare_models` with the point's ``[stats]``
    (reference model, level, test, alpha): mean, std and confidence interval of the final
    test accuracy over seeds, and the paired difference with the reference and its verdict.
    """
    stats = sweep.base["stats"]
    level, test, alpha = stats["level"], stats["test"], stats["alpha"]
    pct = f"{100 * level:g} %"
    seeds = sweep.base.seeds
    lines = [f"# Sweep {sweep.name}", ""]
    if sweep.base["description"]:
        lines += [sweep.base["description"], ""]
    base = f" over the base `{os.path.basename(sweep.base_path)}`" if sweep.base_path else ""
    lines += [f"A {sweep.mode} of {len(sweep.points)} points{base} "
              f"(`sweep.toml`, resolved base `base.toml`), each a run directory under "
              f"`points/`, x {len(seeds)} seeds ({', '.join(map(str, seeds))}); "
              f"per-seed results in `results.csv`.", "",
              "| axis | values |", "| --- | --- |"]
    lines += [f"| `{a.key}` | {', '.join(value_text(v) for v in a.values)} |" for a in sweep.axes]
    table, notes = _results_table(sweep, metrics)
    lines += ["", "## Final test accuracy per point", "", table]
    test_name = "a paired t-test" if test == "t" else "the Wilcoxon signed-rank test"
    lines += ["", f"Over the seeds of each point: mean, sample std and the Student-t {pct} "
                  f"interval of the mean; each model minus the point's reference model, seed "
                  f"by seed (percentage points), tested two-sided by {test_name} "
                  f"(graphnet.lab.stats); \"better\"/\"worse\" at p < {alpha:g}.", ""]
    lines += [f"Note: {n}." for n in notes] + ([""] if notes else [])
    if figure:
        lines += [f"Figure: `plots/sweep.png` ({_caption(sweep)}).", ""]
    return "\n".join(lines)


def _results_table(sweep: Sweep, metrics: dict) -> tuple[str, list]:
    """The Markdown table of summary.md (per point and model) and the tests' notes.

    Columns: the point, its axis values, :func:`graphnet.lab.stats.row_cells` against the
    point's reference model, and the final network's edges (mean over seeds; ``-`` for a
    model without a graph).
    """
    pct = f"{100 * sweep.base['stats']['level']:g} %"
    keys = [a.key for a in sweep.axes]
    head = ["point", *(f"`{k}`" for k in keys), "model", "seeds", "mean (%)", "std (%)",
            f"{pct} CI (%)", f"vs reference ({pct} CI, points)", "p", "verdict", "edges"]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    notes = []
    for p in sweep.points:
        st = p.config["stats"]
        ref = st["reference"]
        edges = {m: [d["edges"] for d in ds if d["edges"] is not None]
                 for m, ds in final_results(metrics[p.id]).items()}
        for r in compare_models(metrics[p.id], reference=ref, level=st["level"],
                                test=st["test"], alpha=st["alpha"]):
            cells = row_cells(r)
            if cells[5] == "reference":
                cells[5] = f"reference ({ref})"
            pr = r["paired"]
            if pr is not None and pr.note and pr.note not in notes:
                notes.append(pr.note)
            kept = edges.get(r["model"])
            lines.append("| " + " | ".join([p.id, *(value_text(p.values[k]) for k in keys),
                                             *cells, f"{np.mean(kept):.0f}" if kept else "-"])
                         + " |")
    return "\n".join(lines), notes


def axis_curves(sweep: Sweep, rows) -> list:
    """Per axis, per model, the final test accuracy's interval over seeds at each value.

    For a grid, each seed's accuracies are first averaged over the points that share the
    value (the other axes); a zip has one point per value. ``rows`` are
    :func:`_result_rows`' (or results.csv's) rows.

    Returns
    -------
    list of dict
        One per axis: ``axis`` (key), ``labels`` (values as text), ``x`` (the values as
        floats, or None when not all are numbers), ``models`` ``{model: [Interval, ...]}``
        (one per value, from :func:`graphnet.lab.stats.interval`).

    Examples
    --------
    >>> from graphnet.lab.sweepfile import parse_sweep
    >>> sw = parse_sweep('[data]\\ndataset = "xor"\\n[sweep.axes]\\nrounds = [1, 2]\\n'
    ...                  '"train.lr" = [0.05, 0.1]')
    >>> rows = [{"point": p.id, "seed": s, "model": "graph", "test_accuracy": 0.5 + 0.1 * k}
    ...         for k, p in enumerate(sw.points) for s in (0, 1)]
    >>> by_rounds = axis_curves(sw, rows)[0]
    >>> by_rounds["labels"], [round(iv.mean, 2) for iv in by_rounds["models"]["graph"]]
    (['1', '2'], [0.55, 0.75])
    """
    level = sweep.base["stats"]["level"]
    acc = {}  # (point, model, seed) -> accuracy
    for r in rows:
        acc[(r["point"], r["model"], int(r["seed"]))] = float(r["test_accuracy"])
    models = list(dict.fromkeys(r["model"] for r in rows))
    seeds = sorted({s for (_, _, s) in acc})
    curves = []
    for axis in sweep.axes:
        labels = list(dict.fromkeys(value_text(v) for v in axis.values))
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool)
                      for v in axis.values)
        x = [float(json.loads(t)) for t in labels] if numeric else None
        per_model = {}
        for model in models:
            ivs = []
            for label in labels:
                ids = [p.id for p in sweep.points if value_text(p.values[axis.key]) == label]
                per_seed = [np.mean(v) for v in
                            ([acc[(i, model, s)] for i in ids if (i, model, s) in acc]
                             for s in seeds) if v]
                ivs.append(interval(per_seed, level))
            per_model[model] = ivs
        curves.append({"axis": axis.key, "labels": labels, "x": x, "models": per_model})
    return curves


def _caption(sweep: Sweep) -> str:
    level = f"{100 * sweep.base['stats']['level']:g} %"
    how = ("each value averaged over the other axes per seed first"
           if sweep.mode == "grid" and len(sweep.axes) > 1 else "one point per value")
    return (f"mean over {len(sweep.base.seeds)} seeds with its {level} t interval; "
            f"{sweep.mode}: {how}")
