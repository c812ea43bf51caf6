"""The loss's divisor: reduction="weighted_mean", per-row counts, the CCE gradient.

``weighted_mean`` divides each batch's loss and penalty by the sum of its
sample weights (scikit-learn's objective: an integer weight is the same as
repeating the sample); the default divides by the row count. Both backends
must agree bit for bit, and the calculus is checked by finite differences.
"""
import numpy as np
import pytest
from helpers import bits

import cyneuron as cn

CASES = [  # (hidden, output, loss, output width)
    ("relu", "softmax", "categorical_crossentropy", 3),
    ("tanh", "sigmoid", "binary_crossentropy", 1),
    ("tanh", "sigmoid", "binary_log_loss", 3),
    ("relu", "identity", "squared_error", 2),
    ("sigmoid", "identity", "mse", 2),
]


def problem(seed, out, loss, m, dtype, n=17):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 4)).astype(dtype)
    if out == "softmax":
        y = rng.integers(0, m, n)
    elif out == "sigmoid":
        y = rng.integers(0, 2, (n, m)).astype(dtype)
    else:
        y = rng.standard_normal((n, m)).astype(dtype)
    w = rng.integers(0, 4, n).astype(dtype)
    return X, y, w


def pair(hidden, out, loss, m, dtype, **kw):
    args = dict(activation=hidden, output_activation=out, loss=loss, dtype=dtype, seed=4,
                init="xavier", reduction="weighted_mean", **kw)
    return (cn.Network([4, 5, m], backend="cython", **args),
            cn.Network([4, 5, m], backend="numpy", **args))


@pytest.mark.bitwise
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("hidden,out,loss,m", CASES)
@pytest.mark.parametrize("fit_kw", [
    dict(batch_size=None, optimizer="sgd", learning_rate=0.1),
    dict(batch_size=1, optimizer="sgd", learning_rate=0.05, shuffle=False),
    dict(batch_size=4, optimizer="adam", learning_rate=0.01),
    dict(batch_size=5, optimizer="momentum", learning_rate=0.05),
])
def test_weighted_mean_fits_agree(dtype, hidden, out, loss, m, fit_kw):
    X, y, w = problem(1, out, loss, m, dtype)
    fast, slow = pair(hidden, out, loss, m, dtype, l2=0.01, l1=0.001)
    hf = fast.fit(X, y, epochs=7, sample_weight=w, **fit_kw)
    hs = slow.fit(X, y, epochs=7, sample_weight=w, **fit_kw)
    assert bits(np.asarray(hf["loss"])) == bits(np.asarray(hs["loss"]))
    assert bits(fast.get_weights()) == bits(slow.get_weights())
    assert fast.state.opt_state.tobytes() == slow.state.opt_state.tobytes()
    lf, gf = fast.loss_and_gradients(X, y)
    ls, gs = slow.loss_and_gradients(X, y)
    assert np.float64(lf).tobytes() == np.float64(ls).tobytes() and bits(gf) == bits(gs)


@pytest.mark.bitwise
@pytest.mark.parametrize("backend", ["cython", "numpy"])
@pytest.mark.parametrize("hidden,out,loss,m", CASES)
def test_weights_of_one_and_zero(backend, hidden, out, loss, m):
    """Weights of 1 give the unweighted bits; a weight of 0 removes the sample."""
    X, y, w = problem(2, out, loss, m, "float64")
    kw = dict(activation=hidden, output_activation=out, loss=loss, seed=3, init="xavier",
              reduction="weighted_mean", l2=0.01, backend=backend)
    fit = dict(epochs=5, learning_rate=0.05, optimizer="adam")
    a, b = cn.Network([4, 5, m], **kw), cn.Network([4, 5, m], **kw)
    a.fit(X, y, **fit)
    b.fit(X, y, sample_weight=np.ones(len(X)), **fit)
    assert bits(a.get_weights()) == bits(b.get_weights())
    keep = w > 0
    c, d = cn.Network([4, 5, m], **kw), cn.Network([4, 5, m], **kw)
    c.fit(X[keep], y[keep], **fit)
    d.fit(X, y, sample_weight=keep.astype(float), **fit)
    assert bits(c.get_weights()) == bits(d.get_weights())


