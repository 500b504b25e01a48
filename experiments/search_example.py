"""A topology search through the Python API: XOR grown from nothing, then the search read back.

The same search as ``experiments/xor_grow.toml`` (``graphnet search`` on that file), given
through :func:`graphnet.lab.search.run_search`: start minimal (inputs wired to outputs, no
hidden node), grow with split_edge / add_edge / A / N, each candidate trained by backprop from
its parent's weights, Pareto selection on validation accuracy and edges, stop when all four
points are right. Run it from the project root::

    python experiments/search_example.py               # 20 seeds, a few seconds on 2 cores
    python experiments/search_example.py --tiny        # 2 seeds, no figures (smoke test)
    python experiments/search_example.py --baselines runs/xor   # + a run of xor.toml

It writes ``runs/search_example`` (``--out`` to change), prints the per-seed table, then reads
the search directory back: the solved count, the best network of the first seed with the
operators that made it, generation by generation, and the figures drawn.
"""

import argparse
import os

from graphnet.lab.config import load_config, with_overrides
from graphnet.lab.search import run_search
from graphnet.lab.searchdata import load_search
from graphnet.lab.searchreport import search_stats, write_search_summary

HERE = os.path.dirname(os.path.abspath(__file__))


def main(out="runs/search_example", *, tiny=False, workers=1, baselines=None):
    """Run the search into ``out``, print what it found, return the SearchResult."""
    cfg = load_config(os.path.join(HERE, "xor_grow.toml"))
    if tiny:
        cfg = with_overrides(cfg, {"seeds": [0, 1]})
    result = run_search(cfg, out, workers=workers, force=True, plots=not tiny, progress=False)
    print(result.table)

    data = load_search(out)  # everything below comes from the directory alone
    st = search_stats(data)
    mean, std = st["evaluations_solved"]
    print(f"solved {st['solved']} of {st['seeds']} seeds; {mean:.0f} ± {std:.0f} networks "
          f"evaluated per solved seed; {st['wall_total']:.2f} s in all")
    seed = data.seeds[0]
    print(f"seed {seed}: the best network's lineage")
    for row in data.chain(seed):
        ops = ", ".join(f"{o['letter'] or o['name']}{o['args'] or ''}" for o in row["ops"])
        print(f"  generation {row['generation']}: {row['id']} ({row['edges']} edges, "
              f"{row['hidden']} hidden, val accuracy {row['val_accuracy']:.2f})"
              + (f" <- {ops}" if ops else " (start)"))
    print(data.network(seed).summary())
    if baselines:  # summary.md again, with the fixed-topology runs beside the winners
        write_search_summary(out, baselines=baselines)
    if os.path.isdir(os.path.join(out, "plots")):
        print("figures:", ", ".join(sorted(os.listdir(os.path.join(out, "plots")))))
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/search_example")
    parser.add_argument("--tiny", action="store_true", help="2 seeds, no figures")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--baselines", nargs="*", metavar="RUN",
                        help="run directories of graphnet run to compare with in summary.md")
    args = parser.parse_args()
    main(args.out, tiny=args.tiny, workers=args.workers, baselines=args.baselines)
