/*
 * The plain scalar products: the "scalar" variant of cyn_kernels.c (the only
 * one on compilers without GCC vector extensions) and, included through
 * cyn_inline.h, the loops the core inlines for tiny products. Define T and
 * SFX first; CYN_LOCAL defaults to static.
 * Defines (names through CYN_FN, cyn_names.h): cyn_scalar_affine_SFX,
 * cyn_scalar_backprop_SFX, cyn_scalar_wgrad_SFX (and the static cyn_scalar_wgrad_from_SFX).
 */
#include "cyn_names.h"
#ifndef CYN_LOCAL
#define CYN_LOCAL static
#endif

/* Up to this many outputs per row the plain loops keep each sum in a register
 * instead of sweeping the output row once per term. */
#ifndef CYN_NARROW
#define CYN_NARROW 8
#endif

/* The activation step of cyn_affine (see cyn_kernels.h), the switch outside
 * the loops: OUT is the stored value, from z = s + b. */
#define CYN_AFFINE_BY_ACT(LOOPS)                                                    \
    switch (act) {                                                                  \
    case CYN_ACT_SIGMOID: LOOPS(CYN_ACT_STEP(T, CYN_ACT_SIGMOID, z, alpha)) break;  \
    case CYN_ACT_RELU: LOOPS(CYN_ACT_STEP(T, CYN_ACT_RELU, z, alpha)) break;        \
    case CYN_ACT_LEAKY_RELU:                                                        \
        LOOPS(CYN_ACT_STEP(T, CYN_ACT_LEAKY_RELU, z, alpha)) break;                 \
    default: LOOPS(z) break;                                                        \
    }

CYN_LOCAL void CYN_FN(cyn_scalar_affine)(const T *restrict X, const T *restrict W,
                                         const T *restrict b, T *restrict Z,
                                         cyn_int n, cyn_int k, cyn_int m, int act, T alpha)
{
    if (m <= CYN_NARROW) {
        /* few outputs: each sum in a register (tiny nets such as the tutorials' 3-4-1) */
#define CYN_NARROW_LOOPS(OUT)                                         \
        for (cyn_int i = 0; i < n; ++i) {                             \
            const T *restrict x = X + i * k;                          \
            for (cyn_int j = 0; j < m; ++j) {                         \
                T s = (T)0;                                           \
                for (cyn_int p = 0; p < k; ++p)                       \
                    s = s + x[p] * W[p * m + j];                      \
                const T z = s + b[j];                                 \
                Z[i * m + j] = (OUT);                                 \
            }                                                         \
        }
        CYN_AFFINE_BY_ACT(CYN_NARROW_LOOPS)
#undef CYN_NARROW_LOOPS
        return;
    }
    for (cyn_int i = 0; i < n; ++i) {
        T *restrict zr = Z + i * m;
        const T *restrict x = X + i * k;
        for (cyn_int j = 0; j < m; ++j)
            zr[j] = (T)0;
        /* k outer, outputs inner: each z[j] still sums its terms in k order,
         * and the j loop vectorises across independent outputs. */
        for (cyn_int p = 0; p < k; ++p) {
            const T xv = x[p];
            const T *restrict w = W + p * m;
            for (cyn_int j = 0; j < m; ++j)
                zr[j] = zr[j] + xv * w[j];
        }
#define CYN_WIDE_LOOPS(OUT)                                           \
        for (cyn_int j = 0; j < m; ++j) {                             \
            const T z = zr[j] + b[j];                                 \
            zr[j] = (OUT);                                            \
        }
        CYN_AFFINE_BY_ACT(CYN_WIDE_LOOPS)
#undef CYN_WIDE_LOOPS
    }
}
#undef CYN_AFFINE_BY_ACT

CYN_LOCAL void CYN_FN(cyn_scalar_backprop)(const T *restrict D, const T *restrict W,
                          T *restrict G, cyn_int n, cyn_int k, cyn_int m)
{
    for (cyn_int i = 0; i < n; ++i) {
        const T *restrict d = D + i * m;
        T *restrict g = G + i * k;
        for (cyn_int p = 0; p < k; ++p) {
            const T *restrict w = W + p * m;
            T s = (T)0;
            for (cyn_int j = 0; j < m; ++j)
                s = s + d[j] * w[j];
            g[p] = s;
        }
    }
}

/* more = 1: continue the sums already in dW and db (cyn_wgrad_more) */
static inline void CYN_FN(cyn_scalar_wgrad_from)(const T *restrict A, const T *restrict D,
                                                 T *restrict dW, T *restrict db,
                                                 cyn_int n, cyn_int k, cyn_int m, int more)
{
    if (m <= CYN_NARROW) {
        /* few outputs: each sum over the samples in a register */
        for (cyn_int p = 0; p < k; ++p)
            for (cyn_int j = 0; j < m; ++j) {
                T s = more ? dW[p * m + j] : (T)0;
                for (cyn_int i = 0; i < n; ++i)
                    s = s + A[i * k + p] * D[i * m + j];
                dW[p * m + j] = s;
            }
        for (cyn_int j = 0; j < m; ++j) {
            T s = more ? db[j] : (T)0;
            for (cyn_int i = 0; i < n; ++i)
                s = s + D[i * m + j];
            db[j] = s;
        }
        return;
    }
    if (!more) {
        for (cyn_int q = 0; q < k * m; ++q)
            dW[q] = (T)0;
        for (cyn_int j = 0; j < m; ++j)
            db[j] = (T)0;
    }
    /* samples outer: every dW[p,j] and db[j] adds its terms in sample order */
    for (cyn_int i = 0; i < n; ++i) {
        const T *restrict a = A + i * k;
        const T *restrict d = D + i * m;
        for (cyn_int p = 0; p < k; ++p) {
            const T av = a[p];
            T *restrict dw = dW + p * m;
            for (cyn_int j = 0; j < m; ++j)
                dw[j] = dw[j] + av * d[j];
        }
        for (cyn_int j = 0; j < m; ++j)
            db[j] = db[j] + d[j];
    }
}

CYN_LOCAL void CYN_FN(cyn_scalar_wgrad)(const T *restrict A, const T *restrict D,
                                     T *restrict dW, T *restrict db,
                                     cyn_int n, cyn_int k, cyn_int m)
{
    CYN_FN(cyn_scalar_wgrad_from)(A, D, dW, db, n, k, m, 0);
}
