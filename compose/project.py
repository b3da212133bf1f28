"""The composition root used by the CLI: a loaded Stack + state + planner + supervisor.

    cli command ─► Project(stack) ─► desired() + observe() ─► plan_up/plan_down ─► Supervisor
                                                                        (LinuxDriver: images,
                                                                         volumes, netplug, runtime)

Naming follows docker compose: containers ``<project>-<service>-<N>``, networks and volumes
``<project>_<key>`` (or their ``name:``), the implicit network ``default``.
Everything here is synchronous except ``compose.supervisor``'s runners it hands over to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from compose.errors import UnknownServiceError
from compose.planner import (
    DesiredProject,
    DesiredService,
    DownOptions,
    Need,
    Plan,
    UpOptions,
    plan_down,
    plan_up,
)
from compose.state import ObservedProject, observe_project

if TYPE_CHECKING:
    from compose.graph import ServiceGraph
    from compose.model import Service, Stack

DEFAULT_NETWORK = "default"


def service_networks(service: Service) -> tuple[str, ...]:
    if service.network_mode:
        return ()
    return tuple(service.networks) or (DEFAULT_NETWORK,)


def named_volumes(service: Service) -> tuple[str, ...]:
    return tuple(v.source for v in service.volumes if v.type == "volume" and v.source)


def starts_first(service: Service, image_volumes: tuple[str, ...] = ()) -> bool:
    """Does a changed replica's successor start before the replica stops?

    ``deploy.update_config.order`` decides when given. Otherwise start-first (no gap), except
    where two copies can't run side by side: a shared or host network namespace (the ports
    are bound there), a fixed IP or MAC address, or a writable volume, the image's own
    ``VOLUME`` paths included (two databases on one data directory is how data gets
    corrupted; bind mounts don't count)."""
    from compose.volumes import uncovered_image_volumes

    update = service.deploy.update_config if service.deploy else None
    if update is not None and update.order is not None:
        return update.order == "start-first"
    if service.network_mode or service.mac_address:
        return False
    nets = [n for n in service.networks.values() if n is not None]
    if any(n.ipv4_address or n.ipv6_address or n.mac_address for n in nets):
        return False
    if any(v.type == "volume" and not v.read_only for v in service.volumes):
        return False
    mounted = [v.target for v in service.volumes] + [t.split(":")[0] for t in service.tmpfs]
    return not uncovered_image_volumes(image_volumes, mounted)


@dataclass
class Project:
    stack: Stack

    @property
    def name(self) -> str:
        return self.stack.name

    @property
    def graph(self) -> ServiceGraph:
        from compose.graph import ServiceGraph

        if not hasattr(self, "_graph"):
            self._graph = ServiceGraph.from_stack(self.stack)
        return self._graph

    def check_services(self, names: tuple[str, ...] | list[str]) -> None:
        for name in names:
            if name not in self.stack.services:
                raise UnknownServiceError(f'no such service: "{name}"')

    # desired / observed -------------------------------------------------------------------
    def desired(self, digests: dict[str, str | None] | None = None) -> DesiredProject:
        digests = digests if digests is not None else self.local_digests()
        key = tuple(sorted(digests.items()))
        cache: dict[tuple[tuple[str, str | None], ...], DesiredProject]
        cache = self.__dict__.setdefault("_desired", {})
        if key not in cache:
            cache[key] = self._build_desired(digests)
        return cache[key]

    def _build_desired(self, digests: dict[str, str | None]) -> DesiredProject:
        from compose.planner.hashing import config_hash

        deps = self.dependencies()
        services = tuple(
            self._desired_service(
                n, config_hash(self.stack.services[n], digests.get(n)), deps[n], digests.get(n)
            )
            for n in _topological(deps)
        )
        return DesiredProject(
            self.name,
            services,
            self._networks(),
            self._volumes(),
            {k: n.name for k, n in self.stack.networks.items() if n.name},
            {k: v.name for k, v in self.stack.volumes.items() if v.name},
        )

    def dependencies(self) -> dict[str, tuple[Need, ...]]:
        """Per service, what it needs first (depends_on with its condition, links,
        network_mode/ipc/pid service:, volumes_from), from ``compose.graph``."""
        from compose.graph import service_dependencies

        return {
            name: tuple(
                Need(t, d.condition, d.required, d.restart) for t, d in sorted(deps.items())
            )
            for name, deps in service_dependencies(self.stack).items()
        }

    def _desired_service(
        self, name: str, digest_hash: str, deps: tuple[Need, ...], digest: str | None
    ) -> DesiredService:
        svc = self.stack.services[name]
        image_volumes = self._image_volumes(name) if digest else ()
        return DesiredService(
            name,
            svc.replicas,
            digest_hash,
            deps,
            service_networks(svc),
            named_volumes(svc),
            svc.container_name,
            starts_first(svc, image_volumes),
        )

    def _image_volumes(self, service: str) -> tuple[str, ...]:
        """The VOLUME paths of the service's image in the local store (() if not there);
        read once per image (30 services often share one)."""
        from compose.errors import ImageError
        from compose.images import ImageStore

        ref = self.stack.services[service].image_name(self.name)
        cache: dict[str, tuple[str, ...]] = self.__dict__.setdefault("_volumes_of", {})
        if ref not in cache:
            try:
                cache[ref] = tuple(ImageStore().resolve(ref).config.volumes)
            except ImageError:
                cache[ref] = ()
        return cache[ref]

    def _networks(self) -> dict[str, bool]:
        nets = {k: bool(n.external) for k, n in self.stack.networks.items()}
        if any(DEFAULT_NETWORK in service_networks(s) for s in self.stack.services.values()):
            nets.setdefault(DEFAULT_NETWORK, False)
        return nets

    def _volumes(self) -> dict[str, bool]:
        return {k: bool(v.external) for k, v in self.stack.volumes.items()}

    def local_digests(self) -> dict[str, str | None]:
        """Digests of the images already in the local store (no pull, no network)."""
        from compose.images import ImageStore

        store = ImageStore()
        out: dict[str, str | None] = {}
        for name, svc in self.stack.services.items():
            ref = svc.image_name(self.name)
            out[name] = store.resolve(ref).digest if store.has(ref) else None
        return out

    def observe(self) -> ObservedProject:
        return observe_project(self.name)

    # plans --------------------------------------------------------------------------------
    def plan_up(self, options: UpOptions, digests: dict[str, str | None] | None = None) -> Plan:
        self.check_services(options.services)
        return plan_up(self.desired(digests), self.observe(), options)

    def plan_down(self, options: DownOptions) -> Plan:
        return plan_down(self.desired({}), self.observe(), options)


def _topological(deps: dict[str, tuple[Need, ...]]) -> list[str]:
    from compose.order import flat

    return flat({name: [d.target for d in ds] for name, ds in deps.items()})


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
    from compose.supervisor.linux import LinuxDriver

    driver = LinuxDriver(project, stack)
    async with Supervisor(driver, on_change=driver.persist, watch=False) as sup:
        for state in driver.adoptable():
            sup.tracker.add(state)
        outcome = await sup.apply(plan, stop_timeout)
    outcome.raise_for_failures()
    return outcome.warnings


def forget_if_empty(project: str) -> None:
    """After a full `down`: drop the project's records, run dir and cgroup when nothing is left."""
    from compose.supervisor.linux import forget_project

    forget_project(project)
