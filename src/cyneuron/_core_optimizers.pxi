# Included by _core.pyx: mirrors reference.py's "optimizers" section
# (optimizer_step), with the penalty and the gradient's norm clipping
# (reference.penalty, clip_by_norm) applied before the step. Nothing here
# names an optimizer: Hyper holds the registry row's hyperparameters in
# order (read by _read_hyper at the boundary), and csrc/cyn_elementwise_impl.h
# turns them into the step's constants and runs the step (cyn_ew_constants,
# cyn_ew_step), after the decoupled weight decay a row may ask for.



cdef struct Hyper:
    # an optimizer's hyperparameters as its step reads them: the registry
    # row's, in its order (flags as 0 or 1), and decoupled weight decay apart
    double values[MAX_HYPER]
    int n
    double weight_decay    # 0: none


# the hyperparameter of decoupled weight decay (cyneuron._registry.WEIGHT_DECAY)
cdef str WEIGHT_DECAY = "weight_decay"


# With the GIL, at the boundary (CoreNet.train_epochs): a registry Optimizer's
# code, and its params in its row's order; optimizer_step reads Hyper.
cdef int _read_hyper(int opt, params, Hyper *h) except -1:
    """Fill h from a registry Optimizer's hyperparameter dict; refuse a code the
    C step does not know, or too few hyperparameters for it."""
    cdef double s[3]
    cdef double c[MAX_HYPER]
    cdef dict named
    memset(h, 0, sizeof(Hyper))
    try:
        named = params
        for key, value in named.items():
            if key == WEIGHT_DECAY:
                h.weight_decay = float(value)
            elif h.n == MAX_HYPER:
                raise ValueError(f"more than {MAX_HYPER}")
            else:
                h.values[h.n] = float(value)
                h.n += 1
    except (TypeError, ValueError) as e:
        raise ValueError(f"core: optimizer code {opt} needs the hyperparameters of its "
                         f"kind as numbers ({type(e).__name__}: {e})") from None
    # a dry run of the step's constants on scratch scalars tells whether C knows the code
    s[0], s[1], s[2] = 0.0, 1.0, 1.0
    cdef int known = cyn_ew_constants_f64_inl(opt, h.values, h.n, s, 0.0, c)
    if known == -1:
        raise ValueError(f"core: unknown optimizer code {opt}")
    if known < 0:
        raise ValueError(f"core: optimizer code {opt} needs the hyperparameters of its "
                         f"kind as numbers (got {h.n})")
    return 0


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


cdef inline floating penalty(const Net *net, const floating *params, floating *grads,
                               double l1, double l2, floating wsum) noexcept nogil:
    """add_penalties, per unit of weight under weighted_mean (the coefficients
    divided by the batch's weight sum, in double, as the reference does)."""
    if net.weighted_mean:
        l1 = l1 / <double>wsum
        l2 = l2 / <double>wsum
    return add_penalties(net, params, grads, l1, l2)


cdef void clip_by_norm(floating *g, isz cnt, double clipnorm) noexcept nogil:
    cdef isz i
    cdef floating s = 0, norm, c = <floating>clipnorm, scale
    for i in range(cnt):
        s = s + g[i] * g[i]
    norm = fsqrt(s)
    if norm > c:
        scale = c / norm
        for i in range(cnt):
            g[i] = g[i] * scale


cdef void decay_weights(const Net *net, floating *params, floating factor) noexcept nogil:
    """Decoupled weight decay: every weight (not the biases) times factor."""
    cdef isz l, i, cnt
    cdef floating *W
    for l in range(net.n_layers):
        W = params + net.offsets[2 * l]
        cnt = net.sizes[l] * net.sizes[l + 1]
        for i in range(cnt):
            W[i] = W[i] * factor


cdef void optimizer_step(const Net *net, int opt, const Hyper *hp, double *scalars,
                         floating *p, const floating *g, floating *state, isz cnt,
                         double lr, int n_threads) noexcept nogil:
    """One update of the flat parameters p; state holds m then v (cnt each).

    Weight decay first scales the weights by 1 - lr * weight_decay (in double,
    then rounded), as reference.optimizer_step does. The step's constants are
    rounded to the parameters' dtype once, and the vectorised loop run, by
    csrc/cyn_elementwise_impl.h (cyn_ew_constants, cyn_ew_step): nothing here
    names an optimizer.
    """
    cdef floating c[MAX_HYPER]
    cdef floating *m = state
    cdef floating *v = state + cnt if state != NULL else NULL
    if hp.weight_decay != 0:
        decay_weights(net, p, <floating>(1.0 - lr * hp.weight_decay))
    opt = ew_constants(opt, hp.values, hp.n, scalars, lr, c)
    ew_step(opt, c, p, g, m, v, cnt, n_threads)
