"""The mutation schedule: its entries, their value forms, and how a round applies them.

A ``[[mutation.schedule]]`` entry names an operator (a letter or a name), when it fires
(``every``, ``start``, ``p``, ``count``) and any of the operator's arguments or sampler
keywords. What an operator takes is declared once, in its
:class:`~graphnet.graph.registry.OperatorSpec`; this module reads the spec and knows no
operator by name. An argument's value takes one of four forms:

- fixed: ``k = 0.5`` is used as given;
- range: ``k = [lo, hi]`` is drawn each application (an int argument uniformly from
  lo..hi, a float one from Uniform(lo, hi));
- ramp: ``a = {start = 0.01, step = 0.005}`` is ``start + step * (round - entry start)``,
  stopped at the parameter's ``ramp_min`` where it declares one (a threshold at 0);
- quantile: ``a = {quantile = q}``, the q-quantile of abs(w) over the current edges, where
  the parameter allows it (the threshold's ``a``).

Arguments an entry does not give are drawn by the operator's sampler, which also gets the
entry's sampler keywords (``k_max``, ``tries``, ...). :func:`mutate` applies a round's due
entries, :func:`set_round` is the ``set`` baseline's round, and the ``check_*`` functions
validate entries for :mod:`graphnet.lab.sections`.
"""

from __future__ import annotations

import numpy as np

from graphnet.errors import (GraphError, GraphnetError, InputError, InputTypeError,
                             OperatorError)
from graphnet.graph.registry import SET_OPERATORS, apply, get_operator, set_step
from graphnet.lab.checker import describe
from graphnet.rng import Purpose, stream

__all__ = ["operator_args", "entry_args", "apply_entry", "mutate", "set_round", "check_schedule",
           "dry_run_schedule", "check_set_baseline"]

#: The keys of a schedule entry that are not operator arguments.
_ENTRY_KEYS = ("op", "every", "start", "p", "count")


def operator_args(spec) -> dict:
    """The arguments a schedule entry may give an operator, with their kind.

    The operator's declared parameters that a config may give (not regrow's ``seed``,
    which the runner draws) have their kind (``"int"``, ``"float"``, ``"perm"``,
    ``"choice"``) and take the value forms of the module docstring. Keywords that only
    the operator's sampler takes (``k_max``, ``a_range``, ``keep_io_order``, ``tries``,
    ...) have kind ``"sampler"`` and are passed to the sampler as written.

    Parameters
    ----------
    spec : OperatorSpec

    Returns
    -------
    dict
        argument name -> kind.

    Examples
    --------
    >>> operator_args(get_operator("A"))
    {'a': 'float', 'a_range': 'sampler'}
    >>> operator_args(get_operator("F"))
    {'src': 'int', 'dst': 'int', 'k': 'float', 'k_max': 'sampler', 'tries': 'sampler'}
    """
    out = {p.name: p.kind for p in spec.params if p.config}
    for keyword in spec.keywords:
        out.setdefault(keyword.name, "sampler")
    return out


# ----------------------------------------------------------------------------- applying


def _resolve_args(net, entry: dict, spec, rng, round_: int) -> tuple[dict, dict]:
    """(fixed operator arguments, sampler keywords) of one application."""
    kinds = operator_args(spec)
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
            floor = spec.param(name).ramp_min
            if floor is not None:
                fixed[name] = max(fixed[name], floor)  # e.g. a falling threshold stops at 0
        elif isinstance(value, list):
            lo, hi = value
            fixed[name] = int(rng.integers(lo, hi + 1)) if kind == "int" else float(rng.uniform(lo, hi))
        else:
            fixed[name] = value
    return fixed, sampler


def entry_args(net, entry: dict, rng, *, round_: int) -> tuple:
    """The operator and the full arguments of one application of a schedule entry.

    Fixed arguments are used as given; ``[lo, hi]`` is drawn from ``rng``; ``{start,
    step}`` is ``start + step * (round - entry start)`` (stopped at the parameter's
    ``ramp_min``); ``{quantile = q}`` is the q-quantile of abs(w) over the current edges.
    Required arguments not given (and those only the runner gives, as regrow's seed) are
    drawn by the operator's sampler from ``rng``, which also gets the entry's sampler
    keywords.

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
    spec = get_operator(entry["op"])
    fixed, sampler = _resolve_args(net, entry, spec, rng, round_)
    missing = [p.name for p in spec.params if p.required and p.name not in fixed]
    if missing or sampler:
        accepts = set(spec.sample.keywords)
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
    spec, args = entry_args(net, entry, rng, round_=round_)
    return apply(net, spec, repair=repair, **args)


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


def set_round(net, *, seed: int, round_: int, fraction: float, code: int) -> tuple:
    """SET's round for the model of stream code ``code``: prune, then regrow as many."""
    rng = stream(seed, code, round_, Purpose.MUTATE)
    grown, (rec1, rec2) = set_step(net, fraction, rng)
    return grown, [{**rec1.to_dict(), "error": None}, {**rec2.to_dict(), "error": None}]


# ----------------------------------------------------------------------------- checking
# ``c`` is the config's :class:`~graphnet.lab.checker.Checker`: fail, int, float, bool,
# choice and int_list, each raising ConfigError that names the file and the key.


def _check_keyword(c, where: str, keyword, value):
    """A sampler keyword, by its declared kind."""
    if keyword.kind == "bool":
        return c.bool(value, where)
    if keyword.kind == "count":
        return c.int(value, where, low=1)
    if keyword.kind == "pair":
        if not isinstance(value, list) or len(value) != 2:
            c.fail(where, f"expected a pair [lo, hi], got {describe(value)}")
        return [c.float(v, f"{where}[{k}]") for k, v in enumerate(value)]
    return c.float(value, where)


