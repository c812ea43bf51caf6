"""cn.from_torch and Network.to_torch, with PyTorch as the oracle."""
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
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
    with pytest.raises(ValueError, match="unsupported module 1: GELU"):
        cn.from_torch(nn.Sequential(nn.Linear(2, 3), nn.GELU()))
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
    code = ("import sys; sys.modules['torch'] = None\n"
            "import cyneuron as cn\n"
            "try:\n"
            "    cn.Network([2, 1]).to_torch()\n"
            "except ImportError as e:\n"
            "    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=dict(os.environ), check=True).stdout
    assert "pip install 'cyneuron[torch]'" in out
