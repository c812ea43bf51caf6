/*
 * Dtype template for cyn_kernels.c: the sparse-input kernels of cyn_sparse.h
 * (the first layer's affine map and weight gradient over a CSR batch),
 * included once per dtype with T and SFX defined, after cyn_kernels_impl.h
 * (it uses the thread split, cyn_parallel). The operations and their order
 * are explained in cyn_sparse.h.
 * Defines (names through CYN_FN, cyn_names.h): the public cyn_csr_affine_SFX
 * and cyn_csr_wgrad_SFX, and the static helpers cyn_csr_affine_rows_SFX,
 * cyn_csr_affine_bycol_SFX, cyn_csr_wgrad_rows_SFX, cyn_csr_wgrad_bycol_SFX
 * and their thread parts.
 *
 * Two orders of work, the same operations on every output:
 * - by column (a training batch, whose outputs fit in the level-2 cache):
 *   the batch's entries are sorted by column, then by sample (a counting
 *   sort, stable), and each touched row of W (or dW) is visited once, in
 *   increasing order; every output z[i, :] still receives its terms in
 *   increasing k, and every dW[k, :] its terms in sample order. dW is
 *   written row after row, zeros where no sample stores k: one sequential
 *   pass, no scattered read-modify-write and no clearing afterwards.
 * - by row (large batches, or no memory for the sort): each sample's stored
 *   entries in turn, W's rows requested ahead (CYN_CSR_PREFETCH).
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
    int act;
    T alpha;
    /* by column: the batch's entries sorted by column (see cyn_csr_sort) */
    cyn_int n_touched;
    const cyn_int *cols, *cstart, *sample;
    const T *vals;
} CYN_FN(cyn_csr_args);

/* The bias, then the activation's first step (cyn_kernels.h), on z[lo, hi). */
static void CYN_FN(cyn_csr_finish)(T *restrict z, const T *restrict b, cyn_int lo, cyn_int hi,
                                   int act, T alpha)
{
    switch (act) {
    case CYN_ACT_SIGMOID:
        for (cyn_int j = lo; j < hi; ++j) {
            const T s = z[j] + b[j];
            z[j] = CYN_ACT_STEP(T, CYN_ACT_SIGMOID, s, alpha);
        }
        break;
    case CYN_ACT_RELU:
        for (cyn_int j = lo; j < hi; ++j) {
            const T s = z[j] + b[j];
            z[j] = CYN_ACT_STEP(T, CYN_ACT_RELU, s, alpha);
        }
        break;
    case CYN_ACT_LEAKY_RELU:
        for (cyn_int j = lo; j < hi; ++j) {
            const T s = z[j] + b[j];
            z[j] = CYN_ACT_STEP(T, CYN_ACT_LEAKY_RELU, s, alpha);
        }
        break;
    default:
        for (cyn_int j = lo; j < hi; ++j)
            z[j] = z[j] + b[j];
        break;
    }
}

/* By row: samples [lo, hi) of the batch's affine map. */
static void CYN_FN(cyn_csr_affine_rows)(const CYN_FN(cyn_csr_args) *a, cyn_int lo, cyn_int hi)
{
    const cyn_int m = a->m;
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
        CYN_FN(cyn_csr_finish)(z, a->b, 0, m, a->act, a->alpha);
    }
}

