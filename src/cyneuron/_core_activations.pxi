# Included by _core.pyx: mirrors reference.py's "activations" section: f(z)
# (activate_rest, after the affine map's first step) and f'(z) from a = f(z)
# or from z for the from_input activations (derivative_mul).

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
    cdef floating zero = 0, mx, s, v
    cdef floating *row
    cdef bint nan
    if code == ACT_SIGMOID:
        # 1 / (1 + exp(-z)), the negation done
        sigmoid_neg(z, cnt, portable)
    elif code == ACT_TANH:
        vtanh(z, cnt, portable)
    elif code == ACT_SOFTMAX:
        # exp(z - rowmax) / rowsum, the row sum taken left to right from +0.0.
        # The maximum without branches (a branch on random logits mispredicts
        # about once per row: 10% of W3's float32 fit): v > mx ? v : mx is
        # one maxss, and a row holding a NaN gets a NaN maximum, as np.max
        # gives (which NaN is immaterial: every output of the row is NaN).
        # Which of +0.0 and -0.0 is the maximum is immaterial too: z - mx
        # differs only where z is a zero, and exp(+-0) is 1 either way.
        for i in range(n):
            row = z + i * m
            mx = row[0]
            nan = mx != mx
            for j in range(1, m):
                v = row[j]
                nan = nan | (v != v)
                mx = v if v > mx else mx
            if nan:
                mx = <floating>NAN
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
    elif from_input(code):
        from_input_forward(code, param, z, cnt, portable)
    # ACT_RELU, ACT_LEAKY_RELU: done by the affine map; ACT_IDENTITY: nothing to do


cdef enum:
    CHUNK = 256         # values per call into NumPy's loops for the stack scratch below

# gelu's constants, reference.GELU_BETA and GELU_KAPPA (the same float64
# literals; a floating variable initialised from them rounds once to float32)
cdef double GELU_BETA = 0.7978845608028654
cdef double GELU_KAPPA = 0.044715


cdef inline bint from_input(int code) noexcept nogil:
    """Whether the activation's derivative is written through its input z."""
    return code == ACT_SOFTPLUS or code == ACT_SILU or code == ACT_ELU or code == ACT_GELU


cdef void from_input_forward(int code, double param, floating *z, isz cnt,
                             bint portable) noexcept nogil:
    """softplus: max(z, 0) + log1p(exp(-|z|)); silu: z / (1 + exp(-z));
    elu: z > 0 ? z : alpha * (exp(min(z, 0)) - 1);
    gelu: 0.5 * z * (1 + tanh(beta * (z + kappa * z**3))); in place."""
    cdef floating t[CHUNK]
    cdef floating one = 1, zero = 0, alpha = <floating>param, v
    cdef floating half = 0.5, beta = GELU_BETA, kappa = GELU_KAPPA
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
        elif code == ACT_ELU:
            for i in range(c):
                v = z[s + i]
                t[i] = zero if v > zero else v          # np.minimum(z, 0): NaN kept
            vexp(t, c, portable)
            for i in range(c):
                if not z[s + i] > zero:
                    z[s + i] = alpha * (t[i] - one)
        elif code == ACT_GELU:
            for i in range(c):
                v = z[s + i]
                t[i] = beta * (v + kappa * (v * v * v))
            vtanh(t, c, portable)
            for i in range(c):
                z[s + i] = half * z[s + i] * (one + t[i])
        else:
            for i in range(c):
                t[i] = -z[s + i]
            vexp(t, c, portable)
            for i in range(c):
                z[s + i] = z[s + i] / (one + t[i])
        s += c


cdef void from_input_derivative_mul(int code, double param, const floating *z, floating *g,
                                    isz cnt, bint portable) noexcept nogil:
    """g = g * f'(z): softplus' = sigmoid(z), silu' = s * (1 + z * (1 - s)),
    elu' = z > 0 ? 1 : alpha * exp(min(z, 0)),
    gelu' = 0.5 (1 + t) + 0.5 z (1 - t^2) beta (1 + 3 kappa z^2), t gelu's tanh."""
    cdef floating t[CHUNK]
    cdef floating one = 1, zero = 0, alpha = <floating>param, sg, v
    cdef floating half = 0.5, three = 3, beta = GELU_BETA, kappa = GELU_KAPPA
    cdef isz s, i, c
    s = 0
    while s < cnt:
        c = cnt - s if cnt - s < CHUNK else CHUNK
        if code == ACT_ELU:
            for i in range(c):
                v = z[s + i]
                t[i] = zero if v > zero else v
            vexp(t, c, portable)
            for i in range(c):
                g[s + i] = g[s + i] * (one if z[s + i] > zero else alpha * t[i])
            s += c
            continue
        if code == ACT_GELU:
            for i in range(c):
                v = z[s + i]
                t[i] = beta * (v + kappa * (v * v * v))
            vtanh(t, c, portable)
            for i in range(c):
                v = z[s + i]
                sg = t[i]
                g[s + i] = g[s + i] * (half * (one + sg) + half * v * (one - sg * sg)
                                       * (beta * (one + three * kappa * (v * v))))
            s += c
            continue
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
        from_input_derivative_mul(code, param, a, g, cnt, portable)
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


cdef inline bint elementwise_derivative(int act) noexcept nogil:
    return (act == ACT_SIGMOID or act == ACT_TANH or act == ACT_RELU
            or act == ACT_LEAKY_RELU)


cdef inline floating act_deriv(int act, floating a, floating alpha) noexcept nogil:
    """f'(z) from a = f(z), the factor cyn_ew_dmul multiplies by (CYN_ACT_DERIV)."""
    if floating is double:
        return cyn_act_deriv_f64(act, a, alpha)
    else:
        return cyn_act_deriv_f32(act, a, alpha)
