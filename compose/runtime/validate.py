"""Checks a ``ContainerSpec`` before anything touches the kernel (runc ``configs/validate``).

Each check is a small function returning problem strings; ``validate_spec`` runs them all and
raises one ``ContainerError`` naming the container and every problem.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from compose.errors import ContainerError
from compose.runtime import caps
from compose.runtime.init import RLIMITS
from compose.runtime.spec import ContainerSpec

# Docker's namespaced sysctls (moby opts.ValidateSysctl)
NAMESPACED_SYSCTLS = (
    "kernel.msgmax",
    "kernel.msgmnb",
    "kernel.msgmni",
    "kernel.sem",
    "kernel.shmall",
    "kernel.shmmax",
    "kernel.shmmni",
    "kernel.shm_rmid_forced",
)
NAMESPACED_PREFIXES = ("fs.mqueue.", "net.")


def check_basics(spec: ContainerSpec) -> list[str]:
    problems = []
    if not spec.id:
        problems.append("empty container id")
    if not spec.argv or not spec.argv[0]:
        problems.append("no command specified")
    if not spec.layers:
        problems.append("no image layers")
    if not spec.workdir.startswith("/"):
        problems.append(f"working_dir {spec.workdir!r} is not absolute")
    return problems


def check_layers(spec: ContainerSpec) -> list[str]:
    return [f"image layer {p} does not exist" for p in spec.layers if not p.is_dir()]


def check_mounts(spec: ContainerSpec) -> list[str]:
    problems = []
    for m in spec.mounts:
        if not m.target.startswith("/"):
            problems.append(f"mount target {m.target!r} is not absolute")
        if m.type == "bind" and not os.path.exists(m.source):
            problems.append(f"bind source path does not exist: {m.source}")
        if m.type not in ("bind", "tmpfs"):
            problems.append(f"unsupported mount type {m.type!r}")
    return problems


def check_sysctls(spec: ContainerSpec) -> list[str]:
    """runc's rule: a namespaced sysctl only in a namespace of the container's own, never in one
    it shares with the host (the value would change the host's): compared by inode with the
    runtime's own namespaces, as runc does."""
    problems = []
    for key, _ in spec.sysctls:
        namespaced = key in NAMESPACED_SYSCTLS or key.startswith(NAMESPACED_PREFIXES)
        if not namespaced:
            problems.append(f"sysctl {key!r} is not namespaced")
        elif key.startswith("net.") and _host_ns("net", spec.host_network, spec.netns_path):
            problems.append(f"sysctl {key!r} is not allowed in the host's network namespace")
        elif not key.startswith("net.") and _host_ns("ipc", spec.ipc_mode == "host", spec.ipc_mode):
            problems.append(f"sysctl {key!r} is not allowed in the host's ipc namespace")
    return problems


def _host_ns(kind: str, is_host: bool, joined: object) -> bool:
    """Is the namespace the container joins the host's (this process's) own?"""
    if is_host:
        return True
    if not joined or not str(joined).startswith("/"):
        return False  # a fresh namespace of its own
    try:
        theirs, ours = os.stat(str(joined)), os.stat(f"/proc/self/ns/{kind}")
    except OSError:
        return False  # check_namespace_modes reports a missing one
    return (theirs.st_dev, theirs.st_ino) == (ours.st_dev, ours.st_ino)


def check_caps(spec: ContainerSpec) -> list[str]:
    try:
        caps.effective_set(spec.cap_add, spec.cap_drop, spec.privileged)
    except caps.UnknownCapability as err:
        return [str(err)]
    return []


def check_ulimits(spec: ContainerSpec) -> list[str]:
    return [f"unknown ulimit {u.name!r}" for u in spec.limits.ulimits if u.name not in RLIMITS]


def check_namespace_modes(spec: ContainerSpec) -> list[str]:
    problems = []
    for key, value in (("pid", spec.pid_mode), ("ipc", spec.ipc_mode)):
        if value in ("", "host"):
            continue
        if not value.startswith("/") or not os.path.exists(value):
            problems.append(f"{key}: namespace {value!r} does not exist")
    return problems


CHECKS: tuple[Callable[[ContainerSpec], list[str]], ...] = (
    check_basics,
    check_layers,
    check_mounts,
    check_sysctls,
    check_caps,
    check_ulimits,
    check_namespace_modes,
)


def validate_spec(spec: ContainerSpec) -> None:
    problems = [p for check in CHECKS for p in check(spec)]
    if problems:
        raise ContainerError(f"{spec.subject}: invalid container spec: " + "; ".join(problems))