/* By column: output columns [lo, hi) of every sample's affine map. */
static void CYN_FN(cyn_csr_affine_bycol)(const CYN_FN(cyn_csr_args) *a, cyn_int lo,
                                         cyn_int hi)
{
    const cyn_int m = a->m, w = hi - lo;
    const cyn_int dist = cyn_csr_distance(w * (cyn_int)sizeof(T));
    for (cyn_int i = 0; i < a->n; ++i)
        for (cyn_int j = lo; j < hi; ++j)
            a->Z[i * m + j] = (T)0;
    /* columns in increasing k: each output still adds its terms in k order */
    for (cyn_int t = 0; t < a->n_touched; ++t) {
        if (t + dist < a->n_touched)
            CYN_CSR_PREFETCH(a->W + a->cols[t + dist] * m + lo, w * (cyn_int)sizeof(T), 0);
        const T *restrict wr = a->W + a->cols[t] * m + lo;
        for (cyn_int e = a->cstart[t]; e < a->cstart[t + 1]; ++e) {
            const T xv = a->vals[e];
            T *restrict z = a->Z + a->sample[e] * m + lo;
            for (cyn_int j = 0; j < w; ++j)
                z[j] = z[j] + xv * wr[j];
        }
    }
    for (cyn_int i = 0; i < a->n; ++i)
        CYN_FN(cyn_csr_finish)(a->Z + i * m, a->b, lo, hi, a->act, a->alpha);
}

/* db[lo, hi) = the sum of D's rows in sample order, from +0.0. */
static void CYN_FN(cyn_csr_bias_grad)(const CYN_FN(cyn_csr_args) *a, cyn_int lo, cyn_int hi)
{
    T *restrict db = a->db;
    for (cyn_int j = lo; j < hi; ++j)
        db[j] = (T)0;
    for (cyn_int i = 0; i < a->n; ++i) {
        const T *restrict d = a->D + i * a->m;
        for (cyn_int j = lo; j < hi; ++j)
            db[j] = db[j] + d[j];
    }
}

/* By row: output columns [lo, hi) of dW (all of it zeroed first, then each
 * sample's stored rows added, the samples in order) and of db. */
