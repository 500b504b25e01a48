"""The lottery run's figures and summary: the winning mask and the lottery-curve table."""

import re
from pathlib import Path

import numpy as np
import pytest

from graphnet.errors import InputTypeError
from graphnet.graph.network import GraphNetwork
from graphnet.lab import rundir as rd
from graphnet.lab.config import parse_config
from graphnet.lab.runner import run_experiment
from graphnet.lab.summary import write_summary

pytest.importorskip("matplotlib")
from graphnet.lab.plots import plot_run  # noqa: E402
from graphnet.lab.plots.lottery import (  # noqa: E402
    first_layer_mask, mask_spread, plot_winning_mask)


def _config(lottery=True):
    models = ["fixed-graph", "random-prune"] if lottery else ["fixed-graph"]
    rewind = "init" if lottery else "none"
    return parse_config(
        f'rounds = 2\nseeds = [0, 1]\n[data]\ndataset = "xor"\n[network]\nhidden = [8, 6]\n'
        f'[train]\nepochs = 1\nbatch_size = 16\n[mutation]\nrewind = "{rewind}"\n'
        f'[[mutation.schedule]]\nop = "prune_per_layer"\nfraction = 0.2\n'
        f'[baselines]\nmodels = {models!r}\n'.replace("'", '"'))


@pytest.fixture(scope="module")
def lottery_run(tmp_path_factory):
    path = tmp_path_factory.mktemp("lottery") / "run"
    res = run_experiment(_config(), path, plots=False, progress=False)
    names = {p.name for p in plot_run(res.path, gif=False)}
    return Path(res.path), names, write_summary(res.path)


def test_the_mask_figure_is_the_first_layer_of_the_last_snapshot(lottery_run):
    path, names, _ = lottery_run
    assert "lottery_mask_seed0.png" in names and "lottery_mask_seed1.png" not in names
    assert (path / "plots" / "lottery_mask_seed0.png").stat().st_size > 0
    net = GraphNetwork.from_node_link(rd.RunDir(path).snapshot("graph", 0, 2))
    # independent reference: rows = input nodes in input order, columns = depth-1 nodes
    W, depth = net.matrix(), net.depths()
    inputs = [i for i, role in enumerate(net.roles) if role == "input"]
    first = [j for j in range(net.n_nodes) if depth[j] == 1 and net.roles[j] != "input"]
    expected = W[np.ix_(inputs, first)] != 0
    assert expected.shape == (2, 8) and 0 < expected.sum() < expected.size  # it was pruned
    ref = GraphNetwork.from_node_link(rd.RunDir(path).snapshot("random-prune", 0, 2))
    fig = plot_winning_mask(net, reference=ref)
    image = np.asarray(fig.axes[0].images[0].get_array())
    assert image.shape == expected.shape and np.array_equal(image.astype(bool), expected)
    assert "(random-prune)" in fig.texts[0].get_text()


def test_the_summary_has_the_lottery_table_with_the_metrics_numbers(lottery_run):
    path, _, text = lottery_run
    assert "## Lottery curve" in text and "Rewind policy `init`" in text
    assert "- [lottery.png](plots/lottery.png)" in text
    assert "- [lottery_mask_seed0.png](plots/lottery_mask_seed0.png)" in text
    section = text.split("## Lottery curve", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if re.match(r"\| \d", line)]
    header = [c.strip() for c in section.splitlines()[2].strip("|").split("|")]
    assert header == ["round", "weights remaining", "graph", "fixed-graph", "random-prune"]
    metrics = rd.read_metrics(path)
    last = {}
    for r in metrics:  # the last epoch of each (model, seed, round)
        key = (r["model"], r["seed"], r["round"])
        if key not in last or r["epoch"] > last[key]["epoch"]:
            last[key] = r
    assert len(rows) == 3
    for rnd, line in enumerate(rows):
        cells = [c.strip() for c in line.strip("|").split("|")]
        frac = np.mean([last[("graph", s, rnd)]["edges"] / last[("graph", s, 0)]["edges"]
                        for s in (0, 1)])
        assert cells[:2] == [str(rnd), f"{100 * frac:.1f} %"]
        for model, cell in zip(header[2:], cells[2:]):
            acc = [last[(model, s, rnd)]["test_accuracy"] for s in (0, 1)]
            assert cell == f"{100 * np.mean(acc):.2f} ± {100 * np.std(acc, ddof=1):.2f} %"
    assert float(rows[-1].split("|")[2].strip(" %")) < 100.0


def test_a_run_without_lottery_gets_no_section_and_no_mask(tmp_path):
    res = run_experiment(_config(lottery=False), tmp_path / "run", plots=False, progress=False)
    names = {p.name for p in plot_run(res.path, gif=False)}
    assert names == {"learning_curves.png", "rounds.png", "comparison.png",
                     "evolution_seed0.png", "matrix_seed0.png",
                     "evolution_seed1.png", "matrix_seed1.png"}
    text = write_summary(res.path)
    assert "Lottery" not in text and "lottery" not in text


def test_mask_spread_sees_locality_and_is_reproducible():
    rng = np.random.default_rng(0)
    local = np.zeros((40, 100), dtype=bool)
    for j in range(100):
        c = rng.integers(0, 36)
        local[c:c + 4, j] = True  # four adjacent inputs: std sqrt(5 / 4)
    spread, random_spread = mask_spread(local)
    assert spread == pytest.approx(np.sqrt(1.25))
    assert 9 < random_spread < 12 and mask_spread(local) == (spread, random_spread)
    assert mask_spread(local, seed=1)[1] != random_spread
    # a random mask's spread matches its expectation
    rand = np.zeros((40, 400), dtype=bool)
    for j in range(400):
        rand[rng.choice(40, 4, replace=False), j] = True
    spread, random_spread = mask_spread(rand)
    assert spread == pytest.approx(random_spread, rel=0.05)
    assert all(np.isnan(mask_spread(np.eye(3, dtype=bool))))


def test_plot_winning_mask_errors():
    with pytest.raises(InputTypeError, match="first_layer_mask: net must be a GraphNetwork, got"):
        plot_winning_mask(np.zeros((3, 3)))
    net = GraphNetwork.layered([3, 2, 1], seed=0)
    with pytest.raises(InputTypeError, match="plot_winning_mask: reference must be"):
        plot_winning_mask(net, reference="random")
    W = np.zeros((2, 2))
    W[0, 1] = 1.0
    only_io = GraphNetwork.from_matrix(W, inputs=[0], outputs=[1])
    assert first_layer_mask(only_io).shape == (1, 1)  # the output is at depth 1
