"""The ``graphnet`` command."""

from __future__ import annotations

import argparse
import shlex
import sys
import time

import numpy as np

from graphnet.errors import GraphnetError

__all__ = ["main"]

_DATASETS = ("digits", "xor", "spirals", "mnist1d", "mnist", "csv", "npz")
_DATA_FILES = {"mnist": "a directory", "csv": "a file", "npz": "a file"}


class _Parser(argparse.ArgumentParser):
    """argparse that exits with status 2 and a usage line, never a traceback."""

    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def _int_at_least(low: int, word: str):
    """An argparse type: an integer >= ``low``, called ``word`` in the error."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {word} integer, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"expected a {word} integer, got {value}")
        return value

    return parse


_positive_int = _int_at_least(1, "positive")
_non_negative_int = _int_at_least(0, "non-negative")


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not np.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive finite number, got {text}")
    return value


def _data_spec(text):
    base, colon, path = text.partition(":")
    if base not in _DATASETS or (colon and base not in _DATA_FILES):
        raise argparse.ArgumentTypeError(
            f"expected digits, xor, spirals, mnist1d, mnist:PATH, csv:PATH or npz:PATH, got {text!r}")
    if base in _DATA_FILES and not path:
        raise argparse.ArgumentTypeError(f"{base} needs {_DATA_FILES[base]}: {base}:PATH")
    return text


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``graphnet`` command."""
    parser = _Parser(prog="graphnet",
                     description="A lab for neural networks whose topology changes while they learn.")
    parser.add_argument("--version", action="version", version=f"graphnet {_version()}",
                        help="print graphnet's version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    t = sub.add_parser("train", help="train a fixed-topology baseline (MLP, CNN, LeNet-5)",
                       description="Train a baseline model and print its test accuracy and time.")
    t.add_argument("--model", default="cnn",
                   choices=["mlp", "cnn", "lenet5", "logistic", "mlp_residual", "cnn1d"],
                   help="model to train; logistic, mlp_residual and cnn1d are the "
                        "MNIST-1D paper's (default: cnn)")
    t.add_argument("--data", type=_data_spec, default="digits", metavar="DATA",
                   help="digits, xor, spirals, mnist1d (MNIST-1D, generated offline and cached), "
                        "mnist:PATH (a directory of IDX files), csv:PATH "
                        "(features and an integer label, last column) or npz:PATH (arrays X, y) "
                        "(default: digits)")
    t.add_argument("--label", metavar="NAME",
                   help="csv:PATH only: the header name of the label column (default: the last)")
    t.add_argument("--seed", type=_non_negative_int, default=0, help="random seed (default: 0)")
    t.add_argument("--epochs", type=_positive_int, help="epochs (default: per dataset)")
    t.add_argument("--lr", type=_positive_float, help="learning rate (default: per dataset)")
    t.add_argument("--batch-size", type=_positive_int, help="mini-batch size (default: per dataset)")
    t.add_argument("--weight-decay", type=float, help="L2 weight decay (default: per dataset)")
    t.add_argument("--optimizer", choices=["sgd", "momentum", "adam"], default="adam")
    t.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    t.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="show a progress bar (default: when stderr is a terminal)")
    t.set_defaults(func=cmd_train)

    a = sub.add_parser("audit", help="check every checkable claim of the seed document",
                       description="Check every checkable claim of the seed and print a table of "
                                   "claims, verdicts (PASS / FAIL / PARTLY) and computed evidence.")
    a.add_argument("--markdown", metavar="PATH", help="also write the table as Markdown to PATH")
    a.add_argument("--seed", type=_non_negative_int, default=0,
                   help="seed of the random test data (default: 0)")
    a.set_defaults(func=cmd_audit)

    o = sub.add_parser("ops", help="list the graph operators: arguments and what each keeps",
                       description="Print every registered operator: the seed's letter, its "
                                   "name, its arguments with their types and accepted values, "
                                   "and what it keeps (det, rank, spectrum, function). With "
                                   "OPERATOR (a letter or a name): that operator in detail.")
    o.add_argument("operator", nargs="?", metavar="OPERATOR",
                   help="a letter (A B C D F H N) or a name, e.g. add_scaled_row")
    o.add_argument("--markdown", action="store_true", help="the table as Markdown")
    o.set_defaults(func=cmd_ops)

    s = sub.add_parser("show", help="summarise a network file (node-link JSON or GraphML)",
                       description="Print a network's summary: mode, nodes by role, edges, "
                                   "levels and depth, unreachable nodes, dead ends and cycles; "
                                   "optionally draw it.")
    s.add_argument("network", metavar="NETWORK", help="node-link JSON or GraphML file")
    s.add_argument("--plot", metavar="PATH", help="also draw the network to PATH (.png, .pdf, .svg)")
    s.add_argument("--dpi", type=_positive_int, default=100, help="PNG resolution (default: 100)")
    s.add_argument("--force", action="store_true", help="replace an existing PATH")
    s.set_defaults(func=cmd_show)

    e = sub.add_parser("export", help="convert a network file to GraphML, JSON or DOT",
                       description="Write a network file as GraphML (Gephi, yEd), node-link JSON "
                                   "or Graphviz DOT. Never overwrites an existing file without "
                                   "--force, and never the input.")
    e.add_argument("network", metavar="NETWORK", help="node-link JSON or GraphML file")
    e.add_argument("--format", required=True, choices=["graphml", "json", "dot"],
                   help="the output format")
    e.add_argument("--out", metavar="PATH",
                   help="output file (default: beside NETWORK, same stem, the format's suffix)")
    e.add_argument("--force", action="store_true", help="replace an existing output file")
    e.set_defaults(func=cmd_export)

    p = sub.add_parser("plot", help="redraw every figure of a run directory",
                       description="Draw the figures of a lab run into RUN/plots/ (learning "
                                   "curves, rounds, comparison, and per seed the graph "
                                   "evolution, matrices and GIF) and print the written paths.")
    p.add_argument("run", metavar="RUN", help="a run directory written by `graphnet run`")
    p.add_argument("--dpi", type=_positive_int, default=100, help="PNG resolution (default: 100)")
    p.add_argument("--no-gif", dest="gif", action="store_false", help="skip the animated GIFs")
    p.set_defaults(func=cmd_plot)

    c = sub.add_parser("compare", help="compare the final results of several runs",
                       description="Print a Markdown table (run, model, params, test accuracy "
                                   "mean ± std over seeds) and write a side-by-side figure.")
    c.add_argument("runs", metavar="RUN", nargs="+", help="run directories")
    c.add_argument("--out", metavar="PATH", default="comparison.png",
                   help="where to write the figure (default: ./comparison.png)")
    c.add_argument("--dpi", type=_positive_int, default=100, help="PNG resolution (default: 100)")
    c.add_argument("--force", action="store_true", help="replace an existing figure at PATH")
    c.set_defaults(func=cmd_compare)
    r = sub.add_parser("run", help="run an experiment: mutate-then-train rounds and baselines",
                       description="Run an experiment config (TOML) into a run directory: "
                                   "metrics.csv, history, snapshots, checkpoints, plots and "
                                   "summary.md. Without CONFIG: the built-in default (digits, "
                                   "a pruned graph against fixed-graph, MLP and CNN baselines).")
    r.add_argument("config", nargs="?", metavar="CONFIG",
                   help="experiment TOML file (default: the built-in default)")
    r.add_argument("--print-config", action="store_true",
                   help="print the resolved config (every default filled in) as TOML and exit "
                        "without running")
    r.add_argument("--out", metavar="DIR",
                   help="run directory (default: the config's out, else runs/<name>)")
    engine = r.add_mutually_exclusive_group()
    engine.add_argument("--workers", type=_positive_int, metavar="K",
                        help="run the rounds on an embedded Dask cluster of K worker processes "
                             "(1: in this process, no cluster); same results for any K "
                             "(default: min(2, CPUs))")
    engine.add_argument("--scheduler", metavar="ADDRESS",
                        help="run the rounds on a running Dask cluster instead, e.g. "
                             "tcp://10.0.0.5:8786 (started with `dask scheduler` and "
                             "`dask worker ADDRESS --nthreads 1`); only this process writes")
    again = r.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true",
                       help="continue an interrupted run from its last completed round")
    again.add_argument("--force", action="store_true",
                       help="replace an existing run and start over (only a graphnet run "
                            "holding nothing but a run's files; never the current directory)")
    r.add_argument("--seeds", type=_seed_list, metavar="S,S,...",
                   help="override the config's seeds, e.g. 0,1")
    r.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="live output on stderr (the default): one redrawn bar line on a "
                        "terminal, else a line per finished job round and per plotting step; "
                        "--no-progress silences it (errors are still printed)")
    r.add_argument("--plots", action=argparse.BooleanOptionalAction, default=True,
                   help="draw the figures when the run completes (default: yes; "
                        "`graphnet plot RUN` draws them later)")
    r.add_argument("--yes", action="store_true",
                   help="run even a plan over the limits (more than 100,000 files or "
                        "1,000,000 epochs in all)")
    r.set_defaults(func=cmd_run)
    _add_sweep_parser(sub)
    from graphnet.lab.searchcli import add_search_parser

    add_search_parser(sub, _positive_int, _seed_list)
    return parser


