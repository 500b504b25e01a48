"""Running experiments: the client that drives round tasks on an engine and writes the runs.

A run is a set of *jobs*, one per (seed, model), each a chain of rounds 0..R
(:mod:`graphnet.lab.jobs`: one round is a pure function of the job and the last round's
carry). The client submits every job's next round to the engine (:mod:`graphnet.lab.engine`:
this process for ``--workers 1``, Dask distributed otherwise), the longest jobs first, and
writes each result as it comes back, atomically and in this order
(:meth:`graphnet.lab.rundir.RunDir.write_round`): the rewind reference if the round took one,
the network snapshot, the checkpoint, and the round's *part file* (metrics rows, operator
records, warnings): a part file on disk means the round is complete. Only the client writes a
run directory; workers need no shared filesystem. At the end the client merges the part files
into ``metrics.csv`` and ``history.jsonl`` in canonical order
(:func:`graphnet.lab.rundir.merge_parts`), writes ``summary.md`` and draws the figures.

Several runs (a sweep's points, :func:`run_many`) share one engine: all their jobs go to it
together. Results do not depend on the engine or the number of workers: every random stream
comes from the seed, the model and the round (:func:`graphnet.rng.stream`), BLAS runs on one
thread in a round, and the carry is what the run directory holds, so a run continued in
memory, resumed from disk, or retried on another worker gives the same bits. The ``time``
column is the only one that differs between runs.

Accept policy ``if-better`` (graph model only): after a round's mutation and training, the
last epoch's validation loss is compared with that of the last kept round; if it is larger
the network (and the front end) roll back to the last kept round's trained state. The
round's rows stay in ``metrics.csv`` with ``accepted = 0`` (they describe the rejected
attempt), its operator records get ``"accepted": false``, and the snapshot and checkpoint of
the round hold the network that is kept.
"""

from __future__ import annotations

import os
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass, field

from graphnet.errors import InputError
from graphnet.lab import rundir as rd
from graphnet.lab.budget import check_plan
from graphnet.lab.config import GRAPH_MODELS, Config, load_config, parse_config
from graphnet.lab.engine import TaskFailed, open_engine
from graphnet.lab.jobs import MODEL_CODES, Carry, JobSpec
from graphnet.lab.lifetime import terminate_on_sigterm
from graphnet.lab.progress import RunDisplay, display_mode
from graphnet.lab.summary import summary_table, write_summary

__all__ = [
    "run_experiment",
    "run_many",
    "RunResult",
    "MODEL_CODES",
    "default_workers",
]

# relative cost of an epoch, for submitting the longest jobs first (results do not depend on it)
_WEIGHT = {"cnn": 8.0, "cnn1d": 8.0, "graph": 3.0, "set": 3.0, "random-prune": 3.0,
           "fixed-graph": 2.5, "mlp": 1.0, "mlp_residual": 1.5, "logistic": 0.5}


@dataclass
class RunResult:
    """What :func:`run_experiment` did.

    Attributes
    ----------
    path : str
        The run directory.
    complete : bool
        Every job finished every round.
    config : Config
    table : list of dict
        The summary table (see :func:`graphnet.lab.summary.summary_table`).
    elapsed : float
        Wall time of this call, seconds.
    already_complete : bool
        A resumed run that was complete already: nothing was run, written or drawn.
    """

    path: str
    complete: bool
    config: Config
    table: list = field(default_factory=list)
    elapsed: float = 0.0
    already_complete: bool = False


def _as_config(config) -> Config:
    if isinstance(config, Config):
        return config
    if isinstance(config, dict):
        return parse_config(config, source="<dict>")
    if isinstance(config, (str, os.PathLike)):
        return load_config(config)
    raise InputError(f"run_experiment: config must be a Config, a dict or a path, got "
                     f"{type(config).__name__}")


def default_workers() -> int:
    """``min(2, os.cpu_count())``: the default of ``--workers``.

    Examples
    --------
    >>> 1 <= default_workers() <= 2
    True
    """
    return max(1, min(2, os.cpu_count() or 1))


