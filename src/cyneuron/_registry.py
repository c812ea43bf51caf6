"""The one table that maps names to implementations.

Each activation and loss has a name (what users write), a code (what the
compiled core switches on) and its reference functions (what
``backend="numpy"`` runs). Both backends read this table and nothing else.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import reference as ref
from .reference import FloatArray, Scalar

# a reference function: f(z) or f(z, param) for an activation, f(a, y, w, count) for a loss
RefFunction = Callable[..., Any]


@dataclass(frozen=True)
class Activation:
    """An activation function f, with f'(z) expressed through a = f(z), or
    through z itself when ``from_input`` (a does not determine z for silu)."""

    name: str
    code: int
    param: float = 0.0
    output_only: bool = False
    _forward: RefFunction | None = field(default=None, repr=False, compare=False)
    _derivative: RefFunction | None = field(default=None, repr=False, compare=False)  # softmax: none
    from_input: bool = False

    def forward(self, z: FloatArray) -> FloatArray:
        """f(z) with the reference function."""
        f = self._forward
        if f is None:
            raise TypeError(f"activation {self.name!r} has no reference function")
        if self.name == "leaky_relu":
            return f(z, self.param)
        return f(z)

    def backward(self, a: FloatArray, g: FloatArray) -> FloatArray:
        """dL/dz from dL/da = g; `a` is the layer's output (its input z when
        ``from_input``)."""
        if self.name == "softmax":
            return ref.softmax_backward(a, g)
        d = self._derivative
        if d is None:
            raise TypeError(f"activation {self.name!r} has no reference derivative")
        if self.name == "leaky_relu":
            return g * d(a, self.param)
        return g * d(a)

    @property
    def spec(self) -> str | dict[str, Any]:
        """What this activation is called in a saved model or a repr."""
        if self.name == "leaky_relu":
            return {"name": self.name, "alpha": self.param}
        return self.name


@dataclass(frozen=True)
class Loss:
    """A loss: its value, and either dL/da (`gradient`) or, for a loss that
    pairs with one output activation, dL/dz directly (`delta`).

    Each is a reference function ``f(a, y, w, count)``; ``count``, the
    divisor, is the batch's row count (or weight sum) times ``norm(m)`` for
    an output width m: ``per_row`` times m when ``per_output``, else
    ``per_row``. Two losses may share a core code and differ only there.
    """

    name: str
    code: int
    _value: RefFunction = field(repr=False, compare=False)
    gradient: RefFunction | None = field(default=None, repr=False, compare=False)
    delta: RefFunction | None = field(default=None, repr=False, compare=False)
    output: str | None = None     # the output activation it requires, if any
    classification: bool = False
    per_row: int = 1
    per_output: bool = True
    is_mean: bool = True          # False for sse, a plain sum

    def norm(self, m: int) -> int:
        """The loss's divisor per row, for an output width m."""
        return self.per_row * (m if self.per_output else 1)

    def value(self, a: FloatArray, y: FloatArray, w: FloatArray | None = None,
              count: Scalar | None = None) -> Scalar:
        """The loss of outputs a against targets y (divided by rows x norm by default)."""
        if count is None:
            count = a.dtype.type(a.shape[0] * self.norm(a.shape[1]))
        return self._value(a, y, w, count)


@dataclass(frozen=True)
class Optimizer:
    """An optimizer's name, code and hyperparameters (its state lives in the Network)."""

    name: str
    code: int
    params: dict[str, Any] = field(default_factory=dict, compare=False)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{self.name}({args})"


