"""Topology search: populations of GraphNetworks, varied by the operators, trained by backprop.

:func:`run_search` runs an experiment config's ``[search]`` (keys in
:mod:`graphnet.lab.config`) for every seed into a search directory
(:mod:`graphnet.lab.searchdir`). Per seed:

1. Generation 0: ``population`` start networks (``[network]``; ``start = "minimal"`` wires
   the inputs straight to the outputs), start ``i`` built from the stream
   ``(seed, 0, 0, INIT, i)``, each trained ``epochs`` epochs.
2. Generation ``g >= 1``: ``population`` children (fewer when ``budget`` runs out). Child
   ``i``'s parent is a tournament winner over the population ranked best first (stream
   ``(seed, 0, g, SELECT)``), and its mutation is the schedule applied by
   :func:`graphnet.lab.schedule.mutate` with ``round_ = g`` and ``code = i`` (stream
   ``(seed, i, g, MUTATE, k)`` for entry ``k``), in the task that trains it. A child starts from its parent's trained
   weights and trains ``epochs`` more with ``[train]``'s settings (one optimizer per
   generation, the batches of the stream ``(seed, 0, g, FIT)``).
3. Survival keeps the best ``population`` of parents and children together
   (:mod:`graphnet.lab.selection`: one objective, or NSGA-II on objective x edges): the
   best never gets lost (elitism). Selection sees validation data only; the best
   network's test accuracy is reported, never used.
4. A seed stops when a network meets the stop rule (``fitness_threshold`` on
   ``stop_metric``), after ``generations`` generations, or when ``budget`` networks were
   evaluated. Its best is the smallest network meeting the stop rule (fewest edges, then
   hidden nodes, then rank), else the best by the objective (then validation loss, then
   fewer edges).

Training: a generation's candidates go to the engine (:func:`graphnet.lab.engine.open_engine`)
in chunks of ``chunk`` networks, each chunk one pure task
(:func:`graphnet.lab.searchtask.train_chunk`) that trains
its networks as one population plan (:func:`graphnet.graph.population.compile_population`;
``plan = false``: each in its own). The chunks depend on the config only, so the results are
the same bits for any number of workers; all seeds' generations run side by side.

Every completed generation writes a checkpoint (the seed's population as node-link JSON,
the ancestors of its members, its lineage rows), then the tables and the marker; a search
killed at any point resumes from each seed's last completed generation and ends as the
uninterrupted one would (every draw is a stream of the seed and the generation).
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from graphnet.errors import ConfigError, InputError
from graphnet.fileio import atomic_write_text
from graphnet.graph.network import GraphNetwork
from graphnet.graph.population import compile_population
from graphnet.graph.population_fit import evaluate_population
from graphnet.lab import ownership
from graphnet.lab import searchdir as sd
from graphnet.lab.config import Config, load_config, with_overrides
from graphnet.lab.engine import open_engine
from graphnet.lab.lifetime import terminate_on_sigterm
from graphnet.lab.lock import RunLock
from graphnet.lab.searchconfig import maximised
from graphnet.lab.searchtask import METRICS as _METRICS
from graphnet.lab.searchtask import train_chunk
from graphnet.lab.selection import minimise, nondominated_fronts, rank_order, tournament
from graphnet.lab.start import build_start, load_data
from graphnet.rng import Purpose, stream
from graphnet.threads import limit_blas

__all__ = ["run_search", "SearchResult", "search_out", "MAX_NETWORK_EPOCHS"]

#: More network-epochs than this (seeds x population x (generations + 1) x epochs) need ``yes``.
MAX_NETWORK_EPOCHS = 10**8


@dataclass
class SearchResult:
    """What :func:`run_search` did.

    Attributes
    ----------
    path : str
        The search directory.
    complete : bool
        Every seed finished.
    rows : list of dict
        results.csv's rows (finished seeds).
    table : str
        Those rows as a text table.
    elapsed : float
        Seconds of this call.
    already_complete : bool
        A complete search resumed: nothing ran.
    """

    path: str
    complete: bool
    rows: list = field(default_factory=list)
    table: str = ""
    elapsed: float = 0.0
    already_complete: bool = False


# ----------------------------------------------------------------------------- a seed's state


class _Seed:
    """One seed's search: its data, population (ranked best first), lineage and archive."""

    def __init__(self, seed: int, cfg: Config):
        self.seed = seed
        s = cfg["search"]
        data = load_data(cfg["data"], seed, dtype=np.dtype(cfg["train"]["dtype"]))
        Xt, Xv, Xs = data.view("flat")
        self.arrays = (Xt, data.y_train, Xv, data.y_val)
        self.test = (Xs, data.y_test)
        self.generation = -1          # last completed
        self.evaluations = 0
        self.wall_s = 0.0
        self.population = []          # member dicts, ranked best first
        self.archive = {}             # id -> member dict: ancestors of the population
        self.lineage = []             # rows of lineage.jsonl
        self.gen_rows = []            # rows of generations.csv
        self.finished = False
        self.solved = False
        self.best = None              # member dict
        self.pending = {}             # chunk index -> result
        self.children = []            # member dicts (no metrics yet) of the running generation
        self.n_chunks = 0
        self.client_s = 0.0           # seconds of making the running generation
        self.maximise = maximised(s["objective"])

    # -- checkpoint ----------------------------------------------------------------------

    def state(self) -> dict:
        return {"seed": self.seed, "generation": self.generation, "evaluations": self.evaluations,
                "wall_s": self.wall_s, "finished": self.finished, "solved": self.solved,
                "best": self.best["id"] if self.best else None,
                "population": [_stored(m) for m in self.population],
                "archive": [_stored(m) for m in self.archive.values()],
                "lineage": self.lineage, "generations": self.gen_rows}

    def restore(self, state: dict) -> None:
        self.generation, self.evaluations = state["generation"], state["evaluations"]
        self.wall_s, self.finished, self.solved = state["wall_s"], state["finished"], state["solved"]
        self.population = [_loaded(m) for m in state["population"]]
        self.archive = {m["id"]: m for m in map(_loaded, state["archive"])}
        self.lineage, self.gen_rows = state["lineage"], state["generations"]
        every = {**self.archive, **{m["id"]: m for m in self.population}}
        self.best = every.get(state["best"])


