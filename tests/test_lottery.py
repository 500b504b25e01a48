"""The lottery-ticket features: rewinding, per-layer pruning, the random-prune baseline."""

import math
import re

import numpy as np
import pytest

from graphnet.errors import ConfigError, InputError
from graphnet.graph.extras import layer_groups, prune_per_layer, prune_smallest
from graphnet.graph.network import GraphNetwork
from graphnet.graph.registry import OPERATORS
from graphnet.lab import rundir as rd
from graphnet.lab.config import parse_config
from graphnet.lab.lottery import random_prune, rewind
from graphnet.lab.runner import run_experiment
from graphnet.lab.start import build_start
from graphnet.rng import Purpose, stream

SCHEDULE = [{"op": "prune_per_layer", "every": 1, "start": 1, "p": 1.0, "count": 1,
             "fraction": 0.2}]


def trained_like(net, seed=1):
    """``net`` with every trainable weight and non-input bias moved (as training would)."""
    rng = np.random.default_rng(seed)
    W, b = net.matrix(), net.biases()
    W[W != 0] += rng.normal(0, 0.5, int((W != 0).sum()))
    b[net.depths() > 0] += rng.normal(0, 0.5, int((net.depths() > 0).sum()))
    return net.with_params(W, b)


# ----------------------------------------------------------------------- per-layer pruning


@pytest.mark.parametrize("fraction", [0.0, 0.2, 0.5, 0.74, 1.0])
def test_prune_per_layer_removes_the_fraction_within_each_group(fraction):
    net = trained_like(GraphNetwork.layered([6, 9, 7, 3], seed=0))
    before = layer_groups(net)
    after = layer_groups(prune_per_layer(net, fraction))
    W = net.matrix()
    for key, edges in before.items():
        left = after.get(key, [])
        assert len(left) == len(edges) - math.floor(fraction * len(edges) + 1e-9), key
        gone = [e for e in edges if e not in left]
        if gone and left:  # the smallest abs(w) of the group went
            assert max(abs(W[e]) for e in gone) <= min(abs(W[e]) for e in left)
        assert all(W[e] == prune_per_layer(net, fraction).matrix()[e] for e in left)


def test_prune_per_layer_differs_from_the_global_prune_and_is_registered():
    W = np.zeros((5, 5))
    W[0, 2], W[1, 2], W[0, 3], W[1, 3], W[2, 4], W[3, 4] = 1, -4, 3, 2, 6, -5
    net = GraphNetwork.from_matrix(W, inputs=[0, 1], outputs=[4])
    assert [e[:2] for e in prune_per_layer(net, 0.5).edges()] == [(0, 3), (1, 2), (2, 4)]
    assert [e[:2] for e in prune_smallest(net, 0.5).edges()] == [(1, 2), (2, 4), (3, 4)]
    spec = OPERATORS["prune_per_layer"]
    assert spec.letter is None and spec.func is prune_per_layer
    with pytest.raises(InputError, match=r"prune_per_layer: fraction: expected a number in"):
        prune_per_layer(net, 1.5)
    rec = GraphNetwork.random(3, 4, 2, 0.5, seed=0, mode="recurrent")
    assert prune_per_layer(rec, 0.5) == prune_smallest(rec, 0.5)  # one group


# ----------------------------------------------------------------------- rewinding


def test_rewind_restores_exactly_the_start_values_of_the_surviving_edges():
    start = GraphNetwork.layered([5, 8, 6, 3], seed=3)
    pruned = prune_per_layer(trained_like(start), 0.4)
    back = rewind(pruned, start)
    W0, W = start.matrix(), back.matrix()
    assert back.n_edges == pruned.n_edges and np.array_equal(W != 0, pruned.matrix() != 0)
    assert np.array_equal(W[W != 0], W0[W != 0])  # bit for bit
    assert np.array_equal(back.biases(), start.biases())
    # matched by names, not positions: a permuted reference gives the same result
    p = list(range(5)) + list(range(5, 19))[::-1] + [19, 20, 21]
    moved = start.replace(W=W0[np.ix_(p, p)], biases=start.biases()[p],
                          roles=[start.roles[i] for i in p], names=[start.names[i] for i in p],
                          activations=[start.activations[i] for i in p])
    assert rewind(pruned, moved) == back


