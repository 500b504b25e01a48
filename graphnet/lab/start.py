"""What a job starts from: one seed's data, the start network, the front end, the baselines.

Every model of a seed sees the same data: the test split is the stream
``(seed, 0, 0, DATA)``, the validation split ``(seed, 0, 0, VALSPLIT)`` (see
:func:`graphnet.rng.stream`). The graph family (``graph``, ``fixed-graph``, ``set``) starts
from one network built by :func:`build_start` from the resolved ``[network]`` table; a
``[network.front]`` table puts a small CNN front end (:func:`front_layers`) before it. The
config checks its network by building it here, once, before anything runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from graphnet import models
from graphnet.core.layers import Conv2D, Flatten, Pool2D
from graphnet.data import load_dataset
from graphnet.dataprep import train_test_split
from graphnet.errors import GraphError, InputError
from graphnet.graph.network import GraphNetwork
from graphnet.rng import Purpose, make_rng, stream

__all__ = ["Data", "load_data", "build_start", "residual_layers", "residual_layered",
           "read_network", "front_layers", "front_output_size", "load_front", "baseline_model"]


# ----------------------------------------------------------------------------- data


@dataclass
class Data:
    """One seed's data: train (minus validation), validation, test; images if the set has them."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray | None
    y_val: np.ndarray | None
    X_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    input_shape: tuple

    def view(self, kind: str) -> tuple:
        """(X_train, X_val, X_test) as ``"image"`` (as stored; 1-D signals (n, L) as one channel,
        (n, 1, L)) or ``"flat"`` (n, features)."""
        def f(X):
            if X is None:
                return X
            if kind == "image":
                return X[:, None, :] if X.ndim == 2 else X  # (n, L) -> (n, 1, L)
            return X.reshape(len(X), -1)

        return f(self.X_train), f(self.X_val), f(self.X_test)


def load_data(data: dict, seed: int, dtype=np.float64) -> Data:
    """Load and split the data of one seed as the ``[data]`` table says.

    The test split comes from the stream ``(seed, 0, 0, DATA)``, the validation split
    from ``(seed, 0, 0, VALSPLIT)``: every model of a seed sees the same samples.

    Parameters
    ----------
    data : dict
        A resolved ``[data]`` table.
    seed : int
    dtype : float dtype

    Returns
    -------
    Data

    Examples
    --------
    >>> d = load_data({"dataset": "xor", "test_size": 0.2, "validation": 0.1,
    ...                "scale": "unit", "max_train": 0, "max_test": 0}, seed=0)
    >>> d.X_train.shape, d.X_val.shape, d.n_classes
    ((4, 2), (4, 2), 2)
    """
    dataset = data["dataset"]
    base = dataset.split(":", 1)[0]
    spec = "digits-image" if base == "digits" else dataset
    kw = {"n_samples": data["n_samples"]} if base == "spirals" else {}
    kw.update({k: data[k] for k in ("n_classes", "label") if k in data})
    if "mnist1d" in data:
        kw["mnist1d_args"] = data["mnist1d"]
    ds = load_dataset(spec, seed=stream(seed, 0, 0, Purpose.DATA), test_size=data["test_size"],
                      scale=data["scale"], dtype=dtype, **kw)
    X_train, y_train = ds.X_train, ds.y_train
    X_val = y_val = None
    if data["validation"] > 0:
        if base == "xor":  # four points: validate on them
            X_val, y_val = X_train.copy(), y_train.copy()
        else:
            X_train, X_val, y_train, y_val = train_test_split(
                X_train, y_train, test_size=data["validation"],
                seed=stream(seed, 0, 0, Purpose.VALSPLIT))
    X_test, y_test = ds.X_test, ds.y_test
    if data["max_train"]:
        X_train, y_train = X_train[:data["max_train"]], y_train[:data["max_train"]]
    if data["max_test"]:
        X_test, y_test = X_test[:data["max_test"]], y_test[:data["max_test"]]
    return Data(X_train, y_train, X_val, y_val, X_test, y_test, ds.n_classes, ds.input_shape)


# ----------------------------------------------------------------------------- networks


