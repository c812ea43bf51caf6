/* cyn_portable_body.h: the portable functions, included twice by
 * cyn_portable.h (no include guard): once with plain selects (c ? a : b) for
 * scalar calls, named cynp_exp_f64 etc., and once with bitwise-blend selects
 * for the vectorised loops, named cynp_exp_f64_v etc.  A select has the same
 * value either way, so both copies compute the same bits; they differ only
 * in what the compiler can do with them (see cynp_blend in cyn_portable.h).
 * CYNP_FN(name) names a function, CYNP_SEL(c, a, b) selects.
 */
/* ---- exp ---- */
CYNP_INLINE double CYNP_FN(exp_f64)(double x) {
    /* Clamp so that k stays in [-1077, 1025]; beyond, the result is 0 or inf
     * anyway and the scaling below produces it.  NaN passes both compares. */
    double xc = CYNP_SEL(x > 710.0, 710.0, x);
    xc = CYNP_SEL(xc < -746.0, -746.0, xc);
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
    return CYNP_SEL(x != x, x + x, y);
}

/* ---- log and log1p share the reduction of u = 2^e m ---- */

/* log(u) + c for a positive normal u and a small correction c; eadj is
 * added to the exponent (for pre-scaled subnormals). */
CYNP_INLINE double CYNP_FN(log_core)(double u, double eadj, double c) {
    uint64_t b = cynp_bits(u);
    double m = cynp_double((b & UINT64_C(0x000fffffffffffff)) | UINT64_C(0x3ff0000000000000));
    /* biased exponent as a double: bits of MAGIC + n, minus MAGIC + 1023 (exact) */
    double e = cynp_double((b >> 52) + CYNP_MAGIC_BITS) - (CYNP_MAGIC + 1023.0);
    int big = m > CYNP_SQRT2;
    m = CYNP_SEL(big, m * 0.5, m);
    e = CYNP_SEL(big, e + 1.0, e) + eadj;
    double f = m - 1.0;                              /* exact */
    double s = f / (2.0 + f);
    double w = s * s;
    double R = w * cynp_log_poly(w);
    double hfsq = (0.5 * f) * f;
    return e * CYNP_LN2HI - ((hfsq - (s * (hfsq + R) + (e * CYNP_LN2LO + c))) - f);
}


CYNP_INLINE double CYNP_FN(log_f64)(double x) {
    int sub = x < 0x1p-1022;                         /* subnormal (or <= 0: replaced below) */
    double u = CYNP_SEL(sub, x * 0x1p54, x);
    double y = CYNP_FN(log_core)(u, CYNP_SEL(sub, -54.0, 0.0), 0.0);
    y = CYNP_SEL(x > 0x1.fffffffffffffp1023, x, y);          /* +inf */
    y = CYNP_SEL(x == 0.0, -cynp_inf(), y);
    y = CYNP_SEL(x < 0.0, cynp_nan(), y);
    return CYNP_SEL(x != x, x + x, y);
}

CYNP_INLINE double CYNP_FN(log1p_f64)(double x) {
    double u = 1.0 + x;                              /* >= 2^-53 for x > -1: never subnormal */
    /* Fast2Sum: the exact rounding error of 1 + x, larger operand first */
    double c = CYNP_SEL(x > 1.0, 1.0 - (u - x), x - (u - 1.0));
    double y = CYNP_FN(log_core)(u, 0.0, c / u);
    double ax = cynp_fabs(x);
    y = CYNP_SEL(ax < 0x1p-53, x, y);                        /* log1p(x) rounds to x; keeps -0 */
    y = CYNP_SEL(x > 0x1.fffffffffffffp1023, x, y);
    y = CYNP_SEL(x == -1.0, -cynp_inf(), y);
    y = CYNP_SEL(x < -1.0, cynp_nan(), y);
    return CYNP_SEL(x != x, x + x, y);
}

/* ---- tanh ---- */

CYNP_INLINE double CYNP_FN(tanh_f64)(double x) {
    /* tanh is odd: computed for a = |x|, the sign of x put back at the end */
    double a = cynp_fabs(x);
    /* small a: odd polynomial (subnormals come back unchanged: the tail underflows) */
    double w = a * a;
    double ysmall = a + a * (w * cynp_tanh_poly(w));
    /* large a: z = 2a = k ln2 + r, e^r = 1 + qh + ql, E = 2^k e^r - 1 */
    double ac = CYNP_SEL(a > 22.0, 22.0, a);
    ac = CYNP_SEL(ac < 0.5, 0.5, ac);                        /* keeps k >= 1 on the unused lanes */
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
    double y = CYNP_SEL(a < 0.55, ysmall, ylarge);
    y = cynp_double(cynp_bits(y) | (cynp_bits(x) & UINT64_C(0x8000000000000000)));
    return CYNP_SEL(x != x, x + x, y);
}

/* ---- float32: computed in binary64, rounded once ---- */
CYNP_INLINE float CYNP_FN(exp_f32)(float x) { return (float)CYNP_FN(exp_f64)((double)x); }
CYNP_INLINE float CYNP_FN(log_f32)(float x) { return (float)CYNP_FN(log_f64)((double)x); }
CYNP_INLINE float CYNP_FN(log1p_f32)(float x) { return (float)CYNP_FN(log1p_f64)((double)x); }
CYNP_INLINE float CYNP_FN(tanh_f32)(float x) { return (float)CYNP_FN(tanh_f64)((double)x); }

