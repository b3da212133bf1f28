"""Helpers of the replica commands (exec, stop, kill, pause, top, port, cp, ...).

A running supervisor (detached, or a foreground `up` in another terminal) is asked first: it
owns restart policies and health; with none alive, commands act on the records directly under
the project lock.
"""

from __future__ import annotations

from typing import Any

import click

from compose.errors import ContainerError, UnknownServiceError


def select(
    project: str,
    services: tuple[str, ...] = (),
    index: int | None = None,
    running: bool | None = None,
) -> list[Any]:
    from compose.state import observe_project

    observed = observe_project(project)
    known = observed.services
    for name in services:
        if name not in known:
            raise UnknownServiceError(f'service "{name}" has no containers in project "{project}"')
    picked = [r for r in observed.replicas if not services or r.service in services]
    if index is not None:
        picked = [r for r in picked if r.index == index]
    if running is not None:
        picked = [r for r in picked if r.running == running]
    return picked


def one(project: str, service: str, index: int | None) -> Any:
    reps = select(project, (service,), index or 1, running=True)
    if not reps:
        raise ContainerError(f'service "{service}" replica {index or 1} is not running')
    return reps[0]


def runtime() -> Any:
    from compose.runtime import LinuxRuntime

    return LinuxRuntime()


def handle(rep: Any) -> Any:
    from compose.supervisor.machine.replicas import handle_of

    return handle_of(rep.record)


def ask_supervisor(project: str, request: dict[str, Any], verb: str | None = None) -> bool:
    """True when a supervisor (detached or a foreground `up`) took the request; with ``verb``
    the replicas it acted on are reported (`` Container web-1  Stopped``)."""
    from compose.project import supervisor_request

    reply = supervisor_request(project, request)
    if reply is None:
        return False
    for name in reply.get("changed", []) if verb else ():
        click.echo(f" Container {name}  {verb}", err=True)
    return True


def stop_replicas(
    project: str, services: tuple[str, ...], timeout: float | None, stack: Any
) -> None:
    from compose.planner import plan_stop
    from compose.project import Project, apply_plan
    from compose.state import observe_project

    desired = Project(stack).desired({}) if stack is not None else None
    plan = plan_stop(desired, observe_project(project), services)
    apply_plan(project, plan, stack, timeout)
    progress(plan)


def progress(plan: Any) -> None:
    for action in plan.actions():
        click.echo(f" {action.describe()}", err=True)


def set_status(project: str, name: str, **changes: Any) -> None:
    from compose.state import StateStore

    store = StateStore(project)
    record = store.load_replica(name)
    if record is not None:
        store.save_replica(record.replace(**changes))
