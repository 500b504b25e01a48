"""A population as one plan (graphnet.graph.population): each network as if trained alone.

The reference of every check is the network on its own: ``graph_model(net)`` (or
``Sequential([GraphLayer(net)])`` without the softmax) run and trained by
``graphnet.train.fit`` with the same settings and seed. Forward and backward are labelled
apart; float64 agreement to 1e-12.
"""

from __future__ import annotations

import gc
import tracemalloc

import numpy as np
import pytest

from graphnet.core.losses import Loss
from graphnet.core.model import Sequential
from graphnet.core.optim import Adam, Momentum, SGD
from graphnet.errors import DivergenceError, GraphError, InputError, InputTypeError
from graphnet.graph._union import gc_paused, member_network, union_depths
from graphnet.graph._validate import canonical_graph
from graphnet.graph.execute import GraphLayer, graph_model
from graphnet.graph.network import GraphNetwork
from graphnet.graph.population import compile_population
from graphnet.graph.population_fit import evaluate_population, train_population
from graphnet.train import evaluate, fit

TOL = 1e-12


def _with_fixed(net, seed):
    """``net`` with about a third of its edges fixed (a seeded choice)."""
    W = net.matrix()
    rng = np.random.default_rng(seed)
    return net.replace(fixed=(W != 0) & (rng.random(W.shape) < 0.35))


def _population(seed, P=9, K=3, n_max=4):
    """Random DAGs and recurrent networks, 1..n_max inputs, 1..7 hidden, some fixed edges."""
    rng = np.random.default_rng(seed)
    nets = []
    for k in range(P):
        mode = "recurrent" if k % 3 == 2 else "feedforward"
        n_in, n_hidden = int(rng.integers(1, n_max + 1)), int(rng.integers(1, 8))
        n = n_in + n_hidden + K
        acts = (["tanh", "sigmoid", "relu"] * n)[:n] if k % 2 else "tanh"
        net = GraphNetwork.random(n_in, n_hidden, K, float(rng.uniform(0.4, 0.9)),
                                  seed=seed * 100 + k, mode=mode, activation=acts)
        nets.append(_with_fixed(net, k) if k % 4 == 1 else net)
    return nets


def _data(seed, n=37, D=5, K=3):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, D)), rng.integers(0, K, n)


def _alone(net, steps=5, softmax=True):
    return graph_model(net, steps=steps) if softmax else Sequential([GraphLayer(net, steps=steps)])


def _layer_params(model):
    layer = model.layers[0]
    return layer.params["w"], layer.params["b"]


# ------------------------------------------------------------------------- forward


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("softmax", [True, False])
def test_forward_is_each_networks_own(seed, softmax):
    nets = _population(seed)
    X, _ = _data(seed)
    out = compile_population(nets, steps=4, softmax=softmax).forward(X)
    assert out.shape == (len(X), len(nets), 3)
    for k, net in enumerate(nets):
        alone = _alone(net, steps=4, softmax=softmax).forward(X[:, :net.n_inputs])
        np.testing.assert_allclose(out[:, k], alone, rtol=0, atol=TOL)


def test_a_network_reads_the_first_n_inputs_columns_only():
    net = GraphNetwork.random(2, 3, 2, 0.8, seed=0)
    wide = GraphNetwork.random(4, 3, 2, 0.8, seed=1)
    X = np.random.default_rng(0).normal(size=(6, 5))
    Y = X.copy()
    Y[:, 2:] = 99.0                      # columns the 2-input network must not read
    pop = compile_population([net, wide])
    np.testing.assert_array_equal(pop.forward(X)[:, 0], pop.forward(Y)[:, 0])
    assert not np.allclose(pop.forward(X)[:, 1], pop.forward(Y)[:, 1])


def test_inputs_anywhere_in_node_order():
    """Data column j feeds the j-th input node in node order, wherever it sits."""
    W = np.zeros((5, 5))
    W[1, 0], W[3, 0], W[0, 4], W[3, 2], W[2, 4] = 0.7, -1.2, 0.9, 0.4, -0.3
    net = GraphNetwork.from_matrix(W, [1, 3], [4, 2], biases=[0.1, 0, -0.2, 0, 0.3])
    X = np.random.default_rng(1).normal(size=(4, 3))
    out = compile_population([GraphNetwork.random(3, 2, 2, 0.8, seed=0), net]).forward(X)
    np.testing.assert_allclose(out[:, 1], graph_model(net).forward(X[:, :2]), rtol=0, atol=TOL)


