"""PyTorch as the oracle for the activations of tests/test_activations.py:
gradients against autograd (allclose: torch orders its operations its own
way), and the to_torch / from_torch round trip."""
import numpy as np
import pytest
import torch

import cyneuron as cn

F = torch.nn.functional


def torch_fn(spec):
    """The torch function of a cyneuron activation spec."""
    name, param = (spec, None) if isinstance(spec, str) else spec
    if name == "elu":
        return lambda z: F.elu(z, alpha=1.0 if param is None else param)
    if name == "gelu":
        return lambda z: F.gelu(z, approximate="tanh")
    if name == "identity":
        return lambda z: z
    raise AssertionError(name)


CASES = [["elu", "identity"], [("elu", 0.5), "elu"], ["elu", ("elu", 2.0)],
         ["gelu", "identity"], ["gelu", "gelu"], [("elu", 0.3), "gelu"]]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("acts", CASES, ids=str)
def test_gradients_match_torch_autograd(acts, dtype):
    rng = np.random.default_rng(11)
    X = (rng.standard_normal((16, 5)) * 2).astype(dtype)
    Y = rng.standard_normal((16, 3)).astype(dtype)
    net = cn.Network([5, 7, 3], activation=acts, loss="mse", seed=0, dtype=dtype)
    (W1, b1), (W2, b2) = net.get_weights()
    t = {k: torch.tensor(v, requires_grad=True)
         for k, v in dict(W1=W1, b1=b1, W2=W2, b2=b2).items()}
    h = torch_fn(acts[0])(torch.tensor(X) @ t["W1"] + t["b1"])
    out = torch_fn(acts[1])(h @ t["W2"] + t["b2"])
    loss = torch.mean((out - torch.tensor(Y)) ** 2)
    loss.backward()
    value, grads = net.loss_and_gradients(X, Y)
    rtol, atol = (1e-11, 1e-14) if dtype == "float64" else (2e-4, 1e-6)
    assert value == pytest.approx(loss.item(), rel=rtol)
    for (dW, db), (kw, kb) in zip(grads, [("W1", "b1"), ("W2", "b2")]):
        np.testing.assert_allclose(dW, t[kw].grad.numpy(), rtol=rtol, atol=atol)
        np.testing.assert_allclose(db, t[kb].grad.numpy(), rtol=rtol, atol=atol)


def test_elu_travels_to_and_from_torch():
    net = cn.Network([4, 6, 5, 2], activation=[("elu", 0.3), "elu", "identity"], seed=3)
    seq = net.to_torch()
    assert [type(m).__name__ for m in seq] == ["Linear", "ELU", "Linear", "ELU", "Linear"]
    assert [seq[1].alpha, seq[3].alpha] == [0.3, 1.0]
    back = cn.from_torch(seq)
    assert [a.spec for a in back.activations] == [a.spec for a in net.activations]
    X = np.random.default_rng(0).standard_normal((9, 4)) * 3
    assert back.feedforward(X).tobytes() == net.feedforward(X).tobytes()
    with torch.no_grad():
        np.testing.assert_allclose(seq(torch.from_numpy(X)).numpy(), net.feedforward(X),
                                   rtol=1e-13, atol=1e-15)
    # torch's own ELU module, built by hand, comes in with its alpha
    hand = torch.nn.Sequential(torch.nn.Linear(2, 3, dtype=torch.float64), torch.nn.ELU(alpha=0.7),
                               torch.nn.Linear(3, 1, dtype=torch.float64))
    assert cn.from_torch(hand).activations[0].spec == {"name": "elu", "alpha": 0.7}


def test_gelu_travels_to_and_from_torch_in_its_tanh_form():
    net = cn.Network([4, 6, 5, 2], activation=["gelu", "gelu", "identity"], seed=3)
    seq = net.to_torch()
    assert [type(m).__name__ for m in seq] == ["Linear", "GELU", "Linear", "GELU", "Linear"]
    assert seq[1].approximate == "tanh"
    back = cn.from_torch(seq)
    assert [a.name for a in back.activations] == ["gelu", "gelu", "identity"]
    X = np.random.default_rng(0).standard_normal((9, 4)) * 3
    assert back.feedforward(X).tobytes() == net.feedforward(X).tobytes()
    with torch.no_grad():
        np.testing.assert_allclose(seq(torch.from_numpy(X)).numpy(), net.feedforward(X),
                                   rtol=1e-13, atol=1e-15)
    # torch's default GELU is the erf form, which cyneuron does not compute
    erf = torch.nn.Sequential(torch.nn.Linear(2, 2, dtype=torch.float64), torch.nn.GELU())
    with pytest.raises(ValueError, match="approximate='none'.*tanh"):
        cn.from_torch(erf)


def test_gelu_values_match_torch_on_wide_inputs():
    z = np.concatenate([np.linspace(-12, 12, 241), [-40.0, 40.0, 1e-8, -1e-8, 0.0]])
    for dtype, rtol in (("float64", 1e-15), ("float32", 2e-6)):
        net = cn.Network([1, 1], activation="gelu", dtype=dtype)
        net.set_weights([(np.ones((1, 1)), np.zeros(1))])
        x = z.astype(dtype).reshape(-1, 1)
        want = F.gelu(torch.from_numpy(x), approximate="tanh").numpy()
        np.testing.assert_allclose(net.feedforward(x), want, rtol=rtol,
                                   atol=4 * np.finfo(dtype).eps)
