"""cyneuron._portable: the portable exp, log, log1p and tanh, against cyneuron._portable_reference.

The compiled functions (``cyneuron._portable``, every SIMD variant) must equal
the NumPy spec (``cyneuron._portable_reference``) bit for bit, on random inputs
over the whole exponent range and every edge case, in place and at every tail
length of the vectorised loops; and both must be within 1 ulp of the exact
value (mpmath).  The full-size accuracy measurement is
``benchmarks/portable_accuracy.py``.

Oracles: exact bits against the NumPy spec (bitwise), mpmath within 1 ulp.
"""
import numpy as np
import pytest
from portable_oracle import NAMES, edge_cases, random_inputs, ulp_error

import cyneuron as cn
from cyneuron import _core as core
from cyneuron import _portable as cp
from cyneuron import _portable_reference as ref

# re-run in every CI cell with NumPy's dispatch lowered and on the clang build
pytestmark = pytest.mark.bitwise

DTYPES = (np.float64, np.float32)


@pytest.fixture
def each_variant():
    """Yield a function that runs a callable once under every loop variant."""
    old = cp.get_variant()

    def run(fn):
        for v in cp.variants():
            cp.set_variant(v)
            fn(v)
    yield run
    cp.set_variant(old)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_compiled_equals_numpy_spec_bit_for_bit(name, dtype, each_variant):
    rng = np.random.default_rng(17 + NAMES.index(name) + 10 * (dtype == np.float32))
    x = np.concatenate([random_inputs(name, dtype, 1_000_000, rng), edge_cases(dtype)])
    expected = getattr(ref, name)(x)
    assert expected.dtype == x.dtype and expected.shape == x.shape

    def check(variant):
        got = getattr(cp, name)(x)
        assert got.dtype == x.dtype
        if got.tobytes() != expected.tobytes():
            width = np.uint64 if x.dtype == np.float64 else np.uint32
            bad = np.flatnonzero(got.view(width) != expected.view(width))
            pytest.fail(f"{variant}: {len(bad)} mismatches, first inputs {x[bad[:5]]!r}")
    each_variant(check)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_tails_in_place_and_shapes(name, dtype, each_variant):
    rng = np.random.default_rng(5)
    base = random_inputs(name, dtype, 3000, rng)

    def check(variant):
        for n in (0, 1, 2, 3, 5, 7, 8, 9, 15, 17, 63, 64, 65, 127, 129, 200, 1031):
            x = base[:n].copy()
            expected = getattr(ref, name)(x)
            got = getattr(cp, name)(x)
            assert got.tobytes() == expected.tobytes(), (variant, n)
            inplace = x.copy()
            assert getattr(cp, name)(inplace, out=inplace) is inplace
            assert inplace.tobytes() == expected.tobytes(), (variant, n, "in place")
        # any shape, non-contiguous input, a new array every call
        x = base[:2 * 3 * 50].reshape(2, 3, 50)[:, ::2, ::3]
        got = getattr(cp, name)(x)
        assert got.shape == x.shape and got.dtype == x.dtype and got.flags.c_contiguous
        assert got.tobytes() == getattr(ref, name)(x).tobytes()
        s = np.asarray(base[7])
        assert getattr(cp, name)(s).shape == ()
        assert getattr(cp, name)(s).tobytes() == getattr(ref, name)(s).tobytes()
    each_variant(check)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_within_one_ulp_of_mpmath(name, dtype):
    rng = np.random.default_rng(99 + NAMES.index(name) + 10 * (dtype == np.float32))
    x = np.concatenate([random_inputs(name, dtype, 5000, rng), edge_cases(dtype)])
    y = getattr(cp, name)(x)
    errs = np.array([ulp_error(name, a, b, dtype) for a, b in zip(x, y)])
    worst = int(np.argmax(errs))
    assert errs[worst] <= 1.0, (name, np.dtype(dtype).name, x[worst], y[worst], errs[worst])
    # float32 is computed in float64 and rounded once: essentially correctly rounded
    if dtype == np.float32:
        assert errs.max() < 0.5 + 2.0**-20


def _bits(values, dtype):
    return np.asarray(values, dtype=dtype).tobytes()


