"""csrc's kernels through cyneuron._core: every kernel variant and thread count gives the reference's bits.

The compiled products come in several instruction-set variants (scalar
loops, 16-byte vectors, AVX2, AVX-512) picked at run time, and can split
their output rows over threads. Each variant is forced in turn here and
compared, exact bits, with the NumPy reference on shapes that reach every
edge of the register tiles: row counts that leave 1..7 rows over, column
counts that leave a partial vector, reductions longer than one 128-deep
block, and the transposed products of backpropagation and weight gradients.

Oracle bitwise: the NumPy reference (cyneuron.reference), every variant forced in turn.
"""
import os
import platform

import numpy as np
import pytest
from helpers import bits, fit_outcome

import cyneuron as cn
from cyneuron import _native

pytestmark = pytest.mark.bitwise

core = _native.core()
VARIANTS = [name for name, ok in core.kernel_variants().items() if ok]


@pytest.fixture
def forced():
    """Force a kernel variant for one test, then go back to automatic choice."""
    def force(name):
        core.set_kernel_variant(name)
    yield force
    core.set_kernel_variant(None)


def _cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return None


def test_variant_table():
    table = core.kernel_variants()
    assert list(table)[0] == "scalar" and table["scalar"]
    assert core.kernel_variant() in VARIANTS
    # the automatic choice is the widest variant this CPU runs
    assert core.kernel_variant() == VARIANTS[-1]
    if platform.machine().lower() in ("x86_64", "amd64") and os.name != "nt":
        assert {"vec128", "avx2", "avx512"} <= set(table)
        flags = _cpu_flags()
        if flags is not None:
            assert table["avx2"] == ("avx2" in flags)
            assert table["avx512"] == ("avx512f" in flags)


def test_forcing_bad_variants_raises(forced):
    with pytest.raises(ValueError, match="unknown kernel variant 'sse9'"):
        forced("sse9")
    unsupported = [name for name, ok in core.kernel_variants().items() if not ok]
    for name in unsupported:
        with pytest.raises(RuntimeError, match="not supported on this CPU"):
            forced(name)
    assert core.kernel_variant() == VARIANTS[-1]


# (layer sizes, batch): every tile edge. Rows: 1, 2, 3, 5, 7, 9, 13, 37 leave
# remainders for tiles of 4 and 8 rows. Columns: 1, 3, 5, 17, 33 leave
# partial vectors of 2, 4, 8 and 16 lanes. Reductions of 130, 300, 600 and
# 700 terms span several blocks (128 to 512 deep, by variant and dtype) in
# the forward, transposed and weight-gradient products.
SHAPES = [
    ([3, 4, 1], 5),
    ([2, 2, 1], 1),
    ([5, 17, 3], 7),
    ([130, 33, 5], 9),
    ([17, 300, 2], 13),
    ([64, 64, 10], 32),
    ([9, 40, 40, 12], 37),
    ([1, 1], 2),
    ([300, 3], 3),
    ([700, 9, 2], 6),      # forward reduction over more than one 512-deep block
    ([5, 7, 3], 600),      # weight-gradient reduction over 600 samples, in blocks
    # narrow outputs (1 or 10 units) are computed as their transpose: forward,
    # and weight gradients whose reduction over 1300 samples spans blocks
    ([30, 100, 1], 200),
    ([64, 100, 10], 77),
    ([40, 1], 1300),
    # products narrower than a tile run in the half-width variant when that
    # wastes fewer lanes (AVX-512 hands 1-20 float64 columns to AVX2); 50 and
    # 90 columns keep partial AVX-512 panels of 18 and 26 lanes (2 and 3 vectors)
    ([20, 50, 90, 24], 11),
]