def _stored(member: dict) -> dict:
    return {**{k: v for k, v in member.items() if k != "net"}, "net": member["net"].to_node_link()}


def _loaded(member: dict) -> dict:
    return {**member, "net": GraphNetwork.from_node_link(member["net"])}


# ----------------------------------------------------------------------------- the driver


def search_out(cfg: Config, out=None) -> str:
    """The search directory: ``out``, else the config's ``out``, else ``runs/<name>-search``.

    Examples
    --------
    >>> from graphnet.lab.config import parse_config
    >>> search_out(parse_config('name = "x"\\n[data]\\ndataset = "xor"'))
    'runs/x-search'
    """
    if out is not None:
        return os.fspath(out)
    return cfg.values.get("out") or os.path.join("runs", f"{cfg.name}-search")


def _resolve_config(config, seeds) -> Config:
    if isinstance(config, (str, os.PathLike)):
        config = load_config(config)
    if not isinstance(config, Config):
        raise InputError(f"run_search: config must be a Config or a path, got "
                         f"{type(config).__name__}")
    over = {}
    if "search" not in config.values:
        over["search"] = {}
    if seeds is not None:
        over["seeds"] = list(seeds)
    return with_overrides(config, over) if over else config


def _check_plan(cfg: Config, yes: bool) -> None:
    s = cfg["search"]
    total = len(cfg.seeds) * s["population"] * (s["generations"] + 1) * s["epochs"]
    if s["budget"]:
        total = min(total, len(cfg.seeds) * s["budget"] * s["epochs"])
    if total > MAX_NETWORK_EPOCHS and not yes:
        raise ConfigError(f"{cfg.source}: [search] plans {total} network-epochs (limit "
                          f"{MAX_NETWORK_EPOCHS:,}); reduce population, generations, budget, "
                          f"epochs or seeds, or pass --yes (run_search(..., yes=True))")


