"""`ps` rows in docker compose's ContainerSummary shape (JSON fields) and its table."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from typing import Any

from compose.state import ObservedProject, ObservedReplica, PortRecord

COLUMNS = ("NAME", "IMAGE", "COMMAND", "SERVICE", "CREATED", "STATUS", "PORTS")
# `ps --format 'table {{.Field}}'` headers, as docker compose names them
HEADERS = {
    "ID": "CONTAINER ID",
    "RunningFor": "CREATED",
    "CreatedAt": "CREATED AT",
    "ExitCode": "EXIT CODE",
    "LocalVolumes": "LOCAL VOLUMES",
}


def template_item(item: dict[str, Any]) -> dict[str, Any]:
    """A summary as docker's ps template context shows it: lists joined with commas, labels
    as ``k=v,...`` and ``.Label "key"``."""
    labels = item["Labels"]
    return {
        **item,
        "Names": ",".join(item["Names"]),
        "Networks": ",".join(item["Networks"]),
        "Mounts": ",".join(item["Mounts"]),
        "Labels": ",".join(f"{k}={v}" for k, v in sorted(labels.items())),
        "Label": lambda key: labels.get(key, ""),
        "CreatedAt": time.strftime("%Y-%m-%d %H:%M:%S %z %Z", time.localtime(item["Created"])),
    }


def rows(
    observed: ObservedProject, services: tuple[str, ...], show_all: bool, statuses: set[str]
) -> list[dict[str, Any]]:
    out = []
    for rep in observed.replicas:
        if services and rep.service not in services:
            continue
        if statuses and rep.status not in statuses:
            continue
        if not show_all and not rep.running:
            continue
        out.append(summary(observed.name, rep))
    return out


def summary(project: str, rep: ObservedReplica) -> dict[str, Any]:
    rec = rep.record
    return {
        "ID": rec.name,
        "Name": rec.name,
        "Names": [rec.name],
        "Image": rec.image,
        "Command": rec.command,
        "Project": project,
        "Service": rec.service,
        "Created": int(rec.created),
        "State": rep.status,
        "Status": status_text(rep),
        "Health": (rec.health or "") if rep.running else "",
        "ExitCode": rec.exit_code or 0,
        "Publishers": [publisher(p, host) for p in rec.ports for host in _hosts(p)],
        "Labels": {
            "com.docker.compose.project": project,
            "com.docker.compose.service": rec.service,
            "com.docker.compose.container-number": str(rec.index),
            "com.docker.compose.config-hash": rec.config_hash,
        },
        "LocalVolumes": sum(1 for m in rec.mounts if "/volumes/" in m),
        "Mounts": [m.split(":", 1)[0] for m in rec.mounts],
        "Networks": sorted(rec.ips),
        "Size": 0,
        "RunningFor": ago(rec.created),
        "Ports": ports_text(rec.ports),
    }


def publisher(port: PortRecord, host: str) -> dict[str, Any]:
    return {
        "URL": host,
        "TargetPort": port.target,
        "PublishedPort": port.published or 0,
        "Protocol": port.protocol,
    }


def _hosts(port: PortRecord) -> list[str]:
    """The addresses a published port listens on, as docker shows them: every address ("")
    is 0.0.0.0 and, on a host with IPv6, :: as well."""
    if port.host_ip:
        return [port.host_ip]
    return ["0.0.0.0", "::"] if os.path.exists("/proc/net/if_inet6") else ["0.0.0.0"]


def ports_text(ports: Iterable[PortRecord]) -> str:
    parts = []
    for p in ports:
        if not p.published:
            parts.append(f"{p.target}/{p.protocol}")
            continue
        for host in _hosts(p):
            shown = f"[{host}]" if ":" in host else host
            parts.append(f"{shown}:{p.published}->{p.target}/{p.protocol}")
    return ", ".join(parts)


def status_text(rep: ObservedReplica) -> str:
    rec = rep.record
    if rep.status == "running":
        health = f" ({rec.health})" if rec.health else ""
        return f"Up {duration(time.time() - (rec.started_at or rec.created))}{health}"
    if rep.status == "paused":
        return f"Up {duration(time.time() - (rec.started_at or rec.created))} (Paused)"
    if rep.status == "exited":
        code = "unknown" if rec.exit_code is None else rec.exit_code
        return f"Exited ({code}) {duration(time.time() - (rec.finished_at or rec.created))} ago"
    return rep.status.capitalize()


def duration(seconds: float) -> str:
    """Docker's ``units.HumanDuration`` (go-units), word for word."""
    secs = int(seconds)
    if secs < 60:
        return {0: "Less than a second", 1: "1 second"}.get(max(secs, 0), f"{secs} seconds")
    if secs < 3600:
        minutes = secs // 60
        return "About a minute" if minutes == 1 else f"{minutes} minutes"
    hours = int(seconds / 3600 + 0.5)
    if hours == 1:
        return "About an hour"
    return _long(hours)


def _long(hours: int) -> str:
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{hours // 24 // 365} years"


def ago(created: float) -> str:
    return f"{duration(time.time() - created)} ago"


def table(items: list[dict[str, Any]]) -> str:
    data = [COLUMNS] + [
        (
            i["Name"],
            i["Image"],
            _quote(i["Command"]),
            i["Service"],
            i["RunningFor"],
            i["Status"],
            i["Ports"],
        )
        for i in items
    ]
    widths = [max(len(str(row[c])) for row in data) for c in range(len(COLUMNS))]
    return "\n".join(
        "   ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()
        for row in data
    )


def _quote(command: str) -> str:
    text = command if len(command) <= 20 else command[:19] + "…"
    return f'"{text}"'
