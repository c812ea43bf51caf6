"""Input checks and conversions: everything the compiled core may assume.

Each function either returns a C-contiguous array of the requested dtype
with the expected shape and only finite values, or raises a ValueError /
TypeError whose message names the argument and the problem.
"""
from __future__ import annotations

import numbers
import os

import numpy as np

from . import _native
from ._csr import CSRRows

_FLOAT_DTYPES = {"float64": np.float64, "float32": np.float32,
                 "double": np.float64, "single": np.float32}


def resolve_dtype(dtype):
    """'float64' or 'float32' (or the NumPy types) -> np.dtype."""
    if isinstance(dtype, str):
        key = dtype.lower()
        if key not in _FLOAT_DTYPES:
            raise ValueError(f"dtype must be 'float64' or 'float32', got {dtype!r}")
        return np.dtype(_FLOAT_DTYPES[key])
    if not (isinstance(dtype, (np.dtype, type)) or hasattr(dtype, "dtype")):
        raise TypeError(f"dtype must be 'float64' or 'float32', got {dtype!r:.60}")
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be 'float64' or 'float32', got {dtype!r:.60}") from None
    if dt not in (np.dtype(np.float64), np.dtype(np.float32)):
        raise ValueError(f"dtype must be 'float64' or 'float32' in native byte order, got "
                         f"{dt.str!r}")
    return dt.newbyteorder("=")


_NOT_NUMBERS = (str, bytes, complex, np.datetime64, np.timedelta64, np.complexfloating)


def _as_numeric_array(x, name):
    if x is None:
        raise TypeError(f"{name} must be an array of numbers, got None")
    if isinstance(x, (str, bytes)):
        raise TypeError(f"{name} must be an array of numbers, got {type(x).__name__}")
    if isinstance(x, np.ma.MaskedArray) and np.ma.is_masked(x):
        # np.asarray would hand over the values under the mask as if they were data
        raise TypeError(f"{name} is a masked array with {int(np.ma.count_masked(x))} masked "
                        f"value(s): fill them ({name}.filled(value)) or drop their rows")
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{name} could not be read as an array ({exc})") from None
    kind = arr.dtype.kind
    if kind not in "biuf":
        if kind == "c":
            raise TypeError(f"{name} must be real numbers, got complex dtype {arr.dtype}")
        if kind == "O":
            # float() takes strings ("1.5"), bytes, dates and durations as numpy
            # scalars (days since 1970) and numpy's complex (dropping the
            # imaginary part): none of them is a number here
            odd = {t for t in set(map(type, arr.flat)) if issubclass(t, _NOT_NUMBERS)}
            if odd:
                raise TypeError(f"{name} must be an array of numbers; it holds "
                                f"{', '.join(sorted(t.__name__ for t in odd))} objects")
            try:
                arr = arr.astype(np.float64)
            except OverflowError:
                raise ValueError(f"{name} holds an integer too large for a float") from None
            except (ValueError, TypeError) as exc:
                raise TypeError(f"{name} must be an array of numbers; it holds non-numeric "
                                f"objects or rows of different lengths ({exc})") from None
        else:
            raise TypeError(f"{name} must be an array of numbers, got dtype {arr.dtype}")
    return arr


def check_numeric(x, name):
    """x as an array of real numbers, not yet checked for shape or finiteness.

    Booleans, integers and floats pass as they are; an object array of
    numbers becomes float64. Strings, bytes, dates, durations and complex
    numbers raise a TypeError, an integer beyond the float range a
    ValueError, each naming `name`. Network and the estimators both use this.
    """
    return _as_numeric_array(x, name)


def all_finite(a):
    """True if the float array a holds no NaN or inf.

    np.isfinite(a).all() builds a boolean array as large as a; for a training
    set that allocation (and its page faults) costs more than an epoch of a
    small net, so contiguous arrays are checked by the core in one pass, and
    others in blocks.
    """
    core = _native.core_or_none()
    if (core is not None and a.dtype in (np.float64, np.float32) and a.flags.c_contiguous
            and a.flags.aligned):
        return core.all_finite(a.reshape(-1))
    flat = a.reshape(-1)
    step = 1 << 16
    return all(np.isfinite(flat[i:i + step]).all() for i in range(0, flat.size, step))


