"""Tests of graphnet.data, graphnet.idxfiles and graphnet.dataprep: loaders, IDX files, splits,
one-hot, validation, registry."""

from __future__ import annotations

import gzip
import math
import re

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from graphnet.data import DATASET_SPECS, Dataset, digits, load_dataset, spirals, xor
from graphnet.dataprep import check_dataset, one_hot, train_test_split
from graphnet.idxfiles import load_idx_pair, load_mnist, read_idx
from graphnet.errors import DataError, InputError, InputTypeError

from conftest import idx_bytes

# ----------------------------------------------------------------------------- IDX writer
# An independent writer, straight from the format description: conftest.idx_bytes.

def write(path, content: bytes, *, gz: bool = False):
    path.write_bytes(gzip.compress(content) if gz else content)
    return path


# ----------------------------------------------------------------------------- xor


def test_xor_points_and_labels():
    X, y = xor()
    assert X.dtype == np.float64 and X.shape == (4, 2)
    assert y.dtype == np.int64 and y.shape == (4,)
    # the four distinct corners of the unit square
    assert sorted(map(tuple, X.tolist())) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    expected = [int(a) ^ int(b) for a, b in X.astype(int)]
    assert y.tolist() == expected


def test_xor_dtype():
    X, _ = xor(dtype=np.float32)
    assert X.dtype == np.float32
    with pytest.raises(InputTypeError, match="xor: dtype must be a floating"):
        xor(dtype=np.int64)


# ----------------------------------------------------------------------------- spirals


@settings(max_examples=40, deadline=None)
@given(n_classes=st.integers(2, 6), extra=st.integers(0, 60))
def test_spirals_balanced_shapes(n_classes, extra):
    n = n_classes + extra
    X, y = spirals(n, seed=3, n_classes=n_classes)
    assert X.shape == (n, 2) and X.dtype == np.float64
    assert y.shape == (n,) and y.dtype == np.int64
    counts = np.bincount(y, minlength=n_classes)
    assert counts.size == n_classes
    assert counts.sum() == n
    assert counts.max() - counts.min() <= 1
    assert np.isfinite(X).all()


@pytest.mark.parametrize("n_classes,turns", [(2, 1.0), (3, 1.5), (5, 0.25)])
def test_spirals_noiseless_points_lie_on_their_arm(n_classes, turns):
    n = 60
    X, y = spirals(n, seed=0, n_classes=n_classes, noise=0.0, turns=turns)
    r = np.hypot(X[:, 0], X[:, 1])
    theta = np.arctan2(X[:, 1], X[:, 0])
    assert (r > 0).all() and (r <= 1 + 1e-12).all()
    expected = 2 * np.pi * turns * r + 2 * np.pi * y / n_classes
    # angles equal modulo 2 pi
    np.testing.assert_allclose(np.exp(1j * theta), np.exp(1j * expected), atol=1e-9)
    # radii of each class are (i + 1) / n_k
    for k in range(n_classes):
        rk = np.sort(r[y == k])
        np.testing.assert_allclose(rk, (np.arange(rk.size) + 1) / rk.size, atol=1e-12)


def test_spirals_are_shuffled():
    _, y = spirals(200, seed=0)
    assert not (np.diff(y) >= 0).all()


def test_spirals_noise_is_gaussian_with_given_std():
    # the seed fixes the draws, so the noise is the difference from the noiseless set
    X0, y0 = spirals(4000, seed=5, noise=0.0)
    X1, y1 = spirals(4000, seed=5, noise=0.1)
    assert (y0 == y1).all()
    d = (X1 - X0).ravel()
    assert abs(d.mean()) < 0.01
    assert abs(d.std() - 0.1) < 0.01


def test_spirals_reproducible():
    a = spirals(50, seed=11, n_classes=3)
    b = spirals(50, seed=11, n_classes=3)
    c = spirals(50, seed=12, n_classes=3)
    assert (a[0] == b[0]).all() and (a[1] == b[1]).all()
    assert not (a[0] == c[0]).all()
    g = np.random.default_rng(11)
    d = spirals(50, g, n_classes=3)
    assert (a[0] == d[0]).all()


def test_spirals_dtype():
    X, _ = spirals(10, seed=0, dtype=np.float32)
    assert X.dtype == np.float32


