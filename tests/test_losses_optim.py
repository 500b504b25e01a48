"""Tests of graphnet.core.losses, optim, model (Sequential) and gradcheck.

Forward tests check values against hand computation and torch; backward tests check deltas
and model gradients against central differences (float64) and torch's autograd.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphnet.core import activations as acts
from graphnet.core.gradcheck import check_layer, check_model, numerical_gradient, relative_error
from graphnet.core.layers import Conv2D, Dense, Flatten, Pool2D, Softmax
from graphnet.core.losses import CrossEntropy, SquaredError, as_targets, get_loss
from graphnet.core.model import Sequential
from graphnet.core.optim import SGD, Adam, Momentum, get_optimizer
from graphnet.errors import InputError, InputTypeError
from graphnet.rng import make_rng

FAST = settings(max_examples=30, deadline=None)
TOL = 1e-6


def _probs(n, k, seed):
    return acts.softmax(make_rng(seed).standard_normal((n, k)))


# ==================================================================================== losses

class TestLossForward:

    def test_squared_error_value(self):
        o = np.array([[1.0, 2.0], [3.0, 4.0]])
        t = np.array([[0.0, 2.0], [1.0, 1.0]])
        # 1/2 * (1 + 0 + 4 + 9) / batch 2
        assert SquaredError()(o, t) == pytest.approx(3.5, rel=1e-15)

    def test_cross_entropy_value(self):
        p = _probs(4, 3, 0)
        labels = np.array([0, 2, 1, 2])
        expected = -np.mean(np.log(p[np.arange(4), labels]))
        assert CrossEntropy()(p, labels) == pytest.approx(expected, rel=1e-14)

    def test_cross_entropy_clips_zero(self):
        p = np.array([[1.0, 0.0]])
        value = CrossEntropy()(p, np.array([1]))
        assert math.isfinite(value) and value == pytest.approx(-math.log(1e-12))

    @pytest.mark.parametrize("loss", [SquaredError(), CrossEntropy()], ids=repr)
    def test_labels_equal_one_hot(self, loss):
        p = _probs(3, 4, 1)
        labels = np.array([3, 0, 1])
        onehot = np.eye(4)[labels]
        assert loss(p, labels) == loss(p, onehot)
        np.testing.assert_array_equal(loss.delta(p, labels), loss.delta(p, onehot))
        np.testing.assert_array_equal(as_targets(labels, p), onehot)

    def test_get_loss(self):
        assert isinstance(get_loss("mse"), SquaredError)
        assert isinstance(get_loss("squared_error"), SquaredError)
        ce = CrossEntropy()
        assert get_loss(ce) is ce


class TestLossBackward:

    @pytest.mark.parametrize("loss", [SquaredError(), CrossEntropy()], ids=repr)
    @pytest.mark.parametrize("targets", ["labels", "soft"])
    def test_delta_matches_finite_differences(self, loss, targets):
        o = _probs(4, 3, 2)
        t = np.array([0, 2, 2, 1]) if targets == "labels" else _probs(4, 3, 3)
        fd = numerical_gradient(lambda: loss(o, t), o)
        assert relative_error(loss.delta(o, t), fd) < TOL

    @pytest.mark.parametrize("targets", ["labels", "soft"])
    def test_softmax_delta_matches_finite_differences(self, targets):
        # (p - t) / n is dE/dz for p = softmax(z)
        z = make_rng(4).standard_normal((3, 5))
        t = np.array([4, 0, 2]) if targets == "labels" else _probs(3, 5, 5)
        ce = CrossEntropy()
        fd = numerical_gradient(lambda: ce(acts.softmax(z), t), z)
        assert relative_error(ce.softmax_delta(acts.softmax(z), t), fd) < TOL

    def test_softmax_cross_entropy_against_torch(self):
        torch = pytest.importorskip("torch")
        z = make_rng(6).standard_normal((5, 4)) * 3
        labels = np.array([0, 3, 1, 1, 2])
        zt = torch.tensor(z, requires_grad=True)
        lt = torch.nn.functional.cross_entropy(zt, torch.from_numpy(labels))
        lt.backward()
        ce = CrossEntropy()
        p = acts.softmax(z)
        assert ce(p, labels) == pytest.approx(lt.item(), rel=1e-12)
        np.testing.assert_allclose(ce.softmax_delta(p, labels), zt.grad.numpy(), rtol=1e-12,
                                   atol=1e-15)

    def test_float32_delta(self):
        p = _probs(2, 3, 7).astype(np.float32)
        for loss in (SquaredError(), CrossEntropy()):
            assert loss.delta(p, np.array([0, 1])).dtype == np.float32
        assert CrossEntropy().softmax_delta(p, np.array([0, 1])).dtype == np.float32


class TestLossErrors:

    @pytest.mark.parametrize("label", [-1, 3, 10])
    def test_label_out_of_range(self, label):
        with pytest.raises(InputError, match=rf"label {label} out of range for 3 outputs "
                                             r"\(expected 0..2\)"):
            CrossEntropy()(_probs(2, 3, 0), np.array([0, label]))

    def test_label_count(self):
        with pytest.raises(InputError, match="targets: 3 labels for 2 outputs"):
            SquaredError().delta(_probs(2, 3, 0), np.array([0, 1, 2]))

    def test_shape_mismatch(self):
        with pytest.raises(InputError, match=r"shape \(2, 4\) does not match the outputs \(2, 3\)"):
            SquaredError()(_probs(2, 3, 0), np.zeros((2, 4)))
        with pytest.raises(InputError, match=r"shape \(2,\) does not match"):
            CrossEntropy()(_probs(2, 3, 0), np.array([0.0, 1.0]))    # float labels

    def test_non_numeric_targets(self):
        with pytest.raises(InputTypeError, match="targets: expected numeric targets, got dtype"):
            SquaredError()(_probs(2, 2, 0), np.array([["a", "b"], ["c", "d"]]))

    @pytest.mark.parametrize("loss", [SquaredError(), CrossEntropy()], ids=repr)
    def test_empty_batch(self, loss):
        # regression: 0/0 gave nan and a RuntimeWarning
        with pytest.raises(InputError, match="non-empty batch axis"):
            loss(np.zeros((0, 3)), np.zeros((0, 3)))
        with pytest.raises(InputError, match="non-empty batch axis"):
            loss.delta(np.zeros((0, 3)), np.zeros(0, dtype=int))

    def test_unknown_loss(self):
        with pytest.raises(InputError, match="loss: expected one of .*got 'hinge'"):
            get_loss("hinge")


# ================================================================================ optimizers

def _quadratic(seed):
    rng = make_rng(seed)
    M = rng.standard_normal((4, 4))
    A = M @ M.T + 0.5 * np.eye(4)
    A /= np.linalg.eigvalsh(A).max()   # largest curvature 1
    c = rng.standard_normal(4)
    return A, c


class TestOptimizers:

    @pytest.mark.parametrize("make", [lambda: SGD(0.5), lambda: Momentum(0.1, 0.9),
                                      lambda: Momentum(0.1, 0.9, nesterov=True),
                                      lambda: Adam(0.05)],
                             ids=["sgd", "momentum", "nesterov", "adam"])
    def test_quadratic_converges(self, make):
        A, c = _quadratic(0)
        p = np.zeros(4)
        opt = make()
        for _ in range(2000):
            opt.step([(p, A @ (p - c))])
        np.testing.assert_allclose(p, c, atol=1e-4)

    def test_sgd_step_by_hand(self):
        p = np.array([1.0, -2.0])
        SGD(0.1).step([(p, np.array([10.0, -5.0]))])
        np.testing.assert_allclose(p, [0.0, -1.5], rtol=1e-15)

    def test_adam_first_step_is_lr(self):
        # the bias-corrected first step has magnitude lr whatever the gradient's scale
        p = np.array([1.0, 1.0, 1.0])
        Adam(0.01).step([(p, np.array([1e-3, -7.0, 1e4]))])
        np.testing.assert_allclose(p, [0.99, 1.01, 0.99], rtol=1e-6)

    def test_weight_decay(self):
        p = np.array([2.0])
        SGD(0.1, weight_decay=0.5).step([(p, np.array([0.0]))])
        assert p[0] == pytest.approx(2.0 - 0.1 * 0.5 * 2.0)

    @pytest.mark.parametrize("cls", [SGD, Momentum, Adam])
    def test_float32_params_stay_float32(self, cls):
        p = np.ones(3, dtype=np.float32)
        opt = cls(0.1)
        for _ in range(3):
            opt.step([(p, np.ones(3))])             # float64 gradient
        assert p.dtype == np.float32
        state = opt.state[0]
        arrays = [] if state is None else [state] if isinstance(state, np.ndarray) else state
        assert all(a.dtype == np.float32 for a in arrays)

    @pytest.mark.parametrize("cls", [SGD, Momentum, Adam])
    @pytest.mark.parametrize("lr", [0, 0.0, -0.1, math.nan, math.inf, -math.inf, None, "0.1"])
    def test_bad_lr(self, cls, lr):
        with pytest.raises(InputError, match=rf"{cls.__name__}: lr must be a finite number in "
                                             r"\(0.0, inf\), got"):
            cls(lr)

    @pytest.mark.parametrize("make, match", [
        (lambda: Momentum(0.1, momentum=1.0), "momentum must be a finite number in"),
        (lambda: Momentum(0.1, momentum=-0.1), "momentum must be"),
        (lambda: Momentum(0.1, momentum=math.nan), "momentum must be"),
        (lambda: Adam(0.1, beta1=1.0), "beta1 must be"),
        (lambda: Adam(0.1, beta2=1.5), "beta2 must be"),
        (lambda: Adam(0.1, eps=0.0), "eps must be"),
        (lambda: SGD(0.1, weight_decay=-1.0), "weight_decay must be"),
        (lambda: get_optimizer("rmsprop", 0.1), "optimizer: expected one of .*got 'rmsprop'"),
    ])
    def test_bad_hyperparameters(self, make, match):
        with pytest.raises(InputError, match=match):
            make()

    @pytest.mark.parametrize("cls", [SGD, Momentum, Adam])
    def test_parameter_count_mismatch(self, cls):
        a, b = np.zeros(2), np.zeros(3)
        opt = cls(0.1)
        opt.step([(a, np.ones(2)), (b, np.ones(3))])
        before = a.copy()
        with pytest.raises(InputError, match=rf"{cls.__name__}.step: got 1 parameters, the "
                                             "optimizer was started with 2"):
            opt.step([(a, np.ones(2))])
        np.testing.assert_array_equal(a, before)

    @pytest.mark.parametrize("cls", [SGD, Momentum, Adam])
    def test_gradient_shape_mismatch_changes_nothing(self, cls):
        # regression: the first parameter used to be updated before the second one failed
        a, b = np.zeros(2), np.zeros(3)
        opt = cls(0.1)
        with pytest.raises(InputError, match=r"gradient 1 has shape \(2,\), its parameter \(3,\)"):
            opt.step([(a, np.ones(2)), (b, np.ones(2))])
        np.testing.assert_array_equal(a, 0.0)
        assert opt.t == 0 and opt.state == []

    @pytest.mark.parametrize("cls", [Momentum, Adam])
    def test_parameter_shape_changed_needs_reset(self, cls):
        opt = cls(0.1)
        opt.step([(np.zeros(2), np.ones(2))])
        p = np.zeros(3)
        with pytest.raises(InputError, match=r"parameter 0 has shape \(3,\), the optimizer was "
                                             r"started with \(2,\) \(call reset\(\)\)"):
            opt.step([(p, np.ones(3))])
        opt.reset()
        opt.step([(p, np.ones(3))])
        assert opt.t == 1 and np.all(p < 0)

    def test_get_optimizer(self):
        assert isinstance(get_optimizer("momentum", 0.1, momentum=0.5), Momentum)
        opt = Adam(0.1)
        assert get_optimizer(opt, 1.0) is opt


class TestOptimizersAgainstTorch:
    """Parameter trajectories over several steps equal torch.optim's, in float64."""

    def _run(self, torch, ours, make_theirs, n_steps=6, seed=0):
        rng = make_rng(seed)
        p0 = [rng.standard_normal((3, 2)), rng.standard_normal(4)]
        mine = [p.copy() for p in p0]
        theirs = [torch.tensor(p, requires_grad=True) for p in p0]
        topt = make_theirs(theirs)
        for _ in range(n_steps):
            grads = [rng.standard_normal(p.shape) for p in p0]
            ours.step(list(zip(mine, grads)))
            for tp, g in zip(theirs, grads):
                tp.grad = torch.from_numpy(g.copy())
            topt.step()
            for a, b in zip(mine, theirs):
                np.testing.assert_allclose(a, b.detach().numpy(), rtol=1e-12, atol=1e-14)

    @pytest.mark.parametrize("wd", [0.0, 0.01])
    def test_adam(self, wd):
        torch = pytest.importorskip("torch")
        self._run(torch, Adam(0.05, 0.8, 0.95, 1e-6, weight_decay=wd),
                  lambda ps: torch.optim.Adam(ps, lr=0.05, betas=(0.8, 0.95), eps=1e-6,
                                              weight_decay=wd))

    def test_sgd(self):
        torch = pytest.importorskip("torch")
        self._run(torch, SGD(0.1), lambda ps: torch.optim.SGD(ps, lr=0.1))

    @pytest.mark.parametrize("nesterov", [False, True])
    @pytest.mark.parametrize("wd", [0.0, 0.1])
    def test_momentum(self, nesterov, wd):
        # torch: v = mu v + g; p -= lr v.  graphnet: v = mu v - lr g; p += v.
        # The same trajectory while lr is constant (graphnet's v is -lr times torch's).
        torch = pytest.importorskip("torch")
        self._run(torch, Momentum(0.1, 0.9, nesterov=nesterov, weight_decay=wd),
                  lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=nesterov,
                                             weight_decay=wd))


