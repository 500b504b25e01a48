"""Tests of graphnet.core.functional: convolution, pooling, activations.

Forward tests compare with an independent reference (scipy.signal.convolve2d, torch's
max_pool2d, hand-computed arrays); backward tests check that ``upsample`` is the adjoint of
``downsample`` and that derivatives match finite differences.
"""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.signal import convolve2d, correlate2d

from graphnet.core import activations as acts
from graphnet.core import functional as F
from graphnet.errors import InputError, InputTypeError
from graphnet.rng import make_rng

FAST = settings(max_examples=40, deadline=None)
seeds = st.integers(0, 2**32 - 1)


# =============================================================================== conv forward

class TestConvForward:

    @FAST
    @given(m=st.integers(1, 7), n=st.integers(1, 7), data=st.data(), seed=seeds)
    def test_valid_equals_scipy(self, m, n, data, seed):
        p = data.draw(st.integers(1, m), label="p")
        q = data.draw(st.integers(1, n), label="q")
        rng = make_rng(seed)
        x, k = rng.standard_normal((m, n)), rng.standard_normal((p, q))
        out = F.conv2d(x, k, "valid")
        assert out.shape == (m - p + 1, n - q + 1)
        np.testing.assert_allclose(out, convolve2d(x, k, mode="valid"), rtol=1e-12, atol=1e-12)

    @FAST
    @given(m=st.integers(1, 6), n=st.integers(1, 6), p=st.integers(1, 6), q=st.integers(1, 6),
           seed=seeds)
    def test_full_equals_scipy(self, m, n, p, q, seed):
        # full mode allows a kernel larger than the image
        rng = make_rng(seed)
        x, k = rng.standard_normal((m, n)), rng.standard_normal((p, q))
        out = F.conv2d(x, k, "full")
        assert out.shape == (m + p - 1, n + q - 1)
        np.testing.assert_allclose(out, convolve2d(x, k, mode="full"), rtol=1e-12, atol=1e-12)

    @pytest.mark.parametrize("m, n, p, q", [(4, 4, 4, 4), (3, 5, 3, 5), (5, 3, 1, 1), (1, 1, 1, 1),
                                            (2, 7, 2, 3), (6, 2, 4, 1)])
    @pytest.mark.parametrize("mode", ["valid", "full"])
    def test_edge_shapes_equal_scipy(self, m, n, p, q, mode):
        # p == m (single valid output row), 1x1 kernels, non-square images and kernels
        rng = make_rng(m * 1000 + n * 100 + p * 10 + q)
        x, k = rng.standard_normal((m, n)), rng.standard_normal((p, q))
        np.testing.assert_allclose(F.conv2d(x, k, mode), convolve2d(x, k, mode=mode),
                                   rtol=1e-12, atol=1e-12)

    def test_true_convolution_not_correlation(self):
        k = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])      # asymmetric in both axes
        impulse = np.zeros((5, 5))
        impulse[2, 2] = 1.0
        full = F.conv2d(impulse, k, "full")
        # convolving an impulse reproduces the kernel unflipped; correlation would flip it
        np.testing.assert_array_equal(full[2:4, 2:5], k)
        x = make_rng(0).standard_normal((5, 4))
        valid = F.conv2d(x, k, "valid")
        assert not np.allclose(valid, correlate2d(x, k, mode="valid"))
        np.testing.assert_allclose(valid, correlate2d(x, F.rot180(k), mode="valid"), rtol=1e-12)

    def test_hand_computed_valid(self):
        x = np.arange(9.0).reshape(3, 3)
        k = np.array([[1.0, 0.0], [0.0, 2.0]])
        # out[i, j] = x[i, j] * k[1, 1] + x[i+1, j+1] * k[0, 0]
        expected = np.array([[0 * 2 + 4, 1 * 2 + 5], [3 * 2 + 7, 4 * 2 + 8]], dtype=float)
        np.testing.assert_array_equal(F.conv2d(x, k), expected)

    @FAST
    @given(nb=st.integers(1, 3), c_in=st.integers(1, 3), c_out=st.integers(1, 3),
           h=st.integers(1, 6), w=st.integers(1, 6), data=st.data(), seed=seeds,
           mode=st.sampled_from(["valid", "full"]))
    def test_batch_equals_sum_of_scipy(self, nb, c_in, c_out, h, w, data, seed, mode):
        hi_p, hi_q = (h, w) if mode == "valid" else (5, 5)
        p = data.draw(st.integers(1, hi_p), label="p")
        q = data.draw(st.integers(1, hi_q), label="q")
        rng = make_rng(seed)
        x = rng.standard_normal((nb, c_in, h, w))
        k = rng.standard_normal((c_out, c_in, p, q))
        out = F.conv2d_batch(x, k, mode)
        ref = np.stack([np.stack([sum(convolve2d(x[s, i], k[o, i], mode=mode) for i in range(c_in))
                                  for o in range(c_out)]) for s in range(nb)])
        assert out.shape == ref.shape
        np.testing.assert_allclose(out, ref, rtol=1e-11, atol=1e-11)

    def test_integer_input_gives_float(self):
        out = F.conv2d(np.ones((3, 3), dtype=np.int64), np.ones((2, 2), dtype=np.int32))
        assert out.dtype == np.float64
        np.testing.assert_array_equal(out, np.full((2, 2), 4.0))

    def test_float32_stays_float32(self):
        x = np.ones((1, 2, 4, 4), dtype=np.float32)
        k = np.ones((3, 2, 2, 2), dtype=np.float32)
        assert F.conv2d_batch(x, k).dtype == np.float32
        assert F.conv2d_batch(x, k, "full").dtype == np.float32
        assert F.conv2d(x[0, 0], k[0, 0]).dtype == np.float32

    def test_rot180(self):
        k = np.arange(6).reshape(1, 2, 3)
        np.testing.assert_array_equal(F.rot180(k), [[[5, 4, 3], [2, 1, 0]]])
        np.testing.assert_array_equal(F.rot180(F.rot180(k)), k)


