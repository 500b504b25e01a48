"""Tests of graphnet.core.layers: Conv2D, Pool2D, Flatten, Dense, Softmax.

Forward tests compare with scipy / numpy references and torch; backward tests use the
central finite-difference checker in float64 and torch's autograd.
"""

import numpy as np
import pytest
from scipy.signal import convolve2d

from graphnet.core import activations as acts
from graphnet.core import functional as F
from graphnet.core.gradcheck import check_layer
from graphnet.core.layers import Conv2D, Dense, Flatten, Pool2D, Softmax, init_weights
from graphnet.errors import InputError, InputTypeError
from graphnet.rng import make_rng

ACTS = ["relu", "tanh", "sigmoid", "identity"]
TOL = 1e-6


def _distinct(shape, seed):
    """Half-integers spaced 1 apart: no ties in a max window and none equal to a padded 0."""
    n = int(np.prod(shape))
    return (make_rng(seed).permutation(n) - n / 2 + 0.5).reshape(shape) / 4.0


def _conv(c_in, c_out, ks, act="tanh", padding=0, seed=0, dtype=np.float64):
    layer = Conv2D(c_in, c_out, ks, padding=padding, activation=act, rng=seed, dtype=dtype)
    layer.params["b"][...] = make_rng(seed + 100).standard_normal(c_out)   # non-zero bias
    return layer


def _dense(n_in, n_out, act="tanh", seed=0, dtype=np.float64):
    layer = Dense(n_in, n_out, activation=act, rng=seed, dtype=dtype)
    layer.params["b"][...] = make_rng(seed + 100).standard_normal(n_out)
    return layer


def _torch_act(torch, name):
    return {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
            "identity": lambda z: z}[name]


# =============================================================================== forward

class TestForward:

    @pytest.mark.parametrize("act", ACTS)
    @pytest.mark.parametrize("padding", [0, 1, 2])
    def test_conv_equals_scipy(self, act, padding):
        layer = _conv(2, 3, (2, 3), act, padding, seed=1)
        x = make_rng(2).standard_normal((2, 2, 5, 4))
        y = layer.output(x)
        W, b = layer.params["W"], layer.params["b"]
        xp = np.pad(x, ((0, 0), (0, 0), (padding,) * 2, (padding,) * 2))
        f, _ = acts.activation(act)
        ref = np.stack([np.stack([f(sum(convolve2d(xp[s, i], W[o, i], "valid") for i in range(2))
                                    + b[o]) for o in range(3)]) for s in range(2)])
        assert y.shape == ref.shape == (2, 3) + layer.output_shape((2, 5, 4))[1:]
        np.testing.assert_allclose(y, ref, rtol=1e-12, atol=1e-12)

    def test_conv_full_padding_is_seed_full_mode(self):
        layer = _conv(1, 1, 3, "identity", padding=2, seed=3)
        x = make_rng(4).standard_normal((1, 1, 4, 5))
        ref = F.conv2d(x[0, 0], layer.params["W"][0, 0], "full") + layer.params["b"][0]
        np.testing.assert_allclose(layer.output(x)[0, 0], ref, rtol=1e-12)

    def test_conv_integer_input(self):
        layer = _conv(1, 1, 2, "identity")
        x = np.arange(9).reshape(1, 1, 3, 3)
        np.testing.assert_allclose(layer.output(x), layer.output(x.astype(float)), rtol=1e-15)

    @pytest.mark.parametrize("method", ["max", "mean"])
    @pytest.mark.parametrize("edge", ["pad", "ignore"])
    def test_pool_equals_downsample(self, method, edge):
        x = make_rng(5).standard_normal((2, 3, 5, 7))
        # the functional 'pad' is the seed's literal zero padding: the layer's 'zero-pad'
        layer = Pool2D(2, method, "zero-pad" if edge == "pad" else edge)
        y = layer.output(x)
        np.testing.assert_array_equal(y, F.downsample(x, 2, method, edge))
        assert y.shape[1:] == layer.output_shape((3, 5, 7))

    def test_flatten_order(self):
        x = make_rng(6).standard_normal((2, 3, 4, 5))
        y = Flatten().output(x)
        assert y.shape == (2, 60) and Flatten().output_shape((3, 4, 5)) == (60,)
        # channel by channel, row by row
        for c, i, j in [(0, 0, 1), (1, 2, 3), (2, 3, 4)]:
            assert y[1, c * 20 + i * 5 + j] == x[1, c, i, j]

    @pytest.mark.parametrize("act", ACTS)
    def test_dense(self, act):
        layer = _dense(4, 3, act, seed=7)
        x = make_rng(8).standard_normal((5, 4))
        f = {"relu": lambda z: np.maximum(z, 0), "tanh": np.tanh,
             "sigmoid": lambda z: 1 / (1 + np.exp(-z)), "identity": lambda z: z}[act]
        ref = f(x @ layer.params["W"] + layer.params["b"])
        np.testing.assert_allclose(layer.output(x), ref, rtol=1e-13, atol=1e-15)
        # W[i, j] is the edge input i -> output j
        e0 = np.zeros((1, 4))
        e0[0, 2] = 1.0
        lin = _dense(4, 3, "identity", seed=7)
        np.testing.assert_allclose(lin.output(e0)[0] - lin.params["b"], lin.params["W"][2],
                                   rtol=1e-13)

    def test_softmax(self):
        x = make_rng(9).standard_normal((4, 5)) * 10
        s = Softmax().output(x)
        e = np.exp(x - x.max(axis=1, keepdims=True))
        np.testing.assert_allclose(s, e / e.sum(axis=1, keepdims=True), rtol=1e-14)
        np.testing.assert_allclose(s.sum(axis=1), 1.0, rtol=1e-14)

    def test_reproducible_init(self):
        a = Conv2D(2, 3, 3, rng=11).params["W"]
        b = Conv2D(2, 3, 3, rng=11).params["W"]
        c = Conv2D(2, 3, 3, rng=12).params["W"]
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)
        g1, g2 = make_rng(5), make_rng(5)
        np.testing.assert_array_equal(Dense(3, 4, rng=g1).params["W"], Dense(3, 4, rng=g2).params["W"])

    def test_init_schemes(self):
        w = init_weights((400, 300), 400, 300, "xavier", rng=0)
        limit = np.sqrt(6 / 700)
        assert np.abs(w).max() <= limit and np.abs(w).max() > 0.95 * limit
        w = init_weights((400, 300), 400, 300, "he", rng=0)
        assert w.std() == pytest.approx(np.sqrt(2 / 400), rel=0.02)
        with pytest.raises(InputError, match="scheme must be 'xavier' or 'he', got 'lecun'"):
            init_weights((2, 2), 2, 2, "lecun", rng=0)
        with pytest.raises(InputTypeError, match="rng: expected a non-negative int"):
            init_weights((2, 2), 2, 2, "he", rng=None)

    def test_n_params(self):
        assert Conv2D(2, 3, (2, 4)).n_params == 3 * 2 * 2 * 4 + 3
        assert Dense(5, 7).n_params == 42
        assert Pool2D().n_params == Flatten().n_params == Softmax().n_params == 0


