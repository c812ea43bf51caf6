"""A model file: which codec a path takes, and a model's state through it.

Below the model classes: it knows the codecs (:mod:`cyneuron._npz`,
:mod:`cyneuron._safetensors_io`), the schema's header check and the state
digest (:mod:`cyneuron._digest`), and takes a model's state as a header and
arrays, so that ``Network.save`` and ``cn.save`` write through the same code
without this module importing either. Building a model from what
:func:`read` returns is :func:`cyneuron.io.load`'s.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from types import ModuleType
from typing import Any, overload

from numpy.typing import NDArray

from . import _digest, _files, _npz, _safetensors_io, _schema
from ._codec import MAX_BYTES, PathLike, Tensors

#: What a model hands over to be written: () -> (header, arrays). Called once,
#: after the path was checked; it takes its own snapshot (under the model's guard).
StateFn = Callable[[], tuple[dict[str, Any], dict[str, NDArray[Any]]]]


def codec_for(path: PathLike) -> ModuleType:
    """The codec module for `path`: safetensors by its suffix, else ``.npz``."""
    return _safetensors_io if _safetensors_io.is_safetensors(path) else _npz


@overload
def model_path(path: str | os.PathLike[str]) -> str: ...
@overload
def model_path(path: bytes | os.PathLike[bytes]) -> bytes: ...
def model_path(path: PathLike) -> str | bytes:
    """The path :func:`cyneuron.save` writes for `path`: a ``.safetensors`` path as
    it is, any other with the ``.npz`` suffix added if missing."""
    p = os.fspath(path)
    if _safetensors_io.is_safetensors(p):
        return p
    if isinstance(p, bytes):
        return p if p.endswith(b".npz") else p + b".npz"
    return p if p.endswith(".npz") else p + ".npz"


def write(path: PathLike, what: str, state: StateFn) -> str | bytes:
    """Write the state `state()` gives to the model file for `path`; its path.

    `what` names the model in a refusal (``"cannot save the Network: ..."``).
    The path is checked before any work ("" and "dir/" are refused before the
    suffix would turn them into ".npz" and "dir/.npz"); the state digest is
    added to the header; the codec is chosen by the suffix and writes
    atomically.
    """
    _files.check_target(path)
    path = _files.check_target(model_path(path))
    try:
        meta, arrays = state()
    except ValueError as exc:
        raise ValueError(f"cannot save the {what}: {exc}") from None
    meta = {**meta, _digest.STATE_KEY: _digest.state_digest(meta, arrays)}
    codec_for(path).write(path, meta, arrays)
    return path


def read(path: PathLike, *, max_bytes: int = MAX_BYTES) -> tuple[dict[str, Any], Tensors]:
    """The header and arrays of the model file `path`, read by the codec its
    suffix names, the header checked by the schema and the state digest
    (:func:`cyneuron._digest.check_state`) verified; nothing is built.

    Raises
    ------
    ValueError
        A changed, damaged or hostile file; the message names the member or
        field, not the file (``load`` adds it).
    """
    meta, arrays = codec_for(path).read(path, _schema.check_header, max_bytes=max_bytes)
    _digest.check_state(meta, arrays)
    return meta, arrays
