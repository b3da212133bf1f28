"""``networks`` → NetworkPolicies, only with ``--network-policies`` (they can break apps).

Compose lets a container reach only the containers that share one of its networks. Each pod
is labelled ``network.pycompose.io/<network>: "true"`` per network it joins; per network, a
policy selects those pods and admits ingress from pods with the same label. Policies add
up, so a pod on two networks is reachable from both. A service with published ports also
gets a policy admitting anyone on those target ports (the host could reach them under
compose). Egress stays open (DNS keeps working). The CNI plugin must enforce policies.
"""

from __future__ import annotations

from typing import Any

from compose.kube.names import derived, dns_label, label_value
from compose.kube.objects import NETWORK_LABEL_PREFIX, PART_OF, Manifest, manifest, selector
from compose.kube.options import KubeOptions
from compose.kube.ports import published_ports
from compose.kube.units import Unit


def networks_of(unit: Unit) -> list[str]:
    if unit.service.network_mode:
        return []
    return list(unit.service.networks) or ["default"]


def network_labels(unit: Unit) -> dict[str, str]:
    return {network_label(n): "true" for n in networks_of(unit)}


def network_label(network: str) -> str:
    return NETWORK_LABEL_PREFIX + dns_label(network)


def network_policies(units: dict[str, Unit], project: str, options: KubeOptions) -> list[Manifest]:
    networks = sorted({n for unit in units.values() for n in networks_of(unit)})
    out = []
    for network in networks:
        members = {PART_OF: label_value(project), network_label(network): "true"}
        spec = {
            "podSelector": {"matchLabels": members},
            "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"podSelector": {"matchLabels": members}}]}],
        }
        name = derived(dns_label(network), "network")
        out.append(_policy(name, project, options, spec))
    for unit in units.values():
        targets = sorted({(p.target, p.protocol) for p in published_ports(unit.service)})
        if not targets:
            continue
        spec = {
            "podSelector": {"matchLabels": selector(project, unit.name)},
            "policyTypes": ["Ingress"],
            "ingress": [{"ports": [{"port": port, "protocol": proto} for port, proto in targets]}],
        }
        out.append(_policy(derived(unit.name, "published"), project, options, spec, unit.name))
    return out


def _policy(
    name: str, project: str, options: KubeOptions, spec: dict[str, Any], label: str | None = None
) -> Manifest:
    return manifest(
        "NetworkPolicy", name, project, namespace=options.namespace, label_name=label, spec=spec
    )
