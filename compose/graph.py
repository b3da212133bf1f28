"""The service dependency graph: who must start before whom.

An edge ``web → db`` means "web depends on db" and carries the reference kinds that made it
(``depends_on``, ``links``, ``network_mode``, ``ipc``, ``pid``, ``volumes_from``) and, for
``depends_on``, its ``condition``/``required``/``restart``. Start order is the topological
generations of the dependencies (``compose.order``; each generation may start in parallel);
stop order is the reverse. Unknown targets raise ``UnknownServiceError``; cycles raise
``DependencyCycleError`` with the path, e.g. ``web → db → cache → web``.

Plain dicts over the model's references (``compose.model.refs``): the graphs are tens of nodes,
and the orderings ``up`` and ``down`` need are one function each.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from compose.errors import DependencyCycleError, UnknownServiceError
from compose.model.refs import (
    ServiceRef,
    cycle_text,
    dangling,
    find_cycle,
    reachable,
    service_refs,
)
from compose.order import generations

if TYPE_CHECKING:
    from compose.model import Stack


@dataclass(frozen=True, slots=True)
class Dependency:
    """Why ``service`` depends on ``target``."""

    service: str
    target: str
    kinds: frozenset[str]
    condition: str = "service_started"
    required: bool = True
    restart: bool = False
    refs: tuple[ServiceRef, ...] = field(default=(), compare=False)


class ServiceGraph:
    """Dependencies between the services of one stack, checked acyclic; read-only."""

    def __init__(self, edges: dict[str, dict[str, Dependency]]) -> None:
        self._edges = edges

    @classmethod
    def from_stack(cls, stack: Stack) -> ServiceGraph:
        graph = cls(service_dependencies(stack))
        cycle = find_cycle(graph._edges, graph._pairs())  # the path starts in file order
        if cycle:
            raise DependencyCycleError(cycle_text(cycle))
        return graph

    @property
    def services(self) -> list[str]:
        return sorted(self._edges)

    @property
    def needs(self) -> dict[str, list[str]]:
        """Per service, the services it depends on (sorted)."""
        return {name: sorted(targets) for name, targets in self._edges.items()}

    def start_order(self) -> list[list[str]]:
        """Generations, dependencies first; the services of one generation can start together."""
        return generations(self.needs)

    def dependencies(self, service: str, *, transitive: bool = False) -> set[str]:
        """Services ``service`` needs started first."""
        if service not in self._edges:
            raise UnknownServiceError(f'no such service: "{service}"')
        if transitive:
            return reachable([service], self._pairs()) - {service}
        return set(self._edges[service])

    def dependency(self, service: str, target: str) -> Dependency:
        return self._edges[service][target]

    def _pairs(self) -> list[tuple[str, str]]:
        return [(name, target) for name, targets in self._edges.items() for target in targets]


def service_dependencies(stack: Stack) -> dict[str, dict[str, Dependency]]:
    """Per service, per service it needs: one ``Dependency`` merging every reference to it
    (``depends_on`` sets condition/required/restart). An optional dependency on an absent
    service is dropped (as docker compose does); a required one raises."""
    out: dict[str, dict[str, Dependency]] = {name: {} for name in stack.services}
    for service in stack.services.values():
        for ref in service_refs(service):
            _add_ref(out[service.name], stack, ref)
    return out


def _add_ref(edges: dict[str, Dependency], stack: Stack, ref: ServiceRef) -> None:
    service = ref.path[1]
    if ref.target not in stack.services:
        if not ref.required:
            return  # docker compose's graph drops an optional dependency on an absent service
        why = dangling(ref, stack.services, stack.disabled_services)
        raise UnknownServiceError(f"services.{service}: {why}", hint=_profile_hint(stack, ref))
    old = edges.get(ref.target)
    if old is None:
        edges[ref.target] = Dependency(
            str(service),
            ref.target,
            frozenset({ref.kind}),
            ref.condition,
            ref.required,
            ref.restart,
            (ref,),
        )
        return
    merged = dataclasses.replace(old, kinds=old.kinds | {ref.kind}, refs=(*old.refs, ref))
    if ref.kind == "depends_on":
        merged = dataclasses.replace(
            merged, condition=ref.condition, required=ref.required, restart=ref.restart
        )
    edges[ref.target] = merged


def _profile_hint(stack: Stack, ref: ServiceRef) -> str | None:
    if ref.target in stack.disabled_services:
        return f'enable the profiles of "{ref.target}" with --profile or COMPOSE_PROFILES'
    return None
