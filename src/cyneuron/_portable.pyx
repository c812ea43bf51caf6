# cython: language_level=3
"""cyneuron's portable transcendental functions, compiled (``csrc/cyn_portable.h``).

``exp``, ``log``, ``log1p`` and ``tanh`` over float64 and float32 arrays, bit
for bit equal to the NumPy spec in ``cyneuron._portable_reference`` on every
IEEE-754 machine (round-to-nearest, subnormals on).  This module is the test
hook of the portable numerics mode and the building block the core inlines.
"""

import numpy as np

from cyneuron._portable_decl cimport (CYNP_FN_EXP, CYNP_FN_LOG, CYNP_FN_LOG1P, CYNP_FN_TANH,
                                      CYNP_FN_SIGMOID_NEG, CYNP_N_VAR, cynp_get_f32, cynp_get_f64, cynp_loop_f32,
                                      cynp_loop_f64, cynp_variant_supported)

# Instruction-set variants of the loops, in the order of the C enum; every
# variant computes the same bits, only the vector width differs.
VARIANT_NAMES = ("inline", "scalar", "sse42", "avx2", "avx512")
cdef int _variant = 1


def variants():
    """The loop variants this CPU runs, in increasing vector width.

    Returns
    -------
    tuple of str
        Names among ``"inline"`` (the scalar functions, element by element),
        ``"scalar"`` (the loops for the baseline instruction set), ``"sse42"``,
        ``"avx2"``, ``"avx512"``.
    """
    return tuple(name for v, name in enumerate(VARIANT_NAMES) if cynp_variant_supported(v))


def get_variant():
    """The name of the loop variant in use (see `variants`)."""
    return VARIANT_NAMES[_variant]


def set_variant(name):
    """Use the loop variant `name` (one of `variants()`); returns the previous name.

    The results do not depend on it; the tests run every variant.
    """
    global _variant
    if name not in VARIANT_NAMES or not cynp_variant_supported(VARIANT_NAMES.index(name)):
        raise ValueError(f"set_variant: name must be one of {variants()}, got {name!r}")
    old = VARIANT_NAMES[_variant]
    _variant = VARIANT_NAMES.index(name)
    return old


_available = variants()
set_variant(_available[len(_available) - 1])   # the widest this CPU runs


cdef object _run(str name, x, out, int fn):
    arr = np.asarray(x)
    if arr.dtype != np.float64 and arr.dtype != np.float32:
        raise TypeError(f"{name}: x must be a float64 or float32 array, got dtype {arr.dtype}")
    src = np.ascontiguousarray(arr)
    if out is None:
        res = np.empty(arr.shape, dtype=arr.dtype)
    else:
        if not isinstance(out, np.ndarray):
            raise TypeError(f"{name}: out must be a NumPy array, got {type(out).__name__}")
        if out.dtype != arr.dtype or out.shape != arr.shape:
            raise ValueError(f"{name}: out must have the dtype and shape of x "
                             f"({arr.dtype}, {arr.shape}), got ({out.dtype}, {out.shape})")
        if not out.flags.c_contiguous or not out.flags.writeable:
            raise ValueError(f"{name}: out must be a writeable C-contiguous array")
        if out is not arr and np.shares_memory(out, src):
            raise ValueError(f"{name}: out must be x itself or not overlap it")
        res = out
    cdef Py_ssize_t n = arr.size
    if n == 0:
        return res
    cdef double[::1] s64, d64
    cdef float[::1] s32, d32
    cdef cynp_loop_f64 f64 = cynp_get_f64(_variant, fn)
    cdef cynp_loop_f32 f32 = cynp_get_f32(_variant, fn)
    if arr.dtype == np.float64:
        s64 = src.reshape(-1)
        d64 = res.reshape(-1)
        with nogil:
            f64(&s64[0], &d64[0], n)
    else:
        s32 = src.reshape(-1)
        d32 = res.reshape(-1)
        with nogil:
            f32(&s32[0], &d32[0], n)
    return res


def exp(x, out=None):
    """Portable ``e**x``, elementwise.

    Parameters
    ----------
    x : array_like of float64 or float32
        Any shape.
    out : ndarray, optional
        C-contiguous array of the dtype and shape of `x` to write to; may be
        `x` itself (in place), must not overlap it otherwise.

    Returns
    -------
    ndarray
        A new array (or `out`) of the dtype and shape of `x`.
    """
    return _run("exp", x, out, CYNP_FN_EXP)


def log(x, out=None):
    """Portable natural logarithm, elementwise (parameters as for `exp`)."""
    return _run("log", x, out, CYNP_FN_LOG)


def log1p(x, out=None):
    """Portable ``log(1 + x)``, elementwise (parameters as for `exp`)."""
    return _run("log1p", x, out, CYNP_FN_LOG1P)


def tanh(x, out=None):
    """Portable hyperbolic tangent, elementwise (parameters as for `exp`)."""
    return _run("tanh", x, out, CYNP_FN_TANH)


def sigmoid_neg(x, out=None):
    """``1 / (1 + exp(x))`` with the portable exp, elementwise, in the dtype of
    `x` (parameters as for `exp`): the core's sigmoid after its affine map
    negated the input, one loop instead of exp then the reciprocal."""
    return _run("sigmoid_neg", x, out, CYNP_FN_SIGMOID_NEG)
