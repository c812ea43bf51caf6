"""Progress reports of a training run (``Network.fit(verbose=...)`` and the CLI).

- ``verbose=0``: nothing.
- ``verbose=1``: on a terminal, a tqdm bar updating in place (epoch, loss and
  metrics, elapsed and remaining time) when tqdm is installed
  (``pip install 'cyneuron[progress]'``); otherwise (logs, CI, no tqdm) one line
  per tenth of the run.
- ``verbose=2``: one line per epoch, always.

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
        self._bar = tqdm(total=self.total, unit="epoch", file=self.stream, dynamic_ncols=True,
                         leave=True, desc="epoch")
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
            self._bar.update(done - self._last)
            self._last = done
            return
        if not (self.mode == "every" or force or done % self.every == 0 or done == self.total):
            return
        self._last = done
        elapsed = time.perf_counter() - self.start
        left = ""
        if done < self.total:
            left = f", ~{_seconds(elapsed / done * (self.total - done))} left"
        print(f"epoch {done:>{len(str(self.total))}}/{self.total}  {shown}  "
              f"({_seconds(elapsed)}{left})", file=self.stream, flush=True)

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
