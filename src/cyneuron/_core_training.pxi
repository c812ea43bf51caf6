# Included by _core.pyx: mirrors reference.py's "batching, shuffling and
# dropout draws" section: the training loop (reference.train_epoch, for many
# epochs; the draws themselves are made by the caller) and the accuracy count
# (correct_predictions).

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


cdef isz correct_predictions(const floating *a, const floating *y, isz n, isz m) noexcept nogil:
    """Rows classified right: threshold 0.5 for one output, first argmax otherwise."""
    cdef isz i, ba, by, c = 0
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
    cdef bint fuse_sgd = (opt == OPT_SGD and plan.hyper.weight_decay == 0 and not penal
                          and not clipnorm > 0)
    cdef bint fused, through
    # the other optimizers' update inside the weight-gradient pass (see
    # batch_gradients) when nothing needs the whole gradient first
    cdef bint in_pass = not penal and not clipnorm > 0 and plan.hyper.weight_decay == 0
    cdef Step step
    step.opt = opt
    step.h = &plan.hyper.values[0]
    step.nh = plan.hyper.n
    step.scalars = plan.scalars
    step.state = state
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
            if net.sparse != NULL:
                # a sparse X's batch is read in place, its rows by the order
                csr_select(net.sparse, order, start)
            fused = fuse_sgd and use_tiny_training(net, nb, mp)
            # the batches that go through the row pass with an update
            # (batch_gradients with a step) gather their own rows there
            through = in_pass and not fused and wgrad_pass(net, nb)
            if order != NULL:
                if not through:
                    if net.sparse == NULL:
                        gather_rows(X, n_in, order + start, nb, gx, net.n_threads)
                    gather_rows(Y, n_out, order + start, nb, gy, net.n_threads)
                if wp != NULL:
                    for i in range(nb):
                        gw[i] = wp[order[start + i]]
                xb = gx
                yb = gy
                wb = gw if wp != NULL else NULL
            else:
                xb = X + start * n_in if net.sparse == NULL else X
                yb = Y + start * n_out
                wb = wp + start if wp != NULL else NULL
            denom = loss_denominator(net, wb, nb, &wsum, &inv)
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
            step.lr = lrs[e * lr_step]
            if through:
                value = batch_gradients(net, loss, params,
                                        X if order != NULL else xb,
                                        Y if order != NULL else yb, wb, nb, denom, inv, ws, mp,
                                        drop, grads, &step,
                                        order + start if order != NULL else NULL, watch)
                fused = True            # updated in the pass: no optimizer_step below
            elif fused:
                value = tiny_gradients(net, loss, params, xb, yb, wb, nb, denom, inv, ws,
                                       grads, params, <floating>lrs[e * lr_step])
                watch_tick(watch, 3 * nb * net.macs)
            else:
                value = batch_gradients(net, loss, params, xb, yb, wb, nb, denom, inv, ws, mp,
                                        drop, grads, NULL, NULL, watch)
            if watch.stop:
                return run
            if count:
                hits += correct_predictions(<floating *>ws.acts + act_offset(net, net.n_layers - 1, nb),
                                      yb, nb, n_out)
            if mp != NULL:
                for i in range(net.n_layers):
                    if drop[i] > 0:
                        mp = mp + nb * net.sizes[i + 1]
            if penal:
                value = value + penalty(net, params, grads, l1, l2, wsum)
            if clipnorm > 0:
                clip_by_norm(grads, P, clipnorm)
            if not fused:
                optimizer_step(net, opt, &plan.hyper, plan.scalars, params, grads, state, P,
                               lrs[e * lr_step], net.n_threads)
            total += <double>value * <double>nb
            n_batches += 1
            start += nb
            if watch.hook != NULL:
                watch.epoch = e
                watch.rows = start
                watch.loss_sum = total
            if watch_tick(watch, P + WATCH_BATCH):
                return run
        losses[e] = <double>value if n_batches == 1 else total / <double>n
        correct[e] = hits
        if not_finite(losses[e]):
            run = e + 1
            break
    return run if finite_params(params, P) else -run
