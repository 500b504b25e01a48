"""Experiment configs: a TOML file, checked whole before anything runs.

An experiment names its data, the starting network, how each round trains, the mutation
schedule applied between rounds, the baselines and the seeds. :func:`load_config` reads
the file, fills in every default and checks every key; a problem raises
:class:`~graphnet.errors.ConfigError` whose message names the file and the key, e.g.
``digits.toml: [train] lr: expected a positive number, got -1``. The resolved config
(every default filled in) is written into the run directory as ``config.toml`` by
:func:`dumps_toml`, and reads back to the same :class:`Config`; ``graphnet run --print-config
[CONFIG]`` prints it (the built-in default without CONFIG) and runs nothing.

Keys and defaults
-----------------

====================================  ==================  ==============================================
key                                   default             meaning
====================================  ==================  ==============================================
``name``                              file stem           name of the experiment (``runs/<name>``)
``description``                       ``""``              free text, copied to ``summary.md``
``seeds``                             ``[0, 1, 2]``       distinct non-negative ints; one job per seed
                                                          and model
``rounds``                            ``3``               mutation rounds after the initial round 0
``out``                               ``runs/<name>``     run directory (relative to the current
                                                          directory); ``--out`` overrides it
**[data]**
``dataset``                           ``"digits"``        ``"digits"``, ``"xor"``, ``"spirals"``,
                                                          ``"mnist:PATH"`` (a directory of IDX files),
                                                          ``"csv:PATH"`` (rows of features and an
                                                          integer label, last column unless ``label``;
                                                          a non-numeric first row is a header) or
                                                          ``"npz:PATH"`` (arrays ``X`` (n, features) or
                                                          (n, c, h, w) and ``y``); PATH relative to
                                                          the file. Files are read and checked whole
                                                          when the config is loaded; csv and npz are
                                                          split stratified by ``test_size`` and not
                                                          rescaled
``n_classes``                         inferred            mnist, csv, npz: number of classes K; labels
                                                          must be integers 0..K-1. Inferred: max + 1
                                                          over all labels, with no empty class
``label``                             last column         csv: header name of the label column
``test_size``                         ``0.2``             test fraction, in (0, 1) (xor: train = test)
``validation``                        ``0.1``             fraction of the training part held out for
                                                          ``val_*`` metrics and ``if-better``; in
                                                          [0, 1); 0 only with ``accept = "always"``.
                                                          xor validates on its four points.
``scale``                             ``"unit"``          ``"unit"`` ([0, 1]) or ``"symmetric"``
                                                          ([-1, 1]) pixels / xor points
``n_samples``                         ``400``             spirals only: number of points
``max_train``                         ``0``               keep at most this many training samples
                                                          (0 = all); for quick runs
``max_test``                          ``0``               the same for the test part
**[network]**
``start``                             ``"layered"``       ``"layered"``, ``"random"``,
                                                          ``"seed_example"`` or ``"file"``
``hidden``                            ``[64]``            layered: hidden layer sizes; inputs and
                                                          outputs come from the data (and front)
``sizes``                             --                  layered: all layer sizes instead of
                                                          ``hidden``; first and last must match the
                                                          data (first: the front's output size)
``n_hidden``                          ``32``              random: hidden nodes
``density``                           ``0.3``             random: edge probability, in (0, 1]
``path``                              --                  file: node-link JSON or GraphML (relative to
                                                          the config file); its inputs and outputs
                                                          must match the data
``mode``                              see meaning         ``"feedforward"`` (layered, random) or
                                                          ``"recurrent"`` (seed_example); file: its own
``activation``                        ``"tanh"``          hidden nodes' activation; file: ``"keep"``
``steps``                             ``5``               recurrent mode: time steps T
**[network.front]**                   (absent)            optional CNN front end, image data only:
``channels``                          ``4``               feature maps of the convolution
``kernel``                            ``3``               kernel size
``padding``                           ``1``               zero padding
``pool``                              ``2``               max-pool size (edge rule ``pad``)
``activation``                        ``"relu"``          of the convolution
**[train]**
``epochs``                            ``5``               epochs per round
``batch_size``                        ``32``              mini-batch size
``optimizer``                         ``"adam"``          ``"sgd"``, ``"momentum"`` or ``"adam"``
                                                          (fresh every round)
``lr``                                recipe              learning rate (``graphnet.models.recipe``)
``weight_decay``                      recipe              L2 weight decay, >= 0
``loss``                              ``"cross_entropy"`` or ``"squared_error"``
``dtype``                             ``"float64"``       or ``"float32"``
**[mutation]**
``accept``                            ``"always"``        or ``"if-better"``: keep a round's mutation
                                                          only if the validation loss is not worse
                                                          than the last kept round's, else roll back
``repair``                            ``true``            let operators repair feedforward violations
``on_disconnected``                   ``"warn"``          when a round's mutation leaves an output
                                                          that no input reaches: ``"warn"`` (stderr
                                                          and summary.md), ``"stop"`` (end the run
                                                          with an error; ``--resume`` continues) or
                                                          ``"rollback"`` (discard the mutation)
``[[mutation.schedule]]``             ``[]``              entries applied in order, each round:
``  op``                              (required)          letter ``"A".."N"`` or a name
                                                          (``"threshold"``, ``"prune_smallest"``, ...)
``  every``                           ``1``               apply every k rounds ...
``  start``                           ``1``               ... from this round on (>= 1)
``  p``                               ``1.0``             probability per due round, in [0, 1]
``  count``                           ``1``               applications per round
``  <argument>``                      drawn               the operator's argument: a number (fixed),
                                                          ``[lo, hi]`` (uniform each time; ints for
                                                          integer arguments), ``{start, step}`` (a
                                                          ramp: ``start + step * (round - first
                                                          round of the entry)``), or for A's ``a``
                                                          ``{quantile = q}`` (the q-quantile of abs(w)
                                                          over the current edges); a ramp for A stops
                                                          at 0. Unspecified arguments are drawn by the
                                                          operator's sampler, whose own keywords
                                                          (``k_max``, ``a_range``, ``value_max``,
                                                          ``keep_io_order``, ``tries``, ...) may be
                                                          given too and are passed as written.
**[baselines]**
``models``                            ``["fixed-graph"]`` any of ``"fixed-graph"`` (same start, never
                                                          mutated), ``"set"`` (SET prune and regrow),
                                                          ``"mlp"``, ``"cnn"`` (image data only)
``mlp_hidden``                        ``[64]``            hidden sizes of the MLP
``mlp_activation``                    ``"tanh"``          of the MLP's hidden layers
``mlp_lr``, ``mlp_weight_decay``      recipe              MLP training (recipe for the dataset)
``cnn_lr``, ``cnn_weight_decay``      recipe              CNN training (recipe for the dataset)
``set_fraction``                      ``0.2``             fraction pruned and regrown each round
====================================  ==================  ==============================================

Every model trains ``(rounds + 1) * epochs`` epochs in total, split into the same rounds
(so the rows align), with ``[train]``'s batch size and optimizer. The models of a run are
``"graph"`` (the mutated network) followed by the baselines in the order given.

Sizes are checked before anything is built (:mod:`graphnet.lab.budget`): a network whose
estimated memory (the n_nodes x n_nodes matrix, edge weights with gradient and Adam state,
a batch's activations; or the MLP baseline's) exceeds the machine's physical memory is
refused, naming the key and the estimate. A run that plans more than 100,000 files
(3 per seed, model and round) or 1,000,000 epochs in all is refused by
:func:`~graphnet.lab.runner.run_experiment` unless ``yes=True`` (``graphnet run --yes``).
"""

