/*
 * Dtype template for the kernels in cyn_kernels.c: included once per dtype
 * with T (the C type) and SFX (the name suffix) defined. One body, two types.
 */
#ifndef T
#error "define T and SFX before including cyn_kernels_impl.h"
#endif

#define CYN_CAT_(a, b) a##_##b
#define CYN_CAT(a, b) CYN_CAT_(a, b)
#define CYN_FN(name) CYN_CAT(name, SFX)

void CYN_FN(cyn_affine)(const T *restrict X, const T *restrict W,
                        const T *restrict b, T *restrict Z,
                        cyn_int n, cyn_int k, cyn_int m)
{
    for (cyn_int i = 0; i < n; ++i) {
        T *restrict z = Z + i * m;
        const T *restrict x = X + i * k;
        for (cyn_int j = 0; j < m; ++j)
            z[j] = (T)0;
        /* k outer, outputs inner: each z[j] still sums its terms in k order,
         * and the j loop vectorises across independent outputs. */
        for (cyn_int p = 0; p < k; ++p) {
            const T xv = x[p];
            const T *restrict w = W + p * m;
            for (cyn_int j = 0; j < m; ++j)
                z[j] = z[j] + xv * w[j];
        }
        for (cyn_int j = 0; j < m; ++j)
            z[j] = z[j] + b[j];
    }
}

void CYN_FN(cyn_backprop)(const T *restrict D, const T *restrict W,
                          T *restrict G, cyn_int n, cyn_int k, cyn_int m)
{
    for (cyn_int i = 0; i < n; ++i) {
        const T *restrict d = D + i * m;
        T *restrict g = G + i * k;
        for (cyn_int p = 0; p < k; ++p) {
            const T *restrict w = W + p * m;
            T s = (T)0;
            for (cyn_int j = 0; j < m; ++j)
                s = s + d[j] * w[j];
            g[p] = s;
        }
    }
}

void CYN_FN(cyn_wgrad)(const T *restrict A, const T *restrict D,
                       T *restrict dW, T *restrict db,
                       cyn_int n, cyn_int k, cyn_int m)
{
    for (cyn_int q = 0; q < k * m; ++q)
        dW[q] = (T)0;
    for (cyn_int j = 0; j < m; ++j)
        db[j] = (T)0;
    /* samples outer: every dW[p,j] and db[j] adds its terms in sample order */
    for (cyn_int i = 0; i < n; ++i) {
        const T *restrict a = A + i * k;
        const T *restrict d = D + i * m;
        for (cyn_int p = 0; p < k; ++p) {
            const T av = a[p];
            T *restrict dw = dW + p * m;
            for (cyn_int j = 0; j < m; ++j)
                dw[j] = dw[j] + av * d[j];
        }
        for (cyn_int j = 0; j < m; ++j)
            db[j] = db[j] + d[j];
    }
}

#undef CYN_FN
#undef CYN_CAT
#undef CYN_CAT_
