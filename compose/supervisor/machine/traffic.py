"""Who gets traffic: the embedded DNS, the loopback port proxy, every /etc/hosts and the kernel
DNAT of published ports follow the serving replicas: the running ones, less those withheld (a
start-first successor until it is ready, its predecessor once drained).

    start/stop/remove/rename ─► refresh()   DNS + proxy (NetServices) + /etc/hosts rewrites
    start / exit / admit     ─► publish(service)   one nft table per service (DNAT)

Both are coalesced: a burst of 30 starts costs a few refreshes and nft transactions, not 30.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import socket
import threading
from typing import TYPE_CHECKING

import anyio

import netplug
from compose.procfs import listening_ports
from compose.state import RUNNING, ReplicaRecord, staged_for
from compose.supervisor.blocking import run_sync
from compose.supervisor.machine import etcfiles
from compose.supervisor.machine.coalesce import Coalesced
from compose.supervisor.machine.context import Context
from compose.supervisor.machine.netservices import port_targets

if TYPE_CHECKING:
    from compose.supervisor.machine.netservices import NetServices

log = logging.getLogger(__name__)
DRAIN_TIMEOUT = 2.0  # longest wait for a drained replica's open proxy connections
SERVE_TIMEOUT = 30.0  # longest wait for a start-first successor's published ports to accept
_HOSTS_LOCK = threading.Lock()


class Traffic:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.net: NetServices | None = None  # the supervisor's DNS + proxy, once it serves them
        self.withheld: set[str] = set()
        self._publishing: dict[str, Coalesced] = {}
        self._refreshing = False
        self._refresh_dirty = False

    def serve(self, net: NetServices) -> None:
        self.net = net

    async def listen(self, network_key: str, gateway: str) -> None:
        """The embedded DNS answers on a new network's gateway."""
        if self.net is not None:
            await self.net.listen(network_key, gateway)

    def serving_records(self) -> list[ReplicaRecord]:
        return [r for r in self.ctx.store.replicas() if r.name not in self.withheld]

    # the gate --------------------------------------------------------------------------------
    def withhold(self, name: str) -> None:
        """Give a replica about to be created no traffic until ``admit``."""
        self.withheld.add(name)

    async def admit(self, name: str) -> None:
        """A withheld replica joins DNS, /etc/hosts, the proxy and the DNAT set."""
        self.withheld.discard(name)
        await self.refresh()
        await run_sync(self.publish, self.ctx.record(name).service)

    async def drain(self, name: str, successor: str | None = None) -> None:
        """Before a replica that has a successor stops: DNS, /etc/hosts, the loopback proxy
        and the DNAT set stop sending it new connections (it still runs). A withheld
        ``successor`` is admitted in the same step: new connections go to one or the other,
        never to both in turn (admitting first, then draining, let a client see the new
        replica answer and then the old one again)."""
        record = self.ctx.record(name)
        self.withheld.add(name)
        if successor is not None:
            self.withheld.discard(successor)
        await self.refresh()
        await run_sync(self.publish, record.service)
        if self.net is not None:  # requests in flight through the proxy finish first
            await self.net.drained(list(record.ips.values()), DRAIN_TIMEOUT)

    def renamed(self, old: str, new: str) -> None:
        """A successor withheld under its staging name stays withheld under its own."""
        if old in self.withheld:
            self.withheld.discard(old)
            self.withheld.add(new)

    def forget(self, name: str) -> None:
        """A removed replica is no longer withheld (its name may come back)."""
        self.withheld.discard(name)

    async def wait_serving(self, name: str, timeout: float = SERVE_TIMEOUT) -> bool:
        """Until the replica accepts TCP connections on each published port's target, and on
        each port its predecessor listens on (a start-first successor without a healthcheck
        is "running" before its server has bound: draining the old one then would leave a
        gap, for clients of its published ports as for its peers). False when ``timeout``
        came first."""
        record = self.ctx.record(name)
        ip = next(iter(record.ips.values()), None)
        ports = {p.target for p in record.ports if p.published and p.protocol == "tcp"}
        ports |= self._predecessor_listens(name)
        with anyio.move_on_after(timeout):
            while ip and ports:
                ports = {port for port in ports if not await _accepts(ip, port)}
                if ports:
                    await anyio.sleep(0.02)
            return True
        log.info("%s: ports %s not accepting after %.0fs; replacing anyway", name, ports, timeout)
        return False

    def _predecessor_listens(self, name: str) -> set[int]:
        """The TCP ports the replica a staging ``name`` stands in for listens on (none when
        ``name`` is not a staging name, or the predecessor does not run)."""
        canonical = staged_for(name)
        predecessor = self.ctx.store.load_replica(canonical) if canonical else None
        if predecessor is None or predecessor.pid is None or predecessor.status != RUNNING:
            return set()
        return listening_ports(predecessor.pid)

    # followers of the serving set ------------------------------------------------------------
    async def refresh(self) -> None:
        """DNS records, loopback proxies and every /etc/hosts follow the serving replicas.

        Coalesced: while one refresh runs, further calls only mark it dirty and it runs once
        more afterwards, so a burst of 30 starts costs a few refreshes, not 30 (each reads every
        record and rewrites every hosts file)."""
        self._refresh_dirty = True
        if self._refreshing:
            return
        self._refreshing = True
        try:
            while self._refresh_dirty:
                self._refresh_dirty = False
                if self.net is not None:
                    await self.net.refresh(self.ctx.project, self.serving_records())
                await run_sync(self.rewrite_hosts)
        finally:
            self._refreshing = False

    def rewrite_hosts(self) -> None:
        """Peers changed: rewrite every running replica's /etc/hosts in place (same inode, so the
        bind mount inside the container sees it), only where the text differs."""
        stack = self.ctx.stack
        if stack is None:
            return
        with _HOSTS_LOCK:  # concurrent refreshes: the last to read the records writes last
            records = self.serving_records()
            peers = etcfiles.Peers(records)
            for rec in records:
                path = etcfiles.etc_dir(self.ctx.replica_dir(rec.ident)) / "hosts"
                svc = stack.services.get(rec.service)
                if rec.status != RUNNING or svc is None:
                    continue
                net = next(iter(rec.ips), "")
                own = (rec.ips.get(net), rec.ips6.get(net))
                text = peers.hosts_text(svc, rec, own)
                with contextlib.suppress(FileNotFoundError):  # removed meanwhile
                    if path.read_text() != text:
                        netplug.write_in_place(path, text)

    def publish(self, service: str, exclude: str = "") -> None:
        """Kernel DNAT of one service: ONE nft table (key = service) holding every serving
        replica's bindings, so a fixed host port shared by replicas is load-balanced
        (``numgen random``) and a range gives each replica its own port. Serialized per service
        and computed from the records under the lock, so concurrent starts never lose a replica;
        a start whose record a later, finished update already read returns at once (coalesced).
        ``exclude`` (a replica being removed) always updates: no other caller leaves it out."""
        with self._publishing.setdefault(service, Coalesced()).turn(force=bool(exclude)) as due:
            if due:
                self._publish(service, exclude)

    def _publish(self, service: str, exclude: str) -> None:
        records = [
            r
            for r in self.serving_records()
            if r.service == service and not r.oneoff and r.name != exclude and r.ports
        ]
        nets = next((r.ips for r in records if r.ips), None)
        if not nets or not any(p.published for r in records for p in r.ports):
            return
        bindings = [
            netplug.PortBinding(p.published, ip, p.target, p.protocol, p.host_ip)
            for r in records
            if r.status == RUNNING and r.ips
            for ip in port_targets(r)
            for p in r.ports
            if p.published
        ]
        net = self.ctx.network_config(next(iter(nets)))
        if bindings:
            netplug.publish_ports(net, service, bindings, check=False)
        else:
            netplug.unpublish_ports(net, service)


async def _accepts(ip: str, port: int) -> bool:
    return not await connect_error(ip, port)


async def connect_error(ip: str, port: int, timeout: float = 0.5) -> str:
    """ "" when ``ip:port`` accepts a TCP connection, else why not (``Connection refused``).
    A non-blocking connect on the loop: no thread, no process."""
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setblocking(False)
        code = sock.connect_ex((ip, port))
        if code == errno.EINPROGRESS:
            with anyio.move_on_after(timeout):
                await anyio.wait_writable(sock)
                code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if code == errno.EINPROGRESS:
                return "timed out"
    return os.strerror(code) if code else ""
