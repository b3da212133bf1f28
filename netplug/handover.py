"""Hand a replica's addresses over to its successor, so clients that resolved a name once (nginx
resolves an upstream at start and keeps the address) keep reaching it across a recreation.

``hand_over`` runs once the predecessor is stopped and before it is removed; per network the two
share: the predecessor's veth goes (its address leaves the wire), the address's IPAM entry is
re-owned by the successor under the store's lock (nobody can take it in between), the address is
added to the successor's interface there, and a gratuitous ARP tells the neighbours (other
containers, the host's bridge) which MAC has it now: their caches were pointing at the removed
veth. The successor's own address stays as a second one when it has served on it (start-first:
connections and answers handed out during the overlap keep working), else it goes.

IPAM entries: the address handed over is the interface's (``<owner>``, ``eth0``); a kept own
address becomes (``<owner>``, ``eth0:1``), released with the rest when the successor goes.
Every step tolerates absence, so a second call after a crash finds nothing left to do.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import struct
from collections.abc import Sequence
from pathlib import Path

from netplug import rtnl
from netplug.bridge import default_ipam_root
from netplug.ipam import DiskStore
from netplug.ipam.pool import read_record
from netplug.naming import owner_id, veth_name
from netplug.netns import NetnsRef, call_in
from netplug.nl import IFLA_ADDRESS, Netlink
from netplug.types import NetworkConfig

KEPT = ":1"  # the IPAM ifname suffix of a successor's own address kept beside the handed one
ETH_P_ARP = 0x0806


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
) -> dict[str, str]:
    """Move each (network, address) of replica ``from_id`` to ``to_id``'s interface on that
    network. Returns network name -> address, for the addresses that moved (none where
    ``to_id`` is not on the network, or the address belongs to a third replica)."""
    root = ipam_root or default_ipam_root()
    giver, taker = owner_id(project, from_id), owner_id(project, to_id)
    moved: dict[str, str] = {}
    with Netlink(host_netns) as host, Netlink(to_netns) as inner:
        for network, address in addresses:
            host.delete_link(veth_name(project, from_id, network.name))
            store = DiskStore(root / network.key)
            got = _reown(store, giver, taker, ipaddress.IPv4Address(address))
            record = read_record(root, network.key)
            index = inner.link_index(got[0]) if got is not None else None
            if got is None or index is None or record is None:
                continue
            ifname, own = got
            prefix = ipaddress.ip_network(record.subnet).prefixlen
            if not keep_own and own != address:  # first: a primary takes its secondaries
                inner.delete_address(index, own, prefix, ifname)
                with store.locked():
                    store.release(taker, ifname + KEPT)
            if (address, prefix) not in rtnl.ipv4_addresses(inner, index):
                inner.add_address(index, address, prefix, ifname)
            _announce(to_netns, inner, index, ifname, address)
            moved[network.name] = address
    return moved


def _reown(
    store: DiskStore, giver: str, taker: str, ip: ipaddress.IPv4Address
) -> tuple[str, str] | None:
    """Under the store's lock: ``ip`` becomes the taker's interface address, the taker's own
    one its ``<if>:1``. (ifname, the taker's own address), or None when nothing can move."""
    with store.locked():
        entries = store.entries()
        own = next(
            (
                (held, ifname)
                for held, (owner, ifname) in entries.items()
                if owner == taker and not ifname.endswith(KEPT)
            ),
            None,
        )
        holder = entries.get(ip)
        if own is None or (holder is not None and holder[0] not in (giver, taker)):
            return None  # the taker is not on this network, or the address is someone else's
        own_ip, ifname = own
        if own_ip != ip:
            store.release(taker, ifname)
            store.reserve(own_ip, taker, ifname + KEPT)
            if holder is not None:
                store.release(*holder)
            store.reserve(ip, taker, ifname)
    return ifname, str(own_ip)


def _announce(
    netns: str | os.PathLike[str], inner: Netlink, index: int, ifname: str, address: str
) -> None:
    """A gratuitous ARP request for ``address`` from the interface's MAC: Linux neighbours
    update an entry they hold for it at once (arp_accept only governs new entries)."""
    mac = (inner.link(index) or {}).get(IFLA_ADDRESS)
    if not mac or len(mac) != 6:
        return
    ip = ipaddress.IPv4Address(address).packed
    arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + mac + ip + b"\0" * 6 + ip
    frame = b"\xff" * 6 + mac + struct.pack("!H", ETH_P_ARP) + arp

    def packet_socket() -> socket.socket:
        return socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ARP))

    with call_in(netns, packet_socket) as sock:
        sock.bind((ifname, ETH_P_ARP))
        sock.send(frame)