def _check_arg(c, where: str, param, value):
    """Check one schedule argument's value form; return it resolved (same form)."""
    if param.kind == "perm":
        perm = c.int_list(value, where, low=0)
        if sorted(perm) != list(range(len(perm))):
            c.fail(where, f"expected a permutation of 0..{len(perm) - 1}, got {perm}")
        return perm
    if param.kind == "choice":
        return c.choice(value, param.choices, where)
    integer = param.kind == "int"
    num = c.int if integer else c.float
    if isinstance(value, dict):
        if param.quantile and set(value) == {"quantile"}:
            q = c.float(value["quantile"], f"{where}.quantile", low=0, high=1,
                        what="a number in [0, 1]")
            return {"quantile": q}
        if set(value) == {"start", "step"}:
            return {"start": num(value["start"], f"{where}.start"),
                    "step": num(value["step"], f"{where}.step")}
        forms = "{start, step}" + (" or {quantile}" if param.quantile else "")
        c.fail(where, f"expected a number, [lo, hi] or a table {forms}, got {describe(value)}")
    if isinstance(value, list):
        if len(value) != 2:
            c.fail(where, f"expected a range [lo, hi] of two numbers, got {describe(value)}")
        lo, hi = (num(v, f"{where}[{k}]") for k, v in enumerate(value))
        if lo > hi:
            c.fail(where, f"expected lo <= hi, got [{value[0]}, {value[1]}]")
        return [lo, hi]
    return num(value, where)


def _check_bounds(c, where: str, param, value):
    """A parameter's declared bounds: ``low`` alone, or the interval [low, high]."""
    if param.high is None:  # a lower bound: a ramp's start and a range's lo must meet it
        if isinstance(value, dict):
            if "start" in value and value["start"] < param.low:
                c.fail(f"{where}.start",
                       f"a {param.noun} must be >= {param.low}, got {value['start']}")
            return
        lo = value[0] if isinstance(value, list) else value
        if lo < param.low:
            c.fail(where, f"a {param.noun} must be >= {param.low}, got {value}")
        return
    if isinstance(value, dict):  # an interval: every fixed or range value; a ramp at the run
        return
    for x in value if isinstance(value, list) else [value]:
        if not param.low <= x <= param.high:
            c.fail(where, f"a {param.noun} must be in [{param.low}, {param.high}], got {value}")


def check_schedule(c, entries) -> list:
    """The ``[[mutation.schedule]]`` entries, resolved (canonical names, defaults filled)."""
    if not isinstance(entries, list):
        c.fail("[mutation] schedule", f"expected an array of tables [[mutation.schedule]], "
                                      f"got {describe(entries)}")
    out = []
    for k, e in enumerate(entries):
        where = f"[[mutation.schedule]] #{k + 1}"
        if not isinstance(e, dict):
            c.fail(where, f"expected a table, got {describe(e)}")
        if "op" not in e:
            c.fail(f"{where} op", "missing: name the operator (a letter 'A'..'N' or a name)")
        op = e["op"]
        if not isinstance(op, str):
            c.fail(f"{where} op", f"expected an operator letter or name, got {describe(op)}")
        try:
            spec = get_operator(op)
        except GraphnetError as exc:
            c.fail(f"{where} op", str(exc).replace("get_operator: ", ""))
        args = operator_args(spec)
        r = {"op": spec.name,
             "every": c.int(e.get("every", 1), f"{where} every", low=1),
             "start": c.int(e.get("start", 1), f"{where} start", low=1),
             "p": c.float(e.get("p", 1.0), f"{where} p", low=0, high=1, what="a number in [0, 1]"),
             "count": c.int(e.get("count", 1), f"{where} count", low=1)}
        for key, value in e.items():
            if key in _ENTRY_KEYS:
                continue
            if key not in args:
                valid = ", ".join(list(_ENTRY_KEYS) + list(args))
                c.fail(f"{where} {key}", f"operator {spec.name!r} ({spec.letter or 'extra'}) has "
                                         f"no argument {key!r}; expected one of {valid}")
            if args[key] == "sampler":
                keyword = next(kw for kw in spec.keywords if kw.name == key)
                value = _check_keyword(c, f"{where} {key}", keyword, value)
            else:
                param = spec.param(key)
                value = _check_arg(c, f"{where} {key}", param, value)
                if param.low is not None:
                    _check_bounds(c, f"{where} {key}", param, value)
            r[key] = value
        out.append(r)
    return out


def dry_run_schedule(c, schedule: list, net, repair: bool):
    """Apply every entry once to the start network so a bad argument fails now.

    Only argument errors (InputError, InputTypeError) are config errors; an operator
    that cannot act on this particular network (OperatorError) is left to the run.
    """
    for k, entry in enumerate(schedule):
        try:  # stream(0) is the Generator default_rng(0) the dry run has always used
            apply_entry(net, entry, stream(0), round_=entry["start"], repair=repair)
        except (InputError, InputTypeError) as exc:
            c.fail(f"[[mutation.schedule]] #{k + 1}", f"operator {entry['op']!r}: {exc}")
        except GraphnetError:
            pass


def check_set_baseline(c, where: str):
    """The ``set`` baseline needs SET's operators in the registry."""
    for n in SET_OPERATORS:
        try:
            get_operator(n)
        except GraphnetError as exc:
            c.fail(where, f"the 'set' baseline needs operator {n!r}: {exc}")
