"""Fixed edges (``trainable = false``): a weight that training never changes.

Storage and validation, the file round trips (old files load as trainable), the compiled
plan's gradient (exactly 0 at a fixed edge, the rest against the plain reference, float64
central finite differences and torch), training with every optimizer and weight decay in
feedforward and recurrent mode (a fixed edge never moves), a residual block expressed
exactly, and the operators' rule (graphnet.graph.gate): the flag moves with its entry,
stays on an edge whose weight changes, and new edges are trainable.
"""

from __future__ import annotations

import json

import networkx as nx
import numpy as np
import pytest

from graphnet.core.gradcheck import check_layer
from graphnet.core.losses import get_loss
from graphnet.core.model import Sequential
from graphnet.core.optim import get_optimizer
from graphnet.errors import GraphError, InputTypeError
from graphnet.graph import extras, operators
from graphnet.graph.execute import GraphLayer, compile_plan, graph_model
from graphnet.graph.network import GraphNetwork
from graphnet.graph.reference import reference_backward, reference_forward
from graphnet.models import mlp_residual

# a 2-3-1 net with a skip edge 0 -> 5 and one hidden edge 1 -> 3 fixed
W_SKIP = np.array([
    [0, 0, 0.5, -0.7, 0.0, 1.0],
    [0, 0, 0.3, 0.9, -0.4, 0.0],
    [0, 0, 0, 0, 0, 0.8],
    [0, 0, 0, 0, 0, -1.1],
    [0, 0, 0, 0, 0, 0.6],
    [0, 0, 0, 0, 0, 0],
])
F_SKIP = np.zeros((6, 6), dtype=bool)
F_SKIP[0, 5] = F_SKIP[1, 3] = True


def skip_net(**kw):
    return GraphNetwork.from_matrix(W_SKIP, [0, 1], [5], biases=[0, 0, 0.1, -0.2, 0.3, 0.05],
                                    fixed=F_SKIP, **kw)


def recurrent_net():
    """The seed's recurrent example with two fixed edges, one of them on its cycle."""
    net = GraphNetwork.seed_example()
    F = np.zeros((6, 6), dtype=bool)
    F[0, 1] = True                                  # on the cycle 0 -> 1 -> 0
    F[5, 0] = True                                  # the input's edge
    rng = np.random.default_rng(3)
    W = net.matrix() * rng.uniform(0.5, 1.5, (6, 6))
    return net.replace(W=W, fixed=F)


def fixed_weights(net):
    return {(u, v): w for u, v, w in net.edges() if net.fixed_mask()[u, v]}


# ----------------------------------------------------------------------------------------
# storage
# ----------------------------------------------------------------------------------------


