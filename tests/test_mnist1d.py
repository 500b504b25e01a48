"""MNIST-1D: generated offline with the package's make_dataset, cached on disk, named everywhere
data is named (load_dataset, dataset_info, the config's [data], `graphnet train --data`)."""

from __future__ import annotations

import random
import sys
import threading

import numpy as np
import pytest

import graphnet.mnist1d as m
from graphnet.cli import main
from graphnet.data import DATASET_SPECS, dataset_info, load_dataset
from graphnet.errors import ConfigError, DataError, InputError, InputTypeError
from graphnet.lab.config import parse_config
from graphnet.lab.start import load_data

mnist1d_data = pytest.importorskip("mnist1d.data")

SMALL = {"num_samples": 100}  # 80 train / 20 test: quick to generate


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    """Each test its own cache folder and an empty memory cache."""
    monkeypatch.setenv("GRAPHNET_CACHE", str(tmp_path / "cache"))
    m._arrays.cache_clear()
    yield tmp_path / "cache" / "mnist1d"
    m._arrays.cache_clear()


@pytest.fixture(scope="module")
def standard():
    """The standard set, generated once for the module (no disk cache)."""
    return m.load_mnist1d(cache=False)


def _no_generation(monkeypatch):
    """Make any call of the package's generator fail: what follows must come from a cache."""
    def refuse(*a, **k):
        raise AssertionError("make_dataset was called")

    monkeypatch.setattr(mnist1d_data, "make_dataset", refuse)


# ----------------------------------------------------------------------------- the published data


def test_standard_arguments_are_the_packages_defaults():
    pkg = mnist1d_data.get_dataset_args(as_dict=True)
    pkg.pop("url")
    assert m.MNIST1D_ARGS == pkg
    assert m.check_mnist1d_args() == pkg


def test_standard_set_reproduces_the_published_data(standard):
    # figures read from the published mnist1d_data.pkl (github.com/greydanus/mnist1d)
    X, y, X_test, y_test = standard
    assert X.shape == (4000, 40) and X_test.shape == (1000, 40)
    assert X.dtype == np.float64 and y.dtype == np.int64 and y_test.dtype == np.int64
    assert np.bincount(y).tolist() == [398, 396, 411, 394, 394, 402, 401, 404, 402, 398]
    assert np.bincount(y_test).tolist() == [102, 104, 89, 106, 106, 98, 99, 96, 98, 102]
    assert y[:12].tolist() == [2, 6, 4, 5, 6, 6, 6, 0, 3, 1, 6, 9]
    assert y_test[:12].tolist() == [2, 6, 3, 9, 4, 3, 1, 9, 5, 2, 0, 7]
    np.testing.assert_allclose(X[0, :4], [-0.3320056673693902, -0.4719103656557236,
                                          -0.778697076293495, -1.0097408265367047], rtol=0, atol=1e-12)
    np.testing.assert_allclose(X_test[-1, -3:], [0.6598756470890784, 0.8777343497528006,
                                                 1.193151836835276], rtol=0, atol=1e-12)
    assert X.sum() == pytest.approx(-51.78746787509559, abs=1e-9)
    assert np.abs(X).sum() == pytest.approx(118338.29510719894, abs=1e-8)
    both = np.concatenate([X, X_test])
    assert abs(both.mean()) < 1e-12 and both.std() == pytest.approx(1.0, abs=1e-12)


def test_same_arguments_same_bits_other_arguments_other_data(standard):
    a = m.load_mnist1d(SMALL, cache=False)
    b = m.load_mnist1d(SMALL, cache=False)
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    seed = m.load_mnist1d({**SMALL, "seed": 7}, cache=False)
    assert not np.array_equal(seed[0], a[0])
    shuffled = m.load_mnist1d({**SMALL, "shuffle_seq": True}, cache=False)
    assert np.array_equal(shuffled[1], a[1])  # the same samples, their 40 positions permuted
    assert not np.array_equal(shuffled[0], a[0])
    assert np.allclose(np.sort(shuffled[0], axis=1), np.sort(a[0], axis=1))
    short = m.load_mnist1d({**SMALL, "final_seq_length": 24, "train_split": 0.5}, cache=False)
    assert short[0].shape == (50, 24) and short[2].shape == (50, 24)


def test_float32():
    X, y, X_test, _ = m.load_mnist1d(SMALL, dtype=np.float32)
    assert X.dtype == np.float32 and X_test.dtype == np.float32 and y.dtype == np.int64
    with pytest.raises(InputTypeError, match="load_mnist1d"):
        m.load_mnist1d(SMALL, dtype=np.int64)


# ----------------------------------------------------------------------------- global random state


