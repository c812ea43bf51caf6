"""Oracle: NumPy's SIMD dispatch level, and the core's (cyneuron._core) agreement with it.

CI re-runs the bitwise tests with NumPy's dispatch lowered through
``NPY_DISABLE_CPU_FEATURES``. The level is read from NumPy's own feature
table (``native`` with nothing disabled, ``avx2`` when no AVX-512 target is
left, ``baseline`` when none is, ``partial`` for any other set); CI also
names the level it asked for in ``CYNEURON_EXPECT_SIMD``, and then the two
must agree.
A misspelt feature name only raises an ImportWarning that default filters
hide, and NumPy then runs at full speed: these tests prove the level really
took effect, in NumPy's own feature table and in the bits ``np.exp`` returns,
and that the core's calls into NumPy's loops still agree bit for bit.

Names differ between NumPy generations: 2.x dispatches to the groups
``X86_V3`` (AVX2, FMA3, ...) and ``X86_V4`` (AVX-512 F/CD/BW/DQ/VL) plus
``AVX512_ICL``/``AVX512_SPR``; 1.26 dispatches to single features
(``AVX2``, ``FMA3``, ``AVX512F``, ``AVX512_SKX``, ...). The rules below are
written over ``__cpu_dispatch__``, which lists the names that steer dispatch
in the NumPy that is installed.
"""
import contextlib
import io
import json
import os
import platform
import subprocess
import sys

import numpy as np
import pytest

from cyneuron import _core

pytestmark = pytest.mark.bitwise

LEVELS = ("native", "avx2", "baseline")
DISABLED = os.environ.get("NPY_DISABLE_CPU_FEATURES", "").strip()
REQUESTED = os.environ.get("CYNEURON_EXPECT_SIMD", "").strip()
IS_X86 = platform.machine().lower() in {"x86_64", "amd64", "i386", "i686", "x86"}

try:  # NumPy 2.x
    from numpy._core import _multiarray_umath as _umath
except ImportError:  # NumPy 1.26
    from numpy.core import _multiarray_umath as _umath

FEATURES = dict(_umath.__cpu_features__)
DISPATCH = list(_umath.__cpu_dispatch__)
BASELINE = list(_umath.__cpu_baseline__)

# /proc/cpuinfo flag -> NumPy feature name (same names in 1.26 and 2.x).
X86_FLAGS = {
    "pni": "SSE3", "ssse3": "SSSE3", "sse4_1": "SSE41", "sse4_2": "SSE42",
    "popcnt": "POPCNT", "avx": "AVX", "f16c": "F16C", "fma": "FMA3", "avx2": "AVX2",
    "avx512f": "AVX512F", "avx512cd": "AVX512CD", "avx512bw": "AVX512BW",
    "avx512dq": "AVX512DQ", "avx512vl": "AVX512VL", "avx512ifma": "AVX512IFMA",
    "avx512vbmi": "AVX512VBMI", "avx512_vbmi2": "AVX512VBMI2",
    "avx512_vnni": "AVX512VNNI", "avx512_bitalg": "AVX512BITALG",
    "avx512_vpopcntdq": "AVX512VPOPCNTDQ",
}
ARM_FLAGS = {"asimd": "ASIMD", "asimdhp": "ASIMDHP", "asimddp": "ASIMDDP",
             "asimdfhm": "ASIMDFHM"}
# The CPU flags behind the dispatch groups that name a level.
AVX2_TIER = {"avx2", "fma", "f16c", "bmi1", "bmi2", "movbe", "abm"}   # X86_V3 / AVX2+FMA3
AVX512_TIER = {"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"}  # X86_V4 / AVX512_SKX


def _cpu_flags():
    """This CPU's feature flags from /proc/cpuinfo, or None where there are none.

    x86 kernels list them under "flags", arm64 ones under "Features"; a key
    that does not fit the interpreter's architecture (an emulated aarch64
    process reading its x86 host's file under QEMU) counts as none.
    """
    try:
        with open("/proc/cpuinfo") as f:
            text = f.read()
    except OSError:
        return None
    want = "flags" if IS_X86 else "Features"
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == want:
            return set(value.split())
    return None


