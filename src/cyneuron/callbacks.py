"""Callbacks for ``Network.fit``, called once per epoch (Keras-style).

A callback is either a plain function ``f(epoch, logs)`` or an object with
any of ``on_train_begin(network)``, ``on_epoch_end(epoch, logs)`` and
``on_train_end(network)``. Returning True from ``on_epoch_end`` (or setting
``network.stop_training = True``) ends training after that epoch.

A callback that defines ``on_epoch_progress(epoch, fraction, logs)`` is also
told where a long epoch is, at most ten times a second (``fraction`` of epoch
``epoch`` done, ``logs`` holding the running ``loss``); the base class leaves
it out, so that training with callbacks that do not want it pays nothing.
"""
from __future__ import annotations

import math
import os
import re
import string
from collections.abc import Callable
from typing import Any

from . import _validation as v
from ._files import check_target, write_text


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
            The network that was trained.
        """

    def summary(self) -> str | None:
        """A line on what the callback did to the fit that just ended, or None.

        ``fit(verbose>=1)`` prints it after the last epoch (Keras'
        "Epoch 28: early stopping").

        Returns
        -------
        str or None
            None when there is nothing to say.
        """
        return None


def _mode_for(monitor: str, mode: str) -> str:
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode == "auto":
        return "max" if "acc" in monitor or monitor.endswith(("f1", "score")) else "min"
    return mode


class _Monitor(Callback):
    """What the callbacks that watch one logged value share: the name, the
    direction, the best value so far and the check that fit logs it."""

    def __init__(self, monitor: str, mode: str, min_delta: float = 0.0) -> None:
        if not isinstance(monitor, str):
            raise TypeError(f"monitor must be a metric name, got {monitor!r}")
        self.monitor = monitor
        self.mode = _mode_for(monitor, mode)
        self.min_delta = abs(v.check_real(min_delta, "min_delta"))

    def check_logs(self, keys: set[str]) -> None:
        """Refuse a fit whose logs lack the monitored value (before training).

        Parameters
        ----------
        keys : set of str
        """
        if self.monitor not in keys:
            raise ValueError(f"{type(self).__name__} monitors {self.monitor!r}, but the epoch "
                             f"logs of this fit only have {sorted(keys)}"
                             + (" (pass validation_data or validation_split)"
                                if self.monitor.startswith("val_") else ""))

    def on_train_begin(self, network: Any) -> None:
        """Forget the best value of an earlier fit.

        Parameters
        ----------
        network : Network
        """
        super().on_train_begin(network)
        self.best = math.inf if self.mode == "min" else -math.inf

    def _value(self, logs: dict[str, float]) -> float:
        if self.monitor not in logs:
            raise ValueError(f"{type(self).__name__} monitors {self.monitor!r}, but the epoch "
                             f"logs only have {sorted(logs)}")
        return float(logs[self.monitor])

    def _improved(self, value: float) -> bool:
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta


class EarlyStopping(_Monitor):
    """Stop when `monitor` has not improved by more than `min_delta` for `patience` epochs.

    Parameters
    ----------
    monitor : str, default="val_loss"
        A key of the epoch logs.
    patience : int, default=5
        Epochs without an improvement before training stops.
    min_delta : float, default=0.0
        The least change of `monitor` that counts as an improvement.
    restore_best_weights : bool, default=False
        End with the weights of the best epoch.
    mode : {"auto", "min", "max"}, default="auto"
        "min" for losses, "max" for accuracies and scores; "auto" picks from the name.
    """

    def __init__(self, monitor="val_loss", patience=5, min_delta=0.0,
                 restore_best_weights=False, mode="auto"):
        super().__init__(monitor, mode, min_delta)
        self.patience = v.check_positive_int(patience, "patience", minimum=0)
        self.restore_best_weights = bool(restore_best_weights)

    def on_train_begin(self, network: Any) -> None:
        """Reset the best value and the patience count.

        Parameters
        ----------
        network : Network
            The network about to be trained.
        """
        super().on_train_begin(network)
        self.best_epoch: int | None = None
        self.best_weights = None
        self.wait = 0
        self.stopped_epoch: int | None = None

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> bool | None:
        """Keep the best weights; stop after `patience` epochs without improvement.

        Parameters
        ----------
        epoch : int
            The epoch just finished, 0-based.
        logs : dict of str to float
            Its loss and metrics.

        Returns
        -------
        bool
            True when training should stop.
        """
        value = self._value(logs)
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
            The network that was trained.
        """
        self.restored_epoch: int | None = None
        if self.restore_best_weights and self.best_weights is not None:
            network.set_weights(self.best_weights)
            self.restored_epoch = self.best_epoch

    def summary(self) -> str | None:
        """"Epoch N: early stopping" and the epoch whose weights were restored, if it stopped.

        Returns
        -------
        str or None
            None when training did not stop early.
        """
        stopped = getattr(self, "stopped_epoch", None)
        if stopped is None:
            return None
        text = (f"Epoch {stopped + 1}: early stopping ({self.monitor} did not "
                f"improve for {self.patience} epoch{'' if self.patience == 1 else 's'})")
        restored = getattr(self, "restored_epoch", None)
        if restored is not None:
            text += (f"; restored the weights of epoch {restored + 1} "
                     f"({self.monitor} {self.best:.6g})")
        return text


