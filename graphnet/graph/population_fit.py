"""Training and evaluating a :class:`~graphnet.graph.population.Population`, network by network.

:func:`train_population` is :func:`graphnet.train.fit` for P networks at once: the same
mini-batches for the same seed (one ``make_rng(seed)``, one ``rng.permutation(n)`` per
epoch, batches ``order[i:i + batch_size]``), one optimizer over the population's
parameters (graphnet's optimizers are elementwise, so each network gets the update and
the state it would get alone), and one record per epoch whose metrics are arrays over the
networks. :func:`evaluate_population` is :func:`graphnet.train.evaluate` per network.

Divergence is per network: a network whose loss, outputs or gradients become non-finite
is frozen (:meth:`Population.freeze`) with the parameters that produced them, as ``fit``
keeps them, and the step is redone without it; the others train on. Its epoch is recorded
in ``history.diverged`` and its metrics are NaN from then on. Which network is to blame
is decided by running each suspect alone (in the union, ``0 * inf`` can spill NaN into a
block that several networks share).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from graphnet._checks import is_int
from graphnet.core.losses import get_loss
from graphnet.core.model import Sequential
from graphnet.core.optim import get_optimizer
from graphnet.dataprep import check_dataset
from graphnet.errors import InputError, InputTypeError
from graphnet.graph.execute import GraphLayer, graph_model
from graphnet.graph.population import Population, per_network_loss
from graphnet.rng import make_rng

__all__ = ["PopulationHistory", "train_population", "evaluate_population"]


@dataclass
class PopulationHistory:
    """What :func:`train_population` measured.

    Attributes
    ----------
    records : list of dict
        One per epoch: ``epoch`` (1-based); ``loss`` and ``accuracy``, arrays of shape (P,)
        (training, averaged over the epoch's batches as they were seen; ``accuracy`` None
        for non-label targets); ``val_loss`` and ``val_accuracy`` (arrays, or None without
        validation data); ``time`` (seconds). A frozen network's entries are NaN.
    diverged : ndarray of int, shape (P,)
        The epoch in which each network diverged and was frozen; 0 if it never did.
    """

    records: list = field(default_factory=list)
    diverged: np.ndarray | None = None

    @property
    def last(self) -> dict:
        """The last epoch's record."""
        return self.records[-1] if self.records else {}

    def column(self, key: str) -> np.ndarray:
        """One metric over the epochs: an array of shape (epochs, P).

        Examples
        --------
        >>> h = PopulationHistory([{"loss": np.array([1.0, 2.0])}, {"loss": np.array([0.5, 1.5])}])
        >>> h.column("loss")[:, 1]
        array([2. , 1.5])
        """
        return np.array([r[key] for r in self.records], dtype=float)

    def __len__(self):
        return len(self.records)


def _labels(y):
    y = np.asarray(y)
    return y.ndim == 1 and np.issubdtype(y.dtype, np.integer)


def _correct(p, y) -> np.ndarray:
    """Per network: the number of rows whose argmax is the label."""
    return np.sum(p.argmax(axis=2) == np.asarray(y)[:, None], axis=0)


def _check_population(pop, X, where):
    if not isinstance(pop, Population):
        raise InputTypeError(f"{where}: pop must be a Population (compile_population), got "
                             f"{type(pop).__name__}")
    if np.ndim(X) != 2:
        raise InputError(f"{where}: X must be 2-D (n, features), got shape {np.shape(X)}")
    if np.shape(X)[1] < pop.n_inputs:
        raise InputError(f"{where}: X has {np.shape(X)[1]} columns, the population reads "
                         f"{pop.n_inputs} (network k reads the first n_inputs columns)")


def evaluate_population(pop, X, y, loss="cross_entropy", *, batch_size=1024) -> tuple:
    """Every network's mean loss and accuracy on ``(X, y)``.

    Parameters
    ----------
    pop : Population
    X : ndarray of shape (n, D)
    y : ndarray of shape (n,) of labels, or (n, K)
    loss : str or Loss
    batch_size : int
        Rows per forward pass.

    Returns
    -------
    losses : ndarray of shape (P,)
        NaN for a frozen network.
    accuracies : ndarray of shape (P,) or None
        None for non-label targets.

    Raises
    ------
    InputError, InputTypeError, DataError
        Bad data, a data width below a network's inputs, a bad ``batch_size``.

    Examples
    --------
    >>> from graphnet.graph.network import GraphNetwork
    >>> from graphnet.graph.population import compile_population
    >>> from graphnet.data import xor
    >>> X, y = xor()
    >>> pop = compile_population([GraphNetwork.random(2, 3, 2, 0.7, seed=s) for s in (0, 1)])
    >>> losses, accs = evaluate_population(pop, X, y)
    >>> losses.shape, accs.shape
    ((2,), (2,))
    """
    where = "evaluate_population"
    check_dataset(X, y)
    _check_population(pop, X, where)
    if not is_int(batch_size) or batch_size < 1:
        raise InputError(f"{where}: batch_size must be a positive int, got {batch_size!r}")
    loss = get_loss(loss)
    X = np.asarray(X)
    p = np.concatenate([pop.forward(X[i:i + batch_size]) for i in range(0, len(X), batch_size)])
    values, _ = per_network_loss(p, y, loss, softmax=pop.softmax, delta=False)
    accs = _correct(p, y) / len(X) if _labels(y) else None
    frozen = list(pop.frozen)
    values[frozen] = np.nan
    if accs is not None:
        accs[frozen] = np.nan
    return values, accs


