"""Docker's restart backoff, measured on a real replica: with `restart: always` the delay before
each restart doubles from 100 ms while the replica keeps failing fast, and starts again at
100 ms once the replica had run for 10 s before it exited (the restart manager's reset)."""

from __future__ import annotations

import json
import time

import pytest
from e2e_helpers import Cli, wait_for, write_stack

pytestmark = [pytest.mark.e2e, pytest.mark.privileged, pytest.mark.timeout(90)]

# Runs 1-3 fail at once, run 4 fails after 11 s up, run 5 stays. The run count lives in the
# writable layer, which a restart keeps.
STACK = """
services:
  flappy:
    image: IMAGE
    restart: always
    command:
      - sh
      - -c
      - |
        n=$$(( $$(cat /tmp/runs 2>/dev/null || echo 0) + 1 )); echo $$n > /tmp/runs
        echo run $$n
        if [ $$n -eq 4 ]; then sleep 11; fi
        if [ $$n -ge 5 ]; then trap 'exit 0' TERM; sleep 1000 & wait; exit 0; fi
        exit 1
"""


def times(cli: Cli, action: str) -> list[float]:
    out = cli.run("events", "--json", "--since", "0", "--until", str(time.time())).stdout
    events = [json.loads(line) for line in out.splitlines()]
    return [e["time"] for e in events if e.get("service") == "flappy" and e["action"] == action]


def test_backoff_doubles_then_resets_after_ten_seconds_up(project, tmp_path):
    cli = Cli(project, file=write_stack(tmp_path, STACK))
    cli.run("up", "-d")
    wait_for(lambda: len(times(cli, "restart")) >= 4, timeout=40, interval=0.5)
    dies, restarts = times(cli, "die"), times(cli, "restart")
    delays = [round(r - d, 3) for d, r in zip(dies, restarts, strict=False)][:4]
    ran = [round(d - r, 3) for r, d in zip(restarts, dies[1:], strict=False)][:3]
    print("restart delays after each exit (s):", delays, "(Docker: 0.1 0.2 0.4, then 0.1)")
    print("runs 2-4 lasted (s):", ran)

    grown = delays[2]
    assert 0.1 <= delays[0] < 0.35 and delays[0] < delays[1] < grown, delays  # 0.1, 0.2, 0.4
    assert grown >= 0.4, delays
    assert ran[2] >= 10, ran  # run 4 was up for more than 10 s …
    assert 0.1 <= delays[3] < grown / 2, delays  # … so the delay started over at 100 ms
    assert cli.run("logs", "--no-log-prefix", "flappy").stdout.split("\n")[:5] == [
        f"run {n}" for n in range(1, 6)
    ]
