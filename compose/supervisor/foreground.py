"""Foreground `up`: stream every replica's log with `service-N |` prefixes until Ctrl-C (graceful
stop; a second Ctrl-C kills), `--abort-on-container-exit`, or every replica having exited."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import anyio

from compose.logs import Formatter, LogTail
from compose.supervisor.run import Session, completion_targets, stop_all


async def foreground(session: Session, names: list[str]) -> int:
    interrupted = False
    async with anyio.create_task_group() as tg:
        tg.start_soon(_stream_logs, session, tg.cancel_scope)
        tg.start_soon(_watch_exits, session, names, tg.cancel_scope)
        tg.start_soon(_serve_api, session, tg.cancel_scope)
        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async for _ in signals:
                interrupted = True
                session.out.progress("Gracefully stopping... (press Ctrl+C again to force)")
                tg.cancel_scope.cancel()
                break
    return 130 if interrupted else _exit_code(session)


def _exit_code(session: Session) -> int:
    target = session.run.exit_code_from
    if target is None:
        return 0
    reps = session.sup.tracker.of_service(target)
    return next((r.exit_code or 0 for r in reps if r.exit_code is not None), 0)


async def _serve_api(session: Session, scope: anyio.CancelScope) -> None:
    """The same API as a detached supervisor: `down`, `stop`, `up -d` from another terminal."""
    from compose.supervisor import api
    from compose.supervisor.handlers import handle

    async with anyio.create_task_group() as tg:
        path = api.socket_path(session.project.name)
        tg.start_soon(api.serve, path, lambda request: handle(session, request))
        await session.shutdown.wait()
        tg.cancel_scope.cancel()
    scope.cancel()


async def stop_or_kill(session: Session) -> None:
    """The graceful stop after the first Ctrl-C; a second Ctrl-C SIGKILLs what is left."""
    async with anyio.create_task_group() as tg:
        tg.start_soon(_kill_on_second_signal, session)
        await stop_all(session)
        tg.cancel_scope.cancel()


async def _kill_on_second_signal(session: Session) -> None:
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for _ in signals:
            for state in list(session.sup.tracker.replicas.values()):
                if state.running:
                    await session.driver.kill_replica(state.name, signal.SIGKILL)
            return


async def _watch_exits(session: Session, names: list[str], scope: anyio.CancelScope) -> None:
    """Leave the foreground when all replicas exited, or on the first exit with abort."""
    run = session.run
    abort = run.abort_on_container_exit or run.exit_code_from is not None
    exempt = completion_targets(session.project.desired({}))
    tracker = session.sup.tracker

    def aborting(rep: Any) -> bool:
        if rep.status != "exited" or rep.manually_stopped:
            return False
        if run.abort_on_container_failure and rep.exit_code not in (0, None):
            return True
        return abort and rep.service not in exempt

    def done() -> bool:
        reps = [r for n in names for r in tracker.of_service(n)]
        if abort or run.abort_on_container_failure:
            if any(aborting(r) for r in reps):
                return True
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
            shown = not session.run.attach or rec.service in session.run.attach
            if rec.log_path and shown and rec.service not in session.run.no_attach:
                tail.add(f"{rec.service}-{rec.index}", _path(rec.log_path))
        for line in tail.poll():
            session.out.log(fmt.format(line))
        await anyio.sleep(0.1)


def flush_logs(session: Session) -> None:
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
    return Path(text)
