"""Fail early and clearly: data validated whole, impossible sizes and absurd plans refused
before anything trains or any run directory exists, and the user's own csv / npz files."""

from __future__ import annotations

import re

import numpy as np
import pytest

from graphnet.cli import main
from graphnet.data import load_dataset
from graphnet.errors import ConfigError, DataError
from graphnet.lab.config import load_config, parse_config
from graphnet.lab.runner import run_experiment

from conftest import idx_bytes, run_main

XOR = 'seeds = [0]\nrounds = 0\n[data]\ndataset = "xor"\n[train]\nepochs = 1\n[baselines]\nmodels = []\n'


def _mnist(root, *, train_labels=None, truncate_train=False, n_train=40, n_test=20):
    """A tiny MNIST directory (4x4 images, classes 0..9); returns its path."""
    d = root / "mnist"
    d.mkdir()
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = idx_bytes(rng.integers(0, 256, size=(n, 4, 4)), np.uint8)
        labels = np.arange(n) % 10
        if prefix == "train" and train_labels is not None:
            labels = np.asarray(train_labels)
        if prefix == "train" and truncate_train:
            images = images[:-5]
        (d / f"{prefix}-images-idx3-ubyte").write_bytes(images)
        (d / f"{prefix}-labels-idx1-ubyte").write_bytes(idx_bytes(labels, np.uint8))
    return d


def _mnist_config(tmp_path, extra: str = "") -> str:
    path = tmp_path / "m.toml"
    path.write_text('seeds = [0]\nrounds = 1\n[data]\ndataset = "mnist:mnist"\n' + extra
                    + '[network]\nhidden = [4]\n[train]\nepochs = 1\n[baselines]\nmodels = []\n')
    return str(path)


# ----------------------------------------------------------------------------- IDX, whole


def test_truncated_train_idx_refused_by_config_before_any_run_directory(tmp_path, capsys):
    _mnist(tmp_path, truncate_train=True)
    cfg = _mnist_config(tmp_path)
    with pytest.raises(ConfigError, match=r"\[data\] dataset: .*train-images-idx3-ubyte: .*truncated"):
        load_config(cfg)
    out = tmp_path / "run"
    rc, _, err = run_main(["run", cfg, "--out", str(out), "--no-plots", "--workers", "1"], capsys)
    assert rc == 2 and "train-images-idx3-ubyte" in err and "truncated" in err
    assert not out.exists()


def test_label_255_in_train_split_named_by_config(tmp_path, capsys):
    labels = np.arange(40) % 10
    labels[7] = 255
    _mnist(tmp_path, train_labels=labels)
    cfg = _mnist_config(tmp_path)
    with pytest.raises(ConfigError, match=r"train-labels-idx1-ubyte: label 255 at index 7 implies "
                                          r"256 classes, but classes 10\.\.254 have no sample"):
        load_config(cfg)
    out = tmp_path / "run"
    rc, _, err = run_main(["run", cfg, "--out", str(out), "--no-plots", "--workers", "1"], capsys)
    assert rc == 2 and "label 255 at index 7" in err and "layered sizes" not in err
    assert not out.exists()


def test_label_over_stated_n_classes(tmp_path):
    _mnist(tmp_path)  # labels 0..9
    with pytest.raises(ConfigError, match=r"train-labels-idx1-ubyte: label 8 at index 8 is out of "
                                          r"range for n_classes = 8 \(labels must be 0\.\.7\)"):
        load_config(_mnist_config(tmp_path, "n_classes = 8\n"))
    cfg = load_config(_mnist_config(tmp_path, "n_classes = 12\n"))  # empty classes, stated
    assert cfg.info["n_classes"] == 12


@pytest.mark.parametrize("case", ["label-255", "truncated"])
def test_train_cli_refuses_bad_mnist(tmp_path, capsys, case):
    # (the truncated case was refused on the base too; it guards the order of the checks)
    labels = np.arange(40) % 10
    labels[3] = 255
    if case == "label-255":
        d = _mnist(tmp_path, train_labels=labels)
        fragment = "train-labels-idx1-ubyte: label 255 at index 3"
    else:
        d = _mnist(tmp_path, truncate_train=True)
        fragment = "train-images-idx3-ubyte: expected"
    rc, out, err = run_main(["train", "--model", "mlp", "--data", f"mnist:{d}", "--epochs", "1"], capsys)
    assert rc == 2 and fragment in err
    assert "accuracy" not in out


# ----------------------------------------------------------------------------- sizes, plans


