"""cyneuron._registry: every row carries what each exporter and the model files need.

A new activation or optimizer cannot be missing from an exporter without a
test here failing; an exporter refuses, naming the activation and itself, a
row that lacks its field. The tests walk the rows; they do not list names.
The activation rows whose derivative goes through z (softplus, silu) are
held to the reference on edge inputs and to the standard library's values.

Oracles: the rows themselves (every field present), exact bits against the
NumPy reference (tests marked bitwise), math's exp/log1p, scikit-learn's
names, a compiled C header. The golden digests of what the exporters write
are tests/test_golden_export_c.py and tests/optional/{onnx,torch}/test_golden_*.py.
"""
import dataclasses
import math
import pickle
import subprocess
import warnings

import numpy as np
import pytest
from c_compiler import CC, env, needs_cc
from exporter_cases import portable_forward
from helpers import bits

import cyneuron as cn
from cyneuron import _registry as registry
from cyneuron import reference as ref

ROWS = list(registry.ACTIVATIONS.values())
IDS = [row.name for row in ROWS]


def spec_of(row):
    """A spec with a parameter other than the default, where the row takes one."""
    return row.name if row.param is None else (row.name, 0.25)


def network_with(act, dtype="float64"):
    """A small network that puts `act` (a spec or an Activation) in every layer it may hold."""
    row = registry.activation(act).row
    acts = ["tanh", act] if row.output_only else [act, act]
    net = cn.Network([3, 4, 3], activation=acts, dtype=dtype, seed=0)
    rng = np.random.default_rng(0)
    net.set_weights([(rng.normal(0, 2, W.shape), rng.normal(0, 1, b.shape))
                     for W, b in net.get_weights()])
    return net


def without(row, field):
    """An Activation of `row` with the exporter field `field` taken out."""
    return registry.Activation(dataclasses.replace(row, **{field: None}))


class RecordingEmitter:
    """The emitter interface of cyneuron._onnx, recording nodes and initializers."""

    def __init__(self):
        self.known, self.nodes, self.dtypes, self._n = {"z"}, [], set(), 0

    def _name(self, base):
        self._n += 1
        return f"{base}_{self._n}"

    def init(self, base, array):
        array = np.asarray(array)
        name = self._name(base)
        self.known.add(name)
        self.dtypes.add(array.dtype)
        return name

    def node(self, op, inputs, base, **attrs):
        assert all(i in self.known for i in inputs), (op, inputs)
        out = self._name(base)
        self.known.add(out)
        self.nodes.append(op)
        return out


# --- the rows --------------------------------------------------------------------------------

def test_names_codes_and_aliases():
    assert registry.ACTIVATION_NAMES == tuple(registry.ACTIVATIONS)
    assert len({row.code for row in ROWS}) == len(ROWS)
    assert all(registry.ACTIVATIONS[name].name == name for name in registry.ACTIVATION_NAMES)
    for alias, name in registry._ALIASES.items():
        assert registry.activation(alias).row is registry.ACTIVATIONS[name]


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_every_row_has_every_exporters_field(row):
    """A new activation starts here: each field an exporter reads is filled in."""
    missing = [f for f in ("c99", "onnx", "torch") if getattr(row, f) is None]
    assert not missing, f"activation {row.name!r} lacks {missing}"
    assert callable(row.forward) and callable(row.backward)
    assert callable(row.c99) and callable(row.onnx)
    assert row.torch.module is None or isinstance(row.torch.module, str)
    assert len(row.onnx_opset) == 2 and all(isinstance(v, int) for v in row.onnx_opset)
    assert row.init_factor > 0
    if row.param is not None:
        assert np.isfinite(row.param.default) and row.param.default >= 0


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_activation_reads_its_row(row):
    act = registry.activation(spec_of(row))
    assert act.row is row and act.name == row.name and act.code == row.code
    assert act.param == (0.0 if row.param is None else 0.25)
    # the spec names it again, a pickle carries it, and the default parameter is the row's
    assert registry.activation(act.spec) == act
    assert pickle.loads(pickle.dumps(act)) == act
    if row.param is not None:
        assert registry.activation(row.name).param == row.param.default
        assert act.spec == {"name": row.name, row.param.key: 0.25}
        with pytest.raises(ValueError, match=f"{row.name} {row.param.word} must be finite"):
            registry.activation((row.name, -1.0))
    else:
        assert act.spec == row.name
        with pytest.raises(ValueError, match="takes no parameter"):
            registry.activation((row.name, 0.5))
    z = np.linspace(-3, 3, 12).reshape(4, 3)
    a = act.forward(z)
    assert a.shape == z.shape and a.dtype == z.dtype
    g = act.backward(z if row.from_input else a, np.ones_like(z))
    assert g.shape == z.shape and np.isfinite(g).all()


