"""RUN: one container made by ``compose.runtime`` (the isolation of a service), whose overlay
upper directory becomes the step's layer.

- rootfs: the stage's layers as overlay lower dirs and a fresh upper dir, mounted with
  ``redirect_dir=off,index=off,metacopy=off`` so the upper dir is a complete diff in the store's
  layer format (0/0 character devices for deletions, opaque directories);
- network: ``default`` is BuildKit's: a namespace of its own on the build bridge, its outbound
  TCP and DNS relayed by the host (``compose.build.buildnet``: it reaches the outside, never
  the host's 127.0.0.1); ``none`` a namespace with only loopback; ``host`` the host's;
  ``/etc/hosts`` gets ``extra_hosts``;
- mounts: bind (a copy of the selected source, so .dockerignore'd files stay invisible and
  ``rw`` writes are discarded), cache (a directory of the store, ``sharing=locked`` by flock),
  tmpfs, secrets (files under the run dir, never in a layer or a key), ssh agent sockets,
  heredoc scripts at ``/dev/pipes``;
- output: a pipe read line by line (progress, last lines for errors);
- limits: a pids limit (a fork bomb is stopped with a clear error once it keeps the limit
  full), a disk watchdog (the RUN is stopped before the store's filesystem runs out);
- afterwards mount stubs (targets that did not exist before: /etc/hosts, /etc/resolv.conf,
  RUN mount points) are removed from the upper dir, like BuildKit's MountStubsCleaner.

On any failure or cancel the container, its directories and its temporary files are removed.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import stat
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from msgspec import Struct, field

from compose import paths
from compose.build.buildnet import BuildNetwork
from compose.build.plan import RunMount, RunStep
from compose.build.request import Cancelled
from compose.build.rootview import RootView
from compose.errors import BuildError
from compose.runtime.spec import ContainerSpec, Limits, Mount, Ulimit

OVERLAY_OPTIONS = "redirect_dir=off,index=off,metacopy=off"
HOSTNAME = "buildkitsandbox"
# mount targets the runtime may create and BuildKit's stub cleaner removes (runc's /proc,
# /dev and /sys mount points stay in the layer, as they do with BuildKit)
STUBS = ("/etc/resolv.conf", "/etc/hosts", "/etc/hostname")
LAST_LINES = 10
POLL = 0.2


def pids_limit() -> int:
    return int(os.environ.get("PYCOMPOSE_BUILD_PIDS_MAX", "4096"))


def disk_reserve() -> int:
    """Bytes a RUN must leave free on the store's filesystem (default 1 GiB)."""
    return int(os.environ.get("PYCOMPOSE_BUILD_DISK_RESERVE", str(1 << 30)))


FORK_BOMB_SECONDS = float(os.environ.get("PYCOMPOSE_BUILD_PIDS_GRACE", "10"))


class RunEnv(Struct):
    """What a RUN needs besides its step: set up once per build."""

    runtime: Any  # compose.runtime.LinuxRuntime
    tmp: Path  # the store's tmp dir (same filesystem as its layers)
    cache_mounts: Callable[[str], Path]
    secrets: Mapping[str, bytes] = field(default_factory=dict)
    ssh: Mapping[str, str] = field(default_factory=dict)
    extra_hosts: tuple[tuple[str, str], ...] = ()
    shm_size: int | None = None
    ulimits: tuple[Ulimit, ...] = ()
    cancel: threading.Event = field(default_factory=threading.Event)
    network: BuildNetwork | None = None  # the build's (None: one for this RUN alone)


class RunInputs(Struct):
    layers: list[Path]
    bind_sources: dict[str, Path]  # mount target -> prepared host dir/file (bind mounts)
    subject: str  # "[web 3/6] RUN ..." for errors
    on_line: Callable[[str], None] = lambda line: None


def run(step: RunStep, env: RunEnv, inputs: RunInputs) -> Path:
    """Run the step; returns its layer directory (in ``env.tmp``, ready to commit)."""
    rid = uuid.uuid4().hex[:12]
    work = env.tmp / f"run-{rid}"
    files = paths.run_dir() / "build" / rid
    stubs = _stubs(step, inputs.layers)
    try:
        files.mkdir(parents=True, mode=0o700)
        layer = env.tmp / f"layer-{rid}"
        with _locks(step, env), _network(step, env, rid) as network:
            spec = _spec(step, env, inputs, rid, work, files, network)
            _execute(spec, step, env, inputs, layer)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(files, ignore_errors=True)
        with contextlib.suppress(OSError):
            files.parent.rmdir()
    try:
        clean_stubs(layer, stubs, RootView(inputs.layers))
    except BaseException:
        shutil.rmtree(layer, ignore_errors=True)
        raise
    return layer


