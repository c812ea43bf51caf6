"""Oracle golden digests: numerics="portable" (cyneuron._portable, the core, the reference) gives
the same bits on every machine.

Each case trains a small network from data built with exact arithmetic
(integers scaled by powers of two, so that no transcendental function of the
platform enters), with every hidden activation, every loss, every optimizer,
both dtypes, and full-batch, mini-batch and per-sample updates. The SHA-256
digests of the trained weights (``Network.digest()``) were computed once and
are committed below: every CI cell (NumPy 1.26 and 2.x, NumPy's SIMD dispatch
lowered, gcc and clang, Python 3.10-3.13) and the cibuildwheel test command
on other platforms must reproduce them exactly. ``python
tests/test_golden_portable.py`` prints them again (for a deliberate change of
the portable functions, which must then say so in CHANGELOG.md).
"""
import json
import os
import sys

import numpy as np
import pytest

import cyneuron as cn
from cyneuron import _core as core

# run in every CI cell, the dispatch-level and clang cells included
pytestmark = pytest.mark.bitwise

HIDDEN = ["sigmoid", "tanh", "relu", "leaky_relu", "identity", "softplus", "silu"]
# loss -> output activation
LOSSES = {"mse": "tanh", "sse": "sigmoid", "binary_crossentropy": "sigmoid",
          "categorical_crossentropy": "softmax"}
OPTIMIZERS = ["sgd", "momentum", "nesterov", "rmsprop", "adam"]
BATCHES = {"full": None, "mini": 5, "per-sample": 1}


def cases():
    """(name, kwargs for Network, fit kwargs, data seed): 56 trainings."""
    out = []
    i = 0
    for hidden in HIDDEN:
        for loss, output in LOSSES.items():
            for dtype in ("float64", "float32"):
                opt = OPTIMIZERS[i % len(OPTIMIZERS)]
                batch = list(BATCHES)[i % len(BATCHES)]
                name = f"{hidden}-{loss}-{opt}-{batch}-{dtype}"
                net = dict(layer_sizes=[4, 6, 5, 3], activation=[hidden, hidden, output],
                           loss=loss, seed=i, dtype=dtype, numerics="portable",
                           dropout=0.25 if i % 7 == 3 else 0.0)
                lr = {"sgd": 0.5, "momentum": 0.2, "nesterov": 0.2, "rmsprop": 0.01,
                      "adam": 0.02}[opt]
                fit = dict(epochs=4, learning_rate=lr, batch_size=BATCHES[batch],
                           optimizer=opt, shuffle=batch != "full")
                out.append((name, net, fit, i))
                i += 1
    return out


def data(seed, loss, dtype):
    """Inputs and targets from integers scaled by powers of two: exact everywhere."""
    rng = np.random.default_rng(seed)
    X = (rng.integers(-96, 97, size=(17, 4)) / 32.0).astype(dtype)
    if loss == "categorical_crossentropy":
        Y = np.eye(3, dtype=dtype)[rng.integers(0, 3, size=17)]
    elif loss == "binary_crossentropy":
        Y = rng.integers(0, 2, size=(17, 3)).astype(dtype)
    else:
        Y = (rng.integers(-64, 65, size=(17, 3)) / 128.0).astype(dtype)
    return X, Y


def train(net_kw, fit_kw, seed, backend="cython", n_threads=1):
    X, Y = data(seed, net_kw["loss"], net_kw["dtype"])
    net = cn.Network(**net_kw, backend=backend, n_threads=n_threads)
    net.fit(X, Y, **fit_kw)
    return net.digest()


GOLDEN_FILE = os.path.join(os.path.dirname(__file__), "data", "portable_golden.json")


def golden():
    with open(GOLDEN_FILE) as f:
        return json.load(f)


CASES = cases()


def test_the_cases_cover_every_name():
    names = [c[0] for c in CASES]
    assert len(set(names)) == len(names) == 56
    for what in (HIDDEN, LOSSES, OPTIMIZERS, BATCHES, ("float64", "float32")):
        for w in what:
            assert any(f"{w}-" in n + "-" for n in names), w
    assert set(golden()) == set(names)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_golden_digest(case):
    name, net_kw, fit_kw, seed = case
    assert train(net_kw, fit_kw, seed) == golden()[name]


# the reference, every kernel variant and two threads give the same digests
SUBSET = CASES[::5]


@pytest.mark.parametrize("case", SUBSET, ids=[c[0] for c in SUBSET])
def test_golden_digest_of_the_reference(case):
    name, net_kw, fit_kw, seed = case
    assert train(net_kw, fit_kw, seed, backend="numpy") == golden()[name]


@pytest.mark.parametrize("variant", [v for v, ok in core.kernel_variants().items() if ok])
def test_golden_digest_for_every_kernel_variant_and_two_threads(variant):
    try:
        core.set_kernel_variant(variant)
        for name, net_kw, fit_kw, seed in SUBSET:
            assert train(net_kw, fit_kw, seed, n_threads=2) == golden()[name], name
    finally:
        core.set_kernel_variant(None)


def test_portable_differs_from_numpy_mode_only_in_the_transcendentals():
    # identity/relu nets with mse never call exp/tanh/log: both modes agree
    kw = dict(layer_sizes=[4, 6, 3], activation=["relu", "identity"], loss="mse", seed=3)
    X, Y = data(3, "mse", "float64")
    a = cn.Network(**kw, numerics="numpy")
    b = cn.Network(**kw, numerics="portable")
    a.fit(X, Y, epochs=3, learning_rate=0.1, batch_size=4)
    b.fit(X, Y, epochs=3, learning_rate=0.1, batch_size=4)
    weights = [np.concatenate([W.ravel(), c]).tobytes() for W, c in a.get_weights()]
    assert weights == [np.concatenate([W.ravel(), c]).tobytes() for W, c in b.get_weights()]
    # ... while the digest says which functions the weights go with
    assert a.digest() != b.digest()
    # a sigmoid net does call them; the two modes are then different functions
    kw["activation"] = ["sigmoid", "sigmoid"]
    a = cn.Network(**kw, numerics="numpy")
    b = cn.Network(**kw, numerics="portable")
    Xg = np.linspace(-30, 30, 400).reshape(100, 4)
    assert a.feedforward(Xg).tobytes() != b.feedforward(Xg).tobytes()


if __name__ == "__main__":
    out = {name: train(net_kw, fit_kw, seed) for name, net_kw, fit_kw, seed in CASES}
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
