"""cyneuron._validation: the argument checks, through Network's public methods.

Bad input ends in a ValueError/TypeError naming the argument and leaves the
model unchanged (its bytes compared before and after); sizes are refused
before anything is allocated.

Oracles: the error naming the argument; the model's bytes before and after.
"""
import numpy as np
import pytest
from helpers import bits

import cyneuron as cn


@pytest.fixture(params=["cython", "numpy"])
def net(request):
    return cn.Network([3, 4, 2], seed=0, backend=request.param)


GOOD_X = np.zeros((5, 3))
GOOD_Y = np.zeros((5, 2))


def _nan(shape):
    a = np.zeros(shape)
    a.flat[1] = np.nan
    return a


def _inf(shape):
    a = np.zeros(shape)
    a.flat[2] = -np.inf
    return a


BAD_X = [
    (np.zeros((5, 4)), ValueError, "4 features"),
    (np.zeros((5, 2)), ValueError, "expects 3"),
    (np.zeros(4), ValueError, "4 features"),
    (np.zeros((2, 3, 1)), ValueError, "1-D or 2-D"),
    (np.zeros((0, 3)), ValueError, "empty"),
    ([], ValueError, "empty"),
    (np.float64(1.0), ValueError, "scalar"),
    (_nan((5, 3)), ValueError, "NaN or infinity"),
    (_inf((5, 3)), ValueError, "NaN or infinity"),
    (np.array([["a", "b", "c"]]), TypeError, "numbers"),
    ("abc", TypeError, "numbers"),
    (None, TypeError, "None"),
    (np.zeros((5, 3), dtype=complex), TypeError, "complex"),
    ([[1, 2, 3], [1, 2]], (TypeError, ValueError), "X"),
    # an object array whose items float() would read: strings, dates and
    # durations as days, complex numbers without their imaginary part
    (np.array([["1.5", 2, 3]], dtype=object), TypeError, "X must be .* str objects"),
    (np.array([[b"1", 2, 3]], dtype=object), TypeError, "X must be .* bytes objects"),
    (np.array([[np.datetime64("2020-01-01"), 2, 3]], dtype=object), TypeError,
     "X must be .* datetime64 objects"),
    (np.array([[np.timedelta64(3, "D"), 2, 3]], dtype=object), TypeError,
     "X must be .* timedelta64 objects"),
    (np.array([[np.complex128(1), 2, 3]], dtype=object), TypeError,
     "X must be .* complex128 objects"),
    (np.array([[{"a": 1}, 2, 3]], dtype=object), TypeError,
     r"X must be an array of numbers; .*\(float\(\) argument must be .*dict"),
    # the values under a mask are not data (np.asarray would pass them on)
    (np.ma.masked_array(np.ones((5, 3)), mask=np.eye(5, 3)), TypeError,
     r"X is a masked array with 3 masked value\(s\): fill them"),
    (np.ma.masked_array(np.ones((5, 3))), None, None),   # nothing masked: its data
    (np.array([[1e300, 0, 0]]), None, None),  # finite in float64: accepted
]


@pytest.mark.parametrize("X,err,msg", BAD_X)
def test_bad_inputs_feedforward(net, X, err, msg):
    before = bits(net.get_weights())
    if err is None:
        net.feedforward(X)
        return
    with pytest.raises(err, match=msg):
        net.feedforward(X)
    assert bits(net.get_weights()) == before


@pytest.mark.parametrize("X,err,msg", [b for b in BAD_X if b[1] is not None])
@pytest.mark.parametrize("method", ["fit", "train_step", "gradients", "evaluate"])
def test_bad_inputs_training(net, X, err, msg, method):
    before = bits(net.get_weights())
    call = {"fit": lambda: net.fit(X, GOOD_Y, epochs=3, learning_rate=0.1),
            "train_step": lambda: net.train_step(X, GOOD_Y, 0.1),
            "gradients": lambda: net.gradients(X, GOOD_Y),
            "evaluate": lambda: net.evaluate(X, GOOD_Y)}[method]
    with pytest.raises(err, match=msg):
        call()
    assert bits(net.get_weights()) == before


