"""Activations and their derivatives: the one list of activation names.

A derivative takes the activation's *output* (``dtanh(o) = 1 - o^2``,
``dsigmoid(o) = o (1 - o)``), as the seed writes them; ``dsoftmax`` is the diagonal of the
softmax Jacobian, which is all the seed's ``s - s^2`` gives.
"""

from __future__ import annotations

import numpy as np

from graphnet.errors import InputError

__all__ = [
    "sigmoid",
    "tanh",
    "relu",
    "identity",
    "softmax",
    "dsigmoid",
    "dtanh",
    "drelu",
    "didentity",
    "dsoftmax",
    "ACTIVATIONS",
    "DERIVATIVES",
    "activation",
]


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function ``1 / (1 + exp(-x))``, computed without overflow.

    Examples
    --------
    >>> sigmoid(np.array([-1000.0, 0.0, 1000.0]))
    array([0. , 0.5, 1. ])
    """
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)  # an integer input must not truncate the result to 0/1
    e = np.exp(-np.abs(x))  # never overflows
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


def tanh(x: np.ndarray) -> np.ndarray:
    """Hyperbolic tangent.

    Examples
    --------
    >>> tanh(np.array([0.0]))
    array([0.])
    """
    return np.tanh(x)


def relu(x: np.ndarray) -> np.ndarray:
    """Rectified linear unit ``max(x, 0)``.

    Examples
    --------
    >>> relu(np.array([-2.0, 3.0]))
    array([0., 3.])
    """
    return np.maximum(x, 0)


def identity(x: np.ndarray) -> np.ndarray:
    """The identity (the seed's rasterizing layer has it as activation).

    Examples
    --------
    >>> identity(np.array([1.5]))
    array([1.5])
    """
    return np.asarray(x)


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Softmax along ``axis``, shifted by the maximum so it never overflows.

    Examples
    --------
    >>> softmax(np.array([[0.0, 0.0], [1000.0, 0.0]]))
    array([[0.5, 0.5],
           [1. , 0. ]])
    """
    x = np.asarray(x)
    z = x - x.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


# Derivatives are written in terms of the *output* o = act(x), as the seed does.

def dsigmoid(o: np.ndarray) -> np.ndarray:
    """sigmoid'(x) = o (1 - o), with o = sigmoid(x).

    Examples
    --------
    >>> dsigmoid(np.array([0.5]))
    array([0.25])
    """
    return o * (1.0 - o)


def dtanh(o: np.ndarray) -> np.ndarray:
    """tanh'(x) = 1 - o^2, with o = tanh(x).

    Examples
    --------
    >>> dtanh(np.array([0.0]))
    array([1.])
    """
    return 1.0 - o * o


def drelu(o: np.ndarray) -> np.ndarray:
    """relu'(x) = 1 where o > 0 else 0 (0 at the kink), with o = relu(x).

    Examples
    --------
    >>> drelu(np.array([0.0, 2.0]))
    array([0., 1.])
    """
    return (o > 0).astype(o.dtype)


def didentity(o: np.ndarray) -> np.ndarray:
    """identity'(x) = 1.

    Examples
    --------
    >>> didentity(np.array([3.0, -1.0]))
    array([1., 1.])
    """
    return np.ones_like(o)


def dsoftmax(s: np.ndarray) -> np.ndarray:
    """The seed's ``softmax'(x) = s - s^2``: the *diagonal* of the softmax Jacobian only.

    The full Jacobian is ``diag(s) - s s^T``; using ``s - s^2`` element-wise ignores the
    off-diagonal terms. The Softmax layer uses the full Jacobian; this function exists so
    the audit can show the difference.

    Examples
    --------
    >>> dsoftmax(np.array([0.5, 0.5]))
    array([0.25, 0.25])
    """
    return s - s * s


ACTIVATIONS = {"tanh": tanh, "sigmoid": sigmoid, "relu": relu, "identity": identity}
DERIVATIVES = {"tanh": dtanh, "sigmoid": dsigmoid, "relu": drelu, "identity": didentity}


def activation(name: str):
    """Return ``(act, dact)`` for an activation name; ``dact`` takes the output.

    Raises
    ------
    InputError
        For a name not in ``ACTIVATIONS``.

    Examples
    --------
    >>> act, dact = activation("tanh")
    >>> dact(act(np.array([0.0])))
    array([1.])
    """
    if name not in ACTIVATIONS:
        raise InputError(f"activation: expected one of {sorted(ACTIVATIONS)}, got {name!r}")
    return ACTIVATIONS[name], DERIVATIVES[name]
