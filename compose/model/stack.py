"""The whole stack: services plus top-level networks, volumes, secrets and configs.

Fields the file does not contain (working dir, files, interpolation environment, warnings,
profile-disabled services) are carried under ``__dunder__`` aliases so that a stack file cannot
set them, and are excluded from dumps. ``consistency_problems()`` is the cross-reference check
that ``load_stack(..., consistency=True)`` runs (compose-go's ``checkConsistency``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema

from compose.model.base import ComposeModel, Nullable
from compose.model.consistency import Problem, consistency_problems
from compose.model.resources import Config, Network, Secret, Volume
from compose.model.service import SERVICE_NAME_ALIAS, Service
from compose.names import MAX_NAME, key_problem, volume_name_problem


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
    def _service_names(
        cls, services: dict[str, Service], info: ValidationInfo
    ) -> dict[str, Service]:
        project = str(info.data.get("name", ""))
        for name, service in services.items():
            problem = key_problem("service", name) or _generated_name_problem(project, service)
            if problem:
                raise ValueError(problem)
        return services

    @field_validator("networks", "volumes", "secrets", "configs")
    @classmethod
    def _resource_keys(cls, resources: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        """The keys name host objects (``<project>_<key>`` volumes, IPAM dirs): the spec's
        pattern; a volume's full name (its ``name:``, the key of an external one, or
        ``<project>_<key>``) follows Docker's rule for local volume names."""
        kind = str(info.field_name)[:-1]
        for key, spec in resources.items():
            problem = key_problem(kind, key)
            if not problem and kind == "volume" and spec is not None and not spec.name:
                full = key if spec.external else f"{info.data.get('name', '')}_{key}"
                problem = volume_name_problem(full)
            if problem:
                raise ValueError(problem)
        return resources

    def service(self, name: str) -> Service:
        return self.services[name]

    def all_profiles(self) -> list[str]:
        return sorted({p for s in self.services.values() for p in s.profiles})

    def consistency_problems(self) -> list[Problem]:
        """Every dangling reference or contradiction, with the key path it is written at."""
        return consistency_problems(self)


def _generated_name_problem(project: str, service: Service) -> str | None:
    """Each replica is named ``<project>-<service>-<N>`` (unless ``container_name``)."""
    longest = f"{project}-{service.name}-{max(service.replicas, 1)}"
    if service.container_name or len(longest) <= MAX_NAME:
        return None
    return (
        f'service "{service.name[:40]}": its container names ({longest[:40]}…) would be '
        f"{len(longest)} characters long, at most {MAX_NAME} are allowed"
    )


def _with_name(name: str, spec: Any) -> Any:
    if spec is None:
        spec = {}
    return {**spec, SERVICE_NAME_ALIAS: name} if isinstance(spec, dict) else spec
