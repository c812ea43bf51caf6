"""Optimizer specifications for ``Network.fit(optimizer=...)``.

Each function returns an immutable spec (name + hyperparameters); the state
(moments, step count) belongs to the Network that trains with it.
"""
from __future__ import annotations

from ._registry import Optimizer
from ._registry import optimizer as _resolve


def SGD() -> Optimizer:
    """Plain gradient descent: p = p - lr * g.

    Returns
    -------
    Optimizer
        The optimizer's spec, for ``fit(optimizer=...)``.
    """
    return _resolve("sgd")


def Momentum(momentum: float = 0.9, nesterov: bool = False) -> Optimizer:
    """Momentum whose velocity holds the learning rate (Keras).

    ``v = momentum * v - lr * g; p = p + v`` (Nesterov: ``p = p + momentum * v - lr * g``).

    Parameters
    ----------
    momentum : float, default=0.9
        The velocity's decay factor.
    nesterov : bool, default=False
        Nesterov's look-ahead step.

    Returns
    -------
    Optimizer
        The optimizer's spec, for ``fit(optimizer=...)``.
    """
    return _resolve("momentum", momentum=momentum, nesterov=nesterov)


def RMSprop(rho: float = 0.9, epsilon: float = 1e-8) -> Optimizer:
    """RMSprop: ``s = rho * s + (1 - rho) * g**2; p = p - lr * g / (sqrt(s) + epsilon)``.

    Parameters
    ----------
    rho : float, default=0.9
        Decay of the average of the squared gradients.
    epsilon : float, default=1e-8
        Added to the root mean square.

    Returns
    -------
    Optimizer
        The optimizer's spec, for ``fit(optimizer=...)``.
    """
    return _resolve("rmsprop", rho=rho, epsilon=epsilon)


def Adam(beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-8) -> Optimizer:
    """Adam with Keras' epsilon placement: the bias correction is folded into the step.

    ``p = p - lr * sqrt(1 - beta_2**t) / (1 - beta_1**t) * m / (sqrt(v) + epsilon)``

    Parameters
    ----------
    beta_1, beta_2 : float, default=0.9, 0.999
        Decay of the first and second moment estimates.
    epsilon : float, default=1e-8
        Added to ``sqrt(v)``.

    Returns
    -------
    Optimizer
        The optimizer's spec, for ``fit(optimizer=...)``.
    """
    return _resolve("adam", beta_1=beta_1, beta_2=beta_2, epsilon=epsilon)


def AdamW(beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-8,
          weight_decay: float = 0.01) -> Optimizer:
    """Adam with decoupled weight decay, as ``torch.optim.AdamW``.

    Before each of Adam's steps (above) the weights, not the biases, shrink:
    ``W = W * (1 - lr * weight_decay)``, the factor computed in double
    precision and rounded to the weights' dtype. Unlike the ``l2`` penalty,
    the decay never enters the gradient, so Adam's moments do not see it.

    Parameters
    ----------
    beta_1, beta_2 : float, default=0.9, 0.999
        Decay of the first and second moment estimates.
    epsilon : float, default=1e-8
        Added to ``sqrt(v)`` as in `Adam` (Keras' placement; PyTorch adds it
        after the bias correction, a difference that vanishes with a small
        epsilon).
    weight_decay : float, default=0.01
        At least 0 (0 gives Adam's bits).

    Returns
    -------
    Optimizer
        The optimizer's spec, for ``fit(optimizer=...)``.
    """
    return _resolve("adamw", beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
                    weight_decay=weight_decay)
