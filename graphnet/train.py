"""The fit loop: mini-batches, metrics per epoch, a progress bar and a divergence guard."""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm

from graphnet.core.losses import get_loss
from graphnet.core.optim import get_optimizer
from graphnet.dataprep import check_dataset
from graphnet.errors import DivergenceError, InputError
from graphnet.rng import make_rng

__all__ = ["History", "fit", "evaluate", "accuracy"]


@dataclass
class History:
    """What :func:`fit` measured: one dict per epoch.

    Each record has ``epoch`` (1-based), ``loss`` and ``accuracy`` (training, averaged over
    the epoch's batches as they were seen), ``val_loss`` and ``val_accuracy`` (``None``
    without validation data) and ``time`` (seconds for the epoch).
    """

    records: list = field(default_factory=list)

    @property
    def last(self) -> dict:
        """The last epoch's record."""
        return self.records[-1] if self.records else {}

    def column(self, key: str) -> list:
        """One metric over the epochs."""
        return [r[key] for r in self.records]

    def __len__(self):
        return len(self.records)


def accuracy(outputs: np.ndarray, y: np.ndarray) -> float | None:
    """Fraction of rows whose argmax equals the integer label; ``None`` for non-label targets.

    Examples
    --------
    >>> accuracy(np.array([[0.9, 0.1], [0.2, 0.8]]), np.array([0, 0]))
    0.5
    """
    y = np.asarray(y)
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer) or outputs.ndim != 2:
        return None
    return float(np.mean(outputs.argmax(axis=1) == y))


def evaluate(model, X, y, loss="cross_entropy", *, batch_size=1024) -> tuple[float, float | None]:
    """Mean loss and accuracy of ``model`` on ``(X, y)``.

    Examples
    --------
    >>> from graphnet.models import mlp
    >>> from graphnet.data import xor
    >>> X, y = xor()
    >>> loss, acc = evaluate(mlp(2, [4], 2, seed=0), X, y)
    >>> 0.0 <= acc <= 1.0
    True
    """
    loss = get_loss(loss)
    check_dataset(X, y)
    o = model.predict(X, batch_size=batch_size)
    return loss(o, y), accuracy(o, y)


def _show_progress(progress) -> bool:
    if progress is None:
        return sys.stderr.isatty()
    return bool(progress)


#: An epoch whose mean loss exceeds this many times the loss at the start has diverged. The
#: start is the larger of the first batch's loss before any step and the loss of a uniform
#: output on that batch (ln k for the cross-entropy over k classes): a run that starts from a
#: trained model is measured against chance, not against its own small loss. Measured on
#: every epoch of the runs in tests/test_train.py and tests/test_lab_*.py, of the xor,
#: digits, pruning and seed_example recipes and of the default ``graphnet run``: at most
#: 1.31x; ``graphnet train --model mlp --lr 1e6`` reaches 7.5x in its first epoch.
_RISE = 4.0
#: Relative tolerance of "at the ceiling" (the clipped loss's largest value).
_CEILING_TOL = 1e-9


def _diverged(opt) -> str:
    return f"training diverged: try a lower learning rate than lr={opt.lr:g}"


def _nonfinite_step(model, value) -> str | None:
    """What is not finite after a forward pass (loss, outputs), or None."""
    if not math.isfinite(value):
        return f"the loss became {value}"
    if not np.isfinite(model.last_output).all():
        return "the outputs (activations) became non-finite"
    return None


def _nonfinite_params(pairs) -> str | None:
    """Which parameter an optimizer step made non-finite (a non-finite gradient does), or None."""
    for k, (p, _) in enumerate(pairs):
        if not np.isfinite(p).all():
            return f"parameter {k} became non-finite after the step"
    return None


def _start_loss(loss, o, yb, value: float) -> float:
    """The reference of the rise test: max(first loss, loss of a uniform output)."""
    if o.ndim != 2 or o.shape[1] < 1:
        return value
    uniform = np.full(o.shape, 1.0 / o.shape[1], dtype=o.dtype)
    return max(value, loss(uniform, yb))


