"""Foreground `up`: stream every replica's log with `service-N |` prefixes until Ctrl-C (graceful
stop; a second Ctrl-C kills), `--abort-on-container-exit`, or every replica having exited.

Like a detached supervisor it serves the project's API (``run`` serves ``handlers`` for both),
so `scale`, `stop`, `start`, `restart`, `kill`, `pause`, `rm`, `up -d` … from another terminal
act through it: new replicas (scaled up, started again, recreated under their name) are
followed with their prefixes, and each exit is reported as docker compose does
(``web-1 exited with code 0``).
Stopping some services keeps the foreground running; once every replica has exited (and no
request is still acting, as a `restart` between its stop and its start) it ends.
"""

from __future__ import annotations

import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio

from compose.logs import Formatter, LogTail, parse_time
from compose.supervisor.run import Session, completion_targets, stop_all

EXIT_SETTLE = 0.15  # an exit is reported this long after it: the replica's last lines first


async def foreground(session: Session, names: list[str]) -> int:
    interrupted = False
    async with anyio.create_task_group() as tg:
        tg.start_soon(_stream_logs, session, tg.cancel_scope)
        tg.start_soon(_watch_exits, session, names, tg.cancel_scope)
        tg.start_soon(_end_on_shutdown, session, tg.cancel_scope)
        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async for _ in signals:
                interrupted = True
                session.out.progress("Gracefully stopping... (press Ctrl+C again to force)")
                tg.cancel_scope.cancel()
                break
    report_exits(session)
    return 130 if interrupted else _exit_code(session)


def _exit_code(session: Session) -> int:
    target = session.run.exit_code_from
    if target is None:
        return 0
    reps = session.sup.tracker.of_service(target)
    return next((r.exit_code or 0 for r in reps if r.exit_code is not None), 0)


async def _end_on_shutdown(session: Session, scope: anyio.CancelScope) -> None:
    """A `down` (or `shutdown`) through the API (``run`` serves it) ends the foreground."""
    await session.shutdown.wait()
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
        if session.busy or _restarting(session):
            return False
        return bool(reps) and all(r.status == "exited" for r in reps)

    await tracker.wait_for(done)
    await anyio.sleep(0.2)  # let the last log lines land
    scope.cancel()


def _restarting(session: Session) -> bool:
    return bool(session.sup._restart_due)


@dataclass
class Attached:
    """What the foreground shows: the followed log files, and the exits (the supervisor's
    ``die`` events) waiting to be reported after the replica's last lines."""

    fmt: Formatter
    tail: LogTail = field(default_factory=LogTail)
    files: dict[str, str] = field(default_factory=dict)  # source -> log path followed
    exits: list[tuple[float, str, int | None]] = field(default_factory=list)  # time, source, code

    def show(self, session: Session, settle: float = EXIT_SETTLE) -> None:
        """New log lines and due exits, in time order (a burst of restarts reads as it ran)."""
        self.follow(session)
        shown = [(parse_time(ln.time) or 0.0, self.fmt.format(ln)) for ln in self.tail.poll()]
        due = [e for e in self.exits if e[0] <= time.time() - settle]
        for when, source, code in due:
            self.exits.remove((when, source, code))
            text = "exited" if code is None else f"exited with code {code}"
            shown.append((when, self.fmt.status(source, text)))
        for _, line in sorted(shown, key=lambda item: item[0]):
            session.out.log(line)

    def follow(self, session: Session) -> None:
        """Every shown replica's log; a replica made anew under its name (another log file,
        or the same path replaced: ``LogTail`` sees the inode) is read from its start."""
        for rec in session.driver.ctx.store.replicas():
            source = f"{rec.service}-{rec.index}"
            if not rec.log_path or rec.oneoff or not _shown(session, rec.service):
                continue
            if rec.name != session.driver.name_of(rec.service, rec.index):
                continue  # a start-first successor: followed once it has the replica's name
            if self.files.get(source) != rec.log_path:
                self.tail.discard(source)
                self.tail.add(source, Path(rec.log_path))
                self.files[source] = rec.log_path

    def died(self, session: Session, event: dict[str, Any]) -> None:
        """A ``die`` event: `web-1 exited with code 3`, each time (a crash loop included)."""
        state = session.sup.tracker.get(event.get("container", ""))
        if event.get("action") != "die" or state is None or state.oneoff:
            return
        if _shown(session, state.service):
            source = f"{state.service}-{state.index}"
            self.exits.append((event["time"], source, event.get("exit_code")))


def _shown(session: Session, service: str) -> bool:
    run = session.run
    return (not run.attach or service in run.attach) and service not in run.no_attach


async def _stream_logs(session: Session, scope: anyio.CancelScope) -> None:
    view = session.view = Attached(_formatter(session))
    if session.events is not None:
        session.events.listeners.append(lambda event: view.died(session, event))
    for state in list(session.sup.tracker.replicas.values()):  # exits while `up` started them
        if state.status == "exited" and (state.finished_at or 0) >= session.started:
            died = {"time": state.finished_at, "exit_code": state.exit_code}
            view.died(session, {"action": "die", "container": state.name, **died})
    while True:
        view.show(session)
        await anyio.sleep(0.1)


def flush_logs(session: Session) -> None:
    """What the replicas said while stopping (their exits are our doing: not reported)."""
    view = session.view
    if view is not None:
        view.follow(session)
        for line in view.tail.poll():
            session.out.log(view.fmt.format(line))


def report_exits(session: Session) -> None:
    """The exits that ended the foreground, before its own graceful stop begins."""
    if session.view is not None:
        session.view.show(session, settle=0.0)


def _formatter(session: Session) -> Formatter:
    sources = [
        f"{r.service}-{r.index}" for r in session.driver.ctx.store.replicas() if not r.oneoff
    ]
    return Formatter(
        sources,
        color=session.run.color,
        prefix=not session.run.no_log_prefix,
        timestamps=session.run.timestamps,
    )