def as_float(arr, dtype, name):
    """Convert a numeric array to dtype (C order, aligned) and reject NaN/inf.

    Aligned too: a memoryview accepts an unaligned buffer, and the core's
    loops would then load misaligned values (undefined behaviour in C; UBSan
    stops on it), so such an array is copied like any other conversion.
    """
    if (isinstance(arr, np.ndarray) and arr.dtype == dtype and arr.flags.c_contiguous
            and arr.flags.aligned):
        out = arr                 # nothing to convert (the common case, and cheap)
    else:
        with np.errstate(over="ignore", invalid="ignore"):
            out = np.require(arr, dtype=dtype, requirements=["C", "A"])
    if not all_finite(out):
        raise ValueError(f"{name} contains NaN or infinity"
                         + (" (or values too large for float32)" if dtype == np.float32
                            and np.isfinite(np.asarray(arr, dtype=np.float64)).all() else ""))
    return out


def check_inputs(x, n_features, dtype, name="X"):
    """X as an (n, n_features) array; returns (array, was_1d).

    A scipy sparse X becomes a :class:`cyneuron._csr.CSRRows` instead
    (:func:`check_sparse`; never 1-D).
    """
    if is_sparse(x):
        return check_sparse(x, n_features, dtype, name), False
    arr = _as_numeric_array(x, name)
    single = arr.ndim == 1
    if arr.ndim == 0:
        raise ValueError(f"{name} must be 1-D (one sample) or 2-D (samples x features), got a scalar")
    if arr.ndim > 2:
        raise ValueError(f"{name} must be 1-D or 2-D, got {arr.ndim} dimensions {arr.shape}")
    if single:
        arr = arr.reshape(1, -1)
    if arr.shape[0] == 0 or arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}); it needs at least one sample")
    if arr.shape[1] != n_features:
        raise ValueError(f"{name} has {arr.shape[1]} features per sample, but the network "
                         f"expects {n_features}")
    return as_float(arr, dtype, name), single


def check_targets(y, n_samples, n_outputs, dtype, single, name="y"):
    """y as an (n_samples, n_outputs) array matching the inputs.

    With several outputs, a 1-D y (or a scalar for one sample) holds class
    indices and becomes one-hot rows.
    """
    arr = _as_numeric_array(y, name)
    if n_outputs > 1 and (arr.ndim == 1 and not (single and arr.shape[0] == n_outputs)
                          or arr.ndim == 0):
        return _one_hot(arr.reshape(-1), n_samples, n_outputs, dtype, name)
    if arr.ndim == 0:
        if n_outputs == 1 and n_samples == 1:
            arr = arr.reshape(1, 1)
        else:
            raise ValueError(f"{name} is a scalar, but {n_samples} sample(s) x {n_outputs} "
                             f"output(s) are expected")
    elif single and arr.ndim == 1 and arr.shape[0] == n_outputs:
        arr = arr.reshape(1, n_outputs)
    elif arr.ndim == 1 and n_outputs == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2 or arr.shape != (n_samples, n_outputs):
        if arr.size == 0:
            raise ValueError(f"{name} is empty (shape {arr.shape})")
        raise ValueError(f"{name} has shape {arr.shape}, but {n_samples} sample(s) and a "
                         f"network with {n_outputs} output(s) need ({n_samples}, {n_outputs})")
    return as_float(arr, dtype, name)


def _one_hot(labels, n_samples, n_classes, dtype, name):
    if labels.shape[0] != n_samples:
        raise ValueError(f"{name} has {labels.shape[0]} class labels for {n_samples} sample(s)")
    if labels.dtype.kind == "f":
        if not np.isfinite(labels).all() or np.any(labels != np.round(labels)):
            bad = labels[~(np.isfinite(labels) & (labels == np.round(labels)))][0]
            raise ValueError(f"{name} is 1-D, so it is read as class labels for the network's "
                             f"{n_classes} outputs, and class labels must be whole numbers "
                             f"(it holds {float(bad)!r}); targets for {n_classes} outputs have shape "
                             f"({n_samples}, {n_classes})")
    elif labels.dtype.kind == "b":
        raise TypeError(f"{name} as class labels must be integers, got booleans")
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(f"{name} has class labels outside [0, {n_classes}) "
                         f"(min {labels.min()}, max {labels.max()}); the network has "
                         f"{n_classes} outputs")
    out = np.zeros((n_samples, n_classes), dtype=dtype)
    out[np.arange(n_samples), labels.astype(np.intp)] = 1
    return out