@pytest.mark.parametrize("hidden,out,loss,m", CASES)
def test_integer_weight_is_a_repeated_sample(hidden, out, loss, m):
    X, y, w = problem(3, out, loss, m, "float64")
    kw = dict(activation=hidden, output_activation=out, loss=loss, seed=3, init="xavier",
              reduction="weighted_mean", l2=0.01)
    fit = dict(epochs=20, learning_rate=0.01, optimizer="adam")
    a, b = cn.Network([4, 5, m], **kw), cn.Network([4, 5, m], **kw)
    reps = w.astype(int)
    a.fit(np.repeat(X, reps, axis=0), np.repeat(y, reps, axis=0), **fit)
    b.fit(X, y, sample_weight=w, **fit)
    for (Wa, ba), (Wb, bb) in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(Wa, Wb, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(ba, bb, rtol=1e-10, atol=1e-12)
    # the default reduction divides by the row count instead: not the same model
    c = cn.Network([4, 5, m], **{**kw, "reduction": "sum_over_batch_size"})
    c.fit(X, y, sample_weight=w, **fit)
    assert not np.allclose(c.get_weights()[0][0], b.get_weights()[0][0], rtol=1e-6)


def test_weighted_mean_objective_by_hand():
    """loss = (sum_i w_i l_i + l2 * sum W**2) / sum_i w_i, and its gradient."""
    X, y, w = problem(4, "identity", "squared_error", 2, "float64", n=6)
    w[0] = 0.5
    net = cn.Network([4, 3, 2], activation="tanh", output_activation="identity",
                     loss="squared_error", seed=1, init="xavier", l2=0.3,
                     reduction="weighted_mean")
    a = net.feedforward(X)
    per_row = 0.5 * np.sum((a - y) ** 2, axis=1)
    sq = sum(np.sum(W ** 2) for W, _ in net.get_weights())
    expected = (np.sum(w * per_row) + 0.3 * sq) / np.sum(w)
    value, grads = net.batch_gradient(*net._check_xy(X, y), w)
    assert abs(float(value) - expected) < 1e-13
    # central differences of the same objective
    flat = net._params.copy()
    h = 1e-6
    for i in range(0, flat.size, 3):
        vals = []
        for step in (h, -h):
            net._params[...] = flat
            net._params[i] += step
            vals.append(float(net.batch_gradient(*net._check_xy(X, y), w)[0]))
        net._params[...] = flat
        assert abs((vals[0] - vals[1]) / (2 * h) - grads[i]) < 1e-7


@pytest.mark.parametrize("backend", ["cython", "numpy"])
def test_sklearn_spellings_of_the_losses(backend):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((9, 3)), rng.standard_normal((9, 2))
    kw = dict(activation="tanh", output_activation="identity", seed=2, backend=backend)
    # squared_error: half the squared error summed over the outputs, mean over rows
    half = cn.Network([3, 4, 2], loss="squared_error", **kw)
    full = cn.Network([3, 4, 2], loss="mse", **kw)
    assert half.evaluate(X, y)["loss"] == pytest.approx(full.evaluate(X, y)["loss"],
                                                        rel=1e-15)
    for (dh, bh), (df, bf) in zip(half.gradients(X, y), full.gradients(X, y)):
        np.testing.assert_allclose(dh, df, rtol=1e-14, atol=1e-16)
        np.testing.assert_allclose(bh, bf, rtol=1e-14, atol=1e-16)
    one = cn.Network([3, 4, 1], loss="squared_error", **kw)
    a1 = one.feedforward(X)
    assert one.evaluate(X, y[:, :1])["loss"] == pytest.approx(
        0.5 * np.mean((a1 - y[:, :1]) ** 2), rel=1e-14)
    yb = rng.integers(0, 2, (9, 3)).astype(float)
    kw["output_activation"] = "sigmoid"
    summed = cn.Network([3, 4, 3], loss="binary_log_loss", **kw)
    mean = cn.Network([3, 4, 3], loss="binary_crossentropy", **kw)
    assert summed.evaluate(X, yb)["loss"] == pytest.approx(mean.evaluate(X, yb)["loss"] * 3,
                                                           rel=1e-14)


def test_sse_has_no_weighted_mean():
    with pytest.raises(ValueError, match="weighted_mean.*'sse' is a sum"):
        cn.Network([2, 1], loss="sse", reduction="weighted_mean")
    with pytest.raises(ValueError, match="reduction must be one of"):
        cn.Network([2, 1], reduction="mean")


@pytest.mark.parametrize("backend", ["cython", "numpy"])
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "weighted_mean"])
def test_categorical_crossentropy_gradient_of_multi_hot_rows(backend, reduction):
    """d/dz of -sum_j y_j log softmax(z)_j is p * sum(y) - y (PyTorch's numbers)."""
    net = cn.Network([1, 3], activation="softmax", loss="categorical_crossentropy",
                     backend=backend, reduction=reduction)
    z = np.array([0.3, -0.2, 0.1])
    net.set_weights([(np.zeros((1, 3)), z)])
    X, y = np.zeros((1, 1)), np.array([[1.0, 1.0, 0.0]])
    db = net.gradients(X, y)[0][1]
    # torch.nn.functional.cross_entropy(z, y, reduction="sum") backward, 3 decimals
    np.testing.assert_allclose(db, [-0.175, -0.500, 0.675], atol=6e-4)
    h = 1e-6
    for j in range(3):
        up, down = z.copy(), z.copy()
        up[j] += h
        down[j] -= h
        net.set_weights([(np.zeros((1, 3)), up)])
        lu = net.evaluate(X, y)["loss"]
        net.set_weights([(np.zeros((1, 3)), down)])
        ld = net.evaluate(X, y)["loss"]
        assert abs((lu - ld) / (2 * h) - db[j]) < 1e-8


@pytest.mark.bitwise
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_multi_hot_rows_agree_across_backends(dtype):
    rng = np.random.default_rng(5)
    X = rng.standard_normal((11, 4)).astype(dtype)
    y = (rng.random((11, 3)) < 0.5).astype(dtype)
    kw = dict(activation="relu", output_activation="softmax",
              loss="categorical_crossentropy", seed=1, dtype=dtype)
    fast, slow = cn.Network([4, 6, 3], **kw), cn.Network([4, 6, 3], backend="numpy", **kw)
    fast.fit(X, y, epochs=5, batch_size=4, optimizer="adam", learning_rate=0.01)
    slow.fit(X, y, epochs=5, batch_size=4, optimizer="adam", learning_rate=0.01)
    assert bits(fast.get_weights()) == bits(slow.get_weights())
