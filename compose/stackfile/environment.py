"""The interpolation environment: the shell snapshot over ``--env-file`` files or ``.env``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from compose.errors import UserError
from compose.stackfile import fs
from compose.stackfile.dotenv import Lookup, read_env_file

_TRUE = frozenset({"1", "t", "true", "yes", "y", "on"})


def env_disabled(environ: Mapping[str, str]) -> bool:
    return environ.get("COMPOSE_DISABLE_ENV_FILE", "").strip().lower() in _TRUE


def dotenv_values(
    env_files: tuple[str, ...], cwd: Path, folder: Path, environ: Mapping[str, str]
) -> tuple[dict[str, str], tuple[Path, ...]]:
    """Values of the ``--env-file`` files (later wins), else of ``folder/.env`` if it exists."""
    if env_files:
        paths = tuple(_absolute(cwd, f) for f in env_files)
        for path in paths:
            if not fs.is_file(path):
                raise UserError(f"couldn't find env file: {path}")
    elif env_disabled(environ) or not fs.is_file(folder / ".env"):
        return {}, ()
    else:
        paths = (folder / ".env",)
    values: dict[str, str] = {}
    for path in paths:
        values.update(read_env_file(path, _chained(environ, values)))
    return values, paths


def _chained(environ: Mapping[str, str], values: Mapping[str, str]) -> Lookup:
    def lookup(name: str) -> str | None:
        found = environ.get(name)
        return values.get(name) if found is None else found

    return lookup


def _absolute(cwd: Path, path: str) -> Path:
    p = fs.expanduser(path)
    return p if p.is_absolute() else cwd / p


def merged_environment(environ: Mapping[str, str], dotenv: Mapping[str, str]) -> dict[str, str]:
    """Shell wins over .env / --env-file values."""
    return {**dotenv, **environ}
