"""cyneuron.reference: the NumPy reference's functions on their own.

Oracles: the seed tutorials' printed numbers, the sign of a known
derivative, the statistics of dropout masks. The reference against the
compiled core is tests/test_bitwise.py and tests/test_bitwise_training.py;
against finite differences tests/test_gradcheck.py.
"""

import numpy as np

import cyneuron as cn
from cyneuron import reference as ref


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


def test_dropout_mask_statistics():
    rng = np.random.default_rng(0)
    m = ref.dropout_mask(rng, (200, 500), 0.3, np.float64)
    assert set(np.unique(m)) == {0.0, 1 / 0.7}
    assert abs((m == 0).mean() - 0.3) < 0.01
    assert abs(m.mean() - 1.0) < 0.02          # inverted dropout keeps the expectation
