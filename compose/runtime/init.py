"""The container init (process C, PID 1 of the new pid namespace) — runs in a single-threaded fork.

``run_init`` is a flat list of named steps (``STEPS``); the first failure is sent to the launcher
as ``{t:"error", step, errno, message}`` and the process exits. After the last step it reports
``ready``, waits for ``go`` and execs the workload (see ``syncproto`` for the exchange).

Order (DESIGN.md, Containers): umask 0022 → netns → unshare mnt/uts/ipc → overlay → mounts →
devices → pivot_root → console → cgroup (the monitor attaches us meanwhile) + cgroup ns → sysctls →
masked/ro paths → ro root → hostname → rlimits → user lookup → capability bounding set →
seccomp (before the uid change unless no_new_privs) → groups/uid/gid → capabilities →
no_new_privs → chdir → ready → wait go → execve.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import platform
import resource
import socket
import struct
import termios
import time
from collections.abc import Callable
from typing import Any

from msgspec import Struct, field

from compose.runtime import caps as capmod, rootfs, safepath, seccomp, syncproto, syscalls as sc
from compose.runtime.execlookup import find_executable, reset_process_state
from compose.runtime.spec import ContainerSpec
from compose.runtime.users import ExecUser, resolve_user


class StepFailed(Exception):
    def __init__(self, step: str, err: BaseException) -> None:
        super().__init__(step)
        self.step, self.err = step, err


class InitContext(Struct):
    spec: ContainerSpec
    sock: socket.socket | None
    cgroup_procs: list[str]
    etc_files: list[tuple[str, str]]
    init_binary: str = ""
    argv: tuple[str, ...] = ()
    caps: frozenset[str] = frozenset()
    console: socket.socket | None = None  # tty: where the pty master goes (to the monitor)
    attached: socket.socket | None = None  # the monitor says "attached" here
    user: ExecUser = field(default_factory=ExecUser)
    env: dict[str, str] = field(default_factory=dict)
    seccomp_filter: bytes = b""  # built before any namespace change (the profile is a host file)

    @property
    def root(self) -> str:
        return str(self.spec.rootfs_dir)


class _Real:
    mount = staticmethod(sc.mount)


REAL = _Real()

RLIMITS = {
    "core": resource.RLIMIT_CORE,
    "cpu": resource.RLIMIT_CPU,
    "data": resource.RLIMIT_DATA,
    "fsize": resource.RLIMIT_FSIZE,
    "locks": 10,
    "memlock": resource.RLIMIT_MEMLOCK,
    "msgqueue": resource.RLIMIT_MSGQUEUE,
    "nice": resource.RLIMIT_NICE,
    "nofile": resource.RLIMIT_NOFILE,
    "nproc": resource.RLIMIT_NPROC,
    "rss": resource.RLIMIT_RSS,
    "rtprio": resource.RLIMIT_RTPRIO,
    "rttime": resource.RLIMIT_RTTIME,
    "sigpending": resource.RLIMIT_SIGPENDING,
    "stack": resource.RLIMIT_STACK,
    "as": resource.RLIMIT_AS,
}


def join_cgroup(ctx: InitContext) -> None:
    """The monitor moves us into the cgroup while we mount (that write can wait for an RCU grace
    period on cgroup v1); wait for its word, then make that cgroup the cgroup namespace's root."""
    if ctx.attached is not None:
        if ctx.attached.recv(16) != b"attached":
            raise OSError(errno.EIO, "the monitor could not attach the cgroup")
        ctx.attached.close()
    else:
        for path in ctx.cgroup_procs:
            with open(path, "w") as f:
                f.write("0")
    sc.unshare(sc.CLONE_NEWCGROUP)


