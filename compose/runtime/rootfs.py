"""The container's filesystem: mount planning (pure) and applying it through a ``Syscalls`` seam.

``plan_mounts`` returns the ordered ``MountOp`` list for everything mounted before pivot_root;
``apply_op`` executes one with any object that has the ``Syscalls`` methods, so the plan is
unit-tested with a recording fake and no root. Targets are resolved and created inside the
rootfs (``safepath``, openat2 RESOLVE_IN_ROOT) and mounted through their fd
(``/proc/self/fd/N``): a symlink in the image, or one a container planted in its own upper dir
for its next start, can never point a mount, a mkdir or a mknod at the host.

Many layers: overlay's options must fit in one page. The init opens every layer dir as an fd,
chdirs to /proc/self/fd and passes ``lowerdir=12:11:10`` (relative, 2-4 bytes per layer).
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol

from msgspec import Struct

from compose.runtime import safepath, syscalls as sc
from compose.runtime.spec import ContainerSpec, Mount

MASKED_PATHS = (
    "/proc/asound",
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
)
READONLY_PATHS = ("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger")

# name, type, major, minor (mode 0666 like runc's default devices)
DEVICES = (
    ("null", stat.S_IFCHR, 1, 3),
    ("zero", stat.S_IFCHR, 1, 5),
    ("full", stat.S_IFCHR, 1, 7),
    ("random", stat.S_IFCHR, 1, 8),
    ("urandom", stat.S_IFCHR, 1, 9),
    ("tty", stat.S_IFCHR, 5, 0),
)
DEV_SYMLINKS = (
    ("/proc/self/fd", "fd"),
    ("/proc/self/fd/0", "stdin"),
    ("/proc/self/fd/1", "stdout"),
    ("/proc/self/fd/2", "stderr"),
    ("pts/ptmx", "ptmx"),
    ("/proc/kcore", "core"),
)
INIT_PATH = "/sbin/docker-init"
_NOSUID_NODEV_NOEXEC = sc.MS_NOSUID | sc.MS_NODEV | sc.MS_NOEXEC


class Syscalls(Protocol):
    def mount(
        self,
        source: str | None,
        target: str,
        fstype: str | None,
        flags: int = 0,
        data: str | None = None,
    ) -> None: ...


class MountOp(Struct, frozen=True):
    step: str  # how an error names it: "mount /proc", "mount volume /data"
    source: str | None
    target: str  # path inside the container
    fstype: str | None
    flags: int = 0
    data: str | None = None
    create: str = "dir"  # "dir" | "file" | "" (the target must exist)
    remount_ro: bool = False
    propagation: int = 0
    subpath: str = ""  # bind ``source``/subpath, resolved inside ``source`` (volume subpath)


def _shm_op(spec: ContainerSpec) -> MountOp:
    """``ipc: host`` shares the host's /dev/shm. Another container's /dev/shm lives in its
    private mount namespace, which the kernel won't bind from (EINVAL): with a container's ipc
    namespace only SysV IPC is shared, /dev/shm stays the container's own."""
    if spec.ipc_mode == "host":
        return MountOp("mount /dev/shm", "/dev/shm", "/dev/shm", None, sc.MS_BIND | sc.MS_REC)
    shm = f"mode=1777,size={spec.limits.shm_size}"
    return MountOp("mount /dev/shm", "shm", "/dev/shm", "tmpfs", _NOSUID_NODEV_NOEXEC, shm)


def _base_ops(spec: ContainerSpec) -> list[MountOp]:
    ro = sc.MS_RDONLY | _NOSUID_NODEV_NOEXEC
    return [
        MountOp("mount /proc", "proc", "/proc", "proc", _NOSUID_NODEV_NOEXEC),
        MountOp("mount /dev", "tmpfs", "/dev", "tmpfs", sc.MS_NOSUID, "mode=755,size=65536k"),
        MountOp(
            "mount /dev/pts",
            "devpts",
            "/dev/pts",
            "devpts",
            sc.MS_NOSUID | sc.MS_NOEXEC,
            "newinstance,ptmxmode=0666,mode=0620,gid=5",
        ),
        _shm_op(spec),
        MountOp("mount /dev/mqueue", "mqueue", "/dev/mqueue", "mqueue", _NOSUID_NODEV_NOEXEC),
        MountOp("mount /sys", "sysfs", "/sys", "sysfs", 0 if spec.privileged else ro),
    ]


