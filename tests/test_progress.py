"""cyneuron._progress: fit's progress reports, what each verbosity prints.

Oracles: the lines printed; exact bits whatever the verbosity.
"""
import io
import re

import numpy as np
import pytest

import cyneuron as cn
from cyneuron._progress import Progress


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
