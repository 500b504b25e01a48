"""The sections of an experiment config: their keys, defaults and checks.

:func:`check_sections` resolves ``[data]``, ``[network]`` (with ``[network.front]``),
``[train]``, ``[mutation]``, ``[baselines]`` and ``[stats]`` in that order, filling in every default
(:data:`DEFAULTS`, and :func:`graphnet.models.recipe` for the rates), and reads the data
whole on the way; the keys and their meaning are listed in :mod:`graphnet.lab.config`.
"""

from __future__ import annotations

import os

import numpy as np

from graphnet.data import dataset_info
from graphnet.errors import ConfigError, GraphnetError, InputError, InputTypeError
from graphnet.graph.network import ACTIVATIONS, MODES
from graphnet.idxfiles import SCALES
from graphnet.lab.checker import Checker, describe
from graphnet.lab.disconnect import POLICIES as _ON_DISCONNECTED
from graphnet.lab.lottery import RANDOM_PRUNE_GROUPS, check_rewind
from graphnet.lab.schedule import check_schedule, check_set_baseline
from graphnet.lab.stats import STATS_DEFAULTS, TESTS, default_reference
from graphnet.lab.start import front_output_size, read_network, residual_layers
from graphnet.mnist1d import check_mnist1d_args
from graphnet.models import cnn1d, recipe

__all__ = ["check_sections", "DEFAULTS", "BASELINES"]

#: The baselines ``[baselines] models`` may list.
BASELINES = ("fixed-graph", "set", "mlp", "cnn", "logistic", "mlp_residual", "cnn1d",
             "random-prune")
#: The MNIST-1D paper's models (:mod:`graphnet.models`), each with ``<name>_lr`` and
#: ``<name>_weight_decay`` keys defaulting to its recipe.
_PAPER_BASELINES = ("logistic", "mlp_residual", "cnn1d")
_DATASETS = ("digits", "xor", "spirals", "mnist1d", "mnist", "csv", "npz")
_STARTS = ("layered", "random", "seed_example", "file", "minimal")
_OPTIMIZERS = ("sgd", "momentum", "adam")
_LOSSES = ("cross_entropy", "squared_error")
_DTYPES = ("float64", "float32")
_ACCEPT = ("always", "if-better")

#: Defaults that do not depend on the data (the rest come from ``graphnet.models.recipe``).
DEFAULTS = {
    "seeds": [0, 1, 2],
    "rounds": 3,
    "data": {"dataset": "digits", "test_size": 0.2, "validation": 0.1, "scale": "unit",
             "n_samples": 400, "max_train": 0, "max_test": 0},
    "network": {"start": "layered", "hidden": [64], "n_hidden": 32, "density": 0.3,
                "activation": "tanh", "steps": 5},
    "front": {"channels": 4, "kernel": 3, "padding": 1, "pool": 2, "activation": "relu"},
    "train": {"epochs": 5, "batch_size": 32, "optimizer": "adam", "loss": "cross_entropy",
              "dtype": "float64"},
    "mutation": {"accept": "always", "repair": True, "on_disconnected": "warn", "rewind": "none"},
    "baselines": {"models": ["fixed-graph"], "mlp_hidden": [64], "mlp_activation": "tanh",
                  "set_fraction": 0.2, "random_prune": "per-layer"},
    "stats": STATS_DEFAULTS,  # and reference: stats.default_reference(models)
}


def check_sections(c: Checker, raw: dict, base_dir: str) -> tuple[dict, dict]:
    """Resolve the sections of a raw config; returns (resolved sections, info about the data).

    ``info`` holds ``input_shape``, ``n_classes``, ``image`` and ``graph_inputs``.

    Parameters
    ----------
    c : Checker
    raw : dict
        The config as written.
    base_dir : str
        Directory that relative paths are read from.

    Returns
    -------
    (dict, dict)

    Raises
    ------
    ConfigError
        The first key that is unknown, of a wrong type or impossible.

    Examples
    --------
    >>> v, info = check_sections(Checker("x.toml"), {"data": {"dataset": "xor"}}, ".")
    >>> list(v), v["network"]["sizes"], info["graph_inputs"]
    (['data', 'network', 'train', 'mutation', 'baselines', 'stats'], [2, 64, 2], 2)
    """
    v = {}
    data, info = _check_data(c, raw, base_dir)
    v["data"] = data
    v["network"] = _check_network(c, raw, info, base_dir)
    v["train"] = _check_train(c, raw, data["dataset"])
    v["mutation"] = _check_mutation(c, raw, data)
    rewind, epochs = v["mutation"]["rewind"], v["train"]["epochs"]
    if isinstance(rewind, dict) and rewind["epoch"] > epochs:  # an epoch of round 0
        c.fail("[mutation] rewind.epoch", f"expected at most [train] epochs = {epochs}, "
                                          f"got {rewind['epoch']}")
    v["baselines"] = _check_baselines(c, raw, info, data["dataset"])
    if "set" in v["baselines"]["models"]:
        check_set_baseline(c, "[baselines] models")
    v["stats"] = _check_stats(c, raw, ("graph", *v["baselines"]["models"]))
    return v, info


