from __future__ import annotations

from typing import TYPE_CHECKING

import click

from compose.cli.commands._project import CliOutput, client, needs_root, report

if TYPE_CHECKING:
    from compose.cli.app import GlobalOptions


@click.command()
@click.argument("services", nargs=-1)
@click.option("-f", "--force", is_flag=True, help="Don't ask; stop running ones first.")
@click.option("-s", "--stop", is_flag=True, help="Stop the containers first if needed.")
@click.option("-v", "--volumes", is_flag=True, help="Remove anonymous volumes too.")
@click.pass_obj
def command(
    obj: GlobalOptions, /, services: tuple[str, ...], force: bool, stop: bool, volumes: bool
) -> None:
    """Remove stopped service containers."""
    needs_root(obj, "rm")
    project = client(obj)
    if force or stop:
        project.stop(services, out=CliOutput())
    removed = project.rm(services, volumes)
    if not removed.names:
        click.echo("No stopped containers", err=True)
    report(removed)
