"""Docker's resolver address inside a replica netns: 127.0.0.11:53 (UDP and TCP) reaches the
embedded DNS on the gateway, answers cover every network of the asker, its own ``dns:``
servers get its other names, and route_localnet opens no door to the replica's loopback."""

from __future__ import annotations

import socket

import anyio
import pytest
from dnslib import RCODE, DNSRecord
from netplug_env import Env, Responder, env_fixture, reachable  # noqa: F401
from test_netplug_services import resolve, resolve_tcp

import netplug
from netplug import resolver
from netplug.netns import call_in
from netplug.records import Client
from tests.fakedns import FakeUpstream

pytestmark = pytest.mark.privileged


def test_replicas_resolve_through_127_0_0_11(env: Env) -> None:
    front, front_info = env.network("front")
    back, back_info = env.network("back")
    client, (c_front, c_back) = env.attach("client-1", front, back)
    _, (web,) = env.attach("web-1", front)
    _, (db,) = env.attach("db-1", back)
    upstream = FakeUpstream()
    env.closers.append(upstream)
    mine = Client((front.key, back.key), (("127.0.0.1", upstream.port),))

    async def ask(name: str) -> tuple[int, list[str]]:
        return await anyio.to_thread.run_sync(resolve, client, resolver.ADDRESS, name)

    async def main() -> None:
        async with netplug.DnsServer(upstreams=[], host_netns=env.host) as dns:
            await dns.listen(front.key, front_info.gateway)
            await dns.listen(back.key, back_info.gateway)
            dns.update(front.key, {"web": [web.ip]}, clients={c_front.ip: mine})
            dns.update(back.key, {"db": [db.ip]}, clients={c_back.ip: mine})
            assert await ask("web") == (RCODE.NOERROR, [web.ip])
            assert await ask("db") == (RCODE.NOERROR, [db.ip])  # its second network
            assert await ask("example.test") == (RCODE.NOERROR, ["192.0.2.99"])  # its dns:
            tcp = await anyio.to_thread.run_sync(resolve_tcp, client, resolver.ADDRESS, "web", "db")
            assert tcp == sorted([web.ip, db.ip])

    anyio.run(main)
    netplug.check(env.project, "client-1", [front, back], client, host_netns=env.host,
                  ipam_root=env.ipam)  # fmt: skip


def test_a_replica_may_serve_dns_on_port_53_itself(env: Env) -> None:
    """Only 127.0.0.11 is redirected: a DNS server in a container binds 0.0.0.0:53."""
    net, _ = env.network("default")
    ns, _ = env.attach("dns-1", net)
    udp = call_in(ns, lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
    udp.bind(("0.0.0.0", 53))
    udp.close()
    env.closers.append(Responder(ns, 53, b"own"))


def test_route_localnet_does_not_expose_the_replica_loopback(env: Env) -> None:
    """A neighbour (with NET_ADMIN in its own netns) that routes a 127/8 address at the
    replica reaches nothing (the replica's guard chain); without that guard it would reach a
    service bound to loopback only."""
    net, _ = env.network("default")
    victim, (v,) = env.attach("victim-1", net)
    peer, _ = env.attach("peer-1", net)
    env.closers.append(Responder(victim, 7777, b"secret", ip="127.0.0.5"))
    routed = env.sh(peer, "ip", "route", "add", "127.0.0.5/32", "via", v.ip, "table", "local")
    assert routed.returncode == 0, routed.stderr
    env.sh(peer, "nft", "delete", "chain", "ip", resolver.TABLE, "guard")  # NET_ADMIN inside
    assert not reachable(peer, "127.0.0.5", 7777)
    env.sh(victim, "nft", "delete", "chain", "ip", resolver.TABLE, "guard")
    assert reachable(peer, "127.0.0.5", 7777)  # the test would see an exposure


def test_check_reports_a_missing_redirect(env: Env) -> None:
    net, _ = env.network("default")
    ns, _ = env.attach("web-1", net)
    env.sh(ns, "nft", "delete", "table", "ip", resolver.TABLE)
    with pytest.raises(netplug.CheckFailed, match=r"127\.0\.0\.11:53 is not redirected"):
        netplug.check(env.project, "web-1", [net], ns, host_netns=env.host, ipam_root=env.ipam)


def test_forwarded_answers_arriving_together_all_go_out(env: Env) -> None:
    """glibc and busybox send A and AAAA at once: two forwarded answers come back together
    and are sent on one socket (a second concurrent send used to end the whole server)."""
    net, info = env.network("default")
    client, _ = env.attach("client-1", net)
    upstream = FakeUpstream()
    env.closers.append(upstream)

    def burst() -> list[int]:
        sock = call_in(client, lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
        with sock:
            sock.settimeout(3)
            sock.connect((resolver.ADDRESS, 53))
            for qtype in ("A", "AAAA") * 10:
                sock.send(DNSRecord.question("example.test", qtype).pack())
            return [DNSRecord.parse(sock.recv(4096)).header.rcode for _ in range(20)]

    async def main() -> None:
        async with netplug.DnsServer(
            upstreams=[("127.0.0.1", upstream.port)], host_netns=env.host
        ) as dns:
            await dns.listen(net.key, info.gateway)
            dns.update(net.key, {})
            for _ in range(5):
                assert await anyio.to_thread.run_sync(burst) == [RCODE.NOERROR] * 20

    anyio.run(main)
