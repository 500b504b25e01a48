"""Exact algebra of the graph operators: definitions, proofs, checks; the seed's init loop.

W[i, j] is the weight of the edge i -> j. Every operator of the seed that acts on the
matrix alone is defined here as an exact sympy operation; these definitions are the
reference the numeric operators (:mod:`graphnet.graph.operators`) are tested against:

=================== ====== ============================================ ====================
name                letter arguments                                    W' =
=================== ====== ============================================ ====================
threshold           A      a                                            W * (abs(W) > a)
swap_columns        B      i, j (i != j)                                W @ P_ij
add_scaled_column   C      src, dst, k (src != dst)                     W @ (I + k e_src e_dst^T)
swap_rows           D      i, j (i != j)                                P_ij @ W
add_scaled_row      F      src, dst, k (src != dst)                     (I + k e_dst e_src^T) @ W
permute_nodes       H      perm (new node a = old node perm[a])         P W P^T, P[a, perm[a]] = 1
swap_nodes          H      i, j                                         permute_nodes with a transposition
assign              N      i, j, value                                  W with W[i, j] = value
=================== ====== ============================================ ====================

C adds k times column ``src`` to column ``dst`` (the in-edges of ``src``, scaled, are
added to those of ``dst``); F adds k times row ``src`` to row ``dst``.

:func:`prove_contract` proves each operator's :class:`~graphnet.graph.contracts.Contract`
on a generic matrix of symbols; :func:`check_contract` checks it exactly on two concrete
matrices (or networks); :func:`init_loop_analysis` explains why the seed's initialisation
loop does not terminate for N >= 2.

Matrix arguments may be numpy arrays or networks: anything with a ``matrix()`` method
(and optionally ``mode``) is read through it.
"""

from __future__ import annotations

import functools
import itertools
import math
import numbers
from dataclasses import dataclass, field
from fractions import Fraction
from typing import NamedTuple

import numpy as np
import sympy as sp
from sympy.polys.matrices import DomainMatrix

from graphnet.errors import InputError, InputTypeError
from graphnet.graph.contracts import CONTRACTS, SEED_CLAIM, canonical_name
from graphnet.rng import make_rng

__all__ = [
    "MATRIX_OPERATORS",
    "OPERATOR_ARGS",
    "ELEMENTARY_SIDE",
    "generic_matrix",
    "elementary_matrix",
    "apply_symbolic",
    "Proof",
    "Counterexample",
    "prove_contract",
    "prove_feedforward_nilpotent",
    "prove_all",
    "exact_matrix",
    "exact_invariants",
    "ContractCheck",
    "check_contract",
    "InitLoopRun",
    "seed_init_loop",
    "InitLoopAnalysis",
    "init_loop_analysis",
]

#: Operators with a matrix-level definition here (the extras change the node set).
MATRIX_OPERATORS = (
    "threshold",
    "swap_columns",
    "add_scaled_column",
    "swap_rows",
    "add_scaled_row",
    "permute_nodes",
    "swap_nodes",
    "assign",
)

#: Keyword arguments of each operator, in order.
OPERATOR_ARGS = {
    "threshold": ("a",),
    "swap_columns": ("i", "j"),
    "add_scaled_column": ("src", "dst", "k"),
    "swap_rows": ("i", "j"),
    "add_scaled_row": ("src", "dst", "k"),
    "permute_nodes": ("perm",),
    "swap_nodes": ("i", "j"),
    "assign": ("i", "j", "value"),
}

#: How the elementary matrix E acts: W @ E ("right"), E @ W ("left"), E @ W @ E.T ("similarity").
ELEMENTARY_SIDE = {
    "swap_columns": "right",
    "add_scaled_column": "right",
    "swap_rows": "left",
    "add_scaled_row": "left",
    "permute_nodes": "similarity",
    "swap_nodes": "similarity",
}

# Small matrices are proved over every index pair / permutation; above these sizes a
# deterministic sample (or the generators of the symmetric group) is used.
_ALL_PAIRS_MAX_N = 5
_ALL_PERMS_MAX_N = 4
_K = sp.Symbol("k")
_VALUE = sp.Symbol("v")
_LAMBDA = sp.Symbol("lambda")


# --------------------------------------------------------------------------- helpers


def _is_int(x) -> bool:
    """True for integers (numpy's too), False for bool."""
    return isinstance(x, numbers.Integral) and not isinstance(x, (bool, np.bool_))


def _check_n(n, where: str) -> int:
    """Validate a matrix order n >= 2."""
    if not _is_int(n):
        raise InputTypeError(f"{where}: n: expected an int >= 2, got {type(n).__name__} {n!r}")
    if n < 2:
        raise InputError(f"{where}: n: expected an int >= 2, got {n}")
    return int(n)


def _index(x, n: int, where: str, arg: str) -> int:
    """Validate one node index."""
    if not _is_int(x):
        raise InputTypeError(f"{where}: {arg}: expected an int index, got {type(x).__name__} {x!r}")
    if not 0 <= x < n:
        raise InputError(f"{where}: {arg}={x} out of range for a {n}x{n} matrix")
    return int(x)


def _exact_scalar(x, where: str, arg: str):
    """A scalar as an exact sympy number (floats exactly, as binary fractions) or expression."""
    if isinstance(x, sp.Basic):
        return x
    if isinstance(x, (bool, np.bool_)):
        raise InputTypeError(f"{where}: {arg}: expected a number, got bool {x!r}")
    if _is_int(x):
        return sp.Integer(int(x))
    if isinstance(x, Fraction):
        return sp.Rational(x.numerator, x.denominator)
    if isinstance(x, numbers.Real):
        x = float(x)
        if not math.isfinite(x):
            raise InputError(f"{where}: {arg}: expected a finite number, got {x!r}")
        return sp.Rational(x)  # exact: every float is a binary fraction
    raise InputTypeError(f"{where}: {arg}: expected a number, got {type(x).__name__} {x!r}")


def _resolve(name, where: str) -> str:
    """Canonical name of an operator that has a matrix-level definition."""
    canon = canonical_name(name)
    if canon not in MATRIX_OPERATORS:
        raise InputError(
            f"{where}: name: {name!r} has no matrix-level definition; expected one of "
            f"{list(MATRIX_OPERATORS)}"
        )
    return canon