def test_impossible_size_refused_with_an_estimate_before_building(tmp_path, capsys):
    from graphnet.lab.budget import estimate_memory, format_bytes  # (first: fails fast on the base)

    est = estimate_memory({"network": {"start": "layered", "sizes": [784, 10000000, 10]},
                           "train": {"batch_size": 32, "dtype": "float64"}, "baselines": {"models": []}},
                          {"graph_inputs": 784, "n_classes": 10})
    assert format_bytes(est["parts"]["W (n_nodes x n_nodes)"]) == "728 TiB"  # the figure
    with pytest.raises(ConfigError, match=r"\[network\] hidden: a 2-10000000-2 layered network "
                                          r"\(10000004 nodes\) would need about 7\d\d TiB"):
        parse_config(XOR + "[network]\nhidden = [10000000]\n")
    with pytest.raises(ConfigError, match=r"\[network\] sizes: .* TiB"):
        parse_config(XOR + "[network]\nsizes = [2, 10000000, 2]\n")
    cfg = tmp_path / "huge.toml"
    cfg.write_text(XOR + "[network]\nhidden = [10000000]\n")
    out = tmp_path / "run"
    rc, _, err = run_main(["run", str(cfg), "--out", str(out)], capsys)
    assert rc == 2 and re.search(r"\d+ TiB of memory .* more than this machine's [\d.]+ GiB", err)
    assert not out.exists()


def test_absurd_plan_needs_yes(tmp_path, capsys):
    cfg = tmp_path / "long.toml"
    cfg.write_text(XOR.replace("rounds = 0", "rounds = 1000000000"))
    # confirmed: it starts (and is stopped after round 0 here)
    res = run_experiment(parse_config(cfg.read_text()), tmp_path / "yes", plots=False, yes=True,
                         stop_after_round=0)
    assert not res.complete and (tmp_path / "yes" / "metrics.csv").exists()
    out = tmp_path / "run"
    rc, _, err = run_main(["run", str(cfg), "--out", str(out), "--no-plots"], capsys)
    assert rc == 2 and "1000000001 rounds" in err and "limit 100,000" in err and "--yes" in err
    assert not out.exists()
    epochs = parse_config(XOR.replace("rounds = 0", "rounds = 100").replace("epochs = 1", "epochs = 20000"))
    with pytest.raises(ConfigError, match=r"2020000 epochs in all \(limit 1,000,000\)"):
        run_experiment(epochs, tmp_path / "run2", plots=False)
    assert not (tmp_path / "run2").exists()


# ----------------------------------------------------------------------------- csv and npz


