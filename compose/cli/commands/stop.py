from __future__ import annotations

from typing import TYPE_CHECKING

import click

from compose.cli.commands._project import CliOutput, client, needs_root

if TYPE_CHECKING:
    from compose.cli.app import GlobalOptions


@click.command()
@click.argument("services", nargs=-1)
@click.option("-t", "--timeout", type=float, default=None, help="Seconds before SIGKILL.")
@click.pass_obj
def command(obj: GlobalOptions, /, services: tuple[str, ...], timeout: float | None) -> None:
    """Stop running containers without removing them."""
    needs_root(obj, "stop")
    client(obj).stop(services, timeout, CliOutput())