class TestIm2colAdjoint:
    """col2im is the adjoint of im2col; the conv layer's backward pass relies on it."""

    @FAST
    @given(nb=st.integers(1, 3), c=st.integers(1, 3), h=st.integers(1, 6), w=st.integers(1, 6),
           data=st.data(), seed=seeds)
    def test_adjoint(self, nb, c, h, w, data, seed):
        p = data.draw(st.integers(1, h), label="p")
        q = data.draw(st.integers(1, w), label="q")
        rng = make_rng(seed)
        x = rng.standard_normal((nb, c, h, w))
        cols = F.im2col(x, p, q)
        assert cols.shape == (c * p * q, nb * (h - p + 1) * (w - q + 1))
        C = rng.standard_normal(cols.shape)
        lhs = float(np.sum(cols * C))
        rhs = float(np.sum(x * F.col2im(C, x.shape, p, q)))
        assert lhs == pytest.approx(rhs, rel=1e-12, abs=1e-12)

    def test_window_too_large(self):
        with pytest.raises(InputError, match="does not fit"):
            F.im2col(np.zeros((1, 1, 2, 2)), 3, 1)


class TestConvErrors:

    def test_wrong_ndim(self):
        with pytest.raises(InputError, match=r"conv2d: x: expected a 2-D array, got shape \(3,\)"):
            F.conv2d(np.zeros(3), np.ones((1, 1)))
        with pytest.raises(InputError, match="conv2d: k: expected a 2-D"):
            F.conv2d(np.zeros((3, 3)), np.ones((1, 1, 1)))
        with pytest.raises(InputError, match="conv2d_batch: x: expected a 4-D"):
            F.conv2d_batch(np.zeros((3, 3)), np.ones((1, 1, 1, 1)))

    @pytest.mark.parametrize("bad", [np.array([[1, None]], dtype=object), np.array([["a", "b"]]),
                                     np.ones((2, 2), dtype=complex)])
    def test_non_numeric_dtype(self, bad):
        with pytest.raises(InputTypeError, match="conv2d: x: expected a real numeric array"):
            F.conv2d(bad, np.ones((1, 1)))
        with pytest.raises(InputTypeError, match="conv2d: k: expected a real numeric array"):
            F.conv2d(np.ones((3, 3)), bad)

    def test_kernel_larger_than_input(self):
        with pytest.raises(InputError, match=r"kernel 3x2 is larger than the input 2x5"):
            F.conv2d(np.zeros((2, 5)), np.ones((3, 2)))
        with pytest.raises(InputError, match=r"kernel 1x6 is larger"):
            F.conv2d_batch(np.zeros((1, 1, 5, 5)), np.ones((1, 1, 1, 6)))
        # full mode accepts it
        assert F.conv2d(np.zeros((2, 5)), np.ones((3, 2)), "full").shape == (4, 6)

    @pytest.mark.parametrize("mode", ["same", "VALID", None, ""])
    def test_unknown_mode(self, mode):
        with pytest.raises(InputError, match="mode must be 'valid' or 'full'"):
            F.conv2d(np.zeros((3, 3)), np.ones((2, 2)), mode)

    def test_channel_mismatch(self):
        with pytest.raises(InputError, match="x has 2 channels but the kernel expects 3"):
            F.conv2d_batch(np.zeros((1, 2, 4, 4)), np.ones((1, 3, 2, 2)))

    def test_empty_kernel(self):
        with pytest.raises(InputError, match="kernel must be at least 1x1, got 0x2"):
            F.conv2d(np.zeros((3, 3)), np.ones((0, 2)))

    def test_rot180_needs_2d(self):
        with pytest.raises(InputError, match="at least 2 dims"):
            F.rot180(np.ones(3))


