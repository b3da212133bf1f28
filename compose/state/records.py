"""Record types. Plain frozen dataclasses with a dict form; JSON carries ``schema_version``."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import Any, TypeVar

from compose.errors import StateError

SCHEMA_VERSION = 1

T = TypeVar("T")

# Replica status values, as docker shows them.
CREATED, RUNNING, PAUSED, EXITED, REMOVING = "created", "running", "paused", "exited", "removing"
STATUSES = (CREATED, RUNNING, PAUSED, EXITED, REMOVING)


def container_name(project: str, service: str, index: int, custom: str | None = None) -> str:
    """The one name builder: ``<project>-<service>-<N>``, or the service's ``container_name:``
    (which only replica 1 can have: a service that sets it cannot be scaled)."""
    if custom and index == 1:
        return custom
    return f"{project}-{service}-{index}"


def new_container_id() -> str:
    """A new container's id: 64 random hex digits, as Docker draws them (``os.urandom``, what
    ``secrets.token_hex`` reads: importing secrets and hashlib cost ~5 ms of every `ps`)."""
    return os.urandom(32).hex()


def command_line(argv: list[str] | tuple[str, ...]) -> str:
    """The command as docker lists a container's: arguments with a space in single quotes
    (``sh -c 'echo hi; exit 3'``)."""
    return " ".join(f"'{a}'" if " " in a and i else a for i, a in enumerate(argv))


def staging_name(name: str, token: str) -> str:
    """The temporary name of a replica's successor while both run (Docker's recreate names
    it ``<short id>_<name>`` the same way); renamed to ``name`` once the old one is gone."""
    return f"{token}_{name}"


def staged_for(name: str) -> str:
    """The name a staging name stands in for ("" when ``name`` has no "_": not staging)."""
    return name.partition("_")[2]


@dataclass(frozen=True, slots=True)
class PortRecord:
    """One ``ports:`` entry of a replica: its container port and the host port it got."""

    target: int
    published: int | None = None  # this replica's host port (a range gives each its own)
    protocol: str = "tcp"
    host_ip: str = ""  # "" = every address

    def to_dict(self) -> dict[str, int | str | None]:
        return {
            "target": self.target,
            "published": self.published,
            "protocol": self.protocol,
            "host_ip": self.host_ip,
        }


@dataclass(frozen=True, slots=True)
class NetworkRecord:
    name: str  # compose key, e.g. "default"
    full_name: str  # "<project>_<name>"
    subnet: str | None = None
    gateway: str | None = None
    bridge: str | None = None
    external: bool = False
    subnet6: str | None = None  # with enable_ipv6
    gateway6: str | None = None


@dataclass(frozen=True, slots=True)
class ProjectRecord:
    name: str
    working_dir: str = ""
    config_files: tuple[str, ...] = ()
    created: float = 0.0
    networks: tuple[NetworkRecord, ...] = ()
    volumes: tuple[str, ...] = ()  # full names of named volumes the project created
    services: tuple[str, ...] = ()  # services of the stack at the last `up`
    # service -> the services it depends on (at the last `up`): `down` without the file
    # still stops dependents first
    dependencies: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # who the project belongs to (a test session's identity: owner pid, run, worker), as
    # ``io.pycompose.*`` labels; `ls` shows the owner, a sweep downs projects of dead owners
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ReplicaRecord:
    project: str
    service: str
    index: int
    name: str = ""
    image: str = ""
    image_digest: str | None = None
    config_hash: str = ""
    command: str = ""
    pid: int | None = None
    start_time: int | None = None  # clock ticks since boot, from /proc/<pid>/stat
    status: str = CREATED
    exit_code: int | None = None
    health: str | None = None  # None (no check), "starting", "healthy", "unhealthy"
    restart_count: int = 0
    netns: str | None = None
    ips: dict[str, str] = field(default_factory=dict)  # network key -> address
    ips6: dict[str, str] = field(default_factory=dict)  # network key -> IPv6 address
    ports: tuple[PortRecord, ...] = ()
    mounts: tuple[str, ...] = ()
    created: float = 0.0
    started_at: float | None = None
    finished_at: float | None = None
    oneoff: bool = False
    manually_stopped: bool = False
    restarting: bool = False  # exited, and its supervisor will start it again (restart policy)
    log_path: str | None = None
    runtime: dict[str, Any] = field(default_factory=dict)  # opaque data the runtime needs back
    # the name its kernel objects (netns, veth/IPAM, cgroup, replica dir) were made under: the
    # name itself, except for a replica created under a staging name by a start-first
    # recreation and renamed afterwards (kernel objects are never renamed)
    ident: str = ""
    # the container's own id, 64 hex digits drawn at its creation (Docker's container ID): a
    # recreated replica or a one-off is a new container with a new id, hence a new hostname;
    # a restart keeps it. Records of older versions get the hash of their name.
    container_id: str = ""

    def __post_init__(self) -> None:
        if not self.name:
            object.__setattr__(self, "name", container_name(self.project, self.service, self.index))
        if not self.ident:
            object.__setattr__(self, "ident", self.name)
        if not self.container_id:  # a record of an older version
            import hashlib

            digest = hashlib.sha256(self.name.encode()).hexdigest()
            object.__setattr__(self, "container_id", digest)

    @property
    def made(self) -> bool:
        """Its container was made (its process is recorded). A record without one is a
        creation cut short by a crash: kernel objects by its name, maybe, and nothing else."""
        return self.pid is not None

    @property
    def short_id(self) -> str:
        """The 12-hex short id (Docker's default hostname)."""
        return self.container_id[:12]

    def replace(self, **changes: Any) -> ReplicaRecord:
        return dataclasses.replace(self, **changes)


_PORT_FIELDS = {f.name for f in dataclasses.fields(PortRecord)}


def to_dict(record: Any) -> dict[str, Any]:
    """The JSON form. A replica's fields are JSON values already, so they are taken as they
    are (asdict's deep copy was ~80 us of each of the ~60 record writes of a scale-up)."""
    if isinstance(record, ReplicaRecord):
        data = {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}
        data["ports"] = [p.to_dict() for p in record.ports]
    else:
        data = dataclasses.asdict(record)  # nested NetworkRecords
    data["schema_version"] = SCHEMA_VERSION
    return data


def from_dict(cls: type[T], data: dict[str, Any], source: str = "record") -> T:
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise StateError(
            f"{source}: schema_version {version!r} is not {SCHEMA_VERSION}",
            hint="the state was written by another pycompose version; `down` it with that one",
        )
    known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    values = {k: v for k, v in data.items() if k in known}
    return _coerce(cls, values)


def _coerce(cls: type[T], values: dict[str, Any]) -> T:
    if cls is ProjectRecord:
        values["networks"] = tuple(NetworkRecord(**n) for n in values.get("networks", ()))
        values["config_files"] = tuple(values.get("config_files", ()))
        values["volumes"] = tuple(values.get("volumes", ()))
        values["services"] = tuple(values.get("services", ()))
        deps = values.get("dependencies", {})
        values["dependencies"] = {k: tuple(v) for k, v in deps.items()}
        values["labels"] = {str(k): str(v) for k, v in values.get("labels", {}).items()}
    if cls is ReplicaRecord:
        values["ports"] = tuple(
            PortRecord(**{k: v for k, v in p.items() if k in _PORT_FIELDS})
            for p in values.get("ports", ())
        )
        values["mounts"] = tuple(values.get("mounts", ()))
    return cls(**values)
