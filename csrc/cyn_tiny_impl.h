/*
 * Loops of the tiny-network path (cyneuron._core, through cyn_inline.h),
 * beside the plain affine map with its activation step (cyn_scalar_impl.h):
 * the error sent back with the previous layer's derivative applied, and the
 * weight gradient with plain SGD applied as each gradient is known. The same operations in
 * the same order as the separate passes (cyn_scalar_impl.h,
 * cyn_elementwise_impl.h); fused so that a tiny layer costs one loop nest
 * instead of three, with no store that the next pass has to reload. Each
 * switch on the activation sits outside its loops. Define T and SFX first.
 * Defines (names through CYN_FN, cyn_names.h): cyn_tiny_backprop_SFX,
 * cyn_tiny_wgrad_SFX.
 */
#include "cyn_names.h"

/* G = (D @ W^T) * f'(A), A the activation output of the layer below, f' as
 * CYN_ACT_DERIV (cyn_kernels.h); identity's derivative is 1 (a hidden layer
 * is never softmax). */
CYN_LOCAL void CYN_FN(cyn_tiny_backprop)(int code, T alpha, const T *restrict D,
                                         const T *restrict W, const T *restrict A,
                                         T *restrict G, cyn_int n, cyn_int k, cyn_int m)
{
#define CYN_TINY_BACK(OUT)                                          \
    for (cyn_int i = 0; i < n; ++i) {                               \
        const T *restrict d = D + i * m;                            \
        for (cyn_int p = 0; p < k; ++p) {                           \
            T s = (T)0;                                             \
            for (cyn_int j = 0; j < m; ++j)                         \
                s = s + d[j] * W[p * m + j];                        \
            const T a = A[i * k + p];                               \
            (void)a;                                                \
            G[i * k + p] = (OUT);                                   \
        }                                                           \
    }
    switch (code) {
    case CYN_ACT_SIGMOID: CYN_TINY_BACK(s * CYN_ACT_DERIV(T, CYN_ACT_SIGMOID, a, alpha)) break;
    case CYN_ACT_TANH: CYN_TINY_BACK(s * CYN_ACT_DERIV(T, CYN_ACT_TANH, a, alpha)) break;
    case CYN_ACT_RELU: CYN_TINY_BACK(s * CYN_ACT_DERIV(T, CYN_ACT_RELU, a, alpha)) break;
    case CYN_ACT_LEAKY_RELU:
        CYN_TINY_BACK(s * CYN_ACT_DERIV(T, CYN_ACT_LEAKY_RELU, a, alpha))
        break;
    default:
        CYN_TINY_BACK(s)
        break;
    }
#undef CYN_TINY_BACK
}

/* dW = A^T @ D and db = column sums of D (sample order); with Wu/bu (the
 * layer's weights), also Wu -= lr * dW and bu -= lr * db, element by element. */
CYN_LOCAL void CYN_FN(cyn_tiny_wgrad)(const T *restrict A, const T *restrict D,
                                      T *restrict dW, T *restrict db,
                                      T *restrict Wu, T *restrict bu, T lr,
                                      cyn_int n, cyn_int k, cyn_int m)
{
#define CYN_TINY_WGRAD(UPDATE_W, UPDATE_B)                          \
    for (cyn_int p = 0; p < k; ++p)                                 \
        for (cyn_int j = 0; j < m; ++j) {                           \
            T s = (T)0;                                             \
            for (cyn_int i = 0; i < n; ++i)                         \
                s = s + A[i * k + p] * D[i * m + j];                \
            dW[p * m + j] = s;                                      \
            UPDATE_W;                                               \
        }                                                           \
    for (cyn_int j = 0; j < m; ++j) {                               \
        T s = (T)0;                                                 \
        for (cyn_int i = 0; i < n; ++i)                             \
            s = s + D[i * m + j];                                   \
        db[j] = s;                                                  \
        UPDATE_B;                                                   \
    }
    if (Wu) {
        CYN_TINY_WGRAD(Wu[p * m + j] = Wu[p * m + j] - lr * s, bu[j] = bu[j] - lr * s)
    } else {
        CYN_TINY_WGRAD((void)0, (void)0)
    }
#undef CYN_TINY_WGRAD
}
