"""Start-first recreation: after an edit, `up -d` starts the new replica (under a staging name),
waits until it accepts connections (the server here binds 1 s after start) and drains the old
one before stopping it, so a client hammering the published port sees no failed request; the
new one then carries the old name. A service with a writable volume is still replaced
stop-first."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.request

import pytest
from e2e_helpers import Cli, wait_for, write_stack

pytestmark = [pytest.mark.e2e, pytest.mark.privileged, pytest.mark.timeout(120)]

STACK = """
services:
  web:
    image: IMAGE
    environment:
      VERSION: "v1"
    command: ["sh", "-c", "mkdir -p /www && echo $$VERSION > /www/index.html &&
      trap 'exit 0' TERM; sleep 1; httpd -f -p 8080 -h /www & wait"]
    ports: ["127.0.0.1:PORT:8080"]
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Client(threading.Thread):
    """GET / every 5 ms on a new connection; records each answer or failure."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.url = f"http://127.0.0.1:{port}/"
        self.answers: list[str] = []
        self.failures: list[str] = []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            try:
                with urllib.request.urlopen(self.url, timeout=2) as resp:
                    self.answers.append(resp.read().decode().strip())
            except Exception as exc:
                self.failures.append(f"{time.time():.3f} {exc!r} after {len(self.answers)}")
            time.sleep(0.005)


def events(cli: Cli, since: float) -> list[tuple[str, str]]:
    out = cli.run("events", "--json", "--since", str(since), "--until", str(time.time())).stdout
    return [(d["action"], d["container"]) for d in map(json.loads, out.splitlines())]


def test_start_first_recreation_drops_no_request(project, tmp_path):
    port = free_port()
    path = write_stack(tmp_path, STACK.replace("PORT", str(port)))
    cli = Cli(project, file=path)
    cli.run("up", "-d", "--wait")
    client = Client(port)
    client.start()
    try:
        deadline = time.monotonic() + 10
        while "v1" not in client.answers and time.monotonic() < deadline:
            time.sleep(0.05)
        client.failures.clear()  # refused while the first server was not listening yet
        path.write_text(path.read_text().replace('VERSION: "v1"', 'VERSION: "v2"'))
        assert "Recreate (start-first)" in cli.run("up", "--dry-run").stdout
        since = time.time()
        out = cli.run("up", "-d").stderr
        time.sleep(0.5)  # a few more requests to the new one
    finally:
        client.done.set()
        client.join(5)
    served = [a for i, a in enumerate(client.answers) if i == 0 or a != client.answers[i - 1]]
    failed = client.failures[:3]
    print(f"{len(client.answers)} requests, answers in order {served}, failures {failed}")
    assert client.failures == []
    assert served == ["v1", "v2"]  # no flip-flop: the old one got nothing once drained
    assert f"Container {project}-web-1  Recreate" in out

    seen = events(cli, since)
    staging = next(c for a, c in seen if a == "create")
    assert staging.endswith(f"_{project}-web-1")
    order = [(a, c) for a, c in seen if a in ("start", "die", "rename")]
    assert order == [  # the new one runs before the old one stops, then takes its name
        ("start", staging),
        ("die", f"{project}-web-1"),
        ("rename", f"{project}-web-1"),
    ]
    ps = cli.run("ps", "--format", "json").stdout
    names = [doc["Name"] for doc in map(json.loads, ps.splitlines())]
    assert names == [f"{project}-web-1"]
    probe = 'hostname; cat /etc/hostname; grep -cw "$(hostname)" /etc/hosts'
    host, etc_hostname, in_hosts = cli.run("exec", "-T", "web", "sh", "-c", probe).stdout.split()
    assert host == etc_hostname and in_hosts == "1"  # the successor resolves its own name


def test_a_service_with_a_writable_volume_is_replaced_stop_first(project, tmp_path):
    volume = "    volumes: ['data:/data']\nvolumes:\n  data:\n"
    body = STACK.replace("PORT", str(free_port())) + volume
    path = write_stack(tmp_path, body)
    cli = Cli(project, file=path)
    cli.run("up", "-d")
    path.write_text(path.read_text().replace('VERSION: "v1"', 'VERSION: "v2"'))
    since = time.time()
    out = cli.run("up", "-d").stderr
    assert "start-first" not in out
    seen = events(cli, since)
    staging = next(c for a, c in seen if a == "create")
    assert staging.endswith(f"_{project}-web-1")  # docker compose: <id>_<name>, not started
    order = [(a, c) for a, c in seen if a in ("create", "start", "die", "rename")]
    assert order == [  # created first, started only once the old one is gone
        ("create", staging),
        ("die", f"{project}-web-1"),
        ("rename", f"{project}-web-1"),
        ("start", f"{project}-web-1"),
    ]


SLOW_READY = """
services:
  web:
    image: IMAGE
    environment:
      VERSION: "v1"
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 2; touch /tmp/ready; sleep 1000 & wait"]
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ready"]
      interval: 0.2s
      start_period: 30s
      start_interval: 0.2s
"""


def test_supervisor_killed_mid_recreation_converges(project, tmp_path):
    """kill -9 while the successor waits to be healthy: the old replica still runs, the next
    `up` removes the staging leftover and recreates; `down` leaves nothing (fixture)."""
    import os
    import signal

    from test_loop_e2e_crash import records, supervisor_pid

    path = write_stack(tmp_path, SLOW_READY)
    cli = Cli(project, file=path)
    cli.run("up", "-d", "--wait")
    old_pid = records(project)[f"{project}-web-1"]["pid"]
    path.write_text(path.read_text().replace('VERSION: "v1"', 'VERSION: "v2"'))
    up = __import__("subprocess").Popen(cli.argv("up", "-d"), stderr=-1, stdout=-1)
    try:
        wait_for(lambda: any("_" in name for name in records(project)), timeout=20, interval=0.02)
        os.kill(supervisor_pid(project), signal.SIGKILL)
    finally:
        up.communicate(timeout=60)
    names = sorted(records(project))
    assert len(names) == 2 and records(project)[f"{project}-web-1"]["pid"] == old_pid
    out = cli.run("up", "-d", "--wait").stderr
    assert "Remove" in out and "Recreate (start-first)" in out, out
    assert sorted(records(project)) == [f"{project}-web-1"]
    assert records(project)[f"{project}-web-1"]["pid"] != old_pid


def test_an_image_volume_keeps_its_data_across_recreation(project, tmp_path, monkeypatch):
    """redis's image declares VOLUME /data: without a service mount there it is an anonymous
    volume, so recreation is stop-first and the data survives (as with docker compose)."""
    import os

    body = """
services:
  db:
    image: REDIS
    command: ["redis-server", "--appendonly", "yes", "--protected-mode", "no"]
    environment:
      VERSION: "v1"
"""
    path = write_stack(tmp_path, body.replace("REDIS", os.environ["REDIS_IMAGE"]))
    cli = Cli(project, file=path)
    cli.run("up", "-d")
    redis = ("exec", "-T", "db", "redis-cli")
    wait_for(lambda: cli.run(*redis, "ping", check=False).stdout.strip() == "PONG")
    assert cli.run(*redis, "set", "k", "kept").stdout.strip() == "OK"
    path.write_text(path.read_text().replace('VERSION: "v1"', 'VERSION: "v2"'))
    plan = cli.run("up", "--dry-run").stdout
    assert f"Container {project}-db-1  Recreate" in plan and "start-first" not in plan
    cli.run("up", "-d")
    wait_for(lambda: cli.run(*redis, "ping", check=False).stdout.strip() == "PONG")
    assert cli.run(*redis, "get", "k").stdout.strip() == "kept"


def test_a_foreground_up_shows_a_start_first_successor_once(project, tmp_path):
    """`up -d` in another terminal recreates web start-first: the foreground output goes on
    with the new replica's lines (under web-1), and never repeats the old one's."""
    from test_loop_e2e_foreground import Foreground

    body = """
services:
  web:
    image: IMAGE
    environment:
      VERSION: "v1"
    command: ["sh", "-c", "echo $$VERSION up; trap 'exit 0' TERM;
      sleep 1.5; touch /tmp/ready; sleep 1000 & wait"]
    healthcheck:  # the old and the new one run side by side for 1.5 s
      test: ["CMD", "test", "-f", "/tmp/ready"]
      interval: 0.2s
      start_period: 30s
      start_interval: 0.2s
"""
    path = write_stack(tmp_path, body)
    cli = Cli(project, file=path)
    fg = Foreground(cli)
    try:
        fg.wait_line("web-1  | v1 up")
        path.write_text(path.read_text().replace('VERSION: "v1"', 'VERSION: "v2"'))
        assert "Recreate (start-first)" in cli.run("up", "-d").stderr
        fg.wait_line("web-1  | v2 up")
        time.sleep(1)  # a few more polls of the logs
        assert fg.count("web-1  | v1 up") == 1 and fg.count("web-1  | v2 up") == 1, str(fg)
    finally:
        fg.stop()


def test_logs_follow_goes_on_with_the_successor(project, tmp_path):
    """`logs -f` started before a start-first recreation shows the new replica's lines once
    it has taken the name, and the old one's only once."""
    import subprocess

    path = write_stack(tmp_path, SLOW_READY.replace("sleep 2;", "echo $$VERSION up; sleep 1.5;"))
    cli = Cli(project, file=path)
    cli.run("up", "-d", "--wait")
    follow = subprocess.Popen(
        cli.argv("logs", "-f", "--no-log-prefix"), stdout=subprocess.PIPE, text=True
    )
    lines: list[str] = []
    import threading

    reader = threading.Thread(target=lambda: lines.extend(follow.stdout), daemon=True)
    reader.start()
    try:
        path.write_text(path.read_text().replace('VERSION: "v1"', 'VERSION: "v2"'))
        cli.run("up", "-d")
        wait_for(lambda: "v2 up\n" in lines, timeout=10)
        time.sleep(0.5)
    finally:
        follow.terminate()
        follow.wait(5)
    assert lines.count("v1 up\n") <= 1 and lines.count("v2 up\n") == 1, lines
