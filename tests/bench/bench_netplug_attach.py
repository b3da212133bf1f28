"""Benchmark: per-replica network attach (netns + veth + address + routes + up) with netplug (also
without its 127.0.0.11 redirect, and on an IPv6 network) vs the same with `ip` commands, and
connection throughput through a published port (nft DNAT path, userland proxy path) vs direct
to the container IP. Everything runs inside test-made netns.

Run: python tests/bench/bench_netplug_attach.py   or
     python -m pytest tests/bench/bench_netplug_attach.py -s -p no:cacheprovider
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import socketserver
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import netplug
from netplug import netns
from netplug.netns import call_in, entered
from tests.netns_iproute import iproute

N_ATTACH = 10
ROUNDS = 4
N_CONN = 400
BULK = 64 * 1024 * 1024


def _ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    return (
        f"median {statistics.median(ordered) * 1000:6.2f} ms  min {ordered[0] * 1000:6.2f} ms"
        f"  p90 {ordered[int(len(ordered) * 0.9)] * 1000:6.2f} ms"
    )


def bench_attach_netplug(
    root: Path, host: Path, cfg: netplug.NetworkConfig, dns_redirect: bool = True
) -> list[float]:
    samples = []
    for i in range(N_ATTACH):
        start = time.perf_counter()
        path = netns.create_netns(root / f"np{i}")
        netplug.attach(
            cfg.project,
            f"web-{i}",
            [cfg],
            path,
            host_netns=host,
            ipam_root=root / "ipam",
            dns_redirect=dns_redirect,
        )
        samples.append(time.perf_counter() - start)
    for i in range(N_ATTACH):
        netplug.detach(cfg.project, f"web-{i}", [cfg], host_netns=host, ipam_root=root / "ipam")
        netns.remove_netns(root / f"np{i}")
    return samples


def bench_attach_ip(host: Path, info: netplug.NetworkInfo, salt: str) -> list[float]:
    """The same steps with iproute2, one command per step (what a shell script would do)."""
    samples = []
    names = [f"npb{salt}{i}" for i in range(N_ATTACH)]
    prefix = info.subnet.split("/")[1]
    with entered(host):  # commands forked from this thread run in the test host netns
        for i, name in enumerate(names):
            ip = info.gateway.rsplit(".", 1)[0] + f".{100 + i}"
            veth = f"pcq{salt}{i}"
            cmds = [
                ["ip", "netns", "add", name],
                ["ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", name],
                ["ip", "link", "set", veth, "master", info.bridge, "up"],
                ["ip", "-n", name, "addr", "add", f"{ip}/{prefix}", "dev", "eth0"],
                ["ip", "-n", name, "link", "set", "eth0", "up"],
                ["ip", "-n", name, "link", "set", "lo", "up"],
                ["ip", "-n", name, "route", "add", "default", "via", info.gateway],
            ]
            start = time.perf_counter()
            for cmd in cmds:
                subprocess.run(cmd, check=True, capture_output=True)
            samples.append(time.perf_counter() - start)
        for i, name in enumerate(names):
            subprocess.run(["ip", "link", "del", f"pcq{salt}{i}"], capture_output=True)
            subprocess.run(["ip", "netns", "del", name], capture_output=True)
    return samples


def bench_attach_pyroute2_netns(host: Path, info: netplug.NetworkInfo, salt: str) -> list[float]:
    """pyroute2's documented way: IPRoute(netns=...) (helper process per socket)."""
    from pyroute2 import IPRoute, netns as pnetns

    samples = []
    prefix = int(info.subnet.split("/")[1])
    with iproute(host) as hipr:
        master = hipr.link_lookup(ifname=info.bridge)[0]
        for i in range(N_ATTACH):
            name, veth = f"npr{salt}{i}", f"pcr{salt}{i}"
            ip = info.gateway.rsplit(".", 1)[0] + f".{200 + i}"
            start = time.perf_counter()
            pnetns.create(name)
            hipr.link("add", ifname=veth, kind="veth", peer={"ifname": "eth0", "net_ns_fd": name})
            hipr.link("set", index=hipr.link_lookup(ifname=veth)[0], master=master, state="up")
            with IPRoute(netns=name) as nipr:
                idx = nipr.link_lookup(ifname="eth0")[0]
                nipr.addr("add", index=idx, address=ip, prefixlen=prefix)
                nipr.link("set", index=idx, state="up")
                nipr.link("set", index=1, state="up")
                nipr.route("add", dst="default", gateway=info.gateway)
            samples.append(time.perf_counter() - start)
            hipr.link("del", ifname=veth)
            pnetns.remove(name)
    return samples


