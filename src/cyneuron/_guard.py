"""The read/write guard of one network shared by several threads.

``Network.guard`` is a :class:`Guard`; the network's own changing methods
hold it through :meth:`Guard.writing`, its reading methods through
:meth:`Guard.read`, and so do the estimators (a fit), the exporters and the
digest (a consistent read of the weights).
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Literal, ParamSpec, TypeVar

_P = ParamSpec("_P")
_R = TypeVar("_R")


class Guard:
    """One network, several threads.

    A call that changes the network (``fit``, ``train_step``, ``set_weights``,
    ``reset_optimizer``, an estimator's ``fit``/``partial_fit``) holds it
    alone: a second such call from another thread raises RuntimeError at
    once (two fits of one network are a bug in the caller, not something to
    queue). A call that reads it (``feedforward``, ``gradients``,
    ``evaluate``, ``get_weights``, ``save``) never sees a half-changed
    network: it waits for a running change to finish, and one that overlaps
    a change (the core runs without the GIL) is computed again. Readers do
    not wait for each other. The thread that is changing the network may
    read and change it freely (callbacks inside ``fit``).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owner: int | None = None
        #: Counts the changes' starts and ends: odd while one runs. Read by the
        #: one-row fast path of ``Network.feedforward`` without a call
        #: (``attempt`` is the same test as a method).
        self.version = 0

    def writing(self) -> Writing:
        """The context of a change (``with guard.writing(): ...``).

        Returns
        -------
        Writing
            A context manager; entering it raises RuntimeError if another
            thread is changing the network.
        """
        return Writing(self)

    def read(self, fn: Callable[_P, _R], *args: _P.args, **kwargs: _P.kwargs) -> _R:
        """``fn(*args, **kwargs)`` computed while no change runs (again if one overlapped it).

        Parameters
        ----------
        fn : callable
            Reads the network and changes nothing.
        *args, **kwargs
            Passed to `fn`.

        Returns
        -------
        object
            What `fn` returns.
        """
        if self._owner == threading.get_ident():
            return fn(*args, **kwargs)
        while True:
            v0 = self.version
            if v0 & 1:
                with self._lock:              # wait for the change to finish
                    pass
                continue
            out = fn(*args, **kwargs)
            if self.version == v0:
                return out

    def attempt(self, fn: Callable[_P, _R | None], *args: _P.args, **kwargs: _P.kwargs
                ) -> _R | None:
        """``fn(*args, **kwargs)`` if no change was running or overlapped it, else None.

        One try, no waiting: the fast path of ``feedforward`` takes it and
        falls back to :meth:`read` on None.

        Parameters
        ----------
        fn : callable
            Reads the network and changes nothing.
        *args, **kwargs
            Passed to `fn`.

        Returns
        -------
        object or None
        """
        v0 = self.version
        if v0 & 1:
            return None
        out = fn(*args, **kwargs)
        return out if self.version == v0 else None

    def begin_write(self) -> bool:
        """Start a change (:meth:`writing` calls this; prefer it).

        Returns
        -------
        bool
            True if this thread was already changing the network (a callback
            inside ``fit``): then the matching :meth:`end_write` is skipped.

        Raises
        ------
        RuntimeError
            If another thread is changing the network.
        """
        me = threading.get_ident()
        if self._owner == me:          # a callback inside fit
            return True
        if not self._lock.acquire(blocking=False):
            raise RuntimeError("this network is being changed by another thread (fit, "
                               "train_step, set_weights or partial_fit); it takes one such "
                               "call at a time")
        self._owner = me
        self.version += 1
        return False

    def end_write(self) -> None:
        """End the change :meth:`begin_write` started (readers may go on)."""
        self.version += 1
        self._owner = None
        self._lock.release()


class Writing:
    """Guard.writing's context (a class: a generator context costs a
    microsecond, a tenth of a tiny fit)."""

    __slots__ = ("guard", "nested")

    def __init__(self, guard: Guard) -> None:
        self.guard = guard

    def __enter__(self) -> None:
        self.nested = self.guard.begin_write()

    def __exit__(self, *exc: object) -> Literal[False]:
        if not self.nested:
            self.guard.end_write()
        return False

