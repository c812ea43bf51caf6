"""Two threads against one on W6, in fresh processes (issue 31, item 1).

Each run is a fresh Python process that fits W6 (40-100-100-10, Adam, batch
200, `--epochs` epochs) in pairs, a fit on two threads and then one on one
thread, after one untimed epoch on one thread; the first timed fit is on two
threads (the worker's first use is timed). Every other process first fits
scikit-learn's MLPClassifier (under ``threadpool_limits(1)``, as the
benchmark's peers run) and multiplies with NumPy's BLAS on all cores, so
that another library's thread pool has run in the process.

A pair's speed-up is its one-thread time over its two-thread time: the two
fits run within a fraction of a second of each other, where the host's load
(which moves the speed of these VMs' two vCPUs by up to 1.6x from one
second to the next) is about the same for both. After each pair the
machine's *two-core capacity* is measured: how much more FP work two
threads running NumPy matrix products independently (one-thread BLAS, no
shared data) get done than one; 2.0 means two free cores, 1.0 a second
vCPU that the host gives no time of its own. The report is the worst and
the median pair, with the capacity at the same moments.

Usage::

    python benchmarks/thread_check.py [--runs 6] [--epochs 20] [--dtypes float64,float32]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MARK = "THREAD-CHECK "


def other_pools():
    """scikit-learn's MLP and NumPy's multi-threaded BLAS, run in this process."""
    import warnings

    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.neural_network import MLPClassifier
    from threadpoolctl import threadpool_limits
    X, y = load_digits(return_X_y=True)
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        MLPClassifier((64,), max_iter=5, random_state=0).fit(X / 16.0, y)
    a = np.random.default_rng(0).standard_normal((768, 768))
    for _ in range(3):
        a @ a


def capacity(dtype, n=192, reps=24):
    """The machine's two-core capacity now: 2 x (time of `reps` n^3 NumPy
    products on one thread) / (time of two threads doing as many each at
    once). NumPy releases the GIL in a product; BLAS is kept to one thread
    per call."""
    import threading

    import numpy as np
    from threadpoolctl import threadpool_limits
    a = np.random.default_rng(0).standard_normal((n, n)).astype(dtype)
    outs = [np.empty_like(a), np.empty_like(a)]

    def loop(out):
        for _ in range(reps):
            np.matmul(a, a, out=out)

    with threadpool_limits(1):
        loop(outs[0])
        t0 = time.perf_counter()
        loop(outs[0])
        alone = time.perf_counter() - t0
        start = threading.Barrier(2)

        def other():
            start.wait()
            loop(outs[1])
        th = threading.Thread(target=other)
        th.start()
        start.wait()
        t0 = time.perf_counter()
        loop(outs[0])
        th.join()
        both = time.perf_counter() - t0
    return 2 * alone / both


def time_fit(wl, dtype, threads, epochs):
    """Seconds one W6 fit takes on `threads` threads, the network built
    before the clock starts."""
    import cyneuron as cn
    p = wl.params
    X = wl.X if dtype == "float64" else wl.X32
    net = cn.Network(list(wl.sizes), dtype=dtype, n_threads=threads,
                     activation="relu", output_activation="softmax",
                     loss="categorical_crossentropy", seed=p["seed"], init="xavier")
    t0 = time.perf_counter()
    net.fit(X, wl.y, epochs=epochs, learning_rate=p["learning_rate"],
            batch_size=p["batch_size"], optimizer="adam", verbose=0)
    return time.perf_counter() - t0


def child(epochs, dtypes, after, pairs=3):
    """One run: {dtype: {"t1": [...], "t2": [...], "capacity": [...]}}, times
    in seconds, pair i being t2[i] then t1[i], capacity[i] measured right
    after them (not before: the first two-thread fit of a run "after" other
    pools must follow them as closely as a user's would)."""
    sys.path.insert(0, HERE)
    from workloads import W6

    import cyneuron  # noqa: F401 - imported before the other pools run, as a user's would be
    if after:
        other_pools()
    wl = W6()
    out = {}
    for dtype in dtypes:
        # a process's first fit pays for what any first call pays (lazy
        # imports, first-touch of memory) whatever the threads: one epoch on
        # one thread first, so that the first two-thread fit times the
        # worker's first use, not the process's
        time_fit(wl, dtype, 1, 1)
        res = {"t1": [], "t2": [], "capacity": []}
        for _ in range(pairs):
            res["t2"].append(time_fit(wl, dtype, 2, epochs))
            res["t1"].append(time_fit(wl, dtype, 1, epochs))
            res["capacity"].append(capacity(dtype))
        out[dtype] = res
    return out


def check(runs=6, epochs=20, dtypes=("float64", "float32")):
    """Run `runs` fresh processes; returns {dtype: {"worst": x, "median": x,
    "capacity": x, "runs": [...]}}: the worst and the median pair's speed-up
    over all runs, the median capacity, and each run's pairs.
    """
    result = {d: {"runs": []} for d in dtypes}
    for i in range(runs):
        after = i % 2 == 1
        cmd = [sys.executable, os.path.abspath(__file__), "--child", "--epochs", str(epochs),
               "--dtypes", ",".join(dtypes)] + (["--after"] if after else [])
        text = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        line = next(s for s in text.splitlines() if s.startswith(MARK))
        got = json.loads(line[len(MARK):])
        for d in dtypes:
            g = got[d]
            result[d]["runs"].append({
                "after_other_pools": after,
                "speedups": [round(a / b, 3) for a, b in zip(g["t1"], g["t2"])],
                "capacity": [round(c, 3) for c in g["capacity"]]})
    for r in result.values():
        speedups = [s for run in r["runs"] for s in run["speedups"]]
        r["worst"] = min(speedups)
        r["median"] = statistics.median(speedups)
        r["capacity"] = statistics.median([c for run in r["runs"] for c in run["capacity"]])
    return result


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=6)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--dtypes", default="float64,float32")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--after", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    dtypes = tuple(args.dtypes.split(","))
    if args.child:
        print(MARK + json.dumps(child(args.epochs, dtypes, args.after)), flush=True)
        return 0
    res = check(args.runs, args.epochs, dtypes)
    for d, r in res.items():
        print(f"{d}: 2-thread speed-up worst {r['worst']:.2f}x, median {r['median']:.2f}x "
              f"over {args.runs} runs; the machine's two-core capacity {r['capacity']:.2f}x")
        for run in r["runs"]:
            print(f"  {'after sklearn+BLAS' if run['after_other_pools'] else 'fresh':18s} "
                  + " ".join(f"{s:.2f}x ({c:.2f}x)"
                             for s, c in zip(run["speedups"], run["capacity"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
