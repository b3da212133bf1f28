"""Docker's resolver address inside every container: /etc/resolv.conf names 127.0.0.11 (with
the options docker writes) and a resolver answers there, so nginx's `resolver 127.0.0.11` finds
the app by name at request time; a service's `dns:` servers get the names that aren't ours while
service names still resolve; a container on two networks resolves the names of both."""

from __future__ import annotations

import os
import socket
import threading

import pytest
from e2e_helpers import Cli, http_text, wait_for

from tests.fakedns import FakeUpstream

pytestmark = [pytest.mark.e2e, pytest.mark.privileged, pytest.mark.timeout(180)]

SITE = """server {
    listen 80;
    resolver 127.0.0.11 valid=1s;
    location / {
        set $app http://app:8000;
        proxy_pass $app;
    }
}
"""

STACK = """
services:
  proxy:
    image: {nginx}
    ports: ["{port}:80"]
    volumes: ["./site.conf:/etc/nginx/conf.d/default.conf:ro"]
    depends_on: [app]
  app:
    image: {busybox}
    command: ["sh", "-c", "echo hello from app > /tmp/index.html; exec httpd -f -p 8000 -h /tmp"]
    networks: [default, back]
  db:
    image: {busybox}
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 1000 & wait"]
    networks: [back]
  custom:
    image: {busybox}
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 1000 & wait"]
    dns: ["{upstream}"]
    dns_search: [example.org]
    dns_opt: ["timeout:2"]
networks:
  back: {{}}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def lookup(cli: Cli, service: str, name: str) -> str:
    """busybox nslookup inside the container: it reads /etc/resolv.conf."""
    return cli.run("exec", "-T", service, "nslookup", name, check=False).stdout


def test_nginx_resolver_127_0_0_11_and_resolv_conf(project, tmp_path):
    # `dns:` takes addresses only (port 53): a loopback address of this test's own
    upstream = FakeUpstream(
        f"127.{os.getpid() % 200 + 20}.{threading.get_native_id() % 250}.53", 53
    )
    port = free_port()
    (tmp_path / "site.conf").write_text(SITE)
    body = STACK.format(
        nginx=os.environ["NGINX_IMAGE"],
        busybox=os.environ["BUSYBOX_IMAGE"],
        port=port,
        upstream=upstream.address,
    )
    (tmp_path / "compose.yaml").write_text(body)
    cli = Cli(project, file=tmp_path / "compose.yaml")
    cli.run("up", "-d", "--wait", "--wait-timeout", "60")
    # nginx resolves `app` through 127.0.0.11 for each request (valid=1s)
    assert wait_for(lambda: http_text(f"http://127.0.0.1:{port}/"), timeout=15) == "hello from app"

    resolv = cli.run("exec", "-T", "proxy", "cat", "/etc/resolv.conf").stdout.splitlines()
    assert "nameserver 127.0.0.11" in resolv
    assert [line for line in resolv if line.startswith("nameserver")] == ["nameserver 127.0.0.11"]
    assert resolv[-1].startswith("options") and resolv[-1].endswith("ndots:0")
    custom = cli.run("exec", "-T", "custom", "cat", "/etc/resolv.conf").stdout
    assert custom == "search example.org\nnameserver 127.0.0.11\noptions timeout:2 ndots:0\n"

    # the service's own dns: server answers what isn't ours; project names still resolve
    assert "192.0.2.99" in lookup(cli, "custom", "outside.test")
    assert "Address" in lookup(cli, "custom", "app").split("Name:")[-1]
    # app is on default and back: it resolves db (back only), proxy does not
    assert "Name:" in lookup(cli, "app", "db")
    assert "Name:" not in lookup(cli, "proxy", "db")