def _is_avx512_target(name):
    return name.startswith("AVX512") or name == "X86_V4"


def _avx2_target():
    """The dispatch name for the AVX2 paths in the installed NumPy."""
    return "X86_V3" if "X86_V3" in DISPATCH else "AVX2"


def _enabled_dispatch(features=FEATURES):
    return [t for t in DISPATCH if features.get(t)]


def _inferred_level():
    """The level NumPy is running at, from its feature table."""
    if not DISABLED:
        return "native"
    enabled = _enabled_dispatch()
    if not enabled:
        return "baseline"
    if IS_X86 and not any(map(_is_avx512_target, enabled)) \
            and any(map(_is_avx512_target, DISABLED.split())):
        return "avx2"
    return "partial"


INFERRED = _inferred_level()
EXPECT = REQUESTED or INFERRED


# Computes a fingerprint of NumPy's exp/tanh bits and its enabled dispatch
# targets; runs in this process and, with the environment changed, in a child.
FINGERPRINT = r"""
import hashlib, json, math
import numpy as np
try:
    from numpy._core import _multiarray_umath as m
except ImportError:
    from numpy.core import _multiarray_umath as m
rng = np.random.default_rng(12345)
x = rng.uniform(-30.0, 30.0, 20000)
out = {"enabled": [t for t in m.__cpu_dispatch__ if m.__cpu_features__.get(t)]}
with np.errstate(all="ignore"):
    for name, f in (("exp", np.exp), ("tanh", np.tanh)):
        for dt in ("float64", "float32"):
            y = f(x.astype(dt))
            out[name + "_" + dt] = hashlib.sha256(y.tobytes()).hexdigest()
    e = np.exp(x)
    out["exp_float64_vs_libm"] = int(sum(1 for a, b in zip(x.tolist(), e.tolist())
                                         if math.exp(a) != b))
print(json.dumps(out))
"""


def _fingerprint_here():
    ns = {}
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        exec(compile(FINGERPRINT, "<fingerprint>", "exec"), ns)
    return json.loads(buf.getvalue())


def _run_child(code, disable=None, extra_args=()):
    env = dict(os.environ)
    env.pop("NPY_DISABLE_CPU_FEATURES", None)
    env.pop("NPY_ENABLE_CPU_FEATURES", None)
    if disable:
        env["NPY_DISABLE_CPU_FEATURES"] = disable
    return subprocess.run([sys.executable, *extra_args, "-c", code], env=env,
                          capture_output=True, text=True, timeout=300)


def _fingerprint_native():
    r = _run_child(FINGERPRINT)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


# --- the requested level is well formed -------------------------------------

def test_requested_level_is_known():
    if not REQUESTED:
        # nothing requested: the level NumPy runs at is what the other tests check
        assert INFERRED in LEVELS + ("partial",)
        return
    assert REQUESTED in LEVELS, f"CYNEURON_EXPECT_SIMD={REQUESTED!r}: expected one of {LEVELS}"
    assert REQUESTED == INFERRED, (
        f"CYNEURON_EXPECT_SIMD={REQUESTED!r} but NPY_DISABLE_CPU_FEATURES={DISABLED!r} leaves "
        f"NumPy at {INFERRED!r} (enabled: {_enabled_dispatch()})")
    if EXPECT == "native":
        assert DISABLED == "", (
            f"CYNEURON_EXPECT_SIMD is native but NPY_DISABLE_CPU_FEATURES={DISABLED!r}")
    else:
        assert IS_X86, f"level {EXPECT!r} names x86 features; this is {platform.machine()}"
        assert DISABLED, f"CYNEURON_EXPECT_SIMD={EXPECT} but NPY_DISABLE_CPU_FEATURES is unset"


