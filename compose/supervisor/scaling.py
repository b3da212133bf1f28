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
    """Unknown services, negative counts, and N > 1 where replicas would share a name
    (``container_name``) or an address (a fixed IP or MAC) are user errors."""
    for service, count in counts.items():
        svc = stack.services.get(service)
        if svc is None:
            raise UserError(f'no such service: "{service}"')
        if count < 0:
            raise UserError(f'service "{service}": cannot scale to {count}')
        unique = _unique_setting(svc)
        if unique and count > 1:
            raise UserError(
                f'service "{service}": {unique} is set; it cannot be scaled to {count} replicas',
                hint=f"remove {unique.split()[0]} to run several replicas",
            )


def _unique_setting(svc: Any) -> str | None:
    """What one replica alone may have: ``container_name "x"``, a fixed address."""
    if svc.container_name:
        return f'container_name "{svc.container_name}"'
    if svc.mac_address:
        return f"mac_address {svc.mac_address}"
    for net, opts in (svc.networks or {}).items():
        for key in ("ipv4_address", "ipv6_address", "mac_address"):
            if opts is not None and getattr(opts, key, None):
                return f'{key} {getattr(opts, key)} (network "{net}")'
    return None


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
    await _converge(session, counts, float(request.get("timeout") or CONVERGE_TIMEOUT))
    after = {s.name for s in sup.tracker.replicas.values()}
    return {
        "ok": True,
        "created": sorted(after - before),
        "removed": sorted(before - after),
        "failures": [f'service "{s}": {sup.failed[s]}' for s in counts if s in sup.failed],
    }


async def _converge(session: Any, counts: dict[str, int], timeout: float) -> None:
    """Wait for the counts to hold; past ``timeout`` the error names the loop's last
    (transient, retried) error for these services, if any."""
    errors: list[str] = []

    def retried(event: dict[str, Any]) -> None:
        if event.get("action") == "reconcile-error" and event.get("service") in counts:
            errors.append(f'service "{event["service"]}": {event.get("error")}')

    events = getattr(session, "events", None)
    listeners = events.listeners if events is not None else []
    listeners.append(retried)
    try:
        with anyio.move_on_after(timeout) as scope:
            await session.sup.tracker.wait_for(lambda: converged(session.sup, counts))
    finally:
        listeners.remove(retried)
    if scope.cancelled_caught:
        last = f" (still retrying: {errors[-1]})" if errors else ""
        raise OperationError(f"scale: not converged after {timeout:.0f}s{last}")


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
    missing = [s for s in wanted if not _unpacked(driver.ctx.image_for(s))]
    if missing:
        pulled = await run_sync(ensure_images, stack, missing, "missing", session.out)
        driver.ctx.use(stack, pulled)
    up = UpOptions(services=tuple(wanted), no_deps=True, scale=counts)
    setup = session.project.plan_up(up, {}).setup
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