class ModelCheckpoint(_Monitor):
    """Save the network after every epoch, or only when `monitor` improves.

    Each file is written by :func:`cyneuron.save`, atomically: an interrupted
    save leaves the previous checkpoint intact.

    Parameters
    ----------
    filepath : str
        Where to save; may hold ``{epoch}`` (1-based, as Keras numbers
        checkpoints) and any logged value, e.g. ``"ckpt-{epoch:03d}-{val_loss:.3f}.npz"``.
        A ``.safetensors`` suffix writes that format.
    monitor : str, default="val_loss"
        A key of the epoch logs, read when `save_best_only`.
    save_best_only : bool, default=False
        Save only when `monitor` improves on the best value so far (by more
        than `min_delta`).
    mode : {"auto", "min", "max"}, default="auto"
    min_delta : float, default=0.0
        The least change of `monitor` that counts as an improvement.
    verbose : int, default=0
        1 prints a line per save.

    Attributes
    ----------
    saved : list of str
        The paths written, in order.
    """

    def __init__(self, filepath: str, monitor: str = "val_loss", save_best_only: bool = False,
                 mode: str = "auto", min_delta: float = 0.0, verbose: int = 0) -> None:
        if not isinstance(filepath, str) or not filepath:
            raise TypeError(f"filepath must be a non-empty str, got {filepath!r}")
        super().__init__(monitor, mode, min_delta)
        self.filepath = filepath
        self.save_best_only = bool(save_best_only)
        self.verbose = verbose
        self.saved: list[str] = []

    def check_logs(self, keys: set[str]) -> None:
        """Refuse a fit that does not log `monitor` when it decides what is saved.

        Parameters
        ----------
        keys : set of str
            The names the epoch logs will have.
        """
        if self.save_best_only:
            super().check_logs(keys)
        try:
            fields = {name for _, name, _, _ in string.Formatter().parse(self.filepath)
                      if name is not None}
        except ValueError as exc:            # "{" without "}", ...
            raise ValueError(f"ModelCheckpoint filepath {self.filepath!r} is not a format "
                             f"string: {exc}") from None
        # "{val_loss:.3f}" names val_loss; "{}" or "{0}" names nothing the logs have
        missing = sorted({re.split(r"[.\[]", f, maxsplit=1)[0] for f in fields}
                         - set(keys) - {"epoch"})
        if missing:
            raise ValueError(f"ModelCheckpoint filepath {self.filepath!r} names what the epoch "
                             f"logs will not have ({', '.join(map(repr, missing))}); they have "
                             f"epoch and {sorted(keys)}")

    def on_train_begin(self, network: Any) -> None:
        """Check where the files go (a folder, a missing folder), before any epoch.

        Parameters
        ----------
        network : Network
            The network about to be trained.
        """
        super().on_train_begin(network)
        if "{" not in os.path.dirname(self.filepath):
            check_target(self.filepath)

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> bool | None:
        """Save the network if this epoch should be kept.

        Parameters
        ----------
        epoch : int
            The epoch just finished, 0-based.
        logs : dict of str to float
            Its loss and metrics.

        Returns
        -------
        None
            Never stops training.
        """
        if self.save_best_only:
            value = self._value(logs)
            if not self._improved(value):
                return None
            self.best = value
        try:
            path = self.filepath.format(epoch=epoch + 1, **logs)
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"ModelCheckpoint filepath {self.filepath!r} names what the epoch "
                             f"logs do not have ({exc}); they have epoch and "
                             f"{sorted(logs)}") from None
        written = self.network.save(path)     # the network's own surface: no import of io
        self.saved.append(str(written))
        if self.verbose:
            print(f"Epoch {epoch + 1}: saved {written}")
        return None


