"""Inside a container: own pid/uts/net/mount view, writes in the upper dir, locked-down kernel."""

from __future__ import annotations

import os

import pytest

from compose.runtime.spec import Limits, Mount, Ulimit

pytestmark = [pytest.mark.privileged, pytest.mark.timeout(60)]


def test_ps_shows_only_its_own_processes_with_workload_as_pid_1(make_spec, containers):
    status, out, _ = containers.run_to_exit(make_spec(["sh", "-c", "ps -o pid,comm; exit 0"]))
    rows = [line.split() for line in out.strip().splitlines()[1:]]
    assert status.code == 0
    assert rows == [["1", "sh"], ["2", "ps"]]  # the workload is PID 1; nothing of the host


def test_hostname_and_domainname_are_its_own(make_spec, containers):
    spec = make_spec(
        ["sh", "-c", "hostname; cat /proc/sys/kernel/domainname; cat /etc/hostname"],
        hostname="web-1",
        domainname="example.test",
    )
    _, out, _ = containers.run_to_exit(spec)
    assert out.split() == ["web-1", "example.test", "web-1"]


def test_host_files_mounts_and_netdevs_are_invisible(make_spec, containers, tmp_path, salt):
    marker = tmp_path / f"host-only-{salt}"
    marker.write_text("secret")
    script = f"test -e {marker} && echo VISIBLE; ls /sys/class/net; cat /proc/mounts"
    _, out, _ = containers.run_to_exit(make_spec(["sh", "-c", script]))
    lines = out.splitlines()
    assert "VISIBLE" not in lines
    assert lines[0] == "lo"
    mounts = [line.split()[1] for line in lines[1:]]
    assert mounts[0] == "/"
    host_only = ("/work", "/sys/fs/cgroup/unified", "/run", "/tmp")
    assert not any(m.startswith(host_only) for m in mounts)


def test_writes_land_in_the_upper_dir_only(make_spec, containers, busybox_layers):
    spec = make_spec(["sh", "-c", "echo new > /newfile && echo changed > /etc/layer2"])
    status, _, _ = containers.run_to_exit(spec)
    assert status.code == 0
    assert (spec.upper_dir / "newfile").read_text() == "new\n"
    assert (spec.upper_dir / "etc/layer2").read_text() == "changed\n"
    assert (busybox_layers[1] / "etc/layer2").read_text() == "from layer 2\n"
    assert not (busybox_layers[1] / "newfile").exists()


@pytest.mark.parametrize(
    ("script", "error"),
    [
        ("echo 1 > /proc/sys/kernel/ns_last_pid", "Read-only file system"),
        ("mount -t tmpfs none /mnt", "permission denied"),  # busybox's wording of EPERM
        ("date -s 2001-01-01", "can't set date: Operation not permitted"),
        ("echo x > /tmp/m.ko && insmod /tmp/m.ko", "Operation not permitted"),
        ("unshare -U true", "Operation not permitted"),
        ("cat /proc/kcore | head -c1 | wc -c", ""),
    ],
)
def test_privileged_operations_fail(make_spec, containers, script, error):
    _, out, err = containers.run_to_exit(make_spec(["sh", "-c", script]))
    if error:
        assert error in err
    else:
        assert out.strip() == "0"  # masked: /proc/kcore reads as /dev/null


def test_default_capabilities_and_seccomp(make_spec, containers):
    script = "grep -E '^(CapEff|CapBnd|Seccomp|NoNewPrivs):' /proc/self/status"
    _, out, _ = containers.run_to_exit(make_spec(["sh", "-c", script]))
    fields = dict(line.split(":\t") for line in out.strip().splitlines())
    assert fields["CapBnd"] == fields["CapEff"] == "00000000a80425fb"  # Docker's default set
    assert fields["Seccomp"] == "2"
    assert fields["NoNewPrivs"] == "0"


def test_cap_drop_add_and_no_new_privileges(make_spec, containers):
    spec = make_spec(
        ["sh", "-c", "grep -E '^(CapEff|NoNewPrivs):' /proc/self/status"],
        cap_drop=("ALL",),
        cap_add=("NET_ADMIN",),
        no_new_privileges=True,
    )
    _, out, _ = containers.run_to_exit(spec)
    fields = dict(line.split(":\t") for line in out.strip().splitlines())
    assert fields["CapEff"] == f"{1 << 12:016x}"
    assert fields["NoNewPrivs"] == "1"


