"""Short syntax -> long syntax, per file, before merging (compose-go ``transform.Canonical``).

Defensive by design: a value of an unexpected type is left as is, so that the model layer
reports it with its location instead of this module crashing.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from typing import Any

from compose.errors import StackValidationError
from compose.stackfile.interpolate import format_path
from compose.stackfile.shortsyntax import (
    parse_device,
    parse_extra_host,
    parse_port,
    parse_port_uninterpolated,
    parse_volume,
)
from compose.stackfile.types import KeyPath, SourceMap
from compose.stackfile.units import normalize_bytes, normalize_duration

_RESOURCES = ("networks", "volumes", "secrets", "configs")


_SHORT_FORMS = {
    "port": 'the short form is [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL], e.g. "8080:80"',
    "volume": 'the short form is [SOURCE:]TARGET[:MODE], e.g. "./data:/data:ro"',
}


class Canonicalizer:
    """``lenient`` (used with --no-interpolate): an unparsable short form is kept as written."""

    def __init__(self, marks: SourceMap, *, lenient: bool = False) -> None:
        self.marks = marks
        self.lenient = lenient

    def fail(self, path: KeyPath, msg: str, hint: str | None = None) -> StackValidationError:
        mark = self.marks.locate(path)
        where = f"{mark}: " if mark else ""
        return StackValidationError([f"{where}{format_path(path)}: {msg}"], hint=hint)

    def tree(self, tree: dict[str, Any]) -> dict[str, Any]:
        services = tree.get("services")
        if isinstance(services, dict):
            for name, svc in services.items():
                if svc is None:
                    svc = services[name] = {}  # `name:` with no body is an empty service
                if isinstance(svc, dict):
                    services[name] = self.service(svc, ("services", name))
        for kind in _RESOURCES:
            section = tree.get(kind)
            if isinstance(section, dict):
                for key, res in section.items():
                    section[key] = resource(res)
        return tree

    def service(self, svc: dict[str, Any], path: KeyPath) -> dict[str, Any]:
        for key, fn in _SERVICE_FIELDS.items():
            if key in svc:
                svc[key] = fn(self, svc[key], (*path, key))
        return svc

    def ports(self, value: Any, path: KeyPath) -> Any:
        if not isinstance(value, list):
            return value
        out: list[Any] = []
        for i, item in enumerate(value):
            out.extend(self.port(item, (*path, i)))
        return out

    def port(self, item: Any, path: KeyPath) -> list[Any]:
        if isinstance(item, int) and not isinstance(item, bool):
            return [{"mode": "ingress", "target": item, "protocol": "tcp"}]
        if isinstance(item, str):
            ports: list[Any] = self.parsed(
                parse_port, item, path, "port", parse_port_uninterpolated
            )
            return ports
        if isinstance(item, dict):
            return [_long_port(item)]
        return [item]

    def command(self, value: Any, path: KeyPath) -> Any:
        """A command string is shell-split into a list (compose-go uses go-shellwords)."""
        return self.parsed(shlex.split, value, path, "command")

    def each(self, fn: Callable[[Any, KeyPath], Any], value: Any, path: KeyPath) -> Any:
        """Apply ``fn(item, item_path)`` to each item of a list; other values pass through."""
        if not isinstance(value, list):
            return value
        return [fn(v, (*path, i)) for i, v in enumerate(value)]

    def volumes(self, value: Any, path: KeyPath) -> Any:
        return self.each(self.volume, value, path)

    def volume(self, item: Any, path: KeyPath) -> Any:
        if isinstance(item, str):
            return self.parsed(parse_volume, item, path, "volume")
        if isinstance(item, dict):
            tmpfs = item.get("tmpfs")
            if isinstance(tmpfs, dict) and "size" in tmpfs:
                tmpfs["size"] = normalize_bytes(tmpfs["size"])
        return item

    def devices(self, value: Any, path: KeyPath) -> Any:
        return self.each(self.device, value, path)

    def device(self, item: Any, path: KeyPath) -> Any:
        return self.parsed(parse_device, item, path, "")

    def extra_hosts(self, value: Any, path: KeyPath) -> Any:
        if isinstance(value, dict):
            out = []
            for host, ips in value.items():
                for ip in ips if isinstance(ips, list) else [ips]:
                    out.append(f"{host}={'' if ip is None else ip}")
            return out
        return self.each(self.extra_host, value, path)

    def extra_host(self, item: Any, path: KeyPath) -> Any:
        parsed = self.parsed(parse_extra_host, item, path, "")
        return "=".join(parsed) if isinstance(parsed, tuple) else parsed

    def parsed(
        self,
        parse: Callable[[str], Any],
        item: Any,
        path: KeyPath,
        what: str,
        fallback: Callable[[str], Any] | None = None,
    ) -> Any:
        """``parse(item)`` for strings; a ValueError becomes a located error (or, when
        lenient, ``fallback(item)`` / the item itself)."""
        if not isinstance(item, str):
            return item
        try:
            return parse(item)
        except ValueError as exc:
            if self.lenient:
                return fallback(item) if fallback else item
            prefix = f'invalid {what} "{item}": ' if what else ""
            raise self.fail(path, f"{prefix}{exc}", _SHORT_FORMS.get(what)) from None

    def build(self, value: Any, path: KeyPath) -> Any:
        if isinstance(value, str):
            return {"context": value}
        if not isinstance(value, dict):
            return value
        for key in ("args", "additional_contexts"):
            if key in value:
                value[key] = to_mapping(value[key])
        if "labels" in value:
            value["labels"] = _labels(value["labels"])
        if isinstance(value.get("ssh"), str | dict):
            value["ssh"] = _ssh_list(value["ssh"])
        if isinstance(value.get("secrets"), list):
            value["secrets"] = [file_mount(s) for s in value["secrets"]]
        if isinstance(value.get("cache_from"), str):
            value["cache_from"] = [value["cache_from"]]
        if "extra_hosts" in value:
            value["extra_hosts"] = self.extra_hosts(value["extra_hosts"], (*path, "extra_hosts"))
        if "shm_size" in value:
            value["shm_size"] = normalize_bytes(value["shm_size"])
        return value


def _long_port(item: dict[str, Any]) -> dict[str, Any]:
    out = dict(item)
    out.setdefault("mode", "ingress")
    out.setdefault("protocol", "tcp")
    if isinstance(out.get("published"), int) and not isinstance(out["published"], bool):
        out["published"] = str(out["published"])
    if isinstance(out.get("target"), str) and out["target"].isdigit():
        out["target"] = int(out["target"])
    return out


def _ssh_list(value: Any) -> list[Any]:
    if isinstance(value, str):
        return [value]
    return [k if v is None else f"{k}={v}" for k, v in value.items()]


def to_mapping(value: Any) -> Any:
    """``["K=V", "K"]`` -> ``{"K": "V", "K": None}``; maps and other values pass through."""
    if isinstance(value, list):
        out: dict[str, Any] = {}
        for item in value:
            if isinstance(item, str):
                key, sep, val = item.partition("=")
                out[key] = val if sep else None
            else:
                return value
        return out
    return value


def scalar_str(value: Any) -> Any:
    """Go's fmt of a scalar as a string (labels, sysctls, driver_opts values)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return str(value) if isinstance(value, int | float | str) else value


