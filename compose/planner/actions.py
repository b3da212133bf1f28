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

from msgspec import Struct, field

# Conditions a ServiceStep may wait for.
SERVICE_STARTED = "service_started"
SERVICE_HEALTHY = "service_healthy"
SERVICE_COMPLETED = "service_completed_successfully"
STOPPED = "stopped"


class EnsureNetwork(Struct, frozen=True):
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


class EnsureVolume(Struct, frozen=True):
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


class RemoveNetwork(Struct, frozen=True):
    network: str
    full_name: str

    def describe(self) -> str:
        return f"Network {self.full_name}  Remove"


class RemoveVolume(Struct, frozen=True):
    volume: str
    full_name: str

    def describe(self) -> str:
        return f"Volume {self.full_name}  Remove"


class ReplicaAction(Struct, frozen=True):
    service: str
    index: int
    name: str
    verb = "Act"

    def describe(self) -> str:
        return f"Container {self.name}  {self.verb}"


class CreateReplica(ReplicaAction, frozen=True):
    verb = "Create"


class StartReplica(ReplicaAction, frozen=True):
    verb = "Start"


class StopReplica(ReplicaAction, frozen=True):
    verb = "Stop"


class RemoveReplica(ReplicaAction, frozen=True):
    verb = "Remove"


class RecreateReplica(ReplicaAction, frozen=True):
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


class RestartReplica(ReplicaAction, frozen=True):
    verb = "Restart"


class KeepReplica(ReplicaAction, frozen=True):
    """A selected replica that already runs as wanted: nothing is done, docker compose's
    ``Running`` line is shown."""

    verb = "Running"


Action = EnsureNetwork | EnsureVolume | RemoveNetwork | RemoveVolume | ReplicaAction


class Wait(Struct, frozen=True):
    service: str
    condition: str = SERVICE_STARTED
    required: bool = True


class ServiceStep(Struct, frozen=True):
    service: str
    actions: tuple[ReplicaAction, ...] = ()
    waits: tuple[Wait, ...] = ()


class Plan(Struct, frozen=True):
    setup: tuple[EnsureNetwork | EnsureVolume, ...] = ()
    services: tuple[ServiceStep, ...] = ()
    teardown: tuple[Action, ...] = ()
    warnings: tuple[str, ...] = ()
    # service -> replica count the control loop keeps once the plan ran (empty: no change)
    replicas: dict[str, int] = field(default_factory=dict)

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
