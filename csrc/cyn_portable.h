/* cyn_portable.h: cyneuron's portable transcendental functions.
 *
 * exp, log, log1p and tanh for binary64 and binary32, each a fixed sequence of
 * IEEE-754 operations (+ - * /, comparisons, selects, exact scaling by powers
 * of two built from integer bits): no fused multiply-add, no C library call,
 * no table.  Every conforming platform that rounds to nearest and keeps
 * subnormals therefore computes the same bits, and
 * cyneuron._portable_reference performs the same operations with NumPy.
 * Measured worst error: below 1 ulp (docs/portable.rst).
 *
 * Compile with contraction off (-ffp-contract=off; MSVC /fp:precise) and
 * without -ffast-math: the operation order written here is the contract.
 * Special cases and branches of the algorithms are selects between computed
 * values.  The bodies (cyn_portable_body.h) are compiled twice: cynp_exp_f64
 * etc. with plain ?: selects, for scalar calls, and cynp_exp_f64_v etc. with
 * bitwise blends, which the array loops at the end use so that they
 * vectorise; a select has the same value either way.  Polynomials are
 * evaluated in Estrin's order.  float32 is computed in binary64 and rounded
 * once, which keeps it below 0.5 + 2**-28 ulp.
 *
 * The algorithms (constants derived by benchmarks/portable_constants.py):
 *   exp   x = k ln2 + r, |r| <= ln2/2 (Cody-Waite, ln2 = LN2HI + LN2LO with
 *         k*LN2HI exact); e^r = 1 + (hi - (lo - r^2 P(r))) with P of degree
 *         10; the result is scaled by 2^k in two steps, 2^(k1) then 2^(k-k1),
 *         the first exact, the second exact or one rounding into subnormals.
 *   log   x = 2^e m, m in [sqrt(1/2), sqrt(2)), f = m - 1, s = f/(2+f),
 *         log(1+f) = 2 atanh(s) = f - (f^2/2 - s (f^2/2 + s^2 Q(s^2))), Q of
 *         degree 7; log x = e LN2HI + (that + e LN2LO).
 *   log1p u = 1 + x rounded, c = the exact rounding error of that sum
 *         (Fast2Sum); log1p(x) = log(u) + c/u, log(u) as for log.
 *   tanh  |x| < 0.55: x + x w G(w), w = x^2, G of degree 10.  Otherwise
 *         E = e^(2|x|) - 1 as a double-double from the exp reduction and
 *         tanh = E / (E + 2) by a double-double division (Dekker products
 *         with Veltkamp splitting, no FMA); |x| >= 22 gives 1; sign restored.
 */
#ifndef CYN_PORTABLE_H
#define CYN_PORTABLE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Forced inlining: the loops must see the scalar code to vectorise it, and
 * each SIMD variant that includes them needs its own copy. */
#if defined(__GNUC__) || defined(__clang__)
#define CYNP_INLINE static inline __attribute__((always_inline))
#elif defined(_MSC_VER)
#define CYNP_INLINE static __forceinline
#else
#define CYNP_INLINE static inline
#endif

/* ---- constants (hex floats: exact) ---- */
#define CYNP_MAGIC   0x1.8p52                 /* 1.5 * 2^52: x + MAGIC - MAGIC rounds x to an integer */
#define CYNP_MAGIC_BITS UINT64_C(0x4338000000000000)
#define CYNP_LN2HI   0x1.62e42fefa3800p-1     /* ln 2 to 42 bits: k * LN2HI exact for |k| < 2^11 */
#define CYNP_LN2LO   0x1.ef35793c76730p-45    /* ln 2 - LN2HI */
#define CYNP_INVLN2  0x1.71547652b82fep+0
#define CYNP_SQRT2   0x1.6a09e667f3bcdp+0
#define CYNP_SPLIT   0x1.0000002p27           /* 2^27 + 1: Veltkamp splitting */

#define CYNP_EXP_P0  0x1.0000000000000p-1
#define CYNP_EXP_P1  0x1.5555555555557p-3
#define CYNP_EXP_P2  0x1.5555555555556p-5
#define CYNP_EXP_P3  0x1.111111110ff8bp-7
#define CYNP_EXP_P4  0x1.6c16c16c16214p-10
#define CYNP_EXP_P5  0x1.a01a01ac9de9ep-13
#define CYNP_EXP_P6  0x1.a01a01a74077ap-16
#define CYNP_EXP_P7  0x1.71ddfff6573d6p-19
#define CYNP_EXP_P8  0x1.27e4da1e12fb1p-22
#define CYNP_EXP_P9  0x1.af5282aacdb2ep-26
#define CYNP_EXP_P10 0x1.1f75a3caadff5p-29

