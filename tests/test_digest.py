"""cyneuron._digest: model.digest(), SHA-256 over architecture, dtype and weights, checked by load.

Oracle: the digest recomputed by hand from the documented layout (hashlib).
"""
import hashlib
import json

import numpy as np
import pytest

import cyneuron as cn
from cyneuron._digest import state_digest


def _net(dtype="float64", act="tanh"):
    return cn.Network([3, 4, 2], activation=[act, "sigmoid"], seed=1, dtype=dtype)


def _by_hand(net):
    # the documented layout, written out independently of cyneuron._digest
    doc = json.dumps({"activations": [a.spec for a in net.activations],
                      "dtype": net.dtype.name, "layer_sizes": list(net.layer_sizes)},
                     sort_keys=True, separators=(",", ":"))
    data = b"cyneuron-digest-1\n" + doc.encode() + b"\n"
    for W, b in net.get_weights():
        data += W.astype(W.dtype.newbyteorder("<")).tobytes(order="C") + b.tobytes()
    return hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_digest_is_the_documented_sha256(dtype):
    net = _net(dtype, ("leaky_relu", 0.2))
    d = net.digest()
    assert len(d) == 64 and int(d, 16) >= 0
    assert d == _by_hand(net)
    assert f"digest={d[:12]!r}" in repr(net)


def test_digest_changes_with_one_ulp_the_dtype_and_the_architecture():
    net = _net()
    d = net.digest()
    w = net.get_weights()
    w[1][1][0] = np.nextafter(w[1][1][0], np.inf)
    other = _net()
    other.set_weights(w)
    assert other.digest() != d
    assert _net("float32").digest() != d
    assert _net(act="relu").digest() != d
    same = _net()
    assert same.digest() == d and same is not net


def _rewrite(path, out, meta_fn=None, arrays_fn=None, reseal=True):
    """Copy the .npz model at `path` to `out` with its header and arrays changed;
    `reseal` stores a state digest computed anew (a deliberately crafted file),
    so that what runs after the state-digest check is tested too."""
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(arrays["meta"].tobytes())
    if meta_fn:
        meta_fn(meta)
    if arrays_fn:
        arrays_fn(arrays)
    if reseal and "state_digest" in meta:
        meta["state_digest"] = state_digest(meta, {k: a for k, a in arrays.items()
                                                   if k != "meta"})
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez(out, **arrays)
    return out


def test_save_stores_the_digest_and_load_checks_it(tmp_path):
    net = _net()
    path = cn.save(net, tmp_path / "m.npz")
    with np.load(path) as z:
        assert json.loads(z["meta"].tobytes())["digest"] == net.digest()
    assert cn.load(path).digest() == net.digest()

    def bump(arrays):
        arrays["W0"] = arrays["W0"].copy()
        arrays["W0"][0, 0] = np.nextafter(arrays["W0"][0, 0], np.inf)
    bad = _rewrite(path, tmp_path / "tampered.npz", arrays_fn=bump)
    with pytest.raises(ValueError, match="do not match the digest"):
        cn.load(bad)

    def drop(meta):
        del meta["digest"]
    old = cn.load(_rewrite(path, tmp_path / "old.npz", meta_fn=drop))   # files before digests
    assert old.digest() == net.digest()

    def garble(meta):
        meta["digest"] = 12
    with pytest.raises(ValueError, match="bad 'digest'"):
        cn.load(_rewrite(path, tmp_path / "garbled.npz", meta_fn=garble))


def test_estimator_digest_includes_the_labels_and_survives_save(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = np.where(X[:, 0] > 0, "yes", "no")
    clf = cn.MLPClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0).fit(X, y)
    d = clf.digest()
    assert len(d) == 64 and d != clf.network_.digest()
    assert cn.load(cn.save(clf, tmp_path / "c.npz")).digest() == d
    clf2 = cn.MLPClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0)
    clf2.fit(X, np.where(y == "yes", "oui", "non"))
    assert clf2.network_.digest() == clf.network_.digest() and clf2.digest() != d
    reg = cn.MLPRegressor(hidden_layer_sizes=(4,), max_iter=5, random_state=0).fit(X, X[:, 0])
    assert reg.digest() == reg.network_.digest()


# --- the state digest: everything a model file holds --------------------------------------

