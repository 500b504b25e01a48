"""The ``[search]`` section of an experiment config: a topology search's keys and checks.

:func:`check_search` resolves ``[search]`` (the keys are listed in
:mod:`graphnet.lab.config`); :mod:`graphnet.lab.config` calls it only when the file has a
``[search]`` table, so a run's resolved config does not change without one.
The search's start network is ``[network]``'s (``start = "minimal"``: inputs wired straight
to outputs), its variation ``[[mutation.schedule]]`` (with ``[mutation] repair``), and each
candidate trains with ``[train]``'s batch size, optimizer, rate, loss and dtype.
"""

from __future__ import annotations

from graphnet.lab.checker import Checker

__all__ = ["check_search", "SEARCH_DEFAULTS", "OBJECTIVES", "METRICS", "SELECTIONS",
           "maximised"]

#: What selection may optimise (validation data only).
OBJECTIVES = ("val_accuracy", "val_loss")
#: What a stop rule may watch: the objectives and the training set's own figures.
METRICS = ("val_accuracy", "val_loss", "train_accuracy", "train_loss")
#: Survival and parent selection.
SELECTIONS = ("tournament", "pareto")

SEARCH_DEFAULTS = {"population": 20, "generations": 50, "budget": 0, "selection": "tournament",
                   "objective": "val_accuracy", "tournament_size": 3, "chunk": 64, "plan": True}

_KEYS = ("population", "generations", "budget", "selection", "objective", "tournament_size",
         "stop_metric", "fitness_threshold", "epochs", "chunk", "plan")


def maximised(metric: str) -> bool:
    """Whether a larger value of ``metric`` is better (accuracies) or worse (losses).

    Examples
    --------
    >>> maximised("val_accuracy"), maximised("train_loss")
    (True, False)
    """
    return metric.endswith("accuracy")


def check_search(c: Checker, raw: dict, values: dict) -> dict:
    """Resolve a ``[search]`` table against the other resolved sections.

    Parameters
    ----------
    c : Checker
    raw : dict
        The ``[search]`` table as written.
    values : dict
        The resolved config so far (``data``, ``network``, ``train``, ``mutation``).

    Returns
    -------
    dict
        Every key of :data:`SEARCH_DEFAULTS`, ``epochs`` (default ``[train] epochs``) and,
        with a stop rule, ``stop_metric`` and ``fitness_threshold``.

    Raises
    ------
    ConfigError
        Naming the key: an unknown key or objective, ``population`` 0, a stop rule that
        cannot be met (an accuracy above 1, a negative loss), a search without a mutation
        schedule or without validation data.

    Examples
    --------
    >>> v = {"data": {"validation": 0.1}, "network": {}, "train": {"epochs": 5},
    ...      "mutation": {"schedule": [{"op": "split_edge"}]}}
    >>> s = check_search(Checker("x.toml"), {"population": 8, "fitness_threshold": 1.0}, v)
    >>> s["population"], s["stop_metric"], s["epochs"]
    (8, 'val_accuracy', 5)
    >>> check_search(Checker("x.toml"), {"objective": "accuracy"}, v)
    Traceback (most recent call last):
    ...
    graphnet.errors.ConfigError: x.toml: [search] objective: expected one of 'val_accuracy', 'val_loss', got 'accuracy'
    """
    d = SEARCH_DEFAULTS
    t = c.table(raw, "[search]")
    c.keys(t, _KEYS, "[search] ", "[search]")
    s = {
        "population": c.int(t.get("population", d["population"]), "[search] population", low=1),
        "generations": c.int(t.get("generations", d["generations"]), "[search] generations",
                             low=0),
        "budget": c.int(t.get("budget", d["budget"]), "[search] budget", low=0),
        "selection": c.choice(t.get("selection", d["selection"]), SELECTIONS,
                              "[search] selection"),
        "objective": c.choice(t.get("objective", d["objective"]), OBJECTIVES,
                              "[search] objective"),
        "tournament_size": c.int(t.get("tournament_size", d["tournament_size"]),
                                 "[search] tournament_size", low=1),
        "epochs": c.int(t.get("epochs", values["train"]["epochs"]), "[search] epochs", low=1),
        "chunk": c.int(t.get("chunk", d["chunk"]), "[search] chunk", low=1),
        "plan": c.bool(t.get("plan", d["plan"]), "[search] plan"),
    }
    if s["budget"] and s["budget"] < s["population"]:
        c.fail("[search] budget", f"expected 0 (no limit) or at least population = "
                                  f"{s['population']} evaluations (generation 0), got {s['budget']}")
    if "stop_metric" in t and "fitness_threshold" not in t:
        c.fail("[search] stop_metric", "a stop rule needs fitness_threshold too")
    if "fitness_threshold" in t:
        metric = c.choice(t.get("stop_metric", s["objective"]), METRICS, "[search] stop_metric")
        if maximised(metric):
            x = c.float(t["fitness_threshold"], "[search] fitness_threshold", low=0, high=1,
                        what=f"a number in [0, 1] (an accuracy; {metric} can never exceed 1)")
        else:
            x = c.float(t["fitness_threshold"], "[search] fitness_threshold", low=0,
                        what=f"a number >= 0 (a loss; {metric} is never negative)")
        s["stop_metric"], s["fitness_threshold"] = metric, x
    if not values["mutation"]["schedule"]:
        c.fail("[mutation] schedule", "a search varies its networks by the mutation schedule; "
                                      "give at least one [[mutation.schedule]] entry")
    if values["data"]["validation"] == 0:
        c.fail("[data] validation", "a search selects on validation data; expected a number "
                                    "in (0, 1), got 0")
    if "front" in values["network"]:
        c.fail("[network.front]", "a search evolves graph networks alone; a CNN front end is "
                                  "not supported")
    return s
