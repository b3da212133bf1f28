"""``healthcheck`` → readinessProbe, plus a startupProbe for ``start_period``.

Readiness, not liveness: Docker never restarts an unhealthy container, and readiness is what
gates a Service's endpoints, which is what ``service_healthy`` dependents wait for. ``CMD``
execs its argv; ``CMD-SHELL`` runs through ``/bin/sh -c`` as Docker does. interval, timeout,
retries → periodSeconds, timeoutSeconds, failureThreshold. During ``start_period`` Docker
does not count failures; the startupProbe gives the container that long (probing every
``start_interval``) plus ``retries`` more tries before the kubelet restarts it (the one
difference: Docker would only mark it unhealthy).

A healthcheck without ``test`` inherits the image's HEALTHCHECK, which Kubernetes ignores:
it is used when the image is in the local store (``Facts``), otherwise a warning says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from compose.kube.facts import Facts
from compose.kube.report import Report, service_subject
from compose.model import Service

_NS = 1e9


@dataclass(frozen=True)
class Check:
    test: list[str]
    interval: float = 30.0
    timeout: float = 30.0
    retries: int = 3
    start_period: float = 0.0
    start_interval: float = 5.0


def probes(service: Service, facts: Facts, report: Report) -> dict[str, Any]:
    """``{"readinessProbe": ..., "startupProbe": ...}`` (either may be absent)."""
    check = resolve_check(service, facts, report)
    if check is None:
        return {}
    action = {"exec": {"command": exec_command(check.test)}}
    retries = check.retries if check.retries > 0 else 3
    out: dict[str, Any] = {
        "readinessProbe": {
            **action,
            "periodSeconds": _seconds(check.interval),
            "timeoutSeconds": _seconds(check.timeout),
            "failureThreshold": retries,
        }
    }
    if check.start_period > 0:
        period = _seconds(check.start_interval)
        out["startupProbe"] = {
            **action,
            "periodSeconds": period,
            "timeoutSeconds": _seconds(check.timeout),
            "failureThreshold": math.ceil(check.start_period / period) + retries,
        }
    return out


def exec_command(test: list[str]) -> list[str]:
    if test[0] == "CMD-SHELL":
        return ["/bin/sh", "-c", " ".join(test[1:])]
    return list(test[1:])


def resolve_check(service: Service, facts: Facts, report: Report) -> Check | None:
    """The effective healthcheck: the service's fields over the image's HEALTHCHECK."""
    own = service.healthcheck
    if own is not None and own.disabled:
        return None
    image = facts.images.get(service.image or "")
    inherited = _image_check(image.healthcheck if image else None)
    if own is None:
        return inherited
    test = own.test or (inherited.test if inherited else None)
    if not test:
        report.warn(
            service_subject(service.name),
            "healthcheck has no test and the image's HEALTHCHECK is not known here "
            "(not in the local store): no probe",
        )
        return None
    base = inherited or Check(test)
    fields = own.model_fields_set
    return Check(
        test,
        own.interval if "interval" in fields else base.interval,
        own.timeout if "timeout" in fields else base.timeout,
        own.retries if "retries" in fields else base.retries,
        own.start_period if "start_period" in fields else base.start_period,
        own.start_interval if "start_interval" in fields else base.start_interval,
    )


def _image_check(config: Any) -> Check | None:
    """An image config's ``Healthcheck`` (durations in nanoseconds; 0 = Docker's default)."""
    test = list(config.get("Test") or []) if config else []
    if not test or test[0] == "NONE" or len(test) < 2:
        return None
    return Check(
        test,
        (config.get("Interval") or 30 * _NS) / _NS,
        (config.get("Timeout") or 30 * _NS) / _NS,
        int(config.get("Retries") or 3),
        (config.get("StartPeriod") or 0) / _NS,
        (config.get("StartInterval") or 5 * _NS) / _NS,
    )


def _seconds(value: float) -> int:
    return max(1, math.ceil(value))