def _check_args(name: str, n: int, args: dict, where: str) -> dict:
    """Validate an operator's keyword arguments; return them normalised."""
    expected = OPERATOR_ARGS[name]
    missing = [a for a in expected if a not in args]
    extra = [a for a in args if a not in expected]
    if missing or extra:
        raise InputError(
            f"{where}: {name} takes arguments {list(expected)}; "
            f"missing {missing}, unexpected {extra}"
        )
    out = {}
    if name in ("swap_columns", "swap_rows", "swap_nodes", "assign"):
        out["i"] = _index(args["i"], n, where, "i")
        out["j"] = _index(args["j"], n, where, "j")
        if name in ("swap_columns", "swap_rows") and out["i"] == out["j"]:
            raise InputError(
                f"{where}: {name} needs two different indices, got i = j = {out['i']} "
                "(a swap with itself does not negate the determinant)"
            )
    if name in ("add_scaled_column", "add_scaled_row"):
        out["src"] = _index(args["src"], n, where, "src")
        out["dst"] = _index(args["dst"], n, where, "dst")
        if out["src"] == out["dst"]:
            raise InputError(
                f"{where}: {name} needs src != dst, got src = dst = {out['src']} "
                "(adding k times a line to itself scales the determinant by 1 + k)"
            )
        out["k"] = _exact_scalar(args["k"], where, "k")
    if name == "permute_nodes":
        perm = args["perm"]
        try:
            perm = list(perm)
        except TypeError:
            raise InputTypeError(
                f"{where}: perm: expected a sequence of ints, got {type(perm).__name__}"
            ) from None
        if not all(_is_int(p) for p in perm) or sorted(int(p) for p in perm) != list(range(n)):
            raise InputError(f"{where}: perm: expected a permutation of range({n}), got {perm!r}")
        out["perm"] = [int(p) for p in perm]
    if name == "threshold":
        out["a"] = _exact_scalar(args["a"], where, "a")
    if name == "assign":
        out["value"] = _exact_scalar(args["value"], where, "value")
    return out


def _permutation_matrix(perm) -> sp.Matrix:
    """P with P[a, perm[a]] = 1, so (P W P^T)[a, b] = W[perm[a], perm[b]]."""
    n = len(perm)
    P = sp.zeros(n, n)
    for a, p in enumerate(perm):
        P[a, p] = 1
    return P


def _transposition(n: int, i: int, j: int) -> list:
    perm = list(range(n))
    perm[i], perm[j] = perm[j], perm[i]
    return perm


def _as_array(W, where: str, arg: str) -> tuple[np.ndarray, str | None]:
    """Read a matrix or a network (duck-typed: ``matrix()`` and ``mode``) as a float/int array."""
    mode = None
    is_array = isinstance(W, (np.ndarray, sp.MatrixBase))
    if not is_array and callable(getattr(W, "matrix", None)):
        mode = getattr(W, "mode", None)
        W = W.matrix()
    if isinstance(W, sp.MatrixBase):
        return W, mode
    try:
        arr = np.asarray(W)
    except Exception as exc:  # ragged lists and the like
        raise InputTypeError(
            f"{where}: {arg}: expected a square matrix, got {type(W).__name__}"
        ) from exc
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.floating)
        or np.issubdtype(arr.dtype, np.integer)
        or arr.dtype == np.bool_
    ):
        raise InputTypeError(
            f"{where}: {arg}: expected a real numeric matrix, got dtype {arr.dtype}"
        )
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.shape[0] == 0:
        raise InputError(
            f"{where}: {arg}: expected a non-empty square matrix, got shape {arr.shape}"
        )
    if np.issubdtype(arr.dtype, np.floating) and not np.isfinite(arr).all():
        raise InputError(f"{where}: {arg}: expected finite entries, got NaN or inf")
    return arr, mode


def _ring(n: int, *extra):
    """ZZ[extra..., w_ij...]: the ring the generic identities are proved in."""
    return sp.ZZ.poly_ring(*extra, *generic_matrix(n))


def _dm(M: sp.Matrix, K) -> DomainMatrix:
    """M as a DomainMatrix over the polynomial ring K (entries must be polynomials in K)."""
    return DomainMatrix([[K.from_sympy(x) for x in row] for row in M.tolist()], M.shape, K)


def _det(D: DomainMatrix):
    """Exact determinant over a polynomial ring: Laplace expansion along the rows with
    memoised minors (O(n 2^n) products, no divisions; much faster than fraction-free
    elimination on generic polynomial entries)."""
    rows = D.to_list()
    n = len(rows)
    K = D.domain

    @functools.lru_cache(maxsize=None)
    def minor(r: int, cols: tuple):
        if r == n:
            return K.one
        total = K.zero
        for idx, c in enumerate(cols):
            if rows[r][c]:
                term = rows[r][c] * minor(r + 1, cols[:idx] + cols[idx + 1 :])
                total = total - term if idx % 2 else total + term
        return total

    return minor(0, tuple(range(n)))


def _fmt(M: sp.Matrix) -> str:
    return str(M.tolist())