def run_search(config, out=None, *, seeds=None, workers=1, scheduler=None, resume=False,
               force=False, progress=None, plots=True, yes=False,
               stop_after_generation=None) -> SearchResult:
    """Run a topology search for every seed of an experiment config into a search directory.

    Parameters
    ----------
    config : Config or str or os.PathLike
        A checked config or a TOML file; without ``[search]`` its defaults.
    out : str or os.PathLike, optional
        The search directory (:func:`search_out`).
    seeds : sequence of int, optional
        Override the config's seeds.
    workers, scheduler
        The engine (:func:`graphnet.lab.engine.open_engine`); results do not depend on it.
    resume : bool
        Continue an interrupted search (the same resolved config) from every seed's last
        completed generation.
    force : bool
        Delete the search's own entries (never anything else, never the current directory
        or a parent) and start over.
    progress : bool, optional
        A line per completed generation on stderr (default: yes).
    plots : bool
        Draw the search's figures at the end (when :mod:`graphnet.lab.plots.search` exists).
    yes : bool
        Run a plan over :data:`MAX_NETWORK_EPOCHS`.
    stop_after_generation : int, optional
        Stop every seed after this generation (simulates an interruption).

    Returns
    -------
    SearchResult

    Raises
    ------
    ConfigError
        A bad config or an oversized plan, before anything is written.
    InputError
        The directory exists without ``resume``/``force``, is not a search, holds foreign
        entries (``force``), is in use, or was made from another config (``resume``).
    KeyboardInterrupt
        Ctrl-C or SIGTERM: every completed generation stays; ``resume`` continues.

    Examples
    --------
    >>> import tempfile
    >>> from graphnet.lab.config import parse_config
    >>> cfg = parse_config('seeds = [0]\\n[data]\\ndataset = "xor"\\n[network]\\n'
    ...                    'start = "minimal"\\n[train]\\nbatch_size = 4\\n'
    ...                    '[[mutation.schedule]]\\nop = "split_edge"\\n'
    ...                    '[search]\\npopulation = 4\\ngenerations = 2\\nepochs = 5')
    >>> with tempfile.TemporaryDirectory() as d:
    ...     res = run_search(cfg, os.path.join(d, "s"), progress=False, plots=False)
    ...     names = sorted(os.listdir(res.path))
    >>> res.complete, res.rows[0]["evaluations"], names[:4]
    (True, 12, ['.lock', 'checkpoints', 'config.source.toml', 'config.toml'])
    """
    t0 = time.perf_counter()
    cfg = _resolve_config(config, seeds)
    _check_plan(cfg, yes)
    path = search_out(cfg, out)
    ownership.check_search(path, resume=resume, force=force)  # before anything is written
    os.makedirs(path, exist_ok=True)
    say = _reporter(progress)
    with RunLock(path), terminate_on_sigterm():
        states = _prepare(path, cfg, resume=resume, force=force)
        if all(st.finished for st in states) and sd.read_marker(path).get("complete") \
                and os.path.exists(os.path.join(path, "results.csv")):
            rows = [_result_row(st) for st in states]
            return SearchResult(path, True, rows, _table(rows), time.perf_counter() - t0,
                                already_complete=True)
        try:
            _drive(path, cfg, states, workers, scheduler, say, stop_after_generation)
        except BaseException:  # Ctrl-C, SIGTERM, a failed task: the tables of what is done
            _write_all(path, states, complete=False)
            raise
        complete = all(st.finished for st in states)
        _write_all(path, states, complete=complete)
        if complete:
            _reports(path, plots)
            _write_marker(path, states, complete=True)
    rows = [_result_row(st) for st in states if st.finished]
    return SearchResult(path, complete, rows, _table(rows), time.perf_counter() - t0)


def _reporter(progress):
    if progress is False:
        return lambda text: None
    return lambda text: print(f"graphnet search: {text}", file=sys.stderr, flush=True)


