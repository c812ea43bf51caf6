# cython: language_level=3
"""cyneuron's compiled core.

Everything here assumes valid input: the Python layer (``cyneuron.network``)
has already checked shapes, dtypes, contiguity and finiteness, and allocated
every buffer. The loops run without the GIL and, in release builds, without
bounds checks. Each routine performs the IEEE-754 operations of
``cyneuron.reference`` in the same order, so results agree bit for bit.

Layout of a network (shared with the Python layer):

* ``params``: one flat C-contiguous vector ``[W1, b1, W2, b2, ...]`` where
  ``W_l`` is row-major ``(sizes[l], sizes[l+1])`` and ``b_l`` has
  ``sizes[l+1]`` entries; ``grads`` has the same layout.
* ``sizes``: layer widths, input first (``intp``).
* ``acts``: activation code per layer (``intc``); ``act_params``: its scalar
  parameter (the leaky-ReLU slope), ``float64``.

How to read it: this file only imports and includes; the core is the
sections below, one file each, in this order, each mirroring the section of
``reference.py`` named in its first lines (Cython compiles them as one
module, so a section may call into a later one, as batch_gradients calls the
tiny path; the order is for the reader, except that a struct held by value
in another is declared first, as Hyper before Plan):

=============================  ==============================================
``_core_transcendental.pxi``   exp, tanh, log, log1p: NumPy's own loops or the
                               portable ones (``reference``'s ``numerics``)
``_core_net.pxi``              a network seen from C: ``Net``, ``Batch``;
                               dtype dispatch helpers
``_core_watch.pxi``            Ctrl-C in the nogil loops; the three products
                               of a layer, in pieces, between looks
``_core_activations.pxi``      activations and their derivatives
``_core_losses.pxi``           losses, their gradients and divisor
``_core_network.pxi``          the forward pass and one batch's gradients
``_core_tiny.pxi``             the tiny-net path (fused loops, SGD epochs)
``_core_optimizers.pxi``       an optimizer's ``Hyper`` and step; penalties,
                               norm clipping
``_core_training.pxi``         the ``Plan`` of a run, the training loop, the
                               accuracy count
``_core_sparse.pxi``           a sparse input: ``CsrInput``, the first layer's
                               products over its rows (issue 29)
``_core_boundary.pxi``         the Python boundary: ``all_finite``,
                               ``CoreNet`` (``_core.pyi`` is its stub)
``_core_hooks.pxi``            hooks for tests and benchmarks
=============================  ==============================================

The C declarations and per-dtype wrappers are in ``_kernels.pxd``, the
kernels in ``csrc/`` (see ``csrc/README.md``).
"""

cimport numpy as cnp
from cython cimport floating
from cpython.ref cimport PyObject
from libc.string cimport memcpy, memset
from libc.math cimport NAN, fabs, fabsf, sqrt, sqrtf

import numbers

import numpy as np

cnp.import_array()
cnp.import_ufunc()

from cyneuron._kernels cimport *
from cyneuron._portable_decl cimport (CYNP_FN_EXP, CYNP_FN_LOG, CYNP_FN_LOG1P, CYNP_FN_TANH,
                                      CYNP_FN_SIGMOID_NEG, CYNP_N_VAR, cynp_get_f32, cynp_get_f64,
                                      cynp_loop_f32, cynp_loop_f64, cynp_sigmoid_neg_f32,
                                      cynp_sigmoid_neg_f64, cynp_variant_supported)

include "_core_transcendental.pxi"
include "_core_net.pxi"
include "_core_watch.pxi"
include "_core_activations.pxi"
include "_core_losses.pxi"
include "_core_network.pxi"
include "_core_tiny.pxi"
include "_core_optimizers.pxi"
include "_core_training.pxi"
include "_core_sparse.pxi"
include "_core_boundary.pxi"
include "_core_hooks.pxi"