def _alone_finite(pop, k, xb, yb, loss) -> bool:
    """Whether network ``k``, run alone on this batch, gives a finite loss, outputs, gradients."""
    net = pop.network(k)
    model = graph_model(net, steps=pop.steps[k], dtype=pop.dtype) if pop.softmax else \
        Sequential([GraphLayer(net, steps=pop.steps[k], dtype=pop.dtype)])
    value = model.loss_and_backward(xb[:, :net.n_inputs], yb, loss)
    grads = [g for _, g in model.params_and_grads()]
    return bool(np.isfinite(value) and np.isfinite(model.last_output).all()
                and all(np.isfinite(g).all() for g in grads))


def _step_values(pop, xb, yb, loss, alive, diverged, epoch):
    """``loss_and_backward`` with the networks that turn non-finite frozen; their values."""
    for _ in range(pop.n_networks + 1):
        values = pop.loss_and_backward(xb, yb, loss)
        ok = pop.finite_networks() & np.isfinite(values)
        suspects = np.flatnonzero(alive & ~ok)
        if suspects.size == 0:
            return values
        culprits = [k for k in suspects if not _alone_finite(pop, k, xb, yb, loss)]
        for k in culprits or suspects:                      # none alone: all suspects
            pop.freeze(int(k))
            alive[k] = False
            diverged[k] = epoch
    raise AssertionError("a frozen network kept the population non-finite")


def train_population(pop, X, y, *, loss="cross_entropy", optimizer="adam", lr=1e-3, epochs=10,
                     batch_size=32, seed=0, validation=None, callback=None) -> PopulationHistory:
    """Train every network of ``pop`` on ``(X, y)``, as :func:`graphnet.train.fit` would alone.

    Network ``k`` ends with the parameters that ``fit(graph_model(nets[k]), X[:, :n_k], y,
    ...)`` gives with the same settings and seed (to rounding; see
    :mod:`graphnet.graph.population`); ``pop`` holds them (:meth:`Population.networks`).

    Parameters
    ----------
    pop : Population
    X : ndarray of shape (n, D)
        Network ``k`` reads the first ``nets[k].n_inputs`` columns.
    y : ndarray of shape (n,) of integer labels, or of shape (n, K)
    loss : str or Loss
    optimizer : {"sgd", "momentum", "adam"} or Optimizer
        One optimizer for the whole population (its state is per element).
    lr : float
        Ignored when ``optimizer`` is an Optimizer instance.
    epochs, batch_size : int
        As ``fit``; ``batch_size`` is clipped to ``n``.
    seed : int or numpy.random.Generator
        Shuffles the samples every epoch, as ``fit``.
    validation : tuple (X_val, y_val), optional
        Evaluated per network after every epoch.
    callback : callable (record: dict) -> None, optional
        Called after every epoch with its record.

    Returns
    -------
    PopulationHistory
        Unlike ``fit``, divergence raises nothing: a network whose loss, outputs or
        gradients become non-finite is frozen (``history.diverged``, ``pop.frozen``) and
        the others train on (see the module docstring).

    Raises
    ------
    InputError, InputTypeError, DataError
        Bad data or settings; a data width below a network's inputs.

    Examples
    --------
    >>> from graphnet.graph.network import GraphNetwork
    >>> from graphnet.graph.population import compile_population
    >>> from graphnet.data import xor
    >>> X, y = xor()
    >>> pop = compile_population([GraphNetwork.random(2, h, 2, 0.8, seed=h) for h in (2, 4)])
    >>> h = train_population(pop, X, y, lr=0.05, epochs=200, batch_size=4, seed=0)
    >>> len(h), h.last["loss"].shape, h.diverged.tolist()
    (200, (2,), [0, 0])
    >>> trained = pop.networks()                      # P GraphNetworks, same structures
    """
    where = "train_population"
    check_dataset(X, y)
    _check_population(pop, X, where)
    X, y = np.asarray(X), np.asarray(y)
    loss = get_loss(loss)
    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        if not is_int(value) or value < 1:
            raise InputError(f"{where}: {name} must be a positive int, got {value!r}")
    opt = get_optimizer(optimizer, lr)
    rng = make_rng(seed)
    if validation is not None:
        if not (isinstance(validation, (tuple, list)) and len(validation) == 2):
            raise InputError(f"{where}: validation must be a pair (X_val, y_val)")
        check_dataset(*validation, name="X_val")
        _check_population(pop, validation[0], where)
    n, P = len(X), pop.n_networks
    batch_size = min(int(batch_size), n)
    labelled = _labels(y)
    alive = np.ones(P, dtype=bool)
    alive[list(pop.frozen)] = False
    history = PopulationHistory(diverged=np.zeros(P, dtype=np.int64))
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        order = rng.permutation(n)
        total, correct = np.zeros(P), np.zeros(P)
        for i in range(0, n, batch_size):
            idx = order[i:i + batch_size]
            xb, yb = X[idx], y[idx]
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                values = _step_values(pop, xb, yb, loss, alive, history.diverged, epoch)
                opt.step(pop.params_and_grads())
                pop.after_step()
            total += values * len(idx)
            if labelled:
                correct += _correct(pop.last_output, yb)
        dead = ~alive
        record = {"epoch": epoch, "loss": np.where(dead, np.nan, total / n),
                  "accuracy": np.where(dead, np.nan, correct / n) if labelled else None,
                  "val_loss": None, "val_accuracy": None}
        if validation is not None:
            record["val_loss"], record["val_accuracy"] = evaluate_population(
                pop, *validation, loss)
        record["time"] = time.perf_counter() - start
        history.records.append(record)
        if callback is not None:
            callback(record)
    return history
