"""cyneuron._schema: every path that builds a Network from outside arrays checks them in one place.

``.npz`` files, ``.safetensors`` files (read without the safetensors package,
so these files are written by hand here), arrays in memory
(``io.network_from_arrays``) and ``cn.from_sklearn`` all go through
``io.network_from_arrays``: the same hostile content gets the same ValueError.

Oracle: one error per tampering, alike for every path; exact bits for untampered input.
"""
import json
import struct
import warnings

import numpy as np
import pytest
from sklearn.neural_network import MLPClassifier as SkMLPClassifier

import cyneuron as cn
from cyneuron import io
from cyneuron._digest import state_digest


def _model():
    X = np.random.default_rng(0).normal(size=(40, 4))
    y = (X[:, 0] > 0).astype(int)
    net = cn.Network([4, 6, 2], activation=["tanh", "softmax"], loss="cce", seed=1)
    net.fit(X, y, epochs=2, optimizer="adam", batch_size=8, learning_rate=0.01)
    return net


def _sealed(meta, arrays):
    """`meta` with the state digest of a crafted file (cn.save adds it): the
    field checks behind the digest check are what these tests compare."""
    return {**meta, "state_digest": state_digest(meta, arrays)}


def _write_npz(path, meta, arrays):
    np.savez(path, meta=io.encode_header(_sealed(meta, arrays)), **arrays)
    return path


def _write_safetensors(path, meta, arrays):
    header, data = {"__metadata__": {"cyneuron": json.dumps(_sealed(meta, arrays))}}, b""
    for name, a in arrays.items():
        raw = np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<")).tobytes()
        code = {"float64": "F64", "float32": "F32"}[a.dtype.name]
        header[name] = {"dtype": code, "shape": list(a.shape),
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + data)
    return path


def _refusal(fn, *args, **kwargs):
    with pytest.raises(ValueError) as info:
        fn(*args, **kwargs)
    return str(info.value)


def _file_refusal(path):
    """What cn.load says about the file, without the prefix naming it."""
    message = _refusal(cn.load, path)
    prefix = f"{path} is not a valid cyneuron model file: "
    assert message.startswith(prefix), message
    return message[len(prefix):]


def _tamper(meta, arrays, what):
    meta, arrays = json.loads(json.dumps(meta)), {k: np.array(a) for k, a in arrays.items()}
    if what == "unknown activation":
        meta["activations"][0] = "mish"
    elif what == "inconsistent shape":        # W0 (4, 6) stored as (6, 4): same byte count
        arrays["W0"] = np.ascontiguousarray(arrays["W0"].T)
    elif what == "nan weight":
        arrays["W1"][2, 1] = np.nan
    elif what == "infinite bias":
        arrays["b0"][3] = -np.inf
    elif what == "width over the limit":
        meta["layer_sizes"][1] = io.MAX_WIDTH + 1
    elif what == "too many layers":
        meta["layer_sizes"] = [4] * (io.MAX_LAYERS + 2)
    elif what == "unknown loss":
        meta["loss"] = "hinge"
    elif what == "negative second moment":
        arrays["optimizer_state"][-1] = -1e-3
    elif what == "first moment of sgd":
        meta["optimizer"] = {"name": "sgd", "params": {}}
        meta["optimizer_scalars"] = [0.0, 1.0, 1.0]
    elif what == "digest":
        arrays["b1"][0] += 1.0
    return meta, arrays


CASES = ["unknown activation", "inconsistent shape", "nan weight", "infinite bias",
         "width over the limit", "too many layers", "unknown loss", "negative second moment",
         "first moment of sgd", "digest"]


@pytest.mark.parametrize("what", CASES)
def test_npz_safetensors_and_arrays_refuse_alike(tmp_path, what):
    meta, arrays = io.network_to_arrays(_model())
    meta, arrays = _tamper(meta, arrays, what)
    from_npz = _file_refusal(_write_npz(tmp_path / "bad.npz", meta, arrays))
    from_safetensors = _file_refusal(_write_safetensors(tmp_path / "bad.safetensors", meta,
                                                        arrays))
    from_memory = _refusal(io.network_from_arrays, meta, arrays)
    assert from_npz == from_safetensors == from_memory, (from_npz, from_safetensors)
    expected = {"unknown activation": "unknown activation 'mish'",
                "inconsistent shape": "array 'W0' has shape (6, 4), expected (4, 6)",
                "nan weight": "array 'W1' contains NaN or infinity",
                "infinite bias": "array 'b0' contains NaN or infinity",
                "width over the limit": "bad 'layer_sizes'",
                "too many layers": "bad 'layer_sizes'",
                "unknown loss": "hinge",
                "negative second moment": "optimizer_state: negative second moment v[",
                "first moment of sgd": "optimizer_state: the m half is not zero, but sgd",
                "digest": "do not match the digest"}[what]
    assert expected in from_npz, from_npz


