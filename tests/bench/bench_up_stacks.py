"""Benchmark: `pycompose up -d` and `down` of 10 and 30 one-container busybox services.

Goals (issue 17) on the 2-core CI machine: 30 services up <= 0.5 s, down <= 0.3 s (docker
compose v2 takes about 6.5 s and 2.6 s there). Each service is `sh` as PID 1 with a TERM trap
around `sleep`, so `down` measures a graceful stop, not a 10 s grace-period timeout.

    python tests/bench/bench_up_stacks.py            # or
    python -m pytest tests/bench/bench_up_stacks.py -s -p no:cacheprovider

Prints one line per (services, phase) with median/min/max over the rounds; when `docker compose`
is on PATH it runs the same stack there and prints the ratio.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

try:  # the pytest entry needs helper C's session registry fixture
    from tests.images.fixtures import registry, test_images  # noqa: F401
except ImportError:  # run as a script: main() serves its own registry
    pass

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
SIZES = (10, 30)
COMMAND = '["sh", "-c", "trap \\"exit 0\\" TERM; sleep 1000 & wait"]'


def stack(path: Path, services: int, image: str) -> Path:
    lines = ["services:"]
    for i in range(services):
        lines += [f"  s{i}:", f"    image: {image}", f"    command: {COMMAND}"]
    path.write_text("\n".join(lines) + "\n")
    return path


def timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed:\n{proc.stderr}")
    return elapsed


def measure(
    cli: list[str], file: Path, project: str, env: dict[str, str]
) -> dict[str, list[float]]:
    base = [*cli, "-f", str(file), "-p", project]
    results: dict[str, list[float]] = {"up -d": [], "down": []}
    timed([*base, "up", "-d"], env)  # warm: pull the image, first zygote start
    timed([*base, "down"], env)
    for _ in range(ROUNDS):
        results["up -d"].append(timed([*base, "up", "-d"], env))
        results["down"].append(timed([*base, "down"], env))
    return results


def report(
    label: str, services: int, results: dict[str, list[float]], goal: dict[str, float]
) -> None:
    for phase, values in results.items():
        med = statistics.median(values)
        extra = (
            f"  goal <= {goal[phase]:.1f} s ({med / goal[phase]:.2f}x of goal)"
            if services == 30
            else ""
        )
        print(
            f"{label:<10} {services:>3} services  {phase:<6} median {med:6.3f} s  "
            f"min {min(values):6.3f}  max {max(values):6.3f}{extra}"
        )


def _docker_compose() -> bool:
    if not shutil.which("docker"):
        return False
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True)
    return probe.returncode == 0


def run(registry_host: str) -> None:
    image = f"{registry_host}/busybox:latest"
    with tempfile.TemporaryDirectory(prefix="pycompose-bench-") as tmp:
        env = {
            **os.environ,
            "PYCOMPOSE_STATE_DIR": f"{tmp}/state",
            "PYCOMPOSE_RUN_DIR": f"{tmp}/run",
        }
        cli = [sys.executable, "-m", "compose"]
        goal = {"up -d": 0.5, "down": 0.3}
        for services in SIZES:
            file = stack(Path(tmp) / f"compose-{services}.yaml", services, image)
            ours = measure(cli, file, f"bench{services}", env)
            report("pycompose", services, ours, goal)
            if _docker_compose():
                # a project of its own: a killed earlier run can leave dockerd's network busy
                name = f"bench{services}-{os.getpid()}"
                theirs = measure(["docker", "compose"], file, name, dict(os.environ))
                report("docker", services, theirs, goal)
                for phase in ours:
                    ratio = statistics.median(theirs[phase]) / statistics.median(ours[phase])
                    print(f"ratio docker/pycompose {services} {phase}: {ratio:.1f}x")


def test_bench_up_down(registry) -> None:  # pytest entry: uses helper C's session registry
    run(registry.host)


def main() -> None:
    from tests.images import registry as reg

    with reg.temporary() as server:
        run(server.host)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    main()
