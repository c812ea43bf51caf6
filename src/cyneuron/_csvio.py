"""CSV files for the command line: pandas' parser, in bounded memory, regular files only.

Knows no model. :func:`read_csv` opens the file with ``_codec.open_regular`` (a
FIFO, a device or a directory is refused before anything is read), feeds
pandas' C parser through a reader that refuses any physical line over
``MAX_LINE_BYTES`` (so no line or field can make the parser buffer the whole
file), and reads ``CHUNK_ROWS`` rows at a time. What it returns holds the
parsed columns only (numbers as float64 or int64, text as Python strings),
never the file's text.

pandas is an optional dependency (the ``cli`` extra); every failure is a
:class:`CSVError`, a ``ValueError`` whose message is one line naming the file
and, where there is one, the line.
"""
from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._codec import open_regular

if TYPE_CHECKING:
    import pandas as pd

#: The longest physical line accepted, in bytes (a quoted field spanning lines
#: is bounded line by line).
MAX_LINE_BYTES = 1 << 20
#: Rows parsed per chunk: what the parser holds besides the columns read so far.
CHUNK_ROWS = 1 << 16
#: Separators the sniffer chooses among.
SEPARATORS = (",", ";", "\t", "|")
_SEP_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_SNIFF_BYTES = 1 << 16
_EXTRA = "pip install 'cyneuron[cli]'"


class CSVError(ValueError):
    """A CSV file that cannot be read: one line naming the file (and the line)."""


def separator_name(sep: str) -> str:
    """A separator as the CLI says it ("comma", "tab", ...)."""
    return _SEP_NAMES.get(sep, repr(sep))


class _BoundedRaw(io.RawIOBase):
    """The bytes of a regular file, refusing any line over `limit` bytes, and
    counting bytes for a progress display."""

    def __init__(self, f: Any, limit: int, label: str,
                 progress: Callable[[int], None] | None) -> None:
        self._f, self._limit, self._label, self._progress = f, limit, label, progress
        self._run = 0            # bytes since the last newline
        self._lines = 0          # newlines seen
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def _too_long(self) -> CSVError:
        return CSVError(f"{self._label}, line {self._lines + 1}: longer than "
                        f"{self._limit} bytes (the limit of a line)")

    def readinto(self, buffer: Any) -> int:
        data = self._f.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        if n == 0:
            return 0
        self.bytes_read += n
        first = data.find(b"\n")
        if first < 0:
            self._run += n
            if self._run > self._limit:
                raise self._too_long()
        else:
            if self._run + first > self._limit:
                raise self._too_long()
            if n > self._limit:      # a buffer longer than the limit: every line in it
                for line in data[first + 1:].split(b"\n")[:-1]:
                    self._lines += 1
                    if len(line) > self._limit:
                        raise self._too_long()
            self._lines += data.count(b"\n")
            self._run = n - data.rfind(b"\n") - 1
        if self._progress is not None:
            self._progress(self.bytes_read)
        return n


def _pandas():
    try:
        import pandas as pd
    except ImportError:
        raise CSVError(f"reading CSV files needs pandas: {_EXTRA}") from None
    return pd


def sniff_separator(sample: str) -> str:
    """The separator of a CSV text sample among :data:`SEPARATORS` (a comma if
    the sample does not decide it)."""
    try:
        return csv.Sniffer().sniff(sample, delimiters="".join(SEPARATORS)).delimiter
    except csv.Error:
        return ","


