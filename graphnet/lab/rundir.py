"""The run directory: its layout, atomic writes, and readers for what a run wrote.

Layout (binding for the plots, see the lab spec)::

    RUN/
      config.toml           resolved config (every default filled in)
      config.source.toml    the file as the user wrote it (absent for the built-in default)
      state.json            {"version": 1, "complete": bool, "jobs": {"<seed>/<model>": round}}
      metrics.csv           one row per seed, model, round and epoch (METRICS_COLUMNS)
      history.jsonl         one JSON object per operator application
      snapshots/<model>/seed<S>/round<RRR>.json    node-link JSON, graph models
      checkpoints/<model>/seed<S>/round<RRR>.npz   Sequential.state_dict
      parts/<model>/seed<S>/round<RRR>.json        a job's rows and history of one round
      plots/                PNGs and GIFs
      summary.md
      .lock                 held (flock) by the process running the run; holds its pid

Every file is written atomically (a temporary file in the same directory, flushed and
synced, then ``os.replace``), so a reader -- or a resumed run -- sees either the old file
or the new one, never half of one. A round's part file is written last: its existence
means the round is complete (snapshot and checkpoint already on disk).

A job writes its rounds through :meth:`RunDir.write_round`; the parent merges the part
files into metrics.csv and history.jsonl (:func:`merge_parts`) and, resuming, checks the
config (:func:`check_same_config`) and whether the run is done (:func:`is_finished`).

graphnet deletes or overwrites only what it recognisably wrote: the run marker
(``state.json`` with its version), the entries a run writes and the ``--force`` /
``--resume`` checks live in :mod:`graphnet.lab.ownership`; see :meth:`RunDir.check`.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re

import numpy as np

from graphnet.errors import DataError, InputError
from graphnet.fileio import atomic_write, atomic_write_json, atomic_write_text
from graphnet.lab import ownership
from graphnet.lab.lock import RunLock

__all__ = [
    "METRICS_COLUMNS",
    "HISTORY_KEYS",
    "RunDir",
    "atomic_write",
    "atomic_write_text",
    "atomic_write_json",
    "format_value",
    "read_metrics",
    "read_history",
    "read_state",
    "write_npz",
    "read_npz",
    "metrics_csv",
    "merge_parts",
    "check_same_config",
    "is_finished",
]

#: Columns of metrics.csv, in order.
METRICS_COLUMNS = ("seed", "model", "round", "epoch", "loss", "accuracy", "val_loss",
                   "val_accuracy", "test_loss", "test_accuracy", "edges", "nodes", "params",
                   "det", "rank", "accepted", "time")
#: Keys of every history.jsonl record (``error`` is null unless the operator refused).
HISTORY_KEYS = ("seed", "model", "round", "name", "letter", "args", "dropped_edges",
                "edges_before", "edges_after", "accepted", "error")
_INT_COLUMNS = ("seed", "round", "epoch", "edges", "nodes", "params", "rank", "accepted")
_ROUND_FILE = re.compile(r"round(\d+)\.json")


def format_value(value) -> str:
    """A metrics.csv cell: ``""`` for None, ``repr`` for floats (exact), ``str`` else.

    Examples
    --------
    >>> format_value(None), format_value(0.1), format_value(3), format_value(True)
    ('', '0.1', '3', '1')
    """
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "1" if value else "0"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return str(value)


class RunDir:
    """Paths inside a run directory.

    Parameters
    ----------
    path : str or os.PathLike

    Examples
    --------
    >>> r = RunDir("runs/x")
    >>> r.snapshot("graph", 0, 3)
    'runs/x/snapshots/graph/seed0/round003.json'
    >>> r.job_key(1, "mlp")
    '1/mlp'
    """

    def __init__(self, path):
        self.path = os.fspath(path)

    def __repr__(self):
        return f"RunDir({self.path!r})"

    def _p(self, *parts) -> str:
        return os.path.join(self.path, *parts)

    @property
    def config(self) -> str:
        """The resolved config.toml."""
        return self._p("config.toml")

    @property
    def config_source(self) -> str:
        """The config as the user wrote it."""
        return self._p("config.source.toml")

    @property
    def state(self) -> str:
        """state.json."""
        return self._p("state.json")

    @property
    def metrics(self) -> str:
        """metrics.csv."""
        return self._p("metrics.csv")

    @property
    def history(self) -> str:
        """history.jsonl."""
        return self._p("history.jsonl")

    @property
    def summary(self) -> str:
        """summary.md."""
        return self._p("summary.md")

    @property
    def plots(self) -> str:
        """The plots directory."""
        return self._p("plots")

    @staticmethod
    def job_key(seed, model) -> str:
        """The key of a job in state.json: ``"<seed>/<model>"``."""
        return f"{int(seed)}/{model}"

    def snapshot(self, model, seed, round_) -> str:
        """Node-link JSON of a graph model at the end of a round."""
        return self._p("snapshots", model, f"seed{int(seed)}", f"round{int(round_):03d}.json")

    def checkpoint(self, model, seed, round_) -> str:
        """Parameters of a model at the end of a round (``.npz``)."""
        return self._p("checkpoints", model, f"seed{int(seed)}", f"round{int(round_):03d}.npz")

    def part(self, model, seed, round_) -> str:
        """A job's metrics rows and history records of one round."""
        return self._p("parts", model, f"seed{int(seed)}", f"round{int(round_):03d}.json")

    def completed_round(self, model, seed) -> int:
        """The last round ``r`` such that rounds ``0..r`` all have part files; -1 if none.

        Examples
        --------
        >>> RunDir("/nonexistent").completed_round("graph", 0)
        -1
        """
        directory = os.path.dirname(self.part(model, seed, 0))
        if not os.path.isdir(directory):
            return -1
        done = set()
        for name in os.listdir(directory):
            m = _ROUND_FILE.fullmatch(name)
            if m:
                done.add(int(m.group(1)))
        r = -1
        while r + 1 in done:
            r += 1
        return r

    def read_part(self, model, seed, round_) -> dict:
        """A completed round's part file: ``rows``, ``history``, ``warnings``, ``ref_val_loss``."""
        with open(self.part(model, seed, round_), encoding="utf-8") as fh:
            return json.load(fh)

    def write_round(self, model, seed, round_, *, state: dict, part: dict,
                    network=None) -> None:
        """Write a job's round: the snapshot (graph models), the checkpoint, the part file.

        ``network`` is a GraphNetwork or its node-link JSON text
        (:func:`graphnet.lab.jobs.network_text`), written as it is.

        The part file goes last: its presence means the round is complete.

        Examples
        --------
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     run = RunDir(d)
        ...     run.write_round("mlp", 0, 0, state={"0.W": np.eye(2)}, part={"rows": []})
        ...     run.completed_round("mlp", 0), run.read_part("mlp", 0, 0)
        (0, {'rows': []})
        """
        if network is not None:  # a GraphNetwork, or its node-link JSON text
            snapshot = self.snapshot(model, seed, round_)
            os.makedirs(os.path.dirname(snapshot), exist_ok=True)
            if isinstance(network, str):
                atomic_write_text(snapshot, network)
            else:
                network.to_node_link(snapshot)
        write_npz(self.checkpoint(model, seed, round_), state)
        atomic_write_json(self.part(model, seed, round_), part)

    def rewind_reference(self, model, seed) -> str:
        """A job's lottery rewind reference (node-link JSON), taken in round 0."""
        return self._p("snapshots", model, f"seed{int(seed)}", "rewind.json")

    def write_state(self, complete: bool, jobs: dict) -> None:
        """state.json: the run's marker, whether it is complete, each job's last round."""
        atomic_write_json(self.state, {"version": ownership.STATE_VERSION,
                                       "complete": complete, "jobs": dict(jobs)})

    def exists(self) -> bool:
        """Whether the directory exists and holds anything but a lock and temporaries."""
        return ownership.has_contents(self.path)

    def is_run(self) -> bool:
        """Whether the directory is a graphnet run: ``state.json`` with STATE_VERSION.

        Examples
        --------
        >>> RunDir("/nonexistent").is_run()
        False
        """
        return ownership.is_run(self.path)

    def check(self, *, resume: bool, force: bool) -> None:
        """Refuse, before anything is written, what :meth:`prepare` must not do.

        See :func:`graphnet.lab.ownership.check`: a missing or empty directory is fine; an
        existing one must be a run to be resumed, and hold only a run's own entries (never
        the current directory or a parent) to be forced.

        Raises
        ------
        InputError
            Naming the directory and, for a directory that is not a run's, what it holds.

        Examples
        --------
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     _ = open(os.path.join(d, "notes.txt"), "w").close()
        ...     RunDir(d).check(resume=False, force=False)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        graphnet.errors.InputError: run: ... is not a graphnet run (it holds notes.txt); ...
        """
        ownership.check(self.path, resume=resume, force=force)

    def lock(self) -> RunLock:
        """The run's lock (``RUN/.lock``), not yet taken; makes the directory if missing."""
        os.makedirs(self.path, exist_ok=True)
        return RunLock(self.path)

    def prepare(self, *, resume: bool, force: bool) -> bool:
        """Make the directory ready to run; returns True if it resumes existing work.

        Call it holding :meth:`lock`. It checks again (:meth:`check`), then: a fresh run
        gets its marker ``state.json`` first; ``force`` deletes the run's own entries only
        (the lock stays, the folder itself too); ``resume`` removes the temporaries a
        killed run left where it writes
        (:func:`graphnet.lab.ownership.remove_temporaries`).

        Raises
        ------
        InputError
            As :meth:`check`.

        Examples
        --------
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     run = RunDir(os.path.join(d, "r"))
        ...     first = run.prepare(resume=False, force=False)
        ...     again = run.prepare(resume=True, force=False)
        ...     atomic_write_text(run.metrics, "seed\\n")
        ...     forced = run.prepare(resume=False, force=True), sorted(os.listdir(run.path))
        >>> first, again, forced
        (False, True, (False, ['state.json']))
        """
        self.check(resume=resume, force=force)
        if os.path.isdir(self.path) and self.is_run():
            if resume:
                ownership.remove_temporaries(self.path)
                return True
            if force:
                ownership.remove_own(self.path)
        os.makedirs(self.path, exist_ok=True)
        self.write_state(False, {})
        return False

