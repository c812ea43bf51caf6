#!/usr/bin/env python
"""W1 and W2 in both numerics modes, interleaved: ns per iteration / update.

    python benchmarks/tiny_numerics.py [ROUNDS] [DTYPE]     # default 60 float64

Each round runs one short ``fit`` of every (workload, numerics) pair in turn
(3000 iterations of W1, 500 epochs of W2), so that machine drift hits all of
them alike; printed are the minimum, the 10th percentile and the median.
Run it once per build, alternating builds, to compare two trees.
"""
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import workloads  # noqa: E402

import cyneuron as cn  # noqa: E402


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 60
    dtype = sys.argv[2] if len(sys.argv) > 2 else "float64"
    cases = []
    for wid in ("W1", "W2"):
        for numerics in ("numpy", "portable"):
            wl = workloads.get(wid)
            p = wl.params
            net = cn.Network(list(wl.sizes), activation=p["activation"], loss=p["loss"], seed=0,
                             numerics=numerics, dtype=dtype)
            net.set_weights(wl.weights)
            kw = {} if wid == "W1" else dict(batch_size=1, shuffle=False)
            epochs, per = (3000, 3000) if wid == "W1" else (500, 2000)   # per: steps
            net.fit(wl.X, wl.y, epochs=10, learning_rate=p["learning_rate"], **kw)
            cases.append((wid, numerics, net, wl, kw, epochs, per, []))
    for _ in range(rounds):
        for _wid, _numerics, net, wl, kw, epochs, per, times in cases:
            t0 = time.perf_counter()
            net.fit(wl.X, wl.y, epochs=epochs, learning_rate=wl.params["learning_rate"], **kw)
            times.append((time.perf_counter() - t0) / per * 1e9)
    for wid, numerics, *_, times in cases:
        times.sort()
        unit = "iteration" if wid == "W1" else "update"
        print(f"{wid} {numerics:8s} {dtype}: min {times[0]:6.1f}  p10 {times[len(times) // 10]:6.1f}"
              f"  median {statistics.median(times):6.1f} ns per {unit}")


if __name__ == "__main__":
    main()
