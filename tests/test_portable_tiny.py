"""numerics="portable" on the tutorials' tiny nets: the fused sigmoid loop
(cyneuron._portable.sigmoid_neg) and the scalar copy the core inlines for one
or two values must give the bits of the NumPy spec, under every portable loop
variant the core can run."""
import numpy as np
import pytest

import cyneuron as cn
from cyneuron import _core as core
from cyneuron import _portable as cp
from cyneuron import _portable_reference as ref

pytestmark = pytest.mark.bitwise

VARIANTS = cp.variants()


@pytest.fixture(params=VARIANTS)
def core_variant(request):
    old = core.set_portable_variant(request.param)
    yield request.param
    core.set_portable_variant(old)


def test_set_portable_variant_rejects_unknown_names_and_restores():
    with pytest.raises(ValueError, match="portable variant 'sse9'"):
        core.set_portable_variant("sse9")
    old = core.set_portable_variant("inline")
    assert core.set_portable_variant(old) == "inline"
    assert core.set_portable_variant(None) == old


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_neg_equals_the_spec_in_every_variant(dtype):
    rng = np.random.default_rng(11)
    x = np.concatenate([rng.uniform(-40, 40, 20000), rng.standard_normal(5000),
                        [0.0, -0.0, 710.0, -746.0, 800.0, -800.0, np.inf, -np.inf, np.nan,
                         5e-324, -5e-324]]).astype(dtype)
    one = dtype(1)
    expected = one / (one + ref.exp(x))
    old = cp.get_variant()
    try:
        for v in VARIANTS:
            cp.set_variant(v)
            assert cp.sigmoid_neg(x).tobytes() == expected.tobytes(), v
            for n in (1, 2, 3, 5, 7, 8, 9, 20, 63, 64, 65):
                y = x[:n].copy()
                assert cp.sigmoid_neg(y, out=y).tobytes() == expected[:n].tobytes(), (v, n)
    finally:
        cp.set_variant(old)


# (sizes, batch_size, loss, output activation): W1's and W2's nets and their
# neighbours, so that layers of 1, 2 and more values per batch (the inline
# scalar sigmoid and the vector loop) all train
NETS = [([3, 4, 1], None, "sse", "sigmoid"), ([2, 2, 1], 1, "mse", "sigmoid"),
        ([2, 1, 2], 1, "mse", "sigmoid"), ([2, 2, 1], 2, "binary_crossentropy", "sigmoid"),
        ([3, 4, 1], 1, "sse", "tanh")]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("sizes,bs,loss,out", NETS)
def test_tiny_training_matches_the_reference(core_variant, sizes, bs, loss, out, dtype):
    rng = np.random.default_rng(len(sizes) * 7 + (bs or 0))
    X = rng.uniform(-3, 3, size=(5, sizes[0])).astype(dtype)
    Y = rng.integers(0, 2, size=(5, sizes[-1])).astype(dtype)
    digests = []
    for backend in ("cython", "numpy"):
        net = cn.Network(sizes, activation=["sigmoid"] * (len(sizes) - 2) + [out], loss=loss,
                         seed=3, dtype=dtype, numerics="portable", backend=backend)
        net.fit(X, Y, epochs=30, learning_rate=0.5, batch_size=bs, shuffle=False)
        digests.append((net.digest(), net.feedforward(X[:1]).tobytes(),
                        net.feedforward(X).tobytes()))
    assert digests[0] == digests[1], core_variant
