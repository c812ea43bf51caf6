"""Oracle fuzzing: hypothesis over cyneuron.network (derandomized, bounded so that CI stays fast).

* Bad inputs of every family are rejected with a ValueError or TypeError and
  leave the network byte-identical: weights, optimizer state, optimizer,
  Generator position. The tally per family is printed at the end
  (``pytest tests/test_fuzz_properties.py -s``).
* Valid random problems give the same bits on both backends.
* save/load round-trips exactly, optimizer state and Generator included.
"""
import collections

import numpy as np
import pytest
from helpers import bits
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cyneuron as cn

SETTINGS = settings(derandomize=True, deadline=None, max_examples=200, database=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])
TALLY = collections.defaultdict(lambda: [0, 0, 0])      # family: tried, named error, unchanged


def state_of(net):
    return (bits(net.get_weights()), net.state.opt_state.tobytes(), net.state.opt_scalars.tobytes(),
            repr(net.optimizer), str(net.rng.bit_generator.state))


def fresh():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((24, 3)), rng.integers(0, 2, 24)
    net = cn.Network([3, 5, 2], activation="tanh", output_activation="softmax",
                     loss="categorical_crossentropy", seed=1)
    net.fit(X, y, epochs=2, batch_size=8, optimizer="adam")
    return net, X, y


NET, X0, Y0 = fresh()


def rejects(family, call):
    """call(net) must raise ValueError/TypeError naming something, net unchanged."""
    net = NET
    before = state_of(net)
    TALLY[family][0] += 1
    with pytest.raises((ValueError, TypeError)) as info:
        call(net)
    if str(info.value):
        TALLY[family][1] += 1
    assert str(info.value)
    assert state_of(net) == before
    TALLY[family][2] += 1


bad_floats = st.sampled_from([np.nan, np.inf, -np.inf, 10 ** 400])
junk = st.one_of(st.text(max_size=3), st.none(), st.just(1j), st.just({}), st.just(set()),
                 st.just([[1, 2], [3]]), st.just(object()))


@SETTINGS
@given(rows=st.integers(0, 6), cols=st.integers(0, 6), bad=st.sampled_from(
    ["shape", "nan", "inf", "dtype", "3d", "empty"]))
def test_bad_inputs(rows, cols, bad):
    X = np.ones((max(rows, 1), cols if cols != 3 else 4))
    if bad == "nan":
        X = np.full((max(rows, 1), 3), np.nan)
    elif bad == "inf":
        X = np.full((max(rows, 1), 3), np.inf)
    elif bad == "dtype":
        X = np.full((max(rows, 1), 3), "a")
    elif bad == "3d":
        X = np.ones((2, 2, 3))
    elif bad == "empty":
        X = np.ones((0, 3))
    for name, call in [("X to fit", lambda n: n.fit(X, np.zeros(len(X), int), epochs=1)),
                       ("X to feedforward", lambda n: n.feedforward(X)),
                       ("X to evaluate", lambda n: n.evaluate(X, np.zeros(len(X), int)))]:
        rejects(name, call)


@SETTINGS
@given(kind=st.sampled_from(["range", "shape", "nan", "float", "negative-rows", "bool"]),
       value=st.integers(-5, 7))
def test_bad_targets(kind, value):
    if kind == "range":
        y = np.full(24, value if value not in (0, 1) else 2)
    elif kind == "shape":
        y = np.zeros((24, 3 + abs(value)))
    elif kind == "nan":
        y = np.full((24, 2), np.nan)
    elif kind == "float":
        y = np.full(24, 0.5)
    elif kind == "negative-rows":
        y = -np.eye(2)[np.arange(24) % 2]
    else:
        y = np.ones(24, dtype=bool)
    rejects("y", lambda n: n.fit(X0, y, epochs=1))
    rejects("y to evaluate", lambda n: n.evaluate(X0, y))


@SETTINGS
@given(name=st.sampled_from(["epochs", "learning_rate", "batch_size", "clipnorm",
                             "validation_split", "shuffle", "optimizer", "lr_schedule"]),
       value=st.one_of(bad_floats, junk, st.integers(-3, 0), st.floats(-5, -1e-9)))
def test_bad_fit_arguments(name, value):
    if name == "validation_split" and isinstance(value, int) and value == 0:
        value = 1.0
    if value is None:       # None is a valid choice for most of these
        value = "lamb"
    if name == "batch_size" and isinstance(value, int) and value > 0:
        value = -value      # any positive batch size is valid (clipped to the data)
    rejects(f"fit({name}=...)", lambda n: n.fit(X0, Y0, **{name: value}))


@SETTINGS
@given(opt=st.sampled_from(["momentum", "rmsprop", "adam"]),
       key=st.sampled_from(["momentum", "rho", "beta_1", "beta_2", "epsilon", "nesterov",
                            "nope"]),
       value=st.one_of(bad_floats, junk, st.floats(1.0, 5.0), st.floats(-5, -1e-9)))
def test_bad_optimizer_parameters(opt, key, value):
    if key == "epsilon" and isinstance(value, float) and value >= 1.0:
        value = -value      # any positive epsilon is valid
    rejects("optimizer_params", lambda n: n.fit(X0, Y0, optimizer=opt,
                                                optimizer_params={key: value}))


@SETTINGS
@given(kind=st.sampled_from(["sample_weight", "class_weight", "validation_data"]),
       value=st.one_of(bad_floats, junk, st.integers(-3, -1), st.just([1.0] * 5)))
