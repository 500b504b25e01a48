"""XOR grown from nothing: graphnet's search against neat-python's own XOR example, one run.

Both start minimal (inputs wired straight to outputs, no hidden node) and stop a seed as soon
as its best network solves XOR:

``graphnet``
    ``experiments/xor_grow.toml`` through :func:`graphnet.lab.search.run_search`, one worker
    (population 30, split_edge / add_edge / A / N, each candidate trained by backprop from its
    parent's weights, Pareto on validation accuracy and edges, stop at all four points right).
``neat``
    neat-python's ``examples/xor/evolve-feedforward.py`` as it is (fitness ``4 - sum of squared
    errors``, up to 300 generations) with its ``config-feedforward`` (``neat_xor.cfg`` beside
    this file: population 150, fitness threshold 3.9), seeded through ``random.seed(seed)``.
    Only when neat-python is importable (``pip install neat-python``; never a graphnet
    dependency).

Per side: solved seeds, networks (genomes) evaluated per solved seed, wall time per seed and
in all, and the winners' size: hidden nodes and connections (NEAT: enabled connection genes;
graphnet: edges). graphnet's XOR has two softmax outputs (one per class), NEAT's one sigmoid
output, so graphnet's minimal network has 4 edges to NEAT's 2.

Run from the project root::

    python benchmarks/bench_search_xor.py                    # 20 seeds each, about a minute
    python benchmarks/bench_search_xor.py --quick            # 2 seeds, NEAT 1 seed x 5 gens
    python benchmarks/bench_search_xor.py --json out.json --no-neat
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

try:
    from benchmarks import harness
except ImportError:  # run as a script, or loaded by file path: harness.py is beside this file
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import harness

import numpy as np  # noqa: E402

from graphnet.lab.config import load_config, with_overrides  # noqa: E402
from graphnet.lab.search import run_search  # noqa: E402
from graphnet.lab.summary import mean_std  # noqa: E402

__all__ = ["neat_available", "run_graphnet", "run_neat", "bench", "format_report", "main"]

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "experiments" / "xor_grow.toml"
NEAT_CFG = Path(__file__).with_name("neat_xor.cfg")
NEAT_GENERATIONS = 300            # evolve-feedforward.py: p.run(eval_genomes, 300)
XOR_INPUTS = [(0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0)]
XOR_OUTPUTS = [(0.0,), (1.0,), (1.0,), (0.0,)]


def neat_available() -> bool:
    """Whether neat-python can be imported (never a graphnet dependency)."""
    return importlib.util.find_spec("neat") is not None


def _summary(runs, seeds) -> dict:
    """Per-seed rows -> the side's figures (means over solved seeds for evaluations, size)."""
    solved = [r for r in runs if r["solved"]]
    evals = mean_std([r["evaluations"] for r in solved])
    wall = mean_std([r["wall_s"] for r in runs])
    return {"seeds": len(seeds), "solved": len(solved),
            "evaluations_per_solved": evals,
            "evaluations_total": sum(r["evaluations"] for r in runs),
            "wall_per_seed_s": wall, "wall_per_solved_s": mean_std([r["wall_s"] for r in solved]),
            "hidden": mean_std([r["hidden"] for r in solved]),
            "connections": mean_std([r["connections"] for r in solved]), "runs": runs}


def run_graphnet(seeds, *, config=CONFIG, workers=1, out=None) -> dict:
    """The search of ``config`` for ``seeds`` (into ``out``, default a temporary directory).

    Returns
    -------
    dict
        :func:`_summary`'s figures plus ``total_s`` (run_search's whole call: set-up,
        every seed, the tables and summary.md; no figures).
    """
    cfg = with_overrides(load_config(config), {"seeds": list(seeds)})
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        res = run_search(cfg, out or os.path.join(tmp, "search"), workers=workers, force=True,
                         plots=False, progress=False)
        total = time.perf_counter() - t0
    runs = [{"seed": r["seed"], "solved": bool(r["solved"]), "evaluations": r["evaluations"],
             "generations": r["generations"], "wall_s": r["wall_s"],
             "hidden": r["best_hidden"], "connections": r["best_edges"]} for r in res.rows]
    return {**_summary(runs, seeds), "total_s": total}


def _neat_config(pop_size=None):
    import neat
    text = NEAT_CFG.read_text().replace("POP", "150" if pop_size is None else str(pop_size))
    with tempfile.NamedTemporaryFile("w", suffix=".cfg", delete=False) as fh:
        fh.write(text)
    try:
        return neat.Config(neat.DefaultGenome, neat.DefaultReproduction,
                           neat.DefaultSpeciesSet, neat.DefaultStagnation, fh.name)
    finally:
        os.unlink(fh.name)


