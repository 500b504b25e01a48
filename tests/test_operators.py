"""Tests for graphnet.graph.operators: the seed's operators A-N, the extras, the registry.

The references are written here independently: plain numpy indexing for every matrix
operator, a small numpy forward pass for function preservation, networkx for
acyclicity. The exact algebra is checked through graphnet.graph.exact.check_contract.
"""

from __future__ import annotations

import json
import math

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphnet.errors import InputError, InputTypeError, OperatorError
from graphnet.graph import extras
from graphnet.graph import operators as ops
from graphnet.graph.exact import check_contract
from graphnet.graph.contracts import CONTRACTS, LETTERS
from graphnet.graph.network import GraphNetwork
from graphnet.graph.extras import add_edge, prune_smallest, regrow, remove_node, split_edge
from graphnet.graph.operators import (
    add_scaled_column,
    add_scaled_row,
    assign,
    io_order,
    permute_nodes,
    swap_columns,
    swap_nodes,
    swap_rows,
    threshold,
)
from graphnet.graph.registry import OPERATORS, Applied, apply, apply_random, get_operator

from conftest import ACTIVATIONS, np_apply, per_node_forward

FAST = settings(max_examples=25, deadline=None)
MATRIX_OPS = ("swap_columns", "add_scaled_column", "swap_rows", "add_scaled_row")

# ------------------------------------------------------------------ references


def snapshot(net: GraphNetwork) -> tuple:
    return (net.matrix(), net.biases(), net.roles, net.activations, net.names, net.mode)


def assert_unchanged(net: GraphNetwork, snap: tuple) -> None:
    W, b, roles, acts, names, mode = snap
    np.testing.assert_array_equal(net.matrix(), W)
    np.testing.assert_array_equal(net.biases(), b)
    assert (net.roles, net.activations, net.names, net.mode) == (roles, acts, names, mode)


def is_acyclic(net: GraphNetwork) -> bool:
    g = nx.DiGraph()
    g.add_nodes_from(range(net.n_nodes))
    g.add_edges_from((u, v) for u, v, _ in net.edges())
    return nx.is_directed_acyclic_graph(g)


# ------------------------------------------------------------------ strategies


@st.composite
def networks(draw, mode=None, integer=True):
    """Small random networks; integer weights (exact arithmetic) and random biases and
    activations."""
    mode = draw(st.sampled_from(["feedforward", "recurrent"])) if mode is None else mode
    n_in, n_hid, n_out = draw(st.integers(1, 3)), draw(st.integers(0, 3)), draw(st.integers(1, 2))
    net = GraphNetwork.random(
        n_in, n_hid, n_out, draw(st.floats(0.1, 0.9)), draw(st.integers(0, 2**32 - 1)), mode=mode
    )
    n = net.n_nodes
    W = net.matrix()
    if integer:
        W = np.sign(W) * np.maximum(1.0, np.round(np.abs(W) * 3))
    b = np.array(draw(st.lists(st.integers(-4, 4), min_size=n, max_size=n)), float) / 4
    b[net.inputs] = 0.0
    acts = draw(st.lists(st.sampled_from(sorted(ACTIVATIONS)), min_size=n, max_size=n))
    return net.replace(W=W, biases=b, activations=acts)


scales = st.sampled_from([-3.0, -2.0, -1.0, -0.5, 0.5, 1.0, 2.0, 3.0])


def matrix_args(draw, net, name, legal_only):
    """Arguments for a B/C/D/F operator; legal_only avoids edges into inputs (recurrent)."""
    n = net.n_nodes
    non_input = [v for v in range(n) if net.roles[v] != "input"]
    if name == "swap_columns" and legal_only:  # two non-input columns
        if len(non_input) < 2:
            return None
        i = draw(st.sampled_from(non_input))
        j = draw(st.sampled_from([v for v in non_input if v != i]))
        return {"i": i, "j": j}
    i = draw(st.integers(0, n - 1))
    j = draw(st.integers(0, n - 1).filter(lambda x: x != i))
    if name == "add_scaled_column" and legal_only:
        j = draw(st.sampled_from(non_input))
        i = draw(st.sampled_from([v for v in range(n) if v != j]))
    if name.startswith("add"):
        return {"src": i, "dst": j, "k": draw(scales)}
    return {"i": i, "j": j}