def test_bad_weights_and_validation(kind, value):
    if value is None:       # None is valid: no weights, no validation
        value = "abc"
    if kind == "sample_weight":
        arg = {"sample_weight": value if not isinstance(value, float) else np.full(24, value)}
    elif kind == "class_weight":
        arg = {"class_weight": {0: value} if not isinstance(value, (dict, set)) else {7: 1.0}}
    else:
        arg = {"validation_data": value if not isinstance(value, float)
               else (X0, np.full(24, value))}
    rejects(kind, lambda n: n.fit(X0, Y0, epochs=1, **arg))


@SETTINGS
@given(layer=st.integers(0, 1), part=st.integers(0, 1),
       bad=st.sampled_from(["shape", "nan", "junk", "pair", "count"]))
def test_bad_set_weights(layer, part, bad):
    w = [list(p) for p in NET.get_weights()]
    if bad == "shape":
        w[layer][part] = np.ones((9, 9))
    elif bad == "nan":
        w[layer][part] = np.full_like(w[layer][part], np.nan)
    elif bad == "junk":
        w[layer][part] = "abc"
    elif bad == "pair":
        w[layer] = (w[layer][0],)
    else:
        w = w[:1]
    rejects("set_weights", lambda n: n.set_weights([tuple(p) for p in w]))


# --- valid problems: the same bits on both backends --------------------------------------

ACTS = ["sigmoid", "tanh", "relu", ("leaky_relu", 0.1), "identity"]


@settings(derandomize=True, deadline=None, max_examples=40, database=None)
@given(sizes=st.lists(st.integers(1, 9), min_size=2, max_size=4),
       hidden=st.sampled_from(ACTS), out=st.sampled_from(["sigmoid", "identity", "softmax"]),
       n=st.integers(1, 20), batch=st.one_of(st.none(), st.integers(1, 8)),
       opt=st.sampled_from(["sgd", "momentum", "rmsprop", "adam"]),
       dtype=st.sampled_from(["float64", "float32"]), seed=st.integers(0, 2 ** 16),
       reduction=st.sampled_from(["sum_over_batch_size", "weighted_mean"]))
def test_backends_agree_on_random_problems(sizes, hidden, out, n, batch, opt, dtype, seed,
                                           reduction):
    if out == "softmax":
        sizes[-1] = max(2, sizes[-1])
    loss = {"sigmoid": "binary_crossentropy", "identity": "mse",
            "softmax": "categorical_crossentropy"}[out]
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, sizes[0])).astype(dtype)
    y = (rng.integers(0, sizes[-1], n) if out == "softmax"
         else (rng.random((n, sizes[-1])) < 0.5).astype(dtype))
    w = rng.random(n).astype(dtype) + 0.1
    kw = dict(activation=hidden, output_activation=out, loss=loss, seed=seed, dtype=dtype,
              reduction=reduction, l2=1e-3)
    fast, slow = cn.Network(sizes, **kw), cn.Network(sizes, backend="numpy", **kw)
    fit = dict(epochs=3, batch_size=batch, optimizer=opt, learning_rate=0.01, sample_weight=w)
    hf, hs = fast.fit(X, y, **fit), slow.fit(X, y, **fit)
    assert bits(np.asarray(hf["loss"])) == bits(np.asarray(hs["loss"]))
    assert bits(fast.get_weights()) == bits(slow.get_weights())
    assert fast.state.opt_state.tobytes() == slow.state.opt_state.tobytes()


@settings(derandomize=True, deadline=None, max_examples=25, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sizes=st.lists(st.integers(1, 7), min_size=2, max_size=4), hidden=st.sampled_from(ACTS),
       opt=st.sampled_from(["sgd", "momentum", "rmsprop", "adam"]),
       dtype=st.sampled_from(["float64", "float32"]), dropout=st.sampled_from([0.0, 0.3]))
def test_save_load_round_trips(tmp_path, sizes, hidden, opt, dtype, dropout):
    if len(sizes) == 2:
        dropout = 0.0
    rng = np.random.default_rng(len(sizes))
    X, y = rng.standard_normal((10, sizes[0])), rng.standard_normal((10, sizes[-1]))
    net = cn.Network(sizes, activation=hidden, output_activation="identity", seed=3,
                     dtype=dtype, dropout=dropout)
    net.fit(X, y, epochs=2, batch_size=4, optimizer=opt)
    back = cn.load(cn.save(net, tmp_path / "m"))
    assert state_of(back) == state_of(net)
    net.fit(X, y, epochs=2, batch_size=4, optimizer=opt)
    back.fit(X, y, epochs=2, batch_size=4, optimizer=opt)
    assert state_of(back) == state_of(net)


def test_tally_of_bad_inputs():
    """Runs last in this file: every family was tried, named and left the model alone."""
    lines = [f"{family:>24}: {t} tried, {e} named error, {u} model unchanged"
             for family, (t, e, u) in sorted(TALLY.items())]
    total = [sum(x) for x in zip(*TALLY.values())]
    print("\nbad inputs by family\n" + "\n".join(lines) + f"\n{'all':>24}: {total[0]} tried, "
          f"{total[1]} named error, {total[2]} model unchanged")
    assert len(TALLY) >= 10 and all(t == e == u > 0 for t, e, u in TALLY.values())