class TestStore:
    def test_mask_counts_and_params(self):
        net = skip_net()
        assert net.n_fixed == 2 and net.fixed_mask().sum() == 2
        assert net.fixed_mask()[0, 5] and net.fixed_mask()[1, 3]
        assert net.n_params == net.n_edges - 2 + 4
        assert GraphNetwork.from_matrix(W_SKIP, [0, 1], [5]).n_fixed == 0
        assert skip_net().graph.edges[0, 5]["trainable"] is False
        assert "trainable" not in skip_net().graph.edges[0, 2]

    def test_mask_is_a_copy(self):
        net = skip_net()
        m = net.fixed_mask()
        m[:] = True
        assert net.n_fixed == 2

    def test_flag_is_part_of_identity(self):
        plain = GraphNetwork.from_matrix(W_SKIP, [0, 1], [5], biases=skip_net().biases())
        assert plain != skip_net() and skip_net() == skip_net()
        assert hash(skip_net()) == hash(skip_net())
        assert plain.matrix().tolist() == skip_net().matrix().tolist()

    def test_graph_attribute_default_and_type(self):
        g = nx.DiGraph(mode="feedforward")
        g.add_node(0, role="input")
        g.add_node(1, role="output")
        g.add_edge(0, 1, weight=2.0, trainable=True)
        assert GraphNetwork(g).n_fixed == 0
        g.edges[0, 1]["trainable"] = np.False_
        assert GraphNetwork(g).n_fixed == 1
        g.edges[0, 1]["trainable"] = "no"
        with pytest.raises(GraphError, match=r"edge 0 -> 1: trainable must be a bool, got 'no'"):
            GraphNetwork(g)

    def test_mask_errors(self):
        with pytest.raises(GraphError, match=r"from_matrix: fixed\[0, 1\] is True but "
                                             r"W\[0, 1\] == 0; only an edge can be fixed"):
            GraphNetwork.from_matrix([[0, 0, 1.0], [0, 0, 1.0], [0, 0, 0]], [0], [2],
                                     fixed=np.eye(3, k=1, dtype=bool))
        with pytest.raises(GraphError, match=r"from_matrix: fixed must have the shape of W"):
            GraphNetwork.from_matrix(W_SKIP, [0, 1], [5], fixed=np.zeros((5, 5), dtype=bool))
        with pytest.raises(InputTypeError, match="fixed: expected a boolean matrix"):
            GraphNetwork.from_matrix(W_SKIP, [0, 1], [5], fixed=F_SKIP.astype(int))
        with pytest.raises(GraphError, match=r"replace: fixed\[0, 0\] is True"):
            skip_net().replace(fixed=np.ones((6, 6), dtype=bool))

    def test_replace_keeps_flags_by_position(self):
        net = skip_net()
        assert net.replace(biases=np.zeros(6)).fixed_mask().tolist() == F_SKIP.tolist()
        W = net.matrix()
        W[1, 3] = 0.0                                   # the fixed edge removed: flag gone
        W[0, 4] = 2.0                                   # a new edge: trainable
        new = net.replace(W=W)
        assert new.fixed_mask()[0, 5] and new.n_fixed == 1 and not new.fixed_mask()[0, 4]
        assert net.replace(fixed=np.zeros((6, 6), dtype=bool)).n_fixed == 0

    def test_with_params_keeps_flags_and_refuses_moving_one(self):
        net = skip_net()
        W = net.matrix()
        W[0, 2] = 0.25                                  # a trainable edge: fine
        trained = net.with_params(W, net.biases())
        assert trained.fixed_mask().tolist() == F_SKIP.tolist()
        W[0, 5] = 1.5
        with pytest.raises(GraphError, match=r"W\[0, 5\] = 1.5 but the edge 0 -> 5 is fixed "
                                             r"at 1.0; training never changes a fixed edge"):
            net.with_params(W, net.biases())

    def test_summary_lists_them(self):
        text = skip_net().summary()
        assert "parameters: 11" in text                 # 9 edges - 2 fixed + 4 biases
        assert "fixed edges: 2 (never trained): 0 -> 5, 1 -> 3" in text
        assert "fixed" not in GraphNetwork.layered([2, 2, 1], seed=0).summary()


# ----------------------------------------------------------------------------------------
# files
# ----------------------------------------------------------------------------------------


class TestRoundTrips:
    @pytest.mark.parametrize("make", [skip_net, recurrent_net])
    def test_node_link_dict_and_json(self, make, tmp_path):
        net = make()
        data = net.to_node_link()
        assert sum(link.get("trainable", True) is False for link in data["links"]) == 2
        assert GraphNetwork.from_node_link(data) == net
        path = tmp_path / "net.json"
        net.to_node_link(path)
        assert '"trainable": false' in path.read_text()
        back = GraphNetwork.from_node_link(path)
        assert back == net and back.fixed_mask().tolist() == net.fixed_mask().tolist()

    @pytest.mark.parametrize("make", [skip_net, recurrent_net])
    def test_graphml(self, make, tmp_path):
        net = make()
        path = tmp_path / "net.graphml"
        net.to_graphml(path)
        back = GraphNetwork.from_graphml(path)
        assert back == net and back.n_fixed == 2

    def test_dot_export_dashes_them(self):
        from graphnet.graph.io import to_dot

        text = to_dot(skip_net())
        assert text.count('trainable="false", style="dashed"') == 2
        assert '"x0" -> "y0" [w="1.0"' in text
        assert "dashed" not in to_dot(GraphNetwork.seed_example())

    def test_old_files_load_as_trainable(self, tmp_path):
        plain = GraphNetwork.from_matrix(W_SKIP, [0, 1], [5])
        data = plain.to_node_link()
        assert all("trainable" not in link for link in data["links"])  # as before
        assert GraphNetwork.from_node_link(json.loads(json.dumps(data))).n_fixed == 0
        g = nx.DiGraph(plain.graph)                    # GraphML with no trainable key at all
        g.graph.update(format="graphnet.graphml", version=1)
        nx.write_graphml(g, tmp_path / "old.graphml")
        assert "trainable" not in (tmp_path / "old.graphml").read_text()
        assert GraphNetwork.from_graphml(tmp_path / "old.graphml") == plain

    def test_bad_flag_in_a_file(self):
        data = skip_net().to_node_link()
        data["links"][0]["trainable"] = "false"
        with pytest.raises(GraphError, match="trainable must be a bool, got 'false'"):
            GraphNetwork.from_node_link(data)


