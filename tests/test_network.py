"""Tests for graphnet.graph.network: the GraphNetwork store, its invariants and files."""

from __future__ import annotations

import json
import os
import tempfile

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphnet.errors import CycleError, DataError, GraphError, InputError, InputTypeError
from graphnet.graph.generators import layered_blocks, seed_table
from graphnet.graph.network import GraphNetwork

SEED_TABLE = [
    [0, 1, 0, 0, 1],
    [1, 0, 1, 0, 0],
    [0, 0, 0, 1, 0],
    [0, 0, 0, 0, 0],
    [0, 0, 0, 1, 0],
]

random_args = st.tuples(
    st.integers(1, 4),  # n_inputs
    st.integers(0, 6),  # n_hidden
    st.integers(1, 3),  # n_outputs
    st.floats(0.01, 1.0),  # density
    st.integers(0, 2**32 - 1),  # seed
    st.sampled_from(["feedforward", "recurrent"]),
)


def _random(args):
    n_in, n_hid, n_out, density, seed, mode = args
    return GraphNetwork.random(n_in, n_hid, n_out, density, seed, mode=mode)


def _raw_graph(edges, roles, mode="feedforward", **node_attrs):
    """A DiGraph with nodes 0..len(roles)-1 and weighted edges (u, v, w)."""
    g = nx.DiGraph(mode=mode)
    for i, r in enumerate(roles):
        g.add_node(i, role=r, **{k: v[i] for k, v in node_attrs.items()})
    for u, v, w in edges:
        g.add_edge(u, v, weight=w)
    return g


def _ancestors_closure_ok(net):
    """Independent check: BFS over the dense matrix, no networkx."""
    W = net.matrix() != 0
    n = net.n_nodes
    reach = np.zeros(n, bool)
    reach[net.inputs] = True
    frontier = list(net.inputs)
    while frontier:
        i = frontier.pop()
        for j in np.flatnonzero(W[i]):
            if not reach[j]:
                reach[j] = True
                frontier.append(j)
    co = np.zeros(n, bool)
    co[net.outputs] = True
    frontier = list(net.outputs)
    while frontier:
        j = frontier.pop()
        for i in np.flatnonzero(W[:, j]):
            if not co[i]:
                co[i] = True
                frontier.append(i)
    return bool(reach.all()), bool(co.all())


# ---------------------------------------------------------------- from_matrix


