/*
 * Includes the header named by CYN_BODY once per dtype: float64, then
 * float32, with T (the C type), SFX (the name suffix), CYN_SQRT and
 * CYN_IS_F32 defined for it. Deliberately without an include guard.
 */
#ifndef CYN_BODY
#error "define CYN_BODY (a header name in quotes) before including cyn_per_dtype.h"
#endif

#define T double
#define SFX f64
#define CYN_SQRT sqrt
#define CYN_IS_F32 0
#include CYN_BODY
#undef T
#undef SFX
#undef CYN_SQRT
#undef CYN_IS_F32

#define T float
#define SFX f32
#define CYN_SQRT sqrtf
#define CYN_IS_F32 1
#include CYN_BODY
#undef T
#undef SFX
#undef CYN_SQRT
#undef CYN_IS_F32
