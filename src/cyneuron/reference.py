"""The pure-NumPy reference implementation: cyneuron's executable spec.

This is the tutorials' algorithm (a feed-forward net, sigmoid and friends,
squared-error losses, backpropagation, gradient descent), written so that
every floating-point operation happens in one documented order:

* an affine map ``z[i, j] = (((0 + x[i,0]*W[0,j]) + x[i,1]*W[1,j]) + ...) + b[j]``;
  products are spelled out instead of ``X @ W`` because BLAS sums in an order
  that depends on the machine and the thread count;
* sums over the batch (weight and bias gradients) run in sample order;
* every other sum runs left to right over C order, starting at +0.0;
* every constant has the array's dtype, so float32 stays float32.

``backend="numpy"`` runs this module; the compiled core performs the same
operations in the same order and must agree with it bit for bit.

Weights are a list of ``(W, b)`` pairs, ``W`` of shape ``(n_in, n_out)``.

Transcendental functions (exp, tanh, log, log1p) are NumPy's by default
(``numerics="numpy"``: agreement with the installed NumPy on this machine).
Inside ``with numerics("portable"):`` they are cyneuron's own fixed
sequences of IEEE operations (``cyneuron._portable_reference``), which give
the same bits on every machine.
"""
from __future__ import annotations

import contextlib
import contextvars
import types
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, overload

import numpy as np
from numpy.typing import NDArray

from . import _portable_reference
from ._csr import CSRRows

if TYPE_CHECKING:   # the registry imports this module
    from ._registry import Activation, Loss, Optimizer

__all__ = [
    "seqsum", "row_sums", "sample_sum", "affine", "backprop", "weight_gradient",
    "sigmoid", "sigmoid_derivative", "tanh", "tanh_derivative", "relu", "relu_derivative",
    "leaky_relu", "leaky_relu_derivative", "identity", "identity_derivative",
    "softplus", "softplus_derivative", "silu", "silu_derivative", "elu", "elu_derivative",
    "gelu", "gelu_derivative",
    "softmax", "softmax_backward", "mse", "mse_gradient", "sse", "sse_gradient",
    "binary_crossentropy", "binary_crossentropy_delta", "categorical_crossentropy",
    "categorical_crossentropy_delta", "forward", "feedforward", "penalty", "gradients",
    "clip_by_norm", "optimizer_step", "sgd_update", "momentum_update", "rmsprop_update",
    "adam_update", "epoch_order", "dropout_mask", "batch_masks",
    "train_epoch",
    "sgd_step", "train_step", "fit", "numerics", "NUMERICS",
    "sparse_affine", "sparse_weight_gradient",
]


NUMERICS = ("numpy", "portable")
_MATH = {
    "numpy": types.SimpleNamespace(exp=np.exp, tanh=np.tanh, log=np.log, log1p=np.log1p),
    "portable": types.SimpleNamespace(exp=_portable_reference.exp, tanh=_portable_reference.tanh,
                                      log=_portable_reference.log,
                                      log1p=_portable_reference.log1p),
}
_numerics = contextvars.ContextVar("cyneuron_numerics", default="numpy")

# names of the annotations (the docstrings give shapes and dtypes)
FloatArray = NDArray[np.floating[Any]]
Scalar = np.floating[Any]                  # a 0-d result in an array's dtype
Pair = tuple[FloatArray, FloatArray]       # (W, b), or (dW, db)
Weights = list[Pair]
Masks = list[FloatArray | None]            # one dropout multiplier per layer, or None


@contextlib.contextmanager
def numerics(name: str) -> Iterator[None]:
    """Run the reference with the transcendental functions of ``name``.

    Parameters
    ----------
    name : {"numpy", "portable"}
        ``"numpy"``: NumPy's ``exp``/``tanh``/``log``/``log1p``; ``"portable"``:
        cyneuron's own, the same bits on every machine. The setting is local to
        the calling thread (a context variable).

    Yields
    ------
    None
        The body of the ``with`` statement runs with `name`'s functions.
    """
    if name not in _MATH:
        raise ValueError(f"numerics must be one of {NUMERICS}, got {name!r}")
    token = _numerics.set(name)
    try:
        yield
    finally:
        _numerics.reset(token)


def _m() -> types.SimpleNamespace:
    """exp, tanh, log and log1p of the numerics in effect (see `numerics`)."""
    return _MATH[_numerics.get()]


def _c(x: FloatArray, value: float) -> Scalar:
    """The constant `value` in the dtype of array x."""
    return x.dtype.type(value)


# --- sums in a fixed order ---------------------------------------------------

def seqsum(x: FloatArray) -> Scalar:
    """Sum of all elements of x in C order, left to right, starting at +0.0.

    ``np.sum`` is pairwise; ``np.add.accumulate`` is sequential by definition.

    Parameters
    ----------
    x : ndarray
        Any shape, floating dtype.

    Returns
    -------
    scalar of x's dtype
        The sum (+0.0 for an empty x).
    """
    flat = np.concatenate((np.zeros(1, dtype=x.dtype), np.ravel(x)))
    return np.add.accumulate(flat)[-1]


def row_sums(x: FloatArray) -> FloatArray:
    """Sum of each row of a 2-D array, left to right from +0.0; shape (n, 1).

    Parameters
    ----------
    x : ndarray, shape (n, m)
        The rows to sum.

    Returns
    -------
    ndarray, shape (n, 1)
        The row sums, in x's dtype.
    """
    s = np.zeros((x.shape[0], 1), dtype=x.dtype)
    for j in range(x.shape[1]):
        s = s + x[:, j:j + 1]
    return s


def sample_sum(d: FloatArray) -> FloatArray:
    """Sum over the rows (samples) of a 2-D array, in sample order from +0.0.

    Parameters
    ----------
    d : ndarray, shape (n, m)
        One row per sample, e.g. a layer's delta.

    Returns
    -------
    ndarray, shape (m,)
        The column sums, in d's dtype.
    """
    s = np.zeros(d.shape[1], dtype=d.dtype)
    for row in d:
        s = s + row
    return s


# --- the three products of a layer --------------------------------------------

def affine(x: FloatArray | CSRRows, W: FloatArray, b: FloatArray) -> FloatArray:
    """z = x @ W + b, summed over the inputs k from left to right.

    The bias is added last, after the sum over k.

    Parameters
    ----------
    x : ndarray, shape (n, n_in)
        The layer's input (the previous layer's output), in W's dtype.
    W : ndarray, shape (n_in, n_out)
        The layer's weight matrix.
    b : ndarray, shape (n_out,)
        The layer's bias.

    Returns
    -------
    z : ndarray, shape (n, n_out)
        The layer's pre-activation, in W's dtype.

    Notes
    -----
    A sparse x (a :class:`cyneuron._csr.CSRRows`, the first layer's input)
    takes `sparse_affine`.
    """
    if isinstance(x, CSRRows):
        return sparse_affine(x, W, b)
    z = np.zeros((x.shape[0], W.shape[1]), dtype=W.dtype)
    for k in range(W.shape[0]):
        z = z + x[:, k:k + 1] * W[k]
    return z + b


def backprop(delta: FloatArray, W: FloatArray) -> FloatArray:
    """delta @ W.T (the error sent to the previous layer), summed over outputs in order.

    Parameters
    ----------
    delta : ndarray, shape (n, n_out)
        dL/dz of this layer.
    W : ndarray, shape (n_in, n_out)
        This layer's weight matrix.

    Returns
    -------
    g : ndarray, shape (n, n_in)
        dL/da of the previous layer's output (after its dropout), in W's dtype.
    """
    g = np.zeros((delta.shape[0], W.shape[0]), dtype=W.dtype)
    for j in range(W.shape[1]):
        g = g + delta[:, j:j + 1] * W[:, j]
    return g


