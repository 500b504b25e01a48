"""The seed's five layers: Conv2D, Pool2D, Flatten, Dense, Softmax.

One contract for all of them: ``output(x)`` computes the layer and caches only what the
backward pass needs; ``backpropagate(delta)`` takes dE/d(output), stores dE/d(param) in
``grads`` under the same keys as ``params`` and returns dE/d(input) for the layer below.
Images are batch-first ``(n, c, h, w)``, vectors ``(n, features)``.
"""

from __future__ import annotations

import numpy as np

from graphnet._checks import check_dtype
from graphnet.core import activations as acts
from graphnet.core import functional as F
from graphnet.core.conv import conv_padding
from graphnet.errors import InputError, InputTypeError
from graphnet.rng import make_rng

__all__ = ["Layer", "Conv2D", "Pool2D", "Flatten", "Dense", "Softmax", "init_weights"]


def _check_positive_int(value, name, where):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InputError(f"{where}: {name} must be a positive int, got {value!r}")
    return int(value)


def init_weights(shape, fan_in: int, fan_out: int, scheme: str, rng, dtype=np.float64):
    """Draw an initial weight array.

    Parameters
    ----------
    shape : tuple of int
    fan_in, fan_out : int
    scheme : {"xavier", "he"}
        ``xavier``: uniform in +-sqrt(6 / (fan_in + fan_out)) (tanh, sigmoid, identity);
        ``he``: normal with std sqrt(2 / fan_in) (relu).
    rng : int or numpy.random.Generator
    dtype : float32 or float64

    Returns
    -------
    ndarray of ``shape``

    Examples
    --------
    >>> w = init_weights((3, 4), 3, 4, "xavier", rng=0)
    >>> w.shape, bool(np.abs(w).max() <= np.sqrt(6 / 7))
    ((3, 4), True)
    """
    rng = make_rng(rng, name="rng")
    if scheme == "xavier":
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        w = rng.uniform(-limit, limit, size=shape)
    elif scheme == "he":
        w = rng.normal(0.0, np.sqrt(2.0 / fan_in), size=shape)
    else:
        raise InputError(f"init_weights: scheme must be 'xavier' or 'he', got {scheme!r}")
    return w.astype(dtype)


