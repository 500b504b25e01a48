"""``summary.md``: what a run found, in a table a reader can quote.

Per model: parameters (and edges for graph models) of the final network, test accuracy
mean +- std over seeds, and training time (the sum of the epoch times of one seed, mean
over seeds). The *final* network of a (model, seed) is the last round that was kept
(``accepted != 0``; :mod:`graphnet.lab.finals`): under ``if-better`` a rejected round is
not the network kept. The ``## Statistics`` section (confidence intervals, paired tests
against the ``[stats]`` reference model) is :func:`graphnet.lab.stats.summary_section`'s.
"Std" is the sample standard deviation over seeds (``ddof=1``; 0 for one seed), as in
the plots. On a dataset with a published table (:data:`PUBLISHED`), the paper's figures
stand beside the run's (:func:`published_table`).
"""

from __future__ import annotations

import math
import os
import tomllib
from collections import Counter

import numpy as np

from graphnet.lab import rundir as rd
from graphnet.lab.finals import final_rows, round_ends
from graphnet.lab.stats import summary_section

__all__ = ["final_results", "column_stats", "mean_std",
           "summary_table", "format_table", "round_table", "operator_counts", "run_warnings",
           "published_table", "lottery_points", "is_lottery", "lottery_table",
           "write_summary", "FIGURES", "PUBLISHED"]

#: Figures a run's ``plots/`` may hold, with their captions, in the order listed.
FIGURES = (
    ("comparison.png", "test accuracy against parameters, per model"),
    ("rounds.png", "edges and test accuracy per round"),
    ("learning_curves.png", "loss and accuracy per epoch (mean over seeds)"),
)

#: Published test accuracy (%) per dataset and model: (final step, headline). MNIST-1D:
#: Greydanus & Kobak, ICML 2024; headline from the paper's table, final step from the
#: benchmark notebook (github.com/greydanus/mnist1d), 4000 train / 1000 test.
PUBLISHED = {
    "mnist1d": {"logistic": (31.5, 32.0), "mlp_residual": (65.1, 68.0), "cnn1d": (92.3, 94.0)},
}


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
    for model in dict.fromkeys(r["model"] for r in metrics):
        found = sorted((v for (m, _), v in best.items() if m == model), key=lambda d: d["seed"])
        if found:
            out[model] = found
    return out


def column_stats(values) -> tuple:
    """Per column of a 2-D array, nan for missing: mean, std (ddof=1), min, max, count.

    A column without a finite value (or no row at all) gives nan everywhere (no warning);
    one value gives std 0.

    Parameters
    ----------
    values : array_like of shape (n, k)
        ``n`` samples (seeds) of ``k`` columns; nan (or inf) marks a missing value.

    Returns
    -------
    (mean, std, min, max, count) : tuple of ndarray of shape (k,)

    Examples
    --------
    >>> mean, std, lo, hi, n = column_stats([[1.0, np.nan], [3.0, np.nan]])
    >>> mean.tolist(), std.tolist(), lo.tolist(), hi.tolist(), n.tolist()
    ([2.0, nan], [1.4142135623730951, nan], [1.0, nan], [3.0, nan], [2, 0])
    """
    v = np.asarray(values, dtype=float)
    ok = np.isfinite(v)
    n = ok.sum(axis=0)
    safe = np.where(ok, v, 0.0)
    mean = np.divide(safe.sum(axis=0), n, out=np.full(v.shape[1], np.nan), where=n > 0)
    dev = np.where(ok, v - mean, 0.0)
    var = np.divide((dev ** 2).sum(axis=0), n - 1, out=np.zeros(v.shape[1]), where=n > 1)
    std = np.where(n > 0, np.sqrt(var), np.nan)
    lo = np.where(n > 0, np.where(ok, v, np.inf).min(axis=0, initial=np.inf), np.nan)
    hi = np.where(n > 0, np.where(ok, v, -np.inf).max(axis=0, initial=-np.inf), np.nan)
    return mean, std, lo, hi, n


def mean_std(values) -> tuple[float, float]:
    """Mean and sample std (``ddof=1``; 0 for one value, nan for none) of a sequence.

    One column of :func:`column_stats`.

    Examples
    --------
    >>> mean_std([1.0, 3.0]), mean_std([0.5]), mean_std([])
    ((2.0, 1.4142135623730951), (0.5, 0.0), (nan, nan))
    """
    mean, std, _, _, _ = column_stats(np.asarray(values, dtype=float).reshape(-1, 1))
    return float(mean[0]), float(std[0])


