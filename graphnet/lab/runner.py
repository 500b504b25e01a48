"""Running an experiment: mutate-then-train rounds, baselines, resume, parallel seeds.

A run is a set of *jobs*, one per (seed, model). Each job starts from what
:mod:`graphnet.lab.start` builds (its seed's data, the start network or a baseline),
trains its model for round 0, then for rounds 1..R applies the round's mutation (graph
models, :mod:`graphnet.lab.schedule`) and trains again, the same number of epochs every
round. One round (:func:`_run_round`) is: the candidate network, training, the test
evaluation, accept or roll back, and the write. After every round the job writes,
atomically and in this order (:meth:`graphnet.lab.rundir.RunDir.write_round`), the network
snapshot, the checkpoint and its *part file* (the round's metrics rows, operator records
and warnings, see :mod:`graphnet.lab.disconnect`): a part file on disk means the round is
complete. The parent merges the part files into ``metrics.csv`` and ``history.jsonl`` in
canonical order (:func:`graphnet.lab.rundir.merge_parts`).

Determinism: every random stream comes from
``numpy.random.SeedSequence([seed, model_code, round, purpose, ...])`` (see
:func:`graphnet.rng.stream`), so a job needs no saved RNG state to resume, and the result of a
job does not depend on how many run beside it. The models of the graph family (``graph``,
``fixed-graph``, ``set``) share the start network and the training shuffles: their round
0 is identical, and they differ only by what the rounds do to them. Every job runs with
BLAS limited to one thread (``threadpoolctl``) so ``--workers 1`` and ``--workers K``
give the same bits. The ``time`` column is the only one that differs between runs.

Between rounds the optimizer starts fresh (its state would not fit a changed topology;
the baselines do the same so that every model sees the same schedule).

Accept policy ``if-better`` (graph model only): after a round's mutation and training,
the last epoch's validation loss is compared with that of the last kept round; if it is
larger the network (and the front end) roll back to the last kept round's trained state.
The round's rows stay in ``metrics.csv`` with ``accepted = 0`` (they describe the
rejected attempt), its operator records get ``"accepted": false``, and the snapshot and
checkpoint of the round hold the network that is kept.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field

import numpy as np

from graphnet.core.optim import get_optimizer
from graphnet.errors import DivergenceError, InputError
from graphnet.graph.execute import graph_model
from graphnet.graph.network import GraphNetwork
from graphnet.lab import rundir as rd
from graphnet.lab.budget import check_plan
from graphnet.lab.config import GRAPH_MODELS, Config, load_config, parse_config
from graphnet.lab.disconnect import check_round
from graphnet.lab.lifetime import (pool_processes, stop_processes, terminate_on_sigterm,
                                   watch_parent)
from graphnet.lab.lottery import Lottery
from graphnet.lab.progress import RunDisplay, display_mode
from graphnet.lab.schedule import set_round, mutate
from graphnet.lab.start import (Data, baseline_model, build_start, front_layers, load_data,
                                load_front)
from graphnet.lab.summary import summary_table, write_summary
from graphnet.rng import Purpose, stream
from graphnet.threads import limit_blas
from graphnet.train import evaluate, fit

__all__ = [
    "run_experiment",
    "run_many",
    "RunResult",
    "MODEL_CODES",
    "default_workers",
]

#: Stable code of each model in the random streams (so adding a baseline changes nothing
#: for the others). The graph family shares code 0 for the start network and training.
MODEL_CODES = {"graph": 0, "fixed-graph": 1, "set": 2, "mlp": 3, "cnn": 4,
               "logistic": 5, "mlp_residual": 6, "cnn1d": 7, "random-prune": 8}
_FAMILY = {**MODEL_CODES, "fixed-graph": 0, "set": 0, "random-prune": 0}  # training shuffles
# expected cost, for submitting the longest jobs first (results do not depend on it)
_COST = {"cnn": 0, "cnn1d": 0, "graph": 1, "set": 2, "fixed-graph": 3, "mlp": 4,
         "mlp_residual": 4, "logistic": 5, "random-prune": 2}


# ----------------------------------------------------------------------------- one job


@dataclass
class _Job:
    values: dict
    info: dict
    run_dir: str
    seed: int
    model: str
    stop_after_round: int | None = None
    progress: bool = False

    @property
    def key(self) -> str:
        return rd.RunDir.job_key(self.seed, self.model)


def _structure(net) -> dict:
    W = net.matrix()
    return {"edges": net.n_edges, "nodes": net.n_nodes, "det": float(np.linalg.det(W)),
            "rank": int(np.linalg.matrix_rank(W))}


@dataclass
class _Live:
    """What a job carries from round to round."""

    data: Data
    X: tuple  # (X_train, X_val, X_test) as the model takes them
    lr: float
    weight_decay: float
    dtype: np.dtype
    front: list = field(default_factory=list)  # graph family: the CNN front end, if any
    net: object = None  # graph family: the network of the last kept round
    lottery: Lottery | None = None  # rewinding and random-prune (lab/lottery.py)
    model: object = None  # baselines: one model, trained on from round to round
    kept_state: dict | None = None  # the state_dict of the last kept round
    ref_val: float | None = None  # its last epoch's validation loss


def _job_data(job: _Job) -> _Live:
    """The job's data, in the view its model takes, and its training rates."""
    v, name = job.values, job.model
    dtype = np.dtype(v["train"]["dtype"])
    data = load_data(v["data"], job.seed, dtype)
    image = bool(v["network"].get("front")) if name in GRAPH_MODELS else name == "cnn"
    if name not in GRAPH_MODELS:  # each baseline has its own recipe
        lr, wd = v["baselines"][f"{name}_lr"], v["baselines"][f"{name}_weight_decay"]
    else:
        lr, wd = v["train"]["lr"], v["train"]["weight_decay"]
    return _Live(data, data.view("image" if image else "flat"), lr, wd, dtype)


