"""Statistics over seeds: does a model differ from the reference, or is it noise?

A run trains every model once per seed, so each model has one final test accuracy per
seed (the final network as :func:`graphnet.lab.finals.final_rows` defines it). This
module turns those numbers into what a reader can act on:

- :func:`interval` -- mean, sample std (``ddof=1``) and the Student-t confidence interval
  of the mean, ``mean ± t_{(1+level)/2, n-1} · std / sqrt(n)``;
- :func:`paired` -- the paired difference ``a - b`` over the seeds both models have (the
  same seed gives both models the same data split and start), its t interval, a paired
  test from scipy (``ttest_rel`` or ``wilcoxon``) and a plain verdict;
- :func:`compare_models` -- both, per model of a run, against a reference model;
- :func:`statistics_markdown` -- the ``## Statistics`` section of ``summary.md`` (its
  table cells, :func:`row_cells`, serve any table that shows the same columns).

Missing values (nan) are left out: ``n`` counts the finite values (pairs). The ``[stats]``
section of a config (``reference``, ``level``, ``test``, ``alpha``; checked in
:mod:`graphnet.lab.sections`) chooses them; :func:`summary_section` is what ``summary.md``
of a run shows.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from graphnet.errors import InputError
from graphnet.lab.finals import final_rows

__all__ = ["Interval", "Paired", "interval", "paired", "compare_models", "row_cells",
           "statistics_markdown", "summary_section", "default_reference", "TESTS",
           "STATS_DEFAULTS"]

#: The paired tests :func:`paired` knows.
TESTS = ("t", "wilcoxon")
#: Defaults of the ``[stats]`` section (``reference`` depends on the run's models).
STATS_DEFAULTS = {"level": 0.95, "test": "t", "alpha": 0.05}
_TEST_NAMES = {"t": "paired t-test", "wilcoxon": "Wilcoxon signed-rank test"}


@dataclass(frozen=True)
class Interval:
    """Mean of ``n`` values with its Student-t confidence interval ``[low, high]``.

    ``std`` is the sample standard deviation (``ddof=1``); one value gives std 0 and an
    undefined (nan) interval, no value gives nan everywhere.
    """

    n: int
    mean: float
    std: float
    low: float
    high: float


@dataclass(frozen=True)
class Paired:
    """Paired comparison of ``a`` against ``b``: ``mean`` of ``a - b`` over ``n`` pairs.

    ``[low, high]`` is the t interval of the differences, ``statistic`` and ``p`` the
    test's (nan where the test is undefined), ``verdict`` the plain reading and ``note``
    why a test is undefined or cannot decide (``""`` otherwise).
    """

    n: int
    mean: float
    low: float
    high: float
    statistic: float
    p: float
    test: str
    verdict: str
    note: str = ""


def _finite(values, where: str) -> np.ndarray:
    """A 1-D float array of ``values`` (nan allowed; refused: other shapes, non-numbers)."""
    try:
        v = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"{where}: expected a sequence of numbers, got {values!r}") from None
    if v.ndim != 1:
        raise InputError(f"{where}: expected a 1-D sequence of numbers, got shape {v.shape}")
    return v


def _check_level(level, where: str) -> float:
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0 < level < 1:
        raise InputError(f"{where}: expected a number in (0, 1), got {level!r}")
    return float(level)


def interval(values, level: float = 0.95) -> Interval:
    """Mean, std and the Student-t confidence interval of the mean of ``values``.

    Parameters
    ----------
    values : sequence of float
        One value per seed; nan values are missing and left out.
    level : float, default 0.95
        Confidence level, in (0, 1).

    Returns
    -------
    Interval
        ``n`` finite values, their ``mean``, ``std`` (``ddof=1``) and
        ``mean ± t_{(1+level)/2, n-1} · std / sqrt(n)`` (``scipy.stats.t``). ``n = 1``:
        std 0, low and high nan; ``n = 0``: all nan.

    Raises
    ------
    InputError
        ``values`` is not a 1-D sequence of numbers, or ``level`` is not in (0, 1).

    Examples
    --------
    >>> iv = interval([1.0, 2.0, 3.0, 4.0])
    >>> iv.n, iv.mean, round(iv.std, 4), round(iv.low, 4), round(iv.high, 4)
    (4, 2.5, 1.291, 0.4457, 4.5543)
    >>> interval([0.5])
    Interval(n=1, mean=0.5, std=0.0, low=nan, high=nan)
    """
    from scipy import stats as st  # ~0.8 s to import: only when statistics are computed

    level = _check_level(level, "interval: level")
    v = _finite(values, "interval: values")
    v = v[np.isfinite(v)]
    n = int(v.size)
    if n == 0:
        return Interval(0, math.nan, math.nan, math.nan, math.nan)
    mean = float(v.mean())
    if n == 1:
        return Interval(1, mean, 0.0, math.nan, math.nan)
    std = float(v.std(ddof=1))
    half = float(st.t.ppf((1 + level) / 2, n - 1)) * std / math.sqrt(n)
    return Interval(n, mean, std, mean - half, mean + half)


def paired(a, b, *, level: float = 0.95, test: str = "t", alpha: float = 0.05) -> Paired:
    """Paired comparison of ``a`` against ``b`` (same seeds, same order): is ``a - b`` zero?

    Parameters
    ----------
    a, b : sequence of float
        Paired values (``a[k]`` and ``b[k]`` from the same seed), of equal length; a pair
        with a nan is left out.
    level : float, default 0.95
        Confidence level of the interval of the mean difference.
    test : {"t", "wilcoxon"}, default "t"
        ``"t"``: ``scipy.stats.ttest_rel``; ``"wilcoxon"``: ``scipy.stats.wilcoxon``
        (signed-rank, scipy's ``method="auto"``: the exact distribution for n <= 50 without
        ties or zeros, exhaustive sign permutations for n <= 13 with them, the normal
        approximation beyond; zero differences are dropped). Both two-sided; with n <= 5
        the Wilcoxon p is never below 0.0625, which ``note`` says.
    alpha : float, default 0.05
        Significance level of the verdict, in (0, 1).

    Returns
    -------
    Paired
        ``verdict``: ``"better"`` (``p < alpha`` and mean difference > 0), ``"worse"``
        (``p < alpha`` and mean < 0), ``"identical at every seed"`` (all differences 0;
        the test is undefined, ``p`` nan), ``"too few seeds to compare (n = K)"`` for
        fewer than 2 pairs, else ``"no detectable difference at n = K seeds"``. A
        constant non-zero difference gives the t-test's limit, ``t = ±inf``, ``p = 0``.

    Raises
    ------
    InputError
        ``a`` and ``b`` differ in length, or ``level``, ``test`` or ``alpha`` is invalid.

    Examples
    --------
    >>> r = paired([0.9, 0.8, 0.85, 0.95], [0.8, 0.75, 0.8, 0.85])
    >>> round(r.mean, 4), round(r.p, 4), r.verdict
    (0.075, 0.0138, 'better')
    >>> paired([0.9, 0.8, 0.85], [0.9, 0.8, 0.85]).verdict
    'identical at every seed'
    >>> paired([0.9, 0.7, 0.85], [0.8, 0.75, 0.8], test="wilcoxon").verdict
    'no detectable difference at n = 3 seeds'
    """
    from scipy import stats as st

    level = _check_level(level, "paired: level")
    if test not in TESTS:
        raise InputError(f"paired: test: expected one of {', '.join(map(repr, TESTS))}, "
                         f"got {test!r}")
    alpha = _check_level(alpha, "paired: alpha")
    a, b = _finite(a, "paired: a"), _finite(b, "paired: b")
    if a.size != b.size:
        raise InputError(f"paired: a and b must be paired (one value per seed each); "
                         f"got {a.size} and {b.size} values")
    keep = np.isfinite(a) & np.isfinite(b)
    a, b = a[keep], b[keep]
    d = a - b
    iv = interval(d, level)
    n = iv.n
    nan = math.nan
    if n < 2:
        return Paired(n, iv.mean, nan, nan, nan, nan, test, f"too few seeds to compare (n = {n})",
                      "a paired test needs at least 2 seeds")
    if not d.any():
        return Paired(n, 0.0, 0.0, 0.0, nan, nan, test, "identical at every seed",
                      f"the {_TEST_NAMES[test]} is undefined when every difference is 0")
    note = ""
    if test == "t" and iv.std == 0:  # a constant difference: t -> ±inf, p -> 0 (scipy's limit)
        statistic, p = math.copysign(math.inf, iv.mean), 0.0
        note = ("where every seed differs by the same amount the t-test takes its limit, "
                "t = ±inf and p = 0")
    else:
        with warnings.catch_warnings():  # scipy warns on nearly constant data; the result stands
            warnings.simplefilter("ignore", RuntimeWarning)
            res = st.ttest_rel(a, b) if test == "t" else st.wilcoxon(d)
        statistic, p = float(res.statistic), float(res.pvalue)
        if test == "wilcoxon" and n <= 5:
            note = (f"with n = {n} <= 5 seeds the two-sided Wilcoxon test cannot reach "
                    f"p < 0.05 (its smallest p is {2 / 2 ** n:.4g})")
    if p < alpha:
        verdict = "better" if iv.mean > 0 else "worse"
    else:
        verdict = f"no detectable difference at n = {n} seeds"
    return Paired(n, iv.mean, iv.low, iv.high, statistic, p, test, verdict, note)


def default_reference(models) -> str:
    """The default reference model: ``"fixed-graph"`` when the run has it, else ``"graph"``.

    Examples
    --------
    >>> default_reference(["graph", "fixed-graph", "mlp"]), default_reference(["graph", "mlp"])
    ('fixed-graph', 'graph')
    """
    return "fixed-graph" if "fixed-graph" in models else "graph"


def compare_models(metrics, *, reference: str, level: float = 0.95, test: str = "t",
                   alpha: float = 0.05) -> list:
    """Per model: the interval of its final test accuracy, and the paired test vs ``reference``.

    Parameters
    ----------
    metrics : list of dict
        Metrics rows (``seed model round epoch test_accuracy``, ``accepted`` when present);
        the final network of a (model, seed) is :func:`graphnet.lab.finals.final_rows`'.
    reference : str
        The model every other model is compared with.
    level, test, alpha
        As :func:`paired`.

    Returns
    -------
    list of dict
        One per model, in order of appearance in ``metrics``: ``model``, ``seeds`` (sorted),
        ``interval`` (:class:`Interval` of the final test accuracy) and ``paired``
        (:class:`Paired` of model minus reference over the seeds both have; None for the
        reference itself).

    Raises
    ------
    InputError
        ``reference`` is not a model of ``metrics`` (the message names the models).

    Examples
    --------
    >>> rows = [dict(seed=s, model=m, round=0, epoch=1, test_accuracy=acc)
    ...         for s in range(4) for m, acc in (("graph", 0.8 + 0.01 * s),
    ...                                           ("mlp", 0.7 + 0.02 * s))]
    >>> out = compare_models(rows, reference="graph")
    >>> [r["model"] for r in out], out[0]["paired"], out[1]["paired"].verdict
    (['graph', 'mlp'], None, 'worse')
    """
    models = list(dict.fromkeys(r["model"] for r in metrics))
    if reference not in models:
        raise InputError(f"compare_models: reference: expected one of the run's models "
                         f"({', '.join(models) or 'none'}), got {reference!r}")
    finals = final_rows(metrics)
    acc = {m: {s: float(r["test_accuracy"]) for (mm, s), r in finals.items() if mm == m}
           for m in models}
    out = []
    for m in models:
        seeds = sorted(acc[m])
        row = {"model": m, "seeds": seeds, "interval": interval([acc[m][s] for s in seeds], level),
               "paired": None}
        if m != reference:
            both = sorted(set(acc[m]) & set(acc[reference]))
            row["paired"] = paired([acc[m][s] for s in both], [acc[reference][s] for s in both],
                                   level=level, test=test, alpha=alpha)
        out.append(row)
    return out


def row_cells(row) -> list:
    """One :func:`compare_models` row as table cells (percent, 2 decimals; ``-`` for nan).

    Cells: model, seeds, mean, std, interval, difference vs the reference with its interval
    (``"reference"`` for the reference itself), p and verdict -- the columns of
    :func:`statistics_markdown`, for any table that shows them.

    Examples
    --------
    >>> rows = [dict(seed=s, model=m, round=0, epoch=1, test_accuracy=0.8 + 0.1 * s * (m == "a"))
    ...         for s in range(2) for m in ("a", "b")]
    >>> cells = [row_cells(r) for r in compare_models(rows, reference="b")]
    >>> cells  # doctest: +NORMALIZE_WHITESPACE
    [['a', '2', '85.00', '7.07', '[21.47, 148.53]', '5.00 [-58.53, 68.53]', '0.5000',
      'no detectable difference at n = 2 seeds'],
     ['b', '2', '80.00', '0.00', '[80.00, 80.00]', 'reference', '-', '-']]
    """
    iv, pr = row["interval"], row["paired"]
    ci = f"[{_pct(iv.low)}, {_pct(iv.high)}]" if math.isfinite(iv.low) else "-"
    if pr is None:
        diff, p, verdict = "reference", "-", "-"
    else:
        diff = _pct(pr.mean) + (f" [{_pct(pr.low)}, {_pct(pr.high)}]" if math.isfinite(pr.low)
                                else "")
        p, verdict = _p(pr.p), pr.verdict
    return [row["model"], str(iv.n), _pct(iv.mean), _pct(iv.std), ci, diff, p, verdict]


def _pct(x: float) -> str:
    return "-" if not math.isfinite(x) else f"{100 * x:.2f}"


def _p(p: float) -> str:
    if not math.isfinite(p):
        return "-"
    return "< 0.0001" if p < 1e-4 else f"{p:.4f}"


def statistics_markdown(rows, *, reference: str, level: float = 0.95, test: str = "t",
                        alpha: float = 0.05) -> str:
    """The ``## Statistics`` section of ``summary.md`` for :func:`compare_models`' rows.

    A table (model, seeds, mean, std, confidence interval, difference vs the reference with
    its interval, p, verdict; accuracies in percent with 2 decimals) and a paragraph that
    says what the test is and what the verdict means. It starts with its heading.

    Examples
    --------
    >>> rows = [dict(seed=s, model=m, round=0, epoch=1, test_accuracy=acc)
    ...         for s in range(3) for m, acc in (("graph", 0.8 + 0.01 * s),
    ...                                           ("mlp", 0.7 + 0.02 * s))]
    >>> text = statistics_markdown(compare_models(rows, reference="graph"), reference="graph")
    >>> print(text.splitlines()[4])
    | graph | 3 | 81.00 | 1.00 | [78.52, 83.48] | reference | - | - |
    >>> print(text.splitlines()[5])
    | mlp | 3 | 72.00 | 2.00 | [67.03, 76.97] | -9.00 [-11.48, -6.52] | 0.0041 | worse |
    """
    pct = f"{100 * level:g} %"
    lines = ["## Statistics", "",
             f"| model | seeds | mean (%) | std (%) | {pct} CI (%) | difference vs {reference} "
             f"({pct} CI, points) | p | verdict |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    lines += ["| " + " | ".join(row_cells(r)) + " |" for r in rows]
    notes = list(dict.fromkeys(r["paired"].note for r in rows if r["paired"] and r["paired"].note))
    what = ("a paired t-test (`scipy.stats.ttest_rel`) on the per-seed differences"
            if test == "t" else
            "the Wilcoxon signed-rank test (`scipy.stats.wilcoxon`, exact for small n) on the "
            "per-seed differences")
    lines += ["",
              f"Final test accuracy per seed (the last kept round), over seeds: mean, sample "
              f"std and the Student-t {pct} confidence interval of the mean. Each model is "
              f"compared with the reference `{reference}` seed by seed (the same seed gives "
              f"both the same data split): the difference is model minus reference, in "
              f"percentage points, with its {pct} t interval, tested two-sided by {what}. "
              f"\"better\" or \"worse\" means p < {alpha:g}; \"no detectable difference\" "
              f"means this many seeds cannot tell the two apart (not that they are equal).",
              ""]
    for note in notes:
        lines += [f"Note: {note}.", ""]
    return "\n".join(lines)


def summary_section(config: dict, metrics) -> str:
    """The ``## Statistics`` section of a run's ``summary.md`` (``""`` without metrics).

    Parameters
    ----------
    config : dict
        The run's resolved config (its ``config.toml``); ``[stats]`` chooses the reference,
        level, test and alpha. A run written before ``[stats]`` existed gets the defaults
        (:data:`STATS_DEFAULTS`, :func:`default_reference`).
    metrics : list of dict
        The run's metrics rows.

    Returns
    -------
    str

    Examples
    --------
    >>> rows = [dict(seed=s, model=m, round=0, epoch=1, test_accuracy=0.8 + 0.01 * s)
    ...         for s in range(2) for m in ("graph", "fixed-graph")]
    >>> text = summary_section({"stats": {"test": "wilcoxon"}}, rows)
    >>> text.splitlines()[0], "| fixed-graph | 2 | 80.50 | 0.71 |" in text
    ('## Statistics', True)
    >>> "identical at every seed" in text, "cannot reach p < 0.05" in text
    (True, False)
    """
    models = list(dict.fromkeys(r["model"] for r in metrics))
    if not models:
        return ""
    s = {**STATS_DEFAULTS, **config.get("stats", {})}
    reference = s.get("reference", default_reference(models))
    if reference not in models:  # a run stopped before its reference model has rows
        return ""
    rows = compare_models(metrics, reference=reference, level=s["level"], test=s["test"],
                          alpha=s["alpha"])
    return statistics_markdown(rows, reference=reference, level=s["level"], test=s["test"],
                               alpha=s["alpha"])