def _add_sweep_parser(sub) -> None:
    """``graphnet sweep``: the options of ``graphnet run`` for a sweep file."""
    w = sub.add_parser("sweep", help="run an experiment over a grid of settings, every point a run",
                       description="Run a sweep file (an experiment plus [sweep] axes by dotted "
                                   "key, grid or zip) into a directory: a run per point under "
                                   "points/, results.csv, summary.md, plots/sweep.png.")
    w.add_argument("config", metavar="SWEEP", help="sweep TOML file")
    w.add_argument("--print-points", action="store_true",
                   help="check every point, print the points and run nothing")
    w.add_argument("--out", metavar="DIR",
                   help="sweep directory (default: the sweep file's out, else runs/<name>)")
    engine = w.add_mutually_exclusive_group()
    engine.add_argument("--workers", type=_positive_int, metavar="K",
                        help="as graphnet run: K worker processes for all points' jobs "
                             "(default: min(2, CPUs))")
    engine.add_argument("--scheduler", metavar="ADDRESS",
                        help="as graphnet run: a running Dask cluster's scheduler")
    again = w.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true",
                       help="continue an interrupted sweep (the same sweep file) as a whole")
    again.add_argument("--force", action="store_true",
                       help="replace an existing sweep and start over (only a graphnet sweep "
                            "holding nothing but a sweep's files; never the current directory)")
    w.add_argument("--seeds", type=_seed_list, metavar="S,S,...",
                   help="override the experiment's seeds, e.g. 0,1")
    w.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="live output on stderr, as graphnet run's")
    w.add_argument("--plots", action=argparse.BooleanOptionalAction, default=True,
                   help="draw plots/sweep.png when the sweep completes (default: yes)")
    w.add_argument("--point-plots", action="store_true",
                   help="also draw every point's run figures (or later: graphnet plot POINT)")
    w.add_argument("--yes", action="store_true", help="as graphnet run --yes, for every point")
    w.set_defaults(func=cmd_sweep)


