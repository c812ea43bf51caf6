"""cyneuron.optimizers and the registry's optimizer rows: every optimizer's
whole fits bit for bit between the backends, AdamW's decoupled weight decay
against its closed form, its model files, and its bad input.

The optimizers are taken from the registry (every row, and momentum's
nesterov), so a new row is checked here without a line added.
"""
import math

import numpy as np
import pytest
from helpers import bits

import cyneuron as cn
from cyneuron import _registry as registry
from cyneuron import reference as ref

# every row by its name, and momentum with nesterov=True
OPTIMIZERS = [(name, None) for name in registry.OPTIMIZERS] + [("momentum", {"nesterov": True})]
LRS = {"sgd": 0.1, "momentum": 0.05}          # the others: 0.01
# (batch_size, shuffle, sample weights, reduction, dropout): every way a fit batches
BATCH_MODES = {
    "full": (None, True, False, "sum_over_batch_size", None),
    "minibatch": (5, True, False, "sum_over_batch_size", None),
    "in-order": (4, False, False, "sum_over_batch_size", None),
    "one-row": (1, True, False, "sum_over_batch_size", None),
    "weighted": (6, True, True, "weighted_mean", None),
    "dropout": (5, True, True, "sum_over_batch_size", 0.2),
}


def _problem(seed, dtype, n=17):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 4)).astype(dtype)
    y = rng.random((n, 2)).astype(dtype)
    w = rng.random(n).astype(dtype) + 0.5
    return X, y, w


def _pair(dtype, numerics, seed, reduction="sum_over_batch_size", dropout=None):
    kw = dict(activation=["tanh", "sigmoid"], loss="mse", dtype=dtype, seed=seed,
              init="xavier", numerics=numerics, reduction=reduction)
    if dropout is not None:
        kw["dropout"] = dropout
    return (cn.Network([4, 7, 2], backend="cython", **kw),
            cn.Network([4, 7, 2], backend="numpy", **kw))


def _same(fast, slow, X):
    assert bits(fast.get_weights()) == bits(slow.get_weights())
    assert fast.state.opt_state.tobytes() == slow.state.opt_state.tobytes()
    assert fast.state.opt_scalars.tobytes() == slow.state.opt_scalars.tobytes()
    assert fast.feedforward(X).tobytes() == slow.feedforward(X).tobytes()


