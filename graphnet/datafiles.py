"""The user's data files: CSV and NumPy ``.npz``, and the one label rule.

:func:`load_csv` and :func:`load_npz` read a whole file into ``(X, y)`` and refuse anything
that would train badly or fail later: ragged rows, text in a number column, NaN or infinity,
labels that are not integers, fewer than two classes. :func:`check_labels` is the one rule
for labels, used by these loaders and by the MNIST IDX splits (:mod:`graphnet.idxfiles`)
alike: labels are integers in ``0 .. K-1``, with ``K`` stated by the caller or inferred as
``max + 1`` over every split, and when inferred no class in ``0 .. K-1`` may be empty. Every
message names the file, the row (line) or array and the value.

Files are read once per process: a second load of the same path with the same size and
modification time returns the cached arrays (copies).
"""

from __future__ import annotations

import csv
import io
import os

import numpy as np

from graphnet.errors import DataError, InputError

__all__ = ["check_labels", "load_csv", "load_npz", "FILE_FORMATS"]


# ----------------------------------------------------------------------------- helpers


#: The spec prefixes of user data files: ``"csv:PATH"`` and ``"npz:PATH"``.
FILE_FORMATS = ("csv", "npz")

_CACHE: dict = {}
_CACHE_SIZE = 4


def _cached(path: str, extra, load):
    """``load()`` once per (path, size, mtime, inode, extra); returns fresh copies."""
    if not os.path.isfile(path):
        what = "is a directory, not a file" if os.path.isdir(path) else "no such file"
        raise FileNotFoundError(f"{path}: {what}")
    st = os.stat(path)
    key = (os.path.abspath(path), st.st_size, st.st_mtime_ns, st.st_ino, extra)
    if key not in _CACHE:
        value = load()
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = value
    return tuple(a.copy() for a in _CACHE[key])


def _ranges(missing) -> str:
    """``[3, 4, 5, 9]`` -> ``"3..5, 9"``."""
    parts, start = [], None
    for k, c in enumerate(missing):
        if start is None:
            start = c
        if k + 1 == len(missing) or missing[k + 1] != c + 1:
            parts.append(str(start) if start == c else f"{start}..{c}")
            start = None
    return ", ".join(parts)


# ----------------------------------------------------------------------------- labels


