"""Saving and loading: round trips exactly; corrupt or hostile files raise ValueError."""
import json
import pickle

import numpy as np
import pytest

import cyneuron as cn
from helpers import bits


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_round_trip(tmp_path, dtype):
    net = cn.Network([3, 5, 2], activation=["tanh", ("leaky_relu", 0.2)], loss="sse",
                     seed=3, dtype=dtype)
    net.fit(np.ones((4, 3)), np.zeros((4, 2)), epochs=5, learning_rate=0.1)
    path = cn.save(net, tmp_path / "model")
    assert path.endswith(".npz")
    back = cn.load(path)
    assert back.layer_sizes == net.layer_sizes
    assert [a.spec for a in back.activations] == [a.spec for a in net.activations]
    assert back.loss.name == "sse" and back.dtype == net.dtype
    assert bits(back.get_weights()) == bits(net.get_weights())
    X = np.random.default_rng(0).standard_normal((7, 3))
    assert bits(back.feedforward(X)) == bits(net.feedforward(X))


def _write(path, meta, arrays):
    arrays = dict(arrays)
    if meta is not None:
        arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez(path, **arrays)
    return str(path)


GOOD_META = {"format": "cyneuron-model", "version": 1, "layer_sizes": [2, 1],
             "activations": ["sigmoid"], "loss": "mse", "dtype": "float64", "init": "uniform"}
GOOD_ARRAYS = {"W0": np.zeros((2, 1)), "b0": np.zeros(1)}


@pytest.mark.parametrize("meta,arrays,msg", [
    (None, GOOD_ARRAYS, "missing 'meta'"),
    ({**GOOD_META, "format": "other"}, GOOD_ARRAYS, "not a cyneuron model"),
    ({**GOOD_META, "version": 99}, GOOD_ARRAYS, "unsupported format version"),
    ({**GOOD_META, "layer_sizes": [2, -1]}, GOOD_ARRAYS, "layer_sizes"),
    ({**GOOD_META, "layer_sizes": "2,1"}, GOOD_ARRAYS, "layer_sizes"),
    ({**GOOD_META, "activations": ["nope"]}, GOOD_ARRAYS, "unknown activation"),
    ({**GOOD_META, "activations": []}, GOOD_ARRAYS, "activations"),
    ({**GOOD_META, "loss": "hinge"}, GOOD_ARRAYS, "unknown loss"),
    ({**GOOD_META, "dtype": "object"}, GOOD_ARRAYS, "dtype"),
    ({**GOOD_META, "rng": {"bit_generator": "MT19937"}}, GOOD_ARRAYS, "rng"),
    ({**GOOD_META, "rng": "x"}, GOOD_ARRAYS, "rng"),
    ({**GOOD_META, "optimizer": {"name": "adam", "params": {"beta_1": 7}}}, GOOD_ARRAYS,
     "beta_1"),
    ({**GOOD_META, "dropout": [0.5]}, GOOD_ARRAYS, "dropout"),
    (GOOD_META, {"W0": np.zeros((2, 1))}, "missing array 'b0'"),
    (GOOD_META, {"W0": np.zeros((3, 1)), "b0": np.zeros(1)}, "W0"),
    (GOOD_META, {"W0": np.zeros((2, 1), np.float32), "b0": np.zeros(1)}, "W0"),
    (GOOD_META, {"W0": np.full((2, 1), np.nan), "b0": np.zeros(1)}, "NaN"),
])
def test_malformed_files(tmp_path, meta, arrays, msg):
    path = _write(tmp_path / "bad.npz", meta, arrays)
    with pytest.raises(ValueError, match=msg):
        cn.load(path)


def test_garbage_and_pickles_are_rejected(tmp_path):
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"\x00\x01garbage" * 10)
    with pytest.raises(ValueError, match="not a valid cyneuron model"):
        cn.load(junk)
    evil = tmp_path / "evil.npz"
    with open(evil, "wb") as f:
        pickle.dump({"meta": "x"}, f)
    with pytest.raises(ValueError, match="not a valid cyneuron model"):
        cn.load(evil)
    # an object array inside the archive needs pickle: refused
    obj = tmp_path / "obj.npz"
    np.savez(obj, meta=np.array([{"a": 1}], dtype=object), W0=np.zeros((2, 1)), b0=np.zeros(1))
    with pytest.raises(ValueError, match="not a valid cyneuron model"):
        cn.load(obj)
    with pytest.raises(ValueError, match="not a valid cyneuron model"):
        cn.load(tmp_path / "does-not-exist.npz")


@pytest.mark.parametrize("backend", ["cython", "numpy"])
def test_training_resumes_identically_after_load(tmp_path, backend):
    """Optimizer state is part of the model: save, load, continue == never stopped."""
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((30, 4)), rng.integers(0, 3, 30)
    kw = dict(activation="relu", output_activation="softmax", loss="categorical_crossentropy",
              seed=5, l2=1e-3, dropout=0.2, backend=backend)
    a = cn.Network([4, 8, 3], **kw)
    b = cn.Network([4, 8, 3], **kw)
    fit = dict(learning_rate=0.01, batch_size=8, optimizer="adam")
    a.fit(X, y, epochs=6, **fit)
    b.fit(X, y, epochs=3, **fit)
    back = cn.load(cn.save(b, tmp_path / "ckpt"), backend=backend)
    assert back.rng.bit_generator.state == b.rng.bit_generator.state
    back.fit(X, y, epochs=3, **fit)
    assert back.l2 == 1e-3 and back.dropout == (0.2, 0.0) and back.optimizer.name == "adam"
    assert bits(back.get_weights()) == bits(a.get_weights())
    assert back._opt_state.tobytes() == a._opt_state.tobytes()
