"""A realistic stack (issue 13): nginx as a reverse proxy with a static upstream, in front of two
replicas of a python app that counts visits in redis, postgres 15 with an idle client. Images
from Debian's packages (tests/images), as docker compose users run the official ones.

- nginx resolves ``app`` once, at start. After an ``env_file`` edit ``up -d`` recreates the app
  replicas start-first; their successors take over the replicas' addresses, so nginx keeps
  answering, without one failed request (docker reuses the addresses too, after ~5 s of 502s
  while its stop-first recreation runs). The app shuts down gracefully on SIGTERM, as gunicorn
  does; while it does and until its address moves, new connections to it wait (never refused:
  nginx marks a refusing server down for 10 s, and two such replicas made 502s under load).
  A connect that waits past nginx's ``proxy_connect_timeout`` goes to the other replica, and
  that server is skipped for 10 s. The timeout is 4 s here (nginx's default is 60 s): longer
  than the client kernel's second SYN retry (3 s after the first). With 2 s, a loaded CI machine
  held both replicas' connects past it within 10 s, and nginx had no live upstream for a
  moment (3 502s): the README's limit for clients with short connect timeouts.
- ``stop`` sends each image's STOPSIGNAL: postgres SIGINT (a fast shutdown, even with a client
  connected: docker 0.19 s), nginx SIGQUIT (a graceful one).
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from e2e_helpers import Cli, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.privileged, pytest.mark.serial, pytest.mark.timeout(300)]

APP = """
import http.server, os, signal, socket, threading, time

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with socket.create_connection(("cache", 6379), timeout=2) as redis:
            redis.sendall(b"INCR hits\\r\\n")
            hits = redis.recv(64).decode().strip(":\\r\\n")
        body = f"{os.environ['VERSION']} {socket.gethostname()} {hits}\\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

class Server(http.server.ThreadingHTTPServer):
    daemon_threads = False  # server_close waits for the requests in flight


server = Server(("", 8000), Handler)  # on SIGTERM, as gunicorn does: no new connections, the
signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
server.serve_forever()  # requests in flight answered, the listener closed, then a while
server.server_close()  # before the process exits (a pool closing, logs flushing)
time.sleep(0.5)
"""
NGINX = """
upstream app {
    server app:8000;
}
server {
    listen 80;
    location / {
        proxy_pass http://app;
        proxy_connect_timeout 4s;
    }
}
"""
STACK = """
services:
  proxy:
    image: NGINX_IMAGE
    volumes: ["./nginx.conf:/etc/nginx/conf.d/default.conf:ro"]
    ports: ["127.0.0.1:PORT:80"]
    depends_on: [app]
  app:
    image: PYTHON_IMAGE
    command: ["python3", "/srv/app.py"]
    volumes: ["./app.py:/srv/app.py:ro"]
    env_file: app.env
    scale: 2
    depends_on:
      db: {condition: service_healthy}
      cache: {condition: service_started}
  db:
    image: POSTGRES_IMAGE
    environment: {POSTGRES_PASSWORD: example, POSTGRES_DB: shop}
    healthcheck:
      test: ["CMD", "pg_isready", "-U", "postgres", "-h", "127.0.0.1"]
      interval: 1s
      start_period: 60s
      start_interval: 0.5s
  idle:
    image: POSTGRES_IMAGE
    environment: {PGPASSWORD: example}
    command: ["sh", "-c", "sleep 100000 | psql -h db -U postgres shop"]
    depends_on: {db: {condition: service_healthy}}
  cache:
    image: REDIS_IMAGE
    command: ["redis-server", "--protected-mode", "no"]  # the official image's default
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stack(tmp_path: Path, port: int) -> Path:
    (tmp_path / "app.py").write_text(APP)
    (tmp_path / "nginx.conf").write_text(NGINX)
    (tmp_path / "app.env").write_text("VERSION=v1\n")
    body = STACK.replace("PORT", str(port))
    for name in ("NGINX_IMAGE", "PYTHON_IMAGE", "POSTGRES_IMAGE", "REDIS_IMAGE"):
        body = body.replace(name, os.environ[name.replace("PYTHON", "WEB")])
    path = tmp_path / "compose.yaml"
    path.write_text(body)
    return path


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as reply:
        return reply.read().decode().strip()


