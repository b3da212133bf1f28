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


def _timed(fn: Callable[[], object], n: int) -> list[float]:
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return samples


def bench_pycompose(layers: tuple[Path, Path], base: Path, n: int) -> dict[str, list[float]]:
    rt = LinuxRuntime()
    salt = secrets.token_hex(3)
    counter = iter(range(n + 1))
    removes: list[float] = []

    def one() -> None:
        i = next(counter)
        spec = ContainerSpec(id=f"bench-{salt}-{i}", layers=layers, replica_dir=base / f"r{i}",
                             argv=("/bin/true",), env=("PATH=/bin",), hostname="bench",
                             cgroup_parent=f"pycompose-bench-{salt}")
        handle = rt.run(spec)
        status = rt.wait(handle)
        assert status.code == 0, status
        t0 = time.perf_counter()
        rt.remove(handle)
        removes.append((time.perf_counter() - t0) * 1000)

    cold = _timed(one, 1)
    warm = _timed(one, n)
    rt.close()
    for ctrl in ("memory", "cpu", "cpuacct", "pids", "freezer"):
        Path(f"/sys/fs/cgroup/{ctrl}/pycompose-bench-{salt}").rmdir()
    return {"cold": cold, "warm": warm, "remove": removes}


def bench_unshare(rootfs: Path, n: int) -> list[float]:
    argv = ["unshare", "--fork", "--pid", "--mount", "--uts", "--ipc", "--net", "chroot",
            str(rootfs), "/bin/true"]
    return _timed(lambda: subprocess.run(argv, check=True), n)


def _bundle(tool: str, rootfs: Path, base: Path) -> Path:
    bundle = base / f"bundle-{tool}"
    bundle.mkdir()
    subprocess.run([tool, "spec"], cwd=bundle, check=True)
    cfg = json.loads((bundle / "config.json").read_text())
    cfg["process"].update(terminal=False, args=["/bin/true"])
    cfg["root"] = {"path": str(rootfs), "readonly": True}
    (bundle / "config.json").write_text(json.dumps(cfg))
    return bundle


def bench_oci(tool: str, rootfs: Path, base: Path, n: int) -> list[float] | None:
    if not shutil.which(tool):
        return None
    bundle = _bundle(tool, rootfs, base)
    salt = secrets.token_hex(3)
    counter = iter(range(n))

    def one() -> None:
        cid = f"pyc-bench-{salt}-{next(counter)}"
        subprocess.run([tool, "run", "--bundle", str(bundle), cid], check=True,
                       stdin=subprocess.DEVNULL)

    return _timed(one, n)


def _row(name: str, samples: list[float], ref: float) -> str:
    med = statistics.median(samples)
    p90 = sorted(samples)[int(len(samples) * 0.9) - 1]
    return f"{name:<34} median {med:7.2f} ms   p90 {p90:7.2f} ms   ratio {med / ref:5.2f}x"


def run(n: int = N) -> dict[str, float]:
    base = Path(tempfile.mkdtemp(prefix="pyc-bench-rt-"))
    try:
        layers = build_busybox_layers(base / "img")
        pyc = bench_pycompose(layers, base, n)
        results = {"pycompose (warm zygote)": pyc["warm"]}
        results["unshare+chroot"] = bench_unshare(layers[0], n)
        for tool in ("crun", "runc"):
            samples = bench_oci(tool, layers[0], base, n)
            if samples:
                results[f"{tool} run"] = samples
        ref = statistics.median(results["pycompose (warm zygote)"])
        print(f"\ncreate+start → exit of /bin/true, {n} runs each (ratio = x / pycompose)")
        for name, samples in results.items():
            print(_row(name, samples, ref))
        print(f"{'pycompose cold (zygote start)':<34} {pyc['cold'][0]:7.2f} ms")
        print(f"{'pycompose remove()':<34} median {statistics.median(pyc['remove']):7.2f} ms")
        return {k: statistics.median(v) for k, v in results.items()}
    finally:
        shutil.rmtree(base, ignore_errors=True)


def main(n: int = N) -> None:
    if os.environ.get("PYC_BENCH_PRIVATE_NS") == "1":
        subprocess.run(["umount", "/sys/fs/cgroup/unified"], check=False)
        run(n)
        return
    env = {**os.environ, "PYC_BENCH_PRIVATE_NS": "1"}
    subprocess.run(["unshare", "--mount", "--propagation", "private", sys.executable, __file__,
                    str(n)], env=env, check=True)


@pytest.mark.bench
@pytest.mark.privileged
def test_bench_runtime_start() -> None:
    main()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else N)
