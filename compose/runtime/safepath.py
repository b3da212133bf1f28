"""Paths resolved inside a root with ``openat2(RESOLVE_IN_ROOT)``: no symlink, ``..`` or absolute
link can lead out of it, and nothing can be swapped between the check and the use, because the
caller gets an fd (and mounts, reads or writes through it, or through ``/proc/self/fd/N``).

    root = open_root("/proc/<pid>/root")        # or a rootfs dir, or a volume's _data
    fd = open_in_root(root, "/etc/shadow")      # the container's file, never the host's
    fd = makedirs_in_root(root, "/a/b", 0o755)   # created inside the root (O_PATH fd)
    fd = create_file_in_root(root, "/etc/hosts") # an existing or new regular file (O_PATH fd)

Used for mount targets in a container rootfs (``rootfs.apply_op``), volume copy-up
(``compose.runtime.copyup``), ``cp`` (``compose.runtime.containercp``) and volume ``subpath``.
The kernel's own limit applies to symlinks (40, then ELOOP). Needs Linux 5.6.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import stat
from collections.abc import Iterator

SYS_OPENAT2 = 437  # the same number on every architecture (added after the unification)
RESOLVE_NO_XDEV = 0x01
RESOLVE_NO_MAGICLINKS = 0x02
RESOLVE_NO_SYMLINKS = 0x04
RESOLVE_BENEATH = 0x08
RESOLVE_IN_ROOT = 0x10
IN_ROOT = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


class _OpenHow(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64)]


def openat2(dirfd: int, path: str, flags: int, mode: int = 0, resolve: int = IN_ROOT) -> int:
    how = _OpenHow(flags | os.O_CLOEXEC, mode, resolve)
    fd = _libc.syscall(
        SYS_OPENAT2,
        ctypes.c_int(dirfd),
        os.fsencode(path),
        ctypes.byref(how),
        ctypes.c_size_t(ctypes.sizeof(how)),
    )
    if fd < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{os.strerror(err)}: {path}")
    return int(fd)


def relative(path: str) -> str:
    """``path`` as openat2 wants it below a root: no leading "/", "." for the root itself."""
    return path.strip("/") or "."


def open_root(path: str) -> int:
    """An O_PATH fd of the directory ``path`` (e.g. ``/proc/<pid>/root``), to resolve in."""
    return os.open(path, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)


def open_in_root(root: int, path: str, flags: int = os.O_PATH, mode: int = 0) -> int:
    return openat2(root, relative(path), flags, mode)


def fd_path(fd: int) -> str:
    """A path naming the fd's own file (for mount(2), or for a tool that wants a path)."""
    return f"/proc/self/fd/{fd}"


MAX_LINKS = 40  # the kernel's own limit (ELOOP beyond it)


def _parts(path: str) -> list[str]:
    return [p for p in path.split("/") if p and p != "."]


def makedirs_in_root(root: int, path: str, mode: int = 0o755) -> int:
    """O_PATH fd of directory ``path`` inside ``root``, creating what is missing."""
    return _make(root, path, "dir", mode)


def create_file_in_root(root: int, path: str, mode: int = 0o644) -> int:
    """O_PATH fd of file ``path`` inside ``root``: the existing one, or a new empty file."""
    return _make(root, path, "file", mode)


def _make(root: int, path: str, kind: str, mode: int) -> int:
    """Walk ``path`` from ``root`` one component at a time, as the kernel would with ``root``
    as "/": a symlink (dangling ones too) is followed inside the root, ".." stops at it, and a
    missing component is created (a dir; the last one a ``kind``). Each step is reopened with
    RESOLVE_IN_ROOT, so a component swapped meanwhile cannot lead out either."""
    todo, done, links = _parts(path), [], 0
    current = os.dup(root)
    try:
        while todo:
            part = todo.pop(0)
            if part == "..":
                done = done[:-1]
                current = _reopen(root, done, current)
                continue
            try:
                st = os.stat(part, dir_fd=current, follow_symlinks=False)
            except FileNotFoundError:
                _create(current, part, "dir" if todo else kind, mode)
                st = os.stat(part, dir_fd=current, follow_symlinks=False)
            if stat.S_ISLNK(st.st_mode):
                links += 1
                if links > MAX_LINKS:
                    raise OSError(errno.ELOOP, f"{os.strerror(errno.ELOOP)}: {path}")
                target = os.readlink(part, dir_fd=current)
                done = [] if target.startswith("/") else done
                todo = _parts(target) + todo
                current = _reopen(root, done, current)
                continue
            done.append(part)
            flags = os.O_PATH | (os.O_DIRECTORY if todo or kind == "dir" else 0)
            step = openat2(root, "/".join(done), flags)
            os.close(current)
            current = step
        return current
    except BaseException:
        os.close(current)
        raise


def _reopen(root: int, done: list[str], current: int) -> int:
    step = openat2(root, "/".join(done) or ".", os.O_PATH | os.O_DIRECTORY)
    os.close(current)
    return step


def _create(parent: int, name: str, kind: str, mode: int) -> None:
    try:
        if kind == "dir":
            os.mkdir(name, mode, dir_fd=parent)
        else:
            flags = os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC
            os.close(os.open(name, flags, mode, dir_fd=parent))
    except FileExistsError:
        pass  # made meanwhile: the walk looks at it again


@contextlib.contextmanager
def closing(fd: int) -> Iterator[int]:
    try:
        yield fd
    finally:
        os.close(fd)
