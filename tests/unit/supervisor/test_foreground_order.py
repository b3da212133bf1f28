"""The foreground's output order: a replica's lines, then its exit line, then the next run's
lines, even when the restart's first line is read before the exit is due (it waits EXIT_SETTLE
for the replica's last lines; a 100 ms restart backoff is shorter)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from types import SimpleNamespace as NS

from compose.logs import Formatter
from compose.supervisor.foreground import EXIT_SETTLE, Attached


def _fg(printed: list[str]) -> NS:
    store = NS(replicas=lambda: [])
    out = NS(log=printed.append)
    return NS(out=out, service=NS(out=out, driver=NS(ctx=NS(store=store))))


def _write(log: Path, text: str, when: float) -> None:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(when)) + f".{int(when % 1 * 1e9):09d}Z"
    with log.open("a") as out:
        out.write(json.dumps({"log": text + "\n", "stream": "stdout", "time": stamp}) + "\n")


def test_a_restarts_first_line_waits_for_the_exit_before_it(tmp_path: Path) -> None:
    log = tmp_path / "flaky-1.log"
    log.touch()
    printed: list[str] = []
    view = Attached(Formatter(["flaky-1"], color=False))
    view.tail.add("flaky-1", log)
    now = time.time()
    _write(log, "try", now - 0.05)
    view.exits.append((now - 0.04, "flaky-1", 3))  # died; restarted at once (backoff 0.1 s)
    _write(log, "try", now - 0.01)
    view.show(_fg(printed))  # the exit is not due yet: neither is the second run's line
    assert printed == ["flaky-1  | try"]
    time.sleep(EXIT_SETTLE)
    view.show(_fg(printed))
    assert printed == ["flaky-1  | try", "flaky-1 exited with code 3", "flaky-1  | try"]
