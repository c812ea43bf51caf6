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
"""

cimport numpy as cnp
from cython cimport floating
from libc.string cimport memcpy

import numpy as np

cnp.import_array()
cnp.import_ufunc()

ctypedef cnp.intp_t isz

cdef extern from "cyn_kernels.h" nogil:
    ctypedef ptrdiff_t cyn_int
    void cyn_affine_f64(const double *X, const double *W, const double *b,
                        double *Z, cyn_int n, cyn_int k, cyn_int m)
    void cyn_affine_f32(const float *X, const float *W, const float *b,
                        float *Z, cyn_int n, cyn_int k, cyn_int m)
    void cyn_backprop_f64(const double *D, const double *W, double *G,
                          cyn_int n, cyn_int k, cyn_int m)
    void cyn_backprop_f32(const float *D, const float *W, float *G,
                          cyn_int n, cyn_int k, cyn_int m)
    void cyn_wgrad_f64(const double *A, const double *D, double *dW, double *db,
                       cyn_int n, cyn_int k, cyn_int m)
    void cyn_wgrad_f32(const float *A, const float *D, float *dW, float *db,
                       cyn_int n, cyn_int k, cyn_int m)
    int cyn_fp_contract_off()
    double cyn_probe_mul_add(double a, double b, double c)
    int cyn_probe_cpu_has_fma()

# Codes shared with cyneuron._registry (the one name -> implementation table).
cdef enum:
    ACT_IDENTITY = 0
    ACT_SIGMOID = 1
    ACT_TANH = 2
    ACT_RELU = 3
    ACT_LEAKY_RELU = 4
    ACT_SOFTMAX = 5

cdef enum:
    LOSS_MSE = 0
    LOSS_SSE = 1

ACTIVATION_CODES = {"identity": ACT_IDENTITY, "sigmoid": ACT_SIGMOID, "tanh": ACT_TANH,
                    "relu": ACT_RELU, "leaky_relu": ACT_LEAKY_RELU, "softmax": ACT_SOFTMAX}
LOSS_CODES = {"mse": LOSS_MSE, "sse": LOSS_SSE}

# ---------------------------------------------------------------------------
# NumPy's own elementwise loops (exp, tanh): the core must call the very code
# that np.exp / np.tanh run, because on AVX-512 machines that code is NumPy's
# SIMD implementation and differs from the C library in some last bits.
# ---------------------------------------------------------------------------

ctypedef void (*npy_loop_t)(char **args, const cnp.npy_intp *dims,
                            const cnp.npy_intp *steps, void *data) noexcept nogil

cdef npy_loop_t _exp_f64 = NULL
cdef npy_loop_t _exp_f32 = NULL
cdef npy_loop_t _tanh_f64 = NULL
cdef npy_loop_t _tanh_f32 = NULL
cdef void *_exp_f64_data = NULL
cdef void *_exp_f32_data = NULL
cdef void *_tanh_f64_data = NULL
cdef void *_tanh_f32_data = NULL


cdef int _find_loop(object uf, int typenum, npy_loop_t *loop, void **data) except -1:
    """Store the first inner loop of ufunc `uf` typed typenum -> typenum."""
    cdef cnp.ufunc u = <cnp.ufunc?>uf
    cdef int i
    if u.nin != 1 or u.nout != 1:
        raise TypeError(f"{uf!r} is not a unary ufunc")
    for i in range(u.ntypes):
        if u.types[2 * i] == typenum and u.types[2 * i + 1] == typenum:
            loop[0] = <npy_loop_t>u.functions[i]
            data[0] = u.data[i]
            return 0
    raise RuntimeError(f"NumPy's {u.__name__} has no loop for type number {typenum}")


_find_loop(np.exp, cnp.NPY_DOUBLE, &_exp_f64, &_exp_f64_data)
_find_loop(np.exp, cnp.NPY_FLOAT, &_exp_f32, &_exp_f32_data)
_find_loop(np.tanh, cnp.NPY_DOUBLE, &_tanh_f64, &_tanh_f64_data)
_find_loop(np.tanh, cnp.NPY_FLOAT, &_tanh_f32, &_tanh_f32_data)


cdef inline void _run_loop(npy_loop_t loop, void *data, char *buf, isz n,
                           isz itemsize) noexcept nogil:
    # In place (identical input and output buffers): NumPy's SIMD loops accept
    # that; a partial overlap would send them to the C library instead.
    cdef char *args[2]
    cdef cnp.npy_intp dims[1]
    cdef cnp.npy_intp steps[2]
    if n <= 0:
        return
    args[0] = buf
    args[1] = buf
    dims[0] = n
    steps[0] = itemsize
    steps[1] = itemsize
    loop(args, dims, steps, data)


cdef inline void vexp(floating *x, isz n) noexcept nogil:
    """x[i] = np.exp(x[i]) in place, with NumPy's loop for the dtype."""
    if floating is double:
        _run_loop(_exp_f64, _exp_f64_data, <char *>x, n, sizeof(double))
    else:
        _run_loop(_exp_f32, _exp_f32_data, <char *>x, n, sizeof(float))


