"""LinuxDriver: the ``Driver`` of this Linux host, composing the machine's owners.

    Networks   networks, volumes, the project record that lists them      (networks.py)
    Replicas   one replica's lifecycle and its record                     (replicas.py)
    Traffic    who gets traffic: DNS, proxy, /etc/hosts, DNAT, the gate    (traffic.py)

Each verb runs the owner's blocking part in a worker thread (``blocking.run_sync``), then tells
``Traffic`` what changed. Records are written after each step, so ``ps``/``down`` from another
process see the truth.
"""

from __future__ import annotations

import logging
import os
import signal as signals
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

import anyio

from compose.planner.actions import EnsureNetwork, EnsureVolume, RemoveNetwork, RemoveVolume
from compose.runtime.spec import handle_of
from compose.supervisor.blocking import run_sync
from compose.supervisor.health import HealthSpec
from compose.supervisor.healthspec import effective_healthcheck
from compose.supervisor.machine.context import Context
from compose.supervisor.machine.networks import Networks
from compose.supervisor.machine.replicas import Replicas
from compose.supervisor.machine.traffic import SERVE_TIMEOUT, Traffic, connect_error
from compose.supervisor.restart import RestartPolicy

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from compose.images import Image
    from compose.model import Stack
    from compose.runtime import Runtime


