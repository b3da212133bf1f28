"""Replica-count decisions of the control loop (pure), after Kubernetes' ReplicaSet controller.

- ``Expectations``: creations and deletions in flight, per service (``ExpectCreations`` /
  ``ExpectDeletions``): ``reconcile`` counts them, so a replica being created is never created
  twice and one being removed is never "replaced" while it goes;
- ``diff``: desired count vs tracked replicas (+ expected) → indexes to create, replicas to
  remove. New replicas take the lowest free indexes; scale-down removes the highest first
  (docker compose's ``sortContainers``: highest numbers go first);
- ``batches``: slow start, 1, 2, 4, 8 …: a failing batch stops the remaining ones.

Which replicas count: every tracked, non-one-off replica of the service, running or exited
(docker compose counts containers, not running processes: an exited ``restart: "no"`` replica
stays as it is, as ``up`` leaves it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from compose.planner.planner import free_indexes
from compose.supervisor.tracker import ReplicaState


@dataclass
class Expectations:
    creating: dict[str, set[int]] = field(default_factory=dict)  # service -> indexes
    deleting: dict[str, set[str]] = field(default_factory=dict)  # service -> names

    def expect_create(self, service: str, index: int) -> None:
        self.creating.setdefault(service, set()).add(index)

    def expect_delete(self, service: str, name: str) -> None:
        self.deleting.setdefault(service, set()).add(name)

    def created(self, service: str, index: int) -> None:
        self.creating.get(service, set()).discard(index)

    def deleted(self, service: str, name: str) -> None:
        self.deleting.get(service, set()).discard(name)

    def satisfied(self, service: str) -> bool:
        return not self.creating.get(service) and not self.deleting.get(service)


@dataclass(frozen=True, slots=True)
class Diff:
    create: tuple[int, ...] = ()
    remove: tuple[ReplicaState, ...] = ()  # highest index first

    @property
    def empty(self) -> bool:
        return not self.create and not self.remove


def counted(
    states: Iterable[ReplicaState], expect: Expectations, service: str
) -> list[ReplicaState]:
    going = expect.deleting.get(service, set())
    return [s for s in states if s.service == service and not s.oneoff and s.name not in going]


def diff(states: Iterable[ReplicaState], want: int, expect: Expectations, service: str) -> Diff:
    live = counted(states, expect, service)
    creating = expect.creating.get(service, set())
    have = len(live) + len(creating)
    if have < want:
        used = {s.index for s in live} | creating
        return Diff(create=tuple(free_indexes(used, want - have)))
    if have > want:
        victims = sorted(live, key=lambda s: -s.index)[: have - want]  # highest first
        return Diff(remove=tuple(victims))
    return Diff()


def batches(items: list[int], first: int = 1) -> list[list[int]]:
    """Slow start: batches of 1, 2, 4, 8 … (``slowStartBatch``)."""
    out, size, rest = [], first, list(items)
    while rest:
        out.append(rest[:size])
        rest, size = rest[size:], size * 2
    return out
