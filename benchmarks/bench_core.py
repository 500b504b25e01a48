"""Speed of one training step of graphnet's backprop core, against two references.

One *step* is forward + cross-entropy loss + backward + one SGD update, in float32, on a
fixed random batch. Two networks (see ``ARCHITECTURES`` below), three implementations:

``graphnet``
    :mod:`graphnet.core` (``Sequential.loss_and_backward`` then ``SGD.step``).
``naive``
    A reference written in this file: the same network, the convolutions and poolings as
    explicit Python loops over output pixels (numpy inside the loop body). It is slow, so
    it is timed with fewer repeats and, where ``naive_batch`` is smaller than the batch,
    on a smaller batch whose time is scaled linearly (the table says so).
``torch``
    PyTorch on the CPU, when importable. It runs in a separate process
    (``python bench_core.py --torch-worker IN OUT``) so that torch's OpenMP pool and
    numpy's OpenBLAS pool never share one process.

Before timing, each model is checked: graphnet's first-step loss and gradients are compared
with the naive reference (on the naive batch) and with torch (on the full batch), all
starting from the same weights (graphnet's kernels flipped for torch, whose ``conv2d`` is a
cross-correlation while graphnet's ``Conv2D`` is a true convolution). The max abs
differences are printed, so the three columns time the same computation.

Threads: ``--threads N`` (default 2). Run as a script, this file sets ``OMP_NUM_THREADS``,
``OPENBLAS_NUM_THREADS`` and ``MKL_NUM_THREADS`` to N *before numpy is imported*; it also
applies ``threadpoolctl.threadpool_limits(N)`` around the timed loops when threadpoolctl is
installed (it comes with scikit-learn), which covers the case where numpy was imported
first (the tests). The torch worker gets the same variables and calls
``torch.set_num_threads(N)`` and ``torch.set_num_interop_threads(1)``.

Timing: ``warmup`` untimed steps, then ``repeats`` steps each timed with
``time.perf_counter`` with the garbage collector off; the median and the minimum are
reported. The CPU time used by *other* processes during each timed loop (from
``/proc/stat``) is reported as "bg load": on a small machine shared with other jobs, a
2-thread BLAS call waits for a busy core, and figures taken under load are not comparable.

Usage (from the repository root)::

    python benchmarks/bench_core.py                  # full run, table on stdout
    python benchmarks/bench_core.py --quick          # smoke run, a few seconds
    python benchmarks/bench_core.py --json out.json  # also write the results
    python benchmarks/bench_core.py --breakdown      # per-layer forward/backward times
    python benchmarks/bench_core.py --profile        # cProfile of graphnet's steps
"""

from __future__ import annotations

import os
import sys

try:
    from benchmarks import harness
except ImportError:  # run as a script, or loaded by file path: harness.py is beside this file
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import harness

if __name__ == "__main__":
    # BLAS reads these once, when numpy is first imported: they must be set before that.
    harness.set_thread_env(sys.argv[1:])

import argparse  # noqa: E402
import cProfile  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import pstats  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

_DEFAULT_THREADS = harness.DEFAULT_THREADS
_BUSY = harness.BUSY
torch_available = harness.torch_available
_wait_idle = harness.wait_for_idle    # module names, so that tests can patch them
_timed_loop = harness.timed_loop

__all__ = [
    "ARCHITECTURES",
    "TARGETS",
    "conv",
    "pool",
    "flatten",
    "dense",
    "softmax",
    "layer_shapes",
    "build_graphnet",
    "graphnet_weights",
    "make_batch",
    "graphnet_step",
    "NaiveNet",
    "time_steps",
    "torch_available",
    "run_torch",
    "layer_breakdown",
    "profile_graphnet",
    "bench_model",
    "format_table",
    "main",
]


# ------------------------------------------------------------------ architecture spec

def conv(c_in, c_out, k, *, padding=0, act="relu"):
    """A convolution in the spec: ``k`` x ``k`` true convolution, ``padding`` zeros each side.

    Examples
    --------
    >>> conv(1, 6, 5, padding=2)["c_out"]
    6
    """
    return {"kind": "conv", "c_in": c_in, "c_out": c_out, "k": k, "padding": padding, "act": act}


def pool(size=2, method="max", edge="pad"):
    """A pooling layer in the spec (graphnet's ``Pool2D(size, method, edge)``).

    Examples
    --------
    >>> pool()["method"]
    'max'
    """
    return {"kind": "pool", "size": size, "method": method, "edge": edge}


def flatten():
    """The flatten (rasterizing) layer in the spec.

    Examples
    --------
    >>> flatten()
    {'kind': 'flatten'}
    """
    return {"kind": "flatten"}


def dense(n_in, n_out, act="identity"):
    """A fully connected layer in the spec, ``act(x @ W + b)``.

    Examples
    --------
    >>> dense(84, 10)["act"]
    'identity'
    """
    return {"kind": "dense", "n_in": n_in, "n_out": n_out, "act": act}


def softmax():
    """The softmax layer in the spec; it must come last (the loss is cross-entropy).

    Examples
    --------
    >>> softmax()
    {'kind': 'softmax'}
    """
    return {"kind": "softmax"}


