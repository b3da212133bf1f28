"""Cross-reference checks on a validated stack (compose-go ``loader/validate.go checkConsistency``).

``consistency_problems(stack)`` lists every dangling reference or contradiction as
``(key path, why)``; ``load_stack(..., consistency=True)`` turns them into located lines and
``--no-consistency`` skips them, as in docker compose. Dependency cycles are reported only when
nothing else is wrong (a dangling reference can make a cycle meaningless).
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from compose.model.refs import (
    KeyPath,
    cycle_text,
    dangling,
    find_cycle,
    service_edges,
    service_refs,
)
from compose.model.service import DEPLOY_TWINS
from compose.stackfile.types import did_you_mean

if TYPE_CHECKING:
    from compose.model.service import Service
    from compose.model.stack import Stack

Problem = tuple[KeyPath, str]


def consistency_problems(stack: Stack) -> list[Problem]:
    problems: list[Problem] = []
    for service in stack.services.values():
        problems += _resource_refs(stack, service)
        problems += _service_refs(stack, service)
        problems += _service_rules(service)
    problems += _container_name_clashes(stack)
    return problems or _cycles(stack)


def _resource_refs(stack: Stack, service: Service) -> list[Problem]:
    base: KeyPath = ("services", service.name)
    problems: list[Problem] = [
        ((*base, "networks", net), _undeclared("network", net, stack.networks))
        for net in service.networks
        if net not in stack.networks and net != "default"
    ]
    problems += [
        ((*base, "volumes", i), _undeclared("named volume", m.source, stack.volumes))
        for i, m in enumerate(service.volumes)
        if m.type == "volume" and m.source and m.source not in stack.volumes
    ]
    for kind, declared in (("secrets", stack.secrets), ("configs", stack.configs)):
        problems += [
            ((*base, kind, i), _undeclared(kind[:-1], ref.source, declared))
            for i, ref in enumerate(getattr(service, kind))
            if ref.source not in declared
        ]
    return problems


def _undeclared(what: str, name: str, declared: dict[str, Any]) -> str:
    section = "volumes" if what == "named volume" else f"{what}s"
    close = did_you_mean(name, declared)
    return f'{what} "{name}" is not declared in top-level {section}{close}'


def _service_refs(stack: Stack, service: Service) -> list[Problem]:
    """One problem per missing target: at the reference the user wrote (``network_mode``,
    ``links``...) rather than at the ``depends_on`` the loader implied from it."""
    problems: list[Problem] = []
    refs = service_refs(service)
    implied = {r.target for r in refs if r.kind != "depends_on"}
    for ref in refs:
        why = dangling(ref, stack.services, stack.disabled_services)
        if why and not (ref.kind == "depends_on" and ref.target in implied):
            problems.append((ref.path, why))
    return problems


def _service_rules(service: Service) -> list[Problem]:
    base: KeyPath = ("services", service.name)
    problems: list[Problem] = []
    if not service.image and service.build is None and service.provider is None:
        problems.append(
            (base, f'service "{service.name}" has neither an image nor a build context specified')
        )
    build = service.build
    if build is not None and build.dockerfile and build.dockerfile_inline:
        problems.append(
            ((*base, "build"), "dockerfile and dockerfile_inline are mutually exclusive")
        )
    if service.container_name and service.replicas > 1:
        problems.append(
            (
                (*base, "container_name"),
                f'container_name "{service.container_name}" '
                f"cannot be used with {service.replicas} replicas (names must be unique)",
            )
        )
    replicas = service.deploy.replicas if service.deploy else None
    if service.scale is not None and replicas is not None and replicas != service.scale:
        problems.append(
            ((*base, "scale"), f"scale ({service.scale}) and deploy.replicas ({replicas}) disagree")
        )
    if service.network_mode and service.networks:
        problems.append(
            ((*base, "network_mode"), "network_mode and networks are mutually exclusive")
        )
    return problems + _deploy_twins(service)


def _deploy_twins(service: Service) -> list[Problem]:
    """compose-go: a legacy key (``mem_limit``...) and a ``deploy.resources`` section that
    does not repeat the same value is an error, even when the section leaves the key unset."""
    problems: list[Problem] = []
    for legacy, (section, key) in DEPLOY_TWINS.items():
        value: Any = getattr(service, legacy)
        block, twin = service.deploy_twin(legacy)
        if not value or block is None or twin == value:
            continue
        problems.append(
            (
                ("services", service.name, legacy),
                f"can't set distinct values on '{legacy}' and "
                f"'deploy.resources.{section}.{key}' ({_shown(twin)})",
            )
        )
    return problems


def _shown(value: Any) -> str:
    return "unset" if value is None else f"{value}"


def _container_name_clashes(stack: Stack) -> list[Problem]:
    names = Counter(s.container_name for s in stack.services.values() if s.container_name)
    return [
        (
            ("services", s.name, "container_name"),
            f'container_name "{s.container_name}" is used by {names[s.container_name]} services',
        )
        for s in stack.services.values()
        if s.container_name and names[s.container_name] > 1
    ]


def _cycles(stack: Stack) -> list[Problem]:
    cycle = find_cycle(stack.services, service_edges(stack.services.values()))
    if not cycle:
        return []
    return [(("services", cycle[0]), cycle_text(cycle))]
