"""A search directory read back for its summary and its figures.

A search (``graphnet search``) writes, per seed, every evaluated network with its parent and the
operators that made it. This module reads that record and nothing else; it never writes:

* ``search.json`` -- the marker ``{"version", "kind": "search", "complete", "seeds"}``;
* ``config.toml`` -- the resolved config (``[search]``, ``[data]``, ``[network]``, ``[train]``);
* ``results.csv`` -- one row per seed (``seed, solved, generations, evaluations, wall_s,
  best_val_accuracy, best_test_accuracy, best_edges, best_hidden``);
* ``generations.csv`` -- per seed and generation (``evaluations`` cumulative, ``best``,
  ``median``, ``front_size``, ``best_edges``, ``median_edges``, ``wall_s``);
* ``lineage.jsonl`` -- one evaluated network a line (``seed, generation, id, parent, ops,
  fitness, val_accuracy, val_loss, edges, hidden, selected``);
* ``snapshots/seed<S>/best.json``, ``front/<id>.json``, ``lineage/<id>.json``.

The tables are read by :mod:`graphnet.lab.searchdir`'s readers (the module that writes
them); columns and keys are read by name, extra ones kept, and a missing one is named. The
Pareto front here is the one the figures and the summary show: validation accuracy up (or
validation loss down) against edges down, non-dominated in both.
"""

from __future__ import annotations

import json
import math
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from graphnet.errors import DataError, InputError, InputTypeError
from graphnet.graph.io import read_network
from graphnet.lab import searchdir as sd

__all__ = ["SearchData", "load_search", "pareto_front", "op_names", "run_together",
           "REQUIRED_RESULT_COLUMNS", "REQUIRED_GENERATION_COLUMNS"]

#: The columns of ``results.csv`` every report needs (a search may add more).
REQUIRED_RESULT_COLUMNS = ("seed", "solved", "generations", "evaluations", "wall_s",
                           "best_val_accuracy", "best_test_accuracy", "best_edges",
                           "best_hidden")
#: The columns of ``generations.csv`` the figures need.
REQUIRED_GENERATION_COLUMNS = ("seed", "generation", "evaluations", "best", "median")


def _read(reader, path: Path, name: str, required=()) -> list:
    """A search table through :mod:`graphnet.lab.searchdir`'s reader, its errors named."""
    if not (path / name).is_file():
        raise DataError(f"{path}: missing {name}")
    try:
        rows = reader(path)
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataError(f"{path / name}: malformed ({exc})") from exc
    missing = [c for c in required if rows and c not in rows[0]]
    if missing:
        raise DataError(f"{path / name}: missing column(s) {', '.join(missing)}; got "
                        f"{list(rows[0])}")
    if any(not isinstance(r, dict) or "seed" not in r for r in rows):
        raise DataError(f"{path / name}: every row needs a seed")
    return rows


def _solved(value) -> bool:
    return value is True or (isinstance(value, (int, float)) and value == 1)


@dataclass
class SearchData:
    """Everything a search directory records, read by :func:`load_search`.

    Attributes
    ----------
    path : pathlib.Path
    config : dict
        ``config.toml`` as TOML.
    marker : dict
        ``search.json``.
    results : list of dict
        ``results.csv`` rows, numbers parsed, seeds ascending.
    generations : list of dict
        ``generations.csv`` rows, typed.
    lineage : list of dict
        ``lineage.jsonl`` objects, in file order.
    """

    path: Path
    config: dict
    marker: dict
    results: list
    generations: list
    lineage: list
    _by_id: dict = field(default_factory=dict, repr=False)

    @property
    def seeds(self) -> list:
        """Seeds with a results row, ascending."""
        return [r["seed"] for r in self.results]

    def solved(self, row) -> bool:
        """Whether a results row says the seed's stop rule was met."""
        return _solved(row.get("solved"))

    def result(self, seed) -> dict:
        """The results row of ``seed``."""
        for r in self.results:
            if r["seed"] == seed:
                return r
        raise InputError(f"{self.path}: no results row for seed {seed!r}; seeds {self.seeds}")

    def rows(self, seed) -> list:
        """The lineage rows of ``seed``, in file order."""
        return [r for r in self.lineage if r["seed"] == seed]

    def generation_rows(self, seed) -> list:
        """The generations.csv rows of ``seed``, by generation."""
        return sorted((r for r in self.generations if r["seed"] == seed),
                      key=lambda r: r["generation"])

    def node(self, seed, ident) -> dict | None:
        """The lineage row of network ``ident`` of ``seed`` (None if not recorded)."""
        if not self._by_id:
            self._by_id = {(r["seed"], str(r["id"])): r for r in self.lineage}
        return self._by_id.get((seed, str(ident)))

    def snapshot_dir(self, seed) -> Path:
        return self.path / "snapshots" / f"seed{seed}"

    def best_id(self, seed) -> str | None:
        """The id of the best network of ``seed``.

        The results row's ``best_id`` when the search writes one; else the last network of
        the best's lineage (``snapshots/seed<S>/lineage/``: the one no other there descends
        from); else, among the seed's evaluated networks, the highest validation accuracy,
        then the fewest edges, then the latest.
        """
        row = next((r for r in self.results if r["seed"] == seed), {})
        if row.get("best_id") is not None:
            return str(row["best_id"])
        lin = self.snapshot_dir(seed) / "lineage"
        ids = sorted(p.stem for p in lin.glob("*.json")) if lin.is_dir() else []
        if ids:
            parents = {str((self.node(seed, i) or {}).get("parent")) for i in ids}
            leaves = [i for i in ids if i not in parents]
            if len(leaves) == 1:
                return leaves[0]
        rows = self.rows(seed)
        if not rows:
            return None

        def key(r):
            acc = r.get("val_accuracy")
            acc = -math.inf if acc is None or not math.isfinite(acc) else acc
            return (acc, -(r.get("edges") or 0), r.get("generation") or 0)
        return str(max(rows, key=key)["id"])

    def chain(self, seed) -> list:
        """The lineage rows from the start network to the best of ``seed`` (parents first)."""
        out, ident, seen = [], self.best_id(seed), set()
        while ident is not None and ident not in seen:
            seen.add(ident)
            row = self.node(seed, ident)
            if row is None:
                break
            out.append(row)
            ident = None if row.get("parent") is None else str(row["parent"])
        return out[::-1]

    def network(self, seed, ident=None):
        """A snapshot as a GraphNetwork: ``best.json`` (``ident`` None) or ``lineage/<id>.json``
        (else ``front/<id>.json``); None when the file is missing."""
        base = self.snapshot_dir(seed)
        paths = ([base / "best.json"] if ident is None
                 else [base / "lineage" / f"{ident}.json", base / "front" / f"{ident}.json"])
        for p in paths:
            if p.is_file():
                return read_network(p)
        return None


