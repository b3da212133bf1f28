from __future__ import annotations

import click

from compose.cli.commands._project import CliOutput, needs_root, project_name, try_load_stack


@click.command()
@click.option("-v", "--volumes", is_flag=True, help="Also remove named and anonymous volumes.")
@click.option(
    "--remove-orphans", is_flag=True, help="Remove containers of services not in the file."
)
@click.option("-t", "--timeout", type=float, default=None, help="Shutdown timeout in seconds.")
@click.option(
    "--rmi", type=click.Choice(["local", "all"]), default=None, help="(accepted, ignored)"
)
@click.option("--dry-run", "dry_run", is_flag=True, help="Print the plan; change nothing.")
@click.pass_obj
def command(obj, volumes, remove_orphans, timeout, rmi, dry_run) -> None:
    """Stop and remove containers and networks (and volumes with -v)."""
    from compose.planner import DownOptions
    from compose.project import Project, apply_plan, forget_if_empty, plan_down_from_state

    dry_run = dry_run or obj.dry_run
    if not dry_run:
        needs_root(obj, "down")
    stack = try_load_stack(obj)
    name = stack.name if stack is not None else project_name(obj)
    options = DownOptions(remove_volumes=volumes, remove_orphans=remove_orphans)
    if not dry_run:
        stop_supervisor(name, timeout)
    project = Project(stack) if stack is not None else None
    plan = project.plan_down(options) if project else plan_down_from_state(name, options)
    if dry_run:
        click.echo(plan.render())
        return
    out = CliOutput()
    for warning in apply_plan(name, plan, stack, timeout):
        out.warning(warning)
    for action in plan.actions():
        out.progress(
            action.describe() + "d" if action.describe().endswith("Remove") else action.describe()
        )
    forget_if_empty(name)


def stop_supervisor(name: str, timeout: float | None) -> None:
    """Ask a detached supervisor to stop its replicas and exit; wait for its lock to drop."""
    import time

    from compose.project import supervisor_request
    from compose.state import is_locked

    if supervisor_request(name, {"op": "shutdown", "timeout": timeout}, timeout=300) is None:
        return
    deadline = time.monotonic() + 30
    while is_locked(name) and time.monotonic() < deadline:
        time.sleep(0.05)
