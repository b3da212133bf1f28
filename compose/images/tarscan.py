"""A push-based tar header scanner: fed the layer stream chunk by chunk, it reports each member
(name, type, link target) without buffering file data. Handles ustar prefixes, pax extended
headers (``path``, ``linkpath``, ``size``), GNU long names (``L``/``K``) and base-256 sizes.
Several times faster than ``tarfile`` for this one job, which keeps layer unpacking at tar speed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from compose.errors import ImageError

BLOCK = 512
REG, AREG, LNK, SYM, CONT = b"0", b"\0", b"1", b"2", b"7"
PAX, PAX_GLOBAL, GNU_LONGNAME, GNU_LONGLINK = b"x", b"g", b"L", b"K"
_EXTENDED = (PAX, PAX_GLOBAL, GNU_LONGNAME, GNU_LONGLINK)


@dataclass(frozen=True, slots=True)
class Member:
    name: str
    type: bytes  # one byte, tar typeflag
    linkname: str

    def issym(self) -> bool:
        return self.type == SYM

    def islnk(self) -> bool:
        return self.type == LNK


def _cstr(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _number(raw: bytes) -> int:
    if raw and raw[0] & 0x80:  # base-256 (GNU/star) for big values
        value = int.from_bytes(raw[1:], "big")
        return value - (1 << (8 * len(raw) - 8)) if raw[0] & 0x40 else value
    text = raw.split(b"\0", 1)[0].strip(b" ")
    try:
        return int(text or b"0", 8)
    except ValueError:
        raise ImageError(f"corrupt tar header field {raw!r}") from None


def _pax_records(data: bytes) -> dict[str, str]:
    records: dict[str, str] = {}
    pos = 0
    while pos < len(data) and data[pos : pos + 1] != b"\0":
        space = data.index(b" ", pos)
        length = int(data[pos:space])
        key, _, value = data[space + 1 : pos + length - 1].partition(b"=")
        records[key.decode("utf-8", "surrogateescape")] = value.decode("utf-8", "surrogateescape")
        pos += length
    return records


class TarScanner:
    """Call ``feed(chunk)`` for every chunk, then ``finish()``; ``on_member`` sees each entry."""

    def __init__(self, on_member: Callable[[Member], None]) -> None:
        self._on_member = on_member
        self._pending = bytearray()  # a partial header or extended-header payload
        self._want = BLOCK  # bytes needed in _pending before acting
        self._ext_type: bytes | None = None  # collecting the payload of this extended header
        self._ext_pad = 0
        self._skip = 0  # file data bytes (with padding) to pass over
        self._overrides: dict[str, str] = {}
        self.ended = False

    def feed(self, chunk: bytes) -> None:
        view = memoryview(chunk)
        pos, size = 0, len(view)
        while pos < size and not self.ended:
            if self._skip:
                step = min(self._skip, size - pos)
                self._skip -= step
                pos += step
                continue
            step = min(self._want - len(self._pending), size - pos)
            self._pending += view[pos : pos + step]
            pos += step
            if len(self._pending) == self._want:
                data = bytes(self._pending)
                self._pending.clear()
                self._consume(data)

    def scan_file(self, fh: BinaryIO) -> None:
        """Scan a seekable plain tar, reading only headers (data is seeked over)."""
        while not self.ended:
            if self._skip:
                fh.seek(self._skip, 1)
                self._skip = 0
                continue
            data = fh.read(self._want - len(self._pending))
            if not data:
                break
            self.feed(data)
        self.finish()

    def finish(self) -> None:
        if not self.ended and (self._pending or self._skip or self._ext_type):
            raise ImageError("layer is truncated (tar stream ends inside an entry)")

    def _consume(self, data: bytes) -> None:
        if self._ext_type is not None:
            self._extended(self._ext_type, data)
            self._ext_type, self._want, self._skip = None, BLOCK, self._ext_pad
            return
        self._header(data)

    def _header(self, block: bytes) -> None:
        if block == bytes(BLOCK):
            self.ended = True  # end-of-archive marker; tar gets the rest anyway
            return
        kind = block[156:157]
        size = _number(block[124:136])
        padded = -(-size // BLOCK) * BLOCK
        if kind in _EXTENDED:
            if size == 0:
                return
            self._ext_type, self._want, self._ext_pad = kind, size, padded - size
            return
        self._member(block, kind, size)

    def _member(self, block: bytes, kind: bytes, size: int) -> None:
        name = _cstr(block[0:100])
        if block[257:263] == b"ustar\0" and block[345] != 0:
            name = f"{_cstr(block[345:500])}/{name}"
        over, self._overrides = self._overrides, {}
        name = over.get("path", name)
        linkname = over.get("linkpath", _cstr(block[157:257]))
        size = int(over.get("size", size))
        self._on_member(Member(name, kind, linkname))
        if kind not in (LNK, SYM) and kind not in (b"3", b"4", b"5", b"6"):
            self._skip = -(-size // BLOCK) * BLOCK

    def _extended(self, kind: bytes, data: bytes) -> None:
        if kind == PAX:
            self._overrides.update(_pax_records(data))
        elif kind == GNU_LONGNAME:
            self._overrides["path"] = _cstr(data)
        elif kind == GNU_LONGLINK:
            self._overrides["linkpath"] = _cstr(data)
