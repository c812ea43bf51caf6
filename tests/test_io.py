"""cyneuron.io: cn.save / cn.load round trip exactly; corrupt or hostile files raise ValueError.

Oracles: exact bits after a round trip and after resumed training; the
error a hand-built hostile file (zip bombs, lying .npy headers, bad JSON)
must raise. The codecs alone are tests/test_formats.py, the shared model
check tests/test_schema.py, the fuzzer tests/test_fuzz_load.py.
"""
import importlib.util
import io as _io
import json
import os
import pickle
import threading
import time
import zipfile

import numpy as np
import pytest
from helpers import bits
from ziptools import DEFLATED, STORED, Member, build_zip, deflate_bomb, npy_bytes, read_members, reseal

import cyneuron as cn


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
    assert back.state.opt_state.tobytes() == a.state.opt_state.tobytes()


# --- hostile and damaged files ------------------------------------------------------------


DATA = os.path.join(os.path.dirname(__file__), "data")


def _meta_bytes(meta):
    return npy_bytes(np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8))


def _good_members(meta=GOOD_META, **arrays):
    """Members of a small valid model file, as np.savez names them."""
    members = [Member("meta.npy", _meta_bytes(meta))]
    for key, arr in {**GOOD_ARRAYS, **arrays}.items():
        members.append(Member(key + ".npy", arr if isinstance(arr, bytes) else npy_bytes(arr)))
    return members


def _write_zip(path, members):
    path.write_bytes(build_zip(members))
    return path


def _trained(optimizer="adam", dtype="float64", epochs=3, **params):
    net = cn.Network([3, 4, 2], activation="tanh", loss="mse", seed=1, dtype=dtype)
    rng = np.random.default_rng(1)
    net.fit(rng.standard_normal((10, 3)), rng.standard_normal((10, 2)), epochs=epochs,
            learning_rate=0.01, batch_size=4, optimizer=optimizer, optimizer_params=params)
    return net


def _model_members(net, tmp_path):
    """The members of `net` saved by cn.save, decoded (meta as a dict)."""
    path = cn.save(net, tmp_path / "src")
    with open(path, "rb") as f:
        members = read_members(f.read())
    meta = None
    for m in members:
        if m.name == "meta.npy":
            meta = json.loads(np.load(_io.BytesIO(m.data)).tobytes())
    return meta, members


def _replace(members, name, data):
    return [Member(m.name, data if m.name == name else m.data, m.method) for m in members]


def _bomb_member(name, n_bytes, npy_dtype="|u1"):
    """A deflated member that inflates to an .npy header + `n_bytes` zeros."""
    itemsize = np.dtype(npy_dtype).itemsize
    buf = _io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": npy_dtype, "fortran_order": False, "shape": (n_bytes // itemsize,)})
    header = buf.getvalue()
    stream, size, crc = deflate_bomb(header, n_bytes)
    return Member(name, b"", DEFLATED, raw=stream, file_size=size, crc=crc)


@pytest.mark.parametrize("size", [256 << 20, 2 << 30])
def test_zip_bomb_header_fails_fast(tmp_path, size):
    """'meta' inflating to 256 MiB (over the header's limit) or 2 GiB (over max_bytes),
    from 1.6 / 13 MB of file: refused from the zip directory, nothing inflated."""
    members = [_bomb_member("meta.npy", size)] + _good_members()[1:]
    path = _write_zip(tmp_path / "bomb.npz", members)
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match=r"'meta(\.npy)?' inflates to \d+ bytes.*limit"):
        cn.load(path)
    assert time.perf_counter() - t0 < 0.5


@pytest.mark.parametrize("size", [256 << 20, 2 << 30])
def test_zip_bomb_array_fails_fast(tmp_path, size):
    """An array member inflating to 256 MiB / 2 GiB where the header's shape needs 16 bytes."""
    members = _good_members()
    members[1] = _bomb_member("W0.npy", size, "<f8")
    path = _write_zip(tmp_path / "bomb.npz", members)
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match=r"'W0(\.npy)?' inflates to \d+ bytes"):
        cn.load(path)
    assert time.perf_counter() - t0 < 0.5


