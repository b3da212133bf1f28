"""Embedded DNS and published ports (DNAT + loopback proxy) inside a test-made "host" netns."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

import anyio
import pytest
from dnslib import RCODE, DNSRecord
from netplug_env import Env, Responder, env_fixture, fetch, reachable  # noqa: F401

import netplug
from netplug.netns import call_in
from netplug.ports import bindings_for
from netplug.records import ReplicaNames, build_records
from tests.fakedns import FakeUpstream
from tests.netns_iproute import iproute

pytestmark = pytest.mark.privileged


def resolve(ns: Path, server: str, name: str) -> tuple[int, list[str]]:
    sock = call_in(ns, lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
    with sock:
        sock.settimeout(3)
        sock.sendto(DNSRecord.question(name).pack(), (server, 53))
        reply = DNSRecord.parse(sock.recv(4096))
    return reply.header.rcode, sorted(str(rr.rdata) for rr in reply.rr)


def resolve_tcp(ns: Path, server: str, *names: str) -> list[str]:
    """Every name's answers, asked one after the other on ONE connection (as glibc does)."""
    sock = call_in(ns, lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM))
    found = []
    with sock:
        sock.settimeout(3)
        sock.connect((server, 53))
        for name in names:
            query = DNSRecord.question(name).pack()
            sock.sendall(len(query).to_bytes(2, "big") + query)
            size = int.from_bytes(_exactly(sock, 2), "big")
            found += [str(rr.rdata) for rr in DNSRecord.parse(_exactly(sock, size)).rr]
    return sorted(found)


def _exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        assert chunk, "the server closed the connection"
        data += chunk
    return data


def test_netplug_dns_answers_every_replica_and_follows_removal(env: Env) -> None:
    net, info = env.network("default")
    other = netplug.NetworkConfig(f"{env.project}o", "default")
    env.networks.append(other)
    other_info = netplug.ensure_network(other, host_netns=env.host, ipam_root=env.ipam)
    _, (a1,) = env.attach("web-1", net)
    _, (a2,) = env.attach("web-2", net)
    client, _ = env.attach("client-1", net)
    upstream = FakeUpstream()
    env.closers.append(upstream)
    web = [
        ReplicaNames(a1.ip, "web", 1, f"{env.project}-web-1", ("www",)),
        ReplicaNames(a2.ip, "web", 2, f"{env.project}-web-2", ("www",)),
    ]

    async def ask(name: str) -> tuple[int, list[str]]:
        return await anyio.to_thread.run_sync(resolve, client, info.gateway, name)

    async def main() -> None:
        async with netplug.DnsServer(
            upstreams=[("127.0.0.1", upstream.port)], host_netns=env.host
        ) as dns:
            await dns.listen(net.key, info.gateway)
            await dns.listen(other.key, other_info.gateway)
            dns.update(net.key, build_records(web))
            dns.update(other.key, {"secret": ["10.66.0.2"]})
            assert await ask("web") == (RCODE.NOERROR, sorted([a1.ip, a2.ip]))
            assert await ask("www") == (RCODE.NOERROR, sorted([a1.ip, a2.ip]))
            assert await ask("web-2") == (RCODE.NOERROR, [a2.ip])
            assert await ask(f"{env.project}-web-1") == (RCODE.NOERROR, [a1.ip])
            dns.update(net.key, build_records(web[:1]))
            assert await ask("web") == (RCODE.NOERROR, [a1.ip])
            assert (await ask("web-2"))[0] == RCODE.NXDOMAIN  # gone: forwarded upstream
            assert await ask("example.test") == (RCODE.NOERROR, ["192.0.2.99"])
            tcp = await anyio.to_thread.run_sync(resolve_tcp, client, info.gateway, "www", "web")
            assert tcp == [a1.ip, a1.ip]
            assert (await ask("secret"))[0] == RCODE.NXDOMAIN  # another project's name

    anyio.run(main)