def _config(rewind_value="none", models=("fixed-graph", "random-prune"), rounds=3, extra=""):
    rw = rewind_value if rewind_value.startswith("{") else f'"{rewind_value}"'
    return parse_config(
        f'rounds = {rounds}\nseeds = [0]\n[data]\ndataset = "xor"\n'
        f'[network]\nhidden = [8, 6]\n[train]\nepochs = 3\nbatch_size = 16\n'
        f'[mutation]\nrewind = {rw}\n[[mutation.schedule]]\nop = "prune_per_layer"\n'
        f'fraction = 0.2\n[baselines]\nmodels = {list(models)!r}\n{extra}'.replace("'", '"'))


def _metrics(path):
    return [{k: v for k, v in r.items() if k != "time"} for r in rd.read_metrics(path)]


def test_a_run_rewinds_to_the_start_network(tmp_path):
    cfg = _config("init")
    res = run_experiment(cfg, tmp_path / "run", plots=False, progress=False)
    run = rd.RunDir(res.path)
    start = build_start(cfg["network"], 2, 2, seed=stream(0, 0, 0, Purpose.INIT))
    for model in ("graph", "random-prune"):
        ref = GraphNetwork.from_node_link(
            str(tmp_path / "run" / "snapshots" / model / "seed0" / "rewind.json"))
        assert ref == start
    assert not (tmp_path / "run" / "snapshots" / "fixed-graph" / "seed0" / "rewind.json").exists()
    rows = [r for r in rd.read_metrics(res.path) if r["test_accuracy"] is not None]
    # rewinding changes what the pruned models train from, not the dense one
    plain = run_experiment(_config("none"), tmp_path / "plain", plots=False, progress=False)
    rows0 = [r for r in rd.read_metrics(plain.path) if r["test_accuracy"] is not None]
    fixed = [(r["round"], r["loss"]) for r in rows if r["model"] == "fixed-graph"]
    assert fixed == [(r["round"], r["loss"]) for r in rows0 if r["model"] == "fixed-graph"]
    graph = [r["loss"] for r in rows if r["model"] == "graph"]
    assert graph[0] == [r["loss"] for r in rows0 if r["model"] == "graph"][0]
    assert graph[1:] != [r["loss"] for r in rows0 if r["model"] == "graph"][1:]
    assert run.completed_round("graph", 0) == 3


def test_random_prune_removes_the_graph_models_count_per_layer_each_round(tmp_path):
    res = run_experiment(_config("init"), tmp_path / "run", plots=False, progress=False)
    run = rd.RunDir(res.path)
    for r in range(4):
        g = GraphNetwork.from_node_link(run.snapshot("graph", 0, r))
        p = GraphNetwork.from_node_link(run.snapshot("random-prune", 0, r))
        assert {k: len(e) for k, e in layer_groups(g).items()} == \
            {k: len(e) for k, e in layer_groups(p).items()}, r
        if r:
            assert g.n_edges < GraphNetwork.from_node_link(run.snapshot("graph", 0, r - 1)).n_edges
    history = [h for h in rd.read_history(res.path) if h["model"] == "random-prune"]
    assert [h["round"] for h in history] == [1, 2, 3]
    assert all(h["name"] == "random_prune" for h in history)
    assert (g.matrix() != 0).tolist() != (p.matrix() != 0).tolist()  # different masks


