"""cyneuron.estimators: a rejected call to MLPClassifier / MLPRegressor changes nothing.

Every estimator method given bad input raises a ValueError or TypeError that
names the problem, and the estimator is afterwards the same to the bit:
every attribute (classes_, coefs_, intercepts_, n_iter_, loss_curve_, ...),
the network's weights, optimizer state and Generator, and a RandomState
given as random_state. Non-numeric X is refused as Network refuses it.

Oracle: the estimator's bytes before and after each refused call.
"""
import math
import warnings

import numpy as np
import pytest
from helpers import bits

import cyneuron as cn

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

rng = np.random.default_rng(0)
X = rng.standard_normal((60, 4))
Y = (X[:, 0] + X[:, 1] > 0).astype(int)               # two classes, 0 and 1
T = X[:, 0] - 2 * X[:, 2]                             # a regression target


def snapshot(obj):
    """Everything an estimator holds, as comparable values (arrays as bytes)."""
    if isinstance(obj, np.ndarray):
        return ("array", obj.dtype.str, obj.shape, bits(obj))
    if isinstance(obj, (list, tuple)):
        return (type(obj).__name__, [snapshot(x) for x in obj])
    if isinstance(obj, dict):
        return ("dict", sorted((str(k), snapshot(val)) for k, val in obj.items()))
    if isinstance(obj, float):
        return ("float", repr(obj))                   # NaN equal to NaN, -0.0 kept
    if isinstance(obj, np.random.RandomState):
        return ("RandomState", snapshot(list(obj.get_state())))
    if isinstance(obj, cn.Network):
        return ("Network", snapshot(obj.state.params), snapshot(obj.state.opt_state),
                snapshot(obj.state.opt_scalars), repr(obj.optimizer),
                snapshot(obj.rng.bit_generator.state))
    return (type(obj).__name__, repr(obj))


def state(est):
    s = snapshot(dict(vars(est)))
    assert "Network" in repr(s) or "coefs_" not in vars(est)   # the network is in it
    return s


def fitted(kind, **params):
    """A fitted estimator with an optimizer state and a used Generator."""
    base = dict(hidden_layer_sizes=(5,), random_state=np.random.RandomState(1), max_iter=4,
                batch_size=16, solver="adam")
    base.update(params)
    if kind == "classifier":
        est = cn.MLPClassifier(**base).fit(X, np.array(["no", "yes"])[Y])
    else:
        est = cn.MLPRegressor(**base).fit(X, T)
    assert len(est.loss_curve_) == 4 and est.network_.state.opt_state.any()
    return est


def _obj(rows):
    a = np.empty((len(rows), len(rows[0])), dtype=object)
    a[:] = rows
    return a


# bad X for every method: (X, exception, what the message must say)
BAD_X = [
    ("strings", X.astype(str), TypeError, r"X must be an array of numbers, got dtype <U"),
    ("object strings", X.astype(str).astype(object), TypeError, r"X must be .* str objects"),
    ("datetime64", (X * 1e3).astype("datetime64[s]"), TypeError,
     r"X must be an array of numbers, got dtype datetime64"),
    ("timedelta64", (X * 1e3).astype("timedelta64[s]"), TypeError,
     r"X must be an array of numbers, got dtype timedelta64"),
    ("huge int", _obj([[10 ** 400, 0.0, 0.0, 0.0]] + X[1:].tolist()), ValueError,
     r"X holds an integer too large for a float"),
    ("huge int list", [[0.0, 0.0, 0.0, -10 ** 400]] + X[1:].tolist(), ValueError,
     r"X holds an integer too large for a float"),
    ("NaN", np.where(X > 1.5, np.nan, X), ValueError, r"Input X contains NaN"),
    ("inf", np.where(X > 1.5, np.inf, X), ValueError, r"Input X contains infinity"),
    ("complex", X + 1j, ValueError, r"Complex data not supported"),
    ("3 features", X[:, :3], ValueError, r"X has 3 features, but \w+ is expecting 4"),
    ("1-D", X[:, 0], ValueError, r"Expected a 2-dimensional container|Expected 2D array"),
    ("3-D", X[:, :, None], ValueError, r"Found array with dim 3"),
    ("empty", X[:0], ValueError, r"0 sample\(s\)"),
]


