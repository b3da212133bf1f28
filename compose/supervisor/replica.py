"""One replica's kernel-side lifecycle, synchronous (runs in a worker thread via blocking.py).

create: netns → attach → etc files → link env → mounts → spec → runtime.create → record
start:  runtime.start (GO) → publish ports → record running
stop:   runtime.stop(stop_signal, grace) → record exited
remove: runtime.remove → unpublish → detach → netns → record deleted   (absence tolerated)
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from compose import paths, volumes
from compose.errors import ContainerError, PycomposeError
from compose.logs import remove_log
from compose.state import PortRecord, ReplicaRecord, container_name, staged_for

if TYPE_CHECKING:
    from compose.supervisor.linux import LinuxDriver

log = logging.getLogger(__name__)
_HOSTS_LOCK = threading.Lock()


def handle_of(record: ReplicaRecord) -> Any:
    from compose.runtime.spec import ContainerHandle

    if not record.runtime:
        raise ContainerError(f'container "{record.name}": not created')
    return ContainerHandle.from_dict(record.runtime)


def _step(subject: str, step: str, func: Callable[[], Any]) -> Any:
    try:
        return func()
    except PycomposeError:
        raise
    except Exception as exc:
        raise ContainerError(f"{step}: {exc}") from exc


# create -----------------------------------------------------------------------------------
def create_replica(
    driver: LinuxDriver, service: str, index: int, name: str | None = None
) -> ReplicaRecord:
    """``name``: a staging name (start-first recreation) instead of the replica's own."""
    name = name or driver.name_of(service, index)
    return create_named(driver, driver.stack.services[service], index, name)


def create_named(
    driver: LinuxDriver,
    svc: Any,
    index: int,
    name: str,
    oneoff: bool = False,
    stdio: tuple[int, int, int] | None = None,
) -> ReplicaRecord:
    """Create one container of ``svc`` (a model Service, maybe with run's overrides);
    ``stdio``: the caller's fds attached to it (``run`` in the foreground)."""
    undo: list[Callable[[], Any]] = []
    try:
        return _create(driver, svc, index, name, undo, oneoff, stdio)
    except BaseException:
        for action in reversed(undo):
            with contextlib.suppress(Exception):
                action()
        raise


def _create(
    driver: LinuxDriver,
    svc: Any,
    index: int,
    name: str,
    undo: list[Callable[[], Any]],
    oneoff: bool,
    stdio: tuple[int, int, int] | None = None,
) -> ReplicaRecord:

    subject = f'service "{svc.name}" replica {index}'
    image = driver.image_for(svc.name)
    if image is None:
        raise ContainerError(f"{subject}: image {svc.image_name(driver.project)} is not pulled")
    rdir = driver.replica_dir(name)
    rdir.mkdir(parents=True, exist_ok=True)
    # recorded before any kernel object exists: a crash from here on leaves a record that
    # `down` (or the next `up`) cleans up by name, never an orphan netns/veth/cgroup
    placeholder = ReplicaRecord(driver.project, svc.name, index, name, oneoff=oneoff)
    driver.store.save_replica(placeholder.replace(created=time.time()))
    undo.append(lambda: driver.store.delete_replica(name))
    netns, atts, ips = _network(driver, svc, name, subject, undo)
    etc = write_etc_files(driver, svc, name, index, rdir, atts)
    owner = name if oneoff else driver.name_of(svc.name, index)  # a successor finds its data
    mounts = _step(subject, "volumes", lambda: service_mounts(driver, svc, owner, image))
    spec = build_spec(driver, svc, index, image, rdir, mounts, netns, etc, ips, name)
    handle = _step(subject, "create", lambda: driver.runtime.create(spec, stdio))
    undo.append(lambda: driver.runtime.remove(handle))
    record = ReplicaRecord(
        driver.project,
        svc.name,
        index,
        name,
        image=svc.image_name(driver.project),
        image_digest=image.digest,
        config_hash=_hash(svc, image.digest),
        command=" ".join(spec.argv),
        pid=handle.pid,
        start_time=handle.start_time,
        status="created",
        netns=str(netns) if netns else None,
        ips=ips,
        ports=tuple(port_entries(svc, index)),
        mounts=tuple(f"{m.source}:{m.target}" for m in mounts),
        created=time.time(),
        log_path=str(handle.log_path),
        runtime=handle.to_dict(),
        oneoff=oneoff,
    )
    driver.store.save_replica(record)
    driver.created_here.add(name)
    return record