@pytest.mark.bitwise
@pytest.mark.parametrize("mode", list(BATCH_MODES))
@pytest.mark.parametrize("numerics", ["numpy", "portable"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("oi", range(len(OPTIMIZERS)),
                         ids=[n + ("-nesterov" if p else "") for n, p in OPTIMIZERS])
def test_whole_fits_bit_for_bit(oi, dtype, numerics, mode):
    name, params = OPTIMIZERS[oi]
    bs, shuffle, weighted, reduction, dropout = BATCH_MODES[mode]
    seed = 7 * oi + len(mode)
    X, y, w = _problem(seed, dtype)
    fast, slow = _pair(dtype, numerics, seed, reduction, dropout)
    kw = dict(epochs=6, learning_rate=LRS.get(name, 0.01), batch_size=bs, shuffle=shuffle,
              optimizer=name, optimizer_params=params, sample_weight=w if weighted else None)
    hf, hs = fast.fit(X, y, **kw), slow.fit(X, y, **kw)
    assert np.asarray(hf["loss"]).tobytes() == np.asarray(hs["loss"]).tobytes()
    _same(fast, slow, X)
    # training goes on from the optimizer state, still identical
    fast.fit(X, y, **kw)
    slow.fit(X, y, **kw)
    _same(fast, slow, X)


@pytest.mark.bitwise
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_adamw_with_penalties_clipping_and_schedule(dtype):
    X, y, _ = _problem(3, dtype, n=23)
    kw = dict(activation=["relu", "identity"], loss="mse", dtype=dtype, seed=3, l1=1e-3,
              l2=1e-2, dropout=0.1)
    fast = cn.Network([4, 7, 2], backend="cython", **kw)
    slow = cn.Network([4, 7, 2], backend="numpy", **kw)
    fit = dict(epochs=8, learning_rate=0.05, batch_size=4, clipnorm=0.5, lr_schedule="step",
               optimizer=cn.optimizers.AdamW(weight_decay=0.3))
    fast.fit(X, y, **fit)
    slow.fit(X, y, **fit)
    _same(fast, slow, X)


@pytest.mark.bitwise
@pytest.mark.parametrize("numerics", ["numpy", "portable"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_adamw_on_sparse_input(dtype, numerics):
    """A sparse X gives its dense copy's bits, with weight decay too."""
    import scipy.sparse as sp
    X, y, _ = _problem(9, dtype, n=19)
    X[np.abs(X) < 0.8] = 0
    fit = dict(epochs=5, learning_rate=0.01, batch_size=4,
               optimizer=cn.optimizers.AdamW(weight_decay=0.2))
    nets = []
    for backend, data in [("cython", sp.csr_matrix(X)), ("numpy", sp.csr_matrix(X)),
                          ("cython", X)]:
        net = cn.Network([4, 7, 2], activation="relu", dtype=dtype, seed=9, backend=backend,
                         numerics=numerics)
        net.fit(data, y, **fit)
        nets.append(net)
    _same(nets[0], nets[1], X)
    _same(nets[0], nets[2], X)


# --- AdamW -------------------------------------------------------------------------------------

def _one_neuron(backend):
    net = cn.Network([1, 1], activation="identity", loss="sse", backend=backend)
    net.set_weights([(np.array([[1.0]]), np.array([0.5]))])
    return net


@pytest.mark.parametrize("backend", ["cython", "numpy"])
def test_adamw_first_step_closed_form(backend):
    """The weight is scaled by 1 - lr * weight_decay before Adam's step; the bias is not."""
    net = _one_neuron(backend)
    net.fit(np.array([[2.0]]), np.array([[0.0]]), epochs=1, learning_rate=0.01,
            optimizer="adamw", optimizer_params={"weight_decay": 0.5})
    (W, b), = net.get_weights()
    a = 2.0 * 1.0 + 0.5                       # output; sse gradient a - y
    gw, gb = a * 2.0, a
    alpha = 0.01 * math.sqrt(1 - 0.999) / (1 - 0.9)
    step = lambda g: (alpha * ((1 - 0.9) * g)) / (math.sqrt((1 - 0.999) * (g * g)) + 1e-8)  # noqa: E731
    assert W[0, 0] == (1.0 * (1 - 0.01 * 0.5)) - step(gw)
    assert b[0] == 0.5 - step(gb)
    assert net.state.opt_scalars[0] == 1


@pytest.mark.parametrize("backend", ["cython", "numpy"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_adamw_without_decay_is_adam(backend, dtype):
    X, y, _ = _problem(5, dtype)
    nets = []
    for opt in (cn.optimizers.Adam(), cn.optimizers.AdamW(weight_decay=0.0)):
        net = cn.Network([4, 7, 2], activation="tanh", dtype=dtype, seed=5, backend=backend)
        net.fit(X, y, epochs=5, learning_rate=0.01, batch_size=6, optimizer=opt)
        nets.append(net)
    assert bits(nets[0].get_weights()) == bits(nets[1].get_weights())
    assert nets[0].state.opt_state.tobytes() == nets[1].state.opt_state.tobytes()


def test_adamw_spec():
    opt = cn.optimizers.AdamW()
    assert opt.name == "adamw" and opt.code == registry.OPTIMIZERS["adam"].code
    assert opt.params == {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8, "weight_decay": 0.01}
    assert opt.weight_decay == 0.01 and cn.optimizers.Adam().weight_decay == 0.0
    assert registry.DEFAULT_LEARNING_RATES["adamw"] == 0.001
    assert repr(cn.optimizers.AdamW(weight_decay=0.1)).startswith("adamw(")
    net = cn.Network([2, 3, 1], seed=0)
    net.fit(np.ones((4, 2)), np.ones((4, 1)), optimizer="AdamW")
    assert net.optimizer.name == "adamw" and net.state.opt_scalars[0] == 1


def test_rows_of_one_code_read_the_same_hyperparameters():
    """The compiled core reads a row's hyperparameters in order (weight_decay
    apart) and switches on its code: rows sharing a code must agree."""
    by_code = {}
    for row in registry.OPTIMIZERS.values():
        names = [k for k in row.defaults if k != registry.WEIGHT_DECAY]
        by_code.setdefault(row.code, []).append((names, row.update, row.state,
                                                 row.counts_steps))
    for rows in by_code.values():
        assert all(r == rows[0] for r in rows)


@pytest.mark.parametrize("bad,exc,match", [
    ({"weight_decay": -0.1}, ValueError, "weight_decay"),
    ({"weight_decay": float("nan")}, ValueError, "weight_decay"),
    ({"weight_decay": "0.1"}, TypeError, "weight_decay"),
    ({"decay": 0.1}, ValueError, "decay"),
])
def test_adamw_bad_hyperparameters(bad, exc, match):
    with pytest.raises(exc, match=match):
        registry.optimizer("adamw", **bad)
    net = cn.Network([2, 3, 1], seed=0)
    net.fit(np.ones((4, 2)), np.ones((4, 1)), optimizer="adam", epochs=2)
    before = (bits(net.get_weights()), net.state.opt_state.tobytes(),
              net.state.opt_scalars.tobytes(), net.optimizer)
    with pytest.raises(exc, match=match):
        net.fit(np.ones((4, 2)), np.ones((4, 1)), optimizer="adamw", optimizer_params=bad)
    assert (bits(net.get_weights()), net.state.opt_state.tobytes(),
            net.state.opt_scalars.tobytes(), net.optimizer) == before


def test_reference_step_needs_the_shapes_for_weight_decay():
    p = np.ones(3)
    with pytest.raises(ValueError, match="like"):
        ref.optimizer_step(cn.optimizers.AdamW(), {"m": p * 0, "v": p * 0, "t": 0, "b1p": 1.0,
                                                   "b2p": 1.0}, p, p, 0.1)


# --- model files -------------------------------------------------------------------------------

@pytest.mark.parametrize("backend", ["cython", "numpy"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_adamw_saved_and_loaded_trains_on_identically(tmp_path, backend, dtype):
    X, y, _ = _problem(11, dtype)
    fit = dict(epochs=3, learning_rate=0.01, batch_size=5,
               optimizer=cn.optimizers.AdamW(weight_decay=0.05))
    net = cn.Network([4, 7, 2], activation="tanh", dtype=dtype, seed=11, backend=backend)
    net.fit(X, y, **fit)
    path = cn.save(net, str(tmp_path / "m.npz"))
    back = cn.load(path, backend=backend)
    assert back.optimizer == net.optimizer and back.optimizer.params == net.optimizer.params
    assert back.state.opt_state.tobytes() == net.state.opt_state.tobytes()
    assert back.state.opt_scalars.tobytes() == net.state.opt_scalars.tobytes()
    del fit["optimizer"]                       # go on with the network's own optimizer
    net.fit(X, y, optimizer=net.optimizer, **fit)
    back.fit(X, y, optimizer=back.optimizer, **fit)
    _same(net, back, X)


def test_adamw_state_is_checked_on_load(tmp_path):
    X, y, _ = _problem(12, "float64")
    net = cn.Network([4, 7, 2], activation="tanh", seed=12)
    net.fit(X, y, epochs=3, batch_size=5, optimizer="adamw")
    good = cn.save(net, str(tmp_path / "good.npz"))
    assert cn.load(good).optimizer.name == "adamw"
    # the model files' check reads adamw's row: averages of squares, never below 0
    with net.guard.writing():
        net.state.opt_state[net.n_params + 2] = -1e-3
    with pytest.raises(ValueError, match="negative second moment.*adamw"):
        cn.save(net, str(tmp_path / "bad.npz"))