def cmd_train(args) -> int:
    """``graphnet train``: fit one baseline, print test accuracy and wall time."""
    from graphnet import models
    from graphnet.data import load_dataset
    from graphnet.rng import Purpose, stream
    from graphnet.threads import blas_threads, limit_blas, model_flops
    from graphnet.train import evaluate, fit

    from graphnet.core.optim import get_optimizer

    base = args.data.split(":", 1)[0]
    defaults = models.recipe(base, args.model)
    epochs = args.epochs or defaults["epochs"]
    lr = args.lr or defaults["lr"]
    batch_size = args.batch_size or defaults["batch_size"]
    weight_decay = defaults["weight_decay"] if args.weight_decay is None else args.weight_decay
    optimizer = get_optimizer(args.optimizer, lr, weight_decay=weight_decay)
    dtype = np.dtype(args.dtype)
    image = args.model in ("cnn", "lenet5")
    spec = "digits-image" if (base == "digits" and image) else args.data
    if args.label is not None and base != "csv":
        from graphnet.errors import InputError

        raise InputError(f"--label applies only to --data csv:PATH, not {args.data!r}")
    # independent streams for the split, the init and the shuffles; the split's key is the
    # lab's (graphnet.lab.runner), so a seed splits the data as `graphnet run` does
    data = load_dataset(spec, seed=stream(args.seed, 0, 0, Purpose.DATA), dtype=dtype,
                        label=args.label)
    model = models.build(args.model, data.input_shape, data.n_classes,
                         seed=stream(args.seed, 0, 0, Purpose.INIT), dtype=dtype)
    # small products on 1 BLAS thread: a second one waits for a busy core (graphnet.threads)
    threads = blas_threads(model_flops(model, data.input_shape, batch_size))
    print(f"graphnet train: {args.model} on {data.name} ({len(data.X_train)} train, "
          f"{len(data.X_test)} test), {model.n_params} parameters, {epochs} epochs, "
          f"{args.optimizer} lr={lr:g} weight decay {weight_decay:g}, batch {batch_size}, seed {args.seed}, "
          f"BLAS threads {threads}")
    with limit_blas(threads):
        start = time.perf_counter()
        history = fit(model, data.X_train, data.y_train, optimizer=optimizer,
                      epochs=epochs, batch_size=batch_size,
                      seed=stream(args.seed, 0, 0, Purpose.FIT),
                      progress=args.progress, desc=f"{args.model}/{base}")
        elapsed = time.perf_counter() - start
        test_loss, test_acc = evaluate(model, data.X_test, data.y_test)
    print(f"train loss {history.last['loss']:.4f}  train accuracy {history.last['accuracy']:.4f}")
    print(f"test loss {test_loss:.4f}  test accuracy {test_acc:.4f}  ({100 * test_acc:.2f}%)")
    print(f"time {elapsed:.1f} s ({elapsed / epochs * 1000:.0f} ms/epoch)")
    return 0


