"""The host boundary at the runtime (the security review's gaps 7, 8, 10 and 13 and its "what
is solid" probes): each test tries the attack and asserts on the host."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import pytest

from compose.errors import ContainerError
from compose.runtime.launcher import ContainerStepError
from compose.runtime.spec import Mount

pytestmark = [pytest.mark.privileged, pytest.mark.timeout(90)]


def _links(target: str, count: int) -> str:
    """A shell script making /a the start of a ``count``-link chain ending at ``target``."""
    lines = ["mv /a /a.old 2>/dev/null; ln -s /l1 /a"]
    lines += [f"ln -s /l{i + 1} /l{i}" for i in range(1, count)]
    lines.append(f"ln -s {target} /l{count}")
    return "; ".join(lines)


@pytest.mark.parametrize("count", [3, 255])
def test_a_container_that_rewrote_its_rootfs_cannot_aim_the_next_start_at_the_host(
    make_spec, containers, tmp_path, count
):
    """Gap 7: after 255 links the resolver used the raw path; the next start made files and
    dirs at host paths. Now a short chain resolves inside the rootfs, a long one is refused."""
    escape = tmp_path / "escape"
    escape.mkdir()
    (tmp_path / "f.txt").write_text("bind\n")
    first = make_spec(["sh", "-c", _links(str(escape), count)])
    status, _, err = containers.run_to_exit(first)
    assert status.code == 0, err
    again = make_spec(
        ["true"],
        replica_dir=first.replica_dir,  # the same upper dir: a restart
        mounts=(
            Mount("/a/created-on-host.txt", source=str(tmp_path / "f.txt")),
            Mount("/a/dir-created-on-host", type="tmpfs"),
        ),
    )
    if count == 3:
        status, _, err = containers.run_to_exit(again)
        assert status.code == 0, err
        inside = first.upper_dir / str(escape).lstrip("/")
        assert (inside / "created-on-host.txt").exists()  # where the link leads in the rootfs
    else:
        with pytest.raises(ContainerStepError, match="Too many levels of symbolic links"):
            containers.create(again)
    assert list(escape.iterdir()) == []  # nothing made on the host


def test_an_image_dev_symlink_cannot_send_the_device_nodes_to_the_host(
    make_spec, containers, tmp_path, busybox_layers
):
    host_dir = tmp_path / "hostdev"
    host_dir.mkdir()
    evil = tmp_path / "evil-layer"
    evil.mkdir()
    os.symlink(str(host_dir), evil / "dev")  # the image's /dev -> a host directory
    spec = make_spec(["sh", "-c", "ls /dev/null && echo ok"], layers=(*busybox_layers, evil))
    status, out, err = containers.run_to_exit(spec)
    assert (status.code, out.split()) == (0, ["/dev/null", "ok"]), err
    assert list(host_dir.iterdir()) == []


@pytest.mark.parametrize(
    "fields, key",
    [
        ({"ipc_mode": "host"}, "kernel.msgmax"),
        ({"ipc_mode": "host"}, "fs.mqueue.msg_max"),
        ({"ipc_mode": "/proc/self/ns/ipc"}, "kernel.shmmni"),  # a joined ns that is the host's
        ({"netns_path": Path("/proc/self/ns/net")}, "net.ipv4.ip_unprivileged_port_start"),
    ],
)
def test_a_namespaced_sysctl_in_a_namespace_shared_with_the_host_is_refused(
    make_spec, containers, fields, key
):
    """Gap 8: ipc: host + kernel.msgmax changed the host's value (runc refuses)."""
    path = Path("/proc/sys") / key.replace(".", "/")
    before = path.read_text()
    value = str(int(before.split()[0]) + 1)
    spec = make_spec(["cat", str(path)], sysctls=((key, value),), **fields)
    try:
        with pytest.raises(ContainerError, match=f"sysctl '{key}' is not allowed in the host's"):
            containers.create(spec)
    finally:
        after = path.read_text()
        if after != before:  # a regression changed the host: put it back, then fail
            path.write_text(before)
    assert after == before


def test_the_same_sysctl_in_the_containers_own_namespace_is_applied(make_spec, containers):
    status, out, _ = containers.run_to_exit(
        make_spec(["cat", "/proc/sys/kernel/msgmax"], sysctls=(("kernel.msgmax", "8193"),))
    )
    assert (status.code, out.strip()) == (0, "8193")


