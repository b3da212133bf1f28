"""``services.<name>``: every Compose Specification attribute, in compose-go's field order.

P0/P1 attributes are typed precisely. P2 attributes (``UNSUPPORTED_KEYS``) are typed loosely so
that ``config`` can print them back; loading them adds a "not supported, ignored" warning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

from pydantic import Field, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema

from compose import limits
from compose.model.base import ByteSize, ComposeModel, Duration, NullableStrMap, ScalarStr, StrMap
from compose.model.deploy import Cpus, Deploy
from compose.model.parts import (
    BuildSpec,
    DependsOn,
    EnvFile,
    Extends,
    FileReference,
    Healthcheck,
    Logging,
    PortMapping,
    ServiceNetwork,
    ServiceVolume,
    Ulimit,
)
from compose.names import container_name_problem

_RESTART = re.compile(r"^(|no|always|unless-stopped|on-failure(:\d+)?)$")
_NAME_ALIAS: Final = "__name__"

# P2 in compose-features.md §1.3: accepted, printed by `config`, warned, not acted upon
UNSUPPORTED_KEYS = frozenset(
    """annotations attach blkio_config cgroup_parent cgroup cpu_count cpu_percent
    cpu_period cpu_quota cpu_rt_period cpu_rt_runtime credential_spec device_cgroup_rules devices
    provider external_links group_add gpus isolation mac_address memswap_limit mem_swappiness
    models oom_kill_disable oom_score_adj platform pull_refresh_after runtime storage_opt
    use_api_socket userns_mode uts volume_driver post_start pre_stop""".split()
)


@dataclass(frozen=True, slots=True)
class RestartSpec:
    """The effective restart policy (``deploy.restart_policy`` overrides ``restart``).

    ``name`` is Docker's: no | always | on-failure | unless-stopped; ``max_retries`` 0 = no limit.
    """

    name: str = "no"
    max_retries: int = 0
    delay: float | None = None
    window: float | None = None


# legacy flat key -> its twin in deploy.resources: (section, key)
DEPLOY_TWINS = {
    "cpus": ("limits", "cpus"),
    "mem_limit": ("limits", "memory"),
    "mem_reservation": ("reservations", "memory"),
    "pids_limit": ("limits", "pids"),
}
_CONDITION_TO_POLICY = {"none": "no", "no": "no", "any": "always", "always": "always"}


class Service(ComposeModel):
    name: SkipJsonSchema[str] = Field(default="", alias=_NAME_ALIAS, exclude=True)
    profiles: list[str] = Field(default_factory=list)
    annotations: StrMap = Field(default_factory=dict)
    attach: bool | None = None
    build: BuildSpec | None = None
    develop: dict[str, Any] | None = None
    blkio_config: dict[str, Any] | None = None
    cap_add: list[str] = Field(default_factory=list)
    cap_drop: list[str] = Field(default_factory=list)
    cgroup_parent: str | None = None
    cgroup: str | None = None
    cpu_count: int | None = None
    cpu_percent: float | None = None
    cpu_period: int | None = None
    cpu_quota: int | None = None
    cpu_rt_period: int | None = None
    cpu_rt_runtime: int | None = None
    cpus: Cpus | None = None
    cpuset: str | None = None
    cpu_shares: int | None = None
    command: list[str] | None = None
    configs: list[FileReference] = Field(default_factory=list)
    container_name: str | None = None
    credential_spec: dict[str, Any] | None = None
    depends_on: dict[str, DependsOn] = Field(default_factory=dict)
    deploy: Deploy | None = None
    device_cgroup_rules: list[str] = Field(default_factory=list)
    devices: list[dict[str, Any]] = Field(default_factory=list)
    dns: list[str] = Field(default_factory=list)
    dns_opt: list[str] = Field(default_factory=list)
    dns_search: list[str] = Field(default_factory=list)
    domainname: str | None = None
    entrypoint: list[str] | None = None
    provider: dict[str, Any] | None = None
    environment: NullableStrMap = Field(default_factory=dict)
    env_file: list[EnvFile] = Field(default_factory=list)
    expose: list[ScalarStr] = Field(default_factory=list)
    extends: Extends | None = None
    external_links: list[str] = Field(default_factory=list)
    extra_hosts: list[str] = Field(default_factory=list)
    group_add: list[ScalarStr] = Field(default_factory=list)
    gpus: list[dict[str, Any]] | str | None = None
    hostname: str | None = None
    healthcheck: Healthcheck | None = None
    image: str | None = None
    init: bool | None = None
    ipc: str | None = None
    isolation: str | None = None
    labels: StrMap = Field(default_factory=dict)
    label_file: list[str] = Field(default_factory=list)
    links: list[str] = Field(default_factory=list)
    logging: Logging | None = None
    mem_limit: ByteSize | None = None
    mem_reservation: ByteSize | None = None
    memswap_limit: ByteSize | None = None
    mem_swappiness: int | None = None
    mac_address: str | None = None
    models: dict[str, Any] | list[str] | None = None
    network_mode: str | None = None
    networks: dict[str, ServiceNetwork | None] = Field(default_factory=dict)
    oom_kill_disable: bool | None = None
    oom_score_adj: int | None = None
    pid: str | None = None
    pids_limit: int | None = None
    platform: str | None = None
    ports: list[PortMapping] = Field(default_factory=list)
    privileged: bool = False
    pull_policy: str | None = None
    pull_refresh_after: str | None = None
    read_only: bool = False
    restart: str | None = None
    runtime: str | None = None
    scale: int | None = Field(default=None, ge=0)
    secrets: list[FileReference] = Field(default_factory=list)
    security_opt: list[str] = Field(default_factory=list)
    shm_size: ByteSize | None = None
    stdin_open: bool = False
    stop_grace_period: Duration = 10.0
    stop_signal: str | None = None  # unset: the image's STOPSIGNAL, else SIGTERM (docker)
    storage_opt: StrMap = Field(default_factory=dict)
    sysctls: StrMap = Field(default_factory=dict)
    tmpfs: list[str] = Field(default_factory=list)
    tty: bool = False
    ulimits: dict[str, Ulimit] = Field(default_factory=dict)
    use_api_socket: bool | None = None
    user: ScalarStr | None = None
    userns_mode: str | None = None
    uts: str | None = None
    volume_driver: str | None = None
    volumes: list[ServiceVolume] = Field(default_factory=list)
    volumes_from: list[str] = Field(default_factory=list)
    working_dir: str | None = None
    post_start: list[dict[str, Any]] = Field(default_factory=list)
    pre_stop: list[dict[str, Any]] = Field(default_factory=list)

    @field_validator("container_name")
    @classmethod
    def _container_name(cls, value: str | None) -> str | None:
        """Docker's rule: the name becomes host paths (replica dir, logs, netns, cgroup)."""
        problem = None if value is None else container_name_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _bounded(self) -> Service:
        """``compose.limits``: replicas and ports a host can hold (each has a way past it)."""
        problem = limits.replicas_problem(self.name, self.replicas) or limits.ports_problem(
            self.name, len(self.ports)
        )
        if problem:
            raise ValueError(problem)
        return self

    @field_validator("restart")
    @classmethod
    def _restart_value(cls, value: str | None) -> str | None:
        if value is not None and not _RESTART.match(value):
            raise ValueError(
                f'invalid restart policy "{value}" (no, always, on-failure[:N], unless-stopped)'
            )
        return value

    @property
    def replicas(self) -> int:
        """``scale``, else ``deploy.replicas``, else 1."""
        if self.scale is not None:
            return self.scale
        if self.deploy is not None and self.deploy.replicas is not None:
            return self.deploy.replicas
        return 1

    @property
    def restart_policy(self) -> RestartSpec:
        policy = self.deploy.restart_policy if self.deploy else None
        if policy is not None:
            name = _CONDITION_TO_POLICY.get(policy.condition, policy.condition)
            return RestartSpec(name, policy.max_attempts or 0, policy.delay, policy.window)
        if not self.restart:  # unset or "" (compose accepts an empty string)
            return RestartSpec()
        name, _, retries = self.restart.partition(":")
        return RestartSpec(name, int(retries or 0))

    # The effective limits, the one place that picks between a legacy key and its
    # deploy.resources twin (DEPLOY_TWINS): the twin when set, else the legacy key (docker
    # compose's create.go). Both set and distinct is a consistency error (compose-go).
    @property
    def memory_limit(self) -> int | None:
        """Bytes: ``deploy.resources.limits.memory``, else ``mem_limit``."""
        value: int | None = self._effective("mem_limit")
        return value

    @property
    def cpu_limit(self) -> float | None:
        """CPUs: ``deploy.resources.limits.cpus``, else ``cpus``."""
        value: float | None = self._effective("cpus")
        return value

    @property
    def pids_max(self) -> int | None:
        """``deploy.resources.limits.pids``, else ``pids_limit``."""
        value: int | None = self._effective("pids_limit")
        return value

    @property
    def memory_reservation(self) -> int | None:
        """Bytes: ``deploy.resources.reservations.memory``, else ``mem_reservation``."""
        value: int | None = self._effective("mem_reservation")
        return value

    def deploy_twin(self, legacy: str) -> tuple[Any, Any]:
        """(the ``deploy.resources`` section that twins ``legacy``, or None; its value)."""
        section, key = DEPLOY_TWINS[legacy]
        resources = self.deploy.resources if self.deploy else None
        block = getattr(resources, section) if resources is not None else None
        return block, getattr(block, key) if block is not None else None

    def _effective(self, legacy: str) -> Any:
        twin = self.deploy_twin(legacy)[1]
        return getattr(self, legacy) if twin is None else twin

    @property
    def healthcheck_enabled(self) -> bool:
        return self.healthcheck is not None and not self.healthcheck.disabled

    def image_name(self, project: str) -> str:
        """The image to run: ``image``, else the built image ``<project>-<service>``."""
        return self.image or f"{project}-{self.name}"

    def unsupported_keys(self) -> list[str]:
        """Set P2 attributes (ignored by pycompose), in field order."""
        return [
            key
            for key in type(self).model_fields
            if key in UNSUPPORTED_KEYS and key in self.model_fields_set
        ]


SERVICE_NAME_ALIAS = _NAME_ALIAS
