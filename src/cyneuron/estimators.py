"""scikit-learn estimators: MLPClassifier and MLPRegressor on cyneuron's core.

Design:

* The parameters are scikit-learn's ``MLPClassifier``/``MLPRegressor``
  parameters with their names, meanings and defaults, plus cyneuron's own
  (``dropout``, per-layer activations, ``dtype``, ``n_threads``,
  ``clipnorm``, ``class_weight``, ``backend``). Validation happens in
  ``_check_params`` before anything changes.
* The objective is scikit-learn's: each batch's loss is the sample-weighted
  mean of the per-sample losses plus ``alpha / 2 * sum(W**2)``, both divided
  by the batch's weight sum (``Network(reduction="weighted_mean")`` with
  ``l2 = alpha / 2``), so an integer weight is the same as repeating a
  sample. The losses are scikit-learn's: log-loss (softmax for several
  classes, one sigmoid unit for two, sigmoids summed over the labels of a
  multilabel target) and half the mean squared error.
* A fitted estimator holds a ``Network`` (``network_``); every epoch runs in
  its compiled core. The epoch loop (stopping on ``tol`` and
  ``n_iter_no_change``, early stopping, learning-rate schedules) is here, in
  Python, once per epoch; L-BFGS runs in ``scipy.optimize`` with the loss
  and gradient from the core. Results are bit for bit the same for the same
  ``random_state``, for ``backend="numpy"`` and ``"cython"``, and for any
  ``n_threads``.
* A scipy sparse X (CSR, CSC, COO; scikit-learn's validation converts other
  formats to CSR) is never densified: it trains and predicts with the bits of
  its dense copy (``cyneuron.Network``'s sparse inputs), in pipelines behind
  a ``TfidfVectorizer`` or ``OneHotEncoder`` too.
* The pickled state is arrays, numbers and strings only (``__getstate__``):
  the network is rebuilt from them on unpickling.
"""
from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

try:
    import scipy.optimize
    import scipy.sparse
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import accuracy_score, r2_score
    from sklearn.model_selection import train_test_split
    from sklearn.utils import check_random_state
    from sklearn.utils.class_weight import compute_class_weight
    from sklearn.utils.metaestimators import available_if
    from sklearn.utils.multiclass import check_classification_targets, type_of_target, unique_labels
    from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data
except ImportError as exc:  # pragma: no cover - exercised only without scikit-learn
    raise ImportError(
        "cyneuron's MLPClassifier and MLPRegressor need scikit-learn (and scipy): "
        "pip install 'cyneuron[sklearn]'") from exc

from . import _digest, _portable_reference, _summary
from . import _registry as registry
from . import _schema as schema
from . import _validation as v
from . import callbacks as callbacks_mod
from ._csr import CSRRows
from ._progress import batch_hook
from .network import (
    DivergenceError,
    DivergenceWarning,
    Network,
    check_dropout,
    check_layer_sizes,
    runaway_warning,
)

if TYPE_CHECKING:
    from typing_extensions import Self

    from ._schema import ActivationSpec

__all__ = ["MLPClassifier", "MLPRegressor"]

_SOLVERS = ("adam", "sgd", "lbfgs")
# the sparse formats X may come in (scikit-learn's validation turns any other
# sparse format into the first); cyneuron reads them without densifying
_SPARSE = ("csr", "csc", "coo")
_SCHEDULES = ("constant", "invscaling", "adaptive")
# the hidden activations as the estimators spell them: scikit-learn's names
# where it has them (logistic), cyneuron's for the others (the registry rows)
_HIDDEN_NAMES = tuple(row.sklearn_name or row.name for row in registry.ACTIVATIONS.values()
                      if not row.output_only)


# scikit-learn's words, which its tests match
_NON_FINITE = ("Solver produced non-finite parameter weights. The input data may contain "
               "large values and need to be preprocessed.")


def _fail(est, name, what, value):
    raise ValueError(f"The {name!r} parameter of {type(est).__name__} must be {what}. "
                     f"Got {value!r} instead.")