# ============================================================================ pooling forward

class TestPoolForward:
    x5 = np.arange(25.0).reshape(5, 5)

    def test_max_pad_5x5(self):
        # windows rows {0,1},{2,3},{4,pad}; the padded zeros never win over positive values
        expected = np.array([[6.0, 8.0, 9.0], [16.0, 18.0, 19.0], [21.0, 23.0, 24.0]])
        np.testing.assert_array_equal(F.downsample(self.x5, 2, "max", "pad"), expected)

    def test_max_ignore_5x5(self):
        np.testing.assert_array_equal(F.downsample(self.x5, 2, "max", "ignore"),
                                      [[6.0, 8.0], [16.0, 18.0]])

    def test_mean_pad_5x5(self):
        # padded zeros count in the mean: the corner window holds 24 and three zeros
        expected = np.array([[(0 + 1 + 5 + 6) / 4, (2 + 3 + 7 + 8) / 4, (4 + 9) / 4],
                             [(10 + 11 + 15 + 16) / 4, (12 + 13 + 17 + 18) / 4, (14 + 19) / 4],
                             [(20 + 21) / 4, (22 + 23) / 4, 24 / 4]])
        np.testing.assert_allclose(F.downsample(self.x5, 2, "mean", "pad"), expected, rtol=1e-15)

    def test_mean_ignore_5x5(self):
        np.testing.assert_allclose(F.downsample(self.x5, 2, "mean", "ignore"),
                                   [[3.0, 5.0], [13.0, 15.0]], rtol=1e-15)

    def test_7x3(self):
        x = np.arange(21.0).reshape(7, 3) - 10.0   # negative values: padded zeros can win
        # rows: [-10,-9,-8],[-7,-6,-5],[-4,-3,-2],[-1,0,1],[2,3,4],[5,6,7],[8,9,10]
        max_pad = np.array([[-6.0, 0.0], [0.0, 1.0], [6.0, 7.0], [9.0, 10.0]])
        np.testing.assert_array_equal(F.downsample(x, 2, "max", "pad"), max_pad)
        max_ign = np.array([[-6.0], [0.0], [6.0]])
        np.testing.assert_array_equal(F.downsample(x, 2, "max", "ignore"), max_ign)
        mean_pad = np.array([[(-10 - 9 - 7 - 6) / 4, (-8 - 5) / 4],
                             [(-4 - 3 - 1 + 0) / 4, (-2 + 1) / 4],
                             [(2 + 3 + 5 + 6) / 4, (4 + 7) / 4],
                             [(8 + 9) / 4, 10 / 4]])
        np.testing.assert_allclose(F.downsample(x, 2, "mean", "pad"), mean_pad, rtol=1e-15)
        mean_ign = np.array([[(-10 - 9 - 7 - 6) / 4], [(-4 - 3 - 1 + 0) / 4], [(2 + 3 + 5 + 6) / 4]])
        np.testing.assert_allclose(F.downsample(x, 2, "mean", "ignore"), mean_ign, rtol=1e-15)

    def test_size_3(self):
        x = np.arange(49.0).reshape(7, 7)
        # pad to 9x9: windows rows {0,1,2},{3,4,5},{6,pad,pad}
        np.testing.assert_array_equal(F.downsample(x, 3, "max", "pad"),
                                      [[16, 19, 20], [37, 40, 41], [44, 47, 48]])
        np.testing.assert_array_equal(F.downsample(x, 3, "max", "ignore"), [[16, 19], [37, 40]])
        np.testing.assert_allclose(F.downsample(x, 3, "mean", "ignore"), [[8, 11], [29, 32]],
                                   rtol=1e-15)
        np.testing.assert_allclose(F.downsample(x, 3, "mean", "pad")[2, 2], 48 / 9, rtol=1e-15)

    def test_batched_axes(self):
        rng = make_rng(1)
        x = rng.standard_normal((2, 3, 5, 4))
        out = F.downsample(x, 2, "mean", "pad")
        assert out.shape == (2, 3, 3, 2)
        for s in range(2):
            for c in range(3):
                np.testing.assert_allclose(out[s, c], F.downsample(x[s, c], 2, "mean", "pad"))

    def test_max_indices_hand(self):
        x = np.array([[1.0, 7.0, 2.0, 2.0],
                      [3.0, 4.0, 2.0, 2.0]])
        out, idx = F.downsample(x, 2, "max", "ignore", return_indices=True)
        np.testing.assert_array_equal(out, [[7.0, 2.0]])
        np.testing.assert_array_equal(idx, [[1, 0]])   # four-way tie: the first, row-major
        x = np.array([[0.0, 1.0], [5.0, 5.0]])
        _, idx = F.downsample(x, 2, "max", return_indices=True)
        assert idx[0, 0] == 2

    @FAST
    @given(h=st.integers(1, 8), w=st.integers(1, 8), size=st.integers(1, 4),
           edge=st.sampled_from(["pad", "ignore"]))
    def test_output_shape(self, h, w, size, edge):
        expected = ((h + size - 1) // size, (w + size - 1) // size) if edge == "pad" \
            else (h // size, w // size)
        assert F.pool_output_shape(h, w, size, edge) == expected
        if min(expected) > 0:
            assert F.downsample(np.zeros((h, w)), size, "max", edge).shape == expected

    def test_size_1_is_identity(self):
        x = make_rng(2).standard_normal((3, 4))
        np.testing.assert_array_equal(F.downsample(x, 1, "max"), x)
        np.testing.assert_array_equal(F.downsample(x, 1, "mean"), x)

    def test_float32_stays_float32(self):
        x = np.ones((2, 5, 5), dtype=np.float32)
        assert F.downsample(x, 2, "mean").dtype == np.float32
        out, _ = F.downsample(x, 2, "max", return_indices=True)
        assert out.dtype == np.float32


class TestPoolTiesAgainstTorch:

    @FAST
    @given(h=st.integers(2, 8), w=st.integers(2, 8), size=st.integers(2, 3), seed=seeds)
    def test_first_maximum_like_torch(self, h, w, size, seed):
        torch = pytest.importorskip("torch")
        assume(h >= size and w >= size)
        rng = make_rng(seed)
        x = rng.integers(0, 3, size=(1, 2, h, w)).astype(np.float64)   # many ties
        out, idx = F.downsample(x, size, "max", "ignore", return_indices=True)
        t_out, t_idx = torch.nn.functional.max_pool2d(torch.from_numpy(x), size, stride=size,
                                                      return_indices=True)
        np.testing.assert_array_equal(out, t_out.numpy())
        # graphnet's index is the row-major position inside the window; torch's is flat in h*w
        oh, ow = out.shape[-2:]
        rows = np.arange(oh)[:, None] * size + idx.astype(np.int64) // size
        cols = np.arange(ow)[None, :] * size + idx.astype(np.int64) % size
        np.testing.assert_array_equal(rows * w + cols, t_idx.numpy())


# =========================================================================== pooling backward

class TestPoolBackward:

    @FAST
    @given(h=st.integers(1, 8), w=st.integers(1, 8), size=st.integers(1, 3),
           edge=st.sampled_from(["pad", "ignore"]), seed=seeds)
    def test_mean_adjoint(self, h, w, size, edge, seed):
        # <downsample(x), d> == <x, upsample(d)>; with 'pad' the padded zeros count in the mean
        assume(edge == "pad" or (h >= size and w >= size))
        rng = make_rng(seed)
        x = rng.standard_normal((2, h, w))
        y = F.downsample(x, size, "mean", edge)
        d = rng.standard_normal(y.shape)
        back = F.upsample(d, (h, w), size, "mean")
        assert back.shape == x.shape
        assert float(np.sum(y * d)) == pytest.approx(float(np.sum(x * back)), rel=1e-12, abs=1e-12)

    @FAST
    @given(h=st.integers(1, 8), w=st.integers(1, 8), size=st.integers(1, 3),
           edge=st.sampled_from(["pad", "ignore"]), seed=seeds, ties=st.booleans())
    def test_max_adjoint_with_indices(self, h, w, size, edge, seed, ties):
        # with the indices fixed, max pooling is a selection S; upsample is S^T
        assume(edge == "pad" or (h >= size and w >= size))
        rng = make_rng(seed)
        x = (rng.integers(-2, 3, size=(2, h, w)).astype(float) if ties
             else rng.standard_normal((2, h, w)))
        y, idx = F.downsample(x, size, "max", edge, return_indices=True)
        d = rng.standard_normal(y.shape)
        back = F.upsample(d, (h, w), size, "max", indices=idx)
        assert back.shape == x.shape
        assert float(np.sum(y * d)) == pytest.approx(float(np.sum(x * back)), rel=1e-12, abs=1e-12)
        # each delta lands on at most one point, so at most y.size points are non-zero
        assert np.count_nonzero(back) <= y.size

    def test_mean_hand_pad(self):
        np.testing.assert_array_equal(F.upsample(np.array([[8.0]]), (3, 3), 2, "mean"),
                                      [[2, 2, 0], [2, 2, 0], [0, 0, 0]])

    def test_mean_hand_ignore(self):
        d = np.array([[4.0, 8.0]])
        expected = np.array([[1, 1, 2, 2, 0], [1, 1, 2, 2, 0], [0, 0, 0, 0, 0]], dtype=float)
        np.testing.assert_array_equal(F.upsample(d, (3, 5), 2, "mean"), expected)

    def test_max_routes_to_first_of_ties(self):
        x = np.array([[3.0, 3.0, 1.0], [3.0, 0.0, 2.0], [9.0, 9.0, 9.0]])
        y, idx = F.downsample(x, 2, "max", "pad", return_indices=True)
        back = F.upsample(np.array([[1.0, 2.0], [3.0, 4.0]]), (3, 3), 2, "max", indices=idx)
        # window (0,0): tie of three 3s -> (0,0); (0,1): 2 at (1,2); (1,0): 9 at (2,0);
        # (1,1): 9 at (2,2)
        expected = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 2.0], [3.0, 0.0, 4.0]])
        np.testing.assert_array_equal(back, expected)

    def test_max_on_padded_zero_drops_delta(self):
        x = np.array([[-1.0, -2.0, -3.0],
                      [-4.0, -5.0, -6.0]])    # second window is {-3, 0, -6, 0}: a padded 0 wins
        y, idx = F.downsample(x, 2, "max", "pad", return_indices=True)
        np.testing.assert_array_equal(y, [[-1.0, 0.0]])
        np.testing.assert_array_equal(idx, [[0, 1]])
        back = F.upsample(np.array([[5.0, 7.0]]), (2, 3), 2, "max", indices=idx)
        np.testing.assert_array_equal(back, [[5.0, 0.0, 0.0], [0.0, 0.0, 0.0]])

    def test_size_3_mean(self):
        back = F.upsample(np.array([[9.0, 18.0]]), (3, 5), 3, "mean")
        np.testing.assert_array_equal(back, [[1, 1, 1, 2, 2]] * 3)


