"""The seed's first part, checked: MLP and CNN back-propagation, convolution and pooling.

Each check computes the seed's formula literally and compares it with finite differences
(or the definition) to reach its verdict.
"""

from __future__ import annotations

import numpy as np

from graphnet.audit.report import Finding, _verdict
from graphnet.core import activations as acts
from graphnet.core import functional as F
from graphnet.core.gradcheck import numerical_gradient, relative_error
from graphnet.core.layers import Conv2D, Dense, Flatten, Pool2D
from graphnet.core.losses import CrossEntropy

__all__ = ["claims"]

_TOL = 1e-6  # relative error below which a gradient formula counts as exact


def _fmt(x) -> str:
    """A relative error as printed in the evidence."""
    return f"{x:.2e}"


def _check_activation_derivatives(rng):
    x = rng.standard_normal(7)
    rows, flags = [], []
    for name, act, dact in (("sigmoid", acts.sigmoid, acts.dsigmoid),
                            ("tanh", acts.tanh, acts.dtanh)):
        xs = x.copy()
        fd = np.array([numerical_gradient(lambda: float(act(xs[i])), xs[i:i + 1])[0]
                       for i in range(len(xs))])
        err = relative_error(dact(act(x)), fd)
        flags.append(err < _TOL)
        rows.append(f"{name}: rel. error vs finite differences {_fmt(err)}")
    return Finding("dact", "MLP: activations",
                   "sigmoid' = o(1 - o) and tanh' = 1 - o^2, written in terms of the output o",
                   _verdict(flags), "; ".join(rows))


def _check_softmax_derivative(rng):
    x = rng.standard_normal(5)
    s = acts.softmax(x)
    jac = np.zeros((5, 5))
    for i in range(5):
        xs = x.copy()
        jac[i] = numerical_gradient(lambda: float(acts.softmax(xs)[i]), xs)  # row i: ds_i/dx
    diag_err = relative_error(acts.dsoftmax(s), np.diag(jac))
    g = rng.standard_normal(5)                  # an upstream gradient dE/ds
    true_dx = jac.T @ g
    elementwise_err = relative_error(acts.dsoftmax(s) * g, true_dx)
    flags = [diag_err < _TOL, elementwise_err < _TOL]
    return Finding(
        "dsoftmax", "MLP: activations",
        "softmax' = s - s^2, used element-wise like the other activations' derivatives",
        _verdict(flags),
        f"as the diagonal ds_i/dx_i: rel. error {_fmt(diag_err)}; used element-wise in "
        f"backprop (delta = g * (s - s^2)) against the full Jacobian diag(s) - s s^T: rel. "
        f"error {_fmt(elementwise_err)} (the off-diagonal terms -s_i s_j are missing)")


def _seed_mlp_gradients(rng):
    """The seed's MLP formulas, written literally in its column-vector convention."""
    sizes = [3, 4, 2]
    thetas = [rng.standard_normal((sizes[k + 1], sizes[k])) for k in range(2)]  # (m x l)
    bs = [rng.standard_normal((sizes[k + 1], 1)) for k in range(2)]
    x = rng.standard_normal((3, 1))
    t = rng.random((2, 1))

    def forward():
        os_ = [x]
        for th, b in zip(thetas, bs):
            os_.append(acts.sigmoid(th @ os_[-1] + b))
        return os_

    def loss():
        return float(0.5 * np.sum((t - forward()[-1]) ** 2))   # E = 1/2 sum (t - o)^2

    os_ = forward()
    delta = (os_[-1] - t) * acts.dsigmoid(os_[-1])                # (o_Y - t) o phi'(n_Y)
    grads = [None, None]
    for k in (1, 0):
        grads[k] = (delta @ os_[k].T, delta.copy())           # dE/dTheta = delta o_P^T; dE/db = delta
        if k:
            delta = (thetas[k].T @ delta) * acts.dsigmoid(os_[k])  # (Theta_R^T delta_R) o phi'(n_Q)
    errs = []
    for k in range(2):
        errs.append(relative_error(grads[k][0], numerical_gradient(loss, thetas[k])))
        errs.append(relative_error(grads[k][1], numerical_gradient(loss, bs[k])))
    worst = max(errs)
    return Finding(
        "mlp-bp", "MLP: back propagation",
        "dE/dTheta_Q = delta_Q o_P^T, dE/db_Q = delta_Q, delta_Q = (Theta_R^T delta_R) o phi'(n_Q),"
        " delta_Y = (o_Y - t) o phi'(n_Y)",
        _verdict([worst < _TOL]),
        f"a 3-4-2 sigmoid MLP with E = 1/2 sum (t - o)^2, the formulas computed literally: "
        f"worst rel. error vs finite differences {_fmt(worst)} over both layers' Theta and b")


