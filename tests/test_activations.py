"""The activations added after the registry took its shape (issue 27, item 2):
elu (with its alpha) and gelu (the tanh form). Bits between the compiled core
and the reference in both numerics modes and both dtypes (forward, gradients,
whole fits, the tiny-net path stepping aside), values against the standard
library, the parameter through specs and model files, the estimators, and
the C header compiled and run. The gradient check against finite differences
is tests/test_gradcheck.py (its ACTS); PyTorch and onnxruntime as oracles are
tests/optional/{torch,onnx}/test_activations_*.py.
"""
import math
import subprocess
import sys
import warnings

import mpmath
import numpy as np
import pytest
from c_compiler import CC, env, needs_cc
from helpers import bits

import cyneuron as cn
from cyneuron import reference as ref

# every activation this file covers, with a non-default parameter where it takes one
SPECS = ["elu", ("elu", 0.5), ("elu", 0.0), "gelu"]
NUMERICS = ["numpy", "portable"]
DTYPES = ["float64", "float32"]

EDGES = [0.0, -0.0, 1e-300, -1e-300, 5e-324, -5e-324, -745.0, -750.0, 750.0, 710.0, -40.0,
         40.0, -1e-8, 1e-8, 88.7, -88.7, -103.9, 36.0, -36.0, 1.0, -1.0, 3.5, -2.25, 1e-3,
         -1e-3, 0.5, -0.5, 5.0, -5.0, 1e154, -1e154, 3e38, -3e38, 1e300, -1e300]


def _name(spec):
    return spec if isinstance(spec, str) else spec[0]


def _edges(dtype):
    z = np.array(EDGES, dtype=np.float64)
    if dtype == "float32":
        z = z[np.abs(z) <= 3e38]
    return z.astype(dtype).reshape(-1, 1)


def _unit(spec, dtype, numerics, backend):
    """A 1-1 network whose output is the activation of its input."""
    net = cn.Network([1, 1], activation=spec, loss="mse", dtype=dtype, numerics=numerics,
                     backend=backend)
    net.set_weights([(np.ones((1, 1)), np.zeros(1))])
    return net


def _pair(sizes, numerics, dtype, **kw):
    kw = dict(loss="mse", seed=4, dtype=dtype, numerics=numerics, **kw)
    return (cn.Network(sizes, backend="cython", **kw), cn.Network(sizes, backend="numpy", **kw))


# --- bits: the core against the reference ------------------------------------------------------

@pytest.mark.bitwise
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("numerics", NUMERICS)
@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_edges_match_the_reference(spec, numerics, dtype):
    z = _edges(dtype)
    fast = _unit(spec, dtype, numerics, "cython")
    slow = _unit(spec, dtype, numerics, "numpy")
    y = np.zeros_like(z)
    with np.errstate(all="ignore"):
        assert bits(fast.feedforward(z)) == bits(slow.feedforward(z))
        assert bits(fast.gradients(z, y)) == bits(slow.gradients(z, y))
        # a weight of 1e30: pre-activations overflow to +-inf
        for net in (fast, slow):
            net.set_weights([(np.full((1, 1), 1e30), np.zeros(1))])
        assert bits(fast.feedforward(z)) == bits(slow.feedforward(z))
        assert bits(fast.gradients(z, y)) == bits(slow.gradients(z, y))
        # the layer's own derivative (mse's gradient is 2 (a - y) / n: a - 0 scaled)
        act = fast.activations[0]
        with ref.numerics(numerics):
            a = act.forward(z)
            d = act.backward(z if act.from_input else a, np.ones_like(z))
    assert a.dtype == z.dtype and d.dtype == z.dtype
    moderate = np.abs(z) < 1e15
    assert np.isfinite(a[moderate]).all() and np.isfinite(d[moderate]).all()


@pytest.mark.bitwise
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("numerics", NUMERICS)
@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_forward_gradients_and_fits_match_the_reference(spec, numerics, dtype):
    rng = np.random.default_rng(7)
    X = (rng.standard_normal((37, 4)) * 2.5).astype(dtype)
    Y = rng.standard_normal((37, 3)).astype(dtype)
    for acts in ([spec, spec, "identity"], ["tanh", spec, spec]):
        fast, slow = _pair([4, 9, 6, 3], numerics, dtype, activation=acts)
        assert fast.feedforward(X).tobytes() == slow.feedforward(X).tobytes()
        assert bits(fast.gradients(X, Y)) == bits(slow.gradients(X, Y))
        for opt in ("sgd", "adam", "momentum"):
            hf = fast.fit(X, Y, epochs=4, batch_size=8, optimizer=opt, learning_rate=0.01)
            hs = slow.fit(X, Y, epochs=4, batch_size=8, optimizer=opt, learning_rate=0.01)
            assert hf["loss"] == hs["loss"]
            assert bits(fast.get_weights()) == bits(slow.get_weights())


