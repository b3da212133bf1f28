"""The runtime's own model of one container (not the compose model, not the OCI spec).

``ContainerSpec`` is built by ``spec_from_service`` (or by hand in tests), checked by
``validate_spec`` and serialized to JSON for the single-threaded init child. ``ContainerHandle``
is what ``create`` returns: everything a later process needs to find the container again
(pids + start times, the replica dir, the cgroup) and it round-trips through ``to_dict``.

Replica dir layout (owned by the runtime, deleted by ``remove``)::

    <replica_dir>/upper     overlay upper dir (every write of the container lands here)
    <replica_dir>/work      overlay work dir
    <replica_dir>/rootfs    the overlay mount point (mounted only inside the container's mount ns)
    <replica_dir>/etc/      generated hostname / hosts / resolv.conf when the spec gives none
    <replica_dir>/exit.json written by the monitor when the workload exits
    <replica_dir>/stdin     (stdin_open) a fifo feeding the container's stdin
    <replica_dir>/spec.json the spec, for exec from any later process

The records are frozen ``msgspec.Struct`` classes, as the build plan's are
(``compose.build.plan`` has the measurement): every ``up``, ``exec`` and ``build`` imports them,
and these six cost ~20 ms to make as dataclasses; ``msgspec.structs.replace`` derives one.
"""

from __future__ import annotations

import signal as _signal
from pathlib import Path
from typing import Any, Protocol

from msgspec import Struct, field

from compose.errors import ContainerError

DEFAULT_SHM_SIZE = 64 * 1024 * 1024


class Mount(Struct, frozen=True):
    """A bind (``source`` is a host path) or a tmpfs mount at ``target`` inside the container."""

    target: str
    type: str = "bind"  # "bind" | "tmpfs"
    source: str = ""
    read_only: bool = False
    propagation: str = "rprivate"
    size: int | None = None  # tmpfs bytes
    mode: int | None = None  # tmpfs mode, e.g. 0o1777
    subpath: str = ""  # bind only this path inside ``source`` (resolved inside it)
    options: tuple[str, ...] = ()  # more tmpfs options, Docker's words: "exec", "uid=1000"


class Ulimit(Struct, frozen=True):
    name: str  # "nofile", "nproc", "core", ... (Docker's names)
    soft: int
    hard: int


class Limits(Struct, frozen=True):
    memory: int | None = None  # bytes (mem_limit, deploy.resources.limits.memory)
    memory_swap: int | None = None  # memory + swap in bytes, -1 = unlimited (memswap_limit)
    memory_reservation: int | None = None
    cpus: float | None = None
    cpu_shares: int | None = None
    cpu_quota: int | None = None  # µs per period (cpus wins when both are set)
    cpu_period: int | None = None  # µs, default 100000
    swappiness: int | None = None  # mem_swappiness (v1 only)
    oom_kill_disable: bool = False  # v1 only, like Docker
    pids: int | None = None
    cpuset: str | None = None  # "0-1,3" (cpuset: in compose)
    shm_size: int = DEFAULT_SHM_SIZE
    ulimits: tuple[Ulimit, ...] = ()


