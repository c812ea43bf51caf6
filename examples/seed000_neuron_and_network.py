"""Seed tutorial 000: a neuron, a 2-2-1 network, the MSE loss, and training.

The tutorial builds, step by step:

1. one sigmoid neuron with weights [0, 1] and bias 4:  f([2, 3]) = 0.9990889488055994
2. a 2-2-1 network whose every neuron has weights [0, 1] and bias 0:
   feedforward([2, 3]) = 0.7216325609518421
3. the mean squared error of y_true [1, 0, 0, 1] against y_pred [0, 0, 0, 0]: 0.5
4. a 2-2-1 sigmoid network trained by stochastic gradient descent, one update
   per sample, to tell women (1) from men (0) by (weight - 135 lb, height - 66 in),
   then asked about Emily (-7, -3) and Frank (20, 2). The tutorial's loop is
   written out with ``train_step``; ``fit(batch_size=1, shuffle=False)`` runs
   the same updates in one call inside the compiled core, with the same bits.

Differences from the tutorial, all deliberate:

* The tutorial's listing names its loss ``def mse-loss(...)`` (a syntax error)
  and calls it as ``mse_loss``; here the loss is ``cyneuron.reference.mse``.
* The tutorial draws its initial weights from ``np.random.normal`` without a
  seed; here ``Network(seed=0)`` draws them uniformly from [-1, 1), so the
  numbers are reproducible (the tutorial's Emily ~0.95 and Frank ~0.04 depend
  on its random start; ours land close to them).
* The tutorial prints the loss every 10 epochs; we print it every 100 (10%).

Run:  python examples/seed000_neuron_and_network.py [--backend numpy|cython]
"""
import argparse
import time

import numpy as np

import cyneuron as cn
from cyneuron import reference

# The tutorial's data set: (weight - 135 lb, height - 66 in) -> 1 for female, 0 for male.
DATA = np.array([
    [-2.0, -1.0],   # Alice
    [25.0, 6.0],    # Bob
    [17.0, 4.0],    # Charlie
    [-15.0, -6.0],  # Diana
])
TARGETS = np.array([[1.0], [0.0], [0.0], [1.0]])
EMILY = np.array([-7.0, -3.0])
FRANK = np.array([20.0, 2.0])

LEARNING_RATE = 0.1
EPOCHS = 1000


def weight_bytes(net):
    """All weights and biases of a network as raw bytes, for exact comparison."""
    return b"".join(W.tobytes() + b.tobytes() for W, b in net.get_weights())


