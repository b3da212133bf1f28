from __future__ import annotations

from typing import TYPE_CHECKING

import click

from compose.cli.commands._project import CliOutput, client, needs_root, report

if TYPE_CHECKING:
    from compose.cli.app import GlobalOptions


@click.command()
@click.argument("services", nargs=-1)
@click.option("--wait", is_flag=True, help="Wait for running/healthy.")
@click.option("--wait-timeout", type=float, default=None)
@click.pass_obj
def command(
    obj: GlobalOptions, /, services: tuple[str, ...], wait: bool, wait_timeout: float | None
) -> None:
    """Start existing containers."""
    needs_root(obj, "start")
    report(client(obj, services).start(services, CliOutput(), wait, wait_timeout))
