"""Wall time of `pycompose kube convert` on a 30-service stack (issue 18 goal: ≤ 0.5 s).

Run: python tests/bench/bench_kube_convert.py   (or pytest tests/bench/bench_kube_convert.py -s)
Prints the CLI's median wall and CPU time (whole process: start-up, load, convert, YAML), the
same with --check, `pycompose config` on the same stack (start-up + the shared loader: the
difference is the converter's own cost), and the in-process conversion alone. kompose is
timed side by side only when a `kompose` binary is on PATH: no registry this project may use
ships one (not PyPI, whose "komposer" is another tool, not Debian bookworm, not npm), so
usually it is not.
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS, WARMUPS = 10, 2
SERVICES = 30
GOAL_MS = 500


def write_stack(folder: Path) -> Path:
    """30 services of the kinds real stacks have: web tiers, databases with volumes and
    healthchecks, workers, a migration job; secrets, configs, bind-mounted files."""
    (folder / "nginx.conf").write_text("events {}\nhttp {}\n")
    (folder / "password.txt").write_text("s3cret\n")
    lines = ["name: bench", "services:"]
    for i in range(SERVICES):
        kind = i % 5
        lines += [f"  svc{i}:", f"    image: registry.local/app{i}:1.{i}"]
        if kind == 0:
            lines += [
                f'    ports: ["{8000 + i}:80"]',
                "    volumes: ['./nginx.conf:/etc/nginx/nginx.conf:ro']",
            ]
        if kind == 1:
            lines += [
                f"    volumes: ['data{i}:/var/lib/data']",
                "    expose: ['5432']",
                "    healthcheck: {test: ['CMD-SHELL', 'pg_isready'], start_period: 20s}",
                "    secrets: [db_password]",
            ]
        if kind == 2:
            lines += [
                "    environment: {MODE: worker, HOME_DIR: '$$HOME', QUEUE: 'redis://svc3:6379'}",
                f"    depends_on: {{svc{i - 1}: {{condition: service_healthy}}}}",
                "    deploy: {replicas: 3, resources: {limits: {cpus: '0.5', memory: 256M}}}",
            ]
        if kind == 3:
            lines += ["    expose: ['6379']", "    configs: [app_conf]", "    user: '1000:1000'"]
        if kind == 4:
            lines += ["    restart: 'no'", "    command: ['migrate', '--all']"]
    lines += [
        "volumes:",
        *[f"  data{i}: {{}}" for i in range(1, SERVICES, 5)],
        "secrets: {db_password: {file: ./password.txt}}",
        "configs: {app_conf: {content: 'key=value'}}",
    ]
    path = folder / "compose.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _pycompose() -> list[str]:
    exe = Path(sys.executable).with_name("pycompose")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "compose"]


def median_ms(cmd: list[str], cwd: Path) -> tuple[float, float]:
    """(median wall, median CPU user+sys) in ms over RUNS after WARMUPS."""
    walls, cpus = [], []
    for i in range(RUNS + WARMUPS):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(
            cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True
        )
        wall = (time.perf_counter() - start) * 1000
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if i >= WARMUPS:
            walls.append(wall)
            cpus.append(
                (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000
            )
    return statistics.median(walls), statistics.median(cpus)


def in_process_ms(stack_file: Path) -> float:
    from compose.kube import KubeOptions, convert, gather
    from compose.kube.output import render_stream
    from compose.model import load_stack
    from compose.stackfile import LoadOptions

    stack = load_stack(LoadOptions(files=(str(stack_file),), cwd=stack_file.parent))
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        render_stream(convert(stack, KubeOptions(), gather(stack)).objects)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        stack_file = write_stack(folder)
        base = [*_pycompose(), "-f", str(stack_file), "kube", "convert"]
        load = os.getloadavg()[0]
        config = [*_pycompose(), "-f", str(stack_file), "config"]
        for label, cmd in (
            ("kube convert", base),
            ("kube convert --check", [*base, "--check"]),
            ("config (the loader)", config),
        ):
            wall, cpu = median_ms(cmd, folder)
            print(
                f"{label:22s} {SERVICES} services: median {wall:6.1f} ms  cpu {cpu:6.1f} ms  "
                f"goal {GOAL_MS} ms ({wall / GOAL_MS:.2f}x; load {load:.1f})"
            )
        alone = in_process_ms(stack_file)
        print(f"{'convert (in process)':22s} {SERVICES} services: median {alone:6.1f} ms")
        kompose = shutil.which("kompose")
        if kompose:
            wall, cpu = median_ms([kompose, "convert", "-f", str(stack_file), "--stdout"], folder)
            label = "kompose convert"
            print(f"{label:22s} {SERVICES} services: median {wall:6.1f} ms  cpu {cpu:6.1f} ms")
        else:
            print("kompose: no binary here (no PyPI, Debian or npm package ships it): not compared")


def test_bench_kube_convert() -> None:
    main()


if __name__ == "__main__":
    main()
