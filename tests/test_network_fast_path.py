"""cyneuron.network: the inference fast path (Network.try_forward) against the checked path.

Network.feedforward and the estimators' predict/predict_proba hand an input
that is already an ndarray of the network's dtype, width and layout straight
to the core, which checks its flags and finiteness in C; everything else
takes the checked path. These tests prove which path ran (try_forward answers
None exactly where the checked path must run), that both give the reference's
bits, that bad input meets the same errors with the model unchanged, and that
concurrent readers do not share a workspace. The estimators' side is in
tests/test_estimators.py.

Oracles: exact bits against the NumPy reference and the checked path; the
model unchanged after a refusal.
"""
import threading

import numpy as np
import pytest
from helpers import DTYPES, HIDDEN, OUTPUT, bits, network_numbers, outputs_seen_during_fit, takes_fast_path

import cyneuron as cn

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _net(hidden, out, dtype, sizes=(20, 64, 3), seed=0, backend="cython"):
    return cn.Network(list(sizes), activation=[hidden] * (len(sizes) - 2) + [out], loss="mse",
                      seed=seed, dtype=dtype, init="xavier", backend=backend)


def _pair(hidden, out, dtype, sizes=(20, 64, 3)):
    fast = _net(hidden, out, dtype, sizes)
    ref = _net(hidden, out, dtype, sizes, backend="numpy")
    ref.set_weights(fast.get_weights())
    return fast, ref


# --- the same bits on both paths and as the reference -------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("out", OUTPUT)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_fast_path_gives_the_checked_paths_and_the_references_bits(hidden, out, dtype):
    fast, ref = _pair(hidden, out, dtype)
    rng = np.random.default_rng(3)
    for n in (1, 2, 5, 300):     # the tiny-net path, the kernels, and the GIL released
        X = (rng.standard_normal((n, 20)) * 3).astype(dtype)
        assert takes_fast_path(fast, X)
        want = bits(ref.feedforward(X))
        assert bits(fast.feedforward(X)) == want
        # the checked path: a list, and a Fortran-order copy, are not taken as they are
        assert not takes_fast_path(fast, X.tolist())
        assert bits(fast.feedforward(X.tolist())) == want
        F = np.asfortranarray(X)
        if n > 1:
            assert not takes_fast_path(fast, F)
        assert bits(fast.feedforward(F)) == want
    x = X[7].copy()                                   # one sample, 1-D
    assert takes_fast_path(fast, x)
    got = fast.feedforward(x)
    assert got.shape == (3,) and bits(got) == bits(ref.feedforward(x))
    assert bits(got) == bits(fast.feedforward(x.tolist()))
    assert bits(got) == bits(fast.feedforward(X[7:8])[0])


@pytest.mark.parametrize("dtype", DTYPES)
def test_fast_path_on_deeper_and_wider_nets(dtype):
    rng = np.random.default_rng(5)
    for sizes in [(3, 4, 1), (1, 1), (40, 100, 100, 10), (7, 33, 2, 9)]:
        net = cn.Network(list(sizes), activation="tanh", output_activation="softmax"
                         if sizes[-1] > 1 else "sigmoid", seed=1, dtype=dtype)
        ref = cn.Network(list(sizes), activation="tanh", output_activation="softmax"
                         if sizes[-1] > 1 else "sigmoid", seed=1, dtype=dtype,
                         backend="numpy")
        for n in (1, 3, 64):
            X = rng.standard_normal((n, sizes[0])).astype(dtype)
            assert takes_fast_path(net, X)
            assert bits(net.feedforward(X)) == bits(ref.feedforward(X))


# --- inputs the core does not take as they are: still correct, on the checked path ------

def _unaligned(a):
    raw = np.zeros(a.nbytes + 1, dtype=np.uint8)[1:]
    out = raw.view(a.dtype).reshape(a.shape)
    out[...] = a
    assert not out.flags.aligned
    return out


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")
@pytest.mark.parametrize("dtype", DTYPES)
def test_other_layouts_and_dtypes_take_the_checked_path_and_agree(dtype):
    net = _net("relu", "softmax", dtype)
    rng = np.random.default_rng(11)
    X = rng.standard_normal((6, 20)).astype(dtype)
    want = bits(net.feedforward(X))
    other = np.float32 if dtype == "float64" else np.float64
    wide = np.zeros((6, 40), dtype=dtype)
    wide[:, ::2] = X
    ro = X.copy()
    ro.flags.writeable = False
    cases = {
        "strided view": wide[:, ::2],
        "Fortran order": np.asfortranarray(X),
        "byte-swapped": X.astype(X.dtype.newbyteorder()),
        "unaligned": _unaligned(X),
        "matrix subclass": np.asmatrix(X),
        "list": X.tolist(),
    }
    for name, A in cases.items():
        assert not takes_fast_path(net, A), name
        assert bits(net.feedforward(A)) == want, name
    assert takes_fast_path(net, ro) and bits(net.feedforward(ro)) == want
    # another dtype is converted first, as before
    Xo = X.astype(other)
    assert not takes_fast_path(net, Xo)
    assert bits(net.feedforward(Xo)) == bits(net.feedforward(Xo.astype(dtype)))
    Xi = rng.integers(-3, 3, (4, 20))
    assert not takes_fast_path(net, Xi)
    assert bits(net.feedforward(Xi)) == bits(net.feedforward(Xi.astype(dtype)))