class TestFromMatrix:
    def test_roles_names_defaults(self):
        W = np.zeros((5, 5))
        W[0, 2] = 0.5
        W[1, 2] = -1.5
        W[2, 4] = 2.0
        W[0, 3] = 1.0
        W[3, 4] = 3.0
        net = GraphNetwork.from_matrix(W, inputs=[0, 1], outputs=[4], biases=[0, 0, 0.1, 0.2, 0.3])
        assert net.roles == ("input", "input", "hidden", "hidden", "output")
        assert net.names == ("x0", "x1", "h0", "h1", "y0")
        assert net.activations == ("identity", "identity", "tanh", "tanh", "identity")
        assert net.mode == "feedforward"
        assert np.array_equal(net.matrix(), W)
        assert net.matrix().dtype == np.float64
        assert np.array_equal(net.biases(), [0, 0, 0.1, 0.2, 0.3])
        assert net.inputs.tolist() == [0, 1]
        assert net.hidden.tolist() == [2, 3]
        assert net.outputs.tolist() == [4]
        assert net.n_nodes == 5 and net.n_edges == 5
        assert net.n_params == 5 + 3
        assert net.edges() == [(0, 2, 0.5), (0, 3, 1.0), (1, 2, -1.5), (2, 4, 2.0), (3, 4, 3.0)]

    def test_default_names_follow_node_order_within_role(self):
        # roles interleaved: outputs 1 and 3, inputs 0 and 4, hidden 2
        W = np.zeros((5, 5))
        W[0, 2] = W[4, 2] = W[2, 1] = W[2, 3] = 1.0
        net = GraphNetwork.from_matrix(W, inputs=[4, 0], outputs=[3, 1])
        assert net.names == ("x0", "y0", "h0", "y1", "x1")
        assert net.inputs.tolist() == [0, 4]  # node order, not the order given
        assert net.outputs.tolist() == [1, 3]

    def test_per_node_activation_lists(self):
        W = np.zeros((4, 4))
        W[0, 1] = W[1, 2] = W[1, 3] = 1.0
        acts = ["relu", "sigmoid", "relu", "tanh"]
        net = GraphNetwork.from_matrix(W, [0], [2, 3], activation=acts, output_activation=acts)
        # entry 0 belongs to an input: ignored, stored identity
        assert net.activations == ("identity", "sigmoid", "relu", "tanh")
        # activation list is read at hidden positions only; outputs keep their own
        net2 = GraphNetwork.from_matrix(W, [0], [2, 3], activation=acts, output_activation="sigmoid")
        assert net2.activations == ("identity", "sigmoid", "sigmoid", "sigmoid")

    def test_custom_names_and_mode(self):
        W = [[0, 1.0], [0, 1.0]]
        net = GraphNetwork.from_matrix(W, [0], [1], mode="recurrent", names=["in", "out"])
        assert net.names == ("in", "out")
        assert net.cycles() == [[1]]

    def test_bool_and_int_matrices(self):
        net = GraphNetwork.from_matrix(np.array([[False, True], [False, False]]), [0], [1])
        assert net.edges() == [(0, 1, 1.0)]

    def test_input_does_not_alias_argument(self):
        W = np.array([[0, 1.0], [0, 0]])
        net = GraphNetwork.from_matrix(W, [0], [1])
        W[0, 1] = 7.0
        assert net.matrix()[0, 1] == 1.0

    def test_nan_entry_named(self):
        W = np.zeros((4, 4))
        W[2, 3] = np.nan
        with pytest.raises(GraphError, match=r"^W\[2, 3\] is nan$"):
            GraphNetwork.from_matrix(W, [0], [3])

    def test_inf_entry_named(self):
        W = np.zeros((3, 3))
        W[0, 1] = -np.inf
        with pytest.raises(GraphError, match=r"W\[0, 1\] is -inf"):
            GraphNetwork.from_matrix(W, [0], [2])

    @pytest.mark.parametrize("W", [np.zeros((2, 3)), np.zeros(4), np.zeros((2, 2, 2))])
    def test_non_square(self, W):
        with pytest.raises(GraphError, match="square matrix"):
            GraphNetwork.from_matrix(W, [0], [1])

    def test_ragged(self):
        with pytest.raises(GraphError, match="square matrix"):
            GraphNetwork.from_matrix([[0, 1], [0]], [0], [1])

    def test_non_numeric(self):
        with pytest.raises(InputTypeError, match="W: expected a real numeric matrix"):
            GraphNetwork.from_matrix([["a", "b"], ["c", "d"]], [0], [1])

    def test_edge_into_input(self):
        W = np.zeros((5, 5))
        W[0, 1] = W[1, 2] = 1.0
        W[4, 0] = 0.5
        with pytest.raises(GraphError, match=r"edge 4 -> 0 enters input node 0 \('x0'\)"):
            GraphNetwork.from_matrix(W, [0], [2])

    def test_no_inputs(self):
        with pytest.raises(GraphError, match="no input node"):
            GraphNetwork.from_matrix(np.zeros((2, 2)), [], [1])

    def test_no_outputs(self):
        with pytest.raises(GraphError, match="no output node"):
            GraphNetwork.from_matrix(np.zeros((2, 2)), [0], [])

    def test_overlap(self):
        with pytest.raises(GraphError, match="overlap at node 1"):
            GraphNetwork.from_matrix(np.zeros((3, 3)), [0, 1], [1, 2])

    def test_out_of_range(self):
        with pytest.raises(GraphError, match="outputs: node index 3 out of range for a network of 3"):
            GraphNetwork.from_matrix(np.zeros((3, 3)), [0], [3])
        with pytest.raises(GraphError, match="inputs: node index -1 out of range"):
            GraphNetwork.from_matrix(np.zeros((3, 3)), [-1], [2])

    def test_duplicate_index(self):
        with pytest.raises(GraphError, match="inputs: node 0 is listed twice"):
            GraphNetwork.from_matrix(np.zeros((3, 3)), [0, 0], [2])

    def test_index_types(self):
        with pytest.raises(InputTypeError, match="inputs: expected node indices"):
            GraphNetwork.from_matrix(np.zeros((3, 3)), [0.0], [2])
        with pytest.raises(InputTypeError, match="outputs: expected a sequence"):
            GraphNetwork.from_matrix(np.zeros((3, 3)), [0], 2)

    def test_unknown_activation(self):
        with pytest.raises(GraphError, match="activation: unknown activation 'softplus'"):
            GraphNetwork.from_matrix(np.zeros((3, 3)), [0], [2], activation="softplus")
        with pytest.raises(GraphError, match=r"output_activation\[1\]: unknown activation 'elu'"):
            GraphNetwork.from_matrix(
                np.zeros((3, 3)), [0], [2], output_activation=["tanh", "elu", "tanh"]
            )

    def test_wrong_lengths(self):
        Z = np.zeros((3, 3))
        with pytest.raises(GraphError, match=r"biases: expected 3 entries \(one per node\)"):
            GraphNetwork.from_matrix(Z, [0], [2], biases=[0, 0])
        with pytest.raises(GraphError, match=r"activation: expected 3 entries \(one per node\), got 2"):
            GraphNetwork.from_matrix(Z, [0], [2], activation=["tanh", "tanh"])
        with pytest.raises(GraphError, match=r"names: expected 3 entries \(one per node\), got 4"):
            GraphNetwork.from_matrix(Z, [0], [2], names=["a", "b", "c", "d"])

    def test_nonfinite_bias(self):
        with pytest.raises(GraphError, match=r"biases\[1\] is nan"):
            GraphNetwork.from_matrix(np.zeros((3, 3)), [0], [2], biases=[0, np.nan, 0])

    def test_input_bias_must_be_zero(self):
        with pytest.raises(GraphError, match=r"input node 0 \('x0'\) has bias 0.5"):
            GraphNetwork.from_matrix(np.zeros((3, 3)), [0], [2], biases=[0.5, 0, 0])

    def test_duplicate_names(self):
        with pytest.raises(GraphError, match=r"duplicate node name 'a' \(nodes 0 and 2\)"):
            GraphNetwork.from_matrix(np.zeros((3, 3)), [0], [2], names=["a", "b", "a"])

    def test_bad_name(self):
        with pytest.raises(GraphError, match="node 1: name must be a non-empty str, got 7"):
            GraphNetwork.from_matrix(np.zeros((3, 3)), [0], [2], names=["a", 7, "c"])

    def test_bad_mode(self):
        with pytest.raises(InputError, match="mode must be 'feedforward' or 'recurrent', got 'rnn'"):
            GraphNetwork.from_matrix(np.zeros((2, 2)), [0], [1], mode="rnn")

    def test_cycle_feedforward(self):
        W = np.zeros((4, 4))
        W[0, 1] = W[1, 2] = W[2, 3] = W[3, 1] = 1.0
        with pytest.raises(CycleError, match=r"feedforward network has a cycle 1 -> 2 -> 3 -> 1") as exc:
            GraphNetwork.from_matrix(W, [0], [3])
        assert exc.value.cycle == [(1, 2), (2, 3), (3, 1)]
        assert isinstance(exc.value, GraphError)
        # the same matrix is fine when recurrent
        assert GraphNetwork.from_matrix(W, [0], [3], mode="recurrent").cycles() == [[1, 2, 3]]

    def test_self_loop_is_a_cycle(self):
        W = np.array([[0, 1.0], [0, 2.0]])
        with pytest.raises(CycleError, match=r"cycle 1 -> 1") as exc:
            GraphNetwork.from_matrix(W, [0], [1])
        assert exc.value.cycle == [(1, 1)]


# ---------------------------------------------------------------- GraphNetwork(graph)


