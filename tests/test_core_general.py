"""Tests of the core's generality: strided and padded convolution, 1-D layers, rectangular
and strided pooling, the max-pad rule, empty maps, the residual block, and the MNIST-1D
paper's three models.

Forward and backward are labelled apart; references are float64 central differences, the
seed's formulas with the delta dilated by the stride, and torch where it applies.
"""

from __future__ import annotations

import numpy as np
import pytest

from graphnet import models
from graphnet.cli import build_parser
from graphnet.core import conv as C
from graphnet.core import functional as F
from graphnet.core.gradcheck import check_layer, check_model
from graphnet.core.layers import Conv2D, Dense, Pool2D
from graphnet.core.layers1d import Conv1D, Pool1D, Reshape, Residual
from graphnet.errors import InputError
from graphnet.rng import make_rng

TOL = 1e-6
ACTS = ["relu", "tanh", "sigmoid", "identity"]


def _distinct(shape, seed):
    """Distinct quarter-steps, negatives included: no ties in a max window."""
    n = int(np.prod(shape))
    return (make_rng(seed).permutation(n) - n / 2 + 0.5).reshape(shape) / 4.0


def _conv(c_in, c_out, ks, act="tanh", seed=0, cls=Conv2D, **kw):
    layer = cls(c_in, c_out, ks, activation=act, rng=seed, **kw)
    layer.params["b"][...] = make_rng(seed + 100).standard_normal(c_out)   # non-zero bias
    return layer


def _torch_act(torch, act):
    return {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
            "identity": lambda z: z}[act]


# ================================================================= conv: forward

CONV_CASES = [  # kernel, stride, padding, input (h, w)
    ((3, 3), 2, 0, (7, 7)),
    ((3, 2), (2, 1), (1, 0), (6, 5)),
    ((2, 3), (1, 3), (0, 2), (5, 8)),
    ((3, 3), 1, "same", (5, 6)),
    ((4, 2), 1, "same", (6, 5)),      # even kernel: the odd zero below / right
    ((3, 3), 3, "valid", (8, 7)),     # stride leaves a remainder
    ((1, 5), (1, 2), (0, 1), (1, 40)),
]


