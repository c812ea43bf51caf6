/* cyneuron kernels: instantiates cyn_kernels_impl.h for float64 and float32. */
#include "cyn_kernels.h"

#define T double
#define SFX f64
#include "cyn_kernels_impl.h"
#undef T
#undef SFX

#define T float
#define SFX f32
#include "cyn_kernels_impl.h"
#undef T
#undef SFX

int cyn_fp_contract_off(void)
{
#ifdef CYN_FP_CONTRACT_OFF
    return 1;
#else
    return 0;
#endif
}

/* The probe is compiled for an FMA-capable target where the compiler can
 * see one (x86 GCC/Clang), so that contraction, if it were on, would really
 * fuse the expression; the caller only runs it when the CPU has FMA.
 * Everywhere else plain code: aarch64 and most other targets have FMA in
 * their baseline. */
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
#define CYN_PROBE_TARGET __attribute__((target("fma"), noinline))
int cyn_probe_cpu_has_fma(void) { __builtin_cpu_init(); return __builtin_cpu_supports("fma"); }
#else
#define CYN_PROBE_TARGET
int cyn_probe_cpu_has_fma(void) { return 1; }
#endif

CYN_PROBE_TARGET double cyn_probe_mul_add(double a, double b, double c)
{
    /* Fused, this returns the exact a*b+c; with contraction off, the product
     * is rounded first. The caller picks inputs where the two differ. */
    return a * b + c;
}
