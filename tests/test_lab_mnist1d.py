"""The MNIST-1D paper's models in the lab: logistic, mlp_residual and cnn1d as baselines, the
residual MLP as a graph (``[network] residual``), and experiments/mnist1d.toml."""

import os
import re

import numpy as np
import pytest

from graphnet.errors import ConfigError
from graphnet.graph.execute import graph_model
from graphnet.graph.network import GraphNetwork
from graphnet.lab import rundir as rd
from graphnet.lab.config import load_config, parse_config, with_overrides
from graphnet.lab.runner import MODEL_CODES, run_experiment
from graphnet.lab.start import residual_layered
from graphnet.models import mlp_residual

pytest.importorskip("mnist1d.data")

EXPERIMENTS = os.path.join(os.path.dirname(__file__), os.pardir, "experiments")
PAPER = ("logistic", "mlp_residual", "cnn1d")

TINY = """
rounds = {rounds}
seeds = [0]
[data]
dataset = "mnist1d"
validation = 0.1
max_train = 60
max_test = 30
[data.mnist1d]
num_samples = 200
[network]
sizes = [40, 100, 100, 10]
activation = "relu"
[train]
epochs = 1
batch_size = 20
[baselines]
models = {models}
"""


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    """Each test its own mnist1d cache folder."""
    monkeypatch.setenv("GRAPHNET_CACHE", str(tmp_path / "cache"))


def tiny(models, rounds=0):
    return parse_config(TINY.format(models=list(models), rounds=rounds).replace("'", '"'),
                        source="tiny.toml")


def bad(text, where, message):
    with pytest.raises(ConfigError) as info:
        parse_config(text, source="bad.toml")
    msg = str(info.value)
    assert re.match(rf"bad\.toml: {where}: ", msg), msg
    assert re.search(message, msg), msg


def without_time(rows):
    return [{k: v for k, v in r.items() if k != "time"} for r in rows]


# ----------------------------------------------------------------------------- runs


@pytest.mark.parametrize("model", PAPER)
def test_tiny_mnist1d_run_with_each_paper_baseline_completes(tmp_path, model):
    res = run_experiment(tiny([model], rounds=1), tmp_path / "run", plots=False, progress=False)
    assert res.complete
    rows = [r for r in rd.read_metrics(res.path) if r["model"] == model]
    assert [(r["round"], r["epoch"]) for r in rows] == [(0, 1), (1, 1)]
    assert {r["params"] for r in rows} == {{"logistic": 410, "mlp_residual": 15210,
                                            "cnn1d": 5210}[model]}
    assert all(0 <= r["test_accuracy"] <= 1 for r in rows)
    assert [t["model"] for t in res.table] == ["graph", model]
    summary = open(rd.RunDir(res.path).summary, encoding="utf-8").read()
    published = {"logistic": "31.5 % | 32 %", "mlp_residual": "65.1 % | 68 %",
                 "cnn1d": "92.3 % | 94 %"}[model]
    assert "## Beside the published figures" in summary
    assert re.search(rf"\| {model} \| [\d.]+ ± [\d.]+ % \| {published} \|", summary), summary
    assert re.search(r"\| graph \| [\d.]+ ± [\d.]+ % \| - \| - \|", summary), summary


def test_graph_models_on_mnist1d_are_the_plain_mlp_graph(tmp_path):
    res = run_experiment(tiny(["fixed-graph"]), tmp_path / "run", plots=False, progress=False)
    rows = rd.read_metrics(res.path)
    # 40-100-100-10 without the residual: 4000 + 10000 + 1000 edges, 210 biases
    assert {(r["model"], r["edges"], r["params"]) for r in rows} == {
        ("graph", 15000, 15210), ("fixed-graph", 15000, 15210)}


def test_a_baseline_does_not_depend_on_the_others_listed(tmp_path):
    """Adding a paper baseline to a run leaves the other models' results bit for bit."""
    alone = run_experiment(tiny(["logistic"]), tmp_path / "a", plots=False, progress=False)
    more = run_experiment(tiny(["logistic", "cnn1d", "mlp_residual"]), tmp_path / "b",
                          plots=False, progress=False)
    a, b = rd.read_metrics(alone.path), rd.read_metrics(more.path)
    b = [r for r in b if r["model"] in ("graph", "logistic")]
    assert without_time(a) == without_time(b)


