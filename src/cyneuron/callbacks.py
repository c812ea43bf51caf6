"""Callbacks for ``Network.fit``, called once per epoch (Keras-style).

A callback is either a plain function ``f(epoch, logs)`` or an object with
any of ``on_train_begin(network)``, ``on_epoch_end(epoch, logs)`` and
``on_train_end(network)``. Returning True from ``on_epoch_end`` (or setting
``network.stop_training = True``) ends training after that epoch.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from . import _validation as v


class Callback:
    """Base class: override the hooks you need."""

    def check_logs(self, keys: set[str]) -> None:
        """Called by fit before training with the names the epoch logs will have.

        Parameters
        ----------
        keys : set of str
            E.g. ``{"loss", "accuracy", "val_loss", "val_accuracy"}``.

        Raises
        ------
        ValueError
            If the callback cannot work with these logs.
        """

    def on_train_begin(self, network: Any) -> None:
        """Called once before the first epoch.

        Parameters
        ----------
        network : Network
            The network being trained.
        """
        self.network = network

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> bool | None:
        """Called after each epoch.

        Parameters
        ----------
        epoch : int
            The epoch just finished, 0-based.
        logs : dict of str to float
            Its loss and metrics (``loss``, ``accuracy``, ``val_loss``, ...).

        Returns
        -------
        bool or None
            True stops training after this epoch.
        """
        return False

    def on_train_end(self, network: Any) -> None:
        """Called once after training, also when it stopped early or failed.

        Parameters
        ----------
        network : Network
        """


class EarlyStopping(Callback):
    """Stop when `monitor` has not improved by more than `min_delta` for `patience` epochs.

    Parameters
    ----------
    monitor : str, default="val_loss"
        A key of the epoch logs.
    patience : int, default=5
    min_delta : float, default=0.0
    restore_best_weights : bool, default=False
        End with the weights of the best epoch.
    mode : {"auto", "min", "max"}, default="auto"
        "min" for losses, "max" for accuracies; "auto" picks from the name.
    """

    def __init__(self, monitor="val_loss", patience=5, min_delta=0.0,
                 restore_best_weights=False, mode="auto"):
        if not isinstance(monitor, str):
            raise TypeError(f"monitor must be a metric name, got {monitor!r}")
        self.monitor = monitor
        self.patience = v.check_positive_int(patience, "patience", minimum=0)
        self.min_delta = abs(v.check_real(min_delta, "min_delta"))
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
        if mode == "auto":
            mode = "max" if "acc" in monitor or monitor.endswith("f1") else "min"
        self.mode = mode
        self.restore_best_weights = bool(restore_best_weights)

    def check_logs(self, keys: set[str]) -> None:
        """Refuse a fit whose logs lack the monitored quantity (before training).

        Parameters
        ----------
        keys : set of str
        """
        if self.monitor not in keys:
            raise ValueError(f"EarlyStopping monitors {self.monitor!r}, but the epoch logs of "
                             f"this fit only have {sorted(keys)}"
                             + (" (pass validation_data or validation_split)"
                                if self.monitor.startswith("val_") else ""))

    def on_train_begin(self, network: Any) -> None:
        """Reset the best value and the patience count.

        Parameters
        ----------
        network : Network
        """
        super().on_train_begin(network)
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch: int | None = None
        self.best_weights = None
        self.wait = 0
        self.stopped_epoch: int | None = None

    def _improved(self, value):
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> bool | None:
        """Keep the best weights; stop after `patience` epochs without improvement.

        Parameters
        ----------
        epoch : int
        logs : dict of str to float

        Returns
        -------
        bool
            True when training should stop.
        """
        if self.monitor not in logs:
            raise ValueError(f"EarlyStopping monitors {self.monitor!r}, but the epoch logs "
                             f"only have {sorted(logs)}")
        value = logs[self.monitor]
        if self._improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = self.network.get_weights()
            return False
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            return True
        return False

    def on_train_end(self, network: Any) -> None:
        """Put the best weights back when ``restore_best_weights``.

        Parameters
        ----------
        network : Network
        """
        if self.restore_best_weights and self.best_weights is not None:
            network.set_weights(self.best_weights)


class LambdaCallback(Callback):
    """Wrap a function ``f(epoch, logs) -> bool | None`` as a callback.

    Parameters
    ----------
    fn : callable
        Called after each epoch; a true result stops training.
    """

    def __init__(self, fn: Callable[[int, dict[str, float]], object]) -> None:
        if not callable(fn):
            raise TypeError(f"callback must be callable, got {fn!r}")
        self.fn = fn

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> bool | None:
        """Call the function.

        Parameters
        ----------
        epoch : int
        logs : dict of str to float

        Returns
        -------
        bool
            Whether the function's result is true (stop).
        """
        return bool(self.fn(epoch, logs))


def as_callbacks(callbacks: object) -> list:
    """Callback objects from what fit's `callbacks` accepts.

    Parameters
    ----------
    callbacks : None, Callback, callable, or a list or tuple of them

    Returns
    -------
    list of Callback
        Plain functions wrapped in LambdaCallback.
    """
    if callbacks is None:
        return []
    if not isinstance(callbacks, (list, tuple)):
        callbacks = [callbacks]
    out = []
    for cb in callbacks:
        if isinstance(cb, Callback) or hasattr(cb, "on_epoch_end"):
            out.append(cb)
        elif callable(cb):
            out.append(LambdaCallback(cb))
        else:
            raise TypeError(f"callbacks must be functions or Callback objects, got {cb!r}")
    return out
