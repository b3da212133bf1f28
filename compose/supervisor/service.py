"""SupervisorService: what a project's supervisor does for each request, one method per op.

The same object serves a long-lived supervisor (detached, or a foreground `up`: the API socket
hands it each request) and a single request made where none runs (``compose.project``'s local
transport: a Supervisor that does not watch, over the adopted records, under the project lock).
So every verb has one implementation.

    handle(request) ─► OPS[request.op] ─► converge / down / stop … ─► Supervisor.apply(plan)
                                                        or the tracker + Driver, per replica

Requests other than ``status`` wait until ``up``'s own plan has run (``applied``): a `stop` or
`scale` from another terminal waits for the start instead of failing on the project lock; a
`down` cancels the start (``starting``) first: it wins.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import signal as signals
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import anyio

from compose import progress
from compose.errors import OperationError
from compose.planner.actions import CreateReplica, Plan, RemoveReplica, RemoveVolume
from compose.planner.desired import DesiredProject, UpOptions
from compose.planner.planner import (
    anonymous_volumes,
    plan_down,
    plan_stop,
    plan_up,
    selected_services,
)
from compose.planner.stack import check_scale, check_services, desired_from_stack
from compose.progress import Report, Silent, Step
from compose.state import CREATED, EXITED, PAUSED, RUNNING, observe_project
from compose.state.events import Event, EventLog
from compose.supervisor import api, protocol as p, readiness, volumesnap
from compose.supervisor.blocking import run_sync
from compose.supervisor.conditions import DependencyFailed, check_completed, check_healthy
from compose.supervisor.core import Supervisor
from compose.supervisor.executor import Outcome
from compose.supervisor.machine.forget import forget_project
from compose.supervisor.machine.linux import LinuxDriver
from compose.supervisor.machine.portcheck import check_plan_ports
from compose.supervisor.options import COMPOSE, TEST, Output
from compose.supervisor.owner import OwnerWatch
from compose.supervisor.tracker import ReplicaState

if TYPE_CHECKING:
    from compose.images import Image
    from compose.model import Service, Stack
    from compose.stackfile import LoadOptions

log = logging.getLogger(__name__)
CONVERGE_TIMEOUT = 120.0  # a `scale` reply waits this long for the counts to hold


class Events:
    """The supervisor's event sink: the project's event log (`events`), then whoever listens
    in this process (a foreground `up` reports exits from it, a `scale` its retries)."""

    def __init__(self, project: str) -> None:
        self._write = EventLog(project).append
        self.listeners: list[Callable[[Event], None]] = []

    def __call__(self, event: Event) -> None:
        self._write(event)
        for listener in list(self.listeners):
            listener(event)


@dataclass
class Converged:
    plan: Plan
    outcome: Outcome
    names: list[str]  # the services it selected (the named ones and their dependencies)
    failures: list[str] = field(default_factory=list)  # the plan's, then `--wait`'s

    def reply(self) -> p.PlanReply:
        return p.PlanReply(
            tuple(a.describe() for a in self.plan.changes()),
            tuple(self.outcome.warnings),
            tuple(self.failures),
        )


def load_stack(options: LoadOptions) -> Stack:
    """The validated stack; an unchanged one from the memo (``compose.model.memo``), with the
    services' config-hash input (no serializer to build for ``desired_from_stack``)."""
    from compose.model import memo
    from compose.planner import hashing

    stack, configs = memo.load_stack(options, derive=hashing.container_config)
    hashing.remember(stack.services, configs)
    return stack


def ensure_images(
    stack: Stack,
    services: list[str],
    policy: str,
    report: Report = progress.ignore,
    force: str | None = None,
) -> dict[str, Image]:
    """The services' images, pulled first where their ``pull_policy`` (or ``policy``) says,
    or ``force`` (``run --pull``) whatever they say; a service with ``build:`` was built (or
    pulled) by the CLI already (``compose.build``); a pull is reported as docker compose does
    (`` web Pulling``, `` web Pulled``)."""
    from compose.images import ImageStore, ensure_image
    from compose.images.ensure import needs_pull

    store = ImageStore()
    images = {}
    for name in services:
        svc = stack.services[name]
        ref, rule = svc.image_name(stack.name), _policy(svc, policy, force)
        pulls = needs_pull(ref, rule, store)
        if pulls:
            report(Step("", name, "Pulling", done=False))
        images[name] = ensure_image(ref, policy=rule, store=store)
        if pulls:
            report(Step("", name, "Pulled"))
    return images


