"""History: what ``Network.fit`` returns (re-exported as ``cyneuron.History``)."""
from __future__ import annotations

import os
from collections.abc import ItemsView, Iterator, KeysView
from typing import TYPE_CHECKING, Any

from numpy.typing import NDArray

from . import _plot

if TYPE_CHECKING:
    from matplotlib.figure import Figure


class History:
    """What ``fit`` returns: per-epoch values, like Keras' History.

    ``history["loss"]`` (or ``history.history["loss"]``) is the training loss
    of each epoch (the batch losses weighted by batch size; the loss before
    the update for full-batch training); classifiers also get "accuracy";
    with validation data, "val_loss" (and "val_accuracy"). Every value is a
    Python float.

    It reads like a dict of per-epoch lists (``"val_loss" in history``,
    ``keys()``, ``items()``, iteration over the names); ``len(history)`` is
    the number of epochs.
    """

    def __init__(self) -> None:
        self._history: dict[str, list[float]] = {"loss": []}
        self._epoch: list[int] = []
        # Epochs trained in bulk stay NumPy arrays until someone looks: turning
        # 60000 losses into Python floats costs more than training a tiny net.
        self._pending: list[tuple[dict[str, NDArray[Any]], int, int]] = []

    def add_epochs(self, arrays: dict[str, NDArray[Any]], first: int, count: int) -> None:
        """Record `count` epochs from `first` on, one array of values per key.

        ``fit`` records the epochs it trains in bulk this way; the values
        become Python floats only when someone reads them.

        Parameters
        ----------
        arrays : dict of str to numpy.ndarray
            One value per epoch for each key (keys already in :attr:`history`).
        first : int
            The index of the first epoch.
        count : int
            The number of epochs.
        """
        self._pending.append((arrays, first, count))

    def _flush(self):
        for arrays, first, count in self._pending:
            for key, values in arrays.items():
                self._history[key].extend(values.tolist())
            self._epoch.extend(range(first, first + count))
        self._pending.clear()

    @property
    def history(self) -> dict[str, list[float]]:
        """{name: list of per-epoch values}."""
        self._flush()
        return self._history

    @property
    def epoch(self) -> list[int]:
        """The epoch indices trained, from 0."""
        self._flush()
        return self._epoch

    def __getitem__(self, key: str) -> list[float]:
        return self.history[key]

    def __contains__(self, key: object) -> bool:
        return key in self.history

    def __iter__(self) -> Iterator[str]:
        """The names, as iterating :attr:`history` gives them."""
        return iter(self.history)

    def keys(self) -> KeysView[str]:
        """The names of the values recorded.

        Returns
        -------
        dict_keys
            ``"loss"``, then ``"accuracy"``, ``"val_loss"``, ... as recorded.
        """
        return self.history.keys()

    def items(self) -> ItemsView[str, list[float]]:
        """The names with their per-epoch values.

        Returns
        -------
        dict_items
            (name, list of float) pairs.
        """
        return self.history.items()

    def __len__(self) -> int:
        """The number of epochs trained (not of names)."""
        return len(self.epoch)

    def plot(self, path: str | os.PathLike[str] | None = None) -> Figure:
        """Plot loss and metrics per epoch (needs ``cyneuron[plot]``).

        Parameters
        ----------
        path : str or os.PathLike, optional
            Also write the figure there (e.g. ``"loss.png"``).

        Returns
        -------
        matplotlib.figure.Figure
            One panel per quantity, the validation curve dashed; not registered with
            pyplot.
        """
        return _plot.plot_history(self, path)

    def __repr__(self) -> str:
        last = {k: (vals[-1] if vals else None) for k, vals in self.history.items()}
        return f"History(epochs={len(self.epoch)}, last={last})"
