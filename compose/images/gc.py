"""Garbage collection of the image store: keep what tags reach, delete the rest."""

from __future__ import annotations

import contextlib
import json
import shutil
from typing import TYPE_CHECKING, Any

from compose.errors import ImageError

if TYPE_CHECKING:
    from compose.images.store import ImageStore


def reachable(store: ImageStore, build_cache: bool = True) -> tuple[set[str], set[str]]:
    """(blob hexes, layer hexes) reachable from any tag or (``build_cache``) from a build
    cache record."""
    blobs: set[str] = set()
    layers: set[str] = _build_cache_layers(store) if build_cache else set()
    todo = list(store.tags().values())
    while todo:
        digest = todo.pop()
        hexd = digest.split(":", 1)[-1]
        if hexd in blobs:
            continue
        blobs.add(hexd)
        with contextlib.suppress(ImageError, ValueError):
            todo.extend(_children(store.read_json(digest), layers))
    return blobs, layers


def _build_cache_layers(store: ImageStore) -> set[str]:
    """Layers the build cache (``buildcache/keys/*.json``, written by ``compose.build``) keeps:
    a step's layer stays reusable after the image that used it is removed."""
    found: set[str] = set()
    keys = store.root / "buildcache" / "keys"
    for path in keys.glob("*.json") if keys.is_dir() else ():
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            found.add(json.loads(path.read_text())["diff_id"].split(":", 1)[-1])
    return found


def _children(doc: dict[str, Any], layers: set[str]) -> list[str]:
    if "manifests" in doc:
        return [m["digest"] for m in doc["manifests"]]
    if "config" in doc and "layers" in doc:
        return [doc["config"]["digest"], *[layer["digest"] for layer in doc["layers"]]]
    diff_ids = doc.get("rootfs", {}).get("diff_ids", [])
    layers.update(d.split(":", 1)[-1] for d in diff_ids)
    return []


def collect(store: ImageStore) -> list[str]:
    blobs, layers = reachable(store)
    removed = []
    blob_dir = store.root / "blobs" / "sha256"
    for path in sorted(blob_dir.iterdir()) if blob_dir.is_dir() else []:
        if path.name not in blobs:
            path.unlink(missing_ok=True)
            removed.append(f"blob sha256:{path.name}")
    layer_dir = store.root / "layers"
    for path in sorted(layer_dir.iterdir()) if layer_dir.is_dir() else []:
        if path.name not in layers:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(f"layer sha256:{path.name}")
    shutil.rmtree(store.root / "tmp", ignore_errors=True)
    return removed