def _check_data(c: Checker, raw: dict, base_dir: str) -> tuple[dict, dict]:
    """Resolve [data] and read the data whole; returns (values, info about shapes)."""
    d = DEFAULTS["data"]
    t = c.table(raw.get("data", {}), "[data]")
    c.keys(t, (*d, "n_classes", "label", "mnist1d"), "[data] ", "[data]")
    dataset = t.get("dataset", d["dataset"])
    if not isinstance(dataset, str):
        c.fail("[data] dataset", f"expected a string, got {describe(dataset)}")
    base, colon, rest = dataset.partition(":")
    files = ("mnist", "csv", "npz")
    if base not in _DATASETS or (base not in files and colon) or (base in files and not rest):
        c.fail("[data] dataset", f"expected 'digits', 'xor', 'spirals', 'mnist1d', 'mnist:PATH', "
                                 f"'csv:PATH' or 'npz:PATH', got {dataset!r}")
    if base in files:
        path = os.path.normpath(os.path.join(base_dir, os.path.expanduser(rest)))
        if base == "mnist" and not os.path.isdir(path):
            c.fail("[data] dataset", f"mnist directory {path} does not exist")
        if base != "mnist" and not os.path.isfile(path):
            c.fail("[data] dataset", f"{base} file {path} does not exist")
        dataset = f"{base}:{path}"
    out = {"dataset": dataset}
    out["test_size"] = c.float(t.get("test_size", d["test_size"]), "[data] test_size",
                               low=0, high=1, low_open=True, high_open=True,
                               what="a number in (0, 1)")
    out["validation"] = c.float(t.get("validation", d["validation"]), "[data] validation",
                                low=0, high=1, high_open=True, what="a number in [0, 1)")
    out["scale"] = c.choice(t.get("scale", d["scale"]), SCALES, "[data] scale")
    if base == "spirals":
        out["n_samples"] = c.int(t.get("n_samples", d["n_samples"]), "[data] n_samples", low=10)
    elif "n_samples" in t:
        c.fail("[data] n_samples", f"applies only to dataset 'spirals', not {dataset!r}")
    if base == "mnist1d":  # every generator argument resolved: the run's config.toml names them all
        try:
            out["mnist1d"] = check_mnist1d_args(c.table(t.get("mnist1d", {}), "[data] mnist1d"),
                                                where="[data] mnist1d.")
        except (InputError, InputTypeError) as exc:
            raise ConfigError(f"{c.source}: {exc}") from None
    elif "mnist1d" in t:
        c.fail("[data] mnist1d", f"applies only to dataset 'mnist1d', not {dataset!r}")
    if "n_classes" in t:
        if base not in files:
            c.fail("[data] n_classes", f"applies only to mnist, csv and npz data, not {dataset!r}")
        out["n_classes"] = c.int(t["n_classes"], "[data] n_classes", low=2)
    if "label" in t:
        if base != "csv":
            c.fail("[data] label", f"applies only to csv data, not {dataset!r}")
        out["label"] = c.str(t["label"], "[data] label")
    out["max_train"] = c.int(t.get("max_train", d["max_train"]), "[data] max_train", low=0)
    out["max_test"] = c.int(t.get("max_test", d["max_test"]), "[data] max_test", low=0)

    if base == "digits":
        info = {"input_shape": (1, 8, 8), "n_classes": 10}
    elif base in ("xor", "spirals"):
        info = {"input_shape": (2,), "n_classes": 2}
    else:
        # every file whole (both MNIST splits, every label) before anything runs
        try:
            info = dataset_info(dataset, n_classes=out.get("n_classes"), label=out.get("label"),
                                test_size=out["test_size"], mnist1d_args=out.get("mnist1d"))
        except (GraphnetError, OSError) as exc:
            c.fail("[data] dataset", f"cannot use the {base} data: {exc}")
    info["image"] = len(info["input_shape"]) == 3
    return out, info


