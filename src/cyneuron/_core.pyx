# cython: language_level=3
"""cyneuron's compiled core.

Everything here assumes valid input: the Python layer (``cyneuron.network``)
has already checked shapes, dtypes, contiguity and finiteness, and allocated
every buffer. The loops run without the GIL and, in release builds, without
bounds checks. Each routine performs the IEEE-754 operations of
``cyneuron.reference`` in the same order, so results agree bit for bit.

Layout of a network (shared with the Python layer):

* ``params``: one flat C-contiguous vector ``[W1, b1, W2, b2, ...]`` where
  ``W_l`` is row-major ``(sizes[l], sizes[l+1])`` and ``b_l`` has
  ``sizes[l+1]`` entries; ``grads`` has the same layout.
* ``sizes``: layer widths, input first (``intp``).
* ``acts``: activation code per layer (``intc``); ``act_params``: its scalar
  parameter (the leaky-ReLU slope), ``float64``.

The file reads top-down: activations, losses, the forward pass, the backward
pass, the tiny-net path, penalties and optimizers, the training loop, then the
boundary (``CoreNet``). Two parts sit apart: ``_core_transcendental.pxi`` (exp,
tanh, log, log1p: NumPy's own loops or the portable ones) and
``_core_hooks.pxi`` (hooks for tests and benchmarks); the C declarations and
per-dtype wrappers are in ``_kernels.pxd``.
"""

cimport numpy as cnp
from cython cimport floating
from cpython.ref cimport PyObject
from libc.string cimport memcpy, memset
from libc.math cimport fabs, fabsf, sqrt, sqrtf

import numpy as np

cnp.import_array()
cnp.import_ufunc()

from cyneuron._kernels cimport *
from cyneuron._portable_decl cimport (CYNP_FN_EXP, CYNP_FN_LOG, CYNP_FN_LOG1P, CYNP_FN_TANH,
                                      CYNP_FN_SIGMOID_NEG, CYNP_N_VAR, cynp_get_f32, cynp_get_f64,
                                      cynp_loop_f32, cynp_loop_f64, cynp_sigmoid_neg_f32,
                                      cynp_sigmoid_neg_f64, cynp_variant_supported)

include "_core_transcendental.pxi"


# ---------------------------------------------------------------------------
# Input checks.
# ---------------------------------------------------------------------------

def all_finite(const floating[::1] x):
    """True if x holds no inf or NaN (one pass, no temporary array)."""
    cdef int ok
    if x.shape[0] > 0 and (<size_t>&x[0]) % sizeof(floating) != 0:
        raise ValueError("core: x is not aligned to its dtype; copy it (np.require(x, "
                         "requirements='A'))")
    with nogil:
        if floating is double:
            ok = cyn_all_finite_f64(&x[0], x.shape[0]) if x.shape[0] > 0 else 1
        else:
            ok = cyn_all_finite_f32(&x[0], x.shape[0]) if x.shape[0] > 0 else 1
    return bool(ok)

# ---------------------------------------------------------------------------
# Activations and their derivatives (from the activation's output).
# Constants are typed so that float32 arithmetic stays float32.
# ---------------------------------------------------------------------------

cdef void activate_rest(int code, double param, floating *z, isz n, isz m,
                        bint portable) noexcept nogil:
    """Finish the activation of z (n x m) in place, after the affine map has
    applied its first step: for sigmoid z holds -(x.W + b), for relu and leaky
    ReLU the activation itself (see cyn_affine in csrc/cyn_kernels.h)."""
    cdef isz i, j, cnt = n * m
    cdef floating one = 1, zero = 0, alpha, mx, s, v
    cdef floating *row
    if code == ACT_SIGMOID:
        # 1 / (1 + exp(-z)), the negation done
        sigmoid_neg(z, cnt, portable)
    elif code == ACT_TANH:
        vtanh(z, cnt, portable)
    elif code == ACT_SOFTMAX:
        # exp(z - rowmax) / rowsum, the row sum taken left to right from +0.0
        for i in range(n):
            row = z + i * m
            mx = row[0]
            for j in range(1, m):
                v = row[j]
                if v > mx or v != v:
                    if mx == mx:
                        mx = v
            for j in range(m):
                row[j] = row[j] - mx
        vexp(z, cnt, portable)
        for i in range(n):
            row = z + i * m
            s = zero
            for j in range(m):
                s = s + row[j]
            for j in range(m):
                row[j] = row[j] / s
    elif code == ACT_SOFTPLUS or code == ACT_SILU:
        from_input_forward(code, z, cnt, portable)
    # ACT_RELU, ACT_LEAKY_RELU: done by the affine map; ACT_IDENTITY: nothing to do


cdef enum:
    CHUNK = 256         # values per call into NumPy's loops for the stack scratch below


cdef inline bint from_input(int code) noexcept nogil:
    """Whether the activation's derivative is written through its input z."""
    return code == ACT_SOFTPLUS or code == ACT_SILU


cdef void from_input_forward(int code, floating *z, isz cnt, bint portable) noexcept nogil:
    """softplus: max(z, 0) + log1p(exp(-|z|)); silu: z / (1 + exp(-z)); in place."""
    cdef floating t[CHUNK]
    cdef floating one = 1, zero = 0, v
    cdef isz s, i, c
    s = 0
    while s < cnt:
        c = cnt - s if cnt - s < CHUNK else CHUNK
        if code == ACT_SOFTPLUS:
            for i in range(c):
                t[i] = -fabsx(z[s + i])
            vexp(t, c, portable)
            vlog1p(t, c, portable)
            for i in range(c):
                v = z[s + i]
                z[s + i] = (zero if v <= zero else v) + t[i]
        else:
            for i in range(c):
                t[i] = -z[s + i]
            vexp(t, c, portable)
            for i in range(c):
                z[s + i] = z[s + i] / (one + t[i])
        s += c


cdef void from_input_derivative_mul(int code, const floating *z, floating *g,
                                    isz cnt, bint portable) noexcept nogil:
    """g = g * f'(z): softplus' = sigmoid(z), silu' = s * (1 + z * (1 - s))."""
    cdef floating t[CHUNK]
    cdef floating one = 1, sg
    cdef isz s, i, c
    s = 0
    while s < cnt:
        c = cnt - s if cnt - s < CHUNK else CHUNK
        for i in range(c):
            t[i] = -z[s + i]
        vexp(t, c, portable)
        for i in range(c):
            sg = one / (one + t[i])
            if code == ACT_SILU:
                sg = sg * (one + z[s + i] * (one - sg))
            g[s + i] = g[s + i] * sg
        s += c


cdef void derivative_mul(int code, double param, const floating *a, floating *g,
                         isz n, isz m, bint portable, int n_threads) noexcept nogil:
    """g = g * f'(a) in place: dL/dA becomes dL/dZ. a is the activation output
    (the layer's input z for the from_input activations)."""
    cdef isz i, j, cnt = n * m
    cdef floating zero = 0, dot
    if from_input(code):
        from_input_derivative_mul(code, a, g, cnt, portable)
        return
    if code == ACT_SIGMOID or code == ACT_TANH or code == ACT_RELU or code == ACT_LEAKY_RELU:
        ew_dmul(code, <floating>param, a, g, cnt, n_threads)
    elif code == ACT_SOFTMAX:
        # Jacobian-vector product: a * (g - sum_k g_k a_k), per row
        for i in range(n):
            dot = zero
            for j in range(m):
                dot = dot + g[i * m + j] * a[i * m + j]
            for j in range(m):
                g[i * m + j] = a[i * m + j] * (g[i * m + j] - dot)
    # ACT_IDENTITY: the derivative is 1 and g * 1 == g

# ---------------------------------------------------------------------------
# Losses. Each returns the batch loss and writes the output layer's error:
# dL/da for mse/sse (the activation's derivative is applied afterwards), or
# dL/dz directly for the pairs sigmoid + BCE and softmax + CCE.
# w (per-sample weights) may be NULL; a weight of 1 gives the unweighted bits.
# tmp holds 2 * n * m scratch values for the logarithms.
# ---------------------------------------------------------------------------

cdef inline floating clip_prob(floating a, floating eps, floating ome) noexcept nogil:
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


cdef inline bint elementwise_derivative(int act) noexcept nogil:
    return (act == ACT_SIGMOID or act == ACT_TANH or act == ACT_RELU
            or act == ACT_LEAKY_RELU)


