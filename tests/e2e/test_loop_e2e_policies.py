"""Restart policies as Docker's restart manager, measured on real replicas: `no`, `always` with
its backoff (0.1, 0.2, 0.4, 0.8, 1.6 s …), `on-failure` only on non-zero exits, a
deploy.restart_policy overriding `restart:`, a manual `stop` never restarted, and `unhealthy`
reported (event + ps) but not restarted."""

from __future__ import annotations

import json
import time

import pytest
from e2e_helpers import Cli, wait_for, write_stack

pytestmark = [pytest.mark.e2e, pytest.mark.privileged, pytest.mark.timeout(120)]

STACK = """
services:
  never:
    image: IMAGE
    command: ["sh", "-c", "exit 3"]
    restart: "no"
  always:
    image: IMAGE
    command: ["sh", "-c", "echo run; exit 0"]
    restart: always
  clean:
    image: IMAGE
    command: ["sh", "-c", "echo run; exit 0"]
    restart: on-failure
  capped:
    image: IMAGE
    command: ["sh", "-c", "echo run; exit 1"]
    restart: always
    deploy:
      restart_policy:
        condition: on-failure
        max_attempts: 1
  stopped:
    image: IMAGE
    command: SLEEP
    restart: always
  unless:
    image: IMAGE
    command: SLEEP
    restart: unless-stopped
  sick:
    image: IMAGE
    command: SLEEP
    restart: always
    healthcheck:
      test: ["CMD", "false"]
      interval: 0.2s
      retries: 2
"""


def events(cli: Cli) -> list[dict]:
    out = cli.run("events", "--json", "--since", "0", "--until", str(time.time())).stdout
    return [json.loads(line) for line in out.splitlines()]


def of(evts: list[dict], service: str, action: str) -> list[float]:
    return [e["time"] for e in evts if e.get("service") == service and e["action"] == action]


def rows(cli: Cli) -> dict[str, dict]:
    out = cli.run("ps", "-a", "--format", "json").stdout.splitlines()
    return {json.loads(x)["Service"]: json.loads(x) for x in out}


def test_restart_policies_and_backoff(project, tmp_path):
    cli = Cli(project, file=write_stack(tmp_path, STACK))
    cli.run("up", "-d")
    cli.run("stop", "stopped", "unless")
    wait_for(lambda: len(of(events(cli), "always", "restart")) >= 5, timeout=15)
    evts = events(cli)

    restarts, dies = of(evts, "always", "restart"), of(evts, "always", "die")
    delays = [round(r - d, 3) for d, r in zip(dies, restarts, strict=False)][:5]
    print("always: restart delays after each exit (s):", delays)
    for measured, docker in zip(delays, [0.1, 0.2, 0.4, 0.8, 1.6], strict=True):
        assert docker <= measured < docker + 0.25, (delays, "Docker: 0.1 0.2 0.4 0.8 1.6")

    assert of(evts, "never", "restart") == []
    assert of(evts, "clean", "restart") == []  # on-failure: exit 0 is not a failure
    assert len(of(evts, "capped", "restart")) == 1  # deploy policy: on-failure, 1 attempt
    assert of(evts, "stopped", "restart") == []  # a manual stop is final
    assert of(evts, "unless", "restart") == []
    state = rows(cli)
    assert (state["never"]["State"], state["never"]["ExitCode"]) == ("exited", 3)
    assert (state["capped"]["State"], state["capped"]["ExitCode"]) == ("exited", 1)
    assert state["stopped"]["State"] == state["unless"]["State"] == "exited"

    wait_for(lambda: of(events(cli), "sick", "health_status: unhealthy"), timeout=10)
    time.sleep(0.5)
    assert rows(cli)["sick"]["Health"] == "unhealthy"
    assert rows(cli)["sick"]["State"] == "running"  # reported, not restarted (as Docker)
    assert of(events(cli), "sick", "restart") == []
