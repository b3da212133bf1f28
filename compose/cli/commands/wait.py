from __future__ import annotations

import time
from typing import TYPE_CHECKING

import click

from compose.cli.commands._project import client

if TYPE_CHECKING:
    from compose.cli.app import GlobalOptions


@click.command()
@click.argument("services", nargs=-1, required=True)
@click.option("--down-project", is_flag=True, help="Drop the whole project when the first exits.")
@click.pass_obj
def command(obj: GlobalOptions, /, services: tuple[str, ...], down_project: bool) -> None:
    """Block until the containers of the services stop; print their exit codes."""
    project = client(obj)
    reps = project.replicas(services)
    while any(r.running for r in reps):
        time.sleep(0.1)
        if down_project and any(not r.running for r in reps):
            break
        reps = project.replicas(services)
    for rep in reps:
        if not rep.running:
            click.echo(rep.record.exit_code if rep.record.exit_code is not None else -1)
    if down_project:
        from compose.cli.commands.down import command as down

        click.get_current_context().invoke(down)