def summary_table(metrics) -> list:
    """One dict per model (in order of appearance) summarising its final results.

    Parameters
    ----------
    metrics : list of dict
        Rows of metrics.csv (:func:`graphnet.lab.rundir.read_metrics`).

    Returns
    -------
    list of dict
        Keys ``model``, ``n_seeds``, ``params`` and ``edges`` (means over seeds; edges
        None for mlp/cnn), ``accuracy`` and ``accuracy_std`` (fractions), ``time``
        (seconds of training per seed, mean).

    Examples
    --------
    >>> rows = [dict(seed=s, model="mlp", round=0, epoch=1, test_accuracy=a, params=10,
    ...              edges=None, accepted=1, time=0.5) for s, a in ((0, 0.9), (1, 0.8))]
    >>> t = summary_table(rows)[0]
    >>> t["model"], t["params"], round(t["accuracy"], 3), round(t["accuracy_std"], 4), t["time"]
    ('mlp', 10.0, 0.85, 0.0707, 0.5)
    """
    finals = final_rows(metrics)
    times = {}
    for r in metrics:
        key = (r["model"], r["seed"])
        times[key] = times.get(key, 0.0) + (r.get("time") or 0.0)
    table = []
    for model in dict.fromkeys(r["model"] for r in metrics):
        seeds = sorted({s for (m, s) in finals if m == model})
        rows = [finals[(model, s)] for s in seeds]
        acc, std = mean_std([r["test_accuracy"] for r in rows])
        edges = [r["edges"] for r in rows if r.get("edges") is not None]
        table.append({
            "model": model,
            "n_seeds": len(rows),
            "params": float(np.mean([r["params"] for r in rows])) if rows else math.nan,
            "edges": float(np.mean(edges)) if edges else None,
            "accuracy": acc,
            "accuracy_std": std,
            "time": float(np.mean([times[(model, s)] for s in seeds])) if seeds else math.nan,
        })
    return table


def _nan_none(value) -> float:
    """None -> nan, else float."""
    return math.nan if value is None else float(value)


def lottery_points(metrics) -> dict:
    """Per model with an edge count: (rounds, fraction remaining, accuracy mean, std, seeds).

    Parameters
    ----------
    metrics : list of dict
        Metrics rows (``seed model round epoch edges test_accuracy``).

    Returns
    -------
    dict
        model -> dict of ndarray of shape (rounds,): ``round``, ``fraction`` (mean over
        seeds of edges / round-0 edges), ``mean``, ``std`` (ddof 1) and ``n`` of the test
        accuracy at the round's last epoch.

    Examples
    --------
    >>> rows = [dict(seed=s, model="graph", round=r, epoch=1, edges=100 - 20 * r,
    ...              test_accuracy=0.5 + 0.1 * s) for s in (0, 1) for r in range(3)]
    >>> p = lottery_points(rows)["graph"]
    >>> p["fraction"].tolist(), p["mean"].round(2).tolist()
    ([1.0, 0.8, 0.6], [0.55, 0.55, 0.55])
    """
    ends = round_ends(metrics)
    out = {}
    for model in dict.fromkeys(r["model"] for r in metrics):
        seeds = sorted({s for (m, s, _) in ends if m == model})
        rounds = sorted({r for (m, _, r) in ends if m == model})
        edges = np.array([[_nan_none(ends[(model, s, r)].get("edges")) if (model, s, r) in ends
                           else np.nan for r in rounds] for s in seeds])
        if not np.isfinite(edges).any() or rounds[0] != 0:
            continue
        acc = np.array([[_nan_none(ends[(model, s, r)].get("test_accuracy"))
                         if (model, s, r) in ends else np.nan for r in rounds] for s in seeds])
        fraction, _, _, _, _ = column_stats(edges / edges[:, :1])
        mean, std, _, _, n = column_stats(acc)
        out[model] = {"round": np.array(rounds), "fraction": fraction, "mean": mean, "std": std,
                      "n": n}
    return out


