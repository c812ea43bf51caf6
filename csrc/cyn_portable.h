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
 * The functions are branch-free (selects, not jumps) so that the array loops
 * at the end vectorise.  float32 is computed in binary64 and rounded once,
 * which keeps it below 0.5 + 2**-28 ulp.
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
/* c ? a : b with both operands already computed: a bitwise blend, so that
 * the compiler never turns a select into a branch around a floating-point
 * operation (which -ftrapping-math forbids it to if-convert back). */
CYNP_INLINE double cynp_sel(int c, double a, double b) {
    uint64_t m = (uint64_t)0 - (uint64_t)(c != 0);
    return cynp_double((cynp_bits(a) & m) | (cynp_bits(b) & ~m));
}
/* 2^n for an integer n in [-1022, 1023] handed over as MAGIC + n (its bits). */
CYNP_INLINE double cynp_pow2(uint64_t magic_plus_n) {
    return cynp_double((magic_plus_n - CYNP_MAGIC_BITS + 1023u) << 52);
}

/* P(r) = (e^r - 1 - r) / r^2 on |r| <= 0.35, Horner. */
CYNP_INLINE double cynp_exp_poly(double r) {
    double p = CYNP_EXP_P10;
    p = CYNP_EXP_P9 + r * p;
    p = CYNP_EXP_P8 + r * p;
    p = CYNP_EXP_P7 + r * p;
    p = CYNP_EXP_P6 + r * p;
    p = CYNP_EXP_P5 + r * p;
    p = CYNP_EXP_P4 + r * p;
    p = CYNP_EXP_P3 + r * p;
    p = CYNP_EXP_P2 + r * p;
    p = CYNP_EXP_P1 + r * p;
    p = CYNP_EXP_P0 + r * p;
    return p;
}

/* ---- exp ---- */
CYNP_INLINE double cynp_exp_f64(double x) {
    /* Clamp so that k stays in [-1077, 1025]; beyond, the result is 0 or inf
     * anyway and the scaling below produces it.  NaN passes both compares. */
    double xc = cynp_sel(x > 710.0, 710.0, x);
    xc = cynp_sel(xc < -746.0, -746.0, xc);
    double t = xc * CYNP_INVLN2 + CYNP_MAGIC;
    double kd = t - CYNP_MAGIC;                      /* k = nearest integer to x/ln2 */
    double t1 = kd * 0.5 + CYNP_MAGIC;               /* k1 = k/2 rounded (ties to even) */
    double t2 = (kd - (t1 - CYNP_MAGIC)) + CYNP_MAGIC;   /* k2 = k - k1 */
    double hi = xc - kd * CYNP_LN2HI;                /* exact */
    double lo = kd * CYNP_LN2LO;
    double r = hi - lo;
    double tail = (r * r) * cynp_exp_poly(r);
    double y = 1.0 + (hi - (lo - tail));
    y = (y * cynp_pow2(cynp_bits(t1))) * cynp_pow2(cynp_bits(t2));
    return cynp_sel(x != x, x + x, y);
}

/* ---- log and log1p share the reduction of u = 2^e m ---- */
CYNP_INLINE double cynp_log_poly(double w) {
    double q = CYNP_LOG_Q7;
    q = CYNP_LOG_Q6 + w * q;
    q = CYNP_LOG_Q5 + w * q;
    q = CYNP_LOG_Q4 + w * q;
    q = CYNP_LOG_Q3 + w * q;
    q = CYNP_LOG_Q2 + w * q;
    q = CYNP_LOG_Q1 + w * q;
    q = CYNP_LOG_Q0 + w * q;
    return q;
}

/* log(u) + c for a positive normal u and a small correction c; eadj is
 * added to the exponent (for pre-scaled subnormals). */
