"""cyneuron._registry with torch: the round trip of every row (tests/test_registry.py walks
the rows without the extra), and softplus and silu networks' gradients.

Oracle: PyTorch (its modules, and autograd for the gradients).
"""
import numpy as np
import pytest
import torch
from test_registry import IDS, ROWS, network_with, spec_of, without

import cyneuron as cn


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_torch_round_trip_of_every_row_and_refusal(row):
    if row.torch.module is not None:
        assert issubclass(getattr(torch.nn, row.torch.module), torch.nn.Module)
    net = network_with(spec_of(row))
    back = cn.from_torch(net.to_torch())
    assert [a.spec for a in back.activations] == [a.spec for a in net.activations]
    with pytest.raises(ValueError, match=f"{row.name!r} of layer \\d has no PyTorch.*to_torch"):
        network_with(without(row, "torch")).to_torch()


# --- softplus and silu against torch autograd ---------------------------------------------

@pytest.mark.parametrize("acts", [["silu", "identity"], ["softplus", "silu"]])
def test_gradients_match_torch_autograd(acts):
    rng = np.random.default_rng(11)
    X, Y = rng.standard_normal((16, 5)) * 2, rng.standard_normal((16, 3))
    net = cn.Network([5, 7, 3], activation=acts, loss="mse", seed=0)
    (W1, b1), (W2, b2) = net.get_weights()
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
         for k, v in dict(W1=W1, b1=b1, W2=W2, b2=b2).items()}
    f = {"silu": torch.nn.functional.silu, "softplus": torch.nn.functional.softplus,
         "identity": lambda z: z}
    h = f[acts[0]](torch.tensor(X) @ t["W1"] + t["b1"])
    out = f[acts[1]](h @ t["W2"] + t["b2"])
    loss = torch.mean((out - torch.tensor(Y)) ** 2)
    loss.backward()
    value, grads = net.loss_and_gradients(X, Y)
    assert value == pytest.approx(loss.item(), rel=1e-13)
    for (dW, db), (kw, kb) in zip(grads, [("W1", "b1"), ("W2", "b2")]):
        np.testing.assert_allclose(dW, t[kw].grad.numpy(), rtol=1e-11, atol=1e-14)
        np.testing.assert_allclose(db, t[kb].grad.numpy(), rtol=1e-11, atol=1e-14)


def test_silu_and_softplus_travel_to_and_from_torch():
    net = cn.Network([4, 6, 5, 2], activation=["silu", "softplus", "identity"], seed=3)
    seq = net.to_torch()
    assert [type(m).__name__ for m in seq] == ["Linear", "SiLU", "Linear", "Softplus", "Linear"]
    back = cn.from_torch(seq)
    assert [a.name for a in back.activations] == ["silu", "softplus", "identity"]
    X = np.random.default_rng(0).standard_normal((9, 4))
    assert back.feedforward(X).tobytes() == net.feedforward(X).tobytes()
    with torch.no_grad():
        np.testing.assert_allclose(seq(torch.from_numpy(X)).numpy(), net.feedforward(X),
                                   rtol=1e-13, atol=1e-15)
    with pytest.raises(ValueError, match="beta"):
        cn.from_torch(torch.nn.Sequential(torch.nn.Linear(2, 2, dtype=torch.float64),
                                          torch.nn.Softplus(beta=2)))
