"""LinuxDriver: the real machine behind the supervisor (images, volumes, netplug, runtime).

Each replica: netns → attach (IPAM, veth) → /etc/hosts, resolv.conf → link env → mounts →
ContainerSpec → runtime.create (waits for GO) → record; start sends GO and publishes ports.
Failures roll back in reverse. Every kernel call runs in a worker thread (``blocking.run_sync``);
records are written after each step so ``ps``/``down`` from another process see the truth.
"""

from __future__ import annotations

import logging
import os
import signal as signals
import threading
import time
from pathlib import Path
from typing import Any

import anyio

from compose import paths, volumes
from compose.errors import ContainerError, NetworkSetupError
from compose.planner.actions import EnsureNetwork, EnsureVolume, RemoveNetwork, RemoveVolume
from compose.state import (
    NetworkRecord,
    ProjectRecord,
    ReplicaRecord,
    StateStore,
    container_name,
    layout,
)
from compose.supervisor.blocking import run_sync
from compose.supervisor.coalesce import Coalesced
from compose.supervisor.health import HealthSpec
from compose.supervisor.healthspec import effective_healthcheck
from compose.supervisor.restart import RestartPolicy
from compose.supervisor.tracker import ReplicaState

log = logging.getLogger(__name__)
DRAIN_TIMEOUT = 2.0  # longest wait for a drained replica's open proxy connections
SERVE_TIMEOUT = 30.0  # longest wait for a start-first successor's published ports to accept