@pytest.mark.parametrize(
    "kwargs,err,match",
    [
        (dict(n=1, n_classes=2), InputError, r"n must be >= n_classes \(2\), got 1"),
        (dict(n=10, n_classes=1), InputError, "n_classes must be >= 2, got 1"),
        (dict(n=10, noise=-0.1), InputError, "noise must be a finite number >= 0"),
        (dict(n=10, noise=float("nan")), InputError, "noise"),
        (dict(n=10, turns=0), InputError, "turns must be a finite number > 0"),
        (dict(n=10.0), InputTypeError, "n must be an int"),
        (dict(n=10, n_classes=2.0), InputTypeError, "n_classes must be an int"),
        (dict(n=10, dtype=np.int32), InputTypeError, "dtype must be a floating"),
    ],
)
def test_spirals_errors(kwargs, err, match):
    n = kwargs.pop("n")
    with pytest.raises(err, match=match):
        spirals(n, 0, **kwargs)


def test_spirals_bad_seed():
    with pytest.raises(InputTypeError, match="seed"):
        spirals(10, None)


# ----------------------------------------------------------------------------- digits


@pytest.fixture(scope="module")
def sk_digits():
    from sklearn.datasets import load_digits

    d = load_digits()
    return d.data, d.target


def test_digits_unit_flat(sk_digits):
    data, target = sk_digits
    X, y = digits()
    assert X.shape == (1797, 64) and X.dtype == np.float64
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    np.testing.assert_array_equal(X * 16, data)  # x / 16 is exact in float64
    np.testing.assert_array_equal(y, target)
    assert set(y.tolist()) == set(range(10))


def test_digits_symmetric_image(sk_digits):
    data, target = sk_digits
    X, y = digits(scale="symmetric", shape="image")
    assert X.shape == (1797, 1, 8, 8)
    assert X.min() == -1.0 and X.max() == 1.0
    np.testing.assert_array_equal((X + 1) * 8, data.reshape(-1, 1, 8, 8))
    # image layout is the flat layout, row-major
    flat, _ = digits(scale="symmetric")
    np.testing.assert_array_equal(X.reshape(1797, 64), flat)
    np.testing.assert_array_equal(y, target)


def test_digits_float32_and_fresh_arrays():
    X, y = digits(dtype=np.float32)
    assert X.dtype == np.float32
    X[:] = 5
    y[:] = 7
    X2, y2 = digits()
    assert X2.max() == 1.0 and set(y2.tolist()) == set(range(10))


@pytest.mark.parametrize(
    "kwargs,err,match",
    [
        (dict(scale="minmax"), InputError, "digits: scale must be one of 'unit', 'symmetric', got 'minmax'"),
        (dict(shape="square"), InputError, "digits: shape must be one of 'flat', 'image'"),
        (dict(dtype="int8"), InputTypeError, "dtype must be a floating"),
    ],
)
def test_digits_errors(kwargs, err, match):
    with pytest.raises(err, match=match):
        digits(**kwargs)


# ----------------------------------------------------------------------------- read_idx

_rng = np.random.default_rng(1234)
_ARRAYS = [
    _rng.integers(0, 256, size=(3, 4, 5)).astype(np.uint8),
    np.array([0, 1, 255], dtype=np.uint8),
    _rng.integers(-128, 128, size=(7,)).astype(np.int8),
    np.array([[-32768, 32767], [1, -2], [256, 0]], dtype=np.int16),
    np.array([np.iinfo(np.int32).min, np.iinfo(np.int32).max, 70000], dtype=np.int32).reshape(3, 1),
    _rng.standard_normal((2, 3, 2, 2)).astype(np.float32),
    np.array([1e300, -1e-300, np.inf, np.nan, 0.5], dtype=np.float64),
    np.zeros((0, 28, 28), dtype=np.uint8),
]


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("arr", _ARRAYS, ids=lambda a: f"{a.dtype}{a.shape}")
def test_read_idx_round_trip(tmp_path, arr, gz):
    p = write(tmp_path / "f.idx", idx_bytes(arr), gz=gz)
    got = read_idx(p)
    assert got.dtype == arr.dtype  # native byte order, same type
    assert got.dtype.isnative
    assert got.shape == arr.shape
    np.testing.assert_array_equal(got, arr)
    assert got.flags.writeable


