"""Oracle bitwise: the compiled core (cyneuron._core) against the NumPy reference (cyneuron.reference).

Every comparison is ``tobytes()`` equality, never a tolerance. The cases
cover random depths, widths (including 1), batch sizes (including 1),
activations, losses, initialisations and both dtypes. CI re-runs this file
with NumPy's SIMD dispatch lowered (NPY_DISABLE_CPU_FEATURES).
"""
import itertools

import numpy as np
import pytest
from helpers import DTYPES, bits, fit_outcome, make_pair, random_problem

import cyneuron as cn
from cyneuron import _native
from cyneuron import reference as ref

pytestmark = pytest.mark.bitwise

N_CASES = 110          # random architectures per dtype
FIT_EPOCHS = 200       # whole fits; the first LONG_FITS seeds run LONG_EPOCHS
LONG_FITS, LONG_EPOCHS = 6, 2000


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", range(N_CASES))
def test_forward_gradients_step(seed, dtype):
    p = random_problem(seed, dtype)
    fast, slow = make_pair(p)
    assert bits(fast.get_weights()) == bits(slow.get_weights())
    assert bits(fast.feedforward(p["X"])) == bits(slow.feedforward(p["X"]))
    lf, gf = fast.loss_and_gradients(p["X"], p["Y"])
    ls, gs = slow.loss_and_gradients(p["X"], p["Y"])
    assert np.float64(lf).tobytes() == np.float64(ls).tobytes()
    assert bits(gf) == bits(gs)
    assert fast.train_step(p["X"], p["Y"], 0.05) == slow.train_step(p["X"], p["Y"], 0.05)
    assert bits(fast.get_weights()) == bits(slow.get_weights())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", range(N_CASES))
def test_whole_fit(seed, dtype):
    p = random_problem(1000 + seed, dtype)
    fast, slow = make_pair(p)
    epochs = LONG_EPOCHS if seed < LONG_FITS else FIT_EPOCHS
    # a few random nets diverge: both backends in the same epoch, and both
    # leave the weights as they were
    assert fit_outcome(fast, p["X"], p["Y"], epochs=epochs, learning_rate=0.05) \
        == fit_outcome(slow, p["X"], p["Y"], epochs=epochs, learning_rate=0.05)
    assert bits(fast.get_weights()) == bits(slow.get_weights())
    assert bits(fast.feedforward(p["X"])) == bits(slow.feedforward(p["X"]))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", range(12))
def test_wide_layers(seed, dtype):
    """Widths up to 40 exercise the kernels' vector bodies and their tails."""
    p = random_problem(5000 + seed, dtype, max_layers=3, wide=True, max_batch=33)
    fast, slow = make_pair(p)
    assert bits(fast.feedforward(p["X"])) == bits(slow.feedforward(p["X"]))
    assert bits(fast.gradients(p["X"], p["Y"])) == bits(slow.gradients(p["X"], p["Y"]))
    # (a random net may diverge: then both in the same epoch, weights kept)
    assert fit_outcome(fast, p["X"], p["Y"], epochs=50, learning_rate=0.01) \
        == fit_outcome(slow, p["X"], p["Y"], epochs=50, learning_rate=0.01)
    assert bits(fast.get_weights()) == bits(slow.get_weights())


@pytest.mark.parametrize("dtype", DTYPES)
def test_products_against_reference(dtype):
    """The three fixed-order products, on shapes larger than any SIMD block."""
    rng = np.random.default_rng(7)
    n, k, m = 37, 53, 71
    X = rng.standard_normal((n, k)).astype(dtype)
    W = rng.standard_normal((k, m)).astype(dtype)
    b = rng.standard_normal(m).astype(dtype)
    net = cn.Network([k, m], activation="identity", loss="sse", dtype=dtype)
    net.set_weights([(W, b)])
    assert bits(net.feedforward(X)) == bits(ref.affine(X, W, b))
    Y = rng.standard_normal((n, m)).astype(dtype)
    (dW, db), = net.gradients(X, Y)
    delta = ref.affine(X, W, b) - Y                     # sse + identity: dL/dz = a - y
    edW, edb = ref.weight_gradient(X, delta)
    assert bits(dW) == bits(edW) and bits(db) == bits(edb)
    # the reference sums in the contract's order (BLAS would not): each entry
    # is +0.0, then + x[i, k] * W[k, j] left to right, then + b[j]
    Z = ref.affine(X, W, b)
    for i, j in [(0, 0), (5, 17), (n - 1, m - 1), (20, 64)]:
        s = np.dtype(dtype).type(0.0)
        for kk in range(k):
            s = s + X[i, kk] * W[kk, j]
        assert (s + b[j]).tobytes() == Z[i, j].tobytes()