cdef inline void vtanh(floating *x, isz n) noexcept nogil:
    """x[i] = np.tanh(x[i]) in place, with NumPy's loop for the dtype."""
    if floating is double:
        _run_loop(_tanh_f64, _tanh_f64_data, <char *>x, n, sizeof(double))
    else:
        _run_loop(_tanh_f32, _tanh_f32_data, <char *>x, n, sizeof(float))


def numpy_exp(floating[::1] x):
    """Apply NumPy's exp loop in place through the core (for self-checks)."""
    with nogil:
        vexp(&x[0], x.shape[0])


def numpy_tanh(floating[::1] x):
    """Apply NumPy's tanh loop in place through the core (for self-checks)."""
    with nogil:
        vtanh(&x[0], x.shape[0])


def build_info():
    """Facts about how this extension was compiled, for tests and bug reports."""
    return {"fp_contract_off": bool(cyn_fp_contract_off()),
            "cpu_has_fma": bool(cyn_probe_cpu_has_fma())}


def probe_mul_add(double a, double b, double c):
    """a*b + c as the compiled kernels evaluate it (fused only if contraction is on)."""
    return cyn_probe_mul_add(a, b, c)

# ---------------------------------------------------------------------------
# Fixed-order products (C kernels in csrc/), dispatched per dtype.
# ---------------------------------------------------------------------------

cdef inline void affine(const floating *X, const floating *W, const floating *b,
                        floating *Z, isz n, isz k, isz m) noexcept nogil:
    if floating is double:
        cyn_affine_f64(X, W, b, Z, n, k, m)
    else:
        cyn_affine_f32(X, W, b, Z, n, k, m)


cdef inline void backprop(const floating *D, const floating *W, floating *G,
                          isz n, isz k, isz m) noexcept nogil:
    if floating is double:
        cyn_backprop_f64(D, W, G, n, k, m)
    else:
        cyn_backprop_f32(D, W, G, n, k, m)


cdef inline void wgrad(const floating *A, const floating *D, floating *dW,
                       floating *db, isz n, isz k, isz m) noexcept nogil:
    if floating is double:
        cyn_wgrad_f64(A, D, dW, db, n, k, m)
    else:
        cyn_wgrad_f32(A, D, dW, db, n, k, m)

# ---------------------------------------------------------------------------
# Activations and their derivatives (from the activation's output).
# Constants are typed so that float32 arithmetic stays float32.
# ---------------------------------------------------------------------------

cdef void activate(int code, double param, floating *z, isz n, isz m) noexcept nogil:
    """Turn pre-activations z (n x m) into activations, in place."""
    cdef isz i, j, cnt = n * m
    cdef floating one = 1, zero = 0, alpha, mx, s, v
    cdef floating *row
    if code == ACT_SIGMOID:
        # 1 / (1 + exp(-z))
        for i in range(cnt):
            z[i] = -z[i]
        vexp(z, cnt)
        for i in range(cnt):
            z[i] = one / (one + z[i])
    elif code == ACT_TANH:
        vtanh(z, cnt)
    elif code == ACT_RELU:
        # np.maximum(z, 0): NaN stays NaN, -0.0 becomes +0.0
        for i in range(cnt):
            if z[i] <= zero:
                z[i] = zero
    elif code == ACT_LEAKY_RELU:
        alpha = <floating>param
        for i in range(cnt):
            if not (z[i] > zero):
                z[i] = alpha * z[i]
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
        vexp(z, cnt)
        for i in range(n):
            row = z + i * m
            s = zero
            for j in range(m):
                s = s + row[j]
            for j in range(m):
                row[j] = row[j] / s
    # ACT_IDENTITY: nothing to do


