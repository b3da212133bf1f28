"""The supervisor process model: foreground up streams prefixed logs and stops gracefully on
Ctrl-C; restart policies restart exited replicas; a killed detached supervisor is replaced by
the next `up -d`, which adopts the live replicas instead of duplicating them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest
from e2e_helpers import Cli, wait_for, write_stack

pytestmark = [pytest.mark.e2e, pytest.mark.privileged, pytest.mark.timeout(180)]


def rows(cli: Cli, *flags: str) -> dict[str, dict]:
    out = cli.run("ps", "--format", "json", *flags).stdout.splitlines()
    return {json.loads(x)["Name"]: json.loads(x) for x in out}


def test_foreground_up_streams_logs_and_stops_on_ctrl_c(project, tmp_path):
    path = write_stack(
        tmp_path,
        """
services:
  db:
    image: IMAGE
    command: ["sh", "-c", "echo db ready; trap 'echo db bye; exit 0' TERM; sleep 1000 & wait"]
  web:
    image: IMAGE
    command: ["sh", "-c", "echo web ready; trap 'exit 0' TERM; sleep 1000 & wait"]
    depends_on: [db]
""",
    )
    cli = Cli(project, file=path)
    proc = subprocess.Popen(
        cli.argv("up", "--no-color"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    wait_for(lambda: len(rows(cli)) == 2, timeout=30)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "db-1   | db ready" in out and "web-1  | web ready" in out
    assert "db-1   | db bye" in out  # stopped with its stop signal, not killed
    assert "Gracefully Stopping" in err
    assert err.index(f"Container {project}-web-1  Stop") < err.index(
        f"Container {project}-db-1  Stop"
    )
    states = {r["Service"]: (r["State"], r["ExitCode"]) for r in rows(cli, "-a").values()}
    assert states == {"db": ("exited", 0), "web": ("exited", 0)}


def test_restart_policy_restarts_failures_up_to_the_limit(project, tmp_path):
    path = write_stack(
        tmp_path,
        """
services:
  flaky:
    image: IMAGE
    command: ["sh", "-c", "echo run; exit 3"]
    restart: on-failure:2
  steady:
    image: IMAGE
    command: SLEEP
    restart: always
""",
    )
    cli = Cli(project, file=path)
    cli.run("up", "-d")
    logs = wait_for(lambda: (s := cli.run("logs", "flaky").stdout).count("run") >= 3 and s, 20)
    time.sleep(1.0)
    assert cli.run("logs", "flaky").stdout.count("run") == 3  # first run + 2 restarts
    flaky = rows(cli, "-a")[f"{project}-flaky-1"]
    assert (flaky["State"], flaky["ExitCode"]) == ("exited", 3)
    assert logs
    events = cli.run("events", "--json", "--since", "0", "--until", str(time.time())).stdout
    assert sum(1 for x in events.splitlines() if json.loads(x)["action"] == "restart") == 2


def test_killed_supervisor_is_replaced_and_replicas_adopted(project, tmp_path):
    path = write_stack(
        tmp_path,
        """
services:
  app:
    image: IMAGE
    command: SLEEP
""",
    )
    cli = Cli(project, file=path)
    cli.run("up", "-d")
    before = rows(cli)[f"{project}-app-1"]
    sup = [p for p in os.listdir("/proc") if p.isdigit() and _is_supervisor(int(p), project)]
    assert len(sup) == 1
    os.kill(int(sup[0]), signal.SIGKILL)
    time.sleep(0.3)
    assert rows(cli)[f"{project}-app-1"]["State"] == "running"  # replicas outlive it
    proc = cli.run("up", "-d")
    assert _changes(proc.stderr) == []  # adopted: nothing created or started again
    after = rows(cli)
    assert list(after) == [f"{project}-app-1"] and after[f"{project}-app-1"]["ID"] == before["ID"]


def _is_supervisor(pid: int, project: str) -> bool:
    try:
        cmd = open(f"/proc/{pid}/cmdline", "rb").read()
        env = open(f"/proc/{pid}/environ", "rb").read()
    except OSError:
        return False
    return b"compose.supervisor" in cmd and os.environ["PYCOMPOSE_STATE_DIR"].encode() in env


def test_second_ctrl_c_kills_at_once(project, tmp_path):
    path = write_stack(
        tmp_path,
        """
services:
  stubborn:
    image: IMAGE
    command: ["sh", "-c", "echo up; sleep 1000"]
    stop_grace_period: 60s
""",
    )
    cli = Cli(project, file=path)
    proc = subprocess.Popen(
        cli.argv("up", "--no-color"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    wait_for(lambda: len(rows(cli)) == 1, timeout=30)
    proc.send_signal(signal.SIGINT)
    time.sleep(1.0)  # PID 1 ignores SIGTERM: the graceful stop would wait 60 s
    start = time.monotonic()
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=30)
    assert time.monotonic() - start < 10
    state = rows(cli, "-a")[f"{project}-stubborn-1"]
    assert (state["State"], state["ExitCode"]) == ("exited", 137)


def test_up_again_recreates_only_the_changed_service(project, tmp_path):
    body = """
services:
  db:
    image: IMAGE
    command: SLEEP
  web:
    image: IMAGE
    command: SLEEP
    environment: {VERSION: "1"}
    depends_on: [db]
"""
    cli = Cli(project, file=write_stack(tmp_path, body))
    cli.run("up", "-d")
    before = {r["Service"]: r["ID"] for r in rows(cli).values()}
    assert _changes(cli.run("up", "-d").stderr) == []  # unchanged: only `Running` lines
    write_stack(tmp_path, body.replace('VERSION: "1"', 'VERSION: "2"'))
    proc = cli.run("up", "-d")
    assert f"Container {project}-web-1  Recreate" in proc.stderr
    assert [ln for ln in _changes(proc.stderr) if f"{project}-db-1" in ln] == []  # `Running`
    after = {r["Service"]: r["ID"] for r in rows(cli).values()}
    assert after["db"] == before["db"]
    env = cli.run("exec", "-T", "web", "sh", "-c", "echo $VERSION").stdout
    assert env == "2\n"


def _changes(progress: str) -> list[str]:
    """The progress lines that say something was done (not docker's `Running`)."""
    return [ln for ln in progress.splitlines() if "Container" in ln and "Running" not in ln]
