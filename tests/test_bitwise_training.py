"""Oracle bitwise: whole fits (Network.fit, both backends, and cyneuron.reference) agree bit for bit.

The product activation x loss x optimizer x batch mode x dtype, plus
dropout, L1/L2, clipping, schedules, sample/class weights, validation and
early stopping: every loss history, weight, optimizer state and prediction
is compared with ``tobytes()``.
"""
import itertools

import numpy as np
import pytest
from helpers import bits, fit_outcome

import cyneuron as cn

pytestmark = pytest.mark.bitwise

# (hidden activation, output activation, loss)
PAIRS = [
    ("sigmoid", "sigmoid", "mse"), ("tanh", "identity", "sse"), ("relu", "tanh", "mse"),
    (("leaky_relu", 0.1), "relu", "sse"), ("tanh", "softmax", "mse"),
    ("relu", "sigmoid", "binary_crossentropy"), ("tanh", "softmax", "categorical_crossentropy"),
    ("identity", "softmax", "categorical_crossentropy"),
    (("leaky_relu", 0.05), "sigmoid", "binary_crossentropy"),
]
OPTIMIZERS = [("sgd", None), ("momentum", None), ("momentum", {"nesterov": True}),
              ("rmsprop", None), ("adam", None)]
BATCHES = [None, 1, 5]
LRS = {"sgd": 0.1, "momentum": 0.05, "rmsprop": 0.01, "adam": 0.01}


def problem(seed, out_act, loss, dtype, n=13):
    rng = np.random.default_rng(seed)
    n_out = 3 if out_act == "softmax" else (1 if loss == "binary_crossentropy" else 2)
    X = rng.standard_normal((n, 4)).astype(dtype)
    if loss == "categorical_crossentropy":
        y = rng.integers(0, n_out, n)                       # class indices
    elif loss == "binary_crossentropy" or out_act == "softmax":
        y = rng.integers(0, 2, (n, n_out)).astype(dtype)
        if out_act == "softmax":
            y = np.eye(n_out, dtype=dtype)[rng.integers(0, n_out, n)]
    else:
        y = rng.random((n, n_out)).astype(dtype)
    return X, y, n_out


def pair(n_out, hidden, out_act, loss, dtype, seed, **kw):
    args = dict(activation=hidden, output_activation=out_act, loss=loss, dtype=dtype,
                seed=seed, init="xavier", **kw)
    return (cn.Network([4, 6, 5, n_out], backend="cython", **args),
            cn.Network([4, 6, 5, n_out], backend="numpy", **args))


def assert_same_fit(fast, slow, X, y, **fit_kw):
    """Both backends train to the same bits (or diverge in the same epoch,
    leaving the same unchanged weights: then None)."""
    try:
        with np.errstate(all="ignore"):
            hf = fast.fit(X, y, **fit_kw)
    except cn.DivergenceError:
        assert fit_outcome(slow, X, y, **fit_kw)[0] == "diverged"
        assert bits(fast.get_weights()) == bits(slow.get_weights())
        return None
    with np.errstate(all="ignore"):
        hs = slow.fit(X, y, **fit_kw)
    assert hf.history.keys() == hs.history.keys()
    for k in hf.history:
        assert bits(np.asarray(hf[k])) == bits(np.asarray(hs[k])), k
    assert bits(fast.get_weights()) == bits(slow.get_weights())
    assert bits(fast.state.opt_state) == bits(slow.state.opt_state)
    assert fast.state.opt_scalars.tobytes() == slow.state.opt_scalars.tobytes()
    assert bits(fast.feedforward(X)) == bits(slow.feedforward(X))
    assert fast.rng.bit_generator.state == slow.rng.bit_generator.state
    return hf


CASES = list(itertools.product(range(len(PAIRS)), range(len(OPTIMIZERS)), BATCHES,
                               ["float64", "float32"]))


