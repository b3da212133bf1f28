"""Finding the stack files and naming the project (compose-go ``cli/options.go``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from compose.errors import StackFileNotFound, UserError
from compose.names import MAX_NAME
from compose.stackfile import fs

DEFAULT_FILES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
OVERRIDE_FILES = (
    "compose.override.yml",
    "compose.override.yaml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
)
_VALID_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")


def find_default_files(cwd: Path, warnings: list[str] | None = None) -> list[Path]:
    """The first default file in ``cwd`` or a parent, plus its override file if present."""
    warnings = [] if warnings is None else warnings
    for folder in (cwd, *cwd.parents):
        found = _existing(folder, DEFAULT_FILES, warnings, "config")
        if not found:
            continue
        return [*found, *_existing(folder, OVERRIDE_FILES, warnings, "override")]
    raise StackFileNotFound(
        f"no configuration file provided: not found in {cwd} or its parents",
        hint="name a file with -f, or create compose.yaml",
    )


def _existing(folder: Path, names: tuple[str, ...], warnings: list[str], kind: str) -> list[Path]:
    """The first existing file of ``names`` (as a 0/1-item list); warns when several exist."""
    found = [folder / n for n in names if fs.is_file(folder / n)]
    if len(found) > 1:
        listed = ", ".join(str(p) for p in found)
        warnings.append(f"Found multiple {kind} files with supported names: {listed}")
        warnings.append(f"Using {found[0]}")
    return found[:1]


def files_from_env(env: Mapping[str, str], cwd: Path) -> list[str]:
    """``COMPOSE_FILE`` split on ``COMPOSE_PATH_SEPARATOR`` (default ``:``)."""
    value = env.get("COMPOSE_FILE", "")
    if not value:
        return []
    sep = env.get("COMPOSE_PATH_SEPARATOR") or ":"
    return [p for p in value.split(sep) if p]


def normalize_project_name(name: str) -> str:
    """Lowercase, keep ``[a-z0-9_-]``, trim leading ``_``/``-`` (compose-go)."""
    kept = re.sub(r"[^a-z0-9_-]", "", name.lower())
    return kept.lstrip("_-")


def check_project_name(name: str, source: str) -> str:
    if not _VALID_NAME.fullmatch(name):
        raise UserError(
            f'invalid project name "{name}" ({source}): must consist only of lowercase '
            "alphanumeric characters, hyphens, and underscores as well as start with a letter "
            "or number"
        )
    if len(name) > MAX_NAME:  # it names host dirs and is the prefix of every container name
        raise UserError(
            f'invalid project name "{name[:40]}…" ({source}): {len(name)} characters long, '
            f"at most {MAX_NAME} are allowed"
        )
    return name


def pick_project_name(
    explicit: str | None, env: Mapping[str, str], top_level: str | None, working_dir: Path
) -> str:
    """-p > COMPOSE_PROJECT_NAME > top-level ``name:`` > project directory basename."""
    if explicit:
        return check_project_name(explicit, "-p/--project-name")
    if env.get("COMPOSE_PROJECT_NAME"):
        return check_project_name(env["COMPOSE_PROJECT_NAME"], "COMPOSE_PROJECT_NAME")
    if top_level:
        return check_project_name(top_level, "top-level name:")
    name = normalize_project_name(working_dir.name)
    if not name:
        raise UserError(
            f'project name derived from "{working_dir}" is empty after normalization',
            hint="set one with -p or a top-level name:",
        )
    return check_project_name(name, f'the directory name of "{working_dir}"')