def outside_netns(env: Env) -> Path:
    """A netns wired to the host netns by a veth: host side 192.0.2.1/24 and 2001:db8::1/64,
    outside 192.0.2.2 and 2001:db8::2."""
    outside = env.replica("outside")
    fd = os.open(outside, os.O_RDONLY)
    with iproute(env.host) as ipr:
        ipr.link(
            "add", ifname=f"pcx-{env.salt}", kind="veth", peer={"ifname": "eth0", "net_ns_fd": fd}
        )
        os.close(fd)
    env.sh(env.host, "ip", "addr", "add", "192.0.2.1/24", "dev", f"pcx-{env.salt}")
    env.sh(env.host, "ip", "link", "set", f"pcx-{env.salt}", "up")
    env.sh(outside, "ip", "addr", "add", "192.0.2.2/24", "dev", "eth0")
    env.sh(env.host, "ip", "addr", "add", "2001:db8::1/64", "dev", f"pcx-{env.salt}", "nodad")
    env.sh(outside, "ip", "addr", "add", "2001:db8::2/64", "dev", "eth0", "nodad")
    env.sh(outside, "ip", "link", "set", "eth0", "up")
    return outside


def test_netplug_published_port_dnat_proxy_and_balance(env: Env) -> None:
    net, _ = env.network("default")
    ns1, (a1,) = env.attach("web-1", net)
    ns2, (a2,) = env.attach("web-2", net)
    env.closers += [Responder(ns1, 80, b"web-1"), Responder(ns2, 80, b"web-2")]
    outside = outside_netns(env)
    bindings = bindings_for(8080, 80, [a1.ip, a2.ip])
    netplug.check_ports_free(bindings, host_netns=env.host)
    netplug.publish_ports(net, "web", bindings, host_netns=env.host)
    from_outside = {fetch(outside, "192.0.2.1", 8080) for _ in range(40)}
    from_host = {fetch(env.host, "192.0.2.1", 8080) for _ in range(40)}
    assert from_outside == from_host == {b"web-1", b"web-2"}

    async def main() -> list[bytes]:
        async with netplug.PortProxy(host_netns=env.host) as proxy:
            await proxy.publish(
                "web:8080/tcp", "127.0.0.1", 8080, "tcp", [(a1.ip, 80), (a2.ip, 80)]
            )
            return [
                await anyio.to_thread.run_sync(fetch, env.host, "127.0.0.1", 8080) for _ in range(4)
            ]

    assert sorted(anyio.run(main)) == [b"web-1", b"web-1", b"web-2", b"web-2"]
    with pytest.raises(netplug.PortInUseError, match="already published"):
        netplug.publish_ports(
            net, "api", [netplug.PortBinding(8080, a1.ip, 80)], host_netns=env.host
        )
    netplug.unpublish_ports(net, "web", host_netns=env.host)
    assert "-p-" not in env.sh(env.host, "nft", "list", "tables").stdout
    assert fetch(env.host, a1.ip, 80) == b"web-1"


def test_netplug_published_range_and_port_in_use(env: Env) -> None:
    net, _ = env.network("default")
    ns1, (a1,) = env.attach("web-1", net)
    ns2, (a2,) = env.attach("web-2", net)
    env.closers += [Responder(ns1, 80, b"web-1"), Responder(ns2, 80, b"web-2")]
    bindings = bindings_for("9000-9001", 80, [a1.ip, a2.ip], host_ip="192.0.2.1")
    outside_netns(env)
    netplug.publish_ports(net, "web", bindings, host_netns=env.host)
    assert fetch(env.host, "192.0.2.1", 9000) == b"web-1"
    assert fetch(env.host, "192.0.2.1", 9001) == b"web-2"
    env.closers.append(Responder(env.host, 9999, b"busy", ip="127.0.0.1"))
    with pytest.raises(netplug.PortInUseError, match="already allocated"):
        netplug.check_ports_free(
            [netplug.PortBinding(9999, a1.ip, 80, host_ip="127.0.0.1")], host_netns=env.host
        )
    with pytest.raises(netplug.PortInUseError, match="already allocated") as taken:
        netplug.check_ports_free([netplug.PortBinding(9000, a1.ip, 80)], host_netns=env.host)
    assert taken.value.hint == "another pycompose project publishes it"
    netplug.check_ports_free(  # the network's own tables are no conflict for its owner
        [netplug.PortBinding(9000, a1.ip, 80)], host_netns=env.host, own_networks=[net]
    )