class ReduceLROnPlateau(_Monitor):
    """Lower the learning rate when `monitor` stops improving (Keras' callback).

    After `patience` epochs without an improvement by more than `min_delta`,
    the learning rate of the next epochs is multiplied by `factor` (through
    ``network.lr_multiplier``, on top of any schedule), never below `min_lr`
    (held against the fit's `learning_rate` times the multiplier), then waits
    `cooldown` epochs before counting again.

    Parameters
    ----------
    monitor : str, default="val_loss"
        A key of the epoch logs.
    factor : float, default=0.1
        In (0, 1).
    patience : int, default=10
        Epochs without an improvement before the rate is lowered.
    mode : {"auto", "min", "max"}, default="auto"
    min_delta : float, default=1e-4
        The least change of `monitor` that counts as an improvement.
    cooldown : int, default=0
        Epochs to wait after a reduction before counting again.
    min_lr : float, default=0.0
        The learning rate is never lowered below this.
    verbose : int, default=0
        1 prints a line when the rate is lowered.
    """

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10,
                 mode: str = "auto", min_delta: float = 1e-4, cooldown: int = 0,
                 min_lr: float = 0.0, verbose: int = 0) -> None:
        super().__init__(monitor, mode, min_delta)
        self.factor = v.check_real(factor, "factor", minimum=0.0, strict=True, maximum=1.0,
                                   max_strict=True)
        self.patience = v.check_positive_int(patience, "patience", minimum=0)
        self.cooldown = v.check_positive_int(cooldown, "cooldown", minimum=0)
        self.min_lr = v.check_real(min_lr, "min_lr", minimum=0.0)
        self.verbose = verbose

    def on_train_begin(self, network: Any) -> None:
        """Reset the counts (fit has reset ``lr_multiplier`` to 1).

        Parameters
        ----------
        network : Network
            The network about to be trained.
        """
        super().on_train_begin(network)
        self.wait = 0
        self.cooldown_left = 0
        self.reductions: list[int] = []

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> bool | None:
        """Count epochs without improvement; lower the rate after `patience`.

        Parameters
        ----------
        epoch : int
            The epoch just finished, 0-based.
        logs : dict of str to float
            Its loss and metrics.

        Returns
        -------
        None
            Never stops training.
        """
        value = self._value(logs)
        if self.cooldown_left > 0:
            self.cooldown_left -= 1
            self.wait = 0
        if self._improved(value):
            self.best, self.wait = value, 0
            return None
        if self.cooldown_left > 0:
            return None
        self.wait += 1
        if self.wait >= self.patience:
            base = getattr(self.network, "learning_rate", None)
            old = self.network.lr_multiplier
            new = old * self.factor
            if base is not None and self.min_lr > 0:
                new = max(new, self.min_lr / base)
            if new < old:
                self.network.lr_multiplier = new
                self.reductions.append(epoch)
                if self.verbose:
                    print(f"Epoch {epoch + 1}: ReduceLROnPlateau multiplies the learning rate "
                          f"by {new:g}")
            self.wait = 0
            self.cooldown_left = self.cooldown
        return None


