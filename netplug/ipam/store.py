"""IPAM stores. ``DiskStore`` follows CNI host-local: a directory per network, one file per IP
(named by the IP, content ``<owner>\\r\\n<ifname>``, created O_EXCL), ``last_reserved_ip.0``
(IPv4) and ``last_reserved_ip.1`` (IPv6, host-local's second range set; both padded with
spaces, see ``_write_hint``) and a ``lock`` file taken with flock around every change. An
owner's interface holds one address per family."""

from __future__ import annotations

import fcntl
import ipaddress
import os
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Protocol

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
LAST = {4: "last_reserved_ip.0", 6: "last_reserved_ip.1"}
LOCK = "lock"


@contextmanager
def flocked(path: Path) -> Iterator[None]:
    """An exclusive flock on ``path`` (made, with its directory, on first use), held for the
    block; the kernel drops it when its holder dies."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


HINT_WIDTH = 40


class Store(Protocol):
    def locked(self) -> AbstractContextManager[None]: ...
    def reserve(self, ip: Address, owner: str, ifname: str) -> bool: ...
    def last_reserved(self, version: int = 4) -> Address | None: ...
    def get_by_owner(self, owner: str, ifname: str, version: int = 4) -> Address | None: ...
    def owner_of(self, ip: Address) -> tuple[str, str] | None: ...
    def owners(self) -> list[tuple[str, str]]: ...
    def release(self, owner: str, ifname: str | None, version: int | None = None) -> None: ...
    def entries(self) -> dict[Address, tuple[str, str]]: ...


def _matches(
    ip: Address, held: tuple[str, str], owner: str, ifname: str | None, version: int | None
) -> bool:
    return held[0] == owner and ifname in (None, held[1]) and version in (None, ip.version)


class MemoryStore:
    """In-memory fake with the same behaviour, for unit tests."""

    def __init__(self) -> None:
        self.table: dict[Address, tuple[str, str]] = {}
        self.last: dict[int, Address] = {}
        self._lock = threading.RLock()

    @contextmanager
    def locked(self) -> Iterator[None]:
        with self._lock:
            yield

    def reserve(self, ip: Address, owner: str, ifname: str) -> bool:
        if ip in self.table:
            return False
        self.table[ip] = (owner, ifname)
        self.last[ip.version] = ip
        return True

    def last_reserved(self, version: int = 4) -> Address | None:
        return self.last.get(version)

    def get_by_owner(self, owner: str, ifname: str, version: int = 4) -> Address | None:
        return next(
            (ip for ip, held in self.table.items() if _matches(ip, held, owner, ifname, version)),
            None,
        )

    def owner_of(self, ip: Address) -> tuple[str, str] | None:
        return self.table.get(ip)

    def owners(self) -> list[tuple[str, str]]:
        return list(self.table.values())

    def release(self, owner: str, ifname: str | None, version: int | None = None) -> None:
        for ip, held in list(self.table.items()):
            if _matches(ip, held, owner, ifname, version):
                del self.table[ip]

    def entries(self) -> dict[Address, tuple[str, str]]:
        return dict(self.table)


class DiskStore:
    def __init__(self, directory: Path) -> None:
        self.dir = directory

    @contextmanager
    def locked(self) -> Iterator[None]:
        with flocked(self.dir / LOCK):
            yield

    def reserve(self, ip: Address, owner: str, ifname: str) -> bool:
        """Create the IP's file with its content in one step (link of a written temp file), so a
        crash never leaves an empty reservation; an empty one from older code is reclaimed (the
        caller holds the lock, so nobody is writing it)."""
        target = self.dir / str(ip)
        if _read_entry(target) == ("", ""):
            target.unlink(missing_ok=True)
        tmp = self.dir / f"tmp-reserve-{os.getpid()}-{threading.get_native_id()}"
        tmp.write_bytes(f"{owner}\r\n{ifname}".encode())
        tmp.chmod(0o600)
        try:
            os.link(tmp, target)
        except FileExistsError:
            return False
        finally:
            tmp.unlink(missing_ok=True)
        _write_hint(self.dir / LAST[ip.version], str(ip))
        return True

    def last_reserved(self, version: int = 4) -> Address | None:
        try:
            return ipaddress.ip_address((self.dir / LAST[version]).read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def entries(self) -> dict[Address, tuple[str, str]]:
        found: dict[Address, tuple[str, str]] = {}
        try:
            listing = os.scandir(self.dir)
        except FileNotFoundError:
            return found
        with listing:
            for item in listing:
                ip = _as_ip(item.name)
                holder = _read_entry(item.path) if ip is not None else None
                if ip is not None and holder is not None:
                    found[ip] = holder
        return found

    def get_by_owner(self, owner: str, ifname: str, version: int = 4) -> Address | None:
        return next(
            (
                ip
                for ip, held in self.entries().items()
                if _matches(ip, held, owner, ifname, version)
            ),
            None,
        )

    def owner_of(self, ip: Address) -> tuple[str, str] | None:
        return _read_entry(self.dir / str(ip))

    def owners(self) -> list[tuple[str, str]]:
        return list(self.entries().values())

    def release(self, owner: str, ifname: str | None, version: int | None = None) -> None:
        for ip, held in self.entries().items():
            if _matches(ip, held, owner, ifname, version):
                (self.dir / str(ip)).unlink(missing_ok=True)


def _as_ip(name: str) -> Address | None:
    """The address a file of the store is named after (None: lock, last_*, temp files)."""
    if not name[:1].isalnum() or name.startswith(("last", "lock", "tmp")):
        return None
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        return None


def _looks_like_ip(name: str) -> bool:
    return _as_ip(name) is not None


def _read_entry(path: Path | str) -> tuple[str, str] | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        text = os.read(fd, 4096).decode()
    finally:
        os.close(fd)
    owner, _, ifname = text.partition("\r\n")
    return owner.strip(), ifname.strip()


def _write_hint(path: Path, text: str) -> None:
    """Overwrite the last-reserved hint in place, padded to a fixed width (IPv6's longest is
    39 characters): no rename over it and no truncation, each of which makes ext4 flush the
    file (auto_da_alloc: 0.3 ms an allocation on a quiet disk, several ms on a busy one).
    The caller holds the store's lock; a torn write after a crash only reads as no hint, and
    the round robin starts from the range's first address."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        os.pwrite(fd, text.ljust(HINT_WIDTH).encode(), 0)
    finally:
        os.close(fd)
