"""What every model-file codec shares: regular files, bounded JSON, dtype checks.

A codec (:mod:`cyneuron._npz`, :mod:`cyneuron._safetensors_io`) turns a file
into a JSON header and a name -> array mapping and back; it knows no model.
The pieces here are the hardened primitives both use, so that both refuse
hostile input the same way and word it the same way:

* :func:`open_regular` opens every model file (a FIFO or a device would block
  or never end);
* :func:`parse_json` parses every JSON header, bounded in size, nesting and
  number range;
* :func:`check_array_type` words every dtype or shape mismatch;
* :class:`Tensors` is what a codec hands over once it has read and checked
  the arrays the header's layout announced.

What a header must hold, and which arrays it announces, is the model-state
schema's (:mod:`cyneuron._schema`): a codec is handed that as a callable.
"""
from __future__ import annotations

import json
import math
import os
import re
import stat
from collections.abc import Callable, Sequence
from typing import Any, BinaryIO

import numpy as np

#: What a model file's path may be.
PathLike = str | bytes | os.PathLike[str] | os.PathLike[bytes]
#: Where each array of a file is stored: name -> (dtype, shape).
Layout = dict[str, tuple[np.dtype[Any], tuple[int, ...]]]
#: What a codec asks of the schema: from the header's bytes and its name in the
#: file, the checked header and the layout of the arrays it announces.
HeaderCheck = Callable[[bytes, str], tuple[dict[str, Any], Layout]]

#: Default bound on what a file's arrays may take in memory (``load``'s
#: ``max_bytes``); a model needs about 3 * n_params * itemsize (weights and
#: the optimizer's two moments).
MAX_BYTES = 1 << 31
#: The JSON header's size in bytes.
MAX_HEADER_BYTES = 1 << 20
#: Nesting of the JSON header (the deepest real one is 3: meta -> rng -> state).
MAX_JSON_DEPTH = 16
#: Digits of an integer in the JSON header: PCG64's 128-bit state has 39.
MAX_JSON_INT_DIGITS = 40


def is_int(x: object) -> bool:
    """An int that is not a bool (JSON's true is not a count)."""
    return isinstance(x, int) and not isinstance(x, bool)


def path_label(path: object) -> str:
    """`path` as text for messages; TypeError if it is not a path."""
    if isinstance(path, (str, bytes, os.PathLike)):
        label = os.fspath(path)
        return os.fsdecode(label)
    raise TypeError(f"path must be a str, bytes or os.PathLike naming a model file, "
                    f"got {type(path).__name__}")


def _file_kind(mode):
    for test, kind in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return "not a regular file"



def check_max_bytes(max_bytes: object) -> int:
    """`max_bytes` if it is a positive int; else TypeError naming it."""
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1:
        raise TypeError(f"max_bytes must be a positive int, got {max_bytes!r}")
    return max_bytes


def open_regular(path: PathLike) -> tuple[BinaryIO, int]:
    """Open a regular file for reading: (binary file, its size).

    Every model reader opens its file here. FIFOs, devices, sockets and
    directories are refused with a ValueError (``"it is a FIFO; only regular
    files are read"``) before they are opened for reading;
    FileNotFoundError and PermissionError pass through.
    """
    # stat first: opening a FIFO blocks until a writer appears, and reading a
    # device may never end.
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        raise ValueError(f"it is {_file_kind(st.st_mode)}; only regular files are read")
    # O_NONBLOCK: if the path was swapped for a FIFO since the stat, open()
    # still returns at once and the fstat below refuses it.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) \
        | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ValueError(f"it is {_file_kind(st.st_mode)}; only regular files are read")
        return os.fdopen(fd, "rb"), st.st_size
    except BaseException:
        os.close(fd)
        raise



def check_array_type(key: str, found: str, shape: Sequence[int], expected: str,
                     expected_shape: Sequence[int] | None) -> None:
    """Refuse an array whose dtype or shape is not the expected one.

    Every reader (``.npz`` members, mappings of arrays, safetensors tensors)
    words it the same way; `found` and `expected` are dtypes as the reader's
    format spells them (``'float32'``; ``'<f4'`` in an .npy header).
    `expected_shape` None accepts any shape.
    """
    if found != expected:
        raise ValueError(f"array {key!r} has dtype {found!r}, expected {expected!r}")
    if expected_shape is not None and tuple(shape) != tuple(expected_shape):
        raise ValueError(f"array {key!r} has shape {tuple(shape)}, expected "
                         f"{tuple(expected_shape)}")




_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)


def _json_int(text):
    digits = len(text.lstrip("-"))
    if digits > MAX_JSON_INT_DIGITS:
        raise ValueError(f"an integer of {digits} digits (at most {MAX_JSON_INT_DIGITS})")
    return int(text)


def _json_float(text):
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:40]!r} overflows a double")
    return value


def _json_constant(name):
    raise ValueError(f"{name} is not a JSON number")


def _json_object(pairs):
    out = {}
    for k, val in pairs:
        if k in out:
            raise ValueError(f"key {k!r} appears twice in one object")
        out[k] = val
    return out


def parse_json(data: bytes, what: str = "meta") -> Any:
    """Parse JSON bytes from a model file, bounded for hostile input.

    Parameters
    ----------
    data : bytes
        UTF-8 text.
    what : str
        The member's name, for the messages.

    Returns
    -------
    object
        The document; integers have at most ``MAX_JSON_INT_DIGITS`` digits,
        floats are finite, no NaN/Infinity, no duplicate keys, nesting at most
        ``MAX_JSON_DEPTH``.

    Raises
    ------
    ValueError
        Anything else.
    """
    try:
        text = bytes(data).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"header {what!r} is not UTF-8 text ({exc})") from None
    # Nesting from the brackets outside strings, before json (whose C parser
    # recurses) sees the text.
    bare = _JSON_STRING.sub('""', text).encode("utf-8", "surrogatepass")
    b = np.frombuffer(bare, dtype=np.uint8)
    if b.size:
        step = ((b == 0x5B) | (b == 0x7B)).astype(np.int32) - ((b == 0x5D) | (b == 0x7D))
        if int(np.cumsum(step).max()) > MAX_JSON_DEPTH:
            raise ValueError(f"header {what!r} is nested more than {MAX_JSON_DEPTH} levels deep")
    try:
        doc = json.loads(text, parse_int=_json_int, parse_float=_json_float,
                         parse_constant=_json_constant, object_pairs_hook=_json_object)
        # lone surrogates ("\ud800") decode, but are no text: refuse them here
        json.dumps(doc, ensure_ascii=False).encode("utf-8")
    except RecursionError:
        raise ValueError(f"header {what!r} is nested too deeply") from None
    except UnicodeEncodeError:
        raise ValueError(f"header {what!r} holds a string that is not valid Unicode") from None
    except ValueError as exc:
        raise ValueError(f"header {what!r} is not valid JSON ({exc})") from None
    return doc



class Tensors(dict):
    """A model file's arrays once a codec has read and checked them: a mapping
    of name to numpy.ndarray, each of the dtype and shape the header's layout
    gave, C-contiguous and owning its data."""
