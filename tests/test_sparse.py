"""Sparse inputs (issue 29): scipy CSR, CSC and COO matrices and arrays.

What is promised, and checked here bit for bit (``tobytes``): a sparse X
gives the same outputs, gradients, losses and trained weights as its dense
copy ``X.toarray()``, on both backends, at both dtypes and in both numerics
modes, for every activation, loss, optimizer and batch mode, whenever the
weights are finite; the core and the reference agree on sparse input even
where they are not. Bad sparse input is refused with an error that says
"sparse" and names the argument, and the model is left as it was.
"""
import contextlib
import subprocess
import sys
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from helpers import DTYPES, HIDDEN, OUTPUT, bits

import cyneuron as cn
from cyneuron import _registry as registry
from cyneuron import _validation as v
from cyneuron._csr import CSRRows

NUMERICS = ["numpy", "portable"]
N_IN = 23


def dense_problem(seed, n=37, k=N_IN, density=0.15):
    """A dense matrix that is mostly zeros (two rows all zero), and its CSR copy."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, k)) * (rng.random((n, k)) < density) * 3
    X[1] = 0
    X[n // 2] = 0
    return X, sp.csr_matrix(X)


def labels(n, c, seed=0):
    return np.random.default_rng(seed).integers(0, c, n)


def trio(sizes, dtype="float64", numerics="numpy", seed=3, **kw):
    """The same network three times: dense input on the core, sparse input on
    the core and on the reference."""
    return [cn.Network(sizes, seed=seed, dtype=dtype, numerics=numerics, backend=b, **kw)
            for b in ("cython", "cython", "numpy")]


def report(d):
    """evaluate's dict, comparable (its confusion matrix is an array)."""
    return {k: bits(v) if isinstance(v, np.ndarray) else v for k, v in d.items()}


def net_state(net):
    return (bits(net.state.params), bits(net.state.opt_state), bits(net.state.opt_scalars))


# --- every activation, forward --------------------------------------------------------