def labels(est, n):
    return np.array(["no", "yes"])[Y[:n]] if isinstance(est, cn.MLPClassifier) else T[:n]


def check_rejected(est, call, exc, match):
    before = state(est)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)   # no overflow on the way either
        with pytest.raises(exc, match=match):
            call()
    after = state(est)
    assert after == before, next(f"{a[0]} changed" for a, b in zip(after[1], before[1])
                                 if a != b)


@pytest.mark.parametrize("kind,method", [
    (kind, method) for kind in ("classifier", "regressor")
    for method in ("fit", "fit warm_start", "partial_fit", "predict", "predict_proba", "score")
    if not (kind == "regressor" and method == "predict_proba")])   # a regressor has none
def test_bad_X_is_refused_and_changes_nothing(kind, method):
    est = fitted(kind, warm_start=method == "fit warm_start")
    for name, bad, exc, match in BAD_X:
        n = len(bad) if hasattr(bad, "__len__") else 0
        if method.startswith("fit"):
            def call(est=est, bad=bad, n=n):
                est.fit(bad, labels(est, n))
        elif method == "partial_fit":
            def call(est=est, bad=bad, n=n):
                est.partial_fit(bad, labels(est, n))
        elif method == "score":
            def call(est=est, bad=bad, n=n):
                est.score(bad, labels(est, n))
        else:
            def call(est=est, bad=bad):
                getattr(est, method)(bad)
        if name == "3 features" and method == "fit":
            est.fit(bad, labels(est, n))        # a new fit may change the width
            est = fitted(kind)
            continue
        try:
            check_rejected(est, call, exc, match)
        except BaseException as e:
            raise AssertionError(f"{method} with {name} X: {e}") from e


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_a_first_partial_fit_given_bad_X_leaves_nothing(kind):
    for name, bad, exc, match in BAD_X:
        if name == "3 features":
            continue                            # any width is right for a first call
        est = (cn.MLPClassifier(hidden_layer_sizes=(3,), random_state=0) if kind == "classifier"
               else cn.MLPRegressor(hidden_layer_sizes=(3,), random_state=0))
        kw = {"classes": ["no", "yes"]} if kind == "classifier" else {}
        n = len(bad)
        before = state(est)
        with pytest.raises(exc, match=match):
            est.partial_fit(bad, labels(est, n), **kw)
        assert state(est) == before, name
        assert not hasattr(est, "classes_") and not hasattr(est, "coefs_"), name
    # while numbers in an object array (a mixed DataFrame's values) are numbers
    est.partial_fit(X.astype(object), labels(est, 60), **kw)
    ref = type(est)(hidden_layer_sizes=(3,), random_state=0).partial_fit(X, labels(est, 60), **kw)
    assert bits(est.coefs_[0]) == bits(ref.coefs_[0])
    assert bits(est.predict(X.astype(object))) == bits(ref.predict(X))


def test_a_rejected_first_partial_fit_leaves_no_classes():
    # the classes of a refused first call once stayed behind, so the
    # next, correct call was refused, or a call without classes accepted
    clf = cn.MLPClassifier(hidden_layer_sizes=(3,), random_state=0)
    before = state(clf)
    with pytest.raises(ValueError, match=r"`y` has classes not in `self.classes_`"):
        clf.partial_fit(X, Y + 1, classes=[0, 1])           # labels 1, 2: 2 is no class
    assert not hasattr(clf, "classes_") and state(clf) == before
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        clf.partial_fit(X, Y)
    assert state(clf) == before
    clf.partial_fit(X, Y, classes=[1, 0])                   # the same classes, any order
    assert list(clf.classes_) == [0, 1]
    with pytest.raises(ValueError, match=r"`classes=\[0 1 2\]` is not the same"):
        clf.partial_fit(X, Y, classes=[0, 1, 2])


