"""The README's examples stay true: its Python block runs and its TOML block is a valid config."""

import pathlib
import re

from graphnet.lab.config import parse_config

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def _block(lang):
    return re.search(rf"```{lang}\n(.*?)```", README.read_text(), re.S).group(1)


def test_python_example_runs(capsys):
    code = _block("python").replace("epochs=10", "epochs=1")   # same code, shorter
    exec(compile(code, str(README), "exec"), {})
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 4 and all("'name': 'threshold'" in line for line in lines)


def test_toml_example_is_a_valid_config():
    cfg = parse_config(_block("toml"), source="README.md", name="pruning")
    assert cfg.name == "pruning" and cfg.rounds == 4
    assert cfg.models == ("graph", "fixed-graph", "set", "mlp", "cnn")