# =============================================================================== backward

class TestBackwardFiniteDifferences:
    """Every layer's backpropagate against central differences, float64, rel. error < 1e-6."""

    @pytest.mark.parametrize("act", ACTS)
    def test_conv_activations(self, act):
        errs = check_layer(_conv(2, 3, 3, act, seed=1), make_rng(1).standard_normal((2, 2, 5, 5)))
        assert set(errs) == {"x", "W", "b"}
        assert max(errs.values()) < TOL, errs

    @pytest.mark.parametrize("padding", [1, 2])
    @pytest.mark.parametrize("act", ["tanh", "relu"])
    def test_conv_padding(self, padding, act):
        errs = check_layer(_conv(2, 2, 3, act, padding, seed=2),
                           make_rng(2).standard_normal((2, 2, 4, 5)))
        assert max(errs.values()) < TOL, errs

    @pytest.mark.parametrize("ks", [(1, 3), (3, 1), (2, 4), (1, 1), (4, 5)])
    def test_conv_non_square_kernels(self, ks):
        errs = check_layer(_conv(3, 2, ks, "sigmoid", seed=3),
                           make_rng(3).standard_normal((2, 3, 4, 5)))
        assert max(errs.values()) < TOL, errs

    def test_conv_many_channels(self):
        errs = check_layer(_conv(4, 5, 2, "tanh", padding=1, seed=4),
                           make_rng(4).standard_normal((3, 4, 3, 4)))
        assert max(errs.values()) < TOL, errs

    @pytest.mark.parametrize("method", ["max", "mean"])
    @pytest.mark.parametrize("edge", ["pad", "ignore"])
    @pytest.mark.parametrize("hw, size", [((5, 5), 2), ((7, 3), 2), ((7, 7), 3), ((6, 4), 2),
                                          ((5, 8), 3)])
    def test_pool(self, method, edge, hw, size):
        x = _distinct((2, 2) + hw, seed=hw[0] * 10 + hw[1])
        errs = check_layer(Pool2D(size, method, edge), x)
        assert set(errs) == {"x"}
        assert errs["x"] < TOL, errs

    def test_flatten(self):
        errs = check_layer(Flatten(), make_rng(5).standard_normal((2, 3, 2, 4)))
        assert errs["x"] < TOL

    @pytest.mark.parametrize("act", ACTS)
    def test_dense_activations(self, act):
        errs = check_layer(_dense(5, 4, act, seed=6), make_rng(6).standard_normal((3, 5)))
        assert set(errs) == {"x", "W", "b"}
        assert max(errs.values()) < TOL, errs

    def test_softmax(self):
        errs = check_layer(Softmax(), make_rng(7).standard_normal((3, 5)) * 2)
        assert errs["x"] < TOL

    def test_pool_max_routes_to_max(self):
        x = np.array([[[[1.0, 5.0, 2.0], [3.0, 4.0, 9.0], [0.5, 8.0, 7.0]]]])
        layer = Pool2D(2, "max", "ignore")
        layer.output(x)
        dx = layer.backpropagate(np.array([[[[10.0]]]]))
        np.testing.assert_array_equal(dx[0, 0], [[0, 10, 0], [0, 0, 0], [0, 0, 0]])