def _job_start(job: _Job, run: rd.RunDir, live: _Live, done: int) -> None:
    """Build the job's model (round 0) or restore it from round ``done`` (resume)."""
    v, seed, name = job.values, job.seed, job.model
    if name in GRAPH_MODELS:
        live.front = front_layers(v["network"].get("front"), live.data.input_shape,
                                  stream(seed, 0, 0, Purpose.INIT_FRONT), live.dtype)
        if done >= 0:
            live.net = GraphNetwork.from_node_link(run.snapshot(name, seed, done))
            live.kept_state = rd.read_npz(run.checkpoint(name, seed, done))
            load_front(live.front, live.kept_state)
        else:
            live.net = build_start(v["network"], job.info["graph_inputs"], live.data.n_classes,
                                   seed=stream(seed, 0, 0, Purpose.INIT))
    else:
        live.model = baseline_model(name, v["baselines"], live.data,
                                    stream(seed, MODEL_CODES[name], 0, Purpose.INIT), live.dtype)
        if done >= 0:
            live.model.load_state_dict(rd.read_npz(run.checkpoint(name, seed, done)))
    live.lottery = Lottery(v, run, name, seed, len(live.front))
    if done >= 0:
        live.ref_val = run.read_part(name, seed, done)["ref_val_loss"]


def _candidate(job: _Job, live: _Live, r: int, report) -> tuple:
    """The round's network before training: (network, operator records, warnings, rolled back).

    ``graph`` applies the schedule, ``set`` its prune and regrow, ``random-prune`` as many random
    removals (lab/lottery.py); a network ``on_disconnected`` refuses raises or rolls back.
    """
    v, seed, name = job.values, job.seed, job.model
    if r == 0 or name == "fixed-graph":
        return live.net, [], [], False
    if name == "graph":
        candidate, records = mutate(live.net, v["mutation"]["schedule"], seed=seed, round_=r,
                                    repair=v["mutation"]["repair"], code=MODEL_CODES["graph"])
    elif name == "random-prune":
        candidate, records = live.lottery.candidate(live.net, r, MODEL_CODES[name])
    else:
        candidate, records = set_round(live.net, seed=seed, round_=r,
                                        fraction=v["baselines"]["set_fraction"],
                                        code=MODEL_CODES["set"])
    # raises for on_disconnected = "stop": nothing of round r is written yet
    warning = check_round(live.net, candidate, records, seed=seed, model=name, round_=r,
                          policy=v["mutation"]["on_disconnected"])
    if warning is None:
        return candidate, records, [], False
    report("warning", job.key, round=r, message=warning["message"])
    if warning["action"] == "rollback":
        return live.net, records, [warning], True
    return candidate, records, [warning], False