def test_total_size_is_bounded(tmp_path):
    """The sum of the directory's sizes is checked against max_bytes before reading."""
    net = _trained()
    path = cn.save(net, tmp_path / "m")
    assert cn.load(path).n_params == net.n_params
    with pytest.raises(ValueError, match="max_bytes"):
        cn.load(path, max_bytes=1000)


def test_array_member_with_trailing_bytes(tmp_path):
    path = _write_zip(tmp_path / "m.npz",
                      _good_members(W0=npy_bytes(np.zeros((2, 1))) + b"trailing"))
    with pytest.raises(ValueError, match="'W0'"):
        cn.load(path)


@pytest.mark.parametrize("method", [STORED, DEFLATED])
@pytest.mark.parametrize("delta", [8, -8, 4096])
def test_array_member_declared_size_lies(tmp_path, method, delta):
    members = _good_members()
    members[1].method = method
    members[1].file_size_override = len(members[1].data) + delta
    path = _write_zip(tmp_path / "m.npz", members)
    with pytest.raises(ValueError, match=r"'W0(\.npy)?'"):
        cn.load(path)


@pytest.mark.parametrize("key", ["meta", "W0", "b0"])
def test_member_that_is_not_npy(tmp_path, key):
    raw = b"raw bytes, no .npy magic" * 3
    members = [Member(m.name, raw if m.name == key + ".npy" else m.data)
               for m in _good_members()]
    with pytest.raises(ValueError, match=f"'{key}'.*not an? .npy"):
        cn.load(_write_zip(tmp_path / "m.npz", members))


@pytest.mark.parametrize("header", [
    b"{'descr': '|O', 'fortran_order': False, 'shape': (2,), }",
    b"{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }",
    b"{'descr': '|u1', 'fortran_order': 1, 'shape': (2,), }",
    b"{'descr': '|u1', 'fortran_order': False, 'shape': (2, -1), }",
    b"{'descr': '|u1', 'fortran_order': False, 'shape': (" + b"(" * 300 + b")" * 300 + b"), }",
    b"{'descr': '|u1', 'fortran_order': False, 'shape': (99999999999999999999999,), }",
    b"{'descr': '|u1', 'fortran_order': False, 'shape': (2,), 'x': [], }",
    b"{[]: 1}",
    b"\xff\xfe",
])
def test_bad_npy_header(tmp_path, header):
    raw = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + b"\x00\x01"
    members = _good_members()
    members[0] = Member("meta.npy", raw)
    with pytest.raises(ValueError, match="'meta'"):
        cn.load(_write_zip(tmp_path / "m.npz", members))


def test_npy_header_versions_2_and_3_are_read(tmp_path):
    """.npy format versions 2.0 and 3.0 (4-byte header length) load like 1.0."""
    for version in ((2, 0), (3, 0)):
        members = []
        for m in _good_members():
            buf = _io.BytesIO()
            arr = np.load(_io.BytesIO(m.data))
            np.lib.format.write_array(buf, arr, version=version)
            members.append(Member(m.name, buf.getvalue()))
        net = cn.load(_write_zip(tmp_path / "m.npz", members))
        assert net.layer_sizes == (2, 1)


def test_fortran_order_arrays_are_read_in_order(tmp_path):
    W = np.asfortranarray(np.arange(6.0).reshape(3, 2))
    meta = {**GOOD_META, "layer_sizes": [3, 2]}
    members = _good_members(meta, W0=W, b0=np.zeros(2))
    assert b"'fortran_order': True" in members[1].data
    net = cn.load(_write_zip(tmp_path / "m.npz", members))
    assert bits(net.get_weights()[0][0]) == bits(np.arange(6.0).reshape(3, 2))


@pytest.mark.parametrize("change,msg", [
    (dict(version_needed=99), "version"),
    (dict(version_needed=255), "version"),
    (dict(method_override=99), "compression"),
    (dict(method_override=14), "compression"),     # lzma: zipfile reads it, a model never has it
    (dict(flags=0x1), "encrypted"),
    (dict(flags=0x20), "flag"),
    (dict(flags=0x40), "encrypted"),
    (dict(compress_size_override=3), "size"),
])
@pytest.mark.parametrize("which", [0, 1])
def test_bad_zip_directory_fields(tmp_path, change, msg, which):
    members = _good_members()
    for k, val in change.items():
        setattr(members[which], k, val)
    with pytest.raises(ValueError, match=msg):
        cn.load(_write_zip(tmp_path / "m.npz", members))


