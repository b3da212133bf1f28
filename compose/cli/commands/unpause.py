from __future__ import annotations

from typing import TYPE_CHECKING

import click

from compose.cli.commands._project import client, needs_root, report

if TYPE_CHECKING:
    from compose.cli.app import GlobalOptions


@click.command()
@click.argument("services", nargs=-1)
@click.pass_obj
def command(obj: GlobalOptions, /, services: tuple[str, ...]) -> None:
    """Unpause services."""
    needs_root(obj, "unpause")
    report(client(obj).unpause(services))
