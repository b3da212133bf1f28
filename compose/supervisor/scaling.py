"""`pycompose scale svc=N …`: against a running supervisor (the ``scale`` API request) the new
counts only change what the loop keeps (``Supervisor.set_desired``); ``reconcile`` creates or
removes replicas (lowest free index first up, highest index first down) and the reply waits
until the counts hold. Without a supervisor the CLI plans and applies the change itself.
"""

from __future__ import annotations

from typing import Any

import anyio

from compose.errors import OperationError, UserError

CONVERGE_TIMEOUT = 120.0


def check_counts(stack: Any, counts: dict[str, int]) -> None:
    """Unknown services, negative counts and ``container_name`` with N > 1 are user errors."""
    for service, count in counts.items():
        svc = stack.services.get(service)
        if svc is None:
            raise UserError(f'no such service: "{service}"')
        if count < 0:
            raise UserError(f'service "{service}": cannot scale to {count}')
        if svc.container_name and count > 1:
            raise UserError(
                f'service "{service}": container_name "{svc.container_name}" is set; '
                f"it cannot be scaled to {count} replicas",
                hint="remove container_name to run several replicas",
            )


async def scale_request(session: Any, request: dict[str, Any]) -> dict[str, Any]:
    counts = {str(k): int(v) for k, v in (request.get("scale") or {}).items()}
    check_counts(session.project.stack, counts)
    sup = session.sup
    await _prepare(session, counts)
    before = {s.name for s in sup.tracker.replicas.values()}
    for service in counts:  # a new request is a new attempt: an earlier verdict is not its answer
        sup._mark_failed(service, None)
        sup.enqueue(service)  # also when the count is the one that failed before
    sup.set_desired(counts)
    timeout = float(request.get("timeout") or CONVERGE_TIMEOUT)
    with anyio.move_on_after(timeout) as scope:
        await sup.tracker.wait_for(lambda: converged(sup, counts))
    if scope.cancelled_caught:
        raise OperationError(f"scale: not converged after {timeout:.0f}s")
    after = {s.name for s in sup.tracker.replicas.values()}
    return {
        "ok": True,
        "created": sorted(after - before),
        "removed": sorted(before - after),
        "failures": [f'service "{s}": {sup.failed[s]}' for s in counts if s in sup.failed],
    }


async def _prepare(session: Any, counts: dict[str, int]) -> None:
    """What a scaled service needs before the loop creates replicas: its image (pulled if
    missing, also when removed from the store since `up`) and its networks and volumes (a
    service `up` never selected has none yet)."""
    from compose.planner import Plan, UpOptions
    from compose.supervisor.blocking import run_sync
    from compose.supervisor.run import ensure_images

    wanted = [s for s, n in counts.items() if n > 0]
    if not wanted:
        return
    stack, driver = session.project.stack, session.driver
    missing = [s for s in wanted if not _unpacked(driver.image_for(s))]
    if missing:
        driver.images.update(await run_sync(ensure_images, stack, missing, "missing", session.out))
    up = UpOptions(services=tuple(wanted), no_deps=True, scale=counts)
    setup = session.project.plan_up(up, {s: None for s in stack.services}).setup
    outcome = await session.sup.apply(Plan(setup=setup))
    outcome.raise_for_failures()


def _unpacked(image: Any) -> bool:
    """The image is still in the store (`image rm` since `up` makes it pulled again)."""
    return image is not None and all(layer.is_dir() for layer in image.layers)


def converged(sup: Any, counts: dict[str, int]) -> bool:
    """Every scaled service has its count, nothing in flight, new replicas running (or the
    service failed terminally: the reply says so)."""
    for service, want in counts.items():
        if service in sup.failed:
            continue
        reps = [s for s in sup.tracker.of_service(service) if not s.oneoff]
        if len(reps) != want or not sup.expect.satisfied(service):
            return False
        if any(s.status == "created" for s in reps):
            return False
    return True
