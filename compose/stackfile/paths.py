"""Relative path resolution (compose-go ``paths``): against a base directory, ``~`` expanded."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from compose import limits
from compose.errors import UserError
from compose.stackfile import fs

_REMOTE_PREFIXES = ("http://", "https://", "git://", "git@", "ssh://", "github.com/")
_CONTEXT_SCHEMES = ("docker-image://", "service:", "target:")


def read_utf8(path: Path, name: str) -> str:
    """The file's text; a byte that is not UTF-8 is a located user error (binary files), a
    file larger than ``limits.FILE_SIZE`` a user error too (``-f /dev/zero`` ends)."""
    most = limits.limit(limits.FILE_SIZE)
    data = fs.read_bytes(path, most)
    limits.check_size(len(data), most, name)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise UserError(
            f"{name}:{line}:{col}: not valid UTF-8 (byte 0x{data[exc.start]:02x})",
            hint="is this a text file? compose and env files must be UTF-8",
        ) from None


def abs_path(base: str, path: str, home: str) -> str:
    """Join ``path`` onto ``base`` (Go ``filepath.Join`` cleans the result); expand ``~``."""
    if path.startswith("~"):
        return os.path.normpath(os.path.join(home, path[1:].lstrip("/")))  # as compose-go
    if os.path.isabs(path):
        return path
    return os.path.normpath(os.path.join(base, path))


def short_path(path: str) -> str:
    """``path`` relative to the current directory when below it, else absolute (messages)."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def _is_remote(path: str) -> bool:
    return path.startswith(_REMOTE_PREFIXES) or (
        "://" in path and not path.startswith("oci-layout://")
    )


def resolve_service_paths(svc: dict[str, Any], base: str, home: str) -> None:
    """Make the service's host paths absolute (build context, env/label files, binds, ...)."""
    _build_paths(svc.get("build"), base, home)
    for key in ("env_file", "label_file"):
        items = svc.get(key)
        if isinstance(items, list):
            svc[key] = [_env_file_path(i, base, home) for i in items]
    ext = svc.get("extends")
    if isinstance(ext, dict) and isinstance(ext.get("file"), str):
        ext["file"] = abs_path(base, ext["file"], home)
    volumes = svc.get("volumes")
    for vol in volumes if isinstance(volumes, list) else []:
        if (
            isinstance(vol, dict)
            and vol.get("type") == "bind"
            and isinstance(vol.get("source"), str)
        ):
            vol["source"] = abs_path(base, vol["source"], home)
    _watch_paths(svc.get("develop"), base, home)


def _env_file_path(item: Any, base: str, home: str) -> Any:
    if isinstance(item, str):
        return abs_path(base, item, home)
    if isinstance(item, dict) and isinstance(item.get("path"), str):
        return {**item, "path": abs_path(base, item["path"], home)}
    return item


def _build_paths(build: Any, base: str, home: str) -> None:
    if not isinstance(build, dict):
        return
    ctx = build.get("context")
    if isinstance(ctx, str) and not _is_remote(ctx):
        build["context"] = abs_path(base, ctx, home)
    extra = build.get("additional_contexts")
    if isinstance(extra, dict):
        for key, value in extra.items():
            if isinstance(value, str) and not (
                _is_remote(value) or value.startswith(_CONTEXT_SCHEMES)
            ):
                extra[key] = abs_path(base, value, home)


def _watch_paths(develop: Any, base: str, home: str) -> None:
    watch = develop.get("watch") if isinstance(develop, dict) else None
    for item in watch if isinstance(watch, list) else []:
        if isinstance(item, dict) and isinstance(item.get("path"), str):
            item["path"] = abs_path(base, item["path"], home)


def resolve_resource_paths(tree: dict[str, Any], base: str, home: str) -> None:
    """Top-level secrets/configs ``file:`` and local bind-volume devices."""
    for kind in ("secrets", "configs"):
        section = tree.get(kind)
        for res in section.values() if isinstance(section, dict) else []:
            if isinstance(res, dict) and isinstance(res.get("file"), str):
                res["file"] = abs_path(base, res["file"], home)
    volumes = tree.get("volumes")
    for vol in volumes.values() if isinstance(volumes, dict) else []:
        opts = vol.get("driver_opts") if isinstance(vol, dict) else None
        if (
            isinstance(opts, dict)
            and opts.get("o") == "bind"
            and isinstance(opts.get("device"), str)
        ):
            opts["device"] = abs_path(base, opts["device"], home)


def resolve_tree_paths(tree: dict[str, Any], base: str, home: str) -> None:
    services = tree.get("services")
    for svc in services.values() if isinstance(services, dict) else []:
        if isinstance(svc, dict):
            resolve_service_paths(svc, base, home)
    resolve_resource_paths(tree, base, home)