def weight_gradient(a_prev: FloatArray | CSRRows, delta: FloatArray) -> Pair:
    """(a_prev.T @ delta, delta summed over samples), both in sample order.

    Parameters
    ----------
    a_prev : ndarray, shape (n, n_in)
        The layer's input (the previous layer's output).
    delta : ndarray, shape (n, n_out)
        dL/dz of this layer.

    Returns
    -------
    dW : ndarray, shape (n_in, n_out)
        Sum over samples of ``outer(a_prev[i], delta[i])``, in delta's dtype.
    db : ndarray, shape (n_out,)
        ``sample_sum(delta)``.

    Notes
    -----
    A sparse a_prev (:class:`cyneuron._csr.CSRRows`) takes
    `sparse_weight_gradient`.
    """
    if isinstance(a_prev, CSRRows):
        return sparse_weight_gradient(a_prev, delta)
    dW = np.zeros((a_prev.shape[1], delta.shape[1]), dtype=delta.dtype)
    for a_row, d_row in zip(a_prev, delta):
        dW = dW + np.outer(a_row, d_row)
    return dW, sample_sum(delta)


# --- sparse inputs (issue 29): the first layer's products over CSR rows ------
# A sparse X is a CSRRows: every row's stored columns sorted and unique. Its
# products are `affine` and `weight_gradient` with the terms of the zero
# entries left out, every remaining operation in the dense order. A left-out
# term x*w with x = 0 is a signed zero when w is finite, and adding a signed
# zero to a sum that started at +0.0 never changes it (an exact zero sum is
# +0.0, and +0.0 + -0.0 = +0.0). So both equal the dense products on the
# densified x, to the bit, whenever the weights (for the affine map) and the
# deltas (for the weight gradient) are finite. Where a weight is inf or NaN,
# the dense product has 0 * inf = NaN terms that the sparse one does not:
# that is the one place the two differ (fit never leaves such weights).

def sparse_affine(x: CSRRows, W: FloatArray, b: FloatArray) -> FloatArray:
    """`affine` of a sparse x: every output sums the row's stored terms only.

    ``z[i, j] = +0.0``, then ``z[i, j] + x[i, k] * W[k, j]`` over row i's
    stored k in increasing order, then ``+ b[j]``: the dense order without
    the zero entries' terms.

    Parameters
    ----------
    x : CSRRows, shape (n, n_in)
        The batch's inputs, values in W's dtype.
    W : ndarray, shape (n_in, n_out)
        The layer's weight matrix.
    b : ndarray, shape (n_out,)
        The layer's bias.

    Returns
    -------
    z : ndarray, shape (n, n_out)
        Bit for bit ``affine(x.toarray(), W, b)`` when W is finite.
    """
    z = np.zeros((x.shape[0], W.shape[1]), dtype=W.dtype)
    lengths = x.row_lengths()
    starts = x.indptr[:-1]
    # the p-th stored entry of every row that has one, all rows at once: each
    # row still adds its terms in increasing k
    for p in range(int(lengths.max(initial=0))):
        rows = np.flatnonzero(lengths > p)
        q = starts[rows] + p
        z[rows] = z[rows] + x.data[q, None] * W[x.indices[q]]
    return z + b


def sparse_weight_gradient(x: CSRRows, delta: FloatArray) -> Pair:
    """`weight_gradient` of a sparse x: each sample adds its stored rows' terms.

    ``dW = +0.0``, then for each sample i in order ``dW[k] + x[i, k] * delta[i]``
    for row i's stored k; ``db = sample_sum(delta)``.

    Parameters
    ----------
    x : CSRRows, shape (n, n_in)
        The layer's (the first layer's) input.
    delta : ndarray, shape (n, n_out)
        dL/dz of the layer.

    Returns
    -------
    dW : ndarray, shape (n_in, n_out)
        Bit for bit ``weight_gradient(x.toarray(), delta)[0]`` when delta is finite.
    db : ndarray, shape (n_out,)
        ``sample_sum(delta)``.
    """
    dW = np.zeros((x.shape[1], delta.shape[1]), dtype=delta.dtype)
    for i, d_row in enumerate(delta):
        p0, p1 = x.indptr[i], x.indptr[i + 1]
        k = x.indices[p0:p1]
        dW[k] = dW[k] + np.outer(x.data[p0:p1], d_row)
    return dW, sample_sum(delta)


# --- activations: f(z), and f'(z) expressed through a = f(z), or through z
# where a does not determine it (softplus, silu, elu, gelu: the registry's from_input) ---

def sigmoid(z: FloatArray) -> FloatArray:
    """1 / (1 + exp(-z)), with NumPy's exp.

    Parameters
    ----------
    z : ndarray
        The layer's pre-activation, shape (n, m) in a network.

    Returns
    -------
    a : ndarray
        The activation output, shaped like z, in z's dtype.
    """
    one = _c(z, 1)
    return one / (one + _m().exp(-z))


def sigmoid_derivative(a: FloatArray) -> FloatArray:
    """sigmoid'(z) = a * (1 - a), written through the output a.

    The tutorials' ``x * (x - 1)`` has the wrong sign.

    Parameters
    ----------
    a : ndarray
        The activation output ``sigmoid(z)``.

    Returns
    -------
    ndarray
        sigmoid'(z) elementwise, shaped like a, in a's dtype.
    """
    return a * (_c(a, 1) - a)


def tanh(z: FloatArray) -> FloatArray:
    """tanh(z), with NumPy's tanh.

    Parameters
    ----------
    z : ndarray
        The layer's pre-activation, shape (n, m) in a network.

    Returns
    -------
    a : ndarray
        The activation output, shaped like z, in z's dtype.
    """
    return _m().tanh(z)


def tanh_derivative(a: FloatArray) -> FloatArray:
    """tanh'(z) = 1 - a * a, written through the output a.

    Parameters
    ----------
    a : ndarray
        The activation output ``tanh(z)``.

    Returns
    -------
    ndarray
        tanh'(z) elementwise, shaped like a, in a's dtype.
    """
    return _c(a, 1) - a * a


def relu(z: FloatArray) -> FloatArray:
    """max(z, 0): NaN stays NaN and -0.0 becomes +0.0 (argument order matters).

    Parameters
    ----------
    z : ndarray
        The layer's pre-activation, shape (n, m) in a network.

    Returns
    -------
    a : ndarray
        The activation output, shaped like z, in z's dtype.
    """
    return np.maximum(z, _c(z, 0))


def relu_derivative(a: FloatArray) -> FloatArray:
    """relu'(z): 1 where a > 0, else 0 (also at z = 0), written through the output a.

    Parameters
    ----------
    a : ndarray
        The activation output ``relu(z)``.

    Returns
    -------
    ndarray
        0.0 or 1.0 elementwise, shaped like a, in a's dtype.
    """
    return (a > 0).astype(a.dtype)


def leaky_relu(z: FloatArray, alpha: float = 0.01) -> FloatArray:
    """z where z > 0, else alpha * z (alpha in z's dtype).

    Parameters
    ----------
    z : ndarray
        The layer's pre-activation, shape (n, m) in a network.
    alpha : float, default 0.01
        The slope for z <= 0 (the registry requires it finite and >= 0).

    Returns
    -------
    a : ndarray
        The activation output, shaped like z, in z's dtype.
    """
    return np.where(z > 0, z, _c(z, alpha) * z)


