from __future__ import annotations

from typing import TYPE_CHECKING

import click

from compose.cli.commands._project import CliOutput, client, needs_root, report

if TYPE_CHECKING:
    from compose.cli.app import GlobalOptions
    from compose.state import ObservedReplica


@click.command()
@click.argument("services", nargs=-1, required=True)
@click.option("--down-project", is_flag=True, help="Drop the whole project when the first exits.")
@click.pass_obj
def command(obj: GlobalOptions, /, services: tuple[str, ...], down_project: bool) -> None:
    """Block until the containers of the services stop; exit with the last one's code."""
    project = client(obj)
    code = project.wait(services, _exited, first=down_project)
    if down_project:
        from compose.project import DownOptions

        needs_root(obj, "wait --down-project")
        out = CliOutput()
        report(project.down(DownOptions(), out=out), out)
    if code:
        raise click.exceptions.Exit(code)


def _exited(rep: ObservedReplica) -> None:
    """docker compose's line for each container that exits."""
    code = rep.record.exit_code or 0
    click.echo(f'container "{rep.record.container_id}" exited with status code {code}')