class TestAgainstTorch:
    """Forward values and every gradient equal torch's autograd, float64."""

    @pytest.mark.parametrize("act", ACTS)
    @pytest.mark.parametrize("padding, ks", [(0, (3, 3)), (1, (2, 3)), (2, (3, 1))])
    def test_conv(self, act, padding, ks):
        torch = pytest.importorskip("torch")
        layer = _conv(3, 4, ks, act, padding, seed=8)
        rng = make_rng(8)
        x = rng.standard_normal((2, 3, 6, 5))
        y = layer.output(x)
        R = rng.standard_normal(y.shape)
        dx = layer.backpropagate(R)

        xt = torch.tensor(x, requires_grad=True)
        Wt = torch.tensor(layer.params["W"], requires_grad=True)
        bt = torch.tensor(layer.params["b"], requires_grad=True)
        # torch's conv2d is a cross-correlation: flip the kernel to get a true convolution
        yt = _torch_act(torch, act)(
            torch.nn.functional.conv2d(xt, Wt.flip((-2, -1)), bt, padding=padding))
        (yt * torch.from_numpy(R)).sum().backward()
        np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(layer.grads["W"], Wt.grad.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(layer.grads["b"], bt.grad.numpy(), rtol=1e-10, atol=1e-12)

    @pytest.mark.parametrize("act", ACTS)
    def test_dense(self, act):
        torch = pytest.importorskip("torch")
        layer = _dense(4, 3, act, seed=9)
        rng = make_rng(9)
        x = rng.standard_normal((5, 4))
        y = layer.output(x)
        R = rng.standard_normal(y.shape)
        dx = layer.backpropagate(R)
        xt = torch.tensor(x, requires_grad=True)
        Wt = torch.tensor(layer.params["W"], requires_grad=True)
        bt = torch.tensor(layer.params["b"], requires_grad=True)
        yt = _torch_act(torch, act)(xt @ Wt + bt)
        (yt * torch.from_numpy(R)).sum().backward()
        np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(layer.grads["W"], Wt.grad.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(layer.grads["b"], bt.grad.numpy(), rtol=1e-10, atol=1e-12)

    @pytest.mark.parametrize("method", ["max", "mean"])
    def test_pool(self, method):
        torch = pytest.importorskip("torch")
        x = _distinct((2, 3, 6, 4), seed=10)
        layer = Pool2D(2, method, "ignore")
        y = layer.output(x)
        R = make_rng(10).standard_normal(y.shape)
        dx = layer.backpropagate(R)
        xt = torch.tensor(x, requires_grad=True)
        pool = torch.nn.functional.max_pool2d if method == "max" else torch.nn.functional.avg_pool2d
        yt = pool(xt, 2)
        (yt * torch.from_numpy(R)).sum().backward()
        np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-14)
        np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-14)

    def test_softmax(self):
        torch = pytest.importorskip("torch")
        rng = make_rng(11)
        x = rng.standard_normal((3, 5))
        layer = Softmax()
        y = layer.output(x)
        R = rng.standard_normal(y.shape)
        dx = layer.backpropagate(R)
        xt = torch.tensor(x, requires_grad=True)
        yt = torch.softmax(xt, dim=1)
        (yt * torch.from_numpy(R)).sum().backward()
        np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-13)
        np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-10, atol=1e-14)