# Docker's tmpfs options (moby/sys/mount flags.go): word -> (flag, set it); the last word of
# a flag wins over Docker's defaults noexec,nosuid,nodev (``tmpfs: /x:exec`` makes it exec)
_TMPFS_FLAGS = {
    "ro": (sc.MS_RDONLY, True),
    "rw": (sc.MS_RDONLY, False),
    "nosuid": (sc.MS_NOSUID, True),
    "suid": (sc.MS_NOSUID, False),
    "nodev": (sc.MS_NODEV, True),
    "dev": (sc.MS_NODEV, False),
    "noexec": (sc.MS_NOEXEC, True),
    "exec": (sc.MS_NOEXEC, False),
    "sync": (16, True),
    "async": (16, False),
    "dirsync": (128, True),
    "mand": (64, True),
    "nomand": (64, False),
    "noatime": (1024, True),
    "atime": (1024, False),
    "nodiratime": (2048, True),
    "diratime": (2048, False),
    "relatime": (1 << 21, True),
    "norelatime": (1 << 21, False),
    "strictatime": (1 << 24, True),
    "nostrictatime": (1 << 24, False),
}
_TMPFS_DATA = ("size", "mode", "uid", "gid", "nr_inodes", "nr_blocks", "mpol")
TMPFS_DEFAULTS = ("noexec", "nosuid", "nodev")


def tmpfs_options(words: Sequence[str]) -> tuple[int, str]:
    """(mount flags, data) of a tmpfs with options ``words`` after Docker's defaults, merged
    as Docker's MergeTmpfsOptions does: the last word of each flag and of each data key wins.
    ValueError names a word Docker rejects."""
    flags = 0
    data: dict[str, str] = {}
    for word in (*TMPFS_DEFAULTS, *words):
        if word in ("", "defaults"):
            continue
        if word in _TMPFS_FLAGS:
            bit, on = _TMPFS_FLAGS[word]
            flags = flags | bit if on else flags & ~bit
            continue
        key, eq, _ = word.partition("=")
        if not eq or key not in _TMPFS_DATA:
            raise ValueError(f"invalid tmpfs option {word!r}")
        data.pop(key, None)
        data[key] = word
    return flags, ",".join(data.values())


def _user_op(m: Mount) -> MountOp:
    if m.type == "tmpfs":
        size = [f"size={m.size}"] if m.size else []
        mode = [f"mode={m.mode:o}"] if m.mode else []
        flags, data = tmpfs_options([*size, *mode, *(["ro"] if m.read_only else []), *m.options])
        return MountOp(f"mount tmpfs {m.target}", "tmpfs", m.target, "tmpfs", flags, data or None)
    kind = "dir" if source_is_dir(m.source, m.subpath) else "file"
    prop = sc.PROPAGATION.get(m.propagation, sc.MS_PRIVATE | sc.MS_REC)
    return MountOp(
        f"mount volume {m.target}",
        m.source,
        m.target,
        None,
        sc.MS_BIND | sc.MS_REC,
        create=kind,
        remount_ro=m.read_only,
        propagation=prop,
        subpath=m.subpath,
    )


def source_is_dir(source: str, subpath: str = "") -> bool:
    """Is the bind source (``subpath`` resolved inside ``source``) a directory? Raises
    FileNotFoundError when a ``subpath`` is missing."""
    if not subpath:
        return os.path.isdir(source)
    with safepath.closing(safepath.open_root(source)) as root:
        with safepath.closing(safepath.open_in_root(root, subpath)) as fd:
            return stat.S_ISDIR(os.fstat(fd).st_mode)


def _bind(step: str, source: str, target: str, read_only: bool) -> MountOp:
    return MountOp(step, source, target, None, sc.MS_BIND, create="file", remount_ro=read_only)


def plan_mounts(
    spec: ContainerSpec, etc_files: Sequence[tuple[str, str]], init_binary: str = ""
) -> list[MountOp]:
    """Everything mounted under the new root before pivot_root, in order."""
    ops = _base_ops(spec)
    ops += [_user_op(m) for m in spec.mounts]
    ops += [_bind(f"mount {target}", src, target, False) for target, src in etc_files]
    if init_binary:
        ops.append(_bind("mount init", init_binary, INIT_PATH, True))
    return ops


def target_fd(root_fd: int, path: str, kind: str) -> int:
    """O_PATH fd of ``path`` inside the root: created as ``kind`` ("dir", "file") if missing;
    ``kind`` "" wants it to exist."""
    if kind == "dir":
        return safepath.makedirs_in_root(root_fd, path, 0o755)
    if kind == "file":
        return safepath.create_file_in_root(root_fd, path, 0o644)
    return safepath.open_in_root(root_fd, path)


@contextlib.contextmanager
def _source(op: MountOp) -> Iterator[str | None]:
    """The mount's source; with a ``subpath`` its fd, resolved inside the source (a volume the
    containers write to: a symlink planted there cannot point the bind at the host)."""
    if not op.subpath or op.source is None:
        yield op.source
        return
    with safepath.closing(safepath.open_root(op.source)) as root:
        with safepath.closing(safepath.open_in_root(root, op.subpath)) as fd:
            yield safepath.fd_path(fd)