class TestFromGraph:
    def test_defaults_and_copy(self):
        g = _raw_graph([(0, 2, 1.0), (1, 2, -2.0), (2, 3, 0.5)], ["input", "input", "hidden", "output"])
        net = GraphNetwork(g)
        assert net.names == ("x0", "x1", "h0", "y0")
        assert net.activations == ("identity", "identity", "tanh", "identity")
        assert net.biases().tolist() == [0, 0, 0, 0]
        assert net.mode == "feedforward"
        g.add_edge(0, 3, weight=5.0)
        g.nodes[2]["bias"] = 9.0
        assert net.n_edges == 3 and net.biases()[2] == 0.0  # copied, not aliased
        assert GraphNetwork.from_graph(net.graph) == net

    def test_insertion_order_does_not_matter(self):
        g = nx.DiGraph(mode="feedforward")
        g.add_node(2, role="output", name="out")
        g.add_node(0, role="input", name="in")
        g.add_node(1, role="hidden", name="mid", bias=0.25, activation="relu")
        g.add_edge(1, 2, weight=2.0)
        g.add_edge(0, 1, weight=3.0)
        net = GraphNetwork(g)
        assert net.names == ("in", "mid", "out")
        assert net.matrix().tolist() == [[0, 3, 0], [0, 0, 2], [0, 0, 0]]
        assert list(net.graph.nodes) == [0, 1, 2]

    def test_numpy_labels_and_values_accepted(self):
        g = nx.DiGraph()
        g.add_node(np.int64(0), role="input")
        g.add_node(np.int64(1), role="output", bias=np.float32(0.5))
        g.add_edge(np.int64(0), np.int64(1), weight=np.float64(1.25))
        net = GraphNetwork(g)
        assert net.edges() == [(0, 1, 1.25)]
        assert all(type(v) is int for v in net.graph.nodes)
        assert type(net.graph.edges[0, 1]["weight"]) is float

    @pytest.mark.parametrize("labels", [[0, 2], [1, 2], ["a", "b"], [0.0, 1.0]])
    def test_labels_must_be_0_to_n_minus_1(self, labels):
        g = nx.DiGraph()
        g.add_node(labels[0], role="input")
        g.add_node(labels[1], role="output")
        with pytest.raises(GraphError, match=r"node labels must be the integers 0\.\.1"):
            GraphNetwork(g)

    def test_not_a_digraph(self):
        with pytest.raises(InputTypeError, match="expected a networkx.DiGraph, got Graph"):
            GraphNetwork(nx.Graph())
        with pytest.raises(InputTypeError, match="got ndarray"):
            GraphNetwork(np.zeros((2, 2)))

    def test_multigraph(self):
        g = nx.MultiDiGraph()
        g.add_node(0, role="input")
        g.add_node(1, role="output")
        with pytest.raises(GraphError, match="parallel edges"):
            GraphNetwork(g)

    def test_missing_and_unknown_role(self):
        g = _raw_graph([], ["input", "output"])
        del g.nodes[1]["role"]
        with pytest.raises(GraphError, match="node 1 has no 'role'"):
            GraphNetwork(g)
        g = _raw_graph([], ["input", "bias-node"])
        with pytest.raises(GraphError, match="node 1: unknown role 'bias-node'"):
            GraphNetwork(g)

    def test_unknown_activation(self):
        g = _raw_graph([(0, 1, 1.0)], ["input", "output"], activation=["identity", "gelu"])
        with pytest.raises(GraphError, match=r"node 1 \('y0'\): unknown activation 'gelu'"):
            GraphNetwork(g)

    def test_input_bias_stored_zero(self):
        g = _raw_graph([(0, 1, 1.0)], ["input", "output"], bias=[-0.0, -0.0])
        b = GraphNetwork(g).biases()
        assert not np.signbit(b[0])  # an input stores bias 0.0 exactly
        assert np.signbit(b[1])  # a non-input bias is kept bit for bit

    def test_input_activation_stored_identity(self):
        g = _raw_graph([(0, 1, 1.0)], ["input", "output"], activation=["relu", "sigmoid"])
        assert GraphNetwork(g).activations == ("identity", "sigmoid")

    def test_bad_mode(self):
        g = _raw_graph([(0, 1, 1.0)], ["input", "output"], mode="cyclic")
        with pytest.raises(GraphError, match="mode: expected 'feedforward' or 'recurrent', got 'cyclic'"):
            GraphNetwork(g)

    @pytest.mark.parametrize(
        "weight, message",
        [
            (0.0, r"edge 0 -> 1 has weight 0; absent edges are not stored"),
            (float("nan"), r"edge 0 -> 1: weight must be a finite real number, got nan"),
            (float("inf"), r"edge 0 -> 1: weight must be a finite real number, got inf"),
            ("1.0", r"edge 0 -> 1: weight must be a finite real number, got '1.0'"),
            (True, r"edge 0 -> 1: weight must be a finite real number, got True"),
        ],
    )
    def test_bad_weights(self, weight, message):
        g = _raw_graph([(0, 1, weight)], ["input", "output"])
        with pytest.raises(GraphError, match=message):
            GraphNetwork(g)

    def test_missing_weight(self):
        g = _raw_graph([], ["input", "output"])
        g.add_edge(0, 1)
        with pytest.raises(GraphError, match="edge 0 -> 1 has no 'weight'"):
            GraphNetwork(g)

    def test_bad_bias(self):
        g = _raw_graph([(0, 1, 1.0)], ["input", "output"], bias=[0.0, float("inf")])
        with pytest.raises(GraphError, match=r"node 1 \('y0'\): bias must be a finite real number, got inf"):
            GraphNetwork(g)

    def test_edge_into_input(self):
        g = _raw_graph([(0, 1, 1.0), (1, 0, 1.0)], ["input", "output"], mode="recurrent")
        with pytest.raises(GraphError, match=r"edge 1 -> 0 enters input node 0 \('x0'\)"):
            GraphNetwork(g)

    def test_duplicate_names(self):
        g = _raw_graph([(0, 1, 1.0)], ["input", "output"], name=["n", "n"])
        with pytest.raises(GraphError, match="duplicate node name 'n'"):
            GraphNetwork(g)

    def test_cycle(self):
        g = _raw_graph([(0, 1, 1.0), (1, 2, 1.0), (2, 1, 1.0)], ["input", "hidden", "output"])
        with pytest.raises(CycleError, match=r"cycle 1 -> 2 -> 1") as exc:
            GraphNetwork(g)
        assert exc.value.cycle == [(1, 2), (2, 1)]


