"""The lottery-ticket experiment as lab features: rewinding and the random-prune baseline.

Iterative magnitude pruning (Frankle & Carbin; the MNIST-1D paper's lottery notebook)
prunes a trained network, rewinds the surviving weights to their values at the start
of training, and trains again. In a run this is the ``graph`` model under a prune
schedule (``prune_per_layer``, or a threshold at a quantile) with ``[mutation]
rewind``:

``"none"`` (default)
    The surviving weights carry over from round to round (as before).
``"init"``
    After each round's mutation the surviving edges' weights and the biases are reset
    to their values in the start network (round 0 before training), matched by node
    names (:func:`rewind`).
``{epoch = k}``
    The same, to the values after epoch ``k`` of round 0 (late rewinding).

The reference is written to ``snapshots/<model>/seed<S>/rewind.json`` when it is taken,
before round 0 is complete, so a resumed run rewinds to the same bits. A CNN front end
(``[network.front]``) is not rewound. The ``random-prune`` baseline
(:func:`random_prune`) removes each round as many edges as the schedule removes, at
random, and is rewound the same way; ``fixed-graph`` and ``set`` are never rewound.
"""

from __future__ import annotations


import numpy as np

from graphnet.errors import InputError, InputTypeError
from graphnet.graph.extras import layer_groups
from graphnet.graph.network import GraphNetwork
from graphnet.lab.checker import describe
from graphnet.lab.schedule import mutate
from graphnet.rng import Purpose, stream

__all__ = ["rewind", "random_prune", "check_rewind", "Lottery", "REWIND_MODELS",
           "RANDOM_PRUNE_GROUPS"]

#: The models that ``[mutation] rewind`` rewinds.
REWIND_MODELS = ("graph", "random-prune")
#: ``[baselines] random_prune``: draw the removed edges within each layer group, or globally.
RANDOM_PRUNE_GROUPS = ("per-layer", "global")


def rewind(net: GraphNetwork, reference: GraphNetwork) -> GraphNetwork:
    """Reset the surviving edges' weights and the biases to a reference's values.

    Nodes are matched by name. An edge ``i -> j`` of ``net`` takes the reference's
    weight of the edge between the nodes of the same names when the reference has
    that edge; any other edge (one grown since) keeps its weight. Every node the
    reference names takes its bias. The structure (edges, fixed flags, roles,
    activations, order) is ``net``'s: only values change.

    Parameters
    ----------
    net : GraphNetwork
        The pruned network.
    reference : GraphNetwork
        The network to rewind to (the start network, or the one after epoch k).

    Returns
    -------
    GraphNetwork

    Raises
    ------
    InputTypeError
        Either argument is not a GraphNetwork.

    Examples
    --------
    >>> start = GraphNetwork.layered([2, 2, 1], seed=0)
    >>> b = start.biases()
    >>> b[2:] += 1.0  # inputs have no bias
    >>> trained = start.with_params(start.matrix() * 3, b)
    >>> pruned = trained.replace(W=np.where(np.arange(5) == 2, 0, trained.matrix()))
    >>> back = rewind(pruned, start)
    >>> back.n_edges, bool(np.all(back.matrix()[back.matrix() != 0]
    ...                            == start.matrix()[back.matrix() != 0]))
    (4, True)
    >>> bool(np.all(back.biases() == start.biases()))
    True
    """
    for name, value in (("net", net), ("reference", reference)):
        if not isinstance(value, GraphNetwork):
            raise InputTypeError(f"rewind: {name} must be a GraphNetwork, "
                                 f"got {type(value).__name__}")
    index = {name: k for k, name in enumerate(reference.names)}
    pos = np.array([index.get(name, -1) for name in net.names], dtype=np.intp)  # (n,)
    known = pos >= 0
    W, b = net.matrix(), net.biases()
    R = reference.matrix()
    rows, cols = np.nonzero(W)
    both = known[rows] & known[cols]
    rows, cols = rows[both], cols[both]
    w0 = R[pos[rows], pos[cols]]
    there = w0 != 0  # the reference has the edge
    W[rows[there], cols[there]] = w0[there]
    b[known] = reference.biases()[pos[known]]
    return net.replace(W=W, biases=b)


