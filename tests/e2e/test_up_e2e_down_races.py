"""`down` wins (issue 13 item 10): against a supervisor that is still starting (the client that
launched it killed mid-way), and against a one-off being made at the same time. It returns 0
and leaves nothing; it never fails with "another pycompose process is acting on it" and a hint
to run the `down` just run."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
from e2e_helpers import Cli, leaks, supervisors, wait_for, write_stack

pytestmark = [pytest.mark.e2e, pytest.mark.privileged, pytest.mark.timeout(300)]

SLOW_START = """
services:
  db:
    image: IMAGE
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 4; touch /tmp/ok; sleep 1000 & wait"]
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ok"]
      interval: 0.5s
      start_period: 30s
      start_interval: 0.2s
  web:
    image: IMAGE
    command: SLEEP
    depends_on: {db: {condition: service_healthy}}
"""


def dirs() -> tuple[Path, Path]:
    return Path(os.environ["PYCOMPOSE_STATE_DIR"]), Path(os.environ["PYCOMPOSE_RUN_DIR"])


def test_down_wins_over_a_supervisor_still_starting(project, tmp_path):
    cli = Cli(project, file=write_stack(tmp_path, SLOW_START))
    seed = int(os.environ.get("LOOP_SEED") or time.time())
    rng = random.Random(seed)
    for cycle in range(6):
        up = subprocess.Popen(
            cli.argv("up", "-d"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        time.sleep(rng.uniform(0.2, 1.5))
        up.kill()  # the client: its supervisor goes on starting the project
        up.wait(10)
        began = time.monotonic()
        down = cli.run("down", "-t", "1", check=False, timeout=60)
        took = time.monotonic() - began
        where = f"seed {seed} cycle {cycle}"
        assert down.returncode == 0, f"{where}: {down.stdout}{down.stderr}"
        assert "another pycompose process" not in down.stderr
        wait_for(lambda: supervisors() == [], timeout=10)
        assert leaks(project, *dirs()) == [], where
        print(f"{where}: down took {took:.1f}s")


ONE_OFF = """
services:
  web:
    image: IMAGE
    command: ["sh", "-c", "trap '' TERM; sleep 1000 & wait"]
    stop_grace_period: 2s