def _labels(value: Any) -> Any:
    value = to_mapping(value)
    return {k: scalar_str(v) for k, v in value.items()} if isinstance(value, dict) else value


def _environment(value: Any) -> Any:
    value = to_mapping(value)
    if not isinstance(value, dict):
        return value
    return {k: v if v is None else scalar_str(v) for k, v in value.items()}


def file_mount(item: Any) -> Any:
    """Secret/config short syntax ``name`` -> ``{source: name}``; mode as octal string."""
    if isinstance(item, str):
        return {"source": item}
    if isinstance(item, dict):
        mode = item.get("mode")
        if isinstance(mode, int) and not isinstance(mode, bool):
            item["mode"] = f"0{mode:o}"
        for key in ("uid", "gid"):
            if isinstance(item.get(key), int):
                item[key] = str(item[key])
    return item


def resource(value: Any) -> Any:
    """Top-level network/volume/secret/config: null -> {}, external.name -> name."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        return value
    ext = value.get("external")
    if isinstance(ext, dict):
        if "name" in ext and "name" not in value:
            value = {"name": ext["name"], **value}
        value["external"] = True
    for key in ("driver_opts", "labels"):
        if key in value:
            value[key] = _labels(value[key])
    return value


def _healthcheck(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    if isinstance(value.get("test"), str):
        value["test"] = ["CMD-SHELL", value["test"]]
    for key in ("interval", "timeout", "start_period", "start_interval"):
        if key in value:
            value[key] = normalize_duration(value[key])
    return value


def _depends_on(value: Any) -> Any:
    if isinstance(value, list) and all(isinstance(d, str) for d in value):
        return {d: {"condition": "service_started", "required": True} for d in value}
    if isinstance(value, dict):
        for dep in value.values():
            if isinstance(dep, dict):
                dep.setdefault("condition", "service_started")
                dep.setdefault("required", True)
    return value


def _networks(value: Any) -> Any:
    if isinstance(value, list) and all(isinstance(n, str) for n in value):
        return dict.fromkeys(value)
    return value


def _env_file(value: Any) -> Any:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        return value
    out = []
    for item in items:
        entry = {"path": item} if isinstance(item, str) else item
        if isinstance(entry, dict) and entry.get("required") is True:
            entry = {k: v for k, v in entry.items() if k != "required"}
        out.append(entry)
    return out


def _str_list(value: Any) -> Any:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [scalar_str(v) if isinstance(v, int | float) else v for v in value]
    return value


def _deploy(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    if "labels" in value:
        value["labels"] = _labels(value["labels"])
    for key in ("update_config", "rollback_config", "restart_policy"):
        section = value.get(key)
        if isinstance(section, dict):
            for dur in ("delay", "monitor", "window"):
                if dur in section:
                    section[dur] = normalize_duration(section[dur])
    resources = value.get("resources")
    if isinstance(resources, dict):
        for part in resources.values():
            if isinstance(part, dict):
                _resource_limits(part)
    return value


def _resource_limits(part: dict[str, Any]) -> None:
    if "memory" in part:
        part["memory"] = normalize_bytes(part["memory"])
    if "cpus" in part:
        part["cpus"] = _float(part["cpus"])


def _logging(value: Any) -> Any:
    if isinstance(value, dict) and isinstance(value.get("options"), dict):
        value["options"] = {k: scalar_str(v) for k, v in value["options"].items()}
    return value


def _develop(value: Any) -> Any:
    """``develop.watch`` items with a list of paths become one item per path (compose-go)."""
    watch = value.get("watch") if isinstance(value, dict) else None
    if isinstance(watch, list):
        out = []
        for item in watch:
            paths = item.get("path") if isinstance(item, dict) else None
            items = [{**item, "path": p} for p in paths] if isinstance(paths, list) else [item]
            out.extend(items)
        value["watch"] = out
    return value


def _float(value: Any) -> Any:
    if isinstance(value, str | int) and not isinstance(value, bool):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _wrap(fn: Callable[[Any], Any]) -> Callable[[Canonicalizer, Any, KeyPath], Any]:
    return lambda _self, value, _path: fn(value)


def _file_mounts(value: Any) -> Any:
    return [file_mount(v) for v in value] if isinstance(value, list) else value


_SERVICE_FIELDS: dict[str, Callable[[Canonicalizer, Any, KeyPath], Any]] = {
    "ports": Canonicalizer.ports,
    "volumes": Canonicalizer.volumes,
    "devices": Canonicalizer.devices,
    "extra_hosts": Canonicalizer.extra_hosts,
    "build": Canonicalizer.build,
    "environment": _wrap(_environment),
    "labels": _wrap(_labels),
    "annotations": _wrap(_labels),
    "sysctls": _wrap(_labels),
    "storage_opt": _wrap(_labels),
    "command": Canonicalizer.command,
    "entrypoint": Canonicalizer.command,
    "healthcheck": _wrap(_healthcheck),
    "depends_on": _wrap(_depends_on),
    "networks": _wrap(_networks),
    "env_file": _wrap(_env_file),
    "label_file": _wrap(_str_list),
    "dns": _wrap(_str_list),
    "dns_search": _wrap(_str_list),
    "dns_opt": _wrap(_str_list),
    "tmpfs": _wrap(_str_list),
    "expose": _wrap(_str_list),
    "profiles": _wrap(_str_list),
    "secrets": _wrap(_file_mounts),
    "configs": _wrap(_file_mounts),
    "deploy": _wrap(_deploy),
    "logging": _wrap(_logging),
    "develop": _wrap(_develop),
    "cpus": _wrap(_float),
    "stop_grace_period": _wrap(normalize_duration),
    "shm_size": _wrap(normalize_bytes),
    "mem_limit": _wrap(normalize_bytes),
    "mem_reservation": _wrap(normalize_bytes),
    "memswap_limit": _wrap(normalize_bytes),
}
