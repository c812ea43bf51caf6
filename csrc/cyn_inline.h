/*
 * Included by the Cython core (not by cyn_kernels.c): the plain scalar
 * products, the baseline elementwise passes and the fused loops of the
 * tiny-network path (cyn_tiny_impl.h) as static inline functions,
 * so that tiny networks (the tutorials' 3-4-1 and 2-2-1: a few ns of work per pass) run them without
 * a call through the variant table. Every variant gives the same bits, so
 * inlining changes only speed; with a variant forced (tests), the core calls
 * the dispatched kernels for every size instead.
 */
#ifndef CYN_INLINE_H
#define CYN_INLINE_H

#include <math.h>
#include "cyn_kernels.h"

/* 1: tiny passes run the inline loops below; 0 once a test forced one
 * kernel variant for every size (cyneuron._core.set_kernel_variant). */
static int cyn_inline_small = 1;

/* f'(z) from a = f(z) for one value (CYN_ACT_DERIV), for the core's loops
 * that fuse it with the loss. */
static inline double cyn_act_deriv_f64(int act, double a, double alpha)
{
    return CYN_ACT_DERIV(double, act, a, alpha);
}
static inline float cyn_act_deriv_f32(int act, float a, float alpha)
{
    return CYN_ACT_DERIV(float, act, a, alpha);
}

#define CYN_LOCAL static inline
#include "cyn_names.h"
#define ISA inl

#define CYN_BODY "cyn_scalar_impl.h"
#include "cyn_per_dtype.h"
#undef CYN_BODY
#define CYN_BODY "cyn_elementwise_impl.h"
#include "cyn_per_dtype.h"
#undef CYN_BODY
#define CYN_BODY "cyn_tiny_impl.h"
#include "cyn_per_dtype.h"
#undef CYN_BODY

#undef ISA
#undef CYN_LOCAL
#endif