@pytest.mark.parametrize("max_nodes", [1, 8, 10_000])
def test_cutting_the_union_changes_nothing(max_nodes):
    nets = _population(5)
    X, y = _data(5)
    pop = compile_population(nets, max_nodes=max_nodes)
    ref = compile_population(nets, max_nodes=10_000)
    assert len(pop.groups) >= (len(nets) if max_nodes == 1 else 2)
    np.testing.assert_allclose(pop.forward(X), ref.forward(X), rtol=0, atol=TOL)


# ------------------------------------------------------------------------ backward


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("loss, softmax", [("cross_entropy", True), ("squared_error", True),
                                           ("squared_error", False)])
def test_losses_and_gradients_are_each_networks_own(seed, loss, softmax):
    nets = _population(seed)
    X, y = _data(seed)
    if not softmax:
        y = np.eye(3)[y] * 0.8           # regression targets, shape (n, K)
    pop = compile_population(nets, steps=3, softmax=softmax)
    values = pop.loss_and_backward(X, y, loss)
    for k, net in enumerate(nets):
        model = _alone(net, steps=3, softmax=softmax)
        value = model.loss_and_backward(X[:, :net.n_inputs], y, loss)
        assert values[k] == pytest.approx(value, rel=TOL, abs=TOL)
        gw, gb = pop.network_grads(k)
        (_, ref_gw), (_, ref_gb) = model.params_and_grads()
        np.testing.assert_allclose(gw, ref_gw, rtol=0, atol=TOL)
        np.testing.assert_allclose(gb, ref_gb, rtol=0, atol=TOL)


def test_another_loss_is_taken_network_by_network():
    class Absolute(Loss):
        def __call__(self, o, t):
            return float(np.abs(o - np.eye(o.shape[1])[t]).sum() / len(o))

        def delta(self, o, t):
            return np.sign(o - np.eye(o.shape[1])[t]) / len(o)

    nets = _population(1, P=4)
    X, y = _data(1)
    pop = compile_population(nets)
    values = pop.loss_and_backward(X, y, Absolute())
    for k, net in enumerate(nets):
        model = _alone(net)
        assert values[k] == pytest.approx(model.loss_and_backward(X[:, :net.n_inputs], y,
                                                                  Absolute()), abs=TOL)
        np.testing.assert_allclose(pop.network_grads(k)[0], model.params_and_grads()[0][1],
                                   rtol=0, atol=TOL)


# ------------------------------------------------------------------------ training


@pytest.mark.parametrize("seed, optimizer", [(0, "adam"), (1, "sgd"), (2, "momentum"),
                                             (3, "adam_decay")])
def test_training_gives_each_network_what_fit_gives_it_alone(seed, optimizer):
    nets = _population(seed)
    X, y = _data(seed)                    # 37 samples, batches of 8: a short last batch

    def opt():
        return {"adam": Adam(0.03), "sgd": SGD(0.2), "momentum": Momentum(0.05),
                "adam_decay": Adam(0.03, weight_decay=0.01)}[optimizer]

    pop = compile_population(nets, steps=3)
    hist = train_population(pop, X, y, optimizer=opt(), epochs=3, batch_size=8, seed=seed)
    assert hist.diverged.tolist() == [0] * len(nets)
    for k, net in enumerate(nets):
        model = _alone(net, steps=3)
        ref = fit(model, X[:, :net.n_inputs], y, optimizer=opt(), epochs=3, batch_size=8,
                  seed=seed)
        w, b = pop.network_params(k)
        ref_w, ref_b = _layer_params(model)
        np.testing.assert_allclose(w, ref_w, rtol=0, atol=TOL)
        np.testing.assert_allclose(b, ref_b, rtol=0, atol=TOL)
        np.testing.assert_allclose(hist.column("loss")[:, k], ref.column("loss"), rtol=0,
                                   atol=TOL)
        np.testing.assert_array_equal(hist.column("accuracy")[:, k], ref.column("accuracy"))


