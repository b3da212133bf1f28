"""The everyday commands, pycompose next to docker compose in the same run (issue 17).

`config` on awesome-compose's nginx-golang-mysql (its later runs take the validated memo,
``compose.model.memo``; `config, first run` gets an empty memo each time, so it imports pydantic
and validates), then `ps`, `ls`, `logs`, `exec -T web true` and `version` on a one-service
busybox project that each tool has brought `up -d` (needs root and the test registry; without
them `ps`/`ls`/`logs` see an empty project and `exec` is left out). Each round runs every command
once with each tool, one after the other, so both meet the same load on a shared machine.

Prints per command the median wall time with its spread (min-max) and the median CPU time
(user+sys, steadier than wall on a busy host) for each tool, and the ratio pycompose / docker
compose of the medians (<= 1.0: pycompose is as fast or faster). No assertions.

    python tests/bench/bench_cli_startup.py        # BENCH_ROUNDS=15 for steadier figures
    python -m pytest tests/bench/bench_cli_startup.py -s -p no:cacheprovider

Child processes run without PYTHONDONTWRITEBYTECODE, so pycompose starts from compiled
bytecode as an installed copy does.
"""

from __future__ import annotations

import os
import resource
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

try:  # the pytest entry uses the session registry fixture
    from tests.images.fixtures import registry, test_images  # noqa: F401
except ImportError:  # run as a script: main() serves its own registry
    pass

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "11"))
CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
STACK = CORPUS / "awesome-compose" / "nginx-golang-mysql" / "compose.yaml"
DOCKER = "/usr/bin/docker"  # /usr/local/bin/docker (another client) may come first in PATH
DOCKER_IMAGE = "localhost/busybox"  # the peers' image (../shared/peers/README.md)
COMMAND = '["sh", "-c", "trap \\"exit 0\\" TERM; echo ready; sleep 1000 & wait"]'
PROJECT = "benchcli"


@dataclass
class Samples:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def line(self) -> str:
        w = statistics.median(self.wall)
        return (
            f"{w:6.1f} ms ({min(self.wall):5.1f}-{max(self.wall):6.1f}) "
            f"cpu {statistics.median(self.cpu):5.1f}"
        )


def timed(argv: list[str], env: dict[str, str], into: Samples) -> None:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    wall = (time.perf_counter() - start) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: exit {proc.returncode}\n{proc.stderr}")
    into.wall.append(wall)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    into.cpu.append(cpu * 1000)


def _pycompose() -> list[str]:
    exe = Path(sys.executable).with_name("pycompose")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "compose"]


def docker_compose_usable() -> bool:
    if not os.access(DOCKER, os.X_OK):
        return False
    probe = subprocess.run([DOCKER, "compose", "version"], capture_output=True)
    info = subprocess.run([DOCKER, "info"], capture_output=True)
    return probe.returncode == 0 and info.returncode == 0


class Tool:
    def __init__(self, name: str, cli: list[str], env: dict[str, str], image: str | None) -> None:
        self.name, self.cli, self.env, self.image = name, cli, env, image
        self.samples: dict[str, Samples] = {}

    def stack_file(self, tmp: Path) -> Path:
        path = tmp / self.name / "compose.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"services:\n  web:\n    image: {self.image}\n    command: {COMMAND}\n")
        return path

    def commands(self, tmp: Path) -> dict[str, list[str]]:
        project = [*self.cli, "-f", str(self.stack_file(tmp)), "-p", PROJECT]
        out = {
            "config": [*self.cli, "-f", str(STACK), "config"],
            "ps": [*project, "ps"],
            "ls": [*self.cli, "ls"],
            "logs": [*project, "logs"],
            "exec": [*project, "exec", "-T", "web", "true"],
            "version": [*self.cli, "version"],
        }
        if self.image is None:
            del out["exec"]
        return out

    def run(self, label: str, argv: list[str], env: dict[str, str] | None = None) -> None:
        timed(argv, env or self.env, self.samples.setdefault(label, Samples()))


def measure(tools: list[Tool], tmp: Path) -> None:
    plans = [tool.commands(tmp) for tool in tools]
    for tool, plan in zip(tools, plans, strict=True):  # warm-up: page cache, bytecode, memo
        for argv in plan.values():
            subprocess.run(argv, env=tool.env, capture_output=True, timeout=120)
    for _ in range(ROUNDS):
        for label in plans[0]:
            for tool, plan in zip(tools, plans, strict=True):
                if label in plan:
                    tool.run(label, plan[label])
        first = tools[0]  # pycompose with an empty memo: the validating path
        fresh = {**first.env, "PYCOMPOSE_CACHE_DIR": str(tmp / f"memo-{secrets.token_hex(4)}")}
        first.run("config, first run", plans[0]["config"], fresh)


def report(tools: list[Tool]) -> None:
    ours = tools[0]
    theirs = tools[1] if len(tools) > 1 else None
    print(f"\n{ROUNDS} rounds, load {os.getloadavg()[0]:.1f}; wall median (min-max), cpu median")
    for label, mine in ours.samples.items():
        line = f"{label:18s} pycompose {mine.line()}"
        other = theirs.samples.get(label) if theirs else None
        if other is None and theirs and label == "config, first run":
            other = theirs.samples.get("config")
        if other is not None:
            ratio = statistics.median(mine.wall) / statistics.median(other.wall)
            cpu_ratio = statistics.median(mine.cpu) / statistics.median(other.cpu)
            line += f" | docker compose {other.line()} | ratio {ratio:.2f} (cpu {cpu_ratio:.2f})"
        print(line)


def run(registry_host: str | None) -> None:
    with tempfile.TemporaryDirectory(prefix="pycompose-bench-cli-") as name:
        tmp = Path(name)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        ours_env = {
            **env,
            "PYCOMPOSE_STATE_DIR": f"{tmp}/state",
            "PYCOMPOSE_RUN_DIR": f"{tmp}/run",
            "PYCOMPOSE_CGROUP_ROOT": f"pycompose-bench-{secrets.token_hex(3)}",
        }
        can_run = registry_host is not None and os.geteuid() == 0
        image = f"{registry_host}/busybox:latest" if can_run else None
        tools = [Tool("pycompose", _pycompose(), ours_env, image)]
        if docker_compose_usable():
            peer_image = DOCKER_IMAGE if can_run else None
            tools.append(Tool("docker", [DOCKER, "compose"], env, peer_image))
        else:
            print("docker compose not found (../shared/peers/setup.sh): pycompose figures only")
        started = [t for t in tools if t.image]
        try:
            for tool in started:
                up = [*tool.cli, "-f", str(tool.stack_file(tmp)), "-p", PROJECT, "up", "-d"]
                subprocess.run(up, env=tool.env, capture_output=True, check=True, timeout=300)
            measure(tools, tmp)
        finally:
            for tool in started:
                file = str(tool.stack_file(tmp))
                down = [*tool.cli, "-f", file, "-p", PROJECT, "down", "-t", "0"]
                subprocess.run(down, env=tool.env, capture_output=True, timeout=300)
        report(tools)


def test_bench_cli_startup(registry) -> None:  # pytest entry: the session registry
    run(registry.host)


def main() -> None:
    if os.geteuid() != 0 or not shutil.which("docker-registry"):
        run(None)
        return
    from tests.images import registry as reg

    with reg.temporary() as server:
        run(server.host)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    main()
