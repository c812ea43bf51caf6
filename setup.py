"""Build script for cyneuron's compiled core.

The numerical contract (bitwise agreement with the NumPy reference) depends on
the compiler never fusing a multiply and an add into one rounding, and never
reassociating sums. The flags below pin that for every compiler we build with;
``build_ext`` picks the set that matches the compiler actually in use.
"""
import os

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

# Debug builds (CYNEURON_DEBUG=1) switch Cython's bounds and wraparound checks on.
DEBUG = os.environ.get("CYNEURON_DEBUG", "0") not in ("", "0")

# Flags that make floating point exact and portable: no contraction into FMA,
# no fast-math, no host-specific -march (SIMD variants are chosen at run time).
# -fno-math-errno only lets sqrt inline and vectorise (it is correctly rounded
# either way); -pthread for the thread split of the products.
UNIX_FLAGS = ["-O3", "-ffp-contract=off", "-fno-fast-math", "-fno-finite-math-only",
              "-fno-associative-math", "-fno-reciprocal-math", "-fsigned-zeros",
              "-fno-unsafe-math-optimizations", "-fno-math-errno", "-std=gnu11",
              "-pthread"]
# MSVC: /fp:precise does not contract by default; /fp:contract- makes it explicit
# where the compiler knows the switch (VS 2022 17.0+).
MSVC_FLAGS = ["/O2", "/fp:precise"]
MSVC_OPTIONAL = ["/fp:contract-"]


class ExactBuildExt(build_ext):
    """build_ext that applies the exact-arithmetic flags of the active compiler."""

    def build_extensions(self):
        ctype = self.compiler.compiler_type
        for ext in self.extensions:
            if ctype == "msvc":
                ext.extra_compile_args = list(MSVC_FLAGS) + list(MSVC_OPTIONAL)
            else:
                ext.extra_compile_args = list(UNIX_FLAGS)
                ext.extra_link_args = ["-pthread"]
                if DEBUG:
                    ext.extra_compile_args += ["-O0", "-g"]
            # Recorded only when the flag really is on the command line, so that
            # build_info() reports what the compiler was told, not what we hoped.
            if any(f.split("=")[0] == "-ffp-contract" and f.endswith("=off")
                   for f in ext.extra_compile_args) or "/fp:contract-" in ext.extra_compile_args:
                ext.define_macros.append(("CYN_FP_CONTRACT_OFF", "1"))
        super().build_extensions()


def extensions():
    directives = {
        "language_level": 3,
        "boundscheck": DEBUG,
        "wraparound": DEBUG,
        "initializedcheck": DEBUG,
        "cdivision": True,
        "embedsignature": True,
    }
    ext = Extension(
        "cyneuron._core",
        sources=["src/cyneuron/_core.pyx", "csrc/cyn_kernels.c"],
        include_dirs=["csrc", np.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        depends=["src/cyneuron/_kernels.pxd", "src/cyneuron/_portable_decl.pxd",
                 # the core's sections, in _core.pyx's include order
                 *(f"src/cyneuron/_core_{s}.pxi" for s in (
                     "transcendental", "net", "watch", "activations", "losses", "network",
                     "tiny", "optimizers", "training", "sparse", "boundary", "hooks")),
                 "csrc/cyn_kernels.h", "csrc/cyn_kernels_impl.h",
                 "csrc/cyn_gemm_impl.h", "csrc/cyn_elementwise_impl.h", "csrc/cyn_instantiate.h",
                 "csrc/cyn_scalar_impl.h", "csrc/cyn_inline.h", "csrc/cyn_tiny_impl.h",
                 "csrc/cyn_per_dtype.h", "csrc/cyn_names.h", "csrc/cyn_portable.h",
                 "csrc/cyn_portable_body.h", "csrc/cyn_portable_dispatch.h",
                 "csrc/cyn_sparse.h", "csrc/cyn_sparse_impl.h"],
    )
    # The portable transcendental functions (issue 17): a header-only C library
    # and its test hook; the same exact-arithmetic flags apply.
    portable = Extension(
        "cyneuron._portable",
        sources=["src/cyneuron/_portable.pyx"],
        include_dirs=["csrc"],
        depends=["src/cyneuron/_portable_decl.pxd", "csrc/cyn_portable.h",
                 "csrc/cyn_portable_body.h", "csrc/cyn_portable_dispatch.h"],
    )
    return cythonize([ext, portable], compiler_directives=directives,
                     annotate=os.environ.get("CYNEURON_ANNOTATE") == "1")


setup(ext_modules=extensions(), cmdclass={"build_ext": ExactBuildExt})