def test_recurrent_networks_with_their_own_steps():
    nets = [GraphNetwork.random(2, 4, 2, 0.6, seed=s, mode="recurrent") for s in range(4)]
    steps = [2, 5, 2, 3]
    X, y = _data(7, K=2)
    pop = compile_population(nets, steps=steps)
    assert sorted(g.indices.tolist() for g in pop.groups) == [[0, 2], [1], [3]]
    train_population(pop, X, y, lr=0.05, epochs=2, batch_size=10, seed=1)
    for k, net in enumerate(nets):
        model = _alone(net, steps=steps[k])
        fit(model, X[:, :2], y, lr=0.05, epochs=2, batch_size=10, seed=1)
        np.testing.assert_allclose(pop.network_params(k)[0], _layer_params(model)[0], rtol=0,
                                   atol=TOL)


def test_float32_population_matches_float32_alone():
    nets = _population(4, P=5)
    X, y = _data(4)
    pop = compile_population(nets, dtype=np.float32)
    train_population(pop, X, y, lr=0.02, epochs=2, batch_size=16, seed=0)
    for k, net in enumerate(nets):
        model = graph_model(net, dtype=np.float32)
        fit(model, X[:, :net.n_inputs], y, lr=0.02, epochs=2, batch_size=16, seed=0)
        w = pop.network_params(k)[0]
        assert w.dtype == np.float32
        np.testing.assert_allclose(w, _layer_params(model)[0], rtol=0, atol=1e-5)


def test_validation_and_evaluation_per_network():
    nets = _population(6, P=5)
    X, y = _data(6)
    Xv, yv = _data(60, n=23)
    pop = compile_population(nets)
    hist = train_population(pop, X, y, lr=0.02, epochs=2, batch_size=8, seed=2,
                            validation=(Xv, yv))
    losses, accs = evaluate_population(pop, Xv, yv, batch_size=7)
    np.testing.assert_allclose(hist.last["val_loss"], losses, rtol=0, atol=TOL)
    for k, net in enumerate(nets):
        model = _alone(net)
        fit(model, X[:, :net.n_inputs], y, lr=0.02, epochs=2, batch_size=8, seed=2)
        ref_loss, ref_acc = evaluate(model, Xv[:, :net.n_inputs], yv)
        assert losses[k] == pytest.approx(ref_loss, abs=TOL)
        assert accs[k] == ref_acc


def test_same_seed_same_result_other_seed_other_batches():
    nets = _population(8, P=4)
    X, y = _data(8)

    def run(seed):
        pop = compile_population(nets)
        train_population(pop, X, y, lr=0.05, epochs=2, batch_size=8, seed=seed)
        return np.concatenate([np.concatenate(pop.network_params(k)) for k in range(4)])

    np.testing.assert_array_equal(run(3), run(3))
    assert not np.array_equal(run(3), run(4))


# ------------------------------------------------------------------------ split back


def test_split_back_networks_keep_their_structure_and_carry_the_trained_weights():
    nets = _population(9)
    X, y = _data(9)
    pop = compile_population(nets, steps=3)
    train_population(pop, X, y, lr=0.05, epochs=2, batch_size=8, seed=0)
    trained = pop.networks()
    assert len(trained) == len(nets)
    for k, (net, new) in enumerate(zip(nets, trained)):
        assert (new.names, new.roles, new.activations, new.mode) == \
            (net.names, net.roles, net.activations, net.mode)
        np.testing.assert_array_equal(new.fixed_mask(), net.fixed_mask())
        fixed = net.fixed_mask()
        np.testing.assert_array_equal(new.matrix()[fixed], net.matrix()[fixed])
        model = _alone(net, steps=3)
        fit(model, X[:, :net.n_inputs], y, lr=0.05, epochs=2, batch_size=8, seed=0)
        ref = model.layers[0].to_network()
        np.testing.assert_allclose(new.matrix(), ref.matrix(), rtol=0, atol=TOL)
        np.testing.assert_allclose(new.biases(), ref.biases(), rtol=0, atol=TOL)
        assert not np.array_equal(new.matrix(), net.matrix())     # it did train
    assert [n.matrix().tolist() for n in nets] == \
        [n.matrix().tolist() for n in _population(9)]             # inputs untouched