@pytest.mark.bitwise
@pytest.mark.parametrize("numerics", NUMERICS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("where,act", [("hidden", a) for a in HIDDEN]
                         + [("output", a) for a in OUTPUT])
def test_feedforward_every_activation(where, act, dtype, numerics):
    X, Xs = dense_problem(1)
    hidden, out = (act, "identity") if where == "hidden" else ("tanh", act)
    nets = trio([N_IN, 9, 4], dtype, numerics, activation=hidden, output_activation=out,
                init="he")
    want = bits(nets[0].feedforward(X))
    assert bits(nets[1].feedforward(Xs)) == want
    assert bits(nets[2].feedforward(Xs)) == want
    # the first layer alone: its output is the sparse product itself
    one = trio([N_IN, 5], dtype, numerics, activation=act if act != "softmax" else "sigmoid")
    assert bits(one[1].feedforward(Xs)) == bits(one[2].feedforward(Xs)) \
        == bits(one[0].feedforward(X))


# --- every loss, gradients and evaluate ----------------------------------------------

LOSSES = [("mse", "sigmoid", 3), ("sse", "identity", 3),
          ("binary_crossentropy", "sigmoid", 1), ("categorical_crossentropy", "softmax", 4),
          ("squared_error", "identity", 2), ("binary_log_loss", "sigmoid", 2)]


def targets(loss, m, n=37, seed=0):
    rng = np.random.default_rng(seed)
    if loss == "categorical_crossentropy":
        return labels(n, m, seed)
    if loss in ("binary_crossentropy", "binary_log_loss"):
        return (rng.random((n, m)) < 0.5).astype(float)
    return rng.standard_normal((n, m))


@pytest.mark.bitwise
@pytest.mark.parametrize("numerics", NUMERICS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("loss,out,m", LOSSES)
def test_gradients_every_loss(loss, out, m, dtype, numerics):
    X, Xs = dense_problem(2)
    y = targets(loss, m)
    for kw in ({}, {"l1": 1e-3, "l2": 1e-2}):
        nets = trio([N_IN, 7, m], dtype, numerics, activation="relu", output_activation=out,
                    loss=loss, **kw)
        value, grads = nets[0].loss_and_gradients(X, y)
        for net in nets[1:]:
            v2, g2 = net.loss_and_gradients(Xs, y)
            assert v2 == value and bits(g2) == bits(grads)
            assert bits(net.gradients(Xs, y)) == bits(grads)
            assert report(net.evaluate(Xs, y)) == report(nets[0].evaluate(X, y))


@pytest.mark.bitwise
@pytest.mark.parametrize("dtype", DTYPES)
def test_weighted_mean_and_sample_weights(dtype):
    X, Xs = dense_problem(3)
    y = labels(37, 3)
    w = np.random.default_rng(1).random(37)
    nets = trio([N_IN, 6, 3], dtype, activation="tanh", output_activation="softmax",
                loss="cce", reduction="weighted_mean", l2=1e-3)
    hist = [nets[0].fit(X, y, epochs=2, batch_size=5, sample_weight=w, optimizer="adam")]
    hist += [net.fit(Xs, y, epochs=2, batch_size=5, sample_weight=w, optimizer="adam")
             for net in nets[1:]]
    assert len({net_state(n) for n in nets}) == 1
    assert len({bits(np.asarray(h["loss"])) for h in hist}) == 1


@pytest.mark.bitwise
@pytest.mark.parametrize("dtype", DTYPES)
def test_train_step(dtype):
    X, Xs = dense_problem(4)
    y = labels(37, 3)
    nets = trio([N_IN, 5, 3], dtype, activation="sigmoid", output_activation="softmax",
                loss="cce")
    losses = [nets[0].train_step(X, y, 0.3)] + [n.train_step(Xs, y, 0.3) for n in nets[1:]]
    assert len(set(losses)) == 1
    assert len({net_state(n) for n in nets}) == 1


# --- every optimizer and batch mode, fit ------------------------------------------------

OPTIMIZERS = [(name, None) for name in registry.OPTIMIZERS] + [("momentum", {"nesterov": True})]
MODES = [dict(batch_size=None), dict(batch_size=6), dict(batch_size=6, shuffle=False),
         dict(batch_size=1)]


@pytest.mark.bitwise
@pytest.mark.parametrize("numerics", NUMERICS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", MODES, ids=["full", "mini", "ordered", "single"])
@pytest.mark.parametrize("opt,params", OPTIMIZERS, ids=lambda o: str(o))
def test_fit_every_optimizer_and_batch_mode(opt, params, mode, dtype, numerics):
    X, Xs = dense_problem(5, n=29)
    y = labels(29, 3, seed=5)
    nets = trio([N_IN, 8, 3], dtype, numerics, activation="silu" if opt == "adam" else "relu",
                output_activation="softmax", loss="cce")
    kw = dict(epochs=2, optimizer=opt, optimizer_params=params, **mode)
    hist = [nets[0].fit(X, y, **kw)] + [net.fit(Xs, y, **kw) for net in nets[1:]]
    assert len({net_state(n) for n in nets}) == 1
    assert len({bits(np.asarray(h["loss"])) for h in hist}) == 1
    assert len({bits(np.asarray(h["accuracy"])) for h in hist}) == 1
    # the Generators moved alike: the batches were the same
    assert len({str(n.rng.bit_generator.state) for n in nets}) == 1


@pytest.mark.bitwise
@pytest.mark.parametrize("dtype", DTYPES)
def test_fit_with_dropout_validation_and_callbacks(dtype):
    X, Xs = dense_problem(6, n=40)
    y = labels(40, 2, seed=6).reshape(-1, 1).astype(float)
    seen = [[], [], []]
    hist = []
    for i, net in enumerate(trio([N_IN, 10, 6, 1], dtype, activation="relu",
                                 output_activation="sigmoid", loss="bce", dropout=0.2)):
        data = X if i == 0 else Xs
        hist.append(net.fit(data, y, epochs=3, batch_size=7, optimizer="rmsprop",
                            validation_split=0.25,
                            callbacks=[lambda e, logs, s=seen[i]: s.append(logs["val_loss"])]))
        seen[i].append(net_state(net))
    assert seen[0] == seen[1] == seen[2]
    assert hist[0].history == hist[1].history == hist[2].history
    nets = trio([N_IN, 4, 1], dtype, activation="tanh", output_activation="sigmoid", loss="bce")
    hist = [nets[0].fit(X, y, epochs=2, validation_data=(X[:9], y[:9]))]
    hist += [n.fit(Xs, y, epochs=2, validation_data=(Xs[:9], y[:9])) for n in nets[1:]]
    assert hist[0].history == hist[1].history == hist[2].history


# --- the forms a sparse X may take ------------------------------------------------------


def forms(X):
    """The same matrix as every accepted sparse type and index width, unsorted, with
    duplicates and with explicit zeros."""
    csr = sp.csr_matrix(X)
    out = {"csr": csr, "csc": sp.csc_matrix(X), "coo": sp.coo_matrix(X),
           "csr_array": sp.csr_array(X), "csc_array": sp.csc_array(X),
           "coo_array": sp.coo_array(X)}
    wide = csr.copy()
    wide.indices = wide.indices.astype(np.int64)
    wide.indptr = wide.indptr.astype(np.int64)
    out["int64 indices"] = wide
    # every row's entries reversed: unsorted indices
    rev = csr.copy()
    for r in range(X.shape[0]):
        p0, p1 = rev.indptr[r], rev.indptr[r + 1]
        rev.indices[p0:p1] = rev.indices[p0:p1][::-1].copy()
        rev.data[p0:p1] = rev.data[p0:p1][::-1].copy()
    rev.has_sorted_indices = False
    out["unsorted"] = rev
    # each value split in two duplicates (halves add back exactly), shuffled
    coo = csr.tocoo()
    rng = np.random.default_rng(0)
    half = coo.data / 2
    order = rng.permutation(2 * coo.nnz)
    out["duplicates"] = sp.coo_matrix((np.concatenate([half, coo.data - half])[order],
                                       (np.tile(coo.row, 2)[order], np.tile(coo.col, 2)[order])),
                                      shape=X.shape)
    # explicit zeros stored next to the values
    zr, zc = np.nonzero(X == 0)
    keep = slice(0, None, 7)
    out["explicit zeros"] = sp.coo_matrix(
        (np.concatenate([coo.data, np.zeros(zr[keep].size)]),
         (np.concatenate([coo.row, zr[keep]]), np.concatenate([coo.col, zc[keep]]))),
        shape=X.shape).tocsr()
    out["lazy csr"] = sp.csr_matrix((csr.data, csr.indices, csr.indptr), shape=X.shape)
    return out


@pytest.mark.bitwise
@pytest.mark.parametrize("backend", ["cython", "numpy"])
def test_every_form_gives_the_dense_bits(backend):
    X, _ = dense_problem(7)
    y = labels(37, 3, seed=7)
    ref = cn.Network([N_IN, 6, 3], activation="tanh", output_activation="softmax", loss="cce",
                     seed=2)
    want_out = bits(ref.feedforward(X))
    ref.fit(X, y, epochs=2, batch_size=8, optimizer="adam")
    for name, Xs in forms(X).items():
        assert np.array_equal(Xs.toarray(), X), name
        net = cn.Network([N_IN, 6, 3], activation="tanh", output_activation="softmax",
                         loss="cce", seed=2, backend=backend)
        assert bits(net.feedforward(Xs)) == want_out, name
        net.fit(Xs, y, epochs=2, batch_size=8, optimizer="adam")
        assert net_state(net) == net_state(ref), name


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.bool_, np.float32])
def test_integer_boolean_and_float32_values(dtype):
    X, _ = dense_problem(8)
    Xd = (X * 3).astype(dtype)
    for net_dtype in DTYPES:
        nets = trio([N_IN, 3, 2], net_dtype, activation="relu")
        want = bits(nets[0].feedforward(Xd))
        assert bits(nets[1].feedforward(sp.csr_matrix(Xd))) == want
        assert bits(nets[2].feedforward(sp.csc_matrix(Xd))) == want


@pytest.mark.bitwise
def test_empty_rows_and_an_all_zero_matrix():
    y = labels(6, 2)
    for X in (np.zeros((6, N_IN)), np.eye(6, N_IN)):
        X[2] = 0
        nets = trio([N_IN, 4, 2], activation="sigmoid", output_activation="softmax", loss="cce")
        Xs = sp.csr_matrix(X)
        assert bits(nets[1].feedforward(Xs)) == bits(nets[0].feedforward(X))
        nets[0].fit(X, y, epochs=3, batch_size=4)
        for net in nets[1:]:
            net.fit(Xs, y, epochs=3, batch_size=4)
        assert len({net_state(n) for n in nets}) == 1


@pytest.mark.bitwise
def test_threads_do_not_change_the_bits(counted_pool):
    # large enough for the kernels to split (nnz x width >= 2**17 multiply-adds)
    rng = np.random.default_rng(9)
    Xs = sp.random(300, 900, density=0.05, format="csr", random_state=rng)
    y = labels(300, 5, seed=9)
    jobs = cn._core.worker_jobs()
    states, outs = set(), set()
    for threads in (1, 2, 3):
        net = cn.Network([900, 72, 5], activation="relu", output_activation="softmax",
                         loss="cce", seed=4, n_threads=threads)
        outs.add(bits(net.feedforward(Xs)))
        net.fit(Xs, y, epochs=2, batch_size=100, optimizer="adam")
        states.add(net_state(net))
        outs.add(bits(net.gradients(Xs, y)))
    assert len(states) == 1
    assert len(outs) == 2            # one forward, one gradient, whatever the threads
    assert cn._core.worker_jobs() > jobs
    dense = cn.Network([900, 72, 5], activation="relu", output_activation="softmax",
                       loss="cce", seed=4)
    dense.fit(Xs.toarray(), y, epochs=2, batch_size=100, optimizer="adam")
    assert states == {net_state(dense)}


# --- the line: finite weights -------------------------------------------------------------


def test_finite_weights_of_any_size_keep_the_dense_bits():
    X, Xs = dense_problem(10)
    for scale in (1e-300, 1e300):
        nets = trio([N_IN, 4], activation="identity")
        for net in nets:
            net.set_weights([(np.full((N_IN, 4), scale) * (-1) ** np.arange(4), np.zeros(4))])
        with np.errstate(over="ignore"):
            want = bits(nets[0].feedforward(X))
            assert bits(nets[1].feedforward(Xs)) == want
            assert bits(nets[2].feedforward(Xs)) == want


def test_weights_that_are_not_finite_are_where_sparse_and_dense_differ():
    # Weights fit never leaves: an infinite weight whose input is zero. The
    # dense product has a 0 * inf = NaN term; the sparse product has no such
    # term. The core and the reference still agree on the sparse input.
    X, Xs = dense_problem(11)
    zero_col = int(np.flatnonzero(X[0] == 0)[0])
    nets = trio([N_IN, 3], activation="identity")
    for net in nets:
        with net.guard.writing():
            W = net.state.layers[0][0]
            W[zero_col, 0] = np.inf
    with np.errstate(invalid="ignore"):
        dense = nets[0].feedforward(X)
        core, ref = nets[1].feedforward(Xs), nets[2].feedforward(Xs)
    assert np.isnan(dense[0, 0]) and np.isfinite(core[0, 0])
    assert bits(core) == bits(ref)
    # the other outputs (finite weights) are still the dense ones
    assert bits(core[:, 1:]) == bits(dense[:, 1:])


# --- what the Python layer does with it ----------------------------------------------------


def test_batches_share_the_matrix():
    X, Xs = dense_problem(12)
    x = v.check_inputs(Xs, N_IN, np.dtype(np.float64))[0]
    assert isinstance(x, CSRRows) and x.shape == X.shape
    part = x[5:20]
    assert np.shares_memory(part.data, x.data) and np.shares_memory(part.indices, x.indices)
    assert np.array_equal(part.toarray(), X[5:20])
    assert np.array_equal(x[np.array([7, 3, 3, 30])].toarray(), X[[7, 3, 3, 30]])
    assert np.array_equal(x[::-2].toarray(), X[::-2])
    # a canonical float64 CSR matrix is read as it is: its values are not copied
    assert np.shares_memory(x.data, Xs.data)


def test_scipy_is_not_imported_for_dense_input():
    code = ("import sys, numpy as np, cyneuron as cn\n"
            "net = cn.Network([3, 2, 1], seed=0)\n"
            "net.fit(np.ones((4, 3)), np.ones(4), epochs=1)\n"
            "net.feedforward([[1, 2, 3]])\n"
            "print('scipy' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


# --- refused, naming the argument and saying "sparse"; the model unchanged ----------------


def bad_inputs():
    X, Xs = dense_problem(13)
    nan = Xs.copy()
    nan.data[3] = np.nan
    inf = Xs.copy().tocsc()
    inf.data[0] = -np.inf
    big = Xs.copy()
    big.data[0] = 1e300
    out_of_range = Xs.copy()
    out_of_range.indices[4] = N_IN
    negative = Xs.tocoo()
    negative.col[2] = -1
    broken = Xs.copy()
    broken.indptr[5] = broken.indptr[6] + 1
    return [
        ("nan", nan, ValueError, r"X is sparse .*NaN or infinity"),
        ("inf", inf, ValueError, r"X is sparse .*NaN or infinity"),
        ("float32 overflow", big, ValueError, r"X is sparse .*too large for float32"),
        ("width", sp.csr_matrix(np.ones((3, N_IN + 1))), ValueError,
         r"X \(sparse\) has 24 features per sample, but the network expects 23"),
        ("no rows", sp.csr_matrix((0, N_IN)), ValueError, r"X is empty \(sparse"),
        ("complex", sp.csr_matrix(np.ones((3, N_IN)) * 1j), TypeError,
         r"X is sparse with complex values"),
        ("lil", sp.lil_matrix(np.ones((3, N_IN))), TypeError,
         r"X is a sparse matrix in 'lil' format; .*CSR, CSC or COO"),
        ("1-D", sp.coo_array(np.ones(N_IN)), ValueError, r"X is a 1-D sparse array"),
        ("column out of range", out_of_range, ValueError,
         r"X is a malformed sparse matrix: a column index"),
        ("negative column", negative, ValueError,
         r"X is a malformed sparse matrix: a column index"),
        ("indptr", broken, ValueError, r"X is a malformed sparse CSR matrix: its indptr"),
    ]


@pytest.mark.parametrize("backend", ["cython", "numpy"])
@pytest.mark.parametrize("case", bad_inputs(), ids=lambda c: c[0])
def test_bad_sparse_input_is_refused_and_changes_nothing(case, backend):
    _, Xs, exc, message = case
    net = cn.Network([N_IN, 4, 2], activation="relu", output_activation="softmax", loss="cce",
                     dtype="float32", seed=1, backend=backend)
    good, _ = dense_problem(13)
    net.fit(good, labels(37, 2), epochs=1, batch_size=5, optimizer="adam")
    before = net_state(net), str(net.rng.bit_generator.state)
    y = labels(Xs.shape[0], 2) if Xs.ndim == 2 else labels(1, 2)
    calls = [lambda: net.fit(Xs, y, epochs=2, optimizer="adam"),
             lambda: net.feedforward(Xs), lambda: net.gradients(Xs, y),
             lambda: net.train_step(Xs, y, 0.1), lambda: net.evaluate(Xs, y),
             lambda: net.fit(good, labels(37, 2), validation_data=(Xs, y))]
    for i, call in enumerate(calls):
        name = r"validation_data\[0\]" if i == len(calls) - 1 else "X"
        with pytest.raises(exc, match=message.replace("X", name, 1)):
            call()
        assert (net_state(net), str(net.rng.bit_generator.state)) == before


def test_validation_data_names_its_argument():
    X, Xs = dense_problem(14)
    nan = Xs.copy()
    nan.data[0] = np.nan
    net = cn.Network([N_IN, 2], seed=0)
    with pytest.raises(ValueError, match=r"validation_data\[0\] is sparse .*NaN"):
        net.fit(X, np.zeros((37, 2)), validation_data=(nan, np.zeros((37, 2))))


def test_core_checks_the_structure_again():
    core = cn._core
    with pytest.raises(ValueError, match="core: CsrInput's row 1 is not sorted"):
        core.CsrInput(np.ones(3), np.array([0, 2, 1], dtype=np.intp),
                      np.array([0, 1, 3], dtype=np.intp), 4)
    with pytest.raises(ValueError, match="core: CsrInput's row 0"):
        core.CsrInput(np.ones(2), np.array([0, 4], dtype=np.intp),
                      np.array([0, 2], dtype=np.intp), 4)
    with pytest.raises(ValueError, match="core: CsrInput's indices must be"):
        core.CsrInput(np.ones(2), np.array([0, 1], dtype=np.int32),
                      np.array([0, 2], dtype=np.intp), 4)
    net = cn.Network([4, 2], dtype="float32", seed=0)
    x = core.CsrInput(np.ones(2), np.array([0, 1], dtype=np.intp),
                      np.array([0, 2], dtype=np.intp), 4)
    corenet = core.CoreNet(net.state.layout.core_arrays()[0], np.array([1], dtype=np.intc),
                           np.zeros(1), net.state.layout.core_arrays()[1], np.zeros(1), 0, 1,
                           False, np.float32)
    with pytest.raises(ValueError, match="core: X's values are float64"):
        corenet.forward(net.state.params, x)


# --- the estimators (slice 2): fit, partial_fit, predict, predict_proba, score ----------


def estimator_states(est):
    return bits(est.network_.state.params), bits(est.network_.state.opt_state)


@pytest.mark.bitwise
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kw", [dict(solver="adam"), dict(solver="lbfgs"),
                                dict(solver="sgd", early_stopping=True, momentum=0.8),
                                dict(solver="adam", batch_size=7, backend="numpy")],
                         ids=["adam", "lbfgs", "sgd-early-stopping", "numpy"])
