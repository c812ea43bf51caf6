#!/usr/bin/env python
"""Peak memory of a sparse fit (issue 29): a 50,000 x 200,000 CSR matrix with
100 non-zeros a row (5 million, 60 MB as float64 values and int32 indices;
80 GB dense), 10 classes, a 200000-32-10 ReLU/softmax network, Adam, batch
128, one epoch. The goal is a peak resident set under 2 GB: the non-zeros
plus the network's own workspace (weights, gradient, Adam's two moments and
the call's snapshot of them), never a dense copy.

    /usr/bin/time -v python benchmarks/sparse_memory.py

prints what it did and its own peak RSS (``resource.getrusage``); ``time -v``
reports the same figure as "Maximum resident set size".
"""
from __future__ import annotations

import argparse
import resource
import sys
import time

import numpy as np


def matrix(n, n_features, nnz, seed=0):
    import scipy.sparse as sp
    rng = np.random.default_rng(seed)
    cols = np.empty((n, nnz), dtype=np.int32)
    for i in range(n):
        cols[i] = np.sort(rng.choice(n_features, nnz, replace=False))
    data = rng.random((n, nnz)) + 0.1
    data /= np.sqrt((data * data).sum(axis=1, keepdims=True))
    return sp.csr_matrix((data.ravel(), cols.ravel(), np.arange(0, n * nnz + 1, nnz)),
                         shape=(n, n_features))


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024     # kB on Linux


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=50000)
    ap.add_argument("--features", type=int, default=200000)
    ap.add_argument("--nnz", type=int, default=100)
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)

    import cyneuron as cn
    X = matrix(args.rows, args.features, args.nnz)
    y = np.random.default_rng(1).integers(0, 10, args.rows)
    print(f"X: {X.shape[0]} x {X.shape[1]} CSR, {X.nnz} non-zeros, "
          f"{(X.data.nbytes + X.indices.nbytes + X.indptr.nbytes) / 2**20:.0f} MiB "
          f"({X.shape[0] * X.shape[1] * 8 / 2**30:.0f} GiB dense); peak RSS so far "
          f"{peak_mb():.0f} MiB", flush=True)
    net = cn.Network([args.features, args.hidden, 10], activation="relu",
                     output_activation="softmax", loss="categorical_crossentropy", seed=0,
                     n_threads=args.threads)
    t0 = time.perf_counter()
    hist = net.fit(X, y, epochs=args.epochs, batch_size=128, optimizer="adam",
                   learning_rate=1e-3)
    dt = time.perf_counter() - t0
    print(f"fit: {args.epochs} epoch(s) of {net.n_params} weights and biases in {dt:.1f} s, "
          f"loss {hist['loss'][-1]:.4f}, accuracy {hist['accuracy'][-1]:.4f}")
    print(f"peak RSS: {peak_mb():.0f} MiB (goal: under 2048 MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