# ---------------------------------------------------------- contracts B C D F H


@FAST
@given(st.data())
def test_matrix_contracts_on_recurrent_networks(data):
    net = data.draw(networks(mode="recurrent"))
    name = data.draw(st.sampled_from(MATRIX_OPS))
    args = matrix_args(data.draw, net, name, legal_only=True)
    if args is None:
        return
    snap = snapshot(net)
    new = getattr(ops, name)(net, **args)
    expected = np_apply(name, net.matrix(), args)
    np.testing.assert_array_equal(new.matrix(), expected)
    result = check_contract(name, net, new)
    assert all(c.ok for c in result.values()), result
    assert result["rank"].observed[0] == result["rank"].observed[1]
    # det(W) = 0 for every network: the columns of the input nodes are zero
    assert result["det"].observed == (0, 0)
    assert_unchanged(net, snap)
    np.testing.assert_array_equal(new.biases(), net.biases())
    assert new.names == net.names and new.roles == net.roles


@FAST
@given(st.data())
def test_matrix_operators_feedforward_refuse_or_repair(data):
    net = data.draw(networks(mode="feedforward"))
    name = data.draw(st.sampled_from(MATRIX_OPS))
    args = matrix_args(data.draw, net, name, legal_only=False)
    snap = snapshot(net)
    W0 = net.matrix()
    raw = np_apply(name, W0, args)
    new, rec = apply(net, name, repair=True, **args)
    dropped = [(u, v) for u, v, _ in rec.dropped_edges]
    # repair drops exactly the reported edges, with the weights the operation gave them
    expected = raw.copy()
    for u, v, w in rec.dropped_edges:
        assert raw[u, v] == w != 0
        expected[u, v] = 0
    np.testing.assert_array_equal(new.matrix(), expected)
    assert is_acyclic(new)
    assert not new.matrix()[:, new.inputs].any()
    # only edges the operation created are dropped, and the set is minimal
    for u, v in dropped:
        assert W0[u, v] == 0
        if net.roles[v] != "input":
            W_back = new.matrix()
            W_back[u, v] = raw[u, v]
            g = nx.DiGraph(W_back != 0)
            assert not nx.is_directed_acyclic_graph(g), (u, v)
    assert rec.edges_before == net.n_edges and rec.edges_after == new.n_edges
    # without repair: refused exactly when something had to be dropped
    if dropped:
        with pytest.raises(OperatorError, match=rf"^{name}: result (has an edge|creates the cycle)") as exc:
            getattr(ops, name)(net, **args)
        assert exc.value.edges == dropped
    else:
        assert getattr(ops, name)(net, **args) == new
        result = check_contract(name, net, new)
        assert all(c.ok for c in result.values()), result
        assert result["nilpotent"].ok
    assert_unchanged(net, snap)


@FAST
@given(networks(), st.data())
def test_permutation_contract_and_convention(net, data):
    n = net.n_nodes
    perm = data.draw(st.permutations(range(n)))
    snap = snapshot(net)
    new = permute_nodes(net, perm)
    np.testing.assert_array_equal(new.matrix(), np_apply("permute_nodes", net.matrix(), {"perm": perm}))
    for a in range(n):  # new node a is old node perm[a], attributes moving along
        p = perm[a]
        assert (new.roles[a], new.names[a], new.activations[a]) == (
            net.roles[p], net.names[p], net.activations[p])
        assert new.biases()[a] == net.biases()[p]
    result = check_contract("permute_nodes", net, new)
    assert all(c.ok for c in result.values()), result
    assert result["spectrum"].observed[0] == result["spectrum"].observed[1]
    assert new.mode == net.mode and new.n_edges == net.n_edges
    assert_unchanged(net, snap)


@FAST
@given(networks(), st.data())
def test_swap_nodes_is_a_transposition(net, data):
    n = net.n_nodes
    i, j = data.draw(st.integers(0, n - 1)), data.draw(st.integers(0, n - 1))
    new = swap_nodes(net, i, j)
    np.testing.assert_array_equal(new.matrix(), np_apply("swap_nodes", net.matrix(), {"i": i, "j": j}))
    p = list(range(n))
    p[i], p[j] = p[j], p[i]
    assert new == permute_nodes(net, p)
    assert all(c.ok for c in check_contract("swap_nodes", net, new).values())
    if i == j:
        assert new == net


