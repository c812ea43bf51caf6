"""The two backends behind a Network: the compiled core and the NumPy reference.

``Network`` validates and converts every input, then hands arrays of the
right dtype and shape to its backend, which answers three questions the same
way, to the bit:

* ``forward(x)``: the output for a batch;
* ``loss_and_gradients(x, t, w)``: the batch loss (penalty included) and the
  flat gradient, laid out like the parameters ``[W1, b1, W2, b2, ...]``;
* ``run_epochs(x, t, w, bs, shuffle, rates, epochs, clipnorm, count, progress)``:
  train, updating the network's parameters and optimizer state in place;
  returns (epoch losses, correct counts, whether the weights ended finite).
  ``progress`` (None or ``progress(epoch, rows, loss_sum)``, see
  ``cyneuron._progress.batch_hook``) hears where an epoch is: the core calls
  it every few milliseconds of work, the reference after every batch.

What ``backend="numpy"`` changes is this file: ``NumpyBackend`` calls
``cyneuron.reference`` one epoch at a time; ``CoreBackend`` calls the core's
``CoreNet``, which owns the network's layout and scratch in C.

A backend reads and writes the network only through its declared surface:
``net.state`` (parameters, optimizer state, layout) and public properties.

A sparse x (issue 29) arrives as a ``cyneuron._csr.CSRRows``: the reference
reads it as it is (``reference.affine`` and ``weight_gradient`` take it), the
core as the ``CsrInput`` made from it (``CoreBackend.core_input``).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from . import _native
from . import _validation as v
from . import reference as ref
from ._csr import CSRRows

if TYPE_CHECKING:       # the compiled core's stub, _core.pyi: calls are checked against it
    from ._core import CoreNet


class NumpyBackend:
    """The reference: plain NumPy, the executable specification."""

    name = "numpy"
    fast_forward = None       # every input takes the checked path

    def __init__(self, net):
        self.net = net
        self.state = net.state       # one object for the network's life
        self.weighted_mean = net.reduction == "weighted_mean"

    def forward(self, x):
        net = self.net
        with ref.numerics(net.numerics):
            return ref.feedforward(self.state.layers, net.activations, x)

    def loss_and_gradients(self, x, t, w=None):
        net, st = self.net, self.state
        with ref.numerics(net.numerics):
            value, g = ref.gradients(st.layers, net.activations, net.loss, x, t, w,
                                     l1=net.l1, l2=net.l2, weighted_mean=self.weighted_mean)
        return value, st.layout.flatten(g)

    def run_epochs(self, x, t, w, bs, shuffle, rates, epochs, clipnorm, count, progress=None):
        net, st = self.net, self.state
        m, v2 = st.layout.state_halves(st.opt_state)
        # the reference keeps its optimizer state in a dict (see reference.optimizer_step)
        state = {"m": m.copy(), "v": v2.copy(),
                 "t": st.opt_scalars[0], "b1p": float(st.opt_scalars[1]),
                 "b2p": float(st.opt_scalars[2])}
        weights = st.layers
        losses, correct = np.empty(epochs), np.zeros(epochs, dtype=np.int64)
        for e in range(epochs):
            lr = rates[e] if rates.size > 1 else rates[0]
            on_batch = None
            if progress is not None:
                def on_batch(rows, total, e=e):
                    progress(e, rows, total)
            with ref.numerics(net.numerics):
                weights, losses[e], correct[e] = ref.train_epoch(
                    weights, net.activations, net.loss, x, t, rng=net.rng,
                    learning_rate=float(lr), batch_size=bs, shuffle=shuffle, w=w,
                    optimizer=net.optimizer, state=state, l1=net.l1, l2=net.l2,
                    clipnorm=clipnorm, dropout=net.dropout if any(net.dropout) else None,
                    count_correct=count, weighted_mean=self.weighted_mean,
                    on_batch=on_batch)
            if not np.isfinite(losses[e]):
                losses, correct = losses[:e + 1], correct[:e + 1]
                break
        for (W, b), (Wn, bn) in zip(st.layers, weights):
            W[...] = Wn
            b[...] = bn
        m, v2 = st.layout.state_halves(st.opt_state)
        m[...] = state["m"]
        v2[...] = state["v"]
        st.opt_scalars[:] = (state["t"], state["b1p"], state["b2p"])
        return losses, correct, bool(np.isfinite(losses).all()) and v.all_finite(st.params)


class CoreBackend:
    """The compiled core: one ``CoreNet`` holds the layout, checked once."""

    name = "cython"
    core: CoreNet

    def __init__(self, net):
        self.net = net
        self.state = st = net.state       # one object for the network's life
        sizes, offsets = st.layout.core_arrays()
        acts = net.activations
        self.core = _native.core().CoreNet(
            sizes, np.asarray([a.code for a in acts], dtype=np.intc),
            np.asarray([a.param for a in acts], dtype=np.float64), offsets,
            np.asarray(net.dropout, dtype=np.float64), net.loss.code,
            net.loss.norm(net.n_outputs), net.reduction == "weighted_mean", net.dtype,
            net.numerics == "portable")
        self._no_weights = np.empty(0, dtype=net.dtype)
        self._no_order = np.empty(0, dtype=np.intp)
        # (params, X, n_threads) -> output, or None where Network's checked path must run
        self.fast_forward = self.core.forward_fast

    def core_input(self, x):
        """x as CoreNet reads it: the array itself, or a sparse x's CsrInput
        (its structure checked once more, in C, for the call)."""
        if isinstance(x, CSRRows):
            return _native.core().CsrInput(x.data, x.indices, x.indptr, x.shape[1])
        return x

    def forward(self, x):
        return self.core.forward(self.state.params, self.core_input(x), self.net.n_threads)

    def loss_and_gradients(self, x, t, w=None):
        net = self.net
        value, grads = self.core.gradients(self.state.params, self.core_input(x), t,
                                           self._no_weights if w is None else w,
                                           net.l1, net.l2, net.n_threads)
        return net.dtype.type(value), grads

    def run_epochs(self, x, t, w, bs, shuffle, rates, epochs, clipnorm, count, progress=None):
        net, st = self.net, self.state
        n = x.shape[0]
        orders = self._no_order
        if shuffle and bs < n:
            # every epoch's permutation drawn up front, as the reference draws them
            orders = np.concatenate([ref.epoch_order(net.rng, n, bs, True)
                                     for _ in range(epochs)]).astype(np.intp, copy=False)
        masks = self._no_weights
        if any(net.dropout):
            # one epoch's masks in the order CoreNet.train_epochs reads them
            assert epochs == 1, "dropout masks are drawn one epoch at a time"
            parts = []
            for start in range(0, n, bs):
                nb = min(bs, n - start)
                parts += [m.ravel() for m in ref.batch_masks(net.rng, nb, net.layer_sizes[1:],
                                                             net.dropout, net.dtype)
                          if m is not None]
            masks = np.concatenate(parts)
        losses, correct, run = self.core.train_epochs(
            st.params, self.core_input(x), t, self._no_weights if w is None else w, orders,
            rates, epochs, bs, net.optimizer, st.opt_state, st.opt_scalars, net.l1, net.l2,
            0.0 if clipnorm is None else clipnorm, masks, count, net.n_threads, progress)
        # a negative count: that many epochs, and then the weights were not finite
        return losses[:abs(run)], correct[:abs(run)], run > 0


BACKENDS: dict[str, type[CoreBackend] | type[NumpyBackend]] = {"cython": CoreBackend,
                                                                "numpy": NumpyBackend}
