"""Offline loads: ``docker save`` tars (classic and OCI-flavoured) and OCI image layouts
(directories or tars). Every blob is verified against its digest on the way in."""

from __future__ import annotations

import json
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from compose.errors import ImageError
from compose.images import reference
from compose.images.model import (
    INDEX_TYPES,
    OCI_CONFIG,
    OCI_LAYER,
    OCI_LAYER_GZIP,
    OCI_LAYER_ZSTD,
    OCI_MANIFEST,
    Image,
)
from compose.images.platform import select_manifest
from compose.images.store import ImageStore
from compose.images.unpack import unpack_layer

NAME_ANNOTATIONS = ("io.containerd.image.name", "org.opencontainers.image.ref.name")


def load(
    path: Path, *, store: ImageStore | None = None, platform: str | None = None
) -> list[Image]:
    store = store or ImageStore()
    with store.using():
        return _load(Path(path), store, platform)


def _load(path: Path, store: ImageStore, platform: str | None) -> list[Image]:
    if path.is_dir():
        return _load_layout(path, store, platform)
    try:
        with tempfile.TemporaryDirectory(prefix="load-", dir=store.tmp) as tmp:
            with tarfile.open(path) as tar:
                tar.extractall(tmp, filter="data")
            return _load_dir(Path(tmp), store, platform, path)
    except tarfile.ReadError as exc:
        raise ImageError(f"{path}: not a tar archive (empty or corrupt)") from exc
    except (tarfile.TarError, OSError) as exc:
        raise ImageError(f"{path}: cannot read image archive: {exc}") from exc


def _load_dir(root: Path, store: ImageStore, platform: str | None, origin: Path) -> list[Image]:
    if (root / "index.json").is_file():
        return _load_layout(root, store, platform)
    if (root / "manifest.json").is_file():
        return _load_docker_save(root, store)
    raise ImageError(
        f"{origin}: neither an OCI layout (index.json) nor a docker save archive (manifest.json)"
    )


def _copy_blob(layout: Path, store: ImageStore, digest: str) -> None:
    if store.has_blob(digest):
        return
    source = layout / "blobs" / digest.replace(":", "/", 1)
    try:
        with open(source, "rb") as fh:
            store.ingest(fh, digest)
    except FileNotFoundError:
        raise ImageError(f"{layout}: blob {digest} is missing") from None


def _load_layout(layout: Path, store: ImageStore, platform: str | None) -> list[Image]:
    index = json.loads((layout / "index.json").read_text())
    images = []
    for desc in index.get("manifests", []):
        name = _name_of(desc.get("annotations") or {})
        digest = _manifest_for(layout, store, desc, platform, name or desc["digest"])
        ref = str(reference.parse(name)) if name else f"<none>@{digest}"
        images.append(_finish(store, ref, digest, tag=name is not None))
    return images


def _name_of(annotations: dict[str, str]) -> str | None:
    for key in NAME_ANNOTATIONS:
        value = annotations.get(key, "")
        if value and (":" in value or "/" in value):
            return value
    return None


def _manifest_for(
    layout: Path, store: ImageStore, desc: dict[str, Any], platform: str | None, shown: str
) -> str:
    _copy_blob(layout, store, desc["digest"])
    doc = store.read_json(desc["digest"])
    if desc.get("mediaType") in INDEX_TYPES or "manifests" in doc:
        chosen = select_manifest(doc, platform, shown)
        return _manifest_for(layout, store, {"digest": chosen.digest}, platform, shown)
    for blob in [doc["config"], *doc["layers"]]:
        _copy_blob(layout, store, blob["digest"])
    return str(desc["digest"])


def _finish(store: ImageStore, ref: str, digest: str, *, tag: bool) -> Image:
    manifest = store.read_json(digest)
    config = store.read_json(manifest["config"]["digest"])
    diff_ids = config.get("rootfs", {}).get("diff_ids", [])
    if len(diff_ids) != len(manifest["layers"]):
        raise ImageError(
            f"{ref}: config lists {len(diff_ids)} layers, manifest {len(manifest['layers'])}"
        )
    for layer, diff_id in zip(manifest["layers"], diff_ids, strict=True):
        unpack_layer(
            store.blob_path(layer["digest"]), store.layer_path(diff_id), store.tmp, diff_id
        )
    if tag:
        store.tag(ref, digest)
    return store.image_from_manifest(ref, digest)


def _load_docker_save(root: Path, store: ImageStore) -> list[Image]:
    images = []
    for entry in json.loads((root / "manifest.json").read_text()):
        with open(_member(root, entry["Config"]), "rb") as fh:
            cfg_digest = store.ingest(fh)
        layers = [_ingest_layer(_member(root, name), store) for name in entry["Layers"]]
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": OCI_CONFIG,
                "digest": cfg_digest,
                "size": store.blob_path(cfg_digest).stat().st_size,
            },
            "layers": layers,
        }
        digest = store.put_blob(json.dumps(manifest, separators=(",", ":")).encode())
        tags = entry.get("RepoTags") or []
        for extra in tags[1:]:
            store.tag(extra, digest)
        ref = str(reference.parse(tags[0])) if tags else f"<none>@{digest}"
        images.append(_finish(store, ref, digest, tag=bool(tags)))
    return images


def _member(root: Path, name: str) -> Path:
    """A file the archive's manifest.json names: inside the archive, never a host path."""
    path = (root / name).resolve()
    if not path.is_relative_to(root.resolve()):
        raise ImageError(f"image archive: manifest.json names {name!r}, outside the archive")
    return path


def _ingest_layer(path: Path, store: ImageStore) -> dict[str, Any]:
    with open(path, "rb") as fh:
        head = fh.read(4)
        fh.seek(0)
        digest = store.ingest(fh)
    media = {b"\x1f\x8b": OCI_LAYER_GZIP}.get(head[:2], OCI_LAYER)
    if head == b"\x28\xb5\x2f\xfd":
        media = OCI_LAYER_ZSTD
    return {"mediaType": media, "digest": digest, "size": store.blob_path(digest).stat().st_size}
