"""The public model classes: Network and Neuron.

This layer owns the API: it validates and converts every input, keeps the
parameters in one flat buffer, and hands the work to a backend, either the
compiled core (``backend="cython"``, the default) or the NumPy reference
(``backend="numpy"``). Both give the same bits.
"""
from __future__ import annotations

import copy
import functools
import numbers
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _digest, _modelfile, _summary, _to_torch, metrics, schedules
from . import _registry as registry
from . import _schema as schema
from . import _validation as v
from . import callbacks as callbacks_mod
from . import reference as ref
from ._backends import BACKENDS
from ._csr import CSRRows
from ._guard import Guard
from ._history import History
from ._layout import Layout, NetworkState
from ._progress import Progress, batch_hook, check_verbose

if TYPE_CHECKING:
    import os

    import torch

    from ._backends import CoreBackend, NumpyBackend
    from ._schema import ActivationSpec
    from .callbacks import Callback

_P = ParamSpec("_P")
_R = TypeVar("_R")
#: An array of the network's dtype (float64 or float32).
FloatArray = NDArray[np.floating[Any]]
#: One (W, b) pair per layer: W of shape (n_in, n_out), b of shape (n_out,).
Weights = list[tuple[FloatArray, FloatArray]]

MAX_WIDTH = 1 << 24          # widest layer (as model files allow)
MAX_PARAMS = 1 << 31         # weights and biases of one network (16 GiB in float64)
MAX_EPOCHS = 1 << 40         # more than any run could finish; bounds the epoch counters


def check_backend(backend: object) -> str:
    """`backend` if it names a backend ("cython" or "numpy"); else a TypeError
    or ValueError that names the argument."""
    if not isinstance(backend, str):
        raise TypeError(f"backend must be a name (str), one of {', '.join(BACKENDS)}; "
                        f"got {type(backend).__name__}")
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; valid: {', '.join(BACKENDS)}")
    return backend


def check_layer_sizes(layer_sizes: Sequence[int], dtype: Any = "float64") -> tuple[int, ...]:
    """`layer_sizes` as a tuple if a network of them can be built here.

    Checks the widths (1 .. ``MAX_WIDTH``), the parameter count
    (``MAX_PARAMS``) and the bytes the weights and the optimizer's two moments
    need against :func:`cyneuron._validation.memory_limit` (the machine's
    physical memory unless ``CYNEURON_MAX_BYTES`` is set), before anything is
    allocated.

    Raises
    ------
    TypeError, ValueError
        Naming ``layer_sizes`` and the size.
    """
    sizes = _check_sizes(layer_sizes)
    n_params = Layout(sizes).n_params
    v.check_memory(3 * n_params * v.resolve_dtype(dtype).itemsize,
                   f"layer_sizes {list(sizes)} ({n_params} weights and biases, and the "
                   f"optimizer's two moments of each)")
    return sizes


def _check_sizes(layer_sizes: Sequence[int]) -> tuple[int, ...]:
    if not isinstance(layer_sizes, (list, tuple, range, np.ndarray)):
        raise TypeError(f"layer_sizes must be a list or tuple of integers, e.g. [2, 2, 1]; "
                        f"got {type(layer_sizes).__name__}")
    sizes = list(layer_sizes)
    if len(sizes) < 2:
        raise ValueError(f"layer_sizes needs at least an input and an output width, "
                         f"got {sizes}")
    out = []
    for i, s in enumerate(sizes):
        if isinstance(s, bool) or not isinstance(s, numbers.Integral):
            raise TypeError(f"layer_sizes[{i}] must be an integer, got {s!r}")
        if not 1 <= s <= MAX_WIDTH:  # type: ignore[operator]  # Integral lacks <= in typeshed
            raise ValueError(f"layer_sizes[{i}] must be between 1 and {MAX_WIDTH}, got {s}")
        out.append(int(s))
    n_params = Layout(out).n_params
    if n_params > MAX_PARAMS:
        raise ValueError(f"layer_sizes {out} need {n_params} weights and biases, more than "
                         f"the {MAX_PARAMS} a network may have")
    return tuple(out)


def check_dropout(dropout: float | Sequence[float], n_layers: int) -> tuple[float, ...]:
    """The per-layer dropout rates of a network of `n_layers` layers.

    Parameters
    ----------
    dropout : float or sequence of float
        One rate in [0, 1) for every hidden layer, or one per hidden layer.
    n_layers : int
        The network's weight layers (hidden layers and the output layer).

    Returns
    -------
    tuple of float
        One rate per layer; the output layer's is 0 (it never drops).

    Raises
    ------
    TypeError, ValueError
        Naming ``dropout`` and the value.
    """
    hidden = n_layers - 1
    if isinstance(dropout, (list, tuple)):
        if len(dropout) != hidden:
            raise ValueError(f"dropout list has {len(dropout)} rates, but the network has "
                             f"{hidden} hidden layer(s)")
        rates = [v.check_real(r, "dropout", minimum=0.0, maximum=1.0, max_strict=True)
                 for r in dropout]
    else:
        r = v.check_real(dropout, "dropout", minimum=0.0, maximum=1.0, max_strict=True)
        if r and not hidden:
            raise ValueError("dropout applies to hidden layers; this network has none")
        rates = [r] * hidden
    return tuple(rates) + (0.0,)


# A loss this many times the reference (Network.reference_loss) in a fit's last
# epoch is divergence. Measured on digits, diabetes and noise data (30 epochs of
# SGD, momentum, Nesterov, Adam and RMSprop at learning rates 1e-3 .. 1e6, batches
# of 32 and full batch): every run that trained ended below 1.1x it; runs at rates
# far too high ended at 1.6x - 2.8x (bouncing without learning) or, when the loss
# ran away with finite weights, at 3.5x - 1e19x.
DIVERGENCE_FACTOR = 2.0


def runaway_warning(last: float, reference: float, epoch: int, rate: str
                    ) -> DivergenceWarning | None:
    """The warning for a fit whose last epoch's loss `last` ran away from
    `reference` (the larger of the loss before the call's first update and a
    constant prediction's, ``Network.reference_loss``), or None.

    `epoch` numbers the last epoch for the message; `rate` names the learning
    rate the call used (e.g. ``"learning_rate 0.1"``). Network.fit and the
    estimators' fits hold their losses to this one rule.
    """
    if not last > DIVERGENCE_FACTOR * reference:
        return None
    return DivergenceWarning(
        f"the loss ran away: {last:.4g} in the last epoch (epoch {epoch}), against "
        f"{reference:.4g} before this call's first update (the larger of the network's loss "
        f"then and a constant prediction's); the weights are finite but poor. Try a lower "
        f"{rate.split()[0]} (this call used {rate}), clipnorm, or scaled inputs.")


class DivergenceError(ValueError):
    """fit stopped because the loss or the weights stopped being finite.

    The network is left as it was before the call (weights, optimizer state,
    Generator position); the message names the epoch.
    """


class DivergenceWarning(RuntimeWarning):
    """A fit's loss ran away while the weights stayed finite.

    Raised as a warning (the weights are usable, if poor): the message gives
    the loss at the start and the end of the call and suggests a lower
    learning rate. Non-finite weights raise :class:`DivergenceError` instead.
    """

INITS = ("uniform", "xavier", "he")
REDUCTIONS = ("sum_over_batch_size", "weighted_mean")
NUMERICS = ref.NUMERICS