# =====================================================================================
# ARCHITECTURES: the benchmarked networks, all in this one place. Edit here to retune.
#   batch        the batch the step is timed on
#   naive_batch  the batch the naive loop reference is timed on (time scaled linearly)
# =====================================================================================
ARCHITECTURES = {
    "lenet5": {
        "input_shape": (1, 28, 28),
        "n_classes": 10,
        "batch": 64,
        "naive_batch": 16,
        "layers": [
            conv(1, 6, 5, padding=2, act="relu"),   # (6, 28, 28)
            pool(2, "max"),                         # (6, 14, 14)
            conv(6, 16, 5, act="relu"),             # (16, 10, 10)
            pool(2, "max"),                         # (16, 5, 5)
            flatten(),                              # (400,)
            dense(400, 120, "relu"),
            dense(120, 84, "relu"),
            dense(84, 10),
            softmax(),
        ],
    },
    "digits_cnn": {
        "input_shape": (1, 8, 8),
        "n_classes": 10,
        "batch": 64,
        "naive_batch": 64,
        "layers": [
            conv(1, 32, 3, padding=1, act="relu"),  # (32, 8, 8)
            pool(2, "max"),                         # (32, 4, 4)
            flatten(),                              # (512,)
            dense(512, 64, "relu"),
            dense(64, 10),
            softmax(),
        ],
    },
}

# The lead's targets: graphnet's median step time divided by torch's must be at most this.
TARGETS = {"lenet5": 1.0, "digits_cnn": 0.5}
# =====================================================================================

_IMPLS = ("graphnet", "naive", "torch")
_LR = 0.01


