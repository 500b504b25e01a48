"""Experiment configs: every error path names the file and the key; defaults resolve; TOML round trips."""

import math
import os
import re
import tomllib

import pytest
from hypothesis import given, settings, strategies as st

from graphnet.errors import ConfigError
from graphnet.graph.network import GraphNetwork
from graphnet.lab.config import load_config, parse_config, with_overrides
from graphnet.lab.sections import DEFAULTS
from graphnet.lab.tomlfile import dumps_toml
from graphnet.lab.defaults import default_config
from graphnet.lab.schedule import operator_args

EXPERIMENTS = os.path.join(os.path.dirname(__file__), os.pardir, "experiments")


def bad(text, where, message=""):
    """parse_config(text) must raise ConfigError naming the file and ``where`` (a regex)."""
    with pytest.raises(ConfigError) as info:
        parse_config(text, source="bad.toml")
    msg = str(info.value)
    assert re.match(rf"bad\.toml: {where}: ", msg), msg
    assert re.search(message, msg), msg
    return msg


# ----------------------------------------------------------------------------- defaults


def test_empty_config_resolves_every_default():
    cfg = parse_config("", source="e.toml", name="e")
    v = cfg.values
    assert v["name"] == "e" and v["seeds"] == [0, 1, 2] and v["rounds"] == DEFAULTS["rounds"]
    assert v["data"] == {"dataset": "digits", "test_size": 0.2, "validation": 0.1, "scale": "unit",
                         "max_train": 0, "max_test": 0}
    assert v["network"] == {"start": "layered", "sizes": [64, 64, 10], "mode": "feedforward",
                            "activation": "tanh", "steps": 5}
    # lr and weight decay come from the digits recipe
    assert v["train"] == {"epochs": 5, "batch_size": 32, "optimizer": "adam", "lr": 2e-3,
                          "weight_decay": 0.0, "loss": "cross_entropy", "dtype": "float64"}
    assert v["mutation"] == {"accept": "always", "repair": True, "on_disconnected": "warn",
                             "schedule": [], "rewind": "none"}
    b = v["baselines"]
    assert b["models"] == ["fixed-graph"] and b["mlp_hidden"] == [64]
    assert (b["cnn_lr"], b["cnn_weight_decay"]) == (1e-3, 1e-4)
    assert cfg.models == ("graph", "fixed-graph")
    assert "out" not in v


def test_xor_recipe_and_spirals_samples():
    x = parse_config('[data]\ndataset = "xor"')
    assert x["train"]["lr"] == 0.05 and x["network"]["sizes"] == [2, 64, 2]
    s = parse_config('[data]\ndataset = "spirals"\nn_samples = 50')
    assert s["data"]["n_samples"] == 50


def test_resolved_config_round_trips_through_toml():
    cfg = parse_config("""
        name = "rt"
        seeds = [3, 1]
        [data]
        dataset = "digits"
        [network]
        start = "random"
        n_hidden = 7
        [network.front]
        channels = 2
        [[mutation.schedule]]
        op = "A"
        a = {quantile = 0.25}
        [[mutation.schedule]]
        op = "F"
        every = 2
        k = [-0.1, 0.1]
        [[mutation.schedule]]
        op = "A"
        a = {start = 0.0, step = 0.05}
        [baselines]
        models = ["mlp", "set", "cnn"]
        """)
    text = cfg.to_toml()
    assert tomllib.loads(text) == cfg.values
    again = parse_config(text)
    assert again.values == cfg.values
    assert cfg.models == ("graph", "mlp", "set", "cnn")


@settings(max_examples=60, deadline=None)
@given(st.recursive(
    st.dictionaries(st.from_regex(r"[a-z_][a-z0-9_ ]{0,6}", fullmatch=True),
                    st.one_of(st.booleans(), st.integers(-2**62, 2**62),
                              st.floats(allow_nan=False), st.text(max_size=8),
                              st.lists(st.integers(-5, 5), max_size=3)), max_size=4),
    lambda children: st.dictionaries(st.from_regex(r"[a-z][a-z0-9]{0,5}", fullmatch=True),
                                     children, max_size=3),
    max_leaves=10))
def test_dumps_toml_round_trips(values):
    assert tomllib.loads(dumps_toml(values)) == values