def test_generation_leaves_the_global_random_states_unchanged():
    random.seed(123)
    np.random.seed(456)
    want_py, want_np = random.random(), np.random.rand(3)
    random.seed(123)
    np.random.seed(456)
    py_state, np_state = random.getstate(), np.random.get_state()
    m.load_mnist1d(SMALL, cache=False)
    assert random.getstate() == py_state
    after = np.random.get_state()
    assert after[0] == np_state[0] and np.array_equal(after[1], np_state[1]) and after[2:] == np_state[2:]
    assert random.random() == want_py and np.array_equal(np.random.rand(3), want_np)


def test_global_states_restored_when_the_generator_fails(monkeypatch):
    def fails(args):
        random.seed(0)
        np.random.seed(0)
        raise RuntimeError("boom")

    monkeypatch.setattr(mnist1d_data, "make_dataset", fails)
    random.seed(5)
    np.random.seed(5)
    py_state, np_draw = random.getstate(), np.random.rand()
    np.random.seed(5)
    with pytest.raises(RuntimeError, match="boom"):
        m.load_mnist1d(SMALL, cache=False)
    assert random.getstate() == py_state and np.random.rand() == np_draw


def test_threads_generating_at_once_get_the_same_data():
    out = [None] * 4

    def run(k):
        out[k] = m.load_mnist1d({**SMALL, "seed": 3}, cache=False)[0]

    threads = [threading.Thread(target=run, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(np.array_equal(x, out[0]) for x in out)


def test_a_missing_package_is_named(monkeypatch):
    monkeypatch.setitem(sys.modules, "mnist1d.data", None)
    with pytest.raises(ModuleNotFoundError, match="generating MNIST-1D needs the mnist1d package"):
        m.load_mnist1d(SMALL, cache=False)


def test_the_download_path_is_never_called(monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("get_dataset called")

    monkeypatch.setattr(mnist1d_data, "get_dataset", refuse)
    monkeypatch.setattr("mnist1d.get_dataset", refuse)
    m.load_mnist1d(SMALL)


# ----------------------------------------------------------------------------- the disk cache


def test_cache_is_written_then_read_without_generating(cache, monkeypatch):
    first = m.load_mnist1d(SMALL)
    path = m.cache_path(SMALL)
    assert path.parent == cache and path.is_file()
    assert [p.name for p in cache.iterdir()] == [path.name]  # no temporary left behind
    m._arrays.cache_clear()
    _no_generation(monkeypatch)
    again = m.load_mnist1d(SMALL)
    assert all(np.array_equal(u, v) for u, v in zip(first, again))


def test_returned_arrays_are_the_callers_own():
    X, y, _, _ = m.load_mnist1d(SMALL)
    X[:] = 0
    y[:] = 0
    X2, y2, _, _ = m.load_mnist1d(SMALL)
    assert X2.any() and y2.any()


def test_cache_key_follows_the_arguments():
    assert m.cache_path(SMALL) == m.cache_path({"num_samples": 100, "seed": 42})
    paths = {m.cache_path(a) for a in (SMALL, {**SMALL, "seed": 1}, {**SMALL, "shuffle_seq": True}, None)}
    assert len(paths) == 4


@pytest.mark.parametrize("damage", ["garbage", "truncated", "tampered", "other-args", "empty"])
def test_a_corrupt_cache_file_is_regenerated(damage, monkeypatch):
    good = m.load_mnist1d(SMALL)
    path = m.cache_path(SMALL)
    raw = path.read_bytes()
    if damage == "garbage":
        path.write_bytes(b"not an npz file")
    elif damage == "truncated":
        path.write_bytes(raw[: len(raw) // 2])
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        with np.load(path) as f:
            arrays = {k: f[k] for k in f.files}
        if damage == "tampered":
            arrays["x"] = arrays["x"].copy()
            arrays["x"][0, 0] += 1.0  # the sha256 no longer matches
        else:  # a whole file of other arguments under this name
            m.load_mnist1d({**SMALL, "seed": 1})
            with np.load(m.cache_path({**SMALL, "seed": 1})) as f:
                arrays = {k: f[k] for k in f.files}
        np.savez(path, **arrays)
    m._arrays.cache_clear()
    again = m.load_mnist1d(SMALL)
    assert all(np.array_equal(u, v) for u, v in zip(good, again))
    m._arrays.cache_clear()
    _no_generation(monkeypatch)  # and the file was replaced by a good one
    assert np.array_equal(m.load_mnist1d(SMALL)[0], good[0])


def test_an_unwritable_cache_warns_and_still_loads(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("GRAPHNET_CACHE", str(blocker))
    with pytest.warns(UserWarning, match="cannot cache the data"):
        X = m.load_mnist1d(SMALL)[0]
    assert X.shape == (80, 40)


def test_cache_folder_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("GRAPHNET_CACHE", str(tmp_path / "own"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert m.cache_dir() == tmp_path / "own" / "mnist1d"
    monkeypatch.setenv("GRAPHNET_CACHE", "")
    assert m.cache_dir() == tmp_path / "xdg" / "graphnet" / "mnist1d"
    monkeypatch.delenv("GRAPHNET_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert m.cache_dir() == tmp_path / "home" / ".cache" / "graphnet" / "mnist1d"


# ----------------------------------------------------------------------------- arguments


@pytest.mark.parametrize("args, err, match", [
    ({"colour": 1}, InputError, r"mnist1d: colour: unknown argument; expected one of num_samples"),
    ({"num_samples": 10}, InputError, r"num_samples: expected an integer >= 20, got 10"),
    ({"num_samples": 105}, InputError, r"num_samples: expected a multiple of 10, got 105"),
    ({"num_samples": 100.0}, InputTypeError, r"num_samples: expected an integer, got float"),
    ({"train_split": 1.0}, InputError, r"train_split: expected a number in \(0, 1\), got 1.0"),
    ({"train_split": 0.0001}, InputError, r"leaves 0 for training; expected both parts non-empty"),
    ({"train_split": float("nan")}, InputTypeError, r"train_split: expected a finite number"),
    ({"padding": [5]}, InputTypeError, r"padding: expected \[low, high\], two integers"),
    ({"padding": [6, 5]}, InputError, r"padding: expected 0 <= low <= high, got \[6, 5\]"),
    ({"shuffle_seq": "yes"}, InputTypeError, r"shuffle_seq: expected true or false"),
    ({"seed": 2**32}, InputError, r"seed: expected an integer in \[0, 4294967295\]"),
    ({"seed": True}, InputTypeError, r"seed: expected an integer, got bool"),
    ({"scale_coeff": 2}, InputError, r"scale_coeff: expected a number in \[0, 2\)"),
    ({"max_translation": 0}, InputError, r"max_translation: expected an integer >= 1"),
    ({"iid_noise_scale": -0.1}, InputError, r"iid_noise_scale: expected a number >= 0"),
    ([("seed", 1)], InputTypeError, r"mnist1d: expected a dict of generator arguments"),
])
def test_bad_arguments_are_named(args, err, match):
    with pytest.raises(err, match=match):
        m.check_mnist1d_args(args)


def test_checked_arguments_do_not_share_lists():
    a = m.check_mnist1d_args()
    a["padding"].append(1)
    assert m.MNIST1D_ARGS["padding"] == [36, 60] and m.check_mnist1d_args()["padding"] == [36, 60]


# ----------------------------------------------------------------------------- load_dataset


def test_load_dataset_mnist1d_is_the_packages_split():
    assert "mnist1d" in DATASET_SPECS
    ds = load_dataset("mnist1d", mnist1d_args=SMALL, seed=3, test_size=0.5)  # seed, test_size: unused
    X, y, X_test, y_test = m.load_mnist1d(SMALL)
    assert ds.name == "mnist1d" and ds.n_classes == 10 and ds.input_shape == (40,)
    assert np.array_equal(ds.X_train, X) and np.array_equal(ds.y_train, y)
    assert np.array_equal(ds.X_test, X_test) and np.array_equal(ds.y_test, y_test)
    assert dataset_info("mnist1d", mnist1d_args=SMALL) == {"input_shape": (40,), "n_classes": 10}
    info = dataset_info("mnist1d", mnist1d_args={**SMALL, "final_seq_length": 30})
    assert info == {"input_shape": (30,), "n_classes": 10}


@pytest.mark.parametrize("spec, kwargs, match", [
    ("mnist1d", dict(mnist1d_args={"seed": -1}), r"load_dataset: mnist1d_args.seed: expected an integer"),
    ("mnist1d", dict(n_samples=10), r"n_samples applies only to 'spirals'"),
    ("mnist1d", dict(n_classes=10), r"n_classes applies only to mnist, csv and npz"),
    ("digits", dict(mnist1d_args={}), r"mnist1d_args applies only to 'mnist1d', got mnist1d_args=\{\} for 'digits'"),
    ("mnist1d:x", {}, r"unknown dataset spec 'mnist1d:x'"),
])
def test_load_dataset_mnist1d_errors(spec, kwargs, match):
    with pytest.raises(InputError, match=match):
        load_dataset(spec, **kwargs)


def test_dataset_info_mnist1d_errors():
    with pytest.raises(InputError, match=r"mnist1d_args.seed: expected an integer"):
        dataset_info("mnist1d", mnist1d_args={"seed": -1})
    with pytest.raises(InputError, match=r"mnist1d_args applies only to 'mnist1d'"):
        dataset_info("xor", mnist1d_args={})
    with pytest.raises(InputError, match=r"n_classes applies only to mnist, csv and npz"):
        dataset_info("mnist1d", n_classes=10)


def test_labels_are_checked_as_for_every_dataset(monkeypatch):
    X, y, X_test, y_test = m.load_mnist1d(SMALL)
    y_test = y_test.copy()
    y_test[4] = 10
    monkeypatch.setattr("graphnet.data.load_mnist1d", lambda args, dtype: (X, y, X_test, y_test))
    with pytest.raises(DataError, match="mnist1d test: label 10 at index 4 is out of range"):
        load_dataset("mnist1d")


# ----------------------------------------------------------------------------- the lab


def test_config_takes_the_generator_arguments_and_round_trips():
    cfg = parse_config('[data]\ndataset = "mnist1d"\nvalidation = 0.25\n'
                       'mnist1d = { num_samples = 100, shuffle_seq = true }\n')
    assert cfg["data"]["mnist1d"] == {**m.MNIST1D_ARGS, "num_samples": 100, "shuffle_seq": True}
    assert cfg["network"]["sizes"][0] == 40 and cfg["network"]["sizes"][-1] == 10
    text = cfg.to_toml()
    assert "[data.mnist1d]" in text and cfg.matches(text)
    assert parse_config(text)["data"] == cfg["data"]
    default = parse_config('[data]\ndataset = "mnist1d"\n')
    assert default["data"]["mnist1d"] == m.MNIST1D_ARGS


def test_lab_validation_comes_from_the_train_part():
    cfg = parse_config('[data]\ndataset = "mnist1d"\nvalidation = 0.25\nmnist1d = { num_samples = 100 }\n')
    X, y, X_test, y_test = m.load_mnist1d(SMALL)
    d = load_data(cfg["data"], seed=0)
    assert d.input_shape == (40,) and d.n_classes == 10
    assert len(d.X_train) == 60 and len(d.X_val) == 20
    assert np.array_equal(d.X_test, X_test) and np.array_equal(d.y_test, y_test)
    # train + validation are the package's train part, re-ordered
    both = np.concatenate([d.X_train, d.X_val])
    assert np.array_equal(both[np.lexsort(both.T)], X[np.lexsort(X.T)])
    X_img, X_val_img, X_test_img = d.view("image")
    assert X_img.shape == (60, 1, 40) and X_val_img.shape == (20, 1, 40) and X_test_img.shape == (20, 1, 40)
    assert np.array_equal(X_img[:, 0], d.X_train)
    assert d.view("flat")[0].shape == (60, 40)


@pytest.mark.parametrize("text, match", [
    ('mnist1d = { colour = 1 }', r"x.toml: \[data\] mnist1d.colour: unknown argument"),
    ('mnist1d = { seed = -3 }', r"x.toml: \[data\] mnist1d.seed: expected an integer in \[0, 4294967295\], got -3"),
    ('mnist1d = { shuffle_seq = 1 }', r"\[data\] mnist1d.shuffle_seq: expected true or false"),
    ('mnist1d = { num_samples = 1001 }', r"\[data\] mnist1d.num_samples: expected a multiple of 10"),
    ('mnist1d = 3', r"\[data\] mnist1d: expected a table, got"),
])
def test_config_errors_name_the_key(text, match):
    with pytest.raises(ConfigError, match=match):
        parse_config(f'[data]\ndataset = "mnist1d"\n{text}\n', source="x.toml")


def test_config_refuses_generator_arguments_for_other_data():
    with pytest.raises(ConfigError, match=r"\[data\] mnist1d: applies only to dataset 'mnist1d', not 'xor'"):
        parse_config('[data]\ndataset = "xor"\nmnist1d = { seed = 1 }\n')
    with pytest.raises(ConfigError, match=r"\[data\] dataset: expected 'digits', 'xor', 'spirals', 'mnist1d'"):
        parse_config('[data]\ndataset = "mnist1d:x"\n')


# ----------------------------------------------------------------------------- the command


def test_cli_train_on_mnist1d(capsys, standard, monkeypatch):
    monkeypatch.setattr("graphnet.data.load_mnist1d", lambda args, dtype: tuple(
        a.astype(dtype) if a.dtype.kind == "f" else a for a in standard))
    assert main(["train", "--data", "mnist1d", "--model", "mlp", "--epochs", "1", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "mlp on mnist1d (4000 train, 1000 test)" in out and "batch 100" in out


def test_cli_refuses_a_path_after_mnist1d(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["train", "--data", "mnist1d:foo"])
    assert exc.value.code == 2
    assert "expected digits, xor, spirals, mnist1d, mnist:PATH" in capsys.readouterr().err
