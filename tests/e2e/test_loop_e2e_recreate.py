"""Recreation on change: `up` on an edited file recreates only the changed service, one replica
at a time, and restarts its dependents that ask for it (depends_on.restart: true); unchanged
services keep their processes; --no-recreate and --force-recreate."""

from __future__ import annotations

import json
import os
import time

import pytest
from e2e_helpers import Cli, write_stack

pytestmark = [pytest.mark.e2e, pytest.mark.privileged, pytest.mark.timeout(120)]

STACK = """
services:
  db:
    image: IMAGE
    command: SLEEP
    environment:
      VERSION: "1"
  web:
    image: IMAGE
    command: SLEEP
    scale: 2
    depends_on:
      db:
        condition: service_started
        restart: true
  other:
    image: IMAGE
    command: SLEEP
"""


def pids(project: str) -> dict[str, int]:
    root = f"{os.environ['PYCOMPOSE_STATE_DIR']}/projects/{project}/replicas"
    out = {}
    for name in os.listdir(root):
        with open(f"{root}/{name}") as handle:
            doc = json.load(handle)
        out[doc["service"] + str(doc["index"])] = doc["pid"]
    return out


def actions(cli: Cli, since: float) -> list[tuple[str, str]]:
    out = cli.run("events", "--json", "--since", str(since), "--until", str(time.time())).stdout
    docs = [json.loads(line) for line in out.splitlines()]
    return [(d["action"], d["container"].rsplit("-", 2)[-2] + d["container"][-1]) for d in docs]


def test_only_changed_services_are_recreated(project, tmp_path):
    path = write_stack(tmp_path, STACK)
    cli = Cli(project, file=path)
    cli.run("up", "-d")
    first = pids(project)

    unchanged = cli.run("up", "-d").stderr.splitlines()  # nothing to do: docker's `Running`
    assert [ln for ln in unchanged if "Container" in ln and "Running" not in ln] == []
    assert pids(project) == first

    path.write_text(path.read_text().replace('VERSION: "1"', 'VERSION: "2"'))
    out = cli.run("up", "-d", "--no-recreate").stderr
    assert "Recreate" not in out and pids(project) == first

    since = time.time()
    out = cli.run("up", "-d").stderr
    now = pids(project)
    assert f"Container {project}-db-1  Recreate" in out
    assert now["db1"] != first["db1"]  # changed: recreated
    assert now["other1"] == first["other1"]  # untouched
    assert now["web1"] != first["web1"] and now["web2"] != first["web2"]  # restart: true
    recreated = {  # "Recreate" or, for a start-first replacement, "Recreate (start-first)"
        ln.split()[1] for ln in out.splitlines() if ln.split()[2:3] == ["Recreate"]
    }
    assert recreated == {f"{project}-db-1"}  # web only restarted

    since = time.time()
    path.write_text(path.read_text().replace("scale: 2", "scale: 2\n    init: true"))
    cli.run("up", "-d")
    seen = [a for a in actions(cli, since) if a[0] in ("die", "start") and a[1].startswith("web")]
    # one replica at a time: web-1 is back before web-2 stops
    assert seen.index(("die", "web2")) > max(
        i for i, a in enumerate(seen) if a == ("start", "web1")
    )

    before = pids(project)
    cli.run("up", "-d", "--force-recreate", "other")
    after = pids(project)
    assert after["other1"] != before["other1"] and after["web1"] == before["web1"]
