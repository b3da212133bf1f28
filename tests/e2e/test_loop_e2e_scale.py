"""`scale` and replica counts beyond the example: `deploy.replicas: 0`, `up --scale`, `rm`
lowering the kept count, `container_name` refusing N > 1, and `scale` applied directly when no
supervisor runs (the next `up` adopts what it made)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from e2e_helpers import Cli, supervisors, wait_for, write_stack

pytestmark = [pytest.mark.e2e, pytest.mark.privileged, pytest.mark.timeout(120)]

STACK = """
services:
  web:
    image: IMAGE
    command: SLEEP
    deploy:
      replicas: 0
    networks: [back]
  solo:
    image: IMAGE
    command: SLEEP
    container_name: CNAME
networks:
  back: {}
"""


def indexes(cli: Cli, service: str) -> list[int]:
    out = cli.run("ps", "--format", "json", service).stdout.splitlines()
    return sorted(int(json.loads(x)["Name"].rsplit("-", 1)[1]) for x in out)


def test_replicas_zero_scale_and_no_supervisor(project, tmp_path):
    cli = Cli(project, file=write_stack(tmp_path, STACK.replace("CNAME", f"{project}-solo")))
    cli.run("up", "-d", "solo")
    cli.run("scale", "web=2")  # never selected by `up`: its image and network come first
    assert indexes(cli, "web") == [1, 2]
    cli.run("up", "-d")
    assert indexes(cli, "web") == []  # replicas: 0 is valid (and the file wins at `up`)

    cli.run("up", "-d", "--scale", "web=3")
    assert indexes(cli, "web") == [1, 2, 3]
    bad = cli.run("scale", "solo=2", check=False)  # the supervisor refuses: a user error
    assert bad.returncode == 1 and "container_name" in bad.stderr

    cli.run("stop", "web")  # stopped replicas still count …
    cli.run("rm", "-f", "web")  # … removed ones do not: the loop keeps what is left (0)
    cli.run("scale", "web=2")
    assert indexes(cli, "web") == [1, 2]

    for pid in supervisors():
        os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not supervisors(), timeout=5)
    out = cli.run("scale", "web=4").stderr  # no supervisor: planned and applied here
    assert "Container" in out and indexes(cli, "web") == [1, 2, 3, 4]
    up = cli.run("up", "-d", "--scale", "web=4")  # a new supervisor adopts them
    changed = [ln for ln in up.stderr.splitlines() if "Container" in ln and "Running" not in ln]
    assert changed == [] and indexes(cli, "web") == [1, 2, 3, 4]  # docker's `Running` only


def test_up_d_without_project_flag_reaches_the_running_supervisor(project, tmp_path):
    """`up -d` naming the project by its directory (no -p): the CLI finds the running
    supervisor itself and hands it the request; the count changes, no second supervisor."""
    work = tmp_path / project
    work.mkdir()
    write_stack(work, "services:\n  web:\n    image: IMAGE\n    command: SLEEP\n")

    def up(*args: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "compose", "up", "-d", *args]
        proc = subprocess.run(argv, cwd=work, capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        return proc

    up()
    first = supervisors()
    scaled = up("--scale", "web=3")
    assert f"{project}-web-3  Start" in scaled.stderr
    cli = Cli(project, file=work / "compose.yaml")
    assert indexes(cli, "web") == [1, 2, 3] and supervisors() == first
    bad = subprocess.run(
        [sys.executable, "-m", "compose", "up", "-d", "nosuch"],
        cwd=work, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert bad.returncode != 0 and "nosuch" in bad.stderr and supervisors() == first


def test_up_d_scale_returns_with_every_replica_wired(project, tmp_path):
    """When `up -d --scale` returns, with no waiting: every new replica runs, answers for the
    service name in DNS, is in every replica's /etc/hosts and in the service's DNAT table (the
    starts of a burst share their nft updates; none may return before its replica is in)."""
    from dnslib import DNSRecord

    from netplug.naming import ports_table

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    body = f"services:\n  web:\n    image: IMAGE\n    command: SLEEP\n    ports: ['{port}:80']\n"
    cli = Cli(project, file=write_stack(tmp_path, body))
    cli.run("up", "-d")
    cli.run("up", "-d", "--scale", "web=7")

    state = Path(os.environ["PYCOMPOSE_STATE_DIR"]) / "projects" / project
    recs = [json.loads(p.read_text()) for p in state.glob("replicas/*.json")]
    ips = sorted(r["ips"]["default"] for r in recs if r["status"] == "running")
    assert len(ips) == 7 and indexes(cli, "web") == list(range(1, 8))
    gateway = json.loads((state / "project.json").read_text())["networks"][0]["gateway"]
    reply = DNSRecord.parse(DNSRecord.question("web").send(gateway, 53, timeout=2))
    assert sorted(str(rr.rdata) for rr in reply.rr) == ips
    for rec in recs:
        hosts = (state / "containers" / rec["name"] / "etc" / "hosts").read_text()
        assert all(ip in hosts for ip in ips), (rec["name"], hosts)
    table = ports_table(project, "default", "web")
    rules = subprocess.run(["nft", "list", "table", "ip", table], capture_output=True, text=True)
    assert rules.returncode == 0 and all(f"{ip} . 80" in rules.stdout for ip in ips), rules
