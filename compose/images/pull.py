"""Pull an image from its registry into the store: manifest (or index -> platform manifest),
config, then layers downloaded concurrently and unpacked once each.

Steps: resolve manifest -> fetch config -> fetch + unpack layers -> tag. Each blob is verified
against its digest and each unpacked layer against its diff id before it becomes visible.
"""

from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from compose.errors import ImageError
from compose.images import reference
from compose.images.client import RegistryClient
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
        blob = self.store.blob_path(digest)
        if not blob.is_file():
            self.progress.layer_start(digest, int(desc.get("size", 0)))
            partial = self.store.tmp / f"download-{digest.split(':')[1]}"
            self.client.download_blob(
                self.ref.path,
                digest,
                partial,
                self.shown,
                lambda n: self.progress.layer_advance(digest, n),
            )
            self.store.commit_blob(partial, digest)
        self.progress.layer_done(digest, "extracting")
        unpack_layer(blob, self.store.layer_path(diff_id), self.store.tmp, diff_id)
        self.progress.layer_done(digest, "pull complete")


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
    with RegistryClient(parsed.domain, settings=settings) as client:
        job = _Pull(parsed, shown, store, client, platform, progress)
        progress.image_start(shown)
        digest, manifest = job.manifest()
        job.layers(manifest, job.config(manifest))
    store.tag(str(parsed), digest)
    store.record_pull(str(parsed))
    progress.image_done(shown, digest)
    return store.image_from_manifest(str(parsed), digest)
