"""Running an experiment: mutate-then-train rounds, baselines, resume, parallel seeds.

A run is a set of *jobs*, one per (seed, model). Each job trains its model for round 0,
then for rounds 1..R applies the round's mutation (graph models) and trains again, the
same number of epochs every round. After every round the job writes, atomically and in
this order, the network snapshot, the checkpoint and its *part file* (the round's metrics
rows, operator records and warnings, see :mod:`graphnet.lab.disconnect`): a part file on
disk means the round is complete. The parent
merges the part files into ``metrics.csv`` and ``history.jsonl`` in canonical order.

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

import json
import multiprocessing
import os
import sys
import time
import tomllib
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field

import numpy as np

from graphnet.errors import DivergenceError, GraphError, InputError, OperatorError
from graphnet.lab import rundir as rd
from graphnet.lab.config import (GRAPH_MODELS, Config, load_config, operator_args,
                                 parse_config, sampler_keywords)
from graphnet.lab.disconnect import check_round
from graphnet.lab.lifetime import stop_processes, terminate_on_sigterm, watch_parent
from graphnet.lab.progress import RunDisplay, display_mode
from graphnet.rng import Purpose, stream
from graphnet.threads import limit_blas

__all__ = [
    "run_experiment",
    "RunResult",
    "build_start",
    "apply_entry",
    "entry_args",
    "mutate",
    "load_data",
    "MODEL_CODES",
    "Data",
    "merge_parts",
    "default_workers",
]

#: Stable code of each model in the random streams (so adding a baseline changes nothing
#: for the others). The graph family shares code 0 for the start network and training.
MODEL_CODES = {"graph": 0, "fixed-graph": 1, "set": 2, "mlp": 3, "cnn": 4}
_FAMILY = {"graph": 0, "fixed-graph": 0, "set": 0, "mlp": 3, "cnn": 4}
# expected cost, for submitting the longest jobs first (results do not depend on it)
_COST = {"cnn": 0, "graph": 1, "set": 2, "fixed-graph": 3, "mlp": 4}


# ----------------------------------------------------------------------------- data


@dataclass
class Data:
    """One seed's data: train (minus validation), validation, test; images if the set has them."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray | None
    y_val: np.ndarray | None
    X_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    input_shape: tuple

    def view(self, kind: str) -> tuple:
        """(X_train, X_val, X_test) as ``"image"`` (as stored) or ``"flat"`` (n, features)."""
        def f(X):
            if X is None or kind == "image":
                return X
            return X.reshape(len(X), -1)

        return f(self.X_train), f(self.X_val), f(self.X_test)


def load_data(data: dict, seed: int, dtype=np.float64) -> Data:
    """Load and split the data of one seed as the ``[data]`` table says.

    The test split comes from the stream ``(seed, 0, 0, DATA)``, the validation split
    from ``(seed, 0, 0, VALSPLIT)``: every model of a seed sees the same samples.

    Parameters
    ----------
    data : dict
        A resolved ``[data]`` table.
    seed : int
    dtype : float dtype

    Returns
    -------
    Data

    Examples
    --------
    >>> d = load_data({"dataset": "xor", "test_size": 0.2, "validation": 0.1,
    ...                "scale": "unit", "max_train": 0, "max_test": 0}, seed=0)
    >>> d.X_train.shape, d.X_val.shape, d.n_classes
    ((4, 2), (4, 2), 2)
    """
    from graphnet.data import load_dataset, train_test_split

    dataset = data["dataset"]
    base = dataset.split(":", 1)[0]
    spec = "digits-image" if base == "digits" else dataset
    kw = {"n_samples": data["n_samples"]} if base == "spirals" else {}
    kw.update({k: data[k] for k in ("n_classes", "label") if k in data})
    ds = load_dataset(spec, seed=stream(seed, 0, 0, Purpose.DATA), test_size=data["test_size"],
                      scale=data["scale"], dtype=dtype, **kw)
    X_train, y_train = ds.X_train, ds.y_train
    X_val = y_val = None
    if data["validation"] > 0:
        if base == "xor":  # four points: validate on them
            X_val, y_val = X_train.copy(), y_train.copy()
        else:
            X_train, X_val, y_train, y_val = train_test_split(
                X_train, y_train, test_size=data["validation"],
                seed=stream(seed, 0, 0, Purpose.VALSPLIT))
    X_test, y_test = ds.X_test, ds.y_test
    if data["max_train"]:
        X_train, y_train = X_train[:data["max_train"]], y_train[:data["max_train"]]
    if data["max_test"]:
        X_test, y_test = X_test[:data["max_test"]], y_test[:data["max_test"]]
    return Data(X_train, y_train, X_val, y_val, X_test, y_test, ds.n_classes, ds.input_shape)


