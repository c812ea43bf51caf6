"""model.digest(): SHA-256 over architecture, dtype and weights, stored and checked by save/load."""
import hashlib
import json

import numpy as np
import pytest

import cyneuron as cn


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


def _rewrite(path, out, meta_fn=None, arrays_fn=None):
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(arrays["meta"].tobytes())
    if meta_fn:
        meta_fn(meta)
    if arrays_fn:
        arrays_fn(arrays)
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
