"""The training toolkit: closed forms, calculus, dropout, metrics, bad hyperparameters."""
import math

import numpy as np
import pytest
from helpers import bits
from test_gradcheck import assert_close, numeric_gradients

import cyneuron as cn
from cyneuron import reference as ref

# --- optimizers against their closed forms on a hand-worked example ----------------
# One identity neuron y = w*x + b, loss sse on the sample (x=2, y=0) from w=1, b=0:
# a = 2, dL/dw = a*x = 4, dL/db = a = 2.

def one_neuron(backend):
    net = cn.Network([1, 1], activation="identity", loss="sse", backend=backend)
    net.set_weights([(np.array([[1.0]]), np.array([0.0]))])
    return net


X1, Y1 = np.array([[2.0]]), np.array([[0.0]])


@pytest.mark.parametrize("backend", ["cython", "numpy"])
def test_sgd_closed_form(backend):
    net = one_neuron(backend)
    net.fit(X1, Y1, epochs=1, learning_rate=0.1)
    (W, b), = net.get_weights()
    assert W[0, 0] == 1 - 0.1 * 4 and b[0] == -0.1 * 2


@pytest.mark.parametrize("backend", ["cython", "numpy"])
@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum_closed_form(backend, nesterov):
    net = one_neuron(backend)
    net.fit(X1, Y1, epochs=2, learning_rate=0.1, optimizer="momentum",
            optimizer_params={"momentum": 0.5, "nesterov": nesterov})
    # step 1: g = 4, v = -0.4; step 2 from w1: a = 2*w1, g = 4*w1
    v1 = -0.1 * 4
    w1 = 1 + 0.5 * v1 - 0.1 * 4 if nesterov else 1 + v1
    # b moves too, so the second w-gradient is a * x with a = 2 * w1 + b1
    b1 = (0 + 0.5 * (-0.1 * 2) - 0.1 * 2) if nesterov else -0.1 * 2
    g2 = (2 * w1 + b1) * 2
    v2 = 0.5 * v1 - 0.1 * g2
    w2 = w1 + 0.5 * v2 - 0.1 * g2 if nesterov else w1 + v2
    assert net.get_weights()[0][0][0, 0] == pytest.approx(w2, rel=1e-15)


@pytest.mark.parametrize("backend", ["cython", "numpy"])
def test_rmsprop_closed_form(backend):
    net = one_neuron(backend)
    net.fit(X1, Y1, epochs=1, learning_rate=0.01, optimizer="rmsprop",
            optimizer_params={"rho": 0.9, "epsilon": 1e-8})
    s = 0.1 * 16
    assert net.get_weights()[0][0][0, 0] == pytest.approx(1 - 0.01 * 4 / (math.sqrt(s) + 1e-8),
                                                         rel=1e-15)


@pytest.mark.parametrize("backend", ["cython", "numpy"])
def test_adam_closed_form(backend):
    """The first Adam step moves every parameter by about lr * sign(g)."""
    net = one_neuron(backend)
    net.fit(X1, Y1, epochs=1, learning_rate=0.01, optimizer="adam")
    (W, b), = net.get_weights()
    m, v = 0.1 * 4, 0.001 * 16
    alpha = 0.01 * math.sqrt(1 - 0.999) / (1 - 0.9)
    assert W[0, 0] == pytest.approx(1 - alpha * m / (math.sqrt(v) + 1e-8), rel=1e-15)
    assert W[0, 0] == pytest.approx(0.99, abs=1e-7)
    assert b[0] == pytest.approx(-0.01, abs=1e-7)
    assert net.state.opt_scalars[0] == 1


def test_optimizer_state_persists_and_resets():
    net = one_neuron("cython")
    net.fit(X1, Y1, epochs=3, learning_rate=0.01, optimizer="adam")
    assert net.state.opt_scalars[0] == 3
    net.fit(X1, Y1, epochs=2, learning_rate=0.01, optimizer="adam")
    assert net.state.opt_scalars[0] == 5
    net.fit(X1, Y1, epochs=1, learning_rate=0.01, optimizer="rmsprop")
    assert net.optimizer.name == "rmsprop" and net.state.opt_scalars[0] == 0
    net.reset_optimizer()
    assert net.optimizer is None and not net.state.opt_state.any()


# --- calculus: finite differences with penalties and the cross-entropy pairs --------

@pytest.mark.parametrize("backend", ["cython", "numpy"])
@pytest.mark.parametrize("loss,out,n_out", [("binary_crossentropy", "sigmoid", 1),
                                            ("binary_crossentropy", "sigmoid", 3),
                                            ("categorical_crossentropy", "softmax", 4),
                                            ("mse", "tanh", 2), ("sse", "softmax", 3)])