def test_read_idx_known_bytes(tmp_path):
    # a hand-written int16 file: 0x0102 = 258 and 0xFFFE = -2, big-endian
    content = bytes([0, 0, 0x0B, 1, 0, 0, 0, 2, 0x01, 0x02, 0xFF, 0xFE])
    got = read_idx(write(tmp_path / "s.idx", content))
    assert got.tolist() == [258, -2]


def test_read_idx_gzip_detected_by_magic_not_name(tmp_path):
    arr = np.arange(6, dtype=np.uint8).reshape(2, 3)
    # gzipped content without a .gz name
    np.testing.assert_array_equal(read_idx(write(tmp_path / "a-ubyte", idx_bytes(arr), gz=True)), arr)
    # plain content with a .gz name
    np.testing.assert_array_equal(read_idx(write(tmp_path / "b-ubyte.gz", idx_bytes(arr))), arr)


def test_read_idx_accepts_str_path(tmp_path):
    arr = np.arange(3, dtype=np.uint8)
    p = write(tmp_path / "c.idx", idx_bytes(arr))
    np.testing.assert_array_equal(read_idx(str(p)), arr)


_GOOD = idx_bytes(np.arange(12, dtype=np.uint8).reshape(3, 4))  # header 12 bytes + 12 data


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize(
    "content,match",
    [
        (b"", r"too short for an IDX header: expected at least 4 bytes, found 0"),
        (b"\x00\x00", r"too short for an IDX header: expected at least 4 bytes, found 2"),
        (b"\x01" + _GOOD[1:], r"bad magic: expected the first two bytes to be 0x00 0x00, found 0x01 0x00"),
        (b"PK\x03\x04" + _GOOD[4:], r"bad magic: .*found 0x50 0x4b"),
        (_GOOD[:2] + b"\x07" + _GOOD[3:], r"unknown type code 0x07; expected one of 0x08 \(ubyte\)"),
        (_GOOD[:2] + b"\x0a" + _GOOD[3:], r"unknown type code 0x0a"),
        (_GOOD[:3] + b"\x00" + _GOOD[4:], r"zero dimensions"),
        (_GOOD[:3] + b"\x03" + _GOOD[4:8], r"header truncated: 3 dimensions need 16 header bytes, found 8"),
        (_GOOD[:11], r"header truncated: 2 dimensions need 12 header bytes, found 11"),
        (_GOOD[:-1], r"expected 12 bytes of data, found 11 \(truncated"),
        (_GOOD[:12], r"expected 12 bytes of data, found 0 \(truncated"),
        (_GOOD + b"\x00", r"expected 12 bytes of data, found 13 \(1 trailing byte;"),
        (_GOOD + b"\x00" * 5, r"expected 12 bytes of data, found 17 \(5 trailing bytes;"),
        # the dims count says 1 where the data were written for 2 dims: the second dim is read as data
        (_GOOD[:3] + b"\x01" + _GOOD[4:], r"expected 3 bytes of data, found 16 \(13 trailing bytes"),
        # int32 type code on uint8 data: 4 bytes per item expected
        (_GOOD[:2] + b"\x0c" + _GOOD[3:], r"expected 48 bytes of data, found 12 \(truncated"),
    ],
    ids=[
        "empty",
        "short",
        "bad-magic",
        "zip-file",
        "type-07",
        "type-0a",
        "zero-dims",
        "dims-count-too-large",
        "header-cut",
        "data-cut-by-1",
        "no-data",
        "1-trailing",
        "5-trailing",
        "dims-count-too-small",
        "wrong-type-for-size",
    ],
)
def test_read_idx_malformed(tmp_path, content, match, gz):
    p = write(tmp_path / "bad.idx", content, gz=gz)
    with pytest.raises(DataError, match=r"read_idx: .*bad\.idx: " + match):
        read_idx(p)


def test_read_idx_broken_gzip(tmp_path):
    p = write(tmp_path / "cut.gz", gzip.compress(_GOOD)[:-6])
    with pytest.raises(DataError, match=r"cut\.gz: starts with the gzip magic bytes but is not a valid gzip stream"):
        read_idx(p)
    p = write(tmp_path / "junk.gz", b"\x1f\x8b" + b"\x00" * 20)
    with pytest.raises(DataError, match=r"junk\.gz: .*not a valid gzip stream"):
        read_idx(p)