def test_front_derives_graph_inputs():
    cfg = parse_config("[network]\nhidden = [16]\n[network.front]\nchannels = 3\n")
    # 8x8 images, 3x3 kernel padded by 1 -> 8x8, pooled by 2 -> 4x4, 3 channels -> 48
    assert cfg["network"]["sizes"] == [48, 16, 10]
    assert cfg.info["graph_inputs"] == 48
    r = parse_config('[network]\nstart = "random"\n[network.front]\nchannels = 1\npool = 4')
    assert r.info["graph_inputs"] == 4


def test_layered_sizes_given_in_full():
    cfg = parse_config("[network]\nsizes = [64, 32, 16, 10]")
    assert cfg["network"]["sizes"] == [64, 32, 16, 10]


def test_file_start_is_read_relative_to_the_config(tmp_path):
    net = GraphNetwork.random(2, 3, 2, 0.7, seed=1)
    net.to_node_link(tmp_path / "net.json")
    net.replace(mode="recurrent").to_graphml(tmp_path / "net.graphml")
    (tmp_path / "a.toml").write_text(
        '[data]\ndataset = "xor"\n[network]\nstart = "file"\npath = "net.json"\n')
    cfg = load_config(tmp_path / "a.toml")
    assert cfg["network"]["path"] == str(tmp_path / "net.json")
    assert cfg["network"]["mode"] == "feedforward" and cfg["network"]["activation"] == "keep"
    (tmp_path / "b.toml").write_text(
        '[data]\ndataset = "xor"\n[network]\nstart = "file"\npath = "net.graphml"\n')
    assert load_config(tmp_path / "b.toml")["network"]["mode"] == "recurrent"


def test_name_defaults_to_the_file_stem(tmp_path):
    p = tmp_path / "my_exp.toml"
    p.write_text('[data]\ndataset = "xor"\n')
    assert load_config(p).name == "my_exp"


def test_with_overrides_merges_and_checks_again():
    cfg = default_config()
    small = with_overrides(cfg, {"rounds": 1, "train": {"epochs": 2}, "seeds": [7]})
    assert (small.rounds, small["train"]["epochs"], small.seeds) == (1, 2, (7,))
    assert small["train"]["lr"] == cfg["train"]["lr"]           # untouched keys kept
    assert small["mutation"] == cfg["mutation"]
    with pytest.raises(ConfigError, match=r"<built-in default>: \[train\] epochs: expected an integer >= 1, got 0"):
        with_overrides(cfg, {"train": {"epochs": 0}})


def test_operator_args_kinds():
    from graphnet.graph.registry import get_operator

    assert operator_args(get_operator("N")) == {"i": "int", "j": "int", "value": "float",
                                                "value_max": "sampler"}
    assert operator_args(get_operator("remove_node")) == {"node": "int"}
    assert operator_args(get_operator("H")) == {"perm": "perm", "keep_io_order": "sampler"}


def test_schedule_entries_resolve_defaults_and_canonical_names():
    cfg = parse_config('[[mutation.schedule]]\nop = "D"\n[[mutation.schedule]]\nop = "regrow"\n'
                       'n = [1, 3]\nevery = 3\nstart = 2\np = 0.5\ncount = 2\n')
    s = cfg["mutation"]["schedule"]
    assert s[0] == {"op": "swap_rows", "every": 1, "start": 1, "p": 1.0, "count": 1}
    assert s[1] == {"op": "regrow", "every": 3, "start": 2, "p": 0.5, "count": 2, "n": [1, 3]}


def test_ready_configs_load():
    for name in ("xor", "digits", "pruning", "seed_example"):
        cfg = load_config(os.path.join(EXPERIMENTS, f"{name}.toml"))
        assert cfg.name == name
    assert default_config().models == ("graph", "fixed-graph", "mlp", "cnn")


# ----------------------------------------------------------------------------- errors


def test_unknown_keys_anywhere():
    bad("foo = 1", "foo", "unknown key in the top level")
    bad("[train]\nepoch = 5", r"\[train\] epoch", "unknown key in \\[train\\]; expected one of epochs")
    bad("[data]\nsize = 1", r"\[data\] size", "unknown key")
    bad("[network]\nlayers = [3]", r"\[network\] layers", "unknown key")
    bad("[network.front]\nstride = 2", r"\[network.front\] stride", "unknown key")
    bad("[mutation]\npolicy = 'always'", r"\[mutation\] policy", "unknown key")
    bad("[baselines]\nmodel = ['mlp']", r"\[baselines\] model", "unknown key")


