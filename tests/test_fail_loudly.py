"""Fail loudly (issue 8): divergence in fit, train and run; operators whose result is not
finite; rounds that cut an output off from every input (``[mutation] on_disconnected``)."""

import json
import os

import numpy as np
import pytest

from graphnet.cli import main
from graphnet.core.layers import Dense, Softmax
from graphnet.core.model import Sequential
from graphnet.data import load_dataset, xor
from graphnet.errors import ConfigError, DivergenceError, OperatorError
from graphnet.graph.network import GraphNetwork
from graphnet.graph.extras import add_edge
from graphnet.graph.gate import MAX_WEIGHT
from graphnet.graph.operators import add_scaled_row
from graphnet.graph.registry import apply
from graphnet.lab.config import parse_config
from graphnet.models import mlp
from graphnet.train import fit

class _Result:
    def __init__(self, returncode, stdout, stderr):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def _graphnet(capsys, *args):
    """The real CLI in this process (its errors, stdout and stderr as a user sees them)."""
    capsys.readouterr()
    code = main(list(args))
    out = capsys.readouterr()
    return _Result(code, out.out, out.err)


def _xor_config(path, *, rounds=1, models="[]", lr=0.05, mutation="", schedule=""):
    text = (f'rounds = {rounds}\nseeds = [0]\n[data]\ndataset = "xor"\n'
            f'[network]\nstart = "random"\nn_hidden = 4\ndensity = 0.6\n'
            f'[train]\nepochs = 3\nbatch_size = 4\nlr = {lr}\n'
            f'[mutation]\n{mutation}\n{schedule}\n[baselines]\nmodels = {models}\n')
    path.write_text(text)
    return str(path)


def _parts(run, model="graph", seed=0):
    d = run / "parts" / model / f"seed{seed}"
    return sorted(os.listdir(d)) if d.is_dir() else []


# ----------------------------------------------------------------------------- fit


def test_guard_stops_a_huge_rate_and_lets_healthy_fits_run():
    X, y = xor()
    # healthy: the xor recipe and a digits MLP at its usual rate, no error
    h = fit(mlp(2, [4], 2, seed=0), X, y, lr=0.05, epochs=300, batch_size=4, seed=0)
    assert h.last["accuracy"] == 1.0
    ds = load_dataset("digits", seed=0)
    h = fit(mlp(64, [64], 10, seed=0), ds.X_train, ds.y_train, lr=1e-3, epochs=5, seed=0)
    assert h.last["accuracy"] > 0.8
    # lr = 1e6: the clipped cross-entropy stays finite; the guard sees the rise
    with pytest.raises(DivergenceError, match=r"fit: the mean loss \S+ in epoch 1, batch 1 to "
                                              r"\d+, is more than 4x the loss at the start .*"
                                              r"try a lower learning rate than lr=1e\+06"):
        fit(mlp(64, [64], 10, seed=0), ds.X_train, ds.y_train, lr=1e6, epochs=5, seed=0)
    with pytest.raises(DivergenceError, match=r"epoch \d+, batch \d+.*lr=1e\+06"):
        fit(mlp(2, [4], 2, seed=0), X, y, lr=1e6, epochs=50, batch_size=4, seed=0)


def test_a_loss_at_its_ceiling_for_a_whole_epoch_is_divergence():
    # every sample is class 0 and the model says class 1 with p = 1: each batch's loss is
    # the clipped cross-entropy's ceiling, -ln(1e-12); the tiny rate cannot move it
    dense = Dense(2, 2, rng=0)
    dense.params["W"][...] = 0.0
    dense.params["b"][...] = [-100.0, 100.0]
    model = Sequential([dense, Softmax()])
    X, y = np.ones((8, 2)), np.zeros(8, dtype=int)
    with pytest.raises(DivergenceError, match=r"stayed at its ceiling 27\.631\d \(its largest "
                                              r"value.*\) in epoch 1, batch 1 to 2 \(every "
                                              r"batch\).*lower learning rate than lr=1e-09"):
        fit(model, X, y, optimizer="sgd", lr=1e-9, epochs=3, batch_size=4, seed=0)