def test_disabled_feature_names_are_all_known_to_this_numpy():
    """An unknown name is only an ImportWarning: make it an error and import."""
    r = _run_child("import numpy", disable=DISABLED or None,
                   extra_args=("-W", "error::ImportWarning"))
    assert r.returncode == 0, (
        f"NumPy {np.__version__} rejects NPY_DISABLE_CPU_FEATURES={DISABLED!r}:\n{r.stderr}")
    # And the check itself works: a bogus name must be refused.
    bad = _run_child("import numpy", disable="CYN_NO_SUCH_FEATURE",
                     extra_args=("-W", "error::ImportWarning"))
    assert bad.returncode != 0 and "NPY_DISABLE_CPU_FEATURES" in bad.stderr, bad.stderr


# --- NumPy's feature table shows the level ----------------------------------

def test_feature_table_matches_requested_level():
    flags = _cpu_flags()
    enabled = _enabled_dispatch()
    if EXPECT == "baseline":
        assert enabled == [], f"dispatch targets still enabled at baseline: {enabled}"
        for name in ("AVX2", "FMA3", "AVX512F", "X86_V3", "X86_V4"):
            if name in DISPATCH:
                assert not FEATURES[name], f"{name} enabled at baseline"
    elif EXPECT == "avx2":
        avx512 = [t for t in enabled if _is_avx512_target(t)]
        assert avx512 == [], f"AVX-512 dispatch targets still enabled: {avx512}"
        if "AVX512F" in DISPATCH:  # NumPy 1.26 dispatches on AVX512F itself
            assert not FEATURES["AVX512F"]
        target = _avx2_target()
        assert flags is not None, "no /proc/cpuinfo to compare against"
        has_avx2 = AVX2_TIER <= flags if target == "X86_V3" else {"avx2"} <= flags
        if has_avx2:
            assert FEATURES[target], f"{target} disabled although the CPU has it"
            assert FEATURES["AVX2"] and FEATURES["FMA3"]
        else:
            # An older CPU: NumPy must not claim what the CPU lacks.
            assert not FEATURES[target], f"{target} enabled on a CPU without it"
    elif EXPECT == "partial":
        # some targets disabled by name: those are off, the CPU's others on
        named = set(DISABLED.split())
        still = [t for t in _enabled_dispatch() if t in named]
        assert not still, f"disabled by name but still enabled: {still}"
    else:
        assert DISABLED == ""
        if flags is None:
            # No /proc/cpuinfo (macOS, Windows): the runtime detection must at
            # least confirm every feature NumPy was compiled to assume.
            missing = [f for f in BASELINE if not FEATURES.get(f)]
            assert not missing, f"baseline features not detected: {missing}"
            return
        table = X86_FLAGS if IS_X86 else ARM_FLAGS
        expected = sorted(table[f] for f in flags if f in table and table[f] in FEATURES)
        off = [name for name in expected if not FEATURES[name]]
        assert not off, f"CPU reports these, NumPy has them disabled: {off}"
        if IS_X86:
            assert expected, f"no known x86 feature found in /proc/cpuinfo: {sorted(flags)[:20]}"
            v4 = "X86_V4" if "X86_V4" in DISPATCH else "AVX512_SKX"
            assert FEATURES[v4] == (AVX512_TIER <= flags), (v4, FEATURES[v4])
            if "X86_V3" in DISPATCH:
                assert FEATURES["X86_V3"] == (AVX2_TIER <= flags)


def test_numpy_exp_bits_follow_the_level():
    """The level changes what np.exp computes, not only what NumPy reports."""
    here = _fingerprint_here()
    native = _fingerprint_native()
    assert here["enabled"] == _enabled_dispatch()
    native_avx512 = any(map(_is_avx512_target, native["enabled"]))
    here_avx512 = any(map(_is_avx512_target, here["enabled"]))
    if here["enabled"] == native["enabled"]:
        # Same dispatch, same bits. A lowered level leaves dispatch unchanged
        # only on a CPU that does not exceed that level.
        assert here == native
        if EXPECT == "avx2":
            assert not native_avx512, "avx2 requested, AVX-512 dispatch unchanged"
        elif EXPECT == "baseline":
            assert native["enabled"] == [], "baseline requested, dispatch unchanged"
    else:
        assert EXPECT != "native", (here["enabled"], native["enabled"])
        assert set(here["enabled"]) < set(native["enabled"]), (here["enabled"], native["enabled"])
    if native_avx512 and not here_avx512:
        # NumPy's float64 exp has an AVX-512 implementation of its own (it is
        # why the core must call NumPy's loop): without AVX-512 the bits change.
        assert here["exp_float64"] != native["exp_float64"]
        assert native["exp_float64_vs_libm"] > 0
    elif here_avx512:
        if sys.platform.startswith("linux"):
            # Running with AVX-512: NumPy's own exp, which is not glibc's.
            assert here["exp_float64_vs_libm"] > 0, here
        else:
            # Other C libraries and compilers: only what holds everywhere,
            # the same dispatch giving the same bits (asserted above).
            assert here["enabled"] == native["enabled"]
    else:
        # No AVX-512 at either end (a CPU without it): nothing to lose.
        assert not native_avx512


