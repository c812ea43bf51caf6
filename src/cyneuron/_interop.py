"""Models from scikit-learn and PyTorch, and networks to PyTorch.

``cn.from_sklearn`` turns a fitted ``sklearn.neural_network.MLPClassifier``
or ``MLPRegressor`` into cyneuron's estimator of the same name: the same
parameters, weights, labels and fitted attributes, and the solver's state
(Adam's moments and step count, or the momentum velocities), so that
``partial_fit`` continues where scikit-learn stopped. ``cn.from_torch`` reads
a ``torch.nn.Sequential`` of ``Linear`` layers and activations into a
``Network``; ``Network.to_torch`` writes one.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from . import _registry as registry
from . import _schema as schema
from ._to_torch import torch_module
from .network import Network

if TYPE_CHECKING:
    import torch

    from .estimators import MLPClassifier, MLPRegressor


# --- scikit-learn -----------------------------------------------------------------------------

def from_sklearn(model: Any) -> MLPClassifier | MLPRegressor:
    """The cyneuron estimator equivalent to a fitted scikit-learn MLP.

    Parameters
    ----------
    model : sklearn.neural_network.MLPClassifier or MLPRegressor, fitted
        The scikit-learn MLP to convert.

    Returns
    -------
    cyneuron.MLPClassifier or cyneuron.MLPRegressor
        Same parameters, weights (in their dtype), ``classes_`` and fitted
        attributes; the solver's state is carried over, so ``partial_fit``
        continues the run.

    Raises
    ------
    TypeError
        `model` is not one of scikit-learn's MLPs.
    sklearn.exceptions.NotFittedError
        It is not fitted.
    ValueError
        Weights or solver state that a model file could not hold (they pass
        ``cyneuron.io.network_from_arrays``, as a loaded model does; the
        message is the loader's, after ``"model: "``).
    """
    from sklearn import neural_network as sknn

    # cyneuron's estimators need scikit-learn, an optional extra (here it is installed:
    # `model` is one of its estimators); each converts its own twin
    from . import estimators

    if type(model) is sknn.MLPClassifier:
        return estimators.MLPClassifier.from_sklearn(model)
    if type(model) is sknn.MLPRegressor:
        return estimators.MLPRegressor.from_sklearn(model)
    raise TypeError(f"model must be a fitted sklearn.neural_network.MLPClassifier or "
                    f"MLPRegressor, got {type(model).__name__}")


# --- PyTorch ----------------------------------------------------------------------------------

def _torch_rows(nn):
    """(torch.nn class, registry row) of each activation that is a torch module."""
    return [(getattr(nn, row.torch.module), row) for row in registry.ACTIVATIONS.values()
            if row.torch is not None and row.torch.module is not None]


def _activation_of(module, nn):
    """The registry spec of a torch activation module, or None if it is not one
    (ValueError for a setting cyneuron cannot compute: the row's ``torch.read``)."""
    for cls, row in _torch_rows(nn):
        if isinstance(module, cls):
            param = None if row.torch.read is None else row.torch.read(module)
            return row.name if param is None else (row.name, param)
    return None


def from_torch(module: torch.nn.Sequential, *, loss: str | None = None,
               backend: str = "cython") -> Network:
    """A Network with the layers and weights of a ``torch.nn.Sequential``.

    Parameters
    ----------
    module : torch.nn.Sequential
        ``Linear`` layers, each followed by at most one of ``ReLU``,
        ``Sigmoid``, ``Tanh``, ``LeakyReLU``, ``SiLU``, ``Softplus`` (beta 1),
        ``ELU``, ``GELU(approximate="tanh")``, ``Identity`` and, after the last
        one, ``Softmax(dim=1)``; all weights float64 or all float32.
    loss : str, optional
        The Network's loss; by default ``"categorical_crossentropy"`` after a
        softmax, ``"mse"`` otherwise.
    backend : {"cython", "numpy"}

    Returns
    -------
    Network
        The same layers and weights, bit for bit.

    Raises
    ------
    ImportError
        torch is not installed (``pip install 'cyneuron[torch]'``).
    TypeError
        `module` is not a ``torch.nn.Sequential``.
    ValueError
        A module that cyneuron has no layer for (the message names it and
        its position), two activations in a row, or mixed dtypes; or weights
        or an architecture that a model file could not hold (they pass
        ``cyneuron.io.network_from_arrays``, as a loaded model does: finite
        values, the architecture limits; the message is the loader's, after
        ``"module: "``).
    """
    torch = torch_module()
    nn = torch.nn
    if not isinstance(module, nn.Sequential):
        raise TypeError(f"module must be a torch.nn.Sequential, got {type(module).__name__}")
    weights: list[tuple[NDArray[Any], NDArray[Any]]] = []
    acts: list[str | tuple[str, float]] = []
    sizes: list[int] = []
    dtypes: set[str] = set()
    pending = None              # the activation after the current Linear
    for i, m in enumerate(module):
        if isinstance(m, nn.Identity):
            continue
        if isinstance(m, nn.Linear):
            if weights:
                acts.append(pending or "identity")
            pending = None
            W = m.weight.detach().cpu().numpy().T
            b = (m.bias.detach().cpu().numpy() if m.bias is not None
                 else np.zeros(m.out_features, dtype=W.dtype))
            if sizes and sizes[-1] != m.in_features:
                raise ValueError(f"module {i} (Linear) takes {m.in_features} inputs, but the "
                                 f"layer before gives {sizes[-1]}")
            if not sizes:
                sizes.append(m.in_features)
            sizes.append(m.out_features)
            dtypes.add(W.dtype.name)
            weights.append((W, b))
            continue
        act = _activation_of(m, nn)
        if act is None:
            rows = [row for _, row in _torch_rows(nn)]
            hidden = [row.torch.module for row in rows if not row.output_only]
            final = [row.torch.module for row in rows if row.output_only]
            raise ValueError(f"unsupported module {i}: {type(m).__name__} ({m!r:.80}); "
                             f"cyneuron reads Linear, {', '.join(hidden)}, Identity and a "
                             f"final {', '.join(final)}")
        if not weights:
            raise ValueError(f"module {i} ({type(m).__name__}) comes before any Linear layer")
        if pending is not None:
            raise ValueError(f"module {i} ({type(m).__name__}) is a second activation after "
                             f"one Linear layer")
        pending = act
    if not weights:
        raise ValueError("module has no Linear layer")
    acts.append(pending or "identity")
    if len(dtypes) != 1 or not dtypes <= {"float64", "float32"}:
        raise ValueError(f"module's weights must all be float64 or all float32, got "
                         f"{sorted(dtypes)}")
    if loss is None:
        loss = "categorical_crossentropy" if acts[-1] == "softmax" else "mse"
    try:
        meta, arrays = schema.weights_state(sizes, acts, loss, dtypes.pop(), weights)
        return Network.from_file_state(meta, arrays, backend=backend)
    except ValueError as exc:
        raise ValueError(f"module: {exc}") from None