class TestConvForward:

    @pytest.mark.parametrize("ks, stride, padding, hw", CONV_CASES)
    def test_layer_equals_plain_reference(self, ks, stride, padding, hw):
        layer = _conv(2, 3, ks, "identity", seed=1, stride=stride, padding=padding)
        x = make_rng(1).standard_normal((2, 2) + hw)
        y = layer.output(x)
        ref = C.conv2d_strided(x, layer.params["W"], stride=stride, padding=padding)
        ref += layer.params["b"][None, :, None, None]
        np.testing.assert_allclose(y, ref, rtol=1e-12, atol=1e-12)
        assert y.shape[1:] == layer.output_shape((2,) + hw)

    def test_strided_is_subsampled_stride_1(self):
        x = make_rng(2).standard_normal((1, 1, 9, 9))
        k = make_rng(3).standard_normal((1, 1, 3, 3))
        full = F.conv2d_batch(np.pad(x, ((0, 0), (0, 0), (1, 1), (2, 2))), k)
        np.testing.assert_array_equal(C.conv2d_strided(x, k, stride=(2, 3), padding=(1, 2)),
                                      full[:, :, ::2, ::3])

    def test_same_keeps_the_size(self):
        for ks in [(1, 1), (2, 2), (3, 4), (5, 5)]:
            y = Conv2D(1, 2, ks, padding="same").output(np.ones((1, 1, 6, 7)))
            assert y.shape == (1, 2, 6, 7)
        assert Conv1D(1, 2, 4, padding="same").output(np.ones((1, 1, 9))).shape == (1, 2, 9)

    def test_default_arguments_unchanged(self):
        # stride 1 and an int padding: the seed's layer, valid conv of the padded input
        layer = _conv(1, 1, 3, "identity", seed=3, padding=1)
        x = make_rng(3).standard_normal((1, 1, 5, 5))
        ref = F.conv2d(np.pad(x[0, 0], 1), layer.params["W"][0, 0]) + layer.params["b"][0]
        np.testing.assert_allclose(layer.output(x)[0, 0], ref, rtol=1e-12)
        assert layer.stride == (1, 1) and layer.padding == 1

    def test_conv1d_equals_conv2d_of_height_1(self):
        x = make_rng(4).standard_normal((3, 2, 11))
        c1 = _conv(2, 4, 3, "tanh", seed=4, cls=Conv1D, stride=2, padding=1)
        c2 = _conv(2, 4, (1, 3), "tanh", seed=4, stride=(1, 2), padding=(0, 1))
        np.testing.assert_array_equal(c1.params["W"], c2.params["W"][:, :, 0, :])
        np.testing.assert_array_equal(c1.output(x), c2.output(x[:, :, None, :])[:, :, 0, :])
        ref = C.conv1d(x, c1.params["W"], stride=2, padding=1) + c1.params["b"][None, :, None]
        np.testing.assert_allclose(np.tanh(ref), c1.output(x), rtol=1e-12)

    def test_conv1d_hand(self):
        # true convolution: the kernel is flipped; stride 2 keeps positions 0, 2, ...
        out = C.conv1d(np.array([[[1.0, 2.0, 3.0, 4.0, 5.0]]]), np.array([[[1.0, 0.0, -1.0]]]),
                       stride=2)
        np.testing.assert_array_equal(out, [[[3 - 1 - 0 + 0, 5 - 3]]])   # x[i+2] - x[i]

    def test_dilate(self):
        d = F._as_float_array(np.arange(1.0, 7.0).reshape(2, 3), "d")
        out = C.dilate(d, (2, 3))
        assert out.shape == (3, 7)
        np.testing.assert_array_equal(out[::2, ::3], d)
        assert out.sum() == d.sum()


# ================================================================= conv: backward