def service_mounts(driver: LinuxDriver, svc: Any, owner: str, image: Any) -> list[Any]:
    """The replica's mounts; ``owner`` (its canonical name) keys its anonymous volumes."""
    return volumes.service_mounts(
        driver.stack, svc, owner, image.layers, image_volumes=image.config.volumes
    )


def _network(
    driver: LinuxDriver, svc: Any, name: str, subject: str, undo: list[Callable[[], Any]]
) -> tuple[Path | None, tuple[Any, ...], dict[str, str]]:
    """(netns path, attachments, ips) by network_mode: host, none, service:<x>, or networks."""
    import netplug

    mode = svc.network_mode or ""
    if mode == "host":
        return None, (), {}
    if mode.startswith("service:"):
        return _shared_netns(driver, mode.split(":", 1)[1], subject), (), {}
    if mode.startswith("container:"):
        raise ContainerError(f"{subject}: network_mode {mode} is not supported")
    requests = attach_requests(driver, svc)
    netns = _step(subject, "netns", lambda: netplug.create_replica_netns(name))
    undo.append(lambda: netplug.remove_replica_netns(name))
    undo.append(
        lambda: netplug.detach(driver.project, name, requests, netns, ipam_root=driver.ipam_root)
    )
    atts = _step(
        subject,
        "attach",
        lambda: netplug.attach(driver.project, name, requests, netns, ipam_root=driver.ipam_root),
    )
    ips = {req.network.name: att.ip for req, att in zip(requests, atts, strict=False)}
    return netns, tuple(atts), ips


def _shared_netns(driver: LinuxDriver, target: str, subject: str) -> Path:
    for rec in driver.store.replicas():
        if rec.service == target and rec.netns and rec.status == "running" and not rec.oneoff:
            return Path(rec.netns)
    raise ContainerError(f'{subject}: network_mode service:{target}: "{target}" is not running')


def _hash(svc: Any, digest: str | None) -> str:
    from compose.planner.hashing import config_hash

    return config_hash(svc, digest)


def attach_requests(driver: LinuxDriver, svc: Any) -> list[Any]:
    from compose.project import service_networks
    from netplug import AttachRequest

    reqs = []
    for key in service_networks(svc):
        opts = svc.networks.get(key) if svc.networks else None
        aliases = tuple(opts.aliases) if opts else ()
        ipv4 = getattr(opts, "ipv4_address", None) if opts else None
        reqs.append(AttachRequest(driver.network_config(key), ipv4, aliases))
    return reqs


def write_etc_files(
    driver: LinuxDriver, svc: Any, name: str, index: int, rdir: Path, atts: Any
) -> tuple[tuple[str, Path], ...]:
    from netplug import render_resolv_conf

    hostname = hostname_of(driver, svc, index)
    etc = rdir / "etc"
    etc.mkdir(exist_ok=True)
    own_ip = atts[0].ip if atts else None
    (etc / "hosts").write_text(
        hosts_text(driver, svc, name, index, own_ip, driver.store.replicas())
    )
    servers = list(svc.dns) or [a.gateway for a in atts[:1]] or ["127.0.0.1"]
    (etc / "resolv.conf").write_text(
        render_resolv_conf(servers, svc.dns_search, ["ndots:0", *svc.dns_opt])
    )
    (etc / "hostname").write_text(hostname + "\n")
    return tuple((f"/etc/{n}", etc / n) for n in ("hosts", "resolv.conf", "hostname"))


def hostname_of(driver: LinuxDriver, svc: Any, index: int) -> str:
    """The container's hostname, as ``spec_from_model`` sets it (kept by a successor)."""
    from compose.runtime.service import default_hostname

    return svc.hostname or default_hostname(container_name(driver.project, svc.name, index))


