"""Loads the compiled core and proves, once per process, that it uses NumPy's math.

The core calls NumPy's own exp, tanh, log and log1p inner loops. Before
anything trains on it, a self-check compares those calls with ``np.exp``,
``np.tanh``, ``np.log`` and ``np.log1p`` bit for bit on inputs that cover the
awkward cases (NaN, +-inf, subnormals, -0.0, overflow and underflow
thresholds, log's and log1p's neighbourhoods of 1, 0 and -1, and a spread of
ordinary values, in blocks long and short). If the check fails, ``backend="cython"`` refuses to
run with an error that says why, instead of silently breaking the contract.
"""
from __future__ import annotations

import numpy as np

_error: str | None = None
try:
    # typed by _core.pyi (the self-check below is checked against it; the
    # backends annotate what they take from core() with the stub's classes)
    # (the absolute form: the extension is a module of its own, not a name the
    # package defines)
    import cyneuron._core as _core
except ImportError as exc:  # pragma: no cover - exercised only on a broken install
    _core = None  # type: ignore[assignment]
    _error = f"cyneuron's compiled core could not be imported ({exc}); reinstall cyneuron"


def _check_inputs(dtype):
    rng = np.random.default_rng(12345)
    tiny = np.finfo(dtype).tiny
    special = np.array([0.0, -0.0, np.nan, np.inf, -np.inf, 1.0, -1.0, 709.78, 709.79,
                        -745.1, -745.2, 88.72, 88.73, -103.9, -104.0, 750.0, -750.0,
                        tiny, -tiny, tiny / 4, -tiny / 4, 1e-300, 20.0, -20.0], dtype=np.float64)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        parts = [special.astype(dtype),
                 np.linspace(-760, 760, 6007).astype(dtype),
                 (rng.standard_normal(20000) * 8).astype(dtype),
                 rng.uniform(-1, 1, 3001).astype(dtype),
                 # log and log1p: positive values over the whole exponent range,
                 # around 1 (log's cancellation), just above -1 and around 0 (log1p's)
                 np.exp2(rng.uniform(-1080, 1030, 4001)).astype(dtype),
                 (1 + rng.uniform(-2**-8, 2**-8, 1001)).astype(dtype),
                 (-1 + np.exp2(rng.uniform(-60, -1, 1001))).astype(dtype),
                 (rng.choice([-1, 1], 1001) * np.exp2(rng.uniform(-160, -1, 1001))).astype(dtype)]
    return np.concatenate(parts)


def _self_check():
    with np.errstate(all="ignore"):
        for dtype in (np.float64, np.float32):
            x = _check_inputs(dtype)
            for name, ufunc, corefn in (("exp", np.exp, _core.numpy_exp),
                                        ("tanh", np.tanh, _core.numpy_tanh),
                                        ("log", np.log, _core.numpy_log),
                                        ("log1p", np.log1p, _core.numpy_log1p)):
                expected = ufunc(x)
                # whole array, then short blocks: vector tails must agree too
                got = x.copy()
                corefn(got)
                if got.tobytes() != expected.tobytes():
                    return f"core {name} differs from np.{name} for {np.dtype(dtype).name}"
                for n in (1, 3, 7, 17):
                    part = x[:n].copy()
                    corefn(part)
                    if part.tobytes() != expected[:n].tobytes():
                        return (f"core {name} differs from np.{name} for "
                                f"{np.dtype(dtype).name} blocks of {n}")
    return None


if _core is not None:
    _error = _self_check()
    if _error is not None:  # pragma: no cover - would mean NumPy changed its loops
        _error += "; the compiled backend is disabled, use backend='numpy'"


def core():
    """The compiled core module, or RuntimeError when it cannot keep the contract."""
    if _error is not None:
        raise RuntimeError(_error)
    return _core


def core_or_none():
    """The compiled core if it loaded and passed its self-check, else None."""
    return _core if _error is None else None


def available():
    """True when backend='cython' can run."""
    return _error is None
