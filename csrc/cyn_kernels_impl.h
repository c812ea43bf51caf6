/*
 * Dtype template for cyn_kernels.c: included once per dtype with T (the C
 * type) and SFX (the name suffix) defined, after the SIMD variants. One body,
 * two types: the public entry points, which pick a variant (the plain loops of
 * cyn_scalar_impl.h, or a vectorised product) and split the outputs over
 * threads.
 * Defines (names through CYN_FN, cyn_names.h): the public cyn_affine_SFX,
 * cyn_backprop_SFX, cyn_wgrad_SFX, cyn_wgrad_more_SFX, cyn_all_finite_SFX, cyn_recip1p_SFX,
 * cyn_dmul_SFX, cyn_mul_SFX, cyn_step_SFX (declared in cyn_kernels.h), and
 * the static cyn_split_SFX and cyn_ew_ops_SFX.
 */
#ifndef T
#error "define T and SFX before including cyn_kernels_impl.h"
#endif

#include "cyn_names.h"

#include "cyn_scalar_impl.h"

#if CYN_HAVE_SIMD
/* Rows / columns of work per part come in multiples of these: the tallest
 * tile, and one 512-bit vector of T (a multiple of every variant's vector),
 * so that a part boundary never splits a vector. */
#define CYN_ROW_QUANTUM 8
#define CYN_COL_QUANTUM (CYN_IS_F32 ? 16 : 8)
#ifndef CYN_PARTS_PER_THREAD
#if defined(_WIN32)
#define CYN_PARTS_PER_THREAD 1     /* the Windows path starts one thread per part */
#else
#define CYN_PARTS_PER_THREAD 2
#endif
#endif
#ifndef CYN_PART_MIN_WORK
#define CYN_PART_MIN_WORK (1 << 18)
#endif

/* A product split over threads: the operands, and whether the parts own
 * rows or columns of C. */
typedef struct {
    CYN_FN(cyn_gemm_fn) fn;
    int by_cols;
    cyn_int M, N, K;
    const T *a;
    cyn_int ars, acs;
    const T *b;
    cyn_int bps, bcs;
    const T *bias;
    int act;
    T alpha;
    T *c;
    cyn_int ldc;
} CYN_FN(cyn_gemm_args);

/* Rows or columns [lo, hi) of the product. */
static void CYN_FN(cyn_gemm_part)(const void *args, cyn_int lo, cyn_int hi)
{
    const CYN_FN(cyn_gemm_args) *g = (const CYN_FN(cyn_gemm_args) *)args;
    if (g->by_cols)
        g->fn(g->M, hi - lo, g->K, g->a, g->ars, g->acs, g->b + lo * g->bcs, g->bps, g->bcs,
              g->bias ? g->bias + lo : NULL, g->act, g->alpha, g->c + lo, g->ldc);
    else
        g->fn(hi - lo, g->N, g->K, g->a + lo * g->ars, g->ars, g->acs, g->b, g->bps, g->bcs,
              g->bias, g->act, g->alpha, g->c + lo * g->ldc, g->ldc);
}

static void CYN_FN(cyn_split)(CYN_FN(cyn_gemm_fn) fn, int n_threads,
                              cyn_int M, cyn_int N, cyn_int K,
                              const T *a, cyn_int ars, cyn_int acs,
                              const T *b, cyn_int bps, cyn_int bcs,
                              const T *bias, int act, T alpha, T *c, cyn_int ldc)
{
    const int nt = cyn_threads_for(n_threads, (double)M * (double)N * (double)K,
                                   CYN_THREAD_MIN_WORK);
    if (nt == 1) {
        fn(M, N, K, a, ars, acs, b, bps, bcs, bias, act, alpha, c, ldc);
        return;
    }
    /* Each part owns whole rows or whole columns of C: every output element
     * is computed by one thread in the same order, so the bits depend neither
     * on nt nor on where the parts begin. Columns whenever each thread gets
     * two vectors of them: a part then packs only its own panels of B, where
     * a row part packs all of B (100-wide layers at batch 200: four packs
     * of B per product instead of one). */
    const CYN_FN(cyn_gemm_args) g = {fn, N >= (cyn_int)nt * 2 * CYN_COL_QUANTUM, M, N, K,
                                     a, ars, acs, b, bps, bcs, bias, act, alpha, c, ldc};
    /* More parts than threads, when each stays large: the threads claim parts
     * as they come free (cyn_pool), so a thread slowed by another process on
     * its core takes fewer of them. */
    int parts = nt;
    if (CYN_PARTS_PER_THREAD > 1
            && (double)M * (double)N * (double)K >= (double)nt * CYN_PARTS_PER_THREAD * CYN_PART_MIN_WORK)
        parts = nt * CYN_PARTS_PER_THREAD;
    cyn_parallel(CYN_FN(cyn_gemm_part), &g, g.by_cols ? N : M,
                 g.by_cols ? CYN_COL_QUANTUM : CYN_ROW_QUANTUM, parts, nt);
}
#undef CYN_ROW_QUANTUM
#undef CYN_PARTS_PER_THREAD
#undef CYN_PART_MIN_WORK
#undef CYN_COL_QUANTUM
#endif

