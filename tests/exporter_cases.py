"""Networks that put every activation of the registry through the exporters,
and canonical texts of what the exporters write, for the golden digests of
tests/test_golden_export_c.py and tests/optional/{onnx,torch}/test_golden_*.py.

The digests were taken from the exporters as they were before their
activation ladders moved into the registry's rows: a change of
any exported byte fails them. The canonical texts leave out what belongs to
the installed library rather than to cyneuron (the ONNX IR version, torch's
reprs), so that a new onnx or torch release does not move them.
"""
import hashlib

import numpy as np

import cyneuron as cn
from cyneuron import _registry as registry
from cyneuron import reference as ref

DTYPES = ("float64", "float32")


def _specs():
    """One spec per activation, leaky_relu with its default and two slopes."""
    out = []
    for name in registry.ACTIVATION_NAMES:
        if registry.activation(name).output_only:
            continue
        out.append(name)
    out += [("leaky_relu", 0.1), ("leaky_relu", 0.0)]
    return out


def cases():
    """(key, layer sizes, activation specs): each hidden activation in a hidden
    layer and as the output; softmax as the output after each."""
    out = []
    for spec in _specs():
        key = spec if isinstance(spec, str) else f"{spec[0]}_{spec[1]}"
        out.append((key, [3, 5, 4], [spec, spec]))
        out.append((f"{key}+softmax", [3, 5, 4], [spec, "softmax"]))
    return out


def network(sizes, acts, dtype, seed=7):
    """A network with wide weights (exp overflow, tanh saturation, tiny values)."""
    net = cn.Network(sizes, activation=acts, dtype=dtype, seed=seed)
    rng = np.random.default_rng(seed)
    net.set_weights([(rng.normal(0, 3, W.shape) * rng.choice([1e-3, 1, 10], W.shape),
                      rng.normal(0, 2, b.shape)) for W, b in net.get_weights()])
    return net


def inputs(n_in, dtype, seed=3):
    rng = np.random.default_rng(seed)
    X = np.concatenate([rng.normal(0, 3, (40, n_in)), np.zeros((1, n_in)),
                        np.full((1, n_in), 80.0), np.full((1, n_in), -80.0)])
    return X.astype(dtype)


def sha(data) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()[:16]


def onnx_canonical(proto) -> str:
    """The graph of an ONNX model as text: nodes (op, inputs, outputs, name,
    attributes), initializers (name, type, shape, bytes), inputs, outputs,
    opsets and metadata; not the IR version, which follows the onnx release."""
    import onnx
    from onnx import numpy_helper
    g = proto.graph
    lines = [f"opset {o.domain!r} {o.version}" for o in proto.opset_import]
    lines += [f"meta {p.key}={p.value}" for p in proto.metadata_props]
    for vi in list(g.input) + list(g.output):
        t = vi.type.tensor_type
        dims = [d.dim_param or d.dim_value for d in t.shape.dim]
        lines.append(f"io {vi.name} {t.elem_type} {dims}")
    for n in g.node:
        attrs = sorted((a.name, repr(onnx.helper.get_attribute_value(a))) for a in n.attribute)
        lines.append(f"node {n.op_type} {list(n.input)} -> {list(n.output)} {n.name} {attrs}")
    for t in g.initializer:
        arr = numpy_helper.to_array(t)
        lines.append(f"init {t.name} {t.data_type} {list(t.dims)} {sha(arr.tobytes())}")
    return "\n".join(lines)


def torch_canonical(seq) -> str:
    """A torch.nn.Sequential as text: each module's class, its public
    settings and its parameters' dtypes, shapes and bytes."""
    lines = []
    for m in seq:
        settings = sorted((k, repr(v)) for k, v in vars(m).items()
                          if not k.startswith("_") and k != "training")
        params = [(k, str(p.dtype), tuple(p.shape), sha(p.detach().numpy().tobytes()))
                  for k, p in m.named_parameters()]
        lines.append(f"{type(m).__name__} {settings} {params}")
    return "\n".join(lines)


def portable_forward(model, X):
    """What cn.export_c's header computes: the reference's forward pass under
    ``reference.numerics("portable")`` (a Network, or an estimator's network_)."""
    net = getattr(model, "network_", model)
    x = np.asarray(X, dtype=net.dtype)
    with np.errstate(all="ignore"), ref.numerics("portable"):
        return ref.feedforward(net.get_weights(), net.activations, x)
