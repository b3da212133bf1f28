"""The effective healthcheck of a service: the compose ``healthcheck:`` over the image's
HEALTHCHECK (Docker merges field by field: what the service leaves unset comes from the image)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from compose.supervisor.health import HealthSpec, test_argv

if TYPE_CHECKING:
    from compose.model import Service
    from compose.model.parts import Healthcheck

DEFAULT = HealthSpec(())


def effective_healthcheck(
    service: Service, image_health: Mapping[str, object] | None
) -> HealthSpec | None:
    check = service.healthcheck
    if check is not None and (check.disable or (check.test or [""])[0] == "NONE"):
        return None
    image = dict(image_health or {})
    own = check.test if check is not None and check.test else None
    argv = test_argv(own if own is not None else _strings(image.get("Test")))
    if argv is None:
        return None
    return HealthSpec(
        argv,
        interval=_seconds(check, "interval", image.get("Interval"), DEFAULT.interval),
        timeout=_seconds(check, "timeout", image.get("Timeout"), DEFAULT.timeout),
        retries=int(_pick(check, "retries", image.get("Retries"), DEFAULT.retries, 1)),
        start_period=_seconds(
            check, "start_period", image.get("StartPeriod"), DEFAULT.start_period
        ),
        start_interval=_seconds(
            check, "start_interval", image.get("StartInterval"), DEFAULT.start_interval
        ),
    )


def _seconds(check: Healthcheck | None, key: str, image_ns: object, default: float) -> float:
    """The service's value (seconds), else the image's (nanoseconds), else Docker's default."""
    return float(_pick(check, key, image_ns, default, 1e9))


def _pick(
    check: Healthcheck | None, key: str, image_value: object, default: float, scale: float
) -> float:
    if check is not None and key in check.model_fields_set:
        value: float = getattr(check, key)
        return value
    if isinstance(image_value, int | float) and image_value:
        return image_value / scale
    return default


def _strings(test: object) -> list[str] | None:
    return [str(part) for part in test] if isinstance(test, list) else None