# ----------------------------------------------------------------------------------------
# gradients: plan, reference, finite differences, torch
# ----------------------------------------------------------------------------------------

STRATEGIES = ("auto", "range", "gather", "edge", "dense")


def _fd_grad(net, X, R, steps, eps=1e-6):
    """Central float64 finite differences of sum(R * f(X)) in every edge weight."""
    g = np.zeros(net.n_edges)
    for k, (u, v, w) in enumerate(net.edges()):
        vals = []
        for s in (eps, -eps):
            W = net.matrix()
            W[u, v] = w + s
            vals.append(np.sum(R * reference_forward(net.replace(W=W), X, steps=steps)))
        g[k] = (vals[0] - vals[1]) / (2 * eps)
    return g


@pytest.mark.parametrize("make", [skip_net, recurrent_net])
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_plan_gradient_zero_at_fixed_edges(make, strategy):
    net = make()
    if net.mode == "recurrent" and strategy in ("range", "gather"):
        strategy = "auto"
    rng = np.random.default_rng(0)
    X = rng.normal(size=(7, net.n_inputs))
    R = rng.normal(size=(7, net.n_outputs))
    plan = compile_plan(net, steps=4, strategy=strategy)
    y, cache = plan.forward(X)
    dx, gw, gb = plan.backward(cache, R)
    fixed = net.fixed_mask()[plan.edge_src, plan.edge_dst]
    assert fixed.sum() == 2 and (plan.trainable == ~fixed).all()
    assert (gw[fixed] == 0).all()                      # exactly 0
    # forward is untouched by the flags; backward agrees with the reference
    np.testing.assert_allclose(y, reference_forward(net, X, steps=4), rtol=1e-12, atol=1e-12)
    rdx, rgw, rgb = reference_backward(net, X, R, steps=4)
    np.testing.assert_allclose(gw, rgw, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gb, rgb, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx, rdx, rtol=1e-10, atol=1e-12)
    # the trainable ones are the true derivative; the fixed ones would not be 0
    fd = _fd_grad(net, X, R, 4)
    np.testing.assert_allclose(gw[~fixed], fd[~fixed], rtol=1e-6, atol=1e-8)
    assert (np.abs(fd[fixed]) > 1e-3).all()


@pytest.mark.parametrize("make", [skip_net, recurrent_net])
def test_layer_params_exclude_fixed_edges_and_pass_gradcheck(make):
    net = make()
    layer = GraphLayer(net, steps=3)
    assert layer.params["w"].shape == (net.n_edges - 2,)
    assert layer.n_params == net.n_params
    errs = check_layer(layer, np.random.default_rng(1).normal(size=(5, net.n_inputs)))
    assert max(errs.values()) < 1e-6, errs


