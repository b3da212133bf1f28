"""A minimal rtnetlink client (no pyroute2, no event loop): netplug's only netlink boundary.

pyroute2's sync API costs ~0.3 ms per request (it drives an asyncio loop), ~0.6 ms per IPRoute
and ~70 ms to import; these few hand-packed messages cost ~30 µs each. Sockets are opened inside a
netns by switching the calling thread (see netns.py). Queries built on it live in rtnl.py.
"""

from __future__ import annotations

import errno
import hashlib
import ipaddress
import os
import socket
import struct
import time
from collections.abc import Iterator

from netplug.errors import KernelError
from netplug.netns import NetnsRef, call_in

NETLINK_ROUTE = 0
RTM_NEWLINK, RTM_DELLINK, RTM_GETLINK, RTM_NEWADDR, RTM_DELADDR = 16, 17, 18, 20, 21
RTM_NEWROUTE = 24
NLM_F_REQUEST, NLM_F_ACK, NLM_F_REPLACE, NLM_F_EXCL, NLM_F_CREATE = 0x1, 0x4, 0x100, 0x200, 0x400
NLMSG_ERROR, NLMSG_DONE, NLM_F_DUMP = 2, 3, 0x300
RTM_GETADDR, RTM_GETROUTE = 22, 26
IFLA_ADDRESS, IFLA_IFNAME, IFLA_MTU, IFLA_MASTER, IFLA_LINKINFO, IFLA_NET_NS_FD = (
    1,
    3,
    4,
    10,
    18,
    28,
)
IFLA_OPERSTATE, IF_OPER_UP, IFLA_AF_SPEC, IFLA_INET_CONF = 16, 6, 26, 1
IPV4_DEVCONF_ROUTE_LOCALNET = 26
IFLA_INFO_KIND, IFLA_INFO_DATA, VETH_INFO_PEER = 1, 2, 1
IFA_ADDRESS, IFA_LOCAL, IFA_F_NODAD = 1, 2, 0x02
RTA_DST, RTA_GATEWAY = 1, 5
IFF_UP = 0x1
_HDR = struct.Struct("=IHHII")
_IFINFO = struct.Struct("=BxHiII")


def attr(kind: int, payload: bytes) -> bytes:
    raw = struct.pack("=HH", 4 + len(payload), kind) + payload
    return raw + b"\0" * (-len(raw) % 4)


def attrs(payload: bytes) -> Iterator[tuple[int, bytes]]:
    offset = 0
    while offset + 4 <= len(payload):
        length, kind = struct.unpack_from("=HH", payload, offset)
        if length < 4:
            return
        yield kind & 0x3FFF, payload[offset + 4 : offset + length]
        offset += (length + 3) & ~3


def bridge_mac(name: str) -> bytes:
    """A locally administered unicast MAC derived from the bridge name (stable across runs)."""
    return b"\x02" + hashlib.sha256(name.encode()).digest()[:5]


def _name(text: str) -> bytes:
    return text.encode() + b"\0"


def ifinfo(index: int = 0, up: bool = False) -> bytes:
    return _IFINFO.pack(socket.AF_UNSPEC, 0, index, IFF_UP if up else 0, IFF_UP if up else 0)


def _ifaddr(index: int, ip: str, prefixlen: int) -> bytes:
    """An ifaddrmsg naming one address (IPv4 or IPv6: without duplicate address detection)."""
    address = ipaddress.ip_address(ip)
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    flags = IFA_F_NODAD if address.version == 6 else 0
    body = struct.pack("=BBBBI", family, prefixlen, flags, 0, index)
    return body + attr(IFA_LOCAL, address.packed) + attr(IFA_ADDRESS, address.packed)


