"""Ready-made models: the MLP and CNN baselines, LeNet-5, and the MNIST-1D paper's three
(logistic regression, the residual MLP and the strided 1-D CNN)."""

from __future__ import annotations

import numpy as np

from graphnet.core.layers import Conv2D, Dense, Flatten, Pool2D, Softmax
from graphnet.core.layers1d import Conv1D, Reshape, Residual
from graphnet.core.model import Sequential
from graphnet.errors import InputError
from graphnet.rng import make_rng

__all__ = ["mlp", "cnn", "lenet5", "logistic", "mlp_residual", "cnn1d", "build", "RECIPES",
           "recipe"]


def _seeds(seed, k):
    """``k`` layer seeds drawn from ``make_rng(seed)`` (the caller's stream: see rng.stream)."""
    rng = make_rng(seed)
    return [int(s) for s in rng.integers(0, 2**63 - 1, size=k)]


def mlp(n_in, hidden, n_out, *, activation="tanh", seed=0, dtype=np.float64) -> Sequential:
    """A multi-layer perceptron ending in a softmax.

    Parameters
    ----------
    n_in : int
    hidden : sequence of int
        Sizes of the hidden layers (may be empty: softmax regression).
    n_out : int
    activation : str
        Of the hidden layers.
    seed : int or numpy.random.Generator
    dtype : float32 or float64

    Returns
    -------
    Sequential
        ``Dense(tanh) ... Dense(identity) Softmax``.

    Examples
    --------
    >>> mlp(2, [4], 2).n_params    # 2*4 + 4 + 4*2 + 2
    22
    """
    sizes = [n_in, *hidden, n_out]
    seeds = _seeds(seed, len(sizes) - 1)
    layers = []
    for k in range(len(sizes) - 1):
        last = k == len(sizes) - 2
        layers.append(Dense(sizes[k], sizes[k + 1], activation="identity" if last else activation,
                            rng=seeds[k], dtype=dtype))
    return Sequential([*layers, Softmax()])


def cnn(input_shape=(1, 8, 8), n_classes=10, *, channels=32, kernel=3, padding=1, pool=2,
        hidden=64, activation="relu", seed=0, dtype=np.float64) -> Sequential:
    """The small CNN of the seed's figure 1: conv -> max pool -> flatten -> dense -> softmax.

    Parameters
    ----------
    input_shape : tuple (c, h, w)
    n_classes : int
    channels : int
        Feature maps of the convolution.
    kernel, padding, pool : int
    hidden : int
        Size of the dense hidden layer (0: none).
    activation : str
    seed : int or numpy.random.Generator
    dtype : float32 or float64

    Examples
    --------
    >>> m = cnn((1, 8, 8), 10, seed=0)
    >>> m.forward(np.zeros((2, 1, 8, 8))).shape
    (2, 10)
    """
    if len(input_shape) != 3:
        raise InputError(f"cnn: input_shape must be (c, h, w), got {input_shape!r}")
    c, h, w = input_shape
    s = _seeds(seed, 3)
    conv = Conv2D(c, channels, kernel, padding=padding, activation=activation, rng=s[0], dtype=dtype)
    pool_layer = Pool2D(pool, "max", "pad")
    flat = int(np.prod(pool_layer.output_shape(conv.output_shape((c, h, w)))))
    layers = [conv, pool_layer, Flatten()]
    if hidden:
        layers += [Dense(flat, hidden, activation=activation, rng=s[1], dtype=dtype),
                   Dense(hidden, n_classes, rng=s[2], dtype=dtype)]
    else:
        layers.append(Dense(flat, n_classes, rng=s[2], dtype=dtype))
    return Sequential([*layers, Softmax()])


def lenet5(n_classes=10, *, seed=0, dtype=np.float64) -> Sequential:
    """LeNet-5 for 28x28 images (first convolution padded by 2), relu and max pooling.

    Examples
    --------
    >>> lenet5().n_params
    61706
    """
    s = _seeds(seed, 5)
    return Sequential([
        Conv2D(1, 6, 5, padding=2, rng=s[0], dtype=dtype),     # (6, 28, 28)
        Pool2D(2, "max"),                                      # (6, 14, 14)
        Conv2D(6, 16, 5, rng=s[1], dtype=dtype),               # (16, 10, 10)
        Pool2D(2, "max"),                                      # (16, 5, 5)
        Flatten(),                                             # (400,)
        Dense(400, 120, activation="relu", rng=s[2], dtype=dtype),
        Dense(120, 84, activation="relu", rng=s[3], dtype=dtype),
        Dense(84, n_classes, rng=s[4], dtype=dtype),
        Softmax(),
    ])