def test_classifier_on_sparse_x_is_the_dense_copy(kw, dtype):
    X, Xs = dense_problem(20, n=60)
    y = np.array(["a", "b", "c"])[labels(60, 3, seed=20)]
    make = lambda: cn.MLPClassifier(hidden_layer_sizes=(9,), max_iter=15, random_state=0,  # noqa: E731
                                    dtype=dtype, **kw)
    with quiet():
        dense = make().fit(X, y)
    for form in (Xs, sp.csc_array(X), sp.coo_matrix(X)):
        with quiet():
            est = make().fit(form, y)
        assert estimator_states(est) == estimator_states(dense)
        assert bits(est.predict_proba(form)) == bits(dense.predict_proba(X))
        assert np.array_equal(est.predict(form), dense.predict(X))
        assert est.score(form, y) == dense.score(X, y)


@contextlib.contextmanager
def quiet():
    """No ConvergenceWarning: these fits are short on purpose."""
    from sklearn.exceptions import ConvergenceWarning
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@pytest.mark.bitwise
def test_partial_fit_and_regressor_on_sparse_x():
    X, Xs = dense_problem(21, n=50)
    y = labels(50, 2, seed=21)
    a = cn.MLPClassifier(hidden_layer_sizes=(5,), random_state=1)
    b = cn.MLPClassifier(hidden_layer_sizes=(5,), random_state=1)
    for lo in (0, 25):
        a.partial_fit(X[lo:lo + 25], y[lo:lo + 25], classes=[0, 1])
        b.partial_fit(Xs[lo:lo + 25], y[lo:lo + 25], classes=[0, 1])
    assert estimator_states(a) == estimator_states(b)
    t = np.random.default_rng(0).standard_normal((50, 2))
    r1 = cn.MLPRegressor(hidden_layer_sizes=(6,), max_iter=20, random_state=2)
    r2 = cn.MLPRegressor(hidden_layer_sizes=(6,), max_iter=20, random_state=2)
    with quiet():
        r1.fit(X, t)
    with quiet():
        r2.fit(sp.csr_array(Xs), t)
    assert estimator_states(r1) == estimator_states(r2)
    assert bits(r1.predict(X)) == bits(r2.predict(Xs)) and r1.score(X, t) == r2.score(Xs, t)