def check_positive_int(value, name, minimum=1):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def check_real(value, name, minimum=None, strict=False, maximum=None, max_strict=False):
    """A finite real number within the given bounds."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    try:
        v = float(value)
    except OverflowError:
        raise ValueError(f"{name} must be finite, got an integer too large for a float "
                         f"({str(value)[:20]}...)") from None
    if v != v or v in (float("inf"), float("-inf")):
        raise ValueError(f"{name} must be finite, got {value}")
    if minimum is not None and (v < minimum or (strict and v == minimum)):
        raise ValueError(f"{name} must be {'>' if strict else '>='} {minimum}, got {value}")
    if maximum is not None and (v > maximum or (max_strict and v == maximum)):
        raise ValueError(f"{name} must be {'<' if max_strict else '<='} {maximum}, got {value}")
    return v


# float32 rounds to infinity from 2**128 - 2**103 on (half an ulp above its
# largest value; the tie goes to infinity, whose mantissa is even)
_F32_OVERFLOW = 2.0 ** 128 - 2.0 ** 103


def check_fits(value, dtype, name):
    """value (a finite float) must stay finite in dtype: 1e39 is finite in
    float64 but inf in float32, and would turn the weights inf without a word."""
    if dtype == np.float32 and abs(value) >= _F32_OVERFLOW:
        raise ValueError(f"{name}={value:g} is too large for a float32 network (it "
                         f"overflows to infinity)")
    return value


MAX_THREADS = 64   # the core's limit (csrc/cyn_kernels.c, CYN_MAX_THREADS)


def check_threads(value):
    """n_threads: a positive int up to MAX_THREADS, or -1 for every usable CPU."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"n_threads must be an int, got {type(value).__name__}")
    value = int(value)
    if value == -1:
        try:
            value = len(os.sched_getaffinity(0))
        except AttributeError:          # not on Linux
            value = os.cpu_count() or 1
        return max(1, min(value, MAX_THREADS))
    if not 1 <= value <= MAX_THREADS:
        raise ValueError(f"n_threads must be between 1 and {MAX_THREADS}, or -1 for all "
                         f"CPUs; got {value}")
    return value


#: Environment variable that sets the bytes one network or one fit may need
#: (default: the machine's physical memory).
MEMORY_ENV = "CYNEURON_MAX_BYTES"


def memory_limit() -> int:
    """Bytes one network or one call may need before it is refused.

    ``CYNEURON_MAX_BYTES`` (a positive integer) if set, else the machine's
    physical memory (``os.sysconf``), else no limit (2**63).
    """
    env = os.environ.get(MEMORY_ENV)
    if env is not None:
        try:
            limit = int(env)
        except ValueError:
            raise ValueError(f"{MEMORY_ENV} must be a positive integer (bytes), got "
                             f"{env!r:.40}") from None
        if limit < 1:
            raise ValueError(f"{MEMORY_ENV} must be a positive integer (bytes), got {env!r:.40}")
        return limit
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):     # not POSIX, or not reported
        return 1 << 63


def _gib(n):
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**20:.1f} MiB"


def check_memory(need: int, what: str) -> None:
    """Refuse, before anything is allocated, what would need more than
    :func:`memory_limit` bytes; `what` names the argument(s) responsible."""
    limit = memory_limit()
    if need > limit:
        source = (f"{MEMORY_ENV}={limit}" if os.environ.get(MEMORY_ENV) is not None
                  else f"the {_gib(limit)} of physical memory")
        raise ValueError(f"{what} needs {_gib(need)} ({need} bytes), more than {source}; "
                         f"set {MEMORY_ENV} to raise the limit")


# --- sparse inputs (issue 29) -----------------------------------------------------
# A scipy sparse X (matrix or array; CSR, CSC or COO) is checked as thoroughly
# as a dense one and converted once into a CSRRows: values of the network's
# dtype, every row's columns sorted and unique (duplicates summed in storage
# order, as X.toarray() sums them), intp indices. Nothing is densified.
# scipy is not a dependency: it is imported only when X comes from it.

SPARSE_FORMATS = ("csr", "csc", "coo")


def is_sparse(x):
    """True for a scipy sparse matrix or array (scipy is imported only if x's
    type comes from it)."""
    if not type(x).__module__.startswith("scipy.sparse"):
        return False
    import scipy.sparse
    return bool(scipy.sparse.issparse(x))