class Client(threading.Thread):
    """A GET through the proxy every 10 ms; each answer or failure, in order."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.answers: list[str] = []
        self.failures: list[str] = []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            try:
                self.answers.append(get(self.url))
            except (OSError, urllib.error.HTTPError) as exc:
                self.failures.append(f"{time.time():.3f} {exc!r} after {len(self.answers)}")
            time.sleep(0.01)


def records(project: str) -> dict[str, dict]:
    root = Path(os.environ["PYCOMPOSE_STATE_DIR"]) / "projects" / project / "replicas"
    return {doc["name"]: doc for doc in (json.loads(p.read_text()) for p in root.glob("*.json"))}


def test_a_proxy_that_resolved_its_upstream_once_keeps_working_across_a_recreation(
    project, tmp_path
):
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    path = stack(tmp_path, port)
    cli = Cli(project, file=path)
    cli.run("up", "-d", "--wait", timeout=180)
    seen = wait_for(lambda: _both(url), timeout=40)  # nginx waits 10 s after a refusal
    assert len(seen) == 2, seen  # it balances over both replicas it resolved
    apps = [f"{project}-app-{n}" for n in (1, 2)]
    before = {name: records(project)[name] for name in apps}
    proxy_pid = records(project)[f"{project}-proxy-1"]["pid"]

    client = Client(url)
    client.start()
    out = ""
    try:
        time.sleep(0.5)
        (tmp_path / "app.env").write_text("VERSION=v2\n")
        out = cli.run("up", "-d", timeout=180).stderr
        upped = len(client.answers)
        after = {name: records(project)[name] for name in apps}
        successors = {r["container_id"][:12] for r in after.values()}
        # both successors answer on the addresses nginx resolved at its start; one whose
        # connect timed out (held past nginx's proxy_connect_timeout while its predecessor
        # shut down) is skipped for fail_timeout (10 s), nginx's design, with no failed request
        wait_for(lambda: {a.split()[1] for a in client.answers[upped:]} >= successors, 15)
    finally:
        client.done.set()
        client.join(5)
        print(f"{len(client.answers)} requests through nginx, failures: {client.failures[:3]}")
        logs = cli.run("logs", "-t", "proxy", check=False).stdout.splitlines()
        print("\n".join(line for line in logs if "[error]" in line or "[warn]" in line))
        print(out)
    assert client.failures == []
    assert records(project)[f"{project}-proxy-1"]["pid"] == proxy_pid  # nginx never restarted
    for name in apps:
        assert f"Container {name}  Recreate (start-first)" in out, out
        assert after[name]["container_id"] != before[name]["container_id"]  # new containers
        assert after[name]["ips"] == before[name]["ips"]  # ... on the replicas' addresses
    late = client.answers[upped:]
    assert late and all(a.startswith("v2 ") for a in late), late[:5]
    assert {a.split()[1] for a in late} == successors
    hits = [int(a.split()[2]) for a in client.answers]
    assert hits == sorted(hits)  # one redis behind them all


def _both(url: str) -> set[str] | None:
    """The hostnames behind nginx, once 20 requests in a row succeed and reach two."""
    try:
        hosts = {get(url).split()[1] for _ in range(20)}
    except (OSError, urllib.error.HTTPError):
        return None
    return hosts if len(hosts) == 2 else None


def test_stop_sends_the_images_stop_signal(project, tmp_path):
    """postgres (STOPSIGNAL SIGINT) with a client connected stops at once, cleanly; nginx
    (STOPSIGNAL SIGQUIT) shuts down gracefully. Before, both got SIGTERM: postgres waited for
    its client until the grace period ended, then was killed (137)."""
    path = stack(tmp_path, free_port())
    cli = Cli(project, file=path)
    cli.run("up", "-d", "--wait", "db", "idle", "proxy", timeout=180)
    connected = "select count(*) from pg_stat_activity where client_addr is not null"
    psql = ("exec", "-T", "db", "psql", "-U", "postgres", "-Atc", connected)
    wait_for(lambda: cli.run(*psql, check=False).stdout.strip() == "1", timeout=20)
    began = time.monotonic()
    cli.run("stop", "db")
    took = time.monotonic() - began
    print(f"stop db with a client connected: {took:.2f}s")
    assert took < 5  # the grace period is 10 s
    rows = [json.loads(x) for x in cli.run("ps", "-a", "--format", "json").stdout.splitlines()]
    assert {r["Service"]: r["ExitCode"] for r in rows}["db"] == 0
    assert "received fast shutdown request" in cli.run("logs", "db").stdout
    cli.run("stop", "proxy")
    assert "signal 3 (SIGQUIT) received" in cli.run("logs", "proxy").stdout
