"""Queries and idempotent steps on top of nl.Netlink: ensure a bridge and its address, read a
link's kind/master/operstate, a link's IPv4 addresses, the default route (used by ensure_network
and check; attach/detach talk to Netlink directly)."""

from __future__ import annotations

import errno
import ipaddress
import socket
import struct

from netplug.errors import KernelError
from netplug.nl import (
    IF_OPER_UP,
    IFA_ADDRESS,
    IFLA_INFO_KIND,
    IFLA_LINKINFO,
    IFLA_MASTER,
    IFLA_OPERSTATE,
    RTA_GATEWAY,
    RTM_GETADDR,
    RTM_GETROUTE,
    Netlink,
    attrs,
)

_IFADDR = struct.Struct("=BBBBI")
_RTMSG = struct.Struct("=BBBBBBBBI")
RTA_TABLE = 15
RT_SCOPE_UNIVERSE = 0


def link_kind(nl: Netlink, index: int) -> str | None:
    info = (nl.link(index) or {}).get(IFLA_LINKINFO)
    kind = dict(attrs(info)).get(IFLA_INFO_KIND) if info else None
    return kind.rstrip(b"\0").decode() if kind else None


def link_master(nl: Netlink, index: int) -> int | None:
    raw = (nl.link(index) or {}).get(IFLA_MASTER)
    return struct.unpack("=I", raw[:4])[0] if raw else None


def link_is_up(nl: Netlink, index: int) -> bool:
    raw = (nl.link(index) or {}).get(IFLA_OPERSTATE)
    return raw is not None and len(raw) > 0 and raw[0] == IF_OPER_UP


def ensure_bridge(nl: Netlink, name: str, mtu: int) -> int:
    """Create the bridge, or accept an existing one only if it really is a bridge."""
    try:
        nl.add_bridge(name, mtu)
    except OSError as exc:
        if exc.errno != errno.EEXIST:
            raise KernelError(f"bridge {name}: create: {exc.strerror}") from exc
    index = nl.link_index(name)
    if index is None or link_kind(nl, index) != "bridge":
        raise KernelError(f"bridge {name}: a link of that name exists but is not a bridge")
    return index


def ipv4_addresses(nl: Netlink, index: int) -> list[tuple[str, int]]:
    return addresses(nl, index, 4)


def addresses(nl: Netlink, index: int, version: int) -> list[tuple[str, int]]:
    """(address, prefix length) of a link; for IPv6 the global ones (not its link-local)."""
    family = socket.AF_INET6 if version == 6 else socket.AF_INET
    size = 16 if version == 6 else 4
    found = []
    for payload in nl.dump(RTM_GETADDR, _IFADDR.pack(family, 0, 0, 0, 0), "addresses"):
        kind, prefixlen, _, scope, owner = _IFADDR.unpack_from(payload)
        address = dict(attrs(payload[_IFADDR.size :])).get(IFA_ADDRESS)
        if kind == family and owner == index and address and scope == RT_SCOPE_UNIVERSE:
            found.append((str(ipaddress.ip_address(address[:size])), prefixlen))
    return found


def ensure_address(nl: Netlink, index: int, ifname: str, ip: str, prefixlen: int) -> None:
    present = addresses(nl, index, ipaddress.ip_address(ip).version)
    if (ip, prefixlen) in present:
        return
    if present:
        raise KernelError(
            f"bridge {ifname}: has address {present[0][0]}/{present[0][1]}, "
            f"expected {ip}/{prefixlen}",
            hint="another network uses this bridge name, or its subnet changed: remove it first",
        )
    nl.add_address(index, ip, prefixlen, f"link {ifname}")


def default_gateway(nl: Netlink, version: int = 4) -> str | None:
    """Gateway of the main table's default route of that family, if any."""
    family = socket.AF_INET6 if version == 6 else socket.AF_INET
    body = _RTMSG.pack(family, 0, 0, 0, 0, 0, 0, 0, 0)
    for payload in nl.dump(RTM_GETROUTE, body, "routes"):
        fields = _RTMSG.unpack_from(payload)
        found = dict(attrs(payload[_RTMSG.size :]))
        table = struct.unpack("=I", found[RTA_TABLE][:4])[0] if RTA_TABLE in found else fields[4]
        if fields[0] == family and fields[1] == 0 and table == 254 and RTA_GATEWAY in found:
            return str(ipaddress.ip_address(found[RTA_GATEWAY][: 16 if version == 6 else 4]))
    return None