def _pairs(n: int, ordered: bool) -> list:
    """All index pairs for small n; a deterministic sample (first, last, middle) above."""
    if ordered:
        pairs = [(s, d) for s in range(n) for d in range(n) if s != d]
    else:
        pairs = list(itertools.combinations(range(n), 2))
    if n <= _ALL_PAIRS_MAX_N:
        return pairs
    keep = {pairs[0], pairs[-1], pairs[len(pairs) // 2], (n - 1, 0) if ordered else (0, n - 1)}
    return sorted(keep)


# ----------------------------------------------------------------- definitions


def generic_matrix(n: int, symbol: str = "w") -> sp.Matrix:
    """Return the generic n x n matrix of real symbols ``w_{i}{j}``.

    Parameters
    ----------
    n : int
        Order, ``n >= 1``.
    symbol : str
        Prefix of the symbols. For ``n > 10`` the indices are separated (``w_{i}_{j}``)
        so that names stay unique.

    Returns
    -------
    sympy.Matrix of shape (n, n)

    Examples
    --------
    >>> generic_matrix(2)
    Matrix([
    [w_00, w_01],
    [w_10, w_11]])
    """
    if not _is_int(n) or n < 1:
        raise InputError(f"generic_matrix: n: expected an int >= 1, got {n!r}")
    sep = "_" if n > 10 else ""
    return sp.Matrix(n, n, lambda i, j: sp.Symbol(f"{symbol}_{i}{sep}{j}", real=True))


def elementary_matrix(name: str, n: int, **args) -> sp.Matrix:
    """Return the exact matrix E by which an operator acts on W.

    ``swap_columns`` and ``add_scaled_column`` act on the right (W' = W @ E),
    ``swap_rows`` and ``add_scaled_row`` on the left (W' = E @ W), ``permute_nodes`` and
    ``swap_nodes`` by similarity (W' = E @ W @ E.T); see :data:`ELEMENTARY_SIDE`.

    - B ``swap_columns(i, j)``: E = P_ij, the identity with rows i and j swapped.
    - C ``add_scaled_column(src, dst, k)``: E = I + k e_src e_dst^T, so column dst of
      W @ E is ``W[:, dst] + k * W[:, src]``.
    - D ``swap_rows(i, j)``: E = P_ij.
    - F ``add_scaled_row(src, dst, k)``: E = I + k e_dst e_src^T, so row dst of E @ W is
      ``W[dst] + k * W[src]``.
    - H ``permute_nodes(perm)``: E = P with P[a, perm[a]] = 1, so that
      ``(P W P^T)[a, b] = W[perm[a], perm[b]]``: **new node a is old node perm[a]**.
      ``swap_nodes(i, j)`` is the transposition of i and j.

    Parameters
    ----------
    name : str
        Operator name or the seed's letter (B, C, D, F, H).
    n : int
        Matrix order, ``n >= 2``.
    **args
        The operator's arguments (:data:`OPERATOR_ARGS`). ``k`` may be a sympy symbol;
        floats are converted exactly.

    Returns
    -------
    sympy.Matrix of shape (n, n)

    Raises
    ------
    InputError
        For threshold and assign (not elementary), a bad index, ``i == j`` for a swap of
        rows or columns, ``src == dst``, or a non-permutation.
    InputTypeError
        If an argument has the wrong type.

    Examples
    --------
    >>> elementary_matrix("add_scaled_column", 3, src=0, dst=2, k=sp.Symbol("k"))
    Matrix([
    [1, 0, k],
    [0, 1, 0],
    [0, 0, 1]])
    >>> elementary_matrix("H", 3, perm=[2, 0, 1])
    Matrix([
    [0, 0, 1],
    [1, 0, 0],
    [0, 1, 0]])
    >>> elementary_matrix("swap_rows", 3, i=1, j=1)
    Traceback (most recent call last):
    ...
    graphnet.errors.InputError: elementary_matrix: swap_rows needs two different indices, got i = j = 1 (a swap with itself does not negate the determinant)
    """
    where = "elementary_matrix"
    canon = _resolve(name, where)
    if canon not in ELEMENTARY_SIDE:
        raise InputError(
            f"{where}: name: {canon} is not a multiplication by an elementary matrix; "
            f"expected one of {list(ELEMENTARY_SIDE)}"
        )
    n = _check_n(n, where)
    a = _check_args(canon, n, args, where)
    if canon in ("swap_columns", "swap_rows"):
        return _permutation_matrix(_transposition(n, a["i"], a["j"]))
    if canon == "swap_nodes":
        return _permutation_matrix(_transposition(n, a["i"], a["j"]))
    if canon == "permute_nodes":
        return _permutation_matrix(a["perm"])
    E = sp.eye(n)
    if canon == "add_scaled_column":
        E[a["src"], a["dst"]] = a["k"]  # I + k e_src e_dst^T
    else:  # add_scaled_row
        E[a["dst"], a["src"]] = a["k"]  # I + k e_dst e_src^T
    return E


def apply_symbolic(name: str, M, **args) -> sp.Matrix:
    """Apply an operator to a matrix exactly; the reference for the numeric operators.

    Parameters
    ----------
    name : str
        Operator name (:data:`MATRIX_OPERATORS`) or the seed's letter.
    M : sympy.Matrix, ndarray or network
        The matrix W (W[i, j] = edge i -> j). Arrays are converted exactly
        (:func:`exact_matrix`).
    **args
        The operator's arguments (:data:`OPERATOR_ARGS`):

        - A ``threshold(a)``: keep the entries with ``abs(w) > a``, zero the rest. A
          symbolic entry whose comparison is undecided becomes a ``Piecewise``.
        - N ``assign(i, j, value)``: ``W[i, j] = value``.
        - the others as in :func:`elementary_matrix`.

    Returns
    -------
    sympy.Matrix
        A new matrix; ``M`` is not modified.

    Raises
    ------
    InputError, InputTypeError
        As :func:`elementary_matrix`, or if ``M`` is not a square matrix.

    Examples
    --------
    >>> W = sp.Matrix([[1, 2], [3, 4]])
    >>> apply_symbolic("swap_rows", W, i=0, j=1)
    Matrix([
    [3, 4],
    [1, 2]])
    >>> apply_symbolic("add_scaled_row", W, src=0, dst=1, k=-3)
    Matrix([
    [1,  2],
    [0, -2]])
    >>> apply_symbolic("threshold", W, a=2)
    Matrix([
    [0, 0],
    [3, 4]])
    >>> apply_symbolic("permute_nodes", W, perm=[1, 0])
    Matrix([
    [4, 3],
    [2, 1]])
    """
    where = "apply_symbolic"
    canon = _resolve(name, where)
    if not isinstance(M, sp.MatrixBase):
        M = exact_matrix(M)
    if M.rows != M.cols or M.rows == 0:
        raise InputError(f"{where}: M: expected a non-empty square matrix, got shape {M.shape}")
    n = M.rows
    if canon == "threshold":
        a = _check_args(canon, n, args, where)["a"]

        def keep(w):
            cond = sp.Abs(w) > a
            if cond is sp.true:
                return w
            if cond is sp.false:
                return sp.Integer(0)
            return sp.Piecewise((w, cond), (0, True))

        return M.applyfunc(keep)
    if canon == "assign":
        a = _check_args(canon, n, args, where)
        out = sp.Matrix(M)
        out[a["i"], a["j"]] = a["value"]
        return out
    if n < 2:
        raise InputError(f"{where}: M: {canon} needs at least a 2x2 matrix, got {M.shape}")
    E = elementary_matrix(canon, n, **args)
    side = ELEMENTARY_SIDE[canon]
    if side == "right":
        return M * E
    if side == "left":
        return E * M
    return E * M * E.T


# --------------------------------------------------------------------- proofs


@dataclass(frozen=True)
class Proof:
    """The outcome of a symbolic proof.

    Attributes
    ----------
    name : str
        Operator (or statement) proved.
    n : int
        Matrix order.
    claim : str
        What was to be shown.
    holds : bool
        True if every computation confirmed the claim.
    method : str
        How it was shown (and over which index pairs or permutations).
    detail : str
        The computed evidence, one line per check.
    counterexamples : tuple of Counterexample
        The concrete matrices showing that an "any" property really changes.
    """

    name: str
    n: int
    claim: str
    holds: bool
    method: str
    detail: str
    counterexamples: tuple = ()


class Counterexample(NamedTuple):
    """A concrete integer matrix on which an operator changes a property.

    ``before`` and ``after`` are lists of rows; ``value_before`` and ``value_after`` the
    property's exact values (det, rank, or charpoly coefficients, leading first).
    """

    prop: str
    name: str
    args: dict
    before: list
    after: list
    value_before: object
    value_after: object


def _claim_text(canon: str) -> str:
    c = CONTRACTS[canon]
    return f"det {c.det}, rank {c.rank}, spectrum {c.spectrum}, function {c.function}"


def _concrete_invariant(M: sp.Matrix, prop: str):
    if prop == "det":
        return M.det()
    if prop == "rank":
        return M.rank()
    return tuple(M.charpoly(_LAMBDA).all_coeffs())


def _counterexample(canon: str, n: int, args: dict, prop: str, seed: int):
    """Search small integer matrices for one where ``prop`` changes under the operator."""
    rng = make_rng(seed)
    for _ in range(500):
        M = sp.Matrix(rng.integers(-3, 4, size=(n, n)).tolist())
        if prop == "rank":  # start rank-deficient so that the rank can also grow
            M[n - 1, :] = M[0, :]
        M2 = apply_symbolic(canon, M, **args)
        before, after = _concrete_invariant(M, prop), _concrete_invariant(M2, prop)
        if before != after:
            return M, M2, before, after
    return None


def _example_args(canon: str, n: int) -> dict:
    return {
        "threshold": {"a": 1},
        "swap_columns": {"i": 0, "j": 1},
        "add_scaled_column": {"src": 0, "dst": 1, "k": 1},
        "swap_rows": {"i": 0, "j": 1},
        "add_scaled_row": {"src": 0, "dst": 1, "k": 1},
        "permute_nodes": {"perm": [*range(1, n), 0]},
        "swap_nodes": {"i": 0, "j": 1},
        "assign": {"i": 0, "j": n - 1, "value": 5},
    }[canon]


def _as_int(v):
    """An exact integer invariant (or tuple of them) as Python ints."""
    return tuple(int(c) for c in v) if isinstance(v, tuple) else int(v)


def _prove_counterexamples(canon, n, props, lines, found_all) -> bool:
    """Find, for each property, a concrete case where it changes ("any" is real).

    A property the contract *promises* is refuted by such a case; so this returns True
    only if every property in ``props`` is "any" and a change was found for each.
    """
    ok = True
    contract = CONTRACTS[canon]
    args = _example_args(canon, n)
    for t, prop in enumerate(props):
        claim = getattr(contract, prop)
        found = _counterexample(canon, n, args, prop, seed=1000 * n + t)
        if found is None:
            ok = False
            lines.append(f"{prop} '{claim}': no case found where it changes ({canon}({args}))")
            continue
        M, M2, before, after = found
        found_all.append(
            Counterexample(
                prop, canon, dict(args), [[int(x) for x in row] for row in M.tolist()],
                [[int(x) for x in row] for row in M2.tolist()], _as_int(before), _as_int(after),
            )
        )
        if claim == "any":
            verdict = "is real"
        elif claim == "negated" and after == -before:
            verdict = "is not proved (only examples are searched)"
        else:
            verdict = "is REFUTED"
        ok = ok and claim == "any"
        lines.append(
            f"{prop} '{claim}' {verdict}: {canon}({args}) maps {_fmt(M)} to {_fmt(M2)}; "
            f"{prop} {before} -> {after}"
        )
    return ok


def _elementary_cases(canon: str, n: int) -> tuple[list, str]:
    """The argument sets an elementary operator is proved over, and their description."""
    if canon == "permute_nodes":
        if n <= _ALL_PERMS_MAX_N:
            perms = [list(p) for p in itertools.permutations(range(n))]
            return [{"perm": p} for p in perms], f"all {len(perms)} permutations"
        pairs = list(itertools.combinations(range(n), 2))
        return [{"perm": _transposition(n, i, j)} for i, j in pairs], (
            f"the {len(pairs)} transpositions, which generate S_{n} (an identity that holds "
            "for every generic W is kept under composition of the moves)"
        )
    ordered = canon in ("add_scaled_column", "add_scaled_row")
    pairs = _pairs(n, ordered)
    if ordered:
        cases = [{"src": p, "dst": q, "k": _K} for p, q in pairs]
    else:
        cases = [{"i": p, "j": q} for p, q in pairs]
    scope = "all" if n <= _ALL_PAIRS_MAX_N else "a deterministic sample of"
    return cases, f"{scope} {len(pairs)} {'ordered ' if ordered else ''}index pairs"


def _relabelling(canon: str, n: int, args: dict):
    """The node permutation an operator is, if it is one (H), else None."""
    if canon == "permute_nodes":
        return args["perm"]
    if canon == "swap_nodes":
        return _transposition(n, args["i"], args["j"])
    return None


def _prove_elementary(canon: str, n: int, lines: list, found: list) -> tuple[bool, str]:
    """Prove what the contract promises on the generic matrix; counterexamples for "any"."""
    contract = CONTRACTS[canon]
    W = generic_matrix(n)
    K = _ring(n, _K)
    D0 = _dm(W, K)
    d0 = _det(D0)
    cp0 = D0.charpoly() if contract.spectrum == "kept" else None
    cases, scope = _elementary_cases(canon, n)
    counts = {"det": 0, "rank": 0, "spectrum": 0, "function": 0}
    for t, args in enumerate(cases):
        E = elementary_matrix(canon, n, **args)
        W2 = apply_symbolic(canon, W, **args)
        D2 = _dm(W2, K)
        d2 = _det(D2)
        if contract.det == "unchanged":
            counts["det"] += d2 - d0 == 0
        elif contract.det == "negated":
            counts["det"] += d2 + d0 == 0
        dE = _det(_dm(E, K))
        if contract.rank == "kept":
            counts["rank"] += dE.is_ground and dE != 0
        if contract.spectrum == "kept":
            counts["spectrum"] += D2.charpoly() == cp0
        if contract.function == "kept":
            perm = _relabelling(canon, n, args)
            counts["function"] += perm is not None and all(
                W2[a, b] == W[perm[a], perm[b]] for a in range(n) for b in range(n)
            )
        if t == 0:
            shown = {key: (v if v != _K else "k") for key, v in args.items()}
            lines.append(
                f"example {canon}({shown}): det(E) = {K.to_sympy(dE)}, det(W') = "
                + (f"{K.to_sympy(d2)}" if n == 2 else f"a polynomial with {len(d2.terms())} terms")
            )
    m = len(cases)
    statements = {
        "det": {
            "unchanged": "det(W') - det(W) == 0 as a polynomial in ZZ[k, w_ij]",
            "negated": "det(W') + det(W) == 0 as a polynomial in ZZ[k, w_ij]",
        },
        "rank": {"kept": "det(E) is a non-zero constant (E invertible), so rank(W') = rank(W)"},
        "spectrum": {"kept": "charpoly(W') == charpoly(W) coefficientwise"},
        "function": {
            "kept": "W'[a, b] == W[perm[a], perm[b]]: the same graph relabelled, so the same "
            "function once node attributes move along"
        },
    }
    ok = True
    for prop, count in counts.items():
        claim = getattr(contract, prop)
        if claim == "any":
            continue
        lines.append(f"{statements[prop][claim]}: {count}/{m}")
        ok = ok and count == m
    if contract.det == "negated":
        nonzero = d0 != 0
        ok = ok and nonzero
        lines.append(
            f"det(W) is a non-zero polynomial ({len(d0.terms())} terms), so 'negated' is not "
            f"'unchanged' and the seed's claim fails: {nonzero}"
        )
    anys = [p for p in ("det", "rank", "spectrum") if getattr(contract, p) == "any"]
    ok = _prove_counterexamples(canon, n, anys, lines, found) and ok
    if contract.function == "any":
        lines.append("function 'any': not a matrix property; no promise made")
    method = (
        f"exact polynomial identities in ZZ[k, w_ij] (k symbolic for C and F; determinant "
        f"by Laplace expansion with memoised minors, charpoly by sympy DomainMatrix "
        f"Berkowitz) over {scope}; rank via det(E) a non-zero constant; each 'any' by a "
        f"concrete integer counterexample"
    )
    return ok, method


def _prove_assign(n: int, lines: list, found: list) -> tuple[bool, str]:
    """det(W') - det(W) = (v - w_ij) * cofactor_ij, a non-zero polynomial; counterexamples."""
    W = generic_matrix(n)
    K = _ring(n, _VALUE)
    d0 = _det(_dm(W, K))
    pairs = sorted({(0, 0), (0, n - 1), (n - 1, 0)})
    ok = True
    for i, j in pairs:
        W2 = apply_symbolic("assign", W, i=i, j=j, value=_VALUE)
        diff = _det(_dm(W2, K)) - d0
        minor = W.copy()
        minor.row_del(i)
        minor.col_del(j)
        cof = (-1) ** (i + j) * _det(_dm(minor, K))
        identity = diff == (K.convert(_VALUE) - K.convert(W[i, j])) * cof
        nonzero = diff != 0
        ok = ok and identity and nonzero
        lines.append(
            f"assign(i={i}, j={j}, value=v): det(W') - det(W) == (v - w_{i}{j}) * cofactor: "
            f"{identity}; non-zero polynomial: {nonzero}"
        )
    ok = _prove_counterexamples("assign", n, ["det", "rank", "spectrum"], lines, found) and ok
    method = (
        f"exact polynomial identity in ZZ[v, w_ij] (cofactor expansion along row i) for "
        f"(i, j) in {pairs}; 'any' shown by concrete integer counterexamples"
    )
    return ok, method


def prove_contract(name: str, n: int) -> Proof:
    """Prove an operator's contract on a generic n x n matrix of symbols.

    The proof reads the claim from :data:`~graphnet.graph.contracts.CONTRACTS` and
    computes; nothing is a stored verdict, and a wrong contract is not proved:

    - a promised det relation: ``det(W') - det(W)`` ("unchanged") or
      ``det(W') + det(W)`` ("negated") is the zero polynomial in ZZ[k, w_ij], k a
      symbol for C and F, for every index pair (a deterministic sample for n > 5) or
      for H every permutation (n <= 4) or every transposition (which generate S_n);
      "negated" also needs det(W) != 0, else it would not differ from "unchanged";
    - a kept rank: det(E) is a non-zero constant, so E is invertible for every k;
    - a kept spectrum: the characteristic polynomials are equal;
    - a kept function: every entry of W' is the relabelled entry W[perm[a], perm[b]];
    - every "any" (det, rank, spectrum): a concrete integer matrix on which it changes
      (so "any" is real); for N also det(W') - det(W) = (v - w_ij) * cofactor_ij.

    A (threshold) and N (assign) are not elementary: they are shown by examples only.

    Parameters
    ----------
    name : str
        One of :data:`MATRIX_OPERATORS` or the seed's letter.
    n : int
        Matrix order, ``n >= 2``. n <= 5 takes well under a second per operator.

    Returns
    -------
    Proof

    Raises
    ------
    InputError
        If ``name`` has no matrix-level definition or ``n < 2``.

    Examples
    --------
    >>> p = prove_contract("D", 3)
    >>> p.name, p.holds, p.claim
    ('swap_rows', True, 'det negated, rank kept, spectrum any, function any')
    >>> prove_contract("H", 3).holds
    True
    """
    canon = _resolve(name, "prove_contract")
    n = _check_n(n, "prove_contract")
    lines: list[str] = []
    found: list[Counterexample] = []
    if canon == "threshold":
        ok = _prove_counterexamples("threshold", n, ["det", "rank", "spectrum"], lines, found)
        method = "concrete integer counterexamples (exact sympy det, rank, charpoly)"
    elif canon == "assign":
        ok, method = _prove_assign(n, lines, found)
    else:
        ok, method = _prove_elementary(canon, n, lines, found)
    if CONTRACTS[canon].det != "unchanged":
        lines.append(f"seed: {SEED_CLAIM}")
    return Proof(canon, n, _claim_text(canon), bool(ok), method, "\n".join(lines), tuple(found))


def prove_feedforward_nilpotent(n: int) -> Proof:
    """Prove that the weight matrix of any feedforward network (a DAG) is nilpotent.

    A DAG listed in a topological order has a strictly upper-triangular W = U. On the
    generic strictly upper-triangular U (symbols ``u_{i}{j}``, i < j) this computes
    det(U) = 0, charpoly(U) = lambda^n, U^n = 0 (and U^(n-1) != 0: n is tight). Any
    other node order is P U P^T (operator H), which is checked to be nilpotent too, for
    every permutation (n <= 4) or a deterministic sample; in general
    (P U P^T)^n = P U^n P^T = 0 because P^T P = I.

    Parameters
    ----------
    n : int
        Matrix order, ``n >= 2``.

    Returns
    -------
    Proof

    Examples
    --------
    >>> p = prove_feedforward_nilpotent(3)
    >>> p.holds
    True
    >>> print(p.detail.splitlines()[0])
    det(U) = 0
    """
    n = _check_n(n, "prove_feedforward_nilpotent")
    sep = "_" if n > 10 else ""
    U = sp.Matrix(n, n, lambda i, j: sp.Symbol(f"u_{i}{sep}{j}", real=True) if i < j else 0)
    syms = [U[i, j] for i in range(n) for j in range(i + 1, n)]
    K = sp.ZZ.poly_ring(*syms)
    D = _dm(U, K)
    det_zero = _det(D) == 0
    cp = D.charpoly()
    cp_ok = cp == [K.one] + [K.zero] * n
    pow_zero = (D**n).is_zero_matrix
    pow_tight = not (D ** (n - 1)).is_zero_matrix
    if n <= _ALL_PERMS_MAX_N:
        perms = [list(p) for p in itertools.permutations(range(n))]
        scope = f"all {len(perms)} permutations"
    else:
        rng = make_rng(n)
        perms = [_transposition(n, i, j) for i, j in itertools.combinations(range(n), 2)]
        perms += [rng.permutation(n).tolist() for _ in range(5)]
        scope = f"{len(perms)} permutations (all transpositions and 5 drawn with seed {n})"
    n_nil = 0
    for perm in perms:
        P = _permutation_matrix(perm)
        DP = _dm(P * U * P.T, K)  # the same DAG with its nodes reordered (operator H)
        n_nil += (DP**n).is_zero_matrix and DP.charpoly() == cp
    lines = [
        f"det(U) = {K.to_sympy(_det(D))}",
        f"charpoly(U) = lambda^{n}: {cp_ok}",
        f"U^{n} = 0: {pow_zero}; U^{n - 1} != 0 (the bound n is tight): {pow_tight}",
        f"(P U P^T)^{n} = 0 and charpoly lambda^{n} after reordering the nodes: "
        f"{n_nil}/{len(perms)} ({scope})",
        "every DAG has a topological order, in which its W is strictly upper triangular; "
        "so det(W) = 0 for every feedforward network, whatever the weights",
    ]
    holds = det_zero and cp_ok and pow_zero and pow_tight and n_nil == len(perms)
    return Proof(
        "feedforward_nilpotent",
        n,
        f"a DAG's {n}x{n} weight matrix is nilpotent: det 0, charpoly lambda^{n}, W^{n} = 0",
        bool(holds),
        "exact polynomial computation in ZZ[u_ij] (Laplace determinant; sympy DomainMatrix "
        f"Berkowitz charpoly and matrix powers) on the generic strictly upper-triangular matrix "
        f"and {scope} of it",
        "\n".join(lines),
    )


def prove_all(ns=(2, 3, 4, 5)) -> list[Proof]:
    """Prove every matrix operator's contract and the feedforward nilpotency for each n.

    Parameters
    ----------
    ns : iterable of int
        Matrix orders, each ``>= 2``.

    Returns
    -------
    list of Proof
        For each n, one Proof per name in :data:`MATRIX_OPERATORS` followed by
        :func:`prove_feedforward_nilpotent`.

    Examples
    --------
    >>> proofs = prove_all(ns=(2,))
    >>> len(proofs), all(p.holds for p in proofs)
    (9, True)
    """
    proofs = []
    for n in ns:
        for name in MATRIX_OPERATORS:
            proofs.append(prove_contract(name, n))
        proofs.append(prove_feedforward_nilpotent(n))
    return proofs


# ------------------------------------------------------------- exact checks


def exact_matrix(W) -> sp.Matrix:
    """Convert a float matrix (or a network's matrix) to exact sympy Rationals.

    Every float64 is a binary fraction, and ``sympy.Rational(float)`` returns exactly it
    (0.1 becomes 3602879701896397/36028797018963968), so nothing is rounded.

    Parameters
    ----------
    W : ndarray of shape (n, n), sympy.Matrix, or network
        A real matrix, or anything with a ``matrix()`` method.

    Returns
    -------
    sympy.Matrix of shape (n, n)

    Raises
    ------
    InputTypeError
        If ``W`` is not a real numeric matrix.
    InputError
        If ``W`` is not square, is empty, or has NaN or inf.

    Examples
    --------
    >>> exact_matrix(np.array([[0.5, 0.1], [2.0, -3.0]]))
    Matrix([
    [1/2, 3602879701896397/36028797018963968],
    [  2,                                 -3]])
    >>> exact_matrix(np.ones((2, 3)))
    Traceback (most recent call last):
    ...
    graphnet.errors.InputError: exact_matrix: W: expected a non-empty square matrix, got shape (2, 3)
    """
    arr, _ = _as_array(W, "exact_matrix", "W")
    if isinstance(arr, sp.MatrixBase):
        if arr.rows != arr.cols or arr.rows == 0:
            raise InputError(
                f"exact_matrix: W: expected a non-empty square matrix, got shape {arr.shape}"
            )
        if not all(x.is_Rational for x in arr):
            raise InputTypeError("exact_matrix: W: expected a matrix of exact rational numbers")
        return sp.Matrix(arr)
    n = arr.shape[0]
    if np.issubdtype(arr.dtype, np.floating):
        vals = [sp.Rational(float(x)) for x in arr.ravel()]
    else:
        vals = [sp.Integer(int(x)) for x in arr.ravel()]
    return sp.Matrix(n, n, vals)


def _exact_qq(M: sp.Matrix) -> DomainMatrix:
    return DomainMatrix.from_Matrix(M).convert_to(sp.QQ)


def exact_invariants(W) -> dict:
    """Exact determinant, rank and characteristic polynomial of a concrete matrix.

    Parameters
    ----------
    W : ndarray of shape (n, n), sympy.Matrix, or network
        Read exactly through :func:`exact_matrix`.

    Returns
    -------
    dict
        ``n`` (int), ``det`` (sympy Rational), ``rank`` (int), ``charpoly`` (tuple of
        Rationals, leading coefficient first: det(lambda I - W)), ``nilpotent`` (bool:
        charpoly is lambda^n) and ``mode`` (the network's mode, or None for a matrix).

    Examples
    --------
    >>> inv = exact_invariants(np.array([[0.0, 1.5], [0.0, 0.0]]))
    >>> inv["det"], inv["rank"], inv["charpoly"], inv["nilpotent"]
    (0, 1, (1, 0, 0), True)
    >>> exact_invariants(np.array([[1, 2], [3, 4]]))["det"]
    -2
    """
    arr, mode = _as_array(W, "exact_invariants", "W")
    M = exact_matrix(arr)
    D = _exact_qq(M)
    n = M.rows
    cp = tuple(sp.QQ.to_sympy(c) for c in D.charpoly())
    return {
        "n": n,
        "det": sp.QQ.to_sympy(D.det()),
        "rank": int(D.rank()),
        "charpoly": cp,
        "nilpotent": all(c == 0 for c in cp[1:]),
        "mode": mode,
    }


def _power(x: float, m: int) -> float:
    """x**m, inf on overflow."""
    try:
        return x**m
    except OverflowError:
        return math.inf


class ContractCheck(NamedTuple):
    """One property of :func:`check_contract`: (expected, observed, ok)."""

    expected: object
    observed: object
    ok: bool


def check_contract(name: str, before, after, *, rtol: float = 0.0) -> dict:
    """Check an operator's contract between two concrete matrices (or networks).

    The determinants, ranks and characteristic polynomials are computed exactly
    (:func:`exact_invariants`). The function the network computes is not a matrix
    property and is not checked here.

    Parameters
    ----------
    name : str
        An operator name (any key of :data:`~graphnet.graph.contracts.CONTRACTS`) or
        the seed's letter.
    before, after : ndarray of shape (n, n), sympy.Matrix, or network
        W before and after the operator.
    rtol : float, default 0.0
        0 compares exactly: ``after`` must be the exact image (true for B, D, H, and for
        C, F when the float products do not round, e.g. small integers or dyadic k).
        With ``rtol > 0`` the determinant and the charpoly coefficient of lambda^(n-m)
        are compared up to ``rtol * C(n, m) * s**m``, s the larger Frobenius norm, and the
        rank is numpy's numerical rank.

    Returns
    -------
    dict
        ``{"det": ContractCheck, "rank": ..., "spectrum": ...}``; each is a tuple
        ``(expected, observed, ok)`` with ``observed`` the pair (before, after) of exact
        values. ``ok`` is True when the contract says "any". When ``after`` is a network
        in feedforward mode there is also ``"nilpotent"``: expected True (a DAG).

    Raises
    ------
    InputError, InputTypeError
        For an unknown name, a bad matrix or a negative ``rtol``.

    Examples
    --------
    >>> W = np.array([[1.0, 2.0], [3.0, 5.0]])
    >>> res = check_contract("B", W, W[:, [1, 0]])
    >>> res["det"]
    ContractCheck(expected='negated', observed=(-1, 1), ok=True)
    >>> res["spectrum"].ok
    True
    >>> check_contract("C", W, W[:, [1, 0]])["det"].ok
    False
    """
    canon = canonical_name(name)
    if not isinstance(rtol, numbers.Real) or isinstance(rtol, bool) or not rtol >= 0:
        raise InputError(f"check_contract: rtol: expected a float >= 0, got {rtol!r}")
    contract = CONTRACTS[canon]
    inv0 = exact_invariants(before)
    inv1 = exact_invariants(after)
    d0, d1 = inv0["det"], inv1["det"]
    cp0, cp1 = inv0["charpoly"], inv1["charpoly"]
    r0, r1 = inv0["rank"], inv1["rank"]
    if rtol == 0:
        det_eq = {"unchanged": d1 == d0, "negated": d1 == -d0}
        spec_eq = cp0 == cp1
    else:
        a0 = np.asarray(exact_matrix(before).tolist(), dtype=float)
        a1 = np.asarray(exact_matrix(after).tolist(), dtype=float)
        scale = max(np.linalg.norm(a0), np.linalg.norm(a1), 1.0)
        n = inv0["n"]
        tol_det = rtol * _power(scale, n)
        det_eq = {
            "unchanged": abs(float(d1 - d0)) <= tol_det,
            "negated": abs(float(d1 + d0)) <= tol_det,
        }
        spec_eq = len(cp0) == len(cp1) and all(
            abs(float(c1 - c0)) <= rtol * math.comb(n, m) * _power(scale, m)
            for m, (c0, c1) in enumerate(zip(cp0, cp1))
        )
        r0, r1 = int(np.linalg.matrix_rank(a0)), int(np.linalg.matrix_rank(a1))
    out = {
        "det": ContractCheck(contract.det, (d0, d1), contract.det == "any" or det_eq[contract.det]),
        "rank": ContractCheck(contract.rank, (r0, r1), contract.rank == "any" or r0 == r1),
        "spectrum": ContractCheck(
            contract.spectrum, (cp0, cp1), contract.spectrum == "any" or spec_eq
        ),
    }
    if inv1["mode"] == "feedforward":
        out["nilpotent"] = ContractCheck(True, inv1["nilpotent"], inv1["nilpotent"])
    return out


# ------------------------------------------------------------- the init loop


@dataclass(frozen=True)
class InitLoopRun:
    """Result of :func:`seed_init_loop`.

    Attributes
    ----------
    a : float
        a after the loop (may be inf: a grows like 3^k).
    b : float
        b after the loop.
    iterations : int
        Number of times the body ran.
    terminated : bool
        False if the loop was cut off by ``max_iter``.
    a0, N : float
        The inputs.
    """

    a: float
    b: float
    iterations: int
    terminated: bool
    a0: float = 1.0
    N: float = 0.0


def seed_init_loop(a, N, *, max_iter: int = 10_000) -> InitLoopRun:
    """Run the seed's initialisation loop literally, in float64, with an iteration cap.

    The seed's C#: ``for (b = 0.5; b < N; b++) { a = a*(1+b); b = b/2; }`` -- the body,
    then the for-increment ``b++``, then the test. So b_{k+1} = b_k/2 + 1, which tends
    to 2: the loop never ends for N > 2 (see :func:`init_loop_analysis`).

    Parameters
    ----------
    a : float
        The initial value of a.
    N : float
        The loop bound.
    max_iter : int, default 10000
        The cap on the number of body executions.

    Returns
    -------
    InitLoopRun

    Raises
    ------
    InputTypeError
        If ``a`` or ``N`` is not a real number, or ``max_iter`` not an int.
    InputError
        If ``a`` or ``N`` is NaN, ``a`` is infinite, or ``max_iter < 0``.

    Examples
    --------
    >>> run = seed_init_loop(1.0, 1.5)
    >>> run.iterations, run.b, run.a, run.terminated
    (2, 1.625, 3.375, True)
    >>> seed_init_loop(1.0, 3, max_iter=100).terminated
    False
    """
    for arg, x in (("a", a), ("N", N)):
        if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Real):
            raise InputTypeError(
                f"seed_init_loop: {arg}: expected a real number, got {type(x).__name__} {x!r}"
            )
        if math.isnan(float(x)):
            raise InputError(f"seed_init_loop: {arg}: expected a number, got NaN")
    if not math.isfinite(float(a)):
        raise InputError(f"seed_init_loop: a: expected a finite number, got {a!r}")
    if not _is_int(max_iter):
        raise InputTypeError(
            f"seed_init_loop: max_iter: expected an int, got {type(max_iter).__name__}"
        )
    if max_iter < 0:
        raise InputError(f"seed_init_loop: max_iter: expected an int >= 0, got {max_iter}")
    a0 = a = float(a)  # Python floats: overflow gives inf, as in C#
    N = float(N)
    b = 0.5
    iterations = 0
    while b < N:
        if iterations >= max_iter:
            return InitLoopRun(a, b, iterations, False, a0, N)
        a = a * (1 + b)
        b = b / 2
        b += 1  # the for-increment b++
        iterations += 1
    return InitLoopRun(a, b, iterations, True, a0, N)


@dataclass(frozen=True)
class InitLoopAnalysis:
    """Exact analysis of the seed's init loop for one N (see :func:`init_loop_analysis`).

    Attributes
    ----------
    N : sympy.Rational
        The bound, exactly.
    recurrence : str
        The recurrence the loop implements.
    closed_form : sympy.Expr
        b_k, derived by ``sympy.rsolve``.
    closed_form_verified : bool
        It satisfies the recurrence and the start value, and equals the exactly iterated
        b_k for k < 40.
    b_first : tuple
        b_0 .. b_5 exactly.
    limit_b : sympy.Expr
        lim b_k (2).
    terminates : bool
        Whether the loop ends in exact arithmetic (N < 2).
    iterations : int or None
        Smallest k with b_k >= N (exact iteration), None if it never ends.
    iterations_formula : int or None
        The same from the closed form: smallest k with 2^k >= 3 / (2 (2 - N)), 0 if
        N <= 1/2.
    a_factor : sympy.Rational or None
        a_final / a_0 = prod_{j < iterations} (1 + b_j), exactly.
    float_steps_to_two : int
        Iterations after which the float64 recursion b = b/2 + 1 gives exactly 2.0.
    float_fixed_point : bool
        2.0 / 2 + 1 == 2.0 in float64: once there, b never moves.
    float_terminates : bool
        Whether the literal float loop ends (float(N) <= 2.0).
    float_iterations : int or None
        Its iteration count (from :func:`seed_init_loop`), None if it does not end.
    a_closed_form : sympy.Expr
        a_k / a_0 as a product.
    ratio_limit : sympy.Expr
        lim a_{k+1} / a_k = lim (1 + b_k) (3).
    growth_constant : float
        C = lim a_k / (a_0 3^k) = prod_{j >= 0} (1 - 2^-(j+1)).
    growth_verified : bool
        (1 + b_j)/3 == 1 - 2^-(j+1) symbolically, and C matches the partial product.
    notes : tuple of str
        Further evidence lines.
    """

    N: sp.Rational
    recurrence: str
    closed_form: sp.Expr
    closed_form_verified: bool
    b_first: tuple
    limit_b: sp.Expr
    terminates: bool
    iterations: int | None
    iterations_formula: int | None
    a_factor: sp.Rational | None
    float_steps_to_two: int
    float_fixed_point: bool
    float_terminates: bool
    float_iterations: int | None
    a_closed_form: sp.Expr
    ratio_limit: sp.Expr
    growth_constant: float
    growth_verified: bool
    notes: tuple = field(default=())

    def report(self) -> str:
        """Return the analysis as printable lines of evidence.

        Examples
        --------
        >>> print(init_loop_analysis(3).report().splitlines()[0])
        seed init loop, N = 3: b_{k+1} = b_k/2 + 1, b_0 = 1/2
        """
        lines = [
            f"seed init loop, N = {self.N}: {self.recurrence}"
            + ("" if self.N.q == 1 else f" (N = {float(self.N)!r})"),
            f"closed form (rsolve): b_k = {self.closed_form}; "
            f"verified: {self.closed_form_verified}",
            f"b_0..b_5 = {', '.join(str(b) for b in self.b_first)}; limit {self.limit_b}",
            f"exact arithmetic: terminates = {self.terminates}, iterations = {self.iterations} "
            f"(closed form: {self.iterations_formula}), a / a_0 = {self.a_factor}",
            f"float64: b == 2.0 after {self.float_steps_to_two} steps; fixed point: "
            f"{self.float_fixed_point}; loop terminates = {self.float_terminates}, "
            f"iterations = {self.float_iterations}",
            f"a_k / a_0 = {self.a_closed_form}; a_(k+1)/a_k -> {self.ratio_limit}; "
            f"a_k ~ {self.growth_constant:.15g} * a_0 * {self.ratio_limit}^k "
            f"(verified: {self.growth_verified})",
        ]
        return "\n".join(lines + list(self.notes))


def init_loop_analysis(N) -> InitLoopAnalysis:
    """Analyse the seed's init loop exactly: when it ends, and how fast a grows.

    The loop ``for (b = 0.5; b < N; b++) { a = a*(1+b); b = b/2; }`` sets
    b_{k+1} = b_k/2 + 1, b_0 = 1/2. ``sympy.rsolve`` gives b_k = 2 - (3/2) 2^-k, which
    increases to 2: the loop ends after the smallest k with b_k >= N when N < 2
    (0 iterations when N <= 1/2) and never in exact arithmetic when N >= 2. In float64
    b_k rounds to exactly 2.0 after finitely many steps, a fixed point, so the literal
    float loop does end for N == 2 and never for N > 2. Meanwhile
    a_k = a_0 prod_{j<k} (1 + b_j), with ratio 1 + b_k -> 3: a_k ~ C a_0 3^k.

    Parameters
    ----------
    N : int, float, Fraction or sympy.Rational
        The loop bound (floats are taken exactly).

    Returns
    -------
    InitLoopAnalysis

    Raises
    ------
    InputError, InputTypeError
        If ``N`` is not a finite real number.

    Examples
    --------
    >>> an = init_loop_analysis(1.9)
    >>> an.closed_form, an.limit_b, an.terminates, an.iterations, an.ratio_limit
    (2 - 3/(2*2**k), 2, True, 4, 3)
    >>> init_loop_analysis(2).float_terminates, init_loop_analysis(2).terminates
    (True, False)
    """
    N = _exact_scalar(N, "init_loop_analysis", "N")
    if not (N.is_Rational):
        raise InputTypeError(f"init_loop_analysis: N: expected a rational number, got {N!r}")
    sym = _init_loop_symbolic()
    half = sp.Rational(1, 2)
    terminates = bool(N < sym["limit_b"])

    iterations = iterations_formula = a_factor = None
    if terminates:
        b, it, factor = half, 0, sp.Integer(1)
        while b < N:
            factor *= 1 + b  # a = a*(1+b)
            b = b / 2 + 1
            it += 1
        iterations, a_factor = it, factor
        if N <= half:
            iterations_formula = 0
        else:  # 2 - (3/2) 2^-k >= N  <=>  2^k >= 3 / (2 (2 - N)) = x; smallest k: bit length
            x = sp.Rational(3, 2) / (2 - N)
            m = int(sp.ceiling(x))
            iterations_formula = (m - 1).bit_length()

    # b only grows and is stuck at 2.0 after `float_steps_to_two` iterations: a float
    # loop that has not ended by then never will, so this cap decides termination
    run = seed_init_loop(1.0, float(N), max_iter=sym["steps"] + 1)
    float_terminates = run.terminated
    return InitLoopAnalysis(
        N=N,
        recurrence="b_{k+1} = b_k/2 + 1, b_0 = 1/2",
        closed_form=sym["closed"],
        closed_form_verified=sym["verified"],
        b_first=sym["b_first"],
        limit_b=sym["limit_b"],
        terminates=terminates,
        iterations=iterations,
        iterations_formula=iterations_formula,
        a_factor=a_factor,
        float_steps_to_two=sym["steps"],
        float_fixed_point=sym["fixed"],
        float_terminates=float_terminates,
        float_iterations=run.iterations if run.terminated else None,
        a_closed_form=sym["a_closed"],
        ratio_limit=sym["ratio_limit"],
        growth_constant=sym["C"],
        growth_verified=sym["growth_verified"],
        notes=sym["notes"],
    )


@functools.lru_cache(maxsize=1)
def _init_loop_symbolic() -> dict:
    """The N-independent part of :func:`init_loop_analysis` (rsolve, limits), computed once."""
    kk = sp.Symbol("k", integer=True, nonnegative=True)
    bf = sp.Function("b")
    half = sp.Rational(1, 2)
    closed = sp.rsolve(bf(kk + 1) - bf(kk) / 2 - 1, bf(kk), {bf(0): half})
    k = sp.Symbol("k")
    closed = closed.subs(kk, k)
    # verify: start value, recurrence, and the exactly iterated b_k
    exact_b = [half]
    for _ in range(40):
        exact_b.append(exact_b[-1] / 2 + 1)
    verified = (
        closed.subs(k, 0) == half
        and sp.simplify(closed.subs(k, k + 1) - (closed / 2 + 1)) == 0
        and all(closed.subs(k, i) == exact_b[i] for i in range(40))
    )
    # float64: the recursion reaches 2.0 exactly, a fixed point
    bfl, steps = 0.5, 0
    while bfl != 2.0:
        bfl = bfl / 2 + 1
        steps += 1
    j = sp.Symbol("j", integer=True, nonnegative=True)
    # a_k / a_0 = prod_{j<k} (1 + b_j); (1 + b_j) / 3 = 1 - 2^-(j+1), so
    # a_k ~ C a_0 3^k with C = prod_j (1 - 2^-(j+1)) = (1/2; 1/2)_inf
    term_ok = sp.simplify((1 + closed.subs(k, j)) / 3 - (1 - half ** (j + 1))) == 0
    # the product to float precision (the factors after the 80th are 1 to within 2^-81),
    # and independently Euler's pentagonal series phi(q) = sum_m (-1)^m q^(m(3m-1)/2), q = 1/2
    partial = math.prod(1 - 0.5 ** (i + 1) for i in range(80))
    series = sum(
        (-1) ** m * sp.Rational(1, 2) ** (m * (3 * m - 1) // 2) for m in range(-12, 13)
    )
    C = float(series)
    return {
        "closed": closed,
        "verified": bool(verified),
        "b_first": tuple(exact_b[:6]),
        "limit_b": sp.limit(closed, k, sp.oo),
        "steps": steps,
        "fixed": 2.0 / 2 + 1 == 2.0,
        "a_closed": sp.Product(1 + closed.subs(k, j), (j, 0, k - 1)),
        "ratio_limit": sp.limit(1 + closed, k, sp.oo),
        "C": C,
        "growth_verified": bool(term_ok) and abs(C - partial) <= 1e-15,
        "notes": (
            f"(1 + b_j)/3 == 1 - 2^-(j+1): {term_ok}; C = prod_j (1 - 2^-(j+1)) = {partial!r} "
            f"(80 factors), pentagonal series = {C!r}",
            "N < 2: the loop ends; N >= 2: it never ends in exact arithmetic "
            "(b_k = 2 - (3/2) 2^-k < 2 for all k)",
        ),
    }
