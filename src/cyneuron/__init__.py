"""cyneuron: a small, fast, exact feed-forward neural-network library.

The compiled core (Cython over typed memoryviews, C kernels in ``csrc/``)
agrees bit for bit with the plain NumPy reference in ``cyneuron.reference``.
"""
from .network import History, Network, Neuron
from .io import load, save
from .callbacks import Callback, EarlyStopping
from . import callbacks, metrics, optimizers, reference, schedules

__version__ = "0.1.0"
__all__ = ["Network", "Neuron", "History", "load", "save", "Callback", "EarlyStopping",
           "callbacks", "metrics", "optimizers", "reference", "schedules", "__version__"]