def test_bad_labels_and_targets_change_nothing():
    clf = fitted("classifier", warm_start=True, solver="sgd")
    y = np.array(["no", "yes"])[Y]
    check_rejected(clf, lambda: clf.partial_fit(X, np.where(Y, "yes", "maybe")), ValueError,
                   r"`y` has classes not in `self.classes_`.*'maybe'")
    check_rejected(clf, lambda: clf.partial_fit(X, y, classes=["no", "yes", "maybe"]),
                   ValueError, r"is not the same as on the first call")
    check_rejected(clf, lambda: clf.fit(X, np.where(Y, "yes", "maybe")), ValueError,
                   r"warm_start can only be used where `y` has the same classes")
    check_rejected(clf, lambda: clf.fit(X, y[:-1]), ValueError,
                   r"inconsistent numbers of samples: \[60, 59\]")
    check_rejected(clf, lambda: clf.fit(X, np.linspace(0, 1, 60)), ValueError,
                   r"Unknown label type: continuous")
    check_rejected(clf, lambda: clf.score(X, y[:-1]), ValueError,
                   r"inconsistent numbers of samples")
    reg = fitted("regressor", warm_start=True, solver="sgd")
    for bad, exc, match in [
        (np.where(T > 1, np.nan, T), ValueError, r"Input y contains NaN"),
        (T.astype(str), TypeError, r"y must be an array of numbers, got dtype <U"),
        (_obj([[10 ** 400]] + [[t] for t in T[1:]]), ValueError,
         r"y holds an integer too large for a float"),
        (T.astype("timedelta64[s]"), TypeError, r"y must be an array of numbers"),
        (np.column_stack([T, T]), ValueError, r"y has 2 output\(s\), but the fitted network "
                                              r"has 1"),
    ]:
        check_rejected(reg, lambda bad=bad: reg.fit(X, bad), exc, match)
        check_rejected(reg, lambda bad=bad: reg.partial_fit(X, bad), exc, match)


def test_bad_sample_weight_changes_nothing():
    reg = fitted("regressor", warm_start=True)
    for bad, exc, match in [
        (np.full(60, "1"), TypeError, r"sample_weight must be an array of numbers"),
        (_obj([[10 ** 400]] * 60)[:, 0], ValueError,
         r"sample_weight holds an integer too large for a float"),
        (np.full(60, np.nan), ValueError, r"sample_weight contains NaN or infinity"),
        (-np.ones(60), ValueError, r"Negative values in data passed to `sample_weight`"),
        (np.ones(59), ValueError, r"sample_weight.shape == \(59,\), expected \(60,\)"),
    ]:
        check_rejected(reg, lambda bad=bad: reg.fit(X, T, sample_weight=bad), exc, match)
        check_rejected(reg, lambda bad=bad: reg.partial_fit(X, T, sample_weight=bad), exc,
                       match)