def _train(job: _Job, live: _Live, model, r: int, report):
    """Train ``model`` for the round's epochs with a fresh optimizer; returns fit's history."""
    seed, name, tr = job.seed, job.model, job.values["train"]
    X_train, X_val, _ = live.X
    optimizer = get_optimizer(tr["optimizer"], live.lr, weight_decay=live.weight_decay)

    def on_epoch(record):
        report("epoch", job.key, round=r, epoch=record["epoch"])
        live.lottery.epoch_end(r, record["epoch"], model)  # {epoch = k} rewinding

    try:
        return fit(model, X_train, live.data.y_train, loss=tr["loss"], optimizer=optimizer,
                   epochs=tr["epochs"], batch_size=tr["batch_size"],
                   seed=stream(seed, _FAMILY[name], r, Purpose.FIT),
                   validation=(X_val, live.data.y_val) if X_val is not None else None,
                   progress=job.progress, desc=f"seed {seed} {name} round {r}",
                   callback=on_epoch)
    except DivergenceError as exc:  # nothing of round r is written: the run resumes
        saved = f"rounds 0..{r - 1} are saved" if r else "no round is saved yet"
        raise DivergenceError(f"seed {seed} {name} round {r}: {exc}; {saved}") from None


def _keep(job: _Job, live: _Live, model, history, r: int) -> tuple[bool, dict]:
    """Keep the trained round, or roll back (``if-better``); returns (accepted, structure)."""
    state, val = model.state_dict(), history.last["val_loss"]
    if job.model not in GRAPH_MODELS:
        live.kept_state, live.ref_val = state, val
        return True, {"edges": None, "nodes": None, "det": None, "rank": None}
    trained = model.layers[len(live.front)].to_network()
    if (job.model == "graph" and job.values["mutation"]["accept"] == "if-better" and r > 0
            and val > live.ref_val):
        load_front(live.front, live.kept_state)  # roll back: net and kept_state stay
        return False, _structure(trained)
    live.net, live.kept_state, live.ref_val = trained, state, val
    return True, _structure(trained)


def _metrics_rows(job: _Job, r: int, history, test: tuple, structure: dict, n_params: int,
                  accepted: bool) -> list:
    """The round's metrics.csv rows: one per epoch, test results on the last."""
    rows = []
    for rec in history.records:
        last = rec["epoch"] == len(history.records)
        rows.append({
            "seed": job.seed, "model": job.model, "round": r, "epoch": rec["epoch"],
            "loss": rec["loss"], "accuracy": rec["accuracy"], "val_loss": rec["val_loss"],
            "val_accuracy": rec["val_accuracy"],
            "test_loss": test[0] if last else None,
            "test_accuracy": test[1] if last else None,
            **structure, "params": n_params,
            "accepted": int(accepted) if last else None, "time": rec["time"],
        })
    return rows


def _run_round(job: _Job, run: rd.RunDir, live: _Live, r: int, report) -> None:
    """One round: mutate, train, evaluate, accept or roll back, write."""
    candidate, records, warnings, rolled_back = None, [], [], False
    model = live.model
    if job.model in GRAPH_MODELS:
        candidate, records, warnings, rolled_back = _candidate(job, live, r, report)
        candidate = live.lottery.rewind(candidate, r, rolled_back)
        model = graph_model(candidate, front=live.front or None,
                            steps=job.values["network"]["steps"], dtype=live.dtype)
    history = _train(job, live, model, r, report)
    test = evaluate(model, live.X[2], live.data.y_test, job.values["train"]["loss"])
    accepted, structure = _keep(job, live, model, history, r)
    rows = _metrics_rows(job, r, history, test, structure, model.n_params, accepted)
    for rec in records:
        rec.update(seed=job.seed, model=job.model, round=r,
                   accepted=accepted and not rolled_back)
    records = [{k: rec[k] for k in rd.HISTORY_KEYS} for rec in records]
    run.write_round(job.model, job.seed, r, network=live.net, state=live.kept_state,
                    part={"round": r, "accepted": accepted, "ref_val_loss": live.ref_val,
                          "rows": rows, "history": records, "warnings": warnings})


def _run_job(job: _Job, report=None) -> int:
    """Run (or continue) one job; returns the last completed round."""
    report = report or (lambda *a, **k: None)
    run = rd.RunDir(job.run_dir)
    rounds = job.values["rounds"]
    live = _job_data(job)
    done = run.completed_round(job.model, job.seed)
    report("start", job.key, round=done)
    if done >= rounds:
        return done
    _job_start(job, run, live, done)
    for r in range(done + 1, rounds + 1):
        _run_round(job, run, live, r, report)
        report("round", job.key, round=r)
        if job.stop_after_round is not None and r >= job.stop_after_round:
            return r
    return rounds


# ----------------------------------------------------------------------------- workers

_QUEUE = None


def _limit_threads():
    """One BLAS/OpenMP thread, whatever the size: results must not depend on ``--workers``."""
    return limit_blas(1)