def _finite_real(value: object) -> bool:
    """A real number, not a bool, and finite (an int too large for a float is not)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _real(est, name, lo=None, hi=None, lo_open=False, hi_open=False):
    value = getattr(est, name)
    ok = _finite_real(value)
    if ok and lo is not None:
        ok = value > lo if lo_open else value >= lo
    if ok and hi is not None:
        ok = value < hi if hi_open else value <= hi
    if not ok:
        left = "(" if lo_open else "["
        right = ")" if hi_open or hi is None else "]"
        _fail(est, name, f"a float in the range {left}{lo if lo is not None else '-inf'}, "
                         f"{hi if hi is not None else 'inf'}{right}", value)
    return float(value)


def _int(est, name, lo):
    value = getattr(est, name)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < lo:
        _fail(est, name, f"an int in the range [{lo}, inf)", value)
    return int(value)


def _flag(est, name):
    value = getattr(est, name)
    if not isinstance(value, (bool, np.bool_)):
        _fail(est, name, "an instance of 'bool'", value)
    return bool(value)


class _BaseMLP(BaseEstimator):
    """What MLPClassifier and MLPRegressor share: parameters, the solvers, state."""

    # fitted attributes whose type depends on the solver and early stopping
    loss_curve_: list[float]
    validation_scores_: list[float] | None
    best_loss_: float | None
    best_validation_score_: float | None

    def __init__(self, hidden_layer_sizes: int | Sequence[int] = (100,),
                 activation: ActivationSpec | list[ActivationSpec] = "relu", *,
                 solver: str = "adam", alpha: float = 0.0001, batch_size: int | str = "auto",
                 learning_rate: str = "constant", learning_rate_init: float = 0.001,
                 power_t: float = 0.5, max_iter: int = 200, shuffle: bool = True,
                 random_state: int | np.random.RandomState | None = None, tol: float = 1e-4,
                 verbose: bool | int = False, warm_start: bool = False, momentum: float = 0.9,
                 nesterovs_momentum: bool = True, early_stopping: bool = False,
                 validation_fraction: float = 0.1, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-8, n_iter_no_change: int = 10, max_fun: int = 15000,
                 dropout: float | Sequence[float] = 0.0, dtype: str | None = None,
                 n_threads: int = 1, clipnorm: float | None = None, backend: str = "cython",
                 numerics: str = "numpy") -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.dropout = dropout
        self.dtype = dtype
        self.n_threads = n_threads
        self.clipnorm = clipnorm
        self.backend = backend
        self.numerics = numerics

    # --- parameters -------------------------------------------------------------

    def _check_params(self):
        """Validate every parameter; return the hidden widths and activations."""
        sizes: Any = self.hidden_layer_sizes
        if isinstance(sizes, numbers.Integral) and not isinstance(sizes, bool):
            sizes = [sizes]
        if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__iter__"):
            _fail(self, "hidden_layer_sizes", "an int or a sequence of ints", sizes)
        sizes = list(sizes)
        for s in sizes:
            if isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 1:
                raise ValueError(f"hidden_layer_sizes must be > 0, got {self.hidden_layer_sizes}.")
        act = self.activation
        if isinstance(act, list):
            if len(act) != len(sizes):
                _fail(self, "activation", f"a name or a list of {len(sizes)} names (one per "
                                          f"hidden layer)", act)
            acts = list(act)
        else:
            acts = [act] * len(sizes)
        for a in acts:
            try:
                entry = registry.activation(a)
            except (TypeError, ValueError) as exc:
                # an unknown name gets this one list; a (name, param) pair the
                # registry refused gets the registry's reason too
                why = "" if isinstance(a, str) else f" ({exc})"
                _fail(self, "activation", f"one of {', '.join(map(repr, _HIDDEN_NAMES))}{why}",
                      a)
            if entry.output_only:
                _fail(self, "activation", "a hidden-layer activation", a)
        if self.solver not in _SOLVERS:
            _fail(self, "solver", f"one of {', '.join(map(repr, _SOLVERS))}", self.solver)
        if self.learning_rate not in _SCHEDULES:
            _fail(self, "learning_rate", f"a str among {set(_SCHEDULES)}", self.learning_rate)
        if not (isinstance(self.batch_size, str) and self.batch_size == "auto"):
            _int(self, "batch_size", 1)
        _real(self, "alpha", 0.0)
        _real(self, "learning_rate_init", 0.0, lo_open=True)
        _real(self, "power_t", 0.0)
        _int(self, "max_iter", 1)
        _real(self, "tol", 0.0)
        _real(self, "momentum", 0.0, 1.0, hi_open=True)
        _real(self, "validation_fraction", 0.0, 1.0, lo_open=True, hi_open=True)
        _real(self, "beta_1", 0.0, 1.0, hi_open=True)
        _real(self, "beta_2", 0.0, 1.0, hi_open=True)
        _real(self, "epsilon", 0.0, lo_open=True)
        if not (isinstance(self.n_iter_no_change, numbers.Real)
                and not isinstance(self.n_iter_no_change, bool)
                and self.n_iter_no_change == math.inf):     # inf: never stop early
            try:
                _int(self, "n_iter_no_change", 1)
            except ValueError:
                _fail(self, "n_iter_no_change", "an int in the range [1, inf) or a float "
                                                "among {inf}", self.n_iter_no_change)
        _int(self, "max_fun", 1)
        for name in ("shuffle", "warm_start", "nesterovs_momentum", "early_stopping"):
            _flag(self, name)
        if not isinstance(self.verbose, (bool, np.bool_, numbers.Integral)):
            _fail(self, "verbose", "an int or a bool", self.verbose)
        if self.clipnorm is not None:
            _real(self, "clipnorm", 0.0, lo_open=True)
        if self.dtype not in (None, "float64", "float32", np.float64, np.float32):
            _fail(self, "dtype", "None, 'float64' or 'float32'", self.dtype)
        if self.backend not in ("cython", "numpy"):
            _fail(self, "backend", "'cython' or 'numpy'", self.backend)
        if not isinstance(self.numerics, str) or self.numerics not in ("numpy", "portable"):
            _fail(self, "numerics", "'numpy' or 'portable'", self.numerics)
        cw = getattr(self, "class_weight", None)
        if isinstance(cw, dict):
            for label, weight in cw.items():
                if np.ndim(label) != 0 or not _finite_real(weight) or weight < 0:
                    raise ValueError(f"class_weight[{label!r}] must be a finite number >= 0 "
                                     f"keyed by a label, got {weight!r}")
        try:
            check_dropout(self.dropout, len(sizes) + 1)
        except (TypeError, ValueError) as exc:
            _fail(self, "dropout", f"a rate in [0, 1), or a list of one per hidden layer "
                                   f"({exc})", self.dropout)
        if self.solver == "lbfgs" and np.any(np.asarray(self.dropout, dtype=object) != 0):
            _fail(self, "dropout", "0 with solver='lbfgs' (dropout needs a stochastic solver)",
                  self.dropout)
        return sizes, acts

    # --- what both estimators share -----------------------------------------------

    def _init_network(self, n_features, n_outputs, sizes, acts, rs, dtype):
        """A new Network of `dtype` with scikit-learn's Glorot-uniform initialisation."""
        out_act, loss = self._loss_for_width(n_outputs)
        layer_sizes = [n_features] + sizes + [n_outputs]
        try:         # before the weights are drawn: they alone may not fit in memory
            check_layer_sizes(layer_sizes, dtype)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{type(self).__name__}: {exc}") from None
        weights = []
        for l, (fan_in, fan_out) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:])):
            # scikit-learn's bound: sqrt(6 / (fan_in + fan_out)), sqrt(2 / ...) for
            # logistic units (the activation the layer feeds, the last hidden
            # one for the output layer); biases drawn from the same range
            feeds = acts[min(l, len(acts) - 1)] if acts else (
                self.activation if isinstance(self.activation, str) else "relu")
            factor = registry.activation(feeds).row.init_factor
            bound = np.sqrt(factor / (fan_in + fan_out))
            W = rs.uniform(-bound, bound, (fan_in, fan_out))
            b = rs.uniform(-bound, bound, fan_out)
            weights.append((W, b))
        try:
            # the weights are drawn first, as scikit-learn draws them (same
            # random_state, same initial weights); shuffling and dropout use
            # the network's own Generator, seeded from the same stream
            net = Network(layer_sizes, activation=acts + [out_act], loss=loss,
                          dtype=dtype, backend=self.backend, init="xavier",
                          l2=self.alpha / 2.0, dropout=self.dropout, n_threads=self.n_threads,
                          reduction="weighted_mean", numerics=self.numerics,
                          seed=int(rs.randint(np.iinfo(np.int32).max)))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{type(self).__name__}: {exc}") from None
        net.set_weights(weights)
        out_name = registry.activation(out_act).row.sklearn_name
        if out_name is None:      # the output is scikit-learn's: it must have a name there
            raise ValueError(f"output activation {out_act!r} has no scikit-learn name: its "
                             f"registry row lacks the sklearn_name the estimators report")
        self.out_activation_ = out_name
        return net

    def _bind(self, net):
        """Make `net` the fitted network: coefs_ / intercepts_ are views of its weights."""
        self._network = net
        self.coefs_ = [W for W, _ in net.state.layers]
        self.intercepts_ = [b for _, b in net.state.layers]
        self.n_layers_ = len(net.layer_sizes)
        self.n_outputs_ = net.n_outputs

    def digest(self) -> str:
        """SHA-256 of the fitted network's architecture, dtype, weights and labels.

        A classifier's labels are hashed too; ``cyneuron._digest`` gives the
        bytes.

        Returns
        -------
        str
            64 hexadecimal digits.
        """
        return _digest.estimator_digest(self)

    @property
    def network_(self) -> Network:
        """The fitted ``cyneuron.Network`` (its weights are ``coefs_``/``intercepts_``)."""
        check_is_fitted(self, "coefs_")
        return self._network

    def _optimizer(self):
        if self.solver == "adam":
            return "adam", {"beta_1": float(self.beta_1), "beta_2": float(self.beta_2),
                            "epsilon": float(self.epsilon)}
        if self.momentum == 0:
            return "sgd", {}
        return "momentum", {"momentum": float(self.momentum),
                            "nesterov": bool(self.nesterovs_momentum)}

    def _sample_weight(self, sample_weight, n):
        if sample_weight is None:
            return None
        if isinstance(sample_weight, numbers.Real) and not isinstance(sample_weight, bool):
            sw = np.full(n, float(sample_weight))
        else:
            sw = np.asarray(v.check_numeric(sample_weight, "sample_weight"), dtype=np.float64)
            if sw.ndim != 1:
                raise ValueError(f"Sample weights must be 1D array or scalar, got shape "
                                 f"{sw.shape}")
            if sw.shape[0] != n:
                raise ValueError(f"sample_weight.shape == {sw.shape}, expected ({n},)!")
        if not np.isfinite(sw).all():
            raise ValueError("sample_weight contains NaN or infinity")
        if np.any(sw < 0):
            raise ValueError("Negative values in data passed to `sample_weight`")
        if not sw.sum() > 0:
            raise ValueError("Sample weights must contain at least one non-zero number: all of "
                             "them are zero, so there is nothing to fit")
        return sw

    def _fit(self, X, y, sample_weight, incremental, classes=None, callbacks=None):
        # A rejected or failed call changes nothing: the attributes (classes_
        # of a first partial_fit included), the network's weights, optimizer
        # state and Generator, and a RandomState given as random_state, are
        # put back as they were.
        saved: dict[str, Any] = {k: list(val) if isinstance(val, list) else val
                                 for k, val in self.__dict__.items()}
        net = saved.get("_network")
        kept = None if net is None else net.snapshot()
        rs = self.random_state
        rs_state = rs.get_state() if isinstance(rs, np.random.RandomState) else None
        try:
            cbs = callbacks_mod.as_callbacks(callbacks)
            if net is None:
                return self._fit_or_raise(X, y, sample_weight, incremental, classes, cbs)
            with net.guard.writing():        # one writer at a time, readers wait
                return self._fit_or_raise(X, y, sample_weight, incremental, classes, cbs)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            if net is not None and kept is not None:
                net.restore(kept)
            if rs_state is not None and isinstance(rs, np.random.RandomState):
                rs.set_state(rs_state)
            raise

    def _partial_fit_classes(self, y, classes):
        """The classifier's first partial_fit sets classes_ from `classes`."""

    def _fit_or_raise(self, X, y, sample_weight, incremental, classes, callbacks=()):
        sizes, acts = self._check_params()
        if incremental:
            self._partial_fit_classes(y, classes)
        first = not hasattr(self, "coefs_") or (not self.warm_start and not incremental)
        X, Y = self._validate_xy(X, y, incremental, reset=first)
        n, n_features = X.shape
        sw = self._sample_weight(sample_weight, n)
        sw = self._class_weights(Y, sw)
        rs = check_random_state(self.random_state)
        if first:
            # dtype=None follows X, as scikit-learn's MLP does: float32 stays float32
            dtype = X.dtype.name if self.dtype is None else np.dtype(self.dtype).name
            net = self._init_network(n_features, Y.shape[1], sizes, acts, rs, dtype)
            self.n_iter_ = 0
            self.t_ = 0
            if self.solver != "lbfgs":
                self.loss_curve_ = []
                self._no_improvement_count = 0
                if self.early_stopping:
                    self.validation_scores_ = []
                    self.best_validation_score_ = -np.inf
                    self.best_loss_ = None
                else:
                    self.best_loss_ = np.inf
                    self.validation_scores_ = None
                    self.best_validation_score_ = None
        else:
            net = self._network
            if Y.shape[1] != net.n_outputs:
                raise ValueError(f"y has {Y.shape[1]} output(s), but the fitted network has "
                                 f"{net.n_outputs}")
        x = v.check_inputs(X, n_features, net.dtype)[0]
        t = v.as_float(Y, net.dtype, "y")
        w = None if sw is None else np.ascontiguousarray(sw, dtype=net.dtype)
        if w is not None and not np.isfinite(w).all():
            raise ValueError(f"sample_weight times class_weight overflows {net.dtype.name}")
        if self.solver == "lbfgs":
            if callbacks:
                raise ValueError("callbacks need a stochastic solver ('adam' or 'sgd'); "
                                 "lbfgs has no epochs")
            self._fit_lbfgs(net, x, t, w)
        else:
            # bound before the first epoch, so that a callback can predict with the
            # weights as they stand (a failed call unbinds them with the rest)
            self._bind(net)
            keys = {"loss"} | ({"val_score"} if self.early_stopping else set())
            for cb in callbacks:
                if hasattr(cb, "check_logs"):
                    cb.check_logs(keys)
            for cb in callbacks:
                if hasattr(cb, "on_train_begin"):
                    cb.on_train_begin(net)
            try:
                self._fit_stochastic(net, x, t, w, rs, incremental, callbacks)
            finally:
                for cb in callbacks:
                    if hasattr(cb, "on_train_end"):
                        cb.on_train_end(net)
            for cb in callbacks:
                text = cb.summary() if self.verbose and hasattr(cb, "summary") else None
                if text:
                    print(text)
        if not v.all_finite(net.state.params):
            raise DivergenceError(_NON_FINITE + " (lbfgs; the estimator is as before this "
                                  "call.)")
        self._bind(net)
        return self

    def _fit_lbfgs(self, net, x, t, w):
        def loss_and_grad(p):
            net.state.params[...] = p          # rounded to the network's dtype
            value, g = net.batch_gradient(x, t, w)
            return float(value), g.astype(np.float64)

        net.reset_optimizer()
        res = scipy.optimize.minimize(
            loss_and_grad, net.state.params.astype(np.float64), method="L-BFGS-B", jac=True,
            options={"maxfun": int(self.max_fun), "maxiter": int(self.max_iter),
                     "gtol": float(self.tol)})
        net.state.params[...] = res.x
        self.n_iter_ = int(res.nit)
        self.loss_ = float(res.fun)
        if res.status != 0:
            msg = res.message.decode() if isinstance(res.message, bytes) else res.message
            warnings.warn(f"lbfgs failed to converge after {self.n_iter_} iteration(s) "
                          f"(status={res.status}): {msg}. Increase the number of iterations "
                          f"(max_iter) or scale the data.", ConvergenceWarning, stacklevel=5)

    def _fit_stochastic(self, net, x, t, w, rs, incremental, callbacks=()):
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        if not incremental or not hasattr(self, "_lr"):
            # a new fit (warm_start included) starts the optimizer afresh, as
            # scikit-learn does; partial_fit continues it
            net.reset_optimizer()
            self._lr = float(self.learning_rate_init)
            self._best = None
        name, params = self._optimizer()
        net.use_optimizer(name, params)
        x_val = t_val = w_val = None
        if self.early_stopping:
            # a sparse x is split by its row numbers: the same rows (the split
            # draws from rs whatever the arrays hold), taken from it after
            whole = x
            sparse = isinstance(whole, CSRRows)
            split = self._split([np.arange(x.shape[0]) if sparse else x, t]
                                + ([] if w is None else [w]), t, rs)
            x, x_val, t, t_val = split[:4]
            if w is not None:
                w, w_val = split[4:]
            if sparse:
                x, x_val = whole.take(x), whole.take(x_val)
            else:
                x, x_val = np.ascontiguousarray(x), np.ascontiguousarray(x_val)
            t = np.ascontiguousarray(t)
            w = None if w is None else np.ascontiguousarray(w)
            if x_val.shape[0] < 2:
                raise ValueError("The validation set is too small. Increase "
                                 "'validation_fraction' or the size of your dataset.")
            if w is not None and not w.sum() > 0:
                raise ValueError("the training part of the early-stopping split has no "
                                 "sample weight; change validation_fraction or random_state")
        n = x.shape[0]
        bs = min(200, n) if self.batch_size == "auto" else min(int(self.batch_size), n)
        if self.batch_size != "auto" and self.batch_size > n:
            warnings.warn("Got `batch_size` less than 1 or larger than sample size. It is "
                          "going to be clipped", stacklevel=5)
        sgd = self.solver == "sgd"
        self.n_iter_ = 0            # the epochs of this call, as scikit-learn counts them
        if incremental and hasattr(self, "_run_reference"):
            # partial_fit continues a run: its loss is held to where the run
            # started (or to this data's constant prediction), not to a start
            # that may already have run away
            reference: float = max(self._run_reference, net.constant_loss(t))
        else:
            reference = net.reference_loss(x, t)
            self._run_reference: float = reference
        ran_away = True             # until an epoch ends in a diverged break
        # callbacks that want to hear where a long epoch is (the CLI's bar)
        within = [cb.on_epoch_progress for cb in callbacks if hasattr(cb, "on_epoch_progress")]
        for _ in range(int(self.max_iter)):
            before = net.snapshot()       # what a diverging epoch goes back to
            loss = float(net.train_epochs(x, t, w, bs, self.shuffle, self._lr, 1,
                                         self.clipnorm,
                                         batch_hook(within, n, self.n_iter_))[0])
            self.n_iter_ += 1
            self.t_ += n
            self.loss_ = loss
            self.loss_curve_.append(loss)
            if self.verbose:
                print(f"Iteration {self.n_iter_}, loss = {loss:.8f}")
            if not (math.isfinite(loss) and v.all_finite(net.state.params)):
                if self.early_stopping:
                    assert self.validation_scores_ is not None
                    self.validation_scores_.append(math.nan)
                self._diverged(net, before, loss)
                ran_away = False
                break
            self._update_no_improvement(net, x_val, t_val, w_val)
            if self.early_stopping and math.isnan(self.validation_scores_[-1]):  # type: ignore[index]
                self._diverged(net, before, loss)     # finite weights, non-finite outputs
                ran_away = False
                break
            if callbacks:
                logs = {"loss": loss}
                if self.early_stopping:
                    logs["val_score"] = self.validation_scores_[-1]  # type: ignore[index]
                stop = [cb.on_epoch_end(self.n_iter_ - 1, logs) for cb in callbacks]
                if any(flag is True for flag in stop):
                    break
            if sgd and self.learning_rate == "invscaling":
                self._lr = float(self.learning_rate_init) / (self.t_ + 1) ** float(self.power_t)
            if self._no_improvement_count > self.n_iter_no_change:
                what = "Validation score" if self.early_stopping else "Training loss"
                msg = (f"{what} did not improve more than tol={self.tol:f} for "
                       f"{self.n_iter_no_change} consecutive epochs.")
                if sgd and self.learning_rate == "adaptive" and self._lr > 1e-6:
                    self._lr /= 5.0
                    self._no_improvement_count = 0
                    if self.verbose:
                        print(f"{msg} Setting learning rate to {self._lr:f}")
                else:
                    if self.verbose:
                        print(f"{msg} Stopping.")
                    break
            if incremental:
                break
            if self.n_iter_ == self.max_iter:
                warnings.warn(f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) "
                              f"reached and the optimization hasn't converged yet.",
                              ConvergenceWarning, stacklevel=5)
        if self.early_stopping and self._best is not None:
            net.state.params[...] = self._best
        elif ran_away and self.n_iter_:
            # a loss that grew without bound with finite weights: the rule of Network.fit
            warning = runaway_warning(self.loss_curve_[-1], reference, self.n_iter_,
                                      f"learning_rate_init {float(self.learning_rate_init):g}")
            if warning is not None:
                warnings.warn(f"{type(self).__name__}: {warning}", DivergenceWarning,
                              stacklevel=5)

    def _diverged(self, net, before, loss):
        """The epoch that just ran diverged: raise, or go back to before it and warn.

        As scikit-learn: without early stopping, non-finite weights end the
        fit with its ValueError (a DivergenceError; the estimator is as
        before the call); with early stopping the fit keeps the weights of
        the best validation score and records NaN as that epoch's score.
        Where the weights are usable (early stopping, or a non-finite loss
        with finite weights), cyneuron stops in that epoch, goes back to the
        weights, optimizer state and Generator of the end of the epoch
        before, and warns with a DivergenceWarning.
        """
        epoch = self.n_iter_
        hint = (f"Try a lower learning_rate_init (this fit used {self.learning_rate_init:g}), "
                f"clipnorm, or scaled inputs.")
        if not self.early_stopping and not v.all_finite(net.state.params):
            raise DivergenceError(f"{_NON_FINITE} (Training diverged in epoch {epoch} of this "
                                  f"call, loss {loss}; the estimator is as before this call. "
                                  f"{hint})")
        net.restore(before)
        if self.early_stopping and self._best is not None:
            kept = "the weights of the best validation score"
        elif epoch > 1:
            kept = f"the weights of epoch {epoch - 1}"
        else:
            kept = "the weights this call started from"
        warnings.warn(f"{type(self).__name__}: training diverged in epoch {epoch} of this "
                      f"call (loss {loss}); stopped, keeping {kept}. {hint}",
                      DivergenceWarning, stacklevel=6)

    def _split(self, parts, t, rs):
        """The early-stopping split of [x, t] or [x, t, w] (not stratified here)."""
        return train_test_split(*parts, random_state=rs, test_size=self.validation_fraction)

    def _update_no_improvement(self, net, x_val, t_val, w_val):
        if self.early_stopping:
            score = self._val_score(net, x_val, t_val, w_val)
            assert self.validation_scores_ is not None      # a list with early stopping
            self.validation_scores_.append(score)
            if self.verbose:
                print(f"Validation score: {score:f}")
            best = self.best_validation_score_
            assert best is not None             # -inf from the first fit with early stopping
            if score < best + self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if score > best:
                self.best_validation_score_ = score
                self._best = net.state.params.copy()
        else:
            best = self.best_loss_
            assert best is not None             # inf from the first fit without early stopping
            if self.loss_curve_[-1] > best - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if self.loss_curve_[-1] < best:
                self.best_loss_ = self.loss_curve_[-1]

    _best = None

    def _forward(self, X):
        d = self.__dict__
        net = d.get("_network")
        if (net is not None and type(X) is np.ndarray and X.ndim == 2 and "coefs_" in d
                and "feature_names_in_" not in d and X.shape[1] == d.get("n_features_in_")):
            # What validate_data would pass through unchanged (a fitted model without
            # feature names, an ndarray of the right width) goes straight to the core:
            # validate_data costs tens of microseconds, mostly looking for a DataFrame.
            # The core answers None for anything it does not take as it is (another
            # dtype or layout, NaN, inf), and then scikit-learn's checks below run and
            # raise their own errors.
            out = net.try_forward(X)
            if out is not None:
                return out
        check_is_fitted(self, "coefs_")
        X = validate_data(self, _numeric(X, "X"), reset=False, dtype=(np.float64, np.float32),
                          accept_sparse=_SPARSE)
        net = self._network
        return net.guard.read(net.forward_array, v.check_inputs(X, net.n_inputs, net.dtype)[0])

    # --- model files: the surface cyneuron.io uses (the fields are cyneuron._schema's) ---

    def state_for_file(self) -> tuple[dict[str, Any], dict[str, NDArray[Any]]]:
        """This fitted estimator's model-file header and arrays.

        Its parameters, the fitted attributes it has, its network's header and
        arrays (a snapshot, under the prefix ``network_``), a classifier's
        labels, early stopping's best weights
        (:func:`cyneuron._schema.estimator_state`); ``cn.save`` writes them.

        Returns
        -------
        meta : dict
        arrays : dict of str to numpy.ndarray

        Raises
        ------
        ValueError
            If it is not fitted or a parameter cannot be stored.
        """
        d = self.__dict__
        if "_network" not in d:
            raise ValueError("the estimator is not fitted: fit it before saving it")
        fitted = {k: d[k] for k in
                  schema.FITTED_NUMBERS + schema.FITTED_INTS + schema.FITTED_LISTS
                  if d.get(k) is not None}
        return schema.estimator_state(
            type(self).__name__, self.get_params(deep=False),
            self._network.state_for_file(schema.ESTIMATOR_PREFIX), self.out_activation_,
            fitted, feature_names=d.get("feature_names_in_"), best=d.get("_best"),
            **self._labels_for_file())

    def _labels_for_file(self) -> dict[str, Any]:
        return {}

    def _labels_from_file(self, meta: dict[str, Any], n_outputs: int) -> None:
        pass

    @classmethod
    def from_file_state(cls, meta: dict[str, Any], arrays: dict[str, NDArray[Any]],
                         backend: str) -> Self:
        """The fitted estimator a model file's header and arrays describe.

        The schema checks each field's type (:mod:`cyneuron._schema`); the
        parameters are checked as the constructor's are, and the network must
        be the one they and the fitted attributes describe.

        Parameters
        ----------
        meta : dict
            The header, as :meth:`state_for_file` writes it.
        arrays : dict of str to numpy.ndarray
        backend : {"cython", "numpy"}

        Returns
        -------
        MLPClassifier or MLPRegressor

        Raises
        ------
        ValueError
            Naming what does not fit.
        """
        params = schema.estimator_params(meta, list(cls().get_params(deep=False)))
        params["backend"] = backend
        try:
            est = cls(**params)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"bad 'params': {exc}") from None
        return est._take_file_state(meta, arrays, backend)

    def _take_file_state(self, meta: dict[str, Any], arrays: dict[str, NDArray[Any]],
                         backend: str) -> Self:
        """from_file_state, on the estimator built from the stored parameters:
        check the rest of the file against them and become the fitted model."""
        try:
            sizes, acts = self._check_params()
        except (TypeError, ValueError) as exc:
            raise ValueError(f"bad 'params': {exc}") from None
        net = Network.from_file_state(meta["network"], arrays,
                                      prefix=schema.ESTIMATOR_PREFIX, backend=backend)
        if net.numerics != self.numerics:
            raise ValueError(f"bad 'params': numerics {self.numerics!r} but the network was "
                             f"trained with {net.numerics!r}")
        attrs = schema.estimator_fitted(meta)
        n_out = net.n_outputs
        self._labels_from_file(meta, n_out)
        # the network must be the one the parameters describe
        out_act, loss = self._loss_for_width(n_out)
        expect = [attrs["n_features_in_"]] + sizes + [n_out]
        if list(net.layer_sizes) != expect:
            raise ValueError(f"the network's layer_sizes {list(net.layer_sizes)} are not "
                             f"{expect}, as the parameters and n_features_in_ say")
        specs = [registry.activation(a).spec for a in acts] + [registry.activation(out_act).spec]
        if ([a.spec for a in net.activations] != specs or net.loss.name != loss
                or net.reduction != "weighted_mean" or net.l2 != self.alpha / 2.0 or net.l1 != 0
                or (self.dtype is not None and net.dtype != np.dtype(self.dtype))):
            raise ValueError("the network's activations, loss, penalty or dtype are not the "
                             "ones the parameters describe")
        if net.dropout != check_dropout(self.dropout, len(net.layer_sizes) - 1):
            raise ValueError("the network's dropout rates are not the ones the parameters "
                             "describe")
        names, best, out = schema.estimator_extras(meta, arrays, attrs["n_features_in_"],
                                                   net.dtype, net.n_params)
        if names is not None:
            self.feature_names_in_ = names
        if best is not None:
            self._best = best
        for k, val in attrs.items():
            setattr(self, k, val)
        # scikit-learn's attributes that a fit sets to None (they are not stored)
        if "loss_curve_" in attrs:
            for k in ("validation_scores_", "best_loss_", "best_validation_score_"):
                if k not in attrs:
                    setattr(self, k, None)
        self._bind(net)
        self.out_activation_ = out
        return self

    # --- scikit-learn's fitted MLP of the same name --------------------------------

    @classmethod
    def from_sklearn(cls, model: Any) -> Self:
        """This estimator equivalent to scikit-learn's fitted MLP of the same name.

        :func:`cyneuron.from_sklearn` picks the class; the weights and the
        solver's state go through the checks of a loaded model file.

        Parameters
        ----------
        model : sklearn.neural_network.MLPClassifier or MLPRegressor, fitted
            Of the class this one mirrors.

        Returns
        -------
        MLPClassifier or MLPRegressor
            Same parameters, weights (in their dtype), ``classes_`` and fitted
            attributes, and the solver's state, so that ``partial_fit``
            continues the run.

        Raises
        ------
        TypeError
            `model` is not scikit-learn's estimator of this name.
        sklearn.exceptions.NotFittedError
            It is not fitted.
        ValueError
            What a model file could not hold (the loader's message, after
            ``"model: "``).
        """
        from sklearn import neural_network as sknn
        if type(model) is not getattr(sknn, cls.__name__, None):
            raise TypeError(f"model must be a fitted sklearn.neural_network.{cls.__name__}, "
                            f"got {type(model).__name__}")
        check_is_fitted(model, "coefs_")
        dtype = np.dtype(model.coefs_[0].dtype)
        if dtype.name not in ("float64", "float32"):
            raise ValueError(f"model's weights have dtype {dtype}; float64 or float32 expected")
        known = cls().get_params(deep=False)
        params = {k: val for k, val in model.get_params(deep=False).items() if k in known}
        params["dtype"] = dtype.name
        rs = params.get("random_state")
        if rs is not None and not isinstance(rs, numbers.Integral):
            params["random_state"] = None      # a RandomState cannot be shared or stored
        return cls(**params)._take_sklearn_state(model)

    def _take_sklearn_state(self, model: Any) -> Self:
        """from_sklearn, on the estimator built from `model`'s parameters."""
        sizes, acts = self._check_params()
        n_out = model.coefs_[-1].shape[1]
        self._sklearn_targets(model, n_out)
        rs = self.random_state                 # an integer or None (from_sklearn)
        seed = int(rs) if isinstance(rs, numbers.Integral) else 0
        # the network the parameters describe (architecture, penalty, dropout, Generator),
        # with the weights and solver state of `model`, built by io's checked reader
        template = self._init_network(model.coefs_[0].shape[0], n_out, sizes, acts,
                                      np.random.RandomState(seed), self.dtype)
        meta, arrays = template.state_for_file()
        del meta["digest"]                      # the template's weights are not the model's
        arrays = {"optimizer_state": arrays["optimizer_state"]}
        for l, (W, b) in enumerate(zip(model.coefs_, model.intercepts_)):
            arrays[f"W{l}"], arrays[f"b{l}"] = W, b
        try:
            # the weights' dtypes and shapes first (as network_from_arrays reads them), so
            # that the solver's state is laid out over weights known to fit
            layout, get = schema.model_layout(meta), schema.mapping_reader(arrays)
            for key in list(arrays)[1:]:
                get(key, *layout.get(key, (template.dtype, ())))
            self._take_sklearn_solver(model, template, meta, arrays)
            net = Network.from_file_state(meta, arrays, backend=self.backend)
        except ValueError as exc:
            raise ValueError(f"model: {exc}") from None
        for name in schema.FITTED_NUMBERS + schema.FITTED_INTS + ("feature_names_in_",):
            if name != "_lr" and hasattr(model, name):
                val = getattr(model, name)
                setattr(self, name, val if name == "feature_names_in_" or val is None
                        else (int(val) if name in schema.FITTED_INTS else float(val)))
        for name in schema.FITTED_LISTS:
            if getattr(model, name, None) is not None:
                setattr(self, name, [float(x) for x in getattr(model, name)])
            elif hasattr(model, name):
                setattr(self, name, None)
        self._bind(net)
        self.out_activation_ = model.out_activation_
        return self

    def _sklearn_targets(self, model: Any, n_outputs: int) -> None:
        """What `model` says of the targets (a classifier's labels)."""

    def _take_sklearn_solver(self, model: Any, net: Network, meta: dict[str, Any],
                             arrays: dict[str, NDArray[Any]]) -> None:
        """Adam's moments and step, or the velocities of momentum SGD, of `model`
        into the header `meta` and the ``optimizer_state`` of `arrays` (`net`
        gives sizes and dtype), and its current learning rate."""
        opt = getattr(model, "_optimizer", None)
        if opt is None or model.solver == "lbfgs":
            return
        name, params = self._optimizer()
        meta["optimizer"] = {"name": name, "params": params}
        n_layers = len(model.coefs_)
        layout = net.state.layout

        def flat(arrays):
            # sklearn orders its parameters coefs_ then intercepts_; cyneuron W0 b0 W1 b1 ...
            pairs = [(np.asarray(arrays[l]), np.ravel(arrays[n_layers + l]))
                     for l in range(n_layers)]
            return layout.flatten(pairs).astype(net.dtype)

        # the halves of optimizer_state that scikit-learn's solver keeps, and the
        # step count, as the registry row lays them out (m then v)
        row = registry.optimizer(name).row
        state = np.zeros(layout.n_state, dtype=net.dtype)
        halves = dict(zip("mv", layout.state_halves(state)))
        for half, attr in row.sklearn_state.items():
            halves[half][...] = flat(getattr(opt, attr))
        if row.counts_steps:
            b1p = b2p = 1.0
            for _ in range(int(opt.t)):       # the products the core keeps, one rounding each
                b1p *= params["beta_1"]
                b2p *= params["beta_2"]
            meta["optimizer_scalars"] = [float(opt.t), b1p, b2p]
        arrays["optimizer_state"] = state
        self._lr = float(getattr(opt, row.sklearn_learning_rate))

    # --- state: arrays, numbers and strings only ---------------------------------

    def __getstate__(self):
        state = dict(self.__dict__)
        net = state.pop("_network", None)
        if net is not None:
            state["coefs_"] = [np.array(W) for W in self.coefs_]
            state["intercepts_"] = [np.array(b) for b in self.intercepts_]
            state["_network_state"] = {
                "optimizer": None if net.optimizer is None else net.optimizer.name,
                "optimizer_params": None if net.optimizer is None else dict(net.optimizer.params),
                "optimizer_state": net.state.opt_state.copy(),
                "optimizer_scalars": net.state.opt_scalars.copy(),
                "rng": net.rng.bit_generator.state,
            }
        return state

    def __setstate__(self, state):
        netstate = state.pop("_network_state", None)
        self.__dict__.update(state)
        if netstate is None:
            return
        sizes, acts = self._check_params()
        n_features = self.coefs_[0].shape[0]
        net = self._init_network(n_features, self.coefs_[-1].shape[1], sizes, acts,
                                 np.random.RandomState(0), self.coefs_[0].dtype.name)
        net.set_weights(list(zip(self.coefs_, self.intercepts_)))
        if netstate["optimizer"] is not None:
            net.use_optimizer(netstate["optimizer"], netstate["optimizer_params"])
            net.state.opt_state[...] = netstate["optimizer_state"]
            net.state.opt_scalars[...] = netstate["optimizer_scalars"]
        bitgen = np.random.PCG64()
        bitgen.state = netstate["rng"]
        net.rng = np.random.Generator(bitgen)
        self._bind(net)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # scipy sparse X (CSR, CSC, COO; other formats via scikit-learn's
        # conversion to CSR) trains and predicts with the bits of its dense copy
        tags.input_tags.sparse = True
        return tags

    def summary(self, print_fn: Callable[[str], object] = print) -> None:
        """Print a Keras-style summary of the fitted model (see ``Network.summary``).

        Parameters
        ----------
        print_fn : callable, default=print
            Called once with the whole text.
        """
        check_is_fitted(self, "coefs_")
        print_fn(_summary.summary_text(self))


