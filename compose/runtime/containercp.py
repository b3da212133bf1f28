"""``cp`` between a running container and the host, with the container's paths resolved inside
its root: ``/proc/<pid>/root`` opened once, then ``openat2(RESOLVE_IN_ROOT)`` (``safepath``).
A container's ``/hostroot -> /`` or ``/tmp/dst -> /host/dir`` symlink is followed inside the
container, as Docker does, never on the host; trees are copied through fds only.

Semantics (``docker cp``): a directory destination receives the source under its own name;
``-L`` follows the source's symlink (inside the container), else a symlink is copied as one;
``-a`` keeps uid/gid, else the copy belongs to root (to the caller, copying out). A missing
destination parent is an error, as Docker's "Could not find the file ... in container".
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import stat
from pathlib import Path

from compose.errors import UserError
from compose.procfs import process_start_time
from compose.runtime import safepath

_WRITE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC


def copy(
    pid: int,
    start_time: int | None,
    subject: str,
    paths: tuple[str, str],
    *,
    into_container: bool,
    follow: bool = False,
    archive: bool = False,
) -> None:
    """``paths`` = (source, destination); the container's one is ``into_container``'s."""
    src, dst = paths
    with safepath.closing(open_root(pid, start_time, subject)) as root:
        if into_container:
            copy_to(root, Path(src), dst, archive=archive, subject=subject)
        else:
            copy_from(root, src, Path(dst), follow=follow, archive=archive, subject=subject)


def open_root(pid: int, start_time: int | None, subject: str) -> int:
    """The container's root as an fd (checked to still be the same process afterwards)."""
    try:
        root = safepath.open_root(f"/proc/{pid}/root")
    except OSError as err:
        raise UserError(f"{subject}: cp: the container is not running") from err
    if start_time is not None and process_start_time(pid) != start_time:
        os.close(root)
        raise UserError(f"{subject}: cp: the container is not running")
    return root


def copy_from(root: int, src: str, dst: Path, *, follow: bool, archive: bool, subject: str) -> None:
    """Container ``src`` → host ``dst``."""
    parent_path, name = _split(src)
    with safepath.closing(_open_dir(root, parent_path, src, subject)) as parent:
        info = _lstat(parent, name, src, subject)
        if stat.S_ISLNK(info.st_mode) and follow:
            with safepath.closing(_open(root, src, os.O_PATH, subject)) as fd:
                info = os.fstat(fd)
        target = dst / (name or "root") if dst.is_dir() else dst
        if stat.S_ISLNK(info.st_mode):
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
            os.symlink(os.readlink(name, dir_fd=parent), target)
        elif stat.S_ISDIR(info.st_mode):
            target.mkdir(exist_ok=True)
            with (
                safepath.closing(_open(root, src, os.O_RDONLY | os.O_DIRECTORY, subject)) as s,
                safepath.closing(os.open(target, safepath.DIR_FLAGS)) as d,
            ):
                safepath.copy_tree(s, d, keep_owner=archive, merge=True)
        elif stat.S_ISREG(info.st_mode):
            with (
                safepath.closing(_open(root, src, os.O_RDONLY, subject)) as s,
                safepath.closing(os.open(target, _WRITE, 0o600)) as d,
            ):
                _copy_file(s, d, archive)
        else:
            raise UserError(f"{subject}: cp: {src} is not a regular file, directory or link")


def copy_to(root: int, src: Path, dst: str, *, archive: bool, subject: str) -> None:
    """Host ``src`` → container ``dst``."""
    if not src.exists() and not src.is_symlink():
        raise UserError(f"cp: no such file or directory: {src}")
    into = _existing_dir(root, dst)
    parent_path, name = (dst, src.name) if into else _split(dst)
    if not name:
        raise UserError(f"{subject}: cp: cannot write to the container's root itself")
    with safepath.closing(_open_dir(root, parent_path, dst, subject)) as parent:
        inside = posixpath.join("/", parent_path, name)
        if src.is_symlink():
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name, dir_fd=parent)
            os.symlink(os.readlink(src), name, dir_fd=parent)
        elif src.is_dir():
            with contextlib.suppress(FileExistsError):
                os.mkdir(name, 0o755, dir_fd=parent)
            with (
                safepath.closing(os.open(src, safepath.DIR_FLAGS & ~os.O_NOFOLLOW)) as s,
                safepath.closing(_open(root, inside, os.O_RDONLY | os.O_DIRECTORY, subject)) as d,
            ):
                safepath.copy_tree(s, d, keep_owner=archive, merge=True)
        else:
            with (
                safepath.closing(os.open(src, os.O_RDONLY | os.O_CLOEXEC)) as s,
                safepath.closing(_open(root, inside, _WRITE, subject, 0o644)) as d,
            ):
                _copy_file(s, d, archive)


def _copy_file(src: int, dst: int, archive: bool) -> None:
    info = os.fstat(src)
    os.ftruncate(dst, 0)
    safepath.copy_data(src, dst, info.st_size)
    safepath.copy_attrs(info, dst, keep_owner=archive)


def _split(path: str) -> tuple[str, str]:
    clean = posixpath.normpath("/" + path)
    return posixpath.dirname(clean), posixpath.basename(clean)


def _existing_dir(root: int, path: str) -> bool:
    try:
        fd = safepath.open_in_root(root, path, os.O_PATH | os.O_DIRECTORY)
    except OSError:
        return False
    os.close(fd)
    return True


def _open(root: int, path: str, flags: int, subject: str, mode: int = 0) -> int:
    try:
        return safepath.open_in_root(root, path, flags, mode)
    except FileNotFoundError:
        raise UserError(f"{subject}: cp: could not find the file {path} in the container") from None
    except OSError as err:
        raise UserError(f"{subject}: cp: {path}: {err.strerror}") from None


def _open_dir(root: int, path: str, shown: str, subject: str) -> int:
    try:
        return safepath.open_in_root(root, path, os.O_PATH | os.O_DIRECTORY)
    except (FileNotFoundError, NotADirectoryError):
        raise UserError(
            f"{subject}: cp: could not find the file {shown} in the container"
        ) from None


def _lstat(parent: int, name: str, shown: str, subject: str) -> os.stat_result:
    try:
        return os.stat(name or ".", dir_fd=parent, follow_symlinks=False)
    except FileNotFoundError:
        raise UserError(
            f"{subject}: cp: could not find the file {shown} in the container"
        ) from None