class _Run:
    """One run directory under way: its config, jobs, carries, state.json and results."""

    def __init__(self, cfg: Config, run: rd.RunDir, label: str | None, index: int = 0):
        self.cfg, self.run, self.label, self.index = cfg, run, label, index
        self.jobs = [JobSpec(cfg.values, cfg.info, s, m)
                     for s in sorted(cfg.seeds) for m in cfg.models]
        self.done = {j.key: run.completed_round(j.model, j.seed) for j in self.jobs}
        self.carry: dict = {}
        self.skip = False  # resumed and complete: nothing to run, write or draw

    def ident(self, job: JobSpec) -> str:
        """The job's name on the engine and the display: unique across the runs."""
        return f"{self.index}:{job.key}"

    def title(self, job: JobSpec) -> str:
        text = f"seed {job.seed} {job.model}"
        return f"{self.label} {text}" if self.label else text

    def priority(self, job: JobSpec) -> float:
        left = self.cfg.rounds - self.done[job.key]
        return left * self.cfg["train"]["epochs"] * _WEIGHT.get(job.model, 1.0)

    def load_carry(self, job: JobSpec) -> Carry | None:
        """The carry of the last completed round, read back from the run directory."""
        r = self.done[job.key]
        if r < 0:
            return None
        network = None
        if job.model in GRAPH_MODELS:
            with open(self.run.snapshot(job.model, job.seed, r), encoding="utf-8") as fh:
                network = fh.read()
        reference = None
        path = self.run.rewind_reference(job.model, job.seed)
        if os.path.exists(path):
            with open(path, encoding="utf-8") as fh:
                reference = fh.read()
        return Carry(network, rd.read_npz(self.run.checkpoint(job.model, job.seed, r)),
                     self.run.read_part(job.model, job.seed, r)["ref_val_loss"], reference)

    def write(self, job: JobSpec, result) -> None:
        """Write a finished round (the part file last), then state.json."""
        if result.reference is not None:
            rd.atomic_write_text(self.run.rewind_reference(job.model, job.seed),
                                 result.reference)
        self.run.write_round(job.model, job.seed, result.round, network=result.network,
                             state=result.state, part=result.part)
        self.done[job.key] = result.round
        self.write_state(False)

    def write_state(self, complete: bool) -> None:
        self.run.write_state(complete, self.done)

    @property
    def complete(self) -> bool:
        return all(r >= self.cfg.rounds for r in self.done.values())


def _round_line(result) -> dict:
    """What the lines display says of a finished round: its accuracy and whether it was kept."""
    last = result.part["rows"][-1] if result.part["rows"] else {}
    split = "val" if last.get("val_accuracy") is not None else "train"
    accuracy = last.get("val_accuracy" if split == "val" else "accuracy")
    return {"accuracy": accuracy, "split": split, "accepted": bool(result.part["accepted"])}


