"""attach / detach / check of one replica on its networks (CNI bridge ADD / DEL / CHECK).

attach, per network in order: reserve an IP (same owner+ifname gets the same IP back), drop a
stale veth of the same deterministic name (left by a crash), create the veth pair with the peer
placed straight into the replica netns under its final name (eth0, eth1, …), enslave and raise
the host end, then address, raise and route the container end over a netlink socket opened inside
the replica netns. Last, Docker's resolver address 127.0.0.11 is made to reach the embedded DNS
on the first network's gateway (resolver.py). Any failure undoes every step already done, in
reverse order.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from netplug import resolver, rtnl
from netplug.bridge import default_ipam_root
from netplug.errors import CheckFailed, KernelError, NetworkConfigError
from netplug.ipam import DiskStore, Range, allocate, make_range, release
from netplug.ipam.allocator import OwnerAlive
from netplug.ipam.pool import Assigned, read_record
from netplug.naming import bridge_name, owner_id, veth_name
from netplug.netns import NetnsRef
from netplug.nl import Netlink
from netplug.types import Attachment, AttachRequest, NetworkConfig

Undo = list[Callable[[], object]]


@dataclass(frozen=True, slots=True)
class _Plan:
    req: AttachRequest
    ifname: str
    host_ifname: str
    bridge: str
    subnet: ipaddress.IPv4Network
    gateway: str
    store: DiskStore
    ip_range: str | None
    range6: Range | None = None  # the network's IPv6 range, with enable_ipv6


def _as_request(item: AttachRequest | NetworkConfig) -> AttachRequest:
    return item if isinstance(item, AttachRequest) else AttachRequest(item)


def _plans(
    project: str, replica_id: str, networks: Sequence[AttachRequest | NetworkConfig], root: Path
) -> list[_Plan]:
    plans = []
    for position, item in enumerate(networks):
        req = _as_request(item)
        net = req.network
        record = read_record(root, net.key)
        if record is None:
            raise NetworkConfigError(
                f"network {net.key}: not created", hint="call ensure_network first"
            )
        plans.append(
            _Plan(
                req,
                req.ifname or f"eth{position}",
                veth_name(project, replica_id, net.name),
                bridge_name(project, net.name),
                ipaddress.IPv4Network(record.subnet),
                record.gateway,
                DiskStore(root / net.key),
                record.ip_range,
                _range6(record),
            )
        )
    return plans


def _range6(record: Assigned) -> Range | None:
    if record.subnet6 is None:
        return None
    return make_range(record.subnet6, record.gateway6, record.ip_range6)


def attach(
    project: str,
    replica_id: str,
    networks: Sequence[AttachRequest | NetworkConfig],
    netns_path: str | os.PathLike[str],
    *,
    host_netns: NetnsRef = None,
    ipam_root: Path | None = None,
    owner_alive: OwnerAlive | None = None,
    dns_redirect: bool = True,
) -> tuple[Attachment, ...]:
    """Connect a replica's netns to each network; all or nothing. ``dns_redirect``: queries to
    127.0.0.11:53 in the netns go to the embedded DNS on the first network's gateway."""
    plans = _plans(project, replica_id, networks, ipam_root or default_ipam_root())
    owner = owner_id(project, replica_id)
    undo: Undo = []
    with Netlink(host_netns) as host, Netlink(netns_path) as inner:
        try:
            done = _attach_all(plans, owner, netns_path, host, inner, undo, owner_alive)
            if dns_redirect and plans:
                resolver.install(netns_path, plans[0].gateway)
            return done
        except BaseException:
            _rollback(undo)  # while the sockets are still open
            raise


