"""Writing a config as TOML: the subset configs use, floats exact.

The resolved config of a run is written into its directory as ``config.toml`` by
:func:`dumps_toml` and reads back (``tomllib``) to the same values, bit for bit.
"""

from __future__ import annotations

import json
import math
import numbers
import re

__all__ = ["dumps_toml"]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _key(k: str) -> str:
    """A TOML key: bare when possible, else a quoted string."""
    return k if _BARE_KEY.fullmatch(k) else json.dumps(k)


def _scalar(v) -> str:
    """A TOML value for a scalar, list or (inline) table."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, numbers.Integral):
        return str(int(v))
    if isinstance(v, numbers.Real):
        x = float(v)
        if math.isnan(x):
            return "nan"
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        return repr(x)  # shortest repr: reads back to the same float
    if isinstance(v, str):
        # JSON's escapes are TOML's; DEL is the one control character JSON leaves bare
        return json.dumps(v, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_scalar(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_key(str(k))} = {_scalar(x)}" for k, x in v.items()) + "}"
    raise TypeError(f"dumps_toml: cannot write a {type(v).__name__} ({v!r})")


def _is_table_array(v) -> bool:
    return isinstance(v, (list, tuple)) and len(v) > 0 and all(isinstance(x, dict) for x in v)


def _emit(table: dict, path: list, lines: list, header: str | None) -> None:
    if header is not None:
        if lines:
            lines.append("")
        lines.append(header)
    subtables, arrays = [], []
    for k, v in table.items():
        if isinstance(v, dict):
            subtables.append((k, v))
        elif _is_table_array(v):
            arrays.append((k, v))
        else:
            lines.append(f"{_key(k)} = {_scalar(v)}")
    for k, v in subtables:
        p = path + [k]
        _emit(v, p, lines, "[" + ".".join(map(_key, p)) + "]")
    for k, items in arrays:
        p = path + [k]
        for item in items:
            if lines:
                lines.append("")
            lines.append("[[" + ".".join(map(_key, p)) + "]]")
            for ik, iv in item.items():  # inside an array element tables are written inline
                lines.append(f"{_key(ik)} = {_scalar(iv)}")


def dumps_toml(values: dict) -> str:
    """Write a nested dict as TOML (the subset configs use).

    Scalars, lists and tables; a list of tables becomes an array of tables
    (``[[mutation.schedule]]``) whose own nested tables are written inline. Floats are
    written with ``repr`` so they read back bit for bit.

    Parameters
    ----------
    values : dict
        str keys; values bool, int, float, str, lists of those, dicts, lists of dicts.

    Returns
    -------
    str

    Raises
    ------
    TypeError
        For a value TOML cannot hold (``None``, objects).

    Examples
    --------
    >>> text = dumps_toml({"a": 1, "t": {"x": 0.1, "s": "hi"},
    ...                    "m": [{"op": "A", "a": {"quantile": 0.2}}]})
    >>> print(text, end="")
    a = 1
    <BLANKLINE>
    [t]
    x = 0.1
    s = "hi"
    <BLANKLINE>
    [[m]]
    op = "A"
    a = {quantile = 0.2}
    >>> import tomllib
    >>> tomllib.loads(text)["m"][0]["a"]["quantile"]
    0.2
    """
    lines: list = []
    _emit(values, [], lines, None)
    return "\n".join(lines) + "\n"
