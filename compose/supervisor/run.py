"""Running a project: foreground ``up`` (the supervisor streams logs until Ctrl-C) and the
detached supervisor (runs until ``down``). Both are the same steps, and both serve the
unix-socket API (``SupervisorService``) from the Supervisor's start to the final stop:

    lock → [net services + Supervisor + API] → adopt → converge (pull, plan, apply, --wait;
           a `down`, or the foreground's Ctrl-C / SIGTERM, cancels it)
         → report → foreground: stream logs until Ctrl-C / abort / all exited / `down`
                  | detached: until `down`
         → graceful stop in reverse dependency order (2nd Ctrl-C: SIGKILL) → release the lock
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

import anyio

from compose.errors import ProjectUpError
from compose.planner.desired import UpOptions
from compose.planner.stack import check_services
from compose.state import ProjectLock, layout
from compose.state.lock import down_asked_since
from compose.supervisor import api, protocol as p
from compose.supervisor.blocking import run_sync
from compose.supervisor.core import Supervisor
from compose.supervisor.foreground import Foreground
from compose.supervisor.machine.forget import forget_project
from compose.supervisor.machine.linux import LinuxDriver
from compose.supervisor.machine.netservices import NetServices, dns_servers
from compose.supervisor.options import TEST, Output, RunOptions
from compose.supervisor.service import Converged, Events, SupervisorService

if TYPE_CHECKING:
    from compose.model import Stack
    from compose.runtime import Runtime

log = logging.getLogger(__name__)
Ready = Callable[[p.PlanReply], None]
CANCELLED = "the start was cancelled: `down` came first"


async def run_up(
    stack: Stack,
    up: UpOptions,
    run: RunOptions,
    out: Output,
    ready: Ready | None = None,
    runtime: Runtime | None = None,
) -> int:
    """``runtime``: one whose zygote the caller started already (the detached supervisor)."""
    lock = _lock(stack.name, run.asked)
    try:
        return await _run_locked(stack, up, run, out, ready, runtime)
    except BaseException:
        forget_project(stack.name)  # a failed first `up` leaves no empty project behind
        raise
    finally:
        lock.release()


def _lock(project: str, asked: float, timeout: float = 5.0) -> ProjectLock:
    """The project lock; ProjectUpError when a `down` was asked after this `up` (``asked``)
    before it got the lock: a supervisor still starting then never starts the project after
    the `down` has run."""
    lock, deadline = ProjectLock(project), time.monotonic() + timeout
    while not lock.try_acquire():
        if asked and down_asked_since(project, asked):
            raise ProjectUpError([CANCELLED])
        if time.monotonic() >= deadline:
            return lock.acquire()  # raises: another process acts on the project
        time.sleep(0.05)
    if asked and down_asked_since(project, asked):
        lock.release()
        raise ProjectUpError([CANCELLED])
    return lock


async def _run_locked(
    stack: Stack,
    up: UpOptions,
    run: RunOptions,
    out: Output,
    ready: Ready | None,
    runtime: Runtime | None,
) -> int:
    check_services(stack, up.services)
    driver = LinuxDriver(stack.name, stack, runtime=runtime)
    driver.warm()  # the zygote boots (~80 ms) while the images are checked and the plan made
    try:
        async with NetServices(_aliases(stack), dns_servers(stack)) as net:
            driver.traffic.serve(net)
            events = Events(stack.name)
            test_mode = run.readiness == TEST
            async with Supervisor(
                driver, on_change=driver.replicas.persist, on_event=events, eager_health=test_mode
            ) as sup:
                service = SupervisorService(
                    driver,
                    sup,
                    out,
                    stop_timeout=run.stop_timeout,
                    events=events,
                    serving=True,
                    readiness=run.readiness,
                )
                return await _supervise(service, stack, up, run, ready)
    finally:
        with anyio.CancelScope(shield=True):
            await run_sync(driver.close)


async def _supervise(
    service: SupervisorService, stack: Stack, up: UpOptions, run: RunOptions, ready: Ready | None
) -> int:
    """The API is served from the start (`status` at once, other requests once `up`'s plan has
    run), and until the final stop begins."""
    serving = anyio.CancelScope()

    async def serve() -> None:
        with serving:
            async with anyio.create_task_group() as tg:
                tg.start_soon(api.serve, layout.socket_path(service.project), service.handle_json)
                await service.shutdown.wait()
                tg.cancel_scope.cancel()

    foreground = None if run.detach else Foreground(service, run)
    service.sup.spawn(serve)
    try:
        code = await _start_and_keep(service, stack, up, run, ready, foreground)
    finally:
        serving.cancel()
    if foreground is None:
        await service.stop_all()
    else:
        await foreground.stop()  # a second Ctrl-C kills; what the replicas said is shown
    service.driver.record_failures({})  # no loop keeps the counts any more: nothing failing
    return foreground.exit_code() if code is None and foreground is not None else code or 0


async def _start_and_keep(
    service: SupervisorService,
    stack: Stack,
    up: UpOptions,
    run: RunOptions,
    ready: Ready | None,
    foreground: Foreground | None,
) -> int | None:
    """The exit code, or None when the foreground decides it (after its stop)."""
    driver = service.driver
    adopted = driver.replicas.adoptable()
    for state in adopted:
        service.sup.adopt(state)
    await run_sync(driver.replicas.release_holds, [s.name for s in adopted])
    driver.record_failures({})  # an earlier supervisor's verdicts (`ps`) are not ours
    driver.networks.save_project_record()
    if run.owner is not None:  # watched from the start: a failed `up` is reaped too
        service.owner.watch(run.owner)
    done = None
    with service.starting:  # a `down` meanwhile cancels it, and so does the foreground's Ctrl-C
        async with _interruptible(service.starting, foreground):
            done = await service.converge(
                stack,
                up,
                run.pull,
                run.wait,
                run.wait_timeout,
                report=service.out.step,
                unwaited=(run.exit_code_from,) if run.exit_code_from else (),
            )
    if done is None and foreground is not None and foreground.interrupted:
        service.applied.set()
        return None  # the foreground's stop follows: what was started stops, 128 + the signal
    if done is None:
        return await _cancelled(service, ready)
    for warning in done.outcome.warnings:
        service.out.warning(warning)
    code = await _after_apply(service, done, run, ready)
    service.applied.set()
    if code is not None:
        return code
    if foreground is None:
        await service.shutdown.wait()  # `down` through the API
        return 0
    await foreground.run(done.names)
    return None


@contextlib.asynccontextmanager
async def _interruptible(
    start: anyio.CancelScope, foreground: Foreground | None
) -> AsyncIterator[None]:
    """A foreground `up`'s Ctrl-C or SIGTERM while it starts the project cancels the start
    (as a `down` does); the foreground's signal receiver stays open for its stop after."""
    if foreground is None:
        yield
        return
    foreground.listen()
    async with anyio.create_task_group() as tg:
        tg.start_soon(foreground.end_on_signal, start)
        try:
            yield
        finally:
            tg.cancel_scope.cancel()


async def _cancelled(service: SupervisorService, ready: Ready | None) -> int:
    """A `down` came while the project was starting: the start ends where it was, the `down`
    removes what it made, then this supervisor ends."""
    if ready is not None:
        ready(p.PlanReply(failures=(CANCELLED,)))  # the client's error
    else:
        service.out.warning(CANCELLED)
    service.applied.set()
    await service.shutdown.wait()
    return 0


async def _after_apply(
    service: SupervisorService, done: Converged, run: RunOptions, ready: Ready | None
) -> int | None:
    """None: keep running. An int: stop everything and exit with it. Raises on failures."""
    if ready is not None:
        ready(done.reply())
    if done.failures and not run.detach:
        await service.stop_all()  # a foreground up owns its containers: none outlive a failure
        raise ProjectUpError(done.failures)
    if run.wait and not run.detach and run.exit_code_from is None:
        return 0
    return None


def _aliases(stack: Stack) -> dict[str, dict[str, list[str]]]:
    out: dict[str, dict[str, list[str]]] = {}
    for name, svc in stack.services.items():
        for net, opts in svc.networks.items():
            if opts is not None and opts.aliases:
                out.setdefault(name, {})[net] = list(opts.aliases)
    return out
