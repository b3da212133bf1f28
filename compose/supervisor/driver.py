"""The seam between the supervisor's logic and the machine: everything the loop calls.

``Driver`` is what the executor, the health monitor and the reconciler call, and nothing else
of the machine is reachable from them. The real one (``machine.linux.LinuxDriver``) drives
images, volumes, netplug and the runtime through ``blocking.run_sync``; unit tests use a fake
that records calls (``tests/unit/supervisor/supervisor_fakes.FakeDriver``, which implements
exactly this). Verbs are idempotent where they say so (``remove_*`` tolerates absence).
"""

from __future__ import annotations

from typing import Protocol

from compose.planner.actions import EnsureNetwork, EnsureVolume, RemoveNetwork, RemoveVolume
from compose.supervisor.health import HealthSpec
from compose.supervisor.restart import RestartPolicy


class Driver(Protocol):
    # networks and volumes (a plan's setup and teardown)
    async def ensure_network(self, action: EnsureNetwork) -> None: ...

    async def ensure_volume(self, action: EnsureVolume) -> None: ...

    async def remove_network(self, action: RemoveNetwork) -> None: ...

    async def remove_volume(self, action: RemoveVolume) -> None: ...

    # one replica's lifecycle
    async def create_replica(
        self, service: str, index: int, name: str | None = None, inherit: bool = True
    ) -> None:
        """``name``: a staging name (a recreation's successor); default the replica's own.
        ``inherit``: a successor mounts its predecessor's anonymous volumes (not: `up -V`)."""
        ...

    async def take_over_replica(self, old: str, new: str) -> None:
        """A successor takes over its stopped predecessor's addresses (before its removal)."""
        ...

    async def rename_replica(self, old: str, new: str) -> None:
        """A staging replica takes its predecessor's name (that one is removed already)."""
        ...

    async def start_replica(self, name: str) -> None: ...

    async def stop_replica(self, name: str, timeout: float | None = None) -> None: ...

    async def kill_replica(self, name: str, signal: int) -> None: ...

    async def pause_replica(self, name: str) -> None: ...

    async def unpause_replica(self, name: str) -> None: ...

    async def remove_replica(self, name: str) -> None: ...

    async def wait_exit(self, name: str) -> int | None:
        """Return the exit code once the replica's process has ended (None if unknown)."""
        ...

    async def probe(self, name: str, argv: tuple[str, ...], timeout: float) -> int:
        """A healthcheck command in the replica; its exit code."""
        ...

    async def accepting(self, name: str) -> str:
        """ "" when the replica accepts TCP connections on each of its service's ports (or has
        none, or no address of its own); else why not (``TCP 10.0.0.2:6379: Connection
        refused``). Cheap: test mode's readiness and eager health probes poll it."""
        ...

    # who gets traffic (DNS, /etc/hosts, the loopback proxy, DNAT)
    def withhold_replica(self, name: str) -> None:
        """A replica about to be created gets no traffic until ``admit_replica``."""
        ...

    async def admit_replica(self, name: str) -> None: ...

    async def drain_replica(self, name: str, successor: str | None = None) -> None:
        """No new connections for a replica that has a successor (it still runs); a withheld
        ``successor`` gets them instead, in the same step: names resolve to it, and clients
        that cached the replica's addresses wait (never refused) until it takes them over."""
        ...

    async def wait_serving(self, name: str, timeout: float = ...) -> bool:
        """Until the replica accepts connections on its published TCP ports, and where its
        predecessor listens (a staging successor); False: timed out."""
        ...

    async def replica_exited(self, name: str, service: str) -> None:
        """A replica died on its own: it leaves DNS, /etc/hosts and the DNAT set now."""
        ...

    async def refresh_network_services(self) -> None:
        """DNS, proxies and /etc/hosts follow the records (adopted replicas included)."""
        ...

    # what the stack says, and what the loop reports
    def name_of(self, service: str, index: int) -> str: ...

    def healthcheck(self, service: str) -> HealthSpec | None: ...

    def restart_policy(self, service: str) -> RestartPolicy: ...

    def record_failures(self, failed: dict[str, str]) -> None:
        """The services the loop gave up on (terminal errors), for ``ps``."""
        ...