@pytest.mark.bitwise
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("numerics", NUMERICS)
@pytest.mark.parametrize("batch_size", [None, 1, 2])
def test_tiny_nets_train_like_the_reference(dtype, numerics, batch_size):
    """A 2-3-1 net takes the fused tiny path for inference; its training loops
    know only derivatives through the output, so training steps aside."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((5, 2)).astype(dtype)
    Y = rng.standard_normal((5, 1)).astype(dtype)
    for acts in ([s, s] for s in SPECS):
        fast, slow = _pair([2, 3, 1], numerics, dtype, activation=acts)
        hf = fast.fit(X, Y, epochs=30, learning_rate=0.1, batch_size=batch_size)
        hs = slow.fit(X, Y, epochs=30, learning_rate=0.1, batch_size=batch_size)
        assert hf["loss"] == hs["loss"]
        assert bits(fast.get_weights()) == bits(slow.get_weights())
        assert fast.feedforward(X).tobytes() == slow.feedforward(X).tobytes()


@pytest.mark.bitwise
@pytest.mark.parametrize("numerics", NUMERICS)
def test_dropout_and_penalties_match_the_reference(numerics):
    rng = np.random.default_rng(5)
    X, Y = rng.standard_normal((30, 4)), rng.standard_normal((30, 2))
    acts = [spec for spec in SPECS[:2]] + ["identity"]
    fast, slow = _pair([4, 8, 6, 2], numerics, "float64", activation=acts, dropout=0.25,
                       l2=1e-3, l1=1e-4)
    kw = dict(epochs=5, batch_size=7, optimizer="adam")
    assert fast.fit(X, Y, **kw)["loss"] == slow.fit(X, Y, **kw)["loss"]
    assert bits(fast.get_weights()) == bits(slow.get_weights())


# --- values ------------------------------------------------------------------------------------

def _exact(spec, x):
    """The activation and its derivative at x, in the standard library's float64."""
    name = _name(spec)
    alpha = 1.0 if isinstance(spec, str) else spec[1]
    if name == "elu":
        if x > 0:
            return x, 1.0
        return alpha * math.expm1(x), alpha * math.exp(x)
    if name == "gelu":
        beta, kappa = math.sqrt(2 / math.pi), 0.044715
        t = math.tanh(beta * (x + kappa * x ** 3))
        d = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * beta * (1 + 3 * kappa * x * x)
        return 0.5 * x * (1 + t), d
    raise AssertionError(name)


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_values_against_the_standard_library(spec):
    z = np.array([v for v in EDGES if math.isfinite(v) and abs(v) < 700]).reshape(-1, 1)
    net = _unit(spec, "float64", "numpy", "cython")
    a = net.feedforward(z).ravel()
    act = net.activations[0]
    d = act.backward(z, np.ones_like(z)).ravel()
    for x, got_a, got_d in zip(z.ravel(), a, d):
        want_a, want_d = _exact(spec, x)
        # elu: exp(z) - 1 rather than expm1, an absolute error of about an ulp of 1
        # near 0; gelu: 1 + tanh cancels for negative z, an ulp of 1 times |z|
        tol = 4.5e-16 * max(1.0, abs(x))
        assert got_a == pytest.approx(want_a, rel=4e-16, abs=tol)
        assert got_d == pytest.approx(want_d, rel=4e-16, abs=tol if _name(spec) == "gelu"
                                      else 1e-300)


def test_elu_is_continuous_and_saturates_at_minus_alpha():
    for alpha in (1.0, 0.5, 2.0):
        net = _unit(("elu", alpha), "float64", "numpy", "cython")
        a = net.feedforward(np.array([[0.0], [-0.0], [-40.0], [-800.0], [-1e-20]])).ravel()
        assert list(a[:4]) == [0.0, 0.0, -alpha, -alpha]
        assert a[4] == 0.0                      # exp(-1e-20) - 1 rounds to 0 (no expm1)


def test_gelu_is_the_tanh_form_with_correctly_rounded_constants():
    with mpmath.workprec(200):
        assert ref.GELU_BETA == float(mpmath.sqrt(2 / mpmath.pi))
    assert ref.GELU_KAPPA == 0.044715
    net = _unit("gelu", "float64", "numpy", "cython")
    a = net.feedforward(np.array([[0.0], [1.0], [-1.0], [40.0], [-40.0]])).ravel()
    assert a[0] == 0.0 and a[3] == 40.0 and a[4] == 0.0
    # the tanh form, not the erf form: 0.8411919906082768 against erf's 0.8413447460685429
    assert a[1] == pytest.approx(0.8411919906082768, rel=2e-16)
    assert a[2] == pytest.approx(0.8411919906082768 - 1.0, rel=1e-15)   # gelu(-z) = gelu(z) - z


# --- the parameter -----------------------------------------------------------------------------

