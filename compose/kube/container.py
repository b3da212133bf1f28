"""One service → its container: image, command, env, ports, resources, security, hooks.

``$`` stays literal: compose already interpolated the file (``$$`` became ``$``), but the
kubelet expands ``$(VAR)`` in ``command``, ``args`` and ``env`` values and reduces ``$$`` to
``$``, so every ``$`` followed by ``(`` or ``$`` is doubled (kompose turns ``$VAR`` into
``$(VAR)``; a shell's ``$HOME`` then becomes a kubelet substitution).
"""

from __future__ import annotations

import re
import shlex
from typing import Any

from compose.kube.ports import PortSpec
from compose.kube.report import Report, service_subject
from compose.model import Service

_KUBELET_EXPANDS = re.compile(r"\$(?=[$(])")
PULL_POLICIES = {
    "always": "Always",
    "missing": "IfNotPresent",
    "if_not_present": "IfNotPresent",
    "never": "Never",
    "build": "IfNotPresent",
}
SAFE_SYSCTLS = frozenset(
    """kernel.shm_rmid_forced net.ipv4.ip_local_port_range net.ipv4.tcp_syncookies
    net.ipv4.ping_group_range net.ipv4.ip_unprivileged_port_start
    net.ipv4.ip_local_reserved_ports net.ipv4.tcp_keepalive_time net.ipv4.tcp_fin_timeout
    net.ipv4.tcp_keepalive_intvl net.ipv4.tcp_keepalive_probes""".split()
)


def literal(text: str) -> str:
    """``text`` as the kubelet must see it to pass it on unchanged."""
    return _KUBELET_EXPANDS.sub("$$", text)


def container(
    service: Service, name: str, image: str, ports: tuple[PortSpec, ...], report: Report
) -> dict[str, Any]:
    """The container spec, without probes and volume mounts (their modules add them)."""
    subject = service_subject(service.name)
    spec: dict[str, Any] = {"name": name, "image": image}
    if service.pull_policy:
        spec["imagePullPolicy"] = pull_policy(service.pull_policy, subject, report)
    spec.update(_command(service, subject, report))
    if service.working_dir:
        spec["workingDir"] = service.working_dir
    env = [
        {"name": k, "value": literal(v)} for k, v in service.environment.items() if v is not None
    ]
    if env:
        spec["env"] = env
    if ports:
        spec["ports"] = [_container_port(p) for p in ports]
    resources = resources_of(service, subject, report)
    if resources:
        spec["resources"] = resources
    security = container_security(service, subject, report)
    if security:
        spec["securityContext"] = security
    lifecycle = _lifecycle(service, subject, report)
    if lifecycle:
        spec["lifecycle"] = lifecycle
    if service.tty:
        spec["tty"] = True
    if service.stdin_open:
        spec["stdin"] = True
    return spec


def pull_policy(policy: str, subject: str, report: Report) -> str:
    mapped = PULL_POLICIES.get(policy)
    if mapped is None:
        report.warn(subject, f'pull_policy "{policy}" has no Kubernetes equivalent: Always')
        return "Always"
    return mapped


def _command(service: Service, subject: str, report: Report) -> dict[str, list[str]]:
    out = {}
    for key, field in (("command", service.entrypoint), ("args", service.command)):
        if field is None:
            continue
        if not field:
            compose_key = "entrypoint" if key == "command" else "command"
            report.warn(
                subject,
                f"an empty {compose_key} (clearing the image's) has no Kubernetes equivalent: "
                "the image's is used",
            )
            continue
        out[key] = [literal(arg) for arg in field]
    return out


def _container_port(port: PortSpec) -> dict[str, Any]:
    return {"name": port.name, "containerPort": port.port, "protocol": port.protocol}


