"""
The same bits, every time
=========================

cyneuron's promise is exactness: the same seed gives the same bytes; the
compiled core gives the bits of the plain NumPy reference
(``backend="numpy"``); and the number of threads changes nothing. This
script checks all three on a digits classifier, and contrasts them with
NumPy's own ``X @ W``, whose BLAS sums in another order.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits

import cyneuron as cn

X, y = load_digits(return_X_y=True)
X = X / 16


def train(**options):
    net = cn.Network([64, 128, 10], activation="relu",
                     output_activation="softmax",
                     loss="categorical_crossentropy", seed=0, **options)
    history = net.fit(X, y, epochs=8, batch_size=32, optimizer="adam")
    return net, history


def differing_weights(a, b):
    """How many weights (of all layers) differ in any bit."""
    return sum(int(np.sum(Wa.view(np.uint64) != Wb.view(np.uint64)))
               + int(np.sum(ba.view(np.uint64) != bb.view(np.uint64)))
               for (Wa, ba), (Wb, bb) in zip(a.get_weights(), b.get_weights()))


runs = {"compiled, 1 thread": train(),
        "compiled again": train(),
        "NumPy reference": train(backend="numpy"),
        "compiled, 2 threads": train(n_threads=2)}
base = runs["compiled, 1 thread"][0]
for name, (net, _) in runs.items():
    print(f"{name:20s} digest {net.digest()[:16]}, weights differing "
          f"from the first run: {differing_weights(base, net)}")

# %%
# The contrast: the first layer's outputs through NumPy's ``X @ W + b``
# (BLAS, summing in blocks) against the fixed left-to-right order of
# :func:`cyneuron.reference.affine`, which both backends follow.
W, b = base.get_weights()[0]
fixed = cn.reference.affine(X, W, b)
blas = X @ W + b
n_blas = int(np.sum(fixed.view(np.uint64) != blas.view(np.uint64)))
print(f"X @ W + b differs from the fixed order in {n_blas} of {blas.size} "
      f"values (largest difference {np.max(np.abs(fixed - blas)):.1e})")

fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4),
                                  layout="constrained")
for style, (name, (_, history)) in zip(["-", "--", ":", "-."], runs.items()):
    left.plot(np.arange(1, 9), history["loss"], style, label=name, lw=2)
left.set_xlabel("epoch")
left.set_ylabel("training loss")
left.set_title("four trainings, one curve")
left.legend()
names = [n for n in runs if n != "compiled, 1 thread"] + ["X @ W + b, layer 1"]
counts = [differing_weights(base, runs[n][0]) for n in names[:-1]] + [n_blas]
right.barh(names, counts, color=["C0", "C0", "C0", "C7"])
for i, c in enumerate(counts):
    right.text(c, i, f" {c}", va="center")
right.set_xlabel("values differing in any bit from the first run")
right.set_title("bits compared")
plt.show()