# ---------------------------------------------------------------- random


class TestRandom:
    @settings(max_examples=60, deadline=None)
    @given(random_args)
    def test_no_dead_nodes(self, args):
        net = _random(args)
        n_in, n_hid, n_out, _, _, mode = args
        assert net.n_nodes == n_in + n_hid + n_out
        assert net.roles == ("input",) * n_in + ("hidden",) * n_hid + ("output",) * n_out
        assert net.mode == mode
        assert net.unreachable().size == 0 and net.dead_ends().size == 0
        assert _ancestors_closure_ok(net) == (True, True)
        W = net.matrix()
        assert not W[:, :n_in].any()  # nothing enters an input
        assert np.all(net.biases() == 0)
        if mode == "feedforward":
            assert not np.tril(W).any()  # only i -> j with i < j: a DAG in node order
            assert nx.is_directed_acyclic_graph(net.graph)

    @settings(max_examples=40, deadline=None)
    @given(random_args)
    def test_same_seed_same_network(self, args):
        a, b = _random(args), _random(args)
        assert a == b
        assert a.matrix().tobytes() == b.matrix().tobytes()

    @settings(max_examples=40, deadline=None)
    @given(random_args)
    def test_different_seed_different_network(self, args):
        n_in, n_hid, n_out, density, seed, mode = args
        a = GraphNetwork.random(n_in, n_hid, n_out, density, seed, mode=mode)
        b = GraphNetwork.random(n_in, n_hid, n_out, density, seed + 1, mode=mode)
        assert a != b

    def test_generator_accepted_and_consumed(self):
        g = np.random.default_rng(3)
        a = GraphNetwork.random(2, 3, 1, 0.4, g)
        b = GraphNetwork.random(2, 3, 1, 0.4, g)
        assert a != b
        assert a == GraphNetwork.random(2, 3, 1, 0.4, np.random.default_rng(3))

    def test_density_one_is_complete_dag(self):
        net = GraphNetwork.random(2, 3, 2, 1.0, seed=0)
        n, k = 7, 2
        expected = np.triu(np.ones((n, n), bool), 1)
        expected[:, :k] = False
        assert np.array_equal(net.matrix() != 0, expected)

    def test_weight_scale(self):
        # in-weights of a node with fan_in k have std 1/sqrt(k): over many nodes the
        # standardised weights w * sqrt(k) have std close to 1
        net = GraphNetwork.random(20, 60, 20, 0.5, seed=0)
        W = net.matrix()
        fan_in = (W != 0).sum(axis=0)
        z = np.concatenate([W[W[:, j] != 0, j] * np.sqrt(fan_in[j]) for j in range(100) if fan_in[j]])
        assert z.size > 1000
        assert 0.9 < z.std() < 1.1
        assert abs(z.mean()) < 0.1

    def test_activations_passed(self):
        net = GraphNetwork.random(1, 2, 1, 0.5, 0, activation="relu", output_activation="sigmoid")
        assert net.activations == ("identity", "relu", "relu", "sigmoid")

    @pytest.mark.parametrize(
        "kwargs, exc, message",
        [
            ({"density": 0.0}, InputError, r"density: expected a number in \(0, 1\], got 0.0"),
            ({"density": 1.5}, InputError, "density: expected a number in"),
            ({"density": float("nan")}, InputError, "density: expected a number in"),
            ({"n_inputs": 0}, InputError, "n_inputs: expected an int >= 1, got 0"),
            ({"n_outputs": 0}, InputError, "n_outputs: expected an int >= 1, got 0"),
            ({"n_hidden": -1}, InputError, "n_hidden: expected an int >= 0, got -1"),
            ({"n_hidden": 2.0}, InputTypeError, "n_hidden: expected an int"),
            ({"seed": None}, InputTypeError, "seed: expected a non-negative int"),
            ({"mode": "loop"}, InputError, "mode must be"),
        ],
    )
    def test_argument_errors(self, kwargs, exc, message):
        args = {"n_inputs": 2, "n_hidden": 2, "n_outputs": 1, "density": 0.5, "seed": 0}
        mode = kwargs.pop("mode", "feedforward")
        args.update(kwargs)
        with pytest.raises(exc, match=message):
            GraphNetwork.random(**args, mode=mode)


# ---------------------------------------------------------------- layered