def train_per_sample(backend, seed, verbose):
    """The tutorial's training loop: for every epoch, one update per sample, in order.

    ``net.fit(DATA, TARGETS, batch_size=1, shuffle=False, ...)`` is the one-call
    version of this loop (it runs in the compiled core: see fit_per_sample);
    it is written out here with ``train_step`` because that is exactly the
    tutorial's algorithm.
    With loss="mse" and one output, the gradient of one sample's loss is
    2 * (y_pred - y_true), the tutorial's d_L_d_ypred = -2 * (y_true - y_pred).
    """
    net = cn.Network([2, 2, 1], activation="sigmoid", loss="mse", seed=seed,
                     backend=backend, init="uniform")
    if verbose:
        print(f"epoch {0:>4}/{EPOCHS}  loss {net.evaluate(DATA, TARGETS)['loss']:.6f}")
    start = time.perf_counter()
    for epoch in range(1, EPOCHS + 1):
        for x, y in zip(DATA, TARGETS):
            net.train_step(x, y, LEARNING_RATE)
        if verbose and epoch % (EPOCHS // 10) == 0:
            # the loss over the whole data set after this epoch, as in the tutorial
            print(f"epoch {epoch:>4}/{EPOCHS}  loss {net.evaluate(DATA, TARGETS)['loss']:.6f}")
    return net, time.perf_counter() - start


def fit_per_sample(backend, seed):
    """The same training in one call: fit(batch_size=1, shuffle=False).

    One update per sample, in the data's order, every epoch: the loop above,
    run inside the compiled core instead of from Python.
    """
    net = cn.Network([2, 2, 1], activation="sigmoid", loss="mse", seed=seed,
                     backend=backend, init="uniform")
    start = time.perf_counter()
    net.fit(DATA, TARGETS, epochs=EPOCHS, learning_rate=LEARNING_RATE,
            batch_size=1, shuffle=False)
    return net, time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("cython", "numpy"), default="cython",
                        help="which implementation runs the example (default: cython)")
    parser.add_argument("--seed", type=int, default=0, help="initial weights (default: 0)")
    args = parser.parse_args(argv)

    print("== 1. One neuron: weights [0, 1], bias 4, sigmoid ==")
    neuron = cn.Neuron(weights=[0, 1], bias=4, backend=args.backend)
    print(f"Neuron.feedforward([2, 3]) = {neuron.feedforward([2, 3])!r}")

    print("\n== 2. A 2-2-1 network, every neuron with weights [0, 1] and bias 0 ==")
    net = cn.Network([2, 2, 1], activation="sigmoid", backend=args.backend, init="uniform")
    # W has shape (n_in, n_out): column j holds the weights of neuron j,
    # so both hidden neurons' weights [0, 1] give W1 = [[0, 0], [1, 1]].
    W1 = np.array([[0.0, 0.0], [1.0, 1.0]])
    W2 = np.array([[0.0], [1.0]])
    net.set_weights([(W1, np.zeros(2)), (W2, np.zeros(1))])
    out = net.feedforward([2, 3])           # 1-D input -> shape (n_out,) = (1,)
    print(f"Network.feedforward([2, 3]) = {float(out[0])!r}")

    print("\n== 3. Mean squared error ==")
    y_true = np.array([1.0, 0.0, 0.0, 1.0])
    y_pred = np.zeros(4)
    print(f"mse(y_true=[1, 0, 0, 1], y_pred=[0, 0, 0, 0]) = "
          f"{float(reference.mse(y_pred, y_true))!r}")

    print(f"\n== 4. Training: 2-2-1 sigmoid, MSE, lr {LEARNING_RATE}, {EPOCHS} epochs, "
          f"one update per sample (backend={args.backend!r}) ==")
    net, seconds = train_per_sample(args.backend, args.seed, verbose=True)
    emily = float(net.feedforward(EMILY)[0])
    frank = float(net.feedforward(FRANK)[0])
    print(f"Emily (-7, -3): {emily:.3f} -> {'F' if emily > 0.5 else 'M'}"
          "   (the tutorial: ~0.951, F)")
    print(f"Frank (20, 2):  {frank:.3f} -> {'F' if frank > 0.5 else 'M'}"
          "   (the tutorial: ~0.039, M)")

    print("\n== 5. The same training on both backends, as a loop and as one fit() call ==")
    other = "numpy" if args.backend == "cython" else "cython"
    nets = {(args.backend, "loop"): net}
    times = {(args.backend, "loop"): seconds}
    nets[other, "loop"], times[other, "loop"] = train_per_sample(other, args.seed,
                                                                 verbose=False)
    for backend in ("cython", "numpy"):
        nets[backend, "fit"], times[backend, "fit"] = fit_per_sample(backend, args.seed)
    updates = EPOCHS * len(DATA)
    print(f"{'':<34}{'cython':>10}{'numpy':>10}   per update (cython / numpy)")
    for how, label in (("loop", "train_step(x_i, y_i) loop"),
                       ("fit", "fit(batch_size=1, shuffle=False)")):
        t_c, t_n = times["cython", how], times["numpy", how]
        print(f"{label:<34}{t_c:8.3f} s{t_n:8.3f} s   "
              f"{t_c / updates * 1e6:.2f} / {t_n / updates * 1e6:.2f} us")
    same = weight_bytes(net) == weight_bytes(nets[other, "loop"])
    print(f"final weights: backends agree bit for bit: {same}")
    same_fit = all(weight_bytes(nets[b, "fit"]) == weight_bytes(net) for b in ("cython", "numpy"))
    print(f"fit(batch_size=1, shuffle=False) gives the loop's bits: {same_fit}")
    same = same and same_fit
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
