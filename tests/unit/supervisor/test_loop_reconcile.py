"""The control loop's replica count: level-triggered reconcile with expectations, lowest free
index up, highest index down, per-key backoff on errors, terminal errors mark the service."""

from __future__ import annotations

import anyio
from supervisor_fakes import FakeDriver, FakeService

from compose.errors import ImageError
from compose.planner import (
    DesiredProject,
    DesiredService,
    DownOptions,
    UpOptions,
    plan_down,
    plan_up,
)
from compose.state import ObservedProject
from compose.supervisor import ReplicaState, Supervisor
from compose.supervisor.replicaset import Expectations, batches, diff, free_indexes
from compose.supervisor.restart import RestartPolicy


class FlakyDriver(FakeDriver):
    """create_replica raises ``errors`` in turn before it succeeds; slow creates."""

    def __init__(self, errors: list[Exception] | None = None, delay: float = 0.0, **svcs):
        super().__init__(**svcs)
        self.errors = list(errors or [])
        self.delay = delay

    async def create_replica(
        self, service: str, index: int, name: str | None = None, inherit: bool = True
    ) -> None:
        await anyio.sleep(self.delay)
        if self.errors:
            raise self.errors.pop(0)
        await super().create_replica(service, index, name, inherit)


def names(sup: Supervisor, service: str = "web") -> list[int]:
    return [s.index for s in sup.tracker.of_service(service)]


async def settle(sup: Supervisor, service: str, count: int) -> None:
    with anyio.fail_after(5):
        await sup.tracker.wait_for(
            lambda: (
                len(sup.tracker.of_service(service)) == count
                and sup.expect.satisfied(service)
                and all(s.running for s in sup.tracker.of_service(service))
            )
        )


def test_diff_picks_lowest_free_indexes_up_and_highest_down():
    states = [ReplicaState("web", i, f"p-web-{i}", "running") for i in (1, 3, 6)]
    expect = Expectations()
    assert diff(states, 5, expect, "web").create == (2, 4)
    assert [s.index for s in diff(states, 1, expect, "web").remove] == [6, 3]
    expect.expect_create("web", 2)
    assert diff(states, 5, expect, "web").create == (4,)  # 2 is in flight: not twice
    expect = Expectations()
    expect.expect_delete("web", "p-web-6")
    assert diff(states, 2, expect, "web").remove == ()  # 6 is going: 1, 3 stay
    assert free_indexes({1, 2, 5}, 3) == [3, 4, 6]
    assert batches(list(range(10))) == [[0], [1, 2], [3, 4, 5, 6], [7, 8, 9]]


def test_scale_up_and_down_through_the_loop():
    driver = FakeDriver(web=FakeService())

    async def main():
        async with Supervisor(driver) as sup:
            sup.set_desired({"web": 3})
            await settle(sup, "web", 3)
            first = names(sup)
            sup.set_desired({"web": 5})
            await settle(sup, "web", 5)
            sup.set_desired({"web": 2})
            await settle(sup, "web", 2)
            return first, names(sup)

    first, last = anyio.run(main)
    assert first == [1, 2, 3] and last == [1, 2]
    assert driver.names("remove") == ["p-web-5", "p-web-4", "p-web-3"]
    assert len(driver.names("create")) == 5  # never twice


def test_scale_down_reports_each_removed_replica_died():
    """Docker emits die for every container that stops, removed right after or not."""
    driver = FakeDriver(web=FakeService())
    seen: list[tuple[str, str]] = []

    async def main():
        async with Supervisor(
            driver, on_event=lambda e: seen.append((e["action"], e["container"]))
        ) as sup:
            sup.set_desired({"web": 3})
            await settle(sup, "web", 3)
            sup.set_desired({"web": 1})
            await settle(sup, "web", 1)
            with anyio.fail_after(2):
                while sum(a == "die" for a, _ in seen) < 2:
                    await anyio.sleep(0.01)

    anyio.run(main)
    assert sorted(c for a, c in seen if a == "die") == ["p-web-2", "p-web-3"]