def test_read_idx_missing_file(tmp_path):
    p = tmp_path / "nope.idx"
    with pytest.raises(FileNotFoundError, match="nope.idx"):
        read_idx(p)


# ----------------------------------------------------------------------------- load_idx_pair


def _pair(tmp_path, images, labels, gz=False):
    ip = write(tmp_path / "images.idx", idx_bytes(images), gz=gz)
    lp = write(tmp_path / "labels.idx", idx_bytes(labels), gz=gz)
    return ip, lp


@pytest.mark.parametrize("gz", [False, True])
def test_load_idx_pair_scaling_and_shape(tmp_path, gz):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(5, 3, 4)).astype(np.uint8)
    images[0, 0, 0], images[0, 0, 1] = 0, 255
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    ip, lp = _pair(tmp_path, images, labels, gz=gz)

    X, y = load_idx_pair(ip, lp)
    assert X.shape == (5, 1, 3, 4) and X.dtype == np.float64
    assert y.dtype == np.int64 and y.tolist() == [3, 1, 4, 1, 5]
    np.testing.assert_allclose(X[:, 0], images / 255.0, rtol=0, atol=1e-15)
    assert X[0, 0, 0, 0] == 0.0 and X[0, 0, 0, 1] == 1.0

    Xs, _ = load_idx_pair(ip, lp, scale="symmetric", dtype=np.float32)
    assert Xs.dtype == np.float32
    np.testing.assert_allclose(Xs[:, 0], images / 127.5 - 1.0, rtol=0, atol=1e-6)
    assert Xs[0, 0, 0, 0] == -1.0 and Xs[0, 0, 0, 1] == 1.0


def test_load_idx_pair_count_mismatch(tmp_path):
    ip, lp = _pair(tmp_path, np.zeros((3, 2, 2), np.uint8), np.zeros(2, np.uint8))
    with pytest.raises(DataError, match=r"images\.idx holds 3 images but .*labels\.idx holds 2 labels"):
        load_idx_pair(ip, lp)


@pytest.mark.parametrize(
    "images,labels,match",
    [
        (np.zeros((3, 4), np.uint8), np.zeros(3, np.uint8), r"images\.idx: expected a 3-D uint8 array .*2-D uint8"),
        (np.zeros((3, 2, 2), np.float32), np.zeros(3, np.uint8), r"images\.idx: expected a 3-D uint8 .*float32"),
        (np.zeros((3, 2, 2), np.uint8), np.zeros((3, 1), np.uint8), r"labels\.idx: expected a 1-D integer array"),
        (np.zeros((3, 2, 2), np.uint8), np.zeros(3, np.float64), r"labels\.idx: expected a 1-D integer .*float64"),
        (np.zeros((0, 2, 2), np.uint8), np.zeros(0, np.uint8), r"images\.idx: contains no images"),
    ],
    ids=["images-2d", "images-float", "labels-2d", "labels-float", "empty"],
)
def test_load_idx_pair_bad_content(tmp_path, images, labels, match):
    ip, lp = _pair(tmp_path, images, labels)
    with pytest.raises(DataError, match=match):
        load_idx_pair(ip, lp)


def test_load_idx_pair_propagates_file_errors(tmp_path):
    ip, lp = _pair(tmp_path, np.zeros((2, 2, 2), np.uint8), np.zeros(2, np.uint8))
    lp.write_bytes(lp.read_bytes() + b"\x00")
    with pytest.raises(DataError, match=r"labels\.idx: expected 2 bytes of data, found 3"):
        load_idx_pair(ip, lp)
    with pytest.raises(FileNotFoundError):
        load_idx_pair(ip, tmp_path / "missing")
    with pytest.raises(InputError, match="scale must be one of"):
        load_idx_pair(ip, lp, scale="raw")


# ----------------------------------------------------------------------------- load_mnist


def _mnist_dir(root, names, n_train=6, n_test=4, h=5, w=3, gz=False):
    """Write a tiny MNIST-layout directory; ``names`` maps role -> file name."""
    rng = np.random.default_rng(7)
    data = {
        "train-images": rng.integers(0, 256, size=(n_train, h, w)).astype(np.uint8),
        "train-labels": rng.integers(0, 10, size=n_train).astype(np.uint8),
        "test-images": rng.integers(0, 256, size=(n_test, h, w)).astype(np.uint8),
        "test-labels": rng.integers(0, 10, size=n_test).astype(np.uint8),
    }
    for role, name in names.items():
        write(root / name, idx_bytes(data[role]), gz=gz)
    return data