cdef inline floating act_deriv(int act, floating a, floating alpha) noexcept nogil:
    """f'(z) from a = f(z), the factor cyn_ew_dmul multiplies by (CYN_ACT_DERIV)."""
    if floating is double:
        return cyn_act_deriv_f64(act, a, alpha)
    else:
        return cyn_act_deriv_f32(act, a, alpha)


cdef floating output_error(const Net *net, int loss, const floating *a,
                           const floating *a_deriv, const floating *y,
                           const floating *w, floating *g, floating *tmp,
                           isz n, floating denom, floating inv) noexcept nogil:
    """The batch loss; g receives dL/dz of the output layer. For mse/sse and an
    elementwise activation the derivative is applied in the loss's own loop
    (one pass, nothing reloaded; the same multiplications in the same order).
    denom is the loss's divisor (see batch_denominator), inv 1/denom when that
    is exact, else 0."""
    cdef int act = net.acts[net.n_layers - 1]
    cdef double param = net.act_params[net.n_layers - 1]
    cdef isz m = net.out_width
    cdef floating value
    if loss == LOSS_BCE or loss == LOSS_CCE:
        return loss_and_grad(loss, -1, 0, a, y, w, g, tmp, n, m, denom, inv, net.portable)
    if elementwise_derivative(act):
        return loss_and_grad(loss, act, <floating>param, a, y, w, g, tmp, n, m, denom, inv,
                             net.portable)
    value = loss_and_grad(loss, -1, 0, a, y, w, g, tmp, n, m, denom, inv, net.portable)
    derivative_mul(act, param, a_deriv, g, n, m, net.portable,
                   net.n_threads)   # a_deriv: a, or z (from_input)
    return value


cdef inline floating batch_denominator(const Net *net, const floating *w, isz n,
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
                            floating *tmp, isz n, isz m, floating denom,
                            floating inv, bint portable) noexcept nogil:
    # dact >= 0 (mse/sse only): also multiply g by that activation's derivative
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
                s = s + t
        return half * s
    elif code == LOSS_BCE:
        for q in range(cnt):
            p = clip_prob(a[q], eps, ome)
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
                s = s + t
        return s / denom
    else:  # LOSS_CCE
        for q in range(cnt):
            tmp[q] = clip_prob(a[q], eps, ome)
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
            s = s + t
        return s / denom

# ---------------------------------------------------------------------------
# Ctrl-C. The training loops run without the GIL, so Python's signal handlers
# (KeyboardInterrupt's among them) cannot run until they return. A Watch
# counts the work done in rough units (one multiply-add of a product, one
# parameter of an update, WATCH_BATCH per batch for the fixed costs) and,
# every WATCH_PERIOD units, takes the GIL for PyErr_CheckSignals. If a
# handler raised, the loops only note it (`stop`) and unwind at once, before
# the next update; CoreNet re-raises it once the GIL is back (the pattern of
# scikit-learn's _sgd_fast), and Network puts the weights back. The checks
# sit between kernel calls, never inside one, so the worker pool is idle
# whenever a loop unwinds.
# ---------------------------------------------------------------------------

cdef extern from "Python.h":
    # declared without an exception clause: the nogil loops only look at the
    # result, and the raised exception is fetched and re-raised by hand
    int PyErr_CheckSignals()
    void PyErr_Fetch(PyObject **ptype, PyObject **pvalue, PyObject **ptb)
    void PyErr_Restore(PyObject *ptype, PyObject *pvalue, PyObject *ptb)


# Units between two looks at the signals. The slowest work per unit is the
# tiny nets' (W1, W2: about 2 units per ns, so a look every ~15 ms); large
# products do 10-60 units per ns (a look every 0.5-3 ms, a GIL round trip of
# well under a microsecond each).
cdef isz WATCH_PERIOD = 1 << 25
# a batch's fixed cost (calls, loss, bookkeeping) in units: a tiny net's
# step of ~100-250 ns is mostly that
cdef isz WATCH_BATCH = 256


cdef struct Watch:
    isz left               # units before the next look
    bint stop              # a signal handler raised: unwind, CoreNet re-raises
    PyObject *etype        # what it raised (owned references until watch_raise)
    PyObject *evalue
    PyObject *etb


cdef inline void watch_init(Watch *w) noexcept nogil:
    w.left = WATCH_PERIOD
    w.stop = False
    w.etype = NULL
    w.evalue = NULL
    w.etb = NULL


cdef bint watch_look(Watch *w) noexcept nogil:
    """Run Python's pending signal handlers; True if one raised (noted in w)."""
    if w.stop:
        return True             # keep the first exception; the loops are unwinding
    w.left = WATCH_PERIOD
    with gil:
        if PyErr_CheckSignals() < 0:
            PyErr_Fetch(&w.etype, &w.evalue, &w.etb)
            w.stop = True
    return w.stop


cdef inline bint watch_tick(Watch *w, isz units) noexcept nogil:
    """Count `units` of work done; True when the loops must stop. A NULL
    watch (inference, test hooks) never stops."""
    if w == NULL:
        return False
    w.left -= units
    if w.left >= 0:
        return False
    return watch_look(w)


cdef int watch_raise(Watch *w) except -1:
    """With the GIL, after the nogil block: raise what a signal handler raised."""
    if not w.stop:
        return 0
    w.stop = False
    PyErr_Restore(w.etype, w.evalue, w.etb)
    w.etype = w.evalue = w.etb = NULL
    return -1


# A product of more than WATCH_SPLIT multiply-adds (about 35 ms in float64 on
# one core; W4's largest is a tenth of that, a 60000 x 784 full batch's first
# layer 12 G) runs in pieces of about WATCH_PIECE, with a look at the signals
# after each: the affine map and the error sent back by rows (every output row
# has its own sums), the weight gradient by samples (wgrad_more continues each
# sum in sample order). The bits are those of one call; the cost is one more
# packing of the right operand per piece, under 1% of the piece.
cdef isz WATCH_SPLIT = 1 << 29
cdef isz WATCH_PIECE = 1 << 27


cdef inline isz piece_rows(isz k, isz m) noexcept nogil:
    """Rows per piece of a product with k * m multiply-adds per row: a whole
    number of the tallest register tile (8 rows), at least one tile."""
    cdef isz rows = WATCH_PIECE // (k * m)
    return (rows + 7) // 8 * 8 if rows > 0 else 8


cdef bint affine_watched(const floating *X, const floating *W, const floating *b,
                         floating *Z, isz n, isz k, isz m, int nt, int act, double alpha,
                         Watch *watch) noexcept nogil:
    """affine, then watch_tick; in pieces of rows when large and watched.
    True when Ctrl-C was noted (Z is then partly computed)."""
    cdef isz i0 = 0, r, rows
    if watch == NULL or n * k * m <= WATCH_SPLIT:
        affine(X, W, b, Z, n, k, m, nt, act, alpha)
        return watch_tick(watch, n * k * m)
    rows = piece_rows(k, m)
    while i0 < n:
        r = rows if i0 + rows <= n else n - i0
        affine(X + i0 * k, W, b, Z + i0 * m, r, k, m, nt, act, alpha)
        i0 += r
        if watch_tick(watch, r * k * m):
            return True
    return False


cdef bint backprop_watched(const floating *D, const floating *W, floating *G, isz n, isz k,
                           isz m, int nt, Watch *watch) noexcept nogil:
    """backprop, then watch_tick; in pieces of rows when large and watched."""
    cdef isz i0 = 0, r, rows
    if watch == NULL or n * k * m <= WATCH_SPLIT:
        backprop(D, W, G, n, k, m, nt)
        return watch_tick(watch, n * k * m)
    rows = piece_rows(k, m)
    while i0 < n:
        r = rows if i0 + rows <= n else n - i0
        backprop(D + i0 * m, W, G + i0 * k, r, k, m, nt)
        i0 += r
        if watch_tick(watch, r * k * m):
            return True
    return False


cdef bint wgrad_watched(const floating *A, const floating *D, floating *dW, floating *db,
                        isz n, isz k, isz m, int nt, Watch *watch) noexcept nogil:
    """wgrad, then watch_tick; in pieces of samples when large and watched,
    each piece continuing the sums of the ones before it."""
    cdef isz i0, r, rows
    if watch == NULL or n * k * m <= WATCH_SPLIT:
        wgrad(A, D, dW, db, n, k, m, nt)
        return watch_tick(watch, n * k * m)
    rows = piece_rows(k, m)
    r = rows if rows <= n else n
    wgrad(A, D, dW, db, r, k, m, nt)
    i0 = r
    if watch_tick(watch, r * k * m):
        return True
    while i0 < n:
        r = rows if i0 + rows <= n else n - i0
        wgrad_more(A + i0 * k, D + i0 * m, dW, db, r, k, m, nt)
        i0 += r
        if watch_tick(watch, r * k * m):
            return True
    return False


