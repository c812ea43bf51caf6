"""Progress reports of a training run (``Network.fit(verbose=...)`` and the CLI).

- ``verbose=0``: nothing.
- ``verbose=1``: on a terminal, a tqdm bar updating in place (epoch, loss and
  metrics, elapsed and remaining time) when tqdm is installed
  (``pip install 'cyneuron[progress]'``); otherwise (logs, CI, no tqdm) one line
  per tenth of the run.
- ``verbose=2``: one line per epoch, always.

Within an epoch, training reports where it is through a hook (see
:func:`batch_hook`): a bar moves within long epochs, with the running loss;
lines mode adds a line when an epoch has run for half a minute since the last.

Reporting only reads the logs: the bits of a run never depend on verbosity.
"""
from __future__ import annotations

import sys
import time
from typing import Any


def check_verbose(verbose):
    """verbose as 0, 1 or 2; anything else is a ValueError/TypeError naming it."""
    if isinstance(verbose, bool):
        return int(verbose)
    try:
        import numbers
        if not isinstance(verbose, numbers.Integral):
            raise TypeError
    except TypeError:
        raise TypeError(f"verbose must be 0, 1 or 2, got {type(verbose).__name__}") from None
    if verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 0, 1 or 2, got {verbose}")
    return int(verbose)


def _isatty(stream):
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _seconds(s):
    if s < 60:
        return f"{s:.2f} s"
    m, s = divmod(int(round(s)), 60)
    return f"{m // 60}:{m % 60:02d}:{s:02d}" if m >= 60 else f"{m}:{s:02d}"


class Progress:
    """Reports epochs ``1 .. total`` of a run to `stream` (default: ``sys.stdout``).

    Parameters
    ----------
    total : int
        Epochs in the run.
    verbose : {0, 1, 2}, default=1
    stream : file-like, optional
    """

    def __init__(self, total: int, verbose: int = 1, stream=None) -> None:
        self.total = int(total)
        self.verbose = check_verbose(verbose)
        self.stream = sys.stdout if stream is None else stream
        self.start = time.perf_counter()
        self.every = max(1, -(-self.total // 10))      # at most ten lines
        self._bar: Any = None          # a tqdm bar (an optional extra) in mode "bar"
        self._last = 0
        self._line_time = self.start   # when the last line was printed
        if self.verbose == 0:
            self.mode = "off"
        elif self.verbose == 2:
            self.mode = "every"
        elif _isatty(self.stream) and self._make_bar():
            self.mode = "bar"
        else:
            self.mode = "lines"

    def _make_bar(self):
        try:
            from tqdm.auto import tqdm
        except ImportError:
            return False
        # n is fractional within long epochs: shown with 4 digits, not as a float's repr
        self._bar = tqdm(total=self.total, unit="epoch", file=self.stream, dynamic_ncols=True,
                         leave=True, desc="epoch",
                         bar_format="{l_bar}{bar}| {n:.4g}/{total_fmt} "
                                    "[{elapsed}<{remaining}{postfix}]")
        return True

    @property
    def chunk(self) -> int:
        """How many epochs may run between two calls of :meth:`update`."""
        return {"off": self.total, "lines": self.every, "every": 1,
                "bar": max(1, self.total // 200)}[self.mode]

    def shows(self, done: int) -> bool:
        """Whether :meth:`update` for epoch `done` (1-based) will show its logs, so
        that logs that cost something (validation metrics) are computed only then."""
        if self.mode == "off":
            return False
        return (self.mode in ("every", "bar") or done % self.every == 0
                or done == self.total)

    def update(self, done: int, logs: dict, force: bool = False) -> None:
        """Epoch `done` (1-based) has ended with these logs; `force` shows it in any mode."""
        if self.mode == "off":
            return
        shown = "  ".join(f"{k} {v:.6g}" for k, v in logs.items())
        if self.mode == "bar":
            self._bar.set_postfix_str(shown, refresh=False)
            self._bar.update(done - self._bar.n)
            self._last = done
            return
        if not (self.mode == "every" or force or done % self.every == 0 or done == self.total):
            return
        self._last = done
        self._line_time = time.perf_counter()
        elapsed = self._line_time - self.start
        left = ""
        if done < self.total:
            left = f", ~{_seconds(elapsed / done * (self.total - done))} left"
        print(f"epoch {done:>{len(str(self.total))}}/{self.total}  {shown}  "
              f"({_seconds(elapsed)}{left})", file=self.stream, flush=True)

    # lines mode: a line within an epoch only after this long without one
    LINE_EVERY = 30.0

    def within(self, epoch: int, fraction: float, logs: dict) -> None:
        """Epoch `epoch` (0-based) is `fraction` done, with running `logs`.

        The bar moves to ``epoch + fraction`` with the logs as its postfix;
        the line modes print a line if none came for :attr:`LINE_EVERY` seconds.
        """
        if self.mode == "off":
            return
        shown = "  ".join(f"{k} {v:.6g}" for k, v in logs.items())
        if self.mode == "bar":
            # drawn at once: batch_hook calls this ten times a second at most
            self._bar.set_postfix_str(f"{shown} (epoch {epoch + 1}, running)", refresh=False)
            self._bar.n = epoch + fraction
            self._bar.refresh()
            return
        now = time.perf_counter()
        if now - self._line_time < self.LINE_EVERY:
            return
        self._line_time = now
        print(f"epoch {epoch + 1:>{len(str(self.total))}}/{self.total}  {fraction:4.0%} done  "
              f"{shown} (running)  ({_seconds(now - self.start)})", file=self.stream, flush=True)

    def close(self) -> None:
        """End the report (a bar stays on screen, with its last numbers)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def say(self, text: str) -> None:
        """A line of its own after the epochs (why training stopped), unless off."""
        if self.mode != "off":
            self.close()
            print(text, file=self.stream, flush=True)


def batch_hook(targets, n_rows: int, first_epoch: int, interval: float = 0.1):
    """The `progress` hook of a backend's ``run_epochs``, or None without `targets`.

    The backend calls it as ``hook(epoch, rows, loss_sum)`` (the epoch of its
    call, the rows of it done, the sum of their batches' losses times their
    rows) every few milliseconds of work; it passes ``(first_epoch + epoch,
    rows / n_rows, {"loss": loss_sum / rows})`` to every target, at most once
    per `interval` seconds, the first `interval` seconds after it is made: an
    epoch shorter than that reports nothing within itself.

    Parameters
    ----------
    targets : list of callable
        Each called as ``target(epoch, fraction, logs)``.
    n_rows : int
        Rows per epoch.
    first_epoch : int
        The 0-based number of the call's first epoch in the whole run.
    interval : float, default=0.1
        Seconds between two reports.
    """
    if not targets:
        return None
    clock = time.perf_counter
    due = clock() + interval

    def hook(epoch, rows, loss_sum):
        nonlocal due
        now = clock()
        if now < due or rows <= 0 or rows >= n_rows:
            return
        due = now + interval
        logs = {"loss": loss_sum / rows}
        for target in targets:
            target(first_epoch + epoch, rows / n_rows, logs)
    return hook