class TestLayered:
    def test_structure(self):
        sizes = [2, 4, 3, 2]
        net = GraphNetwork.layered(sizes, seed=0)
        assert net.n_nodes == 11
        assert net.n_edges == 2 * 4 + 4 * 3 + 3 * 2
        assert net.roles == ("input",) * 2 + ("hidden",) * 7 + ("output",) * 2
        assert net.names[:3] == ("x0", "x1", "h0") and net.names[-1] == "y1"
        assert net.depths().tolist() == [0, 0, 1, 1, 1, 1, 2, 2, 2, 3, 3]
        blocks = layered_blocks(net, sizes)
        assert [W.shape for W, _ in blocks] == [(2, 4), (4, 3), (3, 2)]
        assert [b.shape for _, b in blocks] == [(4,), (3,), (2,)]
        for k, (W, b) in enumerate(blocks):
            limit = np.sqrt(6 / (sizes[k] + sizes[k + 1]))
            assert np.all(W != 0) and np.all(np.abs(W) <= limit)
            assert np.all(b == 0)
        # the blocks tile W exactly: rebuild it
        R = np.zeros((11, 11))
        off = np.cumsum([0] + sizes)
        for k, (W, _) in enumerate(blocks):
            R[off[k] : off[k + 1], off[k + 1] : off[k + 2]] = W
        assert np.array_equal(R, net.matrix())

    def test_matches_sequential_draw(self):
        # one Generator, one uniform block per layer, in order
        rng = np.random.default_rng(5)
        expected = [rng.uniform(-np.sqrt(6 / 5), np.sqrt(6 / 5), size=(3, 2)),
                    rng.uniform(-np.sqrt(6 / 3), np.sqrt(6 / 3), size=(2, 1))]
        blocks = layered_blocks(GraphNetwork.layered([3, 2, 1], seed=5), [3, 2, 1])
        for (W, _), E in zip(blocks, expected):
            assert np.array_equal(W, E)

    def test_blocks_reflect_biases(self):
        net = GraphNetwork.layered([1, 2, 1], seed=0)
        net = net.replace(biases=[0, 0.1, 0.2, 0.3])
        (_, b0), (_, b1) = layered_blocks(net, [1, 2, 1])
        assert b0.tolist() == [0.1, 0.2] and b1.tolist() == [0.3]

    def test_blocks_are_copies(self):
        net = GraphNetwork.layered([1, 1], seed=0)
        W, b = layered_blocks(net, [1, 1])[0]
        W[0, 0] = 100.0
        assert net.matrix()[0, 1] != 100.0

    def test_blocks_errors(self):
        net = GraphNetwork.layered([2, 2, 1], seed=0)
        with pytest.raises(GraphError, match=r"sizes \[2, 2, 2\] add up to 6, but the network has 5"):
            layered_blocks(net, [2, 2, 2])
        with pytest.raises(GraphError, match="the inputs must be nodes 0..0"):
            layered_blocks(net, [1, 3, 1])
        skip = net.replace(W=net.matrix() + np.eye(5, k=4))  # adds edge 0 -> 4 (layer 0 -> 2)
        with pytest.raises(GraphError, match="edge 0 -> 4 goes from layer 0 to layer 2"):
            layered_blocks(skip, [2, 2, 1])
        with pytest.raises(InputTypeError):
            layered_blocks(net.matrix(), [2, 2, 1])

    @pytest.mark.parametrize("sizes", [[3], [2, 0, 1], [2, 1.5]])
    def test_bad_sizes(self, sizes):
        with pytest.raises(InputError, match="layered: "):
            GraphNetwork.layered(sizes, seed=0)


# ---------------------------------------------------------------- the seed's table


class TestSeedExample:
    def test_table(self):
        assert seed_table().tolist() == SEED_TABLE
        assert seed_table().dtype == np.int64

    def test_network(self):
        net = GraphNetwork.seed_example()
        W = net.matrix()
        assert np.array_equal(W[:5, :5], np.array(SEED_TABLE, dtype=float))
        assert W[5].tolist() == [1.0, 0, 0, 0, 0, 0]
        assert not W[:, 5].any()
        assert net.mode == "recurrent"
        assert net.names == ("s0", "s1", "s2", "s3", "s4", "x0")
        assert net.roles == ("hidden", "hidden", "hidden", "output", "hidden", "input")
        assert net.outputs.tolist() == [3] and net.inputs.tolist() == [5]
        assert net.sinks().tolist() == [3]
        assert net.cycles() == [[0, 1]]
        assert net.unreachable().size == 0 and net.dead_ends().size == 0

    def test_feedforward_refused(self):
        with pytest.raises(CycleError, match=r"feedforward network has a cycle 0 -> 1 -> 0") as exc:
            GraphNetwork.seed_example(mode="feedforward")
        assert exc.value.cycle == [(0, 1), (1, 0)]

    def test_recurrent_depths_refused(self):
        with pytest.raises(GraphError, match="depths: only defined in feedforward mode"):
            GraphNetwork.seed_example().depths()
        with pytest.raises(GraphError, match="only defined in feedforward mode"):
            GraphNetwork.seed_example().levels()


# ---------------------------------------------------------------- views


def _hand_net():
    """Inputs 0, 1; hidden 2 (from 0), 3 (from 1, 2), 5 (no in-edge); output 4 (from 0, 3);
    hidden 6 gets an edge from 2 but leads nowhere."""
    W = np.zeros((7, 7))
    W[0, 2] = 1.0
    W[1, 3] = 2.0
    W[2, 3] = 3.0
    W[0, 4] = 4.0
    W[3, 4] = 5.0
    W[5, 4] = 6.0
    W[2, 6] = 7.0
    return GraphNetwork.from_matrix(W, inputs=[0, 1], outputs=[4])


