"""The everyday commands on a running, a stopped and a half-started project."""

from __future__ import annotations

import json
import time

import pytest
from e2e_helpers import Cli, wait_for, write_stack

pytestmark = [pytest.mark.e2e, pytest.mark.privileged, pytest.mark.timeout(240)]

STACK = """
services:
  a:
    image: IMAGE
    command: ["sh", "-c", "echo a-started; trap 'exit 0' TERM; sleep 1000 & wait"]
    environment: {GREETING: hi}
    ports: ["PORT:80"]
  b:
    image: IMAGE
    command: SLEEP
    depends_on: [a]
"""


def rows(cli: Cli, *flags: str) -> dict[str, dict]:
    out = cli.run("ps", "--format", "json", *flags).stdout.splitlines()
    return {json.loads(x)["Service"]: json.loads(x) for x in out}


@pytest.fixture
def running(project, tmp_path):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cli = Cli(project, file=write_stack(tmp_path, STACK.replace("PORT", str(port))))
    cli.run("up", "-d")
    cli.port = port  # type: ignore[attr-defined]
    return cli


def test_exec_logs_port_top_cp_events(running, tmp_path):
    cli = running
    assert (
        cli.run(
            "exec", "-T", "-e", "X=1", "-w", "/tmp", "a", "sh", "-c", "echo $GREETING $X $(pwd)"
        ).stdout
        == "hi 1 /tmp\n"
    )
    assert cli.run("exec", "-T", "a", "sh", "-c", "exit 5", check=False).returncode == 5
    assert "a-started" in wait_for(lambda: cli.run("logs", "--no-log-prefix", "a").stdout)
    assert cli.run("logs", "a").stdout.startswith("a-1")
    assert cli.run("port", "a", "80").stdout.strip() == f"0.0.0.0:{cli.port}"
    assert "sleep" in cli.run("top", "b").stdout
    src = tmp_path / "in.txt"
    src.write_text("copied\n")
    cli.run("cp", str(src), "a:/tmp/in.txt")
    assert cli.run("exec", "-T", "a", "cat", "/tmp/in.txt").stdout == "copied\n"
    cli.run("cp", "a:/etc/hostname", str(tmp_path / "hostname"))
    assert (tmp_path / "hostname").read_text().strip()
    events = cli.run("events", "--json", "--since", "0", "--until", str(time.time() + 0.3)).stdout
    actions = {(json.loads(x)["service"], json.loads(x)["action"]) for x in events.splitlines()}
    assert {("a", "start"), ("b", "start")} <= actions
    listed = json.loads(cli.run("ls", "--format", "json").stdout)
    assert [p["Status"] for p in listed if p["Name"] == cli.project] == ["running(2)"]


def test_stop_start_restart_kill_pause_rm(running):
    cli = running
    cli.run("stop", "-t", "1", "b")
    assert rows(cli, "-a")["b"]["State"] == "exited" and "b" not in rows(cli)
    time.sleep(0.5)
    assert rows(cli, "-a")["b"]["State"] == "exited"  # a manual stop is never restarted
    cli.run("start", "b")
    assert rows(cli)["b"]["State"] == "running"
    before = rows(cli)["a"]["Status"]
    cli.run("restart", "-t", "1", "a")
    assert rows(cli)["a"]["State"] == "running" and before
    cli.run("pause", "a")
    assert rows(cli)["a"]["State"] == "paused"
    cli.run("unpause", "a")
    assert rows(cli)["a"]["State"] == "running"
    cli.run("kill", "-s", "KILL", "b")
    wait_for(lambda: rows(cli, "-a")["b"]["State"] == "exited")
    assert rows(cli, "-a")["b"]["ExitCode"] == 137
    cli.run("rm", "-f", "b")
    assert "b" not in rows(cli, "-a")


def test_run_wait_create_and_a_stopped_project(running):
    cli = running
    proc = cli.run("run", "--rm", "--no-deps", "b", "sh", "-c", "echo one-off; exit 3", check=False)
    assert proc.returncode == 3 and "one-off" in proc.stdout
    assert all("-run-" not in r["Name"] for r in rows(cli, "-a").values())
    cli.run("stop", "-t", "1")
    assert rows(cli) == {} and set(rows(cli, "-a")) == {"a", "b"}
    assert "a-started" in cli.run("logs", "a").stdout  # logs survive a stop
    waited = cli.run("wait", "a", check=False)  # docker's: none of a's containers runs
    assert waited.returncode == 1 and "no containers for project" in waited.stderr
    cli.run("down", "-t", "1")
    assert rows(cli, "-a") == {}
    cli.run("create")
    assert {r["State"] for r in rows(cli, "-a").values()} == {"created"}
    cli.run("start")
    assert {r["State"] for r in rows(cli).values()} == {"running"}


def test_half_started_project(project, tmp_path):
    body = (
        STACK.replace('"PORT:80"', '"0:80"')
        + """  broken:
    image: IMAGE
    command: ["no-such-binary"]
  after:
    image: IMAGE
    command: SLEEP
    depends_on: [broken]
"""
    )
    cli = Cli(project, file=write_stack(tmp_path, body))
    proc = cli.run("up", "-d", check=False)
    assert proc.returncode == 1
    assert 'service "broken" replica 1' in proc.stderr and "no-such-binary" in proc.stderr
    assert 'service "after" not started' in proc.stderr
    assert set(rows(cli)) == {"a", "b"}
    assert cli.run("exec", "-T", "a", "true").returncode == 0
    cli.run("down", "-t", "1")
    assert rows(cli, "-a") == {}