def mount_cgroupfs(ctx: InitContext) -> None:
    """The container's own cgroup view at /sys/fs/cgroup (read-only unless privileged): JVMs,
    Go and Node runtimes read their limits there."""
    ops, links = rootfs.plan_cgroupfs(_read("/proc/self/cgroup"), not ctx.spec.privileged)
    ro_tmpfs = ops[0].fstype == "tmpfs"
    for op in ops:
        rootfs.apply_op(REAL, "/", op)
    for target, name in links:
        os.symlink(target, name)
    if ro_tmpfs:
        sc.mount(
            None,
            "/sys/fs/cgroup",
            None,
            sc.MS_REMOUNT | sc.MS_RDONLY | sc.MS_NOSUID | sc.MS_NODEV | sc.MS_NOEXEC,
        )


def _loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        flags = 0x1 | 0x8 | 0x40  # IFF_UP | IFF_LOOPBACK | IFF_RUNNING
        fcntl.ioctl(s.fileno(), 0x8914, struct.pack("16sh22x", b"lo", flags))  # SIOCSIFFLAGS


CONTAINER_UMASK = 0o022  # runc's default; pycompose's own processes run with 0077


def set_umask(ctx: InitContext) -> None:
    os.umask(CONTAINER_UMASK)


def join_netns(ctx: InitContext) -> None:
    spec = ctx.spec
    if spec.netns_path is not None:
        fd = os.open(spec.netns_path, os.O_RDONLY)
        try:
            sc.setns(fd, sc.CLONE_NEWNET)
        finally:
            os.close(fd)
    elif not spec.host_network:
        sc.unshare(sc.CLONE_NEWNET)
        _loopback_up()


def unshare_namespaces(ctx: InitContext) -> None:
    ipc = ctx.spec.ipc_mode
    sc.unshare(sc.CLONE_NEWNS | sc.CLONE_NEWUTS | (0 if ipc else sc.CLONE_NEWIPC))
    if ipc and ipc != "host":
        fd = os.open(ipc, os.O_RDONLY)
        try:
            sc.setns(fd, sc.CLONE_NEWIPC)
        finally:
            os.close(fd)
    sc.mount(None, "/", None, sc.MS_SLAVE | sc.MS_REC)


def mount_overlay(ctx: InitContext) -> None:
    spec = ctx.spec
    fds = [os.open(p, os.O_PATH | os.O_DIRECTORY) for p in spec.layers]
    cwd = os.open(".", os.O_PATH | os.O_DIRECTORY)
    try:
        os.chdir("/proc/self/fd")
        opts = rootfs.overlay_options(fds, spec.upper_dir, spec.work_dir, spec.overlay_options)
        sc.mount("overlay", ctx.root, "overlay", 0, opts)
    finally:
        os.fchdir(cwd)
        for fd in [*fds, cwd]:
            os.close(fd)


def mount_all(ctx: InitContext) -> None:
    for op in rootfs.plan_mounts(ctx.spec, ctx.etc_files, ctx.init_binary):
        _step(op.step, _mounter(op), ctx)


def _mounter(op: rootfs.MountOp) -> Callable[[InitContext], None]:
    return lambda c: rootfs.apply_op(REAL, c.root, op)


def make_devices(ctx: InitContext) -> None:
    rootfs.make_devices(ctx.root)


def pivot_root(ctx: InitContext) -> None:
    rootfs.pivot(REAL, ctx.root)


def open_pty(ptmx: str) -> tuple[int, str]:
    """A new pty in the devpts instance of ``ptmx``: (master fd, slave path next to it)."""
    master = os.open(ptmx, os.O_RDWR | os.O_NOCTTY)
    fcntl.ioctl(master, 0x40045431, struct.pack("i", 0))  # TIOCSPTLCK: unlock
    number = struct.unpack("i", fcntl.ioctl(master, 0x80045430, b"\0" * 4))[0]  # TIOCGPTN
    return master, f"{os.path.dirname(ptmx)}/{number}"


