"""IPv6 on a network with enable_ipv6, inside a test-made "host" netns: a /64 from the pool on
the bridge and every replica (usable at once: no DAD wait), IPv6 default routes, replicas and
the gateway reachable over IPv6, ipv6_address, published ports by IPv6 DNAT (from outside and
from the host) and by the proxy on ::1 and ::, tables and addresses gone after removal."""

from __future__ import annotations

import ipaddress

import anyio
import pytest
from netplug_env import Env, Responder, env_fixture, fetch, ip_files  # noqa: F401
from test_netplug_services import outside_netns

import netplug
from netplug.ports import bindings_for

pytestmark = pytest.mark.privileged


def test_replicas_get_ipv6_addresses_routes_and_reach_each_other(env: Env) -> None:
    net, info = env.network("default", enable_ipv6=True)
    assert info.subnet6 is not None and info.gateway6 is not None
    subnet6 = ipaddress.IPv6Network(info.subnet6)
    assert subnet6.prefixlen == 64 and subnet6.subnet_of(ipaddress.IPv6Network("fd00::/8"))
    ns1, (a1,) = env.attach("web-1", net)
    fixed = netplug.AttachRequest(net, ipv6_address=str(subnet6.network_address + 0x42))
    ns2, (a2,) = env.attach("web-2", fixed)
    assert a1.ip6 is not None and ipaddress.IPv6Address(a1.ip6) in subnet6
    assert a2.ip6 == str(subnet6.network_address + 0x42) and a2.prefixlen6 == 64
    assert a1.gateway6 == info.gateway6 and a1.ip  # and its IPv4 address as ever
    route = env.sh(ns1, "ip", "-6", "route", "show", "default").stdout
    assert f"via {info.gateway6}" in route
    own = env.sh(ns1, "ip", "-6", "addr", "show", "dev", "eth0", "scope", "global").stdout
    assert a1.ip6 in own and "tentative" not in own
    env.closers.append(Responder(ns2, 80, b"web-2 over v6", ip="::"))
    assert fetch(ns1, a2.ip6, 80) == b"web-2 over v6"  # replica to replica
    assert fetch(env.host, a2.ip6, 80) == b"web-2 over v6"  # the host, through the bridge
    netplug.check(env.project, "web-2", [fixed], ns2, host_netns=env.host, ipam_root=env.ipam)
    with pytest.raises(netplug.NetworkConfigError, match="already in use"):
        env.attach("web-3", netplug.AttachRequest(net, ipv6_address=a2.ip6))


def test_ipv6_address_on_a_network_without_ipv6_is_refused(env: Env) -> None:
    net, _ = env.network("default")
    with pytest.raises(netplug.NetworkConfigError, match="has no IPv6 subnet"):
        env.attach("web-1", netplug.AttachRequest(net, ipv6_address="fd00::5"))
    assert ip_files(env) == []  # the IPv4 address it got first went back


def test_published_ports_over_ipv6_dnat_and_proxy(env: Env) -> None:
    net, info = env.network("default", enable_ipv6=True)
    ns1, (a1,) = env.attach("web-1", net)
    ns2, (a2,) = env.attach("web-2", net)
    assert a1.ip6 and a2.ip6 and info.gateway6
    env.closers += [Responder(ns1, 80, b"web-1", ip="::"), Responder(ns2, 80, b"web-2", ip="::")]
    outside = outside_netns(env)
    bindings = bindings_for(8080, 80, [a1.ip, a2.ip]) + bindings_for(8080, 80, [a1.ip6, a2.ip6])
    netplug.publish_ports(net, "web", bindings, host_netns=env.host)
    from_outside = {fetch(outside, "2001:db8::1", 8080) for _ in range(30)}
    from_host = {fetch(env.host, info.gateway6, 8080) for _ in range(30)}  # output-hook DNAT
    assert from_outside == from_host == {b"web-1", b"web-2"}
    assert {fetch(outside, "192.0.2.1", 8080) for _ in range(30)} == {b"web-1", b"web-2"}

    async def main() -> list[bytes]:
        async with netplug.PortProxy(host_netns=env.host) as proxy:
            await proxy.publish("v6", "::1", 8080, "tcp", [(a1.ip6, 80)])
            await proxy.publish("v4", "::1", 8081, "tcp", [(a1.ip, 80)])  # IPv4-only backend
            return [
                await anyio.to_thread.run_sync(fetch, env.host, "::1", port)
                for port in (8080, 8081)
            ]

    assert anyio.run(main) == [b"web-1", b"web-1"]
    netplug.unpublish_ports(net, "web", host_netns=env.host)
    assert "-p-" not in env.sh(env.host, "nft", "list", "tables").stdout


def test_proxy_addresses_per_binding() -> None:
    from netplug.ports import proxy_addresses

    assert proxy_addresses("", ipv6_targets=False) == ["127.0.0.1", "::"]
    assert proxy_addresses("0.0.0.0", ipv6_targets=True) == ["127.0.0.1"]
    assert proxy_addresses("::", ipv6_targets=True) == ["::"]
    assert proxy_addresses("::1", ipv6_targets=False) == ["::1"]
    assert proxy_addresses("127.0.0.2", ipv6_targets=False) == ["127.0.0.2"]
    assert proxy_addresses("192.0.2.1", ipv6_targets=False) == []  # DNAT
    assert proxy_addresses("2001:db8::1", ipv6_targets=True) == []  # DNAT
    assert proxy_addresses("2001:db8::1", ipv6_targets=False) == ["2001:db8::1"]