# ----------------------------------------------------------------------------- networks


def _set_hidden_activation(net, activation: str):
    if activation == "keep":
        return net
    acts = [activation if role == "hidden" else a for role, a in zip(net.roles, net.activations)]
    return net if tuple(acts) == net.activations else net.replace(activations=acts)


def _widen_seed_example(net, n_in: int, n_out: int, rng):
    """Fit the seed's 6-node network to ``n_in`` inputs and ``n_out`` outputs.

    The seed's graph has one input ``x0 -> s0`` and one output ``s3`` (fed by s2 and s4).
    Each extra input feeds ``s0`` like ``x0``; each extra output is fed by ``s2`` and
    ``s4`` like ``s3``. New weights ~ Normal(0, 1). With one input and one output the
    network is the seed's, unchanged.
    """
    if n_in == 1 and n_out == 1:
        return net
    n0 = net.n_nodes
    n = n0 + (n_in - 1) + (n_out - 1)
    W = np.zeros((n, n))
    W[:n0, :n0] = net.matrix()
    roles = list(net.roles) + ["input"] * (n_in - 1) + ["output"] * (n_out - 1)
    names = list(net.names) + [f"x{k}" for k in range(1, n_in)] + [f"y{k}" for k in range(1, n_out)]
    acts = list(net.activations) + ["identity"] * (n - n0)
    s0, s2, s4 = (net.names.index(s) for s in ("s0", "s2", "s4"))
    for k in range(n_in - 1):
        W[n0 + k, s0] = rng.normal()
    for k in range(n_out - 1):
        o = n0 + n_in - 1 + k
        W[s2, o], W[s4, o] = rng.normal(size=2)
    biases = np.concatenate([net.biases(), np.zeros(n - n0)])
    return net.replace(W=W, biases=biases, roles=roles, activations=acts, names=names)


def build_start(network: dict, n_inputs: int, n_outputs: int, seed):
    """The starting GraphNetwork of a resolved ``[network]`` table.

    Parameters
    ----------
    network : dict
        Resolved ``[network]`` (see :mod:`graphnet.lab.config`).
    n_inputs : int
        Inputs of the graph (the data's features, or the front end's output size).
    n_outputs : int
        Number of classes.
    seed : int or numpy.random.Generator

    Returns
    -------
    GraphNetwork

    Raises
    ------
    GraphError, CycleError, DataError
        A network that cannot be built (e.g. the seed's example in feedforward mode).

    Examples
    --------
    >>> net = build_start({"start": "layered", "sizes": [2, 3, 2], "mode": "feedforward",
    ...                    "activation": "tanh", "steps": 5}, 2, 2, seed=0)
    >>> net.n_nodes, net.n_edges
    (7, 12)
    >>> w = build_start({"start": "seed_example", "mode": "recurrent", "activation": "tanh",
    ...                  "steps": 5}, 2, 2, seed=0)
    >>> w.n_inputs, w.n_outputs, w.cycles()
    (2, 2, [[0, 1]])
    """
    from graphnet.graph.network import GraphNetwork
    from graphnet.rng import make_rng

    rng = make_rng(seed)
    start, mode, act = network["start"], network["mode"], network["activation"]
    if start == "layered":
        if network["sizes"][0] != n_inputs or network["sizes"][-1] != n_outputs:
            raise GraphError(f"layered sizes {network['sizes']} do not match {n_inputs} inputs "
                             f"and {n_outputs} outputs")
        net = GraphNetwork.layered(network["sizes"], seed=rng, activation=act)
    elif start == "random":
        net = GraphNetwork.random(n_inputs, network["n_hidden"], n_outputs, network["density"],
                                  seed=rng, mode=mode, activation=act)
    elif start == "seed_example":
        net = _widen_seed_example(GraphNetwork.seed_example(mode=mode), n_inputs, n_outputs, rng)
        net = _set_hidden_activation(net, act)
    else:
        path = network["path"]
        if path.lower().endswith((".graphml", ".xml")):
            net = GraphNetwork.from_graphml(path)
        else:
            net = GraphNetwork.from_node_link(path)
        net = _set_hidden_activation(net, act)
    if net.mode != mode:
        net = net.replace(mode=mode)
    return net


