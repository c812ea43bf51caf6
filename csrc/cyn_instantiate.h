/*
 * One SIMD variant: the products and elementwise passes for both dtypes,
 * compiled for instruction set CYN_TARGET (a string such as "avx2"; none:
 * the compiler's baseline). Define ISA (name suffix), VB (vector bytes), MR
 * and NV (tile shape) and optionally CYN_TARGET and NARROW_ISA (a
 * half-width variant defined earlier that takes narrow products, see
 * cyn_gemm in cyn_gemm_impl.h) first; all are undefined
 * again at the end. Everything between push and pop is compiled for the
 * named target only; the dispatcher calls it only when the CPU (and OS)
 * supports it.
 */
#define CYN_PRAGMA_(x) _Pragma(#x)
#define CYN_PRAGMA(x) CYN_PRAGMA_(x)

#ifdef CYN_TARGET
#if defined(__clang__)
CYN_PRAGMA(clang attribute push (__attribute__((target(CYN_TARGET))), apply_to = function))
#else
CYN_PRAGMA(GCC push_options)
CYN_PRAGMA(GCC target(CYN_TARGET))
#endif
#endif

#define CYN_BODY "cyn_gemm_impl.h"
#include "cyn_per_dtype.h"
#undef CYN_BODY
#define CYN_BODY "cyn_elementwise_impl.h"
#include "cyn_per_dtype.h"
#undef CYN_BODY

#ifdef CYN_TARGET
#if defined(__clang__)
CYN_PRAGMA(clang attribute pop)
#else
CYN_PRAGMA(GCC pop_options)
#endif
#undef CYN_TARGET
#endif

#undef CYN_PRAGMA
#undef CYN_PRAGMA_
#undef ISA
#undef VB
#undef MR
#undef NV
#ifdef NARROW_ISA
#undef NARROW_ISA
#endif
