from __future__ import annotations

import click

from compose.cli.commands.pause import toggle


@click.command()
@click.argument("services", nargs=-1)
@click.pass_obj
def command(obj, services) -> None:
    """Unpause services."""
    toggle(obj, tuple(services), False)
