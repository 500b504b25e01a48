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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from graphnet import errors
from graphnet.cli import main

from conftest import idx_bytes, tree_snapshot

# a small valid experiment to vary: xor, one seed, no mutation, one epoch
XOR = 'seeds = [0]\nrounds = 0\n[data]\ndataset = "xor"\n[train]\nepochs = 1\n' \
      '[baselines]\nmodels = []\n'


def _toml(extra: str = "", base: str = XOR) -> str:
    return base + extra


def _mnist_dir(n_train=20, n_test=10, *, labels=None, truncate_train=False) -> dict:
    """Files of a tiny MNIST directory (4x4 images, classes 0..3)."""
    rng = np.random.default_rng(0)
    files = {}
    for split, n in (("train", n_train), ("t10k", n_test)):
        images = idx_bytes(rng.integers(0, 256, size=(n, 4, 4)), np.uint8)
        y = np.arange(n) % 4 if labels is None or split == "t10k" else np.asarray(labels)
        if truncate_train and split == "train":
            images = images[:-7]
        files[f"mnist/{split}-images-idx3-ubyte"] = images
        files[f"mnist/{split}-labels-idx1-ubyte"] = idx_bytes(y, np.uint8)
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


def run_in(id, args, match, files):
    """`graphnet run ok.toml ARGS` refused: the user's files stay as they are."""
    return Row(id, {"ok.toml": XOR, **files}, argv=["run", "ok.toml", *args, "--no-plots"],
               code=2, match=match)