# ================================================================================ Sequential

def _mlp(seed=0):
    return Sequential([Dense(3, 5, activation="tanh", rng=seed), Dense(5, 4, rng=seed + 1),
                       Softmax()])


def _cnn(seed=0):
    return Sequential([Conv2D(1, 2, 3, activation="tanh", rng=seed), Pool2D(2, "max", "pad"),
                       Flatten(), Dense(2 * 3 * 2, 3, activation="identity", rng=seed + 1),
                       Softmax()])


class TestSequential:

    def test_forward_is_composition(self):
        m = _mlp()
        x = make_rng(0).standard_normal((4, 3))
        y = x
        for layer in m.layers:
            y = layer.output(y)
        np.testing.assert_array_equal(m.forward(x), y)
        np.testing.assert_array_equal(m(x), y)

    def test_loss_and_backward_value(self):
        m = _mlp()
        x, t = make_rng(1).standard_normal((4, 3)), np.array([0, 1, 2, 3])
        value = m.loss_and_backward(x, t, "cross_entropy")
        assert value == pytest.approx(CrossEntropy()(m.forward(x), t), rel=1e-15)
        assert [p.shape for p, _ in m.params_and_grads()] == [(3, 5), (5,), (5, 4), (4,)]
        for p, g in m.params_and_grads():
            assert g.shape == p.shape

    def test_fused_softmax_cross_entropy_equals_unfused(self):
        m = _mlp(2)
        x, t = make_rng(2).standard_normal((5, 3)), np.array([0, 3, 1, 1, 2])
        m.loss_and_backward(x, t, "cross_entropy")
        fused = [g.copy() for _, g in m.params_and_grads()]
        ce = CrossEntropy()
        m.backward(ce.delta(m.forward(x), t))       # through Softmax.backpropagate
        for a, (_, b) in zip(fused, m.params_and_grads()):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-14)

    def test_model_against_torch(self):
        torch = pytest.importorskip("torch")
        m = _mlp(3)
        m.layers[0].params["b"][...] = make_rng(9).standard_normal(5)
        x, t = make_rng(3).standard_normal((5, 3)), np.array([0, 3, 1, 1, 2])
        value = m.loss_and_backward(x, t, "cross_entropy")
        W1, b1, W2, b2 = [torch.tensor(p, requires_grad=True) for p, _ in m.params_and_grads()]
        z = torch.tanh(torch.from_numpy(x) @ W1 + b1) @ W2 + b2
        lt = torch.nn.functional.cross_entropy(z, torch.from_numpy(t))
        lt.backward()
        assert value == pytest.approx(lt.item(), rel=1e-12)
        for (_, g), tp in zip(m.params_and_grads(), (W1, b1, W2, b2)):
            np.testing.assert_allclose(g, tp.grad.numpy(), rtol=1e-10, atol=1e-14)

    @pytest.mark.parametrize("loss", ["cross_entropy", "squared_error"])
    def test_check_model_cnn(self, loss):
        m = _cnn(4)
        rng = make_rng(4)
        x = rng.standard_normal((2, 1, 7, 6))
        t = np.array([2, 0]) if loss == "cross_entropy" else rng.random((2, 3))
        errs = check_model(m, x, t, loss)
        assert set(errs) == {"x", "0.W", "0.b", "3.W", "3.b"}
        assert max(errs.values()) < TOL, errs

    def test_check_model_mlp_squared_error_no_softmax(self):
        m = Sequential([Dense(3, 4, activation="sigmoid", rng=5), Dense(4, 2, activation="tanh",
                                                                         rng=6)])
        errs = check_model(m, make_rng(5).standard_normal((3, 3)), make_rng(6).random((3, 2)))
        assert max(errs.values()) < TOL, errs

    def test_state_dict_round_trip(self):
        m = _cnn(0)
        state = m.state_dict()
        assert set(state) == {"0.W", "0.b", "3.W", "3.b"}
        refs = [p for layer in m.layers for p in layer.params.values()]
        x = make_rng(0).standard_normal((2, 1, 7, 6))
        before = m.forward(x).copy()
        scratch = m.state_dict()
        scratch["0.W"] += 1.0                  # a copy: the model is untouched
        np.testing.assert_array_equal(m.forward(x), before)
        for layer in m.layers:
            for p in layer.params.values():
                p += 0.5
        assert not np.allclose(m.forward(x), before)
        m.load_state_dict(state)
        np.testing.assert_array_equal(m.forward(x), before)
        # written in place: arrays an optimizer holds stay the model's parameters
        assert all(a is b for a, b in zip(refs, [p for layer in m.layers
                                                 for p in layer.params.values()]))
        other = _cnn(7)
        other.load_state_dict(m.state_dict())
        np.testing.assert_array_equal(other.forward(x), before)

    def test_load_state_dict_errors_change_nothing(self):
        m = _mlp(0)
        good = m.state_dict()
        bad = {k: v + 1 for k, v in good.items()}
        del bad["1.b"]
        with pytest.raises(InputError, match=r"keys differ: missing \['1.b'\], unexpected \[\]"):
            m.load_state_dict(bad)
        bad = {k: v + 1 for k, v in good.items()}
        bad["7.W"] = np.zeros(1)
        with pytest.raises(InputError, match=r"missing \[\], unexpected \['7.W'\]"):
            m.load_state_dict(bad)
        bad = {k: v + 1 for k, v in good.items()}
        bad["1.W"] = np.zeros((4, 5))
        with pytest.raises(InputError, match=r"1.W has shape \(4, 5\), expected \(5, 4\)"):
            m.load_state_dict(bad)
        # regression: the keys before a non-numeric one used to be written already
        bad = {k: v + 1 for k, v in good.items()}
        bad["1.b"] = np.array(["a"] * 4)
        with pytest.raises(InputTypeError, match="1.b must be a real numeric array"):
            m.load_state_dict(bad)
        for k, v in m.state_dict().items():
            np.testing.assert_array_equal(v, good[k])

    @FAST
    @given(batch_size=st.integers(1, 12), n=st.integers(1, 11))
    def test_predict_in_batches_equals_forward(self, batch_size, n):
        m = _cnn(1)
        x = make_rng(n).standard_normal((n, 1, 7, 6))
        np.testing.assert_allclose(m.predict(x, batch_size=batch_size), m.forward(x),
                                   rtol=1e-13, atol=1e-15)

    @pytest.mark.parametrize("batch_size", [0, -1, 2.0, True])
    def test_predict_bad_batch_size(self, batch_size):
        with pytest.raises(InputError, match="predict: batch_size must be a positive int"):
            _mlp().predict(np.zeros((3, 3)), batch_size=batch_size)

    def test_predict_empty(self):
        with pytest.raises(InputError, match="predict: x is an empty batch"):
            _mlp().predict(np.zeros((0, 3)))
        with pytest.raises(InputError, match="empty batch"):
            _mlp().forward(np.zeros((0, 3)))

    def test_construction_errors(self):
        with pytest.raises(InputError, match="Sequential: needs at least one layer"):
            Sequential([])
        with pytest.raises(InputTypeError, match=r"layer 1 \(object\) lacks the layer contract"):
            Sequential([Dense(2, 2), object()])

    def test_params_and_grads_before_backward(self):
        with pytest.raises(InputError, match="layer 0 has no gradient for 'W'; run "
                                             "loss_and_backward first"):
            _mlp().params_and_grads()

    def test_training_reduces_loss(self):
        m = _mlp(8)
        rng = make_rng(8)
        x = rng.standard_normal((20, 3))
        t = (x[:, 0] > 0).astype(int) + 2 * (x[:, 1] > 0).astype(int)
        opt = Adam(0.05)
        first = m.loss_and_backward(x, t, "cross_entropy")
        for _ in range(100):
            opt.step(m.params_and_grads())
            last = m.loss_and_backward(x, t, "cross_entropy")
        assert last < 0.5 * first

    def test_summary_and_n_params(self):
        m = _cnn(0)
        assert m.n_params == (2 * 9 + 2) + (12 * 3 + 3)
        text = m.summary((1, 7, 6))
        assert "(2, 5, 4)" in text and "(2, 3, 2)" in text and "(12,)" in text
        assert text.splitlines()[-1].split()[-2] == str(m.n_params)


