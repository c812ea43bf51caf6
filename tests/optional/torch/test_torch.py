"""cyneuron._interop and _to_torch: cn.from_torch and Network.to_torch, with PyTorch as the oracle.
"""

import numpy as np
import pytest
import torch
from helpers import without_module
from torch import nn

import cyneuron as cn


def _close(a, b, dtype):
    eps = np.finfo(dtype).eps
    np.testing.assert_allclose(a, b, rtol=0, atol=64 * eps * (1 + np.abs(b).max()))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_from_torch_computes_what_torch_computes(dtype):
    torch.manual_seed(0)
    seq = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 7), nn.Tanh(),
                        nn.Linear(7, 6), nn.LeakyReLU(0.2), nn.Identity(),
                        nn.Linear(6, 4), nn.Sigmoid(), nn.Linear(4, 3, bias=False),
                        nn.Linear(3, 3), nn.Softmax(dim=1)).to(dtype)
    net = cn.from_torch(seq)
    npd = np.float64 if dtype == torch.float64 else np.float32
    assert net.layer_sizes == (5, 8, 7, 6, 4, 3, 3) and net.dtype == npd
    assert [a.name for a in net.activations] == ["relu", "tanh", "leaky_relu", "sigmoid",
                                                 "identity", "softmax"]
    assert net.loss.name == "categorical_crossentropy"
    X = np.random.default_rng(0).normal(size=(50, 5)).astype(npd)
    with torch.no_grad():
        want = seq(torch.from_numpy(X)).numpy()
    _close(net.feedforward(X), want, npd)
    # and back: the same weights, bit for bit, and the same function
    back = net.to_torch()
    for p, q in zip(cn.from_torch(back).get_weights(), net.get_weights()):
        assert p[0].tobytes() == q[0].tobytes() and p[1].tobytes() == q[1].tobytes()
    with torch.no_grad():
        again = back(torch.from_numpy(X)).numpy()
    assert again.dtype == npd
    _close(again, want, npd)


def test_to_torch_of_a_trained_network():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(80, 3))
    y = np.sin(X[:, :1])
    net = cn.Network([3, 6, 1], activation=["tanh", "identity"], seed=0)
    net.fit(X, y, epochs=20, learning_rate=0.05)
    seq = net.to_torch()
    assert isinstance(seq, nn.Sequential) and isinstance(seq[1], nn.Tanh)
    with torch.no_grad():
        got = seq(torch.from_numpy(X)).numpy()
    _close(got, net.feedforward(X), np.float64)


def test_unsupported_modules_are_named():
    with pytest.raises(ValueError, match="unsupported module 2: Dropout"):
        cn.from_torch(nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Dropout(0.1),
                                    nn.Linear(3, 1)))
    with pytest.raises(ValueError, match="unsupported module 1: Mish"):
        cn.from_torch(nn.Sequential(nn.Linear(2, 3), nn.Mish()))
    with pytest.raises(ValueError, match="second activation"):
        cn.from_torch(nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Tanh()))
    with pytest.raises(ValueError, match="before any Linear"):
        cn.from_torch(nn.Sequential(nn.ReLU(), nn.Linear(2, 3)))
    with pytest.raises(ValueError, match="takes 4 inputs"):
        cn.from_torch(nn.Sequential(nn.Linear(2, 3), nn.Linear(4, 1)))
    with pytest.raises(ValueError, match="Softmax\\(dim=0\\)"):
        cn.from_torch(nn.Sequential(nn.Linear(2, 3), nn.Softmax(dim=0)))
    with pytest.raises(ValueError, match="float64 or all float32"):
        cn.from_torch(nn.Sequential(nn.Linear(2, 3).double(), nn.Linear(3, 1)))
    with pytest.raises(ValueError, match="no Linear"):
        cn.from_torch(nn.Sequential())
    with pytest.raises(TypeError, match="torch.nn.Sequential"):
        cn.from_torch(nn.Linear(2, 3))


def test_without_torch_the_error_names_the_extra():
    code = ("import cyneuron as cn\n"
            "try:\n"
            "    cn.Network([2, 1]).to_torch()\n"
            "except ImportError as e:\n"
            "    print(e)\n")
    out = without_module("torch", code)
    assert "pip install 'cyneuron[torch]'" in out


def _refusal(fn, *args):
    with pytest.raises(ValueError) as info:
        fn(*args)
    return str(info.value)


def _npz_refusal(tmp_path, meta, arrays):
    """What cn.load says about an .npz file of this header and arrays (without the file name)."""
    from cyneuron import io
    path = tmp_path / "bad.npz"
    from cyneuron._digest import state_digest
    meta = {**meta, "state_digest": state_digest(meta, arrays)}     # as cn.save seals it
    np.savez(path, meta=io.encode_header(meta), **arrays)
    message = _refusal(cn.load, path)
    return message[len(f"{path} is not a valid cyneuron model file: "):]


def _weights(module):
    return b"".join(p.detach().numpy().tobytes() for p in module.parameters())


@pytest.mark.parametrize("where", [("weight", (1, 2)), ("bias", (0,))])
@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_from_torch_refuses_non_finite_weights_as_a_model_file(tmp_path, where, value):
    from cyneuron import io
    torch.manual_seed(0)
    seq = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    with torch.no_grad():
        getattr(seq[2], where[0])[where[1]] = value
    before = _weights(seq)
    message = _refusal(cn.from_torch, seq)
    assert _weights(seq) == before
    # the same network written as a model file by hand: cn.load says the same
    meta, arrays = io.network_to_arrays(cn.Network([3, 4, 2], activation=["tanh", "identity"]))
    meta.pop("digest")
    arrays = {k: np.array(a) for k, a in arrays.items()}
    arrays["W1"] = seq[2].weight.detach().numpy().T.copy()
    arrays["b1"] = seq[2].bias.detach().numpy().copy()
    key = "W1" if where[0] == "weight" else "b1"
    assert message == f"module: array {key!r} contains NaN or infinity"
    assert message == "module: " + _npz_refusal(tmp_path, meta, arrays)


def test_from_torch_has_the_architecture_limits_of_a_model_file(tmp_path, monkeypatch):
    from cyneuron import _schema, io
    monkeypatch.setattr(_schema, "MAX_WIDTH", 4)     # a width of 2**24 + 1 needs 128 MB
    seq = nn.Sequential(nn.Linear(2, 5), nn.ReLU(), nn.Linear(5, 1)).double()
    message = _refusal(cn.from_torch, seq)
    meta, arrays = io.network_to_arrays(cn.Network([2, 3, 1], activation=["relu", "identity"]))
    meta["layer_sizes"] = [2, 5, 1]
    assert message == "module: " + _npz_refusal(tmp_path, meta, {})
    assert "bad 'layer_sizes'" in message and "[1, 4]" in message


def test_from_torch_refuses_a_slope_no_model_file_could_hold():
    from cyneuron import io
    seq = nn.Sequential(nn.Linear(2, 2), nn.LeakyReLU(float("nan")), nn.Linear(2, 1))
    message = _refusal(cn.from_torch, seq)
    meta, arrays = io.network_to_arrays(cn.Network([2, 2, 1], activation=["relu", "identity"]))
    meta.pop("digest")
    meta["activations"][0] = ["leaky_relu", float("nan")]
    assert message == "module: " + _refusal(io.network_from_arrays, meta, arrays)
    assert "bad 'activations'[0]" in message