class Netlink:
    """One NETLINK_ROUTE socket, bound in the netns it was opened in."""

    def __init__(self, netns: NetnsRef = None) -> None:
        self.sock = call_in(netns, self._open)
        self.seq = 0

    @staticmethod
    def _open() -> socket.socket:
        sock = socket.socket(
            socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, NETLINK_ROUTE
        )
        sock.bind((0, 0))
        return sock

    def __enter__(self) -> Netlink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()

    def request(self, kind: int, flags: int, body: bytes, what: str) -> bytes:
        """Send one request and return the first reply payload (b"" for a bare ACK)."""
        self.seq += 1
        self.sock.send(
            _HDR.pack(_HDR.size + len(body), kind, NLM_F_REQUEST | flags, self.seq, 0) + body
        )
        while True:
            data = self.sock.recv(65536)
            length, mtype, _, seq, _ = _HDR.unpack_from(data)
            if seq != self.seq:
                continue
            if mtype != NLMSG_ERROR:
                return data[_HDR.size : length]
            code = -struct.unpack_from("=i", data, _HDR.size)[0]
            if code:
                raise OSError(code, f"{what}: {os.strerror(code)}")
            return b""

    def operstate(self, index: int) -> int | None:
        """IFLA_OPERSTATE of a link (6 = IF_OPER_UP)."""
        reply = self.request(RTM_GETLINK, 0, ifinfo(index), f"link {index}: get")
        return next((v[0] for k, v in attrs(reply[_IFINFO.size :]) if k == IFLA_OPERSTATE), None)

    def wait_up(self, index: int, what: str, timeout: float = 3.0) -> None:
        """Wait until the kernel's link watcher reports the link operationally up (like CNI's
        bridge plugin): before that the bridge port drops frames."""
        deadline = time.monotonic() + timeout
        delay = 0.0005
        while self.operstate(index) != IF_OPER_UP:
            if time.monotonic() > deadline:
                raise KernelError(f"{what}: not operationally up after {timeout:.0f} s")
            time.sleep(delay)
            delay = min(delay * 2, 0.05)

    def dump(self, kind: int, body: bytes, what: str) -> list[bytes]:
        """A NLM_F_DUMP request: every reply payload until NLMSG_DONE."""
        self.seq += 1
        header = _HDR.pack(_HDR.size + len(body), kind, NLM_F_REQUEST | NLM_F_DUMP, self.seq, 0)
        self.sock.send(header + body)
        out: list[bytes] = []
        while True:
            data = self.sock.recv(1 << 16)
            offset = 0
            while offset + _HDR.size <= len(data):
                length, mtype, _, seq, _ = _HDR.unpack_from(data, offset)
                payload = data[offset + _HDR.size : offset + length]
                offset += (length + 3) & ~3
                if seq != self.seq:
                    continue
                if mtype == NLMSG_DONE:
                    return out
                if mtype == NLMSG_ERROR:
                    code = -struct.unpack_from("=i", payload)[0]
                    raise KernelError(f"{what}: {os.strerror(code)}")
                out.append(payload)

    def link(self, index: int) -> dict[int, bytes] | None:
        """Attributes of one link by index (None when it does not exist)."""
        try:
            reply = self.request(RTM_GETLINK, 0, ifinfo(index), f"link {index}: get")
        except OSError as exc:
            if exc.errno == errno.ENODEV:
                return None
            raise KernelError(str(exc.strerror)) from exc
        return dict(attrs(reply[_IFINFO.size :]))

    def add_bridge(self, name: str, mtu: int) -> None:
        """Create a bridge with a fixed MAC. Without one the kernel gives the bridge the lowest
        port MAC and changes it as veths join or leave, and replicas keep the old gateway MAC in
        their ARP cache (DNS and egress drop for ~30 s after a scale). Docker sets it too."""
        body = ifinfo() + attr(IFLA_IFNAME, _name(name)) + attr(IFLA_MTU, struct.pack("=I", mtu))
        body += attr(IFLA_ADDRESS, bridge_mac(name))
        body += attr(IFLA_LINKINFO, attr(IFLA_INFO_KIND, b"bridge"))
        self.request(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, body, f"bridge {name}")

    def link_index(self, ifname: str) -> int | None:
        body = ifinfo() + attr(IFLA_IFNAME, _name(ifname))
        try:
            reply = self.request(RTM_GETLINK, 0, body, f"link {ifname}: get")
        except OSError as exc:
            if exc.errno == errno.ENODEV:
                return None
            raise KernelError(str(exc.strerror)) from exc
        index: int = _IFINFO.unpack_from(reply)[2]
        return index

    def delete_link(self, ifname: str) -> bool:
        body = ifinfo() + attr(IFLA_IFNAME, _name(ifname))
        try:
            self.request(RTM_DELLINK, NLM_F_ACK, body, f"link {ifname}: delete")
        except OSError as exc:
            if exc.errno in (errno.ENODEV, errno.ENOENT):
                return False
            raise KernelError(str(exc.strerror)) from exc
        return True

    def add_veth(
        self,
        host: str,
        peer: str,
        peer_ns_fd: int,
        *,
        master: int,
        mtu: int,
        peer_mac: bytes | None = None,
    ) -> None:
        """Host end created enslaved, the peer born inside ``peer_ns_fd``; both down (IFF_UP on
        the peer at creation fails with ENOTCONN)."""
        peer_attrs = attr(IFLA_IFNAME, _name(peer)) + attr(
            IFLA_NET_NS_FD, struct.pack("=i", peer_ns_fd)
        )
        peer_attrs += attr(IFLA_MTU, struct.pack("=I", mtu))
        if peer_mac:
            peer_attrs += attr(IFLA_ADDRESS, peer_mac)
        info = attr(IFLA_INFO_KIND, b"veth") + attr(
            IFLA_INFO_DATA, attr(VETH_INFO_PEER, ifinfo() + peer_attrs)
        )
        body = (
            ifinfo()
            + attr(IFLA_IFNAME, _name(host))
            + attr(IFLA_MTU, struct.pack("=I", mtu))
            + attr(IFLA_MASTER, struct.pack("=I", master))
        )
        self._do(
            RTM_NEWLINK,
            NLM_F_CREATE | NLM_F_EXCL,
            body + attr(IFLA_LINKINFO, info),
            f"veth {host}/{peer}: create",
        )

    def set_up(self, index: int, what: str, *, route_localnet: bool = False) -> None:
        """Raise the link; ``route_localnet``: also let it route 127/8 (the same message)."""
        body = ifinfo(index, up=True)
        if route_localnet:
            conf = attr(IPV4_DEVCONF_ROUTE_LOCALNET, struct.pack("=I", 1))
            body += attr(IFLA_AF_SPEC, attr(socket.AF_INET, attr(IFLA_INET_CONF, conf)))
        self._do(RTM_NEWLINK, 0, body, f"{what}: set up")

    def add_address(self, index: int, ip: str, prefixlen: int, what: str) -> None:
        """An IPv4 or IPv6 address; IPv6 ones skip duplicate address detection (usable at once,
        as Docker's: the subnet's addresses are ours to give, no neighbour can hold one)."""
        body = _ifaddr(index, ip, prefixlen)
        self._do(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, body, f"{what}: address {ip}/{prefixlen}")

    def delete_address(self, index: int, ip: str, prefixlen: int, what: str) -> bool:
        """False when the interface has no such address."""
        try:
            self.request(RTM_DELADDR, NLM_F_ACK, _ifaddr(index, ip, prefixlen), what)
        except OSError as exc:
            if exc.errno in (errno.EADDRNOTAVAIL, errno.ENODEV):
                return False
            raise KernelError(f"{what}: address {ip}/{prefixlen}: {exc.strerror}") from exc
        return True

    def add_default_route(self, gateway: str) -> None:
        address = ipaddress.ip_address(gateway)
        family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
        body = struct.pack("=BBBBBBBBI", family, 0, 0, 0, 254, 3, 0, 1, 0)
        body += attr(RTA_GATEWAY, address.packed)
        self._do(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, body, f"default route via {gateway}")

    def _do(self, kind: int, flags: int, body: bytes, what: str) -> None:
        try:
            self.request(kind, flags | NLM_F_ACK, body, what)
        except OSError as exc:
            raise KernelError(exc.strerror or str(exc)) from exc
