"""Test mode's readiness (``RunOptions.readiness == TEST``): what `--wait` waits for when a test
session brings a stack up, and the error that says why a service never got there.

    a service with a healthcheck   healthy (the first probes run at once: ``health``, eager)
    without one, with TCP ports    running and accepting on every exposed TCP port of each
                                   replica's address (the image's EXPOSE, ``expose``, ``ports``),
                                   probed from the supervisor, every 5 ms doubling to 20 ms (a
                                   refused connect is cheap: an open port is seen within
                                   20 ms of opening)
    without either                 running
    any service                    all replicas exited 0: done (a one-shot); an exit != 0 or
                                   ``unhealthy`` fails at once

Every service is waited for at once, under one deadline; a failure or the deadline names each
service that is not ready, its state, the last probe's output and its last log lines.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import anyio

from compose.logs import read_all
from compose.state import EXITED, RUNNING
from compose.supervisor.conditions import DependencyFailed, check_healthy

if TYPE_CHECKING:
    from compose.supervisor.service import SupervisorService
    from compose.supervisor.tracker import ReplicaState

LOG_LINES = 10  # a failure shows this many of each replica's last log lines
PROBE_FIRST, PROBE_MAX = 0.005, 0.02


@dataclass
class Waiting:
    """What is known of one service while it is waited for."""

    service: str
    ready: bool = False
    failure: str | None = None
    last_probe: str = ""  # a TCP probe's error (healthchecks: the driver keeps theirs)
    since: float = field(default_factory=time.monotonic)


async def wait_ready(
    service: SupervisorService, names: list[str], timeout: float | None
) -> list[str]:
    """The failures (empty: every service in ``names`` is ready). The first service that can
    never be ready (unhealthy, exited) ends the wait at once; each one not ready then is named
    too."""
    waiting = {name: Waiting(name) for name in names}
    with anyio.move_on_after(timeout) as scope:
        async with anyio.create_task_group() as tg:
            for entry in waiting.values():
                tg.start_soon(_wait_one, service, entry, tg.cancel_scope)
    failed = [e for e in waiting.values() if e.failure is not None]
    failures = [explain(service, e, f'service "{e.service}": {e.failure}') for e in failed]
    for entry in waiting.values():
        if entry.ready or entry.failure is not None:
            continue
        if scope.cancelled_caught:
            head = f'service "{entry.service}" is not ready after {timeout:g}s'
        else:
            head = f'service "{entry.service}" is not ready either'
        failures.append(explain(service, entry, head))
    return failures


async def _wait_one(service: SupervisorService, entry: Waiting, group: anyio.CancelScope) -> None:
    try:
        await _until_ready(service, entry)
        entry.ready = True
    except DependencyFailed as exc:
        entry.failure = str(exc)
        group.cancel()  # it never will be: the others need not be waited for


async def _until_ready(service: SupervisorService, entry: Waiting) -> None:
    tracker, name = service.sup.tracker, entry.service
    if service.sup.desired.get(name) == 0:
        return  # scaled to zero: nothing to wait for
    if service.driver.healthcheck(name) is not None:
        await tracker.wait_for(lambda: _done(tracker.of_service(name)) or _healthy(service, name))
        return
    await tracker.wait_for(lambda: _settled(tracker.of_service(name)))
    delay = PROBE_FIRST
    while not _done(tracker.of_service(name)):
        if await _accepting(service, entry):
            return
        await anyio.sleep(delay)
        delay = min(delay * 2, PROBE_MAX)


def _healthy(service: SupervisorService, name: str) -> bool:
    return check_healthy(name, service.sup.tracker.of_service(name), True)


def _settled(reps: list[ReplicaState]) -> bool:
    """Every replica runs, or the service is done; raises on an exit != 0."""
    if _done(reps):
        return True
    return bool(reps) and all(r.status in (RUNNING, EXITED) for r in reps)


def _done(reps: list[ReplicaState]) -> bool:
    """All replicas exited 0 (a one-shot that did its job); raises on an exit != 0."""
    for rep in reps:
        if rep.status == EXITED and rep.exit_code not in (0, None) and not rep.manually_stopped:
            raise DependencyFailed(f"container {rep.name} exited ({rep.exit_code})")
    return bool(reps) and all(r.status == EXITED and r.exit_code == 0 for r in reps)


async def _accepting(service: SupervisorService, entry: Waiting) -> bool:
    """Each running replica accepts on every port (the last refusal is kept for the error)."""
    for rep in service.sup.tracker.of_service(entry.service):
        if rep.status == RUNNING:
            error = await service.driver.accepting(rep.name)
            if error:
                entry.last_probe = error
                return False
    return True


def explain(service: SupervisorService, entry: Waiting, head: str) -> str:
    """``head``, then each replica's state, its last probe and its last log lines."""
    lines = [head]
    store = service.driver.ctx.store
    reps = service.sup.tracker.of_service(entry.service)
    if not reps:
        lines.append("  no container was created")
    for rep in reps:
        lines.append(f"  container {rep.name}: {_state(rep)}")
        probe = service.driver.replicas.last_probe.get(rep.name) or entry.last_probe
        if probe:
            lines.append(f"  last probe: {probe}")
        record = store.load_replica(rep.name)
        if record is not None and record.log_path:
            from pathlib import Path

            logged = read_all(rep.name, Path(record.log_path), tail=LOG_LINES)
            if logged:
                lines.append(f"  last {len(logged)} log lines:")
                lines += [f"    | {line.text}" for line in logged]
    return "\n".join(lines)


def _state(rep: ReplicaState) -> str:
    if rep.status == EXITED:
        return f"exited ({rep.exit_code})"
    return rep.status + (f", health {rep.health}" if rep.health else "")
