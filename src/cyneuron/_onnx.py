"""ONNX export (``cn.to_onnx``) and the skl2onnx converter for the estimators.

Importing this module registers cyneuron's MLPClassifier / MLPRegressor with
skl2onnx (when skl2onnx is installed), so that ``skl2onnx.to_onnx`` converts
pipelines that contain them; :func:`register_skl2onnx` does it explicitly.

The graph is the network, layer by layer: ``MatMul`` then ``Add`` (weights
as initializers of the graph's dtype), then the activation (sigmoid spelled
out as ``1 / (1 + Exp(-z))``, ``Tanh``, ``Relu``, ``Softmax`` on axis 1, nothing for identity, and leaky
ReLU as ``PRelu`` with a one-element slope initializer of the graph's dtype:
``LeakyRelu``'s ``alpha`` attribute is a float32 and would cost ~6e6 ulp in
a float64 graph). The batch dimension is dynamic (``"N"``).

onnxruntime cannot give cyneuron's bits: its MatMul sums in the order of its
BLAS kernels, and its Sigmoid/Tanh/Exp are not NumPy's. The differences are
bounded (docs/onnx.md gives the measured bound and the script that measures
it); labels are the same.
"""
from __future__ import annotations

import os

import numpy as np

from . import _files
from .network import Network

#: The lowest opset whose operators hold every graph; an activation's nodes
#: may need more (its registry row's ``onnx_opset``: PRelu in a float64 graph
#: needs 16, onnxruntime implements float64 PRelu from PRelu-16 on).
BASE_OPSET = 9

_EXTRA = "pip install 'cyneuron[onnx]'"


def _onnx():
    try:
        import onnx
    except ImportError as exc:
        raise ImportError(f"ONNX export needs the onnx package: {_EXTRA}") from exc
    return onnx


def _model_parts(model):
    """(network, kind, labels, multilabel) of a Network or fitted estimator."""
    if isinstance(model, Network):
        return model, "network", None, False
    name = type(model).__name__
    if type(model).__module__ == "cyneuron.estimators" and name in ("MLPClassifier",
                                                                    "MLPRegressor"):
        net = model.network_            # NotFittedError before fit
        if name == "MLPRegressor":
            return net, "regressor", None, False
        labels, multilabel = model.label_encoding()
        return net, "classifier", np.asarray(labels), bool(multilabel)
    hint = ("; a scikit-learn pipeline converts with skl2onnx: cn.register_skl2onnx(), then "
            "skl2onnx.to_onnx(pipe, X[:1])" if name == "Pipeline"
            and type(model).__module__.startswith("sklearn.") else "")
    raise TypeError(f"model must be a cyneuron Network, MLPClassifier or MLPRegressor, got "
                    f"{name}{hint}")


def _graph_dtype(net, dtype):
    if dtype is None:
        return net.dtype
    if dtype not in ("float64", "float32", np.float64, np.float32) and \
            not (isinstance(dtype, np.dtype) and dtype.name in ("float64", "float32")):
        raise ValueError(f"dtype must be 'float64' or 'float32' (or None: the model's), "
                         f"got {dtype!r}")
    return np.dtype(dtype)


def min_opset(net, dtype) -> int:
    """The lowest opset that holds the graph of `net` in `dtype` (the registry
    rows' ``onnx_opset``: a float64 PRelu needs 16)."""
    f64 = np.dtype(dtype) == np.float64
    return max([BASE_OPSET] + [a.row.onnx_opset[int(f64)] for a in net.activations])


