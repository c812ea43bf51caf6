"""cyneuron.dask: searches and cross-validation on a Dask cluster give the same bits as n_jobs=1 and loky.

Every candidate and fold is fitted in a worker process and its scores (and,
for cross_validate, its fitted estimator) come back pickled; the comparison
is on exact bytes. The data are drawn from a NumPy Generator with
elementwise operations only: no BLAS, so they are the same on every machine.

Oracle: exact bits against n_jobs=1.
"""
import copy
import warnings

import joblib
import numpy as np
import pytest
from distributed import get_task_stream
from scipy.stats import loguniform
from sklearn.exceptions import ConvergenceWarning
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import (
    GridSearchCV,
    HalvingRandomSearchCV,
    KFold,
    RandomizedSearchCV,
    StratifiedKFold,
    cross_validate,
)

import cyneuron as cn

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _classification(n=90, d=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = np.where(X[:, 0] * X[:, 1] + 0.5 * X[:, 2] > 0, "yes", "no")
    y[X[:, 3] > 1.0] = "maybe"
    return X, y


def _regression(n=90, d=4, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2.0, 2.0, (n, d))
    y = np.column_stack([X[:, 0] * X[:, 1], np.abs(X[:, 2]) - X[:, 3]])
    return X, y


def _run(make, backend, client=None):
    """Run `make()` (a fitted search or cross_validate) on one backend.

    For Dask it also records the task stream, to prove the work ran on the
    cluster rather than falling back to the calling process.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if backend == "sequential":
            return make(1)
        if backend == "loky":
            with joblib.parallel_config(backend="loky", n_jobs=2):
                return make(2)
        with get_task_stream(client) as ts:
            with joblib.parallel_config(backend="dask"):
                out = make(-1)
        workers = {t["worker"] for t in ts.data}
        assert len(ts.data) > 0 and workers <= set(client.scheduler_info()["workers"])
        return out


def _score_keys(results):
    return [k for k in results if "test_score" in k or "train_score" in k
            or k.startswith("rank_") or k in ("iter", "n_resources", "params")]


def _same_results(a, b):
    keys = _score_keys(a)
    assert keys == _score_keys(b) and any("test_score" in k for k in keys)
    for k in keys:
        if k == "params":
            assert a[k] == b[k]
        else:
            assert np.asarray(a[k]).tobytes() == np.asarray(b[k]).tobytes(), k


def _weights(est):
    return b"".join(W.tobytes() + b.tobytes() for W, b in zip(est.coefs_, est.intercepts_))


def _check_search(make, client):
    runs = {b: _run(make, b, client) for b in ("sequential", "loky", "dask")}
    ref = runs["sequential"]
    # something to compare: the candidates do not all score alike
    assert len(set(np.asarray(ref.cv_results_["mean_test_score"]).tolist())) > 1
    for name in ("loky", "dask"):
        _same_results(ref.cv_results_, runs[name].cv_results_)
        assert runs[name].best_params_ == ref.best_params_
        assert _weights(runs[name].best_estimator_) == _weights(ref.best_estimator_)
        assert ref.best_estimator_.loss_curve_ == runs[name].best_estimator_.loss_curve_


def test_grid_search_classifier(dask_client):
    X, y = _classification()
    est = cn.MLPClassifier(hidden_layer_sizes=(6,), max_iter=25, random_state=3, batch_size=16)
    grid = {"alpha": [1e-4, 1e-1], "activation": ["relu", "tanh"],
            "learning_rate_init": [1e-3, 1e-2]}
    _check_search(lambda n_jobs: GridSearchCV(est, grid, cv=3, n_jobs=n_jobs,
                                              return_train_score=True).fit(X, y), dask_client)


def test_randomized_search_regressor_sgd_float32(dask_client):
    X, y = _regression()
    est = cn.MLPRegressor(hidden_layer_sizes=(5,), solver="sgd", max_iter=20, random_state=0,
                          dtype="float32", batch_size=10, learning_rate="invscaling",
                          learning_rate_init=0.05)
    dist = {"alpha": loguniform(1e-5, 1e-1), "momentum": [0.0, 0.9],
            "hidden_layer_sizes": [(3,), (5,), (4, 3)]}
    _check_search(lambda n_jobs: RandomizedSearchCV(
        est, dist, n_iter=6, cv=KFold(3, shuffle=True, random_state=1), random_state=7,
        n_jobs=n_jobs).fit(X, y), dask_client)


def test_halving_random_search_on_max_iter(dask_client):
    X, y = _classification(seed=2)
    est = cn.MLPClassifier(hidden_layer_sizes=(6,), random_state=1, batch_size=30)
    dist = {"alpha": loguniform(1e-5, 1e-1), "learning_rate_init": loguniform(1e-3, 1e-1),
            "hidden_layer_sizes": [(4,), (8,)]}

    def make(n_jobs):
        return HalvingRandomSearchCV(est, dist, n_candidates=9, resource="max_iter",
                                     min_resources=3, max_resources=27, factor=3, cv=3,
                                     random_state=5, n_jobs=n_jobs).fit(X, y)

    _check_search(make, dask_client)
    ref = make(1)
    assert sorted(set(ref.cv_results_["n_resources"])) == [3, 9, 27]


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_cross_validate_estimators_fitted_in_workers(dask_client, kind):
    # return_estimator=True: the fitted estimators themselves come back from
    # the worker processes (pickled through __getstate__/__setstate__); their
    # weights, optimizer state and Generator state must be the same bits,
    # and they must go on training (partial_fit) identically.
    if kind == "classifier":
        X, y = _classification(seed=4)
        est = cn.MLPClassifier(hidden_layer_sizes=(7,), max_iter=15, batch_size=12,
                               random_state=np.random.RandomState(11))
        cv = StratifiedKFold(3, shuffle=True, random_state=0)
    else:
        X, y = _regression(seed=5)
        est = cn.MLPRegressor(hidden_layer_sizes=(6,), max_iter=15, batch_size=12,
                              random_state=2, dropout=0.2)
        cv = 3

    def make(n_jobs):
        return cross_validate(est, X, y, cv=cv, n_jobs=n_jobs, return_estimator=True,
                              return_train_score=True)

    runs = {b: _run(make, b, dask_client) for b in ("sequential", "loky", "dask")}
    ref = runs["sequential"]
    for name in ("loky", "dask"):
        out = runs[name]
        for key in ("test_score", "train_score"):
            assert out[key].tobytes() == ref[key].tobytes()
        for e_ref, e in zip(ref["estimator"], out["estimator"]):
            assert _weights(e) == _weights(e_ref)
            assert e.network_.state.opt_state.tobytes() == e_ref.network_.state.opt_state.tobytes()
            e_ref, e = copy.deepcopy(e_ref), copy.deepcopy(e)
            e_ref.partial_fit(X[:20], y[:20])
            e.partial_fit(X[:20], y[:20])
            assert _weights(e) == _weights(e_ref) != _weights(ref["estimator"][0])
    assert len({_weights(e) for e in ref["estimator"]}) == 3
