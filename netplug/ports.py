"""Published ports: host-port assignment (pure), conflict checks, and DNAT tables per publish key.

Traffic to a host address from outside (and from the host itself to a non-loopback address) is
DNAT'ed by nftables; connections to 127.0.0.1 are served by ``PortProxy`` (proxy.py) because DNAT
does not apply to locally generated traffic to 127.0.0.0/8 without route_localnet.
"""

from __future__ import annotations

import errno
import functools
import os
import socket
from collections.abc import Iterable, Sequence
from pathlib import Path

from netplug import nft
from netplug.errors import NetworkConfigError, PortInUseError
from netplug.naming import BRIDGE_PREFIX, network_table, ports_table
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
    bindings: Iterable[PortBinding],
    *,
    host_netns: NetnsRef = None,
    ignore_table: str | None = None,
    own_networks: Iterable[NetworkConfig] = (),
) -> None:
    """Raise PortInUseError (docker's wording) if a host port is bound by a process or DNAT'ed
    by a table of another network; ``own_networks``: the caller's own tables don't count."""
    wanted = sorted({(b.host_ip, b.host_port, b.protocol) for b in bindings})
    if not wanted:
        return
    own = tuple(network_table(n.project, n.name) for n in own_networks)
    taken = nft.table_ports(host_netns, BRIDGE_PREFIX, exclude=ignore_table, ignore=own)
    for host_ip, port, proto in wanted:
        if (port, proto) in taken:
            raise PortInUseError(
                _allocated(host_ip, port), hint="another pycompose project publishes it"
            )
        for address in _probe_addresses(host_ip):
            call_in(host_netns, functools.partial(_probe, address, port, proto))


def _allocated(host_ip: str, port: int) -> str:
    shown = f"[{host_ip}]" if ":" in host_ip else host_ip or "0.0.0.0"
    return f"Bind for {shown}:{port} failed: port is already allocated"


def _probe_addresses(host_ip: str) -> list[str]:
    """Every address a binding takes: "" is 0.0.0.0 and, where the host has IPv6, ::."""
    if host_ip in ("", "*"):
        return (
            ["0.0.0.0", "::"]
            if socket.has_ipv6 and Path("/proc/net/if_inet6").exists()
            else ["0.0.0.0"]
        )
    return [host_ip]


def _probe(address: str, port: int, proto: str) -> None:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    with socket.socket(family, kind) as sock:
        if kind == socket.SOCK_STREAM:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        try:
            sock.bind((address, port))
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise PortInUseError(f"port {address}:{port}/{proto}: {exc.strerror}") from exc
            raise PortInUseError(
                _allocated("" if address in ("0.0.0.0", "::") else address, port),
                hint=f"{_holder(port, proto)} holds {proto} port {port}: stop it or pick another",
            ) from exc


def _holder(port: int, proto: str) -> str:
    """``pid 1234 (nginx)`` of a socket bound to ``port`` in this thread's netns, else
    "another program" (only on the error path: it scans every process's fds)."""
    inodes = _socket_inodes(port, proto)
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
            if any(os.readlink(f"/proc/{pid}/fd/{fd}") in inodes for fd in fds):
                comm = Path(f"/proc/{pid}/comm").read_text().strip()
                return f"pid {pid} ({comm})"
        except OSError:
            continue
    return "another program"


def _socket_inodes(port: int, proto: str) -> set[str]:
    found = set()
    for table in (proto, f"{proto}6"):
        try:
            lines = Path(f"/proc/thread-self/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        for cols in (line.split() for line in lines):
            if len(cols) > 9 and int(cols[1].rsplit(":", 1)[1], 16) == port and cols[9] != "0":
                found.add(f"socket:[{cols[9]}]")
    return found


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
    for family in _families(cfg):
        mine = [b for b in bindings if nft.family_of(b.target_ip) == family]
        if mine:
            nft.apply(host_netns, nft.ports_ruleset(table, mine, family))
        else:
            nft.delete_table(host_netns, table, (family,))
    return table


def unpublish_ports(cfg: NetworkConfig, key: str, *, host_netns: NetnsRef = None) -> None:
    nft.delete_table(host_netns, ports_table(cfg.project, cfg.name, key), _families(cfg))


def _families(cfg: NetworkConfig) -> tuple[str, ...]:
    """Port tables of an IPv6 network come in both families (IPv6 targets: family ip6)."""
    return ("ip", "ip6") if cfg.enable_ipv6 else ("ip",)


def proxy_addresses(host_ip: str, ipv6_targets: bool) -> list[str]:
    """Where the userland proxy listens for a binding of ``host_ip`` (DNAT covers the rest):
    loopback, which DNAT can't reach; and for "" (every address, Docker's default) also ``::``
    (IPv6 only), which relays IPv6 clients to replicas without an IPv6 address as docker-proxy
    does (with IPv6 targets DNAT answers first and the proxy sees ::1 only)."""
    if host_ip in ("", "*"):
        return ["127.0.0.1", "::"] if _host_has_ipv6() else ["127.0.0.1"]
    if host_ip == "0.0.0.0":
        return ["127.0.0.1"]
    if host_ip.startswith("127.") or host_ip in ("::", "::1"):
        return [host_ip]
    return [host_ip] if ":" in host_ip and not ipv6_targets else []


def _host_has_ipv6() -> bool:
    return socket.has_ipv6 and Path("/proc/net/if_inet6").exists()
