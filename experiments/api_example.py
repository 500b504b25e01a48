"""The lab through its Python API: the pruning experiment, then a look at what it wrote.

The same experiment as ``experiments/pruning.toml``, given as a dict: the 64-64-10 graph
on digits, pruned by a rising threshold A with retraining each round, against the same
graph never mutated, SET and the MLP. Run it from the project root::

    python experiments/api_example.py                 # about half a minute on 2 cores
    python experiments/api_example.py --tiny          # a few seconds, for a smoke test

It writes ``runs/api_example`` (``--out`` to change), prints the summary table, then
reads the run directory back: the per-round edges of the graph, the operators applied, and
the final network of seed 0 (a ``GraphNetwork``, ready for more operators).
"""

import argparse
import os

from graphnet.graph.network import GraphNetwork
from graphnet.lab.config import load_config, parse_config, with_overrides
from graphnet.lab.rundir import RunDir, read_history, read_metrics
from graphnet.lab.runner import default_workers, run_experiment
from graphnet.lab.summary import format_table

CONFIG = {
    "seeds": [0, 1, 2],
    "rounds": 6,
    "data": {"dataset": "digits", "validation": 0.1},
    "network": {"start": "layered", "hidden": [64], "activation": "tanh"},
    "train": {"epochs": 8, "batch_size": 32, "lr": 0.002},
    "mutation": {
        "accept": "always",
        "schedule": [{"op": "A", "a": {"start": 0.04, "step": 0.04}}],
    },
    "baselines": {"models": ["fixed-graph", "set", "mlp"], "set_fraction": 0.2},
}


def main(out="runs/api_example", *, tiny=False, workers=None):
    """Run the experiment into ``out`` and print what it found."""
    cfg = parse_config(CONFIG, source="api_example.py", name="api_example")
    # the TOML file describes the same experiment (only its name and description differ)
    toml = load_config(os.path.join(os.path.dirname(os.path.abspath(__file__)), "pruning.toml"))
    assert toml["mutation"] == cfg["mutation"] and toml["train"] == cfg["train"]
    if tiny:
        cfg = with_overrides(cfg, {"rounds": 2, "seeds": [0], "train": {"epochs": 2},
                                   "data": {"max_train": 200, "max_test": 100}})
    result = run_experiment(cfg, out, workers=workers or default_workers(), force=True,
                            plots=not tiny)
    print(format_table(result.table))

    rows = read_metrics(out)
    ends = [r for r in rows if r["model"] == "graph" and r["seed"] == 0
            and r["epoch"] == cfg["train"]["epochs"]]
    print("seed 0, graph: edges per round", [r["edges"] for r in ends],
          "test accuracy", [round(r["test_accuracy"], 4) for r in ends])
    thresholds = [round(h["args"]["a"], 3) for h in read_history(out)
                  if h["model"] == "graph" and h["seed"] == 0]
    print("thresholds applied:", thresholds)
    final = GraphNetwork.from_node_link(RunDir(out).snapshot("graph", 0, cfg.rounds))
    print(final.summary())
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/api_example")
    parser.add_argument("--tiny", action="store_true", help="a few seconds, for a smoke test")
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    main(args.out, tiny=args.tiny, workers=args.workers)
