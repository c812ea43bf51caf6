"""Saving and loading models: :func:`save` and :func:`load`, never a pickle.

Model files come in layers, bottom up; each knows only the ones below it:

codecs (:mod:`cyneuron._codec`, :mod:`cyneuron._npz`, :mod:`cyneuron._safetensors_io`)
    a JSON header and named arrays to and from a ``.npz`` or ``.safetensors``
    file. They know no model; reading them is hardened (regular files only,
    sizes checked from the zip directory or the safetensors header before
    anything is read or inflated, bounded JSON, ``.npy`` headers parsed, not
    evaluated).
the schema (:mod:`cyneuron._schema`)
    what a header and arrays mean for a network and for an estimator, and
    every check of them, optimizer state included; it builds no model.
:mod:`cyneuron._modelfile`
    the codec a path takes (by its suffix) and the state digest
    (:mod:`cyneuron._digest`): a model's state to a file and back.
the models
    ``Network`` and the estimators turn themselves into a header and arrays
    and back (``state_for_file`` / ``from_file_state``, with the schema).
this module
    :func:`save` and :func:`load`.

The building blocks that the docs and tests name are re-exported here from
their homes (``open_archive``, ``read_array``, ``read_header``,
``encode_header``, ``network_to_arrays``, ``network_from_arrays``, ...), so
that a network can be stored inside a larger archive under a key prefix.
"""
from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, overload

from numpy.typing import NDArray

from . import _modelfile, _npz
from . import _schema as schema
from ._codec import (
    MAX_BYTES,
    MAX_HEADER_BYTES,
    MAX_JSON_DEPTH,
    MAX_JSON_INT_DIGITS,
    Layout,
    PathLike,
    Tensors,
    check_array_type,
    check_max_bytes,
    open_regular,
    parse_json,
    path_label,
)
from ._modelfile import model_path
from ._npz import (
    MAX_DIRECTORY_BYTES,
    MAX_MEMBERS,
    MAX_NPY_HEADER,
    Archive,
    encode_header,
    open_archive,
    read_array,
)
from ._schema import (
    ESTIMATOR_FORMAT,
    ESTIMATOR_PREFIX,
    FORMAT,
    MAX_LAYERS,
    MAX_WIDTH,
    READ_VERSIONS,
    VERSION,
    ActivationSpec,
    check_optimizer_state,
    model_layout,
    parse_header,
    stored_layout,
)
from .network import Network, check_backend

if TYPE_CHECKING:
    pass

__all__ = [
    "ESTIMATOR_FORMAT", "ESTIMATOR_PREFIX", "FORMAT", "MAX_BYTES", "MAX_DIRECTORY_BYTES",
    "MAX_HEADER_BYTES", "MAX_JSON_DEPTH", "MAX_JSON_INT_DIGITS", "MAX_LAYERS", "MAX_MEMBERS",
    "MAX_NPY_HEADER", "MAX_WIDTH", "READ_VERSIONS", "VERSION", "ActivationSpec", "Archive",
    "Layout", "PathLike", "Tensors", "check_array_type", "check_max_bytes",
    "check_optimizer_state", "encode_header", "load", "model_layout", "model_path",
    "network_from_arrays", "network_from_weights", "network_to_arrays", "open_archive",
    "open_regular", "parse_header", "parse_json", "read_array", "read_header", "save",
    "stored_layout",
]


def read_header(archive: Archive, key: str = "meta",
                formats: tuple[str, ...] = (FORMAT,)) -> dict[str, Any]:
    """Read and check the JSON header of a model stored in `archive`.

    Parameters
    ----------
    archive : Archive
    key : str
        The header member's name without ``.npy`` (``prefix + "meta"``).
    formats : tuple of str
        The format names accepted (a network's, or also an estimator's).

    Returns
    -------
    dict
        The header, with its format name and version checked; the other
        fields are checked by :func:`network_from_arrays`.

    Raises
    ------
    ValueError
        Missing, oversized (checked from the zip directory), not JSON, not a
        cyneuron header, or an unsupported version.
    """
    return parse_header(_npz.header_bytes(archive, key), key, formats)


