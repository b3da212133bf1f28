from __future__ import annotations

from typing import TYPE_CHECKING

import click

from compose.cli.commands._project import CliOutput, load_dict, load_project, needs_root

if TYPE_CHECKING:
    from compose.cli.app import GlobalOptions


@click.command()
@click.argument("services", nargs=-1)
@click.option("--wait", is_flag=True, help="Wait for running/healthy.")
@click.option("--wait-timeout", type=float, default=None)
@click.pass_obj
def command(
    obj: GlobalOptions, /, services: tuple[str, ...], wait: bool, wait_timeout: float | None
) -> None:
    """Start existing containers."""
    start(obj, tuple(services), wait, wait_timeout)


def start(
    obj: GlobalOptions,
    services: tuple[str, ...],
    wait: bool = False,
    wait_timeout: float | None = None,
) -> None:
    from compose.cli.commands._ops import ask_supervisor
    from compose.errors import UserError
    from compose.planner import UpOptions
    from compose.project import start_detached
    from compose.state import observe_project
    from compose.supervisor.options import RunOptions

    needs_root(obj, "start")
    project = load_project(obj, services)
    existing = [
        r
        for r in observe_project(project.name).replicas
        if not r.record.oneoff and (not services or r.service in services)
    ]
    if not existing:
        raise UserError(
            f'project "{project.name}": no containers to start',
            hint="create them with `pycompose up` (or `create`)",
        )
    if ask_supervisor(project.name, {"op": "start", "services": list(services)}, "Started"):
        return
    counts: dict[str, int] = {}  # as many as there are: `start` does not scale (e.g. after `scale`)
    for rep in existing:
        counts[rep.service] = counts.get(rep.service, 0) + 1
    up = UpOptions(services=services, no_deps=True, no_recreate=True, scale=counts)
    run = RunOptions(detach=True, wait=wait, wait_timeout=wait_timeout, pull="never")
    code = start_detached(load_dict(obj, project.stack), up, run, CliOutput())
    if code:
        raise click.exceptions.Exit(code)