_DASH = {
    "train-images": "train-images-idx3-ubyte",
    "train-labels": "train-labels-idx1-ubyte",
    "test-images": "t10k-images-idx3-ubyte",
    "test-labels": "t10k-labels-idx1-ubyte",
}
_DOT = {
    "train-images": "train-images.idx3-ubyte",
    "train-labels": "train-labels.idx1-ubyte",
    "test-images": "t10k-images.idx3-ubyte",
    "test-labels": "t10k-labels.idx1-ubyte",
}


@pytest.mark.parametrize(
    "names,gz",
    [
        (_DASH, False),
        ({k: v + ".gz" for k, v in _DASH.items()}, True),
        (_DOT, False),
        ({k: v + ".gz" for k, v in _DOT.items()}, True),
    ],
    ids=["dash", "dash-gz", "dot", "dot-gz"],
)
def test_load_mnist_name_variants(tmp_path, names, gz):
    data = _mnist_dir(tmp_path, names, gz=gz)
    X, y = load_mnist(tmp_path)
    assert X.shape == (6, 1, 5, 3) and y.dtype == np.int64
    np.testing.assert_allclose(X[:, 0], data["train-images"] / 255.0, atol=1e-15)
    np.testing.assert_array_equal(y, data["train-labels"])
    X, y = load_mnist(str(tmp_path), split="test", scale="symmetric")
    assert X.shape == (4, 1, 5, 3)
    np.testing.assert_allclose(X[:, 0], data["test-images"] / 127.5 - 1, atol=1e-12)
    np.testing.assert_array_equal(y, data["test-labels"])


def test_load_mnist_missing_files(tmp_path):
    _mnist_dir(tmp_path, {"train-images": _DASH["train-images"]})
    expected = (
        "looked for train-labels-idx1-ubyte, train-labels-idx1-ubyte.gz, "
        "train-labels.idx1-ubyte, train-labels.idx1-ubyte.gz"
    )
    with pytest.raises(DataError, match="load_mnist: no train labels file in .*: " + re.escape(expected)):
        load_mnist(tmp_path)
    with pytest.raises(DataError, match="no test images file .*t10k-images-idx3-ubyte"):
        load_mnist(tmp_path, split="test")


def test_load_mnist_bad_arguments(tmp_path):
    with pytest.raises(DataError, match="path must be a directory"):
        load_mnist(tmp_path / "absent")
    with pytest.raises(InputError, match="split must be one of 'train', 'test', got 'validation'"):
        load_mnist(tmp_path, split="validation")


# ----------------------------------------------------------------------------- train_test_split


def _expected_test_count(m: int, t: float) -> int:
    """The documented rule: round half up, at least 1 and at most m - 1; singletons train."""
    if m == 1:
        return 0
    k = math.floor(t * m + 0.5)
    return min(max(k, 1), m - 1)


labels_strategy = st.lists(st.integers(0, 4), min_size=2, max_size=80)


