"""``depends_on`` → an annotation, and with ``--wait-init IMAGE`` initContainers that wait.

Kubernetes starts every pod at once. The workload always carries the order in the
``pycompose.io/depends-on`` annotation (``db:service_healthy,cache:service_started``). With
``--wait-init``, each required dependency that has a Service gets an initContainer running
``sh -c`` in IMAGE (anything with a shell and busybox's ``nc``/``nslookup``, e.g. busybox):
it waits until the dependency's Service accepts a TCP connection on its first port (a
ClusterIP Service refuses while no pod is ready, and readiness comes from the healthcheck, so
this is ``service_healthy``; ``service_started`` is approximated by the same wait), or, for a
headless placeholder Service, until its name resolves (only ready pods are listed). Waiting
for a Job to complete (``service_completed_successfully``) needs the Kubernetes API, which an
initContainer does not have: that one is a warning.
"""

from __future__ import annotations

from typing import Any

from compose.kube.names import dns_label
from compose.kube.objects import DEPENDS_ON
from compose.kube.report import Report, service_subject
from compose.kube.units import Unit

COMPLETED = "service_completed_successfully"


def depends_annotation(unit: Unit) -> dict[str, str]:
    deps = unit.service.depends_on
    if not deps:
        return {}
    return {DEPENDS_ON: ",".join(f"{name}:{spec.condition}" for name, spec in sorted(deps.items()))}


def wait_containers(
    unit: Unit, units: dict[str, Unit], image: str, report: Report
) -> list[dict[str, Any]]:
    out = []
    subject = service_subject(unit.service.name)
    for name, spec in sorted(unit.service.depends_on.items()):
        dep = units.get(name)
        if dep is None or not spec.required:
            continue
        if spec.condition == COMPLETED or (dep.kind == "Job" and not dep.ports):
            report.warn(
                subject,
                f'waiting for "{name}" to complete needs the Kubernetes API: not enforced '
                "(the depends-on annotation records it)",
            )
            continue
        out.append(
            {
                "name": dns_label(f"wait-{dep.name}"),
                "image": image,
                "command": ["sh", "-c", _script(dep)],
            }
        )
    return out


def _script(dep: Unit) -> str:
    host = dep.name
    if dep.ports:
        check = f"nc -z -w 2 {host} {dep.ports[0].port}"
    else:
        check = f"nslookup {host}"
    return f"until {check}; do echo waiting for {host}; sleep 2; done"


def order_warning(units: dict[str, Unit], wait_init: str | None) -> str | None:
    if wait_init or not any(u.service.depends_on for u in units.values()):
        return None
    return (
        "Kubernetes starts every pod at once; the startup order is kept in the "
        '"pycompose.io/depends-on" annotation (--wait-init IMAGE adds initContainers that wait)'
    )
