"""``pycompose images``: the images the stack's services use and whether they are local."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from compose.cli.loading import load_from_cli

if TYPE_CHECKING:
    from compose.cli.app import GlobalOptions


@click.command("images")
@click.argument("services", nargs=-1)
@click.option("--format", "fmt", default="table", help="table, json or a Go template.")
@click.option("-q", "--quiet", is_flag=True, help="Only show image IDs.")
@click.pass_obj
def command(obj: GlobalOptions, services: tuple[str, ...], fmt: str, quiet: bool) -> None:
    """List images used by the stack's services."""
    from compose.cli.commands.image import human_size, image_row, table
    from compose.errors import ImageError
    from compose.images import ImageStore

    stack = load_from_cli(obj, services=services)
    store = ImageStore()
    rows = []
    for name, svc in sorted(stack.services.items()):
        ref = svc.image or (svc.image_name(stack.name) if svc.build is not None else None)
        if not ref or (services and name not in services):
            continue
        try:
            row = image_row(store, ref, store.resolve(ref, svc.platform))
        except ImageError:
            missing = "<not built>" if svc.build is not None else "<not pulled>"
            row = {"Repository": ref, "Tag": "", "ID": missing, "Size": 0}
        rows.append({"Service": name, **row})
    if quiet:
        for row in rows:
            if not row["ID"].startswith("<"):
                click.echo(row["ID"])
    elif fmt == "json":
        click.echo(json.dumps(rows))
    elif fmt != "table":
        from compose.cli.gotemplate import render

        if rows or fmt.startswith("table"):
            click.echo(render(fmt, rows, {"ID": "IMAGE ID"}))
    else:
        body = [
            [
                r["Service"],
                r["Repository"],
                r["Tag"],
                r["ID"],
                human_size(r["Size"]) if r["Size"] else "-",
            ]
            for r in rows
        ]
        click.echo(table(body, ["SERVICE", "REPOSITORY", "TAG", "IMAGE ID", "SIZE"]))