def cmd_audit(args) -> int:
    """``graphnet audit``: run the audit, print it, optionally write Markdown."""
    import os

    from graphnet.audit import run_audit
    from graphnet.errors import InputError
    from graphnet.fileio import atomic_write_text

    if args.markdown and os.path.isdir(args.markdown):  # before the audit's work
        raise InputError(f"--markdown {args.markdown}: is a directory; expected a file name")
    report = run_audit(seed=args.seed)
    print(report.table())
    if args.markdown:
        atomic_write_text(args.markdown, report.markdown())
        print(f"written: {args.markdown}")
    return 0


def _version() -> str:
    """The installed distribution's version, else the package's own ``__version__``."""
    from importlib import metadata

    try:
        return metadata.version("graphnet")
    except metadata.PackageNotFoundError:
        from graphnet import __version__

        return __version__


def cmd_ops(args) -> int:
    """``graphnet ops [OPERATOR]``: the operator table, or one operator in detail."""
    from graphnet.graph.optable import describe_operator, ops_table

    if args.operator is not None:
        print(describe_operator(args.operator))
    else:
        print(ops_table(markdown=args.markdown))
    return 0


def _name_list(net, nodes, limit=12) -> str:
    """``x0, x1, ..., x63`` for a long list of nodes."""
    names = [net.names[v] for v in nodes]
    if len(names) > limit:
        names = names[: limit - 2] + ["...", names[-1]]
    return ", ".join(names) if names else "none"


_PLOT_SUFFIXES = (".png", ".pdf", ".svg")


def cmd_show(args) -> int:
    """``graphnet show NETWORK``: summary, nodes by role, levels; ``--plot`` draws it."""
    import os

    from graphnet.errors import InputError
    from graphnet.graph.io import read_network

    net = read_network(args.network)
    if args.plot is not None:  # check the target before any output
        suffix = os.path.splitext(args.plot)[1].lower()
        if suffix not in _PLOT_SUFFIXES:
            raise InputError(f"--plot {args.plot}: expected a file name ending in "
                             f"{', '.join(_PLOT_SUFFIXES)}, got {suffix or 'no suffix'!r}")
        if os.path.isdir(args.plot):
            raise InputError(f"--plot {args.plot}: is a directory; expected a file name")
        if os.path.exists(args.plot) and os.path.samefile(args.plot, args.network):
            raise InputError(f"--plot {args.plot}: is the input file; give another path")
        if os.path.lexists(args.plot) and not args.force:
            raise InputError(f"--plot {args.plot}: exists; refusing to overwrite it "
                             f"(pass --force)")
        folder = os.path.dirname(os.path.abspath(args.plot))
        if not os.path.isdir(folder):
            raise InputError(f"--plot {args.plot}: the folder {folder} does not exist")
    print(f"network: {args.network}")
    print(net.summary())
    for role, nodes in (("inputs", net.inputs), ("hidden", net.hidden), ("outputs", net.outputs)):
        print(f"{role} ({len(nodes)}): {_name_list(net, nodes)}")
    if net.mode == "feedforward":
        levels = net.levels()
        print(f"levels: {len(levels)} after the inputs (one matrix product each)")
        for k, level in enumerate(levels, start=1):
            print(f"  depth {k} ({len(level)}): {_name_list(net, level)}")
    else:
        print("levels: none (recurrent: every node updates together for T steps)")
    if args.plot is not None:
        from graphnet.lab.plots import plot_graph

        plot_graph(net, title=os.path.basename(args.network), path=args.plot, dpi=args.dpi)
        print(f"written: {args.plot}")
    return 0