def layer_shapes(arch) -> list:
    """Per-sample output shape of every layer of ``arch``; checks that the spec fits together.

    Parameters
    ----------
    arch : dict
        An entry of ``ARCHITECTURES`` (``input_shape``, ``layers``, ...).

    Returns
    -------
    list of tuple
        One shape per layer, without the batch axis.

    Raises
    ------
    ValueError
        For a layer whose input does not match the previous layer's output, an unknown
        kind, or a spec that does not end in a softmax over ``n_classes``.

    Examples
    --------
    >>> layer_shapes(ARCHITECTURES["digits_cnn"])
    [(32, 8, 8), (32, 4, 4), (512,), (64,), (10,), (10,)]
    """
    shape = tuple(arch["input_shape"])
    shapes = []
    for k, layer in enumerate(arch["layers"]):
        kind = layer["kind"]
        if kind == "conv":
            c, h, w = shape
            if c != layer["c_in"]:
                raise ValueError(f"layer {k} (conv): expects {layer['c_in']} channels, gets {c}")
            s, p = layer["padding"], layer["k"]
            shape = (layer["c_out"], h + 2 * s - p + 1, w + 2 * s - p + 1)
            if min(shape[1:]) < 1:
                raise ValueError(f"layer {k} (conv): kernel {p} larger than the input {h}x{w}")
        elif kind == "pool":
            c, h, w = shape
            size = layer["size"]
            if layer["edge"] == "pad":
                shape = (c, -(-h // size), -(-w // size))
            else:
                shape = (c, h // size, w // size)
        elif kind == "flatten":
            shape = (int(np.prod(shape)),)
        elif kind == "dense":
            if shape != (layer["n_in"],):
                raise ValueError(f"layer {k} (dense): expects ({layer['n_in']},), gets {shape}")
            shape = (layer["n_out"],)
        elif kind == "softmax":
            if k != len(arch["layers"]) - 1:
                raise ValueError(f"layer {k}: the softmax must be the last layer")
        else:
            raise ValueError(f"layer {k}: unknown kind {kind!r}")
        shapes.append(shape)
    if not arch["layers"] or arch["layers"][-1]["kind"] != "softmax" \
            or shapes[-1] != (arch["n_classes"],):
        raise ValueError(f"the spec must end in a softmax over {arch['n_classes']} classes")
    return shapes


def build_graphnet(arch, *, seed=0, dtype=np.float32):
    """The graphnet :class:`~graphnet.core.model.Sequential` for ``arch``.

    Parameters
    ----------
    arch : dict
    seed : int
        Layer ``k`` gets ``rng=seed + k``: same seed, same weights.
    dtype : float32 or float64

    Returns
    -------
    Sequential

    Examples
    --------
    >>> build_graphnet(ARCHITECTURES["digits_cnn"]).n_params
    33802
    """
    from graphnet.core.layers import Conv2D, Dense, Flatten, Pool2D, Softmax
    from graphnet.core.model import Sequential

    layer_shapes(arch)
    layers = []
    for k, spec in enumerate(arch["layers"]):
        kind = spec["kind"]
        if kind == "conv":
            layers.append(Conv2D(spec["c_in"], spec["c_out"], spec["k"], padding=spec["padding"],
                                 activation=spec["act"], rng=seed + k, dtype=dtype))
        elif kind == "pool":
            layers.append(Pool2D(spec["size"], spec["method"], spec["edge"]))
        elif kind == "flatten":
            layers.append(Flatten())
        elif kind == "dense":
            layers.append(Dense(spec["n_in"], spec["n_out"], activation=spec["act"],
                                rng=seed + k, dtype=dtype))
        else:
            layers.append(Softmax())
    return Sequential(layers)


def graphnet_weights(model) -> list:
    """Copies of ``(W, b)`` of every layer with parameters, in layer order (graphnet layout).

    Examples
    --------
    >>> [w.shape for w, b in graphnet_weights(build_graphnet(ARCHITECTURES["digits_cnn"]))]
    [(32, 1, 3, 3), (512, 64), (64, 10)]
    """
    return [(layer.params["W"].copy(), layer.params["b"].copy())
            for layer in model.layers if layer.params]


def make_batch(arch, batch, *, seed=0, dtype=np.float32):
    """A random batch: standard normal images and uniform integer labels.

    Returns
    -------
    x : ndarray of shape (batch, c, h, w)
    t : ndarray of shape (batch,), int64

    Examples
    --------
    >>> x, t = make_batch(ARCHITECTURES["digits_cnn"], 3)
    >>> x.shape, x.dtype, t.shape
    ((3, 1, 8, 8), dtype('float32'), (3,))
    """
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, *arch["input_shape"])).astype(dtype)
    t = rng.integers(0, arch["n_classes"], size=batch).astype(np.int64)
    return x, t


def graphnet_step(model, opt, x, t) -> float:
    """One graphnet training step: forward, cross-entropy, backward, ``opt.step``.

    Examples
    --------
    >>> from graphnet.core.optim import SGD
    >>> arch = ARCHITECTURES["digits_cnn"]
    >>> x, t = make_batch(arch, 2)
    >>> loss = graphnet_step(build_graphnet(arch), SGD(0.01), x, t)
    >>> loss > 0
    True
    """
    loss = model.loss_and_backward(x, t, "cross_entropy")
    opt.step(model.params_and_grads())
    return loss


# ------------------------------------------------------------------ the naive reference

def _n_relu(z):
    return np.maximum(z, 0)


def _n_sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


_NAIVE_ACT = {
    "relu": (_n_relu, lambda o: (o > 0).astype(o.dtype)),
    "tanh": (np.tanh, lambda o: 1 - o * o),
    "sigmoid": (_n_sigmoid, lambda o: o * (1 - o)),
    "identity": (lambda z: z, lambda o: np.ones_like(o)),
}


class NaiveNet:
    """The spec's network with per-pixel Python loops for convolution and pooling.

    Independent of graphnet's code: its own padding, its own (flipped-kernel) true
    convolution, its own max routing (first maximum on ties), softmax and cross-entropy.

    Parameters
    ----------
    arch : dict
    weights : list of (W, b)
        In graphnet's layout (:func:`graphnet_weights`): conv ``W`` (c_out, c_in, p, q),
        dense ``W`` (n_in, n_out). Copied.

    Examples
    --------
    >>> arch = ARCHITECTURES["digits_cnn"]
    >>> net = NaiveNet(arch, graphnet_weights(build_graphnet(arch)))
    >>> x, t = make_batch(arch, 2)
    >>> loss, grads = net.loss_and_grads(x, t)
    >>> [g.shape for g, _ in grads]
    [(32, 1, 3, 3), (512, 64), (64, 10)]
    """

    def __init__(self, arch, weights):
        layer_shapes(arch)
        self.arch = arch
        self.weights = [(np.array(W), np.array(b)) for W, b in weights]
        n_param_layers = sum(spec["kind"] in ("conv", "dense") for spec in arch["layers"])
        if len(self.weights) != n_param_layers:
            raise ValueError(f"NaiveNet: {len(self.weights)} weight pairs for "
                             f"{n_param_layers} layers with parameters")

    # convolution: z[:, o, i, j] = sum over the window of xpad * rot180(W[o])
    @staticmethod
    def _conv_forward(x, W, b, padding):
        n, c, h, w = x.shape
        c_out, _, p, q = W.shape
        xp = np.zeros((n, c, h + 2 * padding, w + 2 * padding), dtype=x.dtype)
        xp[:, :, padding:padding + h, padding:padding + w] = x
        oh, ow = xp.shape[2] - p + 1, xp.shape[3] - q + 1
        Wf = W[:, :, ::-1, ::-1].reshape(c_out, c * p * q)  # flipped: a true convolution
        z = np.empty((n, c_out, oh, ow), dtype=x.dtype)
        for i in range(oh):
            for j in range(ow):
                window = xp[:, :, i:i + p, j:j + q].reshape(n, c * p * q)
                z[:, :, i, j] = window @ Wf.T + b
        return z, xp

    @staticmethod
    def _conv_backward(dz, xp, W, padding, xshape):
        n, c, h, w = xshape
        c_out, _, p, q = W.shape
        oh, ow = dz.shape[2:]
        Wf = W[:, :, ::-1, ::-1].reshape(c_out, c * p * q)
        dWf = np.zeros_like(Wf)
        dxp = np.zeros_like(xp)
        for i in range(oh):
            for j in range(ow):
                d = dz[:, :, i, j]                                    # (n, c_out)
                window = xp[:, :, i:i + p, j:j + q].reshape(n, c * p * q)
                dWf += d.T @ window
                dxp[:, :, i:i + p, j:j + q] += (d @ Wf).reshape(n, c, p, q)
        dW = dWf.reshape(c_out, c, p, q)[:, :, ::-1, ::-1]
        db = dz.sum(axis=(0, 2, 3))
        return dxp[:, :, padding:padding + h, padding:padding + w], dW, db

    @staticmethod
    def _pool_forward(x, size, method, edge):
        n, c, h, w = x.shape
        if edge == "pad":
            oh, ow = -(-h // size), -(-w // size)
        else:
            oh, ow = h // size, w // size
        xq = np.zeros((n, c, oh * size, ow * size), dtype=x.dtype)   # zero padding (pad edge)
        hh, ww = min(h, oh * size), min(w, ow * size)
        xq[:, :, :hh, :ww] = x[:, :, :hh, :ww]
        out = np.empty((n, c, oh, ow), dtype=x.dtype)
        arg = np.empty((n, c, oh, ow), dtype=np.int64) if method == "max" else None
        for i in range(oh):
            for j in range(ow):
                win = xq[:, :, i * size:(i + 1) * size, j * size:(j + 1) * size]
                win = win.reshape(n, c, size * size)
                if method == "max":
                    k = win.argmax(axis=2)                                # first max on ties
                    arg[:, :, i, j] = k
                    out[:, :, i, j] = np.take_along_axis(win, k[..., None], axis=2)[..., 0]
                else:
                    out[:, :, i, j] = win.mean(axis=2)
        return out, arg

    @staticmethod
    def _pool_backward(delta, arg, size, method, xshape):
        n, c, h, w = xshape
        oh, ow = delta.shape[2:]
        dxq = np.zeros((n, c, oh * size, ow * size), dtype=delta.dtype)
        for i in range(oh):
            for j in range(ow):
                if method == "max":
                    blk = np.zeros((n, c, size * size), dtype=delta.dtype)
                    np.put_along_axis(blk, arg[:, :, i, j][..., None],
                                      delta[:, :, i, j][..., None], axis=2)
                else:
                    blk = np.repeat(delta[:, :, i, j][..., None] / (size * size),
                                    size * size, axis=2)
                dxq[:, :, i * size:(i + 1) * size, j * size:(j + 1) * size] = \
                    blk.reshape(n, c, size, size)
        dx = np.zeros(xshape, dtype=delta.dtype)
        hh, ww = min(h, oh * size), min(w, ow * size)
        dx[:, :, :hh, :ww] = dxq[:, :, :hh, :ww]
        return dx

    def loss_and_grads(self, x, t):
        """Forward and backward on ``(x, t)``: the batch-mean loss and ``[(dW, db), ...]``."""
        caches, h, widx = [], x, 0
        for spec in self.arch["layers"]:
            kind = spec["kind"]
            if kind == "conv":
                W, b = self.weights[widx]
                z, xp = self._conv_forward(h, W, b, spec["padding"])
                o = _NAIVE_ACT[spec["act"]][0](z)
                caches.append((xp, h.shape, o, widx))
                h, widx = o, widx + 1
            elif kind == "pool":
                o, arg = self._pool_forward(h, spec["size"], spec["method"], spec["edge"])
                caches.append((arg, h.shape))
                h = o
            elif kind == "flatten":
                caches.append(h.shape)
                h = h.reshape(h.shape[0], -1)
            elif kind == "dense":
                W, b = self.weights[widx]
                o = _NAIVE_ACT[spec["act"]][0](h @ W + b)
                caches.append((h, o, widx))
                h, widx = o, widx + 1
            else:
                caches.append(None)
        # softmax + cross-entropy, fused: dE/dz = (p - onehot) / n
        z = h - h.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        n = x.shape[0]
        loss = float(-np.log(np.clip(p[np.arange(n), t], 1e-12, None)).sum() / n)
        delta = p.copy()
        delta[np.arange(n), t] -= 1
        delta /= n
        grads = [None] * len(self.weights)
        for spec, cache in zip(reversed(self.arch["layers"][:-1]), reversed(caches[:-1])):
            kind = spec["kind"]
            if kind == "conv":
                xp, xshape, o, widx = cache
                dz = delta * _NAIVE_ACT[spec["act"]][1](o)
                delta, dW, db = self._conv_backward(dz, xp, self.weights[widx][0],
                                                    spec["padding"], xshape)
                grads[widx] = (dW, db)
            elif kind == "pool":
                arg, xshape = cache
                delta = self._pool_backward(delta, arg, spec["size"], spec["method"], xshape)
            elif kind == "flatten":
                delta = delta.reshape(cache)
            else:
                hin, o, widx = cache
                dz = delta * _NAIVE_ACT[spec["act"]][1](o)
                grads[widx] = (hin.T @ dz, dz.sum(axis=0))
                delta = dz @ self.weights[widx][0].T
        return loss, grads

    def step(self, x, t, lr=_LR) -> float:
        """One naive training step (plain SGD ``W -= lr * dW``); returns the loss."""
        loss, grads = self.loss_and_grads(x, t)
        for (W, b), (dW, db) in zip(self.weights, grads):
            W -= lr * dW
            b -= lr * db
        return loss


# ------------------------------------------------------------------------------ timing

def time_steps(step, *, warmup=3, repeats=20, threads=None, wait_idle=0.0) -> dict:
    """Time ``step()`` calls: ``warmup`` untimed, then ``repeats`` timed one by one.

    The garbage collector is off while timing; ``threads`` limits the BLAS pools
    (threadpoolctl) when given. With ``wait_idle`` > 0, first wait up to that many seconds
    for the other processes on the machine to go quiet, and re-time (up to 3 more times)
    a loop during which they used more than 0.25 CPUs; the quietest loop is kept.

    Returns
    -------
    dict
        ``ms_median``, ``ms_min``, ``ms_all`` (list), ``repeats``, ``warmup``,
        ``bg_load`` (CPUs' worth of time other processes used meanwhile; None off Linux),
        ``steal`` (likewise for hypervisor steal), ``idle_wait_s`` and ``attempts``.

    Examples
    --------
    >>> r = time_steps(lambda: None, warmup=1, repeats=3)
    >>> len(r["ms_all"]), r["ms_min"] <= r["ms_median"], r["attempts"]
    (3, True, 1)
    """
    if repeats < 1 or warmup < 0:
        raise ValueError(f"time_steps: need repeats >= 1 and warmup >= 0, got {repeats}, {warmup}")
    best, waited = harness.least_disturbed(lambda: _timed_loop(step, warmup, repeats, threads),
                                           wait_idle=wait_idle, wait=_wait_idle)
    best["idle_wait_s"] = waited
    return best


# ------------------------------------------------------------------------------- torch

def _to_torch_layout(arch, weights):
    """graphnet (W, b) -> torch's: conv kernels flipped (cross-correlation), dense W.T."""
    out, it = [], iter(weights)
    for spec in arch["layers"]:
        if spec["kind"] == "conv":
            W, b = next(it)
            out.append((np.ascontiguousarray(W[:, :, ::-1, ::-1]), b))
        elif spec["kind"] == "dense":
            W, b = next(it)
            out.append((np.ascontiguousarray(W.T), b))
    return out


def _from_torch_layout(arch, weights):
    """Inverse of :func:`_to_torch_layout` (both maps are involutions on their kinds)."""
    return _to_torch_layout(arch, weights)


def _torch_worker(in_path, out_path) -> int:
    """The ``--torch-worker`` process: check, warm up and time torch; write ``out_path``."""
    data, cfg = harness.read_worker_input(in_path)
    arch = cfg["arch"]
    torch = harness.import_torch(cfg["threads"])
    if torch is None:
        return harness.NO_TORCH
    import torch.nn.functional as TF
    from torch import nn

    acts = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "identity": nn.Identity}
    shapes = [tuple(arch["input_shape"])] + [tuple(s) for s in layer_shapes(arch)]
    mods, param_mods = [], []
    for k, spec in enumerate(arch["layers"]):
        kind = spec["kind"]
        if kind == "conv":
            m = nn.Conv2d(spec["c_in"], spec["c_out"], spec["k"], padding=spec["padding"])
            mods += [m, acts[spec["act"]]()]
            param_mods.append(m)
        elif kind == "pool":
            _, h, w = shapes[k]
            size = spec["size"]
            if spec["edge"] == "pad" and (h % size or w % size):
                # graphnet pads with zeros that take part in the max / mean
                mods.append(nn.ZeroPad2d((0, (-w) % size, 0, (-h) % size)))
            mods.append(nn.MaxPool2d(size) if spec["method"] == "max" else nn.AvgPool2d(size))
        elif kind == "flatten":
            mods.append(nn.Flatten())
        elif kind == "dense":
            m = nn.Linear(spec["n_in"], spec["n_out"])
            mods += [m, acts[spec["act"]]()]
            param_mods.append(m)
        # softmax: fused into F.cross_entropy, which takes logits
    net = nn.Sequential(*mods)
    n_pairs = len(param_mods)
    with torch.no_grad():
        for k, m in enumerate(param_mods):
            m.weight.copy_(torch.from_numpy(data[f"W{k}"]))
            m.bias.copy_(torch.from_numpy(data[f"b{k}"]))
    x = torch.from_numpy(data["x"])
    t = torch.from_numpy(data["t"])
    opt = torch.optim.SGD(net.parameters(), lr=cfg["lr"])

    def step():
        opt.zero_grad(set_to_none=True)
        loss = TF.cross_entropy(net(x), t)
        loss.backward()
        opt.step()
        return loss

    # the check: loss and gradients of the first step, before any update
    loss0 = TF.cross_entropy(net(x), t)
    loss0.backward()
    result = {"loss0": np.array(float(loss0))}
    for k, m in enumerate(param_mods):
        result[f"gW{k}"] = m.weight.grad.detach().numpy().copy()
        result[f"gb{k}"] = m.bias.grad.detach().numpy().copy()
    timing = time_steps(step, warmup=cfg["warmup"], repeats=cfg["repeats"],
                        wait_idle=cfg["wait_idle"])
    timing.update({"torch_version": torch.__version__, "torch_threads": torch.get_num_threads(),
                   "torch_interop_threads": torch.get_num_interop_threads(), "n_pairs": n_pairs})
    harness.write_worker_output(out_path, result, timing)
    return 0


def run_torch(arch, weights, x, t, *, warmup=3, repeats=20, threads=_DEFAULT_THREADS,
              lr=_LR, wait_idle=0.0, timeout=600.0):
    """Check and time torch on ``(x, t)`` in a subprocess, from graphnet's ``weights``.

    Returns
    -------
    result : dict or None
        ``loss0``, ``grads0`` (graphnet layout) and the :func:`time_steps` fields plus
        ``torch_version``; None when torch is missing or the worker failed.
    message : str
        Why torch was skipped ("" when it ran).
    """
    if not torch_available():
        return None, "torch is not installed: torch column skipped"
    tl = _to_torch_layout(arch, weights)
    cfg = {"arch": arch, "threads": int(threads), "warmup": int(warmup),
           "repeats": int(repeats), "lr": float(lr), "wait_idle": float(wait_idle)}
    arrays = {"x": x, "t": t}
    for k, (W, b) in enumerate(tl):
        arrays[f"W{k}"], arrays[f"b{k}"] = W, b
    out, msg = harness.run_worker(__file__, arrays, cfg, threads=threads, timeout=timeout,
                                  prefix="bench_core_")
    if out is None:
        return None, msg
    timing = out["timing"]
    grads_t = [(out[f"gW{k}"], out[f"gb{k}"]) for k in range(timing["n_pairs"])]
    timing["loss0"] = float(out["loss0"])
    timing["grads0"] = _from_torch_layout(arch, grads_t)
    return timing, ""


# --------------------------------------------------------------------------- profiling

def layer_breakdown(model, x, t, *, repeats=20, warmup=3, threads=None) -> list:
    """Median time of each layer's forward and backward, of the loss and of the SGD update.

    Mirrors ``Sequential.loss_and_backward`` with a clock around every call.

    Returns
    -------
    list of (str, float)
        ``("<k> <Layer repr> forward", ms)`` ..., in execution order; the last row is
        the whole step as timed piecewise.

    Examples
    --------
    >>> arch = ARCHITECTURES["digits_cnn"]
    >>> x, t = make_batch(arch, 2)
    >>> rows = layer_breakdown(build_graphnet(arch), x, t, repeats=1, warmup=0)
    >>> rows[0][0], rows[-1][0]
    ('0 Conv2D forward', 'total')
    """
    from graphnet.core.losses import CrossEntropy
    from graphnet.core.optim import SGD

    loss_fn, opt = CrossEntropy(), SGD(_LR)
    layers = model.layers
    names = ([f"{k} {type(layer).__name__} forward" for k, layer in enumerate(layers)]
             + ["loss + softmax delta"]
             + [f"{k} {type(layers[k]).__name__} backward" for k in range(len(layers) - 2, -1, -1)]
             + ["SGD step"])
    samples = {name: [] for name in names}
    clock = time.perf_counter
    with harness.thread_limit(threads):
        for r in range(warmup + repeats):
            times = []
            h = x
            for layer in layers:
                t0 = clock()
                h = layer.output(h)
                times.append(clock() - t0)
            t0 = clock()
            loss_fn(h, t)
            delta = loss_fn.softmax_delta(h, t)
            times.append(clock() - t0)
            for layer in reversed(layers[:-1]):
                t0 = clock()
                delta = layer.backpropagate(delta)
                times.append(clock() - t0)
            t0 = clock()
            opt.step(model.params_and_grads())
            times.append(clock() - t0)
            if r >= warmup:
                for name, s in zip(names, times):
                    samples[name].append(1e3 * s)
    rows = [(name, float(np.median(v))) for name, v in samples.items()]
    rows.append(("total", float(sum(ms for _, ms in rows))))
    return rows


def profile_graphnet(model, x, t, *, steps=20, threads=None, top=20) -> str:
    """cProfile ``steps`` graphnet steps; the ``top`` functions by own time, as text.

    Examples
    --------
    >>> arch = ARCHITECTURES["digits_cnn"]
    >>> x, t = make_batch(arch, 2)
    >>> "function calls" in profile_graphnet(build_graphnet(arch), x, t, steps=1, top=3)
    True
    """
    from graphnet.core.optim import SGD

    opt = SGD(_LR)
    graphnet_step(model, opt, x, t)
    prof = cProfile.Profile()
    with harness.thread_limit(threads):
        prof.enable()
        for _ in range(steps):
            graphnet_step(model, opt, x, t)
        prof.disable()
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(top)
    return buf.getvalue()


# ------------------------------------------------------------------------------ driver

def _max_abs_grad_diff(ga, gb) -> float:
    return float(max(max(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)))
                         for a, b in zip(pa, pb)) for pa, pb in zip(ga, gb)))


