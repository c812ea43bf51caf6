/* The products and elementwise passes of one dtype in the instruction set of
 * the current region (cyn_kernels.c includes it through cyn_per_dtype.h per
 * variant, with ISA, VB, MR and NV defined). */
#include "cyn_gemm_impl.h"
#include "cyn_elementwise_impl.h"
