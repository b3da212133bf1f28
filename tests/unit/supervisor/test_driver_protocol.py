"""The seam is complete: the loop needs nothing of the machine beyond ``Driver``, and the fake
it is tested with implements exactly that (no more: a member the loop used outside the
protocol would fail here or in the type check, not silently in production)."""

from __future__ import annotations

import inspect

import anyio
from supervisor_fakes import FakeDriver, FakeService

from compose.planner import DesiredProject, DesiredService, UpOptions, plan_up
from compose.state import ObservedProject
from compose.supervisor import Supervisor
from compose.supervisor.driver import Driver
from compose.supervisor.machine.linux import LinuxDriver
from compose.supervisor.restart import RestartPolicy


def _members(cls: type) -> set[str]:
    return {n for n, _ in inspect.getmembers(cls, inspect.isfunction) if not n.startswith("_")}


def test_the_fake_implements_exactly_the_protocol():
    helpers = {"names"}  # the test's own readers of what happened
    assert _members(FakeDriver) - helpers == _members(Driver)


def test_the_linux_driver_implements_the_protocol():
    assert _members(Driver) <= _members(LinuxDriver)


def test_the_control_loop_runs_over_the_protocol_alone():
    """up (2 replicas), a crash restarted by its policy, scale to 3, then down to 0."""
    policy = RestartPolicy("always")
    driver = FakeDriver(web=FakeService(exit_code=3, run_for=0.05, policy=policy))
    desired = DesiredProject("p", (DesiredService("web", replicas=2),))

    async def main() -> list[str]:
        async with Supervisor(driver) as sup:
            await sup.apply(plan_up(desired, ObservedProject("p", None, ()), UpOptions()))
            with anyio.fail_after(5):
                await sup.tracker.wait_for(
                    lambda: all(s.restart_count >= 1 for s in sup.tracker.of_service("web"))
                )
            sup.set_desired({"web": 3})
            with anyio.fail_after(5):
                await sup.tracker.wait_for(lambda: len(sup.tracker.of_service("web")) == 3)
            sup.set_desired({"web": 0})
            with anyio.fail_after(5):
                await sup.tracker.wait_for(lambda: not sup.tracker.of_service("web"))
        return driver.names("create")

    assert anyio.run(main) == ["p-web-1", "p-web-2", "p-web-3"]
    assert ("exited", "p-web-1") in driver.gate  # an exit left DNS/DNAT through the protocol
