"""Speed and memory of a population trained as one plan (:mod:`graphnet.graph.population`).

Two cases, float32 by default (``--dtype``), one optimizer (Adam) for every network:

``xor150``
    150 XOR-sized graphs: ``GraphNetwork.random(2, h, 1, density)`` with ``h`` uniform in
    1..6 and the density uniform in [0.5, 1.0] (tanh hidden nodes, identity output),
    trained 100 steps on the 4 XOR points (batch 4, squared error on the raw output).
``digits64``
    64 digits-sized graphs: the 64-32-10 MLP graph (``GraphNetwork.layered``) with 50 % of
    its edges kept (a seeded mask per network), trained one epoch of scikit-learn's
    digits (1797 samples, batch 32, softmax + cross-entropy).

Implementations, each trained from the same start with the same batches, each timed
over the whole path a search takes every generation: compile, train, split back into P
trained GraphNetworks:

``population``
    :func:`~graphnet.graph.population.compile_population`, then
    :func:`~graphnet.graph.population_fit.train_population`, then
    :meth:`~graphnet.graph.population.Population.networks`: one plan for all.
``loop``
    One plan per network in a loop: ``fit(model, ...)`` per network, ``model`` =
    ``graph_model(net)`` (digits) or ``Sequential([GraphLayer(net)])`` (xor), then
    ``GraphLayer.to_network()``: what a search does without a population plan.
``torch_bmm`` (when torch is importable)
    PyTorch-style batching of many small networks: each network's weight matrix padded
    to the largest node count and stacked, ``(P, n, n)``; ``T`` = the largest depth
    synchronous updates ``H = act(baddbmm(b, H, W * mask))`` with the inputs held (a DAG
    reaches its feed-forward values after depth-many updates), autograd for backward,
    ``torch.optim.Adam``. Run in its own process (:func:`harness.run_worker`).
``neat`` (xor150 forward only, when neat-python is importable)
    neat-python's own evaluation of 150 XOR genomes (2 inputs, 1 output, 1..6 hidden
    nodes added by ``mutate_add_node``): ``FeedForwardNetwork.create`` plus ``activate``
    on the 4 points, per genome. Compared with the population's compile + forward and
    forward alone on the 150 graphs above (other networks of the same size class).

Before timing, the trained parameters of the population are checked against the loop's
(max abs difference printed; they agree to rounding) and torch's first forward against
the population's.

Timing: the in-process implementations are timed in alternation, ``--repeats`` rounds
each timing every implementation once (a drift of the machine's speed hits them alike);
medians over the rounds, ratios of medians from the same run. ``bg`` is the CPU time other
processes used meanwhile (CPUs). Threads: ``--threads`` (default 1: the products are
small, and on a loaded machine a second BLAS thread made them slower, not faster).

Memory: peak traced allocation (``tracemalloc``) of compiling and training each
population (and of the loop, for comparison), and of compiling the first half of the
population against the whole: a union stored as ``n x n`` matrices would grow 4x, one
proportional to edges + nodes x batch grows 2x.

Usage (from the repository root)::

    python benchmarks/bench_population.py              # full run (a few minutes)
    python benchmarks/bench_population.py --quick      # smoke run, a second or two
    python benchmarks/bench_population.py --json out.json
"""

from __future__ import annotations

import os
import sys

try:
    from benchmarks import harness
except ImportError:  # run as a script, or loaded by file path: harness.py is beside this file
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import harness

_DEFAULT_THREADS = 1


def _thread_argv(argv):
    """``argv`` with ``--threads 1`` added when absent (this benchmark's default)."""
    if any(a == "--threads" or a.startswith("--threads=") for a in argv):
        return list(argv)
    return [*argv, "--threads", str(_DEFAULT_THREADS)]


if __name__ == "__main__":
    # BLAS reads these once, when numpy is first imported: they must be set before that.
    harness.set_thread_env(_thread_argv(sys.argv[1:]))

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from graphnet.core.model import Sequential  # noqa: E402
from graphnet.data import digits, xor  # noqa: E402
from graphnet.graph.execute import GraphLayer, compile_plan, graph_model  # noqa: E402
from graphnet.graph.network import GraphNetwork  # noqa: E402
from graphnet.graph.population import compile_population  # noqa: E402
from graphnet.graph.population_fit import train_population  # noqa: E402
from graphnet.rng import make_rng  # noqa: E402
from graphnet.train import fit  # noqa: E402

