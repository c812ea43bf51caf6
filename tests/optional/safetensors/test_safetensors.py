"""cyneuron._safetensors_io: cn.save / cn.load with .safetensors files: round trips, exact
resume, hostile files.

Oracles: the safetensors package reading what cyneuron writes; exact bits after a round trip.
"""
import json
import os
import struct
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest
from helpers import without_module
from safetensors.numpy import load_file, save_file
from sklearn.exceptions import ConvergenceWarning

import cyneuron as cn
from cyneuron._digest import state_digest


def _data(n=60, d=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    return X, (X[:, 0] + X[:, 1] > 0).astype(int)


def _trained():
    X, y = _data()
    net = cn.Network([4, 6, 2], activation=["tanh", "softmax"], loss="cce", seed=3,
                     dropout=0.2)
    net.fit(X, y, epochs=3, optimizer="adam", batch_size=16, learning_rate=0.01)
    return net


def _state(net):
    return (net.state.params.tobytes(), net.state.opt_state.tobytes(), net.state.opt_scalars.tobytes(),
            repr(net.optimizer), str(net.rng.bit_generator.state))


def test_round_trip_and_the_library_reads_what_cyneuron_writes(tmp_path):
    net = _trained()
    path = cn.save(net, tmp_path / "m.safetensors")
    assert str(path).endswith(".safetensors") and not os.path.exists(str(path) + ".npz")
    back = cn.load(path)
    assert _state(back) == _state(net) and back.digest() == net.digest()
    tensors = load_file(path)                     # the safetensors library as the oracle
    assert sorted(tensors) == ["W0", "W1", "b0", "b1", "optimizer_state"]
    for l, (W, b) in enumerate(net.get_weights()):
        assert tensors[f"W{l}"].tobytes() == W.tobytes()
        assert tensors[f"b{l}"].tobytes() == b.tobytes()
    assert tensors["optimizer_state"].tobytes() == net.state.opt_state.tobytes()
    # and cyneuron reads a file the library wrote from the same header and arrays
    from cyneuron import io
    meta, arrays = io.network_to_arrays(net)
    meta["state_digest"] = state_digest(meta, arrays)
    other = tmp_path / "lib.safetensors"
    save_file({k: np.array(a) for k, a in arrays.items()}, str(other),
              metadata={"cyneuron": json.dumps(meta)})
    assert _state(cn.load(other)) == _state(net)
    # a float32 network too
    n32 = cn.Network([3, 2], seed=0, dtype="float32")
    assert cn.load(cn.save(n32, tmp_path / "f.safetensors")).digest() == n32.digest()


def test_resume_gives_the_bits_of_an_uninterrupted_fit(tmp_path):
    X, y = _data()
    kw = {"optimizer": "adam", "batch_size": 16, "learning_rate": 0.01}
    whole = cn.Network([4, 6, 2], activation=["tanh", "softmax"], loss="cce", seed=3,
                       dropout=0.2)
    whole.fit(X, y, epochs=6, **kw)
    part = _trained()                                          # the first 3 epochs
    resumed = cn.load(cn.save(part, tmp_path / "p.safetensors"))
    resumed.fit(X, y, epochs=3, **kw)
    assert _state(resumed) == _state(whole)
    # an estimator: partial_fit twice, save, load, twice more
    Xs, ys = _data(120, 4, 1)
    labels = np.array(["no", "yes"])[ys]
    a = cn.MLPClassifier(hidden_layer_sizes=(5,), random_state=0, batch_size=32)
    b = cn.MLPClassifier(hidden_layer_sizes=(5,), random_state=0, batch_size=32)
    for _ in range(2):
        a.partial_fit(Xs, labels, classes=["no", "yes"])
        b.partial_fit(Xs, labels, classes=["no", "yes"])
    b = cn.load(cn.save(b, tmp_path / "e.safetensors"))
    for _ in range(2):
        a.partial_fit(Xs, labels)
        b.partial_fit(Xs, labels)
    assert _state(a.network_) == _state(b.network_) and a.digest() == b.digest()
    assert a.loss_curve_ == b.loss_curve_
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        es = cn.MLPRegressor(hidden_layer_sizes=(4,), max_iter=8, early_stopping=True,
                             random_state=0).fit(Xs, Xs[:, 0])
    back = cn.load(cn.save(es, tmp_path / "es.safetensors"))
    assert back._best.tobytes() == es._best.tobytes() and back.digest() == es.digest()


def _parts(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    return json.loads(raw[8:8 + n]), raw[8 + n:]


def _raw(path):
    with open(path, "rb") as f:
        return f.read()


def _reseal(header, data):
    """`header` with the cyneuron header's state digest computed anew over it
    and the tensors in `data` (a crafted file): the checks after the digest run."""
    h = json.loads(json.dumps(header))
    meta = json.loads(h["__metadata__"]["cyneuron"])
    kinds = {"F64": "<f8", "F32": "<f4"}
    arrays = {k: np.frombuffer(data[e["data_offsets"][0]:e["data_offsets"][1]],
                               kinds[e["dtype"]]).reshape(e["shape"])
              for k, e in h.items() if k != "__metadata__"}
    meta["state_digest"] = state_digest(meta, arrays)
    h["__metadata__"]["cyneuron"] = json.dumps(meta)
    return h


def _build(header, data):
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


@pytest.fixture
def good(tmp_path):
    return cn.save(_trained(), tmp_path / "good.safetensors")


def _refused(tmp_path, blob, match):
    p = tmp_path / "bad.safetensors"
    p.write_bytes(blob)
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match=match):
        cn.load(p)
    assert time.perf_counter() - t0 < 2          # refused from the header, not by reading


def test_truncated_files(tmp_path, good):
    raw = _raw(good)
    for cut in (0, 4, 8, 9, 30, len(raw) // 2, len(raw) - 1):
        _refused(tmp_path, raw[:cut], "not a valid cyneuron model file")
    _refused(tmp_path, raw + b"\0" * 8, "trailing bytes")


def test_lying_header_lengths_and_sizes(tmp_path, good):
    header, data = _parts(good)
    raw = _raw(good)
    _refused(tmp_path, struct.pack("<Q", 2 ** 63) + raw[8:], "header length")
    _refused(tmp_path, struct.pack("<Q", len(raw)) + raw[8:], "runs past the end")
    _refused(tmp_path, struct.pack("<Q", 1) + raw[8:], "header length 1")
    huge = json.loads(json.dumps(header))
    huge["W0"]["shape"] = [2 ** 40, 2 ** 40]
    # worded as for an .npz member (io.check_array_type)
    _refused(tmp_path, _build(huge, data),
             r"array 'W0' has shape \(1099511627776, 1099511627776\), expected \(4, 6\)")
    big = json.loads(json.dumps(header))
    big["W0"]["data_offsets"] = [0, 2 ** 62]
    _refused(tmp_path, _build(big, data), "data_offsets")
    meta = json.loads(header["__metadata__"]["cyneuron"])
    meta["layer_sizes"] = [4, 2 ** 24, 2]
    bloat = {**header, "__metadata__": {"cyneuron": json.dumps(meta)}}
    _refused(tmp_path, _build(bloat, data), "tensor")


def test_malformed_headers_and_tensors(tmp_path, good):
    header, data = _parts(good)

    def edit(fn):
        h = json.loads(json.dumps(header))
        fn(h)
        return _build(h, data)
    first = min((e["data_offsets"][0], k) for k, e in header.items() if k != "__metadata__")[1]
    _refused(tmp_path, edit(lambda h: h[first].update(dtype="F16")), "dtype 'F16'")
    _refused(tmp_path, edit(lambda h: h.update(extra=h.pop("W1"))), "unexpected tensor 'extra'")
    _refused(tmp_path, edit(lambda h: h[first].update(data_offsets=[8, 8 + h[first][
        "data_offsets"][1] - h[first]["data_offsets"][0]])), "contiguous|span")
    _refused(tmp_path, edit(lambda h: h.pop("__metadata__")), "no cyneuron header")
    _refused(tmp_path, edit(lambda h: h["__metadata__"].update(cyneuron="{not json")),
             "not valid JSON")
    _refused(tmp_path, edit(lambda h: h["__metadata__"].update(
        cyneuron=json.dumps({"format": "pickle", "version": 1}))), "not a cyneuron model")
    _refused(tmp_path, struct.pack("<Q", 5) + b"\xff\xfe[]]" + data, "not UTF-8")
    # missing W1: its bytes cut out, the offsets of the rest kept consistent
    w1 = header["W1"]["data_offsets"]
    h = {k: dict(e) for k, e in header.items()}
    del h["W1"]
    for k, e in h.items():
        if k != "__metadata__" and e["data_offsets"][0] >= w1[1]:
            e["data_offsets"] = [o - (w1[1] - w1[0]) for o in e["data_offsets"]]
    cut = data[:w1[0]] + data[w1[1]:]
    _refused(tmp_path, _build(h, cut), "modified or damaged")
    _refused(tmp_path, _build(_reseal(h, cut), cut), "missing array 'W1'")
    # the bytes: a NaN, and a changed weight that the digest catches
    lo = header["W0"]["data_offsets"][0]
    nan = data[:lo] + np.array([np.nan]).tobytes() + data[lo + 8:]
    _refused(tmp_path, _build(_reseal(header, nan), nan), "NaN")
    w = np.frombuffer(data[lo:lo + 8], "<f8")[0]
    changed = data[:lo] + np.array([w * 1.5 + 0.1]).tobytes() + data[lo + 8:]
    _refused(tmp_path, _build(header, changed), "content does not match its state_digest")
    _refused(tmp_path, _build(_reseal(header, changed), changed), "do not match the digest")
    _refused(tmp_path, edit(lambda h: h["optimizer_state"].update(dtype="F32")),
             "array 'optimizer_state' has dtype 'float32', expected 'float64'")
    os.mkdir(tmp_path / "dir.safetensors")
    with pytest.raises(ValueError, match="directory"):
        cn.load(tmp_path / "dir.safetensors")


def test_writing_needs_the_extra_and_reading_does_not(tmp_path, good):
    code = ("import cyneuron as cn\n"
            f"net = cn.load({str(good)!r})\n"
            "try:\n"
            f"    cn.save(net, {str(tmp_path / 'x.safetensors')!r})\n"
            "except ImportError as e:\n"
            "    print(net.digest(), e)\n")
    out = without_module("safetensors", code)
    assert cn.load(good).digest() in out and "pip install 'cyneuron[safetensors]'" in out
    assert not os.path.exists(tmp_path / "x.safetensors")


def test_the_cli_writes_the_format_its_output_path_names(tmp_path):
    # cn.save decides the path (cyneuron.io.model_path): a .safetensors name is kept
    X, y = _data(40, 3, 2)
    rows = "\n".join(",".join(f"{v:.6f}" for v in x) + f",{t}" for x, t in zip(X, y))
    (tmp_path / "d.csv").write_text("a,b,c,y\n" + rows + "\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [os.path.dirname(os.path.dirname(cn.__file__))]
        + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    proc = subprocess.run([sys.executable, "-m", "cyneuron", "train", "d.csv", "--target", "y",
                           "--epochs", "3", "--quiet", "-o", "m.safetensors"], cwd=tmp_path,
                          capture_output=True, text=True, env=env, timeout=240)
    assert proc.returncode == 0, proc.stderr
    assert "wrote m.safetensors" in proc.stdout
    assert sorted(os.listdir(tmp_path)) == ["d.csv", "m.safetensors"]
    model = cn.load(tmp_path / "m.safetensors")
    assert type(model).__name__ == "Pipeline" and len(model[-1].loss_curve_) == 3
    assert sorted(load_file(tmp_path / "m.safetensors")) == [     # the library reads it
        "network_W0", "network_W1", "network_b0", "network_b1", "network_optimizer_state",
        "preprocess_numeric_mean", "preprocess_numeric_scale", "preprocess_numeric_statistics",
        "preprocess_numeric_var"]


def test_one_bit_flips_in_the_header_never_load_a_different_model(tmp_path):
    """A one-bit flip in a .safetensors JSON header (a class label, a parameter)
    once loaded without complaint; now every flip is refused or changes nothing
    the model is made of."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = np.array(["cat", "dog", "emu"])[np.argmax(X, axis=1)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = cn.MLPClassifier(hidden_layer_sizes=(5,), max_iter=5, random_state=0).fit(X, y)
    raw = _raw(cn.save(clf, tmp_path / "c.safetensors"))
    n = struct.unpack("<Q", raw[:8])[0]
    label_at = raw.index(b'\\"emu\\"')         # inside the escaped cyneuron header
    positions = sorted({label_at + 3} | set(rng.choice(np.arange(8, 8 + n), 300,
                                                       replace=False).tolist()))
    refused = 0
    for pos in positions:
        flipped = bytearray(raw)
        flipped[pos] ^= 1
        p = tmp_path / "flip.safetensors"
        p.write_bytes(bytes(flipped))
        try:
            back = cn.load(p)
        except ValueError:
            refused += 1
            continue
        assert list(back.classes_) == list(clf.classes_), pos
        assert back.get_params() == clf.get_params(), pos
        assert back.network_.digest() == clf.network_.digest(), pos
    assert refused >= len(positions) - 5
