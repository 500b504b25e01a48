"""Data files: MNIST-format IDX, the user's CSV and NumPy ``.npz``, and the label rule.

:func:`read_idx`, :func:`load_idx_pair` and :func:`load_mnist` read the MNIST format.
:func:`load_csv` and :func:`load_npz` read a whole file into ``(X, y)`` and refuse anything
that would train badly or fail later: ragged rows, text in a number column, NaN or infinity,
labels that are not integers, fewer than two classes. :func:`check_labels` is the one rule
for labels, used by these loaders and by the MNIST IDX splits alike: labels are integers in
``0 .. K-1``, with ``K`` stated by the caller or inferred as ``max + 1`` over every split, and
when inferred no class in ``0 .. K-1`` may be empty. Every message names the file, the row
(line) or array and the value.

Files are read once per process: a second load of the same path with the same size and
modification time returns the cached arrays (copies).
"""

from __future__ import annotations

import csv
import functools
import gzip
import io
import math
import os
import zlib

import numpy as np

from graphnet.errors import DataError, InputError, InputTypeError

__all__ = ["read_idx", "load_idx_pair", "load_mnist", "check_labels", "load_csv", "load_npz",
           "FILE_FORMATS", "SCALES"]

#: Pixel scalings: ``"unit"`` maps to [0, 1] (sigmoid, relu), ``"symmetric"`` to [-1, 1] (tanh).
SCALES = ("unit", "symmetric")

# IDX type byte -> big-endian numpy dtype (and a name for messages).
_IDX_TYPES = {
    0x08: (np.dtype(">u1"), "ubyte"),
    0x09: (np.dtype(">i1"), "byte"),
    0x0B: (np.dtype(">i2"), "short"),
    0x0C: (np.dtype(">i4"), "int"),
    0x0D: (np.dtype(">f4"), "float"),
    0x0E: (np.dtype(">f8"), "double"),
}
_GZIP_MAGIC = b"\x1f\x8b"


# ----------------------------------------------------------------------------- helpers


def _float_dtype(dtype, where: str) -> np.dtype:
    """Return ``np.dtype(dtype)`` if it is a floating dtype, else raise InputTypeError."""
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise InputTypeError(f"{where}: dtype must be a floating numpy dtype, got {dtype!r}") from exc
    if not np.issubdtype(dt, np.floating):
        raise InputTypeError(f"{where}: dtype must be a floating numpy dtype, got {dt}")
    return dt


