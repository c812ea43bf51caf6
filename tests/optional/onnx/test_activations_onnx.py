"""onnxruntime as the oracle for the activations of tests/test_activations.py
(every row also runs in test_onnx.py's sweep): cyneuron's own formula in
nodes of the graph's dtype, close to cyneuron's outputs on wide inputs."""
import numpy as np
import onnx
import pytest
from onnx import numpy_helper
from onnx_ulp import session

import cyneuron as cn

SPECS = ["elu", ("elu", 0.3), "gelu"]


def _wide(n_in, dtype):
    rng = np.random.default_rng(1)
    X = np.concatenate([rng.normal(0, 4, (60, n_in)), np.full((1, n_in), 80.0),
                        np.full((1, n_in), -80.0), np.zeros((1, n_in)),
                        rng.normal(0, 1e-7, (4, n_in))])
    return X.astype(dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_runs_in_onnxruntime_close_to_cyneuron(spec, dtype):
    net = cn.Network([4, 6, 3], activation=[spec, spec], seed=2, dtype=dtype)
    proto = cn.to_onnx(net)
    onnx.checker.check_model(proto, full_check=True)
    # every initializer (weights, the activation's constants) has the graph's dtype
    for init in proto.graph.initializer:
        assert numpy_helper.to_array(init).dtype == np.dtype(dtype), init.name
    X = _wide(4, dtype)
    got = session(proto).run(None, {"X": X})[0]
    want = net.feedforward(X)
    assert np.isfinite(got).all()
    eps = np.finfo(dtype).eps
    np.testing.assert_allclose(got, want, rtol=64 * eps, atol=64 * eps * (1 + np.abs(want).max()))


def test_elu_nodes_carry_alpha_exactly():
    net = cn.Network([2, 3, 1], activation=[("elu", 0.1), "identity"], seed=0)
    proto = cn.to_onnx(net)
    ops = [n.op_type for n in proto.graph.node]
    assert "Elu" not in ops and {"Where", "Min", "Exp"} <= set(ops)
    consts = [numpy_helper.to_array(i) for i in proto.graph.initializer if i.dims == [1]]
    assert any(c[0] == 0.1 for c in consts)     # 0.1 as a float64, not a float32 attribute


def test_gelu_is_its_formula_in_nodes_from_opset_9():
    net = cn.Network([2, 3, 1], activation=["gelu", "identity"], seed=0, dtype="float32")
    proto = cn.to_onnx(net)
    ops = [n.op_type for n in proto.graph.node]
    assert "Gelu" not in ops and "Tanh" in ops
    assert proto.opset_import[0].version == 9
