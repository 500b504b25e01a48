"""The exceptions graphnet raises.

Every error is a subclass of :class:`GraphnetError` and of the builtin that fits it
(``ValueError`` or ``TypeError``), so ``except ValueError`` keeps working for callers
who do not know graphnet's own family.
"""

from __future__ import annotations

__all__ = [
    "GraphnetError",
    "InputError",
    "InputTypeError",
    "DataError",
    "GraphError",
    "CycleError",
    "OperatorError",
    "ConfigError",
    "DivergenceError",
]


class GraphnetError(Exception):
    """Base class of every error graphnet raises on purpose."""


class InputError(GraphnetError, ValueError):
    """An argument has the wrong value or shape."""


class InputTypeError(GraphnetError, TypeError):
    """An argument has the wrong type or dtype."""


class DataError(GraphnetError, ValueError):
    """A dataset or data file is malformed, truncated or empty."""


class GraphError(GraphnetError, ValueError):
    """A graph is not a valid network (roles, edges, weights)."""


class CycleError(GraphError):
    """A feedforward network would contain a cycle; ``cycle`` lists its edges."""

    def __init__(self, message: str, cycle=None):
        super().__init__(message)
        self.cycle = list(cycle) if cycle is not None else []


class OperatorError(GraphnetError, ValueError):
    """An operator cannot be applied; ``edges`` lists the offending edges, if any."""

    def __init__(self, message: str, edges=None):
        super().__init__(message)
        self.edges = list(edges) if edges is not None else []


class ConfigError(GraphnetError, ValueError):
    """An experiment config is invalid; the message names the key and the file."""


class DivergenceError(GraphnetError, FloatingPointError):
    """Training produced a NaN or infinite loss."""
