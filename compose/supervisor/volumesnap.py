"""Snapshots of a running project's volumes (test mode's per-test reset), on the supervisor:

    snapshot  the replicas mounting the volumes are frozen ─► each volume copied ─► thawed
    restore   every replica mounting one is killed ─► each volume made equal to the snapshot
              (``compose.snapshots``: only what changed is copied) ─► started ─► ready

Which volumes: those the replicas of the named services mount (every service's when none is
named), named and anonymous alike (an image's ``VOLUME``, as redis' /data). The replicas of
other services that share such a volume are stopped and started with them: no process sees the
volume change under it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import anyio

from compose import paths, snapshots
from compose.errors import UserError
from compose.state import PAUSED, RUNNING, ReplicaRecord
from compose.supervisor import protocol as p
from compose.supervisor.blocking import run_sync

if TYPE_CHECKING:
    from compose.supervisor.service import SupervisorService


def mounted_volumes(record: ReplicaRecord) -> list[str]:
    """The volumes (full names) a replica mounts, from its record's ``source:target``."""
    root = paths.volumes_dir()
    found = []
    for mount in record.mounts:
        source = Path(mount.partition(":")[0])
        if source.name == "_data" and source.parent.parent == root:
            found.append(source.parent.name)
    return found


def _records(service: SupervisorService) -> list[ReplicaRecord]:
    return [r for r in service.driver.ctx.store.replicas() if not r.oneoff]


def _volumes(service: SupervisorService, services: Sequence[str]) -> list[str]:
    picked = [r for r in _records(service) if not services or r.service in services]
    return sorted({v for r in picked for v in mounted_volumes(r)})


def _users(service: SupervisorService, volumes: Sequence[str]) -> list[ReplicaRecord]:
    """The replicas (of any service) mounting one of ``volumes``."""
    return [r for r in _records(service) if set(mounted_volumes(r)) & set(volumes)]


async def snapshot(service: SupervisorService, request: p.Snapshot) -> p.Snapshotted:
    started = time.perf_counter()
    volumes = _volumes(service, request.services)
    if not volumes:
        raise UserError(f"snapshot: {_subject(request.services)} mount no volume")
    frozen = [r.name for r in _users(service, volumes) if _status(service, r.name) == RUNNING]
    copied = snapshots.Copied()
    for name in frozen:
        await service.driver.pause_replica(name)
    try:
        for volume in volumes:
            copied.add(await run_sync(snapshots.take, volume, request.name))
    finally:
        for name in frozen:
            await service.driver.unpause_replica(name)
    return p.Snapshotted(
        request.name,
        tuple(volumes),
        tuple(frozen),
        time.perf_counter() - started,
        copied.bytes,
        copied.files,
    )


async def restore(service: SupervisorService, request: p.Restore) -> p.Snapshotted:
    clock = _Phases()
    volumes = [
        v for v in _volumes(service, request.services) if snapshots.has_snapshot(v, request.name)
    ]
    if not volumes:
        raise UserError(
            f'restore: no snapshot "{request.name}" of a volume {_subject(request.services)} mount',
            hint=f'take it first: snapshot("{request.name}")',
        )
    users = [r.name for r in _users(service, volumes) if _status(service, r.name) in _UP]
    await _each(users, lambda name: service.sup.executor.stop(name, 0))  # no grace: data goes
    await service.sup.tracker.wait_for(lambda: all(_status(service, n) not in _UP for n in users))
    clock.mark("stop")
    copied = snapshots.Copied()
    for volume in volumes:
        copied.add(await run_sync(snapshots.restore, volume, request.name))
    clock.mark("copy")
    await _each(users, service.sup.executor.start)
    clock.mark("start")
    restarted = sorted({s.service for n in users if (s := service.sup.tracker.get(n))})
    failures = await service.wait_ready(restarted, request.timeout)
    clock.mark("ready")
    return p.Snapshotted(
        request.name,
        tuple(volumes),
        tuple(sorted(users)),
        clock.total(),
        copied.bytes,
        copied.files,
        tuple(failures),
        clock.phases,
    )


_UP = (RUNNING, PAUSED)


class _Phases:
    """Seconds per named step (the reply carries them: the benchmark prints where time goes)."""

    def __init__(self) -> None:
        self.started = self.last = time.perf_counter()
        self.phases: dict[str, float] = {}

    def mark(self, name: str) -> None:
        now = time.perf_counter()
        self.phases[name] = round(now - self.last, 6)
        self.last = now

    def total(self) -> float:
        return time.perf_counter() - self.started


async def _each(
    names: Sequence[str], act: Callable[[str], Coroutine[object, object, None]]
) -> None:
    """``act`` on every replica at once."""
    async with anyio.create_task_group() as tg:
        for name in names:
            tg.start_soon(act, name)


def _status(service: SupervisorService, name: str) -> str | None:
    state = service.sup.tracker.get(name)
    return state.status if state is not None else None


def _subject(services: Sequence[str]) -> str:
    return "the services " + ", ".join(services) if services else "the project's replicas"