def _worker_init(queue, parent_pid):
    global _QUEUE
    _QUEUE = queue
    watch_parent(parent_pid)  # never outlive the run (SIGKILL or SIGTERM on the parent)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    _limit_threads()  # kept for the life of the worker


def _worker_report(kind, key, **data):
    _QUEUE.put((kind, key, data))


def _worker_run(job: _Job) -> int:
    last = _run_job(job, _worker_report)
    _worker_report("done", job.key)
    return last


# ----------------------------------------------------------------------------- the parent


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


class _Monitor:
    """The parent's view of the jobs: state.json, and the live display (lab/progress.py)."""

    def __init__(self, run: rd.RunDir, jobs: list, rounds: int, epochs: int, mode: str):
        self.run, self.rounds = run, rounds
        self.jobs = {j.key: run.completed_round(j.model, j.seed) for j in jobs}
        self.where = {j.key: (j.model, j.seed) for j in jobs}
        self.display = RunDisplay({j.key: f"seed {j.seed} {j.model}" for j in jobs}, rounds,
                                  epochs, mode, done=self.jobs)
        self.write(False)

    def write(self, complete: bool):
        self.run.write_state(complete, self.jobs)

    def _round_result(self, key, round_) -> dict:
        """The finished round's accuracy (validation, else training) from its part file."""
        if self.display.mode != "lines":
            return {}
        try:
            part = self.run.read_part(*self.where[key], round_)
            last = part["rows"][-1]
        except (OSError, ValueError, KeyError, IndexError):
            return {}
        split = "val" if last.get("val_accuracy") is not None else "train"
        return {"accuracy": last["val_accuracy" if split == "val" else "accuracy"],
                "split": split, "accepted": bool(part.get("accepted", True))}

    def __call__(self, kind, key, **data):
        if kind == "start":
            self.jobs[key] = data["round"]
            self.display.start(key, data["round"] + 1)
        elif kind == "epoch":
            self.display.epoch(key, data["round"], data["epoch"])
        elif kind == "round":
            self.jobs[key] = data["round"]
            self.write(False)
            self.display.round(key, data["round"], **self._round_result(key, data["round"]))
        elif kind == "done":
            self.display.done(key)
        elif kind == "warning":  # on_disconnected (lab/disconnect.py): shown in every mode
            text = f"graphnet run: warning: {data['message']}"
            if self.display.mode == "off":
                print(text, file=sys.stderr, flush=True)
            else:
                self.display.note(text)

    def close(self):
        self.display.close()


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