__all__ = ["CASES", "xor_graphs", "digits_graphs", "make_case", "train_pop", "train_loop",
           "split_back", "padded", "neat_genomes", "peak_memory", "bench", "format_report",
           "main"]

torch_available = harness.torch_available   # module names, so that tests can patch them


def neat_available() -> bool:
    """Whether neat-python can be imported (never a graphnet dependency)."""
    return importlib.util.find_spec("neat") is not None


# name -> sizes; "quick" shrinks every case to a smoke run
CASES = {
    "xor150": {"P": 150, "epochs": 100, "batch": 4, "lr": 0.05},
    "digits64": {"P": 64, "epochs": 1, "batch": 32, "lr": 0.01},
}
_QUICK = {"xor150": {"P": 6, "epochs": 3}, "digits64": {"P": 3, "n": 96}}
_SEED = 0


# ------------------------------------------------------------------------------ networks

def xor_graphs(P=150, *, seed=0) -> list:
    """P random XOR-sized graphs: 2 inputs, 1..6 hidden (tanh), 1 identity output.

    Examples
    --------
    >>> nets = xor_graphs(5)
    >>> [n.n_inputs for n in nets], all(1 <= n.n_hidden <= 6 for n in nets)
    ([2, 2, 2, 2, 2], True)
    """
    rng = make_rng(seed)
    return [GraphNetwork.random(2, int(rng.integers(1, 7)), 1, float(rng.uniform(0.5, 1.0)),
                                seed=seed * 1000 + k) for k in range(P)]


def digits_graphs(P=64, keep=0.5, *, seed=0) -> list:
    """P graphs of the 64-32-10 MLP with a fraction ``keep`` of the edges (seeded masks).

    Examples
    --------
    >>> net = digits_graphs(1)[0]
    >>> net.n_inputs, net.n_hidden, net.n_outputs, 0.4 < net.n_edges / 2368 < 0.6
    (64, 32, 10, True)
    """
    out = []
    for k in range(P):
        net = GraphNetwork.layered([64, 32, 10], seed=seed * 1000 + k)
        W = net.matrix()
        W *= make_rng(seed * 1000 + 500 + k).random(W.shape) < keep
        out.append(net.replace(W=W))
    return out


def make_case(name, quick=False) -> dict:
    """Networks, data and training settings of a case.

    Examples
    --------
    >>> c = make_case("xor150", quick=True)
    >>> len(c["nets"]), c["X"].shape, c["y"].shape, c["loss"], c["softmax"]
    (6, (4, 2), (4, 1), 'squared_error', False)
    """
    spec = dict(CASES[name])
    if quick:
        spec.update(_QUICK[name])
    if name == "xor150":
        X, labels = xor()
        nets = xor_graphs(spec["P"], seed=_SEED)
        y, loss, softmax = labels[:, None].astype(np.float64), "squared_error", False
    else:
        X, y = digits(scale="symmetric")
        if "n" in spec:
            X, y = X[:spec["n"]], y[:spec["n"]]
        nets = digits_graphs(spec["P"], seed=_SEED)
        loss, softmax = "cross_entropy", True
    return {"name": name, "nets": nets, "X": X, "y": y, "loss": loss, "softmax": softmax,
            "epochs": spec["epochs"], "batch": spec["batch"], "lr": spec["lr"]}


# ------------------------------------------------------------------------ implementations

def train_pop(case, strategy="auto", dtype=np.float64):
    """Compile the case's population and train it; returns ``(pop, compile seconds)``."""
    t0 = time.perf_counter()
    pop = compile_population(case["nets"], softmax=case["softmax"], strategy=strategy,
                             dtype=dtype)
    t1 = time.perf_counter()
    train_population(pop, case["X"], case["y"], loss=case["loss"], lr=case["lr"],
                     epochs=case["epochs"], batch_size=case["batch"], seed=_SEED)
    return pop, t1 - t0


def _model(net, softmax, dtype):
    return graph_model(net, dtype=dtype) if softmax else Sequential([GraphLayer(net, dtype=dtype)])


def train_loop(case, dtype=np.float64):
    """One plan per network, ``fit`` in a loop; returns ``(models, compile seconds)``."""
    models, compile_s = [], 0.0
    for net in case["nets"]:
        t0 = time.perf_counter()
        model = _model(net, case["softmax"], dtype)
        compile_s += time.perf_counter() - t0
        fit(model, case["X"][:, :net.n_inputs], case["y"], loss=case["loss"], lr=case["lr"],
            epochs=case["epochs"], batch_size=case["batch"], seed=_SEED)
        models.append(model)
    return models, compile_s


