"""Attach/detach/check on bridges inside a test-made "host" netns (acceptance of issue 5)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from netplug_env import Env, Responder, env_fixture, fetch, ip_files, reachable  # noqa: F401

import netplug

pytestmark = pytest.mark.privileged


def test_netplug_same_network_talks_other_network_cannot(env: Env) -> None:
    front, _ = env.network("front")
    back, _ = env.network("back")
    ns1, (a1,) = env.attach("web-1", front)
    ns2, (a2,) = env.attach("web-2", front)
    ns3, (_a3,) = env.attach("db-1", back)
    assert a1.ifname == "eth0" and a1.ip != a2.ip
    env.closers.append(Responder(ns1, 7000, b"web-1"))
    assert fetch(ns2, a1.ip, 7000) == b"web-1"
    assert not reachable(ns3, a1.ip, 7000)  # routed via the gateways, dropped by isolation rule


def test_netplug_replica_on_two_networks_reaches_both(env: Env) -> None:
    front, _ = env.network("front")
    back, _ = env.network("back", driver_opts={"com.docker.network.driver.mtu": "1400"})
    ns1, (a1,) = env.attach("web-1", front)
    ns3, (a3,) = env.attach("db-1", back)
    ns4, (f4, b4) = env.attach("api-1", front, back)
    assert (f4.ifname, b4.ifname) == ("eth0", "eth1")
    assert "mtu 1400" in env.sh(ns4, "ip", "link", "show", "eth1").stdout
    env.closers += [Responder(ns1, 7000, b"front"), Responder(ns3, 7000, b"back")]
    assert fetch(ns4, a1.ip, 7000) == b"front"
    assert fetch(ns4, a3.ip, 7000) == b"back"
    assert f"default via {f4.gateway} dev eth0" in env.sh(ns4, "ip", "route").stdout


def test_netplug_internal_network_has_no_route_out(env: Env) -> None:
    inner, inner_info = env.network("inner", internal=True)
    _outer, outer_info = env.network("outer")
    ns1, (a1,) = env.attach("db-1", inner)
    ns2, (_a2,) = env.attach("db-2", inner)
    env.closers.append(Responder(ns1, 7000, b"db"))
    assert fetch(ns2, a1.ip, 7000) == b"db"
    assert "default" not in env.sh(ns2, "ip", "route").stdout
    with pytest.raises(OSError):  # ENETUNREACH: no default route
        fetch(ns2, outer_info.gateway, 7000, timeout=0.5)
    rules = env.sh(env.host, "nft", "list", "table", "ip", _bridge(env, "inner")).stdout
    assert 'oifname != "' in rules and "ct status dnat masquerade" in rules
    assert f"saddr {inner_info.subnet} oifname" not in rules  # no egress masquerade


def _bridge(env: Env, name: str) -> str:
    from netplug.naming import bridge_name

    return bridge_name(env.project, name)


def test_netplug_attach_check_detach_twice(env: Env) -> None:
    net, info = env.network("default")
    static = info.gateway.rsplit(".", 1)[0] + ".77"
    ns, (att,) = env.attach("web-1", netplug.AttachRequest(net, ipv4_address=static))
    assert att.ip == static and att.mac == "02:42:" + ":".join(
        f"{int(b):02x}" for b in static.split(".")
    )
    netplug.check(env.project, "web-1", [net], ns, host_netns=env.host, ipam_root=env.ipam)
    netplug.detach(env.project, "web-1", [net], ns, host_netns=env.host, ipam_root=env.ipam)
    netplug.detach(env.project, "web-1", [net], ns, host_netns=env.host, ipam_root=env.ipam)
    assert ip_files(env) == []
    with pytest.raises(netplug.CheckFailed):
        netplug.check(env.project, "web-1", [net], ns, host_netns=env.host, ipam_root=env.ipam)


def test_netplug_ensure_network_verifies_existing_objects(env: Env) -> None:
    net, info = env.network("default")
    assert netplug.ensure_network(net, host_netns=env.host, ipam_root=env.ipam) == info
    env.sh(env.host, "ip", "addr", "flush", "dev", info.bridge)
    env.sh(env.host, "ip", "addr", "add", "10.99.0.1/24", "dev", info.bridge)
    with pytest.raises(netplug.KernelError, match=r"has address 10\.99\.0\.1/24"):
        netplug.ensure_network(net, host_netns=env.host, ipam_root=env.ipam)
    netplug.remove_network(net, host_netns=env.host, ipam_root=env.ipam)
    env.sh(env.host, "ip", "link", "add", info.bridge, "type", "veth", "peer", "name", "pcx-peer")
    with pytest.raises(netplug.KernelError, match="not a bridge"):
        netplug.ensure_network(net, host_netns=env.host, ipam_root=env.ipam)
    netplug.remove_network(net, host_netns=env.host, ipam_root=env.ipam)  # deletes the impostor
    netplug.remove_network(net, host_netns=env.host, ipam_root=env.ipam)  # absence is fine


def test_netplug_attach_rolls_back_on_failure(env: Env) -> None:
    good, _ = env.network("good")
    bad = netplug.NetworkConfig(env.project, "missing")
    ns = env.replica("web-1")
    with pytest.raises(netplug.NetworkConfigError):
        netplug.attach(
            env.project, "web-1", [good, bad], ns, host_netns=env.host, ipam_root=env.ipam
        )
    clash, info = env.network("clash")
    static = info.gateway.rsplit(".", 1)[0] + ".50"
    netplug.attach(
        env.project,
        "db-1",
        [netplug.AttachRequest(clash, static)],
        env.replica("db-1"),
        host_netns=env.host,
        ipam_root=env.ipam,
    )
    env.attached.append(("db-1", [clash]))
    with pytest.raises(netplug.NetworkConfigError, match="in use"):
        netplug.attach(
            env.project,
            "web-1",
            [good, netplug.AttachRequest(clash, static)],
            ns,
            host_netns=env.host,
            ipam_root=env.ipam,
        )
    assert "eth0" not in env.sh(ns, "ip", "link").stdout
    assert [p.name for p in ip_files(env)] == [static]


CHILD = textwrap.dedent("""
    import sys
    from pathlib import Path
    import netplug
    import netplug.bridge, netplug.plugin, pyroute2  # imports done before the kill window
    host, ipam, ns, project, with_ensure = sys.argv[1:6]
    net = netplug.NetworkConfig(project, "default")
    back = netplug.NetworkConfig(project, "back")
    print("ready", flush=True)
    sys.stdin.readline()
    for cfg in (net, back) if with_ensure == "1" else ():
        netplug.ensure_network(cfg, host_netns=host, ipam_root=Path(ipam))
    netplug.attach(project, "web-1", [net, back], ns, host_netns=host, ipam_root=Path(ipam))
