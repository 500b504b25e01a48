"""Smoke tests for benchmarks/bench_population.py at toy sizes (no torch, no neat: a second).

They keep the benchmark from rotting when the population API changes, and check what its
figures rest on: the population and the loop train to the same parameters, and the padded
stacked arrays (what the torch reference runs) compute what the networks compute.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from graphnet.graph.execute import compile_plan

from conftest import load_benchmark

bp = load_benchmark("bench_population")


def test_cases_have_the_sizes_the_issue_asks_for():
    xor_nets = bp.xor_graphs(150)
    assert len(xor_nets) == 150
    assert {n.n_inputs for n in xor_nets} == {2} and {n.n_outputs for n in xor_nets} == {1}
    assert {n.n_hidden for n in xor_nets} == set(range(1, 7))
    dig = bp.digits_graphs(2)
    assert [(n.n_inputs, n.n_hidden, n.n_outputs) for n in dig] == [(64, 32, 10)] * 2
    assert all(0.45 < n.n_edges / (64 * 32 + 32 * 10) < 0.55 for n in dig)
    assert dig[0].matrix().tolist() != dig[1].matrix().tolist()


def test_padded_arrays_compute_what_the_networks_compute():
    """The torch reference's recurrence, in numpy: T synchronous updates, inputs held."""
    nets = bp.xor_graphs(6, seed=3)
    a = bp.padded(nets)
    X = np.random.default_rng(0).normal(size=(5, 2))
    P, n = a["b"].shape
    H0 = np.zeros((P, 5, n))
    H0[:, :, :2] = X[None]
    H0 *= a["held"][:, None, :]
    H = H0
    for _ in range(int(a["T"])):
        Z = H @ (a["W"] * a["mask"]) + a["b"][:, None, :]
        H = np.where(a["held"][:, None, :], H0, np.where(a["tanh"][:, None, :], np.tanh(Z), Z))
    for k, net in enumerate(nets):
        np.testing.assert_allclose(H[k][:, a["out"][k]], compile_plan(net)(X), rtol=0,
                                   atol=1e-12)


def _digits_like_case():
    """The digits case's networks on random data of the same width (no data loading)."""
    rng = np.random.default_rng(0)
    return {"name": "digits64", "nets": bp.digits_graphs(2), "X": rng.normal(size=(40, 64)),
            "y": rng.integers(0, 10, 40), "loss": "cross_entropy", "softmax": True,
            "epochs": 1, "batch": 16, "lr": 0.01}


@pytest.mark.parametrize("name", ["xor150", "digits64"])
def test_population_and_loop_train_to_the_same_parameters(name):
    case = bp.make_case(name, quick=True) if name == "xor150" else _digits_like_case()
    pop, _ = bp.train_pop(case)
    models, _ = bp.train_loop(case)
    assert bp._max_param_diff(pop, models) < 1e-12
    for new, ref in zip(bp.split_back(pop), bp.split_back(models)):   # what both time last
        np.testing.assert_allclose(new.matrix(), ref.matrix(), rtol=0, atol=1e-12)
    assert len(bp._batches(len(case["X"]), case["epochs"], case["batch"])) >= 1


def test_main_quick_without_torch_and_neat_writes_json(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(bp, "neat_available", lambda: False)
    out = tmp_path / "r.json"
    assert bp.main(["--quick", "--no-torch", "--cases", "xor150", "--dtype", "float64",
                    "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "loop / population" in text and "peak traced memory" in text
    assert "compile + train + split back" in text and "compile half / all networks" in text
    assert "neat-python not importable: neat column skipped" in text
    res = json.loads(out.read_text())
    case = res["cases"][0]
    assert case["case"] == "xor150" and case["networks"] == 6
    assert case["ms"]["population"] > 0 and case["speedup_train_total"] > 0
    assert case["memory_mb"]["population"] > 0
    assert case["memory_mb"]["compile_all"] > case["memory_mb"]["compile_half"] > 0
    assert case["ms"]["population_split"] > 0 and case["ms"]["loop_split"] > 0
    assert case["speedup_no_split"] > 0
    assert case["max_param_diff_vs_loop"] < 1e-12


def test_neat_genomes_have_the_xor_sizes():
    neat = pytest.importorskip("neat")
    genomes, cfg = bp.neat_genomes(12)
    hidden = sorted({len(g.nodes) - 1 for g in genomes})      # nodes = outputs + hidden
    assert len(genomes) == 12 and hidden == list(range(1, 7))
    net = neat.nn.FeedForwardNetwork.create(genomes[0], cfg)
    assert len(net.activate((0.0, 1.0))) == 1


def test_bad_arguments_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        bp.main(["--cases", "xor7"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        bp.main(["--repeats", "0"])
    assert exc.value.code == 2
