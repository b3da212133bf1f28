"""examples/stacks/replicas: 3 web replicas behind one published port, a client reaching them by
service name; the loop replaces a killed replica, `scale` goes to 5 and back to 2 with DNS,
/etc/hosts and the load-balanced port following."""

from __future__ import annotations

import json
import os
import signal
import socket
import urllib.request

import pytest
from e2e_helpers import Cli, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.privileged, pytest.mark.serial, pytest.mark.timeout(180)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def running(cli: Cli, service: str) -> dict[str, dict]:
    out = cli.run("ps", "--format", "json", service).stdout.splitlines()
    rows = [json.loads(x) for x in out]
    return {r["Name"]: r for r in rows if r["State"] == "running"}


def record(project: str, name: str) -> dict:
    path = f"{os.environ['PYCOMPOSE_STATE_DIR']}/projects/{project}/replicas/{name}.json"
    with open(path) as handle:
        return json.load(handle)


def ask(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as reply:
            return reply.read().decode().strip()
    except OSError:
        return None


def answered(url: str, tries: int = 40) -> set[str]:
    return {a for a in (ask(url) for _ in range(tries)) if a}


def gateway(project: str) -> str:
    path = f"{os.environ['PYCOMPOSE_STATE_DIR']}/projects/{project}/project.json"
    with open(path) as handle:
        return json.load(handle)["networks"][0]["gateway"]


def dns_answers(project: str, name: str = "web") -> list[str]:
    """Ask the supervisor's DNS server on the network gateway, as a replica would."""
    from dnslib import DNSRecord

    reply = DNSRecord.parse(DNSRecord.question(name).send(gateway(project), 53, timeout=2))
    return sorted(str(rr.rdata) for rr in reply.rr)


def hosts_names(project: str, replica: str) -> list[str]:
    path = f"{os.environ['PYCOMPOSE_STATE_DIR']}/projects/{project}/containers/{replica}/etc/hosts"
    with open(path) as handle:
        names = (n for line in handle for n in line.split()[1:])
        return sorted(n for n in names if n.startswith(f"{project}-web-"))  # by container name


def follows(project: str, count: int) -> bool:
    return (
        len(dns_answers(project)) == count
        and len(hosts_names(project, f"{project}-client-1")) == count
    )


def client_sees(cli: Cli, count: int) -> bool:
    lines = cli.run("logs", "--no-log-prefix", "--tail", "3", "client").stdout.splitlines()
    return bool(lines) and f"-> {count} replicas" in lines[-1]


def expect_client(cli: Cli, count: int, bridge_mac: str) -> None:
    try:
        wait_for(lambda: client_sees(cli, count), timeout=10)
    except AssertionError:
        hint = ""
        if mac(cli.project) != bridge_mac:  # see /work/notes/H-to-E.md
            hint = (
                f"\nthe bridge's MAC changed ({bridge_mac} -> {mac(cli.project)}) when veths "
                "joined/left: replicas keep the old gateway MAC (netplug bug: the bridge is "
                "created without IFLA_ADDRESS)"
            )
        raise AssertionError(cli.run("logs", "client").stdout[-1500:] + hint) from None


def mac(project: str) -> str:
    from netplug.naming import bridge_name

    with open(f"/sys/class/net/{bridge_name(project, 'default')}/address") as handle:
        return handle.read().strip()


def test_replicas_killed_replaced_scaled_up_and_down(project):
    port = free_port()
    cli = Cli(project, "replicas", env={"WEB_PORT": str(port)})
    cli.run("up", "-d", "--wait", "--wait-timeout", "60")
    web = [f"{project}-web-{i}" for i in (1, 2, 3)]
    assert sorted(running(cli, "web")) == web
    url = f"http://127.0.0.1:{port}/"
    wait_for(lambda: len(answered(url)) == 3, timeout=10)  # one port, three replicas answer
    dnat = f"http://{gateway(project)}:{port}/"  # a non-loopback host address: nft DNAT
    wait_for(lambda: len(answered(dnat)) == 3, timeout=10)
    first_mac = mac(project)
    expect_client(cli, 3, first_mac)

    # a replica dies: its restart policy (always) brings it back, same name, new process
    victim = record(project, web[1])
    os.kill(victim["pid"], signal.SIGKILL)
    wait_for(
        lambda: (r := record(project, web[1]))["status"] == "running" and r["pid"] != victim["pid"],
        timeout=10,
        interval=0.02,
    )
    assert sorted(running(cli, "web")) == web

    cli.run("scale", "web=5")
    assert sorted(running(cli, "web")) == [f"{project}-web-{i}" for i in range(1, 6)]
    wait_for(lambda: follows(project, 5), timeout=1, interval=0.05)  # DNS, /etc/hosts: < 1 s
    expect_client(cli, 5, first_mac)
    wait_for(lambda: len(answered(url)) == 5, timeout=10)

    cli.run("scale", "web=2")  # the highest indexes go
    assert sorted(running(cli, "web")) == web[:2]
    wait_for(lambda: follows(project, 2), timeout=1, interval=0.05)
    expect_client(cli, 2, first_mac)
    assert answered(url) <= {"web-1", "web-2"}