def _problem(sizes, n, dtype, seed):
    rng = np.random.default_rng(seed)
    X = (rng.standard_normal((n, sizes[0])) * 2).astype(dtype)
    Y = rng.random((n, sizes[-1])).astype(dtype)
    kw = dict(activation="tanh", output_activation="sigmoid", loss="mse",
              seed=seed, dtype=dtype, init="xavier")
    return X, Y, kw


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("case", range(len(SHAPES)))
def test_variant_matches_reference(case, variant, dtype, forced):
    sizes, n = SHAPES[case]
    X, Y, kw = _problem(sizes, n, dtype, case)
    slow = cn.Network(sizes, backend="numpy", **kw)
    expect_out = bits(slow.feedforward(X))
    expect_grad = bits(slow.gradients(X, Y))
    slow.fit(X, Y, epochs=3, learning_rate=0.1, batch_size=max(1, n // 2),
             optimizer="adam", shuffle=True)
    forced(variant)
    assert core.kernel_variant() == variant
    fast = cn.Network(sizes, **kw)
    assert bits(fast.feedforward(X)) == expect_out
    assert bits(fast.gradients(X, Y)) == expect_grad
    fast.fit(X, Y, epochs=3, learning_rate=0.1, batch_size=max(1, n // 2),
             optimizer="adam", shuffle=True)
    assert bits(fast.get_weights()) == bits(slow.get_weights())


# widths whose last AVX-512 panel is partial: 100 = 64 + 36, 90 = 64 + 26 and
# 70 = 64 + 6 (float32), 100 = 96 + 4, 90 = 64 + 26, 50 = 32 + 18 and 70 =
# 64 + 6 (float64), in the forward (outputs), back (inputs) and
# weight-gradient products
HALF_EDGE_SHAPES = [([40, 100, 100, 10], 50), ([36, 90, 50, 3], 29), ([100, 70, 1], 70)]


@pytest.fixture
def half_width_cost():
    """Set what a half-width lane costs for one test, then measure again."""
    was = [core.half_width_cost(where=w) for w in ("edge", "narrow")]
    yield core.half_width_cost
    for w in ("edge", "narrow"):
        core.half_width_cost(None, where=w)
    assert min(was) >= 0


@pytest.mark.skipif("avx512" not in VARIANTS, reason="the half-width panels are AVX-512's")
@pytest.mark.parametrize("where", ["edge", "narrow"])
@pytest.mark.parametrize("cost", [0.001, 1000])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", range(len(HALF_EDGE_SHAPES)))
def test_half_width_partial_panels_match_reference(case, dtype, cost, where, forced,
                                                   half_width_cost):
    """A product's columns past its last whole AVX-512 tile computed with
    AVX2's vectors (cost 0.001: every time) or not (1000: never), for a wider
    product's partial panel ("edge") and for a product narrower than a tile
    ("narrow": the 10-, 3- and 1-unit layers), give the reference's bits in
    the forward pass, the gradients and a fit, and the half-width path really
    runs in the first case only."""
    sizes, n = HALF_EDGE_SHAPES[case]
    X, Y, kw = _problem(sizes, n, dtype, 40 + case)
    slow = cn.Network(sizes, backend="numpy", **kw)
    expect = [bits(slow.feedforward(X)), bits(slow.gradients(X, Y))]
    slow.fit(X, Y, epochs=2, learning_rate=0.1, batch_size=max(1, n // 2), optimizer="adam")
    forced("avx512")
    other = "narrow" if where == "edge" else "edge"
    half_width_cost(cost, where=where)
    half_width_cost(1000, where=other)
    splits = [core.half_width_splits(w) for w in (where, other)]
    fast = cn.Network(sizes, **kw)
    assert [bits(fast.feedforward(X)), bits(fast.gradients(X, Y))] == expect
    fast.fit(X, Y, epochs=2, learning_rate=0.1, batch_size=max(1, n // 2), optimizer="adam")
    assert bits(fast.get_weights()) == bits(slow.get_weights())
    assert (core.half_width_splits(where) > splits[0]) == (cost < 1)
    assert core.half_width_splits(other) == splits[1]


@pytest.mark.skipif("avx512" not in VARIANTS, reason="the masked last vectors are AVX-512's")
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_every_masked_tail_of_a_partial_panel_matches_reference(dtype, forced,
                                                                half_width_cost):
    """AVX-512's partial panels store their last vector with a mask, straight
    into C: layers one to GL-1 columns wider than a whole panel (64 + 1..15
    float32 columns, 32 + 1..7 float64) in the forward (with a bias and an
    activation), back and weight-gradient products, the last over more
    samples than one reduction block (the masked loads of the sums so far),
    give the reference's bits (a mask one lane too wide writes into the next
    row of C)."""
    lanes = 16 if dtype == "float32" else 8
    sizes = [5] + [4 * lanes + t for t in range(1, lanes)] + [3]
    X, Y, kw = _problem(sizes, 150, dtype, 61)
    slow = cn.Network(sizes, backend="numpy", **kw)
    expect = [bits(slow.feedforward(X)), bits(slow.gradients(X, Y))]
    slow.fit(X, Y, epochs=2, learning_rate=0.1, batch_size=150, optimizer="adam")
    forced("avx512")
    half_width_cost(1000)           # the partial panels stay on AVX-512
    fast = cn.Network(sizes, **kw)
    assert [bits(fast.feedforward(X)), bits(fast.gradients(X, Y))] == expect
    fast.fit(X, Y, epochs=2, learning_rate=0.1, batch_size=150, optimizer="adam")
    assert bits(fast.get_weights()) == bits(slow.get_weights())


def test_half_width_cost_refuses_bad_values(half_width_cost):
    for where in ("edge", "narrow"):
        for bad in (0, -1, 1001, float("nan")):
            with pytest.raises(ValueError, match="cost must be"):
                half_width_cost(bad, where=where)
    with pytest.raises(ValueError, match="where must be 'edge' or 'narrow', got 'wide'"):
        half_width_cost(1, where="wide")
    with pytest.raises(TypeError, match="where must be 'edge' or 'narrow', got int"):
        core.half_width_splits(0)
    if "avx512" in VARIANTS:
        half_width_cost(0.25)
        assert core.half_width_cost() == 0.25


@pytest.fixture
def small_pieces():
    """Products of more than 64 multiply-adds run in pieces (as huge ones do,
    to look for Ctrl-C in between), then back to the defaults."""
    core.set_watch_pieces(64, 64)
    yield
    core.set_watch_pieces(None, None)


@pytest.mark.parametrize("n_threads", [1, 2])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("case", range(len(SHAPES)))
def test_products_in_pieces_match_reference(case, variant, dtype, n_threads, forced,
                                            small_pieces):
    """Forward and error pieces by rows, weight-gradient pieces by samples
    (cyn_wgrad_more continuing the sums): the bits of one product."""
    sizes, n = SHAPES[case]
    X, Y, kw = _problem(sizes, n, dtype, case)
    slow = cn.Network(sizes, backend="numpy", **kw)
    expect_grad = bits(slow.gradients(X, Y))
    slow.fit(X, Y, epochs=2, learning_rate=0.1, optimizer="adam")
    forced(variant)
    fast = cn.Network(sizes, n_threads=n_threads, **kw)
    assert bits(fast.gradients(X, Y)) == expect_grad
    fast.fit(X, Y, epochs=2, learning_rate=0.1, optimizer="adam")
    assert bits(fast.get_weights()) == bits(slow.get_weights())


OPTIMIZERS = [("sgd", {}), ("momentum", {}), ("momentum", {"nesterov": True}),
              ("rmsprop", {}), ("adam", {})]
ACTIVATIONS = ["sigmoid", "tanh", "relu", ("leaky_relu", 0.2), "identity"]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("opt", range(len(OPTIMIZERS)))
def test_elementwise_passes_every_variant(variant, opt, forced):
    """Activations, derivatives, dropout and every optimizer update, per variant.

    37 rows of width 19 make every elementwise loop run its vector body and
    its tail.
    """
    name, params = OPTIMIZERS[opt]
    rng = np.random.default_rng(opt)
    X = rng.standard_normal((37, 6))
    Y = rng.random((37, 3))
    for act in ACTIVATIONS:
        kw = dict(activation=act, output_activation="sigmoid", loss="mse", seed=opt,
                  dropout=[0.25], init="he")
        slow = cn.Network([6, 19, 3], backend="numpy", **kw)
        slow.fit(X, Y, epochs=4, learning_rate=0.05, batch_size=10, optimizer=name,
                 optimizer_params=params)
        forced(variant)
        fast = cn.Network([6, 19, 3], **kw)
        fast.fit(X, Y, epochs=4, learning_rate=0.05, batch_size=10, optimizer=name,
                 optimizer_params=params)
        forced(None)
        assert bits(fast.get_weights()) == bits(slow.get_weights()), act


@pytest.mark.parametrize("act", ["identity", "relu", ("leaky_relu", 0.3), "sigmoid", "tanh"])
def test_extreme_values_every_variant(act, forced):
    """inf, NaN, signed zeros and subnormals pass through every variant alike,
    also through the activation step each product applies as it stores."""
    rng = np.random.default_rng(7)
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, -5e-324, 1e308, -1e308])
    sizes = [11, 19, 6]
    slow = cn.Network(sizes, activation=act, backend="numpy", seed=3)
    fast = cn.Network(sizes, activation=act, seed=3)
    with np.errstate(all="ignore"):
        # set_weights rejects non-finite values, so write into the layer views
        for (Ws, bs), (Wf, bf) in zip(slow.state.layers, fast.state.layers):
            Ws[...] = rng.choice(special, Ws.shape) * rng.standard_normal(Ws.shape)
            Wf[...] = Ws
            bs[...] = rng.standard_normal(bs.shape)
            bf[...] = bs
        X = rng.standard_normal((21, 11))
        X[0, :4] = [0.0, -0.0, np.inf, np.nan]
        expect = bits(slow.forward_array(X))
        for variant in VARIANTS:
            forced(variant)
            assert bits(fast.forward_array(X)) == expect, variant


# Products large enough that the core splits them (it keeps small ones on one
# thread). Wide layers (260 outputs) are split by columns, in parts that end
# inside a vector panel; narrow ones (70, 10) by rows.
THREAD_SIZES = [300, 260, 70, 10]
THREAD_BATCH = 200


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_threads_give_the_same_bits(dtype, counted_pool):
    rng = np.random.default_rng(11)
    X = rng.standard_normal((THREAD_BATCH, THREAD_SIZES[0])).astype(dtype)
    labels = rng.integers(0, THREAD_SIZES[-1], THREAD_BATCH)
    kw = dict(activation="relu", output_activation="softmax",
              loss="categorical_crossentropy", seed=5, dtype=dtype, init="he")
    slow = cn.Network(THREAD_SIZES, backend="numpy", **kw)
    expect_out = bits(slow.feedforward(X))
    expect_grad = bits(slow.gradients(X, labels))
    slow.fit(X, labels, epochs=2, learning_rate=0.01, batch_size=THREAD_BATCH,
             optimizer="momentum")
    expect_w = bits(slow.get_weights())
    for nt in (1, 2, 3, 4):
        fast = cn.Network(THREAD_SIZES, n_threads=nt, **kw)
        before = core.worker_jobs()
        assert bits(fast.feedforward(X)) == expect_out, nt
        assert bits(fast.gradients(X, labels)) == expect_grad, nt
        fast.fit(X, labels, epochs=2, learning_rate=0.01, batch_size=THREAD_BATCH,
                 optimizer="momentum")
        assert bits(fast.get_weights()) == expect_w, nt
        started = core.worker_jobs() - before
        if nt == 1:
            assert started == 0
        else:
            # the split really happened (each large product hands nt - 1 jobs out)
            assert started >= nt - 1, (nt, started)



# A batch whose rows the core splits over the threads (forward, loss and
# errors per row, then one pass for every layer's weight gradient and, when
# nothing needs the whole gradient first, the optimizer's update).
ROWS_SIZES = [30, 64, 48, 6]
ROWS_CASES = [
    # hidden, output, loss, dropout, weighted, optimizer, fit extras
    ("relu", "softmax", "categorical_crossentropy", 0.0, False, "adam", {}),
    ("tanh", "sigmoid", "binary_crossentropy", 0.25, True, "rmsprop", {}),
    ("gelu", "identity", "mse", 0.0, True, "nesterov", {}),
    ("elu", "tanh", "sse", 0.2, False, "momentum", {}),
    ("softplus", "softmax", "mse", 0.0, False, "sgd", {}),
    ("silu", "sigmoid", "mse", 0.0, False, "adam", {"clipnorm": 0.5}),
    ("leaky_relu", "softmax", "categorical_crossentropy", 0.0, True, "adamw", {}),
    ("relu", "sigmoid", "binary_crossentropy", 0.0, False, "adam", {}),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", ROWS_CASES, ids=lambda c: f"{c[0]}-{c[2]}-{c[5]}")
def test_rows_split_over_threads_give_the_reference_bits(case, dtype, counted_pool):
    hidden, out, loss, drop, weighted, optimizer, extra = case
    rng = np.random.default_rng(31)
    n = 160                                   # two batches: 96 rows, then 64
    X = rng.standard_normal((n, ROWS_SIZES[0])).astype(dtype)
    if loss == "categorical_crossentropy":
        y = rng.integers(0, ROWS_SIZES[-1], n)
    else:
        y = rng.random((n, ROWS_SIZES[-1])).astype(dtype)
    w = rng.random(n) + 0.5 if weighted else None
    kw = dict(activation=hidden, output_activation=out, loss=loss, seed=4, dtype=dtype,
              init="xavier", dropout=[drop, drop])
    fit = dict(epochs=2, learning_rate=0.01, batch_size=96, optimizer=optimizer,
               sample_weight=w, **extra)
    ref = cn.Network(ROWS_SIZES, backend="numpy", **kw)
    expect_grad = bits(ref.gradients(X[:96], y[:96]))
    ref.fit(X, y, **fit)
    expect = bits(ref.get_weights())
    for nt in (1, 2, 3):
        net = cn.Network(ROWS_SIZES, n_threads=nt, **kw)
        assert bits(net.gradients(X[:96], y[:96])) == expect_grad, nt
        before = core.worker_jobs()
        net.fit(X, y, **fit)
        assert bits(net.get_weights()) == expect, nt
        handed = core.worker_jobs() - before
        assert (handed == 0) if nt == 1 else (handed >= 4 * (nt - 1)), (nt, handed)


@pytest.fixture
def balance_only():
    """The pool with only its "balance" rule on (the cut of a two-part pass
    follows the threads' speeds; nothing goes alone), reset afterwards."""
    was, share = core.pool_adaptive({"balance"}), core.pool_force_share()
    core.pool_run_alone(0)
    yield
    core.pool_force_share(share)
    core.pool_adaptive(was)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("permille", [0, 1, 90, 300, 700, 999])
def test_any_cut_of_a_two_part_pass_gives_the_reference_bits(permille, dtype, balance_only):
    """Where the balance rule cuts the row pass and the weight pass (forced
    here, from one quantum for the caller to one for the worker; 0: where the
    measured speeds put it, moving from batch to batch) changes no bits."""
    rng = np.random.default_rng(33)
    X = rng.standard_normal((400, ROWS_SIZES[0])).astype(dtype)
    y = rng.integers(0, ROWS_SIZES[-1], 400)
    kw = dict(activation="relu", output_activation="softmax",
              loss="categorical_crossentropy", seed=5, dtype=dtype, init="xavier")
    fit = dict(epochs=3, learning_rate=0.01, batch_size=100, optimizer="adam")
    ref = cn.Network(ROWS_SIZES, backend="numpy", **kw)
    ref.fit(X, y, **fit)
    core.pool_force_share(permille)
    net = cn.Network(ROWS_SIZES, n_threads=2, **kw)
    before = core.worker_jobs()
    net.fit(X, y, **fit)
    assert core.worker_jobs() - before >= 2 * 4 * 3      # two passes per batch on the pool
    assert bits(net.get_weights()) == bits(ref.get_weights())


def test_pool_force_share_round_trips_and_refuses_bad_values(balance_only):
    was = core.pool_force_share()
    assert core.pool_force_share(250) == was
    assert core.pool_force_share() == 250
    assert core.pool_force_share(0) == 250
    assert core.pool_force_share() == 0
    with pytest.raises(ValueError, match=r"permille must be in \[0, 1000\), got 1000"):
        core.pool_force_share(1000)
    with pytest.raises(ValueError, match="permille must be in"):
        core.pool_force_share(-1)
    with pytest.raises(TypeError, match="permille must be an int, got float"):
        core.pool_force_share(0.5)
    with pytest.raises(TypeError, match="permille must be an int, got bool"):
        core.pool_force_share(True)
    assert core.pool_force_share() == 0


@pytest.mark.parametrize("variant", VARIANTS)
def test_rows_split_every_variant(variant, forced):
    """The row pass and the weight-gradient pass cut through every variant's
    tiles alike, the plain loops' (which own whole layers) too."""
    rng = np.random.default_rng(32)
    X = rng.standard_normal((96, ROWS_SIZES[0]))
    y = rng.integers(0, ROWS_SIZES[-1], 96)
    kw = dict(activation="relu", output_activation="softmax",
              loss="categorical_crossentropy", seed=7, init="he")
    fit = dict(epochs=2, learning_rate=0.01, batch_size=48, optimizer="adam")
    forced(variant)
    one = cn.Network(ROWS_SIZES, n_threads=1, **kw)
    one.fit(X, y, **fit)
    for nt in (2, 3):
        net = cn.Network(ROWS_SIZES, n_threads=nt, **kw)
        net.fit(X, y, **fit)
        assert bits(net.get_weights()) == bits(one.get_weights()), nt


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "nesterov", "rmsprop", "adam"])
def test_optimizer_update_split_over_threads(optimizer, dtype, counted_pool):
    """A large update is split over the threads by element ranges; a net
    whose products are all too small to split shows that the update itself
    went to the pool, with the reference's bits for every thread count."""
    sizes = [20, 300, 30]                       # 15,330 parameters, batch of 4
    rng = np.random.default_rng(21)
    X = rng.standard_normal((4, sizes[0])).astype(dtype)
    Y = rng.random((4, sizes[-1])).astype(dtype)
    kw = dict(activation="tanh", loss="mse", seed=8, dtype=dtype, init="xavier")
    fit = dict(epochs=3, learning_rate=0.01, batch_size=2, shuffle=False, optimizer=optimizer)
    ref = cn.Network(sizes, backend="numpy", **kw)
    ref.fit(X, Y, **fit)
    expect = bits(ref.get_weights())
    for nt in (1, 2, 3):
        net = cn.Network(sizes, n_threads=nt, **kw)
        before = core.worker_jobs()
        net.fit(X, Y, **fit)
        assert bits(net.get_weights()) == expect, nt
        handed = core.worker_jobs() - before
        # 3 epochs x 2 batches, nt - 1 parts of each update handed out
        assert handed == (0 if nt == 1 else 6 * (nt - 1)), (nt, handed)


@pytest.mark.parametrize("variant", VARIANTS[1:])
def test_thread_split_every_variant(variant, forced):
    """Row and column splits cut through every variant's tiles and panels alike."""
    rng = np.random.default_rng(12)
    X = rng.standard_normal((THREAD_BATCH, THREAD_SIZES[0]))
    Y = rng.random((THREAD_BATCH, THREAD_SIZES[-1]))
    kw = dict(activation="tanh", loss="mse", seed=6, init="xavier")
    weights = [(rng.standard_normal((k, m)) / np.sqrt(k), rng.standard_normal(m))
               for k, m in zip(THREAD_SIZES[:-1], THREAD_SIZES[1:])]
    forced(variant)
    one = cn.Network(THREAD_SIZES, n_threads=1, **kw)
    one.set_weights(weights)
    expect = [bits(one.feedforward(X)), bits(one.gradients(X, Y))]
    for nt in (2, 3):
        net = cn.Network(THREAD_SIZES, n_threads=nt, **kw)
        net.set_weights(weights)
        assert [bits(net.feedforward(X)), bits(net.gradients(X, Y))] == expect, nt


def test_a_late_worker_makes_the_caller_go_alone_with_the_same_bits(counted_pool):
    """What a pass that waited too long for the worker starts (pool_run_alone):
    the next passes run on the caller only, the worker untouched, the bits
    those of one thread; then the pool hands jobs out again."""
    rng = np.random.default_rng(13)
    X = rng.standard_normal((THREAD_BATCH, THREAD_SIZES[0]))
    y = rng.integers(0, THREAD_SIZES[-1], THREAD_BATCH)
    kw = dict(activation="relu", output_activation="softmax", loss="categorical_crossentropy",
              seed=3, init="he")
    fit = dict(epochs=2, learning_rate=0.01, batch_size=50, optimizer="adam")
    one = cn.Network(THREAD_SIZES, n_threads=1, **kw)
    expect_out = bits(one.feedforward(X))
    one.fit(X, y, **fit)
    expect_w = bits(one.get_weights())
    two = cn.Network(THREAD_SIZES, n_threads=2, **kw)
    before, late = core.worker_jobs(), core.pool_late_passes()
    core.pool_run_alone(1_000_000)
    try:
        assert bits(two.feedforward(X)) == expect_out
        two.fit(X, y, **fit)
        assert bits(two.get_weights()) == expect_w
        assert core.worker_jobs() == before          # nothing went to the worker
    finally:
        core.pool_run_alone(0)
    assert core.pool_late_passes() == late           # forced, not found late
    again = cn.Network(THREAD_SIZES, n_threads=2, **kw)
    assert bits(again.feedforward(X)) == expect_out
    assert core.worker_jobs() > before


_TWO_CORES = hasattr(os, "sched_setaffinity") and len(os.sched_getaffinity(0)) >= 2


def _pool_problem(seed, rows):
    """A training problem for the pool's tests: (X, y, network arguments, fit
    arguments, the weights' bits after one thread's fit)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((rows, THREAD_SIZES[0]))
    y = rng.integers(0, THREAD_SIZES[-1], rows)
    kw = dict(activation="relu", output_activation="softmax", loss="categorical_crossentropy",
              seed=seed, init="he")
    fit = dict(epochs=3, learning_rate=0.01, batch_size=THREAD_BATCH, optimizer="adam")
    one = cn.Network(THREAD_SIZES, n_threads=1, **kw)
    one.fit(X, y, **fit)
    return X, y, kw, fit, bits(one.get_weights())


def _crowded_fit(spin):
    """A two-thread fit pinned to two cores, with `spin` (a function of a
    threading.Event, run on another thread of the process until the event is
    set) or None: (weights' bits, windows begun alone, jobs handed out)."""
    import threading
    X, y, kw, fit, expect = _pool_problem(17, 2000)
    two = cn.Network(THREAD_SIZES, n_threads=2, **kw)
    allowed = os.sched_getaffinity(0)
    stop = threading.Event()
    was = core.pool_adaptive(True)
    os.sched_setaffinity(0, set(sorted(allowed)[:2]))     # this thread, and threads it starts
    other = threading.Thread(target=spin, args=(stop,)) if spin is not None else None
    try:
        if other is not None:
            other.start()
        crowded, jobs = core.pool_crowded_starts(), core.worker_jobs()
        two.fit(X, y, **fit)
        crowded, jobs = core.pool_crowded_starts() - crowded, core.worker_jobs() - jobs
    finally:
        stop.set()
        if other is not None:
            other.join()
        os.sched_setaffinity(0, allowed)
        core.pool_adaptive(was)
    assert bits(two.get_weights()) == expect
    return crowded, jobs


def _hash_until(stop):
    import hashlib
    data = bytes(1 << 22)           # hashed without the GIL: the thread stays runnable
    while not stop.is_set():
        hashlib.sha256(data).digest()


@pytest.mark.skipif(not (_TWO_CORES and platform.system() == "Linux"),
                    reason="needs two cores and Linux's /proc/self/task")
def test_a_busy_thread_of_the_process_makes_the_pool_begin_alone_with_the_same_bits():
    """Another thread of the process busy on one of two cores (as OpenBLAS's
    pool spins for about 0.1 s after a product): a two-thread fit begins its
    windows on the caller alone (the worker would be starved), with the bits
    of one thread."""
    crowded, _ = _crowded_fit(_hash_until)
    assert crowded >= 1


def _in_fresh_process(call):
    """`call` (an expression over this module, imported as t) evaluated in a
    fresh Python process, where no other library's pool can still be
    spinning (OpenBLAS held to one thread): its repr'd value."""
    import ast
    import subprocess
    import sys
    code = ("import sys; sys.path[:0] = [%r]; import test_kernels as t; print(repr(%s))"
            % (os.path.dirname(os.path.abspath(__file__)), call))
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return ast.literal_eval(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not (_TWO_CORES and platform.system() == "Linux"),
                    reason="needs two cores and Linux's /proc/self/task")
def test_with_no_other_busy_thread_the_pool_does_not_begin_alone():
    """The same fit with nothing else running in the process: no window
    begins alone and the worker takes jobs."""
    crowded, jobs = _in_fresh_process("t._crowded_fit(None)")
    assert crowded == 0
    assert jobs > 0


def _probed_fits():
    """Two two-thread fits, the first with probes that always find the caller
    alone fast enough, the second with probes that never do: for each, the
    stretches alone the probes began and the jobs handed to the worker."""
    X, y, kw, fit, expect = _pool_problem(19, 1000)
    out = []
    # probes alone: a late worker's or a crowded start's stretch alone (a busy
    # CI machine) would reset the kinds' counts before any probe
    was, adaptive = core.pool_probe(), core.pool_adaptive({"probes"})
    try:
        for every, percent in ((2, 1_000_000), (1, 0)):
            core.pool_probe(every, percent)
            core.pool_run_alone(0)          # the first fit's stretch alone ends here
            probed, jobs = core.pool_probed_alone(), core.worker_jobs()
            two = cn.Network(THREAD_SIZES, n_threads=2, **kw)
            two.fit(X, y, **fit)
            assert bits(two.get_weights()) == expect
            out.append((core.pool_probed_alone() - probed, core.worker_jobs() - jobs))
    finally:
        core.pool_probe(*was)
        core.pool_adaptive(adaptive)
    return out


@pytest.mark.skipif(not _TWO_CORES, reason="needs two cores")
def test_a_probe_as_fast_alone_as_on_the_pool_makes_the_caller_go_alone_with_the_same_bits():
    """The pool's probes (a pass of a kind now and then on the caller alone,
    timed against the same kind on the pool): when the pass alone is judged
    fast enough, the caller goes alone for a while; when not, the pool goes
    on handing out jobs; the bits are one thread's either way."""
    (went, _), (stayed, jobs) = _in_fresh_process("t._probed_fits()")
    assert went >= 1
    assert stayed == 0
    assert jobs > 0


def _first_probe_fit():
    """A two-thread fit of 30 batches (fewer passes of each kind than the
    probes' period of 128) with probes that always find the caller alone
    fast enough: the stretches alone they began and the jobs handed out."""
    X, y, kw, fit, expect = _pool_problem(23, 2000)
    was, adaptive = core.pool_probe(), core.pool_adaptive({"probes"})
    try:
        core.pool_probe(128, 1_000_000)
        core.pool_run_alone(0)
        probed, jobs = core.pool_probed_alone(), core.worker_jobs()
        two = cn.Network(THREAD_SIZES, n_threads=2, **kw)
        two.fit(X, y, **fit)
        assert bits(two.get_weights()) == expect
        return core.pool_probed_alone() - probed, core.worker_jobs() - jobs
    finally:
        core.pool_probe(*was)
        core.pool_adaptive(adaptive)


@pytest.mark.skipif(not _TWO_CORES, reason="needs two cores")
def test_the_first_probe_of_a_kind_comes_early():
    """A kind's first probe comes after 16 passes, not after the period: a
    pool slower than one thread is found within a fit's first batches."""
    went, jobs = _in_fresh_process("t._first_probe_fit()")
    assert went >= 1
    assert jobs >= 16


def test_pool_probe_setting_round_trips_and_refuses_bad_values():
    was = core.pool_probe()
    try:
        assert core.pool_probe(7, 90) == was
        assert core.pool_probe() == (7, 90)
        for bad in ((0, 90), (7, -1), (7, 2_000_000)):
            with pytest.raises(ValueError, match="every must be"):
                core.pool_probe(*bad)
        assert core.pool_probe() == (7, 90)
    finally:
        core.pool_probe(*was)
    assert core.pool_probe() == was


def test_pool_adaptive_setting_round_trips_and_refuses_bad_values():
    was = core.pool_adaptive()
    everything = frozenset({"late", "crowded", "probes", "balance"})
    try:
        assert core.pool_adaptive(False) == was
        assert core.pool_adaptive() == frozenset()
        assert not core.pool_adaptive(True)
        assert core.pool_adaptive() == everything
        assert core.pool_adaptive(["probes", "late"]) == everything
        assert core.pool_adaptive() == {"probes", "late"}
        with pytest.raises(ValueError, match=r"on names unknown rules \['lazy'\]"):
            core.pool_adaptive({"late", "lazy"})
        with pytest.raises(TypeError, match="on must be a bool or a collection"):
            core.pool_adaptive("late")
        assert core.pool_adaptive() == {"probes", "late"}
    finally:
        core.pool_adaptive(was)
    assert core.pool_adaptive() == was


def test_n_threads_validation():
    net = cn.Network([2, 3, 1])
    assert net.n_threads == 1
    net.n_threads = 2
    assert net.n_threads == 2
    assert cn.Network([2, 1], n_threads=-1).n_threads >= 1
    with pytest.raises(ValueError, match="n_threads must be between 1 and 64"):
        cn.Network([2, 1], n_threads=0)
    with pytest.raises(ValueError, match="n_threads must be between 1 and 64"):
        net.n_threads = 65
    with pytest.raises(TypeError, match="n_threads must be an int"):
        net.n_threads = 1.5
    with pytest.raises(TypeError, match="n_threads must be an int"):
        cn.Network([2, 1], n_threads=True)
    assert net.n_threads == 2


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork (POSIX)")
def test_thread_pool_survives_fork(counted_pool):
    """A child forked after the worker pool started gets a fresh pool, not a hang."""
    rng = np.random.default_rng(2)
    X = rng.standard_normal((THREAD_BATCH, THREAD_SIZES[0]))
    net = cn.Network(THREAD_SIZES, n_threads=2, seed=1)
    expect = net.feedforward(X).tobytes()
    before = core.worker_jobs()
    net.feedforward(X)
    assert core.worker_jobs() > before        # the pool is running in the parent
    pid = os.fork()
    if pid == 0:   # child: must finish (the test's timeout would catch a hang)
        # the counter is inherited from the parent: the child's own pool must
        # raise it, so compare with what the child started from
        inherited = core.worker_jobs()
        same = net.feedforward(X).tobytes() == expect
        ran = core.worker_jobs() > inherited
        os._exit(0 if same and ran else (3 if not same else 4))
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


# Tiny nets (every product below small_product_limit() multiply-adds) run a
# fused path: affine map and activation in one loop, plain SGD applied weight
# by weight as the gradients appear. It must give the reference's bits for
# every activation, loss and optimizer, and so must the dispatched kernels it
# replaces (forced variant: the fused path is off).
TINY_CASES = [
    # sizes, hidden activation, output activation, loss
    ([2, 2, 1], "sigmoid", "sigmoid", "mse"),
    ([3, 4, 1], "sigmoid", "sigmoid", "sse"),
    ([4, 5, 3], "tanh", "softmax", "categorical_crossentropy"),
    ([3, 6, 2], "relu", "sigmoid", "binary_crossentropy"),
    ([5, 3, 4, 2], ("leaky_relu", 0.2), "identity", "mse"),
    ([2, 3, 3, 1], ["identity", "relu", "tanh"], None, "sse"),
]
TINY_FITS = [
    dict(optimizer="sgd", batch_size=1),                 # per-sample, fused update
    dict(optimizer="sgd", batch_size=3),                 # partial last batch
    dict(optimizer="sgd", batch_size=None),              # full batch
    dict(optimizer="sgd", batch_size=2, l2=0.01),        # penalty: not fused
    dict(optimizer="sgd", batch_size=2, clipnorm=0.5),   # clipping: not fused
    dict(optimizer="momentum", batch_size=2),
    dict(optimizer="adam", batch_size=4),
    # batches in order: the bare per-epoch loop of the tiny path
    dict(optimizer="sgd", batch_size=3, shuffle=False),
    dict(optimizer="sgd", batch_size=1, shuffle=False, lr_schedule=lambda e, lr0: lr0 / (1 + e)),
    dict(optimizer="sgd", batch_size=2, shuffle=False, sample_weight=True),
    dict(optimizer="sgd", batch_size=None, lr_schedule="exponential"),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", range(len(TINY_CASES)))
def test_tiny_path_matches_reference(case, dtype, forced):
    sizes, hidden, out, loss = TINY_CASES[case]
    rng = np.random.default_rng(100 + case)
    n = 7
    X = (rng.standard_normal((n, sizes[0])) * 2).astype(dtype)
    if out == "softmax":
        Y = np.eye(sizes[-1], dtype=dtype)[rng.integers(sizes[-1], size=n)]
    else:
        Y = (rng.random((n, sizes[-1])) > 0.5).astype(dtype)
    macs = max(k * m for k, m in zip(sizes[:-1], sizes[1:]))
    assert n * macs < core.small_product_limit()      # really the tiny path
    kw = dict(activation=hidden, loss=loss, seed=case, dtype=dtype, init="xavier")
    if out is not None:
        kw["output_activation"] = out
    for fit in TINY_FITS:
        fit = dict(fit)
        fit.setdefault("shuffle", True)
        if fit.get("sample_weight"):
            fit["sample_weight"] = np.linspace(0.5, 2.0, n)
        reg = {k: fit.pop(k) for k in ("l2", "clipnorm") if k in fit}
        expect = None
        for mode in ("reference", "tiny", "scalar"):
            forced("scalar" if mode == "scalar" else None)
            net = cn.Network(sizes, backend="numpy" if mode == "reference" else "cython",
                             **kw, **({"l2": reg["l2"]} if "l2" in reg else {}))
            got = [bits(net.feedforward(X)), bits(net.gradients(X, Y))]
            got.append(fit_outcome(net, X, Y, epochs=5, learning_rate=0.3, **fit,
                                   **({"clipnorm": reg["clipnorm"]} if "clipnorm" in reg
                                      else {})))
            got.append(bits(net.get_weights()))
            if expect is None:
                expect = got
            else:
                assert got == expect, (mode, fit, reg)


@pytest.mark.parametrize("call", ["fit", "feedforward", "gradients"])
def test_gil_is_released(call):
    """Python keeps running in another thread while the core computes.

    A worker thread runs one long core call; the main thread meanwhile counts
    loop iterations and keeps their times. With the GIL held inside the core,
    no iteration could fall in the middle of the call (Python's validation
    before and after it takes well under the 20% margins).
    """
    import threading
    import time
    rng = np.random.default_rng(3)
    X = rng.standard_normal((12000, 256))
    labels = rng.integers(0, 10, 12000)
    net = cn.Network([256, 256, 256, 10], activation="relu", output_activation="softmax",
                     loss="categorical_crossentropy", seed=0)
    # one core call each (between calls Python would run anyway)
    work = {"fit": lambda: net.fit(X, labels, epochs=1, batch_size=100),
            "feedforward": lambda: net.feedforward(X),
            "gradients": lambda: net.gradients(X, labels)}[call]
    span = {}

    def run():
        span["start"] = time.perf_counter()
        work()
        span["end"] = time.perf_counter()

    worker = threading.Thread(target=run)
    ticks = []
    worker.start()
    while worker.is_alive():
        ticks.append(time.perf_counter())
    worker.join()
    t0, t1 = span["start"], span["end"]
    assert t1 - t0 > 0.02, "the call was too short to tell"
    lo, hi = t0 + 0.2 * (t1 - t0), t1 - 0.2 * (t1 - t0)
    inside = sum(lo < t < hi for t in ticks)
    assert inside > 100, (call, inside, t1 - t0)


def test_registry_codes_are_the_compiled_ones():
    """cyneuron._registry's codes equal the enums csrc/cyn_kernels.h compiled into the core."""
    from cyneuron import _registry as reg

    compiled = core.codes()
    assert {n: reg.activation(n).code for n in compiled["activation"]} == compiled["activation"]
    assert {n: reg.loss(n).code for n in compiled["loss"]} == compiled["loss"]
    assert {n: reg.optimizer(n).code for n in compiled["optimizer"]} == compiled["optimizer"]
    # every name the registry knows maps to one of those codes
    assert {reg.activation(n).code for n in reg.ACTIVATION_NAMES} == set(compiled["activation"].values())
    assert {reg.loss(n).code for n in reg.LOSS_NAMES} == set(compiled["loss"].values())
