"""Handwritten digits (scikit-learn's bundled load_digits) with a 64-64-10 MLP.

Standardised inputs, 75/25 split, ReLU hidden layer, softmax + categorical
cross-entropy, Adam 1e-3, batch 32, 50 epochs: the setup of workload W3 in benchmarks/README.md.
scikit-learn is needed for the data set only (``pip install scikit-learn``).

    python examples/digits.py [--backend cython|numpy|both] [--dtype float32]
"""
import argparse
import time

import cyneuron as cn


def load(seed=0):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=seed,
                                              stratify=y)
    mean, std = X_tr.mean(axis=0), X_tr.std(axis=0)
    std[std == 0] = 1.0                   # constant pixels (always 0) stay 0
    return (X_tr - mean) / std, y_tr, (X_te - mean) / std, y_te


def train(backend, dtype, data, epochs=50, seed=0, verbose=0):
    X_tr, y_tr, X_te, y_te = data
    net = cn.Network([64, 64, 10], activation="relu", output_activation="softmax",
                     loss="categorical_crossentropy", init="xavier", seed=seed, dtype=dtype,
                     backend=backend)
    start = time.perf_counter()
    hist = net.fit(X_tr, y_tr, epochs=epochs, learning_rate=1e-3, batch_size=32,
                   optimizer="adam", verbose=verbose)
    elapsed = time.perf_counter() - start
    return net, hist, elapsed, net.evaluate(X_te, y_te)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", choices=["cython", "numpy", "both"], default="both")
    ap.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    ap.add_argument("--epochs", type=int, default=50)
    args = ap.parse_args()
    data = load()
    print(f"digits: {len(data[0])} training and {len(data[2])} test images, 64 pixels, "
          f"10 classes")
    backends = ["cython", "numpy"] if args.backend == "both" else [args.backend]
    nets = {}
    for backend in backends:
        net, hist, elapsed, ev = train(backend, args.dtype, data, args.epochs,
                                       verbose=int(backend == backends[0]))
        nets[backend] = net
        print(f"{backend:>6}: {args.epochs} epochs in {elapsed * 1000:.0f} ms, final training "
              f"loss {hist['loss'][-1]:.4f}, test accuracy {ev['accuracy']:.4f}, "
              f"macro F1 {ev['f1']:.4f}")
    if len(nets) == 2:
        same = all(a.tobytes() == b.tobytes()
                   for (Wa, ba), (Wb, bb) in zip(nets["cython"].get_weights(),
                                                 nets["numpy"].get_weights())
                   for a, b in ((Wa, Wb), (ba, bb)))
        print(f"backends agree bit for bit: {same}")
    print("confusion matrix (rows: true digit, columns: predicted):")
    print(ev["confusion_matrix"])


if __name__ == "__main__":
    main()
