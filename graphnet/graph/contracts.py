"""What each graph operator promises about the weight matrix W.

A :class:`Contract` states, for one operator, how the determinant, the rank, the
spectrum (characteristic polynomial) of W and the function the network computes may
change. ``"any"`` means *no promise*: the property may change, and
:mod:`graphnet.graph.proofs` exhibits a case where it does.

W[i, j] is the weight of the edge i -> j (row = from, column = to). The operators
(:mod:`graphnet.graph.operators`) import these contracts; :mod:`graphnet.graph.proofs`
proves them on a generic symbolic matrix (:mod:`graphnet.graph.symbolic`) and
:mod:`graphnet.graph.exact` checks them exactly on concrete matrices.

The seed's letters:

====== ================================== ===================== ==========
letter seed's words                       operation on W        determinant
====== ================================== ===================== ==========
A      only weights greater than A remain remove abs(w) <= a    any
B      swap two columns                   W @ P_ij              negated
C      add n times a column to another    col dst += k col src  unchanged
D      swap two rows                      P_ij @ W              negated
F      add n times a row to another       row dst += k row src  unchanged
H      swap the order of nodes            P W P^T               unchanged
N      assign a weight                    W[i, j] = value       any
====== ================================== ===================== ==========

B, C, D and F need two *different* indices: swapping a row with itself keeps the
determinant (it is not negated) and adding k times a column to itself multiplies the
determinant by 1 + k.
"""

from __future__ import annotations

from dataclasses import dataclass

from graphnet.errors import InputError, InputTypeError

__all__ = [
    "Contract",
    "CONTRACTS",
    "LETTERS",
    "SEED_CLAIM",
    "canonical_name",
    "get_contract",
]

_ALLOWED = {
    "det": ("unchanged", "negated", "any"),
    "rank": ("kept", "any"),
    "spectrum": ("kept", "any"),
    "function": ("kept", "any"),
}


@dataclass(frozen=True)
class Contract:
    """The algebraic promise of one operator.

    Parameters
    ----------
    det : {"unchanged", "negated", "any"}
        det(W') compared with det(W).
    rank : {"kept", "any"}
        rank(W') compared with rank(W).
    spectrum : {"kept", "any"}
        Whether W' has the same characteristic polynomial (eigenvalues with
        multiplicity) as W.
    function : {"kept", "any"}
        Whether the network computes the same input -> output function (node
        attributes moving along with the nodes).
    note : str
        One or two sentences saying why.

    Raises
    ------
    InputError
        If a field is not one of its allowed values.

    Examples
    --------
    >>> c = Contract(det="negated", rank="kept", spectrum="any", function="any",
    ...              note="a swap")
    >>> c.det
    'negated'
    >>> Contract(det="same", rank="kept", spectrum="any", function="any", note="")
    Traceback (most recent call last):
    ...
    graphnet.errors.InputError: Contract.det: expected one of ('unchanged', 'negated', 'any'), got 'same'
    """

    det: str
    rank: str
    spectrum: str
    function: str
    note: str

    def __post_init__(self):
        for field, allowed in _ALLOWED.items():
            value = getattr(self, field)
            if value not in allowed:
                raise InputError(f"Contract.{field}: expected one of {allowed}, got {value!r}")
        if not isinstance(self.note, str):
            raise InputTypeError(f"Contract.note: expected str, got {type(self.note).__name__}")


_PERMUTATION = Contract(
    det="unchanged",
    rank="kept",
    spectrum="kept",
    function="kept",
    note=(
        "W' = P W P^T with P a permutation matrix: a similarity (P^T = P^-1), so det, rank "
        "and eigenvalues are kept; it only relabels the nodes, so with the node attributes "
        "moved along the network is the same graph and computes the same function."
    ),
)

