"""Out-of-core training: feed an estimator's ``partial_fit`` one block of rows at a time.

The data never have to fit in memory: a ``dask.array`` is computed one row
chunk at a time, and a NumPy array (typically a ``numpy.memmap`` or
``np.load(..., mmap_mode="r")`` of a ``.npy`` larger than memory) is read one
slice of ``block_size`` rows at a time. The blocks go to ``partial_fit`` in
row order, so the result is, bit for bit, that of the same ``partial_fit``
calls on the same blocks held in memory, whatever the scheduler or the
number of Dask workers that produced the blocks.

``dask`` is an optional extra (``pip install 'cyneuron[dask]'``), imported
only when a Dask collection is passed.
"""
from __future__ import annotations

import copy
import mmap
import numbers
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

__all__ = ["fit_blocks", "iter_blocks"]

# A NumPy array without block_size is read in slices of about this many bytes.
_DEFAULT_BLOCK_BYTES = 64 * 2**20


def _is_dask(a) -> bool:
    # a Dask collection implements the __dask_graph__ protocol; checking for it
    # keeps `dask` unimported for NumPy input
    return hasattr(a, "__dask_graph__") and callable(a.__dask_graph__)


def _dask():
    try:
        import dask
        import dask.array
    except ImportError as exc:  # pragma: no cover - exercised only without dask
        raise ImportError("training from a dask.array needs dask: "
                          "pip install 'cyneuron[dask]'") from exc
    return dask


def _shape(a, name):
    shape = getattr(a, "shape", None)
    if shape is None:
        raise TypeError(f"{name} must be an array (numpy, numpy.memmap or dask.array), "
                        f"got {type(a).__name__}")
    return tuple(shape)


def _bounds(X, block_size, n):
    """Row boundaries [(start, stop), ...] of the blocks."""
    if block_size is None and _is_dask(X):
        stops = np.cumsum(X.chunks[0]).tolist()
        starts = [0] + stops[:-1]
        return [(a, b) for a, b in zip(starts, stops) if b > a]
    if block_size is None:
        row_bytes = max(1, int(np.prod(X.shape[1:], dtype=np.int64)) * X.dtype.itemsize)
        block_size = max(1, _DEFAULT_BLOCK_BYTES // row_bytes)
    return [(a, min(a + block_size, n)) for a in range(0, n, block_size)]


def _check(X, y, sample_weight, block_size, epochs):
    xs = _shape(X, "X")
    if len(xs) != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features), got shape {xs}")
    n = xs[0]
    if n == 0:
        raise ValueError("X has no rows")
    for name, a in (("y", y), ("sample_weight", sample_weight)):
        if a is None and name == "sample_weight":
            continue
        s = _shape(a, name)
        if len(s) not in (1, 2) or s[0] != n:
            raise ValueError(f"{name} must have one row per row of X ({n}), got shape {s}")
        if _is_dask(a) and any(np.isnan(c).any() for c in a.chunks):
            raise ValueError(f"{name} has chunks of unknown size; call compute_chunk_sizes()")
    if _is_dask(X) and any(np.isnan(c).any() for c in X.chunks):
        raise ValueError("X has chunks of unknown size; call X.compute_chunk_sizes()")
    if block_size is not None and (isinstance(block_size, bool)
                                   or not isinstance(block_size, numbers.Integral)
                                   or block_size < 1):
        raise ValueError(f"block_size must be a positive int or None, got {block_size!r}")
    if isinstance(epochs, bool) or not isinstance(epochs, numbers.Integral) or epochs < 1:
        raise ValueError(f"epochs must be a positive int, got {epochs!r}")
    return n


def _rows(arrays, start, stop):
    """Rows start:stop of each array, as in-memory NumPy arrays (one dask.compute)."""
    parts = [None if a is None else a[start:stop] for a in arrays]
    lazy = [i for i, p in enumerate(parts) if p is not None and _is_dask(p)]
    if lazy:
        done = _dask().compute(*[parts[i] for i in lazy])
        for i, p in zip(lazy, done):
            parts[i] = p
    out: list[np.ndarray | None] = []
    for p in parts:
        if p is None:
            out.append(None)
            continue
        # a copy, so that the block is in memory and the file's pages can go
        block = np.array(p, order="C", copy=True) if isinstance(p, np.memmap) else \
            np.ascontiguousarray(np.asarray(p))
        if isinstance(p, np.memmap):
            _release(p)
        out.append(block)
    return out


