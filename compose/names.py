"""Names that become host paths, cgroups and kernel objects: the rules each must follow.

Every name a stack file (or ``-p``) gives ends up as one component of a host path
(``<state>/projects/<project>/containers/<container>``, ``<state>/volumes/<volume>``, a netns
file, a cgroup dir), so each is checked at load, where the error can say the file and line:

- container and volume names: Docker's rule ``[a-zA-Z0-9][a-zA-Z0-9_.-]+`` (moby
  ``RestrictedNamePattern``), the message Docker gives;
- resource keys (``networks``, ``volumes``, ``secrets``, ``configs``) and service names: the
  Compose Specification's ``^[a-zA-Z0-9._-]+$``;
- every name at most ``MAX_NAME`` characters: it must fit one file name (255 bytes) after the
  longest prefix and suffix pycompose adds (a staging ``<12 hex>_``, a ``.log.N``).

``is_component`` is the last line of defence where a path is derived (``state.layout.child``).
"""

from __future__ import annotations

import re

MAX_NAME = 200
RESTRICTED_CHARS = "[a-zA-Z0-9][a-zA-Z0-9_.-]"
_RESTRICTED = re.compile(rf"{RESTRICTED_CHARS}+")
_KEY = re.compile(r"[a-zA-Z0-9._-]+")


def _too_long(name: str) -> str | None:
    if len(name) > MAX_NAME:
        return f"is {len(name)} characters long, at most {MAX_NAME} are allowed"
    return None


def container_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a container name (None: it can)."""
    if not _RESTRICTED.fullmatch(name):
        return f'invalid container name "{name}": only {RESTRICTED_CHARS} are allowed'
    long = _too_long(name)
    return f'container name "{name[:40]}…" {long}' if long else None


def volume_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a local volume name (None: it can)."""
    if not _RESTRICTED.fullmatch(name):
        return (
            f'"{name}" includes invalid characters for a local volume name, '
            f'only "{RESTRICTED_CHARS}" are allowed'
        )
    long = _too_long(name)
    return f'volume name "{name[:40]}…" {long}' if long else None


def key_problem(kind: str, key: str) -> str | None:
    """Why ``key`` cannot name a service, network, volume, secret or config in the file."""
    if not _KEY.fullmatch(key):
        return f'invalid {kind} name "{key}" (letters, digits, ".", "_", "-")'
    long = _too_long(key)
    return f'{kind} name "{key[:40]}…" {long}' if long else None


def is_component(name: str) -> bool:
    """One safe path component: not empty, no "/" or NUL, not "." or "..", not too long."""
    return (
        bool(name)
        and name not in (".", "..")
        and "/" not in name
        and "\0" not in name
        and len(name.encode()) <= 255
    )
