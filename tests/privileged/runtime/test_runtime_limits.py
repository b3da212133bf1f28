"""cgroup limits as the workload feels them: OOM kill, pids limit, cpu quota, freeze, stats."""

from __future__ import annotations

import time

import pytest

from compose.runtime.spec import Limits

pytestmark = [pytest.mark.privileged, pytest.mark.timeout(60)]
MiB = 1024 * 1024


def test_memory_hog_is_oom_killed_and_reported(make_spec, containers):
    spec = make_spec(["tail", "/dev/zero"], limits=Limits(memory=32 * MiB))
    status, _, _ = containers.run_to_exit(spec, timeout=20)
    assert status.oom_killed
    assert status.code == 137 and status.signal == 9


def test_normal_exit_is_not_an_oom(make_spec, containers):
    status, _, _ = containers.run_to_exit(make_spec(["true"], limits=Limits(memory=32 * MiB)))
    assert status.code == 0 and not status.oom_killed


def test_fork_bomb_stops_at_the_pids_limit(make_spec, containers):
    spec = make_spec(["sh", "-c", "f(){ f | f & }; f; sleep 5"], limits=Limits(pids=16))
    handle = containers.run(spec)
    peak, deadline = 0, time.monotonic() + 1.0
    while time.monotonic() < deadline:
        peak = max(peak, containers.rt.stats(handle).pids)
        time.sleep(0.02)
    assert 0 < peak <= 16  # the bomb hits the limit (fork fails), never exceeds it
    assert "can't fork" in containers.output(handle, "stderr")
    assert containers.rt.stop(handle, timeout=0.2) in (2, 137)  # sh may give up on its own


def test_cpus_quota_gives_about_its_share_of_a_core(make_spec, containers):
    spec = make_spec(["sh", "-c", "while :; do :; done"], limits=Limits(cpus=0.2))
    handle = containers.run(spec)
    before, t0 = containers.rt.stats(handle).cpu_ns, time.monotonic()
    time.sleep(1.5)
    used = (containers.rt.stats(handle).cpu_ns - before) / 1e9 / (time.monotonic() - t0)
    containers.rt.stop(handle, timeout=0)
    assert 0.1 < used < 0.28, f"got {used:.2f} of a core"  # capped; a loaded host gives less


def test_pause_freezes_and_unpause_resumes(make_spec, containers):
    handle = containers.run(make_spec(["sh", "-c", "while :; do :; done"]))
    rt = containers.rt
    rt.pause(handle)
    frozen_at = rt.stats(handle).cpu_ns
    time.sleep(0.3)
    assert rt.stats(handle).cpu_ns - frozen_at < 5_000_000
    rt.unpause(handle)
    deadline = time.monotonic() + 5
    while rt.stats(handle).cpu_ns - frozen_at < 50_000_000:  # it runs again
        assert time.monotonic() < deadline
        time.sleep(0.05)
    stats = rt.stats(handle)
    assert stats.pids == 1 and stats.memory_bytes > 0
    rt.stop(handle, timeout=0)


def test_cpuset_pins_the_container(make_spec, containers):
    spec = make_spec(["grep", "Cpus_allowed_list", "/proc/self/status"], limits=Limits(cpuset="1"))
    status, out, _ = containers.run_to_exit(spec)
    assert status.code == 0
    assert out.split() == ["Cpus_allowed_list:", "1"]


def test_the_container_reads_its_own_limits_under_sys_fs_cgroup(make_spec, containers):
    script = (
        "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max; "
        "touch /sys/fs/cgroup/memory/x"
    )
    spec = make_spec(["sh", "-c", script], limits=Limits(memory=48 * MiB, pids=33))
    _, out, err = containers.run_to_exit(spec)
    assert out.split() == [str(48 * MiB), "33"]
    assert "Read-only file system" in err


def test_raw_cpu_quota_and_oom_score_adj(make_spec, containers):
    script = (
        "cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us "
        "/proc/self/oom_score_adj"
    )
    spec = make_spec(
        ["sh", "-c", script], oom_score_adj=500, limits=Limits(cpu_quota=25000, cpu_period=50000)
    )
    _, out, _ = containers.run_to_exit(spec)
    assert out.split() == ["25000", "50000", "500"]
