"""The pure-NumPy reference implementation: cyneuron's executable spec.

This is the tutorials' algorithm (a feed-forward net, sigmoid and friends,
squared-error losses, backpropagation, gradient descent), written so that
every floating-point operation happens in one documented order:

* an affine map ``z[i, j] = (((0 + x[i,0]*W[0,j]) + x[i,1]*W[1,j]) + ...) + b[j]``;
  products are spelled out instead of ``X @ W`` because BLAS sums in an order
  that depends on the machine and the thread count;
* sums over the batch (weight and bias gradients) run in sample order;
* every other sum runs left to right over C order, starting at +0.0;
* every constant has the array's dtype, so float32 stays float32.

``backend="numpy"`` runs this module; the compiled core performs the same
operations in the same order and must agree with it bit for bit.

Weights are a list of ``(W, b)`` pairs, ``W`` of shape ``(n_in, n_out)``.
"""
from __future__ import annotations

import numpy as np

__all__ = [
    "seqsum", "row_sums", "sample_sum", "affine", "backprop_product", "weight_gradient",
    "sigmoid", "sigmoid_derivative", "tanh", "tanh_derivative", "relu", "relu_derivative",
    "leaky_relu", "leaky_relu_derivative", "identity", "identity_derivative",
    "softmax", "softmax_backward", "mse", "mse_gradient", "sse", "sse_gradient",
    "forward", "feedforward", "gradients", "sgd_step", "train_step", "fit",
]


def _c(x, value):
    """The constant `value` in the dtype of array x."""
    return x.dtype.type(value)


# --- sums in a fixed order ---------------------------------------------------

def seqsum(x):
    """Sum of all elements of x in C order, left to right, starting at +0.0.

    ``np.sum`` is pairwise; ``np.add.accumulate`` is sequential by definition.
    """
    flat = np.concatenate((np.zeros(1, dtype=x.dtype), np.ravel(x)))
    return np.add.accumulate(flat)[-1]


def row_sums(x):
    """Sum of each row of a 2-D array, left to right from +0.0; shape (n, 1)."""
    s = np.zeros((x.shape[0], 1), dtype=x.dtype)
    for j in range(x.shape[1]):
        s = s + x[:, j:j + 1]
    return s


def sample_sum(d):
    """Sum over the rows (samples) of a 2-D array, in sample order from +0.0."""
    s = np.zeros(d.shape[1], dtype=d.dtype)
    for row in d:
        s = s + row
    return s


# --- the three products of a layer --------------------------------------------

def affine(x, W, b):
    """z = x @ W + b, summed over the inputs k from left to right."""
    z = np.zeros((x.shape[0], W.shape[1]), dtype=W.dtype)
    for k in range(W.shape[0]):
        z = z + x[:, k:k + 1] * W[k]
    return z + b


def backprop_product(delta, W):
    """delta @ W.T (the error sent to the previous layer), summed over outputs in order."""
    g = np.zeros((delta.shape[0], W.shape[0]), dtype=W.dtype)
    for j in range(W.shape[1]):
        g = g + delta[:, j:j + 1] * W[:, j]
    return g


def weight_gradient(a_prev, delta):
    """(a_prev.T @ delta, delta summed over samples), both in sample order."""
    dW = np.zeros((a_prev.shape[1], delta.shape[1]), dtype=delta.dtype)
    for a_row, d_row in zip(a_prev, delta):
        dW = dW + np.outer(a_row, d_row)
    return dW, sample_sum(delta)


# --- activations: f(z), and f'(z) expressed through a = f(z) ------------------

def sigmoid(z):
    """1 / (1 + exp(-z)), with NumPy's exp."""
    one = _c(z, 1)
    return one / (one + np.exp(-z))


def sigmoid_derivative(a):
    """sigmoid'(z) = a * (1 - a). (The tutorials' ``x * (x - 1)`` has the wrong sign.)"""
    return a * (_c(a, 1) - a)


def tanh(z):
    return np.tanh(z)


def tanh_derivative(a):
    return _c(a, 1) - a * a


def relu(z):
    """max(z, 0): NaN stays NaN and -0.0 becomes +0.0 (argument order matters)."""
    return np.maximum(z, _c(z, 0))


def relu_derivative(a):
    return (a > 0).astype(a.dtype)


def leaky_relu(z, alpha=0.01):
    return np.where(z > 0, z, _c(z, alpha) * z)


def leaky_relu_derivative(a, alpha=0.01):
    return np.where(a > 0, _c(a, 1), _c(a, alpha))


def identity(z):
    return z


def identity_derivative(a):
    return np.ones_like(a)


def softmax(z):
    """Row-wise softmax, stabilised by subtracting the row maximum."""
    e = np.exp(z - np.max(z, axis=1, keepdims=True))
    return e / row_sums(e)


def softmax_backward(a, g):
    """dL/dz from dL/da for a softmax layer: a * (g - sum_k g_k a_k), per row."""
    return a * (g - row_sums(g * a))


# --- losses: value and dL/da ----------------------------------------------------

def mse(a, y):
    """Mean of the squared errors over all elements."""
    e = a - y
    return seqsum(e * e) / _c(a, a.size)


def mse_gradient(a, y):
    return (_c(a, 2) * (a - y)) / _c(a, a.size)


def sse(a, y):
    """Half the sum of squared errors: its gradient is the raw error a - y."""
    e = a - y
    return _c(a, 0.5) * seqsum(e * e)


def sse_gradient(a, y):
    return a - y


# --- the network ------------------------------------------------------------------
# `activations` is a list of registry entries (cyneuron._registry.Activation),
# one per layer; `loss` a registry entry (cyneuron._registry.Loss).

def forward(weights, activations, x):
    """Outputs of every layer for the batch x: [x, a_1, ..., a_L]."""
    outs = [x]
    for (W, b), act in zip(weights, activations):
        outs.append(act.forward(affine(outs[-1], W, b)))
    return outs


def feedforward(weights, activations, x):
    """The network's output for the batch x."""
    return forward(weights, activations, x)[-1]


def gradients(weights, activations, loss, x, y):
    """(loss value, [(dW, db), ...]) for the batch (x, y), by backpropagation."""
    outs = forward(weights, activations, x)
    a = outs[-1]
    value = loss.value(a, y)
    g = loss.gradient(a, y)                       # dL/da of the output layer
    grads = [None] * len(weights)
    for l in range(len(weights) - 1, -1, -1):
        delta = activations[l].backward(outs[l + 1], g)   # dL/dz of layer l
        grads[l] = weight_gradient(outs[l], delta)
        if l > 0:
            g = backprop_product(delta, weights[l][0])
    return value, grads


def sgd_step(weights, grads, learning_rate):
    """Plain gradient descent: W = W - lr * dW (lr in the weights' dtype)."""
    new = []
    for (W, b), (dW, db) in zip(weights, grads):
        lr = W.dtype.type(learning_rate)
        new.append((W - lr * dW, b - lr * db))
    return new


def train_step(weights, activations, loss, x, y, learning_rate):
    """One gradient-descent step on the batch; returns (new weights, loss before it)."""
    value, grads = gradients(weights, activations, loss, x, y)
    return sgd_step(weights, grads, learning_rate), value


def fit(weights, activations, loss, x, y, epochs, learning_rate):
    """Full-batch gradient descent; returns (weights, [loss of each epoch])."""
    losses = []
    for _ in range(epochs):
        weights, value = train_step(weights, activations, loss, x, y, learning_rate)
        losses.append(value)
    return weights, losses