def test_bind_volume_is_shared_with_the_host(make_spec, containers, tmp_path):
    vol = tmp_path / "vol"
    vol.mkdir()
    (vol / "in").write_text("from host\n")
    spec = make_spec(
        ["sh", "-c", "cat /data/in; echo from container > /data/out"],
        mounts=(Mount("/data", source=str(vol)),),
    )
    _, out, _ = containers.run_to_exit(spec)
    assert out == "from host\n"
    assert (vol / "out").read_text() == "from container\n"


def test_read_only_root_with_tmpfs_and_ro_bind(make_spec, containers, tmp_path):
    vol = tmp_path / "ro"
    vol.mkdir()
    script = "touch /x 2>&1; touch /ro/x 2>&1; echo ok > /scratch/f && cat /scratch/f"
    spec = make_spec(
        ["sh", "-c", script],
        read_only=True,
        mounts=(
            Mount("/scratch", type="tmpfs", size=1 << 20),
            Mount("/ro", source=str(vol), read_only=True),
        ),
    )
    _, out, _ = containers.run_to_exit(spec)
    assert out.count("Read-only file system") == 2
    assert out.endswith("ok\n")


def test_user_env_workdir_sysctl_and_ulimit(make_spec, containers):
    script = "id; echo $HOME; pwd; cat /proc/sys/net/ipv4/ip_forward; ulimit -n; ulimit -Hn"
    spec = make_spec(
        ["sh", "-c", script],
        user="app",
        workdir="/home/app/work",
        sysctls=(("net.ipv4.ip_forward", "1"),),
        limits=Limits(ulimits=(Ulimit("nofile", 512, 1024),)),
    )
    _, out, _ = containers.run_to_exit(spec)
    assert out.splitlines() == [
        "uid=1000(app) gid=1000(app) groups=50(staff)",
        "/home/app",
        "/home/app/work",
        "1",
        "512",
        "1024",
    ]


def test_many_layers_beyond_the_mount_option_page_limit(
    make_spec, containers, tmp_path, busybox_layers
):
    extra = []
    for i in range(120):
        d = tmp_path / ("a-rather-long-layer-directory-name-to-overflow-one-page-" + f"{i:04d}")
        (d / "layers").mkdir(parents=True)
        (d / "layers" / f"l{i}").write_text(str(i))
        extra.append(d)
    assert len(":".join(map(str, extra))) > 4096
    spec = make_spec(
        ["sh", "-c", "ls /layers | wc -l; cat /layers/l119"], layers=(*busybox_layers, *extra)
    )
    _, out, _ = containers.run_to_exit(spec)
    assert out.split() == ["120", "119"]


def test_device_nodes_can_be_made_but_not_opened(make_spec, containers):
    script = "mknod /tmp/disk b 8 0 && echo made; head -c1 /tmp/disk; head -c1 /dev/zero | wc -c"
    _, out, err = containers.run_to_exit(make_spec(["sh", "-c", script]))
    assert out.split() == ["made", "1"]
    assert "Operation not permitted" in err


def test_workload_starts_with_default_signals_and_umask(make_spec, containers):
    argv = ["grep", "-E", "^Sig(Ign|Blk)", "/proc/self/status"]
    _, out, _ = containers.run_to_exit(make_spec(argv))
    assert out.split() == ["SigBlk:", "0" * 16, "SigIgn:", "0" * 16]
    _, out, _ = containers.run_to_exit(make_spec(["sh", "-c", "umask"]))
    assert out.strip() == "0022"


def test_host_network_sees_the_host_interfaces(make_spec, containers):
    spec = make_spec(["ls", "/sys/class/net"], netns_path=None, host_network=True)
    host_before = set(os.listdir("/sys/class/net"))
    _, out, _ = containers.run_to_exit(spec)
    stable = host_before & set(os.listdir("/sys/class/net"))  # other tests add/remove veths
    assert stable <= set(out.split())


def test_without_a_netns_path_the_container_gets_an_empty_one(make_spec, containers):
    _, out, _ = containers.run_to_exit(make_spec(["ls", "/sys/class/net"], netns_path=None))
    assert out.split() == ["lo"]
