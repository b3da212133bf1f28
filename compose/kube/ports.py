"""A service's container ports: what peers dial (targets), and what the host published.

Peers on a compose network dial ``db:5432`` whatever ``15432:5432`` publishes, so the
in-cluster Service listens on the *target* ports: ``ports`` targets, ``expose``, and the
image's ``EXPOSE`` when the image is in the local store. Port names are IANA service names
(at most 15 characters, a letter, no ``--``): the compose ``name`` when it is one, else
``<protocol>-<port>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from compose.kube.facts import Facts
from compose.model import PortMapping, Service

_IANA = re.compile(r"^(?=.*[a-z])(?!.*--)[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$")
_EXPOSE = re.compile(r"^(\d+)(?:-(\d+))?(?:/(\w+))?$")


@dataclass(frozen=True)
class PortSpec:
    port: int
    protocol: str = "TCP"  # TCP | UDP | SCTP
    name: str = ""
    app_protocol: str | None = None

    @property
    def key(self) -> tuple[int, str]:
        return self.port, self.protocol


def port_name(port: int, protocol: str, wanted: str | None = None) -> str:
    if wanted and _IANA.match(wanted):
        return wanted
    return f"{protocol.lower()}-{port}"


def target_ports(service: Service, facts: Facts) -> tuple[PortSpec, ...]:
    """Every port the container listens on, first mention first, each (port, protocol) once."""
    found: dict[tuple[int, str], PortSpec] = {}
    candidates = [_from_mapping(p) for p in service.ports if p.target]
    candidates += [spec for text in service.expose for spec in _from_text(str(text))]
    image = facts.images.get(service.image or "")
    candidates += [
        spec for text in (image.exposed_ports if image else ()) for spec in _from_text(text)
    ]
    names: set[str] = set()
    for spec in candidates:
        if spec.key in found or not 0 < spec.port < 65536:
            continue
        name = spec.name if spec.name not in names else port_name(spec.port, spec.protocol)
        names.add(name)
        found[spec.key] = PortSpec(spec.port, spec.protocol, name, spec.app_protocol)
    return tuple(found.values())


def _from_mapping(mapping: PortMapping) -> PortSpec:
    protocol = mapping.protocol.upper()
    name = port_name(mapping.target, protocol, mapping.name)
    return PortSpec(mapping.target, protocol, name, mapping.app_protocol)


def _from_text(text: str) -> list[PortSpec]:
    """``3306``, ``3306/tcp``, ``8000-8010/udp`` (expose and EXPOSE syntax)."""
    match = _EXPOSE.match(text.strip())
    if match is None:
        return []
    first, last = int(match[1]), int(match[2] or match[1])
    protocol = (match[3] or "tcp").upper()
    return [PortSpec(p, protocol, port_name(p, protocol)) for p in range(first, last + 1)]


@dataclass(frozen=True)
class Published:
    published: int | None  # None: the host picks (compose's ephemeral port)
    target: int
    protocol: str
    host_ip: str | None


def published_ports(service: Service) -> tuple[Published, ...]:
    out = []
    for mapping in service.ports:
        span = mapping.published_range
        protocol = mapping.protocol.upper()
        first = span[0] if span else None
        out.append(Published(first, mapping.target, protocol, mapping.host_ip))
    return tuple(out)