def cpu_quantity(cpus: float) -> str:
    millis = max(1, round(cpus * 1000))
    return str(millis // 1000) if millis % 1000 == 0 else f"{millis}m"


def memory_quantity(size: int) -> str:
    for unit, factor in (("Gi", 1 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10)):
        if size and size % factor == 0:
            return f"{size // factor}{unit}"
    return str(size)


def resources_of(service: Service, subject: str, report: Report) -> dict[str, Any]:
    limits: dict[str, str] = {}
    requests: dict[str, str] = {}
    if service.cpu_limit:
        limits["cpu"] = cpu_quantity(service.cpu_limit)
    if service.memory_limit:
        limits["memory"] = memory_quantity(service.memory_limit)
    resources = service.deploy.resources if service.deploy else None
    reserved = resources.reservations if resources else None
    if reserved is not None and reserved.cpus:
        requests["cpu"] = cpu_quantity(reserved.cpus)
    if service.memory_reservation:
        requests["memory"] = memory_quantity(service.memory_reservation)
    if service.pids_max:
        report.warn(subject, "a pids limit has no Kubernetes equivalent (it is the node's)")
    for block in (resources.limits if resources else None, reserved):
        if block is not None and (block.devices or block.generic_resources):
            report.warn(subject, "device reservations (GPUs) have no portable mapping, skipped")
    out: dict[str, Any] = {}
    if limits:
        out["limits"] = limits
    if requests:
        out["requests"] = requests
    return out


def numeric_ids(text: str) -> tuple[int | None, int | None] | None:
    """``uid[:gid]`` as numbers (``root`` is 0); None when a part is a user or group name."""
    user, _, group = text.partition(":")
    ids = []
    for part in (user, group):
        if part in ("", "root"):
            ids.append(0 if part == "root" else None)
        elif part.isdigit():
            ids.append(int(part))
        else:
            return None
    return ids[0], ids[1]


def container_security(service: Service, subject: str, report: Report) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if service.user is not None:
        ids = numeric_ids(str(service.user))
        if ids is None:
            report.warn(
                subject,
                f'user "{service.user}" is a name; Kubernetes needs numeric ids '
                "(runAsUser), skipped: the image's user applies",
            )
        else:
            if ids[0] is not None:
                out["runAsUser"] = ids[0]
            if ids[1] is not None:
                out["runAsGroup"] = ids[1]
    capabilities = {}
    if service.cap_add:
        capabilities["add"] = [_capability(c) for c in service.cap_add]
    if service.cap_drop:
        capabilities["drop"] = [_capability(c) for c in service.cap_drop]
    if capabilities:
        out["capabilities"] = capabilities
    if service.privileged:
        out["privileged"] = True
        report.warn(
            subject, "privileged: the namespace must allow the Privileged Pod Security level"
        )
    if service.read_only:
        out["readOnlyRootFilesystem"] = True
    out.update(_security_opts(service, subject, report))
    return out


def _capability(name: str) -> str:
    return name.upper().removeprefix("CAP_")


def _security_opts(service: Service, subject: str, report: Report) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for option in service.security_opt:
        key, _, value = option.replace("=", ":", 1).partition(":")
        if key == "no-new-privileges" and value in ("", "true"):
            if not service.privileged:
                out["allowPrivilegeEscalation"] = False
        elif key == "seccomp" and value == "unconfined":
            out["seccompProfile"] = {"type": "Unconfined"}
        else:
            report.warn(subject, f'security_opt "{option}" has no Kubernetes mapping, skipped')
    return out


def pod_security(service: Service, subject: str, report: Report) -> dict[str, Any]:
    out: dict[str, Any] = {}
    groups = []
    for group in service.group_add:
        if str(group).isdigit():
            groups.append(int(group))
        else:
            report.warn(subject, f'group_add "{group}" is a name; Kubernetes needs a gid, skipped')
    if groups:
        out["supplementalGroups"] = groups
    sysctls = []
    for name, value in sorted(service.sysctls.items()):
        sysctls.append({"name": name, "value": str(value)})
        if name not in SAFE_SYSCTLS:
            report.warn(
                subject,
                f'sysctl "{name}" is not in Kubernetes\' safe set: the kubelet must allow it '
                "(--allowed-unsafe-sysctls)",
            )
    if sysctls:
        out["sysctls"] = sysctls
    return out


def _lifecycle(service: Service, subject: str, report: Report) -> dict[str, Any]:
    out = {}
    for key, hooks in (("postStart", service.post_start), ("preStop", service.pre_stop)):
        commands = []
        for hook in hooks:
            extra = sorted(set(hook) - {"command"})
            if extra:
                report.warn(subject, f"{key} hook keys {', '.join(extra)} have no mapping, skipped")
            command = hook.get("command")
            if command:
                commands.append(shlex.split(command) if isinstance(command, str) else command)
        if len(commands) == 1:
            out[key] = {"exec": {"command": [str(a) for a in commands[0]]}}
        elif commands:
            script = " && ".join(shlex.join(map(str, c)) for c in commands)
            out[key] = {"exec": {"command": ["/bin/sh", "-c", script]}}
    return out
