"""Parsers for compose short syntax strings: ports, volumes, devices, extra_hosts.

Rules follow compose-go ``types.ParsePortConfig`` (docker/go-connections ``nat``),
``format.ParseVolume`` and ``transform/devices.go``. Errors are ValueError with a short
cause; the caller adds the location.
"""

from __future__ import annotations

import ipaddress
from typing import Any

_PROTOCOLS = ("tcp", "udp", "sctp")
_PROPAGATIONS = ("rprivate", "private", "rshared", "shared", "rslave", "slave")


def parse_port(spec: str) -> list[dict[str, Any]]:
    """``[[ip:]host:]container[/proto]`` (ranges allowed) -> long-form port dicts."""
    raw_ip, host, container = _split_port(spec.strip())
    container, _, proto = container.partition("/")
    proto = (proto or "tcp").lower()
    if proto not in _PROTOCOLS:
        raise ValueError(f'invalid proto "{proto}"')
    ip = _parse_ip(raw_ip)
    start, end = _port_range(container, "containerPort")
    hstart, hend = _port_range(host, "hostPort") if host else (0, 0)
    if host and (end - start) != (hend - hstart) and end != start:
        raise ValueError(
            f"invalid ranges specified for container and host Ports: {container} and {host}"
        )
    return [
        _port_entry(ip, proto, start + i, host, hstart, hend, end == start, i)
        for i in range(end - start + 1)
    ]


def parse_port_uninterpolated(spec: str) -> list[dict[str, Any]]:
    """A port with unexpanded variables (--no-interpolate): split, values kept as written."""
    raw_ip, host, container = _split_port(spec.strip())
    container, _, proto = container.partition("/")
    entry: dict[str, Any] = {"mode": "ingress"}
    if raw_ip:
        entry["host_ip"] = raw_ip[1:-1] if raw_ip.startswith("[") else raw_ip
    entry["target"] = int(container) if container.isdigit() else container
    if host:
        entry["published"] = host
    entry["protocol"] = (proto or "tcp").lower()
    return [entry]


def _port_entry(
    ip: str, proto: str, target: int, host: str, hstart: int, hend: int, single: bool, i: int
) -> dict[str, Any]:
    entry: dict[str, Any] = {"mode": "ingress"}
    if ip:
        entry["host_ip"] = ip
    entry["target"] = target
    if host:
        published = str(hstart + i)
        if single and hstart != hend:
            published = f"{hstart}-{hend}"
        entry["published"] = published
    entry["protocol"] = proto
    return entry


def _split_port(spec: str) -> tuple[str, str, str]:
    if spec.startswith("["):
        close = spec.find("]")
        if close < 0 or spec[close + 1 : close + 2] != ":":
            raise ValueError("invalid IP address")
        host, _, container = spec[close + 2 :].rpartition(":")
        return spec[: close + 1], host, container
    parts = spec.split(":")
    if len(parts) == 1:
        return "", "", parts[0]
    if len(parts) == 2:
        return "", parts[0], parts[1]
    return ":".join(parts[:-2]), parts[-2], parts[-1]


def _parse_ip(raw: str) -> str:
    if not raw:
        return ""
    ip = raw[1:-1] if raw.startswith("[") and raw.endswith("]") else raw
    try:
        ipaddress.ip_address(ip)
    except ValueError:
        raise ValueError(f'invalid IP address: "{raw}"') from None
    return ip


def _port_range(text: str, what: str) -> tuple[int, int]:
    start_s, sep, end_s = text.partition("-")
    try:
        start = int(start_s)
        end = int(end_s) if sep else start
    except ValueError:
        raise ValueError(f'invalid {what}: "{text}"') from None
    if not (0 <= start <= 65535 and 0 <= end <= 65535) or end < start:
        raise ValueError(f'invalid {what}: "{text}"')
    return start, end


def is_file_path(source: str) -> bool:
    if not source:
        return False
    if source[0] in "./~" or source.startswith("\\\\"):
        return True
    return len(source) >= 2 and source[0].isalpha() and source[1] == ":"


def parse_volume(spec: str) -> dict[str, Any]:
    """``[SOURCE:]TARGET[:MODE]`` -> long-form volume dict (compose-go ``ParseVolume``)."""
    if not spec:
        raise ValueError("invalid empty volume spec")
    if len(spec) <= 2:
        return {"type": "volume", "target": spec, "volume": {}}
    fields = _volume_fields(spec)
    if len(fields) > 3:
        raise ValueError(f"invalid spec: {spec}: too many colons")
    if any(not f for f in fields):
        raise ValueError(f"invalid spec: {spec}: empty section between colons")
    vol: dict[str, Any] = {}
    if len(fields) == 1:
        vol["target"] = fields[0]
    else:
        vol["source"], vol["target"] = fields[0], fields[1]
    options = fields[2].split(",") if len(fields) == 3 else []
    return _volume_with_options(vol, options)


def _volume_fields(spec: str) -> list[str]:
    fields: list[str] = []
    buf, depth, i = "", 0, 0
    while i < len(spec):
        c = spec[i]
        if c == "$" and spec[i + 1 : i + 2] == "{":
            depth += 1
        elif c == "}" and depth:
            depth -= 1
        if c == ":" and not depth and not (len(buf) == 1 and buf.isalpha() and not fields):
            fields.append(buf)
            buf = ""
        else:
            buf += c
        i += 1
    fields.append(buf)
    return fields


def _volume_with_options(vol: dict[str, Any], options: list[str]) -> dict[str, Any]:
    bind = is_file_path(vol.get("source", ""))
    out: dict[str, Any] = {"type": "bind" if bind else "volume", **vol}
    sub: dict[str, Any] = {}  # create_host_path defaults to true and compose omits it
    for opt in options:
        if opt == "ro":
            out["read_only"] = True
        elif opt == "rw":
            out.pop("read_only", None)
        elif opt == "nocopy" and not bind:
            sub["nocopy"] = True
        elif opt in _PROPAGATIONS and bind:
            sub["propagation"] = opt
        elif opt in ("z", "Z") and bind:
            sub["selinux"] = opt
    out["bind" if bind else "volume"] = sub
    return out


def parse_device(spec: str) -> dict[str, Any]:
    """``host[:container[:permissions]]`` -> {source, target, permissions}."""
    parts = spec.split(":")
    if len(parts) > 3 or not parts[0]:
        raise ValueError(f'invalid device "{spec}"')
    source = parts[0]
    target = parts[1] if len(parts) > 1 and parts[1] else source
    perms = parts[2] if len(parts) > 2 else "rwm"
    if (
        len(parts) == 2
        and parts[1]
        and set(parts[1]) <= set("rwm")
        and not parts[1].startswith("/")
    ):
        target, perms = source, parts[1]
    return {"source": source, "target": target, "permissions": perms}


def parse_extra_host(spec: str) -> tuple[str, str]:
    """``host=ip`` or ``host:ip`` -> (host, ip); IPv6 may be in brackets."""
    host, sep, ip = spec.partition("=")
    if not sep:
        host, sep, ip = spec.partition(":")
    if not sep or not host:
        raise ValueError(f'invalid extra host "{spec}"')
    if ip.startswith("[") and ip.endswith("]"):
        ip = ip[1:-1]  # "[::1]" -> "::1"
    return host, ip
