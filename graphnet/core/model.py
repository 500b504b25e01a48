"""Sequential: a list of layers, run forward and backward in turn."""

from __future__ import annotations

import numpy as np

from graphnet.core.layers import Layer, Softmax
from graphnet.core.losses import CrossEntropy, get_loss
from graphnet.errors import InputError, InputTypeError

__all__ = ["Sequential"]


class Sequential:
    """A feed-forward stack of layers.

    Parameters
    ----------
    layers : sequence of Layer
        Anything with ``output``, ``backpropagate``, ``params`` and ``grads`` (a
        :class:`~graphnet.graph.execute.GraphLayer` too).

    Examples
    --------
    >>> from graphnet.core.layers import Dense, Softmax
    >>> model = Sequential([Dense(2, 4, activation="tanh", rng=0), Dense(4, 2, rng=1), Softmax()])
    >>> x = np.array([[0.0, 1.0]])
    >>> model.forward(x).shape
    (1, 2)
    >>> loss = model.loss_and_backward(x, np.array([1]), "cross_entropy")
    >>> [g.shape for _, g in model.params_and_grads()]
    [(2, 4), (4,), (4, 2), (2,)]
    """

    def __init__(self, layers):
        layers = list(layers)
        if not layers:
            raise InputError("Sequential: needs at least one layer")
        for k, layer in enumerate(layers):
            if not all(hasattr(layer, a) for a in ("output", "backpropagate", "params", "grads")):
                raise InputTypeError(f"Sequential: layer {k} ({type(layer).__name__}) lacks the "
                                     "layer contract (output, backpropagate, params, grads)")
        self.layers = layers
        self.last_output = None  # output of the last loss_and_backward, for running metrics

    def forward(self, x):
        """Run every layer's ``output`` in order; returns the last output."""
        for layer in self.layers:
            x = layer.output(x)
        return x

    __call__ = forward

    def backward(self, delta, *, start=None, input_grad=True):
        """Run ``backpropagate`` from the top (or from layer ``start - 1``) down.

        Returns dE/d(input of the model); with ``input_grad=False`` a bottom layer that
        supports it (the core layers) skips that last product and None is returned.
        """
        stop = len(self.layers) if start is None else start
        for k in range(stop - 1, -1, -1):
            layer = self.layers[k]
            if k == 0 and not input_grad and isinstance(layer, Layer):
                return layer.backpropagate(delta, input_grad=False)
            delta = layer.backpropagate(delta)
        return delta

    def loss_and_backward(self, x, t, loss) -> float:
        """Forward, loss, and backward in one go; gradients end up in each layer's ``grads``.

        With a :class:`Softmax` on top and the cross-entropy loss, the pair is fused: the
        delta below the softmax is ``p - t``.

        Returns
        -------
        float
            The batch-mean loss.
        """
        loss = get_loss(loss)
        o = self.forward(x)
        value = loss(o, t)
        self.last_output = o
        if isinstance(loss, CrossEntropy) and isinstance(self.layers[-1], Softmax):
            self.backward(loss.softmax_delta(o, t), start=len(self.layers) - 1, input_grad=False)
        else:
            self.backward(loss.delta(o, t), input_grad=False)
        return value

    def predict(self, x, batch_size=1024):
        """Outputs for ``x``, computed in batches of ``batch_size``."""
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
                or batch_size < 1:
            raise InputError(f"predict: batch_size must be a positive int, got {batch_size!r}")
        n = len(x)
        if n == 0:
            raise InputError(f"predict: x is an empty batch (shape {np.shape(x)})")
        outs = [self.forward(x[i:i + batch_size]) for i in range(0, n, batch_size)]
        return np.concatenate(outs, axis=0)

    def params_and_grads(self):
        """List of ``(param, grad)`` pairs, layer by layer, in ``params`` key order."""
        pairs = []
        for k, layer in enumerate(self.layers):
            for key, p in layer.params.items():
                if key not in layer.grads:
                    raise InputError(f"Sequential: layer {k} has no gradient for {key!r}; "
                                     "run loss_and_backward first")
                pairs.append((p, layer.grads[key]))
        return pairs

    @property
    def n_params(self) -> int:
        """Number of trainable scalars."""
        return int(sum(layer.n_params for layer in self.layers))

    def state_dict(self) -> dict:
        """Copies of every parameter, keyed ``"<layer index>.<key>"``."""
        return {f"{k}.{key}": p.copy() for k, layer in enumerate(self.layers)
                for key, p in layer.params.items()}

    def load_state_dict(self, state: dict) -> None:
        """Write parameters back from :meth:`state_dict`; every key and shape must match."""
        mine = {f"{k}.{key}": (layer, key) for k, layer in enumerate(self.layers)
                for key in layer.params}
        if set(mine) != set(state):
            raise InputError(f"load_state_dict: keys differ: missing {sorted(set(mine) - set(state))},"
                             f" unexpected {sorted(set(state) - set(mine))}")
        new = {}
        for name, (layer, key) in mine.items():
            if layer.params[key].shape != np.shape(state[name]):
                raise InputError(f"load_state_dict: {name} has shape {np.shape(state[name])}, "
                                 f"expected {layer.params[key].shape}")
            value = np.asarray(state[name])
            if not (np.issubdtype(value.dtype, np.floating) or np.issubdtype(value.dtype, np.integer)):
                raise InputTypeError(f"load_state_dict: {name} must be a real numeric array, "
                                     f"got dtype {value.dtype}")
            new[name] = value
        # every value checked before any is written: nothing is half-applied
        for name, (layer, key) in mine.items():
            layer.params[key][...] = new[name]

    def summary(self, input_shape) -> str:
        """One line a layer: its repr, output shape and parameter count."""
        lines, shape = [], tuple(input_shape)
        for layer in self.layers:
            shape = layer.output_shape(shape) if hasattr(layer, "output_shape") else shape
            lines.append(f"{layer!r:<50} -> {shape!s:<16} {layer.n_params:>8} params")
        lines.append(f"{'total':<70} {self.n_params:>8} params")
        return "\n".join(lines)

    def __repr__(self):
        inner = ",\n  ".join(repr(layer) for layer in self.layers)
        return f"Sequential([\n  {inner}\n])"
