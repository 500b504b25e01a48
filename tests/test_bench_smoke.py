"""Smoke tests for benchmarks/bench_core.py: its functions run at a toy size (no torch).

They keep the benchmark from rotting when the core changes, and they check the one thing
the benchmark's figures rest on: the naive loop reference computes what graphnet computes.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import load_benchmark

bc = load_benchmark("bench_core")


def _toy(edge="pad", method="max", act="relu", h=7):
    # odd map size: the pad edge rule matters; two param layers of each kind
    return {
        "input_shape": (2, h, h), "n_classes": 3, "batch": 5, "naive_batch": 5,
        "layers": [
            bc.conv(2, 3, 3, padding=1, act=act),   # (3, h, h)
            bc.pool(2, method, edge),               # (3, h', h')
            bc.conv(3, 2, 2, act="tanh"),           # (2, h'-1, h'-1)
            bc.flatten(),
            bc.dense(2 * ((h + 1) // 2 - 1) ** 2 if edge == "pad" else 2 * (h // 2 - 1) ** 2,
                     4, "sigmoid"),
            bc.dense(4, 3),
            bc.softmax(),
        ],
    }


@pytest.mark.parametrize("edge", ["pad", "ignore"])
@pytest.mark.parametrize("method", ["max", "mean"])
def test_naive_reference_matches_graphnet_forward_and_backward(edge, method):
    arch = _toy(edge, method)
    model = bc.build_graphnet(arch, seed=3, dtype=np.float64)
    x, t = bc.make_batch(arch, 5, seed=1, dtype=np.float64)
    loss = model.loss_and_backward(x, t, "cross_entropy")
    grads = [(layer.grads["W"], layer.grads["b"]) for layer in model.layers if layer.params]
    n_loss, n_grads = bc.NaiveNet(arch, bc.graphnet_weights(model)).loss_and_grads(x, t)
    assert n_loss == pytest.approx(loss, rel=1e-12)                       # forward
    for (gW, gb), (nW, nb) in zip(grads, n_grads):                        # backward
        np.testing.assert_allclose(nW, gW, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(nb, gb, rtol=1e-9, atol=1e-12)


def test_naive_step_is_plain_sgd_and_lowers_the_loss():
    arch = _toy()
    x, t = bc.make_batch(arch, 5, seed=2, dtype=np.float64)
    w0 = bc.graphnet_weights(bc.build_graphnet(arch, dtype=np.float64))
    net = bc.NaiveNet(arch, w0)
    _, grads = net.loss_and_grads(x, t)
    first = net.step(x, t, lr=0.1)
    np.testing.assert_allclose(net.weights[0][0], w0[0][0] - 0.1 * grads[0][0])
    assert net.step(x, t, lr=0.1) < first
    assert w0[0][0] is not net.weights[0][0]   # the caller's weights were copied


def test_layer_shapes_of_the_benchmarked_networks_and_a_bad_spec():
    assert bc.layer_shapes(bc.ARCHITECTURES["lenet5"])[:5] == [
        (6, 28, 28), (6, 14, 14), (16, 10, 10), (16, 5, 5), (400,)]
    bad = dict(bc.ARCHITECTURES["digits_cnn"])
    bad["layers"] = [bc.conv(1, 4, 3), bc.flatten(), bc.dense(99, 10), bc.softmax()]
    with pytest.raises(ValueError, match=r"layer 2 \(dense\): expects \(99,\), gets \(144,\)"):
        bc.layer_shapes(bad)


def test_torch_layout_flips_kernels_and_transposes_dense():
    arch = _toy()
    w = bc.graphnet_weights(bc.build_graphnet(arch))
    tl = bc._to_torch_layout(arch, w)
    np.testing.assert_array_equal(tl[0][0][:, :, 0, 0], w[0][0][:, :, -1, -1])
    np.testing.assert_array_equal(tl[2][0], w[2][0].T)
    back = bc._from_torch_layout(arch, tl)
    for (a, b), (c, d) in zip(back, w):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)


def test_time_steps_counts_calls_and_rejects_bad_counts():
    calls = []
    r = bc.time_steps(lambda: calls.append(1), warmup=2, repeats=4)
    assert len(calls) == 6 and len(r["ms_all"]) == 4
    assert r["ms_min"] <= r["ms_median"]
    with pytest.raises(ValueError, match="repeats >= 1"):
        bc.time_steps(lambda: None, repeats=0)


def test_bench_model_toy_size_graphnet_and_naive(monkeypatch):
    monkeypatch.setattr(bc, "torch_available", lambda: False)
    arch = _toy()
    lines = []
    out = bc.bench_model("toy", arch, impls=("graphnet", "naive", "torch"), warmup=0, repeats=1,
                         naive_warmup=0, naive_repeats=1, naive_batch=2, log=lines.append)
    impls = [r["impl"] for r in out["results"]]
    assert impls == ["graphnet", "naive"]
    naive = out["results"][1]
    assert naive["timed_batch"] == 2 and naive["scale"] == pytest.approx(2.5)
    assert out["results"][0]["ratio_vs_graphnet"] == 1.0
    assert out["checks"]["naive_grad_diff"] < 1e-5                       # float32
    assert "torch is not installed" in out["skipped"]["torch"]
    assert any("naive vs graphnet" in line for line in lines)
    table = bc.format_table([out])
    assert "timed at batch 2, scaled x2.5" in table


def test_main_quick_without_torch_writes_json(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(bc.ARCHITECTURES, "digits_cnn",
                        {**bc.ARCHITECTURES["digits_cnn"], "batch": 4})
    path = tmp_path / "r.json"
    assert bc.main(["--quick", "--no-torch", "--models", "digits_cnn", "--repeats", "1",
                    "--json", str(path)]) == 0
    data = json.loads(path.read_text())
    results = data["models"]["digits_cnn"]["results"]
    assert [r["impl"] for r in results] == ["graphnet", "naive"]
    assert all(r["ms_median"] > 0 for r in results)
    assert "digits_cnn" in capsys.readouterr().out


def test_main_rejects_an_unknown_model():
    with pytest.raises(SystemExit):
        bc.main(["--models", "alexnet"])


def test_time_steps_retimes_a_disturbed_loop_only_when_waiting_for_idle(monkeypatch):
    loads = iter([1.2, 0.9, 0.05, 0.0])
    monkeypatch.setattr(bc, "_wait_idle", lambda max_wait: (0.5, 0.0))
    monkeypatch.setattr(bc, "_timed_loop", lambda step, w, r, th: {"bg_load": next(loads),
                                                                     "ms_median": 1.0})
    r = bc.time_steps(lambda: None, repeats=1, wait_idle=10)
    assert (r["bg_load"], r["attempts"], r["idle_wait_s"]) == (0.05, 3, 1.5)
    r = bc.time_steps(lambda: None, repeats=1)                 # no waiting: one loop, kept
    assert (r["bg_load"], r["attempts"]) == (0.0, 1)