def _policy(svc: Service, policy: str, force: str | None = None) -> str:
    return "build" if svc.build is not None else force or svc.pull_policy or policy


class SupervisorService:
    def __init__(
        self,
        driver: LinuxDriver,
        sup: Supervisor,
        out: Output,
        *,
        stop_timeout: float | None = None,
        events: Events | None = None,
        serving: bool = False,
        load: Callable[[LoadOptions], Stack] = load_stack,
        readiness: str = COMPOSE,
    ) -> None:
        self.driver = driver
        self.sup = sup
        self.out = out
        self.stop_timeout = stop_timeout  # `up -t`: the default grace of stops
        self.events = events
        self.serving = serving  # a long-lived supervisor: `down` ends it
        self.load = load
        self.readiness = readiness  # what `--wait` waits for (test mode: ``readiness``)
        self.owner = OwnerWatch(self)  # the reaper: down when the owner process dies
        self.shutdown = anyio.Event()  # `down` ended this supervisor
        self.applied = anyio.Event()  # `up`'s own plan has run
        self.starting = anyio.CancelScope()  # around it: a `down` meanwhile cancels it
        self.busy = 0  # requests in progress (a `restart` is not an exit of all)
        self.started = time.time()
        self._desired: tuple[Stack | None, DesiredProject | None] = (None, None)
        if not serving:
            self.applied.set()

    @property
    def project(self) -> str:
        return self.driver.project

    @property
    def stack(self) -> Stack | None:
        return self.driver.ctx.stack

    def desired(self) -> DesiredProject | None:
        """The stack's desired state (dependencies and names; no image digests): None when
        acting from the records alone."""
        stack = self.stack
        if self._desired[0] is not stack:
            self._desired = (stack, desired_from_stack(stack) if stack is not None else None)
        return self._desired[1]

    # dispatch -------------------------------------------------------------------------------
    async def handle(self, request: p.Request, out: Output | None = None) -> p.Reply:
        """``out``: the caller's output while the request runs (the steps of a plan-driven
        request, an attached `up`'s logs): through the socket, or in this process."""
        if isinstance(request, p.Status):
            return self.status()
        if isinstance(request, p.Down) and not (request.options.services or self.applied.is_set()):
            self.starting.cancel()  # `down` wins over a start still in progress
        await self.applied.wait()  # `up` is still starting the project: its plan goes first
        self.busy += 1  # a foreground `up` does not end while a request has all briefly down
        try:
            return await self._act(request, out or Silent())
        finally:
            self.busy -= 1
            self.sup.tracker.poke()

    async def _act(self, request: p.Request, out: Output) -> p.Reply:
        match request:
            case p.Apply():
                return await self.apply(request, out)
            case p.Down():
                return await self.down(request, out)
            case p.Stop():
                return await self.stop(request, out)
            case p.Start():
                return await self.start(request, out)
            case p.Restart():
                return await self.restart(request, out)
            case p.Kill():
                return await self.kill(request, out)
            case p.Pause() | p.Unpause():
                return await self.pause(request, out)
            case p.Remove():
                return await self.remove(request, out)
            case p.Scale():
                return await self.scale(request, out)
            case p.Attach():
                return await self.attach(request, out)
        return await self._act_for_tests(request)

    async def _act_for_tests(self, request: p.Request) -> p.Reply:
        """The verbs of test environments (``compose.testing``)."""
        match request:
            case p.Ready():
                return await self.ready(request)
            case p.Own():
                return await self.own(request)
            case p.Snapshot():
                return await self.snapshot(request)
            case p.Restore():
                return await self.restore(request)
            case p.Exec():
                return await self.exec(request)
        raise OperationError(f"unknown request {request.op!r}")

    async def handle_json(self, doc: p.Json, channel: api.Channel) -> p.Json:
        """The socket's handler: a request line in, output lines and a reply line out."""
        out = p.LineOutput(channel.emit, gone=channel.closed)
        reply = await self.handle(p.request_from_json(doc), out)
        return {"ok": True, **p.encode(reply)}

    def status(self) -> p.StatusReply:
        replicas = tuple(
            p.ReplicaStatus(s.name, s.service, s.index, s.status, s.health, s.exit_code)
            for s in sorted(self.sup.tracker.replicas.values(), key=lambda s: (s.service, s.index))
        )
        return p.StatusReply(os.getpid(), self.applied.is_set(), replicas)

    # converge to a file -------------------------------------------------------------------------
    async def converge(
        self,
        stack: Stack,
        up: UpOptions,
        pull: str,
        wait: bool = False,
        wait_timeout: float | None = None,
        report: Report = progress.ignore,
        unwaited: tuple[str, ...] = (),
    ) -> Converged:
        """Pull what ``up`` selects, plan against the records, apply, (``wait``) until ready.
        The first `up`, an `up -d` against a running supervisor and a `create` all come here;
        ``report`` sees each step as it happens."""
        check_services(stack, up.services)
        names = selected_services(desired_from_stack(stack), up.services, up.no_deps)
        images = await run_sync(ensure_images, stack, names, pull, report)
        self.driver.ctx.use(stack, images)
        desired = desired_from_stack(stack, self.driver.ctx.images)
        plan = await run_sync(lambda: plan_up(desired, observe_project(self.project), up))
        await run_sync(check_plan_ports, self.driver.ctx, plan)  # before anything is created
        outcome = await self.sup.apply(plan, self.stop_timeout, report)
        done = Converged(plan, outcome, names, list(outcome.failures))
        if not done.failures and wait:
            waited = [n for n in names if n not in unwaited]  # `--exit-code-from`'s runs on
            done.failures += await self.wait_ready(waited, wait_timeout, report)
        return done

    async def apply(self, request: p.Apply, out: Output) -> p.PlanReply:
        stack = await run_sync(self.load, request.load)
        done = await self.converge(
            stack, request.up, request.pull, request.wait, request.wait_timeout, out.step
        )
        return done.reply()

    async def wait_ready(
        self, names: list[str], timeout: float | None, report: Report = progress.ignore
    ) -> list[str]:
        """``up --wait``: running (healthy when checked); one-shots that others need exited 0.
        Reported as docker compose: ``Waiting``, then ``Healthy`` (``Exited`` for one-shots).
        Test mode waits for more, and explains (``readiness``)."""
        if self.readiness == TEST:
            return await readiness.wait_ready(self, names, timeout)
        one_shots = self.completion_targets()
        failures: list[str] = []
        with anyio.move_on_after(timeout) as scope:
            for name in names:
                waited = [s.name for s in self.sup.tracker.of_service(name)]
                for replica in waited:
                    report(Step("Container", replica, "Waiting", done=False))
                try:
                    ready = functools.partial(self._ready, name, name in one_shots)
                    await self.sup.tracker.wait_for(ready)
                except DependencyFailed as exc:
                    failures.append(f'service "{name}": {exc}')
                    for replica in waited:
                        report(Step("Container", replica, "Error", error=True, text=str(exc)))
                    continue
                verdict = "Exited" if name in one_shots else "Healthy"
                for replica in waited:
                    report(Step("Container", replica, verdict))
        if scope.cancelled_caught:
            failures.append(f"timeout after {timeout}s waiting for services to be running/healthy")
        return failures

    def completion_targets(self) -> set[str]:
        """Services others wait on to complete (``service_completed_successfully``)."""
        desired = self.desired()
        services = desired.services if desired is not None else ()
        return {
            need.target
            for svc in services
            for need in svc.depends_on
            if need.condition == "service_completed_successfully"
        }

    def _ready(self, service: str, one_shot: bool) -> bool:
        reps = self.sup.tracker.of_service(service)
        if one_shot:
            return check_completed(service, reps)
        if self.driver.healthcheck(service) is not None:
            return check_healthy(service, reps, True)
        for rep in reps:
            if rep.status == EXITED and rep.exit_code not in (0, None):
                raise DependencyFailed(f"container {rep.name} exited ({rep.exit_code})")
        return all(r.status in (RUNNING, EXITED) for r in reps)  # exit 0: done

    async def ready(self, request: p.Ready) -> p.PlanReply:
        """Until the services (all the stack's when none is named) are ready."""
        desired = self.desired()
        names = list(request.services) or (
            [s.name for s in desired.services] if desired is not None else []
        )
        return p.PlanReply(failures=tuple(await self.wait_ready(names, request.timeout)))

    async def own(self, request: p.Own) -> p.Changed:
        self.owner.watch(request.owner, request.kept)
        return p.Changed("Owned" if request.owner is not None else "Kept", (self.project,))

    async def snapshot(self, request: p.Snapshot) -> p.Snapshotted:
        return await volumesnap.snapshot(self, request)

    async def restore(self, request: p.Restore) -> p.Snapshotted:
        return await volumesnap.restore(self, request)

    async def exec(self, request: p.Exec) -> p.ExecReply:
        """A command in a running replica, its output captured (``Stack.exec``)."""
        import base64

        from compose.errors import ContainerError

        name = self.driver.name_of(request.service, request.index)
        state = self.sup.tracker.get(name)
        if state is None or state.status != RUNNING:
            raise ContainerError(
                f'service "{request.service}" replica {request.index} is not running'
            )
        stdin = base64.b64decode(request.stdin) if request.stdin is not None else None
        code, output, timed_out = await run_sync(
            functools.partial(
                self.driver.replicas.run_captured,
                name,
                request.argv,
                env=request.env,
                user=request.user,
                workdir=request.workdir,
                stdin=stdin,
                timeout=request.timeout,
            )
        )
        if timed_out:
            raise ContainerError(
                f"exec in {name}: {' '.join(request.argv)} did not end in {request.timeout:g}s"
            )
        return p.ExecReply(code, base64.b64encode(output).decode())

    # down and stop -----------------------------------------------------------------------------
    async def down(self, request: p.Down, out: Output) -> p.DownReply:
        """Remove everything, forget the project; a long-lived supervisor then exits. With
        services named, only their replicas go (networks stay; the supervisor keeps running).
        Under the teardown lock: a one-off being made (`run`) is made before, or after, not
        between the look at the records and the networks' removal."""
        async with _teardown_lock(self.project):
            observed = await run_sync(observe_project, self.project)
            plan = plan_down(self.desired(), observed, request.options)
            outcome = await self.sup.apply(plan, request.timeout, out.step)
            if not request.options.services:
                await run_sync(forget_project, self.project)
        if not request.options.services and self.serving:
            self.sup.spawn(_set_later, self.shutdown)  # after the reply is sent
        return p.DownReply(
            tuple(a.describe() for a in plan.changes()),
            tuple(outcome.warnings),
            tuple(outcome.failures),
            pid=os.getpid() if not request.options.services else 0,
        )

    async def stop(self, request: p.Stop, out: Output) -> p.Changed:
        """Dependents first; a stopped replica is not restarted by its policy."""
        plan = await self._plan_stop(request.services)
        outcome = await self.sup.apply(
            plan, self.stop_timeout if request.timeout is None else request.timeout, out.step
        )
        outcome.raise_for_failures()
        return p.Changed("Stopped", tuple(a.name for s in plan.services for a in s.actions))

    async def stop_all(self, timeout: float | None = None, out: Output | None = None) -> None:
        """The supervisor's own end (Ctrl-C, a failed foreground `up`, an abort): every
        replica stops, dependents first, each step shown as it happens."""
        with anyio.CancelScope(shield=True):  # a Ctrl-C never leaves it half done
            plan = await self._plan_stop(())
            grace = self.stop_timeout if timeout is None else timeout
            await self.sup.apply(plan, grace, (out or self.out).step)

    async def attach(self, request: p.Attach, out: Output) -> p.Exited:
        """A foreground `up` run where this supervisor keeps the project: its view (logs,
        exits, the abort flags) on the client's output until the project ends or the client
        goes; an abort stops every replica, as the foreground does. The reply: `up`'s code."""
        from compose.supervisor.foreground import Foreground

        desired = self.desired()
        if desired is None:
            raise OperationError("attach: the stack file is needed")
        names = selected_services(desired, request.up.services, request.up.no_deps)
        foreground = Foreground(self, request.run, out, since=request.since)
        await foreground.run(names, gone=getattr(out, "gone", None))
        if foreground.stops_all:
            await foreground.stop()
        return p.Exited(foreground.exit_code())

    async def _plan_stop(self, services: tuple[str, ...]) -> Plan:
        return plan_stop(self.desired(), await run_sync(observe_project, self.project), services)

    async def start(self, request: p.Start, out: Output) -> p.Changed:
        names = []
        for state in self._states(request.services):
            if not state.running:
                await self.sup.executor.start(state.name)
                names.append(state.name)
        return p.Changed("Started", tuple(names))

    async def restart(self, request: p.Restart, out: Output) -> p.Changed:
        """Stop and start again (the file's changes are not applied, as docker compose)."""
        names = []
        for state in self._states(request.services):
            if state.running:
                await self.sup.executor.stop(state.name, request.timeout)
            await self.sup.executor.start(state.name)
            names.append(state.name)
        return p.Changed("Started", tuple(names), doing="Restarting")

    async def kill(self, request: p.Kill, out: Output) -> p.Changed:
        names = []
        for state in self._states(request.services):
            if state.running:
                self.sup.tracker.update(state.name, manually_stopped=True)
                await self.driver.kill_replica(state.name, request.signal)
                names.append(state.name)
        return p.Changed("Killed", tuple(names))

    async def kill_all(self) -> None:
        """The second Ctrl-C of a foreground `up`: SIGKILL what is left."""
        await self.kill(p.Kill((), int(signals.SIGKILL)), self.out)

    async def pause(self, request: p.Pause | p.Unpause, out: Output) -> p.Changed:
        """Freeze / thaw running replicas; the tracker knows, so health probes skip them and the
        records (``ps``) say ``paused`` without a later update overwriting it."""
        pausing = isinstance(request, p.Pause)
        want, new = (RUNNING, PAUSED) if pausing else (PAUSED, RUNNING)
        act = self.driver.pause_replica if pausing else self.driver.unpause_replica
        names = []
        for state in self._states(request.services):
            if state.status == want:
                await act(state.name)
                self.sup.tracker.update(state.name, status=new)
                self.sup.event(request.op, state.name)
                names.append(state.name)
        return p.Changed("Paused" if pausing else "Unpaused", tuple(names))

    async def remove(self, request: p.Remove, out: Output) -> p.Changed:
        """The stopped replicas go (with ``volumes``, their anonymous volumes); `rm` lowers the
        count the loop keeps."""
        victims = [s.name for s in self._states(request.services) if not s.running]
        observed = await run_sync(observe_project, self.project)
        removed = [r for r in observed.replicas if r.name in victims]
        volumes = anonymous_volumes(removed) if request.volumes else []
        for name in victims:
            await self.sup.executor.remove(name)
        for volume in volumes:
            await self.driver.remove_volume(RemoveVolume(volume, volume))
        for service in {s.service for s in self.sup.tracker.replicas.values()} | set(
            request.services
        ):
            if service in self.sup.desired:
                left = [s for s in self.sup.tracker.of_service(service) if not s.oneoff]
                self.sup.set_desired({service: len(left)})
        return p.Changed("Removed", tuple(victims))

    def _states(self, services: tuple[str, ...]) -> list[ReplicaState]:
        tracked = list(self.sup.tracker.replicas.values())
        return [s for s in tracked if not services or s.service in services]

    # scale --------------------------------------------------------------------------------------
    async def scale(self, request: p.Scale, out: Output) -> p.Scaled:
        """A long-lived supervisor changes the counts its loop keeps and waits until they hold
        (lowest free index up, highest first down); without one the change is planned and
        applied here (the replicas then run unsupervised until the next `up` adopts them)."""
        stack = self.stack
        if stack is None:
            raise OperationError("scale: the stack file is needed")
        check_scale(stack, request.counts)
        if not self.sup.watch:
            return await self._scale_here(stack, request)
        sup = self.sup
        await self._prepare(stack, request.counts)
        before = {s.name for s in sup.tracker.replicas.values()}
        for service in request.counts:
            sup.clear_failure(service)
        sup.set_desired(request.counts)
        listeners = self.events.listeners if self.events is not None else []
        timeout = request.timeout or CONVERGE_TIMEOUT
        await converge_counts(sup, listeners, request.counts, timeout)
        after = {s.name for s in sup.tracker.replicas.values()}
        failed = [f'service "{s}": {sup.failed[s]}' for s in request.counts if s in sup.failed]
        return p.Scaled(tuple(sorted(after - before)), tuple(sorted(before - after)), tuple(failed))

    async def _scale_here(self, stack: Stack, request: p.Scale) -> p.Scaled:
        up = UpOptions(
            tuple(request.counts), request.no_deps, no_recreate=True, scale=request.counts
        )
        images = await run_sync(self.driver.ctx.local_images, stack)
        self.driver.ctx.use(stack, images)
        desired = desired_from_stack(stack, images)
        plan = plan_up(desired, await run_sync(observe_project, self.project), up)
        outcome = await self.sup.apply(plan, self.stop_timeout)
        outcome.raise_for_failures()
        actions = plan.actions()
        created = tuple(a.name for a in actions if isinstance(a, CreateReplica))
        removed = tuple(a.name for a in actions if isinstance(a, RemoveReplica))
        return p.Scaled(created, removed, warnings=tuple(outcome.warnings))

    async def _prepare(self, stack: Stack, counts: dict[str, int]) -> None:
        """What a scaled service needs before the loop creates replicas: its image (pulled if
        missing, also when removed from the store since `up`) and its networks and volumes (a
        service `up` never selected has none yet)."""
        wanted = [s for s, n in counts.items() if n > 0]
        if not wanted:
            return
        ctx = self.driver.ctx
        missing = [s for s in wanted if not _unpacked(ctx.image_for(s))]
        if missing:
            ctx.use(stack, await run_sync(ensure_images, stack, missing, "missing"))
        up = UpOptions(services=tuple(wanted), no_deps=True, scale=counts)
        observed = await run_sync(observe_project, self.project)
        setup = plan_up(desired_from_stack(stack), observed, up).setup
        outcome = await self.sup.apply(Plan(setup=setup))
        outcome.raise_for_failures()