def test_a_step_that_makes_a_parameter_non_finite_is_divergence():
    X, y = xor()
    model = Sequential([Dense(2, 2, rng=0)])  # linear: outputs of 1e10 stay finite
    # squared error on inputs of 1e10: a gradient of ~1e20 times lr = 1e300 overflows to inf
    with pytest.raises(DivergenceError, match=r"parameter \d became non-finite after the step "
                                              r"in epoch 1, batch 1;.*lr=1e\+300"):
        fit(model, X * 1e10, y, loss="squared_error", optimizer="sgd", lr=1e300, epochs=2,
            batch_size=4, seed=0)


def test_train_cli_with_a_huge_rate_exits_non_zero_with_the_message(capsys):
    res = _graphnet(capsys, "train", "--model", "mlp", "--lr", "1e6", "--no-progress")
    assert res.returncode == 2, res.stdout
    assert "graphnet train: error: fit: the mean loss" in res.stderr
    assert "in epoch 1, batch 1 to" in res.stderr
    assert "try a lower learning rate than lr=1e+06" in res.stderr
    assert "test accuracy" not in res.stdout


def test_run_with_a_huge_rate_names_the_job_and_stays_resumable(tmp_path, capsys):
    config = _xor_config(tmp_path / "lr.toml", rounds=2, lr=1e6, models='["mlp"]')
    run = tmp_path / "run"
    for flags in ((), ("--resume",)):
        res = _graphnet(capsys, "run", config, "--out", str(run), "--workers", "1",
                        "--no-plots", "--no-progress", *flags)
        assert res.returncode == 2, res.stderr
        assert "graphnet run: error: seed 0 graph round 0: fit: " in res.stderr
        assert "try a lower learning rate than lr=1e+06; no round is saved yet" in res.stderr
        assert "Traceback" not in res.stderr
        # nothing of the diverged round is written: no part, snapshot or checkpoint
        assert _parts(run) == []
        assert not (run / "checkpoints").exists() or not any((run / "checkpoints").rglob("*"))
        assert json.loads((run / "state.json").read_text())["complete"] is False


# ----------------------------------------------------------------------------- operators

_NET = GraphNetwork.layered([2, 3, 2], seed=0)


@pytest.mark.parametrize("op, args", [
    ("F", {"src": 2, "dst": 3, "k": 1e300}),
    ("C", {"src": 2, "dst": 5, "k": 1e300}),
    ("N", {"i": 0, "j": 2, "value": 1e300}),
    ("add_edge", {"i": 0, "j": 5, "weight": -1e200}),
    ("regrow", {"n": 2, "seed": 0, "scale": 1e300}),
])  # (a result that overflows to inf: tests/test_operators.py::test_overflow_is_refused)
def test_an_operator_whose_result_is_not_finite_is_refused(op, args):
    before = _NET.matrix().copy()
    with pytest.raises(OperatorError, match=r"result has a (non-finite weight|weight too large "
                                            r"to train) W\[\d+, \d+\] = .*the network is "
                                            r"unchanged"):
        apply(_NET, op, repair=True, **args)
    np.testing.assert_array_equal(_NET.matrix(), before)


def test_public_operators_refuse_weights_above_max_weight():
    with pytest.raises(OperatorError, match="too large to train"):
        add_scaled_row(_NET, 2, 3, 1e300)
    with pytest.raises(OperatorError, match="too large to train"):
        add_edge(_NET, 0, 5, 2 * MAX_WEIGHT)
    assert add_edge(_NET, 0, 5, MAX_WEIGHT).matrix()[0, 5] == MAX_WEIGHT


def test_run_records_a_huge_F_as_refused_without_runtime_warnings(tmp_path, capsys):
    # a RuntimeWarning would also fail the test itself (pyproject: error::RuntimeWarning)
    config = _xor_config(tmp_path / "f.toml", rounds=2,
                         schedule='[[mutation.schedule]]\nop = "F"\nk = 1e300')
    res = _graphnet(capsys, "run", config, "--out", str(tmp_path / "run"), "--workers", "1",
                    "--no-plots", "--no-progress")
    assert res.returncode == 0, res.stderr
    assert "RuntimeWarning" not in res.stderr and "overflow encountered" not in res.stderr
    history = [json.loads(line) for line in (tmp_path / "run" / "history.jsonl").open()]
    assert [h["round"] for h in history] == [1, 2]
    for h in history:
        assert h["name"] == "add_scaled_row"
        assert "too large to train" in h["error"] and "network is unchanged" in h["error"]
    summary = (tmp_path / "run" / "summary.md").read_text()
    assert "| graph | add_scaled_row | F | 0 | 0 | 2 |" in summary  # applied, kept, refused


