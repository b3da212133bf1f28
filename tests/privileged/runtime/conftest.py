"""Fixtures for the runtime's privileged tests: a tiny two-layer busybox rootfs, a runtime, a
fresh netns per test, and a salted cgroup parent that is swept afterwards."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from compose.runtime import LinuxRuntime
from compose.runtime.spec import ContainerSpec

PASSWD = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n" \
    "app:x:1000:1000:app:/home/app:/bin/sh\n"
GROUP = "root:x:0:\nwheel:x:10:root\nnogroup:x:65534:\napp:x:1000:\nstaff:x:50:app\n"


def _busybox_binary(cache: Path) -> Path:
    if Path("/bin/busybox").exists():
        return Path("/bin/busybox")
    subprocess.run(["apt-get", "download", "busybox-static"], cwd=cache, check=True,
                   capture_output=True)
    deb = next(cache.glob("busybox-static_*.deb"))
    subprocess.run(["dpkg-deb", "-x", str(deb), str(cache / "x")], check=True)
    return cache / "x/bin/busybox"


def build_busybox_layers(base: Path) -> tuple[Path, Path]:
    """Layer 1: busybox + applet symlinks + /etc; layer 2: a marker file and /home/app."""
    low, top = base / "layer1", base / "layer2"
    for d in ("bin", "etc", "tmp", "root", "proc", "dev", "sys", "sbin", "usr/bin"):
        (low / d).mkdir(parents=True, exist_ok=True)
    shutil.copy2(_busybox_binary(base), low / "bin/busybox")
    applets = subprocess.run([str(low / "bin/busybox"), "--list"], capture_output=True,
                             text=True, check=True).stdout.split()
    for name in applets:
        if name != "busybox":
            os.symlink("busybox", low / "bin" / name)
    (low / "etc/passwd").write_text(PASSWD)
    (low / "etc/group").write_text(GROUP)
    os.chmod(low / "tmp", 0o1777)
    (top / "etc").mkdir(parents=True)
    (top / "etc/layer2").write_text("from layer 2\n")
    (top / "home/app").mkdir(parents=True)
    os.chown(top / "home/app", 1000, 1000)
    return low, top


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
    for d in getattr(runtime.cgroups, "dirs", lambda p: [runtime.cgroups.root / p])(parent):
        for sub in sorted(Path(d).glob("*"), reverse=True):
            if sub.is_dir():
                sub.rmdir()
        if Path(d).is_dir():
            Path(d).rmdir()
        with contextlib.suppress(OSError):  # other tests may still use the shared parent
            Path(d).parent.rmdir()


@pytest.fixture
def make_spec(busybox_layers, tmp_path: Path, netns: Path, cgroup_parent: str, salt: str):
    """``make_spec(argv, **fields)``: a spec with a unique id, own replica dir and netns."""
    counter = iter(range(1, 1000))

    def make(argv: list[str], **fields: object) -> ContainerSpec:
        n = next(counter)
        defaults: dict[str, object] = {
            "id": f"rt{salt}-svc-{n}", "service": "svc", "replica": n,
            "layers": busybox_layers, "replica_dir": tmp_path / f"replica{n}",
            "argv": tuple(argv), "env": ("PATH=/bin:/sbin", "HOSTNAME=box"),
            "hostname": "box", "netns_path": netns, "cgroup_parent": cgroup_parent,
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
