"""Pure array operations of the seed's backprop core.

The seed's helper methods: ``conv2d`` (valid and full), ``rot180``, ``downsample`` and
``upsample`` for pooling (the activations are in :mod:`graphnet.core.activations`). Nothing
here keeps state; the layers in :mod:`graphnet.core.layers` are built from these functions.

Convolution is a *true* convolution, kernel flipped, as the seed derives it
(``O = sum_{i,j} theta_{(n-i)(n-j)} x_{ij}``), not the cross-correlation most frameworks
call convolution. Batched forms take images batch-first, ``(n, c, h, w)``.
"""

from __future__ import annotations

import numpy as np

from graphnet.errors import InputError, InputTypeError

__all__ = [
    "conv2d",
    "conv2d_batch",
    "im2col",
    "col2im",
    "rot180",
    "downsample",
    "upsample",
    "max_route",
    "pool_output_shape",
]

_MODES = ("valid", "full")


def _as_float_array(x, name: str, ndim: int | None = None) -> np.ndarray:
    """Check that ``x`` is a real floating or integer array of ``ndim`` dims; return it as float."""
    if not isinstance(x, np.ndarray):
        x = np.asarray(x)
    if x.dtype == object or not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)
                                 or x.dtype == bool):
        raise InputTypeError(f"{name}: expected a real numeric array, got dtype {x.dtype}")
    if ndim is not None and x.ndim != ndim:
        raise InputError(f"{name}: expected a {ndim}-D array, got shape {x.shape}")
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    return x


def _check_mode(mode: str, where: str) -> None:
    if mode not in _MODES:
        raise InputError(f"{where}: mode must be 'valid' or 'full', got {mode!r}")


def rot180(k: np.ndarray) -> np.ndarray:
    """Rotate the last two axes of an array by 180 degrees.

    Parameters
    ----------
    k : ndarray of shape (..., p, q)

    Returns
    -------
    ndarray of shape (..., p, q)
        ``k[..., ::-1, ::-1]`` (a view).

    Examples
    --------
    >>> rot180(np.array([[1, 2], [3, 4]]))
    array([[4, 3],
           [2, 1]])
    """
    k = np.asarray(k)
    if k.ndim < 2:
        raise InputError(f"rot180: expected an array with at least 2 dims, got shape {k.shape}")
    return k[..., ::-1, ::-1]


def conv2d(x: np.ndarray, k: np.ndarray, mode: str = "valid") -> np.ndarray:
    """Two-dimensional discrete convolution of one image with one kernel (kernel flipped).

    ``(x * k)[m, n] = sum_{u, v} x[u, v] k[m - u, n - v]``, as in the seed.

    Parameters
    ----------
    x : ndarray of shape (m, n)
    k : ndarray of shape (p, q)
    mode : {"valid", "full"}
        ``valid``: only where the kernel lies inside ``x``, shape (m-p+1, n-q+1); needs
        m >= p and n >= q. ``full``: the whole definition, shape (m+p-1, n+q-1).

    Returns
    -------
    ndarray
        The convolution, in the result dtype of ``x`` and ``k``.

    Raises
    ------
    InputError
        For arrays that are not 2-D, an unknown mode, or (valid) a kernel larger than ``x``.

    Examples
    --------
    >>> x = np.arange(9.0).reshape(3, 3)
    >>> conv2d(x, np.array([[1.0, 0.0], [0.0, 0.0]]))   # kernel flipped: picks x[1:, 1:]
    array([[4., 5.],
           [7., 8.]])
    >>> conv2d(np.ones((2, 2)), np.ones((2, 2)), mode="full")
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])
    """
    x = _as_float_array(x, "conv2d: x", 2)
    k = _as_float_array(k, "conv2d: k", 2)
    _check_mode(mode, "conv2d")
    out = conv2d_batch(x[None, None], k[None, None], mode)
    return out[0, 0]


def _check_conv_args(x, k, mode, where):
    x = _as_float_array(x, f"{where}: x", 4)
    k = _as_float_array(k, f"{where}: k", 4)
    _check_mode(mode, where)
    if x.shape[1] != k.shape[1]:
        raise InputError(
            f"{where}: x has {x.shape[1]} channels but the kernel expects {k.shape[1]} "
            f"(x {x.shape}, k {k.shape})"
        )
    p, q = k.shape[2:]
    if p < 1 or q < 1:
        raise InputError(f"{where}: kernel must be at least 1x1, got {p}x{q}")
    if mode == "valid" and (x.shape[2] < p or x.shape[3] < q):
        raise InputError(
            f"{where}: kernel {p}x{q} is larger than the input {x.shape[2]}x{x.shape[3]} "
            "in 'valid' mode"
        )
    return x, k


