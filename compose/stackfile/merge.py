"""Merging canonical trees: ``-f a -f b``, ``extends`` and ``include`` (compose-go ``override``).

Mappings merge key by key, scalars are replaced, sequences append; some sequences are unique
by a key (volumes/secrets/configs by target, ports by ip/target/published/protocol, ...),
``command``/``entrypoint``/``healthcheck.test`` are replaced, ``x-*`` keys are replaced.
``!override`` paths are replaced wholesale and ``!reset`` paths are removed afterwards.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

from compose.stackfile.types import KeyPath

Indexer = Callable[[Any], Any]
_REPLACED = frozenset({"command", "entrypoint"})
_UNIQUE_SCALARS = frozenset(
    {
        "cap_add", "cap_drop", "dns", "dns_opt", "dns_search", "expose", "external_links",
        "group_add", "links", "profiles", "security_opt", "tmpfs", "label_file",
        "device_cgroup_rules", "extra_hosts",
    }
)  # fmt: skip


def _item(v: Any) -> Any:
    return repr(v) if isinstance(v, dict | list) else v


def _port_key(v: Any) -> Any:
    if isinstance(v, dict):
        return (
            v.get("host_ip"),
            v.get("target"),
            v.get("published"),
            v.get("protocol"),
            v.get("mode"),
        )
    return _item(v)


def _target_key(v: Any) -> Any:
    return v.get("target", _item(v)) if isinstance(v, dict) else _item(v)


def _mount_key(prefix: str) -> Indexer:
    def key(v: Any) -> Any:
        if isinstance(v, dict):
            return v.get("target") or f"{prefix}/{v.get('source')}"
        return _item(v)

    return key


def _env_file_key(v: Any) -> Any:
    return v.get("path") if isinstance(v, dict) else _item(v)


def _subnet_key(v: Any) -> Any:
    return v.get("subnet", _item(v)) if isinstance(v, dict) else _item(v)


def _service_indexer(key: str) -> Indexer | None:
    if key in _UNIQUE_SCALARS:
        return _item
    return {
        "ports": _port_key,
        "volumes": _target_key,
        "devices": _target_key,
        "secrets": _mount_key("/run/secrets"),
        "configs": _mount_key(""),
        "env_file": _env_file_key,
    }.get(key)


def _indexer(path: KeyPath) -> Indexer | None:
    """The unicity key for sequences at ``path`` (None: plain append)."""
    if len(path) == 3 and path[0] == "services":
        return _service_indexer(str(path[2]))
    if len(path) >= 4 and path[0] == "services":
        tail = path[2:]
        if tail[0] == "build" and tail[-1] in ("tags", "platforms", "extra_hosts", "cache_from"):
            return _item
        if tail[0] == "networks" and tail[-1] in ("aliases", "link_local_ips"):
            return _item
    if path[:1] == ("networks",) and path[-2:] == ("ipam", "config"):
        return _subnet_key
    return None


def merge_sequences(base: list, over: list, index: Indexer | None, path: KeyPath) -> list:
    if index is None:
        return base + over
    merged: dict[Any, Any] = {}
    for item in (*base, *over):
        key = index(item)
        try:
            hash(key)
        except TypeError:
            key = repr(key)  # an invalid entry: keep it, validation reports it
        old = merged.get(key)
        same_kind = isinstance(old, dict) and isinstance(item, dict)
        if same_kind and old.get("type") == item.get("type"):
            merged[key] = merge_values(old, item, path)
        else:
            merged[key] = item  # new, or e.g. a bind replacing a volume at the same target
    return list(merged.values())


def merge_values(base: Any, over: Any, path: KeyPath, overrides: frozenset = frozenset()) -> Any:
    """Merge ``over`` onto ``base`` (both canonical); returns a new value."""
    if path in overrides or _replaced(path):
        return copy.deepcopy(over)
    if isinstance(base, dict) and isinstance(over, dict):
        return _merge_maps(base, over, path, overrides)
    if isinstance(base, list) and isinstance(over, list):
        return merge_sequences(copy.deepcopy(base), copy.deepcopy(over), _indexer(path), path)
    return copy.deepcopy(over)


def _replaced(path: KeyPath) -> bool:
    if len(path) < 3 or path[0] != "services":
        return False
    tail = path[2:]
    return (len(tail) == 1 and tail[0] in _REPLACED) or tail == ("healthcheck", "test")


def _merge_maps(base: dict, over: dict, path: KeyPath, overrides: frozenset) -> dict:
    special = _map_special(base, over, path)
    if special is not None:
        return special
    out = copy.deepcopy(base)
    for key, value in over.items():
        sub = (*path, key)
        if key not in out or (isinstance(key, str) and key.startswith("x-")):
            out[key] = copy.deepcopy(value)
        elif value is None and _is_service_network(sub):
            continue  # `net:` (null) keeps the base network settings
        else:
            out[key] = merge_values(out[key], value, sub, overrides)
    return out


def _is_service_network(path: KeyPath) -> bool:
    return len(path) == 4 and path[0] == "services" and path[2] == "networks"


def _map_special(base: dict, over: dict, path: KeyPath) -> dict | None:
    if len(path) == 3 and path[0] == "services" and path[2] == "logging":
        if "driver" in base and "driver" in over and base["driver"] != over["driver"]:
            return copy.deepcopy(over)
    return None


def delete_paths(tree: dict, paths: Iterable[KeyPath]) -> None:
    """Remove each key path (the effect of ``!reset``); list-index paths are ignored."""
    for path in sorted(paths, key=len, reverse=True):
        node: Any = tree
        for part in path[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict) and path and path[-1] in node:
            del node[path[-1]]