void CYN_FN(cyn_affine)(const T *X, const T *W, const T *b, T *Z,
                        cyn_int n, cyn_int k, cyn_int m, int act, T alpha, int n_threads)
{
#if CYN_HAVE_SIMD
    const cyn_variant *v = cyn_pick(n, m, k);
    if (v->CYN_FN(gemm)) {
        CYN_FN(cyn_split)(v->CYN_FN(gemm), n_threads, n, m, k, X, k, 1, W, m, 1, b, act, alpha,
                          Z, m);
        return;
    }
#endif
    (void)n_threads;
    CYN_FN(cyn_scalar_affine)(X, W, b, Z, n, k, m, act, alpha);
}

void CYN_FN(cyn_backprop)(const T *D, const T *W, T *G,
                          cyn_int n, cyn_int k, cyn_int m, int n_threads)
{
#if CYN_HAVE_SIMD
    const cyn_variant *v = cyn_pick(n, k, m);
    if (v->CYN_FN(gemm)) {
        /* G(i,p) = sum_j D(i,j) W(p,j): B(j,p) = W[p*m + j], read transposed */
        CYN_FN(cyn_split)(v->CYN_FN(gemm), n_threads, n, k, m, D, m, 1, W, 1, m, NULL, 0, 0,
                          G, k);
        return;
    }
#endif
    (void)n_threads;
    CYN_FN(cyn_scalar_backprop)(D, W, G, n, k, m);
}

void CYN_FN(cyn_wgrad)(const T *A, const T *D, T *dW, T *db,
                       cyn_int n, cyn_int k, cyn_int m, int n_threads)
{
#if CYN_HAVE_SIMD
    const cyn_variant *v = cyn_pick(k, m, n);
    if (v->CYN_FN(gemm)) {
        /* dW(p,j) = sum_i A(i,p) D(i,j): the left operand is A read transposed */
        CYN_FN(cyn_split)(v->CYN_FN(gemm), n_threads, k, m, n, A, 1, k, D, m, 1, NULL, 0, 0,
                          dW, m);
        v->CYN_FN(colsum)(n, m, D, m, db);
        return;
    }
#endif
    (void)n_threads;
    CYN_FN(cyn_scalar_wgrad)(A, D, dW, db, n, k, m);
}

void CYN_FN(cyn_wgrad_more)(const T *A, const T *D, T *dW, T *db,
                            cyn_int n, cyn_int k, cyn_int m, int n_threads)
{
#if CYN_HAVE_SIMD
    const cyn_variant *v = cyn_pick(k, m, n);
    if (v->CYN_FN(gemm)) {
        CYN_FN(cyn_split)(v->CYN_FN(gemm), n_threads, k, m, n, A, 1, k, D, m, 1, NULL,
                          CYN_GEMM_CONTINUE, 0, dW, m);
        /* db's n*m adds are a k-th of the product's: the plain loop, in row order */
        for (cyn_int i = 0; i < n; ++i)
            for (cyn_int j = 0; j < m; ++j)
                db[j] = db[j] + D[i * m + j];
        return;
    }
#endif
    (void)n_threads;
    CYN_FN(cyn_scalar_wgrad_from)(A, D, dW, db, n, k, m, 1);
}