BAD_Y = [
    (np.zeros((5, 3)), ValueError, r"shape \(5, 3\)"),
    (np.zeros((4, 2)), ValueError, r"\(5, 2\)"),
    (np.zeros(4), ValueError, "4 class labels for 5"),
    (np.array([0, 1, 2, 0, 1]), ValueError, r"outside \[0, 2\)"),
    (np.array([0.5, 1, 0, 0, 1]), ValueError,
     r"1-D, so it is read as class labels .* whole numbers \(it holds 0.5\).* shape \(5, 2\)"),
    (np.array([-1, 1, 0, 0, 1]), ValueError, "outside"),
    (_nan((5, 2)), ValueError, "y contains NaN"),
    (_inf((5, 2)), ValueError, "y contains NaN"),
    (np.zeros((0, 2)), ValueError, "empty"),
    (np.full((5, 2), "x"), TypeError, "numbers"),
    (np.ma.masked_array(np.zeros((5, 2)), mask=[[1, 0]] + [[0, 0]] * 4), TypeError,
     "y is a masked array with 1 masked"),
]


@pytest.mark.parametrize("Y,err,msg", BAD_Y)
def test_bad_targets(net, Y, err, msg):
    before = bits(net.get_weights())
    with pytest.raises(err, match=msg):
        net.fit(GOOD_X, Y, epochs=2, learning_rate=0.1)
    with pytest.raises(err, match=msg):
        net.train_step(GOOD_X, Y, 0.1)
    assert bits(net.get_weights()) == before


@pytest.mark.parametrize("kwargs,err,msg", [
    (dict(learning_rate=-0.1), ValueError, "learning_rate must be >"),
    (dict(learning_rate=0.0), ValueError, "learning_rate must be >"),
    (dict(learning_rate=float("nan")), ValueError, "finite"),
    (dict(learning_rate="0.1"), TypeError, "learning_rate"),
    (dict(epochs=0), ValueError, "epochs must be >= 1"),
    (dict(epochs=2.5), TypeError, "epochs must be an integer"),
    (dict(optimizer="nonsense"), ValueError, "unknown optimizer"),
])
def test_bad_hyperparameters(net, kwargs, err, msg):
    before = bits(net.get_weights())
    args = dict(epochs=2, learning_rate=0.1)
    args.update(kwargs)
    with pytest.raises(err, match=msg):
        net.fit(GOOD_X, GOOD_Y, **args)
    assert bits(net.get_weights()) == before


@pytest.mark.parametrize("kwargs,err,msg", [
    (dict(activation="sigmod"), ValueError, "unknown activation 'sigmod'; valid names: identity"),
    (dict(activation=["relu"]), ValueError, "1 entries, but the network has 2"),
    (dict(activation=3), TypeError, "activation must be a name"),
    (dict(activation="softmax"), ValueError, "only be the output activation"),
    (dict(activation=("leaky_relu", -1)), ValueError, "slope"),
    (dict(activation=("sigmoid", 2)), ValueError, "takes no parameter"),
    (dict(loss="hinge"), ValueError, "unknown loss 'hinge'; valid names: mse, sse"),
    (dict(loss=None), TypeError, "loss must be a name"),
    (dict(dtype="float16"), ValueError, "float64' or 'float32"),
    (dict(dtype=np.int32), ValueError, "float64' or 'float32"),
    (dict(backend="gpu"), ValueError, "unknown backend"),
    (dict(init="zeros"), ValueError, "unknown init"),
    (dict(seed=-1), ValueError, "seed"),
    (dict(seed="a"), TypeError, "seed"),
])
def test_bad_constructor_arguments(kwargs, err, msg):
    with pytest.raises(err, match=msg):
        cn.Network([3, 4, 2], **kwargs)


@pytest.mark.parametrize("sizes,err", [
    ([3], ValueError), ([], ValueError), ([3, 0, 1], ValueError), ([3, -1], ValueError),
    ([3, 2.5], TypeError), ("32", TypeError), (5, TypeError), ([3, True], TypeError),
])
def test_bad_layer_sizes(sizes, err):
    with pytest.raises(err, match="layer_sizes"):
        cn.Network(sizes)


