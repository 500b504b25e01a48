"""The operator specs: complete, true to the functions, and the one source every consumer reads."""

import ast
import inspect
from pathlib import Path

import numpy as np
import pytest

from graphnet.cli import main
from graphnet.errors import ConfigError, InputError, OperatorError
from graphnet.graph import registry
from graphnet.graph.contracts import CONTRACTS, LETTERS, Contract
from graphnet.graph.network import GraphNetwork
from graphnet.graph.optable import describe_operator, ops_table
from graphnet.graph.registry import OPERATORS, Keyword, OperatorSpec, Param, get_operator
from graphnet.lab.config import parse_config
from graphnet.lab.schedule import apply_entry, mutate, operator_args

LAB = Path(__file__).resolve().parents[1] / "graphnet" / "lab"
PARAM_KINDS = {"int", "float", "perm", "choice", "seed"}
KEYWORD_KINDS = {"arg", "float", "count", "bool", "pair"}

# ------------------------------------------------------------------ every spec is complete


def test_declared_arguments_are_the_operator_signatures():
    for name, spec in OPERATORS.items():
        assert spec.name == name and isinstance(spec.contract, Contract), name
        params = list(inspect.signature(spec.func).parameters.values())[1:]
        declared = [p for p in params if p.name != "repair"]
        assert [p.name for p in spec.params] == [p.name for p in declared], name
        for p, sig in zip(spec.params, declared):
            assert p.required == (sig.default is inspect.Parameter.empty), (name, p.name)
            assert p.kind in PARAM_KINDS and p.accepts, (name, p.name)
            assert (p.kind == "choice") == bool(p.choices), (name, p.name)
        assert spec.repairable == ("repair" in [p.name for p in params]), name
        # the implementation takes the same arguments, and repair
        impl = list(inspect.signature(spec.impl).parameters)[1:]
        assert impl == [p.name for p in spec.params] + ["repair"], name


def test_letters_agree_with_the_contracts():
    for letter, name in LETTERS.items():
        assert OPERATORS[name].letter == letter and get_operator(letter) is OPERATORS[name]
    for name, spec in OPERATORS.items():
        assert spec.contract is CONTRACTS.get(name, spec.contract)


def test_the_algebra_names_the_same_arguments():
    """graph.symbolic declares the matrix operators' arguments for sympy: the same names."""
    from graphnet.graph.symbolic import OPERATOR_ARGS

    for name, args in OPERATOR_ARGS.items():
        assert args == tuple(p.name for p in OPERATORS[name].params), name


def test_sampler_keywords_are_what_the_draw_functions_take():
    for name, spec in OPERATORS.items():
        keys = [k.name for k in spec.keywords]
        assert spec.sample.keywords == tuple(keys), name
        draw = list(inspect.signature(spec.draw).parameters.values())[2:]
        assert [p.name for p in draw] == keys, name
        # the spec declares the defaults, the draw function none
        assert all(p.default is inspect.Parameter.empty for p in draw), name
        for k in spec.keywords:
            assert k.kind in KEYWORD_KINDS, (name, k.name)
            if k.kind == "arg":
                assert spec.param(k.name) is not None, (name, k.name)
            else:
                assert spec.param(k.name) is None, (name, k.name)
        # every required argument the runner does not give is drawn by the sampler
        drawn = set(spec.sample(GraphNetwork.layered([2, 3, 2], seed=0), 0))
        assert {p.name for p in spec.params if p.required} <= drawn, name


_NET = GraphNetwork.layered([2, 2, 1], seed=0)  # nodes x0 x1 h0 h1 y0


@pytest.mark.parametrize("op, param, declared, args", [
    ("threshold", "a", ">= 0", {"a": -0.1}),
    ("swap_rows", "j", "!= i", {"i": 2, "j": 2}),
    ("swap_columns", "i", "0..n-1", {"i": 5, "j": 0}),
    ("add_scaled_row", "dst", "!= src", {"src": 2, "dst": 2, "k": 1.0}),
    ("add_scaled_column", "k", "finite", {"src": 2, "dst": 3, "k": float("inf")}),
    ("assign", "value", "finite", {"i": 0, "j": 2, "value": float("nan")}),
    ("add_edge", "weight", "!= 0", {"i": 0, "j": 4, "weight": 0.0}),
    ("split_edge", "activation", "one of tanh", {"i": 0, "j": 2, "activation": "softmax"}),
    ("remove_node", "node", "a hidden node", {"node": 0}),
    ("permute_nodes", "perm", "a permutation of 0..n-1", {"perm": [0, 0, 1, 2, 3]}),
    ("regrow", "n", ">= 0", {"n": -1, "seed": 0}),
    ("regrow", "scale", "> 0", {"n": 1, "seed": 0, "scale": 0.0}),
    ("prune_smallest", "fraction", "in [0, 1]", {"fraction": 1.5}),
])
def test_declared_ranges_are_what_the_validators_refuse(op, param, declared, args):
    (p,) = [p for p in OPERATORS[op].params if p.name == param]
    assert declared in p.accepts
    with pytest.raises((InputError, OperatorError), match=param if param != "j" else "i and j"):
        OPERATORS[op].func(_NET, **args)


@pytest.mark.parametrize("name", [n for n, s in OPERATORS.items()
                                  if any(p.low is not None for p in s.params)])
def test_declared_bounds_are_what_the_operator_and_the_config_refuse(name):
    spec = OPERATORS[name]
    for p in spec.params:
        if p.low is None:
            continue
        outside = [p.low - 0.5] + ([p.high + 0.5] if p.high is not None else [])
        for x in outside:
            with pytest.raises(InputError, match=p.name):
                spec.func(_NET, **{p.name: x})
            with pytest.raises(ConfigError, match=rf"a {p.noun} must be"):
                parse_config(f'[[mutation.schedule]]\nop = "{name}"\n{p.name} = {x}\n')


