"""netplug: bridges, veth pairs, IPAM, service discovery and published ports for Linux hosts.

Independent of ``compose`` (never imports it); usable on its own. ``import netplug`` is cheap:
the data types load eagerly, everything else (anyio, dnslib users) loads on first use. Netlink
is spoken directly (nl.py, ~30 µs a request) and nftables through libnftables in-process
(libnft.py, CLI fallback); pyroute2 is not used (tests look at the kernel with it).

Interface used by the orchestrator (all verbs are synchronous and blocking; from async code call
them in a worker thread):

    NetworkConfig(project, name, subnet=None, gateway=None, ip_range=None, internal=False,
                  mtu=1500, driver_opts={}, labels={})           .key == "<project>_<name>"
    ensure_network(cfg, *, host_netns=None, ipam_root=None, address_pool="172.28.0.0/14")
        -> NetworkInfo(bridge, subnet, gateway)                  idempotent, verifies
    remove_network(cfg | (project, name), *, host_netns=None, ipam_root=None) -> None
    network_info(cfg, ipam_root=None) -> NetworkInfo | None      what ensure_network recorded
    create_replica_netns(name, *, run_dir=None) -> Path          named netns file (bind mount)
    remove_replica_netns(name, *, run_dir=None) -> None
    attach(project, replica_id, [AttachRequest(network, ipv4_address, aliases, ifname)],
           netns_path, *, host_netns=None, ipam_root=None, owner_alive=None, dns_redirect=True)
        -> tuple[Attachment(network, ifname, ip, prefixlen, mac, gateway, host_ifname), ...]
        dns_redirect: 127.0.0.11:53 in the netns reaches the DNS server on the first gateway
    detach(project, replica_id, networks, netns_path=None, *, host_netns=None, ipam_root=None)
    hand_over(project, from_id, to_id, [(NetworkConfig, address)], to_netns, *, keep_own=True,
              host_netns=None, ipam_root=None) -> [(network, address)]   a successor takes over
        its stopped predecessor's IPv4 and IPv6 addresses (veth gone, IPAM re-owned, address
        added, gratuitous ARP / unsolicited neighbour advertisement)
    hold(netns_path, [address]) -> None   before a predecessor stops: new TCP connections to
        the addresses it will hand over are dropped (clients retry them), never refused
    release_hold(netns_path) -> bool   lift a hold (a replica that serves on after all)
    check(project, replica_id, networks, netns_path, *, host_netns=None, ipam_root=None,
          dns_redirect=True)                                     raises CheckFailed
    reclaim_addresses(cfg, owner_alive, *, ipam_root=None) -> int   drop entries of dead owners
    render_hosts(own, peers, extra_hosts) -> str (pure)
    write_in_place(path, text)   keeps the inode (bind-mounted files)
    link_env(alias, parent_name, target_ip, exposed_ports, target_env) -> dict   moby rules
    replica_link_env(parent_name, [(alias, [LinkTarget...])], own_env) -> dict  all links
    ReplicaNames(ip, service, index, container_name, aliases); build_records([...]) -> records
    DnsServer(upstreams=None, host_netns=None, ttl=5)  anyio:
        async with DnsServer(...) as dns: await dns.listen(cfg.key, gateway)
        dns.update(key, records, reverse, {replica_ip: records.Client(network_keys, upstreams)})
    PortProxy(host_netns=None)  anyio:
        async with PortProxy(...) as p: await p.publish(key, "127.0.0.1", port, "tcp", backends)
        p.set_backends(key, backends); await p.unpublish(key)
    host_ports(published, replicas) / bindings_for(published, target, replica_ips, proto, host_ip)
    check_ports_free(bindings, *, host_netns=None, own_networks=())
        raises PortInUseError (docker's "port is already allocated": bound, or another's DNAT)
    publish_ports(cfg, key, bindings, *, host_netns=None) / unpublish_ports(cfg, key, ...)

``host_netns`` is the path of a netns file in which bridges, routes, nft rules and the DNS/proxy
sockets are made (None = the calling thread's namespace, i.e. the real host in production;
privileged tests always pass a netns they created, so the host is never touched).
``ipam_root`` defaults to $NETPLUG_IPAM_DIR or $PYCOMPOSE_STATE_DIR/ipam; pass
<PYCOMPOSE_STATE_DIR>/ipam explicitly from the orchestrator.

Kernel names: bridge "pcb-<10 hex>" per (project, network), host veth "pcv-<10 hex>" per
(project, replica, network), nft tables "pcb-<10 hex>" and "pcb-<10 hex>-p-<8 hex>" (family ip)
in the host netns, "netplug-dns" in each replica netns (and "netplug-hold" in one that hands its
addresses over).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from netplug.errors import (
    AddressExhausted,
    CheckFailed,
    KernelError,
    NetplugError,
    NetworkConfigError,
    PortInUseError,
)
from netplug.types import (
    Attachment,
    AttachRequest,
    HostEntry,
    NetworkConfig,
    NetworkInfo,
    PortBinding,
)

if TYPE_CHECKING:  # the lazy names below, re-exported for the type checker
    from netplug.bridge import (
        ensure_network as ensure_network,
        network_info as network_info,
        reclaim_addresses as reclaim_addresses,
        remove_network as remove_network,
    )
    from netplug.dns import (
        DnsServer as DnsServer,
    )
    from netplug.handover import (
        hand_over as hand_over,
        hold as hold,
        release_hold as release_hold,
    )
    from netplug.hosts import (
        render_hosts as render_hosts,
        write_in_place as write_in_place,
    )
    from netplug.links import (
        LinkTarget as LinkTarget,
        link_env as link_env,
        replica_link_env as replica_link_env,
    )
    from netplug.netns import (
        create_replica_netns as create_replica_netns,
        remove_replica_netns as remove_replica_netns,
    )
    from netplug.plugin import (
        attach as attach,
        check as check,
        detach as detach,
    )
    from netplug.ports import (
        bindings_for as bindings_for,
        check_ports_free as check_ports_free,
        host_ports as host_ports,
        publish_ports as publish_ports,
        unpublish_ports as unpublish_ports,
    )
    from netplug.proxy import (
        PortProxy as PortProxy,
    )
    from netplug.records import (
        ReplicaNames as ReplicaNames,
        build_records as build_records,
    )

_LAZY = {
    "ensure_network": "netplug.bridge",
    "remove_network": "netplug.bridge",
    "network_info": "netplug.bridge",
    "attach": "netplug.plugin",
    "detach": "netplug.plugin",
    "check": "netplug.plugin",
    "hand_over": "netplug.handover",
    "hold": "netplug.handover",
    "release_hold": "netplug.handover",
    "create_replica_netns": "netplug.netns",
    "remove_replica_netns": "netplug.netns",
    "render_hosts": "netplug.hosts",
    "write_in_place": "netplug.hosts",
    "reclaim_addresses": "netplug.bridge",
    "link_env": "netplug.links",
    "replica_link_env": "netplug.links",
    "LinkTarget": "netplug.links",
    "ReplicaNames": "netplug.records",
    "build_records": "netplug.records",
    "DnsServer": "netplug.dns",
    "PortProxy": "netplug.proxy",
    "host_ports": "netplug.ports",
    "bindings_for": "netplug.ports",
    "check_ports_free": "netplug.ports",
    "publish_ports": "netplug.ports",
    "unpublish_ports": "netplug.ports",
}

__all__ = [
    "AddressExhausted",
    "AttachRequest",
    "Attachment",
    "CheckFailed",
    "HostEntry",
    "KernelError",
    "NetplugError",
    "NetworkConfig",
    "NetworkConfigError",
    "NetworkInfo",
    "PortBinding",
    "PortInUseError",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'netplug' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
