"""Saving and loading models: a plain ``.npz`` archive, never a pickle.

Format (version 1): a zip archive, as ``np.savez`` writes it, with one
``.npy`` member per array:

``meta``
    the JSON header, UTF-8 bytes in a 1-D uint8 array: format name and
    version, architecture, loss, dtype, init, penalties, dropout, optimizer,
    ``optimizer_scalars`` ([step, beta_1**step, beta_2**step]) and the PCG64
    state of the network's Generator;
``W0``, ``b0``, ``W1``, ...
    weights (n_in, n_out) and biases (n_out,) in the network's dtype;
``optimizer_state``
    the optimizer's moments m then v, 2 * n_params values.

Loading trusts nothing in the file. Only regular files are opened (a FIFO or
a device would block or never end). The zip directory is checked before any
member is inflated: member count, names, compression method and flags, and
sizes (every member's inflated size must fit what the header announces, and
all of them together ``max_bytes``), so a zip bomb fails in milliseconds.
The ``.npy`` headers are parsed here, strictly, not evaluated; the JSON
header is bounded in size, nesting and number range; and every field is
checked, optimizer state included: it must be something training could have
produced. Anything else ends in a ValueError that names the member or field.

The steps are separate functions so that a network can be stored inside a
larger archive under a key prefix: :func:`open_archive`, :func:`read_header`,
:func:`read_array` and :func:`network_from_arrays` read;
:func:`network_to_arrays` and :func:`encode_header` write.

This module owns the checks for every way into a Network from outside:
:func:`open_regular` opens every model file (``.npz`` and ``.safetensors``),
:func:`parse_header` checks every header's format and version,
:func:`check_array_type` words every dtype or shape mismatch, and
:func:`network_from_arrays` checks and builds every network, whether its
arrays come from a file, from memory, from PyTorch (:func:`network_from_weights`)
or from scikit-learn.
"""
from __future__ import annotations

import json
import math
import os
import re
import stat
import struct
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, BinaryIO, overload

import numpy as np
from numpy.typing import DTypeLike, NDArray

from . import _files

if TYPE_CHECKING:
    from ._registry import Optimizer
    from .estimators import MLPClassifier, MLPRegressor
    from .network import Network

#: What a model file's path may be.
PathLike = str | bytes | os.PathLike[str] | os.PathLike[bytes]
#: An activation as a header or a Network takes it: a name, (name, slope), or a dict.
ActivationSpec = str | tuple[str, float] | list[Any] | dict[str, Any]
#: Where each array of a network is stored: key -> (dtype, shape).
Layout = dict[str, tuple[np.dtype[Any], tuple[int, ...]]]

FORMAT = "cyneuron-model"
#: The format version written. Version 2 adds the state digest (a SHA-256 over
#: the whole header and every array, cyneuron._digest); version-1 files, whose
#: digest covers the network's weights only, still load.
VERSION = 2
READ_VERSIONS = (1, 2)
#: A fitted scikit-learn estimator: its header holds the network's under
#: "network", and the network's arrays carry the prefix "network_".
ESTIMATOR_FORMAT = "cyneuron-estimator"
#: The key prefix of an estimator's network's arrays.
ESTIMATOR_PREFIX = "network_"

#: Default bound on the inflated size of all members together (``load``'s
#: ``max_bytes``); a model needs about 3 * n_params * itemsize (weights and
#: the optimizer's two moments).
MAX_BYTES = 1 << 31
#: The JSON header's size in bytes.
MAX_HEADER_BYTES = 1 << 20
#: Nesting of the JSON header (the deepest real one is 3: meta -> rng -> state).
MAX_JSON_DEPTH = 16
#: Digits of an integer in the JSON header: PCG64's 128-bit state has 39.
MAX_JSON_INT_DIGITS = 40
MAX_LAYERS = 10_000
MAX_WIDTH = 1 << 24
#: meta, optimizer_state and a W and b per layer, with room for a few more.
MAX_MEMBERS = 2 * MAX_LAYERS + 16
#: The zip directory itself (names and fixed fields of every member).
MAX_DIRECTORY_BYTES = 16 << 20
#: An .npy member's own header (NumPy writes 118 bytes for these arrays).
MAX_NPY_HEADER = 4096
_NPY_PREAMBLE = {(1, 0): ("<H", "latin1"), (2, 0): ("<I", "latin1"), (3, 0): ("<I", "utf8")}
_NPY_MAGIC = b"\x93NUMPY"

_HEADER_KEYS = ("format", "version", "layer_sizes", "activations", "loss", "dtype")
_OPTIONAL_KEYS = ("init", "l1", "l2", "dropout", "optimizer", "optimizer_scalars", "rng",
                  "reduction", "digest", "numerics", "state_digest")
_INITIAL_SCALARS = (0.0, 1.0, 1.0)
_MAX_STEP = 2 ** 53          # beyond it step + 1 == step in double precision

# What zipfile and zlib raise on damaged data. OSError and ValueError are here
# because a hostile directory makes zipfile seek to impossible offsets; these
# are caught only around calls into zipfile, never around our own checks.
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError,
               ValueError, NotImplementedError, RuntimeError, struct.error, OverflowError,
               IndexError, KeyError)


# --- (a) opening an archive safely ----------------------------------------------------------

def _path_label(path):
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