static void CYN_FN(cyn_csr_wgrad_rows)(const CYN_FN(cyn_csr_args) *a, cyn_int lo, cyn_int hi)
{
    const cyn_int m = a->m, w = hi - lo;
    for (cyn_int q = 0; q < a->k; ++q) {
        T *restrict g = a->dW + q * m + lo;
        for (cyn_int j = 0; j < w; ++j)
            g[j] = (T)0;
    }
    CYN_FN(cyn_csr_bias_grad)(a, lo, hi);
    const cyn_int dist = cyn_csr_distance(w * (cyn_int)sizeof(T));
    for (cyn_int i = 0; i < a->n; ++i) {
        const cyn_int r = a->rows ? a->rows[i] : a->row0 + i;
        const cyn_int p1 = a->indptr[r + 1];
        const cyn_int rn = i + 1 < a->n ? (a->rows ? a->rows[i + 1] : a->row0 + i + 1) : -1;
        const cyn_int q0 = rn >= 0 ? a->indptr[rn] : 0, q1 = rn >= 0 ? a->indptr[rn + 1] : 0;
        const T *restrict d = a->D + i * m + lo;
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

/* By column: output columns [lo, hi) of dW, written row after row in
 * increasing k (each touched row's sum from +0.0 over its samples in order,
 * +0.0 elsewhere), and of db. */
static void CYN_FN(cyn_csr_wgrad_bycol)(const CYN_FN(cyn_csr_args) *a, cyn_int lo, cyn_int hi)
{
    const cyn_int m = a->m, w = hi - lo;
    CYN_FN(cyn_csr_bias_grad)(a, lo, hi);
    cyn_int q = 0;
    for (cyn_int t = 0; t <= a->n_touched; ++t) {
        /* the rows no sample stores, up to the next touched one: +0.0 */
        const cyn_int next = t < a->n_touched ? a->cols[t] : a->k;
        if (w == m) {
            memset(a->dW + q * m, 0, (size_t)(next - q) * (size_t)m * sizeof(T));
        } else {
            for (; q < next; ++q)
                for (cyn_int j = 0; j < w; ++j)
                    a->dW[q * m + lo + j] = (T)0;
        }
        if (t == a->n_touched)
            break;
        /* the touched row: +0.0, then its samples' terms in order */
        T *restrict g = a->dW + next * m + lo;
        for (cyn_int j = 0; j < w; ++j)
            g[j] = (T)0;
        for (cyn_int e = a->cstart[t]; e < a->cstart[t + 1]; ++e) {
            const T xv = a->vals[e];
            const T *restrict d = a->D + a->sample[e] * m + lo;
            for (cyn_int j = 0; j < w; ++j)
                g[j] = g[j] + xv * d[j];
        }
        q = next + 1;
    }
}

/* Sort the batch's entries by column, then by sample (counting sort over the
 * k columns; stable, as the batch is read in sample order) into `buf`
 * (3 * nnz + 2 * k + 4 entries): a->cols, cstart, sample, and vals (the
 * values in that order, read in sequence instead of gathered). */
static void CYN_FN(cyn_csr_sort)(CYN_FN(cyn_csr_args) *a, cyn_int nnz, cyn_int *buf)
{
    cyn_int *count = buf;                     /* k + 1: entries per column, then starts */
    cyn_int *cols = count + a->k + 1;         /* up to min(k, nnz) touched columns */
    cyn_int *cstart = cols + (a->k < nnz ? a->k : nnz) + 1;
    cyn_int *sample = cstart + (a->k < nnz ? a->k : nnz) + 1;
    T *vals = (T *)(sample + nnz);            /* sizeof(T) <= sizeof(cyn_int) */
    memset(count, 0, (size_t)(a->k + 1) * sizeof(cyn_int));
    for (cyn_int i = 0; i < a->n; ++i) {
        const cyn_int r = a->rows ? a->rows[i] : a->row0 + i;
        for (cyn_int p = a->indptr[r]; p < a->indptr[r + 1]; ++p)
            ++count[a->indices[p]];
    }
    cyn_int nt = 0, s = 0;
    for (cyn_int q = 0; q < a->k; ++q) {
        const cyn_int c = count[q];
        count[q] = s;                         /* where column q's entries go */
        if (c) {
            cols[nt] = q;
            cstart[nt] = s;
            ++nt;
        }
        s += c;
    }
    cstart[nt] = s;
    for (cyn_int i = 0; i < a->n; ++i) {
        const cyn_int r = a->rows ? a->rows[i] : a->row0 + i;
        for (cyn_int p = a->indptr[r]; p < a->indptr[r + 1]; ++p) {
            const cyn_int e = count[a->indices[p]]++;
            sample[e] = i;
            vals[e] = a->data[p];
        }
    }
    a->n_touched = nt;
    a->cols = cols;
    a->cstart = cstart;
    a->sample = sample;
    a->vals = vals;
}

/* By column when the batch's outputs (n x m) fit in a level-2 cache; the
 * sort's scratch, or NULL (then by row). */
#ifndef CYN_CSR_BYCOL_BYTES
#define CYN_CSR_BYCOL_BYTES (512 * 1024)
#endif
static cyn_int *CYN_FN(cyn_csr_bycol)(CYN_FN(cyn_csr_args) *a)
{
    if ((double)a->n * (double)a->m * (double)sizeof(T) > CYN_CSR_BYCOL_BYTES)
        return NULL;
    const cyn_int nnz = cyn_csr_batch_nnz(a->indptr, a->rows, a->row0, a->n);
    cyn_int *buf = (cyn_int *)malloc((size_t)(3 * nnz + 2 * a->k + 4) * sizeof(cyn_int));
    if (buf)
        CYN_FN(cyn_csr_sort)(a, nnz, buf);
    return buf;
}

static void CYN_FN(cyn_csr_affine_part)(const void *args, cyn_int lo, cyn_int hi)
{
    const CYN_FN(cyn_csr_args) *a = (const CYN_FN(cyn_csr_args) *)args;
    if (a->cols)
        CYN_FN(cyn_csr_affine_bycol)(a, lo, hi);
    else
        CYN_FN(cyn_csr_affine_rows)(a, lo, hi);
}

static void CYN_FN(cyn_csr_wgrad_part)(const void *args, cyn_int lo, cyn_int hi)
{
    const CYN_FN(cyn_csr_args) *a = (const CYN_FN(cyn_csr_args) *)args;
    if (a->cols)
        CYN_FN(cyn_csr_wgrad_bycol)(a, lo, hi);
    else
        CYN_FN(cyn_csr_wgrad_rows)(a, lo, hi);
}

/* part(a, 0, len), split over the threads in multiples of q when the
 * product's work (multiply-adds) pays for it; then frees the column sort. */
static void CYN_FN(cyn_csr_run)(const CYN_FN(cyn_csr_args) *a, cyn_int *buf,
                                void (*part)(const void *, cyn_int, cyn_int), double work,
                                cyn_int len, cyn_int q, int n_threads)
{
#if CYN_HAVE_SIMD
    const int nt = cyn_threads_for(n_threads, work, CYN_THREAD_MIN_WORK);
    if (nt > 1 && len >= 2 * q)
        cyn_parallel(part, a, len, q, nt, nt);
    else
#else
    (void)work;
    (void)q;
    (void)n_threads;
#endif
        part(a, 0, len);
    free(buf);
}

void CYN_FN(cyn_csr_affine)(const T *data, const cyn_int *indices, const cyn_int *indptr,
                            const cyn_int *rows, cyn_int row0, cyn_int n, const T *W,
                            const T *b, T *Z, cyn_int m, int act, T alpha, int n_threads)
{
    CYN_FN(cyn_csr_args) a = {data, indices, indptr, rows, row0, n, 0, m, W, b, NULL, Z,
                              NULL, NULL, act, alpha, 0, NULL, NULL, NULL, NULL};
    /* by column: the touched rows of W once each, in order; k is only the
     * sort's range here (the largest column + 1 would do as well) */
    cyn_int kmax = 0;
    for (cyn_int i = 0; i < n; ++i) {
        const cyn_int r = rows ? rows[i] : row0 + i;
        if (indptr[r + 1] > indptr[r] && indices[indptr[r + 1] - 1] + 1 > kmax)
            kmax = indices[indptr[r + 1] - 1] + 1;
    }
    a.k = kmax;
    cyn_int *buf = CYN_FN(cyn_csr_bycol)(&a);
    /* by column: columns in whole 64-byte lines per part; by row: whole
     * rows. Each output is one thread's, in the fixed order. */
    CYN_FN(cyn_csr_run)(&a, buf, CYN_FN(cyn_csr_affine_part),
                        (double)cyn_csr_batch_nnz(indptr, rows, row0, n) * (double)m,
                        buf ? m : n, buf ? (CYN_IS_F32 ? 16 : 8) : 1, n_threads);
}

void CYN_FN(cyn_csr_wgrad)(const T *data, const cyn_int *indices, const cyn_int *indptr,
                           const cyn_int *rows, cyn_int row0, cyn_int n, const T *D, T *dW,
                           T *db, cyn_int k, cyn_int m, int n_threads)
{
    CYN_FN(cyn_csr_args) a = {data, indices, indptr, rows, row0, n, k, m, NULL, NULL, D, NULL,
                              dW, db, 0, (T)0, 0, NULL, NULL, NULL, NULL};
    cyn_int *buf = CYN_FN(cyn_csr_bycol)(&a);
    /* parts own columns in whole 64-byte lines (whole lines of every row of
     * dW when m * sizeof(T) is a multiple of 64); the k * m stores of dW
     * are part of the work */
    CYN_FN(cyn_csr_run)(&a, buf, CYN_FN(cyn_csr_wgrad_part),
                        ((double)cyn_csr_batch_nnz(indptr, rows, row0, n) + (double)k)
                            * (double)m,
                        m, CYN_IS_F32 ? 16 : 8, n_threads);
}