def leaky_relu_derivative(a: FloatArray, alpha: float = 0.01) -> FloatArray:
    """leaky_relu'(z): 1 where a > 0, else alpha, written through the output a.

    Parameters
    ----------
    a : ndarray
        The activation output ``leaky_relu(z, alpha)``.
    alpha : float, default 0.01
        The slope for z <= 0, as given to `leaky_relu`.

    Returns
    -------
    ndarray
        1 or alpha elementwise, shaped like a, in a's dtype.
    """
    return np.where(a > 0, _c(a, 1), _c(a, alpha))


def identity(z: FloatArray) -> FloatArray:
    """z itself (the same array, not a copy).

    Parameters
    ----------
    z : ndarray
        The layer's pre-activation.

    Returns
    -------
    a : ndarray
        z.
    """
    return z


def identity_derivative(a: FloatArray) -> FloatArray:
    """identity'(z) = 1, written through the output a (whose values it ignores).

    Parameters
    ----------
    a : ndarray
        The activation output.

    Returns
    -------
    ndarray
        Ones shaped like a, in a's dtype.
    """
    return np.ones_like(a)


def softplus(z: FloatArray) -> FloatArray:
    """Softplus, log(1 + exp(z)), as ``max(z, 0) + log1p(exp(-|z|))``.

    That form neither overflows for large z nor loses the small values for
    very negative z.

    Parameters
    ----------
    z : ndarray
        The layer's pre-activation, shape (n, m) in a network.

    Returns
    -------
    a : ndarray
        The activation output, shaped like z, in z's dtype.
    """
    m = _m()
    return np.maximum(z, _c(z, 0)) + m.log1p(m.exp(-np.abs(z)))


def softplus_derivative(z: FloatArray) -> FloatArray:
    """softplus'(z) = sigmoid(z), from the layer's input z.

    Written through the input z, not the output (registry ``from_input``).

    Parameters
    ----------
    z : ndarray
        The layer's pre-activation.

    Returns
    -------
    ndarray
        softplus'(z) elementwise, shaped like z, in z's dtype.
    """
    one = _c(z, 1)
    return one / (one + _m().exp(-z))


def silu(z: FloatArray) -> FloatArray:
    """z * sigmoid(z) (SiLU, swish), computed as z / (1 + exp(-z)): one rounding less.

    Parameters
    ----------
    z : ndarray
        The layer's pre-activation, shape (n, m) in a network.

    Returns
    -------
    a : ndarray
        The activation output, shaped like z, in z's dtype.
    """
    return z / (_c(z, 1) + _m().exp(-z))


def silu_derivative(z: FloatArray) -> FloatArray:
    """silu'(z) = s * (1 + z * (1 - s)) with s = sigmoid(z), from the input z.

    Written through the layer's input: the output does not determine z (silu
    is not one-to-one).

    Written through the input z (registry ``from_input``).

    Parameters
    ----------
    z : ndarray
        The layer's pre-activation.

    Returns
    -------
    ndarray
        silu'(z) elementwise, shaped like z, in z's dtype.
    """
    one = _c(z, 1)
    s = one / (one + _m().exp(-z))
    return s * (one + z * (one - s))


def elu(z: FloatArray, alpha: float = 1.0) -> FloatArray:
    """z where z > 0, else alpha * (exp(z) - 1) (alpha in z's dtype).

    exp runs on ``min(z, 0)`` (no overflow for large z; NaN stays NaN). The
    portable numerics have no expm1, so ``exp(z) - 1`` is spelled out in both
    modes: for z near 0 its absolute error is about one ulp of 1 (2.2e-16 in
    float64) rather than a relative one.

    Parameters
    ----------
    z : ndarray
        The layer's pre-activation, shape (n, m) in a network.
    alpha : float, default 1.0
        The value approached as z goes to -inf is -alpha (the registry
        requires alpha finite and >= 0).

    Returns
    -------
    a : ndarray
        The activation output, shaped like z, in z's dtype.
    """
    e = _m().exp(np.minimum(z, _c(z, 0)))
    return np.where(z > 0, z, _c(z, alpha) * (e - _c(z, 1)))


def elu_derivative(z: FloatArray, alpha: float = 1.0) -> FloatArray:
    """elu'(z): 1 where z > 0, else alpha * exp(z), from the layer's input z.

    Written through the input z (registry ``from_input``), as PyTorch's ELU
    does: through the output it would be ``a + alpha``, which cancels to 0 for
    very negative z.

    Parameters
    ----------
    z : ndarray
        The layer's pre-activation.
    alpha : float, default 1.0
        As given to `elu`.

    Returns
    -------
    ndarray
        elu'(z) elementwise, shaped like z, in z's dtype.
    """
    e = _m().exp(np.minimum(z, _c(z, 0)))
    return np.where(z > 0, _c(z, 1), _c(z, alpha) * e)


# gelu's constants: sqrt(2 / pi) rounded to float64 (correctly: mpmath agrees),
# and the cubic term's coefficient; each is rounded once more to float32 there
GELU_BETA = 0.7978845608028654
GELU_KAPPA = 0.044715


def gelu(z: FloatArray) -> FloatArray:
    """GELU in its tanh form: 0.5 * z * (1 + tanh(beta * (z + kappa * z**3))).

    beta = sqrt(2 / pi) (`GELU_BETA`), kappa = 0.044715 (`GELU_KAPPA`), both in
    z's dtype; z**3 is ``(z * z) * z``. PyTorch's ``GELU(approximate="tanh")``
    and Keras' ``gelu(approximate=True)``, not the erf form.

    Parameters
    ----------
    z : ndarray
        The layer's pre-activation, shape (n, m) in a network.

    Returns
    -------
    a : ndarray
        The activation output, shaped like z, in z's dtype.
    """
    t = _m().tanh(_c(z, GELU_BETA) * (z + _c(z, GELU_KAPPA) * (z * z * z)))
    return _c(z, 0.5) * z * (_c(z, 1) + t)


def gelu_derivative(z: FloatArray) -> FloatArray:
    """gelu'(z) = 0.5 (1 + t) + 0.5 z (1 - t^2) beta (1 + 3 kappa z^2), from the input z.

    t is the tanh of `gelu`; written through the layer's input, since gelu
    is not one-to-one.

    Written through the input z (registry ``from_input``). For ``|z|`` beyond
    about 1e154 (float64) or 1e19 (float32) z^2 overflows and the result is
    NaN (0 * inf), as in PyTorch.

    Parameters
    ----------
    z : ndarray
        The layer's pre-activation.

    Returns
    -------
    ndarray
        gelu'(z) elementwise, shaped like z, in z's dtype.
    """
    one, half, beta, kappa = _c(z, 1), _c(z, 0.5), _c(z, GELU_BETA), _c(z, GELU_KAPPA)
    z2 = z * z
    t = _m().tanh(beta * (z + kappa * (z2 * z)))
    return half * (one + t) + half * z * (one - t * t) * (beta * (one + _c(z, 3) * kappa * z2))


def softmax(z: FloatArray) -> FloatArray:
    """Row-wise softmax, stabilised by subtracting the row maximum.

    Each row's exponentials are divided by their `row_sums` (left to right).

    Parameters
    ----------
    z : ndarray, shape (n, m)
        The layer's pre-activation, one row per sample.

    Returns
    -------
    a : ndarray, shape (n, m)
        The activation output, in z's dtype.
    """
    e = _m().exp(z - np.max(z, axis=1, keepdims=True))
    return e / row_sums(e)


