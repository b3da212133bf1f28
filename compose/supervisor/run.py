"""Running a project: foreground ``up`` (the supervisor streams logs until Ctrl-C) and the
detached supervisor (serves the unix-socket API until ``down``). Both are the same steps:

    lock → images → plan → [net services + Supervisor] → adopt → apply → (--wait) → report
         → foreground: stream logs until Ctrl-C / abort / all exited   | detached: serve API
         → graceful stop in reverse dependency order (2nd Ctrl-C: SIGKILL) → release the lock

``project`` is a ``compose.project.Project`` (duck-typed so the supervisor does not import the
layer above it); ``out`` is the CLI's output sink.
"""

from __future__ import annotations

import json
import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import anyio

from compose import paths
from compose.errors import OperationError, ProjectUpError
from compose.logs import Formatter, LogTail
from compose.planner import UpOptions, plan_stop, selected_services
from compose.state import ProjectLock, StateStore, observe_project
from compose.supervisor import api
from compose.supervisor.blocking import run_sync
from compose.supervisor.conditions import DependencyFailed, check_completed, check_healthy
from compose.supervisor.core import Supervisor
from compose.supervisor.executor import Outcome
from compose.supervisor.linux import LinuxDriver
from compose.supervisor.netservices import NetServices

log = logging.getLogger(__name__)


class Output(Protocol):
    def progress(self, line: str) -> None: ...

    def log(self, line: str) -> None: ...

    def warning(self, text: str) -> None: ...


@dataclass(frozen=True)
class RunOptions:
    detach: bool = False
    wait: bool = False
    wait_timeout: float | None = None
    abort_on_container_exit: bool = False
    exit_code_from: str | None = None
    stop_timeout: float | None = None
    pull: str = "missing"
    no_log_prefix: bool = False
    timestamps: bool = False
    color: bool = True
    attach: tuple[str, ...] = ()


@dataclass
class Session:
    """One running supervisor: what the API handlers and the log streamer share."""

    project: Any
    driver: LinuxDriver
    sup: Supervisor
    out: Output
    run: RunOptions
    shutdown: anyio.Event = field(default_factory=anyio.Event)
    reload: Callable[[dict[str, Any]], Any] | None = None  # load options -> Project


def events_path(project: str) -> Any:
    return paths.project_state_dir(project) / "events.jsonl"


def event_writer(project: str) -> Callable[[dict[str, Any]], None]:
    path = events_path(project)

    def write(event: dict[str, Any]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a") as handle:
            handle.write(json.dumps({"project": project, **event}) + "\n")

    return write


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
    reload: Callable[[dict[str, Any]], Any] | None = None,
) -> int:
    lock = ProjectLock(project.name).acquire(timeout=5.0)
    try:
        return await _run_locked(project, up, run, out, ready, reload)
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
    names = selected_services(project.desired({}), up.services, up.no_deps)
    images = await run_sync(ensure_images, project.stack, names, run.pull, out)
    plan = project.plan_up(up, {n: images[n].digest for n in images})
    async with NetServices(_aliases(project.stack)) as net:
        driver = LinuxDriver(project.name, project.stack, images, net=net)
        sup = Supervisor(driver, on_change=driver.persist, on_event=event_writer(project.name))
        try:
            async with sup:
                session = Session(project, driver, sup, out, run, reload=reload)
                return await _supervise(session, plan, names, ready)
        finally:
            with anyio.CancelScope(shield=True):
                await run_sync(driver.close)


async def _supervise(
    session: Session, plan: Any, names: list[str], ready: Callable[[dict[str, Any]], None] | None
) -> int:
    _adopt(session)
    StateStore(session.project.name).save_project(session.driver.project_record())
    outcome = await _apply(session, plan)
    code = await _after_apply(session, outcome, names, ready)
    if code is None:
        if session.run.detach:
            await _serve(session)
            code = 0
        else:
            code = await _foreground(session, names)
    await _stop_all(session)
    _flush_logs(session)  # what the replicas said while stopping
    return code


def _aliases(stack: Any) -> dict[str, dict[str, list[str]]]:
    out: dict[str, dict[str, list[str]]] = {}
    for name, svc in stack.services.items():
        for net, opts in (svc.networks or {}).items():
            if opts is not None and opts.aliases:
                out.setdefault(name, {})[net] = list(opts.aliases)
    return out


def _adopt(session: Session) -> None:
    for state in session.driver.adoptable():
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
        await _stop_all(session)  # a foreground up owns its containers: none outlive a failure
        raise ProjectUpError(failures)
    if session.run.wait and not session.run.detach:
        return 0
    return None


