"""``graphnet search CONFIG``: the subcommand's options and body (registered by graphnet.cli)."""

from __future__ import annotations

import argparse
import shlex
import sys

__all__ = ["add_search_parser", "cmd_search"]


def add_search_parser(sub, positive_int, seed_list) -> None:
    """Add ``graphnet search`` to the subparsers ``sub`` (the option types are cli's)."""
    s = sub.add_parser("search", help="evolve a population of networks: mutate, train, select",
                       description="Run a topology search (the config's [search] section, its "
                                   "[network] start, [[mutation.schedule]] and [train]) for "
                                   "every seed into a search directory: results.csv, "
                                   "generations.csv, lineage.jsonl, snapshots/, checkpoints/, "
                                   "summary.md, plots/.")
    s.add_argument("config", metavar="CONFIG", help="experiment TOML file with a [search] section")
    s.add_argument("--out", metavar="DIR",
                   help="search directory (default: the config's out, else runs/<name>-search)")
    engine = s.add_mutually_exclusive_group()
    engine.add_argument("--workers", type=positive_int, metavar="K",
                        help="train the generations' chunks on an embedded Dask cluster of K "
                             "worker processes (1: in this process); same results for any K "
                             "(default: 1)")
    engine.add_argument("--scheduler", metavar="ADDRESS",
                        help="as graphnet run: a running Dask cluster's scheduler")
    again = s.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true",
                       help="continue an interrupted search from every seed's last completed "
                            "generation")
    again.add_argument("--force", action="store_true",
                       help="replace an existing search and start over (only a graphnet search "
                            "holding nothing but a search's files; never the current directory)")
    s.add_argument("--seeds", type=seed_list, metavar="S,S,...",
                   help="override the config's seeds, e.g. 0,1")
    s.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="a line per completed generation on stderr (default: yes)")
    s.add_argument("--plots", action=argparse.BooleanOptionalAction, default=True,
                   help="draw the search's figures when it completes (default: yes)")
    s.add_argument("--yes", action="store_true",
                   help="run even a plan over 100,000,000 network-epochs")
    s.set_defaults(func=cmd_search)


def cmd_search(args) -> int:
    """``graphnet search CONFIG``: run the search, print the per-seed table and where it went."""
    from graphnet.lab.config import load_config, with_overrides
    from graphnet.lab.lifetime import Terminated
    from graphnet.lab.search import run_search, search_out

    cfg = load_config(args.config)
    over = {} if "search" in cfg.values else {"search": {}}
    if args.seeds is not None:
        over["seeds"] = args.seeds
    cfg = with_overrides(cfg, over) if over else cfg
    out = search_out(cfg, args.out)
    s = cfg["search"]
    workers = args.workers or 1
    where = f"on the Dask scheduler {args.scheduler}" if args.scheduler else f"{workers} worker(s)"
    print(f"graphnet search: {cfg.name} -> {out}: {len(cfg.seeds)} seeds, population "
          f"{s['population']}, up to {s['generations']} generations"
          + (f" or {s['budget']} evaluations" if s["budget"] else "")
          + f", {s['selection']} on {s['objective']}, {where}", flush=True)
    try:
        result = run_search(cfg, out, workers=workers, scheduler=args.scheduler,
                            resume=args.resume, force=args.force, progress=args.progress,
                            plots=args.plots, yes=args.yes)
    except KeyboardInterrupt as stop:  # Ctrl-C, or SIGTERM (lifetime.Terminated)
        words = ["graphnet", "search", args.config, "--out", str(out)]
        if args.seeds is not None:
            words += ["--seeds", ",".join(map(str, args.seeds))]
        if args.scheduler:
            words += ["--scheduler", args.scheduler]
        elif args.workers:
            words += ["--workers", str(args.workers)]
        if not args.plots:
            words.append("--no-plots")
        if args.yes:
            words.append("--yes")
        how = "terminated" if isinstance(stop, Terminated) else "interrupted"
        print(f"graphnet search: {how}; continue with: {shlex.join(words + ['--resume'])}",
              file=sys.stderr)
        return 143 if isinstance(stop, Terminated) else 130
    if result.already_complete:
        print(f"graphnet search: {out} is complete already; nothing to do (see its summary.md)")
    elif not result.complete:
        print(f"graphnet search: {out} is incomplete; continue it with --resume", file=sys.stderr)
        return 1
    print(result.table)
    print(f"search directory: {result.path} (results.csv, generations.csv, lineage.jsonl, "
          f"snapshots/); {result.elapsed:.1f} s")
    return 0