def test_a_params_vector_of_another_kind_is_refused_by_the_core():
    net = _net("relu", "softmax", "float64")
    X = np.ones((2, 20))
    fast = net._engine.fast_forward
    assert fast(net.state.params, X, 1) is not None
    assert fast(net.state.params.astype(np.float32), X.astype(np.float32), 1) is None
    assert fast(net.state.params[:-1], X, 1) is None
    assert fast(np.repeat(net.state.params, 2)[::2], X, 1) is None
    assert fast(list(net.state.params), X, 1) is None


# --- bad input: the same errors, nothing changed ----------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
def test_nan_and_inf_on_the_fast_path_raise_the_same_error(dtype):
    net = _net("relu", "softmax", dtype)
    net.fit(np.ones((4, 20), dtype=dtype), np.eye(3)[[0, 1, 2, 0]], epochs=2,
            optimizer="adam")
    before = network_numbers(net)
    rng = np.random.default_rng(2)
    for bad in (np.nan, np.inf, -np.inf):
        for shape, where in [((20,), (0,)), ((20,), (19,)), ((1, 20), (0, 7)),
                             ((5, 20), (4, 19)), ((500, 20), (250, 3))]:
            X = rng.standard_normal(shape).astype(dtype)
            X[where] = bad
            assert not takes_fast_path(net, X)
            with pytest.raises(ValueError, match=r"^X contains NaN or infinity"):
                net.feedforward(X)
    assert network_numbers(net) == before


@pytest.mark.parametrize("X, exc, msg", [
    (np.ones(19), ValueError, "X has 19 features per sample, but the network expects 20"),
    (np.ones((2, 21)), ValueError, "X has 21 features per sample, but the network expects 20"),
    (np.ones((0, 20)), ValueError, "X is empty"),
    (np.ones((1, 1, 20)), ValueError, "must be 1-D or 2-D"),
    (np.array(1.0), ValueError, "got a scalar"),
    (np.ones((2, 20), dtype=complex), TypeError, "complex"),
    (np.array([["a"] * 20]), TypeError, "must be an array of numbers"),
])
def test_bad_arrays_meet_the_checked_paths_errors(X, exc, msg):
    net = _net("relu", "softmax", "float64")
    before = network_numbers(net)
    assert not takes_fast_path(net, X)
    with pytest.raises(exc, match=msg):
        net.feedforward(X)
    assert network_numbers(net) == before



# --- threads ----------------------------------------------------------------------------

@pytest.mark.parametrize("rows", [1, 400])
def test_concurrent_readers_get_their_own_answers(rows):
    # one row runs with the GIL held; 400 rows without it, so that the two
    # threads overlap in the core and one of them must not use the cached workspace
    net = _net("relu", "softmax", "float64")
    rng = np.random.default_rng(9)
    inputs = [rng.standard_normal((rows, 20)) for _ in range(2)]
    want = [bits(net.feedforward(X)) for X in inputs]
    assert want[0] != want[1]
    wrong, start = [], threading.Barrier(2)

    def reader(i):
        start.wait()
        for _ in range(3000 if rows == 1 else 150):
            if bits(net.feedforward(inputs[i])) != want[i]:
                wrong.append(i)
    threads = [threading.Thread(target=reader, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wrong == []


def test_feedforward_inside_fit_sees_the_current_weights():
    net = _net("relu", "softmax", "float64")
    X = np.random.default_rng(1).standard_normal((8, 20))
    y = np.arange(8) % 3
    seen = []

    def callback(epoch, logs):
        ref = _net("relu", "softmax", "float64", backend="numpy")
        ref.set_weights(net.get_weights())
        seen.append(bits(net.feedforward(X)) == bits(ref.feedforward(X)))
    net.fit(X, y, epochs=3, optimizer="adam", callbacks=[callback])
    assert seen == [True, True, True]


def test_one_row_readers_never_see_a_half_trained_network():
    # one row of this net runs with the GIL held (the 7-row probe of
    # test_network.py's version of this test runs without it)
    rng = np.random.default_rng(7)
    X, y = rng.standard_normal((400, 64)), rng.integers(0, 10, 400)
    net = cn.Network([64, 128, 10], activation="relu", output_activation="softmax",
                     loss="categorical_crossentropy", seed=0)
    probe = X[3].copy()
    assert takes_fast_path(net, probe)
    before, seen, after = outputs_seen_during_fit(net, probe, X, y, epochs=30, batch_size=16,
                                                  optimizer="adam")
    assert seen and seen <= {before, after} and before != after


@pytest.mark.parametrize("dtype", DTYPES)
def test_fast_path_with_two_threads_gives_the_same_bits(dtype):
    one, ref = _pair("tanh", "softmax", dtype, sizes=(40, 100, 100, 10))
    two = _net("tanh", "softmax", dtype, sizes=(40, 100, 100, 10))
    two.set_weights(one.get_weights())
    two.n_threads = 2
    X = np.random.default_rng(4).standard_normal((600, 40)).astype(dtype)
    assert takes_fast_path(two, X)
    want = bits(ref.feedforward(X))
    assert bits(one.feedforward(X)) == want and bits(two.feedforward(X)) == want
