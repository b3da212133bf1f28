"""IPv6 as docker's: `enable_ipv6` networks (an explicit subnet with `ipv6_address`, and one
from daemon.json's `default-address-pools`), IPv6 between containers, AAAA answers at
127.0.0.11, docker's /etc/hosts line for the container's own IPv6 address, published ports on
[::1] (the proxy, also for an IPv4-only service, as docker-proxy answers there) and on the
gateway's IPv6 address (IPv6 DNAT), `ps` listing [::] as docker does.

daemon.json says "ip-forward": false, so the host's forwarding sysctls stay as they are: only
the host and the test's own bridges are talked to."""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
import socket
from pathlib import Path

import pytest
from e2e_helpers import Cli, http_text, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.privileged, pytest.mark.timeout(180)]

HTTPD = '["sh", "-c", "echo $$HOSTNAME > /tmp/index.html; exec httpd -f -p 80 -h /tmp"]'
STACK = """
services:
  web:
    image: {busybox}
    hostname: web-host
    command: {httpd}
    ports: ["{port}:80"]
    networks:
      front:
        ipv6_address: "{fixed}"
  client:
    image: {busybox}
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 1000 & wait"]
    networks: [front, pooled]
  legacy:
    image: {busybox}
    hostname: legacy-host
    command: {httpd}
    ports: ["{legacy_port}:80"]
networks:
  front:
    enable_ipv6: true
    ipam:
      config:
        - subnet: "{subnet}"
  pooled:
    enable_ipv6: true
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET6) as sock:
        sock.bind(("::", 0))
        return sock.getsockname()[1]


def random_ula(prefix: int) -> ipaddress.IPv6Network:
    return ipaddress.IPv6Network((b"\xfd" + secrets.token_bytes(5) + bytes(10), prefix))


def record(project: str, name: str) -> dict:
    state = Path(os.environ["PYCOMPOSE_STATE_DIR"]) / "projects" / project
    return json.loads((state / "replicas" / f"{name}.json").read_text())


def networks(project: str) -> dict[str, dict]:
    state = Path(os.environ["PYCOMPOSE_STATE_DIR"]) / "projects" / project
    return {n["name"]: n for n in json.loads((state / "project.json").read_text())["networks"]}


def test_ipv6_networks_dns_hosts_and_published_ports(project, tmp_path):
    if not Path("/proc/net/if_inet6").exists():
        pytest.skip("no IPv6 on this host")
    subnet, pool = random_ula(64), random_ula(48)
    fixed = str(subnet.network_address + 0x42)
    config = Path(os.environ["PYCOMPOSE_CONFIG_DIR"]) / "daemon.json"
    config.write_text(
        json.dumps(
            {"ip-forward": False, "default-address-pools": [{"base": str(pool), "size": 64}]}
        )
    )
    port, legacy_port = free_port(), free_port()
    body = STACK.format(
        busybox=os.environ["BUSYBOX_IMAGE"],
        httpd=HTTPD,
        port=port,
        legacy_port=legacy_port,
        fixed=fixed,
        subnet=subnet,
    )
    (tmp_path / "compose.yaml").write_text(body)
    cli = Cli(project, file=tmp_path / "compose.yaml")
    cli.run("up", "-d", "--wait", "--wait-timeout", "60")

    nets = networks(project)
    assert nets["front"]["subnet6"] == str(subnet)
    assert ipaddress.IPv6Network(nets["pooled"]["subnet6"]).subnet_of(pool)
    web = record(project, f"{project}-web-1")
    assert web["ips6"] == {"front": fixed}
    client = record(project, f"{project}-client-1")
    assert ipaddress.IPv6Address(client["ips6"]["pooled"]) in ipaddress.IPv6Network(
        nets["pooled"]["subnet6"]
    )

    inside = cli.run("exec", "-T", "client", "ip", "-6", "addr").stdout
    assert client["ips6"]["front"] in inside and client["ips6"]["pooled"] in inside
    aaaa = cli.run("exec", "-T", "client", "nslookup", "-type=AAAA", "web").stdout
    assert fixed in aaaa  # AAAA from the embedded DNS, asked at 127.0.0.11
    over_v6 = cli.run("exec", "-T", "client", "wget", "-qO-", f"http://[{fixed}]/").stdout
    assert over_v6.strip() == "web-host"
    hosts = cli.run("exec", "-T", "web", "cat", "/etc/hosts").stdout.splitlines()
    assert any(line.split()[:2] == [fixed, "web-host"] for line in hosts)  # as docker writes

    assert wait_for(lambda: http_text(f"http://[::1]:{port}/"), timeout=10) == "web-host"
    gateway6 = nets["front"]["gateway6"]
    assert http_text(f"http://[{gateway6}]:{port}/") == "web-host"  # IPv6 DNAT
    assert http_text(f"http://127.0.0.1:{port}/") == "web-host"
    assert http_text(f"http://[::1]:{legacy_port}/") == "legacy-host"  # IPv4-only, by the proxy

    ps = json.loads(cli.run("ps", "--format", "json", "web").stdout.splitlines()[0])
    assert {p["URL"] for p in ps["Publishers"]} == {"0.0.0.0", "::"}
    assert f"[::]:{port}->80/tcp" in ps["Ports"]