def _prepare(path: str, cfg: Config, *, resume: bool, force: bool) -> list:
    """Holding the lock: check again, force or resume; the seeds' states (restored)."""
    ownership.check_search(path, resume=resume, force=force)
    resuming = False
    if ownership.is_search(path):
        if resume:
            stored = _read_text(os.path.join(path, "config.toml"))
            if stored is not None and not cfg.matches(stored):
                raise InputError(f"search: --resume refused: {path} was made from another "
                                 f"config (its config.toml differs); use --force to start over "
                                 f"or choose another --out")
            ownership.remove_temporaries(path)
            resuming = True
        elif force:
            ownership.remove_own_search(path)
    states = [_Seed(s, cfg) for s in cfg.seeds]
    if resuming:
        for st in states:  # the newest checkpoint (the marker may lag it by one)
            state = sd.read_checkpoint(path, st.seed)
            if state is not None:
                st.restore(state)
    else:
        _write_marker(path, states, complete=False)
        atomic_write_text(os.path.join(path, "config.toml"), cfg.to_toml())
        if cfg.text is not None:
            atomic_write_text(os.path.join(path, "config.source.toml"), cfg.text)
    return states


def _read_text(path: str):
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except OSError:
        return None


def _write_marker(path, states, *, complete):
    sd.write_marker(path, seeds={st.seed: st.generation for st in states if st.generation >= 0},
                    finished=[st.seed for st in states if st.finished], complete=complete)


def _settings(cfg: Config) -> dict:
    t, s = cfg["train"], cfg["search"]
    return {"epochs": s["epochs"], "batch_size": t["batch_size"], "optimizer": t["optimizer"],
            "lr": t["lr"], "weight_decay": t["weight_decay"], "loss": t["loss"],
            "dtype": t["dtype"], "steps": cfg["network"]["steps"], "plan": s["plan"],
            "schedule": cfg["mutation"]["schedule"], "repair": cfg["mutation"]["repair"]}


def _drive(path, cfg, states, workers, scheduler, say, stop_after) -> None:
    """Run every unfinished seed's generations on the engine until done or stopped."""
    settings = _settings(cfg)
    engine = open_engine(workers=workers, scheduler=scheduler)
    try:
        for st in states:
            _next_generation(st, cfg, engine, settings, stop_after)
        while engine.pending:
            for ident, result, error in engine.wait(0.1):
                if error is not None:
                    raise error
                seed, c = ident.split("/")[1:3]
                st = next(x for x in states if x.seed == int(seed))
                st.pending[int(c)] = result
                if len(st.pending) == st.n_chunks:
                    _complete_generation(st, cfg, say)
                    _checkpoint(path, st, states)
                    _next_generation(st, cfg, engine, settings, stop_after)
    finally:
        engine.close()


def _next_generation(st: _Seed, cfg: Config, engine, settings, stop_after) -> None:
    """Make and submit the next generation's candidates (nothing if the seed is done)."""
    s = cfg["search"]
    if st.finished or (stop_after is not None and st.generation >= stop_after):
        return
    t0 = time.perf_counter()
    g = st.generation + 1
    n = s["population"]
    if g == 0:
        n_in, n_out = st.arrays[0].shape[1], cfg.info["n_classes"]
        st.children = [_member(f"g0-{i}", None, [], 0,
                               build_start(cfg["network"], n_in, n_out,
                                           seed=stream(st.seed, 0, 0, Purpose.INIT, i)))
                       for i in range(n)]
    else:
        if s["budget"]:
            n = min(n, s["budget"] - st.evaluations)
        picks = tournament(stream(st.seed, 0, g, Purpose.SELECT), len(st.population),
                           s["tournament_size"], n)
        st.children = [_member(f"g{g}-{i}", st.population[int(k)]["id"], [], g,
                               st.population[int(k)]["net"])  # the parent, mutated by the task
                       for i, k in enumerate(picks)]
    chunk = s["chunk"]
    st.pending, st.client_s = {}, time.perf_counter() - t0
    st.n_chunks = (len(st.children) + chunk - 1) // chunk
    for c in range(st.n_chunks):
        nets = [m["net"] for m in st.children[c * chunk:(c + 1) * chunk]]
        codes = None if g == 0 else list(range(c * chunk, c * chunk + len(nets)))
        engine.submit(f"search/{st.seed}/{c}/g{g}", train_chunk, nets, st.arrays, settings,
                      st.seed, g, codes, priority=-g)


