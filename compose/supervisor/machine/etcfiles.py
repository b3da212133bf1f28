"""What a replica's /etc/hosts, /etc/resolv.conf and /etc/hostname say, and its legacy link
variables: pure functions of the service and the replica records (netplug renders the text).

/etc/hosts: the replica itself, its links, then every live peer by container name, and by
service name only for a service with one live replica: glibc and musl return just the first
/etc/hosts match, so a scaled service there would pin every client to one replica; its name is
left to the embedded DNS, which answers with all of them (Docker keeps peers out of /etc/hosts
altogether).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from compose.runtime.etcfiles import resolv_conf as runtime_resolv_conf
from compose.state import EXITED, ReplicaRecord
from netplug import HostEntry, render_hosts, replica_link_env
from netplug.links import LinkTarget
from netplug.resolver import ADDRESS as RESOLVER

if TYPE_CHECKING:
    from compose.model import Service, Stack

ETC_FILES = ("hosts", "resolv.conf", "hostname")


def etc_dir(replica_dir: Path) -> Path:
    return replica_dir / "etc"


def etc_binds(replica_dir: Path) -> tuple[tuple[str, Path], ...]:
    """(path in the container, host file) of each generated /etc file."""
    return tuple((f"/etc/{name}", etc_dir(replica_dir) / name) for name in ETC_FILES)


def hostname(svc: Service, container: ReplicaRecord) -> str:
    """``hostname:``, else the container's short id, as Docker's: each container its own (a
    recreated replica and a one-off are new containers; a restart keeps it)."""
    return svc.hostname or container.short_id


def hosts_text(
    svc: Service,
    own: ReplicaRecord,
    own_ips: Sequence[str | None],
    records: Sequence[ReplicaRecord],
) -> str:
    """The /etc/hosts of the container ``own`` (its record: name, index, id); ``own_ips``: its
    IPv4 and IPv6 address on its first network (Docker writes a line for each)."""
    return Peers(records).hosts_text(svc, own, own_ips)


class Peers:
    """The live replicas of one set of records, rendered once: every replica's /etc/hosts is
    then its own lines plus the others' (a refresh of n replicas costs O(n) per file, not a
    recount of every service for each)."""

    def __init__(self, records: Sequence[ReplicaRecord]) -> None:
        self.live = [r for r in records if r.status != EXITED and not r.oneoff]
        count = Counter(r.service for r in self.live)
        # a peer of another service is named by its service too when it is that one's only one
        self._entries = [
            (
                rec,
                [HostEntry(ip, (rec.service, rec.name)) for ip in _addresses(rec)]
                if count[rec.service] == 1
                else [HostEntry(ip, (rec.name,)) for ip in _addresses(rec)],
                [HostEntry(ip, (rec.name,)) for ip in _addresses(rec)],
            )
            for rec in self.live
        ]

    def hosts_text(self, svc: Service, own: ReplicaRecord, own_ips: Sequence[str | None]) -> str:
        name, index = own.name, own.index
        others = sum(1 for r in self.live if r.service == svc.name and r.name != name)
        mine = (
            hostname(svc, own),
            name,
            *((svc.name,) if not others else ()),
            f"{svc.name}-{index}",
        )
        entries = [HostEntry(ip, mine) for ip in own_ips if ip]
        peers = [
            entry
            for rec, elsewhere, same in self._entries
            if rec.name != name
            for entry in (same if rec.service == svc.name else elsewhere)
        ]
        live = [r for r in self.live if r.name != name] if svc.links else []
        return render_hosts(entries, _link_entries(svc, live) + peers, svc.extra_hosts)


def _addresses(rec: ReplicaRecord) -> tuple[str, ...]:
    return (*rec.ips.values(), *rec.ips6.values())


def _link_entries(svc: Service, live: Sequence[ReplicaRecord]) -> list[HostEntry]:
    """Docker's legacy link lines: ``<ip> <alias> <container>`` for each ``links: [target:alias]``,
    pointing at the target's lowest live replica (as the link variables do); a second line for
    its IPv6 address on that network, as Docker's."""
    entries = []
    for link in svc.links:
        target, _, alias = link.partition(":")
        replicas = sorted((r for r in live if r.service == target and r.ips), key=lambda r: r.index)
        if replicas:
            first = replicas[0]
            net, ip = next(iter(first.ips.items()))
            names = (alias or target, first.name)
            entries += [HostEntry(a, names) for a in (ip, first.ips6.get(net)) if a]
    return entries


def resolv_conf(svc: Service, attached: bool, host_text: str) -> str:
    """Docker's: its resolver 127.0.0.11 on the project's networks (``attached``; a
    ``service:<x>`` netns has it too; the service's ``dns:`` servers are where it forwards),
    the host's file (``host_text``) with ``network_mode: host``."""
    mode = svc.network_mode or ""
    return runtime_resolv_conf(
        host_text,
        nameserver=RESOLVER if attached or mode.startswith("service:") else None,
        dns=svc.dns,
        search=svc.dns_search,
        options=svc.dns_opt,
        host_network=mode == "host",
    )


def link_env(
    parent: str,
    svc: Service,
    stack: Stack,
    records: Sequence[ReplicaRecord],
    image_ports: Mapping[str, Sequence[str]],
) -> list[str]:
    """Docker's legacy link variables for ``links:`` of the container named ``parent`` (the
    linking one: ``DB_NAME=/<parent>/db``); ``image_ports``: each target service's image EXPOSE
    list."""
    links = []
    for entry in svc.links:
        target, _, alias = entry.partition(":")
        spec = stack.services[target]
        exposed = (*image_ports.get(target, ()), *(str(p) for p in spec.expose))
        env = tuple(f"{k}={v}" for k, v in spec.environment.items() if v is not None)
        reps = [
            LinkTarget(r.service, r.index, next(iter(r.ips.values())), exposed, env)
            for r in records
            if r.service == target and r.ips
        ]
        links.append((alias or target, reps))
    variables = replica_link_env(parent, links)
    return [f"{k}={v}" for k, v in variables.items()]
