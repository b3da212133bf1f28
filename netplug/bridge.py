"""ensure_network / remove_network: bridge, gateways (IPv4, and IPv6 with enable_ipv6),
forwarding, nft tables, subnet record."""

from __future__ import annotations

import ipaddress
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from netplug import nft, sysctl
from netplug.ipam import DiskStore, pool
from netplug.ipam.allocator import OwnerAlive, reclaim
from netplug.naming import bridge_name, network_table
from netplug.netns import NetnsRef, call_in
from netplug.nl import Netlink
from netplug.rtnl import ensure_address, ensure_bridge
from netplug.types import AddressPool, NetworkConfig, NetworkInfo

NetworkRef = NetworkConfig | tuple[str, str]


def default_ipam_root() -> Path:
    env = os.environ.get("NETPLUG_IPAM_DIR")
    if env:
        return Path(env)
    return Path(os.environ.get("PYCOMPOSE_STATE_DIR", "/var/lib/pycompose")) / "ipam"


def ensure_network(
    cfg: NetworkConfig,
    *,
    host_netns: NetnsRef = None,
    ipam_root: Path | None = None,
    address_pools: Sequence[AddressPool] = (),
    ip_forward: bool = True,
) -> NetworkInfo:
    """Create or verify the network's bridge, addresses, forwarding and nft tables. Idempotent.

    ``address_pools``: where a network without a subnet gets one (pool.py has the defaults);
    ``ip_forward`` False (Docker's ``"ip-forward": false``) leaves the host's forwarding
    sysctls as they are: replicas then reach only their networks and the host."""
    root = ipam_root or default_ipam_root()
    with pool.host_lock():
        routes = call_in(host_netns, pool.host_routes)
        assigned = pool.assign(root, cfg, routes, address_pools)
        info = NetworkInfo(
            bridge_name(cfg.project, cfg.name),
            assigned.subnet,
            assigned.gateway,
            assigned.subnet6,
            assigned.gateway6,
        )
        _ensure_bridge(cfg, info, host_netns)
    if ip_forward and not cfg.internal:
        sysctl.write(host_netns, "net.ipv4.ip_forward", "1")
        if info.subnet6 is not None:
            sysctl.write(host_netns, "net.ipv6.conf.all.forwarding", "1")
    table = network_table(cfg.project, cfg.name)
    nft.apply(host_netns, nft.network_ruleset(table, info.bridge, info.subnet, cfg.internal))
    if info.subnet6 is not None:
        rules6 = nft.network_ruleset(table, info.bridge, info.subnet6, cfg.internal, "ip6")
        nft.apply(host_netns, rules6)
    nft.open_foreign_forward(host_netns, info.bridge)
    return info


def _ensure_bridge(cfg: NetworkConfig, info: NetworkInfo, host_netns: NetnsRef) -> None:
    prefix = ipaddress.IPv4Network(info.subnet).prefixlen
    with Netlink(host_netns) as nl:
        index = ensure_bridge(nl, info.bridge, cfg.link_mtu)
        ensure_address(nl, index, info.bridge, info.gateway, prefix)
        if info.subnet6 is not None and info.gateway6 is not None:
            sysctl.write(host_netns, f"net.ipv6.conf.{info.bridge}.disable_ipv6", "0")
            prefix6 = ipaddress.IPv6Network(info.subnet6).prefixlen
            ensure_address(nl, index, info.bridge, info.gateway6, prefix6)
        nl.set_up(index, f"bridge {info.bridge}")


def network_info(cfg: NetworkConfig, ipam_root: Path | None = None) -> NetworkInfo | None:
    """What ensure_network recorded for ``cfg`` (None if it never ran)."""
    record = pool.read_record(ipam_root or default_ipam_root(), cfg.key)
    if record is None:
        return None
    return NetworkInfo(
        bridge_name(cfg.project, cfg.name),
        record.subnet,
        record.gateway,
        record.subnet6,
        record.gateway6,
    )


def remove_network(
    ref: NetworkRef, *, host_netns: NetnsRef = None, ipam_root: Path | None = None
) -> None:
    """Delete bridge, nft tables (network + published ports) and IPAM data. Tolerates absence."""
    project, name = (ref.project, ref.name) if isinstance(ref, NetworkConfig) else ref
    with Netlink(host_netns) as nl:
        nl.delete_link(bridge_name(project, name))
    nft.delete_tables(host_netns, network_table(project, name))
    nft.close_foreign_forward(host_netns, bridge_name(project, name))
    root = ipam_root or default_ipam_root()
    pool.forget(root, f"{project}_{name}")
    shutil.rmtree(root / f"{project}_{name}", ignore_errors=True)


def reclaim_addresses(
    cfg: NetworkConfig, owner_alive: OwnerAlive, *, ipam_root: Path | None = None
) -> int:
    """Release every address whose owner (``"<project>/<replica>"``) is no longer alive."""
    store = DiskStore((ipam_root or default_ipam_root()) / cfg.key)
    with store.locked():
        return reclaim(store, owner_alive)
