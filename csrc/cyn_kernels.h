/*
 * cyneuron C kernels: the C API the compiled core calls (declared once, in
 * src/cyneuron/_kernels.pxd). It holds every activation, optimizer and loss
 * code; the fixed-order products (cyn_affine with the activation's first
 * step, cyn_backprop, cyn_wgrad) and the macros that spell an activation's
 * step and derivative for the scalar loops; the elementwise passes; the
 * finiteness check of input validation; the choice of SIMD variant, the
 * worker-job counter and the build probes. The bodies are in the *_impl.h
 * files, instantiated by cyn_kernels.c (csrc/README.md maps them).
 *
 * The products follow the numerical contract (README, "The numerical
 * contract, in a few lines"): every kernel sums in exactly the order the
 * NumPy reference spells out:
 * each accumulator starts at +0.0 and adds its terms left to right, one
 * separately rounded multiply and one separately rounded add per term. The
 * sources are compiled with -ffp-contract=off (see setup.py), so no
 * multiply-add is ever fused. Vectorisation happens only across independent
 * outputs, never inside one sum.
 *
 * Arrays are C-contiguous, row-major; the caller (Cython, after Python-side
 * validation) guarantees shapes and non-aliasing.
 */
#ifndef CYN_KERNELS_H
#define CYN_KERNELS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef ptrdiff_t cyn_int;

#if defined(_MSC_VER) && !defined(__clang__) && !defined(restrict)
#define restrict __restrict
#endif

/* The codes of activations, optimizers and losses: the one definition, one
 * row each (kind, NAME, name, value). The enums below spell CYN_<kind>_<NAME>;
 * the core declares the ones its Cython branches on (_kernels.pxd), and
 * cyn_codes() lists every row for the test that checks cyneuron._registry's
 * numbers (tests/test_kernels.py). Softplus, silu, elu and gelu: no C kernel
 * switches on them, the core finishes them around NumPy's loops. Losses: no C kernel
 * switches on them either (the core computes them), but their codes live here
 * so that one header owns every code. */
#define CYN_CODES(X)                                                          \
    X(ACT, IDENTITY, "identity", 0) X(ACT, SIGMOID, "sigmoid", 1)             \
    X(ACT, TANH, "tanh", 2) X(ACT, RELU, "relu", 3)                           \
    X(ACT, LEAKY_RELU, "leaky_relu", 4) X(ACT, SOFTMAX, "softmax", 5)         \
    X(ACT, SOFTPLUS, "softplus", 6) X(ACT, SILU, "silu", 7)                   \
    X(ACT, ELU, "elu", 8) X(ACT, GELU, "gelu", 9)                             \
    X(OPT, SGD, "sgd", 0) X(OPT, MOMENTUM, "momentum", 1)                     \
    X(OPT, RMSPROP, "rmsprop", 2) X(OPT, ADAM, "adam", 3)                     \
    X(LOSS, MSE, "mse", 0) X(LOSS, SSE, "sse", 1) X(LOSS, BCE, "binary_crossentropy", 2) \
    X(LOSS, CCE, "categorical_crossentropy", 3)

#define CYN_CODE_ENUM_(kind, NAME, name, value) CYN_##kind##_##NAME = value,
enum { CYN_CODES(CYN_CODE_ENUM_) };
/* the largest activation code (the core's bounds check), and the core's own
 * code for momentum with nesterov=True (no registry row of its own) */
enum { CYN_ACT_LAST = CYN_ACT_GELU, CYN_OPT_NESTEROV = 4 };

typedef struct { const char *kind; const char *name; int code; } cyn_code;
/* Every row of CYN_CODES, in order; *n receives their number. */
const cyn_code *cyn_codes(int *n);

/* Z[n,m] = step(X[n,k] @ W[k,m] + b[m])   (sum over k in order, then + b),
 * step the first step of activation `act`, applied as each output is stored:
 * CYN_ACT_SIGMOID -z (exp and 1/(1+e) follow in the caller), CYN_ACT_RELU
 * np.maximum(z, 0), CYN_ACT_LEAKY_RELU z > 0 ? z : alpha*z, anything else z. */
