# Included by _core.pyx: the transcendental functions the core calls, NumPy's
# own loops (numerics="numpy") or cyneuron's portable ones (numerics="portable").

# ---------------------------------------------------------------------------
# NumPy's own elementwise loops (exp, tanh): the core must call the very code
# that np.exp / np.tanh run, because on AVX-512 machines that code is NumPy's
# SIMD implementation and differs from the C library in some last bits.
# ---------------------------------------------------------------------------

ctypedef void (*npy_loop_t)(char **args, const cnp.npy_intp *dims,
                            const cnp.npy_intp *steps, void *data) noexcept nogil

# NumPy's loops per function (FN_*) and dtype, filled at import by _find_loop
cdef enum:
    FN_EXP = 0
    FN_TANH = 1
    FN_LOG = 2
    FN_LOG1P = 3
    N_FN = 4
cdef npy_loop_t _np_f64[N_FN]
cdef npy_loop_t _np_f32[N_FN]
cdef void *_np_f64_data[N_FN]
cdef void *_np_f32_data[N_FN]

# The ufunc's fields are read through the C struct, which every NumPy C header
# since 1.x defines, not through Cython's `cnp.ufunc` class: NumPy 2.5's
# `__init__.pxd` dropped `types` from that class, so `u.types` silently became
# the Python attribute (a list of strings) and indexing it crashed at import.
cdef extern from "numpy/ufuncobject.h":
    ctypedef struct _UFuncFields "PyUFuncObject":
        int nin
        int nout
        int ntypes
        char *types
        void **functions
        void **data


cdef int _find_loop(object uf, int typenum, npy_loop_t *loop, void **data) except -1:
    """Store the first inner loop of ufunc `uf` typed typenum -> typenum.

    The index is taken from the Python-level ``uf.types`` signatures and checked
    against the C fields, so that a struct layout this build does not expect ends
    in an ImportError instead of a call through a wrong pointer.
    """
    if not isinstance(uf, np.ufunc):
        raise TypeError(f"{uf!r} is not a ufunc")
    cdef _UFuncFields *u = <_UFuncFields *><PyObject *>uf
    cdef str char = np.dtype(np.float64 if typenum == cnp.NPY_DOUBLE else np.float32).char
    cdef list signatures = list(uf.types)
    cdef int i
    if u.nin != 1 or u.nout != 1 or uf.nin != 1 or uf.nout != 1:
        raise TypeError(f"{uf!r} is not a unary ufunc")
    if (u.ntypes != len(signatures) or u.types == NULL or u.functions == NULL
            or u.data == NULL):
        raise ImportError(f"NumPy's {uf.__name__} ufunc does not have the layout this build of "
                          "cyneuron expects; rebuild cyneuron against the installed NumPy")
    for i in range(u.ntypes):
        if signatures[i] == f"{char}->{char}":
            if u.types[2 * i] != typenum or u.types[2 * i + 1] != typenum or u.functions[i] == NULL:
                raise ImportError(f"NumPy's {uf.__name__} loop table does not match its signatures; "
                                  "rebuild cyneuron against the installed NumPy")
            loop[0] = <npy_loop_t>u.functions[i]
            data[0] = u.data[i]
            return 0
    raise RuntimeError(f"NumPy's {uf.__name__} has no loop for type number {typenum}")


for _fn, _uf in ((FN_EXP, np.exp), (FN_TANH, np.tanh), (FN_LOG, np.log), (FN_LOG1P, np.log1p)):
    _find_loop(_uf, cnp.NPY_DOUBLE, &_np_f64[_fn], &_np_f64_data[_fn])
    _find_loop(_uf, cnp.NPY_FLOAT, &_np_f32[_fn], &_np_f32_data[_fn])

# numerics="portable": cyneuron's own exp, tanh, log and log1p (csrc/cyn_portable.h),
# fixed sequences of IEEE operations that give the same bits on every machine;
# the widest loop variant this CPU runs (every variant gives the same bits).
cdef int _portable_best():
    cdef int v = CYNP_N_VAR - 1
    while v > 1 and not cynp_variant_supported(v):
        v -= 1
    return v