def _numeric(X, name):
    """X (or a regressor's y) if it holds real numbers; else the ValueError or
    TypeError that Network gives (cyneuron._validation.check_numeric): no
    strings, dates, durations, complex numbers or integers beyond the float
    range, which scikit-learn's validation would convert or overflow on.

    A DataFrame whose columns are all numeric, a sparse matrix, a complex
    array and None are passed on as they are (scikit-learn's validation reads
    feature names, and refuses sparse input, complex data and a missing y with
    the errors its checks expect); anything else as the checked array.
    """
    if X is None or scipy.sparse.issparse(X):
        return X
    dtypes = getattr(X, "dtypes", None)
    if dtypes is not None and hasattr(X, "columns"):
        if all(getattr(dt, "kind", "O") in "biuf" for dt in dtypes):
            return X
        v.check_numeric(np.asarray(X), name)
        return X
    if getattr(X, "dtype", None) is not None and X.dtype.kind == "c":
        return X            # scikit-learn's ValueError("Complex data not supported")
    return v.check_numeric(X, name)


def _stochastic(est):
    """partial_fit exists for the stochastic solvers only (as in scikit-learn)."""
    if est.solver not in ("sgd", "adam"):
        raise AttributeError(f"partial_fit is only available for stochastic optimizers. "
                             f"{est.solver} is not stochastic.")
    return True


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multi-layer perceptron classifier trained by cyneuron's compiled core.

    scikit-learn's ``MLPClassifier`` with the same parameters, defaults and
    attributes, exact and repeatable: the same ``random_state`` gives the
    same bits, on either backend and any number of threads.

    Parameters
    ----------
    hidden_layer_sizes : int or tuple of int, default=(100,)
        Widths of the hidden layers.
    activation : str or list of str, default="relu"
        Hidden activation: "identity", "logistic", "tanh", "relu",
        "leaky_relu" (or ``("leaky_relu", slope)``), "softplus", "silu",
        "elu" (or ``("elu", alpha)``), "gelu" (the tanh form); a
        list gives one per hidden layer.
    solver : {"adam", "sgd", "lbfgs"}, default="adam"
        "lbfgs" runs ``scipy.optimize``'s L-BFGS-B on the full batch.
    alpha : float, default=1e-4
        L2 penalty: ``alpha / 2 * sum(W**2)`` per unit of sample weight.
    batch_size : int or "auto", default="auto"
        ``min(200, n_samples)`` for "auto".
    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        Schedule for ``solver="sgd"``.
    learning_rate_init : float, default=1e-3
        The initial learning rate of the stochastic solvers.
    power_t : float, default=0.5
        Exponent of "invscaling": ``learning_rate_init / (t + 1) ** power_t``
        with t the number of samples seen.
    max_iter : int, default=200
        Epochs (stochastic solvers) or iterations (lbfgs).
    shuffle : bool, default=True
        Reshuffle the samples every epoch (stochastic solvers).
    random_state : int, RandomState instance or None, default=None
        Initialisation, shuffling, dropout and the early-stopping split.
    tol : float, default=1e-4
        Training stops when the loss (or the validation score) has not improved by at
        least `tol` for `n_iter_no_change` epochs.
    verbose : bool or int, default=False
        Print each epoch's loss, as scikit-learn does (``Iteration N, loss = ...``).
    warm_start : bool, default=False
        ``fit`` continues from the fitted weights instead of starting afresh.
    momentum : float, default=0.9
        Momentum of ``solver="sgd"``, in [0, 1].
    nesterovs_momentum : bool, default=True
        Nesterov's momentum for ``solver="sgd"`` with ``momentum > 0``.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data (stratified by label) and
        stop when its accuracy stops improving; the best weights are kept. A
        binary target is stratified as in scikit-learn (a class with one
        member is an error); several classes where every class can be split.
    validation_fraction : float, default=0.1
        The part of the training data that `early_stopping` holds out.
    beta_1, beta_2, epsilon : float, default=0.9, 0.999, 1e-8
        Adam's parameters.
    n_iter_no_change : int or np.inf, default=10
        Epochs without an improvement of ``tol`` before stopping; ``np.inf``:
        never stop early.
    max_fun : int, default=15000
        lbfgs: most loss evaluations.
    dropout : float or list of float, default=0.0
        Inverted dropout on the hidden layers (stochastic solvers).
    dtype : {"float64", "float32"} or None, default=None
        The network's dtype; None: float32 when X is float32 (as scikit-learn's
        MLP keeps it), float64 otherwise. Predictions come in this dtype.
    n_threads : int, default=1
        Threads for large products (-1: every CPU); bits do not change.
    clipnorm : float or None, default=None
        Clip each batch's gradient to this global norm.
    class_weight : dict, "balanced" or None, default=None
        Weights per class, keyed by the labels of ``y``; they multiply
        ``sample_weight``.
    backend : {"cython", "numpy"}, default="cython"
        The compiled core, or the NumPy reference (the same bits).
    numerics : {"numpy", "portable"}, default="numpy"
        Whose exp, tanh and log: NumPy's (the same bits as NumPy on this
        machine) or cyneuron's own (the same bits on every machine); see
        :class:`cyneuron.Network`.

    Attributes
    ----------
    classes_ : ndarray or list of ndarray
    loss_ : float
    best_loss_ : float or None
    loss_curve_ : list of float
    validation_scores_ : list of float or None
    best_validation_score_ : float or None
    t_ : int
    coefs_ : list of ndarray
    intercepts_ : list of ndarray
    n_features_in_ : int
    feature_names_in_ : ndarray
    n_iter_ : int
        Epochs (lbfgs: iterations) of the last call to ``fit`` or
        ``partial_fit``, as in scikit-learn; ``loss_curve_`` has every epoch.
    n_layers_ : int
    n_outputs_ : int
    out_activation_ : str
    network_ : cyneuron.Network
    """

    def __init__(self, hidden_layer_sizes: int | Sequence[int] = (100,),
                 activation: ActivationSpec | list[ActivationSpec] = "relu", *,
                 solver: str = "adam", alpha: float = 0.0001, batch_size: int | str = "auto",
                 learning_rate: str = "constant", learning_rate_init: float = 0.001,
                 power_t: float = 0.5, max_iter: int = 200, shuffle: bool = True,
                 random_state: int | np.random.RandomState | None = None, tol: float = 1e-4,
                 verbose: bool | int = False, warm_start: bool = False, momentum: float = 0.9,
                 nesterovs_momentum: bool = True, early_stopping: bool = False,
                 validation_fraction: float = 0.1, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-8, n_iter_no_change: int = 10, max_fun: int = 15000,
                 dropout: float | Sequence[float] = 0.0, dtype: str | None = None,
                 n_threads: int = 1, clipnorm: float | None = None,
                 class_weight: dict[Any, float] | str | None = None, backend: str = "cython",
                 numerics: str = "numpy") -> None:
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes, activation=activation, solver=solver,
            alpha=alpha, batch_size=batch_size, learning_rate=learning_rate,
            learning_rate_init=learning_rate_init, power_t=power_t, max_iter=max_iter,
            shuffle=shuffle, random_state=random_state, tol=tol, verbose=verbose,
            warm_start=warm_start, momentum=momentum, nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping, validation_fraction=validation_fraction,
            beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, n_iter_no_change=n_iter_no_change,
            max_fun=max_fun, dropout=dropout, dtype=dtype, n_threads=n_threads,
            clipnorm=clipnorm, backend=backend, numerics=numerics)
        self.class_weight = class_weight

    def _validate_xy(self, X, y, incremental, reset):
        X, y = validate_data(self, _numeric(X, "X"), y, multi_output=True,
                             dtype=(np.float64, np.float32), reset=reset,
                             accept_sparse=_SPARSE)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        if not hasattr(self, "classes_") or (not self.warm_start and not incremental):
            self._binarizer_fit(y)
        else:
            classes = unique_labels(y)
            if self.warm_start and not incremental:
                if set(classes) != set(np.ravel(self._labels)):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same classes as in "
                        f"the previous call to fit. Previously got {self.classes_}, `y` has "
                        f"{classes}")
            elif len(np.setdiff1d(classes, self._labels, assume_unique=True)):
                raise ValueError(f"`y` has classes not in `self.classes_`. `self.classes_` "
                                 f"has {self.classes_}. 'y' has {classes}.")
        return X, self._encode(y)

    def _binarizer_fit(self, y, classes=None):
        kind = type_of_target(y if classes is None else classes)
        self._multilabel = kind.startswith("multilabel")
        if self._multilabel:
            self._labels = np.arange(np.asarray(y).shape[1])
            self.classes_ = self._labels
        else:
            # one class fits, as in scikit-learn: one sigmoid unit trained towards
            # 0, and every prediction is that class
            self._labels = unique_labels(y if classes is None else classes)
            self.classes_ = self._labels

    def _encode(self, y):
        if self._multilabel:
            return np.asarray(y, dtype=np.float64)
        idx = np.searchsorted(self._labels, y)
        if len(self._labels) <= 2:                # one class: a column of zeros
            return idx.reshape(-1, 1).astype(np.float64)
        out = np.zeros((len(idx), len(self._labels)))
        out[np.arange(len(idx)), idx] = 1.0
        return out

    def label_encoding(self) -> tuple[NDArray[Any], bool]:
        """What the fitted network's outputs stand for (the exporters and the digest ask).

        Returns
        -------
        labels : numpy.ndarray
            ``classes_``: the label of each output column (multilabel: the
            column indices).
        multilabel : bool
            Whether each output is a label of its own (sigmoid outputs, any
            number on at once) rather than one class among all.
        """
        return self._labels, self._multilabel

    def _labels_for_file(self) -> dict[str, Any]:
        return {"labels": self._labels, "multilabel": self._multilabel}

    def _labels_from_file(self, meta: dict[str, Any], n_outputs: int) -> None:
        labels, multilabel = schema.estimator_labels(meta)
        self._multilabel = multilabel
        self._labels = self.classes_ = labels if not multilabel else np.arange(len(labels))
        want = len(labels) if (multilabel or len(labels) > 2) else 1
        if n_outputs != want:
            raise ValueError(f"the network has {n_outputs} outputs, but 'classes_' needs {want}")

    def _sklearn_targets(self, model: Any, n_outputs: int) -> None:
        self._multilabel = model._label_binarizer.y_type_.startswith("multilabel")
        self._labels = self.classes_ = (np.arange(n_outputs) if self._multilabel
                                        else np.asarray(model.classes_))

    def _loss_for_width(self, n_outputs):
        if self._multilabel:
            return "sigmoid", "binary_log_loss"
        if n_outputs == 1:
            return "sigmoid", "binary_crossentropy"
        return "softmax", "categorical_crossentropy"

    def _class_weights(self, Y, sw):
        cw = self.class_weight
        if cw is None:
            return sw
        if self._multilabel:
            raise ValueError("class_weight is not supported for multilabel targets")
        idx = Y[:, 0].astype(np.intp) if Y.shape[1] == 1 else np.argmax(Y, axis=1)
        if isinstance(cw, str) and cw == "balanced":
            present = np.unique(idx)
            table = np.ones(len(self._labels))
            table[present] = compute_class_weight("balanced", classes=present, y=idx)
        elif isinstance(cw, dict):
            table = np.ones(len(self._labels))
            for label, weight in cw.items():
                pos: NDArray[np.intp] | list[int] = (np.flatnonzero(self._labels == label)
                                                     if np.ndim(label) == 0 else [])
                if len(pos) != 1:
                    raise ValueError(f"class_weight has a key {label!r} that is not a class "
                                     f"of y; the classes are {list(self._labels)}")
                if not _finite_real(weight) or weight < 0:
                    raise ValueError(f"class_weight[{label!r}] must be a finite number >= 0, "
                                     f"got {weight!r}")
                table[pos[0]] = float(weight)
        else:
            _fail(self, "class_weight", "a dict, 'balanced' or None", cw)
        w = table[idx]
        if sw is not None:
            w = w * sw
        if not w.sum() > 0:
            raise ValueError("class_weight and sample_weight leave no weight on any sample")
        return w

    def _split(self, parts, t, rs):
        if self._multilabel:
            return super()._split(parts, t, rs)
        if t.shape[1] == 1:
            # binary (or one class): scikit-learn's stratification, on its own
            # array (the 0/1 column as booleans), so its split and its errors
            return train_test_split(*parts, random_state=rs,
                                    test_size=self.validation_fraction,
                                    stratify=t.astype(bool))
        # several classes: stratified where every class can be (scikit-learn
        # stratifies none), else scikit-learn's plain split
        state = rs.get_state()
        try:
            return train_test_split(*parts, random_state=rs,
                                    test_size=self.validation_fraction,
                                    stratify=np.argmax(t, axis=1))
        except ValueError:
            rs.set_state(state)
            return super()._split(parts, t, rs)

    def _val_score(self, net, x, t, w):
        out = net.forward_array(x)
        if not v.all_finite(out):
            return math.nan
        return float(accuracy_score(self._decode(t), self._decode(out), sample_weight=w))

    def _decode(self, out):
        if self._multilabel:
            return (out > 0.5).astype(int)
        if out.shape[1] == 1:
            if len(self._labels) == 1:
                return np.repeat(self._labels, out.shape[0])
            return self._labels[(out[:, 0] > 0.5).astype(np.intp)]
        return self._labels[np.argmax(out, axis=1)]

    def fit(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None,
            callbacks: Any = None) -> Self:
        """Fit the model to data X and labels y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Labels of any type, or a multilabel indicator matrix.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples: an integer weight is the same as repeating
            the sample.
        callbacks : callable, cyneuron.Callback or a list of them, default=None
            Called after every epoch as ``on_epoch_end(epoch, logs)`` (a plain
            function as ``f(epoch, logs)``), ``logs`` holding ``"loss"`` and,
            with early stopping, ``"val_score"``; one returning True stops the
            fit there (stochastic solvers only). Not a parameter of the
            estimator: a Pipeline passes it as ``mlpclassifier__callbacks``.

        Returns
        -------
        self : MLPClassifier
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight, incremental=False, callbacks=callbacks)

    @available_if(_stochastic)
    def partial_fit(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None,
                    classes: ArrayLike | None = None) -> Self:
        """One epoch over (X, y), continuing the optimizer.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Labels, or a multilabel indicator matrix.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples.
        classes : array-like of shape (n_classes,), default=None
            Every class of the problem; required on the first call.

        Returns
        -------
        self : MLPClassifier
            The estimator, trained one more epoch.
        """
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def _partial_fit_classes(self, y, classes):
        # inside _fit: a rejected call leaves no classes_ behind
        if not hasattr(self, "classes_"):
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit.")
            y_arr = np.asarray(y)
            if y_arr.ndim == 2 and y_arr.shape[1] > 1:
                self._binarizer_fit(y_arr)
            else:
                self._binarizer_fit(None, classes=np.asarray(classes))
        elif classes is not None and not np.array_equal(np.unique(classes), self._labels):
            raise ValueError(f"`classes={np.asarray(classes)}` is not the same as on the first "
                             f"call to partial_fit, {self.classes_}")

    def predict(self, X: ArrayLike) -> NDArray[Any]:
        """Predict the labels of X (the user's own labels, or a multilabel indicator matrix).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_labels)
            The predicted labels.
        """
        return self._decode(self._forward(X))

    def predict_proba(self, X: ArrayLike) -> NDArray[np.floating[Any]]:
        """Probability of each class (columns in the order of ``classes_``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            In the estimator's dtype; each row sums to 1 unless the classifier
            is multilabel (one sigmoid per label).
        """
        out = self._forward(X)
        if out.shape[1] == 1 and not self._multilabel:
            p = out[:, 0]
            return np.column_stack((1 - p, p))
        return out

    def predict_log_proba(self, X: ArrayLike) -> NDArray[np.floating[Any]]:
        """Logarithm of ``predict_proba``.

        The logarithm of the fitted network's numerics: NumPy's ``np.log``, or
        with ``numerics="portable"`` cyneuron's portable log (the same bits on
        every machine, as the probabilities are).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            The natural logarithm of each probability.
        """
        proba = self.predict_proba(X)
        # the network that computed the probabilities decides (a numerics set
        # after fit takes effect at the next fit, as for predict_proba)
        portable = self.network_.numerics == "portable"
        with np.errstate(divide="ignore"):
            return _portable_reference.log(proba) if portable else np.log(proba)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multi-layer perceptron regressor trained by cyneuron's compiled core.

    scikit-learn's ``MLPRegressor`` (squared error, identity output) with the
    same parameters, defaults and attributes, exact and repeatable. The
    parameters are those of :class:`MLPClassifier` without ``class_weight``.

    Parameters
    ----------
    hidden_layer_sizes : int or tuple of int, default=(100,)
        Widths of the hidden layers.
    activation : str or list of str, default="relu"
        Hidden activation, as for :class:`MLPClassifier`; a list gives one per hidden
        layer.
    solver : {"adam", "sgd", "lbfgs"}, default="adam"
        "lbfgs" runs ``scipy.optimize``'s L-BFGS-B on the full batch.
    alpha : float, default=1e-4
        L2 penalty: ``alpha / 2 * sum(W**2)`` per unit of sample weight.
    batch_size : int or "auto", default="auto"
        Mini-batch size of the stochastic solvers: ``min(200, n_samples)`` for "auto".
    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        Schedule for ``solver="sgd"``.
    learning_rate_init : float, default=1e-3
        The initial learning rate of the stochastic solvers.
    power_t : float, default=0.5
        Exponent of "invscaling": ``learning_rate_init / (t + 1) ** power_t`` with t the
        number of samples seen.
    max_iter : int, default=200
        Epochs (stochastic solvers) or iterations (lbfgs).
    shuffle : bool, default=True
        Reshuffle the samples every epoch (stochastic solvers).
    random_state : int, RandomState instance or None, default=None
        Initialisation, shuffling, dropout and the early-stopping split.
    tol : float, default=1e-4
        Training stops when the loss (or the validation score) has not improved by at
        least `tol` for `n_iter_no_change` epochs.
    verbose : bool or int, default=False
        Print each epoch's loss, as scikit-learn does (``Iteration N, loss = ...``).
    warm_start : bool, default=False
        ``fit`` continues from the fitted weights instead of starting afresh.
    momentum : float, default=0.9
        Momentum of ``solver="sgd"``, in [0, 1].
    nesterovs_momentum : bool, default=True
        Nesterov's momentum for ``solver="sgd"`` with ``momentum > 0``.
    early_stopping : bool, default=False
        Stop when the R^2 score on the held-out ``validation_fraction`` stops
        improving; the best weights are kept.
    validation_fraction : float, default=0.1
        The part of the training data that `early_stopping` holds out.
    beta_1, beta_2, epsilon : float, default=0.9, 0.999, 1e-8
        Adam's parameters.
    n_iter_no_change : int or np.inf, default=10
        Epochs without an improvement of `tol` before stopping; ``np.inf``: never stop
        early.
    max_fun : int, default=15000
        The most loss evaluations of lbfgs.
    dropout : float or list of float, default=0.0
        Inverted dropout on the hidden layers (stochastic solvers).
    dtype : {"float64", "float32"} or None, default=None
        The network's dtype; None: float32 when X is float32 (as scikit-learn's
        MLP keeps it), float64 otherwise. Predictions come in this dtype.
    n_threads : int, default=1
        Threads for large products (-1: every CPU); bits do not change.
    clipnorm : float or None, default=None
        Clip each batch's gradient to this global norm.
    backend : {"cython", "numpy"}, default="cython"
        The compiled core, or the NumPy reference (the same bits).
    numerics : {"numpy", "portable"}, default="numpy"
        Whose exp, tanh and log: NumPy's (the same bits as NumPy on this
        machine) or cyneuron's own (the same bits on every machine); see
        :class:`cyneuron.Network`.

    Attributes
    ----------
    loss_, best_loss_, loss_curve_, validation_scores_, best_validation_score_,
    t_, coefs_, intercepts_, n_features_in_, feature_names_in_, n_iter_,
    n_layers_, n_outputs_, out_activation_, network_
        As for :class:`MLPClassifier`.
    """

    def _sklearn_targets(self, model: Any, n_outputs: int) -> None:
        if getattr(model, "loss", "squared_error") != "squared_error":
            raise ValueError(f"model has loss={model.loss!r}; cyneuron's MLPRegressor fits the "
                             f"squared error only")

    def _loss_for_width(self, n_outputs):
        return "identity", "squared_error"

    def _validate_xy(self, X, y, incremental, reset):
        X, y = validate_data(self, _numeric(X, "X"), _numeric(y, "y"), multi_output=True,
                             y_numeric=True, dtype=(np.float64, np.float32), reset=reset,
                             accept_sparse=_SPARSE)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        return X, np.asarray(y, dtype=np.float64).reshape(len(y), -1)

    def _class_weights(self, Y, sw):
        return sw


    def _val_score(self, net, x, t, w):
        out = net.forward_array(x)
        if not v.all_finite(out):
            return math.nan                     # as scikit-learn scores it
        if t.shape[1] == 1:
            t, out = t[:, 0], out[:, 0]
        return float(r2_score(t, out, sample_weight=w))

    def fit(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None,
            callbacks: Any = None) -> Self:
        """Fit the model to data X and targets y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets: one column, or several.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples.
        callbacks : callable, cyneuron.Callback or a list of them, default=None
            As for :meth:`MLPClassifier.fit`.

        Returns
        -------
        self : MLPRegressor
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight, incremental=False, callbacks=callbacks)

    @available_if(_stochastic)
    def partial_fit(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None
                    ) -> Self:
        """One epoch over (X, y), continuing the optimizer.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets: one column, or several.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples.

        Returns
        -------
        self : MLPRegressor
            The estimator, trained one more epoch.
        """
        return self._fit(X, y, sample_weight, incremental=True)

    def predict(self, X: ArrayLike) -> NDArray[Any]:
        """Predict the targets of X.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_targets)
            The predictions, in the estimator's dtype.
        """
        out = self._forward(X)
        return out[:, 0] if out.shape[1] == 1 else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


def from_file_state(meta: dict[str, Any], arrays: dict[str, NDArray[Any]], backend: str
                    ) -> MLPClassifier | MLPRegressor:
    """The fitted estimator a model file's header (format ``cyneuron-estimator``)
    and arrays describe; see ``_BaseMLP.from_file_state``."""
    name = schema.estimator_class(meta)
    cls: type[MLPClassifier] | type[MLPRegressor] = (
        MLPClassifier if name == "MLPClassifier" else MLPRegressor)
    return cls.from_file_state(meta, arrays, backend)
