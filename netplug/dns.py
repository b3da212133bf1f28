"""Embedded DNS responder (dnslib wire format, anyio): one UDP listener per network on its gateway
address; answers the network's names with every live replica IP (shuffled, short TTL), forwards
everything else to the host's resolvers (/etc/resolv.conf)."""

from __future__ import annotations

import logging
import socket
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import anyio
import anyio.abc

from netplug.errors import PortInUseError
from netplug.netns import NetnsRef, call_in
from netplug.records import NetworkRecords
from netplug.tasks import TaskGroupService

log = logging.getLogger(__name__)
Upstream = tuple[str, int]


def host_resolvers(resolv_conf: Path = Path("/etc/resolv.conf")) -> list[Upstream]:
    try:
        lines = resolv_conf.read_text().splitlines()
    except OSError:
        return []
    return [
        (line.split()[1], 53)
        for line in lines
        if line.startswith("nameserver") and len(line.split()) > 1 and ":" not in line
    ]


def answer(query: bytes, records: NetworkRecords, network_key: str, ttl: int) -> bytes | None:
    """The reply for a query about our names; None when it must be forwarded."""
    from dnslib import QTYPE, RR, A, DNSRecord

    try:
        request = DNSRecord.parse(query)
    except Exception:  # dnslib raises DNSError and struct errors on junk
        return None
    question = request.q
    ips = records.lookup(network_key, str(question.qname))
    if ips is None:
        return None
    reply = request.reply()
    if question.qtype in (QTYPE.A, QTYPE.ANY):
        for ip in ips:
            reply.add_answer(RR(question.qname, QTYPE.A, rdata=A(ip), ttl=ttl))
    return reply.pack()


def servfail(query: bytes) -> bytes | None:
    from dnslib import RCODE, DNSRecord

    try:
        reply = DNSRecord.parse(query).reply()
    except Exception:
        return None
    reply.header.rcode = RCODE.SERVFAIL
    return reply.pack()


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

    def update(self, network_key: str, records: Mapping[str, Sequence[str]]) -> None:
        self.records.replace(network_key, records)

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
                async for data, client in udp:
                    reply = answer(data, self.records, key, self.ttl)
                    if reply is not None:
                        await udp.sendto(reply, *client[:2])
                    else:
                        tg.start_soon(self._forward, udp, data, client)

    async def _serve_tcp(self, stream: anyio.abc.SocketStream, key: str) -> None:
        """DNS over TCP: 2-byte length prefix; forwarding still goes over UDP."""
        from anyio.streams.buffered import BufferedByteReceiveStream

        async with stream:
            reader = BufferedByteReceiveStream(stream)
            try:
                with anyio.fail_after(self.timeout * 2):
                    size = int.from_bytes(await reader.receive_exactly(2), "big")
                    query = await reader.receive_exactly(size)
            except (TimeoutError, anyio.EndOfStream, anyio.IncompleteRead, OSError):
                return
            reply = answer(query, self.records, key, self.ttl) or await self._resolve(query)
            if reply is not None:
                await stream.send(len(reply).to_bytes(2, "big") + reply)

    async def _resolve(self, data: bytes) -> bytes | None:
        for host, port in self.upstreams:
            reply = await self._ask(host, port, data)
            if reply is not None:
                return reply
        return servfail(data)

    async def _forward(self, udp: anyio.abc.UDPSocket, data: bytes, client: Any) -> None:
        reply = await self._resolve(data)
        if reply is not None:
            await udp.sendto(reply, *client[:2])

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
