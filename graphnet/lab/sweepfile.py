"""Sweep files: a base experiment plus axes of overrides by dotted key, checked whole.

A sweep file is an experiment config (any of its keys) plus a ``[sweep]`` table::

    name = "sweep_prune"              # default: the sweep file's stem
    seeds = [0, 1, 2]                 # experiment keys override the base's
    [train]
    epochs = 4

    [sweep]
    base = "digits.toml"              # optional, relative to the sweep file
    mode = "grid"                     # or "zip": the axes' values in pairs
    [sweep.axes]
    "train.lr" = [1e-3, 3e-3]
    "mutation.schedule.0.a.quantile" = [0.1, 0.2, 0.3]
    "network.hidden" = [[64], [128]]
    rounds = [2, 4]

An axis is a dotted key into the experiment (a number indexes a list: ``schedule.0`` is
the first ``[[mutation.schedule]]`` entry) and the list of values it takes; a quoted
``"train.lr"`` and a bare dotted ``train.lr`` are the same axis. A table the experiment
does not write is made (``"network.front.channels"`` adds a CNN front end); a list index
must exist. The sweep file's own experiment keys merge into the base table by table; a
list (``[[mutation.schedule]]``) replaces the base's whole. ``grid`` runs every
combination (the first axis varies slowest), ``zip`` the k-th values of all axes together
(the axes must be equally long). Every point runs all the experiment's seeds (or
``--seeds``). ``name``, ``out`` and ``seeds`` are not axes. Relative paths of the
experiment (``mnist:PATH``, ``[network] path``) are read from the base file's folder (the
sweep file's without a base). :func:`load_sweep` resolves and checks every point in full
(:func:`graphnet.lab.config.parse_config`) before anything runs; a problem is a
:class:`~graphnet.errors.ConfigError` naming the axis and the value, or the point.
"""

from __future__ import annotations

import copy
import itertools
import json
import os
import re
from dataclasses import dataclass

from graphnet.errors import ConfigError
from graphnet.lab.config import Config, _merge, _parse, parse_config

__all__ = ["Axis", "Point", "Sweep", "load_sweep", "parse_sweep", "value_text"]

_SWEEP_KEYS = ("base", "mode", "axes")
_MODES = ("grid", "zip")
#: Experiment keys that are not axes: a point's name and directory are the sweep's, and
#: the seeds are what every point repeats.
_NOT_AXES = {"name": "every point is named after the sweep",
             "out": "every point runs under the sweep's directory",
             "seeds": "every point runs all seeds; give them as the experiment's seeds or --seeds"}
_INDEX = re.compile(r"\d+")


@dataclass(frozen=True)
class Axis:
    """One swept key: ``key`` as written (normalised), its ``path`` and its ``values``."""

    key: str
    path: tuple
    values: tuple


@dataclass(frozen=True, eq=False)
class Point:
    """One point of a sweep: its id (``p000``), its value per axis and its checked config."""

    id: str
    values: dict
    config: Config


@dataclass(frozen=True, eq=False)
class Sweep:
    """A checked sweep.

    Attributes
    ----------
    path : str
        The sweep file (``"<string>"`` for text).
    text : str
        The sweep file as written.
    name : str
        The sweep's name (``runs/<name>``, and the points' names ``<name>-p000``).
    mode : str
        ``"grid"`` or ``"zip"``.
    axes : tuple of Axis
        In the file's order.
    base : Config
        The experiment the axes override: the base file merged with the sweep file's own
        experiment keys (and ``--seeds``), every default filled in.
    base_path : str or None
        The base file, if the sweep names one.
    out : str or None
        The sweep file's ``out`` (its directory), if given.
    points : tuple of Point
    """

    path: str
    text: str
    name: str
    mode: str
    axes: tuple
    base: Config
    base_path: str | None
    out: str | None
    points: tuple

    @property
    def shape(self) -> tuple:
        """Values per axis (grid), or ``(n_points,)`` (zip)."""
        if self.mode == "zip":
            return (len(self.points),)
        return tuple(len(a.values) for a in self.axes)


def value_text(value) -> str:
    """An axis value as one short text (JSON: ``0.001``, ``[64]``, ``"tanh"``).

    Examples
    --------
    >>> value_text(0.001), value_text([64, 32]), value_text("tanh"), value_text(True)
    ('0.001', '[64, 32]', '"tanh"', 'true')
    """
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def _fail(where: str, message: str):
    raise ConfigError(f"{where}: {message}")


def _key_path(key: str) -> tuple:
    """``"mutation.schedule.0.a"`` -> ``("mutation", "schedule", 0, "a")``."""
    return tuple(int(p) if _INDEX.fullmatch(p) else p for p in key.split("."))


def _flatten(table: dict, prefix: str, where: str) -> list:
    """(dotted key, values) of ``[sweep.axes]``; a table whose values are not lists nests."""
    out = []
    for k, v in table.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.extend(_flatten(v, key + ".", where))
        else:
            out.append((key, v))
    return out


