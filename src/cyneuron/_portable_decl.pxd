# cython: language_level=3
"""C declarations of the portable loops' dispatch (csrc/cyn_portable_dispatch.h),
shared by the core (numerics="portable") and the cyneuron._portable test hook."""

cdef extern from "cyn_portable_dispatch.h" nogil:
    ctypedef void (*cynp_loop_f64)(const double *, double *, ptrdiff_t) noexcept nogil
    ctypedef void (*cynp_loop_f32)(const float *, float *, ptrdiff_t) noexcept nogil
    int CYNP_FN_EXP, CYNP_FN_LOG, CYNP_FN_LOG1P, CYNP_FN_TANH, CYNP_FN_SIGMOID_NEG
    int CYNP_N_VAR
    int cynp_variant_supported(int v)
    cynp_loop_f64 cynp_get_f64(int v, int fn)
    cynp_loop_f32 cynp_get_f32(int v, int fn)
    # the scalar copy (plain selects), element by element: the "inline" variant
    double cynp_sigmoid_neg_f64(double x)
    float cynp_sigmoid_neg_f32(float x)
