"""A Network as a ``torch.nn.Sequential`` (``Network.to_torch``).

Below the model classes: it reads a network through its public surface
(activations, weights, dtype), so that ``Network.to_torch`` needs nothing
that imports ``network``; ``cn.from_torch``, which builds a Network, is in
:mod:`cyneuron._interop`. torch is an optional extra, imported on first use.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch

_TORCH_EXTRA = "pip install 'cyneuron[torch]'"


def torch_module() -> Any:
    """The torch module; ImportError saying how to install it if it is missing."""
    try:
        import torch
    except ImportError as exc:
        raise ImportError(f"PyTorch conversion needs torch: {_TORCH_EXTRA}") from exc
    return torch


def to_torch(net: Any) -> torch.nn.Sequential:
    """A ``torch.nn.Sequential`` computing what the Network `net` computes
    (``Network.to_torch``; `net` is typed ``Any``: this module sits below
    ``cyneuron.network`` and does not import it, not even for its type)."""
    torch = torch_module()
    nn = torch.nn
    for l, act in enumerate(net.activations):
        if act.row.torch is None:
            raise ValueError(f"activation {act.name!r} of layer {l + 1} has no PyTorch "
                             f"module: its registry row has no torch form for to_torch")
    dtype = {"float64": torch.float64, "float32": torch.float32}[net.dtype.name]
    layers = []
    for (W, b), act in zip(net.get_weights(), net.activations):
        lin = nn.Linear(W.shape[0], W.shape[1], dtype=dtype)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(W.T)))
            lin.bias.copy_(torch.from_numpy(b))
        layers.append(lin)
        module = act.row.torch.module
        if module is not None:           # None: the Linear layer alone (identity)
            layers.append(getattr(nn, module)(**act.row.torch.kwargs(act.param)))
    return nn.Sequential(*layers)