@FAST
@given(networks(integer=False), st.data())
def test_permutation_keeps_the_function(net, data):
    perm = data.draw(st.permutations(range(net.n_nodes)))
    X = np.random.default_rng(data.draw(st.integers(0, 99))).normal(size=(7, net.n_inputs))
    new = permute_nodes(net, perm)
    order = io_order(net, perm)
    assert sorted(order.inputs) == list(range(net.n_inputs))
    assert sorted(order.outputs) == list(range(net.n_outputs))
    np.testing.assert_allclose(
        per_node_forward(new, X[:, order.inputs], steps=4),
        per_node_forward(net, X, steps=4)[:, order.outputs], rtol=1e-12, atol=1e-12
    )
    keeps = [x for x in perm if net.roles[x] == "input"] == list(net.inputs) and [
        x for x in perm if net.roles[x] == "output"] == list(net.outputs)
    identity = (order.inputs == np.arange(net.n_inputs)).all() and (
        order.outputs == np.arange(net.n_outputs)).all()
    assert keeps == identity
    if keeps:
        np.testing.assert_allclose(per_node_forward(new, X, steps=4),
                                   per_node_forward(net, X, steps=4), rtol=1e-12, atol=1e-12)


def test_permuting_inputs_reorders_data_columns():
    # y = tanh(2 x0 - x1): swapping the two input nodes swaps which data column feeds which
    W = np.zeros((3, 3))
    W[0, 2], W[1, 2] = 2.0, -1.0
    net = GraphNetwork.from_matrix(W, [0, 1], [2], output_activation="tanh")
    new = permute_nodes(net, [1, 0, 2])
    X = np.array([[1.0, 0.0], [0.5, -2.0]])
    assert io_order(net, [1, 0, 2]).inputs.tolist() == [1, 0]
    assert not np.allclose(per_node_forward(new, X, steps=4), per_node_forward(net, X, steps=4))
    np.testing.assert_allclose(per_node_forward(new, X[:, [1, 0]], steps=4),
                               per_node_forward(net, X, steps=4))
    np.testing.assert_allclose(per_node_forward(new, X[:, [1, 0]], steps=4),
                               np.tanh(2 * X[:, :1] - X[:, 1:]))


# ---------------------------------------------------------------- A and N


@FAST
@given(networks(integer=False), st.floats(0.0, 1.5))
def test_threshold_matches_reference(net, a):
    snap = snapshot(net)
    new = threshold(net, a)
    np.testing.assert_array_equal(new.matrix(), np_apply("threshold", net.matrix(), {"a": a}))
    assert all(abs(w) > a for _, _, w in new.edges())
    assert all(c.ok for c in check_contract("threshold", net, new).values())
    assert_unchanged(net, snap)


def test_threshold_boundary_is_removed():
    net = GraphNetwork.from_matrix([[0, 0.5, -0.5], [0, 0, 1.0], [0, 0, 0]], [0], [2])
    assert threshold(net, 0.5).edges() == [(1, 2, 1.0)]
    assert threshold(net, 0.0) == net


@FAST
@given(networks(), st.data())
def test_assign_matches_reference_or_is_refused(net, data):
    n = net.n_nodes
    i, j = data.draw(st.integers(0, n - 1)), data.draw(st.integers(0, n - 1))
    value = data.draw(st.sampled_from([0.0, -2.0, 1.5, 3.0]))
    snap = snapshot(net)
    raw = np_apply("assign", net.matrix(), {"i": i, "j": j, "value": value})
    into_input = value != 0 and net.roles[j] == "input"
    cycle = (
        value != 0 and net.mode == "feedforward" and net.matrix()[i, j] == 0
        and (i == j or nx.has_path(nx.DiGraph(net.matrix() != 0), j, i))
    )
    if into_input or cycle:
        with pytest.raises(OperatorError, match="into input node" if into_input else "creates the cycle"):
            assign(net, i, j, value)
        new, rec = apply(net, "N", repair=True, i=i, j=j, value=value)
        assert new == net and rec.dropped_edges == ((i, j, value),)
    else:
        new = assign(net, i, j, value)
        np.testing.assert_array_equal(new.matrix(), raw)
        assert all(c.ok for c in check_contract("assign", net, new).values())
    assert_unchanged(net, snap)