def _attach_all(
    plans: list[_Plan],
    owner: str,
    netns_path: str | os.PathLike[str],
    host: Netlink,
    inner: Netlink,
    undo: Undo,
    owner_alive: OwnerAlive | None,
) -> tuple[Attachment, ...]:
    inner.set_up(1, "lo")  # lo is ifindex 1 in every netns
    fd = os.open(netns_path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        done = [
            _attach_one(p, owner, fd, host, inner, undo, owner_alive, localnet=p is plans[0])
            for p in plans
        ]
    finally:
        os.close(fd)
    routable = [p for p in plans if not p.req.network.internal]
    if routable:
        inner.add_default_route(routable[0].gateway)
    routable6 = [p for p in routable if p.range6 is not None]
    if routable6 and routable6[0].range6 is not None:
        inner.add_default_route(str(routable6[0].range6.gateway))
    for att in done:
        index = host.link_index(att.host_ifname)
        if index is not None:
            host.wait_up(index, f"veth {att.host_ifname}")
    return tuple(done)


def _attach_one(
    plan: _Plan,
    owner: str,
    ns_fd: int,
    host: Netlink,
    inner: Netlink,
    undo: Undo,
    owner_alive: OwnerAlive | None,
    localnet: bool = False,
) -> Attachment:
    """``localnet``: the interface carries the 127.0.0.11 redirect (route_localnet)."""
    rng = make_range(str(plan.subnet), plan.gateway, plan.ip_range)
    ip = str(allocate(plan.store, rng, owner, plan.ifname, plan.req.ipv4_address, owner_alive))
    undo.append(lambda: release(plan.store, owner, plan.ifname))
    if host.link_index(plan.host_ifname) is not None:
        host.delete_link(plan.host_ifname)  # left by a killed attach: the pair dies together
    mac = plan.req.mac_address or mac_for(ip)
    _create_veth(plan, ns_fd, host, mac)
    undo.append(lambda: host.delete_link(plan.host_ifname))
    index = inner.link_index(plan.ifname)
    if index is None:
        raise KernelError(f"{plan.ifname}: missing in the replica netns after creation")
    inner.add_address(index, ip, plan.subnet.prefixlen, plan.ifname)
    inner.set_up(index, plan.ifname, route_localnet=localnet)
    ip6 = _address6(plan, owner, inner, index, owner_alive)
    return Attachment(
        plan.req.network.name,
        plan.ifname,
        ip,
        plan.subnet.prefixlen,
        mac,
        plan.gateway,
        plan.host_ifname,
        ip6,
        plan.range6.subnet.prefixlen if plan.range6 else 0,
        str(plan.range6.gateway) if plan.range6 else None,
    )


def _address6(
    plan: _Plan, owner: str, inner: Netlink, index: int, owner_alive: OwnerAlive | None
) -> str | None:
    """The interface's IPv6 address on a network with one (released with the IPv4 one)."""
    if plan.range6 is None:
        if plan.req.ipv6_address is not None:
            raise NetworkConfigError(
                f"ipv6_address {plan.req.ipv6_address}: network {plan.req.network.key} has no "
                "IPv6 subnet",
                hint="set enable_ipv6: true on the network",
            )
        return None
    requested = plan.req.ipv6_address
    ip6 = str(allocate(plan.store, plan.range6, owner, plan.ifname, requested, owner_alive))
    inner.add_address(index, ip6, plan.range6.subnet.prefixlen, plan.ifname)
    return ip6


def mac_for(ip: str) -> str:
    """Docker's scheme: 02:42 followed by the four bytes of the IPv4 address."""
    return "02:42:" + ":".join(f"{b:02x}" for b in ipaddress.IPv4Address(ip).packed)


def _create_veth(plan: _Plan, ns_fd: int, host: Netlink, mac: str) -> None:
    master = host.link_index(plan.bridge)
    if master is None:
        raise NetworkConfigError(
            f"bridge {plan.bridge} of {plan.req.network.key}: missing",
            hint="call ensure_network again",
        )
    host.add_veth(
        plan.host_ifname,
        plan.ifname,
        ns_fd,
        master=master,
        mtu=plan.req.network.link_mtu,
        peer_mac=bytes.fromhex(mac.replace(":", "")),
    )
    index = host.link_index(plan.host_ifname)
    if index is None:
        raise KernelError(f"veth {plan.host_ifname}: missing right after creation")
    host.set_up(index, plan.host_ifname)


def _rollback(undo: Undo) -> None:
    for action in reversed(undo):
        with contextlib.suppress(Exception):
            action()


def detach(
    project: str,
    replica_id: str,
    networks: Sequence[AttachRequest | NetworkConfig],
    netns_path: str | os.PathLike[str] | None = None,
    *,
    host_netns: NetnsRef = None,
    ipam_root: Path | None = None,
) -> None:
    """Remove the replica's veths and release its addresses. Absence of anything is fine."""
    root = ipam_root or default_ipam_root()
    owner = owner_id(project, replica_id)
    with Netlink(host_netns) as host:
        for item in networks:
            req = _as_request(item)
            host.delete_link(veth_name(project, replica_id, req.network.name))
            release(DiskStore(root / req.network.key), owner, None)


def check(
    project: str,
    replica_id: str,
    networks: Sequence[AttachRequest | NetworkConfig],
    netns_path: str | os.PathLike[str],
    *,
    host_netns: NetnsRef = None,
    ipam_root: Path | None = None,
    dns_redirect: bool = True,
) -> None:
    """Verify what attach promised; raises CheckFailed listing every difference."""
    plans = _plans(project, replica_id, networks, ipam_root or default_ipam_root())
    owner = owner_id(project, replica_id)
    with Netlink(host_netns) as host, Netlink(netns_path) as inner:
        problems = [msg for p in plans for msg in _check_one(p, owner, host, inner)]
        problems += _check_route(inner, plans)
    if dns_redirect and plans and resolver.target(netns_path) != plans[0].gateway:
        problems.append(f"{resolver.ADDRESS}:53 is not redirected to {plans[0].gateway}")
    if problems:
        raise CheckFailed(f"replica {replica_id}: " + "; ".join(problems))


def _check_one(plan: _Plan, owner: str, host: Netlink, inner: Netlink) -> list[str]:
    ip = plan.store.get_by_owner(owner, plan.ifname)
    if ip is None:
        return [f"{plan.ifname}: no IPAM entry in {plan.req.network.key}"]
    index = host.link_index(plan.host_ifname)
    if index is None:
        return [f"host veth {plan.host_ifname} missing"]
    problems = []
    if rtnl.link_master(host, index) != host.link_index(plan.bridge):
        problems.append(f"{plan.host_ifname} is not enslaved to {plan.bridge}")
    inner_index = inner.link_index(plan.ifname)
    if inner_index is None:
        return [*problems, f"{plan.ifname} missing in the replica netns"]
    if (str(ip), plan.subnet.prefixlen) not in rtnl.ipv4_addresses(inner, inner_index):
        problems.append(f"{plan.ifname} lacks {ip}/{plan.subnet.prefixlen}")
    if not rtnl.link_is_up(inner, inner_index):
        problems.append(f"{plan.ifname} is not up")
    if plan.range6 is not None:
        ip6 = plan.store.get_by_owner(owner, plan.ifname, 6)
        want6 = (str(ip6), plan.range6.subnet.prefixlen)
        if ip6 is None or want6 not in rtnl.addresses(inner, inner_index, 6):
            problems.append(f"{plan.ifname} lacks its IPv6 address {ip6}")
    return problems


def _check_route(inner: Netlink, plans: list[_Plan]) -> list[str]:
    routable = [p for p in plans if not p.req.network.internal]
    gateway = rtnl.default_gateway(inner)
    if routable and gateway != routable[0].gateway:
        return [f"default route is {gateway}, expected via {routable[0].gateway}"]
    if not routable and gateway is not None:
        return [f"internal-only replica has a default route via {gateway}"]
    routable6 = [p.range6 for p in routable if p.range6 is not None]
    gateway6 = rtnl.default_gateway(inner, 6) if routable6 else None
    if routable6 and gateway6 != str(routable6[0].gateway):
        return [f"IPv6 default route is {gateway6}, expected via {routable6[0].gateway}"]
    return []
