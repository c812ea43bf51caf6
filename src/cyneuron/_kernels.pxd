# cython: language_level=3
"""C declarations of the kernels in csrc/ and their per-dtype wrappers.

The one place where the core's Cython meets the C: ``cyn_kernels.h`` (the
dispatched SIMD variants and the thread pool) and ``cyn_inline.h`` (plain
loops inlined for tiny sizes), each declared once for float64 and float32,
and the ``floating`` wrappers that pick the dtype's function and the inline
or dispatched path. ``_core.pyx`` calls only the wrappers.
"""

cimport numpy as cnp
from cython cimport floating

ctypedef cnp.intp_t isz

cdef extern from "cyn_kernels.h" nogil:
    ctypedef ptrdiff_t cyn_int
    # the codes of cyneuron._registry, defined once in the header (CYN_CODES);
    # declared here are the ones the core branches on
    enum:
        ACT_IDENTITY "CYN_ACT_IDENTITY"
        ACT_SIGMOID "CYN_ACT_SIGMOID"
        ACT_TANH "CYN_ACT_TANH"
        ACT_RELU "CYN_ACT_RELU"
        ACT_LEAKY_RELU "CYN_ACT_LEAKY_RELU"
        ACT_SOFTMAX "CYN_ACT_SOFTMAX"
        ACT_SOFTPLUS "CYN_ACT_SOFTPLUS"      # derivative from the layer's input z
        ACT_SILU "CYN_ACT_SILU"              # derivative from z
        ACT_ELU "CYN_ACT_ELU"                # derivative from z
        ACT_GELU "CYN_ACT_GELU"              # derivative from z
        ACT_LAST "CYN_ACT_LAST"
        OPT_SGD "CYN_OPT_SGD"                # the fused tiny-net step (the others: C only)
        LOSS_MSE "CYN_LOSS_MSE"
        LOSS_SSE "CYN_LOSS_SSE"
        LOSS_BCE "CYN_LOSS_BCE"
        LOSS_CCE "CYN_LOSS_CCE"
    ctypedef struct cyn_code:
        const char *kind
        const char *name
        int code
    const cyn_code *cyn_codes(int *n)
    void cyn_affine_f64(const double *X, const double *W, const double *b,
                        double *Z, cyn_int n, cyn_int k, cyn_int m, int act, double alpha,
                        int n_threads)
    void cyn_affine_f32(const float *X, const float *W, const float *b,
                        float *Z, cyn_int n, cyn_int k, cyn_int m, int act, float alpha,
                        int n_threads)
    void cyn_backprop_f64(const double *D, const double *W, double *G,
                          cyn_int n, cyn_int k, cyn_int m, int n_threads)
    void cyn_backprop_f32(const float *D, const float *W, float *G,
                          cyn_int n, cyn_int k, cyn_int m, int n_threads)
    void cyn_wgrad_f64(const double *A, const double *D, double *dW, double *db,
                       cyn_int n, cyn_int k, cyn_int m, int n_threads)
    void cyn_wgrad_f32(const float *A, const float *D, float *dW, float *db,
                       cyn_int n, cyn_int k, cyn_int m, int n_threads)
    void cyn_wgrad_more_f64(const double *A, const double *D, double *dW, double *db,
                            cyn_int n, cyn_int k, cyn_int m, int n_threads)
    void cyn_wgrad_more_f32(const float *A, const float *D, float *dW, float *db,
                            cyn_int n, cyn_int k, cyn_int m, int n_threads)
    void cyn_recip1p_f64(double *z, cyn_int n)
    void cyn_recip1p_f32(float *z, cyn_int n)
    void cyn_dmul_f64(int code, double alpha, const double *a, double *g, cyn_int n,
                      int n_threads)
    void cyn_dmul_f32(int code, float alpha, const float *a, float *g, cyn_int n,
                      int n_threads)
    void cyn_mul_f64(double *x, const double *m, cyn_int n)
    void cyn_mul_f32(float *x, const float *m, cyn_int n)
    void cyn_step_f64(int opt, const double *c, double *p, const double *g, double *m,
                      double *v, cyn_int n, int n_threads)
    void cyn_step_f32(int opt, const float *c, float *p, const float *g, float *m,
                      float *v, cyn_int n, int n_threads)
    void cyn_gather_rows_f64(const double *X, cyn_int width, const cyn_int *order, cyn_int n,
                             double *out, int n_threads)
    void cyn_gather_rows_f32(const float *X, cyn_int width, const cyn_int *order, cyn_int n,
                             float *out, int n_threads)
    int cyn_all_finite_f64(const double *x, cyn_int n)
    int cyn_all_finite_f32(const float *x, cyn_int n)
    int cyn_variant_count()
    const char *cyn_variant_name(int v)
    int cyn_variant_supported(int v)
    int cyn_set_variant(int v)
    int cyn_get_variant()
    void cyn_wgrad_step_f64(int n_layers, cyn_int n, const double *const *A,
                            const double *const *D, const cyn_int *sizes,
                            const cyn_int *offsets, double *grads, int opt, const double *c,
                            double *p, double *m, double *v, int n_threads)
    void cyn_wgrad_step_f32(int n_layers, cyn_int n, const float *const *A,
                            const float *const *D, const cyn_int *sizes,
                            const cyn_int *offsets, float *grads, int opt, const float *c,
                            float *p, float *m, float *v, int n_threads)
    void cyn_run_parallel(void (*run)(const void *, cyn_int, cyn_int) noexcept nogil,
                          const void *args, cyn_int len, cyn_int quantum, int n_threads)
    long cyn_worker_jobs()
    int cyn_half_width_cost(int which, int permille)
    long cyn_half_width_splits(int which)
    long cyn_pool_late_passes()
    long cyn_pool_crowded_starts()
    enum:
        CYN_HALF_EDGE
        CYN_HALF_NARROW
        CYN_RULE_LATE
        CYN_RULE_CROWDED
        CYN_RULE_PROBES
        CYN_RULE_BALANCE
        CYN_RULES_ALL
    int cyn_pool_adaptive(int on)
    void cyn_pool_run_alone(long passes)
    long cyn_pool_probe(int every, int percent)
    long cyn_pool_probed_alone()
    int cyn_pool_force_share(int permille)
    int cyn_fp_contract_off()
    double cyn_probe_mul_add(double a, double b, double c)
    int cyn_probe_cpu_has_fma()


