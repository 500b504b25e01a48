"""Layers for sequences ``(n, c, L)``: Conv1D, Pool1D, Reshape, and the Residual wrapper.

Conv1D and Pool1D are :class:`~graphnet.core.layers.Conv2D` and
:class:`~graphnet.core.layers.Pool2D` on maps of height 1, so they keep the seed's
semantics (a true convolution, kernel flipped; exact delta routing) and its gradient
formulas. :class:`Residual` adds a layer's input to its output (``o = f(x) + x``), the
skip connection of the MNIST-1D paper's MLP.
"""

from __future__ import annotations

import numpy as np

from graphnet.core.layers import Conv2D, Layer, Pool2D, _check_input
from graphnet.errors import InputError

__all__ = ["Conv1D", "Pool1D", "Reshape", "Residual"]


def _check_int(value, name, where, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        kind = "a positive int" if minimum == 1 else "a non-negative int"
        raise InputError(f"{where}: {name} must be {kind}, got {value!r}")
    return int(value)


def _check_seq(x, where, dtype=None):
    """A 3-D (n, c, L) batch, as the 4-D (n, c, 1, L) maps the 2-D layers take."""
    return _check_input(x, 3, where, dtype)[:, :, None, :]


class Conv1D(Conv2D):
    """1-D convolution layer: ``O_j = act(sum_i X_i *valid Theta_ij + b_j)`` along L.

    A true convolution (kernel flipped), strided: the output keeps every ``stride``-th
    position. It is a :class:`~graphnet.core.layers.Conv2D` with ``(1, kernel)`` kernels
    on maps of height 1, so the gradients are the seed's, with the delta dilated by the
    stride.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel : int
    stride : int
    padding : int, "valid" or "same"
        Zeros added at both ends (``"same"``: stride 1 only).
    activation : {"relu", "tanh", "sigmoid", "identity"}
    init : {"auto", "xavier", "he"}
    rng : int or numpy.random.Generator
    dtype : float32 or float64

    Attributes
    ----------
    params : dict
        ``W`` of shape (out_channels, in_channels, kernel) (unflipped) and ``b`` of shape
        (out_channels,).

    Examples
    --------
    >>> conv = Conv1D(1, 25, 5, stride=2, padding=1, rng=0)
    >>> y = conv.output(np.zeros((3, 1, 40)))
    >>> y.shape, conv.n_params
    ((3, 25, 19), 150)
    >>> conv.backpropagate(np.ones_like(y)).shape
    (3, 1, 40)
    """

    def __init__(self, in_channels, out_channels, kernel, *, stride=1, padding=0,
                 activation="relu", init="auto", rng=0, dtype=np.float64):
        kernel = _check_int(kernel, "kernel", "Conv1D", 1)
        stride = _check_int(stride, "stride", "Conv1D", 1)
        if not isinstance(padding, str):
            padding = (0, _check_int(padding, "padding", "Conv1D", 0))
        super().__init__(in_channels, out_channels, (1, kernel), stride=(1, stride),
                         padding=padding, activation=activation, init=init, rng=rng, dtype=dtype)
        self.params["W"] = self.params["W"].reshape(self.out_channels, self.in_channels, kernel)
        self.padding = padding[1] if isinstance(padding, tuple) else padding

    def output_shape(self, input_shape):
        c, length = input_shape
        c_out, _, out_len = super().output_shape((c, 1, length))
        return (c_out, out_len)

    def output(self, x):
        """Forward pass: ``x`` (n, in_channels, L) -> (n, out_channels, L')."""
        return super().output(_check_seq(x, "Conv1D.output", self.dtype))[:, :, 0, :]

    def backpropagate(self, delta, *, input_grad=True):
        """Backward pass: ``delta`` (n, out_channels, L') -> (n, in_channels, L)."""
        if np.ndim(delta) != 3:
            raise InputError(f"Conv1D.backpropagate: delta must be 3-D (n, c, L'), "
                             f"got shape {np.shape(delta)}")
        dx = super().backpropagate(delta[:, :, None, :], input_grad=input_grad)
        return None if dx is None else dx[:, :, 0, :]

    def __repr__(self):
        stride = "" if self.stride[1] == 1 else f"stride={self.stride[1]}, "
        return (f"Conv1D({self.in_channels}, {self.out_channels}, {self.kernel_size[1]}, "
                f"{stride}padding={self.padding!r}, activation={self.activation!r})")


class Pool1D(Pool2D):
    """Down-sampling of sequences: max or mean over windows of ``size``, one every ``stride``.

    :class:`~graphnet.core.layers.Pool2D` with ``(1, size)`` windows; the same edge rules
    (a padded position never wins a max under ``pad``).

    Parameters
    ----------
    size : int
    method : {"max", "mean"}
    edge : {"pad", "zero-pad", "ignore"}
    stride : int, optional
        Default: ``size``.

    Examples
    --------
    >>> Pool1D(3, "max", stride=2).output(np.arange(7.0).reshape(1, 1, 7))
    array([[[2., 4., 6.]]])
    """

    def __init__(self, size=2, method="max", edge="pad", *, stride=None):
        size = _check_int(size, "size", "Pool1D", 1)
        stride = size if stride is None else _check_int(stride, "stride", "Pool1D", 1)
        super().__init__((1, size), method, edge, stride=(1, stride))

    def output_shape(self, input_shape):
        c, length = input_shape
        return (c, super().output_shape((c, 1, length))[2])

    def output(self, x):
        """Forward pass: ``x`` (n, c, L) -> (n, c, L')."""
        return super().output(_check_seq(x, "Pool1D.output"))[:, :, 0, :]

    def backpropagate(self, delta, *, input_grad=True):
        """Backward pass: ``delta`` (n, c, L') -> (n, c, L)."""
        if np.ndim(delta) != 3:
            raise InputError(f"Pool1D.backpropagate: delta must be 3-D (n, c, L'), "
                             f"got shape {np.shape(delta)}")
        dx = super().backpropagate(delta[:, :, None, :], input_grad=input_grad)
        return None if dx is None else dx[:, :, 0, :]

    def __repr__(self):
        size = 1 if self.size == 1 else self.size[1]
        stride = "" if self.stride[1] == size else f", stride={self.stride[1]}"
        return f"Pool1D({size}, {self.method!r}, {self.edge!r}{stride})"


class Reshape(Layer):
    """View each sample in a new shape: flat vectors (n, L) as sequences (n, 1, L), say.

    Parameters
    ----------
    shape : tuple of int
        One sample's shape after the layer (no batch axis).

    Examples
    --------
    >>> Reshape((1, 40)).output(np.zeros((3, 40))).shape
    (3, 1, 40)
    """

    def __init__(self, shape):
        super().__init__()
        if (not isinstance(shape, (tuple, list)) or not shape
                or any(isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1
                       for d in shape)):
            raise InputError(f"Reshape: shape must be a non-empty tuple of positive ints, "
                             f"got {shape!r}")
        self.shape = tuple(int(d) for d in shape)

    def output_shape(self, input_shape):
        if int(np.prod(input_shape)) != int(np.prod(self.shape)):
            raise InputError(f"Reshape: a sample of shape {tuple(input_shape)} cannot be viewed "
                             f"as {self.shape}")
        return self.shape

    def output(self, x):
        """Forward pass: ``x`` (n, ...) -> (n, *shape)."""
        x = np.asarray(x)
        x = _check_input(x, max(x.ndim, 2), "Reshape.output")
        self.output_shape(x.shape[1:])
        self._cache = x.shape
        return x.reshape((x.shape[0],) + self.shape)

    def backpropagate(self, delta, *, input_grad=True):
        """Backward pass: the delta in the input's shape."""
        shape = self._need_cache()
        self._check_delta(delta, (shape[0],) + self.shape)
        return delta.reshape(shape)

    def __repr__(self):
        return f"Reshape({self.shape})"


class Residual(Layer):
    """A layer with a skip connection: ``o = f(x) + x``.

    The delta passes down both ways, ``dE/dx = f'(x)^T delta + delta``; the wrapped
    layer's parameters and gradients are this layer's (the same dicts).

    Parameters
    ----------
    layer : Layer
        Maps its input to an output of the same shape (e.g. ``Dense(100, 100)``).

    Examples
    --------
    >>> from graphnet.core.layers import Dense
    >>> block = Residual(Dense(4, 4, activation="relu", rng=0))
    >>> x = np.ones((2, 4))
    >>> bool(np.all(block.output(x) >= x)), block.n_params
    (True, 20)
    """

    def __init__(self, layer):
        super().__init__()
        if not all(hasattr(layer, a) for a in ("output", "backpropagate", "params", "grads")):
            raise InputError(f"Residual: layer must follow the layer contract (output, "
                             f"backpropagate, params, grads), got {type(layer).__name__}")
        self.layer = layer
        self.params, self.grads = layer.params, layer.grads

    def output_shape(self, input_shape):
        shape = tuple(self.layer.output_shape(input_shape))
        if shape != tuple(input_shape):
            raise InputError(f"Residual: the layer maps {tuple(input_shape)} to {shape}; a skip "
                             "connection needs the same shape")
        return shape

    def output(self, x):
        """Forward pass: ``f(x) + x``, same shape as ``x``."""
        o = self.layer.output(x)
        if o.shape != np.shape(x):
            raise InputError(f"Residual.output: the layer maps {np.shape(x)} to {o.shape}; a skip "
                             "connection needs the same shape")
        self._cache = o.shape
        return o + x

    def backpropagate(self, delta, *, input_grad=True):
        """Backward pass: the wrapped layer's delta plus the delta through the skip."""
        shape = self._need_cache()
        self._check_delta(delta, shape)
        # the skip needs dE/dx of the wrapped layer even at the bottom of a model
        return self.layer.backpropagate(delta) + delta

    def __repr__(self):
        return f"Residual({self.layer!r})"
