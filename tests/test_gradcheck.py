"""Oracle: gradients against central finite differences (float64).

Two implementations that agree bit for bit can still both be wrong; this
checks the calculus itself (Network.gradients, both backends), for every
activation and loss, with and without L1/L2 penalties.
"""
import zlib

import numpy as np
import pytest

import cyneuron as cn

ACTS = ["sigmoid", "tanh", "relu", ("leaky_relu", 0.2), "identity", "softplus", "silu",
        ("elu", 0.5), "gelu"]


def numeric_gradients(net, X, Y, h=1e-6):
    weights = net.get_weights()
    out = []
    for W, b in weights:
        grads = []
        for arr in (W, b):
            g = np.zeros_like(arr)
            for idx in np.ndindex(arr.shape):
                old = arr[idx]
                arr[idx] = old + h
                net.set_weights(weights)
                up = net.evaluate(X, Y)["loss"]
                arr[idx] = old - h
                net.set_weights(weights)
                down = net.evaluate(X, Y)["loss"]
                arr[idx] = old
                g[idx] = (up - down) / (2 * h)
            grads.append(g)
        out.append(tuple(grads))
    net.set_weights(weights)
    return out


def assert_close(analytic, numeric, tol=1e-6):
    for (dW, db), (nW, nb) in zip(analytic, numeric):
        for a, n in ((dW, nW), (db, nb)):
            scale = max(1.0, np.max(np.abs(n)))
            err = np.max(np.abs(a - n)) / scale
            assert err < tol, f"max relative error {err:.2e}\nanalytic={a}\nnumeric={n}"


@pytest.mark.parametrize("backend", ["cython", "numpy"])
@pytest.mark.parametrize("loss", ["mse", "sse"])
@pytest.mark.parametrize("hidden", ACTS)
@pytest.mark.parametrize("output", ACTS + ["softmax"])
def test_gradients_match_finite_differences(hidden, output, loss, backend):
    rng = np.random.default_rng(zlib.crc32(repr((hidden, output, loss)).encode()))
    net = cn.Network([3, 5, 4, 3], activation=hidden, output_activation=output, loss=loss,
                     seed=4, backend=backend, init="xavier")
    # nonzero biases: with zero biases a row whose ReLUs are all off lands exactly
    # on the next layer's kink (z == 0), where no finite difference applies
    net.set_weights([(W, rng.uniform(0.1, 0.5, b.shape)) for W, b in net.get_weights()])
    X = rng.standard_normal((6, 3))
    Y = rng.random((6, 3))
    assert_close(net.gradients(X, Y), numeric_gradients(net, X, Y))


def test_gradcheck_detects_a_wrong_gradient():
    """The checker itself can fail: a deliberately wrong gradient is caught."""
    rng = np.random.default_rng(0)
    net = cn.Network([2, 3, 1], seed=0)
    X, Y = rng.standard_normal((4, 2)), rng.random((4, 1))
    good = net.gradients(X, Y)
    bad = [(dW * 1.01, db) for dW, db in good]
    with pytest.raises(AssertionError):
        assert_close(bad, numeric_gradients(net, X, Y))


@pytest.mark.parametrize("backend", ["cython", "numpy"])
@pytest.mark.parametrize("loss,out,n_out", [("binary_crossentropy", "sigmoid", 1),
                                            ("binary_crossentropy", "sigmoid", 3),
                                            ("categorical_crossentropy", "softmax", 4),
                                            ("mse", "tanh", 2), ("sse", "softmax", 3)])
@pytest.mark.parametrize("l1,l2", [(0.0, 0.0), (0.01, 0.0), (0.0, 0.05), (0.02, 0.03)])
def test_gradients_with_penalties(backend, loss, out, n_out, l1, l2):
    rng = np.random.default_rng(n_out)
    net = cn.Network([3, 5, n_out], activation="tanh", output_activation=out, loss=loss,
                     l1=l1, l2=l2, seed=1, backend=backend, init="xavier")
    X = rng.standard_normal((7, 3))
    if loss == "categorical_crossentropy":
        Y = np.eye(n_out)[rng.integers(0, n_out, 7)]
    else:
        Y = rng.integers(0, 2, (7, n_out)).astype(float)
    assert_close(net.gradients(X, Y), numeric_gradients(net, X, Y))
