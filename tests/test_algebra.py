"""Tests of graphnet.graph.contracts, .symbolic, .proofs and .exact.

The numeric references are plain numpy indexing, written here independently of the
sympy definitions in symbolic.py.
"""

from __future__ import annotations

import math
import time
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from graphnet.errors import InputError, InputTypeError
from graphnet.graph import contracts, symbolic
from graphnet.graph.contracts import CONTRACTS, LETTERS, SEED_CLAIM, Contract
from graphnet.graph.exact import check_contract, exact_invariants, exact_matrix
from graphnet.graph.proofs import prove_all, prove_contract, prove_feedforward_nilpotent
from graphnet.graph.symbolic import (
    MATRIX_OPERATORS,
    apply_symbolic,
    elementary_matrix,
    generic_matrix,
)
from graphnet.rng import make_rng

from conftest import np_apply

# ------------------------------------------------------------ numpy references


@st.composite
def operator_cases(draw, names=MATRIX_OPERATORS):
    """(name, integer-valued float W, args) with exact float arithmetic."""
    name = draw(st.sampled_from(names))
    n = draw(st.integers(2, 5))
    W = np.array(
        draw(st.lists(st.integers(-4, 4), min_size=n * n, max_size=n * n)), dtype=float
    ).reshape(n, n)
    idx = st.integers(0, n - 1)
    if name in ("swap_columns", "swap_rows", "add_scaled_column", "add_scaled_row"):
        i = draw(idx)
        j = draw(idx.filter(lambda x: x != i))
        if name.startswith("add"):
            args = {"src": i, "dst": j, "k": draw(st.integers(-3, 3))}
        else:
            args = {"i": i, "j": j}
    elif name == "swap_nodes":
        args = {"i": draw(idx), "j": draw(idx)}
    elif name == "permute_nodes":
        args = {"perm": draw(st.permutations(range(n)))}
    elif name == "threshold":
        args = {"a": draw(st.integers(0, 4))}
    else:
        args = {"i": draw(idx), "j": draw(idx), "value": draw(st.integers(-4, 4))}
    return name, W, args


class FakeNet:
    """Duck-typed stand-in for GraphNetwork: only matrix() and mode are used."""

    def __init__(self, W, mode="feedforward"):
        self._W = np.asarray(W, dtype=float)
        self.mode = mode

    def matrix(self):
        return self._W.copy()


# ------------------------------------------------------------------ contracts


def test_contracts_table():
    for name in ("permute_nodes", "swap_nodes"):
        c = CONTRACTS[name]
        assert (c.det, c.rank, c.spectrum, c.function) == ("unchanged", "kept", "kept", "kept")
    for name in ("swap_columns", "swap_rows"):
        c = CONTRACTS[name]
        assert (c.det, c.rank, c.spectrum, c.function) == ("negated", "kept", "any", "any")
    for name in ("add_scaled_column", "add_scaled_row"):
        c = CONTRACTS[name]
        assert (c.det, c.rank, c.spectrum, c.function) == ("unchanged", "kept", "any", "any")
    for name in ("threshold", "assign", "split_edge", "add_edge", "remove_node", "regrow"):
        c = CONTRACTS[name]
        assert (c.det, c.rank, c.spectrum, c.function) == ("any",) * 4
    assert LETTERS == {
        "A": "threshold",
        "B": "swap_columns",
        "C": "add_scaled_column",
        "D": "swap_rows",
        "F": "add_scaled_row",
        "H": "permute_nodes",
        "N": "assign",
    }
    assert all(v in CONTRACTS for v in LETTERS.values())
    assert "determinant" in SEED_CLAIM
    assert set(MATRIX_OPERATORS) <= set(CONTRACTS)