def setup_console(ctx: InitContext) -> None:
    """tty: a pty from the container's devpts as stdio, controlling tty and /dev/console."""
    if ctx.console is None:
        return
    master, slave_path = open_pty("/dev/pts/ptmx")
    slave = os.open(slave_path, os.O_RDWR)
    with safepath.closing(safepath.open_root("/")) as root:
        os.close(rootfs.target_fd(root, "/dev/console", "file"))
    sc.mount(slave_path, "/dev/console", None, sc.MS_BIND)
    socket.send_fds(ctx.console, [b"m"], [master])
    os.close(master)
    ctx.console.close()
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    for target in (0, 1, 2):
        os.dup2(slave, target)
    os.close(slave)


def write_sysctls(ctx: InitContext) -> None:
    for key, value in ctx.spec.sysctls:
        with open("/proc/sys/" + key.replace(".", "/"), "w") as f:
            f.write(str(value))


def mask_paths(ctx: InitContext) -> None:
    if not ctx.spec.privileged:
        rootfs.mask_paths(REAL)


def readonly_root(ctx: InitContext) -> None:
    if ctx.spec.read_only:
        sc.mount(None, "/", None, sc.MS_BIND | sc.MS_REMOUNT | sc.MS_RDONLY)


def set_hostname(ctx: InitContext) -> None:
    """The spec's hostname, else (never the host's) the first 12 hex of sha256(id)."""
    sc.sethostname(ctx.spec.hostname or hashlib.sha256(ctx.spec.id.encode()).hexdigest()[:12])
    if ctx.spec.domainname:
        sc.setdomainname(ctx.spec.domainname)


def set_oom_score_adj(ctx: InitContext) -> None:
    """Lowering it below the current value needs CAP_SYS_RESOURCE (refused, not clamped)."""
    if ctx.spec.oom_score_adj is not None:
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write(str(ctx.spec.oom_score_adj))


def set_rlimits(ctx: InitContext) -> None:
    for lim in ctx.spec.limits.ulimits:
        res = RLIMITS[lim.name]
        _soft, hard_now = resource.getrlimit(res)
        cap = hard_now if hard_now != resource.RLIM_INFINITY else lim.hard
        hard = min(lim.hard, cap) if lim.hard >= 0 else cap
        resource.setrlimit(res, (min(lim.soft, hard) if lim.soft >= 0 else hard, hard))


def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return ""


def lookup_user(ctx: InitContext) -> None:
    spec = ctx.spec
    ctx.user = resolve_user(spec.user, _read("/etc/passwd"), _read("/etc/group"), spec.group_add)
    ctx.env = dict(e.split("=", 1) for e in spec.env if "=" in e)
    ctx.env.setdefault("HOME", ctx.user.home)


def create_workdir(ctx: InitContext) -> None:
    os.makedirs(ctx.spec.workdir, exist_ok=True)


def drop_bounding(ctx: InitContext) -> None:
    keep = capmod.mask(ctx.caps)
    for cap in range(capmod.last_cap() + 1):
        if not keep & (1 << cap):
            sc.prctl(sc.PR_CAPBSET_DROP, cap)
    sc.prctl(sc.PR_CAP_AMBIENT, sc.PR_CAP_AMBIENT_CLEAR_ALL)


def seccomp_filter(spec: ContainerSpec, caps: frozenset[str]) -> bytes:
    """The filter's program for this container (b"": none), built while host files are still
    reachable: the zygote's forks inherit the common ones already built."""
    if not spec.seccomp or spec.privileged or not seccomp.supported():
        return b""
    return seccomp.program_bytes(spec.seccomp_profile, platform.machine(), caps)


def seccomp_early(ctx: InitContext) -> None:
    if ctx.seccomp_filter and not ctx.spec.no_new_privileges:
        seccomp.install(ctx.seccomp_filter)


def set_user(ctx: InitContext) -> None:
    user = ctx.user
    os.setgroups(list(user.groups))
    os.setresgid(user.gid, user.gid, user.gid)
    os.setresuid(user.uid, user.uid, user.uid)


def set_capabilities(ctx: InitContext) -> None:
    if ctx.user.uid == 0:
        keep = capmod.mask(ctx.caps) & _permitted()
        sc.capset(keep, keep, 0)