def cmd_export(args) -> int:
    """``graphnet export NETWORK --format F``: write the network as GraphML, JSON or DOT."""
    from graphnet.graph.io import export_file

    path = export_file(args.network, args.format, out=args.out, force=args.force)
    print(f"written: {path}")
    return 0


def _print_config(args) -> int:
    """``graphnet run --print-config``: the resolved config as TOML; nothing runs."""
    from graphnet.lab.config import load_config, with_overrides
    from graphnet.lab.defaults import default_config

    cfg = load_config(args.config) if args.config else default_config()
    if args.seeds is not None:
        cfg = with_overrides(cfg, {"seeds": args.seeds})
    sys.stdout.write(cfg.to_toml())
    return 0


def cmd_plot(args) -> int:
    """``graphnet plot RUN``: redraw all figures of a run, print the written paths."""
    from graphnet.lab.plots import plot_run

    for path in plot_run(args.run, dpi=args.dpi, gif=args.gif):
        print(path)
    return 0


def cmd_compare(args) -> int:
    """``graphnet compare RUN...``: print the Markdown table, write the figure."""
    import os

    from graphnet.errors import InputError
    from graphnet.lab.plots import compare_runs

    # check the target before any work: matplotlib would fail only after reading the runs
    if os.path.isdir(args.out):
        raise InputError(f"--out {args.out}: is a directory; expected a file name ending in "
                         f"{', '.join(_PLOT_SUFFIXES)}")
    suffix = os.path.splitext(args.out)[1].lower()
    if suffix not in _PLOT_SUFFIXES:
        raise InputError(f"--out {args.out}: unsupported figure format {suffix or 'no suffix'!r}; "
                         f"expected a file name ending in {', '.join(_PLOT_SUFFIXES)}")
    if os.path.lexists(args.out) and not args.force:
        raise InputError(f"--out {args.out}: the file exists; pass --force to replace it or "
                         f"choose another --out")
    print(compare_runs(args.runs, args.out, dpi=args.dpi))
    print(f"written: {args.out}")
    return 0


def _seed_list(text):
    try:
        seeds = [int(part) for part in text.split(",") if part.strip() != ""]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated non-negative integers, got {text!r}") from None
    if not seeds or any(s < 0 for s in seeds):
        raise argparse.ArgumentTypeError(
            f"expected comma-separated non-negative integers, got {text!r}")
    return seeds


def cmd_run(args) -> int:
    """``graphnet run [CONFIG]``: run an experiment, print where it went and the summary."""
    if args.print_config:
        return _print_config(args)
    import os

    from graphnet.lab.config import load_config, with_overrides
    from graphnet.lab.defaults import default_config
    from graphnet.lab.lifetime import Terminated
    from graphnet.lab.runner import default_workers, run_experiment
    from graphnet.lab.summary import format_table

    cfg = load_config(args.config) if args.config else default_config()
    if args.seeds is not None:
        cfg = with_overrides(cfg, {"seeds": args.seeds})
    workers = args.workers or default_workers()
    out = args.out or cfg.values.get("out") or os.path.join("runs", cfg.name)
    where = (f"on the Dask scheduler {args.scheduler}" if args.scheduler
             else f"{workers} worker(s)")
    print(f"graphnet run: {cfg.name} -> {out}: {len(cfg.seeds)} seeds x {len(cfg.models)} "
          f"models ({', '.join(cfg.models)}), rounds 0..{cfg.rounds}, "
          f"{cfg['train']['epochs']} epochs per round, {where}", flush=True)
    try:
        result = run_experiment(cfg, out, workers=workers, scheduler=args.scheduler,
                                resume=args.resume, force=args.force, progress=args.progress,
                                plots=args.plots, yes=args.yes)
    except KeyboardInterrupt as stop:  # Ctrl-C, or SIGTERM (lifetime.Terminated)
        _say_how_to_continue(args, out, stop)
        return 143 if isinstance(stop, Terminated) else 130
    if result.already_complete:
        print(f"graphnet run: {out} is complete already; nothing to do (graphnet plot "
              f"{shlex.quote(str(out))} redraws the figures)")
    if not result.complete:
        print(f"graphnet run: {out} is incomplete; continue it with --resume", file=sys.stderr)
        return 1
    print(format_table(result.table))
    plots = ", plots/" if os.path.isdir(os.path.join(result.path, "plots")) else ""
    print(f"run directory: {result.path} (summary.md, metrics.csv{plots}); "
          f"{result.elapsed:.1f} s")
    return 0


