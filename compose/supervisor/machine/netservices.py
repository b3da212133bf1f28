"""The supervisor's network services: embedded DNS on each network's gateway (replicas ask it
at 127.0.0.11, see netplug.resolver) and the loopback port proxy. Both follow the running
replicas: ``refresh()`` recomputes their records/backends from the replica records
(level-triggered, cheap), after every start, stop and removal.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from compose.state import RUNNING, ReplicaRecord

if TYPE_CHECKING:
    from compose.model import Stack
    from netplug import DnsServer, PortProxy
    from netplug.records import Client

log = logging.getLogger(__name__)


def dns_records(
    records: Iterable[ReplicaRecord], aliases: dict[str, dict[str, list[str]]]
) -> dict[str, dict[str, list[str]]]:
    """network key → {name: [ips]} of the running replicas (the names netplug gives each:
    service, service-N, container name, aliases)."""
    from netplug import ReplicaNames, build_records

    on: dict[str, list[ReplicaNames]] = {}
    for rec in records:
        if rec.status != RUNNING:
            continue
        for net, ip in _addresses(rec):
            extra = tuple(aliases.get(rec.service, {}).get(net, ()))
            on.setdefault(net, []).append(ReplicaNames(ip, rec.service, rec.index, rec.name, extra))
    return {net: build_records(replicas) for net, replicas in on.items()}


def _addresses(rec: ReplicaRecord) -> list[tuple[str, str]]:
    """(network, address) of both families: A and AAAA answers come from one table."""
    return [*rec.ips.items(), *rec.ips6.items()]


def ptr_records(records: Iterable[ReplicaRecord], project: str) -> dict[str, dict[str, str]]:
    """network key → {ip: "<container>.<project>_<network>"}: Docker's PTR answers."""
    out: dict[str, dict[str, str]] = {}
    for rec in records:
        if rec.status == RUNNING:
            for net, ip in _addresses(rec):
                out.setdefault(net, {})[ip] = f"{rec.name}.{project}_{net}"
    return out


def dns_clients(
    records: Iterable[ReplicaRecord], project: str, servers: dict[str, list[str]]
) -> dict[str, dict[str, Client]]:
    """network key → {replica ip: what its queries see}: the names of all its networks (first
    attached first) and its service's ``dns:`` servers for the rest (Docker's resolver)."""
    from netplug.records import Client

    out: dict[str, dict[str, Client]] = {}
    for rec in records:
        if rec.status != "running":
            continue
        keys = tuple(f"{project}_{net}" for net in rec.ips)
        client = Client(keys, tuple((s, 53) for s in servers.get(rec.service, ())))
        for net, ip in rec.ips.items():
            out.setdefault(f"{project}_{net}", {})[ip] = client
    return out


def dns_servers(stack: Stack) -> dict[str, list[str]]:
    """service → its ``dns:`` servers (the embedded resolver's upstreams for its replicas)."""
    return {name: list(svc.dns) for name, svc in stack.services.items() if svc.dns}


def port_targets(record: ReplicaRecord) -> list[str]:
    """Where a replica's published ports lead: its address on its first network, and its IPv6
    address there when the network has IPv6 (IPv6 clients then reach it by IPv6 DNAT)."""
    net = next(iter(record.ips), "")
    return [a for a in (record.ips.get(net), record.ips6.get(net)) if a]


def proxy_backends(
    records: Iterable[ReplicaRecord],
) -> dict[tuple[str, int, str], list[tuple[str, int]]]:
    """(listen address, host port, proto) → [(replica address, target port)] of the running
    replicas, for the loopback (and IPv6) listeners ``netplug.ports.proxy_addresses`` names;
    IPv6 listeners lead to IPv6 addresses where the replicas have them."""
    from netplug.ports import proxy_addresses

    out: dict[tuple[str, int, str], list[tuple[str, int]]] = {}
    for rec in records:
        targets = port_targets(rec) if rec.status == RUNNING else []
        for port in rec.ports if targets else ():
            if not port.published:
                continue
            v4, v6 = targets[0], targets[-1]
            for address in proxy_addresses(port.host_ip, ":" in v6):
                key = (address, port.published, port.protocol)
                backend = v6 if ":" in address else v4
                out.setdefault(key, []).append((backend, port.target))
    return out


class NetServices:
    """DnsServer + PortProxy, entered for the supervisor's lifetime."""

    def __init__(
        self,
        aliases: dict[str, dict[str, list[str]]] | None = None,
        servers: dict[str, list[str]] | None = None,
    ) -> None:
        self.aliases = aliases or {}
        self.servers = servers or {}  # service -> its dns: servers
        self._stack = contextlib.AsyncExitStack()
        self.dns: DnsServer | None = None
        self.proxy: PortProxy | None = None
        self._listening: set[str] = set()
        self._published: set[tuple[str, int, str]] = set()

    async def __aenter__(self) -> NetServices:
        from netplug import DnsServer, PortProxy

        self.dns = await self._stack.enter_async_context(DnsServer())
        self.proxy = await self._stack.enter_async_context(PortProxy())
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()

    async def listen(self, network_key: str, gateway: str) -> None:
        if network_key in self._listening or self.dns is None:
            return
        try:
            await self.dns.listen(network_key, gateway)
            self._listening.add(network_key)
        except OSError as exc:
            log.warning("dns on %s (%s): %s", network_key, gateway, exc)

    async def drained(self, ips: list[str], timeout: float) -> bool:
        """No loopback connection to ``ips`` is open any more (False: timed out)."""
        return self.proxy is None or await self.proxy.drained(ips, timeout)

    async def refresh(self, project: str, records: list[ReplicaRecord]) -> None:
        if self.dns is None:
            return
        tables = dns_records(records, self.aliases)
        pointers = ptr_records(records, project)
        clients = dns_clients(records, project, self.servers)
        keys = {f"{project}_{net}" for net in tables} | {
            k for k in self._listening if k.startswith(f"{project}_")
        }
        for key in keys:  # a network whose last replica went is emptied too
            net = key[len(project) + 1 :]
            self.dns.update(key, tables.get(net, {}), pointers.get(net, {}), clients.get(key))
        if self.proxy is not None:
            await self._refresh_proxy(self.proxy, proxy_backends(records))

    async def _refresh_proxy(
        self, proxy: PortProxy, wanted: dict[tuple[str, int, str], list[tuple[str, int]]]
    ) -> None:
        for key, backends in wanted.items():
            name = f"{key[0]}:{key[1]}/{key[2]}"
            if key in self._published:
                proxy.set_backends(name, backends)
                continue
            try:
                await proxy.publish(name, key[0], key[1], key[2], backends)
                self._published.add(key)
            except OSError as exc:
                log.warning("loopback proxy %s: %s", name, exc)
        for key in self._published - set(wanted):
            await proxy.unpublish(f"{key[0]}:{key[1]}/{key[2]}")
            self._published.discard(key)
