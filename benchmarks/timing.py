"""Median-of-N timing for benchmark cases.

A *case* is one row of a results table: one peer, one configuration (dtype,
backend, thread count), one workload.  It knows how to build a fresh model
(``setup``, untimed), how to do ``units`` units of the workload's work on it
(``run``, timed), and optionally how to read metrics off the trained model
(``check``, untimed).  What a unit is comes from the workload: an iteration
(W1), an epoch of 4 per-sample updates (W2), an epoch (W3), a sample (W4).

:func:`measure` sizes the run to a time budget: a short pilot run estimates
the cost of one unit; if the whole workload would take longer than the
budget, only as many units as fit are measured and the full-workload time is
extrapolated linearly (which slightly overstates peers with a fixed cost per
``fit`` call).  Every result says how many units were measured, so
the report can mark extrapolated rows.  Then it does ``warmup`` untimed
runs and at least ``repeats`` timed runs, each on a freshly set-up model,
and reports the median.  Short runs are repeated more often (up to
``max_repeats``) until the timed runs add up to ``min_total`` seconds, which
steadies the median of the millisecond-long cases.
"""
from __future__ import annotations

import gc
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class Unsupported(Exception):
    """A peer cannot run a workload (or one configuration of it); the message says why."""


@dataclass
class Case:
    """One measured configuration of a peer on a workload (one table row)."""

    label: str                                   # e.g. "cyneuron compiled"
    dtype: str                                   # "float64" / "float32"
    setup: Callable[[int], Any]                  # units -> state (untimed)
    run: Callable[[Any, int], Any]               # (state, units): the timed work
    check: Callable[[Any, int], dict] | None = None  # (state, units) -> metrics
    threads: int = 1
    note: str = ""
    scalable: bool = True                        # may measure a fraction of the work
    flops_per_unit: float | None = None       # overrides the workload's count
    kind: str = ""                               # which of a workload's measurements (W5)
    # Exceptions that mean "this peer does not support this (yet)" rather than a
    # failure, and the text put before their message.
    unsupported: tuple = ()
    unsupported_prefix: str = ""


def unsupported_case(label: str, reason: str, dtype: str = "", threads: int = 1) -> Case:
    """A row that reports ``reason`` as unsupported (for peers with several engines)."""
    def setup(units):
        raise Unsupported(reason)
    return Case(label, dtype, setup, lambda state, units: None, threads=threads)


@dataclass
class Budget:
    repeats: int = 5              # timed runs, at least
    warmup: int = 1               # untimed runs first
    seconds: float = 2.0          # target wall time of one timed run
    min_total: float = 1.0        # repeat short runs until they add up to this
    max_repeats: int = 25


def _timed(case: Case, units: int):
    """(seconds, state) of one run on a freshly set-up model."""
    state = case.setup(units)
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        t0 = time.perf_counter()
        case.run(state, units)
        return time.perf_counter() - t0, state
    finally:
        if enabled:
            gc.enable()


def choose_units(case: Case, full: int, step: int, pilot: int, seconds: float) -> int:
    """How many units (a multiple of ``step``) one run can do in about ``seconds``.

    Two pilot runs, of p and 2p units, separate the cost per unit from a fixed
    cost per run (model set-up inside ``fit``, first-call overheads), so a peer
    with a large fixed cost is not cut to a needlessly small part.
    """
    if not case.scalable:
        return full
    p = min(full, max(step, pilot - pilot % step))
    t1 = _timed(case, p)[0]
    if 2 * p > full:
        per_unit, fixed = t1 / p, 0.0
    else:
        t2 = _timed(case, 2 * p)[0]
        per_unit = (t2 - t1) / p if t2 > t1 else t2 / (2 * p)
        per_unit = max(per_unit, t2 / (4 * p))       # a noisy pilot must not look free
        fixed = max(0.0, t2 - 2 * p * per_unit)
    if fixed + per_unit * full <= seconds:
        return full
    units = max(p, int((seconds - fixed) / per_unit) // step * step)
    return full if units >= 0.8 * full else units     # not worth extrapolating the last fifth


def measure(case: Case, full: int, step: int, pilot: int, budget: Budget) -> dict:
    """Time ``case`` and return a result row (a JSON-able dict)."""
    row = {"label": case.label, "dtype": case.dtype, "threads": case.threads,
           "note": case.note, "status": "ok", "reason": "", "full_units": full,
           "kind": case.kind}
    try:
        units = choose_units(case, full, step, pilot, budget.seconds)
        t = None
        for _ in range(budget.warmup):
            t = _timed(case, units)[0]
        n = budget.repeats
        if t is not None and t > 0:
            n = max(n, min(budget.max_repeats, math.ceil(budget.min_total / t)))
        times, state = [], None
        for _ in range(n):
            t, state = _timed(case, units)
            times.append(t)
        metrics = (case.check(state, units) or {}) if case.check else {}
    except Unsupported as exc:
        row.update(status="unsupported", reason=str(exc))
        return row
    except case.unsupported as exc:  # noqa: B030 - a tuple of exception types
        row.update(status="unsupported",
                   reason=f"{case.unsupported_prefix}{type(exc).__name__}: {exc}")
        return row
    except Exception as exc:  # a peer failing must not stop the suite
        row.update(status="error", reason=f"{type(exc).__name__}: {exc}")
        return row
    med = statistics.median(times)
    row.update(units=units, times=times, median=med, min=min(times), max=max(times),
               per_unit=med / units, metrics=metrics, extrapolated=units < full,
               flops_per_unit=case.flops_per_unit)
    return row