def softmax_backward(a: FloatArray, g: FloatArray) -> FloatArray:
    """dL/dz from dL/da for a softmax layer: a * (g - sum_k g_k a_k), per row.

    Written through the output a; the row sums are `row_sums` of ``g * a``.

    Parameters
    ----------
    a : ndarray, shape (n, m)
        The softmax output.
    g : ndarray, shape (n, m)
        dL/da, shaped like a.

    Returns
    -------
    ndarray, shape (n, m)
        dL/dz, in a's dtype.
    """
    return a * (g - row_sums(g * a))


# --- losses: value, and dL/da (or dL/dz where output and loss pair up) --------
# `w` is an optional per-sample weight (n,): it scales each sample's terms in
# the loss and its gradient. `count` is the loss's divisor: by default the
# element count (mse, binary_crossentropy) or the row count (categorical
# crossentropy), so w = 1 everywhere gives exactly the unweighted bits;
# loss_denominator gives it for a registry loss and a reduction.

def _weigh(x: FloatArray, w: FloatArray | None) -> FloatArray:
    return x if w is None else x * w.reshape(-1, 1)


def _count(a: FloatArray, count: Scalar | None, default: float) -> Scalar:
    return _c(a, default) if count is None else count


def mse(a: FloatArray, y: FloatArray, w: FloatArray | None = None,
        count: Scalar | None = None) -> Scalar:
    """Mean of the squared errors over all elements.

    Computed as ``seqsum(e * e * w) / count`` with ``e = a - y``.

    Parameters
    ----------
    a : ndarray, shape (n, m)
        The activation output (the network's output).
    y : ndarray, shape (n, m)
        Targets, shaped like a, in a's dtype.
    w : ndarray of shape (n,) or None, optional
        Per-sample weights; None for unweighted.
    count : scalar or None, optional
        The loss's divisor (see the comment above `mse`); None for ``a.size``.

    Returns
    -------
    scalar of a's dtype
        The loss.
    """
    e = a - y
    return seqsum(_weigh(e * e, w)) / _count(a, count, a.size)


def mse_gradient(a: FloatArray, y: FloatArray, w: FloatArray | None = None,
                 count: Scalar | None = None) -> FloatArray:
    """dL/da of `mse`: (2 * (a - y)) / count, then times w.

    Parameters
    ----------
    a : ndarray, shape (n, m)
        The activation output (the network's output).
    y : ndarray, shape (n, m)
        Targets, shaped like a, in a's dtype.
    w : ndarray of shape (n,) or None, optional
        Per-sample weights; None for unweighted.
    count : scalar or None, optional
        The loss's divisor (see the comment above `mse`); None for ``a.size``.

    Returns
    -------
    ndarray, shape (n, m)
        dL/da, in a's dtype.
    """
    return _weigh((_c(a, 2) * (a - y)) / _count(a, count, a.size), w)


def sse(a: FloatArray, y: FloatArray, w: FloatArray | None = None,
        count: Scalar | None = None) -> Scalar:
    """Half the sum of squared errors: its gradient is the raw error a - y.

    Computed as ``0.5 * seqsum(e * e * w)`` with ``e = a - y``; there is no divisor.

    Parameters
    ----------
    a : ndarray, shape (n, m)
        The activation output (the network's output).
    y : ndarray, shape (n, m)
        Targets, shaped like a, in a's dtype.
    w : ndarray of shape (n,) or None, optional
        Per-sample weights; None for unweighted.
    count : scalar or None, optional
        Ignored; accepted for the common loss signature ``f(a, y, w, count)``.

    Returns
    -------
    scalar of a's dtype
        The loss.
    """
    e = a - y
    return _c(a, 0.5) * seqsum(_weigh(e * e, w))


def sse_gradient(a: FloatArray, y: FloatArray, w: FloatArray | None = None,
                 count: Scalar | None = None) -> FloatArray:
    """dL/da of `sse`: a - y, times w (no divisor).

    Parameters
    ----------
    a : ndarray, shape (n, m)
        The activation output (the network's output).
    y : ndarray, shape (n, m)
        Targets, shaped like a, in a's dtype.
    w : ndarray of shape (n,) or None, optional
        Per-sample weights; None for unweighted.
    count : scalar or None, optional
        Ignored; accepted for the common loss signature ``f(a, y, w, count)``.

    Returns
    -------
    ndarray, shape (n, m)
        dL/da, in a's dtype.
    """
    return _weigh(a - y, w)


EPSILON = 1e-7   # probabilities are clipped to [EPSILON, 1 - EPSILON] inside log


def clip_probability(a: FloatArray) -> FloatArray:
    """a clipped into [EPSILON, 1 - EPSILON], the bounds in a's dtype (NaN stays NaN).

    Parameters
    ----------
    a : ndarray
        Probabilities, e.g. a sigmoid or softmax output.

    Returns
    -------
    ndarray
        Shaped like a, in a's dtype; what the cross-entropies take the log of.
    """
    eps = _c(a, EPSILON)
    return np.minimum(np.maximum(a, eps), _c(a, 1) - eps)


def binary_crossentropy(a: FloatArray, y: FloatArray, w: FloatArray | None = None,
                        count: Scalar | None = None) -> Scalar:
    """Mean over all elements of -(y log a + (1 - y) log(1 - a)), a clipped into (0, 1).

    The clipping is `clip_probability`; the weighted terms are summed with
    `seqsum` and then divided by count.

    Parameters
    ----------
    a : ndarray, shape (n, m)
        The activation output (a sigmoid output).
    y : ndarray, shape (n, m)
        Targets in [0, 1], shaped like a, in a's dtype.
    w : ndarray of shape (n,) or None, optional
        Per-sample weights; None for unweighted.
    count : scalar or None, optional
        The loss's divisor (see the comment above `mse`); None for ``a.size``.

    Returns
    -------
    scalar of a's dtype
        The loss.
    """
    one = _c(a, 1)
    p = clip_probability(a)
    log = _m().log
    terms = -(y * log(p) + (one - y) * log(one - p))
    return seqsum(_weigh(terms, w)) / _count(a, count, a.size)


def binary_crossentropy_delta(a: FloatArray, y: FloatArray, w: FloatArray | None = None,
                              count: Scalar | None = None) -> FloatArray:
    """dL/dz for a sigmoid output: (a - y) / count, exact even where a is 0 or 1.

    Then times w. This is the gradient with respect to the output layer's
    pre-activation z, not dL/da (the sigmoid's derivative is folded in).

    Parameters
    ----------
    a : ndarray, shape (n, m)
        The activation output (a sigmoid output).
    y : ndarray, shape (n, m)
        Targets, shaped like a, in a's dtype.
    w : ndarray of shape (n,) or None, optional
        Per-sample weights; None for unweighted.
    count : scalar or None, optional
        The loss's divisor (see the comment above `mse`); None for ``a.size``.

    Returns
    -------
    ndarray, shape (n, m)
        dL/dz of the output layer, in a's dtype.
    """
    return _weigh((a - y) / _count(a, count, a.size), w)


