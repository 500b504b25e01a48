"""Concrete matrices read exactly: their invariants, and a contract checked between two.

Every float64 is a binary fraction, so a numeric W converts to sympy Rationals without
rounding (:func:`exact_matrix`); :func:`exact_invariants` gives its exact determinant,
rank and characteristic polynomial, and :func:`check_contract` checks an operator's
:class:`~graphnet.graph.contracts.Contract` between W before and after the operator.

Matrix arguments may be numpy arrays or networks: anything with a ``matrix()`` method
(and optionally ``mode``) is read through it.
"""

from __future__ import annotations

import math
import numbers
from fractions import Fraction
from typing import NamedTuple

import numpy as np
import sympy as sp
from sympy.polys.matrices import DomainMatrix

from graphnet._checks import is_int
from graphnet.errors import InputError, InputTypeError
from graphnet.graph.contracts import CONTRACTS, canonical_name

__all__ = [
    "exact_matrix",
    "exact_invariants",
    "ContractCheck",
    "check_contract",
]


def _exact_scalar(x, where: str, arg: str):
    """A scalar as an exact sympy number (floats exactly, as binary fractions) or expression."""
    if isinstance(x, sp.Basic):
        return x
    if isinstance(x, (bool, np.bool_)):
        raise InputTypeError(f"{where}: {arg}: expected a number, got bool {x!r}")
    if is_int(x):
        return sp.Integer(int(x))
    if isinstance(x, Fraction):
        return sp.Rational(x.numerator, x.denominator)
    if isinstance(x, numbers.Real):
        x = float(x)
        if not math.isfinite(x):
            raise InputError(f"{where}: {arg}: expected a finite number, got {x!r}")
        return sp.Rational(x)  # exact: every float is a binary fraction
    raise InputTypeError(f"{where}: {arg}: expected a number, got {type(x).__name__} {x!r}")


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
    """M as a DomainMatrix over the rationals QQ."""
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
