"""cyneuron.callbacks: EarlyStopping, ModelCheckpoint, ReduceLROnPlateau, CSVLogger, LambdaCallback.

Oracles: exact bits against the fit the callback implies (a schedule, the
best epoch's weights), the files they write read back.
"""
import csv

import numpy as np
import pytest
from helpers import bits

import cyneuron as cn


def _problem():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    y = (X[:, :1] + 0.5 * X[:, 1:2] ** 2 + 0.3 * rng.normal(size=(80, 1)) > 0.4).astype(float)
    return X[:60], y[:60], X[60:], y[60:]


def _net():
    return cn.Network([3, 8, 1], activation="tanh", output_activation="sigmoid",
                      loss="binary_crossentropy", seed=1)


FIT = dict(epochs=30, learning_rate=0.5, batch_size=20, optimizer="momentum")


def test_reduce_lr_on_plateau_equals_the_schedule_it_implies():
    """The same bits as a fit whose lr_schedule lowers the rate at the epochs the
    callback chose: the callback changes the rate, nothing else."""
    X, y, Xv, yv = _problem()
    net = _net()
    cb = cn.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=2, min_delta=0.01)
    h = net.fit(X, y, callbacks=[cb], **FIT)
    assert cb.reductions, "the test must see at least one reduction"
    cuts = [e + 1 for e in cb.reductions]        # lowered from the next epoch on

    def schedule(epoch, lr0):
        return lr0 * 0.5 ** sum(epoch >= c for c in cuts)
    other = _net()
    h2 = other.fit(X, y, lr_schedule=schedule, **FIT)
    assert bits(net.get_weights()) == bits(other.get_weights())
    assert h.history["loss"] == h2.history["loss"]
    assert net.lr_multiplier == 0.5 ** len(cuts)
    net.fit(X, y, epochs=1, learning_rate=0.1)        # every fit starts at 1.0 again
    assert net.lr_multiplier == 1.0


def test_reduce_lr_on_plateau_min_lr_and_cooldown():
    X, y, _, _ = _problem()
    cb = cn.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, min_delta=10.0,
                              min_lr=0.1, cooldown=2)
    net = _net()
    net.fit(X, y, callbacks=cb, **FIT)
    # min_delta 10: no epoch but the first improves. As Keras counts: a cut, then the
    # cooldown's epochs (the second of them counts again), until 0.5 * m >= min_lr
    # no longer holds: 0.5, 0.25, then 0.2 (= min_lr / learning_rate), then none
    assert cb.reductions == [1, 3, 5]
    assert net.lr_multiplier == 0.1 / FIT["learning_rate"]


def test_model_checkpoint_keeps_the_best_epoch(tmp_path):
    X, y, Xv, yv = _problem()
    seen = {}
    net = _net()
    ckpt = cn.ModelCheckpoint(str(tmp_path / "best-{epoch:02d}-{val_loss:.4f}.npz"),
                              monitor="val_loss", save_best_only=True)
    h = net.fit(X, y, validation_data=(Xv, yv), callbacks=[
        lambda e, logs: seen.__setitem__(e, bits(net.get_weights())), ckpt], **FIT)
    val = h.history["val_loss"]
    best = int(np.argmin(val))
    assert ckpt.saved and ckpt.saved[-1].endswith(f"best-{best + 1:02d}-{val[best]:.4f}.npz")
    improving = [e for e in range(len(val)) if val[e] < min(val[:e], default=np.inf)]
    assert len(ckpt.saved) == len(improving)
    assert bits(cn.load(ckpt.saved[-1]).get_weights()) == seen[best]
    every = cn.ModelCheckpoint(str(tmp_path / "last.npz"), monitor="val_loss")
    _net().fit(X, y, epochs=3, callbacks=every)       # no validation needed: saves each epoch
    assert every.saved == [str(tmp_path / "last.npz")] * 3


def test_csv_logger_writes_every_epoch_and_appends(tmp_path):
    X, y, Xv, yv = _problem()
    path = tmp_path / "log.csv"
    h = _net().fit(X, y, validation_data=(Xv, yv), callbacks=cn.CSVLogger(str(path)),
                   epochs=4, learning_rate=0.3)
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"]
    assert [float(r[2]) for r in rows[1:]] == h.history["loss"]      # repr: exact floats
    assert [int(r[0]) for r in rows[1:]] == [0, 1, 2, 3]
    _net().fit(X, y, validation_data=(Xv, yv), epochs=2,
               callbacks=cn.CSVLogger(str(path), append=True))
    with open(path) as f:
        assert len(f.read().splitlines()) == 1 + 4 + 2



