"""Learning-rate schedules: the learning rate of each epoch (0-based).

Every schedule is evaluated in double precision in Python and the result is
converted to the network's dtype, identically for both backends.
"""
from __future__ import annotations

import math
from collections.abc import Callable

from . import _validation as v


class Schedule:
    """Base class of the schedules: ``schedule(epoch, lr0)`` gives an epoch's rate.

    Any function ``f(epoch, lr0) -> float`` works as ``lr_schedule`` too; a
    subclass only adds a readable ``repr`` (saved with the model).
    """

    def __call__(self, epoch: int, lr0: float) -> float:
        """The learning rate of `epoch` (0-based) for the initial rate `lr0`.

        Parameters
        ----------
        epoch : int
        lr0 : float

        Returns
        -------
        float
        """
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={val!r}" for k, val in vars(self).items())
        return f"{type(self).__name__}({args})"


class Constant(Schedule):
    """lr0 every epoch."""

    def __call__(self, epoch: int, lr0: float) -> float:
        return lr0


class StepDecay(Schedule):
    """``lr0 * drop ** floor(epoch / every)``.

    Parameters
    ----------
    drop : float, default=0.5
        Factor applied every `every` epochs, in (0, 1].
    every : int, default=10
        Epochs between two drops.
    """

    def __init__(self, drop: float = 0.5, every: int = 10) -> None:
        self.drop = v.check_real(drop, "drop", minimum=0.0, strict=True, maximum=1.0)
        self.every = v.check_positive_int(every, "every")

    def __call__(self, epoch: int, lr0: float) -> float:
        return lr0 * self.drop ** (epoch // self.every)


class ExponentialDecay(Schedule):
    """``lr0 * rate ** epoch``.

    Parameters
    ----------
    rate : float, default=0.96
        Factor per epoch, in (0, 1].
    """

    def __init__(self, rate: float = 0.96) -> None:
        self.rate = v.check_real(rate, "rate", minimum=0.0, strict=True, maximum=1.0)

    def __call__(self, epoch: int, lr0: float) -> float:
        return lr0 * self.rate ** epoch


class InverseScaling(Schedule):
    """``lr0 / (epoch + 1) ** power_t`` (scikit-learn's "invscaling", per epoch).

    Parameters
    ----------
    power_t : float, default=0.5
        The exponent, at least 0.
    """

    def __init__(self, power_t: float = 0.5) -> None:
        self.power_t = v.check_real(power_t, "power_t", minimum=0.0)

    def __call__(self, epoch: int, lr0: float) -> float:
        return lr0 / math.pow(epoch + 1, self.power_t)


_NAMED = {"constant": Constant, "step": StepDecay, "exponential": ExponentialDecay,
          "invscaling": InverseScaling}


def resolve(spec: object) -> Callable[[int, float], float]:
    """The schedule `spec` names.

    Parameters
    ----------
    spec : None, str, Schedule or callable
        None or "constant", "step", "exponential", "invscaling", a Schedule,
        or a function ``f(epoch, lr0) -> float``.

    Returns
    -------
    callable
        ``f(epoch, lr0) -> float``.

    Raises
    ------
    ValueError
        For an unknown name.
    TypeError
        For anything else that is not callable.
    """
    if spec is None:
        return Constant()
    if isinstance(spec, str):
        if spec not in _NAMED:
            raise ValueError(f"unknown lr_schedule {spec!r}; valid: {', '.join(_NAMED)}")
        return _NAMED[spec]()
    if callable(spec):
        return spec
    raise TypeError(f"lr_schedule must be a name, a Schedule or a function, got {spec!r}")