def test_wrong_types():
    bad('[train]\nepochs = "5"', r"\[train\] epochs", "expected an integer, got '5'")
    bad("[train]\nepochs = 2.0", r"\[train\] epochs", "expected an integer, got 2.0")
    bad("[train]\nlr = true", r"\[train\] lr", "expected a positive number, got true")
    bad("seeds = 3", "seeds", "expected a non-empty list of integers, got 3")
    bad('seeds = [0, "1"]', r"seeds\[1\]", "expected an integer")
    bad("rounds = 1.5", "rounds", "expected an integer, got 1.5")
    bad("[mutation]\nrepair = 1", r"\[mutation\] repair", "expected true or false, got 1")
    bad("[mutation]\nschedule = 3", r"\[mutation\] schedule", "array of tables")
    bad("data = 3", r"\[data\]", "expected a table")
    bad("[data]\ndataset = 3", r"\[data\] dataset", "expected a string")
    bad("[network]\nhidden = 64", r"\[network\] hidden", "list of integers")
    bad("[baselines]\nmodels = 'mlp'", r"\[baselines\] models", "expected a list")
    bad('[[mutation.schedule]]\nop = 1', r"\[\[mutation.schedule\]\] #1 op", "letter or name")
    bad('[[mutation.schedule]]\nop = "F"\nk = "big"', r"\[\[mutation.schedule\]\] #1 k",
        "expected a number, got 'big'")
    bad('[[mutation.schedule]]\nop = "D"\ni = 1.5', r"\[\[mutation.schedule\]\] #1 i",
        "expected an integer, got 1.5")
    bad('[[mutation.schedule]]\nop = "H"\nkeep_io_order = 3',
        r"\[\[mutation.schedule\]\] #1 keep_io_order", "expected true or false")
    bad('[[mutation.schedule]]\nop = "prune_smallest"\nfraction_range = 0.2',
        r"\[\[mutation.schedule\]\] #1 fraction_range", "pair")


def test_impossible_values():
    bad("[train]\nlr = -1", r"\[train\] lr", "expected a positive number, got -1")
    bad("[train]\nlr = 0", r"\[train\] lr", "positive")
    bad("[train]\nepochs = 0", r"\[train\] epochs", ">= 1, got 0")
    bad("[train]\nweight_decay = -0.1", r"\[train\] weight_decay", ">= 0")
    bad("[train]\nbatch_size = 0", r"\[train\] batch_size", ">= 1")
    bad("[train]\nlr = inf", r"\[train\] lr", "positive")
    bad("[train]\noptimizer = 'rmsprop'", r"\[train\] optimizer", "'sgd', 'momentum', 'adam'")
    bad("[train]\nloss = 'hinge'", r"\[train\] loss", "cross_entropy")
    bad("rounds = -1", "rounds", ">= 0, got -1")
    bad("seeds = [-1]", r"seeds\[0\]", ">= 0")
    bad("seeds = [1, 1]", r"seeds\[1\]", "listed twice")
    bad("seeds = []", "seeds", "non-empty")
    bad('name = "a/b"', "name", "plain name")
    bad("[data]\ntest_size = 1", r"\[data\] test_size", r"\(0, 1\)")
    bad("[data]\nvalidation = 1.0", r"\[data\] validation", r"\[0, 1\)")
    bad('[data]\ndataset = "iris"', r"\[data\] dataset", "'digits', 'xor'")
    bad('[data]\ndataset = "mnist:"', r"\[data\] dataset", "mnist:PATH")
    bad('[data]\ndataset = "mnist:/no/such/dir"', r"\[data\] dataset", "does not exist")
    bad("[data]\nn_samples = 100", r"\[data\] n_samples", "only to dataset 'spirals'")
    bad("[data]\nscale = 'big'", r"\[data\] scale", "'unit', 'symmetric'")
    bad("[network]\nstart = 'grid'", r"\[network\] start", "'layered'")
    bad("[network]\ndensity = 0.5", r"\[network\] density", "only to start = 'random'")
    bad("[network]\nstart = 'random'\ndensity = 0", r"\[network\] density", r"\(0, 1\]")
    bad("[network]\nsizes = [63, 10]", r"\[network\] sizes", "first size must be 64")
    bad("[network]\nsizes = [64, 9]", r"\[network\] sizes", "last size must be 10")
    bad("[network]\nsizes = [64]", r"\[network\] sizes", "at least 2")
    bad("[network]\nsizes = [64, 10]\nhidden = [3]", r"\[network\] sizes", "not both")
    bad("[network]\nsteps = 0", r"\[network\] steps", ">= 1")
    bad("[network]\nmode = 'cyclic'", r"\[network\] mode", "'feedforward'")
    bad("[network]\nactivation = 'keep'", r"\[network\] activation", "'tanh'")
    bad("[network.front]\nkernel = 20", r"\[network.front\] kernel", "does not fit")
    bad("[baselines]\nmodels = ['resnet']", r"\[baselines\] models\[0\]", "'fixed-graph'")
    bad("[baselines]\nmodels = ['mlp', 'mlp']", r"\[baselines\] models\[1\]", "listed twice")
    bad("[baselines]\nset_fraction = 0", r"\[baselines\] set_fraction", r"\(0, 1\]")
    bad("[mutation]\naccept = 'sometimes'", r"\[mutation\] accept", "'always', 'if-better'")


