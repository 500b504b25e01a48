"""What a run would cost, estimated before anything is built: memory and planned output.

A config can ask for sizes no machine holds (``[network] hidden = [10000000]`` is a
784-10000000-10 network whose n x n weight matrix alone is 728 TiB) or for output no one
wants (``rounds = 1000000000``). :func:`check_memory` refuses the first with an estimate,
while the config is checked and before the start network is built; :func:`check_plan`
refuses the second unless the user confirms (``graphnet run --yes``).

The memory estimate counts the largest arrays of one job, in the run's float dtype:

- the network's matrix ``W`` (n_nodes x n_nodes; the lab draws it and takes its rank and
  determinant every round),
- the edge weights with their gradient and the optimizer's state (4 arrays of n_edges:
  weights, gradient, Adam's two moments),
- the activations and deltas of a batch (2 x batch x n_nodes, for training and for
  evaluation batches of 1024),
- the MLP baseline's weights with gradient and Adam state (4 x its parameters).

It is a lower bound (networkx's own storage comes on top), so a refusal is certain to be
right; it is compared with the machine's physical memory.
"""

from __future__ import annotations

import math
import os

__all__ = ["MAX_FILES", "MAX_EPOCHS", "machine_memory", "format_bytes", "estimate_memory",
           "check_memory", "planned_output", "check_plan"]

#: A run planning more files than this (snapshots, checkpoints, parts) needs ``--yes``.
MAX_FILES = 100_000
#: A run planning more epochs than this in all (every seed and model) needs ``--yes``.
MAX_EPOCHS = 1_000_000


def machine_memory() -> int | None:
    """The machine's physical memory in bytes, or None when it cannot be read.

    Examples
    --------
    >>> machine_memory() is None or machine_memory() > 2**20
    True
    """
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        pass
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def format_bytes(n: float) -> str:
    """Bytes in binary units, three significant figures.

    Examples
    --------
    >>> format_bytes(800018760050000), format_bytes(3 * 2**30), format_bytes(512)
    ('728 TiB', '3.00 GiB', '512 B')
    """
    units = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")
    k = 0
    while n >= 1024 and k < len(units) - 1:
        n, k = n / 1024, k + 1
    if k == 0:
        return f"{int(n)} B"
    return f"{n:.3g} {units[k]}" if n >= 100 else f"{n:.2f} {units[k]}" if n < 10 else f"{n:.1f} {units[k]}"


def _layered_edges(sizes) -> int:
    return sum(a * b for a, b in zip(sizes, sizes[1:]))


def estimate_memory(values: dict, info: dict, *, sizes_key: str = "[network] hidden") -> dict:
    """Estimate the largest arrays one job of a resolved config holds, in bytes.

    Parameters
    ----------
    values : dict
        Resolved config values (``[network]``, ``[train]``, ``[baselines]``); the
        network's ``sizes`` (layered) or ``n_hidden`` and ``density`` (random).
    info : dict
        The config's data info: ``graph_inputs``, ``n_classes``.
    sizes_key : str
        The key a layered network's sizes came from (``[network] hidden`` or ``sizes``).

    Returns
    -------
    dict
        ``{"key": the config key that sets the size, "what": a description,
        "n_nodes": int, "parts": {name: bytes}, "total": bytes}`` for the largest model.

    Examples
    --------
    >>> v = {"network": {"start": "layered", "sizes": [784, 10000000, 10]},
    ...      "train": {"batch_size": 32, "dtype": "float64"}, "baselines": {"models": []}}
    >>> est = estimate_memory(v, {"graph_inputs": 784, "n_classes": 10})
    >>> format_bytes(est["parts"]["W (n_nodes x n_nodes)"]), est["key"]
    ('728 TiB', '[network] hidden')
    """
    net, train = values["network"], values["train"]
    item = 4 if train.get("dtype") == "float32" else 8
    batch = max(int(train.get("batch_size", 32)), 1024)  # evaluation runs in batches of 1024
    n_in, n_out = int(info["graph_inputs"]), int(info["n_classes"])
    start = net.get("start")
    if start == "layered":
        sizes = net["sizes"]
        n_nodes, n_edges = sum(sizes), _layered_edges(sizes)
        key = sizes_key
        what = f"a {'-'.join(map(str, sizes))} layered network"
    elif start == "random":
        n_nodes = n_in + int(net["n_hidden"]) + n_out
        n_edges = math.ceil(float(net["density"]) * n_nodes * (n_nodes - 1) / 2)
        key, what = "[network] n_hidden", f"a random network of {n_nodes} nodes"
    else:  # seed_example, file: the network exists already at its own size
        n_nodes, n_edges = n_in + n_out + 6, (n_in + n_out + 6) ** 2
        key, what = "[network] start", f"the {start!r} network"
    parts = {
        "W (n_nodes x n_nodes)": n_nodes * n_nodes * item,
        "edge weights, gradient, Adam moments (4 x n_edges)": 4 * n_edges * item,
        "activations and deltas (2 x batch x n_nodes)": 2 * batch * n_nodes * item,
    }
    est = {"key": key, "what": what, "n_nodes": n_nodes, "parts": parts, "total": sum(parts.values())}
    base = values.get("baselines", {})
    if "mlp" in base.get("models", ()):
        sizes = [n_in, *base.get("mlp_hidden", [64]), n_out]
        mlp_total = 4 * _layered_edges(sizes) * item + 2 * batch * sum(sizes) * item
        if mlp_total > est["total"]:
            est = {"key": "[baselines] mlp_hidden", "what": f"a {'-'.join(map(str, sizes))} MLP baseline",
                   "n_nodes": sum(sizes),
                   "parts": {"weights, gradient, Adam moments (4 x parameters)": 4 * _layered_edges(sizes) * item,
                             "activations and deltas (2 x batch x units)": 2 * batch * sum(sizes) * item},
                   "total": mlp_total}
    return est


