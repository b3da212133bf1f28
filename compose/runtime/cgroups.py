"""Cgroups behind one interface: ``CgroupV1`` (this machine) and ``CgroupV2`` (most users).

Both drivers take a root (``/sys/fs/cgroup`` by default) so tests can point them at a fresh
cgroup2 mount or at a fake tree. Paths are relative, e.g. ``pycompose/<project>/<container-id>``.

    create(path, limits)  mkdir (+ enable v2 controllers on the ancestors) and write the limits
    procs_files(path)     the cgroup.procs files the init writes "0" into (joins before GO)
    oom_file(path)        where ``oom_kill N`` is counted (memory.oom_control / memory.events)
    freeze / thaw         pause / unpause, waiting until the kernel reports the state
    kill_all(path, sig)   v2: cgroup.kill; v1: freeze, signal every pid, thaw
    stats(path)           cpu ns, memory bytes (+limit), pids
    remove(path, timeout) wait for the group to empty, then rmdir (idempotent)

Device access: runc's default allow-list (mknod of anything; open only null/zero/full/random/
urandom/tty/console/ptmx/pts/tun): v1 through the devices controller, v2 through a
BPF_PROG_TYPE_CGROUP_DEVICE program (``devicefilter``).
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal as _signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

from msgspec import Struct

from compose.errors import ContainerError
from compose.runtime.spec import Limits

CPU_PERIOD = 100_000
# runc's default device rules (what Docker allows a non-privileged container to open)
DEVICE_RULES = (
    "c *:* m",
    "b *:* m",  # mknod anything, open nothing else
    "c 1:3 rwm",
    "c 1:5 rwm",
    "c 1:7 rwm",
    "c 1:8 rwm",
    "c 1:9 rwm",  # null zero full (u)random
    "c 5:0 rwm",
    "c 5:1 rwm",
    "c 5:2 rwm",
    "c 136:* rwm",  # tty console ptmx pts
    "c 10:200 rwm",  # net/tun
)
V2_CONTROLLERS = ("memory", "cpu", "pids", "cpuset")


class CgroupError(ContainerError):
    pass


class CgroupStats(Struct, frozen=True):
    cpu_ns: int = 0
    memory_bytes: int = 0
    memory_limit: int | None = None
    pids: int = 0
    memory_inactive_file: int = 0  # page cache the kernel may drop (docker's usage excludes it)
    io_read_bytes: int = 0
    io_write_bytes: int = 0


class CgroupDriver(Protocol):
    version: int

    def create(self, path: str, limits: Limits, privileged: bool = False) -> None: ...
    def procs_files(self, path: str) -> list[str]: ...
    def oom_file(self, path: str) -> str: ...
    def pids(self, path: str) -> list[int]: ...
    def freeze(self, path: str) -> None: ...
    def frozen(self, path: str) -> bool: ...
    def thaw(self, path: str) -> None: ...
    def kill_all(self, path: str, sig: int = _signal.SIGKILL) -> None: ...
    def stats(self, path: str) -> CgroupStats: ...
    def remove(self, path: str, timeout: float = 10.0) -> None: ...
    def remove_if_empty(self, path: str) -> None: ...
    def exists(self, path: str) -> bool: ...


def memory_swap(limits: Limits) -> int:
    """memory + swap: ``memswap_limit`` if given (-1 = unlimited), else Docker's 2 x memory."""
    assert limits.memory
    return limits.memory_swap if limits.memory_swap else 2 * limits.memory


def cpu_quota(limits: Limits) -> tuple[int, int] | None:
    """(quota, period) in µs from ``cpus`` (Docker's --cpus) or ``cpu_quota``/``cpu_period``."""
    period = limits.cpu_period or CPU_PERIOD
    if limits.cpus:
        return max(1000, int(limits.cpus * period)), period
    if limits.cpu_quota:
        return limits.cpu_quota, period
    return None