# -- the network --------------------------------------------------------------------------------
@contextlib.contextmanager
def _network(step: RunStep, env: RunEnv, rid: str) -> Iterator[tuple[Path, str] | None]:
    """(netns, nameserver) of a ``default`` RUN (None: ``none`` and ``host`` need none)."""
    if step.network != "default":
        yield None
        return
    network = env.network or BuildNetwork()
    try:
        with network.sandbox(rid) as netns:
            yield netns, network.gateway
    finally:
        if env.network is None:
            network.close()


def _resolv_conf(files: Path, nameserver: str) -> Path:
    """The host's search and options, with the build network's relay as the nameserver."""
    from compose.runtime.etcfiles import resolv_conf

    try:
        host = Path("/etc/resolv.conf").read_text()
    except OSError:
        host = ""
    path = files / "resolv.conf"
    path.write_text(resolv_conf(host, dns=[nameserver]))
    return path


# -- the container ------------------------------------------------------------------------------
def _spec(
    step: RunStep,
    env: RunEnv,
    inputs: RunInputs,
    rid: str,
    work: Path,
    files: Path,
    network: tuple[Path, str] | None = None,
) -> ContainerSpec:
    layers = inputs.layers or [_empty_layer(env.tmp)]
    mounts, extra_env = _mounts(step, env, inputs, files)
    hosts = files / "hosts"
    hosts.write_text(_hosts_text(step, env.extra_hosts))
    etc = [("/etc/hosts", hosts)]
    if network is not None:
        etc.append(("/etc/resolv.conf", _resolv_conf(files, network[1])))
    limits = Limits(
        pids=pids_limit(),
        shm_size=env.shm_size or Limits().shm_size,
        ulimits=env.ulimits,
    )
    return ContainerSpec(
        id=f"build-{rid}",
        layers=tuple(layers),
        replica_dir=work,
        argv=step.argv,
        env=(*step.env, *step.proxy_env, *extra_env),
        user=step.user,
        workdir=step.workdir or "/",
        hostname=HOSTNAME,
        mounts=tuple(mounts),
        etc_files=tuple(etc),
        netns_path=network[0] if network else None,
        host_network=step.network == "host",
        limits=limits,
        privileged=step.privileged,
        cgroup_parent=f"{paths.cgroup_root()}/build",
        overlay_options=OVERLAY_OPTIONS,
    )


def _empty_layer(tmp: Path) -> Path:
    path = tmp / "empty-layer"
    path.mkdir(exist_ok=True)
    return path


def _hosts_text(step: RunStep, extra: tuple[tuple[str, str], ...]) -> str:
    if step.network == "host":
        try:
            base = Path("/etc/hosts").read_text()
        except OSError:
            base = ""
    else:
        from compose.runtime.etcfiles import default_hosts

        base = default_hosts(HOSTNAME)
    lines = "".join(f"{ip}\t{host}\n" for host, ip in extra)
    return base + ("" if not base or base.endswith("\n") else "\n") + lines


def _mounts(
    step: RunStep, env: RunEnv, inputs: RunInputs, files: Path
) -> tuple[list[Mount], list[str]]:
    mounts: list[Mount] = []
    extra_env: list[str] = []
    for m in step.mounts:
        made = _mount(m, env, inputs, files, extra_env)
        if made is not None:
            mounts.append(made)
    if step.files:
        pipes = files / "pipes"
        pipes.mkdir()
        for doc in step.files:
            target = pipes / doc.path
            target.write_text(doc.data)
            target.chmod(doc.mode)
        mounts.append(Mount("/dev/pipes", source=str(pipes), read_only=True))
    return mounts, extra_env


def _mount(
    m: RunMount, env: RunEnv, inputs: RunInputs, files: Path, extra_env: list[str]
) -> Mount | None:
    if m.type == "tmpfs":
        return Mount(m.target, type="tmpfs", size=m.size or None)
    if m.type == "bind":
        return Mount(m.target, source=str(inputs.bind_sources[m.target]), read_only=m.read_only)
    if m.type == "cache":
        return Mount(m.target, source=str(_cache_dir(m, env)), read_only=m.read_only)
    if m.type == "secret":
        return _secret(m, env, files, extra_env)
    return _ssh(m, env, extra_env)


