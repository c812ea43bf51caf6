# Included by _core.pyx: a sparse input (issue 29), mirroring reference.py's
# "sparse inputs" section (sparse_affine, sparse_weight_gradient). A CSR
# matrix reaches the core as a CsrInput, its structure checked once; the
# network's Net then points at it (Net.sparse), the first layer's affine map
# and weight gradient run csrc/cyn_sparse_impl.h's kernels over its rows in
# place, and every other product is the dense one (the first layer's output
# is dense). The tiny-net path steps aside (use_tiny), and a training batch
# is a list of rows, never a gathered copy (csr_select).

cdef extern from "cyn_sparse.h" nogil:
    void cyn_csr_affine_f64(const double *data, const cyn_int *indices, const cyn_int *indptr,
                            const cyn_int *rows, cyn_int row0, cyn_int n, const double *W,
                            const double *b, double *Z, cyn_int m, int act, double alpha,
                            int n_threads)
    void cyn_csr_affine_f32(const float *data, const cyn_int *indices, const cyn_int *indptr,
                            const cyn_int *rows, cyn_int row0, cyn_int n, const float *W,
                            const float *b, float *Z, cyn_int m, int act, float alpha,
                            int n_threads)
    void cyn_csr_wgrad_f64(const double *data, const cyn_int *indices, const cyn_int *indptr,
                           const cyn_int *rows, cyn_int row0, cyn_int n, const double *D,
                           double *dW, double *db, cyn_int k, cyn_int m, int n_threads)
    void cyn_csr_wgrad_f32(const float *data, const cyn_int *indices, const cyn_int *indptr,
                           const cyn_int *rows, cyn_int row0, cyn_int n, const float *D,
                           float *dW, float *db, cyn_int k, cyn_int m, int n_threads)
    cyn_int cyn_csr_batch_nnz(const cyn_int *indptr, const cyn_int *rows, cyn_int row0,
                              cyn_int n)
    cyn_int cyn_csr_check(const cyn_int *indices, const cyn_int *indptr, cyn_int n_rows,
                          cyn_int n_cols, cyn_int nnz)


cdef class CsrInput:
    """A sparse X as the core reads it: compressed sparse rows, checked once.

    Parameters
    ----------
    data : float64 or float32 array
        The stored values (the network's dtype), 1-D, C order.
    indices, indptr : intp arrays
        Row r's values are ``data[indptr[r]:indptr[r + 1]]``, in the columns
        ``indices[...]`` of the same range: strictly increasing within each
        row, in [0, n_cols).
    n_cols : int
        The matrix's width (the network's input width).

    The Python layer (``cyneuron._validation.check_sparse``) builds this
    form; the constructor checks the structure again in one pass, so that a
    mistake there cannot make the kernels read out of bounds.
    """
    cdef readonly object data, indices, indptr
    cdef readonly isz n_rows, n_cols, nnz
    cdef int typenum
    cdef Sparse sp

    def __cinit__(self, data, indices, indptr, isz n_cols):
        for name, a, types in (("data", data, (cnp.NPY_DOUBLE, cnp.NPY_FLOAT)),
                               ("indices", indices, (cnp.NPY_INTP,)),
                               ("indptr", indptr, (cnp.NPY_INTP,))):
            if not (cnp.PyArray_Check(a) and cnp.PyArray_NDIM(<cnp.ndarray>a) == 1
                    and cnp.PyArray_TYPE(<cnp.ndarray>a) in types and _plain(<cnp.ndarray>a)):
                raise ValueError(f"core: CsrInput's {name} must be a 1-D C-contiguous "
                                 f"{'float64 or float32' if name == 'data' else 'intp'} array")
        cdef isz n_rows = indptr.shape[0] - 1, nnz = indices.shape[0], bad
        if n_rows < 1 or data.shape[0] != nnz or n_cols < 1:
            raise ValueError(f"core: CsrInput has {n_rows} rows, {nnz} indices, "
                             f"{data.shape[0]} values and {n_cols} columns")
        cdef const isz *ip = <const isz *>cnp.PyArray_DATA(<cnp.ndarray>indices)
        cdef const isz *pp = <const isz *>cnp.PyArray_DATA(<cnp.ndarray>indptr)
        with nogil:
            bad = cyn_csr_check(<const cyn_int *>ip, <const cyn_int *>pp, n_rows, n_cols, nnz)
        if bad:
            raise ValueError(f"core: CsrInput's row {bad - 1} is not sorted, unique, in "
                             f"[0, {n_cols}) columns, or its indptr is broken")
        self.data, self.indices, self.indptr = data, indices, indptr
        self.n_rows, self.n_cols, self.nnz = n_rows, n_cols, nnz
        self.typenum = cnp.PyArray_TYPE(<cnp.ndarray>data)
        self.sp.data = cnp.PyArray_DATA(<cnp.ndarray>data)
        self.sp.indices = ip
        self.sp.indptr = pp
        self.sp.rows = NULL
        self.sp.row0 = 0


