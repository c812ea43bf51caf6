"""Seed tutorial 004: layers, neurons, ReLU, softmax, backpropagation, and "why activations?".

The tutorial explains a network as layers of neurons z = w . x + b followed
by an activation g (sigmoid, ReLU), a softmax on the output, gradient descent
by the chain rule on the mean squared error, and answers two questions:
why vectors (batches are fast) and what happens without activations (a
composition of linear maps is linear, so extra neurons cannot fit anything
better). Its running example: predict a table's area s from its length a and
width b.

This script shows each of those with cyneuron:

1. softmax as an output activation;
2. the MSE gradient, checked against finite differences;
3. the table-area regression s = a * b with ReLU hidden units, against the
   same network with no activation (identity): the linear one cannot learn a
   product, and its three layers collapse into a single affine map;
4. both backends give the same bits (with mini-batches, shuffling and Adam).

Errors in the tutorial, corrected here:

* Its softmax is y_i = x_i / sum_j x_j: that is not softmax (it is not even
  a probability: x = [2, 1, -1] gives [1, 0.5, -0.5], and it divides by zero
  when the inputs sum to 0). Softmax is y_i = exp(x_i) / sum_j exp(x_j).
* Its output-layer derivative of the mean squared error is (1/n) (y' - y);
  the derivative of L = (1/n) sum (y' - y)^2 is (2/n) (y' - y). (The 1/n
  form is the derivative of half the MSE.) Section 2 checks the factor 2.
* Its bias update reads b = w - alpha dL/db; it is b = b - alpha dL/db.

Run:  python examples/seed004_layers_relu_softmax.py [--backend numpy|cython]
"""
import argparse
import time

import numpy as np

import cyneuron as cn

EPOCHS = 300
BATCH_SIZE = 20
LEARNING_RATE = 0.01     # Adam's step size
HIDDEN = 16


def weight_bytes(net):
    """All weights and biases of a network as raw bytes, for exact comparison."""
    return b"".join(W.tobytes() + b.tobytes() for W, b in net.get_weights())


def table_data(n, rng):
    """Tables with length a and width b in [0, 2) m; the label is the area a * b."""
    ab = rng.uniform(0.0, 2.0, size=(n, 2))
    return ab, ab[:, :1] * ab[:, 1:]


def section_softmax(backend):
    print("== 1. Softmax on the output ==")
    x = np.array([2.0, 1.0, -1.0])
    print(f"x = {x}")
    print(f"the tutorial's x_i / sum_j x_j:   {x / x.sum()}   (negative: not probabilities)")
    # A layer with identity weights and zero biases passes x on unchanged, so
    # its softmax output is softmax(x).
    layer = cn.Network([3, 3], activation="softmax", backend=backend, init="uniform")
    layer.set_weights([(np.eye(3), np.zeros(3))])
    p = layer.feedforward(x)
    with np.printoptions(precision=6):
        print(f"softmax, exp(x_i) / sum_j exp(x_j): {p}   sum {p.sum():.6f}")
    assert np.all(p > 0) and abs(p.sum() - 1) < 1e-12


def section_gradient(backend):
    print("\n== 2. The MSE gradient: (2/n) (y' - y), not (1/n) (y' - y) ==")
    rng = np.random.default_rng(1)
    X, y = table_data(8, rng)
    net = cn.Network([2, 3, 1], activation=["relu", "identity"], loss="mse", seed=1,
                     backend=backend, init="uniform")
    # dL/db of the output bias: by backpropagation, and by central differences
    backprop = net.gradients(X, y)[-1][1][0]
    weights = net.get_weights()
    h = 1e-6
    losses = []
    for step in (h, -h):
        W2, b2 = weights[-1]
        net.set_weights(weights[:-1] + [(W2, b2 + step)])
        losses.append(net.evaluate(X, y)["loss"])
    net.set_weights(weights)
    numeric = (losses[0] - losses[1]) / (2 * h)
    n = len(y)
    residual = net.feedforward(X) - y
    print(f"backpropagation            dL/db = {backprop:.8f}")
    print(f"central differences        dL/db = {numeric:.8f}")
    print(f"(2/n) sum (y' - y)               = {2 / n * residual.sum():.8f}")
    print(f"the tutorial's (1/n) sum (y' - y) = {1 / n * residual.sum():.8f}")


def train(backend, hidden_activation, X, y):
    net = cn.Network([2, HIDDEN, 1], activation=[hidden_activation, "identity"], loss="mse",
                     seed=0, init="he", backend=backend)
    start = time.perf_counter()
    history = net.fit(X, y, epochs=EPOCHS, learning_rate=LEARNING_RATE,
                      batch_size=BATCH_SIZE, optimizer="adam", shuffle=True)
    return net, history, time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("cython", "numpy"), default="cython",
                        help="which implementation runs the example (default: cython)")
    args = parser.parse_args(argv)

    section_softmax(args.backend)
    section_gradient(args.backend)

    print(f"\n== 3. Table area s = a * b: 2-{HIDDEN}-1, MSE, Adam lr {LEARNING_RATE}, "
          f"batches of {BATCH_SIZE}, {EPOCHS} epochs, backend={args.backend!r} ==")
    rng = np.random.default_rng(0)
    X, y = table_data(200, rng)
    X_test, y_test = table_data(100, rng)
    runs = {}
    for act in ("relu", "identity"):
        net, history, seconds = train(args.backend, act, X, y)
        runs[act] = (net, seconds)
        test = net.evaluate(X_test, y_test)["loss"]
        print(f"hidden activation {act:<8}  training loss {history['loss'][0]:.4f} -> "
              f"{history['loss'][-1]:.5f}   test MSE {test:.5f}")
    print("three tables (a, b): true area, ReLU network, linear network")
    for (a, b), s in zip(X_test[:3], y_test[:3, 0]):
        pr = runs["relu"][0].feedforward([a, b])[0]
        pl = runs["identity"][0].feedforward([a, b])[0]
        print(f"  ({a:.2f}, {b:.2f})   {s:.3f}   {pr:.3f}   {pl:.3f}")

    # Without activations the two layers are one affine map: x W1 W2 + (b1 W2 + b2).
    (W1, b1), (W2, b2) = runs["identity"][0].get_weights()
    collapsed = X_test @ (W1 @ W2) + (b1 @ W2 + b2)
    gap = np.max(np.abs(collapsed - runs["identity"][0].feedforward(X_test)))
    print(f"the linear network is one affine map: largest difference {gap:.1e} "
          "(rounding only)")

    print("\n== 4. Both backends ==")
    other = "numpy" if args.backend == "cython" else "cython"
    times = {args.backend: sum(s for _, s in runs.values())}
    same = True
    times[other] = 0.0
    for act in ("relu", "identity"):
        other_net, _, seconds = train(other, act, X, y)
        times[other] += seconds
        same = same and weight_bytes(other_net) == weight_bytes(runs[act][0])
    for name in ("cython", "numpy"):
        print(f"{name:<7} {times[name]:7.3f} s for both trainings")
    print(f"final weights of both networks: backends agree bit for bit: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
