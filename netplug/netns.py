"""Network namespaces: named netns files and per-thread namespace switching.

Network namespaces are per *thread* (setns/unshare with CLONE_NEWNET), so the calling thread can
enter a netns, open a netlink/UDP/TCP socket there (the socket stays bound to that netns) and come
back. Nothing here forks a helper process. Python 3.11 has no ``os.setns``; libc is used directly.
"""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from netplug.errors import KernelError

CLONE_NEWNET = 0x40000000
MS_BIND = 0x1000
MNT_DETACH = 0x2
T = TypeVar("T")
NetnsRef = str | os.PathLike[str] | None

_libc = ctypes.CDLL(None, use_errno=True)


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _setns(fd: int) -> None:
    _check(_libc.setns(fd, CLONE_NEWNET), "setns")


@contextmanager
def entered(netns: NetnsRef) -> Iterator[None]:
    """Run the body with the current thread inside ``netns`` (a netns file); None = stay."""
    if netns is None:
        yield
        return
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    try:
        target = _open_netns(netns)
        try:
            _setns(target)
        finally:
            os.close(target)
        try:
            yield
        finally:
            _setns(home)
    finally:
        os.close(home)


def _open_netns(netns: str | os.PathLike[str]) -> int:
    try:
        return os.open(netns, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError as exc:
        raise KernelError(f"netns {os.fspath(netns)}: does not exist") from exc


def call_in(netns: NetnsRef, fn: Callable[[], T]) -> T:
    """``fn()`` evaluated inside ``netns`` (sockets it opens stay in that netns)."""
    with entered(netns):
        return fn()


def default_run_dir() -> Path:
    env = os.environ.get("NETPLUG_RUN_DIR")
    if env:
        return Path(env)
    return Path(os.environ.get("PYCOMPOSE_RUN_DIR", "/run/pycompose")) / "netns"


def netns_path(name: str, run_dir: Path | None = None) -> Path:
    """The file pinning netns ``name``; a name that is not one path component is refused."""
    if not name or name in (".", "..") or "/" in name or "\0" in name or len(name) > 255:
        raise KernelError(f"netns {name!r}: not a valid netns name (one path component)")
    return (run_dir or default_run_dir()) / name


def create_netns(path: Path) -> Path:
    """A new, empty netns pinned by a bind mount on ``path`` (like ``ip netns add``). Idempotent."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and is_netns_file(path):
        return path
    path.touch(mode=0o444, exist_ok=True)
    try:
        _pin_new_netns(path)
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise KernelError(f"netns {path}: create: {exc.strerror or exc}") from exc
    return path


def _pin_new_netns(path: Path) -> None:
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    try:
        _check(_libc.unshare(CLONE_NEWNET), "unshare")
        try:
            src = f"/proc/{os.getpid()}/task/{threading.get_native_id()}/ns/net".encode()
            _check(_libc.mount(src, os.fsencode(path), b"none", MS_BIND, None), "mount")
            _loopback_up()
        finally:
            _setns(home)
    finally:
        os.close(home)


def _loopback_up() -> None:
    """``lo`` up in the current (fresh) netns, via SIOCSIFFLAGS (cheaper than netlink)."""
    import fcntl
    import socket
    import struct

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        ifreq = struct.pack("16sH14x", b"lo", 0x1 | 0x40)  # IFF_UP | IFF_RUNNING
        fcntl.ioctl(sock.fileno(), 0x8914, ifreq)  # SIOCSIFFLAGS


def is_netns_file(path: Path) -> bool:
    """True when ``path`` is a bind-mounted nsfs file (not a leftover empty file)."""
    try:
        return os.stat(path).st_dev != os.stat(path.parent).st_dev or _is_nsfs(path)
    except FileNotFoundError:
        return False


def _is_nsfs(path: Path) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        return os.readlink(f"/proc/self/fd/{fd}").startswith("net:")
    finally:
        os.close(fd)


def remove_netns(path: Path) -> None:
    """Unmount and delete a netns file; tolerant of absence and of a never-mounted file."""
    if not path.exists():
        return
    ret = _libc.umount2(os.fsencode(path), MNT_DETACH)
    if ret != 0 and ctypes.get_errno() not in (22, 2):  # EINVAL: not a mount point
        err = ctypes.get_errno()
        raise KernelError(f"netns {path}: umount: {os.strerror(err)}")
    path.unlink(missing_ok=True)


def create_replica_netns(name: str, *, run_dir: Path | None = None) -> Path:
    return create_netns(netns_path(name, run_dir))


def remove_replica_netns(name: str, *, run_dir: Path | None = None) -> None:
    remove_netns(netns_path(name, run_dir))
