"""cyneuron: a small, fast, exact feed-forward neural-network library.

The compiled core (Cython over typed memoryviews, C kernels in ``csrc/``)
agrees bit for bit with the plain NumPy reference in ``cyneuron.reference``.
"""
from .network import DivergenceError, History, Network, Neuron
from .io import load, save
from .callbacks import Callback, EarlyStopping
from . import callbacks, metrics, optimizers, reference, schedules

__version__ = "0.1.0"
__all__ = ["Network", "Neuron", "History", "DivergenceError", "load", "save", "Callback",
           "EarlyStopping",
           "MLPClassifier", "MLPRegressor", "plot_decision_boundary",
           "callbacks", "metrics", "optimizers", "reference", "schedules", "__version__"]

_LAZY = {"MLPClassifier": "estimators", "MLPRegressor": "estimators",
         "plot_decision_boundary": "_plot"}


def __getattr__(name):
    # The estimators import scikit-learn, the plots matplotlib (optional extras): only
    # on first use.
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'cyneuron' has no attribute {name!r}")