def im2col(x: np.ndarray, p: int, q: int) -> np.ndarray:
    """Unfold every p x q window of a batch of images into columns, channel-first.

    Parameters
    ----------
    x : ndarray of shape (n, c, h, w)
    p, q : int
        Window height and width, at most h and w.

    Returns
    -------
    ndarray of shape (c * p * q, n * h' * w')
        With h' = h - p + 1 and w' = w - q + 1. Row ``(ci * p + u) * q + v`` holds
        ``x[:, ci, u:u+h', v:v+w']`` flattened in (n, h', w') order. The copy loops over the
        p * q kernel offsets (a few block copies), never over pixels or samples.

    Examples
    --------
    >>> x = np.arange(9.0).reshape(1, 1, 3, 3)
    >>> im2col(x, 2, 2)
    array([[0., 1., 3., 4.],
           [1., 2., 4., 5.],
           [3., 4., 6., 7.],
           [4., 5., 7., 8.]])
    """
    n, c, h, w = x.shape
    oh, ow = h - p + 1, w - q + 1
    if oh < 1 or ow < 1:
        raise InputError(f"im2col: window {p}x{q} does not fit in {h}x{w}")
    xt = x.transpose(1, 0, 2, 3)  # (c, n, h, w): channel-first so each copy below is a block
    cols = np.empty((c, p, q, n, oh, ow), dtype=x.dtype)
    for u in range(p):
        for v in range(q):
            cols[:, u, v] = xt[:, :, u:u + oh, v:v + ow]
    return cols.reshape(c * p * q, n * oh * ow)


def col2im(cols: np.ndarray, shape: tuple[int, int, int, int], p: int, q: int) -> np.ndarray:
    """Adjoint of :func:`im2col`: add every column back onto the window it came from.

    Parameters
    ----------
    cols : ndarray of shape (c * p * q, n * h' * w')
    shape : tuple (n, c, h, w)
        Shape of the image batch that :func:`im2col` unfolded.
    p, q : int

    Returns
    -------
    ndarray of shape (n, c, h, w)

    Examples
    --------
    >>> x = np.arange(9.0).reshape(1, 1, 3, 3)
    >>> col2im(im2col(x, 2, 2), x.shape, 2, 2)[0, 0]   # each pixel times the windows holding it
    array([[ 0.,  2.,  2.],
           [ 6., 16., 10.],
           [ 6., 14.,  8.]])
    """
    n, c, h, w = shape
    oh, ow = h - p + 1, w - q + 1
    cols = cols.reshape(c, p, q, n, oh, ow)
    xt = np.zeros((c, n, h, w), dtype=cols.dtype)
    for u in range(p):
        for v in range(q):
            xt[:, :, u:u + oh, v:v + ow] += cols[:, u, v]
    return xt.transpose(1, 0, 2, 3)


def _pair(value, name: str, where: str, minimum: int = 1) -> tuple[int, int]:
    """An int or a pair of ints, each at least ``minimum``, as a pair of ints."""
    if type(value) is int and value >= minimum:     # the common case, without the checks below
        return value, value
    if type(value) is tuple and len(value) == 2 and type(value[0]) is int \
            and type(value[1]) is int and min(value) >= minimum:
        return value
    given = value
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (value, value)
    if (not isinstance(value, (tuple, list)) or len(value) != 2
            or any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < minimum
                   for v in value)):
        kind = "a positive int" if minimum == 1 else f"an int >= {minimum}"
        raise InputError(f"{where}: {name} must be {kind}, got {given!r} (or a pair of them)")
    return int(value[0]), int(value[1])


def conv2d_batch(x: np.ndarray, k: np.ndarray, mode: str = "valid") -> np.ndarray:
    """Multi-channel batched true convolution: ``out[n, o] = sum_i x[n, i] * k[o, i]``.

    Parameters
    ----------
    x : ndarray of shape (n, c_in, h, w)
    k : ndarray of shape (c_out, c_in, p, q)
    mode : {"valid", "full"}

    Returns
    -------
    ndarray of shape (n, c_out, h', w')
        h' = h - p + 1 (valid) or h + p - 1 (full); likewise w'.

    Raises
    ------
    InputError
        Wrong number of dims, channel mismatch, unknown mode, kernel larger than the input
        in valid mode.

    Examples
    --------
    >>> x = np.ones((2, 3, 5, 5)); k = np.ones((4, 3, 3, 3))
    >>> conv2d_batch(x, k).shape, conv2d_batch(x, k, mode="full").shape
    ((2, 4, 3, 3), (2, 4, 7, 7))
    >>> float(conv2d_batch(x, k)[0, 0, 0, 0])   # 3 channels x 9 taps
    27.0
    """
    x, k = _check_conv_args(x, k, mode, "conv2d_batch")
    c_out, c_in, p, q = k.shape
    if mode == "full":
        x = np.pad(x, ((0, 0), (0, 0), (p - 1, p - 1), (q - 1, q - 1)))
    n, _, h, w = x.shape
    oh, ow = h - p + 1, w - q + 1
    cols = im2col(x, p, q)                                   # (c_in*p*q, n*oh*ow)
    kmat = rot180(k).reshape(c_out, c_in * p * q)            # flipped: a true convolution
    out = kmat.astype(np.result_type(x, k), copy=False) @ cols  # (c_out, n*oh*ow)
    return out.reshape(c_out, n, oh, ow).transpose(1, 0, 2, 3)