@contextlib.asynccontextmanager
async def _teardown_lock(project: str, timeout: float = 120.0) -> AsyncIterator[None]:
    """``layout.teardown_lock_path``, taken without blocking the event loop."""
    from compose.state import ProjectLock, layout
    from compose.state.lock import holder

    lock = ProjectLock(project, layout.teardown_lock_path(project))
    with anyio.move_on_after(timeout):
        while not await run_sync(lock.try_acquire):
            await anyio.sleep(0.05)
    if not lock.held:
        raise OperationError(f'project "{project}": {holder(project)} holds its teardown lock')
    try:
        yield
    finally:
        lock.release()


async def converge_counts(
    sup: Supervisor,
    listeners: list[Callable[[Event], None]],
    counts: dict[str, int],
    timeout: float,
) -> None:
    """Wait for the counts to hold; past ``timeout`` the error names the loop's last
    (transient, retried) error for these services, if any."""
    errors: list[str] = []

    def retried(event: Event) -> None:
        if event.get("action") == "reconcile-error" and event.get("service") in counts:
            errors.append(f'service "{event["service"]}": {event.get("error")}')

    listeners.append(retried)
    try:
        with anyio.move_on_after(timeout) as scope:
            await sup.tracker.wait_for(lambda: converged(sup, counts))
    finally:
        listeners.remove(retried)
    if scope.cancelled_caught:
        last = f" (still retrying: {errors[-1]})" if errors else ""
        raise OperationError(f"scale: not converged after {timeout:.0f}s{last}")