@settings(max_examples=150, deadline=None)
@given(labels=labels_strategy, t=st.floats(0.05, 0.95), seed=st.integers(0, 2**32 - 1))
def test_stratified_split_keeps_proportions_and_partitions(labels, t, seed):
    y = np.array(labels)
    classes, counts = np.unique(y, return_counts=True)
    assume(counts.max() >= 2)
    n = y.size
    X = np.arange(n).reshape(n, 1) * 10  # the sample's own index, recoverable

    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=t, seed=seed)

    # a partition: nothing lost, nothing duplicated
    idx = np.concatenate([X_tr[:, 0], X_te[:, 0]]) // 10
    assert np.array_equal(np.sort(idx), np.arange(n))
    # labels travel with their samples
    assert np.array_equal(y_tr, y[X_tr[:, 0] // 10]) and np.array_equal(y_te, y[X_te[:, 0] // 10])
    # per class proportions
    for c, m in zip(classes, counts):
        k = int(np.sum(y_te == c))
        assert k == _expected_test_count(int(m), t)
        assert k + int(np.sum(y_tr == c)) == m
        if m >= 2 and 1 <= round(t * m) <= m - 1:
            assert abs(k - t * m) <= 0.5 + 1e-9
    assert y_te.size >= 1 and y_tr.size >= 1


@settings(max_examples=60, deadline=None)
@given(n=st.integers(2, 100), t=st.floats(0.05, 0.95), seed=st.integers(0, 1000))
def test_plain_split_sizes_and_partition(n, t, seed):
    X = np.arange(n)
    y = np.zeros(n, dtype=np.int64)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=t, seed=seed, stratify=False)
    assert X_te.size == min(max(math.floor(t * n + 0.5), 1), n - 1)
    assert np.array_equal(np.sort(np.concatenate([X_tr, X_te])), np.arange(n))


def test_split_reproducible_and_seed_dependent():
    y = np.repeat(np.arange(4), 25)
    X = np.arange(100).reshape(100, 1).astype(float)
    a = train_test_split(X, y, seed=3)
    b = train_test_split(X, y, seed=3)
    c = train_test_split(X, y, seed=4)
    for u, v in zip(a, b):
        assert np.array_equal(u, v)
    assert not np.array_equal(a[1], c[1])
    # shuffled, not in input order
    assert not (np.diff(a[0][:, 0]) > 0).all()
    assert not (np.diff(a[1][:, 0]) > 0).all()


def test_split_exact_small_case():
    # 5 of class 0, 3 of class 1, 1 of class 2, test_size 0.25:
    # round(1.25) = 1, round(0.75) = 1, singleton -> train
    y = np.array([0] * 5 + [1] * 3 + [2])
    X = np.arange(9)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, seed=0)
    assert np.bincount(y_te, minlength=3).tolist() == [1, 1, 0]
    assert np.bincount(y_tr, minlength=3).tolist() == [4, 2, 1]
    # half up, not to even: 0.5 * 5 = 2.5 -> 3, capped by m - 1 = 4
    _, _, _, y_te = train_test_split(X[:5], y[:5], test_size=0.5, seed=0)
    assert y_te.size == 3


def test_split_works_with_image_arrays_and_string_labels():
    X = np.zeros((10, 1, 2, 2))
    y = np.array(list("aabbbbbccc"))
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, seed=0)
    assert X_tr.shape[1:] == (1, 2, 2) and X_tr.shape[0] + X_te.shape[0] == 10
    assert sorted(y_te.tolist()) == ["a", "b", "b", "c"]  # round(.6)=1, round(1.5)=2, round(.9)=1


@pytest.mark.parametrize(
    "X,y,kwargs,err,match",
    [
        (np.zeros((4, 1)), np.zeros(4), dict(test_size=0), InputError, "0 < test_size < 1, got 0"),
        (np.zeros((4, 1)), np.zeros(4), dict(test_size=1.0), InputError, "test_size"),
        (np.zeros((4, 1)), np.zeros(4), dict(test_size=True), InputError, "test_size"),
        (np.zeros((4, 1)), np.zeros(4), dict(test_size="0.2"), InputError, "test_size"),
        (np.zeros((4, 1)), np.zeros(3), {}, InputError, "same length, got 4 and 3"),
        (np.zeros((4, 1)), np.zeros((4, 1)), {}, InputError, r"y must be 1-D of shape \(n,\), got shape \(4, 1\)"),
        (np.float64(1.0), np.zeros(1), {}, InputError, "0-D"),
        (np.zeros((0, 2)), np.zeros(0), {}, DataError, "no samples"),
        (np.zeros((3, 1)), np.array([0, 1, 2]), {}, DataError, "every one of the 3 classes has a single sample"),
        (np.zeros((1, 1)), np.zeros(1), dict(stratify=False), DataError, "at least 2 samples"),
    ],
)
def test_split_errors(X, y, kwargs, err, match):
    with pytest.raises(err, match=match):
        train_test_split(X, y, seed=0, **kwargs)


def test_split_bad_seed():
    with pytest.raises(InputTypeError, match="seed"):
        train_test_split(np.zeros((4, 1)), np.zeros(4), seed=0.5)


# ----------------------------------------------------------------------------- one_hot