cdef int _pvar = _portable_best()
cdef cynp_loop_f64 _p_f64[N_FN + 1]
cdef cynp_loop_f32 _p_f32[N_FN + 1]
# FN_SIGMOID_NEG: 1 / (1 + exp(x)) in one portable loop (the sigmoid after the
# affine map's negation); NumPy has no such loop, so numpy mode runs exp, then
# ew_recip1p
cdef enum:
    FN_SIGMOID_NEG = N_FN
    SIGMOID_INLINE = 2      # up to this many values, sigmoid_neg runs the scalar copy inline


cdef void _portable_use(int v) noexcept:
    cdef int fn
    global _pvar
    _pvar = v
    for fn, pfn in ((FN_EXP, CYNP_FN_EXP), (FN_TANH, CYNP_FN_TANH), (FN_LOG, CYNP_FN_LOG),
                    (FN_LOG1P, CYNP_FN_LOG1P), (FN_SIGMOID_NEG, CYNP_FN_SIGMOID_NEG)):
        _p_f64[fn] = cynp_get_f64(v, pfn)
        _p_f32[fn] = cynp_get_f32(v, pfn)


_portable_use(_pvar)

# the names of cyneuron._portable.VARIANT_NAMES, in the order of the C enum
_PORTABLE_VARIANTS = ("inline", "scalar", "sse42", "avx2", "avx512")


cdef inline void sigmoid_neg(floating *z, isz n, bint portable) noexcept nogil:
    """z = 1 / (1 + exp(z)) in place: the sigmoid once the affine map has
    negated its input (one portable loop, or NumPy's exp then ew_recip1p)."""
    cdef isz i
    if n <= 0:
        return
    if portable and n <= SIGMOID_INLINE:
        # a value or two (per-sample SGD of a 2-2-1 net): the scalar copy of
        # the portable exp, inline, is shorter than a call into a vector loop
        for i in range(n):
            if floating is double:
                z[i] = cynp_sigmoid_neg_f64(z[i])
            else:
                z[i] = cynp_sigmoid_neg_f32(z[i])
    elif portable:
        if floating is double:
            _p_f64[FN_SIGMOID_NEG](z, z, n)
        else:
            _p_f32[FN_SIGMOID_NEG](z, z, n)
    else:
        vexp(z, n, False)
        ew_recip1p(z, n)


cdef inline void _run_loop(npy_loop_t loop, void *data, char *buf, isz n,
                           isz itemsize) noexcept nogil:
    # In place (identical input and output buffers): NumPy's SIMD loops accept
    # that; a partial overlap would send them to the C library instead.
    cdef char *args[2]
    cdef cnp.npy_intp dims[1]
    cdef cnp.npy_intp steps[2]
    if n <= 0:
        return
    args[0] = buf
    args[1] = buf
    dims[0] = n
    steps[0] = itemsize
    steps[1] = itemsize
    loop(args, dims, steps, data)


cdef inline void vmath(int fn, floating *x, isz n, bint portable) noexcept nogil:
    """x[i] = f(x[i]) in place for f = FN_EXP, FN_TANH, FN_LOG or FN_LOG1P:
    NumPy's loop for the dtype, or (portable) cyneuron's own."""
    if n <= 0:
        return
    if portable:
        if floating is double:
            _p_f64[fn](x, x, n)
        else:
            _p_f32[fn](x, x, n)
    elif floating is double:
        _run_loop(_np_f64[fn], _np_f64_data[fn], <char *>x, n, sizeof(double))
    else:
        _run_loop(_np_f32[fn], _np_f32_data[fn], <char *>x, n, sizeof(float))


cdef inline void vexp(floating *x, isz n, bint portable) noexcept nogil:
    vmath(FN_EXP, x, n, portable)


cdef inline void vtanh(floating *x, isz n, bint portable) noexcept nogil:
    vmath(FN_TANH, x, n, portable)


cdef inline void vlog(floating *x, isz n, bint portable) noexcept nogil:
    vmath(FN_LOG, x, n, portable)


cdef inline void vlog1p(floating *x, isz n, bint portable) noexcept nogil:
    vmath(FN_LOG1P, x, n, portable)
