"""The public model classes: Network and Neuron.

This layer owns the API: it validates and converts every input, keeps the
parameters in one flat buffer, and hands the work to a backend, either the
compiled core (``backend="cython"``, the default) or the NumPy reference
(``backend="numpy"``). Both give the same bits.
"""
from __future__ import annotations

import numbers
import time

import numpy as np

from . import _native
from . import _registry as registry
from . import _validation as v
from . import reference as ref

BACKENDS = ("cython", "numpy")
INITS = ("uniform", "xavier", "he")


class History:
    """What ``fit`` returns: per-epoch values, like Keras' History.

    ``history["loss"]`` (or ``history.history["loss"]``) is the list of the
    training loss of each epoch, measured on the batch before its update.
    """

    def __init__(self):
        self.history = {"loss": []}
        self.epoch = []

    def __getitem__(self, key):
        return self.history[key]

    def __len__(self):
        return len(self.epoch)

    def __repr__(self):
        last = {k: (vals[-1] if vals else None) for k, vals in self.history.items()}
        return f"History(epochs={len(self.epoch)}, last={last})"


class Network:
    """A fully connected feed-forward network.

    Parameters
    ----------
    layer_sizes : sequence of int
        Widths from the input to the output, e.g. ``[2, 2, 1]``.
    activation : str, tuple or list
        One activation for every layer, or a list with one per layer
        (``"sigmoid"``, ``"tanh"``, ``"relu"``, ``("leaky_relu", 0.1)``,
        ``"identity"``, ``"softmax"`` for the output layer).
    output_activation : str, optional
        Overrides the activation of the output layer only.
    loss : str
        ``"mse"`` (mean of squared errors) or ``"sse"`` (half their sum).
    seed : int, numpy.random.Generator or None
        Seeds the network's own Generator (initialisation, and later
        shuffling and dropout).
    dtype : "float64" or "float32"
    backend : "cython" (compiled core) or "numpy" (the reference)
    init : "uniform" (U[-1, 1) like the tutorials), "xavier" or "he"
    """

    def __init__(self, layer_sizes, activation="sigmoid", loss="mse", seed=None,
                 dtype="float64", backend="cython", init="uniform", output_activation=None):
        sizes = self._check_sizes(layer_sizes)
        n_layers = len(sizes) - 1
        if isinstance(activation, list):
            if len(activation) != n_layers:
                raise ValueError(f"activation list has {len(activation)} entries, but the "
                                 f"network has {n_layers} layer(s)")
            acts = [registry.activation(a) for a in activation]
        else:
            acts = [registry.activation(activation)] * n_layers
        if output_activation is not None:
            acts[-1] = registry.activation(output_activation)
        for i, a in enumerate(acts[:-1]):
            if a.output_only:
                raise ValueError(f"{a.name} can only be the output activation, not of hidden "
                                 f"layer {i + 1}")
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}; valid: {', '.join(BACKENDS)}")
        if backend == "cython":
            _native.core()          # raises a clear error if the core cannot run
        if init not in INITS:
            raise ValueError(f"unknown init {init!r}; valid: {', '.join(INITS)}")

        self.layer_sizes = sizes
        self.activations = acts
        self.loss = registry.loss(loss)
        self.dtype = v.resolve_dtype(dtype)
        self.backend = backend
        self.init = init
        self.rng = self._make_rng(seed)

        # Flat parameter buffer [W1, b1, W2, b2, ...] and the per-layer views into it.
        offsets, total = [], 0
        for k, m in zip(sizes[:-1], sizes[1:]):
            offsets += [total, total + k * m]
            total += k * m + m
        self._params = np.zeros(total, dtype=self.dtype)
        self._offsets = np.asarray(offsets, dtype=np.intp)
        self._sizes = np.asarray(sizes, dtype=np.intp)
        self._act_codes = np.asarray([a.code for a in acts], dtype=np.intc)
        self._act_params = np.asarray([a.param for a in acts], dtype=np.float64)
        self._layers = []
        for l, (k, m) in enumerate(zip(sizes[:-1], sizes[1:])):
            W = self._params[offsets[2 * l]:offsets[2 * l] + k * m].reshape(k, m)
            b = self._params[offsets[2 * l + 1]:offsets[2 * l + 1] + m]
            self._layers.append((W, b))
        self._initialise()

    # --- construction helpers ---------------------------------------------------

    @staticmethod
    def _check_sizes(layer_sizes):
        if isinstance(layer_sizes, (str, bytes)) or not hasattr(layer_sizes, "__len__"):
            raise TypeError("layer_sizes must be a sequence of integers, e.g. [2, 2, 1]")
        sizes = list(layer_sizes)
        if len(sizes) < 2:
            raise ValueError(f"layer_sizes needs at least an input and an output width, "
                             f"got {sizes}")
        out = []
        for i, s in enumerate(sizes):
            if isinstance(s, bool) or not isinstance(s, numbers.Integral):
                raise TypeError(f"layer_sizes[{i}] must be an integer, got {s!r}")
            if s < 1:
                raise ValueError(f"layer_sizes[{i}] must be >= 1, got {s}")
            out.append(int(s))
        return tuple(out)

    @staticmethod
    def _make_rng(seed):
        if isinstance(seed, np.random.Generator):
            return seed
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
            raise TypeError(f"seed must be an int, a numpy Generator or None, got {seed!r}")
        if seed is not None and seed < 0:
            raise ValueError(f"seed must be >= 0, got {seed}")
        return np.random.default_rng(seed)

    def _initialise(self):
        for W, b in self._layers:
            k, m = W.shape
            if self.init == "uniform":
                # the tutorials' 2 * random - 1: uniform in [-1, 1)
                W[...] = 2 * self.rng.random((k, m)) - 1
            else:
                limit = np.sqrt(6.0 / (k + m)) if self.init == "xavier" else np.sqrt(6.0 / k)
                W[...] = self.rng.uniform(-limit, limit, (k, m))
            b[...] = 0

    # --- properties ------------------------------------------------------------------

    @property
    def n_inputs(self):
        return self.layer_sizes[0]

    @property
    def n_outputs(self):
        return self.layer_sizes[-1]

    @property
    def n_params(self):
        return int(self._params.size)

    def __repr__(self):
        acts = [a.spec for a in self.activations]
        act = acts[0] if all(a == acts[0] for a in acts) else acts
        return (f"Network({list(self.layer_sizes)}, activation={act!r}, "
                f"loss={self.loss.name!r}, dtype={self.dtype.name!r}, "
                f"backend={self.backend!r}, params={self.n_params})")

    # --- weights ---------------------------------------------------------------------

    def get_weights(self):
        """A list of (W, b) copies, W of shape (n_in, n_out), b of shape (n_out,)."""
        return [(W.copy(), b.copy()) for W, b in self._layers]

    def set_weights(self, weights):
        """Replace all weights and biases; nothing changes unless all of them are valid."""
        if isinstance(weights, (str, bytes)) or not hasattr(weights, "__len__"):
            raise TypeError("weights must be a list of (W, b) pairs")
        if len(weights) != len(self._layers):
            raise ValueError(f"weights has {len(weights)} layer(s), the network has "
                             f"{len(self._layers)}")
        new = []
        for l, (pair, (W, b)) in enumerate(zip(weights, self._layers)):
            if not hasattr(pair, "__len__") or len(pair) != 2:
                raise ValueError(f"weights[{l}] must be a pair (W, b)")
            Wn = v.as_float(v._as_numeric_array(pair[0], f"W{l + 1}"), self.dtype, f"W{l + 1}")
            bn = v.as_float(v._as_numeric_array(pair[1], f"b{l + 1}"), self.dtype, f"b{l + 1}")
            if Wn.shape != W.shape:
                raise ValueError(f"W{l + 1} has shape {Wn.shape}, expected {W.shape}")
            if bn.shape != b.shape:
                raise ValueError(f"b{l + 1} has shape {bn.shape}, expected {b.shape}")
            new.append((Wn, bn))
        for (W, b), (Wn, bn) in zip(self._layers, new):
            W[...] = Wn
            b[...] = bn

    # --- inference ---------------------------------------------------------------------

    def feedforward(self, X):
        """Network output: X (n, n_in) -> (n, n_out); a 1-D sample -> (n_out,)."""
        x, single = v.check_inputs(X, self.n_inputs, self.dtype)
        out = self._forward(x)
        return out[0] if single else out

    predict = feedforward

    def _forward(self, x):
        if self.backend == "numpy":
            return ref.feedforward(self._layers, self.activations, x)
        core = _native.core()
        n = x.shape[0]
        out = np.empty((n, self.n_outputs), dtype=self.dtype)
        work = np.empty(core.workspace_size(self._sizes, n), dtype=self.dtype)
        core.forward(self._params, self._sizes, self._act_codes, self._act_params,
                     self._offsets, x, work, out)
        return out

    # --- training ----------------------------------------------------------------------

    def _check_xy(self, X, y):
        x, single = v.check_inputs(X, self.n_inputs, self.dtype)
        t = v.check_targets(y, x.shape[0], self.n_outputs, self.dtype, single)
        return x, t

    def _gradients_flat(self, x, t):
        """(loss, flat gradient vector) for a validated batch."""
        grads = np.empty_like(self._params)
        if self.backend == "numpy":
            value, g = ref.gradients(self._layers, self.activations, self.loss, x, t)
            for l, (dW, db) in enumerate(g):
                grads[self._offsets[2 * l]:self._offsets[2 * l] + dW.size] = dW.ravel()
                grads[self._offsets[2 * l + 1]:self._offsets[2 * l + 1] + db.size] = db
            return value, grads
        core = _native.core()
        work = np.empty(core.workspace_size(self._sizes, x.shape[0]), dtype=self.dtype)
        value = core.gradients(self._params, self._sizes, self._act_codes, self._act_params,
                               self._offsets, self.loss.code, x, t, work, grads)
        return self.dtype.type(value), grads

    def _unflatten(self, flat):
        out = []
        for l, (W, b) in enumerate(self._layers):
            o_w, o_b = self._offsets[2 * l], self._offsets[2 * l + 1]
            out.append((flat[o_w:o_w + W.size].reshape(W.shape).copy(),
                        flat[o_b:o_b + b.size].copy()))
        return out

    def gradients(self, X, y):
        """Gradient of the loss on (X, y): a list of (dW, db) shaped like the weights."""
        x, t = self._check_xy(X, y)
        return self._unflatten(self._gradients_flat(x, t)[1])

    def loss_and_gradients(self, X, y):
        """(loss, gradients) on (X, y) in one pass."""
        x, t = self._check_xy(X, y)
        value, flat = self._gradients_flat(x, t)
        return float(value), self._unflatten(flat)

    def train_step(self, X, y, learning_rate):
        """One plain gradient-descent step on the batch (X, y); returns the loss before it."""
        lr = v.check_real(learning_rate, "learning_rate", minimum=0.0, strict=True)
        x, t = self._check_xy(X, y)
        value, grads = self._gradients_flat(x, t)
        lr_t = self.dtype.type(lr)
        # W = W - lr * dW, elementwise: the flat update gives the reference's bits
        self._params[...] = self._params - lr_t * grads
        return float(value)

    def fit(self, X, y, epochs=1, learning_rate=0.01, batch_size=None, optimizer="sgd",
            verbose=0):
        """Train by gradient descent and return a History of the loss per epoch.

        Every epoch runs inside the compiled core (or the reference); with
        ``verbose`` the core returns to Python only to report progress, about
        ten times per fit.
        """
        epochs = v.check_positive_int(epochs, "epochs")
        lr = v.check_real(learning_rate, "learning_rate", minimum=0.0, strict=True)
        if batch_size is not None:
            raise NotImplementedError("mini-batches are not implemented yet; use "
                                      "batch_size=None (full batch)")
        if optimizer != "sgd":
            raise ValueError(f"unknown optimizer {optimizer!r}; valid: sgd")
        x, t = self._check_xy(X, y)
        history = History()
        chunk = max(1, epochs // 10) if verbose else epochs
        start = time.perf_counter()
        done = 0
        while done < epochs:
            todo = min(chunk, epochs - done)
            losses = self._fit_chunk(x, t, todo, lr)
            history.history["loss"].extend(float(l) for l in losses)
            history.epoch.extend(range(done, done + todo))
            done += todo
            if verbose:
                print(f"epoch {done:>{len(str(epochs))}}/{epochs}  loss {losses[-1]:.6g}  "
                      f"({time.perf_counter() - start:.2f} s)", flush=True)
        return history

    def _fit_chunk(self, x, t, epochs, lr):
        if self.backend == "numpy":
            weights, losses = ref.fit(self._layers, self.activations, self.loss, x, t,
                                      epochs, lr)
            for (W, b), (Wn, bn) in zip(self._layers, weights):
                W[...] = Wn
                b[...] = bn
            return np.asarray(losses, dtype=self.dtype)
        core = _native.core()
        work = np.empty(core.workspace_size(self._sizes, x.shape[0]), dtype=self.dtype)
        grads = np.empty_like(self._params)
        losses = np.empty(epochs, dtype=self.dtype)
        core.fit_gd(self._params, self._sizes, self._act_codes, self._act_params,
                    self._offsets, self.loss.code, x, t, epochs, self.dtype.type(lr),
                    work, grads, losses)
        return losses

    def evaluate(self, X, y):
        """Loss on (X, y) as a dict ``{"loss": value}``."""
        x, t = self._check_xy(X, y)
        a = self._forward(x)
        return {"loss": float(self.loss.value(a, t))}


class Neuron:
    """A single neuron: ``activation(w . x + b)``, as in the tutorials.

    >>> Neuron(weights=[0, 1], bias=4).feedforward([2, 3])
    0.9990889488055994
    """

    def __init__(self, weights, bias, activation="sigmoid", dtype="float64", backend="cython"):
        w = v._as_numeric_array(weights, "weights")
        if w.ndim != 1 or w.size == 0:
            raise ValueError(f"weights must be a non-empty 1-D sequence, got shape {w.shape}")
        bias_arr = v._as_numeric_array(bias, "bias")
        if bias_arr.ndim != 0 and bias_arr.shape != (1,):
            raise ValueError(f"bias must be a single number, got shape {bias_arr.shape}")
        self._net = Network([w.size, 1], activation=activation, dtype=dtype, backend=backend)
        self._net.set_weights([(w.reshape(-1, 1), bias_arr.reshape(1))])

    @property
    def weights(self):
        return self._net._layers[0][0][:, 0].copy()

    @property
    def bias(self):
        return float(self._net._layers[0][1][0])

    def feedforward(self, inputs):
        """The neuron's output: a float for one sample, an (n,) array for a batch."""
        out = self._net.feedforward(inputs)
        return float(out[0]) if out.ndim == 1 else out[:, 0]

    def __repr__(self):
        return (f"Neuron(weights={self.weights.tolist()}, bias={self.bias}, "
                f"activation={self._net.activations[0].spec!r})")