def test_products_differ_from_blas_somewhere():
    """Sanity check that the fixed order is a real constraint (not vacuous)."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((64, 300))
    W = rng.standard_normal((300, 64))
    b = np.zeros(64)
    assert ref.affine(X, W, b).tobytes() != (X @ W).tobytes()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("act", ["sigmoid", "tanh", "softmax", "relu", "identity"])
def test_row_invariance(act, dtype):
    """One row alone gives the same bits as that row inside a batch."""
    rng = np.random.default_rng(11)
    net = cn.Network([5, 17, 9, 3], activation="tanh", output_activation=act,
                     seed=2, dtype=dtype)
    X = rng.standard_normal((23, 5)).astype(dtype)
    batch = net.feedforward(X)
    for i in range(X.shape[0]):
        assert bits(net.feedforward(X[i])) == bits(batch[i])
        assert bits(net.feedforward(X[i:i + 1])) == bits(batch[i:i + 1])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("m", [2, 3, 10, 17])
def test_softmax_and_cross_entropy_at_every_batch_length(m, dtype):
    """Softmax (row maxima, sums, divisions) and the cross-entropy's value and
    gradient give the reference's bits for every batch length from 1 to 19,
    on ordinary rows and on rows with +-inf and NaN placed per row and column
    (NaNs compared by place, as bits() does everywhere)."""
    rng = np.random.default_rng(m)
    # z_j = 10 x_j + 10 x_(j+1): +-big in x gives +-inf in z, and NaN where
    # the two overflow with opposite signs
    big = float(np.finfo(dtype).max)
    W = (np.eye(m) + np.roll(np.eye(m), 1, axis=0)) * 10
    pair = [cn.Network([m, m], output_activation="softmax", loss="cce",
                       backend=be, dtype=dtype) for be in ("cython", "numpy")]
    for net in pair:
        net.set_weights([(W, np.zeros(m))])
    saw_nan = False
    for n, extreme in itertools.product(range(1, 20), (False, True)):
        X = rng.standard_normal((n, m)) * (30 if extreme else 0.3)
        if extreme:
            cells = rng.random((n, m))
            X[cells < 0.1] = big
            X[(cells >= 0.1) & (cells < 0.2)] = -big
        Y = rng.random((n, m))
        Y[rng.random((n, m)) < 0.3] = 0.0
        Xd, Yd = X.astype(dtype), Y.astype(dtype)
        with np.errstate(all="ignore"):
            out = [net.feedforward(Xd) for net in pair]
            grads = [net.loss_and_gradients(Xd, Yd) for net in pair]
        assert extreme or not np.isnan(out[1]).any()
        saw_nan = saw_nan or bool(np.isnan(out[1]).any())
        assert bits(out[0]) == bits(out[1]), n
        assert bits(np.float64(grads[0][0])) == bits(np.float64(grads[1][0])), n
        assert bits(grads[0][1]) == bits(grads[1][1]), n
    assert saw_nan


@pytest.mark.parametrize("dtype", DTYPES)
def test_extreme_values(dtype):
    """Saturating sigmoids/tanh and overflowing exp still agree (inf, 0, -0.0)."""
    rng = np.random.default_rng(5)
    for backend_pair in range(3):
        net_c = cn.Network([4, 6, 2], activation="sigmoid", seed=backend_pair, dtype=dtype)
        net_n = cn.Network([4, 6, 2], activation="sigmoid", seed=backend_pair, dtype=dtype,
                           backend="numpy")
        big = (rng.standard_normal((4, 6)) * 300).astype(dtype)
        w = [(big, np.zeros(6)), (rng.standard_normal((6, 2)) * 50, np.zeros(2))]
        net_c.set_weights(w)
        net_n.set_weights(w)
        X = (rng.standard_normal((9, 4)) * 10).astype(dtype)
        X[0] = 0.0
        X[1] = -0.0
        with np.errstate(all="ignore"):
            assert bits(net_c.feedforward(X)) == bits(net_n.feedforward(X))
            assert bits(net_c.gradients(X, np.ones((9, 2)))) == \
                bits(net_n.gradients(X, np.ones((9, 2))))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_core_exp_tanh_match_numpy(dtype):
    """The core's exp/tanh are NumPy's own loops at whatever SIMD level is active."""
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.standard_normal(100_000) * 40,
                        np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-310, 750, -750])]
                       ).astype(dtype)
    core = _native.core()
    with np.errstate(all="ignore"):
        for fn, uf in ((core.numpy_exp, np.exp), (core.numpy_tanh, np.tanh)):
            got = x.copy()
            fn(got)
            assert got.tobytes() == uf(x).tobytes()