def categorical_crossentropy(a: FloatArray, y: FloatArray, w: FloatArray | None = None,
                             count: Scalar | None = None) -> Scalar:
    """Mean over samples of -sum_j y_j log a_j, a clipped into (0, 1).

    Each row's sum is `row_sums` of ``y * log(clip_probability(a))``; the
    weighted per-row losses are summed with `seqsum`, then divided by count.

    Parameters
    ----------
    a : ndarray, shape (n, m)
        The activation output (a softmax output).
    y : ndarray, shape (n, m)
        Targets (one-hot, smoothed or multi-hot rows), shaped like a, in a's dtype.
    w : ndarray of shape (n,) or None, optional
        Per-sample weights; None for unweighted.
    count : scalar or None, optional
        The loss's divisor (see the comment above `mse`); None for the row
        count ``a.shape[0]``.

    Returns
    -------
    scalar of a's dtype
        The loss.
    """
    per_sample = -row_sums(y * _m().log(clip_probability(a)))
    return seqsum(_weigh(per_sample, w)) / _count(a, count, a.shape[0])


def categorical_crossentropy_delta(a: FloatArray, y: FloatArray, w: FloatArray | None = None,
                                   count: Scalar | None = None) -> FloatArray:
    """dL/dz for a softmax output: (a * sum_j y_j - y) / n_samples.

    For rows that sum to 1 (one-hot, smoothed labels) this is the familiar
    a - y (a * 1.0 is exact); multi-hot rows need the sum.

    The divisor is count (by default the row count), and the quotient is then
    multiplied by w. This is the gradient with respect to the output layer's
    pre-activation z, not dL/da.

    Parameters
    ----------
    a : ndarray, shape (n, m)
        The activation output (a softmax output).
    y : ndarray, shape (n, m)
        Targets, shaped like a, in a's dtype.
    w : ndarray of shape (n,) or None, optional
        Per-sample weights; None for unweighted.
    count : scalar or None, optional
        The loss's divisor (see the comment above `mse`); None for the row
        count ``a.shape[0]``.

    Returns
    -------
    ndarray, shape (n, m)
        dL/dz of the output layer, in a's dtype.
    """
    return _weigh((a * row_sums(y) - y) / _count(a, count, a.shape[0]), w)


def loss_denominator(loss: Loss, n: int, m: int, w: FloatArray | None, weighted_mean: bool,
                     dtype: np.dtype[Any]) -> tuple[Scalar, Scalar]:
    """(divisor of a batch's loss, the batch's weight sum) for a registry loss.

    The divisor is the row count (or, with weighted_mean and weights, the
    weights' sum in sample order) times the loss's per-row count; the weight
    sum is the row count without weights.

    Parameters
    ----------
    loss : registry Loss
        Supplies the per-row count ``loss.norm(m)``.
    n : int
        The batch's row count.
    m : int
        The output width.
    w : ndarray of shape (n,) or None
        The batch's per-sample weights, in `dtype`.
    weighted_mean : bool
        Divide by the weights' sum instead of the row count (only when w is given).
    dtype : numpy dtype
        The network's dtype.

    Returns
    -------
    count : scalar of `dtype`
        The divisor to pass to the loss functions: ``seqsum(w) * norm`` with
        weighted_mean and w, else ``n * norm`` (an integer product, rounded once).
    wsum : scalar of `dtype`
        ``seqsum(w)`` with weighted_mean and w, else n (even when w is given).
    """
    t = np.dtype(dtype).type
    norm = loss.norm(m)
    if weighted_mean and w is not None:
        s = seqsum(w)
        return s * t(norm), s
    return t(n * norm), t(n)


# --- the network ------------------------------------------------------------------
# `activations` is a list of registry entries (cyneuron._registry.Activation),
# one per layer; `loss` a registry entry (cyneuron._registry.Loss).

@overload
def forward(weights: Sequence[Pair], activations: Sequence[Activation], x: FloatArray,
            masks: None = None) -> list[FloatArray]: ...
@overload
def forward(weights: Sequence[Pair], activations: Sequence[Activation], x: FloatArray,
            masks: Sequence[FloatArray | None]) -> tuple[list[FloatArray], list[FloatArray]]: ...
def forward(weights: Sequence[Pair], activations: Sequence[Activation], x: FloatArray,
            masks: Sequence[FloatArray | None] | None = None
            ) -> list[FloatArray] | tuple[list[FloatArray], list[FloatArray]]:
    """Compute the outputs of every layer for the batch x: [x, a_1, ..., a_L].

    masks[l], when given, is layer l's inverted-dropout multiplier (0 or
    1/keep); the stored output is the dropped one. With masks, a second list
    `raw` is returned: what each layer's derivative is computed from, the
    activation before dropout, or the layer's input z for an activation whose
    derivative is written through z.

    Parameters
    ----------
    weights : list of (W, b)
        One pair per layer, W of shape (n_in, n_out) and b of shape (n_out,).
    activations : list of registry Activation
        One per layer.
    x : ndarray, shape (n, n_in)
        The batch's inputs, in the weights' dtype.
    masks : list of (ndarray or None), optional
        One entry per layer: masks[l] of shape (n, n_out of layer l) multiplies
        that layer's output (see `batch_masks`); None entries mean no dropout.
        If masks is None (the default), only `outs` is returned.

    Returns
    -------
    outs : list of ndarray
        ``[x, a_1, ..., a_L]``, a_l of shape (n, n_out of layer l), after dropout.
    raw : list of ndarray
        Only when masks is given: ``raw[0]`` is x and ``raw[l]`` layer l's output
        before dropout, or its pre-activation z when its activation has
        ``from_input``.
    """
    outs, raw = [x], [x]
    for l, ((W, b), act) in enumerate(zip(weights, activations)):
        z = affine(outs[-1], W, b)
        a = act.forward(z)
        raw.append(z if act.from_input else a)
        mask = None if masks is None else masks[l]
        if mask is not None:
            a = a * mask
        outs.append(a)
    return (outs, raw) if masks is not None else outs


def feedforward(weights: Weights, activations: Sequence[Activation], x: FloatArray) -> FloatArray:
    """The network's output for the batch x.

    Parameters
    ----------
    weights : list of (W, b)
        One pair per layer, W of shape (n_in, n_out) and b of shape (n_out,).
    activations : list of registry Activation
        One per layer.
    x : ndarray, shape (n, n_in)
        The batch's inputs, in the weights' dtype.

    Returns
    -------
    ndarray, shape (n, n_out)
        The last layer's activation output a_L (no dropout).
    """
    return forward(weights, activations, x)[-1]


def penalty(weights: Weights, l1: float = 0.0, l2: float = 0.0) -> FloatArray | None:
    """l1 * sum|W| + l2 * sum W**2 over every weight matrix (biases are not penalised).

    Accumulated from +0.0 layer by layer, in each layer the l1 term before the
    l2 term; a zero coefficient adds nothing. The coefficients are cast to each
    W's dtype before the multiplication.

    Parameters
    ----------
    weights : list of (W, b)
        One pair per layer, W of shape (n_in, n_out).
    l1 : float, default 0.0
        The L1 coefficient.
    l2 : float, default 0.0
        The L2 coefficient.

    Returns
    -------
    scalar of the weights' dtype or None
        The penalty (a 0-d array +0.0 when both coefficients are 0); None for an
        empty weights list.
    """
    total = None
    for W, _ in weights:
        if total is None:
            total = np.zeros((), dtype=W.dtype)
        if l1:
            total = total + W.dtype.type(l1) * seqsum(np.abs(W))
        if l2:
            total = total + W.dtype.type(l2) * seqsum(W * W)
    return total