def split_back(trained) -> list:
    """The P trained networks: ``pop.networks()``, or each loop model's ``to_network()``."""
    if hasattr(trained, "networks"):
        return trained.networks()
    return [model.layers[0].to_network() for model in trained]


def padded(nets) -> dict:
    """The population as stacked padded arrays for the torch reference.

    Each network's nodes are laid out inputs first (in ``net.inputs`` order), then the
    others in node order, padded to the largest node count ``n``.

    Returns
    -------
    dict
        ``W``, ``mask`` (P, n, n); ``b``, ``tanh``, ``held`` (P, n) (``held``: input
        nodes); ``out`` (P, K) output positions; ``n_in`` (P,); ``T`` (largest depth).

    Examples
    --------
    >>> a = padded(xor_graphs(3))
    >>> a["W"].shape[0], a["out"].shape, int(a["T"]) >= 2
    (3, (3, 1), True)
    """
    P, n = len(nets), max(net.n_nodes for net in nets)
    K = nets[0].n_outputs
    W, mask = np.zeros((P, n, n)), np.zeros((P, n, n))
    b, tanh, held = np.zeros((P, n)), np.zeros((P, n), bool), np.zeros((P, n), bool)
    out, n_in, T = np.zeros((P, K), np.int64), np.zeros(P, np.int64), 1
    for k, net in enumerate(nets):
        assert set(net.activations) <= {"tanh", "identity"}, "torch reference: tanh/identity"
        order = np.concatenate([net.inputs, np.setdiff1d(np.arange(net.n_nodes), net.inputs)])
        pos = np.empty(net.n_nodes, np.int64)
        pos[order] = np.arange(net.n_nodes)
        m = net.n_nodes
        W[k, :m, :m] = net.matrix()[np.ix_(order, order)]
        mask[k, :m, :m] = W[k, :m, :m] != 0
        b[k, :m] = net.biases()[order]
        tanh[k, :m] = np.array(net.activations)[order] == "tanh"
        held[k, :net.n_inputs] = True
        out[k] = pos[net.outputs]
        n_in[k] = net.n_inputs
        T = max(T, len(net.levels()))
    return {"W": W, "mask": mask, "b": b, "tanh": tanh, "held": held, "out": out,
            "n_in": n_in, "T": np.int64(T)}


def _batches(n, epochs, batch, seed=_SEED):
    """The index batches ``fit`` draws: one permutation per epoch, cut in order."""
    rng = make_rng(seed)
    return [order[i:i + batch] for order in (rng.permutation(n) for _ in range(epochs))
            for i in range(0, n, batch)]


def torch_worker(in_path, out_path, threads) -> int:
    """The ``--torch-worker`` side: time the padded bmm reference; exit status."""
    torch = harness.import_torch(threads)
    if torch is None:
        return harness.NO_TORCH
    data, cfg = harness.read_worker_input(in_path)
    dt = getattr(torch, cfg["dtype"])
    a = {k: torch.from_numpy(np.ascontiguousarray(data[k])) for k in
         ("W", "mask", "b", "tanh", "held", "out", "X", "Y")}
    for k in ("W", "mask", "b", "X"):
        a[k] = a[k].to(dt)
    if not cfg["softmax"]:
        a["Y"] = a["Y"].to(dt)
    P, n = a["W"].shape[:2]
    K, T, batches = a["out"].shape[1], int(data["T"]), [torch.from_numpy(v) for v in
                                                       np.split(data["order"], data["cuts"])]
    n_feat = a["X"].shape[1]

    def forward(W, b, xb):
        H0 = torch.zeros((P, xb.shape[0], n), dtype=dt)
        m = min(n_feat, n)
        H0[:, :, :m] = xb[None, :, :m]
        H0 = H0 * a["held"][:, None, :]              # network k reads its first n_in columns
        H, Wm = H0, W * a["mask"]
        for _ in range(T):
            Z = torch.baddbmm(b[:, None, :], H, Wm)
            H = torch.where(a["held"][:, None, :], H0,
                            torch.where(a["tanh"][:, None, :], torch.tanh(Z), Z))
        idx = a["out"][:, None, :].expand(P, xb.shape[0], K)
        return torch.gather(H, 2, idx)               # (P, B, K)

    def train():
        W = a["W"].clone().requires_grad_(True)
        b = a["b"].clone().requires_grad_(True)
        opt = torch.optim.Adam([W, b], lr=cfg["lr"])
        for idx in batches:
            o, t = forward(W, b, a["X"][idx]), a["Y"][idx]
            if cfg["softmax"]:
                logp = torch.log_softmax(o, dim=2)
                loss = -(logp.gather(2, t[None, :, None].expand(P, -1, 1))).sum() / len(idx)
            else:
                loss = 0.5 * ((o - t[None]) ** 2).sum() / len(idx)
            opt.zero_grad()
            loss.backward()
            opt.step()

    with torch.no_grad():
        first = forward(a["W"], a["b"], a["X"]).numpy().transpose(1, 0, 2)

    def fwd():
        with torch.no_grad():
            forward(a["W"], a["b"], a["X"])

    timing = {}
    for name, fn in (("train", train), ("forward", fwd)):
        fn()                                          # warm-up
        ms = []
        for _ in range(cfg["repeats"]):
            t0 = time.perf_counter()
            fn()
            ms.append(1e3 * (time.perf_counter() - t0))
        timing[name] = ms
    harness.write_worker_output(out_path, {"first": first}, timing)
    return 0