def _set_hidden_activation(net, activation: str):
    if activation == "keep":
        return net
    acts = [activation if role == "hidden" else a for role, a in zip(net.roles, net.activations)]
    return net if tuple(acts) == net.activations else net.replace(activations=acts)


def _widen_seed_example(net, n_in: int, n_out: int, rng):
    """Fit the seed's 6-node network to ``n_in`` inputs and ``n_out`` outputs.

    The seed's graph has one input ``x0 -> s0`` and one output ``s3`` (fed by s2 and s4).
    Each extra input feeds ``s0`` like ``x0``; each extra output is fed by ``s2`` and
    ``s4`` like ``s3``. New weights ~ Normal(0, 1). With one input and one output the
    network is the seed's, unchanged.
    """
    if n_in == 1 and n_out == 1:
        return net
    n0 = net.n_nodes
    n = n0 + (n_in - 1) + (n_out - 1)
    W = np.zeros((n, n))
    W[:n0, :n0] = net.matrix()
    roles = list(net.roles) + ["input"] * (n_in - 1) + ["output"] * (n_out - 1)
    names = list(net.names) + [f"x{k}" for k in range(1, n_in)] + [f"y{k}" for k in range(1, n_out)]
    acts = list(net.activations) + ["identity"] * (n - n0)
    s0, s2, s4 = (net.names.index(s) for s in ("s0", "s2", "s4"))
    for k in range(n_in - 1):
        W[n0 + k, s0] = rng.normal()
    for k in range(n_out - 1):
        o = n0 + n_in - 1 + k
        W[s2, o], W[s4, o] = rng.normal(size=2)
    biases = np.concatenate([net.biases(), np.zeros(n - n0)])
    return net.replace(W=W, biases=biases, roles=roles, activations=acts, names=names)


def residual_layers(sizes) -> list:
    """The layers of ``sizes`` that get a skip: hidden layers as wide as the hidden layer before.

    Examples
    --------
    >>> residual_layers([40, 100, 100, 10]), residual_layers([2, 8, 4, 4, 4, 2])
    ([2], [3, 4])
    """
    return [k for k in range(2, len(sizes) - 1) if sizes[k] == sizes[k - 1]]


def residual_layered(net: GraphNetwork, sizes) -> GraphNetwork:
    """A layered network with a skip around each hidden layer as wide as the one before.

    The layer's units ``r`` and the previous layer's outputs ``h`` meet in identity *sum
    nodes* ``s = r + h`` over fixed weight-1 edges (``trainable = False``), and the layer's
    outgoing edges leave from ``s``: ``h_k = act(W_k h_{k-1} + b_k) + h_{k-1}``, the
    residual of the MNIST-1D paper's MLP. Each sum node adds one (trainable) bias.

    Parameters
    ----------
    net : GraphNetwork
        As :meth:`GraphNetwork.layered` builds it from ``sizes`` (nodes layer by layer).
    sizes : sequence of int
        Its layer sizes.

    Returns
    -------
    GraphNetwork
        The same weights and biases, plus the sum nodes (inserted after their layer).

    Raises
    ------
    GraphError
        No hidden layer is as wide as the hidden layer before it.

    Examples
    --------
    >>> net = residual_layered(GraphNetwork.layered([40, 100, 100, 10], seed=0,
    ...                                             activation="relu"), [40, 100, 100, 10])
    >>> net.n_nodes, net.n_edges, net.n_fixed, net.n_params   # the paper's 15,210 + 100
    (350, 15200, 200, 15310)
    """
    sizes = [int(k) for k in sizes]
    skip = residual_layers(sizes)
    if not skip:
        raise GraphError(f"residual: no hidden layer is as wide as the hidden layer before it "
                         f"in sizes {sizes}")
    W0, b0, acts0 = net.matrix(), net.biases(), net.activations
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    pos, out_of, n = {}, {}, 0  # new index of each old node; the node that carries its output
    sums = []  # (new index of r, new index of the node r's skip comes from, new index of s)
    for k, m in enumerate(sizes):
        layer = range(offsets[k], offsets[k + 1])
        for j, i in enumerate(layer):
            pos[i] = out_of[i] = n + j
        if k in skip:
            for j, i in enumerate(layer):
                sums.append((pos[i], out_of[offsets[k - 1] + j], n + m + j))
                out_of[i] = n + m + j
            n += m
        n += m
    W, b = np.zeros((n, n)), np.zeros(n)
    acts = ["identity"] * n
    for i, new in pos.items():
        b[new], acts[new] = b0[i], acts0[i]
    src, dst = np.nonzero(W0)
    W[[out_of[i] for i in src], [pos[j] for j in dst]] = W0[src, dst]
    fixed = np.zeros((n, n), dtype=bool)
    for r, h, s_ in sums:  # s = r + h
        W[r, s_] = W[h, s_] = 1.0
        fixed[r, s_] = fixed[h, s_] = True
    return GraphNetwork.from_matrix(W, inputs=[pos[i] for i in range(sizes[0])],
                                    outputs=[pos[i] for i in range(offsets[-2], offsets[-1])],
                                    biases=b, activation=acts, output_activation=acts,
                                    mode=net.mode, fixed=fixed)


