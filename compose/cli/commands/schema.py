"""``pycompose schema``: print (or write) the JSON Schema of the stack model."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("schema")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the schema to this file instead of stdout.",
)
def command(output: Path | None) -> None:
    """Print the JSON Schema of the stack model."""
    from compose.model.schema import render_schema

    if output is None:
        click.echo(render_schema(), nl=False)
    else:
        from compose.cli.output import write_output

        write_output(output, render_schema())
