"""cyneuron._progress with tqdm: on a terminal, verbose=1 draws a bar that updates in place.

Oracle: the terminal's output, captured.
"""
import io

import numpy as np

import cyneuron as cn
from cyneuron._progress import Progress


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_bar_on_a_terminal():
    out = Terminal()
    p = Progress(50, verbose=1, stream=out)
    assert p.mode == "bar"
    for e in range(1, 51):
        p.update(e, {"loss": 0.5, "accuracy": 0.75})
    p.close()
    text = out.getvalue()
    assert "\r" in text                                  # redrawn in place
    assert "50/50" in text and "loss 0.5  accuracy 0.75" in text
    assert "epoch" in text and "<00:00" in text          # elapsed < remaining


def test_fit_with_a_bar_gives_the_same_bits(monkeypatch):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 2)), rng.normal(size=(30, 1))
    import sys
    bits = []
    for verbose, stream in ((0, None), (1, Terminal())):
        if stream is not None:
            monkeypatch.setattr(sys, "stdout", stream)
        net = cn.Network([2, 3, 1], loss="mse", seed=1)
        net.fit(X, y, epochs=400, learning_rate=0.05, batch_size=4, verbose=verbose)
        bits.append(b"".join(W.tobytes() + b.tobytes() for W, b in net.get_weights()))
    monkeypatch.undo()
    assert bits[0] == bits[1]
    assert "400/400" in stream.getvalue() and "\r" in stream.getvalue()


def test_bar_moves_within_an_epoch():
    out = Terminal()
    p = Progress(10, verbose=1, stream=out)
    p.update(2, {"loss": 0.5})
    p.within(2, 0.375, {"loss": 0.25})
    assert "2.375/10" in out.getvalue() and "loss 0.25 (epoch 3, running)" in out.getvalue()
    p.update(3, {"loss": 0.2})
    p.close()
    assert "3/10" in out.getvalue().split("\r")[-1]
