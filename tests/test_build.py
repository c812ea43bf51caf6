"""The build (setup.py, pyproject.toml): how the installed package was built and what it declares.

* The compiled core must never fuse a multiply and an add (README, "The numerical contract"):
  ``-ffp-contract=off`` on gcc/clang, ``/fp:contract-`` on MSVC. The probe
  ``_core.probe_mul_add(a, b, c)`` is C code compiled for an FMA target, so
  a build without the flag returns the fused (exactly rounded) ``a*b + c``;
  these inputs make fused and separately rounded results differ.
* The metadata of the installed distribution declares the supported Python
  and NumPy range.
* When CI says so (``CYNEURON_EXPECT_INSTALLED=1``), the package under test
  is the installed wheel, not the source tree.

Oracles: a multiply-add probe whose fused and separate results differ; the
installed distribution's metadata.
"""
import importlib.machinery
import importlib.metadata
import os
import platform
import random
import re
import struct
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest
from c_compiler import CC, needs_cc
from c_compiler import env as c_env

import cyneuron
from cyneuron import _core

X86 = {"x86_64", "amd64", "i386", "i686", "x86"}


def _bits(x):
    return struct.pack("<d", x).hex()


def _fused(a, b, c):
    """a*b + c with a single rounding (what an FMA instruction returns)."""
    return float(Fraction(a) * Fraction(b) + Fraction(c))


def _separate(a, b, c):
    """a*b + c with two roundings: Python floats are IEEE doubles, never fused."""
    p = a * b
    return p + c


def _discriminating_cases(count=200, seed=20240605):
    """Inputs where the fused and the separately rounded results differ."""
    cases = [
        (1.0 + 2.0**-30, 1.0 - 2.0**-30, -1.0),            # 0.0 vs -2**-60
        (1.0 + 2.0**-27, 1.0 + 2.0**-27, -(1.0 + 2.0**-26)),  # 0.0 vs 2**-54
        (0.1, 10.0, -1.0),                                  # 0.0 vs 2**-54
    ]
    rng = random.Random(seed)
    while len(cases) < count:
        a = rng.uniform(0.5, 2.0)
        b = rng.uniform(-2.0, 2.0)
        c = -(a * b) * rng.choice([1.0, 1.0 - 2.0**-40, 1.0 + 2.0**-40])
        if _fused(a, b, c) != _separate(a, b, c):
            cases.append((a, b, c))
    return cases


def test_probe_cases_discriminate():
    """Self-check of the test: every probe case tells fused from unfused."""
    cases = _discriminating_cases()
    assert len(cases) >= 100
    for a, b, c in cases:
        assert _bits(_fused(a, b, c)) != _bits(_separate(a, b, c)), (a, b, c)
    # The documented case, spelled out.
    assert _separate(1.0 + 2.0**-30, 1.0 - 2.0**-30, -1.0) == 0.0
    assert _fused(1.0 + 2.0**-30, 1.0 - 2.0**-30, -1.0) == -(2.0**-60)


def test_core_does_not_contract_mul_add():
    """Fails on a build without -ffp-contract=off (or with /fp:contract)."""
    info = _core.build_info()
    if not info["cpu_has_fma"]:
        # The probe is compiled for an FMA target and would fault here. Only
        # x86 CPUs can lack FMA (elsewhere it is baseline and cpu_has_fma is
        # 1); such a CPU cannot execute a fused multiply-add at all, so no
        # code path of the core can fuse on it.
        assert platform.machine().lower() in X86, (platform.machine(), info)
        return
    wrong = []
    for a, b, c in _discriminating_cases():
        got = _core.probe_mul_add(a, b, c)
        if _bits(got) != _bits(_separate(a, b, c)):
            wrong.append((a, b, c, got, _separate(a, b, c), _fused(a, b, c)))
    assert not wrong, (
        f"{len(wrong)} of {len(_discriminating_cases())} probes were not separately "
        "rounded: the extension was compiled with floating-point contraction on "
        f"(first: a, b, c, got, separate, fused = {wrong[0]})")


def test_build_info_records_contract_off():
    info = _core.build_info()
    assert info["fp_contract_off"] is True, info
    assert isinstance(info["cpu_has_fma"], bool), info


def test_core_is_a_compiled_extension():
    path = _core.__file__
    assert path and any(path.endswith(s) for s in importlib.machinery.EXTENSION_SUFFIXES), path