def run_experiment(config, out=None, *, workers=1, resume=False, force=False, progress=None,
                   stop_after_round=None, plots=True, yes=False) -> RunResult:
    """Run an experiment into a run directory.

    Parameters
    ----------
    config : Config or dict or str or os.PathLike
        A checked config, a config dict, or the path of a TOML file.
    out : str or os.PathLike, optional
        The run directory; default the config's ``out``, else ``runs/<name>``.
    workers : int
        Jobs (seed, model) run in a process pool of this size when > 1, else one after
        another in this process. The results are the same bits either way.
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
    t0 = time.perf_counter()
    cfg = _as_config(config)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InputError(f"run: workers must be an int >= 1, got {workers!r}")
    # an absurd plan (rounds = 10**9) is refused before a run directory exists
    check_plan(cfg.values, len(cfg.models), yes=yes)
    if out is None:
        out = cfg.values.get("out") or os.path.join("runs", cfg.name)
    run = rd.RunDir(out)
    run.check(resume=resume, force=force)  # refuse before anything is written
    # the lock first: before --force deletes or --resume reads anything, held to the end
    with run.lock(), terminate_on_sigterm():
        return _run_locked(run, cfg, t0, workers=workers, resume=resume, force=force,
                           progress=progress, stop_after_round=stop_after_round, plots=plots)


def run_many(items, *, workers=1, scheduler=None, resume=False, force=False, progress=None,
             stop_after_round=None, plots=True, yes=False) -> list:
    """Run several experiments, each into its own run directory (a sweep's points).

    ``items`` is a sequence of ``(config, out)`` or ``(config, out, label)``; the other
    arguments are those of :func:`run_experiment`, applied to every item. Returns one
    :class:`RunResult` per item, in order. (Provisional: the items run one after another.)
    """
    if scheduler is not None:
        raise InputError("run: --scheduler is not available yet")
    return [run_experiment(item[0], item[1], workers=workers, resume=resume, force=force,
                           progress=progress, stop_after_round=stop_after_round, plots=plots,
                           yes=yes) for item in items]


def _run_locked(run: rd.RunDir, cfg: Config, t0: float, *, workers, resume, force, progress,
                stop_after_round, plots) -> RunResult:
    """The body of :func:`run_experiment`, holding the run's lock."""
    resuming = run.prepare(resume=resume, force=force)
    if resuming:
        rd.check_same_config(run.path, cfg)
        if rd.is_finished(run.path, cfg):  # nothing to do: no redraw (``graphnet plot`` redraws)
            return RunResult(run.path, True, cfg, summary_table(rd.read_metrics(run.path)),
                             time.perf_counter() - t0, already_complete=True)
    rd.atomic_write_text(run.config, cfg.to_toml())
    if cfg.text is not None and not os.path.exists(run.config_source):
        rd.atomic_write_text(run.config_source, cfg.text)
    jobs = [_Job(cfg.values, cfg.info, run.path, s, m, stop_after_round)
            for s in sorted(cfg.seeds) for m in cfg.models]
    parallel = workers > 1 and len(jobs) > 1
    # fit's own bar stays off in a run (job.progress): epochs reach the display as reports
    monitor = _Monitor(run, jobs, cfg.rounds, cfg["train"]["epochs"],
                       display_mode(progress, sys.stderr))
    try:
        if not parallel:
            with _limit_threads():
                for job in jobs:
                    _run_job(job, monitor)
                    monitor("done", job.key)
        else:
            if multiprocessing.get_start_method() == "fork":
                load_data(cfg["data"], cfg.seeds[0])  # forked workers inherit the imports
            _run_pool(jobs, workers, monitor)
    finally:
        monitor.close()
        rd.merge_parts(run.path, cfg)
    monitor.jobs = {j.key: run.completed_round(j.model, j.seed) for j in jobs}
    complete = all(r >= cfg.rounds for r in monitor.jobs.values())
    # "complete" goes into state.json only once the summary and the figures are written:
    # a run killed while plotting resumes and draws them
    monitor.write(False)
    table = []
    if complete:
        write_summary(run.path)
        if plots:
            _draw(run, monitor)
        table = summary_table(rd.read_metrics(run.path))
        monitor.write(True)
    return RunResult(run.path, complete, cfg, table, time.perf_counter() - t0)


def _draw(run: rd.RunDir, monitor: _Monitor) -> None:
    """Draw the figures of a complete run, then link them from summary.md."""
    # matplotlib is imported only when a run draws: jobs and --no-plots runs start faster
    try:
        from graphnet.lab.plots import plot_run
    except ImportError:
        return
    started = time.perf_counter()
    monitor.display.note(f"plotting figures into {run.plots} ...")
    figures = plot_run(run.path)
    monitor.display.note(f"plotted {len(figures)} figures in "
                         f"{time.perf_counter() - started:.1f} s")
    write_summary(run.path)  # again, now linking the figures


def _run_pool(jobs: list, workers: int, monitor: _Monitor) -> None:
    # the default start method: fork on Linux; spawn elsewhere (scripts need a __main__ guard)
    ctx = multiprocessing.get_context()
    queue = ctx.Queue()
    order = sorted(jobs, key=lambda j: (_COST[j.model], j.seed))
    pool = ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=ctx,
                               initializer=_worker_init, initargs=(queue, os.getpid()))

    def drain():
        while True:
            try:
                kind, key, data = queue.get_nowait()
            except Exception:  # queue.Empty
                return
            monitor(kind, key, **data)

    pending = set()
    try:
        pending = {pool.submit(_worker_run, job) for job in order}
        while pending:
            done, pending = wait(pending, timeout=0.05, return_when=FIRST_COMPLETED)
            drain()
            for f in done:
                f.result()  # re-raise a job's error here
        time.sleep(0.05)
        drain()
    except KeyboardInterrupt:
        # Ctrl-C or SIGTERM (lifetime.Terminated): stop now; the parts written so far stay
        # and the run resumes from them. The pool does not terminate its workers itself.
        processes = pool_processes(pool)
        pool.shutdown(wait=False, cancel_futures=True)
        stop_processes(processes)
        raise
    except BaseException:
        for f in pending:
            f.cancel()
        processes = pool_processes(pool)
        try:
            pool.shutdown(wait=True)  # the running jobs finish their rounds
        except KeyboardInterrupt:  # Ctrl-C or SIGTERM while waiting: stop them now
            stop_processes(processes)
            raise
        raise
    pool.shutdown(wait=True)