def _cache_dir(m: RunMount, env: RunEnv) -> Path:
    path = env.cache_mounts(m.id)
    if not path.is_dir():
        tmp = path.with_name(path.name + f".{uuid.uuid4().hex[:8]}")
        tmp.mkdir(parents=True, mode=m.mode if m.mode is not None else 0o755)
        os.chown(tmp, m.uid or 0, m.gid or 0)
        os.chmod(tmp, m.mode if m.mode is not None else 0o755)
        try:
            os.rename(tmp, path)
        except OSError:
            tmp.rmdir()
    return path


def _secret(m: RunMount, env: RunEnv, files: Path, extra_env: list[str]) -> Mount | None:
    value = env.secrets.get(m.id)
    if value is None:
        if m.required:
            raise BuildError(f'secret "{m.id}" is required but was not provided')
        return None
    if m.env:
        extra_env.append(f"{m.env}={value.decode(errors='replace')}")
        if not m.target:
            return None
    path = files / f"secret-{len(list(files.glob('secret-*')))}"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(value)
    os.chown(path, m.uid or 0, m.gid or 0)
    os.chmod(path, m.mode if m.mode is not None else 0o400)
    return Mount(m.target, source=str(path), read_only=True)


def _ssh(m: RunMount, env: RunEnv, extra_env: list[str]) -> Mount | None:
    socket_path = env.ssh.get(m.id)
    if not socket_path:
        if m.required:
            raise BuildError(f'ssh agent "{m.id}" is required but was not provided (build: ssh)')
        return None
    extra_env.append(f"SSH_AUTH_SOCK={m.target}")
    return Mount(m.target, source=socket_path, read_only=False)


@contextlib.contextmanager
def _locks(step: RunStep, env: RunEnv) -> Iterator[None]:
    """``sharing=locked`` (and ``private``) cache mounts: one RUN at a time uses the dir."""
    held = []
    try:
        for m in step.mounts:
            if m.type == "cache" and m.sharing in ("locked", "private"):
                lock = env.cache_mounts(m.id).with_suffix(".lock")
                lock.parent.mkdir(parents=True, exist_ok=True)
                fh = open(lock, "a")
                held.append(fh)
                fcntl.flock(fh, fcntl.LOCK_EX)
        yield
    finally:
        for fh in held:
            fh.close()


def _execute(
    spec: ContainerSpec, step: RunStep, env: RunEnv, inputs: RunInputs, layer: Path
) -> None:
    """Run the container; on success its upper dir is moved to ``layer`` before the
    container (and with it the upper dir) is removed."""
    read_fd, write_fd = os.pipe()
    devnull = os.open(os.devnull, os.O_RDONLY)
    tail: deque[str] = deque(maxlen=LAST_LINES)
    reader = threading.Thread(target=_read_lines, args=(read_fd, inputs.on_line, tail), daemon=True)
    handle = None
    pids_limited = False
    try:
        try:
            handle = env.runtime.create(spec, stdio=(devnull, write_fd, write_fd))
        finally:
            os.close(write_fd)
            os.close(devnull)
        reader.start()
        env.runtime.start(handle)
        status = _wait(handle, step, env, spec, inputs.subject)
        if reader.is_alive():
            reader.join(timeout=5)
        if status is None:
            os.rename(spec.upper_dir, layer)
        else:
            pids_limited = _pids_limit_hit(spec)
    finally:
        if handle is not None:
            with contextlib.suppress(Exception):
                env.runtime.remove(handle)
        if reader.is_alive():
            reader.join(timeout=5)
        with contextlib.suppress(OSError):
            os.close(read_fd)
    if status is not None:
        shown = "\n".join(f"  {line}" for line in tail)
        limit = " (the build's process limit was reached)" if pids_limited else ""
        raise BuildError(
            f"{inputs.subject}: did not complete successfully: exit code {status}{limit}"
            + (f"\nlast output lines:\n{shown}" if shown else "")
        )


def _pids_limit_hit(spec: ContainerSpec) -> bool:
    """Did a fork fail on the pids limit (cgroup v1 or v2 ``pids.events``)?"""
    for path in (
        Path("/sys/fs/cgroup/pids") / spec.cgroup_path / "pids.events",
        Path("/sys/fs/cgroup") / spec.cgroup_path / "pids.events",
    ):
        try:
            for line in path.read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "max" and value.strip() != "0":
                    return True
        except OSError:
            continue
    return False


def _read_lines(fd: int, on_line: Callable[[str], None], tail: deque[str]) -> None:
    pending = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for raw in lines:
            text = raw.decode("utf-8", "replace").rstrip("\r")
            tail.append(text)
            on_line(text)
    if pending:
        text = pending.decode("utf-8", "replace")
        tail.append(text)
        on_line(text)