class TestViews:
    def test_depths_and_levels(self):
        net = _hand_net()
        # 0,1 inputs: 0; 2: 1+d(0)=1; 3: 1+max(d1, d2)=2; 5: no preds -> 1;
        # 4: 1+max(d0, d3, d5)=3; 6: 1+d2=2
        assert net.depths().tolist() == [0, 0, 1, 2, 3, 1, 2]
        assert [lv.tolist() for lv in net.levels()] == [[2, 5], [3, 6], [4]]

    def test_unreachable_dead_ends_sinks(self):
        net = _hand_net()
        assert net.unreachable().tolist() == [5]
        assert net.dead_ends().tolist() == [6]
        assert net.sinks().tolist() == [4, 6]
        s = net.summary()
        # hidden nodes 2, 3, 5, 6 are h0, h1, h2, h3
        assert "unreachable: 5 ('h2')" in s
        assert "dead ends: 6 ('h3')" in s
        assert "depth: 3" in s
        assert "cycles: none (feedforward)" in s
        assert "nodes: 7 (inputs 2, hidden 4, outputs 1)" in s

    def test_dead_input(self):
        W = np.zeros((3, 3))
        W[0, 2] = 1.0
        net = GraphNetwork.from_matrix(W, [0, 1], [2])
        assert net.dead_ends().tolist() == [1]
        assert net.unreachable().size == 0

    def test_cycles_limit_and_order(self):
        W = np.zeros((4, 4))
        W[0, 1] = 1.0
        W[1, 2] = W[2, 1] = 1.0  # 2-cycle
        W[3, 3] = 1.0  # self-loop
        W[1, 3] = W[3, 1] = 1.0  # another 2-cycle
        W[2, 3] = 1.0  # 1 -> 2 -> 3 -> 1
        net = GraphNetwork.from_matrix(W, [0], [3], mode="recurrent")
        assert net.cycles() == [[3], [1, 2], [1, 3], [1, 2, 3]]
        assert len(net.cycles(limit=2)) == 2
        assert net.cycles(limit=0) == []
        with pytest.raises(InputError, match="limit must be >= 0"):
            net.cycles(limit=-1)
        assert "cycles: 4: [3], [1, 2], [1, 3], [1, 2, 3]" in net.summary()

    def test_arrays_are_copies(self):
        net = _hand_net()
        before = net.matrix()
        for arr in (net.matrix(), net.biases(), net.inputs, net.outputs, net.hidden, net.depths()):
            arr[...] = 99
        assert np.array_equal(net.matrix(), before)
        assert net.biases().tolist() == [0.0] * 7
        assert net.inputs.tolist() == [0, 1] and net.outputs.tolist() == [4]
        assert net.depths().tolist() == [0, 0, 1, 2, 3, 1, 2]

    def test_graph_is_read_only(self):
        net = _hand_net()
        g = net.graph
        with pytest.raises(nx.NetworkXError):
            g.add_edge(4, 0, weight=1.0)
        g.nodes[2]["bias"] = 5.0  # a frozen copy: its attribute dicts are its own
        g.edges[0, 2]["weight"] = 5.0
        assert net.biases()[2] == 0.0 and net.matrix()[0, 2] == 1.0
        assert net.graph.edges[0, 2]["weight"] == 1.0

    def test_repr_eq_hash(self):
        a = _hand_net()
        b = _hand_net()
        assert repr(a) == "GraphNetwork(mode='feedforward', inputs=2, hidden=4, outputs=1, edges=7)"
        assert a == b and hash(a) == hash(b)
        assert a != a.replace(biases=[0, 0, 0, 0, 1e-12, 0, 0])
        assert a != a.replace(names=["a", "b", "c", "d", "e", "f", "g"])
        assert a != a.replace(activations=["identity"] * 7)
        assert a != a.replace(mode="recurrent")
        W = a.matrix()
        W[0, 2] = np.nextafter(1.0, 2.0)  # one ulp
        assert a != a.replace(W=W)
        assert a != "not a network"
        assert {a, b} == {a}


# ---------------------------------------------------------------- derivation


class TestDerivation:
    def test_replace_permutation(self):
        net = GraphNetwork.random(2, 3, 2, 0.6, seed=4).replace(biases=[0, 0, 0.1, 0.2, 0.3, 0.4, 0.5])
        rng = np.random.default_rng(0)
        p = rng.permutation(net.n_nodes)
        moved = net.replace(
            W=net.matrix()[np.ix_(p, p)],
            biases=net.biases()[p],
            roles=[net.roles[i] for i in p],
            activations=[net.activations[i] for i in p],
            names=[net.names[i] for i in p],
            mode="recurrent",  # a permutation may break the node-order topological sort
        )
        P = np.eye(net.n_nodes)[p]
        assert np.allclose(moved.matrix(), P @ net.matrix() @ P.T)
        for k, i in enumerate(p):
            assert moved.names[k] == net.names[i]
            assert moved.roles[k] == net.roles[i]
        # still acyclic: relabelling nodes keeps the cycle structure
        assert moved.cycles() == []
        # undo the permutation
        inv = np.argsort(p)
        back = moved.replace(
            W=moved.matrix()[np.ix_(inv, inv)], biases=moved.biases()[inv],
            roles=[moved.roles[i] for i in inv], activations=[moved.activations[i] for i in inv],
            names=[moved.names[i] for i in inv], mode="feedforward",
        )
        assert back == net

    def test_replace_errors_leave_original(self):
        net = _hand_net()
        before = (net.matrix(), net.biases(), net.names)
        W = net.matrix()
        W[4, 0] = 1.0
        with pytest.raises(GraphError, match="edge 4 -> 0 enters input node 0"):
            net.replace(W=W)
        W = net.matrix()
        W[4, 2] = 1.0  # 2 -> 3 -> 4 -> 2
        with pytest.raises(CycleError, match="cycle 2 -> 3 -> 4 -> 2"):
            net.replace(W=W)
        with pytest.raises(GraphError, match="roles: expected 7 entries"):
            net.replace(roles=["input", "output"])
        with pytest.raises(GraphError, match="roles: expected 8 entries"):
            net.replace(W=np.zeros((8, 8)))
        assert np.array_equal(net.matrix(), before[0])
        assert np.array_equal(net.biases(), before[1])
        assert net.names == before[2]

    def test_replace_resize(self):
        net = GraphNetwork.layered([1, 1], seed=0)
        W = np.zeros((3, 3))
        W[0, 2] = W[2, 1] = 1.0
        big = net.replace(W=W, biases=[0, 0, 0], roles=["input", "output", "hidden"],
                          activations=["identity", "identity", "relu"], names=["x0", "y0", "h0"])
        assert big.n_nodes == 3 and big.depths().tolist() == [0, 2, 1]

    def test_with_params_updates_and_drops(self):
        net = _hand_net()
        W = net.matrix() * 0.5
        W[2, 6] = 0.0  # trained to exactly zero: the edge goes
        b = np.arange(7, dtype=float)
        b[:2] = 0.0
        new = net.with_params(W, b)
        assert new.n_edges == net.n_edges - 1
        assert not new.graph.has_edge(2, 6)
        assert np.array_equal(new.matrix(), W)
        assert np.array_equal(new.biases(), b)
        assert net.n_edges == 7 and net.graph.has_edge(2, 6)  # original untouched

    def test_with_params_refuses_new_edge(self):
        net = _hand_net()
        W = net.matrix()
        W[3, 6] = 0.1
        W[5, 6] = 0.2
        with pytest.raises(GraphError, match=r"W\[3, 6\] = 0.1 but there is no edge 3 -> 6"):
            net.with_params(W, net.biases())

    def test_with_params_input_bias_and_shapes(self):
        net = _hand_net()
        b = net.biases()
        b[1] = 0.5
        with pytest.raises(GraphError, match=r"b\[1\] = 0.5 but node 1 \('x1'\) is an input"):
            net.with_params(net.matrix(), b)
        with pytest.raises(GraphError, match=r"W must have shape \(7, 7\), got \(6, 6\)"):
            net.with_params(np.zeros((6, 6)), net.biases())
        with pytest.raises(GraphError, match=r"b: expected 7 entries"):
            net.with_params(net.matrix(), np.zeros(6))
        W = net.matrix()
        W[0, 2] = np.nan
        with pytest.raises(GraphError, match=r"W\[0, 2\] is nan"):
            net.with_params(W, net.biases())

    def test_copy(self):
        net = _hand_net()
        other = net.copy()
        assert other == net and other is not net
        # through the public view: the same nodes, edges and attributes, graph data included
        assert nx.utils.graphs_equal(other.graph, net.graph)


