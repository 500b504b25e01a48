"""MNIST-format IDX files: the reader, an image/label pair, an MNIST directory, pixel scaling.

:func:`read_idx` reads one IDX file (gzip or not) into its array; :func:`load_idx_pair`
reads an image file and a label file (an MNIST split) and scales the pixels as the seed
advises (:data:`SCALES`); :func:`load_mnist` finds a split's two files in a directory by
their standard names. Every message names the file and what was expected.

Files are read once per process: a second read of the same path with the same size and
modification time returns the cached array (a copy).
"""

from __future__ import annotations

import functools
import gzip
import math
import os
import zlib

import numpy as np

from graphnet._checks import check_choice, float_dtype
from graphnet.errors import DataError

__all__ = ["read_idx", "load_idx_pair", "load_mnist", "SCALES"]

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



def _scale_pixels(raw: np.ndarray, max_value: float, scale: str, dtype: np.dtype) -> np.ndarray:
    """Map pixels in [0, max_value] to [0, 1] (unit) or [-1, 1] (symmetric), as ``dtype``."""
    x = raw.astype(dtype) / dtype.type(max_value)  # [0, 1]
    if scale == "symmetric":
        x = x * dtype.type(2) - dtype.type(1)  # [-1, 1]
    return x


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
    check_choice(scale, SCALES, "scale", "load_idx_pair")
    dt = float_dtype(dtype, "load_idx_pair")
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
    check_choice(split, ("train", "test"), "split", "load_mnist")
    check_choice(scale, SCALES, "scale", "load_mnist")
    float_dtype(dtype, "load_mnist")
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
