/*
 * cyneuron's sparse-input kernels (issue 29): the first layer's two products
 * when the input X is a compressed-sparse-row (CSR) matrix with sorted,
 * unique column indices in every row. Declared here, defined by
 * cyn_sparse_impl.h (instantiated per dtype in cyn_kernels.c), called from
 * src/cyneuron/_core_sparse.pxi.
 *
 * A batch is n rows of the matrix, read in place: sample i is row rows[i]
 * when rows is given (a shuffled mini-batch), else row row0 + i. Nothing is
 * gathered or densified.
 *
 * The order of the operations is the dense products' (cyn_affine,
 * cyn_wgrad) with the terms of the zero entries left out: each output sum
 * starts at +0.0 and adds x[i,k]*W[k,j] over the row's stored k in
 * increasing order, then the bias; the weight gradient adds x[i,k]*D[i,j]
 * over the samples in order. A left-out term is x*w with x = 0, a signed
 * zero when w is finite, and adding a signed zero to a sum that started at
 * +0.0 never changes it: so the bits are those of the dense product on the
 * densified matrix whenever the weights (and the deltas) are finite.
 * Vectorised across the output columns (the compiler's baseline vectors);
 * split over threads by output columns (or, for the affine map of a large
 * batch, by rows), each output computed by one thread in the fixed order,
 * so the bits do not depend on n_threads. A training batch's entries are
 * first sorted by column, so that each row of W and dW it touches is visited
 * once, in increasing order (cyn_sparse_impl.h).
 */
#ifndef CYN_SPARSE_H
#define CYN_SPARSE_H

#include "cyn_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Z[i, :] = step(sum over the stored k of X's batch row i of x*W[k, :], + b),
 * step the first step of activation `act` as in cyn_affine. */
void cyn_csr_affine_f64(const double *data, const cyn_int *indices, const cyn_int *indptr,
                        const cyn_int *rows, cyn_int row0, cyn_int n, const double *W,
                        const double *b, double *Z, cyn_int m, int act, double alpha,
                        int n_threads);
void cyn_csr_affine_f32(const float *data, const cyn_int *indices, const cyn_int *indptr,
                        const cyn_int *rows, cyn_int row0, cyn_int n, const float *W,
                        const float *b, float *Z, cyn_int m, int act, float alpha,
                        int n_threads);

/* dW[k, :] = sum over the batch's samples i in order, of x[i,k] * D[i, :]
 * (+0.0 where no sample stores k: every entry of dW is written); db = sum
 * over samples of D[i, :]. dW is (k, m), D (n, m). */
void cyn_csr_wgrad_f64(const double *data, const cyn_int *indices, const cyn_int *indptr,
                       const cyn_int *rows, cyn_int row0, cyn_int n, const double *D,
                       double *dW, double *db, cyn_int k, cyn_int m, int n_threads);
void cyn_csr_wgrad_f32(const float *data, const cyn_int *indices, const cyn_int *indptr,
                       const cyn_int *rows, cyn_int row0, cyn_int n, const float *D,
                       float *dW, float *db, cyn_int k, cyn_int m, int n_threads);

/* Stored entries of the batch's rows (its multiply-adds per output column). */
cyn_int cyn_csr_batch_nnz(const cyn_int *indptr, const cyn_int *rows, cyn_int row0, cyn_int n);

/* 0 if indptr (n_rows + 1 entries) starts at 0, never decreases and ends at
 * nnz, and every row's indices are strictly increasing and in [0, n_cols);
 * else 1 + the first row where it is not so. */
cyn_int cyn_csr_check(const cyn_int *indices, const cyn_int *indptr, cyn_int n_rows,
                      cyn_int n_cols, cyn_int nnz);

#ifdef __cplusplus
}
#endif
#endif
