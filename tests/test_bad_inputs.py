"""The catalogue of bad inputs: every row is something a user can get wrong.

Each row names the input, what must come back (a CLI exit code and a fragment of its error
line, or an exception type and a message fragment) and is run in an empty directory that
holds only the row's files; afterwards every file there must be byte-for-byte as it was and
nothing may have been added: a refusal touches nothing. Rows marked ``accepted`` are
unusual inputs graphnet accepts on purpose; they say why, and check what they produce.

The counts of the catalogue (clear errors / accepted on purpose) are what
``test_catalogue_size`` prints; there is no "still silent" row: every row asserts.
"""

from __future__ import annotations

import gzip
import json
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from graphnet import errors
from graphnet.cli import main

# a small valid experiment to vary: xor, one seed, no mutation, one epoch
XOR = 'seeds = [0]\nrounds = 0\n[data]\ndataset = "xor"\n[train]\nepochs = 1\n' \
      '[baselines]\nmodels = []\n'


def _toml(extra: str = "", base: str = XOR) -> str:
    return base + extra


def _idx(data: np.ndarray, type_byte: int = 0x08) -> bytes:
    """An IDX file's bytes: magic, dims, big-endian data."""
    dt = {0x08: ">u1", 0x0C: ">i4", 0x0D: ">f4"}[type_byte]
    head = bytes([0, 0, type_byte, data.ndim]) + b"".join(struct.pack(">I", d) for d in data.shape)
    return head + data.astype(dt).tobytes()


def _mnist_dir(n_train=20, n_test=10, *, labels=None, truncate_train=False) -> dict:
    """Files of a tiny MNIST directory (4x4 images, classes 0..3)."""
    rng = np.random.default_rng(0)
    files = {}
    for split, n in (("train", n_train), ("t10k", n_test)):
        images = _idx(rng.integers(0, 256, size=(n, 4, 4)))
        y = np.arange(n) % 4 if labels is None or split == "t10k" else np.asarray(labels)
        if truncate_train and split == "train":
            images = images[:-7]
        files[f"mnist/{split}-images-idx3-ubyte"] = images
        files[f"mnist/{split}-labels-idx1-ubyte"] = _idx(y)
    return files


def _network_json(sizes=(2, 2), node0=None) -> str:
    """A valid layered feedforward network as node-link JSON; ``node0`` changes its first node."""
    from graphnet.graph.network import GraphNetwork

    data = GraphNetwork.layered(list(sizes), seed=0).to_node_link()
    data["nodes"][0].update(node0 or {})
    return json.dumps(data)


# ----------------------------------------------------------------------------- the table


@dataclass
class Row:
    id: str
    files: dict = field(default_factory=dict)
    argv: list | None = None            # a CLI row ...
    code: int = 2
    call: Callable | None = None        # ... or an API row: call(tmp_path)
    error: type | None = None
    match: str = ""
    accepted: str = ""                  # why this unusual input is fine
    check: Callable | None = None       # for accepted rows: check(tmp_path, stdout)


def cli(id, argv, match, files=None, code=2):
    return Row(id, files or {}, argv=argv, code=code, match=match)


def api(id, call, error, match, files=None):
    return Row(id, files or {}, call=call, error=error, match=match)


def config(id, text, match, files=None):
    """`graphnet run bad.toml`: a ConfigError naming the key, before anything runs."""
    return Row(id, {"bad.toml": text, **(files or {})}, argv=["run", "bad.toml", "--no-plots"],
               code=2, match=match)