def test_tests_run_against_the_installed_package():
    """CI installs the repaired wheel: the package must come from there."""
    pkg = Path(cyneuron.__file__).resolve()
    repo = Path(__file__).resolve().parent.parent
    dist = importlib.metadata.distribution("cyneuron")
    # The distribution metadata found on sys.path belongs to this package.
    assert dist.metadata["Name"].lower() == "cyneuron"
    if os.environ.get("CYNEURON_EXPECT_INSTALLED") == "1":
        assert (repo / "src") not in pkg.parents, (
            f"cyneuron was imported from the source tree ({pkg}), not the installed wheel")
        assert "site-packages" in pkg.parts, pkg
        # A wheel install records the extension module among its files.
        files = [str(f) for f in (dist.files or [])]
        core = Path(_core.__file__).name
        assert any(f.replace("\\", "/").endswith("cyneuron/" + core) for f in files), (core, files)
    else:
        # Developer runs (editable or in-place builds): the package directory
        # still holds the compiled core next to __init__.py.
        assert Path(_core.__file__).resolve().parent == pkg.parent, (_core.__file__, pkg)


# --- declared requirements -------------------------------------------------

_CLAUSE = re.compile(r"^\s*(>=|<=|==|!=|~=|>|<)\s*([0-9]+(?:\.[0-9]+)*)\s*$")


def _ver(text):
    return tuple(int(p) for p in text.split("."))


def _cmp(a, b):
    n = max(len(a), len(b))
    a = a + (0,) * (n - len(a))
    b = b + (0,) * (n - len(b))
    return (a > b) - (a < b)


def _satisfies(version, spec):
    """Evaluate a numeric PEP 440 specifier set (no wildcards, no pre-releases)."""
    v = _ver(version)
    for clause in filter(None, (c.strip() for c in spec.split(","))):
        m = _CLAUSE.match(clause)
        assert m, f"cannot parse specifier clause {clause!r} in {spec!r}"
        op, w = m.group(1), _ver(m.group(2))
        c = _cmp(v, w)
        ok = {">=": c >= 0, "<=": c <= 0, "==": c == 0, "!=": c != 0,
              ">": c > 0, "<": c < 0,
              "~=": c >= 0 and _cmp(v[:len(w) - 1], w[:-1]) == 0}[op]
        if not ok:
            return False
    return True


def _numpy_requirement():
    reqs = importlib.metadata.requires("cyneuron") or []
    found = []
    for r in reqs:
        head, _, marker = r.partition(";")
        if "extra" in marker:
            continue
        m = re.match(r"^\s*numpy\b\s*(\[[^\]]*\])?\s*\(?([^)]*)\)?\s*$", head, re.I)
        if m:
            found.append(m.group(2).strip())
    assert len(found) == 1, reqs
    return found[0]


def test_requires_python_310():
    spec = importlib.metadata.metadata("cyneuron")["Requires-Python"]
    assert spec, "no Requires-Python in the installed metadata"
    assert ">=3.10" in spec.replace(" ", ""), spec
    for v in ("3.10", "3.10.0", "3.11.7", "3.12", "3.13"):
        assert _satisfies(v, spec), (v, spec)
    assert not _satisfies("3.9.18", spec), spec
    assert _satisfies("%d.%d.%d" % sys.version_info[:3], spec)


def test_requires_numpy_126():
    spec = _numpy_requirement()
    assert ">=1.26" in spec.replace(" ", ""), spec
    for v in ("1.26.0", "1.26.4", "2.0.0", "2.4.6"):
        assert _satisfies(v, spec), (v, spec)
    assert not _satisfies("1.25.2", spec), spec
    import numpy
    installed = re.match(r"[0-9]+(?:\.[0-9]+)*", numpy.__version__).group(0)
    assert _satisfies(installed, spec), (numpy.__version__, spec)


def test_metadata_version_matches_package():
    assert importlib.metadata.version("cyneuron") == cyneuron.__version__


@needs_cc
@pytest.mark.parametrize("flags", [[], ["-DCYN_NO_SIMD"]], ids=["simd", "plain"])
def test_kernel_sources_compile_warning_free(flags, tmp_path):
    """csrc/cyn_kernels.c compiles without a warning with the vector extensions
    and without them (-DCYN_NO_SIMD: the plain loops MSVC builds), so that a
    helper used only inside one of the two #if branches fails here, not on
    Windows."""
    root = Path(__file__).resolve().parent.parent
    cmd = CC + ["-c", "-O1", "-std=gnu11", "-Wall", "-Werror", "-I", str(root / "csrc"),
                *flags, str(root / "csrc" / "cyn_kernels.c"), "-o", str(tmp_path / "k.o")]
    done = subprocess.run(cmd, capture_output=True, text=True, env=c_env())
    assert done.returncode == 0, done.stderr[-2000:]