def _write(path: Path, value: str) -> None:
    try:
        with open(path, "w") as f:
            f.write(value)
    except OSError as err:
        raise CgroupError(f"cgroup: write {value!r} to {path}: {err.strerror}") from err


def _read(path: Path, default: str = "") -> str:
    try:
        return path.read_text()
    except OSError:
        return default


def _keyed(text: str) -> dict[str, int]:
    out = {}
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if value.strip().lstrip("-").isdigit():
            out[key] = int(value)
    return out


def _v1_io(text: str) -> tuple[int, int]:
    """blkio.throttle.io_service_bytes (``8:0 Read 4096``): read and written bytes."""
    read = write = 0
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2].isdigit():
            read += int(parts[2]) if parts[1] == "Read" else 0
            write += int(parts[2]) if parts[1] == "Write" else 0
    return read, write


def _v2_io(text: str) -> tuple[int, int]:
    """io.stat (``8:0 rbytes=4096 wbytes=0 …``): read and written bytes."""
    read = write = 0
    for line in text.splitlines():
        fields = dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)
        read += int(fields.get("rbytes", 0))
        write += int(fields.get("wbytes", 0))
    return read, write


@contextlib.contextmanager
def _unless_removed(directory: Path) -> Iterator[None]:
    """A cgroup another remover took away meanwhile (a `run --rm` ending while `down` removes
    the same one-off) has nothing left to kill: its vanished files are not an error."""
    try:
        yield
    except CgroupError:
        if directory.is_dir():
            raise