class TestConvBackward:

    @pytest.mark.parametrize("ks, stride, padding, hw", CONV_CASES)
    @pytest.mark.parametrize("act", ["tanh", "relu"])
    def test_finite_differences(self, ks, stride, padding, hw, act):
        layer = _conv(2, 3, ks, act, seed=5, stride=stride, padding=padding)
        errs = check_layer(layer, make_rng(5).standard_normal((2, 2) + hw))
        assert set(errs) == {"x", "W", "b"}
        assert max(errs.values()) < TOL, errs

    @pytest.mark.parametrize("stride, padding, length", [(1, 0, 9), (2, 1, 12), (3, 2, 10),
                                                         (1, "same", 8), (2, "valid", 9)])
    @pytest.mark.parametrize("act", ACTS)
    def test_conv1d_finite_differences(self, stride, padding, length, act):
        layer = _conv(2, 3, 3, act, seed=6, cls=Conv1D, stride=stride, padding=padding)
        errs = check_layer(layer, make_rng(6).standard_normal((2, 2, length)))
        assert max(errs.values()) < TOL, errs

    @pytest.mark.parametrize("ks, stride, padding, hw", CONV_CASES)
    def test_seed_formulas_with_dilated_delta(self, ks, stride, padding, hw):
        # dE/dTheta_ij = rot180(X_i *valid rot180(dilate(Delta_j))), dE/db_j = sum(Delta_j),
        # Delta_below_i = sum_j dilate(Delta_j) *full rot180(Theta_ij), cropped to the input
        layer = _conv(2, 3, ks, "identity", seed=7, stride=stride, padding=padding)
        x = make_rng(7).standard_normal((2, 2) + hw)
        delta = make_rng(8).standard_normal(layer.output(x).shape)
        dx = layer.backpropagate(delta)
        t, b, l, r = C.conv_padding(padding, ks, stride)
        xp = np.pad(x, ((0, 0), (0, 0), (t, b), (l, r)))
        p, q = ks
        W = layer.params["W"]
        dW = np.zeros_like(W)
        dxp = np.zeros_like(xp)
        for s in range(x.shape[0]):
            for j in range(W.shape[0]):
                D = C.dilate(delta[s, j], stride)
                for i in range(W.shape[1]):
                    # the strided windows stop before any remainder of the padded input
                    Xi = xp[s, i, :D.shape[0] + p - 1, :D.shape[1] + q - 1]
                    dW[j, i] += F.rot180(F.conv2d(Xi, F.rot180(D)))
                    full = F.conv2d(D, F.rot180(W[j, i]), "full")
                    dxp[s, i, :full.shape[0], :full.shape[1]] += full
        np.testing.assert_allclose(layer.grads["W"], dW, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(layer.grads["b"], delta.sum(axis=(0, 2, 3)), rtol=1e-12)
        np.testing.assert_allclose(dx, dxp[:, :, t:t + hw[0], l:l + hw[1]], rtol=1e-10, atol=1e-12)


# ================================================================= conv: torch

class TestConvTorch:

    @pytest.mark.parametrize("ks, stride, padding, hw", CONV_CASES)
    @pytest.mark.parametrize("act", ["relu", "sigmoid"])
    def test_conv2d(self, ks, stride, padding, hw, act):
        torch = pytest.importorskip("torch")
        layer = _conv(3, 4, ks, act, seed=9, stride=stride, padding=padding)
        rng = make_rng(9)
        x = rng.standard_normal((2, 3) + hw)
        y = layer.output(x)
        R = rng.standard_normal(y.shape)
        dx = layer.backpropagate(R)
        xt = torch.tensor(x, requires_grad=True)
        Wt = torch.tensor(layer.params["W"], requires_grad=True)
        bt = torch.tensor(layer.params["b"], requires_grad=True)
        tpad = padding if isinstance(padding, str) else padding
        # torch's conv2d is a cross-correlation: flip the kernel to get a true convolution
        yt = _torch_act(torch, act)(torch.nn.functional.conv2d(
            xt, Wt.flip((-2, -1)), bt, stride=stride, padding=tpad))
        (yt * torch.from_numpy(R)).sum().backward()
        np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(layer.grads["W"], Wt.grad.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(layer.grads["b"], bt.grad.numpy(), rtol=1e-10, atol=1e-12)

    @pytest.mark.parametrize("k, stride, padding, length", [(5, 2, 1, 40), (3, 2, 1, 19),
                                                            (3, 1, "same", 10), (4, 3, 0, 17)])
    def test_conv1d(self, k, stride, padding, length):
        torch = pytest.importorskip("torch")
        layer = _conv(2, 5, k, "relu", seed=10, cls=Conv1D, stride=stride, padding=padding)
        rng = make_rng(10)
        x = rng.standard_normal((3, 2, length))
        y = layer.output(x)
        R = rng.standard_normal(y.shape)
        dx = layer.backpropagate(R)
        xt = torch.tensor(x, requires_grad=True)
        Wt = torch.tensor(layer.params["W"], requires_grad=True)
        bt = torch.tensor(layer.params["b"], requires_grad=True)
        yt = torch.relu(torch.nn.functional.conv1d(xt, Wt.flip(-1), bt, stride=stride,
                                                   padding=padding))
        (yt * torch.from_numpy(R)).sum().backward()
        np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(layer.grads["W"], Wt.grad.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(layer.grads["b"], bt.grad.numpy(), rtol=1e-10, atol=1e-12)


# ================================================================= pooling

POOL_CASES = [  # size, stride, input (h, w)
    ((2, 3), None, (6, 9)),
    ((2, 3), (2, 3), (7, 10)),      # remainders
    ((3, 3), 2, (7, 8)),            # overlapping windows
    ((1, 3), (1, 2), (4, 9)),
    ((3, 2), (1, 3), (6, 8)),       # stride beyond the window: gaps
    (2, 2, (5, 5)),
]


class TestPoolForward:

    def test_max_pad_never_picks_padding(self):
        # the case: the seed's zeros clamped negative maps to 0
        np.testing.assert_array_equal(Pool2D(2, "max", "pad").output(-np.ones((1, 1, 1, 4))),
                                      -np.ones((1, 1, 1, 2)))
        np.testing.assert_array_equal(Pool2D(2, "max", "zero-pad").output(-np.ones((1, 1, 1, 4))),
                                      np.zeros((1, 1, 1, 2)))
        x = -np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
        np.testing.assert_array_equal(Pool2D(2, "max", "pad").output(x)[0, 0],
                                      [[-1.0, -3.0], [-7.0, -9.0]])

    def test_mean_pad_keeps_zeros(self):
        x = np.ones((1, 1, 3, 3))
        for edge in ("pad", "zero-pad"):
            np.testing.assert_array_equal(Pool2D(2, "mean", edge).output(x)[0, 0],
                                          [[1.0, 0.5], [0.5, 0.25]])

    @pytest.mark.parametrize("size, stride, hw", POOL_CASES)
    @pytest.mark.parametrize("edge", ["pad", "ignore"])
    def test_max_and_mean_by_hand(self, size, stride, hw, edge):
        x = _distinct((2, 3) + hw, seed=11)
        (ph, pw), (sh, sw) = F._check_pool(size, "max", edge, "t", stride)
        oh, ow = F.pool_output_shape(*hw, size, edge, stride)
        big = np.pad(x, ((0, 0), (0, 0), (0, ph + sh), (0, pw + sw)), constant_values=np.nan)
        for method in ("max", "mean"):
            y = Pool2D(size, method, edge, stride=stride).output(x)
            assert y.shape == (2, 3, oh, ow)
            for i in range(oh):
                for j in range(ow):
                    win = big[:, :, i * sh:i * sh + ph, j * sw:j * sw + pw]
                    want = (np.nanmax(win, axis=(2, 3)) if method == "max"
                            else np.nansum(win, axis=(2, 3)) / (ph * pw))
                    np.testing.assert_allclose(y[:, :, i, j], want, rtol=1e-14)

    def test_pool1d(self):
        x = np.array([[[3.0, -1.0, 4.0, -1.0, 5.0, -9.0, -2.0]]])
        np.testing.assert_array_equal(Pool1D(2).output(x), [[[3.0, 4.0, 5.0, -2.0]]])
        np.testing.assert_array_equal(Pool1D(3, stride=2).output(x), [[[4.0, 5.0, 5.0]]])
        np.testing.assert_array_equal(Pool1D(2, "mean", "ignore").output(x), [[[1.0, 1.5, -2.0]]])
        assert Pool1D(3, stride=2).output_shape((1, 7)) == (1, 3)


class TestPoolBackward:

    @pytest.mark.parametrize("size, stride, hw", POOL_CASES)
    @pytest.mark.parametrize("edge", ["pad", "zero-pad", "ignore"])
    @pytest.mark.parametrize("method", ["max", "mean"])
    def test_finite_differences(self, size, stride, hw, edge, method):
        x = _distinct((2, 2) + hw, seed=12)
        errs = check_layer(Pool2D(size, method, edge, stride=stride), x)
        assert errs["x"] < TOL, errs

    @pytest.mark.parametrize("size, stride", [(2, None), (3, 2), (2, 3)])
    @pytest.mark.parametrize("method", ["max", "mean"])
    def test_pool1d_finite_differences(self, size, stride, method):
        errs = check_layer(Pool1D(size, method, stride=stride), _distinct((2, 3, 11), seed=13))
        assert errs["x"] < TOL, errs

    def test_max_pad_routes_to_the_real_maximum(self):
        layer = Pool2D(2, "max", "pad")
        layer.output(np.array([[[[-3.0, -1.0, -2.0]]]]))
        dx = layer.backpropagate(np.array([[[[5.0, 7.0]]]]))
        np.testing.assert_array_equal(dx, [[[[0.0, 5.0, 7.0]]]])   # -2 wins, not the padding
        layer = Pool2D(2, "max", "zero-pad")
        layer.output(np.array([[[[-3.0, -1.0, -2.0]]]]))
        np.testing.assert_array_equal(layer.backpropagate(np.array([[[[5.0, 7.0]]]])),
                                      [[[[0.0, 0.0, 0.0]]]])       # the seed's: a padded 0 wins

    def test_overlapping_max_adds(self):
        layer = Pool1D(3, stride=1)
        layer.output(np.array([[[0.0, 9.0, 1.0, 2.0]]]))
        np.testing.assert_array_equal(layer.backpropagate(np.array([[[1.0, 2.0]]])),
                                      [[[0.0, 3.0, 0.0, 0.0]]])

    def test_functional_upsample_is_adjoint_with_stride(self):
        rng = make_rng(14)
        x = rng.standard_normal((2, 7, 8))
        for size, stride in [((3, 2), (2, 1)), ((2, 2), (3, 3)), ((3, 3), 2)]:
            d = rng.standard_normal(F.downsample(x, size, "mean", "pad", stride=stride).shape)
            lhs = np.sum(F.downsample(x, size, "mean", "pad", stride=stride) * d)
            rhs = np.sum(x * F.upsample(d, x.shape[-2:], size, "mean", stride=stride))
            np.testing.assert_allclose(lhs, rhs, rtol=1e-12)
            y, idx = F.downsample(x, size, "max", "pad", stride=stride, pad_value=-np.inf,
                                  return_indices=True)
            routed = F.upsample(d, x.shape[-2:], size, "max", stride=stride, indices=idx)
            via_x = F.max_route(d, x, y, size, stride=stride, pad_value=-np.inf)
            np.testing.assert_array_equal(routed, via_x)


class TestPoolTorch:

    @pytest.mark.parametrize("size, stride, hw", [c for c in POOL_CASES
                                                  if F._pair(c[1] or c[0], "s", "t")[0]
                                                  <= F._pair(c[0], "s", "t")[0] * 2])
    @pytest.mark.parametrize("edge", ["pad", "ignore"])
    def test_max_pool2d(self, size, stride, hw, edge):
        torch = pytest.importorskip("torch")
        x = _distinct((2, 3) + hw, seed=15) - 3.0     # mostly negative: padding must not win
        layer = Pool2D(size, "max", edge, stride=stride)
        y = layer.output(x)
        R = make_rng(15).standard_normal(y.shape)
        dx = layer.backpropagate(R)
        xt = torch.tensor(x, requires_grad=True)
        yt = torch.nn.functional.max_pool2d(xt, size, stride=stride, ceil_mode=edge == "pad")
        (yt * torch.from_numpy(R)).sum().backward()
        np.testing.assert_array_equal(y, yt.detach().numpy())
        np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-14)

    @pytest.mark.parametrize("size, stride, hw", POOL_CASES)
    def test_avg_pool2d(self, size, stride, hw):
        torch = pytest.importorskip("torch")
        x = make_rng(16).standard_normal((2, 3) + hw)
        layer = Pool2D(size, "mean", "ignore", stride=stride)
        y = layer.output(x)
        R = make_rng(16).standard_normal(y.shape)
        dx = layer.backpropagate(R)
        xt = torch.tensor(x, requires_grad=True)
        yt = torch.nn.functional.avg_pool2d(xt, size, stride=stride)
        (yt * torch.from_numpy(R)).sum().backward()
        np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-12)

    @pytest.mark.parametrize("size, stride, edge", [(2, None, "pad"), (3, 2, "pad"),
                                                    (3, 2, "ignore"), (2, 3, "ignore")])
    def test_max_pool1d(self, size, stride, edge):
        torch = pytest.importorskip("torch")
        x = _distinct((2, 3, 13), seed=17) - 2.0
        layer = Pool1D(size, "max", edge, stride=stride)
        y = layer.output(x)
        R = make_rng(17).standard_normal(y.shape)
        dx = layer.backpropagate(R)
        xt = torch.tensor(x, requires_grad=True)
        yt = torch.nn.functional.max_pool1d(xt, size, stride=stride, ceil_mode=edge == "pad")
        (yt * torch.from_numpy(R)).sum().backward()
        np.testing.assert_array_equal(y, yt.detach().numpy())
        np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-14)