cdef void derivative_mul(int code, double param, const floating *a, floating *g,
                         isz n, isz m) noexcept nogil:
    """g = g * f'(a) in place: dL/dA becomes dL/dZ. a is the activation output."""
    cdef isz i, j, cnt = n * m
    cdef floating one = 1, zero = 0, alpha, dot
    if code == ACT_SIGMOID:
        for i in range(cnt):
            g[i] = g[i] * (a[i] * (one - a[i]))
    elif code == ACT_TANH:
        for i in range(cnt):
            g[i] = g[i] * (one - a[i] * a[i])
    elif code == ACT_RELU:
        for i in range(cnt):
            g[i] = g[i] * (one if a[i] > zero else zero)
    elif code == ACT_LEAKY_RELU:
        alpha = <floating>param
        for i in range(cnt):
            g[i] = g[i] * (one if a[i] > zero else alpha)
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
# Losses: value and dL/dA of the output.
# ---------------------------------------------------------------------------

cdef floating loss_and_grad(int code, const floating *a, const floating *y,
                            floating *g, isz cnt) noexcept nogil:
    """Return the loss over cnt outputs and write dL/da into g."""
    cdef isz i
    cdef floating zero = 0, half = 0.5, two = 2, s = 0, e
    cdef floating count = <floating>cnt
    if code == LOSS_MSE:
        # mean((a - y)**2); gradient 2 * (a - y) / count
        for i in range(cnt):
            e = a[i] - y[i]
            s = s + e * e
            g[i] = (two * e) / count
        return s / count
    else:
        # LOSS_SSE: 0.5 * sum((a - y)**2); gradient a - y (the tutorials' raw error)
        for i in range(cnt):
            e = a[i] - y[i]
            s = s + e * e
            g[i] = e
        return half * s

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
    isz out_width


cdef inline isz act_offset(const Net *net, isz layer, isz n) noexcept nogil:
    """Offset of layer `layer`'s activations (n x sizes[layer+1]) in the workspace."""
    cdef isz q, off = 0
    for q in range(layer):
        off += n * net.sizes[q + 1]
    return off


cdef void forward_pass(const Net *net, const floating *params, const floating *X,
                       isz n, floating *acts_buf) noexcept nogil:
    """Activations of every layer for X (n rows), stored one after another."""
    cdef isz l, k, m
    cdef const floating *inp = X
    cdef floating *out = acts_buf
    for l in range(net.n_layers):
        k = net.sizes[l]
        m = net.sizes[l + 1]
        affine(inp, params + net.offsets[2 * l], params + net.offsets[2 * l + 1],
               out, n, k, m)
        activate(net.acts[l], net.act_params[l], out, n, m)
        inp = out
        out = out + n * m


cdef floating backward_pass(const Net *net, int loss, const floating *params,
                            const floating *X, const floating *Y, isz n,
                            floating *acts_buf, floating *dbuf, floating *grads) noexcept nogil:
    """Forward, loss and backpropagation for one batch; returns the loss.

    dbuf holds 2 * n * max_width scratch values (the current and previous delta).
    """
    cdef isz L = net.n_layers, l, k, m
    cdef floating *d = dbuf
    cdef floating *dprev = dbuf + n * net.max_width
    cdef floating *tmp
    cdef const floating *a_prev
    cdef const floating *a_out
    cdef floating lossval
    forward_pass(net, params, X, n, acts_buf)
    m = net.sizes[L]
    a_out = acts_buf + act_offset(net, L - 1, n)
    lossval = loss_and_grad(loss, a_out, Y, d, n * m)
    derivative_mul(net.acts[L - 1], net.act_params[L - 1], a_out, d, n, m)
    for l in range(L - 1, -1, -1):
        k = net.sizes[l]
        m = net.sizes[l + 1]
        if l == 0:
            a_prev = X
        else:
            a_prev = acts_buf + act_offset(net, l - 1, n)
        wgrad(a_prev, d, grads + net.offsets[2 * l], grads + net.offsets[2 * l + 1], n, k, m)
        if l > 0:
            backprop(d, params + net.offsets[2 * l], dprev, n, k, m)
            derivative_mul(net.acts[l - 1], net.act_params[l - 1], a_prev, dprev, n, k)
            tmp = d
            d = dprev
            dprev = tmp
    return lossval