ROWS = [
    # ------------------------------------------------------------------ configs
    config("config-not-toml", "rounds = = 1\n", "not valid TOML"),
    config("config-unknown-top-key", _toml("colour = 1\n"), "colour"),
    config("config-rounds-negative", _toml().replace("rounds = 0", "rounds = -1"),
           "rounds: expected an integer >= 0, got -1"),
    config("config-rounds-string", _toml().replace("rounds = 0", 'rounds = "3"'), "rounds"),
    config("config-seed-twice", _toml().replace("seeds = [0]", "seeds = [0, 0]"),
           "listed twice"),
    config("config-seed-negative", _toml().replace("seeds = [0]", "seeds = [-1]"), "seeds"),
    config("config-seeds-empty", _toml().replace("seeds = [0]", "seeds = []"), "seeds"),
    config("config-dataset-unknown", _toml().replace('"xor"', '"imagenet"'), "imagenet"),
    config("config-dataset-number", _toml().replace('"xor"', "3"), "[data] dataset"),
    config("config-test-size", XOR.replace("[train]", "test_size = 1.5\n[train]"), "test_size"),
    config("config-validation-one", XOR.replace("[train]", "validation = 1\n[train]"),
           "validation"),
    config("config-scale", XOR.replace("[train]", 'scale = "big"\n[train]'), "scale"),
    config("config-n-samples-not-spirals", XOR.replace("[train]", "n_samples = 10\n[train]"),
           "n_samples"),
    config("config-mnist-missing", _toml().replace('"xor"', '"mnist:nowhere"'),
           "does not exist"),
    config("config-start-unknown", _toml('[network]\nstart = "tree"\n'), "start"),
    config("config-hidden-zero", _toml("[network]\nhidden = [0]\n"), "hidden"),
    config("config-density-zero", _toml('[network]\nstart = "random"\ndensity = 0\n'),
           "density"),
    config("config-activation", _toml('[network]\nactivation = "gelu"\n'), "activation"),
    config("config-network-file-missing", _toml('[network]\nstart = "file"\npath = "n.json"\n'),
           "n.json"),
    config("config-layered-sizes-mismatch", _toml("[network]\nsizes = [3, 4, 2]\n"), "sizes"),
    config("config-lr-negative", XOR.replace("epochs = 1", "epochs = 1\nlr = -1"),
           "[train] lr: expected a positive number, got -1"),
    config("config-epochs-zero", XOR.replace("epochs = 1", "epochs = 0"), "epochs"),
    config("config-optimizer", XOR.replace("epochs = 1", 'epochs = 1\noptimizer = "rmsprop"'),
           "optimizer"),
    config("config-dtype", XOR.replace("epochs = 1", 'epochs = 1\ndtype = "float16"'), "dtype"),
    config("config-loss", XOR.replace("epochs = 1", 'epochs = 1\nloss = "hinge"'), "loss"),
    config("config-batch-size-float", XOR.replace("epochs = 1", "epochs = 1\nbatch_size = 2.5"),
           "batch_size"),
    config("config-accept", _toml('[mutation]\naccept = "sometimes"\n'), "accept"),
    config("config-if-better-without-validation",
           XOR.replace("[train]", "validation = 0\n[train]") + '[mutation]\naccept = "if-better"\n',
           "validation"),
    config("config-op-unknown", _toml('[[mutation.schedule]]\nop = "Z"\n'), "Z"),
    config("config-op-unknown-arg", _toml('[[mutation.schedule]]\nop = "A"\ncolour = 1\n'),
           "colour"),
    config("config-op-p", _toml('[[mutation.schedule]]\nop = "H"\np = 2\n'), "p"),
    config("config-op-every", _toml('[[mutation.schedule]]\nop = "H"\nevery = 0\n'), "every"),
    config("config-op-range-reversed", _toml('[[mutation.schedule]]\nop = "F"\nk = [1, -1]\n'),
           "k"),
    config("config-op-index-out-of-range",
           _toml('[[mutation.schedule]]\nop = "B"\ni = 0\nj = 99\n'), "99"),
    config("config-baseline-unknown", XOR.replace("models = []", 'models = ["rnn"]'), "rnn"),
    config("config-cnn-on-flat-data", XOR.replace("models = []", 'models = ["cnn"]'), "cnn"),
    config("config-name-path", 'name = "a/b"\n' + XOR, "name"),
    config("config-front-on-flat-data", _toml("[network.front]\nchannels = 2\n"), "front"),
    cli("config-missing-file", ["run", "nothing.toml"], "no such config file"),
    cli("config-is-a-directory", ["run", "adir"], "adir", files={"adir/keep": "x"}),
    cli("config-not-utf8", ["run", "bin.toml"], "cannot read", files={"bin.toml": b"\xff\xfe\x00"}),
    # ------------------------------------------------------------------ command line
    cli("cli-no-command", [], "required"),
    cli("cli-unknown-command", ["fly"], "invalid choice"),
    cli("cli-run-workers-zero", ["run", "--workers", "0"], "positive"),
    cli("cli-run-seeds-letters", ["run", "--seeds", "a,b"], "comma-separated"),
    cli("cli-run-seeds-negative", ["run", "--seeds", "-1"], "comma-separated"),
    cli("cli-run-resume-and-force", ["run", "--resume", "--force"], "not allowed with"),
    cli("cli-train-lr-negative", ["train", "--lr", "-1"], "positive"),
    cli("cli-train-lr-nan", ["train", "--lr", "nan"], "positive finite"),
    cli("cli-train-data-unknown", ["train", "--data", "imagenet"], "imagenet"),
    cli("cli-train-mnist-without-path", ["train", "--data", "mnist:"], "mnist"),
    cli("cli-train-model-unknown", ["train", "--model", "rnn"], "invalid choice"),
    cli("cli-train-epochs-zero", ["train", "--epochs", "0"], "positive"),
    cli("cli-train-batch-size-text", ["train", "--batch-size", "ten"], "ten"),
    cli("cli-audit-seed-negative", ["audit", "--seed", "-1"], "non-negative"),
    cli("cli-plot-missing-run", ["plot", "norun"], "norun"),
    cli("cli-plot-not-a-run", ["plot", "mine"], "mine", files={"mine/notes.txt": "mine"}),
    cli("cli-compare-missing-run", ["compare", "norun"], "norun"),
    cli("cli-compare-no-run", ["compare"], "RUN"),
    # ------------------------------------------------------------------ data files
    cli("data-mnist-empty-dir", ["train", "--data", "mnist:mnist"], "mnist",
        files={"mnist/readme.txt": "no idx here"}),
    api("data-idx-bad-magic", lambda p: _read_idx(p / "x.idx"), errors.DataError, "magic",
        files={"x.idx": b"\x01\x02\x08\x01\x00\x00\x00\x01\x00"}),
    api("data-idx-truncated", lambda p: _read_idx(p / "x.idx"), errors.DataError, "x.idx",
        files={"x.idx": _idx(np.arange(10))[:-3]}),
    api("data-idx-trailing-bytes", lambda p: _read_idx(p / "x.idx"), errors.DataError, "x.idx",
        files={"x.idx": _idx(np.arange(10)) + b"\x00\x00"}),
    api("data-idx-bad-gzip", lambda p: _read_idx(p / "x.idx"), errors.DataError, "x.idx",
        files={"x.idx": b"\x1f\x8b" + b"\x00" * 20}),
    api("data-idx-missing", lambda p: _read_idx(p / "none.idx"), FileNotFoundError, "none.idx"),
    api("data-x-with-nan", lambda p: _check(np.array([[0.0, np.nan]]), np.array([0])),
        errors.DataError, "finite"),
    api("data-x-y-lengths", lambda p: _check(np.zeros((3, 2)), np.array([0, 1])),
        errors.InputError, "y: expected 3 rows"),
    api("data-split-test-size-zero", lambda p: _split(test_size=0.0), errors.InputError,
        "test_size"),
    api("data-one-hot-label-too-big", lambda p: _one_hot(np.array([0, 3]), 2),
        errors.InputError, "3"),
    # ------------------------------------------------------------------ network files
    api("net-invalid-json", lambda p: _node_link(p / "n.json"), errors.GraphnetError, "n.json",
        files={"n.json": "{not json"}),
    api("net-json-not-a-network", lambda p: _node_link(p / "n.json"), errors.GraphnetError,
        "n.json", files={"n.json": '{"hello": 1}'}),
    api("net-json-missing-file", lambda p: _node_link(p / "none.json"), FileNotFoundError,
        "none.json"),
    api("net-bad-role", lambda p: _node_link(p / "n.json"), errors.GraphError, "role",
        files={"n.json": _network_json(node0={"role": "boss"})}),
    api("net-graphml-not-xml", lambda p: _graphml(p / "n.graphml"), errors.GraphnetError,
        "n.graphml", files={"n.graphml": "plain text"}),
    config("net-file-wrong-inputs",
           _toml('[network]\nstart = "file"\npath = "n.json"\n').replace('"xor"', '"spirals"'),
           "input", files={"n.json": _network_json(sizes=(3, 2))}),
    # ------------------------------------------------------------------ run directories
    Row("rundir-exists-no-flag", {"ok.toml": XOR, "runs/ok/notes.txt": "mine"},
        argv=["run", "ok.toml", "--out", "runs/ok", "--no-plots"], code=2, match="runs/ok"),
    Row("rundir-out-is-a-file", {"ok.toml": XOR, "out.txt": "mine"},
        argv=["run", "ok.toml", "--out", "out.txt", "--no-plots"], code=2, match="out.txt"),
]