class TestPoolErrors:

    @pytest.mark.parametrize("size", [0, -1, 1.5, True, "2"])
    def test_bad_size(self, size):
        with pytest.raises(InputError, match="downsample: size must be a positive int"):
            F.downsample(np.zeros((4, 4)), size)

    def test_unknown_method_edge(self):
        with pytest.raises(InputError, match="method must be 'max' or 'mean', got 'median'"):
            F.downsample(np.zeros((4, 4)), 2, "median")
        with pytest.raises(InputError, match="edge must be 'pad' or 'ignore', got 'wrap'"):
            F.downsample(np.zeros((4, 4)), 2, "max", "wrap")
        with pytest.raises(InputError, match="upsample: method must be"):
            F.upsample(np.zeros((2, 2)), (4, 4), 2, "sum")

    def test_too_few_dims(self):
        with pytest.raises(InputError, match=r"at least 2 dims \(\.\.\., h, w\), got shape \(4,\)"):
            F.downsample(np.zeros(4))
        with pytest.raises(InputError, match="upsample: expected a delta with at least 2 dims"):
            F.upsample(np.zeros(3), (4, 4), 2, "mean")

    def test_map_smaller_than_window_ignore(self):
        with pytest.raises(InputError, match="smaller than one 3x3 window"):
            F.downsample(np.zeros((2, 5)), 3, "max", "ignore")
        assert F.downsample(np.zeros((2, 5)), 3, "max", "pad").shape == (1, 2)

    def test_non_numeric(self):
        with pytest.raises(InputTypeError, match="downsample: x: expected a real numeric array"):
            F.downsample(np.array([["a", "b"], ["c", "d"]]))
        with pytest.raises(InputTypeError, match="real numeric"):
            F.downsample(np.empty((2, 2), dtype=object))

    def test_upsample_max_needs_indices(self):
        with pytest.raises(InputError, match="needs the indices"):
            F.upsample(np.zeros((2, 2)), (4, 4), 2, "max")
        with pytest.raises(InputError, match=r"indices shape \(1, 2\) != delta shape \(2, 2\)"):
            F.upsample(np.zeros((2, 2)), (4, 4), 2, "max", indices=np.zeros((1, 2), int))

    def test_upsample_shape_mismatch(self):
        with pytest.raises(InputError, match="a 2x2 delta does not come from pooling a 7x7 map"):
            F.upsample(np.zeros((2, 2)), (7, 7), 2, "mean")
        with pytest.raises(InputError, match="shape must be a pair"):
            F.upsample(np.zeros((2, 2)), (4, 4, 4), 2, "mean")