class _Emitter:
    """Collects nodes and initializers for one graph (the skl2onnx converter
    has its own, see _SklEmitter: the layer code is shared)."""

    def __init__(self, onnx):
        self.onnx = onnx
        self.nodes, self.inits, self._n = [], [], 0

    def name(self, base):
        self._n += 1
        return f"{base}_{self._n}"

    def init(self, base, array):
        name = self.name(base)
        self.inits.append(self.onnx.numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(self, op, inputs, base, **attrs):
        out = self.name(base)
        self.nodes.append(self.onnx.helper.make_node(op, inputs, [out], name=self.name(op),
                                                     **attrs))
        return out


def _emit_network(e, net, dtype, x):
    """The network's layers from input tensor `x`; returns the output's name."""
    for l, act in enumerate(net.activations):
        if act.row.onnx is None:        # the registry grew: refuse, never guess
            raise ValueError(f"activation {act.name!r} of layer {l + 1} has no ONNX export: "
                             f"its registry row has no node builder for to_onnx")
    h = x
    for l, ((W, b), act) in enumerate(zip(net.state.layers, net.activations)):
        h = e.node("MatMul", [h, e.init(f"W{l}", W.astype(dtype))], f"matmul{l}")
        h = e.node("Add", [h, e.init(f"b{l}", b.astype(dtype))], f"z{l}")
        h = act.row.onnx(e, h, l, dtype, act.param)
    return h


def _emit_classifier(e, net, dtype, x, labels, multilabel):
    """(label, probabilities) tensor names, as predict and predict_proba give them."""
    out = _emit_network(e, net, dtype, x)
    if multilabel:
        half = e.init("half", np.array([0.5], dtype=dtype))
        above = e.node("Greater", [out, half], "above")
        return e.node("Cast", [above], "indicator", to=e.onnx.TensorProto.INT64), out
    if net.n_outputs == 1:
        one = e.init("one", np.array([1.0], dtype=dtype))
        proba = e.node("Concat", [e.node("Sub", [one, out], "p0"), out], "probabilities",
                       axis=1)
        half = e.init("half", np.array([0.5], dtype=dtype))
        above = e.node("Greater", [out, half], "above")
        idx = e.node("Cast", [above], "index2d", to=e.onnx.TensorProto.INT64)
        idx = e.node("Reshape", [idx, e.init("flat", np.array([-1], dtype=np.int64))],
                     "index")
    else:
        proba = out
        idx = e.node("ArgMax", [out], "index", axis=1, keepdims=0)
    table = labels.astype(object) if labels.dtype.kind == "U" else labels
    return e.node("Gather", [e.init("classes", table), idx], "label", axis=0), proba


def _tensor_type(onnx, dtype):
    if dtype.kind == "U":
        return onnx.TensorProto.STRING
    return onnx.helper.np_dtype_to_tensor_dtype(dtype)


def to_onnx(model, path: str | os.PathLike | None = None, dtype=None, opset: int | None = None):
    """Export a Network, MLPClassifier or MLPRegressor as an ONNX model.

    Parameters
    ----------
    model : Network, MLPClassifier or MLPRegressor (fitted)
        The model to export.
    path : str or os.PathLike, optional
        Where to write the model as well.
    dtype : {"float64", "float32"}, optional
        The graph's dtype (input, weights, outputs); the model's by default.
    opset : int, optional
        The ONNX opset; by default the lowest that holds the graph (9, or 16
        for a float64 graph with leaky ReLU).

    Returns
    -------
    onnx.ModelProto
        Input ``X`` (N, n_features). A Network's output is ``output``
        (N, n_outputs); a classifier's are ``label`` (N,) with its own labels
        (strings included; multilabel: an (N, n_labels) int64 indicator) and
        ``probabilities`` (N, n_classes), a plain tensor; a regressor's is
        ``predictions`` (N, n_targets).

    Raises
    ------
    ImportError
        onnx is not installed (``pip install 'cyneuron[onnx]'``).
    TypeError, ValueError
        Another kind of model, an unknown dtype, or an opset below the
        lowest that holds the graph or above what onnx knows; or `path` is
        empty or names a folder.
    OSError
        Any I/O error writing `path`, naming it (a missing folder: before any
        work). The file is written atomically (``cyneuron._files``): an old
        file at `path` stays as it was unless the new one is complete.
    """
    if path is not None:
        _files.check_target(path)
    onnx = _onnx()
    net, kind, labels, multilabel = _model_parts(model)
    dtype = _graph_dtype(net, dtype)
    low, high = min_opset(net, dtype), onnx.defs.onnx_opset_version()
    if opset is None:
        opset = low
    if isinstance(opset, bool) or not isinstance(opset, (int, np.integer)) \
            or not low <= opset <= high:
        raise ValueError(f"opset must be an integer in [{low}, {high}] for this model, "
                         f"got {opset!r}")
    if labels is not None and labels.dtype.kind not in "biufU":
        raise ValueError(f"classes of dtype {labels.dtype} cannot be exported (numbers, "
                         f"booleans and strings can)")
    e = _Emitter(onnx)
    make = onnx.helper.make_tensor_value_info
    elem = onnx.helper.np_dtype_to_tensor_dtype(dtype)
    inputs = [make("X", elem, ["N", net.n_inputs])]
    if kind == "classifier":
        label, proba = net.guard.read(_emit_classifier, e, net, dtype, "X", labels,
                                       multilabel)
        outputs = [("label", label, _tensor_type(onnx, labels.dtype) if not multilabel
                    else onnx.TensorProto.INT64,
                    ["N", net.n_outputs] if multilabel else ["N"]),
                   ("probabilities", proba, elem,
                    ["N", max(2, net.n_outputs) if not multilabel else net.n_outputs])]
    else:
        out = net.guard.read(_emit_network, e, net, dtype, "X")
        outputs = [("output" if kind == "network" else "predictions", out, elem,
                    ["N", net.n_outputs])]
    for public, internal, _, _ in outputs:
        e.nodes.append(onnx.helper.make_node("Identity", [internal], [public],
                                             name=e.name("Identity")))
    graph = onnx.helper.make_graph(e.nodes, "cyneuron", inputs,
                                   [make(p, t, s) for p, _, t, s in outputs], e.inits)
    ops = [onnx.helper.make_opsetid("", int(opset))]
    proto = onnx.helper.make_model(graph, opset_imports=ops, producer_name="cyneuron",
                                   ir_version=onnx.helper.find_min_ir_version_for(ops))
    meta = proto.metadata_props.add()
    meta.key, meta.value = "cyneuron_digest", (model.digest())
    onnx.checker.check_model(proto, full_check=True)
    if path is not None:
        _files.write_bytes(path, proto.SerializeToString())
    return proto


# --- skl2onnx ---------------------------------------------------------------------------------

class _SklEmitter:
    """The _Emitter interface over skl2onnx's scope and container."""

    def __init__(self, onnx, scope, container):
        self.onnx, self.scope, self.container = onnx, scope, container

    def name(self, base):
        return self.scope.get_unique_variable_name(base)

    def init(self, base, array):
        array = np.asarray(array)
        name = self.name(base)
        if array.dtype == object:
            self.container.add_initializer(name, self.onnx.TensorProto.STRING,
                                           list(array.shape),
                                           [str(s).encode("utf-8") for s in array])
        else:
            self.container.add_initializer(
                name, self.onnx.helper.np_dtype_to_tensor_dtype(array.dtype),
                list(array.shape), array.ravel().tolist())
        return name

    def node(self, op, inputs, base, **attrs):
        out = self.name(base)
        self.container.add_node(op, inputs, [out], name=self.scope.get_unique_operator_name(op),
                                **attrs)
        return out


def _skl_dtype(operator):
    from skl2onnx.common.data_types import DoubleTensorType
    return np.dtype(np.float64 if isinstance(operator.inputs[0].type, DoubleTensorType)
                    else np.float32)


def _skl_shape_calculator(operator):
    from skl2onnx.common.data_types import (
        DoubleTensorType,
        FloatTensorType,
        Int64TensorType,
        StringTensorType,
    )
    model = operator.raw_operator
    n = operator.inputs[0].get_first_dimension()
    real = DoubleTensorType if _skl_dtype(operator) == np.float64 else FloatTensorType
    if type(model).__name__ == "MLPRegressor":
        operator.outputs[0].set_type(real([n, model.network_.n_outputs]))
        return
    labels, multilabel = model.label_encoding()
    if multilabel:
        raise ValueError("skl2onnx conversion of a multilabel cyneuron MLPClassifier is not "
                         "supported; use cyneuron.to_onnx")
    kind = np.asarray(labels).dtype.kind
    if kind not in "iuU":
        raise ValueError(f"skl2onnx converts classifiers with integer or string labels; "
                         f"these have dtype {np.asarray(labels).dtype}")
    label = StringTensorType([n]) if kind == "U" else Int64TensorType([n])
    operator.outputs[0].set_type(label)
    operator.outputs[1].set_type(real([n, len(labels)]))


def _skl_converter(scope, operator, container):
    onnx = _onnx()
    model = operator.raw_operator
    net, kind, labels, multilabel = _model_parts(model)
    dtype = _skl_dtype(operator)
    if container.target_opset is not None and container.target_opset < min_opset(net, dtype):
        raise RuntimeError(f"this cyneuron model needs target_opset >= "
                           f"{min_opset(net, dtype)}")
    e = _SklEmitter(onnx, scope, container)
    x = operator.inputs[0].full_name
    if kind == "regressor":
        out = net.guard.read(_emit_network, e, net, dtype, x)
        container.add_node("Identity", [out], [operator.outputs[0].full_name],
                           name=scope.get_unique_operator_name("Identity"))
        return
    if labels.dtype.kind in "iu":
        labels = labels.astype(np.int64)
    label, proba = net.guard.read(_emit_classifier, e, net, dtype, x, labels, multilabel)
    for internal, var in ((label, operator.outputs[0]), (proba, operator.outputs[1])):
        container.add_node("Identity", [internal], [var.full_name],
                           name=scope.get_unique_operator_name("Identity"))


def _skl_parser(scope, model, inputs, custom_parsers=None):
    """A classifier's outputs, label and probabilities, as a plain tensor (no
    ZipMap: skl2onnx's ZipMap takes float32 only, so a float64 pipeline could
    not carry it, and cn.to_onnx gives the same two outputs)."""
    from skl2onnx import get_model_alias
    from skl2onnx.common.data_types import Int64TensorType
    operator = scope.declare_local_operator(get_model_alias(type(model)), model)
    operator.inputs = inputs
    operator.outputs.append(scope.declare_local_variable("label", Int64TensorType()))
    operator.outputs.append(scope.declare_local_variable("probabilities",
                                                         inputs[0].type.__class__()))
    return operator.outputs


_REGISTERED = False


def register_skl2onnx() -> None:
    """Register cyneuron's estimators with skl2onnx.

    Importing this module does it; calling it again does nothing.

    Afterwards ``skl2onnx.to_onnx(pipeline, X[:1])`` converts pipelines that
    contain an MLPClassifier or MLPRegressor. A classifier's outputs are
    ``label`` and ``probabilities``, a plain tensor of the pipeline's dtype
    (no ZipMap, as from :func:`to_onnx`).

    Raises
    ------
    ImportError
        skl2onnx is not installed (``pip install 'cyneuron[onnx]'``).
    """
    global _REGISTERED
    if _REGISTERED:
        return
    try:
        from skl2onnx import update_registered_converter
    except ImportError as exc:
        raise ImportError(f"the skl2onnx converter needs skl2onnx: {_EXTRA}") from exc
    # the estimators need scikit-learn, an optional extra (skl2onnx brings it)
    from .estimators import MLPClassifier, MLPRegressor
    update_registered_converter(MLPClassifier, "CyneuronMLPClassifier",
                                _skl_shape_calculator, _skl_converter, parser=_skl_parser)
    update_registered_converter(MLPRegressor, "CyneuronMLPRegressor",
                                _skl_shape_calculator, _skl_converter)
    _REGISTERED = True


try:
    register_skl2onnx()
except ImportError:       # onnx without skl2onnx: cn.to_onnx still works
    pass