@pytest.mark.parametrize("dtype", DTYPES)
def test_edge_values_exactly(dtype):
    inf, nan = np.inf, np.nan

    def f(name, xs):
        return getattr(cp, name)(np.array(xs, dtype=dtype))
    assert f("exp", [0.0, -0.0, inf, -inf]).tobytes() == _bits([1, 1, inf, 0], dtype)
    assert f("log", [1.0, 0.0, -0.0, inf]).tobytes() == _bits([0.0, -inf, -inf, inf], dtype)
    assert f("log1p", [0.0, -0.0, -1.0, inf]).tobytes() == _bits([0.0, -0.0, -inf, inf], dtype)
    assert f("tanh", [0.0, -0.0, inf, -inf, 30.0, -30.0]).tobytes() == _bits([0.0, -0.0, 1, -1, 1, -1], dtype)
    tiny = np.finfo(dtype).smallest_subnormal
    for name in ("log1p", "tanh"):                     # f(x) rounds to x for tiny x
        assert f(name, [tiny, -tiny]).tobytes() == _bits([tiny, -tiny], dtype)
    for name, xs in (("exp", [nan]), ("log", [nan, -1.0, -tiny, -inf]), ("log1p", [nan, -2.0, -inf]),
                     ("tanh", [nan])):
        assert np.isnan(f(name, xs)).all(), name
    # overflow and underflow happen where the exact value rounds to inf / 0
    big = {np.float64: (709.782712893384, 709.7827128933841), np.float32: (88.72283, 88.72284)}[dtype]
    e = f("exp", big)
    assert np.isfinite(e[0]) and e[1] == inf
    assert f("exp", [-800.0 if dtype == np.float64 else -110.0])[0] == 0.0
    assert 0 < f("exp", [-745.0 if dtype == np.float64 else -103.0])[0] < np.finfo(dtype).tiny


def test_spec_uses_no_numpy_transcendentals(monkeypatch):
    x = np.concatenate([random_inputs("exp", np.float64, 300, np.random.default_rng(1)),
                        edge_cases(np.float64)])
    expected = {name: getattr(ref, name)(x).tobytes() for name in NAMES}
    for banned in ("exp", "exp2", "expm1", "log", "log1p", "log2", "tanh", "ldexp", "frexp", "power"):
        def fail(*a, _name=banned, **k):
            raise AssertionError(f"np.{_name} called")
        monkeypatch.setattr(np, banned, fail)
    for name in NAMES:
        assert getattr(ref, name)(x).tobytes() == expected[name]


@pytest.mark.parametrize("mod", [cp, ref], ids=["compiled", "spec"])
def test_bad_input(mod):
    for bad in (np.arange(3), np.array([1, 2], dtype=np.float16), np.array(["a"])):
        with pytest.raises(TypeError, match="x must be a float64 or float32"):
            mod.exp(bad)


def test_bad_out():
    x = np.linspace(-1, 1, 10)
    with pytest.raises(ValueError, match="out must have the dtype and shape"):
        cp.exp(x, out=np.empty(9))
    with pytest.raises(ValueError, match="out must have the dtype and shape"):
        cp.exp(x, out=np.empty(10, dtype=np.float32))
    with pytest.raises(ValueError, match="out must be a writeable C-contiguous"):
        cp.exp(x, out=np.empty(20)[::2])
    buf = np.linspace(-1, 1, 11)
    with pytest.raises(ValueError, match="out must be x itself or not overlap"):
        cp.exp(buf[:10], out=buf[1:])               # partial overlap: rejected, buf unchanged
    assert buf.tobytes() == np.linspace(-1, 1, 11).tobytes()
    with pytest.raises(TypeError, match="out must be a NumPy array"):
        cp.exp(x, out=[0.0] * 10)
    with pytest.raises(ValueError, match="set_variant: name must be one of"):
        cp.set_variant("sse9")
    before = x.copy()
    cp.tanh(x, out=x)
    assert x.tobytes() == ref.tanh(before).tobytes()


# --- the tiny nets: the fused sigmoid loop and the core's inlined copy --------------------
# numerics="portable" on the tutorials' tiny nets: cyneuron._portable.sigmoid_neg and the
# scalar copy the core inlines for one or two values give the NumPy spec's bits under
# every portable loop variant the core can run.

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
