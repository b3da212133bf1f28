"""Running a project: foreground ``up`` (the supervisor streams logs until Ctrl-C) and the
detached supervisor (runs until ``down``). Both are the same steps, and both serve the
unix-socket API (``handlers``) from the Supervisor's start to the final stop:

    lock → images → plan → [net services + Supervisor + API] → adopt → apply → (--wait) → report
         → foreground: stream logs until Ctrl-C / abort / all exited / `down`
           | detached: until `down`
         → graceful stop in reverse dependency order (2nd Ctrl-C: SIGKILL) → release the lock

API requests other than ``status`` wait until ``up``'s own plan has run (``Session.applied``).

``project`` is a ``compose.project.Project`` (duck-typed so the supervisor does not import the
layer above it); ``out`` is the CLI's output sink.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import anyio

from compose.errors import ProjectUpError
from compose.planner import UpOptions, plan_stop, selected_services
from compose.state import ProjectLock, observe_project
from compose.state.events import EventLog
from compose.supervisor.blocking import run_sync
from compose.supervisor.conditions import DependencyFailed, check_completed, check_healthy
from compose.supervisor.core import Supervisor
from compose.supervisor.executor import Outcome
from compose.supervisor.machine.linux import LinuxDriver
from compose.supervisor.machine.netservices import NetServices
from compose.supervisor.options import RunOptions

log = logging.getLogger(__name__)


class Output(Protocol):
    def progress(self, line: str) -> None: ...

    def log(self, line: str) -> None: ...

    def warning(self, text: str) -> None: ...


@dataclass
class Session:
    """One running supervisor: what the API handlers and the log streamer share."""

    project: Any
    driver: LinuxDriver
    sup: Supervisor
    out: Output
    run: RunOptions
    shutdown: anyio.Event = field(default_factory=anyio.Event)
    applied: anyio.Event = field(default_factory=anyio.Event)  # `up`'s own plan has run
    reload: Callable[[dict[str, Any]], Any] | None = None  # load options -> Project
    busy: int = 0  # API requests in progress (a `restart` is not an exit of all)
    events: Events | None = None  # the supervisor's event sink (the foreground listens)
    started: float = field(default_factory=time.time)
    view: Any = None  # the foreground's log view (``foreground.Attached``)


class Events:
    """The supervisor's event sink: the project's events file (`events`), then whoever listens
    in this process (a foreground `up` reports exits from it)."""

    def __init__(self, project: str) -> None:
        self._write = EventLog(project).append
        self.listeners: list[Callable[[dict[str, Any]], None]] = []

    def __call__(self, event: dict[str, Any]) -> None:
        self._write(event)
        for listener in list(self.listeners):
            listener(event)


def reload_project(load: dict[str, Any]) -> Any:
    """A fresh Project from the load options an `up -d` / `create` client sends (``apply``)."""
    from pathlib import Path

    from compose.model import load_stack
    from compose.project import Project
    from compose.stackfile import LoadOptions

    fields = {**load, "cwd": Path(load.get("cwd", "."))}
    for key in ("files", "env_files", "profiles", "services"):
        fields[key] = tuple(fields.get(key, ()))
    return Project(load_stack(LoadOptions(**fields)))


def ensure_images(stack: Any, services: list[str], policy: str, out: Output) -> dict[str, Any]:
    from compose.images import ensure_image

    images: dict[str, Any] = {}
    for name in services:
        svc = stack.services[name]
        ref = svc.image_name(stack.name)
        images[name] = ensure_image(ref, policy=svc.pull_policy or policy)
    return images


async def run_up(
    project: Any,
    up: UpOptions,
    run: RunOptions,
    out: Output,
    ready: Callable[[dict[str, Any]], None] | None = None,
    reload: Callable[[dict[str, Any]], Any] | None = reload_project,
) -> int:
    lock = ProjectLock(project.name).acquire(timeout=5.0)
    try:
        return await _run_locked(project, up, run, out, ready, reload)
    except BaseException:
        from compose.supervisor.machine.forget import forget_project

        forget_project(project.name)  # a failed first `up` leaves no empty project behind
        raise
    finally:
        lock.release()


async def _run_locked(
    project: Any,
    up: UpOptions,
    run: RunOptions,
    out: Output,
    ready: Callable[[dict[str, Any]], None] | None,
    reload: Callable[[dict[str, Any]], Any] | None,
) -> int:
    project.check_services(up.services)
    driver = LinuxDriver(project.name, project.stack)
    driver.warm()  # the zygote boots (~80 ms) while the images are checked and the plan made
    try:
        names = selected_services(project.desired({}), up.services, up.no_deps)
        images = await run_sync(ensure_images, project.stack, names, run.pull, out)
        driver.ctx.use(project.stack, images)
        plan = project.plan_up(up, images)
        async with NetServices(_aliases(project.stack)) as net:
            driver.traffic.serve(net)
            events = Events(project.name)
            sup = Supervisor(driver, on_change=driver.replicas.persist, on_event=events)
            async with sup:
                session = Session(project, driver, sup, out, run, reload=reload, events=events)
                return await _supervise(session, plan, names, ready)
    finally:
        with anyio.CancelScope(shield=True):
            await run_sync(driver.close)


async def _supervise(
    session: Session, plan: Any, names: list[str], ready: Callable[[dict[str, Any]], None] | None
) -> int:
    """The API is served from the start (`status` at once, other requests once `up`'s plan has
    run: a `stop` or `scale` from another terminal waits for the start instead of failing on
    the project lock), and until the final stop begins."""
    from compose.supervisor.handlers import serve

    serving = anyio.CancelScope()

    async def api() -> None:
        with serving:
            await serve(session)

    session.sup.spawn(api)
    try:
        code = await _start_and_keep(session, plan, names, ready)
    finally:
        serving.cancel()
    await _stop(session)
    session.driver.record_failures({})  # no loop keeps the counts any more: nothing failing
    return code


async def _start_and_keep(
    session: Session, plan: Any, names: list[str], ready: Callable[[dict[str, Any]], None] | None
) -> int:
    _adopt(session)
    session.driver.record_failures({})  # an earlier supervisor's verdicts (`ps`) are not ours
    session.driver.networks.save_project_record()
    outcome = await _apply(session, plan)
    code = await _after_apply(session, outcome, names, ready)
    session.applied.set()
    if code is not None:
        return code
    if session.run.detach:
        await session.shutdown.wait()  # `down` or `shutdown` through the API
        return 0
    from compose.supervisor.foreground import foreground

    return await foreground(session, names)


async def _stop(session: Session) -> None:
    if session.run.detach:
        await stop_all(session)
    else:
        from compose.supervisor.foreground import flush_logs, stop_or_kill

        await stop_or_kill(session)
        flush_logs(session)  # what the replicas said while stopping


def _aliases(stack: Any) -> dict[str, dict[str, list[str]]]:
    out: dict[str, dict[str, list[str]]] = {}
    for name, svc in stack.services.items():
        for net, opts in (svc.networks or {}).items():
            if opts is not None and opts.aliases:
                out.setdefault(name, {})[net] = list(opts.aliases)
    return out


def _adopt(session: Session) -> None:
    for state in session.driver.replicas.adoptable():
        session.sup.adopt(state)


async def _apply(session: Session, plan: Any) -> Outcome:
    for action in plan.actions():
        session.out.progress(action.describe())
    outcome = await session.sup.apply(plan, session.run.stop_timeout)
    for warning in outcome.warnings:
        session.out.warning(warning)
    return outcome


async def _after_apply(
    session: Session,
    outcome: Outcome,
    names: list[str],
    ready: Callable[[dict[str, Any]], None] | None,
) -> int | None:
    """None: keep running. An int: stop everything and exit with it. Raises on failures."""
    failures = list(outcome.failures)
    if not failures and session.run.wait:
        failures += await wait_ready(session, names, session.run.wait_timeout)
    if ready is not None:
        ready({"ok": not failures, "failures": failures, "warnings": outcome.warnings})
    if failures and not session.run.detach:
        await stop_all(session)  # a foreground up owns its containers: none outlive a failure
        raise ProjectUpError(failures)
    if session.run.wait and not session.run.detach:
        return 0
    return None


async def wait_ready(session: Session, names: list[str], timeout: float | None) -> list[str]:
    """``up --wait``: running (healthy when checked); one-shots that others need exited 0."""
    one_shots = completion_targets(session.project.desired({}))
    failures: list[str] = []
    with anyio.move_on_after(timeout) as scope:
        for name in names:
            try:
                await session.sup.tracker.wait_for(
                    functools.partial(_ready, session, name, name in one_shots)
                )
            except DependencyFailed as exc:
                failures.append(f'service "{name}": {exc}')
    if scope.cancelled_caught:
        failures.append(f"timeout after {timeout}s waiting for services to be running/healthy")
    return failures


def completion_targets(desired: Any) -> set[str]:
    return {
        d.target
        for s in desired.services
        for d in s.depends_on
        if d.condition == "service_completed_successfully"
    }


def _ready(session: Session, service: str, one_shot: bool) -> bool:
    reps = session.sup.tracker.of_service(service)
    if one_shot:
        return check_completed(service, reps)
    if session.driver.healthcheck(service) is not None:
        return check_healthy(service, reps, True)
    for rep in reps:
        if rep.status == "exited" and rep.exit_code not in (0, None):
            raise DependencyFailed(f"container {rep.name} exited ({rep.exit_code})")
    return all(r.status == "running" or r.status == "exited" for r in reps)  # exit 0: done


async def stop_all(session: Session, timeout: float | None = None) -> None:
    timeout = session.run.stop_timeout if timeout is None else timeout
    with anyio.CancelScope(shield=True):
        desired = session.project.desired({})
        plan = plan_stop(desired, observe_project(session.project.name))
        for action in plan.actions():
            session.out.progress(action.describe())
        await session.sup.apply(plan, timeout)
