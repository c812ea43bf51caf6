"""cyneuron.dask: out-of-core training, fit_blocks from dask.array and memory-mapped .npy.

The result must be the same bits as the same partial_fit calls on in-memory
blocks, and no more than one block may ever be read at a time.

Oracle: exact bits against partial_fit on in-memory blocks.
"""
import sys
import tracemalloc

import dask
import dask.array as da
import numpy as np
import pytest

import cyneuron as cn
from cyneuron.dask import fit_blocks, iter_blocks


def _data(n=300, d=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = np.where(X[:, 0] - X[:, 1] * X[:, 2] > 0, "a", "b")
    y[X[:, 4] > 1.2] = "c"
    return X, y


def _weights(est):
    return b"".join(W.tobytes() + b.tobytes() for W, b in zip(est.coefs_, est.intercepts_))


def _by_hand(est, X, y, bounds, epochs, **kw):
    for _ in range(epochs):
        for a, b in bounds:
            est.partial_fit(X[a:b].copy(), y[a:b].copy(), **kw)
    return est


class _NoWholeReads:
    """An array-like that refuses any read of more than `limit` rows."""

    def __init__(self, a, limit):
        self.a, self.limit = a, limit
        self.shape, self.dtype, self.ndim = a.shape, a.dtype, a.ndim
        self.reads = []

    def __getitem__(self, key):
        rows = np.arange(self.shape[0])[key[0] if isinstance(key, tuple) else key]
        if np.size(rows) > self.limit:
            raise AssertionError(f"read {np.size(rows)} rows at once (limit {self.limit})")
        self.reads.append(np.size(rows))
        return self.a[key]


CHUNKS = (70, 50, 90, 90)   # uneven row chunks, the last one short of the rest


def test_dask_array_same_bits_as_in_memory_blocks_and_never_whole():
    X, y = _data()
    bounds = list(zip(np.cumsum((0,) + CHUNKS[:-1]), np.cumsum(CHUNKS)))
    guard = _NoWholeReads(X, max(CHUNKS))
    dX = da.from_array(guard, chunks=(CHUNKS, X.shape[1]), asarray=True)
    dy = da.from_array(y, chunks=(CHUNKS,))
    classes = ["c", "a", "b"]
    make = lambda: cn.MLPClassifier(hidden_layer_sizes=(8,), batch_size=16, random_state=4)
    got = fit_blocks(make(), dX, dy, classes=classes, epochs=3)
    want = _by_hand(make(), X, y, bounds, 3, classes=classes)
    assert _weights(got) == _weights(want)
    assert got.network_.state.opt_state.tobytes() == want.network_.state.opt_state.tobytes()
    assert got.loss_curve_ == want.loss_curve_ and len(got.loss_curve_) == 12
    # each block read once per epoch (dask also reads 0 rows, for its meta)
    assert sorted(r for r in guard.reads if r) == sorted(CHUNKS * 3)
    # y as a NumPy array beside a dask X: cut at X's chunks
    got2 = fit_blocks(make(), dX, y, classes=classes, epochs=3)
    assert _weights(got2) == _weights(want)


def test_dask_on_the_distributed_cluster_same_bits(dask_client):
    X, y = _data(seed=3)
    dX = da.from_array(X, chunks=(75, X.shape[1]))
    dy = da.from_array(y, chunks=75)
    bounds = [(i, i + 75) for i in range(0, 300, 75)]
    make = lambda: cn.MLPClassifier(hidden_layer_sizes=(5,), batch_size=25, random_state=0)
    # dX * 1.0: the blocks are computed by the workers
    got = fit_blocks(make(), dX * 1.0, dy, classes=["a", "b", "c"], epochs=2)
    want = _by_hand(make(), X, y, bounds, 2, classes=["a", "b", "c"])
    assert _weights(got) == _weights(want)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_memmap_npy_regressor_same_bits_and_bounded_memory(tmp_path, dtype):
    rng = np.random.default_rng(7)
    n, d, block = 20000, 16, 1000
    X = rng.standard_normal((n, d)).astype(dtype)
    y = (X[:, :2] * X[:, 2:4]).astype(dtype)
    sw = rng.uniform(0.5, 2.0, n)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    mX = np.load(tmp_path / "X.npy", mmap_mode="r")
    my = np.load(tmp_path / "y.npy", mmap_mode="r")
    make = lambda: cn.MLPRegressor(hidden_layer_sizes=(8,), batch_size=100, random_state=2,
                                   dtype=dtype, solver="sgd", learning_rate_init=0.01)
    est = make()
    est.partial_fit(X[:100], y[:100])          # a fitted estimator continues
    tracemalloc.start()
    try:
        fit_blocks(est, mX, my, block_size=block, sample_weight=sw, epochs=1)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    want = make()
    want.partial_fit(X[:100], y[:100])
    for a in range(0, n, block):
        want.partial_fit(X[a:a + block], y[a:a + block], sample_weight=sw[a:a + block])
    assert _weights(est) == _weights(want)
    # NumPy reports its allocations to tracemalloc; memmap pages are not
    # allocations. The data are 20x a block: the peak stays a few blocks
    # (the block, its conversions in partial_fit, small fixed allocations).
    block_bytes = block * (d + 2) * X.itemsize
    assert X.nbytes + y.nbytes >= 20 * block_bytes
    assert peak < 8 * block_bytes, (peak, block_bytes)


def test_iter_blocks_default_sizes():
    X, y = _data(n=50)
    blocks = list(iter_blocks(X, y, block_size=20))
    assert [b[0].shape[0] for b in blocks] == [20, 20, 10]
    assert b"".join(b[0].tobytes() for b in blocks) == X.tobytes()
    assert len(list(iter_blocks(X))) == 1                  # 50 rows < 64 MiB
    dX = da.from_array(X, chunks=(17, 6))
    assert [b[0].shape[0] for b in iter_blocks(dX)] == [17, 17, 16]
    assert [b[0].shape[0] for b in iter_blocks(dX, block_size=25)] == [25, 25]


def test_bad_input_rejected_before_training():
    X, y = _data(n=60)
    est = cn.MLPClassifier(hidden_layer_sizes=(4,), random_state=0).partial_fit(
        X[:30], y[:30], classes=["a", "b", "c"])
    before = (_weights(est), est.network_.state.opt_state.tobytes(), list(est.loss_curve_))
    cases = [
        (dict(X=X[:, 0], y=y), ValueError, "X must be 2-D"),
        (dict(X=X, y=y[:50]), ValueError, "y must have one row per row of X"),
        (dict(X=X, y=y, sample_weight=np.ones(3)), ValueError, "sample_weight"),
        (dict(X=X, y=y, block_size=0), ValueError, "block_size"),
        (dict(X=X, y=y, block_size=2.5), ValueError, "block_size"),
        (dict(X=X, y=y, epochs=0), ValueError, "epochs"),
        (dict(X=X, y=y, epochs=True), ValueError, "epochs"),
        (dict(X=[[1.0]], y=y), TypeError, "X must be an array"),
    ]
    for kw, exc, msg in cases:
        with pytest.raises(exc, match=msg):
            fit_blocks(est, **kw)
    with pytest.raises(ValueError, match="classes must list every class"):
        fit_blocks(cn.MLPClassifier(), X, y)
    with pytest.raises(ValueError, match="classes is for classifiers"):
        fit_blocks(cn.MLPRegressor(), X, X[:, :2], classes=[0, 1])
    with pytest.raises(TypeError, match="partial_fit"):
        fit_blocks(object(), X, y)
    # a bad block late in the data: the earlier blocks' training is undone
    Xbad = X.copy()
    Xbad[55, 2] = np.nan
    with pytest.raises(ValueError, match="NaN|infinity"):
        fit_blocks(est, Xbad, y, block_size=10)
    assert (_weights(est), est.network_.state.opt_state.tobytes(), list(est.loss_curve_)) == before
    est.predict(X)                               # and still works


def test_import_cyneuron_does_not_import_dask():
    import subprocess
    code = ("import sys, cyneuron, cyneuron.dask as d; import numpy as np; "
            "list(d.iter_blocks(np.zeros((4, 2)), block_size=2)); "
            "assert 'dask.array' not in sys.modules and 'distributed' not in sys.modules, "
            "sorted(m for m in sys.modules if m.startswith('dask'))")
    subprocess.run([sys.executable, "-c", code], check=True)
    assert cn.fit_blocks is fit_blocks
    assert dask is not None


def _rss_file_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("RssFile:"):
                return int(line.split()[1])
    raise AssertionError("no RssFile in /proc/self/status")


def test_memmap_pages_leave_the_resident_set(tmp_path):
    # A read page of a memory map stays in the process's RSS until the
    # kernel needs it back; fit_blocks drops each block's pages once copied,
    # so reading a 16 MiB file in 256 KiB blocks leaves the RSS as it was.
    n, d = 65536, 32
    X = np.lib.format.open_memmap(tmp_path / "X.npy", mode="w+", dtype=np.float64,
                                  shape=(n, d))
    X[:] = np.random.default_rng(0).standard_normal((n, d))
    X.flush()
    del X
    y = np.zeros(n)
    mX = np.load(tmp_path / "X.npy", mmap_mode="r")
    est = cn.MLPRegressor(hidden_layer_sizes=(2,), batch_size=1024, random_state=0,
                          solver="sgd").partial_fit(np.zeros((1024, d)), y[:1024])
    before = _rss_file_kib()
    fit_blocks(est, mX, y, block_size=1024)
    grown = _rss_file_kib() - before
    assert mX.nbytes == 16 * 2**20
    assert grown < 4 * 1024, f"RssFile grew by {grown} KiB reading a 16384 KiB map"
    # and with the plain mapping (no release) the same read would keep it all:
    before = _rss_file_kib()
    float(np.asarray(mX).sum())
    assert _rss_file_kib() - before > 12 * 1024