def test_random_prune_counts_and_stream():
    net = trained_like(GraphNetwork.layered([4, 6, 5, 2], seed=0))
    mutation = {"schedule": SCHEDULE, "repair": True}
    magnitude = prune_per_layer(net, 0.2)
    a, (rec,) = random_prune(net, mutation, seed=0, round_=1, code=8)
    assert {k: len(e) for k, e in layer_groups(a).items()} == \
        {k: len(e) for k, e in layer_groups(magnitude).items()}
    assert random_prune(net, mutation, seed=0, round_=1, code=8)[0] == a
    assert random_prune(net, mutation, seed=1, round_=1, code=8)[0] != a
    b, (rec_b,) = random_prune(net, mutation, seed=0, round_=1, code=8, groups="global")
    assert b.n_edges == a.n_edges and rec_b["args"]["groups"] == "global"
    assert rec["edges_before"] - rec["edges_after"] == sum(rec["args"]["removed"].values())
    with pytest.raises(InputError, match="groups: expected one of"):
        random_prune(net, mutation, seed=0, round_=1, code=8, groups="layer")


# ----------------------------------------------------------------------- defaults, resume


def test_defaults_leave_a_run_unchanged(tmp_path):
    base = parse_config('rounds = 2\nseeds = [0]\n[data]\ndataset = "xor"\n[train]\nepochs = 2\n'
                        '[[mutation.schedule]]\nop = "A"\na = {quantile = 0.2}\n')
    explicit = parse_config('rounds = 2\nseeds = [0]\n[data]\ndataset = "xor"\n[train]\n'
                            'epochs = 2\n[mutation]\nrewind = "none"\n[[mutation.schedule]]\n'
                            'op = "A"\na = {quantile = 0.2}\n[baselines]\n'
                            'models = ["fixed-graph", "random-prune"]\n')
    a = run_experiment(base, tmp_path / "a", plots=False, progress=False)
    b = run_experiment(explicit, tmp_path / "b", plots=False, progress=False)
    rows_b = [r for r in _metrics(b.path) if r["model"] != "random-prune"]
    assert _metrics(a.path) == rows_b  # adding random-prune changes nothing for the others
    assert base["mutation"]["rewind"] == "none"


@pytest.mark.parametrize("rewind_value", ["init", "{epoch = 2}"])
def test_resume_of_a_rewinding_run_gives_identical_metrics(tmp_path, rewind_value):
    cfg = _config(rewind_value)
    whole = run_experiment(cfg, tmp_path / "whole", plots=False, progress=False)
    part = run_experiment(cfg, tmp_path / "part", plots=False, progress=False,
                          stop_after_round=1)
    assert not part.complete
    resumed = run_experiment(cfg, tmp_path / "part", plots=False, progress=False, resume=True)
    assert resumed.complete and _metrics(resumed.path) == _metrics(whole.path)


def test_epoch_rewinding_keeps_the_weights_after_that_epoch(tmp_path):
    res = run_experiment(_config("{epoch = 2}", models=("fixed-graph",)), tmp_path / "run",
                         plots=False, progress=False)
    ref = GraphNetwork.from_node_link(
        str(tmp_path / "run" / "snapshots" / "graph" / "seed0" / "rewind.json"))
    start = build_start(_config()["network"], 2, 2, seed=stream(0, 0, 0, Purpose.INIT))
    end0 = GraphNetwork.from_node_link(rd.RunDir(res.path).snapshot("graph", 0, 0))
    assert ref.n_edges == start.n_edges and ref != start and ref != end0  # epoch 2 of 3


def test_rewind_config_errors():
    with pytest.raises(ConfigError, match=re.escape("[mutation] rewind: expected 'none', 'init'")):
        parse_config('[mutation]\nrewind = "start"')
    with pytest.raises(ConfigError, match=r"rewind\.epoch: expected at most \[train\] epochs = 5"):
        parse_config('[mutation]\nrewind = {epoch = 6}')
    with pytest.raises(ConfigError, match=r"rewind\.epoch"):
        parse_config('[mutation]\nrewind = {epoch = 0}')
    with pytest.raises(ConfigError, match=r"\[baselines\] random_prune"):
        parse_config('[baselines]\nrandom_prune = "layer"')
    assert parse_config('[mutation]\nrewind = {epoch = 2}')["mutation"]["rewind"] == {"epoch": 2}