def gradients(weights: Weights, activations: Sequence[Activation], loss: Loss, x: FloatArray,
              y: FloatArray, w: FloatArray | None = None, masks: Masks | None = None,
              l1: float = 0.0, l2: float = 0.0,
              weighted_mean: bool = False) -> tuple[Scalar, list[Pair]]:
    """(loss value, [(dW, db), ...]) for the batch (x, y), by backpropagation.

    The value includes the L1/L2 penalty; so does the gradient. With
    weighted_mean the loss is divided by the weights' sum instead of the row
    count, and the penalty coefficients too (in double precision).

    The output layer's delta is ``loss.delta`` where the loss has one
    (sigmoid with binary cross-entropy, softmax with categorical
    cross-entropy), else the output activation's backward of
    ``loss.gradient``.

    Parameters
    ----------
    weights : list of (W, b)
        One pair per layer, W of shape (n_in, n_out) and b of shape (n_out,).
    activations : list of registry Activation
        One per layer.
    loss : registry Loss
        The loss; its divisor comes from `loss_denominator`.
    x : ndarray, shape (n, n_in)
        The batch's inputs, in the weights' dtype.
    y : ndarray, shape (n, n_out)
        Targets, shaped like the output a, in its dtype.
    w : ndarray of shape (n,) or None, optional
        Per-sample weights; None for unweighted.
    masks : list of (ndarray or None), optional
        Dropout masks as in `forward`; None for no dropout.
    l1 : float, default 0.0
        The L1 coefficient.
    l2 : float, default 0.0
        The L2 coefficient.
    weighted_mean : bool, default False
        Divide by the weights' sum (see above).

    Returns
    -------
    value : scalar of the weights' dtype
        The loss at `weights`, plus the penalty.
    grads : list of (dW, db)
        Shaped like `weights`: dW is `weight_gradient`'s, then
        ``+ (2 * l2) * W``, then ``+ l1 * sign(W)``; db is not penalised.
    """
    if masks is None:
        masks = [None] * len(weights)
    outs, raw = forward(weights, activations, x, masks)
    a = outs[-1]
    count, wsum = loss_denominator(loss, a.shape[0], a.shape[1], w, weighted_mean, a.dtype)
    value = loss.value(a, y, w, count)
    if weighted_mean and (l1 or l2):
        l1, l2 = l1 / float(wsum), l2 / float(wsum)
    if l1 or l2:
        value = value + penalty(weights, l1, l2)
    grads: list[Any] = [None] * len(weights)       # filled from the output layer down
    if loss.delta is not None:                    # sigmoid+BCE, softmax+CCE
        delta = loss.delta(a, y, w, count)
    elif loss.gradient is not None:
        delta = activations[-1].backward(raw[-1], loss.gradient(a, y, w, count))
    else:
        raise TypeError(f"loss {loss.name!r} has neither a delta nor a gradient")
    for l in range(len(weights) - 1, -1, -1):
        dW, db = weight_gradient(outs[l], delta)
        W = weights[l][0]
        if l2:
            dW = dW + (W.dtype.type(2) * W.dtype.type(l2)) * W
        if l1:
            dW = dW + W.dtype.type(l1) * np.sign(W)
        grads[l] = (dW, db)
        if l > 0:
            g = backprop(delta, W)        # dL/d(dropped a_l)
            mask = masks[l - 1]
            if mask is not None:
                g = g * mask
            delta = activations[l - 1].backward(raw[l], g)
    return value, grads


def flatten(pairs: Sequence[Pair]) -> FloatArray:
    """[(W1, b1), (W2, b2), ...] -> one vector W1, b1, W2, b2, ... (C order).

    Parameters
    ----------
    pairs : list of (W, b)
        Weights or gradients, W of shape (n_in, n_out) and b of shape (n_out,).

    Returns
    -------
    ndarray, shape (P,)
        A new vector, P the total number of parameters.
    """
    return np.concatenate([np.concatenate((W.ravel(), b)) for W, b in pairs])


def unflatten(flat: FloatArray, like: Sequence[Pair]) -> list[Pair]:
    """The inverse of `flatten`: (W, b) pairs shaped like `like`, viewing `flat`.

    Parameters
    ----------
    flat : ndarray, shape (P,)
        The parameters in `flatten`'s order.
    like : list of (W, b)
        Supplies the shapes only.

    Returns
    -------
    list of (W, b)
        Views into flat (no copies).
    """
    out, i = [], 0
    for W, b in like:
        out.append((flat[i:i + W.size].reshape(W.shape), flat[i + W.size:i + W.size + b.size]))
        i += W.size + b.size
    return out


def clip_by_norm(g: FloatArray, clipnorm: float) -> FloatArray:
    """Scale the whole gradient vector down to norm `clipnorm` when it is longer.

    The norm is ``sqrt(seqsum(g * g))``; a longer g becomes
    ``g * (clipnorm / norm)`` (the quotient rounded first).

    Parameters
    ----------
    g : ndarray, shape (P,)
        The flat gradient (`flatten` of the gradients).
    clipnorm : float
        The largest norm allowed, cast to g's dtype.

    Returns
    -------
    ndarray, shape (P,)
        g itself when its norm is at most clipnorm, else a scaled copy.
    """
    norm = np.sqrt(seqsum(g * g))
    c = g.dtype.type(clipnorm)
    if norm > c:
        g = g * (c / norm)
    return g


# --- optimizers: one step on the flat parameter vector p with gradient g -------
# State lives in a dict owned by the network: arrays "m"/"v" like p, and the
# step count and bias-correction powers as Python floats (IEEE doubles). Each
# optimizer's update is one function below, named by its registry row
# (OptimizerRow.update); optimizer_step runs it after the decoupled weight
# decay that a row with a weight_decay hyperparameter asks for.

def sgd_update(p: FloatArray, g: FloatArray, state: Any, learning_rate: float,
               hp: dict[str, Any]) -> FloatArray:
    """Plain gradient descent: ``p - lr * g`` (no state, no hyperparameters).

    Parameters
    ----------
    p, g : ndarray, shape (P,)
        The flat parameters (not modified) and gradient.
    state : dict or None
        Unused.
    learning_rate : float
        Cast to p's dtype.
    hp : dict
        Unused.

    Returns
    -------
    ndarray, shape (P,)
        The new parameters.
    """
    return p - _c(p, learning_rate) * g


def momentum_update(p: FloatArray, g: FloatArray, state: Any, learning_rate: float,
                    hp: dict[str, Any]) -> FloatArray:
    """Momentum whose velocity holds the learning rate (Keras).

    ``m = mu * m - lr * g``, then ``p + m``, or with ``hp["nesterov"]``
    ``p + mu * m - lr * g``.

    Parameters
    ----------
    p, g : ndarray, shape (P,)
        The flat parameters (not modified) and gradient.
    state : dict
        "m", the velocity like p, replaced by its new value.
    learning_rate : float
        Cast to p's dtype.
    hp : dict
        "momentum" (cast to p's dtype) and "nesterov".

    Returns
    -------
    ndarray, shape (P,)
        The new parameters.
    """
    lr, mu = _c(p, learning_rate), _c(p, hp["momentum"])
    state["m"] = mu * state["m"] - lr * g
    if hp["nesterov"]:
        return p + mu * state["m"] - lr * g
    return p + state["m"]


