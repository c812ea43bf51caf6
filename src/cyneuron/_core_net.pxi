# Included by _core.pyx: a network seen from C (the layout, the batch's
# scratch; the plan of a training run is the training section's, an
# optimizer's hyperparameters the optimizers') and
# the dtype dispatch of the few libm calls and finiteness tests the sections
# below share. reference.py passes lists of (W, b) pairs instead (its
# `Weights`, `Pair`); the flat layout is reference.flatten's.

# ---------------------------------------------------------------------------
# A network seen from C: sizes, codes and parameter offsets.
# ---------------------------------------------------------------------------

cdef struct Sparse:
    # a sparse input X in CSR form (issue 29; _core_sparse.pxi), read in place:
    # the batch's sample i is CSR row rows[i], or row0 + i when rows is NULL
    const void *data       # the stored values, of the network's dtype
    const isz *indices     # their columns: sorted and unique within each row
    const isz *indptr      # row r's entries are [indptr[r], indptr[r + 1])
    const isz *rows
    isz row0


cdef struct Net:
    isz n_layers
    const isz *sizes       # n_layers + 1 widths
    const int *acts        # n_layers activation codes
    const double *act_params
    const isz *offsets     # 2 * n_layers: offset of W_l, then of b_l, in params
    isz max_width          # widest layer (input excluded)
    isz sum_width          # sum of the layer widths (input excluded)
    isz max_macs           # largest k * m over the layers
    isz macs               # sum of k * m over the layers: one row's forward pass
    isz out_width
    isz n_params
    int n_threads          # threads for the large products and updates (1: none)
    isz norm               # the loss's divisor per row (its output width, or 1)
    bint weighted_mean     # divide by the batch's weight sum, penalties too
    bint any_from_input    # some layer's derivative is written through its input z
    bint portable          # numerics="portable": cyneuron's own exp/tanh/log/log1p
    Sparse *sparse         # the input is sparse (its first layer's products are
                           # _core_sparse.pxi's), or NULL: X is dense


cdef enum:
    MAX_HYPER = 8          # the most hyperparameters a step reads (and constants it makes)


cdef struct Batch:
    # scratch for one batch of up to `cap` rows, laid out by _layout
    void *acts             # outputs of every layer (after dropout)
    void *raw              # outputs before dropout (layers with dropout only)
    void *dbuf             # every layer's error, laid out like acts (see _layout)
    void *tmp              # 3 * cap * out_width: logarithms and terms of the loss
    void *gx               # training only: the gathered batch's inputs,
    void *gy               # targets
    void *gw               # and sample weights
    void *grads            # and the gradient (n_params)


cdef inline isz act_offset(const Net *net, isz layer, isz n) noexcept nogil:
    """Offset of layer `layer`'s activations (n x sizes[layer+1]) in the workspace."""
    cdef isz q, off = 0
    for q in range(layer):
        off += n * net.sizes[q + 1]
    return off


cdef inline floating fabsx(floating x) noexcept nogil:
    if floating is double:
        return fabs(x)
    else:
        return fabsf(x)


cdef inline floating fsqrt(floating x) noexcept nogil:
    if floating is double:
        return sqrt(x)
    else:
        return sqrtf(x)


cdef inline bint not_finite(double x) noexcept nogil:
    # inf - inf and NaN - NaN are NaN, and NaN != 0; x - x is +0 for finite x
    return x - x != 0


cdef inline bint finite_params(const floating *p, isz n) noexcept nogil:
    if floating is double:
        return cyn_all_finite_f64(p, n)
    else:
        return cyn_all_finite_f32(p, n)