# --- export_c ----------------------------------------------------------------------------------

@needs_cc
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_export_c_writes_every_row_and_the_header_compiles(tmp_path, row, dtype):
    net = network_with(spec_of(row), dtype)
    cn.export_c(net, tmp_path / "m.h", name="m")
    assert portable_forward(net, np.ones((2, 3))).shape == (2, 3)
    (tmp_path / "d.c").write_text('#include "m.h"\nint main(void) { '
                                  f'{"float" if dtype == "float32" else "double"} x[3] = {{0}}, '
                                  'y[3]; m_predict(x, y); return (int)y[0]; }\n')
    res = subprocess.run([*CC, "-std=c99", "-fsyntax-only", "-Wall", "-Wextra", "-I",
                          str(tmp_path), str(tmp_path / "d.c")],
                         capture_output=True, text=True, env=env())
    assert res.returncode == 0 and res.stderr == "", res.stderr


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_export_c_refuses_a_row_without_c99(tmp_path, row):
    net = network_with(without(row, "c99"))
    with pytest.raises(ValueError, match=f"{row.name!r} cannot be exported to C.*export_c"):
        cn.export_c(net, tmp_path / "m.h")
    assert not (tmp_path / "m.h").exists()


# --- ONNX --------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_onnx_builder_wires_its_nodes(row, dtype):
    """Without onnx: the builder's nodes read only tensors that exist, and its
    initializers have the graph's dtype (tests/optional/onnx runs them)."""
    e = RecordingEmitter()
    act = registry.activation(spec_of(row))
    out = row.onnx(e, "z", 0, np.dtype(dtype), act.param)
    assert out in e.known
    assert e.dtypes <= {np.dtype(dtype)}


# (to_onnx and the torch round trip of every row: tests/optional/onnx/test_registry_onnx.py
# and tests/optional/torch/test_registry_torch.py, collected where those extras are)


# --- the estimators (scikit-learn's names and initialisation) ---------------------------------

def test_estimators_spell_every_hidden_row():
    from sklearn.exceptions import ConvergenceWarning
    hidden = [row for row in ROWS if not row.output_only]
    X, y = np.arange(8.0).reshape(4, 2), np.arange(4.0)
    # scikit-learn's name where it has one, else the row's; a wrong name lists them all
    with pytest.raises(ValueError, match="activation") as refused:
        cn.MLPRegressor(hidden_layer_sizes=(3,), activation="no such activation").fit(X, y)
    for row in hidden:
        name = row.sklearn_name or row.name
        assert registry.activation(name).row is row
        assert repr(name) in str(refused.value)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            cn.MLPRegressor(hidden_layer_sizes=(3,), activation=name, max_iter=1).fit(X, y)


@pytest.mark.parametrize("multilabel", [False, True])
@pytest.mark.parametrize("width", [1, 2, 3])
def test_estimator_outputs_have_scikit_learn_names(multilabel, width):
    clf = cn.MLPClassifier()
    clf._multilabel = multilabel
    for est in (clf, cn.MLPRegressor()):
        out, _ = est._loss_for_width(width)
        assert registry.activation(out).row.sklearn_name is not None


def test_sklearn_names_are_scikit_learns():
    from sklearn.neural_network._base import ACTIVATIONS
    named = [row for row in ROWS if row.sklearn_name is not None]
    assert named and all(row.sklearn_name in ACTIVATIONS for row in named)
    # scikit-learn's Glorot factor: 2 for logistic units, 6 otherwise
    assert all(row.init_factor == (2.0 if row.sklearn_name == "logistic" else 6.0)
               for row in ROWS)


# --- optimizers --------------------------------------------------------------------------------

@pytest.mark.parametrize("row", list(registry.OPTIMIZERS.values()), ids=list(registry.OPTIMIZERS))
def test_optimizer_rows(row):
    opt = registry.optimizer(row.name)
    assert opt.row is row and opt.code == row.code and opt.params == row.defaults
    assert set(row.bounds) <= set(row.defaults)
    assert all(isinstance(row.defaults[k], bool) for k in set(row.defaults) - set(row.bounds))
    assert set(row.state) <= {"m", "v"} and set(row.sklearn_state) <= set(row.state)
    assert not row.squares or "v" in row.state
    assert not row.counts_steps or {"beta_1", "beta_2"} <= set(row.defaults)
    assert registry.DEFAULT_LEARNING_RATES[row.name] == row.learning_rate > 0
    assert row.name in registry.OPTIMIZER_NAMES


