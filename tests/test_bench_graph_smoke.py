"""Smoke tests for benchmarks/bench_graph.py at toy sizes (no torch, a second or two).

They keep the benchmark from rotting when execution changes, and check what its figures
rest on: the per-node loop, the per-sample evaluator and the exported level program (what
the torch worker runs) compute what the plan computes.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from graphnet.graph.execute import GraphLayer
from graphnet.graph.network import GraphNetwork

from conftest import load_benchmark

bg = load_benchmark("bench_graph")


def _nets():
    thin, _ = bg.thinned_mlp((5, 7, 3), 0.4, seed=1)
    mixed = GraphNetwork.random(3, 6, 2, 0.5, seed=2, activation=["relu", "sigmoid"] * 5 + ["tanh"])
    return [bg.deep_dag(60, seed=3, n_inputs=4, n_outputs=3), thin, mixed]


@pytest.mark.parametrize("k", range(3))
def test_node_loop_and_per_sample_match_the_plan(k):
    net = _nets()[k]
    layer = GraphLayer(net)
    w, b = layer.params["w"], layer.params["b"]
    rng = np.random.default_rng(k)
    x = rng.normal(size=(5, net.n_inputs))
    delta = rng.normal(size=(5, net.n_outputs))
    y = layer.output(x)
    dx = layer.backpropagate(delta)
    loop = bg.NodeLoop(net, w, b)
    np.testing.assert_allclose(loop.forward(x), y, rtol=0, atol=1e-12)          # forward
    ldx, lgw, lgb = loop.backward(delta)                                         # backward
    np.testing.assert_allclose(ldx, dx, rtol=0, atol=1e-12)
    np.testing.assert_allclose(lgw, layer.grads["w"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(lgb, layer.grads["b"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(bg.PerSample(net, w, b).forward(x), y, rtol=0, atol=1e-12)


@pytest.mark.parametrize("strategy", ["auto", "edge", "gather", "range", "csr"])
def test_exported_level_program_computes_the_plan(strategy):
    for net in _nets():
        layer = GraphLayer(net, strategy=strategy)
        w, b = layer.params["w"], layer.params["b"]
        spec = bg.export_plan(layer.plan, w, b)
        assert [lv["kind"] for lv in spec["levels"]] == [
            "range" if k in ("range", "csr") else "gather" for k in layer.plan.kinds]
        x = np.random.default_rng(0).normal(size=(4, net.n_inputs))
        np.testing.assert_allclose(bg.run_export_numpy(spec, x, w, b), layer.output(x),
                                   rtol=0, atol=1e-12)
        # every parameter sits in exactly one block entry
        params = np.concatenate([lv["param"] for lv in spec["levels"]])
        assert sorted(params.tolist()) == list(range(spec["n_params"]))


def test_deep_dag_is_deep_and_the_thinned_mlp_keeps_its_share():
    net = bg.deep_dag(400, seed=0)
    assert 0.15 * 400 <= len(net.levels()) <= 0.4 * 400
    assert max(len(lv) for lv in net.levels()) <= 20
    thin, full = bg.thinned_mlp((64, 128, 10), 0.3, seed=0)
    assert thin.n_edges == round(0.3 * full.n_edges)
    assert set(thin.edges()) <= set(full.edges())


def test_bench_case_toy_size_without_torch(monkeypatch):
    monkeypatch.setattr(bg, "torch_available", lambda: False)
    case = bg.make_case("toy", {"kind": "mlp", "sizes": (6, 8, 3), "keep": 0.5}, batch=8,
                        dtype=np.float64)
    lines = []
    out = bg.bench_case(case, impls=bg._IMPLS, warmup=0, repeats=1, per_sample_n=2,
                        log=lines.append)
    impls = [r["impl"] for r in out["results"]]
    assert impls == ["plan", "dense_mlp", "node_loop", "per_sample"]
    ps = out["results"][-1]
    assert ps["timed_batch"] == 2 and ps["scale"] == 4.0 and ps["fwd_bwd"] is None
    assert out["results"][0]["ratio_forward"] == 1.0
    assert max(out["checks"].values()) < 1e-12
    assert "torch is not installed" in out["skipped"]["torch"]
    table = bg.format_table([out])
    assert "timed on 2 samples, scaled x4" in table and "forward only" in table
    aims = bg.check_aims([out])
    assert [a for a, _, _ in aims] == ["toy: plan / dense MLP, forward <= 1.2",
                                      "toy: plan / dense MLP, fwd+bwd <= 1.2"]


def test_main_quick_without_torch_writes_json(tmp_path, capsys):
    path = tmp_path / "r.json"
    assert bg.main(["--quick", "--no-torch", "--cases", "dag100", "--repeats", "1",
                    "--warmup", "0", "--batch", "16", "--json", str(path)]) == 0
    data = json.loads(path.read_text())
    case = data["cases"][0]
    assert case["case"] == "dag100" and case["nodes"] == 100
    assert [r["impl"] for r in case["results"]] == ["plan", "node_loop", "per_sample"]
    assert all(r["forward"]["ms_min"] > 0 for r in case["results"])
    assert any("per-sample / plan" in a["aim"] for a in data["aims"])
    assert "dag100" in capsys.readouterr().out


def test_time_calls_and_bad_arguments():
    calls = []
    r = bg.time_calls(lambda: calls.append(1), warmup=0, repeats=3)
    assert len(calls) == 3 and r["repeats"] == 3 and r["ms_min"] <= r["ms_median"]
    calls.clear()
    bg.time_calls(lambda: calls.append(1), warmup=2, repeats=3)   # warm-up lasts >= 0.2 s
    assert len(calls) > 5
    with pytest.raises(ValueError, match="repeats >= 1"):
        bg.time_calls(lambda: None, repeats=0)
    with pytest.raises(SystemExit):
        bg.main(["--cases", "dag7"])


# ------------------------------------------------------------------ the dense-ish DAG (issue 12)


def test_dense_dag_follows_the_issue_and_the_naive_level_plan_matches_the_plan():
    net = bg.naive_levels.dense_dag(200, seed=0)
    W = net.matrix()
    assert net.n_inputs == 64 and net.n_outputs == 10 and net.n_nodes == 264
    assert list(net.outputs) == list(range(254, 264))
    fan_in = (W[:, 64:] != 0).sum(axis=0)
    assert fan_in.min() >= 1
    share = fan_in / np.arange(64, 264)                        # p_j ~ U(0.10, 0.20)
    assert 0.13 < share.mean() < 0.17 and share.max() < 0.3
    assert set(net.activations[64:]) == {"tanh"}
    layer = GraphLayer(net)
    w, b = layer.params["w"], layer.params["b"]
    rng = np.random.default_rng(0)
    x, delta = rng.normal(size=(5, 64)), rng.normal(size=(5, 10))
    naive = bg.naive_levels.NaiveLevels(net, w, b)
    np.testing.assert_allclose(naive.forward(x), layer.output(x), rtol=0, atol=1e-12)
    for got, want in zip(naive.backward(delta), (layer.backpropagate(delta),
                                                 layer.grads["w"], layer.grads["b"])):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


def test_dense_case_toy_size_reports_naive_levels_memory_and_aims(monkeypatch):
    monkeypatch.setattr(bg, "torch_available", lambda: False)
    case = bg.make_case("dense_toy", {"kind": "dense", "n": 60}, batch=8, dtype=np.float64)
    lines = []
    out = bg.bench_case(case, impls=bg._IMPLS, warmup=0, repeats=1, rounds=1,
                        log=lines.append)
    assert [r["impl"] for r in out["results"]] == ["plan", "naive_levels"]
    assert out["checks"]["naive_levels"] < 1e-12
    assert set(out["skipped"]) == {"node_loop", "per_sample", "torch"}
    mem = out["memory"]
    assert mem["compile_mb"] > 0 and mem["run_mb"] > 0 and mem["edges"] == case["net"].n_edges
    assert any("peak memory" in line for line in lines)
    aims = [a for a, _, _ in bg.check_aims([out])]
    assert aims == ["dense_toy: plan / naive level plan, forward <= 0.6",
                    "dense_toy: plan / naive level plan, fwd+bwd <= 0.6"]
    assert "csr" in out["kinds"]


def test_calibrate_writes_the_cost_constants(tmp_path, capsys):
    path = tmp_path / "cost.json"
    assert bg.main(["--calibrate", str(path), "--quick"]) == 0
    data = json.loads(path.read_text())
    from graphnet.graph._cost import DEFAULTS
    assert sorted(data["constants"]) == sorted(DEFAULTS)
    assert all(v > 0 for v in data["constants"].values())
    assert "GRAPHNET_COST_FILE" in capsys.readouterr().out


@pytest.mark.slow                      # a torch process: a few seconds
def test_torch_runs_the_naive_level_plan_of_a_dense_case():
    pytest.importorskip("torch")
    case = bg.make_case("dense_toy", {"kind": "dense", "n": 30}, batch=4, dtype=np.float64)
    layer = GraphLayer(case["net"])
    w, b = layer.params["w"], layer.params["b"]
    x, delta = case["x"], case["delta"]
    naive = bg.naive_levels.NaiveLevels(case["net"], w, b)
    res, why = bg.run_torch_naive(naive, w, b, x, delta, warmup=0, repeats=1, threads=1)
    assert why == "" and res["fwd_bwd"]["ms_min"] > 0
    y = layer.output(x)
    dx = layer.backpropagate(delta)
    for got, want in ((res["y"], y), (res["dx"], dx), (res["gw"], layer.grads["w"]),
                      (res["gb"], layer.grads["b"])):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
