"""Test mode's eager health probes: a replica that is ready is healthy in milliseconds, not
after ``interval``; the probes wait for the gate (its port accepting); their failures do not
count toward ``unhealthy``."""

from __future__ import annotations

import time

import anyio

from compose.state import RUNNING
from compose.supervisor.health import HealthSpec, monitor
from compose.supervisor.tracker import ReplicaState, Tracker

SPEC = HealthSpec(("probe",), interval=30.0, retries=1)


def run_monitor(results: list[int], gate_opens_after: float) -> tuple[Tracker, list[float]]:
    tracker = Tracker()
    state = tracker.add(ReplicaState("db", 1, "db-1", status=RUNNING))
    probes: list[float] = []
    began = time.monotonic()

    async def probe(argv: tuple[str, ...], timeout: float) -> int:
        probes.append(time.monotonic() - began)
        return results.pop(0) if results else 0

    async def gate() -> str:
        return "" if time.monotonic() - began >= gate_opens_after else "Connection refused"

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(monitor, state, SPEC, probe, tracker, gate)
            with anyio.fail_after(5):
                await tracker.wait_for(lambda: state.health == "healthy")
            tg.cancel_scope.cancel()

    anyio.run(main)
    return tracker, probes


def test_healthy_in_milliseconds_once_the_port_accepts():
    tracker, probes = run_monitor([], gate_opens_after=0.05)
    assert tracker.get("db-1").health == "healthy"
    assert len(probes) == 1 and 0.05 <= probes[0] < 1.0  # no probe before the gate opened


def test_eager_failures_do_not_make_it_unhealthy():
    tracker, probes = run_monitor([1, 1, 1], gate_opens_after=0.0)  # retries=1
    assert tracker.get("db-1").health == "healthy" and len(probes) == 4