async def wait_ready(session: Session, names: list[str], timeout: float | None) -> list[str]:
    """``up --wait``: running (healthy when checked); one-shots that others need exited 0."""
    one_shots = _completion_targets(session.project.desired({}))
    failures: list[str] = []
    with anyio.move_on_after(timeout) as scope:
        for name in names:
            try:
                await session.sup.tracker.wait_for(
                    lambda n=name: _ready(session, n, n in one_shots)
                )
            except DependencyFailed as exc:
                failures.append(f'service "{name}": {exc}')
    if scope.cancelled_caught:
        failures.append(f"timeout after {timeout}s waiting for services to be running/healthy")
    return failures


def _completion_targets(desired: Any) -> set[str]:
    return {
        d.service
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
        if rep.status == "exited":
            raise DependencyFailed(f"container {rep.name} exited ({rep.exit_code})")
    return all(r.status == "running" for r in reps)


# foreground -------------------------------------------------------------------------------
async def _foreground(session: Session, names: list[str]) -> int:
    interrupted = False
    async with anyio.create_task_group() as tg:
        tg.start_soon(_stream_logs, session, tg.cancel_scope)
        tg.start_soon(_watch_exits, session, names, tg.cancel_scope)
        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async for _ in signals:
                interrupted = True
                session.out.progress("Gracefully stopping... (press Ctrl+C again to force)")
                tg.start_soon(_kill_on_second_signal, session)
                tg.cancel_scope.cancel()
                break
    return 130 if interrupted else _exit_code(session)


def _exit_code(session: Session) -> int:
    target = session.run.exit_code_from
    if target is None:
        return 0
    reps = session.sup.tracker.of_service(target)
    return next((r.exit_code or 0 for r in reps if r.exit_code is not None), 0)


async def _kill_on_second_signal(session: Session) -> None:
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for _ in signals:
            for state in list(session.sup.tracker.replicas.values()):
                if state.running:
                    await session.driver.kill_replica(state.name, signal.SIGKILL)
            return


async def _watch_exits(session: Session, names: list[str], scope: anyio.CancelScope) -> None:
    """Leave the foreground when all replicas exited, or on the first exit with abort."""
    abort = session.run.abort_on_container_exit or session.run.exit_code_from is not None
    exempt = _completion_targets(session.project.desired({}))
    tracker = session.sup.tracker

    def done() -> bool:
        reps = [r for n in names for r in tracker.of_service(n)]
        if abort:
            return any(
                r.status == "exited" and r.service not in exempt and not r.manually_stopped
                for r in reps
            )
        return bool(reps) and all(r.status == "exited" for r in reps) and not _restarting(session)

    await tracker.wait_for(done)
    await anyio.sleep(0.2)  # let the last log lines land
    scope.cancel()


def _restarting(session: Session) -> bool:
    return bool(session.sup._restart_due)


async def _stream_logs(session: Session, scope: anyio.CancelScope) -> None:
    tail, fmt = LogTail(), _formatter(session)
    session.tail, session.fmt = tail, fmt  # type: ignore[attr-defined]
    while True:
        for rec in session.driver.store.replicas():
            if rec.log_path and (not session.run.attach or rec.service in session.run.attach):
                tail.add(f"{rec.service}-{rec.index}", _path(rec.log_path))
        for line in tail.poll():
            session.out.log(fmt.format(line))
        await anyio.sleep(0.1)


def _flush_logs(session: Session) -> None:
    tail = getattr(session, "tail", None)
    if tail is not None:
        for line in tail.poll():
            session.out.log(session.fmt.format(line))  # type: ignore[attr-defined]


def _formatter(session: Session) -> Formatter:
    sources = [f"{r.service}-{r.index}" for r in session.driver.store.replicas()]
    return Formatter(
        sources,
        color=session.run.color,
        prefix=not session.run.no_log_prefix,
        timestamps=session.run.timestamps,
    )


def _path(text: str) -> Any:
    from pathlib import Path

    return Path(text)


async def _stop_all(session: Session, timeout: float | None = None) -> None:
    timeout = session.run.stop_timeout if timeout is None else timeout
    with anyio.CancelScope(shield=True):
        desired = session.project.desired({})
        plan = plan_stop(desired, observe_project(session.project.name))
        for action in plan.actions():
            session.out.progress(action.describe())
        await session.sup.apply(plan, timeout)


# detached ---------------------------------------------------------------------------------
async def _serve(session: Session) -> None:
    async with anyio.create_task_group() as tg:
        tg.start_soon(
            api.serve, api.socket_path(session.project.name), lambda r: handle(session, r)
        )
        await session.shutdown.wait()
        tg.cancel_scope.cancel()


async def handle(session: Session, request: dict[str, Any]) -> dict[str, Any]:
    op = request.get("op")
    services = tuple(request.get("services") or ())
    if op == "status":
        return {"ok": True, "pid": _pid(), "replicas": session.sup.tracker.snapshot()}
    if op == "shutdown":
        await _stop_all(session, request.get("timeout"))
        session.sup.spawn(_set_later, session.shutdown)  # after the reply is sent
        return {"ok": True}
    if op == "apply":
        return await _apply_request(session, request)
    if op == "down":
        return await _down_request(session, request)
    if op == "rm":
        removed = await _remove_stopped(session, services)
        return {"ok": True, "removed": removed}
    if op in ("stop", "start", "restart", "kill"):
        if request.get("timeout") is not None:
            session.sup.executor._stop_timeout = float(request["timeout"])
        await _replica_op(session, op, services, request)
        return {"ok": True}
    raise OperationError(f"unknown request {op!r}")


async def _replica_op(
    session: Session, op: str, services: tuple[str, ...], req: dict[str, Any]
) -> None:
    states = [
        s for s in session.sup.tracker.replicas.values() if not services or s.service in services
    ]
    for state in states:
        if op in ("stop", "restart") and state.running:
            await session.sup.executor.stop(state.name)
        if op in ("start", "restart") and (op == "restart" or not state.running):
            await session.sup.executor.start(state.name)
        if op == "kill" and state.running:
            session.sup.tracker.update(state.name, manually_stopped=True)
            await session.driver.kill_replica(state.name, int(req.get("signal", signal.SIGKILL)))


async def _apply_request(session: Session, request: dict[str, Any]) -> dict[str, Any]:
    """`up -d` against a running supervisor: reload the file, plan, converge, keep serving."""
    if session.reload is None:
        raise OperationError("this supervisor cannot reload its stack")
    project = session.reload(request["load"])
    up = UpOptions(**{k: tuple(v) if isinstance(v, list) else v for k, v in request["up"].items()})
    project.check_services(up.services)
    names = selected_services(project.desired({}), up.services, up.no_deps)
    images = await run_sync(
        ensure_images, project.stack, names, request.get("pull", "missing"), session.out
    )
    session.project, session.driver.stack = project, project.stack
    session.driver.images.update(images)
    plan = project.plan_up(up, {n: session.driver.images[n].digest for n in session.driver.images})
    outcome = await session.sup.apply(plan, session.run.stop_timeout)
    failures = list(outcome.failures)
    if not failures and request.get("wait"):
        failures += await wait_ready(session, names, request.get("wait_timeout"))
    actions = [a.describe() for a in plan.actions()]
    return {"ok": True, "failures": failures, "warnings": outcome.warnings, "actions": actions}


async def _down_request(session: Session, request: dict[str, Any]) -> dict[str, Any]:
    """`down` while this supervisor runs: remove everything, forget the project, then exit."""
    from compose.planner import DownOptions, plan_down
    from compose.supervisor.linux import forget_project

    options = DownOptions(
        remove_volumes=bool(request.get("remove_volumes")),
        remove_orphans=bool(request.get("remove_orphans")),
    )
    name = session.project.name
    plan = plan_down(session.project.desired({}), observe_project(name), options)
    outcome = await session.sup.apply(plan, request.get("timeout"))
    await run_sync(forget_project, name)
    session.sup.spawn(_set_later, session.shutdown)
    return {
        "ok": True,
        "pid": _pid(),
        "actions": [a.describe() for a in plan.actions()],
        "failures": outcome.failures,
        "warnings": outcome.warnings,
    }


async def _remove_stopped(session: Session, services: tuple[str, ...]) -> list[str]:
    names = [
        s.name
        for s in list(session.sup.tracker.replicas.values())
        if not s.running and (not services or s.service in services)
    ]
    for name in names:
        await session.sup.executor.remove(name)
    return names


async def _set_later(event: anyio.Event) -> None:
    await anyio.sleep(0.005)  # the reply goes out first
    event.set()


def _pid() -> int:
    import os

    return os.getpid()


def elapsed(start: float) -> str:
    return f"{time.monotonic() - start:.2f}s"
