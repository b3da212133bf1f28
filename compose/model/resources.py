"""Top-level networks, volumes, secrets and configs."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, field_validator, model_validator

from compose.model.base import ComposeModel, ScalarStr, StrMap
from compose.names import volume_name_problem


class IpamPool(ComposeModel):
    subnet: str | None = None
    gateway: str | None = None
    ip_range: str | None = None
    aux_addresses: StrMap = Field(default_factory=dict)


class Ipam(ComposeModel):
    driver: str | None = None
    config: list[IpamPool] = Field(default_factory=list)
    options: StrMap = Field(default_factory=dict)


class Network(ComposeModel):
    name: str | None = None
    driver: str | None = None
    driver_opts: StrMap = Field(default_factory=dict)
    ipam: Ipam = Field(default_factory=Ipam)
    external: bool = False
    internal: bool = False
    attachable: bool = False
    labels: StrMap = Field(default_factory=dict)
    enable_ipv4: bool | None = None
    enable_ipv6: bool | None = None


class Volume(ComposeModel):
    name: str | None = None
    driver: str | None = None
    driver_opts: StrMap = Field(default_factory=dict)
    external: bool = False
    labels: StrMap = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _local_name(cls, value: str | None) -> str | None:
        """Docker's rule for local volume names: the name is a directory under the state dir."""
        problem = None if value is None else volume_name_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _external_alone(self) -> Volume:
        """compose-go: an external volume takes nothing but ``name`` (and ``x-*``)."""
        extra = sorted(self.model_fields_set - {"name", "external", "extensions"})
        if self.external and extra:
            raise ValueError(f'conflicting parameters "external" and "{extra[0]}" specified')
        return self


class _FileObject(ComposeModel):
    """A secret or config: exactly one source, unless a driver or ``external`` provides it."""

    _SOURCES: ClassVar[tuple[str, ...]] = ("file", "environment")

    name: str | None = None
    file: str | None = None
    environment: str | None = None
    external: bool = False
    labels: StrMap = Field(default_factory=dict)
    driver: str | None = None
    driver_opts: dict[str, ScalarStr] = Field(default_factory=dict)
    template_driver: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _one_source(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        if "content" in data and "content" not in cls._SOURCES:
            raise ValueError("content is not allowed for secrets (use file or environment)")
        sources = [k for k in cls._SOURCES if data.get(k) is not None]
        keys = "|".join(cls._SOURCES)
        if len(sources) > 1:
            raise ValueError(f"{keys} attributes are mutually exclusive")
        if not sources and not data.get("driver") and "external" not in data:
            raise ValueError(f"one of {keys} must be set")
        return data


class Secret(_FileObject):
    pass


class Config(_FileObject):
    _SOURCES: ClassVar[tuple[str, ...]] = ("file", "environment", "content")

    content: str | None = None
