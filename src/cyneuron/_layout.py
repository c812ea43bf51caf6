"""Where a network's numbers live: the one owner of the parameter layout.

A network of widths ``sizes`` keeps all its weights and biases in one flat
buffer, ``[W1, b1, W2, b2, ...]``, each W of shape (n_in, n_out) in C order
and each b of shape (n_out,): the order :func:`cyneuron.reference.flatten`
writes and :func:`cyneuron.reference.unflatten` reads. The optimizer's state
is one buffer of twice that length, the first moments m then the second
moments v, each laid out like the parameters.

:class:`Layout` derives everything from that rule once (offsets, shapes,
the parameter count, the state's halves, the arrays' names in a model
file); ``Network``, both backends, the model-file schema and the exporters
ask it instead of counting again. The compiled core keeps its own C layout
(``CoreNet``) and is handed :meth:`Layout.core_arrays`, which it checks.

:class:`NetworkState` is what a network holds that training changes (the
parameters and the optimizer's state), with the layout that describes it:
the surface through which the estimators, the backends and the formats
read and write a network's numbers.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import reference as ref

FloatArray = NDArray[np.floating[Any]]
Pair = tuple[FloatArray, FloatArray]


class Layout:
    """The layout of the parameters of a network of widths `sizes`.

    Parameters
    ----------
    sizes : sequence of int
        Widths from the input to the output (already checked).

    Attributes
    ----------
    sizes : tuple of int
        The widths.
    shapes : tuple of ((int, int), (int,))
        The shapes of each layer's (W, b).
    offsets : tuple of int
        Where W1, b1, W2, b2, ... start in the flat buffer.
    n_params : int
        The number of weights and biases (the flat buffer's length).
    """

    __slots__ = ("sizes", "shapes", "offsets", "n_params")

    def __init__(self, sizes: Sequence[int]) -> None:
        self.sizes = tuple(int(s) for s in sizes)
        pairs = list(zip(self.sizes[:-1], self.sizes[1:]))
        self.shapes = tuple(((k, m), (m,)) for k, m in pairs)
        offsets, total = [], 0
        for k, m in pairs:
            offsets += [total, total + k * m]
            total += k * m + m
        self.offsets = tuple(offsets)
        self.n_params = total

    @property
    def n_layers(self) -> int:
        """The number of weight layers (``len(sizes) - 1``)."""
        return len(self.shapes)

    @property
    def n_state(self) -> int:
        """The optimizer state's length: the moments m then v, ``2 * n_params``."""
        return 2 * self.n_params

    def views(self, flat: FloatArray) -> list[Pair]:
        """Each layer's (W, b) as views into `flat` (no copies).

        Parameters
        ----------
        flat : numpy.ndarray of shape (n_params,)
            Parameters, or a gradient, in the flat order.

        Returns
        -------
        list of (W, b)
            W of shape (n_in, n_out), b of shape (n_out,); writing them writes `flat`.
        """
        out = []
        for l, ((k, m), _) in enumerate(self.shapes):
            w0, b0 = self.offsets[2 * l], self.offsets[2 * l + 1]
            out.append((flat[w0:w0 + k * m].reshape(k, m), flat[b0:b0 + m]))
        return out

    def flatten(self, pairs: Sequence[Pair]) -> FloatArray:
        """[(W1, b1), (W2, b2), ...] as one new flat vector (:func:`cyneuron.reference.flatten`).

        Parameters
        ----------
        pairs : list of (W, b)
            Shaped as :attr:`shapes`.

        Returns
        -------
        numpy.ndarray of shape (n_params,)
        """
        return ref.flatten(pairs)

    def state_halves(self, state: FloatArray) -> tuple[FloatArray, FloatArray]:
        """The optimizer state's first moments m and second moments v (views).

        Parameters
        ----------
        state : numpy.ndarray of shape (n_state,)

        Returns
        -------
        m, v : numpy.ndarray of shape (n_params,)
        """
        return state[:self.n_params], state[self.n_params:]

    def core_arrays(self) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
        """(sizes, offsets) as the compiled core's ``CoreNet`` takes them (intp arrays).

        Returns
        -------
        sizes, offsets : numpy.ndarray of intp
        """
        return (np.asarray(self.sizes, dtype=np.intp),
                np.asarray(self.offsets, dtype=np.intp))

    def array_shapes(self, prefix: str = "") -> dict[str, tuple[int, ...]]:
        """The arrays of a model file and their shapes: ``optimizer_state``,
        then ``W0``, ``b0``, ``W1``, ... (from 0, as the files name them).

        Parameters
        ----------
        prefix : str
            Put before every name (an estimator stores its network under one).

        Returns
        -------
        dict
            name -> shape.
        """
        out: dict[str, tuple[int, ...]] = {prefix + "optimizer_state": (self.n_state,)}
        for l, (w_shape, b_shape) in enumerate(self.shapes):
            out[f"{prefix}W{l}"] = w_shape
            out[f"{prefix}b{l}"] = b_shape
        return out

    def __repr__(self) -> str:
        return f"Layout({list(self.sizes)}, n_params={self.n_params})"


class NetworkState:
    """A network's numbers: parameters, optimizer state, and their layout.

    ``Network.state`` is one such object for the network's life; the arrays
    are the network's own (writing into them changes the network). Only the
    network replaces :attr:`opt_state` (``reset_optimizer``, a failed fit's
    restore), so hold the state object, not the array.

    Attributes
    ----------
    layout : Layout
    params : numpy.ndarray of shape (layout.n_params,)
        The flat parameter buffer ``[W1, b1, W2, b2, ...]``.
    layers : list of (W, b)
        Views of each layer's weights and biases into :attr:`params`.
    opt_state : numpy.ndarray of shape (layout.n_state,)
        The optimizer's moments, m then v.
    opt_scalars : numpy.ndarray of shape (3,)
        float64 [step, beta_1**step, beta_2**step].
    """

    __slots__ = ("layout", "params", "layers", "opt_state", "opt_scalars")

    def __init__(self, layout: Layout, params: FloatArray) -> None:
        self.layout = layout
        self.params = params
        self.layers = layout.views(params)
        self.opt_state = np.zeros(layout.n_state, dtype=params.dtype)
        self.opt_scalars = np.array([0.0, 1.0, 1.0])   # step, beta_1**t, beta_2**t

    def reset_optimizer_state(self) -> None:
        """New zero moments and scalars [0, 1, 1] (new arrays: a snapshot keeps the old)."""
        self.opt_state = np.zeros(self.layout.n_state, dtype=self.params.dtype)
        self.opt_scalars = np.array([0.0, 1.0, 1.0])

    def __repr__(self) -> str:
        return f"NetworkState({self.layout!r}, dtype={self.params.dtype.name!r})"