def _release(view):
    """Drop the file pages under `view` from this process's resident set.

    Pages of a memory map that have been read stay mapped (and count in the
    process's RSS) until the kernel needs the memory, so reading a whole
    ``.npy`` through its map would look like holding all of it. For a
    shared map ("r", "r+") MADV_DONTNEED only unmaps them: the data stay in
    the file and the page cache and fault back in if read again. A private
    map ("c") would lose its writes, so it is left alone.
    """
    mm = getattr(view, "_mmap", None)
    if mm is None or getattr(view, "mode", None) not in ("r", "r+") or \
            not hasattr(mm, "madvise") or not hasattr(mmap, "MADV_DONTNEED"):
        return
    try:
        base = np.frombuffer(mm, dtype=np.uint8)
        start = base.__array_interface__["data"][0]
        del base
        low, high = np.lib.array_utils.byte_bounds(view)
        page = mmap.PAGESIZE
        lo = max(0, (low - start) // page * page)
        hi = min(len(mm), -(-(high - start) // page) * page)
        if hi > lo:
            mm.madvise(mmap.MADV_DONTNEED, lo, hi - lo)
    except (AttributeError, BufferError, OSError, TypeError, ValueError):
        pass  # only memory accounting is at stake


def iter_blocks(X: Any, y: Any = None, sample_weight: Any = None, *,
                block_size: int | None = None) -> Iterator[tuple[Any, ...]]:
    """Yield ``(X_block, y_block[, sample_weight_block])`` as NumPy arrays, in row order.

    Parameters
    ----------
    X : numpy.ndarray, numpy.memmap or dask.array of shape (n_samples, n_features)
        The data, read one block at a time.
    y : array of shape (n_samples,) or (n_samples, n_outputs), optional
        NumPy, memmap or Dask; sliced with the same row boundaries as ``X``.
    sample_weight : array of shape (n_samples,), optional
        Cut at the same rows as `X`.
    block_size : int, optional
        Rows per block. By default a ``dask.array``'s own row chunks, and for
        a NumPy array slices of about 64 MiB.

    Yields
    ------
    tuple of numpy.ndarray
        One block of each array that was given; only one block is in memory
        at a time (plus what the caller keeps).
    """
    n = _check(X, y if y is not None else X, sample_weight, block_size, 1)
    arrays = [X, y, sample_weight]
    for start, stop in _bounds(X, block_size, n):
        parts = _rows(arrays, start, stop)
        yield tuple(p for p, a in zip(parts, arrays) if a is not None)


def fit_blocks(estimator: Any, X: Any, y: Any, classes: Sequence | None = None,
               epochs: int = 1, *, block_size: int | None = None,
               sample_weight: Any = None) -> Any:
    """Train `estimator` on data too large for memory, one block of rows per ``partial_fit``.

    Parameters
    ----------
    estimator : estimator with ``partial_fit``
        A cyneuron ``MLPClassifier``/``MLPRegressor`` (solver ``"adam"`` or
        ``"sgd"``) or any scikit-learn-style incremental estimator. Trained
        in place; a fitted one continues from where it is.
    X : numpy.ndarray, numpy.memmap or dask.array of shape (n_samples, n_features)
        A ``.npy`` opened with ``np.load(path, mmap_mode="r")`` is read one
        block at a time; a ``dask.array`` is computed one block at a time (on
        the current Dask scheduler, a ``distributed.Client`` included).
    y : array of shape (n_samples,) or (n_samples, n_outputs)
        NumPy, memmap or Dask, cut at the same rows as ``X``.
    classes : array-like, optional
        Every class of the problem, passed to a classifier's ``partial_fit``;
        required when a classifier has not been fitted yet (a block need not
        hold every class).
    epochs : int, default=1
        Passes over the data; each pass visits the blocks in row order.
    block_size : int, optional
        Rows per block. By default a ``dask.array``'s own row chunks, and
        slices of about 64 MiB for a NumPy array.
    sample_weight : array of shape (n_samples,), optional
        Passed block by block to ``partial_fit``.

    Returns
    -------
    estimator
        The same estimator, trained.

    Raises
    ------
    ValueError
        For shapes that do not match, a bad ``block_size`` or ``epochs``, or
        a classifier without ``classes``, before any training; for an error
        in any block (e.g. NaN in the data), after putting the estimator
        back as it was.

    Notes
    -----
    The result is bit for bit that of::

        for _ in range(epochs):
            for Xb, yb in blocks:          # the same blocks, in memory
                estimator.partial_fit(Xb, yb, classes=classes)

    since ``partial_fit`` runs each block exactly as it would in memory. Each
    ``partial_fit`` call is one epoch over its block (with cyneuron's
    estimators, mini-batches of ``batch_size`` within it, shuffled by the
    estimator's own random state when ``shuffle=True``): the block size is
    part of the result, the scheduler and the number of workers are not.
    Peak memory is about one block of each array plus the network.
    """
    if not callable(getattr(estimator, "partial_fit", None)):
        raise TypeError(f"estimator must have a partial_fit method; "
                        f"{type(estimator).__name__} has none")
    _check(X, y, sample_weight, block_size, epochs)
    try:
        from sklearn.base import is_classifier as _is_classifier
        is_classifier = _is_classifier(estimator)
    except ImportError:  # pragma: no cover - a non-scikit-learn estimator
        is_classifier = getattr(estimator, "_estimator_type", None) == "classifier"
    fit_kw = {}
    if is_classifier:
        if classes is None and not hasattr(estimator, "classes_"):
            raise ValueError("classes must list every class when the classifier has not been "
                             "fitted yet: a block need not contain them all")
        if classes is not None:
            fit_kw["classes"] = classes
    elif classes is not None:
        raise ValueError(f"classes is for classifiers; {type(estimator).__name__} is not one")
    # a copy through the estimator's own pickled state (cyneuron's holds
    # arrays, numbers and strings only), put back if any block fails
    saved = copy.deepcopy(estimator)
    try:
        for _ in range(int(epochs)):
            for block in iter_blocks(X, y, sample_weight, block_size=block_size):
                if sample_weight is not None:
                    fit_kw["sample_weight"] = block[2]
                estimator.partial_fit(block[0], block[1], **fit_kw)
    except BaseException:
        estimator.__dict__.clear()
        estimator.__dict__.update(saved.__dict__)
        raise
    return estimator