# ----------------------------------------------------------------------------- mutation

_ENTRY_KEYS = ("op", "every", "start", "p", "count")


def _resolve_args(net, entry: dict, kinds: dict, rng, round_: int) -> tuple[dict, dict]:
    """(fixed operator arguments, sampler keywords) of one application."""
    fixed, sampler = {}, {}
    for name, value in entry.items():
        if name in _ENTRY_KEYS:
            continue
        kind = kinds[name]
        if kind == "sampler":
            sampler[name] = tuple(value) if isinstance(value, list) else value
        elif kind == "perm":
            fixed[name] = list(value)
        elif isinstance(value, dict) and "quantile" in value:
            w = np.abs(np.array([x for _, _, x in net.edges()]))
            fixed[name] = float(np.quantile(w, value["quantile"])) if w.size else 0.0
        elif isinstance(value, dict):
            fixed[name] = value["start"] + value["step"] * (round_ - entry["start"])
            if name == "a" and entry["op"] == "threshold":
                fixed[name] = max(fixed[name], 0.0)  # a falling ramp stops at 0
        elif isinstance(value, list):
            lo, hi = value
            fixed[name] = int(rng.integers(lo, hi + 1)) if kind == "int" else float(rng.uniform(lo, hi))
        else:
            fixed[name] = value
    return fixed, sampler


def entry_args(net, entry: dict, rng, *, round_: int) -> tuple:
    """The operator and the full arguments of one application of a schedule entry.

    Fixed arguments are used as given; ``[lo, hi]`` is drawn from ``rng``; ``{start,
    step}`` is ``start + step * (round - entry start)`` (a threshold stops at 0);
    ``{quantile = q}`` is the q-quantile of abs(w) over the current edges. Arguments not
    given (and regrow's seed) are drawn by the operator's sampler from ``rng``, which also
    gets the entry's sampler keywords.

    Returns
    -------
    (OperatorSpec, dict)

    Examples
    --------
    >>> from graphnet.graph.network import GraphNetwork
    >>> net = GraphNetwork.layered([2, 4, 2], seed=0)
    >>> entry = {"op": "F", "every": 1, "start": 1, "p": 1.0, "count": 1, "k": [-0.1, 0.1]}
    >>> spec, args = entry_args(net, entry, np.random.default_rng(0), round_=1)
    >>> spec.name, sorted(args), abs(args["k"]) <= 0.1
    ('add_scaled_row', ['dst', 'k', 'src'], True)
    """
    from graphnet.graph.operators import get_operator

    spec = get_operator(entry["op"])
    kinds = operator_args(spec)
    fixed, sampler = _resolve_args(net, entry, kinds, rng, round_)
    missing = [n for n, k in kinds.items() if k != "sampler" and n not in fixed
               and _required(spec, n)]
    if spec.name == "regrow" or missing or sampler:
        accepts = set(sampler_keywords(spec))
        drawn = spec.sample(net, rng, **{k: v for k, v in fixed.items() if k in accepts},
                            **sampler)
        return spec, {**drawn, **fixed}
    return spec, fixed


