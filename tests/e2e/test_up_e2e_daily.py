"""Daily use as docker compose users type it: the real CLI, its output and `$?` (issue 15).

Exit codes, flags from habit, true progress, commands that end, attach, and the status
commands (ps/ls JSON, top, stats, cp, version, events)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from datetime import UTC, datetime

import pytest
from e2e_helpers import Cli, in_pty, wait_for, write_stack

pytestmark = [pytest.mark.e2e, pytest.mark.privileged, pytest.mark.timeout(300)]

EXITS = """
services:
  web:
    image: IMAGE
    command: SLEEP
  fail:
    image: IMAGE
    command: ["sh", "-c", "sleep 0.5; echo failing; exit 3"]
"""

DEPS = """
services:
  init:
    image: IMAGE
    command: ["sh", "-c", "echo init"]
  db:
    image: IMAGE
    command: SLEEP
    healthcheck: {test: ["CMD", "true"], interval: 1s}
  app:
    image: IMAGE
    command: SLEEP
    depends_on:
      init: {condition: service_completed_successfully}
      db: {condition: service_healthy}
"""

CRASH = """
services:
  crash:
    image: IMAGE
    command: ["sh", "-c", "echo crashing; exit 3"]
    restart: always
  web:
    image: IMAGE
    command: SLEEP
"""

ECHO = """
services:
  echo:
    image: IMAGE
    stdin_open: true
    command: ["sh", "-c", "trap 'exit 7' TERM; while read l; do echo got:$$l; done"]
