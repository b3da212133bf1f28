"""depends_on conditions, with docker compose's messages.

- ``service_started``: the dependency's step finished and started its replicas;
- ``service_healthy``: every replica of the dependency is healthy (unhealthy or exited fails;
  a service without a healthcheck fails: "container X has no healthcheck configured");
- ``service_completed_successfully``: every replica exited, all with code 0
  (else ``service "migrate" didn't complete successfully: exit 3``);
- ``stopped`` (down): the dependent's step is done, whatever its outcome.
"""

from __future__ import annotations

from collections.abc import Callable

from compose.planner.actions import SERVICE_COMPLETED, SERVICE_HEALTHY, STOPPED, Wait
from compose.state import RUNNING
from compose.supervisor.tracker import ReplicaState, Tracker


class DependencyFailed(Exception):
    pass


def check_healthy(service: str, replicas: list[ReplicaState], has_check: bool) -> bool:
    """True when all are healthy, False while waiting; raises when it can never hold."""
    if not has_check:
        names = replicas[0].name if replicas else service
        raise DependencyFailed(f"container {names} has no healthcheck configured")
    for rep in replicas:
        if rep.status != RUNNING:
            raise DependencyFailed(f"container {rep.name} exited ({rep.exit_code})")
        if rep.health == "unhealthy":
            raise DependencyFailed(f"container {rep.name} is unhealthy")
    return all(r.health == "healthy" for r in replicas)


def check_completed(service: str, replicas: list[ReplicaState]) -> bool:
    for rep in replicas:
        if rep.status == RUNNING or (rep.exit_code is None and rep.status != "exited"):
            return False
    for rep in replicas:
        if rep.exit_code not in (0, None):
            raise DependencyFailed(
                f'service "{service}" didn\'t complete successfully: exit {rep.exit_code}'
            )
    return True


def check_started(service: str, replicas: list[ReplicaState]) -> bool:
    return True


async def wait_condition(
    wait: Wait, tracker: Tracker, has_healthcheck: Callable[[str], bool]
) -> None:
    """Block until ``wait`` holds; raise DependencyFailed when it never can."""
    if wait.condition == STOPPED:
        return
    check = _checker(wait, has_healthcheck)
    await tracker.wait_for(lambda: check(tracker.of_service(wait.service)))


def _checker(
    wait: Wait, has_healthcheck: Callable[[str], bool]
) -> Callable[[list[ReplicaState]], bool]:
    if wait.condition == SERVICE_HEALTHY:
        has = has_healthcheck(wait.service)
        return lambda reps: check_healthy(wait.service, reps, has)
    if wait.condition == SERVICE_COMPLETED:
        return lambda reps: check_completed(wait.service, reps)
    return lambda reps: check_started(wait.service, reps)