# ---------------------------------------------------------------------------
# A network seen from C: sizes, codes and parameter offsets.
# ---------------------------------------------------------------------------

cdef struct Net:
    isz n_layers
    const isz *sizes       # n_layers + 1 widths
    const int *acts        # n_layers activation codes
    const double *act_params
    const isz *offsets     # 2 * n_layers: offset of W_l, then of b_l, in params
    isz max_width          # widest layer (input excluded)
    isz sum_width          # sum of the layer widths (input excluded)
    isz max_macs           # largest k * m over the layers
    isz macs               # sum of k * m over the layers: one row's forward pass
    isz out_width
    isz n_params
    int n_threads          # threads for the large products and updates (1: none)
    isz norm               # the loss's divisor per row (its output width, or 1)
    bint weighted_mean     # divide by the batch's weight sum, penalties too
    bint any_from_input    # some layer's derivative is written through its input z
    bint portable          # numerics="portable": cyneuron's own exp/tanh/log/log1p


cdef struct Batch:
    # scratch for one batch of up to `cap` rows, laid out by _layout
    void *acts             # outputs of every layer (after dropout)
    void *raw              # outputs before dropout (layers with dropout only)
    void *dbuf             # 2 * cap * max_width: current and previous delta
    void *tmp              # 2 * cap * out_width: logarithms of the loss
    void *gx               # training only: the gathered batch's inputs,
    void *gy               # targets
    void *gw               # and sample weights
    void *grads            # and the gradient (n_params)


cdef struct Hyper:
    # an optimizer's hyperparameters by name; the ones it does not take stay 0
    double momentum
    bint nesterov
    double rho
    double beta_1
    double beta_2
    double epsilon


cdef struct Plan:
    # what train_loop runs, apart from the dtype's buffers: CoreNet.train_epochs
    # fills it after its checks
    isz n                  # rows of X, Y (and of w when given)
    const isz *orders      # epochs x n sample order, or NULL for 0..n-1
    const double *lrs      # the learning rate per epoch (lr_step 1) or of all (0)
    isz lr_step
    isz epochs
    isz batch_size
    int opt                # optimizer code, its hyperparameters
    Hyper hyper
    double *scalars        # step count, beta_1**t, beta_2**t
    double l1              # penalties added to each batch's loss (biases excluded)
    double l2
    double clipnorm        # > 0: clip the gradient's norm
    const double *drop     # dropout rate of every layer's output
    bint count             # count correct argmax predictions per epoch
    double *losses         # out: the loss of every epoch
    cnp.int64_t *correct   # out: the correct predictions of every epoch


cdef inline isz act_offset(const Net *net, isz layer, isz n) noexcept nogil:
    """Offset of layer `layer`'s activations (n x sizes[layer+1]) in the workspace."""
    cdef isz q, off = 0
    for q in range(layer):
        off += n * net.sizes[q + 1]
    return off


cdef void forward_pass(const Net *net, const floating *params, const floating *X,
                       isz n, floating *acts_buf, floating *raw_buf,
                       const floating *masks, const double *dropout,
                       Watch *watch) noexcept nogil:
    """Activations of every layer for X (n rows), stored one after another.

    raw_buf (training only, else NULL) receives what each layer's derivative
    is computed from where that is not the stored output: the input z of a
    from_input activation, and the activation before dropout of a layer
    with masks (inverted-dropout multipliers, consecutive per dropout layer).
    With a watch (training), Ctrl-C is looked for after every product, and
    inside a huge one (see WATCH_SPLIT); once it is noted, the rest of the
    pass is skipped: the caller unwinds.
    """
    cdef isz l, k, m, i, off
    cdef const floating *inp = X
    cdef floating *out = acts_buf
    for l in range(net.n_layers):
        k = net.sizes[l]
        m = net.sizes[l + 1]
        if affine_watched(inp, params + net.offsets[2 * l], params + net.offsets[2 * l + 1],
                          out, n, k, m, net.n_threads, net.acts[l], net.act_params[l], watch):
            return
        off = out - acts_buf
        if raw_buf != NULL and from_input(net.acts[l]):
            memcpy(raw_buf + off, out, n * m * sizeof(floating))
        activate_rest(net.acts[l], net.act_params[l], out, n, m, net.portable)
        if masks != NULL and dropout[l] > 0:
            if not from_input(net.acts[l]):
                memcpy(raw_buf + off, out, n * m * sizeof(floating))
            ew_mul(out, masks, n * m)
            masks = masks + n * m
        inp = out
        out = out + n * m


cdef floating batch_gradients(const Net *net, int loss, const floating *params,
                              const floating *X, const floating *Y, const floating *w,
                              isz n, floating denom, floating inv, Batch *ws,
                              const floating *masks, const double *dropout,
                              floating *grads, Watch *watch) noexcept nogil:
    """Forward, loss and backpropagation for one batch of n rows; returns the loss
    (without penalties). grads receives dLoss/dparams in the flat layout.

    With a watch, Ctrl-C is looked for between the products; once it is noted
    (watch.stop) the batch is abandoned: loss and grads are then meaningless.
    """
    cdef isz L = net.n_layers, l, k, m, i, off
    cdef floating *acts_buf = <floating *>ws.acts
    cdef floating *raw_buf = <floating *>ws.raw
    cdef floating *d = <floating *>ws.dbuf
    cdef floating *dprev = d + n * net.max_width
    cdef floating *tmp
    cdef const floating *mask_l
    cdef const floating *a_prev
    cdef const floating *a_deriv
    cdef const floating *a_out
    cdef floating lossval
    cdef isz mask_total = 0
    if use_tiny_training(net, n, masks):
        lossval = tiny_gradients(net, loss, params, X, Y, w, n, denom, inv, ws, grads, NULL, 0)
        watch_tick(watch, 3 * n * net.macs)
        return lossval
    forward_pass(net, params, X, n, acts_buf, raw_buf, masks, dropout, watch)
    if watch != NULL and watch.stop:
        return 0
    if masks != NULL:
        for l in range(L):
            if dropout[l] > 0:
                mask_total += n * net.sizes[l + 1]
    m = net.sizes[L]
    a_out = acts_buf + act_offset(net, L - 1, n)
    a_deriv = raw_buf + act_offset(net, L - 1, n) if from_input(net.acts[L - 1]) else a_out
    lossval = output_error(net, loss, a_out, a_deriv, Y, w, d, <floating *>ws.tmp, n, denom,
                           inv)
    for l in range(L - 1, -1, -1):
        k = net.sizes[l]
        m = net.sizes[l + 1]
        if l == 0:
            a_prev = X
        else:
            a_prev = acts_buf + act_offset(net, l - 1, n)
        if wgrad_watched(a_prev, d, grads + net.offsets[2 * l], grads + net.offsets[2 * l + 1],
                         n, k, m, net.n_threads, watch):
            return 0
        if l > 0:
            if backprop_watched(d, params + net.offsets[2 * l], dprev, n, k, m, net.n_threads,
                                watch):
                return 0
            a_deriv = a_prev
            if masks != NULL and dropout[l - 1] > 0:
                # masks of layers l-1 .. L-1 sit at the end of this batch's block
                mask_total -= n * k
                mask_l = masks + mask_total
                ew_mul(dprev, mask_l, n * k)
                a_deriv = raw_buf + (a_prev - acts_buf)
            elif from_input(net.acts[l - 1]):
                a_deriv = raw_buf + (a_prev - acts_buf)
            derivative_mul(net.acts[l - 1], net.act_params[l - 1], a_deriv, dprev, n, k,
                           net.portable, net.n_threads)
            tmp = d
            d = dprev
            dprev = tmp
    return lossval


# ---------------------------------------------------------------------------
# Tiny networks (every product below CYN_SMALL_PRODUCT multiply-adds: the
# tutorials' 2-2-1 and 3-4-1 nets). The same operations in the same order as
# forward_pass / batch_gradients, but each layer in one loop nest: the affine
# map and the activation's first step share a loop, the error sent back and
# the activation's derivative share one, and plain SGD updates each weight
# as soon as its gradient is known (a layer's weights are not read again
# after its error has been sent back). At these sizes a pass costs a few ns,
# so a call, a store that the next pass reloads, or a division on the chain
# from one update to the next is what the time is made of.
# ---------------------------------------------------------------------------

