"""Wall time of `pycompose config` on compose-go's full example and of `pycompose --help`.

Run: python tests/bench/bench_config.py   (or pytest tests/bench/bench_config.py -s)
Goals (issue 2): config ≤ 250 ms, --help ≤ 150 ms (median of 20 runs after 2 warm-ups).
Prints figures only; the "nothing heavy is imported" assertion is a unit test.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

FULL = Path(__file__).resolve().parents[2].parent / "shared/corpus/compose-go/full-example"
RUNS, WARMUPS = 20, 2
ENV = {**os.environ, "HOME": "/HOMEDIR", "BAR": "this is a secret", "QUX": "qux_from_environment"}


def _pycompose() -> list[str]:
    exe = Path(sys.executable).with_name("pycompose")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "compose"]


def median_ms(args: list[str]) -> tuple[float, float, float]:
    """(median wall, min wall, median CPU user+sys) in ms; CPU time is robust to a busy host."""
    cmd = _pycompose() + args
    walls, cpus = [], []
    for i in range(RUNS + WARMUPS):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(
            cmd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True
        )
        wall = (time.perf_counter() - start) * 1000
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if i >= WARMUPS:
            walls.append(wall)
            cpus.append(
                (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000
            )
    return statistics.median(walls), min(walls), statistics.median(cpus)


def baseline_ms() -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    config_args = [
        "-f",
        str(FULL / "full-example.yml"),
        "config",
        "--no-consistency",
        "--no-normalize",
    ]
    python = baseline_ms()
    for label, args, goal in (
        ("config (full example)", config_args, 250),
        ("--help", ["--help"], 150),
    ):
        med, best, cpu = median_ms(args)
        print(
            f"{label:22s} median {med:6.1f} ms  min {best:6.1f} ms  cpu {cpu:6.1f} ms  "
            f"goal {goal} ms ({med / goal:.2f}x; bare python {python:.1f} ms; "
            f"load {os.getloadavg()[0]:.1f})"
        )


def test_bench_config() -> None:
    main()


if __name__ == "__main__":
    main()
