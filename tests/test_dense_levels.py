"""The csr level form (issue 12): exactness against the plain reference and the other forms.

Forward and backward are labelled apart; every comparison is float64 to 1e-12 against
:mod:`graphnet.graph.reference` or against the ``range`` form, on seeded random networks,
dense-ish (many sources per node) and sparse, feedforward and recurrent, with mixed
activations. Also: the cost model's choice, float32, fixed edges, training steps, and the
measured cost constants.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from graphnet.core.optim import Adam
from graphnet.errors import InputError
from graphnet.graph.execute import GraphLayer, compile_plan, graph_model
from graphnet.graph.network import GraphNetwork
from graphnet.graph.reference import reference_backward, reference_forward
from graphnet.train import fit

from conftest import load_benchmark

naive_levels = load_benchmark("naive_levels")

ACTS = ["tanh", "sigmoid", "relu", "identity"]


def dense_ish(n, seed, *, n_in=6, n_out=3, p=(0.10, 0.20), mixed=True):
    """n computed nodes after n_in inputs; node j reads each earlier node with prob p_j."""
    acts = list(np.random.default_rng(seed).choice(ACTS, n_in + n)) if mixed else "tanh"
    return naive_levels.dense_dag(n, seed=seed, n_inputs=n_in, n_outputs=n_out, p=p,
                                  activation=acts)


def nets():
    """Seeded networks: dense-ish and sparse DAGs, layered, recurrent with self-loops."""
    out = [dense_ish(40, 0), dense_ish(25, 1, p=(0.4, 0.9)), dense_ish(60, 2, p=(0.02, 0.05)),
           dense_ish(30, 3, mixed=False)]
    for seed in range(4):
        out.append(GraphNetwork.random(3, 8, 2, 0.3 + 0.15 * seed, seed=seed,
                                       activation=list(np.random.default_rng(seed).choice(
                                           ACTS, 13)), output_activation="sigmoid"))
        out.append(GraphNetwork.random(2, 5, 2, 0.4, seed=seed, mode="recurrent"))
    out.append(GraphNetwork.layered([4, 6, 3], seed=0))
    out.append(GraphNetwork.seed_example())
    return out


@pytest.mark.parametrize("k", range(len(nets())))
def test_csr_forward_matches_the_reference(k):
    net = nets()[k]
    X = np.random.default_rng(k).normal(size=(7, net.n_inputs))
    plan = compile_plan(net, steps=3, strategy="csr")
    assert set(plan.kinds) == {"csr"}
    np.testing.assert_allclose(plan(X), reference_forward(net, X, steps=3), rtol=0,
                               atol=1e-12)


@pytest.mark.parametrize("k", range(len(nets())))
def test_csr_backward_matches_the_reference(k):
    net = nets()[k]
    rng = np.random.default_rng(100 + k)
    X, delta = rng.normal(size=(7, net.n_inputs)), rng.normal(size=(7, net.n_outputs))
    plan = compile_plan(net, steps=3, strategy="csr")
    _, cache = plan.forward(X)
    got = plan.backward(cache, delta)
    for g, want, name in zip(got, reference_backward(net, X, delta, steps=3),
                             ("dx", "gw", "gb")):
        np.testing.assert_allclose(g, want, rtol=0, atol=1e-12, err_msg=name)
    # twice through one cache: the gradient buffers are rewritten, not accumulated
    again = plan.backward(cache, delta)
    for g, h in zip(got, again):
        np.testing.assert_array_equal(g, h)


def test_csr_mixed_with_the_other_forms_per_level():
    for seed in range(6):
        net = dense_ish(30, seed, p=(0.05, 0.5))
        rng = np.random.default_rng(seed)
        forms = list(rng.choice(["range", "gather", "edge", "csr"], len(net.levels())))
        X, delta = rng.normal(size=(5, net.n_inputs)), rng.normal(size=(5, net.n_outputs))
        plan = compile_plan(net, strategy=forms)
        assert list(plan.kinds) == ["range" if f == "gather" and k != "gather" else f
                                    for f, k in zip(forms, plan.kinds)]
        y, cache = plan.forward(X)
        np.testing.assert_allclose(y, reference_forward(net, X), rtol=0, atol=1e-12)
        for g, want in zip(plan.backward(cache, delta), reference_backward(net, X, delta)):
            np.testing.assert_allclose(g, want, rtol=0, atol=1e-12, err_msg=str(forms))


def test_auto_takes_csr_on_dense_ish_levels_and_blocks_on_a_layered_mlp():
    net = dense_ish(300, 0, n_in=64, n_out=10, mixed=False)
    plan = compile_plan(net)
    assert plan.kinds.count("csr") >= 0.9 * len(plan.kinds), plan.summary()
    assert plan.n_terms == net.n_edges + net.n_nodes - net.n_inputs   # edges + biases
    assert set(compile_plan(GraphNetwork.layered([64, 128, 10], seed=0)).kinds) == {"range"}
    with pytest.raises(InputError, match="strategy must be one of"):
        compile_plan(net, strategy="sparse")


@pytest.mark.parametrize("opt", ["sgd", "adam"])
def test_training_steps_give_the_weights_of_the_range_form(opt):
    net = dense_ish(30, 7, n_in=4, n_out=2)
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(16, 4)), rng.integers(0, 2, 16)
    trained = []
    for strategy in ("range", "csr", "edge"):
        model = graph_model(net, strategy=strategy)
        kw = {"optimizer": Adam(0.01)} if opt == "adam" else {"optimizer": "sgd", "lr": 0.1}
        fit(model, X, y, epochs=3, batch_size=4, seed=0, **kw)
        trained.append(model.layers[0].to_network())
    for other in trained[1:]:
        np.testing.assert_allclose(other.matrix(), trained[0].matrix(), rtol=0, atol=1e-12)
        np.testing.assert_allclose(other.biases(), trained[0].biases(), rtol=0, atol=1e-12)
    assert not np.allclose(trained[0].matrix(), net.matrix())          # it did train


def test_float32_csr_plan():
    net = dense_ish(50, 4, n_in=8, n_out=4)
    rng = np.random.default_rng(4)
    X, delta = rng.normal(size=(9, 8)), rng.normal(size=(9, 4))
    want = reference_backward(net, X, delta)
    layer = GraphLayer(net, dtype=np.float32, strategy="csr")
    y = layer.output(X.astype(np.float32))
    dx = layer.backpropagate(delta.astype(np.float32))
    assert y.dtype == dx.dtype == layer.grads["w"].dtype == np.float32
    np.testing.assert_allclose(y, reference_forward(net, X), rtol=0, atol=1e-5)
    for got, w in zip((dx, layer.grads["w"], layer.grads["b"]), want):
        np.testing.assert_allclose(got, w, rtol=1e-4, atol=1e-4)


def test_fixed_edges_keep_gradient_zero_and_never_move():
    net = dense_ish(20, 5, n_in=4, n_out=2)
    fixed = np.zeros((net.n_nodes, net.n_nodes), dtype=bool)
    src, dst = np.nonzero(net.matrix())
    fixed[src[::3], dst[::3]] = True
    net = net.replace(fixed=fixed)
    plan = compile_plan(net, strategy="csr")
    rng = np.random.default_rng(5)
    X, delta = rng.normal(size=(6, 4)), rng.normal(size=(6, 2))
    _, cache = plan.forward(X)
    _, gw, _ = plan.backward(cache, delta)
    assert np.all(gw[~plan.trainable] == 0) and np.any(gw[plan.trainable] != 0)
    np.testing.assert_allclose(gw, reference_backward(net, X, delta)[1], rtol=0, atol=1e-12)
    model = graph_model(net, strategy="csr")
    fit(model, X, rng.integers(0, 2, 6), lr=0.5, epochs=3, batch_size=3, seed=0)
    after = model.layers[0].to_network().matrix()
    np.testing.assert_array_equal(after[fixed], net.matrix()[fixed])


def test_cost_file_overrides_the_shipped_constants(tmp_path):
    path = tmp_path / "cost.json"
    path.write_text(json.dumps({"constants": {"csr": 50.0, "mm": "bad", "nope": 1}}))
    code = ("import json; from graphnet.graph import _cost; "
            "print(json.dumps(_cost.constants()))")
    env = dict(os.environ, GRAPHNET_COST_FILE=str(path))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True).stdout
    got = json.loads(out)
    from graphnet.graph._cost import DEFAULTS
    assert got["csr"] == 50.0 and got["mm"] == DEFAULTS["mm"] and "nope" not in got
    # with csr that dear, a dense-ish network compiles without it
    code = ("from graphnet.graph.execute import compile_plan; "
            "from graphnet.graph.network import GraphNetwork; "
            "print(sorted(set(compile_plan(GraphNetwork.random(8, 40, 4, 0.3, seed=0)).kinds)))")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True).stdout
    assert "csr" not in out