@pytest.mark.parametrize("l1,l2", [(0.0, 0.0), (0.01, 0.0), (0.0, 0.05), (0.02, 0.03)])
def test_gradients_with_penalties(backend, loss, out, n_out, l1, l2):
    rng = np.random.default_rng(n_out)
    net = cn.Network([3, 5, n_out], activation="tanh", output_activation=out, loss=loss,
                     l1=l1, l2=l2, seed=1, backend=backend, init="xavier")
    X = rng.standard_normal((7, 3))
    if loss == "categorical_crossentropy":
        Y = np.eye(n_out)[rng.integers(0, n_out, 7)]
    else:
        Y = rng.integers(0, 2, (7, n_out)).astype(float)
    assert_close(net.gradients(X, Y), numeric_gradients(net, X, Y))


def test_bce_is_finite_at_saturated_outputs():
    net = cn.Network([1, 1], activation="sigmoid", loss="binary_crossentropy")
    net.set_weights([(np.array([[1000.0]]), np.array([0.0]))])
    X, Y = np.array([[1.0], [-1.0]]), np.array([[0.0], [1.0]])    # confidently wrong
    value = net.evaluate(X, Y)["loss"]
    assert np.isfinite(value) and value == pytest.approx(-math.log(1e-7), rel=1e-6)
    (dW, db), = net.gradients(X, Y)
    assert np.all(np.isfinite(dW)) and dW[0, 0] == pytest.approx(1.0)


# --- dropout ----------------------------------------------------------------------------

def test_dropout_masks_equal_in_both_backends_and_off_at_inference():
    X = np.random.default_rng(0).standard_normal((20, 4))
    y = np.random.default_rng(1).random((20, 1))
    nets = [cn.Network([4, 16, 16, 1], activation="relu", output_activation="sigmoid",
                       dropout=0.5, seed=7, backend=b) for b in ("cython", "numpy")]
    before = nets[0].feedforward(X)
    assert bits(before) == bits(nets[0].feedforward(X))          # inference is deterministic
    for net in nets:
        net.fit(X, y, epochs=5, learning_rate=0.1, batch_size=6)
    assert bits(nets[0].get_weights()) == bits(nets[1].get_weights())
    assert nets[0].rng.bit_generator.state == nets[1].rng.bit_generator.state
    # the masks really were drawn: the same net without dropout ends elsewhere
    plain = cn.Network([4, 16, 16, 1], activation="relu", output_activation="sigmoid",
                       seed=7)
    plain.fit(X, y, epochs=5, learning_rate=0.1, batch_size=6)
    assert bits(plain.get_weights()) != bits(nets[0].get_weights())


def test_dropout_mask_statistics():
    rng = np.random.default_rng(0)
    m = ref.dropout_mask(rng, (200, 500), 0.3, np.float64)
    assert set(np.unique(m)) == {0.0, 1 / 0.7}
    assert abs((m == 0).mean() - 0.3) < 0.01
    assert abs(m.mean() - 1.0) < 0.02          # inverted dropout keeps the expectation


# --- metrics ------------------------------------------------------------------------------

def test_metrics_against_hand_counts():
    y_true = np.array([0, 0, 1, 1, 1, 2])
    y_pred = np.array([0, 1, 1, 1, 2, 2])
    cm = cn.metrics.confusion_matrix(y_true, y_pred, 3)
    assert cm.tolist() == [[1, 1, 0], [0, 2, 1], [0, 0, 1]]
    assert cn.metrics.accuracy(y_true, y_pred) == 4 / 6
    p, r, f = cn.metrics.precision_recall_f1(y_true, y_pred, "macro", 3)
    assert p == pytest.approx((1 + 2 / 3 + 1 / 2) / 3)
    assert r == pytest.approx((1 / 2 + 2 / 3 + 1) / 3)
    pb, rb, fb = cn.metrics.precision_recall_f1([0, 1, 1, 0], [1, 1, 0, 0], "binary")
    assert (pb, rb, fb) == (0.5, 0.5, 0.5)


def test_evaluate_classifier_reports_metrics():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 2))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    net = cn.Network([2, 8, 1], activation="tanh", output_activation="sigmoid",
                     loss="binary_crossentropy", seed=0)
    hist = net.fit(X, y, epochs=200, learning_rate=0.5)
    ev = net.evaluate(X, y)
    assert {"loss", "accuracy", "precision", "recall", "f1", "confusion_matrix"} <= set(ev)
    assert ev["accuracy"] > 0.9 and ev["confusion_matrix"].sum() == 60
    assert hist["accuracy"][-1] > 0.9
    assert np.array_equal(net.predict_classes(X), cn.metrics.to_labels(net.feedforward(X)))