def bench_model(name, arch, *, impls=_IMPLS, warmup=5, repeats=50, naive_warmup=1,
                naive_repeats=3, naive_batch=None, threads=_DEFAULT_THREADS, seed=0,
                breakdown=False, wait_idle=0.0, log=print) -> dict:
    """Check, then time, one architecture under each implementation in ``impls``.

    Parameters
    ----------
    name : str
    arch : dict
    impls : sequence of {"graphnet", "naive", "torch"}
    warmup, repeats : int
        For graphnet and torch.
    naive_warmup, naive_repeats : int
    naive_batch : int, optional
        Batch the naive reference is timed on (default ``arch["naive_batch"]``); its times
        are scaled by ``batch / naive_batch``.
    threads : int
    seed : int
    breakdown : bool
        Also time graphnet layer by layer.
    wait_idle : float
        Before each timed loop, wait up to this many seconds for the machine to go quiet.
    log : callable
        Receives progress and check lines.

    Returns
    -------
    dict
        ``results`` (one dict per implementation that ran), ``checks``, ``skipped``,
        ``breakdown`` (or None), ``target``.

    Examples
    --------
    >>> arch = ARCHITECTURES["digits_cnn"]
    >>> out = bench_model("digits_cnn", arch, impls=("graphnet",), warmup=0, repeats=1,
    ...                   log=lambda s: None)
    >>> [r["impl"] for r in out["results"]]
    ['graphnet']
    """
    from graphnet.core.optim import SGD

    unknown = set(impls) - set(_IMPLS)
    if unknown:
        raise ValueError(f"bench_model: unknown implementations {sorted(unknown)}")
    batch = int(arch["batch"])
    nb = min(batch, int(naive_batch or arch.get("naive_batch", batch)))
    x, t = make_batch(arch, batch, seed=seed)
    model = build_graphnet(arch, seed=seed)
    w0 = graphnet_weights(model)
    checks, results, skipped = {}, [], {}

    # --- checks: same weights, same batch, the first step's loss and gradients
    ref_loss = model.loss_and_backward(x, t, "cross_entropy")
    ref_grads = [(layer.grads["W"].copy(), layer.grads["b"].copy())
                 for layer in model.layers if layer.params]
    checks["graphnet_loss0"] = ref_loss
    if "naive" in impls:
        sub = build_graphnet(arch, seed=seed)
        sub_loss = sub.loss_and_backward(x[:nb], t[:nb], "cross_entropy")
        sub_grads = [(layer.grads["W"], layer.grads["b"]) for layer in sub.layers if layer.params]
        n_loss, n_grads = NaiveNet(arch, w0).loss_and_grads(x[:nb], t[:nb])
        checks["naive_loss_diff"] = abs(n_loss - sub_loss)
        checks["naive_grad_diff"] = _max_abs_grad_diff(n_grads, sub_grads)
        log(f"  check {name} naive vs graphnet (batch {nb}): |loss diff| = "
            f"{checks['naive_loss_diff']:.2e}, max |grad diff| = {checks['naive_grad_diff']:.2e}")

    # --- timing
    if "graphnet" in impls:
        opt = SGD(_LR)
        r = time_steps(lambda: graphnet_step(model, opt, x, t), warmup=warmup, repeats=repeats,
                       threads=threads, wait_idle=wait_idle)
        results.append({"impl": "graphnet", "batch": batch, "timed_batch": batch, "scale": 1.0,
                        **r})
    if "naive" in impls:
        net = NaiveNet(arch, w0)
        xn, tn = x[:nb], t[:nb]
        r = time_steps(lambda: net.step(xn, tn), warmup=naive_warmup, repeats=naive_repeats,
                       threads=threads, wait_idle=wait_idle)
        scale = batch / nb
        r["ms_all"] = [ms * scale for ms in r["ms_all"]]
        r["ms_median"] *= scale
        r["ms_min"] *= scale
        results.append({"impl": "naive", "batch": batch, "timed_batch": nb, "scale": scale, **r})
    if "torch" in impls:
        tr, msg = run_torch(arch, w0, x, t, warmup=warmup, repeats=repeats, threads=threads,
                            wait_idle=wait_idle)
        if tr is None:
            skipped["torch"] = msg
            log(f"  {name}: {msg}")
        else:
            checks["torch_loss_diff"] = abs(tr.pop("loss0") - ref_loss)
            checks["torch_grad_diff"] = _max_abs_grad_diff(tr.pop("grads0"), ref_grads)
            log(f"  check {name} torch vs graphnet (batch {batch}): |loss diff| = "
                f"{checks['torch_loss_diff']:.2e}, max |grad diff| = "
                f"{checks['torch_grad_diff']:.2e}")
            results.append({"impl": "torch", "batch": batch, "timed_batch": batch, "scale": 1.0,
                            **tr})

    base = next((r["ms_median"] for r in results if r["impl"] == "graphnet"), None)
    for r in results:
        r["ratio_vs_graphnet"] = r["ms_median"] / base if base else None
    target = None
    torch_r = next((r for r in results if r["impl"] == "torch"), None)
    if name in TARGETS and base and torch_r:
        ratio = base / torch_r["ms_median"]
        target = {"max_graphnet_over_torch": TARGETS[name], "graphnet_over_torch": ratio,
                  "met": ratio <= TARGETS[name]}
    bd = None
    if breakdown:
        if wait_idle > 0:
            _wait_idle(wait_idle)
        bd = layer_breakdown(build_graphnet(arch, seed=seed), x, t, repeats=repeats,
                             warmup=warmup, threads=threads)
    return {"model": name, "batch": batch, "results": results, "checks": checks,
            "skipped": skipped, "target": target, "breakdown": bd}