# ---------------------------------------------------------------- MNIST-1D (Greydanus & Kobak)
# The three models of the paper's notebooks/models.py, layer for layer; the initialisation
# is graphnet's (He for relu layers, Xavier for the linear read-outs), not PyTorch's.

def logistic(n_in=40, n_classes=10, *, seed=0, dtype=np.float64) -> Sequential:
    """Logistic (softmax) regression: one linear layer, ``n_in -> n_classes``.

    Examples
    --------
    >>> logistic(40, 10).n_params      # the paper's 410
    410
    """
    return Sequential([Dense(n_in, n_classes, rng=_seeds(seed, 1)[0], dtype=dtype), Softmax()])


def mlp_residual(n_in=40, hidden=100, n_classes=10, *, seed=0, dtype=np.float64) -> Sequential:
    """The paper's MLP: ``h1 = relu(W1 x + b1)``, ``h2 = relu(W2 h1 + b2) + h1``, ``W3 h2 + b3``.

    Parameters
    ----------
    n_in, hidden, n_classes : int
        40-100-10 in the paper (15,210 parameters).
    seed : int or numpy.random.Generator
    dtype : float32 or float64

    Returns
    -------
    Sequential
        ``Dense(relu) Residual(Dense(relu)) Dense Softmax``.

    Examples
    --------
    >>> mlp_residual().n_params         # the paper's 15,210
    15210
    """
    s = _seeds(seed, 3)
    return Sequential([
        Dense(n_in, hidden, activation="relu", rng=s[0], dtype=dtype),
        Residual(Dense(hidden, hidden, activation="relu", rng=s[1], dtype=dtype)),
        Dense(hidden, n_classes, rng=s[2], dtype=dtype),
        Softmax(),
    ])


def cnn1d(length=40, n_classes=10, *, channels=25, seed=0, dtype=np.float64) -> Sequential:
    """The paper's CNN: three Conv1D of ``channels`` (kernels 5, 3, 3; stride 2; padding 1;
    relu), then a linear read-out of the flattened maps.

    Parameters
    ----------
    length : int
        Sequence length (40 in MNIST-1D: maps of 19, 10 and 5, so 125 -> 10).
    n_classes, channels : int
    seed : int or numpy.random.Generator
    dtype : float32 or float64

    Returns
    -------
    Sequential
        Takes flat sequences (n, length).

    Examples
    --------
    >>> m = cnn1d()
    >>> m.n_params, m.forward(np.zeros((2, 40))).shape     # the paper's 5,210
    (5210, (2, 10))
    """
    s = _seeds(seed, 4)
    convs = [Conv1D(1, channels, 5, stride=2, padding=1, rng=s[0], dtype=dtype),
             Conv1D(channels, channels, 3, stride=2, padding=1, rng=s[1], dtype=dtype),
             Conv1D(channels, channels, 3, stride=2, padding=1, rng=s[2], dtype=dtype)]
    shape = (1, length)
    for conv in convs:
        shape = conv.output_shape(shape)
        if shape[1] < 1:
            raise InputError(f"cnn1d: a sequence of length {length} is too short for three "
                             "stride-2 convolutions")
    return Sequential([Reshape((1, length)), *convs, Flatten(),
                       Dense(int(np.prod(shape)), n_classes, rng=s[3], dtype=dtype), Softmax()])


_SEQUENCE_MODELS = ("logistic", "mlp_residual", "cnn1d")


