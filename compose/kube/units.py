"""Per service: its Kubernetes name, workload kind, replica count and ports, decided once.

The kind (the one owner of that decision):

- ``deploy.mode: global`` → DaemonSet; ``replicated-job``/``global-job`` → Job.
- A one-shot → Job: ``restart: "no"`` / ``on-failure`` (or ``deploy.restart_policy`` none /
  on-failure) set explicitly on a service that serves no ``ports``/``expose``, or a service
  another waits for with ``service_completed_successfully``. Deployments accept only
  ``restartPolicy: Always``, so a Deployment cannot carry these policies; a service that
  does serve ports under such a policy stays a Deployment, with a warning, because
  Kubernetes will restart it where Docker would leave it stopped.
- ``--stateful`` and the service mounts a named volume no other service uses → StatefulSet,
  that volume a volumeClaimTemplate (a disk per replica). Not by default: compose shares one
  volume between all replicas, which a Deployment on one PVC keeps (replaced stop-first, as
  pycompose does with writable volumes), while a StatefulSet's claim per replica would change
  the PVC's name (``data-db-0``) and what a later scale-up means.
- Everything else → Deployment.
"""

from __future__ import annotations

from dataclasses import dataclass

from compose.kube.facts import Facts
from compose.kube.names import Names, dns_label
from compose.kube.options import KubeOptions
from compose.kube.ports import PortSpec, target_ports
from compose.kube.report import Report, service_subject
from compose.model import Service, Stack


@dataclass(frozen=True)
class Unit:
    service: Service
    name: str  # RFC 1035 label: the Service, workload, container and app name label
    kind: str  # Deployment | StatefulSet | DaemonSet | Job
    replicas: int
    ports: tuple[PortSpec, ...]
    owned_volumes: frozenset[str] = frozenset()

    @property
    def pods(self) -> int | None:
        """How many pods run at once (None: one per node)."""
        return None if self.kind == "DaemonSet" else self.replicas

    def owns(self, volume: str) -> bool:
        return volume in self.owned_volumes


def plan_units(
    stack: Stack, facts: Facts, names: Names, report: Report, options: KubeOptions
) -> dict[str, Unit]:
    awaited = {
        dep
        for service in stack.services.values()
        for dep, spec in service.depends_on.items()
        if spec.condition == "service_completed_successfully"
    }
    users = volume_users(stack)
    units = {}
    for key in sorted(stack.services):
        service = stack.services[key]
        name = service_name(service.name, names, report)
        owned = frozenset(v for v, who in users.items() if who == [key] and not _external(stack, v))
        kind = workload_kind(service, key in awaited, bool(owned) and options.stateful, report)
        ports = target_ports(service, facts)
        units[key] = Unit(service, name, kind, service.replicas, ports, owned)
    return units


def volume_users(stack: Stack) -> dict[str, list[str]]:
    """Named volume → the services that mount it (in service order, each once)."""
    users: dict[str, list[str]] = {}
    for service in stack.services.values():
        for mount in service.volumes:
            if mount.type == "volume" and mount.source:
                found = users.setdefault(mount.source, [])
                if service.name not in found:
                    found.append(service.name)
    return users


def service_name(compose_name: str, names: Names, report: Report) -> str:
    """The service's Kubernetes name; a warning when peers can no longer dial the old one."""
    name = dns_label(compose_name, letter_first=True)
    names.claim("Service", name, service_subject(compose_name))
    if name != compose_name:
        report.warn(
            service_subject(compose_name),
            f'is "{name}" in Kubernetes (DNS-1035): peers that dial "{compose_name}" '
            "will not resolve it",
        )
    return name


def _external(stack: Stack, volume: str) -> bool:
    declared = stack.volumes.get(volume)
    return declared is not None and declared.external


ONE_SHOT = ("no", "on-failure")


def workload_kind(service: Service, awaited: bool, stateful: bool, report: Report) -> str:
    mode = service.deploy.mode if service.deploy else None
    if mode == "global":
        return "DaemonSet"
    if mode in ("replicated-job", "global-job"):
        if mode == "global-job":
            report.warn(service_subject(service.name), "deploy.mode global-job becomes one Job")
        return "Job"
    policy = service.restart_policy.name
    explicit = service.restart is not None or bool(
        service.deploy and service.deploy.restart_policy is not None
    )
    serves = bool(service.ports or service.expose)
    if awaited and policy not in ("always", "unless-stopped"):
        return "Job"
    if explicit and policy in ONE_SHOT:
        if not serves:
            return "Job"
        report.warn(
            service_subject(service.name),
            f'restart "{policy}" on a service that serves ports becomes a Deployment: '
            "Kubernetes restarts it whenever it exits",
        )
    return "StatefulSet" if stateful else "Deployment"
