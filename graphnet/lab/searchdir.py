"""Every read and write of a search directory (``graphnet search``).

::

    SEARCH/
      search.json        the marker (graphnet.lab.ownership): version, kind, complete, seeds
                         (seed -> last completed generation), finished (seeds done)
      config.toml        the resolved config; config.source.toml as written
      results.csv        one row per finished seed (RESULT_COLUMNS)
      generations.csv    per seed and generation (GENERATION_COLUMNS)
      lineage.jsonl      every evaluated network, one JSON object a line (LINEAGE_KEYS)
      snapshots/seed<S>/best.json, front/<id>.json, lineage/<id>.json   node-link networks
      checkpoints/seed<S>/gen<GGG>.json    a seed's whole state after generation GGG
      summary.md, plots/ (graphnet.lab.searchreport, graphnet.lab.plots.search)

``wall_s`` is a seed's compute seconds: its tasks' time (wherever they ran) plus the
client's work for it, summed; with several workers the seeds' sums can exceed the elapsed
time. CSV cells are :func:`graphnet.lab.rundir.format_value`'s (floats exact, booleans 1/0, NaN
``nan``); lineage.jsonl writes NaN as ``null``. Rows are ordered by seed (as configured),
generation and index, whatever order the engine returned them in, so two searches with
the same config write the same files but for the ``wall_s`` columns.
"""

from __future__ import annotations

import csv
import json
import math
import os

from graphnet.fileio import atomic_write_json, atomic_write_text
from graphnet.lab import ownership
from graphnet.lab.rundir import format_value

__all__ = ["RESULT_COLUMNS", "GENERATION_COLUMNS", "LINEAGE_KEYS", "write_marker",
           "read_marker", "write_tables", "read_results", "read_generations", "read_lineage",
           "write_checkpoint", "read_checkpoint", "write_snapshots", "checkpoint_path"]

#: results.csv: one row per seed (``best_id`` and ``best_val_loss`` added after the fixed ones).
RESULT_COLUMNS = ("seed", "solved", "generations", "evaluations", "wall_s", "best_val_accuracy",
                  "best_test_accuracy", "best_edges", "best_hidden", "best_id", "best_val_loss")
#: generations.csv: one row per seed and generation (``best``, ``median``: of the objective
#: over the population after selection; ``front_size``: its first front on objective x edges).
GENERATION_COLUMNS = ("seed", "generation", "evaluations", "best", "median", "front_size",
                      "best_edges", "median_edges", "wall_s")
#: The keys of a lineage.jsonl object (``train_accuracy``, ``train_loss`` added).
LINEAGE_KEYS = ("seed", "generation", "id", "parent", "ops", "fitness", "val_accuracy",
                "val_loss", "edges", "hidden", "selected", "train_accuracy", "train_loss")


def write_marker(path: str, *, seeds: dict, finished, complete: bool) -> None:
    """``search.json``: version, kind, complete, seeds (seed -> last generation), finished.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     write_marker(d, seeds={0: 3}, finished=[0], complete=True)
    ...     read_marker(d)["seeds"], ownership.is_search(d)
    ({'0': 3}, True)
    """
    atomic_write_json(os.path.join(path, "search.json"),
                      {"version": ownership.SEARCH_VERSION, "kind": "search", "complete": complete,
                       "seeds": {str(s): int(g) for s, g in seeds.items()},
                       "finished": sorted(int(s) for s in finished)})