def build(name, input_shape, n_classes, *, seed=0, dtype=np.float64) -> Sequential:
    """A baseline by name for data of ``input_shape`` (one sample, no batch axis).

    ``"mlp"``: one hidden layer of 64 tanh units on the flattened input; ``"cnn"``:
    :func:`cnn` (images only); ``"lenet5"``: :func:`lenet5` (28x28 images only); the
    MNIST-1D paper's ``"logistic"``, ``"mlp_residual"`` (flattened input) and ``"cnn1d"``
    (flat sequences, such as mnist1d's 40 values).

    Examples
    --------
    >>> build("mlp", (64,), 10).n_params
    4810
    >>> build("cnn1d", (40,), 10).n_params
    5210
    """
    if name in _SEQUENCE_MODELS:
        if name == "cnn1d" and len(input_shape) != 1:
            raise InputError(f"build: cnn1d needs sequences (L,), the data has samples of shape "
                             f"{tuple(input_shape)}")
        n_in = int(np.prod(input_shape))
        if name == "cnn1d":
            return cnn1d(n_in, n_classes, seed=seed, dtype=dtype)
        model = (logistic(n_in, n_classes, seed=seed, dtype=dtype) if name == "logistic"
                 else mlp_residual(n_in, 100, n_classes, seed=seed, dtype=dtype))
        if len(input_shape) > 1:
            model.layers.insert(0, Flatten())
        return model
    if name == "mlp":
        n_in = int(np.prod(input_shape))
        model = mlp(n_in, [64], n_classes, seed=seed, dtype=dtype)
        if len(input_shape) > 1:
            model.layers.insert(0, Flatten())
        return model
    if name in ("cnn", "lenet5"):
        if len(input_shape) != 3:
            raise InputError(f"build: model {name!r} needs images (c, h, w), the data has "
                             f"samples of shape {tuple(input_shape)}; use --model mlp")
        if name == "cnn":
            return cnn(tuple(input_shape), n_classes, seed=seed, dtype=dtype)
        if tuple(input_shape) != (1, 28, 28):
            raise InputError(f"build: lenet5 needs 1x28x28 images, got {tuple(input_shape)}")
        return lenet5(n_classes, seed=seed, dtype=dtype)
    raise InputError(f"build: model must be 'mlp', 'cnn' or 'lenet5', or one of the MNIST-1D "
                     f"paper's 'logistic', 'mlp_residual', 'cnn1d'; got {name!r}")


# Training settings per (dataset, model), tuned on the stratified 80/20 split over seeds
# 0-2 (see the README's figures). "*" is the fallback for any model.
RECIPES = {
    ("digits", "mlp"): {"epochs": 30, "lr": 2e-3, "batch_size": 32, "weight_decay": 0.0},
    ("digits", "cnn"): {"epochs": 40, "lr": 1e-3, "batch_size": 32, "weight_decay": 1e-4},
    ("digits", "*"): {"epochs": 30, "lr": 2e-3, "batch_size": 32, "weight_decay": 0.0},
    ("xor", "*"): {"epochs": 500, "lr": 0.05, "batch_size": 4, "weight_decay": 0.0},
    ("spirals", "*"): {"epochs": 300, "lr": 0.01, "batch_size": 32, "weight_decay": 0.0},
    ("mnist", "*"): {"epochs": 3, "lr": 1e-3, "batch_size": 64, "weight_decay": 0.0},
    # MNIST-1D: the paper's Adam lr 1e-2, batch 100, 6000 steps on its 4000 training samples
    ("mnist1d", "*"): {"epochs": 150, "lr": 1e-2, "batch_size": 100, "weight_decay": 0.0},
    # the user's own csv / npz files: a general start, tune with --epochs / --lr
    ("csv", "*"): {"epochs": 30, "lr": 2e-3, "batch_size": 32, "weight_decay": 0.0},
    ("npz", "*"): {"epochs": 30, "lr": 2e-3, "batch_size": 32, "weight_decay": 0.0},
}


def recipe(data: str, model: str) -> dict:
    """Default training settings (epochs, lr, batch_size, weight_decay) for a model on a dataset.

    ``data`` may be a dataset spec; only its name before ``:`` counts.

    Examples
    --------
    >>> recipe("digits", "cnn")["epochs"]
    40
    >>> recipe("mnist:/tmp/mnist", "mlp")["batch_size"]
    64
    """
    base = data.split(":", 1)[0].removesuffix("-image")
    for key in ((base, model), (base, "*")):
        if key in RECIPES:
            return dict(RECIPES[key])
    raise InputError(f"recipe: no training settings for dataset {data!r}; expected one of "
                     f"{sorted({d for d, _ in RECIPES})}")
