"""softplus and silu: the activations whose derivative is written through the
layer's input z (silu's output does not determine z). Bits against the
reference on edge inputs and on tiny nets (which take the fused path for
inference but not for training), values against the standard library."""
import math

import numpy as np
import pytest
from helpers import bits

import cyneuron as cn
from cyneuron import reference as ref

pytestmark = pytest.mark.bitwise

EDGES = [0.0, 1e-300, -1e-300, 5e-324, -745.0, -750.0, 750.0, 710.0, -40.0, 40.0, -1e-8,
         1e-8, 88.7, -88.7, -103.9, 36.0, -36.0, 1.0, -1.0, 3.5, -2.25]


def _unit(name, dtype):
    net = cn.Network([1, 1], activation=name, loss="mse", dtype=dtype)
    net.set_weights([(np.ones((1, 1)), np.zeros(1))])
    return net


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", ["softplus", "silu"])
def test_edges_match_the_reference(name, dtype):
    z = np.array(EDGES, dtype=np.float64)
    if dtype == "float32":
        z = z[np.abs(z) < 3e38]
    z = z.astype(dtype).reshape(-1, 1)
    fast, slow = _unit(name, dtype), _unit(name, dtype)
    slow = cn.Network([1, 1], activation=name, loss="mse", dtype=dtype, backend="numpy")
    slow.set_weights([(np.ones((1, 1)), np.zeros(1))])
    with np.errstate(all="ignore"):
        assert bits(fast.feedforward(z)) == bits(slow.feedforward(z))
        y = np.zeros_like(z)
        assert bits(fast.gradients(z, y)) == bits(slow.gradients(z, y))
        expect = getattr(ref, name)(z)
    assert np.all(np.isfinite(expect))        # stable: no overflow at +-750


def test_values_against_the_standard_library():
    z = np.array([v for v in EDGES if abs(v) < 700]).reshape(-1, 1)
    sp = _unit("softplus", "float64").feedforward(z).ravel()
    si = _unit("silu", "float64").feedforward(z).ravel()
    for x, a, b in zip(z.ravel(), sp, si):
        exact_sp = max(x, 0.0) + math.log1p(math.exp(-abs(x)))
        exact_si = x / (1.0 + math.exp(-x))
        assert a == pytest.approx(exact_sp, rel=4e-16, abs=0)
        assert b == pytest.approx(exact_si, rel=4e-16, abs=0)
    assert sp[0] == math.log(2.0)             # softplus(0) = ln 2
    assert _unit("softplus", "float64").feedforward([-40.0])[0] == pytest.approx(
        math.exp(-40.0), rel=1e-15)          # tiny values kept, not rounded to 0


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("batch_size", [None, 1, 2])
def test_tiny_nets_train_like_the_reference(dtype, batch_size):
    """A 2-3-1 net is small enough for the fused tiny path, which does not know
    derivatives through z: training must take the general path and agree."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((5, 2)).astype(dtype)
    Y = rng.standard_normal((5, 1)).astype(dtype)
    kw = dict(activation=["silu", "softplus"], loss="mse", seed=4, dtype=dtype)
    fast, slow = cn.Network([2, 3, 1], **kw), cn.Network([2, 3, 1], backend="numpy", **kw)
    hf = fast.fit(X, Y, epochs=40, learning_rate=0.1, batch_size=batch_size)
    hs = slow.fit(X, Y, epochs=40, learning_rate=0.1, batch_size=batch_size)
    assert hf["loss"] == hs["loss"]
    assert bits(fast.get_weights()) == bits(slow.get_weights())
    assert hf["loss"][-1] < hf["loss"][0]


def test_dropout_on_a_silu_layer_matches_the_reference():
    rng = np.random.default_rng(5)
    X, Y = rng.standard_normal((30, 4)), rng.standard_normal((30, 2))
    kw = dict(activation=["silu", "softplus", "identity"], loss="mse", seed=2, dropout=0.25)
    fast, slow = cn.Network([4, 8, 6, 2], **kw), cn.Network([4, 8, 6, 2], backend="numpy", **kw)
    assert fast.fit(X, Y, epochs=6, batch_size=7, optimizer="adam")["loss"] == \
        slow.fit(X, Y, epochs=6, batch_size=7, optimizer="adam")["loss"]
    assert bits(fast.get_weights()) == bits(slow.get_weights())


def test_swish_is_silu():
    assert cn.Network([2, 1], activation="swish").activations[0].name == "silu"
