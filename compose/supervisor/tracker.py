"""In-memory replica states of a running supervisor, with change notification.

Conditions (``service_healthy`` …), ``up --wait`` and the reconciler wait on ``Tracker.wait_for``;
every ``update`` wakes them up. ``on_change`` persists each change (the real supervisor writes
the replica record), so ``ps`` from another process sees the same status.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass

import anyio

from compose.state import CREATED, EXITED, PAUSED, RUNNING, ObservedReplica, ReplicaRecord


@dataclass(slots=True)
class ReplicaState:
    service: str
    index: int
    name: str
    status: str = CREATED
    exit_code: int | None = None
    health: str | None = None  # None: no healthcheck
    started_at: float | None = None
    finished_at: float | None = None
    restart_count: int = 0
    manually_stopped: bool = False
    restarting: bool = False  # exited, its restart policy will start it again
    backoff: float = 0.0  # current restart delay (Docker's restart manager)
    restarts: list[float] = dataclasses.field(default_factory=list)  # monotonic restart times
    oneoff: bool = False  # a `run` container: never counted as a replica of its service

    @property
    def running(self) -> bool:
        return self.status in (RUNNING, PAUSED)

    @classmethod
    def observed(cls, rep: ObservedReplica) -> ReplicaState:
        """A replica found on disk (a supervisor taking over a project); its status is the
        record's corrected by liveness (``ObservedReplica.status``)."""
        rec = rep.record
        return cls(
            rec.service,
            rec.index,
            rec.name,
            rep.status,
            rec.exit_code,
            rec.health,
            rec.started_at,
            rec.finished_at,
            rec.restart_count,
            rec.manually_stopped,
            restarting=rec.restarting and rep.status == EXITED,
            oneoff=rec.oneoff,
        )

    def onto(self, record: ReplicaRecord) -> ReplicaRecord:
        """The record with this state's status, health and exit (what ``ps`` shows)."""
        return record.replace(
            status=self.status,
            exit_code=self.exit_code,
            health=self.health,
            restart_count=self.restart_count,
            manually_stopped=self.manually_stopped,
            restarting=self.restarting,
            finished_at=self.finished_at if self.status == EXITED else record.finished_at,
        )


class Tracker:
    def __init__(self, on_change: Callable[[ReplicaState], None] | None = None) -> None:
        self.replicas: dict[str, ReplicaState] = {}
        self._changed = anyio.Event()
        self._on_change = on_change

    def add(self, state: ReplicaState) -> ReplicaState:
        self.replicas[state.name] = state
        self._notify(state)
        return state

    def get(self, name: str) -> ReplicaState | None:
        return self.replicas.get(name)

    def update(self, name: str, **changes: object) -> ReplicaState | None:
        state = self.replicas.get(name)
        if state is None:
            return None
        for key, value in changes.items():
            setattr(state, key, value)
        self._notify(state)
        return state

    def started(self, name: str) -> None:
        self.update(
            name,
            status=RUNNING,
            exit_code=None,
            started_at=time.time(),
            manually_stopped=False,
            restarting=False,
        )

    def exited(self, name: str, code: int | None, restarting: bool = False) -> None:
        self.update(
            name, status=EXITED, exit_code=code, finished_at=time.time(), restarting=restarting
        )

    def rename(self, old: str, new: str) -> None:
        """The same replica (same state object: watchers holding it follow) under a new name."""
        state = self.replicas.pop(old, None)
        if state is not None:
            state.name = new
            self.replicas[new] = state
            self._notify(state)

    def remove(self, name: str) -> None:
        if self.replicas.pop(name, None) is not None:
            self._notify(None)

    def poke(self) -> None:
        """Wake the waiters: something they look at beside the states changed."""
        self._notify(None)

    def of_service(self, service: str) -> list[ReplicaState]:
        found = [s for s in self.replicas.values() if s.service == service]
        return sorted(found, key=lambda s: s.index)

    def snapshot(self) -> list[dict[str, object]]:
        return [dataclasses.asdict(s) for s in sorted(self.replicas.values(), key=_key)]

    async def wait_for(self, predicate: Callable[[], bool]) -> None:
        while not predicate():
            await self._changed.wait()

    def _notify(self, state: ReplicaState | None) -> None:
        if state is not None and self._on_change is not None:
            self._on_change(state)
        event, self._changed = self._changed, anyio.Event()
        event.set()


def _key(state: ReplicaState) -> tuple[str, int]:
    return (state.service, state.index)
