"""FANN 2.2 (double precision, ``libdoublefann.so``) through ctypes.

Install: ``apt-get update && apt-get install -y libfann-dev``.

The whole training loop runs in C: ``fann_train_on_data(ann, data, epochs,
0, -1.0)`` trains for exactly ``epochs`` epochs (no reports; a desired error
of -1 is never reached).  W1 uses FANN_TRAIN_BATCH, W2 FANN_TRAIN_INCREMENTAL.
Both start from the workload's initial weights (set with fann_set_weight).

FANN's arithmetic is close to, not the same as, the workload's:
* batch training steps by ``learning_rate / num_data`` times the summed
  gradient, so W1 (loss "sse", lr 1, no averaging) uses FANN lr = 5;
* its per-sample error is ``y - a`` while W2's MSE gradient is ``2 (a - y)``,
  so W2 uses FANN lr = 2 * 0.1;
* it clips the activation to [0.01, 0.99] before ``a (1 - a)`` in the sigmoid
  derivative, and the error function is set to FANN_ERRORFUNC_LINEAR (the
  default, TANH, would reshape the error).
FANN has no softmax / cross-entropy, no mini-batches and no Adam, so W3 and
W4 are not run.
"""
import ctypes
import ctypes.util
import os

import numpy as np
from timing import Case, Unsupported

NAME = "FANN"
FANN_TRAIN_INCREMENTAL, FANN_TRAIN_BATCH = 0, 1
FANN_SIGMOID = 3
FANN_ERRORFUNC_LINEAR = 0

_lib = None
_CALLBACK = ctypes.CFUNCTYPE(None, ctypes.c_uint, ctypes.c_uint, ctypes.c_uint,
                             ctypes.POINTER(ctypes.c_double), ctypes.POINTER(ctypes.c_double))


def _find():
    path = ctypes.util.find_library("doublefann")
    for cand in ([path] if path else []) + ["libdoublefann.so.2", "libdoublefann.so"]:
        try:
            return ctypes.CDLL(cand), cand
        except OSError:
            continue
    return None, None


def _load():
    global _lib
    if _lib is not None:
        return _lib
    lib, _ = _find()
    if lib is None:
        raise OSError("libdoublefann.so not found (apt-get install libfann-dev)")
    P, U, F, D = ctypes.c_void_p, ctypes.c_uint, ctypes.c_float, ctypes.c_double
    sig = {
        "fann_create_standard_array": (P, [U, ctypes.POINTER(U)]),
        "fann_destroy": (None, [P]),
        "fann_run": (ctypes.POINTER(D), [P, ctypes.POINTER(D)]),
        "fann_set_weight": (None, [P, U, U, D]),
        "fann_set_activation_function_hidden": (None, [P, ctypes.c_int]),
        "fann_set_activation_function_output": (None, [P, ctypes.c_int]),
        "fann_set_activation_steepness_hidden": (None, [P, D]),
        "fann_set_activation_steepness_output": (None, [P, D]),
        "fann_set_training_algorithm": (None, [P, ctypes.c_int]),
        "fann_set_train_error_function": (None, [P, ctypes.c_int]),
        "fann_set_learning_rate": (None, [P, F]),
        "fann_set_learning_momentum": (None, [P, F]),
        "fann_create_train_from_callback": (P, [U, U, U, _CALLBACK]),
        "fann_destroy_train": (None, [P]),
        "fann_train_on_data": (None, [P, P, U, U, F]),
    }
    for name, (res, args) in sig.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = res, args
    _lib = lib
    return lib


def available():
    try:
        _load()
    except (OSError, AttributeError) as exc:
        return False, str(exc)
    return True, ""


def version():
    """The shared library's version (from its file name), e.g. "2.2.0"."""
    _load()
    with open("/proc/self/maps") as maps:
        for line in maps:
            if "libdoublefann" in line:
                return os.path.realpath(line.split()[-1]).rsplit(".so.", 1)[-1]
    return "unknown"


class _Net:
    """A FANN network and its training data, freed when garbage-collected."""

    def __init__(self, wl, algorithm, lr):
        lib = _load()
        sizes = (ctypes.c_uint * len(wl.sizes))(*wl.sizes)
        self.lib, self.ann = lib, lib.fann_create_standard_array(len(wl.sizes), sizes)
        lib.fann_set_activation_function_hidden(self.ann, FANN_SIGMOID)
        lib.fann_set_activation_function_output(self.ann, FANN_SIGMOID)
        lib.fann_set_activation_steepness_hidden(self.ann, 0.5)   # 1 / (1 + exp(-x))
        lib.fann_set_activation_steepness_output(self.ann, 0.5)
        lib.fann_set_training_algorithm(self.ann, algorithm)
        lib.fann_set_train_error_function(self.ann, FANN_ERRORFUNC_LINEAR)
        lib.fann_set_learning_rate(self.ann, lr)
        lib.fann_set_learning_momentum(self.ann, 0.0)
        # Neurons are numbered layer by layer; every layer but the output ends
        # with a bias neuron.
        first = np.cumsum([0] + [s + 1 for s in wl.sizes])
        for l, (W, b) in enumerate(wl.weights):
            k, m = W.shape
            for j in range(m):
                for i in range(k):
                    lib.fann_set_weight(self.ann, int(first[l] + i), int(first[l + 1] + j),
                                        float(W[i, j]))
                lib.fann_set_weight(self.ann, int(first[l] + k), int(first[l + 1] + j),
                                    float(b[j]))
        X, y = wl.X, wl.y

        def fill(i, n_in, n_out, inp, out):
            for a in range(n_in):
                inp[a] = X[i, a]
            for a in range(n_out):
                out[a] = y[i, a]
        self._cb = _CALLBACK(fill)
        self.data = lib.fann_create_train_from_callback(len(X), X.shape[1], y.shape[1], self._cb)

    def train(self, epochs):
        self.lib.fann_train_on_data(self.ann, self.data, epochs, 0, -1.0)

    def predict(self, X):
        out = []
        for row in np.ascontiguousarray(X, dtype=np.float64):
            r = self.lib.fann_run(self.ann, row.ctypes.data_as(ctypes.POINTER(ctypes.c_double)))
            out.append([r[j] for j in range(self.n_out)])
        return np.array(out)

    @property
    def n_out(self):
        return 1

    def __del__(self):
        if getattr(self, "ann", None):
            self.lib.fann_destroy_train(self.data)
            self.lib.fann_destroy(self.ann)
            self.ann = None


def _cases(wl, algorithm, lr, note):
    def setup(units):
        return _Net(wl, algorithm, lr)

    def run(net, units):
        net.train(units)

    def check(net, units):
        return {"final_loss": wl.loss(net.predict(wl.X), wl.y)}
    return [Case("FANN 2.2 (C loop)", "float64", setup, run, check, note=note)]


def w1(wl, threads=1):
    return _cases(wl, FANN_TRAIN_BATCH, 5.0 * wl.params["learning_rate"],
                  "FANN_TRAIN_BATCH, lr 5 = sse lr 1 (FANN averages); derivative clipped")


def w2(wl, threads=1):
    return _cases(wl, FANN_TRAIN_INCREMENTAL, 2.0 * wl.params["learning_rate"],
                  "FANN_TRAIN_INCREMENTAL, lr 0.2 = mse lr 0.1; derivative clipped")


def w3(wl, threads=1):
    raise Unsupported("FANN has no softmax/cross-entropy output, mini-batches or Adam")


def w4(wl, threads=1):
    raise Unsupported("FANN has no softmax/cross-entropy output or mini-batches")
