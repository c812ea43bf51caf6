/*
 * Dtype template for cyn_kernels.c: the sparse-input kernels of cyn_sparse.h
 * (the first layer's affine map and weight gradient over a CSR batch),
 * included once per dtype with T and SFX defined, after cyn_kernels_impl.h
 * (it uses the thread split, cyn_parallel). The operations and their order
 * are explained in cyn_sparse.h.
 * Defines (names through CYN_FN, cyn_names.h): the public cyn_csr_affine_SFX,
 * cyn_csr_wgrad_SFX and cyn_csr_clear_SFX, and the static cyn_csr_affine_rows_SFX,
 * cyn_csr_wgrad_cols_SFX and their thread parts.
 */
#ifndef T
#error "define T and SFX before including cyn_sparse_impl.h"
#endif

#include "cyn_names.h"
#include "cyn_sparse.h"

/* The rows of W (the affine map) and dW (the weight gradient) that a batch
 * reads are scattered over a matrix far larger than the caches, one row per
 * stored entry; each is requested some entries before it is used (crossing
 * into the next sample's entries), so that the loads overlap instead of each
 * waiting on memory: as many entries ahead as make CYN_CSR_AHEAD_BYTES of
 * rows in flight, about half of a level-1 cache (W7's 1 KB rows: 16 entries
 * ahead, 2.0 s -> 1.3 s for its two epochs; 32 entries was slower again, the
 * rows evicting each other). The loads only: the arithmetic is untouched. */
#ifndef CYN_CSR_PREFETCH_DEFINED
#define CYN_CSR_PREFETCH_DEFINED
#ifndef CYN_CSR_AHEAD_BYTES
#define CYN_CSR_AHEAD_BYTES 16384
#endif
static inline cyn_int cyn_csr_distance(cyn_int row_bytes)
{
    const cyn_int d = CYN_CSR_AHEAD_BYTES / (row_bytes > 0 ? row_bytes : 1);
    return d < 2 ? 2 : d > 64 ? 64 : d;
}
#if defined(__GNUC__) || defined(__clang__)
#define CYN_CSR_PREFETCH(addr, bytes, write)                                       \
    do {                                                                           \
        const char *cyn_pf_ = (const char *)(addr);                                \
        for (cyn_int cyn_b_ = 0; cyn_b_ < (bytes); cyn_b_ += 64)                   \
            __builtin_prefetch(cyn_pf_ + cyn_b_, (write), 3);                      \
    } while (0)
#else
#define CYN_CSR_PREFETCH(addr, bytes, write) ((void)0)
#endif

/* The column of the entry `dist` after entry p of a sample whose entries
 * are [p, p1), continuing into the next sample's [q0, q1); -1 if none. */
static inline cyn_int cyn_csr_ahead(const cyn_int *indices, cyn_int p, cyn_int p1,
                                    cyn_int q0, cyn_int q1, cyn_int dist)
{
    const cyn_int a = p + dist;
    if (a < p1)
        return indices[a];
    return a - p1 + q0 < q1 ? indices[a - p1 + q0] : -1;
}
#endif

typedef struct {
    const T *data;
    const cyn_int *indices, *indptr, *rows;
    cyn_int row0, n, k, m;
    const T *W, *b, *D;
    T *Z, *dW, *db;
    int act, zeroed;
    T alpha;
} CYN_FN(cyn_csr_args);