# ================================================================= errors

class TestErrors:

    def test_conv_empty_map(self):
        with pytest.raises(InputError, match=r"kernel 5x5 is larger than the \(padded\) input "
                                             r"4x6: the output map would be empty"):
            Conv2D(1, 1, 5, stride=2, padding=(1, 2)).output(np.ones((1, 1, 2, 2)))
        with pytest.raises(InputError, match=r"kernel 1x5 is larger than the \(padded\) input 1x4"):
            Conv1D(1, 1, 5, padding=1).output(np.ones((1, 1, 2)))

    def test_pool_empty_map(self):
        with pytest.raises(InputError, match=r"Pool2D.output: downsample: a 2x5 map is smaller "
                                             r"than one 3x2 window with edge='ignore'"):
            Pool2D((3, 2), "max", "ignore").output(np.ones((1, 1, 2, 5)))
        with pytest.raises(InputError, match=r"a 1x2 map is smaller than one 1x3 window"):
            Pool1D(3, "mean", "ignore").output(np.ones((1, 1, 2)))

    @pytest.mark.parametrize("kwargs, message", [
        (dict(stride=0), r"Conv2D: stride must be a positive int, got 0"),
        (dict(stride=(1, -2)), r"Conv2D: stride must be a positive int, got \(1, -2\)"),
        (dict(padding=(1, -1)), r"Conv2D: padding must be a non-negative int, got \(1, -1\)"),
        (dict(padding="full"), r"Conv2D: padding must be an int, a pair, 'valid' or 'same', "
                               r"got 'full'"),
        (dict(padding="same", stride=2),
         r"Conv2D: padding='same' needs stride 1, got stride \(2, 2\)"),
    ])
    def test_bad_conv_args(self, kwargs, message):
        with pytest.raises(InputError, match=message):
            Conv2D(1, 1, 3, **kwargs)

    def test_bad_1d_args(self):
        with pytest.raises(InputError, match="Conv1D: stride must be a positive int, got 1.5"):
            Conv1D(1, 1, 3, stride=1.5)
        with pytest.raises(InputError, match="Conv1D: kernel must be a positive int, got 0"):
            Conv1D(1, 1, 0)
        with pytest.raises(InputError, match=r"Conv1D: padding must be a non-negative int, got -1"):
            Conv1D(1, 1, 3, padding=-1)
        with pytest.raises(InputError, match="Conv1D.output: x must be 3-D, got shape"):
            Conv1D(1, 1, 3).output(np.ones((1, 1, 1, 5)))
        with pytest.raises(InputError, match="Pool1D: size must be a positive int, got"):
            Pool1D((2, 2))
        with pytest.raises(InputError, match="Pool2D: stride must be a positive int, got 0"):
            Pool2D(2, stride=0)
        with pytest.raises(InputError, match="Reshape: a sample of shape \\(6,\\) cannot be "
                                             "viewed as \\(1, 4\\)"):
            Reshape((1, 4)).output(np.ones((2, 6)))

    def test_residual_needs_same_shape(self):
        with pytest.raises(InputError, match=r"Residual.output: the layer maps \(2, 3\) to "
                                             r"\(2, 4\); a skip connection needs the same shape"):
            Residual(Dense(3, 4)).output(np.ones((2, 3)))


