/*
 * Elementwise passes (activations around NumPy's exp, derivatives, optimizer
 * updates): one body, instantiated by cyn_kernels.c per (dtype, instruction
 * set) like cyn_gemm_impl.h. Define T, SFX and ISA before including.
 * Defines (names through CYN_VFN, cyn_names.h): cyn_ew_recip1p_SFX_ISA,
 * cyn_ew_dmul_SFX_ISA, cyn_ew_mul_SFX_ISA, cyn_ew_step_SFX_ISA.
 *
 * Each element is computed by the same expression, in the same order, as
 * cyneuron.reference; vectorising such loops only runs independent elements
 * side by side (division and square root are correctly rounded in every
 * instruction set), so every variant gives the same bits. There are no
 * reductions here: sums stay in the sequential code. Loops are written
 * branch-free so that the compiler can vectorise them.
 */
#if !defined(T) || !defined(SFX) || !defined(ISA)
#error "define T, SFX and ISA before including cyn_elementwise_impl.h"
#endif

#ifndef CYN_LOCAL
#define CYN_LOCAL static
#endif

#include "cyn_names.h"

/* 1 / (1 + e), the second half of the sigmoid */
CYN_LOCAL void CYN_VFN(cyn_ew_recip1p)(T *restrict z, cyn_int n)
{
    for (cyn_int i = 0; i < n; ++i)
        z[i] = (T)1 / ((T)1 + z[i]);
}

/* g = g * f'(a), from the activation's output a */
CYN_LOCAL void CYN_VFN(cyn_ew_dmul)(int code, T alpha, const T *restrict a, T *restrict g, cyn_int n)
{
    switch (code) {
    case CYN_ACT_SIGMOID:
        for (cyn_int i = 0; i < n; ++i)
            g[i] = g[i] * (a[i] * ((T)1 - a[i]));
        break;
    case CYN_ACT_TANH:
        for (cyn_int i = 0; i < n; ++i)
            g[i] = g[i] * ((T)1 - a[i] * a[i]);
        break;
    /* f'(a) is 1 or 0 (alpha): spelled so that gcc keeps the multiply in every
     * lane; written `g * (a > 0 ? 1 : 0)`, gcc folds it into a branch between
     * g and g * 0 and leaves the loop scalar, which on a random sign pattern
     * mispredicts on every other element (18% of a 40-100-100-10 step in the
     * AVX2 build). The bits are the same: g times exactly 1 or exactly 0. */
    case CYN_ACT_RELU:
        for (cyn_int i = 0; i < n; ++i) {
            const T d = (T)(a[i] > (T)0);
            g[i] = g[i] * d;
        }
        break;
    case CYN_ACT_LEAKY_RELU:
        for (cyn_int i = 0; i < n; ++i) {
            const T d = a[i] > (T)0 ? (T)1 : alpha;
            g[i] = g[i] * d;
        }
        break;
    default:   /* identity: g * 1 == g */
        break;
    }
}

/* x = x * m (inverted-dropout multipliers) */
CYN_LOCAL void CYN_VFN(cyn_ew_mul)(T *restrict x, const T *restrict m, cyn_int n)
{
    for (cyn_int i = 0; i < n; ++i)
        x[i] = x[i] * m[i];
}

/* One optimizer update of n parameters; see reference.optimizer_step.
 * c[] holds the step's constants in T, prepared by the caller:
 *   sgd: lr;  momentum: lr, mu;  nesterov: lr, mu;  rmsprop: lr, rho, 1-rho, eps;
 *   adam: alpha (bias-corrected step), b1, 1-b1, b2, 1-b2, eps. */
CYN_LOCAL void CYN_VFN(cyn_ew_step)(int opt, const T *restrict c, T *restrict p,
                             const T *restrict g, T *restrict m, T *restrict v, cyn_int n)
{
    switch (opt) {
    case CYN_OPT_SGD: {
        const T lr = c[0];
        for (cyn_int i = 0; i < n; ++i)
            p[i] = p[i] - lr * g[i];
        break;
    }
    case CYN_OPT_MOMENTUM: {
        const T lr = c[0], mu = c[1];
        for (cyn_int i = 0; i < n; ++i) {
            m[i] = mu * m[i] - lr * g[i];
            p[i] = p[i] + m[i];
        }
        break;
    }
    case CYN_OPT_NESTEROV: {
        const T lr = c[0], mu = c[1];
        for (cyn_int i = 0; i < n; ++i) {
            m[i] = mu * m[i] - lr * g[i];
            p[i] = (p[i] + mu * m[i]) - lr * g[i];
        }
        break;
    }
    case CYN_OPT_RMSPROP: {
        const T lr = c[0], rho = c[1], omr = c[2], eps = c[3];
        for (cyn_int i = 0; i < n; ++i) {
            v[i] = rho * v[i] + omr * (g[i] * g[i]);
            p[i] = p[i] - (lr * g[i]) / (CYN_SQRT(v[i]) + eps);
        }
        break;
    }
    case CYN_OPT_ADAM: {
        const T alpha = c[0], b1 = c[1], omb1 = c[2], b2 = c[3], omb2 = c[4], eps = c[5];
        for (cyn_int i = 0; i < n; ++i) {
            m[i] = b1 * m[i] + omb1 * g[i];
            v[i] = b2 * v[i] + omb2 * (g[i] * g[i]);
            p[i] = p[i] - (alpha * m[i]) / (CYN_SQRT(v[i]) + eps);
        }
        break;
    }
    default:
        break;
    }
}

