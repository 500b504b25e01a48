"""Optimizers: SGD, momentum, Adam.

``opt.step(pairs)`` updates each parameter array in place from its gradient; ``pairs`` is
``model.params_and_grads()``, the same parameters in the same order at every step (the
optimizer keeps its state by position).
"""

from __future__ import annotations

import math

import numpy as np

from graphnet.errors import InputError

__all__ = ["Optimizer", "SGD", "Momentum", "Adam", "get_optimizer"]


def _check_rate(value, name, where, *, low=0.0, high=math.inf, low_open=True):
    try:
        ok = math.isfinite(value) and (value > low if low_open else value >= low) and value < high
    except TypeError:
        ok = False
    if not ok:
        raise InputError(f"{where}: {name} must be a finite number in "
                         f"{'(' if low_open else '['}{low}, {high}), got {value!r}")
    return float(value)


class Optimizer:
    """Base class with the learning rate, weight decay and per-parameter state."""

    def __init__(self, lr, weight_decay=0.0):
        where = type(self).__name__
        self.lr = _check_rate(lr, "lr", where)
        self.weight_decay = _check_rate(weight_decay, "weight_decay", where, low_open=False)
        self.state: list = []
        self._shapes: list = []
        self.t = 0

    def step(self, pairs):
        """Apply one update to every ``(param, grad)`` pair, in place."""
        pairs = list(pairs)
        where = f"{type(self).__name__}.step"
        if self.state and len(self.state) != len(pairs):
            raise InputError(f"{where}: got {len(pairs)} parameters, the "
                             f"optimizer was started with {len(self.state)}")
        # check every pair before touching any parameter: nothing is half-applied
        for k, (p, g) in enumerate(pairs):
            if g.shape != p.shape:
                raise InputError(f"{where}: gradient {k} has shape {g.shape}, "
                                 f"its parameter {p.shape}")
            if self._shapes and self._shapes[k] != p.shape:
                raise InputError(f"{where}: parameter {k} has shape {p.shape}, the optimizer "
                                 f"was started with {self._shapes[k]} (call reset())")
        if not self.state:
            self.state = [self._init_state(p) for p, _ in pairs]
            self._shapes = [p.shape for p, _ in pairs]
        self.t += 1
        for k, (p, g) in enumerate(pairs):
            if self.weight_decay:
                g = g + self.weight_decay * p
            self._update(p, g.astype(p.dtype, copy=False), self.state[k])

    def reset(self):
        """Forget the state (after the parameters changed shape or meaning)."""
        self.state, self._shapes, self.t = [], [], 0

    def _init_state(self, p):
        return None

    def _update(self, p, g, state):
        raise NotImplementedError


class SGD(Optimizer):
    """Plain gradient descent ``p -= lr * g``.

    Examples
    --------
    >>> p = np.array([1.0]); SGD(0.5).step([(p, np.array([2.0]))]); p
    array([0.])
    """

    def _update(self, p, g, state):
        p -= self.lr * g


class Momentum(Optimizer):
    """Heavy-ball momentum ``v = mu v - lr g; p += v`` (Nesterov optional).

    Examples
    --------
    >>> p = np.array([0.0]); opt = Momentum(1.0, momentum=0.5)
    >>> for _ in range(2): opt.step([(p, np.array([1.0]))])
    >>> p
    array([-2.5])
    """

    def __init__(self, lr, momentum=0.9, *, nesterov=False, weight_decay=0.0):
        super().__init__(lr, weight_decay)
        self.momentum = _check_rate(momentum, "momentum", "Momentum", low_open=False, high=1.0)
        self.nesterov = bool(nesterov)

    def _init_state(self, p):
        return np.zeros_like(p)

    def _update(self, p, g, v):
        v *= self.momentum
        v -= self.lr * g
        if self.nesterov:
            p += self.momentum * v - self.lr * g
        else:
            p += v


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015) with bias correction.

    Examples
    --------
    >>> p = np.array([1.0]); Adam(0.1).step([(p, np.array([3.0]))]); p.round(6)
    array([0.9])
    """

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, *, weight_decay=0.0):
        super().__init__(lr, weight_decay)
        self.beta1 = _check_rate(beta1, "beta1", "Adam", low_open=False, high=1.0)
        self.beta2 = _check_rate(beta2, "beta2", "Adam", low_open=False, high=1.0)
        self.eps = _check_rate(eps, "eps", "Adam")

    def _init_state(self, p):
        return [np.zeros_like(p), np.zeros_like(p)]

    def _update(self, p, g, state):
        m, v = state
        m *= self.beta1
        m += (1 - self.beta1) * g
        v *= self.beta2
        v += (1 - self.beta2) * (g * g)
        # fold both bias corrections into the step size
        step = self.lr * math.sqrt(1 - self.beta2 ** self.t) / (1 - self.beta1 ** self.t)
        p -= step * m / (np.sqrt(v) + self.eps * math.sqrt(1 - self.beta2 ** self.t))


_OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "adam": Adam}


def get_optimizer(name, lr, **kwargs) -> Optimizer:
    """An optimizer by name: ``"sgd"``, ``"momentum"`` or ``"adam"``.

    Examples
    --------
    >>> get_optimizer("adam", 0.01).lr
    0.01
    """
    if isinstance(name, Optimizer):
        return name
    if name not in _OPTIMIZERS:
        raise InputError(f"optimizer: expected one of {sorted(_OPTIMIZERS)}, got {name!r}")
    return _OPTIMIZERS[name](lr, **kwargs)