def test_netplug_udp_dnat_and_proxy(env: Env) -> None:
    net, _ = env.network("default")
    ns1, (a1,) = env.attach("dns-1", net)
    echo = call_in(ns1, lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
    echo.bind(("0.0.0.0", 5353))
    env.closers.append(echo)

    def serve() -> None:
        while True:
            try:
                data, client = echo.recvfrom(100)
            except OSError:
                return
            echo.sendto(b"echo:" + data, client)

    threading.Thread(target=serve, daemon=True).start()
    outside = outside_netns(env)
    netplug.publish_ports(
        net, "dns", [netplug.PortBinding(5300, a1.ip, 5353, "udp")], host_netns=env.host
    )

    def ask(ns: Path, ip: str, port: int) -> bytes:
        sock = call_in(ns, lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
        with sock:
            sock.settimeout(2)
            sock.sendto(b"hi", (ip, port))
            return sock.recv(100)

    assert ask(outside, "192.0.2.1", 5300) == b"echo:hi"  # kernel DNAT

    async def main() -> bytes:
        async with netplug.PortProxy(host_netns=env.host) as proxy:
            port = await proxy.publish("dns", "127.0.0.1", 0, "udp", [(a1.ip, 5353)])
            return await anyio.to_thread.run_sync(ask, env.host, "127.0.0.1", port)

    assert anyio.run(main) == b"echo:hi"  # userland proxy on loopback


def test_netplug_egress_is_masqueraded(env: Env) -> None:
    """A replica reaches an address outside the host (the test's "outside" netns, which has no
    route back to the bridge subnet) only because its source is masqueraded to the host's."""
    net, _ = env.network("default")
    ns1, _ = env.attach("web-1", net)
    outside = outside_netns(env)
    seen: list[str] = []
    server = call_in(outside, lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM))
    server.bind(("192.0.2.2", 7000))
    server.listen(4)
    env.closers.append(server)

    def accept_one() -> None:
        conn, peer = server.accept()
        seen.append(peer[0])
        conn.close()

    thread = threading.Thread(target=accept_one, daemon=True)
    thread.start()
    fetch(ns1, "192.0.2.2", 7000)
    thread.join(3)
    assert seen == ["192.0.2.1"]


def test_netplug_works_behind_a_docker_style_forward_drop_policy(env: Env) -> None:
    """A host with Docker has `table ip filter` chain FORWARD policy drop: egress and
    published ports still work because ensure_network opens the bridge there; without those
    rules egress dies; remove_network takes them out again."""
    env.sh(env.host, "nft", "add table ip filter")
    env.sh(
        env.host,
        "nft",
        "add chain ip filter FORWARD { type filter hook forward priority 0; policy drop; }",
    )
    net, info = env.network("default")
    ns1, (a1,) = env.attach("web-1", net)
    env.closers.append(Responder(ns1, 80, b"web-1"))
    outside = outside_netns(env)
    env.closers.append(Responder(outside, 7000, b"outside", ip="192.0.2.2"))
    assert fetch(ns1, "192.0.2.2", 7000) == b"outside"  # egress through the drop policy
    netplug.publish_ports(net, "web", bindings_for(8080, 80, [a1.ip]), host_netns=env.host)
    assert fetch(outside, "192.0.2.1", 8080) == b"web-1"  # a published port too

    netplug.nft.close_foreign_forward(env.host, info.bridge)
    assert not reachable(ns1, "192.0.2.2", 7000)  # the rules are what made it work
    netplug.nft.open_foreign_forward(env.host, info.bridge)
    netplug.nft.open_foreign_forward(env.host, info.bridge)  # idempotent
    assert fetch(ns1, "192.0.2.2", 7000) == b"outside"
    chain = env.sh(env.host, "nft", "list chain ip filter FORWARD").stdout
    assert chain.count(f'comment "netplug:{info.bridge}"') == 3

    netplug.unpublish_ports(net, "web", host_netns=env.host)
    netplug.remove_network(net, host_netns=env.host, ipam_root=env.ipam)
    env.networks.remove(net)
    assert info.bridge not in env.sh(env.host, "nft", "list chain ip filter FORWARD").stdout
    env.sh(env.host, "nft", "delete table ip filter")  # the test's own "Docker" table