def _by_hand_state(path):
    """The documented state-digest bytes, written out from the raw archive."""
    with np.load(path) as z:
        meta = json.loads(z["meta"].tobytes())
        arrays = {k: z[k] for k in z.files if k != "meta"}
    stored = meta.pop("state_digest")
    data = b"cyneuron-state-1\n" + json.dumps(meta, sort_keys=True, separators=(",", ":")
                                               ).encode() + b"\n"
    for name in sorted(arrays):
        a = arrays[name]
        data += json.dumps([name, a.dtype.newbyteorder("<").str, list(a.shape)],
                           separators=(",", ":")).encode() + b"\n"
        data += np.ascontiguousarray(a, a.dtype.newbyteorder("<")).tobytes()
    return stored, hashlib.sha256(data).hexdigest()


def _classifier():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = np.array(["cat", "dog", "emu"])[np.argmax(X, axis=1)]
    return cn.MLPClassifier(hidden_layer_sizes=(5,), max_iter=20, random_state=0).fit(X, y), X


def test_state_digest_is_the_documented_sha256(tmp_path):
    clf, _ = _classifier()
    for model, name in ((clf, "c.npz"), (_net(), "n.npz")):
        stored, by_hand = _by_hand_state(cn.save(model, tmp_path / name))
        assert stored == by_hand


def test_swapped_class_labels_are_refused(tmp_path):
    """Swapping two labels in a classifier's header (the weights untouched) once
    loaded and predicted the wrong label on every row."""
    clf, X = _classifier()
    path = cn.save(clf, tmp_path / "c.npz")
    assert list(cn.load(path).predict(X)) == list(clf.predict(X))

    def swap(meta):
        meta["classes_"][0], meta["classes_"][1] = meta["classes_"][1], meta["classes_"][0]
    with pytest.raises(ValueError, match="modified or damaged"):
        cn.load(_rewrite(path, tmp_path / "swapped.npz", meta_fn=swap, reseal=False))


@pytest.mark.parametrize("change", [
    lambda m: m["params"].update(alpha=m["params"]["alpha"] * 2),        # estimator parameter
    lambda m: m.update(n_iter_=m["n_iter_"] + 1),                          # fitted attribute
    lambda m: m["network"]["rng"]["state"].update(inc=m["network"]["rng"]["state"]["inc"] + 2),
    lambda m: m["network"]["optimizer"]["params"].update(beta_1=0.8),     # optimizer
    lambda m: m.pop("feature_names_in_", None) or m.update(extra=1),       # an added field
])
def test_any_change_to_an_estimator_header_is_refused(tmp_path, change):
    clf, _ = _classifier()
    path = cn.save(clf, tmp_path / "c.npz")
    with pytest.raises(ValueError, match="modified or damaged"):
        cn.load(_rewrite(path, tmp_path / "bad.npz", meta_fn=change, reseal=False))


def test_changed_optimizer_state_is_refused_even_when_possible(tmp_path):
    """A first moment changed by one ulp is state training could have produced:
    only the digest can tell."""
    net = _net()
    rng = np.random.default_rng(2)
    net.fit(rng.normal(size=(8, 3)), rng.uniform(size=(8, 2)), epochs=2, optimizer="adam")
    path = cn.save(net, tmp_path / "m.npz")

    def nudge(arrays):
        arrays["optimizer_state"] = arrays["optimizer_state"].copy()
        arrays["optimizer_state"][0] = np.nextafter(arrays["optimizer_state"][0], np.inf)
    with pytest.raises(ValueError, match="modified or damaged"):
        cn.load(_rewrite(path, tmp_path / "bad.npz", arrays_fn=nudge, reseal=False))
    resealed = cn.load(_rewrite(path, tmp_path / "crafted.npz", arrays_fn=nudge))
    assert resealed.state.opt_state.tobytes() != net.state.opt_state.tobytes()


def test_version_2_needs_the_state_digest_and_version_1_files_load(tmp_path):
    path = cn.save(_net(), tmp_path / "m.npz")

    def drop(meta):
        del meta["state_digest"]
    with pytest.raises(ValueError, match="lacks 'state_digest'"):
        cn.load(_rewrite(path, tmp_path / "dropped.npz", meta_fn=drop))

    def garble(meta):
        meta["state_digest"] = "Z" * 64
    with pytest.raises(ValueError, match="bad 'state_digest'"):
        cn.load(_rewrite(path, tmp_path / "garbled.npz", meta_fn=garble, reseal=False))

    def as_v1(meta):     # a file from before the state digest: the weight digest only
        del meta["state_digest"]
        meta["version"] = 1
    old = cn.load(_rewrite(path, tmp_path / "v1.npz", meta_fn=as_v1))
    assert old.digest() == _net().digest()
