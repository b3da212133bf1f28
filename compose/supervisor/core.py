"""The Supervisor: executor + exit watchers + health monitors + a keyed reconcile loop.

    events (exit via driver.wait_exit, health change, API request, timer)
        └─► WorkQueue.add(service) ─► worker ─► reconcile(service) ─► executor actions

Invariants:
- replicas are started only through ``Executor`` (so every start is watched);
- a replica stopped by a user (stop/down/Ctrl-C) is marked ``manually_stopped`` first and is
  never restarted by its policy;
- ``reconcile(service)`` is level-triggered: it looks at the tracker, not at the event that
  woke it: restart policies for exited replicas, then the replica count (``desired``) with
  expectations for actions in flight (``replicaset``); a service a running Plan owns
  (``applying``) is left to the plan and reconciled when it ends;
- errors: a transient one requeues the service with per-key exponential backoff; a terminal one
  (``UserError``, ``ImageError``: retrying cannot help) marks the service failed (``failed``,
  event ``failed``, ``on_failed``) until the next successful reconcile.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from types import TracebackType
from typing import TypeVar, TypeVarTuple, Unpack

import anyio
from anyio.abc import TaskGroup

from compose import progress
from compose.errors import ImageError, UserError
from compose.planner.actions import Plan
from compose.progress import Report
from compose.state import EXITED
from compose.state.events import Event
from compose.supervisor.driver import Driver
from compose.supervisor.executor import Executor, Hooks, Outcome
from compose.supervisor.health import HealthSpec, monitor
from compose.supervisor.replicaset import Expectations, batches, diff
from compose.supervisor.restart import RestartPolicy, attempts, next_delay, should_restart
from compose.supervisor.tracker import ReplicaState, Tracker
from compose.supervisor.workqueue import WorkQueue

log = logging.getLogger(__name__)
T = TypeVar("T")
Ts = TypeVarTuple("Ts")

EventSink = Callable[[Event], None]
WORKERS = 4  # a key is never reconciled twice at once; different services are
RESYNC_INTERVAL = 30.0  # a periodic resync wakes every kept service (level-triggered safety net)
TERMINAL = (UserError, ImageError)


class Supervisor(Hooks):
    def __init__(
        self,
        driver: Driver,
        *,
        on_change: Callable[[ReplicaState], None] | None = None,
        on_event: EventSink | None = None,
        watch: bool = True,
        eager_health: bool = False,
    ) -> None:
        """``eager_health``: the first health probes run at once (test mode, ``health``)."""
        self.driver = driver
        self.eager_health = eager_health
        self._on_change = on_change
        self._health_seen: dict[str, str | None] = {}
        self.tracker = Tracker(self._changed)
        self.executor = Executor(driver, self.tracker, self)
        self.watch = watch
        self._on_event = on_event
        self._tg: TaskGroup | None = None
        self._health: dict[str, anyio.CancelScope] = {}
        self._watching: dict[str, ReplicaState] = {}  # name -> the incarnation watched
        self._restart_due: dict[str, float] = {}
        self.queue: WorkQueue | None = None
        self.desired: dict[str, int] = {}  # service -> replica count the loop keeps
        self.applying: set[str] = set()  # services a running Plan owns
        self.expect = Expectations()
        self.failed: dict[str, str] = {}  # service -> terminal error

    # lifecycle -----------------------------------------------------------------------------
    async def __aenter__(self) -> Supervisor:
        self._tg = anyio.create_task_group()
        await self._tg.__aenter__()
        self.queue = WorkQueue(self._tg)
        if self.watch:
            for _ in range(WORKERS):
                self._tg.start_soon(self._worker)
            self._tg.start_soon(self._resync)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        assert self._tg is not None
        self._tg.cancel_scope.cancel()
        return await self._tg.__aexit__(exc_type, exc, tb)

    def spawn(
        self, func: Callable[[Unpack[Ts]], Coroutine[object, object, object]], *args: *Ts
    ) -> None:
        """Run ``func(*args)`` in the supervisor's task group (it ends with the supervisor)."""
        assert self._tg is not None
        self._tg.start_soon(func, *args)

    async def apply(
        self, plan: Plan, stop_timeout: float | None = None, report: Report = progress.ignore
    ) -> Outcome:
        owned = {step.service for step in plan.services if step.actions}
        self.set_desired(plan.replicas)
        self.applying |= owned
        outcome = None
        try:
            outcome = await self.executor.run(plan, stop_timeout, report)
            await self._refresh_network_services()  # adopted replicas included
            return outcome
        finally:
            self.applying -= owned
            for service in outcome.failed_services if outcome else owned:
                self.desired.pop(service, None)  # not started: the next `up` retries, not us
            for service in owned:
                self.enqueue(service)

    async def _refresh_network_services(self) -> None:
        """DNS records, loopback proxies and /etc/hosts from the records: after a plan they
        also cover replicas this supervisor adopted (it started none of them)."""
        try:
            await self.driver.refresh_network_services()
        except Exception:
            log.warning("refreshing network services failed", exc_info=True)

    def set_desired(self, counts: dict[str, int]) -> None:
        """The replica counts to keep (from the last `up`/`scale`); wakes the changed ones."""
        for service, count in counts.items():
            if self.desired.get(service) != count:
                self.desired[service] = count
                self.enqueue(service)

    def clear_failure(self, service: str) -> None:
        """A new request for ``service`` is a new attempt: an earlier verdict is not its answer."""
        self._mark_failed(service, None)
        self.enqueue(service)  # also when the count is the one that failed before

    def restarting(self) -> bool:
        """Some exited replica waits for its restart policy's delay."""
        return bool(self._restart_due)

    def enqueue(self, service: str) -> None:
        if self.queue is not None and self.watch:
            self.queue.add(service)

    def adopt(self, state: ReplicaState) -> None:
        """Track a replica found alive on disk (started by an earlier supervisor)."""
        self.tracker.add(state)
        if state.running:
            self.started(state.name)

    def _changed(self, state: ReplicaState) -> None:
        """Persist, and turn a health transition into an event that wakes the service
        (Docker's ``health_status: healthy|unhealthy``; pycompose, like Docker, reports an
        unhealthy replica but does not restart it)."""
        if self._on_change is not None:
            self._on_change(state)
        if state.health != self._health_seen.get(state.name):
            self._health_seen[state.name] = state.health
            if state.health in ("healthy", "unhealthy"):
                self.event(f"health_status: {state.health}", state.name, service=state.service)
                self.enqueue(state.service)

    # hooks from the executor -----------------------------------------------------------------
    def started(self, name: str) -> None:
        state = self.tracker.get(name)
        if not self.watch or self._tg is None or state is None:
            return
        self._restart_due.pop(name, None)
        if self._watching.get(name) is not state:  # a new replica may reuse a name
            self._watching[name] = state
            self._tg.start_soon(self._watch_exit, name, state)
        spec = self.driver.healthcheck(state.service)
        if spec is not None:
            self._start_health(name, spec)
        self.event("start", name)

    def stopping(self, name: str) -> None:
        scope = self._health.pop(name, None)
        if scope is not None:
            scope.cancel()

    def monitors_health(self) -> bool:
        return self.watch

    def renamed(self, old: str, new: str) -> None:
        """A start-first successor took its predecessor's name: its watchers hold its state
        object and follow; only their bookkeeping is re-keyed."""
        if old in self._watching:
            self._watching[new] = self._watching.pop(old)
        if old in self._health:
            self._health[new] = self._health.pop(old)
        self._health_seen[new] = self._health_seen.pop(old, None)
        self.event("rename", new, old_name=old)

    def event(self, action: str, name: str, **attrs: object) -> None:
        if self._on_event is None:
            return
        state = self.tracker.get(name)
        attrs.setdefault("service", state.service if state else "")
        self._on_event({"time": time.time(), "action": action, "container": name, **attrs})

    # watchers --------------------------------------------------------------------------------
    async def _watch_exit(self, name: str, watched: ReplicaState) -> None:
        """``watched``: the replica's state object, the same under a later name (rename)."""
        try:
            code = await self.driver.wait_exit(watched.name)  # renamed before it ran
        except Exception:
            log.debug("watching %s failed", name, exc_info=True)
            code = None
        finally:
            name = watched.name
            if self._watching.get(name) is watched:
                del self._watching[name]
        state = self.tracker.get(name)
        if state is not watched:  # removed meanwhile (scale-down, rm), or a successor has the name
            if watched.status != EXITED:  # Docker reports every container's death
                self.event("die", name, exit_code=code, service=watched.service)
            return
        if state.status == EXITED:
            return
        self.stopping(name)
        # exited and (`ps`: Restarting; `logs -f` waits) restarting in one update: `ls`/`ps`
        # between two updates read a replica about to restart as exited
        restarting = self._will_restart(state, time.monotonic(), code)
        self.tracker.exited(name, code, restarting=restarting)
        self.event("die", name, exit_code=code)
        self.enqueue(state.service)
        try:
            await self.driver.replica_exited(name, state.service)  # DNS, hosts, DNAT drop it
        except Exception:
            log.warning("network services after %s died", name, exc_info=True)

    def _start_health(self, name: str, spec: HealthSpec) -> None:
        assert self._tg is not None
        scope = anyio.CancelScope()
        self._health[name] = scope

        state = self.tracker.get(name)
        if state is None:
            return

        async def probe(argv: tuple[str, ...], timeout: float) -> int:
            return await self.driver.probe(state.name, argv, timeout)

        async def gate() -> str:
            return await self.driver.accepting(state.name)

        async def run() -> None:
            with scope:
                await monitor(state, spec, probe, self.tracker, gate if self.eager_health else None)

        self._tg.start_soon(run)

    # reconcile loop --------------------------------------------------------------------------
    async def _resync(self) -> None:
        while True:
            await anyio.sleep(RESYNC_INTERVAL)
            for service in list(self.desired):
                self.enqueue(service)

    async def _worker(self) -> None:
        assert self.queue is not None
        while True:
            key = await self.queue.get()
            try:
                await self.reconcile(key)
                self.queue.forget(key)
                self._mark_failed(key, None)
            except TERMINAL as exc:
                log.warning("reconcile %s failed: %s", key, exc)
                self._mark_failed(key, str(exc))
            except Exception as exc:
                delay = self.queue.add_rate_limited(key)
                log.warning("reconcile %s failed (retry in %.3fs): %s", key, delay, exc)
                self.event("reconcile-error", "", service=key, error=str(exc), retry_in=delay)
            finally:
                self.queue.done(key)

    def _mark_failed(self, service: str, error: str | None) -> None:
        if self.failed.get(service) == error:
            return
        if error is None:
            self.failed.pop(service, None)
        else:
            self.failed[service] = error
            self.event("failed", "", service=service, error=error)
        self.driver.record_failures(dict(self.failed))
        self.tracker.poke()

    async def reconcile(self, service: str) -> None:
        """Level-triggered: restart policies for exited replicas, then the replica count. A
        service a Plan is applying is the Plan's (it may be starting the very replica a
        restart policy would: two starts of one replica kill each other's container); it is
        reconciled when the Plan ends."""
        if service in self.applying:
            return
        await self._restart_policies(service)
        want = self.desired.get(service)
        if want is None:
            return
        stale = [s.name for s in self.tracker.of_service(service) if self._staging(s)]
        if stale:  # a start-first successor whose recreation a crash interrupted
            await self._remove_all(service, stale)
        change = diff(self.tracker.replicas.values(), want, self.expect, service)
        if change.remove:
            await self._remove_all(service, [s.name for s in change.remove])
        for batch in batches(list(change.create)):
            await self._create_batch(service, batch)

    async def _restart_policies(self, service: str) -> None:
        policy = self.driver.restart_policy(service)
        now = time.monotonic()
        for state in self.tracker.of_service(service):
            if state.status != EXITED or state.manually_stopped or self._staging(state):
                continue
            if not self._will_restart(state, now):
                if state.restarting:
                    self.tracker.update(state.name, restarting=False)
                continue
            await self._restart_when_due(state, now, policy)

    def _will_restart(self, state: ReplicaState, now: float, code: int | None = None) -> bool:
        """The exited replica's restart policy starts it again (the watch loop only); ``code``:
        its exit code when the state does not hold it yet."""
        if not self.watch or state.manually_stopped or state.oneoff:
            return False
        policy = self.driver.restart_policy(state.service)
        tries = attempts(policy, state.restart_count, state.restarts, now)
        return should_restart(policy, state.exit_code if code is None else code, tries, False)

    async def _create_batch(self, service: str, indexes: list[int]) -> None:
        """Create + start one slow-start batch in parallel; any failure raises (retry)."""
        for index in indexes:
            self.expect.expect_create(service, index)

        async def one(index: int) -> None:
            try:
                name = self.driver.name_of(service, index)
                self.event("create", name, service=service)
                await self.executor.create(service, index, name)
                await self.executor.start(name)
            finally:
                self.expect.created(service, index)
                self.tracker.poke()

        await _all_then_raise(one, indexes)

    async def _remove_all(self, service: str, names: list[str]) -> None:
        for name in names:
            self.expect.expect_delete(service, name)

        async def one(name: str) -> None:
            try:
                state = self.tracker.get(name)
                if state is not None and state.running:
                    self.event("stop", name, service=service)
                    await self.executor.stop(name)
                self.event("remove", name, service=service)
                await self.executor.remove(name)
            finally:
                self.expect.deleted(service, name)
                self.tracker.poke()

        await _all_then_raise(one, names)

    def _staging(self, state: ReplicaState) -> bool:
        return not state.oneoff and state.name != self.driver.name_of(state.service, state.index)

    async def _restart_when_due(
        self, state: ReplicaState, now: float, policy: RestartPolicy
    ) -> None:
        due = self._restart_due.get(state.name)
        if due is None:
            ran_for = (state.finished_at or 0) - (state.started_at or 0)
            state.backoff = next_delay(policy, state.backoff, ran_for)
            due = self._restart_due[state.name] = now + state.backoff
        if now < due:
            assert self.queue is not None
            self.queue.add_after(state.service, due - now)
            return
        self._restart_due.pop(state.name, None)
        state.restarts.append(now)
        self.tracker.update(state.name, restart_count=state.restart_count + 1)
        self.event("restart", state.name)
        await self.executor.start(state.name)


async def _all_then_raise(fn: Callable[[T], Awaitable[None]], items: Sequence[T]) -> None:
    """Run ``fn`` on every item in parallel; each runs to its end even when another fails, and
    the first failure is raised afterwards (the reconcile retries the key with backoff)."""
    errors: list[Exception] = []

    async def guarded(item: T) -> None:
        try:
            await fn(item)
        except Exception as exc:
            errors.append(exc)

    async with anyio.create_task_group() as tg:
        for item in items:
            tg.start_soon(guarded, item)
    if errors:
        raise errors[0]