def test_deflated_members_load(tmp_path):
    """np.savez_compressed files (deflate) are valid model files too."""
    net = _trained()
    path = cn.save(net, tmp_path / "m")
    with np.load(path) as a:
        np.savez_compressed(tmp_path / "c.npz", **{k: a[k] for k in a.files})
    back = cn.load(tmp_path / "c.npz")
    assert bits(back.get_weights()) == bits(net.get_weights())


def test_corrupt_deflate_stream_and_crc(tmp_path):
    members = _good_members()
    members[1].method = DEFLATED
    stream = bytearray(members[1].stream())
    stream[len(stream) // 2] ^= 0xFF
    members[1].raw = bytes(stream)
    with pytest.raises(ValueError, match="'W0'"):
        cn.load(_write_zip(tmp_path / "m.npz", members))
    members = _good_members()
    members[2].crc = 12345
    with pytest.raises(ValueError, match="'b0'"):
        cn.load(_write_zip(tmp_path / "m.npz", members))


def test_unexpected_and_duplicate_members(tmp_path):
    members = _good_members() + [Member("extra.npy", npy_bytes(np.zeros(3)))]
    with pytest.raises(ValueError, match="unexpected member 'extra.npy'"):
        cn.load(_write_zip(tmp_path / "m.npz", members))
    members = _good_members() + [Member("W0.npy", npy_bytes(np.ones((2, 1))))]
    with pytest.raises(ValueError, match="'W0.npy'.*more than once"):
        cn.load(_write_zip(tmp_path / "m.npz", members))
    members = _good_members() + [Member("x%d" % i, b"") for i in range(25000)]
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match="members"):
        cn.load(_write_zip(tmp_path / "m.npz", members))
    assert time.perf_counter() - t0 < 2.0


# --- the JSON header ---------------------------------------------------------------------

def _raw_meta_file(tmp_path, text):
    members = _good_members()
    members[0] = Member("meta.npy", npy_bytes(np.frombuffer(text.encode(), dtype=np.uint8)))
    return _write_zip(tmp_path / "m.npz", members)


def _meta_text(**fields):
    meta = {**GOOD_META}
    for k in fields:
        meta[k] = "@%s@" % k
    text = json.dumps(meta)
    for k, val in fields.items():
        text = text.replace('"@%s@"' % k, val)
    return text


@pytest.mark.parametrize("fields", [
    {"rng": "[" * 100000 + "]" * 100000},
    {"rng": "{\"a\": " * 50000 + "1" + "}" * 50000},
    {"l2": "1" + "0" * 400},
    {"l2": "1" + "0" * 5000},
    {"l2": "1e999"},
    {"l2": "NaN"},
    {"l2": "-Infinity"},
    {"activations": '[{"name": "leaky_relu", "alpha": 1%s}]' % ("0" * 400)},
    {"dropout": "1" + "0" * 400},
    {"init": "[]"},
    {"loss": "{}"},
    {"optimizer": '{"name": "adam", "params": {"beta_1": 1%s}}' % ("0" * 400)},
    {"optimizer": '{"name": "adam", "params": {"beta_1": 0.9, "beta_1": 0.8}}'},
    {"optimizer": '{"name": "adam", "params": []}'},
    {"optimizer": '{"name": 3, "params": {}}'},
    {"optimizer_scalars": "[18446744073709551616, 1, 1]"},
    {"optimizer_scalars": "[1" + "0" * 400 + ", 1, 1]"},
    {"layer_sizes": "[1" + "0" * 400 + ", 1]"},
    {"layer_sizes": "[2.0, 1]"},
    {"layer_sizes": "[true, 1]"},
    {"version": "1" + "0" * 400},
    {"version": "1.0"},
    {"version": "true"},
    {"format": "null"},
])
def test_hostile_json_values(tmp_path, fields):
    with pytest.raises(ValueError, match="not a valid cyneuron model"):
        cn.load(_raw_meta_file(tmp_path, _meta_text(**fields)))


