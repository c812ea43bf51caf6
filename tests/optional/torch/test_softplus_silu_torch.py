"""PyTorch as the oracle for the gradients of softplus and silu networks."""
import numpy as np
import pytest
import torch

import cyneuron as cn


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