def network_to_arrays(network: Network, prefix: str = ""
                      ) -> tuple[dict[str, Any], dict[str, NDArray[Any]]]:
    """A network's header and arrays, checked as :func:`network_from_arrays` checks them.

    Parameters
    ----------
    network : Network
    prefix : str
        Prefix for the array keys (the header is returned as a dict: store it
        with :func:`encode_header` under ``prefix + "meta"``).

    Returns
    -------
    meta : dict
    arrays : dict
        ``{prefix + "optimizer_state": ..., prefix + "W0": ..., ...}``, copies.

    Raises
    ------
    ValueError
        Weights or optimizer state that are not finite, or optimizer state
        that a load would refuse: nothing is returned that could not be read
        back.
    """
    if not isinstance(network, Network):
        raise TypeError(f"network must be a cyneuron Network, got {type(network).__name__}")
    return network.state_for_file(prefix)


def network_from_arrays(meta: Mapping[str, Any], arrays: Archive | Mapping[str, Any], *,
                        prefix: str = "", backend: str = "cython") -> Network:
    """Build a Network from its header and arrays, checking every field.

    Parameters
    ----------
    meta : dict
        The network's header (as :func:`read_header` returns it, or as
        :func:`network_to_arrays` made it).
    arrays : Archive or Mapping
        Where the arrays are: an open :class:`Archive` (each member's size is
        checked from the zip directory before any is read, and the model
        against the archive's ``max_bytes``), or a mapping of key to
        numpy.ndarray.
    prefix : str
        Prefix of the network's keys (``prefix + "W0"``, ...).
    backend : {"cython", "numpy"}

    Returns
    -------
    Network

    Raises
    ------
    ValueError
        A field, array or optimizer state that is missing, malformed or
        impossible (see :func:`check_optimizer_state`), or a model larger
        than the archive's ``max_bytes``.
    """
    if isinstance(arrays, Archive):
        layout = model_layout(meta, prefix)
        present = {k: v for k, v in layout.items() if arrays.info(k) is not None}
        # every member's size from the directory before the first is inflated
        for key, (dtype, shape) in present.items():
            _npz.expected_size(key, arrays.info(key), dtype, shape, None)
        dtype, (twice,) = layout[prefix + "optimizer_state"]
        # the Network holds the weights and both moments: bound it before allocating
        need = 3 * (twice // 2) * dtype.itemsize
        if need > arrays.max_bytes:
            raise ValueError(f"the model in the header needs {need} bytes, over the limit "
                             f"max_bytes={arrays.max_bytes}")
        arrays = {k: read_array(arrays, k, dt, shape) for k, (dt, shape) in present.items()}
    elif not isinstance(arrays, Mapping):
        raise TypeError(f"arrays must be an Archive or a mapping, got {type(arrays).__name__}")
    return Network.from_file_state(meta, arrays, prefix=prefix, backend=backend)


def network_from_weights(layer_sizes: Sequence[int], activations: Sequence[ActivationSpec],
                         loss: str, dtype: str, weights: Sequence[tuple[NDArray, NDArray]],
                         *, backend: str = "cython") -> Network:
    """A Network from an architecture and weights that come from elsewhere.

    The architecture is written as a model file's header and the weights as
    its arrays (:func:`cyneuron._schema.weights_state`), and checked and
    built as a loaded file is: the same limits, names, dtypes, shapes, finite
    values, and messages. Returns a Network without an optimizer; the arrays
    are copied. ValueError for anything :func:`network_from_arrays` refuses.
    """
    meta, arrays = schema.weights_state(layer_sizes, activations, loss, dtype, weights)
    return Network.from_file_state(meta, arrays, backend=backend)


@overload
def save(network: Any, path: str | os.PathLike[str], *,
         metadata: dict[str, Any] | None = None) -> str: ...
@overload
def save(network: Any, path: bytes | os.PathLike[bytes], *,
         metadata: dict[str, Any] | None = None) -> bytes: ...
def save(network: Any, path: PathLike, *, metadata: dict[str, Any] | None = None
         ) -> str | bytes:
    """Write a network, a fitted estimator or a fitted pipeline to a model file.

    `network` is a Network, a fitted MLPClassifier / MLPRegressor, or a
    fitted :func:`cyneuron.tabular_pipeline`.

    Parameters
    ----------
    network : Network, MLPClassifier, MLPRegressor or sklearn.pipeline.Pipeline
        A pipeline must be one :func:`cyneuron.tabular_pipeline` builds: its
        preprocessing is stored field by field (never pickled), under the
        same state digest.
    path : str, bytes or os.PathLike
        A ``.safetensors`` path writes the safetensors format (needs
        ``pip install 'cyneuron[safetensors]'``; see
        ``cyneuron._safetensors_io``); otherwise the ``.npz`` suffix is added
        if missing.
    metadata : dict, optional
        Plain JSON values stored with a pipeline (at most 64 KiB), read back by
        ``load(..., with_metadata=True)``; the command line keeps how it read
        the data there.

    Returns
    -------
    str or bytes
        The path written.

    Raises
    ------
    ValueError
        The weights or the optimizer state are not finite (a diverged fit),
        or the optimizer state is impossible; or `path` is empty or names a
        folder (ends in a separator, or is an existing directory). Nothing is
        written.
    OSError
        Any I/O error (a missing folder, checked before any work; no
        permission; a full disk), naming the path, in both formats. The old
        file, if any, is left exactly as it was.

    Notes
    -----
    The write is atomic (``cyneuron._files.atomic_write``): a temporary file
    in the same folder, fsync, rename over `path`, fsync of the folder. After
    a crash, a kill or Ctrl-C, `path` holds the old model or the complete
    new one. The new file's mode follows the umask, whether or not a file
    was there before.
    """
    def state() -> tuple[dict[str, Any], dict[str, NDArray[Any]]]:
        # called after the path was checked, as before the split. An estimator is
        # recognised without importing cyneuron.estimators, which needs scikit-learn
        # (an optional extra).
        if metadata is not None and not _is_pipeline(network):
            raise TypeError("metadata is stored with a pipeline only")
        if isinstance(network, Network) or type(network).__module__ == "cyneuron.estimators":
            return network.state_for_file()
        if _is_pipeline(network):
            # scikit-learn is installed: the pipeline is one of its objects
            from . import tabular
            tab, arrays = tabular.pipeline_to_state(network, lambda est: est.state_for_file())
            meta = {"format": schema.PIPELINE_FORMAT, "version": schema.VERSION,
                    "pipeline": tab}
            if metadata is not None:
                meta["metadata"] = schema.check_metadata(metadata)
            return meta, arrays
        raise TypeError(f"save takes a cyneuron Network, MLPClassifier or MLPRegressor, or a "
                        f"tabular_pipeline, got {type(network).__name__}")
    return _modelfile.write(path, type(network).__name__, state)


def _is_pipeline(model: object) -> bool:
    return (type(model).__name__ == "Pipeline"
            and type(model).__module__.startswith("sklearn."))


def load(path: PathLike, backend: str = "cython", *, max_bytes: int = MAX_BYTES,
         with_metadata: bool = False) -> Any:
    """Read a model written by :func:`save`.

    Parameters
    ----------
    path : str, bytes or os.PathLike
        A regular file (FIFOs, devices and directories are refused): a
        ``.npz`` archive, or a ``.safetensors`` file (read without the
        safetensors package, with the same checks).
    backend : {"cython", "numpy"}
    max_bytes : int
        Bound on what the archive may inflate to, checked from its zip
        directory before anything is read (default 2 GiB).
    with_metadata : bool, default=False
        Also return the metadata saved with a pipeline (``{}`` if none).

    Returns
    -------
    Network, MLPClassifier, MLPRegressor or sklearn.pipeline.Pipeline
        What was saved (an estimator or a pipeline needs scikit-learn to be
        loaded); with `with_metadata`, ``(model, metadata)``.

    Raises
    ------
    FileNotFoundError, PermissionError
        From the operating system.
    ValueError
        The file is not a model file, or any part of it is malformed,
        oversized or impossible; the message names the member or field.
    TypeError
        `path` is not a path.
    """
    label = path_label(path)
    check_backend(backend)
    try:
        meta, arrays = _modelfile.read(path, max_bytes=max_bytes)
        model = _model_from_state(meta, arrays, backend)
        if with_metadata:
            return model, dict(meta.get("metadata") or {})
        return model
    except ValueError as exc:
        raise ValueError(f"{label} is not a valid cyneuron model file: {exc}") from None


def _model_from_state(meta: dict[str, Any], arrays: dict[str, Any], backend: str) -> Any:
    """The model a file's checked header and arrays describe."""
    if meta["format"] == schema.FORMAT:
        return Network.from_file_state(meta, arrays, backend=backend)
    # the estimators and pipelines need scikit-learn, an optional extra: imported
    # only for their files
    from . import estimators
    try:
        if meta["format"] == schema.ESTIMATOR_FORMAT:
            return estimators.from_file_state(meta, arrays, backend)
        from . import tabular
        own = {k: a for k, a in arrays.items() if not k.startswith(schema.PIPELINE_PREFIX)}
        return tabular.pipeline_from_state(
            meta["pipeline"], arrays,
            lambda est_meta: estimators.from_file_state(est_meta, own, backend))
    except TypeError as exc:     # a field of the wrong type, anywhere
        raise ValueError(str(exc)) from None