# ================================================================= residual block

class TestResidual:

    @pytest.mark.parametrize("act", ["relu", "tanh"])
    def test_finite_differences(self, act):
        layer = Residual(Dense(5, 5, activation=act, rng=18))
        layer.params["b"][...] = make_rng(18).standard_normal(5)
        errs = check_layer(layer, make_rng(19).standard_normal((4, 5)))
        assert set(errs) == {"x", "W", "b"}
        assert max(errs.values()) < TOL, errs

    def test_forward_and_shared_parameters(self):
        inner = Dense(3, 3, activation="relu", rng=0)
        block = Residual(inner)
        x = make_rng(20).standard_normal((2, 3))
        np.testing.assert_array_equal(block.output(x), np.maximum(x @ inner.params["W"], 0) + x)
        assert block.params is inner.params and block.n_params == 12

    def test_torch(self):
        torch = pytest.importorskip("torch")
        block = Residual(Dense(4, 4, activation="relu", rng=21))
        x = make_rng(21).standard_normal((3, 4))
        y = block.output(x)
        R = make_rng(22).standard_normal(y.shape)
        dx = block.backpropagate(R)
        xt = torch.tensor(x, requires_grad=True)
        Wt = torch.tensor(block.params["W"], requires_grad=True)
        bt = torch.tensor(block.params["b"], requires_grad=True)
        yt = torch.relu(xt @ Wt + bt) + xt
        (yt * torch.from_numpy(R)).sum().backward()
        np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-12)
        np.testing.assert_allclose(block.grads["W"], Wt.grad.numpy(), rtol=1e-12)


