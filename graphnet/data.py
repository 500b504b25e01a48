"""Datasets for the lab: xor, spirals, scikit-learn's digits, MNIST-1D, MNIST IDX files, csv / npz.

Every loader returns ``(X, y)`` batch-first: ``X`` is a float array of shape
``(n, features)`` or, for images, ``(n, channels, height, width)``; ``y`` holds int64
class labels of shape ``(n,)``. Pixel data is normalised as the seed advises: to
``[0, 1]`` for sigmoid or relu networks (``scale="unit"``) and to ``[-1, 1]`` for tanh
networks (``scale="symmetric"``).

Randomness (spiral noise, shuffling, splits) comes only from
:func:`graphnet.rng.make_rng`: the same seed gives the same arrays, bit for bit (MNIST-1D
has its own generator seed, :mod:`graphnet.mnist1d`).
:func:`load_dataset` turns a short spec string (``"digits"``, ``"mnist:PATH"``, ...) into a
:class:`Dataset` with a train and a test part; the CLI and the lab use it. The file readers
live in :mod:`graphnet.idxfiles` (MNIST IDX) and :mod:`graphnet.datafiles` (csv, npz, and the
label rule), MNIST-1D's generator and its disk cache in :mod:`graphnet.mnist1d`; checking,
splitting and one-hot encoding arrays in :mod:`graphnet.dataprep`.
"""

from __future__ import annotations

import functools
import math
import numbers
from dataclasses import dataclass

import numpy as np

from graphnet._checks import check_choice, float_dtype, is_int
from graphnet.datafiles import check_labels, load_csv, load_npz
from graphnet.dataprep import train_test_split
from graphnet.errors import DataError, InputError, InputTypeError
from graphnet.idxfiles import SCALES, _idx_pair_raw, _mnist_files, _scale_pixels, load_mnist
from graphnet.mnist1d import N_CLASSES as _MNIST1D_CLASSES, check_mnist1d_args, load_mnist1d
from graphnet.rng import make_rng

__all__ = [
    "xor",
    "spirals",
    "digits",
    "Dataset",
    "load_dataset",
    "dataset_info",
    "DATASET_SPECS",
]

#: The spec strings :func:`load_dataset` accepts (``mnist:PATH``: a directory of IDX files;
#: ``csv:PATH``, ``npz:PATH``: the user's own file, see :mod:`graphnet.datafiles`;
#: ``mnist1d``: generated, see :mod:`graphnet.mnist1d`).
DATASET_SPECS = ("digits", "digits-image", "xor", "spirals", "mnist:PATH", "csv:PATH", "npz:PATH", "mnist1d")


# ----------------------------------------------------------------------------- toy sets


def xor(dtype=np.float64) -> tuple[np.ndarray, np.ndarray]:
    """The four points of the XOR problem.

    Parameters
    ----------
    dtype : floating numpy dtype
        The dtype of ``X``.

    Returns
    -------
    X : ndarray of shape (4, 2)
        The points ``(0, 0), (0, 1), (1, 0), (1, 1)`` in that order.
    y : ndarray of shape (4,), int64
        ``x0 xor x1``: ``[0, 1, 1, 0]``.

    Raises
    ------
    InputTypeError
        If ``dtype`` is not a floating dtype.

    Examples
    --------
    >>> X, y = xor()
    >>> X
    array([[0., 0.],
           [0., 1.],
           [1., 0.],
           [1., 1.]])
    >>> y
    array([0, 1, 1, 0])
    """
    dt = float_dtype(dtype, "xor")
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=dt)
    y = np.array([0, 1, 1, 0], dtype=np.int64)
    return X, y


