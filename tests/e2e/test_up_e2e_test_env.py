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