CYNP_INLINE double cynp_log_core(double u, double eadj, double c) {
    uint64_t b = cynp_bits(u);
    double m = cynp_double((b & UINT64_C(0x000fffffffffffff)) | UINT64_C(0x3ff0000000000000));
    /* biased exponent as a double: bits of MAGIC + n, minus MAGIC + 1023 (exact) */
    double e = cynp_double((b >> 52) + CYNP_MAGIC_BITS) - (CYNP_MAGIC + 1023.0);
    int big = m > CYNP_SQRT2;
    m = cynp_sel(big, m * 0.5, m);
    e = cynp_sel(big, e + 1.0, e) + eadj;
    double f = m - 1.0;                              /* exact */
    double s = f / (2.0 + f);
    double w = s * s;
    double R = w * cynp_log_poly(w);
    double hfsq = (0.5 * f) * f;
    return e * CYNP_LN2HI - ((hfsq - (s * (hfsq + R) + (e * CYNP_LN2LO + c))) - f);
}

CYNP_INLINE double cynp_nan(void) { return cynp_double(UINT64_C(0x7ff8000000000000)); }
CYNP_INLINE double cynp_inf(void) { return cynp_double(UINT64_C(0x7ff0000000000000)); }

CYNP_INLINE double cynp_log_f64(double x) {
    int sub = x < 0x1p-1022;                         /* subnormal (or <= 0: replaced below) */
    double u = cynp_sel(sub, x * 0x1p54, x);
    double y = cynp_log_core(u, cynp_sel(sub, -54.0, 0.0), 0.0);
    y = cynp_sel(x > 0x1.fffffffffffffp1023, x, y);          /* +inf */
    y = cynp_sel(x == 0.0, -cynp_inf(), y);
    y = cynp_sel(x < 0.0, cynp_nan(), y);
    return cynp_sel(x != x, x + x, y);
}

CYNP_INLINE double cynp_log1p_f64(double x) {
    double u = 1.0 + x;                              /* >= 2^-53 for x > -1: never subnormal */
    /* Fast2Sum: the exact rounding error of 1 + x, larger operand first */
    double c = cynp_sel(x > 1.0, 1.0 - (u - x), x - (u - 1.0));
    double y = cynp_log_core(u, 0.0, c / u);
    double ax = cynp_fabs(x);
    y = cynp_sel(ax < 0x1p-53, x, y);                        /* log1p(x) rounds to x; keeps -0 */
    y = cynp_sel(x > 0x1.fffffffffffffp1023, x, y);
    y = cynp_sel(x == -1.0, -cynp_inf(), y);
    y = cynp_sel(x < -1.0, cynp_nan(), y);
    return cynp_sel(x != x, x + x, y);
}

/* ---- tanh ---- */
CYNP_INLINE double cynp_tanh_poly(double w) {
    double g = CYNP_TANH_G10;
    g = CYNP_TANH_G9 + w * g;
    g = CYNP_TANH_G8 + w * g;
    g = CYNP_TANH_G7 + w * g;
    g = CYNP_TANH_G6 + w * g;
    g = CYNP_TANH_G5 + w * g;
    g = CYNP_TANH_G4 + w * g;
    g = CYNP_TANH_G3 + w * g;
    g = CYNP_TANH_G2 + w * g;
    g = CYNP_TANH_G1 + w * g;
    g = CYNP_TANH_G0 + w * g;
    return g;
}