class _CappedFile:
    """A read-only view of a regular file that never reads past its size.

    zipfile reads the central directory with one ``read(size)`` whose size
    comes from the file; capping it at what is left keeps a lying directory
    from making it allocate more than the file holds.
    """

    def __init__(self, f, size):
        self._f, self._size = f, size

    def read(self, n=-1):
        left = max(0, self._size - self._f.tell())
        if n is None or n < 0 or n > left:
            n = left
        return self._f.read(n)

    def seek(self, offset, whence=0):
        return self._f.seek(offset, whence)

    def tell(self):
        return self._f.tell()

    def seekable(self):
        return True

    def close(self):
        self._f.close()


class Archive:
    """An opened model archive whose zip directory passed the checks.

    Made by :func:`open_archive`; use it as a context manager (or call
    :meth:`close`). ``members`` maps each member's file name to its
    ``zipfile.ZipInfo``, in directory order; ``max_bytes`` is the bound the
    directory was checked against, and bounds what a reader may allocate.
    """

    def __init__(self, label: str, file: BinaryIO, zf: zipfile.ZipFile,
                 members: dict[str, zipfile.ZipInfo], max_bytes: int) -> None:
        self.label = label
        self.members = members
        self.max_bytes = max_bytes
        self._file, self._zip = file, zf

    def info(self, key: str) -> zipfile.ZipInfo | None:
        """The ZipInfo of the array member `key` (file ``key + '.npy'``), or None."""
        return self.members.get(key + ".npy")

    def close(self) -> None:
        """Close the archive and its file."""
        try:
            self._zip.close()
        finally:
            self._file.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _check_eocd(f, size):
    """Check the member count and directory size the end record announces.

    Read before zipfile parses the directory: a directory of millions of
    entries would take minutes to parse. Archives whose end record is absent
    (or is a zip64 one) are left to zipfile, which reports them.
    """
    tail = min(size, 22 + 0xFFFF)
    f.seek(size - tail)
    data = f.read(tail)
    at = data.rfind(b"PK\x05\x06")
    if at < 0 or len(data) - at < 22:
        return
    entries, cd_size = struct.unpack_from("<HL", data, at + 10)
    if entries != 0xFFFF and entries > MAX_MEMBERS:
        raise ValueError(f"its zip directory lists {entries} members; a model file has at "
                         f"most {MAX_MEMBERS}")
    if cd_size != 0xFFFFFFFF and cd_size > MAX_DIRECTORY_BYTES:
        raise ValueError(f"its zip directory is {cd_size} bytes, more than the limit of "
                         f"{MAX_DIRECTORY_BYTES}")


def _check_directory(infos, file_size, max_bytes):
    """Member count, names, method, flags and sizes, from the directory alone."""
    if len(infos) > MAX_MEMBERS:
        raise ValueError(f"it has {len(infos)} members; a model file has at most "
                         f"{MAX_MEMBERS}")
    members, total = {}, 0
    for info in infos:
        name = info.filename
        if name in members:
            raise ValueError(f"member {name!r} appears more than once")
        if info.flag_bits & 0x41:
            raise ValueError(f"member {name!r} is encrypted")
        if info.flag_bits & 0x20:
            raise ValueError(f"member {name!r} has general-purpose flag bit 5 (patched data) "
                             f"set, which model files never use")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ValueError(f"member {name!r} uses compression method {info.compress_type}; "
                             f"model files are stored (0) or deflated (8)")
        if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
            raise ValueError(f"member {name!r} is stored uncompressed, but the directory "
                             f"gives it a size of {info.file_size} and a compressed size of "
                             f"{info.compress_size}")
        if info.compress_size > file_size:
            raise ValueError(f"member {name!r} has a compressed size of {info.compress_size} "
                             f"bytes, more than the whole file ({file_size})")
        if info.file_size > max_bytes:
            raise ValueError(f"member {name!r} inflates to {info.file_size} bytes, over the "
                             f"limit max_bytes={max_bytes}")
        total += info.file_size
        members[name] = info
    if total > max_bytes:
        raise ValueError(f"its members inflate to {total} bytes in all, over the limit "
                         f"max_bytes={max_bytes}")
    return members


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


def _open_archive(path, max_bytes):
    """open_archive without the file name in the messages (load adds it)."""
    check_max_bytes(max_bytes)
    label = _path_label(path)
    f, size = open_regular(path)
    try:
        head = f.read(8)
        if head[:4] not in (b"PK\x03\x04", b"PK\x05\x06"):
            what = " (it is a single .npy array)" if head.startswith(_NPY_MAGIC) else ""
            raise ValueError(f"not a zip (.npz) archive{what}")
        _check_eocd(f, size)
        capped = _CappedFile(f, size)
        try:
            zf = zipfile.ZipFile(capped)
            infos = zf.infolist()
        except NotImplementedError as exc:
            raise ValueError(f"its zip directory asks for a feature this reader does not "
                             f"support ({exc}); not an archive cyneuron writes") \
                from None
        except _ZIP_ERRORS as exc:
            raise ValueError(f"not a zip (.npz) archive, or its zip directory is damaged "
                             f"({type(exc).__name__}: {exc})") from None
        try:
            members = _check_directory(infos, size, max_bytes)
        except BaseException:
            zf.close()
            raise
    except BaseException:
        f.close()
        raise
    return Archive(label, f, zf, members, max_bytes)


def open_archive(path: PathLike, *, max_bytes: int = MAX_BYTES) -> Archive:
    """Open a zip (.npz) archive for reading, after checking its directory.

    Parameters
    ----------
    path : str, bytes or os.PathLike
        A regular file; FIFOs, devices and directories are refused without
        being opened for reading.
    max_bytes : int
        Bound on the inflated size of every member and of all of them
        together, read from the zip directory before anything is inflated.

    Returns
    -------
    Archive
        Close it (or use ``with``) when done.

    Raises
    ------
    FileNotFoundError, PermissionError
        From the operating system.
    ValueError
        Not a regular file, not a zip archive, a damaged or hostile zip
        directory (too many members, duplicate names, encryption, a method
        other than stored/deflate, sizes over ``max_bytes``).
    TypeError
        `path` or `max_bytes` of the wrong type.
    """
    label = _path_label(path)
    try:
        return _open_archive(path, max_bytes)
    except ValueError as exc:
        raise ValueError(f"{label}: {exc}") from None


