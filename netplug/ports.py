"""Published ports: host-port assignment (pure), conflict checks, and DNAT tables per publish key.

Traffic to a host address from outside (and from the host itself to a non-loopback address) is
DNAT'ed by nftables; connections to 127.0.0.1 are served by ``PortProxy`` (proxy.py) because DNAT
does not apply to locally generated traffic to 127.0.0.0/8 without route_localnet.
"""

from __future__ import annotations

import errno
import functools
import socket
from collections.abc import Iterable, Sequence

from netplug import nft
from netplug.errors import NetworkConfigError, PortInUseError
from netplug.naming import BRIDGE_PREFIX, ports_table
from netplug.netns import NetnsRef, call_in
from netplug.types import NetworkConfig, PortBinding


def host_ports(published: str | int, replicas: int) -> list[int]:
    """Host port of each replica: a range gives replica i the i-th port, a single port is shared
    by every replica (load-balanced)."""
    first, _, last = str(published).partition("-")
    if not last:
        return [int(first)] * replicas
    span = list(range(int(first), int(last) + 1))
    if len(span) < replicas:
        raise NetworkConfigError(
            f"published range {published} has {len(span)} ports for {replicas} replicas"
        )
    return span[:replicas]


def bindings_for(
    published: str | int,
    target: int,
    replica_ips: Sequence[str],
    protocol: str = "tcp",
    host_ip: str = "",
) -> list[PortBinding]:
    ports = host_ports(published, len(replica_ips))
    return [
        PortBinding(port, ip, target, protocol, host_ip)
        for port, ip in zip(ports, replica_ips, strict=True)
    ]


def check_ports_free(
    bindings: Iterable[PortBinding], *, host_netns: NetnsRef = None, ignore_table: str | None = None
) -> None:
    """Raise PortInUseError if a host port is bound by a process or DNAT'ed by another table."""
    wanted = {(b.host_ip, b.host_port, b.protocol) for b in bindings}
    taken = nft.table_ports(host_netns, BRIDGE_PREFIX, exclude=ignore_table)
    for host_ip, port, proto in sorted(wanted):
        if (port, proto) in taken:
            raise PortInUseError(
                f"port {port}/{proto}: already published by another pycompose network",
                hint="change the published port or stop the project",
            )
        call_in(host_netns, functools.partial(_probe, host_ip, port, proto))


def _probe(host_ip: str, port: int, proto: str) -> None:
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    with socket.socket(socket.AF_INET, kind) as sock:
        if kind == socket.SOCK_STREAM:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host_ip or "0.0.0.0", port))
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise PortInUseError(
                    f"port {host_ip or '0.0.0.0'}:{port}/{proto}: {exc.strerror}"
                ) from exc
            raise PortInUseError(
                f"port {host_ip or '0.0.0.0'}:{port}/{proto} is already in use",
                hint="another process listens there; pick another host port",
            ) from exc


def publish_ports(
    cfg: NetworkConfig,
    key: str,
    bindings: Sequence[PortBinding],
    *,
    host_netns: NetnsRef = None,
    check: bool = True,
) -> str:
    """Replace the DNAT rules of ``key`` (e.g. the service) on ``cfg``'s network. Returns the
    nft table name. ``check`` refuses ports DNAT'ed by any other table first."""
    table = ports_table(cfg.project, cfg.name, key)
    if check:
        taken = nft.table_ports(host_netns, BRIDGE_PREFIX, exclude=table)
        clash = sorted({(b.host_port, b.protocol) for b in bindings} & taken)
        if clash:
            raise PortInUseError(
                f"port {clash[0][0]}/{clash[0][1]}: already published by another pycompose network"
            )
    if not bindings:
        nft.delete_table(host_netns, table)
        return table
    nft.apply(host_netns, nft.ports_ruleset(table, bindings))
    return table


def unpublish_ports(cfg: NetworkConfig, key: str, *, host_netns: NetnsRef = None) -> None:
    nft.delete_table(host_netns, ports_table(cfg.project, cfg.name, key))