def run_torch(case, repeats, threads, dtype=np.float64):
    """Time the torch reference in its own process; ``(timing dict or None, message)``."""
    arrays = padded(case["nets"])
    batches = _batches(len(case["X"]), case["epochs"], case["batch"])
    arrays.update(X=case["X"], Y=case["y"], order=np.concatenate(batches),
                  cuts=np.cumsum([len(v) for v in batches])[:-1])
    cfg = {"lr": case["lr"], "softmax": case["softmax"], "repeats": repeats,
           "dtype": np.dtype(dtype).name}
    out, msg = harness.run_worker(__file__, arrays, cfg, threads=threads, timeout=900,
                                  prefix="bench_pop_")
    if out is None:
        return None, msg
    pop = compile_population(case["nets"], softmax=False, dtype=dtype)
    diff = float(np.abs(out["first"] - pop.forward(case["X"])).max())
    return {"train": out["timing"]["train"], "forward": out["timing"]["forward"],
            "first_forward_diff": diff}, ""


def neat_genomes(P=150, *, seed=0):
    """P neat-python XOR genomes with 1..6 hidden nodes, and their config (neat imported here).

    The settings are ``neat_xor.cfg`` beside this file (neat-python's XOR example's).
    """
    import random
    import tempfile

    import neat

    random.seed(seed)                                # neat-python draws from `random`
    text = (Path(__file__).with_name("neat_xor.cfg")).read_text().replace("POP", str(P))
    with tempfile.NamedTemporaryFile("w", suffix=".cfg", delete=False) as fh:
        fh.write(text)
    try:
        cfg = neat.Config(neat.DefaultGenome, neat.DefaultReproduction,
                          neat.DefaultSpeciesSet, neat.DefaultStagnation, fh.name)
    finally:
        os.unlink(fh.name)
    genomes = list(neat.Population(cfg).population.values())
    for k, g in enumerate(genomes):
        for _ in range(1 + k % 6):
            g.mutate_add_node(cfg.genome_config)
    return genomes, cfg