void cyn_affine_f64(const double *X, const double *W, const double *b,
                    double *Z, cyn_int n, cyn_int k, cyn_int m, int act, double alpha,
                    int n_threads);
void cyn_affine_f32(const float *X, const float *W, const float *b,
                    float *Z, cyn_int n, cyn_int k, cyn_int m, int act, float alpha,
                    int n_threads);

/* That step for one value z of type T (z a plain variable). The scalar
 * loops use it; the vectorised epilogue of cyn_gemm_impl.h spells the same
 * operations lane by lane. */
#define CYN_ACT_STEP(T, act, z, alpha)                                   \
    ((act) == CYN_ACT_SIGMOID ? -(z)                                     \
     : (act) == CYN_ACT_RELU ? ((z) <= (T)0 ? (T)0 : (z))                \
     : (act) == CYN_ACT_LEAKY_RELU ? ((z) > (T)0 ? (z) : (alpha) * (z))  \
     : (z))

/* f'(z) from the activation's output a = f(z), for the activations whose
 * derivative comes from their output (sigmoid a(1-a), tanh 1-a^2, relu and
 * leaky ReLU 1 or 0 / alpha; anything else 1): the factor every backward
 * pass multiplies by, spelled once (cyn_ew_dmul, the tiny-net loops and the
 * core's fused loss all use it; cyneuron.reference's *_derivative functions
 * are the same operations). ReLU's 0/1 is `(T)(a > 0)`: written as
 * `a > 0 ? 1 : 0`, gcc folds g * f'(a) into a branch between g and g * 0 and
 * leaves the loop scalar (on a random sign pattern a misprediction every
 * other element: 18% of a 40-100-100-10 step in the AVX2 build). */
#define CYN_ACT_DERIV(T, act, a, alpha)                                  \
    ((act) == CYN_ACT_SIGMOID ? (a) * ((T)1 - (a))                       \
     : (act) == CYN_ACT_TANH ? (T)1 - (a) * (a)                          \
     : (act) == CYN_ACT_RELU ? (T)((a) > (T)0)                           \
     : (act) == CYN_ACT_LEAKY_RELU ? ((a) > (T)0 ? (T)1 : (alpha))       \
     : (T)1)

/* G[n,k] = D[n,m] @ W[k,m]^T          (sum over m in order) */
void cyn_backprop_f64(const double *D, const double *W, double *G,
                      cyn_int n, cyn_int k, cyn_int m, int n_threads);
void cyn_backprop_f32(const float *D, const float *W, float *G,
                      cyn_int n, cyn_int k, cyn_int m, int n_threads);

/* dW[k,m] = A[n,k]^T @ D[n,m], db[m] = sum_i D[i,m]   (sums over samples in order) */
void cyn_wgrad_f64(const double *A, const double *D, double *dW, double *db,
                   cyn_int n, cyn_int k, cyn_int m, int n_threads);
void cyn_wgrad_f32(const float *A, const float *D, float *dW, float *db,
                   cyn_int n, cyn_int k, cyn_int m, int n_threads);
/* The same sums continued: dW and db hold the sums over the samples before
 * these n (cyn_wgrad's result for them), and these samples' terms are added
 * in order. A weight gradient computed in pieces of samples (the core does
 * it for huge batches, to look for Ctrl-C in between) has the bits of one
 * cyn_wgrad call: each sum is the same sequence of rounded adds. */
void cyn_wgrad_more_f64(const double *A, const double *D, double *dW, double *db,
                        cyn_int n, cyn_int k, cyn_int m, int n_threads);
void cyn_wgrad_more_f32(const float *A, const float *D, float *dW, float *db,
                        cyn_int n, cyn_int k, cyn_int m, int n_threads);
