"""A layer directory of the store (overlay format) as an OCI layer tar stream, deterministically.

The inverse of ``unpack``: a 0/0 character device becomes a ``.wh.<name>`` whiteout, a
directory with ``trusted.overlay.opaque=y`` (or ``user.overlay.opaque``) gets a
``.wh..wh..opq`` entry, written before its siblings as the OCI layer spec recommends. Entries
are sorted by name, hard links inside the layer are kept as links, owners are numeric (no
user/group names), times are whole seconds, xattrs other than overlay's own are kept (PAX
``SCHILY.xattr.*``). The same directory therefore always gives the same bytes: its sha256 is the
layer's diff id, and a push can stream it again (gzip then) without ever storing the tar.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
OPAQUE_XATTRS = ("trusted.overlay.opaque", "user.overlay.opaque")
SKIP_XATTR_PREFIXES = ("trusted.overlay.", "user.overlay.")
CHUNK = 1 << 20
_BLOCK = 512
_ZEROS_512 = b"\0" * _BLOCK


def is_whiteout(st: os.stat_result) -> bool:
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def is_opaque(path: str) -> bool:
    for name in OPAQUE_XATTRS:
        try:
            if os.getxattr(path, name, follow_symlinks=False) == b"y":
                return True
        except OSError:
            continue
    return False


def _xattrs(path: str) -> dict[str, str]:
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        return {}
    out = {}
    for name in sorted(names):
        if name.startswith(SKIP_XATTR_PREFIXES):
            continue
        try:
            value = os.getxattr(path, name, follow_symlinks=False)
        except OSError:
            continue
        out["SCHILY.xattr." + name] = value.decode("utf-8", "surrogateescape")
    return out


_MAX_OCTAL_7 = 0o7777777
_MAX_OCTAL_11 = 0o77777777777


def _pax_record(key: str, value: str) -> bytes:
    payload = f" {key}={value}\n".encode("utf-8", "surrogateescape")
    n = len(payload)
    length = n + len(str(n))
    while length != n + len(str(length)):
        length = n + len(str(length))
    return str(length).encode() + payload


def header(
    name: str,
    kind: bytes,
    *,
    mode: int = 0o644,
    uid: int = 0,
    gid: int = 0,
    size: int = 0,
    mtime: int = 0,
    linkname: str = "",
    devmajor: int = 0,
    devminor: int = 0,
    pax: dict[str, str] | None = None,
) -> bytes:
    """One tar member header (ustar; a PAX extended header first when a value needs it)."""
    records = dict(pax or {})
    raw_name = name.encode("utf-8", "surrogateescape")
    raw_link = linkname.encode("utf-8", "surrogateescape")
    if len(raw_name) > 100 or not raw_name.isascii():
        records["path"] = name
        raw_name = raw_name[:100]
    if len(raw_link) > 100 or not raw_link.isascii():
        records["linkpath"] = linkname
        raw_link = raw_link[:100]
    for key, value, limit in (("uid", uid, _MAX_OCTAL_7), ("gid", gid, _MAX_OCTAL_7)):
        if value > limit:
            records[key] = str(value)
    if size > _MAX_OCTAL_11:
        records["size"] = str(size)
    out = b""
    if records:
        data = b"".join(_pax_record(k, v) for k, v in sorted(records.items()))
        pax_name = ("PaxHeaders.0/" + name.rsplit("/", 1)[-1]).encode("utf-8", "surrogateescape")
        out = _block(pax_name[:100], b"x", 0o644, 0, 0, len(data), mtime, b"", 0, 0)
        out += data + b"\0" * (-len(data) % _BLOCK)
    return out + _block(
        raw_name,
        kind,
        mode,
        min(uid, _MAX_OCTAL_7),
        min(gid, _MAX_OCTAL_7),
        min(size, _MAX_OCTAL_11),
        mtime,
        raw_link,
        devmajor,
        devminor,
    )


_MAGIC = b"ustar\x0000" + b"\0" * 64  # magic, version, empty user and group names
_HEAD_CONSTANT = sum(b"        ") + sum(_MAGIC)  # the checksum field counts as spaces
_ZEROS_167 = b"\0" * 167


def _block(
    name: bytes,
    kind: bytes,
    mode: int,
    uid: int,
    gid: int,
    size: int,
    mtime: int,
    linkname: bytes,
    devmajor: int,
    devminor: int,
) -> bytes:
    """One ustar header block: two formatting operations and a checksum summed from the
    parts (a build's diff id writes one per file: this is the hot loop's own cost)."""
    numbers = b"%07o\0%07o\0%07o\0%011o\0%011o\0" % (mode, uid, gid, size, max(mtime, 0))
    devices = b"%07o\0%07o\0" % (devmajor, devminor)
    checksum = _HEAD_CONSTANT + sum(name) + sum(numbers) + kind[0] + sum(linkname) + sum(devices)
    return b"".join(
        (
            name.ljust(100, b"\0"),
            numbers,
            b"%06o\0 " % checksum,
            kind,
            linkname.ljust(100, b"\0"),
            _MAGIC,
            devices,
            _ZEROS_167,
        )
    )


REGTYPE, LNKTYPE, SYMTYPE, CHRTYPE, BLKTYPE, DIRTYPE, FIFOTYPE = (
    b"0",
    b"1",
    b"2",
    b"3",
    b"4",
    b"5",
    b"6",
)


class _Writer:
    """Walks the layer in name order and hands every piece of the tar to ``sink`` (a hash's
    update, a gzip writer, a list): no generator chain per entry, it is the hot loop of a
    build."""

    def __init__(self, root: str, sink: Callable[[bytes], object]) -> None:
        self.root = root
        self.sink = sink
        self.size = 0
        self.inodes: dict[tuple[int, int], str] = {}

    def put(self, data: bytes) -> None:
        self.sink(data)
        self.size += len(data)

    def entries(self, rel: str = "") -> None:
        base = os.path.join(self.root, rel) if rel else self.root
        with os.scandir(base) as it:
            found = sorted((e.name, e.stat(follow_symlinks=False)) for e in it)
        if rel and is_opaque(base):
            self.put(header(f"{rel}/{OPAQUE_MARKER}", REGTYPE))
        for name, st in found:
            self.entry(f"{rel}/{name}" if rel else name, st)

    def entry(self, rel: str, st: os.stat_result) -> None:
        path = os.path.join(self.root, rel)
        mode = st.st_mode
        if stat.S_ISREG(mode):
            self._regular(rel, st, path)
            return
        if is_whiteout(st):
            head, _, name = rel.rpartition("/")
            self.put(header(f"{head}/{WHITEOUT_PREFIX}{name}".lstrip("/"), REGTYPE))
            return
        meta = self._meta(st, path)
        if stat.S_ISDIR(mode):
            self.put(header(rel + "/", DIRTYPE, **meta))
            self.entries(rel)
        elif stat.S_ISLNK(mode):
            self.put(header(rel, SYMTYPE, linkname=os.readlink(path), **meta))
        elif stat.S_ISFIFO(mode):
            self.put(header(rel, FIFOTYPE, **meta))
        elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
            kind = CHRTYPE if stat.S_ISCHR(mode) else BLKTYPE
            rdev = st.st_rdev
            self.put(header(rel, kind, devmajor=os.major(rdev), devminor=os.minor(rdev), **meta))

    @staticmethod
    def _meta(st: os.stat_result, path: str) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "mode": stat.S_IMODE(st.st_mode),
            "uid": st.st_uid,
            "gid": st.st_gid,
            "mtime": int(st.st_mtime),
        }
        xattrs = _xattrs(path)
        if xattrs:
            meta["pax"] = xattrs
        return meta

    def _regular(self, rel: str, st: os.stat_result, path: str) -> None:
        if st.st_nlink > 1:
            key = (st.st_dev, st.st_ino)
            first = self.inodes.get(key)
            if first is not None:
                self.put(header(rel, LNKTYPE, linkname=first, **self._meta(st, path)))
                return
            self.inodes[key] = rel
        size = st.st_size
        head = _plain_header(rel, st, path) or header(
            rel, REGTYPE, size=size, **self._meta(st, path)
        )
        self.put(head)
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            remaining = size
            while remaining > 0:
                chunk = os.read(fd, min(CHUNK, remaining))
                if not chunk:
                    raise OSError(f"{path} shrank while it was being read")
                remaining -= len(chunk)
                self.put(chunk)
        finally:
            os.close(fd)
        pad = -size % _BLOCK
        if pad:
            self.put(_ZEROS_512[:pad])


def _plain_header(rel: str, st: os.stat_result, path: str) -> bytes | None:
    """``header()``'s result for the common regular file (an ASCII name of at most 100 bytes,
    ids and size in range, no xattrs) without its general checks; None for the others."""
    raw = rel.encode("utf-8", "surrogateescape")
    if len(raw) > 100 or not raw.isascii():
        return None
    if st.st_uid > _MAX_OCTAL_7 or st.st_gid > _MAX_OCTAL_7 or st.st_size > _MAX_OCTAL_11:
        return None
    if _xattrs(path):
        return None
    mode = stat.S_IMODE(st.st_mode)
    mtime = int(st.st_mtime)
    return _block(raw, REGTYPE, mode, st.st_uid, st.st_gid, st.st_size, mtime, b"", 0, 0)


def write_layer(root: Path, sink: Callable[[bytes], object]) -> int:
    """Write the layer's tar to ``sink`` (ends with the two zero blocks); returns its size."""
    writer = _Writer(str(root), sink)
    writer.entries()
    writer.put(b"\0" * (2 * _BLOCK))
    return writer.size


def layer_stream(root: Path) -> Iterator[bytes]:
    """The layer's tar, chunk by chunk (collected in memory per call: small layers, tests)."""
    chunks: list[bytes] = []
    write_layer(root, chunks.append)
    yield from chunks


def diff_id(root: Path) -> tuple[str, int]:
    """(sha256 digest of the layer tar, its size in bytes), streamed: nothing is stored."""
    sha = hashlib.sha256()
    size = write_layer(root, sha.update)
    return "sha256:" + sha.hexdigest(), size