def _wait(handle: Any, step: RunStep, env: RunEnv, spec: ContainerSpec, subject: str) -> int | None:
    """The exit code if it is not 0 (None when the RUN succeeded)."""
    watch = _Watchdog(env, spec, handle)
    while True:
        try:
            status = env.runtime.wait(handle, timeout=POLL)
            break
        except TimeoutError:
            pass
        if env.cancel.is_set():
            env.runtime.kill(handle)
            raise Cancelled()
        problem = watch.check()
        if problem:
            env.runtime.kill(handle)
            with contextlib.suppress(TimeoutError):
                env.runtime.wait(handle, timeout=10)
            raise BuildError(f"{subject}: stopped: {problem}")
    code = status.code if status.code is not None else 1
    return None if code == 0 else code


class _Watchdog:
    def __init__(self, env: RunEnv, spec: ContainerSpec, handle: Any) -> None:
        self.env, self.spec, self.handle = env, spec, handle
        self.full_since: float | None = None
        self.reserve = disk_reserve()
        self.limit = spec.limits.pids or 0

    def check(self) -> str | None:
        vfs = os.statvfs(self.env.tmp)
        free = vfs.f_bavail * vfs.f_frsize
        if free < self.reserve:
            return (
                f"the filesystem of the image store has only {free >> 20} MiB free "
                f"(a RUN must leave {self.reserve >> 20} MiB; PYCOMPOSE_BUILD_DISK_RESERVE)"
            )
        return self._pids()

    def _pids(self) -> str | None:
        if not self.limit:
            return None
        try:
            count = self.env.runtime.stats(self.handle).pids
        except Exception:
            return None
        if count < self.limit * 0.95:
            self.full_since = None
            return None
        now = time.monotonic()
        self.full_since = self.full_since or now
        if now - self.full_since < FORK_BOMB_SECONDS:
            return None
        return (
            f"it kept the build's process limit ({self.limit}) full for "
            f"{FORK_BOMB_SECONDS:g}s (a fork bomb?; PYCOMPOSE_BUILD_PIDS_MAX)"
        )


# -- mount stubs ----------------------------------------------------------------------------
class Stub(Struct, frozen=True):
    path: str  # absolute in the rootfs (resolved)
    parent_mtime: int | None  # ns, of the parent below (restored after removal)


def _stubs(step: RunStep, layers: list[Path]) -> list[Stub]:
    """Every path component of a mount target that does not exist before the RUN."""
    view = RootView(layers)
    names = [*STUBS, *(m.target for m in step.mounts if m.target)]
    if step.files:
        names.append("/dev/pipes")
    out: list[Stub] = []
    for name in names:
        try:
            path = view.resolve(name)
        except OSError:
            continue
        while path != "/" and view.lstat(path) is None:
            parent = os.path.dirname(path)
            below = view.lstat(parent)
            out.append(Stub(path, below[1].st_mtime_ns if below else None))
            path = parent
    return out


def clean_stubs(layer: Path, stubs: list[Stub], lower: RootView | None = None) -> None:
    """Remove stubs the runtime created (an empty file or directory), deepest first; then
    directories that only held a stub and are copies of the lower one (overlay copied them up
    to create the stub) go too, so the layer shows nothing the RUN did not do."""
    for stub in stubs:
        host = os.path.join(layer, stub.path.lstrip("/"))
        try:
            st = os.lstat(host)
        except (FileNotFoundError, NotADirectoryError):
            continue
        if stat.S_ISDIR(st.st_mode):
            if os.listdir(host):
                continue
            os.rmdir(host)
        elif st.st_size == 0 and not stat.S_ISCHR(st.st_mode):
            os.unlink(host)
        else:
            continue
        parent = os.path.dirname(host)
        if stub.parent_mtime is not None and os.path.isdir(parent):
            os.utime(parent, ns=(stub.parent_mtime, stub.parent_mtime), follow_symlinks=False)
        if lower is not None:
            _drop_copied_up(layer, os.path.dirname(stub.path), lower)


def _drop_copied_up(layer: Path, path: str, lower: RootView) -> None:
    """Remove ``path`` and its parents from the layer while each is an empty, non-opaque
    directory with the same mode and owner as below."""
    from compose.images.layertar import is_opaque

    while path not in ("/", ""):
        host = os.path.join(layer, path.lstrip("/"))
        below = lower.lstat(path)
        try:
            st = os.lstat(host)
        except FileNotFoundError:
            return
        if below is None or not stat.S_ISDIR(st.st_mode) or os.listdir(host) or is_opaque(host):
            return
        b = below[1]
        if (st.st_mode, st.st_uid, st.st_gid) != (b.st_mode, b.st_uid, b.st_gid):
            return
        os.rmdir(host)
        path = os.path.dirname(path)
