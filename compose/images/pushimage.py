"""Push a local image to its registry: pulled layers as the blobs they came as, built layers
(stored uncompressed, as directories) tar-streamed again and gzipped now, on push only."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from compose.errors import ImageError
from compose.images import reference
from compose.images.model import OCI_CONFIG, OCI_LAYER, OCI_LAYER_GZIP, OCI_MANIFEST
from compose.images.store import ImageStore


def _known_blobs(store: ImageStore) -> dict[str, dict[str, Any]]:
    """diff id -> the compressed layer descriptor a pulled image has for it (blob present)."""
    found: dict[str, dict[str, Any]] = {}
    for _ref, image in store.images():
        manifest = store.read_json(image.digest)
        config = store.read_json(manifest["config"]["digest"])
        diff_ids = config.get("rootfs", {}).get("diff_ids", [])
        for diff_id, desc in zip(diff_ids, manifest.get("layers", []), strict=False):
            if desc.get("mediaType") != OCI_LAYER and store.has_blob(desc["digest"]):
                found.setdefault(diff_id, desc)
    return found


def _gzip_layer(store: ImageStore, diff_id: str, tmp: Path) -> tuple[Path, dict[str, Any]]:
    from compose.images.layertar import write_layer

    fd, name = tempfile.mkstemp(prefix="push-", dir=tmp)
    path = Path(name)
    sha = hashlib.sha256()
    raw = hashlib.sha256()

    class _Hashing:
        def write(self, data: bytes) -> int:
            sha.update(data)
            return os.write(fd, data)

        def flush(self) -> None:
            pass

    try:
        with gzip.GzipFile(fileobj=_Hashing(), mode="wb", mtime=0, compresslevel=6) as gz:

            def sink(chunk: bytes) -> None:
                raw.update(chunk)
                gz.write(chunk)

            write_layer(store.layer_path(diff_id), sink)
    finally:
        os.close(fd)
    if "sha256:" + raw.hexdigest() != diff_id:
        path.unlink(missing_ok=True)
        raise ImageError(f"layer {diff_id[:19]} changed on disk since it was built")
    desc = {
        "mediaType": OCI_LAYER_GZIP,
        "digest": "sha256:" + sha.hexdigest(),
        "size": path.stat().st_size,
    }
    return path, desc


def push_image(ref: str, store: ImageStore | None = None) -> str:
    """Push ``ref`` (a local image) to the registry its name says; returns the manifest digest."""
    from compose.images.client import RegistryClient

    store = store or ImageStore()
    image = store.resolve(ref)
    parsed = reference.parse(ref)
    manifest = store.read_json(image.digest)
    config_raw = store.read_blob(manifest["config"]["digest"])
    config = json.loads(config_raw)
    known = _known_blobs(store)
    layers = []
    with RegistryClient(parsed.domain) as client:
        for diff_id, desc in zip(config["rootfs"]["diff_ids"], manifest["layers"], strict=True):
            layers.append(_push_layer(client, parsed.path, store, diff_id, desc, known))
        cfg_digest = manifest["config"]["digest"]
        if not client.blob_exists(parsed.path, cfg_digest):
            client.upload_blob(parsed.path, cfg_digest, store.blob_path(cfg_digest))
        body = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": {"mediaType": OCI_CONFIG, "digest": cfg_digest, "size": len(config_raw)},
                "layers": layers,
            },
            separators=(",", ":"),
        ).encode()
        client.put_manifest(parsed.path, parsed.tag or "latest", body, OCI_MANIFEST)
    # kept, so that the pushed name by digest (``name@sha256:...``) resolves here without a pull
    return store.put_blob(body, expected="sha256:" + hashlib.sha256(body).hexdigest())


def _push_layer(
    client: Any,
    repo: str,
    store: ImageStore,
    diff_id: str,
    desc: dict[str, Any],
    known: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    if desc.get("mediaType") != OCI_LAYER and store.has_blob(desc["digest"]):
        source = desc
    else:
        source = known.get(diff_id) or {}
    if source:
        if not client.blob_exists(repo, source["digest"]):
            client.upload_blob(repo, source["digest"], store.blob_path(source["digest"]))
        return {k: source[k] for k in ("mediaType", "digest", "size")}
    path, made = _gzip_layer(store, diff_id, store.tmp)
    try:
        if not client.blob_exists(repo, made["digest"]):
            client.upload_blob(repo, made["digest"], path)
    finally:
        path.unlink(missing_ok=True)
    return made