cdef inline bint use_tiny(const Net *net, isz n, const void *masks) noexcept nogil:
    """Whether a batch of n rows takes the tiny-net path (inference: any
    activation; training: tiny_gradients' fused loops know only the
    activations whose derivative comes from their output)."""
    # every product of the batch is small: the widest layer's is (one size
    # test, _kernels.small_product, for the per-product and per-net choices)
    return masks == NULL and small_product(n, 1, net.max_macs)


cdef inline bint use_tiny_training(const Net *net, isz n, const void *masks) noexcept nogil:
    return use_tiny(net, n, masks) and not net.any_from_input


cdef inline void tiny_backprop(int code, floating alpha, const floating *D, const floating *W,
                               const floating *A, floating *G, isz n, isz k,
                               isz m) noexcept nogil:
    if floating is double:
        cyn_tiny_backprop_f64(code, alpha, D, W, A, G, n, k, m)
    else:
        cyn_tiny_backprop_f32(code, alpha, D, W, A, G, n, k, m)


cdef inline void tiny_wgrad(const floating *A, const floating *D, floating *dW, floating *db,
                            floating *Wu, floating *bu, floating lr, isz n, isz k,
                            isz m) noexcept nogil:
    if floating is double:
        cyn_tiny_wgrad_f64(A, D, dW, db, Wu, bu, lr, n, k, m)
    else:
        cyn_tiny_wgrad_f32(A, D, dW, db, Wu, bu, lr, n, k, m)


cdef inline void tiny_forward(const Net *net, const floating *params, const floating *X, isz n,
                              floating *acts_buf) noexcept nogil:
    cdef isz l, i, k, m
    cdef int code
    cdef floating one = 1
    cdef const floating *inp = X
    cdef floating *out = acts_buf
    for l in range(net.n_layers):
        k = net.sizes[l]
        m = net.sizes[l + 1]
        code = net.acts[l]
        affine(inp, params + net.offsets[2 * l], params + net.offsets[2 * l + 1], out,
               n, k, m, 1, code, net.act_params[l])
        if code == ACT_SIGMOID and net.portable:
            sigmoid_neg(out, n * m, True)
        elif code == ACT_SIGMOID:
            vexp(out, n * m, False)
            for i in range(n * m):
                out[i] = one / (one + out[i])
        else:
            activate_rest(code, net.act_params[l], out, n, m, net.portable)
        inp = out
        out = out + n * m


cdef floating tiny_gradients(const Net *net, int loss, const floating *params,
                             const floating *X, const floating *Y, const floating *w,
                             isz n, floating denom, floating inv, Batch *ws, floating *grads,
                             floating *sgd_params, floating lr) noexcept nogil:
    """batch_gradients for tiny nets without dropout. With sgd_params (the same
    array as params), also applies plain SGD with step lr, weight by weight."""
    cdef isz L = net.n_layers, l, k, m
    cdef int code
    cdef floating *acts_buf = <floating *>ws.acts
    cdef floating *d = <floating *>ws.dbuf
    cdef floating *dprev = d + n * net.max_width
    cdef floating *tmp
    cdef const floating *A
    cdef const floating *a_out
    cdef floating lossval
    tiny_forward(net, params, X, n, acts_buf)
    m = net.sizes[L]
    a_out = acts_buf + act_offset(net, L - 1, n)
    lossval = output_error(net, loss, a_out, a_out, Y, w, d, <floating *>ws.tmp, n, denom, inv)
    A = a_out
    for l in range(L - 1, -1, -1):
        k = net.sizes[l]
        m = net.sizes[l + 1]
        A = X if l == 0 else A - n * k           # activations of layer l-1
        if l > 0:
            # error for layer l-1 (needs this layer's weights before their update)
            code = net.acts[l - 1]
            # (a hidden layer is never softmax: Network allows it only as the output)
            tiny_backprop(code, <floating>net.act_params[l - 1], d,
                          params + net.offsets[2 * l], A, dprev, n, k, m)
        tiny_wgrad(A, d, grads + net.offsets[2 * l], grads + net.offsets[2 * l + 1],
                   sgd_params + net.offsets[2 * l] if sgd_params != NULL else NULL,
                   sgd_params + net.offsets[2 * l + 1] if sgd_params != NULL else NULL,
                   lr, n, k, m)
        tmp = d
        d = dprev
        dprev = tmp
    return lossval


cdef inline floating fabsx(floating x) noexcept nogil:
    if floating is double:
        return fabs(x)
    else:
        return fabsf(x)


cdef inline floating fsqrt(floating x) noexcept nogil:
    if floating is double:
        return sqrt(x)
    else:
        return sqrtf(x)


cdef floating add_penalties(const Net *net, const floating *params, floating *grads,
                            double l1, double l2) noexcept nogil:
    """Add the L1/L2 penalty to the weight gradients; return its value."""
    cdef isz l, i, cnt
    cdef const floating *W
    cdef floating *dW
    cdef floating zero = 0, one = 1, two = 2, s, pen = 0, v
    cdef floating l1t = <floating>l1, l2t = <floating>l2
    cdef floating c2 = two * l2t
    for l in range(net.n_layers):
        W = params + net.offsets[2 * l]
        dW = grads + net.offsets[2 * l]
        cnt = net.sizes[l] * net.sizes[l + 1]
        if l1 != 0:
            s = zero
            for i in range(cnt):
                s = s + fabsx(W[i])
            pen = pen + l1t * s
        if l2 != 0:
            s = zero
            for i in range(cnt):
                s = s + W[i] * W[i]
            pen = pen + l2t * s
        if l2 != 0:
            for i in range(cnt):
                dW[i] = dW[i] + c2 * W[i]
        if l1 != 0:
            for i in range(cnt):
                v = W[i]
                if v > zero:
                    v = one
                elif v < zero:
                    v = -one
                elif v == zero:
                    v = zero
                dW[i] = dW[i] + l1t * v
    return pen


cdef inline floating penalties(const Net *net, const floating *params, floating *grads,
                               double l1, double l2, floating wsum) noexcept nogil:
    """add_penalties, per unit of weight under weighted_mean (the coefficients
    divided by the batch's weight sum, in double, as the reference does)."""
    if net.weighted_mean:
        l1 = l1 / <double>wsum
        l2 = l2 / <double>wsum
    return add_penalties(net, params, grads, l1, l2)


cdef void clip_gradient(floating *g, isz cnt, double clipnorm) noexcept nogil:
    cdef isz i
    cdef floating s = 0, norm, c = <floating>clipnorm, scale
    for i in range(cnt):
        s = s + g[i] * g[i]
    norm = fsqrt(s)
    if norm > c:
        scale = c / norm
        for i in range(cnt):
            g[i] = g[i] * scale


cdef void optimizer_step(int opt, const Hyper *hp, double *scalars, floating *p,
                         const floating *g, floating *state, isz cnt,
                         double lr, int n_threads) noexcept nogil:
    """One update of the flat parameters p; state holds m then v (cnt each).

    The step's constants are rounded to the parameters' dtype here, once, as
    the reference does; the vectorised loop lives in csrc/cyn_elementwise_impl.h.
    """
    cdef floating one = 1
    cdef floating c[6]
    cdef floating *m = state
    cdef floating *v = state + cnt if state != NULL else NULL
    c[0] = <floating>lr
    if opt == OPT_MOMENTUM:
        c[1] = <floating>hp.momentum
        if hp.nesterov:
            opt = OPT_NESTEROV
    elif opt == OPT_RMSPROP:
        c[1] = <floating>hp.rho
        c[2] = one - c[1]
        c[3] = <floating>hp.epsilon
    elif opt == OPT_ADAM:
        # bias correction folded into the step size, in double
        scalars[0] += 1
        scalars[1] = scalars[1] * hp.beta_1
        scalars[2] = scalars[2] * hp.beta_2
        c[0] = <floating>(lr * sqrt(1.0 - scalars[2]) / (1.0 - scalars[1]))
        c[1] = <floating>hp.beta_1
        c[2] = one - c[1]
        c[3] = <floating>hp.beta_2
        c[4] = one - c[3]
        c[5] = <floating>hp.epsilon
    ew_step(opt, c, p, g, m, v, cnt, n_threads)