# --- softplus and silu: derivatives through z, edge inputs, tiny nets ---------------------
# Their derivative is written through the layer's input z (silu's output does not
# determine z). Bits against the reference on edge inputs and on tiny nets (which take
# the fused path for inference but not for training), values against the standard library.

EDGES = [0.0, 1e-300, -1e-300, 5e-324, -745.0, -750.0, 750.0, 710.0, -40.0, 40.0, -1e-8,
         1e-8, 88.7, -88.7, -103.9, 36.0, -36.0, 1.0, -1.0, 3.5, -2.25]


def _unit(name, dtype):
    net = cn.Network([1, 1], activation=name, loss="mse", dtype=dtype)
    net.set_weights([(np.ones((1, 1)), np.zeros(1))])
    return net


@pytest.mark.bitwise
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", ["softplus", "silu"])
def test_edges_match_the_reference(name, dtype):
    z = np.array(EDGES, dtype=np.float64)
    if dtype == "float32":
        z = z[np.abs(z) < 3e38]
    z = z.astype(dtype).reshape(-1, 1)
    fast, slow = _unit(name, dtype), _unit(name, dtype)
    slow = cn.Network([1, 1], activation=name, loss="mse", dtype=dtype, backend="numpy")
    slow.set_weights([(np.ones((1, 1)), np.zeros(1))])
    with np.errstate(all="ignore"):
        assert bits(fast.feedforward(z)) == bits(slow.feedforward(z))
        y = np.zeros_like(z)
        assert bits(fast.gradients(z, y)) == bits(slow.gradients(z, y))
        expect = getattr(ref, name)(z)
    assert np.all(np.isfinite(expect))        # stable: no overflow at +-750


@pytest.mark.bitwise
def test_values_against_the_standard_library():
    z = np.array([v for v in EDGES if abs(v) < 700]).reshape(-1, 1)
    sp = _unit("softplus", "float64").feedforward(z).ravel()
    si = _unit("silu", "float64").feedforward(z).ravel()
    for x, a, b in zip(z.ravel(), sp, si):
        exact_sp = max(x, 0.0) + math.log1p(math.exp(-abs(x)))
        exact_si = x / (1.0 + math.exp(-x))
        assert a == pytest.approx(exact_sp, rel=4e-16, abs=0)
        assert b == pytest.approx(exact_si, rel=4e-16, abs=0)
    assert sp[0] == math.log(2.0)             # softplus(0) = ln 2
    assert _unit("softplus", "float64").feedforward([-40.0])[0] == pytest.approx(
        math.exp(-40.0), rel=1e-15)          # tiny values kept, not rounded to 0


@pytest.mark.bitwise
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("batch_size", [None, 1, 2])
def test_tiny_nets_train_like_the_reference(dtype, batch_size):
    """A 2-3-1 net is small enough for the fused tiny path, which does not know
    derivatives through z: training must take the general path and agree."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((5, 2)).astype(dtype)
    Y = rng.standard_normal((5, 1)).astype(dtype)
    kw = dict(activation=["silu", "softplus"], loss="mse", seed=4, dtype=dtype)
    fast, slow = cn.Network([2, 3, 1], **kw), cn.Network([2, 3, 1], backend="numpy", **kw)
    hf = fast.fit(X, Y, epochs=40, learning_rate=0.1, batch_size=batch_size)
    hs = slow.fit(X, Y, epochs=40, learning_rate=0.1, batch_size=batch_size)
    assert hf["loss"] == hs["loss"]
    assert bits(fast.get_weights()) == bits(slow.get_weights())
    assert hf["loss"][-1] < hf["loss"][0]


@pytest.mark.bitwise
def test_dropout_on_a_silu_layer_matches_the_reference():
    rng = np.random.default_rng(5)
    X, Y = rng.standard_normal((30, 4)), rng.standard_normal((30, 2))
    kw = dict(activation=["silu", "softplus", "identity"], loss="mse", seed=2, dropout=0.25)
    fast, slow = cn.Network([4, 8, 6, 2], **kw), cn.Network([4, 8, 6, 2], backend="numpy", **kw)
    assert fast.fit(X, Y, epochs=6, batch_size=7, optimizer="adam")["loss"] == \
        slow.fit(X, Y, epochs=6, batch_size=7, optimizer="adam")["loss"]
    assert bits(fast.get_weights()) == bits(slow.get_weights())


@pytest.mark.bitwise
def test_swish_is_silu():
    assert cn.Network([2, 1], activation="swish").activations[0].name == "silu"
