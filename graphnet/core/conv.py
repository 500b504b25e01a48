"""Stride, per-axis padding and 1-D for the seed's true convolution, in plain form.

:mod:`graphnet.core.functional` keeps the seed's own operations (valid and full); this
module generalises them the way the layers need: :func:`conv_padding` resolves a padding
argument, :func:`dilate` spreads a strided delta back onto the stride-1 grid (so the seed's
gradient formulas hold unchanged), :func:`conv2d_strided` and :func:`conv1d` are the plain
references the fast layers are tested against.
"""

from __future__ import annotations

import numpy as np

from graphnet.core import functional as F
from graphnet.errors import InputError

__all__ = ["conv_padding", "dilate", "conv2d_strided", "conv1d"]


def conv_padding(padding, kernel_size, stride=1, where: str = "conv_padding"):
    """Zeros to add above, below, left and right of a map before a strided valid convolution.

    Parameters
    ----------
    padding : int, (int, int), "valid" or "same"
        An int pads every side alike; ``(ph, pw)`` pads ph rows above and below and pw
        columns left and right; ``"valid"`` is 0; ``"same"`` (stride 1 only) keeps the map's
        size, with the odd zero of an even kernel below / right (as PyTorch).
    kernel_size : (int, int)
    stride : int or (int, int)

    Returns
    -------
    tuple (top, bottom, left, right)

    Raises
    ------
    InputError
        A negative or malformed padding, or ``"same"`` with a stride above 1.

    Examples
    --------
    >>> conv_padding((1, 2), (3, 3)), conv_padding("same", (4, 3))
    ((1, 1, 2, 2), (1, 2, 1, 1))
    """
    p, q = kernel_size
    if isinstance(padding, str):
        if padding == "valid":
            return 0, 0, 0, 0
        if padding != "same":
            raise InputError(f"{where}: padding must be an int, a pair, 'valid' or 'same', "
                             f"got {padding!r}")
        if F._pair(stride, "stride", where) != (1, 1):
            raise InputError(f"{where}: padding='same' needs stride 1, got stride {stride!r}")
        return (p - 1) // 2, p - 1 - (p - 1) // 2, (q - 1) // 2, q - 1 - (q - 1) // 2
    try:
        ph, pw = F._pair(padding, "padding", where, minimum=0)
    except InputError:
        raise InputError(f"{where}: padding must be a non-negative int, got {padding!r} "
                         "(or a pair of them, 'valid' or 'same')") from None
    return ph, ph, pw, pw


def dilate(delta: np.ndarray, stride) -> np.ndarray:
    """Put ``stride - 1`` zeros between neighbouring entries of the last two axes.

    A strided convolution's delta, dilated, is the delta of the stride-1 convolution it
    subsamples, so the seed's gradient formulas apply to it unchanged.

    Parameters
    ----------
    delta : ndarray of shape (..., h, w)
    stride : int or (int, int)

    Returns
    -------
    ndarray of shape (..., (h - 1) * sh + 1, (w - 1) * sw + 1)

    Examples
    --------
    >>> dilate(np.array([[1., 2.], [3., 4.]]), (1, 2))
    array([[1., 0., 2.],
           [3., 0., 4.]])
    """
    sh, sw = F._pair(stride, "stride", "dilate")
    delta = F._as_float_array(delta, "dilate: delta")
    if delta.ndim < 2:
        raise InputError(f"dilate: expected at least 2 dims (..., h, w), got shape {delta.shape}")
    h, w = delta.shape[-2:]
    out = np.zeros(delta.shape[:-2] + ((h - 1) * sh + 1, (w - 1) * sw + 1), dtype=delta.dtype)
    out[..., ::sh, ::sw] = delta
    return out