def _writes(method: Callable[Concatenate[Network, _P], _R]
            ) -> Callable[Concatenate[Network, _P], _R]:
    @functools.wraps(method)
    def wrapper(self: Network, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        with self._guard.writing():
            return method(self, *args, **kwargs)
    return wrapper


def _reads(method: Callable[Concatenate[Network, _P], _R]
           ) -> Callable[Concatenate[Network, _P], _R]:
    @functools.wraps(method)
    def wrapper(self: Network, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        return self._guard.read(method, self, *args, **kwargs)
    return wrapper


class Network:
    """A fully connected feed-forward network.

    Parameters
    ----------
    layer_sizes : sequence of int
        Widths from the input to the output, e.g. ``[2, 2, 1]``.
    activation : str, tuple or list
        One activation for every layer, or a list with one per layer
        (``"sigmoid"``, ``"tanh"``, ``"relu"``, ``("leaky_relu", 0.1)``,
        ``"identity"``, ``"softplus"``, ``"silu"`` (alias ``"swish"``),
        ``("elu", alpha)`` (alpha 1.0 by default), ``"gelu"`` (the tanh
        form), and ``"softmax"`` for the output layer).
    loss : str
        ``"mse"`` (mean of the squared errors over all elements), ``"sse"``
        (half their sum: gradient a - y), ``"binary_crossentropy"`` (sigmoid
        output, 0/1 or probability targets), ``"categorical_crossentropy"``
        (softmax output; class indices, one-hot or multi-hot rows), and
        scikit-learn's ``"squared_error"`` (half the squared error summed
        over a row's outputs, mean over rows) and ``"binary_log_loss"``
        (binary cross-entropy summed over a row's outputs). Aliases:
        ``"bce"``, ``"log_loss"``, ``"cce"``, ``"crossentropy"``,
        ``"mean_squared_error"``. Cross-entropy targets must lie in [0, 1].
    seed : int, numpy.random.Generator or None
        Seeds the network's own Generator (initialisation, and later
        shuffling and dropout).
    dtype : {"float64", "float32"}, default="float64"
        The type of the weights, the outputs, the gradients and the
        optimizer state.
    backend : {"cython", "numpy"}, default="cython"
        The compiled core, or the NumPy reference (:mod:`cyneuron.reference`):
        the same bits.
    init : {"xavier", "he", "uniform"}, default="xavier"
        The initial weights: "xavier" is Glorot uniform (Keras' default),
        U(-r, r) with r = sqrt(6 / (n_in + n_out)); "he" takes
        r = sqrt(6 / n_in); "uniform" is U[-1, 1), as in the tutorials.
        Every bias starts at 0.
    output_activation : str, optional
        Overrides the activation of the output layer only.
    l1, l2 : float
        Penalties ``l1 * sum|W| + l2 * sum W**2`` added to each batch's loss
        (weights only, biases are not penalised).
    dropout : float or list of float
        Inverted-dropout rate in [0, 1) of the hidden layers' outputs during
        training (kept outputs scaled by 1 / (1 - rate); never the output
        layer, never at inference): one rate for every hidden layer, or a list
        with one per hidden layer. The masks are drawn from the network's
        Generator.
    n_threads : int
        Threads for the large matrix products of the compiled core (1: none,
        -1: every CPU this process may use). Each output element is computed
        by one thread in the fixed order, so results are bit-identical for
        every thread count; products too small to gain run on one thread.
    reduction : {"sum_over_batch_size", "weighted_mean"}
        What a batch's loss is divided by: its row count (Keras; sample
        weights scale each sample's term), or the sum of its sample weights,
        the penalty included (scikit-learn: an integer weight is the same as
        repeating the sample, and l2 = alpha / 2 is scikit-learn's alpha). A
        batch whose weights sum to 0 takes no step.
    numerics : {"numpy", "portable"}
        Where exp, tanh, log and log1p come from. ``"numpy"`` (default):
        NumPy's own functions, so results agree bit for bit with the NumPy
        installed, on this machine. ``"portable"``: cyneuron's own, each a
        fixed sequence of IEEE-754 operations, so a model trains to the same
        bits on every machine with IEEE binary64/binary32 arithmetic
        (round-to-nearest, subnormals not flushed; see the docs' page on
        portable numerics).

    Attributes
    ----------
    stop_training : bool
        Set by a callback to end the running fit after the current epoch.
    learning_rate : float or None
        The `learning_rate` of the running or last fit (None before any).
    lr_multiplier : float
        Multiplies the running fit's learning rate (its schedule's value) from
        the next epoch on; every fit starts it at 1.0, and callbacks such as
        :class:`cyneuron.callbacks.ReduceLROnPlateau` lower it.

    Notes
    -----
    Sparse inputs: wherever a method takes X (``fit`` and its
    ``validation_data``, ``feedforward``, ``gradients``, ``loss_and_gradients``,
    ``train_step``, ``evaluate``), a scipy sparse matrix or array in CSR, CSC
    or COO form is accepted. It is converted once to sorted, de-duplicated
    compressed rows and never densified; the first layer's products skip its
    zeros. While the weights are finite (``fit`` never leaves them otherwise)
    the results are those of ``X.toarray()`` to the bit (see the docs' page
    on the numerical contract).
    """

    optimizer: registry.Optimizer | None
    rng: np.random.Generator
    stop_training: bool
    lr_multiplier: float
    learning_rate: float | None

    def __init__(self, layer_sizes: Sequence[int],
                 activation: ActivationSpec | list[ActivationSpec] = "sigmoid",
                 loss: str = "mse", seed: int | np.random.Generator | None = None,
                 dtype: str | type | np.dtype[Any] = "float64", backend: str = "cython",
                 init: str = "xavier", output_activation: ActivationSpec | None = None,
                 l1: float = 0.0,
                 l2: float = 0.0, dropout: float | Sequence[float] = 0.0, n_threads: int = 1,
                 reduction: str = "sum_over_batch_size", numerics: str = "numpy") -> None:
        self._guard = Guard()
        sizes = _check_sizes(layer_sizes)
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
        lossobj = registry.loss(loss)
        if lossobj.output is not None and acts[-1].name != lossobj.output:
            raise ValueError(f"loss {lossobj.name!r} needs a {lossobj.output} output layer, "
                             f"got {acts[-1].name!r}; use output_activation="
                             f"{lossobj.output!r}")
        if acts[-1].name == "softmax" and sizes[-1] < 2:
            raise ValueError("a softmax output needs at least 2 units")
        check_backend(backend)
        if init not in INITS:
            raise ValueError(f"unknown init {init!r}; valid: {', '.join(INITS)}")
        if not isinstance(reduction, str) or reduction not in REDUCTIONS:
            raise ValueError(f"reduction must be one of {', '.join(REDUCTIONS)}, "
                             f"got {reduction!r}")
        if not isinstance(numerics, str) or numerics not in NUMERICS:
            raise ValueError(f"numerics must be one of {', '.join(NUMERICS)}, got {numerics!r}")
        if reduction == "weighted_mean" and not lossobj.is_mean:
            raise ValueError(f"reduction='weighted_mean' needs a loss that is a mean; "
                             f"{lossobj.name!r} is a sum")

        self._layer_sizes = sizes
        self._activations = tuple(acts)
        self._loss = lossobj
        self._dtype = v.resolve_dtype(dtype)
        self.l1 = l1
        self.l2 = l2
        for l, a in enumerate(acts):
            v.check_fits(a.param, self.dtype, f"the leaky_relu slope of layer {l + 1}")
        self._dropout = check_dropout(dropout, n_layers)
        self.n_threads = n_threads
        self.stop_training = False
        self.lr_multiplier = 1.0
        self.learning_rate = None
        self._backend = backend
        self._init = init
        self._reduction = reduction
        self._numerics = numerics
        self._weighted_mean = reduction == "weighted_mean"
        self.rng = self._make_rng(seed)
        self._seed = None if seed is None or isinstance(seed, np.random.Generator) else int(seed)

        # One flat parameter buffer [W1, b1, W2, b2, ...] laid out by the
        # Layout, and the per-layer views into it.
        layout = Layout(sizes)
        total = layout.n_params
        check_layer_sizes(sizes, self.dtype)
        try:
            params = np.zeros(total, dtype=self.dtype)
        except MemoryError:
            raise ValueError(f"layer_sizes {list(sizes)} need {total} weights and biases "
                             f"({total * self.dtype.itemsize / 2**30:.1f} GiB): more memory "
                             f"than this process can have") from None
        self._state = NetworkState(layout, params)
        # the network's own shorthands for the state's arrays that are never replaced
        self._params = params
        self._layers = self._state.layers
        self._engine: CoreBackend | NumpyBackend = BACKENDS[backend](self)
        self._initialise()
        self.reset_optimizer()

    # --- the architecture: read-only after construction ----------------------------------
    # The compiled core's buffers are laid out from these; changing one would
    # leave them describing another network.

    layer_sizes = property(lambda self: self._layer_sizes,
                           doc="Widths from the input to the output (a tuple).")
    activations = property(lambda self: self._activations,
                           doc="The activation of every layer (registry entries).")
    loss = property(lambda self: self._loss, doc="The loss (a registry entry).")
    dtype = property(lambda self: self._dtype, doc="float64 or float32 (numpy.dtype).")
    dropout = property(lambda self: self._dropout,
                       doc="Dropout rate of every layer's output (the last is 0).")
    backend = property(lambda self: self._backend, doc='"cython" or "numpy".')
    init = property(lambda self: self._init, doc="The initialisation's name.")
    reduction = property(lambda self: self._reduction,
                         doc='"sum_over_batch_size" or "weighted_mean".')
    numerics = property(lambda self: self._numerics,
                        doc='"numpy" or "portable": whose exp, tanh, log and log1p.')

    # --- construction helpers ---------------------------------------------------

    @property
    def n_threads(self) -> int:
        """Threads for the compiled core's large products (bits do not depend on it)."""
        return self._n_threads

    @n_threads.setter
    def n_threads(self, value: int) -> None:
        self._n_threads = v.check_threads(value)

    # The penalties may change between fits (as a learning rate may), but only
    # to values a fit can use: checked on assignment, not in the epoch loop.
    @property
    def l1(self) -> float:
        """L1 penalty factor (>= 0, finite in the network's dtype)."""
        return self._l1

    @l1.setter
    def l1(self, value: float) -> None:
        self._l1 = v.check_fits(v.check_real(value, "l1", minimum=0.0), self.dtype, "l1")

    @property
    def l2(self) -> float:
        """L2 penalty factor (>= 0, finite in the network's dtype)."""
        return self._l2

    @l2.setter
    def l2(self, value: float) -> None:
        self._l2 = v.check_fits(v.check_real(value, "l2", minimum=0.0), self.dtype, "l2")

    @staticmethod
    def _make_rng(seed: int | np.random.Generator | None) -> np.random.Generator:
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
    def n_inputs(self) -> int:
        return self.layer_sizes[0]

    @property
    def n_outputs(self) -> int:
        return self.layer_sizes[-1]

    @property
    def n_params(self) -> int:
        return int(self._params.size)

    # --- the declared surface: what the estimators, the formats and the exporters use ---
    # They ask for these public names, never for the attributes behind them:
    # ``state`` (the numbers and their layout), ``guard`` (the thread
    # discipline), and the training protocol below (``forward_array``,
    # ``batch_gradient``, ``train_epochs``, ``use_optimizer``, ``snapshot`` /
    # ``restore``, ``reference_loss`` / ``constant_loss``), all on arrays
    # already validated for this network.

    @property
    def state(self) -> NetworkState:
        """The network's numbers: parameters, optimizer state, layout.

        One :class:`cyneuron._layout.NetworkState` for the network's life; its
        arrays are the network's own, so writing into them changes the
        network (hold :attr:`guard` while doing so from another thread).
        """
        return self._state

    @property
    def guard(self) -> Guard:
        """The network's read/write guard (:class:`cyneuron._guard.Guard`).

        A change made from outside the network's own methods (an estimator's
        fit) runs inside ``with net.guard.writing():``; a read of several
        arrays that must agree, inside ``net.guard.read(fn)``.
        """
        return self._guard

    def __repr__(self) -> str:
        acts = [a.spec for a in self.activations]
        act = acts[0] if all(a == acts[0] for a in acts) else acts
        return (f"Network({list(self.layer_sizes)}, activation={act!r}, "
                f"loss={self.loss.name!r}, dtype={self.dtype.name!r}, "
                f"backend={self.backend!r}, params={self.n_params}, "
                f"digest={self.digest()[:12]!r})")

    def digest(self) -> str:
        """SHA-256 of the architecture, dtype and weights.

        Equal digests mean the same function, to the bit; the exact bytes
        hashed are documented in ``cyneuron._digest``. ``repr`` shows the
        first 12 digits; ``cn.save`` stores it and ``cn.load`` checks it.

        Returns
        -------
        str
            64 hexadecimal digits.
        """
        return _digest.network_digest(self)

    def save(self, path: str | os.PathLike[str]) -> str:
        """Write this network to a model file (``cn.save(self, path)``).

        Parameters
        ----------
        path : str or os.PathLike
            ``.npz`` is added if missing; a ``.safetensors`` path writes that
            format. ``cn.load(path)`` reads it back.

        Returns
        -------
        str
            The path written.
        """
        return _modelfile.write(path, "Network", self.state_for_file)  # type: ignore[return-value]

    def to_torch(self) -> torch.nn.Sequential:
        """A ``torch.nn.Sequential`` of Linear layers and activations computing this network.

        Needs ``pip install 'cyneuron[torch]'``; :func:`cyneuron.from_torch`
        reads one back.

        Returns
        -------
        torch.nn.Sequential
            The same weights, bit for bit, in PyTorch's layout.
        """
        return _to_torch.to_torch(self)

    # --- model files: the surface cyneuron._schema and cyneuron.io use -------------------

    @_reads
    def state_for_file(self, prefix: str = "") -> tuple[dict[str, Any], dict[str, FloatArray]]:
        """Return this network's model-file header and arrays.

        The arrays are copies taken under the guard, so that what is written
        cannot change under a concurrent fit; both are checked as loading
        checks them.

        Parameters
        ----------
        prefix : str, default=""
            Goes before every array's key (an estimator stores its network under one).

        Returns
        -------
        meta : dict
            The header (:func:`cyneuron._schema.network_state`).
        arrays : dict of str to numpy.ndarray
            The parameters and the optimizer state, by name.

        Raises
        ------
        ValueError
            If the network cannot be stored.
        """
        meta, arrays = schema.network_state(self, self._layers, self._state.opt_state,
                                            self._state.opt_scalars, prefix)
        return meta, {k: np.array(a) for k, a in arrays.items()}

    @classmethod
    def from_file_state(cls, meta: Mapping[str, Any], arrays: Mapping[str, Any], *,
                        prefix: str = "", backend: str = "cython") -> Network:
        """The network a model file's header `meta` and `arrays` describe.

        Every field is checked (:func:`cyneuron._schema.check_network_header`,
        then this constructor's own rules, then the arrays, the optimizer
        state and the stored digest). The arrays are copied.

        Parameters
        ----------
        meta : mapping
            The header, as :meth:`state_for_file` writes it.
        arrays : mapping of str to numpy.ndarray
            The arrays, as :meth:`state_for_file` writes them.
        prefix : str, default=""
            Before every array's key.
        backend : {"cython", "numpy"}, default="cython"

        Returns
        -------
        Network

        Raises
        ------
        ValueError
            Naming the field, for anything a saved network could not hold.
        """
        net = cls.__new__(cls)
        net.__setstate__({"meta": meta, "arrays": arrays, "prefix": prefix, "backend": backend})
        return net

    # --- pickle and copy: a model file's state, checked again on the way back -----------

    @_reads
    def __getstate__(self) -> dict[str, Any]:
        """The state pickle and :mod:`copy` take: the model file's header and arrays
        (:meth:`state_for_file`), and what a file does not keep (backend,
        ``n_threads``, init seed, random generator, the training settings a
        fit left). Both copies are independent networks."""
        meta, arrays = self.state_for_file()
        return {"meta": meta, "arrays": arrays, "backend": self._backend,
                "n_threads": self._n_threads, "seed": self._seed,
                "rng": copy.deepcopy(self.rng), "stop_training": self.stop_training,
                "lr_multiplier": self.lr_multiplier, "learning_rate": self.learning_rate}

    def __setstate__(self, state: Mapping[str, Any]) -> None:
        """Become the network `state` describes (unpickling, :mod:`copy`,
        :meth:`from_file_state`): every field checked as a loaded file's is."""
        if not isinstance(state, Mapping) or not {"meta", "arrays"} <= set(state):
            raise ValueError("bad network state: expected a mapping with 'meta' and 'arrays' "
                             "(Network.__getstate__)")
        meta, arrays = state["meta"], state["arrays"]
        if not isinstance(arrays, Mapping):
            raise ValueError(f"bad network state: 'arrays' must map names to arrays, got "
                             f"{type(arrays).__name__}")
        spec = schema.check_network_header(meta)
        try:
            Network.__init__(self, spec["sizes"], activation=spec["activations"],
                             loss=spec["loss"], dtype=spec["dtype"].name,
                             backend=state.get("backend", "cython"), init=spec["init"],
                             l1=spec["l1"], l2=spec["l2"], dropout=spec["dropout"],
                             reduction=spec["reduction"], numerics=spec["numerics"],
                             seed=state.get("seed"), n_threads=state.get("n_threads", 1))
        except (TypeError, ValueError, OverflowError) as exc:
            raise ValueError(str(exc)) from None
        weights, opt_state = schema.network_arrays(spec, arrays, state.get("prefix", ""))
        self.set_weights(weights)
        _digest.check_stored(meta.get("digest"), self)
        if spec["optimizer"] is not None:
            self.use_optimizer(spec["optimizer"].name, spec["optimizer"].params)
        self._state.opt_state[...] = opt_state
        self._state.opt_scalars[...] = spec["scalars"]
        rng = state.get("rng")
        if rng is not None and not isinstance(rng, np.random.Generator):
            raise ValueError(f"bad network state: 'rng' must be a numpy Generator, got "
                             f"{type(rng).__name__}")
        if rng is not None:
            self.rng = rng                  # any bit generator (a file keeps PCG64 only)
        elif spec["rng"] is not None:
            self.rng = schema.generator(spec["rng"])
        if "lr_multiplier" in state:
            # the settings a fit left, as fit and the callbacks keep them
            stop, mult, lr = (state.get(k) for k in
                              ("stop_training", "lr_multiplier", "learning_rate"))
            try:
                mult_f = v.check_real(mult, "lr_multiplier", minimum=0.0, strict=True)
                lr_f = (None if lr is None
                        else v.check_real(lr, "learning_rate", minimum=0.0, strict=True))
                ok = isinstance(stop, bool)
            except (TypeError, ValueError):
                ok = False
            if not ok:
                raise ValueError(f"bad network state: stop_training={stop!r:.40}, "
                                 f"lr_multiplier={mult!r:.40}, learning_rate={lr!r:.40}")
            self.stop_training = bool(stop)
            self.lr_multiplier = mult_f
            self.learning_rate = lr_f

    # --- weights ---------------------------------------------------------------------

    @_reads
    def get_weights(self) -> Weights:
        """A list of (W, b) copies, W of shape (n_in, n_out), b of shape (n_out,).

        Returns
        -------
        list of (numpy.ndarray, numpy.ndarray)
            One pair per layer, from the input side.
        """
        return [(W.copy(), b.copy()) for W, b in self._layers]

    @_writes
    def set_weights(self, weights: Sequence[tuple[ArrayLike, ArrayLike]]) -> None:
        """Replace all weights and biases; nothing changes unless all of them are valid.

        Parameters
        ----------
        weights : list of (W, b) pairs
            One pair per layer, W of shape (n_in, n_out) and b of shape (n_out,).
        """
        if not isinstance(weights, (list, tuple)):
            raise TypeError(f"weights must be a list of (W, b) pairs, got "
                            f"{type(weights).__name__}")
        if len(weights) != len(self._layers):
            raise ValueError(f"weights has {len(weights)} layer(s), the network has "
                             f"{len(self._layers)}")
        new = []
        for l, (pair, (W, b)) in enumerate(zip(weights, self._layers)):
            if not isinstance(pair, (list, tuple)) or len(pair) != 2:
                raise TypeError(f"weights[{l}] must be a pair (W, b), got "
                                f"{type(pair).__name__}")
            Wn = v.as_float(v._as_numeric_array(pair[0], f"W{l + 1}"), self.dtype, f"W{l + 1}")
            bn = v.as_float(v._as_numeric_array(pair[1], f"b{l + 1}"), self.dtype, f"b{l + 1}")
            if Wn.shape != W.shape:
                raise ValueError(f"W{l + 1} has shape {Wn.shape}, expected {W.shape}")
            if bn.shape != b.shape:
                raise ValueError(f"b{l + 1} has shape {bn.shape}, expected {b.shape}")
            new.append((Wn, bn))
        # one store into the flat buffer: Ctrl-C cannot land between two layers
        self._params[...] = np.concatenate([a.ravel() for pair in new for a in pair])

    # --- inference ---------------------------------------------------------------------

    def feedforward(self, X: ArrayLike) -> FloatArray:
        """Network output: X (n, n_in) -> (n, n_out); a 1-D sample -> (n_out,).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_inputs) or (n_inputs,)
            Or a scipy sparse matrix or array (CSR, CSC, COO) of shape
            (n_samples, n_inputs): the bits of its dense copy.

        Returns
        -------
        numpy.ndarray of shape (n_samples, n_outputs) or (n_outputs,)
            The network's outputs, in its dtype.
        """
        out = self.try_forward(X)
        return out if out is not None else self._guard.read(self._feedforward_checked, X)

    def try_forward(self, X: Any) -> FloatArray | None:
        """feedforward of an input the core takes as it is, or None.

        An ndarray of this dtype and width, C order, finite, is checked and
        computed in one core call; any other input, and a call that
        overlapped a change of the network, gives None, and the caller takes
        the checked path (``feedforward``; the estimators' ``predict``).

        Parameters
        ----------
        X : object
            Anything; only a 2-D ndarray can take this path.

        Returns
        -------
        numpy.ndarray of shape (n_samples, n_outputs) or None
            The outputs, or None when X must take the checked path.
        """
        fast = self._engine.fast_forward
        if fast is not None:
            # Guard.attempt's test written out: a one-row call costs about 0.8 us,
            # and a call through *args would add a tenth to it (W5)
            g = self._guard
            v0 = g.version
            if not v0 & 1:
                out = fast(self._params, X, self._n_threads)
                if g.version == v0:
                    return out
        return None

    def _feedforward_checked(self, X):
        x, single = v.check_inputs(X, self.n_inputs, self.dtype)
        out = self.forward_array(x)
        return out[0] if single else out

    predict = feedforward

    def forward_array(self, x: FloatArray) -> FloatArray:
        """The output for a batch already validated for this network (training protocol).

        Parameters
        ----------
        x : numpy.ndarray of shape (n_samples, n_inputs)
            Of the network's dtype, C order, finite (as ``feedforward`` makes it).

        Returns
        -------
        numpy.ndarray of shape (n_samples, n_outputs)
            The network's outputs, in its dtype.
        """
        return self._engine.forward(x)

    # --- training ----------------------------------------------------------------------

    def _check_xy(self, X, y, xname="X", yname="y"):
        x, single = v.check_inputs(X, self.n_inputs, self.dtype, xname)
        t = v.check_targets(y, x.shape[0], self.n_outputs, self.dtype, single, yname)
        if self.loss.classification:
            lo, hi = float(t.min()), float(t.max())
            if lo < 0 or hi > 1:
                raise ValueError(
                    f"{yname} must lie in [0, 1] for the loss {self.loss.name!r} (0/1 labels "
                    f"or probabilities" + (", or class indices" if self.n_outputs > 1 else "")
                    + f"); it holds values from {lo:g} to {hi:g}. Map labels such as "
                    f"{{1, 2}} or {{-1, 1}} to 0/1, or use cyneuron.MLPClassifier, which "
                    f"accepts any labels.")
        return x, t

    def batch_gradient(self, x: FloatArray, t: FloatArray, w: FloatArray | None = None
                       ) -> tuple[np.floating[Any], FloatArray]:
        """The loss and flat gradient of a validated batch (training protocol).

        Parameters
        ----------
        x : numpy.ndarray of shape (n_samples, n_inputs)
            Inputs validated as ``fit`` validates them, in the network's dtype.
        t : numpy.ndarray of shape (n_samples, n_outputs)
            Validated as ``fit`` validates them, in the network's dtype.
        w : numpy.ndarray of shape (n_samples,), optional
            Sample weights.

        Returns
        -------
        loss : numpy.floating
            Penalty included.
        gradient : numpy.ndarray of shape (n_params,)
            Laid out as :attr:`state` ``.params`` (``state.layout.views`` splits it).
        """
        return self._engine.loss_and_gradients(x, t, w)

    def _unflatten(self, flat):
        return [(W.copy(), b.copy()) for W, b in self._state.layout.views(flat)]

    @_reads
    def gradients(self, X: ArrayLike, y: ArrayLike) -> Weights:
        """Gradient of the loss on (X, y): a list of (dW, db) shaped like the weights.

        Dropout is not applied (it is a training-time draw); L1/L2 penalties are.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_inputs)
            Inputs, or a scipy sparse matrix.
        y : array-like of shape (n_samples, n_outputs)
            Targets; class indices or one-hot rows for categorical_crossentropy.

        Returns
        -------
        list of (numpy.ndarray, numpy.ndarray)
            One (dW, db) pair per layer, shaped like the weights.
        """
        x, t = self._check_xy(X, y)
        return self._unflatten(self.batch_gradient(x, t)[1])

    @_reads
    def loss_and_gradients(self, X: ArrayLike, y: ArrayLike) -> tuple[float, Weights]:
        """(loss, gradients) on (X, y) in one pass.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_inputs)
            Inputs, or a scipy sparse matrix.
        y : array-like of shape (n_samples, n_outputs)
            Targets; class indices or one-hot rows for categorical_crossentropy.

        Returns
        -------
        loss : float
            The loss on (X, y), penalties included.
        gradients : list of (dW, db) pairs, shaped like the weights
            One (dW, db) pair per layer, shaped like the weights.
        """
        x, t = self._check_xy(X, y)
        value, flat = self.batch_gradient(x, t)
        return float(value), self._unflatten(flat)

    @_writes
    def train_step(self, X: ArrayLike, y: ArrayLike, learning_rate: float) -> float:
        """One plain gradient-descent step on the batch (X, y): ``W = W - lr * dW``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_inputs)
            Inputs, or a scipy sparse matrix.
        y : array-like of shape (n_samples, n_outputs)
            Targets; class indices or one-hot rows for categorical_crossentropy.
        learning_rate : float
            Positive and finite in the weights' dtype.

        Returns
        -------
        float
            The loss before the step.
        """
        lr = v.check_fits(v.check_real(learning_rate, "learning_rate", minimum=0.0, strict=True),
                          self.dtype, "learning_rate")
        x, t = self._check_xy(X, y)
        loss, grads = self.batch_gradient(x, t)
        value = float(loss)
        # W = W - lr * dW, elementwise: the flat update gives the reference's bits.
        # It is the call's one change and its last statement, a single store:
        # Ctrl-C before it leaves the network as it was.
        self._params[...] = self._params - self.dtype.type(lr) * grads
        return value

    # --- optimizer state (part of the model) -------------------------------------------

    @_writes
    def reset_optimizer(self) -> None:
        """Forget the optimizer and its state (moments, step count)."""
        self.optimizer = None
        self._state.reset_optimizer_state()

    def use_optimizer(self, optimizer: str | registry.Optimizer,
                      params: Mapping[str, Any] | None) -> None:
        """Train with `optimizer` from now on, keeping its state if it is the one in use.

        Another optimizer, or other hyperparameters, start from fresh state
        (as ``reset_optimizer``). Training protocol: call it before
        :meth:`train_epochs`, under ``guard.writing()``.

        Parameters
        ----------
        optimizer : str or cyneuron._registry.Optimizer
            A name, or an Optimizer already resolved.
        params : mapping or None
            Hyperparameters over the optimizer's defaults (None with a
            resolved Optimizer: take it as it is).
        """
        # fit hands in what it has just resolved; everything else is resolved here
        opt = (optimizer if isinstance(optimizer, registry.Optimizer) and params is None
               else registry.optimizer(optimizer, **(params or {})))
        if self.optimizer is None or opt != self.optimizer or opt.params != self.optimizer.params:
            self.reset_optimizer()
            self.optimizer = opt

    # --- fit ------------------------------------------------------------------------------

    @_writes
    def fit(self, X: ArrayLike, y: ArrayLike, epochs: int = 1,
            learning_rate: float | None = None, batch_size: int | None = None,
            optimizer: str | registry.Optimizer | None = None,
            optimizer_params: dict[str, Any] | None = None,
            shuffle: bool = True, lr_schedule: Any = None, clipnorm: float | None = None,
            validation_data: tuple[ArrayLike, ArrayLike] | None = None,
            validation_split: float = 0.0, callbacks: Sequence[Callback] | None = None,
            sample_weight: ArrayLike | None = None,
            class_weight: dict[int, float] | str | None = None, verbose: int = 0) -> History:
        """Train the network and return a History.

        Parameters
        ----------
        X : array-like or scipy sparse matrix of shape (n_samples, n_inputs)
            Training inputs. A sparse matrix or array (CSR, CSC, COO) trains
            to the bits of its dense copy, its mini-batches read from it in
            place.
        y : array-like of shape (n_samples, n_outputs) or (n_samples,)
            Targets; classifiers also take class indices.
        epochs : int, default=1
            Passes over the data.
        learning_rate : float, optional
            The initial learning rate (see `lr_schedule`); None takes the
            optimizer's default, as in Keras (sgd and momentum 0.01, rmsprop,
            adam and adamw 0.001).
        batch_size : int, optional
            None for full-batch gradient descent, 1 for per-sample SGD,
            anything else for mini-batches (the last one may be smaller).
        optimizer : str or Optimizer, optional
            "sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw", or an
            object of :mod:`cyneuron.optimizers`. None (the default) goes on
            with the optimizer the network trains with (a loaded model's
            too), and plain "sgd" for a network that has none yet. Its state
            persists across ``fit`` calls while the optimizer stays the same
            (``reset_optimizer()`` clears it).
        optimizer_params : dict, optional
            Overrides the hyperparameters of the optimizer (the one named, or
            the network's), over its defaults.
        shuffle : bool, default=True
            Reshuffle the mini-batches every epoch with the network's Generator.
        lr_schedule : str, Schedule or callable, optional
            None or "constant", "step", "exponential", "invscaling", an object
            of :mod:`cyneuron.schedules`, or a function ``f(epoch, lr0) -> lr``.
        clipnorm : float, optional
            Rescale each batch's whole gradient to at most this norm.
        validation_data : tuple of (X_val, y_val), optional
            Data to compute ``val_loss`` (and ``val_accuracy``) on after each
            epoch.
        validation_split : float, default=0.0
            Instead of `validation_data`: the last fraction of (X, y), held
            out before shuffling (Keras).
        callbacks : list of callable or Callback, optional
            Functions ``f(epoch, logs)`` or :class:`cyneuron.Callback` objects
            (e.g. :class:`cyneuron.EarlyStopping`), called once per epoch.
        sample_weight : array-like of shape (n_samples,), optional
            Scales each sample's loss and gradient.
        class_weight : dict, optional
            A weight per class index, ``{class: weight}`` (a classification
            loss only), multiplying `sample_weight`.
        verbose : {0, 1, 2}, default=0
            0 silent; 1 a progress bar on a terminal (with tqdm,
            ``cyneuron[progress]``), else a line per tenth of the run; 2 a line
            per epoch. Never changes the bits.

        Returns
        -------
        History
            The loss (and metrics) of every epoch.

        Raises
        ------
        DivergenceError
            When the loss or the weights stop being finite; the network is as
            before the call.

        Notes
        -----
        All epochs and batches run inside the compiled core; it returns to
        Python at most once per epoch (for validation, callbacks, dropout
        draws, progress), and only when one of those is asked for. Ctrl-C
        still stops it within milliseconds: the core runs Python's signal
        handlers every few milliseconds of work. Whatever ends the call early
        (an error, KeyboardInterrupt, SystemExit) leaves the weights, the
        optimizer (choice and state) and the Generator as they were before it.
        """
        # --- validate everything before anything changes -------------------------------
        epochs = v.check_positive_int(epochs, "epochs")
        if epochs > MAX_EPOCHS:
            raise ValueError(f"epochs must be at most {MAX_EPOCHS}, got {epochs}")
        if optimizer_params is not None and not isinstance(optimizer_params, Mapping):
            raise TypeError(f"optimizer_params must be a dict of hyperparameters or None, got "
                            f"{type(optimizer_params).__name__}")
        if optimizer is None:
            # Keras' compile-once behaviour: the next fit goes on with the same optimizer
            current = self.optimizer
            opt = (current if current is not None and optimizer_params is None
                   else registry.optimizer("sgd" if current is None else current.name,
                                           **(optimizer_params or {})))
        else:
            opt = registry.optimizer(optimizer, **(optimizer_params or {}))
        if learning_rate is None:
            learning_rate = registry.DEFAULT_LEARNING_RATES[opt.name]
        lr0 = v.check_fits(v.check_real(learning_rate, "learning_rate", minimum=0.0, strict=True),
                           self.dtype, "learning_rate")
        for k, val_k in opt.params.items():
            if not isinstance(val_k, bool):
                v.check_fits(val_k, self.dtype, k)
        schedule = schedules.resolve(lr_schedule)
        if clipnorm is not None:
            clipnorm = v.check_real(clipnorm, "clipnorm", minimum=0.0, strict=True)
        if not isinstance(shuffle, (bool, np.bool_)):
            raise TypeError(f"shuffle must be True or False, got {shuffle!r}")
        x, t = self._check_xy(X, y)
        w = self._sample_weights(sample_weight, class_weight, t)
        split = v.check_real(validation_split, "validation_split", minimum=0.0, maximum=1.0,
                             max_strict=True)
        val = None
        if validation_data is not None:
            if split:
                raise ValueError("give validation_data or validation_split, not both")
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                raise TypeError("validation_data must be a pair (X_val, y_val)")
            val = self._check_xy(validation_data[0], validation_data[1],
                                 "validation_data[0]", "validation_data[1]")
        elif split:
            n_val = int(np.ceil(split * x.shape[0]))
            if n_val < 1 or n_val >= x.shape[0]:
                raise ValueError(f"validation_split={split} leaves no training or no "
                                 f"validation samples out of {x.shape[0]}")
            val = (x[-n_val:], t[-n_val:])
            x, t = x[:-n_val], t[:-n_val]
            w = None if w is None else w[:-n_val]
            if self.loss.classification and np.unique(metrics.to_labels(val[1])).size < 2:
                warnings.warn(
                    f"validation_split={split} holds out the last {n_val} samples as Keras "
                    f"does, and they are all of one class: val_accuracy will mislead. "
                    f"Shuffle the data first, or pass validation_data.", UserWarning,
                    stacklevel=2)
        if batch_size is None:
            bs = x.shape[0]
        else:
            bs = min(v.check_positive_int(batch_size, "batch_size"), x.shape[0])
        v.check_memory(self._fit_bytes(x.shape[0], bs, isinstance(x, CSRRows)),
                       f"fit with batch_size={bs} on {x.shape[0]} rows of a network of "
                       f"layer_sizes {list(self.layer_sizes)}")
        cbs = callbacks_mod.as_callbacks(callbacks)
        keys = {"loss"} | ({"accuracy"} if self.loss.classification else set())
        if val is not None:
            keys |= {"val_" + k for k in keys}
        for cb in cbs:
            if hasattr(cb, "check_logs"):
                cb.check_logs(keys)
        constant = isinstance(schedule, schedules.Constant)
        verbose = check_verbose(verbose)

        # --- train ------------------------------------------------------------------------
        # The call is all or nothing: if anything fails (a schedule's value, a
        # callback, divergence) or interrupts it (Ctrl-C, which the core
        # honours within milliseconds, SystemExit, a callback raising
        # KeyboardInterrupt), the weights, the optimizer and the Generator are
        # put back as they were before it.
        saved = self.snapshot()
        try:
            return self._train(x, t, w, bs, bool(shuffle), epochs, lr0, schedule, constant,
                               clipnorm, val, cbs, opt, verbose, saved[0])
        except BaseException:
            self.restore(saved)
            raise

    # epochs per call into the core at most: bounds what one call allocates
    # (losses, pre-drawn permutations) whatever `epochs` is
    _MAX_CHUNK = 1 << 16

    def _train(self, x, t, w, bs, shuffle, epochs, lr0, schedule, constant, clipnorm, val,
               cbs, opt, verbose, params_before):
        self.use_optimizer(opt, None)
        history = History()
        count = self.loss.classification
        if count:
            history.history["accuracy"] = []
        if val is not None:
            history.history["val_loss"] = []
            if count:
                history.history["val_accuracy"] = []
        self.stop_training = False
        for cb in cbs:
            if hasattr(cb, "on_train_begin"):
                cb.on_train_begin(self)
        per_epoch = bool(cbs) or val is not None or any(self.dropout)
        progress = Progress(epochs, verbose)
        chunk = 1 if per_epoch else min(progress.chunk, self._MAX_CHUNK)
        if shuffle and bs < x.shape[0]:   # bound the pre-drawn permutations to ~64 MB
            chunk = max(1, min(chunk, (8 << 20) // x.shape[0]))
        runner = self._engine.run_epochs
        # who hears where a long epoch is (nobody: no hook, no cost)
        within = ([progress.within] if progress.mode != "off" else []) + [
            cb.on_epoch_progress for cb in cbs if hasattr(cb, "on_epoch_progress")]
        rates = np.full(1, lr0)
        self.lr_multiplier = 1.0
        self.learning_rate = lr0
        done = 0
        last = None
        try:
            while done < epochs and not self.stop_training:
                todo = min(chunk, epochs - done)
                if not constant or self.lr_multiplier != 1.0:
                    rates = self._schedule_rates(schedule, lr0, done, todo, self.dtype,
                                                 self.lr_multiplier)
                losses, correct, finite = runner(x, t, w, bs, shuffle, rates, todo, clipnorm,
                                                 count, batch_hook(within, x.shape[0], done))
                if losses.shape[0] < todo or not finite:
                    self._diverged(done + losses.shape[0], epochs, losses[-1], lr0)
                if not per_epoch:
                    # bulk bookkeeping: nothing needs to see the epochs one by one
                    bulk = {"loss": losses}
                    if count:
                        bulk["accuracy"] = correct / x.shape[0]
                    history.add_epochs(bulk, done, todo)
                    done += todo
                    last = losses[-1]
                    # the last values from the arrays: reading history.history here
                    # would turn every epoch's loss into a Python float at once
                    progress.update(done, {k: float(vals[-1]) for k, vals in bulk.items()})
                    continue
                for i in range(todo):
                    e = done + i
                    logs = {"loss": float(losses[i])}
                    if count:
                        # a Python float, as loss is (the bulk path's tolist() gives one)
                        logs["accuracy"] = float(correct[i]) / x.shape[0]
                    if val is not None:
                        out = self.forward_array(val[0])
                        logs["val_loss"] = self._dataset_loss(out, val[1])
                        if count:
                            logs["val_accuracy"] = metrics.accuracy(metrics.to_labels(val[1]),
                                                                    metrics.to_labels(out))
                    last = logs["loss"]
                    for k, val_k in logs.items():
                        history.history[k].append(val_k)
                    history.epoch.append(e)
                    for cb in cbs:
                        if cb.on_epoch_end(e, logs) is True:
                            self.stop_training = True
                    progress.update(e + 1, logs, force=self.stop_training)
                done += todo
        finally:
            progress.close()
            for cb in cbs:
                if hasattr(cb, "on_train_end"):
                    cb.on_train_end(self)
        for cb in cbs:                  # why training stopped, as Keras says it
            text = cb.summary() if hasattr(cb, "summary") else None
            if text:
                progress.say(text)
        # The rule of runaway_warning, in its cheap order: the reference is at
        # least the constant prediction's loss, so only a last loss above twice
        # that needs the loss before the call, computed then (by the reference,
        # from the weights the call started with) - a tutorial net's fit pays
        # microseconds for the check, not a forward pass
        if last is not None and float(last) > DIVERGENCE_FACTOR * self.constant_loss(t):
            rows = min(x.shape[0], self._REFERENCE_ROWS)
            layers = self._state.layout.views(params_before)
            with ref.numerics(self._numerics):
                out = ref.forward(layers, self.activations, x[:rows])[-1]
            start = self._dataset_loss(out, t[:rows], layers)
            reference = max(start, self.constant_loss(t))
            warning = runaway_warning(float(last), reference, done - 1, f"learning_rate {lr0:g}")
            if warning is not None:
                warnings.warn(warning, stacklevel=4)
        return history
    # rows the loss before the first update is measured on: an estimate, so that
    # the check costs a small forward pass whatever the data's size
    _REFERENCE_ROWS = 1024

    def reference_loss(self, x: FloatArray, t: FloatArray) -> float:
        """The scale a training call's final loss is held against (training protocol).

        The larger of the loss before the call's first update (on the first
        rows) and the loss of predicting the targets' mean: a well-trained
        network's tiny loss is not the scale, and neither is the loss of an
        untrained one that starts far off (see :func:`runaway_warning`).

        Parameters
        ----------
        x, t : numpy.ndarray
            The call's validated inputs and targets.

        Returns
        -------
        float
            The larger of the two losses.
        """
        rows = min(x.shape[0], self._REFERENCE_ROWS)
        start = self._dataset_loss(self.forward_array(x[:rows]), t[:rows])
        return max(start, self.constant_loss(t))

    def constant_loss(self, t: FloatArray) -> float:
        """The loss of predicting the mean of targets `t` for every row.

        Parameters
        ----------
        t : numpy.ndarray of shape (n_samples, n_outputs)
            Targets validated for this network.

        Returns
        -------
        float
            The loss of the mean target on every row.
        """
        # Every fit asks (the runaway rule); on small targets the answer costs
        # far more than the tutorials' epochs, so the last one is kept, keyed by
        # the targets' bytes (large targets: their epochs dwarf recomputing it)
        key = None
        if t.nbytes <= self._CONSTANT_CACHE_BYTES:
            key = (t.shape, t.dtype.str, self._numerics, self.loss.name, t.tobytes())
            if self._constant_cache is not None and self._constant_cache[0] == key:
                return self._constant_cache[1]
        with ref.numerics(self._numerics):
            value = float(self.loss.value(np.broadcast_to(t.mean(axis=0), t.shape), t))
        if key is not None:
            self._constant_cache = (key, value)
        return value

    _CONSTANT_CACHE_BYTES = 1 << 16
    _constant_cache: tuple | None = None

    @staticmethod
    def _schedule_rates(schedule, lr0, first, count, dtype, multiplier=1.0):
        """The learning rates of epochs first .. first+count-1 (times `multiplier`,
        which a callback such as ReduceLROnPlateau lowers), each checked."""
        rates = np.empty(count, dtype=np.float64)
        for i in range(count):
            e = first + i
            try:
                lr = schedule(e, lr0)
            except Exception as exc:
                raise ValueError(f"lr_schedule raised {type(exc).__name__} for epoch {e}: "
                                 f"{exc}") from exc
            if isinstance(lr, (bool, np.bool_)) or not isinstance(lr, (int, float, np.integer,
                                                                       np.floating)):
                raise TypeError(f"lr_schedule must return a real number, got "
                                f"{type(lr).__name__} {lr!r} for epoch {e}")
            try:
                lr = float(lr)
            except OverflowError:
                lr = float("inf")
            if not (np.isfinite(lr) and lr >= 0):
                raise ValueError(f"lr_schedule gave learning rate {lr} for epoch {e}; it must "
                                 f"be finite and >= 0")
            if multiplier != 1.0:       # untouched rates keep their bits exactly
                lr *= multiplier
            rates[i] = v.check_fits(lr, dtype, f"lr_schedule's learning rate for epoch {e}")
        return rates

    @staticmethod
    def _diverged(epoch, epochs, loss, lr0):
        raise DivergenceError(
            f"training diverged in epoch {epoch} of {epochs} (loss {float(loss)}, weights not "
            f"finite); the weights and the optimizer state are as before this call. Try a "
            f"lower learning_rate (this call started at {lr0:g}), clipnorm, or scaled inputs.")

    def _fit_bytes(self, n, bs, sparse=False):
        """An upper estimate of what a fit on `n` rows in batches of `bs` allocates
        beyond the data: the call's snapshot (weights, both moments), a gradient,
        a batch's pre-activations, activations and deltas, an epoch's dropout masks
        (a sparse input's batches are read in place: no gathered copy)."""
        item = self.dtype.itemsize
        width = sum(self.layer_sizes) - (self.n_inputs if sparse else 0)
        need = 4 * self.n_params * item + 4 * width * bs * item
        if any(self.dropout):
            need += n * width * item
        return need

    def snapshot(self) -> tuple[Any, ...]:
        """What a failed call must give back: weights, optimizer, Generator position.

        Returns
        -------
        tuple
            Opaque; hand it to :meth:`restore`.
        """
        return (self._params.copy(), self._state.opt_state, self._state.opt_state.copy(),
                self._state.opt_scalars.copy(), self.optimizer, self.rng.bit_generator.state)

    def restore(self, saved: tuple[Any, ...]) -> None:
        """Put back what :meth:`snapshot` took (weights, optimizer, Generator).

        Parameters
        ----------
        saved : tuple
            A :meth:`snapshot` of this network.
        """
        params, state_array, state, scalars, optimizer, rng_state = saved
        self._params[...] = params
        self._state.opt_state = state_array
        self._state.opt_state[...] = state
        self._state.opt_scalars[...] = scalars
        self.optimizer = optimizer
        self.rng.bit_generator.state = rng_state

    def _dataset_loss(self, out, t, layers=None):
        """The loss of outputs `out` on a whole data set, with the penalty (of
        `layers`, default the network's) as training adds it to a batch of that
        size: the one place it is computed (evaluate, val_loss in fit, the
        divergence check)."""
        with ref.numerics(self._numerics):
            value = self.loss.value(out, t)
        if self.l1 or self.l2:
            l1, l2 = self.l1, self.l2
            if self._weighted_mean:
                l1, l2 = l1 / out.shape[0], l2 / out.shape[0]
            value = value + ref.penalty(self._layers if layers is None else layers, l1, l2)
        return float(value)

    def train_epochs(self, x: FloatArray, t: FloatArray, w: FloatArray | None,
                     batch_size: int, shuffle: bool, learning_rate: float, epochs: int = 1,
                     clipnorm: float | None = None,
                     progress: Callable[[int, int, float], object] | None = None
                     ) -> NDArray[np.float64]:
        """Train `epochs` epochs on validated arrays (training protocol).

        The estimators drive their own epoch loops through this, so that what
        a backend does stays in cyneuron._backends. The optimizer is the one
        chosen with :meth:`use_optimizer`; hold ``guard.writing()``, and
        take a :meth:`snapshot` first if a failure must change nothing.

        Parameters
        ----------
        x, t : numpy.ndarray
            Inputs and targets validated for this network.
        w : numpy.ndarray of shape (n_samples,) or None
            Sample weights.
        batch_size : int
            In 1 .. n_samples.
        shuffle : bool
            Reshuffle the batches every epoch with the network's Generator.
        learning_rate : float
            Each epoch's rate, positive and finite in the network's dtype.
        epochs : int, default=1
            Dropout masks are drawn one epoch at a time: 1 with dropout.
        clipnorm : float, optional
            Rescale each batch's gradient to at most this norm.
        progress : callable, optional
            Called as ``progress(epoch, rows, loss_sum)`` while an epoch runs
            (see ``cyneuron._progress.batch_hook``); what it raises stops
            training.

        Returns
        -------
        numpy.ndarray
            The epoch losses; shorter than `epochs` if the weights stopped
            being finite.
        """
        losses, _, _ = self._engine.run_epochs(x, t, w, batch_size, bool(shuffle),
                                               np.full(1, float(learning_rate)), epochs,
                                               clipnorm, False, progress)
        return losses

    def _sample_weights(self, sample_weight, class_weight, t):
        n = t.shape[0]
        w = None
        if sample_weight is not None:
            arr = v._as_numeric_array(sample_weight, "sample_weight")
            if arr.shape != (n,):
                raise ValueError(f"sample_weight has shape {arr.shape}, expected ({n},)")
            w = v.as_float(arr, self.dtype, "sample_weight")
            if np.any(w < 0):
                raise ValueError("sample_weight must be >= 0")
        if class_weight is not None:
            if not self.loss.classification:
                raise ValueError("class_weight needs a classification loss "
                                 "(binary_crossentropy or categorical_crossentropy)")
            if not isinstance(class_weight, dict):
                raise TypeError("class_weight must be a dict {class: weight}")
            n_classes = max(2, self.n_outputs)
            table = np.ones(n_classes, dtype=np.float64)
            for k, val_k in class_weight.items():
                if isinstance(k, bool) or not isinstance(k, (int, np.integer)) \
                        or not 0 <= k < n_classes:
                    raise ValueError(f"class_weight key {k!r} is not a class in "
                                     f"[0, {n_classes})")
                table[k] = v.check_fits(v.check_real(val_k, f"class_weight[{k}]", minimum=0.0),
                                        self.dtype, f"class_weight[{k}]")
            cw = table[metrics.to_labels(t)].astype(self.dtype)
            with np.errstate(over="ignore"):
                w = cw if w is None else w * cw
            if not v.all_finite(w):
                raise ValueError(f"sample_weight times class_weight overflows "
                                 f"{self.dtype.name}")
        return w

    # --- evaluation -----------------------------------------------------------------------

    def summary(self, print_fn: Callable[[str], object] = print) -> None:
        """Print a Keras-style summary: layers, parameters, dtype, optimizer, seed.

        Parameters
        ----------
        print_fn : callable, default=print
            Called once with the whole text (e.g. ``lines.append``).
        """
        print_fn(_summary.summary_text(self))

    @_reads
    def evaluate(self, X: ArrayLike, y: ArrayLike) -> dict[str, float]:
        """Loss on (X, y) as a dict, and metrics for classifiers.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_inputs)
            Inputs, or a scipy sparse matrix.
        y : array-like of shape (n_samples, n_outputs)
            Targets; class indices or one-hot rows for categorical_crossentropy.

        Returns
        -------
        dict
            ``loss``; classifiers also get ``accuracy``, ``precision``,
            ``recall``, ``f1`` (binary for one sigmoid output, macro otherwise)
            and ``confusion_matrix``.
        """
        x, t = self._check_xy(X, y)
        a = self.forward_array(x)
        out = {"loss": self._dataset_loss(a, t)}
        if self.loss.classification:
            out.update(metrics.classification_report(metrics.to_labels(t),
                                                      metrics.to_labels(a),
                                                      max(2, self.n_outputs)))
        return out

    @_reads
    def predict_classes(self, X: ArrayLike) -> NDArray[np.intp]:
        """Class labels: threshold 0.5 for one sigmoid output, argmax otherwise.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_inputs) or (n_inputs,)
            Inputs, or a scipy sparse matrix.

        Returns
        -------
        numpy.ndarray of int
            One class index per sample.
        """
        out = self.feedforward(X)
        return metrics.to_labels(out if out.ndim == 2 else out.reshape(1, -1))


class Neuron:
    """A single neuron: ``activation(w . x + b)``, as in the tutorials.

    Parameters
    ----------
    weights : sequence of float
        One weight per input.
    bias : float
        Added to the weighted sum.
    activation : str, default="sigmoid"
        Any activation name of :class:`Network`.
    dtype : {"float64", "float32"}, default="float64"
    backend : {"cython", "numpy"}, default="cython"

    Examples
    --------
    >>> Neuron(weights=[0, 1], bias=4).feedforward([2, 3])
    0.9990889488055994
    """

    def __init__(self, weights: ArrayLike, bias: float, activation: ActivationSpec = "sigmoid",
                 dtype: str = "float64", backend: str = "cython") -> None:
        w = v._as_numeric_array(weights, "weights")
        if w.ndim != 1 or w.size == 0:
            raise ValueError(f"weights must be a non-empty 1-D sequence, got shape {w.shape}")
        bias_arr = v._as_numeric_array(bias, "bias")
        if bias_arr.ndim != 0 and bias_arr.shape != (1,):
            raise ValueError(f"bias must be a single number, got shape {bias_arr.shape}")
        self._net = Network([w.size, 1], activation=activation, dtype=dtype, backend=backend)
        # checked under their own names (NaN, infinity, too large for the dtype)
        W = v.as_float(w, self._net.dtype, "weights").reshape(-1, 1)
        b = v.as_float(bias_arr, self._net.dtype, "bias").reshape(1)
        self._net.set_weights([(W, b)])

    @property
    def weights(self) -> FloatArray:
        """The weights, one per input (a copy)."""
        return self._net.state.layers[0][0][:, 0].copy()

    @property
    def bias(self) -> float:
        """The bias."""
        return float(self._net.state.layers[0][1][0])

    def feedforward(self, inputs: ArrayLike) -> float | FloatArray:
        """The neuron's output: a float for one sample, an (n,) array for a batch.

        Parameters
        ----------
        inputs : array-like of shape (n_inputs,) or (n_samples, n_inputs)
            One sample, or a batch.

        Returns
        -------
        float or numpy.ndarray of shape (n_samples,)
            The activation of the weighted sum plus the bias.
        """
        out = self._net.feedforward(inputs)
        return float(out[0]) if out.ndim == 1 else out[:, 0]

    def __repr__(self) -> str:
        return (f"Neuron(weights={self.weights.tolist()}, bias={self.bias}, "
                f"activation={self._net.activations[0].spec!r})")
