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
    """
    return _resolve("sgd")


def Momentum(momentum: float = 0.9, nesterov: bool = False) -> Optimizer:
    """Momentum whose velocity holds the learning rate (Keras).

    ``v = momentum * v - lr * g; p = p + v`` (Nesterov: ``p = p + momentum * v - lr * g``).

    Parameters
    ----------
    momentum : float, default=0.9
    nesterov : bool, default=False

    Returns
    -------
    Optimizer
    """
    return _resolve("momentum", momentum=momentum, nesterov=nesterov)


def RMSprop(rho: float = 0.9, epsilon: float = 1e-8) -> Optimizer:
    """RMSprop: ``s = rho * s + (1 - rho) * g**2; p = p - lr * g / (sqrt(s) + epsilon)``.

    Parameters
    ----------
    rho : float, default=0.9
    epsilon : float, default=1e-8

    Returns
    -------
    Optimizer
    """
    return _resolve("rmsprop", rho=rho, epsilon=epsilon)


def Adam(beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-8) -> Optimizer:
    """Adam with Keras' epsilon placement: the bias correction is folded into the step.

    ``p = p - lr * sqrt(1 - beta_2**t) / (1 - beta_1**t) * m / (sqrt(v) + epsilon)``

    Parameters
    ----------
    beta_1, beta_2 : float, default=0.9, 0.999
    epsilon : float, default=1e-8

    Returns
    -------
    Optimizer
    """
    return _resolve("adam", beta_1=beta_1, beta_2=beta_2, epsilon=epsilon)
