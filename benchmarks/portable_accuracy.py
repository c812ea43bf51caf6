"""Accuracy and speed of cyneuron's portable exp, log, log1p and tanh.

    python benchmarks/portable_accuracy.py              # 10**6 inputs per function and dtype
    python benchmarks/portable_accuracy.py --n 20000    # a quick look

For every function and dtype: the worst error in ulps against mpmath (exact to
160 bits) over `--n` random inputs, half uniform in the function's useful range
and half log-uniform over the whole exponent range (both signs), plus the edge
cases of tests/portable_oracle.py, plus n/5 inputs packed densely where the
algorithms switch branches ("branch regions"); the input where it occurs; and the share of
results that are correctly rounded (error <= 0.5 ulp).  Then the time per
element of the compiled loop (each SIMD variant this CPU runs) beside NumPy's
own function, on 4096-element arrays: median of 7 repeats and the spread.
The mpmath part takes a few minutes on 2 processes.
"""
import argparse
import multiprocessing
import os
import sys
import time
import timeit

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from portable_oracle import NAMES, USEFUL, edge_cases, ulp_error  # noqa: E402

from cyneuron import _portable as cp  # noqa: E402

DTYPES = (np.float64, np.float32)


def inputs(name, dtype, n, rng):
    dt = np.dtype(dtype)
    lo, hi = USEFUL[(name, dt)]
    uni = rng.uniform(lo, hi, n // 2)
    fi = np.finfo(dt)
    k = n - n // 2
    logu = np.exp2(rng.uniform(np.log2(fi.smallest_subnormal), np.log2(fi.max), k))
    logu *= rng.choice([-1.0, 1.0], k)
    branch = np.concatenate([rng.uniform(a, b, n // (5 * len(BRANCH[name, dt.name])))
                             for a, b in BRANCH[name, dt.name]])
    with np.errstate(over="ignore"):
        return {"uniform": uni.astype(dt), "log-uniform": logu.astype(dt), "edge cases": edge_cases(dt),
                "branch regions": branch.astype(dt)}


# Dense sampling where the algorithms switch or their reductions are tightest:
# tanh around its switch from polynomial to exp at 0.55, exp into the
# subnormals and near overflow, log/log1p across the sqrt(2) fold and near -1.
BRANCH = {
    ("tanh", "float64"): [(0.5, 0.7), (0.7, 1.5)], ("tanh", "float32"): [(0.5, 0.7), (0.7, 1.5)],
    ("exp", "float64"): [(-745.2, -708.0), (-0.4, 0.4), (700.0, 709.79)],
    ("exp", "float32"): [(-103.98, -87.0), (-0.4, 0.4), (80.0, 88.72)],
    ("log", "float64"): [(0.68, 1.5)], ("log", "float32"): [(0.68, 1.5)],
    ("log1p", "float64"): [(-0.35, 0.5), (-1.0, -0.9)], ("log1p", "float32"): [(-0.35, 0.5), (-1.0, -0.9)],
}


def _errors(job):
    name, dtype, x, y = job
    return np.array([ulp_error(name, a, b, dtype) for a, b in zip(x, y)])


def accuracy(n, procs, seed, schemes=None):
    rows = []
    jobs, keys = [], []
    rng = np.random.default_rng(seed)
    for dtype in DTYPES:
        for name in NAMES:
            for scheme, x in inputs(name, dtype, n, rng).items():
                if schemes is not None and scheme not in schemes:
                    continue
                y = getattr(cp, name)(x)
                for part in np.array_split(np.arange(len(x)), max(1, len(x) // 20000)):
                    jobs.append((name, dtype, x[part], y[part]))
                    keys.append((name, np.dtype(dtype).name, scheme))
    with multiprocessing.Pool(procs) as pool:
        results = pool.map(_errors, jobs, chunksize=1)
    merged = {}
    for key, job, err in zip(keys, jobs, results):
        merged.setdefault(key, []).append((job[2], err))
    for key, parts in merged.items():
        x = np.concatenate([p[0] for p in parts])
        err = np.concatenate([p[1] for p in parts])
        i = int(np.argmax(err))
        rows.append((*key, len(x), err[i], x[i], 100.0 * np.mean(err <= 0.5)))
    return rows


def speed(repeats=7, number=2000, size=4096):
    rng = np.random.default_rng(0)
    rows = []
    old = cp.get_variant()
    try:
        for dtype in DTYPES:
            for name in NAMES:
                lo, hi = {"exp": (-20, 20), "log": (1e-3, 100), "log1p": (-0.9, 100),
                          "tanh": (-5, 5)}[name]
                a = rng.uniform(lo, hi, size).astype(dtype)
                out = np.empty_like(a)
                npf = getattr(np, name)
                t = timeit.repeat(lambda: npf(a, out=out), number=number, repeat=repeats)
                rows.append((name, np.dtype(dtype).name, "numpy", np.array(t) / number / size * 1e9))
                for v in cp.variants():
                    cp.set_variant(v)
                    f = getattr(cp, name)
                    t = timeit.repeat(lambda: f(a, out=out), number=number, repeat=repeats)
                    rows.append((name, np.dtype(dtype).name, v, np.array(t) / number / size * 1e9))
    finally:
        cp.set_variant(old)
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="random inputs per function and dtype")
    ap.add_argument("--procs", type=int, default=2, help="processes for the mpmath oracle (<= 2)")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--no-speed", action="store_true")
    ap.add_argument("--schemes", default=None,
                    help="comma-separated subset of: uniform, log-uniform, edge cases, branch regions")
    args = ap.parse_args()
    t0 = time.time()
    schemes = None if args.schemes is None else [s.strip() for s in args.schemes.split(",")]
    rows = accuracy(args.n, min(args.procs, 2), args.seed, schemes)
    print(f"accuracy against mpmath ({time.time() - t0:.0f} s, seed {args.seed})\n")
    print("| function | dtype | sampling | inputs | worst ulp | input at worst | correctly rounded |")
    print("|---|---|---|---|---|---|---|")
    for name, dt, scheme, count, worst, at, cr in rows:
        print(f"| {name} | {dt} | {scheme} | {count} | {worst:.3f} | {float(at)!r} | {cr:.4f} % |")
    if args.no_speed:
        return
    print("\nns per element, 4096-element arrays (median of 7, [min, max])\n")
    print("| function | dtype | loop | ns/element |")
    print("|---|---|---|---|")
    for name, dt, loop, t in speed():
        print(f"| {name} | {dt} | {loop} | {np.median(t):.2f} [{t.min():.2f}, {t.max():.2f}] |")


if __name__ == "__main__":
    main()
