"""One round of one job, as a pure function: what the engine's workers run.

A run is a set of *jobs*, one per (seed, model); a job is a chain of *rounds* 0..R. One
round (:func:`run_round`) takes the job's spec and what the last completed round left (its
:class:`Carry`), and returns a :class:`RoundResult`: the round's part (metrics rows, operator
records, warnings), the network snapshot as JSON text, the checkpoint's arrays, and, in the
round that takes it, the lottery's rewind reference. It reads no run directory and writes
nothing: workers on other machines need no shared filesystem, and only the client writes
(:mod:`graphnet.lab.runner`). The carry is what the client writes (the same arrays; the
network as the object the last round kept, or, on resume, read back from the snapshot's JSON,
whose floats round-trip exactly), so a round continued in memory and a round resumed from
disk start from the same bits.

Round 0 builds the model (:mod:`graphnet.lab.start`) and trains it; rounds 1..R apply the
round's mutation (graph models, :mod:`graphnet.lab.schedule`), train again the same number
of epochs, evaluate on the test split, and keep the network or roll back (accept policy
``if-better``, graph model only: the last epoch's validation loss against that of the last
kept round; a rejected round's rows stay with ``accepted = 0`` and the carry is the last
kept round's).

Determinism: every random stream comes from ``numpy.random.SeedSequence([seed, model_code,
round, purpose, ...])`` (:func:`graphnet.rng.stream`), so a round needs no saved RNG state and
its result does not depend on where, when or beside what it runs. BLAS runs on one thread
for the length of a round (``threadpoolctl``). The models of the graph family (``graph``,
``fixed-graph``, ``set``, ``random-prune``) share the start network and the training
shuffles: their round 0 is identical. Between rounds the optimizer starts fresh (its state
would not fit a changed topology; the baselines do the same).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from graphnet.core.optim import get_optimizer
from graphnet.errors import DivergenceError
from graphnet.graph.execute import graph_model
from graphnet.graph.network import GraphNetwork
from graphnet.lab.config import GRAPH_MODELS
from graphnet.lab.disconnect import check_round
from graphnet.lab.lottery import Lottery
from graphnet.lab.rundir import HISTORY_KEYS
from graphnet.lab.schedule import mutate, set_round
from graphnet.lab.start import (Data, baseline_model, build_start, front_layers, load_data,
                                load_front)
from graphnet.rng import Purpose, stream
from graphnet.threads import limit_blas
from graphnet.train import evaluate, fit

__all__ = ["JobSpec", "Carry", "RoundResult", "run_round", "network_text", "MODEL_CODES"]

#: Stable code of each model in the random streams (so adding a baseline changes nothing
#: for the others). The graph family shares code 0 for the start network and training.
MODEL_CODES = {"graph": 0, "fixed-graph": 1, "set": 2, "mlp": 3, "cnn": 4,
               "logistic": 5, "mlp_residual": 6, "cnn1d": 7, "random-prune": 8}
_FAMILY = {**MODEL_CODES, "fixed-graph": 0, "set": 0, "random-prune": 0}  # training shuffles


@dataclass(frozen=True)
class JobSpec:
    """One job: a model on a seed, under a resolved config (``values``, ``info``)."""

    values: dict
    info: dict
    seed: int
    model: str

    @property
    def key(self) -> str:
        """``"<seed>/<model>"``, the job's key in ``state.json``."""
        return f"{int(self.seed)}/{self.model}"


@dataclass
class Carry:
    """What a job's next round needs of its last completed round (None: round 0 is next).

    Attributes
    ----------
    network : GraphNetwork or str or None
        The last kept network (graph models): the object, or its node-link JSON text as in
        its snapshot (a resumed run).
    state : dict
        The last kept round's parameters (the checkpoint's arrays).
    ref_val : float or None
        The last kept round's last-epoch validation loss (``if-better``).
    reference : GraphNetwork or str or None
        The rewind reference (``rewind.json``), once taken: the object, or its JSON text.
    """

    network: GraphNetwork | str | None
    state: dict
    ref_val: float | None
    reference: GraphNetwork | str | None = None


