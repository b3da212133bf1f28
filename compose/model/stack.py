"""The whole stack: services plus top-level networks, volumes, secrets and configs.

Fields the file does not contain (working dir, files, interpolation environment, warnings,
profile-disabled services) are carried under ``__dunder__`` aliases so that a stack file cannot
set them, and are excluded from dumps. ``consistency_problems()`` is the cross-reference check
that ``load_stack(..., consistency=True)`` runs (compose-go's ``checkConsistency``).
"""

from __future__ import annotations

import graphlib
import re
from collections import Counter
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema

from compose.model.base import ComposeModel, Nullable
from compose.model.refs import KeyPath, service_refs
from compose.model.resources import Config, Network, Secret, Volume
from compose.model.service import SERVICE_NAME_ALIAS, Service

Problem = tuple[KeyPath, str]
_SERVICE_NAME = re.compile(r"^[a-zA-Z0-9._-]+$")


def _internal(default: Any, alias: str) -> Any:
    return Field(default=default, alias=alias, exclude=True, repr=False)


class Stack(ComposeModel):
    name: str
    services: dict[str, Service] = Field(default_factory=dict)
    networks: dict[str, Annotated[Network, Nullable]] = Field(default_factory=dict)
    volumes: dict[str, Annotated[Volume, Nullable]] = Field(default_factory=dict)
    secrets: dict[str, Annotated[Secret, Nullable]] = Field(default_factory=dict)
    configs: dict[str, Annotated[Config, Nullable]] = Field(default_factory=dict)
    models: dict[str, Any] = Field(default_factory=dict)

    working_dir: SkipJsonSchema[Path] = _internal(Path("."), "__working_dir__")
    files: SkipJsonSchema[tuple[Path, ...]] = _internal((), "__files__")
    environment: SkipJsonSchema[dict[str, str]] = _internal({}, "__environment__")
    warnings: SkipJsonSchema[tuple[str, ...]] = _internal((), "__warnings__")
    disabled_services: SkipJsonSchema[frozenset[str]] = _internal(frozenset(), "__disabled__")

    @model_validator(mode="before")
    @classmethod
    def _name_services(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("services"), dict):
            return data
        services = {name: _with_name(name, spec) for name, spec in data["services"].items()}
        return {**data, "services": services}

    @field_validator("services")
    @classmethod
    def _service_names(cls, services: dict[str, Service]) -> dict[str, Service]:
        bad = [name for name in services if not _SERVICE_NAME.match(name)]
        if bad:
            raise ValueError(f'invalid service name "{bad[0]}" (letters, digits, ".", "_", "-")')
        return services

    def service(self, name: str) -> Service:
        return self.services[name]

    def all_profiles(self) -> list[str]:
        return sorted({p for s in self.services.values() for p in s.profiles})

    def consistency_problems(self) -> list[Problem]:
        """Every dangling reference or contradiction, with the key path it is written at."""
        problems: list[Problem] = []
        for service in self.services.values():
            problems += _resource_refs(self, service)
            problems += _service_refs(self, service)
            problems += _service_rules(service)
        problems += _container_name_clashes(self)
        return problems or _cycles(self)


def _with_name(name: str, spec: Any) -> Any:
    if spec is None:
        spec = {}
    return {**spec, SERVICE_NAME_ALIAS: name} if isinstance(spec, dict) else spec


def _resource_refs(stack: Stack, service: Service) -> list[Problem]:
    base: KeyPath = ("services", service.name)
    problems: list[Problem] = [
        ((*base, "networks", net), f'network "{net}" is not declared in top-level networks')
        for net in service.networks
        if net not in stack.networks and net != "default"
    ]
    for i, mount in enumerate(service.volumes):
        if mount.type == "volume" and mount.source and mount.source not in stack.volumes:
            problems.append(
                (
                    (*base, "volumes", i),
                    f'named volume "{mount.source}" is not declared in top-level volumes',
                )
            )
    for kind, declared in (("secrets", stack.secrets), ("configs", stack.configs)):
        for i, ref in enumerate(getattr(service, kind)):
            if ref.source not in declared:
                problems.append(
                    (
                        (*base, kind, i),
                        f'{kind[:-1]} "{ref.source}" is not declared in top-level {kind}',
                    )
                )
    return problems


def _service_refs(stack: Stack, service: Service) -> list[Problem]:
    problems: list[Problem] = []
    for ref in service_refs(service):
        if ref.target in stack.services or not ref.required:
            continue
        if ref.target in stack.disabled_services:
            why = f'{ref.kind} "{ref.target}": that service is disabled by its profiles'
        else:
            why = f'{ref.kind} refers to undefined service "{ref.target}"'
        problems.append((ref.path, why))
    return problems


def _service_rules(service: Service) -> list[Problem]:
    base: KeyPath = ("services", service.name)
    problems: list[Problem] = []
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
    return problems


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
    """A dependency cycle, found with the stdlib (networkx stays off the ``config`` path)."""
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for service in stack.services.values():
        sorter.add(
            service.name, *(r.target for r in service_refs(service) if r.target in stack.services)
        )
    try:
        sorter.prepare()
    except graphlib.CycleError as exc:
        cycle = list(reversed(exc.args[1]))
        return [(("services", cycle[0]), "dependency cycle: " + " → ".join(cycle))]
    return []
