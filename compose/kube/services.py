"""Kubernetes Services: how peers keep dialing a compose service by its name.

- ``<service>``: ClusterIP on the target ports (headless for ``deploy.endpoint_mode: dnsrr``
  and for StatefulSets, whose governing Service it is). A service with no known port still
  gets a headless Service, with one placeholder port (annotated), because a portless Service
  gets no DNS records; a warning says so.
- one more ClusterIP Service per network alias, same selector and ports.
- ``<service>-published`` of type NodePort/LoadBalancer on the published ports, only with
  ``--publish``; the node port is the published one when it is in the default NodePort range.
- Jobs get a Service only when they have ports.
"""

from __future__ import annotations

from typing import Any

from compose.kube.names import Names, derived, dns_label
from compose.kube.objects import PLACEHOLDER_PORT, Manifest, manifest, selector
from compose.kube.options import KubeOptions
from compose.kube.ports import PortSpec, published_ports
from compose.kube.report import Report, service_subject
from compose.kube.units import Unit

NODE_PORTS = range(30000, 32768)
PLACEHOLDER = PortSpec(1, "TCP", "dns-only")


def services_for(
    unit: Unit, project: str, names: Names, report: Report, options: KubeOptions
) -> list[Manifest]:
    if unit.kind == "Job" and not unit.ports:
        return []
    subject = service_subject(unit.service.name)
    ports = unit.ports or (PLACEHOLDER,)
    annotations = {}
    if not unit.ports:
        annotations[PLACEHOLDER_PORT] = "true"
        report.warn(
            subject,
            "no port is known (no ports, expose, or EXPOSE of an image in the local store): "
            'its headless Service has the placeholder port 1 "dns-only" so its name resolves',
        )
    endpoint_mode = unit.service.deploy.endpoint_mode if unit.service.deploy else None
    headless = not unit.ports or endpoint_mode == "dnsrr" or unit.kind == "StatefulSet"

    def make(name: str, spec: dict[str, Any]) -> Manifest:
        return manifest(
            "Service",
            name,
            project,
            namespace=options.namespace,
            annotations=annotations,
            label_name=unit.name,
            spec={"selector": selector(project, unit.name), **spec},
        )

    main: dict[str, Any] = {"clusterIP": "None"} if headless else {}
    out = [make(unit.name, {**main, "ports": [_port(p) for p in ports]})]
    for alias in _aliases(unit, names, report):
        out.append(make(alias, {**main, "ports": [_port(p) for p in ports]}))
    published = _published(unit, project, names, report, options)
    if published is not None:
        out.append(make(published[0], published[1]))
    return out


def _port(port: PortSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"name": port.name, "port": port.port, "targetPort": port.port}
    out["protocol"] = port.protocol
    if port.app_protocol:
        out["appProtocol"] = port.app_protocol
    return out


def _aliases(unit: Unit, names: Names, report: Report) -> list[str]:
    subject = service_subject(unit.service.name)
    out: list[str] = []
    for network in unit.service.networks.values():
        for alias in network.aliases if network else ():
            name = dns_label(alias, letter_first=True)
            if name == unit.name or name in out:
                continue
            if name != alias:
                report.warn(
                    subject, f'network alias "{alias}" is the Service "{name}" in Kubernetes'
                )
            out.append(names.claim("Service", name, f'{subject} (alias "{alias}")'))
    return out


def _published(
    unit: Unit, project: str, names: Names, report: Report, options: KubeOptions
) -> tuple[str, dict[str, Any]] | None:
    subject = service_subject(unit.service.name)
    mappings = [m for m in published_ports(unit.service) if m.published is not None]
    if not mappings:
        return None
    if options.publish is None:
        shown = ", ".join(dict.fromkeys(str(m.published) for m in mappings))
        report.warn(
            subject,
            f"published port(s) {shown} are not reachable from outside the cluster "
            "(--publish NodePort|LoadBalancer adds a Service for them)",
        )
        return None
    ports, seen, outside = [], set(), []
    for m in mappings:
        if (m.published, m.protocol) in seen:
            continue
        seen.add((m.published, m.protocol))
        port: dict[str, Any] = {
            "name": f"{m.protocol.lower()}-{m.published}",
            "port": m.published,
            "targetPort": m.target,
            "protocol": m.protocol,
        }
        if m.host_ip:
            report.warn(
                subject, f"host_ip {m.host_ip} of port {m.published} has no mapping, dropped"
            )
        if options.publish == "NodePort" and m.published in NODE_PORTS:
            port["nodePort"] = m.published
        elif options.publish == "NodePort":
            outside.append(str(m.published))
        ports.append(port)
    if outside:
        report.warn(
            subject,
            f"published port(s) {', '.join(dict.fromkeys(outside))} are outside the NodePort range "
            "30000-32767: the cluster picks the node ports",
        )
    name = names.claim("Service", derived(unit.name, "published"), f"{subject} (published)")
    return name, {"type": options.publish, "ports": ports}