@pytest.mark.parametrize("text", [
    "", "[]", "null", "1", '"x"', "{", '{"format": "cyneuron-model"} x',
    '{"format": "cyneuron-model", "format": "cyneuron-model"}',
    json.dumps({**GOOD_META, "surprise": 1}),
    json.dumps(GOOD_META).replace('"mse"', '"\\ud800"'),
])
def test_malformed_json_header(tmp_path, text):
    with pytest.raises(ValueError, match="'meta'|meta|header|surprise"):
        cn.load(_raw_meta_file(tmp_path, text))


def test_header_not_utf8(tmp_path):
    members = _good_members()
    members[0] = Member("meta.npy", npy_bytes(np.frombuffer(b"{\xff}", dtype=np.uint8)))
    with pytest.raises(ValueError, match="UTF-8"):
        cn.load(_write_zip(tmp_path / "m.npz", members))


# --- what can be opened --------------------------------------------------------------------

def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        cn.load(tmp_path / "does-not-exist.npz")


def test_directory_and_device_are_refused(tmp_path):
    with pytest.raises(ValueError, match="regular file"):
        cn.load(tmp_path)
    if os.path.exists("/dev/null"):
        with pytest.raises(ValueError, match="regular file"):
            cn.load("/dev/null")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs os.mkfifo (POSIX)")
def test_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    outcome = []

    def target():
        try:
            cn.load(fifo)
            outcome.append("loaded")
        except Exception as exc:
            outcome.append(exc)

    th = threading.Thread(target=target, daemon=True)
    th.start()
    th.join(5.0)
    if th.is_alive():
        # unblock the reader (open for writing, then EOF) so the test run can go on
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
        th.join(5.0)
        pytest.fail("cn.load blocked on a FIFO")
    assert isinstance(outcome[0], ValueError) and "regular file" in str(outcome[0])


def test_non_zip_says_not_a_zip(tmp_path):
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"\x00\x01garbage" * 10)
    evil = tmp_path / "evil.npz"
    with open(evil, "wb") as f:
        pickle.dump({"meta": "x"}, f)
    npy = tmp_path / "single.npy"
    np.save(npy, np.zeros(3))
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    for path in (junk, evil, npy, empty):
        with pytest.raises(ValueError, match=r"not a zip \(\.npz\) archive") as info:
            cn.load(path)
        assert "pickle" not in str(info.value)


def test_path_must_be_a_path():
    with pytest.raises(TypeError, match="path"):
        cn.load(3)
    with pytest.raises(TypeError, match="path"):
        cn.load(_io.BytesIO(b""))


# --- optimizer state: only what training could have produced ---------------------------------

def _with_state(tmp_path, net, scalars=None, state=None):
    meta, members = _model_members(net, tmp_path)
    if scalars is not None:
        meta["optimizer_scalars"] = scalars
        members = _replace(members, "meta.npy", _meta_bytes(meta))
    if state is not None:
        members = _replace(members, "optimizer_state.npy", npy_bytes(state))
    return _write_zip(tmp_path / "m.npz", reseal(members))


@pytest.mark.parametrize("optimizer", ["adam", "rmsprop"])
def test_negative_second_moments_are_refused(tmp_path, optimizer):
    net = _trained(optimizer)
    state = net.state.opt_state.copy()
    P = net.n_params
    assert (state[P:] > 0).any()
    state[P + 3] = -1e-3
    with pytest.raises(ValueError, match="second moment"):
        cn.load(_with_state(tmp_path, net, state=state))