def _parts(net):
    """A network's canonical parts: edges row-major, their weights and fixed flags."""
    W = net.matrix()
    src, dst = np.nonzero(W)
    return src, dst, W[src, dst], net.fixed_mask()[src, dst]


@pytest.mark.parametrize("seed", range(3))
def test_canonical_graph_is_the_graph_validation_gives(seed):
    """The trusted fast path builds exactly the graph GraphNetwork(graph) stores."""
    for net in _population(seed) + [GraphNetwork.seed_example()]:
        src, dst, w, fixed = _parts(net)
        g = canonical_graph(net.roles, net.biases(), net.activations, net.names, net.mode,
                            src, dst, w, fixed)
        ref = net.graph
        assert g.graph == ref.graph
        assert list(g.nodes(data=True)) == list(ref.nodes(data=True))
        assert list(g.edges(data=True)) == list(ref.edges(data=True))      # same order
        assert list(g.pred[dst[0]].items()) == list(ref.pred[dst[0]].items())
        fast = GraphNetwork(g, _valid=True)
        assert fast == net and hash(fast) == hash(net)
        if net.mode == "feedforward":
            assert [v.tolist() for v in fast.levels()] == [v.tolist() for v in net.levels()]
        else:
            assert fast.cycles() == net.cycles()


def test_union_depths_are_the_networks_own():
    W = np.zeros((6, 6))
    W[0, 2], W[2, 3], W[1, 5], W[3, 5] = 1.0, 2.0, 3.0, 4.0     # node 4: hidden, no in-edge
    lonely = GraphNetwork.from_matrix(W, [0, 1], [5])
    nets = [n for n in _population(11, P=12) if n.mode == "feedforward"] + [lonely]
    for net in nets:                       # GraphNetwork.random puts the inputs first
        src, dst, _, _ = _parts(net)
        np.testing.assert_array_equal(union_depths(net.n_nodes, net.n_inputs, src, dst),
                                      net.depths())
    # two networks side by side, inputs shared: each keeps its own depths
    a, b = lonely, GraphNetwork.layered([2, 3, 3, 1], seed=0)
    sa, da, _, _ = _parts(a)
    sb, db, _, _ = _parts(b)
    shift = np.where(sb < 2, 0, a.n_nodes - 2)
    d = union_depths(a.n_nodes + b.n_nodes - 2, 2, np.concatenate([sa, sb + shift]),
                     np.concatenate([da, db + a.n_nodes - 2]))
    np.testing.assert_array_equal(d, np.concatenate([a.depths(), b.depths()[2:]]))


def test_split_back_drops_an_exact_zero_and_refuses_a_non_finite_weight():
    net = _with_fixed(GraphNetwork.random(3, 5, 2, 0.8, seed=4), 1)
    pop = compile_population([GraphNetwork.random(2, 2, 2, 0.9, seed=0), net])
    mem = pop.groups[0].members[1]
    w, b = pop.network_params(1)
    w = w * 0.5
    w[1] = 0.0                                          # a trainable edge trained to 0
    W = net.matrix()
    src, dst = np.nonzero(W)
    W[src[mem.trainable], dst[mem.trainable]] = w
    full_b = np.zeros(net.n_nodes)
    full_b[net.n_inputs:] = b
    new = member_network(net, mem, w, b)
    assert new == net.with_params(W, full_b)
    assert new.n_edges == net.n_edges - 1 and new.n_fixed == net.n_fixed > 0
    w[2] = np.inf
    with pytest.raises(GraphError, match="is inf"):
        member_network(net, mem, w, b)