def test_events_during_slow_creations_do_not_double_create():
    driver = FlakyDriver(delay=0.05, web=FakeService())

    async def main():
        async with Supervisor(driver) as sup:
            sup.set_desired({"web": 4})
            for _ in range(20):  # a storm of wake-ups while creations are in flight
                sup.enqueue("web")
                await anyio.sleep(0.01)
            await settle(sup, "web", 4)

    anyio.run(main)
    assert sorted(driver.names("create")) == [f"p-web-{i}" for i in (1, 2, 3, 4)]


def test_transient_errors_back_off_then_converge():
    events: list[dict] = []
    driver = FlakyDriver([RuntimeError("netns busy")] * 3, web=FakeService())

    async def main():
        async with Supervisor(driver, on_event=events.append) as sup:
            sup.set_desired({"web": 1})
            await settle(sup, "web", 1)
            return sup.failed

    assert anyio.run(main) == {}
    retries = [e["retry_in"] for e in events if e["action"] == "reconcile-error"]
    assert retries == [0.005, 0.01, 0.02]  # per-key exponential backoff


def test_terminal_error_marks_the_service_failed_without_retrying():
    events: list[dict] = []
    driver = FlakyDriver([ImageError("image web: not found")] * 5, web=FakeService())

    async def main():
        async with Supervisor(driver, on_event=events.append) as sup:
            sup.set_desired({"web": 1})
            with anyio.fail_after(5):
                await sup.tracker.wait_for(lambda: "web" in sup.failed)
            await anyio.sleep(0.1)
            return sup.failed

    assert anyio.run(main) == {"web": "image web: not found"}
    assert len(driver.errors) == 4  # tried once, not retried
    assert [e["action"] for e in events] == ["create", "failed"]
    assert driver.failures[-1] == {"web": "image web: not found"}  # what `ps` shows


def test_up_plan_sets_the_count_and_down_sets_zero():
    driver = FakeDriver(web=FakeService())
    desired = DesiredProject("p", (DesiredService("web", replicas=2),))

    async def main():
        async with Supervisor(driver) as sup:
            await sup.apply(plan_up(desired, ObservedProject("p", None, ()), UpOptions()))
            assert sup.desired == {"web": 2}
            observed = ObservedProject("p", None, ())  # plan_down from no records: counts only
            plan = plan_down(desired, observed, DownOptions())
            await sup.apply(plan)
            assert sup.desired == {"web": 0}
            for state in list(sup.tracker.replicas.values()):
                await sup.executor.stop(state.name)
                await sup.executor.remove(state.name)
            await anyio.sleep(0.1)
            return names(sup)

    assert anyio.run(main) == []  # nothing re-created after down


class LateExits(FakeDriver):
    """The exit of a stopped replica is noticed late (its watcher waits for a busy thread)."""

    async def wait_exit(self, name: str) -> int | None:
        stopped = self._stopped[name]
        await stopped.wait()
        await anyio.sleep(0.3)
        return 143


def test_a_late_exit_of_a_removed_replica_leaves_its_successor_alone():
    """Scale 1 -> 0 -> 1: the new p-web-1 starts while the old one's exit is still being
    noticed; that exit is the old replica's (reported as its die), the new one keeps running
    (no restart) and gets its own watcher."""
    events: list[dict] = []
    driver = LateExits(web=FakeService(policy=RestartPolicy("always")))

    async def main():
        async with Supervisor(driver, on_event=events.append) as sup:
            sup.set_desired({"web": 1})
            await settle(sup, "web", 1)
            sup.set_desired({"web": 0})
            await settle(sup, "web", 0)
            sup.set_desired({"web": 1})
            await settle(sup, "web", 1)
            second = len(events)
            await anyio.sleep(0.5)  # the old watcher has finished by now
            spurious = [e["action"] for e in events[second:]]
            await driver.stop_replica("p-web-1")  # the new replica dies: its watcher sees it
            with anyio.fail_after(2):
                await sup.tracker.wait_for(lambda: sup.tracker.get("p-web-1").status == "exited")
            return spurious

    assert "restart" not in anyio.run(main)  # the new replica was left alone
    assert driver.names("create") == ["p-web-1", "p-web-1"]
