"""model service -> container spec: the one translation from the compose model to what the
runtime runs (pure, no root: unit tests call ``container_spec`` directly).

The runtime knows nothing of the compose model: Docker's rules for argv, env, user, workdir and
stop signal live in ``compose.runtime.service.spec_from_service`` (plain inputs); this module
maps a typed ``model.Service`` onto them, with what the machine made for the replica (its dir,
mounts, netns, /etc files, link variables, log path).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from msgspec.structs import replace

from compose import paths
from compose.runtime.service import security_options, spec_from_service
from compose.runtime.spec import ContainerSpec, Limits, Mount, Ulimit
from compose.stackfile.units import parse_bytes
from compose.supervisor.machine.mountpoints import with_mountpoints

if TYPE_CHECKING:
    from compose.images import Image
    from compose.model import Service
    from compose.model.parts import Logging, Ulimit as UlimitSpec

LOG_DRIVERS = ("json-file", "local", "none")  # the rest are warned about at load
_LOCAL_DEFAULTS = {"max-size": "20m", "max-file": "5"}  # docker's `local` driver


@dataclass(frozen=True, slots=True)
class Made:
    """What the machine made for one replica before its spec is built."""

    replica_dir: Path
    hostname: str | None = None  # the replica's (a successor keeps its predecessor's)
    mounts: Sequence[Mount] = ()
    netns: Path | None = None
    etc_files: tuple[tuple[str, Path], ...] = ()
    link_env: Sequence[str] = ()
    log_path: Path | None = None  # outside the replica dir: survives restarts


@dataclass(frozen=True, slots=True)
class LogOptions:
    log_path: Path | None = None  # /dev/null for driver "none"
    max_size: int | None = None
    max_files: int = 1


def container_spec(
    svc: Service,
    *,
    name: str,
    project: str,
    index: int,
    image: Image,
    made: Made,
    project_dir: Path | None = None,
) -> ContainerSpec:
    """The spec of replica ``index`` of ``svc``, named ``name`` (its own or a staging name);
    ``project_dir``: where a relative ``security_opt: seccomp=<file>`` is read."""
    logs = log_options(svc.logging)
    spec = spec_from_service(
        container_id=name,
        service=svc.name,
        replica=index,
        image=image,
        replica_dir=made.replica_dir,
        entrypoint=svc.entrypoint,
        command=svc.command,
        environment=svc.environment,
        link_env=made.link_env,
        user=svc.user,
        working_dir=svc.working_dir,
        hostname=made.hostname or svc.hostname,
        tty=svc.tty,
        stop_signal=svc.stop_signal,
        stop_grace_period=svc.stop_grace_period,
        stdin_open=svc.stdin_open,
        domainname=svc.domainname or "",
        mounts=tuple(made.mounts),
        netns_path=made.netns,
        etc_files=made.etc_files,
        limits=limits(svc),
        cap_add=tuple(svc.cap_add),
        cap_drop=tuple(svc.cap_drop),
        privileged=svc.privileged,
        read_only=svc.read_only,
        init=bool(svc.init),
        **security_options(svc.name, svc.security_opt, project_dir),
        sysctls=tuple(sorted(svc.sysctls.items())),
        group_add=tuple(str(g) for g in svc.group_add),
        oom_score_adj=svc.oom_score_adj,
        labels=tuple(sorted(svc.labels.items())),
        host_network=svc.network_mode == "host",
        pid_mode="host" if svc.pid == "host" else "",
        ipc_mode="host" if svc.ipc == "host" else "",
        cgroup_parent=paths.project_cgroup(project),
        log_path=logs.log_path or made.log_path,
        log_max_size=logs.max_size,
        log_max_files=logs.max_files,
    )
    return with_mountpoints(spec)


def log_options(logging: Logging | None) -> LogOptions:
    """json-file/local ``max-size``/``max-file`` rotation; ``driver: none`` keeps nothing (the
    log is /dev/null: ``logs`` shows nothing, as docker's)."""
    driver = (logging.driver if logging else None) or "json-file"
    if driver == "none":
        return LogOptions(log_path=Path("/dev/null"))
    options = dict(_LOCAL_DEFAULTS if driver == "local" else {})
    options.update({k: str(v) for k, v in (logging.options if logging else {}).items() if v})
    if "max-size" not in options:
        return LogOptions()
    return LogOptions(
        max_size=parse_bytes(options["max-size"]),
        max_files=max(1, int(options.get("max-file", "1"))),
    )


def limits(svc: Service) -> Limits:
    """The service's effective limits (``memory_limit``/``cpu_limit``/``pids_max`` pick between
    the legacy keys and ``deploy.resources``), shm_size and ulimits."""
    memory, cpus, pids = svc.memory_limit, svc.cpu_limit, svc.pids_max
    base = Limits(
        memory=int(memory) if memory else None,
        memory_swap=svc.memswap_limit,
        memory_reservation=svc.memory_reservation,
        cpus=float(cpus) if cpus else None,
        cpu_shares=svc.cpu_shares,
        cpuset=svc.cpuset,
        cpu_quota=svc.cpu_quota,
        cpu_period=svc.cpu_period,
        swappiness=svc.mem_swappiness,
        oom_kill_disable=bool(svc.oom_kill_disable),
        pids=int(pids) if pids and int(pids) > 0 else None,
        ulimits=ulimits(svc.ulimits),
    )
    if svc.shm_size:
        return replace(base, shm_size=int(svc.shm_size))
    return base


def ulimits(specs: dict[str, UlimitSpec]) -> tuple[Ulimit, ...]:
    """``nofile: 1024`` (single) or ``{soft, hard}``; a missing bound copies the other one."""
    out = []
    for name, lim in specs.items():
        single = lim.single
        soft = single if single is not None else lim.soft
        hard = single if single is not None else lim.hard
        soft, hard = (soft if soft is not None else hard), (hard if hard is not None else soft)
        if soft is None or hard is None:
            continue  # neither bound: nothing to set (the model requires one)
        out.append(Ulimit(name, soft, hard))
    return tuple(out)
