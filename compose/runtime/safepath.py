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
DIR_MODE = 0o755  # the parents made on the way (runc's)


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
    todo, done, links = _parts(path), list[str](), 0
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
                last = not todo
                _create(current, part, kind if last else "dir", mode if last else DIR_MODE)
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


# copying trees through fds -----------------------------------------------------------------
DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def copy_tree(src: int, dst: int, *, keep_owner: bool = True, merge: bool = False) -> None:
    """Copy directory ``src`` (an fd) into directory ``dst`` (an fd), then give ``dst`` the
    mode and times (and owner) of ``src``. Nothing on either side is followed: symlinks are
    copied as symlinks; devices, fifos and sockets are skipped. ``merge=False``: ``dst`` is
    empty and every entry is new (O_EXCL); ``merge=True``: existing dirs are reused, files
    overwritten, links replaced, and a symlink where a dir or file goes is an error (ELOOP)."""
    for entry in os.scandir(src):
        _copy_entry(src, dst, entry.name, keep_owner, merge)
    copy_attrs(os.fstat(src), dst, keep_owner)


def _copy_entry(src: int, dst: int, name: str, keep_owner: bool, merge: bool) -> None:
    info = os.stat(name, dir_fd=src, follow_symlinks=False)
    if stat.S_ISDIR(info.st_mode):
        try:
            os.mkdir(name, 0o700, dir_fd=dst)
        except FileExistsError:
            if not merge:
                raise
        with closing(os.open(name, DIR_FLAGS, dir_fd=src)) as sub_src:
            with closing(os.open(name, DIR_FLAGS, dir_fd=dst)) as sub_dst:
                copy_tree(sub_src, sub_dst, keep_owner=keep_owner, merge=merge)
    elif stat.S_ISREG(info.st_mode):
        with closing(os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=src)) as r:
            flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
            flags |= os.O_TRUNC if merge else os.O_EXCL
            with closing(os.open(name, flags, 0o600, dir_fd=dst)) as w:
                copy_data(r, w, info.st_size)
                copy_attrs(info, w, keep_owner)
    elif stat.S_ISLNK(info.st_mode):
        if merge:
            with contextlib.suppress(FileNotFoundError):
                if stat.S_ISLNK(os.stat(name, dir_fd=dst, follow_symlinks=False).st_mode):
                    os.unlink(name, dir_fd=dst)
        os.symlink(os.readlink(name, dir_fd=src), name, dir_fd=dst)
        if keep_owner:
            os.chown(name, info.st_uid, info.st_gid, dir_fd=dst, follow_symlinks=False)
        os.utime(name, ns=_times(info), dir_fd=dst, follow_symlinks=False)


def copy_data(src: int, dst: int, size: int) -> None:
    offset = 0
    while offset < size:  # sendfile: copy_file_range refuses overlay -> ext4
        sent = os.sendfile(dst, src, offset, size - offset)
        if sent == 0:
            break
        offset += sent


def copy_attrs(info: os.stat_result, fd: int, keep_owner: bool = True) -> None:
    if keep_owner:
        os.fchown(fd, info.st_uid, info.st_gid)
    os.fchmod(fd, stat.S_IMODE(info.st_mode))  # after chown, which clears setuid bits
    os.utime(fd, ns=_times(info))


def _times(info: os.stat_result) -> tuple[int, int]:
    return info.st_atime_ns, info.st_mtime_ns


@contextlib.contextmanager
def closing(fd: int) -> Iterator[int]:
    try:
        yield fd
    finally:
        os.close(fd)
