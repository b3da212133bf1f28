"""Desired state as plain data: what the planner compares with the observed records.

``compose.project`` builds it from the Stack, the graph and the config hashes, so the planner
never imports the model and its tests need nothing but these records (frozen
``msgspec.Struct`` classes: the supervisor imports them on every start).
"""

from __future__ import annotations

from msgspec import Struct, field

from compose.planner.actions import SERVICE_STARTED


class Need(Struct, frozen=True):
    """What a service needs of ``target`` before it starts (depends_on with its condition,
    links, network_mode/ipc/pid ``service:``, volumes_from)."""

    target: str
    condition: str = SERVICE_STARTED
    required: bool = True
    restart: bool = False


class DesiredService(Struct, frozen=True):
    name: str
    replicas: int = 1
    config_hash: str = ""
    depends_on: tuple[Need, ...] = ()
    networks: tuple[str, ...] = ()
    volumes: tuple[str, ...] = ()  # named volume keys
    container_name: str | None = None  # `container_name:` (replica 1 only)
    start_first: bool = False  # a changed replica's successor starts before it stops


class DesiredProject(Struct, frozen=True):
    name: str
    services: tuple[DesiredService, ...] = ()  # in dependency order (compose.order)
    networks: dict[str, bool] = field(default_factory=dict)  # key -> external
    volumes: dict[str, bool] = field(default_factory=dict)  # key -> external
    network_names: dict[str, str] = field(default_factory=dict)  # key -> full name override
    volume_names: dict[str, str] = field(default_factory=dict)

    def service(self, name: str) -> DesiredService:
        for svc in self.services:
            if svc.name == name:
                return svc
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.services]

    def network_name(self, key: str) -> str:
        return self.network_names.get(key, f"{self.name}_{key}")

    def volume_name(self, key: str) -> str:
        return self.volume_names.get(key, f"{self.name}_{key}")


class UpOptions(Struct, frozen=True):
    services: tuple[str, ...] = ()  # empty: all
    no_deps: bool = False
    force_recreate: bool = False
    no_recreate: bool = False
    renew_anon_volumes: bool = False  # `up -V`: recreate, on new anonymous volumes
    remove_orphans: bool = False
    no_start: bool = False
    scale: dict[str, int] = field(default_factory=dict)
    always_recreate_deps: bool = False  # --force-recreate reaches the dependencies too


class DownOptions(Struct, frozen=True):
    services: tuple[str, ...] = ()  # empty: the whole project
    remove_volumes: bool = False
    remove_orphans: bool = False