def check_labels(labels: dict, *, n_classes: int | None = None) -> int:
    """Check class labels of one or more splits and return the number of classes ``K``.

    Labels must be integers in ``0 .. K-1``. With ``n_classes`` given, ``K = n_classes`` and
    classes may be empty; without it ``K = max + 1`` over every split and each class
    ``0 .. K-1`` must occur somewhere (a gap, such as a stray label 255 among digits 0..9,
    is an error, not a 256-class model).

    Parameters
    ----------
    labels : dict of str -> array_like of shape (n,)
        Each split's labels under the name messages use (a file name, ``"y"``).
    n_classes : int, optional
        The stated number of classes.

    Returns
    -------
    int
        ``K``.

    Raises
    ------
    DataError
        A label that is not an integer, is negative or is ``>= n_classes`` (the message names
        the split, the label and its index); a gap when ``K`` is inferred; no labels at all.
    InputError
        ``n_classes`` is not an integer >= 2.

    Examples
    --------
    >>> check_labels({"train": [0, 1, 2], "test": [2, 1]})
    3
    >>> check_labels({"train": [0, 1, 2]}, n_classes=5)
    5
    >>> check_labels({"labels.idx": [0, 1, 255, 1]})
    Traceback (most recent call last):
    ...
    graphnet.errors.DataError: labels.idx: label 255 at index 2 implies 256 classes, but classes 2..254 have no sample; labels must be 0..K-1 (state n_classes = K if empty classes are intended)
    """
    if n_classes is not None and (isinstance(n_classes, bool) or not isinstance(n_classes, (int, np.integer))
                                  or n_classes < 2):
        raise InputError(f"check_labels: n_classes must be an integer >= 2, got {n_classes!r}")
    arrays, top, top_at = {}, -1, None
    for name, y in labels.items():
        y = np.asarray(y)
        if y.ndim != 1:
            raise DataError(f"{name}: labels must be 1-D of shape (n,), got shape {y.shape}")
        if y.dtype.kind == "f":
            bad = np.flatnonzero(~np.isfinite(y) | (y != np.round(y)))
            if bad.size:
                i = int(bad[0])
                raise DataError(f"{name}: label {float(y[i]):g} at index {i} is not an integer; "
                                f"labels must be integers 0..K-1")
        elif y.dtype.kind not in "iub":
            raise DataError(f"{name}: labels must be integers 0..K-1, got dtype {y.dtype}")
        y = y.astype(np.int64)
        neg = np.flatnonzero(y < 0)
        if neg.size:
            i = int(neg[0])
            raise DataError(f"{name}: label {int(y[i])} at index {i} is negative; labels must be integers 0..K-1")
        if n_classes is not None:
            over = np.flatnonzero(y >= n_classes)
            if over.size:
                i = int(over[0])
                raise DataError(f"{name}: label {int(y[i])} at index {i} is out of range for "
                                f"n_classes = {n_classes} (labels must be 0..{n_classes - 1})")
        if y.size and int(y.max()) > top:
            top, top_at = int(y.max()), (name, int(np.argmax(y)))
        arrays[name] = y
    if top < 0:
        raise DataError(f"{', '.join(labels) or 'labels'}: no labels")
    if n_classes is not None:
        return int(n_classes)
    seen = np.zeros(top + 1, dtype=bool)
    for y in arrays.values():
        seen[y] = True
    missing = np.flatnonzero(~seen).tolist()
    if missing:
        name, i = top_at
        raise DataError(f"{name}: label {top} at index {i} implies {top + 1} classes, but classes "
                        f"{_ranges(missing)} have no sample; labels must be 0..K-1 "
                        f"(state n_classes = K if empty classes are intended)")
    return top + 1


# ----------------------------------------------------------------------------- CSV


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_csv(path: str, label):
    with open(path, encoding="utf-8-sig", newline="") as fh:
        try:
            text = fh.read()
        except UnicodeDecodeError as exc:
            raise DataError(f"{path}: not a UTF-8 text file ({exc})") from None
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count) if any(d in first for d in ",;\t") else ","
    rows = [(k + 1, row) for k, row in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter))]
    rows = [(line, row) for line, row in rows if any(cell.strip() for cell in row)]  # blank lines
    if not rows:
        raise DataError(f"{path}: empty file; expected rows of features and a label")
    header = None
    if not all(_is_number(cell) for cell in rows[0][1]):
        header = [cell.strip() for cell in rows[0][1]]
        rows = rows[1:]
        if not rows:
            raise DataError(f"{path}: only a header row ({', '.join(header)}); expected data rows below it")
    n_cols = len(header) if header else len(rows[0][1])
    if n_cols < 2:
        raise DataError(f"{path}: line {rows[0][0]}: found 1 column; expected at least one feature "
                        f"column and a label column")
    for line, row in rows:
        if len(row) != n_cols:
            raise DataError(f"{path}: line {line}: expected {n_cols} columns "
                            f"({'as the header' if header else 'as the first row'}), found {len(row)}")
    names = [f"column {j + 1}" + (f" ({header[j]})" if header else "") for j in range(n_cols)]
    if label is None:
        label_col = n_cols - 1
    elif header is None:
        raise DataError(f"{path}: label = {label!r} names a column, but the file has no header row "
                        f"(its first row is all numbers)")
    elif label not in header:
        raise DataError(f"{path}: no column named {label!r} for the label; the header has "
                        f"{', '.join(map(repr, header))}")
    else:
        label_col = header.index(label)
    cells = np.array([row for _, row in rows], dtype=str)  # (n, n_cols)
    try:
        values = np.char.strip(cells).astype(np.float64)
    except ValueError:
        for line, row in rows:
            for j, cell in enumerate(row):
                if not _is_number(cell):
                    what = "label" if j == label_col else "feature"
                    raise DataError(f"{path}: line {line}, {names[j]}: "
                                    f"{cell!r} is not a number (a {what} must be numeric)")
        raise
    lines = np.array([line for line, _ in rows])
    features = np.delete(values, label_col, axis=1)  # (n, n_cols - 1)
    bad = ~np.isfinite(features)
    if bad.any():
        r, j = (int(v[0]) for v in np.nonzero(bad))
        j = j + (j >= label_col)
        raise DataError(f"{path}: line {lines[r]}, {names[j]}: "
                        f"{rows[r][1][j].strip()!r} is not finite; features must be finite numbers")
    y = values[:, label_col]
    bad = np.flatnonzero(~np.isfinite(y) | (y != np.round(y)) | (y < 0))
    if bad.size:
        r = int(bad[0])
        raise DataError(f"{path}: line {lines[r]}, {names[label_col]}: "
                        f"label {rows[r][1][label_col].strip()!r} is not an integer >= 0; "
                        f"labels must be integers 0..K-1")
    return features, y.astype(np.int64), lines