def test_schedule_errors():
    bad('[[mutation.schedule]]\nevery = 2', r"\[\[mutation.schedule\]\] #1 op", "missing")
    bad('[[mutation.schedule]]\nop = "E"', r"\[\[mutation.schedule\]\] #1 op",
        "unknown operator 'E'")
    bad('[[mutation.schedule]]\nop = "shuffle"', r"\[\[mutation.schedule\]\] #1 op",
        "unknown operator 'shuffle'")
    # an argument of another operator
    bad('[[mutation.schedule]]\nop = "A"\nk = 0.5', r"\[\[mutation.schedule\]\] #1 k",
        "operator 'threshold' \\(A\\) has no argument 'k'; expected one of op, every, start, p, count, a")
    bad('[[mutation.schedule]]\nop = "D"\n[[mutation.schedule]]\nop = "regrow"\nseed = 1',
        r"\[\[mutation.schedule\]\] #2 seed", "has no argument 'seed'")
    bad('[[mutation.schedule]]\nop = "A"\na = -1', r"\[\[mutation.schedule\]\] #1 a", ">= 0")
    bad('[[mutation.schedule]]\nop = "A"\na = {start = -1, step = 0.1}',
        r"\[\[mutation.schedule\]\] #1 a.start", ">= 0")
    bad('[[mutation.schedule]]\nop = "A"\na = {quantile = 1.5}',
        r"\[\[mutation.schedule\]\] #1 a.quantile", r"\[0, 1\]")
    bad('[[mutation.schedule]]\nop = "F"\nk = {quantile = 0.5}', r"\[\[mutation.schedule\]\] #1 k",
        r"\{start, step\}, got")
    bad('[[mutation.schedule]]\nop = "F"\nk = [1, 0]', r"\[\[mutation.schedule\]\] #1 k", "lo <= hi")
    bad('[[mutation.schedule]]\nop = "F"\nk = [1, 2, 3]', r"\[\[mutation.schedule\]\] #1 k",
        "two numbers")
    bad('[[mutation.schedule]]\nop = "prune_smallest"\nfraction = 2',
        r"\[\[mutation.schedule\]\] #1 fraction", r"\[0, 1\]")
    bad('[[mutation.schedule]]\nop = "H"\nperm = [0, 0]', r"\[\[mutation.schedule\]\] #1 perm",
        "permutation")
    bad('[[mutation.schedule]]\nop = "split_edge"\nactivation = "gelu"',
        r"\[\[mutation.schedule\]\] #1 activation", "'tanh'")
    bad('[[mutation.schedule]]\nop = "A"\nevery = 0', r"\[\[mutation.schedule\]\] #1 every", ">= 1")
    bad('[[mutation.schedule]]\nop = "A"\nstart = 0', r"\[\[mutation.schedule\]\] #1 start", ">= 1")
    bad('[[mutation.schedule]]\nop = "A"\np = 1.5', r"\[\[mutation.schedule\]\] #1 p", r"\[0, 1\]")
    bad('[[mutation.schedule]]\nop = "A"\ncount = 0', r"\[\[mutation.schedule\]\] #1 count", ">= 1")
    # a value only the operator itself can refuse: caught by the dry run before running
    bad('[[mutation.schedule]]\nop = "A"\na_range = [0.5, 0.1]', r"\[\[mutation.schedule\]\] #1",
        "a_range")
    bad('mutation = {schedule = [3]}', r"\[\[mutation.schedule\]\] #1", "expected a table")


