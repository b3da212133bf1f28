"""Value objects inside a service: ports, mounts, dependencies, healthcheck, logging, ...

Field order follows compose-go's structs, so dumps come out in ``docker compose config`` order.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    Field,
    field_serializer,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import PydanticCustomError

from compose.model.base import ByteSize, ComposeModel, Duration, ScalarStr, StrMap


def _reject_short(kind: str, example: str, value: Any) -> Any:
    if isinstance(value, str | int) and not isinstance(value, bool):
        raise PydanticCustomError(
            f"invalid_{kind}", f'invalid {kind} "{{value}}" (expected {example})', {"value": value}
        )
    return value


def _octal_mode(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return int(value, 8)
        except ValueError:
            raise PydanticCustomError(
                "invalid_mode", 'invalid file mode "{v}"', {"v": value}
            ) from None
    return value


_PUBLISHED = re.compile(r"^(\d{1,5})(?:-(\d{1,5}))?$")
FileMode = Annotated[int, BeforeValidator(_octal_mode)]


class PortMapping(ComposeModel):
    """One published or exposed container port (long syntax)."""

    name: str | None = None
    mode: Literal["ingress", "host"] = "ingress"
    host_ip: str | None = None
    target: int = Field(ge=0, le=65535)
    published: ScalarStr | None = None
    protocol: str = "tcp"
    app_protocol: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _long_form_only(cls, data: Any) -> Any:
        return _reject_short("port", "the long form {target, published, ...}", data)

    @field_validator("host_ip")
    @classmethod
    def _ip_address(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ipaddress.ip_address(value)
            except ValueError:
                raise ValueError(f'invalid IP address "{value}"') from None
        return value

    @field_validator("published")
    @classmethod
    def _port_or_range(cls, value: str | None) -> str | None:
        match = _PUBLISHED.match(value) if value is not None else None
        if value is not None and (match is None or int(match[1]) > int(match[2] or match[1])):
            raise ValueError(f'invalid published port "{value}" (a port or a range "8000-8010")')
        if match is not None and int(match[2] or match[1]) > 65535:
            raise ValueError(f'invalid published port "{value}" (ports end at 65535)')
        return value

    @property
    def published_range(self) -> tuple[int, int] | None:
        """(first, last) host ports, or None when the host port is ephemeral."""
        if not self.published:
            return None
        first, _, last = self.published.partition("-")
        return int(first), int(last or first)


class MountBind(ComposeModel):
    selinux: Literal["z", "Z"] | None = None
    propagation: str | None = None
    create_host_path: bool = True
    recursive: str | None = None


class MountVolume(ComposeModel):
    labels: StrMap = Field(default_factory=dict)
    nocopy: bool = False
    subpath: str | None = None


class MountTmpfs(ComposeModel):
    size: ByteSize | None = None
    mode: FileMode | None = None


class MountImage(ComposeModel):
    subpath: str | None = None


class ServiceVolume(ComposeModel):
    """One mount of a service (``volumes:`` long syntax)."""

    type: Literal["bind", "volume", "tmpfs", "image", "npipe", "cluster"]
    source: str | None = None
    target: str
    read_only: bool = False
    consistency: str | None = None
    bind: MountBind | None = None
    volume: MountVolume | None = None
    tmpfs: MountTmpfs | None = None
    image: MountImage | None = None

    @model_validator(mode="before")
    @classmethod
    def _long_form_only(cls, data: Any) -> Any:
        return _reject_short("volume", "the long form {type, source, target, ...}", data)

    @model_validator(mode="after")
    def _bind_has_source(self) -> ServiceVolume:
        if self.type == "bind" and not self.source:
            raise ValueError(f'bind mount at "{self.target}" needs a source path')
        return self


Mount = ServiceVolume


class DependsOn(ComposeModel):
    condition: Literal["service_started", "service_healthy", "service_completed_successfully"] = (
        "service_started"
    )
    restart: bool = False
    required: bool = True


class Healthcheck(ComposeModel):
    """Docker's defaults apply to every unset field (moby ``daemon/health.go``)."""

    test: list[str] | None = None
    timeout: Duration = 30.0
    interval: Duration = 30.0
    retries: int = Field(default=3, ge=0)
    start_period: Duration = 0.0
    start_interval: Duration = 5.0
    disable: bool = False

    @field_validator("test")
    @classmethod
    def _test_form(cls, test: list[str] | None) -> list[str] | None:
        if test and test[0] not in ("NONE", "CMD", "CMD-SHELL"):
            raise ValueError(
                f'healthcheck test must start with NONE, CMD or CMD-SHELL, not "{test[0]}"'
            )
        if test and test[0] != "NONE" and len(test) < 2:
            raise ValueError(f"healthcheck test {test[0]} needs a command")
        return test

    @property
    def disabled(self) -> bool:
        return self.disable or (self.test is not None and self.test[:1] == ["NONE"])


