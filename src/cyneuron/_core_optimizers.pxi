# Included by _core.pyx: mirrors reference.py's "optimizers" section
# (optimizer_step), with the penalty and the gradient's norm clipping
# (reference.penalty, clip_by_norm) applied before the step. Everything the
# core knows of an optimizer is here: its hyperparameters (Hyper, read from
# the registry's Optimizer by _read_hyper at the boundary) and its step
# (ew_step in csrc/cyn_elementwise_impl.h does the arithmetic).

cdef struct Hyper:
    # an optimizer's hyperparameters by name; the ones it does not take stay 0
    double momentum
    bint nesterov
    double rho
    double beta_1
    double beta_2
    double epsilon


# With the GIL, at the boundary (CoreNet.train_epochs): the registry's
# Optimizer.params holds the hyperparameters by name, optimizer_step reads Hyper.
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
