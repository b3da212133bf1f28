"""Subnets for networks: the configured one, or the first free block of an address pool that
overlaps neither a route of the host netns nor another netplug network, for IPv4 and (with
``enable_ipv6``) IPv6. Each network's choice is recorded in ``<root>/<key>/network.json`` so
every later call (and every project) sees it.

Pools are Docker's ``default-address-pools`` entries (base, size). Without an IPv4 pool:
172.28.0.0/14 in /24s. Without an IPv6 pool: /64s of a unique local /48 (RFC 4193: fd + a
40-bit random global ID), drawn once per IPAM root and kept in ``<root>/ula-prefix``, as
Docker 27 derives one from its engine ID.
"""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
import socket
import struct
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from netplug.errors import AddressExhausted, NetworkConfigError
from netplug.ipam.allocator import Network, make_range
from netplug.ipam.store import flocked
from netplug.types import AddressPool, NetworkConfig

Net = ipaddress.IPv4Network
DEFAULT_POOL = "172.28.0.0/14"
DEFAULT_PREFIX = 24
DEFAULT_PREFIX6 = 64
RECORD = "network.json"
ULA_FILE = "ula-prefix"


@dataclass(frozen=True, slots=True)
class Assigned:
    subnet: str
    gateway: str
    ip_range: str | None = None
    subnet6: str | None = None
    gateway6: str | None = None
    ip_range6: str | None = None


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


def parse_ipv6_route_table(text: str) -> list[ipaddress.IPv6Network]:
    """Destinations of ``/proc/net/ipv6_route`` (32 hex digits, hex prefix length), default
    routes excluded."""
    nets: list[ipaddress.IPv6Network] = []
    for line in text.splitlines():
        cols = line.split()
        if len(cols) < 2 or len(cols[0]) != 32:
            continue
        prefix = int(cols[1], 16)
        if prefix > 0:
            address = ipaddress.IPv6Address(int(cols[0], 16))
            nets.append(ipaddress.IPv6Network(f"{address}/{prefix}", strict=False))
    return nets


def host_routes() -> list[Network]:
    """Routed destinations of both families in the current thread's netns (enter the host
    netns first)."""
    nets: list[Network] = list(parse_route_table(Path("/proc/thread-self/net/route").read_text()))
    try:
        nets += parse_ipv6_route_table(Path("/proc/thread-self/net/ipv6_route").read_text())
    except FileNotFoundError:  # IPv6 disabled on this host
        pass
    return nets


def pick_subnet(pool: Network, prefix: int, taken: Iterable[Network]) -> Network:
    used = [n for n in taken if n.version == pool.version]
    for candidate in pool.subnets(new_prefix=prefix):
        if not any(candidate.overlaps(other) for other in used):
            return candidate
    raise AddressExhausted(
        f"address pool {pool}: every /{prefix} overlaps a host route or another network",
        hint="remove unused networks or set ipam.config.subnet explicitly",
    )


def ula_pool(root: Path) -> AddressPool:
    """This IPAM root's unique local /48 (drawn on first use; caller holds the pool lock)."""
    path = root / ULA_FILE
    try:
        return AddressPool(path.read_text().strip(), DEFAULT_PREFIX6)
    except FileNotFoundError:
        pass
    global_id = secrets.token_bytes(5)
    base = ipaddress.IPv6Network((b"\xfd" + global_id + bytes(10), 48))
    path.write_text(f"{base}\n")
    return AddressPool(str(base), DEFAULT_PREFIX6)


def pools_of(version: int, pools: Sequence[AddressPool], root: Path) -> list[AddressPool]:
    """The configured pools of one family, else its default."""
    mine = [p for p in pools if ipaddress.ip_network(p.base, strict=False).version == version]
    if mine:
        return mine
    return [AddressPool(DEFAULT_POOL, DEFAULT_PREFIX)] if version == 4 else [ula_pool(root)]


def record_path(root: Path, key: str) -> Path:
    return root / key / RECORD


def read_record(root: Path, key: str) -> Assigned | None:
    try:
        data = json.loads(record_path(root, key).read_text())
    except (FileNotFoundError, ValueError):
        return None
    fields = ("ip_range", "subnet6", "gateway6", "ip_range6")
    return Assigned(data["subnet"], data["gateway"], *(data.get(f) for f in fields))