/* Not an activation: the `act` a variant's product is given, without a bias,
 * to continue the sums already in C instead of starting them at +0.0
 * (cyn_wgrad_more). */
#define CYN_GEMM_CONTINUE (-1)

/* Elementwise passes, vectorised in the active variant (same bits in all):
 * z = 1 / (1 + z); g = g * f'(a) for activation `code`; x = x * m;
 * one optimizer update with the step constants c (see cyn_elementwise_impl.h);
 * the derivative pass and the update split over n_threads by element ranges
 * when they are large. */
void cyn_recip1p_f64(double *z, cyn_int n);
void cyn_recip1p_f32(float *z, cyn_int n);
void cyn_dmul_f64(int code, double alpha, const double *a, double *g, cyn_int n,
                  int n_threads);
void cyn_dmul_f32(int code, float alpha, const float *a, float *g, cyn_int n,
                  int n_threads);
void cyn_mul_f64(double *x, const double *m, cyn_int n);
void cyn_mul_f32(float *x, const float *m, cyn_int n);
void cyn_step_f64(int opt, const double *c, double *p, const double *g, double *m,
                  double *v, cyn_int n, int n_threads);
void cyn_step_f32(int opt, const float *c, float *p, const float *g, float *m,
                  float *v, cyn_int n, int n_threads);

/* out[i, :] = X[order[i], :] for i < n, rows `width` long (the minibatch gather),
 * split over n_threads by rows when it is large. */
void cyn_gather_rows_f64(const double *X, cyn_int width, const cyn_int *order, cyn_int n,
                         double *out, int n_threads);
void cyn_gather_rows_f32(const float *X, cyn_int width, const cyn_int *order, cyn_int n,
                         float *out, int n_threads);

/* 1 if x[0..n) holds no inf or NaN (input validation without a temporary). */
int cyn_all_finite_f64(const double *x, cyn_int n);
int cyn_all_finite_f32(const float *x, cyn_int n);

/* Below this many multiply-adds the packing and tile set-up of the vector
 * kernels cost more than the plain loops (measured on the tutorials' 3-4-1 and 2-2-1 nets), so
 * the automatic choice runs the plain loops; the bits are the same. */
#define CYN_SMALL_PRODUCT 2048

/* Kernel variants (see cyn_kernels.c). Every variant and every thread
 * count gives the same bits; n_threads > 1 splits a large product's output
 * rows or columns over threads (each output computed by one thread). */
int cyn_variant_count(void);
const char *cyn_variant_name(int v);
int cyn_variant_supported(int v);
/* Force variant v for all sizes (-1: automatic). Returns -1 if unsupported.
 * Not thread-safe: for tests and benchmarks, never while kernels run. */
int cyn_set_variant(int v);
/* What a lane of the half-width vectors costs against one of AVX-512's, in
 * thousandths, for the two places the AVX-512 variant may hand them a part
 * of a product (measured once each; see cyn_half_cost in cyn_kernels.c):
 * CYN_HALF_EDGE, a wider product's last, partial panel, and CYN_HALF_NARROW,
 * a product narrower than one tile (an output layer of a few units). The
 * half-width vectors take it when they are cheaper at this cost. permille >
 * 0 sets it, -1 measures again at the next product, anything else only
 * reads. Returns the cost before (0 without AVX-512). For tests and
 * benchmarks, never while kernels run; the bits are the same either way. */
#define CYN_HALF_EDGE 0
#define CYN_HALF_NARROW 1
int cyn_half_width_cost(int which, int permille);
/* Products of that kind (CYN_HALF_*) that went to the half-width vectors. */
long cyn_half_width_splits(int which);
int cyn_get_variant(void);
/* Product jobs run on worker threads since import. */
/* Every layer's dW, db (dW[l] = A[l]^T @ D[l], db[l] the column sums of
 * D[l]; A[l] n x sizes[l], D[l] n x sizes[l+1]) into grads at offsets[2l],
 * offsets[2l+1], and with opt >= 0 the optimizer update of p, m, v (same
 * offsets; constants c from cyn_ew_constants): cyn_wgrad per layer then
 * cyn_step, in one pass over up to n_threads threads, the same bits. */