# ---------------------------------------------------------------- worked cases


def five():
    """inputs 0, 1; hidden 2, 3; output 4; edges 0->2, 1->3, 2->3, 2->4, 3->4."""
    W = np.zeros((5, 5))
    W[0, 2], W[1, 3], W[2, 3], W[2, 4], W[3, 4] = 1.0, 2.0, 3.0, 4.0, 5.0
    return GraphNetwork.from_matrix(W, [0, 1], [4])


def test_add_scaled_row_cycle_message_and_repair():
    net = five()
    with pytest.raises(OperatorError, match=r"^add_scaled_row: result creates the cycle 4 -> 3 -> 4 "
                       r"in a feedforward network; repair=True would drop these 2 edges: "
                       r"4 -> 3, 4 -> 4$") as exc:
        add_scaled_row(net, 2, 4, 1.0)
    assert exc.value.edges == [(4, 3), (4, 4)]
    new, rec = apply(net, "F", src=2, dst=4, k=1.0, repair=True)
    assert rec.dropped_edges == ((4, 3, 3.0), (4, 4, 4.0))
    assert new == net  # every change was a forbidden edge
    # in recurrent mode the same move is fine
    rnet = net.replace(mode="recurrent")
    assert add_scaled_row(rnet, 2, 4, 1.0).edges()[-2:] == [(4, 3, 3.0), (4, 4, 4.0)]


def test_repair_keeps_edges_that_fit_in_row_major_order():
    # swap rows 2 and 3: row 2 gets 3's out-edge 2 -> 4 (kept), row 3 gets 3 -> 3 and 3 -> 4
    net = five()
    new, rec = apply(net, "D", i=2, j=3, repair=True)
    assert rec.dropped_edges == ((3, 3, 3.0),)
    assert new.edges() == [(0, 2, 1.0), (1, 3, 2.0), (2, 4, 5.0), (3, 4, 4.0)]


def test_edge_into_input_refused_in_both_modes():
    for mode in ("feedforward", "recurrent"):
        net = five().replace(mode=mode)
        with pytest.raises(OperatorError, match=r"assign: result has an edge 4 -> 0 into input "
                           r"node 0 \('x0'\); repair=True would drop it$") as exc:
            assign(net, 4, 0, 1.0)
        assert exc.value.edges == [(4, 0)]
        with pytest.raises(OperatorError, match="into input node 1") as exc:
            swap_columns(net, 1, 3)
        assert exc.value.edges == [(1, 1), (2, 1)]
        new, rec = apply(net, "B", i=1, j=3, repair=True)
        assert rec.dropped_edges == ((1, 1, 2.0), (2, 1, 3.0))
        assert new.matrix()[:, 3].tolist() == [0, 0, 0, 0, 0]  # 3 took 1's (empty) in-edges
    rnet = five().replace(mode="recurrent")
    assert assign(rnet, 4, 2, 1.0).cycles() == [[2, 4], [2, 3, 4]]  # cycles are fine there


