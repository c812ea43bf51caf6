"""Optimizer specifications for ``Network.fit(optimizer=...)``.

Each function returns an immutable spec (name + hyperparameters); the state
(moments, step count) belongs to the Network that trains with it.
"""
from __future__ import annotations

from ._registry import Optimizer
from ._registry import optimizer as _resolve


def SGD() -> Optimizer:
    """Plain gradient descent: p = p - lr * g."""
    return _resolve("sgd")


def Momentum(momentum: float = 0.9, nesterov: bool = False) -> Optimizer:
    """v = momentum * v - lr * g; p = p + v (Nesterov: p = p + momentum * v - lr * g)."""
    return _resolve("momentum", momentum=momentum, nesterov=nesterov)


def RMSprop(rho: float = 0.9, epsilon: float = 1e-8) -> Optimizer:
    """s = rho * s + (1 - rho) * g**2; p = p - lr * g / (sqrt(s) + epsilon)."""
    return _resolve("rmsprop", rho=rho, epsilon=epsilon)


def Adam(beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-8) -> Optimizer:
    """Adam with bias correction folded into the step size:
    p = p - lr * sqrt(1 - beta_2**t) / (1 - beta_1**t) * m / (sqrt(v) + epsilon)."""
    return _resolve("adam", beta_1=beta_1, beta_2=beta_2, epsilon=epsilon)