"""


def ps(cli: Cli, *flags: str) -> list[dict]:
    return [json.loads(x) for x in cli.run("ps", "--format", "json", *flags).stdout.splitlines()]


def plain(cli: Cli, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return cli.run("--progress", "plain", *args, check=check)


# exit codes CI can trust -------------------------------------------------------------------
def test_abort_flags_return_the_failing_containers_code(project, tmp_path):
    cli = Cli(project, file=write_stack(tmp_path, EXITS))
    aborted = plain(cli, "up", "--abort-on-container-exit", check=False)
    assert aborted.returncode == 3, aborted.stderr
    assert "fail-1 exited with code 3" in aborted.stdout
    assert "Aborting on container exit..." in aborted.stderr
    assert "Attaching to fail-1, web-1" in aborted.stdout
    failed = plain(cli, "up", "--abort-on-container-failure", check=False)
    assert failed.returncode == 3, failed.stderr
    target = plain(cli, "up", "--exit-code-from", "fail", check=False)
    assert target.returncode == 3


def test_wait_returns_the_containers_code_and_usage_errors_are_1(project, tmp_path):
    # `wait` waits for running containers only (docker compose's too: one that has exited says
    # "no containers for project", exit 1), so fail must outlive `up -d` and wait's start-up
    # even on a loaded machine: a 0.5 s life failed so under a CPU hog
    cli = Cli(project, file=write_stack(tmp_path, EXITS.replace("sleep 0.5", "sleep 3")))
    cli.run("up", "-d")
    waited = cli.run("wait", "fail", check=False)
    assert waited.returncode == 3
    assert waited.stdout.startswith('container "') and "exited with status code 3" in waited.stdout
    for argv in (["up", "--bogus"], ["exec"], ["up", "--scale", "bad"], ["nope"]):
        assert cli.run(*argv, check=False).returncode == 1, argv
    for verb in ("ps", "logs", "stop", "kill", "top", "restart", "events"):
        unknown = cli.run(verb, "nosuch", check=False, timeout=30)
        assert unknown.returncode == 1 and 'no such service: "nosuch"' in unknown.stderr, verb


# true progress --------------------------------------------------------------------------------
def test_up_says_only_what_it_does(project, tmp_path):
    cli = Cli(project, file=write_stack(tmp_path, DEPS))
    first = plain(cli, "up", "-d").stderr.splitlines()
    assert f" Network {project}_default  Created" in first
    assert f" Container {project}-db-1  Healthy" in first
    assert f" Container {project}-init-1  Exited" in first
    assert first.index(f" Container {project}-app-1  Starting") > first.index(
        f" Container {project}-db-1  Healthy"
    )
    again = plain(cli, "up", "-d").stderr.splitlines()
    assert f" Container {project}-db-1  Running" in again
    assert f" Container {project}-app-1  Running" in again
    assert not [ln for ln in again if "Network" in ln or "Creat" in ln]
    recreated = plain(cli, "up", "-d", "--force-recreate", "app").stderr.splitlines()
    assert f" Container {project}-app-1  Recreated" in recreated
    assert f" Container {project}-db-1  Running" in recreated  # its dependency is kept
    events = cli.run("--progress", "json", "up", "-d").stderr.splitlines()
    docs = [json.loads(line) for line in events]
    assert {"id": f"Container {project}-db-1", "status": "Running"} in docs
    dry = cli.run("--dry-run", "up", "-d", "--force-recreate").stdout
    assert "Recreate" in dry and "Recreated" not in dry and "Created" not in dry
    assert cli.run("--dry-run", "stop", check=False).returncode == 1  # refuses, never acts


# commands that end ------------------------------------------------------------------------------
def test_logs_follow_ends_when_the_followed_containers_exit(project, tmp_path):
    cli = Cli(project, file=write_stack(tmp_path, EXITS))
    cli.run("up", "-d")
    start = time.monotonic()
    followed = cli.run("logs", "-f", "fail", timeout=30)
    assert "failing" in followed.stdout and "fail-1 exited with code 3" in followed.stdout
    assert time.monotonic() - start < 15
    cli.run("stop", "-t", "1", "web")
    whole = cli.run("logs", "-f", timeout=30)  # nothing runs: it ends at once
    assert "fail-1 exited with code 3" in whole.stdout


def test_logs_follow_keeps_going_while_a_replica_restarts(project, tmp_path):
    cli = Cli(project, file=write_stack(tmp_path, CRASH))
    cli.run("up", "-d")
    rows = wait_for(lambda: [r for r in ps(cli) if r["State"] == "restarting"], timeout=30)
    assert rows[0]["Status"].startswith("Restarting (3) ")  # listed without -a, as docker
    with pytest.raises(subprocess.TimeoutExpired):
        subprocess.run(cli.argv("logs", "-f", "crash"), capture_output=True, timeout=3)

    def status() -> str:  # the crash replica runs for a moment between its restarts
        listed = json.loads(cli.run("ls", "--format", "json").stdout)
        return next((p["Status"] for p in listed if p["Name"] == project), "")

    assert wait_for(lambda: status() == "restarting(1), running(1)", timeout=15)


# attach -----------------------------------------------------------------------------------------
def test_foreground_up_attaches_to_a_running_project(project, tmp_path):
    cli = Cli(project, file=write_stack(tmp_path, EXITS))
    cli.run("up", "-d")
    env = {**os.environ, **cli.env}
    proc = subprocess.Popen(
        cli.argv("--progress", "plain", "up"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.stdout is not None
    seen = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any("Attaching to" in s for s in seen):
        seen.append(proc.stdout.readline())
    time.sleep(1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Gracefully Stopping... press Ctrl+C again to force" in err
    assert f" Container {project}-web-1  Stopped" in err
    assert {r["Service"]: r["State"] for r in ps(cli, "-a")}["web"] == "exited"


def test_attach_relays_stdin_and_returns_the_exit_code(project, tmp_path):
    cli = Cli(project, file=write_stack(tmp_path, ECHO))
    cli.run("up", "-d")
    env = {**os.environ, **cli.env}
    proc = subprocess.Popen(
        cli.argv("attach", "echo"), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    assert proc.stdin is not None and proc.stdout is not None
    time.sleep(1)
    proc.stdin.write("hello\n")
    proc.stdin.flush()
    assert wait_for(lambda: proc.stdout.readline().strip() == "got:hello", timeout=30)
    proc.send_signal(signal.SIGTERM)  # --sig-proxy: the container's PID 1 gets it
    assert proc.wait(timeout=30) == 7


def test_exec_it_sets_term_and_the_terminal_size(project, tmp_path):
    cli = Cli(project, file=write_stack(tmp_path, EXITS))
    cli.run("up", "-d", "web")
    argv = cli.argv("exec", "-it", "web", "sh", "-c", 'echo "T=$TERM"; stty size; exit 4')
    out, code = in_pty(argv, "", b"", size=(33, 111))
    assert code == 4 and "T=xterm" in out and "33 111" in out, out
    run = cli.argv("run", "--rm", "-it", "web", "sh", "-c", 'echo "T=$TERM"; stty size')
    out, code = in_pty(run, "", b"", size=(21, 99))
    assert code == 0 and "T=xterm" in out and "21 99" in out, out


# flags from habit -----------------------------------------------------------------------------
def test_run_flags_from_habit(project, tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "in.txt").write_text("mounted\n")
    cli = Cli(project, file=write_stack(tmp_path, EXITS))
    done = cli.run(
        "run", "--rm", "-T", "-v", f"{tmp_path / 'data'}:/data", "-l", "team=core",
        "--cap-drop", "CHOWN", "--pull", "missing", "-q", "web",
        "sh", "-c", "cat /data/in.txt; chown nobody /data/in.txt || echo no-chown",
    )  # fmt: skip
    assert done.stdout == "mounted\nno-chown\n", done.stderr


def test_down_a_service_create_scale_and_ps_flags(project, tmp_path):
    cli = Cli(project, file=write_stack(tmp_path, EXITS))
    cli.run("create", "--scale", "web=2")
    assert sorted(r["Name"] for r in ps(cli, "-a")) == [
        f"{project}-fail-1", f"{project}-web-1", f"{project}-web-2",
    ]  # fmt: skip
    cli.run("start")
    cli.run("down", "-t", "1", "web")
    assert {r["Service"] for r in ps(cli, "-a")} == {"fail"}
    ids = cli.run("ps", "-a", "-q").stdout.split()
    assert len(ids) == 1 and len(ids[0]) == 64
    (row,) = ps(cli, "-a")
    assert ids[0].startswith(row["ID"]) and len(row["ID"]) == 12
    types = {k: type(v).__name__ for k, v in row.items()}
    strings = ("Command CreatedAt Health ID Image Labels LocalVolumes Mounts Name Names Networks "
               "Ports Project RunningFor Service Size State Status").split()  # fmt: skip
    assert types == {**dict.fromkeys(strings, "str"), "ExitCode": "int", "Publishers": "list"}
    version = json.loads(cli.run("version", "--format", "json").stdout)
    assert set(version) == {"version"}


# status where users look ------------------------------------------------------------------
def test_top_stats_cp_and_events_since(project, tmp_path):
    cli = Cli(project, file=write_stack(tmp_path, EXITS))
    since = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    cli.run("up", "-d", "web")
    top = cli.run("top").stdout.splitlines()
    assert top[0].split() == ["SERVICE", "#", "UID", "PID", "PPID", "C", "STIME", "TTY", "TIME",
                              "CMD"]  # fmt: skip
    assert top[1].split()[:3] == ["web", "1", "root"]
    streamed = cli.run("stats", "--no-stream", "--format", "json").stdout.splitlines()
    (stats,) = [json.loads(x) for x in streamed]
    assert set(stats) == {"BlockIO", "CPUPerc", "Container", "ID", "MemPerc", "MemUsage", "Name",
                          "NetIO", "PIDs"}  # fmt: skip
    assert stats["Name"] == f"{project}-web-1" and int(stats["PIDs"]) >= 1
    assert stats["CPUPerc"].endswith("%") and " / " in stats["MemUsage"]
    table = cli.run("stats", "--no-stream").stdout.splitlines()
    assert table[0].startswith("CONTAINER ID   NAME")
    src = tmp_path / "f.txt"
    src.write_text("x\n")
    copied = cli.run("--progress", "plain", "cp", str(src), "web:/tmp/f.txt")
    assert f" {project}-web-1 copy {src} to {project}-web-1:/tmp/f.txt  Copied" in copied.stderr
    until = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    events = cli.run("events", "--json", "--since", since, "--until", until).stdout.splitlines()
    assert ("start", "web") in {(json.loads(e)["action"], json.loads(e)["service"]) for e in events}
