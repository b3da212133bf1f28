"""`pycompose scale SERVICE=NUM ...`: a running supervisor changes the counts its loop keeps;
with none, the change is planned and applied here (replicas then run unsupervised until the
next `up`, which adopts them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from compose.cli.commands._project import load_project, needs_root, project_name

if TYPE_CHECKING:
    from compose.cli.app import GlobalOptions
    from compose.project import Project


def parse_counts(values: tuple[str, ...]) -> dict[str, int]:
    out = {}
    for item in values:
        name, sep, count = item.partition("=")
        if not sep or not name or not count.isdigit():
            raise click.BadParameter(f"{item!r}: expected SERVICE=NUM", param_hint="SERVICE=NUM")
        out[name] = int(count)
    return out


@click.command()
@click.argument("counts", nargs=-1, required=True)
@click.option("--no-deps", is_flag=True, help="Don't start linked services.")
@click.option("--timeout", type=float, default=None, help="Seconds to wait for convergence.")
@click.pass_obj
def command(
    obj: GlobalOptions, /, counts: tuple[str, ...], no_deps: bool, timeout: float | None
) -> None:
    """Scale services (SERVICE=NUM ...)."""
    needs_root(obj, "scale")
    wanted = parse_counts(counts)
    if _via_supervisor(project_name(obj), wanted, timeout):
        return  # it checks the counts against its stack: no typed model built here (~0.1 s)
    from compose.supervisor.scaling import check_counts

    project = load_project(obj)
    check_counts(project.stack, wanted)
    _apply_here(project, wanted, no_deps)


def _via_supervisor(name: str, wanted: dict[str, int], timeout: float | None) -> bool:
    from compose.errors import OperationError
    from compose.supervisor import api  # not compose.project: no planner import (~20 ms)

    request = {"op": "scale", "scale": wanted, "timeout": timeout}
    reply = api.call(name, request, timeout=(timeout or 120) + 10)
    if reply is None:
        return False
    for replica in reply.get("removed", []):
        click.echo(f" Container {replica}  Removed", err=True)
    for replica in reply.get("created", []):
        click.echo(f" Container {replica}  Started", err=True)
    if reply.get("failures"):
        raise OperationError("; ".join(reply["failures"]))
    return True


def _apply_here(project: Project, wanted: dict[str, int], no_deps: bool) -> None:
    from compose.cli.commands._ops import progress
    from compose.planner import UpOptions
    from compose.project import apply_plan

    up = UpOptions(services=tuple(wanted), no_deps=no_deps, no_recreate=True, scale=wanted)
    plan = project.plan_up(up)
    progress(plan)
    for warning in apply_plan(project.name, plan, project.stack):
        click.echo(f"warning: {warning}", err=True)
