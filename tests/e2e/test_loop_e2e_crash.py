"""Crash safety: `kill -9` of the supervisor loses no replica and no log line; the next `up`
adopts live replicas (pid + start time) without duplicates and applies restart policies to those
that died meanwhile; `up` killed at random moments, then `up`/`down`, leaks nothing."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time

import pytest
from e2e_helpers import Cli, leaks, supervisors, wait_for, write_stack

pytestmark = [pytest.mark.e2e, pytest.mark.privileged, pytest.mark.serial, pytest.mark.timeout(240)]

TICKER = (
    """["sh", "-c", "trap 'exit 0' TERM; i=0; """
    """while true; do i=$((i+1)); echo tick $i; sleep 0.1; done"]"""
)

STACK = """
services:
  web:
    image: IMAGE
    command: TICKER
    restart: always
    scale: 2
  once:
    image: IMAGE
    command: SLEEP
    restart: "no"
"""


def state_dirs() -> tuple:
    from pathlib import Path

    return Path(os.environ["PYCOMPOSE_STATE_DIR"]), Path(os.environ["PYCOMPOSE_RUN_DIR"])


def records(project: str) -> dict[str, dict]:
    root = state_dirs()[0] / "projects" / project / "replicas"
    out = {}
    for path in root.glob("*.json"):
        with open(path) as handle:
            doc = json.load(handle)
        out[doc["name"]] = doc
    return out


def supervisor_pid(project: str) -> int | None:
    lock = state_dirs()[1] / "projects" / project / "lock"
    try:
        text = lock.read_text().strip()
    except FileNotFoundError:
        return None
    return int(text) if text.isdigit() and os.path.exists(f"/proc/{text}") else None


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_supervisor_kill9_then_up_adopts_and_restarts_the_dead(project, tmp_path):
    path = write_stack(tmp_path, STACK.replace("TICKER", TICKER))
    cli = Cli(project, file=path)
    cli.run("up", "-d")
    wait_for(lambda: all(r["status"] == "running" for r in records(project).values()), 10)
    before = records(project)
    sup = supervisor_pid(project)
    assert sup is not None
    os.kill(sup, signal.SIGKILL)
    wait_for(lambda: not alive(sup), 5)
    lines = cli.run("logs", "web").stdout.count("tick")
    time.sleep(0.5)
    assert cli.run("logs", "web").stdout.count("tick") > lines  # logs go on without it
    assert all(alive(r["pid"]) for r in before.values())  # every replica outlived it

    web2, once = before[f"{project}-web-2"], before[f"{project}-once-1"]
    os.kill(web2["pid"], signal.SIGKILL)  # die while no supervisor runs
    os.kill(once["pid"], signal.SIGKILL)
    wait_for(lambda: not alive(web2["pid"]) and not alive(once["pid"]), 5)

    up = cli.run("up", "-d", "--no-recreate")
    after = records(project)
    assert sorted(after) == sorted(before)  # no duplicates
    web1 = f"{project}-web-1"
    assert (after[web1]["pid"], after[web1]["start_time"]) == (
        before[web1]["pid"],
        before[web1]["start_time"],
    )  # adopted, untouched
    assert f"Container {web1}  Running" in up.stderr.splitlines()[0]  # nothing else of it
    assert [ln for ln in up.stderr.splitlines() if web1 in ln and "Running" not in ln] == []
    wait_for(lambda: records(project)[web2["name"]]["status"] == "running", 10)
    assert records(project)[web2["name"]]["pid"] != web2["pid"]  # restarted by the loop/plan
    ips = sorted(
        next(iter(r["ips"].values())) for r in records(project).values() if r["service"] == "web"
    )
    assert dns(project, "web") == ips  # the new supervisor's DNS knows the adopted replicas


HELD = """
services:
  web:
    image: IMAGE
    command: ["sh", "-c", "echo hi > /tmp/index.html; exec httpd -f -p 8000 -h /tmp"]
"""


def test_a_replica_whose_supervisor_died_while_it_was_held_serves_again_after_up(project, tmp_path):
    """A supervisor killed between a start-first drain and the hand-over leaves the old
    replica running with new connections held (``netplug.hold``, placed here as that drain
    places it): the next `up` adopts it and lifts the hold, else it would drop them for good."""
    import netplug

    cli = Cli(project, file=write_stack(tmp_path, HELD))
    cli.run("up", "-d", "--wait")
    record = records(project)[f"{project}-web-1"]
    ip = next(iter(record["ips"].values()))
    assert connects(ip, 8000)
    sup = supervisor_pid(project)
    assert sup is not None
    os.kill(sup, signal.SIGKILL)
    wait_for(lambda: not alive(sup), 5)
    netplug.hold(record["netns"], [ip])
    assert not connects(ip, 8000)  # held: the connect times out
    cli.run("up", "-d", "--no-recreate")
    assert records(project)[f"{project}-web-1"]["pid"] == record["pid"]  # adopted, untouched
    assert connects(ip, 8000)


def connects(ip: str, port: int) -> bool:
    import socket

    try:
        socket.create_connection((ip, port), timeout=0.5).close()
    except OSError:
        return False
    return True


def dns(project: str, name: str) -> list[str]:
    from dnslib import DNSRecord

    with open(state_dirs()[0] / "projects" / project / "project.json") as handle:
        gateway = json.load(handle)["networks"][0]["gateway"]
    reply = DNSRecord.parse(DNSRecord.question(name).send(gateway, 53, timeout=2))
    return sorted(str(rr.rdata) for rr in reply.rr)


def test_up_killed_at_random_moments_converges_without_leaks(project, tmp_path):
    path = write_stack(
        tmp_path,
        """
services:
  web:
    image: IMAGE
    command: SLEEP
    scale: 2
    ports: ["PORT:80"]
  db:
    image: IMAGE
    command: SLEEP
""".replace("PORT", str(_free_port())),
    )
    cli = Cli(project, file=path)
    state, run = state_dirs()
    seed = int(os.environ.get("LOOP_SEED") or time.time())
    rng = random.Random(seed)
    started = time.monotonic()
    for cycle in range(20):
        began = time.monotonic()
        detached = cycle % 2 == 0
        argv = cli.argv("up", "-d") if detached else cli.argv("up", "--no-color")
        proc = subprocess.Popen(
            argv,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        time.sleep(rng.uniform(0.05, 1.2))
        _kill(proc.pid)
        proc.wait(timeout=10)
        time.sleep(0.1)  # a supervisor forked by the client has exec'd by now
        for pid in supervisors():
            _kill(pid)
        if cycle % 3 == 0:
            cli.run("up", "-d", timeout=60)
            assert len([r for r in records(project).values() if r["status"] == "running"]) == 3
        downed = time.monotonic()
        cli.run("down", "-t", "1", timeout=60)
        downed = time.monotonic() - downed
        found = leaks(project, state, run)
        assert found == [], f"seed {seed} cycle {cycle}: leaked {found}"
        took = time.monotonic() - began
        print(f"seed {seed} cycle {cycle}: {took:.1f}s, of which down {downed:.1f}s")
    print(f"20 kill -9 cycles (seed {seed}) in {time.monotonic() - started:.1f}s")


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
