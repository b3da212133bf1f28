"""/etc/hostname, /etc/hosts and /etc/resolv.conf for a container.

The orchestrator normally passes its own files in ``spec.etc_files`` (it rewrites /etc/hosts in
place when peers change, which keeps the bind mount valid). Whatever it leaves out is generated
here into ``<replica_dir>/etc/`` like Docker does for ``network_mode: none`` / ``host``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from compose.runtime.spec import ContainerSpec

LOCALHOST = (
    "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
    "fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\n"
    "ff02::2\tip6-allrouters\n"
)


def default_hosts(hostname: str) -> str:
    return LOCALHOST + (f"127.0.1.1\t{hostname}\n" if hostname else "")


def resolv_conf(
    host_text: str,
    *,
    nameserver: str | None = None,
    dns: Sequence[str] = (),
    search: Sequence[str] = (),
    options: Sequence[str] = (),
    host_network: bool = False,
) -> str:
    """A container's /etc/resolv.conf by Docker's rules (libnetwork ``setupDNS``).

    ``nameserver``: the embedded resolver (127.0.0.11 on user-defined networks); it is then
    the only nameserver (``dns`` servers become its upstreams) and ``ndots:0`` is added unless
    the options set ndots. Otherwise the nameservers are ``dns``, else the host's (loopback
    ones only with the host's network: a netns can't reach them). ``search`` and ``options``
    replace the host's when given. The host network with nothing given: the host's file as is.
    """
    if host_network and not (dns or search or options):
        return host_text
    host = _parse(host_text)
    if nameserver is not None:
        servers = [nameserver]
    else:
        servers = list(dns) or [
            s for s in host["nameserver"] if host_network or not s.startswith(("127.", "::1"))
        ]
    opts = list(options) or host["options"]
    if nameserver is not None and not any(o.startswith("ndots:") for o in opts):
        opts.append("ndots:0")
    lines = [f"search {' '.join(search or host['search'])}"] if search or host["search"] else []
    lines += [f"nameserver {server}" for server in servers]
    lines += [f"options {' '.join(opts)}"] if opts else []
    return "".join(f"{line}\n" for line in lines)


def _parse(text: str) -> dict[str, list[str]]:
    """nameservers in order, the last search/domain line, every option (resolv.conf(5))."""
    found: dict[str, list[str]] = {"nameserver": [], "search": [], "options": []}
    for line in text.splitlines():
        words = line.split("#", 1)[0].split(";", 1)[0].split()
        if len(words) < 2:
            continue
        if words[0] == "nameserver":
            found["nameserver"].append(words[1])
        elif words[0] in ("search", "domain"):
            found["search"] = words[1:]
        elif words[0] == "options":
            found["options"] += words[1:]
    return found


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
            "/etc/resolv.conf": resolv_conf(_read("/etc/resolv.conf"), host_network=True),
        }
    return {
        "/etc/hostname": f"{spec.hostname}\n" if spec.hostname else "",
        "/etc/hosts": default_hosts(spec.hostname),
        "/etc/resolv.conf": resolv_conf(_read("/etc/resolv.conf")),
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
