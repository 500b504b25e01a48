"""The plain reference of graph execution: the design's formula, level by level, on dense W.

A few obviously-correct lines beside the fast path (:mod:`graphnet.graph.execute`, whose
compiled plans are tested against these functions). Feedforward: ``H[:, L] = act(H @ W[:,
L] + b[L])`` for each depth level ``L`` in order, and backward the levels in reverse.
Recurrent: ``T`` synchronous updates of the non-input nodes with the inputs held, and
backpropagation through time. Everything in float64, no caching, no index tricks.
"""

from __future__ import annotations

import numpy as np

from graphnet._checks import check_batch, check_steps
from graphnet.core.activations import activation
from graphnet.errors import InputError, InputTypeError
from graphnet.graph.network import GraphNetwork

__all__ = ["reference_forward", "reference_backward"]


def _act(Z, names):
    """``act_v(Z[:, k])`` per column k, node v's activation being ``names[k]``."""
    return np.stack([activation(a)[0](Z[:, k]) for k, a in enumerate(names)], axis=1)


def _dact(O, names):
    """``act_v'`` per column, written through the outputs ``O`` as the seed does."""
    return np.stack([activation(a)[1](O[:, k]) for k, a in enumerate(names)], axis=1)


def _reference_states(net, X, steps, where):
    """Check the arguments; the dense (batch, n_nodes) values, or H_0 .. H_T (recurrent)."""
    if not isinstance(net, GraphNetwork):
        raise InputTypeError(f"{where}: net must be a GraphNetwork, got {type(net).__name__}")
    check_steps(steps, where)
    X = check_batch(X, net.n_inputs, where).astype(np.float64)
    W, b, acts = net.matrix(), net.biases(), np.array(net.activations)
    H = np.zeros((X.shape[0], net.n_nodes))
    H[:, net.inputs] = X
    if net.mode == "feedforward":
        for L in net.levels():                      # one level: one product
            H[:, L] = _act(H @ W[:, L] + b[L], acts[L])
        return H
    non = np.setdiff1d(np.arange(net.n_nodes), net.inputs)
    Hs = [H]
    for _ in range(steps):                          # all together, the inputs held
        H = H.copy()
        H[:, non] = _act((Hs[-1] @ W + b)[:, non], acts[non])
        Hs.append(H)
    return Hs


def reference_forward(net, X, *, steps=5) -> np.ndarray:
    """The outputs of ``net`` computed plainly from the design's formula (no plan).

    Feedforward: level by level, ``H[:, L] = act(H @ W[:, L] + b[L])``. Recurrent: ``T =
    steps`` synchronous updates ``H[:, non-inputs] = act(H @ W + b)[:, non-inputs]`` from
    ``H_0`` = the inputs placed, others 0. Dense, float64, a few lines: the reference the
    compiled :class:`Plan` is tested against.

    Parameters
    ----------
    net : GraphNetwork
    X : array_like of shape (batch, n_inputs)
    steps : int >= 1
        ``T`` in recurrent mode.

    Returns
    -------
    ndarray of shape (batch, n_outputs)

    Raises
    ------
    InputTypeError
        ``net`` not a GraphNetwork; ``X`` not numeric; ``steps`` not an int.
    InputError
        ``X`` of the wrong shape or empty; ``steps`` < 1.

    Examples
    --------
    >>> net = GraphNetwork.from_matrix([[0, 2.0], [0, 0]], [0], [1], biases=[0, 0.5])
    >>> reference_forward(net, [[1.0], [2.0]])
    array([[2.5],
           [4.5]])
    >>> from graphnet.graph.execute import forward          # the compiled plan agrees
    >>> X = np.random.default_rng(0).normal(size=(4, 1))
    >>> net = GraphNetwork.seed_example()
    >>> bool(np.allclose(reference_forward(net, X, steps=3), forward(net, X, steps=3)))
    True
    """
    H = _reference_states(net, X, steps, "reference_forward")
    return (H if net.mode == "feedforward" else H[-1])[:, net.outputs]


def reference_backward(net, X, delta, *, steps=5) -> tuple:
    """Gradients of ``sum(delta * outputs)`` computed plainly, level by level (no plan).

    Feedforward: the levels in reverse, ``dZ = dH[:, L] * act'(H[:, L])``, ``dW[:, L] =
    H^T dZ``, ``db[L] = sum(dZ)``, ``dH += dZ W[:, L]^T``. Recurrent: the same through the
    ``T`` steps (backpropagation through time); the inputs, held at every step, collect
    their gradient from each. In the order of :meth:`Plan.backward`; a fixed edge
    (``trainable = False``) is no parameter: its entry of ``gw`` is exactly 0.

    Parameters
    ----------
    net : GraphNetwork
    X : array_like of shape (batch, n_inputs)
    delta : array_like of shape (batch, n_outputs)
        dE/d(outputs).
    steps : int >= 1
        ``T`` in recurrent mode.

    Returns
    -------
    dx : ndarray of shape (batch, n_inputs)
    gw : ndarray of shape (n_edges,)
        dE/d(edge weights), in ``net.edges()`` order; 0 at the fixed edges.
    gb : ndarray of shape (n_nodes - n_inputs,)
        dE/d(biases of the non-input nodes, ascending).

    Raises
    ------
    InputTypeError, InputError
        As :func:`reference_forward`; ``delta`` of the wrong shape.

    Examples
    --------
    >>> net = GraphNetwork.from_matrix([[0, 2.0], [0, 0]], [0], [1], biases=[0, 0.5])
    >>> reference_backward(net, [[1.0], [2.0]], np.ones((2, 1)))
    (array([[2.],
           [2.]]), array([3.]), array([2.]))
    >>> fixed = net.replace(fixed=[[False, True], [False, False]])
    >>> reference_backward(fixed, [[1.0], [2.0]], np.ones((2, 1)))[1]
    array([0.])
    """
    Hs = _reference_states(net, X, steps, "reference_backward")
    W, acts = net.matrix(), np.array(net.activations)
    n_batch = (Hs if net.mode == "feedforward" else Hs[0]).shape[0]
    delta = np.asarray(delta, dtype=np.float64)
    if delta.shape != (n_batch, net.n_outputs):
        raise InputError(f"reference_backward: delta has shape {delta.shape}, expected "
                         f"{(n_batch, net.n_outputs)}")
    dH = np.zeros((n_batch, net.n_nodes))
    dH[:, net.outputs] = delta
    dW, db = np.zeros_like(W), np.zeros(net.n_nodes)
    non = np.setdiff1d(np.arange(net.n_nodes), net.inputs)
    if net.mode == "feedforward":
        H = Hs
        for L in reversed(net.levels()):
            dZ = dH[:, L] * _dact(H[:, L], acts[L])         # dE/d(pre-activation of L)
            dW[:, L] = H.T @ dZ
            db[L] = dZ.sum(axis=0)
            dH += dZ @ W[:, L].T
        dx = dH[:, net.inputs]
    else:
        dx = np.zeros((n_batch, net.n_inputs))
        for t in range(steps, 0, -1):                       # H_t = act(H_{t-1} W + b)
            dZ = np.zeros_like(dH)
            dZ[:, non] = dH[:, non] * _dact(Hs[t][:, non], acts[non])
            dW += Hs[t - 1].T @ dZ
            db += dZ.sum(axis=0)
            dH = dZ @ W.T                                   # dE/dH_{t-1}
            dx += dH[:, net.inputs]
    dW[net.fixed_mask()] = 0                                # a fixed edge never learns
    src, dst = np.nonzero(W)                                # net.edges() order
    return dx, dW[src, dst], db[non]
