"""References from one service to another (the edges of the dependency graph), pure data.

``service_refs(service)`` lists every place a service names another service: ``depends_on``,
``links``, ``network_mode``/``ipc``/``pid: service:x`` and ``volumes_from``. The consistency
check (``compose.model.stack``) and ``compose.graph`` both read them from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

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


def _depends(base: KeyPath, name: str, dep: DependsOn) -> ServiceRef:
    return ServiceRef(
        "depends_on",
        name,
        (*base, "depends_on", name),
        condition=dep.condition,
        required=dep.required,
        restart=dep.restart,
    )