def _wait_until(check: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    delay = 0.001
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise CgroupError(f"cgroup: timed out waiting for {what}")
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


MAKE_ATTEMPTS = 50  # one `down` takes the root once; many at once take it again and again


def _made_again(make: Callable[[], None]) -> None:
    """``make()`` a group's directories, again when an empty ancestor went meanwhile: another
    process's ``remove_if_empty`` of a shared parent (the last project's ``down`` takes the
    ``pycompose`` root) between our mkdir of it and of its child. Once the group exists, its
    ancestors are not empty and stay."""
    for _ in range(MAKE_ATTEMPTS - 1):
        try:
            return make()
        except FileNotFoundError:
            continue
        except CgroupError as err:  # a write into a level that went (or goes as it writes)
            cause = err.__cause__
            if not (isinstance(cause, OSError) and cause.errno in (errno.ENOENT, errno.ENODEV)):
                raise
    try:
        make()
    except FileNotFoundError as err:
        raise CgroupError(f"cgroup: create {err.filename}: {err.strerror}") from err


def _rmdir(path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            path.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError as err:
            if err.errno != errno.EBUSY or time.monotonic() > deadline:
                raise CgroupError(f"cgroup: remove {path}: {err.strerror}") from err
            time.sleep(0.005)


def _pids_of(files: list[Path]) -> list[int]:
    found: set[int] = set()
    for f in files:
        found.update(int(x) for x in _read(f).split())
    return sorted(found)


def v1_hierarchies(root: Path) -> dict[str, Path]:
    """Every hierarchy mounted under ``root``: controller (or ``name=``, or ``unified`` for a
    hybrid host's cgroup2) -> its directory; co-mounted controllers share one."""
    found: dict[str, Path] = {}
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError:
        return found
    for entry in entries:
        if (
            entry.is_symlink()
            or not entry.is_dir()
            or not os.path.exists(os.path.join(entry.path, "cgroup.procs"))
        ):
            continue
        for name in entry.name.split(","):
            found.setdefault(name, Path(entry.path))
    return found


class CgroupV1:
    """v1 (and hybrid): a container joins EVERY mounted hierarchy, as runc does (cpuset,
    blkio, hugetlb, name=systemd, the hybrid cgroup2 ...), so its cgroup namespace hides the
    host's tree in all of them, even from a container that mounts one afresh (CAP_SYS_ADMIN:
    the host root's ``release_agent`` is then out of its reach)."""

    version = 1

    def __init__(self, root: Path = Path("/sys/fs/cgroup"), controllers: tuple[str, ...] = ()):
        self.root = root
        found = v1_hierarchies(root)
        if controllers:
            found = {c: d for c, d in found.items() if c in controllers}
        self._by_name = found
        self.controllers = tuple(found)
        self.hierarchies = tuple(dict.fromkeys(found.values()))

    def dirs(self, path: str) -> list[Path]:
        return [h / path for h in self.hierarchies]

    def _dir(self, controller: str, path: str) -> Path:
        return self._by_name.get(controller, self.root / controller) / path

    def exists(self, path: str) -> bool:
        return any(d.is_dir() for d in self._all_dirs(path))

    def create(self, path: str, limits: Limits, privileged: bool = False) -> None:
        _made_again(lambda: self._make(path))
        self._limits(path, limits)
        if limits.cpuset:
            if "cpuset" not in self._by_name:
                raise CgroupError("cgroup: cpuset: the cpuset controller is not mounted")
            _write(self._dir("cpuset", path) / "cpuset.cpus", limits.cpuset)
        if "devices" in self.controllers and not privileged:
            self._device_rules(self._dir("devices", path))

    def _make(self, path: str) -> None:
        if "cpuset" in self._by_name:
            self._cpuset_levels(path)  # first: an empty cpuset cannot take tasks
        for d in self.dirs(path):
            d.mkdir(parents=True, exist_ok=True)

    def _cpuset_levels(self, path: str) -> None:
        """v1 cpusets start empty: every new level copies cpus/mems from its parent, top down,
        once the whole path exists (so no level is an empty parent another process's
        ``remove_if_empty`` could take meanwhile)."""
        base = self._by_name["cpuset"]
        parts = Path(path).parts
        base.joinpath(*parts).mkdir(parents=True, exist_ok=True)
        for depth in range(1, len(parts) + 1):
            d, parent = base.joinpath(*parts[:depth]), base.joinpath(*parts[: depth - 1])
            for name in ("cpuset.cpus", "cpuset.mems"):
                if not _read(d / name).strip():
                    _write(d / name, _read(parent / name).strip())

    def _all_dirs(self, path: str) -> list[Path]:
        return self.dirs(path)

    @staticmethod
    def _device_rules(d: Path) -> None:
        """One open of devices.allow for every rule (the kernel takes one rule per write)."""
        _write(d / "devices.deny", "a")
        allow = d / "devices.allow"
        try:
            fd = os.open(allow, os.O_WRONLY)
        except OSError as err:
            raise CgroupError(f"cgroup: open {allow}: {err.strerror}") from err
        try:
            for rule in DEVICE_RULES:
                try:
                    os.write(fd, rule.encode())
                except OSError as err:
                    raise CgroupError(f"cgroup: write {rule!r} to {allow}: {err.strerror}") from err
        finally:
            os.close(fd)

    def _limits(self, path: str, limits: Limits) -> None:
        if "memory" in self.controllers:
            self._memory_limits(self._dir("memory", path), limits)
        if "cpu" in self.controllers:
            self._cpu_limits(self._dir("cpu", path), limits)
        if limits.pids and "pids" in self.controllers:
            _write(self._dir("pids", path) / "pids.max", str(limits.pids))

    @staticmethod
    def _memory_limits(mem: Path, limits: Limits) -> None:
        if limits.memory:
            _write(mem / "memory.limit_in_bytes", str(limits.memory))
            if (mem / "memory.memsw.limit_in_bytes").exists():
                _write(mem / "memory.memsw.limit_in_bytes", str(memory_swap(limits)))
        if limits.memory_reservation:
            _write(mem / "memory.soft_limit_in_bytes", str(limits.memory_reservation))
        if limits.swappiness is not None:
            _write(mem / "memory.swappiness", str(limits.swappiness))
        if limits.oom_kill_disable:
            _write(mem / "memory.oom_control", "1")

    @staticmethod
    def _cpu_limits(cpu: Path, limits: Limits) -> None:
        quota = cpu_quota(limits)
        if quota:
            _write(cpu / "cpu.cfs_period_us", str(quota[1]))
            _write(cpu / "cpu.cfs_quota_us", str(quota[0]))
        if limits.cpu_shares:
            _write(cpu / "cpu.shares", str(limits.cpu_shares))

    def procs_files(self, path: str) -> list[str]:
        return [str(d / "cgroup.procs") for d in self._all_dirs(path)]

    def oom_file(self, path: str) -> str:
        return str(self._dir("memory", path) / "memory.oom_control")

    def pids(self, path: str) -> list[int]:
        return _pids_of([d / "cgroup.procs" for d in self.dirs(path)])

    def _freezer_state(self, path: str) -> str:
        return _read(self._dir("freezer", path) / "freezer.state").strip()

    def frozen(self, path: str) -> bool:
        return self._freezer_state(path) == "FROZEN"

    def freeze(self, path: str) -> None:
        if "freezer" in self.controllers:
            _write(self._dir("freezer", path) / "freezer.state", "FROZEN")
            _wait_until(lambda: self._freezer_state(path) in ("FROZEN", ""), 10, "freeze")

    def thaw(self, path: str) -> None:
        if "freezer" in self.controllers:
            _write(self._dir("freezer", path) / "freezer.state", "THAWED")
            _wait_until(lambda: self._freezer_state(path) in ("THAWED", ""), 10, "thaw")

    def kill_all(self, path: str, sig: int = _signal.SIGKILL) -> None:
        """Freeze, signal every pid, thaw. A cgroup half made by a killed create (some
        controller dirs missing, freezer among them) is still emptied, just without freezing."""
        if not self.pids(path):  # empty (or gone): nothing can enter it, nothing to freeze
            return
        freezer = self._dir("freezer", path)
        with _unless_removed(freezer):
            freezable = freezer.is_dir()
            if freezable:
                self.freeze(path)
            try:
                for pid in self.pids(path):
                    _kill(pid, sig)
            finally:
                if freezable:
                    self.thaw(path)

    def stats(self, path: str) -> CgroupStats:
        mem = self._dir("memory", path)
        limit = int(_read(mem / "memory.limit_in_bytes", "0") or 0)
        io = _v1_io(_read(self.root / "blkio" / path / "blkio.throttle.io_service_bytes"))
        return CgroupStats(
            cpu_ns=int(_read(self._dir("cpuacct", path) / "cpuacct.usage", "0") or 0),
            memory_bytes=int(_read(mem / "memory.usage_in_bytes", "0") or 0),
            memory_limit=limit if 0 < limit < (1 << 62) else None,
            pids=len(self.pids(path)),
            memory_inactive_file=_keyed(_read(mem / "memory.stat")).get("total_inactive_file", 0),
            io_read_bytes=io[0],
            io_write_bytes=io[1],
        )

    def remove(self, path: str, timeout: float = 10.0) -> None:
        _wait_until(lambda: not self.pids(path), timeout, f"{path} to empty")
        for d in self._all_dirs(path):
            _rmdir(d, timeout)

    def remove_if_empty(self, path: str) -> None:
        """rmdir a shared parent (e.g. the ``pycompose`` root) unless other groups live in it."""
        for d in self._all_dirs(path):
            with contextlib.suppress(OSError):
                d.rmdir()


def _kill(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


class CgroupV2:
    version = 2

    def __init__(self, root: Path = Path("/sys/fs/cgroup"), device_filter: bool = True) -> None:
        self.root = root
        self.device_filter = device_filter

    def exists(self, path: str) -> bool:
        return (self.root / path).is_dir()

    def _enable_controllers(self, path: str) -> None:
        parts = Path(path).parts
        for depth in range(len(parts)):
            parent = self.root.joinpath(*parts[:depth])
            have = set(_read(parent / "cgroup.controllers").split())
            enabled = set(_read(parent / "cgroup.subtree_control").split())
            missing = [c for c in V2_CONTROLLERS if c in have and c not in enabled]
            if missing:
                _write(parent / "cgroup.subtree_control", " ".join(f"+{c}" for c in missing))

    def create(self, path: str, limits: Limits, privileged: bool = False) -> None:
        _made_again(lambda: (self.root / path).mkdir(parents=True, exist_ok=True))
        self._enable_controllers(path)
        self._limits(self.root / path, limits)
        if self.device_filter and not privileged:
            from compose.runtime import devicefilter

            try:
                devicefilter.attach(str(self.root / path))
            except OSError as err:
                raise CgroupError(f"cgroup: device filter on {path}: {err.strerror}") from err

    def _limits(self, d: Path, limits: Limits) -> None:
        if limits.memory:
            _write(d / "memory.max", str(limits.memory))
            if (d / "memory.swap.max").exists():
                total = memory_swap(limits)
                _write(d / "memory.swap.max", "max" if total < 0 else str(total - limits.memory))
        if limits.memory_reservation:
            _write(d / "memory.low", str(limits.memory_reservation))
        quota = cpu_quota(limits)
        if quota:
            _write(d / "cpu.max", f"{quota[0]} {quota[1]}")
        if limits.cpu_shares:
            _write(d / "cpu.weight", str(1 + ((limits.cpu_shares - 2) * 9999) // 262142))
        if limits.pids:
            _write(d / "pids.max", str(limits.pids))
        if limits.cpuset:
            _write(d / "cpuset.cpus", limits.cpuset)

    def procs_files(self, path: str) -> list[str]:
        return [str(self.root / path / "cgroup.procs")]

    def oom_file(self, path: str) -> str:
        return str(self.root / path / "memory.events")

    def pids(self, path: str) -> list[int]:
        return _pids_of([self.root / path / "cgroup.procs"])

    def frozen(self, path: str) -> bool:
        return _keyed(_read(self.root / path / "cgroup.events")).get("frozen") == 1

    def freeze(self, path: str) -> None:
        d = self.root / path
        _write(d / "cgroup.freeze", "1")
        _wait_until(lambda: self.frozen(path) or not d.is_dir(), 10, "freeze")

    def thaw(self, path: str) -> None:
        _write(self.root / path / "cgroup.freeze", "0")
        _wait_until(lambda: not self.frozen(path), 10, "thaw")

    def kill_all(self, path: str, sig: int = _signal.SIGKILL) -> None:
        d = self.root / path
        if not d.is_dir():
            return
        with _unless_removed(d):
            if sig == _signal.SIGKILL and (d / "cgroup.kill").exists():
                _write(d / "cgroup.kill", "1")
                return
            self.freeze(path)
            try:
                for pid in self.pids(path):
                    _kill(pid, sig)
            finally:
                self.thaw(path)

    def stats(self, path: str) -> CgroupStats:
        d = self.root / path
        limit = _read(d / "memory.max", "max").strip()
        io = _v2_io(_read(d / "io.stat"))
        return CgroupStats(
            cpu_ns=_keyed(_read(d / "cpu.stat")).get("usage_usec", 0) * 1000,
            memory_bytes=int(_read(d / "memory.current", "0").strip() or 0),
            memory_limit=int(limit) if limit.isdigit() else None,
            pids=len(self.pids(path)),
            memory_inactive_file=_keyed(_read(d / "memory.stat")).get("inactive_file", 0),
            io_read_bytes=io[0],
            io_write_bytes=io[1],
        )

    def remove(self, path: str, timeout: float = 10.0) -> None:
        d = self.root / path
        if not d.is_dir():
            return
        _wait_until(lambda: not self.pids(path), timeout, f"{path} to empty")
        _rmdir(d, timeout)

    def remove_if_empty(self, path: str) -> None:
        with contextlib.suppress(OSError):
            (self.root / path).rmdir()


def detect(root: Path = Path("/sys/fs/cgroup")) -> CgroupDriver:
    """v2 when the root is a unified hierarchy, else v1 (hybrid machines like this one)."""
    if (root / "cgroup.controllers").exists():
        return CgroupV2(root)
    return CgroupV1(root)
