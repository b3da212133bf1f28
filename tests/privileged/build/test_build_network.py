"""RUN's network as BuildKit's: ``default`` is a netns of its own on the build bridge (the
host's 127.0.0.1 is out of reach, the bridge's gateway is not), ``none`` has only loopback,
``host`` is the host's; nothing of a RUN's network outlives the build, failing or not, and the
bridge is kept for the next build (as docker0) till ``builder prune`` removes it."""

from __future__ import annotations

import http.server
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from compose import paths
from compose.build.buildnet import BuildNetwork
from compose.errors import BuildError
from tests.privileged.build.netcheck import (
    assert_no_build_bridge,
    assert_no_build_network,
    build_bridge,
)

# (busybox 1.35's wget crashes with -T: every address probed answers or refuses at once)
PROBE = "(wget -q -O - http://{addr}/ >/dev/null && echo reached || echo unreachable)"


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def serve() -> Iterator[object]:
    """``serve(host, netns=None) -> "host:port"``: an HTTP server on ``host`` (in ``netns``)
    for the test's duration."""
    from netplug.netns import entered

    servers: list[http.server.HTTPServer] = []

    def start(host: str, netns: Path | None = None) -> str:
        with entered(netns):
            server = http.server.HTTPServer((host, 0), _Quiet)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"{host}:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_default_network_is_a_netns_on_the_build_bridge(build, serve):
    loopback = serve("127.0.0.1")
    # the test joins the build network first, so a server can listen on its gateway
    network = BuildNetwork()
    try:
        network._join()
        import netplug

        info = netplug.network_info(network.config, network.ipam_root)
        assert info is not None
        gateway = serve(info.gateway)
        built = build(
            "FROM BUSYBOX\n"
            f"RUN {PROBE.format(addr=loopback)} > /loopback; "
            f"{PROBE.format(addr=gateway)} > /gateway; "
            "cat /sys/class/net/eth0/iflink > /iflink; cat /proc/net/dev > /links; "
            "ip -4 -o addr show eth0 > /addr\n"
        )
    finally:
        network.close()
    assert built.read("/loopback") == "unreachable\n"  # the host's 127.0.0.1 is not the RUN's
    assert built.read("/gateway") == "reached\n"  # but the bridge leads to the host
    links = built.read("/links")
    assert " eth0:" in links and " lo:" in links
    subnet_prefix = info.subnet.split("/")[0].rsplit(".", 1)[0]
    assert f"inet {subnet_prefix}." in built.read("/addr")
    assert built.stat("/etc/resolv.conf") is None  # the mount stub stays out of the layer
    assert_no_build_network((int(built.read("/iflink")),))


@pytest.fixture
def outside() -> Iterator[tuple[Path, str]]:
    """(netns, address): a netns the test makes, routed from the host by a veth pair (an
    "outside" host for the RUN: its traffic goes there by the build network's way out)."""
    import secrets
    import subprocess

    import netplug

    tag = secrets.token_hex(3)
    octet = int(tag[:2], 16)
    name, host_if = f"bnt-{tag}", f"bnh-{tag}"
    netns = netplug.create_replica_netns(name)
    inside = ["nsenter", f"--net={netns}", "ip"]
    try:
        for cmd in (
            [*inside, "link", "add", "eth9", "type", "veth", "peer", "name", host_if],
            [*inside, "link", "set", host_if, "netns", str(os.getpid())],
            ["ip", "addr", "add", f"10.251.{octet}.1/30", "dev", host_if],
            ["ip", "link", "set", host_if, "up"],
            [*inside, "addr", "add", f"10.251.{octet}.2/30", "dev", "eth9"],
            [*inside, "link", "set", "eth9", "up"],
        ):
            subprocess.run(cmd, check=True, capture_output=True)
        yield netns, f"10.251.{octet}.2"
    finally:
        subprocess.run(["ip", "link", "del", host_if], capture_output=True)
        netplug.remove_replica_netns(name)


def test_default_network_gets_out_by_the_hosts_sockets(build, serve, outside):
    """The RUN reaches an address beyond the bridge (the relay connects from the host, so a
    host that drops forwarded packets still lets it out), and DNS answers come back."""
    netns, address = outside
    server = serve(address, netns)
    built = build(f"FROM BUSYBOX\nRUN {PROBE.format(addr=server)} > /outside\n")
    assert built.read("/outside") == "reached\n"
    assert_no_build_network()