@pytest.mark.parametrize("scalars,msg", [
    ([1e308, 1e308, 1e308], "step"),
    ([-1.0, 1.0, 1.0], "step"),
    ([2.5, 0.81, 0.998], "step"),
    ([float(2 ** 60), 0.0, 0.0], "step"),
    ([9.0, 1.0, 1.0], "beta"),
    ([9.0, 0.5, 0.9910359], "beta_1"),
    ([9.0, 0.9 ** 9, 0.5], "beta_2"),
    ([9.0, 0.9 ** 9 * (1 + 1e-9), 0.999 ** 9], "beta_1"),
    ([0.0, 0.9, 0.999], "beta"),
    ([9.0, -0.9 ** 9, 0.999 ** 9], "beta_1"),
    ([9.0, 0.9 ** 9], "optimizer_scalars"),
    ("x", "optimizer_scalars"),
    ([9, True, 1.0], "optimizer_scalars"),
])
def test_inconsistent_adam_scalars_are_refused(tmp_path, scalars, msg):
    net = _trained("adam", epochs=3)           # 9 steps
    assert net.state.opt_scalars[0] == 9
    with pytest.raises(ValueError, match=msg):
        cn.load(_with_state(tmp_path, net, scalars=scalars))


def test_adam_state_at_step_zero_must_be_zero(tmp_path):
    net = _trained("adam", epochs=3)
    with pytest.raises(ValueError, match="step 0"):
        cn.load(_with_state(tmp_path, net, scalars=[0.0, 1.0, 1.0]))


@pytest.mark.parametrize("optimizer,half", [("sgd", 0), ("sgd", 1), ("momentum", 1),
                                            ("rmsprop", 0), (None, 0)])
def test_state_an_optimizer_never_writes_must_be_zero(tmp_path, optimizer, half):
    net = _trained(optimizer or "sgd")
    if optimizer is None:
        net.reset_optimizer()
    state = net.state.opt_state.copy()
    state[half * net.n_params + 1] = 0.5
    with pytest.raises(ValueError, match="optimizer_state"):
        cn.load(_with_state(tmp_path, net, state=state))


@pytest.mark.parametrize("optimizer", [None, "sgd", "momentum", "rmsprop"])
def test_scalars_of_optimizers_without_steps_must_be_initial(tmp_path, optimizer):
    net = _trained(optimizer or "sgd")
    if optimizer is None:
        net.reset_optimizer()
    with pytest.raises(ValueError, match="optimizer_scalars"):
        cn.load(_with_state(tmp_path, net, scalars=[3.0, 1.0, 1.0]))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("betas", [(0.9, 0.999), (0.5, 0.6), (0.0, 0.0), (0.999999, 0.9999999)])
def test_long_adam_runs_still_load(tmp_path, dtype, betas):
    """Beta powers far into underflow (0.5**1200 = 0 through the subnormals) load back."""
    net = cn.Network([2, 2, 1], activation="tanh", loss="mse", seed=2, dtype=dtype)
    rng = np.random.default_rng(2)
    X, y = rng.standard_normal((40, 2)), rng.standard_normal((40, 1))
    net.fit(X, y, epochs=30, learning_rate=1e-3, batch_size=1, optimizer="adam",
            optimizer_params={"beta_1": betas[0], "beta_2": betas[1]})
    assert net.state.opt_scalars[0] == 1200
    back = cn.load(cn.save(net, tmp_path / "m"))
    assert back.state.opt_scalars.tobytes() == net.state.opt_scalars.tobytes()
    assert back.state.opt_state.tobytes() == net.state.opt_state.tobytes()


def test_bad_rng_states_are_refused(tmp_path):
    net = _trained()
    meta, members = _model_members(net, tmp_path)
    good = meta["rng"]
    bad = [
        {**good, "state": {**good["state"], "inc": good["state"]["inc"] - 1}},   # inc is odd
        {**good, "state": {**good["state"], "state": 2 ** 128}},
        {**good, "state": {**good["state"], "state": -1}},
        {**good, "has_uint32": 2},
        {**good, "uinteger": 2 ** 32},
        {**good, "extra": 1},
        {**good, "state": [1, 2]},
        {k: val for k, val in good.items() if k != "uinteger"},
    ]
    for rng_state in bad:
        meta["rng"] = rng_state
        path = _write_zip(tmp_path / "m.npz", _replace(members, "meta.npy", _meta_bytes(meta)))
        with pytest.raises(ValueError, match="rng"):
            cn.load(path)


# --- saving -----------------------------------------------------------------------------------