def _column_blocks(n_cols, width=6144):
    """Equal column ranges of at most ``width``: OpenBLAS runs wide, flat products far
    faster in such slices than in one call (measured in benchmarks/bench_core.py)."""
    k = -(-n_cols // width)
    edges = [n_cols * i // k for i in range(k + 1)]
    return list(zip(edges[:-1], edges[1:]))


def _resolve_init(init, act, where):
    if init == "auto":
        return "he" if act == "relu" else "xavier"
    if init not in ("xavier", "he"):
        raise InputError(f"{where}: init must be 'auto', 'xavier' or 'he', got {init!r}")
    return init


class Layer:
    """Base class: empty ``params`` and ``grads``, and the shared input checks."""

    params: dict
    grads: dict

    def __init__(self):
        self.params = {}
        self.grads = {}
        self._cache = None

    @property
    def n_params(self) -> int:
        """Number of trainable scalars."""
        return int(sum(p.size for p in self.params.values()))

    def output_shape(self, input_shape: tuple) -> tuple:
        """Shape of one sample's output for one sample's ``input_shape`` (no batch axis)."""
        return tuple(input_shape)

    def _need_cache(self):
        if self._cache is None:
            raise InputError(f"{type(self).__name__}.backpropagate: call output() first")
        return self._cache

    def _check_delta(self, delta, shape):
        if delta.shape != shape:
            raise InputError(f"{type(self).__name__}.backpropagate: delta has shape {delta.shape}, "
                             f"expected {shape} (the shape of the last output)")

    def __repr__(self):
        return f"{type(self).__name__}()"


def _check_input(x, ndim, where, dtype=None):
    if not isinstance(x, np.ndarray):
        x = np.asarray(x)
    if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
        raise InputTypeError(f"{where}: x must be a real numeric array, got dtype {x.dtype}")
    if x.ndim != ndim:
        raise InputError(f"{where}: x must be {ndim}-D, got shape {x.shape}")
    if x.shape[0] == 0:
        raise InputError(f"{where}: x is an empty batch (shape {x.shape})")
    if dtype is not None and x.dtype != dtype:
        x = x.astype(dtype)
    return x


class Conv2D(Layer):
    """Convolution layer: ``O_j = act(sum_i X_i *valid Theta_ij + b_j)``, a true convolution.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int or (int, int)
    stride : int or (int, int)
        The kernel moves ``sh`` rows and ``sw`` columns at a time.
    padding : int, (int, int), "valid" or "same"
        Zeros added before the valid convolution: on every side (an int; ``kernel_size - 1``
        gives the seed's full mode), ``ph`` above and below and ``pw`` left and right (a
        pair), none (``"valid"``), or as many as keep the size (``"same"``, stride 1).
    activation : {"relu", "tanh", "sigmoid", "identity"}
    init : {"auto", "xavier", "he"}
    rng : int or numpy.random.Generator
    dtype : float32 or float64

    Attributes
    ----------
    params : dict
        ``W`` of shape (out_channels, in_channels, p, q) (the kernels Theta, unflipped) and
        ``b`` of shape (out_channels,).

    Examples
    --------
    >>> conv = Conv2D(1, 4, 3, rng=0)
    >>> y = conv.output(np.zeros((2, 1, 8, 8)))
    >>> y.shape
    (2, 4, 6, 6)
    >>> conv.backpropagate(np.ones_like(y)).shape
    (2, 1, 8, 8)
    >>> Conv2D(1, 4, 3, stride=2, padding=(1, 0), rng=0).output(np.zeros((2, 1, 8, 8))).shape
    (2, 4, 4, 3)
    """

    def __init__(self, in_channels, out_channels, kernel_size, *, stride=1, padding=0,
                 activation="relu", init="auto", rng=0, dtype=np.float64):
        super().__init__()
        where = type(self).__name__
        self.in_channels = _check_positive_int(in_channels, "in_channels", where)
        self.out_channels = _check_positive_int(out_channels, "out_channels", where)
        if isinstance(kernel_size, (int, np.integer)) and not isinstance(kernel_size, bool):
            kernel_size = (kernel_size, kernel_size)
        if (not isinstance(kernel_size, (tuple, list)) or len(kernel_size) != 2):
            raise InputError(f"{where}: kernel_size must be an int or a pair, got {kernel_size!r}")
        self.kernel_size = tuple(_check_positive_int(k, "kernel_size", where) for k in kernel_size)
        self.stride = F._pair(stride, "stride", where)
        self._pads = conv_padding(padding, self.kernel_size, self.stride, where)  # (t, b, l, r)
        self.padding = int(padding) if isinstance(padding, (int, np.integer)) else padding
        self.activation = activation
        self._act, self._dact = acts.activation(activation)
        self.dtype = check_dtype(dtype, where)
        p, q = self.kernel_size
        scheme = _resolve_init(init, activation, where)
        fan_in, fan_out = self.in_channels * p * q, self.out_channels * p * q
        self.params["W"] = init_weights((self.out_channels, self.in_channels, p, q), fan_in, fan_out,
                                        scheme, rng, self.dtype)
        self.params["b"] = np.zeros(self.out_channels, dtype=self.dtype)

    def output_shape(self, input_shape):
        c, h, w = input_shape
        (p, q), (sh, sw), (t, b, l, r) = self.kernel_size, self.stride, self._pads
        return (self.out_channels, (h + t + b - p) // sh + 1, (w + l + r - q) // sw + 1)

    def _kernels(self):
        """``W`` as (out_channels, in_channels, p, q) (a view)."""
        return self.params["W"].reshape(self.out_channels, self.in_channels, *self.kernel_size)

    def output(self, x):
        """Forward pass.

        Parameters
        ----------
        x : ndarray of shape (n, in_channels, h, w)

        Returns
        -------
        ndarray of shape (n, out_channels, (h + 2 ph - p) // sh + 1, (w + 2 pw - q) // sw + 1)
        """
        x = _check_input(x, 4, "Conv2D.output", self.dtype)
        if x.shape[1] != self.in_channels:
            raise InputError(f"Conv2D.output: x has {x.shape[1]} channels, the layer expects "
                             f"{self.in_channels} (x shape {x.shape})")
        n, c, h0, w0 = x.shape
        (p, q), (sh, sw), (t, b, l, r) = self.kernel_size, self.stride, self._pads
        h, w = h0 + t + b, w0 + l + r
        if h < p or w < q:
            raise InputError(f"Conv2D.output: kernel {p}x{q} is larger than the (padded) "
                             f"input {h}x{w}: the output map would be empty")
        oh, ow = (h - p) // sh + 1, (w - q) // sw + 1
        # Inside, images live as (c, h, w, n): the batch innermost, so every window copy
        # below moves runs of ow*n numbers, and the output handed on is an (n, c, h, w)
        # view of that memory that the next layer turns back without a copy.
        if t or b or l or r:
            xt = np.zeros((c, h, w, n), dtype=self.dtype)
            xt[:, t:t + h0, l:l + w0, :] = x.transpose(1, 2, 3, 0)
        else:
            xt = x.transpose(1, 2, 3, 0)
        k, L = c * p * q, oh * ow * n
        cols = np.empty((k + 1, L), dtype=self.dtype)       # (c*p*q + 1, oh*ow*n)
        windows = cols[:k].reshape(c, p, q, oh, ow, n)
        for u in range(p):
            for v in range(q):
                windows[:, u, v] = xt[:, u:u + (oh - 1) * sh + 1:sh, v:v + (ow - 1) * sw + 1:sw, :]
        cols[k] = 1.0                      # a row of ones: the bias rides in the product
        kmat = np.empty((self.out_channels, k + 1), dtype=self.dtype)
        kmat[:, :k] = F.rot180(self._kernels()).reshape(self.out_channels, k)  # flipped: true conv
        kmat[:, k] = self.params["b"]
        z = np.empty((self.out_channels, L), dtype=self.dtype)           # (c_out, oh*ow*n)
        for a, b in _column_blocks(L):
            np.matmul(kmat, cols[:, a:b], out=z[:, a:b])
        if self.activation == "relu":
            o = np.maximum(z, 0, out=z)
        else:
            o = self._act(z)
        self._cache = (cols, o, (n, c, h, w))
        return o.reshape(self.out_channels, oh, ow, n).transpose(3, 0, 1, 2)

    def backpropagate(self, delta, *, input_grad=True):
        """Backward pass.

        Parameters
        ----------
        delta : ndarray of shape (n, out_channels, oh, ow)
            dE/d(output).
        input_grad : bool
            Compute dE/d(input); the bottom layer of a model can skip it.

        Returns
        -------
        ndarray of shape (n, in_channels, h, w), or None without ``input_grad``
            dE/d(input); ``grads["W"]`` and ``grads["b"]`` are set.
        """
        cols, o, (n, c, h, w) = self._need_cache()
        (p, q), (sh, sw), (t, b, l, r) = self.kernel_size, self.stride, self._pads
        oh, ow = (h - p) // sh + 1, (w - q) // sw + 1
        self._check_delta(delta, (n, self.out_channels, oh, ow))
        dz = delta.transpose(1, 2, 3, 0).reshape(self.out_channels, -1)   # (c_out, oh*ow*n)
        if self.activation == "relu":
            dz = dz * (o > 0).astype(self.dtype)   # float * float: numpy's bool casts are slow
        elif self.activation != "identity":
            dz = dz * self._dact(o)
        dz = dz.astype(self.dtype, copy=False)
        # dE/dTheta = rot180(X *valid rot180(dilate(Delta, stride))): correlate X with Delta
        # at the strided windows, flip back; the row of ones in cols gives dE/db = sum(Delta)
        blocks = _column_blocks(cols.shape[1])
        dk = dz @ cols.T if len(blocks) == 1 else sum(dz[:, a:b] @ cols[:, a:b].T for a, b in blocks)
        k = cols.shape[0] - 1
        self.grads["W"] = np.ascontiguousarray(
            F.rot180(dk[:, :k].reshape(self.out_channels, c, p, q))).reshape(self.params["W"].shape)
        self.grads["b"] = dk[:, k].copy()
        if not input_grad:
            return None
        # Delta_below = dilate(Delta, stride) *full rot180(Theta), done as the adjoint of
        # the window copies (a strided copy is the dilation)
        kmat = F.rot180(self._kernels()).reshape(self.out_channels, -1)
        dcols = (kmat.T @ dz).reshape(c, p, q, oh, ow, n)                 # (c*p*q, oh*ow*n)
        dxt = np.zeros((c, h, w, n), dtype=self.dtype)
        for u in range(p):
            for v in range(q):
                dxt[:, u:u + (oh - 1) * sh + 1:sh, v:v + (ow - 1) * sw + 1:sw, :] += dcols[:, u, v]
        if t or b or l or r:
            dxt = dxt[:, t:h - b, l:w - r, :]
        return dxt.transpose(3, 0, 1, 2)                                  # (n, c, h, w) view

    def __repr__(self):
        stride = "" if self.stride == (1, 1) else f"stride={self.stride}, "
        return (f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
                f"{self.kernel_size}, {stride}padding={self.padding!r}, "
                f"activation={self.activation!r})")


class Pool2D(Layer):
    """Down-sampling layer: max or mean over ``size`` windows, one every ``stride``.

    Backward routes the delta exactly: max to the (first) position of each window's
    maximum, mean evenly over the window; overlapping windows add. Padded positions get
    nothing.

    Parameters
    ----------
    size : int or (int, int)
        Window height and width.
    method : {"max", "mean"}
    edge : {"pad", "zero-pad", "ignore"}
        ``pad`` extends the map until the windows reach past its end: a padded position
        counts as 0 in a mean and never wins a max. ``zero-pad`` is the seed's literal rule,
        zeros that can win a max (so negative maps are clamped). ``ignore`` drops the
        remainder.
    stride : int or (int, int), optional
        Default: the window size (windows side by side, the seed's pooling).

    Examples
    --------
    >>> pool = Pool2D(2, "max", "pad")
    >>> pool.output(np.zeros((1, 3, 5, 5))).shape
    (1, 3, 3, 3)
    >>> Pool2D(2, "max", "pad").output(-np.ones((1, 1, 1, 3)))[0, 0]
    array([[-1., -1.]])
    >>> Pool2D(2, "max", "zero-pad").output(-np.ones((1, 1, 1, 3)))[0, 0]
    array([[0., 0.]])
    >>> Pool2D((1, 3), "max", stride=(1, 2)).output(np.zeros((1, 1, 4, 7))).shape
    (1, 1, 4, 3)
    """

    def __init__(self, size=2, method="max", edge="pad", *, stride=None):
        super().__init__()
        if edge not in ("pad", "zero-pad", "ignore"):
            raise InputError(f"Pool2D: edge must be 'pad' or 'ignore', got {edge!r} "
                             "(or 'zero-pad': the seed's literal zeros)")
        self._edge = "ignore" if edge == "ignore" else "pad"        # the functional rule
        size_pair, stride_pair = F._check_pool(size, method, self._edge, "Pool2D", stride)
        self.size = size_pair[0] if size_pair[0] == size_pair[1] else size_pair
        self.stride = stride_pair
        self.method, self.edge = method, edge
        # what padding holds: -inf never wins a max; zeros count in a mean and in "zero-pad"
        self._pad_value = -np.inf if (edge == "pad" and method == "max") else 0.0

    def output_shape(self, input_shape):
        c, h, w = input_shape
        return (c,) + F.pool_output_shape(h, w, self.size, self._edge, self.stride)

    def output(self, x):
        """Forward pass: ``x`` (n, c, h, w) -> (n, c, h', w').

        Raises InputError when the map gives no window (``ignore`` and a map smaller than
        one window).
        """
        x = _check_input(x, 4, "Pool2D.output")
        try:
            out = F.downsample(x, self.size, self.method, self._edge, stride=self.stride,
                               pad_value=self._pad_value)
        except InputError as err:
            raise InputError(f"Pool2D.output: {err} (x shape {x.shape})") from None
        # max: keep x and its pool to route the delta (cheaper than storing indices)
        self._cache = (x if self.method == "max" else x.shape, out)
        return out

    def backpropagate(self, delta, *, input_grad=True):
        """Backward pass: ``delta`` (n, c, h', w') -> (n, c, h, w)."""
        x, out = self._need_cache()
        self._check_delta(delta, out.shape)
        if not input_grad:
            return None
        if delta.strides != out.strides:
            # bring the delta into the layout of the pooled maps (channel-first after a
            # Conv2D) so the routing below runs over contiguous memory
            moved = np.empty_like(out, dtype=delta.dtype)
            moved[...] = delta
            delta = moved
        if self.method == "max":
            return F.max_route(delta, x, out, self.size, stride=self.stride,
                               pad_value=self._pad_value)
        return F.upsample(delta, x[-2:], self.size, "mean", stride=self.stride)

    def __repr__(self):
        window = F._pair(self.size, "size", "Pool2D")
        stride = "" if self.stride == window else f", stride={self.stride}"
        return f"Pool2D({self.size}, {self.method!r}, {self.edge!r}{stride})"


class Flatten(Layer):
    """The seed's rasterizing: feature maps (n, c, h, w) -> vectors (n, c*h*w), channel by
    channel, row by row.

    Examples
    --------
    >>> Flatten().output(np.zeros((2, 3, 4, 4))).shape
    (2, 48)
    """

    def output_shape(self, input_shape):
        return (int(np.prod(input_shape)),)

    def output(self, x):
        """Forward pass."""
        x = np.asarray(x)
        if x.ndim < 2:
            raise InputError(f"Flatten.output: x must have a batch axis, got shape {x.shape}")
        x = _check_input(x, x.ndim, "Flatten.output")   # numeric dtype, non-empty batch
        self._cache = x.shape
        return x.reshape(x.shape[0], -1)

    def backpropagate(self, delta, *, input_grad=True):
        """Backward pass: reshape the delta back into feature maps."""
        shape = self._need_cache()
        self._check_delta(delta, (shape[0], int(np.prod(shape[1:]))))
        return delta.reshape(shape)


class Dense(Layer):
    """Fully connected layer ``o = act(x @ W + b)``.

    ``W`` has shape (n_in, n_out), so ``W[i, j]`` is the edge from input i to output j, the
    graph convention; the seed's Theta is ``W.T``.

    Parameters
    ----------
    n_in, n_out : int
    activation : {"tanh", "sigmoid", "relu", "identity"}
    init : {"auto", "xavier", "he"}
    rng : int or numpy.random.Generator
    dtype : float32 or float64

    Examples
    --------
    >>> d = Dense(3, 2, activation="tanh", rng=0)
    >>> d.output(np.ones((5, 3))).shape
    (5, 2)
    """

    def __init__(self, n_in, n_out, *, activation="identity", init="auto", rng=0,
                 dtype=np.float64):
        super().__init__()
        self.n_in = _check_positive_int(n_in, "n_in", "Dense")
        self.n_out = _check_positive_int(n_out, "n_out", "Dense")
        self.activation = activation
        self._act, self._dact = acts.activation(activation)
        self.dtype = check_dtype(dtype, "Dense")
        scheme = _resolve_init(init, activation, "Dense")
        self.params["W"] = init_weights((self.n_in, self.n_out), self.n_in, self.n_out, scheme, rng,
                                        self.dtype)
        self.params["b"] = np.zeros(self.n_out, dtype=self.dtype)

    def output_shape(self, input_shape):
        return (self.n_out,)

    def output(self, x):
        """Forward pass: ``x`` (n, n_in) -> (n, n_out)."""
        x = _check_input(x, 2, "Dense.output", self.dtype)
        if x.shape[1] != self.n_in:
            raise InputError(f"Dense.output: x has {x.shape[1]} features, the layer expects "
                             f"{self.n_in}")
        o = self._act(x @ self.params["W"] + self.params["b"])           # (n, n_out)
        self._cache = (x, o)
        return o

    def backpropagate(self, delta, *, input_grad=True):
        """Backward pass: the seed's dE/dTheta = delta o_P^T, dE/db = delta, Theta^T delta.

        Without ``input_grad`` (the bottom layer) only the gradients are computed.
        """
        x, o = self._need_cache()
        self._check_delta(delta, o.shape)
        dz = delta if self.activation == "identity" else delta * self._dact(o)
        dz = dz.astype(self.dtype, copy=False)   # a float64 delta must not upcast a float32 layer
        self.grads["W"] = x.T @ dz                                         # (n_in, n_out)
        self.grads["b"] = dz.sum(axis=0)
        if not input_grad:
            return None
        return dz @ self.params["W"].T                                     # (n, n_in)

    def __repr__(self):
        return f"Dense({self.n_in}, {self.n_out}, activation={self.activation!r})"


class Softmax(Layer):
    """Softmax over the features of each sample.

    ``backpropagate`` uses the full Jacobian ``diag(s) - s s^T``. Paired with the
    cross-entropy loss, :class:`graphnet.core.model.Sequential` skips it and passes
    ``p - t`` straight down, which is the same and numerically safer.

    Examples
    --------
    >>> s = Softmax().output(np.zeros((1, 4)))
    >>> s
    array([[0.25, 0.25, 0.25, 0.25]])
    """

    def output(self, x):
        """Forward pass: ``x`` (n, k) -> probabilities (n, k)."""
        x = _check_input(x, 2, "Softmax.output")
        s = acts.softmax(x, axis=1)
        self._cache = s
        return s

    def backpropagate(self, delta, *, input_grad=True):
        """Backward pass: ``dx = s * (delta - sum(delta * s))`` per sample."""
        s = self._need_cache()
        self._check_delta(delta, s.shape)
        return s * (delta - (delta * s).sum(axis=1, keepdims=True))