@pytest.mark.bitwise
def test_pipelines_with_tfidf_and_one_hot_encoder():
    from sklearn.compose import ColumnTransformer
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder

    rng = np.random.default_rng(5)
    words = np.array(["net", "exact", "bits", "sparse", "dense", "rows", "core", "sum",
                      "order", "zero", "float", "adam", "batch", "epoch"])
    docs = [" ".join(rng.choice(words, rng.integers(2, 9))) for _ in range(80)]
    y = np.array([("sparse" in d) + ("dense" in d) for d in docs])
    densify = FunctionTransformer(lambda Z: Z.toarray(), accept_sparse=True)
    sparse_pipe = make_pipeline(TfidfVectorizer(),
                                cn.MLPClassifier(hidden_layer_sizes=(8,), max_iter=30,
                                                 random_state=0))
    dense_pipe = make_pipeline(TfidfVectorizer(), densify,
                               cn.MLPClassifier(hidden_layer_sizes=(8,), max_iter=30,
                                                random_state=0))
    with quiet():
        sparse_pipe.fit(docs, y)
    with quiet():
        dense_pipe.fit(docs, y)
    assert scipy_sparse_output(sparse_pipe[0].transform(docs))
    assert estimator_states(sparse_pipe[-1]) == estimator_states(dense_pipe[-1])
    assert bits(sparse_pipe.predict_proba(docs)) == bits(dense_pipe.predict_proba(docs))
    assert sparse_pipe.score(docs, y) == dense_pipe.score(docs, y)

    cats = rng.integers(0, 300, (120, 2)).astype(str)      # high cardinality
    t = rng.standard_normal(120)
    one_hot = ColumnTransformer([("oh", OneHotEncoder(handle_unknown="ignore"), [0, 1])])
    pipes = [make_pipeline(one_hot, *extra, cn.MLPRegressor(hidden_layer_sizes=(4,),
                                                            max_iter=10, random_state=3))
             for extra in ((), (densify,))]
    for pipe in pipes:
        with quiet():
            pipe.fit(cats, t)
    assert scipy_sparse_output(pipes[0][0].transform(cats))
    assert estimator_states(pipes[0][-1]) == estimator_states(pipes[1][-1])
    assert bits(pipes[0].predict(cats)) == bits(pipes[1].predict(cats))


