"""What the whole-stack benchmarks share: pycompose and docker compose run the same commands on
the same stack file, interleaved (each round alternates which tool goes first, so both meet the
same load on a shared machine), and each command is measured in wall time and CPU time.

CPU is steadier than wall when other work shares the cores, and it counts what a command made
the machine do, not only its client:

- pycompose: every command runs in a cpuacct cgroup of its own, and ``PYCOMPOSE_CGROUP_ROOT``
  nests the containers' cgroups inside it, so the figure is the CLI, the supervisor, the
  runtime's zygote and monitors and the containers' init work (``Cgroup``);
- docker compose: the CLI (rusage), plus what dockerd, containerd, the containerd shims and the
  containers' cgroups used meanwhile: a lower bound (runc processes and shims that exited within
  the command are not counted) (``DockerCpu``).

Figures are medians with their spread (min-max); nothing here asserts a time.
"""

from __future__ import annotations

import contextlib
import os
import resource
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

DOCKER = "/usr/bin/docker"  # /usr/local/bin/docker (another client) may come first in PATH
DOCKER_IMAGE = "localhost/busybox"  # the peers' image (../shared/peers/README.md)
CGROUPS = Path("/sys/fs/cgroup")
# PID 1 is sh: TERM ends it at once (down measures a graceful stop, not a grace-period timeout)
COMMAND = '["sh", "-c", "trap \\"exit 0\\" TERM; sleep 1000 & wait"]'


@dataclass
class Samples:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def add(self, wall: float, cpu: float | None) -> None:
        self.wall.append(wall)
        if cpu is not None:
            self.cpu.append(cpu)

    @property
    def median(self) -> float:
        return statistics.median(self.wall)

    @property
    def cpu_median(self) -> float | None:
        return statistics.median(self.cpu) if self.cpu else None

    def line(self) -> str:
        text = f"{self.median:7.3f} s ({min(self.wall):.3f}-{max(self.wall):.3f})"
        if self.cpu:
            cpu = statistics.median(self.cpu)
            text += f" cpu {cpu:6.3f} s ({min(self.cpu):.3f}-{max(self.cpu):.3f})"
        return text


def compare(label: str, ours: Samples, theirs: Samples | None, goal: float | None = None) -> str:
    """One report line: pycompose, docker compose, the ratios of the medians (< 1: faster)."""
    line = f"{label:<34} pycompose {ours.line()}"
    if goal is not None:
        line += f" goal <= {goal:.2f} s"
    if theirs is not None and theirs.wall:
        line += f"\n{'':<34} docker    {theirs.line()}  ratio {ours.median / theirs.median:.2f}"
        if ours.cpu_median and theirs.cpu_median:
            line += f" (cpu {ours.cpu_median / theirs.cpu_median:.2f})"
    return line


def load_line() -> str:
    return f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"


class Cgroup:
    """A cpuacct cgroup holding the commands it runs and (through PYCOMPOSE_CGROUP_ROOT) the
    containers they make; removed, with what pycompose left under it, by ``close``."""

    def __init__(self) -> None:
        self.name = f"pycompose-bench-{secrets.token_hex(3)}"
        self.dir: Path | None = CGROUPS / "cpuacct" / self.name
        try:
            self.dir.mkdir()
        except OSError:
            self.dir = None  # no cgroup v1 cpuacct (or no root): CPU is not measured

    @property
    def root(self) -> str:
        """For PYCOMPOSE_CGROUP_ROOT: the containers' cgroups nest under ours."""
        return f"{self.name}/containers"

    def usage(self) -> float | None:
        if self.dir is None:
            return None
        return int((self.dir / "cpuacct.usage").read_text()) / 1e9

    def enter(self) -> None:
        """preexec_fn: the child joins the cgroup before it execs."""
        if self.dir is not None:
            (self.dir / "cgroup.procs").write_text(str(os.getpid()))

    def close(self) -> None:
        for hierarchy in CGROUPS.iterdir():
            top = hierarchy / self.name
            if not top.is_dir() or hierarchy.is_symlink():
                continue
            for d in sorted(top.rglob("*"), key=lambda p: len(p.parts), reverse=True):
                if d.is_dir():
                    with contextlib.suppress(OSError):
                        d.rmdir()
            with contextlib.suppress(OSError):
                top.rmdir()