@settings(max_examples=50, deadline=None)
@given(labels=st.lists(st.integers(0, 6), min_size=1, max_size=30), pad=st.integers(0, 3))
def test_one_hot_matches_identity_rows(labels, pad):
    y = np.array(labels, dtype=np.int32)
    k = max(labels) + 1 + pad
    out = one_hot(y, n_classes=k)
    assert out.shape == (len(labels), k) and out.dtype == np.float64
    np.testing.assert_array_equal(out, np.eye(k)[labels])
    np.testing.assert_array_equal(out.argmax(axis=1), y)
    assert one_hot(y).shape == (len(labels), max(labels) + 1)


def test_one_hot_dtype_and_empty():
    assert one_hot(np.array([1], dtype=np.uint8), 2, dtype=np.float32).dtype == np.float32
    assert one_hot(np.array([], dtype=np.int64), 3).shape == (0, 3)


@pytest.mark.parametrize(
    "y,kwargs,err,match",
    [
        ([0, 1, -1], dict(n_classes=3), InputError, r"label -1 at index 2 is out of range \[0, 3\)"),
        ([0, 5, 1], dict(n_classes=3), InputError, r"label 5 at index 1 is out of range \[0, 3\)"),
        ([-2, 0], {}, InputError, "label -2 at index 0"),
        ([0.0, 1.0], {}, InputTypeError, "y must have an integer dtype, got float64"),
        ([True, False], {}, InputTypeError, "integer dtype, got bool"),
        ([[0, 1]], {}, InputError, r"y must be 1-D"),
        (np.array([], dtype=np.int64), {}, InputError, "cannot infer n_classes"),
        ([0], dict(n_classes=0), InputError, "n_classes must be >= 1, got 0"),
        ([0], dict(n_classes=2.0), InputTypeError, "n_classes must be an int"),
        ([0], dict(n_classes=2, dtype=object), InputTypeError, "dtype must be a numeric"),
    ],
)
def test_one_hot_errors(y, kwargs, err, match):
    with pytest.raises(err, match=match):
        one_hot(y, **kwargs)


# ----------------------------------------------------------------------------- check_dataset


def test_check_dataset_accepts_valid():
    check_dataset(np.zeros((3, 2)), np.array([0, 1, 0]))
    check_dataset(np.zeros((3, 1, 2, 2), np.float32), np.zeros((3, 4)))


@pytest.mark.parametrize(
    "X,y,err,match",
    [
        (np.zeros((0, 2)), np.zeros(0, np.int64), DataError, r"X_train: empty dataset"),
        (np.array([[0.0, 1.0], [np.nan, 0.0], [np.inf, 0]]), np.zeros(3, np.int64), DataError,
         r"X_train: 2 non-finite values \(NaN or inf\), first in sample 1"),
        (np.zeros((2, 2)), np.array([0.0, -np.inf]), DataError, r"y_train: 1 non-finite value .*sample 1"),
        (np.zeros((3, 2)), np.zeros(2, np.int64), InputError, r"y_train: expected 3 rows to match X_train, got 2"),
        (np.zeros((3, 2), np.int64), np.zeros(3, np.int64), InputTypeError, "X_train: expected a floating array"),
        (np.zeros(3), np.zeros(3, np.int64), InputError, r"X_train: expected a batch-first array"),
        (np.zeros((3, 2)), np.int64(1), InputError, "y_train: .*0-D"),
        (np.zeros((3, 2)), np.array(["a", "b", "c"]), InputTypeError, "y_train: expected integer labels"),
    ],
)
def test_check_dataset_errors(X, y, err, match):
    with pytest.raises(err, match=match):
        check_dataset(X, y, name="X_train")


def test_check_dataset_default_names():
    with pytest.raises(InputError, match=r"^y: expected 2 rows to match X"):
        check_dataset(np.zeros((2, 1)), np.zeros(1, np.int64))
    with pytest.raises(InputError, match="labels of batch"):
        check_dataset(np.zeros((2, 1)), np.zeros(1, np.int64), name="batch")


# ----------------------------------------------------------------------------- load_dataset


