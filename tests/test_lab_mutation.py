"""The mutation schedule: when entries fire, how arguments resolve, refusals, the start networks."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from graphnet.graph.network import GraphNetwork
from graphnet.graph.operators import threshold
from graphnet.lab.config import parse_config
from graphnet.lab.schedule import apply_entry, entry_args, mutate
from graphnet.lab.start import build_start, load_data
from graphnet.rng import stream


def entry(op, **kw):
    base = {"op": op, "every": 1, "start": 1, "p": 1.0, "count": 1}
    base.update(kw)
    return base


NET = GraphNetwork.layered([3, 5, 2], seed=0)


def test_due_rounds_probability_and_count():
    sched = [entry("threshold", a=0.0, every=3, start=2), entry("threshold", a=0.0, count=3),
             entry("threshold", a=0.0, p=0.0)]
    fired = {r: [len(mutate(NET, [e], seed=0, round_=r)[1]) for e in sched] for r in range(1, 9)}
    assert [fired[r][0] for r in range(1, 9)] == [0, 1, 0, 0, 1, 0, 0, 1]
    assert {fired[r][1] for r in fired} == {3}
    assert {fired[r][2] for r in fired} == {0}


def test_probability_is_a_per_round_coin():
    e = entry("threshold", a=0.0, p=0.5)
    fired = [len(mutate(NET, [e], seed=0, round_=r)[1]) for r in range(1, 201)]
    assert 70 < sum(fired) < 130                                   # ~ Binomial(200, 0.5)
    assert fired == [len(mutate(NET, [e], seed=0, round_=r)[1]) for r in range(1, 201)]


def test_same_stream_same_mutation_other_seed_other():
    sched = [entry("F", k=[-0.5, 0.5]), entry("D"), entry("H")]
    a = mutate(NET, sched, seed=3, round_=2)
    b = mutate(NET, sched, seed=3, round_=2)
    c = mutate(NET, sched, seed=4, round_=2)
    assert a[0] == b[0] and a[1] == b[1]
    assert a[1] != c[1]


def test_quantile_threshold_removes_that_fraction():
    net = GraphNetwork.random(4, 20, 3, 0.8, seed=1)
    w = np.sort(np.abs([x for _, _, x in net.edges()]))
    new, rec = apply_entry(net, entry("threshold", a={"quantile": 0.25}), stream(0, 0, 1, 0),
                           round_=1)
    expected = np.quantile(w, 0.25)
    assert rec.args["a"] == pytest.approx(expected)
    assert new.n_edges == int(np.sum(w > expected))
    assert new == threshold(net, expected)


def test_ramp_rises_by_round_from_the_entry_start():
    e = entry("threshold", a={"start": 0.1, "step": 0.05}, start=3)
    values = [entry_args(NET, e, stream(0, 0, r, 0), round_=r)[1]["a"] for r in (3, 4, 7)]
    assert values == pytest.approx([0.1, 0.15, 0.3])
    falling = entry("threshold", a={"start": 0.1, "step": -0.05})
    assert entry_args(NET, falling, stream(0, 0, 9, 0), round_=9)[1]["a"] == 0.0


@settings(max_examples=40, deadline=None)
@given(lo=st.integers(0, 6), width=st.integers(0, 4), seed=st.integers(0, 2**16))
def test_int_ranges_are_inclusive_ints(lo, width, seed):
    e = entry("swap_rows", i=[lo, lo + width], j=[lo, lo + width])
    _, args = entry_args(NET, e, np.random.default_rng(seed), round_=1)
    assert all(isinstance(args[k], int) and lo <= args[k] <= lo + width for k in ("i", "j"))


def test_float_range_and_sampler_keywords():
    _, args = entry_args(NET, entry("F", k=[0.2, 0.3]), np.random.default_rng(0), round_=1)
    assert isinstance(args["k"], float) and 0.2 <= args["k"] <= 0.3
    assert {"src", "dst"} <= set(args) and args["src"] != args["dst"]
    _, args = entry_args(NET, entry("F", k_max=0.01), np.random.default_rng(0), round_=1)
    assert abs(args["k"]) <= 0.01
    # regrow's seed is always drawn, a fixed n is passed to the sampler (capped there)
    _, args = entry_args(NET, entry("regrow", n=2), np.random.default_rng(0), round_=1)
    assert args["n"] == 2 and isinstance(args["seed"], int)


def test_h_keeps_the_function():
    from graphnet.graph.execute import forward

    X = np.random.default_rng(0).normal(size=(7, 3))
    for r in range(1, 6):
        new, recs = mutate(NET, [entry("H")], seed=0, round_=r)
        assert recs[0]["letter"] == "H" and new.n_edges == NET.n_edges
        np.testing.assert_allclose(forward(new, X), forward(NET, X), rtol=1e-12, atol=1e-12)


def test_refused_operator_is_recorded_and_the_network_kept():
    no_hidden = GraphNetwork.layered([2, 2], seed=0)
    new, recs = mutate(no_hidden, [entry("remove_node"), entry("threshold", a=10.0)], seed=0,
                       round_=1)
    assert recs[0]["name"] == "remove_node" and "no hidden node" in recs[0]["error"]
    assert recs[0]["edges_before"] == recs[0]["edges_after"] == 4
    assert recs[1]["error"] is None and recs[1]["edges_after"] == 0 and new.n_edges == 0


def test_refused_operator_in_a_run(tmp_path):
    from graphnet.lab import rundir as rd
    from graphnet.lab.runner import run_experiment

    cfg = parse_config('seeds = [0]\nrounds = 2\n[data]\ndataset = "xor"\n[network]\n'
                       'sizes = [2, 2]\n[train]\nepochs = 2\n[[mutation.schedule]]\n'
                       'op = "remove_node"\n[baselines]\nmodels = []\n')
    result = run_experiment(cfg, tmp_path / "r", progress=False, plots=False)
    assert result.complete
    history = rd.read_history(tmp_path / "r")
    assert len(history) == 2 and all("no hidden node" in h["error"] for h in history)
    assert "| graph | remove_node | - | 0 | 0 | 2 |" in (tmp_path / "r" / "summary.md").read_text()


def test_start_networks():
    layered = build_start({"start": "layered", "sizes": [4, 3, 2], "mode": "recurrent",
                           "activation": "relu", "steps": 3}, 4, 2, seed=0)
    assert layered.mode == "recurrent" and set(layered.activations[4:7]) == {"relu"}
    rnd = build_start({"start": "random", "n_hidden": 5, "density": 0.5, "mode": "feedforward",
                       "activation": "tanh", "steps": 5}, 4, 2, seed=stream(1, 0, 0, 1))
    assert (rnd.n_inputs, rnd.n_hidden, rnd.n_outputs) == (4, 5, 2)
    assert rnd == build_start({"start": "random", "n_hidden": 5, "density": 0.5,
                               "mode": "feedforward", "activation": "tanh", "steps": 5}, 4, 2,
                              seed=stream(1, 0, 0, 1))


def test_seed_example_widened_to_the_data():
    seed_net = GraphNetwork.seed_example()
    start = {"start": "seed_example", "mode": "recurrent", "activation": "keep", "steps": 5}
    assert build_start(start, 1, 1, seed=0) == seed_net
    wide = build_start(start, 3, 2, seed=0)
    W = wide.matrix()
    assert (W[:6, :6] == seed_net.matrix()).all()                  # the seed's graph kept
    assert wide.n_inputs == 3 and wide.n_outputs == 2 and wide.cycles() == [[0, 1]]
    assert [int(v) for v in np.flatnonzero(W[:, 0])] == [1, 5, 6, 7]   # s1, x0 and the new inputs
    s2, s4, y1 = 2, 4, 8
    assert set(np.flatnonzero(W[:, y1]).tolist()) == {s2, s4}         # fed like s3


def test_data_split_depends_on_the_seed_only():
    data = {"dataset": "digits", "test_size": 0.2, "validation": 0.1, "scale": "unit",
            "max_train": 0, "max_test": 0}
    a, b, c = load_data(data, 0), load_data(data, 0), load_data(data, 1)
    assert (a.X_train == b.X_train).all() and (a.y_val == b.y_val).all()
    assert not (a.y_train[:50] == c.y_train[:50]).all()
    n = len(a.y_train) + len(a.y_val) + len(a.y_test)
    assert n == 1797 and len(a.y_test) == 359 and a.X_train.shape[1:] == (1, 8, 8)
    assert a.view("flat")[0].shape == (len(a.y_train), 64)
    small = load_data({**data, "max_train": 30, "max_test": 20, "validation": 0.0}, 0)
    assert small.X_train.shape[0] == 30 and small.X_test.shape[0] == 20 and small.X_val is None
