"""Atomic file writes: the one way cyneuron writes a file (a codec-level utility).

Every file the library or the command line writes (model files in both
formats, ``export_c``'s header, ``to_onnx``'s model, plots, the CLI's
predictions) goes through :func:`atomic_write`. It knows no model: it takes a
path and gives a file object; what is written into it is the caller's.

How a write goes, and why:

1. The target is checked before any work: an empty path, or one that names a
   folder (it ends in a separator, or is an existing directory), is a
   ``ValueError``; an existing target that is not a regular file (a FIFO, a
   device) is a ``ValueError`` too, since it cannot be replaced atomically; a
   missing parent folder is a ``FileNotFoundError`` naming the path. A
   symbolic link is followed (the file it names is replaced, the link stays),
   as ``open(path, "w")`` did before.
2. The data goes into a temporary file in the target's own folder (a rename is
   atomic only within one file system). On Linux it is an *unnamed* file
   (``O_TMPFILE``): if the process dies (SIGKILL, power loss) while writing,
   the kernel frees it and nothing is left in the folder. Where ``O_TMPFILE``
   is missing (other systems, some file systems) it is a named file,
   ``.<name>.cyneuron-<random>.tmp``: recognisable as cyneuron's and as
   temporary, and created with ``O_EXCL``. A process killed while writing it
   cannot remove it, and no later save removes it either: cyneuron deletes
   only files that this very call created, so two processes writing in one
   folder never delete each other's work in progress.
3. The file is flushed and ``fsync``-ed, (on Linux given a name only now,)
   ``os.replace``-d over the target, and the folder is ``fsync``-ed, so that
   after a crash the folder holds the old file or the complete new one.
4. On any failure, ``KeyboardInterrupt`` included, before the rename the
   temporary file is removed and the old file is untouched, bit for bit. I/O
   errors are re-raised as ``OSError`` naming the target path.

The new file's permissions follow the umask, like any file the user creates
(the temporary file is created with mode 0o666 less the umask; ``mkstemp``'s
0o600 would make a saved model unreadable to the group). Replacing a file
does not keep the old file's mode: the result is a new file, owned by the
writer, with the mode the umask gives, the same whether or not a file was
there before.
"""
from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Iterator
from typing import IO, Any, Union

PathLike = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]

# a temporary file's name: "." + the target's name (shortened so that the whole stays
# within the usual 255-byte NAME_MAX) + this + random hex + ".tmp"
TEMP_TAG = b".cyneuron-"
TEMP_SUFFIX = b".tmp"
_NAME_BYTES = 200
# errors of open(O_TMPFILE) that mean "not supported here" (kernel or file system):
# fall back to a named temporary file; any other error is the folder's and is raised
_NO_TMPFILE = {errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL,
               getattr(errno, "ENOTSUP", errno.EOPNOTSUPP)}
# errors of opening or fsync-ing a folder that mean "cannot be done here" (a folder
# without read permission; some network and FUSE file systems): the rename has
# happened and the new file is complete, so the write is not failed for it
_NO_DIR_FSYNC = {errno.EINVAL, errno.EBADF, errno.EOPNOTSUPP, errno.EACCES,
                 getattr(errno, "ENOTSUP", errno.EOPNOTSUPP)}


def _label(path: str | bytes) -> str:
    return os.fsdecode(path)


def check_target(path: PathLike) -> str | bytes:
    """Check that `path` can be written as a file, before any work is done.

    Parameters
    ----------
    path : str, bytes or os.PathLike

    Returns
    -------
    str or bytes
        ``os.fspath(path)``.

    Raises
    ------
    TypeError
        `path` is not a path.
    ValueError
        `path` is empty, names a folder (ends in a separator, or is an
        existing directory) or an existing file that is not a regular file.
    FileNotFoundError, NotADirectoryError, PermissionError
        The parent folder is missing, is not a folder, or cannot be
        examined; the error names `path`.
    """
    p = os.fspath(path)
    if not p:
        raise ValueError(f"cannot write to {_label(p)!r}: the path is empty")
    seps: tuple[Any, ...] = tuple(s for s in (os.sep, os.altsep) if s)
    if isinstance(p, bytes):
        seps = tuple(os.fsencode(s) for s in seps)
    if p.endswith(seps):
        raise ValueError(f"cannot write to {_label(p)!r}: the path names a folder "
                         f"(it ends in a separator); give a file name")
    try:
        st = os.stat(p)
    except FileNotFoundError:
        st = None                               # a new file (or a dangling link)
    except OSError as exc:
        raise _naming(exc, p) from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise ValueError(f"cannot write to {_label(p)!r}: it is a folder; give a file name")
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise ValueError(f"cannot write to {_label(p)!r}: it exists and is not a regular file "
                         f"(a FIFO, device or socket cannot be replaced)")
    folder = os.path.dirname(os.path.realpath(p))
    try:
        fst = os.stat(folder)
    except OSError as exc:
        raise _naming(exc, p, "the folder does not exist") from None
    if not stat.S_ISDIR(fst.st_mode):
        raise NotADirectoryError(errno.ENOTDIR, "its folder is not a folder", _label(p))
    return p


