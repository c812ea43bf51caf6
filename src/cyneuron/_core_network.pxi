# Included by _core.pyx: mirrors reference.py's "the network" section: the
# forward pass (reference.forward, feedforward) and one batch's gradients
# (reference.gradients: forward, loss, backpropagation). The penalty and the
# norm clipping of that section sit with the optimizers (_core_optimizers.pxi).

cdef void forward_pass(const Net *net, const floating *params, const floating *X,
                       isz n, isz lo, isz hi, int nt, floating *acts_buf, floating *raw_buf,
                       const floating *masks, const double *dropout,
                       Watch *watch) noexcept nogil:
    """Activations of every layer for rows [lo, hi) of X (n rows), stored one
    layer after another (layer l's n rows at act_offset), products over nt
    threads.

    raw_buf (training only, else NULL) receives what each layer's derivative
    is computed from where that is not the stored output: the input z of a
    from_input activation, and the activation before dropout of a layer
    with masks (inverted-dropout multipliers, n rows per dropout layer, one
    layer after another). With a watch (training), Ctrl-C is looked for
    after every product, and inside a huge one (see WATCH_SPLIT); once it is
    noted, the rest of the pass is skipped: the caller unwinds. A sparse X is
    read whole (lo 0, hi n).
    """
    cdef isz l, k, m, off, r = hi - lo
    cdef const floating *inp = X + lo * net.sizes[0]
    cdef floating *out
    for l in range(net.n_layers):
        k = net.sizes[l]
        m = net.sizes[l + 1]
        off = act_offset(net, l, n) + lo * m
        out = acts_buf + off
        if l == 0 and net.sparse != NULL:
            if csr_affine_watched(net, params, out, n, watch):
                return
        elif affine_watched(inp, params + net.offsets[2 * l], params + net.offsets[2 * l + 1],
                            out, r, k, m, nt, net.acts[l], net.act_params[l], watch):
            return
        if raw_buf != NULL and from_input(net.acts[l]):
            memcpy(raw_buf + off, out, r * m * sizeof(floating))
        activate_rest(net.acts[l], net.act_params[l], out, r, m, net.portable)
        if masks != NULL and dropout[l] > 0:
            if not from_input(net.acts[l]):
                memcpy(raw_buf + off, out, r * m * sizeof(floating))
            ew_mul(out, masks + lo * m, r * m)
            masks = masks + n * m
        inp = out


cdef floating batch_rows(const Net *net, int loss, const floating *params,
                         const floating *X, const floating *Y, const floating *w,
                         isz n, isz lo, isz hi, floating denom, floating inv, Batch *ws,
                         const floating *masks, const double *dropout, bint split, int nt,
                         Watch *watch) noexcept nogil:
    """Rows [lo, hi) of a batch of n rows: the forward pass, the output error,
    and the error sent back through every layer (dL/dz of layer l's rows in
    ws.dbuf at layer l's activation offset). Returns the batch loss, or, with
    split (parts of the rows on several threads at once), stores the loss's
    terms after the logarithms' scratch in ws.tmp (see loss_sum) and returns
    0. Every row's values depend on that row alone, so the parts give the
    bits of one pass. With a watch, returns early once Ctrl-C is noted."""
    cdef isz L = net.n_layers, l, k, m, r = hi - lo, off, mask_total = 0
    cdef isz mo = net.out_width
    cdef floating *acts = <floating *>ws.acts
    cdef floating *raw = <floating *>ws.raw
    cdef floating *dl = <floating *>ws.dbuf
    cdef floating *tmp = <floating *>ws.tmp
    cdef floating *terms = NULL
    cdef floating *dprev
    cdef const floating *a_deriv
    cdef floating lossval
    forward_pass(net, params, X, n, lo, hi, nt, acts, raw, masks, dropout, watch)
    if watch != NULL and watch.stop:
        return 0
    off = act_offset(net, L - 1, n) + lo * mo
    a_deriv = raw + off if from_input(net.acts[L - 1]) else acts + off
    if split:
        terms = tmp + 2 * n * mo + (lo if loss == LOSS_CCE else lo * mo)
    lossval = output_error(net, loss, acts + off, a_deriv, Y + lo * mo,
                           w + lo if w != NULL else NULL, dl + off, tmp + 2 * lo * mo, terms,
                           r, denom, inv, nt)
    if masks != NULL:
        for l in range(L):
            if dropout[l] > 0:
                mask_total += n * net.sizes[l + 1]
    for l in range(L - 1, 0, -1):
        k = net.sizes[l]
        m = net.sizes[l + 1]
        off = act_offset(net, l - 1, n) + lo * k
        dprev = dl + off
        if backprop_watched(dl + act_offset(net, l, n) + lo * m, params + net.offsets[2 * l],
                            dprev, r, k, m, nt, watch):
            return 0
        a_deriv = acts + off
        if masks != NULL and dropout[l - 1] > 0:
            # masks of layers l-1 .. L-1 sit at the end of this batch's block
            mask_total -= n * k
            ew_mul(dprev, masks + mask_total + lo * k, r * k)
            a_deriv = raw + off
        elif from_input(net.acts[l - 1]):
            a_deriv = raw + off
        derivative_mul(net.acts[l - 1], net.act_params[l - 1], a_deriv, dprev, r, k,
                       net.portable, nt)
    return lossval