CONTRACTS: dict[str, Contract] = {
    "threshold": Contract(
        det="any",
        rank="any",
        spectrum="any",
        function="any",
        note="Zeroing the weights with abs(w) <= a changes W arbitrarily; no promise.",
    ),
    "swap_columns": Contract(
        det="negated",
        rank="kept",
        spectrum="any",
        function="any",
        note=(
            "W' = W P_ij (i != j): det(P_ij) = -1, so det is negated; P_ij is invertible, "
            "so rank is kept. Node i takes node j's in-edges: not a similarity."
        ),
    ),
    "add_scaled_column": Contract(
        det="unchanged",
        rank="kept",
        spectrum="any",
        function="any",
        note=(
            "W' = W (I + k e_src e_dst^T) (src != dst): a shear with det 1, so det and rank "
            "are kept; the in-edges of dst change, and so do the eigenvalues."
        ),
    ),
    "swap_rows": Contract(
        det="negated",
        rank="kept",
        spectrum="any",
        function="any",
        note=(
            "W' = P_ij W (i != j): det(P_ij) = -1, so det is negated; rank is kept. "
            "Node i takes node j's out-edges: not a similarity."
        ),
    ),
    "add_scaled_row": Contract(
        det="unchanged",
        rank="kept",
        spectrum="any",
        function="any",
        note=(
            "W' = (I + k e_dst e_src^T) W (src != dst): a shear with det 1, so det and rank "
            "are kept; the out-edges of dst change, and so do the eigenvalues."
        ),
    ),
    "permute_nodes": _PERMUTATION,
    "swap_nodes": _PERMUTATION,
    "assign": Contract(
        det="any",
        rank="any",
        spectrum="any",
        function="any",
        note="Setting one weight changes det by (value - w_ij) times the (i, j) cofactor.",
    ),
    "split_edge": Contract(
        det="any",
        rank="any",
        spectrum="any",
        function="any",
        note="Inserts a node into an edge: W grows by one row and column; no promise.",
    ),
    "add_edge": Contract(
        det="any",
        rank="any",
        spectrum="any",
        function="any",
        note="Sets a zero weight to a non-zero value (an assign); no promise.",
    ),
    "remove_node": Contract(
        det="any",
        rank="any",
        spectrum="any",
        function="any",
        note="Deletes a row and a column of W; no promise.",
    ),
    "regrow": Contract(
        det="any",
        rank="any",
        spectrum="any",
        function="any",
        note="Adds new random edges; no promise.",
    ),
    "prune_smallest": Contract(
        det="any",
        rank="any",
        spectrum="any",
        function="any",
        note="Removes the edges with the smallest abs(w) (a threshold at a quantile); no promise.",
    ),
    "prune_per_layer": Contract(
        det="any",
        rank="any",
        spectrum="any",
        function="any",
        note="Removes the edges with the smallest abs(w) within each layer group; no promise.",
    ),
}

LETTERS: dict[str, str] = {
    "A": "threshold",
    "B": "swap_columns",
    "C": "add_scaled_column",
    "D": "swap_rows",
    "F": "add_scaled_row",
    "H": "permute_nodes",
    "N": "assign",
}

SEED_CLAIM = (
    "The seed (last section, 'my own network') claims that none of the moves A-N changes the "
    "determinant ('行列式的变化，不会变化值'). Only H (and C, F with two different indices) keep "
    "it; B and D negate it; A and N change it. For a feedforward network det(W) = 0 anyway, "
    "because W is nilpotent."
)


def canonical_name(name: str) -> str:
    """Return the canonical operator name for a name or one of the seed's letters.

    Parameters
    ----------
    name : str
        A key of :data:`CONTRACTS` or a key of :data:`LETTERS`.

    Returns
    -------
    str
        The canonical name.

    Raises
    ------
    InputTypeError
        If ``name`` is not a string.
    InputError
        If ``name`` is neither a known operator nor a known letter.

    Examples
    --------
    >>> canonical_name("H")
    'permute_nodes'
    >>> canonical_name("swap_rows")
    'swap_rows'
    >>> canonical_name("E")
    Traceback (most recent call last):
    ...
    graphnet.errors.InputError: name: expected an operator name or a letter in ['A', 'B', 'C', 'D', 'F', 'H', 'N'], got 'E'
    """
    if not isinstance(name, str):
        raise InputTypeError(f"name: expected str, got {type(name).__name__} {name!r}")
    if name in CONTRACTS:
        return name
    if name in LETTERS:
        return LETTERS[name]
    raise InputError(
        f"name: expected an operator name or a letter in {sorted(LETTERS)}, got {name!r}"
    )


def get_contract(name: str) -> Contract:
    """Return the :class:`Contract` of an operator, by name or by the seed's letter.

    Parameters
    ----------
    name : str
        A key of :data:`CONTRACTS` or a key of :data:`LETTERS`.

    Returns
    -------
    Contract

    Raises
    ------
    InputTypeError, InputError
        As :func:`canonical_name`.

    Examples
    --------
    >>> get_contract("B").det
    'negated'
    >>> get_contract("swap_nodes") == get_contract("permute_nodes")
    True
    """
    return CONTRACTS[canonical_name(name)]