class LinuxDriver:
    def __init__(
        self,
        project: str,
        stack: Any = None,
        images: dict[str, Any] | None = None,
        runtime: Any = None,
        net: Any = None,
    ) -> None:
        self.stack = stack  # None: acting from the records alone (down/stop without a file)
        self.project = project
        self.images = images or {}
        self.store = StateStore(self.project)
        self.runtime = runtime if runtime is not None else _default_runtime()
        self.net = net  # NetServices or None
        self.ipam_root = paths.ipam_dir()
        self.created_here: set[str] = set()  # created by this runtime instance, awaiting GO
        self._refreshing = False
        self._refresh_dirty = False
        self._publishing: dict[str, Coalesced] = {}
        # persist (tracker changes, on the loop thread) reads then rewrites a record; a removal
        # (worker thread) deletes it: between the two a late exit would bring it back
        self.records_lock = threading.Lock()
        # replicas given no new traffic: a start-first successor until it is ready, and its
        # predecessor once drained (DNS, /etc/hosts, loopback proxy, DNAT leave them out)
        self.withheld: set[str] = set()

    def publishing(self, service: str) -> Coalesced:
        """One service's DNAT updates: serialized, and shared by the starts of a burst."""
        return self._publishing.setdefault(service, Coalesced())

    # networks and volumes ------------------------------------------------------------------
    def network_config(self, key: str) -> Any:
        from netplug import NetworkConfig

        spec = self.stack.networks.get(key) if self.stack is not None else None
        pool = spec.ipam.config[0] if spec is not None and spec.ipam.config else None
        return NetworkConfig(
            self.project,
            key,
            subnet=pool.subnet if pool else None,
            gateway=pool.gateway if pool else None,
            ip_range=pool.ip_range if pool else None,
            internal=bool(spec and spec.internal),
        )

    async def ensure_network(self, action: EnsureNetwork) -> None:
        import netplug

        cfg = self.network_config(action.network)
        if action.external:
            info = await run_sync(netplug.network_info, cfg, self.ipam_root)
            if info is None:
                raise NetworkSetupError(
                    f'network "{action.full_name}" declared as external, but could not be found',
                    hint="create it first (another pycompose project's network) or drop external",
                )
            return
        if not any(n.name == action.network for n in self.project_record().networks):
            # recorded before the kernel objects exist: a crash in ensure_network leaves a
            # record that `down` removes by name (remove_network tolerates absence)
            self._record_network(NetworkRecord(action.network, cfg.key))
        try:
            info = await run_sync(netplug.ensure_network, cfg, ipam_root=self.ipam_root)
        except netplug.NetplugError as exc:
            raise NetworkSetupError(f'network "{cfg.key}": {exc}') from exc
        self._record_network(
            NetworkRecord(action.network, cfg.key, info.subnet, info.gateway, info.bridge)
        )
        if self.net is not None:
            await self.net.listen(cfg.key, info.gateway)

    def ensure_networks_sync(self, keys: list[str]) -> None:
        """For one-off `run` outside a supervisor: the networks the service needs."""
        import netplug

        for key in keys:
            cfg = self.network_config(key)
            info = netplug.ensure_network(cfg, ipam_root=self.ipam_root)
            self._record_network(
                NetworkRecord(key, cfg.key, info.subnet, info.gateway, info.bridge)
            )

    def _record_network(self, net: NetworkRecord) -> None:
        record = self.project_record()
        others = tuple(n for n in record.networks if n.name != net.name)
        self.store.save_project(_replace(record, networks=(*others, net)))

    def project_record(self) -> ProjectRecord:
        """The record, with what the file says now (files, services, dependencies) when
        there is a file; networks and volumes are kept from the record."""
        existing = self.store.load_project() or ProjectRecord(self.project, created=time.time())
        if self.stack is None:
            return existing
        from compose.graph import service_dependencies

        deps = service_dependencies(self.stack)
        return _replace(
            existing,
            working_dir=str(self.stack.working_dir),
            config_files=tuple(str(f) for f in self.stack.files),
            services=tuple(self.stack.services),
            dependencies={name: tuple(sorted(d)) for name, d in deps.items()},
        )

    async def remove_network(self, action: RemoveNetwork) -> None:
        import netplug

        await run_sync(
            netplug.remove_network, (self.project, action.network), ipam_root=self.ipam_root
        )
        record = self.store.load_project()
        if record is not None:
            kept = tuple(n for n in record.networks if n.name != action.network)
            self.store.save_project(_replace(record, networks=kept))

    async def ensure_volume(self, action: EnsureVolume) -> None:
        await run_sync(volumes.ensure_volume, action.full_name, action.external)
        if not action.external:
            record = self.project_record()
            if action.full_name not in record.volumes:
                self.store.save_project(
                    _replace(record, volumes=(*record.volumes, action.full_name))
                )

    async def remove_volume(self, action: RemoveVolume) -> None:
        await run_sync(volumes.remove_volume, action.full_name)

    # replicas -----------------------------------------------------------------------------
    async def create_replica(self, service: str, index: int, name: str | None = None) -> None:
        from compose.supervisor.replica import create_replica

        await run_sync(create_replica, self, service, index, name)

    async def rename_replica(self, old: str, new: str) -> None:
        from compose.supervisor.replica import rename_replica

        await run_sync(rename_replica, self, old, new)
        await self.refresh_network_services()  # DNS and /etc/hosts: the new name

    async def start_replica(self, name: str) -> None:
        from compose.supervisor.replica import start_replica

        await run_sync(start_replica, self, name)
        await self.refresh_network_services()

    async def stop_replica(self, name: str, timeout: float | None = None) -> None:
        from compose.supervisor.replica import stop_replica

        await run_sync(stop_replica, self, name, timeout)
        await self.refresh_network_services()

    async def kill_replica(self, name: str, signal: int = signals.SIGKILL) -> None:
        from compose.supervisor.replica import kill_replica

        await run_sync(kill_replica, self, name, signal)

    async def remove_replica(self, name: str) -> None:
        from compose.supervisor.replica import remove_replica

        await run_sync(remove_replica, self, name)
        self.withheld.discard(name)
        await self.refresh_network_services()

    async def drain_replica(self, name: str) -> None:
        """Before a replica that has a successor stops: DNS, /etc/hosts, the loopback proxy
        and the DNAT set stop sending it new connections (it still runs)."""
        from compose.supervisor.replica import publish_service

        record = self.replica_record(name)
        self.withheld.add(name)
        await self.refresh_network_services()
        await run_sync(publish_service, self, record.service)
        if self.net is not None:  # requests in flight through the proxy finish first
            await self.net.drained(list(record.ips.values()), DRAIN_TIMEOUT)

    def withhold_replica(self, name: str) -> None:
        """Give a replica about to be created no traffic until ``admit_replica``."""
        self.withheld.add(name)

    async def admit_replica(self, name: str) -> None:
        """A withheld replica joins DNS, /etc/hosts, the proxy and the DNAT set."""
        from compose.supervisor.replica import publish_service

        self.withheld.discard(name)
        await self.refresh_network_services()
        await run_sync(publish_service, self, self.replica_record(name).service)

    async def wait_serving(self, name: str, timeout: float = SERVE_TIMEOUT) -> bool:
        """Until the replica accepts TCP connections on each published port's target (a
        start-first successor without a healthcheck is "running" before its server has bound:
        draining the old one then would leave a gap). False when ``timeout`` came first."""
        record = self.replica_record(name)
        ip = next(iter(record.ips.values()), None)
        ports = {p.target for p in record.ports if p.published and p.protocol == "tcp"}
        with anyio.move_on_after(timeout):
            while ip and ports:
                ports = {port for port in ports if not await _accepts(ip, int(port))}
                if ports:
                    await anyio.sleep(0.02)
            return True
        log.info("%s: ports %s not accepting after %.0fs; replacing anyway", name, ports, timeout)
        return False

    def serving_records(self) -> list[ReplicaRecord]:
        return [r for r in self.store.replicas() if r.name not in self.withheld]

    async def replica_exited(self, name: str, service: str) -> None:
        """A replica died on its own: DNS, proxies, /etc/hosts and DNAT drop it now."""
        from compose.supervisor.replica import publish_service

        await self.refresh_network_services()
        await run_sync(publish_service, self, service)

    async def refresh_network_services(self) -> None:
        """DNS records, loopback proxies and every /etc/hosts follow the running replicas.

        Coalesced: while one refresh runs, further calls only mark it dirty and it runs once
        more afterwards, so a burst of 30 starts costs a few refreshes, not 30 (each reads every
        record and rewrites every hosts file)."""
        self._refresh_dirty = True
        if self._refreshing:
            return
        self._refreshing = True
        try:
            while self._refresh_dirty:
                self._refresh_dirty = False
                await self._refresh_once()
        finally:
            self._refreshing = False

    async def _refresh_once(self) -> None:
        from compose.supervisor.replica import rewrite_hosts

        if self.net is not None:
            await self.net.refresh(self.project, self.serving_records())
        await run_sync(rewrite_hosts, self)

    async def wait_exit(self, name: str) -> int | None:
        """pidfd on the replica's PID 1 + wait_readable, then the runtime's recorded status."""
        from compose.supervisor.replica import exit_code, handle_of

        record = self.store.load_replica(name)
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
        return await run_sync(exit_code, self, handle_of(record))

    async def probe(self, name: str, argv: tuple[str, ...], timeout: float) -> int:
        from compose.supervisor.replica import exec_probe

        return await run_sync(exec_probe, self, name, argv, timeout)

    def healthcheck(self, service: str) -> HealthSpec | None:
        if self.stack is None or service not in self.stack.services:
            return None
        image = self.images.get(service)
        image_health = image.config.healthcheck if image is not None else None
        return effective_healthcheck(self.stack.services[service], image_health)

    def restart_policy(self, service: str) -> RestartPolicy:
        if self.stack is None or service not in self.stack.services:
            return RestartPolicy()
        spec = self.stack.services[service].restart_policy
        return RestartPolicy(spec.name, spec.max_retries, spec.delay, spec.window)

    def warm(self) -> None:
        """Start the runtime's zygote now, with /dev/null as its stdout/stderr: it outlives
        this call and its monitors would otherwise keep our stdout open (a `pycompose up | cat`
        would never end while containers run). Call before anything else prints."""
        warm = getattr(self.runtime, "warm", None)
        if warm is None:
            return
        saved = [os.dup(1), os.dup(2)]
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            warm()
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in (*saved, devnull):
                os.close(fd)

    def close(self) -> None:
        """Stop the runtime's zygote (containers keep running: they belong to their monitors)."""
        close = getattr(self.runtime, "close", None)
        if close is not None:
            close()

    def image_for(self, service: str) -> Any:
        """The service's image: pulled for this run, else whatever the local store has."""
        if service not in self.images and self.stack is not None:
            from compose.images import ImageStore

            ref = self.stack.services[service].image_name(self.project)
            store = ImageStore()
            if store.has(ref):
                self.images[service] = store.resolve(ref)
        return self.images.get(service)

    # tracker persistence ------------------------------------------------------------------
    def record_failures(self, failed: dict[str, str]) -> None:
        """Services the loop gave up on (terminal errors): `ps` shows them."""
        self.store.save_failures(failed)

    def persist(self, state: ReplicaState) -> None:
        """Tracker on_change hook: mirror status/health/exit into the replica record (never
        bringing back one a removal deleted meanwhile: ``records_lock``)."""
        with self.records_lock:
            self._persist(state)

    def _persist(self, state: ReplicaState) -> None:
        record = self.store.load_replica(state.name)
        if record is None:
            return
        changed = record.replace(
            status=state.status,
            exit_code=state.exit_code,
            health=state.health,
            restart_count=state.restart_count,
            manually_stopped=state.manually_stopped,
            finished_at=state.finished_at if state.status == "exited" else record.finished_at,
        )
        if changed != record:
            self.store.save_replica(changed)

    def adoptable(self) -> list[ReplicaState]:
        """Replica states from the records (for a supervisor taking over a project)."""
        from compose.state import is_alive

        states = []
        for rec in self.store.replicas():
            alive = is_alive(rec.pid, rec.start_time)
            status = rec.status if alive or rec.status not in ("running", "paused") else "exited"
            states.append(
                ReplicaState(
                    rec.service,
                    rec.index,
                    rec.name,
                    status,
                    rec.exit_code,
                    rec.health,
                    rec.started_at,
                    rec.finished_at,
                    rec.restart_count,
                    rec.manually_stopped,
                    oneoff=rec.oneoff,
                )
            )
        return states

    def replica_record(self, name: str) -> ReplicaRecord:
        record = self.store.load_replica(name)
        if record is None:
            raise ContainerError(f'container "{name}": no such replica')
        return record

    def name_of(self, service: str, index: int) -> str:
        custom = self.stack.services[service].container_name if self.stack is not None else None
        return container_name(self.project, service, index, custom)

    def log_path(self, name: str) -> Path:
        return layout.log_path(self.project, name)

    def replica_dir(self, name: str) -> Path:
        return layout.replica_dir(self.project, name)