def test_contract_validation_and_lookup():
    with pytest.raises(InputError, match="Contract.rank: expected one of"):
        Contract(det="any", rank="lost", spectrum="any", function="any", note="")
    with pytest.raises(InputTypeError, match="Contract.note"):
        Contract(det="any", rank="any", spectrum="any", function="any", note=3)
    with pytest.raises(AttributeError):
        CONTRACTS["threshold"].det = "unchanged"  # frozen
    assert contracts.canonical_name("F") == "add_scaled_row"
    assert contracts.get_contract("N") is CONTRACTS["assign"]
    with pytest.raises(InputError, match="name: expected an operator name or a letter"):
        contracts.canonical_name("transpose")
    with pytest.raises(InputTypeError, match="name: expected str"):
        contracts.canonical_name(3)


# ------------------------------------------------------------ definitions


@settings(max_examples=150, deadline=None)
@given(operator_cases())
def test_apply_symbolic_matches_numpy_indexing(case):
    name, W, args = case
    got = apply_symbolic(name, W, **args)
    assert got == sp.Matrix(np_apply(name, W, args).astype(int).tolist())
    assert exact_matrix(W) == sp.Matrix(W.astype(int).tolist())  # input untouched


@settings(max_examples=60, deadline=None)
@given(operator_cases(names=("swap_columns", "add_scaled_column", "swap_rows",
                             "add_scaled_row", "permute_nodes", "swap_nodes")))
def test_elementary_matrix_side(case):
    name, W, args = case
    E = np.array(elementary_matrix(name, len(W), **args).tolist(), dtype=float)
    side = symbolic.ELEMENTARY_SIDE[name]
    got = {"right": W @ E, "left": E @ W, "similarity": E @ W @ E.T}[side]
    np.testing.assert_array_equal(got, np_apply(name, W, args))


def test_permutation_convention():
    W = np.arange(9.0).reshape(3, 3)
    perm = [2, 0, 1]
    W2 = apply_symbolic("H", W, perm=perm)
    for a in range(3):
        for b in range(3):
            assert float(W2[a, b]) == W[perm[a], perm[b]]  # new node a = old node perm[a]


def test_symbolic_k_and_threshold_piecewise():
    k = sp.Symbol("k")
    W = generic_matrix(2)
    W2 = apply_symbolic("add_scaled_column", W, src=0, dst=1, k=k)
    assert W2[:, 1] == W[:, 1] + k * W[:, 0]
    T = apply_symbolic("A", W, a=1)
    assert isinstance(T[0, 0], sp.Piecewise)
    assert T[0, 0].subs(W[0, 0], sp.Rational(1, 2)) == 0
    assert T[0, 0].subs(W[0, 0], -3) == -3
    # floats are taken exactly
    W3 = apply_symbolic("add_scaled_row", sp.eye(2), src=0, dst=1, k=0.1)
    assert W3[1, 0] == sp.Rational(0.1) and W3[1, 0] != sp.Rational(1, 10)


def test_definition_errors():
    with pytest.raises(InputError, match="two different indices"):
        elementary_matrix("swap_columns", 3, i=2, j=2)
    with pytest.raises(InputError, match="src != dst"):
        elementary_matrix("F", 3, src=1, dst=1, k=2)
    with pytest.raises(InputError, match=r"i=3 out of range for a 3x3 matrix"):
        elementary_matrix("swap_rows", 3, i=3, j=0)
    with pytest.raises(InputError, match=r"missing \['k'\]"):
        elementary_matrix("C", 3, src=0, dst=1)
    with pytest.raises(InputError, match=r"unexpected \['x'\]"):
        apply_symbolic("assign", sp.eye(2), i=0, j=0, value=1, x=2)
    with pytest.raises(InputError, match="expected a permutation of range"):
        elementary_matrix("H", 3, perm=[0, 0, 1])
    with pytest.raises(InputError, match="not a multiplication by an elementary matrix"):
        elementary_matrix("threshold", 3, a=1)
    with pytest.raises(InputTypeError, match="expected an int index"):
        elementary_matrix("swap_rows", 3, i=0.0, j=1)
    with pytest.raises(InputError, match="n: expected an int >= 2"):
        elementary_matrix("swap_rows", 1, i=0, j=0)
    with pytest.raises(InputError, match="expected a finite number"):
        apply_symbolic("threshold", sp.eye(2), a=float("nan"))
    with pytest.raises(InputError, match="no matrix-level definition"):
        apply_symbolic("split_edge", sp.eye(2))