def check_sparse(x, n_features, dtype, name="X"):
    """A scipy sparse X of shape (n, n_features) as a CSRRows of `dtype`.

    Raises
    ------
    TypeError
        For a format other than CSR, CSC or COO, or values that are not real
        numbers; the message says "sparse" and names the argument.
    ValueError
        For a shape that does not fit, a malformed structure (index pointers,
        indices out of range), or NaN or infinity among the stored values.
    """
    fmt = getattr(x, "format", None)
    if fmt not in SPARSE_FORMATS:
        raise TypeError(f"{name} is a sparse matrix in {fmt!r} format; cyneuron takes sparse "
                        f"CSR, CSC or COO (convert with {name}.tocsr())")
    if x.ndim != 2:
        raise ValueError(f"{name} is a {x.ndim}-D sparse array; it must be 2-D "
                         f"(samples x features)")
    n, width = (int(d) for d in x.shape)
    if n == 0 or width == 0:
        raise ValueError(f"{name} is empty (sparse, shape {(n, width)}); it needs at least "
                         f"one sample")
    if width != n_features:
        raise ValueError(f"{name} (sparse) has {width} features per sample, but the network "
                         f"expects {n_features}")
    values = np.asarray(x.data)
    kind = values.dtype.kind
    if kind not in "biuf":
        what = "complex" if kind == "c" else "non-numeric"
        raise TypeError(f"{name} is sparse with {what} values (dtype {values.dtype}); it must "
                        f"hold real numbers")
    if fmt == "coo":
        rows, cols = _coo_coords(x, name)
        nnz = values.shape[0]
        if rows.shape != (nnz,) or cols.shape != (nnz,):
            raise ValueError(f"{name} is a malformed sparse COO matrix: {rows.size} row and "
                             f"{cols.size} column indices for {nnz} values")
        _check_range(rows, n, name, "row")
        _check_range(cols, width, name, "column")
    else:
        major, minor = (n, width) if fmt == "csr" else (width, n)
        indptr = np.asarray(x.indptr)
        indices = np.asarray(x.indices)
        if (indptr.ndim != 1 or indptr.shape[0] != major + 1 or indptr.dtype.kind not in "iu"
                or indices.ndim != 1 or indices.dtype.kind not in "iu"):
            raise ValueError(f"{name} is a malformed sparse {fmt.upper()} matrix: its indptr "
                             f"must hold {major + 1} integers")
        nnz = int(indptr[-1])
        if (indptr[0] != 0 or np.any(np.diff(indptr) < 0) or nnz > indices.shape[0]
                or nnz > values.shape[0]):
            raise ValueError(f"{name} is a malformed sparse {fmt.upper()} matrix: its indptr "
                             f"must start at 0, never decrease, and end within its "
                             f"{min(indices.shape[0], values.shape[0])} stored entries")
        indices, values = indices[:nnz], values[:nnz]
        _check_range(indices, minor, name, "column" if fmt == "csr" else "row")
        lines = np.repeat(np.arange(major, dtype=np.intp), np.diff(indptr))
        rows, cols = (lines, indices) if fmt == "csr" else (indices, lines)
    if kind == "f" and not all_finite(np.ascontiguousarray(values)):
        raise ValueError(f"{name} is sparse and its stored values ({name}.data) contain NaN "
                         f"or infinity")
    indptr_out, cols, values = _canonical(rows, cols, values, n, fmt == "csr")
    with np.errstate(over="ignore"):
        data = np.require(values, dtype=dtype, requirements=["C", "A"])
    if not all_finite(data):
        raise ValueError(f"{name} is sparse and its stored values are too large for float32")
    return CSRRows(data, np.require(cols, dtype=np.intp, requirements=["C", "A"]),
                   indptr_out, width)


def _coo_coords(x, name):
    coords = getattr(x, "coords", None)
    if coords is None:                     # scipy before 1.13
        coords = (x.row, x.col)
    rows, cols = (np.asarray(c) for c in coords)
    if rows.dtype.kind not in "iu" or cols.dtype.kind not in "iu":
        raise ValueError(f"{name} is a malformed sparse COO matrix: its coordinates must be "
                         f"integers")
    return rows, cols


def _check_range(idx, bound, name, what):
    if idx.size and (idx.min() < 0 or idx.max() >= bound):
        raise ValueError(f"{name} is a malformed sparse matrix: a {what} index lies outside "
                         f"[0, {bound})")


def _canonical(rows, cols, values, n, row_major):
    """(indptr, columns, values) of the entries (rows, cols, values), given in
    storage order: sorted by row, then column; duplicates summed in storage
    order from 0, as toarray() sums them. Already canonical CSR is kept."""
    nnz = values.shape[0]
    if row_major and (nnz < 2 or bool(np.all((np.diff(cols) > 0) | (np.diff(rows) > 0)))):
        order = None
    else:
        order = np.lexsort((cols, rows))       # stable: duplicates keep storage order
        rows, cols, values = rows[order], cols[order], values[order]
    if order is not None and nnz > 1:
        first = np.ones(nnz, dtype=bool)
        first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
        if not first.all():
            starts = np.flatnonzero(first)
            sizes = np.diff(np.append(starts, nnz))
            summed = np.zeros(starts.shape[0], dtype=values.dtype)
            for t in range(int(sizes.max())):
                sel = sizes > t
                summed[sel] = summed[sel] + values[starts[sel] + t]
            rows, cols, values = rows[starts], cols[starts], summed
    indptr = np.zeros(n + 1, dtype=np.intp)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    return indptr, cols, values
