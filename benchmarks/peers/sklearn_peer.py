"""scikit-learn's MLPClassifier (``pip install scikit-learn``).

One ``fit`` call per timed run, with early stopping and the convergence
tolerance switched off so it runs exactly ``max_iter`` epochs.  Its BLAS
(OpenBLAS, via NumPy/SciPy) gets the worker's thread count.

scikit-learn's classifiers always pair a logistic (or softmax) output with
log-loss, so in W1/W2 it trains the same 3-4-1 / 2-2-1 sigmoid net with the
same updates per epoch but the cross-entropy loss instead of the squared
error; the cost per update is the same kind of work.  It uses its own
(Glorot) initialisation with ``random_state=0``.
"""
import importlib
import warnings

from timing import Case

NAME = "scikit-learn"


def available():
    try:
        importlib.import_module("sklearn.neural_network")
    except Exception as exc:  # noqa: BLE001
        return False, f"cannot import scikit-learn ({type(exc).__name__}: {exc})"
    return True, ""


def version():
    import sklearn
    return sklearn.__version__


def _classifier(**kw):
    from sklearn.neural_network import MLPClassifier
    base = dict(tol=0.0, n_iter_no_change=10 ** 9, early_stopping=False, random_state=0)
    base.update(kw)
    return MLPClassifier(**base)


def _fit(clf, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")            # ConvergenceWarning: max_iter reached
        clf.fit(X, y)


def _tiny(wl, threads, batch_size):
    X, y = wl.X, wl.y.ravel().astype(int)
    hidden = tuple(wl.sizes[1:-1])

    def setup(units):
        return _classifier(hidden_layer_sizes=hidden, activation="logistic", solver="sgd",
                           learning_rate_init=wl.params["learning_rate"], momentum=0.0,
                           nesterovs_momentum=False, alpha=0.0, batch_size=batch_size,
                           max_iter=units, shuffle=False)

    def run(clf, units):
        _fit(clf, X, y)

    def check(clf, units):
        return {"final_loss": wl.loss(clf.predict_proba(X)[:, 1:], wl.y)}
    return [Case("scikit-learn MLPClassifier", "float64", setup, run, check, threads=threads,
                 note="log-loss instead of squared error (see peers/sklearn_peer.py)")]


def w1(wl, threads=1):
    return _tiny(wl, threads, batch_size=len(wl.X))


def w2(wl, threads=1):
    return _tiny(wl, threads, batch_size=1)


def w3(wl, threads=1):
    Xtr, ytr, Xte, yte = wl.data
    p = wl.params

    def setup(units):
        return _classifier(hidden_layer_sizes=(64,), solver="adam",
                           learning_rate_init=p["learning_rate"], batch_size=p["batch_size"],
                           max_iter=units, n_iter_no_change=1000)

    def run(clf, units):
        _fit(clf, Xtr, ytr)

    def check(clf, units):
        return {"accuracy": wl.accuracy(clf.predict(Xte), yte)}
    return [Case("scikit-learn MLPClassifier", "float64", setup, run, check, threads=threads,
                 note="solver='adam', default alpha=1e-4")]


def w4(wl, threads=1):
    p = wl.params

    def setup(units):
        return _classifier(hidden_layer_sizes=tuple(wl.sizes[1:-1]), solver="sgd",
                           learning_rate_init=p["learning_rate"], momentum=0.0,
                           nesterovs_momentum=False, alpha=0.0, batch_size=p["batch_size"],
                           max_iter=1, shuffle=False)

    def run(clf, units):
        _fit(clf, wl.X[:units], wl.y[:units])
    return [Case("scikit-learn MLPClassifier", "float64", setup, run, threads=threads,
                 note="solver='sgd', momentum 0, one fit(max_iter=1)")]



THREADS = {"W6": (1,)}       # scikit-learn's training on one BLAS thread, as the issue asks


def w5(wl, threads=1):
    """predict_proba of the workload's weights (one row, and 1000 rows); scikit-learn
    has no separate plain forward."""
    import numpy as np
    cases = []
    for kind in wl.KINDS[1:]:
        def setup(units, kind=kind):
            return wl.sklearn_model(), wl.calls(kind)

        def run(state, units):
            pp, x = state[0].predict_proba, state[1]
            for _ in range(units):
                pp(x)

        def check(state, units, kind=kind):
            out = state[0].predict_proba(state[1])
            return {"max |p - NumPy|": float(np.max(np.abs(out - wl.expected(state[1]))))}
        cases.append(Case("scikit-learn MLPClassifier", "float64", setup, run, check,
                          threads=threads, kind=kind, note="predict_proba"))
    return cases


def w6(wl, threads=1):
    p = wl.params

    def setup(units):
        return _classifier(hidden_layer_sizes=tuple(wl.sizes[1:-1]), solver="adam",
                           learning_rate_init=p["learning_rate"], batch_size=p["batch_size"],
                           alpha=0.0, max_iter=units)

    def run(clf, units):
        _fit(clf, wl.X, wl.y)
    return [Case("scikit-learn MLPClassifier", "float64", setup, run, threads=threads,
                 note="solver='adam', alpha=0, reshuffled each epoch")]


def w7(wl, threads=1):
    Xtr, ytr, Xte, yte = wl.data
    p = wl.params

    def setup(units):
        return _classifier(hidden_layer_sizes=tuple(wl.sizes[1:-1]), solver="adam",
                           learning_rate_init=p["learning_rate"], batch_size=p["batch_size"],
                           alpha=0.0, max_iter=units)

    def run(clf, units):
        _fit(clf, Xtr, ytr)

    def check(clf, units):
        return {"accuracy": wl.accuracy(clf.predict(Xte), yte)}
    return [Case("scikit-learn MLPClassifier", "float64", setup, run, check, threads=threads,
                 note="solver='adam', alpha=0, reshuffled each epoch, the same CSR matrix")]