@pytest.mark.parametrize("make", [skip_net, recurrent_net])
def test_gradient_equals_torch(make):
    torch = pytest.importorskip("torch")
    net = make()
    T = 4
    rng = np.random.default_rng(2)
    X = rng.normal(size=(6, net.n_inputs))
    R = rng.normal(size=(6, net.n_outputs))
    F = torch.tensor(net.fixed_mask())
    W0 = torch.tensor(net.matrix())
    Wt = W0.clone().requires_grad_(True)
    W = torch.where(F, W0, Wt)                         # fixed entries: constants
    b = torch.tensor(net.biases())
    acts = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu,
            "identity": lambda z: z}
    non = [v for v in range(net.n_nodes) if net.roles[v] != "input"]

    def act_all(Z):
        return torch.stack([acts[net.activations[v]](Z[:, v]) for v in range(net.n_nodes)], 1)

    H = torch.zeros(6, net.n_nodes, dtype=torch.float64)
    H[:, net.inputs] = torch.tensor(X)
    if net.mode == "feedforward":
        for L in net.levels():
            new = H.clone()
            new[:, L] = act_all(H @ W + b)[:, L]
            H = new
    else:
        for _ in range(T):
            new = H.clone()
            new[:, non] = act_all(H @ W + b)[:, non]
            H = new
    out = H[:, net.outputs]
    (out * torch.tensor(R)).sum().backward()
    plan = compile_plan(net, steps=T)
    _, cache = plan.forward(X)
    _, gw, _ = plan.backward(cache, R)
    np.testing.assert_allclose(gw, Wt.grad.numpy()[plan.edge_src, plan.edge_dst],
                               rtol=1e-10, atol=1e-12)


# ----------------------------------------------------------------------------------------
# training: every optimizer, weight decay, both modes
# ----------------------------------------------------------------------------------------


