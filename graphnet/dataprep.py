"""Preparing ``(X, y)`` arrays: check a dataset, split it into train and test, one-hot labels.

These take arrays from any loader (:mod:`graphnet.data`, :mod:`graphnet.datafiles`,
:mod:`graphnet.idxfiles`, or the user's own) and are what the lab, ``graphnet train`` and
the baselines use. The split's shuffles come only from :func:`graphnet.rng.make_rng`: the
same seed gives the same split, bit for bit.
"""

from __future__ import annotations

import math

import numpy as np

from graphnet._checks import is_int, is_real
from graphnet.errors import DataError, InputError, InputTypeError
from graphnet.rng import make_rng

__all__ = ["train_test_split", "one_hot", "check_dataset"]


def _round_half_up(x: float) -> int:
    """Round to the nearest integer, halves up (not Python's round-half-to-even)."""
    return int(math.floor(x + 0.5))


def train_test_split(X, y, *, test_size: float = 0.2, seed, stratify: bool = True):
    """Split samples into a shuffled train and test part, per class in proportion.

    Stratified (the default): a class with ``m >= 2`` samples puts
    ``round(test_size * m)`` of them (rounded half up) in the test part, but at least 1
    and at most ``m - 1``; a class with a single sample goes to the train part. Without
    stratification, ``round(test_size * n)`` samples (at least 1, at most ``n - 1``) go
    to the test part. Within each part the order is shuffled. Every sample lands in
    exactly one part.

    Parameters
    ----------
    X : array_like of shape (n, ...)
        Samples, batch first.
    y : array_like of shape (n,)
        Labels (any sortable values; stratification groups equal ones).
    test_size : float
        Fraction of samples for the test part, ``0 < test_size < 1``.
    seed : int or numpy.random.Generator
        Source of the shuffles (see :func:`graphnet.rng.make_rng`); the same seed gives
        the same split.
    stratify : bool
        Split each class separately (``True``) or all samples together.

    Returns
    -------
    X_train, X_test : ndarray of shape (n_train, ...) and (n_test, ...)
    y_train, y_test : ndarray of shape (n_train,) and (n_test,)

    Raises
    ------
    InputError
        If ``test_size`` is not in (0, 1), ``y`` is not 1-D, ``X`` is 0-D, or
        ``len(X) != len(y)``.
    DataError
        If there are no samples, or too few for a non-empty train and test part.

    Examples
    --------
    >>> X = np.arange(10).reshape(10, 1)
    >>> y = np.array([0] * 5 + [1] * 5)
    >>> X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, seed=0)
    >>> X_tr.shape, X_te.shape
    ((8, 1), (2, 1))
    >>> np.bincount(y_te).tolist()
    [1, 1]
    >>> sorted(X_tr[:, 0].tolist() + X_te[:, 0].tolist()) == list(range(10))
    True
    """
    where = "train_test_split"
    if not is_real(test_size) or not 0 < test_size < 1:
        raise InputError(f"{where}: test_size must be a number with 0 < test_size < 1, got {test_size!r}")
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim == 0:
        raise InputError(f"{where}: X must have a sample axis, got a 0-D array")
    if y.ndim != 1:
        raise InputError(f"{where}: y must be 1-D of shape (n,), got shape {y.shape}")
    n = X.shape[0]
    if n != y.shape[0]:
        raise InputError(f"{where}: X and y must have the same length, got {n} and {y.shape[0]}")
    if n == 0:
        raise DataError(f"{where}: no samples to split")
    rng = make_rng(seed)

    if stratify:
        classes, inverse = np.unique(y, return_inverse=True)
        test_parts, train_parts = [], []
        for k in range(classes.size):
            idx = rng.permutation(np.flatnonzero(inverse == k))
            m = idx.size
            n_test = 0 if m == 1 else min(max(_round_half_up(test_size * m), 1), m - 1)
            test_parts.append(idx[:n_test])
            train_parts.append(idx[n_test:])
        test_idx = np.concatenate(test_parts)
        train_idx = np.concatenate(train_parts)
        if test_idx.size == 0:
            raise DataError(
                f"{where}: not enough samples for a stratified split: every one of the "
                f"{classes.size} classes has a single sample, so the test part would be empty"
            )
    else:
        if n < 2:
            raise DataError(f"{where}: need at least 2 samples to split, got {n}")
        n_test = min(max(_round_half_up(test_size * n), 1), n - 1)
        idx = rng.permutation(n)
        test_idx, train_idx = idx[:n_test], idx[n_test:]
    train_idx = rng.permutation(train_idx)
    test_idx = rng.permutation(test_idx)
    return X[train_idx], X[test_idx], y[train_idx], y[test_idx]


