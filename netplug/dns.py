"""Embedded DNS responder (dnslib wire format, anyio): one UDP+TCP listener per network on its
gateway address (replicas reach it as 127.0.0.11, see resolver.py); answers our names with every
live replica address (A and AAAA, shuffled, short TTL) from the networks of the replica that
asks, forwards everything else to that replica's ``dns:`` servers or the host's resolvers."""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import anyio
import anyio.abc

from netplug.errors import PortInUseError
from netplug.netns import NetnsRef, call_in
from netplug.records import Client, NetworkRecords, Upstream
from netplug.tasks import TaskGroupService, UdpReplies

log = logging.getLogger(__name__)


def host_nameservers(resolv_conf: Path = Path("/etc/resolv.conf")) -> list[str]:
    """The ``nameserver`` addresses of the host's resolv.conf, in order (IPv6 ones too)."""
    try:
        lines = resolv_conf.read_text().splitlines()
    except OSError:
        return []
    return [w[1] for w in (line.split() for line in lines) if w[:1] == ["nameserver"] and w[1:]]


def host_resolvers(resolv_conf: Path = Path("/etc/resolv.conf")) -> list[Upstream]:
    return [(ns, 53) for ns in host_nameservers(resolv_conf) if ":" not in ns]


UDP_LIMIT = 512  # RFC 1035, unless the query's EDNS0 OPT record offers more


def answer(
    query: bytes,
    records: NetworkRecords,
    network_key: str,
    ttl: int,
    udp: bool = False,
    client: str | None = None,
) -> bytes | None:
    """The reply for a query about our names (as ``client`` sees them); None when it must be
    forwarded. Over UDP, a reply too large for the client keeps the answers that fit and sets
    TC (it retries on TCP), as Docker's resolver does: 50 replicas' A records don't fit in
    512 bytes."""
    from dnslib import QTYPE, DNSRecord

    try:
        request = DNSRecord.parse(query)
    except Exception:  # dnslib raises DNSError and struct errors on junk
        return None
    reply = _reply(request, records, network_key, ttl, client)
    if reply is None:
        return None
    data: bytes = reply.pack()
    limit = max([UDP_LIMIT, *(rr.rclass for rr in request.ar if rr.rtype == QTYPE.OPT)])
    while udp and len(data) > limit and reply.rr:
        reply.rr = reply.rr[:-1]
        reply.header.tc = 1
        data = reply.pack()
    return data


def _reply(
    request: Any, records: NetworkRecords, network_key: str, ttl: int, client: str | None
) -> Any:
    """A records answer A queries, AAAA records AAAA queries (a name of ours without an
    address of that family gets an empty NOERROR reply, never a forwarded one)."""
    from dnslib import AAAA, PTR, QTYPE, RR, A

    question = request.q
    name = str(question.qname)
    if question.qtype == QTYPE.PTR:
        target = records.pointer(network_key, _reverse_ip(name), client)
        if target is None:
            return None
        reply = request.reply()
        reply.add_answer(RR(question.qname, QTYPE.PTR, rdata=PTR(target + "."), ttl=ttl))
        return reply
    ips = records.lookup(network_key, name, client)
    if ips is None:
        return None
    reply = request.reply()
    for ip in ips:
        v6 = ":" in ip
        if question.qtype == QTYPE.ANY or question.qtype == (QTYPE.AAAA if v6 else QTYPE.A):
            rtype, rdata = (QTYPE.AAAA, AAAA(ip)) if v6 else (QTYPE.A, A(ip))
            reply.add_answer(RR(question.qname, rtype, rdata=rdata, ttl=ttl))
    return reply


def _reverse_ip(name: str) -> str:
    """``4.3.2.1.in-addr.arpa.`` → ``1.2.3.4``, a 32-nibble ``ip6.arpa.`` name → the IPv6
    address ("" for any other name)."""
    labels = name.rstrip(".").lower().split(".")
    if labels[-2:] == ["in-addr", "arpa"] and len(labels) == 6:
        return ".".join(reversed(labels[:4]))
    if labels[-2:] == ["ip6", "arpa"] and len(labels) == 34:
        digits = "".join(reversed(labels[:32]))
        try:
            return str(ipaddress.IPv6Address(int(digits, 16)))
        except ValueError:
            return ""
    return ""


def servfail(query: bytes) -> bytes | None:
    from dnslib import RCODE, DNSRecord

    try:
        reply = DNSRecord.parse(query).reply()
    except Exception:
        return None
    reply.header.rcode = RCODE.SERVFAIL
    packed: bytes = reply.pack()
    return packed