# --- (c) one array member -----------------------------------------------------------------

_SHAPE = r"\(\s*(|\d{1,18}\s*,|\d{1,18}(?:\s*,\s*\d{1,18})+\s*,?)\s*\)"
# The dict NumPy writes (keys in its sorted order); parsed, never evaluated.
_NPY_HEADER_RE = re.compile(
    r"\{\s*'descr'\s*:\s*'([^'\\]{1,32})'\s*,"
    r"\s*'fortran_order'\s*:\s*(True|False)\s*,"
    r"\s*'shape'\s*:\s*" + _SHAPE + r"\s*,?\s*\}\s*")


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


def _zip_call(key, fn, *args):
    """Call into zipfile, reporting its errors as a damaged member `key`."""
    try:
        return fn(*args)
    except _ZIP_ERRORS as exc:
        raise ValueError(f"member {key!r} is damaged ({type(exc).__name__}: {exc})") from None


def _read_exact(fp, n, key, what):
    data = bytearray()
    while len(data) < n:
        chunk = _zip_call(key, fp.read, n - len(data))
        if not chunk:
            raise ValueError(f"member {key!r} ends inside its {what}")
        data += chunk
    return bytes(data)


def _read_npy_header(fp, key):
    """(descr, fortran_order, shape, header length) of the .npy member open in `fp`."""
    magic = _read_exact(fp, 8, key, ".npy magic")
    if magic[:6] != _NPY_MAGIC:
        raise ValueError(f"member {key!r} is not a .npy array (no .npy magic)")
    version = (magic[6], magic[7])
    if version not in _NPY_PREAMBLE:
        raise ValueError(f"member {key!r} has .npy format version {version[0]}.{version[1]}; "
                         f"versions 1.0, 2.0 and 3.0 are read")
    fmt, encoding = _NPY_PREAMBLE[version]
    (hlen,) = struct.unpack(fmt, _read_exact(fp, struct.calcsize(fmt), key, ".npy header"))
    if hlen > MAX_NPY_HEADER:
        raise ValueError(f"member {key!r} has an .npy header of {hlen} bytes, over the limit "
                         f"of {MAX_NPY_HEADER}")
    raw = _read_exact(fp, hlen, key, ".npy header")
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        raise ValueError(f"member {key!r} has an .npy header that is not {encoding} text") \
            from None
    m = _NPY_HEADER_RE.fullmatch(text)
    if m is None:
        raise ValueError(f"member {key!r} has a malformed .npy header {text[:120]!r}")
    descr, fortran, shape = m.groups()
    dims = tuple(int(d) for d in re.findall(r"\d+", shape))
    return descr, fortran == "True", dims, 8 + struct.calcsize(fmt) + hlen


def _expected_size(key, info, dtype, shape, max_items):
    """Check a member's inflated size (from the directory) against its shape."""
    if shape is not None:
        data = math.prod(shape) * dtype.itemsize
        lo, hi = data + 10, data + MAX_NPY_HEADER + 12
        what = f"a {dtype.name} array of shape {tuple(shape)} takes {data} bytes"
    else:
        lo, hi = 10, max_items * dtype.itemsize + MAX_NPY_HEADER + 12
        what = f"the limit is {max_items * dtype.itemsize} bytes"
    if not lo <= info.file_size <= hi:
        raise ValueError(f"member {key!r} inflates to {info.file_size} bytes, but {what} "
                         f"(plus an .npy header of at most {MAX_NPY_HEADER} bytes)")


def read_array(archive: Archive, key: str, dtype: DTypeLike,
               shape: Sequence[int] | None = None, *, max_items: int | None = None
               ) -> NDArray[Any]:
    """Read the array member `key` of `archive`, checking it before it is inflated.

    Parameters
    ----------
    archive : Archive
        From :func:`open_archive`.
    key : str
        The member's name without ``.npy`` (``"W0"``, or ``prefix + "W0"``).
    dtype : numpy dtype
        The only dtype accepted (native byte order, as ``np.save`` writes it).
    shape : tuple of int, optional
        The only shape accepted; None accepts any 1-D array of at most
        `max_items` elements.
    max_items : int, optional
        With ``shape=None``, the largest length accepted.

    Returns
    -------
    numpy.ndarray
        A C-contiguous array owning its data.

    Raises
    ------
    ValueError
        The member is missing, is not a .npy array, or its size, dtype or
        shape is not the expected one (the size is checked from the zip
        directory before anything is inflated), or its data is damaged.
    """
    dtype = np.dtype(dtype)
    if shape is None and max_items is None:
        raise TypeError("read_array needs a shape or max_items")
    info = archive.info(key)
    if info is None:
        raise ValueError(f"missing array {key!r}")
    _expected_size(key, info, dtype, shape, max_items)
    fp = _zip_call(key, archive._zip.open, info)
    try:
        descr, fortran, dims, header = _read_npy_header(fp, key)
        check_array_type(key, descr, dims, dtype.str, shape)
        if shape is None and (len(dims) != 1 or dims[0] > max_items):
            raise ValueError(f"array {key!r} has shape {dims}, expected 1-D with at most "
                             f"{max_items} elements")
        n = math.prod(dims)
        if header + n * dtype.itemsize != info.file_size:
            raise ValueError(f"member {key!r} inflates to {info.file_size} bytes, but its "
                             f".npy header announces {header + n * dtype.itemsize}")
        out = np.empty(n, dtype=dtype)
        view = out.data.cast("B")
        done = 0
        while done < view.nbytes:
            got = _zip_call(key, fp.readinto, view[done:])
            if not got:
                raise ValueError(f"member {key!r} ends inside its data")
            done += got
        # one more read: reaching the end is where zipfile checks the CRC
        if _zip_call(key, fp.read, 1):
            raise ValueError(f"member {key!r} holds more than its .npy header announces")
    finally:
        fp.close()
    if fortran and len(dims) > 1:
        return np.ascontiguousarray(out.reshape(dims[::-1]).T)
    return out.reshape(dims)


