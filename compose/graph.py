"""The service dependency graph (networkx): who must start before whom.

An edge ``web → db`` means "web depends on db" and carries the reference kinds that made it
(``depends_on``, ``links``, ``network_mode``, ``ipc``, ``pid``, ``volumes_from``) and, for
``depends_on``, its ``condition``/``required``/``restart``. Start order is the topological
generations of the dependencies (each generation may start in parallel); stop order is the
reverse. Unknown targets raise ``UnknownServiceError``; cycles raise ``DependencyCycleError``
with the path, e.g. ``web → db → cache → web``.

The one place for service ordering: ``service_dependencies`` (the merged edges) and
``generations`` (stdlib graphlib) need no networkx, so ``up``/``down`` use them directly;
networkx (~80 ms to import) is imported only when a ``ServiceGraph`` is built.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

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
    import networkx as nx

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
        import networkx as nx

        graph = nx.DiGraph()
        graph.add_nodes_from(stack.services)
        for service, targets in service_dependencies(stack).items():
            for target, dep in targets.items():
                graph.add_edge(service, target, dep=dep)
        _check_acyclic(graph)
        return cls(graph)

    @property
    def services(self) -> list[str]:
        return sorted(self._graph.nodes)

    def dependencies(self, service: str, *, transitive: bool = False) -> set[str]:
        """Services ``service`` needs started first."""
        self._known(service)
        if transitive:
            return reachable([service], self._graph.edges) - {service}
        return set(self._graph.successors(service))

    def dependents(self, service: str, *, transitive: bool = False) -> set[str]:
        """Services that need ``service``."""
        self._known(service)
        if transitive:
            return reachable([service], self._graph.reverse(copy=False).edges) - {service}
        return set(self._graph.predecessors(service))

    def dependency(self, service: str, target: str) -> Dependency:
        dep: Dependency = self._graph.edges[service, target]["dep"]
        return dep

    def start_order(self, services: set[str] | None = None) -> list[set[str]]:
        """Generations, dependencies first; the services of one generation can start together."""
        nodes = self._graph.nodes if services is None else services
        needs = {n: [t for t in self._graph.successors(n) if t in nodes] for n in nodes}
        return [set(gen) for gen in generations(needs)]

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


def service_dependencies(stack: Stack) -> dict[str, dict[str, Dependency]]:
    """Per service, per service it needs: one ``Dependency`` merging every reference to it
    (``depends_on`` sets condition/required/restart). An optional dependency on an absent
    service is dropped (as docker compose does); a required one raises."""
    out: dict[str, dict[str, Dependency]] = {name: {} for name in stack.services}
    for service in stack.services.values():
        for ref in service_refs(service):
            _add_ref(out[service.name], stack, ref)
    return out


def generations(needs: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Topological generations of ``{service: services it needs}``, dependencies first, each
    sorted by name (stable plans and output). The stdlib's graphlib: no networkx import."""
    import graphlib

    sorter = graphlib.TopologicalSorter({n: list(ts) for n, ts in needs.items()})
    sorter.prepare()
    order: list[list[str]] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        order.append(ready)
        sorter.done(*ready)
    return order


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
    merged: dict[str, Any] = {"kinds": old.kinds | {ref.kind}, "refs": (*old.refs, ref)}
    if ref.kind == "depends_on":
        merged.update(condition=ref.condition, required=ref.required, restart=ref.restart)
    edges[ref.target] = dataclasses.replace(old, **merged)


def _profile_hint(stack: Stack, ref: ServiceRef) -> str | None:
    if ref.target in stack.disabled_services:
        return f'enable the profiles of "{ref.target}" with --profile or COMPOSE_PROFILES'
    return None


def _check_acyclic(graph: nx.DiGraph) -> None:
    cycle = find_cycle(graph.nodes, graph.edges)
    if cycle:
        raise DependencyCycleError(cycle_text(cycle))