class ContainerSpec(Struct, frozen=True):
    id: str  # "<project>-<service>-<N>"
    layers: tuple[Path, ...]  # image layer dirs, LOWEST first
    replica_dir: Path
    argv: tuple[str, ...]
    env: tuple[str, ...] = ()
    user: str = ""  # "", "name", "uid", "name:group", "uid:gid" (resolved inside the rootfs)
    group_add: tuple[str, ...] = ()
    workdir: str = "/"
    hostname: str = ""
    domainname: str = ""
    service: str = ""
    replica: int = 1
    mounts: tuple[Mount, ...] = ()
    etc_files: tuple[tuple[str, Path], ...] = ()  # (path in container, host file bound onto it)
    netns_path: Path | None = None  # join this netns; None: a fresh empty one (or the host's)
    host_network: bool = False  # network_mode: host
    pid_mode: str = ""  # "" own pid ns | "host" | a pid ns file (/proc/<pid>/ns/pid)
    ipc_mode: str = ""  # "" own ipc ns | "host" | an ipc ns file (/proc/<pid>/ns/ipc)
    limits: Limits = field(default_factory=Limits)
    cap_add: tuple[str, ...] = ()
    cap_drop: tuple[str, ...] = ()
    privileged: bool = False
    read_only: bool = False
    sysctls: tuple[tuple[str, str], ...] = ()
    init: bool = False
    init_binary: str = ""  # host path of tini-static; empty: found by the runtime
    no_new_privileges: bool = False
    oom_score_adj: int | None = None
    seccomp: bool = True  # security_opt seccomp=unconfined turns it off
    seccomp_profile: str = ""  # a Docker-format profile (JSON text); "": Docker's default
    tty: bool = False
    stdin_open: bool = False  # stdin is the fifo <replica_dir>/stdin (never EOF)
    stop_signal: int = int(_signal.SIGTERM)
    stop_grace_period: float = 10.0
    log_path: Path | None = None  # JSON-lines log; default <replica_dir>/container.log
    log_max_size: int | None = None  # logging max-size: rotate when the log reaches it
    log_max_files: int = 1  # logging max-file: files kept (<log>, <log>.1, ...)
    cgroup_parent: str = "pycompose"  # e.g. "pycompose/<project>"
    labels: tuple[tuple[str, str], ...] = ()
    overlay_options: str = ""  # extra overlayfs options, e.g. builds: "redirect_dir=off,..."

    @property
    def upper_dir(self) -> Path:
        return self.replica_dir / "upper"

    @property
    def work_dir(self) -> Path:
        return self.replica_dir / "work"

    @property
    def rootfs_dir(self) -> Path:
        return self.replica_dir / "rootfs"

    @property
    def log_file(self) -> Path:
        return self.log_path or self.replica_dir / "container.log"

    @property
    def cgroup_path(self) -> str:
        return f"{self.cgroup_parent.strip('/')}/{self.id}"

    @property
    def subject(self) -> str:
        """How errors name this container: ``service "web" replica 2``."""
        return subject(self.service, self.replica, self.id)

    def to_dict(self) -> dict[str, Any]:
        plain: dict[str, Any] = _to_plain(self)
        return plain

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> ContainerSpec:
        doc = dict(doc)
        limits = dict(doc.pop("limits", {}))
        limits["ulimits"] = tuple(Ulimit(**u) for u in limits.get("ulimits", ()))
        return cls(
            **{k: _tupled(v) for k, v in doc.items() if k not in _PATHS and k != "mounts"},
            layers=tuple(Path(p) for p in doc["layers"]),
            replica_dir=Path(doc["replica_dir"]),
            mounts=tuple(
                Mount(**{**m, "options": tuple(m.get("options", ()))})
                for m in doc.get("mounts", ())
            ),
            etc_files=tuple((t, Path(s)) for t, s in doc.get("etc_files", ())),
            netns_path=_opt_path(doc.get("netns_path")),
            log_path=_opt_path(doc.get("log_path")),
            limits=Limits(**limits),
        )


_PATHS = {"layers", "replica_dir", "etc_files", "netns_path", "log_path"}


def subject(service: str, replica: int, container_id: str) -> str:
    """How errors name a container: ``service "web" replica 2`` (or its id outside a stack)."""
    return f'service "{service}" replica {replica}' if service else f'container "{container_id}"'


class ExitStatus(Struct, frozen=True):
    code: int | None  # 128 + signal when killed by a signal (Docker's convention)
    signal: int | None = None
    oom_killed: bool = False


class ContainerHandle(Struct, frozen=True):
    """A created container. Serializable into the state records (``to_dict``/``from_dict``)."""

    id: str
    pid: int  # host pid of the container's PID 1
    start_time: int  # /proc/<pid>/stat field 22
    monitor_pid: int  # the log copier / exit recorder (parent of pid)
    monitor_start_time: int
    replica_dir: Path
    cgroup_path: str
    log_path: Path
    service: str = ""
    replica: int = 1
    stop_signal: int = int(_signal.SIGTERM)
    stop_grace_period: float = 10.0

    @property
    def subject(self) -> str:
        return subject(self.service, self.replica, self.id)

    def to_dict(self) -> dict[str, Any]:
        plain: dict[str, Any] = _to_plain(self)
        return plain

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> ContainerHandle:
        doc = dict(doc)
        doc["replica_dir"] = Path(doc["replica_dir"])
        doc["log_path"] = Path(doc["log_path"])
        return cls(**doc)


class Recorded(Protocol):
    """What a state record (``compose.state.ReplicaRecord``) gives back: the container's name
    and the ``to_dict`` of its handle (empty before ``create``)."""

    @property
    def name(self) -> str: ...

    @property
    def runtime(self) -> dict[str, Any]: ...


def handle_of(record: Recorded) -> ContainerHandle:
    """The handle a replica's record holds (here, not in the supervisor's machine: ``exec``
    reaches it without importing anyio and netplug)."""
    if not record.runtime:
        raise ContainerError(f'container "{record.name}": not created')
    return ContainerHandle.from_dict(record.runtime)


def _to_plain(obj: Any) -> Any:
    if isinstance(obj, Struct):
        return {name: _to_plain(getattr(obj, name)) for name in obj.__struct_fields__}
    if isinstance(obj, tuple | list):
        return [_to_plain(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    return obj


def _tupled(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_tupled(v) for v in value)
    return value


def _opt_path(value: str | None) -> Path | None:
    return None if value is None else Path(value)
