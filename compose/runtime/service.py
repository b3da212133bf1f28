"""Build a ``ContainerSpec`` from plain inputs (pure; Docker's rules in dockerrules).

The runtime knows nothing of the compose model: ``compose.supervisor.machine.spec`` maps a
model Service onto ``spec_from_service``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from compose.errors import UserError
from compose.runtime import dockerrules as rules
from compose.runtime.spec import ContainerSpec


class ImageConfigLike(Protocol):  # read-only members: images.ImageConfig is frozen
    @property
    def entrypoint(self) -> tuple[str, ...] | None: ...
    @property
    def cmd(self) -> tuple[str, ...] | None: ...
    @property
    def env(self) -> tuple[str, ...]: ...
    @property
    def working_dir(self) -> str: ...
    @property
    def user(self) -> str: ...
    @property
    def stop_signal(self) -> str | None: ...


class ImageLike(Protocol):
    @property
    def layers(self) -> tuple[Path, ...]: ...
    @property
    def config(self) -> ImageConfigLike: ...


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


def security_options(service: str, opts: Sequence[str], project_dir: Path | None) -> dict[str, Any]:
    """``security_opt`` -> spec fields: ``no-new-privileges[:true]``, ``seccomp=unconfined``,
    ``seccomp=builtin`` (Docker's default) and ``seccomp=<file>`` (a Docker-format profile,
    relative to the project dir as docker compose reads it, checked here)."""
    from compose.runtime import seccomp

    out: dict[str, Any] = {"no_new_privileges": False, "seccomp": True, "seccomp_profile": ""}
    for opt in opts:
        key, _, value = opt.replace("=", ":", 1).partition(":")
        if key == "no-new-privileges":
            out["no_new_privileges"] = value in ("", "true")
        elif key == "seccomp" and value == "unconfined":
            out["seccomp"] = False
        elif key == "seccomp" and value not in ("", "builtin"):
            path = Path(value) if project_dir is None else Path(project_dir) / value
            try:
                text = path.read_text()
                seccomp.parse_profile(text)
            except (OSError, seccomp.SeccompProfileError) as exc:
                why = exc.strerror if isinstance(exc, OSError) else exc
                raise UserError(
                    f'service "{service}": security_opt seccomp={value}: {why}'
                ) from exc
            out["seccomp_profile"] = text
    return out
