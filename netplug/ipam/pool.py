"""Subnets for networks: the configured one, or the first free block of a default pool that
overlaps neither a route of the host netns nor another netplug network. Each network's choice is
recorded in ``<root>/<key>/network.json`` so every later call (and every project) sees it."""

from __future__ import annotations

import fcntl
import ipaddress
import json
import os
import socket
import struct
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from netplug.errors import AddressExhausted, NetworkConfigError
from netplug.ipam.allocator import make_range

Net = ipaddress.IPv4Network
DEFAULT_POOL = "172.28.0.0/14"
DEFAULT_PREFIX = 24
RECORD = "network.json"


@dataclass(frozen=True, slots=True)
class Assigned:
    subnet: str
    gateway: str
    ip_range: str | None = None


def parse_route_table(text: str) -> list[Net]:
    """Destinations of ``/proc/net/route`` (hex, little endian), default route excluded."""
    nets: list[Net] = []
    for line in text.splitlines()[1:]:
        cols = line.split()
        if len(cols) < 8:
            continue
        dest, mask = (socket.inet_ntoa(struct.pack("<I", int(c, 16))) for c in (cols[1], cols[7]))
        net = Net(f"{dest}/{mask}", strict=False)
        if net.prefixlen > 0:
            nets.append(net)
    return nets


def host_routes() -> list[Net]:
    """Routed IPv4 destinations of the current thread's netns (enter the host netns first)."""
    return parse_route_table(Path("/proc/thread-self/net/route").read_text())


def pick_subnet(pool: Net, prefix: int, taken: Iterable[Net]) -> Net:
    used = list(taken)
    for candidate in pool.subnets(new_prefix=prefix):
        if not any(candidate.overlaps(other) for other in used):
            return candidate
    raise AddressExhausted(
        f"address pool {pool}: every /{prefix} overlaps a host route or another network",
        hint="remove unused networks or set ipam.config.subnet explicitly",
    )


def record_path(root: Path, key: str) -> Path:
    return root / key / RECORD


def read_record(root: Path, key: str) -> Assigned | None:
    try:
        data = json.loads(record_path(root, key).read_text())
    except (FileNotFoundError, ValueError):
        return None
    return Assigned(data["subnet"], data["gateway"], data.get("ip_range"))


def _write_record(root: Path, key: str, assigned: Assigned) -> None:
    path = record_path(root, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    _sweep_dead_writers(path)
    tmp = path.with_name(f".{RECORD}.{os.getpid()}")
    tmp.write_text(
        json.dumps(
            {"subnet": assigned.subnet, "gateway": assigned.gateway, "ip_range": assigned.ip_range}
        )
    )
    os.replace(tmp, path)


def _sweep_dead_writers(path: Path) -> None:
    """Temp files of writers killed before their rename (``.network.json.<pid>``)."""
    for tmp in path.parent.glob(f".{RECORD}.*"):
        pid = tmp.name.rsplit(".", 1)[1]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            tmp.unlink(missing_ok=True)


def other_subnets(root: Path, key: str) -> list[Net]:
    nets = []
    for path in root.glob(f"*/{RECORD}"):
        record = read_record(root, path.parent.name)
        if record is not None and path.parent.name != key:
            nets.append(Net(record.subnet))
    return nets


@contextmanager
def pool_lock(root: Path) -> Iterator[None]:
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root / "pool.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def assign(
    root: Path,
    key: str,
    subnet: str | None,
    gateway: str | None,
    ip_range: str | None,
    routes: list[Net],
    pool: str = DEFAULT_POOL,
) -> Assigned:
    """The network's subnet: explicit, previously recorded, or newly picked from ``pool``."""
    with pool_lock(root):
        existing = read_record(root, key)
        if subnet is not None:
            wanted = _explicit(subnet, gateway, ip_range)
            _check_conflicts(root, key, Net(wanted.subnet), existing)
        elif existing is not None:
            return existing
        else:
            net = pick_subnet(Net(pool), DEFAULT_PREFIX, [*routes, *other_subnets(root, key)])
            wanted = Assigned(str(net), str(net.network_address + 1))
        _write_record(root, key, wanted)
        return wanted


def _explicit(subnet: str, gateway: str | None, ip_range: str | None) -> Assigned:
    rng = make_range(subnet, gateway, ip_range)
    return Assigned(str(rng.subnet), str(rng.gateway), ip_range)


def _check_conflicts(root: Path, key: str, net: Net, existing: Assigned | None) -> None:
    for other in other_subnets(root, key):
        if other.overlaps(net):
            raise NetworkConfigError(
                f"network {key}: subnet {net} overlaps another network {other}"
            )


def forget(root: Path, key: str) -> None:
    with pool_lock(root):
        record_path(root, key).unlink(missing_ok=True)