def apply_entry(net, entry: dict, rng, *, round_: int, repair: bool = True):
    """Apply one schedule entry once (arguments as :func:`entry_args` makes them).

    Parameters
    ----------
    net : GraphNetwork
    entry : dict
        A resolved ``[[mutation.schedule]]`` entry.
    rng : numpy.random.Generator
    round_ : int
    repair : bool

    Returns
    -------
    (GraphNetwork, Applied)

    Raises
    ------
    OperatorError, InputError, GraphError
        Whatever the operator raises; ``net`` is unchanged.

    Examples
    --------
    >>> from graphnet.graph.network import GraphNetwork
    >>> net = GraphNetwork.layered([2, 4, 2], seed=0)
    >>> entry = {"op": "threshold", "every": 1, "start": 1, "p": 1.0, "count": 1,
    ...          "a": {"quantile": 0.5}}
    >>> new, rec = apply_entry(net, entry, np.random.default_rng(0), round_=1)
    >>> rec.edges_before, rec.edges_after
    (16, 8)
    """
    from graphnet.graph.operators import apply

    spec, args = entry_args(net, entry, rng, round_=round_)
    return apply(net, spec, repair=repair, **args)


def _required(spec, name: str) -> bool:
    import inspect

    p = inspect.signature(spec.func).parameters[name]
    return p.default is inspect.Parameter.empty


def mutate(net, schedule: list, *, seed: int, round_: int, repair: bool = True,
           code: int = 0) -> tuple:
    """Apply a round's due schedule entries in order.

    Entry ``k`` is due in round ``r`` when ``r >= start`` and ``(r - start) % every == 0``;
    it then fires with probability ``p``, ``count`` times. Its randomness is the stream
    ``(seed, code, round, MUTATE, k)``. An application the operator refuses (OperatorError,
    GraphError, InputError) leaves the network as it was and is recorded with its error.

    Returns
    -------
    (GraphNetwork, list of dict)
        The mutated network and one record per application (``Applied.to_dict()`` plus
        ``error``: None or the refusal's message).

    Examples
    --------
    >>> from graphnet.graph.network import GraphNetwork
    >>> net = GraphNetwork.layered([2, 4, 2], seed=0)
    >>> sched = [{"op": "threshold", "every": 2, "start": 1, "p": 1.0, "count": 1, "a": 0.5}]
    >>> [len(mutate(net, sched, seed=0, round_=r)[1]) for r in (1, 2, 3)]
    [1, 0, 1]
    """
    from graphnet.graph.operators import apply, get_operator

    records = []
    for k, entry in enumerate(schedule):
        if round_ < entry["start"] or (round_ - entry["start"]) % entry["every"]:
            continue
        rng = stream(seed, code, round_, Purpose.MUTATE, k)
        if rng.random() >= entry["p"]:
            continue
        for _ in range(entry["count"]):
            spec, args = get_operator(entry["op"]), {}
            try:
                spec, args = entry_args(net, entry, rng, round_=round_)
                net, rec = apply(net, spec, repair=repair, **args)
                records.append({**rec.to_dict(), "error": None})
            except (OperatorError, GraphError, InputError) as exc:
                records.append({"name": spec.name, "letter": spec.letter,
                                "args": {k: list(v) if isinstance(v, tuple) else v
                                         for k, v in args.items()},
                                "dropped_edges": [], "edges_before": net.n_edges,
                                "edges_after": net.n_edges, "error": str(exc)})
    return net, records


def _set_round(net, *, seed: int, round_: int, fraction: float) -> tuple:
    """SET: prune the smallest ``fraction`` of the edges, regrow as many at random."""
    from graphnet.graph.operators import apply, apply_random

    rng = stream(seed, MODEL_CODES["set"], round_, Purpose.MUTATE)
    pruned, rec1 = apply(net, "prune_smallest", fraction=fraction)
    n = rec1.edges_before - rec1.edges_after
    grown, rec2 = apply_random(pruned, "regrow", rng, n=n)
    return grown, [{**rec1.to_dict(), "error": None}, {**rec2.to_dict(), "error": None}]


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


def _front_layers(front: dict | None, input_shape, rng, dtype) -> list:
    if front is None:
        return []
    from graphnet.core.layers import Conv2D, Flatten, Pool2D

    return [Conv2D(input_shape[0], front["channels"], front["kernel"], padding=front["padding"],
                   activation=front["activation"], rng=rng, dtype=dtype),
            Pool2D(front["pool"], "max", "pad"), Flatten()]


def _load_front(front: list, state: dict) -> None:
    for k, layer in enumerate(front):
        for key, p in layer.params.items():
            p[...] = state[f"{k}.{key}"]