def _train(net, optimizer, *, dtype=np.float64, steps=25):
    """A few optimizer steps on random data: a graph head with softmax and cross-entropy
    for several outputs, the bare layer with squared error for one."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(32, net.n_inputs)).astype(dtype)
    if net.n_outputs > 1:
        model, loss = graph_model(net, steps=3, dtype=dtype), get_loss("cross_entropy")
        y = rng.integers(0, net.n_outputs, 32)
    else:
        model, loss = Sequential([GraphLayer(net, steps=3, dtype=dtype)]), get_loss("squared_error")
        y = rng.normal(size=(32, 1))
    for _ in range(steps):
        model.loss_and_backward(X, y, loss)
        optimizer.step(model.params_and_grads())
    return model.layers[0].to_network()


OPTIMIZERS = [("sgd", {}), ("momentum", {"momentum": 0.9}), ("momentum", {"nesterov": True}),
              ("adam", {})]


@pytest.mark.parametrize("make", [skip_net, recurrent_net])
@pytest.mark.parametrize("name,kw", OPTIMIZERS)
def test_fixed_edges_never_move(make, name, kw):
    net = make()
    opt = get_optimizer(name, 0.05, weight_decay=0.3, **kw)     # decay would shrink them
    trained = _train(net, opt)
    assert fixed_weights(trained) == fixed_weights(net)         # bit for bit
    assert trained.fixed_mask().tolist() == net.fixed_mask().tolist()
    moved = [(u, v) for u, v, w in net.edges()
             if not net.fixed_mask()[u, v] and trained.matrix()[u, v] != w]
    assert len(moved) == net.n_edges - 2                         # every other edge learned


def test_fixed_edges_never_move_in_float32():
    net = skip_net()
    trained = _train(net, get_optimizer("adam", 0.05, weight_decay=0.1), dtype=np.float32)
    assert fixed_weights(trained) == fixed_weights(net)         # float64 values, not rounded


def test_residual_block_exactly():
    """h2 = relu(W2 h1 + b2) + h1 with identity sum nodes fed by fixed weight-1 edges."""
    rng = np.random.default_rng(7)
    n_in, m, n_out = 3, 4, 2
    W1, W2, W3 = rng.normal(size=(n_in, m)), rng.normal(size=(m, m)), rng.normal(size=(m, n_out))
    b1, b2, b3 = rng.normal(size=m), rng.normal(size=m), rng.normal(size=n_out)
    # nodes: x (3), h1 (4), r = relu(W2 h1 + b2) (4), s = r + h1 (4), y (2)
    x, h1, r, s = np.arange(3), 3 + np.arange(m), 7 + np.arange(m), 11 + np.arange(m)
    y = 15 + np.arange(n_out)
    n = 17
    W = np.zeros((n, n))
    W[np.ix_(x, h1)], W[np.ix_(h1, r)], W[np.ix_(s, y)] = W1, W2, W3
    W[r, s] = W[h1, s] = 1.0
    F = np.zeros((n, n), dtype=bool)
    F[r, s] = F[h1, s] = True
    acts = ["identity"] * 3 + ["relu"] * 8 + ["identity"] * 6
    b = np.concatenate([np.zeros(3), b1, b2, np.zeros(m), b3])
    net = GraphNetwork.from_matrix(W, list(x), list(y), biases=b, activation=acts,
                                   output_activation=acts, fixed=F)
    X = rng.normal(size=(5, n_in))
    H1 = np.maximum(X @ W1 + b1, 0)
    expected = (np.maximum(H1 @ W2 + b2, 0) + H1) @ W3 + b3
    np.testing.assert_allclose(compile_plan(net)(X), expected, rtol=1e-12)
    assert net.n_fixed == 2 * m
    trained = _train(net, get_optimizer("adam", 0.05, weight_decay=0.1))
    assert all(w == 1.0 for w in fixed_weights(trained).values())
    assert len(fixed_weights(trained)) == 2 * m


# ----------------------------------------------------------------------------------------
# operators: the rule of graphnet.graph.gate
# ----------------------------------------------------------------------------------------

W4 = [[0, 0, 2.0, 0], [0, 0, 0.5, -1.0], [0, 0, 0, 3.0], [0, 0, 0, 0]]


def net4(mode="feedforward"):
    F = np.zeros((4, 4), dtype=bool)
    F[0, 2] = F[1, 3] = True
    return GraphNetwork.from_matrix(W4, [0, 1], [3], fixed=F, mode=mode)


def flagged(net):
    return sorted((u, v) for u, v in np.argwhere(net.fixed_mask()).tolist())


class TestOperators:
    def test_threshold_removes_small_fixed_edges_keeps_large(self):
        out = operators.threshold(net4(), 1.0)         # 1 -> 3 (-1.0) goes, 0 -> 2 stays
        assert flagged(out) == [(0, 2)]

    def test_swaps_move_the_flag_with_the_entry(self):
        rec = net4("recurrent")
        out = operators.swap_columns(rec, 2, 3)        # 0 -> 2 moves to 0 -> 3, 1 -> 3 to 1 -> 2
        assert flagged(out) == [(0, 3), (1, 2)]
        out = operators.swap_rows(net4(), 0, 1)        # rows exchange their out-edges
        assert flagged(out) == [(0, 3), (1, 2)]
        assert out.matrix()[0, 3] == -1.0 and out.matrix()[1, 2] == 2.0

    def test_repair_drops_the_flag_with_the_edge(self):
        out = operators.swap_rows(net4(), 0, 2, repair=True)   # 2 -> 2 dropped
        assert out.matrix()[2, 2] == 0 and flagged(out) == [(1, 3)]

    def test_permutation_moves_flags_with_nodes(self):
        net = net4()
        p = [2, 0, 3, 1]
        out = operators.permute_nodes(net, p)
        q = np.argsort(p)                               # old node -> new index
        assert flagged(out) == sorted((int(q[u]), int(q[v])) for u, v in flagged(net))
        for u, v in flagged(out):
            assert out.matrix()[u, v] == net.matrix()[p[u], p[v]]
        assert flagged(operators.swap_nodes(net, 2, 3)) == [(0, 3), (1, 2)]

    def test_shears_keep_flags_of_changed_edges_new_edges_trainable(self):
        out = operators.add_scaled_column(net4(), 2, 3, 2.0)   # 1 -> 3 cancels, 0 -> 3 appears
        assert flagged(out) == [(0, 2)] and out.matrix()[0, 3] == 4.0
        out = operators.add_scaled_row(net4(), 0, 1, 1.0)      # 1 -> 2 changes (trainable)
        assert flagged(out) == [(0, 2), (1, 3)] and out.matrix()[1, 2] == 2.5
        out = operators.add_scaled_row(net4(), 1, 0, 1.0)      # 0 -> 2 (fixed) changes
        assert flagged(out) == [(0, 2), (1, 3)] and out.matrix()[0, 2] == 2.5
        assert out.matrix()[0, 3] == -1.0                       # new edge, trainable

    def test_assign_a_fixed_edge_keeps_it_fixed(self):
        out = operators.assign(net4(), 0, 2, 7.0)      # the caller's explicit act
        assert flagged(out) == [(0, 2), (1, 3)] and out.matrix()[0, 2] == 7.0
        assert flagged(operators.assign(net4(), 0, 2, 0)) == [(1, 3)]
        assert flagged(operators.assign(net4(), 0, 3, 1.0)) == [(0, 2), (1, 3)]

    def test_extras(self):
        net = net4()
        assert flagged(extras.add_edge(net, 0, 3, 0.5)) == [(0, 2), (1, 3)]
        split = extras.split_edge(net, 1, 3, activation="identity")   # both halves fixed
        assert flagged(split) == [(0, 2), (1, 4), (4, 3)]
        X = np.random.default_rng(0).normal(size=(3, 2))
        np.testing.assert_allclose(compile_plan(split)(X), compile_plan(net)(X))
        assert flagged(extras.split_edge(net, 2, 3)) == [(0, 2), (1, 3)]
        assert flagged(extras.remove_node(net, 2)) == [(1, 2)]     # 1 -> 3 is now 1 -> 2
        grown = extras.regrow(net, 1, seed=0)
        assert flagged(grown) == [(0, 2), (1, 3)] and grown.n_edges == 5
        assert flagged(extras.prune_smallest(net, 0.5)) == [(0, 2)]   # -1.0 and 0.5 go


# ----------------------------------------------------------------------------------------
# plots: dashed edges, marked matrix cells
# ----------------------------------------------------------------------------------------


class TestPlots:
    def test_graph_dashes_fixed_edges(self):
        from graphnet.lab.plots.graph import plot_graph

        net = skip_net()
        ax = plot_graph(net).axes[0]
        styles = [p.get_linestyle() for p in ax.patches if p.get_gid() == "edge"]
        assert sorted(styles) == ["-"] * 7 + ["--"] * 2
        assert "fixed edge" in [t.get_text() for t in ax.get_legend().get_texts()]
        lines = plot_graph(net, arrows=False).axes[0].collections
        lc = [c for c in lines if c.get_gid() == "edges"][0]
        dashed = [ls for ls in lc.get_linestyles() if ls[1] is not None]
        assert len(dashed) == 2
        plain = plot_graph(GraphNetwork.from_matrix(W_SKIP, [0, 1], [5])).axes[0]
        assert "fixed edge" not in [t.get_text() for t in plain.get_legend().get_texts()]

    def test_matrix_marks_fixed_cells_in_the_run_order(self):
        from graphnet.lab.plots.matrix import plot_matrices

        net = skip_net()
        moved = operators.swap_nodes(net, 2, 4)        # H: same picture, same marks
        fig = plot_matrices([net, moved])
        for ax in fig.axes[:2]:
            marks = [c for c in ax.collections if c.get_gid() == "fixed"][0]
            assert sorted(map(tuple, marks.get_offsets().tolist())) == [(3.0, 1.0), (5.0, 0.0)]
        assert "fixed edge" in [t.get_text() for t in fig.legends[0].get_texts()]

    def test_evolution_legend(self):
        from graphnet.lab.plots.evolution import plot_evolution

        fig = plot_evolution([skip_net(), operators.threshold(skip_net(), 0.5)])
        assert "fixed edge" in [t.get_text() for t in fig.legends[0].get_texts()]


@pytest.mark.parametrize("seed", range(12))
def test_operator_rule_on_random_networks(seed):
    """Over random networks and masks: each operator's flags follow the rule of gate.py."""
    rng = np.random.default_rng(seed)
    mode = "recurrent" if seed % 2 else "feedforward"
    net = GraphNetwork.random(2, 4, 2, 0.5, seed, mode=mode)
    F = (net.matrix() != 0) & (rng.random((8, 8)) < 0.4)
    net = net.replace(fixed=F)
    W = net.matrix()
    a = float(np.median(np.abs(W[W != 0])))
    assert (operators.threshold(net, a).fixed_mask() == F & (np.abs(W) > a)).all()
    p = list(rng.permutation(8))
    assert (operators.permute_nodes(net, p).fixed_mask() == F[np.ix_(p, p)]).all()
    i, j = (int(v) for v in rng.choice(np.arange(2, 8), 2, replace=False))
    for op, moved in ((operators.add_scaled_column, None), (operators.add_scaled_row, None),
                      (operators.swap_columns, lambda M: M[:, [j if c == i else i if c == j
                                                               else c for c in range(8)]]),
                      (operators.swap_rows, lambda M: M[[j if r == i else i if r == j
                                                         else r for r in range(8)]])):
        args = (i, j) if moved else (i, j, 0.5)
        out = op(net, *args, repair=True)
        W1 = out.matrix()
        expected = (F if moved is None else moved(F)) & (W1 != 0)
        assert (out.fixed_mask() == expected).all(), op.__name__
        assert ((W1 != 0) | ~out.fixed_mask()).all()


