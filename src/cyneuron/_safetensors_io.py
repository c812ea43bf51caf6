"""The safetensors codec: a JSON header and named arrays in a ``.safetensors`` file.

It knows no model. The file is what the ``safetensors`` library writes: an
8-byte little-endian header length N, N bytes of JSON, then the tensors'
bytes. cyneuron stores its header (the same dict as in its ``.npz`` files)
as one JSON string under ``__metadata__["cyneuron"]``, and its arrays as
tensors (float64 or float32).

Reading does not use the library and runs no code: the header length is
bounded and checked against the file's size; the JSON is parsed by
:func:`cyneuron._codec.parse_json`; the cyneuron header goes to a
:data:`cyneuron._codec.HeaderCheck` (the model-state schema's), which
answers with the arrays it announces; every tensor's dtype, shape and byte
range are checked against that (contiguous, in bounds, no overlap, all bytes
accounted for, at most ``max_bytes``) before any tensor's bytes are read.
"""
from __future__ import annotations

import json
import os
import struct
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import _files
from ._codec import (
    MAX_BYTES,
    MAX_HEADER_BYTES,
    HeaderCheck,
    PathLike,
    Tensors,
    check_array_type,
    check_max_bytes,
    is_int,
    open_regular,
    parse_json,
)

SUFFIX = ".safetensors"
_DTYPES: dict[str, np.dtype[Any]] = {"F64": np.dtype("<f8"), "F32": np.dtype("<f4")}
_META_KEY = "cyneuron"
_EXTRA = "pip install 'cyneuron[safetensors]'"


def is_safetensors(path: PathLike) -> bool:
    """Whether `path` names a safetensors file (by its suffix)."""
    p = os.fspath(path)
    return p.endswith(SUFFIX.encode()) if isinstance(p, bytes) else p.endswith(SUFFIX)


def write(path: PathLike, meta: Mapping[str, Any], arrays: Mapping[str, NDArray[Any]]) -> None:
    """Write header `meta` and `arrays` (name -> float array) to `path`.

    The library serialises to bytes and cyneuron's atomic writer writes them:
    its own ``save_file`` leaves its temporary file behind when the process is
    killed, creates the file with mode 0600, and reports I/O errors as
    ``SafetensorError`` (here they are ``OSError``s naming `path`, as for ``.npz``).
    """
    try:
        from safetensors import SafetensorError
        from safetensors.numpy import save
    except ImportError as exc:
        raise ImportError(f"writing .safetensors files needs the safetensors package: "
                          f"{_EXTRA}") from exc
    tensors = {k: np.ascontiguousarray(a) for k, a in arrays.items()}
    try:
        data = save(tensors, metadata={_META_KEY: json.dumps(meta, allow_nan=False)})
    except SafetensorError as exc:      # no I/O happens here: it is about the tensors
        raise ValueError(f"safetensors cannot serialise the model: {exc}") from None
    _files.write_bytes(path, data)


def _read_exact(f, n, what):
    data = f.read(n)
    if len(data) != n:
        raise ValueError(f"the file ends inside {what}")
    return data


def _check_entry(name, entry):
    if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
        raise ValueError(f"tensor {name!r:.80}: expected the keys dtype, shape, data_offsets")
    if entry["dtype"] not in _DTYPES:
        raise ValueError(f"tensor {name!r:.80}: dtype {entry['dtype']!r:.20} (cyneuron writes "
                         f"F64 or F32)")
    shape, offs = entry["shape"], entry["data_offsets"]
    if not isinstance(shape, list) or len(shape) > 2 or not all(is_int(s) and s >= 0
                                                                  for s in shape):
        raise ValueError(f"tensor {name!r:.80}: bad shape {shape!r:.80}")
    if (not isinstance(offs, list) or len(offs) != 2 or not all(is_int(o) for o in offs)
            or not 0 <= offs[0] <= offs[1]):
        raise ValueError(f"tensor {name!r:.80}: bad data_offsets {offs!r:.80}")


def read(path: PathLike, check_header: HeaderCheck, *, max_bytes: int = MAX_BYTES
         ) -> tuple[dict[str, Any], Tensors]:
    """The cyneuron header and the tensors of a safetensors file, checked as
    the module's docstring says; nothing is built from them.

    Parameters
    ----------
    path : str, bytes or os.PathLike
        A regular file.
    check_header : callable
        ``(header bytes, "cyneuron") -> (header, layout)``: checks the
        cyneuron header and says which tensors it announces.
    max_bytes : int
        Bound on the tensors' bytes.

    Returns
    -------
    header : dict
    arrays : Tensors

    Raises
    ------
    ValueError
        Anything malformed, oversized or unexpected; the message names the
        tensor, not the file (``load`` adds it).
    """
    check_max_bytes(max_bytes)
    f, size = open_regular(path)
    with f:
        if size < 8:
            raise ValueError(f"the file has {size} bytes, too few for a safetensors header")
        (n,) = struct.unpack("<Q", _read_exact(f, 8, "the header length"))
        if n < 2 or n > MAX_HEADER_BYTES:
            raise ValueError(f"the header length {n} is outside [2, {MAX_HEADER_BYTES}]")
        if 8 + n > size:
            raise ValueError(f"the header length {n} runs past the end of the file "
                             f"({size} bytes)")
        header = parse_json(_read_exact(f, n, "the header"), "safetensors header")
        if not isinstance(header, dict):
            raise ValueError("the safetensors header is not a JSON object")
        extra = header.pop("__metadata__", None)
        if not isinstance(extra, dict) or not isinstance(extra.get(_META_KEY), str) \
                or set(extra) - {_META_KEY, "format"}:
            raise ValueError("no cyneuron header: '__metadata__' must hold the string "
                             "'cyneuron' (a safetensors file that cyneuron did not write?)")
        meta, expected = check_header(extra[_META_KEY].encode("utf-8"), _META_KEY)
        # every tensor's size and place, from the header, before any byte is read
        data_len = size - 8 - n
        spans = []
        for name, entry in header.items():
            if name not in expected:
                raise ValueError(f"unexpected tensor {name!r:.80}")
            _check_entry(name, entry)
            dtype, shape = expected[name]
            # worded as for an .npz member or an array in memory, in numpy's dtype names
            check_array_type(name, _DTYPES[entry["dtype"]].name, entry["shape"], dtype.name,
                                shape)
            begin, end = entry["data_offsets"]
            if end - begin != int(np.prod(shape, dtype=object)) * dtype.itemsize:
                raise ValueError(f"tensor {name!r}: data_offsets {entry['data_offsets']} do not "
                                 f"span {list(shape)} values")
            spans.append((begin, end, name))
        spans.sort()
        at = 0
        for begin, end, name in spans:
            if begin != at:
                raise ValueError(f"tensor {name!r}: its bytes start at {begin}, expected {at} "
                                 f"(tensors must be contiguous and must not overlap)")
            at = end
        if at != data_len:
            raise ValueError(f"the tensors span {at} bytes, but the file holds {data_len} "
                             f"after the header (truncated, or trailing bytes)")
        if at > max_bytes:
            raise ValueError(f"the tensors need {at} bytes, over the limit max_bytes="
                             f"{max_bytes}")
        tensors = Tensors()
        for begin, end, name in spans:
            f.seek(8 + n + begin)
            raw = _read_exact(f, end - begin, f"tensor {name!r}")
            dtype, shape = expected[name]
            tensors[name] = np.frombuffer(raw, dtype=dtype.newbyteorder("<")) \
                .astype(dtype).reshape(shape)
    return meta, tensors