def spirals(
    n: int,
    seed,
    *,
    n_classes: int = 2,
    noise: float = 0.1,
    turns: float = 1.0,
    dtype=np.float64,
) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved spirals in the plane, one arm per class.

    Class ``k`` has points at radius ``r`` in (0, 1] and angle
    ``2 pi turns r + 2 pi k / n_classes``, plus Gaussian noise of standard deviation
    ``noise`` on each coordinate. The radii of a class are evenly spaced,
    ``r = (i + 1) / n_k`` for ``i = 0 .. n_k - 1``, so no two arms share the origin.
    The classes are balanced (``n`` split as evenly as possible, the first classes taking
    the remainder) and the points are shuffled.

    Parameters
    ----------
    n : int
        Number of points, at least ``n_classes``.
    seed : int or numpy.random.Generator
        Source of the noise and of the shuffle (see :func:`graphnet.rng.make_rng`).
    n_classes : int
        Number of arms, at least 2.
    noise : float
        Standard deviation of the noise, ``>= 0``; 0 puts every point on its arm.
    turns : float
        How many full turns each arm makes, ``> 0``.
    dtype : floating numpy dtype
        The dtype of ``X``.

    Returns
    -------
    X : ndarray of shape (n, 2)
    y : ndarray of shape (n,), int64
        Labels in ``0 .. n_classes - 1``.

    Raises
    ------
    InputError
        If ``n < n_classes``, ``n_classes < 2``, ``noise < 0`` or ``turns <= 0``.
    InputTypeError
        If ``n`` or ``n_classes`` is not an integer, or ``dtype`` is not floating.

    Examples
    --------
    >>> X, y = spirals(7, seed=0, n_classes=3)
    >>> X.shape, y.shape
    ((7, 2), (7,))
    >>> np.bincount(y).tolist()
    [3, 2, 2]
    >>> bool((spirals(7, seed=0, n_classes=3)[0] == X).all())
    True
    """
    for name, value in (("n", n), ("n_classes", n_classes)):
        if not is_int(value):
            raise InputTypeError(f"spirals: {name} must be an int, got {type(value).__name__} {value!r}")
    if n_classes < 2:
        raise InputError(f"spirals: n_classes must be >= 2, got {n_classes}")
    if n < n_classes:
        raise InputError(f"spirals: n must be >= n_classes ({n_classes}), got {n}")
    if not (isinstance(noise, numbers.Real) and math.isfinite(noise) and noise >= 0):
        raise InputError(f"spirals: noise must be a finite number >= 0, got {noise!r}")
    if not (isinstance(turns, numbers.Real) and math.isfinite(turns) and turns > 0):
        raise InputError(f"spirals: turns must be a finite number > 0, got {turns!r}")
    dt = float_dtype(dtype, "spirals")
    rng = make_rng(seed)

    counts = [n // n_classes + (1 if k < n % n_classes else 0) for k in range(n_classes)]
    r = np.concatenate([(np.arange(c) + 1.0) / c for c in counts])  # (n,)
    y = np.repeat(np.arange(n_classes, dtype=np.int64), counts)  # (n,)
    angle = 2 * np.pi * turns * r + 2 * np.pi * y / n_classes
    X = np.stack([r * np.cos(angle), r * np.sin(angle)], axis=1)  # (n, 2)
    X = X + noise * rng.standard_normal(X.shape)
    order = rng.permutation(n)
    return X[order].astype(dt), y[order]


# ----------------------------------------------------------------------------- digits


@functools.lru_cache(maxsize=1)
def _digits_raw() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's digits as (pixels 0..16 of shape (1797, 64), labels); read once."""
    from sklearn.datasets import load_digits  # imported lazily: sklearn is slow to import

    bunch = load_digits()
    data = np.asarray(bunch.data)
    target = np.asarray(bunch.target, dtype=np.int64)
    data.setflags(write=False)
    target.setflags(write=False)
    return data, target


