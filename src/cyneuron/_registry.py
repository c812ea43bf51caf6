"""The one table that maps names to implementations.

Design: one row per activation, loss and optimizer carries everything about
it, so that nothing else in the package branches on a name (the bar is
scikit-learn's ``neural_network/_base.py``: adding an activation is a few
functions and one table entry). An activation's row (`ActivationRow`) holds

- its code (what the compiled core switches on) and reference functions
  (what ``backend="numpy"`` runs, and with ``reference.numerics("portable")``
  what `cyneuron.export_c`'s header computes);
- its parameter, if it takes one (leaky_relu's slope): the key in a saved
  spec, the default, the word used in messages;
- what each exporter needs: the C99 code of the layer (``export_c``), an
  ONNX node builder and the lowest opset it needs (``to_onnx``), the
  ``torch.nn`` module (``to_torch``/``from_torch``), scikit-learn's name and
  initialisation factor (the estimators).

A field left ``None`` means the exporter that needs it refuses the
activation, naming both; tests/test_registry.py walks the rows so that a new
one cannot lack a field unnoticed. The optional libraries stay unimported
here: an ONNX builder is handed the exporter's emitter, a torch form names
its ``torch.nn`` class, and the exporters resolve them.

An optimizer's row (`OptimizerRow`) holds its code, hyperparameters with
their defaults and bounds, the default learning rate, the layout of its
state in the model files (which halves of ``optimizer_state`` it writes,
whether it counts steps) and where scikit-learn's solver keeps that state.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import reference as ref
from .reference import FloatArray, Scalar

# a reference function: f(z) or f(z, param) for an activation, f(a, y, w, count) for a loss
RefFunction = Callable[..., Any]


# --- what the exporters are handed -------------------------------------------------------------

@dataclass(frozen=True)
class CWords:
    """The C99 words an activation's code is written with, for one dtype.

    Built by ``cyneuron._export_c`` for each layer and handed to the row's
    ``c99`` function.

    Attributes
    ----------
    T : str
        The C type, ``"float"`` or ``"double"``.
    fn : str
        The suffix of the portable functions (``cynx_exp_<fn>``): ``"f32"`` or ``"f64"``.
    one, zero : str
        1 and +0 as literals of T.
    param : str
        The activation's parameter as an exact hex literal of T ("" if it takes none).
    """

    T: str
    fn: str
    one: str
    zero: str
    param: str = ""


# a row's C code: (words, layer width n, destination array, source array) -> C99 statements
CCode = Callable[[CWords, int, str, str], str]
# a row's ONNX nodes: (emitter, input tensor, layer index, graph dtype, param) -> output tensor;
# the emitter (cyneuron._onnx) has .init(base, array) and .node(op, inputs, base, **attrs)
OnnxBuilder = Callable[[Any, str, int, np.dtype, float], str]


@dataclass(frozen=True)
class TorchForm:
    """An activation as a ``torch.nn`` module (torch itself is never imported here).

    Attributes
    ----------
    module : str or None
        The class's name in ``torch.nn``; None: no module, the Linear layer alone.
    kwargs : callable
        ``kwargs(param)``: the constructor's keyword arguments.
    read : callable or None
        ``read(module)``: the activation's parameter from a module of that
        class (None: it takes none), or ValueError for a setting cyneuron
        cannot compute.
    """

    module: str | None
    kwargs: Callable[[float], dict[str, Any]] = lambda param: {}
    read: Callable[[Any], float | None] | None = None


@dataclass(frozen=True)
class Param:
    """An activation's one parameter.

    Attributes
    ----------
    key : str
        Its key in a saved spec (``{"name": ..., key: value}``).
    word : str
        What messages call it.
    default : float
        Its value when the spec gives none; it must be finite and >= 0.
    """

    key: str
    word: str
    default: float


# --- activations ---------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class ActivationRow:
    """Everything about one activation (see the module's design note).

    Attributes
    ----------
    name, code : str, int
        What users write; what the compiled core switches on
        (``csrc/cyn_kernels.h``'s enum).
    forward : callable
        ``forward(z, param)``, the reference function.
    backward : callable
        ``backward(a, g, param)``: dL/dz from dL/da = g and the layer's
        output a (its input z when `from_input`).
    output_only, from_input : bool
        Only an output layer may use it (softmax); its derivative is written
        through z, not a (a does not determine z for silu).
    param : Param or None
        Its parameter, if it takes one.
    c99 : callable or None
        The layer's C99 code for ``export_c`` (`CCode`).
    onnx : callable or None
        Its ONNX nodes for ``to_onnx`` (`OnnxBuilder`).
    onnx_opset : (int, int)
        The lowest opset its nodes need in a float32 and in a float64 graph.
    torch : TorchForm or None
        Its ``torch.nn`` module.
    sklearn_name : str or None
        scikit-learn's name for it (its ``activation`` / ``out_activation_``);
        None where scikit-learn has none (the estimators then use `name`).
    init_factor : float
        scikit-learn's Glorot factor for the weights of a layer that feeds
        it: the bound is ``sqrt(init_factor / (fan_in + fan_out))``.
    """

    name: str
    code: int
    forward: RefFunction = field(repr=False)
    backward: RefFunction = field(repr=False)
    output_only: bool = False
    from_input: bool = False
    param: Param | None = None
    c99: CCode | None = field(default=None, repr=False)
    onnx: OnnxBuilder | None = field(default=None, repr=False)
    onnx_opset: tuple[int, int] = (1, 1)
    torch: TorchForm | None = field(default=None, repr=False)
    sklearn_name: str | None = None
    init_factor: float = 6.0


@dataclass(frozen=True)
class Activation:
    """An activation as a layer uses it: its registry row and its parameter.

    ``name``, ``code``, ``output_only`` and ``from_input`` are the row's; f'(z)
    is expressed through a = f(z), or through z itself when ``from_input``.
    """

    row: ActivationRow = field(repr=False)
    param: float = 0.0

    @property
    def name(self) -> str:
        """The activation's name in the registry."""
        return self.row.name

    @property
    def code(self) -> int:
        """The code the compiled core switches on."""
        return self.row.code

    @property
    def output_only(self) -> bool:
        """Whether only an output layer may use it."""
        return self.row.output_only

    @property
    def from_input(self) -> bool:
        """Whether `backward` takes the layer's input z rather than its output."""
        return self.row.from_input

    def forward(self, z: FloatArray) -> FloatArray:
        """f(z) with the reference function."""
        return self.row.forward(z, self.param)

    def backward(self, a: FloatArray, g: FloatArray) -> FloatArray:
        """dL/dz from dL/da = g; `a` is the layer's output (its input z when
        ``from_input``)."""
        return self.row.backward(a, g, self.param)

    @property
    def spec(self) -> str | dict[str, Any]:
        """What this activation is called in a saved model or a repr."""
        if self.row.param is None:
            return self.name
        return {"name": self.name, self.row.param.key: self.param}

    def __repr__(self) -> str:
        return f"Activation({self.spec!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        # pickled by its spec: the row's functions stay in this module
        return activation, (self.spec,)


def _plain(f: RefFunction) -> RefFunction:
    """forward(z, param) of a reference function f(z)."""
    return lambda z, param: f(z)


def _chain(d: RefFunction) -> RefFunction:
    """backward(a, g, param) = g * d(a) for a derivative d(a)."""
    return lambda a, g, param: g * d(a)


def _c_each(expr: Callable[[str, CWords], str]) -> CCode:
    """The C code of an elementwise activation from its expression of ``z`` (a C lvalue)."""
    return lambda w, n, dst, src: (f"    for (j = 0; j < {n}; j++) {dst}[j] = "
                                   f"{expr(f'{src}[j]', w)};")


def _c_const(value: float, w: CWords) -> str:
    """`value` rounded to the type T as an exact hex literal of T."""
    if w.T == "float":
        return float(np.float32(value)).hex() + "f"
    return float(value).hex()


def _c_gelu(z: str, w: CWords) -> str:
    half, beta, kappa = (_c_const(v, w) for v in (0.5, ref.GELU_BETA, ref.GELU_KAPPA))
    return (f"{half} * {z} * ({w.one} + cynx_tanh_{w.fn}({beta} * ({z} + {kappa} * "
            f"({z} * {z} * {z}))))")


def _c_relu(z: str, w: CWords) -> str:
    return f"({z} <= {w.zero} ? {w.zero} : {z})"      # = np.maximum(z, 0): NaN kept, -0 -> +0


def _c_softmax(w: CWords, n: int, dst: str, src: str) -> str:
    # np.max propagates NaN; the sum runs left to right from +0.0 (reference.row_sums)
    z = f"{src}[j]"
    return (f"    {{\n        {w.T} m = {src}[0], s = {w.zero};\n"
            f"        for (j = 1; j < {n}; j++) m = ({z} > m || {z} != {z}) ? {z} : m;\n"
            f"        for (j = 0; j < {n}; j++) {{ {dst}[j] = cynx_exp_{w.fn}({z} - m); "
            f"s = s + {dst}[j]; }}\n"
            f"        for (j = 0; j < {n}; j++) {dst}[j] = {dst}[j] / s;\n    }}")


def _onnx_const(e: Any, base: str, l: int, value: float, dtype: np.dtype) -> str:
    """A one-element initializer of the graph's dtype (broadcast by the nodes)."""
    return e.init(f"{base}{l}", np.array([value], dtype=dtype))


def _onnx_sigmoid(e: Any, h: str, l: int, dtype: np.dtype, param: float) -> str:
    # 1 / (1 + exp(-z)), cyneuron's formula: onnxruntime's Sigmoid loses
    # the tail (float64: 0.0 below z = -36.7, a relative error of 7e-5
    # at z = -27), its Exp is within 2 ulp of NumPy's
    one = _onnx_const(e, "one", l, 1.0, dtype)
    h = e.node("Exp", [e.node("Neg", [h], f"negz{l}")], f"expnegz{l}")
    return e.node("Div", [one, e.node("Add", [one, h], f"denom{l}")], f"a{l}")


def _onnx_leaky_relu(e: Any, h: str, l: int, dtype: np.dtype, param: float) -> str:
    # PRelu with a slope initializer of the graph's dtype: LeakyRelu's alpha
    # attribute is a float32 and would cost ~6e6 ulp in a float64 graph
    slope = _onnx_const(e, "slope", l, param, dtype)
    return e.node("PRelu", [h, slope], f"a{l}")


def _onnx_silu(e: Any, h: str, l: int, dtype: np.dtype, param: float) -> str:
    # z / (1 + exp(-z)), cyneuron's formula (see sigmoid)
    one = _onnx_const(e, "one", l, 1.0, dtype)
    ez = e.node("Exp", [e.node("Neg", [h], f"negz{l}")], f"expnegz{l}")
    return e.node("Div", [h, e.node("Add", [one, ez], f"denom{l}")], f"a{l}")


def _onnx_softplus(e: Any, h: str, l: int, dtype: np.dtype, param: float) -> str:
    # max(z, 0) + log(1 + exp(-|z|)), cyneuron's formula with Log(1 + .)
    # for log1p (ONNX has none): the same to within an absolute 1e-16,
    # relative in the far negative tail only
    one = _onnx_const(e, "one", l, 1.0, dtype)
    zero = _onnx_const(e, "zero", l, 0.0, dtype)
    t = e.node("Exp", [e.node("Neg", [e.node("Abs", [h], f"absz{l}")], f"negabs{l}")],
               f"expneg{l}")
    t = e.node("Log", [e.node("Add", [one, t], f"onep{l}")], f"log1p{l}")
    return e.node("Add", [e.node("Max", [h, zero], f"pos{l}"), t], f"a{l}")


def _onnx_elu(e: Any, h: str, l: int, dtype: np.dtype, param: float) -> str:
    # z > 0 ? z : alpha * (exp(min(z, 0)) - 1), cyneuron's formula: Elu's
    # alpha attribute is a float32 and onnxruntime has no float64 Elu
    one = _onnx_const(e, "one", l, 1.0, dtype)
    zero = _onnx_const(e, "zero", l, 0.0, dtype)
    alpha = _onnx_const(e, "alpha", l, param, dtype)
    t = e.node("Exp", [e.node("Min", [h, zero], f"neg{l}")], f"expneg{l}")
    t = e.node("Mul", [alpha, e.node("Sub", [t, one], f"expm1_{l}")], f"elu_neg{l}")
    return e.node("Where", [e.node("Greater", [h, zero], f"pos{l}"), h, t], f"a{l}")


def _onnx_gelu(e: Any, h: str, l: int, dtype: np.dtype, param: float) -> str:
    # 0.5 * z * (1 + tanh(beta * (z + kappa * ((z * z) * z)))), cyneuron's
    # formula: Gelu arrives only in opset 20
    def const(base: str, value: float) -> str:
        return _onnx_const(e, base, l, value, dtype)
    z3 = e.node("Mul", [e.node("Mul", [h, h], f"zsq{l}"), h], f"zcube{l}")
    u = e.node("Add", [h, e.node("Mul", [const("kappa", ref.GELU_KAPPA), z3], f"kz3_{l}")],
               f"inner{l}")
    t = e.node("Tanh", [e.node("Mul", [const("beta", ref.GELU_BETA), u], f"u{l}")], f"t{l}")
    half_z = e.node("Mul", [const("half", 0.5), h], f"halfz{l}")
    return e.node("Mul", [half_z, e.node("Add", [const("one", 1.0), t], f"onept{l}")], f"a{l}")


def _onnx_op(op: str, **attrs: Any) -> OnnxBuilder:
    """The nodes of an activation that is one ONNX operator."""
    return lambda e, h, l, dtype, param: e.node(op, [h], f"a{l}", **attrs)


def _torch_softplus(module: Any) -> None:
    # torch's softplus is linear above threshold / beta; cyneuron's is
    # log(1 + exp(z)) everywhere (the two differ by < 2.1e-9 there)
    if float(module.beta) != 1.0:
        raise ValueError(f"Softplus(beta={module.beta}) is not supported: cyneuron's "
                         f"softplus has beta 1")


def _torch_gelu(module: Any) -> None:
    if module.approximate != "tanh":
        raise ValueError(f"GELU(approximate={module.approximate!r}) is not supported: "
                         f"cyneuron's gelu is the tanh form (approximate='tanh')")


def _torch_softmax(module: Any) -> None:
    if module.dim not in (1, -1):
        raise ValueError(f"Softmax(dim={module.dim}) is not supported: cyneuron's "
                         f"softmax runs over each row (dim=1 or -1)")


DEFAULT_LEAKY_SLOPE = 0.01
DEFAULT_ELU_ALPHA = 1.0

# code numbers must match the enums of csrc/cyn_kernels.h (checked by tests/test_kernels.py);
# the order is the order of ACTIVATION_NAMES
_ACTIVATION_ROWS = (
    ActivationRow(
        "identity", 0, _plain(ref.identity), _chain(ref.identity_derivative),
        c99=_c_each(lambda z, w: z),
        onnx=lambda e, h, l, dtype, param: h,
        torch=TorchForm(None), sklearn_name="identity"),
    ActivationRow(
        "sigmoid", 1, _plain(ref.sigmoid), _chain(ref.sigmoid_derivative),
        c99=_c_each(lambda z, w: f"{w.one} / ({w.one} + cynx_exp_{w.fn}(-{z}))"),
        onnx=_onnx_sigmoid, torch=TorchForm("Sigmoid"), sklearn_name="logistic",
        init_factor=2.0),
    ActivationRow(
        "tanh", 2, _plain(ref.tanh), _chain(ref.tanh_derivative),
        c99=_c_each(lambda z, w: f"cynx_tanh_{w.fn}({z})"),
        onnx=_onnx_op("Tanh"), torch=TorchForm("Tanh"), sklearn_name="tanh"),
    ActivationRow(
        "relu", 3, _plain(ref.relu), _chain(ref.relu_derivative),
        c99=_c_each(_c_relu), onnx=_onnx_op("Relu"), torch=TorchForm("ReLU"),
        sklearn_name="relu"),
    ActivationRow(
        "leaky_relu", 4, ref.leaky_relu,
        lambda a, g, param: g * ref.leaky_relu_derivative(a, param),
        param=Param("alpha", "slope", DEFAULT_LEAKY_SLOPE),
        c99=_c_each(lambda z, w: f"({z} > {w.zero} ? {z} : {w.param} * {z})"),
        onnx=_onnx_leaky_relu, onnx_opset=(1, 16),   # onnxruntime's float64 PRelu: PRelu-16
        torch=TorchForm("LeakyReLU", lambda param: {"negative_slope": param},
                        lambda module: float(module.negative_slope))),
    ActivationRow(
        "softmax", 5, _plain(ref.softmax),
        lambda a, g, param: ref.softmax_backward(a, g), output_only=True,
        c99=_c_softmax, onnx=_onnx_op("Softmax", axis=1),
        torch=TorchForm("Softmax", lambda param: {"dim": 1}, _torch_softmax),
        sklearn_name="softmax"),
    ActivationRow(
        "softplus", 6, _plain(ref.softplus), _chain(ref.softplus_derivative), from_input=True,
        c99=_c_each(lambda z, w: f"{_c_relu(z, w)} + cynx_log1p_{w.fn}(cynx_exp_{w.fn}("
                                 f"-cynx_abs_{w.fn}({z})))"),
        onnx=_onnx_softplus, torch=TorchForm("Softplus", read=_torch_softplus)),
    ActivationRow(
        "silu", 7, _plain(ref.silu), _chain(ref.silu_derivative), from_input=True,
        c99=_c_each(lambda z, w: f"{z} / ({w.one} + cynx_exp_{w.fn}(-{z}))"),
        onnx=_onnx_silu, torch=TorchForm("SiLU")),
    ActivationRow(
        "elu", 8, ref.elu, lambda z, g, param: g * ref.elu_derivative(z, param),
        from_input=True, param=Param("alpha", "alpha", DEFAULT_ELU_ALPHA),
        # exp only where z <= 0 (or NaN): elsewhere the reference's exp(min(z, 0)) is unused
        c99=_c_each(lambda z, w: f"({z} > {w.zero} ? {z} : "
                                 f"{w.param} * (cynx_exp_{w.fn}({z}) - {w.one}))"),
        onnx=_onnx_elu,
        torch=TorchForm("ELU", lambda param: {"alpha": param},
                        lambda module: float(module.alpha))),
    ActivationRow(
        "gelu", 9, _plain(ref.gelu), _chain(ref.gelu_derivative), from_input=True,
        c99=_c_each(_c_gelu), onnx=_onnx_gelu,
        torch=TorchForm("GELU", lambda param: {"approximate": "tanh"}, _torch_gelu)),
)
ACTIVATIONS: dict[str, ActivationRow] = {row.name: row for row in _ACTIVATION_ROWS}
_ALIASES = {"linear": "identity", "logistic": "sigmoid", "none": "identity", "swish": "silu"}
ACTIVATION_NAMES = tuple(ACTIVATIONS)


# --- losses ------------------------------------------------------------------------------------

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
LOSS_NAMES = tuple(LOSSES)


# --- optimizers --------------------------------------------------------------------------------

# a hyperparameter's range: (low, low inclusive, high or None, high inclusive)
Bounds = tuple[float, bool, float | None, bool]


@dataclass(frozen=True, eq=False)
class OptimizerRow:
    """Everything about one optimizer (see the module's design note).

    Attributes
    ----------
    name, code : str, int
        What users write; what the compiled core switches on.
    defaults : dict
        Its hyperparameters and their default values.
    bounds : dict
        The range of each numeric hyperparameter (`Bounds`); the others are flags.
    learning_rate : float
        fit's learning rate when none is given (Keras' defaults).
    state : tuple of str
        The halves of the model files' ``optimizer_state`` (m then v, one
        value per parameter each) that it writes; the others stay zero.
    squares : bool
        Its v half holds averages of squared gradients (so never below zero).
    counts_steps : bool
        It keeps ``optimizer_scalars`` [step, beta_1**step, beta_2**step].
    sklearn_state : dict
        For each half of `state` that scikit-learn's solver of the same kind
        keeps, the solver's attribute that holds it (a list of arrays:
        ``coefs_`` then ``intercepts_``).
    sklearn_learning_rate : str
        The attribute of scikit-learn's solver that holds its learning rate.
    update : callable
        Its step in the reference, ``update(p, g, state, learning_rate, params)``
        (`cyneuron.reference.adam_update` and friends).

    A ``weight_decay`` hyperparameter is decoupled weight decay, a step of its
    own before the update (`cyneuron.reference.optimizer_step`); the others,
    in the order of `defaults` (which `Optimizer.params` keeps), are what the
    compiled core's step reads, so two rows of one code list them alike.
    """

    name: str
    code: int
    defaults: dict[str, Any] = field(default_factory=dict)
    bounds: dict[str, Bounds] = field(default_factory=dict)
    learning_rate: float = 0.01
    state: tuple[str, ...] = ()
    squares: bool = False
    counts_steps: bool = False
    sklearn_state: dict[str, str] = field(default_factory=dict)
    sklearn_learning_rate: str = "learning_rate"
    update: Callable[..., FloatArray] = ref.sgd_update


# the hyperparameter of decoupled weight decay, a step of its own (see OptimizerRow)
WEIGHT_DECAY = "weight_decay"


@dataclass(frozen=True)
class Optimizer:
    """An optimizer's name, code and hyperparameters (its state lives in the Network).

    Made by :mod:`cyneuron.optimizers`' functions or by name; immutable.

    Parameters
    ----------
    name : str
        The registry's name ("sgd", "momentum", "rmsprop", "adam", "adamw").
    code : int
        What the compiled core switches on.
    params : dict
        The hyperparameters, the row's defaults overridden.
    """

    name: str
    code: int
    params: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def row(self) -> OptimizerRow:
        """Its registry row (KeyError for a name the registry does not know)."""
        return OPTIMIZERS[self.name]

    @property
    def weight_decay(self) -> float:
        """Its decoupled weight decay (0.0 for a row without one): before each
        update the weights, not the biases, are scaled by ``1 - lr * weight_decay``."""
        return float(self.params.get(WEIGHT_DECAY, 0.0))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{self.name}({args})"


_UNIT = (0.0, True, 1.0, False)           # [0, 1)
_POSITIVE = (0.0, False, None, False)     # (0, inf)
_OPTIMIZER_ROWS = (
    OptimizerRow("sgd", 0),
    OptimizerRow("momentum", 1, {"momentum": 0.9, "nesterov": False}, {"momentum": _UNIT},
                 state=("m",), sklearn_state={"m": "velocities"}, update=ref.momentum_update),
    OptimizerRow("rmsprop", 2, {"rho": 0.9, "epsilon": 1e-8},
                 {"rho": _UNIT, "epsilon": _POSITIVE}, learning_rate=0.001,
                 state=("v",), squares=True, update=ref.rmsprop_update),
    OptimizerRow("adam", 3, {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8},
                 {"beta_1": _UNIT, "beta_2": _UNIT, "epsilon": _POSITIVE}, learning_rate=0.001,
                 state=("m", "v"), squares=True, counts_steps=True,
                 sklearn_state={"m": "ms", "v": "vs"},
                 sklearn_learning_rate="learning_rate_init", update=ref.adam_update),
    # Adam's code and update after decoupled weight decay of the weights (torch.optim.AdamW)
    OptimizerRow("adamw", 3, {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8,
                              WEIGHT_DECAY: 0.01},
                 {"beta_1": _UNIT, "beta_2": _UNIT, "epsilon": _POSITIVE,
                  WEIGHT_DECAY: (0.0, True, None, False)}, learning_rate=0.001,
                 state=("m", "v"), squares=True, counts_steps=True, update=ref.adam_update),
)
OPTIMIZERS: dict[str, OptimizerRow] = {row.name: row for row in _OPTIMIZER_ROWS}
# fit's learning rate when none is given (Keras' defaults)
DEFAULT_LEARNING_RATES = {row.name: row.learning_rate for row in _OPTIMIZER_ROWS}
_OPTIMIZER_ALIASES: dict[str, tuple[str, dict[str, Any]]] = {
    "nesterov": ("momentum", {"nesterov": True}), "gd": ("sgd", {})}
OPTIMIZER_NAMES = tuple(OPTIMIZERS) + tuple(_OPTIMIZER_ALIASES)


# --- resolving specs ---------------------------------------------------------------------------

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
        # the keys a saved spec may carry (one per parameter of any row)
        for key in {row.param.key for row in _ACTIVATION_ROWS if row.param is not None}:
            if key in spec:
                param = spec.pop(key)
        if spec:
            raise ValueError(f"unknown activation option(s) {sorted(map(str, spec))}")
    elif isinstance(spec, (tuple, list)) and len(spec) == 2:
        name, param = spec
    else:
        name = spec
    if not isinstance(name, str):
        raise TypeError(f"activation must be a name (str), got {type(name).__name__}")
    key = _ALIASES.get(name.lower(), name.lower())
    if key not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; valid names: {', '.join(ACTIVATION_NAMES)}")
    row = ACTIVATIONS[key]
    if row.param is None:
        if param is not None:
            raise ValueError(f"activation {key!r} takes no parameter, got {param!r}")
        return Activation(row)
    p = row.param.default if param is None else param
    try:
        p = float(p)
    except (TypeError, ValueError):
        raise TypeError(f"{key} {row.param.word} must be a number, got {param!r}") from None
    if not math.isfinite(p) or p < 0:
        raise ValueError(f"{key} {row.param.word} must be finite and >= 0, got {param!r}")
    return Activation(row, p)


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
    if key not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {spec!r}; valid names: {', '.join(OPTIMIZER_NAMES)}")
    row = OPTIMIZERS[key]
    params = dict(row.defaults)
    params.update(extra)
    for k, val in overrides.items():
        if k not in row.defaults:
            raise ValueError(f"optimizer {key!r} has no hyperparameter {k!r}; it takes "
                             f"{', '.join(row.defaults) or 'none'}")
        if k not in row.bounds:           # a flag (momentum's nesterov)
            if not isinstance(val, bool):
                raise TypeError(f"{k} must be True or False, got {val!r}")
            params[k] = val
            continue
        if isinstance(val, bool) or not isinstance(val, (int, float)):
            raise TypeError(f"{k} must be a number, got {val!r}")
        try:
            val = float(val)
        except OverflowError:
            raise ValueError(f"{k} must be finite, got an integer too large for a float") \
                from None
        lo, lo_inc, hi, hi_inc = row.bounds[k]
        ok = val == val and (val > lo or (lo_inc and val == lo)) and \
            (hi is None or val < hi or (hi_inc and val == hi)) and val != float("inf")
        if not ok:
            rng = f"{'[' if lo_inc else '('}{lo}, {hi if hi is not None else 'inf'}" \
                  f"{']' if hi_inc else ')'}"
            raise ValueError(f"{k} must be in {rng}, got {val}")
        params[k] = val
    return Optimizer(key, code=row.code, params=params)