def _member(ident, parent, ops, generation, net) -> dict:
    return {"id": ident, "parent": parent, "ops": ops, "generation": generation, "net": net}


def _complete_generation(st: _Seed, cfg: Config, say) -> None:
    """Survival, lineage rows, the stop rule and the generation's row."""
    t0 = time.perf_counter()
    s = cfg["search"]
    g = st.generation + 1
    for c in range(st.n_chunks):
        res = st.pending[c]
        st.wall_s += res["seconds"]
        for j, net in enumerate(res["nets"]):
            m = st.children[c * s["chunk"] + j]
            m["net"], m["ops"] = net, res["ops"][j]
            for key in _METRICS:
                m[key] = res[key][j]
            m["edges"], m["hidden"] = int(net.n_edges), int(net.n_hidden)
    st.pending = {}
    pool = st.population + st.children
    keep = _ranked(pool, s["objective"], st.maximise, s["selection"])[:s["population"]]
    st.population = [pool[int(k)] for k in keep]
    kept = {m["id"] for m in st.population}
    for m in st.children:
        st.lineage.append({"seed": st.seed, "generation": g, "id": m["id"], "parent": m["parent"],
                           "ops": m["ops"], "fitness": m[s["objective"]],
                           "val_accuracy": m["val_accuracy"], "val_loss": m["val_loss"],
                           "edges": m["edges"], "hidden": m["hidden"],
                           "selected": m["id"] in kept, "train_accuracy": m["train_accuracy"],
                           "train_loss": m["train_loss"]})
    st.evaluations += len(st.children)
    st.generation = g
    _stop_rule(st, cfg, st.children)
    st.children = []
    best = st.population[int(_ranked(st.population, s["objective"], st.maximise,
                                     "tournament")[0])]
    if st.finished and st.best is None:
        st.best = best
    _update_archive(st, pool)
    st.wall_s += st.client_s + time.perf_counter() - t0  # tasks' seconds added above
    pop_obj = np.array([m[s["objective"]] for m in st.population], dtype=float)
    F = np.column_stack([minimise(pop_obj, st.maximise), [m["edges"] for m in st.population]])
    st.gen_rows.append({"seed": st.seed, "generation": g, "evaluations": st.evaluations,
                        "best": best[s["objective"]],
                        "median": float(np.nanmedian(pop_obj)) if np.isfinite(pop_obj).any()
                        else float("nan"),
                        "front_size": int(len(nondominated_fronts(F)[0])),
                        "best_edges": best["edges"],
                        "median_edges": float(np.median([m["edges"] for m in st.population])),
                        "wall_s": st.wall_s})
    if st.finished:
        st.best["test_accuracy"] = _test_accuracy(st.best["net"], st.test, cfg)
    say(f"seed {st.seed} generation {g}: {st.evaluations} evaluated, best "
        f"{s['objective']} {best[s['objective']]:.4g} ({best['edges']} edges, "
        f"{best['hidden']} hidden)" + (" -- solved" if st.solved else "")
        + (" -- done" if st.finished else ""))


def _ranked(members, objective, maximise, kind) -> np.ndarray:
    """:func:`graphnet.lab.selection.rank_order` of member dicts."""
    return rank_order(minimise([m[objective] for m in members], maximise),
                      [m["val_loss"] for m in members], [m["edges"] for m in members], kind)


def _stop_rule(st: _Seed, cfg: Config, children) -> None:
    """Finish the seed: solved (a child meets the stop rule), or out of generations or budget."""
    s = cfg["search"]
    if "fitness_threshold" in s:
        metric, x = s["stop_metric"], s["fitness_threshold"]
        met = [m for m in children if (m[metric] >= x if maximised(metric) else m[metric] <= x)]
        if met:  # the smallest solver, then the best ranked
            order = {m["id"]: k for k, m in enumerate(st.population)}
            st.best = min(met, key=lambda m: (m["edges"], m["hidden"],
                                               order.get(m["id"], len(order)),
                                               children.index(m)))
            st.solved = st.finished = True
            return
    if st.generation >= s["generations"] or (s["budget"] and st.evaluations >= s["budget"]):
        st.finished = True