def _check_conv_sizes(rng):
    rows, flags = [], []
    for (m, n, p, q) in ((5, 5, 3, 3), (8, 6, 3, 2), (7, 4, 1, 4), (28, 28, 5, 5)):
        x, k = rng.standard_normal((m, n)), rng.standard_normal((p, q))
        v, f = F.conv2d(x, k, "valid").shape, F.conv2d(x, k, "full").shape
        ok = v == (m - p + 1, n - q + 1) and f == (m + p - 1, n + q - 1)
        flags.append(ok)
        rows.append(f"{m}x{n} * {p}x{q}: valid {v[0]}x{v[1]}, full {f[0]}x{f[1]}")
    return Finding("conv-size", "CNN: convolution",
                   "valid mode gives (m-p+1)x(n-q+1), full mode (m+p-1)x(n+q-1)",
                   _verdict(flags), "; ".join(rows))


def _check_true_convolution(rng):
    x, k = rng.standard_normal((5, 6)), rng.standard_normal((3, 2))
    m, n = x.shape
    p, q = k.shape
    # the definition (f * g)(m, n) = sum_u sum_v f(u, v) g(m - u, n - v), full support
    direct = np.zeros((m + p - 1, n + q - 1))
    for a in range(m + p - 1):
        for b in range(n + q - 1):
            direct[a, b] = sum(x[u, v] * k[a - u, b - v]
                               for u in range(m) for v in range(n)
                               if 0 <= a - u < p and 0 <= b - v < q)
    err_def = relative_error(F.conv2d(x, k, "full"), direct)
    # the neuron's sum_{i,j} theta_{(n-i)(n-j)} x_ij over the first window is the valid
    # output's first entry
    neuron = float(np.sum(k[::-1, ::-1] * x[:p, :q]))
    err_neuron = abs(F.conv2d(x, k, "valid")[0, 0] - neuron) / max(abs(neuron), 1e-300)
    corr = float(np.sum(k * x[:p, :q]))
    differs = abs(corr - neuron) > 1e-9
    return Finding(
        "conv-true", "CNN: convolution",
        "each neuron computes sum theta_(n-i)(n-j) x_ij: the forward pass is a true convolution "
        "(kernel flipped), not a cross-correlation",
        _verdict([err_def < 1e-12, err_neuron < 1e-12, differs]),
        f"conv2d(full) vs the definition sum f(u,v) g(m-u,n-v): rel. error {_fmt(err_def)}; "
        f"first valid output vs the neuron's flipped sum: {_fmt(err_neuron)}; "
        f"cross-correlation would give {corr:.4f} instead of {neuron:.4f}")


def _check_conv_gradients(rng):
    X = rng.standard_normal((6, 7))
    theta = rng.standard_normal((3, 3))
    b = np.array([0.1])
    R = rng.standard_normal((4, 5))

    def loss():
        return float(np.sum(R * acts.sigmoid(F.conv2d(X, theta, "valid") + b[0])))

    O = acts.sigmoid(F.conv2d(X, theta, "valid") + b[0])
    delta = R * acts.dsigmoid(O)                                       # Delta_p
    d_theta = F.rot180(F.conv2d(X, F.rot180(delta), "valid"))       # rot180(X *v rot180(Delta))
    d_b = delta.sum()                                               # sum_uv Delta
    d_x = F.conv2d(delta, F.rot180(theta), "full")                  # Delta *f rot180(Theta)
    errs = {"Theta": relative_error(d_theta, numerical_gradient(loss, theta)),
            "b": relative_error(np.array([d_b]), numerical_gradient(loss, b)),
            "delta below": relative_error(d_x, numerical_gradient(loss, X))}
    return Finding(
        "conv-bp", "CNN: convolution layer",
        "dE/dTheta = rot180(X *valid rot180(Delta)), dE/db = sum(Delta), and the delta passed "
        "down is Delta *full rot180(Theta)",
        _verdict([e < _TOL for e in errs.values()]),
        "a 6x7 map, 3x3 kernel, sigmoid; formulas computed literally with conv2d; rel. errors "
        "vs finite differences: " + ", ".join(f"{k} {_fmt(v)}" for k, v in errs.items()))


