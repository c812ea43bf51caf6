"""Prototype: a batch gradient summed over a fixed reduction tree of fixed-size blocks.

The contract today sums a weight gradient over the batch in sample order
(s = +0.0; s += x[i, k] * d[i, j] for i = 0, 1, ...). A data-parallel
contract would instead fix the blocks (B samples each, summed in sample
order) and a binary tree over the block sums, keyed by block index. Any
assignment of blocks to workers then gives the same bits, as long as each
worker returns the block partial sums (or the sums of whole aligned
subtrees) and the tree is combined in the same shape.

This script checks that claim for 1-8 simulated workers and measures, in
NumPy, what the blocked tree costs next to the sequential order (both
spelled out with elementwise operations only: no BLAS).

    python benchmarks/prototypes/fixed_tree_sum.py
"""
import time

import numpy as np


def sequential(x, d):
    """dW[k, j] = sum_i x[i, k] * d[i, j], in sample order from +0.0."""
    s = np.zeros((x.shape[1], d.shape[1]))
    for i in range(x.shape[0]):
        s = s + x[i][:, None] * d[i][None, :]
    return s


def block_sums(x, d, B, lo, hi):
    """The sequential sums of blocks lo..hi-1 (block b = samples b*B .. b*B+B-1)."""
    return [sequential(x[b * B:(b + 1) * B], d[b * B:(b + 1) * B]) for b in range(lo, hi)]


def tree(parts):
    """A fixed binary tree over blocks 0..m-1: pair (0,1), (2,3), ...; an odd last is carried."""
    while len(parts) > 1:
        nxt = [parts[i] + parts[i + 1] for i in range(0, len(parts) - 1, 2)]
        if len(parts) % 2:
            nxt.append(parts[-1])
        parts = nxt
    return parts[0]


def on_workers(x, d, B, P):
    """Blocks split into P contiguous ranges (any split would do); the tree is by block index."""
    m = -(-x.shape[0] // B)
    cuts = np.linspace(0, m, P + 1).astype(int)
    partials = []
    for w in range(P):                     # each would run on its own worker
        partials.extend(block_sums(x, d, B, cuts[w], cuts[w + 1]))
    return tree(partials)


def main():
    rng = np.random.default_rng(0)
    n, k, j, B = 4096, 64, 32, 256
    x = rng.standard_normal((n, k))
    d = rng.standard_normal((n, j))
    ref = on_workers(x, d, B, 1)
    same = all(on_workers(x, d, B, P).tobytes() == ref.tobytes() for P in range(1, 9))
    seq = sequential(x, d)
    diff = int(np.count_nonzero(seq != ref))
    print(f"n={n} samples, {k}x{j} gradient, blocks of {B}: the tree gives the same bits "
          f"for 1-8 workers: {same}; it differs from the sequential order in {diff} of "
          f"{seq.size} entries (max |diff| {np.max(np.abs(seq - ref)):.2e})")
    for name, fn in (("sequential", lambda: sequential(x, d)),
                     ("blocked tree", lambda: on_workers(x, d, B, 1))):
        ts = []
        for _ in range(5):
            t = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t)
        print(f"{name:13s} median {np.median(ts) * 1e3:7.2f} ms  [{min(ts) * 1e3:.2f}-"
              f"{max(ts) * 1e3:.2f}]")
    m = n // B
    print(f"extra additions of the tree: {m - 1} gradient-sized adds for {n} sample adds "
          f"({(m - 1) / n:.2%} of the reduction's flops); bytes a worker sends per step: "
          f"one {k}x{j} float64 partial per block range ({k * j * 8} B)")


if __name__ == "__main__":
    main()
