# Included by _core.pyx: mirrors reference.py's "losses" section under the
# same names (clip_probability, loss_denominator), except that one loop,
# loss_and_grad, computes each loss with its gradient (reference.mse and
# mse_gradient, ..., categorical_crossentropy and its delta).

# ---------------------------------------------------------------------------
# Losses. Each returns the batch loss and writes the output layer's error:
# dL/da for mse/sse (the activation's derivative is applied afterwards), or
# dL/dz directly for the pairs sigmoid + BCE and softmax + CCE.
# w (per-sample weights) may be NULL; a weight of 1 gives the unweighted bits.
# tmp holds 2 * n * m scratch values for the logarithms.
# ---------------------------------------------------------------------------

cdef inline floating clip_probability(floating a, floating eps, floating ome) noexcept nogil:
    # np.minimum(np.maximum(a, eps), 1 - eps); NaN passes through
    if a < eps:
        a = eps
    if a > ome:
        a = ome
    return a


cdef inline floating pow2_reciprocal(isz c, floating cf) noexcept nogil:
    """1/c when c is a power of two (exact), else 0."""
    cdef floating one = 1
    if c == 1:
        return one
    if c > 0 and (c & (c - 1)) == 0:
        return one / cf
    return 0


cdef inline floating scaled(floating x, floating c, floating inv) noexcept nogil:
    # x / c. For c a power of two, x * (1/c) is the same exact value rounded
    # once (also into the subnormals), without a division on the chain from
    # one update to the next (c is 1 for per-sample SGD).
    if inv != 0:
        return x * inv
    return x / c


cdef floating output_error(const Net *net, int loss, const floating *a,
                           const floating *a_deriv, const floating *y,
                           const floating *w, floating *g, floating *tmp, floating *terms,
                           isz n, floating denom, floating inv, int nt) noexcept nogil:
    """The batch loss; g receives dL/dz of the output layer. For mse/sse and an
    elementwise activation the derivative is applied in the loss's own loop
    (one pass, nothing reloaded; the same multiplications in the same order).
    denom is the loss's divisor (see loss_denominator), inv 1/denom when that
    is exact, else 0. With terms (rows of a batch split over threads), the
    loss's terms are stored there instead and 0 returned: loss_sum adds them
    up in the order of the one-thread loop."""
    cdef int act = net.acts[net.n_layers - 1]
    cdef double param = net.act_params[net.n_layers - 1]
    cdef isz m = net.out_width
    cdef floating value
    if loss == LOSS_BCE or loss == LOSS_CCE:
        return loss_and_grad(loss, -1, 0, a, y, w, g, tmp, terms, n, m, denom, inv,
                             net.portable)
    if elementwise_derivative(act):
        return loss_and_grad(loss, act, <floating>param, a, y, w, g, tmp, terms, n, m, denom,
                             inv, net.portable)
    value = loss_and_grad(loss, -1, 0, a, y, w, g, tmp, terms, n, m, denom, inv, net.portable)
    # a_deriv: a, or z (from_input)
    derivative_mul(act, param, a_deriv, g, n, m, net.portable, nt)
    return value


cdef floating loss_sum(int code, const floating *terms, isz n, isz m,
                       floating denom) noexcept nogil:
    """The batch loss from the terms output_error stored: one per value (one
    per row for categorical cross-entropy), summed from +0.0 in order."""
    cdef isz q, cnt = n if code == LOSS_CCE else n * m
    cdef floating s = 0, half = 0.5
    for q in range(cnt):
        s = s + terms[q]
    return half * s if code == LOSS_SSE else s / denom


cdef inline floating loss_denominator(const Net *net, const floating *w, isz n,
                                       floating *wsum, floating *inv) noexcept nogil:
    """The divisor of a batch's loss: its row count, or (weighted_mean with
    weights) the sum of its weights in sample order from +0.0, times the
    loss's per-row count net.norm. wsum receives that count or sum, inv
    1/divisor where it is exact (a power of two), else 0.
    reference.loss_denominator computes the same."""
    cdef isz i
    cdef floating s = 0
    if net.weighted_mean and w != NULL:
        for i in range(n):
            s = s + w[i]
        wsum[0] = s
        inv[0] = 0
        return s * <floating>net.norm
    wsum[0] = <floating>n
    inv[0] = pow2_reciprocal(n * net.norm, <floating>(n * net.norm))
    return <floating>(n * net.norm)


cdef floating loss_and_grad(int code, int dact, floating dalpha, const floating *a,
                            const floating *y, const floating *w, floating *g,
                            floating *tmp, floating *terms, isz n, isz m, floating denom,
                            floating inv, bint portable) noexcept nogil:
    # dact >= 0 (mse/sse only): also multiply g by that activation's derivative;
    # terms != NULL: store each term there and return 0 (see output_error)
    cdef isz i, j, q, cnt = n * m
    cdef floating zero = 0, half = 0.5, two = 2, one = 1, s = 0, e, t, r, p, sy
    cdef floating eps = <floating>1e-7
    cdef floating ome = one - eps
    if code == LOSS_MSE:
        for i in range(n):
            for j in range(m):
                q = i * m + j
                e = a[q] - y[q]
                t = e * e
                g[q] = scaled(two * e, denom, inv)
                if w != NULL:
                    t = t * w[i]
                    g[q] = g[q] * w[i]
                if dact >= 0:
                    g[q] = g[q] * act_deriv(dact, a[q], dalpha)
                if terms != NULL:
                    terms[q] = t
                else:
                    s = s + t
        return s / denom
    elif code == LOSS_SSE:
        for i in range(n):
            for j in range(m):
                q = i * m + j
                e = a[q] - y[q]
                t = e * e
                g[q] = e
                if w != NULL:
                    t = t * w[i]
                    g[q] = e * w[i]
                if dact >= 0:
                    g[q] = g[q] * act_deriv(dact, a[q], dalpha)
                if terms != NULL:
                    terms[q] = t
                else:
                    s = s + t
        return half * s
    elif code == LOSS_BCE:
        for q in range(cnt):
            p = clip_probability(a[q], eps, ome)
            tmp[q] = p
            tmp[cnt + q] = one - p
        vlog(tmp, 2 * cnt, portable)
        for i in range(n):
            for j in range(m):
                q = i * m + j
                t = -(y[q] * tmp[q] + (one - y[q]) * tmp[cnt + q])
                g[q] = scaled(a[q] - y[q], denom, inv)
                if w != NULL:
                    t = t * w[i]
                    g[q] = g[q] * w[i]
                if terms != NULL:
                    terms[q] = t
                else:
                    s = s + t
        return s / denom
    else:  # LOSS_CCE
        for q in range(cnt):
            tmp[q] = clip_probability(a[q], eps, ome)
        vlog(tmp, cnt, portable)
        for i in range(n):
            r = zero
            sy = zero
            for j in range(m):
                q = i * m + j
                r = r + y[q] * tmp[q]
                sy = sy + y[q]
            for j in range(m):
                # d/dz of -sum_j y_j log softmax(z)_j is p * sum(y) - y
                # (p - y for rows that sum to 1: p * 1 is exact)
                q = i * m + j
                g[q] = scaled(a[q] * sy - y[q], denom, inv)
                if w != NULL:
                    g[q] = g[q] * w[i]
            t = -r
            if w != NULL:
                t = t * w[i]
            if terms != NULL:
                terms[i] = t
            else:
                s = s + t
        return s / denom