# code numbers must match the enums of csrc/cyn_kernels.h (checked by tests/test_kernels.py)
# name: (code, f, f', output only, f' written through z)
_ACTIVATIONS: dict[str, tuple[int, RefFunction, RefFunction | None, bool, bool]] = {
    "identity": (0, ref.identity, ref.identity_derivative, False, False),
    "sigmoid": (1, ref.sigmoid, ref.sigmoid_derivative, False, False),
    "tanh": (2, ref.tanh, ref.tanh_derivative, False, False),
    "relu": (3, ref.relu, ref.relu_derivative, False, False),
    "leaky_relu": (4, ref.leaky_relu, ref.leaky_relu_derivative, False, False),
    "softmax": (5, ref.softmax, None, True, False),
    "softplus": (6, ref.softplus, ref.softplus_derivative, False, True),
    "silu": (7, ref.silu, ref.silu_derivative, False, True),
}
_ALIASES = {"linear": "identity", "logistic": "sigmoid", "none": "identity", "swish": "silu"}
DEFAULT_LEAKY_SLOPE = 0.01

LOSSES: dict[str, Loss] = {
    "mse": Loss("mse", 0, ref.mse, ref.mse_gradient),
    "sse": Loss("sse", 1, ref.sse, ref.sse_gradient, is_mean=False),
    "binary_crossentropy": Loss("binary_crossentropy", 2, ref.binary_crossentropy,
                                delta=ref.binary_crossentropy_delta, output="sigmoid",
                                classification=True),
    "categorical_crossentropy": Loss("categorical_crossentropy", 3,
                                     ref.categorical_crossentropy,
                                     delta=ref.categorical_crossentropy_delta,
                                     output="softmax", classification=True, per_output=False),
    # scikit-learn's objectives: half the squared error summed over a row's
    # outputs (the function MLPRegressor's gradient belongs to; for one output
    # half the mse), and the binary cross-entropy summed over a row's outputs
    # (MLPClassifier's multilabel loss; for one output binary_crossentropy)
    "squared_error": Loss("squared_error", 0, ref.mse, ref.mse_gradient, per_row=2,
                          per_output=False),
    "binary_log_loss": Loss("binary_log_loss", 2, ref.binary_crossentropy,
                            delta=ref.binary_crossentropy_delta, output="sigmoid",
                            classification=True, per_output=False),
}
_LOSS_ALIASES = {"bce": "binary_crossentropy", "cce": "categorical_crossentropy",
                 "crossentropy": "categorical_crossentropy", "log_loss": "binary_crossentropy",
                 "mean_squared_error": "mse"}

# name: (code, default hyperparameters, {hyperparameter: (low, low_inclusive, high, high_inclusive)})
Bounds = tuple[float, bool, float | None, bool]
_OPTIMIZERS: dict[str, tuple[int, dict[str, Any], dict[str, Bounds]]] = {
    "sgd": (0, {}, {}),
    "momentum": (1, {"momentum": 0.9, "nesterov": False},
                 {"momentum": (0.0, True, 1.0, False)}),
    "rmsprop": (2, {"rho": 0.9, "epsilon": 1e-8},
                {"rho": (0.0, True, 1.0, False), "epsilon": (0.0, False, None, False)}),
    "adam": (3, {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8},
             {"beta_1": (0.0, True, 1.0, False), "beta_2": (0.0, True, 1.0, False),
              "epsilon": (0.0, False, None, False)}),
}
# fit's learning rate when none is given (Keras' defaults)
DEFAULT_LEARNING_RATES = {"sgd": 0.01, "momentum": 0.01, "rmsprop": 0.001, "adam": 0.001}
_OPTIMIZER_ALIASES: dict[str, tuple[str, dict[str, Any]]] = {
    "nesterov": ("momentum", {"nesterov": True}), "gd": ("sgd", {})}
OPTIMIZER_NAMES = tuple(_OPTIMIZERS) + tuple(_OPTIMIZER_ALIASES)

ACTIVATION_NAMES = tuple(_ACTIVATIONS)
LOSS_NAMES = tuple(LOSSES)


