"""One replica's kernel-side lifecycle, synchronous (the driver runs each verb in a worker
thread via ``blocking.run_sync``). ``Replicas`` owns the replica records' writes.

create: record → netns → attach → /etc files → mounts → spec → runtime.create → record
start:  runtime.start (GO) → record running      (an exited one: a new process, same layers)
stop:   runtime.stop(stop_signal, grace) → record exited
remove: runtime.remove → unpublish → detach → netns → record deleted   (absence tolerated)
rename: a start-first successor takes its predecessor's name (kernel objects keep theirs)

A failed create rolls back in reverse (its undo list).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import netplug
from compose import paths, volumes
from compose.errors import ContainerError, PycomposeError
from compose.logs import remove_log
from compose.planner.planner import anonymous_mounts
from compose.planner.stack import service_networks
from compose.runtime.etcfiles import write_public
from compose.runtime.spec import ContainerHandle, Mount, handle_of
from compose.state import (
    CREATED,
    EXITED,
    RUNNING,
    PortRecord,
    ReplicaRecord,
    new_container_id,
    staged_for,
)
from compose.state.records import command_line
from compose.supervisor.machine import etcfiles
from compose.supervisor.machine.context import Context
from compose.supervisor.machine.forget import kill_and_remove_cgroup
from compose.supervisor.machine.spec import Made, container_spec
from compose.supervisor.machine.traffic import Traffic

if TYPE_CHECKING:
    from compose.images import Image
    from compose.model import Service
    from compose.supervisor.tracker import ReplicaState

log = logging.getLogger(__name__)
T = TypeVar("T")
Undo = list[Callable[[], object]]
PROBE_OUTPUT = 2000  # characters of a probe's output kept (Docker keeps 4 KiB)


@dataclass(frozen=True, slots=True)
class Origin:
    """What a container being created takes from an earlier one."""

    container_id: str = ""  # "": a new container (a new id); else the same one made again
    anonymous: Mapping[str, str] = field(default_factory=dict)  # target -> anonymous volume
    addresses: Mapping[str, str] = field(default_factory=dict)  # network -> a predecessor's


def _step(step: str, func: Callable[[], T]) -> T:
    """``func()``; a foreign failure becomes a ContainerError naming the step (the executor
    prefixes the replica: ``service "web" replica 2: attach: ...``)."""
    try:
        return func()
    except PycomposeError:
        raise
    except Exception as exc:
        raise ContainerError(f"{step}: {exc}") from exc


class Replicas:
    def __init__(self, ctx: Context, traffic: Traffic) -> None:
        self.ctx = ctx
        self.traffic = traffic
        self.created_here: set[str] = set()  # created by this runtime instance, awaiting GO
        self.last_probe: dict[str, str] = {}  # replica -> its last healthcheck's exit and output

    # create -----------------------------------------------------------------------------------
    def create(
        self, service: str, index: int, name: str | None = None, inherit: bool = True
    ) -> ReplicaRecord:
        """``name``: a staging name (a recreation's successor) instead of the replica's own;
        ``inherit``: the successor takes its predecessor's anonymous volumes (not: ``up -V``)."""
        canonical = self.ctx.name_of(service, index)
        name = name or canonical
        origin = self._succeeding(canonical, inherit) if name != canonical else Origin()
        return self.create_named(self.ctx.service(service), index, name, origin=origin)

    def _succeeding(self, canonical: str, inherit: bool) -> Origin:
        """What a successor takes from the replica it replaces (the record that still has
        the name): its anonymous volumes, and (later, ``hand_over``) its addresses."""
        predecessor = self.ctx.store.load_replica(canonical)
        if predecessor is None:
            return Origin()
        anonymous = anonymous_mounts(predecessor.mounts) if inherit else {}
        return Origin(anonymous=anonymous, addresses=dict(predecessor.ips))

    def create_named(
        self,
        svc: Service,
        index: int,
        name: str,
        oneoff: bool = False,
        stdio: tuple[int, int, int] | None = None,
        origin: Origin | None = None,
    ) -> ReplicaRecord:
        """Create one container of ``svc`` (a model Service, maybe with run's overrides);
        ``stdio``: the caller's fds attached to it (``run`` in the foreground); ``origin``:
        what it takes from an earlier container (default: nothing, a new container)."""
        undo: Undo = []
        try:
            return self._create(svc, index, name, undo, oneoff, stdio, origin or Origin())
        except BaseException:
            for action in reversed(undo):
                with contextlib.suppress(Exception):
                    action()
            raise

    def _create(
        self,
        svc: Service,
        index: int,
        name: str,
        undo: Undo,
        oneoff: bool,
        stdio: tuple[int, int, int] | None,
        origin: Origin,
    ) -> ReplicaRecord:
        ctx = self.ctx
        image = ctx.image_for(svc.name)
        if image is None:
            subject = f'service "{svc.name}" replica {index}'
            raise ContainerError(f"{subject}: image {svc.image_name(ctx.project)} is not pulled")
        rdir = ctx.replica_dir(name)
        rdir.mkdir(parents=True, exist_ok=True)
        # recorded before any kernel object exists: a crash from here on leaves a record that
        # `down` (or the next `up`) cleans up by name, never an orphan netns/veth/cgroup
        placeholder = ReplicaRecord(
            ctx.project,
            svc.name,
            index,
            name,
            oneoff=oneoff,
            container_id=origin.container_id or new_container_id(),
        )
        ctx.store.save_replica(placeholder.replace(created=time.time()))
        undo.append(lambda: ctx.store.delete_replica(name))
        netns, atts = self._network(svc, name, undo, origin.addresses)
        ips = {att.network: att.ip for att in atts}
        ips6 = {att.network: att.ip6 for att in atts if att.ip6}
        self._write_etc_files(svc, placeholder, rdir, atts)
        parent = name if oneoff else ctx.name_of(svc.name, index)  # the name it will have
        anonymous = dict(origin.anonymous)  # filled with the volumes made for it
        undo.append(lambda: _remove_new_volumes(anonymous, origin.anonymous))
        mounts = _step("volumes", lambda: self._mounts(svc, parent, anonymous, image))
        made = self._made(svc, placeholder, parent, rdir, mounts, netns)
        spec = container_spec(
            svc,
            name=name,
            project=ctx.project,
            index=index,
            image=image,
            made=made,
            project_dir=ctx.stack.working_dir if ctx.stack else None,
        )
        handle = _step("create", lambda: ctx.runtime.create(spec, stdio))
        undo.append(lambda: ctx.runtime.remove(handle))
        record = placeholder.replace(
            image=svc.image_name(ctx.project),
            image_digest=image.digest,
            config_hash=_hash(svc, image.digest),
            command=command_line(spec.argv),
            pid=handle.pid,
            start_time=handle.start_time,
            status=CREATED,
            netns=str(netns) if netns else None,
            ips=ips,
            ips6=ips6,
            ports=port_records(svc, index),
            mounts=tuple(f"{m.source}:{m.target}" for m in mounts),
            created=time.time(),
            log_path=str(handle.log_path),
            runtime=handle.to_dict(),
        )
        ctx.store.save_replica(record)
        self.created_here.add(name)
        return record

    def _network(
        self, svc: Service, name: str, undo: Undo, taken: Mapping[str, str]
    ) -> tuple[Path | None, tuple[netplug.Attachment, ...]]:
        """(netns path, attachments) by network_mode: host, none, service:<x>, or networks.
        ``taken``: network -> the predecessor's address: a fixed ``ipv4_address`` it still
        holds comes to the successor by ``hand_over``, a temporary one serves until then."""
        mode = svc.network_mode or ""
        if mode == "host":
            return None, ()
        if mode.startswith("service:"):
            return self._shared_netns(svc, mode.split(":", 1)[1]), ()
        if mode.startswith("container:"):
            raise ContainerError(f"network_mode {mode} is not supported")
        project, ipam = self.ctx.project, self.ctx.ipam_root
        requests = [
            replace(r, ipv4_address=None) if r.ipv4_address == taken.get(r.network.name) else r
            for r in self.attach_requests(svc)
        ]
        netns = _step("netns", lambda: netplug.create_replica_netns(name))
        undo.append(lambda: netplug.remove_replica_netns(name))
        undo.append(lambda: netplug.detach(project, name, requests, netns, ipam_root=ipam))
        atts = _step(
            "attach", lambda: netplug.attach(project, name, requests, netns, ipam_root=ipam)
        )
        return netns, tuple(atts)

    def _shared_netns(self, svc: Service, target: str) -> Path:
        for rec in self.ctx.store.replicas():
            if rec.service == target and rec.netns and rec.status == RUNNING and not rec.oneoff:
                return Path(rec.netns)
        raise ContainerError(f'network_mode service:{target}: "{target}" is not running')

    def attach_requests(self, svc: Service) -> list[netplug.AttachRequest]:
        reqs = []
        for key in service_networks(svc):
            opts = svc.networks.get(key)
            aliases = tuple(opts.aliases) if opts else ()
            ipv4 = opts.ipv4_address if opts else None
            ipv6 = opts.ipv6_address if opts else None
            cfg = self.ctx.network_config(key)
            reqs.append(netplug.AttachRequest(cfg, ipv4, aliases, ipv6_address=ipv6))
        return reqs

    def _write_etc_files(
        self,
        svc: Service,
        own: ReplicaRecord,
        rdir: Path,
        atts: tuple[netplug.Attachment, ...],
    ) -> None:
        etc = etcfiles.etc_dir(rdir)
        etc.mkdir(exist_ok=True)
        ips = (atts[0].ip, atts[0].ip6) if atts else ()
        records = self.ctx.store.replicas()
        hosts = etcfiles.hosts_text(svc, own, ips, records)
        write_public(etc / "hosts", hosts)  # 0644: read by any user of the container
        write_public(etc / "resolv.conf", etcfiles.resolv_conf(svc, bool(atts), _host_resolv()))
        write_public(etc / "hostname", etcfiles.hostname(svc, own) + "\n")

    def _mounts(
        self, svc: Service, owner: str, anonymous: dict[str, str], image: Image
    ) -> list[Mount]:
        """The mounts of the container named ``owner`` (its canonical name); ``anonymous``:
        its anonymous volumes (target -> name), completed with the ones made for it."""
        return volumes.service_mounts(
            self.ctx.stack,
            svc,
            owner,
            image.layers,
            image_volumes=image.config.volumes,
            anonymous=anonymous,
            shared=self._anonymous_of_service,
        )

    def _anonymous_of_service(self, service: str) -> dict[str, str]:
        """The anonymous volumes of a service's first replica (``volumes_from`` shares them)."""
        record = self.ctx.store.load_replica(self.ctx.name_of(service, 1))
        return anonymous_mounts(record.mounts) if record is not None else {}

    def _made(
        self,
        svc: Service,
        own: ReplicaRecord,
        parent: str,
        rdir: Path,
        mounts: list[Mount],
        netns: Path | None,
    ) -> Made:
        """What was made for the container ``own`` (its record: name, index, id), which
        carries the name ``parent`` in link variables (the name it has once it runs)."""
        ctx = self.ctx
        assert ctx.stack is not None  # a service comes from the stack
        targets = {link.partition(":")[0] for link in svc.links}
        ports = {}
        for target in targets:
            image = ctx.image_for(target)
            ports[target] = image.config.exposed_ports if image else ()
        records = ctx.store.replicas() if svc.links else ()  # a scan of every record: O(n)
        env = etcfiles.link_env(parent, svc, ctx.stack, records, ports)
        return Made(
            rdir,
            etcfiles.hostname(svc, own),
            mounts,
            netns,
            etcfiles.etc_binds(rdir),
            env,
            ctx.log_path(own.ident),
        )

    # start / stop / kill / pause ------------------------------------------------------------
    def start(self, name: str) -> ReplicaRecord:
        record = self.ctx.record(name)
        if record.status == EXITED and record.runtime and not record.oneoff:
            record = self._restart_process(record)  # same rootfs, netns and addresses
        elif record.status != CREATED or name not in self.created_here:
            # created by another process: its init waits on a socket we don't hold
            self.remove_process(record)
            same = Origin(record.container_id, anonymous_mounts(record.mounts))
            svc = self.ctx.service(record.service)
            record = self.create_named(svc, record.index, record.name, record.oneoff, origin=same)
        self.created_here.discard(name)
        _step("start", lambda: self.ctx.runtime.start(handle_of(record)))
        running = record.replace(status=RUNNING, started_at=time.time(), exit_code=None)
        self.ctx.store.save_replica(running)
        return running

    def _restart_process(self, record: ReplicaRecord) -> ReplicaRecord:
        """A new process for an exited replica, keeping its writable layer (upper dir), netns,
        addresses, /etc files and log, as Docker's restart does."""
        ctx = self.ctx
        svc = ctx.service(record.service)
        image = ctx.image_for(record.service)
        if image is None:
            raise ContainerError(f"image {svc.image_name(ctx.project)} is not pulled")
        rdir = ctx.replica_dir(record.ident)
        netns = Path(record.netns) if record.netns else None
        mounts = self._mounts(svc, record.name, anonymous_mounts(record.mounts), image)
        made = self._made(svc, record, record.name, rdir, mounts, netns)
        spec = container_spec(
            svc,
            name=record.ident,
            project=ctx.project,
            index=record.index,
            image=image,
            made=made,
            project_dir=ctx.stack.working_dir if ctx.stack else None,
        )
        handle = _step("create", lambda: ctx.runtime.create(spec))
        fresh = record.replace(
            pid=handle.pid,
            start_time=handle.start_time,
            status=CREATED,
            runtime=handle.to_dict(),
        )  # exit code and restarting kept: `ps` says Restarting (3) until it runs
        ctx.store.save_replica(fresh)
        self.created_here.add(record.name)
        return fresh

    def stop(self, name: str, timeout: float | None) -> None:
        record = self.ctx.store.load_replica(name)
        if record is None or not record.runtime:
            return
        handle = handle_of(record)
        grace = handle.stop_grace_period if timeout is None else timeout
        self.ctx.runtime.stop(handle, handle.stop_signal, grace)
        code = self.exit_code(handle)
        self.ctx.store.save_replica(
            record.replace(
                status=EXITED, exit_code=code, finished_at=time.time(), manually_stopped=True
            )
        )

    def kill(self, name: str, signal: int) -> None:
        self.ctx.runtime.kill(handle_of(self.ctx.record(name)), signal)

    def pause(self, name: str) -> None:
        self.ctx.runtime.pause(handle_of(self.ctx.record(name)))

    def unpause(self, name: str) -> None:
        self.ctx.runtime.unpause(handle_of(self.ctx.record(name)))

    def exit_code(self, handle: ContainerHandle) -> int | None:
        try:
            status = self.ctx.runtime.wait(handle)
        except Exception:
            log.debug("wait %s failed", handle.id, exc_info=True)
            return None
        return status.code

    def probe(self, name: str, argv: tuple[str, ...], timeout: float) -> int:
        """A healthcheck command in the replica; its exit code (1 when it timed out). Its
        output is kept (``last_probe``: what a readiness error shows, as Docker's health log)."""
        code, output, timed_out = self.run_captured(name, argv, timeout=timeout)
        note = f" (timed out after {timeout:g}s)" if timed_out else ""
        text = output[:PROBE_OUTPUT].decode(errors="replace").strip()
        self.last_probe[name] = f"exit {code}{note}" + (f": {text}" if text else "")
        return code

    def run_captured(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Sequence[str] = (),
        user: str | None = None,
        workdir: str | None = None,
        stdin: bytes | None = None,
        timeout: float | None = None,
    ) -> tuple[int, bytes, bool]:
        """A command in the replica: (exit code, stdout+stderr, timed out: killed, code 1).
        Its stdio are memfds, not pipes, so the exec is the zygote's fast fork."""
        out = os.memfd_create("exec")
        inp = os.memfd_create("stdin") if stdin is not None else None
        try:
            if inp is not None:
                os.write(inp, stdin or b"")
                os.lseek(inp, 0, os.SEEK_SET)
            proc = self.ctx.runtime.exec_process(
                handle_of(self.ctx.record(name)),
                list(argv),
                env=list(env),
                user=user,
                workdir=workdir,
                stdin=inp if inp is not None else subprocess.DEVNULL,
                stdout=out,
                stderr=out,
            )
            timed_out = False
            try:
                code: int = proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                code, timed_out = 1, True
            return code, os.pread(out, os.fstat(out).st_size, 0), timed_out
        finally:
            os.close(out)
            if inp is not None:
                os.close(inp)

    # remove / rename ----------------------------------------------------------------------------
    def remove(self, name: str) -> None:
        record = self.ctx.store.load_replica(name)
        if record is None:
            return
        if not self._shares_kernel_objects(record):
            self.remove_process(record)
            remove_log(self.ctx.log_path(record.ident))
        with self.ctx.records_lock:  # not while a late exit rewrites the record (persist)
            self.ctx.store.delete_replica(name)

    def _shares_kernel_objects(self, record: ReplicaRecord) -> bool:
        """A staging record left by a crash in the middle of ``rename``: its kernel objects now
        belong to the renamed record, so only the stale record goes. (The scan of every record
        is skipped for names that are not staging names.)"""
        if not staged_for(record.name):
            return False
        others = self.ctx.store.replicas()
        return any(r.ident == record.ident and r.name != record.name for r in others)

    def hand_over(self, old: str, new: str) -> None:
        """The successor ``new`` takes over the IPv4 and IPv6 addresses of its stopped
        predecessor ``old`` on each network both are on, except where the successor's config
        fixes another address of that family; it keeps its own beside them when it has served
        on it."""
        ctx = self.ctx
        predecessor, successor = ctx.store.load_replica(old), ctx.record(new)
        moves = self._moves(predecessor, successor)
        if predecessor is None or not moves:
            return
        moved = _step(
            "hand over addresses",
            lambda: netplug.hand_over(
                ctx.project,
                predecessor.ident,
                successor.ident,
                moves,
                successor.netns or "",
                keep_own=successor.status == RUNNING,
                ipam_root=ctx.ipam_root,
            ),
        )
        ips = {key: ip for key, ip in moved if ":" not in ip}
        ips6 = {key: ip for key, ip in moved if ":" in ip}
        with ctx.records_lock:
            current = ctx.store.load_replica(new)
            if current is not None:
                ctx.store.save_replica(
                    current.replace(ips={**current.ips, **ips}, ips6={**current.ips6, **ips6})
                )

    def hold_connections(self, old: str, new: str) -> None:
        """Before ``old`` stops: new TCP connections to the addresses ``new`` will take over
        wait for it (``netplug.hold``) instead of being refused while ``old`` shuts down."""
        predecessor, successor = self.ctx.store.load_replica(old), self.ctx.record(new)
        moves = self._moves(predecessor, successor)
        netns = predecessor.netns if predecessor is not None else None
        if netns and moves:
            _step("hold new connections", lambda: netplug.hold(netns, [ip for _, ip in moves]))

    def release_holds(self, names: Iterable[str]) -> list[str]:
        """Adopted replicas serve again: a hold an earlier supervisor placed (it died between
        a drain and the hand-over) would drop their new connections for good. The names of
        those that had one; a replica whose hold cannot be lifted is logged, not fatal."""
        released = []
        for name in names:
            record = self.ctx.store.load_replica(name)
            netns = record.netns if record is not None else None
            if not netns or not os.path.exists(netns):
                continue
            try:
                if netplug.release_hold(netns):
                    released.append(name)
            except (netplug.NetplugError, OSError) as exc:  # it still runs and resolves
                log.warning("%s: new connections still held: %s", name, exc)
        return released

    def _moves(
        self, predecessor: ReplicaRecord | None, successor: ReplicaRecord
    ) -> list[tuple[netplug.NetworkConfig, str]]:
        """(network, address) of the predecessor's that its successor takes over: where the
        successor has an address of that family of its own, unless its config fixes another."""
        if predecessor is None or not successor.netns:
            return []
        requests = self.attach_requests(self.ctx.service(successor.service))
        fixed4 = {r.network.name: r.ipv4_address for r in requests}
        fixed6 = {r.network.name: r.ipv6_address for r in requests}
        return [
            (self.ctx.network_config(key), ip)
            for had, has, fixed in (
                (predecessor.ips, successor.ips, fixed4),
                (predecessor.ips6, successor.ips6, fixed6),
            )
            for key, ip in had.items()
            if has.get(key) not in (None, ip) and fixed.get(key) in (None, ip)
        ]

    def rename(self, old: str, new: str) -> None:
        """A start-first successor takes its predecessor's name once that one is removed; its
        kernel objects keep the names they were made under (``ident``). The new record is written
        before the old one goes: a crash in between leaves a stale record, never a lost one."""
        record = self.ctx.record(old)
        with self.ctx.records_lock:  # a persist of the old name must not bring its record back
            self.ctx.store.save_replica(record.replace(name=new))
            self.ctx.store.delete_replica(old)
        if old in self.created_here:
            self.created_here.discard(old)
            self.created_here.add(new)

    def remove_process(self, record: ReplicaRecord) -> None:
        """The replica's kernel objects: its processes and cgroup, its published ports, its
        veths and addresses, its netns (every step tolerates absence)."""
        ctx = self.ctx
        if record.runtime:
            ctx.runtime.remove(handle_of(record))
        else:
            self._remove_unrecorded(record.ident)
        if any(p.published for p in record.ports):  # `nft` runs are not free: only if needed
            with contextlib.suppress(Exception):
                self.traffic.publish(record.service, exclude=record.name)
        svc = ctx.stack.services.get(record.service) if ctx.stack is not None else None
        configs = [ctx.network_config(k) for k in record.ips]
        requests = configs or ([r.network for r in self.attach_requests(svc)] if svc else [])
        netplug.detach(ctx.project, record.ident, requests, record.netns, ipam_root=ctx.ipam_root)
        netplug.remove_replica_netns(record.ident)

    def _remove_unrecorded(self, name: str) -> None:
        """A replica whose creator died before recording its runtime handle: kill what may run
        in its cgroup, remove the cgroup and the replica dir (all by name)."""
        from compose.runtime import cgroups

        with contextlib.suppress(Exception):
            cgroup = f"{paths.project_cgroup(self.ctx.project)}/{name}"
            kill_and_remove_cgroup(cgroups.detect(), cgroup)
        shutil.rmtree(self.ctx.replica_dir(name), ignore_errors=True)

    # the tracker's view -------------------------------------------------------------------------
    def persist(self, state: ReplicaState) -> None:
        """Tracker on_change hook: mirror status/health/exit into the replica record (never
        bringing back one a removal deleted meanwhile: ``records_lock``)."""
        with self.ctx.records_lock:
            record = self.ctx.store.load_replica(state.name)
            if record is None:
                return
            changed = state.onto(record)
            if changed != record:
                self.ctx.store.save_replica(changed)

    def adoptable(self) -> list[ReplicaState]:
        """Replica states from the records (for a supervisor taking over a project)."""
        from compose.state import observe_project
        from compose.supervisor.tracker import ReplicaState

        return [ReplicaState.observed(rep) for rep in observe_project(self.ctx.project).replicas]


def _host_resolv() -> str:
    try:
        return Path("/etc/resolv.conf").read_text()
    except OSError:
        return ""


def _remove_new_volumes(anonymous: Mapping[str, str], had: Mapping[str, str]) -> None:
    """A failed create takes the anonymous volumes it made with it (not inherited ones)."""
    for name in set(anonymous.values()) - set(had.values()):
        volumes.remove_volume(name)


def port_records(svc: Service, index: int) -> tuple[PortRecord, ...]:
    """The replica's ``ports:`` with its own host port (a range gives each replica one)."""
    from netplug.ports import host_ports

    out = []
    for port in svc.ports:
        host = host_ports(port.published, index)[index - 1] if port.published else None
        out.append(PortRecord(port.target, host, port.protocol, port.host_ip or ""))
    return tuple(out)


def _hash(svc: Service, digest: str | None) -> str:
    from compose.planner.hashing import config_hash

    return config_hash(svc, digest)