def test_csv_logger_to_a_folder_is_refused_before_any_epoch(tmp_path):
    X, y, _, _ = _problem()
    net = _net()
    before = net.get_weights()
    for where, err, msg in ((str(tmp_path), ValueError, "it is a folder; give a file name"),
                            (str(tmp_path / "nope" / "log.csv"), FileNotFoundError, "nope")):
        seen: list = []
        with pytest.raises(err, match=msg):
            net.fit(X, y, epochs=3, callbacks=[cn.CSVLogger(where), cn.LambdaCallback(
                on_epoch_end=lambda epoch, logs, seen=seen: seen.append(epoch))])
        assert seen == [] and all(                      # no epoch ran; nothing changed
            (a == b).all() for pa, pb in zip(before, net.get_weights()) for a, b in zip(pa, pb))


@pytest.mark.parametrize("make,err,msg", [
    (lambda: cn.ReduceLROnPlateau(factor=1.5), ValueError, "factor"),
    (lambda: cn.ReduceLROnPlateau(patience=-1), ValueError, "patience"),
    (lambda: cn.ModelCheckpoint(""), TypeError, "filepath"),
    (lambda: cn.CSVLogger("x.csv", separator=";;"), ValueError, "separator"),
    (lambda: cn.ReduceLROnPlateau(mode="up"), ValueError, "mode"),
])
def test_bad_arguments_are_named(make, err, msg):
    with pytest.raises(err, match=msg):
        make()


