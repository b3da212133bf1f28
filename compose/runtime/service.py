"""Build a ``ContainerSpec`` for one replica of a service (pure; Docker's rules in dockerrules).

``spec_from_service`` takes plain inputs so it can be used and tested without the compose model;
``spec_from_model`` is the thin adapter over a ``compose.model`` Service (duck-typed attributes).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from compose.runtime import dockerrules as rules
from compose.runtime.spec import ContainerSpec, Limits, Mount, Ulimit


class ImageConfigLike(Protocol):
    entrypoint: tuple[str, ...] | None
    cmd: tuple[str, ...] | None
    env: tuple[str, ...]
    working_dir: str
    user: str
    stop_signal: str | None


class ImageLike(Protocol):
    layers: tuple[Path, ...]
    config: ImageConfigLike


def default_hostname(container_id: str) -> str:
    """Docker's default hostname is the 12-hex short container id; ours hashes the name."""
    return hashlib.sha256(container_id.encode()).hexdigest()[:12]


def _as_argv(value: str | Sequence[str] | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        import shlex

        return tuple(shlex.split(value)) if value else ("",)
    return tuple(value)


def spec_from_service(
    *,
    container_id: str,
    service: str,
    replica: int,
    image: ImageLike,
    replica_dir: Path,
    entrypoint: str | Sequence[str] | None = None,
    command: str | Sequence[str] | None = None,
    environment: Mapping[str, str | None] | Sequence[str] = (),
    link_env: Sequence[str] = (),
    user: str | None = None,
    working_dir: str | None = None,
    hostname: str | None = None,
    tty: bool = False,
    stop_signal: str | int | None = None,
    stop_grace_period: float | None = None,
    **rest: Any,
) -> ContainerSpec:
    """Every other ``ContainerSpec`` field (mounts, limits, cap_add, ...) passes via ``rest``."""
    cfg = image.config
    host = hostname or default_hostname(container_id)
    env_in = rules.env_list(environment) if isinstance(environment, Mapping) else list(environment)
    argv = rules.build_argv(_as_argv(entrypoint), _as_argv(command), cfg.entrypoint, cfg.cmd)
    return ContainerSpec(
        id=container_id,
        service=service,
        replica=replica,
        layers=tuple(image.layers),
        replica_dir=replica_dir,
        argv=argv,
        env=rules.build_env(env_in, cfg.env, host, tty, link_env),
        user=user if user is not None else cfg.user,
        workdir=rules.default_workdir(working_dir, cfg.working_dir),
        hostname=host,
        tty=tty,
        stop_signal=rules.parse_signal(stop_signal if stop_signal else cfg.stop_signal),
        stop_grace_period=10.0 if stop_grace_period is None else stop_grace_period,
        **rest,
    )


def _get(obj: Any, name: str, default: Any = None) -> Any:
    value = getattr(obj, name, default)
    return default if value is None else value


LOG_DRIVERS = ("json-file", "local", "none")  # the rest are warned about at load
_LOCAL_DEFAULTS = {"max-size": "20m", "max-file": "5"}  # docker's `local` driver
_UNITS = {"k": 1024, "m": 1024**2, "g": 1024**3}


def log_options(logging: Any) -> dict[str, Any]:
    """``logging`` → spec fields: json-file/local ``max-size``/``max-file`` rotation, and
    ``driver: none`` (nothing kept: the log is /dev/null, as ``docker logs`` shows nothing)."""
    driver = _get(logging, "driver") or "json-file"
    if driver == "none":
        return {"log_path": Path("/dev/null")}
    options = dict(_LOCAL_DEFAULTS if driver == "local" else {})
    options.update({k: str(v) for k, v in dict(_get(logging, "options", {})).items() if v})
    out: dict[str, Any] = {}
    if "max-size" in options:
        out["log_max_size"] = parse_size(options["max-size"])
        out["log_max_files"] = max(1, int(options.get("max-file", "1")))
    return out


def parse_size(text: str) -> int:
    """docker's units: ``10m``, ``512k``, ``1g``, ``1000`` (bytes)."""
    text = text.strip().lower().removesuffix("b")
    if text and text[-1] in _UNITS:
        return int(float(text[:-1]) * _UNITS[text[-1]])
    return int(text)


def limits_from_model(svc: Any) -> Limits:
    """The model's effective limits (``memory_limit``/``cpu_limit``/``pids_max`` pick between
    ``mem_limit`` and ``deploy.resources.limits``...), shm_size, ulimits (duck-typed)."""
    memory, cpus, pids = (_get(svc, k) for k in ("memory_limit", "cpu_limit", "pids_max"))
    kwargs: dict[str, Any] = {
        "memory": int(memory) if memory else None,
        "memory_swap": _get(svc, "memswap_limit"),
        "memory_reservation": _get(svc, "memory_reservation"),
        "cpus": float(cpus) if cpus else None,
        "cpu_shares": _get(svc, "cpu_shares"),
        "cpuset": _get(svc, "cpuset"),
        "cpu_quota": _get(svc, "cpu_quota"),
        "cpu_period": _get(svc, "cpu_period"),
        "swappiness": _get(svc, "mem_swappiness"),
        "oom_kill_disable": bool(_get(svc, "oom_kill_disable", False)),
        "pids": int(pids) if pids and int(pids) > 0 else None,
    }
    if _get(svc, "shm_size"):
        kwargs["shm_size"] = int(_get(svc, "shm_size"))
    kwargs["ulimits"] = ulimits_from_model(_get(svc, "ulimits", {}))
    return Limits(**kwargs)


def ulimits_from_model(ulimits: Any) -> tuple[Ulimit, ...]:
    """``nofile: 1024`` (single) or ``{soft, hard}``; a missing bound copies the other one."""
    out = []
    for name, lim in dict(ulimits).items():
        single = lim if isinstance(lim, int) else _get(lim, "single")
        soft = single if single is not None else _get(lim, "soft")
        hard = single if single is not None else _get(lim, "hard")
        soft, hard = (soft if soft is not None else hard), (hard if hard is not None else soft)
        out.append(Ulimit(name, int(soft), int(hard)))
    return tuple(out)


def spec_from_model(
    svc: Any,
    *,
    project: str,
    replica: int,
    image: ImageLike,
    replica_dir: Path,
    mounts: tuple[Mount, ...] = (),
    **rest: Any,
) -> ContainerSpec:
    """Adapter from a compose model Service; fields the model lacks fall back to defaults."""
    name = _get(svc, "name", "")
    opts = tuple(_get(svc, "security_opt", ()))
    return spec_from_service(
        container_id=f"{project}-{name}-{replica}",
        service=name,
        replica=replica,
        image=image,
        replica_dir=replica_dir,
        entrypoint=_get(svc, "entrypoint"),
        command=_get(svc, "command"),
        environment=_get(svc, "environment", {}),
        user=_get(svc, "user"),
        working_dir=_get(svc, "working_dir"),
        hostname=_get(svc, "hostname"),
        tty=bool(_get(svc, "tty", False)),
        stdin_open=bool(_get(svc, "stdin_open", False)),
        stop_signal=_get(svc, "stop_signal"),
        stop_grace_period=_get(svc, "stop_grace_period"),
        domainname=_get(svc, "domainname", ""),
        mounts=mounts,
        limits=limits_from_model(svc),
        cap_add=tuple(_get(svc, "cap_add", ())),
        cap_drop=tuple(_get(svc, "cap_drop", ())),
        privileged=bool(_get(svc, "privileged", False)),
        read_only=bool(_get(svc, "read_only", False)),
        init=bool(_get(svc, "init", False)),
        no_new_privileges=any(o.replace("=", ":") == "no-new-privileges:true" for o in opts)
        or "no-new-privileges" in opts,
        seccomp=not any(o.replace("=", ":") == "seccomp:unconfined" for o in opts),
        sysctls=tuple(sorted(dict(_get(svc, "sysctls", {})).items())),
        group_add=tuple(str(g) for g in _get(svc, "group_add", ())),
        oom_score_adj=_get(svc, "oom_score_adj"),
        labels=tuple(sorted(dict(_get(svc, "labels", {})).items())),
        **{
            "host_network": _get(svc, "network_mode") == "host",
            "pid_mode": "host" if _get(svc, "pid") == "host" else "",
            "ipc_mode": "host" if _get(svc, "ipc") == "host" else "",
            **rest,
            **log_options(_get(svc, "logging")),
        },
    )
