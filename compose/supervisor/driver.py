"""The seam between the supervisor's logic and the machine.

``Driver`` is what the executor, the health monitor and the reconciler call. The real one
(``compose.supervisor.linux.LinuxDriver``) drives images, volumes, netplug and the runtime through
``blocking.run_sync``; unit tests use a fake that records calls. All methods are idempotent where
their verb says so (``remove_*`` tolerates absence).
"""

from __future__ import annotations

from typing import Protocol

from compose.planner.actions import EnsureNetwork, EnsureVolume, RemoveNetwork, RemoveVolume
from compose.supervisor.health import HealthSpec
from compose.supervisor.restart import RestartPolicy


class Driver(Protocol):
    async def ensure_network(self, action: EnsureNetwork) -> None: ...

    async def ensure_volume(self, action: EnsureVolume) -> None: ...

    async def remove_network(self, action: RemoveNetwork) -> None: ...

    async def remove_volume(self, action: RemoveVolume) -> None: ...

    async def create_replica(self, service: str, index: int, name: str | None = None) -> None:
        """``name``: a staging name (start-first recreation); default the replica's own."""
        ...

    async def rename_replica(self, old: str, new: str) -> None:
        """A staging replica takes its predecessor's name (that one is removed already)."""
        ...

    async def start_replica(self, name: str) -> None: ...

    async def stop_replica(self, name: str, timeout: float | None = None) -> None: ...

    async def kill_replica(self, name: str, signal: int) -> None: ...

    async def remove_replica(self, name: str) -> None: ...

    async def wait_exit(self, name: str) -> int | None:
        """Return the exit code once the replica's process has ended (None if unknown)."""
        ...

    async def probe(self, name: str, argv: tuple[str, ...], timeout: float) -> int: ...

    def healthcheck(self, service: str) -> HealthSpec | None: ...

    def restart_policy(self, service: str) -> RestartPolicy: ...
