/* cyn_portable_dispatch.h: the array loops of cyn_portable.h compiled for
 * several instruction sets, picked at run time (used by cyneuron._portable).
 *
 * The loops are the same source; only the vector width changes, so every
 * variant (and "inline", the scalar functions called element by element)
 * computes the same bits (the tests run each of them against the
 * NumPy spec).  Baseline x86-64 (SSE2) lacks the 64-bit integer compares and
 * blends of the selects and runs the loops one element at a time; the SSE4.2
 * variant holds two doubles, AVX2 four, AVX-512 eight.  None enables FMA, and
 * the build's -ffp-contract=off would keep it unused anyway.
 */
#ifndef CYN_PORTABLE_DISPATCH_H
#define CYN_PORTABLE_DISPATCH_H

#include "cyn_portable.h"

typedef void (*cynp_loop_f64)(const double *, double *, ptrdiff_t);
typedef void (*cynp_loop_f32)(const float *, float *, ptrdiff_t);

/* CYNP_FN_SIGMOID_NEG: 1 / (1 + exp(x)), the sigmoid after the affine map's negation */
enum { CYNP_FN_EXP, CYNP_FN_LOG, CYNP_FN_LOG1P, CYNP_FN_TANH, CYNP_FN_SIGMOID_NEG, CYNP_N_FN };
enum { CYNP_VAR_INLINE, CYNP_VAR_SCALAR, CYNP_VAR_SSE42, CYNP_VAR_AVX2, CYNP_VAR_AVX512, CYNP_N_VAR };

#define CYNP_VARIANT(SFX, ATTR)                                                          \
    ATTR static void cynp_exp_f64_##SFX(const double *x, double *y, ptrdiff_t n) { cynp_exp_f64_n(x, y, n); }     \
    ATTR static void cynp_log_f64_##SFX(const double *x, double *y, ptrdiff_t n) { cynp_log_f64_n(x, y, n); }     \
    ATTR static void cynp_log1p_f64_##SFX(const double *x, double *y, ptrdiff_t n) { cynp_log1p_f64_n(x, y, n); } \
    ATTR static void cynp_tanh_f64_##SFX(const double *x, double *y, ptrdiff_t n) { cynp_tanh_f64_n(x, y, n); }   \
    ATTR static void cynp_exp_f32_##SFX(const float *x, float *y, ptrdiff_t n) { cynp_exp_f32_n(x, y, n); }       \
    ATTR static void cynp_log_f32_##SFX(const float *x, float *y, ptrdiff_t n) { cynp_log_f32_n(x, y, n); }       \
    ATTR static void cynp_log1p_f32_##SFX(const float *x, float *y, ptrdiff_t n) { cynp_log1p_f32_n(x, y, n); }   \
    ATTR static void cynp_tanh_f32_##SFX(const float *x, float *y, ptrdiff_t n) { cynp_tanh_f32_n(x, y, n); }   \
    ATTR static void cynp_sigmoid_neg_f64_##SFX(const double *x, double *y, ptrdiff_t n) { cynp_sigmoid_neg_f64_n(x, y, n); } \
    ATTR static void cynp_sigmoid_neg_f32_##SFX(const float *x, float *y, ptrdiff_t n) { cynp_sigmoid_neg_f32_n(x, y, n); }

CYNP_VARIANT(scalar, )

/* "inline": element by element through the scalar copy of the functions
 * (cynp_exp_f64 etc., plain selects), the one the core calls per element. */
#define CYNP_INLINE_LOOP(NAME, T, FUNC)                                        \
    static void NAME(const T *x, T *y, ptrdiff_t n) {                          \
        for (ptrdiff_t i = 0; i < n; i++) y[i] = FUNC(x[i]);                   \
    }