cdef isz count_correct(const floating *a, const floating *y, isz n, isz m) noexcept nogil:
    """Rows classified right: threshold 0.5 for one output, first argmax otherwise."""
    cdef isz i, j, ba, by, c = 0
    cdef floating half = 0.5
    if m == 1:
        for i in range(n):
            if (a[i] > half) == (y[i] > half):
                c += 1
        return c
    for i in range(n):
        ba = argmax_row(a + i * m, m)
        by = argmax_row(y + i * m, m)
        if ba == by:
            c += 1
    return c


cdef inline isz argmax_row(const floating *r, isz m) noexcept nogil:
    # np.argmax: the first maximum, or the first NaN
    cdef isz j, best = 0
    cdef floating mx = r[0]
    if mx != mx:
        return 0
    for j in range(1, m):
        if r[j] != r[j]:
            return j
        if r[j] > mx:
            mx = r[j]
            best = j
    return best

cdef isz tiny_sgd_epochs(const Net *net, int loss, const Plan *plan, floating *params,
                         const floating *X, const floating *Y, const floating *w, Batch *ws,
                         floating *grads, Watch *watch) noexcept nogil:
    """train_loop for tiny nets, plain SGD, batches in order, no dropout and
    no accuracy count: the same steps and epoch losses, less bookkeeping.
    Returns the epochs run (fewer than asked if a loss was not finite, or
    when Ctrl-C was noted in watch, which must not be NULL)."""
    cdef isz e, start, nb, n_in = net.sizes[0], n_out = net.out_width
    cdef isz n = plan.n, bs = plan.batch_size, epochs = plan.epochs, lr_step = plan.lr_step
    cdef const double *lrs = plan.lrs
    cdef double *losses = plan.losses
    cdef floating value, lr, denom, inv, wsum
    cdef const floating *wb
    cdef double total
    # An epoch of more than per_look steps (tiny_steps_per_look) runs in
    # chunks of per_look batches with a look at the signals after each;
    # shorter epochs never look here: train_loop hands them over in slices
    # of epochs and looks in between. Nothing is counted per step (a
    # countdown in the batch loop cost 1% of W2's 100 ns step).
    cdef isz per_look = tiny_steps_per_look(net, n, bs)
    cdef isz n_batches = (n + bs - 1) // bs
    cdef isz chunk = per_look * bs if per_look < n_batches else n     # rows
    cdef isz stop
    if bs >= n:
        # one batch, the same every epoch: its divisor too
        denom = batch_denominator(net, w, n, &wsum, &inv)
        for e in range(epochs):
            if wsum == 0:
                losses[e] = 0.0
                continue
            value = tiny_gradients(net, loss, params, X, Y, w, n, denom, inv, ws, grads,
                                   params, <floating>lrs[e * lr_step])
            losses[e] = <double>value
            if not_finite(losses[e]):
                return e + 1
        return epochs
    for e in range(epochs):
        lr = <floating>lrs[e * lr_step]
        total = 0.0
        start = 0
        while True:
            stop = start + chunk if chunk < n - start else n
            while start < stop:
                nb = bs if start + bs <= n else n - start
                wb = w + start if w != NULL else NULL
                denom = batch_denominator(net, wb, nb, &wsum, &inv)
                if wsum != 0:       # a batch without weight has no data: no step
                    value = tiny_gradients(net, loss, params, X + start * n_in,
                                           Y + start * n_out, wb, nb, denom, inv, ws, grads,
                                           params, lr)
                    total += <double>value * <double>nb
                start += nb
            if start >= n:
                break
            if watch_look(watch):       # a whole chunk of per_look steps
                return e + 1
        losses[e] = total / <double>n
        if not_finite(losses[e]):
            return e + 1
    return epochs


cdef inline isz tiny_steps_per_look(const Net *net, isz n, isz bs) noexcept nogil:
    """tiny_sgd_epochs' steps between two looks at the signals: a step's work
    is its forward, backward and update (the last batch may be smaller;
    counting it as full only looks a little sooner)."""
    cdef isz units = 3 * (bs if bs < n else n) * net.macs + net.n_params + WATCH_BATCH
    return WATCH_PERIOD // units + 1


cdef isz tiny_sgd_slices(const Net *net, int loss, const Plan *plan, floating *params,
                         const floating *X, const floating *Y, const floating *w, Batch *ws,
                         floating *grads, Watch *watch) noexcept nogil:
    """tiny_sgd_epochs in slices of about a watch period's epochs, with a look
    at the signals between them (the loops stay as they were: W1's and W2's
    steps are 100-250 ns). Returns the epochs run."""
    cdef Plan part = plan[0]
    cdef isz n_batches = (plan.n + plan.batch_size - 1) // plan.batch_size
    cdef isz per_slice = tiny_steps_per_look(net, plan.n, plan.batch_size) // n_batches
    cdef isz e0 = 0, run
    if per_slice < 1:
        per_slice = 1                   # long epochs: tiny_sgd_epochs looks inside them
    while e0 < plan.epochs:
        part.epochs = per_slice if e0 + per_slice <= plan.epochs else plan.epochs - e0
        part.lrs = plan.lrs + e0 * plan.lr_step
        part.losses = plan.losses + e0
        run = tiny_sgd_epochs(net, loss, &part, params, X, Y, w, ws, grads, watch)
        e0 += run
        if watch.stop or run < part.epochs or e0 == plan.epochs:
            return e0                   # Ctrl-C, a loss not finite, or done
        if watch_look(watch):
            return e0
    return e0


cdef inline bint not_finite(double x) noexcept nogil:
    # inf - inf and NaN - NaN are NaN, and NaN != 0; x - x is +0 for finite x
    return x - x != 0


cdef isz train_loop(const Net *net, int loss, const Plan *plan, floating *params,
                    const floating *X, const floating *Y, const floating *wp,
                    floating *state, const floating *masks, Batch *ws,
                    Watch *watch) noexcept nogil:
    """CoreNet.train_epochs after its checks: the epochs, batches and steps.

    X, Y (and wp, the sample weights, or NULL) hold plan.n rows; state is the
    optimizer's m then v (n_params each); masks the dropout multipliers of one
    epoch (see CoreNet.train_epochs), or NULL. When Ctrl-C is noted in watch
    (between batches, or between a large batch's products), it returns at
    once, before that batch's update: the caller raises, and the return
    value means nothing.
    """
    cdef isz n_in = net.sizes[0], n_out = net.out_width, P = net.n_params
    cdef isz n = plan.n, epochs = plan.epochs, batch_size = plan.batch_size
    cdef isz lr_step = plan.lr_step
    cdef const isz *orders = plan.orders
    cdef const double *lrs = plan.lrs
    cdef const double *drop = plan.drop
    cdef double l1 = plan.l1, l2 = plan.l2, clipnorm = plan.clipnorm
    cdef int opt = plan.opt
    cdef bint count = plan.count
    cdef double *losses = plan.losses
    cdef cnp.int64_t *correct = plan.correct
    cdef isz e, start, nb, i, n_batches, hits, run = epochs
    cdef const isz *order
    cdef const floating *mp
    cdef const floating *xb
    cdef const floating *yb
    cdef const floating *wb
    cdef floating *gx = <floating *>ws.gx
    cdef floating *gy = <floating *>ws.gy
    cdef floating *gw = <floating *>ws.gw
    cdef floating *grads = <floating *>ws.grads
    cdef floating value, denom, inv, wsum
    cdef double total
    cdef bint penal = l1 != 0 or l2 != 0
    # plain SGD needs no gradient of the whole net before it updates a weight
    cdef bint fuse_sgd = opt == OPT_SGD and not penal and not clipnorm > 0
    cdef bint fused
    if (fuse_sgd and orders == NULL and masks == NULL and not count
            and use_tiny_training(net, batch_size, NULL)):
        # The tutorials' case (tiny net, plain SGD, batches in order): nothing
        # but the fused step per batch; a few ns of bookkeeping per epoch
        # would be a tenth of a 3-4-1 net's step.
        run = tiny_sgd_slices(net, loss, plan, params, X, Y, wp, ws, grads, watch)
        return run if finite_params(params, P) else -run
    for e in range(epochs):
        order = orders + e * n if orders != NULL else NULL
        mp = masks
        total = 0.0
        n_batches = 0
        hits = 0
        start = 0
        while start < n:
            nb = batch_size if start + batch_size <= n else n - start
            if order != NULL:
                gather_rows(X, n_in, order + start, nb, gx, net.n_threads)
                gather_rows(Y, n_out, order + start, nb, gy, net.n_threads)
                if wp != NULL:
                    for i in range(nb):
                        gw[i] = wp[order[start + i]]
                xb = gx
                yb = gy
                wb = gw if wp != NULL else NULL
            else:
                xb = X + start * n_in
                yb = Y + start * n_out
                wb = wp + start if wp != NULL else NULL
            denom = batch_denominator(net, wb, nb, &wsum, &inv)
            if wsum == 0:
                # weighted_mean: a batch without weight has no data, so no
                # step (its dropout masks are still consumed, in order)
                if mp != NULL:
                    for i in range(net.n_layers):
                        if drop[i] > 0:
                            mp = mp + nb * net.sizes[i + 1]
                value = 0
                n_batches += 1
                start += nb
                continue
            fused = fuse_sgd and use_tiny_training(net, nb, mp)
            if fused:
                value = tiny_gradients(net, loss, params, xb, yb, wb, nb, denom, inv, ws,
                                       grads, params, <floating>lrs[e * lr_step])
                watch_tick(watch, 3 * nb * net.macs)
            else:
                value = batch_gradients(net, loss, params, xb, yb, wb, nb, denom, inv, ws, mp,
                                        drop, grads, watch)
            if watch.stop:
                return run
            if count:
                hits += count_correct(<floating *>ws.acts + act_offset(net, net.n_layers - 1, nb),
                                      yb, nb, n_out)
            if mp != NULL:
                for i in range(net.n_layers):
                    if drop[i] > 0:
                        mp = mp + nb * net.sizes[i + 1]
            if penal:
                value = value + penalties(net, params, grads, l1, l2, wsum)
            if clipnorm > 0:
                clip_gradient(grads, P, clipnorm)
            if not fused:
                optimizer_step(opt, &plan.hyper, plan.scalars, params, grads, state, P,
                               lrs[e * lr_step], net.n_threads)
            total += <double>value * <double>nb
            n_batches += 1
            start += nb
            if watch_tick(watch, P + WATCH_BATCH):
                return run
        losses[e] = <double>value if n_batches == 1 else total / <double>n
        correct[e] = hits
        if not_finite(losses[e]):
            run = e + 1
            break
    return run if finite_params(params, P) else -run