# --- fit behaviour ------------------------------------------------------------------------

def test_early_stopping_restores_best_weights():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((40, 3)), rng.random((40, 1))
    Xv, yv = rng.standard_normal((10, 3)), rng.random((10, 1))
    net = cn.Network([3, 32, 1], activation="relu", output_activation="identity", seed=0)
    es = cn.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
    hist = net.fit(X, y, epochs=500, learning_rate=0.05, batch_size=4,
                   validation_data=(Xv, yv), callbacks=[es])
    assert len(hist) < 500 and es.stopped_epoch == len(hist) - 1
    best = int(np.argmin(hist["val_loss"]))
    assert es.best_epoch == best
    assert net.evaluate(Xv, yv)["loss"] == hist["val_loss"][best]


def test_callback_can_stop_training():
    net = cn.Network([2, 3, 1], seed=0)
    seen = []
    hist = net.fit(np.ones((4, 2)), np.zeros(4), epochs=100,
                   callbacks=[lambda e, logs: seen.append(logs["loss"]) or e == 4])
    assert len(hist) == 5 and len(seen) == 5


def test_validation_split_takes_the_tail():
    X = np.arange(20, dtype=float).reshape(10, 2)
    y = np.zeros(10)
    a = cn.Network([2, 1], seed=0)
    b = cn.Network([2, 1], seed=0)
    ha = a.fit(X, y, epochs=3, validation_split=0.3)
    hb = b.fit(X[:7], y[:7], epochs=3, validation_data=(X[7:], y[7:]))
    assert ha.history == hb.history


@pytest.mark.parametrize("kwargs,err,msg", [
    (dict(dropout=1.0), ValueError, "dropout must be < 1"),
    (dict(dropout=-0.1), ValueError, "dropout must be >= 0"),
    (dict(dropout=[0.1, 0.2]), ValueError, "1 hidden layer"),
    (dict(l2=-1), ValueError, "l2 must be >= 0"),
    (dict(l1=float("inf")), ValueError, "l1 must be finite"),
    (dict(loss="categorical_crossentropy"), ValueError, "needs a softmax output layer"),
    (dict(loss="binary_crossentropy", output_activation="softmax"), ValueError,
     "needs a sigmoid output"),
    (dict(activation=["softmax", "softmax"]), ValueError, "only be the output activation"),
])
def test_bad_model_hyperparameters(kwargs, err, msg):
    with pytest.raises(err, match=msg):
        cn.Network([3, 4, 2], **kwargs)


@pytest.mark.parametrize("kwargs,err,msg", [
    (dict(batch_size=0), ValueError, "batch_size must be >= 1"),
    (dict(optimizer="adam", optimizer_params={"beta_1": 1.0}), ValueError, "beta_1 must be in"),
    (dict(optimizer="adam", optimizer_params={"gamma": 1.0}), ValueError, "no hyperparameter"),
    (dict(optimizer="momentum", optimizer_params={"momentum": -0.1}), ValueError, "momentum"),
    (dict(clipnorm=0), ValueError, "clipnorm must be > 0"),
    (dict(lr_schedule="cosine"), ValueError, "unknown lr_schedule"),
    (dict(validation_split=1.0), ValueError, "validation_split must be < 1"),
    (dict(validation_split=0.99), ValueError, "leaves no"),
    (dict(validation_data=np.zeros(3)), TypeError, "pair"),
    (dict(sample_weight=np.ones(3)), ValueError, "sample_weight has shape"),
    (dict(sample_weight=-np.ones(6)), ValueError, ">= 0"),
    (dict(class_weight={0: 1.0}), ValueError, "classification loss"),
    (dict(callbacks=[3]), TypeError, "callbacks"),
    (dict(shuffle="yes"), TypeError, "shuffle"),
])
def test_bad_fit_arguments_leave_model_unchanged(kwargs, err, msg):
    net = cn.Network([3, 4, 2], seed=0)
    before = bits(net.get_weights())
    with pytest.raises(err, match=msg):
        net.fit(np.ones((6, 3)), np.zeros((6, 2)), epochs=2, **kwargs)
    assert bits(net.get_weights()) == before
    assert net.optimizer is None


def test_class_weight_bad_key():
    net = cn.Network([3, 2], activation="softmax", loss="categorical_crossentropy")
    with pytest.raises(ValueError, match="class_weight key 5"):
        net.fit(np.ones((4, 3)), [0, 1, 0, 1], class_weight={5: 2.0})