def random_prune(net: GraphNetwork, mutation: dict, *, seed: int, round_: int, code: int,
                 groups: str = "per-layer") -> tuple:
    """The ``random-prune`` baseline's round: remove as many edges as the schedule would, at random.

    The round's schedule (``mutation["schedule"]``, as :func:`graphnet.lab.schedule.mutate`
    applies it, stream code ``code``) is applied to ``net`` only to count the edges it
    removes, per layer group (:func:`graphnet.graph.extras.layer_groups`) with
    ``groups="per-layer"``, in all with ``"global"``; that many edges are then removed
    from ``net`` uniformly at random within the group (stream ``(seed, code, round,
    MUTATE, len(schedule))``). A prune schedule's count depends on the edge counts only
    (a fraction, a quantile), so this removes what the ``graph`` model removes in the
    same round. Edges the schedule adds or moves are not mirrored, nor fixed edges: they
    are neither counted nor drawn (a residual's skip stays whole).

    Parameters
    ----------
    net : GraphNetwork
    mutation : dict
        The resolved ``[mutation]`` table (``schedule``, ``repair``).
    seed, round_, code : int
        The job's seed, the round, the model's stream code.
    groups : {"per-layer", "global"}

    Returns
    -------
    (GraphNetwork, list of dict)
        The pruned network and one history record (``name`` ``"random_prune"``,
        ``args`` holding the count removed per group).

    Examples
    --------
    >>> net = GraphNetwork.layered([4, 5, 3], seed=0)
    >>> sched = [{"op": "prune_per_layer", "every": 1, "start": 1, "p": 1.0, "count": 1,
    ...           "fraction": 0.2}]
    >>> new, (rec,) = random_prune(net, {"schedule": sched, "repair": True}, seed=0,
    ...                            round_=1, code=8)
    >>> rec["args"]["removed"], new.n_edges
    ({'0-1': 4, '1-2': 3}, 28)
    """
    if groups not in RANDOM_PRUNE_GROUPS:
        raise InputError(f"random_prune: groups: expected one of {list(RANDOM_PRUNE_GROUPS)}, "
                         f"got {groups!r}")
    pruned, _ = mutate(net, mutation["schedule"], seed=seed, round_=round_,
                       repair=mutation["repair"], code=code)
    kept = {(u, v) for u, v, _ in pruned.edges()}
    by_group = layer_groups(net, trainable=True)  # fixed edges are never drawn
    if groups == "global":
        by_group = {(0, 0): [e for edges in by_group.values() for e in edges]}
    rng = stream(seed, code, round_, Purpose.MUTATE, len(mutation["schedule"]))
    W = net.matrix()
    removed = {}
    for (du, dv), edges in by_group.items():
        n = sum(e not in kept for e in edges)
        for k in rng.choice(len(edges), size=n, replace=False):
            W[edges[k]] = 0.0
        removed[f"{du}-{dv}"] = n
    new = net.replace(W=W)
    record = {"name": "random_prune", "letter": None,
              "args": {"groups": groups, "removed": removed}, "dropped_edges": [],
              "edges_before": net.n_edges, "edges_after": new.n_edges, "error": None}
    return new, [record]


def check_rewind(c, value):
    """``[mutation] rewind``: ``"none"``, ``"init"`` or ``{epoch = k}`` with k >= 1, resolved.

    ``c`` is the config's :class:`~graphnet.lab.checker.Checker`; the epoch is checked
    against ``[train] epochs`` by :mod:`graphnet.lab.sections`.

    Examples
    --------
    >>> from graphnet.lab.checker import Checker
    >>> check_rewind(Checker("x.toml"), "init"), check_rewind(Checker("x.toml"), {"epoch": 2})
    ('init', {'epoch': 2})
    """
    where = "[mutation] rewind"
    if isinstance(value, dict):
        if set(value) != {"epoch"}:
            c.fail(where, f"expected 'none', 'init' or {{epoch = k}}, got {describe(value)}")
        return {"epoch": c.int(value["epoch"], f"{where}.epoch", low=1)}
    if value not in ("none", "init"):
        c.fail(where, f"expected 'none', 'init' or {{epoch = k}}, got {describe(value)}")
    return value


class Lottery:
    """One job's lottery hooks (a round calls them; each is a no-op without rewinding).

    The rewind reference is taken in round 0 (the start network for ``"init"``, the network
    after epoch ``k`` for ``{epoch = k}``) and left in :attr:`taken` for the caller to keep
    (the client writes it to ``snapshots/<model>/seed<S>/rewind.json`` before round 0 is
    complete); later rounds get it back as ``reference``, so a resumed run rewinds to the
    same bits.

    Parameters
    ----------
    values : dict
        The resolved config.
    model : str
    seed : int
    n_front : int
        Layers of the CNN front end before the graph layer in the job's model.
    reference : GraphNetwork, optional
        The reference taken in round 0 (rounds >= 1 with rewinding).

    Examples
    --------
    >>> from graphnet.lab.config import parse_config
    >>> cfg = parse_config('[data]\\ndataset = "xor"\\n[mutation]\\nrewind = "init"')
    >>> start = GraphNetwork.layered([2, 3, 2], seed=0)
    >>> first = Lottery(cfg.values, "graph", 0)
    >>> _ = first.rewind(start, 0)  # round 0: the start is the reference
    >>> first.taken == start
    True
    >>> moved = start.with_params(start.matrix() * 2, start.biases())
    >>> Lottery(cfg.values, "graph", 0, reference=first.taken).rewind(moved, 1) == start
    True
    """

    def __init__(self, values: dict, model: str, seed: int, n_front: int = 0,
                 reference: GraphNetwork | None = None):
        self.policy = values["mutation"]["rewind"] if model in REWIND_MODELS else "none"
        self.mutation, self.groups = values["mutation"], values["baselines"]["random_prune"]
        self.model, self.seed, self.n_front = model, seed, n_front
        self.reference = reference
        self.taken = None  # the reference, when this round took it

    def candidate(self, net, round_: int, code: int) -> tuple:
        """The ``random-prune`` round (:func:`random_prune`)."""
        return random_prune(net, self.mutation, seed=self.seed, round_=round_, code=code,
                            groups=self.groups)

    def _keep(self, net) -> None:
        """Take ``net`` as the reference (round 0)."""
        self.reference = self.taken = net

    def epoch_end(self, round_: int, epoch: int, model) -> None:
        """After epoch ``k`` of round 0, keep the trained network for ``{epoch = k}``."""
        if round_ == 0 and isinstance(self.policy, dict) and epoch == self.policy["epoch"]:
            self._keep(model.layers[self.n_front].to_network())

    def rewind(self, candidate, round_: int, rolled_back: bool = False):
        """The round's candidate, rewound (rounds >= 1); round 0 keeps the ``init`` reference."""
        if self.policy == "none" or rolled_back:
            return candidate
        if round_ == 0:
            if self.policy == "init":
                self._keep(candidate)
            return candidate
        if self.reference is None:
            raise InputError(f"lottery: seed {self.seed} {self.model} round {round_}: rewinding "
                             "needs the reference taken in round 0 (rewind.json)")
        return rewind(candidate, self.reference)
