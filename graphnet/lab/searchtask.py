"""The search's one task: mutate, train and evaluate a chunk of candidates (pure, for the engine).

:mod:`graphnet.lab.search` cuts every generation into chunks of ``[search] chunk``
networks and submits :func:`train_chunk` once per chunk; a chunk mutates its parents into its children
(the operators' Python work spreads over the workers too) and trains them as one population
plan (:func:`graphnet.graph.population.compile_population`), so its result depends only on
its networks, the data and the settings, never on where it ran.
"""

from __future__ import annotations

import time

import numpy as np

from graphnet.core.optim import get_optimizer
from graphnet.graph.network import GraphNetwork
from graphnet.graph.population import compile_population
from graphnet.graph.population_fit import evaluate_population, train_population
from graphnet.lab.schedule import mutate
from graphnet.rng import Purpose, stream
from graphnet.threads import limit_blas

__all__ = ["train_chunk", "METRICS"]

#: The figures measured of every candidate.
METRICS = ("val_accuracy", "val_loss", "train_accuracy", "train_loss")


def train_chunk(nets, arrays, settings: dict, seed: int, generation: int, codes=None) -> dict:
    """Mutate (children), train and evaluate a chunk of candidates: a pure task for the engine.

    Parameters
    ----------
    nets : list of GraphNetwork
        Start networks (generation 0), or the parents of the chunk's children.
    arrays : tuple (X_train, y_train, X_val, y_val)
    settings : dict
        ``epochs``, ``batch_size``, ``optimizer``, ``lr``, ``weight_decay`` (optional),
        ``loss``, ``dtype``, ``steps``, ``plan`` (False: every network in its own plan); for children also ``schedule``
        and ``repair`` (``[mutation]``).
    seed, generation : int
        The batches are the stream ``(seed, 0, generation, FIT)``, the same for every
        network of the generation.
    codes : list of int, optional
        The children's indices in their generation: child ``i`` is ``nets[k]`` mutated by
        :func:`graphnet.lab.schedule.mutate` (``round_ = generation``, ``code = i``).
        None: train ``nets`` as they are.

    Returns
    -------
    dict
        ``nets`` (trained), ``ops`` (per network, the applied operators as ``{name,
        letter, args}``), ``val_accuracy``, ``val_loss``, ``train_accuracy``,
        ``train_loss`` (lists of floats; NaN for a network that diverged), ``seconds``.

    Examples
    --------
    >>> from graphnet.data import xor
    >>> X, y = xor()
    >>> nets = [GraphNetwork.layered([2, 2], seed=s) for s in (0, 1)]
    >>> st = {"epochs": 2, "batch_size": 4, "optimizer": "adam", "lr": 0.05,
    ...       "loss": "cross_entropy", "dtype": "float64", "steps": 5, "plan": True,
    ...       "schedule": [{"op": "split_edge", "every": 1, "start": 1, "p": 1.0,
    ...                     "count": 1}], "repair": True}
    >>> out = train_chunk(nets, (X, y, X, y), st, seed=0, generation=1, codes=[0, 1])
    >>> [n.n_hidden for n in out["nets"]], out["ops"][0][0]["name"], len(out["val_accuracy"])
    ([1, 1], 'split_edge', 2)
    """
    t0 = time.perf_counter()
    X, y, Xv, yv = arrays
    ops = [[] for _ in nets]
    with limit_blas(1):  # the same bits whatever runs beside it
        if codes is not None:
            nets = list(nets)
            for k, i in enumerate(codes):
                nets[k], records = mutate(nets[k], settings["schedule"], seed=seed,
                                          round_=generation, repair=settings["repair"],
                                          code=int(i))
                ops[k] = [{"name": r["name"], "letter": r["letter"], "args": r["args"]}
                          for r in records if r["error"] is None]
        groups = [list(nets)] if settings["plan"] else [[net] for net in nets]
        out = {"nets": [], "ops": ops, **{k: [] for k in METRICS}}
        for group in groups:
            pop = compile_population(group, steps=settings["steps"],
                                     dtype=np.dtype(settings["dtype"]))
            opt = get_optimizer(settings["optimizer"], settings["lr"],
                                weight_decay=settings.get("weight_decay", 0.0))
            train_population(pop, X, y, loss=settings["loss"], optimizer=opt,
                             epochs=settings["epochs"],
                             batch_size=settings["batch_size"],
                             seed=stream(seed, 0, generation, Purpose.FIT))
            val_loss, val_acc = evaluate_population(pop, Xv, yv, settings["loss"])
            train_loss, train_acc = evaluate_population(pop, X, y, settings["loss"])
            out["nets"].extend(pop.networks())
            for key, values in (("val_loss", val_loss), ("val_accuracy", val_acc),
                                ("train_loss", train_loss), ("train_accuracy", train_acc)):
                out[key].extend(float(v) for v in values)
    out["seconds"] = time.perf_counter() - t0
    return out
