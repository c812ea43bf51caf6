"""A validated sparse input: rows in compressed sparse row (CSR) form.

``Network`` turns a scipy sparse X (CSR, CSC or COO, matrix or array) into
one :class:`CSRRows` once (``cyneuron._validation.check_sparse``): values of
the network's dtype, every row's column indices sorted and unique, indices
and row pointers of NumPy's ``intp``. The reference (``reference.affine``,
``reference.weight_gradient``) and the compiled core (``_core_sparse.pxi``)
read it as it is; nothing densifies it. It holds no scipy object, so neither
needs scipy.

It answers the few questions the training code asks of an input array:
``shape``, ``dtype``, ``ndim``, and ``x[rows]`` for a slice or an integer
array of rows (a validation split, a mini-batch, the first rows for the
divergence check), which gives another CSRRows without copying the rest of
the matrix.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray


class CSRRows:
    """Rows of a sparse matrix in canonical CSR form.

    Parameters
    ----------
    data : numpy.ndarray of shape (nnz,)
        The stored values, float64 or float32, C order.
    indices : numpy.ndarray of intp, shape (nnz,)
        Their columns; strictly increasing within each row.
    indptr : numpy.ndarray of intp, shape (n_rows + 1,)
        Row r's entries are ``[indptr[r], indptr[r + 1])``; ``indptr[0] == 0``.
    n_cols : int
        The matrix's width.

    The constructor trusts its arguments (``cyneuron._validation.check_sparse``
    builds them); the compiled core checks the structure again.
    """

    __slots__ = ("data", "indices", "indptr", "shape")
    ndim = 2

    def __init__(self, data: NDArray[Any], indices: NDArray[np.intp], indptr: NDArray[np.intp],
                 n_cols: int) -> None:
        self.data = data
        self.indices = indices
        self.indptr = indptr
        self.shape = (int(indptr.shape[0]) - 1, int(n_cols))

    @property
    def dtype(self) -> np.dtype[Any]:
        """The values' dtype (the network's)."""
        return self.data.dtype

    @property
    def nnz(self) -> int:
        """The number of stored entries."""
        return int(self.indptr[-1])

    def row_lengths(self) -> NDArray[np.intp]:
        """Stored entries per row."""
        return np.diff(self.indptr)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, rows: slice | NDArray[np.integer[Any]]) -> CSRRows:
        """The rows `rows` (a slice, or an integer array of row numbers) as a CSRRows.

        A slice with step 1 shares the values and indices; an index array
        copies only the rows it names, in its order.
        """
        n = self.shape[0]
        if isinstance(rows, slice):
            start, stop, step = rows.indices(n)
            if step == 1:
                stop = max(start, stop)
                p0, p1 = self.indptr[start], self.indptr[stop]
                return CSRRows(self.data[p0:p1], self.indices[p0:p1],
                               self.indptr[start:stop + 1] - p0, self.shape[1])
            rows = np.arange(start, stop, step)
        return self.take(np.asarray(rows))

    def take(self, rows: NDArray[np.integer[Any]]) -> CSRRows:
        """The rows numbered `rows`, in that order, as a new CSRRows."""
        rows = np.asarray(rows, dtype=np.intp).reshape(-1)
        starts = self.indptr[rows]
        lengths = self.indptr[rows + 1] - starts
        indptr = np.zeros(rows.shape[0] + 1, dtype=np.intp)
        np.cumsum(lengths, out=indptr[1:])
        # position q of the result takes entry starts[row] + (q - indptr[row])
        src = np.arange(indptr[-1], dtype=np.intp) + np.repeat(starts - indptr[:-1], lengths)
        return CSRRows(self.data[src], self.indices[src], indptr, self.shape[1])

    def toarray(self) -> NDArray[Any]:
        """The dense copy (for tests and small matrices only)."""
        out = np.zeros(self.shape, dtype=self.dtype)
        rows = np.repeat(np.arange(self.shape[0]), self.row_lengths())
        out[rows, self.indices] = self.data
        return out

    def __repr__(self) -> str:
        return (f"CSRRows(shape={self.shape}, nnz={self.nnz}, dtype={self.dtype.name})")