cdef inline void sgd_update(floating *params, const floating *grads, isz cnt,
                            floating lr) noexcept nogil:
    cdef isz i
    for i in range(cnt):
        params[i] = params[i] - lr * grads[i]

# ---------------------------------------------------------------------------
# Python entry points (called by cyneuron.network after validation).
# ---------------------------------------------------------------------------

cdef int _make_net(Net *net, const isz[::1] sizes, const int[::1] acts,
                   const double[::1] act_params, const isz[::1] offsets) except -1:
    cdef isz l
    net.n_layers = acts.shape[0]
    net.sizes = &sizes[0]
    net.acts = &acts[0]
    net.act_params = &act_params[0]
    net.offsets = &offsets[0]
    net.max_width = 0
    for l in range(net.n_layers):
        if sizes[l + 1] > net.max_width:
            net.max_width = sizes[l + 1]
    net.out_width = sizes[net.n_layers]
    return 0


def workspace_size(const isz[::1] sizes, isz n):
    """Scratch entries `forward`/`gradients`/`fit` need for batches of n rows."""
    cdef isz l, total = 0, mx = 0
    for l in range(1, sizes.shape[0]):
        total += n * sizes[l]
        if sizes[l] > mx:
            mx = sizes[l]
    return total + 2 * n * mx


def forward(const floating[::1] params, const isz[::1] sizes, const int[::1] acts,
            const double[::1] act_params, const isz[::1] offsets,
            const floating[:, ::1] X, floating[::1] work, floating[:, ::1] out):
    """out = network output for X; work holds workspace_size(sizes, n) entries."""
    cdef Net net
    cdef isz n = X.shape[0]
    _make_net(&net, sizes, acts, act_params, offsets)
    with nogil:
        forward_pass(&net, &params[0], &X[0, 0], n, &work[0])
        memcpy(&out[0, 0], &work[0] + act_offset(&net, net.n_layers - 1, n),
               n * net.out_width * sizeof(floating))


def gradients(const floating[::1] params, const isz[::1] sizes, const int[::1] acts,
              const double[::1] act_params, const isz[::1] offsets, int loss,
              const floating[:, ::1] X, const floating[:, ::1] Y,
              floating[::1] work, floating[::1] grads):
    """Write dLoss/dparams for the batch (X, Y) into grads; return the loss."""
    cdef Net net
    cdef isz n = X.shape[0]
    cdef floating lossval
    cdef isz acts_total
    _make_net(&net, sizes, acts, act_params, offsets)
    acts_total = act_offset(&net, net.n_layers, n)
    with nogil:
        lossval = backward_pass(&net, loss, &params[0], &X[0, 0], &Y[0, 0], n,
                                &work[0], &work[0] + acts_total, &grads[0])
    return lossval


def fit_gd(floating[::1] params, const isz[::1] sizes, const int[::1] acts,
           const double[::1] act_params, const isz[::1] offsets, int loss,
           const floating[:, ::1] X, const floating[:, ::1] Y, isz epochs,
           floating lr, floating[::1] work, floating[::1] grads,
           floating[::1] losses):
    """Full-batch gradient descent for `epochs` steps, entirely in C.

    losses[e] receives the loss of epoch e (before its update).
    """
    cdef Net net
    cdef isz n = X.shape[0], e, cnt = params.shape[0]
    cdef isz acts_total
    _make_net(&net, sizes, acts, act_params, offsets)
    acts_total = act_offset(&net, net.n_layers, n)
    with nogil:
        for e in range(epochs):
            losses[e] = backward_pass(&net, loss, &params[0], &X[0, 0], &Y[0, 0], n,
                                      &work[0], &work[0] + acts_total, &grads[0])
            sgd_update(&params[0], &grads[0], cnt, lr)