def read_csv(path: str, *, sep: str | None = None, decimal: str = ".", header: bool = True,
             progress: Callable[[int, int], None] | None = None,
             max_line_bytes: int = MAX_LINE_BYTES) -> tuple[pd.DataFrame, str]:
    """Read a CSV file into a DataFrame, in bounded memory.

    Parameters
    ----------
    path : str
        A regular file, UTF-8 with or without a byte-order mark.
    sep : str or None
        The field separator; None sniffs it among comma, semicolon, tab and pipe.
    decimal : str
        The decimal mark of numbers ("." or ",").
    header : bool
        Whether the first row names the columns (otherwise they are named
        "0", "1", ...).
    progress : callable or None
        Called as ``progress(bytes_read, file_size)`` while the file is read.
    max_line_bytes : int
        The longest physical line accepted.

    Returns
    -------
    frame : pandas.DataFrame
        One column per field; empty cells and pandas' usual markers ("NA",
        "NaN", ...) are missing values. Row ``i`` (0-based) was on line
        ``i + 2`` with a header (``i + 1`` without), if no quoted field spans
        lines.
    sep : str
        The separator used.

    Raises
    ------
    CSVError
        The file is not a regular file, is empty, is not UTF-8, has a line
        over the limit, a row whose field count differs from the header's, or
        a header naming a column twice; or pandas is missing.
    OSError
        From the operating system (a missing file, no permission).
    """
    pd = _pandas()
    label = os.fsdecode(path)
    try:
        raw, size = open_regular(path)
    except ValueError as exc:           # a FIFO, a device, a directory
        raise CSVError(str(exc)) from None
    with raw:
        head = raw.read(_SNIFF_BYTES)
        if not head.strip(b"\xef\xbb\xbf \t\r\n"):
            raise CSVError(f"{label} is empty: expected a header row and data rows"
                           if header else f"{label} is empty")
        try:
            sample = head.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            if exc.start < len(head) - 4:       # not just a character cut at the end
                raise CSVError(f"{label} is not a UTF-8 text (CSV) file") from None
            sample = head[:exc.start].decode("utf-8-sig")
        if sep is None:
            sep = sniff_separator(sample)
        first = next(csv.reader(io.StringIO(sample), delimiter=sep), [])
        names = [c.strip() for c in first]
        if header and len(set(names)) != len(names):
            dup = next(c for c in names if names.count(c) > 1)
            raise CSVError(f"{label}: column {dup!r} appears more than once in the header")
        raw.seek(0)
        bounded = _BoundedRaw(raw, max_line_bytes, label,
                              None if progress is None else (lambda n: progress(n, size)))
        text = io.TextIOWrapper(io.BufferedReader(bounded, 1 << 16), encoding="utf-8-sig",
                                newline="")
        chunks = []
        try:
            reader = pd.read_csv(text, sep=sep, decimal=decimal, header=0 if header else None,
                                 chunksize=CHUNK_ROWS, skipinitialspace=True,
                                 skip_blank_lines=True, index_col=False, engine="c")
            with reader:
                for chunk in reader:
                    chunks.append(chunk)
        except CSVError:
            raise
        except UnicodeDecodeError:
            raise CSVError(f"{label} is not a UTF-8 text (CSV) file") from None
        except pd.errors.EmptyDataError:
            raise CSVError(f"{label} is empty") from None
        except (pd.errors.ParserError, ValueError, csv.Error) as exc:
            message = " ".join(str(exc).split())
            message = message.replace("Error tokenizing data. C error: ", "")
            raise CSVError(f"{label}: {message[:300]}") from None
    if not chunks or sum(len(c) for c in chunks) == 0:
        raise CSVError(f"{label} has a header but no data rows" if header
                       else f"{label} has no data rows")
    frame = chunks[0] if len(chunks) == 1 else pd.concat(chunks, ignore_index=True, copy=False)
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame[frame.columns[-1]].isna().any():
        # pandas fills a row with too few fields with missing values; only such a
        # file pays for a second, field-counting pass
        _check_field_counts(path, label, sep, frame.shape[1], max_line_bytes)
    return frame, sep


def _check_field_counts(path, label, sep, n_fields, max_line_bytes):
    raw, _ = open_regular(path)
    with io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as text:
        limit = csv.field_size_limit()
        csv.field_size_limit(max_line_bytes)
        try:
            reader = csv.reader(text, delimiter=sep, skipinitialspace=True)
            for row in reader:
                if row and any(c.strip() for c in row) and len(row) != n_fields:
                    raise CSVError(f"{label}, line {reader.line_num}: {len(row)} fields, but "
                                   f"the header has {n_fields}")
        except csv.Error as exc:
            raise CSVError(f"{label}, line {reader.line_num}: {exc}") from None
        finally:
            csv.field_size_limit(limit)