def merge_parts(run_dir, config) -> tuple[int, int]:
    """Merge the jobs' part files into metrics.csv and history.jsonl, canonical order.

    Rows are sorted by seed (ascending), model (config order), round, epoch.

    Parameters
    ----------
    run_dir : str or os.PathLike
    config : Config
        The run's config (its ``seeds`` and ``models``).

    Returns
    -------
    (int, int)
        Number of metrics rows and history records written.

    Examples
    --------
    >>> import tempfile
    >>> from graphnet.lab.config import parse_config
    >>> from graphnet.lab.runner import run_experiment
    >>> cfg = parse_config('rounds = 0\\nseeds = [0]\\n[data]\\ndataset = "xor"\\n'
    ...                    '[train]\\nepochs = 2\\n[baselines]\\nmodels = []')
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = run_experiment(cfg, d, resume=True, plots=False)
    ...     os.remove(os.path.join(d, "metrics.csv"))
    ...     merge_parts(d, cfg)
    (2, 0)
    """
    run = RunDir(run_dir)
    rows, history = [], []
    for seed in sorted(config.seeds):
        for model in config.models:
            for r in range(run.completed_round(model, seed) + 1):
                part = run.read_part(model, seed, r)
                rows.extend(part["rows"])
                history.extend(part["history"])
    atomic_write_text(run.metrics, metrics_csv(rows))
    atomic_write_text(run.history, "".join(json.dumps(h, allow_nan=False) + "\n"
                                           for h in history))
    return len(rows), len(history)