# ------------------------------------------------------------------ proofs


@pytest.fixture(scope="module")
def proofs():
    """prove_all over n = 2..5, run once for the module, with its wall time."""
    t0 = time.perf_counter()
    result = prove_all((2, 3, 4, 5))
    return result, time.perf_counter() - t0


def _proof(proofs, name, n):
    (proof,) = [p for p in proofs[0] if p.name == name and p.n == n]
    return proof


def test_prove_all_is_fast_and_complete(proofs):
    result, elapsed = proofs
    assert len(result) == 4 * (len(MATRIX_OPERATORS) + 1)
    assert {p.name for p in result} == set(MATRIX_OPERATORS) | {"feedforward_nilpotent"}
    assert elapsed < 20, elapsed


@pytest.mark.parametrize("n", [2, 3, 4, 5])
@pytest.mark.parametrize("name", MATRIX_OPERATORS)
def test_every_contract_is_proved(proofs, name, n):
    proof = _proof(proofs, name, n)
    assert proof.holds, proof.detail
    assert proof.claim.startswith(f"det {CONTRACTS[name].det}, rank {CONTRACTS[name].rank}")
    assert proof.method and proof.detail
    assert prove_contract(name, 2) == _proof(proofs, name, 2)  # deterministic


@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_feedforward_nilpotent(proofs, n):
    proof = _proof(proofs, "feedforward_nilpotent", n)
    assert proof.holds, proof.detail
    assert f"lambda^{n}" in proof.claim


def test_sampled_proofs_above_five():
    result = prove_all((6,))
    assert all(p.holds for p in result), [p.detail for p in result if not p.holds]
    by_name = {p.name: p for p in result}
    assert "deterministic sample of 4 ordered index pairs" in by_name["add_scaled_row"].method
    assert "transpositions, which generate S_6" in by_name["permute_nodes"].method


def test_letters_resolve_in_proofs():
    assert prove_contract("C", 2) == prove_contract("add_scaled_column", 2)


@pytest.mark.parametrize(
    "name, wrong",
    [
        ("swap_rows", {"det": "unchanged"}),  # the seed's claim
        ("swap_columns", {"det": "unchanged"}),
        ("add_scaled_row", {"det": "negated"}),
        ("permute_nodes", {"det": "negated"}),
        ("add_scaled_column", {"spectrum": "kept"}),
        ("swap_rows", {"function": "kept"}),
        ("permute_nodes", {"spectrum": "any"}),  # "any" must be shown real: it is not
        ("swap_nodes", {"rank": "any"}),
        ("threshold", {"det": "unchanged"}),
        ("assign", {"rank": "kept"}),
        ("assign", {"det": "negated"}),
    ],
)
def test_a_false_contract_is_not_proved(monkeypatch, name, wrong):
    c = CONTRACTS[name]
    fields = {"det": c.det, "rank": c.rank, "spectrum": c.spectrum, "function": c.function}
    fields.update(wrong)
    monkeypatch.setitem(contracts.CONTRACTS, name, Contract(note="wrong", **fields))
    assert not prove_contract(name, 3).holds