def test_set_weights_is_atomic(net):
    before = bits(net.get_weights())
    good = net.get_weights()
    bad_shape = [good[0], (np.zeros((4, 3)), good[1][1])]
    with pytest.raises(ValueError, match=r"W2 has shape \(4, 3\), expected \(4, 2\)"):
        net.set_weights(bad_shape)
    bad_nan = [good[0], (good[1][0], np.array([0.0, np.nan]))]
    with pytest.raises(ValueError, match="b2 contains NaN"):
        net.set_weights(bad_nan)
    with pytest.raises(ValueError, match="1 layer"):
        net.set_weights([good[0]])
    with pytest.raises(TypeError, match="numbers"):
        net.set_weights([(np.full((3, 4), "a"), good[0][1]), good[1]])
    assert bits(net.get_weights()) == before


def test_non_contiguous_and_int_inputs_are_converted(net):
    X = np.arange(30, dtype=np.int64).reshape(5, 6)[:, ::2]   # non-contiguous ints
    assert not X.flags.c_contiguous
    assert bits(net.feedforward(X)) == bits(net.feedforward(np.ascontiguousarray(X, float)))
    Xf = np.asfortranarray(np.random.default_rng(0).standard_normal((5, 3)))
    assert bits(net.feedforward(Xf)) == bits(net.feedforward(np.ascontiguousarray(Xf)))


def test_float32_overflow_is_rejected():
    net = cn.Network([3, 2], dtype="float32")
    with pytest.raises(ValueError, match="float32"):
        net.feedforward(np.array([[1e300, 0.0, 0.0]]))


def test_get_weights_returns_copies(net):
    w = net.get_weights()
    w[0][0][...] = 123.0
    assert not np.any(net.get_weights()[0][0] == 123.0)


