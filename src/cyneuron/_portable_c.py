"""The C source of the portable functions that cn.export_c writes into a header.

Generated from csrc/cyn_portable.h and csrc/cyn_portable_body.h (the scalar
copy: plain selects, names cynx_*) by ``cyneuron._export_c.portable_c_from``;
tests/test_export_c.py checks that this copy is current.  Do not edit by hand.
"""

PORTABLE_C = r"""/* ---- constants (hex floats: exact) ---- */
#define CYNX_MAGIC   0x1.8p52                 /* 1.5 * 2^52: x + MAGIC - MAGIC rounds x to an integer */
#define CYNX_MAGIC_BITS UINT64_C(0x4338000000000000)
#define CYNX_LN2HI   0x1.62e42fefa3800p-1     /* ln 2 to 42 bits: k * LN2HI exact for |k| < 2^11 */
#define CYNX_LN2LO   0x1.ef35793c76730p-45    /* ln 2 - LN2HI */
#define CYNX_INVLN2  0x1.71547652b82fep+0
#define CYNX_SQRT2   0x1.6a09e667f3bcdp+0
#define CYNX_SPLIT   0x1.0000002p27           /* 2^27 + 1: Veltkamp splitting */

#define CYNX_EXP_P0  0x1.0000000000000p-1
#define CYNX_EXP_P1  0x1.5555555555557p-3
#define CYNX_EXP_P2  0x1.5555555555556p-5
#define CYNX_EXP_P3  0x1.111111110ff8bp-7
#define CYNX_EXP_P4  0x1.6c16c16c16214p-10
#define CYNX_EXP_P5  0x1.a01a01ac9de9ep-13
#define CYNX_EXP_P6  0x1.a01a01a74077ap-16
#define CYNX_EXP_P7  0x1.71ddfff6573d6p-19
#define CYNX_EXP_P8  0x1.27e4da1e12fb1p-22
#define CYNX_EXP_P9  0x1.af5282aacdb2ep-26
#define CYNX_EXP_P10 0x1.1f75a3caadff5p-29

#define CYNX_LOG_Q0  0x1.5555555555555p-1
#define CYNX_LOG_Q1  0x1.9999999999a38p-2
#define CYNX_LOG_Q2  0x1.2492492476c87p-2
#define CYNX_LOG_Q3  0x1.c71c720160b47p-3
#define CYNX_LOG_Q4  0x1.745cf901605f7p-3
#define CYNX_LOG_Q5  0x1.3b1c360763b8ap-3
#define CYNX_LOG_Q6  0x1.0fbe83c2cbcf3p-3
#define CYNX_LOG_Q7  0x1.0c04595972ab8p-3

#define CYNX_TANH_G0  -0x1.5555555555555p-2
#define CYNX_TANH_G1   0x1.1111111111030p-3
#define CYNX_TANH_G2  -0x1.ba1ba1b9fe8a1p-5
#define CYNX_TANH_G3   0x1.664f4876fd0d1p-6
#define CYNX_TANH_G4  -0x1.226e32ec0ef6ap-7
#define CYNX_TANH_G5   0x1.d6d33860c95aap-9
#define CYNX_TANH_G6  -0x1.7d97c2add0641p-10
#define CYNX_TANH_G7   0x1.34c5272f2c133p-11
#define CYNX_TANH_G8  -0x1.ec0a900d5815dp-13
#define CYNX_TANH_G9   0x1.64e9db7df7707p-14
#define CYNX_TANH_G10 -0x1.59718922d52fap-16

/* ---- bits ---- */
static inline uint64_t cynx_bits(double x) { uint64_t u; memcpy(&u, &x, sizeof u); return u; }
static inline double cynx_double(uint64_t u) { double x; memcpy(&x, &u, sizeof x); return x; }
static inline double cynx_fabs(double x) { return cynx_double(cynx_bits(x) & UINT64_C(0x7fffffffffffffff)); }
/* 2^n for an integer n in [-1022, 1023] handed over as MAGIC + n (its bits). */
static inline double cynx_pow2(uint64_t magic_plus_n) {
    return cynx_double((magic_plus_n - CYNX_MAGIC_BITS + 1023u) << 52);
}

/* P(r) = (e^r - 1 - r) / r^2 on |r| <= 0.35, by Estrin's scheme (shorter
 * dependency chains than Horner; the order below is the contract). */
static inline double cynx_exp_poly(double r) {
    double r2 = r * r, r4 = r2 * r2, r8 = r4 * r4;
    double p01 = CYNX_EXP_P0 + CYNX_EXP_P1 * r, p23 = CYNX_EXP_P2 + CYNX_EXP_P3 * r;
    double p45 = CYNX_EXP_P4 + CYNX_EXP_P5 * r, p67 = CYNX_EXP_P6 + CYNX_EXP_P7 * r;
    double p89 = CYNX_EXP_P8 + CYNX_EXP_P9 * r;
    double q0 = p01 + p23 * r2, q1 = p45 + p67 * r2, q2 = p89 + CYNX_EXP_P10 * r2;
    return (q0 + q1 * r4) + q2 * r8;
}

static inline double cynx_nan(void) { return cynx_double(UINT64_C(0x7ff8000000000000)); }
static inline double cynx_inf(void) { return cynx_double(UINT64_C(0x7ff0000000000000)); }

/* Q(w), w = s^2 <= 0.0295: 2 atanh(s) = 2s + s w Q(w); Estrin. */
static inline double cynx_log_poly(double w) {
    double w2 = w * w, w4 = w2 * w2;
    double q01 = CYNX_LOG_Q0 + CYNX_LOG_Q1 * w, q23 = CYNX_LOG_Q2 + CYNX_LOG_Q3 * w;
    double q45 = CYNX_LOG_Q4 + CYNX_LOG_Q5 * w, q67 = CYNX_LOG_Q6 + CYNX_LOG_Q7 * w;
    return (q01 + q23 * w2) + (q45 + q67 * w2) * w4;
}

/* G(w), w = x^2 < 0.3025: tanh(x) = x + x w G(w); Estrin. */
static inline double cynx_tanh_poly(double w) {
    double w2 = w * w, w4 = w2 * w2, w8 = w4 * w4;
    double g01 = CYNX_TANH_G0 + CYNX_TANH_G1 * w, g23 = CYNX_TANH_G2 + CYNX_TANH_G3 * w;
    double g45 = CYNX_TANH_G4 + CYNX_TANH_G5 * w, g67 = CYNX_TANH_G6 + CYNX_TANH_G7 * w;
    double g89 = CYNX_TANH_G8 + CYNX_TANH_G9 * w;
    double h0 = g01 + g23 * w2, h1 = g45 + g67 * w2, h2 = g89 + CYNX_TANH_G10 * w2;
    return (h0 + h1 * w4) + h2 * w8;
}

/* ---- exp ---- */
static inline double cynx_exp_f64(double x) {
    /* Clamp so that k stays in [-1077, 1025]; beyond, the result is 0 or inf
     * anyway and the scaling below produces it.  NaN passes both compares. */
    double xc = CYNX_SEL(x > 710.0, 710.0, x);
    xc = CYNX_SEL(xc < -746.0, -746.0, xc);
    double t = xc * CYNX_INVLN2 + CYNX_MAGIC;
    double kd = t - CYNX_MAGIC;                      /* k = nearest integer to x/ln2 */
    double t1 = kd * 0.5 + CYNX_MAGIC;               /* k1 = k/2 rounded (ties to even) */
    double t2 = (kd - (t1 - CYNX_MAGIC)) + CYNX_MAGIC;   /* k2 = k - k1 */
    double hi = xc - kd * CYNX_LN2HI;                /* exact */
    double lo = kd * CYNX_LN2LO;
    double r = hi - lo;
    double tail = (r * r) * cynx_exp_poly(r);
    double y = 1.0 + (hi - (lo - tail));
    y = (y * cynx_pow2(cynx_bits(t1))) * cynx_pow2(cynx_bits(t2));
    return CYNX_SEL(x != x, x + x, y);
}

/* ---- log and log1p share the reduction of u = 2^e m ---- */

/* log(u) + c for a positive normal u and a small correction c; eadj is
 * added to the exponent (for pre-scaled subnormals). */
static inline double cynx_log_core(double u, double eadj, double c) {
    uint64_t b = cynx_bits(u);
    double m = cynx_double((b & UINT64_C(0x000fffffffffffff)) | UINT64_C(0x3ff0000000000000));
    /* biased exponent as a double: bits of MAGIC + n, minus MAGIC + 1023 (exact) */
    double e = cynx_double((b >> 52) + CYNX_MAGIC_BITS) - (CYNX_MAGIC + 1023.0);
    int big = m > CYNX_SQRT2;
    m = CYNX_SEL(big, m * 0.5, m);
    e = CYNX_SEL(big, e + 1.0, e) + eadj;
    double f = m - 1.0;                              /* exact */
    double s = f / (2.0 + f);
    double w = s * s;
    double R = w * cynx_log_poly(w);
    double hfsq = (0.5 * f) * f;
    return e * CYNX_LN2HI - ((hfsq - (s * (hfsq + R) + (e * CYNX_LN2LO + c))) - f);
}


static inline double cynx_log_f64(double x) {
    int sub = x < 0x1p-1022;                         /* subnormal (or <= 0: replaced below) */
    double u = CYNX_SEL(sub, x * 0x1p54, x);
    double y = cynx_log_core(u, CYNX_SEL(sub, -54.0, 0.0), 0.0);
    y = CYNX_SEL(x > 0x1.fffffffffffffp1023, x, y);          /* +inf */
    y = CYNX_SEL(x == 0.0, -cynx_inf(), y);
    y = CYNX_SEL(x < 0.0, cynx_nan(), y);
    return CYNX_SEL(x != x, x + x, y);
}

static inline double cynx_log1p_f64(double x) {
    double u = 1.0 + x;                              /* >= 2^-53 for x > -1: never subnormal */
    /* Fast2Sum: the exact rounding error of 1 + x, larger operand first */
    double c = CYNX_SEL(x > 1.0, 1.0 - (u - x), x - (u - 1.0));
    double y = cynx_log_core(u, 0.0, c / u);
    double ax = cynx_fabs(x);
    y = CYNX_SEL(ax < 0x1p-53, x, y);                        /* log1p(x) rounds to x; keeps -0 */
    y = CYNX_SEL(x > 0x1.fffffffffffffp1023, x, y);
    y = CYNX_SEL(x == -1.0, -cynx_inf(), y);
    y = CYNX_SEL(x < -1.0, cynx_nan(), y);
    return CYNX_SEL(x != x, x + x, y);
}

/* ---- tanh ---- */

static inline double cynx_tanh_f64(double x) {
    /* tanh is odd: computed for a = |x|, the sign of x put back at the end */
    double a = cynx_fabs(x);
    /* small a: odd polynomial (subnormals come back unchanged: the tail underflows) */
    double w = a * a;
    double ysmall = a + a * (w * cynx_tanh_poly(w));
    /* large a: z = 2a = k ln2 + r, e^r = 1 + qh + ql, E = 2^k e^r - 1 */
    double ac = CYNX_SEL(a > 22.0, 22.0, a);
    ac = CYNX_SEL(ac < 0.5, 0.5, ac);                        /* keeps k >= 1 on the unused lanes */
    double z = ac + ac;
    double t = z * CYNX_INVLN2 + CYNX_MAGIC;
    double kd = t - CYNX_MAGIC;                      /* k in [1, 63] */
    double hi = z - kd * CYNX_LN2HI;                 /* exact */
    double lo = kd * CYNX_LN2LO;
    double r = hi - lo;
    double rl = (hi - r) - lo;                       /* r + rl = hi - lo to 2^-100 */
    double tail = (r * r) * cynx_exp_poly(r);
    double qh = r + tail;                            /* TwoSum(r, tail) */
    double bb = qh - r;
    double ql = (r - (qh - bb)) + (tail - bb);
    ql = ql + (rl + r * rl);                         /* e^(r+rl) - e^r = e^r rl to first order */
    double S = cynx_pow2(cynx_bits(t));              /* 2^k */
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
    double c1 = CYNX_SPLIT * th;
    double thh = c1 - (c1 - th);
    double thl = th - thh;
    double c2 = CYNX_SPLIT * Dh;
    double dhh = c2 - (c2 - Dh);
    double dhl = Dh - dhh;
    double perr = ((thh * dhh - p) + thh * dhl + thl * dhh) + thl * dhl;
    double resid = (((Eh - p) - perr) + El) - th * Dl;
    double ylarge = th + resid / Dh;
    double y = CYNX_SEL(a < 0.55, ysmall, ylarge);
    y = cynx_double(cynx_bits(y) | (cynx_bits(x) & UINT64_C(0x8000000000000000)));
    return CYNX_SEL(x != x, x + x, y);
}

/* ---- float32: computed in binary64, rounded once ---- */
static inline float cynx_exp_f32(float x) { return (float)cynx_exp_f64((double)x); }
static inline float cynx_log_f32(float x) { return (float)cynx_log_f64((double)x); }
static inline float cynx_log1p_f32(float x) { return (float)cynx_log1p_f64((double)x); }
static inline float cynx_tanh_f32(float x) { return (float)cynx_tanh_f64((double)x); }

"""