/* Rows [lo, hi) of the batch's affine map. */
static void CYN_FN(cyn_csr_affine_rows)(const CYN_FN(cyn_csr_args) *a, cyn_int lo, cyn_int hi)
{
    const cyn_int m = a->m;
    const int act = a->act;
    const T alpha = a->alpha;
    const T *restrict b = a->b;
    const cyn_int dist = cyn_csr_distance(m * (cyn_int)sizeof(T));
    for (cyn_int i = lo; i < hi; ++i) {
        const cyn_int r = a->rows ? a->rows[i] : a->row0 + i;
        const cyn_int p1 = a->indptr[r + 1];
        const cyn_int rn = i + 1 < hi ? (a->rows ? a->rows[i + 1] : a->row0 + i + 1) : -1;
        const cyn_int q0 = rn >= 0 ? a->indptr[rn] : 0, q1 = rn >= 0 ? a->indptr[rn + 1] : 0;
        T *restrict z = a->Z + i * m;
        for (cyn_int j = 0; j < m; ++j)
            z[j] = (T)0;
        /* the row's stored k in increasing order, outputs inner: each z[j]
         * sums its terms in k order and the j loop vectorises */
        for (cyn_int p = a->indptr[r]; p < p1; ++p) {
            const cyn_int ahead = cyn_csr_ahead(a->indices, p, p1, q0, q1, dist);
            if (ahead >= 0)
                CYN_CSR_PREFETCH(a->W + ahead * m, m * (cyn_int)sizeof(T), 0);
            const T xv = a->data[p];
            const T *restrict w = a->W + a->indices[p] * m;
            for (cyn_int j = 0; j < m; ++j)
                z[j] = z[j] + xv * w[j];
        }
        /* the bias last, then the activation's first step (cyn_kernels.h) */
        switch (act) {
        case CYN_ACT_SIGMOID:
            for (cyn_int j = 0; j < m; ++j) {
                const T s = z[j] + b[j];
                z[j] = CYN_ACT_STEP(T, CYN_ACT_SIGMOID, s, alpha);
            }
            break;
        case CYN_ACT_RELU:
            for (cyn_int j = 0; j < m; ++j) {
                const T s = z[j] + b[j];
                z[j] = CYN_ACT_STEP(T, CYN_ACT_RELU, s, alpha);
            }
            break;
        case CYN_ACT_LEAKY_RELU:
            for (cyn_int j = 0; j < m; ++j) {
                const T s = z[j] + b[j];
                z[j] = CYN_ACT_STEP(T, CYN_ACT_LEAKY_RELU, s, alpha);
            }
            break;
        default:
            for (cyn_int j = 0; j < m; ++j)
                z[j] = z[j] + b[j];
            break;
        }
    }
}

/* Output columns [lo, hi) of the weight gradient and the bias gradient:
 * every sum from +0.0, the samples in order. */
static void CYN_FN(cyn_csr_wgrad_cols)(const CYN_FN(cyn_csr_args) *a, cyn_int lo, cyn_int hi)
{
    const cyn_int m = a->m, w = hi - lo;
    T *restrict db = a->db + lo;
    for (cyn_int q = 0; q < (a->zeroed ? 0 : a->k); ++q) {
        T *restrict g = a->dW + q * m + lo;
        for (cyn_int j = 0; j < w; ++j)
            g[j] = (T)0;
    }
    for (cyn_int j = 0; j < w; ++j)
        db[j] = (T)0;
    const cyn_int dist = cyn_csr_distance(w * (cyn_int)sizeof(T));
    for (cyn_int i = 0; i < a->n; ++i) {
        const cyn_int r = a->rows ? a->rows[i] : a->row0 + i;
        const cyn_int p1 = a->indptr[r + 1];
        const cyn_int rn = i + 1 < a->n ? (a->rows ? a->rows[i + 1] : a->row0 + i + 1) : -1;
        const cyn_int q0 = rn >= 0 ? a->indptr[rn] : 0, q1 = rn >= 0 ? a->indptr[rn + 1] : 0;
        const T *restrict d = a->D + i * m + lo;
        for (cyn_int j = 0; j < w; ++j)
            db[j] = db[j] + d[j];
        for (cyn_int p = a->indptr[r]; p < p1; ++p) {
            const cyn_int ahead = cyn_csr_ahead(a->indices, p, p1, q0, q1, dist);
            if (ahead >= 0)
                CYN_CSR_PREFETCH(a->dW + ahead * m + lo, w * (cyn_int)sizeof(T), 1);
            const T xv = a->data[p];
            T *restrict g = a->dW + a->indices[p] * m + lo;
            for (cyn_int j = 0; j < w; ++j)
                g[j] = g[j] + xv * d[j];
        }
    }
}

