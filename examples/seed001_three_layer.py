"""Seed tutorial 001: a three-layer (3-4-1) sigmoid network, full-batch gradient descent.

Five samples with three features (the third is always 1), labels [0, 1, 1, 0, 0]:
the output is the XOR of the first two features. 60000 iterations of full-batch
gradient descent with step size 1 on half the sum of squared errors, whose
gradient is the raw error a - y the tutorial back-propagates (loss="sse").

Bugs in the tutorial, fixed here:

* Its sigmoid derivative is ``x * (x - 1)``: the wrong sign. The derivative,
  written through the activation a = sigmoid(z), is ``a * (1 - a)`` (that is
  what cyneuron uses). With the wrong sign every update climbs the loss instead
  of descending it, which is why the tutorial's own printout ends with errors
  near +1 for the samples labelled 0: it learned the opposite of the labels.
* Its hidden-layer delta is ``l1_delta = l2_loss * Sigmoid(l2, deriv=True)``:
  the output layer's error and derivative again. Back-propagation needs the
  hidden layer's: ``l1_delta = l1_loss * sigmoid'(l1)`` with
  ``l1_loss = l2_delta @ w1.T``.

Differences from the tutorial:

* The tutorial's layers have no biases (the constant third feature plays that
  role for the hidden layer). cyneuron's layers always have biases; they start
  at 0 and are trained like the weights, so the numbers differ a little from a
  bias-free network.
* The tutorial prints the error of iteration i next to the weights one update
  later; here both belong to the same moment (before iteration i), and the
  state after the last iteration (60000) is printed too.
* Initial weights are uniform in [-1, 1) like the tutorial's 2 * random - 1,
  drawn from Network(seed=0) so the run is reproducible.

Run:  python examples/seed001_three_layer.py [--backend numpy|cython]
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
    [0, 0, 1],
], dtype=np.float64)
Y = np.array([[0], [1], [1], [0], [0]], dtype=np.float64)

ITERATIONS = 60000
REPORT_EVERY = 10000
LEARNING_RATE = 1.0


def weight_bytes(net):
    """All weights and biases of a network as raw bytes, for exact comparison."""
    return b"".join(W.tobytes() + b.tobytes() for W, b in net.get_weights())


def show_state(net, iteration):
    error = net.feedforward(X) - Y                      # the tutorial's l2_loss = l2 - y
    (W1, b1), (W2, b2) = net.get_weights()
    with np.printoptions(precision=8, suppress=False, linewidth=100):
        print(f"iteration {iteration}")
        print("error (a - y):", error.ravel())
        print("w0 (3x4, input -> hidden):")
        print(W1)
        print("b0:", b1)
        print("w1 (4x1, hidden -> output):", W2.ravel())
        print("b1:", b2)
    print("-" * 60)


def train(backend, seed, verbose):
    """60000 full-batch iterations, run in the compiled core in chunks of 10000."""
    net = cn.Network([3, 4, 1], activation="sigmoid", loss="sse", seed=seed,
                     backend=backend, init="uniform")
    seconds = 0.0
    for done in range(0, ITERATIONS, REPORT_EVERY):
        if verbose:
            show_state(net, done)
        start = time.perf_counter()
        # Full-batch gradient descent has no state between epochs, so ten
        # thousand epochs at a time give the same bits as one long fit().
        net.fit(X, Y, epochs=REPORT_EVERY, learning_rate=LEARNING_RATE)
        seconds += time.perf_counter() - start
    if verbose:
        show_state(net, ITERATIONS)
    return net, seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("cython", "numpy"), default="cython",
                        help="which implementation runs the example (default: cython)")
    parser.add_argument("--seed", type=int, default=0, help="initial weights (default: 0)")
    args = parser.parse_args(argv)

    print(f"3-4-1 sigmoid network, loss 'sse' (gradient a - y), lr {LEARNING_RATE}, "
          f"{ITERATIONS} full-batch iterations, backend={args.backend!r}")
    print("-" * 60)
    net, seconds = train(args.backend, args.seed, verbose=True)

    print("final predictions:")
    for x, y, a in zip(X, Y[:, 0], net.feedforward(X)[:, 0]):
        print(f"  x = {x.astype(int)}  target {y:.0f}  prediction {a:.6f}")

    print("\nThe same training on both backends:")
    other = "numpy" if args.backend == "cython" else "cython"
    other_net, other_seconds = train(other, args.seed, verbose=False)
    times = {args.backend: seconds, other: other_seconds}
    for name in ("cython", "numpy"):
        print(f"{name:<7} {times[name]:7.3f} s  "
              f"({times[name] / ITERATIONS * 1e6:7.2f} us per iteration)")
    same = weight_bytes(net) == weight_bytes(other_net)
    print(f"final weights: backends agree bit for bit: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
