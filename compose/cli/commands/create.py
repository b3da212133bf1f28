from __future__ import annotations

from typing import TYPE_CHECKING

import click

from compose.cli.commands._build import build_before, build_options
from compose.cli.commands._project import CliOutput, client, needs_root

if TYPE_CHECKING:
    from compose.cli.app import GlobalOptions


@click.command()
@click.argument("services", nargs=-1)
@click.option("--force-recreate", is_flag=True)
@click.option("--no-recreate", is_flag=True)
@click.option("--remove-orphans", is_flag=True)
@click.option("--pull", type=click.Choice(["always", "missing", "never"]), default="missing")
@build_options
@click.option("--scale", multiple=True, help="SERVICE=NUM; overrides `scale`/deploy.replicas.")
@click.option("--quiet-pull", is_flag=True, help="Pull without printing progress.")
@click.option("-y", "--yes", is_flag=True, help="Assume yes to prompts (pycompose asks none).")
@click.option("--dry-run", "dry_run", is_flag=True, help="Print the plan; change nothing.")
@click.pass_obj
def command(
    obj: GlobalOptions,
    /,
    services: tuple[str, ...],
    force_recreate: bool,
    no_recreate: bool,
    remove_orphans: bool,
    pull: str,
    build: bool,
    no_build: bool,
    scale: tuple[str, ...],
    quiet_pull: bool,
    yes: bool,
    dry_run: bool,
) -> None:
    """Create containers for services (a detached supervisor holds them until `start`)."""
    from compose.cli.commands.up import parse_scale
    from compose.project import RunOptions, UpOptions

    dry_run = dry_run or obj.dry_run
    if not dry_run:
        needs_root(obj, "create")
        build_before(obj, services, build=build, no_build=no_build)
    up = UpOptions(
        services=tuple(services),
        force_recreate=force_recreate,
        no_recreate=no_recreate,
        remove_orphans=remove_orphans,
        no_start=True,
        scale=parse_scale(scale),
    )
    project = client(obj, services)
    if dry_run:
        click.echo(project.plan_up(up).render())
        return
    project.up(up, RunOptions(detach=True, pull=pull), CliOutput(quiet_pull=quiet_pull))
