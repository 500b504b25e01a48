"""The operator registry: one declared spec per operator, read by every consumer.

An :class:`OperatorSpec` declares everything about an operator that is not its code: its
name and the seed's letter, its typed parameters with the values they accept, its sampler
and the sampler's keywords with their defaults, its contract and whether it takes
``repair``. Config validation and schedules (:mod:`graphnet.lab.schedule`), sampling,
``graphnet ops`` (:mod:`graphnet.graph.optable`) and the docs all read these specs; nothing
inspects a signature or goes by an operator's name. Adding an operator is its function
(with its implementation), a draw function, and one spec in :data:`OPERATORS`.

:func:`apply` and :func:`apply_random` apply an operator by name or letter and return an
:class:`Applied` record, which replays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, NamedTuple

from graphnet._checks import is_int
from graphnet.errors import InputError, InputTypeError
from graphnet.graph import extras, operators, samplers
from graphnet.graph.contracts import CONTRACTS, Contract
from graphnet.graph.gate import _check_net
from graphnet.graph.network import ACTIVATIONS, GraphNetwork
from graphnet.rng import make_rng

__all__ = [
    "Param",
    "Keyword",
    "OperatorSpec",
    "OPERATORS",
    "get_operator",
    "Applied",
    "apply",
    "apply_random",
    "SET_OPERATORS",
    "set_step",
]

#: How each parameter kind is written for people (``graphnet ops``).
KIND_TYPES = {"int": "int", "float": "float", "perm": "list[int]", "choice": "str",
              "seed": "int or Generator"}


class Param(NamedTuple):
    """One argument of an operator (besides the network and ``repair``).

    Attributes
    ----------
    name : str
        The keyword, as the operator function and a schedule entry spell it.
    kind : str
        ``"int"``, ``"float"``, ``"perm"`` (a permutation of the nodes), ``"choice"``
        (one of ``choices``) or ``"seed"`` (an int seed or a Generator; the record keeps
        the int).
    accepts : str
        The values the operator's validator accepts, in words (``n`` is the node count).
    default : str or None
        None for a required argument, else the default in words.
    config : bool
        Whether a schedule entry may give it (False: the runner draws it, as regrow's seed).
    low, high : float or None
        Bounds a config checks before the run (the operator checks its own at the run):
        with ``low`` alone a fixed value, a range's lo and a ramp's start must be >= low;
        with both every fixed and range value must lie in [low, high].
    noun : str
        Names the value in a bound's message (``"a threshold must be >= 0"``).
    ramp_min : float or None
        A ``{start, step}`` ramp stops here (a falling threshold stops at 0).
    quantile : bool
        Whether the ``{quantile = q}`` form is allowed (q-quantile of abs(w) over the edges).
    choices : tuple of str
        The values of a ``"choice"``.

    Examples
    --------
    >>> OPERATORS["threshold"].params[0].quantile, OPERATORS["threshold"].params[0].required
    (True, True)
    """

    name: str
    kind: str
    accepts: str
    default: str | None = None
    config: bool = True
    low: float | None = None
    high: float | None = None
    noun: str = ""
    ramp_min: float | None = None
    quantile: bool = False
    choices: tuple = ()

    @property
    def required(self) -> bool:
        """True when the argument has no default."""
        return self.default is None

    @property
    def type(self) -> str:
        """The kind in words: ``int``, ``float``, ``list[int]``, ``str``, ``int or Generator``."""
        return KIND_TYPES[self.kind]


class Keyword(NamedTuple):
    """One keyword of an operator's sampler.

    Attributes
    ----------
    name : str
    kind : str
        ``"arg"``: a fixed value of the operator's argument of that name (typed by its
        :class:`Param`); ``"float"``, ``"count"`` (an int >= 1), ``"bool"`` or ``"pair"``
        (``(lo, hi)``): a range keyword only the sampler takes.
    default : object
        What the sampler uses when the keyword is not given (None: draw it).

    Examples
    --------
    >>> OPERATORS["add_scaled_row"].keywords[3]
    Keyword(name='k_max', kind='float', default=1.0)
    """

    name: str
    kind: str
    default: object = None


@dataclass(frozen=True)
class OperatorSpec:
    """One operator in the registry.

    Attributes
    ----------
    name : str
        Canonical name (a key of :data:`OPERATORS`).
    letter : str or None
        The seed's letter (``"A"``..``"N"``; both H operators have ``"H"``), None for the
        lab's extras.
    func : callable
        The operator, ``func(net, **args)``.
    impl : callable
        ``impl(net, **args, repair) -> (new net, dropped edges, normalised args)``, what
        ``func`` runs and :func:`apply` records.
    params : tuple of Param
        The arguments besides the network and ``repair``, in signature order.
    draw : callable
        ``draw(net, rng, **keywords) -> dict`` (:mod:`graphnet.graph.samplers`).
    keywords : tuple of Keyword
        The sampler's keywords with their defaults.
    contract : Contract
        What it keeps (:mod:`graphnet.graph.contracts`).
    repairable : bool
        Whether it takes ``repair=True`` (drop what would enter an input or close a cycle).
    sample : callable
        ``sample(net, rng, **ranges) -> dict`` of arguments for ``func``, drawn from the
        Generator (or int seed) ``rng``: ``draw`` with the network, the Generator and the
        keywords checked and the defaults filled in. ``sample.keywords`` is the tuple of
        accepted keywords; an unknown one raises InputError.

    Examples
    --------
    >>> spec = OPERATORS["add_scaled_row"]
    >>> spec.letter, spec.contract.det
    ('F', 'unchanged')
    >>> net = GraphNetwork.random(2, 2, 1, 0.5, seed=0)
    >>> sorted(spec.sample(net, 0))
    ['dst', 'k', 'src']
    >>> spec.sample.keywords
    ('src', 'dst', 'k', 'k_max', 'tries')
    """

    name: str
    letter: str | None
    func: Callable
    impl: Callable
    params: tuple
    draw: Callable
    keywords: tuple
    contract: Contract
    repairable: bool = False
    sample: Callable = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "sample", _make_sampler(self))

    def param(self, name: str) -> Param | None:
        """The parameter called ``name``, or None.

        Examples
        --------
        >>> OPERATORS["regrow"].param("seed").config
        False
        """
        return next((p for p in self.params if p.name == name), None)


def _make_sampler(spec: OperatorSpec) -> Callable:
    """spec.draw behind a check of the network, the Generator and the keywords."""
    keys = [k.name for k in spec.keywords]
    defaults = {k.name: k.default for k in spec.keywords}
    name = spec.name

    def sample(net, rng, **ranges) -> dict:
        where = f"sample {name}"
        _check_net(net, where)
        rng = make_rng(rng, name=f"{where}: rng")
        unknown = [key for key in ranges if key not in keys]
        if unknown:
            raise InputError(f"{where}: unknown range {unknown[0]!r}; expected one of {keys}")
        return spec.draw(net, rng, **{**defaults, **ranges})

    sample.keywords = tuple(keys)
    sample.__name__ = f"sample_{name}"
    sample.__qualname__ = sample.__name__
    sample.__doc__ = (
        f"Draw random arguments for {name}; keywords: {', '.join(keys) if keys else 'none'}."
    )
    return sample


# ----------------------------------------------------------------------------------------
# the specs
# ----------------------------------------------------------------------------------------

_INDEX = "0..n-1"
_FINITE = "finite"


_ARG = "arg"
_TRIES = Keyword("tries", "count", 10)
_PAIR = (Param("i", "int", _INDEX), Param("j", "int", f"{_INDEX}, != i"))
_LINES = (Param("src", "int", _INDEX), Param("dst", "int", f"{_INDEX}, != src"),
          Param("k", "float", _FINITE))
_LINE_KEYWORDS = (Keyword("src", _ARG), Keyword("dst", _ARG), Keyword("k", _ARG),
                  Keyword("k_max", "float", 1.0), _TRIES)

_SPECS = (
    OperatorSpec(
        "threshold", "A", operators.threshold, operators._threshold,
        params=(Param("a", "float", ">= 0, finite", low=0, noun="threshold", ramp_min=0.0,
                      quantile=True),),
        draw=samplers._sample_threshold,
        keywords=(Keyword("a", _ARG), Keyword("a_range", "pair", (0.0, 0.1))),
        contract=CONTRACTS["threshold"]),
    OperatorSpec(
        "swap_columns", "B", operators.swap_columns, operators._swap_columns,
        params=_PAIR, draw=samplers._sample_swap_columns,
        keywords=(Keyword("i", _ARG), Keyword("j", _ARG), _TRIES),
        contract=CONTRACTS["swap_columns"], repairable=True),
    OperatorSpec(
        "add_scaled_column", "C", operators.add_scaled_column, operators._add_scaled_column,
        params=_LINES, draw=samplers._sample_add_scaled_column, keywords=_LINE_KEYWORDS,
        contract=CONTRACTS["add_scaled_column"], repairable=True),
    OperatorSpec(
        "swap_rows", "D", operators.swap_rows, operators._swap_rows,
        params=_PAIR, draw=samplers._sample_swap_rows,
        keywords=(Keyword("i", _ARG), Keyword("j", _ARG), _TRIES),
        contract=CONTRACTS["swap_rows"], repairable=True),
    OperatorSpec(
        "add_scaled_row", "F", operators.add_scaled_row, operators._add_scaled_row,
        params=_LINES, draw=samplers._sample_add_scaled_row, keywords=_LINE_KEYWORDS,
        contract=CONTRACTS["add_scaled_row"], repairable=True),
    OperatorSpec(
        "permute_nodes", "H", operators.permute_nodes, operators._permute_nodes,
        params=(Param("perm", "perm", "a permutation of 0..n-1"),),
        draw=samplers._sample_permute, keywords=(Keyword("keep_io_order", "bool", True),),
        contract=CONTRACTS["permute_nodes"]),
    OperatorSpec(
        "swap_nodes", "H", operators.swap_nodes, operators._swap_nodes,
        params=(Param("i", "int", _INDEX), Param("j", "int", _INDEX)),
        draw=samplers._sample_swap_nodes,
        keywords=(Keyword("i", _ARG), Keyword("j", _ARG), Keyword("keep_io_order", "bool", True),
                  _TRIES),
        contract=CONTRACTS["swap_nodes"]),
    OperatorSpec(
        "assign", "N", operators.assign, operators._assign,
        params=(Param("i", "int", _INDEX), Param("j", "int", _INDEX),
                Param("value", "float", f"{_FINITE} (0 removes the edge)")),
        draw=samplers._sample_assign,
        keywords=(Keyword("i", _ARG), Keyword("j", _ARG), Keyword("value", _ARG),
                  Keyword("value_max", "float", 1.0)),
        contract=CONTRACTS["assign"], repairable=True),
    OperatorSpec(
        "add_edge", None, extras.add_edge, extras._add_edge,
        params=(Param("i", "int", _INDEX), Param("j", "int", f"{_INDEX}, no edge i -> j yet"),
                Param("weight", "float", f"{_FINITE}, != 0")),
        draw=samplers._sample_add_edge,
        keywords=(Keyword("weight", _ARG), Keyword("scale", "float")),
        contract=CONTRACTS["add_edge"]),
    OperatorSpec(
        "split_edge", None, extras.split_edge, extras._split_edge,
        params=(Param("i", "int", _INDEX), Param("j", "int", f"{_INDEX}, an edge i -> j"),
                Param("activation", "choice", "one of " + ", ".join(ACTIVATIONS),
                      "the hidden nodes' shared one, else tanh", choices=tuple(ACTIVATIONS))),
        draw=samplers._sample_split_edge, keywords=(Keyword("activation", _ARG),),
        contract=CONTRACTS["split_edge"]),
    OperatorSpec(
        "remove_node", None, extras.remove_node, extras._remove_node,
        params=(Param("node", "int", f"{_INDEX}, a hidden node"),),
        draw=samplers._sample_remove_node, keywords=(),
        contract=CONTRACTS["remove_node"]),
    OperatorSpec(
        "regrow", None, extras.regrow, extras._regrow,
        params=(Param("n", "int", ">= 0, at most the allowed empty positions"),
                Param("seed", "seed", "a seed >= 0 or a numpy Generator", config=False),
                Param("scale", "float", "> 0, finite", "0.1 x the rms weight")),
        draw=samplers._sample_regrow, keywords=(Keyword("n", _ARG, 1), Keyword("scale", _ARG)),
        contract=CONTRACTS["regrow"]),
    OperatorSpec(
        "prune_smallest", None, extras.prune_smallest, extras._prune_smallest,
        params=(Param("fraction", "float", "in [0, 1]", low=0, high=1, noun="fraction"),),
        draw=samplers._sample_prune,
        keywords=(Keyword("fraction", _ARG, 0.1), Keyword("fraction_range", "pair")),
        contract=CONTRACTS["prune_smallest"]),
    OperatorSpec(
        "prune_per_layer", None, extras.prune_per_layer, extras._prune_per_layer,
        params=(Param("fraction", "float", "in [0, 1]", low=0, high=1, noun="fraction"),),
        draw=samplers._sample_prune,
        keywords=(Keyword("fraction", _ARG, 0.1), Keyword("fraction_range", "pair")),
        contract=CONTRACTS["prune_per_layer"]),
)

#: The registry: canonical name -> OperatorSpec (the seed's letters via :func:`get_operator`).
OPERATORS: dict[str, OperatorSpec] = {spec.name: spec for spec in _SPECS}


def get_operator(name) -> OperatorSpec:
    """Look an operator up by canonical name or by the seed's letter.

    Parameters
    ----------
    name : str
        A key of :data:`OPERATORS` or one of ``A B C D F H N`` (a letter stands for the
        first operator registered with it: H is ``permute_nodes``).

    Returns
    -------
    OperatorSpec

    Raises
    ------
    InputError
        An unknown name; the message lists the valid names and letters.
    InputTypeError
        ``name`` is not a string.

    Examples
    --------
    >>> get_operator("F").name
    'add_scaled_row'
    >>> get_operator("add_scaled_row") is get_operator("F")
    True
    >>> get_operator("E")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    graphnet.errors.InputError: get_operator: unknown operator 'E'; expected one of ['threshold', ...] or a letter in ['A', 'B', 'C', 'D', 'F', 'H', 'N']
    """
    if not isinstance(name, str):
        raise InputTypeError(
            f"get_operator: name: expected str, got {type(name).__name__} {name!r}"
        )
    if name in OPERATORS:
        return OPERATORS[name]
    for spec in OPERATORS.values():
        if spec.letter is not None and spec.letter == name:
            return spec
    letters = sorted({spec.letter for spec in OPERATORS.values() if spec.letter is not None})
    raise InputError(
        f"get_operator: unknown operator {name!r}; expected one of {list(OPERATORS)} "
        f"or a letter in {letters}"
    )


# ----------------------------------------------------------------------------------------
# records for the lab's history
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Applied:
    """What one operator application did, for the lab's history.

    Attributes
    ----------
    name : str
        Canonical operator name.
    letter : str or None
        The seed's letter, None for the extras.
    args : dict
        The arguments as applied, normalised to plain ints, floats, str, lists (defaults
        resolved, e.g. split_edge's activation and regrow's scale), so that
        ``apply(net, rec.name, repair=True, **rec.args)`` replays it.
    dropped_edges : tuple of (int, int, float)
        The edges ``repair`` dropped, with the weight the operation would have given.
    edges_before, edges_after : int
        Edge counts of the input and the result.

    Examples
    --------
    >>> rec = Applied("assign", "N", {"i": 0, "j": 1, "value": 0.5}, (), 3, 4)
    >>> rec.to_dict()["args"]
    {'i': 0, 'j': 1, 'value': 0.5}
    >>> Applied.from_dict(rec.to_dict()) == rec
    True
    """

    name: str
    letter: str | None
    args: dict
    dropped_edges: tuple
    edges_before: int
    edges_after: int

    def to_dict(self) -> dict:
        """The record as a JSON-able dict (dropped edges as ``[u, v, w]`` lists).

        Examples
        --------
        >>> import json
        >>> rec = Applied("swap_rows", "D", {"i": 0, "j": 2}, ((2, 2, 2.0),), 4, 3)
        >>> d = rec.to_dict()
        >>> d["dropped_edges"], d["edges_before"], d["edges_after"]
        ([[2, 2, 2.0]], 4, 3)
        >>> json.loads(json.dumps(d)) == d
        True
        """
        return {
            "name": self.name,
            "letter": self.letter,
            "args": {k: list(v) if isinstance(v, (list, tuple)) else v
                     for k, v in self.args.items()},
            "dropped_edges": [[u, v, w] for u, v, w in self.dropped_edges],
            "edges_before": self.edges_before,
            "edges_after": self.edges_after,
        }

    @classmethod
    def from_dict(cls, data) -> "Applied":
        """Rebuild a record from :meth:`to_dict`'s output (e.g. after JSON).

        Raises
        ------
        InputError
            A key is missing or the operator is unknown.

        Examples
        --------
        >>> Applied.from_dict({"name": "threshold", "letter": "A", "args": {"a": 0.1},
        ...                    "dropped_edges": [], "edges_before": 5, "edges_after": 4}).args
        {'a': 0.1}
        """
        keys = ("name", "letter", "args", "dropped_edges", "edges_before", "edges_after")
        missing = [k for k in keys if k not in data]
        if missing:
            raise InputError(
                f"Applied.from_dict: missing key {missing[0]!r}; expected {list(keys)}"
            )
        get_operator(data["name"])
        return cls(
            name=data["name"],
            letter=data["letter"],
            args=dict(data["args"]),
            dropped_edges=tuple((int(u), int(v), float(w)) for u, v, w in data["dropped_edges"]),
            edges_before=int(data["edges_before"]),
            edges_after=int(data["edges_after"]),
        )


def apply(net: GraphNetwork, op, *, repair: bool = False, **args):
    """Apply an operator by name or letter and record what it did.

    Parameters
    ----------
    net : GraphNetwork
    op : str or OperatorSpec
        Canonical name or the seed's letter.
    repair : bool, default False
        Passed to the operators that take it (B, C, D, F, N); the others never create a
        forbidden edge (A, H, split_edge, remove_node, regrow, prune_smallest) or always
        refuse one (add_edge).
    **args
        The operator's arguments by keyword (``k`` for C and F). regrow needs an int
        ``seed`` here, so that the record replays.

    Returns
    -------
    (GraphNetwork, Applied)

    Raises
    ------
    InputError
        Unknown operator, missing or unexpected arguments; and whatever the operator
        raises (:class:`~graphnet.errors.OperatorError` for an illegal result).

    Examples
    --------
    >>> W = [[0, 0, 2.0, 0], [0, 0, 0.5, -1.0], [0, 0, 0, 3.0], [0, 0, 0, 0]]
    >>> net = GraphNetwork.from_matrix(W, inputs=[0, 1], outputs=[3])
    >>> new, rec = apply(net, "D", i=0, j=2, repair=True)
    >>> rec
    Applied(name='swap_rows', letter='D', args={'i': 0, 'j': 2}, dropped_edges=((2, 2, 2.0),), edges_before=4, edges_after=3)
    >>> apply(net, "F", src=0, dst=1)
    Traceback (most recent call last):
    ...
    graphnet.errors.InputError: apply: add_scaled_row takes ['src', 'dst', 'k']; missing ['k'], unexpected []
    """
    spec = op if isinstance(op, OperatorSpec) else get_operator(op)
    _check_net(net, "apply")
    names = [p.name for p in spec.params]
    missing = [p.name for p in spec.params if p.required and p.name not in args]
    unexpected = [a for a in args if a not in names]
    if missing or unexpected:
        raise InputError(
            f"apply: {spec.name} takes {names}; missing {missing}, unexpected {unexpected}"
        )
    for p in spec.params:
        if p.kind == "seed" and not is_int(args.get(p.name)):
            raise InputTypeError(
                f"apply: {spec.name}: {p.name} must be an int so that the record replays, got "
                f"{type(args.get(p.name)).__name__}"
            )
    new, dropped, norm = spec.impl(net, repair=bool(repair) and spec.repairable, **args)
    record = Applied(spec.name, spec.letter, norm, tuple(dropped), net.n_edges, new.n_edges)
    return new, record


def apply_random(net: GraphNetwork, op, rng, *, repair: bool = True, **ranges):
    """Apply an operator with arguments drawn by its :attr:`OperatorSpec.sample`.

    Parameters
    ----------
    net : GraphNetwork
    op : str or OperatorSpec
        Canonical name or the seed's letter.
    rng : int or numpy.random.Generator
        All randomness; the same seed gives the same record and network.
    repair : bool, default True
        As :func:`apply`: what the sampler could not avoid is repaired.
    **ranges
        The sampler's keywords (see :class:`OperatorSpec`).

    Returns
    -------
    (GraphNetwork, Applied)

    Examples
    --------
    >>> net = GraphNetwork.random(2, 3, 1, 0.6, seed=0)
    >>> new, rec = apply_random(net, "F", 7, k_max=0.5)
    >>> rec.name, abs(rec.args["k"]) <= 0.5
    ('add_scaled_row', True)
    >>> apply_random(net, "F", 7, k_max=0.5) == (new, rec)
    True
    """
    spec = op if isinstance(op, OperatorSpec) else get_operator(op)
    args = spec.sample(net, rng, **ranges)
    return apply(net, spec, repair=repair, **args)


#: The operators of SET's round (Mocanu et al.), which the lab's ``set`` baseline needs.
SET_OPERATORS = ("prune_smallest", "regrow")


def set_step(net: GraphNetwork, fraction, rng) -> tuple:
    """SET's round: prune the smallest ``fraction`` of the edges, regrow as many at random.

    Parameters
    ----------
    net : GraphNetwork
    fraction : float
        In [0, 1], as :func:`~graphnet.graph.extras.prune_smallest`.
    rng : int or numpy.random.Generator
        Draws the regrown positions and weights (and the seed the record keeps).

    Returns
    -------
    (GraphNetwork, (Applied, Applied))
        The new network and the records of the prune and of the regrow.

    Examples
    --------
    >>> net = GraphNetwork.layered([2, 4, 2], seed=0)
    >>> new, (pruned, grown) = set_step(net, 0.25, 0)
    >>> pruned.name, grown.name, new.n_edges == net.n_edges
    ('prune_smallest', 'regrow', True)
    """
    prune, grow = SET_OPERATORS
    pruned, rec1 = apply(net, prune, fraction=fraction)
    n = rec1.edges_before - rec1.edges_after
    grown, rec2 = apply_random(pruned, grow, rng, n=n)
    return grown, (rec1, rec2)