def _axes(table, where: str) -> tuple:
    """Check ``[sweep.axes]``: lists of values, known shapes, no key twice or nested."""
    if not isinstance(table, dict) or not table:
        got = "nothing" if table is None or table == {} else value_text(table)
        _fail(where, '[sweep] axes: expected a table of dotted keys and value lists, e.g. '
                     f'"train.lr" = [0.001, 0.003]; got {got}')
    axes = []
    for key, values in _flatten(table, "", where):
        shown = f'[sweep.axes] "{key}"'
        parts = key.split(".")
        if any(p.strip() != p or not p for p in parts):
            _fail(where, f"{shown}: expected a dotted key of names and list indices")
        path = _key_path(key)
        if path[0] in _NOT_AXES:
            _fail(where, f"{shown}: {path[0]} is not an axis ({_NOT_AXES[path[0]]})")
        if isinstance(path[0], int):
            _fail(where, f"{shown}: the top level is a table; a key starts with a name")
        if not isinstance(values, list):
            _fail(where, f"{shown}: expected a list of values, got {value_text(values)}")
        if not values:
            _fail(where, f"{shown}: the axis has no values; give at least one")
        norm = ".".join(str(p) for p in path)
        for other in axes:
            a, b = sorted((other.path, path), key=len)
            if b[:len(a)] == a:
                same = "the same key" if a == b else "nested keys"
                _fail(where, f'{shown}: {same} as the axis "{other.key}"; each key is swept '
                             f"by one axis")
        axes.append(Axis(key=norm, path=path, values=tuple(values)))
    return tuple(axes)


def _set(raw: dict, axis: Axis, value, where: str) -> None:
    """Put ``value`` at ``axis.path`` in ``raw`` (tables not yet written are made)."""
    node, shown = raw, []
    for depth, part in enumerate(axis.path):
        last = depth == len(axis.path) - 1
        here = ".".join(map(str, shown)) or "the top level"
        if isinstance(part, int):
            if not isinstance(node, list):
                _fail(where, f"{here} is "
                             f"{'a table' if isinstance(node, dict) else value_text(node)}, "
                             f"not a list; {part} indexes a list")
            if part >= len(node):
                _fail(where, f"index {part} out of range: {here} "
                             f"has {len(node)} entr{'y' if len(node) == 1 else 'ies'} in the "
                             f"experiment")
        elif not isinstance(node, dict):
            _fail(where, f"{here} is "
                         f"{'a list' if isinstance(node, list) else value_text(node)}, not a "
                         f"table; it has no key {part!r}")
        if last:
            node[part] = copy.deepcopy(value)
        else:
            if isinstance(part, str) and part not in node:
                if isinstance(axis.path[depth + 1], int):
                    _fail(where, f"the experiment has no "
                                 f"{'.'.join(map(str, shown + [part]))} list to index")
                node[part] = {}
            node = node[part]
        shown.append(part)


def _read_toml(path: str, what: str) -> tuple[str, dict]:
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such {what}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the {what}: {exc}") from None
    return text, _parse(text, path)


def load_sweep(path, *, seeds=None) -> Sweep:
    """Read a sweep file and check every point (see the module docstring for the format).

    Parameters
    ----------
    path : str or os.PathLike
        The sweep file; its ``base`` is read relative to its folder.
    seeds : list of int, optional
        Replace the experiment's seeds (``graphnet sweep --seeds``).

    Returns
    -------
    Sweep

    Raises
    ------
    ConfigError
        The file is missing or not TOML; no ``[sweep]``; a bad base, mode or axis (unknown
        key, wrong type, index out of range, no values, a key twice, unequal zip lengths)
        naming the axis and the value; a point whose config is invalid, naming the point.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = os.path.join(d, "s.toml")
    ...     with open(p, "w") as fh:
    ...         _ = fh.write('[data]\\ndataset = "xor"\\n[sweep.axes]\\n'
    ...                      '"train.lr" = [0.01, 0.1]\\nrounds = [1, 2]\\n')
    ...     sw = load_sweep(p)
    >>> sw.name, sw.shape, [(pt.id, pt.values["rounds"]) for pt in sw.points][:3]
    ('s', (2, 2), [('p000', 1), ('p001', 2), ('p002', 1)])
    """
    path = os.fspath(path)
    text, raw = _read_toml(path, "sweep file")
    stem = os.path.splitext(os.path.basename(path))[0]
    return parse_sweep(text, source=path, base_dir=os.path.dirname(os.path.abspath(path)),
                       name=stem, seeds=seeds, _raw=raw)


