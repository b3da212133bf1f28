"""The service dependency graph (networkx): who must start before whom.

An edge ``web → db`` means "web depends on db" and carries the reference kinds that made it
(``depends_on``, ``links``, ``network_mode``, ``ipc``, ``pid``, ``volumes_from``) and, for
``depends_on``, its ``condition``/``required``/``restart``. Start order is the topological
generations of the dependencies (each generation may start in parallel); stop order is the
reverse. Unknown targets raise ``UnknownServiceError``; cycles raise ``DependencyCycleError``
with the path, e.g. ``web → db → cache → web``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import networkx as nx

from compose.errors import DependencyCycleError, UnknownServiceError
from compose.model.refs import (
    ServiceRef,
    cycle_text,
    dangling,
    find_cycle,
    reachable,
    service_refs,
)

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
    """Dependencies between the services of one stack; read-only after construction."""

    def __init__(self, graph: nx.DiGraph) -> None:
        self._graph = graph

    @classmethod
    def from_stack(cls, stack: Stack) -> ServiceGraph:
        graph = nx.DiGraph()
        graph.add_nodes_from(stack.services)
        for service in stack.services.values():
            for ref in service_refs(service):
                _add_ref(graph, stack, ref)
        _check_acyclic(graph)
        return cls(graph)

    @property
    def services(self) -> list[str]:
        return sorted(self._graph.nodes)

    def dependencies(self, service: str, *, transitive: bool = False) -> set[str]:
        """Services ``service`` needs started first."""
        self._known(service)
        if transitive:
            return set(nx.descendants(self._graph, service))
        return set(self._graph.successors(service))

    def dependents(self, service: str, *, transitive: bool = False) -> set[str]:
        """Services that need ``service``."""
        self._known(service)
        if transitive:
            return set(nx.ancestors(self._graph, service))
        return set(self._graph.predecessors(service))

    def dependency(self, service: str, target: str) -> Dependency:
        data = self._graph.edges[service, target]
        return Dependency(
            service,
            target,
            frozenset(data["kinds"]),
            data["condition"],
            data["required"],
            data["restart"],
            tuple(data["refs"]),
        )

    def start_order(self, services: set[str] | None = None) -> list[set[str]]:
        """Generations, dependencies first; the services of one generation can start together."""
        graph = self._graph if services is None else self._graph.subgraph(services)
        return [set(gen) for gen in nx.topological_generations(graph.reverse(copy=False))]

    def stop_order(self, services: set[str] | None = None) -> list[set[str]]:
        """Dependents first: the reverse of ``start_order``."""
        return list(reversed(self.start_order(services)))

    def with_dependencies(self, services: set[str]) -> set[str]:
        """``services`` plus everything they depend on, transitively."""
        for name in services:
            self._known(name)
        return reachable(services, self._graph.edges)

    def _known(self, service: str) -> None:
        if service not in self._graph:
            raise UnknownServiceError(f'no such service: "{service}"')


def _add_ref(graph: nx.DiGraph, stack: Stack, ref: ServiceRef) -> None:
    service = ref.path[1]
    if ref.target not in stack.services:
        if not ref.required:
            return  # docker compose's graph drops an optional dependency on an absent service
        why = dangling(ref, stack.services, stack.disabled_services)
        raise UnknownServiceError(f"services.{service}: {why}", hint=_profile_hint(stack, ref))
    if graph.has_edge(service, ref.target):
        _merge_edge(graph.edges[service, ref.target], ref)
        return
    graph.add_edge(
        service,
        ref.target,
        kinds={ref.kind},
        refs=[ref],
        condition=ref.condition,
        required=ref.required,
        restart=ref.restart,
    )


def _merge_edge(data: dict, ref: ServiceRef) -> None:
    data["kinds"].add(ref.kind)
    data["refs"].append(ref)
    if ref.kind == "depends_on":
        data.update(condition=ref.condition, required=ref.required, restart=ref.restart)


def _profile_hint(stack: Stack, ref: ServiceRef) -> str | None:
    if ref.target in stack.disabled_services:
        return f'enable the profiles of "{ref.target}" with --profile or COMPOSE_PROFILES'
    return None


def _check_acyclic(graph: nx.DiGraph) -> None:
    cycle = find_cycle(graph.nodes, graph.edges)
    if cycle:
        raise DependencyCycleError(cycle_text(cycle))