@pytest.mark.parametrize("where", ["W", "b", "state"])
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_save_refuses_non_finite_models(tmp_path, where, value):
    net = _trained("adam")
    if where == "W":
        net.state.layers[1][0][0, 1] = value
    elif where == "b":
        net.state.layers[0][1][2] = value
    else:
        net.state.opt_state[5] = value
    with pytest.raises(ValueError, match="NaN or infinity"):
        cn.save(net, tmp_path / "diverged")
    assert list(tmp_path.iterdir()) == []


def test_save_refuses_impossible_optimizer_state(tmp_path):
    net = _trained("adam")
    net.state.opt_state[net.n_params] = -1.0
    with pytest.raises(ValueError, match="second moment"):
        cn.save(net, tmp_path / "bad")
    assert list(tmp_path.iterdir()) == []


# --- compatibility and the building blocks ----------------------------------------------------

@pytest.mark.parametrize("name", ["v1_adam_f64", "v1_nesterov_f32", "v1_rmsprop_f64",
                                  "v1_untrained"])
def test_version_1_files_still_load(name):
    """Files written by io.py before the hardening (tests/data/make_v1_fixtures.py)."""
    path = os.path.join(DATA, name + ".npz")
    net = cn.load(path)
    with np.load(path) as raw:
        meta = json.loads(raw["meta"].tobytes())
        assert list(net.layer_sizes) == meta["layer_sizes"]
        for l, (W, b) in enumerate(net.get_weights()):
            assert bits(W) == bits(raw[f"W{l}"]) and bits(b) == bits(raw[f"b{l}"])
        assert net.state.opt_state.tobytes() == raw["optimizer_state"].tobytes()
    assert list(net.state.opt_scalars) == meta["optimizer_scalars"]
    assert net.rng.bit_generator.state == meta["rng"]
    assert (net.optimizer and net.optimizer.name) == (meta["optimizer"] and
                                                       meta["optimizer"]["name"])
    out = net.feedforward(np.linspace(-1, 1, 3 * net.n_inputs).reshape(3, -1))
    assert np.isfinite(out).all()


def _file_content(path):
    """(header bytes, {name: array bytes}) of a model file in either format."""
    if str(path).endswith(".npz"):
        with np.load(path) as f:
            return f["meta"].tobytes(), {k: f[k].tobytes() for k in f.files if k != "meta"}
    with open(path, "rb") as f:
        data = f.read()
    n = int.from_bytes(data[:8], "little")
    return data[8:8 + n], data[8 + n:]


V2_FILES = ["v2_adam_f64.npz", "v2_classifier.npz", "v2_regressor.safetensors"]


@pytest.mark.parametrize("name", V2_FILES)
def test_version_2_files_load_without_extras(name):
    """cyneuron reads .safetensors itself: the fixtures load wherever the tests run."""
    model = cn.load(os.path.join(DATA, name))
    assert model.digest() and hasattr(model, "predict" if "v2_adam" not in name else "fit")


# saving a .safetensors file back needs the safetensors package: that case is collected
# where it is installed (every case in CI's extras cell), never skipped
@pytest.mark.parametrize("name", [n for n in V2_FILES if n.endswith(".npz")
                                  or importlib.util.find_spec("safetensors")])
def test_version_2_files_load_and_save_back_to_the_same_bytes(tmp_path, name):
    """Files written by commit ca05a13, before the formats were split into codecs, a
    schema and save/load (tests/data/make_v2_fixtures.py): they load, and saving the
    loaded model writes the same header and arrays, byte for byte."""
    path = os.path.join(DATA, name)
    model = cn.load(path)
    again = cn.save(model, tmp_path / name)
    assert _file_content(again) == _file_content(path)


