"""Seed tutorial 003: a feed-forward binary classifier with one hidden layer, in NumPy.

3 inputs, 4 hidden sigmoid units, 1 sigmoid output. The weights start as
np.random.seed(0); randn(...) * 0.01 and the biases as zeros, exactly the
tutorial's initialisation, installed with set_weights. Learning rate 0.1,
10000 epochs of full-batch gradient descent; the output error is
y_pred - y_true (loss="sse"); every 1000 epochs the tutorial prints the mean
squared error of the predictions, computed here with cyneuron.reference.mse.

Bugs in the tutorial, fixed here:

* ``backward_pass`` reads ``hidden_layer_output``, a local variable of
  ``forward_pass``: it is not defined there (a NameError), and even as a
  global it would silently be whatever the last forward pass left behind. The
  backward pass needs the hidden activations of the same forward pass;
  cyneuron keeps every layer's output of one pass together.
* ``update_parameters`` is declared as ``def update_parameters(def
  update_parameters(...)``: a syntax error; it also mutates globals. Here the
  update ``W = W - lr * dW`` happens inside ``Network.fit``.
* The tutorial's sigmoid_derivative(x) = x * (1 - x) is right, but only when
  x is already the sigmoid's output, which the tutorial passes: cyneuron's
  derivative is written through the activation the same way.

What happens: with these settings the network does not learn the data (the
tutorial never shows its result). The three samples lie on one line, equally
spaced, with labels 0, 1, 0: the best straight-line fit is flat at the mean
label, 1/3. With weights of size 0.01 the network is almost linear in its
input, so within a few hundred epochs it fits exactly that, predicting 1/3
for every sample (MSE 2/9 = 0.2222), and the gradient towards the bend it
needs is tiny there. With learning rate 0.1 it leaves that plateau only after
far more than 10000 epochs. The same initial weights with learning rate 10
escape it and classify all three samples; both runs are shown.

Run:  python examples/seed003_binary_classifier.py [--backend numpy|cython]
"""
import argparse
import time

import numpy as np

import cyneuron as cn
from cyneuron import reference

INPUT_SIZE, HIDDEN_SIZE, OUTPUT_SIZE = 3, 4, 1

# the tutorial's example data: three samples, binary labels
X = np.array([[0.1, 0.2, 0.3],
              [0.4, 0.5, 0.6],
              [0.7, 0.8, 0.9]])
Y_TRUE = np.array([[0.0], [1.0], [0.0]])

EPOCHS = 10000
REPORT_EVERY = 1000
LEARNING_RATE = 0.1
ESCAPE_LEARNING_RATE = 10.0


def weight_bytes(net):
    """All weights and biases of a network as raw bytes, for exact comparison."""
    return b"".join(W.tobytes() + b.tobytes() for W, b in net.get_weights())


def tutorial_weights():
    """The tutorial's initialisation, draw for draw."""
    np.random.seed(0)
    weights_input_to_hidden = np.random.randn(INPUT_SIZE, HIDDEN_SIZE) * 0.01
    bias_hidden = np.zeros(HIDDEN_SIZE)
    weights_hidden_to_output = np.random.randn(HIDDEN_SIZE, OUTPUT_SIZE) * 0.01
    bias_output = np.zeros(OUTPUT_SIZE)
    return [(weights_input_to_hidden, bias_hidden), (weights_hidden_to_output, bias_output)]


def train(backend, learning_rate, verbose):
    net = cn.Network([INPUT_SIZE, HIDDEN_SIZE, OUTPUT_SIZE], activation="sigmoid",
                     loss="sse", backend=backend, init="uniform")
    net.set_weights(tutorial_weights())
    seconds = 0.0
    for epoch in range(0, EPOCHS, REPORT_EVERY):
        if verbose:
            # the tutorial's print: the MSE of this epoch's forward pass, before its update
            y_pred = net.feedforward(X)
            print(f"Epoch {epoch}, Loss: {reference.mse(y_pred, Y_TRUE)}")
        start = time.perf_counter()
        net.fit(X, Y_TRUE, epochs=REPORT_EVERY, learning_rate=learning_rate)
        seconds += time.perf_counter() - start
    return net, seconds


def show_predictions(net):
    y_pred = net.feedforward(X)
    print(f"after {EPOCHS} epochs: MSE {reference.mse(y_pred, Y_TRUE)}")
    for x, y, a in zip(X, Y_TRUE[:, 0], y_pred[:, 0]):
        print(f"  x = {x}  target {y:.0f}  prediction {a:.6f}  class {int(a > 0.5)}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("cython", "numpy"), default="cython",
                        help="which implementation runs the example (default: cython)")
    args = parser.parse_args(argv)

    print(f"== The tutorial: 3-4-1 sigmoid, lr {LEARNING_RATE}, {EPOCHS} epochs, "
          f"backend={args.backend!r} ==")
    net, seconds = train(args.backend, LEARNING_RATE, verbose=True)
    show_predictions(net)
    if np.all(np.abs(net.feedforward(X) - 1 / 3) < 0.01):
        print("-> stuck on the plateau: every prediction is about 1/3, the mean label")

    print(f"\n== The same initial weights, lr {ESCAPE_LEARNING_RATE} ==")
    fast, fast_seconds = train(args.backend, ESCAPE_LEARNING_RATE, verbose=True)
    show_predictions(fast)

    print("\nBoth runs on both backends:")
    other = "numpy" if args.backend == "cython" else "cython"
    other_net, other_seconds = train(other, LEARNING_RATE, verbose=False)
    other_fast, other_fast_seconds = train(other, ESCAPE_LEARNING_RATE, verbose=False)
    times = {args.backend: seconds + fast_seconds, other: other_seconds + other_fast_seconds}
    for name in ("cython", "numpy"):
        print(f"{name:<7} {times[name]:7.3f} s  "
              f"({times[name] / (2 * EPOCHS) * 1e6:7.2f} us per epoch)")
    same = (weight_bytes(net) == weight_bytes(other_net)
            and weight_bytes(fast) == weight_bytes(other_fast))
    print(f"final weights of both runs: backends agree bit for bit: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
