"""depends_on conditions on real containers: optional failing dependency (warning), a dependency
that never becomes healthy (failure, dependent not started), named-volume copy-up and nocopy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from e2e_helpers import Cli, write_stack

pytestmark = [pytest.mark.e2e, pytest.mark.privileged, pytest.mark.timeout(180)]


def write(tmp_path: Path, body: str) -> Path:
    return write_stack(tmp_path, body)


def cli_for(project: str, path: Path) -> Cli:
    return Cli(project, file=path)


def states(cli: Cli) -> dict[str, str]:
    rows = [json.loads(x) for x in cli.run("ps", "-a", "--format", "json").stdout.splitlines()]
    return {r["Service"]: r["State"] for r in rows}


def test_optional_failing_dependency_only_warns(project, tmp_path):
    path = write(
        tmp_path,
        """
services:
  opt:
    image: IMAGE
    command: ["sh", "-c", "exit 4"]
  app:
    image: IMAGE
    command: SLEEP
    depends_on:
      opt: {condition: service_completed_successfully, required: false}
""",
    )
    cli = cli_for(project, path)
    proc = cli.run("up", "-d")
    assert 'optional dependency "opt"' in proc.stderr and "exit 4" in proc.stderr
    assert states(cli) == {"app": "running", "opt": "exited"}


def test_never_healthy_dependency_fails_and_blocks_dependent(project, tmp_path):
    path = write(
        tmp_path,
        """
services:
  db:
    image: IMAGE
    command: SLEEP
    healthcheck: {test: ["CMD", "false"], interval: 200ms, timeout: 1s, retries: 2}
  app:
    image: IMAGE
    command: SLEEP
    depends_on:
      db: {condition: service_healthy}
""",
    )
    cli = cli_for(project, path)
    proc = cli.run("up", "-d", check=False)
    assert proc.returncode == 1
    assert f"container {project}-db-1 is unhealthy" in proc.stderr
    assert 'service "app" not started' in proc.stderr
    assert states(cli) == {"db": "running"}
    rows = [json.loads(x) for x in cli.run("ps", "--format", "json").stdout.splitlines()]
    assert rows[0]["Health"] == "unhealthy"


def test_named_volume_copy_up_nocopy_and_persistence(project, tmp_path, isolated_dirs):
    path = write(
        tmp_path,
        """
services:
  app:
    image: IMAGE
    command: SLEEP
    volumes:
      - conf:/etc
  bare:
    image: IMAGE
    command: SLEEP
    volumes:
      - type: volume
        source: bare
        target: /etc
        volume: {nocopy: true}
volumes:
  conf:
  bare:
""",
    )
    cli = cli_for(project, path)
    cli.run("up", "-d")
    volumes = isolated_dirs / "state" / "volumes"
    conf = volumes / f"{project}_conf" / "_data"
    assert "root:" in (conf / "passwd").read_text()  # copied up from the image's /etc
    assert not (volumes / f"{project}_bare" / "_data" / "passwd").exists()  # nocopy
    cli.run("exec", "-T", "app", "sh", "-c", "echo kept > /etc/marker")
    cli.run("up", "-d", "--force-recreate")
    assert cli.run("exec", "-T", "app", "cat", "/etc/marker").stdout == "kept\n"
    cli.run("down", "-t", "1")
    assert (conf / "marker").exists()


def test_binds_secrets_configs_tmpfs_read_only_and_volumes_from(project, tmp_path):
    (tmp_path / "token.txt").write_text("s3cret\n")
    (tmp_path / "app.conf").write_text("level=debug\n")
    path = write(
        tmp_path,
        """
services:
  app:
    image: IMAGE
    command: SLEEP
    read_only: true
    volumes:
      - ./src:/src
      - shared:/shared
    tmpfs: ["/scratch:size=1m"]
    secrets: [token]
    configs:
      - source: conf
        target: /etc/app.conf
  side:
    image: IMAGE
    command: SLEEP
    volumes_from: ["app:ro"]
volumes:
  shared:
secrets:
  token: {file: ./token.txt}
configs:
  conf: {file: ./app.conf}
""",
    )
    cli = cli_for(project, path)
    cli.run("up", "-d")
    assert (tmp_path / "src").is_dir()  # missing bind source created
    sh = ["exec", "-T", "app", "sh", "-c"]
    assert cli.run(*sh, "cat /run/secrets/token /etc/app.conf").stdout == "s3cret\nlevel=debug\n"
    assert cli.run(*sh, "echo hi > /src/f && cat /src/f").stdout == "hi\n"
    assert (tmp_path / "src" / "f").read_text() == "hi\n"
    assert cli.run(*sh, "touch /not-here", check=False).returncode != 0  # read_only root
    assert "tmpfs" in cli.run(*sh, "grep ' /scratch ' /proc/mounts").stdout
    assert cli.run(*sh, "echo x > /run/secrets/token", check=False).returncode != 0
    cli.run(*sh, "echo from-app > /shared/note")
    side = ["exec", "-T", "side", "sh", "-c"]
    assert cli.run(*side, "cat /shared/note").stdout == "from-app\n"
    assert cli.run(*side, "echo y > /shared/other", check=False).returncode != 0  # :ro
