"""The ``.npz`` codec: a JSON header and named arrays in a zip of ``.npy`` members.

It knows no model. Writing: :func:`write` stores a header (a dict, as JSON
in the uint8 member ``meta``) and a name -> array mapping as ``np.savez``
does, through cyneuron's atomic writer. Reading trusts nothing in the file:

* only regular files are opened (:func:`cyneuron._codec.open_regular`);
* the zip directory is checked before any member is inflated: member count,
  names, compression method and flags, and sizes (every member's inflated
  size must fit what the directory announces, and all of them together
  ``max_bytes``), so a zip bomb fails in milliseconds (:func:`open_archive`);
* the ``.npy`` headers are parsed here, strictly, not evaluated, and each
  member's size, dtype and shape are checked before its data is read
  (:func:`read_array`);
* the JSON header is bounded (:func:`cyneuron._codec.parse_json`).

:func:`read` reads a whole model file: the header's bytes go to a
:data:`cyneuron._codec.HeaderCheck` (the model-state schema's), which answers
with the checked header and the arrays it announces; any other member is
refused, and every announced member's size is checked from the directory
before the first is inflated. Anything else ends in a ValueError that names
the member. The steps are separate so that a file may hold more than one
model (:func:`open_archive`, :func:`header_bytes`, :func:`read_array`).
"""
from __future__ import annotations

import json
import math
import re
import struct
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from typing import Any, BinaryIO

import numpy as np
from numpy.typing import DTypeLike, NDArray

from . import _files
from ._codec import (
    MAX_BYTES,
    MAX_HEADER_BYTES,
    HeaderCheck,
    PathLike,
    Tensors,
    check_array_type,
    check_max_bytes,
    open_regular,
    path_label,
)

#: Members of one archive: a file of the schema's largest network (10,000
#: layers, a W and a b each) with its header and optimizer state, and room
#: for a few more.
MAX_MEMBERS = 20_016
#: The zip directory itself (names and fixed fields of every member).
MAX_DIRECTORY_BYTES = 16 << 20
#: An .npy member's own header (NumPy writes 118 bytes for these arrays).
MAX_NPY_HEADER = 4096
_NPY_PREAMBLE = {(1, 0): ("<H", "latin1"), (2, 0): ("<I", "latin1"), (3, 0): ("<I", "utf8")}
_NPY_MAGIC = b"\x93NUMPY"


# What zipfile and zlib raise on damaged data. OSError and ValueError are here
# because a hostile directory makes zipfile seek to impossible offsets; these
# are caught only around calls into zipfile, never around our own checks.
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError,
               ValueError, NotImplementedError, RuntimeError, struct.error, OverflowError,
               IndexError, KeyError)




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

    def open_member(self, info: zipfile.ZipInfo) -> Any:
        """A file object reading the (inflated) member `info`."""
        return self._zip.open(info)

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


def _open_archive(path, max_bytes):
    """open_archive without the file name in the messages (load adds it)."""
    check_max_bytes(max_bytes)
    label = path_label(path)
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
    label = path_label(path)
    try:
        return _open_archive(path, max_bytes)
    except ValueError as exc:
        raise ValueError(f"{label}: {exc}") from None



_SHAPE = r"\(\s*(|\d{1,18}\s*,|\d{1,18}(?:\s*,\s*\d{1,18})+\s*,?)\s*\)"
# The dict NumPy writes (keys in its sorted order); parsed, never evaluated.
_NPY_HEADER_RE = re.compile(
    r"\{\s*'descr'\s*:\s*'([^'\\]{1,32})'\s*,"
    r"\s*'fortran_order'\s*:\s*(True|False)\s*,"
    r"\s*'shape'\s*:\s*" + _SHAPE + r"\s*,?\s*\}\s*")




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


def expected_size(key, info, dtype, shape, max_items):
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
    expected_size(key, info, dtype, shape, max_items)
    fp = _zip_call(key, archive.open_member, info)
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


def header_bytes(archive: Archive, key: str = "meta") -> bytes:
    """The bytes of the JSON header stored as the uint8 member `key`.

    Raises
    ------
    ValueError
        The member is missing, is not a 1-D uint8 array, or is over
        ``MAX_HEADER_BYTES`` (checked from the zip directory).
    """
    if archive.info(key) is None:
        raise ValueError(f"missing {key!r} header")
    return read_array(archive, key, np.uint8, max_items=MAX_HEADER_BYTES).tobytes()


def read(path: PathLike, check_header: HeaderCheck, *, max_bytes: int = MAX_BYTES
         ) -> tuple[dict[str, Any], Tensors]:
    """The header and arrays of an ``.npz`` model file, each checked as a codec
    can check it; nothing is built from them.

    Parameters
    ----------
    path : str, bytes or os.PathLike
        A regular file.
    check_header : callable
        ``(header bytes, "meta") -> (header, layout)``: checks the header and
        says which arrays it announces, ``{name: (dtype, shape)}``.
    max_bytes : int
        Bound on the inflated size of every member and of all together.

    Returns
    -------
    header : dict
    arrays : Tensors
        Every announced array that the file holds (an absent one is the
        schema's to refuse or to default).

    Raises
    ------
    ValueError
        Anything malformed, oversized or unexpected; the message names the
        member, not the file (``load`` adds it).
    """
    with _open_archive(path, max_bytes) as archive:
        meta, layout = check_header(header_bytes(archive, "meta"), "meta")
        for name in archive.members:
            if not (name.endswith(".npy") and name[:-4] in set(layout) | {"meta"}):
                raise ValueError(f"unexpected member {name!r:.80}")
        present = {k: v for k, v in layout.items() if archive.info(k) is not None}
        # every member's size from the directory before the first is inflated
        for key, (dtype, shape) in present.items():
            expected_size(key, archive.members[key + ".npy"], dtype, shape, None)
        arrays = Tensors()
        for key, (dtype, shape) in present.items():
            arrays[key] = read_array(archive, key, dtype, shape)
    return meta, arrays


def encode_header(meta: Mapping[str, Any]) -> NDArray[np.uint8]:
    """The JSON header `meta` as the uint8 array stored in the ``meta`` member."""
    text = json.dumps(meta, allow_nan=False)
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


def write(path: PathLike, meta: Mapping[str, Any], arrays: Mapping[str, Any]) -> None:
    """Write header `meta` and `arrays` (name -> array) to `path`, atomically.

    The path is written as given (no suffix is added). I/O errors are
    ``OSError``s naming `path`; the old file, if any, is intact on failure.
    """
    header = encode_header(meta)
    with _files.atomic_write(path) as f:
        # a file object: np.savez neither adds a suffix nor opens (truncates) the target
        np.savez(f, meta=header, **dict(arrays))