def test_overflow_is_refused():
    # column 4 += 1e308 * column 3: 1 -> 4 gets 2e308 = inf (first in row-major order)
    with pytest.raises(OperatorError, match=r"non-finite weight W\[1, 4\] = inf \(overflow\)"):
        add_scaled_column(five(), 3, 4, 1e308)


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda n: swap_rows(n, 7, 0), InputError, r"^swap_rows: i: row 7 out of range for a 5x5 matrix$"),
        (lambda n: swap_columns(n, 0, -1), InputError, r"j: column -1 out of range for a 5x5 matrix"),
        (lambda n: swap_nodes(n, 5, 0), InputError, r"node 5 out of range for a network of 5 nodes"),
        (lambda n: add_scaled_row(n, 9, 0, 1.0), InputError, r"src: row 9 out of range"),
        (lambda n: assign(n, 0, 5, 1.0), InputError, r"j: column 5 out of range"),
        (lambda n: swap_rows(n, 1.0, 2), InputTypeError, r"expected an int row index, got float"),
        (lambda n: swap_columns(n, True, 2), InputTypeError, r"expected an int column index, got bool"),
        (lambda n: swap_rows(n, 1, 1), InputError, r"i and j are both 1.*would not negate det"),
        (lambda n: swap_columns(n, 3, 3), InputError, r"i and j are both 3"),
        (lambda n: add_scaled_row(n, 2, 2, 1.0), InputError, r"scales it by 1 \+ k and multiplies det"),
        (lambda n: add_scaled_column(n, 4, 4, 1.0), InputError, r"src and dst are both 4"),
        (lambda n: add_scaled_column(n, 0, 1, math.inf), InputError, r"k: expected a finite number, got inf"),
        (lambda n: add_scaled_row(n, 0, 1, "2"), InputTypeError, r"k: expected a finite real number"),
        (lambda n: assign(n, 0, 1, float("nan")), InputError, r"value: expected a finite number, got nan"),
        (lambda n: threshold(n, float("nan")), InputError, r"threshold: a: expected a finite number"),
        (lambda n: threshold(n, -0.5), InputError, r"a: expected a finite number >= 0, got -0.5"),
        (lambda n: permute_nodes(n, [0, 1, 2]), InputError, r"permutation of range\(5\) \(length 5\), got length 3"),
        (lambda n: permute_nodes(n, [0, 0, 1, 2, 3]), InputError, r"got \[0, 0, 1, 2, 3\] \(4 is missing\)"),
        (lambda n: permute_nodes(n, [0, 1, 2, 3, 5]), InputError, r"\(4 is missing\)"),
        (lambda n: permute_nodes(n, [0, 1, 2, 3, 4.0]), InputTypeError, r"perm: expected ints, got float"),
        (lambda n: permute_nodes(n, 5), InputTypeError, r"perm: expected a sequence of 5 ints"),
        (lambda n: permute_nodes(n, "01234"), InputTypeError, r"perm: expected a sequence"),
        (lambda n: swap_rows(n.matrix(), 0, 1), InputTypeError, r"net must be a GraphNetwork, got ndarray"),
        (lambda n: assign(n, 3, 2, 1.0), OperatorError, r"creates the cycle 3 -> 2 -> 3"),
        (lambda n: assign(n, 2, 2, 1.0), OperatorError, r"creates the cycle 2 -> 2 in a feedforward"),
        (lambda n: swap_columns(n, 0, 2), OperatorError, r"edge 0 -> 0 into input node 0 \('x0'\)"),
        (lambda n: add_edge(n, 0, 2, 0.5), OperatorError, r"edge 0 -> 2 already exists \(weight 1.0\); use assign"),
        (lambda n: add_edge(n, 0, 1, 0.5), OperatorError, r"edge 0 -> 1 into input node 1"),
        (lambda n: add_edge(n, 4, 2, 0.5), OperatorError, r"creates the cycle 4 -> 2 -> 4"),
        (lambda n: add_edge(n, 0, 4, 0.0), InputError, r"weight: expected a non-zero finite number"),
        (lambda n: split_edge(n, 0, 4), OperatorError, r"there is no edge 0 -> 4 to split"),
        (lambda n: split_edge(n, 0, 2, activation="gelu"), InputError, r"activation: expected None or one of"),
        (lambda n: remove_node(n, 0), OperatorError, r"node 0 \('x0'\) is an input; only hidden"),
        (lambda n: remove_node(n, 4), OperatorError, r"node 4 \('y0'\) is an output"),
        (lambda n: remove_node(n, 5), InputError, r"node: node 5 out of range"),
        (lambda n: regrow(n, 100, 0), OperatorError, r"asked for 100 new edges but only 4 empty positions"),
        (lambda n: regrow(n, -1, 0), InputError, r"n: expected an int >= 0, got -1"),
        (lambda n: regrow(n, 1, 0, scale=0.0), InputError, r"scale: expected a finite number > 0"),
        (lambda n: regrow(n, 1, None), InputTypeError, r"seed"),
        (lambda n: prune_smallest(n, 1.5), InputError, r"fraction: expected a number in \[0, 1\], got 1.5"),
        (lambda n: prune_smallest(n, float("inf")), InputError, r"fraction: expected a finite number"),
    ],
)
def test_illegal_operations_raise_and_change_nothing(call, exc, match):
    net = five()
    snap = snapshot(net)
    with pytest.raises(exc, match=match):
        call(net)
    assert_unchanged(net, snap)
    assert net == five()


