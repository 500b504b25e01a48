"""The user-facing tools: --version, ops, show, export and run --print-config."""

import inspect
import json
import os
import re
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import numpy as np
import pytest

import graphnet
from graphnet.cli import main
from graphnet.errors import InputError
from graphnet.graph.network import GraphNetwork
from graphnet.graph.optable import keeps, ops_table
from graphnet.graph.registry import OPERATORS
from graphnet.lab.config import load_config, with_overrides
from graphnet.lab.defaults import default_config

from conftest import run_main, tree_snapshot

ROOT = Path(__file__).resolve().parents[1]


def _mixed_net():
    """A feedforward network with varied biases, activations, an unreachable node and a
    dead end (nodes: x0 x1 | h0 h1 h2 | y0 y1)."""
    W = np.zeros((7, 7))
    W[0, 2], W[1, 2], W[2, 5] = 0.5, -1.25, 2.0  # x0, x1 -> h0 -> y0
    W[3, 6] = -0.75  # h1 -> y1: h1 has no in-edge (unreachable)
    W[0, 4] = 1e-7  # x0 -> h2: h2 reaches no output (dead end)
    W[2, 6] = 0.1
    net = GraphNetwork.from_matrix(W, inputs=[0, 1], outputs=[5, 6])
    return net.replace(biases=[0, 0, 0.25, -0.5, 1.5, 0.125, -3.0],
                       activations=["identity", "identity", "tanh", "relu", "sigmoid",
                                    "identity", "sigmoid"])


# ------------------------------------------------------------------------------ --version


