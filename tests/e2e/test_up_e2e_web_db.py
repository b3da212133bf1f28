"""examples/stacks/web-db: greeting, visit counter in redis via link variables and DNS,
persistence across down/up, `down -v` removes the named volume."""

from __future__ import annotations

import json
import socket
import urllib.request

import pytest
from e2e_helpers import Cli, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.privileged, pytest.mark.timeout(240)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(port: int) -> str | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=3) as resp:
            return resp.read().decode()
    except OSError:
        return None


def test_web_db_answers_counts_and_keeps_data(project, isolated_dirs):
    port = free_port()
    cli = Cli(project, "web-db", env={"WEB_PORT": str(port), "NAME": "e2e"})
    cli.run("up", "-d", "--wait", "--wait-timeout", "60")
    first = wait_for(lambda: get(port), timeout=20)
    assert first.startswith("Hello e2e! I am ") and "visited 1 times" in first
    assert "visited 2 times" in get(port)

    rows = [json.loads(line) for line in cli.run("ps", "--format", "json").stdout.splitlines()]
    state = {r["Service"]: (r["State"], r["Health"]) for r in rows}
    assert state == {"redis": ("running", "healthy"), "web": ("running", "")}
    web = next(r for r in rows if r["Service"] == "web")
    assert web["Name"] == f"{project}-web-1"
    assert web["Publishers"][0]["PublishedPort"] == port

    probe = (
        "import os,socket;e=os.environ;"
        "print(e['DB_PORT_6379_TCP_PORT'],socket.gethostbyname('redis')==e['DB_PORT_6379_TCP_ADDR'])"
    )
    assert cli.run("exec", "-T", "web", "python3", "-c", probe).stdout.split() == ["6379", "True"]
    assert "GET / HTTP/1.1" in cli.run("logs", "web").stdout
    # "redis-1" is in no /etc/hosts: the supervisor's DNS server answers it
    dns = (
        "import os,socket;"
        "print(socket.gethostbyname('redis-1')==os.environ['DB_PORT_6379_TCP_ADDR'])"
    )
    assert cli.run("exec", "-T", "web", "python3", "-c", dns).stdout.strip() == "True"
    # the link alias (links: [redis:db]) resolves too, through /etc/hosts as in Docker
    alias = "import socket;print(socket.gethostbyname('db')==socket.gethostbyname('redis-1'))"
    assert cli.run("exec", "-T", "web", "python3", "-c", alias).stdout.strip() == "True"

    cli.run("down", "-t", "1")
    volume = isolated_dirs / "state" / "volumes" / f"{project}_redis-data" / "_data"
    assert volume.is_dir()
    cli.run("up", "-d", "--wait", "--wait-timeout", "60")
    assert "visited 3 times" in wait_for(lambda: get(port), timeout=20)

    cli.run("down", "-v", "-t", "1")
    assert not volume.exists()