class DnsServer(TaskGroupService):
    """Use as ``async with DnsServer(host_netns=...) as dns: port = await dns.listen(key, ip)``.

    ``update(key, {name: [ip, ...]})`` replaces a network's records (see records.build_records).
    """

    def __init__(
        self,
        *,
        upstreams: Sequence[Upstream] | None = None,
        host_netns: NetnsRef = None,
        ttl: int = 5,
        timeout: float = 2.0,
    ) -> None:
        self.records = NetworkRecords()
        self.upstreams = list(host_resolvers() if upstreams is None else upstreams)
        self.host_netns = host_netns
        self.ttl = ttl
        self.timeout = timeout
        self._scopes: dict[str, anyio.CancelScope] = {}
        self._tg: anyio.abc.TaskGroup | None = None

    def update(
        self,
        network_key: str,
        records: Mapping[str, Sequence[str]],
        reverse: Mapping[str, str] | None = None,
        clients: Mapping[str, Client] | None = None,
    ) -> None:
        """``reverse``: ip → name for PTR queries (Docker: ``<container>.<network>``);
        ``clients``: ip → what a replica on this network sees (records.Client)."""
        self.records.replace(network_key, records, reverse, clients)

    async def listen(self, network_key: str, ip: str, port: int = 53) -> int:
        """Serve ``network_key`` on ip:port (UDP and TCP) in the host netns; returns the port."""
        assert self._tg is not None, "use DnsServer as an async context manager"
        sock = call_in(self.host_netns, lambda: _bound(ip, port, socket.SOCK_DGRAM))
        port = sock.getsockname()[1]
        tcp = call_in(self.host_netns, lambda: _bound(ip, port, socket.SOCK_STREAM))
        udp = await anyio.abc.UDPSocket.from_socket(sock)
        listener = await anyio.abc.SocketListener.from_socket(tcp)
        scope = anyio.CancelScope()
        self._scopes[network_key] = scope
        self._tg.start_soon(self._serve, udp, listener, network_key, scope)
        return port

    async def unlisten(self, network_key: str) -> None:
        scope = self._scopes.pop(network_key, None)
        if scope is not None:
            scope.cancel()
        self.records.drop(network_key)

    async def _serve(
        self,
        udp: anyio.abc.UDPSocket,
        listener: anyio.abc.SocketListener,
        key: str,
        scope: anyio.CancelScope,
    ) -> None:
        with scope:
            async with udp, listener, anyio.create_task_group() as tg:
                tg.start_soon(listener.serve, lambda stream: self._serve_tcp(stream, key))
                send = UdpReplies(udp)
                async for data, client in udp:
                    reply = answer(data, self.records, key, self.ttl, udp=True, client=client[0])
                    if reply is not None:
                        await send(reply, client)
                    else:
                        tg.start_soon(self._forward, send, data, client, key)

    async def _serve_tcp(self, stream: anyio.abc.SocketStream, key: str) -> None:
        """DNS over TCP: 2-byte length prefix, several queries per connection (glibc sends its
        A and AAAA queries on one after a truncated UDP reply); forwarding still goes over
        UDP. The connection closes when the client does, or after an idle timeout."""
        from anyio.streams.buffered import BufferedByteReceiveStream

        peer = stream.extra(anyio.abc.SocketAttribute.remote_address, None)
        client = peer[0] if isinstance(peer, tuple) else None
        async with stream:
            reader = BufferedByteReceiveStream(stream)
            while True:
                try:
                    with anyio.fail_after(self.timeout * 2):
                        size = int.from_bytes(await reader.receive_exactly(2), "big")
                        query = await reader.receive_exactly(size)
                except (TimeoutError, anyio.EndOfStream, anyio.IncompleteRead, OSError):
                    return
                reply = answer(query, self.records, key, self.ttl, client=client)
                reply = reply or await self._resolve(query, self._upstreams(key, client))
                if reply is None:
                    return
                try:
                    await stream.send(len(reply).to_bytes(2, "big") + reply)
                except (anyio.BrokenResourceError, OSError):
                    return

    def _upstreams(self, key: str, client: str | None) -> Sequence[Upstream]:
        """The client's own ``dns:`` servers, else the server's."""
        return self.records.client(key, client).upstreams or self.upstreams

    async def _resolve(self, data: bytes, upstreams: Sequence[Upstream]) -> bytes | None:
        for host, port in upstreams:
            reply = await self._ask(host, port, data)
            if reply is not None:
                return reply
        return servfail(data)

    async def _forward(self, send: UdpReplies, data: bytes, client: Any, key: str) -> None:
        reply = await self._resolve(data, self._upstreams(key, client[0]))
        if reply is not None:
            await send(reply, client)

    async def _ask(self, host: str, port: int, data: bytes) -> bytes | None:
        try:
            with anyio.fail_after(self.timeout):
                async with await anyio.create_connected_udp_socket(host, port) as up:
                    await up.send(data)
                    return await up.receive()
        except (OSError, TimeoutError) as exc:
            log.debug("dns upstream %s:%s: %s", host, port, exc)
            return None


def _bound(ip: str, port: int, kind: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, kind)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((ip, port))
        if kind == socket.SOCK_STREAM:
            sock.listen(64)
    except OSError as exc:
        sock.close()
        raise PortInUseError(f"dns {ip}:{port}: bind: {exc.strerror or exc}") from exc
    return sock