def digits(*, scale: str = "unit", shape: str = "flat", dtype=np.float64) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 handwritten digits (bundled with scikit-learn, no download).

    Parameters
    ----------
    scale : {"unit", "symmetric"}
        Pixel values 0..16 are mapped to ``[0, 1]`` (``"unit"``, for sigmoid or relu) or to
        ``[-1, 1]`` (``"symmetric"``, for tanh), as the seed advises.
    shape : {"flat", "image"}
        ``"flat"`` gives ``X`` of shape (1797, 64); ``"image"`` gives (1797, 1, 8, 8),
        batch and channel first.
    dtype : floating numpy dtype
        The dtype of ``X``.

    Returns
    -------
    X : ndarray of shape (1797, 64) or (1797, 1, 8, 8)
    y : ndarray of shape (1797,), int64
        Digit labels 0..9.

    Raises
    ------
    InputError
        If ``scale`` or ``shape`` is not one of the choices above.
    InputTypeError
        If ``dtype`` is not floating.

    Examples
    --------
    >>> X, y = digits()
    >>> X.shape, y.shape, y.dtype
    ((1797, 64), (1797,), dtype('int64'))
    >>> float(X.min()), float(X.max())
    (0.0, 1.0)
    >>> Xi, _ = digits(scale="symmetric", shape="image", dtype=np.float32)
    >>> Xi.shape, Xi.dtype, float(Xi.min())
    ((1797, 1, 8, 8), dtype('float32'), -1.0)
    """
    check_choice(scale, SCALES, "scale", "digits")
    check_choice(shape, ("flat", "image"), "shape", "digits")
    dt = float_dtype(dtype, "digits")
    data, target = _digits_raw()
    X = _scale_pixels(data, 16.0, scale, dt)  # (1797, 64)
    if shape == "image":
        X = X.reshape(-1, 1, 8, 8)  # (1797, 1, 8, 8)
    return X, target.copy()

# ----------------------------------------------------------------------------- utilities


# ----------------------------------------------------------------------------- registry


@dataclass(frozen=True, eq=False)
class Dataset:
    """A dataset split into a train and a test part, as :func:`load_dataset` returns it.

    Examples
    --------
    >>> ds = load_dataset("xor")
    >>> ds.name, ds.n_classes, ds.input_shape, ds.X_train.shape
    ('xor', 2, (2,), (4, 2))
    """

    X_train: np.ndarray
    """Training samples, batch first: (n_train, *input_shape)."""
    y_train: np.ndarray
    """Training labels, int64 of shape (n_train,)."""
    X_test: np.ndarray
    """Test samples, batch first: (n_test, *input_shape)."""
    y_test: np.ndarray
    """Test labels, int64 of shape (n_test,)."""
    n_classes: int
    """Number of classes; labels lie in 0 .. n_classes - 1."""
    name: str
    """The spec the dataset was loaded from, e.g. ``"digits"`` or ``"mnist:/data/mnist"``."""
    input_shape: tuple
    """Shape of one sample: (features,) or (channels, height, width)."""


def dataset_info(spec: str, *, n_classes: int | None = None, label: str | None = None,
                 test_size: float = 0.2, mnist1d_args: dict | None = None) -> dict:
    """Check a dataset whole and say what it holds, without converting or splitting it.

    This is what :func:`load_dataset` would find wrong, found cheaply: both MNIST splits are
    read (and cached, so the later load reads nothing again) with their counts, shapes and
    labels checked, a csv or npz file is read and checked; pixels are not converted. MNIST-1D
    is generated (or read from its disk cache, :mod:`graphnet.mnist1d`) and checked.

    Parameters
    ----------
    spec : str
        One of :data:`DATASET_SPECS`.
    n_classes, label, test_size, mnist1d_args
        As for :func:`load_dataset` (a csv or npz file must have enough samples to split).

    Returns
    -------
    dict
        ``{"input_shape": tuple, "n_classes": int}`` (digits: the image shape (1, 8, 8);
        mnist1d: ``(final_seq_length,)``, 40 by default).

    Raises
    ------
    InputError, DataError, FileNotFoundError
        As :func:`load_dataset`.

    Examples
    --------
    >>> dataset_info("xor")
    {'input_shape': (2,), 'n_classes': 2}
    """
    base, _, path = spec.partition(":") if isinstance(spec, str) else ("", "", "")
    if spec == "mnist1d" and n_classes is None and label is None:
        ds = load_dataset(spec, mnist1d_args=mnist1d_args)  # generated or cached, labels checked
        return {"input_shape": ds.input_shape, "n_classes": ds.n_classes}
    if mnist1d_args is not None:
        load_dataset(spec, mnist1d_args=mnist1d_args)  # raises the usual InputError
    if base in ("digits", "digits-image", "xor", "spirals") and not path:
        if n_classes is not None or label is not None:
            load_dataset(spec, n_classes=n_classes, label=label)  # raises the usual InputError
        shape = (1, 8, 8) if base.startswith("digits") else (2,)
        return {"input_shape": shape, "n_classes": 10 if base.startswith("digits") else 2}
    if base not in ("mnist", "csv", "npz") or not path or (label is not None and base != "csv"):
        load_dataset(spec, n_classes=n_classes, label=label)  # raises the usual InputError
    if base == "mnist":
        pairs = {split: _mnist_files(path, split) for split in ("train", "test")}
        raw = {split: _idx_pair_raw(f["images"], f["labels"]) for split, f in pairs.items()}
        if raw["train"][0].shape[1:] != raw["test"][0].shape[1:]:
            raise DataError(f"load_dataset: {path}: train images have shape {(1, *raw['train'][0].shape[1:])} "
                            f"but test images {(1, *raw['test'][0].shape[1:])}; expected the same")
        k = check_labels({pairs[s]["labels"]: raw[s][1] for s in pairs}, n_classes=n_classes)
        return {"input_shape": (1, *raw["train"][0].shape[1:]), "n_classes": k}
    X, y = load_csv(path, label=label) if base == "csv" else load_npz(path)
    k = check_labels({path: y}, n_classes=n_classes)
    _split_file(path, np.arange(len(y))[:, None], y, test_size, 0)
    return {"input_shape": tuple(X.shape[1:]), "n_classes": k}


def _split_file(path: str, X, y, test_size, seed):
    """:func:`train_test_split` of a user's file, its errors naming the file."""
    try:
        return train_test_split(X, y, test_size=test_size, seed=seed)
    except DataError as exc:
        raise DataError(f"{path}: {len(y)} samples are too few to split: {exc}") from None