def test_untampered_files_of_both_formats_load_the_same_network(tmp_path):
    net = _model()
    meta, arrays = io.network_to_arrays(net)
    a = cn.load(_write_npz(tmp_path / "ok.npz", meta, arrays))
    b = cn.load(_write_safetensors(tmp_path / "ok.safetensors", meta, arrays))
    for m in (a, b):
        assert m.digest() == net.digest()
        assert m.state.opt_state.tobytes() == net.state.opt_state.tobytes()


def test_a_mapping_needs_arrays_of_the_exact_dtype():
    meta, arrays = io.network_to_arrays(_model())
    arrays = dict(arrays, W1=arrays["W1"].astype(np.float32))
    assert (_refusal(io.network_from_arrays, meta, arrays)
            == "array 'W1' has dtype 'float32', expected 'float64'")


# --- scikit-learn's MLPs: cn.from_sklearn --------------------------------------------------

def _sk_model():
    X = np.random.default_rng(2).normal(size=(60, 3))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return SkMLPClassifier(hidden_layer_sizes=(5,), max_iter=4, random_state=0).fit(X, y)


def _sk_bits(model):
    opt = model._optimizer
    return b"".join(a.tobytes() for a in model.coefs_ + model.intercepts_ + opt.ms + opt.vs)


@pytest.mark.parametrize("what", ["nan weight", "infinite bias", "negative second moment",
                                  "nan first moment", "inconsistent shape"])
def test_from_sklearn_checks_as_a_model_file_is_checked(tmp_path, what):
    model = _sk_model()
    good = cn.from_sklearn(model).network_
    meta, arrays = io.network_to_arrays(good)
    meta.pop("digest")
    arrays = {k: np.array(a) for k, a in arrays.items()}
    P = good.n_params
    if what == "nan weight":
        model.coefs_[1][4, 0] = arrays["W1"][4, 0] = np.nan
    elif what == "infinite bias":
        model.intercepts_[0][2] = arrays["b0"][2] = np.inf
    elif what == "negative second moment":      # v of W0[0, 0]: index P in cyneuron's state
        model._optimizer.vs[0][0, 0] = arrays["optimizer_state"][P] = -0.5
    elif what == "nan first moment":            # m of b0[1]: after W0's 3 * 5 entries
        model._optimizer.ms[2][1] = arrays["optimizer_state"][16] = np.nan
    else:
        model.coefs_[0] = np.ascontiguousarray(model.coefs_[0][:, :3])
        arrays["W0"] = model.coefs_[0]
    before = _sk_bits(model)
    message = _refusal(cn.from_sklearn, model)
    assert _sk_bits(model) == before                       # the model is left as it was
    if what == "inconsistent shape":
        # the input width comes from coefs_[0]; the hidden width from the parameters
        assert message == "model: array 'W0' has shape (3, 3), expected (3, 5)"
        return
    from_npz = _file_refusal(_write_npz(tmp_path / "bad.npz", meta, arrays))
    assert message == "model: " + from_npz, (message, from_npz)


def test_from_sklearn_still_converts_exactly():
    model = _sk_model()
    est = cn.from_sklearn(model)
    for W, Wsk in zip(est.coefs_ + est.intercepts_, model.coefs_ + model.intercepts_):
        assert W.tobytes() == Wsk.tobytes()
    # scikit-learn orders the moments coefs then intercepts, cyneuron W0 b0 W1 b1
    P, (vW0, vW1, vb0, vb1) = est.network_.n_params, model._optimizer.vs
    expected = np.concatenate([np.ravel(a) for a in (vW0, vb0, vW1, vb1)])
    assert est.network_.state.opt_state[P:].tobytes() == expected.tobytes()
    assert est.network_.state.opt_scalars[0] == model._optimizer.t
