# cython: language_level=3
"""cyneuron's portable transcendental functions, compiled (``csrc/cyn_portable.h``).

``exp``, ``log``, ``log1p`` and ``tanh`` over float64 and float32 arrays, bit
for bit equal to the NumPy spec in ``cyneuron._portable_reference`` on every
IEEE-754 machine (round-to-nearest, subnormals on).  This module is the test
hook of the portable numerics mode and the building block the core inlines.
"""

import numpy as np

cdef extern from "cyn_portable.h" nogil:
    void cynp_exp_f64_n(const double *x, double *y, ptrdiff_t n)
    void cynp_log_f64_n(const double *x, double *y, ptrdiff_t n)
    void cynp_log1p_f64_n(const double *x, double *y, ptrdiff_t n)
    void cynp_tanh_f64_n(const double *x, double *y, ptrdiff_t n)
    void cynp_exp_f32_n(const float *x, float *y, ptrdiff_t n)
    void cynp_log_f32_n(const float *x, float *y, ptrdiff_t n)
    void cynp_log1p_f32_n(const float *x, float *y, ptrdiff_t n)
    void cynp_tanh_f32_n(const float *x, float *y, ptrdiff_t n)

ctypedef void (*loop64)(const double *, double *, ptrdiff_t) noexcept nogil
ctypedef void (*loop32)(const float *, float *, ptrdiff_t) noexcept nogil


cdef object _run(str name, x, out, loop64 f64, loop32 f32):
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
    return _run("exp", x, out, cynp_exp_f64_n, cynp_exp_f32_n)


def log(x, out=None):
    """Portable natural logarithm, elementwise (parameters as for `exp`)."""
    return _run("log", x, out, cynp_log_f64_n, cynp_log_f32_n)


def log1p(x, out=None):
    """Portable ``log(1 + x)``, elementwise (parameters as for `exp`)."""
    return _run("log1p", x, out, cynp_log1p_f64_n, cynp_log1p_f32_n)


def tanh(x, out=None):
    """Portable hyperbolic tangent, elementwise (parameters as for `exp`)."""
    return _run("tanh", x, out, cynp_tanh_f64_n, cynp_tanh_f32_n)
