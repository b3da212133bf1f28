"""``deploy:``: replicas, resources and restart policy (the Swarm-only keys are kept and warned)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from compose.model.base import ByteSize, ComposeModel, Duration, StrMap


def _cpus(value: Any) -> Any:
    try:
        return float(value) if isinstance(value, str) and value.strip() else value
    except ValueError:
        return value  # pydantic reports it: "must be a number"


Cpus = Annotated[float, BeforeValidator(_cpus), Field(ge=0)]


class UpdateConfig(ComposeModel):
    parallelism: int | None = None
    delay: Duration | None = None
    failure_action: str | None = None
    monitor: Duration | None = None
    max_failure_ratio: float | None = None
    order: Literal["start-first", "stop-first"] | None = None


class DiscreteResource(ComposeModel):
    kind: str
    value: int


class GenericResource(ComposeModel):
    discrete_resource_spec: DiscreteResource | None = None


class Resource(ComposeModel):
    cpus: Cpus | None = None
    memory: ByteSize | None = None
    pids: int | None = None
    devices: list[dict[str, Any]] = Field(default_factory=list)
    generic_resources: list[GenericResource] = Field(default_factory=list)


class Resources(ComposeModel):
    limits: Resource | None = None
    reservations: Resource | None = None


class RestartPolicy(ComposeModel):
    """``deploy.restart_policy``; ``condition`` none | on-failure | any."""

    condition: Literal["none", "on-failure", "any"] = "any"
    delay: Duration | None = None
    max_attempts: int | None = Field(default=None, ge=0)
    window: Duration | None = None


class PlacementPreference(ComposeModel):
    spread: str | None = None


class Placement(ComposeModel):
    constraints: list[str] = Field(default_factory=list)
    preferences: list[PlacementPreference] = Field(default_factory=list)
    max_replicas_per_node: int | None = None


class Deploy(ComposeModel):
    mode: str | None = None
    replicas: int | None = Field(default=None, ge=0)
    labels: StrMap = Field(default_factory=dict)
    update_config: UpdateConfig | None = None
    rollback_config: UpdateConfig | None = None
    resources: Resources | None = None
    restart_policy: RestartPolicy | None = None
    placement: Placement | None = None
    endpoint_mode: str | None = None


# deploy keys that only make sense on a Swarm: accepted, warned, ignored
SWARM_ONLY_DEPLOY_KEYS = ("rollback_config", "placement", "endpoint_mode")
# update_config.order (start-first / stop-first) is honoured by recreation; the rest is swarm's
