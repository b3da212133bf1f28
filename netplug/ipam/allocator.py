"""Pure address allocation over a ``Store`` (CNI host-local's allocator, in small steps)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from netplug.errors import AddressExhausted, NetworkConfigError
from netplug.ipam.store import Store

IPv4 = ipaddress.IPv4Address
OwnerAlive = Callable[[str], bool]


@dataclass(frozen=True, slots=True)
class Range:
    subnet: ipaddress.IPv4Network
    gateway: IPv4
    start: IPv4
    end: IPv4

    def contains(self, ip: IPv4) -> bool:
        return self.start <= ip <= self.end and ip != self.gateway


def make_range(subnet: str, gateway: str | None = None, ip_range: str | None = None) -> Range:
    net = _network(subnet)
    if net.prefixlen > 30:
        raise NetworkConfigError(f"subnet {subnet}: /31 and /32 have no room for containers")
    gw = IPv4(gateway) if gateway else net.network_address + 1
    if gw not in net:
        raise NetworkConfigError(f"gateway {gw} is outside subnet {net}")
    pool = _network(ip_range) if ip_range else net
    if not pool.subnet_of(net):
        raise NetworkConfigError(f"ip_range {pool} is outside subnet {net}")
    first = max(pool.network_address, net.network_address + 1)
    last = min(pool.broadcast_address, net.broadcast_address - 1)
    return Range(net, gw, first, last)


def _network(text: str) -> ipaddress.IPv4Network:
    try:
        return ipaddress.IPv4Network(text, strict=False)
    except ValueError as exc:
        raise NetworkConfigError(f"subnet {text!r}: {exc}") from exc


def _candidates(rng: Range, last: IPv4 | None) -> Iterator[IPv4]:
    """Every usable address once, starting after ``last`` (round robin like host-local)."""
    size = int(rng.end) - int(rng.start) + 1
    begin = int(last) + 1 if last is not None and rng.start <= last <= rng.end else int(rng.start)
    for step in range(size):
        ip = IPv4(int(rng.start) + (begin - int(rng.start) + step) % size)
        if ip != rng.gateway:
            yield ip


def allocate(
    store: Store,
    rng: Range,
    owner: str,
    ifname: str,
    requested: str | None = None,
    owner_alive: OwnerAlive | None = None,
) -> IPv4:
    """Reserve an address for (owner, ifname); the same pair gets its existing address back."""
    with store.locked():
        held = store.get_by_owner(owner, ifname)
        if held is not None and (requested is None or held == IPv4(requested)):
            return held
        if held is not None:
            store.release(owner, ifname)
        if requested is not None:
            return _reserve_requested(store, rng, owner, ifname, IPv4(requested), owner_alive)
        ip = _reserve_next(store, rng, owner, ifname)
        if ip is None and owner_alive is not None and reclaim(store, owner_alive):
            ip = _reserve_next(store, rng, owner, ifname)
        if ip is None:
            raise AddressExhausted(f"subnet {rng.subnet}: no free address for {owner} {ifname}")
        return ip


def _reserve_next(store: Store, rng: Range, owner: str, ifname: str) -> IPv4 | None:
    for ip in _candidates(rng, store.last_reserved()):
        if store.reserve(ip, owner, ifname):
            return ip
    return None


def _reserve_requested(
    store: Store, rng: Range, owner: str, ifname: str, ip: IPv4, owner_alive: OwnerAlive | None
) -> IPv4:
    if ip not in rng.subnet or ip in (rng.subnet.network_address, rng.subnet.broadcast_address):
        raise NetworkConfigError(f"ipv4_address {ip} is not a host address of {rng.subnet}")
    if ip == rng.gateway:
        raise NetworkConfigError(f"ipv4_address {ip} is the gateway of {rng.subnet}")
    if store.reserve(ip, owner, ifname):
        return ip
    holder = store.owner_of(ip)
    if holder is not None and owner_alive is not None and not owner_alive(holder[0]):
        store.release(*holder)
        if store.reserve(ip, owner, ifname):
            return ip
    raise NetworkConfigError(
        f"ipv4_address {ip} is already in use by {holder[0] if holder else 'another owner'}"
    )


def release(store: Store, owner: str, ifname: str | None = None) -> None:
    with store.locked():
        store.release(owner, ifname)


def reclaim(store: Store, owner_alive: OwnerAlive) -> int:
    """Drop entries whose owner is gone (caller holds the lock). Returns how many."""
    dead = {owner for owner, _ in store.owners() if not owner_alive(owner)}
    for owner in dead:
        store.release(owner, None)
    return len(dead)
