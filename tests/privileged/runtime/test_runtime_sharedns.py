"""pid: / ipc: modes — the host's namespaces or another container's."""

from __future__ import annotations

import os
import time

import pytest

pytestmark = [pytest.mark.privileged, pytest.mark.timeout(60)]


def test_pid_host_sees_host_processes(make_spec, containers):
    spec = make_spec(
        ["sh", "-c", f"test -d /proc/{os.getpid()} && echo sees-host"], pid_mode="host"
    )
    status, out, _ = containers.run_to_exit(spec)
    assert (status.code, out) == (0, "sees-host\n")


def test_pid_of_another_container(make_spec, containers):
    first = containers.run(make_spec(["sleep", "30"]))
    spec = make_spec(
        ["sh", "-c", "cat /proc/1/comm; sleep 30 & echo started"],
        pid_mode=f"/proc/{first.pid}/ns/pid",
    )
    started = time.monotonic()
    status, out, _ = containers.run_to_exit(spec)
    assert out.split() == ["sleep", "started"]
    assert status.code == 0
    assert time.monotonic() - started < 5  # the leftover `sleep 30` was killed with it
    assert containers.rt.is_alive(first.pid, first.start_time)
    assert containers.rt.stats(first).pids == 1


def test_ipc_host_and_ipc_of_another_container(make_spec, containers, salt):
    marker = f"/dev/shm/pyc-rt-{salt}"
    with open(marker, "w") as f:
        f.write("host")
    try:
        _, out, _ = containers.run_to_exit(make_spec(["cat", marker], ipc_mode="host"))
        assert out == "host"
    finally:
        os.unlink(marker)
    first = containers.run(make_spec(["sleep", "30"]))
    spec = make_spec(["readlink", "/proc/self/ns/ipc"], ipc_mode=f"/proc/{first.pid}/ns/ipc")
    _, out, _ = containers.run_to_exit(spec)
    assert out.strip() == os.readlink(f"/proc/{first.pid}/ns/ipc")  # SysV IPC is shared


def test_missing_namespace_is_refused(make_spec, runtime):
    from compose.errors import ContainerError

    with pytest.raises(ContainerError, match="pid: namespace '/proc/999999999/ns/pid' does not"):
        runtime.create(make_spec(["true"], pid_mode="/proc/999999999/ns/pid"))