CYNP_INLINE_LOOP(cynp_exp_f64_inline, double, cynp_exp_f64)
CYNP_INLINE_LOOP(cynp_log_f64_inline, double, cynp_log_f64)
CYNP_INLINE_LOOP(cynp_log1p_f64_inline, double, cynp_log1p_f64)
CYNP_INLINE_LOOP(cynp_tanh_f64_inline, double, cynp_tanh_f64)
CYNP_INLINE_LOOP(cynp_exp_f32_inline, float, cynp_exp_f32)
CYNP_INLINE_LOOP(cynp_log_f32_inline, float, cynp_log_f32)
CYNP_INLINE_LOOP(cynp_log1p_f32_inline, float, cynp_log1p_f32)
CYNP_INLINE_LOOP(cynp_tanh_f32_inline, float, cynp_tanh_f32)
CYNP_INLINE_LOOP(cynp_sigmoid_neg_f64_inline, double, cynp_sigmoid_neg_f64)
CYNP_INLINE_LOOP(cynp_sigmoid_neg_f32_inline, float, cynp_sigmoid_neg_f32)

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__) && !defined(CYN_NO_SIMD)
#define CYNP_X86 1
CYNP_VARIANT(sse42, __attribute__((target("sse4.2"))))
CYNP_VARIANT(avx2, __attribute__((target("avx2"))))
CYNP_VARIANT(avx512, __attribute__((target("avx512f,avx512dq"))))
#else
#define CYNP_X86 0
#endif

#define CYNP_TABLE(SFX, T)                                                  \
    { cynp_exp_##T##_##SFX, cynp_log_##T##_##SFX, cynp_log1p_##T##_##SFX, cynp_tanh_##T##_##SFX, \
      cynp_sigmoid_neg_##T##_##SFX }

/* 1 when variant v runs on this CPU */
static int cynp_variant_supported(int v) {
    if (v == CYNP_VAR_INLINE || v == CYNP_VAR_SCALAR) return 1;
#if CYNP_X86
    __builtin_cpu_init();
    if (v == CYNP_VAR_SSE42) return __builtin_cpu_supports("sse4.2");
    if (v == CYNP_VAR_AVX2) return __builtin_cpu_supports("avx2");
    if (v == CYNP_VAR_AVX512)
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
#endif
    return 0;
}

static cynp_loop_f64 cynp_get_f64(int v, int fn) {
    static const cynp_loop_f64 scalar[CYNP_N_FN] = CYNP_TABLE(scalar, f64);
    static const cynp_loop_f64 inl[CYNP_N_FN] = CYNP_TABLE(inline, f64);
    if (v == CYNP_VAR_INLINE) return inl[fn];
#if CYNP_X86
    static const cynp_loop_f64 sse42[CYNP_N_FN] = CYNP_TABLE(sse42, f64);
    static const cynp_loop_f64 avx2[CYNP_N_FN] = CYNP_TABLE(avx2, f64);
    static const cynp_loop_f64 avx512[CYNP_N_FN] = CYNP_TABLE(avx512, f64);
    if (v == CYNP_VAR_SSE42) return sse42[fn];
    if (v == CYNP_VAR_AVX2) return avx2[fn];
    if (v == CYNP_VAR_AVX512) return avx512[fn];
#endif
    return scalar[fn];
}

static cynp_loop_f32 cynp_get_f32(int v, int fn) {
    static const cynp_loop_f32 scalar[CYNP_N_FN] = CYNP_TABLE(scalar, f32);
    static const cynp_loop_f32 inl[CYNP_N_FN] = CYNP_TABLE(inline, f32);
    if (v == CYNP_VAR_INLINE) return inl[fn];
#if CYNP_X86
    static const cynp_loop_f32 sse42[CYNP_N_FN] = CYNP_TABLE(sse42, f32);
    static const cynp_loop_f32 avx2[CYNP_N_FN] = CYNP_TABLE(avx2, f32);
    static const cynp_loop_f32 avx512[CYNP_N_FN] = CYNP_TABLE(avx512, f32);
    if (v == CYNP_VAR_SSE42) return sse42[fn];
    if (v == CYNP_VAR_AVX2) return avx2[fn];
    if (v == CYNP_VAR_AVX512) return avx512[fn];
#endif
    return scalar[fn];
}

#endif /* CYN_PORTABLE_DISPATCH_H */
