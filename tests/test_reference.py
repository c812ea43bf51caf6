"""The seed tutorials' printed numbers as oracles."""
import numpy as np
import pytest

import cyneuron as cn
from cyneuron import reference as ref


@pytest.mark.parametrize("backend", ["cython", "numpy"])
def test_neuron_seed000(backend):
    n = cn.Neuron(weights=[0, 1], bias=4, backend=backend)
    out = n.feedforward([2, 3])
    assert isinstance(out, float)
    assert out == 0.9990889488055994


@pytest.mark.parametrize("backend", ["cython", "numpy"])
def test_network_221_seed000(backend):
    net = cn.Network([2, 2, 1], seed=0, backend=backend)
    # every neuron has weights [0, 1] and bias 0: column j of W is neuron j's weights
    W1 = np.array([[0, 1], [0, 1]]).T
    W2 = np.array([[0, 1]]).T
    net.set_weights([(W1, np.zeros(2)), (W2, np.zeros(1))])
    out = net.feedforward([2, 3])
    assert out.shape == (1,)
    assert out[0] == 0.7216325609518421


def test_mse_seed000():
    y_true = np.array([1, 0, 0, 1], dtype=np.float64)
    y_pred = np.zeros(4)
    assert ref.mse(y_pred, y_true) == 0.5
    net = cn.Network([1, 1], activation="identity", loss="mse")
    net.set_weights([(np.zeros((1, 1)), np.zeros(1))])
    assert net.evaluate(np.zeros((4, 1)), y_true)["loss"] == 0.5


def test_sigmoid_derivative_sign():
    """The tutorials' x*(x-1) is negative on (0, 1); the true derivative is positive."""
    a = np.array([0.25, 0.5, 0.9])
    assert np.all(ref.sigmoid_derivative(a) > 0)
    assert ref.sigmoid_derivative(np.array([0.5]))[0] == 0.25


def test_seed001_learns_xor_like_problem():
    X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1], [0, 0, 1]])
    y = np.array([0, 1, 1, 0, 0])
    net = cn.Network([3, 4, 1], loss="sse", seed=1)
    hist = net.fit(X, y, epochs=20000, learning_rate=1.0)
    assert hist["loss"][-1] < hist["loss"][0]
    pred = net.feedforward(X).ravel()
    assert np.all(np.abs(pred - y) < 0.1), pred
