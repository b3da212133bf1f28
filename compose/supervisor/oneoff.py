"""``run``: a one-off container of a service, made and started in this process. It is not a
replica of its service (the loop never counts, restarts or replaces it; ``down`` removes it)
and nothing supervises it: the caller waits for it or leaves it running (``-d``)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from compose import progress
from compose.errors import ContainerError
from compose.planner.actions import EnsureNetwork
from compose.planner.desired import UpOptions
from compose.planner.planner import plan_up
from compose.planner.stack import desired_from_stack
from compose.runtime.spec import handle_of
from compose.state import EXITED, ProjectLock, layout, observe_project
from compose.supervisor.machine.linux import LinuxDriver
from compose.supervisor.service import ensure_images

if TYPE_CHECKING:
    from compose.model import Service, Stack
    from compose.progress import Report
    from compose.runtime.spec import ContainerHandle


class OneOff:
    def __init__(
        self,
        stack: Stack,
        svc: Service,
        name: str,
        pull: str | None = None,
        report: Report = progress.ignore,
    ) -> None:
        """``svc``: the service with `run`'s overrides (command, env, ports, tty...);
        ``pull``: `run --pull`'s policy (default: the service's)."""
        self.stack, self.svc, self.name = stack, svc, name
        self.handle: ContainerHandle | None = None
        images = ensure_images(stack, [svc.name], "missing", report, force=pull)
        self.driver = LinuxDriver(stack.name, stack, images)

    def create(self, stdio: tuple[int, int, int] | None = None) -> int:
        """Its networks and volumes (as `up` makes them), then the container, waiting for GO;
        ``stdio``: the caller's fds attached to it. Under the project's teardown lock: a
        `down` meanwhile waits for it, then removes it (no supervisor orders the two)."""
        driver = self.driver
        driver.warm()
        up = UpOptions(services=(self.svc.name,), no_deps=True)
        lock = ProjectLock(self.stack.name, layout.teardown_lock_path(self.stack.name))
        with lock.acquire(timeout=120.0):
            observed = observe_project(self.stack.name)
            for action in plan_up(desired_from_stack(self.stack), observed, up).setup:
                if isinstance(action, EnsureNetwork):
                    driver.networks.ensure(action)
                else:
                    driver.networks.ensure_volume(action)
            record = driver.replicas.create_named(self.svc, 1, self.name, oneoff=True, stdio=stdio)
        self.handle = handle_of(record)
        return self.handle.pid  # its PID 1 (a terminal attached to it follows it)

    def start(self) -> None:
        self.driver.replicas.start(self.name)

    def kill(self, signal: int) -> None:
        self.driver.ctx.runtime.kill(self._handle(), signal)

    def wait(self) -> int | None:
        """Until it exits; its exit code (recorded, for `ps -a`)."""
        code = self.driver.replicas.exit_code(self._handle())
        ctx = self.driver.ctx
        ctx.store.save_replica(
            ctx.record(self.name).replace(status=EXITED, exit_code=code, finished_at=time.time())
        )
        return code

    def remove(self) -> None:
        """``--rm``: the container and its anonymous volumes go (as docker's)."""
        from compose.planner.planner import anonymous_mounts
        from compose.volumes import remove_volume

        record = self.driver.ctx.store.load_replica(self.name)
        self.driver.replicas.remove(self.name)
        for volume in anonymous_mounts(record.mounts if record else ()).values():
            remove_volume(volume)

    def close(self) -> None:
        self.driver.close()

    def _handle(self) -> ContainerHandle:
        if self.handle is None:
            raise ContainerError(f'container "{self.name}": not created')
        return self.handle
