"""The composition root used by the CLI: a loaded Stack + state + planner + supervisor.

    cli command ─► Project(stack) ─► desired() + observe() ─► plan_up/plan_down ─► Supervisor
                                                                        (LinuxDriver: images,
                                                                         volumes, netplug, runtime)

Naming follows docker compose: containers ``<project>-<service>-<N>``, networks and volumes
``<project>_<key>`` (or their ``name:``), the implicit network ``default``.
Everything here is synchronous except ``compose.supervisor``'s runners it hands over to.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from compose.planner import DesiredProject, DownOptions, Plan, UpOptions, plan_down, plan_up
from compose.planner.stack import check_services, desired_from_stack
from compose.state import ObservedProject, observe_project

if TYPE_CHECKING:
    from compose.graph import ServiceGraph
    from compose.images import Image
    from compose.model import Stack


@dataclass
class Project:
    stack: Stack

    @property
    def name(self) -> str:
        return self.stack.name

    @property
    def graph(self) -> ServiceGraph:
        from compose.graph import ServiceGraph

        return ServiceGraph.from_stack(self.stack)

    def check_services(self, names: tuple[str, ...] | list[str]) -> None:
        check_services(self.stack, names)

    def desired(self, images: Mapping[str, Image] | None = None) -> DesiredProject:
        return desired_from_stack(self.stack, images)

    def local_images(self) -> dict[str, Image]:
        """The services' images already in the local store (no pull, no network)."""
        from compose.images import ImageStore

        refs = {name: svc.image_name(self.name) for name, svc in self.stack.services.items()}
        return ImageStore().available(refs)

    def observe(self) -> ObservedProject:
        return observe_project(self.name)

    # plans --------------------------------------------------------------------------------
    def plan_up(self, options: UpOptions, images: Mapping[str, Image] | None = None) -> Plan:
        self.check_services(options.services)
        chosen = self.local_images() if images is None else images
        return plan_up(self.desired(chosen), self.observe(), options)

    def plan_down(self, options: DownOptions) -> Plan:
        return plan_down(self.desired(), self.observe(), options)


def plan_down_from_state(project: str, options: DownOptions) -> Plan:
    """`down` with no stack file: everything the records know about."""
    return plan_down(None, observe_project(project), options)


def summary(observed: ObservedProject) -> dict[str, Any]:
    running = sum(1 for r in observed.replicas if r.running)
    return {"Name": observed.name, "Running": running, "Total": len(observed.replicas)}


# running ----------------------------------------------------------------------------------
def run_foreground(project: Project, up: UpOptions, run: Any, out: Any) -> int:
    """Foreground ``up``: this process is the supervisor until Ctrl-C or the stack exits."""
    import anyio

    from compose.errors import UserError
    from compose.supervisor import api
    from compose.supervisor.run import run_up

    if api.call(project.name, {"op": "status"}, timeout=5) is not None:
        raise UserError(
            f'project "{project.name}" is already running (a supervisor serves it)',
            hint="apply changes with `up -d`, follow it with `logs -f`, stop it with `down`",
        )
    code: int = _unwrap(lambda: anyio.run(run_up, project, up, run, out))
    return code


def start_detached(
    load: dict[str, Any], up: UpOptions, run: Any, out: Any, project: str | None = None
) -> int:
    """``up -d``: see ``compose.supervisor.client.start_detached`` (this takes ``UpOptions``)."""
    import dataclasses

    from compose.supervisor import client

    return client.start_detached(load, dataclasses.asdict(up), run, out, project)


def _unwrap(call: Any) -> Any:
    """anyio task groups wrap errors in ExceptionGroup; the CLI wants ours, one level up."""
    try:
        return call()
    except BaseExceptionGroup as group:
        first = _first_leaf(group)
        raise first from group


def _first_leaf(exc: BaseException) -> BaseException:
    from compose.errors import PycomposeError

    if isinstance(exc, BaseExceptionGroup):
        leaves = [_first_leaf(e) for e in exc.exceptions]
        return next(
            (e for e in leaves if isinstance(e, PycomposeError | KeyboardInterrupt)), leaves[0]
        )
    return exc


# acting on a project from its records -------------------------------------------------------
def supervisor_request(
    project: str, request: dict[str, Any], timeout: float = 120.0
) -> dict[str, Any] | None:
    from compose.supervisor import api

    return api.call(project, request, timeout)


def apply_plan(
    project: str, plan: Plan, stack: Any = None, stop_timeout: float | None = None
) -> list[str]:
    """Run a plan in this process (no long-lived supervisor): down, stop, rm, kill…"""
    import anyio

    from compose.state import ProjectLock

    with ProjectLock(project).acquire(timeout=30.0):
        warnings: list[str] = _unwrap(
            lambda: anyio.run(_apply_plan, project, plan, stack, stop_timeout)
        )
    forget_if_empty(project)  # nothing recorded any more: no empty project left behind
    return warnings


async def _apply_plan(
    project: str, plan: Plan, stack: Any, stop_timeout: float | None
) -> list[str]:
    from compose.supervisor import Supervisor
    from compose.supervisor.machine.linux import LinuxDriver

    driver = LinuxDriver(project, stack)
    async with Supervisor(driver, on_change=driver.replicas.persist, watch=False) as sup:
        for state in driver.replicas.adoptable():
            sup.tracker.add(state)
        outcome = await sup.apply(plan, stop_timeout)
    outcome.raise_for_failures()
    return outcome.warnings


def forget_if_empty(project: str) -> None:
    """After a full `down`: drop the project's records, run dir and cgroup when nothing is left."""
    from compose.supervisor.machine.forget import forget_project

    forget_project(project)
