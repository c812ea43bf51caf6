"""Peak memory of an out-of-core fit: cyneuron.dask.fit_blocks on a memory-mapped .npy.

Writes a float64 .npy of about ``--gb`` GB to ``--dir`` (in chunks, never
whole in memory), then, in a fresh subprocess per case, trains an
MLPRegressor on it through fit_blocks with ``--block-mb`` MB blocks and
reports the process's peak resident set (VmHWM from /proc/self/status),
split into anonymous memory and file pages mapped from the .npy.

    PYTHONPATH=src python benchmarks/outofcore.py --gb 1.5 --block-mb 50
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

D = 64          # features; y is 1 column


def status():
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmHWM", "VmRSS", "RssAnon", "RssFile"):
                out[k] = int(v.split()[0]) / 1024.0     # MiB
    return out


def _read(path, a, b):
    with open(path, "rb") as f:
        version = np.lib.format.read_magic(f)
        read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                else np.lib.format.read_array_header_2_0)
        shape, fortran, dtype = read(f)
        row = int(np.prod(shape[1:], dtype=np.int64))
        b = min(b, shape[0])
        f.seek(f.tell() + a * row * dtype.itemsize)
        out = np.empty((b - a,) + tuple(shape[1:]), dtype)
        f.readinto(memoryview(out).cast("B"))
    return out


def child(path_x, path_y, block_rows, mode):
    import sklearn.model_selection  # noqa: F401 - imported before the baseline

    import cyneuron as cn
    from cyneuron.dask import fit_blocks
    cn.MLPRegressor  # noqa: B018 - the lazy import happens before the baseline
    if mode == "dask":
        import dask.array
    base = status()
    X = np.load(path_x, mmap_mode="r")
    y = np.load(path_y, mmap_mode="r")
    if mode == "dask":
        import dask
        import dask.array as da
        dask.config.set(scheduler="synchronous")
        # da.from_array(memmap) copies the whole map into memory when the
        # graph is built (dask 2026.8): each block reads its own rows instead
        n = X.shape[0]
        starts = range(0, n, block_rows)
        X = da.concatenate([da.from_delayed(dask.delayed(_read)(path_x, a, a + block_rows),
                                            (min(block_rows, n - a), X.shape[1]), X.dtype)
                            for a in starts])
        y = da.concatenate([da.from_delayed(dask.delayed(_read)(path_y, a, a + block_rows),
                                            (min(block_rows, n - a),), y.dtype)
                            for a in starts])
        block_rows = None
    est = cn.MLPRegressor(hidden_layer_sizes=(16,), batch_size=256, random_state=0,
                          solver="sgd", learning_rate_init=1e-3)
    # peaks of anonymous and file-backed RSS, sampled after each block
    peaks = {"RssAnon": 0.0, "RssFile": 0.0}
    orig = est.partial_fit

    def partial_fit(*a, **k):
        r = orig(*a, **k)
        s = status()
        for key in peaks:
            peaks[key] = max(peaks[key], s[key])
        return r

    est.partial_fit = partial_fit
    t = time.perf_counter()
    fit_blocks(est, X, y, block_size=block_rows)
    secs = time.perf_counter() - t
    end = status()
    print(json.dumps({"mode": mode, "seconds": secs, "baseline_MiB": base["VmRSS"],
                      "VmHWM_MiB": end["VmHWM"], "peak_RssAnon_MiB": peaks["RssAnon"],
                      "peak_RssFile_MiB": peaks["RssFile"], "loss": float(est.loss_)}))


def make(path_x, path_y, n):
    rng = np.random.default_rng(0)
    X = np.lib.format.open_memmap(path_x, mode="w+", dtype=np.float64, shape=(n, D))
    y = np.lib.format.open_memmap(path_y, mode="w+", dtype=np.float64, shape=(n,))
    step = 200_000
    for a in range(0, n, step):
        b = min(a + step, n)
        X[a:b] = rng.standard_normal((b - a, D))
        y[a:b] = X[a:b, 0] * X[a:b, 1] - X[a:b, 2]
    X.flush(), y.flush()
    del X, y


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gb", type=float, default=1.5)
    ap.add_argument("--block-mb", type=float, default=50)
    ap.add_argument("--dir", default="/tmp")
    ap.add_argument("--child", nargs=4)
    a = ap.parse_args()
    if a.child:
        child(a.child[0], a.child[1], int(a.child[2]), a.child[3])
        return
    n = int(a.gb * 1e9 / ((D + 1) * 8))
    block_rows = int(a.block_mb * 2**20 / ((D + 1) * 8))
    px = os.path.join(a.dir, f"cyneuron-ooc-X-{os.getpid()}.npy")
    py = os.path.join(a.dir, f"cyneuron-ooc-y-{os.getpid()}.npy")
    try:
        make(px, py, n)
        size = (os.path.getsize(px) + os.path.getsize(py)) / 2**20
        print(f"data: {n} x {D} float64 + y, {size:.0f} MiB on disk; blocks of {block_rows} "
              f"rows = {block_rows * (D + 1) * 8 / 2**20:.0f} MiB; "
              f"load {os.getloadavg()[0]:.2f}")
        for mode in ("memmap", "dask"):
            out = subprocess.run([sys.executable, __file__, "--child", px, py,
                                  str(block_rows), mode], stdout=subprocess.PIPE, text=True,
                                 check=True).stdout
            r = json.loads(out.strip().splitlines()[-1])
            print(f"{mode:7s} fit {r['seconds']:.1f} s; peak RSS (VmHWM) {r['VmHWM_MiB']:.0f} MiB "
                  f"(after imports {r['baseline_MiB']:.0f}); peak anonymous "
                  f"{r['peak_RssAnon_MiB']:.0f} MiB, peak file-backed {r['peak_RssFile_MiB']:.0f} MiB")
    finally:
        for p in (px, py):
            if os.path.exists(p):
                os.remove(p)


if __name__ == "__main__":
    main()