void cyn_wgrad_step_f64(int n_layers, cyn_int n, const double *const *A,
                        const double *const *D, const cyn_int *sizes, const cyn_int *offsets,
                        double *grads, int opt, const double *c, double *p, double *m,
                        double *v, int n_threads);
void cyn_wgrad_step_f32(int n_layers, cyn_int n, const float *const *A,
                        const float *const *D, const cyn_int *sizes, const cyn_int *offsets,
                        float *grads, int opt, const float *c, float *p, float *m,
                        float *v, int n_threads);
/* run(args, lo, hi) over [0, len), cut into one part per thread on multiples
 * of quantum (the larger parts first), on up to n_threads threads of the
 * pool: the caller's own pass over the pool, for work whose parts write
 * disjoint outputs (the rows of a training batch). One thread, or a build
 * without the pool: run(args, 0, len). */
void cyn_run_parallel(void (*run)(const void *, cyn_int, cyn_int), const void *args,
                      cyn_int len, cyn_int quantum, int n_threads);
long cyn_worker_jobs(void);
/* Passes after which the caller found a worker late and ran alone for a while. */
long cyn_pool_late_passes(void);
/* Windows of passes the caller began alone because the process's other
 * runnable threads left too few cores for the workers (Linux). */
long cyn_pool_crowded_starts(void);
/* The pool's adaptive rules, as bits. Those that send the caller alone for
 * a while: a late worker or a window's CPU share (CYN_RULE_LATE), a window
 * that begins with too few free cores (CYN_RULE_CROWDED, Linux), a probe as
 * fast alone as on the pool (CYN_RULE_PROBES); and the one that sizes the
 * parts: a two-part pass cut at the threads' measured speeds
 * (CYN_RULE_BALANCE; no bits depend on it). All are on by default. Sets them to `on` when on >= 0;
 * returns the bits before. Owner-side state: for tests and benchmarks, never
 * while kernels run. */
#define CYN_RULE_LATE 1
#define CYN_RULE_CROWDED 2
#define CYN_RULE_PROBES 4
#define CYN_RULE_BALANCE 8
#define CYN_RULES_ALL 15
int cyn_pool_adaptive(int on);
/* Run the next `passes` passes on the caller alone, as after a late worker
 * (for tests; same rules as cyn_pool_adaptive). */
void cyn_pool_run_alone(long passes);
/* Every `every`-th pass of a kind runs alone as a probe (the first, and the
 * first after a stretch alone, after min(every, 16) passes); when it took at
 * most `percent` percent of the mean time of the kind's passes on the pool
 * since its last probe, the caller goes alone for a while. Sets both when every > 0
 * and 0 <= percent <= 1000000 (for tests; owner-side state, as
 * cyn_pool_adaptive); returns the setting before as every * 1000000 +
 * percent. */
long cyn_pool_probe(int every, int percent);
/* Stretches alone that a probe began. */
long cyn_pool_probed_alone(void);
/* Cut every two-part pass on the pool with the caller's part `permille`
 * thousandths of it (in whole quanta, at least one each) instead of at the
 * measured speeds, when 0 < permille < 1000; 0 goes back to the rule. Returns
 * the setting before. For tests (owner-side state, as cyn_pool_adaptive). */
int cyn_pool_force_share(int permille);

/* 1 when this translation unit was compiled with contraction off. */
int cyn_fp_contract_off(void);
/* a*b + c evaluated by the compiled kernels' rules; differs from the
 * separately rounded result exactly when the compiler fused it. */
double cyn_probe_mul_add(double a, double b, double c);
/* 1 when the probe can run on this CPU (it is compiled for FMA on x86). */
int cyn_probe_cpu_has_fma(void);

#ifdef __cplusplus
}
#endif
#endif