#if CYN_HAVE_SIMD
static void CYN_FN(cyn_csr_affine_part)(const void *args, cyn_int lo, cyn_int hi)
{
    CYN_FN(cyn_csr_affine_rows)((const CYN_FN(cyn_csr_args) *)args, lo, hi);
}

static void CYN_FN(cyn_csr_wgrad_part)(const void *args, cyn_int lo, cyn_int hi)
{
    CYN_FN(cyn_csr_wgrad_cols)((const CYN_FN(cyn_csr_args) *)args, lo, hi);
}
#endif

void CYN_FN(cyn_csr_affine)(const T *data, const cyn_int *indices, const cyn_int *indptr,
                            const cyn_int *rows, cyn_int row0, cyn_int n, const T *W,
                            const T *b, T *Z, cyn_int m, int act, T alpha, int n_threads)
{
    const CYN_FN(cyn_csr_args) a = {data, indices, indptr, rows, row0, n, 0, m, W, b, NULL,
                                    Z, NULL, NULL, act, 0, alpha};
#if CYN_HAVE_SIMD
    const double work = (double)cyn_csr_batch_nnz(indptr, rows, row0, n) * (double)m;
    const int nt = cyn_threads_for(n_threads, work, CYN_THREAD_MIN_WORK);
    if (nt > 1 && n >= 2) {
        /* whole rows per part: each output is one thread's, in the fixed order */
        cyn_parallel(CYN_FN(cyn_csr_affine_part), &a, n, 1, nt, nt);
        return;
    }
#else
    (void)n_threads;
#endif
    CYN_FN(cyn_csr_affine_rows)(&a, 0, n);
}

void CYN_FN(cyn_csr_wgrad)(const T *data, const cyn_int *indices, const cyn_int *indptr,
                           const cyn_int *rows, cyn_int row0, cyn_int n, const T *D, T *dW,
                           T *db, cyn_int k, cyn_int m, int zeroed, int n_threads)
{
    const CYN_FN(cyn_csr_args) a = {data, indices, indptr, rows, row0, n, k, m, NULL, NULL, D,
                                    NULL, dW, db, 0, zeroed, (T)0};
#if CYN_HAVE_SIMD
    /* the zeroing of dW, when it is done, is part of the work: k * m stores */
    const double work = ((double)cyn_csr_batch_nnz(indptr, rows, row0, n)
                         + (zeroed ? 0.0 : (double)k)) * (double)m;
    /* columns in whole 64-byte lines, so that two parts never write one line */
    const cyn_int q = CYN_IS_F32 ? 16 : 8;
    const int nt = cyn_threads_for(n_threads, work, CYN_THREAD_MIN_WORK);
    if (nt > 1 && m >= 2 * q) {
        cyn_parallel(CYN_FN(cyn_csr_wgrad_part), &a, m, q, nt, nt);
        return;
    }
#else
    (void)n_threads;
#endif
    CYN_FN(cyn_csr_wgrad_cols)(&a, 0, m);
}

void CYN_FN(cyn_csr_clear)(const cyn_int *indices, const cyn_int *indptr, const cyn_int *rows,
                           cyn_int row0, cyn_int n, T *dW, cyn_int m)
{
    const cyn_int dist = cyn_csr_distance(m * (cyn_int)sizeof(T));
    for (cyn_int i = 0; i < n; ++i) {
        const cyn_int r = rows ? rows[i] : row0 + i;
        const cyn_int p1 = indptr[r + 1];
        const cyn_int rn = i + 1 < n ? (rows ? rows[i + 1] : row0 + i + 1) : -1;
        const cyn_int q0 = rn >= 0 ? indptr[rn] : 0, q1 = rn >= 0 ? indptr[rn + 1] : 0;
        for (cyn_int p = indptr[r]; p < p1; ++p) {
            const cyn_int ahead = cyn_csr_ahead(indices, p, p1, q0, q1, dist);
            if (ahead >= 0)
                CYN_CSR_PREFETCH(dW + ahead * m, m * (cyn_int)sizeof(T), 1);
            T *restrict g = dW + indices[p] * m;
            for (cyn_int j = 0; j < m; ++j)
                g[j] = (T)0;
        }
    }
}