async def _accepts(ip: str, port: int) -> bool:
    try:
        with anyio.fail_after(0.5):
            stream = await anyio.connect_tcp(ip, port)
    except (OSError, TimeoutError):
        return False
    await stream.aclose()
    return True


def _replace(record: ProjectRecord, **changes: Any) -> ProjectRecord:
    import dataclasses

    return dataclasses.replace(record, **changes)


def _default_runtime() -> Any:
    from compose.runtime import LinuxRuntime

    return LinuxRuntime()


def forget_project(project: str) -> None:
    """After a full `down`: records, run dir and the project's parent cgroup go (never volumes);
    nothing happens while replicas are still recorded."""
    import contextlib
    import shutil

    store = StateStore(project)
    if store.replicas():
        return
    store.delete_project()
    shutil.rmtree(layout.run_dir(project), ignore_errors=True)
    with contextlib.suppress(Exception):
        from compose.runtime import cgroups

        driver = cgroups.detect()
        parent = paths.project_cgroup(project)
        for child in stale_cgroups(parent):  # a creator killed mid-create leaves one behind
            kill_and_remove_cgroup(driver, f"{parent}/{child}")
        if driver.exists(parent):
            driver.remove(parent, timeout=5)
        driver.remove_if_empty(paths.cgroup_root())  # the last project down leaves no trace


def kill_and_remove_cgroup(driver: Any, path: str) -> None:
    """Also for a cgroup half made by a creator killed mid-``create`` (some controllers'
    directories missing: kill_all's freeze then fails, the rmdirs still work)."""
    import contextlib

    with contextlib.suppress(Exception):
        driver.kill_all(path)
    with contextlib.suppress(Exception):
        driver.remove(path, timeout=5)


def stale_cgroups(parent: str, root: Path = Path("/sys/fs/cgroup")) -> set[str]:
    """Child cgroups of ``parent`` on any hierarchy (v1 controllers, v2 unified) — after a full
    `down` no replica is recorded, so every one left is stale."""
    found = {p.name for p in root.glob(f"*/{parent}/*") if p.is_dir()}
    return found | {p.name for p in root.glob(f"{parent}/*") if p.is_dir()}
