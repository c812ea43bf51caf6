"""No silent wrong answers, no lost state (issue 11's cases, each failing before its fix).

Every rejected call must raise a ValueError/TypeError that names the
problem and leave the network byte-identical: weights, optimizer state
(moments, step count, beta powers), optimizer choice and Generator position.
"""
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


# --- 1. targets that do not fit the loss -------------------------------------------------

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


# --- 3. divergence ------------------------------------------------------------------------

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
            net.fit(X, y, epochs=50, learning_rate=1e6, batch_size=batch_size)
    assert state_of(net) == before
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


# --- 4. values finite in float64 but not in float32 ----------------------------------------

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


# --- 5. validation_split on sorted data ----------------------------------------------------

def test_validation_split_of_one_class_warns():
    rng = np.random.default_rng(4)
    X, y = rng.standard_normal((30, 3)), np.repeat([0, 1, 2], 10)     # sorted by class
    net = cn.Network([3, 4, 3], activation="relu", output_activation="softmax",
                     loss="categorical_crossentropy", seed=0)
    with pytest.warns(UserWarning, match="all of one class"):
        net.fit(X, y, epochs=1, validation_split=0.2)


# --- 6. one loss for a data set ------------------------------------------------------------

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


# --- 7. errors of the right kind ------------------------------------------------------------

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


# --- 8. a rejected fit keeps the optimizer -------------------------------------------------

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


# --- 9. the architecture is read-only; the core checks what it is handed ----------------

@pytest.mark.parametrize("attr,value", [("layer_sizes", (2, 50, 1)), ("dropout", (0.5,)),
                                        ("activations", ()), ("loss", None),
                                        ("dtype", np.dtype("float32")), ("reduction", "x")])
def test_architecture_is_read_only(attr, value):
    net = cn.Network([2, 3, 3, 1], seed=0)
    with pytest.raises(AttributeError):
        setattr(net, attr, value)
    assert net.feedforward(np.ones((4, 2))).shape == (4, 1)


def test_hand_built_optimizer_is_resolved():
    from cyneuron import _registry
    net, X, y = trained()
    net.fit(X, y, epochs=1, optimizer=_registry.Optimizer("adam", 3, {}))
    assert net.optimizer.params == {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8}
    with pytest.raises(ValueError, match="unknown optimizer"):
        net.fit(X, y, epochs=1, optimizer=_registry.Optimizer("lion", 3, {}))


def test_core_entry_points_check_their_buffers():
    from types import SimpleNamespace

    from cyneuron import _native
    core = _native.core()
    net = cn.Network([3, 4, 2], seed=0)
    X = np.ones((5, 3))
    sizes, offsets = net.state.layout.core_arrays()
    codes = np.array([a.code for a in net.activations], dtype=np.intc)
    params = np.array([a.param for a in net.activations])
    layout = lambda **kw: {**dict(sizes=sizes, acts=codes,   # noqa: E731
                                  act_params=params, offsets=offsets,
                                  dropout=np.zeros(2), loss=0, norm=2, weighted_mean=False,
                                  dtype=np.float64), **kw}
    corenet = core.CoreNet(**layout())
    assert corenet.forward(net.state.params, X).tobytes() == net.feedforward(X).tobytes()
    for kw, msg in [
        (dict(sizes=np.array([3, 9, 2], dtype=np.intp)), "offsets"),
        (dict(offsets=offsets[:-1]), "describe one network"),
        (dict(acts=np.array([1, 77], dtype=np.intc)), "activation code"),
        (dict(acts=np.array([5, 1], dtype=np.intc)), "softmax is an output activation"),
        (dict(loss=9), "unknown loss code"),
        (dict(norm=0), "divisor"),
        (dict(dropout=np.zeros(3)), "dropout has"),
        (dict(dtype=np.int32), "dtype"),
    ]:
        with pytest.raises(ValueError, match=msg):
            core.CoreNet(**layout(**kw))
    with pytest.raises(ValueError, match="params has"):
        corenet.forward(net._params[:-1], X)
    with pytest.raises(ValueError, match="X is"):
        corenet.forward(net._params, np.ones((5, 4)))
    with pytest.raises(ValueError, match="Y is"):
        corenet.gradients(net._params, X, np.ones((5, 3)), np.empty(0), 0.0, 0.0)
    with pytest.raises(ValueError, match="w has"):
        corenet.gradients(net._params, X, np.ones((5, 2)), np.ones(4), 0.0, 0.0)
    e = np.empty(0)
    adam = SimpleNamespace(code=3, params={"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8})
    state, scalars = np.zeros(2 * net.n_params), np.array([0.0, 1.0, 1.0])
    train = lambda **kw: corenet.train_epochs(**{**dict(   # noqa: E731
        params=net._params.copy(), X=X, Y=np.ones((5, 2)), w=e, orders=np.empty(0, np.intp),
        lrs=np.full(1, 0.1), epochs=2, batch_size=5, optimizer=adam, state=state,
        scalars=scalars, l1=0.0, l2=0.0, clipnorm=0.0, masks=e, count=False), **kw})
    losses, correct, run = train()
    assert run == 2 and losses.shape == (2,)
    for kw, msg in [
        (dict(state=e), "state has"),
        (dict(scalars=np.zeros(2)), "scalars has"),
        (dict(optimizer=SimpleNamespace(code=3, params={})), "needs the hyperparameters"),
        (dict(optimizer=SimpleNamespace(code=8, params={})), "unknown optimizer code"),
        (dict(masks=np.ones(7)), "masks has"),
        (dict(lrs=np.full(3, 0.1)), "lrs has"),
        (dict(orders=np.zeros(3, np.intp)), "orders has"),
        (dict(batch_size=6), "batch_size"),
        (dict(epochs=0), "epochs"),
        (dict(params=net._params[:-1].copy()), "params has"),
    ]:
        with pytest.raises(ValueError, match=msg):
            train(**kw)
    dropped = core.CoreNet(**layout(dropout=np.array([0.5, 0.0])))
    with pytest.raises(ValueError, match="masks has"):
        dropped.train_epochs(net._params.copy(), X, np.ones((5, 2)), e, np.empty(0, np.intp),
                             np.full(1, 0.1), 1, 5, adam, state, scalars, 0.0, 0.0, 0.0,
                             np.ones(7), False)
    assert dropped.mask_width == 4


# --- 10. one network, several threads ---------------------------------------------------

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


# --- issue 26, item 6: a loss that runs away with finite weights is never silent -------------

def _run_away(optimizer, backend="cython"):
    """The issue's case: Network([4, 16, 1]), Adam or RMSprop at 1e6."""
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
