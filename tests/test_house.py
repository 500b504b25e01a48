"""The house itself: no import circle, no oversized module, imports that run one way.

The walker reads source with ``ast`` (nothing is imported), so a circle hidden in a
function-level import counts as much as one at the top of a file. Each check is a function
over a package root, shown to fail on a small planted package before it judges graphnet.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import graphnet

ROOT = Path(graphnet.__file__).parent
#: The bound of the size check: the ~600 lines DESIGN.md aims at.
MAX_LINES = 600
#: Imports run one way: cli -> lab -> graph -> core -> rng / errors, with the top-level
#: modules (data, models, train ...) between lab and core, beside graph. A module imports
#: only modules of its own floor or below.
BOTTOM = ("graphnet", "graphnet.errors", "graphnet.rng", "graphnet._checks", "graphnet.fileio")
FLOORS = (("graphnet.cli", 4), ("graphnet.__main__", 4), ("graphnet.lab", 3),
          ("graphnet.audit", 3), ("graphnet.core", 1))


def floor(module: str) -> int:
    """The floor of a graphnet module: 0 the bottom, 1 core, 2 graph and the top-level
    modules, 3 lab and audit, 4 the command.

    Examples
    --------
    >>> floor("graphnet.rng"), floor("graphnet.core.layers"), floor("graphnet.graph.io")
    (0, 1, 2)
    >>> floor("graphnet.models"), floor("graphnet.lab.runner"), floor("graphnet.cli")
    (2, 3, 4)
    """
    if module in BOTTOM:
        return 0
    for package, level in FLOORS:
        if _within(module, package):
            return level
    return 2




def modules(root: Path) -> dict[str, Path]:
    """Every module of the package at ``root``: dotted name -> file (a package is its __init__)."""
    root = Path(root)
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = (root.name, *path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return ((isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
            or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


def _imports(tree: ast.AST):
    """Every Import / ImportFrom node, at any depth, except under ``if TYPE_CHECKING:``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _type_checking_only(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def import_graph(root: Path) -> dict[str, set[str]]:
    """Who imports whom inside the package at ``root``, function-level imports included.

    ``from a.b import c`` points at the module ``a.b.c`` when there is one, else at ``a.b``;
    the parent packages Python imports on the way are not counted (every module would
    otherwise depend on its package's ``__init__``).
    """
    mods = modules(root)
    graph = {name: set() for name in mods}

    def nearest(target: str) -> str | None:
        while target and target not in mods:
            target = target.rpartition(".")[0]
        return target or None

    for name, path in mods.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[:len(package.split(".")) - node.level + 1]
                    base = ".".join([*parts, base] if base else parts)
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in mods else base
                           for alias in node.names]
            for target in targets:
                found = nearest(target)
                if found is not None and found != name:
                    graph[name].add(found)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as a path ``[a, b, ..., a]``, or None (depth-first, sorted order)."""
    state, path = {}, []  # state: 1 on the current path, 2 finished

    def visit(v):
        state[v] = 1
        path.append(v)
        for w in sorted(graph.get(v, ())):
            if state.get(w) == 1:
                return path[path.index(w):] + [w]
            if w not in state:
                found = visit(w)
                if found:
                    return found
        path.pop()
        state[v] = 2
        return None

    for v in sorted(graph):
        if v not in state:
            found = visit(v)
            if found:
                return found
    return None


def oversized(root: Path, limit: int) -> list[str]:
    """Modules of the package at ``root`` over ``limit`` lines, as ``"path: n lines"``, longest first."""
    sizes = [(len(p.read_text(encoding="utf-8").splitlines()), p) for p in modules(root).values()]
    return [f"{p.relative_to(Path(root).parent)}: {n} lines"
            for n, p in sorted(sizes, key=lambda s: (-s[0], str(s[1]))) if n > limit]


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def layer_violations(graph: dict[str, set[str]], floor) -> list[str]:
    """Imports that go up: ``"importer (floor) -> imported (floor)"`` for every edge whose
    target's ``floor(target)`` is above the importer's."""
    return sorted(f"{m} ({floor(m)}) -> {t} ({floor(t)})" for m, targets in graph.items()
                  for t in targets if floor(t) > floor(m))


# ------------------------------------------------------------ the checks can fail


def _plant(tmp_path, files: dict) -> Path:
    root = tmp_path / "pkg"
    for rel, text in {"__init__.py": "", **files}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_a_planted_circle_through_a_function_level_import_is_found(tmp_path):
    root = _plant(tmp_path, {
        "a.py": "from pkg.b import g\n\ndef f():\n    return g()\n",
        "b.py": "def g():\n    from pkg import a  # hidden in a function\n    return a\n",
        "c.py": "from . import b\nimport pkg.a\n",
    })
    graph = import_graph(root)
    assert graph == {"pkg": set(), "pkg.a": {"pkg.b"}, "pkg.b": {"pkg.a"},
                     "pkg.c": {"pkg.a", "pkg.b"}}
    assert find_cycle(graph) == ["pkg.a", "pkg.b", "pkg.a"]


def test_relative_and_nested_imports_resolve_and_a_chain_is_no_circle(tmp_path):
    root = _plant(tmp_path, {
        "sub/__init__.py": "from .x import X\n",
        "sub/x.py": "from ..base import B\nX = B\n",
        "base.py": "import numpy\nB = 1\n",
        "top.py": "from pkg.sub import X\nfrom pkg.sub.x import X as Y\n",
    })
    graph = import_graph(root)
    assert graph["pkg.sub"] == {"pkg.sub.x"} and graph["pkg.sub.x"] == {"pkg.base"}
    assert graph["pkg.top"] == {"pkg.sub", "pkg.sub.x"} and graph["pkg.base"] == set()
    assert find_cycle(graph) is None


def test_imports_only_for_type_checking_do_not_count(tmp_path):
    root = _plant(tmp_path, {
        "a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import b\n",
        "b.py": "import pkg.a\n",
    })
    assert find_cycle(import_graph(root)) is None


def test_a_planted_long_module_is_named(tmp_path):
    root = _plant(tmp_path, {"long.py": "x = 1\n" * 12, "short.py": "x = 1\n" * 10})
    assert oversized(root, 10) == ["pkg/long.py: 12 lines"]


def test_a_planted_import_against_the_layers_is_named(tmp_path):
    root = _plant(tmp_path, {
        "core/__init__.py": "", "core/ops.py": "def f():\n    from pkg.lab import run\n",
        "lab/__init__.py": "", "lab/run.py": "from pkg.core import ops\n",
    })
    def floor(m):
        return 1 if m.startswith("pkg.core") else 3 if m.startswith("pkg.lab") else 0

    assert layer_violations(import_graph(root), floor) == ["pkg.core.ops (1) -> pkg.lab.run (3)"]


# ------------------------------------------------------------ graphnet itself


def test_graphnet_has_no_import_circle():
    cycle = find_cycle(import_graph(ROOT))
    assert cycle is None, "import circle: " + " -> ".join(cycle)


def test_no_module_is_over_the_size_bound():
    assert oversized(ROOT, MAX_LINES) == []


def test_imports_run_one_way():
    assert layer_violations(import_graph(ROOT), floor) == []


def test_the_walker_sees_graphnet_and_its_function_level_imports():
    graph = import_graph(ROOT)
    assert {"graphnet.cli", "graphnet.rng", "graphnet.core.layers"} <= set(graph)
    assert "graphnet.rng" in graph["graphnet.cli"]  # imported inside cmd_train only