def test_version_flag_prints_the_installed_version():
    expected = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    done = subprocess.run([sys.executable, "-m", "graphnet", "--version"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"graphnet {expected}\n"
    assert graphnet.__version__ == expected


# ------------------------------------------------------------------------------ ops


def test_ops_table_lists_every_operator_within_80_columns(capsys):
    rc, out, err = run_main(["ops"], capsys)
    assert rc == 0 and err == ""
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert lines[0].split() == ["letter", "name", "arguments", "keeps"]
    c_args, c_keeps = lines[0].index("arguments"), lines[0].index("keeps")
    rows = {}  # name -> [letter, arguments text, keeps text], read by column
    for line in lines[2:]:
        letter, name = line[:c_args].split() or (None, None)
        if name is not None:
            rows[name] = [letter, "", ""]
        cell = rows[list(rows)[-1]]
        cell[1] += " " + line[c_args:c_keeps].strip()
        cell[2] += " " + line[c_keeps:].strip()
    assert list(rows) == list(OPERATORS)
    flat = {}
    for name, (letter, args, kept) in rows.items():
        assert letter == (OPERATORS[name].letter or "-")
        flat[name] = " ".join(args.split())
        for p in OPERATORS[name].params:
            assert f"{p.name} ({p.type}): {p.accepts}" in flat[name]
        assert " ".join(kept.split()) == keeps(OPERATORS[name].contract)
    assert keeps(OPERATORS["permute_nodes"].contract) == "det, rank, spectrum, function"
    assert keeps(OPERATORS["swap_rows"].contract) == "rank; det negated"
    assert keeps(OPERATORS["add_scaled_row"].contract) == "det, rank"
    assert keeps(OPERATORS["threshold"].contract) == "nothing promised"
    assert "a (float): >= 0" in flat["threshold"]
    assert "fraction (float): in [0, 1]" in flat["prune_smallest"]


def test_ops_markdown_has_one_row_per_operator(capsys):
    rc, out, _ = run_main(["ops", "--markdown"], capsys)
    assert rc == 0
    lines = out.splitlines()
    assert lines[:2] == ["| letter | name | arguments | keeps |", "|---|---|---|---|"]
    cells = [line.strip("|").split(" | ") for line in lines[2:]]
    assert [c[1].strip() for c in cells] == list(OPERATORS)
    assert all(len(c) == 4 for c in cells)  # no stray "|" inside a cell
    assert cells[0] == [" A", "threshold", "a (float): >= 0, finite", "nothing promised "]


def test_ops_one_operator_in_detail(capsys):
    rc, out, _ = run_main(["ops", "F"], capsys)
    assert rc == 0
    first = " ".join(inspect.cleandoc(OPERATORS["add_scaled_row"].func.__doc__)
                     .split("\n\n")[0].split()).replace("``", "")
    assert out.startswith("F  add_scaled_row\n")
    assert first in " ".join(out.split())
    assert "src (int): 0..n-1" in out and "k (float): finite" in out
    assert "repair: accepted" in out
    assert "keeps: det, rank\n" in out
    assert "det unchanged, rank kept, spectrum any, function any" in out
    rc, out, _ = run_main(["ops", "H"], capsys)  # a letter naming two operators shows both
    assert rc == 0 and "H  permute_nodes" in out and "H  swap_nodes" in out
    rc, out, _ = run_main(["ops", "regrow"], capsys)
    assert rc == 0 and out.startswith("-  regrow\n") and "repair: not taken" in out


@pytest.mark.parametrize("name", ["Q", "E", "f", "threshhold", ""])
def test_ops_unknown_operator_names_the_known_ones(name, capsys):
    rc, out, err = run_main(["ops", name], capsys)
    assert rc == 2 and out == ""
    assert err.startswith(f"graphnet ops: error: unknown operator {name!r}; known: A threshold, ")
    assert all(op in err for op in OPERATORS) and err.count("\n") == 1


def test_ops_table_width_is_checked():
    with pytest.raises(InputError, match="width: expected an int >= 60, got 10"):
        ops_table(width=10)


# ------------------------------------------------------------------------------ show


def test_show_feedforward_summary_roles_levels_and_problems(tmp_path, capsys):
    path = tmp_path / "net.json"
    _mixed_net().to_node_link(path)
    before = tree_snapshot(tmp_path, folders=False)
    rc, out, err = run_main(["show", str(path)], capsys)
    assert rc == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == f"network: {path}"
    assert lines[1] == "GraphNetwork (feedforward)"
    assert "nodes: 7 (inputs 2, hidden 3, outputs 2)" in lines
    assert "edges: 6 (density 0.122 of the 49 entries of W)" in lines
    assert "depth: 2" in lines
    assert "unreachable: 3 ('h1')" in lines
    assert "dead ends: 4 ('h2')" in lines
    assert "inputs (2): x0, x1" in lines and "hidden (3): h0, h1, h2" in lines
    assert "outputs (2): y0, y1" in lines
    assert "levels: 2 after the inputs (one matrix product each)" in lines
    assert "  depth 1 (3): h0, h1, h2" in lines and "  depth 2 (2): y0, y1" in lines
    assert tree_snapshot(tmp_path, folders=False) == before


def test_show_recurrent_graphml_lists_cycles(tmp_path, capsys):
    path = tmp_path / "seed.graphml"
    GraphNetwork.seed_example().to_graphml(path)
    rc, out, _ = run_main(["show", str(path)], capsys)
    assert rc == 0
    assert "GraphNetwork (recurrent)" in out and "cycles: 1: [0, 1]" in out
    assert "levels: none (recurrent: every node updates together for T steps)" in out


def test_show_long_role_lists_are_shortened(tmp_path, capsys):
    path = tmp_path / "wide.json"
    GraphNetwork.layered([64, 3, 2], seed=0).to_node_link(path)
    rc, out, _ = run_main(["show", str(path)], capsys)
    assert rc == 0
    assert "inputs (64): x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, ..., x63" in out


def test_show_plot_draws_a_png_and_never_overwrites(tmp_path, capsys):
    path = tmp_path / "net.json"
    _mixed_net().to_node_link(path)
    png = tmp_path / "net.png"
    rc, out, _ = run_main(["show", str(path), "--plot", str(png)], capsys)
    assert rc == 0 and out.endswith(f"written: {png}\n")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    png.write_bytes(b"mine")
    rc, out, err = run_main(["show", str(path), "--plot", str(png)], capsys)
    assert rc == 2 and out == ""
    assert err == f"graphnet show: error: --plot {png}: exists; refusing to overwrite it " \
                  f"(pass --force)\n"
    assert png.read_bytes() == b"mine"
    rc, _, _ = run_main(["show", str(path), "--plot", str(png), "--force"], capsys)
    assert rc == 0 and png.read_bytes()[:4] == b"\x89PNG"


def _bad_network_files(tmp):
    """name -> (path to pass, expected message after 'graphnet show: error: ')."""
    (tmp / "empty.json").write_text("")
    (tmp / "broken.json").write_text('{"nodes": [')
    (tmp / "list.json").write_text("[1, 2]")
    (tmp / "other.json").write_text('{"nodes": [], "links": []}')
    (tmp / "foreign.json").write_text('{"format": "cytoscape", "elements": []}')
    (tmp / "binary.json").write_bytes(b"{\xff\xfe\x00")
    (tmp / "pic.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    (tmp / "page.graphml").write_text("<html><body>hi</body></html>")
    (tmp / "folder").mkdir()
    cyc = GraphNetwork.seed_example().to_node_link()  # recurrent, with the cycle 0 -> 1 -> 0
    cyc["graph"]["mode"] = "feedforward"
    (tmp / "cycle.json").write_text(json.dumps(cyc))
    return {
        "missing": ("nope.json", "nope.json: no such file"),
        "directory": ("folder", "folder: is a directory; expected a network file "
                                "(node-link JSON or GraphML)"),
        "empty": ("empty.json", "empty.json: the file is empty"),
        "invalid JSON": ("broken.json", "broken.json: not valid JSON (Expecting value"),
        "a JSON list": ("list.json", "list.json: not a graphnet network file: expected "
                                     "node-link JSON with 'format' 'graphnet.node_link' "
                                     "(written by graphnet), got a JSON list"),
        "no format": ("other.json", "other.json: not a graphnet network file: expected "
                                    "node-link JSON with 'format' 'graphnet.node_link' "
                                    "(written by graphnet), got no 'format'"),
        "foreign format": ("foreign.json", "got an object with 'format' 'cytoscape'"),
        "binary": ("binary.json", "binary.json: not a text file (not UTF-8)"),
        "an image": ("pic.png", "pic.png: neither JSON nor GraphML"),
        "not GraphML": ("page.graphml", "page.graphml: not a readable GraphML file"),
        "a cycle": ("cycle.json", "feedforward network has a cycle 0 -> 1 -> 0"),
    }


@pytest.mark.parametrize("case", ["missing", "directory", "empty", "invalid JSON", "a JSON list",
                                  "no format", "foreign format", "binary", "an image",
                                  "not GraphML", "a cycle"])
@pytest.mark.parametrize("command", ["show", "export"])
def test_bad_network_files_get_one_clear_line(case, command, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    arg, message = _bad_network_files(tmp_path)[case]
    before = tree_snapshot(tmp_path, folders=False)
    extra = ["--format", "dot"] if command == "export" else ["--plot", "x.png"]
    rc, out, err = run_main([command, arg, *extra], capsys)
    assert rc == 2 and out == ""
    assert err.startswith(f"graphnet {command}: error: ")
    assert message in err and err.count("\n") == 1
    assert tree_snapshot(tmp_path, folders=False) == before


def test_show_bad_input_in_a_real_process_has_no_traceback(tmp_path):
    (tmp_path / "broken.json").write_text("{")
    done = subprocess.run([sys.executable, "-m", "graphnet", "show", "broken.json"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("graphnet show: error: broken.json: not valid JSON")
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1


@pytest.mark.parametrize("plot, message", [
    ("net.txt", "--plot net.txt: expected a file name ending in .png, .pdf, .svg, got '.txt'"),
    ("plots", "--plot plots: expected a file name ending in .png, .pdf, .svg, got 'no suffix'"),
    ("d.png", "--plot d.png: is a directory; expected a file name"),
    ("nodir/x.png", "--plot nodir/x.png: the folder"),
])
def test_show_bad_plot_paths(plot, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _mixed_net().to_node_link("net.json")
    (tmp_path / "d.png").mkdir()
    before = tree_snapshot(tmp_path, folders=False)
    rc, out, err = run_main(["show", "net.json", "--plot", plot], capsys)
    assert rc == 2 and out == "" and err.startswith(f"graphnet show: error: {message}")
    assert tree_snapshot(tmp_path, folders=False) == before and not (tmp_path / "nodir").exists()


# ------------------------------------------------------------------------------ export


def test_export_graphml_round_trips_with_plain_attribute_types(tmp_path, capsys):
    net = _mixed_net()
    src = tmp_path / "net.json"
    net.to_node_link(src)
    rc, out, _ = run_main(["export", str(src), "--format", "graphml"], capsys)
    dst = tmp_path / "net.graphml"
    assert rc == 0 and out == f"written: {dst}\n"
    back = GraphNetwork.from_graphml(dst)
    assert np.array_equal(back.matrix(), net.matrix())
    assert np.array_equal(back.biases(), net.biases())
    assert back.roles == net.roles and back.activations == net.activations
    assert back.names == net.names and back == net
    ns = {"g": "http://graphml.graphdrawing.org/xmlns"}
    keys = {(k.get("for"), k.get("attr.name")): k.get("attr.type")
            for k in ElementTree.parse(dst).getroot().findall("g:key", ns)}
    assert keys[("edge", "weight")] == "double"
    assert keys[("node", "bias")] == "double"
    assert keys[("node", "role")] == "string" and keys[("node", "activation")] == "string"


def test_export_json_round_trips(tmp_path, capsys):
    net = GraphNetwork.seed_example()
    src = tmp_path / "seed.graphml"
    net.to_graphml(src)
    rc, _, _ = run_main(["export", str(src), "--format", "json", "--out", str(tmp_path / "o.json")],
                    capsys)
    assert rc == 0
    assert GraphNetwork.from_node_link(tmp_path / "o.json") == net


_DOT_TOKEN = re.compile(r"""
    (?P<space>\s+) | (?P<comment>//[^\n]*|/\*.*?\*/)
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<arrow>->) | (?P<punct>[{}\[\];,=])
  | (?P<id>[A-Za-z_\u0080-\uffff][A-Za-z_0-9\u0080-\uffff]*)
  | (?P<number>-?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?))
""", re.VERBOSE | re.DOTALL)


_DOT_KEYWORDS = ("node", "edge", "graph", "digraph", "subgraph", "strict")


def _dot_tokens(text):
    pos, tokens = 0, []
    while pos < len(text):
        m = _DOT_TOKEN.match(text, pos)
        assert m, f"not a DOT token at {text[pos:pos + 20]!r}"
        pos = m.end()
        if m.lastgroup == "string":  # the writer's escapes: \" \\ \n
            body = re.sub(r"\\(.)", lambda e: {"n": "\n", "r": "\r"}.get(e[1], e[1]), m[0][1:-1])
            tokens.append(("id", body))
        elif m.lastgroup == "id" and m[0].lower() in _DOT_KEYWORDS:
            tokens.append(("kw", m[0].lower()))
        elif m.lastgroup in ("id", "number"):
            tokens.append(("id", m[0]))
        elif m.lastgroup not in ("space", "comment"):
            tokens.append((m[0], m[0]))
    return tokens


def _parse_dot(text):
    """A small parser of DOT's grammar (digraph, attribute, node and edge statements)."""
    toks = _dot_tokens(text)
    k = 0

    def take(kind):
        nonlocal k
        assert toks[k][0] == kind, f"expected {kind}, got {toks[k]} at token {k}"
        k += 1
        return toks[k - 1][1]

    def attr_list():
        attrs = {}
        take("[")
        while toks[k][0] != "]":
            key = take("id")
            take("=")
            attrs[key] = take("id")
            if toks[k][0] == ",":
                take(",")
        take("]")
        return attrs

    assert take("kw") == "digraph"
    name = take("id")
    take("{")
    graph, nodes, edges = {}, {}, []
    while toks[k][0] != "}":
        if toks[k][0] == "kw":  # node [...], edge [...], graph [...]: defaults
            assert take("kw") in ("node", "edge", "graph")
            attr_list()
            take(";")
            continue
        first = take("id")
        if toks[k][0] == "=":
            take("=")
            graph[first] = take("id")
        elif toks[k][0] == "->":
            take("->")
            second = take("id")
            edges.append((first, second, attr_list() if toks[k][0] == "[" else {}))
        else:
            nodes[first] = attr_list() if toks[k][0] == "[" else {}
        take(";")
    take("}")
    assert k == len(toks)
    return name, graph, nodes, edges


def test_export_dot_is_valid_dot_with_every_node_and_weight(tmp_path, capsys):
    net = _mixed_net().replace(names=['x "zero"', "x1", "node", "back\\slash", "trail\\",
                                      "ünï -> y", "multi\nline"])
    src = tmp_path / "my net.graphml"
    net.to_graphml(src)
    rc, out, _ = run_main(["export", str(src), "--format", "dot"], capsys)
    dst = tmp_path / "my net.dot"
    assert rc == 0 and out == f"written: {dst}\n"
    name, graph, nodes, edges = _parse_dot(dst.read_text(encoding="utf-8"))
    assert name == "my net" and graph["rankdir"] == "LR" and graph["mode"] == "feedforward"
    assert list(nodes) == list(net.names)
    for i, node in enumerate(net.names):
        a = nodes[node]
        assert a["index"] == str(i) and a["label"] == node
        assert (a["role"], a["activation"]) == (net.roles[i], net.activations[i])
        assert float(a["bias"]) == net.biases()[i]
        assert a["shape"] == {"input": "box", "hidden": "ellipse", "output": "doublecircle"}[
            net.roles[i]]
    W = np.zeros((net.n_nodes, net.n_nodes))
    index = {node: i for i, node in enumerate(net.names)}
    for u, v, a in edges:
        W[index[u], index[v]] = float(a["w"])
        assert a["color"] == ("#2166ac" if float(a["w"]) > 0 else "#b2182b")
    assert np.array_equal(W, net.matrix())  # every bit of every weight


def test_export_never_overwrites_and_never_the_input(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _mixed_net().to_node_link("net.json")
    Path("net.dot").write_text("my notes")
    before = tree_snapshot(tmp_path, folders=False)
    rc, out, err = run_main(["export", "net.json", "--format", "dot"], capsys)
    assert rc == 2 and out == ""
    assert err == "graphnet export: error: net.dot: exists; refusing to overwrite it " \
                  "(--force, or overwrite=True, replaces it)\n"
    for argv in (["--format", "json"], ["--format", "json", "--force"],
                 ["--format", "graphml", "--out", "./net.json", "--force"]):
        rc, out, err = run_main(["export", "net.json", *argv], capsys)
        assert rc == 2 and "is the input file; refusing to overwrite it" in err
    os.symlink("net.json", "link.json")
    before["link.json"] = before["net.json"]
    rc, _, err = run_main(["export", "link.json", "--format", "json", "--out", "net.json",
                       "--force"], capsys)
    assert rc == 2 and "is the input file" in err
    assert tree_snapshot(tmp_path, folders=False) == before
    rc, out, _ = run_main(["export", "net.json", "--format", "dot", "--force"], capsys)
    assert rc == 0 and Path("net.dot").read_text().startswith("// graphnet network")


@pytest.mark.parametrize("argv, message", [
    (["--format", "png"], "argument --format: invalid choice: 'png'"),
    ([], "the following arguments are required: --format"),
    (["--format", "dot", "--out", "sub"], "sub: is a directory; expected a file name to write"),
    (["--format", "dot", "--out", "nodir/n.dot"], "nodir/n.dot: the folder"),
])
def test_export_bad_arguments(argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _mixed_net().to_node_link("net.json")
    Path("sub").mkdir()
    before = tree_snapshot(tmp_path, folders=False)
    try:
        rc = main(["export", "net.json", *argv])
    except SystemExit as exit_:  # argparse's usage errors
        rc = exit_.code
    err = capsys.readouterr().err
    assert rc == 2 and message in err and "Traceback" not in err
    assert tree_snapshot(tmp_path, folders=False) == before and not Path("nodir").exists()


# ------------------------------------------------------------------------------ --print-config


def test_print_config_prints_the_default_and_creates_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    rc, out, err = run_main(["run", "--print-config"], capsys)
    assert rc == 0 and err == ""
    assert os.listdir(tmp_path) == []  # no run directory, no runs/
    Path("printed.toml").write_text(out)
    assert load_config("printed.toml").values == default_config().values


def test_print_config_resolves_a_file_and_the_seed_override(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    GraphNetwork.random(2, 3, 2, 0.6, seed=0).to_node_link("start.json")
    Path("exp.toml").write_text('rounds = 1\n[data]\ndataset = "xor"\n'
                                '[network]\nstart = "file"\npath = "start.json"\n')
    before = tree_snapshot(tmp_path, folders=False)
    rc, out, _ = run_main(["run", "exp.toml", "--print-config", "--seeds", "3,4"], capsys)
    assert rc == 0 and tree_snapshot(tmp_path, folders=False) == before
    Path("elsewhere").mkdir()
    Path("elsewhere/printed.toml").write_text(out)  # paths are resolved: it loads anywhere
    expected = with_overrides(load_config("exp.toml"), {"seeds": [3, 4]})
    assert load_config("elsewhere/printed.toml").values == expected.values
    assert tomllib.loads(out)["seeds"] == [3, 4]


def test_print_config_of_a_bad_config_is_a_clear_error(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    Path("bad.toml").write_text("[train]\nlr = -1\n")
    before = tree_snapshot(tmp_path, folders=False)
    rc, out, err = run_main(["run", "bad.toml", "--print-config"], capsys)
    assert rc == 2 and out == ""
    assert err == "graphnet run: error: bad.toml: [train] lr: expected a positive number, got -1\n"
    assert tree_snapshot(tmp_path, folders=False) == before


def test_audit_markdown_into_a_directory_is_a_usage_error(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "reports").mkdir()
    rc, out, err = run_main(["audit", "--markdown", "reports"], capsys)
    assert rc == 2 and out == ""
    assert err.startswith("graphnet audit: error: --markdown reports: is a directory"), err
    assert tree_snapshot(tmp_path, folders=False) == {} and os.listdir(tmp_path / "reports") == []