cdef struct RowPass:
    # one batch's operands for batch_rows on the pool (the pointers of the
    # batch's dtype; denom and inv exact in double)
    const Net *net
    int loss
    const void *params
    const void *X
    const void *Y
    const void *w
    isz n
    double denom
    double inv
    Batch *ws
    const void *masks
    const double *dropout
    const isz *order       # the batch's rows of X and Y (each part gathers its own), or NULL


cdef void row_part(const RowPass *p, isz lo, isz hi, floating *gx,
                   floating *gy) noexcept nogil:
    """batch_rows on rows [lo, hi), a part of the pool's pass; the dtype is
    that of gx and gy (the workspace's gathered batch). With p.order, the
    part first gathers its own rows of X and Y there."""
    cdef const floating *X = <const floating *>p.X
    cdef const floating *Y = <const floating *>p.Y
    if p.order != NULL:
        gather_rows(X, p.net.sizes[0], p.order + lo, hi - lo, gx + lo * p.net.sizes[0], 1)
        gather_rows(Y, p.net.out_width, p.order + lo, hi - lo, gy + lo * p.net.out_width, 1)
        X = gx
        Y = gy
    batch_rows(p.net, p.loss, <const floating *>p.params, X, Y, <const floating *>p.w, p.n,
               lo, hi, <floating>p.denom, <floating>p.inv, p.ws, <const floating *>p.masks,
               p.dropout, True, 1, NULL)


cdef void row_pass_f64(const void *args, cyn_int lo, cyn_int hi) noexcept nogil:
    cdef const RowPass *p = <const RowPass *>args
    row_part(p, lo, hi, <double *>p.ws.gx, <double *>p.ws.gy)


cdef void row_pass_f32(const void *args, cyn_int lo, cyn_int hi) noexcept nogil:
    cdef const RowPass *p = <const RowPass *>args
    row_part(p, lo, hi, <float *>p.ws.gx, <float *>p.ws.gy)


# A batch's rows are split over the threads (batch_rows on each part, the
# products inside on one thread) when it has this many multiply-adds or more
# (below, one thread's pass is a few microseconds: waking a worker costs
# about one) and at most ROWS_MAX_WORK (above, the products split one by one
# scale as well, and the watch looks for Ctrl-C inside them); parts are
# multiples of ROW_QUANTUM rows, the kernels' tallest tile.
cdef isz ROWS_MIN_WORK = 1 << 17
cdef isz ROWS_MAX_WORK = 1 << 26
cdef isz ROW_QUANTUM = 8


cdef inline bint rows_split(const Net *net, isz n) noexcept nogil:
    return (net.n_threads > 1 and net.sparse == NULL and n >= 2 * ROW_QUANTUM
            and ROWS_MIN_WORK <= n * net.macs <= ROWS_MAX_WORK)


cdef struct Step:
    # an optimizer update batch_gradients makes in its weight-gradient pass
    # (train_loop: when nothing needs the whole gradient first): the arguments
    # of ew_constants, then the parameters' state (m then v, or NULL)
    int opt
    const double *h
    int nh
    double *scalars
    double lr
    void *state


cdef enum:
    PASS_LAYERS = 32       # the most layers cyn_wgrad_step is given at once


cdef inline bint wgrad_pass(const Net *net, isz n) noexcept nogil:
    """Whether the weight gradients (and a Step) go through cyn_wgrad_step."""
    return rows_split(net, n) and net.n_layers <= PASS_LAYERS


