"""MNIST-1D (Greydanus & Kobak, ICML 2024), generated offline and cached on disk.

The ``mnist1d`` package builds the data from ten 1-D templates with its
``make_dataset(args)``; :func:`load_mnist1d` calls it with the package's own
``get_dataset_args()`` updated by the caller's arguments. Its ``get_dataset`` (which
downloads by default) is never called. The standard arguments (:data:`MNIST1D_ARGS`:
5000 samples, 4000 train / 1000 test, length 40, 10 classes, seed 42) give the published
``mnist1d_data.pkl``: the same labels, samples equal to within 1e-15.

``make_dataset`` seeds and draws from Python's ``random`` and numpy's global
``np.random``; both states are saved before the call and restored after it, under a lock,
so generating leaves the caller's global random state as it was.

The arrays are cached as ``<cache>/mnist1d/<key>.npz``, the key a hash of the arguments and
the package's version; ``<cache>`` is ``$GRAPHNET_CACHE``, else ``$XDG_CACHE_HOME/graphnet``,
else ``~/.cache/graphnet`` (:func:`cache_dir`). A file is written atomically and checked
whole when read (arguments, shapes, labels, a sha256 of the arrays); one that fails any
check is regenerated, never trusted.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import math
import os
import random
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from graphnet._checks import float_dtype, is_int, is_real
from graphnet.errors import InputError, InputTypeError
from graphnet.fileio import atomic_write

__all__ = ["MNIST1D_ARGS", "N_CLASSES", "check_mnist1d_args", "load_mnist1d", "cache_dir", "cache_path"]

#: Number of classes (the package's ten digit templates).
N_CLASSES = 10
#: Version of the cache file's layout; part of the key.
_FORMAT = 1
_SEED_MAX = 2**32 - 1  # numpy's legacy seeding takes 0 .. 2**32 - 1


@dataclass(frozen=True)
class _Arg:
    """One generator argument: its default (the package's), its kind and its range."""

    default: object
    kind: str  # "int", "float", "bool" or "pair" (two ints, low <= high)
    low: float = 0
    low_open: bool = False
    high: float | None = None
    high_open: bool = True


#: The arguments of ``mnist1d.data.make_dataset`` that :func:`load_mnist1d` takes, declared
#: once: default (equal to ``get_dataset_args()``), type and range; the config and the
#: loader check with it.
_ARGS = {
    "num_samples": _Arg(5000, "int", low=20),  # train + test, a multiple of 10
    "train_split": _Arg(0.8, "float", low=0, low_open=True, high=1),  # the train fraction
    "template_len": _Arg(12, "int", low=1),  # length of the stretched template
    "padding": _Arg([36, 60], "pair"),  # [low, high]: zeros appended before stretching
    "scale_coeff": _Arg(0.4, "float", high=2),  # amplitude factor in 1 +- scale_coeff / 2
    "max_translation": _Arg(48, "int", low=1),  # largest circular shift
    "corr_noise_scale": _Arg(0.25, "float"),  # correlated background noise
    "iid_noise_scale": _Arg(2e-2, "float"),  # white noise
    "shear_scale": _Arg(0.75, "float"),  # linear trend
    "shuffle_seq": _Arg(False, "bool"),  # permute the positions (one permutation for all)
    "final_seq_length": _Arg(40, "int", low=2),  # length of each sample
    "seed": _Arg(42, "int", high=_SEED_MAX, high_open=False),
}

#: The standard arguments: the published MNIST-1D (4000 train / 1000 test, length 40).
MNIST1D_ARGS = {name: (list(a.default) if a.kind == "pair" else a.default) for name, a in _ARGS.items()}

_LOCK = threading.Lock()  # make_dataset runs on the process's global random state


def _check_one(name: str, value, where: str):
    """One argument checked against its declaration; returns it in canonical form."""
    a = _ARGS[name]
    at = f"{where}{name}"
    if a.kind == "bool":
        if not isinstance(value, (bool, np.bool_)):
            raise InputTypeError(f"{at}: expected true or false, got {type(value).__name__} {value!r}")
        return bool(value)
    if a.kind == "pair":
        if (not isinstance(value, (list, tuple)) or len(value) != 2 or not all(is_int(v) for v in value)):
            raise InputTypeError(f"{at}: expected [low, high], two integers, got {value!r}")
        low, high = (int(v) for v in value)
        if not 0 <= low <= high:
            raise InputError(f"{at}: expected 0 <= low <= high, got [{low}, {high}]")
        return [low, high]
    if a.kind == "int" and not is_int(value):
        raise InputTypeError(f"{at}: expected an integer, got {type(value).__name__} {value!r}")
    if a.kind == "float" and not (is_real(value) and math.isfinite(value)):
        raise InputTypeError(f"{at}: expected a finite number, got {type(value).__name__} {value!r}")
    value = int(value) if a.kind == "int" else float(value)
    too_low = value <= a.low if a.low_open else value < a.low
    too_high = a.high is not None and (value >= a.high if a.high_open else value > a.high)
    if too_low or too_high:
        what = "an integer" if a.kind == "int" else "a number"
        if a.high is None:
            what += f" {'>' if a.low_open else '>='} {a.low}"
        else:
            what += f" in {'(' if a.low_open else '['}{a.low}, {a.high}{')' if a.high_open else ']'}"
        raise InputError(f"{at}: expected {what}, got {value!r}")
    return value


def check_mnist1d_args(args: dict | None = None, *, where: str = "mnist1d: ") -> dict:
    """Check MNIST-1D generator arguments and fill in the standard ones.

    Parameters
    ----------
    args : dict, optional
        Any of the keys of :data:`MNIST1D_ARGS`; the others keep their standard values.
        ``num_samples`` must be a multiple of 10 (the package makes ``num_samples // 10``
        samples of each digit) and ``train_split`` must leave both parts non-empty.
    where : str
        Prefix of the messages, before the argument's name (the config passes
        ``"[data] mnist1d."``).

    Returns
    -------
    dict
        Every argument, checked, in :data:`MNIST1D_ARGS`'s order.

    Raises
    ------
    InputError
        An unknown key (the message lists the known ones) or a value out of range.
    InputTypeError
        A value of the wrong type, or ``args`` not a dict.

    Examples
    --------
    >>> a = check_mnist1d_args({"num_samples": 1000, "shuffle_seq": True})
    >>> a["num_samples"], a["shuffle_seq"], a["final_seq_length"], a["seed"]
    (1000, True, 40, 42)
    >>> check_mnist1d_args({"seed": -1})
    Traceback (most recent call last):
    ...
    graphnet.errors.InputError: mnist1d: seed: expected an integer in [0, 4294967295], got -1
    """
    if args is None:
        args = {}
    if not isinstance(args, dict):
        raise InputTypeError(f"{where.rstrip(': .')}: expected a dict of generator arguments, "
                             f"got {type(args).__name__} {args!r}")
    for name in args:
        if name not in _ARGS:
            raise InputError(f"{where}{name}: unknown argument; expected one of {', '.join(_ARGS)}")
    out = {name: _check_one(name, args[name], where) if name in args else MNIST1D_ARGS[name]
           for name in _ARGS}
    if out["num_samples"] % N_CLASSES:
        raise InputError(f"{where}num_samples: expected a multiple of {N_CLASSES}, got {out['num_samples']}")
    n_train = int(out["num_samples"] * out["train_split"])  # the package's split point
    if not 0 < n_train < out["num_samples"]:
        raise InputError(f"{where}train_split: {out['train_split']!r} of {out['num_samples']} samples "
                         f"leaves {n_train} for training; expected both parts non-empty")
    out["padding"] = list(out["padding"])  # never the caller's or MNIST1D_ARGS' own list
    return out


# ----------------------------------------------------------------------------- cache


def cache_dir() -> Path:
    """The folder of the cached MNIST-1D files.

    ``$GRAPHNET_CACHE/mnist1d`` if that variable is set and not empty, else
    ``$XDG_CACHE_HOME/graphnet/mnist1d`` (an absolute path only, as the XDG rules say),
    else ``~/.cache/graphnet/mnist1d``.

    Examples
    --------
    >>> cache_dir().name
    'mnist1d'
    """
    own = os.environ.get("GRAPHNET_CACHE")
    if own:
        return Path(own).expanduser().absolute() / "mnist1d"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "graphnet" / "mnist1d"


def _version() -> str:
    try:
        return importlib.metadata.version("mnist1d")
    except importlib.metadata.PackageNotFoundError:
        return "missing"


def _key(args: dict) -> str:
    """The cache key: a hash of the checked arguments, the package's version and the layout."""
    text = json.dumps({"args": args, "mnist1d": _version(), "format": _FORMAT}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def cache_path(args: dict | None = None) -> Path:
    """The cache file of the data that ``args`` (checked as :func:`check_mnist1d_args`) give.

    Examples
    --------
    >>> p = cache_path({"num_samples": 100})
    >>> p.parent == cache_dir(), p.suffix, p == cache_path({"num_samples": 100})
    (True, '.npz', True)
    >>> p == cache_path()
    False
    """
    return cache_dir() / f"{_key(check_mnist1d_args(args))}.npz"


_KEYS = ("x", "y", "x_test", "y_test")


def _digest(arrays: dict) -> str:
    h = hashlib.sha256()
    for k in _KEYS:
        a = np.ascontiguousarray(arrays[k])
        h.update(f"{k}:{a.dtype.str}:{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _expected_shapes(args: dict) -> dict:
    n_train = int(args["num_samples"] * args["train_split"])
    n_test = args["num_samples"] - n_train
    L = args["final_seq_length"]
    return {"x": (n_train, L), "x_test": (n_test, L), "y": (n_train,), "y_test": (n_test,)}


def _valid(arrays: dict, args: dict) -> bool:
    """Whether arrays (read or generated) are whole MNIST-1D data of ``args``."""
    shapes = _expected_shapes(args)
    for k in _KEYS:
        a = arrays.get(k)
        if not isinstance(a, np.ndarray) or a.shape != shapes[k]:
            return False
        want = "f" if k.startswith("x") else "i"
        if a.dtype.kind != want or (want == "f" and not np.isfinite(a).all()):
            return False
        if want == "i" and a.size and (a.min() < 0 or a.max() >= N_CLASSES):
            return False
    return True


def _read(path: Path, args: dict) -> dict | None:
    """The cached arrays at ``path`` if the file is whole and holds ``args``' data, else None."""
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in (*_KEYS, "args", "sha256")}
        if json.loads(str(arrays.pop("args"))) != args or str(arrays.pop("sha256")) != _digest(arrays):
            return None
    except Exception:  # noqa: BLE001 -- any unreadable file is regenerated, never trusted
        return None
    return arrays if _valid(arrays, args) else None


def _write(path: Path, arrays: dict, args: dict) -> None:
    """Write the arrays atomically; a cache that cannot be written is skipped, with a warning."""
    def write(tmp):
        np.savez(tmp, **arrays, args=np.array(json.dumps(args, sort_keys=True)), sha256=np.array(_digest(arrays)))

    try:
        atomic_write(path, write)
    except OSError as exc:
        warnings.warn(f"load_mnist1d: cannot cache the data at {path} ({exc}); it will be "
                      f"generated again next time (set GRAPHNET_CACHE to a writable folder)", stacklevel=3)


# ----------------------------------------------------------------------------- generation


def _generate(args: dict) -> dict:
    """``mnist1d.data.make_dataset`` on ``args``, the global random states restored after it."""
    # imported here, on a cache miss only: the package imports pyplot and requests
    try:
        from mnist1d.data import get_dataset_args, make_dataset
        from mnist1d.utils import ObjectView
    except ImportError as exc:
        raise ModuleNotFoundError(f"load_mnist1d: generating MNIST-1D needs the mnist1d package "
                                  f"(pip install mnist1d): {exc}") from exc

    pkg_args = get_dataset_args(as_dict=True)
    pkg_args.update(args, padding=list(args["padding"]))
    view = ObjectView(pkg_args)
    with _LOCK:
        py_state, np_state = random.getstate(), np.random.get_state(legacy=False)
        try:
            d = make_dataset(view)
        finally:
            random.setstate(py_state)
            np.random.set_state(np_state)
    arrays = {"x": np.asarray(d["x"], dtype=np.float64), "y": np.asarray(d["y"], dtype=np.int64),
              "x_test": np.asarray(d["x_test"], dtype=np.float64),
              "y_test": np.asarray(d["y_test"], dtype=np.int64)}
    assert _valid(arrays, args), "mnist1d.make_dataset returned arrays of unexpected shapes"
    return arrays


@functools.lru_cache(maxsize=4)
def _arrays(folder: str, key_text: str) -> dict:
    """The read-only arrays of the arguments in ``key_text`` (JSON): memory, then disk, then made."""
    args = json.loads(key_text)
    path = Path(folder) / f"{_key(args)}.npz"
    arrays = _read(path, args)
    if arrays is None:
        arrays = _generate(args)
        _write(path, arrays, args)
    for a in arrays.values():
        a.setflags(write=False)
    return arrays


def load_mnist1d(args: dict | None = None, *, dtype=np.float64, cache: bool = True):
    """MNIST-1D's train and test parts, as the package's own split makes them.

    Parameters
    ----------
    args : dict, optional
        Generator arguments (:func:`check_mnist1d_args`); default: the standard ones, which
        give the published data.
    dtype : floating numpy dtype
        The dtype of the samples (the package makes float64).
    cache : bool
        Read and write the disk cache (:func:`cache_path`); False always generates.

    Returns
    -------
    X_train : ndarray of shape (n_train, final_seq_length)
        Standardised by the package (all samples together: mean 0, standard deviation 1).
    y_train : ndarray of shape (n_train,), int64
        Digits 0..9.
    X_test : ndarray of shape (n_test, final_seq_length)
    y_test : ndarray of shape (n_test,), int64

    Raises
    ------
    InputError, InputTypeError
        As :func:`check_mnist1d_args`, or ``dtype`` not floating.

    Examples
    --------
    >>> X, y, X_test, y_test = load_mnist1d({"num_samples": 100}, cache=False)
    >>> X.shape, y.shape, X_test.shape, y.dtype
    ((80, 40), (80,), (20, 40), dtype('int64'))
    >>> bool((load_mnist1d({"num_samples": 100}, cache=False)[0] == X).all())
    True
    """
    dt = float_dtype(dtype, "load_mnist1d")
    args = check_mnist1d_args(args, where="load_mnist1d: args.")
    if cache:
        arrays = _arrays(str(cache_dir()), json.dumps(args, sort_keys=True))
    else:
        arrays = _generate(args)
    return (arrays["x"].astype(dt), arrays["y"].copy(), arrays["x_test"].astype(dt), arrays["y_test"].copy())
