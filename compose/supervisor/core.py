"""The Supervisor: executor + exit watchers + health monitors + a keyed reconcile loop.

    events (exit via driver.wait_exit, health change, API request, timer)
        └─► WorkQueue.add(service) ─► worker ─► reconcile(service) ─► executor actions

Invariants:
- replicas are started only through ``Executor`` (so every start is watched);
- a replica stopped by a user (stop/down/Ctrl-C) is marked ``manually_stopped`` first and is
  never restarted by its policy;
- ``reconcile(service)`` is level-triggered: it looks at the tracker, not at the event that
  woke it; issue 7 extends it (replica count, config hash) without changing the event plumbing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import anyio
from anyio.abc import TaskGroup

from compose.planner.actions import Plan
from compose.supervisor.driver import Driver
from compose.supervisor.executor import Executor, Hooks, Outcome
from compose.supervisor.health import monitor
from compose.supervisor.restart import next_backoff, should_restart
from compose.supervisor.tracker import EXITED, ReplicaState, Tracker
from compose.supervisor.workqueue import WorkQueue

log = logging.getLogger(__name__)

EventSink = Callable[[dict[str, Any]], None]


class Supervisor(Hooks):
    def __init__(
        self,
        driver: Driver,
        *,
        on_change: Callable[[ReplicaState], None] | None = None,
        on_event: EventSink | None = None,
        watch: bool = True,
    ) -> None:
        self.driver = driver
        self.tracker = Tracker(on_change)
        self.executor = Executor(driver, self.tracker, self)
        self.watch = watch
        self._on_event = on_event
        self._tg: TaskGroup | None = None
        self._health: dict[str, anyio.CancelScope] = {}
        self._watching: set[str] = set()
        self._restart_due: dict[str, float] = {}
        self.queue: WorkQueue | None = None

    # lifecycle -----------------------------------------------------------------------------
    async def __aenter__(self) -> Supervisor:
        self._tg = anyio.create_task_group()
        await self._tg.__aenter__()
        self.queue = WorkQueue(self._tg)
        if self.watch:
            self._tg.start_soon(self._worker)
        return self

    async def __aexit__(self, *exc: Any) -> bool | None:
        assert self._tg is not None
        self._tg.cancel_scope.cancel()
        return await self._tg.__aexit__(*exc)

    def spawn(self, func: Callable[..., Any], *args: Any) -> None:
        assert self._tg is not None
        self._tg.start_soon(func, *args)

    async def apply(self, plan: Plan, stop_timeout: float | None = None) -> Outcome:
        return await self.executor.run(plan, stop_timeout)

    def adopt(self, state: ReplicaState) -> None:
        """Track a replica found alive on disk (started by an earlier supervisor)."""
        self.tracker.add(state)
        if state.running:
            self.started(state.name)

    # hooks from the executor -----------------------------------------------------------------
    def started(self, name: str) -> None:
        state = self.tracker.get(name)
        if not self.watch or self._tg is None or state is None:
            return
        self._restart_due.pop(name, None)
        if name not in self._watching:
            self._watching.add(name)
            self._tg.start_soon(self._watch_exit, name)
        spec = self.driver.healthcheck(state.service)
        if spec is not None:
            self._start_health(name, spec)
        self.event("start", name)

    def stopping(self, name: str) -> None:
        scope = self._health.pop(name, None)
        if scope is not None:
            scope.cancel()

    def event(self, action: str, name: str, **attrs: Any) -> None:
        if self._on_event is None:
            return
        state = self.tracker.get(name)
        attrs.setdefault("service", state.service if state else "")
        self._on_event({"time": time.time(), "action": action, "container": name, **attrs})

    # watchers --------------------------------------------------------------------------------
    async def _watch_exit(self, name: str) -> None:
        try:
            code = await self.driver.wait_exit(name)
        except Exception:
            log.debug("watching %s failed", name, exc_info=True)
            code = None
        finally:
            self._watching.discard(name)
        state = self.tracker.get(name)
        if state is None or state.status == EXITED:
            return
        self.stopping(name)
        self.tracker.exited(name, code)
        self.event("die", name, exit_code=code)
        if self.queue is not None:
            self.queue.add(state.service)

    def _start_health(self, name: str, spec: Any) -> None:
        assert self._tg is not None
        scope = anyio.CancelScope()
        self._health[name] = scope

        async def run() -> None:
            with scope:
                await monitor(
                    name, spec, lambda argv, t: self.driver.probe(name, argv, t), self.tracker
                )

        self._tg.start_soon(run)

    # reconcile loop --------------------------------------------------------------------------
    async def _worker(self) -> None:
        assert self.queue is not None
        while True:
            key = await self.queue.get()
            try:
                await self.reconcile(key)
                self.queue.forget(key)
            except Exception:
                log.warning("reconcile %s failed; retrying", key, exc_info=True)
                self.queue.add_rate_limited(key)
            finally:
                self.queue.done(key)

    async def reconcile(self, service: str) -> None:
        """Apply restart policies to exited replicas of ``service`` (level-triggered)."""
        policy = self.driver.restart_policy(service)
        now = time.monotonic()
        for state in self.tracker.of_service(service):
            if state.status != EXITED or state.manually_stopped:
                continue
            if not should_restart(policy, state.exit_code, state.restart_count, False):
                continue
            await self._restart_when_due(state, now)

    async def _restart_when_due(self, state: ReplicaState, now: float) -> None:
        due = self._restart_due.get(state.name)
        if due is None:
            ran_for = (state.finished_at or 0) - (state.started_at or 0)
            state.backoff = next_backoff(state.backoff, ran_for)
            due = self._restart_due[state.name] = now + state.backoff
        if now < due:
            assert self.queue is not None
            self.queue.add_after(state.service, due - now)
            return
        self._restart_due.pop(state.name, None)
        self.tracker.update(state.name, restart_count=state.restart_count + 1)
        self.event("restart", state.name)
        await self.executor.start(state.name)