cdef floating batch_gradients(const Net *net, int loss, floating *params,
                              const floating *X, const floating *Y, const floating *w,
                              isz n, floating denom, floating inv, Batch *ws,
                              const floating *masks, const double *dropout,
                              floating *grads, const Step *step, const isz *order,
                              Watch *watch) noexcept nogil:
    """Forward, loss and backpropagation for one batch of n rows; returns the loss
    (without penalties). grads receives dLoss/dparams in the flat layout.
    With order (only when rows_split), X and Y are the whole data and the
    batch is their rows order[0..n), gathered into ws.gx, ws.gy by the
    row pass's parts, each its own rows.

    Two passes: the rows (batch_rows: forward and the errors of every
    layer, each row on its own; split over the threads by rows, see
    rows_split), then the weight gradients (sums over all rows, split over
    the threads by their outputs: one pass for every layer, see wgrad_pass,
    or each product on its own). With a step (only when wgrad_pass), that
    pass also updates the parameters. With a watch, Ctrl-C is looked for
    between the products; once it is noted (watch.stop) the batch is
    abandoned, before any update: loss and grads are then meaningless.
    """
    cdef isz L = net.n_layers, l, k, m, mo = net.out_width
    cdef floating *acts = <floating *>ws.acts
    cdef floating *dl = <floating *>ws.dbuf
    cdef floating lossval
    cdef RowPass rp
    cdef const floating *A[PASS_LAYERS]
    cdef const floating *D[PASS_LAYERS]
    cdef floating c[MAX_HYPER]
    cdef floating *state
    cdef int opt = -1
    cdef isz cnt = net.n_params
    if use_tiny_training(net, n, masks):
        lossval = tiny_gradients(net, loss, params, X, Y, w, n, denom, inv, ws, grads, NULL, 0)
        watch_tick(watch, 3 * n * net.macs)
        return lossval
    if rows_split(net, n):
        rp.net = net
        rp.loss = loss
        rp.params = params
        rp.X = X
        rp.Y = Y
        rp.w = w
        rp.n = n
        rp.denom = denom
        rp.inv = inv
        rp.ws = ws
        rp.masks = masks
        rp.dropout = dropout
        rp.order = order
        if floating is double:
            cyn_run_parallel(row_pass_f64, &rp, n, ROW_QUANTUM, net.n_threads)
        else:
            cyn_run_parallel(row_pass_f32, &rp, n, ROW_QUANTUM, net.n_threads)
        lossval = loss_sum(loss, <floating *>ws.tmp + 2 * n * mo, n, mo, denom)
        if order != NULL:
            X = <const floating *>ws.gx
        if watch_tick(watch, 2 * n * net.macs):
            return 0
    else:
        lossval = batch_rows(net, loss, params, X, Y, w, n, 0, n, denom, inv, ws, masks,
                             dropout, False, net.n_threads, watch)
        if watch != NULL and watch.stop:
            return 0
    if wgrad_pass(net, n):
        for l in range(L):
            A[l] = X if l == 0 else acts + act_offset(net, l - 1, n)
            D[l] = dl + act_offset(net, l, n)
        if watch_tick(watch, n * net.macs):
            return 0
        state = <floating *>step.state if step != NULL else NULL
        if step != NULL:
            opt = ew_constants(step.opt, step.h, step.nh, step.scalars, step.lr, c)
        if floating is double:
            cyn_wgrad_step_f64(<int>L, n, A, D, <const cyn_int *>net.sizes,
                               <const cyn_int *>net.offsets, grads, opt, c, params, state,
                               state + cnt if state != NULL else NULL, net.n_threads)
        else:
            cyn_wgrad_step_f32(<int>L, n, A, D, <const cyn_int *>net.sizes,
                               <const cyn_int *>net.offsets, grads, opt, c, params, state,
                               state + cnt if state != NULL else NULL, net.n_threads)
        return lossval
    for l in range(L - 1, -1, -1):
        k = net.sizes[l]
        m = net.sizes[l + 1]
        if l == 0 and net.sparse != NULL:
            if csr_wgrad_watched(net, dl, grads, n, watch):
                return 0
        elif wgrad_watched(X if l == 0 else acts + act_offset(net, l - 1, n),
                           dl + act_offset(net, l, n), grads + net.offsets[2 * l],
                           grads + net.offsets[2 * l + 1], n, k, m, net.n_threads, watch):
            return 0
    return lossval