def check_memory(values: dict, info: dict, fail, memory: int | None = None, *,
                 sizes_key: str = "[network] hidden") -> None:
    """Call ``fail(key, message)`` when a job would need more memory than the machine has.

    Parameters
    ----------
    values, info : dict
        As for :func:`estimate_memory`.
    fail : callable
        ``fail(key, message)`` raises (the config checker's ``fail``).
    memory : int, optional
        Bytes available; default :func:`machine_memory` (no check if unknown).
    sizes_key : str
        As for :func:`estimate_memory`.

    Examples
    --------
    >>> v = {"network": {"start": "layered", "sizes": [784, 10000000, 10]},
    ...      "train": {"batch_size": 32, "dtype": "float64"}, "baselines": {"models": []}}
    >>> def fail(key, message):
    ...     raise ValueError(f"{key}: {message}")
    >>> check_memory(v, {"graph_inputs": 784, "n_classes": 10}, fail, memory=2**34)
    Traceback (most recent call last):
    ...
    ValueError: [network] hidden: a 784-10000000-10 layered network (10000794 nodes) would need about 728 TiB of memory (W (n_nodes x n_nodes) 728 TiB, edge weights, gradient, Adam moments (4 x n_edges) 237 GiB, activations and deltas (2 x batch x n_nodes) 153 GiB), more than this machine's 16.0 GiB; choose smaller sizes
    """
    memory = machine_memory() if memory is None else memory
    if not memory:
        return
    est = estimate_memory(values, info, sizes_key=sizes_key)
    if est["total"] > memory:
        parts = ", ".join(f"{name} {format_bytes(b)}" for name, b in est["parts"].items())
        fail(est["key"], f"{est['what']} ({est['n_nodes']} nodes) would need about "
                         f"{format_bytes(est['total'])} of memory ({parts}), more than this "
                         f"machine's {format_bytes(memory)}; choose smaller sizes")


def planned_output(values: dict, n_models: int) -> dict:
    """Files and epochs a run of a resolved config plans, over every seed and model.

    Each (seed, model, round) writes a part file and a checkpoint, graph models a snapshot
    too: 3 files are counted for each.

    Examples
    --------
    >>> planned_output({"rounds": 3, "seeds": [0, 1], "train": {"epochs": 5}}, 2)
    {'jobs': 4, 'files': 48, 'epochs': 80}
    """
    rounds = int(values["rounds"]) + 1  # round 0 trains too
    jobs = len(values["seeds"]) * n_models
    return {"jobs": jobs, "files": 3 * rounds * jobs, "epochs": rounds * int(values["train"]["epochs"]) * jobs}


def check_plan(values: dict, n_models: int, *, yes: bool = False) -> dict:
    """Refuse a run that plans more than :data:`MAX_FILES` files or :data:`MAX_EPOCHS` epochs.

    Parameters
    ----------
    values : dict
        Resolved config values.
    n_models : int
        Models per seed (the graph and the baselines).
    yes : bool
        The user confirmed (``graphnet run --yes``): never refuse.

    Returns
    -------
    dict
        :func:`planned_output`.

    Raises
    ------
    ConfigError
        The plan is over a limit and ``yes`` is false; the message gives the counts, the
        limits and ``--yes``.

    Examples
    --------
    >>> check_plan({"rounds": 10**9, "seeds": [0], "train": {"epochs": 5}}, 1)
    Traceback (most recent call last):
    ...
    graphnet.errors.ConfigError: rounds = 1000000000 plans 3000000003 files (limit 100,000: snapshots, checkpoints and parts of 1 seed(s) x 1 model(s) x 1000000001 rounds) and 5000000005 epochs in all (limit 1,000,000); reduce rounds, seeds or epochs, or pass --yes (run_experiment(..., yes=True)) to run it anyway
    """
    from graphnet.errors import ConfigError

    plan = planned_output(values, n_models)
    if not yes and (plan["files"] > MAX_FILES or plan["epochs"] > MAX_EPOCHS):
        raise ConfigError(
            f"rounds = {values['rounds']} plans {plan['files']} files (limit {MAX_FILES:,}: snapshots, "
            f"checkpoints and parts of {len(values['seeds'])} seed(s) x {n_models} model(s) x "
            f"{int(values['rounds']) + 1} rounds) and {plan['epochs']} epochs in all (limit "
            f"{MAX_EPOCHS:,}); reduce rounds, seeds or epochs, or pass --yes "
            f"(run_experiment(..., yes=True)) to run it anyway")
    return plan
