"""The project's networks and volumes, and the project record that lists them (``down``
without the file removes what the record names). Networks get their subnets from daemon.json's
``default-address-pools`` and follow its ``ip-forward``. Synchronous: the driver runs it in a
worker thread."""

from __future__ import annotations

import dataclasses
import threading
import time

import netplug
from compose import volumes
from compose.errors import NetworkSetupError
from compose.planner.actions import EnsureNetwork, EnsureVolume, RemoveNetwork, RemoveVolume
from compose.state import NetworkRecord, ProjectRecord
from compose.supervisor.machine.context import Context
from compose.supervisor.machine.netconfig import load_network_settings


class Networks:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        # the setup ensures networks and volumes in parallel worker threads, and each one
        # reads, changes and writes the one project record: without this, one's entry is lost
        self._record_lock = threading.Lock()

    def ensure(self, action: EnsureNetwork) -> netplug.NetworkInfo | None:
        """The bridge and IPAM of one network (None for an external one: it must exist)."""
        cfg = self.ctx.network_config(action.network)
        if action.external:
            if netplug.network_info(cfg, self.ctx.ipam_root) is None:
                raise NetworkSetupError(
                    f'network "{action.full_name}" declared as external, but could not be found',
                    hint="create it first (another pycompose project's network) or drop external",
                )
            return None
        if not any(n.name == action.network for n in self.project_record().networks):
            # recorded before the kernel objects exist: a crash in ensure_network leaves a
            # record that `down` removes by name (remove_network tolerates absence)
            self._record(NetworkRecord(action.network, cfg.key))
        settings = load_network_settings()
        try:
            info = netplug.ensure_network(
                cfg,
                ipam_root=self.ctx.ipam_root,
                address_pools=settings.pools,
                ip_forward=settings.ip_forward,
            )
        except netplug.NetplugError as exc:
            raise NetworkSetupError(f'network "{cfg.key}": {exc}') from exc
        self._record(
            NetworkRecord(
                action.network,
                cfg.key,
                info.subnet,
                info.gateway,
                info.bridge,
                subnet6=info.subnet6,
                gateway6=info.gateway6,
            )
        )
        return info

    def remove(self, action: RemoveNetwork) -> None:
        netplug.remove_network((self.ctx.project, action.network), ipam_root=self.ctx.ipam_root)
        with self._record_lock:
            record = self.ctx.store.load_project()
            if record is not None:
                kept = tuple(n for n in record.networks if n.name != action.network)
                self.ctx.store.save_project(dataclasses.replace(record, networks=kept))

    def ensure_volume(self, action: EnsureVolume) -> None:
        volumes.ensure_volume(action.full_name, action.external)
        if not action.external:
            with self._record_lock:
                record = self.project_record()
                if action.full_name not in record.volumes:
                    volumes_now = (*record.volumes, action.full_name)
                    self.ctx.store.save_project(dataclasses.replace(record, volumes=volumes_now))

    def remove_volume(self, action: RemoveVolume) -> None:
        volumes.remove_volume(action.full_name)

    def project_record(self) -> ProjectRecord:
        """The record, with what the file says now (files, services, dependencies) when
        there is a file; networks and volumes are kept from the record."""
        ctx = self.ctx
        existing = ctx.store.load_project() or ProjectRecord(ctx.project, created=time.time())
        if ctx.stack is None:
            return existing
        from compose.graph import service_dependencies

        deps = service_dependencies(ctx.stack)
        return dataclasses.replace(
            existing,
            working_dir=str(ctx.stack.working_dir),
            config_files=tuple(str(f) for f in ctx.stack.files),
            services=tuple(ctx.stack.services),
            dependencies={name: tuple(sorted(d)) for name, d in deps.items()},
        )

    def save_project_record(self) -> None:
        with self._record_lock:
            self._save(self.project_record())

    def label(self, changes: dict[str, str]) -> None:
        """Set the project's labels (an empty value removes one): its owner, for `ls`."""
        record = self.project_record()
        merged = {**record.labels, **changes}
        kept = {k: v for k, v in merged.items() if v}
        self.ctx.store.save_project(dataclasses.replace(record, labels=kept))

    def _record(self, net: NetworkRecord) -> None:
        with self._record_lock:
            record = self.project_record()
            known = any(n.name == net.name for n in record.networks)
            nets = tuple(net if n.name == net.name else n for n in record.networks)
            self._save(dataclasses.replace(record, networks=nets if known else (*nets, net)))

    def _save(self, record: ProjectRecord) -> None:
        """Written (durably: fsyncs, ~10-50 ms on a busy disk) only when it changed: each
        ``up``/``scale`` ensures every network again and mostly finds it as recorded."""
        if record != self.ctx.store.load_project():
            self.ctx.store.save_project(record)