# ----------------------------------------------------------------------------- pooling

_POOL_METHODS = ("max", "mean")
_POOL_EDGES = ("pad", "ignore")


def _check_pool(size, method, edge, where, stride=None):
    """Check the pooling arguments; return the window and stride as pairs."""
    size = _pair(size, "size", where)
    stride = size if stride is None else _pair(stride, "stride", where)
    if method not in _POOL_METHODS:
        raise InputError(f"{where}: method must be 'max' or 'mean', got {method!r}")
    if edge not in _POOL_EDGES:
        raise InputError(f"{where}: edge must be 'pad' or 'ignore', got {edge!r}")
    return size, stride


def _pool_len(n, p, s, edge):
    """Windows along one axis: whole ones (ignore), or up to one past the end (pad) whose
    start lies inside the map (PyTorch's ceil_mode)."""
    if edge == "ignore":
        return (n - p) // s + 1 if n >= p else 0
    o = -(-(n - p) // s) + 1 if n > p else 1
    return o - 1 if (o - 1) * s >= n else o


def pool_output_shape(h: int, w: int, size=2, edge: str = "pad", stride=None) -> tuple[int, int]:
    """Height and width after pooling an h x w map with ``size`` windows every ``stride``.

    Parameters
    ----------
    h, w : int
    size : int or (int, int)
    edge : {"pad", "ignore"}
    stride : int or (int, int), optional
        Default: the window size (windows side by side).

    Examples
    --------
    >>> pool_output_shape(991, 991, 2, "pad"), pool_output_shape(5, 5, 2, "ignore")
    ((496, 496), (2, 2))
    >>> pool_output_shape(5, 7, (1, 3), "pad", stride=(1, 2))
    (5, 3)
    """
    (ph, pw), (sh, sw) = _check_pool(size, "max", edge, "pool_output_shape", stride)
    return _pool_len(h, ph, sh, edge), _pool_len(w, pw, sw, edge)


def _pool_windows(x, oh, ow, ph, pw, sh, sw):
    """One strided view per window offset, each (..., oh, ow), in row-major offset order."""
    return [x[..., u:u + (oh - 1) * sh + 1:sh, v:v + (ow - 1) * sw + 1:sw]
            for u in range(ph) for v in range(pw)]


def downsample(x: np.ndarray, size=2, method: str = "max", edge: str = "pad",
               *, stride=None, pad_value: float = 0.0, return_indices: bool = False):
    """Pool the last two axes in ``size`` windows, one every ``stride`` positions.

    Parameters
    ----------
    x : ndarray of shape (..., h, w)
    size : int or (int, int)
        Window height and width (the seed's 2x2 by default).
    method : {"max", "mean"}
    edge : {"pad", "ignore"}
        The seed's two edge rules: ``pad`` extends the map with ``pad_value`` until the
        windows reach past its end (the padded values take part in the max and the mean),
        ``ignore`` drops the remainder.
    stride : int or (int, int), optional
        Default: the window size, windows side by side as in the seed.
    pad_value : float
        What ``pad`` fills with: 0 is the seed's literal zero padding; ``-inf`` makes sure a
        padded position never wins a max (what :class:`~graphnet.core.layers.Pool2D` uses).
    return_indices : bool
        For ``max``, also return the position of the maximum inside each window, as an
        integer in ``[0, ph*pw)`` in row-major order; on ties the first (as PyTorch).

    Returns
    -------
    out : ndarray of shape (..., h', w')
    indices : ndarray of shape (..., h', w'), uint8 or int64
        Only with ``return_indices=True`` and ``method="max"``.

    Raises
    ------
    InputError
        Bad size, stride, method or edge; fewer than two dims; a map that gives no window.

    Examples
    --------
    >>> x = np.array([[1., 2., 5.], [3., 4., 6.], [7., 8., 9.]])
    >>> downsample(x, 2, "max", "pad")
    array([[4., 6.],
           [8., 9.]])
    >>> downsample(x, 2, "mean", "ignore")
    array([[2.5]])
    >>> downsample(-x, 2, "max", "pad", pad_value=-np.inf)   # padding never wins
    array([[-1., -5.],
           [-7., -9.]])
    >>> downsample(x, (1, 2), "max", "ignore", stride=1)
    array([[2., 5.],
           [4., 6.],
           [8., 9.]])
    """
    (ph, pw), (sh, sw) = _check_pool(size, method, edge, "downsample", stride)
    if return_indices and method != "max":
        raise InputError("downsample: return_indices=True needs method='max' "
                         f"(mean pooling has no argmax), got method={method!r}")
    x = _as_float_array(x, "downsample: x")
    if x.ndim < 2:
        raise InputError(f"downsample: expected at least 2 dims (..., h, w), got shape {x.shape}")
    h, w = x.shape[-2:]
    oh, ow = _pool_len(h, ph, sh, edge), _pool_len(w, pw, sw, edge)
    if oh == 0 or ow == 0:
        raise InputError(f"downsample: a {h}x{w} map is smaller than one {ph}x{pw} window "
                         "with edge='ignore'")
    H, W = (oh - 1) * sh + ph, (ow - 1) * sw + pw          # the extent the windows cover
    if H > h or W > w:
        pad = [(0, 0)] * (x.ndim - 2) + [(0, max(H - h, 0)), (0, max(W - w, 0))]
        x = np.pad(x, pad, constant_values=pad_value)
    views = _pool_windows(x, oh, ow, ph, pw, sh, sw)
    # order="K" keeps x's memory layout (a layer may hand over an (n, c, h, w) view of
    # channel-first memory), so every elementwise pass below runs over contiguous runs
    out = views[0].copy(order="K")
    if method == "mean":
        for view in views[1:]:
            out += view
        out *= 1.0 / (ph * pw)
        return out
    for view in views[1:]:
        np.maximum(out, view, out=out)
    if not return_indices:
        return out
    idx_dtype = np.uint8 if ph * pw <= 255 else np.int64
    indices = np.zeros_like(out, dtype=idx_dtype)
    # walk the offsets backwards so the first maximum in row-major order wins ties
    for k in range(len(views) - 1, 0, -1):
        indices[views[k] == out] = k
    indices[views[0] == out] = 0
    return out, indices


def max_route(delta: np.ndarray, x: np.ndarray, pooled: np.ndarray, size=2, *, stride=None,
              pad_value: float = 0.0) -> np.ndarray:
    """Route a max-pooled delta to the first maximum of each window, from ``x`` and its pool.

    Gives the same result as ``upsample(delta, x.shape[-2:], size, "max", indices=...)``
    without storing indices: each window offset is compared with the pooled maximum, in
    row-major order, and an offset already taken masks the later ties. Overlapping windows
    (stride below size) add their deltas.

    Parameters
    ----------
    delta : ndarray of shape (..., h', w')
    x : ndarray of shape (..., h, w)
        The map that was pooled (unpadded; padded positions receive nothing).
    pooled : ndarray of shape (..., h', w')
        ``downsample(x, size, "max", edge, stride=stride, pad_value=pad_value)``.
    size, stride : int or (int, int)
    pad_value : float
        The padding ``downsample`` used: a padded position equal to the maximum wins it.

    Returns
    -------
    ndarray of shape (..., h, w), in the memory layout of ``x``

    Examples
    --------
    >>> x = np.array([[1., 3.], [3., 0.]])      # a tie: the first 3 in row-major order wins
    >>> max_route(np.array([[5.]]), x, downsample(x, 2, "max"))
    array([[0., 5.],
           [0., 0.]])
    """
    h, w = x.shape[-2:]
    oh, ow = pooled.shape[-2:]
    (ph, pw), (sh, sw) = _check_pool(size, "max", "pad", "max_route", stride)
    if (oh, ow) not in ((_pool_len(h, ph, sh, "pad"), _pool_len(w, pw, sw, "pad")),
                        (_pool_len(h, ph, sh, "ignore"), _pool_len(w, pw, sw, "ignore"))):
        raise InputError(f"max_route: a {oh}x{ow} pool does not come from a {h}x{w} map "
                         f"with size {size} and stride {stride}")
    if delta.shape != pooled.shape:
        raise InputError(f"max_route: delta shape {delta.shape} != pooled shape {pooled.shape}")
    overlap = sh < ph or sw < pw
    tiled = (sh, sw) == (ph, pw) and h == oh * ph and w == ow * pw
    # layout of x; every position is written below when the windows tile the map exactly
    dx = (np.empty_like if tiled else np.zeros_like)(x, dtype=np.result_type(delta, x))
    taken = None
    for u in range(ph):
        for v in range(pw):
            # windows of this offset inside the map; beyond them lies padding, which can
            # win the max (and so mask later ties) but gets no delta
            hu, wv = min(len(range(u, h, sh)), oh), min(len(range(v, w, sw)), ow)
            rows = slice(u, u + (hu - 1) * sh + 1, sh)
            cols = slice(v, v + (wv - 1) * sw + 1, sw)
            real = x[..., rows, cols] == pooled[..., :hu, :wv]
            if hu == oh and wv == ow:
                hit = real
            else:
                hit = pooled == pad_value
                hit[..., :hu, :wv] = real
            if taken is None:
                taken = hit.copy(order="K")  # keep the memory layout of x
            else:
                np.greater(hit, taken, out=hit)       # hit and not taken, in place
                taken |= hit
            if hu and wv:
                if overlap:
                    dx[..., rows, cols] += delta[..., :hu, :wv] * hit[..., :hu, :wv]
                else:
                    np.multiply(delta[..., :hu, :wv], hit[..., :hu, :wv].astype(dx.dtype),
                                out=dx[..., rows, cols])
    return dx


def upsample(delta: np.ndarray, shape: tuple[int, int], size=2, method: str = "max",
             *, stride=None, indices: np.ndarray | None = None) -> np.ndarray:
    """Route a pooled delta back to the map it was pooled from (the adjoint of :func:`downsample`).

    ``max`` sends each delta to the one position of its window's maximum (``indices`` from
    ``downsample(..., return_indices=True)``); ``mean`` spreads it evenly, ``delta / (ph*pw)``
    to each of the window's points. Overlapping windows add; deltas landing on padded
    positions are dropped, so the result has the unpadded ``shape``.

    Parameters
    ----------
    delta : ndarray of shape (..., h', w')
    shape : tuple (h, w)
        Height and width of the map before pooling.
    size : int or (int, int)
    method : {"max", "mean"}
    stride : int or (int, int), optional
    indices : ndarray of shape (..., h', w'), optional
        Required for ``max``.

    Returns
    -------
    ndarray of shape (..., h, w)

    Examples
    --------
    >>> x = np.array([[1., 2.], [3., 4.]])
    >>> y, idx = downsample(x, 2, "max", return_indices=True)
    >>> upsample(np.array([[10.]]), (2, 2), 2, "max", indices=idx)
    array([[ 0.,  0.],
           [ 0., 10.]])
    >>> upsample(np.array([[10.]]), (3, 3), 2, "mean")   # padded map: the edge gets its share
    array([[2.5, 2.5, 0. ],
           [2.5, 2.5, 0. ],
           [0. , 0. , 0. ]])
    """
    (ph, pw), (sh, sw) = _check_pool(size, method, "pad", "upsample", stride)
    delta = _as_float_array(delta, "upsample: delta")
    if delta.ndim < 2:
        raise InputError(f"upsample: expected a delta with at least 2 dims (..., h', w'), "
                         f"got shape {delta.shape}")
    if np.shape(shape) != (2,):
        raise InputError(f"upsample: shape must be a pair (h, w), got {shape!r}")
    h, w = shape
    oh, ow = delta.shape[-2:]
    if (oh, ow) not in (pool_output_shape(h, w, size, "pad", stride),
                        pool_output_shape(h, w, size, "ignore", stride)):
        raise InputError(f"upsample: a {oh}x{ow} delta does not come from pooling a {h}x{w} "
                         f"map with size {size}")
    H, W = (oh - 1) * sh + ph, (ow - 1) * sw + pw
    big = np.zeros(delta.shape[:-2] + (max(H, h), max(W, w)), dtype=delta.dtype)
    views = _pool_windows(big, oh, ow, ph, pw, sh, sw)
    if method == "mean":
        share = delta * (1.0 / (ph * pw))
        for view in views:
            view += share
    else:
        if indices is None:
            raise InputError("upsample: method 'max' needs the indices from "
                             "downsample(..., return_indices=True)")
        if indices.shape != delta.shape:
            raise InputError(f"upsample: indices shape {indices.shape} != delta shape {delta.shape}")
        for k, view in enumerate(views):
            view += np.where(indices == k, delta, 0.0)
    if big.shape[-2:] == (h, w):
        return big
    return np.ascontiguousarray(big[..., :h, :w])