cdef extern from "cyn_inline.h" nogil:
    # The plain loops and baseline elementwise passes, inlined here for tiny
    # sizes (no call through the variant table; same bits as every variant).
    enum: CYN_SMALL_PRODUCT
    # 1: tiny passes run inline; 0 once set_kernel_variant forced one variant
    # (tests do, to compare every variant at every size). A C static of the
    # one translation unit that includes cyn_inline.h.
    int cyn_inline_small
    double cyn_act_deriv_f64(int act, double a, double alpha)
    float cyn_act_deriv_f32(int act, float a, float alpha)
    void cyn_scalar_affine_f64(const double *X, const double *W, const double *b, double *Z,
                               cyn_int n, cyn_int k, cyn_int m, int act, double alpha)
    void cyn_scalar_affine_f32(const float *X, const float *W, const float *b, float *Z,
                               cyn_int n, cyn_int k, cyn_int m, int act, float alpha)
    void cyn_scalar_backprop_f64(const double *D, const double *W, double *G, cyn_int n,
                                 cyn_int k, cyn_int m)
    void cyn_scalar_backprop_f32(const float *D, const float *W, float *G, cyn_int n,
                                 cyn_int k, cyn_int m)
    void cyn_scalar_wgrad_f64(const double *A, const double *D, double *dW, double *db,
                              cyn_int n, cyn_int k, cyn_int m)
    void cyn_scalar_wgrad_f32(const float *A, const float *D, float *dW, float *db,
                              cyn_int n, cyn_int k, cyn_int m)
    void cyn_ew_recip1p_f64_inl(double *z, cyn_int n)
    void cyn_ew_recip1p_f32_inl(float *z, cyn_int n)
    void cyn_ew_dmul_f64_inl(int code, double alpha, const double *a, double *g, cyn_int n)
    void cyn_ew_dmul_f32_inl(int code, float alpha, const float *a, float *g, cyn_int n)
    void cyn_ew_mul_f64_inl(double *x, const double *m, cyn_int n)
    void cyn_ew_mul_f32_inl(float *x, const float *m, cyn_int n)
    void cyn_tiny_backprop_f64(int code, double alpha, const double *D, const double *W,
                               const double *A, double *G, cyn_int n, cyn_int k, cyn_int m)
    void cyn_tiny_backprop_f32(int code, float alpha, const float *D, const float *W,
                               const float *A, float *G, cyn_int n, cyn_int k, cyn_int m)
    void cyn_tiny_wgrad_f64(const double *A, const double *D, double *dW, double *db,
                            double *Wu, double *bu, double lr, cyn_int n, cyn_int k,
                            cyn_int m)
    void cyn_tiny_wgrad_f32(const float *A, const float *D, float *dW, float *db,
                            float *Wu, float *bu, float lr, cyn_int n, cyn_int k, cyn_int m)
    int cyn_ew_constants_f64_inl(int opt, const double *h, int nh, double *s, double lr,
                                 double *c)
    int cyn_ew_constants_f32_inl(int opt, const double *h, int nh, double *s, double lr,
                                 float *c)
    void cyn_ew_step_f64_inl(int opt, const double *c, double *p, const double *g,
                             double *m, double *v, cyn_int n)
    void cyn_ew_step_f32_inl(int opt, const float *c, float *p, const float *g, float *m,
                             float *v, cyn_int n)

# Elementwise passes of at most this many values run inline: below it a call
# through the variant table costs more than the SIMD width saves.
cdef enum:
    EW_INLINE = 64


cdef inline bint small_product(isz n, isz k, isz m) noexcept nogil:
    return cyn_inline_small and <double>n * <double>k * <double>m < CYN_SMALL_PRODUCT


cdef inline bint small_ew(isz n) noexcept nogil:
    return cyn_inline_small and n <= EW_INLINE


