"""Classification metrics on label vectors (integer counts: exact on every machine)."""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def to_labels(a: ArrayLike) -> np.ndarray:
    """Class labels from network outputs or targets.

    Parameters
    ----------
    a : array-like
        Labels (1-D, returned as int64), one probability column (threshold
        0.5) or one column per class (first argmax).

    Returns
    -------
    ndarray of int64
        One label per sample.

    Raises
    ------
    ValueError
        1-D values that are not whole numbers, or more than 2 dimensions.
    TypeError
        1-D values that are not numbers.
    """
    a = np.asarray(a)
    if a.ndim == 1:
        if a.dtype.kind == "f" and not _whole(a).all():
            # 0.7 would become 0: probabilities of one output come as a column
            raise ValueError("a 1-D input is labels (whole numbers); give the probabilities "
                             "of one output as a column of shape (n, 1)")
        if a.dtype.kind not in "biuf":
            raise TypeError(f"labels must be integers, got dtype {a.dtype}")
        return a.astype(np.int64)
    if a.ndim != 2:
        raise ValueError(f"expected labels (1-D) or outputs (2-D), got shape {a.shape}")
    if a.shape[1] == 1:
        return (a[:, 0] > 0.5).astype(np.int64)
    return np.argmax(a, axis=1)


def _whole(x: np.ndarray) -> np.ndarray:
    """Which values of the float array `x` are whole numbers (finite, no fraction)."""
    return np.isfinite(x) & (x == np.floor(x))


def _labels(y_true: ArrayLike, y_pred: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Two 1-D label vectors of one length, or a ValueError naming the one that is not."""
    a, b = np.asarray(y_true), np.asarray(y_pred)
    for name, x in (("y_true", a), ("y_pred", b)):
        if x.ndim != 1:
            raise ValueError(f"{name} must be a 1-D vector of labels, got shape {x.shape} "
                             f"(to_labels turns outputs into labels)")
    if a.shape != b.shape:
        raise ValueError(f"y_true has {a.size} labels but y_pred has {b.size}")
    return a, b


def _class_indices(x: np.ndarray, name: str, n_classes: int | None) -> np.ndarray:
    """`x` as int64 class indices: whole numbers in [0, n_classes)."""
    if x.dtype.kind == "b":
        x = x.astype(np.int64)
    if x.dtype.kind == "f":
        whole = _whole(x)
        if not whole.all():
            raise ValueError(f"{name} must hold class indices (whole numbers), got "
                             f"{x[~whole][0]!r}")
    elif x.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold class indices (integers), got dtype {x.dtype}")
    out = x.astype(np.int64)
    if out.size and out.min() < 0:
        raise ValueError(f"{name} must hold class indices >= 0, got {out.min()}")
    if n_classes is not None and out.size and out.max() >= n_classes:
        raise ValueError(f"{name} holds class {out.max()}, but n_classes is {n_classes}")
    return out


def confusion_matrix(y_true: ArrayLike, y_pred: ArrayLike,
                     n_classes: int | None = None) -> np.ndarray:
    """``C[i, j]``: the number of samples of true class i predicted as class j.

    Parameters
    ----------
    y_true, y_pred : array-like of int
        The true and the predicted labels, 0 to n_classes - 1.
    n_classes : int, optional
        Defaults to one more than the largest label seen.

    Returns
    -------
    ndarray of int64, shape (n_classes, n_classes)
        Rows are true classes, columns predicted ones.

    Raises
    ------
    ValueError
        Not 1-D, different lengths, a label that is negative, not a whole
        number, or not below `n_classes`; `n_classes` not a positive integer.
    TypeError
        Labels that are not numbers.
    """
    a, b = _labels(y_true, y_pred)
    if n_classes is not None and (isinstance(n_classes, bool)
                                  or not isinstance(n_classes, (int, np.integer))
                                  or n_classes < 1):
        raise ValueError(f"n_classes must be a positive integer, got {n_classes!r}")
    y_true, y_pred = _class_indices(a, "y_true", n_classes), _class_indices(b, "y_pred", n_classes)
    if n_classes is None:
        n_classes = int(max(y_true.max(initial=0), y_pred.max(initial=0))) + 1
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (y_true, y_pred), 1)
    return cm


def accuracy(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """The fraction of labels predicted right (0.0 for no samples).

    Parameters
    ----------
    y_true, y_pred : array-like
        The true and the predicted labels: 1-D, of one length (any values
        that compare, strings included).

    Returns
    -------
    float
        In [0, 1].

    Raises
    ------
    ValueError
        Not 1-D, or of different lengths.
    """
    a, b = _labels(y_true, y_pred)
    return float(np.mean(a == b)) if a.size else 0.0


def precision_recall_f1(y_true: ArrayLike, y_pred: ArrayLike, average: str = "macro",
                        n_classes: int | None = None) -> tuple[float, float, float]:
    """Precision, recall and F1 of integer labels.

    A class with no predicted (or no true) samples scores 0, as in
    scikit-learn's ``zero_division=0``.

    Parameters
    ----------
    y_true, y_pred : array-like of int
        The true and the predicted labels, 0 to n_classes - 1.
    average : {"macro", "binary"}, default="macro"
        "binary" scores class 1, "macro" averages over the classes.
    n_classes : int, optional
        Defaults to one more than the largest label seen.

    Returns
    -------
    (precision, recall, f1) : tuple of float
        Each in [0, 1].

    Raises
    ------
    ValueError, TypeError
        As :func:`confusion_matrix`; an unknown `average`.
    """
    cm = confusion_matrix(y_true, y_pred, n_classes)
    tp = np.diag(cm).astype(np.float64)
    pred = cm.sum(axis=0).astype(np.float64)
    true = cm.sum(axis=1).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(pred > 0, tp / pred, 0.0)
        r = np.where(true > 0, tp / true, 0.0)
        f = np.where(p + r > 0, 2 * p * r / (p + r), 0.0)
    if average == "binary":
        if cm.shape[0] > 2:
            raise ValueError("average='binary' needs two classes; use 'macro'")
        k = 1 if cm.shape[0] > 1 else 0
        return float(p[k]), float(r[k]), float(f[k])
    if average == "macro":
        return float(p.mean()), float(r.mean()), float(f.mean())
    raise ValueError(f"average must be 'binary' or 'macro', got {average!r}")


def classification_report(y_true_labels: ArrayLike, y_pred_labels: ArrayLike,
                          n_classes: int) -> dict:
    """The metrics ``Network.evaluate`` returns for a classifier.

    Parameters
    ----------
    y_true_labels, y_pred_labels : array-like of int
        The true and the predicted labels, 0 to n_classes - 1.
    n_classes : int
        Two gives binary precision/recall/F1, more gives macro averages.

    Returns
    -------
    dict
        accuracy, precision, recall, f1 and confusion_matrix.
    """
    avg = "binary" if n_classes == 2 else "macro"
    p, r, f = precision_recall_f1(y_true_labels, y_pred_labels, avg, n_classes)
    return {"accuracy": accuracy(y_true_labels, y_pred_labels), "precision": p, "recall": r,
            "f1": f, "confusion_matrix": confusion_matrix(y_true_labels, y_pred_labels,
                                                          n_classes)}
