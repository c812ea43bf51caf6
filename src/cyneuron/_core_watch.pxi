# Included by _core.pyx: signal watching (Ctrl-C during the nogil loops),
# and reference.py's "three products of a layer" (affine, backprop,
# weight_gradient: cyn_affine, cyn_backprop, cyn_wgrad in csrc) as the loops
# call them, in pieces with a look at the signals between them. It comes
# first because the forward pass, the gradients and the training loops all
# take a Watch.

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
    PyObject *PyObject_CallFunction(PyObject *callable, const char *fmt, ...)
    void Py_DecRef(PyObject *o)


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
    bint stop              # a signal handler (or the hook) raised: unwind, CoreNet re-raises
    PyObject *hook         # or NULL: called at each look as hook(epoch, rows, loss_sum)
    isz epoch              # where training is, for the hook: the epoch of the call,
    isz rows               # the rows of it done, and the sum of their batches' losses
    double loss_sum        # (each batch's loss times its rows)
    PyObject *etype        # what it raised (owned references until watch_raise)
    PyObject *evalue
    PyObject *etb


cdef inline void watch_init(Watch *w) noexcept nogil:
    w.left = WATCH_PERIOD
    w.stop = False
    w.hook = NULL
    w.epoch = 0
    w.rows = 0
    w.loss_sum = 0.0
    w.etype = NULL
    w.evalue = NULL
    w.etb = NULL


cdef bint watch_look(Watch *w) noexcept nogil:
    """Run Python's pending signal handlers, then the progress hook if any;
    True if one raised (noted in w)."""
    if w.stop:
        return True             # keep the first exception; the loops are unwinding
    w.left = WATCH_PERIOD
    cdef PyObject *r
    with gil:
        if PyErr_CheckSignals() < 0:
            PyErr_Fetch(&w.etype, &w.evalue, &w.etb)
            w.stop = True
        elif w.hook != NULL:
            # the in-epoch progress report; it throttles itself (a look comes
            # every few milliseconds of work) and may raise like a handler
            r = PyObject_CallFunction(w.hook, "nnd", w.epoch, w.rows, w.loss_sum)
            if r == NULL:
                PyErr_Fetch(&w.etype, &w.evalue, &w.etb)
                w.stop = True
            else:
                Py_DecRef(r)
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