def rmsprop_update(p: FloatArray, g: FloatArray, state: Any, learning_rate: float,
                   hp: dict[str, Any]) -> FloatArray:
    """RMSprop: ``v = rho * v + (1 - rho) * g**2; p - (lr * g) / (sqrt(v) + eps)``.

    Parameters
    ----------
    p, g : ndarray, shape (P,)
        The flat parameters (not modified) and gradient.
    state : dict
        "v", the average of squared gradients like p, replaced by its new value.
    learning_rate : float
        Cast to p's dtype.
    hp : dict
        "rho" and "epsilon", cast to p's dtype.

    Returns
    -------
    ndarray, shape (P,)
        The new parameters.
    """
    lr, rho, one = _c(p, learning_rate), _c(p, hp["rho"]), _c(p, 1)
    state["v"] = rho * state["v"] + (one - rho) * (g * g)
    return p - (lr * g) / (np.sqrt(state["v"]) + _c(p, hp["epsilon"]))


def adam_update(p: FloatArray, g: FloatArray, state: Any, learning_rate: float,
                hp: dict[str, Any]) -> FloatArray:
    """Adam with Keras' epsilon placement: the bias correction folded into the step.

    ``alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)`` in double precision
    (the powers of this step), cast; ``m = b1 * m + (1 - b1) * g``,
    ``v = b2 * v + (1 - b2) * g**2``; ``p - (alpha * m) / (sqrt(v) + eps)``.

    Parameters
    ----------
    p, g : ndarray, shape (P,)
        The flat parameters (not modified) and gradient.
    state : dict
        "m" and "v" like p, "t", "b1p" and "b2p" (the step count and
        beta_1**t, beta_2**t as Python floats), all replaced by their new values.
    learning_rate : float
        The step size before the bias correction.
    hp : dict
        "beta_1", "beta_2" and "epsilon".

    Returns
    -------
    ndarray, shape (P,)
        The new parameters.
    """
    b1, b2, one = _c(p, hp["beta_1"]), _c(p, hp["beta_2"]), _c(p, 1)
    state["t"] += 1
    state["b1p"] *= hp["beta_1"]              # beta_1 ** t, in double precision
    state["b2p"] *= hp["beta_2"]
    alpha = _c(p, learning_rate * np.sqrt(1.0 - state["b2p"]) / (1.0 - state["b1p"]))
    state["m"] = b1 * state["m"] + (one - b1) * g
    state["v"] = b2 * state["v"] + (one - b2) * (g * g)
    return p - (alpha * state["m"]) / (np.sqrt(state["v"]) + _c(p, hp["epsilon"]))


def optimizer_step(opt: Optimizer, state: Any, p: FloatArray, g: FloatArray,
                   learning_rate: float, like: Sequence[Pair] | None = None) -> FloatArray:
    """Return the updated p; update `state` in place. opt: registry Optimizer.

    With a nonzero ``opt.weight_decay`` (AdamW's), the weights, not the
    biases, are first scaled by ``1 - learning_rate * weight_decay``
    (computed in double precision, then cast), as ``torch.optim.AdamW``
    decays them; then ``opt.row.update`` (one of the ``*_update`` functions
    above) takes the step.

    Parameters
    ----------
    opt : registry Optimizer
        Its row names the update; ``opt.params`` holds its hyperparameters.
    state : dict (None will do for sgd)
        The optimizer's state (see the comment above `sgd_update`): "m"
        (momentum, adam) and "v" (rmsprop, adam) arrays like p; "t", "b1p" and
        "b2p" (adam) the step count and beta_1**t, beta_2**t as Python floats.
        Entries are replaced by their new values; sgd uses none of them.
    p : ndarray, shape (P,)
        The flat parameters (`flatten` of the weights); not modified.
    g : ndarray, shape (P,)
        The flat gradient, in p's dtype.
    learning_rate : float
        This step's learning rate.
    like : list of (W, b), optional
        The weights p flattens (their shapes tell the weights from the
        biases); needed only with weight decay.

    Returns
    -------
    ndarray, shape (P,)
        The new parameters, in p's dtype.

    Raises
    ------
    ValueError
        With weight decay but without `like`.
    """
    decay = opt.weight_decay
    if decay:
        if like is None:
            raise ValueError("optimizer_step: weight decay needs the weights' shapes (like)")
        factor = _c(p, 1.0 - learning_rate * decay)
        p = flatten([(W * factor, b) for W, b in unflatten(p, like)])
    update: Callable[..., FloatArray] = opt.row.update
    return update(p, g, state, learning_rate, opt.params)


# --- batching, shuffling and dropout draws -----------------------------------------
# Both backends draw from the network's Generator through these two functions,
# in this order per epoch: the permutation, then for each batch and each
# dropout layer (input side first) one mask.

def epoch_order(rng: np.random.Generator, n: int, batch_size: int,
                shuffle: bool) -> NDArray[np.intp]:
    """Sample order of one epoch: a permutation when shuffling mini-batches.

    Parameters
    ----------
    rng : numpy.random.Generator
        The network's generator; one ``rng.permutation(n)`` is drawn only when
        shuffle and batch_size < n.
    n : int
        The number of samples.
    batch_size : int
        The batch size used (at most n).
    shuffle : bool
        Whether to shuffle.

    Returns
    -------
    ndarray of int, shape (n,)
        The permutation, or ``arange(n)`` (no draw).
    """
    if shuffle and batch_size < n:
        return rng.permutation(n)
    return np.arange(n)


def dropout_mask(rng: np.random.Generator, shape: tuple[int, int], rate: float,
                 dtype: np.dtype[Any]) -> FloatArray:
    """Inverted dropout: 0 with probability `rate`, else 1 / (1 - rate).

    One draw ``u = rng.random(shape)`` (doubles); an entry is kept where
    ``u < 1 - rate``. keep = 1 - rate is computed in double precision, rounded
    to dtype, and the kept entries are 1 / keep in dtype.

    Parameters
    ----------
    rng : numpy.random.Generator
        The network's generator.
    shape : tuple of int
        (rows, width) of the layer's output in the batch.
    rate : float
        The drop probability, in [0, 1).
    dtype : numpy dtype
        The network's dtype.

    Returns
    -------
    ndarray of shape `shape`
        The multiplier, in dtype.
    """
    keep = 1.0 - rate
    return (rng.random(shape) < keep).astype(dtype) / np.dtype(dtype).type(keep)


def batch_masks(rng: np.random.Generator, rows: int, widths: Sequence[int],
                rates: Sequence[float], dtype: np.dtype[Any]) -> Masks:
    """The dropout masks of one batch.

    For each layer (input side first), a (rows, width) mask where its rate
    is not 0, else None.

    Parameters
    ----------
    rng : numpy.random.Generator
        The network's generator; one `dropout_mask` draw per nonzero rate, in
        layer order.
    rows : int
        The batch's row count.
    widths : sequence of int
        Each layer's output width (n_out).
    rates : sequence of float
        Each layer's dropout rate, 0 for none.
    dtype : numpy dtype
        The network's dtype.

    Returns
    -------
    list of (ndarray or None)
        One entry per layer, the `masks` argument of `forward` and `gradients`.
    """
    return [dropout_mask(rng, (rows, m), rate, dtype) if rate else None
            for m, rate in zip(widths, rates)]


def correct_predictions(a: FloatArray, y: FloatArray) -> int:
    """How many rows are classified right: threshold 0.5 for one output, argmax otherwise.

    Parameters
    ----------
    a : ndarray, shape (n, m)
        The network's output.
    y : ndarray, shape (n, m)
        Targets, shaped like a.

    Returns
    -------
    int
        The number of rows where ``a > 0.5`` equals ``y > 0.5`` (m = 1), or
        where the argmaxes (the first maximum on ties) agree.
    """
    if a.shape[1] == 1:
        return int(np.sum((a[:, 0] > 0.5) == (y[:, 0] > 0.5)))
    return int(np.sum(np.argmax(a, axis=1) == np.argmax(y, axis=1)))


