from __future__ import annotations

from typing import TYPE_CHECKING

import click

from compose.cli.commands._project import needs_root, project_name, try_load_stack

if TYPE_CHECKING:
    from compose.cli.app import GlobalOptions


@click.command()
@click.argument("services", nargs=-1)
@click.option("-f", "--force", is_flag=True, help="Don't ask; stop running ones first.")
@click.option("-s", "--stop", is_flag=True, help="Stop the containers first if needed.")
@click.option("-v", "--volumes", is_flag=True, help="Remove anonymous volumes too.")
@click.pass_obj
def command(
    obj: GlobalOptions, /, services: tuple[str, ...], force: bool, stop: bool, volumes: bool
) -> None:
    """Remove stopped service containers."""
    from compose.cli.commands._ops import ask_supervisor, progress, select, stop_replicas
    from compose.planner import Plan, ServiceStep
    from compose.planner.actions import RemoveReplica, RemoveVolume
    from compose.planner.planner import anonymous_volumes
    from compose.project import apply_plan, supervisor_request

    needs_root(obj, "rm")
    name = project_name(obj)
    if force or stop:
        if not ask_supervisor(name, {"op": "stop", "services": list(services)}, "Stopped"):
            stop_replicas(name, tuple(services), None, try_load_stack(obj))
    victims = select(name, tuple(services), running=False)
    anonymous = anonymous_volumes(victims) if volumes else []
    reply = supervisor_request(name, {"op": "rm", "services": list(services)})
    if reply is not None:
        for removed in reply.get("removed", []):
            click.echo(f" Container {removed}  Removed", err=True)
        _remove_volumes(anonymous)
        return
    if not victims:
        click.echo("No stopped containers", err=True)
        return
    steps = tuple(
        ServiceStep(r.service, (RemoveReplica(r.service, r.index, r.name),)) for r in victims
    )
    plan = Plan(services=steps, teardown=tuple(RemoveVolume(v, v) for v in anonymous))
    apply_plan(name, plan, try_load_stack(obj))
    progress(plan)


def _remove_volumes(names: list[str]) -> None:
    from compose.volumes import remove_volume

    for volume in names:
        remove_volume(volume)