#define CYNP_LOG_Q0  0x1.5555555555555p-1
#define CYNP_LOG_Q1  0x1.9999999999a38p-2
#define CYNP_LOG_Q2  0x1.2492492476c87p-2
#define CYNP_LOG_Q3  0x1.c71c720160b47p-3
#define CYNP_LOG_Q4  0x1.745cf901605f7p-3
#define CYNP_LOG_Q5  0x1.3b1c360763b8ap-3
#define CYNP_LOG_Q6  0x1.0fbe83c2cbcf3p-3
#define CYNP_LOG_Q7  0x1.0c04595972ab8p-3

#define CYNP_TANH_G0  -0x1.5555555555555p-2
#define CYNP_TANH_G1   0x1.1111111111030p-3
#define CYNP_TANH_G2  -0x1.ba1ba1b9fe8a1p-5
#define CYNP_TANH_G3   0x1.664f4876fd0d1p-6
#define CYNP_TANH_G4  -0x1.226e32ec0ef6ap-7
#define CYNP_TANH_G5   0x1.d6d33860c95aap-9
#define CYNP_TANH_G6  -0x1.7d97c2add0641p-10
#define CYNP_TANH_G7   0x1.34c5272f2c133p-11
#define CYNP_TANH_G8  -0x1.ec0a900d5815dp-13
#define CYNP_TANH_G9   0x1.64e9db7df7707p-14
#define CYNP_TANH_G10 -0x1.59718922d52fap-16

/* ---- bits ---- */
CYNP_INLINE uint64_t cynp_bits(double x) { uint64_t u; memcpy(&u, &x, sizeof u); return u; }
CYNP_INLINE double cynp_double(uint64_t u) { double x; memcpy(&x, &u, sizeof x); return x; }
CYNP_INLINE double cynp_fabs(double x) { return cynp_double(cynp_bits(x) & UINT64_C(0x7fffffffffffffff)); }
/* c ? a : b as a bitwise blend of two computed values, for the loops: with
 * plain ternaries gcc threads jumps through the selects and, under the
 * default -ftrapping-math, cannot if-convert the floating-point operations
 * it moved into branches, so the loop would not vectorise.  In scalar code
 * the blend costs more than a branch, hence the two copies of the body. */
CYNP_INLINE double cynp_blend(int c, double a, double b) {
    uint64_t m = (uint64_t)0 - (uint64_t)(c != 0);
    return cynp_double((cynp_bits(a) & m) | (cynp_bits(b) & ~m));
}
/* 2^n for an integer n in [-1022, 1023] handed over as MAGIC + n (its bits). */
CYNP_INLINE double cynp_pow2(uint64_t magic_plus_n) {
    return cynp_double((magic_plus_n - CYNP_MAGIC_BITS + 1023u) << 52);
}

/* P(r) = (e^r - 1 - r) / r^2 on |r| <= 0.35, by Estrin's scheme (shorter
 * dependency chains than Horner; the order below is the contract). */
CYNP_INLINE double cynp_exp_poly(double r) {
    double r2 = r * r, r4 = r2 * r2, r8 = r4 * r4;
    double p01 = CYNP_EXP_P0 + CYNP_EXP_P1 * r, p23 = CYNP_EXP_P2 + CYNP_EXP_P3 * r;
    double p45 = CYNP_EXP_P4 + CYNP_EXP_P5 * r, p67 = CYNP_EXP_P6 + CYNP_EXP_P7 * r;
    double p89 = CYNP_EXP_P8 + CYNP_EXP_P9 * r;
    double q0 = p01 + p23 * r2, q1 = p45 + p67 * r2, q2 = p89 + CYNP_EXP_P10 * r2;
    return (q0 + q1 * r4) + q2 * r8;
}

CYNP_INLINE double cynp_nan(void) { return cynp_double(UINT64_C(0x7ff8000000000000)); }
CYNP_INLINE double cynp_inf(void) { return cynp_double(UINT64_C(0x7ff0000000000000)); }

/* Q(w), w = s^2 <= 0.0295: 2 atanh(s) = 2s + s w Q(w); Estrin. */
CYNP_INLINE double cynp_log_poly(double w) {
    double w2 = w * w, w4 = w2 * w2;
    double q01 = CYNP_LOG_Q0 + CYNP_LOG_Q1 * w, q23 = CYNP_LOG_Q2 + CYNP_LOG_Q3 * w;
    double q45 = CYNP_LOG_Q4 + CYNP_LOG_Q5 * w, q67 = CYNP_LOG_Q6 + CYNP_LOG_Q7 * w;
    return (q01 + q23 * w2) + (q45 + q67 * w2) * w4;
}

