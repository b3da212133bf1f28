from __future__ import annotations

from typing import TYPE_CHECKING

import click

from compose.cli.commands._project import CliOutput, needs_root, project_name, try_load_stack

if TYPE_CHECKING:
    from compose.cli.app import GlobalOptions
    from compose.model import Stack
    from compose.planner import DownOptions


@click.command()
@click.option("-v", "--volumes", is_flag=True, help="Also remove named and anonymous volumes.")
@click.option(
    "--remove-orphans", is_flag=True, help="Remove containers of services not in the file."
)
@click.option("-t", "--timeout", type=float, default=None, help="Shutdown timeout in seconds.")
@click.option(
    "--rmi",
    type=click.Choice(["local", "all"]),
    default=None,
    help="Remove images used by services: 'local' only those without an image: key (built), "
    "'all' every one. Images other containers still use are kept.",
)
@click.option("--dry-run", "dry_run", is_flag=True, help="Print the plan; change nothing.")
@click.pass_obj
def command(
    obj: GlobalOptions,
    /,
    volumes: bool,
    remove_orphans: bool,
    timeout: float | None,
    rmi: str | None,
    dry_run: bool,
) -> None:
    """Stop and remove containers and networks (and volumes with -v)."""
    from compose.planner import DownOptions
    from compose.project import Project, apply_plan, forget_if_empty, plan_down_from_state

    dry_run = dry_run or obj.dry_run
    if not dry_run:
        needs_root(obj, "down")
    name = project_name(obj)
    options = DownOptions(remove_volumes=volumes, remove_orphans=remove_orphans)
    # the stack is loaded only when needed (~0.15 s): a running supervisor does `down` alone
    stack = try_load_stack(obj) if rmi or dry_run else None
    images = service_images(stack, name, rmi) if rmi else []
    if dry_run or not down_by_supervisor(name, options, timeout):
        if not (rmi or dry_run):
            stack = try_load_stack(obj)
        project = Project(stack) if stack is not None else None
        plan = project.plan_down(options) if project else plan_down_from_state(name, options)
        if dry_run:
            click.echo("\n".join([plan.render(), *(f"Image {i}  Remove" for i in images)]))
            return
        out = CliOutput()
        for warning in apply_plan(name, plan, stack, timeout):
            out.warning(warning)
        for action in plan.actions():
            out.progress(done(action.describe()))
        forget_if_empty(name)
    remove_images(images)


def service_images(stack: Stack | None, name: str, rmi: str) -> list[str]:
    """The images `down --rmi` removes: from the file, else from the records. ``local``:
    only images named after the project (services without ``image:``, i.e. built)."""
    if stack is not None:
        pairs = [(s.image_name(name), s.image is None) for s in stack.services.values()]
    else:
        from compose.state import observe_project

        recs = [r.record for r in observe_project(name).replicas if r.record.image]
        pairs = [(r.image, r.image == f"{name}-{r.service}") for r in recs]
    return sorted({ref for ref, built in pairs if rmi == "all" or built})


def remove_images(refs: list[str]) -> None:
    from compose.cli.commands._imagerm import remove_unused
    from compose.images import ImageStore

    store, out = ImageStore(), CliOutput()
    for ref in refs:
        if not store.has(ref):
            continue
        _, user = remove_unused(store, ref)
        if user is not None:
            out.warning(f"image {ref} is used by container {user}: not removed")
        else:
            out.progress(f"Image {ref}  Removed")


def done(line: str) -> str:
    """A plan line in the past tense, as docker compose prints what it did."""
    for verb, past in (("Stop", "Stopped"), ("Remove", "Removed")):
        if line.endswith(f"  {verb}"):
            return line[: -len(verb)] + past
    return line


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for a slow reaper counts as gone)."""
    from compose.state import is_alive

    return is_alive(pid, None)


def _wait_gone(name: str, pid: int | None) -> None:
    """Until the supervisor has exited (a pidfd says so at once) and its lock is free."""
    import time

    from compose.state import is_locked

    deadline = time.monotonic() + 30
    if pid:
        _wait_exit(pid, 30)
    while (is_locked(name) or (pid and _alive(pid))) and time.monotonic() < deadline:
        time.sleep(0.005)


def _wait_exit(pid: int, timeout: float) -> None:
    import os
    import select

    try:
        fd = os.pidfd_open(pid)
    except OSError:  # gone already (or no pidfd): the polling loop decides
        return
    try:
        select.select([fd], [], [], timeout)
    finally:
        os.close(fd)


def down_by_supervisor(name: str, options: DownOptions, timeout: float | None) -> bool:
    """A detached supervisor runs the project: it does the whole `down`, then exits."""
    from compose.errors import OperationError
    from compose.project import supervisor_request

    request = {
        "op": "down",
        "remove_volumes": options.remove_volumes,
        "remove_orphans": options.remove_orphans,
        "timeout": timeout,
    }
    try:
        reply = supervisor_request(name, request, timeout=600)
    except OperationError as exc:  # an older supervisor: stop it, then `down` here
        if "unknown request" not in str(exc):
            raise
        supervisor_request(name, {"op": "shutdown", "timeout": timeout}, timeout=600)
        _wait_gone(name, None)
        return False
    if reply is None:
        return False
    out = CliOutput()
    for warning in reply.get("warnings", []):
        out.warning(warning)
    for line in reply.get("actions", []):
        out.progress(done(line))
    _wait_gone(name, reply.get("pid"))
    if reply.get("failures"):
        from compose.errors import ProjectUpError

        raise ProjectUpError(reply["failures"])
    return True