class Logging(ComposeModel):
    driver: str | None = None
    options: dict[str, ScalarStr | None] = Field(default_factory=dict)


class Ulimit(ComposeModel):
    """``nofile: 1024`` (``single``) or ``nofile: {soft: 1024, hard: 2048}``."""

    single: SkipJsonSchema[int | None] = Field(default=None, alias="__single__")
    soft: int | None = None
    hard: int | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_int(cls, data: Any) -> Any:
        if isinstance(data, int) and not isinstance(data, bool):
            return {"__single__": data}
        return data

    @model_serializer(mode="wrap")
    def _join_extensions(self, handler: Any, info: Any) -> Any:  # overrides the base's
        return self.single if self.single is not None else handler(self)

    @property
    def limits(self) -> tuple[int, int]:
        """(soft, hard)."""
        if self.single is not None:
            return self.single, self.single
        soft = self.soft if self.soft is not None else self.hard
        hard = self.hard if self.hard is not None else soft
        return int(soft or 0), int(hard or 0)


class ServiceNetwork(ComposeModel):
    aliases: list[str] = Field(default_factory=list)
    driver_opts: StrMap = Field(default_factory=dict)
    gw_priority: int = 0
    interface_name: str | None = None
    ipv4_address: str | None = None
    ipv6_address: str | None = None
    link_local_ips: list[str] = Field(default_factory=list)
    mac_address: str | None = None
    priority: int = 0


class FileReference(ComposeModel):
    """A service's use of a top-level secret or config."""

    source: str
    target: str | None = None
    uid: ScalarStr | None = None
    gid: ScalarStr | None = None
    mode: FileMode | None = None

    @field_serializer("mode")
    def _octal(self, mode: int | None) -> str | None:
        return None if mode is None else f"0{mode:o}"


class EnvFile(ComposeModel):
    path: str
    required: bool = True
    format: str | None = None


class BuildSpec(ComposeModel):
    context: str | None = None
    dockerfile: str | None = None
    dockerfile_inline: str | None = None
    entitlements: list[str] = Field(default_factory=list)
    args: dict[str, ScalarStr | None] = Field(default_factory=dict)
    provenance: ScalarStr | None = None
    sbom: ScalarStr | None = None
    ssh: list[str] = Field(default_factory=list)
    labels: StrMap = Field(default_factory=dict)
    cache_from: list[str] = Field(default_factory=list)
    cache_to: list[str] = Field(default_factory=list)
    no_cache: bool = False
    no_cache_filter: list[str] = Field(default_factory=list)
    additional_contexts: StrMap = Field(default_factory=dict)
    pull: bool = False
    extra_hosts: list[str] = Field(default_factory=list)
    isolation: str | None = None
    network: str | None = None
    target: str | None = None
    secrets: list[FileReference] = Field(default_factory=list)
    shm_size: ByteSize | None = None
    tags: list[str] = Field(default_factory=list)
    ulimits: dict[str, Ulimit] = Field(default_factory=dict)
    platforms: list[str] = Field(default_factory=list)
    privileged: bool = False


class Extends(ComposeModel):
    file: str | None = None
    service: str
