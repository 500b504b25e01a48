"""The operator table: each operator's letter, name, arguments and promise, for people.

``graphnet ops`` prints :func:`ops_table` and ``graphnet ops F`` :func:`describe_operator`.
Everything they show is declared in the operator specs
(:data:`graphnet.graph.registry.OPERATORS`: typed parameters with the values they accept,
sampler keywords, repair) and the contracts (:data:`graphnet.graph.contracts.CONTRACTS`);
this module only formats it.
"""

from __future__ import annotations

import inspect
import textwrap

from graphnet.errors import InputError, InputTypeError
from graphnet.graph.contracts import Contract
from graphnet.graph.registry import OPERATORS, OperatorSpec, Param

__all__ = [
    "keeps",
    "find_operators",
    "ops_table",
    "describe_operator",
]


def keeps(contract: Contract) -> str:
    """What a contract keeps, in words: ``"det, rank, spectrum, function"`` or less.

    Parameters
    ----------
    contract : Contract

    Returns
    -------
    str
        The kept properties joined by ``", "``, ``"; det negated"`` appended where the
        determinant changes sign, ``"nothing promised"`` when nothing is kept.

    Examples
    --------
    >>> from graphnet.graph.contracts import get_contract
    >>> keeps(get_contract("H")), keeps(get_contract("B")), keeps(get_contract("A"))
    ('det, rank, spectrum, function', 'rank; det negated', 'nothing promised')
    """
    kept = [field for field, value in (("det", contract.det), ("rank", contract.rank),
                                       ("spectrum", contract.spectrum),
                                       ("function", contract.function))
            if value in ("unchanged", "kept")]
    text = ", ".join(kept)
    if contract.det == "negated":
        text = f"{text}; det negated" if text else "det negated"
    return text or "nothing promised"


def find_operators(name) -> list[OperatorSpec]:
    """The operators a name or a seed's letter stands for (a letter may name several).

    Parameters
    ----------
    name : str
        A canonical name (``"add_scaled_row"``) or a letter (``"F"``; ``"H"`` gives both
        ``permute_nodes`` and ``swap_nodes``). Case matters, as in configs.

    Returns
    -------
    list of OperatorSpec

    Raises
    ------
    InputError
        An unknown name; the message lists every letter and name.
    InputTypeError
        ``name`` is not a string.

    Examples
    --------
    >>> [spec.name for spec in find_operators("H")]
    ['permute_nodes', 'swap_nodes']
    >>> find_operators("E")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    graphnet.errors.InputError: unknown operator 'E'; known: A threshold, B swap_columns, ...
    """
    if not isinstance(name, str):
        raise InputTypeError(f"operator: expected a name or a letter, got {type(name).__name__}")
    if name in OPERATORS:
        return [OPERATORS[name]]
    found = [spec for spec in OPERATORS.values() if spec.letter is not None and spec.letter == name]
    if found:
        return found
    known = ", ".join(f"{spec.letter} {spec.name}" if spec.letter else spec.name
                      for spec in OPERATORS.values())
    raise InputError(f"unknown operator {name!r}; known: {known}")


def _param_text(p: Param) -> str:
    default = "" if p.default is None else f", default {p.default}"
    return f"{p.name} ({p.type}): {p.accepts}{default}"


def _first_paragraph(func) -> str:
    doc = inspect.cleandoc(func.__doc__ or "")
    return " ".join(doc.split("\n\n", 1)[0].split()).replace("``", "")


def _wrap(text, width, **kwargs) -> list:
    """textwrap.wrap that never breaks ``0..n-1`` or ``out-edges`` at the hyphen."""
    return textwrap.wrap(text, width, break_on_hyphens=False, **kwargs)


