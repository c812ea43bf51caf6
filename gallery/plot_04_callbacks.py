"""
Early stopping and learning-rate reductions
===========================================

Two of Keras' callbacks at work on one fit.
:class:`~cyneuron.ReduceLROnPlateau` halves the learning rate whenever the
validation loss has not improved for three epochs;
:class:`~cyneuron.EarlyStopping` ends the run once it has not improved for
eight, and puts back the weights of the best epoch. A plain function
records the learning rate each epoch used.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits

import cyneuron as cn

X, y = load_digits(return_X_y=True)
X = X / 16
rng = np.random.default_rng(0)
order = rng.permutation(len(X))                 # validation_split takes the
X, y = X[order], y[order]                       # last rows: shuffle first

net = cn.Network([64, 64, 10], activation="relu", output_activation="softmax",
                 loss="categorical_crossentropy", seed=0)
rates = []


def record_rate(epoch, logs):
    # called before ReduceLROnPlateau (callbacks run in list order): the
    # rate this epoch trained with
    rates.append(net.learning_rate * net.lr_multiplier)


reduce = cn.ReduceLROnPlateau(factor=0.5, patience=3, verbose=1)
stop = cn.EarlyStopping(patience=8, restore_best_weights=True)
history = net.fit(X, y, epochs=200, batch_size=32, optimizer="adam",
                  learning_rate=0.01, validation_split=0.25,
                  callbacks=[record_rate, reduce, stop], verbose=1)

# %%
# The validation loss, the epochs where the rate was lowered, and the one
# whose weights the network kept:
epochs = np.arange(1, len(history) + 1)
fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6), sharex=True,
                                  layout="constrained")
top.plot(epochs, history["loss"], label="training loss")
top.plot(epochs, history["val_loss"], label="validation loss")
top.axvline(stop.best_epoch + 1, color="k", ls=":",
            label=f"best epoch ({stop.best_epoch + 1}), restored")
top.set_yscale("log")
top.legend()
bottom.step(epochs, rates, where="post")
for e in reduce.reductions:
    bottom.axvline(e + 1, color="C3", alpha=0.3)
bottom.set_yscale("log")
bottom.set_ylabel("learning rate")
bottom.set_xlabel("epoch")
plt.show()
