# Included by _core.pyx: mirrors reference.py's "the network" section: the
# forward pass (reference.forward, feedforward) and one batch's gradients
# (reference.gradients: forward, loss, backpropagation). The penalty and the
# norm clipping of that section sit with the optimizers (_core_optimizers.pxi).

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
    cdef isz l, k, m, off
    cdef const floating *inp = X
    cdef floating *out = acts_buf
    for l in range(net.n_layers):
        k = net.sizes[l]
        m = net.sizes[l + 1]
        if l == 0 and net.sparse != NULL:
            if csr_affine_watched(net, params, out, n, watch):
                return
        elif affine_watched(inp, params + net.offsets[2 * l], params + net.offsets[2 * l + 1],
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
    cdef isz L = net.n_layers, l, k, m
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
        if l == 0 and net.sparse != NULL:
            if csr_wgrad_watched(net, d, grads, n, watch):
                return 0
        elif wgrad_watched(a_prev, d, grads + net.offsets[2 * l],
                           grads + net.offsets[2 * l + 1], n, k, m, net.n_threads, watch):
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