# --- (b) the JSON header ------------------------------------------------------------------

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
    info = archive.info(key)
    if info is None:
        raise ValueError(f"missing {key!r} header")
    raw = read_array(archive, key, np.uint8, max_items=MAX_HEADER_BYTES)
    return parse_header(raw.tobytes(), key, formats)


def parse_header(data: bytes, key: str = "meta",
                 formats: tuple[str, ...] = (FORMAT,)) -> dict[str, Any]:
    """Parse a model file's JSON header and check its format name and version.

    Parameters
    ----------
    data : bytes
        The header's UTF-8 text (bounded by :func:`parse_json`).
    key : str
        The header's name in the file, for the messages.
    formats : tuple of str
        The format names accepted.

    Returns
    -------
    dict

    Raises
    ------
    ValueError
        Not JSON, not an object, another format, or an unsupported version.
    """
    meta = parse_json(data, key)
    if not isinstance(meta, dict):
        raise ValueError(f"header {key!r} is not a JSON object")
    if meta.get("format") not in formats:
        raise ValueError(f"not a cyneuron model (header {key!r} has format "
                         f"{meta.get('format')!r:.60})")
    version = meta.get("version")
    if type(version) is not int or version not in READ_VERSIONS:
        raise ValueError(f"unsupported format version {version!r:.60} (this cyneuron reads "
                         f"versions {', '.join(map(str, READ_VERSIONS))})")
    return meta


def encode_header(meta: Mapping[str, Any]) -> NDArray[np.uint8]:
    """The JSON header `meta` as the uint8 array stored in the ``meta`` member."""
    text = json.dumps(meta, allow_nan=False)
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


# --- (d) a network's header and arrays --------------------------------------------------------

def _is_int(x):
    return isinstance(x, int) and not isinstance(x, bool)


def _is_number(x):
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return False
    return abs(x) < 1e308 if isinstance(x, int) else math.isfinite(x)


def _check_rng_state(state):
    """A PCG64 state as NumPy's bit_generator.state gives it."""
    if not isinstance(state, dict) or set(state) != {"bit_generator", "state", "has_uint32",
                                                      "uinteger"}:
        raise ValueError("bad 'rng' state: expected the keys bit_generator, state, "
                         "has_uint32, uinteger")
    if state["bit_generator"] != "PCG64":
        raise ValueError(f"bad 'rng' state: bit_generator {state['bit_generator']!r:.40}, "
                         f"expected 'PCG64'")
    inner = state["state"]
    if not isinstance(inner, dict) or set(inner) != {"state", "inc"}:
        raise ValueError("bad 'rng' state: 'state' must hold 'state' and 'inc'")
    s, inc = inner["state"], inner["inc"]
    if not (_is_int(s) and 0 <= s < 2 ** 128):
        raise ValueError("bad 'rng' state: state.state must be an integer in [0, 2**128)")
    # PCG64's increment is always odd (NumPy sets its low bit)
    if not (_is_int(inc) and 0 < inc < 2 ** 128 and inc % 2 == 1):
        raise ValueError("bad 'rng' state: state.inc must be an odd integer in (0, 2**128)")
    if state["has_uint32"] not in (0, 1) or not _is_int(state["has_uint32"]):
        raise ValueError("bad 'rng' state: has_uint32 must be 0 or 1")
    if not (_is_int(state["uinteger"]) and 0 <= state["uinteger"] < 2 ** 32):
        raise ValueError("bad 'rng' state: uinteger must be an integer in [0, 2**32)")


def _check_activation_spec(i, spec):
    ok = isinstance(spec, str)
    if isinstance(spec, list):
        ok = len(spec) == 2 and isinstance(spec[0], str) and _is_number(spec[1])
    if isinstance(spec, dict):
        ok = (set(spec) <= {"name", "alpha"} and isinstance(spec.get("name"), str)
              and ("alpha" not in spec or _is_number(spec["alpha"])))
    if not ok:
        raise ValueError(f"bad 'activations'[{i}]: expected a name, [name, slope] or "
                         f"{{\"name\": ..., \"alpha\": ...}}, got {spec!r:.80}")