def hosts_text(
    driver: LinuxDriver,
    svc: Any,
    name: str,
    index: int,
    own_ip: str | None,
    records: list[ReplicaRecord],
) -> str:
    """/etc/hosts of one replica: itself, its links, then every live peer by container name,
    and by service name only for a service with one live replica: glibc and musl return just
    the first /etc/hosts match, so a scaled service there would pin every client to one
    replica; its name is left to the embedded DNS, which answers with all of them (Docker
    keeps peers out of /etc/hosts altogether)."""
    from netplug import HostEntry, render_hosts

    hostname = hostname_of(driver, svc, index)
    live = [r for r in records if r.name != name and r.status != "exited" and not r.oneoff]
    counts = Counter(r.service for r in live if r.service != svc.name)
    alone = not any(r.service == svc.name for r in live)
    mine = (hostname, name, *((svc.name,) if alone else ()), f"{svc.name}-{index}")
    own = [HostEntry(own_ip, mine)] if own_ip else []
    peers = [
        HostEntry(ip, (rec.service, rec.name) if counts[rec.service] == 1 else (rec.name,))
        for rec in live
        for ip in rec.ips.values()
    ]
    return render_hosts(own, _link_entries(svc, live) + peers, svc.extra_hosts)


def _link_entries(svc: Any, live: list[ReplicaRecord]) -> list[Any]:
    """Docker's legacy link lines: ``<ip> <alias> <container>`` for each ``links: [target:alias]``,
    pointing at the target's lowest live replica (as the link variables do)."""
    from netplug import HostEntry

    entries = []
    for link in svc.links:
        target, _, alias = link.partition(":")
        replicas = sorted((r for r in live if r.service == target and r.ips), key=lambda r: r.index)
        if replicas:
            first = replicas[0]
            entries.append(HostEntry(next(iter(first.ips.values())), (alias or target, first.name)))
    return entries


def rewrite_hosts(driver: LinuxDriver) -> None:
    """Peers changed: rewrite every running replica's /etc/hosts in place (same inode, so the
    bind mount inside the container sees it), only where the text differs."""

    if driver.stack is None:
        return
    with _HOSTS_LOCK:  # concurrent refreshes: the last to read the records writes last
        _rewrite_hosts(driver)


def _rewrite_hosts(driver: LinuxDriver) -> None:
    from netplug import write_in_place

    records = driver.serving_records()
    for rec in records:
        path = driver.replica_dir(rec.ident) / "etc" / "hosts"
        svc = driver.stack.services.get(rec.service)
        if rec.status != "running" or svc is None or not path.exists():
            continue
        own_ip = next(iter(rec.ips.values()), None)
        text = hosts_text(driver, svc, rec.name, rec.index, own_ip, records)
        if path.read_text() != text:
            write_in_place(path, text)


def link_environment(driver: LinuxDriver, svc: Any) -> list[str]:
    from netplug import replica_link_env
    from netplug.links import LinkTarget

    links = []
    for entry in svc.links:
        target, _, alias = entry.partition(":")
        image = driver.image_for(target)
        exposed = tuple(image.config.exposed_ports) if image else ()
        exposed += tuple(str(p) for p in driver.stack.services[target].expose)
        reps = [
            LinkTarget(
                r.service,
                r.index,
                next(iter(r.ips.values())),
                exposed,
                _env_list(driver.stack.services[target].environment),
            )
            for r in driver.store.replicas()
            if r.service == target and r.ips
        ]
        links.append((alias or target, reps))
    env = replica_link_env(f"{driver.project}-{svc.name}", links)
    return [f"{k}={v}" for k, v in env.items()]


def _env_list(env: dict[str, str | None]) -> tuple[str, ...]:
    return tuple(f"{k}={v}" for k, v in env.items() if v is not None)


