"""One service → its workload (Deployment, StatefulSet, DaemonSet or Job) and pod template.

The pod spec adds what is pod-level in Kubernetes: hostname, hosts entries, DNS options,
sysctls and supplementary groups, host namespaces, the grace period, ``init: true`` (a
shared process namespace makes the pause container PID 1, which reaps zombies, as tini
would), ``platform`` as a node selector, and ``enableServiceLinks: false`` (a Service named
``postgres`` would otherwise inject ``POSTGRES_PORT=tcp://...`` into every pod and break
images that read that variable).
"""

from __future__ import annotations

import math
from typing import Any

from compose.kube.container import container, pod_security
from compose.kube.depends import depends_annotation, wait_containers
from compose.kube.facts import Facts
from compose.kube.names import STATEFULSET_MAX, dns_label
from compose.kube.netpol import network_labels
from compose.kube.objects import COMPOSE_NAME, Manifest, labels, manifest, selector
from compose.kube.options import KubeOptions
from compose.kube.probes import probes
from compose.kube.report import Report, service_subject
from compose.kube.storage import PodStorage
from compose.kube.units import Unit
from compose.model import Service


def workload(
    unit: Unit,
    units: dict[str, Unit],
    project: str,
    image: str,
    pod_storage: PodStorage,
    facts: Facts,
    report: Report,
    options: KubeOptions,
) -> Manifest:
    service = unit.service
    template = _template(unit, units, project, image, pod_storage, facts, report, options)
    annotations = {**_deploy_labels(service), **depends_annotation(unit)}
    if unit.name != service.name:
        annotations[COMPOSE_NAME] = service.name
    spec = _spec(unit, project, template, pod_storage, report)
    # a StatefulSet's pods carry a revision hash label of "<name>-<10 chars>": 52 at most
    name = unit.name if unit.kind != "StatefulSet" else dns_label(unit.name, limit=STATEFULSET_MAX)
    return manifest(
        unit.kind,
        name,
        project,
        label_name=unit.name,
        namespace=options.namespace,
        annotations=annotations,
        spec=spec,
    )


def _spec(
    unit: Unit, project: str, template: Manifest, pod_storage: PodStorage, report: Report
) -> dict[str, Any]:
    if unit.kind == "Job":
        return _job_spec(unit, template)
    spec: dict[str, Any] = {}
    if unit.kind != "DaemonSet":
        spec["replicas"] = unit.replicas
    if unit.kind == "StatefulSet":
        spec["serviceName"] = unit.name
    spec["selector"] = {"matchLabels": selector(project, unit.name)}
    spec["template"] = template
    if unit.kind == "Deployment":
        strategy = _strategy(unit.service, pod_storage, report)
        if strategy:
            spec["strategy"] = strategy
    if unit.kind == "StatefulSet" and pod_storage.claim_templates:
        spec["volumeClaimTemplates"] = pod_storage.claim_templates
    return spec


def _job_spec(unit: Unit, template: Manifest) -> dict[str, Any]:
    policy = unit.service.restart_policy
    spec: dict[str, Any] = {}
    if unit.replicas != 1:
        spec["completions"] = unit.replicas
        spec["parallelism"] = unit.replicas
    if policy.name == "on-failure":
        template["spec"]["restartPolicy"] = "OnFailure"
        if policy.max_retries:
            spec["backoffLimit"] = policy.max_retries
    else:
        template["spec"]["restartPolicy"] = "Never"
        spec["backoffLimit"] = 0
    spec["template"] = template
    return spec


def _strategy(service: Service, pod_storage: PodStorage, report: Report) -> dict[str, Any]:
    """Stop-first where two pods cannot share the claim; ``update_config`` decides when set."""
    update = service.deploy.update_config if service.deploy else None
    if update is not None and update.order is not None:
        step = update.parallelism or 1
        if update.order == "start-first":
            rolling = {"maxSurge": step, "maxUnavailable": 0}
        else:
            rolling = {"maxSurge": 0, "maxUnavailable": step}
        return {"type": "RollingUpdate", "rollingUpdate": rolling}
    if update is not None:
        for key in sorted(update.model_fields_set - {"order"}):
            report.warn(
                service_subject(service.name), f"deploy.update_config.{key} has no mapping, skipped"
            )
    if pod_storage.exclusive:
        return {"type": "Recreate"}
    return {}


def _deploy_labels(service: Service) -> dict[str, str]:
    return dict(service.deploy.labels) if service.deploy else {}


