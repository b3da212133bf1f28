"""Container create+start → exit of /bin/true: pycompose vs unshare+chroot vs crun vs runc.

Run: ``python tests/bench/bench_runtime_start.py [N]`` or
``python -m pytest tests/bench/bench_runtime_start.py -s -p no:cacheprovider``.

Every contender starts a busybox rootfs with fresh pid/mount/uts/ipc/net namespaces and runs
/bin/true; each sample is the wall time from the request to the observed exit, measured from
this Python process. pycompose samples are steady state (warm zygote); the cold first container
(zygote start included) is reported apart, and so is remove().

crun 1.8 refuses this host's hybrid cgroup layout (the cgroup2 mount holds hugetlb), so the whole
benchmark re-execs itself in a private mount namespace and unmounts /sys/fs/cgroup/unified there
(the host is untouched; pycompose uses the v1 hierarchies either way).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "privileged" / "runtime"))

from runtime_testimage import build_busybox_layers

from compose.runtime import ContainerSpec, LinuxRuntime

N = 40


def _ms(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000


class PycomposeContender:
    """Steady state: one runtime (warm zygote) for every sample; remove() timed apart."""

    def __init__(self, layers: tuple[Path, Path], base: Path) -> None:
        self.rt, self.layers, self.base = LinuxRuntime(), layers, base
        self.salt, self.count, self.removes = secrets.token_hex(3), 0, []

    def __call__(self) -> None:
        self.count += 1
        spec = ContainerSpec(
            id=f"bench-{self.salt}-{self.count}",
            layers=self.layers,
            replica_dir=self.base / f"r{self.count}",
            argv=("/bin/true",),
            env=("PATH=/bin",),
            hostname="bench",
            cgroup_parent=f"pycompose-bench-{self.salt}",
        )
        handle = self.rt.run(spec)
        assert self.rt.wait(handle).code == 0
        self.pending = handle

    def remove_last(self) -> None:
        self.removes.append(_ms(lambda: self.rt.remove(self.pending)))

    def close(self) -> None:
        self.rt.close()
        for ctrl in ("memory", "cpu", "cpuacct", "pids", "freezer", "devices"):
            path = Path(f"/sys/fs/cgroup/{ctrl}/pycompose-bench-{self.salt}")
            if path.is_dir():
                path.rmdir()


def unshare_contender(rootfs: Path) -> Callable[[], object]:
    argv = [
        "unshare",
        "--fork",
        "--pid",
        "--mount",
        "--uts",
        "--ipc",
        "--net",
        "chroot",
        str(rootfs),
        "/bin/true",
    ]
    return lambda: subprocess.run(argv, check=True)


def _bundle(tool: str, rootfs: Path, base: Path) -> Path:
    bundle = base / f"bundle-{tool}"
    bundle.mkdir()
    subprocess.run([tool, "spec"], cwd=bundle, check=True)
    cfg = json.loads((bundle / "config.json").read_text())
    cfg["process"].update(terminal=False, args=["/bin/true"])
    cfg["root"] = {"path": str(rootfs), "readonly": True}
    (bundle / "config.json").write_text(json.dumps(cfg))
    return bundle


def oci_contender(tool: str, rootfs: Path, base: Path) -> Callable[[], object]:
    bundle, salt = _bundle(tool, rootfs, base), secrets.token_hex(3)
    argv = [tool, "run", "--bundle", str(bundle), f"pyc-bench-{salt}"]  # run deletes it at exit
    return lambda: subprocess.run(argv, check=True, stdin=subprocess.DEVNULL)


def _row(name: str, samples: list[float], ref: float) -> str:
    med = statistics.median(samples)
    p90 = sorted(samples)[int(len(samples) * 0.9) - 1]
    return f"{name:<34} median {med:7.2f} ms   p90 {p90:7.2f} ms   ratio {med / ref:5.2f}x"


def run(n: int = N) -> dict[str, float]:
    """Rounds: each contender once per round, so all of them see the same machine load."""
    base = Path(tempfile.mkdtemp(prefix="pyc-bench-rt-"))
    pyc = None
    try:
        layers = build_busybox_layers(base / "img")
        pyc = PycomposeContender(layers, base)
        cold = _ms(pyc)
        pyc.remove_last()
        contenders: dict[str, Callable[[], object]] = {
            "pycompose (warm zygote)": pyc,
            "unshare+chroot": unshare_contender(layers[0]),
        }
        for tool in ("crun", "runc"):
            if shutil.which(tool):
                contenders[f"{tool} run"] = oci_contender(tool, layers[0], base)
        results: dict[str, list[float]] = {name: [] for name in contenders}
        for _ in range(n):
            for name, fn in contenders.items():
                results[name].append(_ms(fn))
            pyc.remove_last()
        ref = statistics.median(results["pycompose (warm zygote)"])
        print(f"\ncreate+start → exit of /bin/true, {n} interleaved rounds (ratio = x / pycompose)")
        for name, samples in results.items():
            print(_row(name, samples, ref))
        print(f"{'pycompose cold (zygote start)':<34} {cold:7.2f} ms")
        print(f"{'pycompose remove()':<34} median {statistics.median(pyc.removes):7.2f} ms")
        return {k: statistics.median(v) for k, v in results.items()}
    finally:
        if pyc is not None:
            pyc.close()
        shutil.rmtree(base, ignore_errors=True)


def main(n: int = N) -> None:
    if os.environ.get("PYC_BENCH_PRIVATE_NS") == "1":
        subprocess.run(["umount", "/sys/fs/cgroup/unified"], check=False)
        run(n)
        return
    env = {**os.environ, "PYC_BENCH_PRIVATE_NS": "1"}
    subprocess.run(
        ["unshare", "--mount", "--propagation", "private", sys.executable, __file__, str(n)],
        env=env,
        check=True,
    )


@pytest.mark.bench
@pytest.mark.privileged
def test_bench_runtime_start() -> None:
    main()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else N)