# ================================================================================= gradcheck

class _BrokenDense(Dense):
    """Dense whose input delta is off by a factor 2: the checker must notice."""

    def backpropagate(self, delta):
        return 2.0 * super().backpropagate(delta)


class TestGradcheck:

    def test_numerical_gradient(self):
        x = np.array([[0.3, -1.2], [2.0, 0.0]])
        g = numerical_gradient(lambda: float(np.sum(np.sin(x))), x)
        np.testing.assert_allclose(g, np.cos(x), rtol=1e-9)
        np.testing.assert_array_equal(x, [[0.3, -1.2], [2.0, 0.0]])   # restored

    def test_relative_error(self):
        a = np.array([1.0, -2.0, 3.0])
        assert relative_error(a, a) == 0.0
        assert relative_error(a, -a) == pytest.approx(1.0)
        assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
        assert relative_error(a, a * (1 + 1e-9)) < 1e-9

    def test_check_layer_catches_wrong_gradient(self):
        errs = check_layer(_BrokenDense(3, 2, activation="tanh", rng=0),
                           make_rng(0).standard_normal((2, 3)))
        assert errs["x"] > 0.1
        assert errs["W"] < TOL and errs["b"] < TOL

    def test_check_model_catches_wrong_gradient(self):
        m = Sequential([Dense(2, 3, activation="tanh", rng=0), _BrokenDense(3, 2, rng=1)])
        errs = check_model(m, make_rng(1).standard_normal((2, 2)), make_rng(2).random((2, 2)))
        assert errs["0.W"] > 0.1 and errs["x"] > 0.1
        assert errs["1.W"] < TOL