def test_neuron_bad_input():
    with pytest.raises(ValueError, match="1-D"):
        cn.Neuron(weights=[[0, 1]], bias=0)
    with pytest.raises(ValueError, match="bias"):
        cn.Neuron(weights=[0, 1], bias=[1, 2])
    # named as the constructor names them, not as the network inside does (W1, b1)
    with pytest.raises(ValueError, match="^bias contains NaN"):
        cn.Neuron(weights=[0, 1], bias=float("nan"))
    with pytest.raises(ValueError, match="^weights contains NaN or infinity"):
        cn.Neuron(weights=[0, np.inf], bias=0)
    with pytest.raises(ValueError, match="^weights .* too large for float32"):
        cn.Neuron(weights=[1e300, 1], bias=0, dtype="float32")
    n = cn.Neuron(weights=[0, 1], bias=4)
    with pytest.raises(ValueError, match="3 features"):
        n.feedforward([1, 2, 3])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_all_finite_finds_every_bad_value(dtype):
    """The allocation-free finiteness check (core pass, blocks of 4096) misses nothing."""
    from cyneuron._validation import all_finite
    big = np.finfo(dtype)
    assert all_finite(np.array([big.max, -big.max, 0.0, -0.0, big.tiny / 4], dtype))
    assert all_finite(np.zeros(0, dtype))
    for n in (1, 7, 4096, 4097, 10000):
        a = np.ones(n, dtype)
        assert all_finite(a)
        for bad in (np.nan, np.inf, -np.inf):
            for pos in sorted({0, n // 2, min(4095, n - 1), min(4096, n - 1), n - 1}):
                b = a.copy()
                b[pos] = bad
                assert not all_finite(b), (n, pos, bad)
    strided = np.ones((300, 40), dtype)[:, ::3]     # not contiguous: checked in blocks
    assert all_finite(strided)
    strided[299, 13] = np.nan
    assert not all_finite(strided)
    with pytest.raises(ValueError, match="X contains NaN or infinity"):
        cn.Network([40, 1], dtype=dtype).feedforward(np.where(np.arange(40) == 39, np.inf, 1.0))


def test_unaligned_inputs_are_copied_before_the_core_sees_them():
    """A memoryview accepts an unaligned buffer; the C loops must never get one."""
    from cyneuron import _core

    net = cn.Network([10, 4, 3], seed=0)
    buf = np.zeros(8 * 30 + 1, dtype=np.uint8)
    X = buf[1:].view(np.float64).reshape(3, 10)
    X[...] = np.arange(30.0).reshape(3, 10) / 30
    assert not X.flags.aligned
    Y = np.eye(3)
    aligned = X.copy()
    assert net.feedforward(X).tobytes() == net.feedforward(aligned).tobytes()
    assert all(a.tobytes() == b.tobytes() for ga, gb in zip(net.gradients(X, Y),
                                                            net.gradients(aligned, Y))
               for a, b in zip(ga, gb))
    with pytest.raises(ValueError, match="not aligned"):
        _core.all_finite(X.reshape(-1))


# --- sizes refused before allocation; every argument named --------------------------------

def _state(net):
    return (bits(net.get_weights()), net.state.opt_state.tobytes(), net.state.opt_scalars.tobytes(),
            str(net.rng.bit_generator.state), net.l1, net.l2)


def test_a_network_larger_than_memory_is_refused_before_allocation(monkeypatch):
    import resource
    monkeypatch.setenv("CYNEURON_MAX_BYTES", str(50 << 20))
    with pytest.raises(ValueError, match=r"layer_sizes \[20, 300000, 1\] .*needs 151\.1 MiB "
                                         r".*CYNEURON_MAX_BYTES=52428800"):
        cn.Network([20, 300000, 1])
    monkeypatch.delenv("CYNEURON_MAX_BYTES")
    # without the variable: the machine's physical memory is the limit (well under
    # 2**31 parameters of 24 bytes each with the moments: 48 GiB)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    physical = cn._validation.memory_limit()
    assert physical > 1 << 30
    m = 1 << 14
    k = physical // (24 * m) + 1           # 24 bytes per parameter: just over the memory
    from cyneuron.network import MAX_PARAMS
    msg = "of physical memory" if k * m + m <= MAX_PARAMS else "a network may have"
    with pytest.raises(ValueError, match=msg):
        cn.Network([k, m])
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200 << 10   # KiB


@pytest.mark.parametrize("backend", ["cython", "numpy"])
def test_fit_refuses_a_batch_that_cannot_fit_in_memory(monkeypatch, backend):
    net = cn.Network([20, 2000, 1], backend=backend, seed=0)
    before = _state(net)
    X, y = np.zeros((4000, 20)), np.zeros((4000, 1))
    monkeypatch.setenv("CYNEURON_MAX_BYTES", str(100 << 20))
    with pytest.raises(ValueError, match=r"fit with batch_size=4000 on 4000 rows .*needs "):
        net.fit(X, y, epochs=1)
    assert _state(net) == before
    net.fit(X[:64], y[:64], epochs=1, batch_size=32)       # a small batch fits
    monkeypatch.setenv("CYNEURON_MAX_BYTES", "lots")
    with pytest.raises(ValueError, match="CYNEURON_MAX_BYTES must be a positive integer"):
        cn.Network([2, 1])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_penalties_are_checked_on_assignment(net, dtype):
    net = cn.Network([3, 4, 2], seed=0, dtype=dtype, backend=net.backend)
    before = _state(net)
    for value, err, msg in ((-1, ValueError, "l1 must be >= 0"),
                            (float("nan"), ValueError, "l1 must be finite"),
                            ("0.1", TypeError, "l1 must be a real number")):
        with pytest.raises(err, match=msg):
            net.l1 = value
    if dtype == "float32":
        with pytest.raises(ValueError, match="l2=1e\\+39 is too large for a float32"):
            net.l2 = 1e39
    with pytest.raises(ValueError, match="l2 must be >= 0"):
        net.l2 = -1
    assert _state(net) == before
    net.l2 = 0.5
    assert net.l2 == 0.5


@pytest.mark.parametrize("kwargs,err,msg", [
    (dict(backend=[]), TypeError, "backend must be a name"),
    (dict(backend="torch"), ValueError, "unknown backend 'torch'"),
    (dict(activation={}), ValueError, "needs a 'name'"),
    (dict(dtype=[]), TypeError, "dtype must be 'float64' or 'float32'"),
])
def test_every_constructor_argument_is_named(kwargs, err, msg):
    with pytest.raises(err, match=msg):
        cn.Network([2, 3, 1], **kwargs)


def test_load_and_fit_name_their_arguments(tmp_path, net):
    before = _state(net)
    with pytest.raises(TypeError, match="optimizer_params must be a dict"):
        net.fit(GOOD_X, GOOD_Y, optimizer="adam", optimizer_params=[])
    assert _state(net) == before
    path = cn.save(net, tmp_path / "m")
    with pytest.raises(TypeError, match="backend must be a name"):
        cn.load(path, backend=[])