def _check_meta(meta):
    """Check a network header's fields; returns them normalised (a dict).

    Types and ranges are checked here; the names (activations, loss, init,
    optimizer and its hyperparameters) by the registry and Network, with the
    same rules as for a network built in code.
    """
    from . import _registry as registry

    if not isinstance(meta, dict):
        raise ValueError(f"the header must be a dict, got {type(meta).__name__}")
    missing = [k for k in _HEADER_KEYS if k not in meta]
    if missing:
        raise ValueError(f"header lacks the field(s) {', '.join(missing)}")
    unknown = sorted(str(k) for k in meta if k not in _HEADER_KEYS + _OPTIONAL_KEYS)
    if unknown:
        raise ValueError(f"header has unknown field(s) {', '.join(unknown)[:200]}")
    if meta["format"] != FORMAT:
        raise ValueError(f"not a cyneuron model (format {meta['format']!r:.60})")
    if not _is_int(meta["version"]) or meta["version"] not in READ_VERSIONS:
        raise ValueError(f"unsupported format version {meta['version']!r:.60}")
    sizes = meta["layer_sizes"]
    if (not isinstance(sizes, list) or not 2 <= len(sizes) <= MAX_LAYERS + 1
            or not all(_is_int(s) and 1 <= s <= MAX_WIDTH for s in sizes)):
        raise ValueError(f"bad 'layer_sizes': expected a list of 2 to {MAX_LAYERS + 1} "
                         f"integers in [1, {MAX_WIDTH}]")
    acts = meta["activations"]
    if not isinstance(acts, list) or len(acts) != len(sizes) - 1:
        raise ValueError(f"bad 'activations': expected a list of {len(sizes) - 1} entries")
    for i, spec in enumerate(acts):
        _check_activation_spec(i, spec)
    if not isinstance(meta["loss"], str):
        raise ValueError("bad 'loss': expected a name")
    dtype = meta["dtype"]
    if dtype not in ("float64", "float32"):
        raise ValueError(f"bad dtype {dtype!r:.60}: expected 'float64' or 'float32'")
    init = meta.get("init", "uniform")
    if not isinstance(init, str):
        raise ValueError("bad 'init': expected a name")
    l1, l2 = meta.get("l1", 0.0), meta.get("l2", 0.0)
    for name, val in (("l1", l1), ("l2", l2)):
        if not _is_number(val):
            raise ValueError(f"bad {name!r}: expected a finite number")
    dropout = meta.get("dropout", 0.0)
    if not (_is_number(dropout) or (isinstance(dropout, list)
                                    and all(_is_number(r) for r in dropout))):
        raise ValueError("bad 'dropout': expected a number or a list of numbers")
    opt = meta.get("optimizer")
    optimizer = None
    if opt is not None:
        if (not isinstance(opt, dict) or set(opt) != {"name", "params"}
                or not isinstance(opt["name"], str) or not isinstance(opt["params"], dict)
                or not all(isinstance(v, bool) or _is_number(v) for v in opt["params"].values())):
            raise ValueError("bad 'optimizer': expected {\"name\": ..., \"params\": {...}} "
                             "with numbers (or true/false) as hyperparameters")
        try:
            optimizer = registry.optimizer(opt["name"], **opt["params"])
        except (TypeError, ValueError, OverflowError) as exc:
            raise ValueError(f"bad 'optimizer': {exc}") from None
    scalars = meta.get("optimizer_scalars", list(_INITIAL_SCALARS))
    if (not isinstance(scalars, list) or len(scalars) != 3
            or not all(_is_number(x) for x in scalars)):
        raise ValueError("bad 'optimizer_scalars': expected a list of 3 numbers "
                         "[step, beta_1**step, beta_2**step]")
    rng = meta.get("rng")
    if rng is not None:
        _check_rng_state(rng)
    reduction = meta.get("reduction", "sum_over_batch_size")
    if not isinstance(reduction, str):
        raise ValueError("bad 'reduction': expected a name")
    numerics = meta.get("numerics", "numpy")
    if not isinstance(numerics, str):
        raise ValueError("bad 'numerics': expected a name")
    return {"reduction": reduction, "numerics": numerics, "sizes": sizes, "activations": acts,
            "loss": meta["loss"],
            "dtype": np.dtype(dtype), "init": init, "l1": l1, "l2": l2, "dropout": dropout,
            "optimizer": optimizer, "scalars": [float(x) for x in scalars], "rng": rng}


def model_layout(meta: Mapping[str, Any], prefix: str = "") -> Layout:
    """The arrays the network described by `meta` is stored in.

    Parameters
    ----------
    meta : dict
        A network header (checked here).
    prefix : str
        The key prefix of the network's members.

    Returns
    -------
    dict
        ``{key: (dtype, shape)}`` for ``W0``, ``b0``, ... and
        ``optimizer_state``, keys with the prefix, in file order.
    """
    spec = _check_meta(meta)
    return _layout(spec, prefix)