def test_the_lottery_config_prunes_to_about_eleven_percent_per_layer():
    import os

    from graphnet.lab.config import load_config

    path = os.path.join(os.path.dirname(__file__), "..", "experiments", "mnist1d_lottery.toml")
    cfg = load_config(path)
    assert cfg["network"]["sizes"] == [40, 500, 500, 10] and cfg["train"]["lr"] == 0.02
    assert cfg["mutation"]["rewind"] == "init" and cfg.rounds == 10 and len(cfg.seeds) == 3
    assert cfg.models == ("graph", "fixed-graph", "random-prune")
    left = []
    for n in (40 * 500, 500 * 500, 500 * 10):
        for _ in range(cfg.rounds):
            n -= math.floor(0.2 * n + 1e-9)
        left.append(n)
    assert 0.10 < sum(left) / 275_000 < 0.11


def test_a_lottery_run_draws_the_lottery_curve(tmp_path):
    pytest.importorskip("matplotlib")
    from graphnet.lab.plots import plot_run
    from graphnet.lab.summary import lottery_points

    res = run_experiment(_config("init", rounds=2), tmp_path / "run", plots=False, progress=False)
    names = {p.name for p in plot_run(res.path, gif=False)}
    assert "lottery.png" in names
    points = lottery_points(rd.read_metrics(res.path))
    assert points["graph"]["fraction"][0] == 1 and points["graph"]["fraction"][-1] < 1
    assert points["random-prune"]["fraction"].tolist() == points["graph"]["fraction"].tolist()
    assert set(points["fixed-graph"]["fraction"].tolist()) == {1.0}


def test_per_layer_pruning_and_random_prune_leave_fixed_edges_alone():
    W = np.zeros((6, 6))
    W[0, 2], W[1, 2], W[0, 3], W[1, 3] = 0.5, -0.3, 0.2, 0.9
    W[2, 4], W[3, 4], W[2, 5], W[3, 5] = 0.01, 1.0, 0.02, 1.0
    fixed = np.zeros((6, 6), dtype=bool)
    fixed[2, 4] = fixed[2, 5] = True  # the smallest |w| of their layer: fixed, they stay
    net = GraphNetwork.from_matrix(W, inputs=[0, 1], outputs=[4, 5], fixed=fixed)
    assert layer_groups(net, trainable=True)[(1, 2)] == [(3, 4), (3, 5)]
    pruned = prune_per_layer(net, 0.5)
    assert pruned.fixed_mask()[2, 4] and pruned.fixed_mask()[2, 5]
    assert [e[:2] for e in pruned.edges()] == [(0, 2), (1, 3), (2, 4), (2, 5), (3, 5)]
    sched = [{**SCHEDULE[0], "fraction": 0.5}]
    for seed in range(5):
        rand, _ = random_prune(net, {"schedule": sched, "repair": True}, seed=seed, round_=1,
                               code=8)
        assert rand.fixed_mask()[2, 4] and rand.fixed_mask()[2, 5] and rand.n_edges == 5


def test_a_residual_graph_keeps_its_skip_through_the_lottery_rounds(tmp_path):
    cfg = _config("init", extra="", rounds=2)
    text = cfg.text.replace("hidden = [8, 6]", "sizes = [2, 8, 8, 2]\nresidual = true")
    res = run_experiment(parse_config(text), tmp_path / "run", plots=False, progress=False)
    run = rd.RunDir(res.path)
    for model in ("graph", "random-prune"):
        first = GraphNetwork.from_node_link(run.snapshot(model, 0, 0))
        last = GraphNetwork.from_node_link(run.snapshot(model, 0, 2))
        assert first.n_fixed == last.n_fixed == 16 and last.n_edges < first.n_edges