def apply_op(sys: Syscalls, root: str, op: MountOp) -> None:
    """Mount ``op`` at its target inside ``root``. The remount and the propagation change open
    the target again: it is then the new mount's root."""
    with safepath.closing(safepath.open_root(root)) as root_fd:
        with (
            _source(op) as source,
            safepath.closing(target_fd(root_fd, op.target, op.create)) as fd,
        ):
            sys.mount(source, safepath.fd_path(fd), op.fstype, op.flags, op.data)
        if not (op.remount_ro or op.propagation):
            return
        with safepath.closing(target_fd(root_fd, op.target, "")) as fd:
            target = safepath.fd_path(fd)
            if op.remount_ro:
                ro = sc.MS_BIND | sc.MS_REMOUNT | sc.MS_RDONLY | op.flags
                sys.mount(None, target, None, ro, None)
            if op.propagation:
                sys.mount(None, target, None, op.propagation, None)


def lower_option(layer_fds: Sequence[int]) -> str:
    """Relative lowerdirs (to /proc/self/fd) of the layers (lowest first), topmost first as
    overlayfs wants."""
    return "lowerdir=" + ":".join(str(fd) for fd in reversed(layer_fds))


def overlay_options(layer_fds: Sequence[int], upper: Path, work: Path, extra: str = "") -> str:
    options = f"{lower_option(layer_fds)},upperdir={upper},workdir={work}"
    return options + (f",{extra}" if extra else "")


def make_devices(root: str) -> None:
    """The device nodes and links in the container's /dev (the tmpfs mounted there, found
    inside the rootfs: an image's ``/dev`` symlink cannot send them to the host)."""
    with safepath.closing(safepath.open_root(root)) as root_fd:
        with safepath.closing(safepath.open_in_root(root_fd, "/dev", os.O_PATH)) as dev:
            for name, kind, major, minor in DEVICES:
                os.mknod(name, kind | 0o666, os.makedev(major, minor), dir_fd=dev)
                os.chmod(name, 0o666, dir_fd=dev)
            for target, name in DEV_SYMLINKS:
                os.symlink(target, name, dir_fd=dev)


def mask_paths(sys: Syscalls) -> None:
    """After pivot_root: hide MASKED_PATHS and make READONLY_PATHS read-only."""
    for path in MASKED_PATHS:
        if not os.path.exists(path):
            continue
        if os.path.isdir(path):
            sys.mount("tmpfs", path, "tmpfs", sc.MS_RDONLY, None)
        else:
            sys.mount("/dev/null", path, None, sc.MS_BIND, None)
    for path in READONLY_PATHS:
        if os.path.exists(path):
            sys.mount(path, path, None, sc.MS_BIND | sc.MS_REC, None)
            sys.mount(None, path, None, sc.MS_BIND | sc.MS_REMOUNT | sc.MS_RDONLY | sc.MS_REC, None)


def pivot(sys_pivot: Syscalls, root: str) -> None:
    """runc's pivot_root(".", ".") without a put_old directory, then detach the old root."""
    old = os.open("/", os.O_DIRECTORY | os.O_RDONLY)
    new = os.open(root, os.O_DIRECTORY | os.O_RDONLY)
    try:
        os.fchdir(new)
        sc.pivot_root(".", ".")
        os.fchdir(old)
        sys_pivot.mount(None, ".", None, sc.MS_SLAVE | sc.MS_REC, None)
        sc.umount2(".", sc.MNT_DETACH)
        os.chdir("/")
    finally:
        os.close(old)
        os.close(new)


# what language runtimes read (JVM, Go automaxprocs, Node, .NET); each v1 mount costs time at
# start and at teardown, so freezer/devices/blkio/systemd/... are left out
RUNTIME_CONTROLLERS = {"memory", "cpu", "cpuacct", "cpuset", "pids"}


def plan_cgroupfs(
    proc_cgroup: str, read_only: bool = True
) -> tuple[list[MountOp], list[tuple[str, str]]]:
    """/sys/fs/cgroup inside the container (after the cgroup namespace exists), like runc:
    cgroup2 on a unified host; on v1 a tmpfs with one mount per hierarchy holding one of
    RUNTIME_CONTROLLERS (+ symlinks for co-mounted controllers such as cpu,cpuacct).
    Returns (mounts, (link target, link name))."""
    ro = sc.MS_RDONLY if read_only else 0
    flags = ro | _NOSUID_NODEV_NOEXEC
    lines = [line for line in proc_cgroup.splitlines() if line.count(":") >= 2]
    hierarchies = [line.split(":", 2)[1] for line in lines]
    v1 = [h for h in hierarchies if set(h.split(",")) & RUNTIME_CONTROLLERS]
    if not v1:
        return [MountOp("mount /sys/fs/cgroup", "cgroup2", "/sys/fs/cgroup", "cgroup2", flags)], []
    ops = [
        MountOp(
            "mount /sys/fs/cgroup",
            "tmpfs",
            "/sys/fs/cgroup",
            "tmpfs",
            _NOSUID_NODEV_NOEXEC,
            "mode=755",
        )
    ]
    links = []
    for h in v1:
        ops.append(
            MountOp(
                f"mount /sys/fs/cgroup/{h}", "cgroup", f"/sys/fs/cgroup/{h}", "cgroup", flags, h
            )
        )
        if "," in h:
            links += [(h, f"/sys/fs/cgroup/{part}") for part in h.split(",")]
    return ops, links
