"""Mount planning without root: paths resolved in the root, the planned mounts, applying them
to a recorder."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from compose.runtime import rootfs, safepath, syscalls as sc
from compose.runtime.spec import ContainerSpec, Limits, Mount


class RecordingSyscalls:
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def mount(self, source, target, fstype, flags=0, data=None) -> None:
        # the runtime mounts through /proc/self/fd/N: record the path the fd names
        self.calls.append((source, os.readlink(target), fstype, flags, data))


def _made(root: Path, path: str, kind: str) -> str:
    with safepath.closing(safepath.open_root(str(root))) as root_fd:
        fd = rootfs.target_fd(root_fd, path, kind)
        try:
            return os.readlink(safepath.fd_path(fd))
        finally:
            os.close(fd)


def test_targets_are_made_inside_the_root(tmp_path: Path):
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    os.symlink("/etc", root / "abs")
    os.symlink("../../../../outside", root / "etc/rel")
    os.symlink("loop", root / "loop")
    os.symlink(str(tmp_path / "host"), root / "dangling")  # a host path, dangling in the root
    r = str(root)
    assert _made(root, "/abs/passwd", "file") == f"{r}/etc/passwd"
    assert _made(root, "/etc/rel/x", "dir") == f"{r}/outside/x"
    assert _made(root, "/../../x", "dir") == f"{r}/x"
    assert _made(root, "/dangling/y", "file") == f"{r}{tmp_path}/host/y"
    assert not (tmp_path / "host").exists()
    assert (root / "etc").stat().st_mode & 0o777 != 0o644  # parents are dirs, not file modes
    _made(root, "/run/secrets/token", "file")
    umask = os.umask(0)
    os.umask(umask)
    assert (root / "run/secrets").stat().st_mode & 0o777 == 0o755 & ~umask
    with pytest.raises(OSError) as err:
        _made(root, "/loop/x", "dir")
    assert err.value.errno == errno.ELOOP


def test_a_long_symlink_chain_is_refused_not_followed_raw(tmp_path: Path):
    """Review gap 7: after 255 links the old resolver used the raw path on the host."""
    root = tmp_path / "root"
    root.mkdir()
    os.symlink("/l1", root / "a")
    for i in range(1, 255):
        os.symlink(f"/l{i + 1}", root / f"l{i}")
    os.symlink(str(tmp_path / "escape"), root / "l255")
    with pytest.raises(OSError) as err:
        _made(root, "/a/created-on-host", "dir")
    assert err.value.errno == errno.ELOOP
    assert not (tmp_path / "escape").exists()


def _spec(tmp_path: Path, **fields) -> ContainerSpec:
    return ContainerSpec(
        id="p-s-1", layers=(tmp_path,), replica_dir=tmp_path / "r", argv=("true",), **fields
    )


def test_plan_order_and_flags(tmp_path: Path):
    vol = tmp_path / "vol"
    vol.mkdir()
    spec = _spec(
        tmp_path,
        limits=Limits(shm_size=1 << 20),
        mounts=(
            Mount("/data", source=str(vol), read_only=True),
            Mount("/run", type="tmpfs", size=4096, mode=0o755),
        ),
    )
    ops = rootfs.plan_mounts(spec, [("/etc/hosts", "/x/hosts")], init_binary="/usr/bin/tini")
    assert [op.target for op in ops] == [
        "/proc",
        "/dev",
        "/dev/pts",
        "/dev/shm",
        "/dev/mqueue",
        "/sys",
        "/data",
        "/run",
        "/etc/hosts",
        rootfs.INIT_PATH,
    ]
    shm = ops[3]
    assert shm.data == "mode=1777,size=1048576"
    assert ops[5].flags & sc.MS_RDONLY
    data = ops[6]
    assert data.remount_ro and data.create == "dir" and data.flags == sc.MS_BIND | sc.MS_REC
    assert ops[7].data == "size=4096,mode=755"
    assert ops[7].flags == sc.MS_NOEXEC | sc.MS_NOSUID | sc.MS_NODEV  # docker's default
    assert ops[9].remount_ro and ops[9].create == "file"


def test_tmpfs_options_merge_as_dockers():
    """noexec,nosuid,nodev unless the words say otherwise; the last word of each wins."""
    nosuid_nodev = sc.MS_NOSUID | sc.MS_NODEV
    assert rootfs.tmpfs_options([]) == (sc.MS_NOEXEC | nosuid_nodev, "")
    assert rootfs.tmpfs_options(["size=1m", "exec", "uid=1000", "size=2m"]) == (
        nosuid_nodev,
        "uid=1000,size=2m",
    )
    assert (
        rootfs.tmpfs_options(["exec", "noexec", "ro"])[0]
        == sc.MS_RDONLY | sc.MS_NOEXEC | nosuid_nodev
    )
    with pytest.raises(ValueError, match="invalid tmpfs option 'bogus=1'"):
        rootfs.tmpfs_options(["bogus=1"])


def test_apply_creates_targets_inside_the_root_and_remounts_ro(tmp_path: Path):
    root = tmp_path / "root"
    root.mkdir()
    os.symlink("/elsewhere", root / "data")  # a hostile image symlink
    op = rootfs.MountOp(
        "mount volume /data/x",
        "/src",
        "/data/x",
        None,
        sc.MS_BIND,
        remount_ro=True,
        propagation=sc.MS_PRIVATE,
    )
    rec = RecordingSyscalls()
    rootfs.apply_op(rec, str(root), op)
    target = f"{root}/elsewhere/x"
    assert Path(target).is_dir()
    assert rec.calls == [
        ("/src", target, None, sc.MS_BIND, None),
        (None, target, None, sc.MS_BIND | sc.MS_REMOUNT | sc.MS_RDONLY | sc.MS_BIND, None),
        (None, target, None, sc.MS_PRIVATE, None),
    ]


def test_overlay_options_are_relative_and_topmost_first():
    opts = rootfs.overlay_options([10, 11, 12], Path("/r/upper"), Path("/r/work"))
    assert opts == "lowerdir=12:11:10,upperdir=/r/upper,workdir=/r/work"
    assert len(rootfs.overlay_options(list(range(10, 510)), Path("/u"), Path("/w"))) < 4096


def test_cgroupfs_plan_for_v1_hybrid_and_v2():
    hybrid = "9:name=systemd:/\n8:cpu,cpuacct:/\n6:freezer:/\n4:memory:/x\n1:name=foo:/\n0::/\n"
    ops, links = rootfs.plan_cgroupfs(hybrid)
    assert [(op.target, op.fstype, op.data) for op in ops] == [
        ("/sys/fs/cgroup", "tmpfs", "mode=755"),
        ("/sys/fs/cgroup/cpu,cpuacct", "cgroup", "cpu,cpuacct"),
        ("/sys/fs/cgroup/memory", "cgroup", "memory"),
    ]
    assert all(op.flags & sc.MS_RDONLY for op in ops[1:])
    assert links == [
        ("cpu,cpuacct", "/sys/fs/cgroup/cpu"),
        ("cpu,cpuacct", "/sys/fs/cgroup/cpuacct"),
    ]
    ops, links = rootfs.plan_cgroupfs("0::/\n", read_only=False)
    assert [(op.fstype, op.flags & sc.MS_RDONLY) for op in ops] == [("cgroup2", 0)] and not links