def _check_front(c: Checker, t, info: dict) -> dict:
    d = DEFAULTS["front"]
    t = c.table(t, "[network.front]")
    c.keys(t, tuple(d), "[network.front] ", "[network.front]")
    if not info["image"]:
        c.fail("[network.front]", f"a CNN front end needs image data; the data has samples "
                                  f"of shape {info['input_shape']}")
    f = {
        "channels": c.int(t.get("channels", d["channels"]), "[network.front] channels", low=1),
        "kernel": c.int(t.get("kernel", d["kernel"]), "[network.front] kernel", low=1),
        "padding": c.int(t.get("padding", d["padding"]), "[network.front] padding", low=0),
        "pool": c.int(t.get("pool", d["pool"]), "[network.front] pool", low=1),
        "activation": c.choice(t.get("activation", d["activation"]), ACTIVATIONS,
                               "[network.front] activation"),
    }
    _, h, w = info["input_shape"]
    if f["kernel"] > min(h, w) + 2 * f["padding"]:
        c.fail("[network.front] kernel", f"a {f['kernel']}x{f['kernel']} kernel does not fit "
                                         f"{h}x{w} images padded by {f['padding']}")
    return f


_NETWORK_KEYS = ("start", "hidden", "sizes", "n_hidden", "density", "path", "mode", "activation",
                 "steps", "front", "residual")
_START_KEYS = {
    "layered": ("hidden", "sizes", "residual"),
    "random": ("n_hidden", "density"),
    "seed_example": (),
    "file": ("path",),
    "minimal": (),
}


def _check_network(c: Checker, raw: dict, info: dict, base_dir: str) -> dict:
    d = DEFAULTS["network"]
    t = c.table(raw.get("network", {}), "[network]")
    c.keys(t, _NETWORK_KEYS, "[network] ", "[network]")
    start = c.choice(t.get("start", d["start"]), _STARTS, "[network] start")
    for k in ("hidden", "sizes", "n_hidden", "density", "path", "residual"):
        if k in t and k not in _START_KEYS[start]:
            owner = next(s for s, keys in _START_KEYS.items() if k in keys)
            c.fail(f"[network] {k}", f"applies only to start = {owner!r}, not {start!r}")
    out = {"start": start}
    front = None
    if "front" in t:
        front = _check_front(c, t["front"], info)
        n_in = front_output_size(front, info["input_shape"])
    else:
        n_in = int(np.prod(info["input_shape"]))
    n_out = info["n_classes"]  # the seed's example is widened to n_in, n_out (see the runner)

    if start == "layered":
        if "sizes" in t and "hidden" in t:
            c.fail("[network] sizes", "give either sizes or hidden, not both")
        if "sizes" in t:
            sizes = c.int_list(t["sizes"], "[network] sizes", low=1)
            if len(sizes) < 2:
                c.fail("[network] sizes", f"expected at least 2 layer sizes, got {sizes}")
            if sizes[0] != n_in:
                what = "the front end's output size" if front else "the data's input size"
                c.fail("[network] sizes", f"the first size must be {n_in} ({what}), got {sizes[0]}")
            if sizes[-1] != n_out:
                c.fail("[network] sizes", f"the last size must be {n_out} (the number of "
                                          f"classes), got {sizes[-1]}")
        else:
            hidden = c.int_list(t.get("hidden", d["hidden"]), "[network] hidden", low=1, empty=True)
            sizes = [n_in, *hidden, n_out]
        out["sizes"] = sizes
        if c.bool(t.get("residual", False), "[network] residual"):  # present only when true
            if not residual_layers(sizes):
                c.fail("[network] residual", f"needs a hidden layer as wide as the hidden layer "
                                             f"before it, got sizes {sizes}")
            out["residual"] = True
        mode_default = "feedforward"
    elif start == "random":
        out["n_hidden"] = c.int(t.get("n_hidden", d["n_hidden"]), "[network] n_hidden", low=0)
        out["density"] = c.float(t.get("density", d["density"]), "[network] density", low=0,
                                 high=1, low_open=True, what="a number in (0, 1]")
        mode_default = "feedforward"
    elif start == "seed_example":
        mode_default = "recurrent"
    elif start == "minimal":  # inputs straight to outputs (NEAT's start)
        mode_default = "feedforward"
    else:
        if "path" not in t:
            c.fail("[network] path", "start = 'file' needs a path to a node-link JSON or GraphML file")
        path = c.str(t["path"], "[network] path")
        path = os.path.normpath(os.path.join(base_dir, os.path.expanduser(path)))
        out["path"] = path
        net = _load_network_file(c, path)
        if net.n_inputs != n_in or net.n_outputs != n_out:
            c.fail("[network] path", f"{path}: the network has {net.n_inputs} inputs and "
                                     f"{net.n_outputs} outputs; the data needs {n_in} and {n_out}")
        mode_default = net.mode
    out["mode"] = c.choice(t.get("mode", mode_default), MODES, "[network] mode")
    act_choices = ACTIVATIONS + (("keep",) if start == "file" else ())
    out["activation"] = c.choice(t.get("activation", "keep" if start == "file" else d["activation"]),
                                 act_choices, "[network] activation")
    out["steps"] = c.int(t.get("steps", d["steps"]), "[network] steps", low=1)
    if front is not None:
        out["front"] = front
    info["graph_inputs"] = n_in
    return out