/* out[i, :] = X[order[i], :] for i < n (rows `width` long): the minibatch
 * gather. The rows are scattered over an array larger than L2, so the copy
 * waits on memory; the row CYN_GATHER_AHEAD places on is requested first. */
#define CYN_GATHER_AHEAD 8
static void CYN_FN(cyn_gather_range)(const T *X, cyn_int width, const cyn_int *order,
                                     cyn_int lo, cyn_int hi, T *out)
{
    for (cyn_int i = lo; i < hi; ++i) {
#if defined(__GNUC__) || defined(__clang__)
        if (i + CYN_GATHER_AHEAD < hi) {
            const char *ahead = (const char *)(X + order[i + CYN_GATHER_AHEAD] * width);
            for (cyn_int b = 0; b < width * (cyn_int)sizeof(T); b += 64)
                __builtin_prefetch(ahead + b);
        }
#endif
        const T *restrict src = X + order[i] * width;
        T *restrict dst = out + i * width;
        for (cyn_int j = 0; j < width; ++j)
            dst[j] = src[j];
    }
}
#undef CYN_GATHER_AHEAD

#if CYN_HAVE_SIMD
typedef struct {
    const T *X;
    cyn_int width;
    const cyn_int *order;
    T *out;
} CYN_FN(cyn_gather_args);

static void CYN_FN(cyn_gather_part)(const void *args, cyn_int lo, cyn_int hi)
{
    const CYN_FN(cyn_gather_args) *g = (const CYN_FN(cyn_gather_args) *)args;
    CYN_FN(cyn_gather_range)(g->X, g->width, g->order, lo, hi, g->out);
}
#endif

void CYN_FN(cyn_gather_rows)(const T *X, cyn_int width, const cyn_int *order, cyn_int n, T *out,
                             int n_threads)
{
#if CYN_HAVE_SIMD
    /* waiting on memory from two cores overlaps twice the misses */
    const int nt = cyn_threads_for(n_threads, (double)n * (double)width, CYN_THREAD_MIN_ELEMENTS / 2);
    if (nt > 1) {
        const CYN_FN(cyn_gather_args) g = {X, width, order, out};
        cyn_parallel(CYN_FN(cyn_gather_part), &g, n, 8, nt, nt);
        return;
    }
#else
    (void)n_threads;
#endif
    CYN_FN(cyn_gather_range)(X, width, order, 0, n, out);
}

/* 1 if no element is inf or NaN. x - x is +0 exactly for every finite x and
 * NaN otherwise; the comparison vectorises (no temporary array, unlike
 * np.isfinite(x).all(), whose page faults cost a 784-256-256-10 epoch a tenth of its time). */
int CYN_FN(cyn_all_finite)(const T *x, cyn_int n)
{
    for (cyn_int i0 = 0; i0 < n; i0 += 4096) {
        const cyn_int i1 = n - i0 < 4096 ? n : i0 + 4096;
        int bad = 0;
        for (cyn_int i = i0; i < i1; ++i)
            bad |= !(x[i] - x[i] == (T)0);
        if (bad)
            return 0;
    }
    return 1;
}

/* ---- elementwise passes: the active variant's vectorised loops ---------- */

static const CYN_FN(cyn_ew) *CYN_FN(cyn_ew_ops)(void)
{
#if CYN_HAVE_SIMD
    return &cyn_variants[cyn_get_variant()].CYN_FN(ew);
#else
    return &CYN_FN(cyn_ew_base);
#endif
}

void CYN_FN(cyn_recip1p)(T *z, cyn_int n) { CYN_FN(cyn_ew_ops)()->recip1p(z, n); }
#if CYN_HAVE_SIMD
/* g = g * f'(a) split over threads by element ranges. */
typedef struct {
    void (*dmul)(int, T, const T *, T *, cyn_int);
    int code;
    T alpha;
    const T *a;
    T *g;
} CYN_FN(cyn_dmul_args);

static void CYN_FN(cyn_dmul_part)(const void *args, cyn_int lo, cyn_int hi)
{
    const CYN_FN(cyn_dmul_args) *d = (const CYN_FN(cyn_dmul_args) *)args;
    d->dmul(d->code, d->alpha, d->a + lo, d->g + lo, hi - lo);
}
#endif

