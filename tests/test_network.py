"""cyneuron.network: Network (and Neuron) as a user drives them.

Every rejected call raises a ValueError/TypeError that names the problem and
leaves the network byte-identical: weights, optimizer state (moments, step
count, beta powers), optimizer choice and Generator position. Also here:
divergence, the read/write guard, the optimizers' closed forms, dropout,
evaluate's metrics, reduction= and numerics=, the tutorials' printed numbers.

Oracles: hand-worked closed forms and the tutorials' numbers, finite
differences (the divisor of weighted_mean), exact bits between the backends
and against the NumPy reference (``tobytes()``), the model unchanged after a
refusal. The argument checks alone are tests/test_validation.py; the fast
path tests/test_network_fast_path.py; Ctrl-C tests/test_network_interrupt.py.
"""
import math

import numpy as np
import pytest
from helpers import bits, outputs_seen_during_fit

import cyneuron as cn


def state_of(net):
    return (bits(net.get_weights()), net.state.opt_state.tobytes(), net.state.opt_scalars.tobytes(),
            repr(net.optimizer), str(net.rng.bit_generator.state))


def trained(dtype="float64", backend="cython", **kw):
    """A small classifier after an Adam fit: it has optimizer state to lose."""
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((40, 4)), rng.integers(0, 3, 40)
    args = dict(activation="relu", output_activation="softmax",
                loss="categorical_crossentropy", seed=0, dtype=dtype, backend=backend)
    args.update(kw)
    net = cn.Network([4, 6, 3], **args)
    net.fit(X, y, epochs=3, batch_size=8, optimizer="adam")
    return net, X, y


# --- targets that do not fit the loss -----------------------------------------------------

@pytest.mark.parametrize("labels", [[1, 2], [-1, 1], [0, 3]])
def test_binary_crossentropy_rejects_labels_outside_0_1(labels):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((20, 3))
    y = np.array(labels)[rng.integers(0, 2, 20)].astype(float)
    net = cn.Network([3, 4, 1], activation="relu", output_activation="sigmoid",
                     loss="binary_crossentropy", seed=0)
    before = state_of(net)
    for call in (lambda: net.fit(X, y, epochs=2), lambda: net.evaluate(X, y),
                 lambda: net.gradients(X, y), lambda: net.train_step(X, y, 0.1)):
        with pytest.raises(ValueError, match=r"must lie in \[0, 1\].*MLPClassifier"):
            call()
    assert state_of(net) == before


def test_categorical_crossentropy_rejects_negative_rows():
    net, X, _ = trained()
    before = state_of(net)
    Y = np.eye(3)[np.arange(40) % 3] * -1.0
    with pytest.raises(ValueError, match=r"y must lie in \[0, 1\]"):
        net.fit(X, Y, epochs=1)
    with pytest.raises(ValueError, match=r"validation_data\[1\] must lie in \[0, 1\]"):
        net.fit(X, np.arange(40) % 3, epochs=1, validation_data=(X, Y))
    with pytest.raises(ValueError, match=r"validation_data\[0\] has 2 features"):
        net.fit(X, np.arange(40) % 3, epochs=1, validation_data=(X[:, :2], Y))
    assert state_of(net) == before


# --- divergence ---------------------------------------------------------------------------

@pytest.mark.parametrize("backend", ["cython", "numpy"])
@pytest.mark.parametrize("batch_size", [None, 4, 1])
def test_divergence_stops_and_keeps_the_model(backend, batch_size):
    rng = np.random.default_rng(2)
    X, y = rng.standard_normal((16, 3)), rng.standard_normal((16, 1)) * 10
    net = cn.Network([3, 8, 1], activation="relu", output_activation="identity",
                     seed=0, backend=backend)
    net.fit(X, y, epochs=2, optimizer="adam", batch_size=4)
    before = state_of(net)
    with np.errstate(all="ignore"):
        with pytest.raises(cn.DivergenceError, match=r"diverged in epoch \d+ of 50 .*lower "
                                                      r"learning_rate"):
            net.fit(X, y, epochs=50, learning_rate=1e6, batch_size=batch_size, optimizer="sgd")
    assert state_of(net) == before          # Adam and its state, as before the call
    assert isinstance(cn.DivergenceError("x"), ValueError)


def test_divergence_is_found_in_the_same_epoch_by_both_backends():
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((10, 2)), rng.standard_normal((10, 1))
    msgs = []
    for backend in ("cython", "numpy"):
        net = cn.Network([2, 5, 1], activation="relu", output_activation="identity", seed=1,
                         backend=backend)
        with np.errstate(all="ignore"), pytest.raises(cn.DivergenceError) as info:
            net.fit(X, y, epochs=500, learning_rate=3.0, batch_size=2, shuffle=False)
        msgs.append(str(info.value))
    assert msgs[0] == msgs[1]