def _load_network_file(c: Checker, path: str):
    if not os.path.isfile(path):
        c.fail("[network] path", f"no such file: {path}")
    try:
        return read_network(path)
    except (GraphnetError, OSError) as exc:
        c.fail("[network] path", f"cannot load the network: {exc}")


def _check_train(c: Checker, raw: dict, dataset: str) -> dict:
    d = DEFAULTS["train"]
    t = c.table(raw.get("train", {}), "[train]")
    allowed = ("epochs", "batch_size", "optimizer", "lr", "weight_decay", "loss", "dtype")
    c.keys(t, allowed, "[train] ", "[train]")
    rec = recipe(dataset, "graph")
    return {
        "epochs": c.int(t.get("epochs", d["epochs"]), "[train] epochs", low=1),
        "batch_size": c.int(t.get("batch_size", d["batch_size"]), "[train] batch_size", low=1),
        "optimizer": c.choice(t.get("optimizer", d["optimizer"]), _OPTIMIZERS, "[train] optimizer"),
        "lr": c.float(t.get("lr", rec["lr"]), "[train] lr", low=0, low_open=True,
                      what="a positive number"),
        "weight_decay": c.float(t.get("weight_decay", rec["weight_decay"]), "[train] weight_decay",
                                low=0, what="a number >= 0"),
        "loss": c.choice(t.get("loss", d["loss"]), _LOSSES, "[train] loss"),
        "dtype": c.choice(t.get("dtype", d["dtype"]), _DTYPES, "[train] dtype"),
    }


def _check_mutation(c: Checker, raw: dict, data: dict) -> dict:
    d = DEFAULTS["mutation"]
    m = c.table(raw.get("mutation", {}), "[mutation]")
    c.keys(m, ("accept", "repair", "on_disconnected", "schedule", "rewind"), "[mutation] ",
           "[mutation]")
    accept = c.choice(m.get("accept", d["accept"]), _ACCEPT, "[mutation] accept")
    if accept == "if-better" and data["validation"] == 0:
        c.fail("[data] validation", "accept = 'if-better' compares validation losses; "
                                    "validation must be > 0")
    return {
        "accept": accept,
        "repair": c.bool(m.get("repair", d["repair"]), "[mutation] repair"),
        "on_disconnected": c.choice(m.get("on_disconnected", d["on_disconnected"]),
                                    _ON_DISCONNECTED, "[mutation] on_disconnected"),
        "schedule": check_schedule(c, m.get("schedule", [])),
        "rewind": check_rewind(c, m.get("rewind", d["rewind"])),
    }


