"""The v2 driver against a real cgroup2 mount (no controllers on this hybrid host: procs,
freeze, kill, events, removal) and a full container run through it."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from compose.runtime import LinuxRuntime
from compose.runtime.cgroups import CgroupV2
from compose.runtime.spec import Limits

pytestmark = [pytest.mark.privileged, pytest.mark.timeout(60)]


@pytest.fixture
def cgroup2_root(tmp_path: Path, salt: str) -> Iterator[Path]:
    mnt = tmp_path / "cgroup2"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "cgroup2", "none", str(mnt)]).returncode != 0:
        pytest.skip("cannot mount cgroup2")
    try:
        yield mnt
    finally:
        for d in sorted(mnt.glob(f"pyc-v2-{salt}/**/"), key=lambda p: -len(p.parts)):
            d.rmdir()
        subprocess.run(["umount", str(mnt)], check=True)


def test_v2_procs_freeze_kill_and_remove(cgroup2_root: Path, salt: str):
    cg, path = CgroupV2(cgroup2_root), f"pyc-v2-{salt}/c1"
    cg.create(path, Limits())
    proc = subprocess.Popen(["sleep", "30"])
    try:
        Path(cg.procs_files(path)[0]).write_text(str(proc.pid))
        assert cg.pids(path) == [proc.pid]
        cg.freeze(path)
        assert "frozen 1" in (cgroup2_root / path / "cgroup.events").read_text()
        cg.thaw(path)
        assert "frozen 0" in (cgroup2_root / path / "cgroup.events").read_text()
        cg.kill_all(path)
        assert proc.wait(timeout=5) == -9
        cg.remove(path)
        assert not cg.exists(path)
        cg.remove(path)  # idempotent
    finally:
        proc.kill()
        proc.wait()


def test_v2_runs_a_whole_container(cgroup2_root: Path, salt: str, make_spec):
    rt = LinuxRuntime(cgroup_driver=CgroupV2(cgroup2_root))
    script = "grep ^0:: /proc/self/cgroup; mknod /tmp/d b 8 0; head -c1 /tmp/d; head -c1 /dev/zero"
    spec = make_spec(["sh", "-c", script], cgroup_parent=f"pyc-v2-{salt}")
    try:
        handle = rt.run(spec)
        assert rt.wait(handle, 10).code == 0
        log = handle.log_path.read_text()
        assert '"0::/\\n"' in log  # cgroup namespace: its own root
        assert "/tmp/d: Operation not permitted" in log  # the BPF device filter
        rt.remove(handle)
        assert not (cgroup2_root / spec.cgroup_path).exists()
    finally:
        rt.close()
