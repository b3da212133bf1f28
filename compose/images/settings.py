"""Registry settings like Docker's daemon.json: ``registry-mirrors``, ``insecure-registries``.

Read from ``compose.paths.config_dir()/daemon.json``. Mirrors apply to Docker Hub (docker.io)
only, as in Docker. Loopback registries (127.0.0.0/8, ::1, localhost) are always insecure
(plain HTTP), as Docker treats them.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

from compose import daemonjson

DOCKER_HUB = "docker.io"
HUB_ENDPOINT = "https://registry-1.docker.io"


@dataclass(frozen=True, slots=True)
class RegistrySettings:
    mirrors: tuple[str, ...] = ()
    insecure: tuple[str, ...] = ()

    @classmethod
    def load(cls, path: Path | None = None) -> RegistrySettings:
        doc = daemonjson.load(path)
        mirrors = tuple(str(m).rstrip("/") for m in doc.get("registry-mirrors") or ())
        return cls(mirrors, tuple(str(i) for i in doc.get("insecure-registries") or ()))

    def is_insecure(self, domain: str) -> bool:
        host = _host_of(domain)
        if host == "localhost" or _in_loopback(host):
            return True
        return any(_insecure_match(entry, domain, host) for entry in self.insecure)

    def endpoints(self, domain: str) -> list[str]:
        """Base URLs to try, in order (mirrors first for Docker Hub)."""
        if domain == DOCKER_HUB:
            return [*self.mirrors, HUB_ENDPOINT]
        scheme = "http" if self.is_insecure(domain) else "https"
        return [f"{scheme}://{domain}"]


def _host_of(domain: str) -> str:
    if domain.startswith("["):
        return domain[1:].split("]", 1)[0]
    return domain.rsplit(":", 1)[0] if domain.count(":") == 1 else domain


def _in_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _insecure_match(entry: str, domain: str, host: str) -> bool:
    entry = entry.removeprefix("http://").removeprefix("https://").rstrip("/")
    if entry in (domain, host):
        return True
    try:
        return ipaddress.ip_address(host) in ipaddress.ip_network(entry, strict=False)
    except ValueError:
        return False
