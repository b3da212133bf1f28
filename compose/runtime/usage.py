"""What a running container uses, as ``docker stats`` shows it: CPU %, memory (without the page
cache the kernel may drop, against the limit or the host's memory), network and block I/O, pids.

Read from the container's cgroup (v1 or v2, ``cgroups.detect``) and its network namespace
(``/proc/<pid>/net/dev``). CPU % is the CPU time used between two samples over the time that
passed (100 % = one core busy), which is what docker's formula works out to.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from compose.runtime import cgroups


@dataclass(frozen=True, slots=True)
class Usage:
    cpu_percent: float
    memory: int
    memory_limit: int
    net_rx: int
    net_tx: int
    block_read: int
    block_write: int
    pids: int

    @property
    def memory_percent(self) -> float:
        return 100.0 * self.memory / self.memory_limit if self.memory_limit else 0.0


@dataclass(frozen=True, slots=True)
class Target:
    cgroup_path: str
    pid: int | None  # PID 1 of the container: its network namespace


def sample(
    targets: Sequence[Target], interval: float = 0.5, driver: cgroups.CgroupDriver | None = None
) -> list[Usage]:
    """Two readings ``interval`` apart, one usage per target (in order)."""
    driver = driver or cgroups.detect()
    first = [driver.stats(t.cgroup_path) for t in targets]
    start = time.monotonic()
    time.sleep(interval)
    second = [driver.stats(t.cgroup_path) for t in targets]
    elapsed_ns = (time.monotonic() - start) * 1e9
    host = host_memory()
    out = []
    for target, before, now in zip(targets, first, second, strict=True):
        rx, tx = net_bytes(target.pid)
        out.append(
            Usage(
                cpu_percent=100.0 * max(now.cpu_ns - before.cpu_ns, 0) / elapsed_ns,
                memory=max(now.memory_bytes - now.memory_inactive_file, 0),
                memory_limit=now.memory_limit or host,
                net_rx=rx,
                net_tx=tx,
                block_read=now.io_read_bytes,
                block_write=now.io_write_bytes,
                pids=now.pids,
            )
        )
    return out


def net_bytes(pid: int | None, proc: Path = Path("/proc")) -> tuple[int, int]:
    """Received and sent bytes of the namespace's interfaces, loopback aside."""
    if not pid:
        return 0, 0
    try:
        text = (proc / str(pid) / "net" / "dev").read_text()
    except OSError:
        return 0, 0
    rx = tx = 0
    for line in text.splitlines()[2:]:
        name, _, counters = line.partition(":")
        fields = counters.split()
        if name.strip() != "lo" and len(fields) >= 9:
            rx, tx = rx + int(fields[0]), tx + int(fields[8])
    return rx, tx


def host_memory(meminfo: Path = Path("/proc/meminfo")) -> int:
    """MemTotal in bytes: the limit docker shows for a container without one."""
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0