def test_constant_loss_kept_for_the_same_targets_only():
    # fit asks for it every call (the runaway rule); the kept answer must be
    # the one for these targets' values, never a previous call's
    rng = np.random.default_rng(4)
    t = rng.normal(size=(6, 2))
    for loss, numerics in (("mse", "numpy"), ("sse", "numpy"), ("mse", "portable")):
        net = cn.Network([3, 2], loss=loss, activation="identity", numerics=numerics)
        for targets in (t, t * 3.0, t.copy(), t[:, ::-1].copy(), t.astype(np.float32)):
            fresh = cn.Network([3, 2], loss=loss, activation="identity", numerics=numerics)
            assert net.constant_loss(targets) == fresh.constant_loss(targets)
        big = rng.normal(size=(5000, 2))         # not kept: computed again, same value
        assert net.constant_loss(big) == cn.Network([3, 2], loss=loss,
                                                    numerics=numerics).constant_loss(big)
    held = t.copy()
    first = net.constant_loss(held)
    held *= 2.0                                  # the same array object, new values
    assert net.constant_loss(held) != first


# --- values finite in float64 but not in float32 ------------------------------------------

@pytest.mark.parametrize("call,msg", [
    (lambda n, X, y: n.train_step(X, y, 1e39), "learning_rate=1e\\+39 is too large for a "
                                                "float32"),
    (lambda n, X, y: n.fit(X, y, learning_rate=1e39), "learning_rate"),
    (lambda n, X, y: n.fit(X, y, lr_schedule=lambda e, lr: 1e39 if e == 2 else lr, epochs=4),
     "lr_schedule's learning rate for epoch 2"),
    (lambda n, X, y: n.fit(X, y, class_weight={1: 1e39}), r"class_weight\[1\]"),
    (lambda n, X, y: n.fit(X, y, optimizer="adam", optimizer_params={"epsilon": 1e39}),
     "epsilon"),
    (lambda n, X, y: n.fit(X, y, sample_weight=np.full(40, 1e39)), "sample_weight"),
])
def test_float32_overflowing_values_are_rejected(call, msg):
    net, X, y = trained(dtype="float32")
    before = state_of(net)
    with pytest.raises(ValueError, match=msg):
        call(net, X, y)
    assert state_of(net) == before


def test_float32_overflowing_hyperparameters_of_the_network():
    for kw, msg in [(dict(l2=1e39), "l2"), (dict(l1=1e39), "l1"),
                    (dict(activation=("leaky_relu", 1e39)), "leaky_relu slope")]:
        with pytest.raises(ValueError, match=msg):
            cn.Network([2, 3, 1], dtype="float32", **kw)
    net, X, y = trained()
    before = state_of(net)
    with pytest.raises(ValueError, match="overflows float64"):
        net.fit(X, y, sample_weight=np.full(40, 1e308), class_weight={0: 10.0})
    assert state_of(net) == before


# --- validation_split on sorted data ------------------------------------------------------

def test_validation_split_of_one_class_warns():
    rng = np.random.default_rng(4)
    X, y = rng.standard_normal((30, 3)), np.repeat([0, 1, 2], 10)     # sorted by class
    net = cn.Network([3, 4, 3], activation="relu", output_activation="softmax",
                     loss="categorical_crossentropy", seed=0)
    with pytest.warns(UserWarning, match="all of one class"):
        net.fit(X, y, epochs=1, validation_split=0.2)


# --- one loss for a data set --------------------------------------------------------------

@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "weighted_mean"])
def test_val_loss_is_evaluate_loss(reduction):
    rng = np.random.default_rng(5)
    X, y = rng.standard_normal((30, 3)), rng.integers(0, 2, 30)
    Xv, yv = rng.standard_normal((12, 3)), rng.integers(0, 2, 12)
    net = cn.Network([3, 4, 2], activation="relu", output_activation="softmax",
                     loss="categorical_crossentropy", seed=0, l2=0.1, l1=0.01,
                     reduction=reduction)
    h = net.fit(X, y, epochs=3, validation_data=(Xv, yv))
    assert h["val_loss"][-1] == net.evaluate(Xv, yv)["loss"]


# --- errors of the right kind -------------------------------------------------------------

