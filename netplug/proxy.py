"""Userland TCP/UDP proxy (anyio) for published ports on loopback: DNAT does not apply to locally
generated traffic to 127.0.0.0/8 or ::1 (nor does it bring IPv6 clients to IPv4-only replicas:
the proxy listens on :: for those, as docker-proxy does). Several backends are served
round-robin; listeners and backends may be of either family. Sockets are opened in the host
netns (``host_netns``) so the proxy reaches the bridge networks from there."""

from __future__ import annotations

import errno
import itertools
import logging
import socket
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.abc

from netplug.errors import PortInUseError
from netplug.netns import NetnsRef, call_in
from netplug.tasks import TaskGroupService, UdpReplies

log = logging.getLogger(__name__)
Backend = tuple[str, int]
UDP_IDLE = 30.0


@dataclass
class _Entry:
    backends: list[Backend]
    scope: anyio.CancelScope = field(default_factory=anyio.CancelScope)
    rr: itertools.count[int] = field(default_factory=itertools.count)

    def pick(self) -> Backend | None:
        if not self.backends:
            return None
        return self.backends[next(self.rr) % len(self.backends)]


class PortProxy(TaskGroupService):
    """``async with PortProxy(host_netns=...) as proxy: await proxy.publish(...)``."""

    def __init__(self, *, host_netns: NetnsRef = None) -> None:
        self.host_netns = host_netns
        self._entries: dict[str, _Entry] = {}
        self._tg: anyio.abc.TaskGroup | None = None
        self._open: Counter[str] = Counter()  # backend ip -> TCP connections relayed now

    async def drained(self, ips: Collection[str], timeout: float) -> bool:
        """Wait until no TCP connection is relayed to ``ips`` (False: ``timeout`` first).
        Take a backend out of ``set_backends`` first: then no new one starts."""
        with anyio.move_on_after(timeout):
            while any(self._open[ip] for ip in ips):
                await anyio.sleep(0.01)
            return True
        return False

    async def publish(
        self, key: str, host_ip: str, host_port: int, protocol: str, backends: Sequence[Backend]
    ) -> int:
        """Listen on host_ip:host_port and relay to ``backends``; returns the bound port."""
        assert self._tg is not None, "use PortProxy as an async context manager"
        sock = call_in(self.host_netns, lambda: _listen(host_ip, host_port, protocol))
        entry = _Entry(list(backends))
        self._entries[key] = entry
        serve = self._serve_tcp if protocol == "tcp" else self._serve_udp
        self._tg.start_soon(serve, sock, entry)
        port: int = sock.getsockname()[1]
        return port

    def set_backends(self, key: str, backends: Sequence[Backend]) -> None:
        self._entries[key].backends = list(backends)

    async def unpublish(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            entry.scope.cancel()

    async def _serve_tcp(self, sock: socket.socket, entry: _Entry) -> None:
        with entry.scope:
            listener = await anyio.abc.SocketListener.from_socket(sock)
            async with listener, anyio.create_task_group() as tg:
                while True:
                    client = await listener.accept()
                    tg.start_soon(self._relay_tcp, client, entry)

    async def _relay_tcp(self, client: anyio.abc.SocketStream, entry: _Entry) -> None:
        async with client:
            backend = entry.pick()
            if backend is None:
                return
            self._open[backend[0]] += 1
            try:
                await self._relay_to(client, backend)
            finally:
                self._open[backend[0]] -= 1

    async def _relay_to(self, client: anyio.abc.SocketStream, backend: Backend) -> None:
        try:
            upstream = await self._connect(backend)
        except OSError as exc:
            log.info("proxy %s:%s: %s", *backend, exc)
            return
        async with upstream, anyio.create_task_group() as tg:
            tg.start_soon(_pump, client, upstream)
            await _pump(upstream, client)

    async def _connect(self, backend: Backend) -> anyio.abc.SocketStream:
        family = _family(backend[0])
        sock = call_in(self.host_netns, lambda: socket.socket(family, socket.SOCK_STREAM))
        sock.setblocking(False)
        try:
            err = sock.connect_ex(backend)
            if err not in (0, errno.EINPROGRESS):
                raise OSError(err, errno.errorcode.get(err, str(err)))
            with anyio.fail_after(10):
                await anyio.wait_writable(sock)
            err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                raise OSError(err, errno.errorcode.get(err, str(err)))
        except BaseException:
            sock.close()
            raise
        return await anyio.abc.SocketStream.from_socket(sock)

    async def _serve_udp(self, sock: socket.socket, entry: _Entry) -> None:
        flows: dict[Any, anyio.abc.ConnectedUDPSocket] = {}
        with entry.scope:
            udp = await anyio.abc.UDPSocket.from_socket(sock)
            replies = UdpReplies(udp)
            async with udp, anyio.create_task_group() as tg:
                async for data, client in udp:
                    flow = flows.get(client)
                    if flow is None:
                        flow = await self._udp_flow(replies, client, entry, flows, tg)
                    if flow is not None:
                        await flow.send(data)

    async def _udp_flow(
        self,
        replies: UdpReplies,
        client: Any,
        entry: _Entry,
        flows: dict[Any, anyio.abc.ConnectedUDPSocket],
        tg: anyio.abc.TaskGroup,
    ) -> anyio.abc.ConnectedUDPSocket | None:
        backend = entry.pick()
        if backend is None:
            return None
        family = _family(backend[0])
        raw = call_in(self.host_netns, lambda: socket.socket(family, socket.SOCK_DGRAM))
        raw.connect(backend)
        flow = await anyio.abc.ConnectedUDPSocket.from_socket(raw)
        flows[client] = flow
        tg.start_soon(_udp_replies, replies, flow, client, flows)
        return flow


async def _udp_replies(
    replies: UdpReplies,
    flow: anyio.abc.ConnectedUDPSocket,
    client: Any,
    flows: dict[Any, anyio.abc.ConnectedUDPSocket],
) -> None:
    async with flow:
        while True:
            with anyio.move_on_after(UDP_IDLE) as idle:
                data = await flow.receive()
            if idle.cancelled_caught:
                break
            await replies(data, client)
    flows.pop(client, None)


async def _pump(src: anyio.abc.SocketStream, dst: anyio.abc.SocketStream) -> None:
    try:
        async for chunk in src:
            await dst.send(chunk)
        await dst.send_eof()
    except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
        pass


def _family(address: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in address else socket.AF_INET


def _listen(host_ip: str, port: int, protocol: str) -> socket.socket:
    """A listener on an IPv4 or IPv6 address; on ``::`` IPv6 only (IPv4 has its own)."""
    address = host_ip or "127.0.0.1"
    kind = socket.SOCK_STREAM if protocol == "tcp" else socket.SOCK_DGRAM
    sock = socket.socket(_family(address), kind)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if sock.family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind((address, port))
        if kind == socket.SOCK_STREAM:
            sock.listen(512)
    except OSError as exc:
        sock.close()
        shown = f"[{address}]" if ":" in address else address
        raise PortInUseError(f"proxy {shown}:{port}/{protocol}: {exc.strerror}") from exc
    return sock