def test_the_papers_residual_mlp_as_a_graph():
    """models.mlp_residual (core layers) and the same weights as a GraphNetwork whose
    residual runs through fixed weight-1 edges into identity sum nodes: the same outputs
    and the same weight gradients."""
    n_in, m, k = 6, 5, 3
    core = mlp_residual(n_in, m, k, seed=0)
    d1, d2, d3 = core.layers[0], core.layers[1].layer, core.layers[2]
    for layer in (d1, d2, d3):                     # non-zero biases, so every term counts
        layer.params["b"][:] = np.random.default_rng(len(layer.params["b"])).normal(
            size=layer.params["b"].shape)
    x, h1, r, s = np.arange(n_in), n_in + np.arange(m), n_in + m + np.arange(m), \
        n_in + 2 * m + np.arange(m)
    y = n_in + 3 * m + np.arange(k)
    n = n_in + 3 * m + k
    W = np.zeros((n, n))
    W[np.ix_(x, h1)], W[np.ix_(h1, r)], W[np.ix_(s, y)] = (d.params["W"] for d in (d1, d2, d3))
    W[r, s] = W[h1, s] = 1.0                       # s = r + h1
    acts = ["identity"] * n_in + ["relu"] * (2 * m) + ["identity"] * (m + k)
    b = np.concatenate([np.zeros(n_in), d1.params["b"], d2.params["b"], np.zeros(m),
                        d3.params["b"]])
    F = np.zeros((n, n), dtype=bool)
    F[:, s] = W[:, s] != 0                         # every edge into a sum node
    net = GraphNetwork.from_matrix(W, list(x), list(y), biases=b, activation=acts,
                                   output_activation=acts, fixed=F)
    assert net.n_fixed == 2 * m
    assert net.n_params == core.n_params + m       # + the sum nodes' biases
    model = graph_model(net)
    X = np.random.default_rng(1).normal(size=(8, n_in))
    t = np.arange(8) % k
    np.testing.assert_allclose(model.forward(X), core.forward(X), rtol=1e-12, atol=1e-15)
    model.loss_and_backward(X, t, "cross_entropy")
    core.loss_and_backward(X, t, "cross_entropy")
    layer = model.layers[0]
    G = np.zeros((n, n))
    train = layer.plan.trainable
    G[layer.plan.edge_src[train], layer.plan.edge_dst[train]] = layer.grads["w"]
    for (rows, cols), d in (((x, h1), d1), ((h1, r), d2), ((s, y), d3)):
        np.testing.assert_allclose(G[np.ix_(rows, cols)], d.grads["W"], rtol=1e-10, atol=1e-14)