cdef int _input(object X, Net *net, Sparse *sp, int typenum, const void **xp, isz *n,
                isz *n_in) except -1:
    """X as CoreNet's methods read it: a dense (n, n_in) array of the network's
    dtype, aligned and C-contiguous (*xp its data), or a CsrInput of that
    dtype (*xp NULL, and net.sparse = sp, a copy of its rows for this call)."""
    cdef CsrInput c
    cdef cnp.ndarray a
    if isinstance(X, CsrInput):
        c = <CsrInput>X
        if c.typenum != typenum:
            raise ValueError(f"core: X's values are {c.data.dtype}, the network's dtype is "
                             f"{np.dtype(np.float64 if typenum == cnp.NPY_DOUBLE else np.float32)}")
        sp[0] = c.sp
        net.sparse = sp
        xp[0] = NULL
        n[0] = c.n_rows
        n_in[0] = c.n_cols
        return 0
    if not (cnp.PyArray_Check(X) and cnp.PyArray_NDIM(<cnp.ndarray>X) == 2
            and cnp.PyArray_TYPE(<cnp.ndarray>X) == typenum and _plain(<cnp.ndarray>X)):
        raise ValueError("core: X must be a 2-D C-contiguous array of the network's dtype, "
                         "or a CsrInput")
    a = <cnp.ndarray>X
    xp[0] = cnp.PyArray_DATA(a)
    n[0] = a.shape[0]
    n_in[0] = a.shape[1]
    return 0


cdef inline void csr_select(Sparse *sp, const isz *order, isz start) noexcept nogil:
    """The training batch that starts at `start`: rows order[start:] of the
    matrix when shuffled (order not NULL), else rows start, start + 1, ..."""
    if order != NULL:
        sp.rows = order + start
    else:
        sp.rows = NULL
        sp.row0 = start


cdef inline isz csr_nnz(const Sparse *sp, isz n) noexcept nogil:
    return cyn_csr_batch_nnz(<const cyn_int *>sp.indptr, <const cyn_int *>sp.rows, sp.row0, n)


cdef bint csr_affine_watched(const Net *net, const floating *params, floating *Z, isz n,
                             Watch *watch) noexcept nogil:
    """The first layer's affine map (with its activation's first step, as
    affine) of the batch's n sparse rows into Z, then watch_tick. True when
    Ctrl-C was noted."""
    cdef const Sparse *sp = net.sparse
    cdef isz m = net.sizes[1]
    cdef const floating *W = params + net.offsets[0]
    cdef const floating *b = params + net.offsets[1]
    if floating is double:
        cyn_csr_affine_f64(<const double *>sp.data, <const cyn_int *>sp.indices,
                           <const cyn_int *>sp.indptr, <const cyn_int *>sp.rows, sp.row0, n,
                           W, b, Z, m, net.acts[0], net.act_params[0], net.n_threads)
    else:
        cyn_csr_affine_f32(<const float *>sp.data, <const cyn_int *>sp.indices,
                           <const cyn_int *>sp.indptr, <const cyn_int *>sp.rows, sp.row0, n,
                           W, b, Z, m, net.acts[0], <float>net.act_params[0], net.n_threads)
    return watch_tick(watch, (csr_nnz(sp, n) + n) * m)


cdef bint csr_wgrad_watched(const Net *net, const floating *D, floating *grads, isz n,
                            Watch *watch) noexcept nogil:
    """The first layer's weight and bias gradients from its delta D (n rows)
    and the batch's sparse rows, into grads' first layer (every entry
    written), then watch_tick."""
    cdef const Sparse *sp = net.sparse
    cdef isz k = net.sizes[0], m = net.sizes[1]
    if floating is double:
        cyn_csr_wgrad_f64(<const double *>sp.data, <const cyn_int *>sp.indices,
                          <const cyn_int *>sp.indptr, <const cyn_int *>sp.rows, sp.row0, n,
                          D, grads + net.offsets[0], grads + net.offsets[1], k, m,
                          net.n_threads)
    else:
        cyn_csr_wgrad_f32(<const float *>sp.data, <const cyn_int *>sp.indices,
                          <const cyn_int *>sp.indptr, <const cyn_int *>sp.rows, sp.row0, n,
                          D, grads + net.offsets[0], grads + net.offsets[1], k, m,
                          net.n_threads)
    return watch_tick(watch, (csr_nnz(sp, n) + k) * m)