cdef inline bint finite_params(const floating *p, isz n) noexcept nogil:
    if floating is double:
        return cyn_all_finite_f64(p, n)
    else:
        return cyn_all_finite_f32(p, n)


# ---------------------------------------------------------------------------
# The Python boundary: one CoreNet per Network owns the network's layout in
# the core (sizes, codes, offsets, loss, dropout rates, checked once) and its
# scratch; cyneuron._backends.CoreBackend is its only caller.
# ---------------------------------------------------------------------------

cdef int _make_net(Net *net, const isz[::1] sizes, const int[::1] acts,
                   const double[::1] act_params, const isz[::1] offsets,
                   isz norm, bint weighted_mean) except -1:
    """Fill net from the layout arrays, after checking that they describe one
    network (O(layers); keeps a mistake in the Python layer from reaching memory)."""
    cdef isz l, L = acts.shape[0], off = 0
    if L < 1 or sizes.shape[0] != L + 1 or act_params.shape[0] != L \
            or offsets.shape[0] != 2 * L:
        raise ValueError(f"core: sizes ({sizes.shape[0]}), acts ({L}), act_params "
                         f"({act_params.shape[0]}) and offsets ({offsets.shape[0]}) do not "
                         f"describe one network")
    for l in range(L):
        if sizes[l] < 1 or sizes[l + 1] < 1 or not 0 <= acts[l] <= ACT_LAST:
            raise ValueError(f"core: layer {l} has sizes {sizes[l]}, {sizes[l + 1]} and "
                             f"activation code {acts[l]}")
        if acts[l] == ACT_SOFTMAX and l != L - 1:
            raise ValueError(f"core: softmax is an output activation, not of layer {l}")
        if offsets[2 * l] != off or offsets[2 * l + 1] != off + sizes[l] * sizes[l + 1]:
            raise ValueError(f"core: the offsets of layer {l} do not follow from the sizes")
        off += sizes[l] * sizes[l + 1] + sizes[l + 1]
    if norm < 1:
        raise ValueError(f"core: the loss's divisor per row must be >= 1, got {norm}")
    net.n_threads = 1
    net.norm = norm
    net.weighted_mean = weighted_mean
    net.n_layers = L
    net.sizes = &sizes[0]
    net.acts = &acts[0]
    net.act_params = &act_params[0]
    net.offsets = &offsets[0]
    net.max_width = 0
    net.sum_width = 0
    net.max_macs = 0
    net.macs = 0
    net.any_from_input = False
    net.portable = False
    for l in range(L):
        if from_input(acts[l]):
            net.any_from_input = True
        if sizes[l + 1] > net.max_width:
            net.max_width = sizes[l + 1]
        net.sum_width += sizes[l + 1]
        if sizes[l] * sizes[l + 1] > net.max_macs:
            net.max_macs = sizes[l] * sizes[l + 1]
        net.macs += sizes[l] * sizes[l + 1]
    net.out_width = sizes[L]
    net.n_params = off
    return 0


cdef enum:
    ALIGN = 64          # bytes: each scratch block starts on a cache line


cdef inline isz _block(isz entries, isz itemsize) noexcept nogil:
    cdef isz per = ALIGN // itemsize
    return (entries + per - 1) // per * per


cdef isz _layout(const Net *net, isz cap, bint train, Batch *ws, char *base,
                 isz itemsize) noexcept nogil:
    """The workspace of batches of up to cap rows, the only place it is laid
    out; returns its entry count (and fills ws when base is given).

    Blocks, each starting on a cache line: the activations of every layer
    (cap x sum of widths), the same before dropout, two deltas (cap x widest
    layer each), the loss's scratch (2 x cap x outputs); for training also
    the gathered batch (inputs, targets, weights: a shuffled batch is copied
    here row by row) and the gradient (n_params).
    """
    cdef isz blocks[8]
    cdef isz i, nb = 4, off = 0
    blocks[0] = cap * net.sum_width
    blocks[1] = cap * net.sum_width
    blocks[2] = 2 * cap * net.max_width
    blocks[3] = 2 * cap * net.out_width
    if train:
        nb = 8
        blocks[4] = cap * net.sizes[0]
        blocks[5] = cap * net.out_width
        blocks[6] = cap
        blocks[7] = net.n_params
    cdef void **slots[8]
    if ws != NULL:
        slots[0] = &ws.acts
        slots[1] = &ws.raw
        slots[2] = &ws.dbuf
        slots[3] = &ws.tmp
        slots[4] = &ws.gx
        slots[5] = &ws.gy
        slots[6] = &ws.gw
        slots[7] = &ws.grads
        ws.gx = ws.gy = ws.gw = ws.grads = NULL
    for i in range(nb):
        if ws != NULL:
            slots[i][0] = <void *>(base + off * itemsize)
        off += _block(blocks[i], itemsize)
    return off


cdef int _check_len(str name, isz have, isz need, bint at_least=False) except -1:
    if have < need or (have != need and not at_least):
        raise ValueError(f"core: {name} has {have} entries, expected "
                         f"{'at least ' if at_least else ''}{need}")
    return 0


cdef int _check_rows(const Net *net, isz n, isz n_in, const Py_ssize_t *yshape,
                     isz n_w) except -1:
    """X (n, n_in) against the network; Y's shape and w's length when given."""
    if n < 1 or n_in != net.sizes[0]:
        raise ValueError(f"core: X is ({n}, {n_in}), the network takes {net.sizes[0]} inputs")
    if yshape != NULL and (yshape[0] != n or yshape[1] != net.out_width):
        raise ValueError(f"core: Y is ({yshape[0]}, {yshape[1]}), expected ({n}, "
                         f"{net.out_width})")
    if n_w not in (0, n):
        raise ValueError(f"core: w has {n_w} entries, expected 0 or {n}")
    return 0


def aligned_empty(isz n, dtype):
    """An empty 1-D array of n entries whose data starts on a cache line.

    Where a scratch buffer starts otherwise decides whether the vector loads
    of NumPy's exp on a tiny net's few values straddle cache lines: a few
    percent of a tutorial net's step.
    """
    dtype = np.dtype(dtype)
    cdef isz extra = ALIGN // dtype.itemsize
    raw = np.empty(n + extra, dtype=dtype)
    cdef isz skip = (-raw.ctypes.data % ALIGN) // dtype.itemsize
    return raw[skip:skip + n]


