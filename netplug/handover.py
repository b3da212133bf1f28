"""Hand a replica's addresses over to its successor, so clients that resolved a name once (nginx
resolves an upstream at start and keeps the address) keep reaching it across a recreation.

``hand_over`` runs once the predecessor is stopped and before it is removed; per network and
address family the two share: the predecessor's veth goes (its addresses leave the wire), the
address's IPAM entry is re-owned by the successor under the store's lock (nobody can take it in
between), the address is added to the successor's interface there (an IPv6 one without duplicate
address detection: usable at once, not tentative), and the neighbours (other containers, the
host's bridge) learn which MAC has it now, their caches pointing at the removed veth: a
gratuitous ARP for IPv4, an unsolicited neighbour advertisement with the override flag for IPv6.
The successor's own address of that family stays as a second one when it has served on it
(start-first: connections and answers handed out during the overlap keep working), else it goes.

IPAM entries: the address handed over is the interface's (``<owner>``, ``eth0``); a kept own
address becomes (``<owner>``, ``eth0:1``), released with the rest when the successor goes. An
interface holds one entry of each family under each name (see ``netplug.ipam.store``).
Every step tolerates absence, so a second call after a crash finds nothing left to do.

``hold`` runs before the predecessor stops: from then on new TCP connections to the addresses it
will hand over are dropped in its netns, not refused, so no client sees a refusal while it shuts
down (it closes its listener first, then finishes what it serves) and until the addresses move.
Clients send the SYN again (Linux after 1 s, then 3 s, ...) and reach the successor; connections
already open carry on. The rule lives in the predecessor's netns and goes with it.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import struct
from collections.abc import Sequence
from pathlib import Path

from netplug import nft, rtnl
from netplug.bridge import default_ipam_root
from netplug.ipam import DiskStore
from netplug.ipam.pool import Assigned, read_record
from netplug.ipam.store import Address
from netplug.naming import owner_id, veth_name
from netplug.netns import NetnsRef, call_in
from netplug.nl import IFLA_ADDRESS, Netlink
from netplug.types import NetworkConfig

KEPT = ":1"  # the IPAM ifname suffix of a successor's own address kept beside the handed one
ETH_P_ARP = 0x0806
ALL_NODES = "ff02::1"
ND_NEIGHBOR_ADVERT = 136
ND_NA_FLAG_OVERRIDE = 0x20000000
ND_OPT_TARGET_LINKADDR = 2
HOLD_TABLE = "netplug-hold"


def hold(netns: str | os.PathLike[str], addresses: Sequence[str]) -> None:
    """New TCP connections from outside the netns to ``addresses`` (IPv4 or IPv6) are dropped
    from now on, until the netns goes (or ``hold`` is called again with other addresses)."""
    nft.apply(Path(netns), nft.hold_ruleset(HOLD_TABLE, addresses))


def release_hold(netns: str | os.PathLike[str]) -> bool:
    """Lift ``hold`` in a replica that serves on: its drain ended without a hand-over (the
    supervisor died between the two). False when nothing was held (a read; no transaction)."""
    if not nft.has_table(Path(netns), "inet", HOLD_TABLE):
        return False
    nft.delete_table(Path(netns), HOLD_TABLE, ("inet",))
    return True


def hand_over(
    project: str,
    from_id: str,
    to_id: str,
    addresses: Sequence[tuple[NetworkConfig, str]],
    to_netns: str | os.PathLike[str],
    *,
    keep_own: bool = True,
    host_netns: NetnsRef = None,
    ipam_root: Path | None = None,
) -> list[tuple[str, str]]:
    """Move each (network, IPv4 or IPv6 address) of replica ``from_id`` to ``to_id``'s
    interface on that network (a network appears once per family). Returns the (network name,
    address) pairs that moved (none where ``to_id`` is not on the network or has no address of
    that family there, or the address belongs to a third replica)."""
    root = ipam_root or default_ipam_root()
    giver, taker = owner_id(project, from_id), owner_id(project, to_id)
    moved: list[tuple[str, str]] = []
    with Netlink(host_netns) as host, Netlink(to_netns) as inner:
        for network, address in addresses:
            ip = ipaddress.ip_address(address)
            host.delete_link(veth_name(project, from_id, network.name))
            store = DiskStore(root / network.key)
            got = _reown(store, giver, taker, ip)
            prefix = _prefixlen(read_record(root, network.key), ip.version)
            index = inner.link_index(got[0]) if got is not None else None
            if got is None or index is None or prefix is None:
                continue
            ifname, own = got
            if not keep_own and own != address:  # first: a primary takes its secondaries
                inner.delete_address(index, own, prefix, ifname)
                with store.locked():
                    store.release(taker, ifname + KEPT, ip.version)
            if (address, prefix) not in rtnl.addresses(inner, index, ip.version):
                inner.add_address(index, address, prefix, ifname)
            _announce(to_netns, inner, index, ifname, ip)
            moved.append((network.name, address))
    return moved


def _prefixlen(record: Assigned | None, version: int) -> int | None:
    subnet = (record.subnet6 if version == 6 else record.subnet) if record else None
    return ipaddress.ip_network(subnet).prefixlen if subnet else None


def _reown(store: DiskStore, giver: str, taker: str, ip: Address) -> tuple[str, str] | None:
    """Under the store's lock: ``ip`` becomes the taker's interface address of its family, the
    taker's own one of that family its ``<if>:1``. (ifname, the taker's own address), or None
    when nothing can move."""
    with store.locked():
        entries = store.entries()
        own = next(
            (
                (held, ifname)
                for held, (owner, ifname) in entries.items()
                if owner == taker and held.version == ip.version and not ifname.endswith(KEPT)
            ),
            None,
        )
        holder = entries.get(ip)
        if own is None or (holder is not None and holder[0] not in (giver, taker)):
            return None  # the taker is not on this network, or the address is someone else's
        own_ip, ifname = own
        if own_ip != ip:
            store.release(taker, ifname, ip.version)
            store.reserve(own_ip, taker, ifname + KEPT)
            if holder is not None:
                store.release(*holder, ip.version)
            store.reserve(ip, taker, ifname)
    return ifname, str(own_ip)


def _announce(
    netns: str | os.PathLike[str], inner: Netlink, index: int, ifname: str, ip: Address
) -> None:
    """Tell the link's neighbours that ``ip`` is at the interface's MAC now; Linux neighbours
    update an entry they hold for it at once (arp_accept and accept_untracked_na only govern
    new entries)."""
    mac = (inner.link(index) or {}).get(IFLA_ADDRESS)
    if not mac or len(mac) != 6:
        return
    if isinstance(ip, ipaddress.IPv6Address):
        _advertise(netns, index, ifname, mac, ip)
    else:
        _gratuitous_arp(netns, ifname, mac, ip)


def _gratuitous_arp(
    netns: str | os.PathLike[str], ifname: str, mac: bytes, ip: ipaddress.IPv4Address
) -> None:
    """A gratuitous ARP request for ``ip`` from ``mac``, broadcast."""
    arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + mac + ip.packed + b"\0" * 6 + ip.packed
    frame = b"\xff" * 6 + mac + struct.pack("!H", ETH_P_ARP) + arp

    def packet_socket() -> socket.socket:
        return socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ARP))

    with call_in(netns, packet_socket) as sock:
        sock.bind((ifname, ETH_P_ARP))
        sock.send(frame)


def _advertise(
    netns: str | os.PathLike[str], index: int, ifname: str, mac: bytes, ip: ipaddress.IPv6Address
) -> None:
    """An unsolicited neighbour advertisement (RFC 4861 7.2.6): to all nodes, from ``ip``, the
    override flag set, ``mac`` as target link-layer address; hop limit 255 or receivers drop
    it. The kernel fills in the ICMPv6 checksum of a raw ICMPv6 socket."""
    advert = struct.pack("!BBHI", ND_NEIGHBOR_ADVERT, 0, 0, ND_NA_FLAG_OVERRIDE) + ip.packed
    message = advert + struct.pack("!BB", ND_OPT_TARGET_LINKADDR, 1) + mac

    def icmp6_socket() -> socket.socket:
        return socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)

    with call_in(netns, icmp6_socket) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, ifname.encode())
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, index)
        sock.bind((str(ip), 0, 0, index))
        sock.sendto(message, (ALL_NODES, 0, 0, index))
