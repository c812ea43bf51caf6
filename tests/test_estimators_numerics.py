"""MLPClassifier.predict_log_proba takes the logarithm of the fitted network's
numerics (issue 30): NumPy's np.log, or with numerics="portable" cyneuron's
portable log, so that a portable classifier's log-probabilities are the same
bits on every machine, like its probabilities."""
import numpy as np
import pytest

import cyneuron as cn
from cyneuron import _portable as cp
from cyneuron import _portable_reference as pref

pytest.importorskip("sklearn")


def data(n_classes, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((300, 6))
    y = (X[:, :3] @ rng.standard_normal((3, n_classes))).argmax(axis=1)
    return X, np.array(["a", "b", "c", "d"])[y]


@pytest.mark.parametrize("n_classes", [2, 4])          # a sigmoid output and a softmax
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("numerics", ["numpy", "portable"])
def test_predict_log_proba_uses_the_networks_log(numerics, dtype, n_classes):
    X, y = data(n_classes)
    clf = cn.MLPClassifier(hidden_layer_sizes=(8,), max_iter=30, random_state=0, dtype=dtype,
                           numerics=numerics, tol=0).fit(X, y)
    proba = clf.predict_proba(X)
    got = clf.predict_log_proba(X)
    assert got.dtype == np.dtype(dtype) and got.shape == proba.shape
    with np.errstate(divide="ignore"):
        if numerics == "portable":
            # the NumPy spec of the portable log, and the compiled one: the same bits
            assert got.tobytes() == pref.log(proba).tobytes()
            assert got.tobytes() == cp.log(np.ascontiguousarray(proba)).tobytes()
        else:
            assert got.tobytes() == np.log(proba).tobytes()


def test_portable_log_proba_is_not_numpys():
    # the two logarithms differ on some of these 6000 probabilities, so the test
    # above tells them apart
    X, y = data(4, seed=1)
    clf = cn.MLPClassifier(hidden_layer_sizes=(8,), max_iter=30, random_state=0,
                           numerics="portable", tol=0).fit(X, y)
    X = np.concatenate([X] * 20) * np.repeat(np.linspace(0.5, 2, 20), 300)[:, None]
    proba = clf.predict_proba(X)
    got = clf.predict_log_proba(X)
    assert got.tobytes() == pref.log(proba).tobytes()
    assert got.tobytes() != np.log(proba).tobytes()