def format_table(outs) -> str:
    """The results table: model, implementation, ms per step (median, min), ratio, load.

    Examples
    --------
    >>> row = {"impl": "graphnet", "batch": 4, "timed_batch": 4, "scale": 1.0, "ms_median": 2.0,
    ...        "ms_min": 1.5, "ratio_vs_graphnet": 1.0, "bg_load": 0.0, "repeats": 3}
    >>> print(format_table([{"model": "m", "results": [row]}]))  # doctest: +NORMALIZE_WHITESPACE
    model  implementation  batch  ms/step (median)  ms/step (min)  vs graphnet  bg load  note
    m      graphnet        4      2.000             1.500          1.00x        0.00     3 repeats
    """
    header = ["model", "implementation", "batch", "ms/step (median)", "ms/step (min)",
              "vs graphnet", "bg load", "note"]
    rows = []
    for out in outs:
        for r in out["results"]:
            note = f"{r['repeats']} repeats"
            if r["timed_batch"] != r["batch"]:
                note += f"; timed at batch {r['timed_batch']}, scaled x{r['scale']:g}"
            ratio = r.get("ratio_vs_graphnet")
            bg = r.get("bg_load")
            rows.append([out["model"], r["impl"], str(r["batch"]), f"{r['ms_median']:.3f}",
                         f"{r['ms_min']:.3f}", f"{ratio:.2f}x" if ratio else "-",
                         f"{bg:.2f}" if bg is not None else "-", note])
    widths = [max(len(h), *(len(row[k]) for row in rows)) if rows else len(h)
              for k, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines)