def read_network(path: str) -> GraphNetwork:
    """A network file: GraphML (``.graphml``, ``.xml``), else node-link JSON.

    Examples
    --------
    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = os.path.join(d, "net.json")
    ...     _ = GraphNetwork.layered([2, 3, 2], seed=0).to_node_link(p)
    ...     read_network(p).n_nodes
    7
    """
    if path.lower().endswith((".graphml", ".xml")):
        return GraphNetwork.from_graphml(path)
    return GraphNetwork.from_node_link(path)


def build_start(network: dict, n_inputs: int, n_outputs: int, seed):
    """The starting GraphNetwork of a resolved ``[network]`` table.

    Parameters
    ----------
    network : dict
        Resolved ``[network]`` (see :mod:`graphnet.lab.config`).
    n_inputs : int
        Inputs of the graph (the data's features, or the front end's output size).
    n_outputs : int
        Number of classes.
    seed : int or numpy.random.Generator

    Returns
    -------
    GraphNetwork

    Raises
    ------
    GraphError, CycleError, DataError
        A network that cannot be built (e.g. the seed's example in feedforward mode).

    Examples
    --------
    >>> net = build_start({"start": "layered", "sizes": [2, 3, 2], "mode": "feedforward",
    ...                    "activation": "tanh", "steps": 5}, 2, 2, seed=0)
    >>> net.n_nodes, net.n_edges
    (7, 12)
    >>> m = build_start({"start": "minimal", "mode": "feedforward", "activation": "tanh",
    ...                  "steps": 5}, 2, 2, seed=0)
    >>> m.n_hidden, m.n_edges
    (0, 4)
    >>> w = build_start({"start": "seed_example", "mode": "recurrent", "activation": "tanh",
    ...                  "steps": 5}, 2, 2, seed=0)
    >>> w.n_inputs, w.n_outputs, w.cycles()
    (2, 2, [[0, 1]])
    """
    rng = make_rng(seed)
    start, mode, act = network["start"], network["mode"], network["activation"]
    if start == "layered":
        if network["sizes"][0] != n_inputs or network["sizes"][-1] != n_outputs:
            raise GraphError(f"layered sizes {network['sizes']} do not match {n_inputs} inputs "
                             f"and {n_outputs} outputs")
        net = GraphNetwork.layered(network["sizes"], seed=rng, activation=act)
        if network.get("residual"):
            net = residual_layered(net, network["sizes"])
    elif start == "random":
        net = GraphNetwork.random(n_inputs, network["n_hidden"], n_outputs, network["density"],
                                  seed=rng, mode=mode, activation=act)
    elif start == "minimal":  # NEAT's start: every input wired to every output, no hidden node
        net = GraphNetwork.layered([n_inputs, n_outputs], seed=rng, activation=act)
    elif start == "seed_example":
        net = _widen_seed_example(GraphNetwork.seed_example(mode=mode), n_inputs, n_outputs, rng)
        net = _set_hidden_activation(net, act)
    else:
        net = _set_hidden_activation(read_network(network["path"]), act)
    if net.mode != mode:
        net = net.replace(mode=mode)
    return net


