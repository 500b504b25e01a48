"""The operators as exact sympy operations on W: the reference the numeric operators follow.

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

:mod:`graphnet.graph.proofs` proves each operator's
:class:`~graphnet.graph.contracts.Contract` on these definitions;
:mod:`graphnet.graph.exact` reads concrete matrices exactly and checks a contract on them.
"""

from __future__ import annotations

import sympy as sp

from graphnet._checks import is_int
from graphnet.errors import InputError, InputTypeError
from graphnet.graph.contracts import canonical_name
from graphnet.graph.exact import _exact_scalar, exact_matrix

__all__ = [
    "MATRIX_OPERATORS",
    "OPERATOR_ARGS",
    "ELEMENTARY_SIDE",
    "generic_matrix",
    "elementary_matrix",
    "apply_symbolic",
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


# --------------------------------------------------------------------------- helpers


def _check_n(n, where: str) -> int:
    """Validate a matrix order n >= 2."""
    if not is_int(n):
        raise InputTypeError(f"{where}: n: expected an int >= 2, got {type(n).__name__} {n!r}")
    if n < 2:
        raise InputError(f"{where}: n: expected an int >= 2, got {n}")
    return int(n)


def _index(x, n: int, where: str, arg: str) -> int:
    """Validate one node index."""
    if not is_int(x):
        raise InputTypeError(f"{where}: {arg}: expected an int index, got {type(x).__name__} {x!r}")
    if not 0 <= x < n:
        raise InputError(f"{where}: {arg}={x} out of range for a {n}x{n} matrix")
    return int(x)


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
        if not all(is_int(p) for p in perm) or sorted(int(p) for p in perm) != list(range(n)):
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
    """range(n) with i and j swapped."""
    perm = list(range(n))
    perm[i], perm[j] = perm[j], perm[i]
    return perm

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
    if not is_int(n) or n < 1:
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
        (:func:`~graphnet.graph.exact.exact_matrix`).
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