""")


def _kill_mid_attach(env: Env, ns: Path, delay: float, with_ensure: bool) -> None:
    argv = [str(env.host), str(env.ipam), str(ns), env.project, "1" if with_ensure else "0"]
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, *argv],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stdin is not None
    child.stdout.readline()
    child.stdin.write("go\n")
    child.stdin.flush()
    time.sleep(delay)
    child.send_signal(signal.SIGKILL)
    child.wait()


def _repair_by_attach(env: Env, ns: Path, nets: list[netplug.NetworkConfig]) -> None:
    kw = {"host_netns": env.host, "ipam_root": env.ipam}
    for cfg in nets:
        netplug.ensure_network(cfg, **kw)
    done = netplug.attach(env.project, "web-1", nets, ns, **kw)
    netplug.check(env.project, "web-1", nets, ns, **kw)
    assert len(ip_files(env)) == 2 and [a.ifname for a in done] == ["eth0", "eth1"]
    netplug.detach(env.project, "web-1", nets, ns, **kw)


def _repair_by_remove(env: Env, ns: Path, nets: list[netplug.NetworkConfig]) -> None:
    kw = {"host_netns": env.host, "ipam_root": env.ipam}
    netplug.detach(env.project, "web-1", nets, ns, **kw)
    for cfg in nets:
        netplug.remove_network(cfg, **kw)
    assert ip_files(env) == []
    assert "pcb-" not in env.sh(env.host, "ip", "link").stdout
    assert "table" not in env.sh(env.host, "nft", "list", "ruleset").stdout
    assert "eth" not in env.sh(ns, "ip", "link").stdout


def test_netplug_kill_mid_attach_then_repair(env: Env) -> None:
    """SIGKILL a child at a random point of ensure+attach; then either attach again (must work
    and pass check) or detach+remove (must leave nothing)."""
    nets = [
        netplug.NetworkConfig(env.project, "default"),
        netplug.NetworkConfig(env.project, "back"),
    ]
    env.networks += nets
    ns = env.replica("web-1")
    env.attached.append(("web-1", list(nets)))
    rng = random.Random(os.getpid())
    kw = {"host_netns": env.host, "ipam_root": env.ipam}
    for round_ in range(12):
        with_ensure = round_ % 3 == 0  # ensure takes ~20 ms (nft), attach ~3 ms
        if not with_ensure:
            for cfg in nets:
                netplug.ensure_network(cfg, **kw)
        _kill_mid_attach(env, ns, rng.uniform(0, 0.05 if with_ensure else 0.006), with_ensure)
        repair = _repair_by_attach if round_ % 2 == 0 else _repair_by_remove
        repair(env, ns, nets)


def test_netplug_replica_netns_files(env: Env) -> None:
    run_dir = env.root / "run"
    path = netplug.create_replica_netns(f"r{env.salt}", run_dir=run_dir)
    assert netplug.create_replica_netns(f"r{env.salt}", run_dir=run_dir) == path
    assert "lo" in env.sh(path, "ip", "-br", "link").stdout
    netplug.remove_replica_netns(f"r{env.salt}", run_dir=run_dir)
    netplug.remove_replica_netns(f"r{env.salt}", run_dir=run_dir)
    assert not path.exists()


def test_netplug_parallel_attach_from_threads(env: Env) -> None:
    """The supervisor attaches from worker threads: per-thread setns and the IPAM flock must
    hold under concurrency (unique IPs, every replica checks out, nothing leaks)."""
    from concurrent.futures import ThreadPoolExecutor

    net, _ = env.network("default")
    ids = [f"web-{i}" for i in range(16)]
    paths = {rid: env.replica(rid) for rid in ids}
    env.attached += [(rid, [net]) for rid in ids]
    kw = {"host_netns": env.host, "ipam_root": env.ipam}

    def one(rid: str) -> str:
        (att,) = netplug.attach(env.project, rid, [net], paths[rid], **kw)
        netplug.check(env.project, rid, [net], paths[rid], **kw)
        return att.ip

    with ThreadPoolExecutor(8) as pool:
        ips = list(pool.map(one, ids))
        assert len(set(ips)) == len(ids)
        list(pool.map(lambda rid: netplug.detach(env.project, rid, [net], **kw), ids))
    assert ip_files(env) == []