def test_compiling_a_population_takes_memory_in_proportion_to_its_edges():
    """No n x n matrix of the union: 400 XOR-sized graphs (2,700 union nodes) stay small."""
    rng = np.random.default_rng(0)
    nets = [GraphNetwork.random(2, int(rng.integers(1, 7)), 1, 0.8, seed=k) for k in range(400)]
    size = sum(n.n_edges + n.n_nodes for n in nets)
    compile_population(nets[:3])                        # imports and caches outside the count
    tracemalloc.start()
    try:
        pop = compile_population(nets)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(pop.groups) == 1
    assert peak < 1000 * size, f"{peak / 2**20:.1f} MB for {size} edges + nodes"


def test_the_collector_pause_is_undone_whatever_happens():
    with pytest.raises(ZeroDivisionError):
        with gc_paused():
            assert not gc.isenabled()
            1 / 0
    assert gc.isenabled()
    pop = compile_population(_population(12, P=3))
    pop.networks()
    assert gc.isenabled()
    gc.disable()                                        # a caller's own pause is kept
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


# ------------------------------------------------------------------------ divergence


def test_a_diverging_network_is_frozen_and_the_others_train_on():
    ok = _population(10, P=4, K=2)
    # identity outputs fed by weights of 1e200: the outputs overflow in the first step
    big = GraphNetwork.from_matrix([[0, 0, 1e200, 1e200], [0, 0, 1e200, -1e200],
                                    [0, 0, 0, 0], [0, 0, 0, 0]], [0, 1], [2, 3])
    nets = [ok[0], ok[1], big, ok[2], ok[3]]
    X, y = _data(10, K=2)
    X = X * 1e200 + 1.0
    with pytest.raises(DivergenceError):
        fit(graph_model(big), X[:, :2], y, epochs=1, batch_size=8, seed=0)
    pop = compile_population(nets, strategy="dense")   # dense blocks: 0 * inf would spill
    hist = train_population(pop, X, y, lr=0.01, epochs=2, batch_size=8, seed=0)
    assert hist.diverged.tolist() == [0, 0, 1, 0, 0]
    assert pop.frozen == (2,)
    assert np.isnan(hist.last["loss"][2]) and np.isfinite(np.delete(hist.last["loss"], 2)).all()
    assert pop.network(2) == big                         # the parameters that overflowed
    for k in (0, 1, 3, 4):
        model = _alone(nets[k])
        fit(model, X[:, :nets[k].n_inputs], y, lr=0.01, epochs=2, batch_size=8, seed=0)
        np.testing.assert_allclose(pop.network_params(k)[0], _layer_params(model)[0], rtol=0,
                                   atol=TOL)


# ------------------------------------------------------------------------ errors


def test_errors_name_the_problem():
    net = GraphNetwork.random(3, 2, 2, 0.7, seed=0)
    with pytest.raises(InputError, match="nets is empty"):
        compile_population([])
    with pytest.raises(InputTypeError, match=r"nets\[1\] must be a GraphNetwork, got dict"):
        compile_population([net, {}])
    with pytest.raises(InputTypeError, match="nets must be a sequence of GraphNetwork"):
        compile_population(net)
    with pytest.raises(InputError, match=r"nets\[1\] has 3"):
        compile_population([net, GraphNetwork.random(3, 2, 3, 0.7, seed=0)])
    with pytest.raises(InputError, match="steps has 1 entries for 2 networks"):
        compile_population([net, net], steps=[3])
    with pytest.raises(InputError, match="max_nodes must be an int >= 1"):
        compile_population([net], max_nodes=0)
    pop = compile_population([GraphNetwork.random(1, 2, 2, 0.7, seed=1), net])
    X = np.ones((4, 2))
    with pytest.raises(InputError, match=r"X has 2 columns but nets\[1\] reads 3"):
        pop.forward(X)
    with pytest.raises(InputError, match="X has 2 columns, the population reads 3"):
        train_population(pop, X, np.zeros(4, dtype=int))
    with pytest.raises(InputError, match="run loss_and_backward first"):
        pop.params_and_grads()
    with pytest.raises(InputTypeError, match="pop must be a Population"):
        train_population([net], np.ones((4, 3)), np.zeros(4, dtype=int))
    with pytest.raises(InputError, match=r"k must be an int in \[0, 2\)"):
        pop.network(2)
