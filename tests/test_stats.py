"""Statistics over seeds (graphnet.lab.stats), the [stats] config section, summary.md's section.

Every number is checked twice: against scipy and against a hand computation written out
here (t quantiles typed from a table, exact Wilcoxon p-values counted by hand).
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from scipy import stats as st

from graphnet.cli import main
from graphnet.errors import ConfigError, InputError
from graphnet.lab.config import parse_config
from graphnet.lab.rundir import read_metrics
from graphnet.lab.runner import run_experiment
from graphnet.lab.stats import (compare_models, interval, paired, statistics_markdown,
                                summary_section)

#: t_{0.975, df} from a printed table (df = 3, 4).
T975 = {3: 3.182446305284263, 4: 2.7764451051977987}


# ------------------------------------------------------------------ interval


def test_interval_of_1_2_3_4_is_the_t_formula_by_hand():
    iv = interval([1.0, 2.0, 3.0, 4.0])
    std = math.sqrt(((1.5 ** 2 + 0.5 ** 2) * 2) / 3)  # sqrt(5/3)
    half = T975[3] * std / math.sqrt(4)
    assert (iv.n, iv.mean) == (4, 2.5)
    assert iv.std == pytest.approx(std, rel=1e-12)
    assert (iv.low, iv.high) == pytest.approx((2.5 - half, 2.5 + half), rel=1e-12)
    assert (iv.low, iv.high) == pytest.approx((0.4457397432391206, 4.554260256760879), rel=1e-12)


@pytest.mark.parametrize("level", [0.5, 0.9, 0.95, 0.99])
def test_interval_matches_scipy_t_interval(level):
    x = np.random.default_rng(7).normal(0.8, 0.05, size=7)
    iv = interval(x, level)
    low, high = st.t.interval(level, len(x) - 1, loc=x.mean(), scale=st.sem(x))
    assert (iv.low, iv.high) == pytest.approx((low, high), rel=1e-12)
    assert iv.std == pytest.approx(np.std(x, ddof=1), rel=1e-12)


def test_interval_edge_cases_one_none_constant_and_nan():
    one = interval([0.7])
    assert (one.n, one.mean, one.std) == (1, 0.7, 0.0)
    assert math.isnan(one.low) and math.isnan(one.high)
    none = interval([])
    assert none.n == 0 and all(math.isnan(x) for x in (none.mean, none.std, none.low, none.high))
    const = interval([0.5, 0.5, 0.5])
    assert (const.low, const.std, const.high) == (0.5, 0.0, 0.5)
    # nan is a missing seed: left out, n counts the rest
    assert interval([1.0, math.nan, 3.0]) == interval([1.0, 3.0])
    assert interval([math.nan]).n == 0


@pytest.mark.parametrize("bad, match", [
    (dict(values=[1, 2], level=1.0), r"interval: level: expected a number in \(0, 1\), got 1.0"),
    (dict(values=[1, 2], level=0), r"level"),
    (dict(values=[[1, 2], [3, 4]]), r"interval: values: expected a 1-D sequence"),
    (dict(values=["a", "b"]), r"interval: values: expected a sequence of numbers"),
])
def test_interval_refuses_bad_arguments(bad, match):
    with pytest.raises(InputError, match=match):
        interval(**bad)


# ------------------------------------------------------------------ paired


def test_paired_t_by_hand_and_against_scipy():
    a, b = [0.9, 0.8, 0.85, 0.95], [0.8, 0.75, 0.8, 0.85]
    r = paired(a, b)
    d = [0.1, 0.05, 0.05, 0.1]
    mean = sum(d) / 4
    sd = math.sqrt(sum((x - mean) ** 2 for x in d) / 3)
    t = mean / (sd / 2)  # 0.075 / (0.028868 / 2) = 5.196
    assert r.mean == pytest.approx(0.075, rel=1e-12)
    assert r.statistic == pytest.approx(t, rel=1e-9) and t == pytest.approx(3 * math.sqrt(3))
    assert (r.low, r.high) == pytest.approx((mean - T975[3] * sd / 2, mean + T975[3] * sd / 2))
    ref = st.ttest_rel(a, b)
    assert (r.statistic, r.p) == pytest.approx((ref.statistic, ref.pvalue), rel=1e-12)
    assert r.p < 0.05 and r.verdict == "better" and r.test == "t" and r.n == 4


def test_paired_t_matches_scipy_on_random_pairs():
    rng = np.random.default_rng(3)
    for _ in range(20):
        n = int(rng.integers(2, 12))
        a, b = rng.uniform(0.5, 1, n), rng.uniform(0.5, 1, n)
        r, ref = paired(a, b), st.ttest_rel(a, b)
        assert (r.statistic, r.p) == pytest.approx((ref.statistic, ref.pvalue), rel=1e-10)
        ci = ref.confidence_interval(0.95)
        assert (r.low, r.high) == pytest.approx((ci.low, ci.high), rel=1e-10)


def test_paired_wilcoxon_exact_p_values_counted_by_hand():
    # all n differences positive: W- = 0; exact two-sided p = 2 / 2^n
    five = paired([1, 2, 3, 4, 5], [0] * 5, test="wilcoxon")
    assert five.p == pytest.approx(2 / 32) and five.statistic == 0
    assert five.verdict == "no detectable difference at n = 5 seeds"
    assert "cannot reach p < 0.05" in five.note
    six = paired([1, 2, 3, 4, 5, 6], [0] * 6, test="wilcoxon")
    assert six.p == pytest.approx(2 / 64) and six.verdict == "better" and six.note == ""
    # one negative difference of rank 2: W- = 2; rank subsets with sum <= 2: {}, {1}, {2}
    mixed = paired([1, -2, 3, 4, 5, 6], [0] * 6, test="wilcoxon")
    assert mixed.statistic == 2 and mixed.p == pytest.approx(2 * 3 / 64)
    ref = st.wilcoxon([1, -2, 3, 4, 5, 6])
    assert (mixed.statistic, mixed.p) == (ref.statistic, ref.pvalue)
    worse = paired([0] * 6, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6], test="wilcoxon")
    assert worse.verdict == "worse" and worse.mean == pytest.approx(-0.35)


def test_paired_verdict_rules():
    assert paired([0.9, 0.91, 0.92], [0.5, 0.52, 0.5]).verdict == "better"
    assert paired([0.5, 0.52, 0.5], [0.9, 0.91, 0.92]).verdict == "worse"
    noisy = paired([0.9, 0.7, 0.8], [0.8, 0.8, 0.75])
    assert noisy.p >= 0.05 and noisy.verdict == "no detectable difference at n = 3 seeds"
    # alpha decides: the same numbers at a stricter alpha
    r = paired([0.9, 0.8, 0.85, 0.95], [0.8, 0.75, 0.8, 0.85], alpha=0.01)
    assert 0.01 <= r.p < 0.05 and r.verdict == "no detectable difference at n = 4 seeds"


@pytest.mark.parametrize("test", ["t", "wilcoxon"])
def test_paired_identical_at_every_seed_is_said_and_the_test_undefined(test):
    r = paired([0.9, 0.8, 0.85], [0.9, 0.8, 0.85], test=test)
    assert r.verdict == "identical at every seed" and r.mean == 0 and (r.low, r.high) == (0, 0)
    assert math.isnan(r.p) and math.isnan(r.statistic) and "undefined" in r.note


def test_paired_too_few_seeds_and_nan_pairs():
    one = paired([0.9], [0.8])
    assert one.verdict == "too few seeds to compare (n = 1)" and one.mean == pytest.approx(0.1)
    assert math.isnan(one.p)
    assert paired([], []).verdict == "too few seeds to compare (n = 0)"
    # a pair with a nan is left out: only seed 0 remains
    r = paired([0.9, math.nan, 0.8], [0.8, 0.7, math.nan])
    assert r.n == 1 and r.verdict == "too few seeds to compare (n = 1)"
    kept = paired([0.9, math.nan, 0.8, 0.7], [0.8, 0.5, 0.6, 0.65])
    assert kept == paired([0.9, 0.8, 0.7], [0.8, 0.6, 0.65])


def test_paired_constant_difference_takes_the_t_limit_without_a_warning():
    r = paired([0.75, 0.75, 0.75], [1.0, 1.0, 1.0])  # scipy would warn (precision loss)
    assert r.statistic == -math.inf and r.p == 0 and r.verdict == "worse"
    assert "limit" in r.note
    w = paired([0.75, 0.75, 0.75], [1.0, 1.0, 1.0], test="wilcoxon")
    assert w.p == pytest.approx(0.25) and w.verdict == "no detectable difference at n = 3 seeds"


@pytest.mark.parametrize("kwargs, match", [
    (dict(a=[1, 2], b=[1, 2, 3]), r"paired: a and b must be paired .* got 2 and 3 values"),
    (dict(a=[1, 2], b=[1, 2], test="z"), r"paired: test: expected one of 't', 'wilcoxon', got 'z'"),
    (dict(a=[1, 2], b=[1, 2], level=95), r"paired: level: expected a number in \(0, 1\)"),
    (dict(a=[1, 2], b=[1, 2], alpha=0), r"paired: alpha: expected a number in \(0, 1\)"),
])
def test_paired_refuses_bad_arguments(kwargs, match):
    with pytest.raises(InputError, match=match):
        paired(**kwargs)


# ------------------------------------------------------------------ compare_models, markdown


def _rows(table, accepted=None):
    """Metrics rows: {model: [accuracy per seed]} at round 0, epoch 1."""
    return [dict(seed=s, model=m, round=0, epoch=1, test_accuracy=acc, accepted=1)
            for m, accs in table.items() for s, acc in enumerate(accs) if acc is not None]


def test_compare_models_uses_final_rows_order_and_shared_seeds():
    rows = _rows({"graph": [0.8, 0.9, 0.85, 0.7], "fixed-graph": [0.75, 0.8, 0.8, None]})
    # a rejected round 1 of graph seed 0 (if-better) is not its final network
    rows.append(dict(seed=0, model="graph", round=1, epoch=1, test_accuracy=0.1, accepted=0))
    out = compare_models(rows, reference="fixed-graph")
    assert [r["model"] for r in out] == ["graph", "fixed-graph"]
    g = out[0]
    assert g["seeds"] == [0, 1, 2, 3] and g["interval"] == interval([0.8, 0.9, 0.85, 0.7])
    # paired over the seeds both have (0, 1, 2), model minus reference
    assert g["paired"] == paired([0.8, 0.9, 0.85], [0.75, 0.8, 0.8])
    assert out[1]["paired"] is None and out[1]["interval"].n == 3


def test_compare_models_refuses_a_reference_not_in_the_metrics():
    with pytest.raises(InputError, match=r"reference: expected one of the run's models "
                                         r"\(graph, mlp\), got 'fixed-graph'"):
        compare_models(_rows({"graph": [0.8], "mlp": [0.7]}), reference="fixed-graph")


def test_statistics_markdown_table_and_the_wilcoxon_note():
    rows = _rows({"graph": [0.8, 0.9, 0.85], "mlp": [0.7, 0.75, 0.7]})
    text = statistics_markdown(compare_models(rows, reference="mlp", test="wilcoxon"),
                               reference="mlp", level=0.95, test="wilcoxon", alpha=0.05)
    lines = text.splitlines()
    assert lines[0] == "## Statistics"
    assert "difference vs mlp (95 % CI, points)" in lines[2]
    iv = interval([0.8, 0.9, 0.85])
    pr = paired([0.8, 0.9, 0.85], [0.7, 0.75, 0.7], test="wilcoxon")
    assert lines[4] == (f"| graph | 3 | 85.00 | 5.00 | [{100 * iv.low:.2f}, {100 * iv.high:.2f}] "
                        f"| 13.33 [{100 * pr.low:.2f}, {100 * pr.high:.2f}] | 0.2500 "
                        f"| no detectable difference at n = 3 seeds |")
    assert lines[5] == "| mlp | 3 | 71.67 | 2.89 | [64.50, 78.84] | reference | - | - |"
    assert "Wilcoxon signed-rank test" in text and "p < 0.05" in text
    assert "with n = 3 <= 5 seeds the two-sided Wilcoxon test cannot reach p < 0.05" in text


def test_statistics_markdown_level_names_the_interval():
    rows = _rows({"graph": [0.8, 0.9, 0.85], "fixed-graph": [0.7, 0.75, 0.7]})
    text = statistics_markdown(compare_models(rows, reference="fixed-graph", level=0.9),
                               reference="fixed-graph", level=0.9, test="t", alpha=0.05)
    assert "| 90 % CI (%) |" in text and "paired t-test" in text and "Wilcoxon" not in text


def test_summary_section_reads_stats_and_falls_back_to_defaults():
    rows = _rows({"graph": [0.8, 0.9, 0.85], "fixed-graph": [0.7, 0.75, 0.7], "mlp": [1, 1, 1]})
    old = summary_section({}, rows)  # a run written before [stats] existed
    assert "difference vs fixed-graph" in old and "paired t-test" in old
    chosen = summary_section({"stats": {"reference": "mlp", "level": 0.9, "test": "wilcoxon",
                                        "alpha": 0.1}}, rows)
    assert "difference vs mlp" in chosen and "| 90 % CI (%) |" in chosen and "p < 0.1" in chosen
    assert summary_section({}, _rows({"graph": [0.8], "mlp": [0.7]})).count("reference `graph`")
    assert summary_section({}, []) == ""


# ------------------------------------------------------------------ the [stats] config section

_XOR = 'rounds = 1\nseeds = [0, 1, 2]\n[data]\ndataset = "xor"\n[train]\nepochs = 2\n'


def test_stats_section_defaults_resolve_and_print():
    cfg = parse_config(_XOR)
    assert cfg["stats"] == {"reference": "fixed-graph", "level": 0.95, "test": "t", "alpha": 0.05}
    no_fixed = parse_config(_XOR + '[baselines]\nmodels = ["mlp"]\n')
    assert no_fixed["stats"]["reference"] == "graph"
    mine = parse_config(_XOR + '[baselines]\nmodels = ["mlp"]\n[stats]\nreference = "mlp"\n'
                        'test = "wilcoxon"\nlevel = 0.9\nalpha = 0.1\n')
    assert mine["stats"] == {"reference": "mlp", "level": 0.9, "test": "wilcoxon", "alpha": 0.1}
    assert parse_config(mine.to_toml()).values == mine.values


def test_print_config_shows_the_stats_section(capsys):
    assert main(["run", "--print-config"]) == 0
    out = capsys.readouterr().out
    assert re.search(r'\[stats\]\nreference = "fixed-graph"\nlevel = 0.95\ntest = "t"\n'
                     r'alpha = 0.05', out)


@pytest.mark.parametrize("stats, match", [
    ('reference = "cnn"', r"x.toml: \[stats\] reference: expected a model of this run "
                          r"\(graph, fixed-graph\), got 'cnn'"),
    ('reference = 3', r"\[stats\] reference: expected a model of this run .* got 3"),
    ('level = 1.5', r"x.toml: \[stats\] level: expected a number in \(0, 1\), got 1.5"),
    ('level = 0', r"\[stats\] level: expected a number in \(0, 1\), got 0"),
    ('test = "z"', r"\[stats\] test: expected one of 't', 'wilcoxon', got 'z'"),
    ('alpha = 1', r"\[stats\] alpha: expected a number in \(0, 1\), got 1"),
    ('alpha = "0.05"', r"\[stats\] alpha: expected a number in \(0, 1\), got '0.05'"),
    ('p = 0.05', r"\[stats\] p: unknown key in \[stats\]; expected one of reference, level"),
])
def test_stats_section_errors_name_the_key(stats, match):
    with pytest.raises(ConfigError, match=match):
        parse_config(_XOR + "[stats]\n" + stats + "\n", source="x.toml")


def test_stats_must_be_a_table():
    with pytest.raises(ConfigError, match=r"\[stats\]: expected a table, got 3"):
        parse_config({"stats": 3, "data": {"dataset": "xor"}}, source="x.toml")


# ------------------------------------------------------------------ a real run's summary.md

_RUN = ('name = "s"\nrounds = 1\nseeds = [0, 1, 2]\n[data]\ndataset = "xor"\n[train]\n'
        'epochs = 20\n[network]\nhidden = [4]\n[baselines]\nmodels = ["fixed-graph", "mlp"]\n'
        '[[mutation.schedule]]\nop = "A"\na = {quantile = 0.5}\n')


def test_a_real_run_summary_shows_the_statistics_checked_against_scipy(tmp_path):
    cfg = parse_config(_RUN)
    run_experiment(cfg, tmp_path / "run", plots=False, progress=False)
    text = (tmp_path / "run" / "summary.md").read_text()
    assert "## Statistics" in text and "reference `fixed-graph`" in text
    section = text[text.index("## Statistics"):]
    metrics = read_metrics(tmp_path / "run")
    final = {}  # (model, seed) -> last-epoch test accuracy of round 1 (accept = "always")
    for r in metrics:
        if r["round"] == 1 and r["epoch"] == max(q["epoch"] for q in metrics if q["round"] == 1):
            final[(r["model"], r["seed"])] = r["test_accuracy"]
    acc = {m: [final[(m, s)] for s in (0, 1, 2)] for m in ("graph", "fixed-graph", "mlp")}
    tested = []
    for model in ("graph", "mlp"):
        d = np.subtract(acc[model], acc["fixed-graph"])
        cells = [c.strip() for c in
                 next(l for l in section.splitlines() if l.startswith(f"| {model} |")).split("|")]
        assert cells[2] == "3" and cells[3] == f"{100 * np.mean(acc[model]):.2f}"
        assert cells[6].startswith(f"{100 * d.mean():.2f}")
        if np.all(d == 0):
            assert cells[7] == "-" and cells[8] == "identical at every seed"
        elif np.std(d) > 0:
            assert cells[7] == f"{st.ttest_rel(acc[model], acc['fixed-graph']).pvalue:.4f}"
            tested.append(model)
        else:  # the same non-zero difference at every seed: the t-test's limit
            assert cells[7] == "< 0.0001" and cells[8] == ("better" if d[0] > 0 else "worse")
    assert "| fixed-graph | 3 |" in section and "| reference |" in section
    assert tested  # this config's seeds give at least one model a real t-test


def test_an_old_run_without_stats_resumes_and_gets_the_section(tmp_path):
    cfg = parse_config(_RUN)
    out = tmp_path / "run"
    run_experiment(cfg, out, plots=False, progress=False, stop_after_round=0)
    config_toml = out / "config.toml"
    text = config_toml.read_text()
    old = re.sub(r"\n\[stats\]\n(?:[^\[\n][^\n]*\n)*", "\n", text)
    assert "[stats]" not in old and "[baselines]" in old
    config_toml.write_text(old)  # as a run written before [stats] existed
    assert cfg.matches(old)
    run_experiment(cfg, out, resume=True, plots=False, progress=False)
    summary = (out / "summary.md").read_text()
    assert "## Statistics" in summary and "difference vs fixed-graph" in summary
    assert {r["round"] for r in read_metrics(out)} == {0, 1}