def _permitted() -> int:
    for line in _read("/proc/self/status").splitlines():
        if line.startswith("CapPrm:"):
            return int(line.split()[1], 16)
    return 0


def no_new_privs(ctx: InitContext) -> None:
    if ctx.spec.no_new_privileges:
        sc.prctl(sc.PR_SET_NO_NEW_PRIVS, 1)
        if ctx.seccomp_filter:
            seccomp.install(ctx.seccomp_filter)


def change_dir(ctx: InitContext) -> None:
    os.chdir(ctx.spec.workdir)


STEPS: list[tuple[str, Callable[[InitContext], None]]] = [
    ("umask", set_umask),
    ("join network namespace", join_netns),
    ("unshare namespaces", unshare_namespaces),
    ("mount rootfs", mount_overlay),
    ("mounts", mount_all),
    ("create devices", make_devices),
    ("pivot_root", pivot_root),
    ("console", setup_console),
    ("join cgroup", join_cgroup),
    ("mount cgroupfs", mount_cgroupfs),
    ("sysctl", write_sysctls),
    ("mask paths", mask_paths),
    ("read-only rootfs", readonly_root),
    ("sethostname", set_hostname),
    ("rlimits", set_rlimits),
    ("oom_score_adj", set_oom_score_adj),
    ("resolve user", lookup_user),
    ("create working dir", create_workdir),
    ("capabilities", drop_bounding),
    ("seccomp", seccomp_early),
    ("set user", set_user),
    ("capabilities", set_capabilities),
    ("no_new_privs", no_new_privs),
    ("chdir", change_dir),
]


def _step(name: str, fn: Callable[[InitContext], None], ctx: InitContext) -> None:
    try:
        fn(ctx)
    except StepFailed:
        raise
    except Exception as err:
        raise StepFailed(name, err) from err


def exec_workload(ctx: InitContext) -> None:
    argv = list(ctx.argv)
    try:
        path = find_executable(argv[0], ctx.env)
        reset_process_state()
        os.execve(path, argv, ctx.env)
    except OSError as err:
        msg = err.strerror or str(err)
        if not msg.startswith("exec:"):
            msg = f'exec: "{argv[0]}": {msg.lower()}'
        if ctx.sock is None:
            os.write(2, f"{msg}\n".encode())
        else:
            syncproto.send(ctx.sock, "error", step="exec", errno=err.errno or 0, message=msg)
        os._exit(126 if err.errno == errno.EACCES else 127)


def run_init(ctx: InitContext) -> None:
    """Never returns: execs the workload or exits 127 after reporting the failed step."""
    assert ctx.sock is not None
    timings = []
    try:
        for name, fn in STEPS:
            t0 = time.perf_counter()
            _step(name, fn, ctx)
            timings.append((name, round((time.perf_counter() - t0) * 1000, 3)))
        syncproto.send(ctx.sock, "ready", timings=timings)
        msg = syncproto.recv(ctx.sock)
    except StepFailed as failed:
        syncproto.send_error(ctx.sock, failed.step, failed.err)
        os._exit(127)
    if not msg or msg.get("t") != "go":
        os._exit(127)
    exec_workload(ctx)


def context_from_request(req: dict[str, Any], sock: socket.socket) -> InitContext:
    with open(req["spec_file"]) as f:
        spec = ContainerSpec.from_dict(json.load(f))
    caps = capmod.effective_set(spec.cap_add, spec.cap_drop, spec.privileged)
    return InitContext(
        spec=spec,
        sock=sock,
        cgroup_procs=list(req.get("cgroup_procs", ())),
        etc_files=[tuple(x) for x in req.get("etc_files", ())],
        init_binary=req.get("init_binary", ""),
        argv=((rootfs.INIT_PATH, "--") if spec.init else ()) + spec.argv,
        caps=caps,
        seccomp_filter=seccomp_filter(spec, caps),
    )
