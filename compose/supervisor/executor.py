"""Run a Plan: setup in parallel, then each ServiceStep as soon as its waits hold, then teardown.

    setup ──► step(db) ──► step(web)        a step waits for its dependencies' conditions,
          └─► step(cache) ─┘                then runs its replicas' actions in parallel

Invariants:
- a failed step (or an unmet required condition) leaves every dependent step not started;
- every failure is collected, one line each, and raised together as ``ProjectUpError``;
- ``required: false`` dependencies that fail only produce a warning;
- teardown runs even when some steps failed (down must remove what it can).
"""

from __future__ import annotations

import logging
import math
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial

import anyio

from compose import progress
from compose.errors import ContainerError, ProjectUpError
from compose.planner.actions import (
    SERVICE_COMPLETED,
    SERVICE_HEALTHY,
    STOPPED,
    CreateReplica,
    EnsureNetwork,
    EnsureVolume,
    KeepReplica,
    Plan,
    RecreateReplica,
    RemoveNetwork,
    RemoveReplica,
    RemoveVolume,
    ReplicaAction,
    RestartReplica,
    ServiceStep,
    StartReplica,
    StopReplica,
    Wait,
)
from compose.progress import Report, Step
from compose.state import EXITED
from compose.state.records import staging_name
from compose.supervisor.conditions import DependencyFailed, wait_condition
from compose.supervisor.driver import Driver
from compose.supervisor.tracker import ReplicaState, Tracker

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    failed_services: set[str] = field(default_factory=set)

    def raise_for_failures(self) -> None:
        if self.failures:
            raise ProjectUpError(self.failures)


def parallel_limit() -> float:
    """docker compose's ``--parallel`` / ``COMPOSE_PARALLEL_LIMIT`` (-1 or unset: unlimited)."""
    import os

    try:
        limit = int(os.environ.get("COMPOSE_PARALLEL_LIMIT", "-1"))
    except ValueError:
        limit = -1
    return float(limit) if limit > 0 else math.inf


class Hooks:
    """Called by the executor so the supervisor can watch replicas it started."""

    def started(self, name: str) -> None: ...

    def stopping(self, name: str) -> None: ...

    def event(self, action: str, name: str, **attrs: object) -> None: ...

    def renamed(self, old: str, new: str) -> None: ...

    def monitors_health(self) -> bool:
        """True when healthchecks run (a start-first successor then waits to be healthy)."""
        return False


@dataclass
class _Step:
    step: ServiceStep
    done: anyio.Event = field(default_factory=anyio.Event)
    failed: str | None = None