def test_no_published_figures_for_other_data(tmp_path):
    cfg = parse_config('rounds = 0\nseeds = [0]\n[data]\ndataset = "xor"\n[train]\nepochs = 1\n'
                       '[baselines]\nmodels = ["logistic", "mlp_residual"]', source="x.toml")
    res = run_experiment(cfg, tmp_path / "run", plots=False, progress=False)
    assert res.complete and [t["model"] for t in res.table] == ["graph", "logistic",
                                                                 "mlp_residual"]
    summary = open(rd.RunDir(res.path).summary, encoding="utf-8").read()
    assert "published" not in summary


def test_paper_baselines_train_with_their_own_rate(tmp_path):
    """``logistic_lr`` reaches the logistic job (and no other)."""
    runs = []
    for lr in (1e-2, 1e-3):
        text = TINY.format(models='["logistic"]', rounds=0) + f"logistic_lr = {lr}\n"
        res = run_experiment(parse_config(text, source="t.toml"), tmp_path / str(lr),
                             plots=False, progress=False)
        runs.append({r["model"]: r["loss"] for r in rd.read_metrics(res.path)})
    assert runs[0]["graph"] == runs[1]["graph"]
    assert runs[0]["logistic"] != runs[1]["logistic"]


def test_model_codes_are_stable():
    """Codes are appended, never renumbered: existing configs keep their random streams."""
    assert {k: MODEL_CODES[k] for k in ("graph", "fixed-graph", "set", "mlp", "cnn")} == {
        "graph": 0, "fixed-graph": 1, "set": 2, "mlp": 3, "cnn": 4}
    assert len(set(MODEL_CODES.values())) == len(MODEL_CODES)
    assert all(m in MODEL_CODES for m in PAPER)


# ----------------------------------------------------------------------------- config


def test_paper_rates_default_to_the_mnist1d_recipe():
    b = tiny(PAPER)["baselines"]
    for m in PAPER:
        assert (b[f"{m}_lr"], b[f"{m}_weight_decay"]) == (1e-2, 0.0)
    d = parse_config('[baselines]\nmodels = ["logistic"]')["baselines"]  # digits: its recipe
    assert (d["logistic_lr"], d["logistic_weight_decay"]) == (2e-3, 0.0)


def test_logistic_and_mlp_residual_take_any_data_flattened():
    for dataset in ("xor", "digits"):
        cfg = parse_config(f'[data]\ndataset = "{dataset}"\n[baselines]\n'
                           f'models = ["logistic", "mlp_residual"]')
        assert cfg.models == ("graph", "logistic", "mlp_residual")


def test_bad_combinations_name_the_key():
    bad('[data]\ndataset = "digits"\n[baselines]\nmodels = ["cnn1d"]', r"\[baselines\] models",
        r"'cnn1d' needs 1-D signals; 'digits' has samples of shape \(1, 8, 8\)")
    bad('[data]\ndataset = "xor"\n[baselines]\nmodels = ["cnn1d"]', r"\[baselines\] models",
        "'cnn1d' cannot take 'xor': .*too short")
    bad('[data]\ndataset = "mnist1d"\n[baselines]\nmodels = ["cnn"]', r"\[baselines\] models",
        r"'cnn' needs image data; 'mnist1d' has samples of shape \(40,\)")
    bad('[baselines]\nmodels = ["mlp-residual"]', r"\[baselines\] models\[0\]", "mlp_residual")
    bad('[baselines]\ncnn1d_lr = 0', r"\[baselines\] cnn1d_lr", "a positive number")
    bad('[baselines]\nlogistic_weight_decay = -1', r"\[baselines\] logistic_weight_decay",
        "a number >= 0")


def test_the_mnist1d_table_config():
    cfg = load_config(os.path.join(EXPERIMENTS, "mnist1d.toml"))
    assert set(cfg.models) == {"graph", "fixed-graph", *PAPER}
    assert len(cfg.seeds) == 3 and cfg["data"]["dataset"] == "mnist1d"
    assert cfg["network"]["sizes"] == [40, 100, 100, 10] and cfg["network"]["residual"]
    assert cfg["train"]["batch_size"] == 100 and cfg["train"]["optimizer"] == "adam"
    # about the paper's 6000 Adam steps on 4000 samples
    n_train = 4000 * (1 - cfg["data"]["validation"])
    steps = (cfg.rounds + 1) * cfg["train"]["epochs"] * n_train / 100
    assert 5500 <= steps <= 6500


# ----------------------------------------------------------------------------- residual graph