@pytest.mark.parametrize("optimizer", [None, "sgd", "nesterov", "rmsprop", "adam"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_saved_file_is_version_2_and_reloads_exactly(tmp_path, optimizer, dtype):
    net = _trained(optimizer or "sgd", dtype=dtype)
    if optimizer is None:
        net.reset_optimizer()
    path = cn.save(net, tmp_path / "m")
    with zipfile.ZipFile(path) as zf:
        names = sorted(zf.namelist())
        assert all(i.compress_type == STORED for i in zf.infolist())
    assert names == sorted(["meta.npy", "optimizer_state.npy", "W0.npy", "b0.npy", "W1.npy",
                            "b1.npy"])
    with np.load(path) as raw:
        meta = json.loads(raw["meta"].tobytes())
    assert meta["format"] == "cyneuron-model" and meta["version"] == 2
    assert len(meta["state_digest"]) == 64
    back = cn.load(path)
    assert bits(back.get_weights()) == bits(net.get_weights())
    assert back.state.opt_state.tobytes() == net.state.opt_state.tobytes()
    assert back.state.opt_scalars.tobytes() == net.state.opt_scalars.tobytes()
    assert back.rng.bit_generator.state == net.rng.bit_generator.state


def test_network_embedded_in_a_larger_archive(tmp_path):
    """The building blocks: two networks under prefixes next to other members."""
    from cyneuron import io as cio
    a, b = _trained("adam"), _trained("momentum", dtype="float32")
    members = []
    for prefix, net in (("first/", a), ("second/", b)):
        meta, arrs = cio.network_to_arrays(net, prefix=prefix)
        members.append(Member(prefix + "meta.npy", npy_bytes(cio.encode_header(meta))))
        members += [Member(k + ".npy", npy_bytes(v)) for k, v in arrs.items()]
    members.append(Member("classes.npy", npy_bytes(np.array([3, 7]))))
    path = _write_zip(tmp_path / "big.npz", members)
    with cio.open_archive(path) as archive:
        assert cio.read_array(archive, "classes", np.dtype(np.int64), (2,)).tolist() == [3, 7]
        for prefix, net in (("first/", a), ("second/", b)):
            meta = cio.read_header(archive, prefix + "meta")
            back = cio.network_from_arrays(meta, archive, prefix=prefix)
            assert bits(back.get_weights()) == bits(net.get_weights())
            assert back.state.opt_state.tobytes() == net.state.opt_state.tobytes()
    # and from a plain dict of arrays, with the same checks
    meta, arrs = cio.network_to_arrays(a, prefix="p.")
    back = cio.network_from_arrays(meta, arrs, prefix="p.")
    assert bits(back.get_weights()) == bits(a.get_weights())
    arrs["p.W0"] = arrs["p.W0"].astype(np.float32)
    with pytest.raises(ValueError, match="'p.W0'"):
        cio.network_from_arrays(meta, arrs, prefix="p.")
    # load() reads a model file, whose header is the top-level 'meta'
    with pytest.raises(ValueError, match="missing 'meta' header"):
        cn.load(path)


def test_save_and_load_with_a_bytes_path(tmp_path):
    # save documents bytes paths; np.savez appended ".npz" to one with str methods
    net = cn.Network([3, 2], seed=4)
    base = os.fsencode(tmp_path / "model")
    path = cn.save(net, base)
    assert path == base + b".npz" and os.path.isfile(path)
    assert cn.load(path).digest() == net.digest()
    assert cn.save(net, path) == path                      # the suffix is not doubled


# --- numerics= through save and load; Network.save ----------------------------------------

def _net(**kw):
    kw.setdefault("seed", 0)
    return cn.Network([3, 5, 2], activation=["tanh", "sigmoid"], loss="binary_crossentropy",
                      **kw)


def test_numerics_survives_save_and_load(tmp_path):
    net = _net(numerics="portable")
    X = np.linspace(-2, 2, 30).reshape(10, 3)
    net.fit(X, (X[:, :2] > 0).astype(float), epochs=2, learning_rate=0.1)
    cn.save(net, tmp_path / "m.npz")
    back = cn.load(tmp_path / "m.npz")
    assert back.numerics == "portable"
    assert back.digest() == net.digest()
    assert bits(back.feedforward(X)) == bits(net.feedforward(X))
    assert _net().numerics == "numpy"


def test_network_save_method_is_cn_save(tmp_path):
    net = _net(numerics="portable")
    path = net.save(tmp_path / "m")
    assert path.endswith("m.npz")
    assert cn.load(path).digest() == net.digest()
