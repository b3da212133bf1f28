from __future__ import annotations

import click

from compose.cli.commands._project import needs_root, project_name


def toggle(obj, services: tuple[str, ...], pause: bool) -> None:
    from compose.cli.commands._ops import handle, runtime, select, set_status

    needs_root(obj, "pause" if pause else "unpause")
    name = project_name(obj)
    rt = runtime()
    for rep in select(name, services, running=True):
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
def command(obj, services) -> None:
    """Pause services (cgroup freezer)."""
    toggle(obj, tuple(services), True)
