"""
Decision boundaries
===================

A network with one hidden layer learns scikit-learn's two interleaved
half-moons. A linear model cannot bend its boundary; a few tanh or ReLU
units can. The grid below colours the plane by each network's probability
of class 1; :func:`cyneuron.plot_decision_boundary` draws one model's
regions in a single call.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_moons

import cyneuron as cn

X, y = make_moons(n_samples=300, noise=0.2, random_state=0)
X = (X - X.mean(axis=0)) / X.std(axis=0)
xx, yy = np.meshgrid(np.linspace(-2.5, 2.5, 200), np.linspace(-2.5, 2.5, 200))
grid = np.column_stack([xx.ravel(), yy.ravel()])

fig, axes = plt.subplots(1, 4, figsize=(14, 3.6), layout="constrained")
for ax, (act, width) in zip(axes, [("identity", 8), ("tanh", 3),
                                   ("tanh", 16), ("relu", 16)]):
    net = cn.Network([2, width, 1], activation=act,
                     output_activation="sigmoid",
                     loss="binary_crossentropy", seed=0)
    net.fit(X, y, epochs=300, batch_size=32, optimizer="adam",
            learning_rate=0.01)
    accuracy = np.mean((net.feedforward(X)[:, 0] > 0.5) == y)
    p = net.feedforward(grid)[:, 0].reshape(xx.shape)
    ax.contourf(xx, yy, p, levels=np.linspace(0, 1, 11), cmap="RdBu_r",
                alpha=0.7)
    ax.contour(xx, yy, p, levels=[0.5], colors="k", linewidths=1)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu_r", edgecolors="k", s=15)
    ax.set_title(f"{width} {act} units: accuracy {accuracy:.2f}")
    ax.set_xticks([])
    ax.set_yticks([])
plt.show()

# %%
# The last network's regions as ``plot_decision_boundary`` draws them (pass
# ``path="moons.png"`` to write the figure to a file as well). It takes a
# ``Network`` or a fitted estimator with two inputs.
plt.figure(cn.plot_decision_boundary(net, X, y))
plt.show()