def _read_idx(path):
    from graphnet.data import read_idx

    return read_idx(path)


def _check(X, y):
    from graphnet.data import check_dataset

    check_dataset(X, y)


def _split(**kw):
    from graphnet.data import train_test_split

    return train_test_split(np.zeros((10, 2)), np.arange(10) % 2, seed=0, **kw)


def _one_hot(y, n):
    from graphnet.data import one_hot

    return one_hot(y, n)


def _node_link(path):
    from graphnet.graph.network import GraphNetwork

    return GraphNetwork.from_node_link(str(path))


def _graphml(path):
    from graphnet.graph.network import GraphNetwork

    return GraphNetwork.from_graphml(str(path))


# ----------------------------------------------------------------------------- the harness


def _tree(root: Path) -> dict:
    """Every file and folder under ``root``: path -> (bytes or None for a folder, mode)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames:
            p = Path(dirpath, name)
            out[str(p.relative_to(root))] = (None, p.stat().st_mode)
        for name in filenames:
            p = Path(dirpath, name)
            out[str(p.relative_to(root))] = (p.read_bytes(), p.stat().st_mode)
    return out


def _make(root: Path, files: dict) -> None:
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content)


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_bad_input(row, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    _make(tmp_path, row.files)
    before = _tree(tmp_path)
    if row.argv is not None:
        try:
            code = main(row.argv)
        except SystemExit as exc:  # argparse
            code = exc.code
        out, err = capsys.readouterr()
        if row.accepted:
            assert code == 0, err
            row.check(tmp_path, out)
            return
        assert code == row.code, f"exit {code}; stderr: {err}"
        assert "Traceback" not in err
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert lines, "no error message on stderr"
        assert row.match in err, err
    else:
        with pytest.raises(row.error) as info:
            row.call(tmp_path)
        assert row.match in str(info.value), str(info.value)
    assert _tree(tmp_path) == before, "a refused input changed or created files"


def test_catalogue_size(capsys):
    ids = [r.id for r in ROWS]
    assert len(ids) == len(set(ids)), "row ids must be unique"
    accepted = sum(bool(r.accepted) for r in ROWS)
    areas = {}
    for r in ROWS:
        areas[r.id.split("-")[0]] = areas.get(r.id.split("-")[0], 0) + 1
    with capsys.disabled():
        print(f"\nbad-input catalogue: {len(ROWS)} rows, {len(ROWS) - accepted} clear errors, "
              f"{accepted} accepted on purpose, by area {areas}")
    assert len(ROWS) - accepted >= 60
