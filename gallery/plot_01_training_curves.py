"""
Training curves
===============

``fit`` returns a :class:`~cyneuron.History` holding the loss and the
accuracy of every epoch, on the training rows and, with
``validation_split``, on held-out rows. ``History.plot`` draws them: here a
64-32-10 ReLU network learning scikit-learn's 8x8 digits with Adam.
"""

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits

import cyneuron as cn

X, y = load_digits(return_X_y=True)
X = X / 16                                  # pixel values 0-16 -> 0-1
net = cn.Network([64, 32, 10], activation="relu", output_activation="softmax",
                 loss="categorical_crossentropy", seed=0)
history = net.fit(X, y, epochs=40, batch_size=32, optimizer="adam",
                  learning_rate=1e-3, validation_split=0.2)

# %%
# The last epoch's numbers, then the curves: training solid, validation
# dashed. The validation rows are the *last* 20% of the data, as in Keras.
print("  ".join(f"{k} {v[-1]:.4f}" for k, v in history.history.items()))
plt.figure(history.plot())
plt.show()