from __future__ import annotations

import copy
import json
import math
import numbers
import os
import re
import tomllib
from dataclasses import dataclass, field

import numpy as np

from graphnet.errors import ConfigError, CycleError, GraphnetError
from graphnet.graph.network import ACTIVATIONS, MODES
from graphnet.idxfiles import SCALES
from graphnet.lab.disconnect import POLICIES as _ON_DISCONNECTED
from graphnet.lab.schedule import _check_schedule, _check_set_baseline, _dry_run_schedule
from graphnet.lab.start import build_start, front_output_size, read_network

__all__ = [
    "Config",
    "load_config",
    "parse_config",
    "with_overrides",
    "dumps_toml",
    "MODELS",
    "BASELINES",
    "GRAPH_MODELS",
    "DEFAULTS",
]

#: Every model name a run can hold, in canonical order.
MODELS = ("graph", "fixed-graph", "set", "mlp", "cnn")
#: The baselines ``[baselines] models`` may list.
BASELINES = ("fixed-graph", "set", "mlp", "cnn")
#: Models whose network is a GraphNetwork (they get snapshots, edges, det and rank).
GRAPH_MODELS = ("graph", "fixed-graph", "set")

_DATASETS = ("digits", "xor", "spirals", "mnist", "csv", "npz")
_STARTS = ("layered", "random", "seed_example", "file")
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
    "mutation": {"accept": "always", "repair": True, "on_disconnected": "warn"},
    "baselines": {"models": ["fixed-graph"], "mlp_hidden": [64], "mlp_activation": "tanh",
                  "set_fraction": 0.2},
}