def build_spec(
    driver: LinuxDriver,
    svc: Any,
    index: int,
    image: Any,
    rdir: Path,
    mounts: list[Any],
    netns: Path | None,
    etc: tuple[tuple[str, Path], ...],
    ips: dict[str, str],
    name: str,
) -> Any:
    import dataclasses

    from compose.runtime.service import spec_from_model

    spec = spec_from_model(
        svc,
        project=driver.project,
        replica=index,
        image=image,
        replica_dir=rdir,
        mounts=tuple(mounts),
        netns_path=netns,
        etc_files=etc,
        link_env=link_environment(driver, svc),
        cgroup_parent=paths.project_cgroup(driver.project),
        log_path=driver.log_path(name),  # outside the replica dir: survives restarts
    )
    return spec if spec.id == name else dataclasses.replace(spec, id=name)


def port_entries(svc: Any, index: int) -> list[PortRecord]:
    from netplug.ports import host_ports

    out = []
    for port in svc.ports:
        published = port.published
        host = host_ports(published, index)[index - 1] if published else None
        out.append(PortRecord(port.target, host, port.protocol, port.host_ip or ""))
    return out


# start / stop / kill / remove ---------------------------------------------------------------
def start_replica(driver: LinuxDriver, name: str) -> None:
    record = driver.replica_record(name)
    if record.status == "exited" and record.runtime and not record.oneoff:
        record = restart_process(driver, record)  # same rootfs, netns and addresses
    elif record.status != "created" or name not in driver.created_here:
        # created by another process: its init waits on a socket we don't hold
        remove_process(driver, record)
        record = create_replica(driver, record.service, record.index, record.name)
    subject = f'service "{record.service}" replica {record.index}'
    driver.created_here.discard(name)
    _step(subject, "start", lambda: driver.runtime.start(handle_of(record)))
    driver.store.save_replica(
        record.replace(status="running", started_at=time.time(), exit_code=None)
    )
    publish_service(driver, record.service)  # after the save: it reads the running set


def restart_process(driver: LinuxDriver, record: ReplicaRecord) -> ReplicaRecord:
    """A new process for an exited replica, keeping its writable layer (upper dir), netns,
    addresses, /etc files and log, as Docker's restart does."""
    svc = driver.stack.services[record.service]
    image = driver.image_for(record.service)
    rdir = driver.replica_dir(record.ident)
    etc = tuple((f"/etc/{n}", rdir / "etc" / n) for n in ("hosts", "resolv.conf", "hostname"))
    netns = Path(record.netns) if record.netns else None
    owner = driver.name_of(record.service, record.index)
    mounts = service_mounts(driver, svc, owner, image)
    spec = build_spec(
        driver, svc, record.index, image, rdir, mounts, netns, etc, record.ips, record.ident
    )
    subject = f'service "{record.service}" replica {record.index}'
    handle = _step(subject, "create", lambda: driver.runtime.create(spec))
    fresh = record.replace(
        pid=handle.pid,
        start_time=handle.start_time,
        status="created",
        runtime=handle.to_dict(),
        exit_code=None,
    )
    driver.store.save_replica(fresh)
    driver.created_here.add(record.name)
    return fresh


def publish_service(driver: LinuxDriver, service: str, exclude: str = "") -> None:
    """Kernel DNAT of one service: ONE nft table (key = service) holding every running
    replica's bindings, so a fixed host port shared by replicas is load-balanced
    (``numgen random``) and a range gives each replica its own port. Serialized per service
    and computed from the records under the lock, so concurrent starts never lose a replica;
    a start whose record a later, finished update already read returns at once (coalesced).
    ``exclude`` (a replica being removed) always updates: no other caller leaves it out."""
    import netplug

    with driver.publishing(service).turn(force=bool(exclude)) as due:
        if not due:
            return
        records = [
            r
            for r in driver.serving_records()
            if r.service == service and not r.oneoff and r.name != exclude and r.ports
        ]
        if not records:
            return
        bindings = [
            netplug.PortBinding(
                p.published, next(iter(r.ips.values())), p.target, p.protocol, p.host_ip
            )
            for r in records
            if r.status == "running" and r.ips
            for p in r.ports
            if p.published
        ]
        nets = next((r.ips for r in records if r.ips), None)
        if not nets or not any(p.published for r in records for p in r.ports):
            return
        net = driver.network_config(next(iter(nets)))
        if bindings:
            netplug.publish_ports(net, service, bindings, check=False)
        else:
            netplug.unpublish_ports(net, service)