def _check_baselines(c: Checker, raw: dict, info: dict, dataset: str) -> dict:
    d = DEFAULTS["baselines"]
    t = c.table(raw.get("baselines", {}), "[baselines]")
    allowed = ("models", "mlp_hidden", "mlp_activation", "mlp_lr", "mlp_weight_decay",
               "cnn_lr", "cnn_weight_decay", "set_fraction", "random_prune",
               *(f"{m}_{k}" for m in _PAPER_BASELINES for k in ("lr", "weight_decay")))
    c.keys(t, allowed, "[baselines] ", "[baselines]")
    models = t.get("models", d["models"])
    if not isinstance(models, list):
        c.fail("[baselines] models", f"expected a list of model names, got {describe(models)}")
    for k, m in enumerate(models):
        c.choice(m, BASELINES, f"[baselines] models[{k}]")
        if m in models[:k]:
            c.fail(f"[baselines] models[{k}]", f"{m!r} is listed twice")
    if "cnn" in models and not info["image"]:
        c.fail("[baselines] models", f"'cnn' needs image data; {dataset!r} has samples of "
                                     f"shape {info['input_shape']}")
    if "cnn1d" in models:
        _check_cnn1d(c, info, dataset)
    mlp_rec, cnn_rec = recipe(dataset, "mlp"), recipe(dataset, "cnn")
    out = {
        "models": list(models),
        "mlp_hidden": c.int_list(t.get("mlp_hidden", d["mlp_hidden"]), "[baselines] mlp_hidden",
                                 low=1, empty=True),
        "mlp_activation": c.choice(t.get("mlp_activation", d["mlp_activation"]), ACTIVATIONS,
                                   "[baselines] mlp_activation"),
        "mlp_lr": c.float(t.get("mlp_lr", mlp_rec["lr"]), "[baselines] mlp_lr", low=0,
                          low_open=True, what="a positive number"),
        "mlp_weight_decay": c.float(t.get("mlp_weight_decay", mlp_rec["weight_decay"]),
                                    "[baselines] mlp_weight_decay", low=0, what="a number >= 0"),
        "cnn_lr": c.float(t.get("cnn_lr", cnn_rec["lr"]), "[baselines] cnn_lr", low=0,
                          low_open=True, what="a positive number"),
        "cnn_weight_decay": c.float(t.get("cnn_weight_decay", cnn_rec["weight_decay"]),
                                    "[baselines] cnn_weight_decay", low=0, what="a number >= 0"),
        "set_fraction": c.float(t.get("set_fraction", d["set_fraction"]), "[baselines] set_fraction",
                                low=0, high=1, low_open=True, what="a number in (0, 1]"),
        "random_prune": c.choice(t.get("random_prune", d["random_prune"]), RANDOM_PRUNE_GROUPS,
                                 "[baselines] random_prune"),
    }
    for m in _PAPER_BASELINES:
        rec = recipe(dataset, m)
        out[f"{m}_lr"] = c.float(t.get(f"{m}_lr", rec["lr"]), f"[baselines] {m}_lr", low=0,
                                 low_open=True, what="a positive number")
        out[f"{m}_weight_decay"] = c.float(t.get(f"{m}_weight_decay", rec["weight_decay"]),
                                           f"[baselines] {m}_weight_decay", low=0,
                                           what="a number >= 0")
    return out


def _check_cnn1d(c: Checker, info: dict, dataset: str) -> None:
    """``cnn1d`` needs 1-D signals (n, L) long enough for its three stride-2 convolutions."""
    shape = info["input_shape"]
    if len(shape) != 1:
        c.fail("[baselines] models", f"'cnn1d' needs 1-D signals; {dataset!r} has samples of "
                                     f"shape {shape} (use 'cnn' for images)")
    try:
        cnn1d(shape[0], info["n_classes"])
    except InputError as exc:
        c.fail("[baselines] models", f"'cnn1d' cannot take {dataset!r}: {exc}")


def _check_stats(c: Checker, raw: dict, models: tuple) -> dict:
    """Resolve [stats]: the reference model (one of ``models``), level, test and alpha."""
    d = DEFAULTS["stats"]
    t = c.table(raw.get("stats", {}), "[stats]")
    c.keys(t, ("reference", "level", "test", "alpha"), "[stats] ", "[stats]")
    reference = t.get("reference", default_reference(models))
    if not isinstance(reference, str) or reference not in models:
        c.fail("[stats] reference", f"expected a model of this run ({', '.join(models)}), "
                                    f"got {describe(reference)}")
    return {
        "reference": reference,
        "level": c.float(t.get("level", d["level"]), "[stats] level", low=0, high=1,
                         low_open=True, high_open=True, what="a number in (0, 1)"),
        "test": c.choice(t.get("test", d["test"]), TESTS, "[stats] test"),
        "alpha": c.float(t.get("alpha", d["alpha"]), "[stats] alpha", low=0, high=1,
                         low_open=True, high_open=True, what="a number in (0, 1)"),
    }