class DockerCpu:
    """CPU seconds the docker daemons and the containers used (see the module docstring)."""

    def sample(self) -> dict[str, float]:
        found: dict[str, float] = {}
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                comm = Path(f"/proc/{pid}/comm").read_text().strip()
                if comm in ("dockerd", "containerd") or comm.startswith("containerd-shim"):
                    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                    found[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            except (OSError, IndexError, ValueError):
                continue
        try:
            found["cgroup"] = int((CGROUPS / "cpuacct/docker/cpuacct.usage").read_text()) / 1e9
        except (OSError, ValueError):
            pass
        return found

    @staticmethod
    def delta(before: dict[str, float], after: dict[str, float]) -> float:
        return sum(value - before.get(key, 0.0) for key, value in after.items())


class Tool:
    """One compose implementation: its command line, environment and CPU meter."""

    def __init__(self, name: str, cli: list[str], env: dict[str, str], image: str) -> None:
        self.name, self.cli, self.env, self.image = name, cli, env, image
        self.cgroup: Cgroup | None = None
        self.docker_cpu = DockerCpu() if name == "docker" else None

    @classmethod
    def pycompose(cls, tmp: Path, image: str) -> Tool:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        tool = cls("pycompose", _pycompose_cli(), env, image)
        tool.cgroup = Cgroup()
        env.update(
            PYCOMPOSE_STATE_DIR=f"{tmp}/state",
            PYCOMPOSE_RUN_DIR=f"{tmp}/run",
            PYCOMPOSE_CGROUP_ROOT=tool.cgroup.root,
        )
        return tool

    @classmethod
    def docker(cls) -> Tool | None:
        if not docker_compose_usable():
            return None
        return cls("docker", [DOCKER, "compose"], dict(os.environ), DOCKER_IMAGE)

    def run(
        self, file: Path, project: str, *args: str, check: bool = True
    ) -> tuple[float, float | None]:
        """(wall, cpu) seconds of ``<cli> -f file -p project args...``."""
        argv = [*self.cli, "-f", str(file), "-p", project, *args]
        cpu0 = self._cpu()
        start = time.perf_counter()
        proc = subprocess.run(
            argv,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=1800,
            preexec_fn=self.cgroup.enter if self.cgroup else None,
        )
        wall = time.perf_counter() - start
        if check and proc.returncode != 0:
            raise RuntimeError(f"{self.name} {' '.join(args)} failed:\n{proc.stderr[-2000:]}")
        return wall, self._cpu_since(cpu0)

    def _cpu(self) -> object:
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        own = children.ru_utime + children.ru_stime
        if self.cgroup is not None:
            return self.cgroup.usage()
        return own, self.docker_cpu.sample() if self.docker_cpu else {}

    def _cpu_since(self, before: object) -> float | None:
        if self.cgroup is not None:
            now = self.cgroup.usage()
            return None if now is None or before is None else now - before
        own0, daemons0 = before
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        own = children.ru_utime + children.ru_stime - own0
        if self.docker_cpu is None:
            return own
        return own + DockerCpu.delta(daemons0, self.docker_cpu.sample())

    def close(self) -> None:
        if self.cgroup is not None:
            self.cgroup.close()


def _pycompose_cli() -> list[str]:
    exe = Path(sys.executable).with_name("pycompose")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "compose"]


def docker_compose_usable() -> bool:
    if not os.access(DOCKER, os.X_OK):
        return False
    version = subprocess.run([DOCKER, "compose", "version"], capture_output=True)
    info = subprocess.run([DOCKER, "info"], capture_output=True)
    return version.returncode == 0 and info.returncode == 0


def services_stack(path: Path, image: str, services: int, replicas: int = 1) -> Path:
    """``services`` busybox services (s0, s1, ...), or one service ``web`` when services == 0."""
    names = [f"s{i}" for i in range(services)] if services else ["web"]
    lines = ["services:"]
    for name in names:
        lines += [f"  {name}:", f"    image: {image}", f"    command: {COMMAND}"]
        if replicas != 1:
            lines += [f"    scale: {replicas}"]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


@contextlib.contextmanager
def tools(tmp: Path, registry_host: str, peer: bool = True) -> Iterator[list[Tool]]:
    """pycompose (the test registry's busybox), then docker compose when it is usable."""
    made = [Tool.pycompose(tmp, f"{registry_host}/busybox:latest")]
    other = Tool.docker() if peer else None
    if other is not None:
        made.append(other)
    elif peer:
        print("docker compose not usable (bash ../shared/peers/setup.sh): pycompose figures only")
    try:
        yield made
    finally:
        for tool in made:
            tool.close()


def interleaved(rounds: int, tools: Sequence[Tool], body: Callable[[Tool], None]) -> None:
    """``body(tool)`` for each tool, ``rounds`` times, the first tool alternating."""
    for n in range(rounds):
        for tool in tools if n % 2 == 0 else list(reversed(tools)):
            body(tool)


def supervisor_rss_mb(tool: Tool, project: str) -> float | None:
    """The detached supervisor's resident memory (pycompose only)."""
    lock = Path(tool.env.get("PYCOMPOSE_RUN_DIR", "/run/pycompose")) / "projects" / project / "lock"
    try:
        pid = int(lock.read_text())
        status = Path(f"/proc/{pid}/status").read_text()
    except (OSError, ValueError):
        return None
    kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS"))
    return kb / 1024


def serve_registry_and(run: Callable[[str], None]) -> None:
    """Script entry: a temporary test registry for ``run(host)``."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from tests.images import registry as reg

    with reg.temporary() as server:
        run(server.host)
