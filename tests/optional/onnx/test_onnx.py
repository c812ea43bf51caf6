"""cyneuron._onnx: cn.to_onnx and the skl2onnx converter, checked with onnxruntime as the oracle.
"""
import warnings

import numpy as np
import onnx
import pytest
from helpers import without_module
from onnx_ulp import session, ulp, worst
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

import cyneuron as cn
from cyneuron import _registry as registry

# The bound published in docs/onnx.md and the README (measured on 10000 nets per
# dtype with tests/optional/onnx/onnx_ulp.py); here checked on the first 300.
ULP_BOUND = {"float64": 906, "float32": 368}

# every hidden activation the registry knows (a new one fails here until it exports)
ACTS = [("leaky_relu", 0.2) if name == "leaky_relu" else name
        for name in registry.ACTIVATION_NAMES if not registry.activation(name).output_only]


def _run(proto, X):
    return session(proto).run(None, {"X": X})


def _quiet(fn, *a, **k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fn(*a, **k)


def _data(n=120, d=5, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("act", ACTS, ids=str)
def test_every_activation_runs_in_onnxruntime_within_the_bound(dtype, act):
    net = cn.Network([5, 7, 6, 3], activation=[act, act, "softmax"],
                     loss="categorical_crossentropy", seed=3, dtype=dtype)
    proto = cn.to_onnx(net)
    assert isinstance(proto, onnx.ModelProto)
    onnx.checker.check_model(proto, full_check=True)
    ops = [n.op_type for n in proto.graph.node]
    assert "LeakyRelu" not in ops and "ZipMap" not in ops
    for rows in (1, 37):                 # a dynamic batch dimension
        X = _data(rows).astype(dtype)
        got = _run(proto, X)[0]
        assert got.dtype == np.dtype(dtype) and got.shape == (rows, 3)
        assert ulp(got, net.feedforward(X)).max() <= ULP_BOUND[dtype]
    # an identity output (a regression net) too
    reg = cn.Network([5, 4, 2], activation=[act, "identity"], seed=4, dtype=dtype)
    X = _data(50).astype(dtype)
    got, want = _run(cn.to_onnx(reg), X)[0], reg.feedforward(X)
    np.testing.assert_allclose(got, want, rtol=0, atol=64 * np.finfo(dtype).eps *
                               (1 + np.abs(want).max()))


def test_leaky_relu_is_prelu_with_a_slope_of_the_graph_dtype_and_opsets():
    net = cn.Network([3, 4, 1], activation=[("leaky_relu", 0.1), "sigmoid"], seed=0)
    proto = cn.to_onnx(net)
    slopes = [t for t in proto.graph.initializer if t.name.startswith("slope")]
    assert [t.data_type for t in slopes] == [onnx.TensorProto.DOUBLE]
    assert onnx.numpy_helper.to_array(slopes[0]).tobytes() == np.array([0.1]).tobytes()
    assert proto.opset_import[0].version == 16        # float64 PRelu in onnxruntime
    p32 = cn.to_onnx(net, dtype="float32")
    assert p32.opset_import[0].version == 9
    assert p32.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    plain = cn.Network([3, 4, 1], activation=["tanh", "sigmoid"], seed=0)
    assert cn.to_onnx(plain).opset_import[0].version == 9
    X = _data(20, 3)
    for model, opset in ((net, 16), (net, 18), (plain, 13)):
        got = _run(cn.to_onnx(model, opset=opset), X)[0]
        assert ulp(got, model.feedforward(X)).max() <= ULP_BOUND["float64"]
    with pytest.raises(ValueError, match="opset must be an integer in \\[16,"):
        cn.to_onnx(net, opset=15)
    with pytest.raises(ValueError, match="opset"):
        cn.to_onnx(net, opset=10 ** 6)
    with pytest.raises(ValueError, match="dtype must be"):
        cn.to_onnx(net, dtype="float16")
    with pytest.raises(TypeError, match="model must be a cyneuron"):
        cn.to_onnx(object())
    with pytest.raises(NotFittedError):
        cn.to_onnx(cn.MLPClassifier())


def test_path_writes_the_model(tmp_path):
    net = cn.Network([2, 3, 1], seed=0)
    proto = cn.to_onnx(net, path=tmp_path / "m.onnx")
    assert (tmp_path / "m.onnx").read_bytes() == proto.SerializeToString()
    assert onnx.load(str(tmp_path / "m.onnx")).graph.output[0].name == "output"
    meta = {p.key: p.value for p in proto.metadata_props}
    assert meta["cyneuron_digest"] == net.digest()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_the_published_ulp_bound_holds_on_random_nets(dtype):
    d, seed = worst(300, dtype)
    assert 0 < d <= ULP_BOUND[dtype], (d, seed)     # 0 would mean nothing was compared


@pytest.mark.parametrize("labels", [np.array(["cat", "dog", "émeu"]), np.array([3, 7, -1]),
                                    np.array(["no", "yes"]), np.array([False, True])], ids=str)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_classifier_labels_identical_on_every_row(labels, dtype):
    X = _data(300)
    y = labels[(np.abs(X[:, 0] * 3 + X[:, 1]).astype(int)) % len(labels)]
    clf = _quiet(cn.MLPClassifier(hidden_layer_sizes=(8,), activation="tanh", max_iter=30,
                                  random_state=0, dtype=dtype).fit, X, y)
    proto = cn.to_onnx(clf)
    assert [o.name for o in proto.graph.output] == ["label", "probabilities"]
    Xd = X.astype(dtype)
    label, proba = _run(proto, Xd)
    want = clf.predict(X)
    assert label.shape == want.shape and list(label) == list(want)
    assert proba.dtype == np.dtype(dtype)
    assert ulp(proba, clf.predict_proba(X).astype(dtype)).max() <= ULP_BOUND[dtype]


def test_multilabel_classifier_and_regressor():
    X = _data(200)
    Y = np.column_stack([X[:, 0] > 0, X[:, 1] > 0.3, X[:, 2] < 0]).astype(int)
    clf = _quiet(cn.MLPClassifier(hidden_layer_sizes=(6,), max_iter=30, random_state=0).fit,
                 X, Y)
    label, proba = _run(cn.to_onnx(clf), X)
    assert label.dtype == np.int64 and np.array_equal(label, clf.predict(X))
    assert ulp(proba, clf.predict_proba(X)).max() <= ULP_BOUND["float64"]
    reg = _quiet(cn.MLPRegressor(hidden_layer_sizes=(6,), max_iter=30, random_state=0).fit,
                 X, X[:, 0] * 2 + 1)
    proto = cn.to_onnx(reg)
    assert [o.name for o in proto.graph.output] == ["predictions"]
    got = _run(proto, X)[0]
    np.testing.assert_allclose(got[:, 0], reg.predict(X), rtol=1e-13, atol=1e-13)


def test_skl2onnx_converts_a_whole_pipeline():
    import skl2onnx
    X = _data(300) * 4 + 2
    y = np.array(["a", "b", "c"])[(np.abs(X[:, 0] + X[:, 1]).astype(int)) % 3]
    pipe = Pipeline([("scale", StandardScaler()),
                     ("mlp", cn.MLPClassifier(hidden_layer_sizes=(10,), max_iter=40,
                                              random_state=0))])
    _quiet(pipe.fit, X, y)
    with pytest.raises(TypeError, match=r"got Pipeline; .*skl2onnx.to_onnx\(pipe, X\[:1\]\)"):
        cn.to_onnx(pipe)                         # cn.to_onnx says where a pipeline goes
    proto = skl2onnx.to_onnx(pipe, X[:1])
    onnx.checker.check_model(proto, full_check=True)
    assert "ZipMap" not in [n.op_type for n in proto.graph.node]
    label, proba = _run(proto, X)
    assert list(label) == list(pipe.predict(X))
    np.testing.assert_allclose(proba, pipe.predict_proba(X), rtol=0, atol=1e-13)
    # a float32 pipeline graph, and a regressor with integer-label-free outputs
    proto32 = skl2onnx.to_onnx(pipe, X[:1].astype(np.float32))
    _, p32 = _run(proto32, X.astype(np.float32))
    assert p32.dtype == np.float32
    np.testing.assert_allclose(p32, pipe.predict_proba(X), rtol=0, atol=1e-5)
    reg = Pipeline([("scale", StandardScaler()),
                    ("mlp", cn.MLPRegressor(hidden_layer_sizes=(5,), max_iter=40,
                                            random_state=0))])
    _quiet(reg.fit, X, X[:, :2])
    got = _run(skl2onnx.to_onnx(reg, X[:1]), X)[0]
    np.testing.assert_allclose(got, reg.predict(X), rtol=1e-12, atol=1e-12)
    yi = (X[:, 0] > 2).astype(np.int64) * 5
    clf = _quiet(Pipeline([("s", StandardScaler()),
                           ("m", cn.MLPClassifier(hidden_layer_sizes=(4,), max_iter=20,
                                                  random_state=0))]).fit, X, yi)
    label, _ = _run(skl2onnx.to_onnx(clf, X[:1]), X)
    assert label.dtype == np.int64 and np.array_equal(label, clf.predict(X))


def test_without_onnx_the_error_names_the_extra():
    code = ("import sys\n"
            "import cyneuron as cn\n"
            "assert 'onnx' not in [m.split('.')[0] for m in sys.modules if sys.modules[m]]\n"
            "try:\n"
            "    cn.to_onnx(cn.Network([2, 1]))\n"
            "except ImportError as e:\n"
            "    print(e)\n")
    out = without_module("onnx", code)
    assert "pip install 'cyneuron[onnx]'" in out
