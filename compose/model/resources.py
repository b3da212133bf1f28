"""Top-level networks, volumes, secrets and configs."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from compose.model.base import ComposeModel, ScalarStr, StrMap


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


class _FileObject(ComposeModel):
    name: str | None = None
    file: str | None = None
    environment: str | None = None
    content: str | None = None
    external: bool = False
    labels: StrMap = Field(default_factory=dict)
    driver: str | None = None
    driver_opts: dict[str, ScalarStr] = Field(default_factory=dict)
    template_driver: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _one_source(cls, data: Any) -> Any:
        if isinstance(data, dict):
            sources = [k for k in ("file", "environment", "content") if data.get(k) is not None]
            if len(sources) > 1:
                raise ValueError(f"only one of file, environment, content may be set: {sources}")
        return data


class Secret(_FileObject):
    pass


class Config(_FileObject):
    pass
