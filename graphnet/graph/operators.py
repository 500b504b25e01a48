"""The seed's operators A-N: each rewrites a network's weight matrix W and returns a new network.

The seed's last section: "使用 点 改图, 使用 图 训练" -- use the operators to change the
graph, use the graph to train. Every operator is a plain function, the network first and
keyword arguments after; it returns a **new** :class:`~graphnet.graph.network.GraphNetwork`
and never touches its input. ``W[i, j]`` is the weight of the edge ``i -> j`` (row =
from, column = to); the promise each operator keeps is its
:class:`~graphnet.graph.contracts.Contract`, proved in :mod:`graphnet.graph.proofs`.

The seed's operators are A threshold, B swap_columns, C add_scaled_column, D swap_rows,
F add_scaled_row, H permute_nodes and swap_nodes, N assign; ``graphnet ops`` (from their
specs in :mod:`graphnet.graph.registry`) lists each with its arguments and what it keeps.
The lab's extras live in :mod:`graphnet.graph.extras`; the argument checks, the safety gate
(refuse or repair) and the rule for fixed edges in :mod:`graphnet.graph.gate`.

Decisions (binding for the lab)
-------------------------------
* **The scale is called ``k``** (``add_scaled_row(net, src, dst, k)``), as in
  :data:`graphnet.graph.symbolic.OPERATOR_ARGS`, so a record's arguments feed
  :func:`graphnet.graph.symbolic.apply_symbolic` unchanged.
* **H convention**: new node ``a`` is old node ``perm[a]`` and every node attribute moves
  with its node; the function is kept up to the order of the data and output columns
  (:func:`io_order`), exactly when ``perm`` keeps the relative order of the inputs and of
  the outputs (what the sampler draws by default). See :func:`permute_nodes`.
* **Self-pairs**: B and D with ``i == j`` and C and F with ``src == dst`` are refused
  (a swap with itself does not negate det; adding ``k`` times a line to itself scales it
  by ``1 + k`` and multiplies det by ``1 + k``). ``swap_nodes(net, i, i)`` is allowed:
  it is the identity permutation, which keeps H's contract.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from graphnet.errors import InputError
from graphnet.graph.gate import _check_net, _finish, _finite, _index, _perm
from graphnet.graph.network import GraphNetwork

__all__ = ["threshold", "swap_columns", "add_scaled_column", "swap_rows", "add_scaled_row",
           "permute_nodes", "swap_nodes", "io_order", "IOOrder", "assign"]


# ----------------------------------------------------------------------------------------
# raw matrix results (shared by the operators and the samplers)
# ----------------------------------------------------------------------------------------


def _raw_swap_columns(W, i, j):
    W1 = W.copy()
    W1[:, [i, j]] = W[:, [j, i]]
    return W1


def _raw_swap_rows(W, i, j):
    W1 = W.copy()
    W1[[i, j], :] = W[[j, i], :]
    return W1


def _raw_add_scaled_column(W, src, dst, k):
    W1 = W.copy()
    with np.errstate(over="ignore", invalid="ignore"):
        W1[:, dst] = W[:, dst] + k * W[:, src]
    return W1


def _raw_add_scaled_row(W, src, dst, k):
    W1 = W.copy()
    with np.errstate(over="ignore", invalid="ignore"):
        W1[dst, :] = W[dst, :] + k * W[src, :]
    return W1


# ----------------------------------------------------------------------------------------
# implementations: (net, **args, repair) -> (new net, dropped edges, normalised args)
# ----------------------------------------------------------------------------------------


def _threshold(net, a, *, repair=False):
    where = "threshold"
    _check_net(net, where)
    a = _finite(a, where, "a")
    if a < 0:
        raise InputError(f"{where}: a: expected a finite number >= 0, got {a!r}")
    W = net.matrix()
    W[np.abs(W) <= a] = 0.0
    return net.replace(W=W), (), {"a": a}


def _swap_lines(net, i, j, repair, where, what):
    _check_net(net, where)
    n = net.n_nodes
    i = _index(i, n, where, "i", what)
    j = _index(j, n, where, "j", what)
    if i == j:
        raise InputError(
            f"{where}: i and j are both {i}; a {what} swapped with itself is no swap and "
            f"would not negate det (pass two different {what}s)"
        )
    raw = _raw_swap_columns if what == "column" else _raw_swap_rows
    new, dropped = _finish(net, raw(net.matrix(), i, j), where, repair,
                           fixed=raw(net.fixed_mask(), i, j))  # the flags move with W
    return new, dropped, {"i": i, "j": j}


def _swap_columns(net, i, j, *, repair=False):
    return _swap_lines(net, i, j, repair, "swap_columns", "column")


def _swap_rows(net, i, j, *, repair=False):
    return _swap_lines(net, i, j, repair, "swap_rows", "row")


def _add_scaled_line(net, src, dst, k, repair, where, what):
    _check_net(net, where)
    n = net.n_nodes
    src = _index(src, n, where, "src", what)
    dst = _index(dst, n, where, "dst", what)
    k = _finite(k, where, "k")
    if src == dst:
        raise InputError(
            f"{where}: src and dst are both {src}; adding k times a {what} to itself scales "
            f"it by 1 + k and multiplies det by 1 + k (pass two different {what}s)"
        )
    raw = _raw_add_scaled_column if what == "column" else _raw_add_scaled_row
    new, dropped = _finish(net, raw(net.matrix(), src, dst, k), where, repair)
    return new, dropped, {"src": src, "dst": dst, "k": k}


def _add_scaled_column(net, src, dst, k, *, repair=False):
    return _add_scaled_line(net, src, dst, k, repair, "add_scaled_column", "column")


def _add_scaled_row(net, src, dst, k, *, repair=False):
    return _add_scaled_line(net, src, dst, k, repair, "add_scaled_row", "row")


def _relabel(net, p):
    """The network with new node a = old node p[a], attributes moving along."""
    W = net.matrix()
    new = net.replace(
        W=W[np.ix_(p, p)],  # W'[a, b] = W[p[a], p[b]]
        fixed=net.fixed_mask()[np.ix_(p, p)],
        biases=net.biases()[p],
        roles=[net.roles[x] for x in p],
        activations=[net.activations[x] for x in p],
        names=[net.names[x] for x in p],
    )
    return new


def _permute_nodes(net, perm, *, repair=False):
    where = "permute_nodes"
    _check_net(net, where)
    p = _perm(perm, net.n_nodes, where)
    return _relabel(net, p), (), {"perm": p}


def _swap_nodes(net, i, j, *, repair=False):
    where = "swap_nodes"
    _check_net(net, where)
    n = net.n_nodes
    i = _index(i, n, where, "i", "node")
    j = _index(j, n, where, "j", "node")
    p = list(range(n))
    p[i], p[j] = p[j], p[i]
    return _relabel(net, p), (), {"i": i, "j": j}


def _assign(net, i, j, value, *, repair=False):
    where = "assign"
    _check_net(net, where)
    n = net.n_nodes
    i = _index(i, n, where, "i", "row")
    j = _index(j, n, where, "j", "column")
    value = _finite(value, where, "value")
    W1 = net.matrix()
    W1[i, j] = value
    new, dropped = _finish(net, W1, where, repair)
    return new, dropped, {"i": i, "j": j, "value": value}


# ----------------------------------------------------------------------------------------
# the public operators
# ----------------------------------------------------------------------------------------

def threshold(net: GraphNetwork, a) -> GraphNetwork:
    """A: keep only the edges with ``abs(w) > a`` (the seed: "only weights greater than A").

    Invariant: none (``CONTRACTS["threshold"]``: det, rank, spectrum and function may all
    change). The result never has a new edge, so it is always a valid network.

    Parameters
    ----------
    net : GraphNetwork
    a : float
        Finite, ``a >= 0``. An edge with ``abs(w) == a`` is removed.

    Returns
    -------
    GraphNetwork

    Raises
    ------
    InputError
        ``a`` negative or not finite.
    InputTypeError
        ``a`` not a real number, ``net`` not a network.

    Examples
    --------
    >>> W = [[0, 0, 2.0, 0], [0, 0, 0.5, -1.0], [0, 0, 0, 3.0], [0, 0, 0, 0]]
    >>> net = GraphNetwork.from_matrix(W, inputs=[0, 1], outputs=[3])
    >>> threshold(net, 1.0).edges()
    [(0, 2, 2.0), (2, 3, 3.0)]
    >>> threshold(net, -1)
    Traceback (most recent call last):
    ...
    graphnet.errors.InputError: threshold: a: expected a finite number >= 0, got -1.0
    """
    return _threshold(net, a)[0]


def swap_columns(net: GraphNetwork, i, j, *, repair: bool = False) -> GraphNetwork:
    """B: swap columns ``i`` and ``j`` of W: nodes ``i`` and ``j`` exchange their in-edges.

    Invariant (``CONTRACTS["swap_columns"]``): W' = W P_ij, so the rank is kept and det is
    negated. The function is not kept.

    Parameters
    ----------
    net : GraphNetwork
    i, j : int
        Two different column indices.
    repair : bool, default False
        Drop the edges that would enter an input or (feedforward) close a cycle instead of
        refusing; see :mod:`graphnet.graph.gate` for the rule.
        :func:`~graphnet.graph.registry.apply` reports them.

    Returns
    -------
    GraphNetwork

    Raises
    ------
    InputError
        An index out of range, ``i == j`` (a swap with itself does not negate det).
    OperatorError
        Without ``repair``: the result has an edge into an input or, in feedforward mode,
        a cycle; ``.edges`` lists the edges repair would drop.

    Examples
    --------
    >>> W = [[0, 0, 2.0, 0], [0, 0, 0.5, -1.0], [0, 0, 0, 3.0], [0, 0, 0, 0]]
    >>> net = GraphNetwork.from_matrix(W, inputs=[0, 1], outputs=[3])
    >>> rec = net.replace(mode="recurrent")
    >>> swap_columns(rec, 2, 3).edges()  # 2 gets 3's in-edges and 3 gets 2's
    [(0, 3, 2.0), (1, 2, -1.0), (1, 3, 0.5), (2, 2, 3.0)]
    >>> swap_columns(net, 2, 3)
    Traceback (most recent call last):
    ...
    graphnet.errors.OperatorError: swap_columns: result creates the cycle 2 -> 2 in a feedforward network; repair=True would drop it
    >>> swap_columns(net, 0, 2)
    Traceback (most recent call last):
    ...
    graphnet.errors.OperatorError: swap_columns: result has an edge 0 -> 0 into input node 0 ('x0'); repair=True would drop these 2 edges: 0 -> 0, 1 -> 0
    """
    return _swap_columns(net, i, j, repair=repair)[0]


def add_scaled_column(net: GraphNetwork, src, dst, k, *, repair: bool = False) -> GraphNetwork:
    """C: column ``dst`` += ``k`` * column ``src``: node ``dst`` gains ``k`` times src's in-edges.

    Invariant (``CONTRACTS["add_scaled_column"]``): W' = W (I + k e_src e_dst^T), a shear
    with det 1, so det and rank are kept. The spectrum and the function are not.

    Parameters
    ----------
    net : GraphNetwork
    src, dst : int
        Two different column indices.
    k : float
        Finite (0 leaves W as it is). An entry that cancels to exactly 0 removes its edge.
    repair : bool, default False
        As :func:`swap_columns`.

    Returns
    -------
    GraphNetwork

    Raises
    ------
    InputError
        An index out of range, ``src == dst`` (that would multiply det by 1 + k), a
        non-finite ``k``.
    OperatorError
        Without ``repair``: an edge into an input, or a cycle in feedforward mode; also a
        result with a weight that is not finite or above :data:`MAX_WEIGHT`.

    Examples
    --------
    >>> W = [[0, 0, 2.0, 0], [0, 0, 0.5, -1.0], [0, 0, 0, 3.0], [0, 0, 0, 0]]
    >>> net = GraphNetwork.from_matrix(W, inputs=[0, 1], outputs=[3])
    >>> add_scaled_column(net, 2, 3, 2.0).edges()  # 0 -> 3 appears, 1 -> 3 cancels
    [(0, 2, 2.0), (0, 3, 4.0), (1, 2, 0.5), (2, 3, 3.0)]
    >>> add_scaled_column(net, 3, 3, 2.0)
    Traceback (most recent call last):
    ...
    graphnet.errors.InputError: add_scaled_column: src and dst are both 3; adding k times a column to itself scales it by 1 + k and multiplies det by 1 + k (pass two different columns)
    """
    return _add_scaled_column(net, src, dst, k, repair=repair)[0]


def swap_rows(net: GraphNetwork, i, j, *, repair: bool = False) -> GraphNetwork:
    """D: swap rows ``i`` and ``j`` of W: nodes ``i`` and ``j`` exchange their out-edges.

    Invariant (``CONTRACTS["swap_rows"]``): W' = P_ij W, so the rank is kept and det is
    negated. The function is not kept.

    Parameters
    ----------
    net : GraphNetwork
    i, j : int
        Two different row indices.
    repair : bool, default False
        As :func:`swap_columns`.

    Returns
    -------
    GraphNetwork

    Raises
    ------
    InputError
        An index out of range, ``i == j``.
    OperatorError
        Without ``repair``: a cycle in feedforward mode (rows never move an edge into an
        input column, which is empty in every row).

    Examples
    --------
    >>> W = [[0, 0, 2.0, 0], [0, 0, 0.5, -1.0], [0, 0, 0, 3.0], [0, 0, 0, 0]]
    >>> net = GraphNetwork.from_matrix(W, inputs=[0, 1], outputs=[3])
    >>> swap_rows(net, 0, 1).edges()
    [(0, 2, 0.5), (0, 3, -1.0), (1, 2, 2.0), (2, 3, 3.0)]
    >>> swap_rows(net, 0, 2, repair=True).edges()  # 2 -> 2 would be a self-loop: dropped
    [(0, 3, 3.0), (1, 2, 0.5), (1, 3, -1.0)]
    >>> swap_rows(net, 7, 0)
    Traceback (most recent call last):
    ...
    graphnet.errors.InputError: swap_rows: i: row 7 out of range for a 4x4 matrix
    """
    return _swap_rows(net, i, j, repair=repair)[0]


def add_scaled_row(net: GraphNetwork, src, dst, k, *, repair: bool = False) -> GraphNetwork:
    """F: row ``dst`` += ``k`` * row ``src``: node ``dst`` gains ``k`` times src's out-edges.

    Invariant (``CONTRACTS["add_scaled_row"]``): W' = (I + k e_dst e_src^T) W, a shear
    with det 1, so det and rank are kept. The spectrum and the function are not.

    Parameters
    ----------
    net : GraphNetwork
    src, dst : int
        Two different row indices.
    k : float
        Finite. An entry that cancels to exactly 0 removes its edge.
    repair : bool, default False
        As :func:`swap_columns`.

    Returns
    -------
    GraphNetwork

    Raises
    ------
    InputError
        An index out of range, ``src == dst`` (that would multiply det by 1 + k), a
        non-finite ``k``.
    OperatorError
        Without ``repair``: a cycle in feedforward mode; a result with a weight that is not
        finite or above :data:`MAX_WEIGHT` (always refused, never repaired).

    Examples
    --------
    >>> W = [[0, 0, 2.0, 0], [0, 0, 0.5, -1.0], [0, 0, 0, 3.0], [0, 0, 0, 0]]
    >>> net = GraphNetwork.from_matrix(W, inputs=[0, 1], outputs=[3])
    >>> add_scaled_row(net, 2, 0, 0.5).edges()  # 0 -> 3 gains 0.5 * 3.0
    [(0, 2, 2.0), (0, 3, 1.5), (1, 2, 0.5), (1, 3, -1.0), (2, 3, 3.0)]
    >>> add_scaled_row(net, 0, 2, 1.0)
    Traceback (most recent call last):
    ...
    graphnet.errors.OperatorError: add_scaled_row: result creates the cycle 2 -> 2 in a feedforward network; repair=True would drop it
    >>> add_scaled_row(net, 0, 1, float("nan"))
    Traceback (most recent call last):
    ...
    graphnet.errors.InputError: add_scaled_row: k: expected a finite number, got nan
    >>> add_scaled_row(net, 2, 0, 1e300)
    Traceback (most recent call last):
    ...
    graphnet.errors.OperatorError: add_scaled_row: result has a weight too large to train W[0, 3] = 3e+300 (above 1.34e+154: its square overflows); the network is unchanged
    """
    return _add_scaled_row(net, src, dst, k, repair=repair)[0]


def permute_nodes(net: GraphNetwork, perm) -> GraphNetwork:
    """H: relabel the nodes: new node ``a`` is old node ``perm[a]``.

    ``W'[a, b] = W[perm[a], perm[b]]`` (W' = P W P^T with ``P[a, perm[a]] = 1``, the
    convention of :mod:`graphnet.graph.symbolic`), and the role, bias, activation and name
    of each node move with it. The graph is the same one relabelled, so cycles and edges
    into inputs cannot appear and no repair is ever needed.

    Invariant (``CONTRACTS["permute_nodes"]``): a similarity, so det, rank and the
    spectrum are kept, and the network computes the same function **up to the order of
    its columns**: data column ``k`` feeds the ``k``-th input in node order, so if
    ``perm`` changes the relative order of the inputs (or outputs) the data (output)
    columns are permuted; :func:`io_order` says how. With the relative order of inputs
    and of outputs kept, the function is kept exactly.

    Parameters
    ----------
    net : GraphNetwork
    perm : sequence of int
        A permutation of ``range(net.n_nodes)``.

    Returns
    -------
    GraphNetwork

    Raises
    ------
    InputError
        ``perm`` has the wrong length or is not a permutation.
    InputTypeError
        ``perm`` is not a sequence of ints.

    Examples
    --------
    >>> W = [[0, 0, 2.0, 0], [0, 0, 0.5, -1.0], [0, 0, 0, 3.0], [0, 0, 0, 0]]
    >>> net = GraphNetwork.from_matrix(W, inputs=[0, 1], outputs=[3])
    >>> moved = permute_nodes(net, [2, 0, 3, 1])  # new 0 = old 2 (h0), new 1 = old 0 (x0), ...
    >>> moved.names, moved.roles
    (('h0', 'x0', 'y0', 'x1'), ('hidden', 'input', 'output', 'input'))
    >>> moved.edges()  # old 0 -> 2 (2.0) is now 1 -> 0
    [(0, 2, 3.0), (1, 0, 2.0), (3, 0, 0.5), (3, 2, -1.0)]
    >>> permute_nodes(net, [0, 1, 1, 2])
    Traceback (most recent call last):
    ...
    graphnet.errors.InputError: permute_nodes: perm: expected a permutation of range(4), got [0, 1, 1, 2] (3 is missing)
    """
    return _permute_nodes(net, perm)[0]


def swap_nodes(net: GraphNetwork, i, j) -> GraphNetwork:
    """H with a transposition: nodes ``i`` and ``j`` exchange places in the node order.

    The same as ``permute_nodes(net, perm)`` with ``perm`` the identity with entries
    ``i`` and ``j`` exchanged. ``i == j`` is allowed: the identity permutation, which
    keeps H's contract (unlike B and D, whose self-swap would not negate det).

    Invariant (``CONTRACTS["swap_nodes"]``): as :func:`permute_nodes`: det, rank,
    spectrum and the function (up to :func:`io_order`'s column order) are kept.

    Parameters
    ----------
    net : GraphNetwork
    i, j : int
        Node indices.

    Returns
    -------
    GraphNetwork

    Raises
    ------
    InputError
        An index out of range.

    Examples
    --------
    >>> W = [[0, 0, 2.0, 0], [0, 0, 0.5, -1.0], [0, 0, 0, 3.0], [0, 0, 0, 0]]
    >>> net = GraphNetwork.from_matrix(W, inputs=[0, 1], outputs=[3])
    >>> swapped = swap_nodes(net, 2, 3)
    >>> swapped.names, swapped.edges()
    (('x0', 'x1', 'y0', 'h0'), [(0, 3, 2.0), (1, 2, -1.0), (1, 3, 0.5), (3, 2, 3.0)])
    >>> swap_nodes(net, 1, 1) == net
    True
    """
    return _swap_nodes(net, i, j)[0]


class IOOrder(NamedTuple):
    """Column orders after a node permutation (see :func:`io_order`)."""

    inputs: np.ndarray
    outputs: np.ndarray


def io_order(net: GraphNetwork, perm) -> IOOrder:
    """How :func:`permute_nodes` reorders the data and output columns.

    With ``new = permute_nodes(net, perm)`` and ``order = io_order(net, perm)``, for any
    data ``X`` of shape (batch, n_inputs): ``new`` applied to ``X[:, order.inputs]``
    gives ``net``'s output on ``X`` in the columns ``order.outputs``, i.e.
    ``f_new(X[:, order.inputs]) == f_net(X)[:, order.outputs]``. Both are the identity
    exactly when ``perm`` keeps the relative order of the inputs and of the outputs.

    Parameters
    ----------
    net : GraphNetwork
    perm : sequence of int
        A permutation of ``range(net.n_nodes)`` (new node ``a`` = old node ``perm[a]``).

    Returns
    -------
    IOOrder
        ``inputs``: int array of shape (n_inputs,), ``inputs[k]`` = the old data column
        that feeds the new network's ``k``-th input; ``outputs``: int array of shape
        (n_outputs,), ``outputs[m]`` = the old output column that the new ``m``-th
        output reproduces.

    Raises
    ------
    InputError, InputTypeError
        As :func:`permute_nodes`.

    Examples
    --------
    >>> W = [[0, 0, 2.0, 0], [0, 0, 0.5, -1.0], [0, 0, 0, 3.0], [0, 0, 0, 0]]
    >>> net = GraphNetwork.from_matrix(W, inputs=[0, 1], outputs=[3])
    >>> io_order(net, [1, 0, 2, 3])  # the two inputs swapped
    IOOrder(inputs=array([1, 0]), outputs=array([0]))
    >>> io_order(net, [0, 3, 1, 2])  # inputs keep their order
    IOOrder(inputs=array([0, 1]), outputs=array([0]))
    """
    where = "io_order"
    _check_net(net, where)
    p = _perm(perm, net.n_nodes, where)
    columns = {}
    for role, nodes in (("input", net.inputs), ("output", net.outputs)):
        number = {int(v): c for c, v in enumerate(nodes)}  # old node -> old column
        columns[role] = np.array(
            [number[p[a]] for a in range(len(p)) if net.roles[p[a]] == role], dtype=np.intp
        )
    return IOOrder(columns["input"], columns["output"])


def assign(net: GraphNetwork, i, j, value, *, repair: bool = False) -> GraphNetwork:
    """N: set ``W[i, j] = value`` (the seed: "assign a weight"); 0 removes the edge.

    Invariant: none (``CONTRACTS["assign"]``: det changes by (value - w_ij) times the
    (i, j) cofactor).

    Parameters
    ----------
    net : GraphNetwork
    i, j : int
        Row (from) and column (to).
    value : float
        Finite.
    repair : bool, default False
        An edge that would enter an input or close a cycle is dropped (the result is the
        network unchanged but for the dropped edge) instead of refused.

    Returns
    -------
    GraphNetwork

    Raises
    ------
    InputError
        An index out of range, a non-finite value.
    OperatorError
        Without ``repair``: an edge into an input, or a cycle (a self-loop included) in
        feedforward mode; a ``value`` above :data:`MAX_WEIGHT`.

    Examples
    --------
    >>> W = [[0, 0, 2.0, 0], [0, 0, 0.5, -1.0], [0, 0, 0, 3.0], [0, 0, 0, 0]]
    >>> net = GraphNetwork.from_matrix(W, inputs=[0, 1], outputs=[3])
    >>> assign(net, 0, 3, 0.25).edges()
    [(0, 2, 2.0), (0, 3, 0.25), (1, 2, 0.5), (1, 3, -1.0), (2, 3, 3.0)]
    >>> assign(net, 2, 3, 0).n_edges  # 0 removes the edge
    3
    >>> assign(net, 3, 2, 1.0)
    Traceback (most recent call last):
    ...
    graphnet.errors.OperatorError: assign: result creates the cycle 3 -> 2 -> 3 in a feedforward network; repair=True would drop it
    >>> assign(net, 3, 0, 1.0)
    Traceback (most recent call last):
    ...
    graphnet.errors.OperatorError: assign: result has an edge 3 -> 0 into input node 0 ('x0'); repair=True would drop it
    """
    return _assign(net, i, j, value, repair=repair)[0]