# forward passes of fewer multiply-adds than this (a few microseconds) run with
# the GIL held: releasing and taking it back costs more than they do, and a
# waiting thread can keep it for a whole switch interval (5 ms)
cdef isz HOLD_GIL_MACS = 1 << 15


cdef inline bint _hold_gil(const Net *net, isz n) noexcept nogil:
    cdef isz l
    cdef double macs = 0
    for l in range(net.n_layers):
        macs += <double>net.sizes[l] * <double>net.sizes[l + 1]
    return <double>n * macs < HOLD_GIL_MACS


cdef inline bint _plain(cnp.ndarray a) noexcept:
    """Aligned, native byte order, C-contiguous: what the core reads directly."""
    return (cnp.PyArray_IS_C_CONTIGUOUS(a) and cnp.PyArray_ISALIGNED(a)
            and cnp.PyArray_ISNOTSWAPPED(a))


cdef bint _infer(const Net *net, const floating *params, const floating *X, isz n,
                 floating *work, floating *out, bint check) noexcept nogil:
    """X (n rows) through the network into out (n x out_width), work being a
    workspace of _layout(net, n, False); with check, nothing is computed and
    the answer is False if X holds NaN or inf."""
    cdef Batch ws
    if check and not finite_params(X, n * net.sizes[0]):
        return False
    _layout(net, n, False, &ws, <char *>work, sizeof(floating))
    if use_tiny(net, n, NULL):
        tiny_forward(net, params, X, n, <floating *>ws.acts)
    else:
        forward_pass(net, params, X, n, <floating *>ws.acts, NULL, NULL, NULL, NULL)
    memcpy(out, <floating *>ws.acts + act_offset(net, net.n_layers - 1, n),
           n * net.out_width * sizeof(floating))
    return True


# An optimizer's hyperparameters, by name, in the order optimizer_step reads
# them from its `hp` vector (the registry's Optimizer.params holds them by name).
cdef int _read_hyper(int opt, params, Hyper *h) except -1:
    """Fill h from a registry Optimizer's hyperparameter dict."""
    memset(h, 0, sizeof(Hyper))
    if not OPT_SGD <= opt <= OPT_ADAM:      # OPT_NESTEROV is the core's own
        raise ValueError(f"core: unknown optimizer code {opt}")
    try:
        if opt == OPT_MOMENTUM:
            h.momentum = float(params["momentum"])
            h.nesterov = float(params["nesterov"]) != 0
        elif opt == OPT_RMSPROP:
            h.rho = float(params["rho"])
            h.epsilon = float(params["epsilon"])
        elif opt == OPT_ADAM:
            h.beta_1 = float(params["beta_1"])
            h.beta_2 = float(params["beta_2"])
            h.epsilon = float(params["epsilon"])
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"core: optimizer code {opt} needs the hyperparameters of its "
                         f"kind as numbers ({type(e).__name__}: {e})") from None
    return 0

# workspaces up to this many entries stay cached between inference calls
# (a large prediction's scratch is given back at once)
cdef isz CACHED_ENTRIES = 1 << 20