def _check_choice(value, choices, name: str, where: str) -> None:
    """Raise InputError unless ``value`` is one of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        raise InputError(f"{where}: {name} must be one of {', '.join(map(repr, choices))}, got {value!r}")


def _scale_pixels(raw: np.ndarray, max_value: float, scale: str, dtype: np.dtype) -> np.ndarray:
    """Map pixels in [0, max_value] to [0, 1] (unit) or [-1, 1] (symmetric), as ``dtype``."""
    x = raw.astype(dtype) / dtype.type(max_value)  # [0, 1]
    if scale == "symmetric":
        x = x * dtype.type(2) - dtype.type(1)  # [-1, 1]
    return x


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


def read_idx(path) -> np.ndarray:
    """Read an array from an IDX file (the MNIST format), gzipped or not.

    The format: two zero bytes, a type byte (0x08 ubyte, 0x09 byte, 0x0B short,
    0x0C int, 0x0D float, 0x0E double), a byte with the number of dimensions, the
    dimensions as big-endian uint32, then the data, big-endian, in C order. A file that
    starts with the gzip magic bytes ``1f 8b`` is decompressed first, whatever its name.

    Parameters
    ----------
    path : str or os.PathLike
        The file.

    Returns
    -------
    ndarray
        A new, writable array in native byte order, of the file's shape and type
        (uint8, int8, int16, int32, float32 or float64).

    Raises
    ------
    FileNotFoundError
        If the file does not exist (the message names the path).
    DataError
        If the file is not a valid IDX file: bad magic, unknown type code, zero
        dimensions, a truncated header, a broken gzip stream, or data of the wrong size
        (``expected N bytes of data, found M``; trailing bytes count as wrong). The
        message names the file.

    Examples
    --------
    >>> import os, struct, tempfile
    >>> d = tempfile.mkdtemp()
    >>> p = os.path.join(d, "a.idx")
    >>> header = bytes([0, 0, 0x08, 2]) + struct.pack(">II", 2, 3)
    >>> with open(p, "wb") as f:
    ...     _ = f.write(header + bytes(range(6)))
    >>> read_idx(p)
    array([[0, 1, 2],
           [3, 4, 5]], dtype=uint8)
    >>> with open(p, "wb") as f:
    ...     _ = f.write(header + bytes(range(5)))
    >>> read_idx(p)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    graphnet.errors.DataError: read_idx: ...a.idx: expected 6 bytes of data, found 5 (truncated; header shape (2, 3))
    """
    path = os.fspath(path)
    return _read_idx_cached(path).copy()


def _read_idx_cached(path: str) -> np.ndarray:
    """:func:`read_idx` once per (path, size, mtime): config checks and runs read the same files."""
    st = os.stat(path)  # FileNotFoundError names the path
    return _read_idx_keyed(path, st.st_size, st.st_mtime_ns, st.st_ino)


@functools.lru_cache(maxsize=4)
def _read_idx_keyed(path: str, size: int, mtime_ns: int, inode: int) -> np.ndarray:
    """The cached reader behind :func:`read_idx`; the array is read-only."""
    with open(path, "rb") as f:
        raw = f.read()
    where = f"read_idx: {path}"
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise DataError(f"{where}: starts with the gzip magic bytes but is not a valid gzip stream ({exc})") from exc
    if len(raw) < 4:
        raise DataError(f"{where}: too short for an IDX header: expected at least 4 bytes, found {len(raw)}")
    if raw[0] != 0 or raw[1] != 0:
        raise DataError(
            f"{where}: bad magic: expected the first two bytes to be 0x00 0x00, "
            f"found 0x{raw[0]:02x} 0x{raw[1]:02x} (not an IDX file)"
        )
    code, ndim = raw[2], raw[3]
    if code not in _IDX_TYPES:
        known = ", ".join(f"0x{c:02x} ({name})" for c, (_, name) in _IDX_TYPES.items())
        raise DataError(f"{where}: unknown type code 0x{code:02x}; expected one of {known}")
    if ndim == 0:
        raise DataError(f"{where}: zero dimensions in the header; expected at least 1")
    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise DataError(
            f"{where}: header truncated: {ndim} dimensions need {header_size} header bytes, found {len(raw)}"
        )
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    be_dtype = _IDX_TYPES[code][0]
    expected = math.prod(shape) * be_dtype.itemsize
    found = len(raw) - header_size
    if found != expected:
        extra = found - expected
        what = "truncated" if extra < 0 else f"{extra} trailing byte{'s' if extra != 1 else ''}"
        raise DataError(f"{where}: expected {expected} bytes of data, found {found} ({what}; header shape {shape})")
    data = np.frombuffer(raw, dtype=be_dtype, offset=header_size).reshape(shape)
    data = data.astype(be_dtype.newbyteorder("="))  # native order, a copy
    data.flags.writeable = False
    return data


def load_idx_pair(images_path, labels_path, *, scale: str = "unit", dtype=np.float64) -> tuple[np.ndarray, np.ndarray]:
    """Load an image file and a label file in IDX format (an MNIST split).

    Parameters
    ----------
    images_path : str or os.PathLike
        IDX file of uint8 images, shape (n, h, w).
    labels_path : str or os.PathLike
        IDX file of integer labels, shape (n,).
    scale : {"unit", "symmetric"}
        Pixels 0..255 are mapped to ``[0, 1]`` (``"unit"``) or ``[-1, 1]`` (``"symmetric"``).
    dtype : floating numpy dtype
        The dtype of ``X``.

    Returns
    -------
    X : ndarray of shape (n, 1, h, w)
    y : ndarray of shape (n,), int64

    Raises
    ------
    DataError
        If either file is malformed (see :func:`read_idx`), the images are not a 3-D
        uint8 array, the labels are not a 1-D integer array, the counts differ, or
        there are no samples.
    FileNotFoundError
        If either file does not exist.
    InputError, InputTypeError
        If ``scale`` or ``dtype`` is invalid.

    Examples
    --------
    >>> import os, struct, tempfile
    >>> d = tempfile.mkdtemp()
    >>> imgs, labs = os.path.join(d, "i.idx"), os.path.join(d, "l.idx")
    >>> with open(imgs, "wb") as f:
    ...     _ = f.write(bytes([0, 0, 8, 3]) + struct.pack(">III", 2, 1, 2) + bytes([0, 255, 51, 0]))
    >>> with open(labs, "wb") as f:
    ...     _ = f.write(bytes([0, 0, 8, 1]) + struct.pack(">I", 2) + bytes([7, 3]))
    >>> X, y = load_idx_pair(imgs, labs)
    >>> X.shape, X[:, 0, 0, :].tolist(), y.tolist()
    ((2, 1, 1, 2), [[0.0, 1.0], [0.2, 0.0]], [7, 3])
    """
    _check_choice(scale, SCALES, "scale", "load_idx_pair")
    dt = _float_dtype(dtype, "load_idx_pair")
    images, labels = _idx_pair_raw(images_path, labels_path)
    X = _scale_pixels(images, 255.0, scale, dt)[:, None, :, :]  # (n, 1, h, w)
    return X, labels.astype(np.int64)


def _idx_pair_raw(images_path, labels_path) -> tuple[np.ndarray, np.ndarray]:
    """The raw (cached, read-only) images and labels of an IDX pair, shapes and counts checked."""
    ipath, lpath = os.fspath(images_path), os.fspath(labels_path)
    images = _read_idx_cached(ipath)
    labels = _read_idx_cached(lpath)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise DataError(
            f"load_idx_pair: {ipath}: expected a 3-D uint8 array of images (n, h, w), "
            f"got a {images.ndim}-D {images.dtype} array of shape {images.shape}"
        )
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise DataError(
            f"load_idx_pair: {lpath}: expected a 1-D integer array of labels (n,), "
            f"got a {labels.ndim}-D {labels.dtype} array of shape {labels.shape}"
        )
    if images.shape[0] != labels.shape[0]:
        raise DataError(
            f"load_idx_pair: {ipath} holds {images.shape[0]} images but {lpath} holds "
            f"{labels.shape[0]} labels; expected the same count"
        )
    if images.shape[0] == 0:
        raise DataError(f"load_idx_pair: {ipath}: contains no images")
    return images, labels


def _mnist_candidates(prefix: str, kind: str, idx: int) -> list[str]:
    """Standard file names for one MNIST file, in order of preference."""
    names = [f"{prefix}-{kind}-idx{idx}-ubyte", f"{prefix}-{kind}.idx{idx}-ubyte"]
    return [v for name in names for v in (name, name + ".gz")]


def load_mnist(path, *, split: str = "train", scale: str = "unit", dtype=np.float64) -> tuple[np.ndarray, np.ndarray]:
    """Load one split of MNIST (or any dataset in MNIST's layout) from a directory.

    The directory holds the standard file names: ``train-images-idx3-ubyte``,
    ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``,
    each optionally gzipped with a ``.gz`` suffix; the variant with a dot
    (``train-images.idx3-ubyte``) is accepted too. The first name found, in that order
    (dash, dash ``.gz``, dot, dot ``.gz``), is used.

    Parameters
    ----------
    path : str or os.PathLike
        The directory.
    split : {"train", "test"}
        ``"train"`` reads the ``train-*`` files, ``"test"`` the ``t10k-*`` files.
    scale : {"unit", "symmetric"}
        Pixel scaling, as in :func:`load_idx_pair`.
    dtype : floating numpy dtype
        The dtype of ``X``.

    Returns
    -------
    X : ndarray of shape (n, 1, 28, 28)
        (for MNIST; the file's own height and width in general)
    y : ndarray of shape (n,), int64

    Raises
    ------
    DataError
        If ``path`` is not a directory, a file is missing (the message lists the names
        looked for) or malformed (see :func:`load_idx_pair`).
    InputError
        If ``split`` or ``scale`` is not one of the choices.

    Examples
    --------
    >>> import os, struct, tempfile
    >>> d = tempfile.mkdtemp()
    >>> with open(os.path.join(d, "t10k-images-idx3-ubyte"), "wb") as f:
    ...     _ = f.write(bytes([0, 0, 8, 3]) + struct.pack(">III", 1, 2, 2) + bytes([0, 255, 255, 0]))
    >>> with open(os.path.join(d, "t10k-labels.idx1-ubyte"), "wb") as f:
    ...     _ = f.write(bytes([0, 0, 8, 1]) + struct.pack(">I", 1) + bytes([4]))
    >>> X, y = load_mnist(d, split="test", scale="symmetric")
    >>> X.tolist(), y.tolist()
    ([[[[-1.0, 1.0], [1.0, -1.0]]]], [4])
    >>> load_mnist(d, split="train")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    graphnet.errors.DataError: load_mnist: no train images file in ...: looked for train-images-idx3-ubyte, ...
    """
    _check_choice(split, ("train", "test"), "split", "load_mnist")
    _check_choice(scale, SCALES, "scale", "load_mnist")
    _float_dtype(dtype, "load_mnist")
    found = _mnist_files(path, split)
    return load_idx_pair(found["images"], found["labels"], scale=scale, dtype=dtype)


def _mnist_files(path, split: str) -> dict:
    """The paths of one split's ``images`` and ``labels`` files in an MNIST directory."""
    directory = os.fspath(path)
    if not os.path.isdir(directory):
        raise DataError(f"load_mnist: path must be a directory of IDX files, got {directory!r}")
    prefix = "train" if split == "train" else "t10k"
    found = {}
    for kind, idx in (("images", 3), ("labels", 1)):
        candidates = _mnist_candidates(prefix, kind, idx)
        hit = next((c for c in candidates if os.path.isfile(os.path.join(directory, c))), None)
        if hit is None:
            raise DataError(
                f"load_mnist: no {split} {kind} file in {directory}: looked for {', '.join(candidates)}"
            )
        found[kind] = os.path.join(directory, hit)
    return found

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
