"""``pycompose builder prune``: remove the build cache no image needs, as ``docker builder prune``.

    prune_build_cache(store, everything=False) -> Pruned(objects, reclaimed)

Without ``everything`` (docker's default, "dangling" cache): the step records whose layer no
image uses, and those layers; the git checkouts; the ``RUN --mount=type=cache`` directories.
With it (``-a``): every step record (a layer an image uses stays: it is the image's), the
context hash caches and the COPY reuse records too. Both drop the remembered results of whole
builds (``compose.build.memo``: they would replay steps as CACHED that are gone) and the build
bridge when no build runs (``compose.build.buildnet``). The store's gc lock is held
exclusively: a running build holds it shared, so nothing it uses goes under it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from pathlib import Path

from msgspec import Struct, field

from compose.images.store import ImageStore


class Pruned(Struct):
    objects: list[str] = field(default_factory=list)  # what docker lists as cache objects
    reclaimed: int = 0  # bytes
    bridge: bool | None = False  # removed (None: a build uses it, kept)


def prune_build_cache(store: ImageStore, everything: bool = False) -> Pruned:
    from compose.build.buildnet import BuildNetwork
    from compose.build.cache import BuildCache

    cache = BuildCache(store)
    out = Pruned()
    if store.root.is_dir():
        with store.using(exclusive=True):
            used = _image_layers(store)
            _prune_records(cache.root / "keys", store, used, everything, out)
            _prune_copies(cache.root / "copies", store, everything, out)
            for name in ("git", "mounts"):
                _remove_children(cache.root / name, out, listed=True)
            for name in ("results", *(("hash",) if everything else ())):
                _remove_children(cache.root / name, out, listed=False)
    out.bridge = BuildNetwork().remove()
    return out


def _image_layers(store: ImageStore) -> set[str]:
    """Hexes of the layers a tagged image uses."""
    from compose.images.gc import reachable

    return reachable(store, build_cache=False)[1]


def _prune_records(
    keys: Path, store: ImageStore, used: set[str], everything: bool, out: Pruned
) -> None:
    for path in sorted(keys.glob("*.json")) if keys.is_dir() else ():
        layer = _layer_of(path)
        if layer in used and not everything:
            continue
        if layer and layer not in used:
            out.reclaimed += _remove(store.root / "layers" / layer)
        out.reclaimed += _remove(path)
        out.objects.append(path.stem[:25])


def _prune_copies(copies: Path, store: ImageStore, everything: bool, out: Pruned) -> None:
    """COPY reuse records (hard-link sources): those whose layer is gone, or all."""
    for path in copies.glob("*.json") if copies.is_dir() else ():
        layer = _layer_of(path)
        if everything or not layer or not (store.root / "layers" / layer).is_dir():
            out.reclaimed += _remove(path)


def _layer_of(record: Path) -> str:
    """The layer hex a step or COPY record names ("" when unreadable: it goes)."""
    try:
        return str(json.loads(record.read_text())["diff_id"].split(":", 1)[-1])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return ""


def _remove_children(directory: Path, out: Pruned, listed: bool) -> None:
    for path in sorted(directory.iterdir()) if directory.is_dir() else ():
        out.reclaimed += _remove(path)
        if listed and not path.name.endswith(".lock"):
            out.objects.append(path.name[:25])


def _remove(path: Path) -> int:
    """Delete a file or tree; its size in bytes (regular files' contents)."""
    size = 0
    try:
        if path.is_dir() and not path.is_symlink():
            for top, _dirs, files in os.walk(path):
                for name in files:
                    with contextlib.suppress(OSError):
                        size += os.lstat(os.path.join(top, name)).st_size
            shutil.rmtree(path, ignore_errors=True)
        else:
            size = path.lstat().st_size
            path.unlink()
    except OSError:
        pass
    return size
