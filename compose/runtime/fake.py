"""``FakeRuntime``: records every call, never touches the kernel (for the orchestrator's tests).

    rt = FakeRuntime(exit_codes={"web": 0})   # containers of service "web" exit 0 when waited
    h = rt.run(spec); rt.stop(h); rt.remove(h)
    rt.actions == [("create", id), ("start", id), ("stop", id), ("remove", id)]

Containers run until stopped/killed unless ``exit_codes`` names their service; ``fail_create``
maps a container id to the error message ``create`` raises.
"""

from __future__ import annotations

import itertools
import signal as _signal
import subprocess
from typing import Any

from compose.errors import ContainerError
from compose.runtime.cgroups import CgroupStats
from compose.runtime.spec import ContainerHandle, ContainerSpec, ExitStatus


class FakeRuntime:
    def __init__(
        self,
        exit_codes: dict[str, int] | None = None,
        fail_create: dict[str, str] | None = None,
        exec_code: int = 0,
    ) -> None:
        self.exit_codes = dict(exit_codes or {})
        self.fail_create = dict(fail_create or {})
        self.exec_code = exec_code
        self.actions: list[tuple[Any, ...]] = []
        self.specs: dict[str, ContainerSpec] = {}
        self.alive: dict[int, ContainerHandle] = {}
        self.exited: dict[str, ExitStatus] = {}
        self.paused: set[str] = set()
        self._pids = itertools.count(10_000)

    def create(
        self, spec: ContainerSpec, stdio: tuple[int, int, int] | None = None
    ) -> ContainerHandle:
        self.actions.append(("create", spec.id))
        if spec.id in self.fail_create:
            raise ContainerError(f"{spec.subject}: {self.fail_create[spec.id]}")
        pid = next(self._pids)
        self.specs[spec.id] = spec
        return ContainerHandle(
            spec.id,
            pid,
            pid,
            pid + 1,
            pid + 1,
            spec.replica_dir,
            spec.cgroup_path,
            spec.log_file,
            spec.service,
            spec.replica,
            spec.stop_signal,
            spec.stop_grace_period,
        )

    def start(self, handle: ContainerHandle) -> None:
        self.actions.append(("start", handle.id))
        if handle.service in self.exit_codes:
            self.exited[handle.id] = ExitStatus(self.exit_codes[handle.service])
        else:
            self.alive[handle.pid] = handle

    def run(self, spec: ContainerSpec) -> ContainerHandle:
        handle = self.create(spec)
        self.start(handle)
        return handle

    def _end(self, handle: ContainerHandle, sig: int) -> None:
        if self.alive.pop(handle.pid, None) is not None:
            self.exited[handle.id] = ExitStatus(128 + sig, sig)

    def kill(self, handle: ContainerHandle, signal: int = _signal.SIGKILL) -> None:
        self.actions.append(("kill", handle.id, signal))
        self._end(handle, signal)

    def stop(
        self, handle: ContainerHandle, signal: int | None = None, timeout: float | None = None
    ) -> int | None:
        self.actions.append(("stop", handle.id))
        self._end(handle, signal or handle.stop_signal)
        return self.exited[handle.id].code if handle.id in self.exited else None

    def wait(self, handle: ContainerHandle, timeout: float | None = None) -> ExitStatus:
        if handle.id in self.exited:
            return self.exited[handle.id]
        raise TimeoutError(f"{handle.id} is still running")

    def remove(self, handle: ContainerHandle) -> None:
        self.actions.append(("remove", handle.id))
        self.alive.pop(handle.pid, None)
        self.specs.pop(handle.id, None)

    def exec(
        self,
        handle: ContainerHandle,
        argv: list[str],
        env: list[str] | None = None,
        user: str | None = None,
        workdir: str | None = None,
        tty: bool = False,
        **popen: Any,
    ) -> int:
        self.actions.append(("exec", handle.id, tuple(argv)))
        return self.exec_code

    def exec_process(
        self,
        handle: ContainerHandle,
        argv: list[str],
        env: list[str] | None = None,
        user: str | None = None,
        workdir: str | None = None,
        tty: bool = False,
        **popen: Any,
    ) -> subprocess.Popen[bytes]:
        self.actions.append(("exec", handle.id, tuple(argv)))
        return subprocess.Popen(["sh", "-c", f"exit {self.exec_code}"], **popen)

    def is_alive(self, pid: int, start_time: int | None) -> bool:
        return pid in self.alive

    def state(self, handle: ContainerHandle) -> str:
        if handle.id in self.paused:
            return "paused"
        if handle.pid in self.alive:
            return "running"
        return "exited" if handle.id in self.exited else "created"

    def pause(self, handle: ContainerHandle) -> None:
        self.actions.append(("pause", handle.id))
        self.paused.add(handle.id)

    def unpause(self, handle: ContainerHandle) -> None:
        self.actions.append(("unpause", handle.id))
        self.paused.discard(handle.id)

    def stats(self, handle: ContainerHandle) -> CgroupStats:
        return CgroupStats(pids=1 if handle.pid in self.alive else 0)
