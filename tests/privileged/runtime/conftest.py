"""Fixtures for the runtime's privileged tests: a tiny two-layer busybox rootfs, a runtime, a
fresh netns per test, and a salted cgroup parent that is swept afterwards."""

from __future__ import annotations

import contextlib
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from runtime_testimage import build_busybox_layers

from compose.runtime import LinuxRuntime
from compose.runtime.spec import ContainerSpec


@pytest.fixture(scope="session")
def busybox_layers(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return build_busybox_layers(tmp_path_factory.mktemp("busybox-rootfs"))


@pytest.fixture(scope="session")
def runtime() -> Iterator[LinuxRuntime]:
    rt = LinuxRuntime()
    yield rt
    rt.close()


@pytest.fixture
def salt() -> str:
    return secrets.token_hex(3)


@pytest.fixture
def netns(salt: str) -> Iterator[Path]:
    name = f"pyc-rt-{salt}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    yield Path("/run/netns") / name
    subprocess.run(["ip", "netns", "delete", name], check=False)


@pytest.fixture
def cgroup_parent(runtime: LinuxRuntime, salt: str) -> Iterator[str]:
    parent = f"pycompose-test/rt-{salt}"
    yield parent
    for d in Path("/sys/fs/cgroup").glob(f"*/{parent}"):
        for sub in sorted(d.glob("**/"), key=lambda p: -len(p.parts)):
            sub.rmdir()
        with contextlib.suppress(OSError):  # other tests may still use the shared parent
            d.parent.rmdir()


@pytest.fixture
def make_spec(busybox_layers, tmp_path: Path, netns: Path, cgroup_parent: str, salt: str):
    """``make_spec(argv, **fields)``: a spec with a unique id, own replica dir and netns."""
    counter = iter(range(1, 1000))

    def make(argv: list[str], **fields: object) -> ContainerSpec:
        n = next(counter)
        defaults: dict[str, object] = {
            "id": f"rt{salt}-svc-{n}",
            "service": "svc",
            "replica": n,
            "layers": busybox_layers,
            "replica_dir": tmp_path / f"replica{n}",
            "argv": tuple(argv),
            "env": ("PATH=/bin:/sbin", "HOSTNAME=box"),
            "hostname": "box",
            "netns_path": netns,
            "cgroup_parent": cgroup_parent,
        }
        defaults.update(fields)
        return ContainerSpec(**defaults)  # type: ignore[arg-type]

    return make


def mountinfo_mentions(text: str) -> bool:
    with open("/proc/self/mountinfo") as f:
        return text in f.read()


class Containers:
    """Runs containers for one test and proves at teardown that nothing was left behind."""

    def __init__(self, rt: LinuxRuntime) -> None:
        self.rt = rt
        self.handles: list = []

    def create(self, spec: ContainerSpec):
        handle = self.rt.create(spec)
        self.handles.append(handle)
        return handle

    def run(self, spec: ContainerSpec):
        handle = self.create(spec)
        self.rt.start(handle)
        return handle

    def output(self, handle, stream: str = "stdout") -> str:
        import json

        lines = [json.loads(x) for x in handle.log_path.read_text().splitlines()]
        return "".join(d["log"] for d in lines if d["stream"] == stream)

    def run_to_exit(self, spec: ContainerSpec, timeout: float = 10):
        handle = self.run(spec)
        status = self.rt.wait(handle, timeout)
        return status, self.output(handle), self.output(handle, "stderr")

    def assert_gone(self, handle) -> None:
        assert not self.rt.is_alive(handle.pid, handle.start_time)
        assert not self.rt.is_alive(handle.monitor_pid, handle.monitor_start_time)
        assert not handle.replica_dir.exists()
        assert not self.rt.cgroups.exists(handle.cgroup_path)
        assert not mountinfo_mentions(str(handle.replica_dir))

    def cleanup(self) -> None:
        for handle in self.handles:
            self.rt.remove(handle)
            self.assert_gone(handle)


@pytest.fixture
def containers(runtime: LinuxRuntime) -> Iterator[Containers]:
    c = Containers(runtime)
    yield c
    c.cleanup()