def load_csv(path, *, label: str | None = None, dtype=np.float64) -> tuple[np.ndarray, np.ndarray]:
    """Read a CSV file of samples: one row per sample, numeric features and an integer label.

    The label is the last column, or the column named ``label`` in the header. A header row
    is recognised by a non-numeric cell in the first row. The delimiter is the one of ``,``
    ``;`` or tab that the first line holds most of. Blank lines are skipped.

    Parameters
    ----------
    path : str or os.PathLike
    label : str, optional
        Header name of the label column (default: the last column).
    dtype : floating numpy dtype
        The dtype of ``X``.

    Returns
    -------
    X : ndarray of shape (n, features)
    y : ndarray of shape (n,), int64

    Raises
    ------
    FileNotFoundError
        No such file.
    DataError
        An empty file, a ragged row, a cell that is not a number, a non-finite feature, a
        label that is not an integer 0..K-1 (with a gap), fewer than 2 classes; the message
        names the file, the line and the column.

    Examples
    --------
    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "points.csv")
    >>> with open(p, "w") as fh:
    ...     _ = fh.write("x1,x2,kind\\n0.5,1,0\\n2,3.5,1\\n")
    >>> X, y = load_csv(p)
    >>> X.tolist(), y.tolist()
    ([[0.5, 1.0], [2.0, 3.5]], [0, 1])
    >>> load_csv(p, label="x1")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    graphnet.errors.DataError: ...points.csv: line 2, column 1 (x1): label '0.5' is not ... 0..K-1
    """
    path = os.fspath(path)
    dt = np.dtype(dtype)
    X, y, lines = _cached(path, ("csv", label), lambda: _read_csv(path, label))
    _check_classes(path, y, lambda i: f"line {lines[i]}")
    return X.astype(dt, copy=False), y  # _cached gave a fresh copy already


def _check_classes(path: str, y: np.ndarray, where) -> None:
    """At least 2 classes, no gaps; messages locate a sample by ``where(index)``."""
    classes = np.unique(y)
    if classes.size < 2:
        raise DataError(f"{path}: every sample has label {int(classes[0])}; expected at least 2 classes")
    try:
        check_labels({path: y})
    except DataError:
        top = int(y.max())
        missing = sorted(set(range(top + 1)) - set(classes.tolist()))
        raise DataError(f"{path}: {where(int(np.argmax(y)))}: label {top} implies {top + 1} classes, "
                        f"but classes {_ranges(missing)} have no sample; labels must be 0..K-1 "
                        f"(state n_classes = K if empty classes are intended)") from None


