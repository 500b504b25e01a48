"""The checks of a plan's arguments: the strategy (the form of each level) and parameters.

Used by :mod:`graphnet.graph.execute` (through :mod:`graphnet.graph._plan`, which
re-exports them with the level records).
"""

from __future__ import annotations

import numpy as np

from graphnet.errors import InputError, InputTypeError

__all__ = ["STRATEGIES", "FORMS", "check_strategy", "check_params"]

STRATEGIES = ("auto", "dense", "edge", "range", "gather", "csr")
FORMS = ("range", "gather", "edge", "csr")


def check_strategy(net, strategy, where):
    """``strategy`` checked (a sequence becomes a tuple); InputError / InputTypeError if bad."""
    if isinstance(strategy, str):
        if strategy not in STRATEGIES:
            raise InputError(f"{where}: strategy must be one of {STRATEGIES} or a "
                             f"sequence of {FORMS} (one per level), got {strategy!r}")
    elif isinstance(strategy, (list, tuple)):
        strategy = tuple(strategy)
        bad = [f for f in strategy if not (isinstance(f, str) and f in FORMS)]
        if bad:
            raise InputError(f"{where}: a per-level strategy must name one of {FORMS} "
                             f"per level, got {bad[0]!r}")
        n_levels = 1 if net.mode == "recurrent" else len(net.levels())
        if len(strategy) != n_levels:
            raise InputError(f"{where}: a per-level strategy needs one entry per level "
                             f"({n_levels}), got {len(strategy)}")
    else:
        raise InputTypeError(f"{where}: strategy must be a str or a sequence of str, "
                             f"got {type(strategy).__name__}")
    return strategy


def check_params(w, b, n_w: int, n_b: int, where):
    """``(w, b)`` if both are float32/float64 vectors of one dtype and of sizes n_w, n_b."""
    if w is None or b is None:
        raise InputError(f"{where}: pass both w and b, or neither (the network's own)")
    for name, arr, size in (("w", w, n_w), ("b", b, n_b)):
        if not isinstance(arr, np.ndarray) or arr.dtype.type not in (np.float32, np.float64):
            got = f"dtype {arr.dtype}" if isinstance(arr, np.ndarray) else type(arr).__name__
            raise InputTypeError(f"{where}: {name} must be a float32 or float64 ndarray, "
                                 f"got {got}")
        if arr.shape != (size,):
            raise InputError(f"{where}: {name} must have shape ({size},), got {arr.shape}")
    if w.dtype != b.dtype:
        raise InputTypeError(f"{where}: w and b must share a dtype, got {w.dtype} and "
                             f"{b.dtype}")
    return w, b
