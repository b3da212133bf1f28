"""Layer unpacking: safe, atomic, whiteouts converted to overlayfs whiteouts.

One pass over the (decompressed) stream does three things: it hashes it (diff id check), scans
every tar header (``compose.images.tarscan``) and feeds GNU ``tar -x`` (fast extraction that
keeps owners, modes, xattrs, hardlinks and devices). A chunk reaches tar only after the scan
has accepted every header in it, so tar never sees a hostile member: ``..``, an absolute path,
a write through a symlink of the same layer, a hardlink out of the layer, an entry replacing a
symlink. On any error the temporary directory is removed; nothing half-written is published.
(GNU tar also refuses ``..`` and defers unsafe symlinks on its own: a second line of defence.)

After tar: ``.wh.<name>`` -> char device 0/0 ``<name>``; ``.wh..wh..opq`` -> the directory gets
``trusted.overlay.opaque=y``. Both need root (CAP_MKNOD, trusted xattrs).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from compose.errors import ImageError
from compose.images.tarscan import Member, TarScanner

WHITEOUT_PREFIX = ".wh."
OPAQUE = ".wh..wh..opq"
OPAQUE_XATTR = "trusted.overlay.opaque"
CHUNK = 1 << 20
# dirs a layer implies without an entry get 0755, as Docker's extraction makes them (the
# process's own umask is 0077: the store is private, its layers must still look normal)
TAR_UMASK = 0o022
F_SETPIPE_SZ = 1031  # fcntl.F_SETPIPE_SZ (Linux), missing from older Pythons
TAR_FLAGS = [
    "--numeric-owner",
    "-p",
    "--xattrs",
    "--xattrs-include=*",
    "--xattrs-exclude=trusted.overlay.*",  # a layer must not forge overlay metadata
    "--xattrs-exclude=user.overlay.*",
    "--warning=no-unknown-keyword",
    "--warning=no-timestamp",
]


class HostileLayer(ImageError):
    pass


def _chunks(fh: BinaryIO) -> Iterator[bytes]:
    """Decompressed chunks of a gzip, zstd or plain tar stream (detected by magic)."""
    head = fh.read(4)
    fh.seek(0)
    if head[:2] == b"\x1f\x8b":
        yield from _gunzip(fh)
    elif head == b"\x28\xb5\x2f\xfd":
        import zstandard

        reader = zstandard.ZstdDecompressor().stream_reader(fh, read_across_frames=True)
        while chunk := reader.read(CHUNK):
            yield chunk
    else:
        while chunk := fh.read(CHUNK):
            yield chunk


def _gunzip(fh: BinaryIO) -> Iterator[bytes]:
    """Bounded chunks (at most CHUNK each, so a gzip bomb never sits in memory whole)."""
    dec = zlib.decompressobj(wbits=31)
    while data := fh.read(CHUNK):
        while data:
            if dec.eof:  # concatenated gzip members
                dec = zlib.decompressobj(wbits=31)
            out = dec.decompress(data, CHUNK)
            if out:
                yield out
            data = dec.unconsumed_tail or dec.unused_data
    while not dec.eof and (out := dec.decompress(b"", CHUNK)):
        yield out
    if not dec.eof:
        raise ImageError("layer is truncated (gzip stream ends early)")


@dataclass
class _Scan:
    """Per-layer state of the member checks."""

    symlinks: set[str] = field(default_factory=set)
    seen: set[str] = field(default_factory=set)
    whiteouts: list[str] = field(default_factory=list)
    opaque: list[str] = field(default_factory=list)

    def check(self, member: Member) -> None:
        name = _clean(member.name, "path")
        self._check_parents(name, member.name)
        if name in self.symlinks and not member.issym():
            raise HostileLayer(f"entry {member.name!r} replaces a symlink of the same layer")
        if member.islnk():
            self._check_hardlink(member)
        if member.issym():
            self.symlinks.add(name)
        self.seen.add(name)
        self._note_whiteout(name)

    def _check_parents(self, name: str, raw: str) -> None:
        parts = PurePosixPath(name).parts
        for i in range(1, len(parts)):
            parent = "/".join(parts[:i])
            if parent in self.symlinks:
                raise HostileLayer(f"entry {raw!r} writes through symlink {parent!r}")

    def _check_hardlink(self, member: Member) -> None:
        target = _clean(member.linkname, "hardlink target")
        self._check_parents(target, member.linkname)
        if target not in self.seen:
            raise HostileLayer(
                f"hardlink {member.name!r} points to {member.linkname!r} outside the layer"
            )

    def _note_whiteout(self, name: str) -> None:
        path = PurePosixPath(name)
        if path.name == OPAQUE:
            self.opaque.append(str(path.parent))
        elif path.name.startswith(WHITEOUT_PREFIX):
            self.whiteouts.append(name)


def _clean(name: str, what: str) -> str:
    if name.startswith("/"):
        raise HostileLayer(f"{what} {name!r} is absolute")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise HostileLayer(f"{what} {name!r} contains '..'")
    return "/".join(parts) or "."


def _run_tar(chunks: Iterator[bytes], target: Path, sha: Any) -> _Scan:
    """Stream ``chunks`` into ``tar -x``, hashing and scanning them on the way."""
    cmd = ["tar", "-x", "-f", "-", "-C", str(target), *TAR_FLAGS]
    scan = _Scan()
    scanner = TarScanner(scan.check)
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stderr=errors, bufsize=0, umask=TAR_UMASK
        )
        assert proc.stdin is not None
        with contextlib.suppress(OSError):
            fcntl.fcntl(proc.stdin.fileno(), F_SETPIPE_SZ, CHUNK)
        try:
            for chunk in chunks:
                if sha is not None:
                    sha.update(chunk)
                scanner.feed(chunk)
                proc.stdin.write(chunk)
            scanner.finish()
            proc.stdin.close()
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        if proc.wait() != 0:
            errors.seek(0)
            lines = errors.read().decode(errors="replace").strip().splitlines()
            raise ImageError(f"tar: {lines[-1] if lines else f'exit {proc.returncode}'}")
    return scan


def _to_overlay(root: Path, scan: _Scan) -> None:
    for name in scan.whiteouts:
        marker = root / name
        hidden = marker.with_name(marker.name[len(WHITEOUT_PREFIX) :])
        marker.unlink(missing_ok=True)
        if not hidden.exists() and not hidden.is_symlink():
            _mknod_whiteout(hidden)
    for name in scan.opaque:
        directory = root / name
        (directory / OPAQUE).unlink(missing_ok=True)
        os.setxattr(directory, OPAQUE_XATTR, b"y")


def _mknod_whiteout(path: Path) -> None:
    try:
        os.mknod(path, 0o600 | 0o020000, os.makedev(0, 0))
    except PermissionError as exc:
        raise ImageError(
            f"cannot create whiteout {path.name}: {exc.strerror}",
            hint="unpacking layers with deletions needs root",
        ) from exc


def unpack_layer(blob: Path, dest: Path, tmp_root: Path, diff_id: str | None = None) -> Path:
    """Unpack ``blob`` into ``dest`` atomically (temp dir + rename); returns ``dest``.

    If ``dest`` already exists (unpacked before, maybe by a concurrent pull) it is kept.
    """
    if dest.is_dir():
        return dest
    tmp_root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="unpack-", dir=tmp_root))
    try:
        root = work / "root"
        root.mkdir(mode=0o755)
        _extract(blob, root, diff_id)
        publish_dir(root, dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return dest


def _extract(blob: Path, root: Path, diff_id: str | None) -> None:
    # an uncompressed blob stored under its digest was verified when it was stored
    hashing = diff_id is not None and diff_id.split(":", 1)[-1] != blob.name
    sha = hashlib.sha256() if hashing else None
    with open(blob, "rb") as fh:
        try:
            if not hashing and _is_plain(fh):
                scan = _scan_then_tar(fh, blob, root)
            else:
                scan = _run_tar(_chunks(fh), root, sha)
        except (zlib.error, OSError) as exc:
            raise ImageError(f"layer {blob.name[:12]}: not a valid tar archive: {exc}") from exc
        except HostileLayer as exc:
            raise HostileLayer(f"layer {blob.name[:12]} refused: {exc}") from None
    actual = "sha256:" + sha.hexdigest() if sha else diff_id
    if diff_id and actual != diff_id:
        raise ImageError(f"layer {blob.name[:12]}: content digest {actual} != diff id {diff_id}")
    _to_overlay(root, scan)


def _is_plain(fh: BinaryIO) -> bool:
    head = fh.read(4)
    fh.seek(0)
    return head[:2] != b"\x1f\x8b" and head != b"\x28\xb5\x2f\xfd"


def _scan_then_tar(fh: BinaryIO, blob: Path, root: Path) -> _Scan:
    """Plain tar: check every header first (seeking over data), then let tar read the file."""
    scan = _Scan()
    TarScanner(scan.check).scan_file(fh)
    cmd = ["tar", "-x", "-f", str(blob), "-C", str(root), *TAR_FLAGS]
    proc = subprocess.run(cmd, capture_output=True, umask=TAR_UMASK)
    if proc.returncode != 0:
        lines = proc.stderr.decode(errors="replace").strip().splitlines()
        raise ImageError(f"tar: {lines[-1] if lines else f'exit {proc.returncode}'}")
    return scan


def publish_dir(root: Path, dest: Path) -> None:
    """Rename ``root`` to ``dest``; one that exists already (made meanwhile) is kept."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.rename(root, dest)
    except OSError:
        if not dest.is_dir():
            raise