@pytest.mark.parametrize("pi,oi,batch,dtype", CASES)
def test_product(pi, oi, batch, dtype):
    hidden, out_act, loss = PAIRS[pi]
    opt, params = OPTIMIZERS[oi]
    seed = 100 * pi + 10 * oi + (batch or 0)
    X, y, n_out = problem(seed, out_act, loss, dtype)
    fast, slow = pair(n_out, hidden, out_act, loss, dtype, seed)
    h = assert_same_fit(fast, slow, X, y, epochs=25, learning_rate=LRS[opt], batch_size=batch,
                        optimizer=opt, optimizer_params=params)
    assert h is None or len(h["loss"]) == 25


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("seed", range(4))
def test_regularisation_dropout_clipping(seed, dtype):
    hidden, out_act, loss = PAIRS[seed % len(PAIRS)]
    X, y, n_out = problem(seed, out_act, loss, dtype, n=17)
    fast, slow = pair(n_out, hidden, out_act, loss, dtype, seed, l1=1e-3, l2=1e-2,
                      dropout=[0.3, 0.1])
    assert_same_fit(fast, slow, X, y, epochs=12, learning_rate=0.05, batch_size=4,
                    optimizer="adam", clipnorm=0.5)
    # training continues from the same optimizer state, still identical
    assert_same_fit(fast, slow, X, y, epochs=3, learning_rate=0.05, batch_size=4,
                    optimizer="adam", clipnorm=0.5)
    assert fast.state.opt_scalars[0] == 15 * 5


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("schedule", ["step", "exponential", "invscaling",
                                      cn.schedules.StepDecay(0.5, 3)])
def test_schedules(schedule, dtype):
    X, y, n_out = problem(3, "sigmoid", "mse", dtype)
    fast, slow = pair(n_out, "tanh", "sigmoid", "mse", dtype, 3)
    assert_same_fit(fast, slow, X, y, epochs=10, learning_rate=0.3, batch_size=3,
                    optimizer="momentum", lr_schedule=schedule)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_weights_validation_early_stopping(dtype):
    X, y, n_out = problem(9, "softmax", "categorical_crossentropy", dtype, n=40)
    fast, slow = pair(n_out, "relu", "softmax", "categorical_crossentropy", dtype, 9)
    sw = np.random.default_rng(1).random(40)
    cbs = lambda: [cn.EarlyStopping(monitor="val_loss", patience=2,  # noqa: E731
                                    restore_best_weights=True)]
    kw = dict(epochs=60, learning_rate=0.05, batch_size=8, optimizer="rmsprop",
              validation_split=0.25, sample_weight=sw, class_weight={0: 2.0, 2: 0.5})
    with np.errstate(all="ignore"):
        hf = fast.fit(X, y, callbacks=cbs(), **kw)
        hs = slow.fit(X, y, callbacks=cbs(), **kw)
    assert hf.history.keys() == hs.history.keys()
    for k in hf.history:
        assert bits(np.asarray(hf[k])) == bits(np.asarray(hs[k])), k
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(hf.history)
    assert bits(fast.get_weights()) == bits(slow.get_weights())


def test_per_sample_sgd_matches_train_step_loop():
    """batch_size=1 without shuffling is exactly one train_step per sample in order."""
    X = np.array([[-2, -1], [25, 6], [17, 4], [-15, -6]], dtype=float)
    y = np.array([1, 0, 0, 1], dtype=float)
    a = cn.Network([2, 2, 1], seed=0)
    b = cn.Network([2, 2, 1], seed=0)
    a.fit(X, y, epochs=30, learning_rate=0.1, batch_size=1, shuffle=False)
    for _ in range(30):
        for i in range(4):
            b.train_step(X[i], y[i:i + 1], 0.1)
    assert bits(a.get_weights()) == bits(b.get_weights())


def test_full_batch_fit_matches_reference_fit():
    """fit(batch_size=None) is the tutorials' full-batch gradient descent."""
    from cyneuron import reference as ref
    X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1], [0, 0, 1]], dtype=float)
    y = np.array([[0], [1], [1], [0], [0]], dtype=float)
    net = cn.Network([3, 4, 1], loss="sse", seed=1)
    w0 = net.get_weights()
    h = net.fit(X, y, epochs=500, learning_rate=1.0)
    w_ref, losses = ref.fit(w0, net.activations, net.loss, X, y, 500, 1.0)
    assert bits(net.get_weights()) == bits(w_ref)
    assert np.asarray(h["loss"]).tobytes() == np.asarray(losses, dtype=float).tobytes()
