"""References and helpers the tests share; the references are written from the design and the
file formats, not from graphnet.

Import them by name (``from conftest import np_apply``): they are plain functions, used
inside hypothesis strategies and helpers as much as in tests.
"""

from __future__ import annotations

import importlib.util
import os
import struct
import sys
from pathlib import Path

import networkx as nx
import numpy as np

from graphnet.cli import main

_ROOT = Path(__file__).resolve().parents[1]

#: The activations by their formulas (the design's list of names).
ACTIVATIONS = {
    "identity": lambda z: z,
    "tanh": np.tanh,
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "relu": lambda z: np.maximum(z, 0.0),
}


def np_apply(name: str, W: np.ndarray, args: dict) -> np.ndarray:
    """The matrix operators by plain numpy indexing (W[i, j] = edge i -> j)."""
    W2 = W.copy()
    if name == "threshold":
        W2[np.abs(W) <= args["a"]] = 0
    elif name == "swap_columns":
        W2[:, [args["i"], args["j"]]] = W[:, [args["j"], args["i"]]]
    elif name == "swap_rows":
        W2[[args["i"], args["j"]], :] = W[[args["j"], args["i"]], :]
    elif name == "add_scaled_column":
        W2[:, args["dst"]] = W[:, args["dst"]] + args["k"] * W[:, args["src"]]
    elif name == "add_scaled_row":
        W2[args["dst"], :] = W[args["dst"], :] + args["k"] * W[args["src"], :]
    elif name == "permute_nodes":
        p = np.asarray(args["perm"])
        W2 = W[np.ix_(p, p)]  # new node a is old node perm[a]
    elif name == "swap_nodes":
        p = np.arange(len(W))
        p[[args["i"], args["j"]]] = p[[args["j"], args["i"]]]
        W2 = W[np.ix_(p, p)]
    elif name == "assign":
        W2[args["i"], args["j"]] = args["value"]
    else:  # pragma: no cover
        raise AssertionError(name)
    return W2


def per_node_forward(net, X: np.ndarray, steps: int = 5) -> np.ndarray:
    """The network's outputs one node at a time: a DAG in topological order, each node
    ``act(H @ W[:, v] + b[v])``; a recurrent network by ``steps`` synchronous updates
    ``H = act(H @ W + b)`` with the inputs held."""
    W, b, n = net.matrix(), net.biases(), net.n_nodes
    H = np.zeros((X.shape[0], n))
    H[:, net.inputs] = X
    if net.mode == "feedforward":
        for v in nx.topological_sort(net.graph):
            if net.roles[v] != "input":
                H[:, v] = ACTIVATIONS[net.activations[v]](H @ W[:, v] + b[v])
    else:
        non = [v for v in range(n) if net.roles[v] != "input"]
        for _ in range(steps):
            Z = H @ W + b
            H = H.copy()
            for v in non:
                H[:, v] = ACTIVATIONS[net.activations[v]](Z[:, v])
    return H[:, net.outputs]


#: IDX type codes (the MNIST file format).
_IDX_CODES = {
    np.dtype(np.uint8): 0x08,
    np.dtype(np.int8): 0x09,
    np.dtype(np.int16): 0x0B,
    np.dtype(np.int32): 0x0C,
    np.dtype(np.float32): 0x0D,
    np.dtype(np.float64): 0x0E,
}


def idx_bytes(data, dtype=None) -> bytes:
    """An IDX file's bytes: magic, type, ndim, big-endian dims, big-endian ``data`` (cast to
    ``dtype`` first when given)."""
    arr = np.asarray(data) if dtype is None else np.asarray(data).astype(dtype)
    header = bytes([0, 0, _IDX_CODES[arr.dtype], arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def run_main(argv, capsys) -> tuple:
    """``graphnet.cli.main(argv)`` -> (exit code, stdout, stderr)."""
    rc = main(argv)
    out, err = capsys.readouterr()
    return rc, out, err


def tree_snapshot(root, *, folders: bool = True, modes: bool = False) -> dict:
    """What "nothing changed" compares: every file below ``root`` (relative path -> bytes),
    every folder -> None (unless ``folders=False``); with ``modes``, (bytes or None, st_mode)."""
    out = {}
    for folder, dirs, files in os.walk(root):
        for name, is_file in [*((d, False) for d in dirs if folders), *((f, True) for f in files)]:
            path = os.path.join(folder, name)
            content = Path(path).read_bytes() if is_file else None
            out[os.path.relpath(path, root)] = (content, os.stat(path).st_mode) if modes else content
    return out


def load_benchmark(name: str):
    """The script ``benchmarks/<name>.py`` as a module (once per session)."""
    module = f"{name}_under_test"
    if module in sys.modules:
        return sys.modules[module]
    spec = importlib.util.spec_from_file_location(module, _ROOT / "benchmarks" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[module] = mod
    spec.loader.exec_module(mod)
    return mod