# ------------------------------------------------------------------ consumers read the specs


def _scale_all(net, factor):
    """Multiply every weight by ``factor`` (a throwaway operator for these tests)."""
    return _scale_all_impl(net, factor)[0]


def _scale_all_impl(net, factor, *, repair=False):
    factor = float(factor)
    if not 0 <= factor <= 2:
        raise InputError(f"scale_all: factor: expected a number in [0, 2], got {factor!r}")
    return net.replace(W=net.matrix() * factor), (), {"factor": factor}


def _draw_scale_all(net, rng, *, factor, factor_max, tries):
    return {"factor": float(rng.uniform(0, factor_max)) if factor is None else factor}


THROWAWAY = OperatorSpec(
    "scale_all", None, _scale_all, _scale_all_impl,
    params=(Param("factor", "float", "in [0, 2]", low=0, high=2, noun="factor"),),
    draw=_draw_scale_all,
    keywords=(Keyword("factor", "arg"), Keyword("factor_max", "float", 2.0),
              Keyword("tries", "count", 3)),
    contract=CONTRACTS["threshold"],
)


@pytest.fixture
def throwaway(monkeypatch):
    monkeypatch.setitem(OPERATORS, "scale_all", THROWAWAY)
    return THROWAWAY


def test_a_new_spec_shows_in_graphnet_ops(throwaway, capsys):
    assert "scale_all" in ops_table() and "factor (float): in [0, 2]" in ops_table()
    assert "| - | scale_all | factor (float): in [0, 2] |" in ops_table(markdown=True)
    text = describe_operator("scale_all")
    assert "Multiply every weight by factor" in text
    assert "sampler keywords (schedule entries): factor, factor_max, tries" in text
    assert "repair: not taken" in text
    assert main(["ops", "scale_all"]) == 0
    assert capsys.readouterr().out.startswith("-  scale_all\n")


def test_a_new_spec_is_validated_by_the_config(throwaway):
    assert operator_args(throwaway) == {"factor": "float", "factor_max": "sampler",
                                        "tries": "sampler"}
    cfg = parse_config('[[mutation.schedule]]\nop = "scale_all"\nfactor = [0.5, 1.5]\n'
                       'tries = 2\n')
    assert cfg["mutation"]["schedule"][0] == {"op": "scale_all", "every": 1, "start": 1,
                                              "p": 1.0, "count": 1, "factor": [0.5, 1.5],
                                              "tries": 2}
    for line, message in [
        ("factor = 3", r"#1 factor: a factor must be in \[0, 2\], got 3"),
        ("factor = {start = 1.0, step = 0.1}", None),  # a ramp is checked at the run
        ("factor = {quantile = 0.5}", r"or a table \{start, step\}, got"),
        ("factor_max = [1, 2]", r"#1 factor_max: expected a number"),
        ("tries = 0", r"#1 tries: expected an integer >= 1"),
        ("scale = 1.0", r"operator 'scale_all' \(extra\) has no argument 'scale'; expected one "
                        r"of op, every, start, p, count, factor, factor_max, tries"),
    ]:
        text = f'[[mutation.schedule]]\nop = "scale_all"\n{line}\n'
        if message is None:
            parse_config(text)
        else:
            with pytest.raises(ConfigError, match=message):
                parse_config(text)
    # the dry run applies it once: its own validator's refusal is a config error
    with pytest.raises(ConfigError, match=r"operator 'scale_all': scale_all: factor: expected"):
        parse_config('[[mutation.schedule]]\nop = "scale_all"\nfactor = {start = 3.0, '
                     'step = 0.0}\n')


def test_a_new_spec_is_sampled_and_applied_by_the_schedule(throwaway):
    net = GraphNetwork.layered([2, 3, 2], seed=0)
    entry = {"op": "scale_all", "every": 1, "start": 1, "p": 1.0, "count": 1,
             "factor_max": 0.5}
    new, rec = apply_entry(net, entry, np.random.default_rng(0), round_=1)
    assert rec.name == "scale_all" and 0 <= rec.args["factor"] <= 0.5
    np.testing.assert_array_equal(new.matrix(), net.matrix() * rec.args["factor"])
    _, records = mutate(net, [entry], seed=0, round_=1)
    assert [r["name"] for r in records] == ["scale_all"] and records[0]["error"] is None


def test_lab_code_names_no_operator_and_inspects_nothing():
    """Operator names appear in the lab's docstrings and examples only."""
    names = set(OPERATORS)
    for path in sorted(LAB.rglob("*.py")):
        tree = ast.parse(path.read_text())
        docs = {id(node.body[0].value) for node in ast.walk(tree)
                if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef))
                and node.body and isinstance(node.body[0], ast.Expr)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and id(node) not in docs:
                assert node.value not in names, f"{path.name}:{node.lineno}: {node.value!r}"
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                modules = [a.name for a in node.names] + [getattr(node, "module", None)]
                assert "inspect" not in modules, f"{path.name}:{node.lineno} imports inspect"


def test_set_step_is_prune_then_regrow():
    net = GraphNetwork.layered([2, 4, 2], seed=0)
    new, (pruned, grown) = registry.set_step(net, 0.5, 3)
    assert (pruned.name, grown.name) == registry.SET_OPERATORS
    assert pruned.edges_before - pruned.edges_after == grown.args["n"] == 8
    assert new.n_edges == net.n_edges
    again, _ = registry.apply(registry.apply(net, pruned.name, **pruned.args)[0], grown.name,
                              **grown.args)
    assert again == new
