from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from compose.state import ObservedProject


@click.command()
@click.option("-a", "--all", "show_all", is_flag=True, help="Show stopped projects too.")
@click.option("-q", "--quiet", is_flag=True, help="Only display project names.")
@click.option("--format", "fmt", default="table", help="table, json or a Go template.")
@click.option("--filter", "filters", multiple=True, help="name=<project>")
def command(show_all: bool, quiet: bool, fmt: str, filters: tuple[str, ...]) -> None:
    """List running projects."""
    from compose.state import list_projects, observe_project
    from compose.state.owner import describe

    wanted = {f.split("=", 1)[1] for f in filters if f.startswith("name=")}
    rows = []
    for name in list_projects():
        observed = observe_project(name)
        running = sum(1 for r in observed.replicas if r.running)
        if (running == 0 and not show_all) or (wanted and name not in wanted):
            continue
        files = ",".join(observed.project.config_files) if observed.project else ""
        row = {"Name": name, "Status": _status(observed), "ConfigFiles": files}
        owner = describe(observed.project.labels) if observed.project else ""
        if owner:  # a test stack's owner (compose.testing): only then a column
            row["Owner"] = owner
        rows.append(row)
    if quiet:
        for row in rows:
            click.echo(row["Name"])
    elif fmt == "json":
        click.echo(json.dumps(rows, separators=(",", ":")))
    elif fmt == "table":
        _table(rows)
    elif rows or fmt.startswith("table"):
        from compose.cli.gotemplate import render

        click.echo(render(fmt, rows, {"ConfigFiles": "CONFIG FILES"}))


def _status(observed: ObservedProject) -> str:
    """docker compose's: each state with its count, ``exited(1), running(2)``."""
    from compose.cli.commands.psformat import state

    counts: dict[str, int] = {}
    for rep in observed.replicas:
        if not rep.record.oneoff:
            counts[state(rep)] = counts.get(state(rep), 0) + 1
    return ", ".join(f"{s}({n})" for s, n in sorted(counts.items()))


def _table(rows: list[dict[str, str]]) -> None:
    owners = any("Owner" in r for r in rows)
    head = ("NAME", "STATUS", "CONFIG FILES", *(("OWNER",) if owners else ()))
    data = [head] + [
        (r["Name"], r["Status"], r["ConfigFiles"], *((r.get("Owner", ""),) if owners else ()))
        for r in rows
    ]
    widths = [max(len(row[i]) for row in data) for i in range(len(head))]
    for row in data:
        click.echo("   ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
