from __future__ import annotations

from typing import TYPE_CHECKING

import click

from compose.cli.commands.pause import toggle

if TYPE_CHECKING:
    from compose.cli.app import GlobalOptions


@click.command()
@click.argument("services", nargs=-1)
@click.pass_obj
def command(obj: GlobalOptions, /, services: tuple[str, ...]) -> None:
    """Unpause services."""
    toggle(obj, tuple(services), False)