def _pool_fd(x, method):
    R = np.arange(1.0, 1.0 + (x.shape[0] // 2) * (x.shape[1] // 2)).reshape(x.shape[0] // 2, -1)

    def loss():
        return float(np.sum(R * F.downsample(x, 2, method, "ignore")))

    return R, numerical_gradient(loss, x)


def _check_max_pool_copy(rng):
    x = rng.standard_normal((6, 6))
    R, fd = _pool_fd(x, "max")
    copy = np.kron(R, np.ones((2, 2)))                      # the seed: copy to all four points
    _, idx = F.downsample(x, 2, "max", "ignore", return_indices=True)
    exact = F.upsample(R, x.shape, 2, "max", indices=idx)   # to the position of the maximum
    err_copy, err_exact = relative_error(copy, fd), relative_error(exact, fd)
    return Finding(
        "maxpool-copy", "CNN: pooling layer",
        "max pooling backward: copy the delta of one point to all four points",
        _verdict([err_copy < _TOL]),
        f"copy to all four: rel. error vs finite differences {_fmt(err_copy)} (three of four "
        f"points get a gradient they do not have); routing to the maximum only: "
        f"{_fmt(err_exact)}")


def _check_mean_pool(rng):
    x = rng.standard_normal((6, 6))
    R, fd = _pool_fd(x, "mean")
    spread = np.kron(R, np.ones((2, 2))) / 4.0
    err = relative_error(spread, fd)
    return Finding("meanpool", "CNN: pooling layer",
                   "mean pooling backward: average the delta of one point over the four points",
                   _verdict([err < _TOL]), f"delta/4 to each point: rel. error {_fmt(err)}")


def _check_softmax_compatible(rng):
    z = rng.standard_normal((1, 4))
    t = np.array([2])
    loss = CrossEntropy()

    def f():
        return loss(acts.softmax(z), t)

    err = relative_error(loss.softmax_delta(acts.softmax(z), t), numerical_gradient(f, z))
    return Finding("softmax-bp", "Softmax",
                   "the softmax gradient is compatible with the MLP's back propagation "
                   "(with cross-entropy the output delta is p - t)",
                   _verdict([err < _TOL]), f"p - t vs finite differences: rel. error {_fmt(err)}")


def _check_rasterize(rng):
    x = rng.standard_normal((1, 2, 3, 4))
    flat = Flatten().output(x)[0]
    order = [x[0, c, i, j] for c in range(2) for i in range(3) for j in range(4)]
    ok = bool(np.array_equal(flat, np.array(order)))
    return Finding("raster", "CNN: rasterizing",
                   "rasterizing lays out x_111, x_112, ..., x_1mn, ..., x_jmn: map by map, row by "
                   "row", _verdict([ok]),
                   f"Flatten of a 2x3x4 stack equals that order: {ok}")


def _check_parameter_arithmetic():
    rows, flags = [], []
    fc = 1000 * 1000 * 1000                 # 1000x1000 image fully connected to 1000 hidden nodes
    flags.append(fc == 10**9)
    rows.append(f"fully connected 1000x1000 -> 1000: {fc:.3g} weights + 1000 biases")
    conv = Conv2D(1, 1, 10, activation="identity", rng=0)
    out = conv.output_shape((1, 1000, 1000))
    flags.append(out[1:] == (991, 991))
    rows.append(f"10x10 receptive field on 1000x1000: {out[1]}x{out[2]} neurons")
    flags.append(conv.params["W"].size == 100 and conv.params["b"].size == 1)
    rows.append(f"shared kernel: {conv.params['W'].size} weights + {conv.params['b'].size} bias")
    pooled = Pool2D(2, "max", "pad").output_shape(out)
    ignored = Pool2D(2, "max", "ignore").output_shape(out)
    flags.append(pooled[1:] == (496, 496))
    rows.append(f"2x2 pooling of {out[1]}x{out[2]}: {pooled[1]}x{pooled[2]} with the pad rule "
                f"({ignored[1]}x{ignored[2]} if the edge were ignored)")
    return Finding("params", "From MLP to CNN",
                   "10^9 weights for a 1000-node layer on a 1000x1000 image; a 10x10 field needs "
                   "991x991 neurons; weight sharing leaves 100 weights; 2x2 pooling gives 496x496",
                   _verdict(flags), "; ".join(rows))


def _check_vanishing_gradient(rng):
    depth, width, n = 10, 32, 64
    layers = [Dense(width, width, activation="sigmoid", init="xavier", rng=rng)
              for _ in range(depth)]
    x = rng.standard_normal((n, width))
    for layer in layers:
        x = layer.output(x)
    delta = rng.standard_normal(x.shape) / n
    norms = []
    for layer in reversed(layers):
        delta = layer.backpropagate(delta)
        norms.append(float(np.linalg.norm(layer.grads["W"])))
    norms = norms[::-1]                                     # layer 1 (input side) first
    ratio = norms[0] / norms[-1]
    shrinking = sum(norms[k] < norms[k + 1] for k in range(depth - 1))
    return Finding(
        "vanishing", "MLP: problems",
        "in a deep sigmoid network the deltas shrink layer by layer on the way back, so the "
        "first layers barely learn",
        _verdict([ratio < 1e-2, shrinking >= depth - 2]),
        f"{depth} sigmoid layers of {width}, Xavier init: |dE/dW| from layer 1 to {depth}: "
        + ", ".join(f"{v:.1e}" for v in norms)
        + f"; layer 1 / layer {depth} = {ratio:.1e}; shrinking at {shrinking} of {depth - 1} steps")


def claims(rng) -> list:
    """Check the claims of the seed's MLP and CNN part, in the seed's order.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random data for the numerical checks, drawn in a fixed order.

    Returns
    -------
    list of Finding

    Examples
    --------
    >>> from graphnet.rng import make_rng
    >>> [f.key for f in claims(make_rng(0))][:4]
    ['dact', 'dsoftmax', 'mlp-bp', 'vanishing']
    """
    return [
        _check_activation_derivatives(rng),
        _check_softmax_derivative(rng),
        _seed_mlp_gradients(rng),
        _check_vanishing_gradient(rng),
        _check_parameter_arithmetic(),
        _check_conv_sizes(rng),
        _check_true_convolution(rng),
        _check_conv_gradients(rng),
        _check_max_pool_copy(rng),
        _check_mean_pool(rng),
        _check_rasterize(rng),
        _check_softmax_compatible(rng),
    ]