/* G(w), w = x^2 < 0.3025: tanh(x) = x + x w G(w); Estrin. */
CYNP_INLINE double cynp_tanh_poly(double w) {
    double w2 = w * w, w4 = w2 * w2, w8 = w4 * w4;
    double g01 = CYNP_TANH_G0 + CYNP_TANH_G1 * w, g23 = CYNP_TANH_G2 + CYNP_TANH_G3 * w;
    double g45 = CYNP_TANH_G4 + CYNP_TANH_G5 * w, g67 = CYNP_TANH_G6 + CYNP_TANH_G7 * w;
    double g89 = CYNP_TANH_G8 + CYNP_TANH_G9 * w;
    double h0 = g01 + g23 * w2, h1 = g45 + g67 * w2, h2 = g89 + CYNP_TANH_G10 * w2;
    return (h0 + h1 * w4) + h2 * w8;
}

/* ---- the functions: scalar copy, then the copy the loops use ---- */
#define CYNP_FN(name) cynp_##name
#define CYNP_SEL(c, a, b) ((c) ? (a) : (b))
#include "cyn_portable_body.h"
#undef CYNP_FN
#undef CYNP_SEL
#define CYNP_FN(name) cynp_##name##_v
#define CYNP_SEL(c, a, b) cynp_blend((c), (a), (b))
#include "cyn_portable_body.h"
#undef CYNP_FN
#undef CYNP_SEL

/* 1 / (1 + exp(x)): the sigmoid's last two steps, after the affine map has
 * negated its input (the core's sigmoid, cyn_ew_recip1p after the exp loop:
 * the same operations in one loop; typed constants keep float32 in float32). */
CYNP_INLINE double cynp_sigmoid_neg_f64_v(double x) { return 1.0 / (1.0 + cynp_exp_f64_v(x)); }
CYNP_INLINE float cynp_sigmoid_neg_f32_v(float x) { return 1.0f / (1.0f + cynp_exp_f32_v(x)); }
CYNP_INLINE double cynp_sigmoid_neg_f64(double x) { return 1.0 / (1.0 + cynp_exp_f64(x)); }
CYNP_INLINE float cynp_sigmoid_neg_f32(float x) { return 1.0f / (1.0f + cynp_exp_f32(x)); }

/* ---- array loops: contiguous buffers, x == y allowed ----
 * Blocks of CYNP_BLOCK go through a local buffer, so that the compiler can
 * vectorise the inner loop without an aliasing check (in-place calls too).
 */
#define CYNP_BLOCK 64
#define CYNP_DEFINE_LOOP(NAME, T, FUNC)                                        \
    CYNP_INLINE void NAME(const T *x, T *y, ptrdiff_t n) {                   \
        T buf[CYNP_BLOCK];                                                     \
        ptrdiff_t i = 0;                                                       \
        for (; i + CYNP_BLOCK <= n; i += CYNP_BLOCK) {                         \
            for (int j = 0; j < CYNP_BLOCK; j++) buf[j] = FUNC(x[i + j]);      \
            memcpy(y + i, buf, sizeof buf);                                    \
        }                                                                      \
        for (; i < n; i++) y[i] = FUNC(x[i]);                                  \
    }

CYNP_DEFINE_LOOP(cynp_exp_f64_n, double, cynp_exp_f64_v)
CYNP_DEFINE_LOOP(cynp_log_f64_n, double, cynp_log_f64_v)
CYNP_DEFINE_LOOP(cynp_log1p_f64_n, double, cynp_log1p_f64_v)
CYNP_DEFINE_LOOP(cynp_tanh_f64_n, double, cynp_tanh_f64_v)
CYNP_DEFINE_LOOP(cynp_exp_f32_n, float, cynp_exp_f32_v)
CYNP_DEFINE_LOOP(cynp_log_f32_n, float, cynp_log_f32_v)
CYNP_DEFINE_LOOP(cynp_log1p_f32_n, float, cynp_log1p_f32_v)
CYNP_DEFINE_LOOP(cynp_tanh_f32_n, float, cynp_tanh_f32_v)
CYNP_DEFINE_LOOP(cynp_sigmoid_neg_f64_n, double, cynp_sigmoid_neg_f64_v)
CYNP_DEFINE_LOOP(cynp_sigmoid_neg_f32_n, float, cynp_sigmoid_neg_f32_v)

#ifdef __cplusplus
}
#endif
#endif /* CYN_PORTABLE_H */
