"""The numerics= parameter: validation, persistence, estimators, bitwise agreement."""
import numpy as np
import pytest
from helpers import bits

import cyneuron as cn


def _net(**kw):
    kw.setdefault("seed", 0)
    return cn.Network([3, 5, 2], activation=["tanh", "sigmoid"], loss="binary_crossentropy",
                      **kw)


@pytest.mark.parametrize("bad", ["Portable", "ieee", "", None, 1, ["portable"]])
def test_bad_numerics_is_rejected_by_name(bad):
    with pytest.raises(ValueError, match="numerics must be one of numpy, portable"):
        _net(numerics=bad)


@pytest.mark.parametrize("bad", ["ieee", None, 3])
def test_estimators_reject_bad_numerics_before_changing_anything(bad):
    X = np.arange(24.0).reshape(8, 3) / 8
    y = np.array([0, 1] * 4)
    clf = cn.MLPClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=0).fit(X, y)
    before = [w.tobytes() for w in clf.coefs_]
    clf.set_params(numerics=bad)
    with pytest.raises(ValueError, match="numerics"):
        clf.fit(X, y)
    assert [w.tobytes() for w in clf.coefs_] == before


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("acts,loss", [
    (["sigmoid", "sigmoid"], "mse"), (["tanh", "softmax"], "categorical_crossentropy"),
    (["softplus", "sigmoid"], "binary_crossentropy"), (["silu", "identity"], "sse")])
@pytest.mark.parametrize("batch", [None, 7, 1])
def test_portable_core_matches_the_portable_reference(acts, loss, dtype, batch):
    rng = np.random.default_rng(1)
    X = (rng.standard_normal((23, 4)) * 3).astype(dtype)
    if loss == "categorical_crossentropy":
        Y = np.eye(3, dtype=dtype)[rng.integers(0, 3, 23)]
    else:
        Y = rng.integers(0, 2, (23, 3)).astype(dtype)
    out = {}
    for backend in ("numpy", "cython"):
        net = cn.Network([4, 6, 3], activation=acts, loss=loss, seed=2, dtype=dtype,
                         backend=backend, numerics="portable")
        first = (bits(net.feedforward(X)), bits(net.gradients(X, Y)))
        hist = net.fit(X, Y, epochs=3, learning_rate=0.05, batch_size=batch, optimizer="adam")
        out[backend] = first + (bits(net.get_weights()), bits(np.asarray(hist.history["loss"])),
                                bits(np.asarray(net.evaluate(X, Y)["loss"])))
    assert out["numpy"] == out["cython"]


def test_portable_uses_cyneurons_functions_not_numpys():
    from cyneuron import _portable
    z = np.linspace(-40, 40, 4001)
    net = cn.Network([1, 1], activation="sigmoid", numerics="portable")
    net.set_weights([(np.ones((1, 1)), np.zeros(1))])
    expect = 1.0 / (1.0 + _portable.exp(-z))
    assert net.feedforward(z[:, None])[:, 0].tobytes() == expect.tobytes()
    numpy_mode = cn.Network([1, 1], activation="sigmoid")
    numpy_mode.set_weights([(np.ones((1, 1)), np.zeros(1))])
    assert numpy_mode.feedforward(z[:, None])[:, 0].tobytes() == (1 / (1 + np.exp(-z))).tobytes()


def test_numerics_survives_save_and_load(tmp_path):
    net = _net(numerics="portable")
    X = np.linspace(-2, 2, 30).reshape(10, 3)
    net.fit(X, (X[:, :2] > 0).astype(float), epochs=2, learning_rate=0.1)
    cn.save(net, tmp_path / "m.npz")
    back = cn.load(tmp_path / "m.npz")
    assert back.numerics == "portable"
    assert back.digest() == net.digest()
    assert bits(back.feedforward(X)) == bits(net.feedforward(X))
    assert _net().numerics == "numpy"


def test_estimator_carries_numerics_to_its_network_and_its_file(tmp_path):
    X = np.linspace(-1, 1, 60).reshape(20, 3)
    y = (X.sum(axis=1) > 0).astype(int)
    clf = cn.MLPClassifier(hidden_layer_sizes=(5,), max_iter=5, random_state=0,
                           numerics="portable").fit(X, y)
    assert clf.network_.numerics == "portable"
    cn.save(clf, tmp_path / "clf.npz")
    back = cn.load(tmp_path / "clf.npz")
    assert back.get_params()["numerics"] == "portable"
    assert bits(back.predict_proba(X)) == bits(clf.predict_proba(X))
    ref = cn.MLPClassifier(hidden_layer_sizes=(5,), max_iter=5, random_state=0,
                           numerics="portable", backend="numpy").fit(X, y)
    assert bits(ref.predict_proba(X)) == bits(clf.predict_proba(X))


def test_network_save_method_is_cn_save(tmp_path):
    net = _net(numerics="portable")
    path = net.save(tmp_path / "m")
    assert path.endswith("m.npz")
    assert cn.load(path).digest() == net.digest()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_export_c_reproduces_the_portable_network(dtype):
    # cn.export_c's header computes _export_c.portable_feedforward (tests/test_export_c.py);
    # that is the portable network's own feedforward, to the bit
    from cyneuron._export_c import portable_feedforward
    X = (np.random.default_rng(0).standard_normal((40, 4)) * 3).astype(dtype)
    for acts in (["sigmoid", "softmax"], ["tanh", "sigmoid"], ["softplus", "identity"],
                 ["silu", "softmax"], ["relu", "tanh"]):
        net = cn.Network([4, 7, 3], activation=acts, seed=1, dtype=dtype, numerics="portable")
        assert bits(net.feedforward(X)) == bits(np.asarray(portable_feedforward(net, X)))