def _graph_model(net, front: list, steps: int, dtype):
    from graphnet.graph.execute import graph_model

    return graph_model(net, front=front or None, steps=steps, dtype=dtype)


def _baseline_model(job: _Job, data: Data, dtype):
    from graphnet import models

    v, seed = job.values, job.seed
    rng = stream(seed, MODEL_CODES[job.model], 0, Purpose.INIT)
    if job.model == "mlp":
        n_in = int(np.prod(data.input_shape))
        return models.mlp(n_in, v["baselines"]["mlp_hidden"], data.n_classes,
                          activation=v["baselines"]["mlp_activation"], seed=rng, dtype=dtype)
    return models.cnn(tuple(data.input_shape), data.n_classes, seed=rng, dtype=dtype)


def _structure(net) -> dict:
    W = net.matrix()
    return {"edges": net.n_edges, "nodes": net.n_nodes, "det": float(np.linalg.det(W)),
            "rank": int(np.linalg.matrix_rank(W))}


def _run_job(job: _Job, report=None) -> int:
    """Run (or continue) one job; returns the last completed round."""
    from graphnet.core.optim import get_optimizer
    from graphnet.graph.network import GraphNetwork
    from graphnet.train import evaluate, fit

    report = report or (lambda *a, **k: None)
    v, seed, model_name = job.values, job.seed, job.model
    run = rd.RunDir(job.run_dir)
    rounds, tr = v["rounds"], v["train"]
    dtype = np.dtype(tr["dtype"])
    graph_family = model_name in GRAPH_MODELS
    front_cfg = v["network"].get("front")
    data = load_data(v["data"], seed, dtype)
    kind = ("image" if front_cfg else "flat") if graph_family else \
        ("image" if model_name == "cnn" else "flat")
    X_train, X_val, X_test = data.view(kind)
    validation = (X_val, data.y_val) if X_val is not None else None
    if model_name == "mlp":
        lr, wd = v["baselines"]["mlp_lr"], v["baselines"]["mlp_weight_decay"]
    elif model_name == "cnn":
        lr, wd = v["baselines"]["cnn_lr"], v["baselines"]["cnn_weight_decay"]
    else:
        lr, wd = tr["lr"], tr["weight_decay"]

    done = run.completed_round(model_name, seed)
    report("start", job.key, round=done)
    if done >= rounds:
        return done
    ref_val = None
    if graph_family:
        front = _front_layers(front_cfg, data.input_shape,
                              stream(seed, 0, 0, Purpose.INIT_FRONT), dtype)
        if done >= 0:
            net = GraphNetwork.from_node_link(run.snapshot(model_name, seed, done))
            kept_state = rd.read_npz(run.checkpoint(model_name, seed, done))
            _load_front(front, kept_state)
        else:
            net = build_start(v["network"], job.info["graph_inputs"], data.n_classes,
                              seed=stream(seed, 0, 0, Purpose.INIT))
            kept_state = None
    else:
        model = _baseline_model(job, data, dtype)
        if done >= 0:
            model.load_state_dict(rd.read_npz(run.checkpoint(model_name, seed, done)))
    if done >= 0:
        with open(run.part(model_name, seed, done), encoding="utf-8") as fh:
            ref_val = json.load(fh)["ref_val_loss"]

    for r in range(done + 1, rounds + 1):
        records, warnings, rolled_back = [], [], False
        if graph_family:
            if r > 0 and model_name == "graph":
                candidate, records = mutate(net, v["mutation"]["schedule"], seed=seed, round_=r,
                                            repair=v["mutation"]["repair"],
                                            code=MODEL_CODES["graph"])
            elif r > 0 and model_name == "set":
                candidate, records = _set_round(net, seed=seed, round_=r,
                                                fraction=v["baselines"]["set_fraction"])
            else:
                candidate = net
            if r > 0 and model_name in ("graph", "set"):
                # raises for on_disconnected = "stop": nothing of round r is written yet
                warning = check_round(net, candidate, records, seed=seed, model=model_name,
                                      round_=r, policy=v["mutation"]["on_disconnected"])
                if warning is not None:
                    warnings.append(warning)
                    report("warning", job.key, round=r, message=warning["message"])
                    if warning["action"] == "rollback":
                        candidate, rolled_back = net, True
            model = _graph_model(candidate, front, v["network"]["steps"], dtype)
        optimizer = get_optimizer(tr["optimizer"], lr, weight_decay=wd)

        def on_epoch(record, r=r):
            report("epoch", job.key, round=r, epoch=record["epoch"])

        try:
            history = fit(model, X_train, data.y_train, loss=tr["loss"], optimizer=optimizer,
                          epochs=tr["epochs"], batch_size=tr["batch_size"],
                          seed=stream(seed, _FAMILY[model_name], r, Purpose.FIT),
                          validation=validation, progress=job.progress,
                          desc=f"seed {seed} {model_name} round {r}", callback=on_epoch)
        except DivergenceError as exc:  # nothing of round r is written: the run resumes
            saved = f"rounds 0..{r - 1} are saved" if r else "no round is saved yet"
            raise DivergenceError(f"seed {seed} {model_name} round {r}: {exc}; {saved}") \
                from None
        test_loss, test_acc = evaluate(model, X_test, data.y_test, tr["loss"])
        state = model.state_dict()
        structure = {"edges": None, "nodes": None, "det": None, "rank": None}
        accepted = True
        if graph_family:
            trained = model.layers[len(front)].to_network()
            structure = _structure(trained)
            val = history.last["val_loss"]
            if (model_name == "graph" and v["mutation"]["accept"] == "if-better" and r > 0
                    and val > ref_val):
                accepted = False
                _load_front(front, kept_state)  # roll back: net and kept_state stay
            else:
                net, kept_state, ref_val = trained, state, val
        else:
            kept_state = state
            ref_val = history.last["val_loss"]
        rows = []
        for rec in history.records:
            last = rec["epoch"] == len(history.records)
            rows.append({
                "seed": seed, "model": model_name, "round": r, "epoch": rec["epoch"],
                "loss": rec["loss"], "accuracy": rec["accuracy"], "val_loss": rec["val_loss"],
                "val_accuracy": rec["val_accuracy"],
                "test_loss": test_loss if last else None,
                "test_accuracy": test_acc if last else None,
                **structure, "params": model.n_params,
                "accepted": int(accepted) if last else None, "time": rec["time"],
            })
        for rec in records:
            rec.update(seed=seed, model=model_name, round=r,
                       accepted=accepted and not rolled_back)
        records = [{k: rec[k] for k in rd.HISTORY_KEYS} for rec in records]
        # the part file last: its presence means the round is complete
        if graph_family:
            snapshot = run.snapshot(model_name, seed, r)
            os.makedirs(os.path.dirname(snapshot), exist_ok=True)
            net.to_node_link(snapshot)
        rd.write_npz(run.checkpoint(model_name, seed, r), kept_state)
        rd.atomic_write_json(run.part(model_name, seed, r),
                             {"round": r, "accepted": accepted, "ref_val_loss": ref_val,
                              "rows": rows, "history": records, "warnings": warnings})
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
        rd.atomic_write_json(self.run.state, {"version": rd.STATE_VERSION, "complete": complete,
                                              "jobs": dict(self.jobs)})

    def _round_result(self, key, round_) -> dict:
        """The finished round's accuracy (validation, else training) from its part file."""
        if self.display.mode != "lines":
            return {}
        try:
            with open(self.run.part(*self.where[key], round_), encoding="utf-8") as fh:
                part = json.load(fh)
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