def test_feedforward_regrow_capacity_message():
    # 5 nodes, inputs first: 10 forward pairs minus the pair of inputs = 9; 5 edges -> 4 free
    assert regrow(five(), 4, 0).n_edges == 9
    with pytest.raises(OperatorError, match="only 0 empty positions"):
        regrow(regrow(five(), 4, 0), 1, 0)


# ---------------------------------------------------------------- extras


@FAST
@given(networks(integer=False), st.data())
def test_split_edge(net, data):
    u, v, w = data.draw(st.sampled_from(net.edges()))
    n = net.n_nodes
    new = split_edge(net, u, v, activation="identity")
    W, W1 = net.matrix(), new.matrix()
    assert new.n_nodes == n + 1 and new.roles[n] == "hidden" and new.biases()[n] == 0.0
    expected = W.copy()
    expected[u, v] = 0
    np.testing.assert_array_equal(W1[:n, :n], expected)
    assert W1[u, n] == 1.0 and W1[n, v] == w
    assert np.count_nonzero(W1[n]) == 1 and np.count_nonzero(W1[:, n]) == 1
    assert new.names[:n] == net.names and new.names[n] not in net.names
    if net.mode == "feedforward":  # an identity node passes its input through
        X = np.random.default_rng(0).normal(size=(5, net.n_inputs))
        np.testing.assert_allclose(per_node_forward(new, X, steps=4),
                                   per_node_forward(net, X, steps=4), rtol=1e-12, atol=1e-12)
        assert is_acyclic(new)


def test_split_edge_default_activation_and_names():
    net = five().replace(activations=["identity", "identity", "relu", "relu", "identity"])
    new = split_edge(net, 2, 4)
    assert new.activations[5] == "relu" and new.names[5] == "h2"
    mixed = five().replace(activations=["identity", "identity", "relu", "sigmoid", "identity"])
    assert split_edge(mixed, 2, 4).activations[5] == "tanh"
    twice = split_edge(split_edge(five(), 2, 4), 0, 2)
    assert twice.names[5:] == ("h2", "h3")


@FAST
@given(networks(), st.data())
def test_remove_node(net, data):
    if net.n_hidden == 0:
        return
    k = data.draw(st.sampled_from(list(net.hidden)))
    keep = [x for x in range(net.n_nodes) if x != k]
    new = remove_node(net, k)
    np.testing.assert_array_equal(new.matrix(), net.matrix()[np.ix_(keep, keep)])
    assert new.names == tuple(net.names[x] for x in keep)
    np.testing.assert_array_equal(new.biases(), net.biases()[keep])


@FAST
@given(networks(integer=False), st.integers(0, 10), st.integers(0, 2**32 - 1))
def test_regrow(net, n_new, seed):
    W = net.matrix()
    n, n_in = net.n_nodes, net.n_inputs
    if net.mode == "feedforward":  # one total order, inputs first: its forward pairs
        capacity = n * (n - 1) // 2 - n_in * (n_in - 1) // 2 - net.n_edges
    else:  # every empty entry outside the input columns
        capacity = n * (n - n_in) - net.n_edges
    if n_new > capacity:
        with pytest.raises(OperatorError, match=f"asked for {n_new} new edges but only {capacity}"):
            regrow(net, n_new, seed)
        return
    new = regrow(net, n_new, seed, scale=0.01)
    W1 = new.matrix()
    changed = W1 != W
    assert changed.sum() == n_new == new.n_edges - net.n_edges
    assert not W[changed].any()  # only empty positions
    assert not W1[:, net.inputs].any()
    assert np.all(np.abs(W1[changed]) < 0.1)  # scale 0.01: 10 sigma
    if net.mode == "feedforward":
        assert is_acyclic(new)
    assert regrow(net, n_new, seed, scale=0.01) == new
    if n_new and n_new < capacity:
        assert regrow(net, n_new, seed + 1, scale=0.01) != new