# ================================================================= the paper's models

class TestPaperModels:
    """Greydanus & Kobak's MNIST-1D models (notebooks/models.py): the parameter counts
    the paper's code prints, and a gradient check of each whole model."""

    @pytest.mark.parametrize("name, n_params", [("logistic", 410), ("mlp_residual", 15_210),
                                                ("cnn1d", 5_210)])
    def test_parameter_counts(self, name, n_params):
        model = models.build(name, (40,), 10, seed=0)
        assert model.n_params == n_params
        assert model.forward(np.zeros((3, 40))).shape == (3, 10)

    def test_cnn_shapes(self):
        model = models.cnn1d(40, 10, seed=0)
        shapes = [tuple(layer.output_shape(s)) for layer, s in
                  zip(model.layers, [(40,), (1, 40), (25, 19), (25, 10), (25, 5)])]
        assert shapes == [(1, 40), (25, 19), (25, 10), (25, 5), (125,)]
        convs = [layer for layer in model.layers if isinstance(layer, Conv1D)]
        assert [(c.kernel_size[1], c.stride[1], c.padding) for c in convs] == [(5, 2, 1), (3, 2, 1),
                                                                              (3, 2, 1)]

    @pytest.mark.parametrize("name", ["logistic", "mlp_residual", "cnn1d"])
    def test_model_gradients(self, name):
        model = models.build(name, (12,) if name != "cnn1d" else (40,), 3, seed=1)
        n_in = 12 if name != "cnn1d" else 40
        x = make_rng(23).standard_normal((3, n_in))
        errs = check_model(model, x, np.array([0, 2, 1]), "cross_entropy")
        assert max(errs.values()) < 1e-5, errs

    def test_same_seed_same_model(self):
        a, b = models.build("cnn1d", (40,), 10, seed=4), models.build("cnn1d", (40,), 10, seed=4)
        c = models.build("cnn1d", (40,), 10, seed=5)
        sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
        assert all(np.array_equal(sa[k], sb[k]) for k in sa)
        assert not all(np.array_equal(sa[k], sc[k]) for k in sa)

    def test_wrong_input(self):
        with pytest.raises(InputError, match="cnn1d needs sequences"):
            models.build("cnn1d", (1, 8, 8), 10)

    def test_train_offers_every_model(self):
        train = build_parser()._subparsers._group_actions[0].choices["train"]
        choices = next(a.choices for a in train._actions if a.dest == "model")
        assert {"logistic", "mlp_residual", "cnn1d"} <= set(choices)
        for name in choices:
            shape = (1, 28, 28) if name == "lenet5" else (1, 8, 8) if name == "cnn" else (40,)
            assert models.build(name, shape, 10).forward(np.zeros((1, *shape))).shape == (1, 10)