def _check_same_config(run: rd.RunDir, cfg: Config):
    if not os.path.exists(run.config):
        return
    with open(run.config, encoding="utf-8") as fh:
        stored = tomllib.loads(fh.read())
    if stored != tomllib.loads(cfg.to_toml()):
        raise InputError(f"run: {run.config} differs from the config given; resume needs the "
                         f"same config (use --force to start over or another --out)")


def merge_parts(run_dir, config: Config) -> tuple[int, int]:
    """Merge the jobs' part files into metrics.csv and history.jsonl, canonical order.

    Rows are sorted by seed (ascending), model (config order), round, epoch.

    Returns
    -------
    (int, int)
        Number of metrics rows and history records written.

    Examples
    --------
    >>> import tempfile
    >>> cfg = parse_config('rounds = 0\\nseeds = [0]\\n[data]\\ndataset = "xor"\\n'
    ...                    '[train]\\nepochs = 2\\n[baselines]\\nmodels = []')
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = run_experiment(cfg, d, resume=True, plots=False)
    ...     os.remove(os.path.join(d, "metrics.csv"))
    ...     merge_parts(d, cfg)
    (2, 0)
    """
    run = rd.RunDir(run_dir)
    rows, history = [], []
    for seed in sorted(config.seeds):
        for model in config.models:
            for r in range(run.completed_round(model, seed) + 1):
                with open(run.part(model, seed, r), encoding="utf-8") as fh:
                    part = json.load(fh)
                rows.extend(part["rows"])
                history.extend(part["history"])
    rd.atomic_write_text(run.metrics, rd.metrics_csv(rows))
    rd.atomic_write_text(run.history, "".join(json.dumps(h, allow_nan=False) + "\n"
                                              for h in history))
    return len(rows), len(history)


