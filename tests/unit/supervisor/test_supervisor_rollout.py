"""Recreation of a changed replica over a fake driver: start-first (the successor runs, and is
healthy, before the old one stops; it then takes the old name) and stop-first."""

from __future__ import annotations

import anyio
import pytest
from supervisor_fakes import FakeDriver, FakeService

from compose.planner import DesiredProject, DesiredService, UpOptions, plan_up
from compose.state import RUNNING, ObservedProject, ObservedReplica, ReplicaRecord
from compose.supervisor import HealthSpec, Supervisor
from compose.supervisor.tracker import ReplicaState

FAST = {"interval": 0.01, "timeout": 0.5, "retries": 2, "start_interval": 0.01}


def desired(start_first: bool) -> DesiredProject:
    web = DesiredService("web", 1, "new", networks=("default",), start_first=start_first)
    return DesiredProject("p", (web,), {"default": False})


def observed() -> ObservedProject:
    old = ReplicaRecord("p", "web", 1, config_hash="old", status="running", pid=1)
    return ObservedProject("p", None, (ObservedReplica(old, True),))


async def recreate(driver: FakeDriver, start_first: bool, after=None):
    """Run the plan inside a live supervisor whose tracker holds the old replica."""
    with anyio.fail_after(5):
        async with Supervisor(driver) as sup:
            sup.tracker.add(ReplicaState("web", 1, "p-web-1", RUNNING))
            await driver.start_replica("p-web-1")
            sup.started("p-web-1")
            outcome = await sup.apply(plan_up(desired(start_first), observed(), UpOptions()))
            if after is not None:
                await after(sup)
            return outcome, sup


def staging_of(driver: FakeDriver) -> str:
    created = driver.names("create")
    assert len(created) == 1 and created[0].endswith("_p-web-1")
    return created[0]


def test_start_first_starts_the_successor_before_the_old_one_stops():
    driver = FakeDriver(web=FakeService())
    outcome, sup = anyio.run(recreate, driver, True)
    assert outcome.failures == []
    new = staging_of(driver)
    assert driver.calls[2:] == [
        ("create", new),
        ("start", new),
        ("stop", "p-web-1"),
        ("take_over", f"p-web-1->{new}"),  # its addresses, for clients that cached them
        ("remove", "p-web-1"),
        ("rename", f"{new}->p-web-1"),
    ]
    # no traffic for the successor until it is ready; then it is admitted as the old one is
    # drained, in one step (never both in turn)
    assert driver.gate == [("withhold", new), ("drain", f"p-web-1->{new}")]
    state = sup.tracker.get("p-web-1")
    assert state is not None and state.running and list(sup.tracker.replicas) == ["p-web-1"]


def test_stop_first_keeps_docker_composes_order():
    """docker compose creates the new container (``<id>_<name>``) before it stops the old
    one, removes that, renames the new one and starts it."""
    driver = FakeDriver(web=FakeService())
    outcome, _ = anyio.run(recreate, driver, False)
    assert outcome.failures == []
    new = staging_of(driver)
    assert driver.calls[2:] == [
        ("create", new),
        ("stop", "p-web-1"),
        ("take_over", f"p-web-1->{new}"),
        ("remove", "p-web-1"),
        ("rename", f"{new}->p-web-1"),
        ("start", "p-web-1"),
    ]
    assert driver.gate == [("withhold", new), ("admit", "p-web-1")]


def test_the_successor_must_be_healthy_before_the_old_one_stops():
    seen: list[list[str]] = []
    health = HealthSpec(("true",), **FAST)
    driver = FakeDriver(web=FakeService(health=health, probe=lambda n: 0 if n >= 1 else 1))
    original = driver.stop_replica

    async def stop(name: str, timeout: float | None = None) -> None:
        seen.append([n for n, s in sup_ref[0].tracker.replicas.items() if s.health == "healthy"])
        await original(name, timeout)

    driver.stop_replica = stop  # type: ignore[method-assign]
    sup_ref: list[Supervisor] = []

    async def main():
        with anyio.fail_after(5):
            async with Supervisor(driver) as sup:
                sup_ref.append(sup)
                sup.tracker.add(ReplicaState("web", 1, "p-web-1", RUNNING))
                await driver.start_replica("p-web-1")
                return await sup.apply(plan_up(desired(True), observed(), UpOptions()))

    outcome = anyio.run(main)
    assert outcome.failures == []
    new = staging_of(driver)
    assert seen[0] == [new]  # the old one stopped only once the successor was healthy


def test_an_unhealthy_successor_is_removed_and_the_old_one_keeps_running():
    health = HealthSpec(("false",), **FAST)
    driver = FakeDriver(web=FakeService(health=health, probe=lambda n: 1))
    outcome, sup = anyio.run(recreate, driver, True)
    new = staging_of(driver)
    assert outcome.failures == [
        'service "web" replica 1: the new container is unhealthy; the old one is kept'
    ]
    assert ("stop", "p-web-1") not in driver.calls
    assert driver.calls[-2:] == [("stop", new), ("remove", new)]
    assert list(sup.tracker.replicas) == ["p-web-1"]


def test_the_renamed_successor_is_still_watched():
    """Its exit watcher and restart policy follow it under its new name."""
    driver = FakeDriver(web=FakeService())

    async def kill_it(sup: Supervisor) -> None:
        await driver.stop_replica("p-web-1")  # dies on its own (not through the executor)
        await sup.tracker.wait_for(lambda: sup.tracker.get("p-web-1").status == "exited")

    _, sup = anyio.run(recreate, driver, True, kill_it)
    assert sup.tracker.get("p-web-1").exit_code == 143


@pytest.mark.parametrize(
    ("start_first", "line"),
    [(True, "Container p-web-1  Recreate (start-first)"), (False, "Container p-web-1  Recreate")],
)
def test_dry_run_says_which_order(start_first: bool, line: str):
    plan = plan_up(desired(start_first), observed(), UpOptions())
    assert line in plan.render().splitlines()


def test_a_staging_leftover_is_removed_by_the_next_up():
    leftover = ReplicaRecord("p", "web", 1, "0a1b2c3d4e5f_p-web-1", config_hash="new")
    obs = ObservedProject("p", None, (*observed().replicas, ObservedReplica(leftover, True)))
    lines = plan_up(desired(True), obs, UpOptions()).render().splitlines()
    assert "Container 0a1b2c3d4e5f_p-web-1  Remove" in lines
    assert "Container p-web-1  Recreate (start-first)" in lines
