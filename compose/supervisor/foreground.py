"""Foreground `up`: stream every replica's log with `service-N |` prefixes until Ctrl-C (graceful
stop; a second Ctrl-C kills), `--abort-on-container-exit`, or every replica having exited.

The same view serves a foreground `up` run against a project a detached supervisor already
keeps (the ``attach`` request): there it writes to the client's output and ends when the
client goes (its Ctrl-C; the client then stops the project through the API).

Like a detached supervisor it serves the project's API (``run`` serves the SupervisorService
for both), so `scale`, `stop`, `start`, `restart`, `kill`, `pause`, `rm`, `up -d` … from another
terminal act through it: new replicas (scaled up, started again, recreated under their name)
are followed with their prefixes, and each exit is reported as docker compose does
(``web-1 exited with code 0``).
Stopping some services keeps the foreground running; once every replica has exited (and no
request is still acting, as a `restart` between its stop and its start) it ends.
"""

from __future__ import annotations

import contextlib
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import anyio

from compose.logs import Formatter, LogLine, LogTail, parse_time
from compose.progress import ABORTING, STOPPING
from compose.state import EXITED
from compose.state.events import Event
from compose.supervisor.options import RunOptions
from compose.supervisor.tracker import ReplicaState

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from compose.supervisor.options import Output
    from compose.supervisor.service import SupervisorService

EXIT_SETTLE = 0.15  # an exit is reported this long after it: the replica's last lines first


class Foreground:
    def __init__(
        self,
        service: SupervisorService,
        run: RunOptions,
        out: Output | None = None,
        since: float | None = None,
    ) -> None:
        """``since``: what happened before is not shown (default: the supervisor's start; an
        attached client's `up` began later)."""
        self.service = service
        self.run_options = run
        self.out = out or service.out
        self.since = service.started if since is None else since
        self.view: Attached | None = None
        self.interrupted = 0  # the signal that ended it: `up` returns 128 + it
        self.aborted_by: ReplicaState | None = None  # the exit that ended it (abort flags)
        self._signals: AsyncIterator[signal.Signals] | None = None
        self._listening = contextlib.ExitStack()

    async def run(self, names: list[str], gone: anyio.Event | None = None) -> None:
        """Until the project ends (every replica exited, an abort, `down`) or: this process's
        Ctrl-C, or (``gone``) an attached client leaving."""
        if gone is None:
            self.listen()
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._stream_logs)
                tg.start_soon(self._watch_exits, names, tg.cancel_scope)
                tg.start_soon(self._end_on, self.service.shutdown, tg.cancel_scope)
                if gone is not None:
                    tg.start_soon(self._end_on, gone, tg.cancel_scope)
                else:
                    tg.start_soon(self.end_on_signal, tg.cancel_scope)
        finally:
            if not self.stops_all:  # no stop of ours follows: the signals go back
                self._unlisten()
        if self.view is not None and (gone is None or not gone.is_set()):
            self.view.show(self, settle=0.0)  # the exits that ended it, before the stop begins

    @property
    def stops_all(self) -> bool:
        """The replicas stop when it ends: Ctrl-C here, an abort, `up` run in this process."""
        return bool(self.interrupted) or self.aborted_by is not None

    async def stop(self) -> None:
        """The graceful stop after the first Ctrl-C; a second Ctrl-C SIGKILLs what is left.
        Then what the replicas said while stopping (their exits are ours: not reported)."""
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._kill_on_second_signal)
                await self.service.stop_all(out=self.out)
                tg.cancel_scope.cancel()
        finally:
            self._unlisten()
        if self.view is not None:
            self.view.follow(self)
            for line in self.view.tail.poll():
                self.out.log(self.view.fmt.format(line))

    def exit_code(self) -> int:
        """What `up` returns (docker compose's rule): 128 + the signal (130 after Ctrl-C); the
        code of ``--exit-code-from``'s service; else, after an abort, the code of the container
        that caused it; else 0. Asked after the stop (the service's own code is known then)."""
        if self.interrupted:
            return 128 + self.interrupted
        target = self.run_options.exit_code_from
        if target is not None:
            reps = self.service.sup.tracker.of_service(target)
            return next((r.exit_code or 0 for r in reps if r.exit_code is not None), 0)
        if self.aborted_by is not None:
            return self.aborted_by.exit_code or 0
        return 0

    async def _end_on(self, event: anyio.Event, scope: anyio.CancelScope) -> None:
        """A `down` through the API (or an attached client leaving) ends the foreground."""
        await event.wait()
        scope.cancel()

    def listen(self) -> AsyncIterator[signal.Signals]:
        """Ctrl-C and SIGTERM are this foreground's from before the start (``run_up`` listens
        while it converges) or its first log line until its stop has ended (one receiver for
        all): never a moment where SIGTERM's default action ends the process (``$?`` -15) with
        the replicas running and nothing torn down."""
        if self._signals is None:
            receiver = anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM)
            self._signals = self._listening.enter_context(receiver)
        return self._signals

    def _unlisten(self) -> None:
        self._listening.close()
        self._signals = None

    async def end_on_signal(self, scope: anyio.CancelScope) -> None:
        """The first Ctrl-C or SIGTERM cancels ``scope`` (the log following, or the start)."""
        async for signum in self.listen():
            self.interrupted = int(signum)
            self.out.progress(STOPPING)
            scope.cancel()
            return

    async def _kill_on_second_signal(self) -> None:
        async for _ in self.listen():
            await self.service.kill_all()
            return

    async def _watch_exits(self, names: list[str], scope: anyio.CancelScope) -> None:
        """Leave the foreground when all replicas exited, or on the first exit with abort."""
        run, sup = self.run_options, self.service.sup
        abort = run.abort_on_container_exit or run.exit_code_from is not None
        exempt = self.service.completion_targets()

        def aborting(rep: ReplicaState) -> bool:
            if rep.status != EXITED or rep.manually_stopped:
                return False
            if run.wait and rep.exit_code == 0 and rep.service != run.exit_code_from:
                return False  # `--wait`: a one-shot that did its job is no reason to stop
            if run.abort_on_container_failure and rep.exit_code not in (0, None):
                return True
            return abort and rep.service not in exempt

        def done() -> bool:
            reps = [r for n in names for r in sup.tracker.of_service(n)]
            if abort or run.abort_on_container_failure:
                self.aborted_by = next((r for r in reps if aborting(r)), None)
                if self.aborted_by is not None:
                    return True
            if self.service.busy or sup.restarting():
                return False
            return bool(reps) and all(r.status == EXITED for r in reps)

        await sup.tracker.wait_for(done)
        await anyio.sleep(0.2)  # let the last log lines land
        if self.aborted_by is not None:
            if self.view is not None:
                self.view.show(self, settle=0.0)  # `fail-1 exited with code 3` first
            self.out.progress(ABORTING)
        scope.cancel()

    async def _stream_logs(self) -> None:
        view = self.view = Attached(self._formatter(), since=self.since)
        shown = [f"{s.service}-{s.index}" for s in self._replicas()]
        if shown:
            self.out.log(f"Attaching to {', '.join(shown)}")
        events = self.service.events
        if events is not None:
            events.listeners.append(lambda event: view.died(self, event))
        for state in list(self.service.sup.tracker.replicas.values()):  # exits while starting
            if state.status == EXITED and (state.finished_at or 0) >= self.since:
                died = {"time": state.finished_at, "exit_code": state.exit_code}
                view.died(self, {"action": "die", "container": state.name, **died})
        while True:
            view.show(self)
            await anyio.sleep(0.1)

    def shown(self, service: str) -> bool:
        run = self.run_options
        return (not run.attach or service in run.attach) and service not in run.no_attach

    def _replicas(self) -> list[ReplicaState]:
        tracked = self.service.sup.tracker.replicas.values()
        reps = [s for s in tracked if not s.oneoff and self.shown(s.service)]
        return sorted(reps, key=lambda s: (s.service, s.index))

    def _formatter(self) -> Formatter:
        records = self.service.driver.ctx.store.replicas()
        return Formatter(
            [f"{r.service}-{r.index}" for r in records if not r.oneoff],
            color=self.run_options.color,
            prefix=not self.run_options.no_log_prefix,
            timestamps=self.run_options.timestamps,
        )


