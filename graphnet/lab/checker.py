"""Checking a config's values: errors that name the file and the key.

:class:`Checker` is what :mod:`graphnet.lab.config`, :mod:`graphnet.lab.sections` and
:mod:`graphnet.lab.schedule` check values with: ``c.int(value, "[train] epochs", low=1)``
returns the value or raises :class:`~graphnet.errors.ConfigError` with a message such as
``digits.toml: [train] epochs: expected an integer >= 1, got 0``.
"""

from __future__ import annotations

import math

from graphnet.errors import ConfigError

__all__ = ["Checker", "describe"]


class Checker:
    """Checks config values; a bad one raises ConfigError naming the file and the key.

    Each method takes a value and ``where`` (the key as the message names it) and returns
    the value checked.

    Examples
    --------
    >>> c = Checker("x.toml")
    >>> c.int(3, "rounds", low=0)
    3
    >>> c.float(-1, "[train] lr", low=0, low_open=True, what="a positive number")
    Traceback (most recent call last):
    ...
    graphnet.errors.ConfigError: x.toml: [train] lr: expected a positive number, got -1
    """

    def __init__(self, source: str):
        self.source = source

    def fail(self, where: str, message: str):
        raise ConfigError(f"{self.source}: {where}: {message}")

    def describe(self, value) -> str:
        """A value for an error message (as :func:`_describe`)."""
        return describe(value)

    def keys(self, table, allowed, where_prefix: str, section: str):
        """Refuse unknown keys of ``table``."""
        for k in table:
            if k not in allowed:
                self.fail(f"{where_prefix}{k}",
                          f"unknown key in {section}; expected one of {', '.join(allowed)}")

    def table(self, value, where: str) -> dict:
        if not isinstance(value, dict):
            self.fail(where, f"expected a table, got {describe(value)}")
        return value

    def int(self, value, where: str, *, low=None, high=None) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(where, f"expected an integer, got {describe(value)}")
        if low is not None and value < low:
            self.fail(where, f"expected an integer >= {low}, got {value}")
        if high is not None and value > high:
            self.fail(where, f"expected an integer <= {high}, got {value}")
        return int(value)

    def float(self, value, where: str, *, low=None, high=None, low_open=False,
              high_open=False, what="a number") -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(where, f"expected {what}, got {describe(value)}")
        x = float(value)
        if not math.isfinite(x):
            self.fail(where, f"expected {what}, got {value}")
        if low is not None and (x < low or (low_open and x == low)):
            self.fail(where, f"expected {what}, got {value}")
        if high is not None and (x > high or (high_open and x == high)):
            self.fail(where, f"expected {what}, got {value}")
        return x

    def choice(self, value, choices, where: str) -> str:
        if not isinstance(value, str) or value not in choices:
            self.fail(where, f"expected one of {', '.join(map(repr, choices))}, got {describe(value)}")
        return value

    def bool(self, value, where: str) -> bool:
        if not isinstance(value, bool):
            self.fail(where, f"expected true or false, got {describe(value)}")
        return value

    def str(self, value, where: str, *, empty=False) -> str:
        if not isinstance(value, str) or (not empty and not value):
            self.fail(where, f"expected a non-empty string, got {describe(value)}")
        return value

    def int_list(self, value, where: str, *, low=None, empty=False) -> list:
        if not isinstance(value, list) or (not empty and not value):
            self.fail(where, f"expected a {'' if empty else 'non-empty '}list of integers, "
                             f"got {describe(value)}")
        return [self.int(v, f"{where}[{k}]", low=low) for k, v in enumerate(value)]


def describe(value) -> str:
    """A value for an error message: its TOML-ish text and, for non-scalars, its kind.

    Examples
    --------
    >>> describe(True), describe("a"), describe([1, 2]), describe(0.5)
    ('true', "'a'", 'a list [1, 2]', '0.5')
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, dict):
        return f"a table {value!r}"
    if isinstance(value, list):
        return f"a list {value!r}"
    return repr(value)
