"""Observed state = records + liveness. Read-only: never writes, never locks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from compose.procfs import is_alive
from compose.state.layout import projects_dir
from compose.state.lock import lock_holder_pid
from compose.state.records import (
    CREATED,
    EXITED,
    PAUSED,
    RUNNING,
    ProjectRecord,
    ReplicaRecord,
)
from compose.state.store import StateStore


@dataclass(frozen=True, slots=True)
class ObservedReplica:
    record: ReplicaRecord
    alive: bool
    supervised: bool = True  # a supervisor keeps the project (restart policies apply)

    @property
    def name(self) -> str:
        return self.record.name

    @property
    def service(self) -> str:
        return self.record.service

    @property
    def index(self) -> int:
        return self.record.index

    @property
    def status(self) -> str:
        """The record's status corrected by liveness: a dead "running" replica has exited."""
        if self.record.status in (RUNNING, PAUSED) and not self.alive:
            return EXITED
        return self.record.status

    @property
    def running(self) -> bool:
        return self.status in (RUNNING, PAUSED)

    @property
    def exit_pending(self) -> bool:
        """Its process is gone and its live supervisor has not yet written what follows (an
        exit code, a restart): what docker's daemon does in one step, a reader waits for."""
        return self.supervised and self.record.status in (RUNNING, PAUSED) and not self.alive

    @property
    def restarting(self) -> bool:
        """Its supervisor's restart policy starts it again (``Restarting (3)``): from its exit
        until the new process runs (made but not started is still restarting, as docker's)."""
        return self.record.restarting and self.supervised and self.status in (EXITED, CREATED)


@dataclass(frozen=True, slots=True)
class ObservedProject:
    name: str
    project: ProjectRecord | None
    replicas: tuple[ObservedReplica, ...]
    supervisor_pid: int | None = None

    def of_service(self, service: str) -> list[ObservedReplica]:
        return [r for r in self.replicas if r.service == service and not r.record.oneoff]

    @property
    def services(self) -> set[str]:
        return {r.service for r in self.replicas}

    @property
    def exists(self) -> bool:
        return self.project is not None or bool(self.replicas)


def observe_project(project: str, proc: Path = Path("/proc")) -> ObservedProject:
    store = StateStore(project)
    holder = lock_holder_pid(project)
    observed = tuple(
        ObservedReplica(rec, is_alive(rec.pid, rec.start_time, proc), holder is not None)
        for rec in store.replicas()
    )
    return ObservedProject(project, store.load_project(), observed, holder)


def list_projects() -> list[str]:
    root = projects_dir()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / "project.json").exists())


def images_in_use() -> dict[str, list[str]]:
    """Image digest -> the containers (of any project) that still exist with it: an image
    they use must not be deleted (its layers are their overlay's lower dirs)."""
    out: dict[str, list[str]] = {}
    for project in list_projects():
        for rec in StateStore(project).replicas():
            if rec.image_digest:
                out.setdefault(rec.image_digest, []).append(rec.name)
    return out
