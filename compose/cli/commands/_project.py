"""Shared bits of the project commands (up, down, ps, logs, ...): loading, output, root check.

Heavy modules (anyio, pyroute2, rich) are imported inside the functions that need them, so
``pycompose ps`` stays fast.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from compose.cli.app import GlobalOptions
    from compose.model import Stack
    from compose.project import Project


class CliOutput:
    """Progress and warnings on stderr, replica logs on stdout (docker compose's split)."""

    def progress(self, line: str) -> None:
        click.echo(f" {line}", err=True)

    def log(self, line: str) -> None:
        click.echo(line)

    def warning(self, text: str) -> None:
        click.echo(f"warning: {text}", err=True)

    def error(self, text: str) -> None:
        click.echo(f"error: {text}", err=True)

    def hint(self, text: str) -> None:
        click.echo(f"hint: {text}", err=True)


def load_stack(options: GlobalOptions, services: tuple[str, ...] = ()) -> Stack:
    from compose.cli.loading import load_from_cli

    return load_from_cli(options, services=tuple(services)) if services else load_from_cli(options)


def load_project(options: GlobalOptions, services: tuple[str, ...] = ()) -> Project:
    from compose.project import Project

    project = Project(load_stack(options, services))
    project.check_services(services)
    return project


def try_load_stack(options: GlobalOptions) -> Stack | None:
    """The stack when a file is found; None when the project is named with -p and has no file."""
    from compose.errors import StackFileNotFound

    try:
        return load_stack(options)
    except StackFileNotFound:
        if options.project_name:
            return None
        raise


def project_name(options: GlobalOptions) -> str:
    """-p wins (no file needed, like docker compose); otherwise the stack file's name (read
    without building the typed model: ps/logs/down stay fast)."""
    if options.project_name:
        from compose.stackfile.discovery import normalize_project_name

        return normalize_project_name(options.project_name)
    from compose.cli.loading import load_options
    from compose.stackfile import load_stack_tree

    return load_stack_tree(load_options(options)).name


def needs_root(options: GlobalOptions, action: str) -> None:
    """Here, not in compose.project: that imports the planner (~20 ms an `up -d` need not pay)."""
    import os

    from compose.errors import NeedsRootError

    if not options.dry_run and os.geteuid() != 0:
        raise NeedsRootError(
            f"{action} needs root: it creates namespaces, cgroups, mounts and network links",
            hint="run it with sudo (or as root); `pycompose config` and `up --dry-run` do not",
        )


def load_dict(options: GlobalOptions, stack: Stack) -> dict[str, Any]:
    """LoadOptions for a detached supervisor: absolute files, the same env and profiles."""
    return {
        "files": [str(f) for f in stack.files],
        "project_name": stack.name,
        "project_directory": str(stack.working_dir),
        "env_files": list(options.env_files),
        "profiles": list(options.profiles),
        "environ": dict(options.environ),
        "cwd": str(options.cwd),
    }


def options_dict(options: GlobalOptions, services: tuple[str, ...] = ()) -> dict[str, Any]:
    """LoadOptions for a detached supervisor that loads the stack itself (paths made absolute)."""
    cwd = options.cwd

    def absolute(path: str) -> str:
        return path if path == "-" else str((cwd / path).resolve())

    return {
        "files": [absolute(f) for f in options.files],
        "project_name": options.project_name,
        "project_directory": absolute(options.project_directory)
        if options.project_directory
        else None,
        "env_files": [absolute(f) for f in options.env_files],
        "profiles": list(options.profiles),
        "environ": dict(options.environ),
        "cwd": str(cwd),
        "services": list(services),
        "stdin": sys.stdin.read() if "-" in options.files else None,
    }