def load_dataset(
    spec: str,
    *,
    seed=0,
    test_size: float = 0.2,
    scale: str = "unit",
    n_samples: int | None = None,
    n_classes: int | None = None,
    label: str | None = None,
    mnist1d_args: dict | None = None,
    dtype=np.float64,
) -> Dataset:
    """Load a dataset by its spec string, split into train and test.

    ====================  ===========================================================
    spec                  what it gives
    ====================  ===========================================================
    ``"digits"``          :func:`digits`, flat (64,), split stratified with ``seed``
    ``"digits-image"``    :func:`digits`, images (1, 8, 8), split the same way
    ``"xor"``             the four XOR points; train and test are the same four
    ``"spirals"``         :func:`spirals` (2 classes, ``n_samples`` points, default
                          400, drawn with ``seed``), split stratified with ``seed``
    ``"mnist:PATH"``      :func:`load_mnist` train and test files from directory PATH
    ``"csv:PATH"``        :func:`graphnet.datafiles.load_csv` (last column or ``label``
                          the label), split stratified with ``seed``
    ``"npz:PATH"``        :func:`graphnet.datafiles.load_npz` (arrays ``X``, ``y``),
                          split stratified with ``seed``
    ``"mnist1d"``         :func:`graphnet.mnist1d.load_mnist1d`: MNIST-1D, flat
                          (40,), generated with ``mnist1d_args`` and split by the
                          package itself (standard: 4000 train, 1000 test)
    ====================  ===========================================================

    Labels are checked whole (:func:`graphnet.datafiles.check_labels`): integers in
    ``0 .. K-1`` with ``K = n_classes`` if given, else ``max + 1`` over both splits with no
    empty class. Both MNIST splits are read and checked before anything is returned.

    Parameters
    ----------
    spec : str
        One of :data:`DATASET_SPECS`.
    seed : int or numpy.random.Generator
        Seed of the spirals and of the splits (see :func:`graphnet.rng.make_rng`).
    test_size : float
        Test fraction for the sets that are split (digits, spirals, csv, npz); MNIST-1D's
        split is its ``train_split`` argument.
    scale : {"unit", "symmetric"}
        Input scaling: pixel data (digits, mnist) to [0, 1] or [-1, 1]; xor's points
        to {0, 1} or {-1, 1}. Spirals are already centred on 0, MNIST-1D is standardised by
        its generator and the user's csv and npz files are taken as they are.
    n_samples : int, optional
        Number of spiral points (default 400); only ``"spirals"`` takes it.
    n_classes : int, optional
        The number of classes of a file dataset (mnist, csv, npz); default: inferred.
    label : str, optional
        ``"csv:PATH"`` only: the header name of the label column (default: the last column).
    mnist1d_args : dict, optional
        ``"mnist1d"`` only: generator arguments (:func:`graphnet.mnist1d.check_mnist1d_args`,
        e.g. ``{"num_samples": 2000, "shuffle_seq": True}``); default: the standard ones,
        which give the published data.
    dtype : floating numpy dtype
        The dtype of the samples.

    Returns
    -------
    Dataset

    Raises
    ------
    InputError
        If ``spec`` is unknown (the message lists the valid ones), a file spec has no
        path, ``n_samples``, ``n_classes``, ``label`` or ``mnist1d_args`` is given for a set
        that does not take it, or ``scale`` or a generator argument is invalid.
    DataError
        If the files are missing or malformed, or the labels are not 0..K-1 (the message
        names the file, the label and its index).

    Examples
    --------
    >>> ds = load_dataset("digits", seed=0)
    >>> ds.X_train.shape, ds.X_test.shape, ds.n_classes, ds.input_shape
    ((1438, 64), (359, 64), 10, (64,))
    >>> load_dataset("spirals", seed=1, n_samples=50).X_test.shape
    (10, 2)
    >>> load_dataset("iris")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    graphnet.errors.InputError: load_dataset: unknown dataset spec 'iris'; expected one of 'digits', ...
    """
    where = "load_dataset"
    check_choice(scale, SCALES, "scale", where)
    dt = float_dtype(dtype, where)
    if not isinstance(spec, str):
        raise InputTypeError(f"{where}: spec must be a str, got {type(spec).__name__} {spec!r}")
    files = ("mnist", "csv", "npz")
    base = spec.split(":", 1)[0] if spec.split(":", 1)[0] in files else spec
    valid = ", ".join(map(repr, DATASET_SPECS))
    if base not in ("digits", "digits-image", "xor", "spirals", "mnist1d", *files):
        raise InputError(f"{where}: unknown dataset spec {spec!r}; expected one of {valid}")
    if n_samples is not None and base != "spirals":
        raise InputError(f"{where}: n_samples applies only to 'spirals', got n_samples={n_samples!r} for {spec!r}")
    if n_classes is not None and base not in files:
        raise InputError(f"{where}: n_classes applies only to mnist, csv and npz files, got "
                         f"n_classes={n_classes!r} for {spec!r}")
    if label is not None and base != "csv":
        raise InputError(f"{where}: label applies only to 'csv:PATH', got label={label!r} for {spec!r}")
    if mnist1d_args is not None and base != "mnist1d":
        raise InputError(f"{where}: mnist1d_args applies only to 'mnist1d', got "
                         f"mnist1d_args={mnist1d_args!r} for {spec!r}")

    if base == "xor":
        X, y = xor(dtype=dt)
        if scale == "symmetric":
            X = X * dt.type(2) - dt.type(1)  # {0, 1} -> {-1, 1}
        return Dataset(X, y, X.copy(), y.copy(), 2, spec, (2,))
    if base == "mnist1d":  # the package's own split, already standardised
        args = check_mnist1d_args(mnist1d_args, where=f"{where}: mnist1d_args.")
        X_train, y_train, X_test, y_test = load_mnist1d(args, dtype=dt)
        k = check_labels({"mnist1d train": y_train, "mnist1d test": y_test}, n_classes=_MNIST1D_CLASSES)
        return Dataset(X_train, y_train, X_test, y_test, k, spec, tuple(X_train.shape[1:]))
    if base in files:
        path = spec[len(base) + 1:]
        kind = "a directory" if base == "mnist" else "a file"
        if not path:
            raise InputError(f"{where}: '{base}:PATH' needs {kind} after the colon, got {spec!r}")
    if base == "mnist":
        X_train, y_train = load_mnist(path, split="train", scale=scale, dtype=dt)
        X_test, y_test = load_mnist(path, split="test", scale=scale, dtype=dt)
        if X_train.shape[1:] != X_test.shape[1:]:
            raise DataError(
                f"{where}: {path}: train images have shape {X_train.shape[1:]} but test images "
                f"{X_test.shape[1:]}; expected the same"
            )
        names = {split: _mnist_files(path, split)["labels"] for split in ("train", "test")}
        k = check_labels({names["train"]: y_train, names["test"]: y_test}, n_classes=n_classes)
        return Dataset(X_train, y_train, X_test, y_test, k, spec, tuple(X_train.shape[1:]))

    rng = make_rng(seed)
    if base in ("csv", "npz"):
        X, y = load_csv(path, label=label, dtype=dt) if base == "csv" else load_npz(path, dtype=dt)
        k = check_labels({path: y}, n_classes=n_classes)
        X_train, X_test, y_train, y_test = _split_file(path, X, y, test_size, rng)
        return Dataset(X_train, y_train, X_test, y_test, k, spec, tuple(X.shape[1:]))
    if base == "spirals":
        X, y = spirals(400 if n_samples is None else n_samples, rng, dtype=dt)
        n_classes = 2
    else:
        X, y = digits(scale=scale, shape="image" if base == "digits-image" else "flat", dtype=dt)
        n_classes = 10
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=test_size, seed=rng)
    return Dataset(X_train, y_train, X_test, y_test, n_classes, spec, tuple(X.shape[1:]))
