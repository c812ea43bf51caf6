"""The C compiler the tests that compile C use (cn.export_c's header), and the
one rule for skipping them: no C compiler found.

$CC if set (its words), else the first of cc, gcc and clang on PATH.  Where none
exists (the cibuildwheel test run on Windows) those tests skip, saying so;
tests/test_export_c.py insists that Linux and macOS find one, so the skip can
never hide them there.  A $CC that names no program is kept as it is: its
tests fail saying so, they do not skip for a typo.
"""
import os
import shlex
import shutil

import pytest


def find_cc():
    """The C compiler command as a list of words, or None when none is found."""
    if os.environ.get("CC", "").strip():
        return shlex.split(os.environ["CC"])
    for name in ("cc", "gcc", "clang"):
        path = shutil.which(name)
        if path:
            return [path]
    return None


CC = find_cc()

needs_cc = pytest.mark.skipif(CC is None, reason="no C compiler found (no $CC; cc, gcc and clang "
                                                 "not on PATH)")


def env():
    """os.environ without LD_PRELOAD: the sanitizer CI cell preloads ASan into the
    test process; the compiler and uninstrumented programs run without it."""
    return {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