# ---------------------------------------------------------------- serialisation


def _decorate(net, seed):
    """Give a network awkward biases, mixed activations and non-default names."""
    rng = np.random.default_rng(seed)
    n = net.n_nodes
    b = rng.normal(size=n) * 10.0 ** rng.integers(-300, 300, size=n)
    b[net.inputs] = 0.0
    acts = [["tanh", "sigmoid", "relu", "identity"][k] for k in rng.integers(0, 4, size=n)]
    names = [f"nœud {i} «{r}»" if i % 2 else str(100 - i) for i, r in enumerate(net.roles)]
    W = net.matrix()
    W[W != 0] *= 10.0 ** rng.integers(-200, 200, size=int((W != 0).sum()))
    return net.replace(W=W, biases=b, activations=acts, names=names)


class TestSerialisation:
    @settings(max_examples=30, deadline=None)
    @given(random_args, st.integers(0, 1000))
    def test_round_trips_exact(self, args, seed):
        net = _decorate(_random(args), seed)
        data = net.to_node_link()
        back = GraphNetwork.from_node_link(data)
        assert back == net
        assert back.matrix().tobytes() == net.matrix().tobytes()
        assert back.biases().tobytes() == net.biases().tobytes()
        # through JSON text as well
        assert GraphNetwork.from_node_link(json.loads(json.dumps(data))) == net
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "net.json")
            assert net.to_node_link(p) == data
            assert GraphNetwork.from_node_link(p) == net
            q = os.path.join(d, "net.graphml")
            net.to_graphml(q)
            back = GraphNetwork.from_graphml(q)
            assert back == net
            assert back.matrix().tobytes() == net.matrix().tobytes()
            assert back.biases().tobytes() == net.biases().tobytes()
            assert sorted(os.listdir(d)) == ["net.graphml", "net.json"]  # no temp files left

    def test_negative_zero_bias_survives(self):
        net = GraphNetwork.from_matrix([[0, 1.0], [0, 0]], [0], [1], biases=[0, -0.0])
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "n.graphml")
            net.to_graphml(p)
            assert np.signbit(GraphNetwork.from_graphml(p).biases()[1])
            q = os.path.join(d, "n.json")
            net.to_node_link(q)
            assert np.signbit(GraphNetwork.from_node_link(q).biases()[1])

    def test_node_link_overwrite_is_atomic(self, tmp_path, monkeypatch):
        p = tmp_path / "net.json"
        a = GraphNetwork.seed_example()
        a.to_node_link(p)
        good = p.read_text()

        def boom(*args, **kwargs):
            raise OSError("disk full")

        monkeypatch.setattr(os, "replace", boom)
        with pytest.raises(OSError, match="disk full"):
            GraphNetwork.layered([2, 2], seed=0).to_node_link(p)
        assert p.read_text() == good  # the old file is intact
        assert [f.name for f in tmp_path.iterdir()] == ["net.json"]  # temp removed

    def test_node_link_is_networkx_compatible(self):
        net = GraphNetwork.seed_example()
        g = nx.node_link_graph(net.to_node_link(), edges="links")
        assert GraphNetwork(g) == net

    @pytest.mark.parametrize(
        "mutate, message",
        [
            (lambda d: d.update(format="networkx"), "'format' must be 'graphnet.node_link', got 'networkx'"),
            (lambda d: d.pop("format"), "'format' must be 'graphnet.node_link', got None"),
            (lambda d: d.update(version=2), "unsupported version 2"),
            (lambda d: d.pop("nodes"), "'nodes' missing or not a list"),
            (lambda d: d["graph"].pop("mode"), "'graph' has no 'mode'"),
            (lambda d: d["nodes"][1].pop("bias"), r"nodes\[1\] has no 'bias'"),
            (lambda d: d["nodes"][1].update(id="1"), r"nodes\[1\] has id '1'; expected an int"),
            (lambda d: d["nodes"][2].update(id=1), "node id 1 appears twice"),
            (lambda d: d["links"][0].pop("weight"), r"links\[0\] has no 'weight'"),
            (lambda d: d["links"][0].update(target=9), r"links\[0\] refers to node 9"),
            (lambda d: d["links"].append(dict(d["links"][0])), "link 0 -> 1 appears twice"),
        ],
    )
    def test_node_link_data_errors(self, mutate, message):
        data = GraphNetwork.seed_example().to_node_link()
        mutate(data)
        with pytest.raises(DataError, match=message):
            GraphNetwork.from_node_link(data)

    def test_node_link_invalid_network(self):
        data = GraphNetwork.seed_example().to_node_link()
        data["links"].append({"source": 0, "target": 5, "weight": 1.0})
        with pytest.raises(GraphError, match=r"edge 0 -> 5 enters input node 5 \('x0'\)"):
            GraphNetwork.from_node_link(data)
        data = GraphNetwork.seed_example().to_node_link()
        data["graph"]["mode"] = "feedforward"
        with pytest.raises(CycleError, match="0 -> 1 -> 0"):
            GraphNetwork.from_node_link(data)
        data = GraphNetwork.seed_example().to_node_link()
        for node in data["nodes"]:  # ids 1..6 instead of 0..5
            node["id"] += 1
        for link in data["links"]:
            link["source"] += 1
            link["target"] += 1
        with pytest.raises(GraphError, match=r"node labels must be the integers 0\.\.5; got \[6\]"):
            GraphNetwork.from_node_link(data)
        data = GraphNetwork.seed_example().to_node_link()
        data["nodes"][0]["id"] = 7  # links still name node 0
        with pytest.raises(DataError, match=r"links\[0\] refers to node 0, which is not listed"):
            GraphNetwork.from_node_link(data)

    def test_node_link_file_errors(self, tmp_path):
        p = tmp_path / "bad.json"
        p.write_text("{not json")
        with pytest.raises(DataError, match="not valid JSON"):
            GraphNetwork.from_node_link(p)
        p.write_text("[1, 2]")
        with pytest.raises(DataError, match="expected a JSON object, got list"):
            GraphNetwork.from_node_link(str(p))
        with pytest.raises(FileNotFoundError):
            GraphNetwork.from_node_link(tmp_path / "missing.json")
        with pytest.raises(InputTypeError, match="expected a dict or a path"):
            GraphNetwork.from_node_link(42)

    def test_graphml_errors(self, tmp_path):
        p = tmp_path / "bad.graphml"
        p.write_text("<graphml><graph")
        with pytest.raises(DataError, match="not a readable GraphML file"):
            GraphNetwork.from_graphml(p)
        g = nx.DiGraph(mode="feedforward")
        g.add_node("a", role="input", bias=0.0, activation="identity", name="a")
        g.add_node("b", role="output", bias=0.0, activation="identity", name="b")
        g.add_edge("a", "b", weight=1.0)
        nx.write_graphml(g, p)
        with pytest.raises(GraphError, match="GraphML node id 'a' is not a node index"):
            GraphNetwork.from_graphml(p)
        g = nx.relabel_nodes(g, {"a": 0, "b": 2})
        nx.write_graphml(g, p)
        with pytest.raises(GraphError, match="node labels must be the integers 0..1"):
            GraphNetwork.from_graphml(p)
        g = nx.relabel_nodes(g, {2: 1})
        del g.nodes[1]["name"]
        nx.write_graphml(g, p)
        with pytest.raises(DataError, match="node 1 has no 'name'"):
            GraphNetwork.from_graphml(p)
        g.nodes[1]["name"] = "b"
        g.graph["format"] = "something-else"
        nx.write_graphml(g, p)
        with pytest.raises(DataError, match="'format' must be 'graphnet.graphml'"):
            GraphNetwork.from_graphml(p)
        g.graph["format"] = "graphnet.graphml"
        nx.write_graphml(g, p)
        assert GraphNetwork.from_graphml(p).edges() == [(0, 1, 1.0)]
        nx.write_graphml(nx.Graph(g), p)
        with pytest.raises(DataError, match="expected a directed graph"):
            GraphNetwork.from_graphml(p)
        with pytest.raises(FileNotFoundError):
            GraphNetwork.from_graphml(tmp_path / "missing.graphml")