def run_neat(seeds, *, generations=NEAT_GENERATIONS) -> dict:
    """neat-python's XOR example for each seed (its fitness, its 300-generation cap).

    Returns
    -------
    dict
        :func:`_summary`'s figures plus ``total_s`` (every seed, config reading included).
    """
    import neat

    t0 = time.perf_counter()
    config = _neat_config()
    runs = []
    for seed in seeds:
        count = [0]

        def eval_genomes(genomes, cfg):  # evolve-feedforward.py's, counting evaluations
            for _, genome in genomes:
                count[0] += 1
                genome.fitness = 4.0
                net = neat.nn.FeedForwardNetwork.create(genome, cfg)
                for xi, xo in zip(XOR_INPUTS, XOR_OUTPUTS):
                    genome.fitness -= (net.activate(xi)[0] - xo[0]) ** 2

        random.seed(seed)                       # neat-python draws from `random`
        t = time.perf_counter()
        pop = neat.Population(config)
        try:
            winner = pop.run(eval_genomes, generations)
        except neat.CompleteExtinctionException:
            winner = pop.best_genome
        wall = time.perf_counter() - t
        solved = winner is not None and winner.fitness >= config.fitness_threshold
        outputs = set(config.genome_config.output_keys)
        runs.append({"seed": seed, "solved": bool(solved), "evaluations": count[0],
                     "generations": pop.generation, "wall_s": wall,
                     "hidden": sum(1 for k in winner.nodes if k not in outputs),
                     "connections": sum(1 for c in winner.connections.values() if c.enabled)})
    return {**_summary(runs, seeds), "total_s": time.perf_counter() - t0}


def bench(seeds, *, quick=False, use_neat=True, workers=1) -> dict:
    """Both sides on the same seeds, one after the other; ratios NEAT / graphnet."""
    out = {"seeds": list(seeds), "quick": quick,
           "environment": harness.environment(None), "graphnet": run_graphnet(seeds,
                                                                              workers=workers)}
    if use_neat and neat_available():
        out["neat"] = run_neat(seeds[:1] if quick else seeds, generations=5 if quick
                               else NEAT_GENERATIONS)
        g, n = out["graphnet"], out["neat"]
        out["ratios"] = {  # nan where a side solved nothing
            "evaluations_per_solved": n["evaluations_per_solved"][0]
            / g["evaluations_per_solved"][0],
            "total_wall": n["total_s"] / g["total_s"],
            "wall_per_seed": n["wall_per_seed_s"][0] / g["wall_per_seed_s"][0]}
    elif use_neat:
        out["neat"] = "neat-python not importable: neat column skipped"
    return out


def _pm(pair, fmt):
    mean, std = pair
    return "-" if not np.isfinite(mean) else f"{mean:{fmt}} ± {std:{fmt}}"


def format_report(results) -> str:
    """The printed table of :func:`bench`'s results."""
    head = ("", "solved", "evals per solved seed", "wall per seed (s)", "total (s)",
            "winners' hidden", "connections")
    rows = [head]
    for name, key in (("graphnet search", "graphnet"), ("neat-python", "neat")):
        r = results.get(key)
        if not isinstance(r, dict):
            continue
        rows.append((name, f"{r['solved']}/{r['seeds']}", _pm(r["evaluations_per_solved"], ",.0f"),
                     _pm(r["wall_per_seed_s"], ".3f"), f"{r['total_s']:.2f}",
                     _pm(r["hidden"], ".2f"), _pm(r["connections"], ".2f")))
    widths = [max(len(row[j]) for row in rows) for j in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in rows]
    if isinstance(results.get("neat"), str):
        lines.append(results["neat"])
    if "ratios" in results:
        q = results["ratios"]
        x = {k: "-" if not np.isfinite(v) else f"{v:.1f}x" for k, v in q.items()}
        lines.append(f"neat / graphnet: {x['evaluations_per_solved']} evaluations per solved "
                     f"seed, {x['total_wall']} total wall time, {x['wall_per_seed']} wall per "
                     "seed")
    lines.append("graphnet's XOR has 2 softmax outputs (minimal network: 4 edges), NEAT's 1 "
                 "sigmoid output (2 connections); sizes are of the solved seeds' winners.")
    return "\n".join(lines)


def _parser():
    p = argparse.ArgumentParser(prog="bench_search_xor.py",
                                description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=20, help="seeds 0..N-1 (default 20)")
    p.add_argument("--quick", action="store_true",
                   help="2 seeds; NEAT 1 seed for 5 generations (a smoke run)")
    p.add_argument("--workers", type=int, default=1, help="the search's --workers")
    p.add_argument("--no-neat", action="store_true")
    p.add_argument("--json", metavar="PATH", help="write the results as JSON")
    return p


def main(argv=None) -> int:
    """Command-line entry point; returns the exit status.

    Examples
    --------
    >>> _parser().parse_args(["--quick", "--no-neat"]).no_neat
    True
    """
    args = _parser().parse_args(sys.argv[1:] if argv is None else list(argv))
    if args.seeds < 1 or args.workers < 1:
        _parser().error("--seeds and --workers must be at least 1")
    seeds = list(range(2 if args.quick else args.seeds))
    results = bench(seeds, quick=args.quick, use_neat=not args.no_neat, workers=args.workers)
    print(format_report(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=harness.json_default))
    return 0


if __name__ == "__main__":
    sys.exit(main())
