"""`ps` rows in docker compose's ContainerSummary shape (JSON fields) and its table."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from typing import Any

from compose.state import EXITED, ObservedProject, ObservedReplica, PortRecord

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
    """A summary as docker's ps template context has it: its fields, and ``.Label "key"``."""
    labels = dict(kv.split("=", 1) for kv in item["Labels"].split(",") if "=" in kv)
    return {**item, "Label": lambda key: labels.get(key, "")}


def rows(
    observed: ObservedProject,
    services: tuple[str, ...],
    show_all: bool,
    statuses: set[str],
    no_trunc: bool = False,
    known: set[str] | None = None,
) -> list[dict[str, Any]]:
    """The replicas ``ps`` lists: running (and restarting) ones, all with ``-a``; ``known``:
    the file's services (``--orphans=false`` leaves out the others)."""
    out = []
    for rep in observed.replicas:
        if services and rep.service not in services:
            continue
        if known is not None and rep.service not in known and not rep.record.oneoff:
            continue
        if statuses and state(rep) not in statuses:
            continue
        if not show_all and not (rep.running or rep.restarting):
            continue
        out.append(summary(observed, rep, no_trunc))
    return out


def state(rep: ObservedReplica) -> str:
    return "restarting" if rep.restarting else rep.status


def summary(
    observed: ObservedProject, rep: ObservedReplica, no_trunc: bool = False
) -> dict[str, Any]:
    """docker compose's ContainerSummary as ``ps --format json`` prints it: the same field
    names and value types (strings, but ``ExitCode`` and ``Publishers``)."""
    rec = rep.record
    project = observed.name
    labels = {
        "com.docker.compose.project": project,
        "com.docker.compose.service": rec.service,
        "com.docker.compose.container-number": str(rec.index),
        "com.docker.compose.config-hash": rec.config_hash,
        "com.docker.compose.oneoff": "True" if rec.oneoff else "False",
    }
    ident = rec.container_id
    return {
        "Command": go_quote(rec.command if no_trunc else _truncate(rec.command, 20)),
        "CreatedAt": time.strftime("%Y-%m-%d %H:%M:%S %z %Z", time.localtime(rec.created)),
        "ExitCode": (rec.exit_code or 0) if rep.status == EXITED and not rep.restarting else 0,
        "Health": (rec.health or "") if rep.running else "",
        "ID": ident if no_trunc else ident[:12],
        "Image": rec.image,
        "Labels": ",".join(f"{k}={v}" for k, v in sorted(labels.items())),
        "LocalVolumes": str(sum(1 for m in rec.mounts if "/volumes/" in m)),
        "Mounts": ",".join(_mount_name(m, no_trunc) for m in rec.mounts),
        "Name": rec.name,
        "Names": rec.name,
        "Networks": ",".join(sorted(_network_name(observed, key) for key in rec.ips)),
        "Ports": ports_text(rec.ports),
        "Project": project,
        "Publishers": [publisher(p, host) for p in rec.ports for host in _hosts(p)],
        "RunningFor": ago(rec.created),
        "Service": rec.service,
        "Size": "0B",
        "State": state(rep),
        "Status": status_text(rep),
    }


def to_json(item: dict[str, Any]) -> str:
    """One line as docker's Go encoder writes it: compact, keys sorted, ``<>&`` escaped."""
    text = json.dumps(item, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def go_quote(text: str) -> str:
    """Go's ``strconv.Quote`` (docker quotes the command column)."""
    return json.dumps(text, ensure_ascii=False)


def _truncate(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _mount_name(mount: str, no_trunc: bool) -> str:
    """A volume's name, else the bind's source (docker's ``Mounts`` column)."""
    source = mount.split(":", 1)[0]
    parts = source.rsplit("/", 2)
    name = parts[1] if len(parts) == 3 and parts[2] == "_data" else source
    return name if no_trunc else _truncate(name, 15)


def _network_name(observed: ObservedProject, key: str) -> str:
    record = observed.project
    for net in record.networks if record else ():
        if net.name == key:
            return net.full_name
    return f"{observed.name}_{key}"


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
    if rep.status == "exited" or rep.restarting:
        code = "unknown" if rec.exit_code is None else rec.exit_code
        since = duration(time.time() - (rec.finished_at or rec.created))
        return f"{'Restarting' if rep.restarting else 'Exited'} ({code}) {since} ago"
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
            i["Command"],
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
