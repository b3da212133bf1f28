"""Merging canonical trees: ``-f a -f b``, ``extends`` and ``include`` (compose-go ``override``).

Like compose-go: mappings merge key by key, scalars are replaced, sequences append, a null
override keeps the base value; ``command``/``entrypoint``/``healthcheck.test`` are replaced,
``logging`` with another driver is replaced, IPAM pools merge by subnet. ``!override`` paths
are replaced wholesale, ``!merge`` sequences merge element by element, and ``!reset`` paths
are removed afterwards.
Then ``enforce_unicity`` (compose-go ``EnforceUnicity``) keeps one entry per key in the
sequences that are keyed (volumes by target, ports by ip:published:target/proto, ...): a later
entry replaces the earlier one in place.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

from compose.stackfile.types import KeyPath

Indexer = Callable[[Any], Any]
_REPLACED = frozenset({"command", "entrypoint"})
_UNIQUE_SCALARS = frozenset(
    {"cap_add", "cap_drop", "dns", "dns_opt", "dns_search", "expose", "links", "profiles",
     "tmpfs", "extra_hosts"}
)  # fmt: skip


def _item(v: Any) -> Any:
    if isinstance(v, str):
        return v.partition("=")[0]  # "KEY=value" entries are keyed by KEY
    return repr(v) if isinstance(v, dict | list) else str(v)


def _port_key(v: Any) -> Any:
    if not isinstance(v, dict):
        return _item(v)
    host = v.get("host_ip", "0.0.0.0")
    return f"{host}:{v.get('published')}:{v.get('target')}/{v.get('protocol', 'tcp')}"


def _target_key(v: Any) -> Any:
    return v.get("target", _item(v)) if isinstance(v, dict) else _item(v)


def _mount_key(prefix: str) -> Indexer:
    def key(v: Any) -> Any:
        if isinstance(v, dict):
            return v.get("target") or f"{prefix}/{v.get('source')}"
        return f"{prefix}/{v}"

    return key


def _env_file_key(v: Any) -> Any:
    return v.get("path") if isinstance(v, dict) else _item(v)


_SERVICE_INDEXERS: dict[str, Indexer] = {
    **dict.fromkeys(_UNIQUE_SCALARS, _item),
    "ports": _port_key,
    "volumes": _target_key,
    "devices": _target_key,
    "secrets": _mount_key("/run/secrets"),
    "configs": _mount_key(""),
    "env_file": _env_file_key,
}


def unique(items: list[Any], index: Indexer) -> list[Any]:
    """One entry per key; a later entry replaces the earlier one at its position."""
    out: dict[Any, Any] = {}
    for item in items:
        key = index(item)
        try:
            hash(key)
        except TypeError:
            key = repr(key)  # an invalid entry: keep it, validation reports it
        out[key] = item
    return list(out.values())


def enforce_unicity(tree: dict[str, Any]) -> None:
    services = tree.get("services")
    for svc in services.values() if isinstance(services, dict) else ():
        if isinstance(svc, dict):
            _service_unicity(svc)


def _service_unicity(svc: dict[str, Any]) -> None:
    for key, index in _SERVICE_INDEXERS.items():
        if isinstance(svc.get(key), list):
            svc[key] = unique(svc[key], index)
    build = svc.get("build")
    if isinstance(build, dict) and isinstance(build.get("tags"), list):
        build["tags"] = unique(build["tags"], _item)
    networks = svc.get("networks")
    for net in networks.values() if isinstance(networks, dict) else ():
        for key in ("aliases", "link_local_ips"):
            if isinstance(net, dict) and isinstance(net.get(key), list):
                net[key] = unique(net[key], _item)


def merge_values(
    base: Any,
    over: Any,
    path: KeyPath,
    overrides: frozenset[KeyPath] = frozenset(),
    positional: frozenset[KeyPath] = frozenset(),
) -> Any:
    """Merge ``over`` onto ``base`` (both canonical); returns a new value."""
    if path in overrides or _replaced(path):
        return copy.deepcopy(over)
    if over is None:
        return copy.deepcopy(base)  # compose-go: a null override keeps the base value
    if isinstance(base, dict) and isinstance(over, dict):
        return _merge_maps(base, over, path, overrides, positional)
    if isinstance(base, list) and isinstance(over, list):
        if path in positional:
            return _merge_positional(base, over, path, overrides, positional)
        return copy.deepcopy(base) + copy.deepcopy(over)
    return copy.deepcopy(over)


def _merge_positional(
    base: list[Any],
    over: list[Any],
    path: KeyPath,
    overrides: frozenset[KeyPath],
    positional: frozenset[KeyPath],
) -> list[Any]:
    """``!merge``: element by element; a null or empty override element keeps the base one."""
    out = []
    for i in range(max(len(base), len(over))):
        if i >= len(over) or (i < len(base) and over[i] in (None, {}, [])):
            out.append(copy.deepcopy(base[i]))
        elif i >= len(base):
            out.append(copy.deepcopy(over[i]))
        else:
            out.append(merge_values(base[i], over[i], (*path, i), overrides, positional))
    return out


def _replaced(path: KeyPath) -> bool:
    if len(path) < 3 or path[0] != "services":
        return False
    tail = path[2:]
    return (len(tail) == 1 and tail[0] in _REPLACED) or tail == ("healthcheck", "test")


def _merge_maps(
    base: dict[str, Any],
    over: dict[str, Any],
    path: KeyPath,
    overrides: frozenset[KeyPath],
    positional: frozenset[KeyPath],
) -> dict[str, Any]:
    if _other_logging_driver(base, over, path):
        return copy.deepcopy(over)
    out = copy.deepcopy(base)
    for key, value in over.items():
        sub = (*path, key)
        if key not in out:
            out[key] = copy.deepcopy(value)
        elif path[:1] == ("networks",) and sub[2:] == ("ipam", "config"):
            out[key] = _merge_ipam_config(out[key], value)
        else:
            out[key] = merge_values(out[key], value, sub, overrides, positional)
    return out


def _merge_ipam_config(base: Any, over: Any) -> Any:
    """IPAM pools are keyed by subnet: a pool for the same subnet is merged."""
    if not (isinstance(base, list) and isinstance(over, list)):
        return copy.deepcopy(over)
    pools: dict[Any, Any] = {}
    for pool in (*base, *over):
        key = str(pool.get("subnet")) if isinstance(pool, dict) else repr(pool)
        old = pools.get(key)
        both = isinstance(old, dict) and isinstance(pool, dict)
        pools[key] = {**old, **pool} if both and old is not None else pool
    return list(pools.values())


def _other_logging_driver(base: dict[str, Any], over: dict[str, Any], path: KeyPath) -> bool:
    if len(path) != 3 or path[0] != "services" or path[2] != "logging":
        return False
    return "driver" in base and "driver" in over and base["driver"] != over["driver"]


def delete_paths(tree: dict[str, Any], paths: Iterable[KeyPath]) -> None:
    """Remove each key path (the effect of ``!reset``); list-index paths are ignored."""
    for path in sorted(paths, key=len, reverse=True):
        node: Any = tree
        for part in path[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict) and path and path[-1] in node:
            del node[path[-1]]
