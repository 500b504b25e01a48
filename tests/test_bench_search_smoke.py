"""Smoke tests for benchmarks/bench_search_xor.py: its quick path, the NEAT side skipped cleanly.

The quick path runs the real XOR search (experiments/xor_grow.toml) on two seeds, about a
second; neat-python runs only where it is installed (never a graphnet dependency).
"""

from __future__ import annotations

import json

import pytest

from conftest import load_benchmark

bs = load_benchmark("bench_search_xor")


def test_quick_run_prints_the_table_and_writes_json(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(bs, "neat_available", lambda: False)  # neat or not: the same output
    out = tmp_path / "bench.json"
    assert bs.main(["--quick", "--json", str(out)]) == 0
    res = json.loads(out.read_text())
    g = res["graphnet"]
    assert res["seeds"] == [0, 1] and g["seeds"] == 2 and len(g["runs"]) == 2
    assert g["solved"] == 2  # xor_grow solves these seeds: all four points right
    evals = [r["evaluations"] for r in g["runs"]]
    assert g["evaluations_per_solved"][0] == pytest.approx(sum(evals) / 2)
    assert g["evaluations_total"] == sum(evals)
    assert all(r["hidden"] >= 1 and r["connections"] >= 5 for r in g["runs"])  # XOR needs one
    text = capsys.readouterr().out
    assert "graphnet search  2/2" in text
    assert res["neat"] == "neat-python not importable: neat column skipped"
    assert "neat column skipped" in text and "neat-python  " not in text


def test_summary_figures_by_hand():
    runs = [{"solved": True, "evaluations": 60, "wall_s": 0.5, "hidden": 1, "connections": 6},
            {"solved": True, "evaluations": 120, "wall_s": 1.5, "hidden": 2, "connections": 8},
            {"solved": False, "evaluations": 900, "wall_s": 4.0, "hidden": 0, "connections": 4}]
    s = bs._summary(runs, [0, 1, 2])
    assert (s["seeds"], s["solved"], s["evaluations_total"]) == (3, 2, 1080)
    assert s["evaluations_per_solved"] == pytest.approx((90.0, 42.42640687))
    assert s["wall_per_seed_s"] == pytest.approx((2.0, 1.80277564))
    assert s["hidden"] == pytest.approx((1.5, 0.70710678))
    assert s["connections"][0] == 7.0


def test_report_without_a_solved_seed_prints_no_ratio():
    side = bs._summary([{"solved": False, "evaluations": 150, "wall_s": 0.2, "hidden": 0,
                         "connections": 2}], [0])
    res = {"graphnet": {**side, "total_s": 1.0}, "neat": {**side, "total_s": 0.5},
           "ratios": {"evaluations_per_solved": float("nan"), "total_wall": 0.5,
                      "wall_per_seed": 1.0}}
    text = bs.format_report(res)
    assert "neat / graphnet: - evaluations per solved seed, 0.5x total wall time" in text
    assert "0/1" in text


def test_neat_counts_the_genomes_it_evaluates():
    pytest.importorskip("neat")
    res = bs.run_neat([0], generations=1)  # one generation of NEAT's population of 150
    (run,) = res["runs"]
    assert run["evaluations"] == 150 and res["evaluations_total"] == 150
    assert run["hidden"] >= 0 and run["connections"] >= 1