def _parse_args(argv):
    p = argparse.ArgumentParser(
        prog="bench_core.py",
        description="Time one float32 training step (forward+backward+SGD) of graphnet's core "
                    "against a naive loop reference and PyTorch.")
    p.add_argument("--models", default=",".join(ARCHITECTURES),
                   help=f"comma-separated, from {sorted(ARCHITECTURES)} (default: all)")
    p.add_argument("--impls", default=",".join(_IMPLS),
                   help="comma-separated, from graphnet,naive,torch (default: all)")
    p.add_argument("--no-torch", action="store_true", help="skip the torch column")
    p.add_argument("--no-naive", action="store_true", help="skip the naive reference")
    p.add_argument("--threads", type=int, default=_DEFAULT_THREADS,
                   help="BLAS/OpenMP threads for every implementation (default 2)")
    p.add_argument("--warmup", type=int, default=None, help="untimed steps (default 5)")
    p.add_argument("--repeats", type=int, default=None, help="timed steps (default 50)")
    p.add_argument("--naive-repeats", type=int, default=None, help="timed naive steps (default 3)")
    p.add_argument("--naive-batch", type=int, default=None,
                   help="batch for the naive reference (default: per model, see ARCHITECTURES)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true",
                   help="smoke run: 1 warm-up, 3 repeats, naive batch 4 and 1 repeat")
    p.add_argument("--breakdown", action="store_true",
                   help="also time graphnet per layer (forward, backward, loss, SGD)")
    p.add_argument("--profile", action="store_true",
                   help="also print a cProfile of graphnet's steps (top 20 by own time)")
    harness.add_common_options(p)
    args = p.parse_args(argv)
    if args.threads < 1:
        p.error(f"--threads must be at least 1, got {args.threads}")
    models = [m for m in args.models.split(",") if m]
    bad = [m for m in models if m not in ARCHITECTURES]
    if bad or not models:
        p.error(f"--models: unknown {bad}; choose from {sorted(ARCHITECTURES)}")
    impls = [i for i in args.impls.split(",") if i]
    bad = [i for i in impls if i not in _IMPLS]
    if bad or not impls:
        p.error(f"--impls: unknown {bad}; choose from {list(_IMPLS)}")
    if args.no_torch:
        impls = [i for i in impls if i != "torch"]
    if args.no_naive:
        impls = [i for i in impls if i != "naive"]
    args.models, args.impls = models, impls
    harness.check_counts(p, args, ("warmup", "repeats", "naive_repeats", "naive_batch"))
    return args