def serve(ns: Path, port: int, sink: bool) -> None:
    """A daemon thread answering each connection with one byte, after draining it if ``sink``."""
    listener = socketserver.TCPServer(
        ("0.0.0.0", port), _Sink if sink else _Byte, bind_and_activate=False
    )
    listener.socket = call_in(ns, lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM))
    listener.allow_reuse_address = True
    listener.request_queue_size = 512
    listener.server_bind()
    listener.server_activate()
    threading.Thread(target=listener.serve_forever, daemon=True).start()


class _Byte(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.request.sendall(b"x")


class _Sink(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while self.request.recv(1 << 20):
            pass
        self.request.sendall(b"k")


def conn_rate(ns: Path, ip: str, port: int) -> float:
    start = time.perf_counter()
    for _ in range(N_CONN):
        sock = call_in(ns, socket.socket)
        with sock:
            sock.connect((ip, port))
            sock.recv(1)
    return N_CONN / (time.perf_counter() - start)


def bulk_rate(ns: Path, ip: str, port: int) -> float:
    chunk = b"\0" * (1 << 20)
    sock = call_in(ns, socket.socket)
    start = time.perf_counter()
    with sock:
        sock.connect((ip, port))
        for _ in range(BULK // len(chunk)):
            sock.sendall(chunk)
        sock.shutdown(socket.SHUT_WR)
        sock.recv(1)
    return BULK / (time.perf_counter() - start) / 1e6


def bench_ports(root: Path, host: Path, cfg: netplug.NetworkConfig) -> dict[str, tuple]:
    import anyio.from_thread

    ns = netns.create_netns(root / "srv")
    (att,) = netplug.attach(
        cfg.project, "srv-1", [cfg], ns, host_netns=host, ipam_root=root / "ipam"
    )
    serve(ns, 80, sink=False)
    serve(ns, 81, sink=True)
    outside = _outside(root, host)
    netplug.publish_ports(
        cfg,
        "srv",
        [netplug.PortBinding(8080, att.ip, 80), netplug.PortBinding(8081, att.ip, 81)],
        host_netns=host,
    )
    results: dict[str, tuple] = {}
    measure: dict[str, Callable[[], tuple]] = {
        "direct (host -> container IP)": lambda: (
            conn_rate(host, att.ip, 80),
            bulk_rate(host, att.ip, 81),
        ),
        "nft DNAT (outside netns -> host addr)": lambda: (
            conn_rate(outside, "192.0.2.1", 8080),
            bulk_rate(outside, "192.0.2.1", 8081),
        ),
        "nft DNAT (host -> own addr, output hook)": lambda: (
            conn_rate(host, "192.0.2.1", 8080),
            bulk_rate(host, "192.0.2.1", 8081),
        ),
    }
    for label, fn in measure.items():
        results[label] = fn()
    with anyio.from_thread.start_blocking_portal() as portal:
        proxy = portal.wrap_async_context_manager(netplug.PortProxy(host_netns=host))
        with proxy as p:
            portal.call(p.publish, "c", "127.0.0.1", 9080, "tcp", [(att.ip, 80)])
            portal.call(p.publish, "b", "127.0.0.1", 9081, "tcp", [(att.ip, 81)])
            results["userland proxy (host -> 127.0.0.1)"] = (
                conn_rate(host, "127.0.0.1", 9080),
                bulk_rate(host, "127.0.0.1", 9081),
            )
    netplug.detach(cfg.project, "srv-1", [cfg], host_netns=host, ipam_root=root / "ipam")
    netns.remove_netns(ns)
    netns.remove_netns(outside)
    return results


def _outside(root: Path, host: Path) -> Path:
    outside = netns.create_netns(root / "outside")
    fd = os.open(outside, os.O_RDONLY)
    with iproute(host) as ipr:
        ipr.link("add", ifname="pcx-bench", kind="veth", peer={"ifname": "eth0", "net_ns_fd": fd})
        idx = ipr.link_lookup(ifname="pcx-bench")[0]
        ipr.addr("add", index=idx, address="192.0.2.1", prefixlen=24)
        ipr.link("set", index=idx, state="up")
    os.close(fd)
    with iproute(outside) as ipr:
        idx = ipr.link_lookup(ifname="eth0")[0]
        ipr.addr("add", index=idx, address="192.0.2.2", prefixlen=24)
        ipr.link("set", index=idx, state="up")
    return outside


def main() -> None:
    salt = secrets.token_hex(2)
    root = Path(tempfile.mkdtemp(prefix=f"npbench-{salt}-"))
    host = netns.create_netns(root / "host")
    cfg = netplug.NetworkConfig(f"bench{salt}", "default")
    try:
        start = time.perf_counter()
        info = netplug.ensure_network(cfg, host_netns=host, ipam_root=root / "ipam")
        first = time.perf_counter() - start
        again = []
        for _ in range(10):
            start = time.perf_counter()
            netplug.ensure_network(cfg, host_netns=host, ipam_root=root / "ipam")
            again.append(time.perf_counter() - start)
        print(f"\nensure_network: create {first * 1000:.1f} ms, verify again {_ms(again)}")
        cfg6 = netplug.NetworkConfig(cfg.project, "v6", enable_ipv6=True)
        netplug.ensure_network(cfg6, host_netns=host, ipam_root=root / "ipam")
        ours, bare, dual, theirs, pyr = [], [], [], [], []
        for rnd in range(ROUNDS):  # interleaved, so machine load hits all alike
            ours += bench_attach_netplug(root, host, cfg)
            bare += bench_attach_netplug(root, host, cfg, dns_redirect=False)
            dual += bench_attach_netplug(root, host, cfg6)
            theirs += bench_attach_ip(host, info, f"{salt}{rnd}")
            pyr += bench_attach_pyroute2_netns(host, info, f"{salt}{rnd}")
        print(f"\nattach per replica, {len(ours)} replicas (netns + veth + addr + lo + route + up)")
        print(f"  netplug (raw rtnetlink, setns per thread): {_ms(ours)}")
        print(f"    without the 127.0.0.11 redirect:         {_ms(bare)}")
        print(f"    on an IPv6 network (+ address, route):   {_ms(dual)}")
        print(f"  ip commands (7 invocations):               {_ms(theirs)}")
        print(f"  pyroute2 IPRoute(netns=...) helper mode:   {_ms(pyr)}")
        print(
            f"  ratio ip/netplug: {statistics.median(theirs) / statistics.median(ours):.1f}x, "
            f"pyroute2-netns/netplug: {statistics.median(pyr) / statistics.median(ours):.1f}x"
        )
        print(f"\npublished port, {N_CONN} sequential connections and {BULK >> 20} MiB bulk")
        for label, (rate, mbps) in bench_ports(root, host, cfg).items():
            print(f"  {label:42s} {rate:8.0f} conn/s  {mbps:8.0f} MB/s")
    finally:
        for net in (cfg, netplug.NetworkConfig(cfg.project, "v6")):
            netplug.remove_network(net, host_netns=host, ipam_root=root / "ipam")
        netns.remove_netns(host)
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.privileged
def test_bench_netplug_attach() -> None:
    main()


if __name__ == "__main__":
    main()
