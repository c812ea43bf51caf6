"""genann, Tinn and KANN through the ``cynn`` package.

Install: ``pip install --no-binary cynn cynn`` (its prebuilt wheels do not
load on this glibc; the source build does).  cynn's own FANN binding is not
used: FANN is measured directly (peers/fann_peer.py).

What each library can do decides where it appears:

* genann (float64) and Tinn (float32) train one sample at a time with plain
  SGD on sigmoid nets and a squared error: W2 only.  Their update is
  ``w -= rate * (a - y) * a (1 - a) * input``, so W2's MSE lr 0.1 is rate 0.2.
  One epoch is one ``train_batch`` call (a Cython loop over the 4 samples);
  their own random initialisation, seeded.  Tinn shares one bias per layer;
  genann approximates the sigmoid with a lookup table.
* KANN (float32) trains mini-batches of ReLU/softmax cross-entropy MLPs, but
  cynn exposes only its RMSprop trainer: W3 and W4 with RMSprop instead of
  Adam / SGD.  One epoch is one ``train_single_epoch`` call (shuffles, then a
  C loop over the mini-batches).
"""
import importlib

import numpy as np
from timing import Case, unsupported_case

NAME = "cynn"
_SEED = 1        # cynn's seed(0) means "use the time"


def available():
    try:
        for lib in ("genann", "tinn", "kann"):
            importlib.import_module(f"cynn.{lib}")
    except Exception as exc:  # noqa: BLE001
        return False, f"cannot import cynn ({type(exc).__name__}: {exc})"
    return True, ""


def version():
    import cynn
    return cynn.__version__


_PER_SAMPLE = "trains one sample at a time (no full-batch gradient descent)"
_NO_SOFTMAX = "no softmax / cross-entropy output and no mini-batches"
_RMSPROP_ONLY = "cynn exposes only KANN's RMSprop mini-batch trainer (no plain SGD step)"


def w1(wl, threads=1):
    return [unsupported_case("genann (cynn)", f"genann {_PER_SAMPLE}", "float64"),
            unsupported_case("Tinn (cynn)", f"Tinn {_PER_SAMPLE}", "float32"),
            unsupported_case("KANN (cynn)", _RMSPROP_ONLY, "float32")]


def w2(wl, threads=1):
    from cynn import genann, tinn
    rate = 2.0 * wl.params["learning_rate"]          # MSE gradient is 2 (a - y)
    n_in, n_hidden, n_out = wl.sizes

    def engine(label, dtype, module, make):
        X = [np.ascontiguousarray(r, dtype=dtype) for r in wl.X]
        Y = [np.ascontiguousarray(r, dtype=dtype) for r in wl.y]

        def setup(units):
            module.seed(_SEED)
            return make()

        def run(net, units):
            for _ in range(units):
                net.train_batch(X, Y, rate)

        def check(net, units):
            pred = np.array([net.predict(x) for x in X])
            return {"final_loss": wl.loss(pred, wl.y)}
        return Case(label, np.dtype(dtype).name, setup, run, check,
                    note="own seeded init; one train_batch call per epoch")

    return [engine("genann (cynn)", np.float64, genann,
                   lambda: genann.GenannNetwork(n_in, 1, n_hidden, n_out)),
            engine("Tinn (cynn)", np.float32, tinn,
                   lambda: tinn.TinnNetwork(n_in, n_hidden, n_out)),
            unsupported_case("KANN (cynn)", _RMSPROP_ONLY, "float32")]


def _kann_case(wl, X, Y, sizes, lr, batch, threads, check=None, note=""):
    from cynn import kann

    def setup(units):
        kann.set_seed(_SEED)
        net = kann.KannNeuralNetwork.mlp(sizes[0], list(sizes[1:-1]), sizes[-1],
                                         kann.COST_MULTI_CROSS_ENTROPY)
        if threads > 1:
            net.enable_multithreading(threads, batch)
        return net

    def run(net, units):
        cache = None
        if wl.id == "W4":          # W4: one epoch over the first `units` samples
            net.train_single_epoch(X[:units], Y[:units], lr, batch, cache)
            return
        for _ in range(units):
            cache = net.train_single_epoch(X, Y, lr, batch, cache)[3]
    return Case("KANN (cynn)", "float32", setup, run, check, threads=threads, note=note)


def w3(wl, threads=1):
    Xtr, ytr, Xte, yte = wl.data
    p = wl.params
    X = np.ascontiguousarray(Xtr, dtype=np.float32)
    Y = np.zeros((len(ytr), wl.sizes[-1]), dtype=np.float32)
    Y[np.arange(len(ytr)), ytr] = 1
    Xt = np.ascontiguousarray(Xte, dtype=np.float32)

    def check(net, units):
        pred = [int(np.argmax(net.apply(x))) for x in Xt]
        return {"accuracy": wl.accuracy(pred, yte)}
    return [unsupported_case("genann (cynn)", _NO_SOFTMAX, "float64"),
            unsupported_case("Tinn (cynn)", _NO_SOFTMAX, "float32"),
            _kann_case(wl, X, Y, wl.sizes, p["learning_rate"], p["batch_size"], threads,
                       check, note="RMSprop lr 1e-3 (no Adam in cynn's KANN)")]


def w4(wl, threads=1):
    p = wl.params
    Y = np.zeros((len(wl.y), wl.sizes[-1]), dtype=np.float32)
    Y[np.arange(len(wl.y)), wl.y] = 1
    rows = [] if threads > 1 else [unsupported_case("genann (cynn)", _NO_SOFTMAX, "float64"),
                                   unsupported_case("Tinn (cynn)", _NO_SOFTMAX, "float32")]
    rows.append(_kann_case(wl, wl.X32, Y, wl.sizes, 1e-3, p["batch_size"], threads,
                           note="RMSprop lr 1e-3 instead of SGD; shuffled; "
                                "kann_mt for threads > 1"))
    return rows

