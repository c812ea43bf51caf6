"""cyneuron._native's import self-check: the core's calls of NumPy's
exp, tanh, log and log1p loops give np.exp's, np.tanh's, np.log's and
np.log1p's bits, or the compiled backend refuses to run.

Oracle: NumPy's own loops, bit for bit."""
import types

import numpy as np
import pytest

from cyneuron import _native

FUNCS = ("exp", "tanh", "log", "log1p")


@pytest.mark.bitwise
def test_self_check_passes_at_this_simd_level():
    assert _native.available() and _native._self_check() is None


@pytest.mark.bitwise
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", FUNCS)
def test_self_check_inputs_cover_each_function(name, dtype):
    # the check's inputs reach each function's awkward regions: log's and log1p's
    # neighbourhoods of 1, 0 and -1, subnormals, the whole exponent range
    x = _native._check_inputs(dtype)
    with np.errstate(all="ignore"):
        if name in ("log", "log1p"):
            assert (np.abs(x - 1) < 2**-8).sum() > 500 and ((x > -1) & (x < -0.5)).sum() > 500
            assert (np.abs(x[x != 0]) < 1e-30).sum() > 100
            assert (x > 1e30).sum() > 100 or dtype == np.float32
        got = x.copy()
        getattr(_native.core(), f"numpy_{name}")(got)
        assert got.tobytes() == getattr(np, name)(x).tobytes()


@pytest.mark.parametrize("name", FUNCS)
def test_self_check_catches_a_wrong_loop(monkeypatch, name):
    core = _native.core()

    def one_ulp_off(x):
        getattr(core, f"numpy_{name}")(x)
        x[len(x) // 3] = np.nextafter(x[len(x) // 3], np.inf)

    fake = types.SimpleNamespace(**{f"numpy_{f}": getattr(core, f"numpy_{f}") for f in FUNCS})
    setattr(fake, f"numpy_{name}", one_ulp_off)
    monkeypatch.setattr(_native, "_core", fake)
    assert _native._self_check() == f"core {name} differs from np.{name} for float64"