@pytest.mark.parametrize("n", [2, 3, 4, 5])
@pytest.mark.parametrize("name", MATRIX_OPERATORS)
def test_counterexamples_are_real(proofs, name, n):
    proof = _proof(proofs, name, n)
    expected_props = [p for p in ("det", "rank", "spectrum")
                      if getattr(CONTRACTS[name], p) == "any"]
    assert sorted(c.prop for c in proof.counterexamples) == sorted(expected_props)
    for cx in proof.counterexamples:
        before = np.array(cx.before, dtype=float)
        after = np.array(cx.after, dtype=float)
        np.testing.assert_array_equal(np_apply(name, before, cx.args), after)
        if cx.prop == "det":
            d0, d1 = np.linalg.det(before), np.linalg.det(after)
            assert abs(d1 - d0) > 0.5  # integer matrices: determinants differ by >= 1
            assert round(d0) == cx.value_before and round(d1) == cx.value_after
        elif cx.prop == "rank":
            assert np.linalg.matrix_rank(before) == cx.value_before
            assert np.linalg.matrix_rank(after) == cx.value_after != cx.value_before
        else:
            c0, c1 = np.poly(before), np.poly(after)
            assert np.max(np.abs(c1 - c0)) > 0.5
            np.testing.assert_allclose(c0, cx.value_before, atol=1e-6)


def test_prove_errors():
    with pytest.raises(InputError, match="no matrix-level definition"):
        prove_contract("regrow", 3)
    with pytest.raises(InputError, match="n: expected an int >= 2, got 1"):
        prove_contract("B", 1)
    with pytest.raises(InputTypeError, match="n: expected an int >= 2"):
        prove_feedforward_nilpotent(2.0)


# ----------------------------------------------------------- exact checks


def test_exact_matrix_is_exact():
    W = np.array([[0.1, -2.5], [1e-300, 3.0]])
    M = exact_matrix(W)
    assert M[0, 0] == sp.Rational(Fraction(0.1).numerator, Fraction(0.1).denominator)
    assert all(float(M[i, j]) == W[i, j] for i in range(2) for j in range(2))
    assert exact_matrix(FakeNet(W)) == M
    assert exact_matrix(np.array([[1, 2], [3, 4]]))[1, 1] == 4


def test_exact_matrix_errors():
    with pytest.raises(InputError, match="W: expected a non-empty square matrix, got shape"):
        exact_matrix(np.zeros((2, 3)))
    with pytest.raises(InputError, match="finite entries"):
        exact_matrix(np.array([[np.nan, 0.0], [0.0, 1.0]]))
    with pytest.raises(InputTypeError, match="real numeric matrix, got dtype complex"):
        exact_matrix(np.eye(2, dtype=complex))
    with pytest.raises(InputTypeError, match="exact rational numbers"):
        exact_matrix(generic_matrix(2))


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 7), st.integers(0, 2**32 - 1))
def test_permuted_dag_is_nilpotent(n, seed):
    rng = make_rng(seed)
    U = np.triu(rng.normal(size=(n, n)), k=1)  # a DAG in topological order
    p = rng.permutation(n)
    W = U[np.ix_(p, p)]  # the same DAG, nodes reordered
    inv = exact_invariants(W)
    assert inv["nilpotent"] and inv["det"] == 0
    assert inv["charpoly"] == (1,) + (0,) * n
    assert np.allclose(np.linalg.matrix_power(W, n), 0)
    # one back edge closes a cycle through the path 0 -> 1 -> ... and breaks nilpotency
    U2 = U.copy()
    U2[np.arange(n - 1), np.arange(1, n)] = 1.0
    U2[n - 1, 0] = 1.0
    assert not exact_invariants(U2[np.ix_(p, p)])["nilpotent"]


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 6), st.integers(0, 2**32 - 1))
def test_exact_invariants_agree_with_numpy(n, seed):
    rng = make_rng(seed)
    W = rng.integers(-3, 4, size=(n, n)).astype(float)
    if n > 1:
        W[-1] = W[0]  # rank-deficient half of the time
    inv = exact_invariants(W)
    assert inv["n"] == n and inv["mode"] is None
    assert math.isclose(float(inv["det"]), np.linalg.det(W), abs_tol=1e-6)
    assert inv["rank"] == np.linalg.matrix_rank(W)
    np.testing.assert_allclose([float(c) for c in inv["charpoly"]], np.poly(W), atol=1e-6)
    assert exact_invariants(FakeNet(W, mode="recurrent"))["mode"] == "recurrent"