def _say_how_to_continue(args, out, stop) -> None:
    """The line an interrupted ``graphnet run`` or ``sweep`` ends with: the command to resume."""
    from graphnet.lab.lifetime import Terminated

    words = ["graphnet", args.command, *([args.config] if args.config else []), "--out", str(out)]
    if args.seeds is not None:
        words += ["--seeds", ",".join(map(str, args.seeds))]
    if getattr(args, "scheduler", None):
        words += ["--scheduler", args.scheduler]
    elif getattr(args, "workers", None):
        words += ["--workers", str(args.workers)]
    if not args.plots:
        words.append("--no-plots")
    if getattr(args, "point_plots", False):  # graphnet sweep
        words.append("--point-plots")
    if args.yes:  # the plan's check runs again on resume
        words.append("--yes")
    how = "terminated" if isinstance(stop, Terminated) else "interrupted"
    print(f"graphnet {args.command}: {how}; continue with: {shlex.join(words + ['--resume'])}",
          file=sys.stderr)


def cmd_sweep(args) -> int:
    """``graphnet sweep SWEEP``: run every point, print the per-point table and where it went."""
    from graphnet.lab.lifetime import Terminated
    from graphnet.lab.runner import default_workers
    from graphnet.lab.sweep import points_table, run_sweep, sweep_out
    from graphnet.lab.sweepfile import load_sweep

    sweep = load_sweep(args.config, seeds=args.seeds)
    out = sweep_out(sweep, args.out)
    cfg = sweep.base
    shape = " x ".join(map(str, sweep.shape))
    print(f"graphnet sweep: {sweep.name} -> {out}: {sweep.mode} of {shape} = "
          f"{len(sweep.points)} points x {len(cfg.seeds)} seeds x {len(cfg.models)} models "
          f"({', '.join(cfg.models)})", flush=True)
    if args.print_points:
        print(points_table(sweep, out))
        return 0
    workers = args.workers or default_workers()
    where = f"on the Dask scheduler {args.scheduler}" if args.scheduler else f"{workers} worker(s)"
    print(f"graphnet sweep: {where}", flush=True)
    try:
        result = run_sweep(sweep, out, workers=workers, scheduler=args.scheduler,
                           resume=args.resume, force=args.force, progress=args.progress,
                           plots=args.plots, point_plots=args.point_plots, yes=args.yes)
    except KeyboardInterrupt as stop:  # Ctrl-C, or SIGTERM (lifetime.Terminated)
        _say_how_to_continue(args, out, stop)
        return 143 if isinstance(stop, Terminated) else 130
    if result.already_complete:
        print(f"graphnet sweep: {out} is complete already; nothing to do (see its summary.md)")
    elif not result.complete:
        print(f"graphnet sweep: {out} is incomplete; continue it with --resume", file=sys.stderr)
        return 1
    else:
        print(result.table)
    plots = ", plots/sweep.png" if args.plots else ""
    print(f"sweep directory: {result.path} (summary.md, results.csv, points/{plots}); "
          f"{result.elapsed:.1f} s")
    return 0


def main(argv=None) -> int:
    """Entry point of the ``graphnet`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except GraphnetError as err:
        print(f"graphnet {args.command}: error: {err}", file=sys.stderr)
        return 2
    except FileNotFoundError as err:
        print(f"graphnet {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as stop:  # SIGTERM during a run too (lifetime.Terminated)
        from graphnet.lab.lifetime import Terminated

        how = "terminated" if isinstance(stop, Terminated) else "interrupted"
        print(f"graphnet {args.command}: {how}", file=sys.stderr)
        return 143 if isinstance(stop, Terminated) else 130


if __name__ == "__main__":
    sys.exit(main())