class _Driver:
    """Submits each job's next round, writes what comes back, reports progress."""

    def __init__(self, runs: list, display: RunDisplay, stop_after_round):
        self.display, self.stop_after = display, stop_after_round
        self.jobs = {}  # ident -> (run, job)
        for run in runs:
            for job in run.jobs:
                self.jobs[run.ident(job)] = (run, job)
        self.error = None

    def report(self, ident, kind, data) -> None:
        """A progress event from a task (engine thread-safe: called from the client loop)."""
        if ident not in self.jobs:
            return
        if kind == "start":
            self.display.start(ident, data["round"], worker=data.get("worker"))
        elif kind == "epoch":
            self.display.epoch(ident, data["round"], data["epoch"])
        elif kind == "warning":  # on_disconnected (lab/disconnect.py): shown in every mode
            text = f"graphnet run: warning: {data['message']}"
            if self.display.mode == "off":
                print(text, file=sys.stderr, flush=True)
            else:
                self.display.note(text)

    def last_round(self, run: _Run) -> int:
        """The last round this call runs of ``run``'s jobs (``stop_after_round`` caps it)."""
        last = run.cfg.rounds
        return last if self.stop_after is None else min(last, self.stop_after)

    def _submit(self, engine, run: _Run, job: JobSpec) -> None:
        r = run.done[job.key] + 1
        if self.error is None and r <= self.last_round(run):
            engine.submit_round(run.ident(job), job, r, run.carry.get(job.key),
                                priority=run.priority(job))

    def drive(self, engine) -> None:
        """Run every job to its last round; at a job's error the rounds not yet returned are
        cancelled and the error raised (the run resumes from the rounds written)."""
        order = sorted(self.jobs.values(), key=lambda rj: -rj[0].priority(rj[1]))
        for run, job in order:
            if run.done[job.key] < self.last_round(run):
                run.carry[job.key] = run.load_carry(job)
                self._submit(engine, run, job)
            else:
                self.display.done(run.ident(job))
        while engine.pending:
            finished = engine.wait(0.1)
            engine.events()
            for ident, result, error in finished:
                run, job = self.jobs[ident]
                if error is not None:
                    if self.error is None:
                        self.error = self._explain(run, job, error)
                    engine.cancel()
                    continue
                run.write(job, result)
                run.carry[job.key] = result.carry(run.carry.get(job.key))
                self.display.round(ident, result.round, worker=result.worker,
                                   **_round_line(result))
                if run.done[job.key] >= self.last_round(run):
                    run.carry.pop(job.key, None)
                    self.display.done(ident)
                else:
                    self._submit(engine, run, job)
        engine.events()
        if self.error is not None:
            raise self.error

    @staticmethod
    def _explain(run: _Run, job: JobSpec, error: BaseException) -> BaseException:
        if isinstance(error, TaskFailed):
            r = run.done[job.key] + 1
            saved = f"rounds 0..{r - 1} are saved" if r else "no round is saved yet"
            where = f"{run.label} " if run.label else ""
            return TaskFailed(f"{where}seed {job.seed} {job.model} round {r}: {error}; "
                              f"{saved}, --resume continues")
        return error


def run_experiment(config, out=None, *, workers=1, scheduler=None, resume=False, force=False,
                   progress=None, stop_after_round=None, plots=True, yes=False) -> RunResult:
    """Run an experiment into a run directory.

    Parameters
    ----------
    config : Config or dict or str or os.PathLike
        A checked config, a config dict, or the path of a TOML file.
    out : str or os.PathLike, optional
        The run directory; default the config's ``out``, else ``runs/<name>``.
    workers : int
        1: the rounds run in this process; K > 1: on an embedded Dask cluster of K
        single-threaded worker processes (:mod:`graphnet.lab.engine`). The results are the
        same bits either way.
    scheduler : str, optional
        The address of a running Dask scheduler (``tcp://host:8786``) to run the rounds on
        instead; ``workers`` is then ignored.
    resume : bool
        Continue an interrupted run in ``out`` from each job's last completed round
        (the config must be the one the run was started with); only a directory that is
        a graphnet run (see :meth:`graphnet.lab.rundir.RunDir.check`) is resumed, an empty
        or missing one starts fresh. Stale temporaries of a killed run are removed. A run
        that is complete already is neither rerun nor redrawn (``already_complete``).
    force : bool
        Replace the run in ``out``: only a graphnet run holding nothing but a run's own
        entries, never the current directory or one of its parents; its entries are
        deleted, the folder stays.
    progress : bool, optional
        Live output on stderr (see :mod:`graphnet.lab.progress`): ``None`` or ``True``, one
        redrawn bar line on a terminal, else a plain line per finished job round and a
        line before and after plotting; ``False``, nothing.
    stop_after_round : int, optional
        Stop every job after this round is written (simulates an interruption;
        the run directory is left as a killed run would leave it, metrics merged).
    plots : bool
        Draw the figures (``graphnet.lab.plots.plot_run``) when the run completes.
    yes : bool
        Run even a plan over the limits of :func:`graphnet.lab.budget.check_plan`.

    Returns
    -------
    RunResult

    Raises
    ------
    ConfigError
        An invalid config, or a plan over the limits of :func:`graphnet.lab.budget.check_plan`
        (more than 100,000 files or 1,000,000 epochs in all) without ``yes``.
    InputError
        ``out`` exists and neither ``resume`` nor ``force`` is given; ``out`` is not a
        graphnet run (resume, force) or holds what a run does not write (force); another
        process runs in ``out`` (its lock, naming the pid); a resumed run's config
        differs; bad ``workers``. Nothing in ``out`` is touched.
    DivergenceError
        A job's training diverged (naming seed, model and round); the other rounds not yet
        returned are cancelled, the rounds written so far merged; ``resume`` continues.
    TaskFailed
        A round was lost with every Dask worker that ran it (killed, out of memory).
    KeyboardInterrupt
        Ctrl-C, or SIGTERM during the run (:class:`graphnet.lab.lifetime.Terminated`):
        the workers are stopped, the rounds written so far merged; ``resume`` continues.

    Examples
    --------
    >>> import tempfile, os
    >>> cfg = parse_config('rounds = 1\\nseeds = [0]\\n[data]\\ndataset = "xor"\\n'
    ...                    '[train]\\nepochs = 2\\n[baselines]\\nmodels = ["mlp"]')
    >>> with tempfile.TemporaryDirectory() as d:
    ...     res = run_experiment(cfg, os.path.join(d, "run"), plots=False)
    ...     rows = rd.read_metrics(res.path)
    >>> res.complete, len(rows), sorted({r["model"] for r in rows})
    (True, 8, ['graph', 'mlp'])
    """
    return run_many([(config, out)], workers=workers, scheduler=scheduler, resume=resume,
                    force=force, progress=progress, stop_after_round=stop_after_round,
                    plots=plots, yes=yes)[0]