def ops_table(*, markdown: bool = False, width: int = 80) -> str:
    """A table of every registered operator: letter, name, arguments, what it keeps.

    Parameters
    ----------
    markdown : bool
        A Markdown table (one row per operator, arguments separated by ``<br>``) instead
        of plain text.
    width : int >= 60
        Plain text: the lines are at most this long (arguments and keeps wrap).

    Returns
    -------
    str

    Raises
    ------
    InputError
        ``width`` below 60.

    Examples
    --------
    >>> lines = ops_table().splitlines()
    >>> lines[0].split()
    ['letter', 'name', 'arguments', 'keeps']
    >>> lines[2]
    'A      threshold         a (float): >= 0, finite              nothing promised'
    >>> max(len(line) for line in lines) <= 80
    True
    >>> ops_table(markdown=True).splitlines()[2]
    '| A | threshold | a (float): >= 0, finite | nothing promised |'
    """
    rows = [(spec.letter or "-", spec.name, [_param_text(p) for p in spec.params],
             keeps(spec.contract)) for spec in OPERATORS.values()]
    if markdown:
        out = ["| letter | name | arguments | keeps |", "|---|---|---|---|"]
        out += [f"| {letter} | {name} | {'<br>'.join(args) or '-'} | {kept} |"
                for letter, name, args, kept in rows]
        return "\n".join(out)
    if not (isinstance(width, int) and width >= 60):
        raise InputError(f"ops_table: width: expected an int >= 60, got {width!r}")
    w_letter, w_name = 6, max(len(r[1]) for r in rows)
    w_keeps = 18
    w_args = width - w_letter - w_name - w_keeps - 3
    out = [f"{'letter':<{w_letter}} {'name':<{w_name}} {'arguments':<{w_args}} keeps",
           f"{'-' * w_letter} {'-' * w_name} {'-' * w_args} {'-' * w_keeps}"]
    for letter, name, args, kept in rows:
        arg_lines = [line for a in args
                     for line in _wrap(a, w_args, subsequent_indent="  ")] or ["-"]
        keep_lines = _wrap(kept, w_keeps)
        for k in range(max(len(arg_lines), len(keep_lines))):
            cells = [letter if k == 0 else "", name if k == 0 else "",
                     arg_lines[k] if k < len(arg_lines) else "",
                     keep_lines[k] if k < len(keep_lines) else ""]
            line = (f"{cells[0]:<{w_letter}} {cells[1]:<{w_name}} {cells[2]:<{w_args}} "
                    f"{cells[3]}")
            out.append(line.rstrip())
    return "\n".join(out)


def describe_operator(name, *, width: int = 80) -> str:
    """One operator in detail: docstring summary, arguments, sampler keywords, contract.

    Parameters
    ----------
    name : str
        As :func:`find_operators` (a letter standing for several operators shows each).
    width : int
        Wrap the prose at this width.

    Returns
    -------
    str

    Raises
    ------
    InputError, InputTypeError
        As :func:`find_operators`.

    Examples
    --------
    >>> text = describe_operator("F")
    >>> print(text.splitlines()[0])
    F  add_scaled_row
    >>> "keeps: det, rank" in text
    True
    """
    blocks = []
    for spec in find_operators(name):
        c = spec.contract
        lines = [f"{spec.letter or '-'}  {spec.name}", ""]
        lines += _wrap(_first_paragraph(spec.func), width)
        lines += ["", "arguments:"]
        for p in spec.params:
            lines += _wrap(_param_text(p), width, initial_indent="  ",
                                   subsequent_indent="    ")
        if not spec.params:
            lines.append("  none")
        lines.append(f"  repair: {'accepted' if spec.repairable else 'not taken'}")
        keywords = [k.name for k in spec.keywords]
        lines += _wrap("sampler keywords (schedule entries): "
                               + (", ".join(keywords) or "none"), width)
        lines += ["", f"keeps: {keeps(c)}",
                  f"  det {c.det}, rank {c.rank}, spectrum {c.spectrum}, function {c.function}"]
        lines += _wrap(c.note, width, initial_indent="  ", subsequent_indent="  ")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
