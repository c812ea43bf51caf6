"""Two threads against one on W6, in fresh processes (issue 31, item 1).

Each run is a fresh Python process that fits W6 (40-100-100-10, Adam, batch
200, `--epochs` epochs) on two threads and on one, alternately, after one
untimed epoch on one thread; the first timed fit is on two threads (the
worker's first use is timed). Every other process first
fits scikit-learn's MLPClassifier (under ``threadpool_limits(1)``, as the
benchmark's peers run) and multiplies with NumPy's BLAS on all cores, so
that another library's thread pool has run in the process. A run's speed-up
is the best one-thread time over each two-thread time; the report is the
worst over all runs, and every run's.

Usage::

    python benchmarks/thread_check.py [--runs 6] [--epochs 20] [--dtypes float64,float32]
"""
import argparse
import json
import os
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


def child(epochs, dtypes, after):
    """One run: {dtype: {"t1": [...], "t2": [...]}} in seconds."""
    sys.path.insert(0, HERE)
    from workloads import W6

    import cyneuron as cn
    if after:
        other_pools()
    wl = W6()
    p = wl.params
    out = {}

    def fit(X, dtype, threads, epochs):
        net = cn.Network(list(wl.sizes), dtype=dtype, n_threads=threads,
                         activation="relu", output_activation="softmax",
                         loss="categorical_crossentropy", seed=p["seed"], init="xavier")
        t0 = time.perf_counter()
        net.fit(X, wl.y, epochs=epochs, learning_rate=p["learning_rate"],
                batch_size=p["batch_size"], optimizer="adam", verbose=0)
        return time.perf_counter() - t0

    for dtype in dtypes:
        X = wl.X if dtype == "float64" else wl.X32
        # a process's first fit pays for what any first call pays (lazy
        # imports, first-touch of memory) whatever the threads: one epoch on
        # one thread first, so that the first two-thread fit times the
        # worker's first use, not the process's
        fit(X, dtype, 1, 1)
        times = {1: [], 2: []}
        for threads in (2, 1, 2, 1, 2, 1):
            times[threads].append(fit(X, dtype, threads, epochs))
        out[dtype] = {"t1": times[1], "t2": times[2]}
    return out


def check(runs=6, epochs=20, dtypes=("float64", "float32")):
    """Run `runs` fresh processes; returns {dtype: {"worst": x, "runs": [...]}}.

    A run's entry is (after other pools?, [speed-up of each 2-thread fit]).
    """
    result = {d: {"worst": None, "runs": []} for d in dtypes}
    for i in range(runs):
        after = i % 2 == 1
        cmd = [sys.executable, os.path.abspath(__file__), "--child", "--epochs", str(epochs),
               "--dtypes", ",".join(dtypes)] + (["--after"] if after else [])
        text = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        line = next(s for s in text.splitlines() if s.startswith(MARK))
        got = json.loads(line[len(MARK):])
        for d in dtypes:
            best1 = min(got[d]["t1"])
            speedups = [best1 / t for t in got[d]["t2"]]
            result[d]["runs"].append({"after_other_pools": after,
                                      "speedups": [round(s, 3) for s in speedups]})
            worst = min(speedups)
            if result[d]["worst"] is None or worst < result[d]["worst"]:
                result[d]["worst"] = worst
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
        print(f"{d}: worst 2-thread speed-up {r['worst']:.2f}x over {args.runs} runs")
        for run in r["runs"]:
            print(f"  {'after sklearn+BLAS' if run['after_other_pools'] else 'fresh':18s} "
                  + " ".join(f"{s:.2f}x" for s in run["speedups"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
