"""cyneuron._progress: fit's progress reports, what each verbosity prints.

Oracles: the lines printed; exact bits whatever the verbosity.
"""
import io
import re

import numpy as np
import pytest

import cyneuron as cn
from cyneuron._progress import Progress
from cyneuron._progress import batch_hook as _batch_hook


def weight_bytes(net):
    return b"".join(W.tobytes() + b.tobytes() for W, b in net.get_weights())


def problem():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(40, 3))
    y = (X[:, :1] > 0).astype(float)
    return X, y


@pytest.mark.parametrize("kwargs", [{}, {"batch_size": 7}, {"validation_split": 0.25},
                                    {"batch_size": 8, "optimizer": "adam",
                                     "learning_rate": 0.01}])
def test_bits_do_not_depend_on_verbosity(kwargs, capsys):
    X, y = problem()
    runs = []
    for verbose in (0, 1, 2):
        net = cn.Network([3, 5, 1], activation="tanh", output_activation="sigmoid",
                         loss="binary_crossentropy", seed=2)
        h = net.fit(X, y, epochs=37, verbose=verbose, **{"learning_rate": 0.1, **kwargs})
        runs.append((weight_bytes(net), np.asarray(h["loss"]).tobytes(),
                     net.state.opt_state.tobytes()))
    out = capsys.readouterr().out
    assert runs[0] == runs[1] == runs[2]
    assert len(re.findall(r"(?m)^epoch ", out)) == 10 + 37     # verbose=1 + verbose=2


def test_lines_per_tenth_and_per_epoch(capsys):
    X, y = problem()
    net = cn.Network([3, 4, 1], loss="mse", seed=0)
    net.fit(X, y, epochs=200, learning_rate=0.5, verbose=1)
    lines = capsys.readouterr().out.splitlines()
    assert [int(re.match(r"epoch +(\d+)/200  loss ", s).group(1)) for s in lines] == \
        list(range(20, 201, 20))
    assert lines[0].endswith(" left)") and not lines[-1].endswith(" left)")
    net.fit(X, y, epochs=12, learning_rate=0.5, verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert [int(re.match(r"epoch +(\d+)/12  loss ", s).group(1)) for s in lines] == \
        list(range(1, 13))
    net.fit(X, y, epochs=12, learning_rate=0.5, verbose=0)
    assert capsys.readouterr().out == ""


def test_classification_logs_are_shown(capsys):
    X, y = problem()
    net = cn.Network([3, 4, 1], loss="binary_crossentropy", seed=0)
    net.fit(X, y, epochs=10, learning_rate=0.5, validation_split=0.25, verbose=1)
    last = capsys.readouterr().out.splitlines()[-1]
    assert re.match(r"epoch 10/10  loss \S+  accuracy \S+  val_loss \S+  val_accuracy \S+  "
                    r"\(\d+\.\d\d s\)$", last), last


@pytest.mark.parametrize("bad, exc", [(3, ValueError), (-1, ValueError), ("1", TypeError),
                                      (1.0, TypeError), (None, TypeError)])
def test_bad_verbose_is_rejected_and_changes_nothing(bad, exc):
    X, y = problem()
    net = cn.Network([3, 4, 1], loss="mse", seed=0)
    net.fit(X, y, epochs=2, learning_rate=0.1, optimizer="adam")
    before = (weight_bytes(net), net.state.opt_state.tobytes(), net.rng.bit_generator.state)
    with pytest.raises(exc, match="verbose"):
        net.fit(X, y, epochs=2, learning_rate=0.1, optimizer="adam", verbose=bad)
    assert (weight_bytes(net), net.state.opt_state.tobytes(), net.rng.bit_generator.state) == before


def test_not_a_terminal_means_lines():
    class Pipe(io.StringIO):
        def isatty(self):
            return False
    out = Pipe()
    p = Progress(30, verbose=1, stream=out)
    assert p.mode == "lines" and p.chunk == 3
    for e in range(1, 31):
        p.update(e, {"loss": 1.0 / e})
    p.close()
    assert len(out.getvalue().splitlines()) == 10


# --- within an epoch ---------------------------------------------------------------------
# An epoch long enough for the core to look up several times within it: a look
# comes every 2**25 units of work (a multiply-add each), about every 530 rows
# of this 100-100-100-10 net.

def long_epoch(dtype="float64"):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(3000, 100)).astype(dtype)
    y = np.eye(10, dtype=dtype)[rng.integers(0, 10, 3000)]
    return X, y


def long_net(backend, dtype="float64"):
    return cn.Network([100, 100, 100, 10], activation="relu", output_activation="softmax",
                      loss="categorical_crossentropy", seed=4, backend=backend, dtype=dtype)


