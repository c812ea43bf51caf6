/* Instantiates the products and elementwise passes for both dtypes in the
 * instruction set of the current region; define ISA, VB, MR, NV first. */
#define T double
#define SFX f64
#define CYN_SQRT sqrt
#include "cyn_gemm_impl.h"
#include "cyn_elementwise_impl.h"
#undef T
#undef SFX
#undef CYN_SQRT
#define T float
#define SFX f32
#define CYN_SQRT sqrtf
#include "cyn_gemm_impl.h"
#include "cyn_elementwise_impl.h"
#undef T
#undef SFX
#undef CYN_SQRT
