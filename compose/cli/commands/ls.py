from __future__ import annotations

import json

import click


@click.command()
@click.option("-a", "--all", "show_all", is_flag=True, help="Show stopped projects too.")
@click.option("-q", "--quiet", is_flag=True, help="Only display project names.")
@click.option("--format", "fmt", default="table", help="table, json or a Go template.")
@click.option("--filter", "filters", multiple=True, help="name=<project>")
def command(show_all: bool, quiet: bool, fmt: str, filters: tuple[str, ...]) -> None:
    """List running projects."""
    from compose.state import list_projects, observe_project

    wanted = {f.split("=", 1)[1] for f in filters if f.startswith("name=")}
    rows = []
    for name in list_projects():
        observed = observe_project(name)
        running = sum(1 for r in observed.replicas if r.running)
        if (running == 0 and not show_all) or (wanted and name not in wanted):
            continue
        files = ",".join(observed.project.config_files) if observed.project else ""
        status = f"running({running})" if running else f"exited({len(observed.replicas)})"
        rows.append({"Name": name, "Status": status, "ConfigFiles": files})
    if quiet:
        for row in rows:
            click.echo(row["Name"])
    elif fmt == "json":
        click.echo(json.dumps(rows))
    elif fmt == "table":
        _table(rows)
    elif rows or fmt.startswith("table"):
        from compose.cli.gotemplate import render

        click.echo(render(fmt, rows, {"ConfigFiles": "CONFIG FILES"}))


def _table(rows: list[dict[str, str]]) -> None:
    data = [("NAME", "STATUS", "CONFIG FILES")] + [
        (r["Name"], r["Status"], r["ConfigFiles"]) for r in rows
    ]
    widths = [max(len(row[i]) for row in data) for i in range(3)]
    for row in data:
        click.echo("   ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
