"""How far onnxruntime's outputs are from cyneuron's, in ulp, on random nets.

Run from the repository root to measure the bound published in docs/onnx.md:

    python tests/optional/onnx/onnx_ulp.py --nets 2000

The tests import :func:`random_net` and :func:`ulp` from here and check the
published bound on the first nets of the same sequence.
"""
import argparse
import time

import numpy as np

import cyneuron as cn

HIDDEN = ["sigmoid", "tanh", "relu", "leaky_relu", "identity"]


def ulp(a, b):
    """Representable values between a and b (elementwise; 0 where equal)."""
    a, b = np.asarray(a), np.asarray(b)
    ints = {4: np.int32, 8: np.int64}[a.dtype.itemsize]

    def ordered(x):
        # IEEE-754 bits as integers that are ordered like the values
        i = x.view(ints).astype(np.int64)
        return np.where(i < 0, np.iinfo(ints).min - i, i)
    return np.abs(ordered(a) - ordered(b))


def random_net(seed, dtype):
    """A random probability net (softmax or sigmoid output) and a batch for it."""
    rng = np.random.default_rng(seed)
    sizes = [int(rng.integers(1, 12))] + [int(rng.integers(1, 17))
                                          for _ in range(int(rng.integers(1, 4)))]
    acts = []
    for _ in sizes[1:]:
        a = HIDDEN[int(rng.integers(len(HIDDEN)))]
        acts.append(("leaky_relu", float(rng.uniform(0.01, 0.5))) if a == "leaky_relu" else a)
    if rng.random() < 0.5:
        sizes.append(int(rng.integers(2, 7)))
        acts.append("softmax")
        loss = "categorical_crossentropy"
    else:
        sizes.append(int(rng.integers(1, 4)))
        acts.append("sigmoid")
        loss = "binary_crossentropy"
    net = cn.Network(sizes, activation=acts, loss=loss, seed=seed, dtype=dtype)
    scale = float(rng.uniform(0.5, 2.0))
    net.set_weights([(W * scale, b + rng.normal(scale=0.3, size=b.shape))
                     for W, b in net.get_weights()])
    X = (rng.normal(size=(64, sizes[0])) * rng.uniform(0.5, 3.0)).astype(dtype)
    return net, X


def session(proto):
    import onnxruntime as ort
    return ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])


def worst(n_nets, dtype, first=0):
    """(worst ulp over every output of nets first..first+n_nets-1, seed of that net)."""
    out, where = 0, None
    for seed in range(first, first + n_nets):
        net, X = random_net(seed, dtype)
        got = session(cn.to_onnx(net)).run(None, {"X": X})[0]
        d = int(ulp(got, net.feedforward(X)).max())
        if d > out:
            out, where = d, seed
    return out, where


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--nets", type=int, default=2000)
    args = p.parse_args()
    for dtype in ("float64", "float32"):
        t0 = time.perf_counter()
        d, seed = worst(args.nets, dtype)
        print(f"{dtype}: worst {d} ulp over {args.nets} nets x 64 rows (net seed {seed}), "
              f"{time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
