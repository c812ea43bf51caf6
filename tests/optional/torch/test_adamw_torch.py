"""cyneuron's AdamW against torch.optim.AdamW (biases in a group without weight decay).

The two differ only where Keras and PyTorch place Adam's epsilon (cyneuron
adds it to sqrt(v) before the bias correction, PyTorch after): with a tiny
epsilon the weights and moments agree to rounding.
"""
import numpy as np
import pytest
import torch
from torch import nn

import cyneuron as cn
from cyneuron import reference as ref


def _train_both(dtype, weight_decay, steps_per_epoch=4, epochs=5, lr=0.01, eps=1e-12):
    rng = np.random.default_rng(4)
    n = 5 * steps_per_epoch
    X = rng.standard_normal((n, 4)).astype(dtype)
    y = rng.standard_normal((n, 2)).astype(dtype)
    net = cn.Network([4, 7, 2], activation=["tanh", "identity"], loss="mse", dtype=dtype,
                     seed=4)
    seq = net.to_torch()
    linears = [m for m in seq if isinstance(m, nn.Linear)]
    opt = torch.optim.AdamW(
        [{"params": [m.weight for m in linears], "weight_decay": weight_decay},
         {"params": [m.bias for m in linears], "weight_decay": 0.0}],
        lr=lr, betas=(0.9, 0.999), eps=eps)
    loss = nn.MSELoss()
    for _ in range(epochs):
        for start in range(0, n, 5):
            opt.zero_grad()
            loss(seq(torch.from_numpy(X[start:start + 5])),
                 torch.from_numpy(y[start:start + 5])).backward()
            opt.step()
    net.fit(X, y, epochs=epochs, learning_rate=lr, batch_size=5, shuffle=False,
            optimizer=cn.optimizers.AdamW(weight_decay=weight_decay, epsilon=eps))
    return net, linears, opt


@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-9), (np.float32, 2e-5)])
@pytest.mark.parametrize("weight_decay", [0.01, 0.5])
def test_adamw_matches_torch(dtype, tol, weight_decay):
    net, linears, opt = _train_both(dtype, weight_decay)
    weights = net.get_weights()
    m, v = net.state.layout.state_halves(net.state.opt_state)
    ms, vs = ref.unflatten(m, weights), ref.unflatten(v, weights)
    for (W, b), (mW, mb), (vW, vb), lin in zip(weights, ms, vs, linears):
        for ours, p in ((W.T, lin.weight), (b, lin.bias)):
            np.testing.assert_allclose(ours, p.detach().numpy(), rtol=0, atol=tol)
        for ours, p in ((mW.T, lin.weight), (mb, lin.bias)):
            np.testing.assert_allclose(ours, opt.state[p]["exp_avg"].numpy(), rtol=0,
                                       atol=tol)
        for ours, p in ((vW.T, lin.weight), (vb, lin.bias)):
            np.testing.assert_allclose(ours, opt.state[p]["exp_avg_sq"].numpy(), rtol=0,
                                       atol=tol)
        assert net.state.opt_scalars[0] == float(opt.state[lin.weight]["step"])


def test_weight_decay_moves_the_weights_as_torch_does():
    """The decayed run differs from the undecayed one as much in both libraries."""
    ours, theirs = [], []
    for wd in (0.0, 0.5):
        net, linears, _ = _train_both(np.float64, wd)
        ours.append(net.get_weights()[0][0])
        theirs.append(linears[0].weight.detach().numpy().T)
    assert np.abs(ours[1] - ours[0]).max() > 1e-4
    np.testing.assert_allclose(ours[1] - ours[0], theirs[1] - theirs[0], rtol=0, atol=1e-9)