def fit(model, X, y, *, loss="cross_entropy", optimizer="adam", lr=1e-3, epochs=10,
        batch_size=32, seed=0, validation=None, progress=None, desc="train",
        callback=None) -> History:
    """Train ``model`` on ``(X, y)`` with mini-batches.

    Parameters
    ----------
    model : Sequential (or anything with ``loss_and_backward``, ``params_and_grads``, ``predict``)
    X : ndarray of shape (n, ...)
    y : ndarray of shape (n,) of integer labels, or of shape (n, k) of targets
    loss : str or Loss
    optimizer : {"sgd", "momentum", "adam"} or Optimizer
    lr : float
        Learning rate (ignored when ``optimizer`` is an Optimizer instance).
    epochs : int
    batch_size : int
        Clipped to ``n``.
    seed : int or numpy.random.Generator
        Shuffles the samples every epoch.
    validation : tuple (X_val, y_val), optional
        Evaluated after every epoch.
    progress : bool, optional
        Show a tqdm bar; by default only when stderr is a terminal.
    desc : str
        Label of the progress bar.
    callback : callable (record: dict) -> None, optional
        Called after every epoch with its record.

    Returns
    -------
    History

    Raises
    ------
    DivergenceError
        When training diverges; names what was detected, the epoch and batch, and suggests
        a lower learning rate. Detected are: a non-finite loss or output (the step is not
        applied: the model keeps the parameters that produced it); a parameter made
        non-finite by a step, e.g. from a non-finite gradient (the model holds it); a loss
        at its ceiling
        (``loss.ceiling``, the clipped cross-entropy's largest value) in every batch of an
        epoch; an epoch's mean loss above 4x the loss at the start, where the start is the
        larger of the first batch's loss and the loss of a uniform output (ln k for k
        classes). The last two end the epoch they happen in.
    InputError, DataError
        For bad data or settings.

    Examples
    --------
    >>> from graphnet.models import mlp
    >>> from graphnet.data import xor
    >>> X, y = xor()
    >>> h = fit(mlp(2, [4], 2, seed=0), X, y, lr=0.05, epochs=300, batch_size=4, seed=0)
    >>> len(h), h.last["accuracy"]
    (300, 1.0)
    """
    check_dataset(X, y)
    X, y = np.asarray(X), np.asarray(y)
    loss = get_loss(loss)
    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise InputError(f"fit: {name} must be a positive int, got {value!r}")
    opt = get_optimizer(optimizer, lr)
    rng = make_rng(seed)
    if validation is not None:
        if not (isinstance(validation, (tuple, list)) and len(validation) == 2):
            raise InputError("fit: validation must be a pair (X_val, y_val)")
        check_dataset(*validation, name="X_val")
    n = len(X)
    batch_size = min(int(batch_size), n)
    history = History()
    bar = tqdm(range(1, epochs + 1), desc=desc, disable=not _show_progress(progress),
               leave=False, unit="epoch", file=sys.stderr)
    start_loss = None  # the reference of the rise test: see _RISE
    for epoch in bar:
        start = time.perf_counter()
        order = rng.permutation(n)
        total, correct, seen, labelled, at_ceiling = 0.0, 0, 0, True, 0
        for b, i in enumerate(range(0, n, batch_size)):
            idx = order[i:i + batch_size]
            xb, yb = X[idx], y[idx]
            # overflow is not a warning here: the guards below turn it into a clear error
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                value = model.loss_and_backward(xb, yb, loss)
                problem = _nonfinite_step(model, value)
                if problem is None:
                    if start_loss is None:
                        start_loss = _start_loss(loss, model.last_output, yb, value)
                    pairs = model.params_and_grads()
                    opt.step(pairs)
                    problem = _nonfinite_params(pairs)
            if problem is not None:
                bar.close()
                raise DivergenceError(f"fit: {problem} in epoch {epoch}, batch {b + 1}; "
                                      f"{_diverged(opt)}")
            total += value * len(idx)
            seen += len(idx)
            if loss.ceiling is not None and value >= loss.ceiling * (1 - _CEILING_TOL):
                at_ceiling += 1
            acc = accuracy(model.last_output, yb)  # running accuracy, from the step's forward
            if acc is None:
                labelled = False
            else:
                correct += acc * len(idx)
        mean = total / seen
        if at_ceiling == b + 1:
            bar.close()
            raise DivergenceError(
                f"fit: the loss stayed at its ceiling {loss.ceiling:.4f} (its largest value: "
                f"the outputs saturated on wrong classes) in epoch {epoch}, batch 1 to "
                f"{b + 1} (every batch); {_diverged(opt)}")
        if mean > _RISE * start_loss:
            bar.close()
            raise DivergenceError(
                f"fit: the mean loss {mean:.4g} in epoch {epoch}, batch 1 to {b + 1}, is more "
                f"than {_RISE:g}x the loss at the start ({start_loss:.4g}); {_diverged(opt)}")
        record = {"epoch": epoch, "loss": mean,
                  "accuracy": correct / seen if labelled else None,
                  "val_loss": None, "val_accuracy": None}
        if validation is not None:
            record["val_loss"], record["val_accuracy"] = evaluate(model, *validation, loss)
        record["time"] = time.perf_counter() - start
        history.records.append(record)
        bar.set_postfix({k: f"{v:.4f}" for k, v in record.items()
                         if k in ("loss", "accuracy", "val_accuracy") and v is not None})
        if callback is not None:
            callback(record)
    bar.close()
    return history