class CSVLogger(Callback):
    """Write every epoch's logs to a CSV file (epoch, then the logged values).

    The whole file is rewritten atomically after each epoch (it is small), so
    it is complete at every moment, also after a crash.

    Parameters
    ----------
    filename : str
        The CSV file to write.
    separator : str, default=","
        One character between the fields.
    append : bool, default=False
        Keep the rows of an existing file (with the same columns) and add to them.
    """

    def __init__(self, filename: str, separator: str = ",", append: bool = False) -> None:
        if not isinstance(filename, str) or not filename:
            raise TypeError(f"filename must be a non-empty str, got {filename!r}")
        if not isinstance(separator, str) or len(separator) != 1:
            raise ValueError(f"separator must be one character, got {separator!r}")
        self.filename, self.separator, self.append = filename, separator, bool(append)

    def on_train_begin(self, network: Any) -> None:
        """Start the rows (those of an existing file when `append`).

        Parameters
        ----------
        network : Network
            The network about to be trained.
        """
        super().on_train_begin(network)
        check_target(self.filename)          # a folder or a missing one: before any epoch
        self.rows: list[str] = []
        self.keys: list[str] | None = None
        if self.append:
            try:
                with open(self.filename, encoding="utf-8") as f:
                    lines = f.read().splitlines()
            except FileNotFoundError:
                lines = []
            if lines:
                self.keys = lines[0].split(self.separator)[1:]
                self.rows = lines

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> bool | None:
        """Add this epoch's row and rewrite the file.

        Parameters
        ----------
        epoch : int
            The epoch just finished, 0-based.
        logs : dict of str to float
            Its loss and metrics.

        Returns
        -------
        None
            Never stops training.
        """
        if self.keys is None:
            self.keys = sorted(logs)
            self.rows = [self.separator.join(["epoch", *self.keys])]
        if set(logs) != set(self.keys):
            raise ValueError(f"CSVLogger: this epoch logs {sorted(logs)}, but {self.filename} "
                             f"has the columns {self.keys}")
        self.rows.append(self.separator.join([str(epoch)] + [repr(float(logs[k]))
                                                              for k in self.keys]))
        write_text(self.filename, "\n".join(self.rows) + "\n")
        return None


class LambdaCallback(Callback):
    """Functions as a callback: ``LambdaCallback(f)``, or Keras' keywords.

    Parameters
    ----------
    fn : callable, optional
        ``fn(epoch, logs)``, called after each epoch; a true result stops
        training. The same as `on_epoch_end`.
    on_epoch_end : callable, optional
        As `fn` (give one of the two).
    on_train_begin, on_train_end : callable, optional
        ``f(network)``, called once before the first epoch and once after
        training (also when it stopped early or failed).

    Raises
    ------
    TypeError
        A function that is not callable, `fn` with `on_epoch_end`, or no
        function at all.
    """

    def __init__(self, fn: Callable[[int, dict[str, float]], object] | None = None, *,
                 on_epoch_end: Callable[[int, dict[str, float]], object] | None = None,
                 on_train_begin: Callable[[Any], object] | None = None,
                 on_train_end: Callable[[Any], object] | None = None) -> None:
        if fn is not None and on_epoch_end is not None:
            raise TypeError("give fn or on_epoch_end, not both (they are the same hook)")
        epoch_fn = fn if fn is not None else on_epoch_end    # not `or`: a callable may be falsy
        hooks = {"fn" if fn is not None else "on_epoch_end": epoch_fn,
                 "on_train_begin": on_train_begin, "on_train_end": on_train_end}
        for name, f in hooks.items():
            if f is not None and not callable(f):
                raise TypeError(f"{name} must be callable, got {f!r}")
        if all(f is None for f in hooks.values()):
            raise TypeError("LambdaCallback needs a function: fn (or on_epoch_end), "
                            "on_train_begin or on_train_end")
        self.fn = epoch_fn
        self.begin_fn = on_train_begin
        self.end_fn = on_train_end

    def on_train_begin(self, network: Any) -> None:
        """Call `on_train_begin` with the network.

        Parameters
        ----------
        network : Network
        """
        super().on_train_begin(network)
        if self.begin_fn is not None:
            self.begin_fn(network)

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> bool | None:
        """Call the epoch function.

        Parameters
        ----------
        epoch : int
        logs : dict of str to float

        Returns
        -------
        bool
            Whether the function's result is true (stop).
        """
        return self.fn is not None and bool(self.fn(epoch, logs))

    def on_train_end(self, network: Any) -> None:
        """Call `on_train_end` with the network.

        Parameters
        ----------
        network : Network
        """
        if self.end_fn is not None:
            self.end_fn(network)


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
