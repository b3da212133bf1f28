"""The effective healthcheck of a service: the compose ``healthcheck:`` over the image's
HEALTHCHECK (Docker merges field by field: what the service leaves unset comes from the image)."""

from __future__ import annotations

from typing import Any

from compose.supervisor.health import HealthSpec, test_argv

_IMAGE_KEYS = {
    "interval": "Interval",
    "timeout": "Timeout",
    "start_period": "StartPeriod",
    "start_interval": "StartInterval",
}


def effective_healthcheck(service: Any, image_health: Any) -> HealthSpec | None:
    check = service.healthcheck
    if check is not None and (check.disable or (check.test or [""])[0] == "NONE"):
        return None
    image = dict(image_health or {})
    set_fields = check.model_fields_set if check is not None else set()
    test = check.test if check is not None and check.test else image.get("Test")
    argv = test_argv(test)
    if argv is None:
        return None
    timing: dict[str, Any] = {}
    for key, image_key in _IMAGE_KEYS.items():
        if key in set_fields:
            timing[key] = float(getattr(check, key))
        elif image.get(image_key):
            timing[key] = image[image_key] / 1e9  # nanoseconds in the image config
    if "retries" in set_fields:
        timing["retries"] = int(check.retries)
    elif image.get("Retries"):
        timing["retries"] = int(image["Retries"])
    return HealthSpec(argv, **timing)
