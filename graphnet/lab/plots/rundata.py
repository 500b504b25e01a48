"""A run directory read for its figures: the parsed files and the lazily read snapshots.

The files are read by :mod:`graphnet.lab.rundir` (metrics.csv without the exact-header check,
history.jsonl, state.json); here they are gathered into a :class:`RunData`, with the graph
snapshots in a :class:`SnapshotStore` that reads a (model, seed)'s networks on first access.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from graphnet.errors import DataError, InputTypeError
from graphnet.graph.network import GraphNetwork
from graphnet.lab import rundir as rd

__all__ = ["RunData", "SnapshotStore", "load_run"]

_SEED_DIR = re.compile(r"seed(\d+)")
_ROUND_FILE = re.compile(r"round(\d+)\.json")


class SnapshotStore(Mapping):
    """The snapshots of a run, ``{(model, seed): [GraphNetwork of round 0, 1, ...]}``, lazily.

    The directory is scanned when the store is made; a (model, seed)'s networks are read on
    first access and kept. Round files must run 0, 1, ..., k without a gap.

    Parameters
    ----------
    root : str or os.PathLike
        ``RUN/snapshots`` (``<model>/seed<S>/round<RRR>.json`` below it). Need not exist.

    Examples
    --------
    >>> import os, tempfile
    >>> root = tempfile.mkdtemp()
    >>> os.makedirs(os.path.join(root, "graph", "seed0"))
    >>> _ = GraphNetwork.seed_example().to_node_link(os.path.join(root, "graph", "seed0",
    ...                                                           "round000.json"))
    >>> store = SnapshotStore(root)
    >>> list(store), store.rounds(("graph", 0)), store[("graph", 0)][0].n_edges
    ([('graph', 0)], [0], 7)
    """

    def __init__(self, root):
        self._root = Path(root)
        self._files = {}
        self._cache = {}
        if not self._root.is_dir():
            return
        for model_dir in sorted(p for p in self._root.iterdir() if p.is_dir()):
            for seed_dir in model_dir.iterdir():
                match = _SEED_DIR.fullmatch(seed_dir.name)
                if not (match and seed_dir.is_dir()):
                    continue
                files = {}
                for f in seed_dir.iterdir():
                    m = _ROUND_FILE.fullmatch(f.name)
                    if m:
                        files[int(m.group(1))] = f
                if files:
                    key = (model_dir.name, int(match.group(1)))
                    self._files[key] = dict(sorted(files.items()))
        self._files = dict(sorted(self._files.items()))

    def __getitem__(self, key):
        if key not in self._files:
            raise KeyError(key)
        if key not in self._cache:
            files = self._files[key]
            rounds = list(files)
            if rounds != list(range(len(rounds))):
                gaps = sorted(set(range(rounds[-1] + 1)) - set(rounds))
                model, seed = key
                raise DataError(
                    f"{self._root / model / f'seed{seed}'}: snapshot rounds must run 0..k "
                    f"without a gap; missing round{gaps[0]:03d}.json")
            self._cache[key] = [GraphNetwork.from_node_link(f) for f in files.values()]
        return self._cache[key]

    def __iter__(self):
        return iter(self._files)

    def __len__(self):
        return len(self._files)

    def rounds(self, key) -> list:
        """The round numbers on disk for ``key``, ascending."""
        return list(self._files[key])

    def __repr__(self):
        return f"SnapshotStore({str(self._root)!r}, keys={list(self._files)})"


@dataclass
class RunData:
    """A run directory, parsed: see :func:`load_run`.

    Examples
    --------
    >>> rows = [dict(seed=s, model=m, round=0, epoch=1) for s in (1, 0) for m in ("mlp", "cnn")]
    >>> run = RunData(Path("run"), {}, rows, [], SnapshotStore("run/snapshots"))
    >>> run.models, run.seeds, run.rows("cnn", 0)
    (['mlp', 'cnn'], [0, 1], [{'seed': 0, 'model': 'cnn', 'round': 0, 'epoch': 1}])
    """

    path: Path
    config: dict = field(repr=False)
    metrics: list = field(repr=False)
    history: list = field(repr=False)
    snapshots: SnapshotStore = field(repr=False)
    state: dict | None = field(default=None, repr=False)

    @property
    def models(self) -> list:
        """Model names in the order they first appear in metrics.csv (the config's order)."""
        return list(dict.fromkeys(r["model"] for r in self.metrics))

    @property
    def seeds(self) -> list:
        """The seeds in metrics.csv, ascending."""
        return sorted({r["seed"] for r in self.metrics})

    def rows(self, model=None, seed=None) -> list:
        """The metrics rows of one model and/or seed (all when both are None)."""
        return [r for r in self.metrics
                if (model is None or r["model"] == model) and (seed is None or r["seed"] == seed)]


def load_run(run_dir) -> RunData:
    """Read a run directory written by the lab runner.

    Parameters
    ----------
    run_dir : str or os.PathLike
        Must hold ``config.toml`` and ``metrics.csv``; ``history.jsonl``, ``state.json`` and
        ``snapshots/`` are read when present.

    Returns
    -------
    RunData
        ``path``, ``config`` (dict from TOML), ``metrics`` (see
        :func:`graphnet.lab.rundir.read_metrics`; any column order, extra columns kept),
        ``history`` (list of dicts), ``snapshots`` (:class:`SnapshotStore`, read lazily),
        ``state`` (dict or None); ``models``, ``seeds`` and ``rows(model, seed)`` to select.

    Raises
    ------
    DataError
        Not a directory, or not a run (naming the missing files); a malformed file.

    Examples
    --------
    >>> import tempfile
    >>> load_run(tempfile.mkdtemp())  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    graphnet.errors.DataError: ...: not a run directory: missing config.toml, metrics.csv
    """
    if not isinstance(run_dir, (str, os.PathLike)):
        raise InputTypeError(f"load_run: run_dir must be a path, got {type(run_dir).__name__}")
    path = Path(run_dir)
    if not path.is_dir():
        what = "a file" if path.exists() else "no such directory"
        raise DataError(f"{path}: not a run directory ({what})")
    missing = [name for name in ("config.toml", "metrics.csv") if not (path / name).is_file()]
    if missing:
        raise DataError(f"{path}: not a run directory: missing {', '.join(missing)}")
    try:
        with open(path / "config.toml", "rb") as fh:
            config = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"{path / 'config.toml'}: not valid TOML ({exc})") from exc
    state = None
    if (path / "state.json").is_file():
        try:
            state = rd.read_state(path)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path / 'state.json'}: not valid JSON ({exc})") from exc
    return RunData(
        path=path,
        config=config,
        metrics=rd.read_metrics(path / "metrics.csv", exact_header=False),
        history=rd.read_history(path / "history.jsonl"),
        snapshots=SnapshotStore(path / "snapshots"),
        state=state,
    )


def _as_run(run):
    return run if isinstance(run, RunData) else load_run(run)