def test_cnn_and_front_need_images():
    bad('[data]\ndataset = "xor"\n[baselines]\nmodels = ["cnn"]', r"\[baselines\] models",
        "'cnn' needs image data; 'xor' has samples of shape \\(2,\\)")
    bad('[data]\ndataset = "spirals"\n[network.front]\nchannels = 2', r"\[network.front\]",
        "needs image data")
    # digits are images: both fine
    parse_config('[baselines]\nmodels = ["cnn"]\n[network.front]\nchannels = 2')


def test_validation_zero_only_with_always():
    bad('[data]\nvalidation = 0\n[mutation]\naccept = "if-better"', r"\[data\] validation",
        "validation must be > 0")
    assert parse_config("[data]\nvalidation = 0")["data"]["validation"] == 0.0


def test_network_not_buildable():
    bad('[network]\nstart = "seed_example"\nmode = "feedforward"', r"\[network\] mode",
        "cycle 0 -> 1 -> 0")
    bad('[network]\nstart = "file"', r"\[network\] path", "needs a path")
    bad('[network]\nstart = "file"\npath = "no_such.json"', r"\[network\] path", "no such file")


def test_file_network_must_match_the_data(tmp_path):
    GraphNetwork.random(3, 2, 2, 0.7, seed=0).to_node_link(tmp_path / "n.json")
    (tmp_path / "c.toml").write_text(
        '[data]\ndataset = "xor"\n[network]\nstart = "file"\npath = "n.json"\n')
    with pytest.raises(ConfigError, match=r"c\.toml: \[network\] path: .*n\.json: the network "
                                          r"has 3 inputs and 2 outputs; the data needs 2 and 2"):
        load_config(tmp_path / "c.toml")
    (tmp_path / "junk.json").write_text("{not json")
    (tmp_path / "d.toml").write_text(
        '[data]\ndataset = "xor"\n[network]\nstart = "file"\npath = "junk.json"\n')
    with pytest.raises(ConfigError, match=r"d\.toml: \[network\] path: cannot load"):
        load_config(tmp_path / "d.toml")


def test_file_level_errors_name_the_file(tmp_path):
    with pytest.raises(ConfigError, match=r"missing\.toml: no such config file"):
        load_config(tmp_path / "missing.toml")
    p = tmp_path / "broken.toml"
    p.write_text("rounds = = 2\n")
    with pytest.raises(ConfigError, match=r"broken\.toml: not valid TOML"):
        load_config(p)
    q = tmp_path / "typo.toml"
    q.write_text("[train]\nlr = -1\n")
    with pytest.raises(ConfigError, match=re.escape(f"{q}: [train] lr: expected a positive number, got -1")):
        load_config(q)


def test_every_error_is_raised_before_anything_is_written(tmp_path):
    from graphnet.lab.runner import run_experiment

    p = tmp_path / "e.toml"
    p.write_text('[data]\ndataset = "xor"\n[[mutation.schedule]]\nop = "A"\nb = 1\n')
    with pytest.raises(ConfigError, match=r"e\.toml: \[\[mutation.schedule\]\] #1 b"):
        run_experiment(p, tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_ramp_and_quantile_values_are_kept():
    cfg = parse_config('[[mutation.schedule]]\nop = "A"\na = {start = 0, step = 0.01}\n'
                       '[[mutation.schedule]]\nop = "A"\na = {quantile = 0}\n')
    s = cfg["mutation"]["schedule"]
    assert s[0]["a"] == {"start": 0.0, "step": 0.01} and s[1]["a"] == {"quantile": 0.0}
    assert all(isinstance(x, float) for x in s[0]["a"].values())
    assert not math.isnan(s[1]["a"]["quantile"])
