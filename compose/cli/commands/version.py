from __future__ import annotations

import click

from compose import __version__


@click.command()
@click.option("--short", is_flag=True, help="Print the version number only.")
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(["pretty", "json"]),
    default="pretty",
    help='pretty, or json ({"version":"…"}).',
)
def command(short: bool, fmt: str) -> None:
    """Show the pycompose version."""
    if short:
        click.echo(__version__)
    elif fmt == "json":
        import json

        click.echo(json.dumps({"version": __version__}, separators=(",", ":")))
    else:
        click.echo(f"pycompose version {__version__}")
