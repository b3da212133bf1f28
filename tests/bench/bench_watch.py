"""Benchmark: `watch`'s sync latency, from a file saved on the host to its new content visible
inside the running container (read through the container's own root), median of 20.

    python tests/bench/bench_watch.py            # or
    python -m pytest tests/bench/bench_watch.py -s -p no:cacheprovider

Goal: under 200 ms (issue 15). When `docker compose` is on PATH the same stack runs under
`docker compose watch` (read through the container's overlay merged dir) and the ratio is
printed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

try:  # the pytest entry needs the session registry fixture
    from tests.images.fixtures import registry, test_images  # noqa: F401
except ImportError:  # run as a script: main() serves its own registry
    pass

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "20"))
GOAL_MS = 200.0
DOCKER = "/usr/bin/docker"  # the peers' client (a newer one earlier on PATH may not match dockerd)
STACK = """services:
  web:
    image: {image}
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 1000 & wait"]
    develop:
      watch:
        - action: sync
          path: ./src
          target: /app
"""


def latencies(view: Callable[[], Path], src: Path) -> list[float]:
    """Save ``src/f.txt`` ROUNDS times; ms until ``view()/f.txt`` has the new content."""
    out = []
    for n in range(ROUNDS):
        text = f"round {n} {time.time_ns()}\n"
        start = time.perf_counter()
        (src / "f.txt").write_text(text)
        target = view() / "f.txt"
        while True:
            try:
                if target.read_text() == text:
                    break
            except OSError:
                pass
            if time.perf_counter() - start > 5:
                raise RuntimeError(f"round {n}: not synced within 5 s")
            time.sleep(0.0005)
        out.append((time.perf_counter() - start) * 1000)
        time.sleep(0.15)  # a fresh batch each round
    return out


def watched(argv: list[str], env: dict[str, str], cwd: Path, ready: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip  (docker's watch says `Watch enabled` on stdout, pycompose's on stderr)
    assert proc.stdout is not None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if ready in line:
            return proc
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise RuntimeError(f"{' '.join(argv)}: never printed {ready!r}")


def stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


def ours(tmp: Path, image: str) -> list[float]:
    env = {
        **os.environ,
        "PYCOMPOSE_STATE_DIR": f"{tmp}/state",
        "PYCOMPOSE_RUN_DIR": f"{tmp}/run",
        "PYCOMPOSE_CONFIG_DIR": f"{tmp}/config",
    }
    cli = [sys.executable, "-m", "compose", "-p", "benchwatch", "-f", str(tmp / "compose.yaml")]
    proc = watched([*cli, "--progress", "plain", "watch"], env, tmp, "Watch enabled")
    try:
        records = tmp / "state" / "projects" / "benchwatch" / "replicas"
        pid = next(json.loads(p.read_text())["pid"] for p in records.glob("*.json"))
        return latencies(lambda: Path(f"/proc/{pid}/root/app"), tmp / "src")
    finally:
        stop(proc)
        subprocess.run([*cli, "down", "-t", "1"], env=env, capture_output=True)


def docker(tmp: Path, image: str) -> list[float] | None:
    exe = DOCKER if Path(DOCKER).exists() else shutil.which("docker")
    if exe is None or subprocess.run([exe, "compose", "version"], capture_output=True).returncode:
        return None
    base = [exe, "compose", "-p", "benchwatch", "-f", str(tmp / "compose.yaml")]
    proc = watched([*base, "watch"], dict(os.environ), tmp, "Watch enabled")
    try:
        ident = subprocess.run([*base, "ps", "-q", "web"], capture_output=True, text=True)
        merged = subprocess.run(
            [exe, "inspect", "-f", "{{.GraphDriver.Data.MergedDir}}", ident.stdout.strip()],
            capture_output=True,
            text=True,
        ).stdout.strip()
        return latencies(lambda: Path(merged) / "app", tmp / "src")
    finally:
        stop(proc)
        subprocess.run([*base, "down", "-t", "1"], capture_output=True)


def report(label: str, values: list[float]) -> float:
    med = statistics.median(values)
    print(
        f"{label:<10} sync latency (save -> visible in container), {len(values)} saves: "
        f"median {med:6.1f} ms  min {min(values):6.1f}  max {max(values):6.1f}  "
        f"goal <= {GOAL_MS:.0f} ms"
    )
    return med


def run(registry_host: str) -> None:
    image = f"{registry_host}/busybox:latest"
    with tempfile.TemporaryDirectory(prefix="pycompose-bench-watch-") as name:
        tmp = Path(name)
        (tmp / "src").mkdir()
        (tmp / "compose.yaml").write_text(STACK.format(image=image))
        mine = report("pycompose", ours(tmp, image))
        theirs = docker(tmp, image)
        if theirs is not None:
            peer = report("docker", theirs)
            print(f"ratio docker/pycompose sync latency: {peer / mine:.1f}x")


def test_bench_watch(registry) -> None:  # pytest entry: the session's registry
    run(registry.host)


def main() -> None:
    from tests.images import registry as reg

    with reg.temporary() as server:
        run(server.host)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    main()
