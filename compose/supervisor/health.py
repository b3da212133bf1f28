"""Healthchecks with Docker's defaults and semantics, run inside the replica via the driver.

Defaults: interval 30 s, timeout 30 s, retries 3, start_period 0, start_interval 5 s.
- status starts as ``starting``; probes run every ``interval`` (``start_interval`` during the
  start period);
- exit 0 → ``healthy`` and the failing streak resets;
- a failure (non-zero exit or timeout) during the start period does not count; after it, the
  streak grows and reaching ``retries`` makes the replica ``unhealthy``;
- a success during the start period makes it healthy at once.

``gate`` (test mode's eager probes): until the first success, extra probes run between the
scheduled ones: once the gate opens (the replica accepts TCP on its ports, polled every 5 ms:
a connect costs no process; 1 s at most), then at doubling intervals from 10 ms to 250 ms.
Their failures do not count, so a slow starter is not made unhealthy sooner, but a ready one
is healthy within milliseconds instead of after ``interval`` (30 s by default).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import anyio

from compose.state import PAUSED
from compose.supervisor.tracker import ReplicaState, Tracker

STARTING, HEALTHY, UNHEALTHY = "starting", "healthy", "unhealthy"
EAGER_POLL, EAGER_FIRST, EAGER_MAX, GATE_MAX = 0.005, 0.01, 0.25, 1.0


@dataclass(frozen=True, slots=True)
class HealthSpec:
    argv: tuple[str, ...]
    interval: float = 30.0
    timeout: float = 30.0
    retries: int = 3
    start_period: float = 0.0
    start_interval: float = 5.0


def test_argv(test: str | Sequence[str] | None) -> tuple[str, ...] | None:
    """Docker's test forms: ["NONE"], ["CMD", ...], ["CMD-SHELL", "..."], or a string."""
    if not test:
        return None
    if isinstance(test, str):
        return ("/bin/sh", "-c", test)
    kind, *rest = test
    if kind == "NONE":
        return None
    if kind == "CMD-SHELL":
        return ("/bin/sh", "-c", " ".join(rest))
    if kind == "CMD":
        return tuple(rest)
    return tuple(test)


Probe = Callable[[tuple[str, ...], float], Awaitable[int]]
Gate = Callable[[], Awaitable[str]]  # "" once the replica accepts connections


def next_status(
    current: str, ok: bool, streak: int, spec: HealthSpec, in_start_period: bool
) -> tuple[str, int]:
    """(new status, new failing streak) after one probe (pure)."""
    if ok:
        return HEALTHY, 0
    if in_start_period:
        return current, streak
    streak += 1
    return (UNHEALTHY if streak >= spec.retries else current), streak


async def monitor(
    me: ReplicaState, spec: HealthSpec, probe: Probe, tracker: Tracker, gate: Gate | None = None
) -> None:
    """Probe one replica until it stops running (cancel the scope to end it early). The
    replica is followed by identity (its state object): a rename doesn't lose it."""
    started = time.monotonic()
    status, streak = STARTING, 0
    tracker.update(me.name, health=STARTING)
    eager = gate is not None
    while True:
        in_start = time.monotonic() - started < spec.start_period
        wait = spec.start_interval if in_start and status == STARTING else spec.interval
        due = time.monotonic() + wait
        if gate is not None and eager and status == STARTING:
            if await _eager_probes(me, spec, probe, tracker, due, gate):
                status, streak = HEALTHY, 0
            eager = False
        await anyio.sleep(max(0.0, due - time.monotonic()))
        state = tracker.get(me.name)
        if state is not me or not state.running:
            return
        if state.status == PAUSED:
            continue  # Docker runs no healthcheck in a paused container
        ok = await _probe_once(probe, spec)
        if me.status == PAUSED:
            continue  # paused while it ran: a frozen probe timing out says nothing of health
        in_start = time.monotonic() - started < spec.start_period
        new, streak = next_status(status, ok, streak, spec, in_start)
        if new != status:
            status = new
            tracker.update(me.name, health=status)


async def _eager_probes(
    me: ReplicaState, spec: HealthSpec, probe: Probe, tracker: Tracker, due: float, gate: Gate
) -> bool:
    """Extra probes before ``due`` (the scheduled one) until one succeeds: True, and the
    replica is healthy. A failure changes nothing. A gate still closed after ``GATE_MAX`` (the
    check is about something else than the image's ports) no longer holds the probes back."""
    delay, opened, began = EAGER_POLL, False, time.monotonic()
    while time.monotonic() + delay < due:
        await anyio.sleep(delay)
        state = tracker.get(me.name)
        if state is not me or not state.running:
            return False
        if state.status == PAUSED:
            continue
        if not opened and time.monotonic() - began < GATE_MAX and await gate():
            continue  # not accepting yet: poll again in 5 ms
        opened = True
        if await _probe_once(probe, spec):
            tracker.update(me.name, health=HEALTHY)
            return True
        delay = min(max(delay * 2, EAGER_FIRST), EAGER_MAX)
    return False


async def _probe_once(probe: Probe, spec: HealthSpec) -> bool:
    with anyio.move_on_after(spec.timeout + 1.0):
        try:
            return await probe(spec.argv, spec.timeout) == 0
        except Exception:  # a probe that cannot even run is a failed probe
            return False
    return False