def test_a_monitor_the_fit_does_not_log_is_refused_before_training(tmp_path):
    X, y, _, _ = _problem()
    net = _net()
    before = bits(net.get_weights())
    for cb in (cn.ReduceLROnPlateau(), cn.ModelCheckpoint(str(tmp_path / "m.npz"),
                                                          save_best_only=True)):
        with pytest.raises(ValueError, match="monitors 'val_loss'.*pass validation_data"):
            net.fit(X, y, callbacks=cb, **FIT)
        assert bits(net.get_weights()) == before
    assert not (tmp_path / "m.npz").exists()
    # the file name's fields and folder, checked before the first epoch too (they failed
    # the fit after epoch 1)
    for cb, err, msg in [
        (cn.ModelCheckpoint(str(tmp_path / "m-{nope:.2f}-{epoch}.npz")), ValueError,
         r"names what the epoch logs will not have \('nope'\); they have epoch and"),
        (cn.ModelCheckpoint(str(tmp_path / "m-{}.npz")), ValueError, r"will not have \(''\)"),
        (cn.ModelCheckpoint(str(tmp_path / "m-{epoch.npz")), ValueError, "not a format string"),
        (cn.ModelCheckpoint(str(tmp_path)), ValueError, "it is a folder"),
        (cn.ModelCheckpoint(str(tmp_path / "nope" / "m-{epoch}.npz")), FileNotFoundError,
         "nope"),
    ]:
        seen: list = []
        with pytest.raises(err, match=msg):
            net.fit(X, y, callbacks=[cb, cn.LambdaCallback(
                on_epoch_end=lambda epoch, logs, seen=seen: seen.append(epoch))], **FIT)
        assert seen == [] and bits(net.get_weights()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_dir_lists_every_public_name_lazy_ones_included():
    """The callbacks (and the estimators, loaded lazily) in dir()."""
    names = dir(cn)
    assert {"ModelCheckpoint", "ReduceLROnPlateau", "CSVLogger", "MLPClassifier",
            "tabular_pipeline", "export_c"} <= set(names)
    assert set(cn.__all__) <= set(names)


def test_estimator_callbacks_see_the_network_and_predict_mid_fit():
    """The estimators call a callback's hooks as Network.fit does: check_logs with
    the logs' names, on_train_begin with the network, on_train_end; and inside
    on_epoch_end the estimator predicts with the weights as they stand."""
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    seen = {}

    class Spy(cn.callbacks.Callback):
        def check_logs(self, keys):
            seen["keys"] = set(keys)

        def on_train_begin(self, network):
            seen["network"] = network

        def on_epoch_end(self, epoch, logs):
            seen.setdefault("proba", []).append(clf.predict_proba(X[:5]).copy())

        def on_train_end(self, network):
            seen["end"] = network

    clf = cn.MLPClassifier(hidden_layer_sizes=(8,), max_iter=3, random_state=0,
                           early_stopping=True)
    with pytest.warns(Warning):
        clf.fit(X, y, callbacks=Spy())
    assert seen["keys"] == {"loss", "val_score"}
    assert seen["network"] is seen["end"] is clf.network_
    assert len(seen["proba"]) == 3 and not np.array_equal(seen["proba"][0], seen["proba"][2])

    # a callback that fails ends the call: on_train_end runs, the estimator is
    # as before (here: unfitted)
    class Boom(cn.callbacks.Callback):
        def on_epoch_end(self, epoch, logs):
            raise RuntimeError("boom")

        def on_train_end(self, network):
            seen["ended after boom"] = True

    fresh = cn.MLPClassifier(hidden_layer_sizes=(8,), max_iter=3, random_state=0)
    with pytest.raises(RuntimeError, match="boom"):
        fresh.fit(X, y, callbacks=Boom())
    assert seen["ended after boom"] and not hasattr(fresh, "coefs_")


def test_early_stopping_reads_a_score_as_higher_is_better():
    """EarlyStopping shares ModelCheckpoint's reading of a monitor's name: the
    estimators' ``val_score`` (an accuracy or R^2) improves upwards."""
    assert cn.callbacks.EarlyStopping(monitor="val_score").mode == "max"
    assert cn.callbacks.EarlyStopping(monitor="val_accuracy").mode == "max"
    assert cn.callbacks.EarlyStopping(monitor="val_loss").mode == "min"
    with pytest.raises(TypeError, match="monitor must be a metric name"):
        cn.callbacks.EarlyStopping(monitor=3)
    with pytest.raises(ValueError, match="mode must be"):
        cn.callbacks.EarlyStopping(mode="up")


@pytest.mark.parametrize("verbose", [0, 1])
def test_fit_says_when_early_stopping_stopped_and_which_weights_it_restored(capsys, verbose):
    """Keras' "Epoch 28: early stopping", with the epoch whose weights came back,
    after the last progress line; nothing with verbose=0."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    y = (X[:, :1] > 0).astype(float)
    net = cn.Network([4, 8, 1], seed=0)
    es = cn.callbacks.EarlyStopping(monitor="val_loss", patience=2, min_delta=0.01,
                                    restore_best_weights=True)
    net.fit(X[:150], y[:150], epochs=500, learning_rate=0.5,
            validation_data=(X[150:], y[150:]), callbacks=[es], verbose=verbose)
    out = capsys.readouterr().out
    assert es.stopped_epoch is not None and es.restored_epoch == es.best_epoch
    line = (f"Epoch {es.stopped_epoch + 1}: early stopping (val_loss did not improve for 2 "
            f"epochs); restored the weights of epoch {es.best_epoch + 1}")
    assert (line in out) == bool(verbose), out
    assert out.strip().splitlines()[-1].startswith("Epoch ") if verbose else out == ""
    # a fit that ran all its epochs has nothing to say
    assert cn.callbacks.EarlyStopping(patience=10**6).summary() is None


def test_estimators_print_the_callbacks_summary_when_verbose(capsys):
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    es = cn.callbacks.EarlyStopping(monitor="loss", patience=1, min_delta=10.0)
    cn.MLPClassifier(hidden_layer_sizes=(4,), max_iter=50, random_state=0,
                     verbose=True).fit(X, y, callbacks=es)
    out = capsys.readouterr().out
    assert "Epoch 2: early stopping (loss did not improve for 1 epoch)" in out, out


# --- EarlyStopping; a callback that stops training ----------------------------------------

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


def test_lambda_callback_takes_keras_keywords_and_sees_every_hook():
    X, y, Xv, yv = _problem()
    seen = []
    cb = cn.LambdaCallback(on_train_begin=lambda net: seen.append(("begin", net.n_params)),
                           on_epoch_end=lambda e, logs: seen.append(("epoch", e)) or e == 2,
                           on_train_end=lambda net: seen.append(("end", net.n_params)))
    net = _net()
    hist = net.fit(X, y, epochs=10, callbacks=[cb])
    assert seen == [("begin", net.n_params), ("epoch", 0), ("epoch", 1), ("epoch", 2),
                    ("end", net.n_params)]
    assert len(hist) == 3
    # hooks of the begin and end alone: the fit runs all its epochs
    ends = []
    assert len(_net().fit(X, y, epochs=4, callbacks=cn.LambdaCallback(on_train_end=ends.append))) \
        == 4 and len(ends) == 1


@pytest.mark.parametrize("kw,msg", [
    (dict(), "needs a function"),
    (dict(fn=print, on_epoch_end=print), "not both"),
    (dict(on_train_begin=3), "on_train_begin must be callable"),
    (dict(fn="f"), "fn must be callable"),
])
def test_lambda_callback_refuses_what_is_not_a_function(kw, msg):
    with pytest.raises(TypeError, match=msg):
        cn.LambdaCallback(**kw)


def test_history_reads_like_a_dict_of_python_floats():
    X, y, Xv, yv = _problem()
    for kw in (dict(), dict(validation_data=(Xv, yv))):  # bulk epochs; epoch by epoch
        hist = _net().fit(X, y, epochs=3, **kw)
        names = ["loss", "accuracy"] + (["val_loss", "val_accuracy"] if kw else [])
        assert list(hist) == list(hist.keys()) == names
        assert "accuracy" in hist and "val_acc" not in hist and len(hist) == 3
        assert dict(hist.items()) == hist.history
        assert all(type(x) is float for k in hist for x in hist[k]), {
            k: {type(x).__name__ for x in hist[k]} for k in hist}