def _update_archive(st: _Seed, pool) -> None:
    """Keep the population's ancestors and the best with its ancestors (for the snapshots)."""
    every = {**st.archive, **{m["id"]: m for m in pool}}
    keep = {}
    if st.best is not None:
        keep[st.best["id"]] = st.best
    for m in list(st.population) + ([st.best] if st.best else []):
        ident = m["parent"]
        while ident is not None and ident not in keep:
            keep[ident] = every[ident]
            ident = every[ident]["parent"]
    st.archive = keep


def _test_accuracy(net, test, cfg) -> float:
    """The best network's test accuracy: reported, never used for selection."""
    with limit_blas(1):
        pop = compile_population([net], steps=cfg["network"]["steps"],
                                 dtype=np.dtype(cfg["train"]["dtype"]))
        _, acc = evaluate_population(pop, *test, cfg["train"]["loss"])
    return float(acc[0])


# ----------------------------------------------------------------------------- writing


def _checkpoint(path: str, st: _Seed, states) -> None:
    """After a seed's generation: its checkpoint, its snapshots when done, the marker."""
    if st.finished:  # before the checkpoint that says so: a kill between them redoes both
        _snapshots(path, st)
    sd.write_checkpoint(path, st.seed, st.generation, st.state())
    _write_marker(path, states, complete=False)  # the tables: when the search stops


def _snapshots(path: str, st: _Seed) -> None:
    best = st.best
    every = {**st.archive, **{m["id"]: m for m in st.population}}
    chain, ident = {}, best["id"]
    while ident is not None:
        chain[ident] = every[ident]["net"].to_node_link()
        ident = every[ident]["parent"]
    front = {m["id"]: m["net"].to_node_link() for m in _front(st)}
    sd.write_snapshots(path, st.seed, best=best["net"].to_node_link(), front=front,
                       lineage=dict(reversed(list(chain.items()))))


def _front(st: _Seed) -> list:
    """The final population's first front on (objective, edges)."""
    key = "val_accuracy" if st.maximise else "val_loss"
    F = np.column_stack([minimise([m[key] for m in st.population], st.maximise),
                         [m["edges"] for m in st.population]])
    return [st.population[int(k)] for k in nondominated_fronts(F)[0]]


def _write_all(path: str, states, *, complete: bool) -> None:
    sd.write_tables(path, results=[_result_row(st) for st in states if st.finished],
                    generations=[r for st in states for r in st.gen_rows],
                    lineage=[r for st in states for r in st.lineage])
    _write_marker(path, states, complete=complete)


def _result_row(st: _Seed) -> dict:
    b = st.best
    return {"seed": st.seed, "solved": st.solved, "generations": st.generation,
            "evaluations": st.evaluations, "wall_s": st.wall_s,
            "best_val_accuracy": b["val_accuracy"], "best_test_accuracy": b["test_accuracy"],
            "best_edges": b["edges"], "best_hidden": b["hidden"], "best_id": b["id"],
            "best_val_loss": b["val_loss"]}


def _table(rows) -> str:
    """results rows as an aligned text table."""
    head = ("seed", "solved", "gens", "evals", "val_acc", "test_acc", "edges", "hidden", "wall_s")
    keys = ("seed", "solved", "generations", "evaluations", "best_val_accuracy",
            "best_test_accuracy", "best_edges", "best_hidden", "wall_s")
    lines = [head]
    for r in rows:
        lines.append(tuple(f"{r[k]:.4f}" if isinstance(r[k], float) else
                           ("yes" if r[k] is True else "no" if r[k] is False else str(r[k]))
                           for k in keys))
    widths = [max(len(line[j]) for line in lines) for j in range(len(head))]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(line, widths)) for line in lines)


def _reports(path: str, plots: bool) -> None:
    """summary.md and the figures, by graphnet.lab.searchreport and plots.search if present."""
    try:
        from graphnet.lab.searchreport import write_search_summary
    except ImportError:
        pass
    else:
        write_search_summary(path)
    if plots:
        try:
            from graphnet.lab.plots.search import plot_search
        except ImportError:
            pass
        else:
            plot_search(path)
