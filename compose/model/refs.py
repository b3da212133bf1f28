"""References from one service to another (the edges of the dependency graph), pure data.

``service_refs(service)`` lists every place a service names another service: ``depends_on``,
``links``, ``network_mode``/``ipc``/``pid: service:x`` and ``volumes_from``. The consistency
check (``compose.model.consistency``) and ``compose.graph`` both read them from here, and both
find cycles with ``find_cycle`` (the stdlib's graphlib).
"""

from __future__ import annotations

import graphlib
from collections.abc import Collection, Container, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from compose.stackfile.types import did_you_mean

if TYPE_CHECKING:
    from compose.model.parts import DependsOn
    from compose.model.service import Service

KeyPath = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class ServiceRef:
    kind: str  # depends_on | links | network_mode | ipc | pid | volumes_from
    target: str
    path: KeyPath  # where it is written, e.g. ("services", "web", "links", 0)
    condition: str = "service_started"
    required: bool = True
    restart: bool = False


def service_refs(service: Service) -> list[ServiceRef]:
    base: KeyPath = ("services", service.name)
    refs = [_depends(base, name, dep) for name, dep in service.depends_on.items()]
    refs += [
        ServiceRef("links", link.split(":", 1)[0], (*base, "links", i))
        for i, link in enumerate(service.links)
    ]
    for kind in ("network_mode", "ipc", "pid"):
        value = getattr(service, kind)
        if value and value.startswith("service:"):
            refs.append(ServiceRef(kind, value.removeprefix("service:"), (*base, kind)))
    for i, entry in enumerate(service.volumes_from):
        if not entry.startswith("container:"):
            target = entry.removeprefix("service:").split(":", 1)[0]
            refs.append(ServiceRef("volumes_from", target, (*base, "volumes_from", i)))
    return refs


def dangling(ref: ServiceRef, services: Collection[str], disabled: Container[str]) -> str | None:
    """Why ``ref`` points at no service, or None. As compose-go: ``required: false`` excuses a
    dependency on a service its profiles disable, never one on an undefined service."""
    if ref.target in services:
        return None
    if ref.target in disabled:
        why = f'{ref.kind} "{ref.target}": that service is disabled by its profiles'
        return why if ref.required else None
    close = did_you_mean(ref.target, services)
    return f'{ref.kind} refers to undefined service "{ref.target}"{close}'


def service_edges(services: Iterable[Service]) -> list[tuple[str, str]]:
    """``(service, target)`` for every reference, in file order (targets may be unknown)."""
    return [(service.name, ref.target) for service in services for ref in service_refs(service)]


def reachable(starts: Iterable[str], edges: Iterable[tuple[str, str]]) -> set[str]:
    """``starts`` plus every name they reach along ``edges`` (``(a, b)``: a depends on b)."""
    targets: dict[str, list[str]] = {}
    for source, target in edges:
        targets.setdefault(source, []).append(target)
    seen, todo = set(starts), list(starts)
    while todo:
        for target in targets.get(todo.pop(), ()):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def find_cycle(nodes: Iterable[str], edges: Iterable[tuple[str, str]]) -> list[str] | None:
    """A dependency cycle as a path back to its start (``["a", "b", "a"]``), or None.

    An edge ``(a, b)`` means "a depends on b"; edges to names outside ``nodes`` are ignored.
    The path starts at the cycle's first node in ``nodes`` order, so the message is stable.
    """
    order = {node: i for i, node in enumerate(dict.fromkeys(nodes))}
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for node in order:
        sorter.add(node)
    for source, target in edges:
        if source in order and target in order:
            sorter.add(source, target)
    try:
        sorter.prepare()
    except graphlib.CycleError as exc:
        return _rotated(list(reversed(exc.args[1]))[:-1], order)
    return None


def cycle_text(cycle: list[str]) -> str:
    return "dependency cycle: " + " → ".join(cycle)


def _rotated(loop: list[str], order: dict[str, int]) -> list[str]:
    start = min(range(len(loop)), key=lambda i: order[loop[i]])
    path = loop[start:] + loop[:start]
    return [*path, path[0]]


def _depends(base: KeyPath, name: str, dep: DependsOn) -> ServiceRef:
    return ServiceRef(
        "depends_on",
        name,
        (*base, "depends_on", name),
        condition=dep.condition,
        required=dep.required,
        restart=dep.restart,
    )