@FAST
@given(networks(integer=False), st.floats(0.0, 1.0), st.integers(0, 2**32 - 1))
def test_prune_then_regrow_fits(net, fraction, seed):
    pruned = prune_smallest(net, fraction)
    m = math.floor(fraction * net.n_edges + 1e-9)
    assert pruned.n_edges == net.n_edges - m
    kept = {(u, v) for u, v, _ in pruned.edges()}
    gone = [abs(w) for u, v, w in net.edges() if (u, v) not in kept]
    if gone and kept:
        assert max(gone) <= min(abs(w) for _, _, w in pruned.edges())
    regrown = regrow(pruned, m, seed)  # SET: regrow as many as pruned, always possible
    assert regrown.n_edges == net.n_edges
    if net.mode == "feedforward":
        assert is_acyclic(regrown)


def test_prune_ties_break_in_row_major_order():
    W = np.zeros((4, 4))
    W[0, 2], W[0, 3], W[1, 2], W[2, 3] = 0.5, -0.5, 0.5, 2.0
    net = GraphNetwork.from_matrix(W, [0, 1], [3])
    assert prune_smallest(net, 0.5).edges() == [(1, 2, 0.5), (2, 3, 2.0)]
    assert prune_smallest(net, 0.0) == net
    assert prune_smallest(net, 1.0).n_edges == 0
    assert prune_smallest(net, 0.74).n_edges == 2  # floor(2.96)


def test_regrow_default_scale_and_seed():
    net = five()
    rms = math.sqrt(np.mean(np.array([1.0, 2.0, 3.0, 4.0, 5.0]) ** 2))
    new, rec = apply(net, "regrow", n=2, seed=3)
    assert rec.args == {"n": 2, "seed": 3, "scale": pytest.approx(0.1 * rms)}
    assert new != regrow(net, 2, 4)
    assert regrow(net, 2, np.random.default_rng(3)) == new  # a Generator works too
    with pytest.raises(InputTypeError, match="seed must be an int so that the record replays"):
        apply(net, "regrow", n=1, seed=np.random.default_rng(0))


# ---------------------------------------------------------------- registry


def test_registry_letters_and_names():
    assert set(OPERATORS) == set(CONTRACTS) | {"prune_smallest"}
    for letter, name in LETTERS.items():
        assert get_operator(letter) is get_operator(name) is OPERATORS[name]
        assert OPERATORS[name].letter == letter
    assert OPERATORS["swap_nodes"].letter == "H"
    for name in ("add_edge", "split_edge", "remove_node", "regrow", "prune_smallest"):
        assert OPERATORS[name].letter is None
    for name, spec in OPERATORS.items():
        assert spec.name == name and spec.func is getattr(ops if spec.letter else extras, name)
        if name in CONTRACTS:
            assert spec.contract is CONTRACTS[name]
    assert get_operator("F").func is add_scaled_row
    assert get_operator("H").contract.function == "kept"
    with pytest.raises(InputError, match=r"unknown operator 'E'; expected one of \['threshold'.*"
                       r"or a letter in \['A', 'B', 'C', 'D', 'F', 'H', 'N'\]"):
        get_operator("E")
    with pytest.raises(InputTypeError, match="name: expected str, got int"):
        get_operator(3)


def test_apply_argument_errors():
    net = five()
    with pytest.raises(InputError, match=r"add_scaled_row takes \['src', 'dst', 'k'\]; missing "
                       r"\['k'\], unexpected \['n'\]"):
        apply(net, "F", src=0, dst=1, n=2.0)
    with pytest.raises(InputError, match="unknown operator 'transpose'"):
        apply(net, "transpose")
    with pytest.raises(InputError, match=r"sample add_scaled_row: unknown range 'n_max'"):
        apply_random(net, "F", 0, n_max=2.0)
    with pytest.raises(InputTypeError, match="rng"):
        apply_random(net, "F", None)
    assert OPERATORS["regrow"].sample.keywords == ("n", "scale")
    assert OPERATORS["remove_node"].sample.keywords == ()
    with pytest.raises(InputError, match=r"expected one of \[\]"):
        OPERATORS["remove_node"].sample(net, 0, node=2)


MEDIUM = {
    mode: GraphNetwork.random(3, 6, 2, 0.35, seed=11, mode=mode)
    for mode in ("feedforward", "recurrent")
}


