"""The ``Runtime`` protocol the orchestrator programs against (LinuxRuntime implements it)."""

from __future__ import annotations

import subprocess
from typing import Any, Protocol

from compose.runtime.cgroups import CgroupStats
from compose.runtime.spec import ContainerHandle, ContainerSpec, ExitStatus


class Runtime(Protocol):
    def create(
        self, spec: ContainerSpec, stdio: tuple[int, int, int] | None = None
    ) -> ContainerHandle: ...
    def start(self, handle: ContainerHandle) -> None: ...
    def run(self, spec: ContainerSpec) -> ContainerHandle: ...
    def stop(
        self, handle: ContainerHandle, signal: int | None = None, timeout: float | None = None
    ) -> int | None: ...
    def kill(self, handle: ContainerHandle, signal: int = ...) -> None: ...
    def wait(self, handle: ContainerHandle, timeout: float | None = None) -> ExitStatus: ...
    def remove(self, handle: ContainerHandle) -> None: ...
    def exec(
        self,
        handle: ContainerHandle,
        argv: list[str],
        env: list[str] | None = None,
        user: str | None = None,
        workdir: str | None = None,
        tty: bool = False,
        **popen: Any,
    ) -> int: ...
    def exec_process(
        self,
        handle: ContainerHandle,
        argv: list[str],
        env: list[str] | None = None,
        user: str | None = None,
        workdir: str | None = None,
        tty: bool = False,
        **popen: Any,
    ) -> subprocess.Popen[bytes] | Any: ...
    def is_alive(self, pid: int, start_time: int | None) -> bool: ...
    def state(self, handle: ContainerHandle) -> str: ...
    def pause(self, handle: ContainerHandle) -> None: ...
    def unpause(self, handle: ContainerHandle) -> None: ...
    def stats(self, handle: ContainerHandle) -> CgroupStats: ...
    def warm(self) -> None:
        """Start the fork server now (the first ``create`` would otherwise)."""

    def close(self) -> None:
        """Stop the fork server (containers keep running)."""
