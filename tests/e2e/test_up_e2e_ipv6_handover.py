"""IPv6 across a recreation (issue 13, item 1 on an ``enable_ipv6`` network): a client in another
container resolves ``web`` once (AAAA) and keeps talking to those IPv6 addresses; after an
``env_file`` edit ``up -d`` recreates both web replicas start-first, and their successors take
over the replicas' IPv6 addresses (with an unsolicited neighbour advertisement, so the client's
neighbour cache follows at once), as they take over the IPv4 ones: once ``up -d`` has returned,
every request (by the time it started) to the addresses resolved at the start reaches a new
replica. During the recreation, too, the client (it talks to one address at a time, with no
proxy to retry the other) loses no request: web shuts down gracefully on SIGTERM, and from the
drain until the hand-over new connections to its addresses wait, never refused (they were, once
or twice per replica, between the predecessor's stop and the hand-over)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from e2e_helpers import Cli, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.privileged, pytest.mark.serial, pytest.mark.timeout(300)]

WEB = """
import http.server, os, signal, socket, threading

class Server(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6
    daemon_threads = False  # server_close waits for the requests in flight

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"{os.environ['VERSION']} {socket.gethostname()}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

server = Server(("::", 8000), Handler)
signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
server.serve_forever()  # on SIGTERM, as gunicorn does: no new connections, those in flight
server.server_close()  # answered, then exit
"""
CLIENT = """
import socket, time

addresses = []
while len(addresses) < 2:  # resolved once, both replicas up
    time.sleep(0.2)
    try:
        found = socket.getaddrinfo("web", 8000, socket.AF_INET6, socket.SOCK_STREAM)
    except OSError:
        continue
    addresses = sorted({entry[4][0] for entry in found})
print("resolved", *addresses, flush=True)
for n in range(10**9):
    address, started = addresses[n % len(addresses)], time.time()
    try:
        with socket.create_connection((address, 8000), timeout=5) as sock:
            sock.sendall(b"GET / HTTP/1.0\\r\\n\\r\\n")
            reply = b"".join(iter(lambda: sock.recv(4096), b"")).decode()
        print(f"{started:.3f} ok {address} {reply.splitlines()[-1]}", flush=True)
    except OSError as exc:
        print(f"{started:.3f} fail {address} {exc!r}", flush=True)
    time.sleep(0.02)
"""
STACK = """
services:
  web:
    image: {image}
    command: ["python3", "/srv/web.py"]
    volumes: ["./web.py:/srv/web.py:ro"]
    env_file: web.env
    scale: 2
  client:
    image: {image}
    command: ["python3", "-u", "/srv/client.py"]
    volumes: ["./client.py:/srv/client.py:ro"]
    init: true
networks:
  default:
    enable_ipv6: true
"""


def records(project: str) -> dict[str, dict]:
    root = Path(os.environ["PYCOMPOSE_STATE_DIR"]) / "projects" / project / "replicas"
    return {doc["name"]: doc for doc in (json.loads(p.read_text()) for p in root.glob("*.json"))}


def lines(cli: Cli) -> list[list[str]]:
    out = cli.run("logs", "--no-log-prefix", "client").stdout
    return [line.split() for line in out.splitlines() if line.strip()]


def test_a_client_keeps_its_resolved_ipv6_addresses_across_a_recreation(project, tmp_path):
    if not Path("/proc/net/if_inet6").exists():
        pytest.skip("no IPv6 on this host")
    (tmp_path / "web.py").write_text(WEB)
    (tmp_path / "client.py").write_text(CLIENT)
    (tmp_path / "web.env").write_text("VERSION=v1\n")
    (tmp_path / "compose.yaml").write_text(STACK.format(image=os.environ["WEB_IMAGE"]))
    cli = Cli(project, file=tmp_path / "compose.yaml")
    cli.run("up", "-d", "--wait", timeout=180)
    webs = [f"{project}-web-{n}" for n in (1, 2)]
    before = {name: records(project)[name] for name in webs}
    v6 = sorted(doc["ips6"]["default"] for doc in before.values())

    def served() -> bool:
        oks = {line[2] for line in lines(cli) if line[1:2] == ["ok"]}
        return oks == set(v6)

    assert wait_for(served, timeout=40)
    assert lines(cli)[0] == ["resolved", *v6]
    (tmp_path / "web.env").write_text("VERSION=v2\n")
    since = time.time()
    out = cli.run("up", "-d", timeout=180).stderr
    upped = time.time()
    wait_for(lambda: sum(float(line[0]) > upped + 1.0 for line in lines(cli)[1:]) >= 20)

    after = {name: records(project)[name] for name in webs}
    for name in webs:
        assert f"Container {name}  Recreate (start-first)" in out, out
        assert after[name]["container_id"] != before[name]["container_id"]  # new containers
        assert after[name]["ips6"] == before[name]["ips6"]  # ... on the replicas' addresses
        assert after[name]["ips"] == before[name]["ips"]
    late = [line for line in lines(cli)[1:] if float(line[0]) > upped]
    during = [line for line in lines(cli)[1:] if float(line[0]) <= upped]
    print(f"{len(late)} requests after up -d; before: {len(during)}, failed:", end=" ")
    failed = [line for line in lines(cli)[1:] if line[1] == "fail" and float(line[0]) > since]
    print(failed)
    assert failed == []
    assert late and all(line[1] == "ok" and line[3] == "v2" for line in late), late[:5]
    hosts = {line[4] for line in late}
    assert hosts == {doc["container_id"][:12] for doc in after.values()}  # both successors
    cli.run("down", "-v")