def test_residual_graph_computes_the_papers_mlp():
    """[network] residual: the layered graph with s = relu(W2 h1 + b2) + h1 through fixed
    weight-1 edges into identity sum nodes is models.mlp_residual with the same weights."""
    sizes = [6, 5, 5, 3]
    net = residual_layered(GraphNetwork.layered(sizes, seed=0, activation="relu"), sizes)
    W = net.matrix()
    b = np.random.default_rng(0).normal(size=net.n_nodes)
    b[:6] = 0
    net = net.replace(biases=b)
    x, h1, r, s, y = (np.arange(a, a + m) for a, m in ((0, 6), (6, 5), (11, 5), (16, 5), (21, 3)))
    assert net.n_fixed == 10 and net.fixed_mask()[np.ix_(r, s)].trace() == 5
    np.testing.assert_array_equal(W[np.ix_(r, s)], np.eye(5))
    np.testing.assert_array_equal(W[np.ix_(h1, s)], np.eye(5))
    core = mlp_residual(6, 5, 3, seed=0)
    core.layers[0].params["W"][...], core.layers[0].params["b"][...] = W[np.ix_(x, h1)], b[h1]
    inner = core.layers[1].layer
    inner.params["W"][...], inner.params["b"][...] = W[np.ix_(h1, r)], b[r]
    core.layers[2].params["W"][...], core.layers[2].params["b"][...] = W[np.ix_(s, y)], b[y]
    X = np.random.default_rng(1).normal(size=(7, 6))
    # the sum nodes' biases are the graph's own extra: zero them for the comparison
    b0 = b.copy()
    b0[s] = 0
    got = graph_model(net.replace(biases=b0)).forward(X)
    np.testing.assert_allclose(got, core.forward(X), rtol=1e-12, atol=1e-15)


def test_residual_run_keeps_the_fixed_edges(tmp_path):
    text = TINY.format(models='["fixed-graph"]', rounds=1).replace(
        'activation = "relu"', 'activation = "relu"\nresidual = true')
    text = text.replace("[baselines]", '[[mutation.schedule]]\nop = "A"\na = { quantile = 0.2 }\n'
                                       "[baselines]")
    res = run_experiment(parse_config(text, source="t.toml"), tmp_path / "run", plots=False,
                         progress=False)
    for model in ("graph", "fixed-graph"):
        net = GraphNetwork.from_node_link(rd.RunDir(res.path).snapshot(model, 0, 1))
        F = net.fixed_mask()
        assert net.n_fixed == 200 and (net.matrix()[F] == 1.0).all()
    rows = [r for r in rd.read_metrics(res.path) if r["round"] == 1]
    assert {r["model"]: r["edges"] for r in rows} == {"graph": 12160, "fixed-graph": 15200}


def test_residual_config_errors():
    bad('[data]\ndataset = "xor"\n[network]\nsizes = [2, 4, 3, 2]\nresidual = true',
        r"\[network\] residual", r"as wide as the hidden layer before it, got sizes \[2, 4, 3, 2\]")
    bad('[network]\nstart = "random"\nresidual = true', r"\[network\] residual",
        "applies only to start = 'layered'")
    bad('[network]\nresidual = "yes"', r"\[network\] residual", "true or false")


def test_the_mnist1d_table_config_runs_at_tiny_size(tmp_path):
    cfg = with_overrides(load_config(os.path.join(EXPERIMENTS, "mnist1d.toml")),
                         {"seeds": [0], "train": {"epochs": 1},
                          "data": {"max_train": 100, "max_test": 50}})
    res = run_experiment(cfg, tmp_path / "run", plots=False, progress=False)
    assert res.complete and [t["model"] for t in res.table] == list(cfg.models)


@pytest.mark.slow
def test_the_mnist1d_table_reproduces_the_paper(tmp_path):
    """Full size (about a minute on 2 workers): within about 2 points of the paper's
    final-step figures or better (logistic 31.5, MLP 65.1, CNN 92.3)."""
    cfg = load_config(os.path.join(EXPERIMENTS, "mnist1d.toml"))
    res = run_experiment(cfg, tmp_path / "run", workers=2, plots=False, progress=False)
    acc = {t["model"]: t["accuracy"] for t in res.table}
    assert all(t["n_seeds"] == 3 for t in res.table)
    assert acc["logistic"] >= 0.30 and acc["mlp_residual"] >= 0.64 and acc["cnn1d"] >= 0.91, acc
    assert acc["graph"] >= 0.64 and acc["fixed-graph"] >= 0.64, acc
