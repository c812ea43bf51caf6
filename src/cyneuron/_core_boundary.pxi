# Included by _core.pyx: the Python boundary. Everything callable from Python
# apart from the test hooks: the input check all_finite and CoreNet, which
# checks the layout once, owns the scratch and calls the sections above with
# the GIL released. _core.pyi describes this surface for mypy.

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
    net.sparse = NULL
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
    (cap x sum of widths), the same before dropout, the errors (laid out like
    the activations, and at least two of the widest layer's: the tiny nets'
    current and previous), the loss's scratch (2 x cap x outputs for the
    logarithms, cap x outputs for its terms); for training also
    the gathered batch (inputs, targets, weights: a shuffled batch is copied
    here row by row) and the gradient (n_params).
    """
    cdef isz blocks[8]
    cdef isz i, nb = 4, off = 0
    blocks[0] = cap * net.sum_width
    blocks[1] = cap * net.sum_width
    blocks[2] = cap * max(net.sum_width, 2 * net.max_width)
    blocks[3] = 3 * cap * net.out_width
    if train:
        nb = 8
        blocks[4] = cap * net.sizes[0] if net.sparse == NULL else 0   # sparse: read in place
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


cdef int _check_len(str name, isz have, isz need) except -1:
    if have != need:
        raise ValueError(f"core: {name} has {have} entries, expected {need}")
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
        forward_pass(net, params, X, n, 0, n, net.n_threads, <floating *>ws.acts, NULL, NULL,
                     NULL, NULL)
    memcpy(out, <floating *>ws.acts + act_offset(net, net.n_layers - 1, n),
           n * net.out_width * sizeof(floating))
    return True


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

    cdef object _take(self, isz rows, bint train, const Net *net=NULL):
        # Called with the GIL held, so the flag cannot race: a reader on
        # another thread that holds the cached workspace makes this call
        # allocate its own. `net`: the call's copy, when it differs in what
        # _layout reads (a sparse input's)
        cdef const Net *lay = net
        if lay == NULL:
            lay = &self.net
        cdef isz need = _layout(lay, rows, train, NULL, NULL, self.dtype.itemsize)
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

    def forward(self, const floating[::1] params, X, int n_threads=1):
        """The network's output for X, a new (n, n_out) array.

        X: a C-contiguous (n, n_in) array of the network's dtype, or a
        CsrInput (a sparse X, read in place)."""
        cdef Net net = self._with_threads(n_threads)
        cdef Sparse sp
        cdef const floating *xp
        cdef isz n, n_in
        _input(X, &net, &sp, self._typenum, <const void **>&xp, &n, &n_in)
        _check_len("params", params.shape[0], net.n_params)
        _check_rows(&net, n, n_in, NULL, 0)
        out = np.empty((n, net.out_width), dtype=self.dtype)
        cdef floating[:, ::1] o = out
        work = self._take(n, False, &net)
        cdef floating[::1] wk = work
        try:
            if _hold_gil(&net, n):
                _infer(&net, &params[0], xp, n, &wk[0], &o[0, 0], False)
            else:
                with nogil:
                    _infer(&net, &params[0], xp, n, &wk[0], &o[0, 0], False)
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

    def gradients(self, const floating[::1] params, X,
                  const floating[:, ::1] Y, const floating[::1] w, double l1, double l2,
                  int n_threads=1):
        """(loss with the L1/L2 penalty, dLoss/dparams as a new flat array) for
        the batch (X, Y); X as in forward; w holds per-sample weights, or
        nothing. Under weighted_mean the weights must not sum to 0."""
        cdef Net net = self._with_threads(n_threads)
        cdef Batch ws
        cdef Sparse sp
        cdef const floating *xp
        cdef isz n, n_in
        _input(X, &net, &sp, self._typenum, <const void **>&xp, &n, &n_in)
        cdef floating lossval, denom, inv, wsum
        cdef const floating *wp = &w[0] if w.shape[0] > 0 else NULL
        cdef Watch watch
        watch_init(&watch)
        _check_len("params", params.shape[0], net.n_params)
        _check_rows(&net, n, n_in, &Y.shape[0], w.shape[0])
        grads = np.empty(net.n_params, dtype=self.dtype)
        cdef floating[::1] g = grads
        work = self._take(n, False, &net)
        cdef floating[::1] wk = work
        _layout(&net, n, False, &ws, <char *>&wk[0], sizeof(floating))
        try:
            with nogil:
                denom = loss_denominator(&net, wp, n, &wsum, &inv)
                # (no step: batch_gradients writes no parameter)
                lossval = batch_gradients(&net, self.loss, <floating *>&params[0], xp, &Y[0, 0],
                                          wp, n, denom, inv, &ws, NULL, NULL, &g[0], NULL,
                                          NULL, &watch)
                if (l1 != 0 or l2 != 0) and not watch.stop:
                    lossval = lossval + penalty(&net, &params[0], &g[0], l1, l2, wsum)
            watch_raise(&watch)
        finally:
            self._give(work)
        return lossval, grads

    def train_epochs(self, floating[::1] params, X,
                     const floating[:, ::1] Y, const floating[::1] w, const isz[::1] orders,
                     const double[::1] lrs, isz epochs, isz batch_size, optimizer,
                     floating[::1] state, double[::1] scalars, double l1, double l2,
                     double clipnorm, const floating[::1] masks, bint count, int n_threads=1,
                     progress=None):
        """Train for `epochs` epochs entirely in C, with everything random drawn
        by the caller; returns (epoch losses, correct counts per epoch, epochs run).

        lrs: the learning rate of every epoch, or one for all of them.
        X: as in forward (a sparse X's batches are its rows, read in place).
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

        progress: None, or a callable that the same looks call as
        ``progress(epoch, rows, loss_sum)`` (the epoch of this call, its rows
        done, the sum of their batches' losses times their rows) while an
        epoch runs; what it raises stops training as a signal handler's
        exception does.
        """
        cdef Net net = self._with_threads(n_threads)
        cdef Batch ws
        cdef Plan plan
        cdef Sparse sp
        cdef const floating *xp
        cdef isz n, n_in
        _input(X, &net, &sp, self._typenum, <const void **>&xp, &n, &n_in)
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
        work = self._take(batch_size, True, &net)
        cdef floating[::1] wk = work
        _layout(&net, batch_size, True, &ws, <char *>&wk[0], sizeof(floating))
        cdef isz run
        cdef Watch watch
        watch_init(&watch)
        if progress is not None:
            if not callable(progress):
                raise TypeError(f"core: progress must be callable or None, got "
                                f"{type(progress).__name__}")
            watch.hook = <PyObject *>progress     # borrowed: `progress` outlives the loop
        try:
            with nogil:
                run = train_loop(&net, self.loss, &plan, &params[0], xp, &Y[0, 0], wp,
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