def peak_memory(fn) -> float:
    """Peak traced allocation of ``fn()`` in MB (tracemalloc)."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2 ** 20
    finally:
        tracemalloc.stop()


# ------------------------------------------------------------------------------ the run

def _interleaved(fns, repeats):
    """Time each of ``fns`` (name -> callable) once per round; name -> (ms list, bg list)."""
    out = {name: ([], []) for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            seconds, other, _, wall = harness.timed_calls(fn, 1)
            out[name][0].append(1e3 * seconds[0])
            out[name][1].append(None if other is None else other / wall)
    return out


def _med(ms):
    return float(np.median(ms))


def _max_param_diff(pop, models) -> float:
    worst = 0.0
    for k, model in enumerate(models):
        w, b = pop.network_params(k)
        layer = model.layers[0]
        worst = max(worst, float(np.abs(w - layer.params["w"]).max(initial=0.0)),
                    float(np.abs(b - layer.params["b"]).max(initial=0.0)))
    return worst


def bench_case(name, *, quick, repeats, threads, use_torch, use_neat, strategy,
               dtype=np.float32) -> dict:
    """Check, then time one case; a JSON-able dict of figures (ms medians and ratios)."""
    case = make_case(name, quick)
    pop, _ = train_pop(case, strategy, dtype)
    models, _ = train_loop(case, dtype)
    res = {"case": name, "networks": len(case["nets"]), "steps": len(
        _batches(len(case["X"]), case["epochs"], case["batch"])),
        "edges": int(sum(n.n_edges for n in case["nets"])),
        "nodes": int(sum(n.n_nodes for n in case["nets"])),
        "union_groups": len(pop.groups), "kinds": [list(g.plan.kinds) for g in pop.groups],
        "max_param_diff_vs_loop": _max_param_diff(pop, models)}
    comp = {"population": [], "loop": []}            # per run: (total, compile, split) s

    def path(impl, train):                           # compile + train, then split back
        t0 = time.perf_counter()
        trained, compile_s = train()
        t1 = time.perf_counter()
        split_back(trained)
        t2 = time.perf_counter()
        comp[impl].append((t2 - t0, compile_s, t2 - t1))

    fns = {"population": lambda: path("population", lambda: train_pop(case, strategy, dtype)),
           "loop": lambda: path("loop", lambda: train_loop(case, dtype))}
    if name == "xor150":
        X = case["X"]
        X = X.astype(dtype)
        compiled = compile_population(case["nets"], softmax=False, strategy=strategy,
                                      dtype=dtype)
        plans = [compile_plan(net) for net in case["nets"]]
        fns["pop_compile_forward"] = lambda: compile_population(
            case["nets"], softmax=False, strategy=strategy, dtype=dtype).forward(X)
        fns["pop_forward"] = lambda: compiled.forward(X)
        fns["loop_compile_forward"] = lambda: [compile_plan(net)(X) for net in case["nets"]]
        fns["loop_forward"] = lambda: [plan(X) for plan in plans]
        if use_neat and neat_available():
            import neat
            genomes, cfg = neat_genomes(len(case["nets"]))
            points = [tuple(x) for x in X.tolist()]

            def neat_forward():
                for g in genomes:
                    net = neat.nn.FeedForwardNetwork.create(g, cfg)
                    for x in points:
                        net.activate(x)

            fns["neat_forward"] = neat_forward
        elif use_neat:
            res["neat"] = "neat-python not importable: neat column skipped"
    times = _interleaved(fns, repeats)
    res["ms"] = {k: _med(v[0]) for k, v in times.items()}
    res["bg"] = {k: max((b for b in v[1] if b is not None), default=None)
                 for k, v in times.items()}
    for impl, runs in comp.items():
        res["ms"][f"{impl}_compile"] = _med([1e3 * c for _, c, _ in runs])
        res["ms"][f"{impl}_train"] = _med([1e3 * (t - c - s) for t, c, s in runs])
        res["ms"][f"{impl}_split"] = _med([1e3 * s for _, _, s in runs])
        res["ms"][f"{impl}_no_split"] = _med([1e3 * (t - s) for t, _, s in runs])
    ms = res["ms"]
    res["speedup_train_total"] = ms["loop"] / ms["population"]
    res["speedup_no_split"] = ms["loop_no_split"] / ms["population_no_split"]
    res["speedup_train_only"] = ms["loop_train"] / ms["population_train"]
    if use_torch and torch_available():
        tr, msg = run_torch(case, repeats, threads, dtype)
        if tr is None:
            res["torch"] = msg
        else:
            ms["torch_bmm_train"] = _med(tr["train"])
            ms["torch_bmm_forward"] = _med(tr["forward"])
            res["torch_first_forward_diff"] = tr["first_forward_diff"]
    elif use_torch:
        res["torch"] = "torch not importable: torch column skipped"
    P = len(case["nets"])
    res["memory_mb"] = {"population": peak_memory(lambda: train_pop(case, strategy, dtype)),
                        "loop": peak_memory(lambda: train_loop(case, dtype))}
    for key, nets in (("compile_half", case["nets"][:max(1, P // 2)]),
                      ("compile_all", case["nets"])):
        res["memory_mb"][key] = peak_memory(lambda: compile_population(
            nets, softmax=case["softmax"], strategy=strategy, dtype=dtype))
    return res


def bench(cases, *, quick=False, repeats=5, threads=_DEFAULT_THREADS, use_torch=True,
          use_neat=True, strategy="auto", dtype="float32") -> dict:
    """Run the cases; returns ``{"environment": ..., "cases": [...]}``."""
    env = harness.environment(threads)
    out = [bench_case(c, quick=quick, repeats=repeats, threads=threads, use_torch=use_torch,
                      use_neat=use_neat, strategy=strategy, dtype=np.dtype(dtype).type)
           for c in cases]
    return {"environment": env, "quick": quick, "repeats": repeats, "strategy": strategy,
            "dtype": str(np.dtype(dtype)), "cases": out}


_AIMS = {"xor150": 20.0, "digits64": 3.0}


def format_report(results) -> str:
    """The figures as text: one block per case, ms medians and ratios."""
    lines = [f"bench_population: {results['dtype']}, threads "
             f"{results['environment']['threads']}, repeats {results['repeats']}, strategy "
             f"{results['strategy']!r}"
             + (" (quick)" if results["quick"] else "")]
    for r in results["cases"]:
        lines.append("")
        lines.append(f"{r['case']}: {r['networks']} networks, {r['nodes']} nodes, "
                     f"{r['edges']} edges, {r['steps']} steps; union plans "
                     f"{r['union_groups']} ({', '.join('/'.join(k) for k in r['kinds'])}); "
                     f"max |population - loop| of trained params {r['max_param_diff_vs_loop']:.1e}")
        for k, v in r["ms"].items():
            bg = r["bg"].get(k)
            lines.append(f"  {k:<22} {v:10.2f} ms" + (f"   (bg {bg:.2f} CPUs)" if bg else ""))
        aim = _AIMS[r["case"]]
        lines.append(f"  loop / population: {r['speedup_train_total']:.1f}x compile + train + "
                     f"split back (aim >= {aim:g}x), {r['speedup_no_split']:.1f}x compile + "
                     f"train, {r['speedup_train_only']:.1f}x train only")
        ms = r["ms"]
        if "torch_bmm_train" in ms:
            lines.append(f"  torch_bmm / population (train, compile included): "
                         f"{ms['torch_bmm_train'] / ms['population']:.2f}x; first forward "
                         f"max diff {r['torch_first_forward_diff']:.1e}")
        if "neat_forward" in ms:
            lines.append(f"  neat / population forward: {ms['neat_forward'] / ms['pop_forward']:.1f}x "
                         f"(compiled), {ms['neat_forward'] / ms['pop_compile_forward']:.2f}x "
                         f"(compile + forward)")
        for key in ("torch", "neat"):
            if key in r:
                lines.append(f"  {r[key]}")
        if "memory_mb" in r:
            mem = r["memory_mb"]
            lines.append(f"  peak traced memory, compile + train: population "
                         f"{mem['population']:.2f} MB, loop {mem['loop']:.2f} MB; compile "
                         f"half / all networks: {mem['compile_half']:.2f} / "
                         f"{mem['compile_all']:.2f} MB "
                         f"({mem['compile_all'] / mem['compile_half']:.1f}x; 2x: linear)")
    return "\n".join(lines)


def _parser():
    p = argparse.ArgumentParser(
        prog="bench_population.py",
        description="Time a population of graphs trained as one plan against one plan per "
                    "network, torch.bmm batching and neat-python's evaluation.")
    p.add_argument("--cases", nargs="+", choices=sorted(CASES), default=list(CASES))
    p.add_argument("--quick", action="store_true", help="tiny sizes, one round (smoke run)")
    p.add_argument("--repeats", type=int, default=None, help="timed rounds (default 5)")
    p.add_argument("--threads", type=int, default=_DEFAULT_THREADS)
    p.add_argument("--strategy", default="auto", help="compile_population's strategy")
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    p.add_argument("--no-torch", action="store_true")
    p.add_argument("--no-neat", action="store_true")
    harness.add_common_options(p)
    return p


def main(argv=None) -> int:
    """Command-line entry point; returns the exit status.

    Examples
    --------
    >>> _parser().parse_args(["--quick", "--cases", "xor150"]).cases
    ['xor150']
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    p = _parser()
    args = p.parse_args(argv)
    harness.check_counts(p, args, ("repeats", "threads"))
    if args.torch_worker:
        return torch_worker(*args.torch_worker, args.threads)
    repeats = args.repeats or (1 if args.quick else 5)
    with harness.thread_limit(args.threads):
        results = bench(args.cases, quick=args.quick, repeats=repeats, threads=args.threads,
                        use_torch=not args.no_torch, use_neat=not args.no_neat,
                        strategy=args.strategy, dtype=args.dtype)
    print(format_report(results))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=1, default=harness.json_default)
    return 0


if __name__ == "__main__":
    sys.exit(main())
