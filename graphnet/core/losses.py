"""Losses: the seed's squared error and cross-entropy.

A loss is called as ``loss(o, t)`` for the mean value over the batch and gives
``loss.delta(o, t)``, dE/do of that mean. Targets ``t`` are either integer class labels of
shape (n,) (turned into one-hot rows) or an array shaped like ``o``.
"""

from __future__ import annotations

import math

import numpy as np

from graphnet.errors import InputError, InputTypeError

__all__ = ["Loss", "SquaredError", "CrossEntropy", "get_loss", "as_targets"]


def as_targets(t, o: np.ndarray) -> np.ndarray:
    """Targets shaped like the outputs ``o``: one-hot rows for integer labels.

    Parameters
    ----------
    t : ndarray of shape (n,) with integer labels in [0, k), or of shape (n, k)
    o : ndarray of shape (n, k)

    Returns
    -------
    ndarray of shape (n, k), in the dtype of ``o``

    Raises
    ------
    InputError
        For a label out of range, a shape that does not match ``o`` or an empty batch.

    Examples
    --------
    >>> as_targets(np.array([2, 0]), np.zeros((2, 3)))
    array([[0., 0., 1.],
           [1., 0., 0.]])
    """
    t = np.asarray(t)
    if o.ndim == 0 or o.shape[0] == 0:
        raise InputError(f"targets: expected outputs with a non-empty batch axis, got shape {o.shape}")
    if t.ndim == 1 and o.ndim == 2 and np.issubdtype(t.dtype, np.integer):
        n, k = o.shape
        if t.shape[0] != n:
            raise InputError(f"targets: {t.shape[0]} labels for {n} outputs")
        bad = (t < 0) | (t >= k)
        if bad.any():
            raise InputError(f"targets: label {int(t[bad][0])} out of range for {k} outputs "
                             f"(expected 0..{k - 1})")
        onehot = np.zeros(o.shape, dtype=o.dtype)
        onehot[np.arange(n), t] = 1
        return onehot
    if not (np.issubdtype(t.dtype, np.floating) or np.issubdtype(t.dtype, np.integer)):
        raise InputTypeError(f"targets: expected numeric targets, got dtype {t.dtype}")
    if t.shape != o.shape:
        raise InputError(f"targets: shape {t.shape} does not match the outputs {o.shape}")
    return t.astype(o.dtype, copy=False)


class Loss:
    """Base class: ``loss(o, t)`` is the batch mean, ``delta(o, t)`` its gradient in ``o``.

    ``ceiling`` is the largest value the loss can take per sample (a clipped loss), or
    ``None`` when it is unbounded.
    """

    name = "loss"
    ceiling = None

    def __call__(self, o, t) -> float:
        raise NotImplementedError

    def delta(self, o, t) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}()"


class SquaredError(Loss):
    """The seed's ``E = 1/2 sum_y (t_y - o_y)^2``, averaged over the batch.

    Examples
    --------
    >>> loss = SquaredError()
    >>> o = np.array([[1.0, 0.0]]); t = np.array([[0.0, 0.0]])
    >>> loss(o, t), loss.delta(o, t)
    (0.5, array([[1., 0.]]))
    """

    name = "squared_error"

    def __call__(self, o, t):
        t = as_targets(t, o)
        return float(0.5 * np.sum((t - o) ** 2) / o.shape[0])

    def delta(self, o, t):
        t = as_targets(t, o)
        return (o - t) / o.shape[0]          # dE/do = o - t (the seed's output delta)


class CrossEntropy(Loss):
    """Cross-entropy ``-sum_y t_y log p_y`` of probabilities ``p``, averaged over the batch.

    After a :class:`~graphnet.core.layers.Softmax` layer the model fuses the two and uses
    ``delta = p - t`` (:meth:`softmax_delta`).

    Examples
    --------
    >>> loss = CrossEntropy()
    >>> p = np.array([[0.5, 0.5]])
    >>> round(loss(p, np.array([0])), 6), loss.softmax_delta(p, np.array([0]))
    (0.693147, array([[-0.5,  0.5]]))

    Probabilities are clipped at ``eps``, so no sample's loss exceeds ``ceiling = -ln(eps)``:

    >>> round(loss.ceiling, 4), loss(np.array([[1.0, 0.0]]), np.array([1])) == loss.ceiling
    (27.631, True)
    """

    name = "cross_entropy"
    eps = 1e-12
    ceiling = -math.log(eps)  # the loss of a sample whose true class got p <= eps

    def __call__(self, o, t):
        t = as_targets(t, o)
        return float(-np.sum(t * np.log(np.clip(o, self.eps, None))) / o.shape[0])

    def delta(self, o, t):
        t = as_targets(t, o)
        return -t / np.clip(o, self.eps, None) / o.shape[0]

    def softmax_delta(self, p, t):
        """dE/dz for ``p = softmax(z)``: ``(p - t) / n``."""
        t = as_targets(t, p)
        return (p - t) / p.shape[0]


_LOSSES = {"squared_error": SquaredError, "mse": SquaredError, "cross_entropy": CrossEntropy}


def get_loss(loss) -> Loss:
    """A loss from its name (``"squared_error"``/``"mse"``, ``"cross_entropy"``) or instance.

    Examples
    --------
    >>> get_loss("cross_entropy")
    CrossEntropy()
    """
    if isinstance(loss, Loss):
        return loss
    if loss not in _LOSSES:
        raise InputError(f"loss: expected one of {sorted(_LOSSES)}, got {loss!r}")
    return _LOSSES[loss]()
