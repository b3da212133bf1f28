"""``--check``: the OpenAPI schema (``compose.kube.schema``) plus what a schema cannot see.

Semantic checks, on plain manifests (so they hold for any object list, not just ours):

- names valid for their kind (Services RFC 1035, StatefulSets ≤52, the rest DNS-1123) and
  unique per kind and namespace; label keys and values valid;
- a workload's selector matches its own pod labels, and each Service selector matches the
  pods of exactly one workload;
- every Service targetPort is a containerPort of those pods (numbers) or a port name there;
  node ports are in the default NodePort range;
- every referenced PVC, ConfigMap and Secret is emitted or declared external; each mount
  names a pod volume; mount paths are unique per container;
- restartPolicy fits the kind (Always for Deployment/StatefulSet/DaemonSet, OnFailure or
  Never for Job); a StatefulSet's serviceName is a headless Service;
- a ReadWriteOnce PVC is used by one pod at most; ConfigMap/Secret data ≤1 MiB.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Iterator
from typing import Any

from compose.errors import KubeConversionError
from compose.kube.objects import PLACEHOLDER_PORT, WORKLOAD_KINDS, Manifest

_SUBDOMAIN = re.compile(
    r"^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_RFC1035 = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$")
_QUALIFIED = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]$")
_IANA = re.compile(r"^(?=.*[a-z])(?!.*--)[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$")
DATA_MAX = 1 << 20
NODE_PORTS = range(30000, 32768)
RESTART = {"Job": ("OnFailure", "Never")}
REFERENCED = ("PersistentVolumeClaim", "ConfigMap", "Secret")


def check_conversion(conversion: Any, kube_version: str | None = None) -> None:
    """Raise ``KubeConversionError`` with every problem of the schema and semantic checks."""
    from compose.kube.schema import schema_problems

    problems = schema_problems(conversion.objects, kube_version)
    problems += semantic_problems(conversion.objects, conversion.external)
    if problems:
        raise KubeConversionError(
            [f"check: {p}" for p in problems], hint="the manifests were not written"
        )


def semantic_problems(
    objects: Iterable[Manifest], external: Iterable[tuple[str, str]] = ()
) -> list[str]:
    objects = list(objects)
    problems: list[str] = []
    problems += _names(objects)
    problems += _labels(objects)
    problems += _selectors(objects)
    problems += _references(objects, set(external))
    problems += _pods(objects)
    problems += _sizes(objects)
    return problems


def _id(obj: Manifest) -> str:
    return f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"


def _names(objects: list[Manifest]) -> Iterator[str]:
    seen: set[tuple[str, str, str]] = set()
    for obj in objects:
        kind, meta = obj.get("kind", ""), obj.get("metadata", {})
        name = str(meta.get("name", ""))
        rule, pattern, limit = {
            "Service": ("an RFC 1035 label", _RFC1035, 63),
            "StatefulSet": ("a DNS label of at most 52", _LABEL, 52),
            "Deployment": ("a DNS label", _LABEL, 63),
            "DaemonSet": ("a DNS label", _LABEL, 63),
            "Job": ("a DNS label", _LABEL, 63),
        }.get(kind, ("a DNS-1123 subdomain", _SUBDOMAIN, 253))
        if not pattern.match(name) or len(name) > limit:
            yield f'{_id(obj)}: name "{name}" is not {rule}'
        key = (kind, str(meta.get("namespace", "")), name)
        if key in seen:
            yield f"{_id(obj)}: two objects of this kind share the name"
        seen.add(key)


def _label_problems(where: str, labels: dict[str, Any]) -> Iterator[str]:
    for key, value in labels.items():
        prefix, _, name = key.rpartition("/")
        if (prefix and not _SUBDOMAIN.match(prefix)) or not _QUALIFIED.match(name):
            yield f'{where}: label key "{key}" is invalid'
        if not isinstance(value, str) or not _LABEL_VALUE.match(value):
            yield f'{where}: label value "{value}" of "{key}" is invalid'


def _annotation_problems(where: str, annotations: dict[str, Any]) -> Iterator[str]:
    for key, value in annotations.items():
        prefix, _, name = key.rpartition("/")
        if (prefix and not _SUBDOMAIN.match(prefix)) or not _QUALIFIED.match(name):
            yield f'{where}: annotation key "{key}" is invalid'
        if not isinstance(value, str):
            yield f'{where}: annotation "{key}" is not a string'


def _labels(objects: list[Manifest]) -> Iterator[str]:
    for obj in objects:
        for where, meta in _metadatas(obj):
            yield from _label_problems(where, meta.get("labels") or {})
            yield from _annotation_problems(where, meta.get("annotations") or {})


def _metadatas(obj: Manifest) -> Iterator[tuple[str, dict[str, Any]]]:
    yield _id(obj), obj.get("metadata", {})
    template = _template(obj)
    if template is not None:
        yield f"{_id(obj)} pod template", template.get("metadata", {})


def _template(obj: Manifest) -> dict[str, Any] | None:
    if obj.get("kind") not in WORKLOAD_KINDS:
        return None
    template: dict[str, Any] | None = obj.get("spec", {}).get("template")
    return template


def _pod_labels(obj: Manifest) -> dict[str, str]:
    template = _template(obj) or {}
    labels: dict[str, str] = template.get("metadata", {}).get("labels") or {}
    return labels


def _matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def _selectors(objects: list[Manifest]) -> Iterator[str]:
    workloads = [o for o in objects if o.get("kind") in WORKLOAD_KINDS]
    for obj in workloads:
        match = obj.get("spec", {}).get("selector", {}).get("matchLabels")
        if obj["kind"] != "Job" and not _matches(match or {}, _pod_labels(obj)):
            yield f"{_id(obj)}: selector does not match its pod template labels"
    for svc in (o for o in objects if o.get("kind") == "Service"):
        selector = svc.get("spec", {}).get("selector") or {}
        chosen = [w for w in workloads if _same_ns(w, svc) and _matches(selector, _pod_labels(w))]
        if len(chosen) != 1:
            yield f"{_id(svc)}: selector matches {len(chosen)} workloads, not exactly one"
            continue
        yield from _target_ports(svc, chosen[0])
    yield from _node_ports(objects)


def _node_ports(objects: list[Manifest]) -> Iterator[str]:
    """Node ports inside the default cluster range (--service-node-port-range)."""
    for svc in (o for o in objects if o.get("kind") == "Service"):
        for port in svc.get("spec", {}).get("ports") or []:
            node_port = port.get("nodePort")
            if node_port is not None and node_port not in NODE_PORTS:
                yield f"{_id(svc)}: nodePort {node_port} is outside 30000-32767"


def _same_ns(a: Manifest, b: Manifest) -> bool:
    return bool(a.get("metadata", {}).get("namespace") == b.get("metadata", {}).get("namespace"))


def _containers(obj: Manifest) -> list[dict[str, Any]]:
    spec = (_template(obj) or {}).get("spec", {})
    return list(spec.get("containers") or [])


def _target_ports(svc: Manifest, workload: Manifest) -> Iterator[str]:
    if (svc.get("metadata", {}).get("annotations") or {}).get(PLACEHOLDER_PORT) == "true":
        return
    ports = [p for c in _containers(workload) for p in c.get("ports") or []]
    numbers = {(p.get("containerPort"), p.get("protocol", "TCP")) for p in ports}
    names = {p.get("name") for p in ports}
    for port in svc.get("spec", {}).get("ports") or []:
        target = port.get("targetPort", port.get("port"))
        protocol = port.get("protocol", "TCP")
        if isinstance(target, int) and (target, protocol) not in numbers:
            yield f"{_id(svc)}: targetPort {target}/{protocol} is not a containerPort of its pods"
        elif isinstance(target, str) and target not in names:
            yield f'{_id(svc)}: targetPort "{target}" names no port of {_id(workload)}'


def _references(objects: list[Manifest], external: set[tuple[str, str]]) -> Iterator[str]:
    have = {(o.get("kind"), o.get("metadata", {}).get("name")) for o in objects} | external
    for obj in objects:
        spec = (_template(obj) or {}).get("spec", {})
        templates = {
            t["metadata"]["name"] for t in obj.get("spec", {}).get("volumeClaimTemplates") or []
        }
        for volume in spec.get("volumes") or []:
            for kind, name in _volume_refs(volume):
                if (kind, name) not in have:
                    yield f'{_id(obj)}: {kind} "{name}" is neither in the output nor external'
        volumes = {v.get("name") for v in spec.get("volumes") or []} | templates
        for container in [*spec.get("initContainers", []), *spec.get("containers", [])]:
            paths: set[str] = set()
            for mount in container.get("volumeMounts") or []:
                where = f'{_id(obj)}: container "{container.get("name")}"'
                if mount.get("name") not in volumes:
                    yield f'{where} mounts the unknown volume "{mount.get("name")}"'
                if mount.get("mountPath") in paths:
                    yield f"{where} mounts {mount.get('mountPath')} twice"
                paths.add(mount.get("mountPath"))
    yield from _statefulset_services(objects)


def _volume_refs(volume: dict[str, Any]) -> Iterator[tuple[str, str]]:
    if "persistentVolumeClaim" in volume:
        yield "PersistentVolumeClaim", volume["persistentVolumeClaim"].get("claimName")
    if "configMap" in volume:
        yield "ConfigMap", volume["configMap"].get("name")
    if "secret" in volume:
        yield "Secret", volume["secret"].get("secretName")


def _statefulset_services(objects: list[Manifest]) -> Iterator[str]:
    services = {o["metadata"]["name"]: o for o in objects if o.get("kind") == "Service"}
    for obj in (o for o in objects if o.get("kind") == "StatefulSet"):
        name = obj.get("spec", {}).get("serviceName")
        svc = services.get(name)
        if svc is None or svc.get("spec", {}).get("clusterIP") != "None":
            yield f'{_id(obj)}: serviceName "{name}" is not a headless Service of the output'


def _pods(objects: list[Manifest]) -> Iterator[str]:
    claim_modes = {
        o["metadata"]["name"]: o.get("spec", {}).get("accessModes") or []
        for o in objects
        if o.get("kind") == "PersistentVolumeClaim"
    }
    rwo_users: dict[str, int] = {}
    for obj in (o for o in objects if o.get("kind") in WORKLOAD_KINDS):
        spec = (_template(obj) or {}).get("spec", {})
        allowed = RESTART.get(obj["kind"], ("Always",))
        policy = spec.get("restartPolicy", "Always" if obj["kind"] != "Job" else None)
        if policy not in allowed:
            yield f"{_id(obj)}: restartPolicy {policy} is not allowed (only {' or '.join(allowed)})"
        yield from _container_ports(obj)
        pods = obj.get("spec", {}).get("replicas", 1) if obj["kind"] != "DaemonSet" else 2
        for volume in spec.get("volumes") or []:
            claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
            if claim and claim_modes.get(claim) == ["ReadWriteOnce"]:
                rwo_users[claim] = rwo_users.get(claim, 0) + max(pods, 1)
    for claim, pods in sorted(rwo_users.items()):
        if pods > 1:
            yield f"PersistentVolumeClaim/{claim}: ReadWriteOnce but mounted by {pods} pods"


def _container_ports(obj: Manifest) -> Iterator[str]:
    for container in _containers(obj):
        names: set[str] = set()
        if not _LABEL.match(str(container.get("name", ""))):
            yield f'{_id(obj)}: container name "{container.get("name")}" is not a DNS label'
        for port in container.get("ports") or []:
            name = port.get("name")
            if name is not None and (not _IANA.match(name) or name in names):
                yield f'{_id(obj)}: container port name "{name}" is invalid or repeated'
            names.add(name)
            if not 0 < int(port.get("containerPort", 0)) < 65536:
                yield f"{_id(obj)}: containerPort {port.get('containerPort')} is out of range"


def _sizes(objects: list[Manifest]) -> Iterator[str]:
    for obj in (o for o in objects if o.get("kind") in ("ConfigMap", "Secret")):
        size = 0
        for field in ("data", "binaryData", "stringData"):
            for value in (obj.get(field) or {}).values():
                encoded = field == "binaryData" or (field == "data" and obj["kind"] == "Secret")
                size += len(base64.b64decode(value)) if encoded else len(str(value).encode())
        if size > DATA_MAX:
            yield f"{_id(obj)}: {size} bytes of data, more than 1 MiB"