def conv2d_strided(x: np.ndarray, k: np.ndarray, mode: str = "valid", *, stride=1,
                   padding=0) -> np.ndarray:
    """Batched true convolution with stride and padding, in its plain form.

    Pad ``x`` with zeros, convolve at stride 1 (:func:`graphnet.core.functional.conv2d_batch`),
    keep every ``stride``-th position. :class:`graphnet.core.layers.Conv2D` computes the same
    in one product; this is the reference it is tested against.

    Parameters
    ----------
    x : ndarray of shape (n, c_in, h, w)
    k : ndarray of shape (c_out, c_in, p, q)
    mode : {"valid", "full"}
    stride : int or (int, int)
    padding : int, (int, int), "valid" or "same"
        Zeros added around ``x`` first (see :func:`conv_padding`).

    Returns
    -------
    ndarray of shape (n, c_out, h', w')
        h' = (h + 2 ph - p) // sh + 1 in valid mode, (h + 2 ph + p - 2) // sh + 1 in full
        mode; likewise w'.

    Raises
    ------
    InputError
        As :func:`~graphnet.core.functional.conv2d_batch`, and for a bad stride or padding.

    Examples
    --------
    >>> x = np.ones((2, 3, 5, 5)); k = np.ones((4, 3, 3, 3))
    >>> conv2d_strided(x, k, stride=2, padding=(1, 0)).shape
    (2, 4, 3, 2)
    """
    sh, sw = F._pair(stride, "stride", "conv2d_strided")
    x = F._as_float_array(x, "conv2d_strided: x", 4)
    kshape = np.shape(k)
    t, b, l, r = conv_padding(padding, kshape[2:] if len(kshape) == 4 else (1, 1), (sh, sw),
                              "conv2d_strided")
    if t or b or l or r:
        x = np.pad(x, ((0, 0), (0, 0), (t, b), (l, r)))
    out = F.conv2d_batch(x, k, mode)                         # (n, c_out, h'', w'') at stride 1
    if (sh, sw) != (1, 1):
        out = np.ascontiguousarray(out[:, :, ::sh, ::sw])
    return out


def conv1d(x: np.ndarray, k: np.ndarray, mode: str = "valid", *, stride: int = 1,
           padding=0) -> np.ndarray:
    """Batched 1-D true convolution (kernel flipped) of sequences ``(n, c_in, L)``.

    `conv2d_strided` on maps of height 1 with ``(1, q)`` kernels.

    Parameters
    ----------
    x : ndarray of shape (n, c_in, L)
    k : ndarray of shape (c_out, c_in, q)
    mode : {"valid", "full"}
    stride : int
    padding : int, "valid" or "same"
        Zeros added at both ends.

    Returns
    -------
    ndarray of shape (n, c_out, L')
        L' = (L + 2 padding - q) // stride + 1 in valid mode.

    Examples
    --------
    >>> conv1d(np.array([[[1., 2., 3.]]]), np.array([[[1., 0.]]]))   # flipped: picks x[1:]
    array([[[2., 3.]]])
    >>> conv1d(np.ones((2, 1, 40)), np.ones((25, 1, 5)), stride=2, padding=1).shape
    (2, 25, 19)
    """
    x = F._as_float_array(x, "conv1d: x", 3)
    k = F._as_float_array(k, "conv1d: k", 3)
    if isinstance(stride, bool) or not isinstance(stride, (int, np.integer)) or stride < 1:
        raise InputError(f"conv1d: stride must be a positive int, got {stride!r}")
    if isinstance(padding, str):
        pads = conv_padding(padding, (1, k.shape[2]), (1, stride), "conv1d")
        padding = (0, pads[2]) if pads[2] == pads[3] else None
        if padding is None:   # 'same' with an even kernel: pad unevenly, then valid
            x = np.pad(x, ((0, 0), (0, 0), (pads[2], pads[3])))
            padding = 0
    elif isinstance(padding, bool) or not isinstance(padding, (int, np.integer)) or padding < 0:
        raise InputError(f"conv1d: padding must be a non-negative int, 'valid' or 'same', "
                         f"got {padding!r}")
    else:
        padding = (0, int(padding))
    out = conv2d_strided(x[:, :, None, :], k[:, :, None, :], mode, stride=(1, stride),
                         padding=padding)
    return out[:, :, 0, :]