# ----------------------------------------------------------------------------- Config


@dataclass(frozen=True, eq=False)
class Config:
    """A checked experiment config with every default filled in.

    Attributes
    ----------
    values : dict
        The resolved config: plain TOML-able values (see the module docstring's table).
    raw : dict
        The config as written (what :func:`with_overrides` edits and re-checks).
    source : str
        The file it came from (``"<built-in default>"`` or ``"<string>"`` otherwise);
        error messages name it.
    text : str or None
        The file's text as the user wrote it (``None`` for a dict).
    base_dir : str
        Directory that relative paths in the config are read from.
    info : dict
        What checking learned about the data: ``input_shape``, ``n_classes``,
        ``image`` (bool), ``graph_inputs`` (the graph's input count).

    Examples
    --------
    >>> cfg = parse_config('name = "t"\\nrounds = 1\\n[data]\\ndataset = "xor"')
    >>> cfg.name, cfg.rounds, cfg.models, cfg["network"]["sizes"]
    ('t', 1, ('graph', 'fixed-graph'), [2, 64, 2])
    >>> parse_config(cfg.to_toml()).values == cfg.values
    True
    """

    values: dict
    raw: dict
    source: str
    text: str | None
    base_dir: str
    info: dict = field(default_factory=dict)

    def __getitem__(self, key):
        return self.values[key]

    @property
    def name(self) -> str:
        """The experiment's name."""
        return self.values["name"]

    @property
    def seeds(self) -> tuple:
        """The seeds, in the order given."""
        return tuple(self.values["seeds"])

    @property
    def rounds(self) -> int:
        """Mutation rounds after round 0."""
        return self.values["rounds"]

    @property
    def models(self) -> tuple:
        """``"graph"`` followed by the baselines, in config order."""
        return ("graph", *self.values["baselines"]["models"])

    def to_toml(self) -> str:
        """The resolved config as TOML text (see :func:`dumps_toml`)."""
        return dumps_toml(self.values)


# ----------------------------------------------------------------------------- TOML writer

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
    >>> tomllib.loads(text)["m"][0]["a"]["quantile"]
    0.2
    """
    lines: list = []
    _emit(values, [], lines, None)
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- checking


class _Checker:
    """Raises ConfigError naming the file and the key."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, where: str, message: str):
        raise ConfigError(f"{self.source}: {where}: {message}")

    def describe(self, value) -> str:
        """A value for an error message (as :func:`_describe`)."""
        return _describe(value)

    def keys(self, table, allowed, where_prefix: str, section: str):
        """Refuse unknown keys of ``table``."""
        for k in table:
            if k not in allowed:
                self.fail(f"{where_prefix}{k}",
                          f"unknown key in {section}; expected one of {', '.join(allowed)}")

    def table(self, value, where: str) -> dict:
        if not isinstance(value, dict):
            self.fail(where, f"expected a table, got {_describe(value)}")
        return value

    def int(self, value, where: str, *, low=None, high=None) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(where, f"expected an integer, got {_describe(value)}")
        if low is not None and value < low:
            self.fail(where, f"expected an integer >= {low}, got {value}")
        if high is not None and value > high:
            self.fail(where, f"expected an integer <= {high}, got {value}")
        return int(value)

    def float(self, value, where: str, *, low=None, high=None, low_open=False,
              high_open=False, what="a number") -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(where, f"expected {what}, got {_describe(value)}")
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
            self.fail(where, f"expected one of {', '.join(map(repr, choices))}, got {_describe(value)}")
        return value

    def bool(self, value, where: str) -> bool:
        if not isinstance(value, bool):
            self.fail(where, f"expected true or false, got {_describe(value)}")
        return value

    def str(self, value, where: str, *, empty=False) -> str:
        if not isinstance(value, str) or (not empty and not value):
            self.fail(where, f"expected a non-empty string, got {_describe(value)}")
        return value

    def int_list(self, value, where: str, *, low=None, empty=False) -> list:
        if not isinstance(value, list) or (not empty and not value):
            self.fail(where, f"expected a {'' if empty else 'non-empty '}list of integers, "
                             f"got {_describe(value)}")
        return [self.int(v, f"{where}[{k}]", low=low) for k, v in enumerate(value)]