def load_search(path) -> SearchData:
    """Read a search directory (see the module docstring for its files).

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    SearchData

    Raises
    ------
    InputTypeError
        ``path`` is not a path.
    DataError
        Not a directory, no ``search.json`` of kind "search", or a file missing or malformed
        (the message names it).

    Examples
    --------
    >>> import tempfile
    >>> load_search(tempfile.mkdtemp())  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    graphnet.errors.DataError: ...: not a search directory (no search.json)
    """
    if not isinstance(path, (str, os.PathLike)):
        raise InputTypeError(f"load_search: path must be a path, got {type(path).__name__}")
    path = Path(path)
    if not path.is_dir():
        raise DataError(f"{path}: not a search directory "
                        f"({'a file' if path.exists() else 'no such directory'})")
    if not (path / "search.json").is_file():
        raise DataError(f"{path}: not a search directory (no search.json)")
    try:
        marker = json.loads((path / "search.json").read_text(encoding="utf-8"))
    except ValueError as exc:
        raise DataError(f"{path / 'search.json'}: not valid JSON ({exc})") from exc
    if not isinstance(marker, dict) or marker.get("kind") != "search":
        raise DataError(f"{path / 'search.json'}: expected kind \"search\", got "
                        f"{marker.get('kind') if isinstance(marker, dict) else marker!r}")
    try:
        with open(path / "config.toml", "rb") as fh:
            config = tomllib.load(fh)
    except FileNotFoundError:
        raise DataError(f"{path}: missing config.toml (the resolved config)") from None
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"{path / 'config.toml'}: not valid TOML ({exc})") from exc
    results = sorted(_read(sd.read_results, path, "results.csv", REQUIRED_RESULT_COLUMNS),
                     key=lambda r: r["seed"])
    generations = _read(sd.read_generations, path, "generations.csv",
                        REQUIRED_GENERATION_COLUMNS)
    lineage = (_read(sd.read_lineage, path, "lineage.jsonl", ("id",))
               if (path / "lineage.jsonl").is_file() else [])
    return SearchData(path=path, config=config, marker=marker, results=results,
                      generations=generations, lineage=lineage)


def op_names(row) -> list:
    """The operators of a lineage row, each by its letter, else its name."""
    return [(o.get("letter") or o.get("name") or "?") for o in row.get("ops") or []]


def run_together(names, limit=None) -> str:
    """Names in order with repeats run together; at most ``limit`` runs, then ``...``.

    Examples
    --------
    >>> run_together(["add_edge"] * 3 + ["A", "split_edge", "split_edge"])
    'add_edge x3, A, split_edge x2'
    >>> run_together(["A", "N", "A"], limit=2)
    'A, N, ...'
    """
    runs = []
    for name in names:
        if runs and runs[-1][0] == name:
            runs[-1][1] += 1
        else:
            runs.append([name, 1])
    text = ", ".join(n + (f" x{k}" if k > 1 else "") for n, k in runs[:limit])
    return text + (", ..." if limit is not None and len(runs) > limit else "")


def pareto_front(scores, sizes, *, maximize: bool = True) -> list:
    """Indices of the non-dominated points: better score and no more size, or vice versa.

    Point ``a`` dominates ``b`` when it is at least as good in both (score: higher when
    ``maximize``, else lower; size: lower) and better in one. Missing scores (None, nan) are
    left out. Indices come sorted by size, then by score (best first); of equal points the
    first is kept.

    Parameters
    ----------
    scores : sequence of float
        Validation accuracy (``maximize=True``) or loss.
    sizes : sequence of int
        Edge counts.
    maximize : bool

    Returns
    -------
    list of int

    Examples
    --------
    >>> pareto_front([0.5, 0.75, 0.75, 1.0, 0.9], [2, 3, 5, 6, 7])
    [0, 1, 3]
    >>> pareto_front([0.3, 0.2, 0.4], [1, 2, 3], maximize=False)
    [0, 1]
    """
    sign = -1.0 if maximize else 1.0
    pts = [(sizes[k], sign * float(s), k) for k, s in enumerate(scores)
           if s is not None and math.isfinite(float(s))]
    front, best = [], math.inf
    for size, score, k in sorted(pts):  # by size, then best score first
        if score < best:
            front.append(k)
            best = score
    return front