class LinuxDriver:
    def __init__(
        self,
        project: str,
        stack: Stack | None = None,
        images: Mapping[str, Image] | None = None,
        runtime: Runtime | None = None,
    ) -> None:
        self.ctx = Context(project, runtime or _default_runtime(), stack, dict(images or {}))
        self.networks = Networks(self.ctx)
        self.traffic = Traffic(self.ctx)
        self.replicas = Replicas(self.ctx, self.traffic)

    @property
    def project(self) -> str:
        return self.ctx.project

    # networks and volumes ------------------------------------------------------------------
    async def ensure_network(self, action: EnsureNetwork) -> None:
        info = await run_sync(self.networks.ensure, action)
        if info is not None:
            await self.traffic.listen(self.ctx.network_config(action.network).key, info.gateway)

    async def remove_network(self, action: RemoveNetwork) -> None:
        await run_sync(self.networks.remove, action)

    async def ensure_volume(self, action: EnsureVolume) -> None:
        await run_sync(self.networks.ensure_volume, action)

    async def remove_volume(self, action: RemoveVolume) -> None:
        await run_sync(self.networks.remove_volume, action)

    # replicas -----------------------------------------------------------------------------
    async def create_replica(
        self, service: str, index: int, name: str | None = None, inherit: bool = True
    ) -> None:
        await run_sync(self.replicas.create, service, index, name, inherit)

    async def take_over_replica(self, old: str, new: str) -> None:
        """The successor takes over its stopped predecessor's addresses (clients that cached
        them reach it); one that cannot move leaves the successor on its own address."""
        try:
            await run_sync(self.replicas.hand_over, old, new)
        except Exception as exc:
            log.warning("%s: addresses of %s not handed over: %s", new, old, exc)
            return
        await self.traffic.refresh()
        await run_sync(self.traffic.publish, self.ctx.record(new).service)

    async def rename_replica(self, old: str, new: str) -> None:
        await run_sync(self.replicas.rename, old, new)
        self.traffic.renamed(old, new)
        await self.traffic.refresh()  # DNS and /etc/hosts: the new name

    async def start_replica(self, name: str) -> None:
        record = await run_sync(self.replicas.start, name)
        await run_sync(self.traffic.publish, record.service)  # after the save: the running set
        await self.traffic.refresh()

    async def stop_replica(self, name: str, timeout: float | None = None) -> None:
        await run_sync(self.replicas.stop, name, timeout)
        await self.traffic.refresh()

    async def kill_replica(self, name: str, signal: int = signals.SIGKILL) -> None:
        await run_sync(self.replicas.kill, name, signal)

    async def pause_replica(self, name: str) -> None:
        await run_sync(self.replicas.pause, name)

    async def unpause_replica(self, name: str) -> None:
        await run_sync(self.replicas.unpause, name)

    async def remove_replica(self, name: str) -> None:
        await run_sync(self.replicas.remove, name)
        self.traffic.forget(name)
        await self.traffic.refresh()

    async def replica_exited(self, name: str, service: str) -> None:
        """A replica died on its own: DNS, proxies, /etc/hosts and DNAT drop it now."""
        await self.traffic.refresh()
        await run_sync(self.traffic.publish, service)

    async def wait_exit(self, name: str) -> int | None:
        """pidfd on the replica's PID 1 + wait_readable, then the runtime's recorded status."""
        record = self.ctx.store.load_replica(name)
        if record is None or record.pid is None:
            return None
        try:
            fd = os.pidfd_open(record.pid)
        except ProcessLookupError:
            fd = None
        if fd is not None:
            try:
                await anyio.wait_readable(fd)
            finally:
                os.close(fd)
        return await run_sync(self.replicas.exit_code, handle_of(record))

    async def probe(self, name: str, argv: tuple[str, ...], timeout: float) -> int:
        return await run_sync(self.replicas.probe, name, argv, timeout)

    async def accepting(self, name: str) -> str:
        record = self.ctx.store.load_replica(name)
        ip = next(iter(record.ips.values()), None) if record is not None else None
        if record is None or ip is None:
            return ""  # no address of its own (network_mode host/none): nothing to probe
        for port in self.tcp_ports(record.service):
            error = await connect_error(ip, port)
            if error:
                return f"TCP {ip}:{port}: {error}"
        return ""

    def tcp_ports(self, service: str) -> list[int]:
        """The service's TCP ports: its image's EXPOSE, ``expose:`` and ``ports:`` targets."""
        stack = self.ctx.stack
        svc = stack.services.get(service) if stack is not None else None
        if svc is None:
            return []
        image = self.ctx.image_for(service)
        texts = list(image.config.exposed_ports) if image is not None else []
        texts += [str(e) for e in svc.expose]
        texts += [f"{p.target}/{p.protocol}" for p in svc.ports]
        return sorted(set(_tcp_ports(texts)))

    # traffic --------------------------------------------------------------------------------
    def withhold_replica(self, name: str) -> None:
        self.traffic.withhold(name)

    async def admit_replica(self, name: str) -> None:
        await self.traffic.admit(name)

    async def drain_replica(self, name: str, successor: str | None = None) -> None:
        await self.traffic.drain(name, successor)
        if successor is None:
            return
        try:  # clients that cached its addresses: held until the successor takes them over
            await run_sync(self.replicas.hold_connections, name, successor)
        except Exception as exc:
            log.warning("%s: new connections to %s not held: %s", successor, name, exc)

    async def wait_serving(self, name: str, timeout: float = SERVE_TIMEOUT) -> bool:
        return await self.traffic.wait_serving(name, timeout)

    async def refresh_network_services(self) -> None:
        await self.traffic.refresh()

    # what the stack says ----------------------------------------------------------------------
    def name_of(self, service: str, index: int) -> str:
        return self.ctx.name_of(service, index)

    def healthcheck(self, service: str) -> HealthSpec | None:
        stack = self.ctx.stack
        if stack is None or service not in stack.services:
            return None
        image = self.ctx.images.get(service)
        image_health = image.config.healthcheck if image is not None else None
        return effective_healthcheck(stack.services[service], image_health)

    def restart_policy(self, service: str) -> RestartPolicy:
        stack = self.ctx.stack
        if stack is None or service not in stack.services:
            return RestartPolicy()
        spec = stack.services[service].restart_policy
        return RestartPolicy(spec.name, spec.max_retries, spec.delay, spec.window)

    def record_failures(self, failed: dict[str, str]) -> None:
        """Services the loop gave up on (terminal errors): `ps` shows them."""
        self.ctx.store.save_failures(failed)

    # the runtime's zygote -------------------------------------------------------------------
    def warm(self) -> None:
        """Start the runtime's zygote now (it boots while images are checked and the plan
        made); the runtime starts it with /dev/null as its stdio, so `pycompose up | cat` ends."""
        self.ctx.runtime.warm()

    def close(self) -> None:
        """Stop the runtime's zygote (containers keep running: they belong to their monitors)."""
        self.ctx.runtime.close()


def _tcp_ports(texts: list[str]) -> Iterator[int]:
    """``"6379/tcp"``, ``"8000"``, ``"8000-8002"`` → their TCP ports (UDP ones are skipped)."""
    for text in texts:
        port, _, proto = text.partition("/")
        if proto not in ("", "tcp"):
            continue
        first, _, last = port.partition("-")
        if first.isdigit():
            yield from range(int(first), int(last or first) + 1)


def _default_runtime() -> Runtime:
    from compose.runtime import LinuxRuntime

    return LinuxRuntime()