# ----------------------------------------------------------------------------- npz


def _read_npz(path: str):
    with open(path, "rb") as fh:
        magic = fh.read(6)
    if magic[:4] != b"PK\x03\x04" and magic != b"\x93NUMPY":  # zip (.npz) or a lone .npy
        raise DataError(f"{path}: not a NumPy .npz archive (no zip signature); expected a file "
                        f"written by numpy.savez(path, X=X, y=y)")
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise DataError(f"{path}: not a NumPy .npz archive ({exc})") from None
    if not hasattr(archive, "files"):
        raise DataError(f"{path}: holds a single array, not an .npz archive with arrays 'X' and 'y' "
                        f"(write it with numpy.savez(path, X=X, y=y))")
    with archive:
        missing = [k for k in ("X", "y") if k not in archive.files]
        if missing:
            raise DataError(f"{path}: no array {' or '.join(map(repr, missing))}; expected arrays 'X' "
                            f"and 'y', found {', '.join(map(repr, archive.files)) or 'none'}")
        try:
            X, y = archive["X"], archive["y"]
        except ValueError as exc:  # object arrays need pickle
            raise DataError(f"{path}: cannot read X and y without pickle ({exc}); "
                            f"expected numeric arrays") from None
    if X.dtype.kind not in "biuf":
        raise DataError(f"{path}: array 'X' must be numeric, got dtype {X.dtype}")
    if X.ndim not in (2, 4):
        raise DataError(f"{path}: array 'X' must have shape (n, features) or (n, c, h, w), "
                        f"got shape {X.shape}")
    if y.ndim != 1:
        raise DataError(f"{path}: array 'y' must have shape (n,), got shape {y.shape}")
    if X.shape[0] != y.shape[0]:
        raise DataError(f"{path}: array 'X' holds {X.shape[0]} samples but 'y' {y.shape[0]} labels; "
                        f"expected the same count")
    if X.shape[0] == 0:
        raise DataError(f"{path}: arrays 'X' and 'y' hold no samples")
    if X.dtype.kind == "f":
        finite = np.isfinite(X.reshape(X.shape[0], -1)).all(axis=1)
        if not finite.all():
            i = int(np.flatnonzero(~finite)[0])
            raise DataError(f"{path}: array 'X' has a non-finite value (NaN or inf) in sample {i}; "
                            f"features must be finite")
    check_labels({f"{path}: array 'y'": y}, n_classes=int(2**62))  # integers >= 0
    return X, y.astype(np.int64)


def load_npz(path, *, dtype=np.float64) -> tuple[np.ndarray, np.ndarray]:
    """Read samples from a NumPy ``.npz`` archive with arrays ``X`` and ``y``.

    Parameters
    ----------
    path : str or os.PathLike
    dtype : floating numpy dtype
        The dtype of ``X``.

    Returns
    -------
    X : ndarray of shape (n, features) or (n, c, h, w)
    y : ndarray of shape (n,), int64

    Raises
    ------
    FileNotFoundError
        No such file.
    DataError
        Not an archive, ``X`` or ``y`` missing, ``X`` not numeric or not 2-D / 4-D, ``y``
        not 1-D, different lengths, no samples, a non-finite value, labels that are not
        integers 0..K-1 without a gap, fewer than 2 classes; the message names the file and
        the array.

    Examples
    --------
    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "set.npz")
    >>> np.savez(p, X=np.eye(3), y=np.array([0, 1, 1]))
    >>> X, y = load_npz(p)
    >>> X.shape, y.tolist()
    ((3, 3), [0, 1, 1])
    """
    path = os.fspath(path)
    dt = np.dtype(dtype)
    X, y = _cached(path, "npz", lambda: _read_npz(path))
    _check_classes(path, y, lambda i: f"array 'y' index {i}")
    return X.astype(dt, copy=False), y  # _cached gave a fresh copy already