def _npz(**arrays) -> bytes:
    import io

    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _apply(op, **args):
    from graphnet.graph.network import GraphNetwork
    from graphnet.graph.registry import apply

    return apply(GraphNetwork.layered([2, 2], seed=0), op, **args)

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
        files={"x.idx": idx_bytes(np.arange(10), np.uint8)[:-3]}),
    api("data-idx-trailing-bytes", lambda p: _read_idx(p / "x.idx"), errors.DataError, "x.idx",
        files={"x.idx": idx_bytes(np.arange(10), np.uint8) + b"\x00\x00"}),
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
    run_in("rundir-force-user-folder", ["--out", "mine", "--force"], "mine is not a graphnet run",
           {"mine/notes.txt": "mine"}),
    run_in("rundir-force-current-dir", ["--out", ".", "--force"], "current directory",
           {"notes.txt": "mine"}),
    run_in("rundir-force-parent-dir", ["--out", "sub/..", "--force"], "current directory",
           {"sub/notes.txt": "mine"}),
    run_in("rundir-force-run-holding-user-file", ["--out", "r", "--force"], "notes.txt",
           {"r/state.json": '{"version": 1, "complete": true, "jobs": {}}',
            "r/notes.txt": "mine"}),
    run_in("rundir-force-other-format-version", ["--out", "r", "--force"], "r",
           {"r/state.json": '{"version": 99, "complete": true, "jobs": {}}'}),
    run_in("rundir-resume-user-metrics", ["--out", "mine", "--resume"], "not a graphnet run",
           {"mine/metrics.csv": "my,own,table\n"}),
    run_in("rundir-resume-user-config", ["--out", "mine", "--resume"], "not a graphnet run",
           {"mine/config.toml": "mine = 1\n"}),
    cli("rundir-compare-out-toml", ["compare", "norun", "--out", "x.toml"], ".png, .pdf, .svg"),
    cli("rundir-compare-out-dir", ["compare", "norun", "--out", "figs"], "is a directory",
        files={"figs/keep.txt": "mine"}),
    cli("rundir-compare-out-exists", ["compare", "norun"], "pass --force to replace it",
        files={"comparison.png": b"my own figure"}),
    cli("rundir-plot-state-only", ["plot", "r"], "r",
        files={"r/state.json": '{"version": 1, "complete": false, "jobs": {}}'}),
    # ------------------------------------------------------------------ checked whole, early
    config("data-mnist-label-255", _toml().replace('"xor"', '"mnist:mnist"'), "255",
           files=_mnist_dir(labels=[0, 1, 2, 3] * 4 + [255, 0, 1, 2])),
    config("data-mnist-truncated-train", _toml().replace('"xor"', '"mnist:mnist"'),
           "train-images", files=_mnist_dir(truncate_train=True)),
    cli("data-train-mnist-label-255", ["train", "--data", "mnist:mnist", "--model", "mlp"], "255",
        files=_mnist_dir(labels=[0, 1, 2, 3] * 4 + [255, 0, 1, 2])),
    config("data-label-over-n-classes",
           _toml().replace('"xor"', '"mnist:mnist"\nn_classes = 3'),
           "out of range for n_classes = 3",
           files=_mnist_dir()),
    cli("data-csv-missing", ["train", "--data", "csv:none.csv"], "none.csv: no such file"),
    cli("data-csv-not-a-number", ["train", "--data", "csv:d.csv", "--model", "mlp"], "abc",
        files={"d.csv": "1,2,0\n3,abc,1\n" * 10}),
    cli("data-csv-ragged", ["train", "--data", "csv:d.csv", "--model", "mlp"], "expected 3 columns",
        files={"d.csv": "1,2,0\n3,1\n" * 10}),
    cli("data-csv-float-label", ["train", "--data", "csv:d.csv", "--model", "mlp"],
        "d.csv: line 1, column 3: label '0.5' is not an integer",
        files={"d.csv": "1,2,0.5\n3,1,1\n" * 10}),
    cli("data-csv-one-class", ["train", "--data", "csv:d.csv", "--model", "mlp"], "class",
        files={"d.csv": "1,2,0\n3,1,0\n" * 10}),
    cli("data-csv-label-unknown", ["train", "--data", "csv:d.csv", "--label", "kind",
                                   "--model", "mlp"], "kind",
        files={"d.csv": "a,b,c\n" + "1,2,0\n3,1,1\n" * 10}),
    cli("data-csv-nan-feature", ["train", "--data", "csv:d.csv", "--model", "mlp"],
        "d.csv: line 1, column 2: 'nan' is not finite",
        files={"d.csv": "1,nan,0\n3,1,1\n" * 10}),
    cli("data-npz-missing-X", ["train", "--data", "npz:d.npz", "--model", "mlp"], "X",
        files={"d.npz": _npz(y=np.arange(20) % 2)}),
    cli("data-npz-lengths", ["train", "--data", "npz:d.npz", "--model", "mlp"],
        "holds 20 samples but 'y' 19", files={"d.npz": _npz(X=np.zeros((20, 3)), y=np.arange(19) % 2)}),
    cli("data-npz-not-npz", ["train", "--data", "npz:d.npz", "--model", "mlp"],
        "d.npz: not a NumPy .npz archive (no zip signature)", files={"d.npz": "plain text"}),
    config("size-hidden-huge", _toml("[network]\nhidden = [10000000]\n"), "TiB"),
    config("size-rounds-absurd", _toml().replace("rounds = 0", "rounds = 1000000000"), "--yes"),
    # ------------------------------------------------------------------ operators, networks
    api("op-F-overflows", lambda p: _apply("F", src=0, dst=1, k=1e300), errors.OperatorError,
        "too large to train"),
    api("op-N-infinite", lambda p: _apply("N", i=0, j=3, value=float("inf")), errors.GraphnetError,
        "value"),
    cli("cli-ops-unknown", ["ops", "Z"], "known: A threshold"),
    cli("cli-show-missing", ["show", "none.json"], "none.json"),
    cli("cli-show-not-a-network", ["show", "n.json"], "not a graphnet network",
        files={"n.json": '{"a": 1}'}),
    cli("cli-show-a-directory", ["show", "d"], "d: is a directory", files={"d/keep.txt": "mine"}),
    cli("cli-export-format", ["export", "n.json", "--format", "png"], "choose from 'graphml'",
        files={"n.json": _network_json()}),
    cli("cli-export-exists", ["export", "n.json", "--format", "graphml"], "n.graphml",
        files={"n.json": _network_json(), "n.graphml": "mine"}),
    cli("cli-export-onto-input", ["export", "n.json", "--format", "json", "--out", "n.json",
                                  "--force"], "n.json", files={"n.json": _network_json()}),
    cli("cli-train-diverges", ["train", "--model", "mlp", "--lr", "1e6", "--epochs", "2"],
        "try a lower learning rate"),
    # ------------------------------------------------------------------ accepted on purpose
    Row("ok-resume-missing-folder-starts-fresh", {"ok.toml": XOR},
        argv=["run", "ok.toml", "--out", "fresh", "--resume", "--no-plots", "--no-progress"],
        accepted="--resume where nothing was run yet is a fresh start (scripts can always pass it)",
        check=lambda p, out: (p / "fresh" / "metrics.csv").is_file()),
    Row("ok-force-empty-folder", {"ok.toml": XOR, "empty": None},
        argv=["run", "ok.toml", "--out", "empty", "--force", "--no-plots", "--no-progress"],
        accepted="an empty folder holds nothing to lose; --force is harmless there",
        check=lambda p, out: (p / "empty" / "metrics.csv").is_file()),
    Row("ok-seeds-trailing-comma", {"ok.toml": XOR},
        argv=["run", "ok.toml", "--seeds", "0,1,", "--out", "r", "--no-plots", "--no-progress"],
        accepted="a trailing comma in a list of seeds is a common typing habit",
        check=lambda p, out: "2 seeds" in out),
    Row("ok-csv-with-header", {"d.csv": "a,b,label\n" + "0,0,0\n1,1,1\n" * 20},
        argv=["train", "--data", "csv:d.csv", "--model", "mlp", "--epochs", "1"],
        accepted="a non-numeric first row of a csv file is its header",
        check=lambda p, out: "test accuracy" in out),
]



def _read_idx(path):
    from graphnet.idxfiles import read_idx

    return read_idx(path)


def _check(X, y):
    from graphnet.dataprep import check_dataset

    check_dataset(X, y)


def _split(**kw):
    from graphnet.dataprep import train_test_split

    return train_test_split(np.zeros((10, 2)), np.arange(10) % 2, seed=0, **kw)


def _one_hot(y, n):
    from graphnet.dataprep import one_hot

    return one_hot(y, n)


def _node_link(path):
    from graphnet.graph.network import GraphNetwork

    return GraphNetwork.from_node_link(str(path))


def _graphml(path):
    from graphnet.graph.network import GraphNetwork

    return GraphNetwork.from_graphml(str(path))


# ----------------------------------------------------------------------------- the harness


def _make(root: Path, files: dict) -> None:
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if content is None:  # an empty folder
            p.mkdir()
        elif isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content)


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_bad_input(row, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    _make(tmp_path, row.files)
    before = tree_snapshot(tmp_path, modes=True)
    if row.argv is not None:
        try:
            code = main(row.argv)
        except SystemExit as exc:  # argparse
            code = exc.code
        out, err = capsys.readouterr()
        if row.accepted:
            assert code == 0, err
            assert row.check(tmp_path, out), out
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
    assert tree_snapshot(tmp_path, modes=True) == before, "a refused input changed or created files"


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