CYNP_INLINE double cynp_tanh_f64(double x) {
    /* tanh is odd: computed for a = |x|, the sign of x put back at the end */
    double a = cynp_fabs(x);
    /* small a: odd polynomial (subnormals come back unchanged: the tail underflows) */
    double w = a * a;
    double ysmall = a + a * (w * cynp_tanh_poly(w));
    /* large a: z = 2a = k ln2 + r, e^r = 1 + qh + ql, E = 2^k e^r - 1 */
    double ac = cynp_sel(a > 22.0, 22.0, a);
    ac = cynp_sel(ac < 0.5, 0.5, ac);                        /* keeps k >= 1 on the unused lanes */
    double z = ac + ac;
    double t = z * CYNP_INVLN2 + CYNP_MAGIC;
    double kd = t - CYNP_MAGIC;                      /* k in [1, 63] */
    double hi = z - kd * CYNP_LN2HI;                 /* exact */
    double lo = kd * CYNP_LN2LO;
    double r = hi - lo;
    double rl = (hi - r) - lo;                       /* r + rl = hi - lo to 2^-100 */
    double tail = (r * r) * cynp_exp_poly(r);
    double qh = r + tail;                            /* TwoSum(r, tail) */
    double bb = qh - r;
    double ql = (r - (qh - bb)) + (tail - bb);
    ql = ql + (rl + r * rl);                         /* e^(r+rl) - e^r = e^r rl to first order */
    double S = cynp_pow2(cynp_bits(t));              /* 2^k */
    double A = S - 1.0;
    double B = S * qh;                               /* exact */
    double Eh = A + B;                               /* TwoSum(A, B) */
    double b2 = Eh - A;
    double El = ((A - (Eh - b2)) + (B - b2)) + S * ql;
    /* tanh = E / (E + 2) in double-double */
    double Dh = 2.0 + Eh;                            /* TwoSum(2, Eh) */
    double b3 = Dh - 2.0;
    double Dl = ((2.0 - (Dh - b3)) + (Eh - b3)) + El;
    double th = Eh / Dh;
    double p = th * Dh;                              /* p + perr = th * Dh exactly (Dekker) */
    double c1 = CYNP_SPLIT * th;
    double thh = c1 - (c1 - th);
    double thl = th - thh;
    double c2 = CYNP_SPLIT * Dh;
    double dhh = c2 - (c2 - Dh);
    double dhl = Dh - dhh;
    double perr = ((thh * dhh - p) + thh * dhl + thl * dhh) + thl * dhl;
    double resid = (((Eh - p) - perr) + El) - th * Dl;
    double ylarge = th + resid / Dh;
    double y = cynp_sel(a < 0.55, ysmall, ylarge);
    y = cynp_double(cynp_bits(y) | (cynp_bits(x) & UINT64_C(0x8000000000000000)));
    return cynp_sel(x != x, x + x, y);
}

/* ---- float32: computed in binary64, rounded once ---- */
CYNP_INLINE float cynp_exp_f32(float x) { return (float)cynp_exp_f64((double)x); }
CYNP_INLINE float cynp_log_f32(float x) { return (float)cynp_log_f64((double)x); }
CYNP_INLINE float cynp_log1p_f32(float x) { return (float)cynp_log1p_f64((double)x); }
CYNP_INLINE float cynp_tanh_f32(float x) { return (float)cynp_tanh_f64((double)x); }

/* ---- array loops: contiguous buffers, x == y allowed ----
 * Blocks of CYNP_BLOCK go through a local buffer, so that the compiler can
 * vectorise the inner loop without an aliasing check (in-place calls too). */
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

CYNP_DEFINE_LOOP(cynp_exp_f64_n, double, cynp_exp_f64)
CYNP_DEFINE_LOOP(cynp_log_f64_n, double, cynp_log_f64)
CYNP_DEFINE_LOOP(cynp_log1p_f64_n, double, cynp_log1p_f64)
CYNP_DEFINE_LOOP(cynp_tanh_f64_n, double, cynp_tanh_f64)
CYNP_DEFINE_LOOP(cynp_exp_f32_n, float, cynp_exp_f32)
CYNP_DEFINE_LOOP(cynp_log_f32_n, float, cynp_log_f32)
CYNP_DEFINE_LOOP(cynp_log1p_f32_n, float, cynp_log1p_f32)
CYNP_DEFINE_LOOP(cynp_tanh_f32_n, float, cynp_tanh_f32)

#ifdef __cplusplus
}
#endif
#endif /* CYN_PORTABLE_H */
