"""``include``: other compose applications loaded as their own sub-projects, then imported.

Each entry is a path (or list of paths) with an optional ``project_directory`` and ``env_file``.
The sub-project's relative paths resolve against its own directory; its environment is the
parent's, completed (never overridden) by its ``env_file`` / ``.env``. Two included applications
defining the same resource differently is an error; the including file's own definition of an
imported resource is merged over it (docker compose v5; v2.x refused that as a conflict).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compose.errors import UserError
from compose.stackfile import fs
from compose.stackfile.dotenv import read_env_file
from compose.stackfile.paths import abs_path, short_path
from compose.stackfile.types import SourceMap

_SECTIONS = ("services", "networks", "volumes", "secrets", "configs")


@dataclass(frozen=True)
class IncludeSpec:
    files: tuple[Path, ...]
    project_directory: Path
    env_files: tuple[Path, ...]


def parse_include_entry(entry: Any, base_dir: str, home: str, where: str) -> IncludeSpec:
    entry = {"path": entry} if isinstance(entry, str) else entry
    if not isinstance(entry, dict) or not entry.get("path"):
        raise UserError(f"{where}include: each entry needs a path")
    paths = entry["path"] if isinstance(entry["path"], list) else [entry["path"]]
    if not all(isinstance(p, str) for p in paths):
        raise UserError(f"{where}include.path: must be a string or a list of strings")
    files = tuple(Path(abs_path(base_dir, p, home)) for p in paths)
    proj = entry.get("project_directory")
    folder = Path(abs_path(base_dir, proj, home)) if isinstance(proj, str) else files[0].parent
    env = entry.get("env_file")
    env_list = [env] if isinstance(env, str) else env if isinstance(env, list) else []
    env_files = tuple(Path(abs_path(base_dir, e, home)) for e in env_list if isinstance(e, str))
    return IncludeSpec(files, folder, env_files)


def include_environment(spec: IncludeSpec, parent_env: dict[str, str]) -> dict[str, str]:
    files = spec.env_files or tuple(p for p in (spec.project_directory / ".env",) if fs.is_file(p))
    values: dict[str, str] = {}
    for path in files:
        if not fs.is_file(path):
            raise UserError(f"include env_file {path} not found")
        values.update(read_env_file(path, parent_env.get))
    return {**values, **parent_env}


SubLoader = Callable[[IncludeSpec, dict[str, str]], tuple[dict[str, Any], SourceMap]]


def import_resources(
    tree: dict[str, Any], imported: dict[str, Any], source: str, where: str
) -> None:
    """Copy the included sections into ``tree``; differing duplicates are errors."""
    for section in _SECTIONS:
        theirs = imported.get(section)
        if not isinstance(theirs, dict):
            continue
        ours = tree.setdefault(section, {})
        if not isinstance(ours, dict):
            continue
        for key, value in theirs.items():
            if key in ours and ours[key] != value:
                raise UserError(
                    f"{where}{section}.{key} conflicts with the one imported from "
                    f"{short_path(source)}"
                )
            ours.setdefault(key, value)


def check_cycle(file: Path, chain: tuple[str, ...], where: str) -> None:
    if str(file) in chain:
        names = [short_path(p) for p in (*chain[chain.index(str(file)) :], str(file))]
        raise UserError(f"{where}include cycle: {' → '.join(names)}")
