"""Mounts → PVCs, ConfigMaps, Secrets and emptyDirs, and each pod's volumes and mounts.

- a named volume is ONE PVC, shared by every service that mounts it (compose shares it too);
  more than one pod on it (two services, or replicas) needs ReadWriteMany: asked for, warned.
  With ``--stateful`` a volume only its StatefulSet uses becomes a volumeClaimTemplate (one
  disk per replica). ``external`` volumes are existing claims of that name.
- a bind-mounted file becomes a ConfigMap (read-only; ≤1 MiB; binary files as binaryData),
  mounted with subPath at the target. A bind-mounted directory (or a missing path, which
  Docker would create empty) becomes an empty PVC, with a warning: the data is not copied.
  Sockets and devices have no mapping.
- ``configs`` → a ConfigMap each, ``secrets`` → a Secret each (mounted at
  ``/run/secrets/<target>``), under their own names, exact keys; ``external`` → existing ones.
- tmpfs mounts and ``shm_size`` → emptyDir in memory; anonymous volumes → emptyDir.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field
from typing import Any

from compose.kube.facts import Facts, source_path
from compose.kube.names import Names, data_key, derived, dns_label
from compose.kube.objects import Manifest, labels, manifest
from compose.kube.options import KubeOptions
from compose.kube.report import Report, service_subject
from compose.kube.units import Unit
from compose.model import FileReference, ServiceVolume, Stack
from compose.model.resources import Config, Secret
from compose.stackfile.units import parse_bytes

SECRETS_DIR = "/run/secrets"
RWO, RWX = "ReadWriteOnce", "ReadWriteMany"


@dataclass
class PodStorage:
    volumes: list[dict[str, Any]] = field(default_factory=list)
    mounts: list[dict[str, Any]] = field(default_factory=list)
    claim_templates: list[dict[str, Any]] = field(default_factory=list)
    claims: list[tuple[str, bool]] = field(default_factory=list)  # (claim, read-only)
    exclusive: bool = False  # mounts a ReadWriteOnce claim writable: replace stop-first

    def volume(self, name: str, source: dict[str, Any]) -> str:
        if all(v["name"] != name for v in self.volumes):
            self.volumes.append({"name": name, **source})
        return name

    def mount(self, volume: str, target: str, **extra: Any) -> None:
        self.mounts.append({"name": volume, "mountPath": target, **extra})


@dataclass
class _Claim:
    name: str
    origin: str
    users: list[str] = field(default_factory=list)
    annotations: dict[str, str] = field(default_factory=dict)


@dataclass
class Storage:
    objects: list[Manifest] = field(default_factory=list)
    pods: dict[str, PodStorage] = field(default_factory=dict)
    external: set[tuple[str, str]] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)


@dataclass
class _Build:
    stack: Stack
    units: dict[str, Unit]
    facts: Facts
    names: Names
    report: Report
    options: KubeOptions
    out: Storage = field(default_factory=Storage)
    claims: dict[tuple[str, str], _Claim] = field(default_factory=dict)
    made: set[tuple[str, str]] = field(default_factory=set)

    def emit(self, obj: Manifest) -> None:
        key = obj["kind"], obj["metadata"]["name"]
        if key not in self.made:
            self.made.add(key)
            self.out.objects.append(obj)

    def meta(self, kind: str, name: str, **body: Any) -> Manifest:
        return manifest(kind, name, self.stack.name, namespace=self.options.namespace, **body)


def plan_storage(
    stack: Stack,
    units: dict[str, Unit],
    facts: Facts,
    names: Names,
    report: Report,
    options: KubeOptions,
) -> Storage:
    build = _Build(stack, units, facts, names, report, options)
    for unit in units.values():
        pod = build.out.pods.setdefault(unit.service.name, PodStorage())
        for mount in unit.service.volumes:
            _mount(build, unit, pod, mount)
        _tmpfs(unit, pod)
        for ref in unit.service.configs:
            _config(build, unit, pod, ref)
        for ref in unit.service.secrets:
            _secret(build, unit, pod, ref)
    _claims(build)
    return build.out


# -- mounts ---------------------------------------------------------------------------


def _mount(build: _Build, unit: Unit, pod: PodStorage, mount: ServiceVolume) -> None:
    subject = service_subject(unit.service.name)
    if mount.type == "volume" and mount.source:
        _named_volume(build, unit, pod, mount)
    elif mount.type == "volume":
        name = pod.volume(f"anon-{len(pod.volumes)}", {"emptyDir": {}})
        pod.mount(name, mount.target, **_ro(mount))
        build.report.warn(
            subject,
            f"anonymous volume at {mount.target} becomes an emptyDir: its data goes with the pod",
        )
    elif mount.type == "bind" and mount.source:
        _bind(build, unit, pod, mount)
    elif mount.type == "tmpfs":
        size = mount.tmpfs.size if mount.tmpfs else None
        name = pod.volume(f"tmpfs-{len(pod.volumes)}", {"emptyDir": _memory(size)})
        pod.mount(name, mount.target)
    else:
        build.report.warn(subject, f'a "{mount.type}" mount has no Kubernetes mapping, skipped')


def _ro(mount: ServiceVolume) -> dict[str, Any]:
    return {"readOnly": True} if mount.read_only else {}


def _named_volume(build: _Build, unit: Unit, pod: PodStorage, mount: ServiceVolume) -> None:
    key = str(mount.source)
    volume = build.stack.volumes.get(key)
    extra = _ro(mount)
    if mount.volume is not None and mount.volume.subpath:
        extra["subPath"] = mount.volume.subpath
    if volume is not None and volume.external:
        existing = volume.name or key
        build.out.external.add(("PersistentVolumeClaim", existing))
        volume_name = pod.volume(derived(dns_label(existing), "pvc"), _claim_ref(existing))
        pod.mount(volume_name, mount.target, **extra)
        return
    name = build.names.claim("PersistentVolumeClaim", dns_label(key), f'volume "{key}"')
    if unit.kind == "StatefulSet" and unit.owns(key):
        if all(t["metadata"]["name"] != name for t in pod.claim_templates):
            pod.claim_templates.append(_claim_template(build, name))
        pod.mount(name, mount.target, **extra)
        return
    claim = build.claims.setdefault(("volume", key), _Claim(name, f'volume "{key}"'))
    claim.users.append(unit.service.name)
    if volume is not None:
        _volume_options(build, key, volume.driver, volume.driver_opts, volume.labels, claim)
    pod.claims.append((name, mount.read_only))
    pod.mount(pod.volume(derived(name, "pvc"), _claim_ref(name)), mount.target, **extra)


def _volume_options(
    build: _Build,
    key: str,
    driver: str | None,
    options: dict[str, str],
    labels: dict[str, str],
    claim: _Claim,
) -> None:
    subject = f'volume "{key}"'
    if driver and driver != "local":
        build.report.warn(
            subject, f'driver "{driver}" has no Kubernetes mapping (a storage class may)'
        )
    if options:
        build.report.warn(subject, "driver_opts have no Kubernetes mapping, skipped")
    claim.annotations.update(labels)


def _claim_ref(name: str) -> dict[str, Any]:
    return {"persistentVolumeClaim": {"claimName": name}}


def _claim_spec(build: _Build, mode: str) -> dict[str, Any]:
    return {
        "accessModes": [mode],
        "resources": {"requests": {"storage": build.options.volume_size}},
    }


def _claim_template(build: _Build, name: str) -> dict[str, Any]:
    metadata = {"name": name, "labels": labels(build.stack.name, name)}
    return {"metadata": metadata, "spec": _claim_spec(build, RWO)}


def _bind(build: _Build, unit: Unit, pod: PodStorage, mount: ServiceVolume) -> None:
    subject = service_subject(unit.service.name)
    path = source_path(build.stack, str(mount.source))
    fact = build.facts.file(path)
    shown = _shown(build.stack, path)
    if mount.bind is not None:
        _bind_options(build, subject, mount)
    if fact.kind == "socket" or path.endswith(".sock"):
        build.report.warn(
            subject, f"bind mount of the socket {shown} has no Kubernetes mapping, skipped"
        )
        return
    if fact.kind == "other":
        build.report.warn(subject, f"bind mount of {shown} (not a file or directory) skipped")
        return
    if fact.kind == "file" and fact.data is not None:
        _bind_file(build, unit, pod, mount, path, fact.data)
        return
    why = {
        "dir": "is a directory",
        "missing": "does not exist here (Docker would create an empty directory)",
        "file": "is larger than a ConfigMap's 1 MiB",
    }[fact.kind]
    name = build.names.claim(
        "PersistentVolumeClaim", dns_label(_relative(build.stack, path)), f"bind mount {shown}"
    )
    build.report.warn(
        subject,
        f'bind mount {shown} {why}: it becomes the empty PVC "{name}"; copy its content in',
    )
    claim = build.claims.setdefault(("bind", path), _Claim(name, f"bind mount {shown}"))
    claim.users.append(unit.service.name)
    pod.claims.append((name, mount.read_only))
    pod.mount(pod.volume(derived(name, "pvc"), _claim_ref(name)), mount.target, **_ro(mount))


def _bind_options(build: _Build, subject: str, mount: ServiceVolume) -> None:
    bind = mount.bind
    assert bind is not None
    for key in ("selinux", "propagation", "recursive"):
        if getattr(bind, key) is not None:
            build.report.warn(subject, f"bind option {key} has no Kubernetes mapping, skipped")


def _bind_file(
    build: _Build, unit: Unit, pod: PodStorage, mount: ServiceVolume, path: str, data: bytes
) -> None:
    shown = _shown(build.stack, path)
    name = build.names.claim(
        "ConfigMap", dns_label(_relative(build.stack, path)), f"bind mount {shown}"
    )
    key = data_key(os.path.basename(path))
    build.emit(build.meta("ConfigMap", name, **_data(key, data, text_field="data")))
    if not mount.read_only:
        build.report.warn(
            service_subject(unit.service.name),
            f'bind mount {shown} becomes ConfigMap "{name}", which is read-only',
        )
    volume = pod.volume(derived(name, "cm"), {"configMap": {"name": name}})
    pod.mount(volume, mount.target, subPath=key, readOnly=True)


def _data(key: str, data: bytes, *, text_field: str) -> dict[str, Any]:
    """``{data: {key: text}}`` for UTF-8 text (Secrets always base64), else binaryData."""
    if text_field == "data":
        try:
            return {"data": {key: data.decode("utf-8")}}
        except UnicodeDecodeError:
            return {"binaryData": {key: base64.b64encode(data).decode()}}
    return {"data": {key: base64.b64encode(data).decode()}}


def _relative(stack: Stack, path: str) -> str:
    try:
        return (
            os.path.relpath(path, stack.working_dir)
            if path.startswith(str(stack.working_dir))
            else path
        )
    except ValueError:
        return path


def _shown(stack: Stack, path: str) -> str:
    rel = _relative(stack, path)
    return rel if rel.startswith("/") else f"./{rel}"


def _tmpfs(unit: Unit, pod: PodStorage) -> None:
    for entry in unit.service.tmpfs:
        target, _, opts = entry.partition(":")
        size = None
        for opt in opts.split(","):
            if opt.startswith("size="):
                size = parse_bytes(opt[5:])
        pod.mount(pod.volume(f"tmpfs-{len(pod.volumes)}", {"emptyDir": _memory(size)}), target)
    if unit.service.shm_size:
        pod.mount(pod.volume("shm", {"emptyDir": _memory(unit.service.shm_size)}), "/dev/shm")


def _memory(size: int | None) -> dict[str, Any]:
    from compose.kube.container import memory_quantity

    return {"medium": "Memory", **({"sizeLimit": memory_quantity(size)} if size else {})}


# -- configs and secrets --------------------------------------------------------------


def _config(build: _Build, unit: Unit, pod: PodStorage, ref: FileReference) -> None:
    config = build.stack.configs.get(ref.source)
    if config is None:
        return
    target = ref.target or f"/{ref.source}"
    _file_object(build, unit, pod, ref, config, "ConfigMap", target)


def _secret(build: _Build, unit: Unit, pod: PodStorage, ref: FileReference) -> None:
    secret = build.stack.secrets.get(ref.source)
    if secret is None:
        return
    target = ref.target or ref.source
    target = target if target.startswith("/") else f"{SECRETS_DIR}/{target}"
    _file_object(build, unit, pod, ref, secret, "Secret", target)


def _file_object(
    build: _Build,
    unit: Unit,
    pod: PodStorage,
    ref: FileReference,
    resource: Config | Secret,
    kind: str,
    target: str,
) -> None:
    noun = "config" if kind == "ConfigMap" else "secret"
    subject = f'{noun} "{ref.source}"'
    key = data_key(ref.source)
    if resource.external:
        name = resource.name or ref.source
        build.out.external.add((kind, name))
    else:
        name = build.names.claim(kind, dns_label(ref.source), subject)
        content = _content(build, resource, subject)
        if content is None:
            return
        if (kind, name) not in build.made and kind == "Secret":
            build.report.warn(
                subject,
                "its content is in the manifest, base64-encoded only: keep the output private",
            )
        body = _data(key, content, text_field="data" if kind == "ConfigMap" else "secret")
        build.emit(
            build.meta(kind, name, **({"type": "Opaque"} if kind == "Secret" else {}), **body)
        )
    if ref.uid is not None or ref.gid is not None:
        build.report.warn(
            service_subject(unit.service.name),
            f"{noun} {ref.source}: uid/gid have no mapping, skipped",
        )
    source: dict[str, Any] = (
        {"configMap": {"name": name}} if kind == "ConfigMap" else {"secret": {"secretName": name}}
    )
    if ref.mode is not None:
        next(iter(source.values()))["defaultMode"] = ref.mode
    volume = pod.volume(derived(dns_label(name), "cm" if kind == "ConfigMap" else "secret"), source)
    pod.mount(volume, target, subPath=key, readOnly=True)


def _content(build: _Build, resource: Config | Secret, subject: str) -> bytes | None:
    if isinstance(resource, Config) and resource.content is not None:
        return resource.content.encode()
    if resource.environment is not None:
        value = build.stack.environment.get(resource.environment)
        if value is None:
            build.out.problems.append(f'{subject}: variable "{resource.environment}" is not set')
            return None
        return value.encode()
    if resource.file is None:
        build.out.problems.append(f"{subject}: no file, content or environment to read it from")
        return None
    path = source_path(build.stack, resource.file)
    fact = build.facts.file(path)
    if fact.kind != "file" or fact.data is None:
        why = "is larger than 1 MiB" if fact.kind == "file" else f"is {fact.kind}"
        build.out.problems.append(
            f"{subject}: {_shown(build.stack, path)} {why}: cannot be read into the manifest"
        )
        return None
    return fact.data


# -- claims ---------------------------------------------------------------------------


def _claims(build: _Build) -> None:
    """One PVC per claim; ReadWriteMany when more than one pod mounts it."""
    modes: dict[str, str] = {}
    for claim in build.claims.values():
        users = list(dict.fromkeys(claim.users))
        many = [u for u in users if build.units[u].pods != 1]
        mode = RWX if len(users) > 1 or many else RWO
        modes[claim.name] = mode
        if mode == RWX:
            who = ", ".join(f'"{u}"' for u in users)
            reason = (
                f"shared by services {who}"
                if len(users) > 1
                else f"mounted by every replica of {who}"
            )
            build.report.warn(
                claim.origin,
                f"{reason}: its PVC asks for ReadWriteMany (the storage class must support it)",
            )
        spec = _claim_spec(build, mode)
        build.emit(
            build.meta(
                "PersistentVolumeClaim", claim.name, annotations=claim.annotations, spec=spec
            )
        )
    for pod in build.out.pods.values():
        pod.exclusive = any(modes.get(c) == RWO and not ro for c, ro in pod.claims)