def test_the_parameter_travels_through_specs_and_model_files(tmp_path):
    net = cn.Network([3, 4, 2], activation=[("elu", 0.5), "elu"], seed=1)
    assert [a.spec for a in net.activations] == [{"name": "elu", "alpha": 0.5},
                                                 {"name": "elu", "alpha": 1.0}]
    assert cn.Network([3, 2], activation={"name": "elu", "alpha": 0.25}).activations[0].param \
        == 0.25
    X = np.random.default_rng(0).standard_normal((5, 3))
    cn.save(net, tmp_path / "m.npz")
    back = cn.load(tmp_path / "m.npz")
    assert [a.spec for a in back.activations] == [a.spec for a in net.activations]
    assert back.feedforward(X).tobytes() == net.feedforward(X).tobytes()
    for bad, err in (((("elu", -1.0)), ValueError), ((("elu", float("nan"))), ValueError),
                     ((("elu", "x")), TypeError)):
        with pytest.raises(err, match="elu alpha must be"):
            cn.Network([3, 2], activation=bad)


# --- the estimators ----------------------------------------------------------------------------

@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_estimators_take_it_as_a_hidden_activation(spec):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    y = X @ np.array([1.0, -2.0, 0.5])
    est = cn.MLPRegressor(hidden_layer_sizes=(5,), activation=spec, max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
    assert est.network_.activations[0].name == _name(spec)
    assert est.predict(X).shape == (40,)
    with pytest.raises(ValueError, match="activation"):
        cn.MLPRegressor(activation=(_name(spec), -1.0)).fit(X, y)


@pytest.mark.parametrize("spec", [("elu", 0.5), [("elu", 0.5), "gelu"], ("leaky_relu", 0.1)],
                         ids=str)
def test_an_estimator_with_a_parameter_loads_back(tmp_path, spec):
    """A (name, param) activation survives the estimator's model file (it came
    back as a list, read as one name per layer, and the file was refused)."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((30, 3))
    y = X[:, 0] - X[:, 1]
    sizes = (4,) if isinstance(spec, tuple) else (4, 3)
    est = cn.MLPRegressor(hidden_layer_sizes=sizes, activation=spec, max_iter=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
    cn.save(est, tmp_path / "est.npz")
    back = cn.load(tmp_path / "est.npz")
    assert back.get_params()["activation"] == spec
    assert back.predict(X).tobytes() == est.predict(X).tobytes()


# --- export_c: the header compiled and run -----------------------------------------------------

DRIVER = """#include <stdio.h>
#include <stdlib.h>
#include "m.h"
int main(int argc, char **argv) {
    long n = atol(argv[1]);
    T *x = malloc(sizeof(T) * n * NIN), *y = malloc(sizeof(T) * n * NOUT);
    FILE *f = fopen(argv[2], "rb");
    if (argc != 4 || !x || !y || !f || fread(x, sizeof(T), n * NIN, f) != (size_t)(n * NIN))
        return 1;
    fclose(f);
    m_predict_n(x, y, n);
    if (!(f = fopen(argv[3], "wb")) || fwrite(y, sizeof(T), n * NOUT, f) != (size_t)(n * NOUT))
        return 1;
    fclose(f);
    return 0;
}
"""


@needs_cc
@pytest.mark.bitwise
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_exported_c_computes_the_portable_bits(tmp_path, spec, dtype):
    """The header, compiled with -O2, gives a portable network's own feedforward
    bit for bit (and the reference under portable numerics for a numpy one)."""
    T = "float" if dtype == "float32" else "double"
    rng = np.random.default_rng(2)
    X = np.concatenate([rng.normal(0, 3, (200, 3)), np.zeros((1, 3)), np.full((1, 3), 80.0),
                        np.full((1, 3), -80.0), rng.normal(0, 1e-6, (3, 3))]).astype(dtype)
    for numerics in NUMERICS:
        net = cn.Network([3, 6, 2], activation=[spec, spec], dtype=dtype, seed=3,
                         numerics=numerics)
        net.set_weights([(rng.normal(0, 3, W.shape) * rng.choice([1e-3, 1, 10], W.shape),
                          rng.normal(0, 2, b.shape)) for W, b in net.get_weights()])
        cn.export_c(net, tmp_path / "m.h", name="m")
        src = f"#define T {T}\n#define NIN 3\n#define NOUT 2\n" + DRIVER
        (tmp_path / "d.c").write_text(src)
        exe = tmp_path / ("d.exe" if sys.platform == "win32" else "d")
        res = subprocess.run([*CC, "-std=c99", "-O2", "-Wall", "-Wextra", "-I", str(tmp_path),
                              str(tmp_path / "d.c"), "-o", str(exe)],
                             capture_output=True, text=True, env=env())
        assert res.returncode == 0 and res.stderr == "", res.stderr
        X.tofile(tmp_path / "x.bin")
        subprocess.run([str(exe), str(len(X)), str(tmp_path / "x.bin"), str(tmp_path / "y.bin")],
                       check=True, env=env())
        got = np.fromfile(tmp_path / "y.bin", dtype=dtype).reshape(len(X), 2)
        with np.errstate(all="ignore"):
            if numerics == "portable":
                want = net.feedforward(X)
            else:
                with ref.numerics("portable"):
                    want = ref.feedforward(net.get_weights(), net.activations, X)
        assert got.tobytes() == want.tobytes()