def read_marker(path: str) -> dict:
    """The marker's dict ({} when missing or unreadable)."""
    try:
        with open(os.path.join(path, "search.json"), encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _csv_text(columns, rows) -> str:
    lines = [",".join(columns)]
    lines += [",".join(format_value(r[c]) for c in columns) for r in rows]
    return "\n".join(lines) + "\n"


def _json_safe(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_tables(path: str, *, results, generations, lineage) -> None:
    """Write results.csv, generations.csv and lineage.jsonl whole (atomically), rows as given."""
    atomic_write_text(os.path.join(path, "results.csv"), _csv_text(RESULT_COLUMNS, results))
    atomic_write_text(os.path.join(path, "generations.csv"),
                      _csv_text(GENERATION_COLUMNS, generations))
    text = "".join(json.dumps({k: _json_safe(row[k]) for k in LINEAGE_KEYS}) + "\n"
                   for row in lineage)
    atomic_write_text(os.path.join(path, "lineage.jsonl"), text)


def _read_csv(path: str) -> list:
    def cell(text):
        if text in ("", None):
            return None
        try:
            return int(text)
        except ValueError:
            try:
                return float(text)
            except ValueError:
                return text

    with open(path, encoding="utf-8", newline="") as fh:
        return [{k: cell(v) for k, v in row.items()} for row in csv.DictReader(fh)]


def read_results(path) -> list:
    """results.csv as dicts (numbers parsed; ``solved`` 1 or 0).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     row = dict.fromkeys(RESULT_COLUMNS, 1)
    ...     write_tables(d, results=[row], generations=[], lineage=[])
    ...     read_results(d)[0]["best_edges"]
    1
    """
    return _read_csv(os.path.join(os.fspath(path), "results.csv"))


def read_generations(path) -> list:
    """generations.csv as dicts (numbers parsed)."""
    return _read_csv(os.path.join(os.fspath(path), "generations.csv"))


def read_lineage(path) -> list:
    """lineage.jsonl as a list of dicts (NaN written as null reads as None).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     row = dict.fromkeys(LINEAGE_KEYS, float("nan"))
    ...     write_tables(d, results=[], generations=[], lineage=[row])
    ...     read_lineage(d)[0]["val_loss"] is None
    True
    """
    with open(os.path.join(os.fspath(path), "lineage.jsonl"), encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def checkpoint_path(path: str, seed: int, generation: int) -> str:
    """``checkpoints/seed<S>/gen<GGG>.json``.

    Examples
    --------
    >>> checkpoint_path("S", 2, 7)
    'S/checkpoints/seed2/gen007.json'
    """
    return os.path.join(path, "checkpoints", f"seed{seed}", f"gen{generation:03d}.json")


def write_checkpoint(path: str, seed: int, generation: int, state: dict) -> None:
    """Write a seed's state after ``generation`` (NaN kept), then delete its older ones."""
    target = checkpoint_path(path, seed, generation)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    atomic_write_text(target, json.dumps(state) + "\n")
    folder = os.path.dirname(target)
    for name in os.listdir(folder):
        if name.startswith("gen") and name.endswith(".json") and name != os.path.basename(target):
            os.remove(os.path.join(folder, name))


def read_checkpoint(path: str, seed: int, generation: int | None = None) -> dict | None:
    """A seed's state after ``generation`` (default: its newest readable checkpoint), or None.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     write_checkpoint(d, 0, 1, {"generation": 1})
    ...     write_checkpoint(d, 0, 2, {"generation": 2})     # gen001.json goes
    ...     read_checkpoint(d, 0), read_checkpoint(d, 0, 1), read_checkpoint(d, 1)
    ({'generation': 2}, None, None)
    """
    if generation is not None:
        candidates = [checkpoint_path(path, seed, generation)]
    else:
        folder = os.path.dirname(checkpoint_path(path, seed, 0))
        names = os.listdir(folder) if os.path.isdir(folder) else []
        gens = sorted((int(n[3:-5]) for n in names
                       if n.startswith("gen") and n.endswith(".json") and n[3:-5].isdigit()),
                      reverse=True)
        candidates = [checkpoint_path(path, seed, g) for g in gens]
    for candidate in candidates:
        try:
            with open(candidate, encoding="utf-8") as fh:
                return json.load(fh)
        except (OSError, ValueError):
            continue
    return None


def write_snapshots(path: str, seed: int, *, best, front: dict, lineage: dict) -> None:
    """``snapshots/seed<S>/``: best.json, front/<id>.json, lineage/<id>.json (node-link dicts).

    The folder is replaced whole, so a resumed seed leaves no stale file.
    """
    import shutil

    root = os.path.join(path, "snapshots", f"seed{seed}")
    if os.path.isdir(root) and not os.path.islink(root):
        shutil.rmtree(root)
    for sub in ("front", "lineage"):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
    atomic_write_json(os.path.join(root, "best.json"), best)
    for sub, nets in (("front", front), ("lineage", lineage)):
        for ident, data in nets.items():
            atomic_write_json(os.path.join(root, sub, f"{ident}.json"), data)
