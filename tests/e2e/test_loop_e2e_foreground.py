"""A foreground `up` is the project's supervisor: while it streams logs in one terminal, `scale`,
`stop`, `start`, `restart`, `up -d`, `exec` from another one act through it (as with docker
compose). Its output follows the new replicas with their prefixes and reports each exit
(`web-1 exited with code 0`); stopping one service keeps it running, stopping every replica
ends it (docker compose v2 does the same)."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import threading
import time
import urllib.request

import pytest
from e2e_helpers import Cli, wait_for, write_stack

pytestmark = [pytest.mark.e2e, pytest.mark.privileged, pytest.mark.timeout(90)]

SERVE = (
    """["sh", "-c", "trap 'exit 0' TERM; mkdir -p /www; hostname > /www/index.html; """
    """echo web up; httpd -f -p 8000 -h /www & wait"]"""
)
STACK = f"""
services:
  db:
    image: IMAGE
    command: ["sh", "-c", "echo db up; trap 'exit 0' TERM; sleep 1000 & wait"]
  web:
    image: IMAGE
    command: {SERVE}
    ports: ["PORT:8000"]
"""


class Foreground:
    """`pycompose up` in a terminal of its own: its stdout/stderr lines as they come."""

    def __init__(self, cli: Cli, *args: str) -> None:
        self.proc = subprocess.Popen(
            cli.argv("up", "--no-color", *args),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            stdin=subprocess.DEVNULL,
        )
        self.out: list[str] = []
        self.err: list[str] = []
        self._readers = [
            threading.Thread(target=self._read, args=(s, d), daemon=True)
            for s, d in ((self.proc.stdout, self.out), (self.proc.stderr, self.err))
        ]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _read(stream, lines: list[str]) -> None:
        for line in stream:
            lines.append(line.rstrip("\n"))

    def count(self, line: str) -> int:
        return sum(1 for x in list(self.out) if x == line)

    def wait_line(self, line: str, times: int = 1, timeout: float = 10.0) -> None:
        try:
            wait_for(lambda: self.count(line) >= times, timeout=timeout)
        except AssertionError:
            missing = f"{line!r} x{times} not in the foreground's output:\n{self}"
            raise AssertionError(missing) from None

    def stop(self, timeout: float = 30.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        code = self.proc.wait(timeout=timeout)
        for reader in self._readers:
            reader.join(timeout=5)
        return code

    def __str__(self) -> str:
        return "stdout:\n" + "\n".join(self.out) + "\nstderr:\n" + "\n".join(self.err)


def rows(cli: Cli, *flags: str) -> dict[str, tuple[str, int]]:
    out = cli.run("ps", "--format", "json", *flags).stdout.splitlines()
    docs = [json.loads(x) for x in out]
    return {d["Name"].removeprefix(f"{cli.project}-"): (d["State"], d["ExitCode"]) for d in docs}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(port: int, tries: int = 30) -> set[str]:
    """The replicas (their hostnames) that answered on the published port."""
    seen = set()
    for _ in range(tries):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as reply:
                seen.add(reply.read().decode().strip())
        except OSError:
            pass
    return seen


def test_scale_stop_start_through_a_foreground_up(project, tmp_path):
    port = free_port()
    cli = Cli(project, file=write_stack(tmp_path, STACK.replace("PORT", str(port))))
    up = Foreground(cli)
    try:
        wait_for(lambda: rows(cli) == {"db-1": ("running", 0), "web-1": ("running", 0)}, 30)
        up.wait_line("web-1  | web up")

        scaled = cli.run("scale", "web=3", timeout=30)
        for n in (2, 3):
            assert f"Container {project}-web-{n}  Started" in scaled.stderr
        running = {f"web-{n}": ("running", 0) for n in (1, 2, 3)}
        assert rows(cli) == {"db-1": ("running", 0), **running}
        wait_for(lambda: len(answers(port)) == 3, timeout=10)  # three replicas behind the port
        up.wait_line("web-2  | web up")
        up.wait_line("web-3  | web up")

        stopped = cli.run("stop", "web", timeout=30)
        assert stopped.stderr.count("  Stopped") == 3
        assert rows(cli, "-a") == {
            "db-1": ("running", 0),
            **{f"web-{n}": ("exited", 0) for n in (1, 2, 3)},
        }
        for n in (1, 2, 3):
            up.wait_line(f"web-{n} exited with code 0")
        time.sleep(0.5)
        assert up.proc.poll() is None, f"the foreground up ended with db still running\n{up}"
        assert answers(port, tries=3) == set()

        started = cli.run("start", "web", timeout=30)
        assert started.stderr.count("  Started") == 3
        assert rows(cli) == {"db-1": ("running", 0), **running}  # not scaled back to 1
        for n in (1, 2, 3):
            up.wait_line(f"web-{n}  | web up", times=2)  # followed again after the restart
        wait_for(lambda: len(answers(port)) == 3, timeout=10)

        killed = cli.run("kill", "-s", "TERM", "db")
        assert f"Container {project}-db-1  Killed" in killed.stderr
        up.wait_line("db-1 exited with code 0")
        assert cli.run("logs", "web").stdout.count("web-3  | web up") == 2
        assert up.proc.poll() is None, str(up)
    finally:
        code = up.stop()
    assert code == 130, str(up)
    assert {state for state, _ in rows(cli, "-a").values()} == {"exited"}
    assert "Gracefully Stopping... press Ctrl+C again to force" in " ".join(up.err)


APP = """
services:
  app:
    image: IMAGE
    command: ["sh", "-c", "echo version $$VERSION; trap 'exit 0' TERM; sleep 1000 & wait"]
    environment: {VERSION: "1"}
"""


@pytest.mark.parametrize(
    "extra",
    ["", "    volumes: [data:/data]\nvolumes:\n  data: {}\n"],
    ids=["start-first", "stop-first"],  # a writable volume: the old replica goes first
)
def test_restart_recreate_and_stop_all_through_a_foreground_up(project, tmp_path, extra):
    path = write_stack(tmp_path, APP + extra)
    cli = Cli(project, file=path)
    up = Foreground(cli)
    try:
        up.wait_line("app-1  | version 1", timeout=30)

        restarted = cli.run("restart", timeout=30)
        assert f"Container {project}-app-1  Started" in restarted.stderr
        up.wait_line("app-1  | version 1", times=2)  # the only replica, down for a moment:
        time.sleep(0.5)
        assert up.proc.poll() is None, str(up)  # the foreground up keeps going

        write_stack(tmp_path, APP.replace('"1"', '"2"') + extra)
        applied = cli.run("up", "-d", timeout=60)  # forwarded to the foreground's supervisor
        assert f"Container {project}-app-1  Recreate" in applied.stderr, applied.stderr
        up.wait_line("app-1  | version 2")  # the recreated replica is followed
        assert cli.run("exec", "-T", "app", "sh", "-c", "echo $VERSION").stdout == "2\n"
        assert rows(cli) == {"app-1": ("running", 0)}

        cli.run("stop", timeout=30)
        up.wait_line("app-1 exited with code 0")
        code = up.proc.wait(timeout=15)  # every replica stopped: `up` ends, as docker compose's
    finally:
        up.stop()
    assert code == 0, str(up)
    assert rows(cli, "-a") == {"app-1": ("exited", 0)}


def test_each_exit_of_a_restarting_replica_is_reported(project, tmp_path):
    stack = """
services:
  flaky:
    image: IMAGE
    command: ["sh", "-c", "echo try; exit 3"]
    restart: on-failure:2
  steady:
    image: IMAGE
    command: SLEEP
"""
    cli = Cli(project, file=write_stack(tmp_path, stack))
    up = Foreground(cli)
    try:
        up.wait_line("flaky-1 exited with code 3", times=3, timeout=30)  # first run + 2 restarts
        time.sleep(1.0)
        lines = [x for x in up.out if x.startswith("flaky-1")]
        assert lines == ["flaky-1   | try", "flaky-1 exited with code 3"] * 3, str(up)  # in order
        assert up.proc.poll() is None, str(up)  # steady still runs
    finally:
        assert up.stop() == 130, str(up)


def test_commands_during_the_start_wait_for_it(project, tmp_path):
    """`up` waits for a slow healthcheck: a `scale` from another terminal meanwhile waits for
    the start (it used to wait for the project lock and fail after 30 s)."""
    stack = """
services:
  db:
    image: IMAGE
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3; touch /tmp/ok; sleep 1000 & wait"]
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ok"]
      interval: 0.5s
      start_period: 10s
  web:
    image: IMAGE
    command: ["sh", "-c", "echo web up; trap 'exit 0' TERM; sleep 1000 & wait"]
    depends_on: {db: {condition: service_healthy}}
"""
    cli = Cli(project, file=write_stack(tmp_path, stack))
    up = Foreground(cli)
    try:
        wait_for(lambda: "db-1" in rows(cli), timeout=30)
        assert "web-1" not in rows(cli, "-a")  # still waiting for db to be healthy
        began = time.monotonic()
        scaled = cli.run("scale", "web=2", timeout=60)
        took = time.monotonic() - began
        print(f"scale during the start returned after {took:.1f}s")
        assert took < 15
        assert f"Container {project}-web-2  Started" in scaled.stderr
        assert rows(cli) == {n: ("running", 0) for n in ("db-1", "web-1", "web-2")}
        up.wait_line("web-2  | web up")
    finally:
        assert up.stop() == 130, str(up)
