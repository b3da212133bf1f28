from __future__ import annotations

import click

from compose import __version__


@click.command()
@click.option("--short", is_flag=True, help="Print the version number only.")
def command(short: bool) -> None:
    """Show the pycompose version."""
    click.echo(__version__ if short else f"pycompose version {__version__}")
