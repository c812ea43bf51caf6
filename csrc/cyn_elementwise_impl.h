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
    /* the switch outside the loops: each loop sees a constant code */
#define CYN_DMUL_LOOP(ACT)                                           \
    for (cyn_int i = 0; i < n; ++i) {                                \
        const T d = CYN_ACT_DERIV(T, ACT, a[i], alpha);              \
        g[i] = g[i] * d;                                             \
    }
    switch (code) {
    case CYN_ACT_SIGMOID: CYN_DMUL_LOOP(CYN_ACT_SIGMOID) break;
    case CYN_ACT_TANH: CYN_DMUL_LOOP(CYN_ACT_TANH) break;
    case CYN_ACT_RELU: CYN_DMUL_LOOP(CYN_ACT_RELU) break;
    case CYN_ACT_LEAKY_RELU: CYN_DMUL_LOOP(CYN_ACT_LEAKY_RELU) break;
    default:   /* identity: g * 1 == g */
        break;
    }
#undef CYN_DMUL_LOOP
}

/* x = x * m (inverted-dropout multipliers) */
CYN_LOCAL void CYN_VFN(cyn_ew_mul)(T *restrict x, const T *restrict m, cyn_int n)
{
    for (cyn_int i = 0; i < n; ++i)
        x[i] = x[i] * m[i];
}

/* The constants c[] (at most 8) of one optimizer step, each rounded to T once
 * as the reference rounds it, from the learning rate and the nh
 * hyperparameters h[] (the registry row's, in its order, flags as 0 or 1,
 * weight_decay left out); an optimizer that counts steps advances
 * s[] = [step, beta_1**step, beta_2**step] here, in double. Returns the code
 * cyn_ew_step switches on (momentum with nesterov: CYN_OPT_NESTEROV), -1 for
 * a code it does not know, -2 for fewer hyperparameters than the code reads.
 * Called once per step, before the update is split over threads; only the
 * core's inline copy is called (static inline: the others cost nothing).
 *   sgd: lr;  momentum: lr, mu;  nesterov: lr, mu;  rmsprop: lr, rho, 1-rho, eps;
 *   adam: alpha (bias-corrected step), b1, 1-b1, b2, 1-b2, eps. */
static inline int CYN_VFN(cyn_ew_constants)(int opt, const double *restrict h, int nh,
                                             double *restrict s, double lr, T *restrict c)
{
    c[0] = (T)lr;
    switch (opt) {
    case CYN_OPT_SGD:
        return opt;
    case CYN_OPT_MOMENTUM:              /* momentum, nesterov */
        if (nh < 2)
            return -2;
        c[1] = (T)h[0];
        return h[1] != 0 ? CYN_OPT_NESTEROV : opt;
    case CYN_OPT_RMSPROP:               /* rho, epsilon */
        if (nh < 2)
            return -2;
        c[1] = (T)h[0];
        c[2] = (T)1 - c[1];
        c[3] = (T)h[1];
        return opt;
    case CYN_OPT_ADAM:                  /* beta_1, beta_2, epsilon */
        if (nh < 3)
            return -2;
        /* bias correction folded into the step size, in double */
        s[0] += 1;
        s[1] = s[1] * h[0];
        s[2] = s[2] * h[1];
        c[0] = (T)(lr * sqrt(1.0 - s[2]) / (1.0 - s[1]));
        c[1] = (T)h[0];
        c[2] = (T)1 - c[1];
        c[3] = (T)h[1];
        c[4] = (T)1 - c[3];
        c[5] = (T)h[2];
        return opt;
    default:
        return -1;
    }
}

/* One optimizer update of n parameters with the constants c[] of
 * cyn_ew_constants; see reference.optimizer_step. */
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

