"""
float32 or float64
==================

``dtype="float32"`` halves the memory of the weights, the data and the
optimizer's state, and the compiled core runs it faster; the price is
precision, about 7 significant digits instead of 16. On a classifier the
two train to curves that cannot be told apart. The estimators follow the
dtype of ``X`` as scikit-learn's MLP does: float32 data train and predict
in float32.
"""

import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

import cyneuron as cn

X, y = load_digits(return_X_y=True)
X = X / 16
results = {}
for dtype in ("float64", "float32"):
    net = cn.Network([64, 128, 10], activation="relu",
                     output_activation="softmax",
                     loss="categorical_crossentropy", seed=0, dtype=dtype)
    start = time.perf_counter()
    history = net.fit(X.astype(dtype), y, epochs=30, batch_size=32,
                      optimizer="adam", validation_split=0.2)
    seconds = time.perf_counter() - start
    results[dtype] = (net, history, seconds)
    print(f"{dtype}: {seconds * 1000:.0f} ms for 30 epochs, "
          f"val_accuracy {history['val_accuracy'][-1]:.4f}, "
          f"weights {sum(W.nbytes + b.nbytes for W, b in net.get_weights())}"
          " bytes")

# %%
# The two runs' probabilities on the same rows differ by float32's
# rounding, grown over 30 epochs of training:
p64 = results["float64"][0].feedforward(X)
p32 = results["float32"][0].feedforward(X.astype("float32"))
print("outputs:", p64.dtype, p32.dtype)
print(f"largest probability difference {np.max(np.abs(p64 - p32)):.2e}; "
      f"same predicted class on {np.mean(p64.argmax(1) == p32.argmax(1)):.1%}"
      " of the rows")

# %%
# The estimators keep float32 input in float32 (``dtype=None``):
clf = cn.MLPClassifier(hidden_layer_sizes=(32,), max_iter=50, random_state=0)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)     # 50 epochs
    clf.fit(X.astype("float32"), y)
print("predict_proba:", clf.predict_proba(X[:1].astype("float32")).dtype)

fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
for dtype, style in (("float64", "-"), ("float32", "--")):
    history = results[dtype][1]
    ax.plot(history["loss"], style, label=f"{dtype} training")
    ax.plot(history["val_loss"], style, label=f"{dtype} validation")
ax.set_yscale("log")
ax.set_xlabel("epoch")
ax.set_ylabel("loss")
ax.legend()
plt.show()