def one_hot(y, n_classes: int | None = None, dtype=np.float64) -> np.ndarray:
    """Encode integer labels as one-hot rows.

    Parameters
    ----------
    y : array_like of shape (n,), integer dtype
        Labels in ``[0, n_classes)``.
    n_classes : int, optional
        Number of classes ``k``; by default ``max(y) + 1``.
    dtype : numeric numpy dtype
        The dtype of the result.

    Returns
    -------
    ndarray of shape (n, k)
        Row ``i`` is 1 in column ``y[i]`` and 0 elsewhere.

    Raises
    ------
    InputTypeError
        If ``y`` does not have an integer dtype (floats and bools are refused), or
        ``n_classes`` is not an int, or ``dtype`` is not numeric.
    InputError
        If ``y`` is not 1-D, a label is negative or ``>= n_classes`` (the message names
        the value and its index), ``n_classes < 1``, or ``y`` is empty and
        ``n_classes`` is not given.

    Examples
    --------
    >>> one_hot([2, 0, 1])
    array([[0., 0., 1.],
           [1., 0., 0.],
           [0., 1., 0.]])
    >>> one_hot(np.array([1]), n_classes=4, dtype=np.int64)
    array([[0, 1, 0, 0]])
    >>> one_hot([0, 3], n_classes=3)
    Traceback (most recent call last):
    ...
    graphnet.errors.InputError: one_hot: label 3 at index 1 is out of range [0, 3)
    """
    where = "one_hot"
    y = np.asarray(y)
    if not np.issubdtype(y.dtype, np.integer):
        raise InputTypeError(f"{where}: y must have an integer dtype, got {y.dtype}")
    if y.ndim != 1:
        raise InputError(f"{where}: y must be 1-D of shape (n,), got shape {y.shape}")
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise InputTypeError(f"{where}: dtype must be a numeric numpy dtype, got {dtype!r}") from exc
    if not (np.issubdtype(dt, np.floating) or np.issubdtype(dt, np.integer)):
        raise InputTypeError(f"{where}: dtype must be a numeric numpy dtype, got {dt}")
    if n_classes is None:
        if y.size == 0:
            raise InputError(f"{where}: cannot infer n_classes from an empty y; pass n_classes")
        n_classes = int(y.max()) + 1
    elif not is_int(n_classes):
        raise InputTypeError(f"{where}: n_classes must be an int, got {type(n_classes).__name__} {n_classes!r}")
    if n_classes < 1:
        raise InputError(f"{where}: n_classes must be >= 1, got {n_classes}")
    bad = np.flatnonzero((y < 0) | (y >= n_classes))
    if bad.size:
        i = int(bad[0])
        raise InputError(f"{where}: label {int(y[i])} at index {i} is out of range [0, {n_classes})")
    out = np.zeros((y.size, int(n_classes)), dtype=dt)  # (n, k)
    out[np.arange(y.size), y] = 1
    return out


def check_dataset(X, y, *, name: str = "X") -> None:
    """Check that ``(X, y)`` is a usable training set; raise a clear error if not.

    The fit loop calls this before training. ``X`` must be a float array, batch first,
    with at least one sample and two axes (``(n, features)`` or ``(n, c, h, w)``), and
    every value finite. ``y`` must have the same number of rows, and if it is a float
    array (regression or one-hot targets) it must be finite too.

    Parameters
    ----------
    X : ndarray of shape (n, ...)
        Samples.
    y : ndarray of shape (n,) or (n, k)
        Labels or targets.
    name : str
        What ``X`` is called in messages (``"X_train"``, ``"X_test"``); ``y`` is called
        by the matching name (``"y_train"``).

    Returns
    -------
    None

    Raises
    ------
    InputTypeError
        If ``X`` is not a floating array, or ``y`` is not numeric.
    InputError
        If ``X`` has fewer than 2 axes, ``y`` is 0-D, or their lengths differ.
    DataError
        If there are no samples, or ``X`` or a float ``y`` holds NaN or infinity (the
        message gives the count and the first sample affected).

    Examples
    --------
    >>> from graphnet.data import xor
    >>> X, y = xor()
    >>> check_dataset(X, y)
    >>> X[2, 1] = np.nan
    >>> check_dataset(X, y, name="X_train")
    Traceback (most recent call last):
    ...
    graphnet.errors.DataError: X_train: 1 non-finite value (NaN or inf), first in sample 2
    """
    y_name = "y" + name[1:] if name.startswith("X") else f"labels of {name}"
    X = np.asarray(X)
    y = np.asarray(y)
    if not np.issubdtype(X.dtype, np.floating):
        raise InputTypeError(f"{name}: expected a floating array, got dtype {X.dtype}")
    if X.ndim < 2:
        raise InputError(
            f"{name}: expected a batch-first array of shape (n, features) or (n, c, h, w), got shape {X.shape}"
        )
    if X.shape[0] == 0:
        raise DataError(f"{name}: empty dataset: expected at least 1 sample, got shape {X.shape}")
    if not (np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.floating)):
        raise InputTypeError(f"{y_name}: expected integer labels or float targets, got dtype {y.dtype}")
    if y.ndim == 0:
        raise InputError(f"{y_name}: expected shape ({X.shape[0]},) or ({X.shape[0]}, k), got a 0-D array")
    if y.shape[0] != X.shape[0]:
        raise InputError(f"{y_name}: expected {X.shape[0]} rows to match {name}, got {y.shape[0]} (shape {y.shape})")
    for label, arr in ((name, X), (y_name, y)):
        if np.issubdtype(arr.dtype, np.floating):
            finite = np.isfinite(arr.reshape(arr.shape[0], -1))
            if not finite.all():
                count = int(finite.size - np.count_nonzero(finite))
                first = int(np.flatnonzero(~finite.all(axis=1))[0])
                plural = "" if count == 1 else "s"
                raise DataError(f"{label}: {count} non-finite value{plural} (NaN or inf), first in sample {first}")