class TestGraphLevelFunctions:
    """The class's constructors, analysis and file methods are the graph-level functions."""

    def test_constructors_are_the_generators(self):
        from graphnet.graph import generators

        W = [[0, 0, 0.5], [0, 0, -1.0], [0, 0, 0]]
        assert GraphNetwork.from_matrix(W, [0, 1], [2]) == GraphNetwork(generators.from_matrix(W, [0, 1], [2]))
        for mode in ("feedforward", "recurrent"):
            assert GraphNetwork.random(2, 4, 2, 0.4, seed=3, mode=mode) == GraphNetwork(
                generators.random(2, 4, 2, 0.4, seed=3, mode=mode)
            )
        assert GraphNetwork.layered([3, 4, 2], seed=1) == GraphNetwork(generators.layered([3, 4, 2], seed=1))
        assert GraphNetwork.seed_example() == GraphNetwork(generators.seed_example())
        with pytest.raises(CycleError, match="0 -> 1 -> 0"):
            GraphNetwork(generators.seed_example(mode="feedforward"))

    @given(random_args)
    @settings(max_examples=15, deadline=None)
    def test_methods_are_the_analysis_functions(self, args):
        from graphnet.graph import analysis

        n_in, n_hid, n_out, density, seed, mode = args
        net = GraphNetwork.random(n_in, n_hid, n_out, density, seed=seed, mode=mode)
        g = net.graph
        for name in ("unreachable", "dead_ends", "sinks"):
            assert np.array_equal(getattr(net, name)(), getattr(analysis, name)(g))
        assert net.cycles(limit=5) == analysis.cycles(g, 5)
        assert net.summary() == analysis.summary(g)
        if mode == "feedforward":
            assert np.array_equal(net.depths(), analysis.depths(g))
            got = [lv.tolist() for lv in net.levels()]
            assert got == [lv.tolist() for lv in analysis.levels(analysis.depths(g))]

    def test_file_methods_are_the_formats(self, tmp_path):
        from graphnet.graph import formats

        net = GraphNetwork.random(2, 3, 2, 0.5, seed=5, mode="recurrent")
        assert net.to_node_link() == formats.to_node_link(net.graph)
        data = net.to_node_link()
        assert GraphNetwork.from_node_link(data) == GraphNetwork(formats.from_node_link(data)) == net
        net.to_graphml(tmp_path / "a.graphml")
        formats.to_graphml(net.graph, tmp_path / "b.graphml")
        assert (tmp_path / "a.graphml").read_bytes() == (tmp_path / "b.graphml").read_bytes()
        back = GraphNetwork(formats.from_graphml(tmp_path / "b.graphml"))
        assert GraphNetwork.from_graphml(tmp_path / "a.graphml") == back == net

    def test_graph_level_modules_sit_below_the_class(self):
        """generators, analysis, formats and _validate never import network.py (no circle)."""
        import ast
        import inspect

        from graphnet.graph import _validate, analysis, formats, generators

        for module in (_validate, analysis, formats, generators):
            tree = ast.parse(inspect.getsource(module))
            imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
            imported |= {f"{n.module}.{a.name}" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
                         for a in n.names}
            above = ("graphnet.graph.network", "graphnet.graph.io")
            assert not [m for m in imported if m.startswith(above)], module.__name__
