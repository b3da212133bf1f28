"""Pure address allocation over a ``Store`` (CNI host-local's allocator, in small steps), for
IPv4 and IPv6 ranges alike."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from netplug.errors import AddressExhausted, NetworkConfigError
from netplug.ipam.store import Address, Store

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
OwnerAlive = Callable[[str], bool]


@dataclass(frozen=True, slots=True)
class Range:
    subnet: Network
    gateway: Address
    start: Address
    end: Address

    def contains(self, ip: Address) -> bool:
        return self.start <= ip <= self.end and ip != self.gateway  # type: ignore[operator]

    @property
    def version(self) -> int:
        return self.subnet.version


def make_range(subnet: str, gateway: str | None = None, ip_range: str | None = None) -> Range:
    """The allocatable addresses: the subnet (or ``ip_range`` within it) without the network
    address, the last address (IPv4's broadcast) and the gateway (default: the first host)."""
    net = _network(subnet)
    if net.max_prefixlen - net.prefixlen < 2:
        raise NetworkConfigError(f"subnet {subnet}: too small for a gateway and containers")
    gw = ipaddress.ip_address(gateway) if gateway else net.network_address + 1
    if gw not in net:
        raise NetworkConfigError(f"gateway {gw} is outside subnet {net}")
    pool = _network(ip_range) if ip_range else net
    if pool.version != net.version or not pool.subnet_of(net):  # type: ignore[arg-type]
        raise NetworkConfigError(f"ip_range {pool} is outside subnet {net}")
    first = max(pool.network_address, net.network_address + 1)
    last = min(pool.broadcast_address, net.broadcast_address - 1)
    return Range(net, gw, first, last)


def _network(text: str) -> Network:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError as exc:
        raise NetworkConfigError(f"subnet {text!r}: {exc}") from exc


def _candidates(rng: Range, last: Address | None) -> Iterator[Address]:
    """Every usable address once, starting after ``last`` (round robin like host-local)."""
    start = int(rng.start)
    size = int(rng.end) - start + 1
    within = last is not None and last.version == rng.version and rng.contains(last)
    begin = int(last) + 1 if within and last is not None else start
    family = type(rng.start)
    for step in range(size):
        ip = family(start + (begin - start + step) % size)
        if ip != rng.gateway:
            yield ip


def allocate(
    store: Store,
    rng: Range,
    owner: str,
    ifname: str,
    requested: str | None = None,
    owner_alive: OwnerAlive | None = None,
) -> Address:
    """Reserve an address of ``rng``'s family for (owner, ifname); the same pair gets its
    existing address back."""
    wanted = _requested(rng, requested)
    with store.locked():
        held = store.get_by_owner(owner, ifname, rng.version)
        if held is not None and (wanted is None or held == wanted):
            return held
        if held is not None:
            store.release(owner, ifname, rng.version)
        if wanted is not None:
            return _reserve_requested(store, rng, owner, ifname, wanted, owner_alive)
        ip = _reserve_next(store, rng, owner, ifname)
        if ip is None and owner_alive is not None and reclaim(store, owner_alive):
            ip = _reserve_next(store, rng, owner, ifname)
        if ip is None:
            raise AddressExhausted(
                f"subnet {rng.subnet}: no free address for {owner} {ifname} (every address "
                "is taken: a larger ipam subnet for the network holds more containers)"
            )
        return ip


def _requested(rng: Range, requested: str | None) -> Address | None:
    if requested is None:
        return None
    try:
        ip = ipaddress.ip_address(requested)
    except ValueError as exc:
        raise NetworkConfigError(f"ipv{rng.version}_address {requested!r}: {exc}") from exc
    if ip.version != rng.version:
        raise NetworkConfigError(
            f"ipv{rng.version}_address {ip} is not an IPv{rng.version} address"
        )
    return ip


def _reserve_next(store: Store, rng: Range, owner: str, ifname: str) -> Address | None:
    for ip in _candidates(rng, store.last_reserved(rng.version)):
        if store.reserve(ip, owner, ifname):
            return ip
    return None


def _reserve_requested(
    store: Store, rng: Range, owner: str, ifname: str, ip: Address, owner_alive: OwnerAlive | None
) -> Address:
    what = f"ipv{rng.version}_address {ip}"
    if ip not in rng.subnet or ip in (rng.subnet.network_address, rng.subnet.broadcast_address):
        raise NetworkConfigError(f"{what} is not a host address of {rng.subnet}")
    if ip == rng.gateway:
        raise NetworkConfigError(f"{what} is the gateway of {rng.subnet}")
    if store.reserve(ip, owner, ifname):
        return ip
    holder = store.owner_of(ip)
    if holder is not None and owner_alive is not None and not owner_alive(holder[0]):
        store.release(*holder)
        if store.reserve(ip, owner, ifname):
            return ip
    raise NetworkConfigError(
        f"{what} is already in use by {holder[0] if holder else 'another owner'}"
    )


def release(store: Store, owner: str, ifname: str | None = None) -> None:
    """Every address (both families) of the owner's interface, or of all its interfaces."""
    with store.locked():
        store.release(owner, ifname)


def reclaim(store: Store, owner_alive: OwnerAlive) -> int:
    """Drop entries whose owner is gone (caller holds the lock). Returns how many."""
    dead = {owner for owner, _ in store.owners() if not owner_alive(owner)}
    for owner in dead:
        store.release(owner, None)
    return len(dead)