def activation(spec: Any) -> Activation:
    """Resolve an activation spec: a name, ``(name, param)`` or ``{"name":..., "alpha":...}``."""
    if isinstance(spec, Activation):
        return spec
    param: Any = None
    if isinstance(spec, dict):
        spec = dict(spec)
        if "name" not in spec:
            raise ValueError(f"an activation given as a dict needs a 'name', got {spec!r:.80}")
        name = spec.pop("name")
        param = spec.pop("alpha", None)
        if spec:
            raise ValueError(f"unknown activation option(s) {sorted(map(str, spec))}")
    elif isinstance(spec, (tuple, list)) and len(spec) == 2:
        name, param = spec
    else:
        name = spec
    if not isinstance(name, str):
        raise TypeError(f"activation must be a name (str), got {type(name).__name__}")
    key = _ALIASES.get(name.lower(), name.lower())
    if key not in _ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; valid names: {', '.join(ACTIVATION_NAMES)}")
    code, fwd, der, output_only, from_input = _ACTIVATIONS[key]
    if key == "leaky_relu":
        p = DEFAULT_LEAKY_SLOPE if param is None else param
        try:
            p = float(p)
        except (TypeError, ValueError):
            raise TypeError(f"leaky_relu slope must be a number, got {param!r}") from None
        if not (p == p) or p in (float("inf"), float("-inf")) or p < 0:
            raise ValueError(f"leaky_relu slope must be finite and >= 0, got {param!r}")
        return Activation(key, code, p, output_only, fwd, der, from_input)
    if param is not None:
        raise ValueError(f"activation {key!r} takes no parameter, got {param!r}")
    return Activation(key, code, 0.0, output_only, fwd, der, from_input)


def loss(name: str | Loss) -> Loss:
    """Resolve a loss name."""
    if isinstance(name, Loss):
        return name
    if not isinstance(name, str):
        raise TypeError(f"loss must be a name (str), got {type(name).__name__}")
    key = _LOSS_ALIASES.get(name.lower(), name.lower())
    if key not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; valid names: {', '.join(LOSS_NAMES)}")
    return LOSSES[key]


def optimizer(spec: str | Optimizer, **overrides: Any) -> Optimizer:
    """Resolve an optimizer: a name (with hyperparameter overrides) or an Optimizer."""
    if isinstance(spec, Optimizer):
        # re-resolved from its name and parameters: a hand-built Optimizer
        # (say code 3 without adam's parameters) must not reach the core
        overrides = {**spec.params, **overrides}
        spec = spec.name
    if not isinstance(spec, str):
        raise TypeError(f"optimizer must be a name (str), got {type(spec).__name__}")
    key = spec.lower()
    extra: dict[str, Any] = {}
    if key in _OPTIMIZER_ALIASES:
        key, extra = _OPTIMIZER_ALIASES[key]
    if key not in _OPTIMIZERS:
        raise ValueError(f"unknown optimizer {spec!r}; valid names: {', '.join(OPTIMIZER_NAMES)}")
    code, defaults, bounds = _OPTIMIZERS[key]
    params = dict(defaults)
    params.update(extra)
    for k, val in overrides.items():
        if k not in defaults:
            raise ValueError(f"optimizer {key!r} has no hyperparameter {k!r}; it takes "
                             f"{', '.join(defaults) or 'none'}")
        if k == "nesterov":
            if not isinstance(val, bool):
                raise TypeError(f"nesterov must be True or False, got {val!r}")
            params[k] = val
            continue
        if isinstance(val, bool) or not isinstance(val, (int, float)):
            raise TypeError(f"{k} must be a number, got {val!r}")
        try:
            val = float(val)
        except OverflowError:
            raise ValueError(f"{k} must be finite, got an integer too large for a float") \
                from None
        lo, lo_inc, hi, hi_inc = bounds[k]
        ok = val == val and (val > lo or (lo_inc and val == lo)) and \
            (hi is None or val < hi or (hi_inc and val == hi)) and val != float("inf")
        if not ok:
            rng = f"{'[' if lo_inc else '('}{lo}, {hi if hi is not None else 'inf'}" \
                  f"{']' if hi_inc else ')'}"
            raise ValueError(f"{k} must be in {rng}, got {val}")
        params[k] = val
    return Optimizer(key, code, params)