def run_many(items, *, workers=1, scheduler=None, resume=False, force=False, progress=None,
             stop_after_round=None, plots=True, yes=False) -> list:
    """Run several experiments on one engine, each into its own run directory.

    Every run is checked (config, plan, directory) and locked before anything is written;
    then all their jobs go to the engine together, the longest first. A sweep's points are
    such runs (:mod:`graphnet.lab.sweep`).

    Parameters
    ----------
    items : sequence
        ``(config, out)`` or ``(config, out, label)``; ``label`` prefixes the jobs in the
        progress display (e.g. ``"p003"``). ``out`` may be None (the config's ``out``,
        else ``runs/<name>``); two items may not share a directory.
    workers, scheduler, resume, force, progress, stop_after_round, plots, yes
        As for :func:`run_experiment`, for every item.

    Returns
    -------
    list of RunResult
        One per item, in order.

    Raises
    ------
    ConfigError, InputError, DivergenceError, TaskFailed, KeyboardInterrupt
        As :func:`run_experiment`.

    Examples
    --------
    >>> import tempfile, os
    >>> base = 'rounds = 0\\nseeds = [0]\\n[data]\\ndataset = "xor"\\n[baselines]\\nmodels = []\\n'
    >>> with tempfile.TemporaryDirectory() as d:
    ...     results = run_many([(parse_config(base + f"[train]\\nepochs = {e}"),
    ...                          os.path.join(d, f"e{e}")) for e in (1, 2)], plots=False)
    ...     epochs = [len(rd.read_metrics(r.path)) for r in results]
    >>> [r.complete for r in results], epochs
    ([True, True], [1, 2])
    """
    t0 = time.perf_counter()
    prepared = []
    for item in items:
        if not isinstance(item, (tuple, list)) or len(item) not in (2, 3):
            raise InputError(f"run_many: each item must be (config, out) or (config, out, "
                             f"label), got {item!r}")
        cfg = _as_config(item[0])
        out = item[1] if item[1] is not None else (cfg.values.get("out")
                                                   or os.path.join("runs", cfg.name))
        prepared.append((cfg, rd.RunDir(out), item[2] if len(item) == 3 else None))
    if scheduler is None and (isinstance(workers, bool) or not isinstance(workers, int)
                              or workers < 1):
        raise InputError(f"run: workers must be an int >= 1, got {workers!r}")
    seen = {}
    for cfg, run, _ in prepared:
        where = os.path.realpath(run.path)
        if where in seen:
            raise InputError(f"run: two experiments write into the same directory {run.path}")
        seen[where] = True
        # an absurd plan (rounds = 10**9) is refused before a run directory exists
        check_plan(cfg.values, len(cfg.models), yes=yes)
        run.check(resume=resume, force=force)  # refuse before anything is written
    with ExitStack() as stack:
        # the locks first: before --force deletes or --resume reads anything, held to the end
        for _, run, _ in prepared:
            stack.enter_context(run.lock())
        stack.enter_context(terminate_on_sigterm())
        runs = [_open_run(cfg, run, label, k, resume=resume, force=force)
                for k, (cfg, run, label) in enumerate(prepared)]
        todo = [r for r in runs if not r.skip]
        if todo:
            _run_all(todo, workers=workers, scheduler=scheduler, progress=progress,
                     stop_after_round=stop_after_round, plots=plots)
        return [_result(r, t0) for r in runs]


