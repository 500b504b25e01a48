"""Experiment configs: a TOML file, checked whole before anything runs.

An experiment names its data, the starting network, how each round trains, the mutation
schedule applied between rounds, the baselines and the seeds. :func:`load_config` reads
the file, fills in every default and checks every key; a problem raises
:class:`~graphnet.errors.ConfigError` whose message names the file and the key, e.g.
``digits.toml: [train] lr: expected a positive number, got -1``. The resolved config
(every default filled in) is written into the run directory as ``config.toml`` by
:func:`~graphnet.lab.tomlfile.dumps_toml`, and reads back to the same :class:`Config`;
``graphnet run --print-config [CONFIG]`` prints it (the built-in default without CONFIG)
and runs nothing.

The checking itself lives below this module: :mod:`graphnet.lab.sections` (each table,
its keys and defaults), :mod:`graphnet.lab.schedule` (the mutation schedule's entries)
and :mod:`graphnet.lab.checker` (messages naming the file and the key); the start
network is built once through :mod:`graphnet.lab.start` so that a bad combination
fails before anything runs.

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
                                                          ``"mnist1d"`` (MNIST-1D, generated offline,
                                                          cached; see ``mnist1d`` below),
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
``test_size``                         ``0.2``             test fraction, in (0, 1) (xor: train = test;
                                                          mnist and mnist1d come split)
``validation``                        ``0.1``             fraction of the training part held out for
                                                          ``val_*`` metrics and ``if-better``; in
                                                          [0, 1); 0 only with ``accept = "always"``.
                                                          xor validates on its four points.
``scale``                             ``"unit"``          ``"unit"`` ([0, 1]) or ``"symmetric"``
                                                          ([-1, 1]) pixels / xor points
``n_samples``                         ``400``             spirals only: number of points
``mnist1d``                           the standard set    mnist1d only: a table of generator arguments
                                                          (``{ num_samples = 5000, train_split = 0.8,
                                                          shuffle_seq = false, seed = 42,
                                                          final_seq_length = 40, ... }``, the keys of
                                                          ``graphnet.mnist1d.MNIST1D_ARGS``); the
                                                          defaults give the published data, 4000
                                                          train / 1000 test of length 40. The split is
                                                          the generator's; ``validation`` is taken
                                                          from its train part
``max_train``                         ``0``               keep at most this many training samples
                                                          (0 = all); for quick runs
``max_test``                          ``0``               the same for the test part
**[network]**
``start``                             ``"layered"``       ``"layered"``, ``"random"``,
                                                          ``"seed_example"``, ``"file"`` or
                                                          ``"minimal"`` (every input wired to every
                                                          output, no hidden node: NEAT's start)
``hidden``                            ``[64]``            layered: hidden layer sizes; inputs and
                                                          outputs come from the data (and front)
``sizes``                             --                  layered: all layer sizes instead of
                                                          ``hidden``; first and last must match the
                                                          data (first: the front's output size)
``residual``                          ``false``           layered: a skip around each hidden layer
                                                          as wide as the one before (the MNIST-1D
                                                          paper's MLP): fixed weight-1 edges into
                                                          identity sum nodes, ``s = act(W h + b) + h``
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
``rewind``                            ``"none"``          ``"init"``: after each round's mutation
                                                          the surviving weights and the biases of
                                                          ``graph`` and ``random-prune`` go back to
                                                          the start network's (lottery tickets);
                                                          ``{epoch = k}``: to those after epoch k
                                                          of round 0 (:mod:`graphnet.lab.lottery`)
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
                                                          ``"mlp"``, ``"cnn"`` (image data only),
                                                          the MNIST-1D paper's ``"logistic"``,
                                                          ``"mlp_residual"`` (40-100-100-10 with a
                                                          residual; both on any data, flattened)
                                                          and ``"cnn1d"`` (1-D signals only);
                                                          ``"random-prune"`` (removes as many edges
                                                          per round as the schedule, at random)
``mlp_hidden``                        ``[64]``            hidden sizes of the MLP
``mlp_activation``                    ``"tanh"``          of the MLP's hidden layers
``mlp_lr``, ``mlp_weight_decay``      recipe              MLP training (recipe for the dataset)
``cnn_lr``, ``cnn_weight_decay``      recipe              CNN training (recipe for the dataset)
``<model>_lr``                        recipe              ``logistic``, ``mlp_residual`` and
``<model>_weight_decay``              recipe              ``cnn1d`` training (recipe for the data)
``set_fraction``                      ``0.2``             fraction pruned and regrown each round
``random_prune``                      ``"per-layer"``     random-prune draws per layer group, or
                                                          ``"global"``
**[stats]**                                               ``summary.md``'s Statistics section
                                                          (:mod:`graphnet.lab.stats`)
``reference``                         see meaning         the model every other model is compared
                                                          with, seed by seed: ``"fixed-graph"`` when
                                                          the run has it, else ``"graph"``; must be
                                                          a model of the run
``level``                             ``0.95``            confidence level of the t intervals, in
                                                          (0, 1)
``test``                              ``"t"``             paired test of the per-seed differences:
                                                          ``"t"`` (``scipy.stats.ttest_rel``) or
                                                          ``"wilcoxon"`` (signed-rank; with 5 seeds
                                                          or fewer it cannot reach p < 0.05)
``alpha``                             ``0.05``            a difference is "better" or "worse" when
                                                          p < alpha, in (0, 1)
**[search]**                          (absent)            ``graphnet search`` only
                                                          (:mod:`graphnet.lab.search`); absent: its
                                                          defaults. Varies by ``[[mutation.schedule]]``,
                                                          trains with ``[train]``
``population``                        ``20``              networks per generation, >= 1
``generations``                       ``50``              generations after generation 0
``budget``                            ``0``               stop after this many evaluated networks
                                                          (0: no limit; else >= population)
``selection``                         ``"tournament"``    ``"tournament"`` (on ``objective``, ties
                                                          by val_loss, then fewer edges) or
                                                          ``"pareto"`` (``objective`` x edges:
                                                          NSGA-II fronts and crowding)
``objective``                         ``"val_accuracy"``  or ``"val_loss"`` (validation data only)
``tournament_size``                   ``3``               networks drawn per parent choice
``fitness_threshold``                 (none)              stop rule: stop a seed when a network
                                                          reaches it (accuracy in [0, 1]: >=;
                                                          loss: <=)
``stop_metric``                       ``objective``       ``"val_accuracy"``, ``"val_loss"``,
                                                          ``"train_accuracy"`` or ``"train_loss"``
``epochs``                            ``[train] epochs``  training of each candidate (children
                                                          start from their parent's weights)
``chunk``                             ``64``              networks per population plan and engine
                                                          task (results do not depend on workers)
``plan``                              ``true``            train a chunk as one population plan;
                                                          false: each network in its own plan
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
import os
import tomllib
from dataclasses import dataclass, field

from graphnet.errors import ConfigError, CycleError, GraphnetError
from graphnet.lab.budget import check_memory
from graphnet.lab.checker import Checker
from graphnet.lab.schedule import dry_run_schedule
from graphnet.lab.searchconfig import check_search
from graphnet.lab.sections import DEFAULTS, check_sections
from graphnet.lab.start import build_start
from graphnet.lab.tomlfile import dumps_toml

__all__ = [
    "Config",
    "load_config",
    "parse_config",
    "with_overrides",
    "MODELS",
    "GRAPH_MODELS",
]

#: Every model name a run can hold, in canonical order.
MODELS = ("graph", "fixed-graph", "set", "mlp", "cnn", "logistic", "mlp_residual", "cnn1d",
          "random-prune")
#: Models whose network is a GraphNetwork (they get snapshots, edges, det and rank).
GRAPH_MODELS = ("graph", "fixed-graph", "set", "random-prune")


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
        """The resolved config as TOML text (see :func:`graphnet.lab.tomlfile.dumps_toml`)."""
        return dumps_toml(self.values)

    def matches(self, toml_text: str) -> bool:
        """Whether a resolved config that graphnet wrote (a run's config.toml) is this one.

        The text is resolved again with today's defaults, so a run written before a key
        existed (e.g. ``[mutation] on_disconnected``) still matches a config that uses that
        key's default; any other difference does not match.

        Examples
        --------
        >>> cfg = parse_config('[data]\\ndataset = "xor"')
        >>> old = cfg.to_toml().replace('on_disconnected = "warn"\\n', "")
        >>> cfg.matches(old), cfg.matches(old.replace("rounds = 3", "rounds = 4"))
        (True, False)
        """
        if tomllib.loads(toml_text) == tomllib.loads(self.to_toml()):
            return True
        try:
            other = parse_config(toml_text, source="config.toml", base_dir=self.base_dir,
                                 name=self.values["name"])
        except ConfigError:
            return False
        return other.values == self.values


# ----------------------------------------------------------------------------- whole config

_TOP_KEYS = ("name", "description", "seeds", "rounds", "out", "data", "network", "train",
             "mutation", "baselines", "stats", "search")


def _resolve(raw: dict, source: str, base_dir: str, default_name: str) -> tuple[dict, dict]:
    c = Checker(source)
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
    sections, info = check_sections(c, raw, base_dir)
    v.update(sections)
    if "search" in raw:  # only then: a run's resolved config stays as it was
        v["search"] = check_search(c, raw["search"], v)
    # estimate first: an impossible size is refused before the network is built
    sizes_key = "[network] sizes" if "sizes" in raw.get("network", {}) else "[network] hidden"
    check_memory(v, info, c.fail, sizes_key=sizes_key)
    net = _check_buildable(c, v, info)
    dry_run_schedule(c, v["mutation"]["schedule"], net, v["mutation"]["repair"])
    return v, info


def _check_buildable(c: Checker, v: dict, info: dict):
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
