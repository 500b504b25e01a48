"""What graphnet owns in a directory: the run marker, a run's entries, --force / --resume checks.

graphnet deletes or overwrites only what it recognisably wrote: a directory is a run when
its ``state.json`` holds ``"version": STATE_VERSION`` (written first, before anything
else); ``--force`` replaces a run only if every entry is one a run writes (RUN_FILES,
RUN_FOLDERS with their file types, stale temporaries), and never the current directory or
one of its parents; ``--resume`` continues only a run. :func:`check` refuses before
anything is touched; :class:`graphnet.lab.rundir.RunDir` calls it.

A sweep directory (``graphnet sweep``) is owned the same way with its own marker,
``sweep.json`` holding ``"version": SWEEP_VERSION``: its own files (SWEEP_FILES),
``plots/`` and ``points/pNNN/`` whose every entry is a run's (:func:`check_sweep`,
:func:`sweep_foreign_entries`, :func:`remove_own_sweep`).

A search directory (``graphnet search``) likewise: ``search.json`` holding ``"version":
SEARCH_VERSION``, its files (SEARCH_FILES) and folders (SEARCH_FOLDERS) by file type
(:func:`check_search`, :func:`search_foreign_entries`, :func:`remove_own_search`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from typing import Callable, NamedTuple

from graphnet.errors import InputError
from graphnet.fileio import is_temporary
from graphnet.lab.lock import LOCK_NAME

__all__ = ["STATE_VERSION", "RUN_FILES", "RUN_FOLDERS", "is_run", "has_contents", "check",
           "foreign_entries", "remove_temporaries", "remove_own", "SWEEP_VERSION", "SWEEP_FILES",
           "SWEEP_POINTS", "is_sweep", "check_sweep", "sweep_foreign_entries",
           "remove_own_sweep", "SEARCH_VERSION", "SEARCH_FILES", "SEARCH_FOLDERS", "is_search",
           "check_search", "search_foreign_entries", "remove_own_search"]

#: The ``version`` of ``state.json`` that marks a run of this format.
STATE_VERSION = 1
#: The files a run writes at its top level (besides stale ``.tmp-*`` temporaries).
RUN_FILES = ("config.toml", "config.source.toml", "state.json", "metrics.csv", "history.jsonl",
             "summary.md", LOCK_NAME)
#: The folders a run writes, with the file types each holds (at any depth).
RUN_FOLDERS = {"snapshots": (".json", ".graphml"), "checkpoints": (".npz",),
               "parts": (".json",), "plots": (".png", ".gif", ".svg", ".pdf")}


def is_run(run_dir) -> bool:
    """Whether ``run_dir`` is a graphnet run: ``state.json`` with STATE_VERSION.

    Examples
    --------
    >>> is_run("/nonexistent")
    False
    """
    return _marker_problem(run_dir) is None


def has_contents(run_dir) -> bool:
    """Whether the directory exists and holds anything but our lock and temporaries.

    Examples
    --------
    >>> has_contents("/nonexistent")
    False
    """
    return bool(_contents(os.fspath(run_dir)))


def check(run_dir, *, resume: bool, force: bool) -> None:
    """Refuse, before anything is written, what a run must not do to ``run_dir``.

    A missing or empty directory is always fine. An existing one must be a run
    (:func:`is_run`) to be resumed or forced; ``force`` also needs every entry to be
    one a run writes (:func:`foreign_entries`) and never replaces the current
    directory or one of its parents; without either flag a non-empty directory is
    refused.

    Raises
    ------
    InputError
        Naming the directory and, for a directory that is not a run's, what it holds.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = open(os.path.join(d, "notes.txt"), "w").close()
    ...     check(d, resume=False, force=True)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    graphnet.errors.InputError: run: --force refused: ...not a graphnet run (no state.json); ...
    """
    _check(os.fspath(run_dir), resume=resume, force=force, kind=_RUN)


def remove_own(run_dir) -> None:
    """Delete what a run writes (checked by :func:`check`), keeping the lock."""
    root = os.fspath(run_dir)
    for name in os.listdir(root):
        path = os.path.join(root, name)
        if name in RUN_FOLDERS and os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        elif (name in RUN_FILES and name != LOCK_NAME) or is_temporary(name):
            os.remove(path)


class _Kind(NamedTuple):
    """What :func:`_check` says and reads for one kind of directory (a run, a sweep)."""

    word: str  # the command: "run", "sweep"
    marker: str  # the marker file
    version: int  # its version
    files: str  # "a run's files"
    foreign: Callable  # the entries it does not write


def _check(path: str, *, resume: bool, force: bool, kind: _Kind) -> None:
    """:func:`check` for a run or a sweep directory (``kind``)."""
    w = kind.word
    if resume and force:
        raise InputError(f"{w}: resume and force exclude each other")
    if os.path.lexists(path) and not os.path.isdir(path):
        raise InputError(f"{w}: {path} exists and is not a directory")
    if force and _holds_cwd(path):
        raise InputError(f"{w}: --force refused: {path} is the current directory or "
                         f"one of its parents; graphnet never deletes those")
    contents = _contents(path)
    if not contents:
        return
    problem = _marker_problem(path, kind)
    shown = _listing(contents)
    if problem is not None:
        if force or resume:
            flag = "--force" if force else "--resume"
            raise InputError(
                f"{w}: {flag} refused: {path} is not a graphnet {w} ({problem}); it "
                f"holds {shown}; nothing was touched: choose another --out")
        raise InputError(f"{w}: {path} already exists and is not a graphnet {w} "
                         f"(it holds {shown}); choose another --out")
    if force:
        foreign = kind.foreign(path)
        if foreign:
            raise InputError(
                f"{w}: --force refused: {path} holds what a graphnet {w} does not "
                f"write: {_listing(foreign)}; --force replaces only {kind.files}: "
                f"move those away or choose another --out")
    elif not resume:
        raise InputError(
            f"{w}: the {w} directory {path} already exists; pass --resume to "
            f"continue it or --force to delete it and start over")


def _contents(path) -> list:
    """The entries of a directory that count (not our lock, not temporaries); [] if none."""
    if not os.path.isdir(path):
        return []
    return sorted(n for n in os.listdir(path)
                  if not (n == LOCK_NAME and _own_lock(os.path.join(path, n)))
                  and not is_temporary(n))


def _own_lock(path) -> bool:
    """Whether ``path`` (a ``.lock``) can be graphnet's: a plain file holding a pid or nothing.

    Anything else (a user's ``.lock``, a link) counts as the directory's content: taking
    the lock truncates the file.
    """
    if os.path.islink(path) or not os.path.isfile(path):
        return False
    try:
        with open(path, "rb") as fh:
            text = fh.read(65)
    except OSError:
        return False
    return re.fullmatch(rb"\d{0,20}\n?", text) is not None


def _listing(names, limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _marker_problem(path, kind=None) -> str | None:
    """None if ``path/state.json`` marks a run of this format (or ``kind``'s marker its
    kind), else what is wrong."""
    kind = kind or _RUN
    name = kind.marker
    state = os.path.join(os.fspath(path), name)
    if not os.path.isfile(state):
        return f"no {name}"
    try:
        with open(state, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return f"its {name} is not a {kind.word}'s JSON"
    if not isinstance(data, dict) or "version" not in data:
        return f"its {name} has no version"
    if data["version"] != kind.version:
        return f"its {name} has version {data['version']!r}, expected {kind.version}"
    return None


def _holds_cwd(path) -> bool:
    """Whether ``path`` is the current directory or one of its parents."""
    target, cwd = os.path.realpath(path), os.path.realpath(os.getcwd())
    return cwd == target or cwd.startswith(target.rstrip(os.sep) + os.sep)


def foreign_entries(run_dir) -> list:
    """The entries of a run directory that a run does not write (relative paths).

    A run writes RUN_FILES and RUN_FOLDERS (holding subfolders and files of the folder's
    types) and may leave temporaries; anything else, and any symbolic link, is foreign.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     os.makedirs(os.path.join(d, "plots"))
    ...     for name in ("state.json", "notes.txt", os.path.join("plots", "a.png"),
    ...                  os.path.join("plots", "b.txt")):
    ...         _ = open(os.path.join(d, name), "w").close()
    ...     foreign_entries(d)
    ['notes.txt', 'plots/b.txt']
    """
    root = os.fspath(run_dir)
    foreign = []
    for name in sorted(os.listdir(root)):
        path = os.path.join(root, name)
        if os.path.islink(path):
            foreign.append(name)
        elif name in RUN_FOLDERS and os.path.isdir(path):
            foreign.extend(_foreign_in_folder(root, name))
        elif not (os.path.isfile(path) and (name in RUN_FILES or is_temporary(name))):
            foreign.append(name)
    return foreign


def remove_temporaries(run_dir) -> list:
    """Delete the temporaries (``.tmp-*`` of :func:`atomic_write`) a killed run left.

    Returns the removed paths. Only names of atomic_write's pattern go, and only where a
    run writes (its top level and RUN_FOLDERS): a folder of the user's inside the run is
    left alone. Symbolic links are not followed.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     os.makedirs(os.path.join(d, "plots"))
    ...     for name in (".tmp-rounds-ab12cd34.png", ".tmp-notes.txt"):
    ...         _ = open(os.path.join(d, "plots", name), "w").close()
    ...     gone = [os.path.basename(p) for p in remove_temporaries(d)]
    ...     gone, os.listdir(os.path.join(d, "plots"))
    (['.tmp-rounds-ab12cd34.png'], ['.tmp-notes.txt'])
    """
    root = os.fspath(run_dir)
    removed = []
    walks = [[(root, [], os.listdir(root))]]  # the top level, not its other folders
    walks += [os.walk(os.path.join(root, name)) for name in RUN_FOLDERS
              if not os.path.islink(os.path.join(root, name))]
    for folder, _, files in (entry for walk in walks for entry in walk):
        for name in files:
            path = os.path.join(folder, name)
            if is_temporary(name) and os.path.isfile(path) and not os.path.islink(path):
                os.remove(path)
                removed.append(path)
    return removed


# ----------------------------------------------------------------------------- sweeps

#: The ``version`` of ``sweep.json`` that marks a sweep directory of this format.
SWEEP_VERSION = 1
#: The files a sweep writes at its top level (besides stale ``.tmp-*`` temporaries).
SWEEP_FILES = ("sweep.json", "sweep.toml", "base.toml", "points.csv", "results.csv",
               "summary.md", LOCK_NAME)
#: The sweep's folder of points: one run directory each, named ``p000``, ``p001``, ...
SWEEP_POINTS = "points"
_POINT_NAME = re.compile(r"p\d{3,}")

_RUN = _Kind("run", "state.json", STATE_VERSION, "a run's own files", foreign_entries)


def is_sweep(sweep_dir) -> bool:
    """Whether ``sweep_dir`` is a graphnet sweep: ``sweep.json`` with SWEEP_VERSION.

    Examples
    --------
    >>> is_sweep("/nonexistent")
    False
    """
    return _marker_problem(sweep_dir, _SWEEP) is None


def check_sweep(sweep_dir, *, resume: bool, force: bool) -> None:
    """:func:`check` for a sweep directory (``graphnet sweep``).

    A missing or empty directory is fine; an existing one must be a sweep
    (:func:`is_sweep`) to be resumed or forced, and hold only what a sweep writes
    (:func:`sweep_foreign_entries`) to be forced; never the current directory or a parent.

    Raises
    ------
    InputError
        Naming the directory and what is wrong (the foreign entries, for ``force``).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = open(os.path.join(d, "state.json"), "w").close()
    ...     check_sweep(d, resume=True, force=False)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    graphnet.errors.InputError: sweep: --resume refused: ...not a graphnet sweep (no sweep.json); ...
    """
    _check(os.fspath(sweep_dir), resume=resume, force=force, kind=_SWEEP)


def sweep_foreign_entries(sweep_dir) -> list:
    """The entries of a sweep directory that a sweep does not write (relative paths).

    A sweep writes SWEEP_FILES, ``plots/`` (figures) and ``points/pNNN/``, each a run
    directory holding only a run's entries (:func:`foreign_entries`) or nothing yet;
    anything else, and any symbolic link, is foreign.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     os.makedirs(os.path.join(d, "points", "p000"))
    ...     os.makedirs(os.path.join(d, "points", "mine"))
    ...     for name in ("sweep.json", "notes.txt", os.path.join("points", "p000", "x.txt")):
    ...         _ = open(os.path.join(d, name), "w").close()
    ...     sweep_foreign_entries(d)
    ['notes.txt', 'points/mine', 'points/p000']
    """
    root = os.fspath(sweep_dir)
    foreign = []
    for name in sorted(os.listdir(root)):
        path = os.path.join(root, name)
        if name == SWEEP_POINTS and os.path.isdir(path) and not os.path.islink(path):
            foreign.extend(os.path.join(name, p) for p in _foreign_points(path))
        elif name == "plots" and os.path.isdir(path) and not os.path.islink(path):
            foreign.extend(_foreign_in_folder(root, name))
        elif os.path.islink(path) or not (
                os.path.isfile(path) and (name in SWEEP_FILES or is_temporary(name))):
            foreign.append(name)
    return foreign


def _foreign_in_folder(root, name, folders=None) -> list:
    """The foreign entries of a folder ``root/name`` (RUN_FOLDERS or ``folders``: by file type)."""
    types = (folders or RUN_FOLDERS)[name]
    foreign = []
    for folder, dirs, files in os.walk(os.path.join(root, name)):
        rel = os.path.relpath(folder, root)
        foreign.extend(os.path.join(rel, d) for d in sorted(dirs)
                       if os.path.islink(os.path.join(folder, d)))
        foreign.extend(os.path.join(rel, f) for f in sorted(files)
                       if os.path.islink(os.path.join(folder, f))
                       or not (f.endswith(types) or is_temporary(f)))
    return foreign


def _foreign_points(points) -> list:
    """Foreign entries of ``points/``: not a ``pNNN`` run directory, or inside one."""
    foreign = []
    for name in sorted(os.listdir(points)):
        path = os.path.join(points, name)
        if (os.path.islink(path) or not os.path.isdir(path)
                or not _POINT_NAME.fullmatch(name)):
            foreign.append(name)
        elif has_contents(path):
            if not is_run(path):
                foreign.append(name)
            else:
                foreign.extend(os.path.join(name, e) for e in foreign_entries(path))
    return foreign


def remove_own_sweep(sweep_dir) -> None:
    """Delete what a sweep writes (checked by :func:`check_sweep`), keeping its lock."""
    root = os.fspath(sweep_dir)
    for name in os.listdir(root):
        path = os.path.join(root, name)
        if name in (SWEEP_POINTS, "plots") and os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        elif (name in SWEEP_FILES and name != LOCK_NAME) or is_temporary(name):
            os.remove(path)


_SWEEP = _Kind("sweep", "sweep.json", SWEEP_VERSION,
               "a sweep's own files and its points' runs", sweep_foreign_entries)


# ----------------------------------------------------------------------------- searches

#: The ``version`` of ``search.json`` that marks a search directory of this format.
SEARCH_VERSION = 1
#: The files a search writes at its top level (besides stale ``.tmp-*`` temporaries).
SEARCH_FILES = ("search.json", "config.toml", "config.source.toml", "results.csv",
                "generations.csv", "lineage.jsonl", "summary.md", LOCK_NAME)
#: The folders a search writes, with the file types each holds (at any depth).
SEARCH_FOLDERS = {"snapshots": (".json",), "checkpoints": (".json", ".npz"),
                  "plots": (".png", ".gif", ".svg", ".pdf")}


def is_search(search_dir) -> bool:
    """Whether ``search_dir`` is a graphnet search: ``search.json`` with SEARCH_VERSION.

    Examples
    --------
    >>> is_search("/nonexistent")
    False
    """
    return _marker_problem(search_dir, _SEARCH) is None


def check_search(search_dir, *, resume: bool, force: bool) -> None:
    """:func:`check` for a search directory (``graphnet search``).

    Raises
    ------
    InputError
        As :func:`check`, for a directory that is not a search or holds foreign entries.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = open(os.path.join(d, "state.json"), "w").close()
    ...     check_search(d, resume=True, force=False)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    graphnet.errors.InputError: search: --resume refused: ...not a graphnet search (no search.json); ...
    """
    _check(os.fspath(search_dir), resume=resume, force=force, kind=_SEARCH)


def search_foreign_entries(search_dir) -> list:
    """The entries of a search directory that a search does not write (relative paths).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     os.makedirs(os.path.join(d, "snapshots"))
    ...     for name in ("search.json", "notes.txt", os.path.join("snapshots", "a.txt")):
    ...         _ = open(os.path.join(d, name), "w").close()
    ...     search_foreign_entries(d)
    ['notes.txt', 'snapshots/a.txt']
    """
    root = os.fspath(search_dir)
    foreign = []
    for name in sorted(os.listdir(root)):
        path = os.path.join(root, name)
        if name in SEARCH_FOLDERS and os.path.isdir(path) and not os.path.islink(path):
            foreign.extend(_foreign_in_folder(root, name, SEARCH_FOLDERS))
        elif os.path.islink(path) or not (
                os.path.isfile(path) and (name in SEARCH_FILES or is_temporary(name))):
            foreign.append(name)
    return foreign


def remove_own_search(search_dir) -> None:
    """Delete what a search writes (checked by :func:`check_search`), keeping its lock."""
    root = os.fspath(search_dir)
    for name in os.listdir(root):
        path = os.path.join(root, name)
        if name in SEARCH_FOLDERS and os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        elif (name in SEARCH_FILES and name != LOCK_NAME) or is_temporary(name):
            os.remove(path)


_SEARCH = _Kind("search", "search.json", SEARCH_VERSION, "a search's own files",
                search_foreign_entries)
