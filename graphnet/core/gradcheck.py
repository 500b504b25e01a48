"""Central finite-difference gradient checks for layers, models and plain functions."""

from __future__ import annotations

import numpy as np

from graphnet.core.losses import get_loss
from graphnet.rng import make_rng

__all__ = ["numerical_gradient", "relative_error", "check_layer", "check_model"]


def numerical_gradient(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences ``(f(x + eps e_i) - f(x - eps e_i)) / (2 eps)`` for every entry.

    ``x`` is perturbed in place and restored, so ``f`` may read it through a reference
    (a layer's parameter array).

    Parameters
    ----------
    f : callable () -> float
    x : ndarray (float64 for meaningful results)
    eps : float

    Returns
    -------
    ndarray shaped like ``x``

    Examples
    --------
    >>> x = np.array([1.0, 2.0])
    >>> numerical_gradient(lambda: float((x ** 2).sum()), x).round(6)
    array([2., 4.])
    """
    grad = np.zeros(x.shape, dtype=np.float64)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    assert np.shares_memory(flat, x), "numerical_gradient needs a contiguous array"
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        up = f()
        flat[i] = old - eps
        down = f()
        flat[i] = old
        gflat[i] = (up - down) / (2 * eps)
    return grad


def relative_error(a, b) -> float:
    """``||a - b|| / max(||a|| + ||b||, tiny)``: 0 for equal arrays, at most 1.

    Examples
    --------
    >>> relative_error(np.array([1.0, 2.0]), np.array([1.0, 2.0]))
    0.0
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    denom = max(np.linalg.norm(a) + np.linalg.norm(b), np.finfo(np.float64).tiny)
    return float(np.linalg.norm(a - b) / denom)


def check_layer(layer, x, *, seed=0, eps=1e-6) -> dict:
    """Compare a layer's ``backpropagate`` with finite differences.

    The scalar checked is ``sum(R * layer.output(x))`` with a fixed random ``R``, so the
    delta fed to ``backpropagate`` is ``R``.

    Parameters
    ----------
    layer : Layer
    x : ndarray (float64)
    seed : int or numpy.random.Generator
    eps : float

    Returns
    -------
    dict
        Relative error per name: ``"x"`` for the input, then each parameter key.

    Examples
    --------
    >>> from graphnet.core.layers import Dense
    >>> errs = check_layer(Dense(3, 2, activation="tanh", rng=0), np.ones((4, 3)))
    >>> all(e < 1e-7 for e in errs.values())
    True
    """
    rng = make_rng(seed)
    x = np.array(x, dtype=np.float64)
    R = rng.standard_normal(layer.output(x).shape)

    def f():
        return float(np.sum(R * layer.output(x)))

    layer.output(x)
    dx = np.asarray(layer.backpropagate(R))
    analytic = {"x": dx, **{k: g.copy() for k, g in layer.grads.items()}}
    errors = {"x": relative_error(analytic["x"], numerical_gradient(f, x, eps))}
    for key, p in layer.params.items():
        errors[key] = relative_error(analytic[key], numerical_gradient(f, p, eps))
    return errors


def check_model(model, x, t, loss="squared_error", *, eps=1e-6) -> dict:
    """Compare a model's gradients (``loss_and_backward``) with finite differences.

    Returns
    -------
    dict
        Relative error per parameter, keyed ``"<layer index>.<key>"``, and ``"x"``.

    Examples
    --------
    >>> from graphnet.core.layers import Dense, Softmax
    >>> from graphnet.core.model import Sequential
    >>> m = Sequential([Dense(2, 3, activation="tanh", rng=0), Dense(3, 2, rng=1), Softmax()])
    >>> errs = check_model(m, np.array([[0.5, -1.0]]), np.array([1]), "cross_entropy")
    >>> max(errs.values()) < 1e-7
    True
    """
    loss = get_loss(loss)
    x = np.array(x, dtype=np.float64)

    def f():
        return loss(model.forward(x), t)

    model.loss_and_backward(x, t, loss)
    analytic = {f"{k}.{key}": layer.grads[key].copy() for k, layer in enumerate(model.layers)
                for key in layer.params}
    # the delta reaching the input: backpropagate once more from the top
    o = model.forward(x)
    dx = model.backward(loss.delta(o, t))
    errors = {"x": relative_error(dx, numerical_gradient(f, x, eps))}
    for k, layer in enumerate(model.layers):
        for key, p in layer.params.items():
            errors[f"{k}.{key}"] = relative_error(analytic[f"{k}.{key}"],
                                                  numerical_gradient(f, p, eps))
    return errors