def main(argv=None) -> int:
    """Command-line entry point; returns the exit status.

    Examples
    --------
    >>> main(["--quick", "--models", "digits_cnn", "--impls", "graphnet"])  # doctest: +ELLIPSIS
    graphnet core benchmark...
    0
    """
    args = _parse_args(sys.argv[1:] if argv is None else argv)
    if args.torch_worker:
        return _torch_worker(*args.torch_worker)
    quick = args.quick
    warmup = args.warmup if args.warmup is not None else (1 if quick else 5)
    repeats = args.repeats if args.repeats is not None else (3 if quick else 50)
    naive_repeats = args.naive_repeats or (1 if quick else 3)
    env = harness.environment(args.threads, pools=True)
    print(f"graphnet core benchmark: one float32 training step (forward + backward + SGD), "
          f"{args.threads} thread(s)")
    print(f"numpy {env['numpy']}, python {env['python']}, {env['cpu_count']} CPUs, "
          f"BLAS pools: {env['threadpools']}")
    outs = []
    for name in args.models:
        arch = ARCHITECTURES[name]
        nb = args.naive_batch or (4 if quick else None)
        print(f"\n{name}: batch {arch['batch']} of {arch['input_shape']}")
        out = bench_model(name, arch, impls=args.impls, warmup=warmup, repeats=repeats,
                          naive_repeats=naive_repeats, naive_batch=nb, threads=args.threads,
                          seed=args.seed, breakdown=args.breakdown,
                          wait_idle=args.wait_idle)
        outs.append(out)
        if args.profile:
            x, t = make_batch(arch, arch["batch"], seed=args.seed)
            print(f"  cProfile of {repeats} graphnet steps, {name}:")
            print(profile_graphnet(build_graphnet(arch, seed=args.seed), x, t, steps=repeats,
                                   threads=args.threads))
    print()
    print(format_table(outs))
    for out in outs:
        torch_r = next((r for r in out["results"] if r["impl"] == "torch"), None)
        if torch_r:
            print(f"{out['model']}: torch {torch_r['torch_version']} "
                  f"({torch_r['torch_threads']} threads)")
        if out["target"]:
            tg = out["target"]
            print(f"target {out['model']}: graphnet / torch = {tg['graphnet_over_torch']:.2f}, "
                  f"must be <= {tg['max_graphnet_over_torch']:.2f}: "
                  f"{'MET' if tg['met'] else 'NOT MET'}")
        if out["breakdown"]:
            print(f"\n{out['model']}: graphnet per layer (median ms)")
            for label, ms in out["breakdown"]:
                print(f"  {label:<28} {ms:8.3f}")
    loaded = [r["bg_load"] for out in outs for r in out["results"] if r.get("bg_load")]
    if loaded and max(loaded) > _BUSY:
        print(f"\nwarning: other processes used up to {max(loaded):.2f} CPUs while timing; "
              "re-run on an idle machine (or with --wait-idle 120) before comparing figures")
    if args.json:
        payload = {"environment": env,
                   "settings": {"warmup": warmup, "repeats": repeats,
                                "naive_repeats": naive_repeats, "quick": quick,
                                "seed": args.seed, "impls": args.impls, "lr": _LR,
                                "wait_idle": args.wait_idle},
                   "targets": TARGETS,
                   "models": {out["model"]: {**out, "arch": ARCHITECTURES[out["model"]]}
                              for out in outs}}
        Path(args.json).write_text(json.dumps(payload, indent=2, default=harness.json_default))
        print(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
