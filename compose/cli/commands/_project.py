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
    from compose.progress import Step
    from compose.project import Reply
    from compose.project.client import ProjectClient


class CliOutput:
    """Steps, messages and warnings on stderr (rendered as ``--progress`` says), replica logs
    on stdout: docker compose's split. Every output of one run shares its renderer."""

    def __init__(self, options: GlobalOptions | None = None, quiet_pull: bool = False) -> None:
        """``quiet_pull``: pulls are not shown (``up --quiet-pull``)."""
        from compose.cli.app import GlobalOptions
        from compose.cli.progress import for_run

        if options is None:
            ctx = click.get_current_context(silent=True)
            options = (ctx.find_object(GlobalOptions) if ctx else None) or GlobalOptions()
        self.renderer = for_run(options.progress, options.ansi)
        self.quiet_pull = quiet_pull

    def step(self, step: Step) -> None:
        if not (self.quiet_pull and step.status in ("Pulling", "Pulled")):
            self.renderer.step(step)

    def progress(self, line: str) -> None:
        self.renderer.message(line)

    def log(self, line: str) -> None:
        self.renderer.pause()
        click.echo(line)

    def warning(self, text: str) -> None:
        self.renderer.message(f"warning: {text}")


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
    """A reply as docker compose prints what it did: `` Container web-1  Stopping``, then
    `` Container web-1  Stopped`` (the verbs whose steps are not streamed as they happen)."""
    out = out or CliOutput()
    for warning in getattr(reply, "warnings", ()):
        out.warning(warning)
    for step in _steps(reply):
        out.step(step)


def _steps(reply: Reply) -> list[Step]:
    from compose import project as p
    from compose.progress import pair

    if isinstance(reply, p.Changed):
        return [s for name in reply.names for s in pair("Container", name, reply.verb, reply.doing)]
    if isinstance(reply, p.Scaled):
        removed = [s for name in reply.removed for s in pair("Container", name, "Removed")]
        return removed + [s for n in reply.created for s in pair("Container", n, "Started")]
    return []


def needs_root(options: GlobalOptions, action: str) -> None:
    import os

    from compose.errors import NeedsRootError

    if not options.dry_run and os.geteuid() != 0:
        raise NeedsRootError(
            f"{action} needs root: it creates namespaces, cgroups, mounts and network links",
            hint="run it with sudo (or as root); `pycompose config` and `up --dry-run` do not",
        )