def _template(
    unit: Unit,
    units: dict[str, Unit],
    project: str,
    image: str,
    pod_storage: PodStorage,
    facts: Facts,
    report: Report,
    options: KubeOptions,
) -> Manifest:
    service = unit.service
    main = container(service, unit.name, image, unit.ports, report)
    main.update(probes(service, facts, report))
    if pod_storage.mounts:
        main["volumeMounts"] = pod_storage.mounts
    pod: dict[str, Any] = {}
    if options.wait_init:
        inits = wait_containers(unit, units, options.wait_init, report)
        if inits:
            pod["initContainers"] = inits
    pod["containers"] = [main]
    if pod_storage.volumes:
        pod["volumes"] = pod_storage.volumes
    pod["enableServiceLinks"] = False
    pod.update(_pod_fields(service, report))
    pod_labels = labels(project, unit.name)
    if options.network_policies:
        pod_labels.update(network_labels(unit))
    metadata: dict[str, Any] = {"labels": pod_labels}
    annotations = {**service.labels, **service.annotations}
    if annotations:
        metadata["annotations"] = dict(sorted(annotations.items()))
    return {"metadata": metadata, "spec": pod}


def _pod_fields(service: Service, report: Report) -> dict[str, Any]:
    subject = service_subject(service.name)
    pod: dict[str, Any] = {}
    pod.update(_namespaces(service, subject, report))
    if service.hostname:
        pod["hostname"] = dns_label(service.hostname)
        if pod["hostname"] != service.hostname:
            report.warn(subject, f'hostname "{service.hostname}" becomes "{pod["hostname"]}"')
    if service.domainname:
        report.unmapped(subject, "domainname")
    aliases = _host_aliases(service, subject, report)
    if aliases:
        pod["hostAliases"] = aliases
    dns = _dns_config(service)
    if dns:
        pod["dnsConfig"] = dns
    security = pod_security(service, subject, report)
    if security:
        pod["securityContext"] = security
    if "stop_grace_period" in service.model_fields_set:
        pod["terminationGracePeriodSeconds"] = math.ceil(service.stop_grace_period)
    if service.init:
        pod["shareProcessNamespace"] = True
    selector_ = _node_selector(service, subject, report)
    if selector_:
        pod["nodeSelector"] = selector_
    return pod


def _namespaces(service: Service, subject: str, report: Report) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, field, host_field in (
        ("network_mode", service.network_mode, "hostNetwork"),
        ("pid", service.pid, "hostPID"),
        ("ipc", service.ipc, "hostIPC"),
    ):
        if field is None or field in ("private", "shareable", "bridge", "default"):
            continue
        if field == "host":
            out[host_field] = True
            report.warn(
                subject,
                f"{key}: host needs a namespace that allows the Privileged Pod Security level",
            )
        else:
            report.warn(subject, f'{key} "{field}" has no Kubernetes mapping, skipped')
    if out.get("hostNetwork"):
        out["dnsPolicy"] = "ClusterFirstWithHostNet"
    return out


def _host_aliases(service: Service, subject: str, report: Report) -> list[dict[str, Any]]:
    by_ip: dict[str, list[str]] = {}
    for entry in service.extra_hosts:
        sep = "=" if "=" in entry else ":"
        host, _, ip = entry.partition(sep)
        if ip == "host-gateway":
            report.warn(subject, f'extra_hosts "{entry}": host-gateway has no mapping, skipped')
            continue
        by_ip.setdefault(ip.strip("[]"), []).append(host)
    return [{"ip": ip, "hostnames": hosts} for ip, hosts in by_ip.items()]


def _dns_config(service: Service) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if service.dns:
        out["nameservers"] = list(service.dns)
    if service.dns_search:
        out["searches"] = list(service.dns_search)
    if service.dns_opt:
        options = []
        for opt in service.dns_opt:
            name, sep, value = opt.partition(":")
            options.append({"name": name, "value": value} if sep else {"name": name})
        out["options"] = options
    return out


_CONSTRAINT_KEYS = {
    "node.hostname": "kubernetes.io/hostname",
    "node.platform.os": "kubernetes.io/os",
    "node.platform.arch": "kubernetes.io/arch",
}


def _node_selector(service: Service, subject: str, report: Report) -> dict[str, str]:
    out: dict[str, str] = {}
    if service.platform:
        os_, _, rest = service.platform.partition("/")
        out["kubernetes.io/os"] = os_
        if rest:
            out["kubernetes.io/arch"] = rest.split("/")[0]
    placement = service.deploy.placement if service.deploy else None
    if placement is None:
        return out
    for constraint in placement.constraints:
        key, sep, value = (part.strip() for part in constraint.partition("=="))
        mapped = _CONSTRAINT_KEYS.get(key) or (
            key.removeprefix("node.labels.") if key.startswith("node.labels.") else None
        )
        if sep and mapped:
            out[mapped] = value
        else:
            report.warn(subject, f'placement constraint "{constraint}" has no mapping, skipped')
    if placement.preferences or placement.max_replicas_per_node:
        report.warn(
            subject, "placement preferences and max_replicas_per_node have no mapping, skipped"
        )
    return out