@dataclass
class Attached:
    """What the foreground shows: the followed log files, and the exits (the supervisor's
    ``die`` events) waiting to be reported after the replica's last lines."""

    fmt: Formatter
    since: float = 0.0  # lines written before the foreground began are not shown
    tail: LogTail = field(default_factory=LogTail)
    files: dict[str, str] = field(default_factory=dict)  # source -> log path followed
    exits: list[tuple[float, str, int | None]] = field(default_factory=list)  # time, source, code
    held: list[tuple[float, LogLine]] = field(default_factory=list)  # lines after a due exit

    def show(self, fg: Foreground, settle: float = EXIT_SETTLE) -> None:
        """New log lines and due exits, in time order (a burst of restarts reads as it ran).
        A line written after an exit of its replica that is not due yet (a restart within
        the settle time) waits for it: the exit line comes between the two runs' lines."""
        self.follow(fg)
        lines = self.held + [(parse_time(ln.time) or 0.0, ln) for ln in self.tail.poll()]
        now = time.time()
        due = [e for e in self.exits if e[0] <= now - settle]
        waiting: dict[str, float] = {}
        for when, source, _ in self.exits:
            if (when, source, _) not in due:
                waiting[source] = min(when, waiting.get(source, when))
        shown: list[tuple[float, str]] = []
        self.held = []
        for stamp, line in lines:
            if stamp > waiting.get(line.source, stamp):
                self.held.append((stamp, line))
            elif stamp >= self.since:
                shown.append((stamp, self.fmt.format(line)))
        for when, source, code in due:
            self.exits.remove((when, source, code))
            said = "exited" if code is None else f"exited with code {code}"
            shown.append((when, self.fmt.status(source, said)))
        for _, text in sorted(shown, key=lambda item: item[0]):
            fg.out.log(text)

    def follow(self, fg: Foreground) -> None:
        """Every shown replica's log; a replica made anew under its name (another log file,
        or the same path replaced: ``LogTail`` sees the inode) is read from its start."""
        driver = fg.service.driver
        for rec in driver.ctx.store.replicas():
            source = f"{rec.service}-{rec.index}"
            if not rec.log_path or rec.oneoff or not fg.shown(rec.service):
                continue
            if rec.name != driver.name_of(rec.service, rec.index):
                continue  # a start-first successor: followed once it has the replica's name
            if self.files.get(source) != rec.log_path:
                self.tail.discard(source)
                self.tail.add(source, Path(rec.log_path))
                self.files[source] = rec.log_path

    def died(self, fg: Foreground, event: Event) -> None:
        """A ``die`` event: `web-1 exited with code 3`, each time (a crash loop included)."""
        state = fg.service.sup.tracker.get(event.get("container", ""))
        if event.get("action") != "die" or state is None or state.oneoff:
            return
        if fg.shown(state.service):
            source = f"{state.service}-{state.index}"
            self.exits.append((event["time"], source, event.get("exit_code")))
