"""Pull an image from its registry into the store: manifest (or index -> platform manifest),
config, then layers downloaded concurrently and unpacked once each.

Steps: resolve manifest -> fetch config -> fetch + unpack layers -> tag. Each blob is verified
against its digest and each unpacked layer against its diff id before it becomes visible.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compose.errors import ImageError
from compose.images import reference
from compose.images.client import RegistryClient, verify_file
from compose.images.model import INDEX_TYPES, Image
from compose.images.platform import select_manifest
from compose.images.progress import NullProgress, PullProgress
from compose.images.settings import RegistrySettings
from compose.images.store import ImageStore
from compose.images.unpack import unpack_layer

log = logging.getLogger(__name__)
MAX_CONCURRENT_LAYERS = 3


@dataclass
class _Pull:
    ref: reference.Reference
    shown: str
    store: ImageStore
    client: RegistryClient
    platform: str | None
    progress: PullProgress

    def manifest(self) -> tuple[str, dict[str, Any]]:
        body, media, digest = self.client.get_manifest(
            self.ref.path, self.ref.reference, self.shown
        )
        doc = json.loads(body)
        if media in INDEX_TYPES or doc.get("mediaType") in INDEX_TYPES or "manifests" in doc:
            self.store.put_blob(body, digest)
            chosen = select_manifest(doc, self.platform, self.shown)
            body, media, digest = self.client.get_manifest(self.ref.path, chosen.digest, self.shown)
            doc = json.loads(body)
        if "config" not in doc or "layers" not in doc:
            raise ImageError(
                f"{self.shown}: unsupported manifest type {media or doc.get('mediaType')!r}"
            )
        self.store.put_blob(body, digest)
        return digest, doc

    def config(self, manifest: dict[str, Any]) -> dict[str, Any]:
        digest = manifest["config"]["digest"]
        if not self.store.has_blob(digest):
            self.store.put_blob(
                self.client.get_blob_bytes(self.ref.path, digest, self.shown), digest
            )
        return self.store.read_json(digest)

    def layers(self, manifest: dict[str, Any], config: dict[str, Any]) -> None:
        diff_ids = config.get("rootfs", {}).get("diff_ids", [])
        descs = manifest["layers"]
        if len(diff_ids) != len(descs):
            raise ImageError(
                f"{self.shown}: config lists {len(diff_ids)} layers, manifest {len(descs)}"
            )
        jobs = [
            (d, diff)
            for d, diff in zip(descs, diff_ids, strict=True)
            if not self.store.layer_path(diff).is_dir()
        ]
        for desc, diff in zip(descs, diff_ids, strict=True):
            if (desc, diff) not in jobs:
                self.progress.layer_done(desc["digest"], "already exists")
        with ThreadPoolExecutor(MAX_CONCURRENT_LAYERS) as pool:
            for future in [pool.submit(self.layer, d, diff) for d, diff in jobs]:
                future.result()

    def layer(self, desc: dict[str, Any], diff_id: str) -> None:
        digest = desc["digest"]
        if desc.get("urls"):
            raise ImageError(f"{self.shown}: foreign layer {digest[:19]} is not supported")
        with _key_lock(digest):
            if not self.store.has_blob(digest):
                self.progress.layer_start(digest, int(desc.get("size", 0)))
                self.fetch_blob(digest)
        self.progress.layer_done(digest, "extracting")
        with _key_lock(diff_id):
            blob = self.store.blob_path(digest)
            unpack_layer(blob, self.store.layer_path(diff_id), self.store.tmp, diff_id)
        self.progress.layer_done(digest, "pull complete")

    def fetch_blob(self, digest: str) -> None:
        """Download under an flock on the partial file; another process may finish it first."""
        partial = self.store.tmp / f"download-{digest.split(':')[1]}"
        while not self.store.has_blob(digest):
            with open(partial, "ab") as fh:
                fcntl.flock(fh, fcntl.LOCK_EX)
                if self.store.has_blob(digest) or not _same_file(fh, partial):
                    continue  # finished or replaced meanwhile: look again
                self.client.download_blob(
                    self.ref.path,
                    digest,
                    fh,
                    self.shown,
                    lambda n: self.progress.layer_advance(digest, n),
                )
                fh.flush()
                verify_file(partial, digest, self.shown)
                self.store.commit_blob(partial, digest)


_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def _key_lock(key: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


def _same_file(fh: Any, path: Path) -> bool:
    try:
        return os.fstat(fh.fileno()).st_ino == os.stat(path).st_ino
    except FileNotFoundError:
        return False


def pull(
    ref: str,
    *,
    store: ImageStore | None = None,
    platform: str | None = None,
    progress: PullProgress | None = None,
    settings: RegistrySettings | None = None,
) -> Image:
    """Pull ``ref`` (Docker reference syntax) and return the local image."""
    store = store or ImageStore()
    parsed = reference.parse(ref)
    shown = parsed.familiar()
    progress = progress or NullProgress()
    with store.using(), RegistryClient(parsed.domain, settings=settings) as client:
        job = _Pull(parsed, shown, store, client, platform, progress)
        progress.image_start(shown)
        digest, manifest = job.manifest()
        job.layers(manifest, job.config(manifest))
        store.tag(str(parsed), digest)
        store.record_pull(str(parsed))
    progress.image_done(shown, digest)
    return store.image_from_manifest(str(parsed), digest)