cdef inline void affine(const floating *X, const floating *W, const floating *b,
                        floating *Z, isz n, isz k, isz m, int nt, int act,
                        double alpha) noexcept nogil:
    """Z = X @ W + b with activation act's first step (see activate_rest)."""
    if floating is double:
        if small_product(n, k, m):
            cyn_scalar_affine_f64(X, W, b, Z, n, k, m, act, alpha)
        else:
            cyn_affine_f64(X, W, b, Z, n, k, m, act, alpha, nt)
    else:
        if small_product(n, k, m):
            cyn_scalar_affine_f32(X, W, b, Z, n, k, m, act, <float>alpha)
        else:
            cyn_affine_f32(X, W, b, Z, n, k, m, act, <float>alpha, nt)


cdef inline void backprop(const floating *D, const floating *W, floating *G,
                          isz n, isz k, isz m, int nt) noexcept nogil:
    if floating is double:
        if small_product(n, k, m):
            cyn_scalar_backprop_f64(D, W, G, n, k, m)
        else:
            cyn_backprop_f64(D, W, G, n, k, m, nt)
    else:
        if small_product(n, k, m):
            cyn_scalar_backprop_f32(D, W, G, n, k, m)
        else:
            cyn_backprop_f32(D, W, G, n, k, m, nt)


cdef inline void wgrad(const floating *A, const floating *D, floating *dW,
                       floating *db, isz n, isz k, isz m, int nt) noexcept nogil:
    if floating is double:
        if small_product(n, k, m):
            cyn_scalar_wgrad_f64(A, D, dW, db, n, k, m)
        else:
            cyn_wgrad_f64(A, D, dW, db, n, k, m, nt)
    else:
        if small_product(n, k, m):
            cyn_scalar_wgrad_f32(A, D, dW, db, n, k, m)
        else:
            cyn_wgrad_f32(A, D, dW, db, n, k, m, nt)

cdef inline void wgrad_more(const floating *A, const floating *D, floating *dW,
                            floating *db, isz n, isz k, isz m, int nt) noexcept nogil:
    """wgrad continued: n more samples' terms added to the sums in dW, db."""
    if floating is double:
        cyn_wgrad_more_f64(A, D, dW, db, n, k, m, nt)
    else:
        cyn_wgrad_more_f32(A, D, dW, db, n, k, m, nt)

# Elementwise passes: inline up to EW_INLINE values, the active variant's
# vectorised loop above.


cdef inline void ew_recip1p(floating *z, isz n) noexcept nogil:
    if floating is double:
        if small_ew(n):
            cyn_ew_recip1p_f64_inl(z, n)
        else:
            cyn_recip1p_f64(z, n)
    else:
        if small_ew(n):
            cyn_ew_recip1p_f32_inl(z, n)
        else:
            cyn_recip1p_f32(z, n)


cdef inline void ew_dmul(int code, floating alpha, const floating *a, floating *g,
                         isz n, int n_threads) noexcept nogil:
    if floating is double:
        if small_ew(n):
            cyn_ew_dmul_f64_inl(code, alpha, a, g, n)
        else:
            cyn_dmul_f64(code, alpha, a, g, n, n_threads)
    else:
        if small_ew(n):
            cyn_ew_dmul_f32_inl(code, alpha, a, g, n)
        else:
            cyn_dmul_f32(code, alpha, a, g, n, n_threads)


cdef inline void ew_mul(floating *x, const floating *m, isz n) noexcept nogil:
    if floating is double:
        if small_ew(n):
            cyn_ew_mul_f64_inl(x, m, n)
        else:
            cyn_mul_f64(x, m, n)
    else:
        if small_ew(n):
            cyn_ew_mul_f32_inl(x, m, n)
        else:
            cyn_mul_f32(x, m, n)


cdef inline int ew_constants(int opt, const double *h, int nh, double *s, double lr,
                             floating *c) noexcept nogil:
    if floating is double:
        return cyn_ew_constants_f64_inl(opt, h, nh, s, lr, c)
    else:
        return cyn_ew_constants_f32_inl(opt, h, nh, s, lr, c)


cdef inline void ew_step(int opt, const floating *c, floating *p, const floating *g,
                         floating *m, floating *v, isz n, int n_threads) noexcept nogil:
    if floating is double:
        if small_ew(n):
            cyn_ew_step_f64_inl(opt, c, p, g, m, v, n)
        else:
            cyn_step_f64(opt, c, p, g, m, v, n, n_threads)
    else:
        if small_ew(n):
            cyn_ew_step_f32_inl(opt, c, p, g, m, v, n)
        else:
            cyn_step_f32(opt, c, p, g, m, v, n, n_threads)


cdef inline void gather_rows(const floating *X, isz width, const isz *order, isz n,
                             floating *out, int n_threads) noexcept nogil:
    # npy_intp and ptrdiff_t are one type on every platform NumPy supports
    if floating is double:
        cyn_gather_rows_f64(X, width, <const cyn_int *>order, n, out, n_threads)
    else:
        cyn_gather_rows_f32(X, width, <const cyn_int *>order, n, out, n_threads)
