from __future__ import annotations

from typing import TYPE_CHECKING

import click

from compose.cli.commands._project import needs_root, project_name

if TYPE_CHECKING:
    from compose.cli.app import GlobalOptions


def toggle(obj: GlobalOptions, services: tuple[str, ...], pause: bool) -> None:
    """Through the project's supervisor when one runs (it owns the replicas' states and health
    checks), else straight to the runtime."""
    from compose.cli.commands._ops import handle, runtime, select, set_status
    from compose.project import supervisor_request

    needs_root(obj, "pause" if pause else "unpause")
    name = project_name(obj)
    verb = "Paused" if pause else "Unpaused"
    op = "pause" if pause else "unpause"
    candidates = select(name, services, running=True)  # unknown services: a clear error
    reply = supervisor_request(name, {"op": op, "services": list(services)})
    if reply is not None:
        for changed in reply.get("changed", []):
            click.echo(f" Container {changed}  {verb}", err=True)
        return
    rt = runtime()
    for rep in candidates:
        if pause and rep.status == "running":
            rt.pause(handle(rep))
            set_status(name, rep.name, status="paused")
            click.echo(f" Container {rep.name}  Paused", err=True)
        elif not pause and rep.status == "paused":
            rt.unpause(handle(rep))
            set_status(name, rep.name, status="running")
            click.echo(f" Container {rep.name}  Unpaused", err=True)


@click.command()
@click.argument("services", nargs=-1)
@click.pass_obj
def command(obj: GlobalOptions, /, services: tuple[str, ...]) -> None:
    """Pause services (cgroup freezer)."""
    toggle(obj, tuple(services), True)