def reports_of(backend, dtype, epochs=2):
    X, y = long_epoch(dtype)
    net = long_net(backend, dtype)
    net.use_optimizer("adam", {})
    seen = []
    losses = net.train_epochs(X, y, None, 50, True, 1e-3, epochs,
                              progress=lambda e, rows, s: seen.append((e, rows, s)))
    return net, losses, seen


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_core_reports_within_epochs_what_the_reference_reports(dtype):
    # the reference reports after every batch, the core at its looks: each of
    # the core's reports is one of the reference's, to the bit
    core, core_losses, core_seen = reports_of("cython", dtype)
    ref, ref_losses, ref_seen = reports_of("numpy", dtype)
    assert core_losses.tobytes() == ref_losses.tobytes()
    assert weight_bytes(core) == weight_bytes(ref)
    assert [(e, rows) for e, rows, _ in ref_seen] == [(e, r) for e in (0, 1)
                                                      for r in range(50, 3001, 50)]
    by_place = {(e, rows): s for e, rows, s in ref_seen}
    assert len(core_seen) >= 8 and {e for e, _, _ in core_seen} == {0, 1}
    for e, rows, s in core_seen:
        assert rows % 50 == 0 and np.float64(s).tobytes() == np.float64(by_place[e, rows]).tobytes()
    # the reports do not change the bits
    X, y = long_epoch(dtype)
    quiet = long_net("cython", dtype)
    quiet.use_optimizer("adam", {})
    assert quiet.train_epochs(X, y, None, 50, True, 1e-3, 2).tobytes() == core_losses.tobytes()
    assert weight_bytes(quiet) == weight_bytes(core)


@pytest.mark.parametrize("backend", ["cython", "numpy"])
def test_a_raising_epoch_progress_callback_stops_fit_and_changes_nothing(backend, monkeypatch):
    import cyneuron.network as network_mod
    from cyneuron import _progress
    monkeypatch.setattr(network_mod, "batch_hook",
                        lambda targets, n, first: _progress.batch_hook(targets, n, first, 0.0))
    X, y = long_epoch()
    net = long_net(backend)
    net.fit(X[:200], y[:200], epochs=1, optimizer="adam", verbose=0)
    before = (weight_bytes(net), net.state.opt_state.tobytes(), net.rng.bit_generator.state)

    class Halt(cn.Callback):
        def __init__(self):
            self.calls = []

        def on_epoch_progress(self, epoch, fraction, logs):
            self.calls.append((epoch, fraction, logs["loss"]))
            if epoch == 1:
                raise RuntimeError("stop here")

    cb = Halt()
    with pytest.raises(RuntimeError, match="stop here"):
        net.fit(X, y, epochs=3, batch_size=50, optimizer="adam", verbose=0, callbacks=[cb])
    assert (weight_bytes(net), net.state.opt_state.tobytes(), net.rng.bit_generator.state) == before
    assert cb.calls[0][0] == 0 and cb.calls[-1][0] == 1
    assert all(0 < f < 1 and np.isfinite(loss) for _, f, loss in cb.calls)


def test_batch_hook_throttles_and_passes_running_logs():
    got = []
    hook = _batch_hook([lambda e, f, logs: got.append((e, f, logs))], 200, 5, interval=3600)
    hook(0, 100, 50.0)
    assert got == []                       # the first interval has not passed
    hook = _batch_hook([lambda e, f, logs: got.append((e, f, logs))], 200, 5, interval=0.0)
    hook(1, 50, 25.0)
    hook(1, 200, 80.0)                     # an epoch's end is reported by update, not here
    assert got == [(6, 0.25, {"loss": 0.5})]
    assert _batch_hook([], 200, 0) is None


def test_lines_within_a_long_epoch(monkeypatch):
    class Pipe(io.StringIO):
        def isatty(self):
            return False
    out = Pipe()
    p = Progress(10, verbose=1, stream=out)
    p.within(2, 0.45, {"loss": 0.25})
    assert out.getvalue() == ""            # lines within an epoch only after LINE_EVERY s
    monkeypatch.setattr(Progress, "LINE_EVERY", 0.0)
    p.within(2, 0.45, {"loss": 0.25})
    assert re.match(r"epoch  3/10   45% done  loss 0\.25 \(running\)  \(\d+\.\d\d s\)\n$",
                    out.getvalue()), out.getvalue()
    Progress(10, verbose=0, stream=out).within(2, 0.5, {"loss": 1.0})
    assert out.getvalue().count("\n") == 1


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_estimator_callbacks_hear_long_epochs(monkeypatch):
    import cyneuron.estimators as est
    from cyneuron import _progress
    monkeypatch.setattr(est, "batch_hook",
                        lambda targets, n, first: _progress.batch_hook(targets, n, first, 0.0))
    X, y = long_epoch()
    seen = []

    class Listen:
        def on_epoch_progress(self, epoch, fraction, logs):
            seen.append((epoch, fraction))

        def on_epoch_end(self, epoch, logs):
            pass

    clf = cn.MLPClassifier(hidden_layer_sizes=(100, 100), batch_size=50, max_iter=2,
                           random_state=0)
    clf.fit(X, y.argmax(1), callbacks=[Listen()])
    assert {e for e, _ in seen} == {0, 1} and all(0 < f < 1 for _, f in seen)


def test_core_rejects_a_progress_that_is_not_callable():
    X, y = long_epoch()
    net = long_net("cython")
    net.use_optimizer("sgd", {})
    before = weight_bytes(net)
    with pytest.raises(TypeError, match="progress must be callable"):
        net.train_epochs(X, y, None, 50, False, 0.1, 1, progress=5)
    assert weight_bytes(net) == before
