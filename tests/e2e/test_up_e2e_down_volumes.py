"""`down` stops dependents first and keeps volumes (named and anonymous); `-v` removes them;
`rm` keeps a container's anonymous volumes, `rm -v` removes them; a new container (after
`down` or `rm`) starts on fresh anonymous volumes, a recreated one keeps its predecessor's,
`up -V` renews them (docker compose, checked on 2.40)."""

from __future__ import annotations

import pytest
from e2e_helpers import Cli, write_stack

from compose import paths

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


def anonymous_dir(project: str, target: str):
    """The volume dir of db-1's anonymous volume at ``target``, from its record."""
    import json
    import os
    from pathlib import Path

    record = Path(os.environ["PYCOMPOSE_STATE_DIR"]) / "projects" / project / "replicas"
    mounts = json.loads((record / f"{project}-db-1.json").read_text())["mounts"]
    source = next(m.split(":")[0] for m in mounts if m.endswith(f":{target}"))
    return Path(source).parent


def test_down_order_and_volumes(project, tmp_path):
    cli = Cli(project, file=write_stack(tmp_path, STACK))
    named = paths.volumes_dir() / f"{project}_named"
    cli.run("up", "-d")
    anon = anonymous_dir(project, "/anon")
    cli.run("exec", "-T", "db", "sh", "-c", "echo a > /anon/f; echo n > /named/f")
    down = cli.run("down")
    # web (depends on db) is stopped before db starts stopping, and the lines say so
    assert (tmp_path / "order" / "stopped").read_text() == "web\ndb\n"
    lines = (down.stdout + down.stderr).splitlines()
    stops = [line.split()[1] for line in lines if line.split()[-1:] == ["Stopped"]]
    assert stops == [f"{project}-web-1", f"{project}-db-1"], lines
    assert (anon / "_data" / "f").is_file() and (named / "_data" / "f").is_file()  # kept

    cli.run("up", "-d")  # new containers: the named volume's data, a fresh anonymous one
    read = "cat /named/f; ls /anon"
    assert cli.run("exec", "-T", "db", "sh", "-c", read).stdout == "n\n"
    assert anonymous_dir(project, "/anon") != anon and (anon / "_data" / "f").is_file()
    anon = anonymous_dir(project, "/anon")
    cli.run("exec", "-T", "db", "sh", "-c", "echo b > /anon/f")
    cli.run("up", "-d", "--force-recreate", "db")  # a recreation keeps it
    assert cli.run("exec", "-T", "db", "cat", "/anon/f").stdout == "b\n"
    cli.run("up", "-d", "-V", "db")  # ... unless renewed
    assert cli.run("exec", "-T", "db", "ls", "/anon").stdout == ""
    anon = anonymous_dir(project, "/anon")
    cli.run("exec", "-T", "db", "sh", "-c", "echo c > /anon/f")
    cli.run("stop", "-t", "1", "db")
    cli.run("rm", "db")
    assert (anon / "_data" / "f").is_file()  # plain rm keeps it
    cli.run("up", "-d", "db")
    assert cli.run("exec", "-T", "db", "ls", "/anon").stdout == ""  # a new container
    anon = anonymous_dir(project, "/anon")
    cli.run("stop", "-t", "1", "db")
    cli.run("rm", "-v", "db")
    assert not anon.exists()
    cli.run("up", "-d", "db")
    anon = anonymous_dir(project, "/anon")
    cli.run("down", "-v")
    assert not anon.exists() and not named.exists()
