"""Rounds that cut an output off from every input: ``[mutation] on_disconnected``.

A mutation that leaves an output node with no path from any input (a threshold that
deletes every edge, a pruning that removes an output's last in-edge ...) gives a network
that cannot learn that output: its value no longer depends on the data. After every
round's mutation (graph and set models) the runner asks :func:`check_round`; the policy
says what happens:

``"warn"`` (default)
    The round goes on; the warning is printed on stderr, stored in the round's part file
    (field ``warnings``) and listed under "Warnings" in ``summary.md``.
``"stop"``
    The run ends with a :class:`~graphnet.errors.GraphError` naming the job and round,
    before the round trains or writes anything: the rounds already written stay, and
    the run directory is a resumable, interrupted run.
``"rollback"``
    The round's mutation is discarded: the round trains the previous network, its
    operator records are written with ``accepted = false``, and the warning (action
    ``"rollback"``) says why.

Only outputs that the round cut off count (compared by node name, so a reordering H
does not confuse them): a start network that has a cut-off output is not blamed on
every round.
"""

from __future__ import annotations

from graphnet.errors import GraphError, InputError

__all__ = ["POLICIES", "disconnected_outputs", "check_round", "format_warning"]

#: The values of ``[mutation] on_disconnected``.
POLICIES = ("warn", "stop", "rollback")


def disconnected_outputs(net) -> list:
    """Names of the output nodes that no input reaches, in node order.

    Parameters
    ----------
    net : GraphNetwork

    Returns
    -------
    list of str

    Examples
    --------
    >>> from graphnet.graph.network import GraphNetwork
    >>> W = [[0, 1.0, 0], [0, 0, 0], [0, 0, 0]]  # x -> y0; y1 has no in-edge
    >>> disconnected_outputs(GraphNetwork.from_matrix(W, inputs=[0], outputs=[1, 2]))
    ['y1']
    """
    cut = set(int(v) for v in net.unreachable())
    return [net.names[int(o)] for o in net.outputs if int(o) in cut]


def format_warning(w: dict) -> str:
    """One line for a warning record of :func:`check_round`.

    Examples
    --------
    >>> print(format_warning({"seed": 0, "model": "graph", "round": 2, "outputs": ["y0"],
    ...                       "n_outputs": 2, "operators": ["threshold"], "action": "warn"}))
    seed 0 graph round 2: output y0 (1 of 2) has no path from any input after threshold; the round trains it anyway (on_disconnected = "warn")
    """
    outs = w["outputs"]
    noun = "output" if len(outs) == 1 else "outputs"
    verb = "has" if len(outs) == 1 else "have"
    ops = ", ".join(w["operators"]) or "the mutation"
    then = {"warn": 'the round trains it anyway (on_disconnected = "warn")',
            "rollback": 'the mutation is rolled back (on_disconnected = "rollback")',
            "stop": 'the run stops (on_disconnected = "stop")'}[w["action"]]
    return (f"seed {w['seed']} {w['model']} round {w['round']}: {noun} {', '.join(outs)} "
            f"({len(outs)} of {w['n_outputs']}) {verb} no path from any input after {ops}; "
            f"{then}")


def check_round(before, after, records: list, *, policy: str, seed: int, model: str,
                round_: int) -> dict | None:
    """What a round's mutation did to the outputs' reachability, under ``policy``.

    Parameters
    ----------
    before, after : GraphNetwork
        The network before and after the round's mutation.
    records : list of dict
        The round's operator records (``name`` and ``error``): the warning names the
        operators that were applied.
    policy : {"warn", "stop", "rollback"}
    seed : int
    model : str
    round_ : int

    Returns
    -------
    dict or None
        None when the round cut no output off; else the warning record: ``kind``
        (``"disconnected"``), ``seed``, ``model``, ``round``, ``outputs`` (names),
        ``n_outputs``, ``operators``, ``action`` (the policy) and ``message``.

    Raises
    ------
    GraphError
        With ``policy = "stop"``, when the round cut an output off.
    InputError
        An unknown policy.

    Examples
    --------
    >>> from graphnet.graph.network import GraphNetwork
    >>> from graphnet.graph.operators import threshold
    >>> net = GraphNetwork.layered([2, 2], seed=0)
    >>> w = check_round(net, threshold(net, 10.0), [{"name": "threshold", "error": None}],
    ...                 policy="warn", seed=0, model="graph", round_=1)
    >>> w["outputs"], w["action"]
    (['y0', 'y1'], 'warn')
    >>> check_round(net, net, [], policy="stop", seed=0, model="graph", round_=1) is None
    True
    """
    if policy not in POLICIES:
        raise InputError(f"on_disconnected: expected one of {POLICIES}, got {policy!r}")
    already = set(disconnected_outputs(before))
    cut = [name for name in disconnected_outputs(after) if name not in already]
    if not cut:
        return None
    ops = list(dict.fromkeys(r["name"] for r in records if not r.get("error")))
    warning = {"kind": "disconnected", "seed": int(seed), "model": model, "round": int(round_),
               "outputs": cut, "n_outputs": int(after.n_outputs), "operators": ops,
               "action": policy}
    warning["message"] = format_warning(warning)
    if policy == "stop":
        raise GraphError(f"{warning['message']} before training round {round_}; rounds "
                         f"0..{round_ - 1} are saved")
    return warning