# ==================================================================================== dtype

class TestFloat32:
    """float32 layers keep float32 in outputs, input deltas and gradients (no upcast)."""

    @pytest.mark.parametrize("delta_dtype", [np.float32, np.float64])
    @pytest.mark.parametrize("act", ACTS)
    def test_conv(self, act, delta_dtype):
        layer = Conv2D(2, 3, 2, padding=1, activation=act, rng=0, dtype=np.float32)
        assert layer.params["W"].dtype == layer.params["b"].dtype == np.float32
        y = layer.output(make_rng(0).standard_normal((2, 2, 4, 4)))     # float64 input
        assert y.dtype == np.float32
        dx = layer.backpropagate(np.ones(y.shape, dtype=delta_dtype))
        assert dx.dtype == np.float32
        assert layer.grads["W"].dtype == layer.grads["b"].dtype == np.float32

    @pytest.mark.parametrize("delta_dtype", [np.float32, np.float64])
    @pytest.mark.parametrize("act", ACTS)
    def test_dense(self, act, delta_dtype):
        # regression: a float64 delta upcast the float32 Dense's gradients to float64
        layer = Dense(3, 2, activation=act, rng=0, dtype=np.float32)
        y = layer.output(make_rng(0).standard_normal((4, 3)))
        assert y.dtype == np.float32
        dx = layer.backpropagate(np.ones(y.shape, dtype=delta_dtype))
        assert dx.dtype == np.float32
        assert layer.grads["W"].dtype == layer.grads["b"].dtype == np.float32

    @pytest.mark.parametrize("layer", [Pool2D(2, "max"), Pool2D(3, "mean", "ignore"), Flatten()],
                             ids=repr)
    def test_parameterless_image_layers(self, layer):
        x = make_rng(1).standard_normal((2, 2, 5, 5)).astype(np.float32)
        y = layer.output(x)
        assert y.dtype == np.float32
        assert layer.backpropagate(np.ones_like(y)).dtype == np.float32

    def test_softmax(self):
        layer = Softmax()
        y = layer.output(np.ones((2, 3), dtype=np.float32))
        assert y.dtype == np.float32
        assert layer.backpropagate(np.ones_like(y)).dtype == np.float32

    def test_float32_close_to_float64(self):
        l32 = Conv2D(1, 2, 3, activation="tanh", rng=0, dtype=np.float32)
        l64 = Conv2D(1, 2, 3, activation="tanh", rng=0, dtype=np.float64)
        x = make_rng(2).standard_normal((2, 1, 5, 5))
        np.testing.assert_allclose(l32.output(x), l64.output(x), rtol=1e-5, atol=1e-6)


# =================================================================================== errors

ALL_LAYERS = [lambda: Conv2D(1, 2, 2), lambda: Pool2D(), Flatten, lambda: Dense(3, 2), Softmax]
ALL_IDS = ["Conv2D", "Pool2D", "Flatten", "Dense", "Softmax"]


def _good_input(layer):
    return np.ones((2, 3)) if isinstance(layer, (Dense, Softmax)) else np.ones((2, 1, 4, 4))


