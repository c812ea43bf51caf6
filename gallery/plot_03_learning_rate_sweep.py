"""
A learning-rate sweep
=====================

The learning rate is the first thing to tune. This sweep trains the same
network from the same initial weights (same ``seed``) with plain SGD and
with Adam at several rates, and plots the training loss per epoch: too
small learns slowly, too large oscillates or diverges. A step-decay
schedule (``lr_schedule``) starts large and ends small.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits

import cyneuron as cn

X, y = load_digits(return_X_y=True)
X = X / 16


def curve(optimizer, lr, schedule=None):
    net = cn.Network([64, 32, 10], activation="relu",
                     output_activation="softmax",
                     loss="categorical_crossentropy", seed=0)
    try:
        h = net.fit(X, y, epochs=30, batch_size=64, optimizer=optimizer,
                    learning_rate=lr, lr_schedule=schedule)
    except cn.DivergenceError:          # the weights ran away: no curve
        return None
    return h["loss"]


fig, axes = plt.subplots(1, 2, figsize=(11, 4), layout="constrained",
                         sharey=True)
for ax, optimizer, rates in [(axes[0], "sgd", [0.01, 0.1, 0.5, 2.0]),
                             (axes[1], "adam", [1e-4, 1e-3, 1e-2, 0.1])]:
    for lr in rates:
        loss = curve(optimizer, lr)
        if loss is None:
            ax.plot([], [], label=f"lr {lr:g}: diverged")
        else:
            ax.plot(np.arange(1, 31), loss, label=f"lr {lr:g}")
    ax.set_title(optimizer)
    ax.set_xlabel("epoch")
    ax.set_yscale("log")
    ax.grid(True, alpha=0.3)

step = cn.schedules.StepDecay(drop=0.3, every=10)
axes[1].plot(np.arange(1, 31), curve("adam", 0.03, step), "k--",
             label="0.03, x0.3 every 10 epochs")
axes[0].set_ylabel("training loss")
for ax in axes:
    ax.legend()
plt.show()
