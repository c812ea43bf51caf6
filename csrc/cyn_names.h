/*
 * How the C sources form their function names: one spelling for the whole
 * tree. Bodies compiled once per dtype (T, SFX = f64 or f32) define
 * CYN_FN(name) -> name_SFX, e.g. cyn_affine_f64; bodies compiled once per
 * dtype and SIMD variant (ISA = base, vec128, avx2, avx512, inl) define
 * CYN_VFN(name) -> name_SFX_ISA, e.g. cyn_gemm_f64_avx512 or
 * cyn_ew_dmul_f32_inl. To find a generated name in the sources, grep for
 * the part before the suffix (cyn_gemm, cyn_ew_dmul). Each *_impl.h lists
 * the names it defines in its first comment.
 */
#ifndef CYN_NAMES_H
#define CYN_NAMES_H

#define CYN_CAT2_(a, b) a##_##b
#define CYN_CAT2(a, b) CYN_CAT2_(a, b)
#define CYN_CAT3_(a, b, c) a##_##b##_##c
#define CYN_CAT3(a, b, c) CYN_CAT3_(a, b, c)
#define CYN_FN(name) CYN_CAT2(name, SFX)
#define CYN_VFN(name) CYN_CAT3(name, SFX, ISA)

#endif
