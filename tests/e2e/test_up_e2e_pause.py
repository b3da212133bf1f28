"""`pause`/`unpause` go through the supervisor: `ps` keeps saying Paused, and no healthcheck
probes a paused replica (docker runs none)."""

from __future__ import annotations

import json
import time

import pytest
from e2e_helpers import Cli, wait_for, write_stack

pytestmark = [pytest.mark.e2e, pytest.mark.privileged, pytest.mark.timeout(240)]

STACK = """
services:
  svc:
    image: IMAGE
    command: SLEEP
    volumes: ["./probes:/probes"]
    healthcheck:
      test: ["CMD-SHELL", "echo x >> /probes/count"]
      interval: 200ms
      timeout: 300ms
      retries: 1
"""


def row(cli: Cli) -> dict:
    return json.loads(cli.run("ps", "--format", "json").stdout.splitlines()[0])


def test_pause_through_the_supervisor_stops_probes(project, tmp_path):
    cli = Cli(project, file=write_stack(tmp_path, STACK))
    count = tmp_path / "probes" / "count"
    cli.run("up", "-d", "--wait")
    paused = cli.run("pause", "svc")
    assert f"Container {project}-svc-1  Paused" in paused.stderr
    before = count.read_text().count("x")
    time.sleep(1.5)  # ~7 probe intervals
    assert count.read_text().count("x") == before
    state = row(cli)
    assert state["State"] == "paused" and state["Status"].endswith("(Paused)"), state
    assert state["Health"] != "unhealthy", state  # a probe of a frozen replica times out
    cli.run("unpause", "svc")
    wait_for(lambda: count.read_text().count("x") > before + 2, timeout=10)
    state = row(cli)
    assert (state["State"], state["Health"]) == ("running", "healthy"), state