# ----------------------------------------------------------------------------- disconnected

_CUT_ALL = '[[mutation.schedule]]\nop = "A"\na = 1e6'  # deletes every edge


def _cut_run(tmp_path, capsys, policy, *extra, models="[]"):
    config = _xor_config(tmp_path / f"{policy}.toml", rounds=2, models=models,
                         mutation=f'on_disconnected = "{policy}"', schedule=_CUT_ALL)
    run = tmp_path / policy
    res = _graphnet(capsys, "run", config, "--out", str(run), "--no-plots", "--no-progress",
                    *extra)
    return res, run


def test_on_disconnected_warn_tells_stderr_and_summary_from_pool_workers(tmp_path, capsys):
    res, run = _cut_run(tmp_path, capsys, "warn", "--workers", "2", models='["fixed-graph"]')
    assert res.returncode == 0, res.stderr
    line = ("graphnet run: warning: seed 0 graph round 1: outputs y0, y1 (2 of 2) have no path "
            "from any input after threshold; the round trains it anyway")
    assert line in res.stderr
    assert res.stderr.count("graphnet run: warning:") == 1  # round 2 cuts nothing new
    part = json.loads((run / "parts" / "graph" / "seed0" / "round001.json").read_text())
    assert [(w["outputs"], w["action"]) for w in part["warnings"]] == [(["y0", "y1"], "warn")]
    summary = (run / "summary.md").read_text()
    assert "## Warnings" in summary
    assert "- seed 0 graph round 1: outputs y0, y1 (2 of 2) have no path from any input" in summary
    rows = [json.loads(x) for x in (run / "history.jsonl").open()]
    assert all(h["accepted"] for h in rows)


def test_on_disconnected_stop_ends_the_run_naming_the_round(tmp_path, capsys):
    res, run = _cut_run(tmp_path, capsys, "stop", "--workers", "1")
    assert res.returncode == 2
    assert ("graphnet run: error: seed 0 graph round 1: outputs y0, y1 (2 of 2) have no path "
            "from any input after threshold; the run stops") in res.stderr
    assert "rounds 0..0 are saved" in res.stderr
    assert _parts(run) == ["round000.json"]  # round 0 kept, round 1 never written
    assert json.loads((run / "state.json").read_text())["complete"] is False
    again, _ = _cut_run(tmp_path, capsys, "stop", "--workers", "1", "--resume")
    assert again.returncode == 2 and "seed 0 graph round 1:" in again.stderr
    assert "Traceback" not in again.stderr


def test_on_disconnected_rollback_keeps_the_previous_network(tmp_path, capsys):
    res, run = _cut_run(tmp_path, capsys, "rollback", "--workers", "1")
    assert res.returncode == 0, res.stderr
    assert res.stderr.count("the mutation is rolled back") == 2  # rounds 1 and 2
    history = [json.loads(x) for x in (run / "history.jsonl").open()]
    assert [(h["round"], h["name"], h["accepted"], h["error"]) for h in history] == \
        [(1, "threshold", False, None), (2, "threshold", False, None)]
    snapshot = json.loads((run / "snapshots" / "graph" / "seed0" / "round002.json").read_text())
    start = json.loads((run / "snapshots" / "graph" / "seed0" / "round000.json").read_text())
    assert len(snapshot["links"]) == len(start["links"]) > 0
    assert "the mutation is rolled back" in (run / "summary.md").read_text()


def test_on_disconnected_takes_only_its_three_values():
    text = 'rounds = 1\n[data]\ndataset = "xor"\n[mutation]\non_disconnected = "{}"\n'
    assert parse_config(text.format("rollback"))["mutation"]["on_disconnected"] == "rollback"
    with pytest.raises(ConfigError, match=r"\[mutation\] on_disconnected.*warn.*stop.*rollback"):
        parse_config(text.format("ignore"))