def scipy_sparse_output(Z):
    return sp.issparse(Z)


def test_estimators_refuse_bad_sparse_x_and_keep_their_state():
    X, Xs = dense_problem(22, n=40)
    y = labels(40, 2, seed=22)
    est = cn.MLPClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0)
    with quiet():
        est.fit(Xs, y)
    before = estimator_states(est)
    nan = Xs.copy()
    nan.data[0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        est.fit(nan, y)
    with pytest.raises(ValueError, match="NaN"):
        est.predict(nan)
    with pytest.raises(ValueError, match="features"):
        est.predict(sp.csr_matrix(np.ones((2, N_IN + 1))))
    assert estimator_states(est) == before


@pytest.mark.bitwise
@pytest.mark.parametrize("dtype", DTYPES)
def test_both_orders_of_work_give_the_dense_bits(dtype):
    # a training batch's outputs fit in a level-2 cache: the kernels sort its
    # entries by column; a large batch (here 1500 x 96 outputs, over 512 KB)
    # is worked row by row. Both, on 1 and 2 threads, are the dense product.
    rng = np.random.default_rng(15)
    Xs = sp.random(1500, 700, density=0.03, format="csr", random_state=rng)
    X = Xs.toarray()
    y = labels(1500, 4, seed=15)
    for threads in (1, 2):
        nets = trio([700, 96, 4], dtype, activation="relu", output_activation="softmax",
                    loss="cce", n_threads=threads)
        want = bits(nets[0].feedforward(X)), bits(nets[0].gradients(X, y))
        for net in nets[1:]:
            assert (bits(net.feedforward(Xs)), bits(net.gradients(Xs, y))) == want
        nets[0].fit(X, y, epochs=1, batch_size=1000, optimizer="adam")
        for net in nets[1:]:
            net.fit(Xs, y, epochs=1, batch_size=1000, optimizer="adam")
        assert len({net_state(n) for n in nets}) == 1