def stored_layout(meta: Mapping[str, Any]) -> Layout:
    """Every array a model file with top-level header `meta` may hold.

    Parameters
    ----------
    meta : dict
        A network's header, or an estimator's (whose network's arrays carry
        the prefix ``network_``, and which may hold ``best_params``).

    Returns
    -------
    dict
        ``{name: (dtype, shape)}``; the header itself is not listed.
    """
    if meta.get("format") == ESTIMATOR_FORMAT:
        net = meta.get("network")
        if not isinstance(net, dict):
            raise ValueError("bad 'network': expected the network's header")
        layout = model_layout(net, ESTIMATOR_PREFIX)
        dtype, (twice,) = layout[ESTIMATOR_PREFIX + "optimizer_state"]
        layout["best_params"] = (dtype, (twice // 2,))
        return layout
    return model_layout(meta)


class Tensors(dict):
    """A model file's arrays once a codec has read and checked them: a mapping
    of name to numpy.ndarray, with ``members`` named as an archive lists them."""

    @property
    def members(self) -> list[str]:
        """The header and every array, as ``.npy`` member names."""
        return ["meta.npy"] + [k + ".npy" for k in self]


def _layout(spec: dict[str, Any], prefix: str) -> Layout:
    sizes, dtype = spec["sizes"], spec["dtype"]
    n_params = sum(k * m + m for k, m in zip(sizes[:-1], sizes[1:]))
    out: Layout = {prefix + "optimizer_state": (dtype, (2 * n_params,))}
    for l, (k, m) in enumerate(zip(sizes[:-1], sizes[1:])):
        out[f"{prefix}W{l}"] = (dtype, (k, m))
        out[f"{prefix}b{l}"] = (dtype, (m,))
    return out


def _power_is_consistent(power, beta, step):
    """Could `power` be beta**step as the core keeps it (one rounded product per step)?

    Each step multiplies by beta with one rounding, so in the normal range the
    product is beta**step * (1 + d) with (1 - u)**step <= 1 + d <= (1 + u)**step,
    u = 2**-53; a few more u cover pow() and the bounds' own rounding. Below
    2**-1000 (through the subnormals) only an absolute bound holds, and such a
    power no longer changes the step size (1 - power == 1).
    """
    if not 0.0 <= power <= 1.0:
        return False
    u = 2.0 ** -53
    expected = beta ** step
    lo = expected * math.exp(step * math.log1p(-u)) * (1 - 8 * u)
    hi = expected * math.exp(step * math.log1p(u)) * (1 + 8 * u)
    slack = 2.0 ** -1000
    return lo - slack <= power <= hi + slack


def check_optimizer_state(optimizer: Optimizer | None, state: NDArray[np.floating[Any]],
                          scalars: Sequence[float], n_params: int) -> None:
    """Refuse optimizer state that training could not have produced.

    Parameters
    ----------
    optimizer : cyneuron._registry.Optimizer or None
    state : numpy.ndarray
        The moments m then v, ``2 * n_params`` finite values.
    scalars : sequence of 3 floats
        [step, beta_1**step, beta_2**step].
    n_params : int

    Raises
    ------
    ValueError
        Second moments below zero, a half the optimizer never writes that is
        not zero, a step count that is not a non-negative integer (below
        2**53), beta powers that do not match the step count and the betas,
        or scalars other than [0, 1, 1] for an optimizer that counts no steps.
    """
    name = None if optimizer is None else optimizer.name
    m, v = state[:n_params], state[n_params:]
    step, b1p, b2p = scalars
    if name in ("rmsprop", "adam"):
        bad = np.flatnonzero(v < 0)
        if bad.size:
            raise ValueError(f"optimizer_state: negative second moment v[{bad[0]}] = "
                             f"{v[bad[0]]!r} ({name} keeps averages of squared gradients, "
                             f">= 0)")
    unused = {None: ("m", "v"), "sgd": ("m", "v"), "momentum": ("v",), "rmsprop": ("m",),
              "adam": ()}[name]
    for half in unused:
        values = m if half == "m" else v
        if values.any():
            raise ValueError(f"optimizer_state: the {half} half is not zero, but "
                             f"{name or 'a network without an optimizer'} never writes it")
    if optimizer is None or name != "adam":
        if (step, b1p, b2p) != _INITIAL_SCALARS:
            raise ValueError(f"optimizer_scalars {list(scalars)} for "
                             f"{name or 'no optimizer'}: only adam counts steps, "
                             f"expected [0, 1, 1]")
        return
    if not (0 <= step <= _MAX_STEP and step == int(step)):
        raise ValueError(f"optimizer_scalars: the step count {step!r} is not a non-negative "
                         f"integer (at most 2**53)")
    if step == 0:
        if (b1p, b2p) != (1.0, 1.0):
            raise ValueError(f"optimizer_scalars: beta powers at step 0 must be 1, got "
                             f"{b1p!r}, {b2p!r}")
        if state.any():
            raise ValueError("optimizer_state: adam's moments must be zero at step 0")
        return
    for power, key in ((b1p, "beta_1"), (b2p, "beta_2")):
        beta = optimizer.params[key]
        if not _power_is_consistent(power, beta, step):
            raise ValueError(f"optimizer_scalars: {key}**step = {power!r} does not match "
                             f"{key} = {beta!r} after {int(step)} steps (about "
                             f"{beta ** step!r})")


def _mapping_reader(arrays):
    def get(key, dtype, shape):
        arr = arrays.get(key)
        if arr is None:
            return None
        if not isinstance(arr, np.ndarray):
            raise ValueError(f"array {key!r} is a {type(arr).__name__}, not a NumPy array")
        check_array_type(key, str(arr.dtype), arr.shape, str(dtype), shape)
        return arr
    return get


def _archive_reader(archive, layout):
    # Every member's size is checked from the directory before the first one
    # is inflated.
    for key, (dtype, shape) in layout.items():
        info = archive.info(key)
        if info is not None:
            _expected_size(key, info, dtype, shape, None)

    def get(key, dtype, shape):
        if archive.info(key) is None:
            return None
        return read_array(archive, key, dtype, shape)
    return get


def _read_state(spec, layout, get, prefix):
    """(weights, optimizer state) from `get`, checked; state None if absent."""
    weights = []
    for l in range(len(spec["sizes"]) - 1):
        pair = []
        for key in (f"{prefix}W{l}", f"{prefix}b{l}"):
            arr = get(key, *layout[key])
            if arr is None:
                raise ValueError(f"missing array {key!r}")
            if not np.isfinite(arr).all():
                raise ValueError(f"array {key!r} contains NaN or infinity")
            pair.append(arr)
        weights.append(tuple(pair))
    key = prefix + "optimizer_state"
    state = get(key, *layout[key])
    if state is None:
        if spec["optimizer"] is not None:
            raise ValueError(f"missing array {key!r} (the header names optimizer "
                             f"{spec['optimizer'].name!r})")
        state = np.zeros(layout[key][1], dtype=spec["dtype"])
    if not np.isfinite(state).all():
        raise ValueError(f"array {key!r} contains NaN or infinity")
    check_optimizer_state(spec["optimizer"], state, spec["scalars"], layout[key][1][0] // 2)
    return weights, state


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
        checked from the zip directory before any is read), or a mapping of
        key to numpy.ndarray.
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
    from .network import Network

    spec = _check_meta(meta)
    layout = _layout(spec, prefix)
    if isinstance(arrays, Archive):
        get = _archive_reader(arrays, layout)
        limit = arrays.max_bytes
    elif isinstance(arrays, Mapping):
        get = _mapping_reader(arrays)
        limit = None
    else:
        raise TypeError(f"arrays must be an Archive or a mapping, got {type(arrays).__name__}")
    n_params = layout[prefix + "optimizer_state"][1][0] // 2
    # the Network holds the weights and both moments: bound it before allocating
    need = 3 * n_params * spec["dtype"].itemsize
    if limit is not None and need > limit:
        raise ValueError(f"the model in the header needs {need} bytes, over the limit "
                         f"max_bytes={limit}")
    try:
        net = Network(spec["sizes"], activation=spec["activations"], loss=spec["loss"],
                      dtype=spec["dtype"].name, backend=backend, init=spec["init"],
                      l1=spec["l1"], l2=spec["l2"], dropout=spec["dropout"],
                      reduction=spec["reduction"], numerics=spec["numerics"])
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValueError(str(exc)) from None
    weights, state = _read_state(spec, layout, get, prefix)
    net.set_weights(weights)
    from ._digest import check_stored
    check_stored(meta.get("digest"), net)
    if spec["optimizer"] is not None:
        net._use_optimizer(spec["optimizer"].name, spec["optimizer"].params)
    net._opt_state[...] = state
    net._opt_scalars[...] = spec["scalars"]
    if spec["rng"] is not None:
        bitgen = np.random.PCG64()
        try:
            bitgen.state = spec["rng"]
        except (TypeError, ValueError, KeyError, OverflowError) as exc:
            raise ValueError(f"bad 'rng' state ({exc})") from None
        net.rng = np.random.Generator(bitgen)
    return net


def network_from_weights(layer_sizes: Sequence[int], activations: Sequence[ActivationSpec],
                         loss: str, dtype: str, weights: Sequence[tuple[NDArray, NDArray]],
                         *, backend: str = "cython") -> Network:
    """A Network from an architecture and weights that come from elsewhere.

    The architecture is written as a model file's header and the weights as
    its arrays, and :func:`network_from_arrays` checks and builds them: a
    network converted from another library passes the checks a loaded one
    does (architecture limits, names, dtypes, shapes, finite values), with
    the same messages.

    Parameters
    ----------
    layer_sizes : sequence of int
    activations : sequence of str, (name, slope) or dict
        One per layer.
    loss : str
    dtype : {"float64", "float32"}
    weights : sequence of (W, b) numpy.ndarray pairs
        ``W`` (n_in, n_out) and ``b`` (n_out,), each exactly of `dtype`.
    backend : {"cython", "numpy"}

    Returns
    -------
    Network
        Without an optimizer; the arrays are copied.

    Raises
    ------
    ValueError
        Anything :func:`network_from_arrays` refuses.
    """
    meta = {"format": FORMAT, "version": VERSION, "layer_sizes": list(layer_sizes),
            "activations": [list(a) if isinstance(a, tuple) else a for a in activations],
            "loss": loss, "dtype": dtype}
    arrays: dict[str, object] = {}
    for l, (W, b) in enumerate(weights):
        arrays[f"W{l}"], arrays[f"b{l}"] = W, b
    return network_from_arrays(meta, arrays, backend=backend)


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
        ``{prefix + "optimizer_state": ..., prefix + "W0": ..., ...}``; the
        weight arrays are views of the network's parameters.

    Raises
    ------
    ValueError
        Weights or optimizer state that are not finite, or optimizer state
        that a load would refuse: nothing is returned that could not be read
        back.
    """
    from .network import Network

    if not isinstance(network, Network):
        raise TypeError(f"network must be a cyneuron Network, got {type(network).__name__}")
    opt = network.optimizer
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "layer_sizes": list(network.layer_sizes),
        "activations": [a.spec for a in network.activations],
        "loss": network.loss.name,
        "dtype": network.dtype.name,
        "init": network.init,
        "l1": network.l1,
        "l2": network.l2,
        "dropout": list(network.dropout[:-1]),
        "reduction": network.reduction,
        "numerics": network.numerics,
        "optimizer": None if opt is None else {"name": opt.name, "params": dict(opt.params)},
        "optimizer_scalars": [float(x) for x in network._opt_scalars],
        # the Generator's position, so that shuffling and dropout resume exactly
        "rng": (network.rng.bit_generator.state
                if isinstance(network.rng.bit_generator, np.random.PCG64) else None),
        # SHA-256 of architecture, dtype and weights (cyneuron._digest); load checks it
        "digest": network.digest(),
    }
    arrays = {prefix + "optimizer_state": network._opt_state}
    for l, (W, b) in enumerate(network._layers):
        arrays[f"{prefix}W{l}"] = W
        arrays[f"{prefix}b{l}"] = b
    spec = _check_meta(meta)
    _read_state(spec, _layout(spec, prefix), _mapping_reader(arrays), prefix)
    return meta, arrays


# --- the model file -----------------------------------------------------------------------

def _network_snapshot(network, prefix=""):
    """network_to_arrays with copies: what is written cannot change under a
    concurrent fit once this returns (run it under the network's guard)."""
    meta, arrays = network_to_arrays(network, prefix)
    return meta, {k: np.array(a) for k, a in arrays.items()}


@overload
def model_path(path: str | os.PathLike[str]) -> str: ...
@overload
def model_path(path: bytes | os.PathLike[bytes]) -> bytes: ...
def model_path(path: PathLike) -> str | bytes:
    """The path :func:`save` writes for `path`: a ``.safetensors`` path as it is,
    any other with the ``.npz`` suffix added if missing."""
    p = os.fspath(path)
    from . import _safetensors_io
    if _safetensors_io.is_safetensors(p):
        return p
    if isinstance(p, bytes):
        return p if p.endswith(b".npz") else p + b".npz"
    return p if p.endswith(".npz") else p + ".npz"


@overload
def save(network: Network | MLPClassifier | MLPRegressor, path: str | os.PathLike[str]
         ) -> str: ...
@overload
def save(network: Network | MLPClassifier | MLPRegressor, path: bytes | os.PathLike[bytes]
         ) -> bytes: ...
def save(network: Network | MLPClassifier | MLPRegressor, path: PathLike) -> str | bytes:
    """Write `network` (or a fitted MLPClassifier / MLPRegressor) to a model file.

    Parameters
    ----------
    network : Network, MLPClassifier or MLPRegressor
    path : str, bytes or os.PathLike
        A ``.safetensors`` path writes the safetensors format (needs
        ``pip install 'cyneuron[safetensors]'``; see
        ``cyneuron._safetensors_io``); otherwise the ``.npz`` suffix is added
        if missing.

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
    from .network import Network
    # refused before the suffix is added: "" and "dir/" would become ".npz" and "dir/.npz"
    _files.check_target(path)
    path = _files.check_target(model_path(path))
    try:
        if isinstance(network, Network):
            meta, arrays = network._guard.read(_network_snapshot, network)
        elif type(network).__module__ == "cyneuron.estimators":
            from ._estimator_io import estimator_to_arrays
            meta, arrays = estimator_to_arrays(network)
        else:
            raise TypeError(f"save takes a cyneuron Network, MLPClassifier or MLPRegressor, "
                            f"got {type(network).__name__}")
    except ValueError as exc:
        raise ValueError(f"cannot save the {type(network).__name__}: {exc}") from None
    from ._digest import STATE_KEY, state_digest
    meta = {**meta, STATE_KEY: state_digest(meta, arrays)}
    from . import _safetensors_io
    if _safetensors_io.is_safetensors(path):
        _safetensors_io.write(path, meta, arrays)
        return path
    header = encode_header(meta)
    with _files.atomic_write(path) as f:
        # a file object: np.savez neither adds a suffix nor opens (truncates) the target
        np.savez(f, meta=header, **arrays)
    return path


def load(path: PathLike, backend: str = "cython", *, max_bytes: int = MAX_BYTES
         ) -> Network | MLPClassifier | MLPRegressor:
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

    Returns
    -------
    Network, MLPClassifier or MLPRegressor
        What was saved (an estimator needs scikit-learn to be loaded).

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
    from .network import check_backend

    label = _path_label(path)
    check_backend(backend)
    try:
        from . import _safetensors_io
        if _safetensors_io.is_safetensors(path):
            meta, arrays = _safetensors_io.read(path, max_bytes=max_bytes)
        else:
            meta, arrays = read_npz(path, max_bytes=max_bytes)
        return model_from_state(meta, arrays, backend)
    except ValueError as exc:
        raise ValueError(f"{label} is not a valid cyneuron model file: {exc}") from None


def read_npz(path: PathLike, *, max_bytes: int = MAX_BYTES) -> tuple[dict[str, Any], Tensors]:
    """The header and arrays of an ``.npz`` model file, each checked as a codec
    can check it (sizes from the zip directory first, then names, dtypes and
    shapes against the header's layout); nothing is built from them.

    Raises
    ------
    ValueError
        Anything malformed, oversized or unexpected; the message names the member.
    """
    with _open_archive(path, max_bytes) as archive:
        meta = read_header(archive, formats=(FORMAT, ESTIMATOR_FORMAT))
        layout = stored_layout(meta)
        for name in archive.members:
            if not (name.endswith(".npy") and name[:-4] in set(layout) | {"meta"}):
                raise ValueError(f"unexpected member {name!r:.80}")
        present = {k: v for k, v in layout.items() if archive.info(k) is not None}
        # every member's size from the directory before the first is inflated
        for key, (dtype, shape) in present.items():
            _expected_size(key, archive.info(key), dtype, shape, None)
        arrays = Tensors()
        for key, (dtype, shape) in present.items():
            arrays[key] = read_array(archive, key, dtype, shape)
    return meta, arrays


def model_from_state(meta: dict[str, Any], arrays: Tensors, backend: str = "cython"
                     ) -> Network | MLPClassifier | MLPRegressor:
    """The model a file's header and arrays describe (the schema's one way in).

    The state digest is checked first (:func:`cyneuron._digest.check_state`),
    then every field as :func:`network_from_arrays` and the estimator reader
    check them.

    Raises
    ------
    ValueError
        A changed or damaged file, or any field that is malformed or impossible.
    """
    from ._digest import check_state
    check_state(meta, arrays)
    if meta.get("format") == ESTIMATOR_FORMAT:
        from ._estimator_io import estimator_from_archive
        try:
            return estimator_from_archive(meta, arrays, backend)
        except TypeError as exc:     # a field of the wrong type, anywhere
            raise ValueError(str(exc)) from None
    return network_from_arrays(meta, arrays, backend=backend)