void CYN_FN(cyn_dmul)(int code, T alpha, const T *a, T *g, cyn_int n, int n_threads)
{
    const CYN_FN(cyn_ew) *ops = CYN_FN(cyn_ew_ops)();
#if CYN_HAVE_SIMD
    /* elementwise: element ranges give the bits of one pass (see cyn_step) */
    const int nt = cyn_threads_for(n_threads, (double)n, CYN_THREAD_MIN_ELEMENTS);
    if (nt > 1) {
        const CYN_FN(cyn_dmul_args) d = {ops->dmul, code, alpha, a, g};
        cyn_parallel(CYN_FN(cyn_dmul_part), &d, n, 64, nt, nt);
        return;
    }
#else
    (void)n_threads;
#endif
    ops->dmul(code, alpha, a, g, n);
}
void CYN_FN(cyn_mul)(T *x, const T *m, cyn_int n) { CYN_FN(cyn_ew_ops)()->mul(x, m, n); }

#if CYN_HAVE_SIMD
/* An optimizer update split over threads by element ranges. */
typedef struct {
    void (*step)(int, const T *, T *, const T *, T *, T *, cyn_int);
    int opt;
    const T *c;
    T *p;
    const T *g;
    T *m, *v;
} CYN_FN(cyn_step_args);

static void CYN_FN(cyn_step_part)(const void *args, cyn_int lo, cyn_int hi)
{
    const CYN_FN(cyn_step_args) *s = (const CYN_FN(cyn_step_args) *)args;
    s->step(s->opt, s->c, s->p + lo, s->g + lo, s->m ? s->m + lo : NULL,
            s->v ? s->v + lo : NULL, hi - lo);
}
#endif

void CYN_FN(cyn_step)(int opt, const T *c, T *p, const T *g, T *m, T *v, cyn_int n,
                      int n_threads)
{
    const CYN_FN(cyn_ew) *ops = CYN_FN(cyn_ew_ops)();
#if CYN_HAVE_SIMD
    /* every element's update is independent: element ranges give the bits
     * of one pass (parts start on multiples of 64 elements, so every part's
     * vectors stay aligned as in one pass) */
    const int nt = cyn_threads_for(n_threads, (double)n, CYN_THREAD_MIN_ELEMENTS);
    if (nt > 1) {
        const CYN_FN(cyn_step_args) s = {ops->step, opt, c, p, g, m, v};
        cyn_parallel(CYN_FN(cyn_step_part), &s, n, 64, nt, nt);
        return;
    }
#else
    (void)n_threads;
#endif
    ops->step(opt, c, p, g, m, v, n);
}

/* The weight gradients of every layer of a batch, and with opt >= 0 the
 * optimizer's update of the same parameters, in one pass over the threads.
 * Layer l's input A[l] (n x sizes[l]) and error D[l] (n x sizes[l+1]) give
 * dW, db at offsets[2l], offsets[2l+1] of grads; the update (the constants
 * c of cyn_ew_constants) writes p, m, v at the same offsets. The parts own
 * rows of the layers' weight matrices (a part's parameters, gradients and
 * optimizer state are then one stretch of memory each: parts that owned
 * columns shared a cache line in every row, which both cores wrote); a
 * row's sums run over the samples in order whoever computes it, and every
 * parameter's update is its own: the bits of cyn_wgrad per layer followed
 * by cyn_step. The rows are dealt out by cost (a row of layer l costs
 * sizes[l+1] multiply-adds per sample), so that the parts end together. */
typedef struct {
    int n_layers;
    cyn_int n;
    const T *const *A;
    const T *const *D;
    const cyn_int *sizes, *offsets;
    T *grads;
    int opt;
    const T *c;
    T *p, *m, *v;
} CYN_FN(cyn_wgrad_step_args);

/* Rows of layer l's dW per quantum of the pass: the tallest tile, or the
 * whole layer when the plain loops compute it (no vector variant for its
 * size). */
static cyn_int CYN_FN(cyn_wgrad_quantum)(cyn_int n, cyn_int k, cyn_int m)
{
#if CYN_HAVE_SIMD
    if (cyn_pick(k, m, n)->CYN_FN(gemm))
        return k < 8 ? k : 8;
#else
    (void)n;
    (void)m;
#endif
    return k;
}

