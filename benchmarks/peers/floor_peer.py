"""The hand-written floor of W2 in portable mode (issue 30, item 4).

``benchmarks/floor/w2_floor_portable.c``: the 2-2-1 per-sample SGD step
written out by hand with constant sizes, every value in a register, the
contract's operations in its order and the portable exp inline (the scalar
copy in csrc/cyn_portable.h). It is the lower bound for an exact step, and
cyneuron's portable W2 row is held to 1.15x its time measured in the same
run. Built here with the C compiler Python was built with (``cc`` if that is
unknown) into ``benchmarks/_work/floor/``, called through ctypes (one call
per timed run, so the call costs nothing per update). Its weights are its
own (the time does not depend on them): a time, not a result to compare.
"""
import ctypes
import os
import shlex
import subprocess
import sysconfig

from timing import Case, Unsupported

NAME = "hand-written floor"
WORKLOADS = ("W2",)
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(HERE)
_lib = None


def _build():
    global _lib
    if _lib is not None:
        return _lib
    out_dir = os.path.join(HERE, "_work", "floor")
    os.makedirs(out_dir, exist_ok=True)
    so = os.path.join(out_dir, "libw2p.so")
    cc = shlex.split(sysconfig.get_config_var("CC") or "cc")[:1] or ["cc"]
    cmd = cc + ["-O2", "-ffp-contract=off", "-fPIC", "-shared", "-DW2P_LIBRARY",
                "-I", os.path.join(ROOT, "csrc"),
                os.path.join(HERE, "floor", "w2_floor_portable.c"), "-o", so]
    try:
        subprocess.run(cmd, check=True, capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        raise Unsupported(f"cannot build the floor ({' '.join(cmd)}): "
                          f"{getattr(exc, 'stderr', '') or exc}") from None
    _lib = ctypes.CDLL(so)
    _lib.w2p_train.argtypes = [ctypes.c_long]
    _lib.w2p_train.restype = None
    return _lib


def available():
    try:
        _build()
    except Unsupported as exc:
        return False, str(exc)
    return True, ""


def version():
    return "benchmarks/floor/w2_floor_portable.c"


def w2(wl, threads=1):
    def setup(units):
        return _build()

    def run(lib, units):
        lib.w2p_train(int(units))
    return [Case("hand-written floor, portable exp", "float64", setup, run, threads=threads,
                 note="constant sizes, values in registers, the portable exp inline; "
                      "the bound for an exact step (issue 30)")]