@dataclass
class RoundResult:
    """What :func:`run_round` gives back for the client to write.

    Attributes
    ----------
    key : str
    round : int
    part : dict
        The part file's content (``rows``, ``history``, ``warnings``, ``accepted``,
        ``ref_val_loss``).
    state : dict
        The checkpoint's arrays (the kept state).
    network : str or None
        The snapshot's JSON text (graph models).
    reference : str or None
        The rewind reference taken in this round (``rewind.json``), else None.
    worker : str
        Where it ran (a Dask worker's address, or ``"local"``).
    net, reference_net : GraphNetwork or None
        The objects behind ``network`` and ``reference``, for the next round (no JSON to
        parse again).
    """

    key: str
    round: int
    part: dict
    state: dict
    network: str | None
    reference: str | None = None
    worker: str = "local"
    net: GraphNetwork | None = None
    reference_net: GraphNetwork | None = None

    def carry(self, previous: Carry | None) -> Carry:
        """The carry for the next round."""
        reference = (self.reference_net if self.reference_net is not None
                     else previous.reference if previous is not None else None)
        return Carry(self.net, self.state, self.part["ref_val_loss"], reference)


def network_text(net: GraphNetwork) -> str:
    """A network's node-link JSON text, exactly as a snapshot file holds it.

    Examples
    --------
    >>> net = GraphNetwork.layered([2, 2, 1], seed=0)
    >>> GraphNetwork.from_node_link(json.loads(network_text(net))) == net
    True
    """
    return json.dumps(net.to_node_link(), indent=1, allow_nan=False, ensure_ascii=False)


def _network(net) -> GraphNetwork:
    """A carried network: the object itself, or read from its JSON text (checked)."""
    if isinstance(net, GraphNetwork):
        return net
    return GraphNetwork.from_node_link(json.loads(net))


# ----------------------------------------------------------------------------- the data

_DATA: OrderedDict = OrderedDict()  # a worker's recent (data config, seed, dtype) -> Data
_DATA_SLOTS = 16  # a seed's split is ~1 MB (digits) to a few MB: every seed of a run fits


def _load(data: dict, seed: int, dtype) -> Data:
    """:func:`graphnet.lab.start.load_data`, remembered for the next rounds on this worker."""
    key = (json.dumps(data, sort_keys=True, default=str), int(seed), np.dtype(dtype).str)
    if key in _DATA:
        _DATA.move_to_end(key)
        return _DATA[key]
    loaded = load_data(data, seed, dtype)
    for array in (loaded.X_train, loaded.y_train, loaded.X_val, loaded.y_val, loaded.X_test,
                  loaded.y_test):
        if isinstance(array, np.ndarray):
            array.flags.writeable = False  # shared by the rounds: nothing may change it
    _DATA[key] = loaded
    while len(_DATA) > _DATA_SLOTS:
        _DATA.popitem(last=False)
    return loaded


# ----------------------------------------------------------------------------- one round


@dataclass
class _Live:
    """The round's working state."""

    data: Data
    X: tuple  # (X_train, X_val, X_test) as the model takes them
    lr: float
    weight_decay: float
    dtype: np.dtype
    front: list = field(default_factory=list)  # graph family: the CNN front end, if any
    net: object = None  # graph family: the network of the last kept round
    lottery: Lottery | None = None  # rewinding and random-prune (lab/lottery.py)
    model: object = None  # baselines: the model
    kept_state: dict | None = None  # the state_dict of the last kept round
    ref_val: float | None = None  # its last epoch's validation loss


def _live(job: JobSpec, carry: Carry | None) -> _Live:
    """The job's data in the view its model takes, its rates, and its model at ``carry``."""
    v, name, seed = job.values, job.model, job.seed
    dtype = np.dtype(v["train"]["dtype"])
    data = _load(v["data"], seed, dtype)
    image = bool(v["network"].get("front")) if name in GRAPH_MODELS else name == "cnn"
    if name not in GRAPH_MODELS:  # each baseline has its own recipe
        lr, wd = v["baselines"][f"{name}_lr"], v["baselines"][f"{name}_weight_decay"]
    else:
        lr, wd = v["train"]["lr"], v["train"]["weight_decay"]
    live = _Live(data, data.view("image" if image else "flat"), lr, wd, dtype)
    if name in GRAPH_MODELS:
        live.front = front_layers(v["network"].get("front"), data.input_shape,
                                  stream(seed, 0, 0, Purpose.INIT_FRONT), dtype)
        if carry is not None:
            live.net = _network(carry.network)
            live.kept_state = carry.state
            load_front(live.front, live.kept_state)
        else:
            live.net = build_start(v["network"], job.info["graph_inputs"], data.n_classes,
                                   seed=stream(seed, 0, 0, Purpose.INIT))
    else:
        live.model = baseline_model(name, v["baselines"], data,
                                    stream(seed, MODEL_CODES[name], 0, Purpose.INIT), dtype)
        if carry is not None:
            live.model.load_state_dict(carry.state)
    reference = (_network(carry.reference)
                 if carry is not None and carry.reference is not None else None)
    live.lottery = Lottery(v, name, seed, len(live.front), reference=reference)
    if carry is not None:
        live.ref_val = carry.ref_val
    return live


