"""A shared lower layer with the files the generated /etc binds are mounted on.

An image without ``/etc/hosts``, ``/etc/resolv.conf`` or ``/etc/hostname`` made every container
create them in its writable layer before the bind (and copy ``/etc`` up first): two to four new
inodes and an overlay copy-up per container, on a filesystem that pays for each allocation
(ext4 without a journal scans past every inode freed in the last 30 s). Docker keeps such
mount points in a per-container init layer; here one layer per (``/etc`` mode, owner, missing
names) serves every container of every image that matches, so a create allocates none.

``with_mountpoints(spec)`` puts that layer on top of the image's layers. Nothing the container
sees changes: the files are covered by their binds, and the layer's ``/etc`` has the image's
``/etc`` mode and owner (it is the merged ``/etc``'s topmost lower dir). The layer is only used
when the image's merged ``/etc`` is a plain directory and each name is simply absent (not a
symlink, not anything else): otherwise the container creates its mount points as before.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from msgspec.structs import replace

from compose import paths
from compose.images.layertar import is_opaque
from compose.runtime.spec import ContainerSpec


def with_mountpoints(spec: ContainerSpec) -> ContainerSpec:
    """``spec`` with the shared mount point layer on top of its image layers, when one applies."""
    names = tuple(sorted(_etc_names(spec)))
    if not names or not spec.layers:
        return spec
    layer = _layer(spec.layers, names)
    if layer is None:
        return spec
    return replace(spec, layers=(*spec.layers, layer))


def _etc_names(spec: ContainerSpec) -> list[str]:
    """The names of the spec's /etc binds directly in /etc (``/etc/hosts`` -> ``hosts``)."""
    out = []
    for target, _source in spec.etc_files:
        parent, _, name = target.rpartition("/")
        if parent == "/etc" and name not in ("", ".", ".."):
            out.append(name)
    return out


def _layer(layers: Sequence[Path], names: tuple[str, ...]) -> Path | None:
    found = _planned(tuple(layers), names)
    if found is None:
        return None
    key, etc_mode, uid, gid, missing = found
    path = paths.mountpoints_dir() / key
    if not path.is_dir():
        _make(path, etc_mode, uid, gid, missing)
    return path if path.is_dir() else None  # could not be made: mount points as before


@lru_cache(maxsize=64)
def _planned(
    layers: tuple[Path, ...], names: tuple[str, ...]
) -> tuple[str, int, int, int, tuple[str, ...]] | None:
    """(key, /etc mode, uid, gid, missing names) for the image ``layers``, or None."""
    etc = _merged_etc(layers)
    if etc is None:
        return None
    missing = tuple(n for n in names if _absent(layers, n))
    if not missing:
        return None
    mode = stat.S_IMODE(etc.st_mode)
    key = f"etc-{mode:o}-{etc.st_uid}-{etc.st_gid}-{'-'.join(missing)}"
    return key, mode, etc.st_uid, etc.st_gid, missing


def _merged_etc(layers: Sequence[Path]) -> os.stat_result | None:
    """The stat of the image's /etc if it is a plain directory (its topmost entry), else None."""
    for layer in reversed(layers):
        try:
            st = os.lstat(layer / "etc")
        except FileNotFoundError:
            continue
        return st if stat.S_ISDIR(st.st_mode) else None  # a symlink, a whiteout, a file
    return None


def _absent(layers: Sequence[Path], name: str) -> bool:
    """Is /etc/<name> simply missing in the merged image (a whiteout counts as missing)?"""
    for layer in reversed(layers):
        etc = layer / "etc"
        try:
            if not stat.S_ISDIR(os.lstat(etc).st_mode):
                return True  # /etc replaced here: nothing below shows
        except FileNotFoundError:
            continue  # this layer leaves /etc alone
        try:
            return _whiteout(os.lstat(etc / name))
        except FileNotFoundError:
            if is_opaque(str(etc)):
                return True
    return True


def _whiteout(st: os.stat_result) -> bool:
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def _make(path: Path, etc_mode: int, uid: int, gid: int, names: Sequence[str]) -> None:
    """Build the layer beside its final place and rename it there (another supervisor may race
    us: the first rename wins, the loser's copy goes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=path.parent))
    try:  # the layer's root stays 0700 (mkdtemp): overlay reads lower dirs as the mounter
        etc = tmp / "etc"
        etc.mkdir()
        for name in names:
            fd = os.open(etc / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            os.fchmod(fd, 0o644)
            os.close(fd)
        os.chown(etc, uid, gid)
        os.chmod(etc, etc_mode)
        with contextlib.suppress(OSError):  # another one is there (ENOTEMPTY) or none
            os.rename(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