@pytest.mark.parametrize("mode", ["feedforward", "recurrent"])
@pytest.mark.parametrize("name", sorted(OPERATORS))
def test_sample_and_apply_random_reproducible(name, mode):
    net = MEDIUM[mode]
    spec = OPERATORS[name]
    ranges = {"fraction_range": (0.0, 0.5)} if name.startswith("prune_") else {}
    snap = snapshot(net)
    a = spec.sample(net, 123, **ranges)
    assert spec.sample(net, 123, **ranges) == a
    assert spec.sample(net, np.random.default_rng(123), **ranges) == a
    draws = [json.dumps(spec.sample(net, s, **ranges), sort_keys=True) for s in range(10)]
    assert len(set(draws)) > 1, name
    new1, rec1 = apply_random(net, name, 5, **ranges)
    new2, rec2 = apply_random(net, name, 5, **ranges)
    assert new1 == new2 and rec1 == rec2
    others = {json.dumps(apply_random(net, name, s, **ranges)[1].to_dict()) for s in range(6)}
    assert len(others) > 1
    assert_unchanged(net, snap)


@pytest.mark.parametrize("mode", ["feedforward", "recurrent"])
@pytest.mark.parametrize("name", sorted(OPERATORS))
def test_records_serialise_and_replay(name, mode):
    net = MEDIUM[mode]
    for seed in range(4):
        new, rec = apply_random(net, name, seed)
        data = json.loads(json.dumps(rec.to_dict(), allow_nan=False))
        back = Applied.from_dict(data)
        assert back == rec
        assert back.name == name and back.letter == OPERATORS[name].letter
        assert (back.edges_before, back.edges_after) == (net.n_edges, new.n_edges)
        replayed, again = apply(net, back.name, repair=True, **back.args)
        assert replayed == new and again == rec


def test_record_from_dict_errors():
    with pytest.raises(InputError, match="missing key 'edges_after'"):
        Applied.from_dict({"name": "threshold", "letter": "A", "args": {}, "dropped_edges": [],
                           "edges_before": 1})
    with pytest.raises(InputError, match="unknown operator 'bogus'"):
        Applied.from_dict({"name": "bogus", "letter": None, "args": {}, "dropped_edges": [],
                           "edges_before": 1, "edges_after": 1})


@pytest.mark.parametrize("mode", ["feedforward", "recurrent"])
def test_samplers_draw_legal_arguments(mode):
    """Positions for assign/add_edge are always legal; B/C/D/F need repair less often
    than uniformly drawn pairs; H draws keep the function exactly."""
    net = MEDIUM[mode]
    X = np.random.default_rng(0).normal(size=(4, net.n_inputs))
    for seed in range(20):
        assign(net, **OPERATORS["assign"].sample(net, seed))  # never raises
        add_edge(net, **OPERATORS["add_edge"].sample(net, seed))
        for name in ("permute_nodes", "swap_nodes"):
            new = apply(net, name, **OPERATORS[name].sample(net, seed))[0]
            np.testing.assert_allclose(per_node_forward(new, X, steps=4),
                                       per_node_forward(net, X, steps=4), rtol=1e-12, atol=1e-12)
    for name in MATRIX_OPS:
        rng = np.random.default_rng(1)
        sampled = sum(bool(apply_random(net, name, s)[1].dropped_edges) for s in range(30))
        uniform = 0
        for _ in range(30):
            i, j = rng.choice(net.n_nodes, size=2, replace=False)
            args = {"i": int(i), "j": int(j)} if "swap" in name else {
                "src": int(i), "dst": int(j), "k": 1.0}
            uniform += bool(apply(net, name, repair=True, **args)[1].dropped_edges)
        assert sampled <= uniform, (name, sampled, uniform)
        if uniform:
            assert sampled < uniform


@FAST
@given(networks(), st.integers(0, 2**32 - 1), st.sampled_from(sorted(OPERATORS)))
def test_apply_random_never_changes_input_and_result_valid(net, seed, name):
    snap = snapshot(net)
    try:
        new, rec = apply_random(net, name, seed)
    except OperatorError as exc:  # nothing to do: no edge to split, no hidden node to remove
        assert name in ("split_edge", "remove_node", "add_edge"), exc
        return
    assert_unchanged(net, snap)
    assert isinstance(new, GraphNetwork) and new.mode == net.mode
    if net.mode == "feedforward":
        assert is_acyclic(new)
    assert not new.matrix()[:, new.inputs].any()
    json.dumps(rec.to_dict(), allow_nan=False)