cdef class CoreNet:
    """A network's layout in the core, built and checked once.

    Parameters
    ----------
    sizes : intp array
        Layer widths, input first.
    acts : intc array
        Activation code of every layer; ``act_params`` its parameter (the
        leaky-ReLU slope).
    offsets : intp array
        Offset of ``W_l`` then of ``b_l`` in the flat parameter vector
        ``[W1, b1, W2, b2, ...]`` (``W_l`` row-major ``(sizes[l], sizes[l+1])``);
        they must follow from the sizes.
    dropout : float64 array
        Dropout rate of every layer's output (the last is 0).
    loss : int
        Loss code; ``norm`` its divisor per row; ``weighted_mean`` divides a
        batch's loss and penalties by its weight sum instead of its row count.
    dtype : float64 or float32
        The dtype of every floating buffer handed in.
    portable : bool
        ``numerics="portable"``: exp, tanh, log and log1p are cyneuron's own
        (csrc/cyn_portable.h) instead of NumPy's loops.
    """
    cdef Net net
    cdef readonly object sizes, acts, act_params, offsets, dropout, dtype
    cdef readonly int loss
    cdef readonly bint portable
    cdef readonly isz mask_width   # mask entries per row: the widths of the layers with dropout
    cdef const double *_drop
    cdef object _scratch           # the cached workspace (a 1-D array of dtype)
    cdef bint _busy                # a call on some thread is using it
    cdef int _typenum              # NPY_DOUBLE or NPY_FLOAT: dtype, for forward_fast

    def __cinit__(self, sizes, acts, act_params, offsets, dropout, int loss, isz norm,
                  bint weighted_mean, dtype, bint portable=False):
        # private read-only copies: the Net points into them
        self.sizes = _frozen(sizes, np.intp)
        self.acts = _frozen(acts, np.intc)
        self.act_params = _frozen(act_params, np.float64)
        self.offsets = _frozen(offsets, np.intp)
        self.dropout = _frozen(dropout, np.float64)
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float64, np.float32):
            raise ValueError(f"core: dtype must be float64 or float32, got {self.dtype}")
        _make_net(&self.net, self.sizes, self.acts, self.act_params, self.offsets, norm,
                  weighted_mean)
        self.net.portable = portable
        self.portable = portable
        if not LOSS_MSE <= loss <= LOSS_CCE:
            raise ValueError(f"core: unknown loss code {loss}")
        self.loss = loss
        cdef const double[::1] drop = self.dropout
        _check_len("dropout", drop.shape[0], self.net.n_layers)
        self._drop = &drop[0]
        cdef isz l
        self.mask_width = 0
        for l in range(self.net.n_layers):
            if self._drop[l] > 0:
                self.mask_width += self.net.sizes[l + 1]
        self._scratch = None
        self._busy = False
        self._typenum = self.dtype.num

    @property
    def n_params(self):
        """Entries of the flat parameter vector."""
        return self.net.n_params

    def workspace_size(self, isz rows, bint train=False):
        """Entries of the workspace for batches of up to `rows` rows."""
        return _layout(&self.net, rows, train, NULL, NULL, self.dtype.itemsize)

    cdef object _take(self, isz rows, bint train):
        # Called with the GIL held, so the flag cannot race: a reader on
        # another thread that holds the cached workspace makes this call
        # allocate its own.
        cdef isz need = _layout(&self.net, rows, train, NULL, NULL, self.dtype.itemsize)
        if self._busy:
            return aligned_empty(need, self.dtype)
        if self._scratch is None or self._scratch.shape[0] < need:
            if need > CACHED_ENTRIES and not train:
                return aligned_empty(need, self.dtype)
            self._scratch = aligned_empty(need, self.dtype)
        self._busy = True
        return self._scratch

    cdef void _give(self, object work):
        if work is self._scratch:
            self._busy = False

    cdef Net _with_threads(self, int n_threads):
        cdef Net net = self.net
        net.n_threads = n_threads if n_threads > 0 else 1
        return net

    def forward(self, const floating[::1] params, const floating[:, ::1] X, int n_threads=1):
        """The network's output for X, a new (n, n_out) array."""
        cdef Net net = self._with_threads(n_threads)
        cdef isz n = X.shape[0]
        _check_len("params", params.shape[0], net.n_params)
        _check_rows(&net, X.shape[0], X.shape[1], NULL, 0)
        out = np.empty((n, net.out_width), dtype=self.dtype)
        cdef floating[:, ::1] o = out
        work = self._take(n, False)
        cdef floating[::1] wk = work
        try:
            if _hold_gil(&net, n):
                _infer(&net, &params[0], &X[0, 0], n, &wk[0], &o[0, 0], False)
            else:
                with nogil:
                    _infer(&net, &params[0], &X[0, 0], n, &wk[0], &o[0, 0], False)
        finally:
            self._give(work)
        return out

    def forward_fast(self, params, X, int n_threads=1):
        """forward for the common case, checked in C; None for anything else.

        X must be exactly an ndarray of the network's dtype (native byte order,
        aligned, C-contiguous), 1-D (one sample; the output is then 1-D) or 2-D
        with at least one row, of the network's input width, and finite;
        params the parameter vector of the same kind. For any other input the
        answer is None and nothing is computed: the caller's checked path
        (conversion, and the error that names the problem) runs instead. This
        is the single-row serving path: a few flag reads instead of NumPy's
        checks, the finiteness pass fused with the forward, the cached
        workspace, and the output array the only allocation.
        """
        if not (cnp.PyArray_CheckExact(X) and cnp.PyArray_CheckExact(params)):
            return None
        cdef cnp.ndarray x = <cnp.ndarray>X
        cdef cnp.ndarray p = <cnp.ndarray>params
        cdef int typenum = self._typenum
        if not (cnp.PyArray_TYPE(x) == typenum and cnp.PyArray_TYPE(p) == typenum
                and _plain(x) and _plain(p) and cnp.PyArray_SIZE(p) == self.net.n_params):
            return None
        cdef int nd = cnp.PyArray_NDIM(x)
        cdef cnp.npy_intp *dims = cnp.PyArray_DIMS(x)
        cdef cnp.npy_intp odims[2]
        if nd == 1:
            odims[0] = 1
            odims[1] = dims[0]
        elif nd == 2:
            odims[0] = dims[0]
            odims[1] = dims[1]
        else:
            return None
        if odims[0] < 1 or odims[1] != self.net.sizes[0]:
            return None
        cdef Net net = self._with_threads(n_threads)
        cdef isz n = odims[0]
        odims[1] = net.out_width
        out = cnp.PyArray_EMPTY(nd, &odims[2 - nd], typenum, 0)
        work = self._take(n, False)
        cdef bint ok
        cdef void *xp = cnp.PyArray_DATA(x)
        cdef void *pp = cnp.PyArray_DATA(p)
        cdef void *wp = cnp.PyArray_DATA(<cnp.ndarray>work)
        cdef void *op = cnp.PyArray_DATA(<cnp.ndarray>out)
        try:
            if _hold_gil(&net, n):
                if typenum == cnp.NPY_DOUBLE:
                    ok = _infer(&net, <double *>pp, <double *>xp, n, <double *>wp,
                                <double *>op, True)
                else:
                    ok = _infer(&net, <float *>pp, <float *>xp, n, <float *>wp,
                                <float *>op, True)
            else:
                with nogil:
                    if typenum == cnp.NPY_DOUBLE:
                        ok = _infer(&net, <double *>pp, <double *>xp, n, <double *>wp,
                                    <double *>op, True)
                    else:
                        ok = _infer(&net, <float *>pp, <float *>xp, n, <float *>wp,
                                    <float *>op, True)
        finally:
            self._give(work)
        return out if ok else None

    def gradients(self, const floating[::1] params, const floating[:, ::1] X,
                  const floating[:, ::1] Y, const floating[::1] w, double l1, double l2,
                  int n_threads=1):
        """(loss with the L1/L2 penalty, dLoss/dparams as a new flat array) for
        the batch (X, Y); w holds per-sample weights, or nothing. Under
        weighted_mean the weights must not sum to 0."""
        cdef Net net = self._with_threads(n_threads)
        cdef Batch ws
        cdef isz n = X.shape[0]
        cdef floating lossval, denom, inv, wsum
        cdef const floating *wp = &w[0] if w.shape[0] > 0 else NULL
        cdef Watch watch
        watch_init(&watch)
        _check_len("params", params.shape[0], net.n_params)
        _check_rows(&net, X.shape[0], X.shape[1], &Y.shape[0], w.shape[0])
        grads = np.empty(net.n_params, dtype=self.dtype)
        cdef floating[::1] g = grads
        work = self._take(n, False)
        cdef floating[::1] wk = work
        _layout(&net, n, False, &ws, <char *>&wk[0], sizeof(floating))
        try:
            with nogil:
                denom = batch_denominator(&net, wp, n, &wsum, &inv)
                lossval = batch_gradients(&net, self.loss, &params[0], &X[0, 0], &Y[0, 0], wp,
                                          n, denom, inv, &ws, NULL, NULL, &g[0], &watch)
                if (l1 != 0 or l2 != 0) and not watch.stop:
                    lossval = lossval + penalties(&net, &params[0], &g[0], l1, l2, wsum)
            watch_raise(&watch)
        finally:
            self._give(work)
        return lossval, grads

    def train_epochs(self, floating[::1] params, const floating[:, ::1] X,
                     const floating[:, ::1] Y, const floating[::1] w, const isz[::1] orders,
                     const double[::1] lrs, isz epochs, isz batch_size, optimizer,
                     floating[::1] state, double[::1] scalars, double l1, double l2,
                     double clipnorm, const floating[::1] masks, bint count, int n_threads=1):
        """Train for `epochs` epochs entirely in C, with everything random drawn
        by the caller; returns (epoch losses, correct counts per epoch, epochs run).

        lrs: the learning rate of every epoch, or one for all of them.
        orders: the sample order of every epoch (epochs x n), or empty for 0..n-1.
        optimizer: a registry Optimizer; its state is `state` (m then v, each
        like params) and `scalars` (step count, beta_1**t, beta_2**t).
        masks: inverted-dropout multipliers for one epoch, in the order the
        reference draws them: per batch, per layer with dropout (input side
        first), a (rows x width) block; empty when the network has no dropout.

        Training stops after the first epoch whose loss is not finite (nothing
        after it runs); the count of epochs run is negated when the weights
        it ends with are not finite.

        Python's signal handlers run every few milliseconds of work (see
        Watch); if one raises (KeyboardInterrupt on Ctrl-C), training stops
        before the next update and the exception propagates, with params,
        state and scalars part-way: the caller restores them.
        """
        cdef Net net = self._with_threads(n_threads)
        cdef Batch ws
        cdef Plan plan
        cdef isz n = X.shape[0], n_in = X.shape[1]
        cdef isz P = params.shape[0]
        memset(&plan, 0, sizeof(plan))
        plan.opt = optimizer.code
        _read_hyper(plan.opt, optimizer.params, &plan.hyper)
        _check_len("params", P, net.n_params)
        _check_rows(&net, n, n_in, &Y.shape[0], w.shape[0])
        if not 1 <= batch_size <= n:
            raise ValueError(f"core: batch_size {batch_size} is not in [1, {n}]")
        if epochs < 1:
            raise ValueError(f"core: epochs must be >= 1, got {epochs}")
        if lrs.shape[0] not in (1, epochs):
            raise ValueError(f"core: lrs has {lrs.shape[0]} entries, expected 1 or {epochs}")
        if orders.shape[0] not in (0, epochs * n):
            raise ValueError(f"core: orders has {orders.shape[0]} entries, expected 0 or "
                             f"{epochs * n}")
        _check_len("state", state.shape[0], 2 * P)
        _check_len("scalars", scalars.shape[0], 3)
        if self.mask_width:
            if epochs != 1:
                raise ValueError("core: dropout masks are drawn for one epoch at a time")
            _check_len("masks", masks.shape[0], n * self.mask_width)
        else:
            _check_len("masks", masks.shape[0], 0)
        losses = np.empty(epochs, dtype=np.float64)
        correct = np.zeros(epochs, dtype=np.int64)
        cdef double[::1] lv = losses
        cdef cnp.int64_t[::1] cv = correct
        cdef const floating *wp = &w[0] if w.shape[0] > 0 else NULL
        cdef const floating *mp = &masks[0] if masks.shape[0] > 0 else NULL
        plan.n = n
        plan.orders = &orders[0] if orders.shape[0] > 0 else NULL
        plan.lrs = &lrs[0]
        plan.lr_step = lrs.shape[0] > 1
        plan.epochs = epochs
        plan.batch_size = batch_size
        plan.scalars = &scalars[0]
        plan.l1 = l1
        plan.l2 = l2
        plan.clipnorm = clipnorm
        plan.drop = self._drop
        plan.count = count
        plan.losses = &lv[0]
        plan.correct = &cv[0]
        work = self._take(batch_size, True)
        cdef floating[::1] wk = work
        _layout(&net, batch_size, True, &ws, <char *>&wk[0], sizeof(floating))
        cdef isz run
        cdef Watch watch
        watch_init(&watch)
        try:
            with nogil:
                run = train_loop(&net, self.loss, &plan, &params[0], &X[0, 0], &Y[0, 0], wp,
                                 &state[0], mp, &ws, &watch)
            # Ctrl-C (or another signal handler's exception) stopped the loop
            # part-way: raise it; the caller restores the weights
            watch_raise(&watch)
        finally:
            self._give(work)
        return losses, correct, run


cdef object _frozen(a, dt):
    arr = np.array(a, dtype=dt, copy=True).reshape(-1)
    arr.setflags(write=False)
    return arr


include "_core_hooks.pxi"
