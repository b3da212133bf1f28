"""Volume snapshots (test environments: reset a database between tests): a snapshot is a copy of
a volume's ``_data``; a restore makes ``_data`` equal to it again, copying only what changed.

    <volumes>/<volume>/_data                         the live volume (bind-mounted)
    <volumes>/<volume>/snapshots/<name>/data         the copy
    <volumes>/<volume>/snapshots/<name>/manifest.json  what ``_data`` held when it was equal
                                                     to the copy: path -> (inode, size, mtime,
                                                     ctime, mode, uid, gid)

A restore walks the copy and the volume side by side: an entry whose stat signature is the one
the manifest recorded was not touched since (a write, truncate, chmod, chown or rename changes
the ctime or inode; userspace cannot set a ctime back), so it is kept; everything else is
copied (a reflink where the filesystem has them: XFS, btrfs), extra entries are removed. The
cost follows what the tests changed, not the volume's size. Measured by
``tests/bench/bench_testenv.py``.

The caller stops (restore) or freezes (snapshot) the processes using the volume: this module
only copies. Regular files, directories and symlinks are copied with owners, modes and times;
hard links become separate files; sockets, fifos and devices are skipped.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from compose.errors import UserError
from compose.volumes import volume_data, volume_root

FICLONE = 0x40049409  # linux/fs.h: _IOW(0x94, 9, int)
Signature = list[int]


@dataclass
class Copied:
    files: int = 0
    bytes: int = 0

    def add(self, other: Copied) -> None:
        self.files += other.files
        self.bytes += other.bytes


def snapshot_dir(volume: str, name: str) -> Path:
    return volume_root(volume) / "snapshots" / name


def has_snapshot(volume: str, name: str) -> bool:
    return (snapshot_dir(volume, name) / "manifest.json").is_file()


def take(volume: str, name: str) -> Copied:
    """Copy the volume as snapshot ``name`` (replacing an older one of that name)."""
    final = snapshot_dir(volume, name)
    tmp = final.with_name(f".{name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    source = volume_data(volume)
    sync = _Sync({})
    sync.directory(source, tmp / "data", "")
    # the manifest describes the *volume's* entries (equal to the copy right now)
    manifest = {rel: _signature(os.lstat(source / rel)) for rel in sync.seen if rel}
    (tmp / "manifest.json").write_text(json.dumps(manifest))
    shutil.rmtree(final, ignore_errors=True)
    os.rename(tmp, final)
    return sync.copied


def restore(volume: str, name: str) -> Copied:
    """Make the volume equal to snapshot ``name`` again; what had to be copied."""
    snap = snapshot_dir(volume, name)
    if not has_snapshot(volume, name):
        raise UserError(
            f'volume "{volume}" has no snapshot "{name}"', hint="take it first: snapshot()"
        )
    sync = _Sync(json.loads((snap / "manifest.json").read_text()))
    sync.directory(snap / "data", volume_data(volume), "")
    sync.seen.pop("", None)
    (snap / "manifest.json").write_text(json.dumps(sync.seen))
    return sync.copied


def _signature(st: os.stat_result) -> Signature:
    return [st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_mode, st.st_uid, st.st_gid]


class _Sync:
    """One tree made equal to another. ``known``: signatures of the destination's entries
    that were equal to the source's (keyed by relative path); ``seen``: the same after it."""

    def __init__(self, known: dict[str, Signature]) -> None:
        self.known = known
        self.seen: dict[str, Signature] = {}
        self.copied = Copied()

    def directory(self, src: Path, dst: Path, rel: str) -> None:
        info = os.lstat(src)
        if not _is_dir(dst):
            _remove(dst)
            dst.mkdir()
        names = set()
        for entry in os.scandir(src):
            names.add(entry.name)
            self.entry(
                Path(entry.path), dst / entry.name, f"{rel}/{entry.name}" if rel else entry.name
            )
        for extra in os.listdir(dst):
            if extra not in names:
                _remove(dst / extra)
        _copy_meta(dst, info)
        self.seen[rel] = _signature(os.lstat(dst))

    def entry(self, src: Path, dst: Path, rel: str) -> None:
        info = os.lstat(src)
        if stat.S_ISDIR(info.st_mode):
            self.directory(src, dst, rel)
            return
        try:
            current: os.stat_result | None = os.lstat(dst)
        except FileNotFoundError:
            current = None
        if current is not None and self.known.get(rel) == _signature(current):
            self.seen[rel] = self.known[rel]  # untouched since it was equal
            return
        if stat.S_ISLNK(info.st_mode):
            target = os.readlink(src)
            if current is not None and stat.S_ISLNK(current.st_mode) and os.readlink(dst) == target:
                self.seen[rel] = _signature(current)
                return
            _remove(dst)
            os.symlink(target, dst)
            os.lchown(dst, info.st_uid, info.st_gid)
        elif stat.S_ISREG(info.st_mode):
            _remove(dst)
            _copy_file(src, dst, info)
            self.copied.add(Copied(1, info.st_size))
        else:
            return  # sockets, fifos, devices: not copied
        self.seen[rel] = _signature(os.lstat(dst))


def _is_dir(path: Path) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except FileNotFoundError:
        return False


def _remove(path: Path) -> None:
    if _is_dir(path):
        shutil.rmtree(path)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _copy_file(src: Path, dst: Path, info: os.stat_result) -> None:
    """A reflink when the filesystem can (O(1)), else an in-kernel copy."""
    fin = os.open(src, os.O_RDONLY)
    try:
        fout = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            if not _clone(fin, fout):
                _copy_range(fin, fout, info.st_size)
        finally:
            os.close(fout)
    finally:
        os.close(fin)
    _copy_meta(dst, info)


_CLONES = {"works": True}


def _clone(fin: int, fout: int) -> bool:
    if not _CLONES["works"]:
        return False
    try:
        fcntl.ioctl(fout, FICLONE, fin)
        return True
    except OSError as exc:
        if exc.errno in (errno.EOPNOTSUPP, errno.ENOTTY, errno.EINVAL, errno.EXDEV):
            _CLONES["works"] = False  # this filesystem cannot: do not ask per file
            return False
        raise


def _copy_range(fin: int, fout: int, size: int) -> None:
    left = size
    while left > 0:
        try:
            done = os.copy_file_range(fin, fout, min(left, 1 << 30))
        except OSError as exc:
            if exc.errno not in (errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP):
                raise
            done = os.sendfile(fout, fin, None, min(left, 1 << 30))
        if done == 0:
            break  # the file shrank meanwhile
        left -= done


def _copy_meta(path: Path, info: os.stat_result) -> None:
    os.chown(path, info.st_uid, info.st_gid)
    os.chmod(path, stat.S_IMODE(info.st_mode))
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
