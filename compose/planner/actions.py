"""Plan actions: small, printable, plain data. The executor gives them meaning.

A ``Plan`` has three parts run in order::

    setup      EnsureNetwork / EnsureVolume            (all in parallel)
    services   ServiceStep per service, each waiting   (a DAG: a step starts when its
               for its ``waits`` before its actions     waits hold; replicas in parallel)
    teardown   orphan removal, RemoveNetwork / RemoveVolume

For ``up`` a step waits for its dependencies' conditions; for ``down`` a step waits until its
dependents are stopped (condition ``stopped``), which gives reverse dependency order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Conditions a ServiceStep may wait for.
SERVICE_STARTED = "service_started"
SERVICE_HEALTHY = "service_healthy"
SERVICE_COMPLETED = "service_completed_successfully"
STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class EnsureNetwork:
    network: str  # compose key
    full_name: str
    external: bool = False
    exists: bool = False  # the project made it already: ensured (idempotent), not shown

    kind = "Network"

    def describe(self) -> str:
        return f"{self.kind} {self.full_name}  {'Check' if self.external else 'Create'}"

    @property
    def shown(self) -> bool:
        """Creates something (docker compose prints nothing for what exists)."""
        return not (self.external or self.exists)


@dataclass(frozen=True, slots=True)
class EnsureVolume:
    volume: str
    full_name: str
    external: bool = False
    exists: bool = False

    kind = "Volume"

    def describe(self) -> str:
        return f"{self.kind} {self.full_name}  {'Check' if self.external else 'Create'}"

    @property
    def shown(self) -> bool:
        return not (self.external or self.exists)


@dataclass(frozen=True, slots=True)
class RemoveNetwork:
    network: str
    full_name: str

    def describe(self) -> str:
        return f"Network {self.full_name}  Remove"


@dataclass(frozen=True, slots=True)
class RemoveVolume:
    volume: str
    full_name: str

    def describe(self) -> str:
        return f"Volume {self.full_name}  Remove"


@dataclass(frozen=True, slots=True)
class ReplicaAction:
    service: str
    index: int
    name: str
    verb = "Act"

    def describe(self) -> str:
        return f"Container {self.name}  {self.verb}"


class CreateReplica(ReplicaAction):
    verb = "Create"


class StartReplica(ReplicaAction):
    verb = "Start"


class StopReplica(ReplicaAction):
    verb = "Stop"


class RemoveReplica(ReplicaAction):
    verb = "Remove"


@dataclass(frozen=True, slots=True)
class RecreateReplica(ReplicaAction):
    """Replace the container by a new one under the same name: stop-first (the new one is
    created, the old one stops and goes, then the new one starts) or start-first (the new one
    runs, and is healthy when it has a healthcheck, before the old one stops). The new one
    keeps the old one's anonymous volumes unless ``renew`` (`up -V`)."""

    start_first: bool = False
    renew: bool = False
    verb = "Recreate"

    def describe(self) -> str:
        order = " (start-first)" if self.start_first else ""  # docker compose's line otherwise
        return f"Container {self.name}  {self.verb}{order}"


class RestartReplica(ReplicaAction):
    verb = "Restart"


class KeepReplica(ReplicaAction):
    """A selected replica that already runs as wanted: nothing is done, docker compose's
    ``Running`` line is shown."""

    verb = "Running"


Action = EnsureNetwork | EnsureVolume | RemoveNetwork | RemoveVolume | ReplicaAction


@dataclass(frozen=True, slots=True)
class Wait:
    service: str
    condition: str = SERVICE_STARTED
    required: bool = True


@dataclass(frozen=True, slots=True)
class ServiceStep:
    service: str
    actions: tuple[ReplicaAction, ...] = ()
    waits: tuple[Wait, ...] = ()


@dataclass(frozen=True, slots=True)
class Plan:
    setup: tuple[EnsureNetwork | EnsureVolume, ...] = ()
    services: tuple[ServiceStep, ...] = ()
    teardown: tuple[Action, ...] = ()
    warnings: tuple[str, ...] = ()
    # service -> replica count the control loop keeps once the plan ran (empty: no change)
    replicas: dict[str, int] = field(default_factory=dict, compare=False)

    def actions(self) -> list[Action]:
        steps = [a for s in self.services for a in s.actions]
        return [*self.setup, *steps, *self.teardown]

    def changes(self) -> list[Action]:
        """The actions that change something (what ``--dry-run`` lists)."""
        return [a for a in self.actions() if _changes(a)]

    def render(self) -> str:
        lines = [a.describe() for a in self.changes()]
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines) if lines else "Nothing to do"

    @property
    def empty(self) -> bool:
        return not self.changes()


def _changes(action: Action) -> bool:
    if isinstance(action, EnsureNetwork | EnsureVolume):
        return action.shown
    return not isinstance(action, KeepReplica)
