"""cyneuron._core: what the compiled core's entry points refuse.

CoreNet and its training entry points check the buffers they are handed
(sizes, offsets, codes, lengths) and raise a ValueError naming the buffer.
Their bits are tests/test_kernels.py and tests/test_bitwise.py.

Oracle: the error each bad buffer must raise; a good CoreNet's output equals
the network's to the bit.
"""
import numpy as np
import pytest

import cyneuron as cn


def test_core_entry_points_check_their_buffers():
    from types import SimpleNamespace

    from cyneuron import _native
    core = _native.core()
    net = cn.Network([3, 4, 2], seed=0)
    X = np.ones((5, 3))
    sizes, offsets = net.state.layout.core_arrays()
    codes = np.array([a.code for a in net.activations], dtype=np.intc)
    params = np.array([a.param for a in net.activations])
    layout = lambda **kw: {**dict(sizes=sizes, acts=codes,   # noqa: E731
                                  act_params=params, offsets=offsets,
                                  dropout=np.zeros(2), loss=0, norm=2, weighted_mean=False,
                                  dtype=np.float64), **kw}
    corenet = core.CoreNet(**layout())
    assert corenet.forward(net.state.params, X).tobytes() == net.feedforward(X).tobytes()
    for kw, msg in [
        (dict(sizes=np.array([3, 9, 2], dtype=np.intp)), "offsets"),
        (dict(offsets=offsets[:-1]), "describe one network"),
        (dict(acts=np.array([1, 77], dtype=np.intc)), "activation code"),
        (dict(acts=np.array([5, 1], dtype=np.intc)), "softmax is an output activation"),
        (dict(loss=9), "unknown loss code"),
        (dict(norm=0), "divisor"),
        (dict(dropout=np.zeros(3)), "dropout has"),
        (dict(dtype=np.int32), "dtype"),
    ]:
        with pytest.raises(ValueError, match=msg):
            core.CoreNet(**layout(**kw))
    with pytest.raises(ValueError, match="params has"):
        corenet.forward(net.state.params[:-1], X)
    with pytest.raises(ValueError, match="X is"):
        corenet.forward(net.state.params, np.ones((5, 4)))
    with pytest.raises(ValueError, match="Y is"):
        corenet.gradients(net.state.params, X, np.ones((5, 3)), np.empty(0), 0.0, 0.0)
    with pytest.raises(ValueError, match="w has"):
        corenet.gradients(net.state.params, X, np.ones((5, 2)), np.ones(4), 0.0, 0.0)
    e = np.empty(0)
    adam = SimpleNamespace(code=3, params={"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8})
    state, scalars = np.zeros(2 * net.n_params), np.array([0.0, 1.0, 1.0])
    train = lambda **kw: corenet.train_epochs(**{**dict(   # noqa: E731
        params=net.state.params.copy(), X=X, Y=np.ones((5, 2)), w=e, orders=np.empty(0, np.intp),
        lrs=np.full(1, 0.1), epochs=2, batch_size=5, optimizer=adam, state=state,
        scalars=scalars, l1=0.0, l2=0.0, clipnorm=0.0, masks=e, count=False), **kw})
    losses, correct, run = train()
    assert run == 2 and losses.shape == (2,)
    for kw, msg in [
        (dict(state=e), "state has"),
        (dict(scalars=np.zeros(2)), "scalars has"),
        (dict(optimizer=SimpleNamespace(code=3, params={})), "needs the hyperparameters"),
        (dict(optimizer=SimpleNamespace(code=8, params={})), "unknown optimizer code"),
        (dict(masks=np.ones(7)), "masks has"),
        (dict(lrs=np.full(3, 0.1)), "lrs has"),
        (dict(orders=np.zeros(3, np.intp)), "orders has"),
        (dict(batch_size=6), "batch_size"),
        (dict(epochs=0), "epochs"),
        (dict(params=net.state.params[:-1].copy()), "params has"),
    ]:
        with pytest.raises(ValueError, match=msg):
            train(**kw)
    dropped = core.CoreNet(**layout(dropout=np.array([0.5, 0.0])))
    with pytest.raises(ValueError, match="masks has"):
        dropped.train_epochs(net.state.params.copy(), X, np.ones((5, 2)), e, np.empty(0, np.intp),
                             np.full(1, 0.1), 1, 5, adam, state, scalars, 0.0, 0.0, 0.0,
                             np.ones(7), False)
    assert dropped.mask_width == 4


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_accuracy_count_is_numpys_argmax_with_ties_nans_and_infinities(dtype):
    # oracle: reference.correct_predictions (np.argmax: the first maximum, or the first NaN)
    from cyneuron import _native, reference
    core = _native.core()
    rng = np.random.default_rng(0)
    pool = np.array([0.0, -0.0, 0.25, 0.5, 1.0, 1.0, 2.0, np.inf, -np.inf, np.nan], dtype)
    checked = 0
    for m in range(1, 13):
        for _ in range(40):
            n = rng.integers(1, 30)
            a, y = rng.choice(pool, size=(n, m)), rng.choice(pool, size=(n, m))
            want = reference.correct_predictions(a, y)
            assert core.count_correct(a, y) == want, (m, a, y)
            checked += want
    assert checked > 1000                  # the draws agree often enough to count hits
    one_hot = np.eye(4, dtype=dtype)[[0, 1, 2, 3, 3]]
    rows = np.array([[np.nan, 9, 9, 9], [1, np.nan, 2, np.nan], [3, 3, np.nan, 3],
                     [-np.inf, -np.inf, -np.inf, -np.inf], [1, 2, 2, -0.0]], dtype)
    # argmaxes 0, 1, 2, 0, 1 (the first NaN; the first of tied maxima)
    assert core.count_correct(rows, one_hot) == 3
    with pytest.raises(ValueError, match="same shape"):
        core.count_correct(rows, one_hot[:, :3].copy())
