"""The build cache: content-addressed keys -> finished layers in the image store.

A key is the sha256 of a canonical JSON document: the parent's key (the rootfs the step runs
on: a base image's config digest, ``scratch`` or the previous step's key), the step's kind and
definition, and the digests of its inputs (file contents of COPY sources and bind mounts, never
mtimes; secret and cache-mount contents never). Keys depend on nothing local (no project name,
no path), so clones and stacks share every layer. ``COPY --link`` layers are keyed without the
parent (the layer does not depend on it); the step after them still chains on both.

Records live in ``<store>/buildcache/keys/<key>.json`` (``diff_id``, ``size``, ``created``);
a record whose layer is gone is a miss. ``<store>/buildcache/hash/`` holds the per-context file
hash caches, ``<store>/buildcache/mounts/`` the ``RUN --mount=type=cache`` directories,
``<store>/buildcache/git/`` the checkouts of git sources by commit (``compose.build.gitfetch``).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any

from msgspec import Struct
from msgspec.structs import asdict

from compose.images.store import ImageStore

KEY_VERSION = "pycompose.build.v1"


def key_of(*parts: Any) -> str:
    doc = json.dumps([KEY_VERSION, *parts], sort_keys=True, separators=(",", ":"), default=_plain)
    return hashlib.sha256(doc.encode("utf-8", "surrogateescape")).hexdigest()


def _plain(value: Any) -> Any:
    if isinstance(value, Struct):  # the plan's records (compose.build.plan)
        return asdict(value)
    if isinstance(value, frozenset | set):
        return sorted(value)
    raise TypeError(f"not part of a cache key: {type(value).__name__}")


class Record(Struct, frozen=True):
    diff_id: str
    size: int
    created: str


class BuildCache:
    def __init__(self, store: ImageStore) -> None:
        self.store = store
        self.root = store.root / "buildcache"
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def _path(self, key: str) -> Path:
        return self.root / "keys" / f"{key}.json"

    def get(self, key: str) -> Record | None:
        try:
            doc = json.loads(self._path(key).read_text())
            record = Record(doc["diff_id"], int(doc["size"]), doc["created"])
        except (OSError, ValueError, KeyError):
            return None
        if not self.store.layer_path(record.diff_id).is_dir():
            return None
        return record

    def put(self, key: str, record: Record) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}")
        tmp.write_text(json.dumps(asdict(record)))
        os.replace(tmp, path)

    def lock(self, key: str) -> threading.Lock:
        """One builder per key at a time in this process: two services sharing a step build
        it once, the second finds the record the first wrote (held from the lookup that missed
        to the record's write)."""
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def hash_file(self, context: Path) -> Path:
        name = hashlib.sha256(str(context).encode("utf-8", "surrogateescape")).hexdigest()[:32]
        return self.root / "hash" / f"{name}.json"

    def mount_dir(self, ident: str) -> Path:
        return self.root / "mounts" / hashlib.sha256(ident.encode()).hexdigest()[:32]

    @property
    def git_dir(self) -> Path:
        return self.root / "git"

    # -- earlier runs of a COPY (hard-link reuse) -------------------------------------------
    def _copies(self, identity: str) -> Path:
        return self.root / "copies" / f"{identity}.json"

    def last_copy(self, identity: str) -> tuple[Path | None, dict[str, list[Any]]]:
        """(layer dir, files) of the last run of a COPY with this identity (parent +
        definition, any inputs); (None, {}) when there is none or its layer is gone."""
        try:
            doc = json.loads(self._copies(identity).read_text())
        except (OSError, ValueError):
            return None, {}
        layer = self.store.layer_path(doc.get("diff_id", "sha256:" + "0" * 64))
        if not layer.is_dir():
            return None, {}
        return layer, dict(doc.get("files") or {})

    def save_copy(self, identity: str, diff_id: str, files: dict[str, list[Any]]) -> None:
        path = self._copies(identity)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}")
        tmp.write_text(json.dumps({"diff_id": diff_id, "files": files}, separators=(",", ":")))
        os.replace(tmp, path)