def _write_record(root: Path, key: str, assigned: Assigned) -> None:
    path = record_path(root, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    _sweep_dead_writers(path)
    tmp = path.with_name(f".{RECORD}.{os.getpid()}")
    data = {"subnet": assigned.subnet, "gateway": assigned.gateway, "ip_range": assigned.ip_range}
    if assigned.subnet6 is not None:
        data |= {
            "subnet6": assigned.subnet6,
            "gateway6": assigned.gateway6,
            "ip_range6": assigned.ip_range6,
        }
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


def _sweep_dead_writers(path: Path) -> None:
    """Temp files of writers killed before their rename (``.network.json.<pid>``)."""
    for tmp in path.parent.glob(f".{RECORD}.*"):
        pid = tmp.name.rsplit(".", 1)[1]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            tmp.unlink(missing_ok=True)


def other_subnets(root: Path, key: str) -> list[Network]:
    """Subnets of both families recorded by the other networks."""
    nets: list[Network] = []
    for path in root.glob(f"*/{RECORD}"):
        record = read_record(root, path.parent.name)
        if record is not None and path.parent.name != key:
            nets.append(Net(record.subnet))
            if record.subnet6 is not None:
                nets.append(ipaddress.IPv6Network(record.subnet6))
    return nets


def pool_lock(root: Path) -> AbstractContextManager[None]:
    return flocked(root / "pool.lock")


HOST_LOCK = Path("/run/netplug/subnets.lock")


def host_lock(path: Path = HOST_LOCK) -> AbstractContextManager[None]:
    """Held from reading the host's routes until the new bridge has its address (the route that
    marks the subnet taken): two IPAM roots on one host (two state dirs, e.g. parallel test
    runs, or pycompose and a build) would otherwise pick the same free subnet. Like iptables'
    /run/xtables.lock, a file lock that dies with its holder."""
    return flocked(path)


def assign(
    root: Path,
    cfg: NetworkConfig,
    routes: list[Network],
    pools: Sequence[AddressPool] = (),
) -> Assigned:
    """The network's subnets: explicit, previously recorded, or newly picked from ``pools``
    (IPv6 only with ``cfg.enable_ipv6``; turning it on later adds a subnet, the IPv4 one stays)."""
    with pool_lock(root):
        existing = read_record(root, cfg.key)
        others = other_subnets(root, cfg.key)
        v4 = _family(
            4, (cfg.subnet, cfg.gateway, cfg.ip_range), existing, routes, others, pools, root
        )
        v6: Part = (None, None, None)
        if cfg.enable_ipv6:
            want6 = (cfg.subnet6, cfg.gateway6, cfg.ip_range6)
            v6 = _family(6, want6, existing, routes, others, pools, root)
        wanted = Assigned(*v4, *v6)  # type: ignore[arg-type]
        if wanted != existing:
            _write_record(root, cfg.key, wanted)
        return wanted


Part = tuple[str | None, str | None, str | None]  # subnet, gateway, ip_range


def _family(
    version: int,
    want: Part,
    existing: Assigned | None,
    routes: list[Network],
    others: list[Network],
    pools: Sequence[AddressPool],
    root: Path,
) -> Part:
    subnet, gateway, ip_range = want
    if subnet is not None:
        chosen = _explicit(version, subnet, gateway, ip_range)
        _check_conflicts(ipaddress.ip_network(chosen[0] or ""), others)
        return chosen
    recorded = _recorded(version, existing)
    if recorded[0] is not None:
        return recorded
    for pool in pools_of(version, pools, root):
        base = ipaddress.ip_network(pool.base, strict=False)
        try:
            net = pick_subnet(base, pool.size, [*routes, *others])
        except AddressExhausted:
            continue
        return str(net), str(net.network_address + 1), None
    raise AddressExhausted(
        f"no free IPv{version} subnet in the address pools "
        f"{', '.join(p.base for p in pools_of(version, pools, root))}",
        hint="remove unused networks or set ipam.config.subnet explicitly",
    )


def _recorded(version: int, existing: Assigned | None) -> Part:
    if existing is None:
        return None, None, None
    if version == 4:
        return existing.subnet, existing.gateway, existing.ip_range
    return existing.subnet6, existing.gateway6, existing.ip_range6


def _explicit(version: int, subnet: str, gateway: str | None, ip_range: str | None) -> Part:
    rng = make_range(subnet, gateway, ip_range)
    if rng.version != version:
        raise NetworkConfigError(f"subnet {subnet}: not an IPv{version} subnet")
    return str(rng.subnet), str(rng.gateway), ip_range


def _check_conflicts(net: Network, others: list[Network]) -> None:
    for other in others:
        if other.version == net.version and other.overlaps(net):
            raise NetworkConfigError(f"subnet {net} overlaps another network's {other}")


def forget(root: Path, key: str) -> None:
    with pool_lock(root):
        record_path(root, key).unlink(missing_ok=True)