@settings(max_examples=200, deadline=None)
@given(operator_cases())
def test_check_contract_agrees_with_numpy(case):
    name, W, args = case
    W2 = np_apply(name, W, args)
    res = check_contract(name, W, W2)
    assert set(res) == {"det", "rank", "spectrum"}
    assert all(r.ok for r in res.values()), res
    contract = CONTRACTS[name]
    (d0, d1), (r0, r1), (cp0, cp1) = (res[p].observed for p in ("det", "rank", "spectrum"))
    assert math.isclose(float(d0), np.linalg.det(W), abs_tol=1e-6)
    assert math.isclose(float(d1), np.linalg.det(W2), abs_tol=1e-6)
    assert (r0, r1) == (np.linalg.matrix_rank(W), np.linalg.matrix_rank(W2))
    np.testing.assert_allclose([float(c) for c in cp1], np.poly(W2), atol=1e-6)
    assert res["det"].expected == contract.det
    # numpy agrees with the promised relation
    nd0, nd1 = np.linalg.det(W), np.linalg.det(W2)
    if contract.det == "unchanged":
        assert math.isclose(nd1, nd0, abs_tol=1e-6)
    elif contract.det == "negated":
        assert math.isclose(nd1, -nd0, abs_tol=1e-6)
    if contract.spectrum == "kept":
        np.testing.assert_allclose(np.poly(W2), np.poly(W), atol=1e-6)


@settings(max_examples=60, deadline=None)
@given(operator_cases(names=("swap_rows", "swap_columns", "add_scaled_row", "permute_nodes")))
def test_check_contract_detects_violations(case):
    name, W, args = case
    n = len(W)
    W[np.arange(n), np.arange(n)] += 30.0  # strictly diagonally dominant: det != 0
    wrong = {
        "swap_rows": "add_scaled_row",  # det negated, but C/F promise unchanged
        "swap_columns": "permute_nodes",
        "add_scaled_row": "swap_rows",  # det unchanged, but B/D promise negated
        "permute_nodes": "swap_columns",
    }[name]
    res = check_contract(wrong, W, np_apply(name, W, args))
    assert res["det"].observed[0] != 0
    assert not res["det"].ok


def test_check_contract_feedforward_network():
    U = np.triu(np.ones((4, 4)), k=1)
    P = [3, 1, 0, 2]
    res = check_contract("H", FakeNet(U), FakeNet(U[np.ix_(P, P)]))
    assert res["nilpotent"] == (True, True, True)
    plain = check_contract("permute_nodes", U, U[np.ix_(P, P)])  # letters resolve too
    assert "nilpotent" not in plain and all(plain[key] == res[key] for key in plain)
    cyclic = U.copy()
    cyclic[3, 0] = 1.0
    res = check_contract("N", FakeNet(U), FakeNet(cyclic))
    assert res["nilpotent"].ok is False and res["det"].ok  # assign promises no det
    assert "nilpotent" not in check_contract("N", U, FakeNet(cyclic, mode="recurrent"))


def test_check_contract_rtol():
    rng = make_rng(5)
    W = rng.normal(size=(4, 4))
    W2 = W.copy()
    W2[:, 2] += 0.1 * W[:, 0]  # rounds in float64
    exact = check_contract("C", W, W2)
    assert not exact["det"].ok  # the float result is not the exact image
    loose = check_contract("C", W, W2, rtol=1e-12)
    assert all(r.ok for r in loose.values())
    assert not check_contract("D", W, W2, rtol=1e-12)["det"].ok
    with pytest.raises(InputError, match="rtol: expected a float >= 0"):
        check_contract("C", W, W2, rtol=-1.0)
    with pytest.raises(InputError, match="expected an operator name"):
        check_contract("Z", W, W2)

