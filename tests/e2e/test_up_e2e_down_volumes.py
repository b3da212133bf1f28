"""`down` stops dependents first and keeps volumes (named and anonymous); `-v` removes them;
`rm` keeps a container's anonymous volumes, `rm -v` removes them (docker compose)."""

from __future__ import annotations

import pytest
from e2e_helpers import Cli, write_stack

from compose import paths
from compose.volumes import anonymous_volume

pytestmark = [pytest.mark.e2e, pytest.mark.privileged, pytest.mark.timeout(240)]

STACK = """
services:
  db:
    image: IMAGE
    command: ["sh", "-c", "trap 'echo db >> /order/stopped; exit 0' TERM; sleep 1000 & wait"]
    volumes: ["/anon", "named:/named", "./order:/order"]
  web:
    image: IMAGE
    command:
      - sh
      - -c
      - trap 'sleep 0.5; echo web >> /order/stopped; exit 0' TERM; sleep 1000 & wait
    depends_on: [db]
    volumes: ["./order:/order"]
volumes:
  named: {}
"""


def test_down_order_and_volumes(project, tmp_path):
    cli = Cli(project, file=write_stack(tmp_path, STACK))
    anon = paths.volumes_dir() / anonymous_volume(f"{project}-db-1", "/anon")
    named = paths.volumes_dir() / f"{project}_named"
    cli.run("up", "-d")
    cli.run("exec", "-T", "db", "sh", "-c", "echo a > /anon/f; echo n > /named/f")
    down = cli.run("down")
    # web (depends on db) is stopped before db starts stopping, and the lines say so
    assert (tmp_path / "order" / "stopped").read_text() == "web\ndb\n"
    lines = (down.stdout + down.stderr).splitlines()
    stops = [line.split()[1] for line in lines if line.split()[-1:] == ["Stopped"]]
    assert stops == [f"{project}-web-1", f"{project}-db-1"], lines
    assert (anon / "_data" / "f").is_file() and (named / "_data" / "f").is_file()

    cli.run("up", "-d")
    read = "cat /anon/f /named/f"
    assert cli.run("exec", "-T", "db", "sh", "-c", read).stdout == "a\nn\n"
    cli.run("stop", "-t", "1", "db")
    cli.run("rm", "db")
    assert (anon / "_data" / "f").is_file()  # plain rm keeps it
    cli.run("up", "-d", "db")
    assert cli.run("exec", "-T", "db", "cat", "/anon/f").stdout == "a\n"
    cli.run("stop", "-t", "1", "db")
    cli.run("rm", "-v", "db")
    assert not anon.exists()
    cli.run("up", "-d", "db")
    cli.run("down", "-v")
    assert not anon.exists() and not named.exists()