@pytest.mark.parametrize("make,exc,msg", [
    (lambda: cn.Network([2, 1], l2=10 ** 400), ValueError, "l2 must be finite"),
    (lambda: cn.Network([2, 1]).feedforward([[10 ** 400, 1]]), ValueError, "X holds an integer"),
    (lambda: cn.Network([2, 1]).fit([[1, 2]], [1], learning_rate=10 ** 400), ValueError,
     "learning_rate"),
    (lambda: cn.Network([2, 1]).fit([[1, 2]], [1], epochs=2, lr_schedule=lambda e, lr: "abc"),
     TypeError, "lr_schedule must return a real number"),
    (lambda: cn.Network([2, 1]).fit([[1, 2]], [1], epochs=2, lr_schedule=lambda e, lr: 1j),
     TypeError, "lr_schedule"),
    (lambda: cn.Network([2, 1]).fit([[1, 2]], [1], epochs=2, lr_schedule=lambda e, lr: 1 / 0),
     ValueError, "lr_schedule raised ZeroDivisionError for epoch 0"),
    (lambda: cn.Network([2, 1]).set_weights({(1, 2)}), TypeError, "list of"),
    (lambda: cn.Network([2, 1]).set_weights({0: 1}), TypeError, "list of"),
    (lambda: cn.Network([2, 1]).set_weights([{0: 1}]), TypeError, r"weights\[0\]"),
    (lambda: cn.Network([2, 1], dtype=np.dtype(">f8")), ValueError, "native byte order"),
    (lambda: cn.Network({3, 1}), TypeError, "layer_sizes must be a list"),
    (lambda: cn.Network([10 ** 5, 10 ** 5]), ValueError, "layer_sizes"),
    (lambda: cn.Network([2 ** 62, 4]), ValueError, r"layer_sizes\[0\]"),
])
def test_errors_name_the_argument(make, exc, msg):
    with pytest.raises(exc, match=msg):
        make()


# --- a rejected fit keeps the optimizer ---------------------------------------------------

@pytest.mark.parametrize("backend", ["cython", "numpy"])
def test_failed_fits_keep_the_optimizer_state(backend):
    net, X, y = trained(backend=backend)
    before = state_of(net)
    calls = [
        (dict(optimizer="sgd", lr_schedule=lambda e, lr: lr if e < 3 else float("nan"),
              epochs=6), ValueError, "lr_schedule gave"),
        (dict(optimizer="sgd", epochs=5, callbacks=[lambda e, logs: 1 / 0]),
         ZeroDivisionError, ""),
        (dict(optimizer="sgd", epochs=5, callbacks=[cn.EarlyStopping(monitor="val_loss")]),
         ValueError, "pass validation_data"),
        (dict(optimizer="rmsprop", epochs=2, batch_size=0), ValueError, "batch_size"),
    ]
    for kw, exc, msg in calls:
        with pytest.raises(exc, match=msg):
            net.fit(X, y, **kw)
        assert state_of(net) == before, kw
    # and the Adam fit then continues as if nothing had happened
    twin, _, _ = trained(backend=backend)
    net.fit(X, y, epochs=2, batch_size=8, optimizer="adam")
    twin.fit(X, y, epochs=2, batch_size=8, optimizer="adam")
    assert state_of(net) == state_of(twin)


def test_huge_epoch_counts_do_not_allocate_up_front():
    net, X, y = trained()
    calls = []

    def schedule(e, lr):
        calls.append(e)
        if e == 5:
            raise RuntimeError("stop here")
        return lr
    before = state_of(net)
    with pytest.raises(ValueError, match="lr_schedule raised RuntimeError for epoch 5"):
        net.fit(X, y, epochs=10 ** 9, lr_schedule=schedule, optimizer="sgd")
    assert max(calls) == 5 and state_of(net) == before


# --- the architecture is read-only; the core checks what it is handed ---------------------

@pytest.mark.parametrize("attr,value", [("layer_sizes", (2, 50, 1)), ("dropout", (0.5,)),
                                        ("activations", ()), ("loss", None),
                                        ("dtype", np.dtype("float32")), ("reduction", "x")])
def test_architecture_is_read_only(attr, value):
    net = cn.Network([2, 3, 3, 1], seed=0)
    with pytest.raises(AttributeError):
        setattr(net, attr, value)
    assert net.feedforward(np.ones((4, 2))).shape == (4, 1)


def test_hand_built_optimizer_is_resolved():
    net, X, y = trained()
    net.fit(X, y, epochs=1, optimizer=cn.optimizers.Optimizer("adam", 3, {}))
    assert net.optimizer.params == {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8}
    with pytest.raises(ValueError, match="unknown optimizer"):
        net.fit(X, y, epochs=1, optimizer=cn.optimizers.Optimizer("lion", 3, {}))


# --- one network, several threads ---------------------------------------------------------

def _big():
    rng = np.random.default_rng(7)
    X, y = rng.standard_normal((400, 64)), rng.integers(0, 10, 400)
    net = cn.Network([64, 128, 10], activation="relu", output_activation="softmax",
                     loss="categorical_crossentropy", seed=0)
    return net, X, y


def test_readers_never_see_a_half_trained_network():
    net, X, y = _big()
    probe = X[:7]
    before, seen, after = outputs_seen_during_fit(net, probe, X, y, epochs=30, batch_size=16,
                                                  optimizer="adam")
    assert seen and seen <= {before, after}


