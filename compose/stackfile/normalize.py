"""Project-level normalization after merging (compose-go ``loader/normalize.go`` and friends).

Always: env_file/label_file contents merged into environment/labels, bare variables resolved
from the project environment, build context defaulted. With ``normalize``: implicit ``default``
network, ``<project>_<key>`` resource names, implicit dependencies from links, namespaces and
volumes_from, build.dockerfile default, pull_policy alias.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compose.errors import UserError
from compose.stackfile import fs
from compose.stackfile.dotenv import read_env_file
from compose.stackfile.interpolate import format_path
from compose.stackfile.paths import abs_path
from compose.stackfile.types import SourceMap

_RESOURCES = ("networks", "volumes", "configs", "secrets")
_NAMESPACE_KEYS = ("network_mode", "ipc", "pid", "uts", "cgroup")


def services_of(tree: dict[str, Any]) -> dict[str, dict[str, Any]]:
    services = tree.get("services")
    if not isinstance(services, dict):
        return {}
    return {k: v for k, v in services.items() if isinstance(v, dict)}


def merge_env_files(
    tree: dict[str, Any],
    env: Mapping[str, str],
    marks: SourceMap,
    base: str,
    lenient: frozenset[str] = frozenset(),
) -> None:
    """Fold ``env_file`` into ``environment`` and ``label_file`` into ``labels``.

    A missing required file is an error, except for services in ``lenient`` (services that
    were not selected on the command line), whose missing files count as empty.
    """
    for name, svc in services_of(tree).items():
        path = ("services", name)
        files = _FileReader(env, marks, base, strict=name not in lenient)
        if isinstance(svc.get("env_file"), list) or "environment" in svc:
            _service_environment(svc, env, files, path)
        if isinstance(svc.get("label_file"), list):
            _service_labels(svc, files, path)


@dataclass(frozen=True)
class _FileReader:
    env: Mapping[str, str]
    marks: SourceMap
    base: str
    strict: bool

    def read(self, item: dict[str, Any], path: tuple[Any, ...]) -> dict[str, Any]:
        home = self.env["HOME"] if "HOME" in self.env else fs.home()
        file = Path(abs_path(self.base, item["path"], home))
        mark = self.marks.locate(path)
        where = f"{mark}: {format_path(path)}: " if mark else f"{format_path(path)}: "
        if not fs.exists(file):
            if item.get("required", True) is False or not self.strict:
                return {}
            kind = "label file" if path[-2] == "label_file" else "env file"
            raise UserError(
                f"{where}{kind} {file} not found",
                hint="create it, or mark it optional: {path: ..., required: false}",
            )
        try:
            if item.get("format") == "raw":
                return _read_raw(file)
            return read_env_file(file, self.env.get)
        except UserError as exc:
            raise UserError(f"{where}{exc}", hint=exc.hint) from None


def _service_environment(
    svc: dict[str, Any], env: Mapping[str, str], files: _FileReader, path: tuple[Any, ...]
) -> None:
    merged: dict[str, Any] = {}
    for i, item in enumerate(_as_list(svc.get("env_file"))):
        if isinstance(item, dict) and isinstance(item.get("path"), str):
            merged.update(files.read(item, (*path, "env_file", i)))
    own = svc.get("environment")
    if isinstance(own, dict):
        for key, value in own.items():
            merged[key] = env.get(key) if value is None else value
    elif own is not None:
        return  # wrong type: left for validation
    svc["environment"] = merged


def _read_raw(file: Path) -> dict[str, Any]:
    out: dict[str, str] = {}
    try:
        text = fs.read_bytes(file).decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{file}: cannot read env file: {exc}") from None
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            out[key.strip()] = value
    return out


def _service_labels(svc: dict[str, Any], files: _FileReader, path: tuple[Any, ...]) -> None:
    merged: dict[str, Any] = {}
    for i, file in enumerate(svc["label_file"]):
        if isinstance(file, str):
            merged.update(files.read({"path": file}, (*path, "label_file", i)))
    own = svc.get("labels")
    if isinstance(own, dict):
        merged.update(own)
    svc["labels"] = merged


def apply_defaults(tree: dict[str, Any], env: Mapping[str, str]) -> None:
    """Defaults compose applies even with --no-normalize: build context, external names."""
    for svc in services_of(tree).values():
        build = svc.get("build")
        if isinstance(build, dict):
            build.setdefault("context", ".")
            _resolve_build_args(build, env.get)


def _resolve_build_args(build: dict[str, Any], lookup: Callable[[str], str | None]) -> None:
    args = build.get("args")
    if isinstance(args, dict):
        resolved = {k: lookup(k) if v is None else _str(v) for k, v in args.items()}
        build["args"] = {k: v for k, v in resolved.items() if v is not None}


def _str(v: Any) -> Any:
    from compose.stackfile.canonical import scalar_str

    return scalar_str(v)


def normalize_project(tree: dict[str, Any], name: str) -> None:
    """What ``docker compose config`` adds unless --no-normalize."""
    for svc in services_of(tree).values():
        _normalize_service(svc)
    _default_network(tree)
    _names_from_keys(tree, name)


def _normalize_service(svc: dict[str, Any]) -> None:
    if svc.get("pull_policy") == "if_not_present":
        svc["pull_policy"] = "missing"
    build = svc.get("build")
    if isinstance(build, dict) and "dockerfile" not in build and "dockerfile_inline" not in build:
        build["dockerfile"] = "Dockerfile"
    deps = svc.get("depends_on", {})
    if not isinstance(deps, dict):
        return  # invalid: left for validation
    implicit = _implicit_dependencies(svc)
    for dep, restart in implicit:
        spec = {"condition": "service_started", "required": True}
        deps.setdefault(dep, {**spec, "restart": True} if restart else spec)  # false: omitted
    if deps:
        svc["depends_on"] = deps


def _implicit_dependencies(svc: dict[str, Any]) -> list[tuple[str, bool]]:
    found: list[tuple[str, bool]] = []
    for link in _as_list(svc.get("links")):
        if isinstance(link, str):
            found.append((link.split(":", 1)[0], True))
    for key in _NAMESPACE_KEYS:
        value = svc.get(key)
        if isinstance(value, str) and value.startswith("service:"):
            found.append((value[len("service:") :], True))
    for ref in _as_list(svc.get("volumes_from")):
        if isinstance(ref, str) and not ref.startswith("container:"):
            found.append((ref.split(":", 1)[0], False))
    return found


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _default_network(tree: dict[str, Any]) -> None:
    uses_default = False
    for svc in services_of(tree).values():
        if "provider" in svc or "network_mode" in svc:
            continue
        nets = svc.get("networks")
        if not nets:
            svc["networks"] = {"default": None}
            uses_default = True
        elif isinstance(nets, dict) and "default" in nets:
            uses_default = True
    networks = tree.get("networks")
    if not isinstance(networks, dict | None):
        return  # not a mapping: left for validation to reject, not silently replaced
    if uses_default and (networks is None or "default" not in networks):
        tree["networks"] = {**(networks or {}), "default": {}}


def _names_from_keys(tree: dict[str, Any], project: str) -> None:
    for kind in _RESOURCES:
        section = tree.get(kind)
        if not isinstance(section, dict):
            continue
        for key, res in section.items():
            if res is None:
                res = section[key] = {}
            if isinstance(res, dict) and res.get("name") is None:
                external = res.get("external") is True
                res["name"] = key if external else f"{project}_{key}"