# ----------------------------------------------------------------------------- front and baselines


def front_layers(front: dict | None, input_shape, rng, dtype=np.float64) -> list:
    """The CNN front end of a ``[network.front]`` table: conv, max-pool (``pad``), flatten.

    ``[]`` without a front table.

    Examples
    --------
    >>> front = {"channels": 4, "kernel": 3, "padding": 1, "pool": 2, "activation": "relu"}
    >>> [type(layer).__name__ for layer in front_layers(front, (1, 8, 8), rng=0)]
    ['Conv2D', 'Pool2D', 'Flatten']
    >>> front_layers(None, (2,), rng=0)
    []
    """
    if front is None:
        return []
    return [Conv2D(input_shape[0], front["channels"], front["kernel"], padding=front["padding"],
                   activation=front["activation"], rng=rng, dtype=dtype),
            Pool2D(front["pool"], "max", "pad"), Flatten()]


def front_output_size(front: dict, input_shape) -> int:
    """The flattened size after the front end's conv + pool on images of ``input_shape``.

    Examples
    --------
    >>> front = {"channels": 4, "kernel": 3, "padding": 1, "pool": 2, "activation": "relu"}
    >>> front_output_size(front, (1, 8, 8))
    64
    """
    conv, pool, _ = front_layers(front, input_shape, rng=0)
    return int(np.prod(pool.output_shape(conv.output_shape(tuple(input_shape)))))


def load_front(front: list, state: dict) -> None:
    """Set the front end's parameters in place from a model's ``state_dict`` (``"k.key"``)."""
    for k, layer in enumerate(front):
        for key, p in layer.params.items():
            p[...] = state[f"{k}.{key}"]


def baseline_model(model: str, baselines: dict, data: Data, rng, dtype=np.float64):
    """A baseline of a resolved ``[baselines]`` table, built for ``data``.

    ``mlp`` (``mlp_hidden``, ``mlp_activation``) and the MNIST-1D paper's ``logistic``,
    ``mlp_residual`` (40-100-100-10 with the residual on the second layer, for any
    input size) and ``cnn1d`` take flattened samples (n, features); ``cnn`` takes images
    (n, c, h, w). ``cnn1d`` reads the flat samples as one-channel signals.

    Parameters
    ----------
    model : {"mlp", "cnn", "logistic", "mlp_residual", "cnn1d"}
    baselines : dict
        A resolved ``[baselines]`` table (only ``mlp`` reads it).
    data : Data
    rng : int or numpy.random.Generator
    dtype : float dtype

    Returns
    -------
    Sequential

    Raises
    ------
    InputError
        An unknown model, or ``cnn1d`` on samples that are not long enough signals.

    Examples
    --------
    >>> d = load_data({"dataset": "xor", "test_size": 0.2, "validation": 0.0,
    ...                "scale": "unit", "max_train": 0, "max_test": 0}, seed=0)
    >>> m = baseline_model("mlp", {"mlp_hidden": [3], "mlp_activation": "tanh"}, d, rng=0)
    >>> m.n_params
    17
    >>> baseline_model("logistic", {}, d, rng=0).n_params       # 2 * 2 + 2
    6
    """
    n_in = int(np.prod(data.input_shape))
    if model == "mlp":
        return models.mlp(n_in, baselines["mlp_hidden"], data.n_classes,
                          activation=baselines["mlp_activation"], seed=rng, dtype=dtype)
    if model == "cnn":
        return models.cnn(tuple(data.input_shape), data.n_classes, seed=rng, dtype=dtype)
    if model == "logistic":
        return models.logistic(n_in, data.n_classes, seed=rng, dtype=dtype)
    if model == "mlp_residual":
        return models.mlp_residual(n_in, 100, data.n_classes, seed=rng, dtype=dtype)
    if model == "cnn1d":
        return models.cnn1d(n_in, data.n_classes, seed=rng, dtype=dtype)
    raise InputError(f"baseline_model: model must be 'mlp', 'cnn', 'logistic', 'mlp_residual' "
                     f"or 'cnn1d', got {model!r}")
