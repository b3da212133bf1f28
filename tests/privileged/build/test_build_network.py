"""RUN's network as BuildKit's: ``default`` is a netns of its own on the build bridge (the
host's 127.0.0.1 is out of reach, the bridge's gateway is not), ``none`` has only loopback,
``host`` is the host's; nothing of the build network outlives a build, failing or not."""

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
from tests.privileged.build.netcheck import assert_no_build_network, build_bridge

# (busybox 1.35's wget crashes with -T: every address probed answers or refuses at once)
PROBE = "(wget -q -O - http://{addr}/ >/dev/null && echo reached || echo unreachable)"


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def serve() -> Iterator[object]:
    """``serve(host) -> "host:port"``: an HTTP server on ``host`` for the test's duration."""
    servers: list[http.server.HTTPServer] = []

    def start(host: str) -> str:
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


def test_resolv_conf_has_the_hosts_reachable_nameservers(build):
    from compose.runtime.etcfiles import resolv_conf

    built = build("FROM BUSYBOX\nRUN cat /etc/resolv.conf > /resolv\n")
    expected = resolv_conf(Path("/etc/resolv.conf").read_text())
    if "nameserver" in expected:
        assert built.read("/resolv") == expected
    assert "nameserver 127." not in built.read("/resolv")
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
    killed._users.close()  # its flock goes with the process; the objects stay
    killed._users = None
    assert stale.exists() and Path("/sys/class/net", build_bridge()).exists()
    build("FROM BUSYBOX\nRUN true\n")
    assert_no_build_network()
    assert os.path.exists(paths.ipam_dir())