class Executor:
    def __init__(self, driver: Driver, tracker: Tracker, hooks: Hooks | None = None) -> None:
        self.driver = driver
        self.tracker = tracker
        self.hooks = hooks or Hooks()
        self._stop_timeout: float | None = None  # the replicas' own grace periods
        self._limiter: anyio.CapacityLimiter | None = None
        self._handing_over: dict[str, anyio.Lock] = {}  # service -> one start-first hand-over

    async def run(
        self, plan: Plan, stop_timeout: float | None = None, report: Report = progress.ignore
    ) -> Outcome:
        """``report``: each action's steps as they begin and end (the command's progress)."""
        outcome = Outcome(warnings=list(plan.warnings))
        self._stop_timeout = stop_timeout
        await self._setup(plan, outcome, report)
        if not outcome.failures:
            await self._steps(plan.services, outcome, report)
        await self._teardown(plan, outcome, report)
        return outcome

    async def _setup(self, plan: Plan, outcome: Outcome, report: Report) -> None:
        async with anyio.create_task_group() as tg:
            for action in plan.setup:
                tg.start_soon(
                    self._guard, outcome, action.describe(), partial(self._ensure, action, report)
                )

    async def _ensure(self, action: EnsureNetwork | EnsureVolume, report: Report) -> None:
        """Networks and volumes the project has are ensured again, silently."""
        shown = report if action.shown else progress.ignore
        ensure = (
            partial(self.driver.ensure_network, action)
            if isinstance(action, EnsureNetwork)
            else partial(self.driver.ensure_volume, action)
        )
        await _reported(shown, action.kind, action.full_name, progress.CREATE, ensure)

    async def _teardown(self, plan: Plan, outcome: Outcome, report: Report) -> None:
        replica_actions = [a for a in plan.teardown if isinstance(a, ReplicaAction)]
        async with anyio.create_task_group() as tg:
            for name, actions in _by_replica(replica_actions).items():
                label = f'container "{name}"'
                tg.start_soon(self._guard, outcome, label, partial(self._replica, actions, report))
        for action in plan.teardown:
            if isinstance(action, RemoveNetwork | RemoveVolume):
                work = partial(self._remove, action, report)
                await self._guard(outcome, action.describe(), work)

    async def _remove(self, action: RemoveNetwork | RemoveVolume, report: Report) -> None:
        if isinstance(action, RemoveNetwork):
            remove = partial(self.driver.remove_network, action)
            await _reported(report, "Network", action.full_name, progress.REMOVE, remove)
        else:
            drop = partial(self.driver.remove_volume, action)
            await _reported(report, "Volume", action.full_name, progress.REMOVE, drop)

    async def _steps(
        self, steps: tuple[ServiceStep, ...], outcome: Outcome, report: Report
    ) -> None:
        states = {s.service: _Step(s) for s in steps}
        async with anyio.create_task_group() as tg:
            for state in states.values():
                tg.start_soon(self._run_step, state, states, outcome, report)

    async def _run_step(
        self, state: _Step, states: dict[str, _Step], outcome: Outcome, report: Report
    ) -> None:
        for action in state.step.actions:  # what runs already is said first, as docker does
            if isinstance(action, KeepReplica):
                report(Step("Container", action.name, action.verb))
        try:
            blocked = await self._wait_all(state.step, states, outcome, report)
            if blocked:
                state.failed = blocked
                outcome.failures.append(f'service "{state.step.service}" not started: {blocked}')
                outcome.failed_services.add(state.step.service)
                return
            await self._run_actions(state, outcome, report)
        finally:
            state.done.set()

    async def _wait_all(
        self, step: ServiceStep, states: dict[str, _Step], outcome: Outcome, report: Report
    ) -> str | None:
        for wait in step.waits:
            reason = await self._wait_one(wait, states, report)
            if reason and wait.required:
                return reason
            if reason:
                outcome.warnings.append(
                    f'service "{step.service}": optional dependency "{wait.service}": {reason}'
                )
        return None

    async def _wait_one(self, wait: Wait, states: dict[str, _Step], report: Report) -> str | None:
        dep = states.get(wait.service)
        if dep is not None:
            await dep.done.wait()
            if dep.failed and wait.condition != STOPPED:
                return f'dependency "{wait.service}" failed to start'
        shown = wait.condition in (SERVICE_HEALTHY, SERVICE_COMPLETED)  # as docker: not started
        waited = [s.name for s in self.tracker.of_service(wait.service)] if shown else []
        for name in waited:
            report(Step("Container", name, "Waiting", done=False))
        try:
            await wait_condition(wait, self.tracker, self._has_healthcheck)
        except DependencyFailed as exc:
            for name in waited:
                report(Step("Container", name, "Error", error=True, text=str(exc)))
            return f"dependency failed to start: {exc}"
        verdict = "Healthy" if wait.condition == SERVICE_HEALTHY else "Exited"
        for name in waited:
            report(Step("Container", name, verdict))
        return None

    def _has_healthcheck(self, service: str) -> bool:
        return self.driver.healthcheck(service) is not None

    async def _run_actions(self, state: _Step, outcome: Outcome, report: Report) -> None:
        """Replicas in parallel, except recreations: one replica at a time (a rolling update,
        the others keep serving), stopping at the first that fails."""
        failed: list[str] = []  # this step's own failures (other steps run concurrently)
        groups = list(_by_replica(state.step.actions).values())
        rolling = [g for g in groups if any(isinstance(a, RecreateReplica) for a in g)]
        async with anyio.create_task_group() as tg:
            for actions in groups:
                if actions in rolling:
                    continue
                label = f'service "{state.step.service}" replica {actions[0].index}'
                tg.start_soon(
                    partial(
                        self._guard, outcome, label, partial(self._replica, actions, report), failed
                    )
                )
            for actions in sorted(rolling, key=lambda g: g[0].index):
                if failed:
                    break
                label = f'service "{state.step.service}" replica {actions[0].index}'
                work = partial(self._replica, actions, report)
                await self._guard(outcome, label, work, failed)
        if failed:
            state.failed = failed[-1]
            outcome.failed_services.add(state.step.service)

    async def _guard(
        self,
        outcome: Outcome,
        label: str,
        work: Callable[[], Awaitable[None]],
        failed: list[str] | None = None,
    ) -> None:
        try:
            await work()
        except Exception as exc:  # every failure is reported, none stops the others
            log.debug("%s failed", label, exc_info=True)
            text = str(exc)
            line = text if text.startswith(label) else f"{label}: {text}"
            outcome.failures.append(line)
            if failed is not None:
                failed.append(line)

    async def _replica(self, actions: list[ReplicaAction], report: Report) -> None:
        async with self._limit():
            for action in actions:
                await self.apply(action, report)

    def _limit(self) -> anyio.CapacityLimiter:
        """At most ``COMPOSE_PARALLEL_LIMIT`` replicas acted on at once (``--parallel``)."""
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(parallel_limit())
        return self._limiter

    async def apply(self, action: ReplicaAction, report: Report = progress.ignore) -> None:
        """One replica action; public so the reconciler and the API reuse it."""
        name = action.name
        if isinstance(action, KeepReplica):  # nothing to do (its step reported it)
            return
        self.hooks.event(action.verb.lower(), name, service=action.service)
        if isinstance(action, RecreateReplica):
            await self.recreate(action, report)
            return
        verbs: dict[type, tuple[tuple[str, str], Callable[[], Awaitable[None]]]] = {
            CreateReplica: (
                progress.CREATE,
                partial(self.create, action.service, action.index, name),
            ),
            StartReplica: (progress.START, partial(self.start, name)),
            StopReplica: (progress.STOP, partial(self.stop, name)),
            RemoveReplica: (progress.REMOVE, partial(self.remove, name)),
            RestartReplica: (progress.RESTART, partial(self.restart, name)),
        }
        pair, run = verbs[type(action)]
        await _reported(report, "Container", name, pair, run)

    async def restart(self, name: str) -> None:
        await self.stop(name)
        await self.start(name)

    async def create(self, service: str, index: int, name: str, inherit: bool = True) -> None:
        await self.driver.create_replica(service, index, name, inherit)
        self.tracker.add(ReplicaState(service, index, name))

    async def start(self, name: str) -> None:
        await self.driver.start_replica(name)
        self.tracker.started(name)
        self.hooks.started(name)

    async def stop(self, name: str, timeout: float | None = None) -> None:
        """``timeout``: the grace period, else the running plan's, else the replica's own."""
        self.tracker.update(name, manually_stopped=True, restarting=False)
        self.hooks.stopping(name)
        grace = self._stop_timeout if timeout is None else timeout
        await self.driver.stop_replica(name, grace)

    async def remove(self, name: str) -> None:
        await self.driver.remove_replica(name)
        self.tracker.remove(name)

    async def recreate(self, action: RecreateReplica, report: Report = progress.ignore) -> None:
        """The new container is created under a staging name first (with the old one's
        anonymous volumes, unless ``renew``), as docker compose does. Stop-first: the old one
        stops, the new one takes over its addresses and name, then starts. Start-first: the
        new one starts and must be ready (healthy, when it has a healthcheck) before the old
        one is drained and stopped; then it takes over its addresses and name. A successor
        that fails is removed and the old one keeps running. Reported as docker compose does:
        ``Recreate``, ``Recreated``, ``Starting``, ``Started``."""
        name = action.name
        replace = partial(self._replace, action)
        order = "(start-first)" if action.start_first else ""  # as `--dry-run` words it
        await _reported(report, "Container", name, progress.RECREATE, replace, order)
        if action.start_first:  # it started before the old one stopped: docker's two lines
            for step in progress.pair("Container", name, progress.START[1]):
                report(step)
            return
        await _reported(
            report, "Container", name, progress.START, partial(self._start_replaced, name)
        )

    async def _start_replaced(self, name: str) -> None:
        await self.driver.admit_replica(name)
        await self.start(name)

    async def _replace(self, action: RecreateReplica) -> None:
        service, index, name = action.service, action.index, action.name
        staging = staging_name(name, secrets.token_hex(6))
        inherit = not action.renew
        if action.start_first:
            await self._start_successor(service, index, staging, inherit)
            # one replica of the service at a time between its stop and the hand-over of its
            # addresses: a proxy that resolved them all once (nginx) retries the next one, and
            # when two such windows overlapped every retry failed (502s under no load)
            async with self._handing_over.setdefault(service, anyio.Lock()):
                await self.driver.drain_replica(name, staging)  # new connections: successor
                await self.stop(name)
                await self.driver.take_over_replica(name, staging)  # clients that cached it
        else:
            await self._successor(service, index, staging, inherit)
            await self.stop(name)
            await self.driver.take_over_replica(name, staging)
        await self.remove(name)
        await self.driver.rename_replica(staging, name)
        self.tracker.rename(staging, name)
        self.hooks.renamed(staging, name)

    async def _successor(self, service: str, index: int, staging: str, inherit: bool) -> None:
        """Created withheld from traffic (admitted by the caller); removed if it fails."""
        try:
            self.hooks.event("create", staging, service=service)
            self.driver.withhold_replica(staging)
            await self.create(service, index, staging, inherit)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self._discard(staging)
            raise

    async def _start_successor(self, service: str, index: int, staging: str, inherit: bool) -> None:
        """Created withheld, started and ready while the old one still serves (the caller
        admits it as it drains the old one)."""
        await self._successor(service, index, staging, inherit)
        try:
            await self.start(staging)
            await self._ready(service, staging)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self._discard(staging)
            raise

    async def _ready(self, service: str, name: str) -> None:
        """The successor runs and, with a healthcheck that runs, is healthy; without one, it
        accepts connections on its published TCP ports and where its predecessor listens
        (bounded wait: ``wait_serving``)."""
        watch_health = self.hooks.monitors_health() and self.driver.healthcheck(service)
        if not watch_health:
            await self.driver.wait_serving(name)

        def settled() -> bool:
            state = self.tracker.get(name)
            if state is None or state.status == EXITED or not watch_health:
                return True
            return state.health in ("healthy", "unhealthy")

        await self.tracker.wait_for(settled)
        state = self.tracker.get(name)
        if state is None or state.status == EXITED:
            code = state.exit_code if state else None
            raise ContainerError(f"the new container exited (code {code}); the old one is kept")
        if watch_health and state.health != "healthy":
            raise ContainerError("the new container is unhealthy; the old one is kept")

    async def _discard(self, name: str) -> None:
        state = self.tracker.get(name)
        if state is not None and state.running:
            await self.stop(name)
        await self.remove(name)


def _by_replica(
    actions: list[ReplicaAction] | tuple[ReplicaAction, ...],
) -> dict[str, list[ReplicaAction]]:
    grouped: dict[str, list[ReplicaAction]] = {}
    for action in actions:
        grouped.setdefault(action.name, []).append(action)
    return grouped


async def _reported(
    report: Report,
    kind: str,
    name: str,
    pair: tuple[str, str],
    work: Callable[[], Awaitable[None]],
    text: str = "",
) -> None:
    """``work()`` between its two steps (``Creating`` … ``Created``; ``text`` beside the
    first); a failure is an ``Error`` step with its cause, then raised."""
    report(Step(kind, name, pair[0], done=False, text=text))
    try:
        await work()
    except Exception as exc:
        report(Step(kind, name, "Error", error=True, text=str(exc)))
        raise
    report(Step(kind, name, pair[1]))