def _naming(exc: OSError, path: str | bytes, why: str | None = None) -> OSError:
    """`exc` as an OSError of the same kind (errno) that names `path`."""
    label = _label(path)
    if exc.errno is None:
        return OSError(f"cannot write {label!r}: {exc}")
    return OSError(exc.errno, why or exc.strerror or str(exc), label)


def _open_temp(folder: bytes, name: bytes) -> tuple[int, bytes | None]:
    """A new temporary file in `folder`: (fd, its name), the name None while unnamed."""
    flags = os.O_RDWR | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    tmpfile = getattr(os, "O_TMPFILE", 0)
    # naming an O_TMPFILE file later needs /proc (linkat through /proc/self/fd)
    if tmpfile and os.path.isdir("/proc/self/fd"):
        try:
            return os.open(folder, flags | tmpfile, 0o666), None
        except OSError as exc:
            if exc.errno not in _NO_TMPFILE:
                raise
    flags |= os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    for _ in range(100):
        tmp = _temp_name(folder, name)
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", os.fsdecode(folder))


def _temp_name(folder: bytes, name: bytes) -> bytes:
    token = secrets.token_hex(6).encode()
    return os.path.join(folder, b"." + name[:_NAME_BYTES] + TEMP_TAG + token + TEMP_SUFFIX)


def _name_unnamed(fd: int, folder: bytes, name: bytes) -> bytes:
    """Give the O_TMPFILE file `fd` a temporary name (linkat cannot replace a file)."""
    # os.link calls link(2), which does not follow the /proc symlink, unless a dir_fd
    # is given: then linkat(2) with AT_SYMLINK_FOLLOW (the recipe of open(2)'s O_TMPFILE)
    dir_fd = os.open(folder, getattr(os, "O_PATH", os.O_RDONLY) | os.O_DIRECTORY
                     | os.O_CLOEXEC)
    try:
        for _ in range(100):
            tmp = _temp_name(folder, name)
            try:
                os.link(f"/proc/self/fd/{fd}".encode(), os.path.basename(tmp),
                        dst_dir_fd=dir_fd, follow_symlinks=True)
                return tmp
            except FileExistsError:
                continue
    finally:
        os.close(dir_fd)
    raise FileExistsError(errno.EEXIST, "no free temporary name", os.fsdecode(folder))


def _fsync_folder(folder: bytes) -> None:
    """Make the rename durable (POSIX: the directory entry lives in the folder)."""
    if not hasattr(os, "O_DIRECTORY"):          # Windows: folders cannot be opened
        return
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        if exc.errno not in _NO_DIR_FSYNC:
            raise


@contextlib.contextmanager
def atomic_write(path: PathLike, *, text: bool = False, encoding: str | None = None,
                 newline: str | None = None) -> Iterator[IO[Any]]:
    """Write a file atomically: the target is the old file or the complete new one.

    Parameters
    ----------
    path : str, bytes or os.PathLike
        The file to write (checked by :func:`check_target`).
    text : bool, default=False
        Give a text file object (with `encoding` and `newline`, as
        :func:`open`) instead of a binary one.
    encoding, newline : str, optional
        As for :func:`open` in text mode.

    Yields
    ------
    file object
        Writable (and seekable) file object of the temporary file. When the
        ``with`` block ends normally, the file is flushed, ``fsync``-ed and
        renamed over `path`, and the folder is ``fsync``-ed; when it raises
        (any exception, ``KeyboardInterrupt`` included) the temporary file is
        removed and `path` is left as it was.

    Raises
    ------
    ValueError
        `path` is empty, names a folder, or an existing non-regular file.
    OSError
        Any I/O error (missing folder, no permission, full disk, ...), as the
        ``OSError`` of its errno, naming `path`.
    """
    target = check_target(path)
    real = os.fsencode(os.path.realpath(target))
    folder, name = os.path.split(real)
    tmp: bytes | None = None
    try:
        fd, tmp = _open_temp(folder, name)
        unnamed = tmp is None
        try:
            f = (os.fdopen(fd, "w", encoding=encoding, newline=newline) if text
                 else os.fdopen(fd, "wb"))
        except BaseException:
            os.close(fd)
            raise
        with f:
            yield f
            f.flush()
            os.fsync(f.fileno())
            if unnamed:
                tmp = _name_unnamed(f.fileno(), folder, name)
        assert tmp is not None
        os.replace(tmp, real)
        tmp = None                              # it is the target now: never remove it
        _fsync_folder(folder)
    except BaseException as exc:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        if isinstance(exc, OSError) and not (exc.filename == _label(target)
                                             and exc.filename2 is None):
            raise _naming(exc, target) from exc
        raise


def write_bytes(path: PathLike, data: bytes | bytearray | memoryview) -> None:
    """Write `data` to `path` with :func:`atomic_write`."""
    with atomic_write(path) as f:
        f.write(data)


def write_text(path: PathLike, text: str, *, encoding: str = "utf-8",
               newline: str | None = None) -> None:
    """Write `text` to `path` with :func:`atomic_write` (text mode)."""
    with atomic_write(path, text=True, encoding=encoding, newline=newline) as f:
        f.write(text)