def _describe(value) -> str:
    """A value for an error message: its TOML-ish text and, for non-scalars, its kind."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, dict):
        return f"a table {value!r}"
    if isinstance(value, list):
        return f"a list {value!r}"
    return repr(value)


def _recipe(dataset: str, model: str) -> dict:
    from graphnet.models import recipe

    return recipe(dataset, model)


# ----------------------------------------------------------------------------- sections


def _check_data(c: _Checker, raw: dict, base_dir: str) -> tuple[dict, dict]:
    """Resolve [data] and read the data whole; returns (values, info about shapes)."""
    d = DEFAULTS["data"]
    t = c.table(raw.get("data", {}), "[data]")
    c.keys(t, (*d, "n_classes", "label"), "[data] ", "[data]")
    dataset = t.get("dataset", d["dataset"])
    if not isinstance(dataset, str):
        c.fail("[data] dataset", f"expected a string, got {_describe(dataset)}")
    base, colon, rest = dataset.partition(":")
    files = ("mnist", "csv", "npz")
    if base not in _DATASETS or (base not in files and colon) or (base in files and not rest):
        c.fail("[data] dataset", f"expected 'digits', 'xor', 'spirals', 'mnist:PATH', 'csv:PATH' "
                                 f"or 'npz:PATH', got {dataset!r}")
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
        from graphnet.data import dataset_info

        # every file whole (both MNIST splits, every label) before anything runs
        try:
            info = dataset_info(dataset, n_classes=out.get("n_classes"), label=out.get("label"),
                                test_size=out["test_size"])
        except (GraphnetError, OSError) as exc:
            c.fail("[data] dataset", f"cannot use the {base} data: {exc}")
    info["image"] = len(info["input_shape"]) == 3
    return out, info


def _check_front(c: _Checker, t, info: dict) -> dict:
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
                 "steps", "front")
_START_KEYS = {
    "layered": ("hidden", "sizes"),
    "random": ("n_hidden", "density"),
    "seed_example": (),
    "file": ("path",),
}


def _check_network(c: _Checker, raw: dict, info: dict, base_dir: str) -> dict:
    d = DEFAULTS["network"]
    t = c.table(raw.get("network", {}), "[network]")
    c.keys(t, _NETWORK_KEYS, "[network] ", "[network]")
    start = c.choice(t.get("start", d["start"]), _STARTS, "[network] start")
    for k in ("hidden", "sizes", "n_hidden", "density", "path"):
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
        mode_default = "feedforward"
    elif start == "random":
        out["n_hidden"] = c.int(t.get("n_hidden", d["n_hidden"]), "[network] n_hidden", low=0)
        out["density"] = c.float(t.get("density", d["density"]), "[network] density", low=0,
                                 high=1, low_open=True, what="a number in (0, 1]")
        mode_default = "feedforward"
    elif start == "seed_example":
        mode_default = "recurrent"
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


def _load_network_file(c: _Checker, path: str):
    if not os.path.isfile(path):
        c.fail("[network] path", f"no such file: {path}")
    try:
        return read_network(path)
    except (GraphnetError, OSError) as exc:
        c.fail("[network] path", f"cannot load the network: {exc}")


def _check_train(c: _Checker, raw: dict, dataset: str) -> dict:
    d = DEFAULTS["train"]
    t = c.table(raw.get("train", {}), "[train]")
    allowed = ("epochs", "batch_size", "optimizer", "lr", "weight_decay", "loss", "dtype")
    c.keys(t, allowed, "[train] ", "[train]")
    rec = _recipe(dataset, "graph")
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


def _check_baselines(c: _Checker, raw: dict, info: dict, dataset: str) -> dict:
    d = DEFAULTS["baselines"]
    t = c.table(raw.get("baselines", {}), "[baselines]")
    allowed = ("models", "mlp_hidden", "mlp_activation", "mlp_lr", "mlp_weight_decay",
               "cnn_lr", "cnn_weight_decay", "set_fraction")
    c.keys(t, allowed, "[baselines] ", "[baselines]")
    models = t.get("models", d["models"])
    if not isinstance(models, list):
        c.fail("[baselines] models", f"expected a list of model names, got {_describe(models)}")
    for k, m in enumerate(models):
        c.choice(m, BASELINES, f"[baselines] models[{k}]")
        if m in models[:k]:
            c.fail(f"[baselines] models[{k}]", f"{m!r} is listed twice")
    if "cnn" in models and not info["image"]:
        c.fail("[baselines] models", f"'cnn' needs image data; {dataset!r} has samples of "
                                     f"shape {info['input_shape']}")
    mlp_rec, cnn_rec = _recipe(dataset, "mlp"), _recipe(dataset, "cnn")
    return {
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
    }


# ----------------------------------------------------------------------------- whole config

_TOP_KEYS = ("name", "description", "seeds", "rounds", "out", "data", "network", "train",
             "mutation", "baselines")


def _resolve(raw: dict, source: str, base_dir: str, default_name: str) -> tuple[dict, dict]:
    c = _Checker(source)
    c.keys(raw, _TOP_KEYS, "", "the top level")
    v: dict = {}
    name = raw.get("name", default_name)
    v["name"] = c.str(name, "name")
    if "/" in name or "\\" in name or name in (".", ".."):
        c.fail("name", f"expected a plain name (it names the run directory), got {name!r}")
    v["description"] = c.str(raw.get("description", ""), "description", empty=True)
    seeds = c.int_list(raw.get("seeds", DEFAULTS["seeds"]), "seeds", low=0)
    for k, s in enumerate(seeds):
        if s in seeds[:k]:
            c.fail(f"seeds[{k}]", f"seed {s} is listed twice")
    v["seeds"] = seeds
    v["rounds"] = c.int(raw.get("rounds", DEFAULTS["rounds"]), "rounds", low=0)
    if "out" in raw:
        v["out"] = c.str(raw["out"], "out")
    data, info = _check_data(c, raw, base_dir)
    v["data"] = data
    v["network"] = _check_network(c, raw, info, base_dir)
    v["train"] = _check_train(c, raw, data["dataset"])

    m = c.table(raw.get("mutation", {}), "[mutation]")
    c.keys(m, ("accept", "repair", "on_disconnected", "schedule"), "[mutation] ", "[mutation]")
    accept = c.choice(m.get("accept", DEFAULTS["mutation"]["accept"]), _ACCEPT, "[mutation] accept")
    if accept == "if-better" and data["validation"] == 0:
        c.fail("[data] validation", "accept = 'if-better' compares validation losses; "
                                    "validation must be > 0")
    v["mutation"] = {
        "accept": accept,
        "repair": c.bool(m.get("repair", DEFAULTS["mutation"]["repair"]), "[mutation] repair"),
        "on_disconnected": c.choice(m.get("on_disconnected",
                                          DEFAULTS["mutation"]["on_disconnected"]),
                                    _ON_DISCONNECTED, "[mutation] on_disconnected"),
        "schedule": _check_schedule(c, m.get("schedule", [])),
    }
    v["baselines"] = _check_baselines(c, raw, info, data["dataset"])
    if "set" in v["baselines"]["models"]:
        _check_set_baseline(c, "[baselines] models")
    # estimate first: an impossible size is refused before the network is built
    from graphnet.lab.budget import check_memory

    sizes_key = "[network] sizes" if "sizes" in raw.get("network", {}) else "[network] hidden"
    check_memory(v, info, c.fail, sizes_key=sizes_key)
    net = _check_buildable(c, v, info)
    _dry_run_schedule(c, v["mutation"]["schedule"], net, v["mutation"]["repair"])
    return v, info


def _check_buildable(c: _Checker, v: dict, info: dict):
    """Build the start network once (seed 0) so a bad combination fails before running."""
    try:
        return build_start(v["network"], info["graph_inputs"], info["n_classes"], seed=0)
    except CycleError as exc:
        c.fail("[network] mode", f"the {v['network']['start']!r} network cannot run in "
                                 f"{v['network']['mode']!r} mode: {exc}")
    except GraphnetError as exc:
        c.fail("[network] start", f"cannot build the {v['network']['start']!r} network: {exc}")


def _parse(text: str, source: str) -> dict:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None


def parse_config(text_or_dict, *, source: str = "<string>", base_dir: str = ".",
                 name: str | None = None) -> Config:
    """Check a config given as TOML text or as a dict, and resolve every default.

    Parameters
    ----------
    text_or_dict : str or dict
        TOML text, or the dict ``tomllib`` would make of it.
    source : str
        What to call it in error messages (a file name).
    base_dir : str
        Directory relative paths (``[network] path``, ``mnist:PATH``) are read from.
    name : str, optional
        Default for ``name`` (default ``"experiment"``).

    Returns
    -------
    Config

    Raises
    ------
    ConfigError
        For invalid TOML, an unknown key, a wrong type or an impossible value; the
        message names ``source`` and the key.

    Examples
    --------
    >>> parse_config({"rounds": -1}, source="x.toml")
    Traceback (most recent call last):
    ...
    graphnet.errors.ConfigError: x.toml: rounds: expected an integer >= 0, got -1
    >>> parse_config("[train]\\nlr = -1", source="digits.toml")
    Traceback (most recent call last):
    ...
    graphnet.errors.ConfigError: digits.toml: [train] lr: expected a positive number, got -1
    """
    if isinstance(text_or_dict, str):
        text = text_or_dict
        raw = _parse(text, source)
    elif isinstance(text_or_dict, dict):
        text, raw = None, copy.deepcopy(text_or_dict)
    else:
        raise ConfigError(f"{source}: expected TOML text or a dict, got "
                          f"{type(text_or_dict).__name__}")
    values, info = _resolve(raw, source, os.path.abspath(base_dir), name or "experiment")
    return Config(values=values, raw=raw, source=source, text=text,
                  base_dir=os.path.abspath(base_dir), info=info)


def load_config(path) -> Config:
    """Read and check an experiment config file.

    Parameters
    ----------
    path : str or os.PathLike
        A TOML file; ``name`` defaults to its stem, relative paths inside it are read
        from its directory.

    Returns
    -------
    Config

    Raises
    ------
    ConfigError
        The file is missing, not TOML, or invalid (the message names the file and key).

    Examples
    --------
    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = os.path.join(d, "tiny.toml")
    ...     with open(p, "w") as fh:
    ...         _ = fh.write('[data]\\ndataset = "xor"\\n[train]\\nepochs = 2\\n')
    ...     cfg = load_config(p)
    >>> cfg.name, cfg["train"]["epochs"], cfg["train"]["lr"]
    ('tiny', 2, 0.05)
    """
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the config: {exc}") from None
    stem = os.path.splitext(os.path.basename(path))[0]
    return parse_config(text, source=path, base_dir=os.path.dirname(os.path.abspath(path)),
                        name=stem)


def _merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def with_overrides(config: Config, overrides: dict) -> Config:
    """The same config with some keys changed (nested dicts merge), checked again.

    Used to run a ready config at a tiny size (fewer rounds, epochs, seeds).

    Parameters
    ----------
    config : Config
    overrides : dict
        Keys as in the file, e.g. ``{"rounds": 1, "train": {"epochs": 1}}``.

    Returns
    -------
    Config

    Raises
    ------
    ConfigError
        If the result is invalid.

    Examples
    --------
    >>> cfg = parse_config('[data]\\ndataset = "xor"')
    >>> small = with_overrides(cfg, {"seeds": [3], "train": {"epochs": 1}})
    >>> small.seeds, small["train"]["epochs"], small["data"]["dataset"]
    ((3,), 1, 'xor')
    """
    raw = _merge(config.raw, overrides)
    values, info = _resolve(raw, config.source, config.base_dir, config.values["name"])
    return Config(values=values, raw=raw, source=config.source, text=config.text,
                  base_dir=config.base_dir, info=info)