def stop_replica(driver: LinuxDriver, name: str, timeout: float | None) -> None:
    record = driver.store.load_replica(name)
    if record is None or not record.runtime:
        return
    handle = handle_of(record)
    grace = handle.stop_grace_period if timeout is None else timeout
    driver.runtime.stop(handle, handle.stop_signal, grace)
    code = exit_code(driver, handle)
    driver.store.save_replica(
        record.replace(
            status="exited", exit_code=code, finished_at=time.time(), manually_stopped=True
        )
    )


def kill_replica(driver: LinuxDriver, name: str, signal: int) -> None:
    record = driver.replica_record(name)
    driver.runtime.kill(handle_of(record), signal)


def exit_code(driver: LinuxDriver, handle: Any) -> int | None:
    try:
        status = driver.runtime.wait(handle)
    except Exception:
        log.debug("wait %s failed", handle.id, exc_info=True)
        return None
    code: int | None = status.code
    return code


def remove_replica(driver: LinuxDriver, name: str) -> None:
    record = driver.store.load_replica(name)
    if record is None:
        return
    if not _shares_kernel_objects(driver, record):
        remove_process(driver, record)
        remove_log(driver.log_path(record.ident))
    with driver.records_lock:  # not while a late exit rewrites the record (persist)
        driver.store.delete_replica(name)


def _shares_kernel_objects(driver: LinuxDriver, record: ReplicaRecord) -> bool:
    """A staging record left by a crash in the middle of ``rename_replica``: its kernel objects
    now belong to the renamed record, so only the stale record goes. (The scan of every record
    is skipped for names that are not staging names.)"""
    if not staged_for(record.name):
        return False
    return any(r.ident == record.ident and r.name != record.name for r in driver.store.replicas())


def rename_replica(driver: LinuxDriver, old: str, new: str) -> None:
    """A start-first successor takes its predecessor's name once that one is removed; its
    kernel objects keep the names they were made under (``ident``). The new record is written
    before the old one goes: a crash in between leaves a stale record, never a lost one."""
    record = driver.replica_record(old)
    with driver.records_lock:  # a persist of the old name must not bring its record back
        driver.store.save_replica(record.replace(name=new))
        driver.store.delete_replica(old)
    if old in driver.created_here:
        driver.created_here.discard(old)
        driver.created_here.add(new)


def remove_process(driver: LinuxDriver, record: ReplicaRecord) -> None:
    import netplug

    svc = driver.stack.services.get(record.service) if driver.stack is not None else None
    if record.runtime:
        driver.runtime.remove(handle_of(record))
    else:
        remove_unrecorded(driver, record.ident)
    if any(p.published for p in record.ports):  # `nft` runs are not free: only if needed
        with contextlib.suppress(Exception):
            publish_service(driver, record.service, exclude=record.name)
    requests = [driver.network_config(k) for k in record.ips] or (
        attach_requests(driver, svc) if svc is not None else []
    )
    netplug.detach(driver.project, record.ident, requests, record.netns, ipam_root=driver.ipam_root)
    netplug.remove_replica_netns(record.ident)


def remove_unrecorded(driver: LinuxDriver, name: str) -> None:
    """A replica whose creator died before recording its runtime handle: kill what may run in
    its cgroup, remove the cgroup and the replica dir (all by name)."""
    import shutil

    from compose.runtime import cgroups
    from compose.supervisor.linux import kill_and_remove_cgroup

    with contextlib.suppress(Exception):
        kill_and_remove_cgroup(cgroups.detect(), f"{paths.project_cgroup(driver.project)}/{name}")
    shutil.rmtree(driver.replica_dir(name), ignore_errors=True)


def exec_probe(driver: LinuxDriver, name: str, argv: tuple[str, ...], timeout: float) -> int:
    import subprocess

    record = driver.replica_record(name)
    proc = driver.runtime.exec_process(
        handle_of(record), list(argv), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        code: int = proc.wait(timeout)
        return code
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return 1