def _blobs(n=150, seed=0):
    """Three well-separated classes in 4 features."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    X = rng.normal(scale=0.5, size=(n, 4)) + 4 * np.eye(3, 4)[y]
    return X, y


def _write_csv(path, X, y, header="a,b,c,d,kind", label_first=False):
    lines = [header] if header else []
    for xi, yi in zip(X, y):
        cells = [f"{v:.5f}" for v in xi]
        lines.append(",".join([str(yi), *cells] if label_first else [*cells, str(yi)]))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_csv_and_npz_happy_paths(tmp_path, capsys):
    X, y = _blobs()
    csv_path = _write_csv(tmp_path / "blobs.csv", X, y)
    rc, out, _ = run_main(["train", "--model", "mlp", "--data", f"csv:{csv_path}", "--epochs", "15"], capsys)
    assert rc == 0 and "(120 train, 30 test)" in out
    assert float(re.search(r"test accuracy ([\d.]+)", out).group(1)) >= 0.9
    np.savez(tmp_path / "blobs.npz", X=X, y=y)
    rc, out, _ = run_main(["train", "--model", "mlp", "--data", f"npz:{tmp_path / 'blobs.npz'}",
                       "--epochs", "15"], capsys)
    assert rc == 0 and float(re.search(r"test accuracy ([\d.]+)", out).group(1)) >= 0.9
    # label column named, no header -> last column; split stratified
    _write_csv(tmp_path / "first.csv", X, y, header="kind,a,b,c,d", label_first=True)
    ds = load_dataset(f"csv:{tmp_path / 'first.csv'}", label="kind", seed=1, test_size=0.2)
    assert ds.input_shape == (4,) and ds.n_classes == 3 and np.bincount(ds.y_test).tolist() == [10, 10, 10]
    same = load_dataset(f"npz:{tmp_path / 'blobs.npz'}", seed=1, test_size=0.2)
    np.testing.assert_array_equal(np.sort(ds.X_test[:, 0]), np.sort(same.X_test[:, 0].round(5)))
    # images in an npz: (n, c, h, w) for a CNN
    np.savez(tmp_path / "img.npz", X=np.random.default_rng(0).random((30, 1, 6, 6)), y=np.arange(30) % 2)
    assert load_dataset(f"npz:{tmp_path / 'img.npz'}").input_shape == (1, 6, 6)
    # in a config: a path relative to the config file, label named, a run
    (tmp_path / "sub").mkdir()
    _write_csv(tmp_path / "sub" / "first.csv", X, y, header="kind,a,b,c,d", label_first=True)
    cfg_path = tmp_path / "sub" / "exp.toml"
    cfg_path.write_text(XOR.replace('"xor"', '"csv:first.csv"\nlabel = "kind"')
                        + '[network]\nhidden = [6]\n')
    cfg = load_config(cfg_path)
    assert cfg.info["n_classes"] == 3 and cfg.info["input_shape"] == (4,)
    res = run_experiment(cfg, tmp_path / "run", plots=False)
    assert res.complete


_HEAD = "a,b,kind\n"
_CSV_BAD = [
    ("empty", "", "empty file"),
    ("header-only", _HEAD, "only a header row (a, b, kind)"),
    ("one-column", "1\n0\n", "line 1: found 1 column"),
    ("ragged", _HEAD + "1,2,0\n3,1\n", "line 3: expected 3 columns (as the header), found 2"),
    ("text-cell", _HEAD + "1,2,0\n3,abc,1\n", "line 3, column 2 (b): 'abc' is not a number"),
    ("nan", _HEAD + "1,2,0\nnan,2,1\n", "line 3, column 1 (a): 'nan' is not finite"),
    ("inf", _HEAD + "1,2,0\n1,-inf,1\n", "line 3, column 2 (b): '-inf' is not finite"),
    ("float-label", _HEAD + "1,2,0\n1,2,1.5\n", "line 3, column 3 (kind): label '1.5' is not an integer"),
    ("negative-label", _HEAD + "1,2,0\n1,2,-1\n", "line 3, column 3 (kind): label '-1' is not an integer >= 0"),
    ("text-label", _HEAD + "1,2,0\n1,2,cat\n", "line 3, column 3 (kind): 'cat' is not a number (a label"),
    ("one-class", _HEAD + "1,2,0\n1,3,0\n", "every sample has label 0; expected at least 2 classes"),
    ("gap", _HEAD + "1,2,0\n1,3,1\n0,0,5\n", "line 4: label 5 implies 6 classes, but classes 2..4 have no sample"),
    ("too-few", _HEAD + "1,2,0\n1,3,1\n", "2 samples are too few to split"),
    ("not-utf8", b"a,b,kind\n\xff\xfe,1,0\n", "not a UTF-8 text file"),
]


@pytest.mark.parametrize("name,content,fragment", _CSV_BAD, ids=[c[0] for c in _CSV_BAD])
def test_bad_csv_files(tmp_path, name, content, fragment):
    path = tmp_path / f"{name}.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(DataError) as info:
        load_dataset(f"csv:{path}")
    assert str(path) in str(info.value) and fragment in str(info.value)


def test_bad_csv_label_column_and_config_keys(tmp_path, capsys):
    path = tmp_path / "d.csv"
    path.write_text(_HEAD + "1,2,0\n1,3,1\n2,2,0\n2,3,1\n")
    with pytest.raises(DataError, match=r"no column named 'label' for the label; the header has 'a', 'b', 'kind'"):
        load_dataset(f"csv:{path}", label="label")
    (tmp_path / "n.csv").write_text("1,2,0\n1,3,1\n")
    with pytest.raises(DataError, match="names a column, but the file has no header row"):
        load_dataset(f"csv:{tmp_path / 'n.csv'}", label="kind")
    rc, _, err = run_main(["train", "--model", "mlp", "--data", f"csv:{tmp_path / 'nope.csv'}"], capsys)
    assert rc == 2 and "nope.csv: no such file" in err
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--model", "mlp", "--data", "csv:"])
    assert exit_info.value.code == 2 and "csv needs a file: csv:PATH" in capsys.readouterr().err
    rc, _, err = run_main(["train", "--data", "xor", "--label", "kind"], capsys)
    assert rc == 2 and "--label applies only to --data csv:PATH" in err
    with pytest.raises(ConfigError, match=r"\[data\] dataset: csv file .*missing.csv does not exist"):
        parse_config(XOR.replace('"xor"', '"csv:missing.csv"'), base_dir=str(tmp_path))
    with pytest.raises(ConfigError, match=r"\[data\] label: applies only to csv data"):
        parse_config(XOR.replace('"xor"', '"xor"\nlabel = "kind"'))
    with pytest.raises(ConfigError, match=r"\[data\] n_classes: applies only to mnist, csv and npz"):
        parse_config(XOR.replace('"xor"', '"xor"\nn_classes = 2'))
    with pytest.raises(ConfigError, match=r"d.csv: label 1 at index 1 is out of range for n_classes = 1|"
                                          r"\[data\] n_classes: expected an integer >= 2, got 1"):
        parse_config(XOR.replace('"xor"', f'"csv:{path}"\nn_classes = 1'))


def _npz(path, **arrays):
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)
    return path


_X, _Y = np.arange(20.0).reshape(10, 2), np.arange(10) % 2
_NPZ_BAD = [
    ("text", lambda p: p.write_text("X,y\n1,0\n"), "not a NumPy .npz archive"),
    ("single-array", lambda p: np.save(open(p, "wb"), _X), "holds a single array"),
    ("no-y", lambda p: _npz(p, X=_X, labels=_Y), "no array 'y'; expected arrays 'X' and 'y', found 'X', 'labels'"),
    ("x-3d", lambda p: _npz(p, X=_X.reshape(10, 2, 1), y=_Y), "array 'X' must have shape (n, features) or (n, c, h, w), got shape (10, 2, 1)"),
    ("y-2d", lambda p: _npz(p, X=_X, y=_Y.reshape(10, 1)), "array 'y' must have shape (n,), got shape (10, 1)"),
    ("lengths", lambda p: _npz(p, X=_X, y=_Y[:9]), "array 'X' holds 10 samples but 'y' 9 labels"),
    ("empty", lambda p: _npz(p, X=np.zeros((0, 2)), y=np.zeros(0, int)), "hold no samples"),
    ("nan", lambda p: _npz(p, X=np.where(np.arange(20).reshape(10, 2) == 9, np.nan, _X), y=_Y),
     "array 'X' has a non-finite value (NaN or inf) in sample 4"),
    ("x-text", lambda p: _npz(p, X=np.array([["a", "b"]] * 10), y=_Y), "array 'X' must be numeric"),
    ("y-float", lambda p: _npz(p, X=_X, y=np.array([0, 1, 0.5, 1, 0, 1, 0, 1, 0, 1])),
     "array 'y': label 0.5 at index 2 is not an integer"),
    ("y-negative", lambda p: _npz(p, X=_X, y=_Y - 1), "array 'y': label -1 at index 0 is negative"),
    ("object", lambda p: _npz(p, X=np.array([[1, None]] * 10, dtype=object), y=_Y), "without pickle"),
    ("one-class", lambda p: _npz(p, X=_X, y=np.zeros(10, int)), "every sample has label 0"),
    ("gap", lambda p: _npz(p, X=_X, y=np.array([0, 1] * 4 + [0, 7])),
     "array 'y' index 9: label 7 implies 8 classes, but classes 2..6 have no sample"),
]


@pytest.mark.parametrize("name,write,fragment", _NPZ_BAD, ids=[c[0] for c in _NPZ_BAD])
def test_bad_npz_files(tmp_path, name, write, fragment):
    path = tmp_path / f"{name}.npz"
    write(path)
    with pytest.raises(DataError) as info:
        load_dataset(f"npz:{path}")
    assert str(path) in str(info.value) and fragment in str(info.value)


def test_bad_npz_through_cli_and_config(tmp_path, capsys):
    path = _npz(tmp_path / "d.npz", X=_X, y=_Y[:9])
    rc, _, err = run_main(["train", "--model", "mlp", "--data", f"npz:{path}"], capsys)
    assert rc == 2 and "holds 10 samples but 'y' 9 labels" in err
    cfg = tmp_path / "c.toml"
    cfg.write_text(XOR.replace('"xor"', '"npz:d.npz"'))
    with pytest.raises(ConfigError, match=r"c.toml: \[data\] dataset: cannot use the npz data: .*d.npz"):
        load_config(cfg)


def test_config_refuses_a_file_too_small_to_split(tmp_path):
    (tmp_path / "two.csv").write_text("1,2,0\n1,3,1\n")
    with pytest.raises(ConfigError, match=r"\[data\] dataset: .*two.csv: 2 samples are too few to split"):
        parse_config(XOR.replace('"xor"', '"csv:two.csv"'), base_dir=str(tmp_path))


def test_npz_and_csv_are_copied_once_per_load(tmp_path):
    # the cache hands out a fresh copy; converting it to the same dtype must not copy again
    import tracemalloc

    from graphnet.datafiles import load_csv, load_npz

    X = np.random.default_rng(0).normal(size=(20000, 50))  # 8 MB
    y = np.arange(20000) % 2
    np.savez(tmp_path / "big.npz", X=X, y=y)
    np.savetxt(tmp_path / "big.csv", np.column_stack([X[:2000], y[:2000]]), delimiter=",",
               fmt=["%.6f"] * 50 + ["%d"])
    for load, path, nbytes in ((load_npz, tmp_path / "big.npz", X.nbytes),
                               (load_csv, tmp_path / "big.csv", X[:2000].nbytes)):
        load(path)  # fills the cache
        tracemalloc.start()
        try:
            back, _ = load(path)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert back.shape[0] in (20000, 2000)
        assert peak < 1.5 * nbytes, (load.__name__, peak, nbytes)
