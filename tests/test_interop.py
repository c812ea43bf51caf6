"""cyneuron._interop: cn.from_sklearn, scikit-learn's fitted MLPs as cyneuron estimators.

Oracle: scikit-learn (its predictions and probabilities, to a few ulps).
"""
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.neural_network import MLPClassifier, MLPRegressor

import cyneuron as cn


def _ulp(a, b):
    ints = {4: np.int32, 8: np.int64}[a.dtype.itemsize]

    def ordered(x):
        i = x.view(ints).astype(np.int64)
        return np.where(i < 0, np.iinfo(ints).min - i, i)
    return np.abs(ordered(a) - ordered(b))


def _fit(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5))
    y = np.array(["ant", "bee", "cat"])[(np.abs(X[:, 0] * 2 + X[:, 1]).astype(int)) % 3]
    return X, y


@pytest.mark.parametrize("solver", ["adam", "sgd"])
@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity"])
def test_classifier_same_labels_close_probabilities_and_partial_fit_continues(data, solver,
                                                                              activation):
    X, y = data
    sk = _fit(MLPClassifier((8, 6), activation=activation, solver=solver, max_iter=15,
                            random_state=0, shuffle=False), X, y)
    est = cn.from_sklearn(sk)
    assert type(est) is cn.MLPClassifier and list(est.classes_) == list(sk.classes_)
    assert est.n_iter_ == sk.n_iter_ and est.loss_curve_ == sk.loss_curve_
    assert np.array_equal(est.predict(X), sk.predict(X))
    assert _ulp(est.predict_proba(X), sk.predict_proba(X)).max() <= 64
    for a, b in zip(est.coefs_, sk.coefs_):
        assert a.tobytes() == b.tobytes()
    # the solver's state came along: one more epoch on both stays together
    sk.partial_fit(X, y)
    est.partial_fit(X, y)
    for a, b in zip(est.coefs_ + est.intercepts_, sk.coefs_ + sk.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    assert np.array_equal(est.predict(X), sk.predict(X))


def test_binary_multilabel_float32_and_regressor(data, tmp_path):
    X, _ = data
    yb = np.where(X[:, 0] > 0, 7, -2)
    sk = _fit(MLPClassifier((5,), max_iter=10, random_state=1), X.astype(np.float32), yb)
    est = cn.from_sklearn(sk)
    assert est.network_.dtype == np.float32 and est.classes_.dtype == sk.classes_.dtype
    assert np.array_equal(est.predict(X.astype(np.float32)), sk.predict(X.astype(np.float32)))
    Y = np.column_stack([X[:, 0] > 0, X[:, 1] > 0]).astype(int)
    skm = _fit(MLPClassifier((5,), max_iter=10, random_state=1), X, Y)
    estm = cn.from_sklearn(skm)
    assert np.array_equal(estm.predict(X), skm.predict(X))
    skr = _fit(MLPRegressor(hidden_layer_sizes=(6,), max_iter=10, random_state=0), X, X[:, :2] @ [1.0, -2.0])
    reg = cn.from_sklearn(skr)
    np.testing.assert_allclose(reg.predict(X), skr.predict(X), rtol=1e-13, atol=1e-13)
    # a converted estimator is an ordinary one: it saves, loads and keeps its digest
    back = cn.load(cn.save(reg, tmp_path / "r.npz"))
    assert back.digest() == reg.digest()
    sl = _fit(MLPRegressor(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=10, random_state=0), X, X[:, 0])
    lb = cn.from_sklearn(sl)
    np.testing.assert_allclose(lb.predict(X), sl.predict(X), rtol=1e-13, atol=1e-13)


def test_bad_models_are_refused(data):
    X, _ = data
    with pytest.raises(TypeError, match="sklearn.neural_network.MLPClassifier"):
        cn.from_sklearn(cn.MLPClassifier())
    with pytest.raises(NotFittedError):
        cn.from_sklearn(MLPClassifier())
    poisson = _fit(MLPRegressor(hidden_layer_sizes=(3,), loss="poisson", max_iter=5, random_state=0), X,
                   np.abs(X[:, 0]))
    with pytest.raises(ValueError, match="loss='poisson'"):
        cn.from_sklearn(poisson)


def test_each_estimator_converts_its_own_twin_only(data):
    X, y = data
    sk = _fit(MLPClassifier(hidden_layer_sizes=(3,), max_iter=5, random_state=0), X, y)
    ours = cn.MLPClassifier.from_sklearn(sk)
    assert ours.predict_proba(X).tobytes() == cn.from_sklearn(sk).predict_proba(X).tobytes()
    with pytest.raises(TypeError, match="sklearn.neural_network.MLPRegressor, got MLPClassifier"):
        cn.MLPRegressor.from_sklearn(sk)
    with pytest.raises(TypeError, match="MLPClassifier, got MLPClassifier"):
        cn.MLPClassifier.from_sklearn(ours)            # cyneuron's own: not scikit-learn's