/* Layer l's rows [r0, r1) of dW (the part with row 0 also db), then their
 * update. */
static void CYN_FN(cyn_wgrad_rows)(const CYN_FN(cyn_wgrad_step_args) *s, int l, cyn_int r0,
                                   cyn_int r1)
{
    const cyn_int n = s->n, k = s->sizes[l], m = s->sizes[l + 1];
    const cyn_int ow = s->offsets[2 * l] + r0 * m, ob = s->offsets[2 * l + 1];
#if CYN_HAVE_SIMD
    const cyn_variant *v = cyn_pick(k, m, n);
    if (v->CYN_FN(gemm)) {
        v->CYN_FN(gemm)(r1 - r0, m, n, s->A[l] + r0, 1, k, s->D[l], m, 1, NULL, 0, 0,
                        s->grads + ow, m);
        if (r0 == 0)
            v->CYN_FN(colsum)(n, m, s->D[l], m, s->grads + ob);
    } else
#endif
        CYN_FN(cyn_scalar_wgrad)(s->A[l], s->D[l], s->grads + ow, s->grads + ob, n, k, m);
    if (s->opt < 0)
        return;
    const CYN_FN(cyn_ew) *ops = CYN_FN(cyn_ew_ops)();
    T *pm = s->m, *pv = s->v;
    ops->step(s->opt, s->c, s->p + ow, s->grads + ow, pm ? pm + ow : NULL, pv ? pv + ow : NULL,
              (r1 - r0) * m);
    if (r0 == 0)
        ops->step(s->opt, s->c, s->p + ob, s->grads + ob, pm ? pm + ob : NULL,
                  pv ? pv + ob : NULL, m);
}

/* Units [lo, hi) of the pass: layer l's rows come in quanta
 * (cyn_wgrad_quantum), each sizes[l+1] units long, layer after layer; a
 * part owns the quanta that start in its units. */
static void CYN_FN(cyn_wgrad_step_part)(const void *args, cyn_int lo, cyn_int hi)
{
    const CYN_FN(cyn_wgrad_step_args) *s = (const CYN_FN(cyn_wgrad_step_args) *)args;
    cyn_int base = 0;
    for (int l = 0; l < s->n_layers && base < hi; ++l) {
        const cyn_int k = s->sizes[l], m = s->sizes[l + 1];
        const cyn_int q = CYN_FN(cyn_wgrad_quantum)(s->n, k, m), nq = (k + q - 1) / q;
        /* quanta j with lo <= base + j*m < hi */
        const cyn_int j0 = lo > base ? (lo - base + m - 1) / m : 0;
        cyn_int j1 = hi > base ? (hi - base + m - 1) / m : 0;
        if (j1 > nq)
            j1 = nq;
        if (j0 < j1)
            CYN_FN(cyn_wgrad_rows)(s, l, j0 * q, j1 * q < k ? j1 * q : k);
        base += nq * m;
    }
}

void CYN_FN(cyn_wgrad_step)(int n_layers, cyn_int n, const T *const *A, const T *const *D,
                            const cyn_int *sizes, const cyn_int *offsets, T *grads, int opt,
                            const T *c, T *p, T *m, T *v, int n_threads)
{
    const CYN_FN(cyn_wgrad_step_args) s = {n_layers, n, A, D, sizes, offsets, grads,
                                            opt, c, p, m, v};
    cyn_int units = 0;
    double work = 0;
    for (int l = 0; l < n_layers; ++l) {
        const cyn_int k = sizes[l], mm = sizes[l + 1];
        const cyn_int q = CYN_FN(cyn_wgrad_quantum)(n, k, mm);
        units += (k + q - 1) / q * mm;
        work += (double)n * (double)k * (double)mm;
    }
#if CYN_HAVE_SIMD
    const int nt = cyn_threads_for(n_threads, work, CYN_THREAD_MIN_WORK);
    if (nt > 1) {
        cyn_parallel(CYN_FN(cyn_wgrad_step_part), &s, units, 1, nt, nt);
        return;
    }
#else
    (void)work;
    (void)n_threads;
#endif
    CYN_FN(cyn_wgrad_step_part)(&s, 0, units);
}