def check_same_config(run_dir, config) -> None:
    """Refuse to resume a run with another config than its ``config.toml``.

    ``config.matches`` decides (:meth:`graphnet.lab.config.Config.matches`): a run written
    before a key existed still resumes when the config uses that key's default.

    Raises
    ------
    InputError
        The resolved configs differ (a run without config.toml passes).
    """
    run = RunDir(run_dir)
    if not os.path.exists(run.config):
        return
    with open(run.config, encoding="utf-8") as fh:
        stored = fh.read()
    if not config.matches(stored):
        raise InputError(f"run: {run.config} differs from the config given; resume needs the "
                         f"same config (use --force to start over or another --out)")


def is_finished(run_dir, config) -> bool:
    """Whether a run is complete: state.json says so, every round's part and summary.md exist.

    Examples
    --------
    >>> from graphnet.lab.config import parse_config
    >>> is_finished("/nonexistent", parse_config('[data]\\ndataset = "xor"'))
    False
    """
    run = RunDir(run_dir)
    state = read_state(run.path) or {}
    return (state.get("complete") is True and os.path.exists(run.summary)
            and all(run.completed_round(m, s) >= config.rounds
                    for s in config.seeds for m in config.models))


def write_npz(path, arrays: dict) -> None:
    """Save arrays to ``path`` (``.npz``) atomically.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     write_npz(os.path.join(d, "c.npz"), {"0.W": np.eye(2)})
    ...     read_npz(os.path.join(d, "c.npz"))["0.W"].tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    def write(tmp):
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
            fh.flush()
            os.fsync(fh.fileno())

    atomic_write(path, write)


def read_npz(path) -> dict:
    """Load every array of an ``.npz`` file into a dict (see :func:`write_npz`)."""
    with np.load(path) as data:
        return {k: data[k].copy() for k in data.files}


def metrics_csv(rows) -> str:
    """metrics.csv text for an iterable of row dicts (keys METRICS_COLUMNS).

    Examples
    --------
    >>> row = dict.fromkeys(METRICS_COLUMNS); row.update(seed=0, model="mlp", round=0, epoch=1)
    >>> metrics_csv([row]).splitlines()[1]
    '0,mlp,0,1,,,,,,,,,,,,,'
    """
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(METRICS_COLUMNS)
    for row in rows:
        w.writerow([format_value(row[c]) for c in METRICS_COLUMNS])
    return buf.getvalue()


def _parse_cell(text, column, where):
    """One metrics.csv cell as int / float / str, or None when empty."""
    text = text.strip()
    if text == "":
        return None
    if column == "model":
        return text
    try:
        value = float(text)
    except ValueError:
        kind = "an integer" if column in _INT_COLUMNS else "a number"
        raise DataError(f"{where}, column {column!r}: expected {kind}, got {text!r}") from None
    if column in _INT_COLUMNS:
        if not value.is_integer():
            raise DataError(f"{where}, column {column!r}: expected an integer, got {text!r}")
        return int(value)
    return value


def read_metrics(run_dir, *, exact_header=True) -> list:
    """The rows of ``RUN/metrics.csv`` with typed values (None for empty cells).

    Parameters
    ----------
    run_dir : str or os.PathLike
        The run directory (or the CSV file itself).
    exact_header : bool
        Require the header to be exactly METRICS_COLUMNS, as a run writes it. Without it
        the columns may come in any order and extra columns are kept (numbers where they
        parse, else strings); every column of METRICS_COLUMNS must still be there.

    Returns
    -------
    list of dict
        ``seed round epoch edges nodes params rank accepted`` are ``int``, ``model`` is
        ``str``, the others ``float``; an empty cell is ``None``.

    Raises
    ------
    DataError
        A missing file, an empty one, a header that does not fit, a row of the wrong
        length, an empty seed/model/round/epoch, or a cell that is not a number where one
        is expected (naming the line and the column).

    Examples
    --------
    >>> import tempfile
    >>> row = dict.fromkeys(METRICS_COLUMNS)
    >>> row.update(seed=0, model="mlp", round=0, epoch=1, loss=0.5, params=10)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     atomic_write_text(os.path.join(d, "metrics.csv"), metrics_csv([row]))
    ...     back = read_metrics(d)
    >>> back[0]["loss"], back[0]["params"], back[0]["edges"]
    (0.5, 10, None)
    """
    path = os.fspath(run_dir)
    if os.path.isdir(path):
        path = os.path.join(path, "metrics.csv")
    if not os.path.isfile(path):
        raise DataError(f"{path}: metrics file not found")
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            raise DataError(f"{path}: empty file; expected a header line with the columns "
                            f"{', '.join(METRICS_COLUMNS)}")
        header = [h.strip() for h in header]
        if exact_header and tuple(header) != METRICS_COLUMNS:
            raise DataError(f"{path}: expected the columns {','.join(METRICS_COLUMNS)}, "
                            f"got {header}")
        missing = [c for c in METRICS_COLUMNS if c not in header]
        if missing:
            raise DataError(f"{path}: missing column(s) {', '.join(missing)}")
        rows = []
        for line_no, cells in enumerate(reader, start=2):
            if not cells:
                continue
            if len(cells) != len(header):
                raise DataError(f"{path}: line {line_no} has {len(cells)} fields, "
                                f"expected {len(header)}")
            where = f"{path}: line {line_no}"
            row = {}
            for column, text in zip(header, cells):
                if column in METRICS_COLUMNS:
                    row[column] = _parse_cell(text, column, where)
                else:
                    try:
                        row[column] = _parse_cell(text, "extra", where)
                    except DataError:
                        row[column] = text
            for column in ("seed", "model", "round", "epoch"):
                if row[column] is None:
                    raise DataError(f"{where}: column {column!r} is empty")
            rows.append(row)
    return rows


def read_history(run_dir) -> list:
    """The records of ``RUN/history.jsonl`` (an empty list if there is none).

    Raises
    ------
    DataError
        A line that is not valid JSON or not a JSON object (naming the line).

    Examples
    --------
    >>> read_history("/nonexistent")
    []
    """
    path = os.fspath(run_dir)
    if os.path.isdir(path):
        path = os.path.join(path, "history.jsonl")
    if not os.path.isfile(path):
        return []
    records = []
    with open(path, encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"{path}: line {line_no} is not valid JSON ({exc})") from exc
            if not isinstance(record, dict):
                raise DataError(f"{path}: line {line_no} is not a JSON object")
            records.append(record)
    return records


def read_state(run_dir) -> dict | None:
    """``RUN/state.json`` as a dict, or None if there is none.

    Examples
    --------
    >>> read_state("/nonexistent") is None
    True
    """
    path = os.path.join(os.fspath(run_dir), "state.json")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)
