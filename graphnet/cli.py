"""The ``graphnet`` command."""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from graphnet.errors import GraphnetError

__all__ = ["main"]

_DATASETS = ("digits", "xor", "spirals", "mnist")


class _Parser(argparse.ArgumentParser):
    """argparse that exits with status 2 and a usage line, never a traceback."""

    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _non_negative_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {value}")
    return value


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not np.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive finite number, got {text}")
    return value


def _data_spec(text):
    base = text.split(":", 1)[0]
    if base not in _DATASETS:
        raise argparse.ArgumentTypeError(
            f"expected digits, xor, spirals or mnist:PATH, got {text!r}")
    if base == "mnist" and not text.partition(":")[2]:
        raise argparse.ArgumentTypeError("mnist needs a directory: mnist:PATH")
    return text


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``graphnet`` command."""
    parser = _Parser(prog="graphnet",
                     description="A lab for neural networks whose topology changes while they learn.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    t = sub.add_parser("train", help="train a fixed-topology baseline (MLP, CNN, LeNet-5)",
                       description="Train a baseline model and print its test accuracy and time.")
    t.add_argument("--model", choices=["mlp", "cnn", "lenet5"], default="cnn",
                   help="model to train (default: cnn)")
    t.add_argument("--data", type=_data_spec, default="digits", metavar="DATA",
                   help="digits, xor, spirals or mnist:PATH (default: digits)")
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
    return parser


def cmd_train(args) -> int:
    """``graphnet train``: fit one baseline, print test accuracy and wall time."""
    from graphnet import models
    from graphnet.data import load_dataset
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
    data = load_dataset(spec, seed=args.seed, dtype=dtype)
    model = models.build(args.model, data.input_shape, data.n_classes, seed=args.seed, dtype=dtype)
    print(f"graphnet train: {args.model} on {data.name} ({len(data.X_train)} train, "
          f"{len(data.X_test)} test), {model.n_params} parameters, {epochs} epochs, "
          f"{args.optimizer} lr={lr:g} weight decay {weight_decay:g}, batch {batch_size}, seed {args.seed}")
    start = time.perf_counter()
    history = fit(model, data.X_train, data.y_train, optimizer=optimizer,
                  epochs=epochs, batch_size=batch_size, seed=args.seed, progress=args.progress,
                  desc=f"{args.model}/{base}")
    elapsed = time.perf_counter() - start
    test_loss, test_acc = evaluate(model, data.X_test, data.y_test)
    print(f"train loss {history.last['loss']:.4f}  train accuracy {history.last['accuracy']:.4f}")
    print(f"test loss {test_loss:.4f}  test accuracy {test_acc:.4f}  ({100 * test_acc:.2f}%)")
    print(f"time {elapsed:.1f} s ({elapsed / epochs * 1000:.0f} ms/epoch)")
    return 0


def cmd_audit(args) -> int:
    """``graphnet audit``: run the audit, print it, optionally write Markdown."""
    from graphnet.audit import run_audit
    from graphnet.fileio import atomic_write_text

    report = run_audit(seed=args.seed)
    print(report.table())
    if args.markdown:
        atomic_write_text(args.markdown, report.markdown())
        print(f"written: {args.markdown}")
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
    except KeyboardInterrupt:
        print(f"graphnet {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
