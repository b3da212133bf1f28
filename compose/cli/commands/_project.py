"""What the project commands share: the front door for the global flags (``client``), the one
printer of replies (``report``), the output sink and the root check.

Each command parses its flags, makes one ``ProjectClient`` call and reports the reply; heavy
modules load inside the client only where a verb needs them, so ``pycompose ps`` stays fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from compose.cli.app import GlobalOptions
    from compose.project import Reply
    from compose.project.client import ProjectClient

PAST = {"Stop": "Stopped", "Remove": "Removed"}


class CliOutput:
    """Progress and warnings on stderr, replica logs on stdout (docker compose's split)."""

    def progress(self, line: str) -> None:
        click.echo(f" {line}", err=True)

    def log(self, line: str) -> None:
        click.echo(line)

    def warning(self, text: str) -> None:
        click.echo(f"warning: {text}", err=True)


def client(options: GlobalOptions, services: Sequence[str] = ()) -> ProjectClient:
    """The project the global flags name (-p wins, like docker compose: no file needed);
    ``services``: named on the command line (they enable their profiles)."""
    from compose.cli.loading import load_options, show_warnings
    from compose.project.client import ProjectClient
    from compose.stackfile.discovery import normalize_project_name

    load = load_options(options, services=tuple(services)) if services else load_options(options)
    name = normalize_project_name(options.project_name) if options.project_name else None
    return ProjectClient(load, name=name, warn=show_warnings)


def report(reply: Reply, out: CliOutput | None = None) -> None:
    """A reply as docker compose prints what it did: `` Container web-1  Stopped``."""
    from compose import project as p

    out = out or CliOutput()
    if isinstance(reply, p.Changed):
        for name in reply.names:
            out.progress(f"Container {name}  {reply.verb}")
    elif isinstance(reply, p.Scaled):
        for warning in reply.warnings:
            out.warning(warning)
        for name in reply.removed:
            out.progress(f"Container {name}  Removed")
        for name in reply.created:
            out.progress(f"Container {name}  Started")
    elif isinstance(reply, p.DownReply):
        for warning in reply.warnings:
            out.warning(warning)
        for line in reply.actions:
            out.progress(past(line))


def past(line: str) -> str:
    """A plan line in the past tense (``Container web-1  Stop`` → ``... Stopped``)."""
    head, sep, verb = line.rpartition("  ")
    return f"{head}{sep}{PAST[verb]}" if sep and verb in PAST else line


def needs_root(options: GlobalOptions, action: str) -> None:
    import os

    from compose.errors import NeedsRootError

    if not options.dry_run and os.geteuid() != 0:
        raise NeedsRootError(
            f"{action} needs root: it creates namespaces, cgroups, mounts and network links",
            hint="run it with sudo (or as root); `pycompose config` and `up --dry-run` do not",
        )