def _candidate(job: JobSpec, live: _Live, r: int) -> tuple:
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
    # raises for on_disconnected = "stop": nothing of round r is written
    warning = check_round(live.net, candidate, records, seed=seed, model=name, round_=r,
                          policy=v["mutation"]["on_disconnected"])
    if warning is None:
        return candidate, records, [], False
    if warning["action"] == "rollback":
        return live.net, records, [warning], True
    return candidate, records, [warning], False


def _train(job: JobSpec, live: _Live, model, r: int, report):
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
                   progress=False, callback=on_epoch)
    except DivergenceError as exc:  # nothing of round r is written: the run resumes
        saved = f"rounds 0..{r - 1} are saved" if r else "no round is saved yet"
        raise DivergenceError(f"seed {seed} {name} round {r}: {exc}; {saved}") from None


def _structure(net) -> dict:
    W = net.matrix()
    return {"edges": net.n_edges, "nodes": net.n_nodes, "det": float(np.linalg.det(W)),
            "rank": int(np.linalg.matrix_rank(W))}


def _keep(job: JobSpec, live: _Live, model, history, r: int) -> tuple[bool, dict]:
    """Keep the trained round, or roll back (``if-better``); returns (accepted, structure)."""
    state, val = model.state_dict(), history.last["val_loss"]
    if job.model not in GRAPH_MODELS:
        live.kept_state, live.ref_val = state, val
        return True, {"edges": None, "nodes": None, "det": None, "rank": None}
    trained = model.layers[len(live.front)].to_network()
    if (job.model == "graph" and job.values["mutation"]["accept"] == "if-better" and r > 0
            and val > live.ref_val):
        return False, _structure(trained)  # roll back: net and kept_state stay
    live.net, live.kept_state, live.ref_val = trained, state, val
    return True, _structure(trained)


def _metrics_rows(job: JobSpec, r: int, history, test: tuple, structure: dict, n_params: int,
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


def run_round(job: JobSpec, r: int, carry: Carry | None, report=None,
              worker: str = "local") -> RoundResult:
    """Run round ``r`` of ``job`` from the last completed round's ``carry``.

    Parameters
    ----------
    job : JobSpec
    r : int
        The round; ``carry`` must be round ``r - 1``'s (None for round 0).
    carry : Carry or None
    report : callable, optional
        ``report(kind, key, **data)`` with kinds ``"epoch"`` (``round``, ``epoch``) and
        ``"warning"`` (``round``, ``message``), as they happen.
    worker : str
        Recorded in the result.

    Returns
    -------
    RoundResult

    Raises
    ------
    DivergenceError
        Training diverged (nothing of the round is kept).
    GraphError
        ``on_disconnected = "stop"`` and the round's mutation disconnected the network.

    Examples
    --------
    >>> from graphnet.lab.config import parse_config
    >>> cfg = parse_config('rounds = 1\\n[data]\\ndataset = "xor"\\n[train]\\nepochs = 2')
    >>> job = JobSpec(cfg.values, cfg.info, 0, "graph")
    >>> first = run_round(job, 0, None)
    >>> second = run_round(job, 1, first.carry(None))
    >>> [row["round"] for row in first.part["rows"] + second.part["rows"]]
    [0, 0, 1, 1]
    >>> run_round(job, 1, first.carry(None)).network == second.network  # a pure function
    True
    """
    report = report or (lambda *a, **k: None)
    with limit_blas(1):  # the same bits whatever runs beside it
        live = _live(job, carry)
        candidate, records, warnings, rolled_back = None, [], [], False
        model = live.model
        if job.model in GRAPH_MODELS:
            candidate, records, warnings, rolled_back = _candidate(job, live, r)
            for w in warnings:
                report("warning", job.key, round=r, message=w["message"])
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
    records = [{k: rec[k] for k in HISTORY_KEYS} for rec in records]
    part = {"round": r, "accepted": accepted, "ref_val_loss": live.ref_val, "rows": rows,
            "history": records, "warnings": warnings}
    taken = live.lottery.taken
    graph = job.model in GRAPH_MODELS
    return RoundResult(job.key, r, part, live.kept_state,
                       network_text(live.net) if graph else None,
                       network_text(taken) if taken is not None else None, worker,
                       net=live.net if graph else None, reference_net=taken)
