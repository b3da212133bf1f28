"""IPAM stores. ``DiskStore`` follows CNI host-local: a directory per network, one file per IP
(named by the IP, content ``<owner>\\r\\n<ifname>``, created O_EXCL), ``last_reserved_ip.0``
(IPv4) and ``last_reserved_ip.1`` (IPv6, host-local's second range set; both padded with
spaces, see ``_write_hint``) and a ``lock`` file taken with flock around every change. An
owner's interface holds one address per family.

An owner index beside them (pycompose's, not host-local's): each reservation's file has a
second name, ``owner-<digest of owner>-<address>-<ifname>``, a hard link to the same inode
(no inode more to allocate, which costs on an ext4 without a journal). Finding or releasing
an owner's addresses then reads the directory's names instead of every reservation file:
with n replicas on a network each attach read n files under the lock, n^2 over a scale-up.
A name is the owner's only while it is the same inode as the address's file (a released and
re-reserved address is a new inode, and the old one lives on while its stale name does). The
index is trusted only in a directory marked ``index.v1``, which a store gets when it is first
locked empty; a directory holding reservations from before the index keeps being searched
file by file."""

from __future__ import annotations

import fcntl
import hashlib
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
INDEXED = "index.v1"  # the owner names below are complete for this directory
OWNER_NAME = "owner-"


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
        self._indexed = False  # once seen marked, a directory stays marked

    @contextmanager
    def locked(self) -> Iterator[None]:
        with flocked(self.dir / LOCK):
            if not self.indexed() and all(_as_ip(n) is None for n in os.listdir(self.dir)):
                (self.dir / INDEXED).touch()
                self._indexed = True
            yield

    def indexed(self) -> bool:
        """The owner names are complete here (see the module's doc)."""
        if not self._indexed:
            self._indexed = (self.dir / INDEXED).exists()
        return self._indexed

    def reserve(self, ip: Address, owner: str, ifname: str) -> bool:
        """Create the IP's file with its content in one step (link of a written temp file), so a
        crash never leaves an empty reservation; an empty one from older code is reclaimed (the
        caller holds the lock, so nobody is writing it). The owner's name is linked first: a
        crash between the two leaves a name that is no address's file (ignored), never a
        reservation that the index misses."""
        target = self.dir / str(ip)
        if _read_entry(target) == ("", ""):
            target.unlink(missing_ok=True)
        tmp = self.dir / f"tmp-reserve-{os.getpid()}-{threading.get_native_id()}"
        tmp.write_bytes(f"{owner}\r\n{ifname}".encode())
        tmp.chmod(0o600)
        name = self.dir / _owner_name(owner, ip, ifname) if self.indexed() else None
        try:
            if name is not None:
                name.unlink(missing_ok=True)
                os.link(tmp, name)
            os.link(tmp, target)
        except FileExistsError:
            if name is not None:
                name.unlink(missing_ok=True)
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
        if self.indexed():
            return next((ip for ip, _ in self._owned(owner, ifname, version)), None)
        return next(
            (
                ip
                for ip, held in self.entries().items()
                if _matches(ip, held, owner, ifname, version)
            ),
            None,
        )

    def _owned(
        self, owner: str, ifname: str | None, version: int | None
    ) -> list[tuple[Address, str]]:
        """(address, name) of the owner's names for ``ifname`` (None: every interface) and
        ``version`` (None: both) that are still the same inode as their address's file (a
        stale one is skipped here and removed by ``release``)."""
        return [
            (ip, name)
            for name, ip, held_ifname in self._names_of(owner)
            if _matches(ip, (owner, held_ifname), owner, ifname, version) and self._same(name, ip)
        ]

    def _names_of(self, owner: str) -> list[tuple[str, Address, str]]:
        """(name, address, ifname) of every name the owner has here, stale ones too."""
        prefix = _owner_name(owner, None, None)
        found = []
        for name in os.listdir(self.dir):
            if name.startswith(prefix):
                text, _, ifname = name[len(prefix) :].partition("-")
                ip = _as_ip(text)
                if ip is not None:
                    found.append((name, ip, ifname))
        return found

    def _same(self, name: str, ip: Address) -> bool:
        try:
            return os.stat(self.dir / name).st_ino == os.stat(self.dir / str(ip)).st_ino
        except FileNotFoundError:
            return False

    def owner_of(self, ip: Address) -> tuple[str, str] | None:
        return _read_entry(self.dir / str(ip))

    def owners(self) -> list[tuple[str, str]]:
        return list(self.entries().values())

    def release(self, owner: str, ifname: str | None, version: int | None = None) -> None:
        if not self.indexed():
            for ip, held in self.entries().items():
                if _matches(ip, held, owner, ifname, version):
                    (self.dir / str(ip)).unlink(missing_ok=True)
            return
        for name, ip, held_ifname in self._names_of(owner):
            if not self._same(name, ip):  # stale: no address of the owner's behind it
                (self.dir / name).unlink(missing_ok=True)
            elif _matches(ip, (owner, held_ifname), owner, ifname, version):
                (self.dir / str(ip)).unlink(missing_ok=True)
                (self.dir / name).unlink(missing_ok=True)


def _owner_name(owner: str, ip: Address | None, ifname: str | None) -> str:
    """``owner-<digest>-<address>-<ifname>`` (the digest keeps any owner text a file name;
    an address has no "-"); with ``ip`` None, the owner's prefix."""
    digest = hashlib.blake2b(owner.encode(), digest_size=12).hexdigest()
    prefix = f"{OWNER_NAME}{digest}-"
    return prefix if ip is None else f"{prefix}{ip}-{ifname}"


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