def test_default_network_cannot_reach_another_networks_bridge(build, serve):
    """An address on another pycompose network's bridge stays out of reach (as with NAT)."""
    import secrets
    import subprocess

    bridge = f"pcb-t{secrets.token_hex(4)}"
    octet = int(bridge[-2:], 16)
    subprocess.run(["ip", "link", "add", bridge, "type", "bridge"], check=True)
    try:
        subprocess.run(["ip", "addr", "add", f"10.252.{octet}.1/24", "dev", bridge], check=True)
        subprocess.run(["ip", "link", "set", bridge, "up"], check=True)
        server = serve(f"10.252.{octet}.1")
        built = build(f"FROM BUSYBOX\nRUN {PROBE.format(addr=server)} > /other\n")
    finally:
        subprocess.run(["ip", "link", "del", bridge], capture_output=True)
    assert built.read("/other") == "unreachable\n"


def test_resolv_conf_names_the_gateway_whose_relay_asks_the_hosts_nameservers(build):
    built = build("FROM BUSYBOX\nRUN cat /etc/resolv.conf > /resolv; ip route > /route\n")
    gateway = built.read("/route").split()[2]
    assert f"nameserver {gateway}\n" in built.read("/resolv")
    assert_no_build_network()


def test_none_has_only_loopback(build, serve):
    loopback = serve("127.0.0.1")
    built = build(
        "FROM BUSYBOX\n"
        "RUN --network=none cat /proc/net/dev > /links; "
        f"{PROBE.format(addr=loopback)} > /loopback\n"
    )
    names = [line.split(":")[0].strip() for line in built.read("/links").splitlines()[2:]]
    assert names == ["lo"]
    assert built.read("/loopback") == "unreachable\n"
    assert_no_build_network()


def test_host_sees_the_hosts_loopback(build, serve):
    loopback = serve("127.0.0.1")
    built = build(f"FROM BUSYBOX\nRUN --network=host {PROBE.format(addr=loopback)} > /loopback\n")
    assert built.read("/loopback") == "reached\n"
    assert_no_build_network()


def test_build_network_host_applies_to_every_run(build, serve):
    loopback = serve("127.0.0.1")
    built = build(f"FROM BUSYBOX\nRUN {PROBE.format(addr=loopback)} > /loopback\n", network="host")
    assert built.read("/loopback") == "reached\n"


def test_extra_hosts_on_the_default_network(build):
    built = build(
        "FROM BUSYBOX\nRUN cat /etc/hosts > /hosts\n", extra_hosts=(("db.test", "10.1.2.3"),)
    )
    hosts = built.read("/hosts")
    assert "10.1.2.3\tdb.test" in hosts and "localhost" in hosts


def test_a_failing_run_leaves_no_network(build):
    with pytest.raises(BuildError, match="exit code 3"):
        build("FROM BUSYBOX\nRUN echo x > /x\nRUN exit 3\n")
    assert_no_build_network()


def test_a_build_that_starts_after_a_killed_one_removes_what_it_left(build):
    import netplug

    # what a SIGKILLed build leaves: the bridge, its IPAM record and a RUN's netns
    killed = BuildNetwork()
    killed._join()
    stale = netplug.create_replica_netns(f"{killed._netns_prefix()}deadbeef0000")
    killed._users.close()  # its flock and relay go with the process; the objects stay
    killed._relay.close()
    killed._users = None
    assert stale.exists() and Path("/sys/class/net", build_bridge()).exists()
    build("FROM BUSYBOX\nRUN true\n")
    assert not stale.exists()
    assert_no_build_network()
    assert os.path.exists(paths.ipam_dir())


def test_the_bridge_is_kept_between_builds_and_builder_prune_removes_it(build, store):
    from compose.build.prune import prune_build_cache

    build("FROM BUSYBOX\nRUN echo one > /one\n")
    bridge = Path("/sys/class/net", build_bridge())
    index = (bridge / "ifindex").read_text()
    build("FROM BUSYBOX\nRUN echo two > /two\n")  # the same bridge, verified, not made again
    assert (bridge / "ifindex").read_text() == index
    assert_no_build_network()
    using = BuildNetwork()
    using._join()  # a build running: prune keeps the bridge
    try:
        assert prune_build_cache(store, everything=True).bridge is None
        assert bridge.exists()
    finally:
        using.close()
    assert BuildNetwork().remove() is True
    assert_no_build_bridge()
