"""Hand-built zip archives for the model-file tests and the fuzzer.

``zipfile`` cannot write a member whose header lies (a wrong "version needed",
an unknown compression method, a size that does not match the data) or a
member that was compressed elsewhere (a zip bomb), so the tests write the
archive byte by byte here. Only what the tests need: no zip64, no comments,
no extra fields.
"""
import struct
import zipfile
import zlib
from dataclasses import dataclass

import numpy as np

STORED, DEFLATED = zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED


@dataclass
class Member:
    """One member: its name, its uncompressed bytes and how to store them.

    ``raw`` (if given) is written as the compressed stream verbatim, with
    ``file_size`` and ``crc`` as declared; the ``*_override`` fields replace
    what the directory (and the local header) says.
    """
    name: str
    data: bytes = b""
    method: int = STORED
    raw: bytes = None
    file_size: int = None
    crc: int = None
    version_needed: int = 20
    flags: int = 0
    method_override: int = None
    compress_size_override: int = None
    file_size_override: int = None

    def stream(self):
        if self.raw is not None:
            return self.raw
        if self.method == DEFLATED:
            c = zlib.compressobj(6, zlib.DEFLATED, -15)
            return c.compress(self.data) + c.flush()
        return self.data


def npy_bytes(array):
    """The .npy serialisation of `array`, as np.savez writes it into a member."""
    import io
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asanyarray(array), allow_pickle=False)
    return buf.getvalue()


def build_zip(members):
    """Bytes of a zip archive holding `members` (a list of Member)."""
    out, central = bytearray(), bytearray()
    for m in members:
        stream = m.stream()
        name = m.name.encode("utf-8")
        crc = m.crc if m.crc is not None else (zlib.crc32(m.data) & 0xFFFFFFFF)
        size = m.file_size if m.file_size is not None else len(m.data)
        if m.file_size_override is not None:
            size = m.file_size_override
        csize = len(stream) if m.compress_size_override is None else m.compress_size_override
        method = m.method if m.method_override is None else m.method_override
        offset = len(out)
        out += struct.pack("<4s5H3L2H", b"PK\x03\x04", m.version_needed, m.flags, method,
                           0, 0x21, crc, csize, size, len(name), 0)
        out += name + stream
        central += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, m.version_needed, m.flags,
                               method, 0, 0x21, crc, csize, size, len(name), 0, 0, 0, 0,
                               0, offset)
        central += name
    start = len(out)
    out += central
    out += struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members),
                       len(central), start, 0)
    return bytes(out)


def read_members(data):
    """The members of a valid archive (bytes) as a list of Member, in order."""
    import io
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [Member(i.filename, zf.read(i), i.compress_type) for i in zf.infolist()]


class _BitWriter:
    """Deflate's bit order: fields least significant bit first, Huffman codes
    most significant bit first."""

    def __init__(self):
        self.acc, self.n, self.out = 0, 0, bytearray()

    def bits(self, value, count):
        self.acc |= value << self.n
        self.n += count
        while self.n >= 8:
            self.out.append(self.acc & 0xFF)
            self.acc >>= 8
            self.n -= 8

    def code(self, code, length):
        self.bits(int(format(code, f"0{length}b")[::-1], 2), length)

    def literal(self, byte):
        if byte < 144:
            self.code(0x30 + byte, 8)
        else:
            self.code(0x190 + byte - 144, 9)

    def zero_run(self):
        """Copy 258 bytes from distance 1 (symbol 285, no extra bits; distance code 0)."""
        self.code(0xC0 + 5, 8)
        self.code(0, 5)

    def flush(self):
        if self.n:
            self.out.append(self.acc & 0xFF)
            self.acc, self.n = 0, 0
        return bytes(self.out)


def deflate_bomb(prefix, n_zeros):
    """A raw deflate stream that inflates to `prefix` + about `n_zeros` zero bytes.

    One fixed-Huffman block: the prefix as literals, a zero, then copies of
    258 zeros at distance 1 (13 bits each, 159:1). Eight copies are 13 whole
    bytes, so after aligning once the stream is one 13-byte pattern repeated,
    and building a gigabyte costs a few milliseconds. Returns (stream,
    inflated size, CRC-32 of the inflated bytes).
    """
    w = _BitWriter()
    w.bits(1, 1)          # final block
    w.bits(1, 2)          # fixed Huffman codes
    for b in prefix:
        w.literal(b)
    w.literal(0)
    runs = 0
    while w.n:            # align to a byte boundary with copies (13 is odd: at most 7)
        w.zero_run()
        runs += 1
    head = bytes(w.out)
    w8 = _BitWriter()
    for _ in range(8):
        w8.zero_run()
    period = w8.flush()
    assert len(period) == 13
    reps = max(0, (n_zeros - 1 - 258 * runs) // (8 * 258))
    tail = _BitWriter()
    tail.code(0, 7)       # end of block
    stream = head + period * reps + tail.flush()
    zeros = 1 + 258 * (runs + 8 * reps)
    crc = zlib.crc32(prefix)
    chunk = bytes(1 << 22)
    left = zeros
    while left:
        step = min(left, len(chunk))
        crc = zlib.crc32(chunk[:step], crc)
        left -= step
    return stream, len(prefix) + zeros, crc & 0xFFFFFFFF


def reseal(members):
    """`members` with the header's state digest computed anew over the header
    and every array, as a deliberately crafted file would carry it: for the
    tests of the field checks that run after the digest check."""
    import io
    import json

    from cyneuron._digest import STATE_KEY, state_digest
    meta, arrays = None, {}
    for m in members:
        value = np.load(io.BytesIO(m.data), allow_pickle=False)
        if m.name == "meta.npy":
            meta = json.loads(value.tobytes())
        else:
            arrays[m.name[:-4]] = value
    meta[STATE_KEY] = state_digest(meta, arrays)
    new_meta = npy_bytes(np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8))
    return [Member(m.name, new_meta if m.name == "meta.npy" else m.data, m.method)
            for m in members]
