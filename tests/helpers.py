"""Shared test utilities: random problems, exact-bits comparisons, a missing extra."""
import os
import subprocess
import sys
import threading

import numpy as np

import cyneuron as cn

HIDDEN = ["sigmoid", "tanh", "relu", ("leaky_relu", 0.1), "identity", "softplus", "silu"]
OUTPUT = ["sigmoid", "tanh", "relu", ("leaky_relu", 0.03), "identity", "softmax", "softplus", "silu"]
DTYPES = ["float64", "float32"]


def bits(x):
    """Exact bytes of an array (or a list of (W, b) pairs).

    Every non-NaN value keeps its exact bits (signed zeros included); NaNs are
    canonicalised, because a NaN's sign and payload depend on which operand
    the hardware propagates and carry no numerical meaning. NaNs must still
    appear in the same places.
    """
    if isinstance(x, list):
        return b"".join(bits(W) + bits(b) for W, b in x)
    a = np.array(x, copy=True)
    if a.dtype.kind == "f":
        a[np.isnan(a)] = np.nan
    return np.ascontiguousarray(a).tobytes()


def random_problem(seed, dtype, max_layers=4, max_width=8, max_batch=16, wide=False):
    """A random architecture, activations, loss, batch and targets."""
    rng = np.random.default_rng(seed)
    n_layers = int(rng.integers(1, max_layers + 1))
    top = 40 if wide else max_width
    sizes = [int(rng.integers(1, top + 1)) for _ in range(n_layers + 1)]
    acts = [HIDDEN[int(rng.integers(len(HIDDEN)))] for _ in range(n_layers - 1)]
    out = OUTPUT[int(rng.integers(len(OUTPUT)))]
    acts.append(out)
    if out == "softmax":
        sizes[-1] = max(2, sizes[-1])
    loss = ["mse", "sse"][int(rng.integers(2))]
    n = int(rng.integers(1, max_batch + 1))
    X = rng.standard_normal((n, sizes[0])) * rng.uniform(0.5, 3)
    if out == "softmax":
        Y = np.eye(sizes[-1])[rng.integers(sizes[-1], size=n)]
    else:
        Y = rng.random((n, sizes[-1]))
    init = ["uniform", "xavier", "he"][int(rng.integers(3))]
    return dict(sizes=sizes, acts=acts, loss=loss, X=X.astype(dtype), Y=Y.astype(dtype),
                init=init, seed=seed, dtype=dtype)


def make_pair(p):
    """The same network twice: compiled core and reference."""
    kw = dict(activation=p["acts"], loss=p["loss"], seed=p["seed"], dtype=p["dtype"],
              init=p["init"])
    return (cn.Network(p["sizes"], backend="cython", **kw),
            cn.Network(p["sizes"], backend="numpy", **kw))


def fit_outcome(net, X, Y, **fit_kw):
    """What a fit did, comparable across backends: the loss history's bits, or,
    if it diverged, the error message (and the weights must be unchanged)."""
    before = bits(net.get_weights())
    state = net._opt_state.tobytes()
    try:
        with np.errstate(all="ignore"):
            hist = net.fit(X, Y, **fit_kw)
    except cn.DivergenceError as exc:
        assert bits(net.get_weights()) == before and net._opt_state.tobytes() == state
        return ("diverged", str(exc))
    return ("trained", bits(np.asarray(hist["loss"], dtype=np.float64)))


def without_module(module, code):
    """Run `code` in a fresh interpreter in which ``import <module>`` fails; its stdout.

    How the tests of an optional feature see what a user without the extra sees.
    """
    prelude = f"import sys; sys.modules[{module!r}] = None\n"
    proc = subprocess.run([sys.executable, "-c", prelude + code], capture_output=True,
                          text=True, env=dict(os.environ))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def outputs_seen_during_fit(net, probe, X, y, n_readers=2, **fit_kw):
    """(bits before, set of bits two reader threads saw, bits after) of
    net.feedforward(probe) while another thread fits net on (X, y)."""
    before = bits(net.feedforward(probe))
    seen, stop = [], threading.Event()

    def reader():
        while not stop.is_set():
            seen.append(bits(net.feedforward(probe)))
    threads = [threading.Thread(target=reader) for _ in range(n_readers)]
    for t in threads:
        t.start()
    try:
        net.fit(X, y, **fit_kw)
    finally:
        stop.set()
        for t in threads:
            t.join()
    return before, set(seen), bits(net.feedforward(probe))
