"""cyneuron: a small, fast, exact feed-forward neural-network library.

The compiled core (Cython over typed memoryviews, C kernels in ``csrc/``)
agrees bit for bit with the plain NumPy reference in ``cyneuron.reference``.
"""
from . import callbacks, metrics, optimizers, reference, schedules
from ._version import __version__
from .callbacks import (
    Callback,
    CSVLogger,
    EarlyStopping,
    LambdaCallback,
    ModelCheckpoint,
    ReduceLROnPlateau,
)
from .io import load, save
from .network import DivergenceError, DivergenceWarning, History, Network, Neuron

__all__ = ["Network", "Neuron", "History", "DivergenceError", "DivergenceWarning", "load", "save", "Callback",
           "EarlyStopping", "ModelCheckpoint", "ReduceLROnPlateau", "CSVLogger", "LambdaCallback",
           "MLPClassifier", "MLPRegressor", "tabular_pipeline", "to_onnx", "register_skl2onnx",
           "from_sklearn", "from_torch", "fit_blocks", "plot_decision_boundary", "export_c",
           "callbacks", "metrics", "optimizers", "reference", "schedules", "__version__"]

_LAZY = {"MLPClassifier": "estimators", "MLPRegressor": "estimators",
         "to_onnx": "_onnx", "register_skl2onnx": "_onnx",
         "from_sklearn": "_interop", "from_torch": "_interop", "fit_blocks": "dask",
         "plot_decision_boundary": "_plot", "export_c": "_export_c",
         "tabular_pipeline": "tabular"}


def __getattr__(name):
    # The estimators import scikit-learn, the ONNX export onnx, fit_blocks dask, the
    # plots matplotlib (optional extras): only on first use.
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'cyneuron' has no attribute {name!r}")


def __dir__():
    # the lazy names too: dir(cyneuron) and tab completion list every public name
    return sorted(set(globals()) | set(__all__))
