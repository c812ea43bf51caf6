"""Seed tutorial 002: "build a neural network from scratch": a two-layer sigmoid network.

Input x (4 samples, 3 features), one hidden layer of 4 sigmoid units, one
sigmoid output, trained for 1500 iterations on the sum of squared errors; the
loss should fall at every iteration and the predictions converge to the
targets [0, 1, 1, 0].

How the tutorial's step maps onto cyneuron:

* The tutorial's loss is the sum of squared errors L = sum (y - a)^2, whose
  gradient with respect to the output is 2 (a - y); it adds the negative
  gradient to the weights with no learning rate (a step of size 1).
  cyneuron's loss="sse" is half that sum (gradient a - y), so learning_rate=2
  takes exactly the tutorial's step (a factor 2 is exact in floating point).
* The tutorial's weights start uniform in [0, 1) (np.random.rand), with no
  seed; here they come from a seeded NumPy Generator and are installed with
  set_weights, so the run is reproducible.
* The tutorial assumes the biases are 0 and never trains them; cyneuron's
  layers always have biases: they start at 0 and are trained too.

Run:  python examples/seed002_two_layer.py [--backend numpy|cython]
"""
import argparse
import time

import numpy as np

import cyneuron as cn

X = np.array([
    [0, 0, 1],
    [0, 1, 1],
    [1, 0, 1],
    [1, 1, 1],
], dtype=np.float64)
Y = np.array([[0], [1], [1], [0]], dtype=np.float64)

ITERATIONS = 1500
LEARNING_RATE = 2.0       # with loss="sse": the tutorial's step on the full sum of squares


def weight_bytes(net):
    """All weights and biases of a network as raw bytes, for exact comparison."""
    return b"".join(W.tobytes() + b.tobytes() for W, b in net.get_weights())


def train(backend, seed):
    rng = np.random.default_rng(seed)
    net = cn.Network([3, 4, 1], activation="sigmoid", loss="sse", backend=backend, init="uniform")
    # the tutorial's initialisation: np.random.rand(3, 4) and np.random.rand(4, 1)
    net.set_weights([(rng.random((3, 4)), np.zeros(4)),
                     (rng.random((4, 1)), np.zeros(1))])
    start = time.perf_counter()
    history = net.fit(X, Y, epochs=ITERATIONS, learning_rate=LEARNING_RATE)
    return net, history, time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("cython", "numpy"), default="cython",
                        help="which implementation runs the example (default: cython)")
    parser.add_argument("--seed", type=int, default=0, help="initial weights (default: 0)")
    args = parser.parse_args(argv)

    print(f"3-4-1 sigmoid network, sum of squared errors, {ITERATIONS} iterations, "
          f"backend={args.backend!r}")
    net, history, seconds = train(args.backend, args.seed)

    # history["loss"][i] is the loss before update i: half the sum of squares.
    # Twice it is the tutorial's sum of squared errors (exactly: a factor 2).
    losses = [2.0 * value for value in history["loss"]]
    final = 2.0 * net.evaluate(X, Y)["loss"]
    print("iteration   sum of squared errors")
    for i in range(0, ITERATIONS, ITERATIONS // 10):
        print(f"{i:>9}   {losses[i]:.6f}")
    print(f"{ITERATIONS:>9}   {final:.6f}")
    steps = losses + [final]
    decreasing = all(b < a for a, b in zip(steps, steps[1:]))
    print(f"the loss fell at every iteration: {decreasing}")

    print("\nfinal predictions after training:")
    for x, y, a in zip(X, Y[:, 0], net.feedforward(X)[:, 0]):
        print(f"  x = {x.astype(int)}  target {y:.0f}  prediction {a:.6f}")

    print("\nThe same training on both backends:")
    other = "numpy" if args.backend == "cython" else "cython"
    other_net, other_history, other_seconds = train(other, args.seed)
    times = {args.backend: seconds, other: other_seconds}
    for name in ("cython", "numpy"):
        print(f"{name:<7} {times[name]:7.3f} s  "
              f"({times[name] / ITERATIONS * 1e6:7.2f} us per iteration)")
    same = (weight_bytes(net) == weight_bytes(other_net)
            and np.array(history["loss"]).tobytes() == np.array(other_history["loss"]).tobytes())
    print(f"final weights and loss history: backends agree bit for bit: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
