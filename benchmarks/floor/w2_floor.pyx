# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""W2 written out by hand: the lower bound for an exact per-sample SGD step.

The seed-000 2-2-1 sigmoid net, MSE, plain SGD, one sample per update, with
every size a compile-time constant, every value in a register, and nothing
but the contract's operations in the contract's order. Only exp differs
between the two variants: NumPy's own float64 loop (what the contract
requires) or the C library's exp (what FANN uses; not exact w.r.t. np.exp).
benchmarks/floor/run.py times both and checks the NumPy-exp variant against
cyneuron bit for bit.
"""
cimport numpy as cnp
import numpy as np
from libc.math cimport exp

cnp.import_array()
cnp.import_ufunc()

ctypedef void (*loop_t)(char **args, const cnp.npy_intp *dims,
                        const cnp.npy_intp *steps, void *data) noexcept nogil

cdef loop_t _loop = NULL
cdef void *_data = NULL


cdef int _find_exp() except -1:
    global _loop, _data
    cdef cnp.ufunc u = np.exp
    cdef int i
    for i in range(u.ntypes):
        if u.types[2 * i] == cnp.NPY_DOUBLE and u.types[2 * i + 1] == cnp.NPY_DOUBLE:
            _loop = <loop_t>u.functions[i]
            _data = u.data[i]
            return 0
    raise RuntimeError("no float64 exp loop")


_find_exp()


cdef inline void vexp(double *b, int n, bint libm) noexcept nogil:
    cdef char *args[2]
    cdef cnp.npy_intp dims[1]
    cdef cnp.npy_intp steps[2]
    cdef int j
    if libm:
        for j in range(n):
            b[j] = exp(b[j])
        return
    args[0] = <char *>b
    args[1] = <char *>b
    dims[0] = n
    steps[0] = 8
    steps[1] = 8
    _loop(args, dims, steps, _data)


def train(const double[:, ::1] X, const double[:, ::1] Y, double[::1] p, long epochs,
          double lr, bint libm=False):
    """p = [W1 (2x2), b1 (2), W2 (2x1), b2 (1)], updated in place."""
    cdef double *W1 = &p[0]
    cdef double *b1 = &p[4]
    cdef double *W2 = &p[6]
    cdef double *b2 = &p[8]
    cdef double h[2]
    cdef double o[1]
    cdef double x0, x1, d, d0, d1, e
    cdef long ep
    cdef int s
    with nogil:
        for ep in range(epochs):
            for s in range(4):
                x0 = X[s, 0]
                x1 = X[s, 1]
                h[0] = -(((0.0 + x0 * W1[0]) + x1 * W1[2]) + b1[0])
                h[1] = -(((0.0 + x0 * W1[1]) + x1 * W1[3]) + b1[1])
                vexp(h, 2, libm)
                h[0] = 1.0 / (1.0 + h[0])
                h[1] = 1.0 / (1.0 + h[1])
                o[0] = -(((0.0 + h[0] * W2[0]) + h[1] * W2[1]) + b2[0])
                vexp(o, 1, libm)
                o[0] = 1.0 / (1.0 + o[0])
                e = o[0] - Y[s, 0]
                d = (2.0 * e) * (o[0] * (1.0 - o[0]))      # mse over 1 element: / 1
                d0 = (0.0 + d * W2[0]) * (h[0] * (1.0 - h[0]))
                d1 = (0.0 + d * W2[1]) * (h[1] * (1.0 - h[1]))
                W2[0] = W2[0] - lr * (0.0 + h[0] * d)
                W2[1] = W2[1] - lr * (0.0 + h[1] * d)
                b2[0] = b2[0] - lr * (0.0 + d)
                W1[0] = W1[0] - lr * (0.0 + x0 * d0)
                W1[1] = W1[1] - lr * (0.0 + x0 * d1)
                W1[2] = W1[2] - lr * (0.0 + x1 * d0)
                W1[3] = W1[3] - lr * (0.0 + x1 * d1)
                b1[0] = b1[0] - lr * (0.0 + d0)
                b1[1] = b1[1] - lr * (0.0 + d1)
    return None


def exp_chain(long n, int width):
    """ns per call of NumPy's exp loop on `width` values, each call waiting
    for the previous one (the dependency of per-sample SGD)."""
    cdef double buf[8]
    cdef long i
    cdef int j
    for j in range(8):
        buf[j] = 0.3
    with nogil:
        for i in range(n):
            vexp(buf, width, False)
            for j in range(width):
                buf[j] = buf[j] * 1e-300 + 0.3
    return buf[0]