def _open_run(cfg: Config, run: rd.RunDir, label, index: int, *, resume, force) -> _Run:
    """Prepare a locked run directory; a resumed complete run is marked to skip."""
    resuming = run.prepare(resume=resume, force=force)
    if resuming:
        rd.check_same_config(run.path, cfg)
        if rd.is_finished(run.path, cfg):  # nothing to do: no redraw (``graphnet plot`` redraws)
            r = _Run(cfg, run, label, index)
            r.skip = True
            return r
    rd.atomic_write_text(run.config, cfg.to_toml())
    if cfg.text is not None and not os.path.exists(run.config_source):
        rd.atomic_write_text(run.config_source, cfg.text)
    r = _Run(cfg, run, label, index)
    r.write_state(False)
    return r


def _run_all(runs: list, *, workers, scheduler, progress, stop_after_round, plots) -> None:
    """Drive every run's jobs on one engine, then merge, summarise and draw each run."""
    labels, rounds, epochs, done = {}, {}, {}, {}
    for run in runs:
        for job in run.jobs:
            ident = run.ident(job)
            labels[ident], rounds[ident] = run.title(job), run.cfg.rounds
            epochs[ident], done[ident] = run.cfg["train"]["epochs"], run.done[job.key]
    display = RunDisplay(labels, rounds, epochs, display_mode(progress, sys.stderr), done=done)
    driver = _Driver(runs, display, stop_after_round)
    engine = None
    try:
        pending = any(run.done[job.key] < driver.last_round(run)
                      for run in runs for job in run.jobs)
        if pending:
            engine = open_engine(workers=workers, scheduler=scheduler, report=driver.report)
            if engine.name != "in-process":
                display.note(f"engine: {engine.name}")
            driver.drive(engine)
    finally:
        if engine is not None:
            engine.close()
        display.close()
        for run in runs:
            rd.merge_parts(run.run.path, run.cfg)
    for run in runs:
        # "complete" goes into state.json only once the summary and the figures are written:
        # a run killed while plotting resumes and draws them
        run.write_state(False)
        if run.complete:
            write_summary(run.run.path)
            if plots:
                _draw(run.run, display)
            run.write_state(True)


def _result(run: _Run, t0: float) -> RunResult:
    complete = run.complete
    table = summary_table(rd.read_metrics(run.run.path)) if complete else []
    return RunResult(run.run.path, complete, run.cfg, table, time.perf_counter() - t0,
                     already_complete=run.skip)


def _draw(run: rd.RunDir, display: RunDisplay) -> None:
    """Draw the figures of a complete run, then link them from summary.md."""
    # matplotlib is imported only when a run draws: jobs and --no-plots runs start faster
    try:
        from graphnet.lab.plots import plot_run
    except ImportError:
        return
    started = time.perf_counter()
    display.note(f"plotting figures into {run.plots} ...")
    figures = plot_run(run.path)
    display.note(f"plotted {len(figures)} figures in {time.perf_counter() - started:.1f} s")
    write_summary(run.path)  # again, now linking the figures