# ================================================================================ activations

class TestActivations:

    @pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "identity"])
    def test_forward_values(self, name):
        x = np.array([-3.0, -0.5, 0.5, 2.0])
        ref = {"sigmoid": 1 / (1 + np.exp(-x)), "tanh": np.tanh(x),
               "relu": np.where(x > 0, x, 0.0), "identity": x}[name]
        act, _ = acts.activation(name)
        np.testing.assert_allclose(act(x), ref, rtol=1e-15)

    @pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "identity"])
    def test_derivative_matches_finite_differences(self, name):
        # backward: d act / dx from the output o = act(x), against central differences
        x = np.array([-3.0, -0.7, 0.3, 2.0])          # away from relu's kink
        act, dact = acts.activation(name)
        eps = 1e-6
        fd = (act(x + eps) - act(x - eps)) / (2 * eps)
        np.testing.assert_allclose(dact(act(x)), fd, rtol=1e-7, atol=1e-9)

    def test_sigmoid_extremes_without_overflow(self):
        out = acts.sigmoid(np.array([-1000.0, -40.0, 0.0, 40.0, 1000.0]))
        assert np.all(np.isfinite(out))
        np.testing.assert_allclose(out, [0.0, np.exp(-40.0) / (1 + np.exp(-40.0)), 0.5,
                                         1 / (1 + np.exp(-40.0)), 1.0], rtol=1e-15)

    def test_sigmoid_integer_input(self):
        # regression: the result was cast back to the integer dtype (all 0 or 1)
        out = acts.sigmoid(np.array([0, 1, -2]))
        assert out.dtype == np.float64
        np.testing.assert_allclose(out, 1 / (1 + np.exp(-np.array([0.0, 1.0, -2.0]))), rtol=1e-15)

    def test_float32_stays_float32(self):
        x = np.linspace(-2, 2, 5, dtype=np.float32)
        for name in acts.ACTIVATIONS:
            act, dact = acts.activation(name)
            assert act(x).dtype == np.float32, name
            assert dact(act(x)).dtype == np.float32, name
        assert acts.softmax(x).dtype == np.float32

    @FAST
    @given(seed=seeds, shift=st.floats(-500, 500))
    def test_softmax(self, seed, shift):
        z = make_rng(seed).standard_normal((3, 4)) * 5
        s = acts.softmax(z)
        np.testing.assert_allclose(s.sum(axis=1), 1.0, rtol=1e-14)
        e = np.exp(z - z.max(axis=1, keepdims=True))
        np.testing.assert_allclose(s, e / e.sum(axis=1, keepdims=True), rtol=1e-14)
        np.testing.assert_allclose(acts.softmax(z + shift), s, rtol=1e-9, atol=1e-15)
        np.testing.assert_allclose(acts.softmax(z.T, axis=0), s.T, rtol=1e-14)

    def test_dsoftmax_is_jacobian_diagonal(self):
        z = np.array([0.3, -1.2, 2.0])
        s = acts.softmax(z)
        eps = 1e-6
        jac = np.stack([(acts.softmax(z + eps * e) - acts.softmax(z - eps * e)) / (2 * eps)
                        for e in np.eye(3)], axis=1)
        np.testing.assert_allclose(acts.dsoftmax(s), np.diag(jac), rtol=1e-7)
        # the seed's s - s^2 misses the off-diagonal terms -s_i s_j
        np.testing.assert_allclose(jac, np.diag(s) - np.outer(s, s), rtol=1e-7, atol=1e-10)

    @pytest.mark.parametrize("name", ["softmax", "gelu", "ReLU", ""])
    def test_unknown_activation(self, name):
        with pytest.raises(InputError, match=f"activation: expected one of .*got {name!r}"):
            acts.activation(name)
