"""A fake Driver for supervisor tests: replicas are timers, probes are functions.

``FakeDriver`` implements exactly the ``Driver`` protocol (test_driver_protocol checks it):
the loop reaches nothing else of the machine."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import anyio

from compose.supervisor.health import HealthSpec
from compose.supervisor.restart import RestartPolicy


@dataclass
class FakeService:
    exit_code: int | None = None  # None: runs until stopped
    run_for: float = 0.0
    health: HealthSpec | None = None
    probe: Callable[[int], int] = lambda n: 0  # n-th probe -> exit code
    policy: RestartPolicy = field(default_factory=RestartPolicy)
    fail_create: str | None = None


class FakeDriver:
    def __init__(self, project: str = "p", **services: FakeService) -> None:
        self.project = project
        self.services = services
        self.calls: list[tuple[str, str]] = []  # lifecycle verbs, in order
        self.gate: list[tuple[str, str]] = []  # traffic: withhold / admit / drain / exited
        self.failures: list[dict[str, str]] = []  # every record_failures
        self._stopped: dict[str, anyio.Event] = {}
        self._probes: dict[str, int] = {}

    def _svc(self, name: str) -> FakeService:
        return self.services[name.split("-")[1]]

    async def ensure_network(self, action) -> None:
        self.calls.append(("ensure_network", action.full_name))

    async def ensure_volume(self, action) -> None:
        self.calls.append(("ensure_volume", action.full_name))

    async def remove_network(self, action) -> None:
        self.calls.append(("remove_network", action.full_name))

    async def remove_volume(self, action) -> None:
        self.calls.append(("remove_volume", action.full_name))

    async def create_replica(
        self, service: str, index: int, name: str | None = None, inherit: bool = True
    ) -> None:
        name = name or f"{self.project}-{service}-{index}"
        if self.services[service].fail_create:
            raise RuntimeError(self.services[service].fail_create)
        self.calls.append(("create", name))

    async def take_over_replica(self, old: str, new: str) -> None:
        self.calls.append(("take_over", f"{old}->{new}"))

    async def rename_replica(self, old: str, new: str) -> None:
        self.calls.append(("rename", f"{old}->{new}"))
        if old in self._stopped:  # a stop-first successor starts after the rename
            self._stopped[new] = self._stopped.pop(old)

    async def start_replica(self, name: str) -> None:
        self._stopped[name] = anyio.Event()
        self.calls.append(("start", name))
        await anyio.sleep(0)

    async def stop_replica(self, name: str, timeout: float | None = None) -> None:
        self.calls.append(("stop", name))
        if name in self._stopped:
            self._stopped[name].set()

    async def kill_replica(self, name: str, signal: int) -> None:
        await self.stop_replica(name)

    async def pause_replica(self, name: str) -> None:
        self.calls.append(("pause", name))

    async def unpause_replica(self, name: str) -> None:
        self.calls.append(("unpause", name))

    async def remove_replica(self, name: str) -> None:
        self.calls.append(("remove", name))

    def withhold_replica(self, name: str) -> None:
        self.gate.append(("withhold", name))

    async def admit_replica(self, name: str) -> None:
        self.gate.append(("admit", name))

    async def drain_replica(self, name: str, successor: str | None = None) -> None:
        self.gate.append(("drain", name if successor is None else f"{name}->{successor}"))

    async def wait_serving(self, name: str, timeout: float = 30.0) -> bool:
        return True

    async def replica_exited(self, name: str, service: str) -> None:
        self.gate.append(("exited", name))

    async def refresh_network_services(self) -> None:
        pass

    def name_of(self, service: str, index: int) -> str:
        return f"{self.project}-{service}-{index}"

    def record_failures(self, failed: dict[str, str]) -> None:
        self.failures.append(failed)

    async def wait_exit(self, name: str) -> int | None:
        svc = self._svc(name)
        stopped = self._stopped[name]
        if svc.exit_code is None:
            await stopped.wait()
            return 143
        with anyio.move_on_after(svc.run_for):
            await stopped.wait()
            return 143
        return svc.exit_code

    async def accepting(self, name: str) -> str:
        return ""

    async def probe(self, name: str, argv: tuple[str, ...], timeout: float) -> int:
        count = self._probes.get(name, 0)
        self._probes[name] = count + 1
        return self._svc(name).probe(count)

    def healthcheck(self, service: str) -> HealthSpec | None:
        return self.services[service].health

    def restart_policy(self, service: str) -> RestartPolicy:
        return self.services[service].policy

    def names(self, verb: str) -> list[str]:
        return [n for v, n in self.calls if v == verb]