"""


def test_down_and_a_one_off_made_meanwhile_leave_nothing_half_made(project, tmp_path):
    """The one-off is made before the `down` looks (it removes it too: the run ends), or
    after it (the run works, on a network made again for it, as docker's run would)."""
    cli = Cli(project, file=write_stack(tmp_path, ONE_OFF))
    for cycle in range(3):
        cli.run("up", "-d")
        down = subprocess.Popen(cli.argv("down"), stdout=-1, stderr=-1, text=True)
        time.sleep(0.3 * cycle)
        run = cli.run("run", "--rm", "-T", "web", "echo", "ran", check=False, timeout=60)
        out, err = down.communicate(timeout=60)
        assert down.returncode == 0, f"cycle {cycle}: {out}{err}"
        assert run.returncode in (0, 137), f"cycle {cycle}: {run.stdout}{run.stderr}"
        left = [x for x in leaks(cli.project, *dirs()) if not _network_of(x)]
        assert left == [], f"cycle {cycle} (run exited {run.returncode}): {left}"
        if run.returncode == 0:  # it ran after the down: only its network is left
            assert run.stdout == "ran\n"
        cli.run("down")
    assert leaks(project, *dirs()) == []


def _status(project: str, name: str) -> str | None:
    path = dirs()[0] / "projects" / project / "replicas" / f"{name}.json"
    try:
        return str(json.loads(path.read_text())["status"])
    except (OSError, ValueError):
        return None


def _network_of(leak: str) -> bool:
    """The default network's bridge, nft table and IPAM record (no container's)."""
    return leak.startswith(("link pcb-", "nft table")) or leak.endswith("/network.json")


def test_a_start_cancelled_by_down_says_so(project, tmp_path):
    """`up -d` whose start a `down` cancels (db still short of healthy, web not made yet)
    fails with that reason, not a hang, and leaves nothing."""
    cli = Cli(project, file=write_stack(tmp_path, SLOW_START.replace("sleep 4", "sleep 60")))
    up = subprocess.Popen(cli.argv("up", "-d"), stdout=-1, stderr=-1, text=True)
    wait_for(lambda: _status(project, f"{project}-db-1") == "running", timeout=60)
    cli.run("down", "-t", "1", timeout=60)
    _, err = up.communicate(timeout=30)
    assert up.returncode != 0 and "cancelled: `down` came first" in err, err
    assert err.count("cancelled") == 1  # one error line, no warning repeating it
    assert leaks(project, *dirs()) == []


def test_an_up_whose_supervisor_locks_after_a_down_does_not_start(project, tmp_path):
    """The `up -d` client killed before its supervisor took the project lock, a `down` that
    ran in between (nothing to remove yet): the supervisor, asked before the `down`, ends
    instead of starting the project after it."""
    cli = Cli(project, file=write_stack(tmp_path, SLOW_START))
    holder = subprocess.Popen(  # holds the project lock as a starting supervisor would
        [sys.executable, "-c", HOLD_LOCK, project],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
    up = subprocess.Popen(cli.argv("up", "-d"), stdout=-1, stderr=-1, text=True)
    time.sleep(1.0)  # its supervisor waits for the lock
    down = subprocess.Popen(cli.argv("down", "-t", "1"), stdout=-1, stderr=-1, text=True)
    time.sleep(0.5)  # the down asked, waits for the lock too
    holder.kill()
    holder.wait()
    _, down_err = down.communicate(timeout=60)
    _, up_err = up.communicate(timeout=60)
    assert down.returncode == 0, down_err
    assert up.returncode != 0 and "cancelled: `down` came first" in up_err, up_err
    wait_for(lambda: supervisors() == [], timeout=10)
    assert leaks(project, *dirs()) == []


HOLD_LOCK = """
import sys, time
from compose.state import ProjectLock
lock = ProjectLock(sys.argv[1]).acquire()
print("locked", flush=True)
time.sleep(600)
"""


WITH_ONE_SHOT = """
services:
  migrate:
    image: IMAGE
    command: ["sh", "-c", "echo migrating; sleep 0.5; echo migrated"]
  web:
    image: IMAGE
    command: ["sh", "-c", "trap 'exit 0' TERM; while :; do echo tick; sleep 0.2; done & wait"]
    depends_on: {migrate: {condition: service_completed_successfully}}
"""
ONE_OFFS: list[tuple[str, ...]] = [
    (),
    ("run", "--rm", "-T", "migrate"),
    ("run", "-T", "migrate"),  # kept, exited, until down
    ("run", "-d", "web", "sleep", "1000"),
]


def test_down_v_after_a_killed_logs_f_and_a_one_shot_leaves_nothing(project, tmp_path):
    """Issue 13 item 10's last sentence, as a user does it: `up -d` a stack with a one-shot
    migration, `logs -f` in the background killed by SIGKILL, a one-off of either service,
    `down -v`: it returns 0 and leaves no netns (nsfs mount), veth, cgroup, process, IPAM
    entry or nft table of any container, the one-shot's and the one-offs' included."""
    cli = Cli(project, file=write_stack(tmp_path, WITH_ONE_SHOT))
    for cycle, one_off in enumerate(ONE_OFFS):
        cli.run("up", "-d", "--wait", timeout=120)
        follow = subprocess.Popen(cli.argv("logs", "-f"), stdout=-1, stderr=-1, text=True)
        assert follow.stdout is not None and follow.stdout.readline()  # it follows
        wait_for(lambda: _status(project, f"{project}-web-1") == "running", timeout=30)
        kill_first = cycle % 2 == 0  # every other cycle kills it after the one-off
        for step in ("kill", "one-off") if kill_first else ("one-off", "kill"):
            if step == "kill":
                follow.kill()
                follow.wait(10)
            elif one_off:
                cli.run(*one_off, timeout=60)
        made = _containers(project)
        assert any("migrate" in name for name in made), made
        down = cli.run("down", "-v", check=False, timeout=60)
        where = f"cycle {cycle} ({' '.join(one_off) or 'no one-off'})"
        assert down.returncode == 0, f"{where}: {down.stdout}{down.stderr}"
        wait_for(lambda: supervisors() == [], timeout=10)
        assert leaks(project, *dirs()) == [], where
        assert _nsfs_mounts(project) == [] and _veths(made) == [], f"{where}: {made}"


def test_down_v_racing_a_one_shot_and_a_killed_logs_f_leaves_nothing(project, tmp_path):
    """The same without waiting: `up -d` returns while the migration runs, `logs -f` is killed
    and a foreground `run --rm` of the one-shot started at random moments, and `down -v` comes
    while the one-shot (or the one-off) may still be running or ending."""
    cli = Cli(project, file=write_stack(tmp_path, WITH_ONE_SHOT))
    seed = int(os.environ.get("LOOP_SEED") or time.time())
    rng = random.Random(seed)
    for cycle in range(3):
        where = f"seed {seed} cycle {cycle}"
        cli.run("up", "-d", timeout=120)
        follow = subprocess.Popen(cli.argv("logs", "-f"), stdout=-1, stderr=-1, text=True)
        run = subprocess.Popen(cli.argv("run", "--rm", "-T", "migrate"), stdout=-1, stderr=-1)
        time.sleep(rng.uniform(0.0, 1.5))
        follow.kill()
        follow.wait(10)
        time.sleep(rng.uniform(0.0, 1.0))
        made = _containers(project)
        down = cli.run("down", "-v", "-t", "1", check=False, timeout=60)
        run.communicate(timeout=60)
        made |= _containers(project)  # a one-off made after the down looked: down again
        assert down.returncode == 0, f"{where}: {down.stdout}{down.stderr}"
        cli.run("down", "-v", "-t", "1", timeout=60)
        wait_for(lambda: supervisors() == [], timeout=10)
        assert leaks(project, *dirs()) == [], where
        assert _nsfs_mounts(project) == [] and _veths(made) == [], f"{where}: {made}"
        print(f"{where}: run exited {run.returncode}")


def _containers(project: str) -> dict[str, dict]:
    """The replica records there are now (a `run --rm` ending meanwhile removes its own)."""
    from compose.state.store import read_json

    root = dirs()[0] / "projects" / project / "replicas"
    found = {p.stem: read_json(p) for p in root.glob("*.json")}
    return {name: record for name, record in found.items() if record is not None}


def _nsfs_mounts(project: str) -> list[str]:
    return [line for line in Path("/proc/mounts").read_text().splitlines() if project in line]


def _veths(made: dict[str, dict]) -> list[str]:
    """Host ends of the containers' veths still on the machine."""
    from netplug.naming import veth_name

    present = set(os.listdir("/sys/class/net"))
    wanted = {
        veth_name(str(doc["project"]), str(doc["ident"]), network)
        for doc in made.values()
        for network in doc.get("ips", {})
    }
    return sorted(wanted & present)