def _hierarchies() -> list[str]:
    return [line.split(":", 2)[1] for line in Path("/proc/self/cgroup").read_text().splitlines()]


def test_a_container_is_in_its_own_cgroup_in_every_hierarchy(make_spec, containers):
    """Gap 10: v1 containers stayed in the root blkio, cpuset, hugetlb and systemd cgroups."""
    handle = containers.run(make_spec(["sleep", "30"]))
    lines = Path(f"/proc/{handle.pid}/cgroup").read_text().splitlines()
    placed = {line.split(":", 2)[1]: line.split(":", 2)[2] for line in lines}
    assert set(placed) == set(_hierarchies())
    for hierarchy, path in placed.items():
        assert path.endswith(f"/{handle.id}"), (hierarchy, path)
    _, inside, _ = containers.run_to_exit(make_spec(["cat", "/proc/self/cgroup"]))
    assert {line.split(":", 2)[2] for line in inside.splitlines()} == {"/"}  # its cgroupns


def test_the_hosts_cpuset_tree_and_release_agent_stay_hidden(make_spec, containers):
    """The host's root cpuset (its other cgroups, release_agent) showed in every container;
    with SYS_ADMIN a fresh blkio mount reached the host root's release_agent."""
    marker = Path("/sys/fs/cgroup/cpuset") / f"pyc-host-marker-{secrets.token_hex(3)}"
    marker.mkdir()
    try:
        script = (
            "ls /sys/fs/cgroup/cpuset; mkdir /tmp/cg; "
            "mount -t cgroup -o blkio cgroup /tmp/cg && ls /tmp/cg; umount /tmp/cg"
        )
        status, out, err = containers.run_to_exit(
            make_spec(["sh", "-c", script], cap_add=("SYS_ADMIN",))
        )
    finally:
        marker.rmdir()
    assert status.code == 0, err
    assert marker.name not in out
    assert "release_agent" not in out
    assert "blkio.weight" in out or "cgroup.procs" in out  # the mount did work


@pytest.mark.parametrize(
    "script",
    [
        "echo x > /proc/sys/kernel/hostname",
        "echo 1 > /proc/sys/vm/drop_caches",
        "echo x > /sys/kernel/uevent_helper",
        "echo 1 > /sys/fs/cgroup/memory/memory.limit_in_bytes",
    ],
)
def test_proc_sys_sys_and_the_cgroupfs_are_read_only(make_spec, containers, script):
    """What is solid: the read-only /proc/sys, /sys and cgroupfs (EROFS)."""
    status, _, err = containers.run_to_exit(make_spec(["sh", "-c", script]))
    assert status.code != 0
    assert "Read-only file system" in err


def test_masked_proc_paths_read_empty(make_spec, containers):
    script = "wc -c < /proc/keys; ls /proc/acpi 2>/dev/null | wc -l; wc -c < /proc/timer_list"
    status, out, _ = containers.run_to_exit(make_spec(["sh", "-c", script]))
    assert status.code == 0 and set(out.split()) == {"0"}


def test_the_cgroup_namespace_is_the_containers_own(make_spec, containers):
    handle = containers.run(make_spec(["sleep", "30"]))
    assert os.readlink(f"/proc/{handle.pid}/ns/cgroup") != os.readlink("/proc/self/ns/cgroup")


def test_a_subpath_symlink_planted_in_the_volume_cannot_bind_a_host_dir(
    make_spec, containers, tmp_path
):
    """Item 13: volume.subpath is resolved inside the volume, when mounted too."""
    volume = tmp_path / "vol"
    (volume / "sub").mkdir(parents=True)
    (volume / "sub" / "in").write_text("volume\n")
    secret = tmp_path / "hostdir"
    secret.mkdir()
    (secret / "shadow").write_text("host only\n")
    os.symlink(str(secret), volume / "evil")  # planted by a container sharing the volume
    ok = make_spec(["cat", "/data/in"], mounts=(Mount("/data", source=str(volume), subpath="sub"),))
    status, out, _ = containers.run_to_exit(ok)
    assert (status.code, out) == (0, "volume\n")
    evil = make_spec(
        ["sh", "-c", "cat /data/shadow"],
        mounts=(Mount("/data", source=str(volume), subpath="evil"),),
    )
    with pytest.raises(ContainerStepError, match="mounts: No such file or directory"):
        containers.create(evil)  # resolved in the volume: <volume>/<host dir path> is missing
