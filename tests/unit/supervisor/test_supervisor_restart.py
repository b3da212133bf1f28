"""Restart policies: Docker's decisions and backoff, driven through the reconcile loop."""

from __future__ import annotations

import itertools

import anyio
from supervisor_fakes import FakeDriver, FakeService

from compose.planner import DesiredProject, DesiredService, UpOptions, plan_up
from compose.state import ObservedProject
from compose.supervisor import RestartPolicy, Supervisor, next_backoff, should_restart


def test_policy_decisions_match_docker():
    always, no = RestartPolicy.parse("always"), RestartPolicy.parse("no")
    on_failure = RestartPolicy.parse("on-failure:2")
    assert on_failure == RestartPolicy("on-failure", 2)
    assert should_restart(always, 0, 5, False)
    assert not should_restart(always, 1, 0, True)  # manual stop
    assert not should_restart(no, 1, 0, False)
    assert should_restart(on_failure, 1, 1, False)
    assert not should_restart(on_failure, 1, 2, False)
    assert not should_restart(on_failure, 0, 0, False)
    assert RestartPolicy.parse("any", 3) == RestartPolicy("always", 3)


def test_backoff_sequence_doubles_to_a_minute_and_resets_after_ten_seconds():
    delays, delay = [], 0.0
    for _ in range(12):
        delay = next_backoff(delay, ran_for=1.0)
        delays.append(round(delay, 1))
    assert delays == [0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 51.2, 60.0, 60.0]
    assert next_backoff(60.0, ran_for=10.0) == 0.1


def test_on_failure_restarts_until_max_attempts():
    policy = RestartPolicy("on-failure", 3)
    driver = FakeDriver(job=FakeService(exit_code=1, run_for=0.01, policy=policy))
    desired = DesiredProject("p", (DesiredService("job"),))

    async def main():
        async with Supervisor(driver) as sup:
            await sup.apply(plan_up(desired, ObservedProject("p", None, ()), UpOptions()))
            with anyio.fail_after(5):
                await sup.tracker.wait_for(
                    lambda: (
                        sup.tracker.get("p-job-1").restart_count == 3
                        and sup.tracker.get("p-job-1").status == "exited"
                    )
                )
            await anyio.sleep(0.3)
            return sup.tracker.get("p-job-1")

    state = anyio.run(main)
    assert driver.names("start") == ["p-job-1"] * 4
    assert state.exit_code == 1 and state.backoff == 0.4


def test_restart_policy_delay_and_window_as_swarm():
    """deploy.restart_policy: delay replaces the backoff; with window, max_attempts counts the
    restarts of the last window only (a replica failing rarely keeps being restarted)."""
    from compose.supervisor.restart import attempts, next_delay

    fixed = RestartPolicy("on-failure", 1, delay=0.3)
    assert [next_delay(fixed, d, 1.0) for d in (0.0, 0.3, 0.3)] == [0.3, 0.3, 0.3]
    assert next_delay(RestartPolicy("always"), 0.1, 1.0) == 0.2  # Docker's backoff otherwise
    windowed = RestartPolicy("on-failure", 1, window=5.0)
    assert attempts(windowed, 7, [100.0, 103.0], now=106.0) == 1  # 100.0 is out of the window
    assert attempts(RestartPolicy("on-failure", 1), 7, [100.0], now=106.0) == 7


def _starts(policy: RestartPolicy, run_for: float, over: float) -> list[float]:
    driver = FakeDriver(job=FakeService(exit_code=1, run_for=run_for, policy=policy))
    desired = DesiredProject("p", (DesiredService("job"),))
    times: list[float] = []
    original = driver.start_replica

    async def start(name: str) -> None:
        times.append(anyio.current_time())
        await original(name)

    driver.start_replica = start  # type: ignore[method-assign]

    async def main():
        async with Supervisor(driver) as sup:
            await sup.apply(plan_up(desired, ObservedProject("p", None, ()), UpOptions()))
            await anyio.sleep(over)

    anyio.run(main)
    return [t - times[0] for t in times]


def test_window_lets_a_slowly_failing_replica_restart_past_max_attempts():
    once = _starts(RestartPolicy("on-failure", 1, delay=0.05), run_for=0.3, over=1.2)
    windowed = _starts(RestartPolicy("on-failure", 1, delay=0.05, window=0.2), 0.3, 1.2)
    assert len(once) == 2  # the first run and one restart
    assert len(windowed) >= 3
    gaps = [b - a for a, b in itertools.pairwise(windowed)]
    assert all(0.33 <= g < 0.6 for g in gaps), gaps  # run 0.3 s + the fixed 0.05 s delay


class SlowStartDriver(FakeDriver):
    """Starting a replica takes a while (a loaded machine), and is counted."""

    async def start_replica(self, name: str) -> None:
        self.calls.append(("starting", name))
        await anyio.sleep(0.2)
        await super().start_replica(name)


def test_a_plan_starting_an_exited_replica_is_not_raced_by_its_restart_policy():
    """`up -d` after the supervisor and a replica were killed: the new supervisor adopts the
    exited replica (restart: always) and its plan starts it. The loop's restart policy must
    leave a service the plan owns alone: two starts of one replica at once kill each other's
    container ("init: exited before it was ready", seen under load)."""
    from compose.planner.desired import DesiredService as Desired
    from compose.state import ObservedReplica, ReplicaRecord
    from compose.supervisor import ReplicaState

    always = RestartPolicy("always")
    driver = SlowStartDriver(web=FakeService(policy=always))
    record = ReplicaRecord("p", "web", 1, status="exited", pid=1, exit_code=137)
    observed = ObservedProject("p", None, (ObservedReplica(record, alive=False),))
    desired = DesiredProject("p", (Desired("web"),))

    async def main():
        async with Supervisor(driver) as sup:
            sup.adopt(ReplicaState("web", 1, "p-web-1", "exited", exit_code=137))
            sup.enqueue("web")
            await sup.apply(plan_up(desired, observed, UpOptions()))
            await anyio.sleep(0.5)

    anyio.run(main)
    assert driver.names("starting") == ["p-web-1"]  # once: by the plan
