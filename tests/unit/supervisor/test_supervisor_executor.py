"""The executor over a fake driver: dependency conditions, failures, optional deps, down order."""

from __future__ import annotations

import anyio
import pytest
from supervisor_fakes import FakeDriver, FakeService

from compose.errors import ProjectUpError
from compose.planner import (
    DesiredProject,
    DesiredService,
    DownOptions,
    Need,
    UpOptions,
    plan_down,
    plan_up,
)
from compose.state import ObservedProject, ObservedReplica, ReplicaRecord
from compose.supervisor import HealthSpec, Supervisor

FAST = {"interval": 0.01, "timeout": 0.5, "retries": 2, "start_interval": 0.01}
EMPTY = ObservedProject("p", None, ())


def project(*services: DesiredService) -> DesiredProject:
    return DesiredProject("p", services, {"default": False})


def svc(name: str, *deps: Need) -> DesiredService:
    return DesiredService(name, 1, "h", depends_on=deps, networks=("default",))


async def up(driver: FakeDriver, desired: DesiredProject, timeout: float = 5.0):
    with anyio.fail_after(timeout):
        async with Supervisor(driver) as sup:
            return await sup.apply(plan_up(desired, EMPTY, UpOptions())), sup


def run(coro_fn, *args):
    return anyio.run(coro_fn, *args)


def test_started_condition_orders_starts():
    driver = FakeDriver(db=FakeService(), web=FakeService())
    outcome, _ = run(up, driver, project(svc("db"), svc("web", Need("db"))))
    assert outcome.failures == []
    assert driver.calls == [
        ("ensure_network", "p_default"),
        ("create", "p-db-1"),
        ("start", "p-db-1"),
        ("create", "p-web-1"),
        ("start", "p-web-1"),
    ]


def test_healthy_condition_waits_for_the_healthcheck():
    health = HealthSpec(("true",), **FAST)
    driver = FakeDriver(
        db=FakeService(health=health, probe=lambda n: 0 if n >= 1 else 1), web=FakeService()
    )
    desired = project(svc("db"), svc("web", Need("db", "service_healthy")))
    outcome, _ = run(up, driver, desired)
    assert outcome.failures == []
    assert driver.names("start") == ["p-db-1", "p-web-1"]


def test_never_healthy_dependency_fails_and_dependent_is_not_started():
    health = HealthSpec(("false",), **FAST)
    driver = FakeDriver(db=FakeService(health=health, probe=lambda n: 1), web=FakeService())
    desired = project(svc("db"), svc("web", Need("db", "service_healthy")))
    outcome, _ = run(up, driver, desired)
    assert outcome.failures == [
        'service "web" not started: dependency failed to start: container p-db-1 is unhealthy'
    ]
    assert driver.names("start") == ["p-db-1"]
    with pytest.raises(ProjectUpError):
        outcome.raise_for_failures()


def test_healthy_condition_without_healthcheck_fails():
    driver = FakeDriver(db=FakeService(), web=FakeService())
    desired = project(svc("db"), svc("web", Need("db", "service_healthy")))
    outcome, _ = run(up, driver, desired)
    assert "container p-db-1 has no healthcheck configured" in outcome.failures[0]


def test_completed_successfully_gates_and_reports_exit_code():
    ok = FakeDriver(migrate=FakeService(exit_code=0, run_for=0.05), app=FakeService())
    desired = project(svc("migrate"), svc("app", Need("migrate", "service_completed_successfully")))
    outcome, _ = run(up, ok, desired)
    assert outcome.failures == [] and ok.names("start") == ["p-migrate-1", "p-app-1"]
    bad = FakeDriver(migrate=FakeService(exit_code=3, run_for=0.05), app=FakeService())
    outcome, _ = run(up, bad, desired)
    assert outcome.failures == [
        'service "app" not started: dependency failed to start: '
        'service "migrate" didn\'t complete successfully: exit 3'
    ]
    assert bad.names("start") == ["p-migrate-1"]


def test_optional_failing_dependency_is_a_warning():
    driver = FakeDriver(migrate=FakeService(exit_code=3, run_for=0.01), app=FakeService())
    dep = Need("migrate", "service_completed_successfully", required=False)
    outcome, _ = run(up, driver, project(svc("migrate"), svc("app", dep)))
    assert outcome.failures == []
    assert "optional dependency" in outcome.warnings[0] and "exit 3" in outcome.warnings[0]
    assert driver.names("start") == ["p-migrate-1", "p-app-1"]


def test_failures_are_all_reported_and_independent_services_still_start():
    driver = FakeDriver(
        a=FakeService(fail_create="pivot_root: EINVAL"),
        b=FakeService(),
        c=FakeService(),
        d=FakeService(),
    )
    desired = project(svc("a"), svc("b"), svc("c", Need("a")), svc("d", Need("b")))
    outcome, _ = run(up, driver, desired)
    assert outcome.failures == [
        'service "a" replica 1: pivot_root: EINVAL',
        'service "c" not started: dependency "a" failed to start',
    ]
    assert driver.names("start") == ["p-b-1", "p-d-1"]  # b is not blamed for a's failure


def test_down_stops_dependents_before_their_dependencies():
    driver = FakeDriver(db=FakeService(), web=FakeService())
    desired = project(svc("db"), svc("web", Need("db")))
    recs = [ReplicaRecord("p", s, 1, status="running", pid=1) for s in ("db", "web")]
    observed = ObservedProject("p", None, tuple(ObservedReplica(r, True) for r in recs))

    async def main():
        async with Supervisor(driver, watch=False) as sup:
            return await sup.apply(plan_down(desired, observed, DownOptions()))

    outcome = anyio.run(main)
    assert outcome.failures == []
    assert driver.calls == [
        ("stop", "p-web-1"),
        ("remove", "p-web-1"),
        ("stop", "p-db-1"),
        ("remove", "p-db-1"),
    ]