def parse_sweep(text: str, *, source: str = "<string>", base_dir: str = ".",
                name: str = "sweep", seeds=None, _raw=None) -> Sweep:
    """Check a sweep given as TOML text (:func:`load_sweep` reads a file).

    ``base_dir`` is where ``[sweep] base`` is read from; ``name`` the default name.

    Examples
    --------
    >>> parse_sweep('[data]\\ndataset = "xor"\\n[sweep]\\nmode = "zip"\\n'
    ...             '[sweep.axes]\\nrounds = [1, 2]\\n"train.epochs" = [1]')
    Traceback (most recent call last):
    ...
    graphnet.errors.ConfigError: <string>: [sweep] mode "zip" pairs the axes' values, but they differ in length: rounds has 2, train.epochs has 1
    """
    raw = copy.deepcopy(_raw) if _raw is not None else _parse(text, source)
    spec = raw.pop("sweep", None)
    if not isinstance(spec, dict):
        _fail(source, "no [sweep] table: a sweep file is an experiment plus [sweep] with "
                      "[sweep.axes] (dotted keys and their values, e.g. \"train.lr\" = "
                      "[0.001, 0.003])" if spec is None else
                      f"[sweep]: expected a table, got {value_text(spec)}")
    for k in spec:
        if k not in _SWEEP_KEYS:
            _fail(source, f"[sweep] {k}: unknown key in [sweep]; expected one of "
                          f"{', '.join(_SWEEP_KEYS)}")
    mode = spec.get("mode", "grid")
    if mode not in _MODES:
        _fail(source, f"[sweep] mode: expected \"grid\" or \"zip\", got {value_text(mode)}")
    axes = _axes(spec.get("axes"), source)
    base_path, base_raw, exp_dir = None, {}, os.path.abspath(base_dir)
    if "base" in spec:
        if not isinstance(spec["base"], str) or not spec["base"]:
            _fail(source, f"[sweep] base: expected the path of an experiment file, got "
                          f"{value_text(spec['base'])}")
        base_path = os.path.join(base_dir, spec["base"])
        _, base_raw = _read_toml(base_path, "base experiment (from [sweep] base)")
        if "sweep" in base_raw:
            _fail(source, f"[sweep] base: {spec['base']} is a sweep file itself; the base "
                          f"is an experiment")
        exp_dir = os.path.dirname(os.path.abspath(base_path))
    out = raw.pop("out", None)
    if out is not None and (not isinstance(out, str) or not out):
        _fail(source, f"out: expected the sweep's directory, got {value_text(out)}")
    base_raw.pop("out", None)
    merged = _merge(base_raw, raw)
    sweep_name = raw.get("name", name)
    merged["name"] = sweep_name
    if seeds is not None:
        merged["seeds"] = list(seeds)
    where = source if base_path is None else f"{source} (base {spec['base']})"
    base = parse_config(merged, source=where, base_dir=exp_dir, name=sweep_name)
    combos = _combinations(axes, mode, source)
    width = max(3, len(str(len(combos) - 1)))
    points = []
    for k, combo in enumerate(combos):
        pid = f"p{k:0{width}d}"
        points.append(Point(id=pid, values={a.key: v for a, v in zip(axes, combo)},
                            config=_point_config(merged, axes, combo, pid, source, exp_dir,
                                                 base.name)))
    return Sweep(path=source, text=text, name=base.name, mode=mode, axes=axes, base=base,
                 base_path=base_path, out=out, points=tuple(points))


def _combinations(axes: tuple, mode: str, source: str) -> list:
    if mode == "grid":
        return list(itertools.product(*(a.values for a in axes)))
    lengths = {len(a.values) for a in axes}
    if len(lengths) > 1:
        _fail(source, '[sweep] mode "zip" pairs the axes\' values, but they differ in length: '
                      + ", ".join(f"{a.key} has {len(a.values)}" for a in axes))
    return list(zip(*(a.values for a in axes)))


def _point_config(merged: dict, axes: tuple, combo: tuple, pid: str, source: str,
                  exp_dir: str, name: str) -> Config:
    """A point's checked config; a failure names the axis and value that cause it alone,
    else the point and all its values."""
    raw = copy.deepcopy(merged)
    raw["name"] = f"{name}-{pid}"
    for axis, value in zip(axes, combo):
        _set(raw, axis, value, f"{source}: {_shown(axis, value)}")
    shown = ", ".join(f"{a.key} = {value_text(v)}" for a, v in zip(axes, combo))
    try:
        return parse_config(raw, source=f"{source}: point {pid} ({shown})", base_dir=exp_dir,
                            name=raw["name"])
    except ConfigError:
        for axis, value in zip(axes, combo):  # which value fails on its own?
            alone = copy.deepcopy(merged)
            _set(alone, axis, value, source)
            parse_config(alone, source=f"{source}: {_shown(axis, value)}", base_dir=exp_dir,
                         name=name)
        raise


def _shown(axis: Axis, value) -> str:
    return f'[sweep.axes] "{axis.key}" = {value_text(value)}'
