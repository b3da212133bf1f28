from __future__ import annotations

from typing import TYPE_CHECKING

import click

from compose.cli.commands._project import client

if TYPE_CHECKING:
    from compose.cli.app import GlobalOptions


@click.command()
@click.argument("services", nargs=-1)
@click.option("-a", "--all", "show_all", is_flag=True, help="Show stopped containers too.")
@click.option("-q", "--quiet", is_flag=True, help="Only display IDs.")
@click.option("--services", "only_services", is_flag=True, help="Display services.")
@click.option("--status", multiple=True, help="Filter by status (running, exited, ...).")
@click.option("--filter", "filters", multiple=True, help="status=<status>")
@click.option(
    "--format",
    "fmt",
    default="table",
    help="table, json, or a Go template: '{{.Name}}\\t{{.Status}}' ('table ...' adds a header).",
)
@click.option("--no-trunc", is_flag=True, help="Don't truncate output.")
@click.option(
    "--orphans/--no-orphans",
    default=True,
    help="Include services the file no longer declares (default: yes).",
)
@click.pass_obj
def command(
    obj: GlobalOptions,
    /,
    services: tuple[str, ...],
    show_all: bool,
    quiet: bool,
    only_services: bool,
    status: tuple[str, ...],
    filters: tuple[str, ...],
    fmt: str,
    no_trunc: bool,
    orphans: bool,
) -> None:
    """List containers."""
    from compose.cli.commands.psformat import rows, table, to_json

    statuses = set(status) | {f.split("=", 1)[1] for f in filters if f.startswith("status=")}
    project = client(obj)
    observed = project.observe(services)
    known = None if orphans else project.known_services()
    items = rows(observed, services, show_all or bool(statuses), statuses, no_trunc or quiet, known)
    if only_services:
        for svc in dict.fromkeys(i["Service"] for i in items):
            click.echo(svc)
    elif quiet:
        for item in items:
            click.echo(item["ID"])
    elif fmt == "json":
        for item in items:
            click.echo(to_json(item))
    elif fmt == "table":
        click.echo(table(items))
        _failed_services(project.failures())
    elif items or fmt.startswith("table"):
        from compose.cli.commands.psformat import HEADERS, template_item
        from compose.cli.gotemplate import render

        click.echo(render(fmt, [template_item(i) for i in items], HEADERS))


def _failed_services(failed: dict[str, str]) -> None:
    """Services the control loop marked failed (a terminal error; see `events`)."""
    for service, error in sorted(failed.items()):
        click.echo(f'service "{service}" failed: {error}', err=True)