def test_a_second_writer_gets_a_clear_error():
    import threading
    net, X, y = _big()
    twin, _, _ = _big()
    errors, started = [], threading.Event()

    def slow_schedule(e, lr):
        started.set()
        return lr

    def first():     # ~1 s of training, without the GIL
        net.fit(X, y, epochs=600, batch_size=16, optimizer="adam", lr_schedule=slow_schedule)
    w0 = net.get_weights()
    t = threading.Thread(target=first)
    t.start()
    started.wait()
    for call in (lambda: net.fit(X, y, epochs=1), lambda: net.set_weights(w0),
                 lambda: net.train_step(X, y, 0.1)):
        try:
            call()
        except RuntimeError as exc:
            errors.append(str(exc))
    t.join()
    assert len(errors) == 3 and all("being changed by another thread" in e for e in errors)
    twin.fit(X, y, epochs=600, batch_size=16, optimizer="adam", lr_schedule=slow_schedule)
    assert state_of(net) == state_of(twin)       # the first fit, untouched by the others


# --- a loss that runs away with finite weights is never silent ----------------------------

def _run_away(optimizer, backend="cython"):
    """The reported case: Network([4, 16, 1]), Adam or RMSprop at 1e6."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 4))
    y = X @ np.array([[1.0], [-2.0], [0.5], [1.5]]) + 0.1 * rng.normal(size=(64, 1))
    net = cn.Network([4, 16, 1], activation="relu", output_activation="identity", seed=0,
                     backend=backend)
    return net, X, y


@pytest.mark.parametrize("optimizer", ["adam", "rmsprop"])
@pytest.mark.parametrize("backend", ["cython", "numpy"])
def test_a_loss_that_runs_away_warns(optimizer, backend):
    net, X, y = _run_away(optimizer, backend)
    start = float(net.evaluate(X, y)["loss"])
    with pytest.warns(cn.DivergenceWarning, match=r"the loss ran away: .* in the last epoch "
                                                 r"\(epoch 19\), against .*lower learning_rate "
                                                 r"\(this call used learning_rate 1e\+06\)"
                       ) as rec:
        history = net.fit(X, y, epochs=20, learning_rate=1e6, batch_size=16,
                          optimizer=optimizer)
    assert issubclass(cn.DivergenceWarning, RuntimeWarning)
    assert history.history["loss"][-1] > 1e6 * start          # it really ran away
    assert rec[0].filename == __file__                          # points at the caller's line
    assert np.isfinite(net.get_weights()[0][0]).all()           # finite: a warning, no error


@pytest.mark.parametrize("optimizer,lr", [("sgd", 0.1), ("momentum", 0.05), ("nesterov", 0.05),
                                          ("adam", 0.01), ("adam", 0.1), ("rmsprop", 0.01)])
@pytest.mark.parametrize("batch_size", [8, None])
def test_ordinary_noisy_training_does_not_warn(optimizer, lr, batch_size):
    """Noisy data, small batches, high-ish rates, a resumed fit from a trained
    network (whose own loss is tiny): no DivergenceWarning."""
    import warnings
    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 4))
    y = (X[:, :1] > 0) ^ (rng.uniform(size=(120, 1)) < 0.2)         # 20% label noise
    net = cn.Network([4, 16, 1], activation="tanh", output_activation="sigmoid",
                     loss="binary_crossentropy", seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", cn.DivergenceWarning)
        net.fit(X, y, epochs=40, learning_rate=lr, batch_size=batch_size, optimizer=optimizer)
        net.fit(X, y, epochs=5, learning_rate=lr, batch_size=batch_size, optimizer=optimizer)
        Xr = rng.normal(size=(50, 3))
        yr = Xr.sum(axis=1, keepdims=True) + rng.normal(scale=0.5, size=(50, 1))
        reg = cn.Network([3, 8, 1], output_activation="identity", seed=3)
        reg.fit(Xr, yr, epochs=30, learning_rate=lr / 4, batch_size=batch_size,
                optimizer=optimizer)


# --- pickle and copy: the model file's state, checked on the way back ----------------------

@pytest.mark.parametrize("backend", ["cython", "numpy"])
@pytest.mark.parametrize("how", ["pickle", "deepcopy", "copy"])
def test_a_pickled_or_copied_network_trains_on_to_the_same_bits(backend, how):
    import copy
    import pickle
    # a Generator that is not PCG64 (a model file keeps PCG64 only), float32, portable
    net, X, y = trained("float32", backend, numerics="portable", dropout=0.2, n_threads=2,
                        seed=np.random.Generator(np.random.MT19937(3)))
    twin = {"pickle": lambda n: pickle.loads(pickle.dumps(n)), "deepcopy": copy.deepcopy,
            "copy": copy.copy}[how](net)
    assert twin is not net and type(twin) is cn.Network
    assert state_of(twin) == state_of(net)
    assert (repr(twin), twin.backend, twin.n_threads, twin.numerics, twin.dropout) == \
        (repr(net), backend, 2, "portable", (0.2, 0.0))
    # independent: the twin trains on (dropout draws, shuffles, Adam's moments) as the
    # original does, and training it leaves the original as it was
    before = state_of(net)
    h_twin = twin.fit(X, y, epochs=2, batch_size=8)["loss"]
    assert state_of(net) == before
    h_net = net.fit(X, y, epochs=2, batch_size=8)["loss"]
    assert bits(np.asarray(h_twin)) == bits(np.asarray(h_net))
    assert state_of(twin) == state_of(net)


def test_pickles_keep_the_seed_and_the_training_settings():
    import pickle
    net = cn.Network([2, 3, 1], seed=7, n_threads=2)
    net.lr_multiplier, net.learning_rate, net.stop_training = 0.5, 0.25, True
    twin = pickle.loads(pickle.dumps(net))
    assert (twin.lr_multiplier, twin.learning_rate, twin.stop_training) == (0.5, 0.25, True)
    lines = []
    twin.summary(print_fn=lines.append)
    assert "init seed: 7" in lines[0]
    neuron = cn.Neuron(weights=[0, 1], bias=4)
    assert pickle.loads(pickle.dumps(neuron)).feedforward([2, 3]) == 0.9990889488055994


def test_a_tampered_pickle_is_refused_by_the_file_checks():
    net, X, y = trained()
    for change, msg in [
        (lambda st: st["arrays"]["W0"].__setitem__((0, 0), 5.0), "digest"),
        (lambda st: st["meta"].__setitem__("layer_sizes", [4, 7, 3]), "W0"),
        (lambda st: st["meta"].__setitem__("loss", "nope"), "loss"),
        (lambda st: st["arrays"].pop("b1"), "b1"),
    ]:
        state = net.__getstate__()
        change(state)
        with pytest.raises(ValueError, match=msg):
            cn.Network.__new__(cn.Network).__setstate__(state)
    for state, msg in [
        ("meta", "expected a mapping with 'meta' and 'arrays'"),
        ({**net.__getstate__(), "arrays": [1]}, "'arrays' must map names"),
        ({**net.__getstate__(), "rng": 5}, "'rng' must be a numpy Generator"),
        ({**net.__getstate__(), "lr_multiplier": float("nan")}, "lr_multiplier=nan"),
        ({**net.__getstate__(), "stop_training": "no"}, "stop_training='no'"),
        ({**net.__getstate__(), "learning_rate": -1.0}, "learning_rate=-1.0"),
        ({**net.__getstate__(), "n_threads": 0}, "n_threads"),
    ]:
        with pytest.raises(ValueError, match=msg):
            cn.Network.__new__(cn.Network).__setstate__(state)


# --- optimizers against their closed forms on a hand-worked example -----------------------
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


def test_a_fit_without_an_optimizer_goes_on_with_the_networks(tmp_path):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((40, 4)), rng.integers(0, 3, 40)
    kw = dict(batch_size=8, learning_rate=0.01)
    whole, _, _ = trained()
    whole.fit(X, y, epochs=5, optimizer="adam", **kw)
    parts, _, _ = trained()
    parts.fit(X, y, epochs=3, optimizer="adam", **kw)
    cn.save(parts, tmp_path / "m.npz")
    loaded = cn.load(tmp_path / "m.npz")
    for net in (parts, loaded):                  # in the process, and resumed from a file
        net.fit(X, y, epochs=2, **kw)
        assert net.optimizer.name == "adam" and net.state.opt_scalars[0] == whole.state.opt_scalars[0]
        assert state_of(net) == state_of(whole)
    # other hyperparameters for the same optimizer: its state starts again
    parts.fit(X, y, epochs=1, optimizer_params={"beta_1": 0.8}, **kw)
    assert parts.optimizer.params["beta_1"] == 0.8 and parts.state.opt_scalars[0] == 5  # 5 batches
    # a network that never trained: plain SGD
    fresh = cn.Network([4, 3], seed=0)
    fresh.fit(X, np.eye(3)[y], epochs=1)
    assert fresh.optimizer.name == "sgd"


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


# --- the cross-entropy pairs at saturation; dropout ---------------------------------------

def test_bce_is_finite_at_saturated_outputs():
    net = cn.Network([1, 1], activation="sigmoid", loss="binary_crossentropy")
    net.set_weights([(np.array([[1000.0]]), np.array([0.0]))])
    X, Y = np.array([[1.0], [-1.0]]), np.array([[0.0], [1.0]])    # confidently wrong
    value = net.evaluate(X, Y)["loss"]
    assert np.isfinite(value) and value == pytest.approx(-math.log(1e-7), rel=1e-6)
    (dW, db), = net.gradients(X, Y)
    assert np.all(np.isfinite(dW)) and dW[0, 0] == pytest.approx(1.0)


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


# --- evaluate's metrics, validation_split, fit's arguments --------------------------------

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


# --- the loss's divisor: reduction, per-row counts, the CCE gradient ----------------------
# weighted_mean divides each batch's loss and penalty by the sum of its sample weights
# (scikit-learn's objective: an integer weight is the same as repeating the sample); the
# default divides by the row count.

CASES = [  # (hidden, output, loss, output width)
    ("relu", "softmax", "categorical_crossentropy", 3),
    ("tanh", "sigmoid", "binary_crossentropy", 1),
    ("tanh", "sigmoid", "binary_log_loss", 3),
    ("relu", "identity", "squared_error", 2),
    ("sigmoid", "identity", "mse", 2),
]


def problem(seed, out, loss, m, dtype, n=17):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 4)).astype(dtype)
    if out == "softmax":
        y = rng.integers(0, m, n)
    elif out == "sigmoid":
        y = rng.integers(0, 2, (n, m)).astype(dtype)
    else:
        y = rng.standard_normal((n, m)).astype(dtype)
    w = rng.integers(0, 4, n).astype(dtype)
    return X, y, w


def pair(hidden, out, loss, m, dtype, **kw):
    args = dict(activation=hidden, output_activation=out, loss=loss, dtype=dtype, seed=4,
                init="xavier", reduction="weighted_mean", **kw)
    return (cn.Network([4, 5, m], backend="cython", **args),
            cn.Network([4, 5, m], backend="numpy", **args))


@pytest.mark.bitwise
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("hidden,out,loss,m", CASES)
@pytest.mark.parametrize("fit_kw", [
    dict(batch_size=None, optimizer="sgd", learning_rate=0.1),
    dict(batch_size=1, optimizer="sgd", learning_rate=0.05, shuffle=False),
    dict(batch_size=4, optimizer="adam", learning_rate=0.01),
    dict(batch_size=5, optimizer="momentum", learning_rate=0.05),
])
def test_weighted_mean_fits_agree(dtype, hidden, out, loss, m, fit_kw):
    X, y, w = problem(1, out, loss, m, dtype)
    fast, slow = pair(hidden, out, loss, m, dtype, l2=0.01, l1=0.001)
    hf = fast.fit(X, y, epochs=7, sample_weight=w, **fit_kw)
    hs = slow.fit(X, y, epochs=7, sample_weight=w, **fit_kw)
    assert bits(np.asarray(hf["loss"])) == bits(np.asarray(hs["loss"]))
    assert bits(fast.get_weights()) == bits(slow.get_weights())
    assert fast.state.opt_state.tobytes() == slow.state.opt_state.tobytes()
    lf, gf = fast.loss_and_gradients(X, y)
    ls, gs = slow.loss_and_gradients(X, y)
    assert np.float64(lf).tobytes() == np.float64(ls).tobytes() and bits(gf) == bits(gs)


@pytest.mark.bitwise
@pytest.mark.parametrize("backend", ["cython", "numpy"])
@pytest.mark.parametrize("hidden,out,loss,m", CASES)
def test_weights_of_one_and_zero(backend, hidden, out, loss, m):
    """Weights of 1 give the unweighted bits; a weight of 0 removes the sample."""
    X, y, w = problem(2, out, loss, m, "float64")
    kw = dict(activation=hidden, output_activation=out, loss=loss, seed=3, init="xavier",
              reduction="weighted_mean", l2=0.01, backend=backend)
    fit = dict(epochs=5, learning_rate=0.05, optimizer="adam")
    a, b = cn.Network([4, 5, m], **kw), cn.Network([4, 5, m], **kw)
    a.fit(X, y, **fit)
    b.fit(X, y, sample_weight=np.ones(len(X)), **fit)
    assert bits(a.get_weights()) == bits(b.get_weights())
    keep = w > 0
    c, d = cn.Network([4, 5, m], **kw), cn.Network([4, 5, m], **kw)
    c.fit(X[keep], y[keep], **fit)
    d.fit(X, y, sample_weight=keep.astype(float), **fit)
    assert bits(c.get_weights()) == bits(d.get_weights())


@pytest.mark.parametrize("hidden,out,loss,m", CASES)
def test_integer_weight_is_a_repeated_sample(hidden, out, loss, m):
    X, y, w = problem(3, out, loss, m, "float64")
    kw = dict(activation=hidden, output_activation=out, loss=loss, seed=3, init="xavier",
              reduction="weighted_mean", l2=0.01)
    fit = dict(epochs=20, learning_rate=0.01, optimizer="adam")
    a, b = cn.Network([4, 5, m], **kw), cn.Network([4, 5, m], **kw)
    reps = w.astype(int)
    a.fit(np.repeat(X, reps, axis=0), np.repeat(y, reps, axis=0), **fit)
    b.fit(X, y, sample_weight=w, **fit)
    for (Wa, ba), (Wb, bb) in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(Wa, Wb, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(ba, bb, rtol=1e-10, atol=1e-12)
    # the default reduction divides by the row count instead: not the same model
    c = cn.Network([4, 5, m], **{**kw, "reduction": "sum_over_batch_size"})
    c.fit(X, y, sample_weight=w, **fit)
    assert not np.allclose(c.get_weights()[0][0], b.get_weights()[0][0], rtol=1e-6)


def test_weighted_mean_objective_by_hand():
    """loss = (sum_i w_i l_i + l2 * sum W**2) / sum_i w_i, and its gradient."""
    X, y, w = problem(4, "identity", "squared_error", 2, "float64", n=6)
    w[0] = 0.5
    net = cn.Network([4, 3, 2], activation="tanh", output_activation="identity",
                     loss="squared_error", seed=1, init="xavier", l2=0.3,
                     reduction="weighted_mean")
    a = net.feedforward(X)
    per_row = 0.5 * np.sum((a - y) ** 2, axis=1)
    sq = sum(np.sum(W ** 2) for W, _ in net.get_weights())
    expected = (np.sum(w * per_row) + 0.3 * sq) / np.sum(w)
    x, t = np.ascontiguousarray(X, net.dtype), np.ascontiguousarray(y, net.dtype)  # as fit has them
    assert x.shape == (6, 4) and t.shape == (6, 2)
    value, grads = net.batch_gradient(x, t, w)
    assert abs(float(value) - expected) < 1e-13
    # central differences of the same objective
    flat = net.state.params.copy()
    h = 1e-6
    for i in range(0, flat.size, 3):
        vals = []
        for step in (h, -h):
            net.state.params[...] = flat
            net.state.params[i] += step
            vals.append(float(net.batch_gradient(x, t, w)[0]))
        net.state.params[...] = flat
        assert abs((vals[0] - vals[1]) / (2 * h) - grads[i]) < 1e-7


@pytest.mark.parametrize("backend", ["cython", "numpy"])
def test_sklearn_spellings_of_the_losses(backend):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((9, 3)), rng.standard_normal((9, 2))
    kw = dict(activation="tanh", output_activation="identity", seed=2, backend=backend)
    # squared_error: half the squared error summed over the outputs, mean over rows
    half = cn.Network([3, 4, 2], loss="squared_error", **kw)
    full = cn.Network([3, 4, 2], loss="mse", **kw)
    assert half.evaluate(X, y)["loss"] == pytest.approx(full.evaluate(X, y)["loss"],
                                                        rel=1e-15)
    for (dh, bh), (df, bf) in zip(half.gradients(X, y), full.gradients(X, y)):
        np.testing.assert_allclose(dh, df, rtol=1e-14, atol=1e-16)
        np.testing.assert_allclose(bh, bf, rtol=1e-14, atol=1e-16)
    one = cn.Network([3, 4, 1], loss="squared_error", **kw)
    a1 = one.feedforward(X)
    assert one.evaluate(X, y[:, :1])["loss"] == pytest.approx(
        0.5 * np.mean((a1 - y[:, :1]) ** 2), rel=1e-14)
    yb = rng.integers(0, 2, (9, 3)).astype(float)
    kw["output_activation"] = "sigmoid"
    summed = cn.Network([3, 4, 3], loss="binary_log_loss", **kw)
    mean = cn.Network([3, 4, 3], loss="binary_crossentropy", **kw)
    assert summed.evaluate(X, yb)["loss"] == pytest.approx(mean.evaluate(X, yb)["loss"] * 3,
                                                           rel=1e-14)


def test_sse_has_no_weighted_mean():
    with pytest.raises(ValueError, match="weighted_mean.*'sse' is a sum"):
        cn.Network([2, 1], loss="sse", reduction="weighted_mean")
    with pytest.raises(ValueError, match="reduction must be one of"):
        cn.Network([2, 1], reduction="mean")


@pytest.mark.parametrize("backend", ["cython", "numpy"])
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "weighted_mean"])
def test_categorical_crossentropy_gradient_of_multi_hot_rows(backend, reduction):
    """d/dz of -sum_j y_j log softmax(z)_j is p * sum(y) - y (PyTorch's numbers)."""
    net = cn.Network([1, 3], activation="softmax", loss="categorical_crossentropy",
                     backend=backend, reduction=reduction)
    z = np.array([0.3, -0.2, 0.1])
    net.set_weights([(np.zeros((1, 3)), z)])
    X, y = np.zeros((1, 1)), np.array([[1.0, 1.0, 0.0]])
    db = net.gradients(X, y)[0][1]
    # torch.nn.functional.cross_entropy(z, y, reduction="sum") backward, 3 decimals
    np.testing.assert_allclose(db, [-0.175, -0.500, 0.675], atol=6e-4)
    h = 1e-6
    for j in range(3):
        up, down = z.copy(), z.copy()
        up[j] += h
        down[j] -= h
        net.set_weights([(np.zeros((1, 3)), up)])
        lu = net.evaluate(X, y)["loss"]
        net.set_weights([(np.zeros((1, 3)), down)])
        ld = net.evaluate(X, y)["loss"]
        assert abs((lu - ld) / (2 * h) - db[j]) < 1e-8


@pytest.mark.bitwise
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_multi_hot_rows_agree_across_backends(dtype):
    rng = np.random.default_rng(5)
    X = rng.standard_normal((11, 4)).astype(dtype)
    y = (rng.random((11, 3)) < 0.5).astype(dtype)
    kw = dict(activation="relu", output_activation="softmax",
              loss="categorical_crossentropy", seed=1, dtype=dtype)
    fast, slow = cn.Network([4, 6, 3], **kw), cn.Network([4, 6, 3], backend="numpy", **kw)
    fast.fit(X, y, epochs=5, batch_size=4, optimizer="adam", learning_rate=0.01)
    slow.fit(X, y, epochs=5, batch_size=4, optimizer="adam", learning_rate=0.01)
    assert bits(fast.get_weights()) == bits(slow.get_weights())


# --- numerics=: NumPy's transcendental loops or cyneuron's portable ones ------------------

def _net(**kw):
    kw.setdefault("seed", 0)
    return cn.Network([3, 5, 2], activation=["tanh", "sigmoid"], loss="binary_crossentropy",
                      **kw)


@pytest.mark.parametrize("bad", ["Portable", "ieee", "", None, 1, ["portable"]])
def test_bad_numerics_is_rejected_by_name(bad):
    with pytest.raises(ValueError, match="numerics must be one of numpy, portable"):
        _net(numerics=bad)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("acts,loss", [
    (["sigmoid", "sigmoid"], "mse"), (["tanh", "softmax"], "categorical_crossentropy"),
    (["softplus", "sigmoid"], "binary_crossentropy"), (["silu", "identity"], "sse")])
@pytest.mark.parametrize("batch", [None, 7, 1])
def test_portable_core_matches_the_portable_reference(acts, loss, dtype, batch):
    rng = np.random.default_rng(1)
    X = (rng.standard_normal((23, 4)) * 3).astype(dtype)
    if loss == "categorical_crossentropy":
        Y = np.eye(3, dtype=dtype)[rng.integers(0, 3, 23)]
    else:
        Y = rng.integers(0, 2, (23, 3)).astype(dtype)
    out = {}
    for backend in ("numpy", "cython"):
        net = cn.Network([4, 6, 3], activation=acts, loss=loss, seed=2, dtype=dtype,
                         backend=backend, numerics="portable")
        first = (bits(net.feedforward(X)), bits(net.gradients(X, Y)))
        hist = net.fit(X, Y, epochs=3, learning_rate=0.05, batch_size=batch, optimizer="adam")
        out[backend] = first + (bits(net.get_weights()), bits(np.asarray(hist.history["loss"])),
                                bits(np.asarray(net.evaluate(X, Y)["loss"])))
    assert out["numpy"] == out["cython"]


def test_portable_uses_cyneurons_functions_not_numpys():
    from cyneuron import _portable
    z = np.linspace(-40, 40, 4001)
    net = cn.Network([1, 1], activation="sigmoid", numerics="portable")
    net.set_weights([(np.ones((1, 1)), np.zeros(1))])
    expect = 1.0 / (1.0 + _portable.exp(-z))
    assert net.feedforward(z[:, None])[:, 0].tobytes() == expect.tobytes()
    numpy_mode = cn.Network([1, 1], activation="sigmoid")
    numpy_mode.set_weights([(np.ones((1, 1)), np.zeros(1))])
    assert numpy_mode.feedforward(z[:, None])[:, 0].tobytes() == (1 / (1 + np.exp(-z))).tobytes()


# --- the seed tutorials' printed numbers --------------------------------------------------

@pytest.mark.parametrize("backend", ["cython", "numpy"])
def test_neuron_seed000(backend):
    n = cn.Neuron(weights=[0, 1], bias=4, backend=backend)
    out = n.feedforward([2, 3])
    assert isinstance(out, float)
    assert out == 0.9990889488055994


@pytest.mark.parametrize("backend", ["cython", "numpy"])
def test_network_221_seed000(backend):
    net = cn.Network([2, 2, 1], seed=0, backend=backend)
    # every neuron has weights [0, 1] and bias 0: column j of W is neuron j's weights
    W1 = np.array([[0, 1], [0, 1]]).T
    W2 = np.array([[0, 1]]).T
    net.set_weights([(W1, np.zeros(2)), (W2, np.zeros(1))])
    out = net.feedforward([2, 3])
    assert out.shape == (1,)
    assert out[0] == 0.7216325609518421


def test_seed001_learns_xor_like_problem():
    X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1], [0, 0, 1]])
    y = np.array([0, 1, 1, 0, 0])
    net = cn.Network([3, 4, 1], loss="sse", seed=1)
    hist = net.fit(X, y, epochs=20000, learning_rate=1.0)
    assert hist["loss"][-1] < hist["loss"][0]
    pred = net.feedforward(X).ravel()
    assert np.all(np.abs(pred - y) < 0.1), pred