def _finished(run: rd.RunDir, cfg: Config) -> bool:
    """Whether a run is complete: state.json says so, every round's part and summary.md exist."""
    state = rd.read_state(run.path) or {}
    return (state.get("complete") is True and os.path.exists(run.summary)
            and all(run.completed_round(m, s) >= cfg.rounds for s in cfg.seeds for m in cfg.models))


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
    from graphnet.lab.budget import check_plan

    check_plan(cfg.values, len(cfg.models), yes=yes)
    if out is None:
        out = cfg.values.get("out") or os.path.join("runs", cfg.name)
    run = rd.RunDir(out)
    run.check(resume=resume, force=force)  # refuse before anything is written
    # the lock first: before --force deletes or --resume reads anything, held to the end
    with run.lock(), terminate_on_sigterm():
        return _run_locked(run, cfg, t0, workers=workers, resume=resume, force=force,
                           progress=progress, stop_after_round=stop_after_round, plots=plots)


def _run_locked(run: rd.RunDir, cfg: Config, t0: float, *, workers, resume, force, progress,
                stop_after_round, plots) -> RunResult:
    """The body of :func:`run_experiment`, holding the run's lock."""
    resuming = run.prepare(resume=resume, force=force)
    if resuming:
        _check_same_config(run, cfg)
        if _finished(run, cfg):  # nothing to do: no redraw (``graphnet plot`` redraws)
            from graphnet.lab.summary import summary_table

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
        merge_parts(run.path, cfg)
    monitor.jobs = {j.key: run.completed_round(j.model, j.seed) for j in jobs}
    complete = all(r >= cfg.rounds for r in monitor.jobs.values())
    # "complete" goes into state.json only once the summary and the figures are written:
    # a run killed while plotting resumes and draws them
    monitor.write(False)
    from graphnet.lab.summary import summary_table, write_summary

    table = []
    if complete:
        write_summary(run.path)
        if plots:
            try:
                from graphnet.lab.plots import plot_run
            except ImportError:
                plot_run = None
            if plot_run is not None:
                started = time.perf_counter()
                plots_dir = os.path.join(run.path, "plots")
                monitor.display.note(f"plotting figures into {plots_dir} ...")
                figures = plot_run(run.path)
                monitor.display.note(f"plotted {len(figures)} figures in "
                                     f"{time.perf_counter() - started:.1f} s")
                write_summary(run.path)  # again, now linking the figures
        table = summary_table(rd.read_metrics(run.path))
        monitor.write(True)
    return RunResult(run.path, complete, cfg, table, time.perf_counter() - t0)


def _run_pool(jobs: list, workers: int, monitor: _Monitor) -> None:
    # the platform's default start method: fork on Linux (no __main__ guard needed, fast),
    # spawn on macOS and Windows (scripts then need ``if __name__ == "__main__":``)
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
        processes = list((pool._processes or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        stop_processes(processes)
        raise
    except BaseException:
        for f in pending:
            f.cancel()
        processes = list((pool._processes or {}).values())
        try:
            pool.shutdown(wait=True)  # the running jobs finish their rounds
        except KeyboardInterrupt:  # Ctrl-C or SIGTERM while waiting: stop them now
            stop_processes(processes)
            raise
        raise
    pool.shutdown(wait=True)