def test_load_dataset_digits():
    ds = load_dataset("digits", seed=0)
    assert isinstance(ds, Dataset)
    assert ds.name == "digits" and ds.n_classes == 10 and ds.input_shape == (64,)
    assert ds.X_train.shape[0] + ds.X_test.shape[0] == 1797
    assert ds.X_train.shape[1:] == ds.X_test.shape[1:] == (64,)
    # stratified 80/20 per class
    _, y_all = digits()
    for c, m in enumerate(np.bincount(y_all)):
        assert int(np.sum(ds.y_test == c)) == _expected_test_count(int(m), 0.2)
    assert 0.0 <= ds.X_train.min() and ds.X_train.max() <= 1.0
    # same seed, same split; another seed, another split
    assert np.array_equal(load_dataset("digits", seed=0).y_test, ds.y_test)
    assert not np.array_equal(load_dataset("digits", seed=1).y_test, ds.y_test)


def test_load_dataset_digits_image_symmetric():
    ds = load_dataset("digits-image", seed=2, scale="symmetric", dtype=np.float32)
    assert ds.input_shape == (1, 8, 8) and ds.X_train.shape[1:] == (1, 8, 8)
    assert ds.X_train.dtype == np.float32 and ds.X_train.min() == -1.0
    assert ds.y_train.dtype == np.int64


def test_load_dataset_xor():
    ds = load_dataset("xor")
    X, y = xor()
    assert np.array_equal(ds.X_train, X) and np.array_equal(ds.X_test, X)
    assert np.array_equal(ds.y_train, y) and np.array_equal(ds.y_test, y)
    assert ds.n_classes == 2 and ds.input_shape == (2,)
    sym = load_dataset("xor", scale="symmetric")
    assert np.array_equal(sym.X_train, 2 * X - 1)


def test_load_dataset_spirals():
    ds = load_dataset("spirals", seed=5, n_samples=100)
    assert ds.X_train.shape == (80, 2) and ds.X_test.shape == (20, 2)
    assert np.bincount(ds.y_test).tolist() == [10, 10]
    assert ds.n_classes == 2 and ds.input_shape == (2,)
    again = load_dataset("spirals", seed=5, n_samples=100)
    other = load_dataset("spirals", seed=6, n_samples=100)
    assert np.array_equal(again.X_train, ds.X_train)
    assert not np.array_equal(other.X_train, ds.X_train)
    assert load_dataset("spirals").X_train.shape == (320, 2)


def test_load_dataset_mnist(tmp_path):
    data = _mnist_dir(tmp_path, _DASH, gz=True)
    ds = load_dataset(f"mnist:{tmp_path}", n_classes=10)  # 10 random labels leave classes empty
    assert ds.X_train.shape == (6, 1, 5, 3) and ds.X_test.shape == (4, 1, 5, 3)
    assert ds.input_shape == (1, 5, 3)
    assert ds.name == f"mnist:{tmp_path}"
    assert ds.n_classes == 10
    np.testing.assert_array_equal(ds.y_test, data["test-labels"])


def test_load_dataset_mnist_shape_mismatch(tmp_path):
    _mnist_dir(tmp_path, {k: v for k, v in _DASH.items() if k.startswith("train")})
    _mnist_dir(tmp_path, {k: v for k, v in _DASH.items() if k.startswith("test")}, h=4)
    with pytest.raises(DataError, match="train images have shape"):
        load_dataset(f"mnist:{tmp_path}")


@pytest.mark.parametrize(
    "spec,kwargs,err,match",
    [
        ("iris", {}, InputError,
         "unknown dataset spec 'iris'; expected one of 'digits', 'digits-image', 'xor', 'spirals', 'mnist:PATH'"),
        ("mnist", {}, InputError, "needs a directory after the colon"),
        ("mnist:", {}, InputError, "needs a directory after the colon"),
        ("digits", dict(n_samples=10), InputError, "n_samples applies only to 'spirals'"),
        ("digits", dict(scale="none"), InputError, "scale must be one of"),
        ("xor", dict(dtype=np.int64), InputTypeError, "dtype must be a floating"),
        (3, {}, InputTypeError, "spec must be a str"),
    ],
)
def test_load_dataset_errors(spec, kwargs, err, match):
    with pytest.raises(err, match=match):
        load_dataset(spec, **kwargs)


def test_load_dataset_mnist_missing(tmp_path):
    with pytest.raises(DataError, match="looked for train-images-idx3-ubyte"):
        load_dataset(f"mnist:{tmp_path}")


def test_dataset_specs_all_named_in_docs():
    assert DATASET_SPECS == ("digits", "digits-image", "xor", "spirals", "mnist:PATH", "csv:PATH", "npz:PATH",
                             "mnist1d")