# --- the core agrees with NumPy at this level --------------------------------

def _inputs(dtype, n, seed):
    """n values of dtype: wide and narrow random ranges plus special values."""
    rng = np.random.default_rng(seed)
    info = np.finfo(dtype)
    big = 800.0 if dtype == np.float64 else 110.0
    specials = np.array([0.0, -0.0, np.nan, -np.nan, np.inf, -np.inf, 1.0, -1.0,
                         big, -big, 750.0, -750.0, 88.72, -103.9, 709.78, -745.1,
                         float(info.tiny), -float(info.tiny), float(info.tiny) / 4,
                         float(info.max), -float(info.max), 1e-300, 20.0, -20.0],
                        dtype=np.float64)
    with np.errstate(all="ignore"):
        specials = np.roll(specials, seed).astype(dtype)
    pool = np.concatenate([rng.uniform(-big, big, n), rng.normal(0.0, 3.0, n),
                           rng.uniform(-1e-3, 1e-3, n)]).astype(dtype)
    x = pool[rng.permutation(pool.size)[:n]]
    k = min(specials.size, n)
    x[rng.choice(n, size=k, replace=False)] = specials[:k]
    return x


def _differing(got, want):
    """Indices where two float arrays differ in any bit."""
    u = np.uint64 if got.dtype == np.float64 else np.uint32
    return np.flatnonzero(got.view(u) != want.view(u))


SIZES = [1, 2, 3, 7, 8, 15, 16, 17, 31, 63, 64, 65, 255, 1000, 4099]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("name", ["exp", "tanh"])
def test_core_calls_numpys_loop_bitwise(name, dtype):
    core = {"exp": _core.numpy_exp, "tanh": _core.numpy_tanh}[name]
    ref = {"exp": np.exp, "tanh": np.tanh}[name]
    mismatches = []
    for i, n in enumerate(SIZES):
        for offset in (0, 1):  # aligned, and a misaligned contiguous view
            base = _inputs(dtype, n + offset, seed=1000 * i + offset)
            x = base[offset:]
            assert x.flags.c_contiguous and x.dtype == dtype
            with np.errstate(all="ignore"):
                want = ref(x)
            got = x.copy() if offset == 0 else x  # in place, possibly misaligned
            src = x.copy()
            core(got)
            if got.tobytes() != want.tobytes():
                bad = _differing(got, want)
                mismatches.append((n, offset, src[bad[:3]].tolist()))
    assert not mismatches, (
        f"core {name} differs from np.{name} at SIMD level {EXPECT} "
        f"(NumPy {np.__version__}): {mismatches[:5]}")


def test_core_loop_agrees_on_a_large_sweep():
    """About 400k float64 and float32 inputs through exp and tanh."""
    rng = np.random.default_rng(7)
    for dtype, big in ((np.float64, 760.0), (np.float32, 105.0)):
        x = np.concatenate([rng.uniform(-big, big, 100000),
                            rng.uniform(-30, 30, 100000)]).astype(dtype)
        for core, ref in ((_core.numpy_exp, np.exp), (_core.numpy_tanh, np.tanh)):
            got = x.copy()
            core(got)
            with np.errstate(all="ignore"):
                want = ref(x)
            bad = _differing(got, want)
            assert bad.size == 0, (dtype.__name__, ref.__name__, EXPECT, bad.size,
                                   x[bad[:3]].tolist())
