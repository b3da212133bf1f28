"""A supervisor's request handlers (see ``api`` for the wire format): ``serve`` runs them for
the detached supervisor and for a foreground `up` alike."""

from __future__ import annotations

import os
import signal
from typing import Any

import anyio

from compose.errors import OperationError
from compose.planner import UpOptions, selected_services
from compose.state import layout, observe_project
from compose.supervisor import api
from compose.supervisor.blocking import run_sync
from compose.supervisor.run import Session, ensure_images, stop_all, wait_ready


async def serve(session: Session) -> None:
    async with anyio.create_task_group() as tg:
        tg.start_soon(
            api.serve, layout.socket_path(session.project.name), lambda r: handle(session, r)
        )
        await session.shutdown.wait()
        tg.cancel_scope.cancel()


async def handle(session: Session, request: dict[str, Any]) -> dict[str, Any]:
    op = request.get("op")
    services = tuple(request.get("services") or ())
    if op == "status":
        snapshot = session.sup.tracker.snapshot()
        return {"ok": True, "pid": _pid(), "replicas": snapshot, "ready": session.applied.is_set()}
    await session.applied.wait()  # `up` is still starting the project: its plan goes first
    session.busy += 1  # a foreground `up` does not end while a request has all briefly down
    try:
        return await _act(session, op, services, request)
    finally:
        session.busy -= 1
        session.sup.tracker.poke()


async def _act(
    session: Session, op: str | None, services: tuple[str, ...], request: dict[str, Any]
) -> dict[str, Any]:
    if op == "shutdown":
        await stop_all(session, request.get("timeout"))
        session.sup.spawn(_set_later, session.shutdown)  # after the reply is sent
        return {"ok": True}
    if op == "apply":
        return await _apply_request(session, request)
    if op == "scale":
        from compose.supervisor.scaling import scale_request

        return await scale_request(session, request)
    if op == "down":
        return await _down_request(session, request)
    if op == "rm":
        removed = await _remove_stopped(session, services)
        return {"ok": True, "removed": removed}
    if op in ("pause", "unpause"):
        return {"ok": True, "changed": await _pause_op(session, op == "pause", services)}
    if op in ("stop", "start", "restart", "kill"):
        if request.get("timeout") is not None:
            session.sup.executor._stop_timeout = float(request["timeout"])
        return {"ok": True, "changed": await _replica_op(session, op, services, request)}
    raise OperationError(f"unknown request {op!r}")


async def _replica_op(
    session: Session, op: str, services: tuple[str, ...], req: dict[str, Any]
) -> list[str]:
    """stop | start | restart | kill the replicas of ``services`` (all when empty); the names
    acted on, for the CLI to report."""
    tracked = list(session.sup.tracker.replicas.values())
    states = [s for s in tracked if not services or s.service in services]
    changed = []
    for state in states:
        if op == "kill" and state.running:
            session.sup.tracker.update(state.name, manually_stopped=True)
            await session.driver.kill_replica(state.name, int(req.get("signal", signal.SIGKILL)))
        elif op == "restart" or state.running == (op == "stop"):
            if op != "start" and state.running:
                await session.sup.executor.stop(state.name)
            if op != "stop":
                await session.sup.executor.start(state.name)
        else:
            continue
        changed.append(state.name)
    return changed


async def _pause_op(session: Session, pause: bool, services: tuple[str, ...]) -> list[str]:
    """Freeze / thaw running replicas; the tracker knows, so health probes skip them and the
    records (``ps``) say ``paused`` without a later update overwriting it."""
    from compose.state import PAUSED, RUNNING

    want, new = (RUNNING, PAUSED) if pause else (PAUSED, RUNNING)
    act = session.driver.pause_replica if pause else session.driver.unpause_replica
    changed = []
    for state in list(session.sup.tracker.replicas.values()):
        if state.status != want or (services and state.service not in services):
            continue
        await act(state.name)
        session.sup.tracker.update(state.name, status=new)
        session.sup.event("pause" if pause else "unpause", state.name)
        changed.append(state.name)
    return changed


async def _apply_request(session: Session, request: dict[str, Any]) -> dict[str, Any]:
    """`up -d` against a running supervisor: reload the file, plan, converge, keep serving."""
    if session.reload is None:
        raise OperationError("this supervisor cannot reload its stack")
    project = session.reload(request["load"])
    up = UpOptions.from_json(request["up"])
    project.check_services(up.services)
    names = selected_services(project.desired({}), up.services, up.no_deps)
    images = await run_sync(
        ensure_images, project.stack, names, request.get("pull", "missing"), session.out
    )
    session.project = project
    session.driver.ctx.use(project.stack, images)
    plan = project.plan_up(up, session.driver.ctx.images)
    outcome = await session.sup.apply(plan, session.run.stop_timeout)
    failures = list(outcome.failures)
    if not failures and request.get("wait"):
        failures += await wait_ready(session, names, request.get("wait_timeout"))
    actions = [a.describe() for a in plan.actions()]
    return {"ok": True, "failures": failures, "warnings": outcome.warnings, "actions": actions}


async def _down_request(session: Session, request: dict[str, Any]) -> dict[str, Any]:
    """`down` while this supervisor runs: remove everything, forget the project, then exit."""
    from compose.planner import DownOptions, plan_down
    from compose.supervisor.machine.forget import forget_project

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
    for service in {s.service for s in session.sup.tracker.replicas.values()} | set(services):
        if service in session.sup.desired:  # `rm` lowers the count the loop keeps
            left = [s for s in session.sup.tracker.of_service(service) if not s.oneoff]
            session.sup.desired[service] = len(left)
    return names


async def _set_later(event: anyio.Event) -> None:
    await anyio.sleep(0.005)  # the reply goes out first
    event.set()


def _pid() -> int:
    return os.getpid()