class TestErrors:

    @pytest.mark.parametrize("make", ALL_LAYERS, ids=ALL_IDS)
    def test_backpropagate_before_output(self, make):
        layer = make()
        with pytest.raises(InputError, match=f"{type(layer).__name__}.backpropagate: call output"):
            layer.backpropagate(np.ones((2, 2)))

    @pytest.mark.parametrize("make", ALL_LAYERS, ids=ALL_IDS)
    def test_wrong_delta_shape(self, make):
        layer = make()
        y = layer.output(_good_input(layer))
        bad = np.ones((y.shape[0] + 1,) + y.shape[1:])
        with pytest.raises(InputError, match=rf"delta has shape \({bad.shape[0]}, .*expected "
                                             rf"\({y.shape[0]}, "):
            layer.backpropagate(bad)

    @pytest.mark.parametrize("make", ALL_LAYERS, ids=ALL_IDS)
    def test_empty_batch(self, make):
        layer = make()
        x = _good_input(layer)[:0]
        with pytest.raises(InputError, match="empty batch"):
            layer.output(x)

    @pytest.mark.parametrize("make", ALL_LAYERS, ids=ALL_IDS)
    @pytest.mark.parametrize("dtype", [object, str])
    def test_non_numeric_input(self, make, dtype):
        layer = make()
        x = _good_input(layer).astype(dtype)
        with pytest.raises(InputTypeError, match="x must be a real numeric array, got dtype"):
            layer.output(x)

    @pytest.mark.parametrize("make, shape", [(lambda: Conv2D(1, 2, 2), (1, 4, 4)),
                                             (lambda: Pool2D(), (2, 4)),
                                             (lambda: Dense(3, 2), (2, 3, 1)),
                                             (Softmax, (3,))], ids=["Conv2D", "Pool2D", "Dense",
                                                                    "Softmax"])
    def test_wrong_ndim(self, make, shape):
        with pytest.raises(InputError, match=r"x must be \d-D, got shape"):
            make().output(np.ones(shape))
        with pytest.raises(InputError, match="Flatten.output: x must have a batch axis"):
            Flatten().output(np.ones(3))

    def test_channel_and_feature_mismatch(self):
        with pytest.raises(InputError, match="x has 3 channels, the layer expects 2"):
            Conv2D(2, 1, 2).output(np.ones((1, 3, 4, 4)))
        with pytest.raises(InputError, match="x has 4 features, the layer expects 3"):
            Dense(3, 2).output(np.ones((2, 4)))

    def test_kernel_larger_than_input(self):
        with pytest.raises(InputError, match=r"kernel 3x4 is larger than the \(padded\) input 3x3"):
            Conv2D(1, 1, (3, 4)).output(np.ones((1, 1, 3, 3)))
        assert Conv2D(1, 1, (3, 4), padding=1).output(np.ones((1, 1, 3, 3))).shape == (1, 1, 3, 2)
        with pytest.raises(InputError, match="smaller than one 3x3 window"):
            Pool2D(3, "max", "ignore").output(np.ones((1, 1, 2, 5)))

    @pytest.mark.parametrize("dtype", [np.float16, np.int32, np.complex128, "float128"
                                       if hasattr(np, "float128") else np.longdouble])
    def test_unsupported_layer_dtype(self, dtype):
        with pytest.raises(InputTypeError, match="Conv2D: dtype must be float32 or float64"):
            Conv2D(1, 1, 2, dtype=dtype)
        with pytest.raises(InputTypeError, match="Dense: dtype must be float32 or float64"):
            Dense(2, 2, dtype=dtype)

    def test_unknown_activation(self):
        with pytest.raises(InputError, match="activation: expected one of .*got 'softplus'"):
            Conv2D(1, 1, 2, activation="softplus")
        with pytest.raises(InputError, match="activation: expected one of .*got 'Tanh'"):
            Dense(2, 2, activation="Tanh")

    def test_unknown_init(self):
        with pytest.raises(InputError, match="Dense: init must be 'auto', 'xavier' or 'he'"):
            Dense(2, 2, init="zeros")

    @pytest.mark.parametrize("kwargs, match", [
        (dict(in_channels=0), "in_channels must be a positive int, got 0"),
        (dict(out_channels=1.0), "out_channels must be a positive int, got 1.0"),
        (dict(kernel_size=(2, 0)), "kernel_size must be a positive int, got 0"),
        (dict(kernel_size=(2, 2, 2)), "kernel_size must be an int or a pair"),
        (dict(kernel_size=True), "kernel_size must be an int or a pair"),
        (dict(padding=-1), "padding must be a non-negative int, got -1"),
    ])
    def test_bad_conv_args(self, kwargs, match):
        args = dict(in_channels=1, out_channels=1, kernel_size=2)
        args.update(kwargs)
        padding = args.pop("padding", 0)
        with pytest.raises(InputError, match=match):
            Conv2D(args["in_channels"], args["out_channels"], args["kernel_size"], padding=padding)

    def test_bad_dense_and_pool_args(self):
        with pytest.raises(InputError, match="Dense: n_out must be a positive int, got -2"):
            Dense(2, -2)
        with pytest.raises(InputError, match="Pool2D: size must be a positive int, got 0"):
            Pool2D(0)
        with pytest.raises(InputError, match="Pool2D: method must be 'max' or 'mean', got 'min'"):
            Pool2D(2, "min")
        with pytest.raises(InputError, match="Pool2D: edge must be 'pad' or 'ignore', got 'same'"):
            Pool2D(2, "max", "same")
