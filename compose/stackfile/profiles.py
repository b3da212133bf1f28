"""Profiles: services with ``profiles`` run only when one of them is active."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from compose.errors import UserError
from compose.stackfile.types import SourceMap


def active_profiles(
    requested: tuple[str, ...],
    env: Mapping[str, str],
    services: dict[str, Any],
    named: tuple[str, ...],
) -> set[str]:
    """--profile flags (else COMPOSE_PROFILES) plus the profiles of services named on the CLI."""
    active = set(requested) or {p.strip() for p in env.get("COMPOSE_PROFILES", "").split(",")}
    active.discard("")
    for name in named:
        svc = services.get(name)
        if isinstance(svc, dict) and isinstance(svc.get("profiles"), list):
            active.update(p for p in svc["profiles"] if isinstance(p, str))
    return active


def _enabled(svc: object, active: set[str]) -> bool:
    profiles = svc.get("profiles") if isinstance(svc, dict) else None
    if not profiles or not isinstance(profiles, list):
        return True
    if not all(isinstance(p, str) for p in profiles):
        return True  # invalid: keep the service so that validation reports it
    return "*" in active or any(p in active for p in profiles)


def drop_disabled(tree: dict[str, Any], active: set[str]) -> frozenset[str]:
    """Remove the services whose profiles are all inactive; returns their names."""
    services = tree.get("services")
    if not isinstance(services, dict):
        return frozenset()
    disabled = frozenset(n for n, s in services.items() if not _enabled(s, active))
    for name in disabled:
        del services[name]
    return disabled


def check_dependencies(tree: dict[str, Any], disabled: frozenset[str], marks: SourceMap) -> None:
    """A required dependency on a disabled service is an error; optional ones are dropped."""
    services = tree.get("services")
    for name, svc in services.items() if isinstance(services, dict) else ():
        deps = svc.get("depends_on") if isinstance(svc, dict) else None
        if isinstance(deps, dict):
            _check_deps(name, deps, disabled, marks)


def _check_deps(
    name: str, deps: dict[str, Any], disabled: frozenset[str], marks: SourceMap
) -> None:
    for dep in [d for d in deps if d in disabled]:
        spec = deps[dep]
        if isinstance(spec, dict) and spec.get("required") is False:
            del deps[dep]
            continue
        mark = marks.locate(("services", name, "depends_on", dep))
        where = f"{mark}: " if mark else ""
        raise UserError(
            f'{where}service "{name}" depends on service "{dep}", '
            "which is disabled by its profiles",
            hint=f'enable it with --profile, COMPOSE_PROFILES, or name "{dep}" on the command line',
        )