def test_set_params_then_a_refused_fit_changes_no_fitted_state():
    # parameters refused at once, and ones refused only after the initial
    # weights were drawn from the RandomState (which must not have moved)
    clf = fitted("classifier")
    y = np.array(["no", "yes"])[Y]
    y_one = np.where(np.arange(60) == 7, "yes", "no")         # "yes" has one member
    cases = [
        (dict(alpha=-1.0), None, r"'alpha' parameter of MLPClassifier must be"),
        (dict(n_iter_no_change=-math.inf), None, r"'n_iter_no_change' parameter .* or a "
                                                 r"float among \{inf\}"),
        (dict(n_iter_no_change=2.5), None, r"'n_iter_no_change' parameter"),
        (dict(early_stopping=True), y_one,
         r"The least populated class(es)? in y ha(s|ve) only 1 member"),  # sklearn 1.7: "class ... has"
        (dict(warm_start=True, hidden_layer_sizes=(5,)), X[:, :3],
         r"X has 3 features, but MLPClassifier is expecting 4"),
    ]
    original = clf.get_params()
    for params, target, match in cases:
        clf.set_params(**original)
        clf.set_params(**params)
        if isinstance(target, np.ndarray) and target.ndim == 2:
            check_rejected(clf, lambda target=target: clf.fit(target, y), ValueError, match)
        else:
            check_rejected(clf, lambda target=target: clf.fit(X, y if target is None else target),
                           ValueError, match)
    reg = fitted("regressor")
    reg.set_params(early_stopping=True, validation_fraction=0.01)     # 1 sample held out
    check_rejected(reg, lambda: reg.fit(X, T), ValueError, r"The validation set is too small")


# --- divergence ---------------------------------------------------------------------------

DIVERGES = dict(hidden_layer_sizes=100, activation="identity", solver="sgd",
                learning_rate_init=1.0, max_iter=20, random_state=0)


def iris():
    from sklearn.datasets import load_iris
    return load_iris(return_X_y=True)


def test_divergence_without_early_stopping_raises_and_changes_nothing():
    Xi, yi = iris()
    reg = cn.MLPRegressor(**{**DIVERGES, "learning_rate_init": 1e-3, "warm_start": True})
    reg.fit(Xi, yi)
    reg.set_params(learning_rate_init=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                 # no overflow warning on the way
        check_rejected(reg, lambda: reg.fit(Xi, yi), cn.DivergenceError,
                       r"^Solver produced non-finite parameter weights.*Training diverged in "
                       r"epoch \d+ of this call.*the estimator is as before this call")
    fresh = cn.MLPRegressor(**DIVERGES)
    with pytest.raises(cn.DivergenceError):
        fresh.fit(Xi, yi)
    assert not hasattr(fresh, "coefs_")


def test_divergence_with_early_stopping_keeps_the_best_and_warns():
    Xi, yi = iris()
    reg = cn.MLPRegressor(early_stopping=True, **DIVERGES)
    with pytest.warns(cn.DivergenceWarning, match=r"training diverged in epoch (\d+) of this "
                                                  r"call .*keeping the weights of the best "
                                                  r"validation score") as caught:
        reg.fit(Xi, yi)
    epoch = int(caught[0].message.args[0].split("epoch ")[1].split()[0])
    scores = reg.validation_scores_
    assert reg.n_iter_ == epoch == len(scores) < 20         # stopped in that epoch
    assert math.isnan(scores[-1]) and type(scores[-1]) is float
    assert all(math.isfinite(s) for s in scores[:-1])
    assert reg.best_validation_score_ == max(scores[:-1])
    # the kept weights are those of the best epoch: the same fit stopped there
    best = int(np.argmax(scores[:-1])) + 1
    ref = cn.MLPRegressor(early_stopping=True, **{**DIVERGES, "max_iter": best}).fit(Xi, yi)
    assert bits(list(zip(reg.coefs_, reg.intercepts_))) == \
        bits(list(zip(ref.coefs_, ref.intercepts_)))
    assert np.isfinite(reg.predict(Xi)).all()


def test_n_iter_no_change_inf_never_stops_early():
    clf = cn.MLPClassifier(hidden_layer_sizes=(3,), solver="sgd", tol=1e9, max_iter=30,
                           n_iter_no_change=np.inf, random_state=0).fit(X, Y)
    assert clf.n_iter_ == 30 and clf._no_improvement_count == 29
    clf = cn.MLPClassifier(hidden_layer_sizes=(3,), solver="sgd", tol=1e9, max_iter=30,
                           n_iter_no_change=float("inf"), random_state=0).fit(X, Y)
    assert clf.n_iter_ == 30