def is_lottery(config: dict, models) -> bool:
    """Whether a run is a lottery experiment: it rewinds, or it has the random-prune baseline.

    Examples
    --------
    >>> is_lottery({"mutation": {"rewind": "init"}}, ["graph"]), is_lottery({}, ["graph"])
    (True, False)
    """
    return config.get("mutation", {}).get("rewind", "none") != "none" or "random-prune" in models


def lottery_table(metrics) -> str:
    """Per round: weights remaining and each model's final test accuracy, as Markdown.

    The numbers are :func:`lottery_points`': the fraction remaining is the ``graph`` model's
    (else the first pruned model's), mean over seeds; a cell is mean ± std over seeds of the
    test accuracy at the round's last epoch, ``-`` where a model has no such round.

    Examples
    --------
    >>> rows = [dict(seed=s, model=m, round=r, epoch=1, edges=100 - (20 * r if m != "dense" else 0),
    ...              test_accuracy=0.6 + 0.1 * s) for s in (0, 1) for m in ("graph", "dense")
    ...         for r in range(2)]
    >>> print(lottery_table(rows))
    | round | weights remaining | graph | dense |
    | --- | --- | --- | --- |
    | 0 | 100.0 % | 65.00 ± 7.07 % | 65.00 ± 7.07 % |
    | 1 | 80.0 % | 65.00 ± 7.07 % | 65.00 ± 7.07 % |
    """
    points = lottery_points(metrics)
    if not points:
        return ""
    pruned = [m for m, p in points.items() if np.nanmin(p["fraction"]) < 1]
    ref = points["graph" if "graph" in pruned else (pruned or list(points))[0]]
    models = list(points)
    lines = ["| round | weights remaining | " + " | ".join(models) + " |",
             "| --- " * (len(models) + 2) + "|"]
    for k, rnd in enumerate(ref["round"]):
        cells = []
        for p in (points[m] for m in models):
            i = np.flatnonzero((p["round"] == rnd) & (p["n"] > 0))
            cells.append(f"{100 * p['mean'][i[0]]:.2f} ± {100 * p['std'][i[0]]:.2f} %"
                         if i.size else "-")
        lines.append(f"| {rnd} | {100 * ref['fraction'][k]:.1f} % | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _count(x) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.1f}"


def format_table(table) -> str:
    """The summary table as Markdown.

    Examples
    --------
    >>> print(format_table([{"model": "graph", "n_seeds": 2, "params": 90.0, "edges": 80.0,
    ...                      "accuracy": 0.95, "accuracy_std": 0.01, "time": 1.25}]))
    | model | parameters (edges) | test accuracy (mean ± std) | seeds | training time (s) |
    | --- | --- | --- | --- | --- |
    | graph | 90 (80) | 95.00 ± 1.00 % | 2 | 1.25 |
    """
    lines = ["| model | parameters (edges) | test accuracy (mean ± std) | seeds | training time (s) |",
             "| --- | --- | --- | --- | --- |"]
    for t in table:
        params = _count(t["params"]) + (f" ({_count(t['edges'])})" if t["edges"] is not None else "")
        acc = f"{100 * t['accuracy']:.2f} ± {100 * t['accuracy_std']:.2f} %"
        secs = f"{t['time']:.2f}" if t["time"] < 10 else f"{t['time']:.1f}"
        lines.append(f"| {t['model']} | {params} | {acc} | {t['n_seeds']} | {secs} |")
    return "\n".join(lines)


def published_table(table, dataset: str) -> str:
    """The run's test accuracy beside the published figures of ``dataset``, as Markdown.

    ``""`` for a dataset without a published table; models the paper has no figure for
    get ``-``.

    Examples
    --------
    >>> t = [{"model": "cnn1d", "n_seeds": 3, "accuracy": 0.9413, "accuracy_std": 0.0119},
    ...      {"model": "graph", "n_seeds": 3, "accuracy": 0.67, "accuracy_std": 0.005}]
    >>> print(published_table(t, "mnist1d"))
    | model | this run (mean ± std) | published, final step | published, headline |
    | --- | --- | --- | --- |
    | cnn1d | 94.13 ± 1.19 % | 92.3 % | 94 % |
    | graph | 67.00 ± 0.50 % | - | - |
    >>> published_table(t, "digits")
    ''
    """
    paper = PUBLISHED.get(dataset.split(":", 1)[0])
    if not paper:
        return ""
    lines = ["| model | this run (mean ± std) | published, final step | published, headline |",
             "| --- | --- | --- | --- |"]
    for t in table:
        final, headline = paper.get(t["model"], (None, None))
        published = "- | -" if final is None else f"{final:.1f} % | {headline:.0f} %"
        acc = f"{100 * t['accuracy']:.2f} ± {100 * t['accuracy_std']:.2f} %"
        lines.append(f"| {t['model']} | {acc} | {published} |")
    return "\n".join(lines)


def round_table(metrics, model: str = "graph") -> list:
    """Per round of ``model``: mean edges, mean test accuracy, rounds kept / seeds.

    Examples
    --------
    >>> rows = [dict(seed=0, model="graph", round=0, epoch=1, edges=10, test_accuracy=0.5,
    ...              accepted=1)]
    >>> round_table(rows)
    [{'round': 0, 'edges': 10.0, 'accuracy': 0.5, 'kept': 1, 'seeds': 1}]
    """
    ends = {}
    for r in metrics:
        if r["model"] != model:
            continue
        key = (r["seed"], r["round"])
        if key not in ends or r["epoch"] >= ends[key]["epoch"]:
            ends[key] = r
    out = []
    for rnd in sorted({k[1] for k in ends}):
        rows = [row for (s, q), row in ends.items() if q == rnd]
        out.append({"round": rnd,
                    "edges": float(np.mean([r["edges"] for r in rows])),
                    "accuracy": float(np.mean([r["test_accuracy"] for r in rows])),
                    "kept": sum(1 for r in rows if r.get("accepted") != 0),
                    "seeds": len(rows)})
    return out


def operator_counts(history) -> list:
    """Per (model, operator): applications, how many were kept and how many refused.

    Examples
    --------
    >>> h = [{"model": "graph", "name": "threshold", "letter": "A", "accepted": True,
    ...       "error": None}] * 2
    >>> operator_counts(h)
    [{'model': 'graph', 'name': 'threshold', 'letter': 'A', 'applied': 2, 'kept': 2, 'refused': 0}]
    """
    applied, kept, refused, letters = Counter(), Counter(), Counter(), {}
    for h in history:
        key = (h["model"], h["name"])
        letters[key] = h.get("letter")
        if h.get("error"):
            refused[key] += 1
            continue
        applied[key] += 1
        kept[key] += bool(h.get("accepted"))
    keys = list(dict.fromkeys((h["model"], h["name"]) for h in history))
    return [{"model": m, "name": n, "letter": letters[(m, n)], "applied": applied[(m, n)],
             "kept": kept[(m, n)], "refused": refused[(m, n)]} for m, n in keys]


def run_warnings(run_dir) -> list:
    """The warnings of a run's completed rounds (``warnings`` of the part files), in order.

    Ordered by seed, model (config order), round; see :mod:`graphnet.lab.disconnect`.

    Examples
    --------
    >>> import tempfile
    >>> from graphnet.lab.config import parse_config
    >>> from graphnet.lab.runner import run_experiment
    >>> cfg = parse_config('rounds = 1\\nseeds = [0]\\n[data]\\ndataset = "xor"\\n[train]\\n'
    ...                    'epochs = 1\\n[baselines]\\nmodels = []\\n[[mutation.schedule]]\\n'
    ...                    'op = "A"\\na = 1e6')
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = run_experiment(cfg, d, resume=True, plots=False, progress=False)
    ...     [(w["round"], w["outputs"], w["action"]) for w in run_warnings(d)]
    [(1, ['y0', 'y1'], 'warn')]
    """
    run = rd.RunDir(run_dir)
    with open(run.config, encoding="utf-8") as fh:
        config = tomllib.loads(fh.read())
    out = []
    for seed in sorted(config["seeds"]):
        for model in ("graph", *config["baselines"]["models"]):
            for r in range(run.completed_round(model, seed) + 1):
                out.extend(run.read_part(model, seed, r).get("warnings", []))
    return out


def write_summary(run_dir) -> str:
    """Write ``RUN/summary.md`` from the run directory alone; returns its text.

    Parameters
    ----------
    run_dir : str or os.PathLike

    Returns
    -------
    str

    Examples
    --------
    >>> import tempfile
    >>> from graphnet.lab.config import parse_config
    >>> from graphnet.lab.runner import run_experiment
    >>> cfg = parse_config('name = "s"\\nrounds = 0\\nseeds = [0]\\n[data]\\ndataset = "xor"\\n'
    ...                    '[train]\\nepochs = 2\\n[baselines]\\nmodels = ["mlp"]')
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = run_experiment(cfg, d, resume=True, plots=False)
    ...     text = write_summary(d)
    >>> text.splitlines()[0], "| mlp |" in text
    ('# s', True)
    """
    run = rd.RunDir(run_dir)
    with open(run.config, encoding="utf-8") as fh:
        config = tomllib.loads(fh.read())
    metrics = rd.read_metrics(run.path)
    history = rd.read_history(run.path)
    table = summary_table(metrics)
    tr = config["train"]
    lines = [f"# {config['name']}", ""]
    if config.get("description"):
        lines += [config["description"], ""]
    lines += [
        f"Data `{config['data']['dataset']}`; start network `{config['network']['start']}` "
        f"({config['network']['mode']}); {config['rounds']} mutation rounds after round 0, "
        f"{tr['epochs']} epochs per round ({tr['optimizer']}, batch {tr['batch_size']}); "
        f"accept policy `{config['mutation']['accept']}`; seeds {config['seeds']}.",
        "",
        "## Results",
        "",
        format_table(table),
        "",
        "Final network per seed: the last kept round. Std: sample standard deviation over "
        "seeds. Time: training seconds per seed (sum of epoch times).",
        "",
    ]
    lines += summary_section(config, metrics).split("\n")  # intervals, paired tests: stats.py
    published = published_table(table, config["data"]["dataset"])
    if published:
        lines += ["## Beside the published figures", "", published, "",
                  "Published: the paper's final-step test accuracy (its benchmark notebook) "
                  "and its headline table.", ""]
    if is_lottery(config, {r["model"] for r in metrics}):
        table_md = lottery_table(metrics)
        rewind = config["mutation"].get("rewind", "none")
        policy = (f"rewound to epoch {rewind['epoch']} of round 0" if isinstance(rewind, dict)
                  else "rewound to their round-0 initial values" if rewind == "init"
                  else "not rewound (training continues from the pruned weights)")
        lines += ["## Lottery curve", "", table_md, "",
                  f"Rewind policy `{rewind}`: before each round the surviving weights are "
                  f"{policy}. Test accuracy at the last epoch of each round, mean ± std over "
                  "seeds; weights remaining: edges over round-0 edges, mean over seeds.", ""]
        drawn = sorted(os.listdir(run.plots)) if os.path.isdir(run.plots) else []
        links = [f"- [{n}](plots/{n})" for n in drawn
                 if n == "lottery.png" or (n.startswith("lottery_mask") and n.endswith(".png"))]
        if links:
            lines += links + [""]
    rounds = round_table(metrics, "graph")
    if rounds:
        lines += ["## The mutated graph per round (mean over seeds)", "",
                  "| round | edges | test accuracy | kept |", "| --- | --- | --- | --- |"]
        for r in rounds:
            lines.append(f"| {r['round']} | {_count(r['edges'])} | {100 * r['accuracy']:.2f} % "
                         f"| {r['kept']}/{r['seeds']} |")
        lines.append("")
    counts = operator_counts(history)
    lines += ["## Operators applied", ""]
    if counts:
        lines += ["| model | operator | letter | applied | kept | refused |",
                  "| --- | --- | --- | --- | --- | --- |"]
        for c in counts:
            lines.append(f"| {c['model']} | {c['name']} | {c['letter'] or '-'} | {c['applied']} "
                         f"| {c['kept']} | {c['refused']} |")
    else:
        lines.append("None.")
    lines.append("")
    warnings = run_warnings(run.path)
    if warnings:
        lines += ["## Warnings", ""]
        lines += [f"- {w['message']}" for w in warnings]
        lines.append("")
    figures = []
    if os.path.isdir(run.plots):
        names = sorted(os.listdir(run.plots))
        for name, caption in FIGURES:
            if name in names:
                figures.append(f"![{caption}](plots/{name})")
        for name in names:
            if name.startswith(("evolution", "matrix")) and name.endswith((".png", ".gif")):
                figures.append(f"- [{name}](plots/{name})")
    if figures:
        lines += ["## Figures", ""]
        for f in figures:
            lines += [f, ""] if f.startswith("!") else [f]
        lines.append("")
    text = "\n".join(lines)
    rd.atomic_write_text(run.summary, text)
    return text