def converged(sup: Supervisor, counts: dict[str, int]) -> bool:
    """Every scaled service has its count, nothing in flight, new replicas running (or the
    service failed terminally: the reply says so)."""
    for service, want in counts.items():
        if service in sup.failed:
            continue
        reps = [s for s in sup.tracker.of_service(service) if not s.oneoff]
        if len(reps) != want or not sup.expect.satisfied(service):
            return False
        if any(s.status == CREATED for s in reps):
            return False
    return True


def _unpacked(image: Image | None) -> bool:
    """The image is still in the store (`image rm` since `up` makes it pulled again)."""
    return image is not None and all(layer.is_dir() for layer in image.layers)


async def _set_later(event: anyio.Event) -> None:
    await anyio.sleep(0.005)  # the reply goes out first
    event.set()


@contextlib.asynccontextmanager
async def local_service(
    project: str, stack: Stack | None, out: Output
) -> AsyncIterator[SupervisorService]:
    """A SupervisorService for requests made where no supervisor runs (hold the project lock):
    a Supervisor that does not watch, over the replicas the records hold. Afterwards a project
    with no replica recorded any more is forgotten (no empty project left behind)."""
    driver = LinuxDriver(project, stack)
    try:
        async with Supervisor(driver, on_change=driver.replicas.persist, watch=False) as sup:
            for state in driver.replicas.adoptable():
                sup.tracker.add(state)
            yield SupervisorService(driver, sup, out)
    finally:
        with anyio.CancelScope(shield=True):
            await run_sync(driver.close)
    await run_sync(forget_project, project)
