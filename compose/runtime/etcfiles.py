"""/etc/hostname, /etc/hosts and /etc/resolv.conf for a container.

The orchestrator normally passes its own files in ``spec.etc_files`` (it rewrites /etc/hosts in
place when peers change, which keeps the bind mount valid). Whatever it leaves out is generated
here into ``<replica_dir>/etc/`` like Docker does for ``network_mode: none`` / ``host``.
"""

from __future__ import annotations

import os
from pathlib import Path

from compose.runtime.spec import ContainerSpec

LOCALHOST = (
    "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
    "fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\n"
    "ff02::2\tip6-allrouters\n"
)


def default_hosts(hostname: str) -> str:
    return LOCALHOST + (f"127.0.1.1\t{hostname}\n" if hostname else "")


def container_resolv_conf(host_text: str) -> str:
    """The host's resolv.conf minus loopback nameservers (unreachable from a netns)."""
    keep = []
    for line in host_text.splitlines():
        words = line.split()
        if words[:1] == ["nameserver"] and len(words) > 1 and words[1].startswith(("127.", "::1")):
            continue
        keep.append(line)
    return "\n".join(keep) + "\n"


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def generated_contents(spec: ContainerSpec) -> dict[str, str]:
    if spec.host_network:
        return {
            "/etc/hostname": _read("/etc/hostname"),
            "/etc/hosts": _read("/etc/hosts"),
            "/etc/resolv.conf": _read("/etc/resolv.conf"),
        }
    return {
        "/etc/hostname": f"{spec.hostname}\n" if spec.hostname else "",
        "/etc/hosts": default_hosts(spec.hostname),
        "/etc/resolv.conf": container_resolv_conf(_read("/etc/resolv.conf")),
    }


def write_public(path: Path, text: str) -> None:
    """A file bound into a container (0644 whatever the umask: any container user reads it)."""
    _write(path, text, 0o644)


def write_private(path: Path, text: str) -> None:
    """A file only root may read (0600): the spec holds the container's environment."""
    _write(path, text, 0o600)


def _write(path: Path, text: str, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, mode)
    try:
        os.fchmod(fd, mode)
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def ensure_etc_files(spec: ContainerSpec) -> list[tuple[str, Path]]:
    given = dict(spec.etc_files)
    out = list(spec.etc_files)
    etc_dir = spec.replica_dir / "etc"
    for target, text in generated_contents(spec).items():
        if target in given:
            continue
        etc_dir.mkdir(parents=True, exist_ok=True)
        path = etc_dir / target.rsplit("/", 1)[1]
        write_public(path, text)
        out.append((target, path))
    return out