def train_epoch(weights: Weights, activations: Sequence[Activation], loss: Loss, x: FloatArray,
                y: FloatArray, *, rng: np.random.Generator, learning_rate: float,
                batch_size: int | None = None, shuffle: bool = True, w: FloatArray | None = None,
                optimizer: Optimizer, state: dict[str, Any] | None = None,
                l1: float = 0.0, l2: float = 0.0, clipnorm: float | None = None,
                dropout: Sequence[float] | None = None, count_correct: bool = False,
                weighted_mean: bool = False,
                on_batch: Callable[[int, float], object] | None = None
                ) -> tuple[Weights, float, int]:
    """One epoch of mini-batch training; returns (weights, epoch loss, correct count).

    The epoch loss is the batch losses weighted by batch size, averaged in
    double precision (the batch loss itself when there is one batch). With
    weighted_mean, a batch whose weights sum to 0 holds no data: it takes no
    step and counts as loss 0 (its dropout masks are still drawn).

    Per batch: dropout masks (`batch_masks`), `gradients`, the correct count,
    `clip_by_norm`, then one `optimizer_step` on the flat parameters.

    Parameters
    ----------
    weights : list of (W, b)
        At the start of the epoch, W of shape (n_in, n_out); not modified.
    activations : list of registry Activation
        One per layer.
    loss : registry Loss
        The loss.
    x : ndarray, shape (n, n_in)
        All inputs, in the weights' dtype.
    y : ndarray, shape (n, n_out)
        Targets, shaped like the output a.
    rng : numpy.random.Generator
        Draws the permutation, then the dropout masks (see the comment above
        `epoch_order`).
    learning_rate : float
        This epoch's learning rate.
    batch_size : int or None, optional
        Rows per batch (the last batch may be shorter); None or >= n for one
        full batch.
    shuffle : bool, default True
        Permute the samples (only when batch_size < n).
    w : ndarray of shape (n,) or None, optional
        Per-sample weights; None for unweighted.
    optimizer : registry Optimizer
        The optimizer (required).
    state : dict or None, optional
        The optimizer's state (see the comment above `sgd_update`), updated
        in place; may be None for sgd.
    l1 : float, default 0.0
        The L1 coefficient.
    l2 : float, default 0.0
        The L2 coefficient.
    clipnorm : float or None, optional
        Clip each batch's flat gradient to this norm; None for no clipping.
    dropout : sequence of float or None, optional
        Each layer's dropout rate; None for no dropout (and no draws).
    count_correct : bool, default False
        Count `correct_predictions` on each stepped batch's outputs (with its
        dropout masks) before its step.
    weighted_mean : bool, default False
        Divide each batch's loss by its weights' sum (see `gradients`).
    on_batch : callable, optional
        Called after each stepped batch as ``on_batch(rows, total)``: the
        epoch's rows done and the sum of its batch losses times their rows
        (a progress report; it changes nothing).

    Returns
    -------
    weights : list of (W, b)
        The new weights (views into the last step's flat parameters; the
        given list when no batch took a step).
    loss : float
        The epoch loss.
    correct : int
        The correct count; 0 unless count_correct.
    """
    n = x.shape[0]
    bs = n if batch_size is None else min(batch_size, n)
    order = epoch_order(rng, n, bs, shuffle)
    total, correct, n_batches = 0.0, 0, 0
    for start in range(0, n, bs):
        idx = order[start:start + bs]
        xb, yb = x[idx], y[idx]
        wb = None if w is None else w[idx]
        masks: Masks = [None] * len(weights)
        if dropout is not None:
            masks = batch_masks(rng, len(idx), [W.shape[1] for W, _ in weights], dropout,
                                x.dtype)
        if weighted_mean and wb is not None and seqsum(wb) == 0:
            last = 0.0
            n_batches += 1
            continue
        value, grads = gradients(weights, activations, loss, xb, yb, wb, masks, l1, l2,
                                 weighted_mean)
        if count_correct:
            outs = forward(weights, activations, xb, masks)[0]
            correct += correct_predictions(outs[-1], yb)
        g = flatten(grads)
        if clipnorm is not None:
            g = clip_by_norm(g, clipnorm)
        p = optimizer_step(optimizer, state, flatten(weights), g, learning_rate, like=weights)
        weights = unflatten(p, weights)
        total += float(value) * len(idx)
        last = float(value)
        n_batches += 1
        if on_batch is not None:
            on_batch(start + len(idx), total)
    return weights, (last if n_batches == 1 else total / n), correct


def sgd_step(weights: Sequence[Pair], grads: Sequence[Pair], learning_rate: float) -> Weights:
    """Plain gradient descent: W = W - lr * dW (lr in the weights' dtype).

    Parameters
    ----------
    weights : list of (W, b)
        One pair per layer, W of shape (n_in, n_out) and b of shape (n_out,).
    grads : list of (dW, db)
        Shaped like weights.
    learning_rate : float
        Cast to each W's dtype.

    Returns
    -------
    list of (W, b)
        New arrays; weights is not modified.
    """
    new = []
    for (W, b), (dW, db) in zip(weights, grads):
        lr = W.dtype.type(learning_rate)
        new.append((W - lr * dW, b - lr * db))
    return new


def train_step(weights: Weights, activations: Sequence[Activation], loss: Loss, x: FloatArray,
               y: FloatArray, learning_rate: float) -> tuple[Weights, Scalar]:
    """One gradient-descent step on the batch; returns (new weights, loss before it).

    No sample weights, dropout or penalty.

    Parameters
    ----------
    weights : list of (W, b)
        One pair per layer, W of shape (n_in, n_out) and b of shape (n_out,).
    activations : list of registry Activation
        One per layer.
    loss : registry Loss
        The loss.
    x : ndarray, shape (n, n_in)
        The batch's inputs, in the weights' dtype.
    y : ndarray, shape (n, n_out)
        Targets, shaped like the output a.
    learning_rate : float
        Cast to each W's dtype.

    Returns
    -------
    weights : list of (W, b)
        The weights after the step.
    value : scalar of the weights' dtype
        The loss at the weights before the step.
    """
    value, grads = gradients(weights, activations, loss, x, y)
    return sgd_step(weights, grads, learning_rate), value


def fit(weights: Weights, activations: Sequence[Activation], loss: Loss, x: FloatArray,
        y: FloatArray, epochs: int, learning_rate: float) -> tuple[Weights, list[Scalar]]:
    """Full-batch gradient descent; returns (weights, [loss of each epoch]).

    Parameters
    ----------
    weights : list of (W, b)
        The initial weights, W of shape (n_in, n_out); not modified.
    activations : list of registry Activation
        One per layer.
    loss : registry Loss
        The loss.
    x : ndarray, shape (n, n_in)
        All inputs, in the weights' dtype.
    y : ndarray, shape (n, n_out)
        Targets, shaped like the output a.
    epochs : int
        The number of steps.
    learning_rate : float
        Cast to each W's dtype.

    Returns
    -------
    weights : list of (W, b)
        The weights after the last step.
    losses : list of scalar
        Each epoch's loss, taken before its step.
    """
    losses = []
    for _ in range(epochs):
        weights, value = train_step(weights, activations, loss, x, y, learning_rate)
        losses.append(value)
    return weights, losses
