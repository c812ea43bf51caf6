# Included by _core.pyx: the tiny-net path, a second copy of the forward
# pass, the gradients and the SGD training loop for networks whose products
# are all tiny; reference.py has no such section (its forward, gradients and
# train_epoch with sgd are what these compute, bit for bit). Plan, what a
# training run does, is declared in _core_training.pxi.

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
    # (a sparse input never: the tiny loops read X dense)
    return masks == NULL and net.sparse == NULL and small_product(n, 1, net.max_macs)


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
    lossval = output_error(net, loss, a_out, a_out, Y, w, d, <floating *>ws.tmp, NULL, n, denom,
                           inv, 1)
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
        denom = loss_denominator(net, w, n, &wsum, &inv)
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
                denom = loss_denominator(net, wb, nb, &wsum, &inv)
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
