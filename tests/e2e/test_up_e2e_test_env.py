"""examples/stacks/test-env: a one-shot migration gates the tests; the tests' exit code is
`up --exit-code-from tests`'s; a failing migration is reported and the tests never start."""

from __future__ import annotations

import pytest
from e2e_helpers import Cli

pytestmark = [pytest.mark.e2e, pytest.mark.privileged, pytest.mark.timeout(240)]


def test_tests_pass_and_exit_code_is_theirs(project):
    cli = Cli(project, "test-env")
    ok = cli.run("up", "--exit-code-from", "tests", "--no-color")
    assert "migrated to schema 3" in ok.stdout and "tests passed" in ok.stdout
    failed = cli.run(
        "up", "--exit-code-from", "tests", "--no-color", check=False, env={"EXPECT_SCHEMA": "9"}
    )
    assert failed.returncode == 1, failed.stderr
    assert "schema=3" in failed.stdout


def test_failing_migration_stops_everything_and_is_reported(project):
    cli = Cli(project, "test-env", env={"MIGRATE_EXIT": "3"})
    proc = cli.run("up", "--exit-code-from", "tests", "--no-color", check=False)
    assert proc.returncode == 1
    assert "didn't complete successfully: exit 3" in proc.stderr
    assert 'service "tests" not started' in proc.stderr
    rows = cli.run("ps", "-a", "--format", "json").stdout
    assert '"Service": "tests"' not in rows
    assert cli.run("ps", "-q").stdout == ""  # the foreground up stopped the database too


def test_wait_and_exit_code_from_work_together(project):
    """`up --wait --exit-code-from tests` (docker compose refuses the pair): the database's
    health is waited for, the migration's exit 0 stops nothing, the tests' code is returned."""
    cli = Cli(project, "test-env")
    ok = cli.run("up", "--wait", "--exit-code-from", "tests", "--no-color")
    assert "tests passed" in ok.stdout
    failed = cli.run(
        "up", "--wait", "--exit-code-from", "tests", "--no-color", check=False,
        env={"EXPECT_SCHEMA": "9"},
    )  # fmt: skip
    assert failed.returncode == 1, failed.stderr


def test_an_interrupted_up_returns_128_plus_the_signal(project):
    """A SIGTERM as soon as the foreground shows the logs is the foreground's (its handler is
    in place before the first log line): a clean stop and 143, never the signal's default
    action (-15: CI saw it once, the signal arriving as the foreground began to follow)."""
    import signal
    import subprocess

    cli = Cli(project, "test-env")
    proc = subprocess.Popen(
        cli.argv("up", "--no-color"), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith("Attaching to")  # the foreground follows
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 128 + signal.SIGTERM  # never 0 (docker compose: 0)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


SLOW_START = """
services:
  db:
    image: IMAGE
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 60; touch /tmp/ok; sleep 1000 & wait"]
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ok"]
      interval: 0.5s
      start_period: 90s
  web:
    image: IMAGE
    command: SLEEP
    depends_on: {db: {condition: service_healthy}}
"""


@pytest.mark.parametrize("signum", ["SIGTERM", "SIGINT"])
def test_a_signal_while_up_starts_stops_what_it_started(project, tmp_path, signum):
    """Ctrl-C or SIGTERM while the foreground `up` still starts the project (db running, not
    yet healthy; web waits for it): the start is cancelled, db is stopped, `up` returns 128 +
    the signal (docker compose stops what it started too), no container left running."""
    import json
    import os
    import signal
    import subprocess
    from pathlib import Path

    from e2e_helpers import wait_for, write_stack

    cli = Cli(project, file=write_stack(tmp_path, SLOW_START))
    proc = subprocess.Popen(
        cli.argv("up", "--no-color"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    record = Path(os.environ["PYCOMPOSE_STATE_DIR"], "projects", project, "replicas")
    db = record / f"{project}-db-1.json"

    def status() -> str | None:
        try:
            return str(json.loads(db.read_text())["status"])
        except (OSError, ValueError, KeyError):
            return None

    try:
        wait_for(lambda: status() == "running", timeout=60)
        sig = getattr(signal, signum)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 128 + sig, err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert cli.run("ps", "-q").stdout == "", err  # nothing left running
    assert status() != "running"
    assert not (record / f"{project}-web-1.json").exists()  # never made
